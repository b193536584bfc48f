#!/usr/bin/python3
"""The reference interpreter and --verify on real exported models.

    /usr/bin/python3 reference_corpus.py ONNX_OPT WORK_DIR [--only NAME,...]

Exports the corpus models raw (training=PRESERVE, do_constant_folding=False:
BatchNormalization and the Shape/Gather/Unsqueeze/Concat glue stay in) with
random weights and fixed seeds: ResNet-50, MobileNetV3-Large, EfficientNet-B0,
ViT-B/16, Swin-T, a GPT-style decoder, a bidirectional LSTM and a GRU language
model (tools/corpus/onnxopt_corpus.py's definitions). For each, on seeded inputs
written as .pb files:
  1. `onnx-opt raw.onnx -O1 --verify --verify-inputs=DIR` must pass (the -O1
     pipeline is exact: outputs bit-identical in the reference interpreter), and
     `-O2 --verify` within atol 1e-4 + rtol 1e-3, its output within the same
     tolerance of the original in ONNX Runtime; so must `-O2 --target=ort-cpu`
     (at batch 1 and 3 and a second sequence length), which lowers every
     attention block of ViT-B/16 and the GPT-style decoder (ATTENTION),
     and for the CNNs (NCHWC) `--target=ort-cpu-avx2` and `-avx512` (--verify;
     the host's block size also in ONNX Runtime);
  2. `onnx-opt raw.onnx --evaluate --inputs=DIR --outputs=REF` and ONNX Runtime
     1.30 on the same inputs must agree within atol 1e-4 + rtol 1e-3.
  3. The -O1 output keeps every dynamic axis of the inputs and outputs (same
     symbols), and runs in ONNX Runtime bit-identical to the original at batch
     1, 3 and 8 (and a second sequence length for sequence models);
  4. `--target-opset=11` (with --verify) and back to 17 run in ONNX Runtime
     bit-identical to the original (within atol 1e-5 + rtol 1e-4 where
     LayerNormalization or HardSwish was expanded);
  5. its count of shape-glue nodes (Shape, Gather, Unsqueeze, Squeeze, Concat,
     Cast, Slice, Constant, Reshape, Expand, ConstantOfShape) is no higher than
     the lowest correct peer's on the same model (GLUE_BOUND, from
     shared/corpus/peers.md: ONNX Runtime basic/extended, onnxoptimizer,
     OnnxSlim on the same torchvision exports).
Prints `N passed, N failed`.
"""
import argparse
import os
import shutil
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import warnings

warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "corpus"))
import onnxopt_corpus as corpus  # noqa: E402

MODELS = ["resnet50", "mobilenet_v3_large", "efficientnet_b0", "vit_b_16", "swin_t",
          "small_gpt", "small_lstm", "small_gru"]


GLUE = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice", "Constant",
        "Reshape", "Expand", "ConstantOfShape"}
# The lowest glue count among the peers' correct outputs (peers.md, raw exports).
GLUE_BOUND = {"resnet50": 0, "mobilenet_v3_large": 0, "efficientnet_b0": 0, "vit_b_16": 302,
              "swin_t": 1014}


def symbolic_dims(path):
    """{(input or output name, axis): symbol} of a model's graph inputs/outputs."""
    m = onnx.load(path, load_external_data=False)
    out = {}
    for v in list(m.graph.input) + list(m.graph.output):
        for axis, d in enumerate(v.type.tensor_type.shape.dim):
            if d.dim_param:
                out[(v.name, axis)] = d.dim_param
    return out, sum(1 for n in m.graph.node if n.op_type in GLUE)


def check_dynamic_o1(name, raw, o1):
    """Dynamic axes kept, glue bound met, bit-identical in ONNX Runtime at
    several batch sizes and sequence lengths. Returns problems."""
    problems = []
    want, _ = symbolic_dims(raw)
    got, glue = symbolic_dims(o1)
    for key, sym in sorted(want.items()):
        if got.get(key) != sym:
            problems.append("-O1 lost dynamic axis %s:%d ('%s' became %r)"
                            % (key[0], key[1], sym, got.get(key)))
    if name in GLUE_BOUND and glue > GLUE_BOUND[name]:
        problems.append("-O1 leaves %d glue nodes, the best peer %d" % (glue, GLUE_BOUND[name]))
    settings = ort_settings(name, (1, 3, 8))
    problems += compare_in_ort(name, raw, o1, settings, "-O1", [])
    return problems, glue, len(settings)


def ort_settings(name, batches):
    """compare_exact.js --dim arguments: each batch size at the export's
    sequence length, and batch 3 at a second one for sequence models."""
    inputs, dyn = spec(name)
    seq = None
    for axis_map in dyn.values():
        if 1 in axis_map:
            seq = inputs[0][1][1]
    settings = [(b, seq) for b in batches] + ([(3, seq + 7)] if seq else [])
    return [["--dim", "batch=%d" % b] + (["--dim", "seq=%d" % n] if n else [])
            for b, n in settings]


def compare_in_ort(name, raw, other, settings, what, tolerance):
    """ONNX Runtime runs RAW and OTHER on the same inputs at each setting:
    bit-identical outputs, or within TOLERANCE (compare_exact.js flags)."""
    problems = []
    ints = int_max(spec(name)[0])
    for dims in settings:
        p, _ = run(["node", os.path.join(HERE, "compare_exact.js"), raw, other] + dims + ints +
                   tolerance)
        if p.returncode != 0:
            problems.append("%s in ONNX Runtime at %s: %s"
                            % (what, " ".join(dims[1::2]), (p.stdout + p.stderr).strip()[-300:]))
    return problems


# Attention blocks --target=ort-cpu must lower to com.microsoft.Attention: all
# of them (Swin's windowed attention with its relative-position bias stays).
ATTENTION = {"vit_b_16": 12, "small_gpt": 2}


def check_target(onnx_opt, name, raw, d, inputs):
    """-O2 --target=ort-cpu: --verify (the interpreter runs the contrib ops)
    within atol 1e-4 + rtol 1e-3, every attention block lowered, and the
    output within the same tolerance of the original in ONNX Runtime at batch
    1 and 3 (and a second sequence length). Returns problems and the output's
    Attention count."""
    out = os.path.join(d, "ort-cpu.onnx")
    p, _ = run([onnx_opt, raw, "-O2", "--target=ort-cpu", "--verify",
                "--verify-inputs=" + inputs, "--verify-rtol=1e-3", "--verify-atol=1e-4",
                "-o", out, "--summary"])
    if p.returncode != 0:
        return ["-O2 --target=ort-cpu --verify: exit %d: %s"
                % (p.returncode, p.stderr.strip()[-400:])], 0
    m = onnx.load(out, load_external_data=False)
    fused = sum(1 for n in m.graph.node
                if n.domain == "com.microsoft" and n.op_type == "Attention")
    problems = []
    if fused != ATTENTION.get(name, 0):
        problems.append("--target=ort-cpu lowered %d attention blocks, want %d"
                        % (fused, ATTENTION.get(name, 0)))
    problems += compare_in_ort(name, raw, out, ort_settings(name, (1, 3)), "--target=ort-cpu",
                               ["--atol", "1e-4", "--rtol", "1e-3"])
    os.remove(out)
    if name in NCHWC:
        problems += check_nchwc(onnx_opt, name, raw, d, inputs)
    return problems, fused


# The CNNs the NCHWc targets must lower, with the convolutions ONNX
# Runtime's rules admit at each block size (one with fewer channels than a
# block stays FusedConv); the host's block is checked (16 with AVX-512F, else 8).
NCHWC = {"resnet50": {8: 53, 16: 53}, "mobilenet_v3_large": {8: 62, 16: 62},
         "efficientnet_b0": {8: 81, 16: 81}}


def check_nchwc(onnx_opt, name, raw, d, inputs):
    """-O2 --target=ort-cpu-avx2 and -avx512: --verify in the reference
    interpreter (which reads either block size); the host's also in ONNX
    Runtime at batch 1 and 3 within atol 1e-4 + rtol 1e-3 of the original,
    with NCHWC[name] convolutions lowered."""
    problems = []
    for block, target in ((8, "ort-cpu-avx2"), (16, "ort-cpu-avx512")):
        out = os.path.join(d, target + ".onnx")
        p, _ = run([onnx_opt, raw, "-O2", "--target=" + target, "--verify",
                    "--verify-inputs=" + inputs, "--verify-rtol=1e-3", "--verify-atol=1e-4",
                    "-o", out])
        if p.returncode != 0:
            problems.append("-O2 --target=%s --verify: exit %d: %s"
                            % (target, p.returncode, p.stderr.strip()[-400:]))
            continue
        m = onnx.load(out, load_external_data=False)
        convs = sum(1 for n in m.graph.node
                    if n.domain == "com.microsoft.nchwc" and n.op_type == "Conv")
        meta = {e.key: e.value for e in m.metadata_props}
        if meta.get("onnxopt.nchwc_block_size") != str(block):
            problems.append("--target=%s: metadata onnxopt.nchwc_block_size is %r"
                            % (target, meta.get("onnxopt.nchwc_block_size")))
        if block == corpus.host_nchwc_block():
            if convs != NCHWC[name][block]:
                problems.append("--target=%s lowered %d convolutions, want %d"
                                % (target, convs, NCHWC[name][block]))
            problems += compare_in_ort(name, raw, out, ort_settings(name, (1, 3)),
                                       "--target=" + target, ["--atol", "1e-4", "--rtol", "1e-3"])
        os.remove(out)
    return problems


# Ops --target-opset=11 expands into a chain (not bit-identical).
EXPANDED = ("LayerNormalization", "HardSwish")


def check_opset(onnx_opt, name, raw, d, inputs):
    """--target-opset=11, then back up to 17: --verify on the way down, and
    both in ONNX Runtime bit-identical to the original at batch 1 and 3, or
    within atol 1e-5 + rtol 1e-4 when an op was expanded."""
    down, up = os.path.join(d, "opset11.onnx"), os.path.join(d, "opset17.onnx")
    p, _ = run([onnx_opt, raw, "--target-opset=11", "--verify", "--verify-inputs=" + inputs,
                "-o", down])
    if p.returncode != 0:
        return ["--target-opset=11 --verify: exit %d: %s" % (p.returncode, p.stderr.strip()[-400:])]
    p, _ = run([onnx_opt, down, "--target-opset=17", "-o", up])
    if p.returncode != 0:
        return ["--target-opset=17 from 11: exit %d: %s" % (p.returncode, p.stderr.strip()[-400:])]
    ops = {n.op_type for n in onnx.load(raw, load_external_data=False).graph.node}
    tol = ["--atol", "1e-5", "--rtol", "1e-4"] if ops & set(EXPANDED) else []
    problems = []
    for out, what in ((down, "--target-opset=11"), (up, "--target-opset=11 then 17")):
        problems += compare_in_ort(name, raw, out, ort_settings(name, (1, 3)), what, tol)
        os.remove(out)
    return problems


def spec(name):
    """[(input, shape, dtype, int range)] and {input: {axis: symbol}} of a model."""
    cfg = corpus.MODELS[name]
    return cfg["inputs"], corpus.dynamic_axes(cfg["inputs"], cfg["dyn"], [])


def int_max(inputs):
    """compare_exact.js's --int-max for token inputs: below the vocabulary size."""
    high = corpus.int_high(inputs)
    return ["--int-max", str(high)] if high else []


def export(name, path, inputs_dir):
    """The raw export of NAME (random BatchNorm statistics, and random weights
    for linear layers initialised to zero, ViT's head: the outputs are not
    constant), and seeded inputs written as .pb files to INPUTS_DIR."""
    model = corpus.build(name, 0, zero_linear=True)
    inputs, dyn = spec(name)
    rng = np.random.default_rng(7)
    args = []
    os.makedirs(inputs_dir, exist_ok=True)
    for i, (iname, shape, dtype, bounds) in enumerate(inputs):
        if bounds:
            a = rng.integers(bounds[0], bounds[1], size=shape).astype(dtype)
        else:
            a = (rng.random(shape, dtype=np.float32) * 2 - 1).astype(dtype)
        args.append(torch.from_numpy(a))
        with open(os.path.join(inputs_dir, "input_%d.pb" % i), "wb") as f:
            f.write(numpy_helper.from_array(a, iname).SerializeToString())
    # Grad mode on: under no_grad torch 1.13 takes the fused attention fast
    # path, which has no ONNX export.
    corpus.export(model, tuple(args), path, [s[0] for s in inputs], ["output"],
                  dict(dyn, output={0: "batch"}), raw=True)


def run(cmd):
    t0 = time.time()
    p = corpus.run(cmd)
    return p, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_opt")
    ap.add_argument("work")
    ap.add_argument("--only")
    args = ap.parse_args()
    names = corpus.select(args.only, MODELS)
    report = corpus.Report()
    for name in names:
        d = os.path.join(args.work, name)
        os.makedirs(d, exist_ok=True)
        raw = os.path.join(d, "raw.onnx")
        inputs = os.path.join(d, "inputs")
        t0 = time.time()
        export(name, raw, inputs)
        texp = time.time() - t0
        problems = []
        p, tver = run([args.onnx_opt, raw, "-O1", "--verify", "--verify-inputs=" + inputs,
                       "-o", os.path.join(d, "O1.onnx"), "--summary"])
        glue = runs = 0
        if p.returncode != 0:
            problems.append("-O1 --verify: exit %d: %s" % (p.returncode, p.stderr.strip()[-400:]))
        else:
            more, glue, runs = check_dynamic_o1(name, raw, os.path.join(d, "O1.onnx"))
            problems += more
        # -O2 (numeric fusions): --verify within atol 1e-4 + rtol 1e-3, and the
        # output close to the original in ONNX Runtime too.
        o2 = os.path.join(d, "O2.onnx")
        p4, _ = run([args.onnx_opt, raw, "-O2", "--verify", "--verify-inputs=" + inputs,
                     "--verify-rtol=1e-3", "--verify-atol=1e-4", "-o", o2, "--summary"])
        if p4.returncode != 0:
            problems.append("-O2 --verify: exit %d: %s" % (p4.returncode, p4.stderr.strip()[-400:]))
        else:
            ispec, dyn = spec(name)
            shape_args = int_max(ispec)
            dims = []
            for axis_map in dyn.values():
                for axis, sym in axis_map.items():
                    dims += ["--dim", "%s=%d" % (sym, ispec[0][1][axis])]
            p5, _ = run(["node", os.path.join(HERE, "compare_exact.js"), raw, o2] + dims +
                        shape_args + ["--atol", "1e-4", "--rtol", "1e-3"])
            if p5.returncode != 0:
                problems.append("-O2 in ONNX Runtime: " + (p5.stdout + p5.stderr).strip())
        more, fused = check_target(args.onnx_opt, name, raw, d, inputs)
        problems += more
        problems += check_opset(args.onnx_opt, name, raw, d, inputs)
        ref = os.path.join(d, "ref")
        p2, tev = run([args.onnx_opt, raw, "--evaluate", "--inputs=" + inputs,
                       "--outputs=" + ref])
        if p2.returncode != 0:
            problems.append("--evaluate: exit %d: %s" % (p2.returncode, p2.stderr.strip()[-400:]))
        else:
            p3, _ = run(["node", os.path.join(HERE, "ort_vs_reference.js"), raw, inputs, ref,
                         "--atol", "1e-4", "--rtol", "1e-3"])
            if p3.returncode != 0:
                problems.append("ONNX Runtime vs reference: " + (p3.stdout + p3.stderr).strip())
            else:
                print("  %s: %s" % (name, p3.stdout.strip().replace("\n", "; ")))
        nodes = ""
        for line in p.stderr.splitlines() + [l for l in p4.stderr.splitlines() if "wrote" in l]:
            if "onnx-opt: read" in line or "onnx-opt: wrote" in line:
                nodes += " " + line.split(":", 2)[2].split("(")[0].strip()
        if report.problems(name, problems,
                           "export %.1fs, -O1 --verify %.1fs, --evaluate %.1fs; nodes raw, "
                           "-O1, -O2:%s; -O1 glue %d (bound %s), bit-identical in ONNX Runtime at %d "
                           "batch/sequence sizes; ort-cpu: %d Attention"
                           % (texp, tver, tev, nodes.replace(" nodes", ""), glue,
                              GLUE_BOUND.get(name, "-"), runs, fused)):
            shutil.rmtree(d)  # a failure keeps its directory, to look at; the disk is shared
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
