#!/usr/bin/python3
"""A model whose weights pass protobuf's 2 GiB limit.

    /usr/bin/python3 large_model.py ONNX_OPT WORK_DIR

The input keeps 2.25 GiB of weights in a sparse external data file (little real
disk). Without --external-data, onnx-opt must move the weights out by itself to
"<output>.data", replacing (never appending to) a stale file of that name, write
a small model file, and read its own output back. Writing such a model to stdout
is a usage error. Prints `N passed, N failed`.
"""
import os
import shutil
import subprocess
import sys

from onnx import TensorProto, helper

onnx_opt, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
PIECE = 256 << 20
N = 9  # 2.25 GiB
with open(os.path.join(work, "in.weights"), "wb") as f:
    f.truncate(N * PIECE)
inits, nodes, prev = [], [], "X"
for i in range(N):
    t = TensorProto()
    t.name, t.data_type = f"W{i}", TensorProto.FLOAT
    t.dims.append(PIECE // 4)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "in.weights"), ("offset", str(i * PIECE)), ("length", str(PIECE))):
        e = t.external_data.add()
        e.key, e.value = k, v
    inits.append(t)
    out = "Y" if i == N - 1 else f"T{i}"
    nodes.append(helper.make_node("Add", [prev, f"W{i}"], [out]))
    prev = out
g = helper.make_graph(nodes, "large", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [PIECE // 4])],
                      [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [PIECE // 4])], initializer=inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
src = os.path.join(work, "in.onnx")
with open(src, "wb") as f:
    f.write(m.SerializeToString())

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


outdir = os.path.join(work, "out")
os.makedirs(outdir)
stale = os.path.join(outdir, "out.onnx.data")
with open(stale, "wb") as f:
    f.write(b"stale" * 1000)
out = os.path.join(outdir, "out.onnx")
r = subprocess.run([onnx_opt, src, "-o", out], capture_output=True, text=True)
check("writes a >2 GiB model", r.returncode == 0, r.stderr)
if r.returncode == 0:
    check("model file is small", os.path.getsize(out) < (1 << 20), os.path.getsize(out))
    size = os.path.getsize(stale)
    check("weights moved to <output>.data, replacing the stale file",
          N * PIECE <= size < N * PIECE + N * 4096, size)
    r2 = subprocess.run([onnx_opt, out, "-o", os.path.join(outdir, "again.onnx")], capture_output=True, text=True)
    check("its own output reads back", r2.returncode == 0, r2.stderr)
r3 = subprocess.run([onnx_opt, src, "-o", "-", "--emit=onnx"], capture_output=True)
check("stdout is refused with a usage error", r3.returncode == 2, r3.returncode)
shutil.rmtree(work, ignore_errors=True)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
