#!/usr/bin/python3
"""Bad-input suite: every item of the loader list in shared/TRAPS.md.

    /usr/bin/python3 run_badinput.py ONNX_OPT WORK_DIR

Each case builds a malformed model in its own directory, runs onnx-opt on it and
checks: the exit code (1 unless stated), a message matching a pattern, no output
file, no crash (no signal, no sanitizer report), and that nothing outside the
model directory was read (the outside files are tripwires that are never
mentioned as read). Prints `N passed, N failed`; exits 1 on any failure.
"""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                "corpus"))
import onnxopt_corpus as corpus  # noqa: E402

ONNX_OPT, WORK = sys.argv[1], sys.argv[2]
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def graph(nodes=None, inits=None, inputs=None, outputs=None, name="g", value_info=None):
    if nodes is None:
        nodes = [helper.make_node("Relu", ["X"], ["Y"])]
    if inputs is None:
        inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2])]
    if outputs is None:
        outputs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2])]
    return helper.make_graph(nodes, name, inputs, outputs, initializer=inits or [],
                             value_info=value_info or [])


def model(g=None, opset=17, ir=8, **kw):
    m = helper.make_model(g or graph(), opset_imports=[helper.make_opsetid("", opset)], **kw)
    m.ir_version = ir
    return m


def save(d, m, name="model.onnx"):
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(m if isinstance(m, bytes) else m.SerializeToString())
    return p


def ext_model(d, location, offset=None, length=None, extra=None, dims=(4,), checksum=None):
    t = TensorProto()
    t.name = "W"
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in [("location", location), ("offset", offset), ("length", length),
                 ("checksum", checksum)] + (extra or []):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    g = graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t],
              inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, list(dims))],
              outputs=[helper.make_tensor_value_info("Y", TensorProto.FLOAT, list(dims))])
    return save(d, model(g))


# 1. Truncated, garbage, empty, not ONNX.
@case
def truncated(d):
    b = model().SerializeToString()
    return save(d, b[: len(b) // 2]), r"corrupt protobuf|not a valid ONNX"

@case
def garbage(d):
    return save(d, bytes(range(256)) * 4), r"corrupt protobuf|not a valid ONNX"

@case
def empty_file(d):
    return save(d, b""), r"empty"

@case
def not_onnx_text(d):
    return save(d, b"this is a README, not a model\n" * 10), r"not a valid ONNX|corrupt"

@case
def missing_file(d):
    return os.path.join(d, "nope.onnx"), r"cannot open"

# 2. Over 2 GiB: a sparse file (no disk used).
@case
def over_2gib(d):
    p = os.path.join(d, "model.onnx")
    with open(p, "wb") as f:
        f.write(model().SerializeToString())
        f.truncate((2 << 30) + 10)
    return p, r"2 GiB limit.*external data"

# 3. Deep nesting.
@case
def deep_nesting(d):
    # Serialize by hand: protobuf's Python recursion limit would refuse.
    return save(d, build_deep(3000)), r"nested more than"

def build_deep(depth):
    # GraphProto{node{If, attribute{name:then_branch, type:GRAPH, g: ...}}}
    def varint(v):
        out = bytearray()
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
        return bytes(out)

    def field(num, payload):
        return varint((num << 3) | 2) + varint(len(payload)) + payload

    g = field(1, field(1, b"X") + field(2, b"Y") + field(4, b"Identity")) + field(12, field(1, b"Y"))
    for _ in range(depth):
        attr = field(1, b"then_branch") + varint((20 << 3) | 0) + varint(5) + field(6, g)
        node = field(1, b"C") + field(2, b"Y") + field(4, b"If") + field(5, attr)
        g = field(1, node) + field(12, field(1, b"Y"))
    opset = field(1, b"") + varint((2 << 3)) + varint(17)
    return varint(1 << 3) + varint(8) + field(8, opset) + field(7, g)

# 4. ir_version / opset_import.
@case
def ir_missing(d):
    m = model(); m.ClearField("ir_version")
    return save(d, m), r"ir_version is missing"

@case
def ir_zero(d):
    return save(d, model(ir=0)), r"ir_version is missing or 0"

@case
def ir_too_new(d):
    return save(d, model(ir=99)), r"ir_version 99 is newer"

@case
def opset_missing(d):
    m = model(); del m.opset_import[:]
    return save(d, m), r"opset_import is missing"

# 5. Domains and ops.
@case
def domain_without_import(d):
    g = graph(nodes=[helper.make_node("Foo", ["X"], ["Y"], domain="com.acme")])
    return save(d, model(g)), r"domain 'com.acme' has no opset_import"

@case
def unknown_default_op(d):
    g = graph(nodes=[helper.make_node("NoSuchOp", ["X"], ["Y"])])
    return save(d, model(g)), r"'NoSuchOp' is not defined"

# 6. Undefined names.
@case
def undefined_input(d):
    g = graph(nodes=[helper.make_node("Relu", ["nothing"], ["Y"])])
    return save(d, model(g)), r"input 'nothing' is not defined"

@case
def undefined_output(d):
    g = graph(outputs=[helper.make_tensor_value_info("Z", TensorProto.FLOAT, [2])])
    return save(d, model(g)), r"output 'Z' is not defined"

# 7. Cycle (out-of-order acyclic graphs are sorted; see the round-trip tests).
@case
def cycle(d):
    g = graph(nodes=[helper.make_node("Relu", ["B"], ["A"]), helper.make_node("Relu", ["A"], ["B"]),
                     helper.make_node("Relu", ["X"], ["Y"])])
    return save(d, model(g)), r"cycle"

# 8. Defined twice, duplicate inputs, duplicate metadata.
@case
def defined_twice(d):
    g = graph(nodes=[helper.make_node("Relu", ["X"], ["Y"]), helper.make_node("Relu", ["X"], ["Y"])])
    return save(d, model(g)), r"'Y' is defined more than once"

@case
def duplicate_inputs(d):
    vi = helper.make_tensor_value_info("X", TensorProto.FLOAT, [2])
    return save(d, model(graph(inputs=[vi, vi]))), r"listed more than once"

@case
def duplicate_metadata(d):
    m = model()
    for _ in range(2):
        p = m.metadata_props.add(); p.key, p.value = "k", "v"
    return save(d, m), r"metadata key 'k' appears more than once"

# 9. A subgraph output redefining its own name twice (shadowing outer names is
#    allowed by the documented rule; redefinition inside one graph is not).
@case
def subgraph_redefinition(d):
    body = graph(nodes=[helper.make_node("Identity", ["X"], ["T"]), helper.make_node("Identity", ["X"], ["T"])],
                 inputs=[], outputs=[helper.make_tensor_value_info("T", TensorProto.FLOAT, [2])])
    g = graph(nodes=[helper.make_node("If", ["C"], ["Y"], then_branch=body, else_branch=body)],
              inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [2]),
                      helper.make_tensor_value_info("C", TensorProto.BOOL, [])])
    return save(d, model(g)), r"'T' is defined more than once"

# 10. data_type undefined / unknown; more than one data field.
@case
def dtype_undefined(d):
    t = numpy_helper.from_array(np.ones(2, np.float32), "W"); t.data_type = 0
    return save(d, model(graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t]))), r"UNDEFINED"

@case
def dtype_unknown(d):
    t = numpy_helper.from_array(np.ones(2, np.float32), "W"); t.data_type = 99
    return save(d, model(graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t]))), r"unknown data_type 99"

@case
def two_data_fields(d):
    t = numpy_helper.from_array(np.ones(2, np.float32), "W"); t.float_data.extend([1.0, 2.0])
    return save(d, model(graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t]))), r"more than one data field"

# 11. raw_data length mismatch (small and large, the large one is mapped).
@case
def raw_length_small(d):
    t = numpy_helper.from_array(np.ones(2, np.float32), "W"); t.raw_data = b"\0" * 7
    return save(d, model(graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t]))), r"raw_data has 7 bytes"

@case
def raw_length_large(d):
    t = numpy_helper.from_array(np.ones(2, np.float32), "W"); t.raw_data = b"\0" * 4000
    return save(d, model(graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t]))), r"raw_data has 4000 bytes"

# 12. Negative dims, overflowing products.
@case
def negative_dim(d):
    t = numpy_helper.from_array(np.ones(2, np.float32), "W"); t.dims[0] = -2
    return save(d, model(graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t]))), r"negative dimension"

@case
def overflow_dims(d):
    t = TensorProto(); t.name = "W"; t.data_type = TensorProto.FLOAT
    t.dims.extend([1 << 40, 1 << 40])
    return save(d, model(graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t]))), r"overflows"

@case
def overflow_bytes(d):
    t = TensorProto(); t.name = "W"; t.data_type = TensorProto.DOUBLE
    t.dims.extend([1 << 31, 1 << 31])
    return save(d, model(graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t]))), r"overflows"

@case
def negative_type_dim(d):
    g = graph(inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [-3])])
    return save(d, model(g)), r"negative dimension"

# 13. External data escapes.
def tripwire():
    p = os.path.join(WORK, "outside.bin")
    with open(p, "wb") as f:
        f.write(b"\0" * 16)
    return p

@case
def ext_absolute(d):
    return ext_model(d, tripwire()), r"absolute paths are not allowed"

@case
def ext_dotdot(d):
    tripwire()
    return ext_model(d, "../outside.bin"), r"inside the model directory"

@case
def ext_dotdot_nested(d):
    tripwire(); os.makedirs(os.path.join(d, "a"))
    return ext_model(d, "a/../../outside.bin"), r"inside the model directory"

@case
def ext_symlink_file(d):
    os.symlink(tripwire(), os.path.join(d, "w.bin"))
    return ext_model(d, "w.bin"), r"symlink"

@case
def ext_symlink_parent(d):
    os.symlink(WORK, os.path.join(d, "up"))
    tripwire()
    return ext_model(d, "up/outside.bin"), r"symlink"

@case
def ext_hardlink(d):
    src = tripwire() + ".hl"
    with open(src, "wb") as f:
        f.write(b"\0" * 16)
    os.link(src, os.path.join(d, "w.bin"))
    return ext_model(d, "w.bin"), r"2 hard links"

# 14. External data: missing, bad numbers, out of range, length, checksum, keys.
def data_file(d, n=16):
    with open(os.path.join(d, "w.bin"), "wb") as f:
        f.write(np.arange(n // 4, dtype=np.float32).tobytes())

@case
def ext_missing(d):
    return ext_model(d, "w.bin"), r"does not exist"

@case
def ext_negative_offset(d):
    data_file(d)
    return ext_model(d, "w.bin", offset=-4), r"offset '-4' is not a non-negative integer"

@case
def ext_nonnumeric(d):
    data_file(d)
    return ext_model(d, "w.bin", length="lots"), r"length 'lots' is not a non-negative integer"

@case
def ext_past_end(d):
    data_file(d)
    return ext_model(d, "w.bin", offset=8, length=16), r"runs past the end"

@case
def ext_petabyte(d):
    data_file(d)
    return ext_model(d, "w.bin", length=1 << 50), r"runs past the end"

@case
def ext_length_mismatch(d):
    data_file(d, 32)
    return ext_model(d, "w.bin", length=32), r"does not match the tensor's size"

@case
def ext_checksum(d):
    data_file(d)
    return ext_model(d, "w.bin", checksum="0" * 40), r"checksum does not match"

@case
def ext_unknown_key(d):
    data_file(d)
    return ext_model(d, "w.bin", extra=[("colour", "red")]), r"unknown external data key 'colour'"

# 15. External data from Constant nodes and sparse tensors: same validation.
@case
def ext_in_constant_node(d):
    t = TensorProto(); t.name = "c"; t.data_type = TensorProto.FLOAT; t.dims.append(4)
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add(); e.key, e.value = "location", "../outside.bin"
    tripwire()
    g = graph(nodes=[helper.make_node("Constant", [], ["C"], value=t), helper.make_node("Add", ["X", "C"], ["Y"])],
              inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [4])])
    return save(d, model(g)), r"inside the model directory"

@case
def ext_in_sparse(d):
    v = TensorProto(); v.name = "S"; v.data_type = TensorProto.FLOAT; v.dims.append(2)
    v.data_location = TensorProto.EXTERNAL
    e = v.external_data.add(); e.key, e.value = "location", "/etc/passwd"
    idx = numpy_helper.from_array(np.array([0, 1], np.int64), "i")
    sp = helper.make_sparse_tensor(v, idx, [4])
    g = graph(nodes=[helper.make_node("Relu", ["X"], ["Y"])])
    g.sparse_initializer.append(sp)
    return save(d, model(g)), r"absolute paths are not allowed"

# 16. Attribute type disagreement and out-of-range values.
@case
def attr_type_mismatch(d):
    n = helper.make_node("Relu", ["X"], ["Y"])
    a = n.attribute.add(); a.name = "alpha"; a.type = onnx.AttributeProto.INT; a.f = 1.0
    return save(d, model(graph(nodes=[n]))), r"declared type int but sets a float"

@case
def gemm_trans_b(d):
    n = helper.make_node("Gemm", ["X", "X"], ["Y"], transB=823)
    g = graph(nodes=[n], inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, 2])],
              outputs=[helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 2])])
    return save(d, model(g)), r"'transB' must be 0 or 1, not 823"

@case
def conv_kernel_rank(d):
    n = helper.make_node("Conv", ["X", "W"], ["Y"], kernel_shape=[3, 3, 3])
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "W")
    g = graph(nodes=[n], inits=[w], inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1, 5, 5])],
              outputs=[helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    return save(d, model(g)), r"kernel has 3 spatial dims but the input has 2"

@case
def conv_pads_length(d):
    n = helper.make_node("Conv", ["X", "W"], ["Y"], pads=[1, 1, 1])
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "W")
    g = graph(nodes=[n], inits=[w], inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1, 5, 5])],
              outputs=[helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    return save(d, model(g)), r"'pads' has 3 values, expected 4"

@case
def axis_out_of_range(d):
    n = helper.make_node("Softmax", ["X"], ["Y"], axis=-5)
    return save(d, model(graph(nodes=[n]))), r"axis -5 is out of range for rank 1"

# 17. Expensive declared sizes.
@case
def huge_rank(d):
    g = graph(inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [1] * 5000)])
    return save(d, model(g)), r"rank 5000 exceeds"

@case
def huge_initializer_claim(d):
    # Claims 4 EiB of elements with no data: rejected before any allocation.
    t = TensorProto(); t.name = "W"; t.data_type = TensorProto.UINT8; t.dims.extend([1 << 62])
    return save(d, model(graph(nodes=[helper.make_node("Add", ["X", "W"], ["Y"])], inits=[t]))), r"no data"


# Models that crashed onnx-opt once (issue 16): Shape of a value that has no
# type yet, inside nested If, Loop and Scan bodies (ONNX 1.12's Shape-15 data
# propagation dereferenced the missing type). Each must optimize at -O1 and
# -O2 and verify; a crash would be a signal, not exit 0.
def untyped(name):
    return onnx.ValueInfoProto(name=name)


def nested_shape_model(kind, opset):
    X = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 4])
    a = helper.make_graph([helper.make_node("Relu", ["X"], ["r1"])], "a", [], [untyped("r1")])
    b = helper.make_graph([helper.make_node("Neg", ["X"], ["r2"])], "b", [], [untyped("r2")])
    c1 = helper.make_graph([helper.make_node("Shape", ["t"], ["s1"])], "c1", [], [untyped("s1")])
    c2 = helper.make_graph([helper.make_node("Shape", ["t"], ["s2"])], "c2", [], [untyped("s2")])
    inner_nodes = [helper.make_node("If", ["d"], ["t"], then_branch=a, else_branch=b),
                   helper.make_node("If", ["e"], ["u"], then_branch=c1, else_branch=c2)]
    if kind == "if":
        inner_nodes.append(helper.make_node("Identity", ["u"], ["o"]))
        inner = helper.make_graph(inner_nodes, "outer_t", [], [untyped("o")])
        oe = helper.make_graph([helper.make_node("Shape", ["X"], ["p"])], "outer_e", [],
                               [untyped("p")])
        nodes = [helper.make_node("If", ["c"], ["Y"], then_branch=inner, else_branch=oe)]
    elif kind == "loop":
        # The body carries the shape through; its inputs are untyped too.
        inner_nodes.append(helper.make_node("Identity", ["cin"], ["cout"]))
        inner_nodes.append(helper.make_node("Add", ["acc", "u"], ["o"]))
        body = helper.make_graph(inner_nodes, "body",
                                 [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                                  untyped("cin"), untyped("acc")],
                                 [untyped("cout"), untyped("o")])
        nodes = [helper.make_node("Constant", [], ["M"], value=helper.make_tensor(
                     "M", TensorProto.INT64, [], [2])),
                 helper.make_node("Constant", [], ["z"], value=helper.make_tensor(
                     "z", TensorProto.INT64, [2], [0, 0])),
                 helper.make_node("Loop", ["M", "c", "z"], ["Y"], body=body)]
    else:  # scan: the state is the shape, the scanned input a row of X
        inner_nodes.append(helper.make_node("Add", ["st", "u"], ["o"]))
        inner_nodes.append(helper.make_node("Identity", ["row"], ["rowout"]))
        body = helper.make_graph(inner_nodes, "body", [untyped("st"), untyped("row")],
                                 [untyped("o"), untyped("rowout")])
        nodes = [helper.make_node("Constant", [], ["z"], value=helper.make_tensor(
                     "z", TensorProto.INT64, [2], [0, 0])),
                 helper.make_node("Scan", ["z", "X"], ["Y", "rows"], body=body,
                                  num_scan_inputs=1)]
    g = helper.make_graph(nodes, "nested_" + kind,
                          [X] + [helper.make_tensor_value_info(n, TensorProto.BOOL, [])
                                 for n in "cde"],
                          [helper.make_tensor_value_info("Y", TensorProto.INT64, None)])
    return model(g, opset=opset)


for _kind in ("if", "loop", "scan"):
    for _level in ("-O1", "-O2"):
        def _case(d, kind=_kind, level=_level):
            return (save(d, nested_shape_model(kind, 16)), r"verify: 3 samples",
                    {"args": [level, "--verify", "--verify-shape", "N=2"], "exit": 0,
                     "output": True})
        _case.__name__ = f"untyped_shape_in_{_kind}{_level.replace('-', '_')}"
        CASES.append(_case)


def main():
    report = corpus.Report()
    for fn in CASES:
        d = os.path.join(WORK, fn.__name__)
        os.makedirs(d)
        try:
            path, pattern, *rest = fn(d)
        except Exception as e:  # a broken case is a failure of the suite, not a pass
            report.problems(fn.__name__, [f"could not build the case: {e}"])
            continue
        opts = rest[0] if rest else {}
        want = opts.get("exit", 1)
        out = os.path.join(d, "out.onnx")
        r = subprocess.run([ONNX_OPT, path, "-o", out] + opts.get("args", []),
                           capture_output=True, text=True, timeout=120)
        problems = []
        if r.returncode != want:
            problems.append(f"exit {r.returncode}, expected {want}")
        if not re.search(pattern, r.stderr):
            problems.append(f"message does not match /{pattern}/")
        if "Sanitizer" in r.stderr or "runtime error" in r.stderr:
            problems.append("sanitizer report")
        leftovers = [f for f in os.listdir(d) if f.startswith("out.onnx")]
        if opts.get("output"):
            if leftovers != ["out.onnx"]:
                problems.append(f"expected exactly out.onnx, found {leftovers}")
        elif leftovers:
            problems.append(f"output left behind: {leftovers}")
        if problems:
            problems.append(f"stderr: {r.stderr.strip()[:300]}")
        first = (r.stderr.strip().splitlines() or [""])[0]
        report.problems(fn.__name__, problems, first[:150])
    sys.exit(report.finish())


main()
