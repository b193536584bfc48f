#!/usr/bin/python3
"""The reference interpreter and --verify on real exported models.

    /usr/bin/python3 reference_corpus.py ONNX_OPT WORK_DIR [--only NAME,...]

Exports the corpus models raw (training=PRESERVE, do_constant_folding=False:
BatchNormalization and the Shape/Gather/Unsqueeze/Concat glue stay in) with
random weights and fixed seeds: ResNet-50, MobileNetV3-Large, EfficientNet-B0,
ViT-B/16, Swin-T, a GPT-style decoder, a bidirectional LSTM and a GRU language
model. For each, on seeded inputs written as .pb files:
  1. `onnx-opt raw.onnx -O1 --verify --verify-inputs=DIR` must pass (the -O1
     pipeline is exact: outputs bit-identical in the reference interpreter), and
     `-O2 --verify` within atol 1e-4 + rtol 1e-3, its output within the same
     tolerance of the original in ONNX Runtime;
  2. `onnx-opt raw.onnx --evaluate --inputs=DIR --outputs=REF` and ONNX Runtime
     1.30 on the same inputs must agree within atol 1e-4 + rtol 1e-3.
  3. The -O1 output keeps every dynamic axis of the inputs and outputs (same
     symbols), and runs in ONNX Runtime bit-identical to the original at batch
     1, 3 and 8 (and a second sequence length for sequence models);
  4. its count of shape-glue nodes (Shape, Gather, Unsqueeze, Squeeze, Concat,
     Cast, Slice, Constant, Reshape, Expand, ConstantOfShape) is no higher than
     the lowest correct peer's on the same model (GLUE_BOUND, from
     shared/corpus/peers.md: ONNX Runtime basic/extended, onnxoptimizer,
     OnnxSlim on the same torchvision exports).
Prints `N passed, N failed`.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torchvision
import warnings

warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))


class TinyGPT(nn.Module):
    """Decoder-only: token + position embeddings, causal self-attention blocks."""

    def __init__(self, vocab=512, d=128, heads=4, layers=2, max_len=64):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        layer = nn.TransformerEncoderLayer(d, heads, 4 * d, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids):
        n = ids.shape[1]
        pos = torch.arange(n, device=ids.device).unsqueeze(0)
        mask = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        x = self.tok(ids) + self.pos(pos)
        return self.head(self.norm(self.blocks(x, mask=mask)))


class LstmModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(40, 64, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc(self.lstm(x)[0])


class GruModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(300, 64)
        self.gru = nn.GRU(64, 96, num_layers=2, batch_first=True)
        self.fc = nn.Linear(96, 300)

    def forward(self, ids):
        return self.fc(self.gru(self.emb(ids))[0])


def tv(name):
    return lambda: getattr(torchvision.models, name)(weights=None)


IMG = ("input", [1, 3, 224, 224], np.float32, None)
# name -> (factory, [(input, shape, dtype, int range)], dynamic axes)
MODELS = {
    "resnet50": (tv("resnet50"), [IMG], {"input": {0: "batch"}}),
    "mobilenet_v3_large": (tv("mobilenet_v3_large"), [IMG], {"input": {0: "batch"}}),
    "efficientnet_b0": (tv("efficientnet_b0"), [IMG], {"input": {0: "batch"}}),
    "vit_b_16": (tv("vit_b_16"), [IMG], {"input": {0: "batch"}}),
    "swin_t": (tv("swin_t"), [IMG], {"input": {0: "batch"}}),
    "tiny_gpt": (TinyGPT, [("ids", [2, 16], np.int64, 512)], {"ids": {0: "batch", 1: "seq"}}),
    "lstm": (LstmModel, [("x", [2, 12, 40], np.float32, None)], {"x": {0: "batch", 1: "seq"}}),
    "gru": (GruModel, [("ids", [2, 10], np.int64, 300)], {"ids": {0: "batch", 1: "seq"}}),
}


GLUE = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice", "Constant",
        "Reshape", "Expand", "ConstantOfShape"}
# The lowest glue count among the peers' correct outputs (peers.md, raw exports).
GLUE_BOUND = {"resnet50": 0, "mobilenet_v3_large": 0, "efficientnet_b0": 0, "vit_b_16": 302,
              "swin_t": 1014}


def symbolic_dims(path):
    """{(input or output name, axis): symbol} of a model's graph inputs/outputs."""
    m = onnx.load(path, load_external_data=False)
    out = {}
    for v in list(m.graph.input) + list(m.graph.output):
        for axis, d in enumerate(v.type.tensor_type.shape.dim):
            if d.dim_param:
                out[(v.name, axis)] = d.dim_param
    return out, sum(1 for n in m.graph.node if n.op_type in GLUE)


def check_dynamic_o1(name, raw, o1):
    """Dynamic axes kept, glue bound met, bit-identical in ONNX Runtime at
    several batch sizes and sequence lengths. Returns problems."""
    problems = []
    want, _ = symbolic_dims(raw)
    got, glue = symbolic_dims(o1)
    for key, sym in sorted(want.items()):
        if got.get(key) != sym:
            problems.append("-O1 lost dynamic axis %s:%d ('%s' became %r)"
                            % (key[0], key[1], sym, got.get(key)))
    if name in GLUE_BOUND and glue > GLUE_BOUND[name]:
        problems.append("-O1 leaves %d glue nodes, the best peer %d" % (glue, GLUE_BOUND[name]))
    spec, dyn = MODELS[name][1], MODELS[name][2]
    ints = []
    for (_, _, _, hi) in spec:
        if hi:
            ints = ["--int-max", str(hi)]
    seq = None
    for axis_map in dyn.values():
        if 1 in axis_map:
            seq = spec[0][1][1]
    settings = [(b, seq) for b in (1, 3, 8)] + ([(3, seq + 7)] if seq else [])
    for b, n in settings:
        dims = ["--dim", "batch=%d" % b] + (["--dim", "seq=%d" % n] if n else [])
        p, _ = run(["node", os.path.join(HERE, "compare_exact.js"), raw, o1] + dims + ints)
        if p.returncode != 0:
            problems.append("-O1 in ONNX Runtime at %s: %s"
                            % (" ".join(dims[1::2]), (p.stdout + p.stderr).strip()[-300:]))
    return problems, glue, len(settings)


def randomise(model, seed):
    """Random BatchNorm statistics, so that folding mistakes change the numbers,
    and random weights for layers initialised to zero (ViT's head), so that the
    outputs are not constant."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Linear) and not m.weight.any():
            m.weight.copy_(torch.randn(m.weight.shape, generator=g) * 0.02)
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) * 0.5 + 0.75)


def export(name, path, inputs_dir):
    factory, spec, dyn = MODELS[name]
    torch.manual_seed(0)
    model = factory().eval()
    with torch.no_grad():
        randomise(model, 1)
    rng = np.random.default_rng(7)
    args = []
    os.makedirs(inputs_dir, exist_ok=True)
    for i, (iname, shape, dtype, hi) in enumerate(spec):
        if hi:
            a = rng.integers(0, hi, size=shape).astype(dtype)
        else:
            a = (rng.random(shape, dtype=np.float32) * 2 - 1).astype(dtype)
        args.append(torch.from_numpy(a))
        with open(os.path.join(inputs_dir, "input_%d.pb" % i), "wb") as f:
            f.write(numpy_helper.from_array(a, iname).SerializeToString())
    # Grad mode on: under no_grad torch 1.13 takes the fused attention fast
    # path, which has no ONNX export.
    torch.onnx.export(model, tuple(args), path, opset_version=17,
                      input_names=[s[0] for s in spec], output_names=["output"],
                      dynamic_axes=dict(dyn, output={0: "batch"}),
                      training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)


def run(cmd):
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("work")
    ap.add_argument("--only")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(MODELS)
    passed = failed = 0
    for name in names:
        d = os.path.join(args.work, name)
        os.makedirs(d, exist_ok=True)
        raw = os.path.join(d, "raw.onnx")
        inputs = os.path.join(d, "inputs")
        t0 = time.time()
        export(name, raw, inputs)
        texp = time.time() - t0
        problems = []
        p, tver = run([args.onnx_opt, raw, "-O1", "--verify", "--verify-inputs=" + inputs,
                       "-o", os.path.join(d, "O1.onnx"), "--summary"])
        glue = runs = 0
        if p.returncode != 0:
            problems.append("-O1 --verify: exit %d: %s" % (p.returncode, p.stderr.strip()[-400:]))
        else:
            more, glue, runs = check_dynamic_o1(name, raw, os.path.join(d, "O1.onnx"))
            problems += more
        # -O2 (numeric fusions): --verify within atol 1e-4 + rtol 1e-3, and the
        # output close to the original in ONNX Runtime too.
        o2 = os.path.join(d, "O2.onnx")
        p4, _ = run([args.onnx_opt, raw, "-O2", "--verify", "--verify-inputs=" + inputs,
                     "--verify-rtol=1e-3", "--verify-atol=1e-4", "-o", o2, "--summary"])
        if p4.returncode != 0:
            problems.append("-O2 --verify: exit %d: %s" % (p4.returncode, p4.stderr.strip()[-400:]))
        else:
            shape_args = []
            for k, (iname, shape, _, hi) in enumerate(MODELS[name][1]):
                if hi:
                    shape_args += ["--int-max", str(hi)]
            dims = []
            for axis_map in MODELS[name][2].values():
                for axis, sym in axis_map.items():
                    dims += ["--dim", "%s=%d" % (sym, MODELS[name][1][0][1][axis])]
            p5, _ = run(["node", os.path.join(HERE, "compare_exact.js"), raw, o2] + dims +
                        shape_args + ["--atol", "1e-4", "--rtol", "1e-3"])
            if p5.returncode != 0:
                problems.append("-O2 in ONNX Runtime: " + (p5.stdout + p5.stderr).strip())
        ref = os.path.join(d, "ref")
        p2, tev = run([args.onnx_opt, raw, "--evaluate", "--inputs=" + inputs,
                       "--outputs=" + ref])
        if p2.returncode != 0:
            problems.append("--evaluate: exit %d: %s" % (p2.returncode, p2.stderr.strip()[-400:]))
        else:
            p3, _ = run(["node", os.path.join(HERE, "ort_vs_reference.js"), raw, inputs, ref,
                         "--atol", "1e-4", "--rtol", "1e-3"])
            if p3.returncode != 0:
                problems.append("ONNX Runtime vs reference: " + (p3.stdout + p3.stderr).strip())
            else:
                print("  %s: %s" % (name, p3.stdout.strip().replace("\n", "; ")))
        nodes = ""
        for line in p.stderr.splitlines() + [l for l in p4.stderr.splitlines() if "wrote" in l]:
            if "onnx-opt: read" in line or "onnx-opt: wrote" in line:
                nodes += " " + line.split(":", 2)[2].split("(")[0].strip()
        if problems:
            failed += 1
            print("FAIL %s:\n    %s" % (name, "\n    ".join(problems)))
        else:
            passed += 1
            print("ok   %s: export %.1fs, -O1 --verify %.1fs, --evaluate %.1fs; nodes raw, "
                  "-O1, -O2:%s; -O1 glue %d (bound %s), bit-identical in ONNX Runtime at %d "
                  "batch/sequence sizes" % (name, texp, tver, tev, nodes.replace(" nodes", ""),
                                            glue, GLUE_BOUND.get(name, "-"), runs))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
