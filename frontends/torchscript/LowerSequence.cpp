// The TorchScript lowering of recurrent layers (aten::lstm, aten::gru) to
// ONNX LSTM/GRU, and of the fused transformer kernels that
// nn.MultiheadAttention and nn.TransformerEncoderLayer call in inference
// (aten::_native_multi_head_attention, aten::_transformer_encoder_layer_fwd)
// to the ops they compute.
#include "frontends/torchscript/Lowering.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <limits>

namespace onnxopt::torchscript {

namespace {

/// The constant tensors of a list operand (a frozen module's weights).
std::optional<std::vector<at::Tensor>> constantTensors(Lowering &l,
                                                       const jit::Value *v) {
  std::vector<at::Tensor> out;
  if (auto c = l.constant(v); c && c->isTensorList()) {
    for (const at::Tensor &t : c->toTensorVector())
      out.push_back(t);
    return out;
  }
  const jit::Node *def = v->node();
  if (def->kind().toQualString() != std::string("prim::ListConstruct"))
    return std::nullopt;
  for (const jit::Value *item : def->inputs()) {
    auto c = l.constant(item);
    if (!c || !c->isTensor())
      return std::nullopt;
    out.push_back(c->toTensor());
  }
  return out;
}

/// Reorders the gate blocks of a stacked weight or bias along dim 0.
at::Tensor reorderGates(const at::Tensor &t,
                        const std::vector<int64_t> &order) {
  std::vector<at::Tensor> parts = t.chunk(int64_t(order.size()), 0);
  std::vector<at::Tensor> out;
  for (int64_t i : order)
    out.push_back(parts[size_t(i)]);
  return at::cat(out, 0);
}

} // namespace

absl::StatusOr<Value *> Lowering::linear(Value *x, Value *w, Value *b) {
  ONNXOPT_ASSIGN_OR_RETURN(
      auto wt,
      step("Transpose", {w}, attrList(Attribute::makeInts("perm", {1, 0}))));
  ONNXOPT_ASSIGN_OR_RETURN(auto y, step("MatMul", {x, wt}));
  if (!b)
    return y;
  return step("Add", {y, b});
}

absl::Status Lowering::lowerRnn(jit::Node &n, bool lstm) {
  // aten::lstm(input, [h0, c0], params, has_biases, num_layers, dropout,
  //            train, bidirectional, batch_first) -> (output, h_n, c_n)
  // aten::gru(input, h0, params, ...same...) -> (output, h_n)
  // params: per layer, per direction: w_ih, w_hh[, b_ih, b_hh]. Torch's gate
  // order (LSTM i,f,g,o; GRU r,z,n) becomes ONNX's (i,o,f,c; z,r,h); GRU
  // applies the reset gate after the recurrent product: linear_before_reset.
  ONNXOPT_ASSIGN_OR_RETURN(auto x, tensor(n.input(0)));
  auto params = constantTensors(*this, n.input(2));
  auto hasBiases = boolOf(n.input(3));
  auto layers = intOf(n.input(4));
  auto train = boolOf(n.input(6));
  auto bidir = boolOf(n.input(7));
  auto batchFirst = boolOf(n.input(8));
  if (!params || !hasBiases || !layers || !bidir || !batchFirst)
    return unsupported(n, "weights or options computed at run time");
  if (train && *train)
    return unsupported(n, "training mode");
  int64_t dirs = *bidir ? 2 : 1;
  size_t perDir = *hasBiases ? 4 : 2;
  if (params->size() != size_t(*layers * dirs) * perDir)
    return unsupported(n, "an unexpected number of weights (projections?)");
  Value *h0 = nullptr, *c0 = nullptr;
  if (lstm) {
    ONNXOPT_ASSIGN_OR_RETURN(auto hx, items(n.input(1), 2));
    if (hx.size() != 2)
      return unsupported(n, "hx is not (h0, c0)");
    h0 = hx[0];
    c0 = hx[1];
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(h0, tensor(n.input(1)));
  }
  std::vector<int64_t> order =
      lstm ? std::vector<int64_t>{0, 3, 1, 2} : std::vector<int64_t>{1, 0, 2};
  int64_t hidden = (*params)[1].size(1);
  if (batchFirst && *batchFirst) {
    ONNXOPT_ASSIGN_OR_RETURN(
        x, step("Transpose", {x},
                attrList(Attribute::makeInts("perm", {1, 0, 2}))));
  }
  std::vector<Value *> hn, cn;
  for (int64_t l = 0; l < *layers; ++l) {
    std::vector<at::Tensor> w, r, b;
    for (int64_t d = 0; d < dirs; ++d) {
      size_t base = size_t(l * dirs + d) * perDir;
      w.push_back(reorderGates((*params)[base], order));
      r.push_back(reorderGates((*params)[base + 1], order));
      if (*hasBiases)
        b.push_back(at::cat({reorderGates((*params)[base + 2], order),
                             reorderGates((*params)[base + 3], order)}));
    }
    std::vector<Value *> ins = {
        x, initializer(nameOfText(lstm ? "lstm_W" : "gru_W"), at::stack(w)),
        initializer(nameOfText(lstm ? "lstm_R" : "gru_R"), at::stack(r))};
    ins.push_back(
        *hasBiases
            ? initializer(nameOfText(lstm ? "lstm_B" : "gru_B"), at::stack(b))
            : nullptr);
    ins.push_back(nullptr); // sequence_lens
    auto slice = [&](Value *all) -> absl::StatusOr<Value *> {
      return step("Slice",
                  {all, ints({l * dirs}), ints({(l + 1) * dirs}), ints({0})});
    };
    ONNXOPT_ASSIGN_OR_RETURN(auto h, slice(h0));
    ins.push_back(h);
    if (lstm) {
      ONNXOPT_ASSIGN_OR_RETURN(auto c, slice(c0));
      ins.push_back(c);
    }
    ONNXOPT_ASSIGN_OR_RETURN(
        Node * rnn, cur_->create(lstm ? "LSTM" : "GRU", ins, lstm ? 3 : 2));
    rnn->setAttr(Attribute::makeInt("hidden_size", hidden));
    rnn->setAttr(Attribute::makeString("direction",
                                       *bidir ? "bidirectional" : "forward"));
    if (!lstm)
      rnn->setAttr(Attribute::makeInt("linear_before_reset", 1));
    finish(rnn);
    for (size_t i = 0; i < rnn->numOutputs(); ++i)
      rnn->output(i)->setName(nameOfText(lstm ? "lstm" : "gru"));
    hn.push_back(rnn->output(1));
    if (lstm)
      cn.push_back(rnn->output(2));
    // Y is [seq, dirs, batch, hidden]: the next layer's input (and the
    // result) is [seq, batch, dirs * hidden].
    Value *y = rnn->output(0);
    if (dirs == 1) {
      ONNXOPT_ASSIGN_OR_RETURN(x, step("Squeeze", {y, ints({1})}));
    } else {
      ONNXOPT_ASSIGN_OR_RETURN(
          auto t, step("Transpose", {y},
                       attrList(Attribute::makeInts("perm", {0, 2, 1, 3}))));
      ONNXOPT_ASSIGN_OR_RETURN(x, step("Reshape", {t, ints({0, 0, -1})}));
    }
  }
  if (*batchFirst) {
    ONNXOPT_ASSIGN_OR_RETURN(
        x, step("Transpose", {x},
                attrList(Attribute::makeInts("perm", {1, 0, 2}))));
  }
  tensors_[n.output(0)] = x;
  auto joined = [&](std::vector<Value *> &parts) -> absl::StatusOr<Value *> {
    if (parts.size() == 1)
      return parts[0];
    return step("Concat", parts, attrList(Attribute::makeInt("axis", 0)));
  };
  ONNXOPT_ASSIGN_OR_RETURN(tensors_[n.output(1)], joined(hn));
  if (lstm) {
    ONNXOPT_ASSIGN_OR_RETURN(tensors_[n.output(2)], joined(cn));
  }
  return absl::OkStatus();
}

absl::StatusOr<Value *> Lowering::attention(
    jit::Node &n, Value *q, Value *k, Value *v, int64_t embed, int64_t heads,
    Value *inW, Value *inB, Value *outW, Value *outB, const jit::Value *mask,
    std::optional<int64_t> maskType, Value **weights, bool average) {
  // Batch-first [B, L, E] in, [B, L, E] out:
  //   q, k, v = linear(query | key | value, W_{q,k,v}, b_{q,k,v})
  //   per head: softmax(q k^T / sqrt(E / H) masked) v, heads concatenated,
  //   then the output projection. A key-padding mask ([B, S], mask_type 1)
  //   or an attention mask ([L, S], mask_type 0): true means "not attended"
  //   (-inf before the softmax); a float mask is added.
  if (heads <= 0 || embed % heads != 0)
    return unsupported(n, "embed_dim not divisible by num_heads");
  int64_t dh = embed / heads;
  auto part = [&](Value *all, int64_t i) -> absl::StatusOr<Value *> {
    return step("Slice",
                {all, ints({i * embed}), ints({(i + 1) * embed}), ints({0})});
  };
  std::vector<Value *> proj;
  Value *inputs[] = {q, k, v};
  for (int64_t i = 0; i < 3; ++i) {
    ONNXOPT_ASSIGN_OR_RETURN(auto w, part(inW, i));
    Value *b = nullptr;
    if (inB) {
      ONNXOPT_ASSIGN_OR_RETURN(b, part(inB, i));
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto y, linear(inputs[i], w, b));
    ONNXOPT_ASSIGN_OR_RETURN(y, step("Reshape", {y, ints({0, 0, heads, dh})}));
    // q, v: [B, H, L, dh]; k: [B, H, dh, S].
    std::vector<int64_t> perm = i == 1 ? std::vector<int64_t>{0, 2, 3, 1}
                                       : std::vector<int64_t>{0, 2, 1, 3};
    ONNXOPT_ASSIGN_OR_RETURN(
        y, step("Transpose", {y}, attrList(Attribute::makeInts("perm", perm))));
    proj.push_back(y);
  }
  DataType dt = typeOf(q);
  ONNXOPT_ASSIGN_OR_RETURN(
      auto qs, step("Mul", {proj[0], scalar(1.0 / std::sqrt(double(dh)), dt)}));
  ONNXOPT_ASSIGN_OR_RETURN(auto scores, step("MatMul", {qs, proj[1]}));
  if (mask && !isNone(mask)) {
    ONNXOPT_ASSIGN_OR_RETURN(auto m, tensor(mask));
    if (maskType && *maskType == 1) {
      // [B, S] -> [B, 1, 1, S]
      ONNXOPT_ASSIGN_OR_RETURN(m, step("Unsqueeze", {m, ints({1, 2})}));
    }
    if (typeOf(m) == DataType::Bool) {
      ONNXOPT_ASSIGN_OR_RETURN(
          scores, step("Where",
                       {m, scalar(-std::numeric_limits<double>::infinity(), dt),
                        scores}));
    } else {
      ONNXOPT_ASSIGN_OR_RETURN(m, cast(m, dt));
      ONNXOPT_ASSIGN_OR_RETURN(scores, step("Add", {scores, m}));
    }
  }
  ONNXOPT_ASSIGN_OR_RETURN(
      auto probs,
      step("Softmax", {scores}, attrList(Attribute::makeInt("axis", -1))));
  ONNXOPT_ASSIGN_OR_RETURN(auto ctx, step("MatMul", {probs, proj[2]}));
  ONNXOPT_ASSIGN_OR_RETURN(
      ctx, step("Transpose", {ctx},
                attrList(Attribute::makeInts("perm", {0, 2, 1, 3}))));
  ONNXOPT_ASSIGN_OR_RETURN(ctx, step("Reshape", {ctx, ints({0, 0, embed})}));
  if (weights) {
    if (average) {
      ONNXOPT_ASSIGN_OR_RETURN(
          *weights, step("ReduceMean", {probs},
                         attrList(Attribute::makeInts("axes", {1}),
                                  Attribute::makeInt("keepdims", 0))));
    } else {
      *weights = probs;
    }
  }
  return linear(ctx, outW, outB);
}

absl::Status Lowering::lowerAttention(jit::Node &n) {
  // aten::_native_multi_head_attention(query, key, value, embed_dim,
  //   num_head, qkv_weight, qkv_bias, proj_weight, proj_bias, mask?,
  //   need_weights, average_attn_weights, mask_type?) -> (out, weights)
  ONNXOPT_ASSIGN_OR_RETURN(auto q, tensor(n.input(0)));
  ONNXOPT_ASSIGN_OR_RETURN(auto k, tensor(n.input(1)));
  ONNXOPT_ASSIGN_OR_RETURN(auto v, tensor(n.input(2)));
  auto embed = intOf(n.input(3)), heads = intOf(n.input(4));
  if (!embed || !heads)
    return unsupported(n, "sizes computed at run time");
  std::vector<Value *> w;
  for (size_t i = 5; i < 9; ++i) {
    if (isNone(n.input(i))) {
      w.push_back(nullptr);
      continue;
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(n.input(i)));
    w.push_back(t);
  }
  bool needWeights =
      n.inputs().size() > 10 && boolOf(n.input(10)).value_or(true);
  bool average = n.inputs().size() > 11 && boolOf(n.input(11)).value_or(true);
  std::optional<int64_t> maskType;
  if (n.inputs().size() > 12)
    maskType = intOf(n.input(12));
  Value *weights = nullptr;
  ONNXOPT_ASSIGN_OR_RETURN(
      auto out, attention(n, q, k, v, *embed, *heads, w[0], w[1], w[2], w[3],
                          n.inputs().size() > 9 ? n.input(9) : nullptr,
                          maskType, needWeights ? &weights : nullptr, average));
  tensors_[n.output(0)] = out;
  if (weights)
    tensors_[n.output(1)] = weights;
  else
    consts_[n.output(1)] = c10::IValue(); // need_weights=False: None
  return absl::OkStatus();
}

absl::Status Lowering::lowerEncoderLayer(jit::Node &n) {
  // aten::_transformer_encoder_layer_fwd(src, embed_dim, num_heads,
  //   qkv_weight, qkv_bias, proj_weight, proj_bias, use_gelu, norm_first,
  //   eps, norm_weight_1, norm_bias_1, norm_weight_2, norm_bias_2,
  //   ffn_weight_1, ffn_bias_1, ffn_weight_2, ffn_bias_2, mask?, mask_type?)
  // post-norm: x = norm1(src + attn(src)); y = norm2(x + ffn(x))
  // pre-norm:  x = src + attn(norm1(src)); y = x + ffn(norm2(x))
  ONNXOPT_ASSIGN_OR_RETURN(auto src, tensor(n.input(0)));
  auto embed = intOf(n.input(1)), heads = intOf(n.input(2));
  auto gelu = boolOf(n.input(7)), normFirst = boolOf(n.input(8));
  auto eps = numberOf(n.input(9));
  if (!embed || !heads || !gelu || !normFirst || !eps)
    return unsupported(n, "options computed at run time");
  std::vector<Value *> p;
  for (size_t i : {3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 17}) {
    ONNXOPT_ASSIGN_OR_RETURN(auto t, tensor(n.input(i)));
    p.push_back(t);
  }
  std::optional<int64_t> maskType;
  if (n.inputs().size() > 19)
    maskType = intOf(n.input(19));
  auto norm = [&](Value *x, Value *w, Value *b) -> absl::StatusOr<Value *> {
    return step("LayerNormalization", {x, w, b},
                attrList(Attribute::makeInt("axis", -1),
                         Attribute::makeFloat("epsilon", float(*eps))));
  };
  Value *x = src;
  if (*normFirst) {
    ONNXOPT_ASSIGN_OR_RETURN(x, norm(x, p[4], p[5]));
  }
  ONNXOPT_ASSIGN_OR_RETURN(
      auto a, attention(n, x, x, x, *embed, *heads, p[0], p[1], p[2], p[3],
                        n.inputs().size() > 18 ? n.input(18) : nullptr,
                        maskType, nullptr, true));
  ONNXOPT_ASSIGN_OR_RETURN(x, step("Add", {src, a}));
  if (!*normFirst) {
    ONNXOPT_ASSIGN_OR_RETURN(x, norm(x, p[4], p[5]));
  }
  Value *residual = x;
  if (*normFirst) {
    ONNXOPT_ASSIGN_OR_RETURN(x, norm(x, p[6], p[7]));
  }
  ONNXOPT_ASSIGN_OR_RETURN(auto h, linear(x, p[8], p[9]));
  if (*gelu) {
    ONNXOPT_ASSIGN_OR_RETURN(h, this->gelu(h, false));
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(h, step("Relu", {h}));
  }
  ONNXOPT_ASSIGN_OR_RETURN(h, linear(h, p[10], p[11]));
  ONNXOPT_ASSIGN_OR_RETURN(x, step("Add", {residual, h}));
  if (!*normFirst) {
    ONNXOPT_ASSIGN_OR_RETURN(x, norm(x, p[6], p[7]));
  }
  alias(n, x);
  return absl::OkStatus();
}

} // namespace onnxopt::torchscript
