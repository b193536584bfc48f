// convert-opset: converts the default (ONNX) domain of a model to another
// opset version, one version step at a time, up or down, subgraphs included;
// other domains (ai.onnx.ml, com.microsoft) are left as they are.
//
// A step from v to w = v +- 1 visits every node whose operator schema changes
// between the two: its schema is introduced at w (up) or at v (down). When
// the change is only wider type constraints, the node takes the other
// version's schema (a downgrade checks its operand types against the older
// constraints). When the signature or the semantics changed, the step's
// adapter rewrites the node (docs/opset-conversion.md lists them):
//   - attributes <-> inputs: Slice (10), Pad and Clip (11), Dropout's ratio
//     (12), Squeeze/Unsqueeze/ReduceSum axes and Split's split (13), TopK's
//     k (10), Upsample's scales (9);
//   - Softmax/LogSoftmax/Hardmax at 13: the old ones coerce to 2-D at the
//     axis, the new ones work along one axis (Flatten/Reshape around the
//     new one going up; the axis moved last by Transpose going down);
//   - renames: Upsample <-> Resize at 10, Scatter <-> ScatterElements at 11;
//   - defaults that changed (RoiAlign's coordinate mode at 16, Resize 10's
//     asymmetric coordinates) are written out;
//   - an op that does not exist at the older version is expanded into ops
//     that do when ONNX defines it as such a function: LayerNormalization
//     (17), HardSwish and Trilu (14), GreaterOrEqual/LessOrEqual (12).
// What the older version cannot express (a new attribute set to a value it
// lacks, an operand that must be a constant but is computed, an op without an
// expansion) is an error naming the node and the opset it needs: the model is
// not written.
//
// Numeric: inexact only where an op is expanded (LayerNormalization,
// HardSwish); every other rewrite computes the same arithmetic.

#include "format/ProtoConversion.h"
#include "format/TypeInference.h"
#include "ir/OpRegistry.h"
#include "passes/PatternUtils.h"
#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_map.h"
#include "onnx/defs/data_type_utils.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <limits>

namespace onnxopt {

namespace {

constexpr int64_t kMinOpset = 7;

/// The IR version an opset needs at least (ONNX's versioning table).
int64_t minIrVersion(int64_t opset) {
  if (opset <= 8)
    return 3;
  if (opset == 9)
    return 4;
  if (opset == 10)
    return 5;
  if (opset == 11)
    return 6;
  if (opset <= 14)
    return 7;
  if (opset <= 18)
    return 8;
  if (opset <= 20)
    return 9;
  if (opset <= 22)
    return 10;
  return 11;
}

// ------------------------------------------------------------ constants

/// The tensor a constant operand holds: an initializer that is not a graph
/// input, or the result of a Constant node (any of its value attributes).
std::shared_ptr<const Tensor> constantOf(const Value *v) {
  if (!v)
    return nullptr;
  if (isConstantTensor(v))
    return v->tensor();
  const Node *d = v->definingNode();
  if (!d || !d->is("Constant") || d->op().isOpaque() || d->attrs().size() != 1)
    return nullptr;
  const Attribute &a = d->attrs()[0];
  if (a.name == "value" && a.kind == AttrKind::Tensor && !a.tensors.empty())
    return a.tensors[0];
  if (a.name == "value_int")
    return makeInt64Tensor({a.i}, true);
  if (a.name == "value_ints")
    return makeInt64Tensor(a.ints);
  if (a.name == "value_float")
    return makeFloatTensor(DataType::Float, {}, {double(a.f)});
  if (a.name == "value_floats")
    return makeFloatTensor(
        DataType::Float, {int64_t(a.floats.size())},
        std::vector<double>(a.floats.begin(), a.floats.end()));
  return nullptr;
}

std::optional<std::vector<int64_t>> intsOf(const Value *v) {
  auto t = constantOf(v);
  if (!t || (t->dtype() != DataType::Int64 && t->dtype() != DataType::Int32))
    return std::nullopt;
  return toInt64s(*t);
}

std::optional<std::vector<double>> floatsOf(const Value *v) {
  auto t = constantOf(v);
  if (!t || !isFloatType(t->dtype()))
    return std::nullopt;
  return toDoubles(*t);
}

DataType elemTypeOf(const Value *v) {
  return v && v->type().isTensor() ? v->type().elemType() : DataType::Undefined;
}

std::vector<float> toFloats(const std::vector<double> &d) {
  return std::vector<float>(d.begin(), d.end());
}

// ------------------------------------------------------------- the step

/// One node's part of one version step: what adapters read and build with.
struct Step {
  Rewriter &r;
  Node *n;          // the node; an adapter that replaces it resets it
  std::string type; // the op type the node takes at `to` (renames)
  int64_t from, to;
  bool up() const { return to > from; }

  /// An error naming the node: what the conversion cannot express.
  template <typename... Args> absl::Status fail(const Args &...args) const {
    return invalidInput("node '", n->name, "' (", n->op().type,
                        ") cannot be converted from opset ", from, " to ", to,
                        ": ", args...);
  }
  /// Creates `type` resolved at the step's target version before the node.
  absl::StatusOr<Node *> make(std::string_view t, std::vector<Value *> in,
                              size_t numOutputs = 1) {
    ONNXOPT_ASSIGN_OR_RETURN(OpId op, resolveOp("", t, to));
    Node *m = r.create(std::move(op), in, numOutputs, n);
    std::string base =
        n->numOutputs() && n->output(0)
            ? absl::StrCat(n->output(0)->name(), "_", std::string(t))
            : std::string(t);
    for (size_t i = 0; i < numOutputs; ++i)
      r.setName(m->output(i), r.freshName(base));
    return m;
  }
  /// Like make, for one result, with attributes `attrs`.
  template <typename... Attrs>
  absl::StatusOr<Value *> make1(std::string_view t, std::vector<Value *> in,
                                Attrs &&...attrs) {
    ONNXOPT_ASSIGN_OR_RETURN(Node * m, make(t, std::move(in)));
    (r.setAttr(*m, std::forward<Attrs>(attrs)), ...);
    return m->output(0);
  }
  Value *ints(std::string_view base, const std::vector<int64_t> &v,
              bool scalar = false) {
    return r.createInitializer(base, makeInt64Tensor(v, scalar));
  }
  Value *floats(std::string_view base, DataType dt, std::vector<int64_t> dims,
                const std::vector<double> &v) {
    return r.createInitializer(base, makeFloatTensor(dt, std::move(dims), v));
  }
  /// Replaces the node's result `i` by `v` (which takes its name and type).
  void replaceResult(size_t i, Value *v) {
    r.takeNameAndType(v, *n->output(i));
    r.replaceAllUsesWith(n->output(i), v);
  }
  /// Replaces the node by a copy with `inputs`, `numOutputs` results (the
  /// first ones of the node: the rest must be unused) and its attributes.
  absl::Status recreate(std::vector<Value *> inputs, size_t numOutputs) {
    for (size_t i = numOutputs; i < n->numOutputs(); ++i)
      if (n->output(i) && !n->output(i)->useEmpty())
        return fail("its result ", i, " is used and opset ", to,
                    " has no such result");
    ONNXOPT_ASSIGN_OR_RETURN(OpId op, resolveOp("", type, to));
    Node *m = r.create(std::move(op), inputs, numOutputs, n);
    for (const Attribute &a : n->attrs())
      r.setAttr(*m, a.copyWithoutGraphs());
    m->name = n->name;
    for (size_t i = 0; i < numOutputs && i < n->numOutputs(); ++i)
      if (n->output(i))
        replaceResult(i, m->output(i));
    r.eraseNode(*n);
    n = m;
    return absl::OkStatus();
  }
  /// Finishes an expansion: result 0 of the node is `v`; the node goes.
  absl::Status replaceWith(Value *v) {
    for (size_t i = 1; i < n->numOutputs(); ++i)
      if (n->output(i) && !n->output(i)->useEmpty())
        return fail("its result ", i,
                    " is used and its expansion does not compute it");
    replaceResult(0, v);
    r.eraseNode(*n);
    n = nullptr;
    return absl::OkStatus();
  }
  std::vector<Value *> inputs() const {
    std::vector<Value *> in;
    for (size_t i = 0; i < n->numInputs(); ++i)
      in.push_back(n->input(i));
    return in;
  }
  Value *input(size_t i) const {
    return i < n->numInputs() ? n->input(i) : nullptr;
  }
  void truncateInputs(size_t k) {
    Node *m = n;
    if (m->numInputs() > k)
      r.modifyInPlace(*m, [m, k] { m->truncateInputs(k); });
  }
  void setInput(size_t i, Value *v) {
    while (n->numInputs() <= i)
      r.appendOperand(*n, nullptr);
    r.setOperand(*n, i, v);
  }
};

using Adapter = absl::Status (*)(Step &);

// ----------------------------------------- attribute <-> input operands

/// Moves int attribute list `attr` to input `index` (up) or back (down; the
/// input must be a constant). An absent operand stays absent.
absl::Status moveInts(Step &s, const char *attr, size_t index) {
  if (s.up()) {
    const Attribute *a = s.n->attr(attr);
    if (!a)
      return absl::OkStatus();
    std::vector<int64_t> v = a->ints;
    s.r.removeAttr(*s.n, attr);
    s.setInput(index, s.ints(attr, v));
    return absl::OkStatus();
  }
  Value *in = s.input(index);
  if (!in)
    return absl::OkStatus();
  auto v = intsOf(in);
  if (!v)
    return s.fail("its ", attr, " operand is computed at run time; opset ",
                  s.to, " needs it as an attribute");
  s.r.setAttr(*s.n, Attribute::makeInts(attr, *v));
  s.truncateInputs(index);
  return absl::OkStatus();
}

absl::Status axesToInput(Step &s) { return moveInts(s, "axes", 1); }
absl::Status splitToInput(Step &s) { return moveInts(s, "split", 1); }
absl::Status kToInput(Step &s) {
  if (s.up()) {
    int64_t k = intAttr(*s.n, "k", 0);
    s.r.removeAttr(*s.n, "k");
    s.setInput(1, s.ints("k", {k}));
    return absl::OkStatus();
  }
  auto k = intsOf(s.input(1));
  if (!k || k->size() != 1)
    return s.fail("k is computed at run time; opset ", s.to,
                  " needs it as an attribute");
  s.r.setAttr(*s.n, Attribute::makeInt("k", (*k)[0]));
  s.truncateInputs(1);
  return absl::OkStatus();
}

absl::Status reduceSum13(Step &s) {
  if (!s.up()) {
    bool noop = intAttr(*s.n, "noop_with_empty_axes", 0) != 0;
    auto axes = s.input(1) ? intsOf(s.input(1)) : std::vector<int64_t>{};
    if (noop && axes && axes->empty())
      return s.fail("noop_with_empty_axes = 1 with no axes");
    s.r.removeAttr(*s.n, "noop_with_empty_axes");
  }
  return moveInts(s, "axes", 1);
}

absl::Status slice10(Step &s) {
  if (s.up()) {
    std::vector<Value *> in{s.n->input(0)};
    for (const char *a : {"starts", "ends", "axes"}) {
      const Attribute *at = s.n->attr(a);
      if (at)
        in.push_back(s.ints(a, at->ints));
      else if (std::string_view(a) != "axes")
        return s.fail("no ", a);
    }
    for (const char *a : {"starts", "ends", "axes"})
      s.r.removeAttr(*s.n, a);
    s.r.setOperands(*s.n, in);
    return absl::OkStatus();
  }
  const char *names[] = {"starts", "ends", "axes", "steps"};
  for (size_t i = 1; i < s.n->numInputs(); ++i) {
    if (!s.n->input(i))
      continue;
    auto v = intsOf(s.n->input(i));
    if (!v)
      return s.fail("its ", names[i - 1], " are computed at run time");
    if (i == 4) {
      for (int64_t st : *v)
        if (st != 1)
          return s.fail("a step other than 1 needs opset 10");
      continue;
    }
    s.r.setAttr(*s.n, Attribute::makeInts(names[i - 1], *v));
  }
  s.truncateInputs(1);
  return absl::OkStatus();
}

absl::Status pad11(Step &s) {
  if (s.up()) {
    const Attribute *pads = s.n->attr("pads");
    if (!pads)
      return s.fail("no pads");
    std::vector<Value *> in{s.n->input(0), s.ints("pads", pads->ints)};
    if (const Attribute *v = s.n->attr("value"); v && v->f != 0) {
      DataType dt = elemTypeOf(s.n->input(0));
      if (!isFloatType(dt))
        return s.fail("the element type of its input is unknown");
      in.push_back(s.floats("pad_value", dt, {}, {double(v->f)}));
    }
    s.r.removeAttr(*s.n, "pads");
    s.r.removeAttr(*s.n, "value");
    s.r.setOperands(*s.n, in);
    return absl::OkStatus();
  }
  auto pads = intsOf(s.input(1));
  if (!pads)
    return s.fail("its pads are computed at run time");
  s.r.setAttr(*s.n, Attribute::makeInts("pads", *pads));
  if (Value *v = s.input(2)) {
    auto f = floatsOf(v);
    if (!f || f->size() != 1)
      return s.fail("its pad value is not a float constant");
    s.r.setAttr(*s.n, Attribute::makeFloat("value", float((*f)[0])));
  }
  s.truncateInputs(1);
  return absl::OkStatus();
}

absl::Status clip11(Step &s) {
  if (s.up()) {
    DataType dt = elemTypeOf(s.n->input(0));
    std::vector<Value *> in{s.n->input(0)};
    const Attribute *mn = s.n->attr("min"), *mx = s.n->attr("max");
    if ((mn || mx) && !isFloatType(dt))
      return s.fail("the element type of its input is unknown");
    in.push_back(mn ? s.floats("clip_min", dt, {}, {double(mn->f)}) : nullptr);
    if (mx)
      in.push_back(s.floats("clip_max", dt, {}, {double(mx->f)}));
    if (!mx && !mn)
      in.pop_back();
    s.r.removeAttr(*s.n, "min");
    s.r.removeAttr(*s.n, "max");
    s.r.setOperands(*s.n, in);
    return absl::OkStatus();
  }
  const char *names[] = {"min", "max"};
  for (size_t i = 1; i < 3; ++i) {
    Value *v = s.input(i);
    if (!v)
      continue;
    auto f = floatsOf(v);
    if (!f || f->size() != 1)
      return s.fail("its ", names[i - 1], " is not a float constant");
    s.r.setAttr(*s.n, Attribute::makeFloat(names[i - 1], float((*f)[0])));
  }
  s.truncateInputs(1);
  return absl::OkStatus();
}

absl::Status dropout12(Step &s) {
  // ONNX Runtime's inference mask differs between 10 and 12.
  if (s.n->numOutputs() > 1 && s.n->output(1) && !s.n->output(1)->useEmpty())
    return s.fail("its mask is used (inference masks differ before 12)");
  if (s.up()) {
    if (const Attribute *ratio = s.n->attr("ratio")) {
      double v = ratio->f;
      s.r.removeAttr(*s.n, "ratio");
      s.setInput(1, s.floats("ratio", DataType::Float, {}, {v}));
    }
    return absl::OkStatus();
  }
  // Training mode with a ratio of 0 drops nothing either (Swin's exports).
  auto ratioValue = s.input(1) ? floatsOf(s.input(1)) : std::nullopt;
  bool zeroRatio =
      ratioValue && ratioValue->size() == 1 && (*ratioValue)[0] == 0;
  if (Value *t = s.input(2); t && !zeroRatio) {
    auto v = constantOf(t);
    if (!v || v->dtype() != DataType::Bool || v->numElements() != 1 ||
        v->bytes()[0] != 0)
      return s.fail("training_mode is not the constant false (and the ratio "
                    "not 0)");
  }
  s.r.removeAttr(*s.n, "seed"); // no seed before 12: inference ignores it
  if (Value *ratio = s.input(1)) {
    auto f = floatsOf(ratio);
    if (!f || f->size() != 1)
      return s.fail("its ratio is not a constant");
    s.r.setAttr(*s.n, Attribute::makeFloat("ratio", float((*f)[0])));
  }
  s.truncateInputs(1);
  return absl::OkStatus();
}

absl::Status dropout10(Step &s) {
  // Dropout 7's mask has the input's type, 10's is bool.
  if (s.n->numOutputs() > 1 && s.n->output(1) && !s.n->output(1)->useEmpty())
    return s.fail("its mask is used and changes type at opset 10");
  return absl::OkStatus();
}

absl::Status upsample9(Step &s) {
  if (s.up()) {
    const Attribute *sc = s.n->attr("scales");
    if (!sc)
      return s.fail("no scales");
    std::vector<double> v(sc->floats.begin(), sc->floats.end());
    Value *c = s.floats("scales", DataType::Float, {int64_t(v.size())}, v);
    s.r.removeAttr(*s.n, "scales");
    s.setInput(1, c);
    return absl::OkStatus();
  }
  auto f = floatsOf(s.input(1));
  if (!f)
    return s.fail("its scales are computed at run time");
  s.r.setAttr(*s.n, Attribute::makeFloats("scales", toFloats(*f)));
  s.truncateInputs(1);
  return absl::OkStatus();
}

/// Resize 10 computes asymmetric source coordinates; nearest picks the
/// pixel below when enlarging (floor) and above when shrinking (ceil).
absl::Status resize11(Step &s) {
  std::string mode = "nearest";
  if (const Attribute *a = s.n->attr("mode"))
    mode = a->s;
  if (s.up()) {
    Value *x = s.n->input(0), *scales = s.input(1);
    auto f = floatsOf(scales);
    if (mode == "nearest") {
      if (!f)
        return s.fail("its scales are computed at run time (the rounding of "
                      "nearest depends on them)");
      bool allUp = true, allDown = true;
      for (double v : *f) {
        allUp &= v >= 1;
        allDown &= v <= 1;
      }
      if (!allUp && !allDown)
        return s.fail("nearest enlarging some axes and shrinking others");
      s.r.setAttr(*s.n, Attribute::makeString("nearest_mode",
                                              allUp ? "floor" : "ceil"));
    }
    s.r.setAttr(*s.n, Attribute::makeString("coordinate_transformation_mode",
                                            "asymmetric"));
    Value *roi = s.floats("roi", DataType::Float, {0}, {});
    s.r.setOperands(*s.n, {x, roi, scales});
    return absl::OkStatus();
  }
  auto str = [&](const char *name, const char *dflt) {
    const Attribute *a = s.n->attr(name);
    return a ? a->s : std::string(dflt);
  };
  if (mode != "nearest" && mode != "linear")
    return s.fail("mode '", mode, "' needs opset 11");
  if (str("coordinate_transformation_mode", "half_pixel") != "asymmetric")
    return s.fail("coordinate_transformation_mode '",
                  str("coordinate_transformation_mode", "half_pixel"),
                  "' needs opset 11 (opset 10 is asymmetric)");
  if (intAttr(*s.n, "exclude_outside", 0) != 0)
    return s.fail("exclude_outside needs opset 11");
  Value *scales = s.input(2);
  auto f = floatsOf(scales);
  if (!f || f->empty() || s.input(3))
    return s.fail("it is given sizes, or scales computed at run time");
  if (mode == "nearest") {
    std::string nm = str("nearest_mode", "round_prefer_floor");
    bool allUp = true, allDown = true;
    for (double v : *f) {
      allUp &= v >= 1;
      allDown &= v <= 1;
    }
    bool same = true;
    for (double v : *f)
      same &= v == 1;
    if (!same && !(nm == "floor" && allUp) && !(nm == "ceil" && allDown))
      return s.fail("nearest_mode '", nm, "' with these scales needs opset 11");
  }
  for (const char *a :
       {"coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a",
        "exclude_outside", "extrapolation_value"})
    s.r.removeAttr(*s.n, a);
  s.r.setOperands(*s.n, {s.n->input(0), scales});
  return absl::OkStatus();
}

/// Resize 11 requires roi and scales (empty when unused); 13 lets them be
/// absent.
absl::Status resize13(Step &s) {
  if (s.up())
    return absl::OkStatus();
  for (size_t i : {size_t(1), size_t(2)})
    if (!s.input(i))
      s.setInput(i,
                 s.floats(i == 1 ? "roi" : "scales", DataType::Float, {0}, {}));
  return absl::OkStatus();
}

// --------------------------------------------- Softmax's axis semantics

/// Softmax, LogSoftmax and Hardmax before 13 flatten the input to 2-D at
/// `axis` (default 1) and normalize each row; from 13 they normalize along
/// `axis` (default -1). Equal when the axis is the last one.
absl::Status softmax13(Step &s) {
  auto rank = rankOf(s.n->input(0));
  int64_t axis = intAttr(*s.n, "axis", s.up() ? 1 : -1);
  if (rank && axis < 0)
    axis += *rank;
  bool last = rank ? axis == *rank - 1 : axis == -1;
  if (last) {
    s.r.setAttr(*s.n, Attribute::makeInt("axis", s.up() ? -1 : axis));
    return absl::OkStatus();
  }
  if (s.up()) {
    // Flatten at the axis, normalize the rows, restore the shape.
    Value *x = s.n->input(0);
    ONNXOPT_ASSIGN_OR_RETURN(
        Value * flat,
        s.make1("Flatten", {x}, Attribute::makeInt("axis", axis)));
    ONNXOPT_ASSIGN_OR_RETURN(
        Value * y, s.make1(s.type, {flat}, Attribute::makeInt("axis", -1)));
    ONNXOPT_ASSIGN_OR_RETURN(Value * shape, s.make1("Shape", {x}));
    ONNXOPT_ASSIGN_OR_RETURN(Value * out, s.make1("Reshape", {y, shape}));
    return s.replaceWith(out);
  }
  if (!rank)
    return s.fail("its input's rank is unknown and the axis is not the last");
  // Move the axis last, normalize it, move it back.
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < *rank; ++i)
    if (i != axis)
      perm.push_back(i);
  perm.push_back(axis);
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[size_t(perm[i])] = int64_t(i);
  ONNXOPT_ASSIGN_OR_RETURN(
      Value * t,
      s.make1("Transpose", {s.n->input(0)}, Attribute::makeInts("perm", perm)));
  ONNXOPT_ASSIGN_OR_RETURN(
      Value * y, s.make1(s.type, {t}, Attribute::makeInt("axis", *rank - 1)));
  ONNXOPT_ASSIGN_OR_RETURN(
      Value * out,
      s.make1("Transpose", {y}, Attribute::makeInts("perm", inverse)));
  return s.replaceWith(out);
}

// ------------------------------------------------- new attribute values

/// Down: attribute `name` must be absent or `dflt`; it is then removed.
absl::Status requireDefault(Step &s, const char *name, int64_t dflt) {
  if (s.up())
    return absl::OkStatus();
  if (intAttr(*s.n, name, dflt) != dflt)
    return s.fail(name, " = ", intAttr(*s.n, name, dflt), " needs opset ",
                  s.from);
  s.r.removeAttr(*s.n, name);
  return absl::OkStatus();
}
absl::Status selectLastIndex12(Step &s) {
  return requireDefault(s, "select_last_index", 0);
}
absl::Status batchDims12(Step &s) { return requireDefault(s, "batch_dims", 0); }
absl::Status layout14(Step &s) { return requireDefault(s, "layout", 0); }
absl::Status topK11(Step &s) {
  ONNXOPT_RETURN_IF_ERROR(requireDefault(s, "largest", 1));
  return requireDefault(s, "sorted", 1);
}
absl::Status maxPool10(Step &s) {
  ONNXOPT_RETURN_IF_ERROR(requireDefault(s, "ceil_mode", 0));
  if (!s.up())
    if (const Attribute *d = s.n->attr("dilations")) {
      for (int64_t v : d->ints)
        if (v != 1)
          return s.fail("dilations need opset 10");
      s.r.removeAttr(*s.n, "dilations");
    }
  return absl::OkStatus();
}
absl::Status averagePool10(Step &s) {
  return requireDefault(s, "ceil_mode", 0);
}
absl::Status maxPool8(Step &s) {
  if (s.up())
    return absl::OkStatus();
  ONNXOPT_RETURN_IF_ERROR(requireDefault(s, "storage_order", 0));
  if (s.n->numOutputs() > 1)
    return s.recreate(s.inputs(), 1);
  return absl::OkStatus();
}
/// Down: string attribute `name` (default `dflt`) must be `needed`, the
/// older version's only behaviour; it is then removed.
absl::Status requireString(Step &s, const char *name, const char *dflt,
                           const char *needed) {
  if (s.up())
    return absl::OkStatus();
  const Attribute *a = s.n->attr(name);
  std::string value = a ? a->s : dflt;
  if (value != needed)
    return s.fail(name, " '", value, "' needs opset ", s.from);
  s.r.removeAttr(*s.n, name);
  return absl::OkStatus();
}
absl::Status scatterReduction16(Step &s) {
  return requireString(s, "reduction", "none", "none");
}
absl::Status depthToSpace11(Step &s) {
  return requireString(s, "mode", "DCR", "DCR");
}
absl::Status roiAlign16(Step &s) {
  // 10's coordinates are 16's "output_half_pixel"; 16 defaults to half_pixel.
  if (s.up()) {
    s.r.setAttr(*s.n, Attribute::makeString("coordinate_transformation_mode",
                                            "output_half_pixel"));
    return absl::OkStatus();
  }
  return requireString(s, "coordinate_transformation_mode", "half_pixel",
                       "output_half_pixel");
}
absl::Status reshape14(Step &s) {
  if (s.up() || intAttr(*s.n, "allowzero", 0) == 0) {
    s.r.removeAttr(*s.n, "allowzero");
    return absl::OkStatus();
  }
  auto shape = intsOf(s.input(1));
  if (!shape || std::find(shape->begin(), shape->end(), 0) != shape->end())
    return s.fail("allowzero = 1 with a shape that may hold 0");
  s.r.removeAttr(*s.n, "allowzero");
  return absl::OkStatus();
}
absl::Status shape15(Step &s) {
  if (s.up() || (!s.n->attr("start") && !s.n->attr("end")))
    return absl::OkStatus();
  int64_t start = intAttr(*s.n, "start", 0);
  int64_t end = intAttr(*s.n, "end", std::numeric_limits<int64_t>::max());
  ONNXOPT_ASSIGN_OR_RETURN(Value * shape, s.make1("Shape", {s.n->input(0)}));
  ONNXOPT_ASSIGN_OR_RETURN(
      Value * out, s.make1("Slice", {shape, s.ints("shape_start", {start}),
                                     s.ints("shape_end", {end}),
                                     s.ints("shape_axes", {0})}));
  return s.replaceWith(out);
}
absl::Status gemm11(Step &s) {
  if (s.up() || s.input(2))
    return absl::OkStatus();
  DataType dt = elemTypeOf(s.n->input(0));
  if (!isFloatType(dt))
    return s.fail("it has no C and its element type is unknown");
  s.setInput(2, s.floats("gemm_c", dt, {}, {0.0}));
  return absl::OkStatus();
}
absl::Status constant12(Step &s) {
  if (s.up())
    return absl::OkStatus();
  const Attribute &a = s.n->attrs()[0];
  if (a.name == "value")
    return absl::OkStatus();
  if (a.name == "value_string" || a.name == "value_strings")
    return s.fail(a.name, " needs opset 12");
  auto t = constantOf(s.n->output(0));
  if (!t)
    return s.fail(a.name, " needs opset 12");
  s.r.modifyInPlace(*s.n, [n = s.n] { n->mutableAttrs().clear(); });
  s.r.setAttr(*s.n, Attribute::makeTensor("value", t));
  return absl::OkStatus();
}
absl::Status constant11(Step &s) {
  if (!s.up() && s.n->attr("sparse_value"))
    return s.fail("sparse_value needs opset 11");
  return absl::OkStatus();
}
absl::Status batchNorm9(Step &s) {
  if (s.up()) {
    if (intAttr(*s.n, "spatial", 1) != 1)
      return s.fail("spatial = 0 has no equivalent at opset 9");
    s.r.removeAttr(*s.n, "spatial");
  }
  return absl::OkStatus();
}
absl::Status batchNorm14(Step &s) {
  if (!s.up())
    ONNXOPT_RETURN_IF_ERROR(requireDefault(s, "training_mode", 0));
  // Only inference is converted: the statistics results go.
  if (s.n->numOutputs() > 1)
    return s.recreate(s.inputs(), 1);
  return absl::OkStatus();
}
absl::Status quantizeAxis13(Step &s) {
  if (s.up())
    return absl::OkStatus();
  const Value *scale = s.input(1);
  bool perTensor = scale && scale->type().isTensor() && scale->type().shape() &&
                   (scale->type().shape()->empty() ||
                    (scale->type().shape()->size() == 1 &&
                     (*scale->type().shape())[0] == Dim::constant(1)));
  if (!perTensor)
    return s.fail("a per-axis (or unknown-shape) scale needs opset 13");
  s.r.removeAttr(*s.n, "axis");
  return absl::OkStatus();
}
absl::Status scan9(Step &s) {
  return s.fail("Scan 8 and 9 differ in batch semantics; convert it by hand");
}

/// Max/Min/Mean/Sum before 8 take operands of one shape (no broadcasting).
absl::Status variadicBroadcast8(Step &s) {
  if (s.up())
    return absl::OkStatus();
  const Type *first = nullptr;
  for (size_t i = 0; i < s.n->numInputs(); ++i) {
    const Type &t = s.n->input(i)->type();
    if (!t.isTensor() || !t.shape())
      return s.fail("operand shapes are unknown (opset 7 does not broadcast)");
    for (const Dim &d : *t.shape())
      if (d.kind() == Dim::Kind::Unknown)
        return s.fail("operand shapes are unknown (opset 7 does not "
                      "broadcast)");
    if (first && *first->shape() != *t.shape())
      return s.fail("operands of different shapes need opset 8");
    first = &t;
  }
  return absl::OkStatus();
}

// ------------------------------------------------ negative axes at 11

/// Before 11, axes may not be negative: they are made positive with the
/// rank of operand 0 (the result, for Unsqueeze).
absl::Status positiveAxes11(Step &s) {
  if (s.up())
    return absl::OkStatus();
  for (const char *name : {"axis", "axes"}) {
    const Attribute *a = s.n->attr(name);
    if (!a)
      continue;
    std::vector<int64_t> v =
        a->kind == AttrKind::Ints ? a->ints : std::vector<int64_t>{a->i};
    if (std::all_of(v.begin(), v.end(), [](int64_t x) { return x >= 0; }))
      continue;
    auto rank = rankOf(s.n->is("Unsqueeze") ? s.n->output(0) : s.n->input(0));
    if (!rank)
      return s.fail("a negative ", name, " on an operand of unknown rank");
    for (int64_t &x : v)
      if (x < 0)
        x += *rank;
    s.r.setAttr(*s.n, a->kind == AttrKind::Ints
                          ? Attribute::makeInts(name, v)
                          : Attribute::makeInt(name, v[0]));
  }
  if (s.n->is("Gather"))
    if (auto idx = intsOf(s.n->input(1)))
      for (int64_t i : *idx)
        if (i < 0)
          return s.fail("negative indices need opset 11");
  return absl::OkStatus();
}

absl::Status topK(Step &s) {
  ONNXOPT_RETURN_IF_ERROR(topK11(s));
  return positiveAxes11(s);
}

// ------------------------------------------------------ opsets 18..23

/// Split 18 needs a split operand or num_outputs; 13 splits evenly by its
/// number of results, 18's num_outputs leaves the last part smaller when the
/// dim is not a multiple (written out as split sizes going down).
absl::Status split18(Step &s) {
  if (s.up()) {
    if (!s.input(1))
      s.r.setAttr(*s.n,
                  Attribute::makeInt("num_outputs",
                                     static_cast<int64_t>(s.n->numOutputs())));
    return absl::OkStatus();
  }
  const Attribute *a = s.n->attr("num_outputs");
  if (!a)
    return absl::OkStatus();
  int64_t n = a->i;
  auto rank = rankOf(s.n->input(0));
  int64_t axis = intAttr(*s.n, "axis", 0);
  if (rank && axis < 0)
    axis += *rank;
  auto dim = rank ? staticDim(s.n->input(0), axis) : std::nullopt;
  if (!dim)
    return s.fail("num_outputs splits a dim that is not known; opset ", s.to,
                  " splits only evenly");
  s.r.removeAttr(*s.n, "num_outputs");
  if (*dim % n == 0)
    return absl::OkStatus();
  int64_t chunk = (*dim + n - 1) / n;
  std::vector<int64_t> sizes;
  for (int64_t i = 0; i < n; ++i)
    sizes.push_back(std::max<int64_t>(0, std::min(chunk, *dim - i * chunk)));
  s.setInput(1, s.ints("split", sizes));
  return absl::OkStatus();
}

/// Pad 18's axes operand: going down, the pads are written out for every
/// axis (the axes must be constant, the rank known).
absl::Status pad18(Step &s) {
  Value *axesIn = s.input(3);
  if (s.up() || !axesIn)
    return absl::OkStatus();
  auto axes = intsOf(axesIn);
  auto pads = intsOf(s.input(1));
  auto rank = rankOf(s.n->input(0));
  if (!axes || !pads || !rank || pads->size() != 2 * axes->size())
    return s.fail("its axes and pads are not constants of an input of known "
                  "rank");
  std::vector<int64_t> full(static_cast<size_t>(2 * *rank), 0);
  for (size_t i = 0; i < axes->size(); ++i) {
    int64_t ax = (*axes)[i] < 0 ? (*axes)[i] + *rank : (*axes)[i];
    if (ax < 0 || ax >= *rank)
      return s.fail("an axis is out of range");
    full[static_cast<size_t>(ax)] = (*pads)[i];
    full[static_cast<size_t>(ax + *rank)] = (*pads)[i + axes->size()];
  }
  s.setInput(1, s.ints("pads", full));
  s.truncateInputs(3);
  return absl::OkStatus();
}
absl::Status pad19(Step &s) {
  if (!s.up() && s.n->attr("mode") && s.n->attr("mode")->s == "wrap")
    return s.fail("mode 'wrap' needs opset 19");
  return absl::OkStatus();
}
absl::Status resize18(Step &s) {
  if (s.up())
    return absl::OkStatus();
  if (s.n->attr("axes"))
    return s.fail("axes need opset 18");
  ONNXOPT_RETURN_IF_ERROR(requireDefault(s, "antialias", 0));
  return requireString(s, "keep_aspect_ratio_policy", "stretch", "stretch");
}
absl::Status resize19(Step &s) {
  const Attribute *m = s.n->attr("coordinate_transformation_mode");
  if (!s.up() && m && m->s == "half_pixel_symmetric")
    return s.fail("coordinate mode 'half_pixel_symmetric' needs opset 19");
  return absl::OkStatus();
}
/// ScatterElements/ScatterND 18 add the max and min reductions.
absl::Status scatterReduction18(Step &s) {
  const Attribute *a = s.n->attr("reduction");
  if (!s.up() && a && (a->s == "max" || a->s == "min"))
    return s.fail("reduction '", a->s, "' needs opset 18");
  return absl::OkStatus();
}
absl::Status averagePool19(Step &s) {
  if (s.up())
    return absl::OkStatus();
  if (const Attribute *d = s.n->attr("dilations")) {
    for (int64_t v : d->ints)
      if (v != 1)
        return s.fail("dilations need opset 19");
    s.r.removeAttr(*s.n, "dilations");
  }
  return absl::OkStatus();
}
/// Cast/CastLike 19's saturate applies to float8 results only, which
/// older opsets (and this build) do not have.
absl::Status cast19(Step &s) {
  if (!s.up())
    s.r.removeAttr(*s.n, "saturate");
  return absl::OkStatus();
}

// --------------------------------------------------------- expansions

/// LayerNormalization (17) as ONNX defines it: normalize over the axes from
/// `axis` on, then scale and shift.
absl::Status expandLayerNorm(Step &s) {
  Value *x = s.n->input(0), *scale = s.n->input(1), *bias = s.input(2);
  int64_t axis = intAttr(*s.n, "axis", -1);
  float eps = 1e-5f;
  if (const Attribute *a = s.n->attr("epsilon"))
    eps = a->f;
  DataType dt = elemTypeOf(x);
  if (dt != DataType::Float && dt != DataType::Double)
    return s.fail("its element type is not float or double");
  std::vector<int64_t> axes;
  if (axis < 0) {
    for (int64_t a = axis; a < 0; ++a)
      axes.push_back(a);
  } else {
    auto rank = rankOf(x);
    if (!rank)
      return s.fail("a positive axis on an input of unknown rank");
    for (int64_t a = axis; a < *rank; ++a)
      axes.push_back(a);
  }
  auto reduceMean = [&](Value *v) {
    return s.make1("ReduceMean", {v}, Attribute::makeInts("axes", axes),
                   Attribute::makeInt("keepdims", 1));
  };
  ONNXOPT_ASSIGN_OR_RETURN(Value * mean, reduceMean(x));
  ONNXOPT_ASSIGN_OR_RETURN(Value * d, s.make1("Sub", {x, mean}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * sq, s.make1("Mul", {d, d}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * var, reduceMean(sq));
  ONNXOPT_ASSIGN_OR_RETURN(
      Value * ve, s.make1("Add", {var, s.floats("epsilon", dt, {}, {eps})}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * sd, s.make1("Sqrt", {ve}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * norm, s.make1("Div", {d, sd}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * y, s.make1("Mul", {norm, scale}));
  if (bias) {
    ONNXOPT_ASSIGN_OR_RETURN(y, s.make1("Add", {y, bias}));
  }
  // The optional results: the mean and 1 / standard deviation, both with
  // the normalized axes kept as 1s.
  if (s.n->numOutputs() > 1 && s.n->output(1) && !s.n->output(1)->useEmpty())
    s.replaceResult(1, mean);
  if (s.n->numOutputs() > 2 && s.n->output(2) && !s.n->output(2)->useEmpty()) {
    ONNXOPT_ASSIGN_OR_RETURN(Value * inv, s.make1("Reciprocal", {sd}));
    s.replaceResult(2, inv);
  }
  return s.replaceWith(y);
}

/// Gelu (20), as ONNX defines it: 0.5 x (1 + erf(x / sqrt 2)), or with
/// approximate = 'tanh', 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
absl::Status expandGelu(Step &s) {
  Value *x = s.n->input(0);
  DataType dt = elemTypeOf(x);
  if (!isFloatType(dt))
    return s.fail("its element type is not known to be a float");
  const Attribute *a = s.n->attr("approximate");
  bool tanhForm = a && a->s == "tanh";
  auto c = [&](const char *name, double v) {
    return s.floats(name, dt, {}, {v});
  };
  Value *inner = nullptr;
  if (tanhForm) {
    ONNXOPT_ASSIGN_OR_RETURN(Value * x2, s.make1("Mul", {x, x}));
    ONNXOPT_ASSIGN_OR_RETURN(Value * x3, s.make1("Mul", {x2, x}));
    ONNXOPT_ASSIGN_OR_RETURN(Value * t,
                             s.make1("Mul", {x3, c("gelu_cubic", 0.044715)}));
    ONNXOPT_ASSIGN_OR_RETURN(Value * u, s.make1("Add", {x, t}));
    ONNXOPT_ASSIGN_OR_RETURN(
        Value * v,
        s.make1("Mul", {u, c("gelu_sqrt_2_pi", std::sqrt(2.0 / M_PI))}));
    ONNXOPT_ASSIGN_OR_RETURN(inner, s.make1("Tanh", {v}));
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(
        Value * v, s.make1("Div", {x, c("gelu_sqrt_2", std::sqrt(2.0))}));
    ONNXOPT_ASSIGN_OR_RETURN(inner, s.make1("Erf", {v}));
  }
  ONNXOPT_ASSIGN_OR_RETURN(Value * one,
                           s.make1("Add", {inner, c("gelu_one", 1.0)}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * h, s.make1("Mul", {x, c("gelu_half", 0.5)}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * y, s.make1("Mul", {h, one}));
  return s.replaceWith(y);
}

/// Mish (18) = x tanh(softplus(x)).
absl::Status expandMish(Step &s) {
  Value *x = s.n->input(0);
  ONNXOPT_ASSIGN_OR_RETURN(Value * sp, s.make1("Softplus", {x}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * t, s.make1("Tanh", {sp}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * y, s.make1("Mul", {x, t}));
  return s.replaceWith(y);
}

/// RMSNormalization (23) = x / sqrt(mean(x^2 over the axes from `axis`) +
/// epsilon) * scale, for float or double x (stash_type float: no change).
absl::Status expandRmsNorm(Step &s) {
  Value *x = s.n->input(0), *scale = s.n->input(1);
  DataType dt = elemTypeOf(x);
  if (dt != DataType::Float && dt != DataType::Double)
    return s.fail("its element type is not float or double");
  if (elemTypeOf(scale) != dt)
    return s.fail("its scale's element type differs from its input's");
  int64_t axis = intAttr(*s.n, "axis", -1);
  auto rank = rankOf(x);
  if (!rank)
    return s.fail("its input's rank is unknown");
  if (axis < 0)
    axis += *rank;
  std::vector<int64_t> axes;
  for (int64_t a = axis; a < *rank; ++a)
    axes.push_back(a);
  float eps = 1e-5f;
  if (const Attribute *a = s.n->attr("epsilon"))
    eps = a->f;
  ONNXOPT_ASSIGN_OR_RETURN(Value * sq, s.make1("Mul", {x, x}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * ms,
                           s.make1("ReduceMean", {sq, s.ints("rms_axes", axes)},
                                   Attribute::makeInt("keepdims", 1)));
  ONNXOPT_ASSIGN_OR_RETURN(
      Value * me, s.make1("Add", {ms, s.floats("epsilon", dt, {}, {eps})}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * rms, s.make1("Sqrt", {me}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * norm, s.make1("Div", {x, rms}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * y, s.make1("Mul", {norm, scale}));
  return s.replaceWith(y);
}

/// HardSwish (14) = x * HardSigmoid(x) with alpha 1/6, beta 1/2.
absl::Status expandHardSwish(Step &s) {
  Value *x = s.n->input(0);
  ONNXOPT_ASSIGN_OR_RETURN(Value * hs,
                           s.make1("HardSigmoid", {x},
                                   Attribute::makeFloat("alpha", 1.0f / 6.0f),
                                   Attribute::makeFloat("beta", 0.5f)));
  ONNXOPT_ASSIGN_OR_RETURN(Value * y, s.make1("Mul", {x, hs}));
  return s.replaceWith(y);
}

/// GreaterOrEqual / LessOrEqual (12) = Or(Greater|Less, Equal): exact, NaN
/// included (both false).
absl::Status expandOrEqual(Step &s) {
  Value *a = s.n->input(0), *b = s.n->input(1);
  const char *strict = s.n->is("GreaterOrEqual") ? "Greater" : "Less";
  if (s.to < 11 && isFloatType(elemTypeOf(a)))
    return s.fail("Equal on floats needs opset 11");
  ONNXOPT_ASSIGN_OR_RETURN(Value * lt, s.make1(strict, {a, b}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * eq, s.make1("Equal", {a, b}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * y, s.make1("Or", {lt, eq}));
  return s.replaceWith(y);
}

/// Trilu (14): keeps the elements with col - row >= k (upper) or <= k
/// (lower) of the last two axes, zeroes the rest.
absl::Status expandTrilu(Step &s) {
  if (s.to < 11)
    return s.fail("its expansion needs Range (opset 11)");
  Value *x = s.n->input(0);
  DataType dt = elemTypeOf(x);
  if (dt == DataType::Undefined)
    return s.fail("its input's element type is unknown");
  bool upper = intAttr(*s.n, "upper", 1) != 0;
  Value *k = s.input(1);
  if (k && !intsOf(k))
    return s.fail("its k is computed at run time");
  int64_t kv = k ? (*intsOf(k))[0] : 0;
  ONNXOPT_ASSIGN_OR_RETURN(Value * shape, s.make1("Shape", {x}));
  auto dim = [&](int64_t i) {
    return s.make1("Gather", {shape, s.ints("trilu_axis", {i}, true)});
  };
  ONNXOPT_ASSIGN_OR_RETURN(Value * rows, dim(-2));
  ONNXOPT_ASSIGN_OR_RETURN(Value * cols, dim(-1));
  Value *zero = s.ints("trilu_zero", {0}, true);
  Value *one = s.ints("trilu_one", {1}, true);
  ONNXOPT_ASSIGN_OR_RETURN(Value * r, s.make1("Range", {zero, rows, one}));
  ONNXOPT_ASSIGN_OR_RETURN(Value * c, s.make1("Range", {zero, cols, one}));
  ONNXOPT_ASSIGN_OR_RETURN(
      Value * rcol,
      s.make1("Unsqueeze", {r}, Attribute::makeInts("axes", {1})));
  if (s.to >= 13) {
    // Unsqueeze takes its axes as an input from 13.
    Node *u = rcol->definingNode();
    s.r.removeAttr(*u, "axes");
    s.r.appendOperand(*u, s.ints("trilu_axes", {1}));
  }
  ONNXOPT_ASSIGN_OR_RETURN(Value * diff, s.make1("Sub", {c, rcol}));
  Value *bound = s.ints("trilu_k", {upper ? kv - 1 : kv + 1}, true);
  ONNXOPT_ASSIGN_OR_RETURN(Value * keep,
                           s.make1(upper ? "Greater" : "Less", {diff, bound}));
  // Bool: x AND keep (ONNX Runtime has no bool Where before 16).
  if (dt == DataType::Bool) {
    ONNXOPT_ASSIGN_OR_RETURN(Value * y, s.make1("And", {x, keep}));
    return s.replaceWith(y);
  }
  Value *z =
      isFloatType(dt)
          ? s.floats("trilu_fill", dt, {}, {0.0})
          : s.r.createInitializer(
                "trilu_fill", std::make_shared<Tensor>(Tensor::fromBytes(
                                  dt, {}, std::string(elementSize(dt), '\0'))));
  ONNXOPT_ASSIGN_OR_RETURN(Value * y, s.make1("Where", {keep, x, z}));
  return s.replaceWith(y);
}

// ------------------------------------------------------- the adapters

struct Change {
  const char *op;
  int64_t version; // the opset where the op's schema changed
  Adapter adapt;   // both directions (Step::up says which), or nullptr
  /// The op's name on the other side of the step (a deprecation).
  const char *renamed = nullptr;
};

const Change kChanges[] = {
    {"Max", 8, variadicBroadcast8},
    {"Min", 8, variadicBroadcast8},
    {"Mean", 8, variadicBroadcast8},
    {"Sum", 8, variadicBroadcast8},
    {"MaxPool", 8, maxPool8},
    {"BatchNormalization", 9, batchNorm9},
    {"Upsample", 9, upsample9},
    {"Scan", 9, scan9},
    {"Slice", 10, slice10},
    {"TopK", 10, kToInput},
    {"Dropout", 10, dropout10},
    {"MaxPool", 10, maxPool10},
    {"AveragePool", 10, averagePool10},
    {"Upsample", 10, nullptr, "Resize"},
    {"Resize", 10, nullptr, "Upsample"},
    {"Clip", 11, clip11},
    {"Pad", 11, pad11},
    {"Resize", 11, resize11},
    {"Scatter", 11, nullptr, "ScatterElements"},
    {"ScatterElements", 11, nullptr, "Scatter"},
    {"TopK", 11, topK},
    {"DepthToSpace", 11, depthToSpace11},
    {"Gemm", 11, gemm11},
    {"Constant", 11, constant11},
    {"ArgMax", 11, positiveAxes11},
    {"ArgMin", 11, positiveAxes11},
    {"Compress", 11, positiveAxes11},
    {"Concat", 11, positiveAxes11},
    {"Flatten", 11, positiveAxes11},
    {"Gather", 11, positiveAxes11},
    {"Hardmax", 11, positiveAxes11},
    {"LogSoftmax", 11, positiveAxes11},
    {"Softmax", 11, positiveAxes11},
    {"OneHot", 11, positiveAxes11},
    {"Split", 11, positiveAxes11},
    {"Squeeze", 11, positiveAxes11},
    {"Unsqueeze", 11, positiveAxes11},
    {"ReduceL1", 11, positiveAxes11},
    {"ReduceL2", 11, positiveAxes11},
    {"ReduceLogSum", 11, positiveAxes11},
    {"ReduceLogSumExp", 11, positiveAxes11},
    {"ReduceMax", 11, positiveAxes11},
    {"ReduceMean", 11, positiveAxes11},
    {"ReduceMin", 11, positiveAxes11},
    {"ReduceProd", 11, positiveAxes11},
    {"ReduceSum", 11, positiveAxes11},
    {"ReduceSumSquare", 11, positiveAxes11},
    {"ArgMax", 12, selectLastIndex12},
    {"ArgMin", 12, selectLastIndex12},
    {"Constant", 12, constant12},
    {"Dropout", 12, dropout12},
    {"GatherND", 12, batchDims12},
    {"Softmax", 13, softmax13},
    {"LogSoftmax", 13, softmax13},
    {"Hardmax", 13, softmax13},
    {"Squeeze", 13, axesToInput},
    {"Unsqueeze", 13, axesToInput},
    {"ReduceSum", 13, reduceSum13},
    {"Split", 13, splitToInput},
    {"Resize", 13, resize13},
    {"QuantizeLinear", 13, quantizeAxis13},
    {"DequantizeLinear", 13, quantizeAxis13},
    {"BatchNormalization", 14, batchNorm14},
    {"Reshape", 14, reshape14},
    {"GRU", 14, layout14},
    {"LSTM", 14, layout14},
    {"RNN", 14, layout14},
    {"Shape", 15, shape15},
    {"RoiAlign", 16, roiAlign16},
    {"ScatterElements", 16, scatterReduction16},
    {"ScatterND", 16, scatterReduction16},
    {"ReduceL1", 18, reduceSum13},
    {"ReduceL2", 18, reduceSum13},
    {"ReduceLogSum", 18, reduceSum13},
    {"ReduceLogSumExp", 18, reduceSum13},
    {"ReduceMax", 18, reduceSum13},
    {"ReduceMean", 18, reduceSum13},
    {"ReduceMin", 18, reduceSum13},
    {"ReduceProd", 18, reduceSum13},
    {"ReduceSumSquare", 18, reduceSum13},
    {"Split", 18, split18},
    {"Pad", 18, pad18},
    {"Resize", 18, resize18},
    {"ScatterElements", 18, scatterReduction18},
    {"ScatterND", 18, scatterReduction18},
    {"Pad", 19, pad19},
    {"Resize", 19, resize19},
    {"AveragePool", 19, averagePool19},
    {"Cast", 19, cast19},
    {"CastLike", 19, cast19},
};

/// Ops that do not exist below `version`, expanded into ones that do.
const Change kExpansions[] = {
    {"RMSNormalization", 23, expandRmsNorm},
    {"Gelu", 20, expandGelu},
    {"Mish", 18, expandMish},
    {"LayerNormalization", 17, expandLayerNorm},
    {"HardSwish", 14, expandHardSwish},
    {"Trilu", 14, expandTrilu},
    {"GreaterOrEqual", 12, expandOrEqual},
    {"LessOrEqual", 12, expandOrEqual},
};

const Change *findChange(const Change *begin, const Change *end,
                         std::string_view op, int64_t version) {
  for (const Change *c = begin; c != end; ++c)
    if (c->op == op && c->version == version)
      return c;
  return nullptr;
}

/// The ONNX type string of `t` ("tensor(float)"), or nullptr when unknown.
const std::string *typeString(const Type &t) {
  if (t.isUnknown() || (t.isTensor() && t.elemType() == DataType::Undefined))
    return nullptr;
  onnx::TypeProto tp;
  toTypeProto(t, tp);
  try {
    return onnx::Utils::DataTypeUtils::ToType(tp);
  } catch (const std::exception &) {
    return nullptr;
  }
}

/// Checks the known operand and result types of `n` against `schema`'s
/// type constraints (what an older version may not accept: bfloat16 before
/// 13, integer Clip before 12, ...), each constraint bound to one type.
absl::Status checkTypes(const Node &n, const onnx::OpSchema &schema,
                        const Step &s) {
  absl::flat_hash_map<std::string, const std::string *> bound;
  auto check = [&](const std::vector<onnx::OpSchema::FormalParameter> &params,
                   const Value *v, size_t i) -> absl::Status {
    if (!v || params.empty())
      return absl::OkStatus();
    const auto &p = params[std::min(i, params.size() - 1)];
    if (i >= params.size() &&
        p.GetOption() != onnx::OpSchema::FormalParameterOption::Variadic)
      return s.fail("it has more operands than opset ", s.to, " takes");
    const std::string *ts = typeString(v->type());
    if (!ts)
      return absl::OkStatus();
    if (!p.GetTypes().count(ts))
      return s.fail("type ", *ts, " of '", v->name(), "' needs opset ", s.from);
    auto [it, fresh] = bound.emplace(p.GetTypeStr(), ts);
    if (!fresh && it->second != ts && p.GetIsHomogeneous())
      return s.fail("operands of different types need opset ", s.from);
    return absl::OkStatus();
  };
  for (size_t i = 0; i < n.numInputs(); ++i)
    ONNXOPT_RETURN_IF_ERROR(check(schema.inputs(), n.input(i), i));
  for (size_t i = 0; i < n.numOutputs(); ++i)
    ONNXOPT_RETURN_IF_ERROR(check(schema.outputs(), n.output(i), i));
  return absl::OkStatus();
}

/// Drops the types of node results the model did not declare, in
/// value_info or as graph outputs (inference fills them in again).
void forgetInferredTypes(Graph &g) {
  for (Node *n : g.nodes())
    for (size_t i = 0; i < n->numOutputs(); ++i)
      if (Value *v = n->output(i); v && !v->typeDeclared && !v->isGraphOutput())
        v->setType(Type());
}

/// Converts `n` (a default-domain node valid at `from`) to `to`; returns
/// whether its schema changed.
absl::StatusOr<bool> convertNode(Rewriter &r, Node &n, int64_t from,
                                 int64_t to) {
  Step s{r, &n, n.op().type, from, to};
  const int64_t changedAt = s.up() ? to : from;
  bool undefined = false;
  const onnx::OpSchema *target =
      defaultDomainSchema(n.op().type, static_cast<int>(to), &undefined);
  if (undefined)
    return s.fail(n.op().type, "-", changedAt,
                  " is not defined by this build (docs/opset-conversion.md "
                  "lists the opset 18..23 versions it defines)");
  if (s.up()) {
    if (!target || target->SinceVersion() != to)
      return false;
  } else if (n.op().sinceVersion != from) {
    return false;
  }
  bool exists = target && !target->Deprecated();
  const Change *c = findChange(std::begin(kChanges), std::end(kChanges),
                               n.op().type, changedAt);
  if (!exists && !c) {
    if (!s.up())
      if (const Change *e =
              findChange(std::begin(kExpansions), std::end(kExpansions),
                         n.op().type, from)) {
        ONNXOPT_RETURN_IF_ERROR(e->adapt(s));
        return true;
      }
    return s.fail(n.op().type, " is not defined at opset ", to,
                  s.up() ? ""
                         : absl::StrCat(" (it needs opset >= ", from, ")"));
  }
  // Below 7 the changes are not tabulated: a node whose op changed there
  // is not converted (one that did not is, it is the same op).
  if (!c && changedAt <= kMinOpset)
    return s.fail(n.op().type, " changed at opset ", changedAt,
                  "; changes below opset ", kMinOpset, " are not converted");
  if (c && c->renamed)
    s.type = c->renamed;
  if (c && c->adapt)
    ONNXOPT_RETURN_IF_ERROR(c->adapt(s));
  if (!s.n)
    return true; // replaced by new nodes
  ONNXOPT_ASSIGN_OR_RETURN(OpId op, resolveOp("", s.type, to));
  if (!op.schema || op.schema->Deprecated())
    return s.fail(s.type, " is not defined at opset ", to);
  if (!s.up())
    ONNXOPT_RETURN_IF_ERROR(checkTypes(*s.n, *op.schema, s));
  Node *m = s.n;
  r.modifyInPlace(*m, [m, &op] { m->setOp(std::move(op)); });
  return true;
}

class ConvertOpsetPass final : public Pass {
public:
  std::string_view argument() const override { return "convert-opset"; }
  std::string_view description() const override {
    return "Convert the default domain to opset `opset`, one version step "
           "at a time (subgraphs included)";
  }
  bool isExact() const override { return false; }
  absl::StatusOr<bool> run(Graph &g, PassContext &ctx) override {
    Model &m = ctx.model;
    int64_t to = opset.intValue();
    int64_t from = m.onnxOpset();
    if (from == 0 || to == 0 || from == to)
      return false;
    int maxVersion = registryMaxVersion("").value_or(0);
    if (to < kMinOpset || to > maxVersion)
      return usageError("convert-opset: opset ", to,
                        " is out of the range this build converts (", kMinOpset,
                        "..", maxVersion, ")");
    if (from > maxVersion)
      return invalidInput("convert-opset: the model's opset ", from,
                          " is newer than this build's ONNX schemas (",
                          maxVersion, ")");
    if (!m.functionBlobs.empty())
      return unsupported("convert-opset: the model defines local functions, "
                         "whose bodies are not converted (--inline-functions, "
                         "which --target-opset implies, inlines them first)");
    for (const Node *n : g.nodes())
      if (isDefaultDomain(n->op().domain) && n->op().isOpaque())
        return unsupported("convert-opset: node '", n->name, "' (",
                           n->op().type, "): its version at opset ", from,
                           " is not defined by this build");
    Rewriter r(g, &m, argument());
    int64_t dir = to > from ? 1 : -1;
    for (int64_t v = from; v != to; v += dir) {
      // Adapters read ranks and element types, of the nodes the previous
      // step created too. Inferred at this step's version: what an older
      // version inferred can be wrong at a newer one (Max before 8 takes
      // its first operand's shape, from 8 it broadcasts), so the types the
      // model did not declare are inferred afresh.
      forgetInferredTypes(g);
      refineTypes(g, v);
      std::vector<Node *> nodes;
      for (Node *n : g.nodes())
        if (isDefaultDomain(n->op().domain) && !n->op().isOpaque())
          nodes.push_back(n);
      for (Node *n : nodes) {
        ONNXOPT_ASSIGN_OR_RETURN(bool c, convertNode(r, *n, v, v + dir));
        numConverted += c;
      }
    }
    forgetInferredTypes(g);
    refineTypes(g, to);
    if (&g == m.graph.get()) {
      for (OpsetImport &imp : m.opsetImports)
        if (isDefaultDomain(imp.domain))
          imp.version = to;
      m.irVersion = std::max(m.irVersion, minIrVersion(to));
    }
    return true;
  }

private:
  PassOption opset{this, "opset", "The opset version to convert to",
                   PassOption::Kind::Int, "0"};
  Statistic numConverted{this, "num-converted",
                         "Node version steps (a node may take several)"};
};

} // namespace

std::unique_ptr<Pass> createConvertOpsetPass() {
  return std::make_unique<ConvertOpsetPass>();
}

} // namespace onnxopt
