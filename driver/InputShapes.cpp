// --input-shape and --dynamic-dim.
#include "driver/InputShapes.h"

#include "passes/PassManager.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace onnxopt {

namespace {

absl::Status usage(const std::string &flag, const std::string &text,
                   const std::string &why) {
  return absl::FailedPreconditionError(
      absl::StrCat(flag, ": '", text, "': ", why));
}

bool isSymbol(std::string_view s) {
  if (s.empty() ||
      !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

Value *findInput(Graph &g, const std::string &name, const std::string &flag,
                 absl::Status &st) {
  std::vector<std::string> names;
  for (size_t i = 0; i < g.numInputs(); ++i) {
    if (g.input(i)->name() == name)
      return g.input(i);
    names.push_back(g.input(i)->name());
  }
  st = absl::FailedPreconditionError(
      absl::StrCat(flag, ": the model has no input '", name,
                   "' (inputs: ", absl::StrJoin(names, ", "), ")"));
  return nullptr;
}

std::string dimText(const Dim &d) {
  return d.isConstant() ? std::to_string(d.value())
         : d.isSymbol() ? d.symbol()
                        : "?";
}

std::string shapeText(const std::vector<Dim> &dims) {
  std::vector<std::string> parts;
  for (const Dim &d : dims)
    parts.push_back(dimText(d));
  return "[" + absl::StrJoin(parts, ",") + "]";
}

/// Replaces symbol dims by their fixed values in `t`.
Type substitute(const Type &t,
                const absl::flat_hash_map<std::string, int64_t> &fixed) {
  if (!t.isTensor() || !t.shape())
    return t;
  std::vector<Dim> dims = *t.shape();
  for (Dim &d : dims)
    if (d.isSymbol())
      if (auto it = fixed.find(d.symbol()); it != fixed.end())
        d = Dim::constant(it->second);
  Type out = t;
  out.setShape(std::move(dims));
  return out;
}

} // namespace

absl::StatusOr<InputShapeSpec> parseInputShape(std::string_view sv) {
  const std::string flag = "--input-shape", text(sv);
  size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0)
    return usage(flag, text, "expected NAME=DIMS (e.g. x=1x3x224x224)");
  InputShapeSpec spec;
  spec.input = std::string(text.substr(0, eq));
  std::string dims = text.substr(eq + 1);
  // Dims separated by ',' when there is one (symbols may contain 'x').
  std::vector<std::string> parts = dims.find(',') != std::string::npos
                                       ? absl::StrSplit(dims, ',')
                                       : absl::StrSplit(dims, 'x');
  for (const std::string &p : parts) {
    int64_t v;
    if (p == "?")
      spec.dims.emplace_back();
    else if (absl::SimpleAtoi(p, &v) && v >= 0)
      spec.dims.push_back(Dim::constant(v));
    else if (isSymbol(p))
      spec.dims.push_back(Dim::symbol(p));
    else
      return usage(flag, text,
                   absl::StrCat("'", p, "' is not a size, a symbol or ?"));
  }
  return spec;
}

absl::StatusOr<DynamicDimSpec> parseDynamicDim(std::string_view sv) {
  const std::string flag = "--dynamic-dim", text(sv);
  size_t colon = text.rfind(':'), eq = text.rfind('=');
  if (colon == std::string::npos || eq == std::string::npos || colon == 0 ||
      eq < colon)
    return usage(flag, text, "expected NAME:AXIS=SYMBOL (e.g. x:0=batch)");
  DynamicDimSpec spec;
  spec.input = std::string(text.substr(0, colon));
  if (!absl::SimpleAtoi(
          absl::string_view(text).substr(colon + 1, eq - colon - 1),
          &spec.axis))
    return usage(flag, text, "the axis is not an integer");
  spec.symbol = std::string(text.substr(eq + 1));
  if (!isSymbol(spec.symbol))
    return usage(flag, text, "the symbol must be a name such as batch");
  return spec;
}

absl::StatusOr<std::pair<std::string, DataType>>
parseInputType(std::string_view sv) {
  const std::string flag = "--input-type", text(sv);
  size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0)
    return usage(flag, text, "expected NAME=DTYPE (e.g. ids=int64)");
  auto dt = parseDataTypeName(std::string_view(text).substr(eq + 1));
  if (!dt)
    return usage(flag, text,
                 "unknown element type (float, int64, bool, float16, ...)");
  return std::make_pair(text.substr(0, eq), *dt);
}

absl::Status applyInputShapes(Model &m,
                              const std::vector<InputShapeSpec> &shapes,
                              const std::vector<DynamicDimSpec> &dynamic) {
  if (shapes.empty() && dynamic.empty())
    return absl::OkStatus();
  Graph &g = *m.graph;
  absl::flat_hash_map<std::string, int64_t> fixed;
  absl::flat_hash_set<std::string> newSymbols;
  absl::Status st;
  for (const InputShapeSpec &s : shapes) {
    Value *in = findInput(g, s.input, "--input-shape", st);
    if (!in)
      return st;
    Type t = in->type();
    if (!t.isTensor())
      return absl::FailedPreconditionError(
          absl::StrCat("--input-shape: input '", s.input, "' is not a tensor"));
    if (t.shape() && t.shape()->size() != s.dims.size())
      return absl::FailedPreconditionError(absl::StrCat(
          "--input-shape: input '", s.input, "' has rank ", t.shape()->size(),
          " ", shapeText(*t.shape()), ", not ", s.dims.size()));
    for (size_t i = 0; t.shape() && i < s.dims.size(); ++i) {
      const Dim &was = (*t.shape())[i], &want = s.dims[i];
      if (was.isConstant() &&
          !(want.isConstant() && want.value() == was.value()))
        return absl::FailedPreconditionError(absl::StrCat(
            "--input-shape: input '", s.input, "' dim ", i, " is ", was.value(),
            " in the model ", shapeText(*t.shape()),
            "; a static dim cannot change (use --dynamic-dim first, or "
            "export with dynamic axes)"));
      if (was.isSymbol() && want.isConstant()) {
        auto [it, fresh] = fixed.try_emplace(was.symbol(), want.value());
        if (!fresh && it->second != want.value())
          return absl::FailedPreconditionError(absl::StrCat(
              "--input-shape: dim '", was.symbol(), "' is fixed to both ",
              it->second, " and ", want.value()));
      }
    }
    t.setShape(s.dims);
    in->setType(std::move(t));
  }
  for (const DynamicDimSpec &d : dynamic) {
    Value *in = findInput(g, d.input, "--dynamic-dim", st);
    if (!in)
      return st;
    Type t = in->type();
    if (!t.isTensor() || !t.shape())
      return absl::FailedPreconditionError(
          absl::StrCat("--dynamic-dim: input '", d.input, "' has no shape"));
    int64_t rank = int64_t(t.shape()->size());
    int64_t axis = d.axis < 0 ? d.axis + rank : d.axis;
    if (axis < 0 || axis >= rank)
      return absl::FailedPreconditionError(
          absl::StrCat("--dynamic-dim: input '", d.input, "' has rank ", rank,
                       "; axis ", d.axis, " is out of range"));
    std::vector<Dim> dims = *t.shape();
    if (dims[size_t(axis)].isSymbol() &&
        dims[size_t(axis)].symbol() != d.symbol)
      return absl::FailedPreconditionError(absl::StrCat(
          "--dynamic-dim: input '", d.input, "' dim ", axis,
          " is already dynamic ('", dims[size_t(axis)].symbol(), "')"));
    if (fixed.contains(d.symbol))
      return absl::FailedPreconditionError(
          absl::StrCat("--dynamic-dim: symbol '", d.symbol,
                       "' is also fixed by --input-shape"));
    dims[size_t(axis)] = Dim::symbol(d.symbol);
    t.setShape(std::move(dims));
    in->setType(std::move(t));
    newSymbols.insert(d.symbol);
  }
  // Re-infer: drop the shapes declared for node results (they describe the
  // old inputs); graph outputs keep theirs with fixed symbols substituted,
  // except when a dim became dynamic (its old size may be baked in there).
  walkGraphs(g, [&](Graph &sub) {
    for (size_t i = 0; i < sub.numInputs(); ++i)
      sub.input(i)->setType(substitute(sub.input(i)->type(), fixed));
    for (Node *n : sub.nodes())
      for (size_t i = 0; i < n->numOutputs(); ++i) {
        Value *v = n->output(i);
        if (!v || !v->type().isTensor())
          continue;
        Type t = substitute(v->type(), fixed);
        if (!v->isGraphOutput() || !newSymbols.empty())
          t.setShape(std::nullopt);
        v->setType(std::move(t));
      }
  });
  auto pipeline = parsePipeline("shape-inference");
  if (!pipeline.ok())
    return pipeline.status();
  PassManager pm(std::move(*pipeline), Instrumentation());
  if (auto ran = pm.run(m); !ran.ok())
    return ran.status();
  // A Reshape of a tensor with a new symbol to a fully static shape bakes in
  // the old size: no other size can reach it. (A -1 that absorbs the symbol
  // is not caught here; --verify with another --verify-shape is.)
  absl::Status baked;
  walkGraphs(g, [&](Graph &sub) {
    for (const Node *n : sub.nodes()) {
      if (!baked.ok() || !n->is("Reshape") || n->numInputs() < 2 ||
          !n->input(0) || !n->input(1) || !n->input(1)->isConstant() ||
          !n->output(0))
        continue;
      const Type &x = n->input(0)->type(), &y = n->output(0)->type();
      if (!x.isTensor() || !x.shape() || !y.isTensor() || !y.shape())
        continue;
      bool fixedSize = true;
      for (const Dim &o : *y.shape())
        fixedSize &= o.isConstant();
      for (const Dim &d : *x.shape()) {
        if (!d.isSymbol() || !newSymbols.contains(d.symbol()))
          continue;
        if (fixedSize)
          baked = absl::InvalidArgumentError(absl::StrCat(
              "--dynamic-dim: node '", n->name, "' (Reshape of '",
              n->input(0)->name(), "' ", shapeText(*x.shape()),
              " to the constant shape '", n->input(1)->name(),
              "') bakes in the size of dim '", d.symbol(),
              "'; it cannot be made dynamic (export the model with dynamic "
              "axes)"));
      }
    }
  });
  return baked;
}

} // namespace onnxopt
