"""onnx-opt, the ONNX graph optimizer, from Python.

    import onnxopt
    optimized = onnxopt.optimize(model, level=2, verify=True)   # a ModelProto
    onnxopt.optimize("big.onnx", output="out.onnx", external_data="out.weights")
    outputs = onnxopt.evaluate(optimized, {"x": array})          # numpy arrays

A thin layer over the same driver as the `onnx-opt` command: each call builds
its command line and runs it in process (the GIL released while it runs), so
options, pipelines and checks are the command's own. Errors raise the
exception of the command's exit code, carrying its message: InvalidModelError
(1: a bad model or file, or what the model cannot express), UsageError (2),
VerificationError (3: --verify found a mismatch; .output names the output),
InternalError (4). `python3 -m onnxopt ARGS` is the command itself.
"""
import os
import re
import tempfile

from . import _onnxopt

__version__ = _onnxopt.__version__
__all__ = ["optimize", "evaluate", "list_passes", "run", "Error", "InvalidModelError",
           "UsageError", "VerificationError", "InternalError", "__version__"]


class Error(Exception):
    """An onnx-opt run that failed: `code` is the command's exit code,
    `message` what it printed to stderr."""

    code = None

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidModelError(Error):
    """Exit 1: a bad model or file, or something the model cannot express."""
    code = 1


class UsageError(Error):
    """Exit 2: a bad option or argument."""
    code = 2


class VerificationError(Error):
    """Exit 3: the optimized model's outputs differ from the original's;
    `output` names the first output that differs (or None)."""
    code = 3

    def __init__(self, message, code=None):
        super().__init__(message, code)
        m = re.search(r"output '([^']*)'", message)
        self.output = m.group(1) if m else None


class InternalError(Error):
    """Exit 4: a bug in onnx-opt."""
    code = 4


_ERRORS = {1: InvalidModelError, 2: UsageError, 3: VerificationError, 4: InternalError}


def run(args, capture=True):
    """Runs onnx-opt with the command-line arguments ARGS (a list of str).
    Returns (stdout, stderr) as text; raises the Error of a non-zero exit."""
    code, out, err = _onnxopt.run([os.fspath(a) for a in args], capture)
    out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    if code != 0:
        lines = [l for l in err.splitlines() if l.strip()]
        raise _ERRORS.get(code, Error)("\n".join(lines) or "onnx-opt exited with %d" % code,
                                       code)
    return out, err


def _model_path(model, work):
    """A path onnx-opt can read for MODEL: a path as is, bytes or a
    ModelProto written to WORK."""
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    path = os.path.join(work, "input.onnx")
    data = model if isinstance(model, (bytes, bytearray, memoryview)) else \
        model.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    return path


def _dims_text(dims):
    return ",".join(str(d) for d in dims) if any(isinstance(d, str) for d in dims) \
        else "x".join(str(d) for d in dims)


def optimize(model, level=2, pipeline=None, input_shapes=None, dynamic_dims=None,
             verify=False, target=None, target_opset=None, output=None,
             external_data=None, verify_shapes=None, verify_rtol=None, verify_atol=None,
             args=()):
    """Optimizes MODEL (an onnx.ModelProto, serialized bytes, or a path).

    level: 0..3 (-O0..-O3), unless `pipeline` (a pass pipeline string) is
    given. input_shapes: {input: dims} (ints; a str keeps a symbol), as
    --input-shape. dynamic_dims: {input: {axis: symbol}}, as --dynamic-dim.
    verify: True (3 samples) or a sample count: the optimized model is run
    against the original in the reference interpreter; a mismatch raises
    VerificationError. target: "onnx" or "ort-cpu"; target_opset: convert
    to that ONNX opset first. verify_shapes: {input or symbol: dims or int}.
    args: more onnx-opt arguments, as they are.

    Returns the optimized onnx.ModelProto; with `output` (a path), writes it
    there instead and returns None (models over 2 GB: give paths, and
    `external_data`, the name of the weights file beside `output`).
    """
    with tempfile.TemporaryDirectory(prefix="onnxopt-") as work:
        src = _model_path(model, work)
        out = os.fspath(output) if output is not None else os.path.join(work, "out.onnx")
        cmd = [src, "-o", out, "--emit=onnx"]
        if pipeline is not None:
            cmd += ["-p", pipeline]
        else:
            cmd.append("-O%d" % level)
        for name, dims in (input_shapes or {}).items():
            cmd.append("--input-shape=%s=%s" % (name, _dims_text(dims)))
        for name, axes in (dynamic_dims or {}).items():
            for axis, symbol in axes.items():
                cmd.append("--dynamic-dim=%s:%d=%s" % (name, axis, symbol))
        if verify:
            cmd.append("--verify" if verify is True else "--verify=%d" % int(verify))
        for name, dims in (verify_shapes or {}).items():
            text = str(dims) if isinstance(dims, int) else _dims_text(dims)
            cmd.append("--verify-shape=%s=%s" % (name, text))
        if verify_rtol is not None:
            cmd.append("--verify-rtol=%r" % verify_rtol)
        if verify_atol is not None:
            cmd.append("--verify-atol=%r" % verify_atol)
        if target is not None:
            cmd.append("--target=%s" % target)
        if target_opset is not None:
            cmd.append("--target-opset=%d" % target_opset)
        if external_data is not None:
            cmd.append("--external-data=%s" % external_data)
        run(cmd + list(args))
        if output is not None:
            return None
        import onnx
        return onnx.load(out)


def evaluate(model, inputs=None, seed=None):
    """Runs MODEL with onnx-opt's reference interpreter. INPUTS: {name:
    numpy array} or a list in graph-input order (default: seeded random
    inputs). Returns {output name: numpy array}, in graph-output order."""
    import onnx
    from onnx import numpy_helper
    with tempfile.TemporaryDirectory(prefix="onnxopt-") as work:
        src = _model_path(model, work)
        graph = onnx.load(src, load_external_data=False).graph
        cmd = [src, "--evaluate", "--outputs=" + os.path.join(work, "out")]
        os.makedirs(os.path.join(work, "out"))
        if inputs is not None:
            names = [i.name for i in graph.input]
            if not isinstance(inputs, dict):
                inputs = dict(zip(names, inputs))
            unknown = set(inputs) - set(names)
            if unknown:
                raise UsageError("not inputs of the model: %s" % ", ".join(sorted(unknown)))
            os.makedirs(os.path.join(work, "in"))
            for k, name in enumerate(names):
                if name in inputs:
                    t = numpy_helper.from_array(inputs[name], name)
                    with open(os.path.join(work, "in", "input_%d.pb" % k), "wb") as f:
                        f.write(t.SerializeToString())
            cmd.append("--inputs=" + os.path.join(work, "in"))
        if seed is not None:
            cmd.append("--verify-seed=%d" % seed)
        run(cmd)
        result = {}
        for k, o in enumerate(graph.output):
            t = onnx.TensorProto()
            with open(os.path.join(work, "out", "output_%d.pb" % k), "rb") as f:
                t.ParseFromString(f.read())
            result[o.name] = numpy_helper.to_array(t)
        return result


def list_passes():
    """[(name, description)] of every pass onnx-opt knows."""
    out, _ = run(["--list-passes"])
    passes = []
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  ") and not line.startswith("    "):
            name = line.strip().split(" ")[0]
            desc = lines[i + 1].strip() if i + 1 < len(lines) else ""
            passes.append((name, desc))
    return passes
