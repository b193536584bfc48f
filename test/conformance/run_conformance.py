#!/usr/bin/env python3
"""ONNX's node conformance suite through the reference interpreter.

For every case: `onnx-opt model.onnx --evaluate --inputs=test_data_set_N
--outputs=DIR`, then each output_K.pb is compared with the expected one at the
suite's tolerances (rtol 1e-3, atol 1e-7, as onnx's backend test runner).
A case is skipped only when the interpreter reports an op (or an op's element
type) it does not implement; every other error is a failure.

Usage: run_conformance.py ONNX_OPT SUITE_DIR WORK_DIR [--min-implemented 0.85]
       [--table FILE]  (write the per-op table in Markdown)
Prints `N passed, N failed, N skipped` and exits 1 on any failure or when
fewer cases than --min-implemented are implemented.
"""
import argparse
import collections
import concurrent.futures
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

# Cases whose expected data the interpreter deliberately does not match, and
# why. They are reported on their own line, never as passed.
KNOWN_DEVIATIONS = {
    name: "the suite's data (ONNX 1.12) truncates float to bfloat16; ONNX "
          "Runtime and later ONNX releases round to nearest even, as the "
          "interpreter does"
    for name in ("test_cast_FLOAT_to_BFLOAT16", "test_castlike_FLOAT_to_BFLOAT16",
                 "test_castlike_FLOAT_to_BFLOAT16_expanded")
}

UNSUPPORTED = re.compile(r"has no kernel for|not supported by the reference "
                         r"interpreter|no reference kernel")


def ops_of(model_path):
    m = onnx.load(model_path, load_external_data=False)
    ops = set()

    def walk(g):
        for n in g.node:
            dom = n.domain if n.domain not in ("", "ai.onnx") else ""
            ops.add((dom + "." if dom else "") + n.op_type)
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                for sg in a.graphs:
                    walk(sg)
    walk(m.graph)
    return sorted(ops)


def load_value(path, kind):
    """A tensor, a list of tensors (SequenceProto) or None/value (OptionalProto)."""
    with open(path, "rb") as f:
        data = f.read()
    if kind == "sequence_type":
        sp = onnx.SequenceProto()
        sp.ParseFromString(data)
        return [array_of(t) for t in sp.tensor_values]
    if kind == "optional_type":
        op = onnx.OptionalProto()
        op.ParseFromString(data)
        if op.HasField("tensor_value"):
            return ("opt", array_of(op.tensor_value))
        if op.HasField("sequence_value"):
            return ("opt", [array_of(t) for t in op.sequence_value.tensor_values])
        return ("opt", None)
    t = onnx.TensorProto()
    t.ParseFromString(data)
    return array_of(t)


def array_of(t):
    if t.data_type == onnx.TensorProto.BFLOAT16:
        # Compare bfloat16 as its bits: the suite stores it as uint16.
        t.data_type = onnx.TensorProto.UINT16
    return numpy_helper.to_array(t)


def compare(k, got, want):
    """None when equal at the suite's tolerances, else why not."""
    if isinstance(want, tuple):
        if not isinstance(got, tuple):
            return "output %d: expected an optional" % k
        want, got = want[1], got[1]
        if want is None or got is None:
            return None if want is None and got is None else \
                "output %d: optional presence differs" % k
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return "output %d: sequence length differs" % k
        for w, g in zip(want, got):
            why = compare(k, g, w)
            if why:
                return why
        return None
    if want.shape != got.shape:
        return "output %d: shape %s, expected %s" % (k, got.shape, want.shape)
    if want.dtype != got.dtype:
        return "output %d: dtype %s, expected %s" % (k, got.dtype, want.dtype)
    if want.dtype.kind in "fc":
        if not np.allclose(got, want, rtol=1e-3, atol=1e-7, equal_nan=True):
            err = np.nanmax(np.abs(got.astype(np.float64) - want.astype(np.float64)))
            return "output %d: max abs error %g" % (k, err)
    elif not np.array_equal(got, want):
        return "output %d: values differ" % k
    return None


def run_case(args, case):
    d = os.path.join(args.suite, case)
    model = os.path.join(d, "model.onnx")
    sets = sorted(s for s in os.listdir(d) if s.startswith("test_data_set_"))
    for s in sets:
        out_dir = os.path.join(args.work, case, s)
        os.makedirs(out_dir, exist_ok=True)
        p = subprocess.run([args.onnx_opt, model, "--evaluate",
                            "--inputs=" + os.path.join(d, s),
                            "--outputs=" + out_dir],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            msg = p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""
            if p.returncode == 1 and UNSUPPORTED.search(p.stderr):
                return "skipped", msg
            return "failed", "exit %d: %s" % (p.returncode, msg)
        kinds = [o.type.WhichOneof("value")
                 for o in onnx.load(model, load_external_data=False).graph.output]
        k = 0
        while os.path.exists(os.path.join(d, s, "output_%d.pb" % k)):
            kind = kinds[k] if k < len(kinds) else "tensor_type"
            got_path = os.path.join(out_dir, "output_%d.pb" % k)
            if not os.path.exists(got_path):
                return "failed", "output %d missing" % k
            why = compare(k, load_value(got_path, kind),
                          load_value(os.path.join(d, s, "output_%d.pb" % k), kind))
            if why:
                return "failed", why
            k += 1
    return "passed", ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("suite")
    ap.add_argument("work")
    ap.add_argument("--min-implemented", type=float, default=0.85)
    ap.add_argument("--table")
    ap.add_argument("--only", help="regex of case names")
    args = ap.parse_args()
    cases = sorted(c for c in os.listdir(args.suite)
                   if os.path.exists(os.path.join(args.suite, c, "model.onnx")))
    if args.only:
        cases = [c for c in cases if re.search(args.only, c)]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        futs = {ex.submit(run_case, args, c): c for c in cases}
        for f in concurrent.futures.as_completed(futs):
            c = futs[f]
            try:
                results[c] = f.result()
            except Exception as e:  # a crash of the runner itself is a failure
                results[c] = ("failed", "runner: %r" % e)
            if c in KNOWN_DEVIATIONS and results[c][0] == "failed":
                results[c] = ("deviation", results[c][1])
    counts = collections.Counter(r[0] for r in results.values())
    for c in cases:
        st, msg = results[c]
        if st == "failed":
            print("FAIL %s: %s" % (c, msg))
    for c in cases:
        if results[c][0] == "deviation":
            print("KNOWN DEVIATION %s: %s (%s)" % (c, results[c][1],
                                                  KNOWN_DEVIATIONS[c]))
    skip_reasons = collections.Counter()
    for c in cases:
        st, msg = results[c]
        if st != "skipped":
            continue
        if "sequence and optional inputs" in msg:
            skip_reasons["sequence/optional inputs"] += 1
            continue
        m = re.search(r"kernel for (\S+)|\((\w+)\)", msg)
        op = (m.group(1) or m.group(2)) if m else msg
        skip_reasons[op if "no kernel" in msg or "has no kernel" in msg
                     else op + " (some attributes/types)"] += 1
    print("skipped, by op:", ", ".join("%s %d" % kv for kv in
                                       sorted(skip_reasons.items())))
    implemented = counts["passed"] + counts["failed"] + counts["deviation"]
    frac = implemented / len(cases) if cases else 0
    print("%d passed, %d failed, %d skipped, %d known deviations (%d cases, "
          "%.1f%% implemented)" % (counts["passed"], counts["failed"],
                                   counts["skipped"], counts["deviation"],
                                   len(cases), 100 * frac))
    if args.table:
        per_op = collections.defaultdict(lambda: collections.Counter())
        for c in cases:
            for op in ops_of(os.path.join(args.suite, c, "model.onnx")):
                st = results[c][0]
                per_op[op]["failed" if st == "deviation" else st] += 1
        with open(args.table, "w") as f:
            f.write("# Reference interpreter: operator coverage\n\n"
                    "Generated by `test/conformance/run_conformance.py --table` "
                    "from ONNX's node conformance suite (%d cases: %d passed, "
                    "%d failed, %d skipped). A case counts for every op in its "
                    "model; skipped = the interpreter does not implement an op "
                    "(or element type) of the case.\n\n"
                    "| op | cases passed | failed | skipped |\n|---|---|---|---|\n"
                    % (len(cases), counts["passed"], counts["failed"],
                       counts["skipped"]))
            # (known deviations count as failed in this table)
            for op in sorted(per_op):
                cnt = per_op[op]
                f.write("| %s | %d | %d | %d |\n" % (op, cnt["passed"],
                                                     cnt["failed"],
                                                     cnt["skipped"]))
    if counts["failed"]:
        return 1
    if frac < args.min_implemented:
        print("only %.1f%% of the cases are implemented; need %.0f%%" %
              (100 * frac, 100 * args.min_implemented))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
