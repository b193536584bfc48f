#!/usr/bin/python3
"""Classic ML pipelines (ai.onnx.ml): what -O2 removes and what it buys in ONNX
Runtime.

    /usr/bin/python3 perf/bench_ml.py ONNX_OPT [--only a,b] [--rounds 6]
        [--runs 20] [--md perf/RESULTS.md]

The scikit-learn pipelines of test/ml (fitted on the same seeded data,
exported the way skl2onnx lays them out, with tensor outputs: skl2onnx's
zipmap=False, which is what ONNX Runtime serves) are optimized with
`onnx-opt -O2`; the table gives node counts before and after, onnx-opt's
wall time for `-O2 --verify -o` (load, passes, verification, write), and the
original and the optimized model timed in one process by perf/ort_latency.js
(level `all`, 1 thread, interleaved rounds) at 1 and 1000 rows. ZipMap models
are counted with --keep-outputs=output_label too (the branch a label-only
consumer does not need). Writes the section between `<!-- bench_ml:begin -->`
and `<!-- bench_ml:end -->` of RESULTS.md. A benchmark: timings are never
pass/fail.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "ml"))
import run_ml_test as mltest  # noqa: E402
import sklearn_onnx  # noqa: E402

CASES = ["scaler_logreg_multinomial", "scaler_logreg_binary", "logreg_ovr",
         "minmax_svc_rbf_proba", "scaler_svr_rbf", "imputer_scaler_logreg",
         "maxabs_ridge", "random_forest", "gradient_boosting_binary", "forest_500x12"]


def latency(models, rows, features, rounds, runs):
    p = subprocess.run(["node", os.path.join(HERE, "ort_latency.js")] + models +
                       ["--shape", "X=%dx%d" % (rows, features), "--rounds", str(rounds),
                        "--runs", str(runs), "--json"],
                       capture_output=True, text=True, check=True)
    res = json.loads([line for line in p.stdout.splitlines()
                      if line.startswith("RESULT ")][-1][len("RESULT "):])
    return [m["median_ms"] for m in res["models"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("--only")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--md", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    tool = os.path.abspath(args.onnx_opt)
    names = args.only.split(",") if args.only else CASES
    cases = {c[0]: c for c in mltest.cases(quick=False)}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                            capture_output=True, text=True).stdout.strip()
    lines = []
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            _, dataset, est, opts = cases[name]
            Xtr, _, ytr = mltest.data(dataset)
            est.fit(Xtr, ytr)
            f = Xtr.shape[1]
            src = os.path.join(work, name + ".onnx")
            zm = os.path.join(work, name + ".zipmap.onnx")
            onnx.save(sklearn_onnx.to_onnx(est, f, zipmap=False,
                                           aggregate=opts.get("aggregate", "SUM")), src)
            dst = os.path.join(work, name + ".O2.onnx")
            t0 = time.time()
            subprocess.run([tool, src, "-O2", "--verify", "-o", dst], check=True,
                           capture_output=True)
            wall = time.time() - t0
            n0, n1 = (len(onnx.load(p).graph.node) for p in (src, dst))
            keep = "-"
            if hasattr(est, "classes_"):
                onnx.save(sklearn_onnx.to_onnx(est, f, zipmap=True), zm)
                kept = os.path.join(work, name + ".keep.onnx")
                subprocess.run([tool, zm, "-O2", "--keep-outputs=output_label", "-o", kept],
                               check=True, capture_output=True)
                keep = "%d -> %d" % (len(onnx.load(zm).graph.node),
                                     len(onnx.load(kept).graph.node))
            ms1 = latency([src, dst], 1, f, args.rounds, args.runs)
            ms1k = latency([src, dst], 1000, f, args.rounds, max(args.runs // 4, 3))
            lines.append("| %s | %d | %d | %s | %.0f | %.4f | %.4f (%.2fx) | %.3f | "
                         "%.3f (%.2fx) |" % (name, n0, n1, keep, wall * 1e3, ms1[0], ms1[1],
                                             ms1[1] / ms1[0], ms1k[0], ms1k[1],
                                             ms1k[1] / ms1k[0]))
            print(lines[-1], flush=True)
    head = ["## Classic ML pipelines (ai.onnx.ml)", "",
            "Commit `%s`. Command: `/usr/bin/python3 perf/bench_ml.py build/onnx-opt "
            "--rounds %d --runs %d`. scikit-learn pipelines of test/ml exported in "
            "skl2onnx's layout with tensor outputs (zipmap=False); nodes before and after "
            "`-O2`; the ZipMap export with `-O2 --keep-outputs=output_label`; onnx-opt's "
            "wall time for `-O2 --verify -o`; ONNX Runtime latency at level `all`, 1 "
            "thread, median ms of interleaved runs (ratio to the original; below 1 is "
            "faster) at 1 row and at 1000 rows. A shared 2-core VM: ratios within about "
            "5%% are noise." % (commit, args.rounds, args.runs), "",
            "| pipeline | nodes | -O2 | ZipMap model, label only | -O2 --verify ms | "
            "1 row ms | -O2 1 row ms | 1000 rows ms | -O2 1000 rows ms |",
            "|---|---|---|---|---|---|---|---|---|"]
    text = mltest.corpus.write_md_section(args.md, "bench_ml", head, lines,
                                          only=bool(args.only), order=CASES)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
