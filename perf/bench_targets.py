#!/usr/bin/python3
"""ONNX Runtime latency of onnx-opt's outputs against the original, per target.

    /usr/bin/python3 perf/bench_targets.py ONNX_OPT MODELS_DIR [--only a,b]
        [--threads 1,2] [--rounds 6] [--runs 10] [--json out.json]

For each model of MODELS_DIR (shared/corpus's exports; default: the
transformer models and two CNNs), writes `-O2` (portable) and `-O2
--target=ort-cpu` outputs, then times them against the original in one
process per setting (perf/ort_latency.js: sessions created once, runs
interleaved in rotated order, medians):
  - at graphOptimizationLevel `all`, for each --threads count: original,
    -O2, ort-cpu (the ratio below 1 is faster than the original);
  - ort-cpu loaded at `disabled` (nothing left for ONNX Runtime to do)
    against the original at `all`, 1 thread, with session creation times.
Sequence models run at sequence length 16 and 128, batch 1. Prints a
markdown table; timings are never pass/fail.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = ["transformer_encoder", "transformer_encoder_prenorm", "tiny_gpt", "vit_b_16",
           "resnet50", "mobilenet_v3_large"]
SEQUENCE = {"transformer_encoder", "transformer_encoder_prenorm", "tiny_gpt"}


def latency(models, extra):
    """ort_latency.js's RESULT for MODELS (the first is the baseline)."""
    cmd = ["node", os.path.join(HERE, "ort_latency.js")] + models + extra + ["--json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    line = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("models_dir")
    ap.add_argument("--only")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--json")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else DEFAULT
    threads = [int(t) for t in args.threads.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            src = os.path.join(args.models_dir, name + ".onnx")
            if not os.path.exists(src):
                sys.exit("no model %s" % src)
            o2 = os.path.join(work, name + ".O2.onnx")
            ort = os.path.join(work, name + ".ort-cpu.onnx")
            for out, extra in ((o2, []), (ort, ["--target=ort-cpu"])):
                subprocess.run([args.onnx_opt, src, "-O2", "-o", out] + extra, check=True)
            seqs = (16, 128) if name in SEQUENCE else (None,)
            for seq in seqs:
                dims = ["--dim", "batch=1"] + (["--dim", "seq=%d" % seq] if seq else [])
                dims += ["--int-range", "0:1000"] if name in SEQUENCE else []
                dims += ["--rounds", str(args.rounds), "--runs", str(args.runs)]
                row = {"model": name, "seq": seq}
                for t in threads:
                    r = latency([src, o2, ort], dims + ["--level", "all", "--threads", str(t)])
                    row["all_t%d" % t] = [m["median_ms"] for m in r["models"]]
                r = latency([src, ort], dims + ["--threads", "1", "--create-repeat", "3"])
                d = latency([src, ort], dims + ["--threads", "1", "--create-repeat", "3",
                                                "--level", "disabled"])
                # The original at `all` against the lowered model at `disabled`.
                row["disabled_ms"] = d["models"][1]["median_ms"]
                row["all_ms"] = r["models"][0]["median_ms"]
                row["create_all_ms"] = r["models"][0]["create_ms"]
                row["create_disabled_ms"] = d["models"][1]["create_ms"]
                rows.append(row)
                print(json.dumps(row), flush=True)
            os.remove(o2)
            os.remove(ort)
    print("\n| model | seq | " + " | ".join(
        "all, %d thr: original / -O2 / ort-cpu (ms)" % t for t in threads) +
        " | ort-cpu at disabled vs original at all (ms) | session creation, original at "
        "all vs ort-cpu at disabled (ms) |")
    print("|---|---|" + "---|" * len(threads) + "---|---|")
    for r in rows:
        cells = []
        for t in threads:
            a, b, c = r["all_t%d" % t]
            cells.append("%.2f / %.2f (x%.3f) / %.2f (x%.3f)" % (a, b, b / a, c, c / a))
        print("| %s | %s | %s | %.2f vs %.2f (x%.3f) | %.0f vs %.0f (%.1fx) |" % (
            r["model"], r["seq"] or "-", " | ".join(cells), r["disabled_ms"], r["all_ms"],
            r["disabled_ms"] / r["all_ms"], r["create_all_ms"], r["create_disabled_ms"],
            r["create_all_ms"] / max(r["create_disabled_ms"], 1e-9)))
    transformer = [r for r in rows if r["model"] in SEQUENCE or r["model"] == "vit_b_16"]
    for t in threads:
        g = [r["all_t%d" % t][2] / r["all_t%d" % t][0] for r in transformer]
        if g:
            print("\ngeomean ort-cpu / original, transformer models, level all, %d thread(s): "
                  "x%.3f" % (t, math.exp(sum(math.log(x) for x in g) / len(g))))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
