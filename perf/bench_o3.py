#!/usr/bin/python3
"""-O3 on the transformer corpus: node counts against ONNX Runtime's extended
(contrib-op) optimization, and latency in ONNX Runtime against the original; -O3 at opset 23 too
(Gelu, Attention, RMSNormalization in standard ONNX).

    /usr/bin/python3 perf/bench_o3.py ONNX_OPT MODELS_DIR [--only a,b]
        [--rounds 6] [--runs 10] [--md perf/RESULTS.md]

For each transformer model of MODELS_DIR (shared/corpus's exports, default
and raw): node counts of the original, onnx-opt -O2, -O3 (portable ONNX),
ONNX Runtime 1.30's offline extended optimization (perf/ort_opt.js, the same
run), -O3 --target=ort-cpu and -O3 --target-opset=23; then the original,
-O2, -O3 and -O3 at opset 23 timed in one
process at graphOptimizationLevel `all`, 1 thread (perf/ort_latency.js:
sessions created once, runs interleaved in rotated order, medians; sequence
models at batch 1 and sequence length 128). Writes a section of RESULTS.md
between `<!-- bench_o3:begin -->` and `<!-- bench_o3:end -->` (replacing
the previous one; perf/bench_corpus.py keeps it when it rewrites the file;
with --only, the other models keep their rows) and prints it. A benchmark: timings are never pass/fail.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "corpus"))
import onnxopt_corpus as corpus  # noqa: E402
MODELS = ["transformer_encoder", "transformer_encoder_prenorm", "tiny_gpt", "vit_b_16",
          "swin_t"]
SEQUENCE = {"transformer_encoder", "transformer_encoder_prenorm", "tiny_gpt"}


def nodes(onnx_opt, src, out, flags):
    p = subprocess.run([onnx_opt, src] + flags + ["-o", out, "--summary"],
                       capture_output=True, text=True, check=True)
    return int(re.search(r"protobuf: (\d+) nodes", p.stderr).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("models_dir")
    ap.add_argument("--only")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--md", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    names = [m + s for m in MODELS for s in ("", ".raw")]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                            capture_output=True, text=True).stdout.strip()
    lines = []
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            src = os.path.join(args.models_dir, name + ".onnx")
            if not os.path.exists(src):
                continue
            o2, o3, ort, o23 = (os.path.join(work, name + s)
                                for s in (".O2.onnx", ".O3.onnx", ".ortcpu.onnx", ".O3-23.onnx"))
            n_o2 = nodes(args.onnx_opt, src, o2, ["-O2"])
            n_o3 = nodes(args.onnx_opt, src, o3, ["-O3"])
            n_ort = nodes(args.onnx_opt, src, ort, ["-O3", "--target=ort-cpu"])
            n_23 = nodes(args.onnx_opt, src, o23, ["-O3", "--target-opset=23"])
            ext = os.path.join(work, name + ".ext.onnx")
            p = subprocess.run(["node", os.path.join(HERE, "ort_opt.js"), src, ext, "extended",
                                "--repeat", "1", "--json"], capture_output=True, text=True,
                               check=True)
            res = json.loads(p.stdout.strip().splitlines()[-1])
            dims = ["--dim", "batch=1"] + (["--dim", "seq=128", "--int-range", "0:500"]
                                           if name.split(".")[0] in SEQUENCE else [])
            p = subprocess.run(["node", os.path.join(HERE, "ort_latency.js"), src, o2, o3, o23,
                                "--rounds", str(args.rounds), "--runs", str(args.runs),
                                "--json"] + dims, capture_output=True, text=True, check=True)
            lat = json.loads([l for l in p.stdout.splitlines()
                              if l.startswith("RESULT ")][-1][len("RESULT "):])
            ms = [m["median_ms"] for m in lat["models"]]
            lines.append("| %s | %d | %d | %d | %d | %d | %d | %.2f | %.2f (%.2fx) | %.2f (%.2fx) "
                         "| %.2f (%.2fx) |"
                         % (name, res["nodes_in"], n_o2, n_o3, n_23, res["nodes_out"], n_ort,
                            ms[0], ms[1], ms[1] / ms[0], ms[2], ms[2] / ms[0], ms[3],
                            ms[3] / ms[0]))
            print(lines[-1], flush=True)
            for f in (o2, o3, ort, o23, ext):
                os.remove(f)
    head = ["## -O3 on the transformer corpus", "",
            "Commit `%s`. Command: `/usr/bin/python3 perf/bench_o3.py build/onnx-opt "
            "CORPUS/models --rounds %d --runs %d`. Nodes: the original, onnx-opt's "
            "portable `-O2` and `-O3`, `-O3 --target-opset=23` (standard Gelu, Attention and "
            "RMSNormalization), ONNX Runtime 1.30's offline extended optimization "
            "(com.microsoft contrib ops, not portable), and `-O3 --target=ort-cpu`. "
            "Latency: ONNX Runtime at level `all`, 1 thread, batch 1 (sequence length 128 "
            "for the sequence models), median ms of all interleaved runs (ratio to the "
            "original; below 1 is faster). The machine is a shared 2-core VM: ratios "
            "within about 5%% are noise." % (commit, args.rounds, args.runs), "",
            "| model | nodes | -O2 | -O3 | -O3 @23 | ORT extended | -O3 ort-cpu | original ms | "
            "-O2 ms | -O3 ms | -O3 @23 ms |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    # With --only, the other models keep their rows from the last run.
    text = corpus.write_md_section(args.md, "bench_o3", head, lines, only=bool(args.only),
                                   order=[m + s for m in MODELS for s in ("", ".raw")])
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
