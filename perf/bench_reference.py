#!/usr/bin/python3
"""Reference interpreter throughput next to ONNX Runtime, and constant-fold time.

    /usr/bin/python3 perf/bench_reference.py ONNX_OPT MODEL_DIR [--runs 5]

MODEL_DIR holds <name>/raw.onnx and <name>/inputs/ as test/e2e/reference_corpus.py
writes them (run that test first, or point at its work directory). For each model:
the median wall time of `onnx-opt MODEL --evaluate --inputs=...` (whole process,
load included) against ONNX Runtime's median latency for the same model (one thread,
graph optimizations disabled, session creation excluded), and the time of
`-p constant-fold` from --time-passes. A benchmark, not a test: it asserts nothing.
"""
import argparse
import os
import re
import statistics
import subprocess
import time

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ORT_RUN = os.path.join(HERE, "ort_run.js")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("model_dir")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    env = dict(os.environ, ORT_NODE_MODULES=os.path.join(HERE, "..", "tools", "ort",
                                                         "node_modules"))
    print("| model | reference --evaluate (s) | ONNX Runtime (s) | ratio | constant-fold (ms) |")
    print("|---|---|---|---|---|")
    for name in sorted(os.listdir(args.model_dir)):
        model = os.path.join(args.model_dir, name, "raw.onnx")
        inputs = os.path.join(args.model_dir, name, "inputs")
        if not os.path.exists(model):
            continue
        times = []
        for _ in range(args.runs):
            t0 = time.time()
            subprocess.run([args.onnx_opt, model, "--evaluate", "--inputs=" + inputs],
                           check=True, capture_output=True)
            times.append(time.time() - t0)
        ref = statistics.median(times)
        # The same input shapes as the .pb files.
        shapes = []
        graph_inputs = [i.name for i in onnx.load(model, load_external_data=False).graph.input]
        for k, iname in enumerate(graph_inputs):
            t = onnx.TensorProto()
            with open(os.path.join(inputs, "input_%d.pb" % k), "rb") as f:
                t.ParseFromString(f.read())
            shapes += ["--shape", "%s=%s" % (iname, "x".join(map(str, t.dims)))]
        p = subprocess.run(["node", ORT_RUN, model, "--runs", str(args.runs)] + shapes,
                           capture_output=True, text=True, env=env)
        m = re.search(r"latency median ([0-9.]+) ms", p.stdout)
        ort = float(m.group(1)) / 1e3 if m else float("nan")
        p = subprocess.run([args.onnx_opt, model, "-p", "constant-fold", "--time-passes",
                            "-o", "/dev/null"], capture_output=True, text=True)
        m = re.search(r"pass constant-fold ([0-9.]+) ms", p.stderr)
        fold = float(m.group(1)) if m else float("nan")
        print("| %s | %.3f | %.3f | %.1fx | %.1f |" % (name, ref, ort, ref / ort, fold))


if __name__ == "__main__":
    main()
