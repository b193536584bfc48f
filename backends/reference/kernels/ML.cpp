// Reference kernels for the ai.onnx.ml operators that scikit-learn converters
// (skl2onnx, onnxmltools) emit: linear models, SVMs, tree ensembles, scalers,
// encoders and the map/string glue around them. Semantics follow ONNX's
// Operators-ml.md; where the spec is silent (binary classifiers with one score
// column, labels of ties, zero norms) they follow ONNX Runtime's CPU kernels,
// the runtime these models are deployed on. Scores are accumulated in double
// and rounded to float once.
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>

namespace onnxopt::ref {

namespace {

// ---------------------------------------------------------------- helpers

/// A list attribute in place (empty when absent): tree ensembles hold
/// hundreds of thousands of entries, decoded on every evaluation.
const std::vector<std::string> &stringsOf(const KernelContext &ctx,
                                          std::string_view name) {
  static const std::vector<std::string> kNone;
  const Attribute *a = ctx.node().attr(name);
  return a ? a->strings : kNone;
}
const std::vector<int64_t> &intsOf(const KernelContext &ctx,
                                   std::string_view name) {
  static const std::vector<int64_t> kNone;
  const Attribute *a = ctx.node().attr(name);
  return a ? a->ints : kNone;
}

/// A float-list attribute, or its `<name>_as_tensor` (double) form.
std::vector<double> attrReals(const KernelContext &ctx, std::string_view name) {
  std::string tensorName = std::string(name) + "_as_tensor";
  if (const Attribute *a = ctx.node().attr(tensorName);
      a && !a->tensors.empty() && a->tensors[0])
    return toDoubles(*a->tensors[0]);
  std::vector<float> f = ctx.attrFloats(name);
  return std::vector<double>(f.begin(), f.end());
}

/// The input as rows: [N, C] (a 1-D input is one row; higher ranks keep
/// their first dimension), values read as doubles.
struct Rows {
  int64_t n = 0, c = 0;
  std::vector<double> x;
  double at(int64_t i, int64_t j) const { return x[size_t(i * c + j)]; }
};

absl::StatusOr<Rows> readRows(KernelContext &ctx, size_t i) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *t, ctx.required(i));
  switch (t->dtype()) {
  case DataType::Float:
  case DataType::Double:
  case DataType::Int32:
  case DataType::Int64:
    break;
  default:
    return ctx.unsupportedType(t->dtype());
  }
  Rows r;
  const auto &d = t->dims();
  if (d.empty()) {
    r.n = r.c = 1;
  } else if (d.size() == 1) {
    r.n = 1;
    r.c = d[0];
  } else {
    r.n = d[0];
    r.c = product(d, 1);
  }
  r.x = toDoubles(*t);
  return r;
}

/// Class labels: classlabels_ints / classlabels_int64s or
/// classlabels_strings, whichever the node has.
struct Labels {
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  bool isString = false;
  size_t size() const { return isString ? strings.size() : ints.size(); }
};

Labels readLabels(const KernelContext &ctx) {
  Labels l;
  l.strings = stringsOf(ctx, "classlabels_strings");
  l.isString = !l.strings.empty();
  l.ints = ctx.attrInts("classlabels_ints");
  if (l.ints.empty())
    l.ints = ctx.attrInts("classlabels_int64s");
  return l;
}

/// A label output of `n` elements: label(i) is an index into `labels`.
template <class Fn>
absl::Status writeLabels(KernelContext &ctx, size_t out, const Labels &labels,
                         int64_t n, Fn label) {
  ONNXOPT_ASSIGN_OR_RETURN(
      NewTensor y,
      ctx.allocate(labels.isString ? DataType::String : DataType::Int64, {n}));
  for (int64_t i = 0; i < n; ++i) {
    size_t k = label(i);
    if (labels.isString)
      y.strings()[size_t(i)] = labels.strings[k];
    else
      y.data<int64_t>()[i] = labels.ints[k];
  }
  ctx.setOutput(out, y.finish());
  return absl::OkStatus();
}

enum class Post { None, Logistic, Softmax, SoftmaxZero, Probit };

absl::StatusOr<Post> readPost(const KernelContext &ctx) {
  std::string p = ctx.attrString("post_transform", "NONE");
  if (p == "NONE")
    return Post::None;
  if (p == "LOGISTIC")
    return Post::Logistic;
  if (p == "SOFTMAX")
    return Post::Softmax;
  if (p == "SOFTMAX_ZERO")
    return Post::SoftmaxZero;
  if (p == "PROBIT")
    return Post::Probit;
  return ctx.error(absl::StrCat("unknown post_transform '", p, "'"));
}

double logistic(double v) {
  double e = 1 / (1 + std::exp(-std::abs(v)));
  return v < 0 ? 1 - e : e;
}

/// sqrt(2) * erfinv(2v - 1), with the approximation of erfinv that ONNX
/// Runtime uses (Winitzki's, a = 0.147).
double probit(double v) {
  double x = 2 * v - 1;
  double sgn = x < 0 ? -1 : 1;
  x = (1 - x) * (1 + x);
  double lg = std::log(x);
  double a = 2 / (3.14159 * 0.147) + 0.5 * lg;
  double b = 1 / 0.147 * lg;
  return std::sqrt(2.0) * sgn * std::sqrt(-a + std::sqrt(a * a - b));
}

/// How a single score becomes two columns (ONNX Runtime's add_second_class):
/// 0/1 probabilities [1-s, s]; 2/3 margins [-s, s] (logistic of each when the
/// transform is LOGISTIC); -1 keeps one column.
void applyPost(std::vector<double> &s, Post post, int secondClass = -1) {
  if (s.size() >= 2) {
    switch (post) {
    case Post::Probit:
      for (double &v : s)
        v = probit(v);
      break;
    case Post::Logistic:
      for (double &v : s)
        v = logistic(v);
      break;
    case Post::Softmax:
    case Post::SoftmaxZero: {
      double mx = -std::numeric_limits<double>::infinity();
      for (double v : s)
        mx = std::max(mx, v);
      double sum = 0;
      for (double &v : s) {
        // SOFTMAX_ZERO leaves zero scores at zero.
        v = post == Post::SoftmaxZero && std::abs(v) <= 1e-7 ? v * std::exp(-mx)
                                                             : std::exp(v - mx);
        sum += v;
      }
      for (double &v : s)
        v /= sum;
      break;
    }
    case Post::None:
      break;
    }
    return;
  }
  if (s.size() != 1)
    return;
  if (post == Post::Probit) {
    s[0] = probit(s[0]);
    return;
  }
  double v = s[0];
  switch (secondClass) {
  case 0:
  case 1:
    s = {1 - v, v};
    break;
  case 2:
  case 3:
    if (post == Post::Logistic)
      s = {logistic(-v), logistic(v)};
    else
      s = {-v, v};
    break;
  default:
    break;
  }
}

/// Writes rows of scores (each of `width` columns) as a float [N, width].
absl::Status writeScores(KernelContext &ctx, size_t out,
                         const std::vector<std::vector<double>> &rows,
                         int64_t width) {
  ONNXOPT_ASSIGN_OR_RETURN(
      NewTensor z,
      ctx.allocate(DataType::Float, {int64_t(rows.size()), width}));
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t j = 0; j < width; ++j)
      z.data<float>()[i * size_t(width) + size_t(j)] =
          size_t(j) < rows[i].size() ? float(rows[i][size_t(j)]) : 0.0f;
  ctx.setOutput(out, z.finish());
  return absl::OkStatus();
}

size_t argmax(const std::vector<double> &v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best])
      best = i;
  return best;
}

// ---------------------------------------------------------------- kernels

/// Y[..., k] = X[..., indices[k]] (the last axis); a 1-D X gives [1, K].
absl::Status kArrayFeatureExtractor(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *idx, ctx.required(1));
  if (x->dims().empty())
    return ctx.error("X must have at least one dimension");
  std::vector<int64_t> ind = toInt64s(*idx);
  int64_t last = x->dims().back();
  for (int64_t k : ind)
    if (k < 0 || k >= last)
      return ctx.error(
          absl::StrCat("index ", k, " is out of range [0, ", last, ")"));
  std::vector<int64_t> dims = x->dims();
  if (dims.size() == 1)
    dims.insert(dims.begin(), 1);
  dims.back() = int64_t(ind.size());
  int64_t outer = product(x->dims()) / std::max<int64_t>(last, 1);
  if (last == 0)
    outer = product(x->dims(), 0, x->dims().size() - 1);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y, ctx.allocate(x->dtype(), dims));
  int64_t k = int64_t(ind.size());
  if (x->dtype() == DataType::String) {
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < k; ++j)
        y.strings()[size_t(o * k + j)] =
            x->strings()[size_t(o * last + ind[size_t(j)])];
  } else {
    size_t es = elementSize(x->dtype());
    const char *src = x->bytes().data();
    char *dst = y.data<char>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < k; ++j)
        std::memcpy(dst + size_t(o * k + j) * es,
                    src + size_t(o * last + ind[size_t(j)]) * es, es);
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

/// Y = X > threshold ? 1 : 0, in X's type.
absl::Status kBinarizer(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  double th = ctx.attrFloat("threshold", 0.0f);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y, ctx.allocate(x->dtype(), x->dims()));
  switch (x->dtype()) {
    REF_CASE(Float, float, {
      View<T> v(*x);
      for (int64_t i = 0; i < v.size(); ++i)
        y.data<T>()[i] = v[i] > T(th) ? T(1) : T(0);
    })
    REF_CASE(Double, double, {
      View<T> v(*x);
      for (int64_t i = 0; i < v.size(); ++i)
        y.data<T>()[i] = v[i] > T(th) ? T(1) : T(0);
    })
    REF_CASE(Int64, int64_t, {
      View<T> v(*x);
      for (int64_t i = 0; i < v.size(); ++i)
        y.data<T>()[i] = double(v[i]) > th ? 1 : 0;
    })
    REF_CASE(Int32, int32_t, {
      View<T> v(*x);
      for (int64_t i = 0; i < v.size(); ++i)
        y.data<T>()[i] = double(v[i]) > th ? 1 : 0;
    })
  default:
    return ctx.unsupportedType(x->dtype());
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

absl::StatusOr<const RefValue *> mapInput(KernelContext &ctx) {
  const RefValue *v = ctx.value(0);
  if (!v || !v->isMap() || !v->keys || !v->tensor)
    return ctx.error("input is not a map");
  return v;
}

/// map(int64, string|float) -> tensor [1, n]: DENSE is the values in key
/// order, SPARSE puts each value at its key (0..max_map-1).
absl::Status kCastMap(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const RefValue *m, mapInput(ctx));
  if (m->keys->dtype() != DataType::Int64)
    return ctx.error("CastMap's keys must be int64");
  std::string castTo = ctx.attrString("cast_to", "TO_FLOAT");
  std::string form = ctx.attrString("map_form", "DENSE");
  int64_t maxMap = ctx.attrInt("max_map", 1);
  DataType outType;
  if (castTo == "TO_FLOAT")
    outType = DataType::Float;
  else if (castTo == "TO_INT64")
    outType = DataType::Int64;
  else if (castTo == "TO_STRING")
    outType = DataType::String;
  else
    return ctx.error(absl::StrCat("unknown cast_to '", castTo, "'"));
  if (form != "DENSE" && form != "SPARSE")
    return ctx.error(absl::StrCat("unknown map_form '", form, "'"));
  bool sparse = form == "SPARSE";
  if (sparse && maxMap <= 0)
    return ctx.error("max_map must be positive for SPARSE");
  std::vector<int64_t> keys = toInt64s(*m->keys);
  // Sorted by key, as a std::map<int64, ...> is.
  std::vector<size_t> order(keys.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  bool strIn = m->tensor->dtype() == DataType::String;
  std::vector<double> nums =
      strIn ? std::vector<double>() : toDoubles(*m->tensor);
  auto asString = [&](size_t i) {
    return strIn ? m->tensor->strings()[i] : absl::StrCat(nums[i]);
  };
  auto asDouble = [&](size_t i) -> double {
    if (!strIn)
      return nums[i];
    double d;
    return absl::SimpleAtod(m->tensor->strings()[i], &d) ? d : NAN;
  };
  int64_t n = sparse ? maxMap : int64_t(keys.size());
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y, ctx.allocate(outType, {1, n}));
  if (sparse && outType == DataType::Float)
    std::fill(y.data<float>(), y.data<float>() + n, 0.0f);
  for (size_t k = 0; k < order.size(); ++k) {
    size_t i = order[k];
    int64_t pos = sparse ? keys[i] : int64_t(k);
    if (pos < 0 || pos >= n)
      continue; // a SPARSE key beyond max_map is dropped
    if (outType == DataType::Float)
      y.data<float>()[pos] = float(asDouble(i));
    else if (outType == DataType::Int64)
      y.data<int64_t>()[pos] = int64_t(asDouble(i));
    else
      y.strings()[size_t(pos)] = asString(i);
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

/// string <-> int64 through the cats_strings/cats_int64s pairs.
absl::Status kCategoryMapper(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  std::vector<std::string> cs = stringsOf(ctx, "cats_strings");
  std::vector<int64_t> ci = ctx.attrInts("cats_int64s");
  if (cs.size() != ci.size())
    return ctx.error("cats_strings and cats_int64s differ in length");
  if (x->dtype() == DataType::String) {
    std::map<std::string, int64_t, std::less<>> m;
    for (size_t i = 0; i < cs.size(); ++i)
      m.emplace(cs[i], ci[i]);
    int64_t dflt = ctx.attrInt("default_int64", -1);
    ONNXOPT_ASSIGN_OR_RETURN(NewTensor y,
                             ctx.allocate(DataType::Int64, x->dims()));
    for (size_t i = 0; i < x->strings().size(); ++i) {
      auto it = m.find(x->strings()[i]);
      y.data<int64_t>()[i] = it == m.end() ? dflt : it->second;
    }
    ctx.setOutput(0, y.finish());
    return absl::OkStatus();
  }
  if (x->dtype() != DataType::Int64)
    return ctx.unsupportedType(x->dtype());
  std::map<int64_t, std::string> m;
  for (size_t i = 0; i < cs.size(); ++i)
    m.emplace(ci[i], cs[i]);
  std::string dflt = ctx.attrString("default_string", "_Unused");
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y,
                           ctx.allocate(DataType::String, x->dims()));
  std::vector<int64_t> v = toInt64s(*x);
  for (size_t i = 0; i < v.size(); ++i) {
    auto it = m.find(v[i]);
    y.strings()[i] = it == m.end() ? dflt : it->second;
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

/// map(string|int64, T) -> T [1, V]: each value at its key's vocabulary
/// position, 0 elsewhere.
absl::Status kDictVectorizer(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const RefValue *m, mapInput(ctx));
  std::vector<std::string> vs = stringsOf(ctx, "string_vocabulary");
  std::vector<int64_t> vi = ctx.attrInts("int64_vocabulary");
  bool strKeys = m->keys->dtype() == DataType::String;
  if (strKeys ? vs.empty() : vi.empty())
    return ctx.error(strKeys ? "string keys need string_vocabulary"
                             : "int64 keys need int64_vocabulary");
  int64_t n = int64_t(strKeys ? vs.size() : vi.size());
  DataType vt = m->tensor->dtype();
  if (vt == DataType::String)
    return ctx.unsupportedType(vt);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y, ctx.allocate(vt, {1, n}));
  std::vector<double> vals = toDoubles(*m->tensor);
  std::vector<int64_t> ikeys =
      strKeys ? std::vector<int64_t>() : toInt64s(*m->keys);
  for (size_t i = 0; i < vals.size(); ++i) {
    int64_t pos = -1;
    if (strKeys) {
      auto it = std::find(vs.begin(), vs.end(), m->keys->strings()[i]);
      pos = it == vs.end() ? -1 : int64_t(it - vs.begin());
    } else {
      auto it = std::find(vi.begin(), vi.end(), ikeys[i]);
      pos = it == vi.end() ? -1 : int64_t(it - vi.begin());
    }
    if (pos < 0)
      continue;
    switch (vt) {
      REF_NUMERIC(y.data<T>()[pos] = T(Compute<T>(vals[i])))
    default:
      return ctx.unsupportedType(vt);
    }
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

/// Concatenates its inputs' rows (as float), each cut or zero-padded to its
/// inputdimensions entry.
absl::Status kFeatureVectorizer(KernelContext &ctx) {
  std::vector<int64_t> dims = ctx.attrInts("inputdimensions");
  if (dims.size() != ctx.numInputs())
    return ctx.error("inputdimensions must have one entry per input");
  int64_t total = 0, n = -1;
  std::vector<Rows> ins;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    ONNXOPT_ASSIGN_OR_RETURN(Rows r, readRows(ctx, i));
    if (dims[i] < 0 || dims[i] > (int64_t(1) << 32))
      return ctx.error("inputdimensions must be in [0, 2^32]");
    if (n >= 0 && r.n != n)
      return ctx.error("inputs differ in their number of rows");
    n = r.n;
    total += dims[i];
    ins.push_back(std::move(r));
  }
  n = std::max<int64_t>(n, 1);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y,
                           ctx.allocate(DataType::Float, {n, total}));
  for (int64_t row = 0; row < n; ++row) {
    int64_t off = 0;
    for (size_t i = 0; i < ins.size(); ++i) {
      for (int64_t j = 0; j < dims[i] && j < ins[i].c; ++j)
        y.data<float>()[row * total + off + j] = float(ins[i].at(row, j));
      off += dims[i];
    }
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

/// Replaces elements equal to replaced_value (NaN matches NaN) by the
/// imputed value of their column (or the single one).
absl::Status kImputer(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  bool isFloat =
      x->dtype() == DataType::Float || x->dtype() == DataType::Double;
  bool isInt = x->dtype() == DataType::Int64 || x->dtype() == DataType::Int32;
  if (!isFloat && !isInt)
    return ctx.unsupportedType(x->dtype());
  std::vector<double> imputed;
  if (isFloat) {
    std::vector<float> f = ctx.attrFloats("imputed_value_floats");
    imputed.assign(f.begin(), f.end());
  } else {
    std::vector<int64_t> v = ctx.attrInts("imputed_value_int64s");
    imputed.assign(v.begin(), v.end());
  }
  double replaced = isFloat ? ctx.attrFloat("replaced_value_float", 0.0f)
                            : double(ctx.attrInt("replaced_value_int64", 0));
  int64_t c = x->dims().empty() ? 1 : x->dims().back();
  if (imputed.size() != 1 && int64_t(imputed.size()) != c)
    return ctx.error(absl::StrCat("imputed values: ", imputed.size(), " for ",
                                  c, " columns"));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y, ctx.allocate(x->dtype(), x->dims()));
  auto run = [&](auto tag) {
    using T = decltype(tag);
    View<T> v(*x);
    for (int64_t i = 0; i < v.size(); ++i) {
      double d = double(v[i]);
      bool hit = std::isnan(replaced) ? std::isnan(d) : d == replaced;
      y.data<T>()[i] =
          hit ? T(imputed.size() == 1 ? imputed[0] : imputed[size_t(i % c)])
              : v[i];
    }
  };
  switch (x->dtype()) {
  case DataType::Float:
    run(float());
    break;
  case DataType::Double:
    run(double());
    break;
  case DataType::Int64:
    run(int64_t());
    break;
  default:
    run(int32_t());
    break;
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

/// Opset 1: string -> int64 (position in classes_strings) or back. Opset 2:
/// keys_* -> values_* for string, int64 and float keys and values.
absl::Status kLabelEncoder(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  std::vector<std::string> ks, vs;
  std::vector<int64_t> ki, vi;
  std::vector<float> kf, vf;
  if (ctx.sinceVersion() < 2) {
    std::vector<std::string> classes = stringsOf(ctx, "classes_strings");
    for (size_t i = 0; i < classes.size(); ++i) {
      ks.push_back(classes[i]);
      vi.push_back(int64_t(i));
    }
    if (x->dtype() == DataType::Int64) {
      std::swap(ks, vs);
      std::swap(ki, vi);
    }
  } else {
    ks = stringsOf(ctx, "keys_strings");
    ki = ctx.attrInts("keys_int64s");
    kf = ctx.attrFloats("keys_floats");
    vs = stringsOf(ctx, "values_strings");
    vi = ctx.attrInts("values_int64s");
    vf = ctx.attrFloats("values_floats");
  }
  size_t nk = ks.size() + ki.size() + kf.size();
  size_t nv = vs.size() + vi.size() + vf.size();
  if (nk != nv || (!ks.empty() + !ki.empty() + !kf.empty()) > 1 ||
      (!vs.empty() + !vi.empty() + !vf.empty()) > 1)
    return ctx.error("one kind of keys and one of values, of equal length");
  DataType inType = !ks.empty()   ? DataType::String
                    : !ki.empty() ? DataType::Int64
                                  : DataType::Float;
  DataType outType = !vs.empty()   ? DataType::String
                     : !vi.empty() ? DataType::Int64
                                   : DataType::Float;
  if (nk == 0) {
    // No pairs: the types come from the tensor and the declared output.
    inType = x->dtype();
    const Value *o = ctx.node().output(0);
    outType = o && o->type().isTensor() ? o->type().elemType() : inType;
  }
  for (DataType t : {inType, outType})
    if (t != DataType::String && t != DataType::Int64 && t != DataType::Float)
      return ctx.unsupportedType(t);
  if (x->dtype() != inType)
    return ctx.error(absl::StrCat("input is ", dataTypeName(x->dtype()),
                                  ", the keys are ", dataTypeName(inType)));
  // Keys as text: strings as they are, integers in decimal, floats by their
  // bits (-0 as 0). A NaN matches no key, as in ONNX Runtime's float map.
  auto floatKey = [](float f) {
    if (std::isnan(f))
      return std::string("nan");
    if (f == 0.0f)
      f = 0.0f;
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return absl::StrCat("f", bits);
  };
  std::optional<View<int64_t>> xi;
  std::optional<View<float>> xf;
  if (inType == DataType::Int64)
    xi.emplace(*x);
  else if (inType == DataType::Float)
    xf.emplace(*x);
  auto keyOf = [&](size_t i) -> std::string {
    if (inType == DataType::String)
      return x->strings()[i];
    if (xi)
      return absl::StrCat((*xi)[int64_t(i)]);
    return floatKey((*xf)[int64_t(i)]);
  };
  std::map<std::string, size_t> table;
  for (size_t i = 0; i < nk; ++i) {
    if (!kf.empty() && std::isnan(kf[i]))
      continue;
    std::string k = !ks.empty()   ? ks[i]
                    : !ki.empty() ? absl::StrCat(ki[i])
                                  : floatKey(kf[i]);
    table.emplace(k, i);
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y, ctx.allocate(outType, x->dims()));
  std::string dS = ctx.attrString("default_string", "_Unused");
  int64_t dI = ctx.attrInt("default_int64", -1);
  float dF = ctx.attrFloat("default_float", -0.0f);
  size_t n = size_t(product(x->dims()));
  for (size_t i = 0; i < n; ++i) {
    auto it = table.find(keyOf(i));
    bool hit = it != table.end();
    if (outType == DataType::String)
      y.strings()[i] = hit ? vs[it->second] : dS;
    else if (outType == DataType::Int64)
      y.data<int64_t>()[i] = hit ? vi[it->second] : dI;
    else
      y.data<float>()[i] = hit ? vf[it->second] : dF;
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

/// Scores = X coefficients^T + intercepts, label = argmax of the raw scores;
/// one score with two labels is a binary margin (label 1 when > 0).
absl::Status kLinearClassifier(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(Rows r, readRows(ctx, 0));
  std::vector<float> coef = ctx.attrFloats("coefficients");
  std::vector<float> icpt = ctx.attrFloats("intercepts");
  Labels labels = readLabels(ctx);
  ONNXOPT_ASSIGN_OR_RETURN(Post post, readPost(ctx));
  if (r.c == 0 || coef.size() % size_t(r.c) != 0)
    return ctx.error(absl::StrCat(coef.size(),
                                  " coefficients do not divide "
                                  "into rows of ",
                                  r.c, " features"));
  int64_t k = int64_t(coef.size()) / r.c;
  if (!icpt.empty() && int64_t(icpt.size()) != k)
    return ctx.error("intercepts must have one value per class score");
  if (labels.size() == 0 ||
      (k != int64_t(labels.size()) && !(k == 1 && labels.size() == 2)))
    return ctx.error(
        absl::StrCat(k, " class scores for ", labels.size(), " class labels"));
  bool binary = k == 1 && labels.size() == 2;
  std::vector<std::vector<double>> rows(size_t(r.n));
  std::vector<size_t> lab(size_t(r.n));
  for (int64_t i = 0; i < r.n; ++i) {
    std::vector<double> &s = rows[size_t(i)];
    s.assign(size_t(k), 0.0);
    for (int64_t c = 0; c < k; ++c) {
      double acc = icpt.empty() ? 0.0 : icpt[size_t(c)];
      for (int64_t f = 0; f < r.c; ++f)
        acc += double(coef[size_t(c * r.c + f)]) * r.at(i, f);
      s[size_t(c)] = float(acc);
    }
    if (binary) {
      // One margin: [-s, s], or the logistic of each.
      lab[size_t(i)] = s[0] > 0 ? 1 : 0;
      applyPost(s, post, 2);
    } else {
      lab[size_t(i)] = argmax(s);
      applyPost(s, post);
    }
  }
  ONNXOPT_RETURN_IF_ERROR(writeLabels(
      ctx, 0, labels, r.n, [&](int64_t i) { return lab[size_t(i)]; }));
  return writeScores(ctx, 1, rows, binary ? 2 : k);
}

/// Y = X coefficients^T + intercepts, [N, targets].
absl::Status kLinearRegressor(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(Rows r, readRows(ctx, 0));
  std::vector<float> coef = ctx.attrFloats("coefficients");
  std::vector<float> icpt = ctx.attrFloats("intercepts");
  int64_t t = ctx.attrInt("targets", 1);
  ONNXOPT_ASSIGN_OR_RETURN(Post post, readPost(ctx));
  if (t <= 0 || t > int64_t(coef.size()) || int64_t(coef.size()) != t * r.c)
    return ctx.error(absl::StrCat(coef.size(), " coefficients for ", t,
                                  " targets of ", r.c, " features"));
  if (!icpt.empty() && int64_t(icpt.size()) != t)
    return ctx.error("intercepts must have one value per target");
  std::vector<std::vector<double>> rows(size_t(r.n));
  for (int64_t i = 0; i < r.n; ++i) {
    std::vector<double> &s = rows[size_t(i)];
    for (int64_t c = 0; c < t; ++c) {
      double acc = icpt.empty() ? 0.0 : icpt[size_t(c)];
      for (int64_t f = 0; f < r.c; ++f)
        acc += double(coef[size_t(c * r.c + f)]) * r.at(i, f);
      s.push_back(float(acc));
    }
    applyPost(s, post);
  }
  return writeScores(ctx, 0, rows, t);
}

/// Each row divided by its max (MAX), sum of absolute values (L1) or
/// Euclidean norm (L2); a zero norm leaves the row as it is.
absl::Status kNormalizer(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(Rows r, readRows(ctx, 0));
  std::string norm = ctx.attrString("norm", "MAX");
  if (norm != "MAX" && norm != "L1" && norm != "L2")
    return ctx.error(absl::StrCat("unknown norm '", norm, "'"));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y,
                           ctx.allocate(DataType::Float, x->dims()));
  for (int64_t i = 0; i < r.n; ++i) {
    const double *row = r.x.data() + i * r.c;
    double d = 0;
    if (norm == "MAX") {
      d = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < r.c; ++j)
        d = std::max(d, row[j]);
    } else if (norm == "L1") {
      for (int64_t j = 0; j < r.c; ++j)
        d += std::abs(row[j]);
    } else {
      for (int64_t j = 0; j < r.c; ++j)
        d += row[j] * row[j];
      d = std::sqrt(d);
    }
    for (int64_t j = 0; j < r.c; ++j)
      y.data<float>()[i * r.c + j] = float(d != 0 ? row[j] / d : row[j]);
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

/// X [...] -> float [..., categories]: 1 at the category of each element.
absl::Status kOneHotEncoder(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  std::vector<std::string> cs = stringsOf(ctx, "cats_strings");
  std::vector<int64_t> ci = ctx.attrInts("cats_int64s");
  bool zeros = ctx.attrInt("zeros", 1) != 0;
  bool strIn = x->dtype() == DataType::String;
  if (strIn ? cs.empty() : ci.empty())
    return ctx.error(strIn ? "string input needs cats_strings"
                           : "numeric input needs cats_int64s");
  if (!strIn && x->dtype() != DataType::Int64 &&
      x->dtype() != DataType::Int32 && x->dtype() != DataType::Float &&
      x->dtype() != DataType::Double)
    return ctx.unsupportedType(x->dtype());
  int64_t k = int64_t(strIn ? cs.size() : ci.size());
  std::vector<int64_t> dims = x->dims();
  dims.push_back(k);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y, ctx.allocate(DataType::Float, dims));
  std::vector<double> nums = strIn ? std::vector<double>() : toDoubles(*x);
  int64_t n = product(x->dims());
  for (int64_t i = 0; i < n; ++i) {
    int64_t pos = -1;
    if (strIn) {
      auto it = std::find(cs.begin(), cs.end(), x->strings()[size_t(i)]);
      pos = it == cs.end() ? -1 : int64_t(it - cs.begin());
    } else {
      for (int64_t j = 0; j < k && pos < 0; ++j)
        if (double(ci[size_t(j)]) == nums[size_t(i)])
          pos = j;
    }
    if (pos < 0) {
      if (!zeros)
        return ctx.error("a value is not among the categories and zeros=0");
      continue;
    }
    y.data<float>()[i * k + pos] = 1.0f;
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

/// Y = (X - offset) * scale, per column or with one value for all.
absl::Status kScaler(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(Rows r, readRows(ctx, 0));
  std::vector<float> off = ctx.attrFloats("offset"),
                     sc = ctx.attrFloats("scale");
  int64_t c = x->dims().empty() ? 1 : x->dims().back();
  for (auto *v : {&off, &sc})
    if (v->size() > 1 && int64_t(v->size()) != c)
      return ctx.error(absl::StrCat("offset and scale need 1 or ", c,
                                    " values, not ", v->size()));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor y,
                           ctx.allocate(DataType::Float, x->dims()));
  for (size_t i = 0; i < r.x.size(); ++i) {
    size_t col = c ? i % size_t(c) : 0;
    float o = off.empty() ? 0.0f : off.size() == 1 ? off[0] : off[col];
    float s = sc.empty() ? 1.0f : sc.size() == 1 ? sc[0] : sc[col];
    // In float, as the op's output type: (x - offset) * scale.
    y.data<float>()[i] = (float(r.x[i]) - o) * s;
  }
  ctx.setOutput(0, y.finish());
  return absl::OkStatus();
}

// ---------------------------------------------------------------- SVMs

struct SvmKernel {
  enum { Linear, Poly, Rbf, Sigmoid } type = Linear;
  double gamma = 0, coef0 = 0, degree = 0;

  double operator()(const double *x, const float *sv, int64_t n) const {
    if (type == Rbf) {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) {
        double d = x[i] - double(sv[i]);
        s += d * d;
      }
      return std::exp(-gamma * s);
    }
    double dot = 0;
    for (int64_t i = 0; i < n; ++i)
      dot += x[i] * double(sv[i]);
    switch (type) {
    case Poly:
      return std::pow(gamma * dot + coef0, degree);
    case Sigmoid:
      return std::tanh(gamma * dot + coef0);
    default:
      return dot;
    }
  }
};

absl::StatusOr<SvmKernel> readSvmKernel(const KernelContext &ctx) {
  SvmKernel k;
  std::string t = ctx.attrString("kernel_type", "LINEAR");
  if (t == "LINEAR")
    k.type = SvmKernel::Linear;
  else if (t == "POLY")
    k.type = SvmKernel::Poly;
  else if (t == "RBF")
    k.type = SvmKernel::Rbf;
  else if (t == "SIGMOID")
    k.type = SvmKernel::Sigmoid;
  else
    return ctx.error(absl::StrCat("unknown kernel_type '", t, "'"));
  std::vector<float> p = ctx.attrFloats("kernel_params");
  if (!p.empty())
    k.gamma = p[0];
  if (p.size() > 1)
    k.coef0 = p[1];
  if (p.size() > 2)
    k.degree = p[2];
  return k;
}

/// libsvm's pairwise coupling (Wu, Lin and Weng 2004, method 2): class
/// probabilities from the pairwise ones r[i][j], as libsvm and ONNX Runtime
/// compute them (at most 100 iterations, stopping at 0.005/k).
std::vector<double> coupleProbabilities(int64_t k,
                                        const std::vector<double> &r) {
  std::vector<double> q(size_t(k * k), 0.0), qp(size_t(k), 0.0),
      p(size_t(k), 1.0 / double(k));
  auto R = [&](int64_t i, int64_t j) { return r[size_t(i * k + j)]; };
  auto Q = [&](int64_t i, int64_t j) -> double & {
    return q[size_t(i * k + j)];
  };
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < i; ++j) {
      Q(i, i) += R(j, i) * R(j, i);
      Q(i, j) = Q(j, i);
    }
    for (int64_t j = i + 1; j < k; ++j) {
      Q(i, i) += R(j, i) * R(j, i);
      Q(i, j) = -R(j, i) * R(i, j);
    }
  }
  double eps = 0.005 / double(k);
  for (int iter = 0; iter < std::max<int64_t>(100, k); ++iter) {
    double pqp = 0;
    for (int64_t i = 0; i < k; ++i) {
      qp[size_t(i)] = 0;
      for (int64_t j = 0; j < k; ++j)
        qp[size_t(i)] += Q(i, j) * p[size_t(j)];
      pqp += p[size_t(i)] * qp[size_t(i)];
    }
    double maxErr = 0;
    for (int64_t i = 0; i < k; ++i)
      maxErr = std::max(maxErr, std::abs(qp[size_t(i)] - pqp));
    if (maxErr < eps)
      break;
    for (int64_t i = 0; i < k; ++i) {
      double diff = (-qp[size_t(i)] + pqp) / Q(i, i);
      p[size_t(i)] += diff;
      pqp = (pqp + diff * (diff * Q(i, i) + 2 * qp[size_t(i)])) / (1 + diff) /
            (1 + diff);
      for (int64_t j = 0; j < k; ++j) {
        qp[size_t(j)] = (qp[size_t(j)] + diff * Q(i, j)) / (1 + diff);
        p[size_t(j)] /= 1 + diff;
      }
    }
  }
  return p;
}

/// SVC (support vectors: one-vs-one decision values, votes, and with prob_a/
/// prob_b Platt-scaled pairwise probabilities coupled into class
/// probabilities) or linear (no support vectors: one score per class).
absl::Status kSVMClassifier(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(Rows r, readRows(ctx, 0));
  ONNXOPT_ASSIGN_OR_RETURN(SvmKernel kern, readSvmKernel(ctx));
  ONNXOPT_ASSIGN_OR_RETURN(Post post, readPost(ctx));
  Labels labels = readLabels(ctx);
  std::vector<int64_t> perClass = ctx.attrInts("vectors_per_class");
  std::vector<float> sv = ctx.attrFloats("support_vectors");
  std::vector<float> coef = ctx.attrFloats("coefficients");
  std::vector<float> rho = ctx.attrFloats("rho");
  std::vector<float> pa = ctx.attrFloats("prob_a"),
                     pb = ctx.attrFloats("prob_b");
  int64_t k = int64_t(labels.size());
  if (k == 0)
    return ctx.error("class labels are required");
  if (pa.size() != pb.size())
    return ctx.error("prob_a and prob_b differ in length");
  int64_t nsv = 0;
  std::vector<int64_t> start;
  for (int64_t c : perClass) {
    // Each support vector has at least one value: the sum stays bounded.
    if (c < 0 || c > int64_t(sv.size()) - nsv)
      return ctx.error(absl::StrCat("vectors_per_class must be non-negative "
                                    "and at most the ",
                                    sv.size(), " support vector values"));
    start.push_back(nsv);
    nsv += c;
  }
  std::vector<std::vector<double>> rows(size_t(r.n));
  std::vector<size_t> lab(size_t(r.n));
  int64_t width = k;
  if (nsv == 0) {
    // Linear: scores = kernel(x, coefficients row) + rho[0].
    bool allPositive =
        std::all_of(coef.begin(), coef.end(), [](float w) { return w >= 0; });
    if (int64_t(coef.size()) != k * r.c || rho.empty())
      return ctx.error(absl::StrCat("linear SVM: ", coef.size(),
                                    " coefficients for ", k, " classes of ",
                                    r.c, " features, and rho"));
    for (int64_t i = 0; i < r.n; ++i) {
      std::vector<double> &s = rows[size_t(i)];
      for (int64_t c = 0; c < k; ++c)
        s.push_back(float(
            kern(&r.x[size_t(i * r.c)], &coef[size_t(c * r.c)], r.c) + rho[0]));
      size_t best = argmax(s);
      lab[size_t(i)] = best;
      // Two classes: the positive label when the best score passes 0.5
      // (all weights positive: a probability) or 0 (margins), as ONNX
      // Runtime decides.
      if (k == 2 &&
          ((allPositive && s[best] >= 0.5) || (!allPositive && s[best] > 0)))
        lab[size_t(i)] = 1;
      applyPost(s, post);
    }
    ONNXOPT_RETURN_IF_ERROR(writeLabels(
        ctx, 0, labels, r.n, [&](int64_t i) { return lab[size_t(i)]; }));
    return writeScores(ctx, 1, rows, width);
  }
  int64_t pairs = k * (k - 1) / 2;
  if (int64_t(perClass.size()) != k || r.c == 0 ||
      int64_t(sv.size()) != nsv * r.c || int64_t(coef.size()) < (k - 1) * nsv ||
      int64_t(rho.size()) < pairs ||
      (!pa.empty() && int64_t(pa.size()) < pairs))
    return ctx.error(absl::StrCat(
        "SVC attributes do not agree: ", k, " classes, ", nsv,
        " support vectors of ", r.c, " features (", sv.size(), " values), ",
        coef.size(), " coefficients, ", rho.size(), " rho"));
  bool proba = !pa.empty();
  width = proba ? k : (k > 2 ? pairs : 2);
  std::vector<double> kv(static_cast<size_t>(nsv));
  for (int64_t i = 0; i < r.n; ++i) {
    for (int64_t v = 0; v < nsv; ++v)
      kv[size_t(v)] = kern(&r.x[size_t(i * r.c)], &sv[size_t(v * r.c)], r.c);
    std::vector<double> dec;
    std::vector<int64_t> votes(size_t(k), 0);
    for (int64_t a = 0; a < k - 1; ++a)
      for (int64_t b = a + 1; b < k; ++b) {
        double sum = 0;
        for (int64_t m = 0; m < perClass[size_t(a)]; ++m)
          sum += double(coef[size_t((b - 1) * nsv + start[size_t(a)] + m)]) *
                 kv[size_t(start[size_t(a)] + m)];
        for (int64_t m = 0; m < perClass[size_t(b)]; ++m)
          sum += double(coef[size_t(a * nsv + start[size_t(b)] + m)]) *
                 kv[size_t(start[size_t(b)] + m)];
        sum += rho[dec.size()];
        dec.push_back(float(sum));
        ++votes[size_t(sum > 0 ? a : b)];
      }
    size_t best =
        size_t(std::max_element(votes.begin(), votes.end()) - votes.begin());
    std::vector<double> &s = rows[size_t(i)];
    if (proba) {
      std::vector<double> pr(size_t(k * k), 0.0);
      size_t idx = 0;
      for (int64_t a = 0; a < k - 1; ++a)
        for (int64_t b = a + 1; b < k; ++b, ++idx) {
          double p = 1 - logistic(dec[idx] * pa[idx] + pb[idx]);
          p = std::min(std::max(p, 1e-7), 1 - 1e-7);
          pr[size_t(a * k + b)] = p;
          pr[size_t(b * k + a)] = 1 - p;
        }
      s = coupleProbabilities(k, pr);
      applyPost(s, post);
    } else {
      s = dec;
      applyPost(s, post, k <= 2 ? (post == Post::None ? 2 : 0) : -1);
    }
    lab[size_t(i)] = best;
  }
  ONNXOPT_RETURN_IF_ERROR(writeLabels(
      ctx, 0, labels, r.n, [&](int64_t i) { return lab[size_t(i)]; }));
  return writeScores(ctx, 1, rows, width);
}

/// sum_j coefficients[j] K(x, sv_j) + rho (or x . coefficients + rho without
/// support vectors); one_class gives +1/-1.
absl::Status kSVMRegressor(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(Rows r, readRows(ctx, 0));
  ONNXOPT_ASSIGN_OR_RETURN(SvmKernel kern, readSvmKernel(ctx));
  ONNXOPT_ASSIGN_OR_RETURN(Post post, readPost(ctx));
  int64_t nsv = ctx.attrInt("n_supports", 0);
  std::vector<float> sv = ctx.attrFloats("support_vectors");
  std::vector<float> coef = ctx.attrFloats("coefficients");
  std::vector<float> rho = ctx.attrFloats("rho");
  bool oneClass = ctx.attrInt("one_class", 0) != 0;
  if (rho.empty())
    return ctx.error("rho is required");
  if (nsv > 0 ? (nsv > int64_t(sv.size()) || int64_t(sv.size()) % nsv != 0 ||
                 int64_t(sv.size()) / nsv != r.c || int64_t(coef.size()) < nsv)
              : int64_t(coef.size()) != r.c)
    return ctx.error(
        absl::StrCat("SVM regressor attributes do not agree: ", nsv,
                     " support vectors (", sv.size(), " values) of ", r.c,
                     " features, ", coef.size(), " coefficients"));
  if (nsv == 0)
    kern.type = SvmKernel::Linear;
  std::vector<std::vector<double>> rows(size_t(r.n));
  for (int64_t i = 0; i < r.n; ++i) {
    const double *x = &r.x[size_t(i * r.c)];
    double sum = 0;
    if (nsv > 0)
      for (int64_t v = 0; v < nsv; ++v)
        sum += double(coef[size_t(v)]) * kern(x, &sv[size_t(v * r.c)], r.c);
    else
      sum = kern(x, coef.data(), r.c);
    sum = float(sum + rho[0]);
    if (oneClass)
      sum = sum > 0 ? 1.0 : -1.0;
    rows[size_t(i)] = {sum};
    applyPost(rows[size_t(i)], post);
  }
  return writeScores(ctx, 0, rows, 1);
}

// ---------------------------------------------------------------- trees

/// A tree ensemble decoded from its nodes_* and class_*/target_* tuples.
struct Ensemble {
  enum Mode : uint8_t { Leq, Lt, Gte, Gt, Eq, Neq, Leaf };
  struct Node {
    Mode mode = Leaf;
    bool missingTrue = false;
    int64_t feature = 0;
    double value = 0;
    int32_t yes = -1, no = -1;
    /// The node's leaf weights: weights[wBegin, wBegin + wCount).
    uint32_t wBegin = 0, wCount = 0;
  };
  std::vector<Node> nodes;
  /// (class or target, weight), grouped by node.
  std::vector<std::pair<int64_t, double>> weights;
  std::vector<int32_t> roots; // in tree id order
  int64_t maxFeature = -1;

  template <class Fn> void forEachWeight(const Node &n, Fn fn) const {
    for (uint32_t i = 0; i < n.wCount; ++i)
      fn(weights[n.wBegin + i].first, weights[n.wBegin + i].second);
  }

  /// The leaf row x reaches in the tree at `root`.
  const Node &leaf(int32_t root, const double *x) const {
    const Node *n = &nodes[size_t(root)];
    while (n->mode != Leaf) {
      double v = x[n->feature];
      bool go;
      if (std::isnan(v) && n->missingTrue) {
        go = true;
      } else {
        switch (n->mode) {
        case Leq:
          go = v <= n->value;
          break;
        case Lt:
          go = v < n->value;
          break;
        case Gte:
          go = v >= n->value;
          break;
        case Gt:
          go = v > n->value;
          break;
        case Eq:
          go = v == n->value;
          break;
        default:
          go = v != n->value;
          break;
        }
      }
      n = &nodes[size_t(go ? n->yes : n->no)];
    }
    return *n;
  }
};

/// Decodes and checks the tuples: every child exists in its tree, every
/// tree is acyclic (checked here, so evaluation always terminates), leaf
/// weights name leaves, and ids fit `outputs`.
absl::StatusOr<Ensemble> readEnsemble(const KernelContext &ctx,
                                      std::string_view prefix,
                                      int64_t outputs) {
  Ensemble e;
  const std::vector<int64_t> &tree = intsOf(ctx, "nodes_treeids"),
                             &id = intsOf(ctx, "nodes_nodeids"),
                             &feat = intsOf(ctx, "nodes_featureids"),
                             &yes = intsOf(ctx, "nodes_truenodeids"),
                             &no = intsOf(ctx, "nodes_falsenodeids"),
                             &miss =
                                 intsOf(ctx, "nodes_missing_value_tracks_true");
  const std::vector<std::string> &modes = stringsOf(ctx, "nodes_modes");
  std::vector<double> values = attrReals(ctx, "nodes_values");
  size_t n = tree.size();
  if (id.size() != n || feat.size() != n || modes.size() != n ||
      yes.size() != n || no.size() != n ||
      (!values.empty() && values.size() != n) ||
      (!miss.empty() && miss.size() != n))
    return ctx.error("the nodes_* attributes differ in length");
  // (tree, node id) -> position. Converters write each tree's nodes as one
  // block numbered 0, 1, ...: then the position is the block's start plus
  // the id, and no table is needed (a 500-tree forest has ~10^5 nodes and
  // is decoded on every evaluation). Anything else goes through a table.
  absl::flat_hash_map<int64_t, int64_t> blockStart;
  bool blocks = true;
  for (size_t i = 0; i < n && blocks; ++i) {
    if (id[i] == 0)
      blocks = blockStart.emplace(tree[i], int64_t(i)).second;
    else
      blocks = i > 0 && tree[i - 1] == tree[i] && id[i - 1] == id[i] - 1;
  }
  absl::flat_hash_map<std::pair<int64_t, int64_t>, int32_t> table;
  if (!blocks) {
    table.reserve(n);
    for (size_t i = 0; i < n; ++i)
      if (!table.emplace(std::make_pair(tree[i], id[i]), int32_t(i)).second)
        return ctx.error(
            absl::StrCat("node ", id[i], " appears twice in tree ", tree[i]));
  }
  auto find = [&](int64_t t, int64_t node) -> int32_t {
    if (!blocks) {
      auto it = table.find({t, node});
      return it == table.end() ? -1 : it->second;
    }
    auto it = blockStart.find(t);
    if (it == blockStart.end() || node < 0)
      return -1;
    int64_t at = it->second + node;
    return at < int64_t(n) && tree[size_t(at)] == t && id[size_t(at)] == node
               ? int32_t(at)
               : -1;
  };
  e.nodes.resize(n);
  std::vector<bool> isChild(n, false);
  for (size_t i = 0; i < n; ++i) {
    Ensemble::Node &nd = e.nodes[i];
    static const std::pair<const char *, Ensemble::Mode> kModes[] = {
        {"BRANCH_LEQ", Ensemble::Leq}, {"LEAF", Ensemble::Leaf},
        {"BRANCH_LT", Ensemble::Lt},   {"BRANCH_GTE", Ensemble::Gte},
        {"BRANCH_GT", Ensemble::Gt},   {"BRANCH_EQ", Ensemble::Eq},
        {"BRANCH_NEQ", Ensemble::Neq}};
    bool known = false;
    for (const auto &[name, m] : kModes)
      if (modes[i] == name) {
        nd.mode = m;
        known = true;
        break;
      }
    if (!known)
      return ctx.error(absl::StrCat("unknown node mode '", modes[i], "'"));
    nd.value = values.empty() ? 0 : values[i];
    nd.missingTrue = !miss.empty() && miss[i] != 0;
    nd.feature = feat[i];
    if (nd.mode == Ensemble::Leaf)
      continue;
    if (feat[i] < 0)
      return ctx.error("negative feature id");
    e.maxFeature = std::max(e.maxFeature, feat[i]);
    // In a block, a child is at the block's start (i - id) plus its id.
    int32_t y, f;
    if (blocks) {
      auto inBlock = [&](int64_t child) -> int32_t {
        int64_t at = int64_t(i) - id[i] + child;
        return child >= 0 && at < int64_t(n) && tree[size_t(at)] == tree[i] &&
                       id[size_t(at)] == child
                   ? int32_t(at)
                   : -1;
      };
      y = inBlock(yes[i]);
      f = inBlock(no[i]);
    } else {
      y = find(tree[i], yes[i]);
      f = find(tree[i], no[i]);
    }
    if (y < 0 || f < 0)
      return ctx.error(absl::StrCat("node ", id[i], " of tree ", tree[i],
                                    " has a child that does not exist"));
    nd.yes = y;
    nd.no = f;
    isChild[size_t(nd.yes)] = isChild[size_t(nd.no)] = true;
  }
  // Roots: nodes no node points to, one per tree, in tree id order.
  std::map<int64_t, int32_t> rootOf;
  for (size_t i = 0; i < n; ++i)
    if (!isChild[i] && !rootOf.emplace(tree[i], int32_t(i)).second)
      return ctx.error(absl::StrCat("tree ", tree[i], " has two roots"));
  absl::flat_hash_set<int64_t> trees(tree.begin(), tree.end());
  if (rootOf.size() != trees.size())
    return ctx.error("a tree has no root (its nodes form a cycle)");
  for (const auto &[t, r] : rootOf)
    e.roots.push_back(r);
  // Acyclic: a depth-first walk from each root visits each node once.
  std::vector<uint8_t> seen(n, 0);
  for (int32_t r : e.roots) {
    std::vector<int32_t> stack = {r};
    while (!stack.empty()) {
      int32_t k = stack.back();
      stack.pop_back();
      if (seen[size_t(k)]++)
        return ctx.error(absl::StrCat("tree ", tree[size_t(k)],
                                      " is not a tree: node ", id[size_t(k)],
                                      " is reached twice"));
      if (e.nodes[size_t(k)].mode != Ensemble::Leaf) {
        stack.push_back(e.nodes[size_t(k)].yes);
        stack.push_back(e.nodes[size_t(k)].no);
      }
    }
  }
  std::string p(prefix);
  const std::vector<int64_t> &wt = intsOf(ctx, p + "_treeids"),
                             &wn = intsOf(ctx, p + "_nodeids"),
                             &wi = intsOf(ctx, p + "_ids");
  std::vector<double> ww = attrReals(ctx, p + "_weights");
  if (wn.size() != wt.size() || wi.size() != wt.size() ||
      ww.size() != wt.size())
    return ctx.error(absl::StrCat("the ", p, "_* attributes differ in length"));
  // Grouped by node with a counting sort, keeping each node's order.
  std::vector<int32_t> at(wt.size());
  for (size_t i = 0; i < wt.size(); ++i) {
    at[i] = find(wt[i], wn[i]);
    if (at[i] < 0)
      return ctx.error(absl::StrCat(p, " weight ", i, " names node ", wn[i],
                                    " of tree ", wt[i],
                                    ", which does not exist"));
    if (wi[i] < 0 || wi[i] >= outputs)
      return ctx.error(absl::StrCat(p, " id ", wi[i], " is out of range [0, ",
                                    outputs, ")"));
    ++e.nodes[size_t(at[i])].wCount;
  }
  uint32_t next = 0;
  for (Ensemble::Node &nd : e.nodes) {
    nd.wBegin = next;
    next += nd.wCount;
    nd.wCount = 0;
  }
  e.weights.resize(wt.size());
  for (size_t i = 0; i < wt.size(); ++i) {
    Ensemble::Node &nd = e.nodes[size_t(at[i])];
    e.weights[nd.wBegin + nd.wCount++] = {wi[i], ww[i]};
  }
  return e;
}

absl::StatusOr<Rows> ensembleRows(KernelContext &ctx, const Ensemble &e) {
  ONNXOPT_ASSIGN_OR_RETURN(Rows r, readRows(ctx, 0));
  if (e.maxFeature >= r.c)
    return ctx.error(absl::StrCat("a node reads feature ", e.maxFeature,
                                  " of rows of ", r.c));
  return r;
}

absl::Status kTreeEnsembleClassifier(KernelContext &ctx) {
  Labels labels = readLabels(ctx);
  int64_t k = int64_t(labels.size());
  if (k < 2)
    return ctx.error("at least two class labels are required");
  ONNXOPT_ASSIGN_OR_RETURN(Ensemble e, readEnsemble(ctx, "class", k));
  ONNXOPT_ASSIGN_OR_RETURN(Rows r, ensembleRows(ctx, e));
  ONNXOPT_RETURN_IF_ERROR(ctx.checkOutput(DataType::Float, {r.n, k}));
  ONNXOPT_ASSIGN_OR_RETURN(Post post, readPost(ctx));
  std::vector<double> base = attrReals(ctx, "base_values");
  // ONNX Runtime's binary case: two labels and weights for one class only
  // (skl2onnx writes the positive class's probability alone).
  const auto &ws = e.weights;
  bool oneClass =
      !ws.empty() && std::all_of(ws.begin(), ws.end(), [&](const auto &w) {
        return w.first == ws[0].first;
      });
  bool binaryCase = k == 2 && oneClass;
  bool allPositive = std::all_of(ws.begin(), ws.end(),
                                 [](const auto &w) { return w.second >= 0; });
  std::vector<std::vector<double>> rows(size_t(r.n));
  std::vector<size_t> lab(size_t(r.n));
  for (int64_t i = 0; i < r.n; ++i) {
    std::vector<double> s(size_t(k), 0.0);
    std::vector<uint8_t> has(size_t(k), 0);
    for (int32_t root : e.roots)
      e.forEachWeight(e.leaf(root, &r.x[size_t(i * r.c)]),
                      [&](int64_t c, double w) {
                        s[size_t(c)] += w;
                        has[size_t(c)] = 1;
                      });
    int second = -1;
    if (k > 2) {
      for (size_t c = 0; c < base.size() && c < s.size(); ++c) {
        s[c] += base[c];
        has[c] = 1;
      }
      size_t best = 0;
      bool any = false;
      for (size_t c = 0; c < s.size(); ++c)
        if (has[c] && (!any || s[c] > s[best])) {
          best = c;
          any = true;
        }
      lab[size_t(i)] = best;
    } else {
      if (base.size() == 2) {
        s[0] += base[0];
        s[1] += base[1];
      } else if (base.size() == 1) {
        s[0] += base[0];
      } else if (base.empty()) {
        second = 3;
      }
      if (!has[1] && (base.size() != 2 || binaryCase))
        s.pop_back();
      double pos = has[1] ? s[1] : (has[0] ? s[0] : 0);
      if (binaryCase) {
        if (allPositive) {
          lab[size_t(i)] = pos > 0.5 ? 1 : 0;
          second = pos > 0.5 ? 0 : 1;
        } else {
          lab[size_t(i)] = pos > 0 ? 1 : 0;
          second = pos > 0 ? 2 : 3;
        }
      } else {
        lab[size_t(i)] = pos > 0 ? 1 : 0;
      }
    }
    for (double &v : s)
      v = float(v);
    applyPost(s, post, second);
    rows[size_t(i)] = std::move(s);
  }
  ONNXOPT_RETURN_IF_ERROR(writeLabels(
      ctx, 0, labels, r.n, [&](int64_t i) { return lab[size_t(i)]; }));
  return writeScores(ctx, 1, rows, k);
}

absl::Status kTreeEnsembleRegressor(KernelContext &ctx) {
  int64_t t = ctx.attrInt("n_targets", 1);
  if (t <= 0 || t > (int64_t(1) << 20))
    return ctx.error("n_targets must be in [1, 2^20]");
  ONNXOPT_ASSIGN_OR_RETURN(Ensemble e, readEnsemble(ctx, "target", t));
  ONNXOPT_ASSIGN_OR_RETURN(Rows r, ensembleRows(ctx, e));
  ONNXOPT_RETURN_IF_ERROR(ctx.checkOutput(DataType::Float, {r.n, t}));
  ONNXOPT_ASSIGN_OR_RETURN(Post post, readPost(ctx));
  std::vector<double> base = attrReals(ctx, "base_values");
  std::string agg = ctx.attrString("aggregate_function", "SUM");
  if (agg != "SUM" && agg != "AVERAGE" && agg != "MIN" && agg != "MAX")
    return ctx.error(absl::StrCat("unknown aggregate_function '", agg, "'"));
  std::vector<std::vector<double>> rows(size_t(r.n));
  double trees = double(e.roots.size());
  for (int64_t i = 0; i < r.n; ++i) {
    std::vector<double> s(size_t(t), 0.0);
    std::vector<uint8_t> has(size_t(t), 0);
    for (int32_t root : e.roots)
      e.forEachWeight(e.leaf(root, &r.x[size_t(i * r.c)]),
                      [&](int64_t c, double w) {
                        double &v = s[size_t(c)];
                        if (agg == "MIN")
                          v = has[size_t(c)] ? std::min(v, w) : w;
                        else if (agg == "MAX")
                          v = has[size_t(c)] ? std::max(v, w) : w;
                        else
                          v += w;
                        has[size_t(c)] = 1;
                      });
    for (size_t c = 0; c < s.size(); ++c) {
      if (agg == "AVERAGE")
        s[c] /= trees;
      if (base.size() == s.size())
        s[c] += base[c];
      else if (base.size() == 1 && t == 1)
        s[c] += base[0];
      s[c] = float(s[c]);
    }
    applyPost(s, post);
    rows[size_t(i)] = std::move(s);
  }
  return writeScores(ctx, 0, rows, t);
}

/// Float [N, C] -> a sequence of N maps from the C class labels.
absl::Status kZipMap(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *x, ctx.required(0));
  if (x->dtype() != DataType::Float)
    return ctx.unsupportedType(x->dtype());
  std::vector<std::string> ls = stringsOf(ctx, "classlabels_strings");
  std::vector<int64_t> li = ctx.attrInts("classlabels_int64s");
  bool strKeys = !ls.empty();
  int64_t k = int64_t(strKeys ? ls.size() : li.size());
  const auto &d = x->dims();
  int64_t n = d.size() == 2 ? d[0] : 1;
  int64_t c = d.empty() ? 1 : d.back();
  if (d.size() > 2 || c != k)
    return ctx.error(
        absl::StrCat("input of ", c, " columns for ", k, " class labels"));
  TensorPtr keys;
  if (strKeys)
    keys = std::make_shared<Tensor>(Tensor::fromStrings({k}, ls));
  else
    keys = makeInt64s(li, {k});
  View<float> all(*x);
  std::vector<RefValue> maps;
  maps.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    NewTensor v(DataType::Float, {k});
    std::copy(all.data() + i * k, all.data() + (i + 1) * k, v.data<float>());
    maps.push_back(RefValue::ofMap(keys, v.finish()));
  }
  const Value *out = ctx.node().output(0);
  ctx.setOutputValue(
      0, RefValue::ofMapSequence(std::move(maps), out && out->type().inner()
                                                      ? *out->type().inner()
                                                      : Type()));
  return absl::OkStatus();
}

} // namespace

void registerMLKernels(KernelMap &m) {
  m["ai.onnx.ml.ArrayFeatureExtractor"] = kArrayFeatureExtractor;
  m["ai.onnx.ml.Binarizer"] = kBinarizer;
  m["ai.onnx.ml.CastMap"] = kCastMap;
  m["ai.onnx.ml.CategoryMapper"] = kCategoryMapper;
  m["ai.onnx.ml.DictVectorizer"] = kDictVectorizer;
  m["ai.onnx.ml.FeatureVectorizer"] = kFeatureVectorizer;
  m["ai.onnx.ml.Imputer"] = kImputer;
  m["ai.onnx.ml.LabelEncoder"] = kLabelEncoder;
  m["ai.onnx.ml.LinearClassifier"] = kLinearClassifier;
  m["ai.onnx.ml.LinearRegressor"] = kLinearRegressor;
  m["ai.onnx.ml.Normalizer"] = kNormalizer;
  m["ai.onnx.ml.OneHotEncoder"] = kOneHotEncoder;
  m["ai.onnx.ml.Scaler"] = kScaler;
  m["ai.onnx.ml.SVMClassifier"] = kSVMClassifier;
  m["ai.onnx.ml.SVMRegressor"] = kSVMRegressor;
  m["ai.onnx.ml.TreeEnsembleClassifier"] = kTreeEnsembleClassifier;
  m["ai.onnx.ml.TreeEnsembleRegressor"] = kTreeEnsembleRegressor;
  m["ai.onnx.ml.ZipMap"] = kZipMap;
}

} // namespace onnxopt::ref
