#!/usr/bin/python3
"""Every model of a corpus converted to each opset from its own down to 11
(and up to 17 from there), its outputs compared with the original's.

    /usr/bin/python3 perf/check_opsets.py ONNX_OPT MODELS_DIR [--only a,b]
        [--lowest 11] [--verify-at 11]

For each MODELS_DIR/*.onnx (shared/corpus's exports, opset 17) and each
opset T from 16 down to --lowest: `onnx-opt M --target-opset=T -o out`, then
ONNX Runtime (perf/ort_run.js, optimizations disabled, seeded inputs, batch
1 and 3; sequence models at two lengths) must give bit-identical outputs, or
within atol 1e-5 + rtol 1e-4 where the conversion expanded an op that does
not exist at T (LayerNormalization below 17, HardSwish below 14). The
lowest opset's output is converted back up to 17 and compared the same way;
then the model is converted up to 23 (the versions of 18..23 this build
defines) and from there back to 17, both compared the same way (within
tolerance where ONNX Runtime's kernel of a newer version rounds otherwise:
AveragePool from 19).
At --verify-at, `--verify` also runs both models in the reference
interpreter. A refusal (exit 1 naming a node) is reported as such, with its
reason. Prints one line per model and `N passed, N failed, N refused`.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXPANDED = {"LayerNormalization": 17, "HardSwish": 14}
ORT_KERNEL_DIFFERS = {"AveragePool": 19}


def settings_for(name):
    if any(s in name for s in ("transformer", "gpt", "lstm", "gru")):
        return [["--dim", "batch=1", "--dim", "seq=16", "--int-range", "0:500"],
                ["--dim", "batch=3", "--dim", "seq=7", "--int-range", "0:500"]]
    return [["--dim", "batch=1"], ["--dim", "batch=3"]]


def op_types(onnx_opt, path):
    p = subprocess.run([onnx_opt, path, "--emit=text", "-o", "-"], capture_output=True,
                       text=True, check=True)
    ops = set()
    for line in p.stdout.splitlines():
        if " = " in line:
            rhs = line.split(" = ", 1)[1].strip()
            ops.add(rhs.split(" ", 1)[0].split("<", 1)[0])
    return ops


def compare(a, b, dims, exact):
    tol = ["--atol", "0", "--rtol", "0"] if exact else ["--atol", "1e-5", "--rtol", "1e-4"]
    q = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), a, b] + dims + tol,
                       capture_output=True, text=True)
    if "Could not find an implementation" in q.stdout + q.stderr:
        return None, "ONNX Runtime has no kernel for an op of the converted model"
    return q.returncode == 0, q.stdout.strip().splitlines()[-1:] if q.stdout else q.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("models_dir")
    ap.add_argument("--only")
    ap.add_argument("--lowest", type=int, default=11)
    ap.add_argument("--verify-at", type=int, default=11)
    args = ap.parse_args()
    models = sorted(glob.glob(os.path.join(args.models_dir, "*.onnx")))
    if args.only:
        models = [m for m in models
                  if os.path.basename(m)[:-len(".onnx")] in args.only.split(",")]
    passed = failed = refused = 0
    with tempfile.TemporaryDirectory() as work:
        for src in models:
            name = os.path.basename(src)[:-len(".onnx")]
            ops = op_types(args.onnx_opt, src)
            problems, notes, ort_notes = [], [], []
            lowest = None
            newest = None
            refused = False
            for t in list(range(16, args.lowest - 1, -1)) + ["up", 23, "down"]:
                if refused and t not in (23, "down"):
                    continue  # a refusal on the way down: still up to 23
                if t == "up":
                    if lowest is None:
                        break
                    inp, target = lowest, 17
                elif t == "down":
                    if newest is None:
                        break
                    inp, target = newest, 17
                else:
                    inp, target = src, t
                out = os.path.join(work, "%s.%s.onnx" % (name, t))
                cmd = [args.onnx_opt, inp, "--target-opset=%d" % target, "-o", out]
                # ONNX Runtime's AveragePool from 19 rounds otherwise: at 23 the
                # conversion itself is checked bit for bit in the reference
                # interpreter, ONNX Runtime within tolerance.
                kernel_differs = t == 23 and any(op in ops for op in ORT_KERNEL_DIFFERS)
                if t == args.verify_at:
                    cmd += ["--verify"]
                elif kernel_differs:
                    cmd += ["--verify", "--verify-rtol=0", "--verify-atol=0"]
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode == 1 and "cannot be converted" in p.stderr:
                    notes.append("refused at %s: %s" % (t, p.stderr.strip().splitlines()[-1]))
                    if t in (23, "down"):
                        break
                    refused = True
                    continue
                if p.returncode != 0:
                    problems.append("%s: exit %d: %s" % (t, p.returncode,
                                                         p.stderr.strip().splitlines()[-1]))
                    break
                floor = args.lowest if t == "up" else 17 if t == "down" else t
                exact = not any(op in ops and floor < v for op, v in EXPANDED.items())
                if t == 23:
                    exact = exact and not any(op in ops for op in ORT_KERNEL_DIFFERS)
                for dims in settings_for(name):
                    ok, why = compare(src, out, dims, exact)
                    if ok is None and t == 23:
                        # ONNX Runtime 1.30 lacks some 22 kernels (RoiAlign-22):
                        # the reference interpreter, bit for bit.
                        v = subprocess.run([args.onnx_opt, src, "--target-opset=23", "--verify",
                                            "--verify-rtol=0", "--verify-atol=0", "-o", os.devnull],
                                           capture_output=True, text=True)
                        if v.returncode == 0:
                            ort_notes.append("23: %s; bit-identical in the reference interpreter"
                                             % why)
                        else:
                            problems.append("23: %s; reference: %s"
                                            % (why, v.stderr.strip().splitlines()[-1:]))
                        break
                    if not ok and kernel_differs:
                        ort_notes.append("23 at %s: bit-identical in the reference interpreter, "
                                     "ONNX Runtime's AveragePool-19 kernel outside 1e-4: %s"
                                     % (" ".join(dims[1::2]), why))
                    elif not ok:
                        problems.append("%s at %s: %s" % (t, " ".join(dims[1::2]), why))
                if t == 23:
                    newest = out
                elif t not in ("up", "down"):
                    if lowest:
                        os.remove(lowest)
                    lowest = out
                else:
                    os.remove(out)
            for f in (lowest, newest):
                if f:
                    os.remove(f)
            if problems:
                failed += 1
                print("FAIL %s: %s" % (name, "; ".join(problems)), flush=True)
            elif notes:
                refused += 1
                print("refused %s: %s" % (name, "; ".join(notes + ort_notes)), flush=True)
            else:
                passed += 1
                print("ok   %s: 16..%d and back to 17, up to 23 and back%s%s" % (
                    name, args.lowest,
                    "" if not any(op in ops for op in EXPANDED) else
                    " (expanded: %s)" % ", ".join(op for op in EXPANDED if op in ops),
                    "".join("; " + n for n in ort_notes)),
                    flush=True)
    print("%d passed, %d failed, %d refused" % (passed, failed, refused))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
