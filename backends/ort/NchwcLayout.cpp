// ort-nchwc: ONNX Runtime's NCHWc layout, ahead of time. ONNX Runtime's
// level `all` rewrites float convolutions to com.microsoft.nchwc.Conv on
// channel-blocked tensors for the host's vector width (its NchwcTransformer);
// a model loaded at `disabled` runs plain Conv, 1.2-2.3x slower on the CNN
// corpus. This pass does the same rewrite offline for one block size (the
// ort-cpu-avx2 / ort-cpu-avx512 targets), so the lowered model gets it at any
// level.
//
// Before:
//   c = com.microsoft.FusedConv <activation = "Relu", ...> (X, W, B)
//   a = Add (c, r)                      # r: another convolution's result
//   y = Relu (a)
//   p = GlobalAveragePool (y)
// After:
//   xb = com.microsoft.nchwc.ReorderInput (X)          # unless X is blocked
//   cb = com.microsoft.nchwc.Conv <activation="Relu"> (xb, W', B')
//   yb = com.microsoft.nchwc.Conv <activation="Relu"> (.., .., .., rb)  # Sum
//   pb = com.microsoft.nchwc.GlobalAveragePool (yb)
//   p  = com.microsoft.nchwc.ReorderOutput <channels = C> (pb)
//
// What converts (ONNX Runtime's rules, so its kernels accept every node):
//   - Conv / FusedConv with a constant float 4-D filter and optional constant
//     bias: outputs rounded up to the block B (filter rows and bias padded
//     with zeros); one group with fewer than B input channels reads plain
//     NCHW (filter OIHWBo), one with more reads them blocked, padded to a
//     multiple of B (OIHWBiBo, zero rows for the padding); a depthwise one
//     runs as one of the padded channel count's groups (OIHWBo); other
//     grouped ones need input and output channels per group multiples of B;
//   - MaxPool (no indices output) / AveragePool of 2-D windows on a static
//     channel count that is a multiple of B;
//   - on tensors already blocked: GlobalAveragePool / GlobalMaxPool; Add,
//     Sum and Mul of equal shapes and channel counts (equal by inference or
//     by where their dims come from; an Add of a convolution's private
//     result becomes that convolution's Sum operand), and an Add of shapes
//     not known to be equal on the 5-D view of the blocks;
//     an activation right after a convolution's private result, fused into
//     it (FusedConv's, and HardSwish); other element-wise unary ops (Elu,
//     Softplus, QuickGelu, ...) as they are; Concat on the channel axis of
//     block-aligned inputs; BatchNormalization (inference) as a depthwise
//     1x1 convolution; a nearest Resize by whole factors as nchwc.Upsample.
// A blocked value any other op reads gets one ReorderOutput; a plain value
// several converted ops read gets one ReorderInput (rank 4, a static channel
// count that is a multiple of 4: its kernel's conditions).
//
// The block size must be the one ONNX Runtime picks on the host that runs
// the model (16 with AVX-512F, else 8 on x86-64): the model records it as
// metadata `onnxopt.nchwc_block_size`, which the reference kernels read.
// Numeric: the same sums as ONNX Runtime's own NCHWc rewrite of the
// original, which at level `all` computes exactly this graph.
#include "backends/ort/OrtPasses.h"

#include "ir/ElementTypes.h"
#include "ir/NchwcLayout.h"
#include "passes/PatternUtils.h"
#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>

namespace onnxopt {

namespace {

constexpr const char *kNchwcDomain = "com.microsoft.nchwc";

bool isFloat(const Value *v) {
  return v && v->type().isTensor() && v->type().elemType() == DataType::Float;
}

/// `v`'s type with the channel dim (1) set to `channels` (float, rank 4
/// when known).
Type withChannels(const Value &v, int64_t channels) {
  const auto &shape = v.type().shape();
  if (!shape || shape->size() < 2)
    return Type::tensor(DataType::Float);
  std::vector<Dim> dims = *shape;
  dims[1] = Dim::constant(channels);
  return Type::tensor(DataType::Float, std::move(dims));
}

/// Two values of one known rank-4 shape (each dim the same constant or
/// symbol).
bool sameShape(const Value &a, const Value &b) {
  const auto &sa = a.type().shape(), &sb = b.type().shape();
  if (!sa || !sb || sa->size() != 4 || *sa != *sb)
    return false;
  for (const Dim &d : *sa)
    if (!d.isConstant() && !d.isSymbol())
      return false;
  return true;
}

/// ONNX Runtime's ReorderInput takes rank 4 and a static channel count that
/// is a multiple of 4.
bool reorderable(const Value &x) {
  auto c = staticDim(&x, 1);
  return rankOf(&x) == 4 && c && *c % 4 == 0;
}
constexpr const char *kNotReorderable =
    "the plain input's channel count is not a static multiple of 4 "
    "(ReorderInput's)";

bool isLayoutFreeUnary(const Node &n) {
  static const char *const ops[] = {"Relu",      "Sigmoid",     "Tanh",
                                    "LeakyRelu", "HardSigmoid", "HardSwish",
                                    "Clip",      "Elu",         "Softplus"};
  if (n.numOutputs() != 1)
    return false;
  if (n.is("QuickGelu", "com.microsoft"))
    return n.numInputs() == 1;
  if (n.op().isOpaque())
    return false;
  for (const char *op : ops)
    if (n.is(op))
      return n.is("Clip") ? true : n.numInputs() == 1;
  return false;
}

/// One original value now computed in NCHWc.
/// Where a blocked tensor's batch and spatial dims come from: the value
/// they were first seen on, halved `shift` times per axis by stride-2
/// windows that pad to keep the size (ONNX Runtime's NchwcTransformer
/// tracks the same). Two tensors of one key have one shape whatever the
/// input's size, which shape inference cannot say once H and W went
/// through a strided convolution of a symbolic size.
struct Spatial {
  const Value *source = nullptr;
  int64_t shift[2] = {0, 0};
  bool operator==(const Spatial &o) const {
    return source == o.source && shift[0] == o.shift[0] &&
           shift[1] == o.shift[1];
  }
};

/// The key of a window op's result (Conv, MaxPool, AveragePool) of kernel
/// `kernel` on input of key `in`: the same source when every axis pads to
/// keep the size ((k-1)*d + 1 - 1 in all, or auto_pad SAME) with stride 1
/// or 2, else the result itself.
Spatial spatialAfter(const Node &n, const Spatial &in,
                     const std::vector<int64_t> &kernel) {
  Spatial fresh{n.output(0)};
  auto ints = [&](const char *name, size_t size, int64_t dflt) {
    const Attribute *a = n.attr(name);
    std::vector<int64_t> v =
        a && a->kind == AttrKind::Ints ? a->ints : std::vector<int64_t>{};
    if (v.empty())
      v.assign(size, dflt);
    return v;
  };
  std::vector<int64_t> pads = ints("pads", 4, 0),
                       strides = ints("strides", 2, 1),
                       dilations = ints("dilations", 2, 1);
  const Attribute *ap = n.attr("auto_pad");
  std::string autoPad = ap && ap->kind == AttrKind::String ? ap->s : "NOTSET";
  bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  if ((autoPad != "NOTSET" && !same) || intAttr(n, "ceil_mode", 0) != 0 ||
      pads.size() != 4 || strides.size() != 2 || dilations.size() != 2 ||
      kernel.size() != 2)
    return fresh;
  Spatial out = in;
  for (size_t i = 0; i < 2; ++i) {
    int64_t reach = (kernel[i] - 1) * dilations[i] + 1;
    bool keeps = same || pads[i] + pads[i + 2] + 1 == reach;
    if (!keeps || (strides[i] != 1 && strides[i] != 2))
      return fresh;
    out.shift[i] += strides[i] - 1;
  }
  return out;
}

struct Blocked {
  Value *value;     // the blocked tensor
  int64_t channels; // the original's channel count (value's is rounded up)
  Node *producer;   // the nchwc node computing it
  bool single;      // the original had one user and is no graph output
  Spatial spatial;  // where its batch and spatial dims come from
};

class NchwcLowering {
public:
  NchwcLowering(Graph &g, Rewriter &r, int64_t block, Statistic &convs,
                Statistic &others)
      : g_(g), r_(r), b_(block), convs_(convs), others_(others) {}

  absl::StatusOr<bool> run();

private:
  absl::StatusOr<OpId> op(std::string_view type) {
    return r_.resolve(type, kNchwcDomain);
  }
  const Blocked *blocked(const Value *v) const {
    auto it = blocked_.find(v);
    return it == blocked_.end() ? nullptr : &it->second;
  }
  void record(Node &original, Value *value, int64_t channels, Node *producer,
              Spatial spatial) {
    Value *out = original.output(0);
    blocked_[out] = {value, channels, producer, isPrivateResult(out), spatial};
    replaced_.push_back(&original);
  }
  /// The key of operand `x` (blocked, or plain as it is).
  Spatial spatialOf(const Value *x) const {
    const Blocked *b = blocked(x);
    return b ? b->spatial : Spatial{x};
  }
  bool fail(const Node &n, std::string_view why) {
    return r_.notifyMatchFailure(n, why);
  }
  absl::StatusOr<Value *> reorderInput(Value *x, Node &pos);
  absl::StatusOr<bool> conv(Node &n);
  absl::StatusOr<bool> pool(Node &n);
  absl::StatusOr<bool> globalPool(Node &n);
  absl::StatusOr<bool> binary(Node &n);
  absl::StatusOr<bool>
  addOfUnknownShapes(Node &n, const std::vector<const Blocked *> &ins);
  absl::StatusOr<bool> unary(Node &n);
  absl::StatusOr<bool> concat(Node &n);
  absl::StatusOr<bool> batchNorm(Node &n);
  absl::StatusOr<bool> upsample(Node &n);
  absl::StatusOr<Node *> copyOnBlocked(Node &n,
                                       const std::vector<Value *> &inputs,
                                       int64_t paddedChannels);
  absl::Status finish();

  Graph &g_;
  Rewriter &r_;
  int64_t b_;
  Statistic &convs_, &others_;
  absl::flat_hash_map<const Value *, Blocked> blocked_;
  absl::flat_hash_map<const Value *, Value *> reordered_;
  absl::flat_hash_map<std::pair<const Value *, int>, Value *> filters_;
  absl::flat_hash_map<const Value *, Value *> biases_;
  absl::flat_hash_map<int64_t, Value *> splitShapes_, joinShapes_;
  std::vector<Node *> replaced_;
};

absl::StatusOr<Value *> NchwcLowering::reorderInput(Value *x, Node &pos) {
  if (auto it = reordered_.find(x); it != reordered_.end())
    return it->second;
  ONNXOPT_ASSIGN_OR_RETURN(OpId ri, op("ReorderInput"));
  Node *n = r_.create(ri, {x}, 1, &pos);
  Value *y = n->output(0);
  r_.setName(y, r_.freshName(absl::StrCat(x->name(), "_nchwc")));
  auto c = staticDim(x, 1);
  r_.setType(y, c ? withChannels(*x, nchwc::roundUp(*c, b_))
                  : Type::tensor(DataType::Float));
  reordered_[x] = y;
  return y;
}

absl::StatusOr<bool> NchwcLowering::conv(Node &n) {
  if (n.numOutputs() != 1 || n.numInputs() < 2 || n.numInputs() > 3)
    return fail(n, "not a Conv of 2 or 3 operands (FusedConv's Z is not "
                   "taken)");
  Value *x = n.input(0), *w = n.input(1);
  Value *bias = n.numInputs() > 2 ? n.input(2) : nullptr;
  if (!x || !isFloat(n.output(0)))
    return fail(n, "not float32");
  if (!isConstantTensor(w) || w->tensor()->dtype() != DataType::Float ||
      w->tensor()->dims().size() != 4)
    return fail(n, "the filter is not a constant float32 4-D tensor");
  const std::vector<int64_t> &wd = w->tensor()->dims();
  int64_t outputs = wd[0], perGroup = wd[1], kernel = wd[2] * wd[3];
  int64_t group = intAttr(n, "group", 1);
  if (group < 1 || outputs <= 0 || perGroup <= 0)
    return fail(n, "malformed group or filter");
  // A depthwise convolution of C channels runs as one of Cp groups (the
  // padding channels' filters zero); one group of B or more input channels
  // reads them blocked, padded to a multiple of B (the filter's padding
  // rows zero, so whatever the padding channels hold adds nothing).
  bool depthwise = group > 1 && perGroup == 1 && outputs == group;
  if (group > 1 && !depthwise) {
    if (outputs % b_ != 0)
      return fail(n, "grouped, and the output channels are not a multiple "
                     "of the block");
    if (perGroup % b_ != 0 || outputs % group != 0 ||
        (outputs / group) % b_ != 0)
      return fail(n, "grouped, and the channels per group are not a "
                     "multiple of the block");
  }
  if (bias &&
      (!isConstantTensor(bias) || bias->tensor()->dtype() != DataType::Float ||
       bias->tensor()->dims() != std::vector<int64_t>{outputs}))
    return fail(n, "the bias is not a constant float32 vector");
  ONNXOPT_ASSIGN_OR_RETURN(OpId convOp, op("Conv"));

  int64_t padded = nchwc::roundUp(outputs, b_);
  int64_t groups = depthwise ? padded : group;
  int64_t inputs =
      group == 1 && perGroup >= b_ ? nchwc::roundUp(perGroup, b_) : perGroup;
  nchwc::FilterLayout layout = nchwc::filterLayout(groups, inputs, padded, b_);
  Value *&filter = filters_[{w, int(layout)}];
  if (!filter) {
    View<float> src(*w->tensor());
    NewTensor dst(DataType::Float, {padded, inputs, wd[2], wd[3]});
    float *d = dst.data<float>();
    for (int64_t o = 0; o < outputs; ++o)
      for (int64_t i = 0; i < perGroup; ++i)
        for (int64_t k = 0; k < kernel; ++k)
          d[nchwc::filterIndex(layout, o, i, k, inputs, kernel, b_)] =
              src[(o * perGroup + i) * kernel + k];
    filter =
        r_.createInitializer(absl::StrCat(w->name(), "_nchwc"), dst.finish());
  }
  Value *b = bias;
  if (bias && padded != outputs) {
    Value *&aligned = biases_[bias];
    if (!aligned) {
      View<float> v(*bias->tensor());
      NewTensor dst(DataType::Float, {padded}); // zero padding
      std::copy_n(v.data(), outputs, dst.data<float>());
      aligned = r_.createInitializer(absl::StrCat(bias->name(), "_nchwc"),
                                     dst.finish());
    }
    b = aligned;
  }
  Value *in = x;
  bool reads = nchwc::blockedInput(groups, inputs, b_);
  if (reads && !blocked(x) && !reorderable(*x))
    return fail(n, kNotReorderable);
  if (reads) {
    if (const Blocked *bx = blocked(x)) {
      in = bx->value;
    } else {
      ONNXOPT_ASSIGN_OR_RETURN(in, reorderInput(x, n));
    }
  }
  std::vector<Value *> operands = {in, filter};
  if (b)
    operands.push_back(b);
  Node *c = r_.create(convOp, operands, 1, &n);
  c->name = n.name;
  for (const Attribute &a : n.attrs())
    r_.setAttr(*c, a.copyWithoutGraphs());
  if (groups != group)
    r_.setAttr(*c, Attribute::makeInt("group", groups));
  Value *y = c->output(0);
  r_.setName(y, r_.freshName(absl::StrCat(n.output(0)->name(), "_nchwc")));
  r_.setType(y, withChannels(*n.output(0), padded));
  record(n, y, outputs, c, spatialAfter(n, spatialOf(x), {wd[2], wd[3]}));
  ++convs_;
  return true;
}

absl::StatusOr<bool> NchwcLowering::pool(Node &n) {
  Value *x = n.input(0);
  if (n.numOutputs() != 1 || !isFloat(x) || !isFloat(n.output(0)))
    return fail(n, "not a float32 pool of one result");
  if (rankOf(x) != 4)
    return fail(n, "not a 2-D pool");
  auto c = staticDim(x, 1);
  if (!c || *c % b_ != 0)
    return fail(n, "the channel count is not a static multiple of the block");
  const Attribute *ks = n.attr("kernel_shape");
  if (!ks || ks->ints.size() != 2)
    return fail(n, "no 2-D kernel_shape");
  if (!blocked(x) && !reorderable(*x))
    return fail(n, kNotReorderable);
  Value *in;
  if (const Blocked *bx = blocked(x)) {
    in = bx->value;
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(in, reorderInput(x, n));
  }
  ONNXOPT_ASSIGN_OR_RETURN(Node * q, copyOnBlocked(n, {in}, *c));
  record(n, q->output(0), *c, q, spatialAfter(n, spatialOf(x), ks->ints));
  ++others_;
  return true;
}

absl::StatusOr<Node *>
NchwcLowering::copyOnBlocked(Node &n, const std::vector<Value *> &inputs,
                             int64_t paddedChannels) {
  bool pooling = n.is("MaxPool") || n.is("AveragePool") ||
                 n.is("GlobalAveragePool") || n.is("GlobalMaxPool");
  OpId o = n.op();
  if (pooling) {
    ONNXOPT_ASSIGN_OR_RETURN(o, op(n.op().type));
  }
  Node *c = r_.create(o, inputs, 1, &n);
  c->name = n.name;
  for (const Attribute &a : n.attrs())
    r_.setAttr(*c, a.copyWithoutGraphs());
  Value *y = c->output(0);
  r_.setName(y, r_.freshName(absl::StrCat(n.output(0)->name(), "_nchwc")));
  r_.setType(y, withChannels(*n.output(0), paddedChannels));
  return c;
}

absl::StatusOr<bool> NchwcLowering::globalPool(Node &n) {
  const Blocked *bx = blocked(n.input(0));
  if (!bx || n.numOutputs() != 1)
    return false;
  ONNXOPT_ASSIGN_OR_RETURN(
      Node * q,
      copyOnBlocked(n, {bx->value}, nchwc::roundUp(bx->channels, b_)));
  record(n, q->output(0), bx->channels, q, Spatial{n.output(0)});
  ++others_;
  return true;
}

bool isNchwcConv(const Node *n) {
  return n && n->op().domain == kNchwcDomain && n->op().type == "Conv";
}

absl::StatusOr<bool> NchwcLowering::binary(Node &n) {
  if (n.numOutputs() != 1 || n.numInputs() < 2)
    return false;
  std::vector<const Blocked *> ins;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    const Blocked *bi = blocked(n.input(i));
    if (!bi)
      return false;
    ins.push_back(bi);
  }
  // One shape: by inference, or by where the dims come from.
  bool equal = true;
  for (size_t i = 1; i < ins.size(); ++i) {
    if (ins[i]->channels != ins[0]->channels)
      return fail(n, "operands of other channel counts");
    equal = equal && (sameShape(*n.input(0), *n.input(i)) ||
                      ins[i]->spatial == ins[0]->spatial);
  }
  int64_t channels = ins[0]->channels;
  bool add = n.is("Add") || n.is("Sum");
  if (!equal && !add)
    return fail(n, "operands of shapes not known to be equal (a Mul that "
                   "broadcasts stays plain)");
  if (!equal)
    return addOfUnknownShapes(n, ins);
  if (add && ins.size() == 2) {
    for (size_t k = 0; k < 2; ++k) {
      Node *c = ins[k]->producer;
      if (!isNchwcConv(c) || !ins[k]->single || c->attr("activation") ||
          c->numInputs() > 3 || c->output(0) != ins[k]->value)
        continue;
      // The convolution accumulates onto the other operand.
      Value *other = ins[1 - k]->value;
      Node *conv = c;
      r_.modifyInPlace(*conv, [&] {
        if (conv->numInputs() == 2)
          conv->addInput(nullptr);
        conv->addInput(other);
        conv->moveBefore(&n);
      });
      record(n, conv->output(0), channels, conv, ins[0]->spatial);
      ++others_;
      return true;
    }
  }
  std::vector<Value *> operands;
  for (const Blocked *bi : ins)
    operands.push_back(bi->value);
  ONNXOPT_ASSIGN_OR_RETURN(
      Node * c, copyOnBlocked(n, operands, nchwc::roundUp(channels, b_)));
  record(n, c->output(0), channels, c, ins[0]->spatial);
  ++others_;
  return true;
}

/// An Add of blocked operands whose spatial dims cannot be shown equal: on
/// the true 5-D layout, [N, Cp/B, H, W, B], where broadcasting over the
/// batch and spatial dims means what it means in NCHW (the channel counts
/// are equal), then back to 4-D; as ONNX Runtime does. Reshapes of 0
/// (copy) dims.
absl::StatusOr<bool>
NchwcLowering::addOfUnknownShapes(Node &n,
                                  const std::vector<const Blocked *> &ins) {
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (rankOf(n.input(i)) != 4)
      return fail(n, "an operand's rank is not 4");
  ONNXOPT_ASSIGN_OR_RETURN(OpId reshape, r_.resolve("Reshape"));
  int64_t cp = nchwc::roundUp(ins[0]->channels, b_);
  Value *&split = splitShapes_[cp];
  if (!split)
    split = r_.createInitializer("nchwc_split",
                                 makeInt64Tensor({0, cp / b_, 0, 0, b_}));
  Value *&join = joinShapes_[cp];
  if (!join)
    join = r_.createInitializer("nchwc_join", makeInt64Tensor({0, cp, 0, 0}));
  std::vector<Value *> operands;
  for (const Blocked *bi : ins) {
    Node *rs = r_.create(reshape, {bi->value, split}, 1, &n);
    r_.setName(rs->output(0),
               r_.freshName(absl::StrCat(bi->value->name(), "_5d")));
    r_.setType(rs->output(0), Type::tensor(DataType::Float));
    operands.push_back(rs->output(0));
  }
  Node *sum = r_.create(n.op(), operands, 1, &n);
  sum->name = n.name;
  for (const Attribute &a : n.attrs())
    r_.setAttr(*sum, a.copyWithoutGraphs());
  r_.setName(sum->output(0),
             r_.freshName(absl::StrCat(n.output(0)->name(), "_5d")));
  r_.setType(sum->output(0), Type::tensor(DataType::Float));
  Node *back = r_.create(reshape, {sum->output(0), join}, 1, &n);
  Value *y = back->output(0);
  r_.setName(y, r_.freshName(absl::StrCat(n.output(0)->name(), "_nchwc")));
  r_.setType(y, withChannels(*n.output(0), cp));
  record(n, y, ins[0]->channels, back, Spatial{n.output(0)});
  ++others_;
  return true;
}

absl::StatusOr<bool> NchwcLowering::unary(Node &n) {
  const Blocked *bx = blocked(n.input(0));
  if (!bx)
    return false;
  for (size_t i = 1; i < n.numInputs(); ++i)
    if (n.input(i) && !isConstantTensor(n.input(i)))
      return fail(n, "a bound is not a constant");
  const char *why = nullptr;
  auto act = ortActivationOf(n, why);
  if (n.is("HardSwish")) // nchwc.Conv takes it (ONNX Runtime 1.30's MLAS)
    act = OrtActivation{"HardSwish", {}};
  Node *c = bx->producer;
  if (act && isNchwcConv(c) && bx->single && !c->attr("activation") &&
      c->output(0) == bx->value) {
    r_.setAttr(*c, Attribute::makeString("activation", act->name));
    if (!act->params.empty())
      r_.setAttr(*c, Attribute::makeFloats("activation_params", act->params));
    record(n, c->output(0), bx->channels, c, bx->spatial);
    ++others_;
    return true;
  }
  std::vector<Value *> operands = {bx->value};
  for (size_t i = 1; i < n.numInputs(); ++i)
    operands.push_back(n.input(i));
  ONNXOPT_ASSIGN_OR_RETURN(
      Node * u, copyOnBlocked(n, operands, nchwc::roundUp(bx->channels, b_)));
  record(n, u->output(0), bx->channels, u, bx->spatial);
  ++others_;
  return true;
}

absl::StatusOr<bool> NchwcLowering::concat(Node &n) {
  int64_t axis = intAttr(n, "axis", 0);
  if (n.numOutputs() != 1 || (axis != 1 && axis != -3) ||
      rankOf(n.output(0)) != 4)
    return false;
  std::vector<Value *> operands;
  int64_t channels = 0;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    const Blocked *bi = blocked(n.input(i));
    if (!bi)
      return false;
    if (bi->channels % b_ != 0)
      return fail(n, "an operand's channel count is not a multiple of the "
                     "block");
    operands.push_back(bi->value);
    channels += bi->channels;
  }
  ONNXOPT_ASSIGN_OR_RETURN(Node * c, copyOnBlocked(n, operands, channels));
  record(n, c->output(0), channels, c, blocked(n.input(0))->spatial);
  ++others_;
  return true;
}

/// BatchNormalization (inference) of a blocked tensor: a depthwise 1x1
/// nchwc.Conv of scale / sqrt(var + eps) and bias - mean * that, as ONNX
/// Runtime rewrites it (an activation after it then fuses too).
absl::StatusOr<bool> NchwcLowering::batchNorm(Node &n) {
  const Blocked *bx = blocked(n.input(0));
  if (!bx || n.numOutputs() != 1 || n.numInputs() != 5)
    return false;
  if (intAttr(n, "training_mode", 0) != 0 || intAttr(n, "spatial", 1) != 1)
    return fail(n, "training mode or non-spatial");
  int64_t c = bx->channels;
  std::vector<View<float>> p;
  for (size_t i = 1; i < 5; ++i) {
    const Value *v = n.input(i);
    if (!isConstantTensor(v) || v->tensor()->dtype() != DataType::Float ||
        v->tensor()->dims() != std::vector<int64_t>{c})
      return fail(n, "a parameter is not a constant float32 vector of the "
                     "channels");
    p.emplace_back(*v->tensor());
  }
  const Attribute *eps = n.attr("epsilon");
  float epsilon = eps && eps->kind == AttrKind::Float ? eps->f : 1e-5f;
  ONNXOPT_ASSIGN_OR_RETURN(OpId convOp, op("Conv"));
  int64_t padded = nchwc::roundUp(c, b_);
  NewTensor scale(DataType::Float, {padded, 1, 1, 1}),
      shift(DataType::Float, {padded}); // zero padding
  float *sc = scale.data<float>(), *sh = shift.data<float>();
  for (int64_t i = 0; i < c; ++i) {
    sc[i] = p[0][i] / std::sqrt(p[3][i] + epsilon);
    sh[i] = p[1][i] - p[2][i] * sc[i];
  }
  std::string base = n.output(0)->name();
  Value *w = r_.createInitializer(absl::StrCat(base, "_scale"), scale.finish());
  Value *b = r_.createInitializer(absl::StrCat(base, "_shift"), shift.finish());
  Node *conv = r_.create(convOp, {bx->value, w, b}, 1, &n);
  conv->name = n.name;
  r_.setAttr(*conv, Attribute::makeInt("group", padded));
  r_.setAttr(*conv, Attribute::makeInts("kernel_shape", {1, 1}));
  Value *y = conv->output(0);
  r_.setName(y, r_.freshName(absl::StrCat(base, "_nchwc")));
  r_.setType(y, withChannels(*n.output(0), padded));
  record(n, y, c, conv, bx->spatial);
  ++convs_;
  return true;
}

/// A nearest Resize (or Upsample) by whole spatial factors of a blocked
/// tensor: nchwc.Upsample, as ONNX Runtime rewrites it (FPN's top-down
/// path). Floor of asymmetric coordinates only: each output reads input
/// (y / sh, x / sw), exact.
absl::StatusOr<bool> NchwcLowering::upsample(Node &n) {
  const Blocked *bx = blocked(n.input(0));
  if (!bx || n.numOutputs() != 1)
    return false;
  auto str = [&](const char *name, const char *dflt) {
    const Attribute *a = n.attr(name);
    return a && a->kind == AttrKind::String ? a->s : std::string(dflt);
  };
  bool resize = n.is("Resize");
  if (str("mode", "nearest") != "nearest" ||
      (resize &&
       (n.op().sinceVersion < 11 ||
        str("coordinate_transformation_mode", "half_pixel") != "asymmetric" ||
        str("nearest_mode", "round_prefer_floor") != "floor")))
    return fail(n, "not a nearest upsampling of asymmetric coordinates "
                   "rounded down");
  // Whole factors, from constant scales or constant sizes of static dims.
  std::vector<int64_t> factors;
  size_t scalesAt = resize ? 2 : 1;
  const Value *scales = n.numInputs() > scalesAt ? n.input(scalesAt) : nullptr;
  const Value *sizes = resize && n.numInputs() > 3 ? n.input(3) : nullptr;
  if (isConstantTensor(scales) && scales->tensor()->numElements() == 4) {
    for (double v : constantValues(*scales))
      factors.push_back(v >= 1 && v == std::floor(v) ? int64_t(v) : 0);
  } else if (isConstantTensor(sizes) && sizes->tensor()->numElements() == 4) {
    std::vector<double> want = constantValues(*sizes);
    for (int64_t d = 0; d < 4; ++d) {
      auto in = staticDim(n.input(0), d);
      int64_t w = int64_t(want[size_t(d)]);
      factors.push_back(in && *in > 0 && w % *in == 0 ? w / *in : 0);
    }
  }
  if (factors.size() != 4 || factors[0] != 1 || factors[1] != 1 ||
      factors[2] < 1 || factors[3] < 1)
    return fail(n, "not a constant whole spatial factor");
  ONNXOPT_ASSIGN_OR_RETURN(OpId up, op("Upsample"));
  Node *u = r_.create(up, {bx->value}, 1, &n);
  u->name = n.name;
  r_.setAttr(*u, Attribute::makeInts("scales", factors));
  r_.setAttr(*u, Attribute::makeString("mode", "nearest"));
  r_.setAttr(*u, Attribute::makeString("coordinate_transformation_mode",
                                       "asymmetric"));
  Value *y = u->output(0);
  r_.setName(y, r_.freshName(absl::StrCat(n.output(0)->name(), "_nchwc")));
  r_.setType(y, withChannels(*n.output(0), nchwc::roundUp(bx->channels, b_)));
  record(n, y, bx->channels, u, Spatial{n.output(0)});
  ++others_;
  return true;
}

absl::Status NchwcLowering::finish() {
  ONNXOPT_ASSIGN_OR_RETURN(OpId ro, op("ReorderOutput"));
  // Latest first: a replaced node's converted users are gone by the time it
  // is reached, so what still reads its result needs the plain layout.
  for (auto it = replaced_.rbegin(); it != replaced_.rend(); ++it) {
    Node &n = **it;
    Value *orig = n.output(0);
    if (!orig->useEmpty()) {
      const Blocked &b = blocked_.at(orig);
      Node *back = r_.create(ro, {b.value}, 1, b.producer->next());
      r_.setAttr(*back, Attribute::makeInt("channels", b.channels));
      Value *y = back->output(0);
      r_.takeNameAndType(y, *orig);
      orig->setName(r_.freshName(absl::StrCat(orig->name(), "_plain")));
      r_.replaceAllUsesWith(orig, y);
    }
    r_.eraseNode(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> NchwcLowering::run() {
  std::vector<Node *> nodes;
  for (Node *n : g_.nodes())
    nodes.push_back(n);
  for (Node *n : nodes) {
    absl::StatusOr<bool> done = false;
    const OpId &o = n->op();
    if (o.is("Conv") && !o.isOpaque())
      done = conv(*n);
    else if (o.is("FusedConv", "com.microsoft"))
      done = conv(*n);
    else if (o.is("QuickGelu", "com.microsoft"))
      done = unary(*n);
    else if (o.isOpaque())
      continue;
    else if (n->is("MaxPool") || n->is("AveragePool"))
      done = pool(*n);
    else if (n->is("GlobalAveragePool") || n->is("GlobalMaxPool"))
      done = globalPool(*n);
    else if (n->is("Add") || n->is("Sum") || n->is("Mul"))
      done = binary(*n);
    else if (n->is("Concat"))
      done = concat(*n);
    else if (n->is("BatchNormalization"))
      done = batchNorm(*n);
    else if (n->is("Resize") || n->is("Upsample"))
      done = upsample(*n);
    else if (isLayoutFreeUnary(*n))
      done = unary(*n);
    if (!done.ok())
      return done.status();
  }
  if (replaced_.empty())
    return false;
  ONNXOPT_RETURN_IF_ERROR(finish());
  return true;
}

class OrtNchwcPass final : public LoweringPass {
public:
  std::string_view argument() const override { return "ort-nchwc"; }
  std::string_view description() const override {
    return "Lower float convolutions and the pools and element-wise ops "
           "between them to ONNX Runtime's com.microsoft.nchwc ops on "
           "channel-blocked tensors (block-size: the host's, 8 or 16)";
  }
  bool isExact() const override { return false; }

protected:
  std::vector<OpsetImport> opsets() const override {
    return {{kNchwcDomain, 1}};
  }
  absl::StatusOr<bool> lower(Graph &g, PassContext &ctx) override {
    int64_t block = blockSize.intValue();
    Rewriter r(g, &ctx.model, argument());
    NchwcLowering lowering(g, r, block, numConv, numOther);
    ONNXOPT_ASSIGN_OR_RETURN(bool changed, lowering.run());
    if (changed) {
      auto &md = ctx.model.metadata;
      auto it = std::find_if(md.begin(), md.end(), [](const auto &kv) {
        return kv.first == nchwc::kBlockSizeKey;
      });
      std::string v = std::to_string(block);
      if (it != md.end() && it->second != v)
        return absl::FailedPreconditionError(absl::StrCat(
            "ort-nchwc: the model is already lowered for NCHWc block size ",
            it->second, ", not ", v));
      if (it == md.end())
        md.emplace_back(nchwc::kBlockSizeKey, v);
    }
    return changed;
  }

private:
  PassOption blockSize{this,
                       "block-size",
                       "ONNX Runtime's NCHWc block on the host that will run "
                       "the model: 16 with AVX-512F, else 8",
                       PassOption::Kind::Int,
                       "8",
                       {"8", "16"}};
  Statistic numConv{this, "num-conv", "Convolutions to nchwc.Conv"};
  Statistic numOther{this, "num-other",
                     "Pools, element-wise ops and fusions on NCHWc tensors"};
};

} // namespace

std::unique_ptr<Pass> createOrtNchwcPass() {
  return std::make_unique<OrtNchwcPass>();
}

} // namespace onnxopt
