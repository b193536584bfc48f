#!/usr/bin/python3
"""Pass-manager scaling: time per node of -O1 and of an empty fixpoint.

    /usr/bin/python3 perf/bench_passes.py ONNX_OPT [--work DIR] [--sizes 1000,10000,100000]

Generates graphs of N nodes (chains of Relu/Add/Identity/Mul with small weights,
with duplicate subexpressions and dead branches so every -O1 pass has work), runs
`onnx-opt G -O1 --report=...` and `onnx-opt G -p 'fixpoint(topo-sort)'`, and prints
the time spent in passes, per node. Flat figures mean linear passes. Measurement
only; nothing passes or fails.
"""
import argparse
import json
import os
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("--work", default=os.path.join(os.path.dirname(__file__), "cache"))
    ap.add_argument("--sizes", default="1000,10000,100000")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    print("| nodes | -O1 passes (ms) | -O1 per node (µs) | nodes after | empty fixpoint(topo-sort) (ms) | per node (µs) | load (ms) | write (ms) |")
    print("|---|---|---|---|---|---|---|---|")
    for n in [int(x) for x in a.sizes.split(",")]:
        model = os.path.join(a.work, f"scale{n}.onnx")
        n = make(model, n)
        rep = os.path.join(a.work, f"scale{n}.json")
        s1, before, after = pass_seconds(a.onnx_opt, model, ["-O1"], rep)
        s2, _, _ = pass_seconds(a.onnx_opt, model, ["-p", "fixpoint(topo-sort)"], rep)
        print(f"| {before} | {s1['passes'] * 1e3:.1f} | {s1['passes'] * 1e6 / before:.2f} | {after} "
              f"| {s2['passes'] * 1e3:.1f} | {s2['passes'] * 1e6 / before:.2f} | {s1['load'] * 1e3:.0f} | {s1['write'] * 1e3:.0f} |")


if __name__ == "__main__":
    main()
