#!/usr/bin/python3
"""onnx-opt against ONNX Runtime's offline optimizer on the corpus, in one run.

    /usr/bin/python3 perf/bench_corpus.py ONNX_OPT CORPUS_DIR [--quick] [--repeat 3]
        [--md perf/RESULTS.md] [--json perf/results.json]

CORPUS_DIR/models/*.onnx comes from perf/make_corpus.py (a copy of
shared/corpus/make_corpus.py: `/usr/bin/python3 perf/make_corpus.py --out DIR --no-ts`).
Per model: onnx-opt -O1 and -O2 as whole processes (median wall time of --repeat
runs; load/passes/write split from --report; peak RSS from /usr/bin/time), and ONNX
Runtime 1.30's offline optimization at basic and extended level (perf/ort_opt.js:
the whole `node` process, and InferenceSession.create alone), with node counts of
every output. onnxoptimizer and OnnxSlim cannot be installed here (no PyPI): their
node counts come from shared/corpus/peers.md when it is beside the repository.
A benchmark: it asserts nothing.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = ["resnet50", "resnet50.raw", "mobilenet_v3_large.raw", "efficientnet_b0.raw",
         "lstm_bidir.raw", "gru_lm.raw", "tiny_gpt.raw"]


def timed(cmd, env=None):
    """Wall seconds and peak RSS (KiB) of a whole process."""
    t0 = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True,
                       text=True, env=env)
    wall = time.time() - t0
    m = re.search(r"MAXRSS (\d+)", p.stderr)
    return wall, int(m.group(1)) if m else -1, p


GLUE = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice", "Constant",
        "Reshape", "Expand", "ConstantOfShape"}
PEERS = ("ort_basic", "ort_extended", "onnxoptimizer", "onnxslim")


def glue_of(ops):
    return sum(n for op, n in ops.items() if op in GLUE)


def peers_table():
    """model -> {peer: {nodes, glue, ok}} from shared/corpus/peers.md (cells
    `nodes / glue · seconds flags`; flag x or E: the output is wrong or does
    not run)."""
    path = os.path.join(HERE, "..", "..", "shared", "corpus", "peers.md")
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not re.match(r"^\d+ /", cells[2] or ""):
            continue
        row = {}
        for peer, cell in zip(PEERS, cells[2:]):
            m = re.match(r"^(\d+) / (\d+)(.*)$", cell)
            if m:
                flags = m.group(3).split("s", 1)[-1] if "\u00b7" in m.group(3) else m.group(3)
                row[peer] = {"nodes": int(m.group(1)), "glue": int(m.group(2)),
                             "ok": not re.search(r"\b[xE]\b", flags)}
        out[cells[0]] = row
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("corpus")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--md", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--json", default=os.path.join(HERE, "results.json"))
    args = ap.parse_args()
    models_dir = os.path.join(args.corpus, "models")
    names = sorted(f[:-5] for f in os.listdir(models_dir) if f.endswith(".onnx"))
    if args.quick:
        names = [n for n in names if n in QUICK]
    env = dict(os.environ, ORT_NODE_MODULES=os.path.join(HERE, "..", "tools", "ort",
                                                         "node_modules"))
    peers = peers_table()
    work = tempfile.mkdtemp(prefix="onnxopt-bench-")
    rows = []
    for name in names:
        model = os.path.join(models_dir, name + ".onnx")
        row = {"model": name, "bytes": os.path.getsize(model)}
        for level in ("O1", "O2"):
            walls, rss, rep = [], -1, None
            for _ in range(args.repeat):
                report = os.path.join(work, "r.json")
                w, r, p = timed([args.onnx_opt, model, "-" + level, "-o",
                                 os.path.join(work, "o.onnx"), "--report=" + report])
                if p.returncode != 0:
                    print("onnx-opt -%s failed on %s: %s" % (level, name, p.stderr[-300:]))
                    break
                walls.append(w)
                rss = max(rss, r)
                rep = json.load(open(report))
            if rep:
                row[level] = {"wall_s": statistics.median(walls), "rss_kib": rss,
                              "split_s": rep["seconds"], "nodes": rep["after"]["nodes"],
                              "glue": glue_of(rep["after"]["ops"])}
                row["nodes_in"] = rep["before"]["nodes"]
                row["glue_in"] = glue_of(rep["before"]["ops"])
        for level in ("basic", "extended"):
            walls, create = [], None
            for _ in range(args.repeat):
                w, _, p = timed(["node", os.path.join(HERE, "ort_opt.js"), model,
                                 os.path.join(work, "ort.onnx"), level, "--repeat", "1",
                                 "--json"], env=env)
                if p.returncode != 0:
                    break
                walls.append(w)
                out = json.loads(p.stdout.strip().splitlines()[-1])
                create = out["create_ms"] / 1e3
                row["ort_" + level] = {"wall_s": statistics.median(walls),
                                       "create_s": create, "nodes": out["nodes_out"]}
        row["peers"] = peers.get(name, {})
        rows.append(row)
        o2 = row.get("O2", {})
        ext = row.get("ort_extended", {})
        print("%-40s -O2 %4s nodes %.3fs | ORT ext %4s nodes %.3fs | %.1fx" % (
            name, o2.get("nodes"), o2.get("wall_s", float("nan")), ext.get("nodes"),
            ext.get("wall_s", float("nan")),
            ext.get("wall_s", float("nan")) / o2.get("wall_s", float("nan"))))
        sys.stdout.flush()

    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    with open(args.json, "w") as f:
        json.dump({"commit": commit, "cpu": cpu, "cores": os.cpu_count(), "rows": rows}, f,
                  indent=1)
    with open(args.md, "w") as f:
        f.write("# onnx-opt against the peers\n\n")
        f.write("Commit `%s`, %s, %d cores. Command: `/usr/bin/python3 perf/bench_corpus.py "
                "build/onnx-opt CORPUS%s --repeat %d` (CORPUS from `perf/make_corpus.py "
                "--no-ts`). Times are whole processes, median of %d runs, in seconds; "
                "`ORT ext / -O2` is the speed ratio in this run. Node counts of "
                "onnxoptimizer and OnnxSlim are from shared/corpus/peers.md (they cannot be "
                "installed here).\n\n" % (commit, cpu, os.cpu_count(),
                                          " --quick" if args.quick else "", args.repeat,
                                          args.repeat))
        f.write("| model | nodes in | -O1 nodes | -O2 nodes | ORT basic | ORT extended | "
                "onnxoptimizer | OnnxSlim | -O2 s (load/passes/write) | -O2 peak RSS MiB | "
                "ORT basic s | ORT ext s (create) | ORT ext / -O2 |\n")
        f.write("|" + "---|" * 13 + "\n")
        for r in rows:
            o1, o2 = r.get("O1", {}), r.get("O2", {})
            b, e = r.get("ort_basic", {}), r.get("ort_extended", {})
            sp = o2.get("split_s", {})
            f.write("| %s | %s | %s | %s | %s | %s | %s | %s | %.2f (%.2f/%.2f/%.2f) | %.0f | "
                    "%.2f | %.2f (%.2f) | %.1fx |\n" % (
                        r["model"], r.get("nodes_in"), o1.get("nodes"), o2.get("nodes"),
                        b.get("nodes"), e.get("nodes"),
                        r["peers"].get("onnxoptimizer", {}).get("nodes", "-"),
                        r["peers"].get("onnxslim", {}).get("nodes", "-"),
                        o2.get("wall_s", float("nan")),
                        sp.get("load", float("nan")), sp.get("passes", float("nan")),
                        sp.get("write", float("nan")), o2.get("rss_kib", 0) / 1024,
                        b.get("wall_s", float("nan")), e.get("wall_s", float("nan")),
                        e.get("create_s", float("nan")),
                        e.get("wall_s", float("nan")) / o2.get("wall_s", float("nan"))))
        f.write("\nORT extended emits com.microsoft fused ops (not portable ONNX), so its "
                "node counts are the bar for -O3, not -O2.\n")
        f.write("\n## Shape glue at -O1\n\nShape, Gather, Unsqueeze, Squeeze, Concat, Cast, "
                "Slice, Constant, Reshape, Expand and ConstantOfShape nodes at the top level. "
                "Peers' counts from shared/corpus/peers.md; `best` is the lowest among their "
                "correct outputs (flag x or E excluded).\n\n")
        f.write("| model | glue in | -O1 glue | ORT basic | ORT extended | onnxoptimizer | "
                "OnnxSlim | best | -O1 <= best |\n")
        f.write("|" + "---|" * 9 + "\n")
        for r in rows:
            cells, best = [], None
            for peer in PEERS:
                c = r["peers"].get(peer)
                if not c:
                    cells.append("-")
                    continue
                cells.append("%d%s" % (c["glue"], "" if c["ok"] else " (wrong)"))
                if c["ok"]:
                    best = c["glue"] if best is None else min(best, c["glue"])
            ours = r.get("O1", {}).get("glue")
            f.write("| %s | %s | %s | %s | %s | %s |\n" % (
                r["model"], r.get("glue_in"), ours, " | ".join(cells),
                "-" if best is None else best,
                "-" if best is None or ours is None else ("yes" if ours <= best else "**no**")))
    print("wrote", args.md, "and", args.json)


if __name__ == "__main__":
    main()
