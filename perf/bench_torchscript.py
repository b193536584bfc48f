#!/usr/bin/python3
"""onnx-opt's TorchScript frontend against torch.onnx.export, same modules, same run.

    /usr/bin/python3 perf/bench_torchscript.py ONNX_OPT [--work DIR] [--only a,b]
                                               [--runs N] [--out perf/TORCHSCRIPT.md]

For each model, perf/make_corpus.py (run here, so its timings are from this run)
builds the module (random weights, fixed seeds) and writes torch.onnx.export's
opset-17 output (`<name>.onnx`, constant folding on, dynamic batch/seq axes) and
torch.jit.trace / torch.jit.script archives. Then, per model:

  - onnx-opt `m.trace.pt` and `m.script.pt` with `--input-shape` and `-O2`
    (whole process: libtorch load, freeze, lowering, passes, write);
  - node counts of torch.onnx.export's output and of onnx-opt's;
  - ONNX Runtime median latency at batch 1 (sequence length 16) of each output,
    with ORT's graph optimizations disabled and at `all` (perf/ort_run.js, one
    thread).

torch.onnx.export's time is the export call inside a running Python (torch
already imported), as make_corpus.py measures it; onnx-opt's is a whole process.
Writes the rows as JSON (--json, perf/torchscript.json) and a Markdown table
with a reading of it (--out, perf/TORCHSCRIPT.md), and prints it; --rewrite
regenerates the Markdown from the JSON. A benchmark, not a test.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "corpus"))
import onnxopt_corpus as corpus  # noqa: E402

SEGMENTATION = ["fcn_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"]
DETECTION = ["ssdlite320_mobilenet_v3_large", "retinanet_resnet50_fpn",
             "fasterrcnn_mobilenet_v3_large_320_fpn"]
MODELS = corpus.CLASSIFIERS + corpus.SEQUENCE + SEGMENTATION + DETECTION


def shape_args(spec):
    """onnx-opt's --input-shape for a corpus model's input spec (dtypes come
    from forward()'s use of each argument)."""
    args = []
    for name, shape, dtype, _ in spec["inputs"]:
        if spec["family"] == "detection":  # traced for one image: batch 1
            args += ["--input-shape", "x=%s" % ",".join(str(d) for d in shape)]
            continue
        if spec["family"] in ("cnn", "transformer", "segmentation") and len(shape) == 4:
            args += ["--input-shape", "x=batch,%d,%d,%d" % tuple(shape[1:])]
            continue
        dims = ["batch", "seq"] + [str(d) for d in shape[2:]]
        args += ["--input-shape", "%s=%s" % (name, ",".join(dims))]
    return args


def nodes(path):
    import onnx
    return len(onnx.load(path, load_external_data=False).graph.node)


def latency(path, runs, env):
    out = {}
    for level in ("disabled", "all"):
        p = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), path, "--level", level,
                            "--runs", str(runs), "--warmup", "1", "--json", "--dim", "batch=1",
                            "--dim", "seq=16"], capture_output=True, text=True, env=env)
        line = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
        res = json.loads(line[-1][7:]) if line else {}
        out[level] = res.get("timing", {}).get("median_ms")
    return out


def fmt(x, spec="%.2f"):
    return "-" if x is None else spec % x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("--work", default=os.path.join(HERE, "cache", "torchscript"))
    ap.add_argument("--only")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(HERE, "TORCHSCRIPT.md"))
    ap.add_argument("--json", default=os.path.join(HERE, "torchscript.json"))
    ap.add_argument("--rewrite", action="store_true",
                    help="only rewrite --out from --json (no measuring)")
    a = ap.parse_args()
    if a.rewrite:
        saved = json.load(open(a.json))
        write_markdown(a.out, saved["commit"], saved["runs"], saved["rows"])
        return
    names = a.only.split(",") if a.only else MODELS
    env = dict(os.environ)
    env.setdefault("ORT_NODE_MODULES", os.path.join(HERE, "..", "tools", "ort", "node_modules"))
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), "--out", a.work,
                    "--only", ",".join(names)], check=True, capture_output=True)
    summary = json.load(open(os.path.join(a.work, "models", "summary.json")))["models"]
    rows = []
    for name in names:
        rec = summary[name]
        ref = os.path.join(a.work, "models", name + ".onnx")
        row = dict(name=name, export_s=rec["variants"]["default"].get("export_s"),
                   export_nodes=nodes(ref), export_lat=latency(ref, a.runs, env))
        for kind in ("trace", "script"):
            pt = os.path.join(a.work, "torchscript", "%s.%s.pt" % (name, kind))
            out = os.path.join(a.work, "%s.%s.onnx" % (name, kind))
            if not os.path.exists(pt):
                row[kind] = dict(status="no archive")
                continue
            t0 = time.time()
            p = subprocess.run([a.onnx_opt, pt, "-O2", "-o", out] +
                               shape_args(corpus.MODELS[name]),
                               capture_output=True, text=True)
            wall = time.time() - t0
            if p.returncode != 0:
                row[kind] = dict(status="exit %d: %s" % (p.returncode, p.stderr.strip()[-120:]))
                continue
            row[kind] = dict(status="ok", seconds=wall, nodes=nodes(out),
                             lat=latency(out, a.runs, env))
        rows.append(row)
        print(json.dumps(row), flush=True)
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    for row in rows:
        row["commit"] = commit
    if a.only and os.path.exists(a.json):
        # The other models keep their rows from the last run.
        measured = {r["name"] for r in rows}
        rows += [r for r in json.load(open(a.json))["rows"] if r["name"] not in measured]
        rows.sort(key=lambda r: MODELS.index(r["name"]) if r["name"] in MODELS else 99)
    json.dump(dict(commit=commit, runs=a.runs, rows=rows), open(a.json, "w"), indent=1)
    write_markdown(a.out, commit, a.runs, rows)


def older(rows, commit):
    """The sentence naming rows kept from an earlier run (--only measures some)."""
    kept = {}
    for r in rows:
        if r.get("commit") != commit:
            kept.setdefault(r.get("commit", "an earlier commit"), []).append(r["name"])
    if not kept:
        return ""
    return " Rows kept from earlier runs (not in that run's --only): " + "; ".join(
        "%s at %s" % (", ".join(names), c) for c, names in kept.items()) + "."


def write_markdown(path, commit, runs, rows):
    lines = [
        "# TorchScript frontend vs torch.onnx.export",
        "",
        "Generated by `/usr/bin/python3 perf/bench_torchscript.py build/onnx-opt` at commit "
        "%s on this 2-core machine (one ORT thread, batch 1, sequence length 16, median of %d "
        "runs). torch.onnx.export: opset 17, constant folding on, timed inside a running "
        "Python; onnx-opt: `onnx-opt m.pt --input-shape ... -O2`, timed as a whole process "
        "(libtorch load included). Latency in ms with ORT's graph optimizations disabled / "
        "at `all`.%s" % (commit, runs, older(rows, commit)),
        "",
        "| model | export nodes | export s | export ms (off / all) | trace nodes | trace s "
        "| trace ms (off / all) | script nodes | script s | script ms (off / all) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r["name"], str(r["export_nodes"]), fmt(r["export_s"]),
                 "%s / %s" % (fmt(r["export_lat"]["disabled"]), fmt(r["export_lat"]["all"]))]
        for kind in ("trace", "script"):
            k = r[kind]
            if k["status"] != "ok":
                cells += [k["status"], "-", "-"]
            else:
                cells += [str(k["nodes"]), fmt(k["seconds"]),
                          "%s / %s" % (fmt(k["lat"]["disabled"]), fmt(k["lat"]["all"]))]
        lines.append("| " + " | ".join(cells) + " |")
    ok = [r for r in rows if r["trace"]["status"] == "ok"]
    fewer = [r["name"] for r in ok if r["trace"]["nodes"] < r["export_nodes"]]
    more = [r["name"] for r in ok if r["trace"]["nodes"] > r["export_nodes"]]
    faster = [r["name"] for r in ok if r["trace"]["seconds"] < (r["export_s"] or 0)]
    slower = ["%s (%.2f vs %.2f ms)" % (r["name"], r["trace"]["lat"]["all"], r["export_lat"]["all"])
              for r in ok if r["trace"]["lat"]["all"] and r["export_lat"]["all"] and
              r["trace"]["lat"]["all"] > 1.1 * r["export_lat"]["all"]]
    differ = ["%s (%d nodes vs %d traced; %s vs %s ms at `all`)" % (
        r["name"], r["script"]["nodes"], r["trace"]["nodes"], fmt(r["script"]["lat"]["all"]),
        fmt(r["trace"]["lat"]["all"]))
        for r in ok if r["script"]["status"] == "ok" and r["script"]["nodes"] != r["trace"]["nodes"]]
    lines += [
        "",
        "Reading (traced column; the scripted one converts to the same graphs but where "
        "listed below):",
        "",
        "- Nodes: fewer than torch.onnx.export on %d of %d models, equal on %d, more on %d%s."
        % (len(fewer), len(ok), len(ok) - len(fewer) - len(more), len(more),
           (" (" + ", ".join(more) + ")") if more else ""),
        "- Conversion: onnx-opt's whole process is faster than the export call alone on "
        "%d of %d (%s); on the small models libtorch's load (about 0.5 s) dominates."
        % (len(faster), len(ok), ", ".join(faster)),
        "- ONNX Runtime latency at `all`, more than 10%% above torch.onnx.export's output: %s. "
        "Differences under 10%% are within this machine's run-to-run noise at these sizes."
        % (", ".join(slower) if slower else "none"),
        "- Scripted graphs that differ from the traced ones: %s. A scripted detection model "
        "keeps torchvision's run-time choices (its loops over images and levels unrolled, "
        "batched NMS as an If on the box count: above 1000 boxes a Loop running NMS per "
        "class over Unique's classes, else one NMS over offset boxes); a trace keeps the "
        "path its example image took." % ("; ".join(differ) if differ else "none"),
    ]
    open(path, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
