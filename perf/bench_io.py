#!/usr/bin/python3
"""Load + write benchmark: onnx-opt round trip next to `cp` of the same files.

    /usr/bin/python3 perf/bench_io.py ONNX_OPT [--work DIR] [--gib 4] [--repeat 3]

Models: ResNet-50 exported by torch (weights inline, ~100 MB) and a generated model
whose 4 GiB of weights live in an external data file. For each: median wall time of
`onnx-opt IN -o OUT` (the big one with --external-data) and of `cp` of the same
bytes, their ratio, peak resident memory (VmHWM) and peak anonymous memory
(RssAnon, sampled every 5 ms: file pages of the mappings are not counted there).
Timings are measurements only; nothing here passes or fails.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "corpus"))
import onnxopt_corpus as corpus  # noqa: E402


def sample_run(cmd):
    """Runs cmd; returns (seconds, peak RSS KiB, peak anonymous RSS KiB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_anon = peak_rss = 0
    status = f"/proc/{p.pid}/status"
    while p.poll() is None:
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        peak_anon = max(peak_anon, int(line.split()[1]))
                    elif line.startswith("VmHWM:"):
                        peak_rss = max(peak_rss, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.005)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {p.stderr.read().decode()}")
    return dt, peak_rss, peak_anon


def make_resnet(path):
    if not os.path.exists(path):
        import torch
        corpus.export(corpus.build("resnet50", 0), (torch.randn(1, 3, 224, 224),), path, ["input"],
                      ["output"], {"input": {0: "batch"}, "output": {0: "batch"}}, raw=False)


def median_runs(cmd, repeat, cleanup):
    runs = []
    for _ in range(repeat):
        cleanup()
        runs.append(sample_run(cmd))
    return (statistics.median(r[0] for r in runs), max(r[1] for r in runs), max(r[2] for r in runs))


def run(onnx_opt, work, gib=4, repeat=3):
    """Rows of the I/O study: ResNet-50 inline, and `gib` GiB of external weights."""
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, "out")
    os.makedirs(out, exist_ok=True)
    results = []

    resnet = os.path.join(work, "resnet50.onnx")
    make_resnet(resnet)
    clean = lambda: [os.remove(os.path.join(out, f)) for f in os.listdir(out)]
    r = median_runs([onnx_opt, resnet, "-o", os.path.join(out, "r.onnx")], repeat, clean)
    c = median_runs(["cp", resnet, os.path.join(out, "r.copy")], repeat, clean)
    results.append(dict(model="resnet50 (inline)", bytes=os.path.getsize(resnet), onnx_opt_s=r[0],
                        cp_s=c[0], ratio=r[0] / c[0], peak_rss_mib=r[1] / 1024, peak_anon_mib=r[2] / 1024))

    model, data = corpus.chain_model(work, gib * 4, 256 << 20, "big.weights", fill="random")
    # A freshly written file is still being written back: flush it first, or
    # the first runs time the disk.
    os.sync()
    r = median_runs([onnx_opt, model, "-o", os.path.join(out, "big.onnx"), "--external-data=big.data"],
                    repeat, clean)
    c = median_runs(["sh", "-c", f"cp {model} {out}/m.copy && cp {data} {out}/d.copy"], repeat, clean)
    results.append(dict(model=f"generated, {gib} GiB external", bytes=os.path.getsize(data) + os.path.getsize(model),
                        onnx_opt_s=r[0], cp_s=c[0], ratio=r[0] / c[0], peak_rss_mib=r[1] / 1024,
                        peak_anon_mib=r[2] / 1024))
    clean()
    return results


def table(results):
    """The study as Markdown table lines."""
    out = ["| model | bytes | onnx-opt round trip (s) | cp (s) | ratio | peak RSS (MiB) | peak anon (MiB) |",
           "|---|---|---|---|---|---|---|"]
    for x in results:
        out.append(f"| {x['model']} | {x['bytes']:,} | {x['onnx_opt_s']:.2f} | {x['cp_s']:.2f} | {x['ratio']:.2f}x "
                   f"| {x['peak_rss_mib']:.0f} | {x['peak_anon_mib']:.1f} |")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("--work", default=os.path.join(os.path.dirname(__file__), "cache"))
    ap.add_argument("--gib", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    results = run(a.onnx_opt, a.work, a.gib, a.repeat)
    print("\n".join(table(results)))
    with open(os.path.join(a.work, "bench_io.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
