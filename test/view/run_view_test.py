#!/usr/bin/python3
"""--emit=html in a real browser (headless Chromium).

    /usr/bin/python3 test/view/run_view_test.py ONNX_OPT WORK_DIR [--models NAME:OP,...]

For raw exports of ResNet-50 and ViT-B/16 (1,483 nodes; tools/corpus's
definitions): `onnx-opt raw.onnx -O2 -o page.html`, then Chromium loads the
page with `#search=OP` and the test reads the DOM it ends with: the number
of node elements equals the two graphs' node counts (before and after the
pipeline), the search found every node of the op in both, removed nodes are
marked, and the op table has a row per op. A screenshot of each page stays
in WORK_DIR (the test's artifact). Then a page without a pipeline (one
graph), and the error without Graphviz's dot. Prints `N passed, N failed`.
"""
import os
import re
import shutil
import subprocess
import sys

import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "corpus"))
import onnxopt_corpus as corpus  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]


def export(name, path):
    cfg = corpus.MODELS[name]
    inputs, dyn = cfg["inputs"], corpus.dynamic_axes(cfg["inputs"], cfg["dyn"], [])
    model = corpus.build(name, 0)
    args = tuple(torch.zeros(shape, dtype=torch.int64 if bounds else torch.float32)
                 for (_, shape, _, bounds) in inputs)
    corpus.export(model, args, path, [i[0] for i in inputs], ["output"],
                  dict(dyn, output={0: "batch"}), raw=True)


def count_ops(path):
    m = onnx.load(path, load_external_data=False)
    counts = {}

    def walk(g):
        for n in g.node:
            counts[n.op_type] = counts.get(n.op_type, 0) + 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
    walk(m.graph)
    return counts


def dom(page, fragment):
    p = subprocess.run([CHROMIUM] + FLAGS + ["--dump-dom", "file://%s#%s" % (page, fragment)],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or "<body" not in p.stdout:
        raise AssertionError("chromium: exit %d: %s" % (p.returncode, p.stderr[-500:]))
    return p.stdout


def screenshot(page, png, fragment):
    subprocess.run([CHROMIUM] + FLAGS + ["--window-size=1600,1000", "--screenshot=" + png,
                                         "file://%s#%s" % (page, fragment)],
                   capture_output=True, timeout=300)
    if not os.path.exists(png) or os.path.getsize(png) == 0:
        raise AssertionError("no screenshot")


def check_model(onnx_opt, work, name, op):
    raw = os.path.join(work, name + ".raw.onnx")
    export(name, raw)
    out = os.path.join(work, name + ".O2.onnx")
    page = os.path.join(work, name + ".html")
    subprocess.run([onnx_opt, raw, "-O2", "-o", out], check=True, capture_output=True)
    p = subprocess.run([onnx_opt, raw, "-O2", "-o", page], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    before, after = count_ops(raw), count_ops(out)
    d = dom(page, "search=" + op)
    nodes = int(re.search(r'<body data-nodes="(\d+)"', d).group(1))
    want = sum(before.values()) + sum(after.values())
    assert nodes == want, "%d node elements, the graphs have %d" % (nodes, want)
    assert len(re.findall(r'<g id="[ab]-n\d+" class="node op', d)) == want
    hits = int(re.search(r'id="matches" data-count="(\d+)"', d).group(1))
    want_hits = before.get(op, 0) + after.get(op, 0)
    assert hits == want_hits, "search %s: %d matches, want %d" % (op, hits, want_hits)
    assert len(re.findall(r'class="node op[^"]*\bhit\b', d)) == hits
    removed = len(re.findall(r'class="node op removed', d))
    assert removed > 0, "no node marked removed"
    rows = len(re.findall(r"<tr><td>", d))
    assert rows == len(set(before) | set(after)), "%d op rows" % rows
    screenshot(page, os.path.join(work, name + ".png"), "search=" + op)
    return "%d node elements, search '%s' found %d, %d marked removed, %d op rows; " \
           "%s kept" % (nodes, op, hits, removed, rows, name + ".png")


def check_single(onnx_opt, work):
    sample = os.path.join(HERE, "..", "..", "examples", "models", "sample.onnxtxt")
    page = os.path.join(work, "sample.html")
    subprocess.run([onnx_opt, sample, "--emit=html", "-o", page], check=True,
                   capture_output=True)
    d = dom(page, "search=Relu")
    assert '<body data-nodes="3"' in d, "one graph of 3 nodes"
    assert 'data-count="1"' in d and "pane1" not in d
    env = dict(os.environ, PATH="/nonexistent")
    p = subprocess.run([os.path.abspath(onnx_opt), sample, "-o", os.path.join(work, "x.html")],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 1 and "Graphviz's dot" in p.stderr, (p.returncode, p.stderr)
    assert not os.path.exists(os.path.join(work, "x.html"))
    return "one graph without a pipeline; without dot: exit 1, nothing written"


def main():
    onnx_opt, work = sys.argv[1], sys.argv[2]
    # --models NAME:OP,... (default: ResNet-50 and ViT-B/16; the sanitizer
    # build, an unoptimized one, takes a small model).
    models = [("resnet50", "Conv"), ("vit_b_16", "LayerNormalization")]
    if "--models" in sys.argv:
        spec = sys.argv[sys.argv.index("--models") + 1]
        models = [tuple(m.split(":")) for m in spec.split(",")]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if not CHROMIUM:
        print("FAIL chromium is not installed (scripts/deps.sh --test installs it)")
        return 1
    report = corpus.Report()
    for name, op in models:
        report.run(name, lambda name=name, op=op: check_model(onnx_opt, work, name, op))
    report.run("sample", lambda: check_single(onnx_opt, work))
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
