#!/usr/bin/python3
"""Generative differential fuzzer: seeded valid models through -O0..-O3 and
an opset conversion.

    run_fuzz.py ONNX_OPT WORK_DIR [--count N] [--start SEED] [--minutes M] [--jobs J]

Each seed's model (gen_model.py) runs through `onnx-opt -Ox --verify` at every
level: the optimized model against the original on the reference interpreter,
bit for bit at -O1, within the default tolerances at -O2/-O3; and through
`--target-opset=T --verify` (T from 11 to 23 by seed; a refusal naming the node
is accepted). A crash (signal),
an internal error (exit 4), a verifier failure, a model onnx-opt refuses
(exit 1: the generator only makes valid ones), a mismatch (exit 3) or a hang
is a failure: the seed is printed with the command and a reduced model
(written to WORK_DIR/fail-SEED-OLEVEL.onnx, and printed as text).
CI runs a fixed budget (--count); --minutes runs until the time is up.
Prints `N passed, N failed` (graphs) and exits 1 on any failure.
"""
import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import time

import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_model import N_VALUE, generate  # noqa: E402

LEVELS = ["-O0", "-O1", "-O2", "-O3"]
TIMEOUT = 120


def has_symbol(model, symbol="N"):
    return any(d.dim_param == symbol for i in model.graph.input
               for d in i.type.tensor_type.shape.dim)


def run_level(onnx_opt, model_path, level, out_path, symbolic=True):
    # onnx-opt refuses a binding for a symbol the model does not have.
    cmd = [onnx_opt, model_path, level, "--verify"] + (
        ["--verify-shape", f"N={N_VALUE}"] if symbolic else []) + ["-o", out_path]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "timeout", cmd, ""
    if p.returncode == 0:
        return None, cmd, ""
    # An opset conversion may refuse what the target cannot express: that is
    # an error naming the node (exit 1), not a failure of the fuzzer.
    if (level.startswith("--target-opset") and p.returncode == 1 and
            "cannot be converted from opset" in p.stderr):
        return None, cmd, ""
    kind = f"signal {-p.returncode}" if p.returncode < 0 else f"exit {p.returncode}"
    return kind, cmd, p.stderr[-3000:]


# -- reduction ----------------------------------------------------------------

def used_names(node):
    """Every value a node reads, its bodies' captures included."""
    names = set(node.input)
    for a in node.attribute:
        for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
            for n in g.node:
                names |= used_names(n)
    return names


def prune(model):
    g = model.graph
    needed = {o.name for o in g.output}
    keep = []
    for n in reversed(g.node):
        if any(o in needed for o in n.output):
            keep.append(n)
            needed |= used_names(n)
    del g.node[:]
    g.node.extend(reversed(keep))
    inputs = {i.name for i in g.input}
    inits = [t for t in g.initializer if t.name in needed or t.name in inputs]
    del g.initializer[:]
    g.initializer.extend(inits)
    vi = [v for v in g.value_info if v.name in needed]
    del g.value_info[:]
    g.value_info.extend(vi)


def reduce_model(model, fails):
    """Greedy: one graph output at a time, then dead nodes pruned."""
    best = model
    if len(model.graph.output) > 1:
        for out in model.graph.output:
            m = onnx.ModelProto()
            m.CopyFrom(model)
            del m.graph.output[:]
            m.graph.output.append(out)
            prune(m)
            if fails(m):
                best = m
                break
    m = onnx.ModelProto()
    m.CopyFrom(best)
    prune(m)
    return m if fails(m) else best


def check_seed(onnx_opt, work, seed):
    d = os.path.join(work, f"s{seed}")
    os.makedirs(d, exist_ok=True)
    model = generate(seed)
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    # And to another opset (11..17, by seed), --verify'd like the levels.
    for level in LEVELS + ["--target-opset=%d" % (11 + seed % 13)]:
        kind, cmd, err = run_level(onnx_opt, path, level, os.path.join(d, "out.onnx"),
                                   has_symbol(model))
        if kind is None:
            continue

        def fails(m, level=level, kind=kind):
            p = os.path.join(d, "try.onnx")
            onnx.save(m, p)
            return run_level(onnx_opt, p, level, os.path.join(d, "try.out.onnx"),
                             has_symbol(m))[0] == kind

        reduced = reduce_model(model, fails)
        fail_path = os.path.join(work, f"fail-{seed}{level}.onnx")
        onnx.save(reduced, fail_path)
        text = subprocess.run([onnx_opt, fail_path], capture_output=True, text=True).stdout
        report = (f"FAIL seed {seed} {level}: {kind}\n  command: {' '.join(cmd)}\n"
                  f"  stderr: {err.strip()}\n  reduced model: {fail_path}\n{text}")
        return False, report
    shutil.rmtree(d, ignore_errors=True)
    return True, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("work")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=0,
                    help="run seeds from --start until this much time has passed")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    deadline = time.time() + a.minutes * 60 if a.minutes else None
    passed = failed = 0
    t0 = time.time()

    def seeds():
        s = a.start
        while (deadline and time.time() < deadline) or (not deadline and s < a.start + a.count):
            yield s
            s += 1

    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        pending = set()
        it = seeds()
        for s in it:
            pending.add(ex.submit(check_seed, a.onnx_opt, a.work, s))
            if len(pending) >= 4 * a.jobs:
                done, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for f in done:
                    ok, report = f.result()
                    passed += ok
                    failed += not ok
                    if report:
                        print(report, flush=True)
        for f in concurrent.futures.as_completed(pending):
            ok, report = f.result()
            passed += ok
            failed += not ok
            if report:
                print(report, flush=True)
    runs = (passed + failed) * (len(LEVELS) + 1)
    print(f"fuzz: {passed + failed} graphs, up to {runs} onnx-opt runs, "
          f"{time.time() - t0:.0f} s")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
