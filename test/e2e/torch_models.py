#!/usr/bin/python3
"""Round trip of PyTorch-exported models through onnx-opt, checked in ONNX Runtime.

    /usr/bin/python3 torch_models.py ONNX_OPT WORK_DIR [--only NAME,...]

Exports ResNet-50, MobileNetV3-Large, ViT-B/16, an LSTM and a small transformer
encoder with random weights (fixed seeds, dynamic batch/sequence axes, opset 17),
runs `onnx-opt m.onnx -o out.onnx` (once more with external data, and at -O1, -O2
and -O3), and requires ONNX Runtime to give bit-identical outputs for the original
and each output on seeded random inputs at two batch sizes (-O2 and -O3, which hold
numeric fusions, within atol 1e-4 + rtol 1e-3). Also checks that every run is deterministic (same bytes twice)
and idempotent (a second run over its own output changes nothing).
Prints `N passed, N failed`.
"""
import argparse
import os
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 64)
        layer = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(64, 100)

    def forward(self, tokens):
        return self.head(self.enc(self.emb(tokens)))


class LstmModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(32, 48, num_layers=2, bidirectional=True, batch_first=True)
        self.out = nn.Linear(96, 10)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.out(y)


def models():
    img = {"input": {0: "batch"}, "output": {0: "batch"}}
    seq = {"input": {0: "batch", 1: "seq"}, "output": {0: "batch", 1: "seq"}}
    return {
        "resnet50": (lambda: torchvision.models.resnet50(), torch.randn(1, 3, 224, 224), img, {}),
        "mobilenet_v3_large": (lambda: torchvision.models.mobilenet_v3_large(), torch.randn(1, 3, 224, 224), img, {}),
        "vit_b_16": (lambda: torchvision.models.vit_b_16(), torch.randn(1, 3, 224, 224), img, {}),
        "lstm": (LstmModel, torch.randn(2, 7, 32), seq, {"seq": [7, 11]}),
        "transformer": (TinyTransformer, torch.randint(0, 100, (2, 9)), seq, {"seq": [9, 13], "int_max": 100}),
    }


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("work")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    torch.manual_seed(0)
    passed = failed = 0
    only = set(filter(None, a.only.split(",")))
    for name, (ctor, example, axes, extra) in models().items():
        if only and name not in only:
            continue
        torch.manual_seed(0)
        d = os.path.join(a.work, name)
        os.makedirs(d, exist_ok=True)
        src = os.path.join(d, "model.onnx")
        t0 = time.time()
        m = ctor().eval()
        torch.onnx.export(m, example, src, opset_version=17, input_names=["input"],
                          output_names=["output"], dynamic_axes=axes)
        export_s = time.time() - t0
        problems = []
        out = os.path.join(d, "out.onnx")
        out2 = os.path.join(d, "out2.onnx")
        ext = os.path.join(d, "ext.onnx")
        again = os.path.join(d, "again.onnx")
        levels = {lvl: [os.path.join(d, f"{lvl}.{i}.onnx") for i in range(3)] for lvl in ("O1", "O2", "O3")}
        cmds = [[a.onnx_opt, src, "-o", out], [a.onnx_opt, src, "-o", out2],
                [a.onnx_opt, src, "-o", ext, "--external-data=ext.weights"],
                [a.onnx_opt, out, "-o", again]]
        for lvl, (first, second, rerun) in levels.items():
            cmds += [[a.onnx_opt, src, f"-{lvl}", "--verify-each", "-o", first],
                     [a.onnx_opt, src, f"-{lvl}", "--verify-each", "-o", second],
                     [a.onnx_opt, first, f"-{lvl}", "--verify-each", "-o", rerun]]
        for cmd in cmds:
            rc, msg = run(cmd)
            if rc != 0:
                problems.append(f"{' '.join(cmd[1:])}: exit {rc}: {msg}")
        if not problems:
            if open(out, "rb").read() != open(out2, "rb").read():
                problems.append("two runs gave different bytes")
            if open(out, "rb").read() != open(again, "rb").read():
                problems.append("a second round trip changed the model")
            for lvl, (first, second, rerun) in levels.items():
                if open(first, "rb").read() != open(second, "rb").read():
                    problems.append(f"-{lvl}: two runs gave different bytes")
                if open(first, "rb").read() != open(rerun, "rb").read():
                    problems.append(f"-{lvl}: a second run over its own output changed it")
            seqs = extra.get("seq", [None])
            for batch in (1, 3):
                for s in seqs:
                    dims = ["--dim", f"batch={batch}"] + (["--dim", f"seq={s}"] if s else [])
                    if "int_max" in extra:
                        dims += ["--int-max", str(extra["int_max"])]
                    for candidate in (out, ext) + tuple(v[0] for v in levels.values()):
                        # -O2 and -O3 hold numeric fusions: within atol 1e-4 + rtol 1e-3.
                        tol = ([] if os.path.basename(candidate).startswith(("O1", "out", "ext"))
                               else ["--atol", "1e-4", "--rtol", "1e-3"])
                        rc, msg = run(["node", os.path.join(HERE, "compare_exact.js"), src, candidate]
                                      + dims + tol)
                        if rc != 0:
                            problems.append(f"{os.path.basename(candidate)} batch={batch} seq={s}: {msg}")
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "\n  ".join(problems))
        else:
            passed += 1
            size = os.path.getsize(src)
            print(f"ok   {name}: {size / 1e6:.1f} MB, export {export_s:.1f}s, bit-identical in ONNX Runtime (-O2/-O3 within tolerance) "
                  f"at batch 1 and 3{' and seq ' + str(extra['seq']) if 'seq' in extra else ''}, inline, external data, -O1/-O2/-O3; "
                  f"deterministic and idempotent")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
