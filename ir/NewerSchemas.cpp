// Schemas of the default domain's opsets 18..23 (see NewerSchemas.h).
//
// Three kinds of version, from ONNX's operator changelog:
//   - wider type constraints only (float8 at 19, int4 at 21, bfloat16 on
//     many ops at 22, float4 at 23): the previous schema under the new
//     version. The types this build's IR lacks stay refused, so the
//     constraints are the previous version's.
//   - a new attribute whose default keeps the old meaning (Cast's saturate,
//     AveragePool's dilations, Resize's antialias, Split's num_outputs, Pad's
//     axes operand, Reduce*'s axes as an operand): written here, with
//     inference that falls back to the element type and rank when the new
//     feature is used.
//   - new ops: Mish (18), Gelu (20), Attention and RMSNormalization (23).
// Everything else that changed in 18..23 is listed as undefined.
#include "ir/NewerSchemas.h"

#include "onnx/defs/schema.h"
#include "onnx/defs/shape_inference.h"
#include "onnx/defs/tensor_proto_util.h"

#include <algorithm>
#include <map>
#include <memory>

namespace onnxopt {

namespace {

using onnx::AttributeProto;
using onnx::InferenceContext;
using onnx::OpSchema;

const OpSchema *onnxSchema(const std::string &op, int version) {
  return onnx::OpSchemaRegistry::Schema(op, version, "");
}

/// The allowed types of `schema`'s type parameter `param`.
std::vector<std::string> typesOf(const OpSchema &schema,
                                 const std::string &param) {
  for (const auto &p : schema.typeConstraintParams())
    if (p.type_param_str == param)
      return p.allowed_type_strs;
  return {};
}

const std::vector<std::string> &floatTypes() {
  static const std::vector<std::string> t = {
      "tensor(float16)", "tensor(float)", "tensor(double)", "tensor(bfloat16)"};
  return t;
}

/// The element type of input `in` and its rank (unknown dims) for output
/// `out`: what a new feature's inference says when it cannot say more.
void typeAndRank(InferenceContext &ctx, size_t in, size_t out) {
  onnx::propagateElemTypeFromInputToOutput(ctx, in, out);
  if (!onnx::hasInputShape(ctx, in))
    return;
  auto *shape = ctx.getOutputType(out)->mutable_tensor_type()->mutable_shape();
  shape->clear_dim();
  for (int i = 0; i < onnx::getInputShape(ctx, in).dim_size(); ++i)
    shape->add_dim();
}

/// A fresh, unfinalized copy of `prev` (its operands, results, type
/// constraints, attributes and inference), to take another version and more
/// attributes or operands. (Finalize counts the operands again on a copy of
/// a finalized schema.) Function bodies are not copied: nothing here
/// expands them.
std::unique_ptr<OpSchema> rebuild(const OpSchema &prev) {
  auto s = std::make_unique<OpSchema>();
  int i = 0;
  for (const auto &p : prev.inputs())
    s->Input(i++, p.GetName(), p.GetDescription(), p.GetTypeStr(),
             p.GetOption(), p.GetIsHomogeneous(), p.GetMinArity(),
             p.GetDifferentiationCategory());
  i = 0;
  for (const auto &p : prev.outputs())
    s->Output(i++, p.GetName(), p.GetDescription(), p.GetTypeStr(),
              p.GetOption(), p.GetIsHomogeneous(), p.GetMinArity(),
              p.GetDifferentiationCategory());
  for (const auto &tc : prev.typeConstraintParams())
    s->TypeConstraint(tc.type_param_str, tc.allowed_type_strs, tc.description);
  for (const auto &[name, attr] : prev.attributes())
    s->Attr(attr);
  if (prev.has_type_and_shape_inference_function())
    s->TypeAndShapeInferenceFunction(prev.GetTypeAndShapeInferenceFunction());
  if (prev.has_data_propagation_function())
    s->PartialDataPropagationFunction(prev.GetDataPropagationFunction());
  return s;
}

bool hasInput(InferenceContext &ctx, size_t i) {
  return ctx.getNumInputs() > i && ctx.getInputType(i) != nullptr;
}

class Table {
public:
  Table() { build(); }

  NewerSchema lookup(std::string_view type, int opset) const {
    auto it = versions_.find(std::string(type));
    if (it == versions_.end())
      return {};
    NewerSchema r;
    for (const auto &[version, schema] : it->second)
      if (version <= opset) {
        r.changed = true;
        r.schema = schema.get();
      }
    return r;
  }

  std::vector<NewerVersion> rows() const {
    std::vector<NewerVersion> out;
    for (const auto &[op, list] : versions_)
      for (const auto &[version, schema] : list)
        out.push_back({op, version, schema != nullptr});
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) {
      return std::tie(a.version, a.op) < std::tie(b.version, b.op);
    });
    return out;
  }

private:
  // op -> (version, schema or nullptr: undefined), ascending versions.
  std::map<std::string, std::vector<std::pair<int, std::unique_ptr<OpSchema>>>>
      versions_;

  /// The schema `op` has at `version` (ours above 17), or nullptr.
  const OpSchema *at(const std::string &op, int version) const {
    if (version <= kOnnxRegistryOpset)
      return onnxSchema(op, version);
    return lookup(op, version).schema ? lookup(op, version).schema
                                      : onnxSchema(op, kOnnxRegistryOpset);
  }

  void add(const std::string &op, int version, std::unique_ptr<OpSchema> s) {
    if (s) {
      s->SetName(op).SetDomain("").SinceVersion(version);
      s->Finalize();
    }
    auto &list = versions_[op];
    list.emplace_back(version, std::move(s));
    std::sort(list.begin(), list.end(),
              [](const auto &a, const auto &b) { return a.first < b.first; });
  }
  void undefined(const std::string &op, std::initializer_list<int> versions) {
    for (int v : versions)
      add(op, v, nullptr);
  }
  /// `op` at `version`: its schema at `version - 1`, unchanged (wider type
  /// constraints only).
  OpSchema &same(const std::string &op, int version) {
    const OpSchema *prev = at(op, version - 1);
    add(op, version, prev ? rebuild(*prev) : std::unique_ptr<OpSchema>());
    return *versions_[op].back().second;
  }
  /// Like same, plus attributes that `extend` adds (before finalizing).
  template <typename F> void extended(const std::string &op, int version, F f) {
    const OpSchema *prev = at(op, version - 1);
    auto s = rebuild(*prev);
    f(*s, *prev);
    add(op, version, std::move(s));
  }

  void build();
  void reduce18(const std::string &op, bool withBool);
};

// ------------------------------------------------------------- opset 18

/// Reduce* at 18 (ReduceSum's form of 13): axes is an optional int64
/// operand, noop_with_empty_axes an attribute. ReduceMax/ReduceMin at 20
/// add bool.
void Table::reduce18(const std::string &op, bool withBool) {
  const OpSchema *old = onnxSchema(op, 13);
  const OpSchema *sum = onnxSchema("ReduceSum", 13);
  auto s = std::make_unique<OpSchema>();
  std::vector<std::string> types = typesOf(*old, "T");
  if (withBool)
    types.push_back("tensor(bool)");
  s->Input(0, "data", "An input tensor.", "T")
      .Input(1, "axes", "The axes to reduce.", "tensor(int64)",
             OpSchema::Optional)
      .Output(0, "reduced", "Reduced output tensor.", "T")
      .Attr("keepdims", "Keep the reduced dimensions.", AttributeProto::INT,
            static_cast<int64_t>(1))
      .Attr("noop_with_empty_axes", "Empty axes: the identity.",
            AttributeProto::INT, static_cast<int64_t>(0))
      .TypeConstraint("T", types, "The element types.")
      .TypeAndShapeInferenceFunction(sum->GetTypeAndShapeInferenceFunction());
  add(op, withBool ? 20 : 18, std::move(s));
}

/// Split at 18: num_outputs, splitting into that many parts of
/// ceil(dim / n), the last smaller.
void splitInference(InferenceContext &ctx) {
  for (size_t i = 0; i < ctx.getNumOutputs(); ++i)
    onnx::propagateElemTypeFromInputToOutput(ctx, 0, i);
  if (!onnx::hasInputShape(ctx, 0))
    return;
  const auto &shape = onnx::getInputShape(ctx, 0);
  int64_t rank = shape.dim_size();
  int64_t axis = onnx::getAttribute(ctx, "axis", 0);
  if (axis < -rank || axis >= rank)
    fail_shape_inference("Split's axis ", axis, " is out of range");
  if (axis < 0)
    axis += rank;
  std::vector<int64_t> sizes;
  const auto *splitData = hasInput(ctx, 1) ? ctx.getInputData(1) : nullptr;
  int64_t n = static_cast<int64_t>(ctx.getNumOutputs());
  if (splitData) {
    sizes = onnx::ParseData<int64_t>(splitData);
    if (static_cast<int64_t>(sizes.size()) != n)
      fail_shape_inference("Split has ", n, " results and ", sizes.size(),
                           " split sizes");
  } else if (!hasInput(ctx, 1) && shape.dim(axis).has_dim_value()) {
    int64_t dim = shape.dim(axis).dim_value();
    int64_t parts = onnx::getAttribute(ctx, "num_outputs", n);
    if (parts != n)
      fail_shape_inference("num_outputs is ", parts, " for ", n, " results");
    int64_t chunk = (dim + n - 1) / n;
    for (int64_t i = 0; i < n; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
  }
  for (int64_t i = 0; i < n; ++i) {
    auto *out = ctx.getOutputType(i)->mutable_tensor_type()->mutable_shape();
    *out = shape;
    if (sizes.empty())
      out->mutable_dim(axis)->Clear();
    else
      out->mutable_dim(axis)->set_dim_value(sizes[i]);
  }
}

// ------------------------------------------------------------ new ops

void geluInference(InferenceContext &ctx) {
  std::string approx = onnx::getAttribute(ctx, "approximate", "none");
  if (approx != "none" && approx != "tanh")
    fail_shape_inference("Gelu's approximate is 'none' or 'tanh', not '",
                         approx, "'");
  onnx::propagateShapeAndTypeFromFirstInput(ctx);
}

/// Attention (23): Q [B, S, Hq*E] with q_num_heads, or [B, Hq, S, E]; V
/// likewise with kv_num_heads. Y is Q's layout with V's head size.
void attentionInference(InferenceContext &ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  for (size_t i = 1; i < 3 && i < ctx.getNumOutputs(); ++i)
    if (ctx.getOutputType(i))
      onnx::propagateElemTypeFromInputToOutput(ctx, i, i);
  if (ctx.getNumOutputs() > 3 && ctx.getOutputType(3))
    onnx::propagateElemTypeFromInputToOutput(ctx, 0, 3);
  if (!onnx::hasInputShape(ctx, 0) || !onnx::hasInputShape(ctx, 2))
    return;
  const auto &q = onnx::getInputShape(ctx, 0);
  const auto &v = onnx::getInputShape(ctx, 2);
  if (q.dim_size() != v.dim_size() || (q.dim_size() != 3 && q.dim_size() != 4))
    fail_shape_inference("Attention's Q and V are both 3-D or both 4-D");
  auto *y = ctx.getOutputType(0)->mutable_tensor_type()->mutable_shape();
  *y = q;
  if (q.dim_size() == 4) {
    *y->mutable_dim(3) = v.dim(3);
    return;
  }
  int64_t qHeads = onnx::getAttribute(ctx, "q_num_heads", 0);
  int64_t kvHeads = onnx::getAttribute(ctx, "kv_num_heads", 0);
  if (qHeads <= 0 || kvHeads <= 0)
    fail_shape_inference("3-D Attention needs q_num_heads and kv_num_heads");
  y->mutable_dim(2)->Clear();
  if (v.dim(2).has_dim_value()) {
    if (v.dim(2).dim_value() % kvHeads != 0)
      fail_shape_inference("kv_num_heads does not divide V's hidden size");
    y->mutable_dim(2)->set_dim_value(v.dim(2).dim_value() / kvHeads * qHeads);
  }
}

void rmsNormInference(InferenceContext &ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 1, 0);
  if (!onnx::hasInputShape(ctx, 0))
    return;
  int64_t rank = onnx::getInputShape(ctx, 0).dim_size();
  int64_t axis = onnx::getAttribute(ctx, "axis", -1);
  if (axis < -rank || axis >= rank)
    fail_shape_inference("RMSNormalization's axis ", axis, " is out of range");
  onnx::propagateShapeFromInputToOutput(ctx, 0, 0);
}

// ------------------------------------------------------------ the table

void Table::build() {
  // 18
  for (const char *op :
       {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
        "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare"})
    reduce18(op, false);
  extended("Split", 18, [](OpSchema &s, const OpSchema &) {
    s.Attr("num_outputs", "Parts to split into (without a split operand).",
           AttributeProto::INT, false)
        .TypeAndShapeInferenceFunction(splitInference);
  });
  extended("Pad", 18, [](OpSchema &s, const OpSchema &prev) {
    auto base = prev.GetTypeAndShapeInferenceFunction();
    s.Input(3, "axes", "The axes pads apply to.", "Tind", OpSchema::Optional)
        .TypeConstraint("Tind", {"tensor(int32)", "tensor(int64)"},
                        "Axes types.")
        .TypeAndShapeInferenceFunction([base](InferenceContext &ctx) {
          if (hasInput(ctx, 3))
            typeAndRank(ctx, 0, 0);
          else
            base(ctx);
        });
  });
  extended("Resize", 18, [](OpSchema &s, const OpSchema &prev) {
    auto base = prev.GetTypeAndShapeInferenceFunction();
    s.Attr("antialias", "Antialiasing filter when downscaling.",
           AttributeProto::INT, static_cast<int64_t>(0))
        .Attr("axes", "The axes scales or sizes apply to.",
              AttributeProto::INTS, false)
        .Attr("keep_aspect_ratio_policy", "How sizes keep the aspect ratio.",
              AttributeProto::STRING, std::string("stretch"))
        .TypeAndShapeInferenceFunction([base](InferenceContext &ctx) {
          if (ctx.getAttribute("axes") ||
              onnx::getAttribute(ctx, "keep_aspect_ratio_policy", "stretch") !=
                  "stretch")
            typeAndRank(ctx, 0, 0);
          else
            base(ctx);
        });
  });
  same("ScatterElements", 18);
  same("ScatterND", 18);
  {
    auto s = std::make_unique<OpSchema>();
    s->Input(0, "X", "Input tensor.", "T")
        .Output(0, "Y", "Output tensor.", "T")
        .TypeConstraint("T",
                        {"tensor(float16)", "tensor(float)", "tensor(double)"},
                        "Float types.")
        .TypeAndShapeInferenceFunction(
            onnx::propagateShapeAndTypeFromFirstInput);
    add("Mish", 18, std::move(s));
  }
  undefined("CenterCropPad", {18});
  undefined("Col2Im", {18});
  undefined("OptionalGetElement", {18});
  undefined("OptionalHasElement", {18});
  undefined("BitwiseAnd", {18});
  undefined("BitwiseOr", {18});
  undefined("BitwiseXor", {18});
  undefined("BitwiseNot", {18});
  undefined("GroupNormalization", {18, 21});
  undefined("LpPool", {18, 22});

  // 19
  same("Equal", 19);
  extended("AveragePool", 19, [](OpSchema &s, const OpSchema &prev) {
    auto base = prev.GetTypeAndShapeInferenceFunction();
    s.Attr("dilations", "Dilation along each spatial axis.",
           AttributeProto::INTS, false)
        .TypeAndShapeInferenceFunction([base](InferenceContext &ctx) {
          const auto *d = ctx.getAttribute("dilations");
          bool dilated = d && std::any_of(d->ints().begin(), d->ints().end(),
                                          [](int64_t v) { return v != 1; });
          if (dilated)
            typeAndRank(ctx, 0, 0);
          else
            base(ctx);
        });
  });
  for (int v : {19, 21, 23}) {
    for (const char *op : {"Cast", "CastLike"})
      extended(op, v, [v](OpSchema &s, const OpSchema &) {
        if (v == 19)
          s.Attr("saturate", "Saturation of float8 conversions.",
                 AttributeProto::INT, static_cast<int64_t>(1));
      });
    for (const char *op : {"Constant", "Identity", "If", "Loop", "Reshape",
                           "Scan", "Shape", "Size"})
      same(op, v);
    same("Pad", v);
  }
  // Resize 19 adds a coordinate mode, Pad 19 the wrap mode: attribute
  // values, the same schemas.
  same("Resize", 19);
  undefined("DeformConv", {19, 22});
  undefined("DequantizeLinear", {19, 21, 23});
  undefined("QuantizeLinear", {19, 21, 23});

  // 20
  {
    auto s = std::make_unique<OpSchema>();
    s->Input(0, "X", "Input tensor.", "T")
        .Output(0, "Y", "Output tensor.", "T")
        .Attr("approximate", "'none' (erf) or 'tanh'.", AttributeProto::STRING,
              std::string("none"))
        .TypeConstraint("T", floatTypes(), "Float types.")
        .TypeAndShapeInferenceFunction(geluInference);
    add("Gelu", 20, std::move(s));
  }
  for (int v : {20, 21, 23})
    same("ConstantOfShape", v);
  same("IsInf", 20);
  same("IsNaN", 20);
  reduce18("ReduceMax", true);
  reduce18("ReduceMin", true);
  undefined("AffineGrid", {20});
  undefined("DFT", {20});
  undefined("GridSample", {20, 22});
  undefined("ImageDecoder", {20});
  undefined("RegexFullMatch", {20});
  undefined("StringConcat", {20});
  undefined("StringSplit", {20});

  // 21 and 23 (types)
  for (int v : {21, 23})
    for (const char *op : {"Flatten", "Squeeze", "Transpose", "Unsqueeze"})
      same(op, v);
  undefined("QLinearMatMul", {21});

  // 22 (bfloat16)
  for (const char *op : {"Acos",
                         "Acosh",
                         "Asin",
                         "Asinh",
                         "Atan",
                         "Atanh",
                         "AveragePool",
                         "Bernoulli",
                         "Conv",
                         "ConvTranspose",
                         "Cos",
                         "Cosh",
                         "Det",
                         "Dropout",
                         "Elu",
                         "EyeLike",
                         "GRU",
                         "GlobalAveragePool",
                         "GlobalLpPool",
                         "GlobalMaxPool",
                         "HardSigmoid",
                         "HardSwish",
                         "InstanceNormalization",
                         "LSTM",
                         "LpNormalization",
                         "MaxPool",
                         "MaxRoiPool",
                         "MaxUnpool",
                         "Mish",
                         "Multinomial",
                         "NegativeLogLikelihoodLoss",
                         "RNN",
                         "RandomNormal",
                         "RandomNormalLike",
                         "RandomUniform",
                         "RandomUniformLike",
                         "RoiAlign",
                         "Round",
                         "Selu",
                         "Sin",
                         "Sinh",
                         "Softplus",
                         "Softsign",
                         "Tan",
                         "ThresholdedRelu"})
    same(op, 22);

  // 23
  {
    auto s = std::make_unique<OpSchema>();
    s->Input(0, "Q", "Queries.", "T1")
        .Input(1, "K", "Keys.", "T1")
        .Input(2, "V", "Values.", "T2")
        .Input(3, "attn_mask", "Bool (true: attend) or additive mask.", "U",
               OpSchema::Optional)
        .Input(4, "past_key", "Cached keys.", "T1", OpSchema::Optional)
        .Input(5, "past_value", "Cached values.", "T2", OpSchema::Optional)
        .Output(0, "Y", "The attention output.", "T1")
        .Output(1, "present_key", "Keys with the past.", "T1",
                OpSchema::Optional)
        .Output(2, "present_value", "Values with the past.", "T2",
                OpSchema::Optional)
        .Output(3, "qk_matmul_output", "Q K' at the chosen stage.", "T1",
                OpSchema::Optional)
        .Attr("is_causal", "A causal (lower triangular) mask.",
              AttributeProto::INT, static_cast<int64_t>(0))
        .Attr("kv_num_heads", "Heads of K and V (3-D inputs).",
              AttributeProto::INT, false)
        .Attr("q_num_heads", "Heads of Q (3-D inputs).", AttributeProto::INT,
              false)
        .Attr("qk_matmul_output_mode", "What qk_matmul_output holds.",
              AttributeProto::INT, static_cast<int64_t>(0))
        .Attr("scale", "Scale of Q K' (default 1/sqrt(head size)).",
              AttributeProto::FLOAT, false)
        .Attr("softcap", "Softcap of the scores (0: none).",
              AttributeProto::FLOAT, 0.0f)
        .Attr("softmax_precision", "Element type the softmax computes in.",
              AttributeProto::INT, false)
        .TypeConstraint("T1", floatTypes(), "Q and K types.")
        .TypeConstraint("T2", floatTypes(), "V types.")
        .TypeConstraint("U",
                        {"tensor(bool)", "tensor(float16)", "tensor(float)",
                         "tensor(double)", "tensor(bfloat16)"},
                        "Mask types.")
        .TypeAndShapeInferenceFunction(attentionInference);
    add("Attention", 23, std::move(s));
  }
  {
    auto s = std::make_unique<OpSchema>();
    s->Input(0, "X", "Input tensor.", "T")
        .Input(1, "scale", "Scale, broadcast to the normalized axes.", "V")
        .Output(0, "Y", "Normalized tensor.", "V")
        .Attr("axis", "First normalized axis.", AttributeProto::INT,
              static_cast<int64_t>(-1))
        .Attr("epsilon", "Added to the mean square.", AttributeProto::FLOAT,
              1e-5f)
        .Attr("stash_type", "Element type of the computation.",
              AttributeProto::INT, static_cast<int64_t>(1))
        .TypeConstraint("T", floatTypes(), "Input types.")
        .TypeConstraint("V", floatTypes(), "Scale and output types.")
        .TypeAndShapeInferenceFunction(rmsNormInference);
    add("RMSNormalization", 23, std::move(s));
  }
  undefined("RotaryEmbedding", {23});
}

const Table &table() {
  static const Table *t = new Table();
  return *t;
}

} // namespace

NewerSchema newerSchema(std::string_view type, int opset) {
  if (opset <= kOnnxRegistryOpset)
    return {};
  return table().lookup(type, opset);
}

std::vector<NewerVersion> newerVersions() { return table().rows(); }

} // namespace onnxopt
