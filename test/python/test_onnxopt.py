#!/usr/bin/python3
"""The Python package `onnxopt`, used the way its users use it.

    PYTHONPATH=build/python /usr/bin/python3 test/python/test_onnxopt.py ONNX_OPT WORK_DIR

1. The typical script, on corpus models (MobileNetV3-Large raw, the GPT-style
   decoder): torch.onnx.export -> onnxopt.optimize(model, level=2,
   verify=True) -> onnx.checker -> the optimized model run by
   onnxopt.evaluate, its outputs against PyTorch's (assert_allclose rtol 1e-3,
   atol 1e-5).
2. The API: bytes, paths and ModelProtos in; a ModelProto out, or a path
   with external data; list_passes, __version__; pipelines, input shapes.
3. Errors carry the command's category and message: InvalidModelError (a
   corrupt model), UsageError (an unknown pass), VerificationError (naming
   the output).
4. `python3 -m onnxopt` is the command (its exit codes too).
5. The GIL is released while onnx-opt runs: another thread keeps running.
Prints `N passed, N failed`.
"""
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "corpus"))
import onnxopt_corpus as corpus  # noqa: E402
import onnxopt  # noqa: E402


def typical_script(work, name):
    """torch.onnx.export, optimize with verify, check, compare with PyTorch."""
    model = corpus.build(name, 0, zero_linear=True)
    cfg = corpus.MODELS[name]
    inputs, dyn = cfg["inputs"], corpus.dynamic_axes(cfg["inputs"], cfg["dyn"], [])
    rng = np.random.default_rng(3)
    arrays = []
    for (_, shape, dtype, bounds) in inputs:
        arrays.append(rng.integers(bounds[0], bounds[1], size=shape).astype(dtype) if bounds
                      else (rng.random(shape, dtype=np.float32) * 2 - 1).astype(dtype))
    path = os.path.join(work, name + ".onnx")
    corpus.export(model, tuple(torch.from_numpy(a) for a in arrays), path,
                  [i[0] for i in inputs], ["output"], dict(dyn, output={0: "batch"}), raw=True)
    exported = onnx.load(path)
    optimized = onnxopt.optimize(exported, level=2, verify=True)
    onnx.checker.check_model(optimized)
    assert len(optimized.graph.node) < len(exported.graph.node), \
        "%d nodes, exported %d" % (len(optimized.graph.node), len(exported.graph.node))
    with torch.no_grad():
        want = model(*[torch.from_numpy(a) for a in arrays]).numpy()
    got = onnxopt.evaluate(optimized, {i[0]: a for i, a in zip(inputs, arrays)})["output"]
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)
    return "%d -> %d nodes, matches PyTorch" % (len(exported.graph.node),
                                               len(optimized.graph.node))


def api(work):
    sample = os.path.join(HERE, "..", "..", "examples", "models", "sample.onnxtxt")
    assert onnxopt.__version__, "no version"
    names = [n for n, _ in onnxopt.list_passes()]
    assert "dce" in names and "convert-opset" in names, names
    m = onnxopt.optimize(sample, level=1)
    assert isinstance(m, onnx.ModelProto) and [n.op_type for n in m.graph.node] == ["Add", "Relu"]
    again = onnxopt.optimize(m.SerializeToString(), pipeline="dce")
    assert again.graph.node[0].op_type == "Add"
    fixed = onnxopt.optimize(m, level=1, input_shapes={"X": [2, 4]})
    dims = [d.dim_value for d in fixed.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [2, 4], dims
    # A path in, a path out with its weights in an external-data file.
    out = os.path.join(work, "api", "out.onnx")
    os.makedirs(os.path.dirname(out))
    assert onnxopt.optimize(sample, level=2, output=out, external_data="out.weights",
                            args=["--external-data-threshold=0"]) is None
    assert os.path.getsize(os.path.join(work, "api", "out.weights")) > 0
    res = onnxopt.evaluate(out, [np.ones((3, 4), np.float32)])
    np.testing.assert_array_equal(res["Y"], np.maximum(np.ones((3, 4)) + [0.5, -1.0, 2.0, 0.0], 0))
    converted = onnxopt.optimize(sample, level=0, target_opset=13)
    assert converted.opset_import[0].version == 13
    return "bytes, paths and ModelProtos in; ModelProto or external-data path out"


def errors(work):
    try:
        onnxopt.optimize(b"not a model")
        raise AssertionError("a corrupt model was accepted")
    except onnxopt.InvalidModelError as e:
        assert e.code == 1 and "not a valid ONNX model" in e.message, e.message
    try:
        onnxopt.optimize(os.path.join(HERE, "..", "..", "examples", "models", "sample.onnxtxt"),
                         pipeline="no-such-pass")
        raise AssertionError("an unknown pass was accepted")
    except onnxopt.UsageError as e:
        assert e.code == 2 and "unknown pass 'no-such-pass'" in e.message, e.message
    raw = os.path.join(work, "mobilenet_v3_large.onnx")
    try:
        onnxopt.optimize(raw, level=2, verify=True, verify_rtol=0.0, verify_atol=0.0)
        raise AssertionError("a numeric pipeline verified at zero tolerance")
    except onnxopt.VerificationError as e:
        assert e.code == 3 and e.output == "output", (e.output, e.message)
    return "InvalidModelError, UsageError, VerificationError naming its output"


def as_module(work):
    sample = os.path.join(HERE, "..", "..", "examples", "models", "sample.onnxtxt")
    env = dict(os.environ)
    out = os.path.join(work, "module.onnx")
    p = subprocess.run([sys.executable, "-m", "onnxopt", sample, "-O2", "-o", out],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0 and os.path.getsize(out) > 0, p.stderr
    p = subprocess.run([sys.executable, "-m", "onnxopt", os.path.join(work, "missing.onnx")],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 1 and "missing.onnx" in p.stderr, (p.returncode, p.stderr)
    return "python3 -m onnxopt writes the model; exit 1 on a missing file"


def gil(work):
    """While the driver runs in another thread, this one keeps counting."""
    raw = os.path.join(work, "mobilenet_v3_large.onnx")
    done = threading.Event()

    def optimize():
        onnxopt._onnxopt.run([raw, "-O2", "--verify=3", "-o", os.path.join(work, "gil.onnx")])
        done.set()

    t = threading.Thread(target=optimize)
    t.start()
    count = 0
    while not done.is_set():
        count += 1
    t.join()
    assert count > 1000, "the main thread ran %d iterations while onnx-opt ran" % count
    return "the main thread ran %d iterations meanwhile" % count


def main():
    work = sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    report = corpus.Report()
    for name in ("mobilenet_v3_large", "small_gpt"):
        report.run(name, lambda name=name: typical_script(work, name))
    for name, check in (("api", api), ("errors", errors), ("module", as_module),
                        ("gil", gil)):
        report.run(name, lambda check=check: check(work))
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
