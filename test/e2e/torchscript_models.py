#!/usr/bin/python3
"""The TorchScript frontend on real models: libtorch's output against ONNX
Runtime's on what onnx-opt makes of the .pt file.

    /usr/bin/python3 torchscript_models.py ONNX_OPT WORK_DIR [--only NAME,...]

For each model (the corpus' torchvision classifiers, transformer encoders
(batch_first, pre-norm with a padding mask, sequence-first), GPT-style decoder,
LSTM and GRU: perf/make_corpus.py's definitions, random weights, fixed seeds,
random BatchNorm statistics): torch.jit.trace and torch.jit.script, save;
`onnx-opt m.pt --input-shape x=batch,3,224,224 -O2 -o m.onnx` (sequence models:
batch,seq); then at two sizes (batch 1 and 3; sequence models also sequence
length 7 and 12) the module's own output (libtorch) on seeded inputs against
ONNX Runtime 1.30 on the ONNX output: numpy.allclose with atol 1e-4 and rtol
1e-3. Also the bad inputs: a truncated archive, a zip that is
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

sys.path.insert(0, os.path.join(HERE, "..", "..", "perf"))
import make_corpus  # noqa: E402  (the corpus' model definitions)

CLASSIFIERS = ["resnet50", "mobilenet_v3_large", "efficientnet_b0", "densenet121",
               "vit_b_16", "swin_t", "convnext_tiny", "regnet_y_400mf", "squeezenet1_1",
               "shufflenet_v2_x1_0", "googlenet", "mnasnet1_0"]
SEQUENCE = ["transformer_encoder", "transformer_encoder_prenorm", "transformer_seq_first",
            "tiny_gpt", "lstm_bidir", "gru_lm"]
MODELS = CLASSIFIERS + SEQUENCE


class SeqFirstEncoder(nn.Module):
    """nn.TransformerEncoder with batch_first=False (torch's slow path: no fused kernel)."""

    def __init__(self, d=64, heads=4, layers=2):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d, heads, 128, dropout=0.0, batch_first=False)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, x):
        return self.enc(x)


def spec(name):
    """(module, [(arg, onnx-opt shape, dtype, (low, high) or None)], axes):
    axes are the dims the test varies: batch (and seq)."""
    if name == "transformer_seq_first":
        torch.manual_seed(0)
        return SeqFirstEncoder().eval(), [("x", "seq,batch,64", "float32", None)]
    cfg = make_corpus.MODELS[name]
    torch.manual_seed(0)
    m = cfg["factory"]().eval()
    make_corpus.randomise(m, 0)
    args = []
    for arg, shape, dtype, rng in cfg["inputs"]:
        if cfg["family"] in ("cnn", "transformer") and len(shape) == 4:
            args.append(("x", "batch,%d,%d,%d" % tuple(shape[1:]), dtype, rng))
        else:
            dims = ["batch", "seq"] + [str(d) for d in shape[2:]]
            args.append((arg, ",".join(dims), dtype, rng))
    return m, args


def example(args, batch, seq, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _, shape, dtype, bounds in args:
        dims = [batch if d == "batch" else seq if d == "seq" else int(d)
                for d in shape.split(",")]
        if dtype == "int64":
            out.append(rng.integers(bounds[0], bounds[1], size=dims).astype(np.int64))
        elif dtype == "bool":
            a = np.zeros(dims, dtype=bool)
            a[..., -2:] = True  # the last two positions are padding
            out.append(a)
        else:
            out.append(rng.standard_normal(dims).astype(np.float32))
    return out


def write_pb(path, arr, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(arr, name).SerializeToString())


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def flatten(y):
    if isinstance(y, (tuple, list)):
        return [t for item in y for t in flatten(item)]
    return [y]


def check_model(onnx_opt, work, name, kind):
    d = os.path.join(work, "%s.%s" % (name, kind))
    os.makedirs(d, exist_ok=True)
    model, args = spec(name)
    sizes = [(1, 7), (3, 12)] if name in SEQUENCE else [(1, 0), (3, 0)]
    inputs = [torch.from_numpy(a) for a in example(args, 2, 5 if name in SEQUENCE else 0, 0)]
    with torch.no_grad():
        ts = (torch.jit.trace(model, tuple(inputs), check_trace=False) if kind == "trace"
              else torch.jit.script(model))
    pt = os.path.join(d, "m.pt")
    ts.save(pt)
    out = os.path.join(d, "m.onnx")
    cmd = [onnx_opt, pt, "-O2", "-o", out]
    for arg, shape, dtype, _ in args:
        cmd += ["--input-shape", "%s=%s" % (arg, shape)]
        if dtype != "float32":
            cmd += ["--input-type", "%s=%s" % (arg, dtype)]
    p = run(cmd)
    if p.returncode != 0:
        return ["onnx-opt: exit %d: %s" % (p.returncode, p.stderr.strip()[-300:])]
    loaded = torch.jit.load(pt).eval()
    problems = []
    for batch, seq in sizes:
        xs = example(args, batch, seq, batch + seq)
        with torch.no_grad():
            ys = flatten(loaded(*[torch.from_numpy(x) for x in xs]))
        tag = "b%d_s%d" % (batch, seq)
        ins, ref = os.path.join(d, "in_" + tag), os.path.join(d, "ref_" + tag)
        os.makedirs(ins, exist_ok=True)
        os.makedirs(ref, exist_ok=True)
        for i, (x, a) in enumerate(zip(xs, args)):
            write_pb(os.path.join(ins, "input_%d.pb" % i), x, a[0])
        for i, y in enumerate(ys):
            write_pb(os.path.join(ref, "output_%d.pb" % i), y.numpy(), "y%d" % i)
        p = run(["node", os.path.join(HERE, "ort_vs_reference.js"), out, ins, ref,
                 "--atol", "1e-4", "--rtol", "1e-3"])
        if p.returncode != 0:
            problems.append("batch %d%s: %s" % (batch, " seq %d" % seq if seq else "",
                                                (p.stdout + p.stderr).strip()[-300:]))
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
        torch.jit.trace(spec("squeezenet1_1")[0], torch.randn(1, 3, 224, 224)).save(
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
        for kind in ("trace", "script"):
            problems = check_model(args.onnx_opt, args.work, name, kind)
            if problems:
                failed += 1
                print("FAIL %s (%s):\n    %s" % (name, kind, "\n    ".join(problems)))
            else:
                passed += 1
                print("ok   %s (%s): ONNX Runtime matches libtorch at both sizes" % (name, kind))
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
