#!/usr/bin/python3
"""Round trip of PyTorch-exported models through onnx-opt, checked in ONNX Runtime.

    /usr/bin/python3 torch_models.py ONNX_OPT WORK_DIR [--only NAME,...]

Exports ResNet-50, MobileNetV3-Large, ViT-B/16, an LSTM, a small transformer
encoder and a small LLaMA-style decoder (tools/corpus/onnxopt_corpus.py's definitions) with random weights and
BatchNorm statistics (fixed seeds, dynamic batch/sequence axes, opset 17),
runs `onnx-opt m.onnx -o out.onnx` (once more with external data, and at -O1, -O2,
-O3 and -O3 --target-opset=23), and requires ONNX Runtime to give bit-identical outputs for the original
and each output on seeded random inputs at two batch sizes (-O2 and -O3, which hold
numeric fusions, within atol 1e-4 + rtol 1e-3). Also checks that every run is deterministic (same bytes twice)
and idempotent (a second run over its own output changes nothing). Outputs are
deleted once checked and a passing model's directory at its end: the disk is shared.
Prints `N passed, N failed`.
"""
import argparse
import hashlib
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "corpus"))
import onnxopt_corpus as corpus  # noqa: E402

MODELS = ["resnet50", "mobilenet_v3_large", "vit_b_16", "small_lstm", "small_transformer",
          "small_llama"]


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def remove(*paths):
    for p in paths:
        if os.path.exists(p):
            os.remove(p)


def run(cmd):
    r = corpus.run(cmd)
    return r.returncode, (r.stdout + r.stderr).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("work")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    report = corpus.Report()
    for name in corpus.select(a.only, MODELS):
        cfg = corpus.MODELS[name]
        d = os.path.join(a.work, name)
        os.makedirs(d, exist_ok=True)
        src = os.path.join(d, "model.onnx")
        t0 = time.time()
        model = corpus.build(name, 0)
        example = corpus.make_inputs(cfg["inputs"], 0)
        in_names = [i[0] for i in cfg["inputs"]]
        corpus.export(model, example, src, in_names, ["output"],
                      corpus.dynamic_axes(cfg["inputs"], cfg["dyn"], ["output"]), raw=False)
        export_s = time.time() - t0
        # Sequence models also run at a second sequence length; token inputs
        # stay below the vocabulary size.
        extra = {}
        if cfg["dyn"] == "batch_seq":
            n = cfg["inputs"][0][1][1]
            extra["seq"] = [n, n + 4]
        if corpus.int_high(cfg["inputs"]):
            extra["int_max"] = corpus.int_high(cfg["inputs"])
        problems = []
        seqs = extra.get("seq", [None])

        def in_ort(candidate, tolerant):
            """ONNX Runtime gives the same outputs for src and candidate at batch 1
            and 3 (and each sequence length); -O2 and -O3 hold numeric fusions,
            so they are checked within atol 1e-4 + rtol 1e-3."""
            for batch in (1, 3):
                for s in seqs:
                    dims = ["--dim", f"batch={batch}"] + (["--dim", f"seq={s}"] if s else [])
                    if "int_max" in extra:
                        dims += ["--int-max", str(extra["int_max"])]
                    tol = ["--atol", "1e-4", "--rtol", "1e-3"] if tolerant else []
                    rc, msg = run(["node", os.path.join(HERE, "compare_exact.js"), src, candidate]
                                  + dims + tol)
                    if rc != 0:
                        problems.append(f"{os.path.basename(candidate)} batch={batch} seq={s}: {msg}")

        def produce(args, path):
            """Runs onnx-opt ARGS -o PATH; the SHA-256 of what it wrote, or None."""
            cmd = [a.onnx_opt] + args + ["-o", path]
            rc, msg = run(cmd)
            if rc != 0:
                problems.append(f"{' '.join(cmd[1:])}: exit {rc}: {msg}")
                return None
            return digest(path)

        def discard(*paths):
            if not problems:  # a failure keeps its files, to look at
                remove(*paths)

        def expect_same(args, want, what):
            got = produce(args, again)
            if got is not None and got != want:
                problems.append(what)

        # One candidate at a time, each file deleted once checked: a ViT-B/16
        # output is 346 MB and CI's disk is shared, so at most three model-sized
        # files exist at once (determinism and idempotence compare digests).
        out, again, ext = (os.path.join(d, f) for f in ("out.onnx", "again.onnx", "ext.onnx"))
        first = produce([src], out)
        if first is not None:
            expect_same([src], first, "two runs gave different bytes")
            expect_same([out], first, "a second round trip changed the model")
            discard(again)
            in_ort(out, tolerant=False)
        discard(out)
        if produce([src, "--external-data=ext.weights"], ext) is not None:
            in_ort(ext, tolerant=False)
        discard(ext, os.path.join(d, "ext.weights"))
        for lvl in ("O1", "O2", "O3", "O3@23"):
            # -O3 at opset 23: Gelu, RMSNormalization and Attention in standard ONNX.
            flags = ["-O3", "--target-opset=23"] if lvl == "O3@23" else [f"-{lvl}"]
            flags += ["--verify-each"]
            first = produce([src] + flags, out)
            if first is None:
                continue
            expect_same([src] + flags, first, f"-{lvl}: two runs gave different bytes")
            expect_same([out] + flags, first, f"-{lvl}: a second run over its own output changed it")
            discard(again)
            in_ort(out, tolerant=lvl != "O1")
            discard(out)
        size = os.path.getsize(src)
        if report.problems(name, problems,
                           f"{size / 1e6:.1f} MB, export {export_s:.1f}s, bit-identical in ONNX Runtime "
                           f"(-O2/-O3 within tolerance) at batch 1 and 3"
                           f"{' and seq ' + str(extra['seq']) if 'seq' in extra else ''}, inline, external "
                           f"data, -O1/-O2/-O3/-O3 at opset 23; deterministic and idempotent"):
            shutil.rmtree(d)  # kept only when it failed, to look at
    sys.exit(report.finish())


if __name__ == "__main__":
    main()
