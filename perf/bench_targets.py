#!/usr/bin/python3
"""ONNX Runtime latency of onnx-opt's outputs against the original, per target.

    /usr/bin/python3 perf/bench_targets.py ONNX_OPT MODELS_DIR [--only a,b | --all]
        [--threads 1,2] [--rounds 6] [--runs 10] [--json out.json]

    /usr/bin/python3 perf/bench_targets.py ONNX_OPT MODELS_DIR --from-json a.json,b.json
        [--md perf/RESULTS.md]

For each model of MODELS_DIR (shared/corpus's exports; default: the
transformer models and two CNNs; --all: every model), writes `-O2`
(portable), `-O2 --target=ort-cpu` and `-O2 --target=ort-cpu-avx512` (or
-avx2: the NCHWc variant for this host's vector width) outputs, then times
them against the original in one process per setting (perf/ort_latency.js:
sessions created once, runs interleaved in rotated order, medians):
  - at graphOptimizationLevel `all`, for each --threads count: original,
    -O2, ort-cpu, NCHWc (a ratio below 1 is faster than the original); with
    more than one thread, workers do not spin between runs (ort_latency.js
    --no-spin: spinning workers of one session slow the next);
  - ort-cpu and NCHWc loaded at `disabled` (nothing left for ONNX Runtime
    to do) against the original at `all`, 1 thread, with session creation
    times.
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools",
                                "corpus"))
import onnxopt_corpus as corpus  # noqa: E402

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
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--json")
    ap.add_argument("--md", help="write RESULTS.md's bench_targets section")
    ap.add_argument("--from-json", help="measure nothing: report the rows of these --json "
                    "files (comma-separated; a later file's settings replace an earlier's)")
    args = ap.parse_args()
    args.command = " ".join(["/usr/bin/python3", "perf/bench_targets.py"] + sys.argv[1:])
    if args.from_json:
        report(merged(args.from_json.split(",")), args)
        return
    if args.all:
        names = sorted(f[:-5] for f in os.listdir(args.models_dir) if f.endswith(".onnx"))
    else:
        names = args.only.split(",") if args.only else DEFAULT
    threads = [int(t) for t in args.threads.split(",")]
    nchwc = "ort-cpu-avx512" if corpus.host_nchwc_block() == 16 else "ort-cpu-avx2"
    variants = (("O2", []), ("ort-cpu", ["--target=ort-cpu"]),
                ("nchwc", ["--target=" + nchwc]))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            src = os.path.join(args.models_dir, name + ".onnx")
            if not os.path.exists(src):
                sys.exit("no model %s" % src)
            outs = []
            for tag, extra in variants:
                out = os.path.join(work, "%s.%s.onnx" % (name, tag))
                subprocess.run([args.onnx_opt, src, "-O2", "-o", out] + extra, check=True)
                outs.append(out)
            base = name.replace(".raw", "")
            seqs = (16, 128) if base in SEQUENCE else (None,)
            for seq in seqs:
                dims = ["--dim", "batch=1"] + (["--dim", "seq=%d" % seq] if seq else [])
                dims += ["--int-range", "0:1000"] if base in SEQUENCE else []
                dims += ["--rounds", str(args.rounds), "--runs", str(args.runs)]
                row = {"model": name, "seq": seq, "nchwc_target": nchwc}
                for t in threads:
                    spin = ["--no-spin"] if t > 1 else []
                    r = latency([src] + outs, dims + ["--level", "all", "--threads", str(t)] + spin)
                    row["all_t%d" % t] = [m["median_ms"] for m in r["models"]]
                # The original at `all` against the lowered models at
                # `disabled`, interleaved in one process.
                d = latency([src] + outs[1:], dims + ["--threads", "1", "--create-repeat", "3",
                                                      "--level", "disabled", "--level-first", "all"])
                row["all_ms"] = d["models"][0]["median_ms"]
                row["create_all_ms"] = d["models"][0]["create_ms"]
                row["disabled_ms"] = [m["median_ms"] for m in d["models"][1:]]
                row["create_disabled_ms"] = [m["create_ms"] for m in d["models"][1:]]
                rows.append(row)
                print(json.dumps(row), flush=True)
            for out in outs:
                os.remove(out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    report(rows, args)


def merged(paths):
    """The rows of several --json files, one per (model, seq): a later file's
    measurements replace an earlier one's (a rerun of some settings)."""
    rows, order = {}, []
    for path in paths:
        with open(path) as f:
            for r in json.load(f):
                key = (r["model"], r["seq"])
                if key not in rows:
                    order.append(key)
                    rows[key] = {}
                rows[key].update(r)
    return [rows[k] for k in order]


def report(rows, args):
    """Prints the table and the slowest ratios; with --md, writes them as
    RESULTS.md's bench_targets section."""
    threads = sorted({int(k[5:]) for r in rows for k in r if k.startswith("all_t")})
    table = ["| model | seq | " + " | ".join(
        "level all, %d thread%s: original ms; -O2 / ort-cpu / NCHWc" % (t, "s" if t > 1 else "")
        for t in threads) + " | at disabled, against the original at all: ort-cpu / NCHWc | "
        "session creation, original at all vs ort-cpu / NCHWc at disabled (ms) |",
        "|---|---|" + "---|" * len(threads) + "---|---|"]
    worst = {}
    for r in rows:
        cells = []
        for t in threads:
            v = r.get("all_t%d" % t)
            if not v:
                cells.append("-")
                continue
            a, *rest = v
            cells.append("%.2f; %s" % (a, " / ".join("%.3f" % (x / a) for x in rest)))
            for tag, x in zip(("-O2", "ort-cpu", "NCHWc"), rest):
                if (tag, t) not in worst or x / a > worst[(tag, t)][0]:
                    worst[(tag, t)] = (x / a, r["model"], r["seq"])
        table.append("| %s | %s | %s | %s | %.0f vs %s |" % (
            r["model"], r["seq"] or "-", " | ".join(cells),
            " / ".join("%.3f" % (x / r["all_ms"]) for x in r["disabled_ms"]),
            r["create_all_ms"], " / ".join("%.0f (%.1fx)" % (c, r["create_all_ms"] / max(c, 1e-9))
                                           for c in r["create_disabled_ms"])))
    summary = []
    for (tag, t), (ratio, model, seq) in sorted(worst.items()):
        summary.append("- slowest %s against the original, level all, %d thread%s: x%.3f (%s%s)" % (
            tag, t, "s" if t > 1 else "", ratio, model, ", seq %d" % seq if seq else ""))
    for tag, i in (("ort-cpu", 0), ("NCHWc", 1)):
        worst_d = max(rows, key=lambda r: r["disabled_ms"][i] / r["all_ms"])
        summary.append("- slowest %s at disabled against the original at all: x%.3f (%s)" % (
            tag, worst_d["disabled_ms"][i] / worst_d["all_ms"], worst_d["model"]))
    transformer = [r for r in rows if r["model"] in SEQUENCE or r["model"] == "vit_b_16"]
    for t in threads:
        g = [r["all_t%d" % t][2] / r["all_t%d" % t][0] for r in transformer
             if r.get("all_t%d" % t)]
        if g:
            summary.append("- geomean ort-cpu / original, transformer models, level all, %d "
                           "thread%s: x%.3f" % (t, "s" if t > 1 else "",
                                                 math.exp(sum(math.log(x) for x in g) / len(g))))
    print("\n".join(table + [""] + summary))
    if args.md:
        head = ["## Targets in ONNX Runtime", "",
                "Command: `%s`. ONNX Runtime 1.30, batch 1 (sequence models at 16 and 128 "
                "tokens), medians of interleaved runs (perf/ort_latency.js); ratios to the "
                "original in the same process, below 1 is faster. NCHWc is the host's "
                "variant (%s). With 2 threads workers do not spin between runs. The machine "
                "is a shared 2-core VM." % (args.command, rows[0].get("nchwc_target", "")), ""]
        corpus.write_md_section(args.md, "bench_targets", head, summary + [""] + table)


if __name__ == "__main__":
    main()
