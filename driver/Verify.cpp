// Evaluation and verification helpers for the driver.
#include "driver/Verify.h"

#include "backends/onnx/OnnxExporter.h"
#include "backends/reference/TensorUtil.h"
#include "format/ProtoConversion.h"
#include "frontends/onnx/OnnxImporter.h"
#include "utils/CheckedMath.h"
#include "utils/Diagnostics.h"
#include "utils/OutputFile.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "onnx/onnx-data_pb.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace onnxopt {

using ref::RefValue;

static bool fileExists(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::Status checkShapeBindings(const Graph &g, const ShapeBindings &b) {
  std::set<std::string> inputs, symbols;
  for (size_t i = 0; i < g.numInputs(); ++i) {
    const Value *in = g.input(i);
    inputs.insert(in->name());
    if (in->type().isTensor() && in->type().shape())
      for (const Dim &d : *in->type().shape())
        if (d.isSymbol())
          symbols.insert(d.symbol());
  }
  for (const auto &[name, dims] : b.inputs)
    if (!inputs.count(name) && !(dims.size() == 1 && symbols.count(name)))
      return absl::FailedPreconditionError(absl::StrCat(
          "--verify-shape ", name, ": the model has no input",
          dims.size() == 1 ? " or dim symbol" : "", " named '", name,
          "' (inputs: ", absl::StrJoin(inputs, ", "),
          symbols.empty()
              ? ""
              : absl::StrCat("; symbols: ", absl::StrJoin(symbols, ", ")),
          ")"));
  return absl::OkStatus();
}

namespace {

std::string dirOfPath(const std::string &path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? std::string(".") : path.substr(0, pos);
}

absl::StatusOr<std::string> readWholeFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return invalidInput("cannot read ", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// A MapProto (ai.onnx.ml): int64 or string keys, the values a sequence of
/// scalar tensors.
absl::StatusOr<RefValue> fromMapProto(const onnx::MapProto &mp,
                                      const std::string &dir,
                                      const std::string &what) {
  TensorPtr keys;
  size_t n;
  if (mp.key_type() == onnx::TensorProto::STRING) {
    std::vector<std::string> k(mp.string_keys().begin(),
                               mp.string_keys().end());
    n = k.size();
    keys = std::make_shared<Tensor>(Tensor::fromStrings({int64_t(n)}, k));
  } else if (mp.key_type() == onnx::TensorProto::INT64) {
    std::vector<int64_t> k(mp.keys().begin(), mp.keys().end());
    n = k.size();
    keys = makeInt64s(k, {int64_t(n)});
  } else {
    return unsupported(what, ": map keys other than int64 and string are "
                             "not supported by the reference interpreter");
  }
  const onnx::SequenceProto &vals = mp.values();
  if (size_t(vals.tensor_values_size()) != n)
    return invalidInput(what, ": the map has ", n, " keys and ",
                        vals.tensor_values_size(), " values");
  std::vector<TensorPtr> elems;
  for (const auto &tp : vals.tensor_values()) {
    ONNXOPT_ASSIGN_OR_RETURN(auto t, importTensorProto(tp, dir, what));
    if (t->numElements() != 1 ||
        (!elems.empty() && t->dtype() != elems[0]->dtype()))
      return invalidInput(what, ": map values must be scalars of one type");
    elems.push_back(t);
  }
  DataType vt = elems.empty() ? DataType::Float : elems[0]->dtype();
  NewTensor v(vt, {int64_t(n)});
  for (size_t i = 0; i < n; ++i) {
    if (vt == DataType::String)
      v.strings()[i] = elems[i]->strings()[0];
    else
      std::memcpy(v.data<char>() + i * elementSize(vt),
                  elems[i]->bytes().data(), elementSize(vt));
  }
  return RefValue::ofMap(keys, v.finish());
}

absl::StatusOr<RefValue> fromSequenceProto(const onnx::SequenceProto &sp,
                                           const std::string &dir,
                                           const std::string &what,
                                           const Type &type) {
  Type elem = type.inner() ? *type.inner() : Type();
  if (sp.elem_type() == onnx::SequenceProto::MAP) {
    std::vector<RefValue> maps;
    for (const auto &mp : sp.map_values()) {
      ONNXOPT_ASSIGN_OR_RETURN(RefValue m, fromMapProto(mp, dir, what));
      maps.push_back(std::move(m));
    }
    return RefValue::ofMapSequence(std::move(maps), elem);
  }
  if (sp.elem_type() != onnx::SequenceProto::TENSOR &&
      sp.tensor_values_size() > 0)
    return unsupported(what, ": only sequences of tensors and of maps are "
                             "supported by the reference interpreter");
  std::vector<ref::TensorPtr> elems;
  for (const auto &tp : sp.tensor_values()) {
    ONNXOPT_ASSIGN_OR_RETURN(auto t, importTensorProto(tp, dir, what));
    elems.push_back(t);
  }
  return RefValue::ofSequence(std::move(elems), elem);
}

/// A .pb file holding a SequenceProto, a MapProto or an OptionalProto, read
/// as `type`.
absl::StatusOr<RefValue> readValueFile(const std::string &path,
                                       const Type &type) {
  ONNXOPT_ASSIGN_OR_RETURN(std::string bytes, readWholeFile(path));
  std::string dir = dirOfPath(path);
  if (type.kind() == Type::Kind::Map) {
    onnx::MapProto mp;
    if (!mp.ParseFromString(bytes))
      return invalidInput(path, ": not a MapProto");
    return fromMapProto(mp, dir, path);
  }
  if (type.kind() == Type::Kind::Sequence) {
    onnx::SequenceProto sp;
    if (!sp.ParseFromString(bytes))
      return invalidInput(path, ": not a SequenceProto");
    return fromSequenceProto(sp, dir, path, type);
  }
  onnx::OptionalProto op;
  if (!op.ParseFromString(bytes))
    return invalidInput(path, ": not an OptionalProto");
  RefValue v;
  v.kind = RefValue::Kind::Optional;
  v.type = type.inner() ? *type.inner() : Type();
  if (op.has_tensor_value()) {
    ONNXOPT_ASSIGN_OR_RETURN(auto t,
                             importTensorProto(op.tensor_value(), dir, path));
    v.element = std::make_shared<RefValue>(RefValue::of(t));
  } else if (op.has_sequence_value()) {
    ONNXOPT_ASSIGN_OR_RETURN(
        RefValue s, fromSequenceProto(op.sequence_value(), dir, path, v.type));
    v.element = std::make_shared<RefValue>(std::move(s));
  }
  return v;
}

void toMapProto(const RefValue &v, const std::string &name,
                onnx::MapProto &mp) {
  mp.set_name(name);
  const Tensor &keys = *v.keys, &vals = *v.tensor;
  mp.set_key_type(static_cast<int32_t>(keys.dtype()));
  if (keys.dtype() == DataType::String)
    for (const std::string &k : keys.strings())
      mp.add_string_keys(k);
  else
    for (int64_t k : toInt64s(keys))
      mp.add_keys(k);
  onnx::SequenceProto &sp = *mp.mutable_values();
  sp.set_elem_type(onnx::SequenceProto::TENSOR);
  size_t es = elementSize(vals.dtype());
  for (int64_t i = 0; i < vals.numElements(); ++i) {
    Tensor one =
        vals.dtype() == DataType::String
            ? Tensor::fromStrings({}, {vals.strings()[size_t(i)]})
            : Tensor::fromBytes(
                  vals.dtype(), {},
                  std::string(vals.bytes().substr(size_t(i) * es, es)));
    toTensorProto(one, "", *sp.add_tensor_values());
  }
}

void toSequenceProto(const RefValue &v, const std::string &name,
                     onnx::SequenceProto &sp) {
  sp.set_name(name);
  if (!v.maps.empty()) {
    sp.set_elem_type(onnx::SequenceProto::MAP);
    for (const RefValue &m : v.maps)
      toMapProto(m, "", *sp.add_map_values());
    return;
  }
  sp.set_elem_type(onnx::SequenceProto::TENSOR);
  for (const auto &t : v.sequence)
    toTensorProto(*t, "", *sp.add_tensor_values());
}

absl::Status writeValueFile(const RefValue &v, const std::string &name,
                            const std::string &path) {
  if (v.isTensor())
    return exportTensorFile(*v.tensor, name, path);
  std::string bytes;
  if (v.kind == RefValue::Kind::Sequence) {
    onnx::SequenceProto sp;
    toSequenceProto(v, name, sp);
    sp.SerializeToString(&bytes);
  } else if (v.isMap()) {
    onnx::MapProto mp;
    toMapProto(v, name, mp);
    mp.SerializeToString(&bytes);
  } else {
    onnx::OptionalProto op;
    op.set_name(name);
    if (v.element && v.element->isTensor()) {
      op.set_elem_type(onnx::OptionalProto::TENSOR);
      toTensorProto(*v.element->tensor, "", *op.mutable_tensor_value());
    } else if (v.element) {
      op.set_elem_type(onnx::OptionalProto::SEQUENCE);
      toSequenceProto(*v.element, "", *op.mutable_sequence_value());
    }
    op.SerializeToString(&bytes);
  }
  return writeFileAtomically(path, bytes);
}

} // namespace

absl::StatusOr<std::vector<RefValue>> readInputDir(const Graph &g,
                                                   const std::string &dir) {
  std::vector<RefValue> out;
  for (size_t i = 0; i < g.numInputs(); ++i) {
    std::string path = absl::StrCat(dir, "/input_", i, ".pb");
    if (!fileExists(path)) {
      if (g.input(i)->tensor()) {
        out.emplace_back(); // the initializer default
        continue;
      }
      return invalidInput("input '", g.input(i)->name(), "' has no file ",
                          path);
    }
    const Type &ty = g.input(i)->type();
    if (ty.kind() == Type::Kind::Sequence ||
        ty.kind() == Type::Kind::Optional || ty.kind() == Type::Kind::Map) {
      ONNXOPT_ASSIGN_OR_RETURN(RefValue v, readValueFile(path, ty));
      out.push_back(std::move(v));
      continue;
    }
    if (!ty.isTensor() && !ty.isUnknown())
      return unsupported("input '", g.input(i)->name(), "' of type ", ty.str(),
                         ": this input type is not supported by the "
                         "reference interpreter");
    ONNXOPT_ASSIGN_OR_RETURN(auto t, importTensorFile(path));
    // ONNX's own test data stores bfloat16 tensors as uint16 bits.
    if (ty.elemType() == DataType::BFloat16 && t->dtype() == DataType::UInt16)
      t = std::make_shared<Tensor>(Tensor::fromBytes(
          DataType::BFloat16, t->dims(), std::string(t->bytes())));
    if (ty.isTensor() && ty.elemType() != DataType::Undefined &&
        ty.elemType() != t->dtype())
      return invalidInput(path, ": element type ", dataTypeName(t->dtype()),
                          " but input '", g.input(i)->name(), "' is ",
                          ty.str());
    out.push_back(RefValue::of(t));
  }
  std::string extra = absl::StrCat(dir, "/input_", g.numInputs(), ".pb");
  if (fileExists(extra))
    return invalidInput(dir, " has more input files than the model's ",
                        g.numInputs(), " inputs");
  return out;
}

absl::Status writeOutputDir(const Graph &g, const std::vector<RefValue> &outs,
                            const std::string &dir) {
  ::mkdir(dir.c_str(), 0777);
  for (size_t i = 0; i < outs.size(); ++i)
    ONNXOPT_RETURN_IF_ERROR(writeValueFile(
        outs[i], g.outputName(i), absl::StrCat(dir, "/output_", i, ".pb")));
  return absl::OkStatus();
}

absl::Status parseShapeBinding(std::string_view text, ShapeBindings &b) {
  size_t eq = text.rfind('=');
  if (eq == std::string_view::npos || eq == 0)
    return absl::FailedPreconditionError(absl::StrCat(
        "--verify-shape expects NAME=DIMS (e.g. input=1x3x224x224 or "
        "batch=2), not '",
        std::string(text), "'"));
  std::string name(text.substr(0, eq));
  if (name.find_first_of("=,") != std::string::npos)
    return absl::FailedPreconditionError(absl::StrCat(
        "--verify-shape binds one name per flag (--verify-shape batch=2 "
        "--verify-shape seq=5), not '",
        std::string(text), "'"));
  std::vector<int64_t> dims;
  std::string dimsText(text.substr(eq + 1));
  for (absl::string_view part :
       absl::StrSplit(dimsText, absl::ByAnyChar("x,"))) {
    int64_t d;
    if (!absl::SimpleAtoi(part, &d) || d < 0)
      return absl::FailedPreconditionError(absl::StrCat(
          "--verify-shape: '", std::string(part), "' is not a dimension"));
    dims.push_back(d);
  }
  b.inputs[name] = dims;
  if (dims.size() == 1)
    b.symbols[name] = dims[0];
  return absl::OkStatus();
}

namespace {

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

} // namespace

absl::StatusOr<std::vector<RefValue>>
randomInputs(const Graph &g, const ShapeBindings &shapes, uint64_t seed,
             std::vector<std::string> &notes) {
  std::vector<RefValue> out;
  for (size_t i = 0; i < g.numInputs(); ++i) {
    const Value *in = g.input(i);
    if (in->tensor()) {
      out.emplace_back();
      continue;
    }
    const Type &ty = in->type();
    if (!ty.isTensor())
      return unsupported("input '", in->name(), "' of type ", ty.str(),
                         " cannot be generated; give --verify-inputs");
    std::vector<int64_t> dims;
    if (auto it = shapes.inputs.find(in->name()); it != shapes.inputs.end()) {
      dims = it->second;
    } else if (!ty.shape()) {
      return invalidInput("input '", in->name(),
                          "' has no shape; give --verify-shape ", in->name(),
                          "=DIMS");
    } else {
      for (const Dim &d : *ty.shape()) {
        if (d.isConstant()) {
          dims.push_back(d.value());
        } else if (d.isSymbol() && shapes.symbols.count(d.symbol())) {
          dims.push_back(shapes.symbols.at(d.symbol()));
        } else {
          notes.push_back(absl::StrCat("input '", in->name(), "': dim '",
                                       d.isSymbol() ? d.symbol() : "?",
                                       "' set to 1 (bind it with "
                                       "--verify-shape)"));
          dims.push_back(1);
        }
      }
    }
    // Bounded like every tensor the interpreter makes: a huge shape is an
    // error naming the input, not an allocation failure.
    auto count = checkedProduct(dims);
    size_t es = std::max<size_t>(elementSize(ty.elemType()), 1);
    if (!count || uint64_t(*count) > ref::EvalLimits().maxTensorBytes / es)
      return limitExceeded("input '", in->name(),
                           "': the requested shape is over the evaluation "
                           "limit of ",
                           ref::EvalLimits().maxTensorBytes, " bytes");
    NewTensor t(ty.elemType(), dims);
    uint64_t state = mix(seed * 0x9e3779b97f4a7c15ull + i + 1);
    auto next = [&] { return state = mix(state + 0x9e3779b97f4a7c15ull); };
    auto unit = [&] { return double(next() >> 11) * 0x1.0p-53 * 2 - 1; };
    switch (ty.elemType()) {
      REF_FLOATS({
        for (int64_t k = 0; k < t.size(); ++k)
          t.data<T>()[k] = T(Compute<T>(unit()));
      })
      REF_INTS({
        for (int64_t k = 0; k < t.size(); ++k)
          t.data<T>()[k] = T(next() % 10);
      })
      REF_BOOL({
        for (int64_t k = 0; k < t.size(); ++k)
          t.data<T>()[k] = T(next() & 1);
      })
    default:
      return unsupported("input '", in->name(), "': cannot generate ",
                         dataTypeName(ty.elemType()), " values");
    }
    out.push_back(RefValue::of(t.finish()));
  }
  return out;
}

namespace {

std::string shapeStr(const std::vector<int64_t> &d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i)
    absl::StrAppend(&s, i ? "," : "", d[i]);
  return s + "]";
}

Comparison compareTensors(const std::string &name, const Tensor &w,
                          const Tensor &g, bool exact, double rtol,
                          double atol) {
  Comparison c;
  auto fail = [&](std::string why) {
    c.equal = false;
    c.message = absl::StrCat("output '", name, "': ", why);
    return c;
  };
  if (w.dtype() != g.dtype())
    return fail(absl::StrCat("element type ", dataTypeName(g.dtype()),
                             ", expected ", dataTypeName(w.dtype())));
  if (w.dims() != g.dims())
    return fail(absl::StrCat("shape ", shapeStr(g.dims()), ", expected ",
                             shapeStr(w.dims())));
  if (w.dtype() == DataType::String) {
    if (w.strings() != g.strings())
      return fail("string elements differ");
    return c;
  }
  if (exact) {
    if (w.bytes() == g.bytes())
      return c;
    // Name the first differing element and count them all.
    std::vector<double> a = toDoubles(w), b = toDoubles(g);
    size_t es = elementSize(w.dtype()), first = a.size(), bad = 0;
    for (size_t i = 0; i < a.size(); ++i)
      if (std::memcmp(w.bytes().data() + i * es, g.bytes().data() + i * es,
                      es) != 0) {
        first = std::min(first, i);
        ++bad;
      }
    if (first == a.size())
      return fail("not bit-identical");
    return fail(absl::StrFormat(
        "not bit-identical (the pipeline is exact): %d of %d elements "
        "differ; the first, element %d, is %.9g, expected %.9g",
        bad, a.size(), first, b[first], a[first]));
  }
  std::vector<double> a = toDoubles(w), b = toDoubles(g);
  // Rounding moves an element by a fraction of the magnitudes it was summed
  // from, not of its own value: an element near zero that results from
  // cancellation can move by 100x its own rtol while every error stays under
  // 1e-5 of the output's RMS (README has the corpus figures). So the relative
  // tolerance applies to the larger of the element and the output's RMS
  // (floating-point outputs; integers compare element by element).
  double scale = 0;
  if (isFloatType(w.dtype())) {
    double sum = 0;
    size_t finite = 0;
    for (double x : a)
      if (std::isfinite(x)) {
        sum += x * x;
        ++finite;
      }
    scale = finite ? std::sqrt(sum / double(finite)) : 0;
  }
  double worst = -1, worstErr = 0;
  size_t worstAt = 0, bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((std::isnan(a[i]) && std::isnan(b[i])) || a[i] == b[i])
      continue; // NaN matches NaN, an infinity the same infinity
    double err = std::abs(a[i] - b[i]);
    double excess = err - (atol + rtol * std::max(std::abs(a[i]), scale));
    if (!std::isfinite(a[i]) || !std::isfinite(b[i]))
      excess = INFINITY; // unequal, and no tolerance covers an infinity
    if (excess > 0) {
      ++bad;
      if (excess > worst) {
        worst = excess;
        worstAt = i;
        worstErr = err;
      }
    }
  }
  if (bad)
    return fail(absl::StrFormat(
        "%d of %d elements outside rtol=%g atol=%g (relative to the larger "
        "of the element and the output's RMS, %.3g); worst at element %d: "
        "got %.9g, expected %.9g (error %.3g)",
        bad, a.size(), rtol, atol, scale, worstAt, b[worstAt], a[worstAt],
        worstErr));
  return c;
}

/// Two maps: the same keys in the same order, values compared as tensors.
Comparison compareMaps(const std::string &name, const RefValue &w,
                       const RefValue &g, bool exact, double rtol,
                       double atol) {
  Comparison c = compareTensors(name + " (keys)", *w.keys, *g.keys, true, 0, 0);
  if (!c.equal)
    return c;
  return compareTensors(name, *w.tensor, *g.tensor, exact, rtol, atol);
}

} // namespace

namespace {

/// Ops whose result jumps when an input crosses a threshold: a rounding
/// difference upstream can pick another element, box or branch.
bool isDiscontinuous(const Node &n) {
  static const std::set<std::string> kOps = {
      "ArgMax",  "ArgMin",         "Ceil", "Equal",       "Floor",
      "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "NonMaxSuppression",
      "NonZero", "Round",          "TopK"};
  // ai.onnx.ml: thresholds (Binarizer, tree nodes) and the argmax behind a
  // classifier's label.
  static const std::set<std::string> kMlOps = {
      "Binarizer", "LinearClassifier", "SVMClassifier",
      "TreeEnsembleClassifier", "TreeEnsembleRegressor"};
  if (n.op().domain == "ai.onnx.ml")
    return kMlOps.count(n.op().type) > 0;
  if (!isDefaultDomain(n.op().domain))
    return false;
  if (kOps.count(n.op().type))
    return true;
  // A Cast from floating point to an integer or bool truncates.
  if (n.op().type == "Cast" && n.numInputs() == 1 && n.input(0))
    for (const Attribute &a : n.attrs())
      if (a.name == "to" && a.kind == AttrKind::Int)
        return !isFloatType(DataType(a.i));
  return false;
}

} // namespace

Comparison compareThroughDiscontinuities(const Model &original,
                                         const Model &optimized,
                                         const std::vector<RefValue> &inputs,
                                         const std::vector<RefValue> &want,
                                         double rtol, double atol,
                                         size_t &cuts) {
  // The floating-point values computed from the inputs' values (not only
  // their shapes: shape arithmetic rounds the same in both models) that feed
  // a discontinuous op, by name.
  const Graph &g = *original.graph;
  std::set<const Value *> fromInputs;
  for (size_t i = 0; i < g.numInputs(); ++i)
    fromInputs.insert(g.input(i));
  std::set<std::string> cut;
  for (const Node *n : g.nodes()) {
    bool dependent = !n->subgraphs().empty(); // bodies may read anything
    for (size_t i = 0; i < n->numInputs(); ++i)
      dependent |= n->input(i) && fromInputs.count(n->input(i));
    if (dependent && !n->is("Shape") && !n->is("Size"))
      for (size_t i = 0; i < n->numOutputs(); ++i)
        if (n->output(i))
          fromInputs.insert(n->output(i));
    if (!isDiscontinuous(*n))
      continue;
    for (size_t i = 0; i < n->numInputs(); ++i)
      if (const Value *v = n->input(i);
          v && fromInputs.count(v) && v->kind() == Value::Kind::NodeOutput &&
          (!v->type().isTensor() || isFloatType(v->type().elemType())))
        cut.insert(v->name());
  }
  cuts = cut.size();
  Comparison result;
  result.equal = false;
  if (cut.empty())
    return result;
  std::set<std::string> produced;
  for (const Node *n : optimized.graph->nodes())
    for (size_t i = 0; i < n->numOutputs(); ++i)
      if (n->output(i))
        produced.insert(n->output(i)->name());
  for (const std::string &name : cut)
    if (!produced.count(name)) {
      result.message = absl::StrCat("value '", name,
                                    "' (it feeds a discontinuous op) is not "
                                    "in the optimized model");
      return result;
    }
  std::map<std::string, RefValue> captured;
  ref::EvalLimits capture;
  capture.onResult = [&](const Value &v, RefValue &rv) {
    if (cut.count(v.name()))
      captured[v.name()] = rv;
  };
  if (!ref::evaluateModel(original, inputs, capture).ok())
    return result;
  // The optimized model, each cut value checked against the original's and
  // then replaced by it: what follows must then give the original's outputs.
  Comparison first;
  ref::EvalLimits substitute;
  substitute.onResult = [&](const Value &v, RefValue &rv) {
    auto it = captured.find(v.name());
    if (it == captured.end())
      return;
    if (first.equal && rv.isTensor() && it->second.isTensor()) {
      Comparison c = compareTensors(v.name(), *it->second.tensor, *rv.tensor,
                                    false, rtol, atol);
      if (!c.equal)
        first = c;
    }
    rv = it->second;
  };
  auto got = ref::evaluateModel(optimized, inputs, substitute);
  if (!got.ok()) {
    result.message = std::string(got.status().message());
    return result;
  }
  if (!first.equal) {
    first.message = absl::StrCat("value ", first.message.substr(7));
    return first; // "output 'x': ..." named as a value
  }
  return compareOutputs(*original.graph, want, *optimized.graph, *got, false,
                        rtol, atol);
}

Comparison compareOutputs(const Graph &want, const std::vector<RefValue> &w,
                          const Graph &got, const std::vector<RefValue> &g,
                          bool exact, double rtol, double atol) {
  for (size_t i = 0; i < want.numOutputs(); ++i) {
    const std::string &name = want.outputName(i);
    size_t j = 0;
    while (j < got.numOutputs() && got.outputName(j) != name)
      ++j;
    if (j == got.numOutputs()) {
      Comparison c;
      c.equal = false;
      c.message = absl::StrCat("output '", name,
                               "' is missing from the optimized model");
      return c;
    }
    if (j != i) {
      Comparison c;
      c.equal = false;
      c.message = absl::StrCat("output '", name, "' moved from position ", i,
                               " to ", j);
      return c;
    }
    const RefValue &a = w[i], &b = g[j];
    if (a.kind != b.kind) {
      Comparison c;
      c.equal = false;
      c.message = absl::StrCat("output '", name, "' changed kind");
      return c;
    }
    if (a.isTensor()) {
      Comparison c =
          compareTensors(name, *a.tensor, *b.tensor, exact, rtol, atol);
      if (!c.equal)
        return c;
    } else if (a.isMap()) {
      Comparison c = compareMaps(name, a, b, exact, rtol, atol);
      if (!c.equal)
        return c;
    } else if (a.kind == RefValue::Kind::Sequence) {
      if (a.sequenceLength() != b.sequenceLength() ||
          a.maps.size() != b.maps.size()) {
        Comparison c;
        c.equal = false;
        c.message =
            absl::StrCat("output '", name, "': sequence length ",
                         b.sequenceLength(), ", expected ", a.sequenceLength());
        return c;
      }
      for (size_t k = 0; k < a.maps.size(); ++k) {
        Comparison c = compareMaps(absl::StrCat(name, "[", k, "]"), a.maps[k],
                                   b.maps[k], exact, rtol, atol);
        if (!c.equal)
          return c;
      }
      for (size_t k = 0; k < a.sequence.size(); ++k) {
        Comparison c =
            compareTensors(absl::StrCat(name, "[", k, "]"), *a.sequence[k],
                           *b.sequence[k], exact, rtol, atol);
        if (!c.equal)
          return c;
      }
    }
  }
  if (got.numOutputs() != want.numOutputs()) {
    Comparison c;
    c.equal = false;
    c.message = absl::StrCat("the optimized model has ", got.numOutputs(),
                             " outputs, the original ", want.numOutputs());
    return c;
  }
  return {};
}

std::string describeOutputs(const Graph &g, const std::vector<RefValue> &outs) {
  std::string s;
  for (size_t i = 0; i < outs.size(); ++i) {
    absl::StrAppend(&s, g.outputName(i), ": ");
    if (outs[i].isMap()) {
      absl::StrAppend(&s, "(map of ", outs[i].keys->numElements(),
                      " entries)\n");
      continue;
    }
    if (!outs[i].isTensor()) {
      absl::StrAppend(&s, "(", outs[i].sequenceLength(), "-element sequence",
                      outs[i].maps.empty() ? "" : " of maps", ")\n");
      continue;
    }
    const Tensor &t = *outs[i].tensor;
    absl::StrAppend(&s, dataTypeName(t.dtype()), shapeStr(t.dims()));
    if (t.dtype() != DataType::String) {
      std::vector<double> v = toDoubles(t);
      absl::StrAppend(&s, " {");
      for (size_t k = 0; k < v.size() && k < 6; ++k)
        absl::StrAppend(&s, k ? ", " : "", absl::StrFormat("%.6g", v[k]));
      absl::StrAppend(&s, v.size() > 6 ? ", ...}" : "}");
    }
    s += "\n";
  }
  return s;
}

} // namespace onnxopt
