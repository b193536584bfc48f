#!/usr/bin/python3
"""The TorchScript frontend on real models: libtorch's output against ONNX
Runtime's on what onnx-opt makes of the .pt file.

    /usr/bin/python3 torchscript_models.py ONNX_OPT WORK_DIR [--only NAME,...]

For each model (torchvision classifiers, random weights, fixed seeds, random
BatchNorm statistics): torch.jit.trace (and torch.jit.script where the model
scripts) and save; `onnx-opt m.pt --input-shape x=batch,3,224,224 -O2 -o
m.onnx`; then at batch 1 and 3, the module's own output (libtorch) on seeded
inputs against ONNX Runtime 1.30 on the ONNX output: numpy.allclose with atol
1e-4 and rtol 1e-3. Also the bad inputs: a truncated archive, a zip that is
not TorchScript, a missing --input-shape, an op with no lowering: exit 1,
no output file, a message naming the problem. Prints `N passed, N failed`.
"""
import argparse
import os
import subprocess
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torchvision
from onnx import numpy_helper
import warnings

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = ["resnet50", "mobilenet_v3_large", "efficientnet_b0", "densenet121",
          "convnext_tiny", "regnet_y_400mf", "squeezenet1_1", "shufflenet_v2_x1_0",
          "googlenet", "mnasnet1_0"]


def build(name):
    kw = dict(init_weights=True, aux_logits=False) if name == "googlenet" else {}
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)(weights=None, **kw).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.copy_(torch.rand(mod.running_mean.shape, generator=g) * 0.2 - 0.1)
                mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=g) * 0.5 + 0.75)
    return m


def write_pb(path, arr, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(arr, name).SerializeToString())


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def check_model(onnx_opt, work, name, kind):
    d = os.path.join(work, "%s.%s" % (name, kind))
    os.makedirs(d, exist_ok=True)
    model = build(name)
    example = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        ts = torch.jit.trace(model, example) if kind == "trace" else torch.jit.script(model)
    pt = os.path.join(d, "m.pt")
    ts.save(pt)
    out = os.path.join(d, "m.onnx")
    p = run([onnx_opt, pt, "--input-shape", "x=batch,3,224,224", "-O2", "-o", out])
    if p.returncode != 0:
        return ["onnx-opt: exit %d: %s" % (p.returncode, p.stderr.strip()[-300:])]
    loaded = torch.jit.load(pt).eval()
    problems = []
    for batch in (1, 3):
        rng = np.random.default_rng(batch)
        x = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
        with torch.no_grad():
            y = loaded(torch.from_numpy(x)).numpy()
        ins, ref = os.path.join(d, "in%d" % batch), os.path.join(d, "ref%d" % batch)
        os.makedirs(ins, exist_ok=True)
        os.makedirs(ref, exist_ok=True)
        write_pb(os.path.join(ins, "input_0.pb"), x, "x")
        write_pb(os.path.join(ref, "output_0.pb"), y, "y")
        p = run(["node", os.path.join(HERE, "ort_vs_reference.js"), out, ins, ref,
                 "--atol", "1e-4", "--rtol", "1e-3"])
        if p.returncode != 0:
            problems.append("batch %d: %s" % (batch, (p.stdout + p.stderr).strip()[-300:]))
    return problems


def expect_error(onnx_opt, work, what, args, needle):
    out = os.path.join(work, "bad.onnx")
    if os.path.exists(out):
        os.remove(out)
    p = run([onnx_opt] + args + ["-o", out])
    problems = []
    if p.returncode != 1:
        problems.append("%s: exit %d, want 1 (%s)" % (what, p.returncode, p.stderr.strip()[-200:]))
    if needle not in p.stderr:
        problems.append("%s: message lacks '%s': %s" % (what, needle, p.stderr.strip()[-200:]))
    if os.path.exists(out):
        problems.append("%s: wrote an output" % what)
    return problems


class Unlowerable(nn.Module):
    def forward(self, x):
        return torch.fft.fft(x).real


def bad_inputs(onnx_opt, work):
    src = os.path.join(work, "resnet50.trace", "m.pt")
    if not os.path.exists(src):
        torch.jit.trace(build("squeezenet1_1"), torch.randn(1, 3, 224, 224)).save(
            os.path.join(work, "small.pt"))
        src = os.path.join(work, "small.pt")
    data = open(src, "rb").read()
    trunc = os.path.join(work, "truncated.pt")
    open(trunc, "wb").write(data[: len(data) // 3])
    notts = os.path.join(work, "not-torchscript.pt")
    with zipfile.ZipFile(notts, "w") as z:
        z.writestr("hello.txt", "not a module")
    unl = os.path.join(work, "unlowerable.pt")
    torch.jit.trace(Unlowerable(), torch.randn(2, 8)).save(unl)
    shape = ["--input-shape", "x=1x3x224x224"]
    problems = []
    problems += expect_error(onnx_opt, work, "truncated archive", [trunc] + shape,
                             "not a TorchScript module")
    problems += expect_error(onnx_opt, work, "zip that is not TorchScript", [notts] + shape,
                             "not a TorchScript module")
    problems += expect_error(onnx_opt, work, "missing --input-shape", [src], "needs a shape")
    problems += expect_error(onnx_opt, work, "op with no lowering",
                             [unl, "--input-shape", "x=2x8"], "aten::fft_fft")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("work")
    ap.add_argument("--only")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    names = args.only.split(",") if args.only else MODELS
    passed = failed = 0
    for name in names:
        for kind in ("trace",):
            problems = check_model(args.onnx_opt, args.work, name, kind)
            if problems:
                failed += 1
                print("FAIL %s (%s):\n    %s" % (name, kind, "\n    ".join(problems)))
            else:
                passed += 1
                print("ok   %s (%s): ONNX Runtime matches libtorch at batch 1 and 3" % (name, kind))
            sys.stdout.flush()
    problems = bad_inputs(args.onnx_opt, args.work)
    if problems:
        failed += 1
        print("FAIL bad inputs:\n    " + "\n    ".join(problems))
    else:
        passed += 1
        print("ok   bad inputs: truncated, not TorchScript, no --input-shape, no lowering")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
