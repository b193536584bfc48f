#!/usr/bin/python3
"""onnx-opt against ONNX Runtime's offline optimizer on the corpus, in one run.

    /usr/bin/python3 perf/bench_corpus.py ONNX_OPT CORPUS_DIR [--quick] [--repeat 3]
        [--md perf/RESULTS.md] [--json perf/results.json]

CORPUS_DIR/models/*.onnx comes from perf/make_corpus.py (tools/corpus/onnxopt_corpus.py's
models, the same files as shared/corpus/make_corpus.py's:
`/usr/bin/python3 perf/make_corpus.py --out DIR --no-ts`).
Per model: onnx-opt -O1 and -O2 as whole processes (median wall time of --repeat
runs; load/passes/write split from --report; peak RSS from /usr/bin/time), and ONNX
Runtime 1.30's offline optimization at basic and extended level (perf/ort_opt.js:
the whole `node` process, and InferenceSession.create alone), with node counts of
every output. onnxoptimizer and OnnxSlim cannot be installed here (no PyPI): their
node counts come from shared/corpus/peers.md when it is beside the repository.
With --latency (default on; --no-latency skips it) every output (the original,
onnx-opt -O2's, ORT basic's and ORT extended's) is also run in ONNX Runtime
(perf/ort_run.js, 1 thread, seeded inputs): session creation time and median
inference latency at batch 1 and 8 (models with a batch axis), with ORT's own
graph optimizations disabled and at `all`. Writes perf/RESULTS.md, perf/results.json
and two SVG charts (perf/optimize_time.svg, perf/latency.svg).
A benchmark: it asserts nothing.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# Beside this script (its directory is on sys.path when run as a script).
import bench_io
import bench_passes

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


def has_batch(path):
    """Whether a graph input has a `batch` dim (the detection models do not)."""
    import onnx  # python3-onnx, as for the corpus itself
    m = onnx.load(path, load_external_data=False)
    return any(d.dim_param == "batch" for i in m.graph.input
               for d in i.type.tensor_type.shape.dim)


def measure_latency(outputs, batched, runs, env):
    """{output: {"create_ms": .., "b1_disabled": ms, "b1_all": ms, "b8_...": ms}}."""
    out = {}
    for key, path in outputs.items():
        if not os.path.exists(path):
            continue
        rec = {}
        for batch in (1, 8) if batched else (1,):
            for level in ("disabled", "all"):
                p = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), path, "--level",
                                    level, "--runs", str(runs), "--warmup", "1", "--json",
                                    "--dim", "batch=%d" % batch], capture_output=True,
                                   text=True, env=env)
                line = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
                res = json.loads(line[-1][7:]) if line else {}
                if "timing" in res:
                    rec["b%d_%s" % (batch, level)] = res["timing"]["median_ms"]
                    if batch == 1 and level == "all":
                        rec["create_ms"] = res["create_ms"]
        out[key] = rec
    return out


def svg_bars(path, title, unit, groups, series, log=True):
    """A horizontal grouped bar chart: groups = [(label, {series: value})]."""
    import math
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    vals = [v for _, d in groups for v in d.values() if v and v > 0]
    if not vals:
        return
    lo, hi = min(vals), max(vals)
    lo = 10 ** math.floor(math.log10(lo)) if log else 0
    hi = 10 ** math.ceil(math.log10(hi)) if log else hi * 1.05
    bar, gap, left, width = 9, 8, 260, 560
    height = 70 + len(groups) * (bar * len(series) + gap) + 40

    def x(v):
        if log:
            return left + width * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return left + width * v / hi

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'font-family="sans-serif" font-size="11">' % (left + width + 30, height),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="10" y="20" font-size="14" font-weight="bold">%s</text>' % title]
    for i, s in enumerate(series):
        o.append('<rect x="%d" y="32" width="10" height="10" fill="%s"/>'
                 '<text x="%d" y="41">%s</text>' % (10 + i * 170, colors[i], 25 + i * 170, s))
    y = 60
    ticks = []
    if log:
        t = lo
        while t <= hi * 1.0001:
            ticks.append(t)
            t *= 10
    else:
        ticks = [hi * k / 4 for k in range(5)]
    for t in ticks:
        o.append('<line x1="%.1f" y1="55" x2="%.1f" y2="%d" stroke="#ddd"/>'
                 '<text x="%.1f" y="%d" text-anchor="middle">%g %s</text>'
                 % (x(t) if t > 0 else left, x(t) if t > 0 else left, height - 30,
                    x(t) if t > 0 else left, height - 15, t, unit))
    for label, d in groups:
        o.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                 % (left - 6, y + bar * len(series) / 2 + 4, label))
        for i, s in enumerate(series):
            v = d.get(s)
            if v and v > 0:
                o.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: '
                         '%g %s</title></rect>' % (left, y, max(1.0, x(v) - left), bar - 1,
                                                   colors[i], label, s, v, unit))
            y += bar
        y += gap
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt", nargs="?")
    ap.add_argument("corpus", nargs="?")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-latency", dest="latency", action="store_false")
    ap.add_argument("--runs", type=int, default=5, help="timed inference runs per setting")
    ap.add_argument("--svg-dir", default=HERE)
    ap.add_argument("--md", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--json", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--no-scaling", dest="scaling", action="store_false",
                    help="skip the scaling studies (generated graphs, big external weights)")
    ap.add_argument("--gib", type=int, default=None,
                    help="external weights of the I/O study (default 4, 1 with --quick)")
    ap.add_argument("--render-only", action="store_true",
                    help="measure nothing: rewrite RESULTS.md and the charts from --json")
    args = ap.parse_args()
    if args.render_only:
        with open(args.json) as f:
            render(args, json.load(f))
        return
    if not args.onnx_opt or not args.corpus:
        ap.error("ONNX_OPT and CORPUS are required unless --render-only")
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
                # A fresh output file each run, as a user writes one (replacing
                # an existing file costs the kernel freeing its pages too).
                for stale in (os.path.join(work, "o.onnx"),):
                    if os.path.exists(stale):
                        os.remove(stale)
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
                              "split_s": rep["seconds"],
                              "nodes": rep["after"]["main_graph_nodes"],
                              "nodes_with_subgraphs": rep["after"]["nodes"],
                              "glue": glue_of(rep["after"]["main_graph_ops"]),
                              "ops": rep["after"]["main_graph_ops"],
                              "weight_bytes": rep["after"]["weight_bytes"]}
                row["nodes_in"] = rep["before"]["main_graph_nodes"]
                row["glue_in"] = glue_of(rep["before"]["main_graph_ops"])
        for level in ("basic", "extended"):
            walls, create = [], None
            for _ in range(args.repeat):
                if os.path.exists(os.path.join(work, "ort_%s.onnx" % level)):
                    os.remove(os.path.join(work, "ort_%s.onnx" % level))
                w, _, p = timed(["node", os.path.join(HERE, "ort_opt.js"), model,
                                 os.path.join(work, "ort_%s.onnx" % level), level,
                                 "--repeat", "1", "--json"], env=env)
                if p.returncode != 0:
                    break
                walls.append(w)
                out = json.loads(p.stdout.strip().splitlines()[-1])
                create = out["create_ms"] / 1e3
                row["ort_" + level] = {"wall_s": statistics.median(walls),
                                       "create_s": create, "nodes": out["nodes_out"]}
        row["peers"] = peers.get(name, {})
        if args.latency:
            # Keep this model's -O2 output for the latency runs.
            subprocess.run([args.onnx_opt, model, "-O2", "-o", os.path.join(work, "o2.onnx")],
                           capture_output=True)
            outputs = {"original": model, "O2": os.path.join(work, "o2.onnx"),
                       "ort_basic": os.path.join(work, "ort_basic.onnx"),
                       "ort_extended": os.path.join(work, "ort_extended.onnx")}
            row["latency"] = measure_latency(outputs, has_batch(model), args.runs, env)
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
    data = {"commit": commit, "cpu": cpu, "cores": os.cpu_count(), "rows": rows,
            "settings": {"quick": args.quick, "repeat": args.repeat, "runs": args.runs,
                         "latency": args.latency},
            "scaling": run_scaling(args, work) if args.scaling else None}
    with open(args.json, "w") as f:
        json.dump(data, f, indent=1)
    print("wrote", args.json)
    render(args, data)


# Sections other benchmarks write into RESULTS.md (perf/bench_o3.py), kept
# when this one rewrites the file: `<!-- NAME:begin -->` ... `<!-- NAME:end -->`.
SECTION = re.compile(r"<!-- (\S+):begin -->.*?<!-- \1:end -->\n?", re.S)


def kept_sections(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [m.group(0) for m in SECTION.finditer(f.read())]


def render(args, data):
    """RESULTS.md and the charts from the measured data (results.json)."""
    kept = kept_sections(args.md)
    rows, commit, cpu = data["rows"], data["commit"], data["cpu"]
    st = data.get("settings", {"quick": False, "repeat": 3, "runs": 5, "latency": True})
    scaling = data.get("scaling")
    with open(args.md, "w") as f:
        f.write("# onnx-opt against the peers\n\n")
        f.write("Commit `%s`, %s, %d cores. Command: `/usr/bin/python3 perf/bench_corpus.py "
                "build/onnx-opt CORPUS%s --repeat %d` (CORPUS from `perf/make_corpus.py "
                "--no-ts`). Times are whole processes, median of %d runs, in seconds; "
                "`ORT ext / -O2` is the speed ratio in this run. The machine is a shared "
                "2-core VM: single latencies move by 5-30%% between runs. Node counts of "
                "onnxoptimizer and OnnxSlim are from shared/corpus/peers.md (they cannot be "
                "installed here).\n\n" % (commit, cpu, data["cores"],
                                          " --quick" if st["quick"] else "", st["repeat"],
                                          st["repeat"]))
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
    if st["latency"]:
        write_latency(args, rows, st["runs"])
    if scaling:
        write_scaling(args, scaling, st["repeat"])
    write_targets(args, rows, scaling)
    with open(args.md, "a") as f:
        for section in kept:
            f.write("\n" + section)
    charts(args, rows)
    print("wrote", args.md)


OUTPUTS = ("original", "O2", "ort_basic", "ort_extended")


def write_latency(args, rows, runs):
    with open(args.md, "a") as f:
        f.write("\n## Inference latency of the outputs\n\nONNX Runtime 1.30, 1 thread, "
                "median of %d runs after a warm-up (ms), seeded inputs. `dis` = the session's "
                "graph optimizations disabled (the graph as written), `all` = enabled (what a "
                "user gets). ORT extended's output contains com.microsoft fused ops. Session "
                "creation (ms, level all, batch 1) in the last columns.\n\n" % runs)
        f.write("| model | batch | original dis / all | -O2 dis / all | ORT basic out dis / all "
                "| ORT ext out dis / all | create: original / -O2 / basic / ext |\n")
        f.write("|" + "---|" * 7 + "\n")
        for r in rows:
            lat = r.get("latency", {})
            for batch in (1, 8):
                cells = []
                for o in OUTPUTS:
                    d = lat.get(o, {})
                    a, b = d.get("b%d_disabled" % batch), d.get("b%d_all" % batch)
                    cells.append("-" if a is None else "%.1f / %.1f" % (a, b or float("nan")))
                if all(c == "-" for c in cells):
                    continue
                create = " / ".join("%.0f" % lat.get(o, {}).get("create_ms", float("nan"))
                                    for o in OUTPUTS) if batch == 1 else ""
                f.write("| %s | %d | %s | %s |\n" % (r["model"], batch, " | ".join(cells),
                                                       create))


def run_scaling(args, work):
    """Runs the scaling studies (perf/bench_passes.py, perf/bench_io.py)."""
    gib = args.gib or (1 if args.quick else 4)
    passes = bench_passes.run(args.onnx_opt, os.path.join(work, "scaling"), repeat=args.repeat)
    io = bench_io.run(args.onnx_opt, os.path.join(work, "io"), gib=gib, repeat=args.repeat)
    shutil.rmtree(os.path.join(work, "io"), ignore_errors=True)
    return {"passes": passes, "io": io}


def write_scaling(args, scaling, repeat):
    passes, io = scaling["passes"], scaling["io"]
    with open(args.md, "a") as f:
        f.write("\n## Scaling: pass time per node\n\n`perf/bench_passes.py` in this run: "
                "generated graphs (chains of Relu/Add/Identity/Mul with duplicate and dead "
                "nodes, so every -O1 pass has work), time inside passes from `--report` "
                "(verify-each on), median of %d runs.\n\n" % repeat)
        f.write("\n".join(bench_passes.table(passes)) + "\n")
        f.write("\n## Scaling: load and write against cp\n\n`perf/bench_io.py` in this run: "
                "`onnx-opt IN -o OUT` (empty pipeline) against `cp` of the same bytes, median "
                "of %d runs; peak anon is RssAnon sampled from /proc (mapped file pages "
                "excluded).\n\n" % repeat)
        f.write("\n".join(bench_io.table(io)) + "\n")


def write_targets(args, rows, scaling):
    """How far each target of the issue is, from this run's numbers."""
    ratios = [r["ort_extended"]["wall_s"] / r["O2"]["wall_s"] for r in rows
              if r.get("O2") and r.get("ort_extended")]
    mem = [(r["model"], r["O2"]["rss_kib"] / 1024, r["bytes"] / 2 ** 20) for r in rows
           if r.get("O2")]
    over = [(m, rss, size) for m, rss, size in mem if rss > size + 64]
    slower = []
    for r in rows:
        lat = r.get("latency", {})
        ours = lat.get("O2", {}).get("b1_all")
        peers = [lat.get(o, {}).get("b1_all") for o in ("ort_basic",)]
        peers = [p for p in peers if p]
        if ours and peers and ours > min(peers) * 1.05:
            slower.append((r["model"], ours, min(peers), noise_note(r, rows)))
    with open(args.md, "a") as f:
        f.write("\n## Targets\n\n")
        if ratios:
            f.write("- `-O2` at least 5x faster than ORT's offline extended optimization, as "
                    "whole processes: %d of %d models (min %.1fx, median %.1fx, max %.1fx).\n"
                    % (sum(x >= 5 for x in ratios), len(ratios), min(ratios),
                       statistics.median(ratios), max(ratios)))
        if mem:
            f.write("- Peak memory at most the file size + 64 MiB: %d of %d models%s.\n"
                    % (len(mem) - len(over), len(mem),
                       "" if not over else "; over: " + ", ".join(
                           "%s %.0f MiB for %.0f MiB" % o for o in over[:6])))
        if any(r.get("latency") for r in rows):
            f.write("- -O2 outputs no slower in ONNX Runtime (level all, batch 1) than ORT "
                    "basic's output (within 5%%): %s.\n"
                    % ("all models" if not slower else "slower on " + ", ".join(
                        "%s %.1f vs %.1f ms%s" % s for s in slower)))
        if scaling:
            per = [(r["nodes"], r["o1_passes_s"] * 1e6 / r["nodes"]) for r in scaling["passes"]]
            f.write("- Time per node flat from 1k to 100k nodes: -O1 %s µs per node "
                    "(largest / smallest %.1fx).\n" % (
                        ", ".join("%.2f at %d" % (u, n) for n, u in per),
                        per[-1][1] / per[0][1]))
        else:
            f.write("- Time per node flat from 1k to 100k nodes: not run (--no-scaling).\n")


def noise_note(row, rows):
    """For a model whose -O2 output looked slower: if its raw/default twin's -O2
    output has the same op histogram and was not slower, the two are most
    likely the same graph and the difference the machine's noise; say so."""
    name = row["model"]
    twin = name[:-4] if name.endswith(".raw") else name + ".raw"
    other = next((r for r in rows if r["model"] == twin), None)
    if not other or other.get("O2", {}).get("ops") != row.get("O2", {}).get("ops"):
        return ""
    lat = other.get("latency", {})
    ours = lat.get("O2", {}).get("b1_all")
    basic = lat.get("ort_basic", {}).get("b1_all")
    if ours and basic and ours <= basic * 1.05:
        return (" (its -O2 output has the op histogram of %s's, which ran %.1f vs %.1f: "
                "likely noise)" % (twin, ours, basic))
    return ""


def charts(args, rows):
    svg_bars(os.path.join(args.svg_dir, "optimize_time.svg"),
             "Optimize time per model, whole process (s, log scale)", "s",
             [(r["model"], {"onnx-opt -O2": r.get("O2", {}).get("wall_s"),
                            "ORT basic": r.get("ort_basic", {}).get("wall_s"),
                            "ORT extended": r.get("ort_extended", {}).get("wall_s")})
              for r in rows], ["onnx-opt -O2", "ORT basic", "ORT extended"])
    if any(r.get("latency") for r in rows):
        svg_bars(os.path.join(args.svg_dir, "latency.svg"),
                 "ONNX Runtime latency, batch 1, 1 thread, level all (ms, log scale)", "ms",
                 [(r["model"], {k: r.get("latency", {}).get(o, {}).get("b1_all") for k, o in
                                (("original", "original"), ("onnx-opt -O2", "O2"),
                                 ("ORT basic output", "ort_basic"),
                                 ("ORT extended output", "ort_extended"))})
                  for r in rows],
                 ["original", "onnx-opt -O2", "ORT basic output", "ORT extended output"])


if __name__ == "__main__":
    main()
