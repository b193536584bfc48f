#!/usr/bin/python3
"""A seeded generator of valid ONNX models for the differential fuzzer.

    gen_model.py SEED OUT.onnx      (or import it: generate(seed) -> ModelProto)

What it draws, so that the optimizer meets what real exports contain:
- an opset from 7 to 17, and each operator in the form that opset defines
  (Squeeze/Unsqueeze/ReduceSum axes as attribute or input, Slice, Pad, Clip,
  Split, Dropout, BatchNormalization versions);
- If, Loop and Scan nested up to 4 deep, whose bodies capture outer values at
  every depth, with outputs typed, partially typed (element type only) or
  untyped, and Shape of an untyped value inside them (ONNX 1.12's Shape-15
  data propagation crashed there);
- graph inputs with a symbolic batch dim `N` (run at N=3) or static dims;
  intermediate value_info full, rank-only or absent;
- initializers, some of them also graph inputs (overridable defaults that no
  pass may fold), constant If conditions, dead nodes, duplicate subexpressions;
- op families: elementwise unary/binary with broadcasting, Cast chains,
  Shape/Gather/Unsqueeze/Concat/Reshape glue, Transpose, Flatten, Squeeze,
  Slice, Pad, Expand, Tile, Gather, Concat, Split, reductions, Softmax,
  ArgMax, Where, MatMul, Gemm, Conv, BatchNormalization, pooling,
  ConstantOfShape, LayerNormalization (17), Identity, Dropout; from opset 12 the
  classic-ML ops scikit-learn pipelines use (Scaler into LinearRegressor,
  Normalizer, Binarizer, Imputer, ArrayFeatureExtractor, LinearClassifier,
  TreeEnsembleRegressor).
Every value's run-time shape is tracked exactly, so the model is valid by
construction; the declared types are what varies.
"""
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ML = "ai.onnx.ml"
N_VALUE = 3  # the run-time value of the symbolic dim N (--verify-shape N=3)
MAX_DEPTH = 4

F32, F64, I64, I32, BOOL = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT64,
                           TensorProto.INT32, TensorProto.BOOL)


class V:
    """A value: name, element type, run-time shape, declared shape (None dims
    are symbolic N, a rank-only declaration has every dim unknown)."""

    def __init__(self, name, dtype, shape, decl=None):
        self.name, self.dtype, self.shape = name, dtype, list(shape)
        self.decl = decl if decl is not None else list(shape)


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.opset = self.r.randint(7, 17)
        self.counter = 0
        self.uses_ml = False

    # -- helpers -------------------------------------------------------------
    def fresh(self, base="v"):
        self.counter += 1
        return f"{base}{self.counter}"

    def const(self, g, arr, base="c"):
        """An initializer (or, sometimes, a Constant node) holding arr."""
        name = self.fresh(base)
        arr = np.asarray(arr)
        if self.r.random() < 0.25:
            g.nodes.append(helper.make_node(
                "Constant", [], [name], value=numpy_helper.from_array(arr, name)))
        else:
            g.inits.append(numpy_helper.from_array(arr, name))
        dt = onnx.helper.np_dtype_to_tensor_dtype(arr.dtype) if hasattr(
            onnx.helper, "np_dtype_to_tensor_dtype") else onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[arr.dtype]
        return V(name, dt, arr.shape)

    def ints(self, g, vals):
        return self.const(g, np.array(vals, dtype=np.int64), "i")

    def node(self, g, op, inputs, outs, domain="", **attrs):
        g.nodes.append(helper.make_node(op, [i if isinstance(i, str) else i.name for i in inputs],
                                        [o.name for o in outs], domain=domain, **attrs))
        for o in outs:
            g.values.append(o)
            self.annotate(g, o)
        return outs[0] if len(outs) == 1 else outs

    def annotate(self, g, v):
        """value_info for v: full, rank-only or none."""
        p = self.r.random()
        if p < 0.3:
            g.value_info.append(make_vi(v, "full"))
        elif p < 0.45:
            g.value_info.append(make_vi(v, "rank"))

    def pick(self, g, pred=lambda v: True):
        cands = [v for v in g.visible() if pred(v)]
        return self.r.choice(cands) if cands else None

    def floats(self, g, pred=lambda v: True):
        return self.pick(g, lambda v: v.dtype == F32 and pred(v))

    # -- op families ---------------------------------------------------------
    def unary(self, g):
        x = self.floats(g)
        ops = ["Relu", "Neg", "Abs", "Sigmoid", "Tanh", "Floor", "Ceil", "Identity", "Exp"]
        if self.opset >= 9:
            ops += ["Erf", "Sign"]
        op = self.r.choice(ops)
        return self.node(g, op, [x], [V(self.fresh(), F32, x.shape)])

    def binary(self, g):
        x = self.floats(g)
        op = self.r.choice(["Add", "Sub", "Mul", "Div", "Max", "Min"])
        p = self.r.random()
        if p < 0.4:
            y = self.floats(g, lambda v: v.shape == x.shape) or x
        elif p < 0.7 and x.shape:
            y = self.const(g, np.asarray(self.r.choice([0.5, 1.0, 2.0, -1.5]) + np.zeros(
                x.shape[-1:]), dtype=np.float32))
        else:
            y = self.const(g, np.array(self.r.choice([1.0, 0.0, 3.0]), dtype=np.float32))
        if op in ("Max", "Min") and self.opset < 8 and getattr(y, "shape", None) != x.shape:
            # Max-6 / Min-6 do not broadcast (from 8 they do): same shapes.
            y = x
        if op == "Div" and y is x:
            op = "Mul"
        if op == "Div":
            y = self.const(g, np.array(2.0, dtype=np.float32))
        ins = [x, y] if self.r.random() < 0.7 else [y, x]
        if op == "Div":
            ins = [x, y]
        return self.node(g, op, ins, [V(self.fresh(), F32, x.shape)])

    def cast_chain(self, g):
        x = self.floats(g)
        mid = self.r.choice([F64, F32, I64, I32])
        a = self.node(g, "Cast", [x], [V(self.fresh(), mid, x.shape)], to=mid)
        return self.node(g, "Cast", [a], [V(self.fresh(), F32, x.shape)], to=F32)

    def shape_glue(self, g):
        """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as exporters emit."""
        x = self.floats(g, lambda v: len(v.shape) >= 2)
        if not x:
            return None
        i = self.r.randrange(len(x.shape))
        s = self.node(g, "Shape", [x], [V(self.fresh("s"), I64, [len(x.shape)])])
        d = self.node(g, "Gather", [s, self.const(g, np.array(i, dtype=np.int64))],
                      [V(self.fresh("d"), I64, [])], axis=0)
        u = self.unsqueeze(g, d, [0])
        c = self.node(g, "Concat", [u, self.ints(g, [-1])], [V(self.fresh("c"), I64, [2])], axis=0)
        total = int(np.prod(x.shape))
        return self.node(g, "Reshape", [x, c],
                         [V(self.fresh(), F32, [x.shape[i], total // x.shape[i]])])

    def unsqueeze(self, g, x, axes):
        shape = list(x.shape)
        for a in sorted(axes):
            shape.insert(a, 1)
        out = V(self.fresh("u"), x.dtype, shape)
        if self.opset >= 13:
            return self.node(g, "Unsqueeze", [x, self.ints(g, axes)], [out])
        return self.node(g, "Unsqueeze", [x], [out], axes=axes)

    def squeeze(self, g):
        x = self.floats(g, lambda v: 1 in v.shape)
        if not x:
            x = self.floats(g)
            return self.unsqueeze(g, x, [self.r.randint(0, len(x.shape))])
        axes = [i for i, d in enumerate(x.shape) if d == 1][:1]
        out = V(self.fresh(), F32, [d for i, d in enumerate(x.shape) if i not in axes])
        if self.opset >= 13:
            return self.node(g, "Squeeze", [x, self.ints(g, axes)], [out])
        return self.node(g, "Squeeze", [x], [out], axes=axes)

    def transpose(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 2)
        if not x:
            return None
        perm = list(range(len(x.shape)))
        self.r.shuffle(perm)
        t = self.node(g, "Transpose", [x], [V(self.fresh(), F32, [x.shape[p] for p in perm])],
                      perm=perm)
        if self.r.random() < 0.3:  # a cancelling pair
            inv = [perm.index(i) for i in range(len(perm))]
            t = self.node(g, "Transpose", [t], [V(self.fresh(), F32, x.shape)], perm=inv)
        return t

    def reshape_flatten(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 2)
        if not x:
            return None
        if self.r.random() < 0.5:
            return self.node(g, "Flatten", [x], [V(self.fresh(), F32, [x.shape[0], int(
                np.prod(x.shape[1:]))])], axis=1)
        shape = self.ints(g, [0, -1])
        return self.node(g, "Reshape", [x, shape],
                         [V(self.fresh(), F32, [x.shape[0], int(np.prod(x.shape[1:]))])])

    def slice(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1 and v.shape[-1] >= 2)
        if not x:
            return None
        ax = len(x.shape) - 1
        n = x.shape[ax]
        start = self.r.randrange(n)
        end = self.r.choice([n, start + 1, 1 << 40])
        out = list(x.shape)
        out[ax] = min(end, n) - start
        if self.opset < 10:
            return self.node(g, "Slice", [x], [V(self.fresh(), F32, out)], starts=[start],
                             ends=[min(end, 1 << 30)], axes=[ax])
        return self.node(g, "Slice", [x, self.ints(g, [start]), self.ints(g, [end]),
                                      self.ints(g, [ax])], [V(self.fresh(), F32, out)])

    def pad(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        r = len(x.shape)
        pads = [0] * (2 * r)
        pads[r - 1], pads[2 * r - 1] = self.r.randint(0, 1), self.r.randint(0, 2)
        out = list(x.shape)
        out[-1] += pads[r - 1] + pads[2 * r - 1]
        if self.opset < 11:
            return self.node(g, "Pad", [x], [V(self.fresh(), F32, out)], pads=pads)
        return self.node(g, "Pad", [x, self.ints(g, pads)], [V(self.fresh(), F32, out)])

    def clip(self, g):
        x = self.floats(g)
        if self.opset < 11:
            return self.node(g, "Clip", [x], [V(self.fresh(), F32, x.shape)], min=-0.5, max=0.5)
        lo = self.const(g, np.array(-0.5, dtype=np.float32))
        hi = self.const(g, np.array(0.5, dtype=np.float32))
        return self.node(g, "Clip", [x, lo, hi], [V(self.fresh(), F32, x.shape)])

    def expand_tile(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        u = self.unsqueeze(g, x, [0])
        if self.opset >= 8 and self.r.random() < 0.5:
            return self.node(g, "Expand", [u, self.ints(g, [2] + [1] * len(x.shape))],
                             [V(self.fresh(), F32, [2] + x.shape)])
        return self.node(g, "Tile", [u, self.ints(g, [2] + [1] * len(x.shape))],
                         [V(self.fresh(), F32, [2] + x.shape)])

    def gather(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        ax = self.r.randrange(len(x.shape))
        idx = self.ints(g, [self.r.randrange(x.shape[ax]) for _ in range(2)])
        out = list(x.shape)
        out[ax] = 2
        return self.node(g, "Gather", [x, idx], [V(self.fresh(), F32, out)], axis=ax)

    def concat(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        y = self.floats(g, lambda v: v.shape == x.shape) or x
        ax = self.r.randrange(len(x.shape))
        out = list(x.shape)
        out[ax] *= 2
        return self.node(g, "Concat", [x, y], [V(self.fresh(), F32, out)], axis=ax)

    def split(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1 and v.shape[-1] % 2 == 0)
        if not x:
            return None
        out = x.shape[:-1] + [x.shape[-1] // 2]
        a, b = self.node(g, "Split", [x], [V(self.fresh(), F32, out), V(self.fresh(), F32, out)],
                         axis=len(x.shape) - 1)
        return self.node(g, "Sub", [a, b], [V(self.fresh(), F32, out)])

    def reduce(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        op = self.r.choice(["ReduceSum", "ReduceMean", "ReduceMax"])
        ax = self.r.randrange(len(x.shape))
        keep = self.r.randint(0, 1)
        out = list(x.shape)
        if keep:
            out[ax] = 1
        else:
            del out[ax]
        if op == "ReduceSum" and self.opset >= 13:
            return self.node(g, op, [x, self.ints(g, [ax])], [V(self.fresh(), F32, out)],
                             keepdims=keep)
        return self.node(g, op, [x], [V(self.fresh(), F32, out)], axes=[ax], keepdims=keep)

    def softmax(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        op = self.r.choice(["Softmax", "LogSoftmax"])
        return self.node(g, op, [x], [V(self.fresh(), F32, x.shape)], axis=len(x.shape) - 1)

    def argmax(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        out = x.shape[:-1] + [1]
        a = self.node(g, "ArgMax", [x], [V(self.fresh(), I64, out)], axis=len(x.shape) - 1)
        return self.node(g, "Cast", [a], [V(self.fresh(), F32, out)], to=F32)

    def where(self, g):
        if self.opset < 9:
            return None
        x = self.floats(g)
        y = self.floats(g, lambda v: v.shape == x.shape) or x
        c = self.node(g, "Greater", [x, y], [V(self.fresh(), BOOL, x.shape)])
        if self.r.random() < 0.4:
            c = self.node(g, "Not", [c], [V(self.fresh(), BOOL, x.shape)])
        return self.node(g, "Where", [c, x, y], [V(self.fresh(), F32, x.shape)])

    def matmul(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        k, m = x.shape[-1], self.r.randint(1, 5)
        w = self.const(g, (np.arange(k * m, dtype=np.float32).reshape(k, m) % 7 - 3) / 4)
        out = x.shape[:-1] + [m]
        y = self.node(g, "MatMul", [x, w], [V(self.fresh(), F32, out)])
        if self.r.random() < 0.5:
            b = self.const(g, np.linspace(-1, 1, m, dtype=np.float32))
            y = self.node(g, "Add", [y, b], [V(self.fresh(), F32, out)])
        return y

    def gemm(self, g):
        x = self.floats(g, lambda v: len(v.shape) == 2)
        if not x:
            return None
        k, m = x.shape[1], self.r.randint(1, 4)
        w = self.const(g, np.ones((m, k), dtype=np.float32) * 0.25)
        b = self.const(g, np.arange(m, dtype=np.float32))
        return self.node(g, "Gemm", [x, w, b], [V(self.fresh(), F32, [x.shape[0], m])],
                         transB=1, alpha=0.5)

    def conv_block(self, g):
        x = self.floats(g, lambda v: len(v.shape) == 4)
        if not x:
            x = self.floats(g, lambda v: len(v.shape) == 2)
            if not x:
                return None
            x = self.unsqueeze(g, self.unsqueeze(g, x, [1]), [3])  # [a, 1, b, 1]
        n, c, h, w = x.shape
        m = self.r.randint(1, 3)
        W = self.const(g, (np.arange(m * c * 9, dtype=np.float32).reshape(m, c, 3, 3) % 5 - 2) / 8)
        B = self.const(g, np.arange(m, dtype=np.float32) / 3)
        y = self.node(g, "Conv", [x, W, B], [V(self.fresh(), F32, [n, m, h, w])],
                      pads=[1, 1, 1, 1], kernel_shape=[3, 3])
        if self.r.random() < 0.7:
            sc = self.const(g, np.linspace(0.5, 1.5, m, dtype=np.float32))
            bi = self.const(g, np.linspace(-0.2, 0.2, m, dtype=np.float32))
            mean = self.const(g, np.linspace(-0.1, 0.1, m, dtype=np.float32))
            var = self.const(g, np.linspace(0.5, 2.0, m, dtype=np.float32))
            attrs = {"epsilon": 1e-5}
            y = self.node(g, "BatchNormalization", [y, sc, bi, mean, var],
                          [V(self.fresh(), F32, [n, m, h, w])], **attrs)
        y = self.node(g, "Relu", [y], [V(self.fresh(), F32, [n, m, h, w])])
        if h >= 2 and w >= 2 and self.r.random() < 0.5:
            op = self.r.choice(["MaxPool", "AveragePool"])
            y = self.node(g, op, [y], [V(self.fresh(), F32, [n, m, h // 2, w // 2])],
                          kernel_shape=[2, 2], strides=[2, 2])
        return y

    def const_of_shape(self, g):
        if self.opset < 9:
            return None
        x = self.floats(g)
        s = self.node(g, "Shape", [x], [V(self.fresh("s"), I64, [len(x.shape)])])
        c = self.node(g, "ConstantOfShape", [s], [V(self.fresh(), F32, x.shape)],
                      value=numpy_helper.from_array(np.array([0.5], dtype=np.float32)))
        return self.node(g, "Mul", [x, c], [V(self.fresh(), F32, x.shape)])

    def layer_norm(self, g):
        if self.opset < 17:
            return None
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        d = x.shape[-1]
        s = self.const(g, np.linspace(0.5, 1.5, d, dtype=np.float32))
        b = self.const(g, np.linspace(-0.5, 0.5, d, dtype=np.float32))
        return self.node(g, "LayerNormalization", [x, s, b], [V(self.fresh(), F32, x.shape)],
                         axis=-1, epsilon=1e-5)

    def dropout(self, g):
        x = self.floats(g)
        return self.node(g, "Dropout", [x], [V(self.fresh(), F32, x.shape)])

    def activation(self, g):
        x = self.floats(g)
        op, attrs = self.r.choice([("LeakyRelu", {"alpha": 0.1}), ("Elu", {"alpha": 0.5}),
                                   ("HardSigmoid", {}), ("Softsign", {}), ("Softplus", {}),
                                   ("Reciprocal", {}), ("Selu", {})])
        return self.node(g, op, [x], [V(self.fresh(), F32, x.shape)], **attrs)

    def variadic(self, g):
        x = self.floats(g)
        y = self.floats(g, lambda v: v.shape == x.shape) or x
        op = self.r.choice(["Sum", "Mean", "Max", "Min"])
        return self.node(g, op, [x, y, x], [V(self.fresh(), F32, x.shape)])

    def compare_logic(self, g):
        if self.opset < 9:
            return None
        x = self.floats(g)
        y = self.floats(g, lambda v: v.shape == x.shape) or x
        a = self.node(g, self.r.choice(["Less", "Greater", "Equal"]), [x, y],
                      [V(self.fresh(), BOOL, x.shape)])
        b = self.node(g, "IsNaN", [x], [V(self.fresh(), BOOL, x.shape)])
        c = self.node(g, self.r.choice(["And", "Or", "Xor"]), [a, b],
                      [V(self.fresh(), BOOL, x.shape)])
        return self.node(g, "Cast", [c], [V(self.fresh(), F32, x.shape)], to=F32)

    def topk(self, g):
        if self.opset < 10:
            return None
        x = self.floats(g, lambda v: len(v.shape) >= 1 and v.shape[-1] >= 2)
        if not x:
            return None
        out = x.shape[:-1] + [2]
        vals, idx = self.node(g, "TopK", [x, self.ints(g, [2])],
                              [V(self.fresh(), F32, out), V(self.fresh(), I64, out)],
                              axis=-1)
        return self.node(g, "Add", [vals, self.node(g, "Cast", [idx], [V(self.fresh(), F32, out)],
                                                    to=F32)], [V(self.fresh(), F32, out)])

    def cumsum(self, g):
        if self.opset < 11:
            return None
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        ax = self.const(g, np.array(len(x.shape) - 1, dtype=np.int64))
        return self.node(g, "CumSum", [x, ax], [V(self.fresh(), F32, x.shape)],
                         reverse=self.r.randint(0, 1))

    def range_op(self, g):
        if self.opset < 11:
            return None
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        n = x.shape[-1]
        s = self.node(g, "Shape", [x], [V(self.fresh("s"), I64, [len(x.shape)])])
        last = self.node(g, "Gather", [s, self.const(g, np.array(-1, dtype=np.int64))],
                         [V(self.fresh("d"), I64, [])], axis=0)
        r = self.node(g, "Range", [self.const(g, np.array(0, dtype=np.int64)), last,
                                   self.const(g, np.array(1, dtype=np.int64))],
                      [V(self.fresh(), I64, [n])])
        rf = self.node(g, "Cast", [r], [V(self.fresh(), F32, [n])], to=F32)
        return self.node(g, "Mul", [x, rf], [V(self.fresh(), F32, x.shape)])

    def einsum(self, g):
        if self.opset < 12:
            return None
        x = self.floats(g, lambda v: len(v.shape) == 2)
        if not x:
            return None
        w = self.const(g, np.linspace(-1, 1, x.shape[1] * 3, dtype=np.float32).reshape(
            x.shape[1], 3))
        return self.node(g, "Einsum", [x, w], [V(self.fresh(), F32, [x.shape[0], 3])],
                         equation="ij,jk->ik")

    def rnn(self, g):
        x = self.floats(g, lambda v: len(v.shape) == 3)
        if not x:
            return None
        seq, batch, inp = x.shape
        hidden = 2
        op = self.r.choice(["LSTM", "GRU"])
        gates = 4 if op == "LSTM" else 3
        W = self.const(g, np.linspace(-0.5, 0.5, gates * hidden * inp,
                                      dtype=np.float32).reshape(1, gates * hidden, inp))
        R = self.const(g, np.linspace(0.3, -0.3, gates * hidden * hidden,
                                      dtype=np.float32).reshape(1, gates * hidden, hidden))
        y = self.node(g, op, [x, W, R], [V(self.fresh(), F32, [seq, 1, batch, hidden])],
                      hidden_size=hidden)
        return y

    def gather_elements(self, g):
        if self.opset < 11:
            return None
        x = self.floats(g, lambda v: len(v.shape) >= 1)
        idx = self.const(g, (np.arange(int(np.prod(x.shape))) % x.shape[-1]).astype(
            np.int64).reshape(x.shape))
        return self.node(g, "GatherElements", [x, idx], [V(self.fresh(), F32, x.shape)],
                         axis=len(x.shape) - 1)

    def instance_norm(self, g):
        x = self.floats(g, lambda v: len(v.shape) >= 3)
        if not x:
            return None
        c = x.shape[1]
        return self.node(g, "InstanceNormalization",
                         [x, self.const(g, np.linspace(0.5, 1.5, c, dtype=np.float32)),
                          self.const(g, np.linspace(-1, 1, c, dtype=np.float32))],
                         [V(self.fresh(), F32, x.shape)], epsilon=1e-5)

    def global_pool(self, g):
        x = self.floats(g, lambda v: len(v.shape) == 4)
        if not x:
            return None
        op = self.r.choice(["GlobalAveragePool", "GlobalMaxPool"])
        return self.node(g, op, [x], [V(self.fresh(), F32, x.shape[:2] + [1, 1])])

    # -- control flow --------------------------------------------------------
    def cond(self, g):
        p = self.r.random()
        if p < 0.3:
            return self.const(g, np.array(self.r.random() < 0.5))
        x = self.floats(g)
        if self.opset >= 13 or not x.shape:
            s = self.node(g, "ReduceSum", [x], [V(self.fresh(), F32, [])], keepdims=0)
        else:
            s = self.node(g, "ReduceSum", [x], [V(self.fresh(), F32, [])],
                          axes=list(range(len(x.shape))), keepdims=0)
        return self.node(g, "Greater", [s, self.const(g, np.array(0.0, dtype=np.float32))],
                         [V(self.fresh(), BOOL, [])])

    def body(self, g, inputs, result_from, name):
        """A subgraph over `inputs` (plus every value g can see): a few random
        nodes, then outputs made by result_from(body)."""
        b = Graph(self, name, parent=g, depth=g.depth + 1)
        for v in inputs:
            b.inputs.append(v)
            b.own.append(v)
        self.fill(b, self.r.randint(1, 4))
        b.outputs = result_from(b)
        return b

    def same_shape_from(self, b, like):
        """A float value of like's run-time shape computed in body b."""
        src = self.pick(b, lambda v: v.dtype == F32 and v.shape == like.shape) or like
        out = src
        for _ in range(self.r.randint(1, 2)):
            op = self.r.choice(["Relu", "Neg", "Abs", "Tanh", "Identity"])
            out = self.node(b, op, [out], [V(self.fresh(), F32, like.shape)])
        return out

    def if_node(self, g):
        if g.depth >= MAX_DEPTH:
            return None
        c = self.cond(g)
        like = self.floats(g)
        shape_out = self.r.random() < 0.35

        def outs(b):
            res = [self.same_shape_from(b, like)]
            if shape_out:
                # Shape of a value whose type may be unknown here (an untyped
                # If result from an outer scope or this body).
                t = self.pick(b, lambda v: v.dtype == F32 and len(v.shape) == len(like.shape)) \
                    or like
                res.append(self.node(b, "Shape", [t], [V(self.fresh("s"), I64,
                                                           [len(like.shape)])]))
            return res

        tb = self.body(g, [], outs, self.fresh("then"))
        eb = self.body(g, [], outs, self.fresh("else"))
        results = [V(self.fresh("r"), F32, like.shape, decl="none")]
        if shape_out:
            results.append(V(self.fresh("rs"), I64, [len(like.shape)], decl="none"))
        g.nodes.append(helper.make_node("If", [c.name], [r.name for r in results],
                                        then_branch=tb.proto(), else_branch=eb.proto()))
        g.values.extend(results)
        for r in results:
            self.annotate(g, r)
        return results[0]

    def loop_node(self, g):
        if g.depth >= MAX_DEPTH:
            return None
        v = self.floats(g)
        trips = self.r.randint(1, 3)
        trip = self.const(g, np.array(trips, dtype=np.int64))
        cond = self.const(g, np.array(True))
        it = V(self.fresh("it"), I64, [])
        ci = V(self.fresh("cin"), BOOL, [])
        vi = V(self.fresh("vin"), F32, v.shape, decl=self.r.choice([None, "rank", "none"]))
        scan_out = self.r.random() < 0.4

        def outs(b):
            co = self.node(b, "Identity", [ci], [V(self.fresh("cout"), BOOL, [])])
            vo = self.node(b, "Add", [vi, self.same_shape_from(b, vi)],
                           [V(self.fresh("vout"), F32, v.shape)])
            res = [co, vo]
            if scan_out:
                res.append(self.node(b, "Relu", [vo], [V(self.fresh("so"), F32, v.shape)]))
            return res

        body = self.body(g, [it, ci, vi], outs, self.fresh("loop"))
        results = [V(self.fresh("lv"), F32, v.shape, decl=self.r.choice([None, "rank", "none"]))]
        if scan_out:
            results.append(V(self.fresh("ls"), F32, [trips] + v.shape, decl="none"))
        g.nodes.append(helper.make_node("Loop", [trip.name, cond.name, v.name],
                                        [r.name for r in results], body=body.proto()))
        g.values.extend(results)
        return results[0]

    def scan_node(self, g):
        if g.depth >= MAX_DEPTH or self.opset < 9:
            return None
        x = self.floats(g, lambda v: len(v.shape) >= 2)
        if not x:
            return None
        st = self.const(g, np.zeros(x.shape[1:], dtype=np.float32))
        si = V(self.fresh("sin"), F32, x.shape[1:])
        xi = V(self.fresh("xin"), F32, x.shape[1:])

        def outs(b):
            so = self.node(b, "Add", [si, xi], [V(self.fresh("sout"), F32, x.shape[1:])])
            yo = self.node(b, "Mul", [xi, self.same_shape_from(b, xi)],
                           [V(self.fresh("yout"), F32, x.shape[1:])])
            return [so, yo]

        body = self.body(g, [si, xi], outs, self.fresh("scan"))
        results = [V(self.fresh("sf"), F32, x.shape[1:]), V(self.fresh("sy"), F32, x.shape)]
        g.nodes.append(helper.make_node("Scan", [st.name, x.name], [r.name for r in results],
                                        body=body.proto(), num_scan_inputs=1))
        g.values.extend(results)
        return results[0]

    FAMILIES = ["unary", "binary", "binary", "cast_chain", "shape_glue", "squeeze", "transpose",
                "reshape_flatten", "slice", "pad", "clip", "expand_tile", "gather", "concat",
                "split", "reduce", "softmax", "argmax", "where", "matmul", "gemm", "conv_block",
                "const_of_shape", "layer_norm", "dropout", "activation", "variadic",
                "compare_logic", "topk", "cumsum", "range_op", "einsum", "rnn",
                "gather_elements", "instance_norm", "global_pool", "if_node", "if_node",
                "loop_node", "scan_node", "ml", "ml", "ml"]

    def ml(self, g):
        """A classic-ML (ai.onnx.ml) op on a [N, C] float value: Scaler
        (sometimes into a LinearRegressor: fuse-scaler-into-linear's pattern),
        Normalizer, Binarizer, Imputer, ArrayFeatureExtractor, LinearClassifier,
        or a TreeEnsembleRegressor of small random trees."""
        if self.opset < 12:
            return None
        x = self.floats(g, lambda v: len(v.shape) == 2 and v.shape[1] >= 1)
        if x is None:
            return None
        r, (n, c) = self.r, x.shape
        self.uses_ml = True

        def vals(k, lo=-2.0, hi=2.0):
            return [round(r.uniform(lo, hi), 3) for _ in range(k)]
        kind = r.choice(["scaler", "scaler", "normalizer", "binarizer", "imputer", "afe",
                         "linclf", "trees"])
        if kind == "scaler":
            y = self.node(g, "Scaler", [x], [V(self.fresh(), F32, [n, c])], domain=ML,
                          offset=vals(c if r.random() < 0.7 else 1),
                          scale=vals(c if r.random() < 0.7 else 1))
            if r.random() < 0.6:
                t = r.randint(1, 3)
                return self.node(g, "LinearRegressor", [y], [V(self.fresh(), F32, [n, t])],
                                 domain=ML, coefficients=vals(t * c), intercepts=vals(t),
                                 targets=t)
            return y
        if kind == "normalizer":
            return self.node(g, "Normalizer", [x], [V(self.fresh(), F32, [n, c])], domain=ML,
                             norm=r.choice(["MAX", "L1", "L2"]))
        if kind == "binarizer":
            return self.node(g, "Binarizer", [x], [V(self.fresh(), F32, [n, c])], domain=ML,
                             threshold=round(r.uniform(-1, 1), 2))
        if kind == "imputer":
            return self.node(g, "Imputer", [x], [V(self.fresh(), F32, [n, c])], domain=ML,
                             imputed_value_floats=vals(c), replaced_value_float=0.0)
        if kind == "afe":
            idx = [r.randrange(c) for _ in range(r.randint(1, 3))]
            return self.node(g, "ArrayFeatureExtractor", [x, self.ints(g, idx)],
                             [V(self.fresh(), F32, [n, len(idx)])], domain=ML)
        if kind == "linclf":
            k = r.randint(2, 4)
            _, scores = self.node(
                g, "LinearClassifier", [x],
                [V(self.fresh(), I64, [n]), V(self.fresh(), F32, [n, k])], domain=ML,
                coefficients=vals(k * c), intercepts=vals(k), classlabels_ints=list(range(k)),
                post_transform=r.choice(["NONE", "LOGISTIC", "SOFTMAX"]))
            return scores
        attrs = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids",
                                 "nodes_modes", "nodes_values", "nodes_truenodeids",
                                 "nodes_falsenodeids", "target_treeids", "target_nodeids",
                                 "target_ids", "target_weights"]}
        t = r.randint(1, 2)
        for tree in range(r.randint(1, 3)):
            # node 0 splits, 1 and 2 are leaves
            for node, mode in enumerate([r.choice(["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GT",
                                                   "BRANCH_GTE"]), "LEAF", "LEAF"]):
                attrs["nodes_treeids"].append(tree)
                attrs["nodes_nodeids"].append(node)
                attrs["nodes_featureids"].append(r.randrange(c) if node == 0 else 0)
                attrs["nodes_modes"].append(mode)
                attrs["nodes_values"].append(round(r.uniform(-1, 1), 2) if node == 0 else 0.0)
                attrs["nodes_truenodeids"].append(1 if node == 0 else 0)
                attrs["nodes_falsenodeids"].append(2 if node == 0 else 0)
                if node:
                    for target in range(t):
                        attrs["target_treeids"].append(tree)
                        attrs["target_nodeids"].append(node)
                        attrs["target_ids"].append(target)
                        attrs["target_weights"].append(round(r.uniform(-2, 2), 3))
        return self.node(g, "TreeEnsembleRegressor", [x], [V(self.fresh(), F32, [n, t])],
                         domain=ML, n_targets=t,
                         aggregate_function=r.choice(["SUM", "AVERAGE", "MIN", "MAX"]), **attrs)

    def fill(self, g, count):
        made = 0
        while made < count:
            fam = self.r.choice(self.FAMILIES)
            if fam in ("if_node", "loop_node", "scan_node") and g.depth >= MAX_DEPTH:
                continue
            v = getattr(self, fam)(g)
            if v is None:
                continue
            made += 1
            # Keep sizes small: a value past 4096 elements is not reused.
            for val in g.own[-6:]:
                if val.shape and np.prod(val.shape) > 4096:
                    val.dtype = -1

    def generate(self):
        g = Graph(self, "main", parent=None, depth=0)
        shapes = [[N_VALUE, 4], [N_VALUE, 2, 3, 3], [2, 3, 4], [5]]
        for i in range(self.r.randint(1, 3)):
            shape = self.r.choice(shapes)
            sym = shape[0] == N_VALUE and self.r.random() < 0.7
            decl = [None if (sym and j == 0) else d for j, d in enumerate(shape)]
            v = V(f"x{i}", F32, shape, decl)
            g.inputs.append(v)
            g.own.append(v)
        if self.r.random() < 0.5:
            # An initializer that is also a graph input: a default the user
            # may override, never a constant.
            d = V("w_default", F32, [4 if self.r.random() < 0.5 else 5])
            g.inputs.append(d)
            g.own.append(d)
            g.inits.append(numpy_helper.from_array(
                np.linspace(-1, 1, d.shape[0], dtype=np.float32), "w_default"))
        self.fill(g, self.r.randint(3, 12))
        floats = [v for v in g.values if v.dtype == F32]
        outs = self.r.sample(floats, min(len(floats), self.r.randint(1, 3))) or [g.inputs[0]]
        g.outputs = outs
        imports = [helper.make_opsetid("", self.opset)]
        if self.uses_ml:
            imports.append(helper.make_opsetid(ML, 2))
        model = helper.make_model(g.proto(main=True), producer_name="onnx-opt-fuzz",
                                  opset_imports=imports)
        # The IR version each opset shipped with (IR 3 needs every
        # initializer listed as an input: not what exporters write).
        model.ir_version = (4 if self.opset < 9 else 5 if self.opset < 11 else
                            6 if self.opset < 12 else 7 if self.opset < 14 else 8)
        return model


class Graph:
    def __init__(self, gen, name, parent, depth):
        self.gen, self.name, self.parent, self.depth = gen, name, parent, depth
        self.nodes, self.inits, self.value_info = [], [], []
        self.inputs, self.outputs, self.values, self.own = [], [], [], []
        self.values = self.own

    def visible(self):
        seen = list(self.own)
        if self.parent:
            seen += self.parent.visible()
        return [v for v in seen if v.dtype != -1]

    def all_inits(self):
        return self.inits + (self.parent.all_inits() if self.parent else [])

    def proto(self, main=False):
        def io(v, out):
            mode = "full"
            if out and not main:
                mode = self.gen.r.choice(["full", "rank", "elem", "none"])
            elif out:
                mode = self.gen.r.choice(["full", "rank"])
            elif v.decl == "none" and not main:
                mode = "none"
            elif v.decl == "rank":
                mode = "rank"
            return make_vi(v, mode)

        ins = [io(v, False) for v in self.inputs]
        outs = [io(v, True) for v in self.outputs]
        outputs = {v.name for v in self.outputs}
        vi = [x for x in self.value_info if x.name not in outputs]
        return helper.make_graph(self.nodes, self.name, ins, outs, initializer=self.inits,
                                 value_info=vi)


def make_vi(v, mode):
    if mode == "none":
        return onnx.ValueInfoProto(name=v.name)
    if mode == "elem":
        return helper.make_tensor_value_info(v.name, v.dtype, None)
    if mode == "rank":
        return helper.make_tensor_value_info(v.name, v.dtype, [None] * len(v.shape))
    decl = v.decl if isinstance(v.decl, list) else v.shape
    dims = ["N" if d is None else d for d in decl]
    return helper.make_tensor_value_info(v.name, v.dtype, dims)


def generate(seed):
    return Gen(seed).generate()


if __name__ == "__main__":
    onnx.save(generate(int(sys.argv[1])), sys.argv[2])
