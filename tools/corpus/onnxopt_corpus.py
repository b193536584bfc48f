"""The model corpus and the helpers that perf/ and test/e2e/ share.

    import onnxopt_corpus as corpus    # with tools/corpus on sys.path

One model list (MODELS: name -> factory, input spec, dynamic axes, family); the
corpus that perf/make_corpus.py exports is its entries with corpus=True (the
same definitions, seeds and exports as ../shared/corpus/make_corpus.py, so the
same files); the others are small models the tests use. Also: the randomised
BatchNorm statistics (randomise), seeded inputs (make_inputs), dynamic axes,
the export of a default or raw ONNX file (export), the large external-data
model generator (chain_model), and the check/report helper every Python test
prints with (Report).
"""
import collections
import math
import os
import re
import subprocess
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

OPSET = 17


# ----------------------------------------------------------------------------------------
# plain torch.nn sequence models
# ----------------------------------------------------------------------------------------
class TransformerEncoderModel(nn.Module):
    """BERT-ish: token embedding + learned positions + nn.TransformerEncoder (post-norm, gelu)."""

    def __init__(self, vocab=1000, d=256, heads=8, layers=4, ff=1024, max_len=512):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.1, activation="gelu",
                                           batch_first=True)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, 2)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.tok(ids) + self.pos(pos)
        x = self.enc(x)
        return self.head(self.norm(x[:, 0]))


class PreNormEncoderModel(nn.Module):
    """nn.TransformerEncoder, norm_first=True, relu, float input with key padding mask."""

    def __init__(self, d=192, heads=6, layers=3, ff=768):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, activation="relu",
                                           batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, x, pad_mask):
        return self.enc(x, src_key_padding_mask=pad_mask)


class CausalSelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.h = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.h, C // self.h).transpose(1, 2)
        k = k.view(B, T, self.h, C // self.h).transpose(1, 2)
        v = v.view(B, T, self.h, C // self.h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        att = att.masked_fill(mask, float("-inf"))
        att = torch.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class GPTBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = CausalSelfAttention(d, heads)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.act = nn.GELU()
        self.out = nn.Linear(4 * d, d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.out(self.act(self.fc(self.ln2(x))))


class TinyGPT(nn.Module):
    """GPT-2-like decoder: causal mask built from the dynamic sequence length, tied lm head."""

    def __init__(self, vocab=2048, d=256, heads=8, layers=4, max_len=512):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(max_len, d)
        self.blocks = nn.ModuleList([GPTBlock(d, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)

    def forward(self, ids):
        T = ids.shape[1]
        pos = torch.arange(0, T, dtype=torch.long, device=ids.device).unsqueeze(0)
        x = self.wte(ids) + self.wpe(pos)
        for b in self.blocks:
            x = b(x)
        x = self.ln_f(x)
        return x @ self.wte.weight.t()


class RMSNorm(nn.Module):
    """LLaMA/T5's root-mean-square norm, as those models write it (no nn.RMSNorm in
    torch 1.13): weight * (x * rsqrt(mean(x^2) + eps))."""

    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class LlamaBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.n1 = RMSNorm(d)
        self.attn = CausalSelfAttention(d, heads)
        self.n2 = RMSNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.act = nn.GELU(approximate="tanh")
        self.out = nn.Linear(4 * d, d)

    def forward(self, x):
        x = x + self.attn(self.n1(x))
        return x + self.out(self.act(self.fc(self.n2(x))))


class SmallLlama(nn.Module):
    """Decoder with RMSNorm, the tanh GELU and causal attention: what -O3 fuses at
    opset 23 (RMSNormalization, Gelu, Attention)."""

    def __init__(self, vocab=512, d=128, heads=4, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([LlamaBlock(d, heads) for _ in range(layers)])
        self.norm = RMSNorm(d)

    def forward(self, ids):
        x = self.tok(ids)
        for b in self.blocks:
            x = b(x)
        return self.norm(x) @ self.tok.weight.t()


class LSTMModel(nn.Module):
    def __init__(self, fin=80, hid=256, layers=2, ncls=32):
        super().__init__()
        self.rnn = nn.LSTM(fin, hid, layers, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hid, ncls)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y)


class GRUModel(nn.Module):
    def __init__(self, vocab=500, d=128, hid=256, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.rnn = nn.GRU(d, hid, layers, batch_first=True)
        self.fc = nn.Linear(hid, vocab)

    def forward(self, ids):
        y, h = self.rnn(self.emb(ids))
        return self.fc(y), h


# ----------------------------------------------------------------------------------------
# small models for the tests (corpus=False)
# ----------------------------------------------------------------------------------------
class SmallTransformer(nn.Module):
    """Token embedding, a 2-layer nn.TransformerEncoder (batch_first), a linear head."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 64)
        layer = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(64, 100)

    def forward(self, tokens):
        return self.head(self.enc(self.emb(tokens)))


class SmallGPT(nn.Module):
    """Decoder-only: token + position embeddings, pre-norm causal self-attention blocks."""

    def __init__(self, vocab=512, d=128, heads=4, layers=2, max_len=64):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        layer = nn.TransformerEncoderLayer(d, heads, 4 * d, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids):
        n = ids.shape[1]
        pos = torch.arange(n, device=ids.device).unsqueeze(0)
        mask = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        x = self.tok(ids) + self.pos(pos)
        return self.head(self.norm(self.blocks(x, mask=mask)))


class SmallLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(32, 48, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(96, 10)

    def forward(self, x):
        return self.fc(self.lstm(x)[0])


class SmallGru(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(300, 64)
        self.gru = nn.GRU(64, 96, num_layers=2, batch_first=True)
        self.fc = nn.Linear(96, 300)

    def forward(self, ids):
        return self.fc(self.gru(self.emb(ids))[0])


class SeqFirstEncoder(nn.Module):
    """nn.TransformerEncoder with batch_first=False (torch's slow path: no fused kernel)."""

    def __init__(self, d=64, heads=4, layers=2):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d, heads, 128, dropout=0.0, batch_first=False)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, x):
        return self.enc(x)


class SeqFirstRnn(nn.Module):
    """The other RNN layouts: sequence-first, a 2-layer LSTM and a 2-layer
    bidirectional GRU, with given initial states."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(12, 16, 2)
        self.gru = nn.GRU(16, 8, 2, bidirectional=True)

    def forward(self, x):
        h0 = torch.zeros(2, x.size(1), 16) + 0.1
        y, (h, c) = self.lstm(x, (h0, h0 * 2))
        z, g = self.gru(y)
        return z, h, c, g


class Functional(nn.Module):
    """The common functional ops: interpolate, pad, softmax, layer_norm,
    group_norm, einsum, index ops, cat/stack/split/chunk, arithmetic with
    scalars, type conversions."""

    def __init__(self):
        super().__init__()
        self.gn = nn.GroupNorm(4, 8)
        self.ln = nn.LayerNorm(16)
        self.w = nn.Parameter(torch.randn(16, 16))

    def forward(self, x):
        # x: [batch, 8, 16, 16]
        up = F.interpolate(x, scale_factor=2.0, mode="nearest")
        bl = F.interpolate(x, size=(24, 24), mode="bilinear", align_corners=False)
        y = F.avg_pool2d(up, 2) + F.adaptive_avg_pool2d(bl, 1)
        y = F.pad(y, (1, 2, 0, 1), mode="constant", value=0.5)
        y = F.pad(y, (2, 2, 1, 1), mode="reflect")[:, :, 1:-2, 2:-5]
        y = self.gn(y) + self.ln(y)
        a, b = torch.split(y, [3, 5], dim=1)
        c, d = torch.chunk(y, 2, dim=1)
        z = torch.cat([a, b], dim=1) + torch.stack([c, d], dim=0).sum(0).repeat(1, 2, 1, 1)
        z = torch.einsum("bchw,wv->bchv", z, self.w)
        z = F.softmax(z, dim=-1) + F.log_softmax(z, dim=1) * 0.1
        idx = torch.tensor([3, 0, 5])
        z = torch.index_select(z, 1, idx) + z[:, idx] - z[:, 1:4]
        g = torch.gather(z, 3, (z > 0).long())
        n = (z * 3).long().float() / 3 + (2 - z) * 0.5 - z / 4 + z // 2 + z.max() - z.min()
        return g.sum(-1), n.to(torch.float64).mean(dim=(2, 3))


# ----------------------------------------------------------------------------------------
# wrappers for models whose outputs are dicts / lists
# ----------------------------------------------------------------------------------------
class SegWrap(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)["out"]


class DetWrap(nn.Module):
    """torchvision detection models take a list of images and return a list of dicts."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        if torch.jit.is_scripting():
            # Scripted, torchvision's detection models return (losses, detections).
            out = self.m([x[0]])[1][0]
        else:
            out = self.m([x[0]])[0]
        return out["boxes"], out["scores"], out["labels"]


def tv(name, **kw):
    return getattr(torchvision.models, name)(weights=None, **kw)


def tvseg(name, **kw):
    return getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, **kw)


def tvdet(name, **kw):
    return getattr(torchvision.models.detection, name)(weights=None, weights_backbone=None, **kw)


# name -> (factory, inputs spec, dynamic axes kind, extra)
#   inputs spec: list of (input_name, shape, dtype, (low, high) for ints)
MODELS = collections.OrderedDict()


def add(name, factory, inputs, dyn, family, note="", corpus=True):
    """dyn: which input axes are dynamic: "batch" (axis 0), "batch_seq" (0 and 1),
    "seq_batch" (sequence-first: 0 is seq, 1 batch), "batch_hw" (0, 2, 3), "none".
    corpus=False: a small model for the tests, not exported by make_corpus.py."""
    MODELS[name] = dict(factory=factory, inputs=inputs, dyn=dyn, family=family, note=note,
                        corpus=corpus)


def img(h=224, w=224):
    return [("input", [1, 3, h, w], "float32", None)]


add("resnet50", lambda: tv("resnet50"), img(), "batch", "cnn")
add("mobilenet_v3_large", lambda: tv("mobilenet_v3_large"), img(), "batch", "cnn")
add("efficientnet_b0", lambda: tv("efficientnet_b0"), img(), "batch", "cnn")
add("densenet121", lambda: tv("densenet121"), img(), "batch", "cnn")
add("vit_b_16", lambda: tv("vit_b_16"), img(), "batch", "transformer")
add("convnext_tiny", lambda: tv("convnext_tiny"), img(), "batch", "cnn")
add("regnet_y_400mf", lambda: tv("regnet_y_400mf"), img(), "batch", "cnn")
add("squeezenet1_1", lambda: tv("squeezenet1_1"), img(), "batch", "cnn")
add("shufflenet_v2_x1_0", lambda: tv("shufflenet_v2_x1_0"), img(), "batch", "cnn")
add("googlenet", lambda: tv("googlenet", init_weights=True, aux_logits=False), img(), "batch", "cnn")
add("inception_v3", lambda: tv("inception_v3", init_weights=True, aux_logits=False), img(299, 299),
    "batch", "cnn")
add("mnasnet1_0", lambda: tv("mnasnet1_0"), img(), "batch", "cnn")
add("swin_t", lambda: tv("swin_t"), img(), "batch", "transformer")
add("fcn_resnet50", lambda: SegWrap(tvseg("fcn_resnet50", aux_loss=False)), img(256, 256),
    "batch_hw", "segmentation")
add("deeplabv3_mobilenet_v3_large",
    lambda: SegWrap(tvseg("deeplabv3_mobilenet_v3_large", aux_loss=False)), img(256, 256),
    "batch_hw", "segmentation")
add("lraspp_mobilenet_v3_large", lambda: SegWrap(tvseg("lraspp_mobilenet_v3_large")), img(256, 256),
    "batch_hw", "segmentation")
add("ssdlite320_mobilenet_v3_large", lambda: DetWrap(tvdet("ssdlite320_mobilenet_v3_large")),
    img(320, 320), "none", "detection",
    "single image; batch fixed to 1 (list-of-images API)")
add("retinanet_resnet50_fpn", lambda: DetWrap(tvdet("retinanet_resnet50_fpn")), img(320, 320),
    "none", "detection", "single image; batch fixed to 1")
add("fasterrcnn_mobilenet_v3_large_320_fpn",
    lambda: DetWrap(tvdet("fasterrcnn_mobilenet_v3_large_320_fpn")), img(320, 320), "none",
    "detection", "single image; batch fixed to 1")
add("transformer_encoder", TransformerEncoderModel, [("ids", [2, 16], "int64", (0, 1000))],
    "batch_seq", "transformer")
add("transformer_encoder_prenorm", PreNormEncoderModel,
    [("x", [2, 16, 192], "float32", None), ("pad_mask", [2, 16], "bool", None)], "batch_seq",
    "transformer")
add("tiny_gpt", TinyGPT, [("ids", [2, 16], "int64", (0, 2048))], "batch_seq", "transformer")
add("lstm_bidir", LSTMModel, [("x", [2, 50, 80], "float32", None)], "batch_seq", "rnn")
add("gru_lm", GRUModel, [("ids", [2, 20], "int64", (0, 500))], "batch_seq", "rnn")


add("small_transformer", SmallTransformer, [("tokens", [2, 9], "int64", (0, 100))], "batch_seq",
    "transformer", corpus=False)
add("small_gpt", SmallGPT, [("ids", [2, 16], "int64", (0, 512))], "batch_seq", "transformer",
    corpus=False)
add("small_llama", SmallLlama, [("ids", [2, 16], "int64", (0, 512))], "batch_seq",
    "transformer", corpus=False)
add("small_lstm", SmallLstm, [("x", [2, 7, 32], "float32", None)], "batch_seq", "rnn", corpus=False)
add("small_gru", SmallGru, [("ids", [2, 10], "int64", (0, 300))], "batch_seq", "rnn", corpus=False)
add("transformer_seq_first", SeqFirstEncoder, [("x", [7, 2, 64], "float32", None)], "seq_batch",
    "transformer", corpus=False)
add("rnn_seq_first", SeqFirstRnn, [("x", [7, 2, 12], "float32", None)], "seq_batch", "rnn",
    corpus=False)
add("functional", Functional, [("x", [2, 8, 16, 16], "float32", None)], "batch", "ops",
    corpus=False)

# Selections the tests and benchmarks share.
CLASSIFIERS = ["resnet50", "mobilenet_v3_large", "efficientnet_b0", "densenet121",
               "vit_b_16", "swin_t", "convnext_tiny", "regnet_y_400mf", "squeezenet1_1",
               "shufflenet_v2_x1_0", "googlenet", "mnasnet1_0"]
SEQUENCE = ["transformer_encoder", "transformer_encoder_prenorm", "tiny_gpt", "lstm_bidir",
            "gru_lm"]


def corpus_names():
    """The models make_corpus.py exports, in order."""
    return [n for n, cfg in MODELS.items() if cfg["corpus"]]


# ----------------------------------------------------------------------------------------
def randomise(model, seed, zero_linear=False):
    """Random but deterministic BN statistics / affine params (defaults are mean 0
    var 1), so that folding mistakes change the numbers. zero_linear: also random
    weights for linear layers initialised to zero (ViT's head), so that the
    outputs are not constant."""
    g = torch.Generator().manual_seed(seed + 7)
    with torch.no_grad():
        for m in model.modules():
            if zero_linear and isinstance(m, nn.Linear) and not m.weight.any():
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * 0.02)
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                if m.affine:
                    m.weight.copy_(1.0 + torch.randn(n, generator=g) * 0.1)
                    m.bias.copy_(torch.randn(n, generator=g) * 0.1)


def make_inputs(spec, seed):
    g = torch.Generator().manual_seed(seed)
    out = []
    for name, shape, dtype, rng in spec:
        if dtype == "float32":
            out.append(torch.randn(*shape, generator=g))
        elif dtype == "int64":
            out.append(torch.randint(rng[0], rng[1], shape, generator=g))
        elif dtype == "bool":
            m = torch.zeros(*shape, dtype=torch.bool)
            m[:, -3:] = True  # pad the last 3 positions
            out.append(m)
    return tuple(out)


def int_high(spec):
    """The exclusive upper bound of an input spec's integer (token) inputs, or
    None: random inputs for the exported model stay below it."""
    for _, _, dtype, bounds in spec:
        if dtype == "int64" and bounds:
            return bounds[1]
    return None


def dynamic_axes(spec, kind, out_names):
    if kind == "none":
        return None
    d = {}
    for name, shape, _, _ in spec:
        ax = {0: "batch"}
        if kind == "batch_seq" and len(shape) >= 2:
            ax[1] = "seq"
        if kind == "seq_batch":
            ax = {0: "seq", 1: "batch"}
        if kind == "batch_hw" and len(shape) == 4:
            ax[2], ax[3] = "height", "width"
        d[name] = ax
    for o in out_names:
        d[o] = {0: "batch"}
    return d


def out_names_for(name, outs):
    if isinstance(outs, (tuple, list)):
        return ["output%d" % i for i in range(len(outs))]
    return ["output"]


def build(name, seed, zero_linear=False):
    """The model NAME in eval mode: torch seeded with SEED, then randomised."""
    torch.manual_seed(seed)
    model = MODELS[name]["factory"]().eval()
    randomise(model, seed, zero_linear)
    return model


def export(model, args, path, in_names, out_names, dyn, raw):
    """torch.onnx.export at OPSET. raw: training=PRESERVE (the model is in eval
    mode, so ops are inference ops, but the exporter's eval peephole, which fuses
    Conv+BatchNorm, is skipped) and do_constant_folding=False, so that
    BatchNormalization and the Shape/Gather/Unsqueeze/Concat glue stay in."""
    kw = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False) if raw else {}
    torch.onnx.export(model, args, path, opset_version=OPSET, input_names=in_names,
                      output_names=out_names, dynamic_axes=dyn, **kw)


# ----------------------------------------------------------------------------------------
# the large external-data model
# ----------------------------------------------------------------------------------------
def chain_model(dirpath, pieces, piece_bytes, data_name, fill="sparse"):
    """A chain of Adds, Y = X + W0 + W1 + ..., whose float weights (PIECES
    tensors of PIECE_BYTES each) live in DIRPATH/DATA_NAME; the model file is
    DIRPATH/<DATA_NAME without its extension>.onnx. fill "sparse": the data file
    is one hole (it takes no disk); "random": random bytes, written out. Returns
    (model, data) paths; an existing pair of the right size is reused."""
    from onnx import TensorProto, helper
    stem = os.path.splitext(data_name)[0]
    model, data = os.path.join(dirpath, stem + ".onnx"), os.path.join(dirpath, data_name)
    total = pieces * piece_bytes
    if os.path.exists(model) and os.path.exists(data) and os.path.getsize(data) == total:
        return model, data
    with open(data, "wb") as f:
        if fill == "sparse":
            f.truncate(total)
        else:
            chunk = os.urandom(1 << 20)
            for _ in range(total >> 20):
                f.write(chunk)
            f.write(chunk[: total & ((1 << 20) - 1)])
    n = piece_bytes // 4
    inits, nodes, prev = [], [], "X"
    for i in range(pieces):
        t = TensorProto()
        t.name, t.data_type = f"W{i}", TensorProto.FLOAT
        t.dims.append(n)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", data_name), ("offset", str(i * piece_bytes)),
                     ("length", str(piece_bytes))):
            e = t.external_data.add()
            e.key, e.value = k, v
        inits.append(t)
        out = "Y" if i == pieces - 1 else f"T{i}"
        nodes.append(helper.make_node("Add", [prev, f"W{i}"], [out]))
        prev = out
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [n])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [n])],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = 8
    with open(model, "wb") as f:
        f.write(m.SerializeToString())
    return model, data


# ----------------------------------------------------------------------------------------
# checks and their report
# ----------------------------------------------------------------------------------------
def host_nchwc_block():
    """ONNX Runtime's NCHWc block on this host (MLAS's): 16 with AVX-512F,
    else 8; the ort-cpu-avx512 / ort-cpu-avx2 target that runs here."""
    with open("/proc/cpuinfo") as f:
        return 16 if " avx512f" in f.read() else 8


def write_md_section(md, name, head, rows, only=False, order=()):
    """Replaces the section between `<!-- NAME:begin -->` and `<!-- NAME:end -->`
    of the Markdown file MD (appending it when absent) with HEAD's lines, then
    the table ROWS, and returns its text. With ONLY (a benchmark run on a
    subset), the rows of the previous section whose first cell was not measured
    again are kept, ordered by ORDER (first cells)."""
    old = open(md).read() if os.path.exists(md) else ""
    pat = re.compile(r"<!-- %s:begin -->.*?<!-- %s:end -->\n?" % (name, name), re.S)
    if only:
        measured = {r.split("|")[1].strip() for r in rows}
        prev = pat.search(old)
        kept = [r for r in re.findall(r"^\| \S+ \| \d+ \|.*$", prev.group(0) if prev else "",
                                      re.M)
                if r.split("|")[1].strip() not in measured]
        rank = {n: i for i, n in enumerate(order)}
        rows = sorted(rows + kept, key=lambda r: rank.get(r.split("|")[1].strip(), 99))
    text = "\n".join(["<!-- %s:begin -->" % name] + list(head) + list(rows) +
                     ["<!-- %s:end -->" % name, ""])
    new = pat.sub(lambda _: text, old) if pat.search(old) else old.rstrip("\n") + "\n\n" + text
    with open(md, "w") as f:
        f.write(new)
    return text


class Report:
    """Counts and prints checks the way every Python test does: `ok   NAME: what
    was shown` or `FAIL NAME: the problems`, then `N passed, N failed`."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        """One yes/no check; DETAIL says what was seen when it fails."""
        return self.problems(name, [] if ok else [str(detail)])

    def problems(self, name, problems, ok_text=""):
        """A check made of several: it passes when PROBLEMS is empty."""
        if problems:
            self.failed += 1
            print("FAIL %s: %s" % (name, "\n    ".join(problems)))
        else:
            self.passed += 1
            print("ok   %s%s" % (name, ": " + ok_text if ok_text else ""))
        sys.stdout.flush()
        return not problems

    def run(self, name, check):
        """A check that raises when it fails and otherwise returns what it
        showed."""
        try:
            return self.problems(name, [], check())
        except Exception as e:  # every failure is reported, then counted
            return self.problems(name, [repr(e)])

    def finish(self):
        """Prints the counts; the process's exit code (1 when a check failed)."""
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def select(only, names, also=()):
    """The names an --only NAME,... argument picks from NAMES (all of them when
    it is empty), in NAMES' order; an unknown name is a usage error (exit 2)
    naming the choices. ALSO: further names the caller accepts."""
    if not only:
        return list(names)
    picked = [n for n in only.split(",") if n]
    unknown = [n for n in picked if n not in names and n not in also]
    if unknown:
        print("unknown model %s; choose from: %s"
              % (", ".join(unknown), ", ".join(list(names) + list(also))), file=sys.stderr)
        sys.exit(2)
    return [n for n in list(names) + list(also) if n in picked]


def run(cmd, **kw):
    """CMD's CompletedProcess, its output captured as text."""
    return subprocess.run(cmd, capture_output=True, text=True, **kw)
