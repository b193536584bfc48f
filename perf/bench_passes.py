#!/usr/bin/python3
"""Pass-manager scaling: time per node of -O1 and of an empty fixpoint.

    /usr/bin/python3 perf/bench_passes.py ONNX_OPT [--work DIR] [--sizes 1000,10000,100000]
        [--repeat 3]

Generates graphs of N nodes (chains of Relu/Add/Identity/Mul with small weights,
with duplicate subexpressions and dead branches so every -O1 pass has work), runs
`onnx-opt G -O1 --report=...` and `onnx-opt G -p 'fixpoint(topo-sort)'`, and prints
the time spent in passes, per node (median of --repeat runs). Flat figures mean linear passes. Measurement
only; nothing passes or fails.
"""
import argparse
import json
import os
import statistics
import subprocess

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def make(path, n):
    nodes, inits = [], []
    prev = "X"
    i = 0
    while len(nodes) < n:
        w = f"w{i}"
        inits.append(numpy_helper.from_array(np.full([4], i % 7, np.float32), w))
        a, b, c, d, dead = (f"a{i}", f"b{i}", f"c{i}", f"d{i}", f"dead{i}")
        nodes += [helper.make_node("Relu", [prev], [a]),
                  helper.make_node("Relu", [prev], [b]),          # cse twin
                  helper.make_node("Add", [a, b], [c]),
                  helper.make_node("Identity", [c], [d]),         # identity
                  helper.make_node("Neg", [d], [dead]),           # dead
                  helper.make_node("Mul", [d, w], [f"m{i}"])]
        prev = f"m{i}"
        i += 1
    g = helper.make_graph(nodes, "scale", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [4])],
                          [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [4])], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return len(nodes)


def pass_seconds(onnx_opt, model, args, report):
    subprocess.run([onnx_opt, model, "-o", report + ".onnx", "--report=" + report] + args,
                   check=True, capture_output=True)
    r = json.load(open(report))
    return r["seconds"], r["before"]["nodes"], r["after"]["nodes"]


def run(onnx_opt, work, sizes=(1000, 10000, 100000), repeat=3):
    """Rows of the scaling study: per size, the median of `repeat` runs."""
    os.makedirs(work, exist_ok=True)
    rows = []
    for n in sizes:
        model = os.path.join(work, f"scale{n}.onnx")
        n = make(model, n)
        rep = os.path.join(work, f"scale{n}.json")
        o1 = [pass_seconds(onnx_opt, model, ["-O1"], rep) for _ in range(repeat)]
        fix = [pass_seconds(onnx_opt, model, ["-p", "fixpoint(topo-sort)"], rep)
               for _ in range(repeat)]
        med = lambda runs, k: statistics.median(r[0][k] for r in runs)
        rows.append(dict(nodes=o1[0][1], nodes_after=o1[0][2],
                         o1_passes_s=med(o1, "passes"), fixpoint_s=med(fix, "passes"),
                         load_s=med(o1, "load"), write_s=med(o1, "write")))
    return rows


def table(rows):
    """The study as Markdown table lines."""
    out = ["| nodes | -O1 passes (ms) | -O1 per node (µs) | nodes after | empty "
           "fixpoint(topo-sort) (ms) | per node (µs) | load (ms) | write (ms) |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n = r["nodes"]
        out.append(f"| {n} | {r['o1_passes_s'] * 1e3:.1f} | {r['o1_passes_s'] * 1e6 / n:.2f} "
                   f"| {r['nodes_after']} | {r['fixpoint_s'] * 1e3:.1f} "
                   f"| {r['fixpoint_s'] * 1e6 / n:.2f} | {r['load_s'] * 1e3:.0f} "
                   f"| {r['write_s'] * 1e3:.0f} |")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("--work", default=os.path.join(os.path.dirname(__file__), "cache"))
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rows = run(a.onnx_opt, a.work, [int(x) for x in a.sizes.split(",")], a.repeat)
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
