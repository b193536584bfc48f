// The reference interpreter: scopes, value lifetimes, kernel lookup.
#include "backends/reference/Evaluator.h"

#include "backends/reference/KernelTable.h"
#include "ir/NchwcLayout.h"
#include "utils/CheckedMath.h"
#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace onnxopt::ref {

// ------------------------------------------------------------------ kernels

static const KernelMap &kernels() {
  static const KernelMap table = [] {
    KernelMap m;
    registerElementwiseKernels(m);
    registerShapeKernels(m);
    registerReduceKernels(m);
    registerNNKernels(m);
    registerControlFlowKernels(m);
    registerRnnKernels(m);
    registerMiscKernels(m);
    registerDetectionKernels(m);
    registerSequenceKernels(m);
    registerEinsumKernels(m);
    registerContribKernels(m);
    registerNchwcKernels(m);
    registerMLKernels(m);
    return m;
  }();
  return table;
}

Kernel findKernel(const Node &n) {
  // Other domains have no schema in ONNX's registry (opaque ops): their
  // kernels are found by domain and type.
  if (!isDefaultDomain(n.op().domain)) {
    auto it = kernels().find(absl::StrCat(n.op().domain, ".", n.op().type));
    return it == kernels().end() ? nullptr : it->second;
  }
  if (n.op().isOpaque())
    return nullptr;
  auto it = kernels().find(n.op().type);
  return it == kernels().end() ? nullptr : it->second;
}

Kernel kernelNamed(std::string_view key) {
  auto it = kernels().find(key);
  return it == kernels().end() ? nullptr : it->second;
}

bool canEvaluate(const Node &n) {
  if (!findKernel(n))
    return false;
  for (const Graph *sub : n.subgraphs())
    for (const Node *inner : sub->nodes())
      if (!canEvaluate(*inner))
        return false;
  return true;
}

std::vector<std::string> supportedOps() {
  std::vector<std::string> out;
  for (const auto &[name, k] : kernels())
    out.push_back(name);
  return out;
}

// ------------------------------------------------------------------ context

static std::string nodeWhat(const Node &n) {
  return absl::StrCat("node '", n.name, "' (", n.op().type, ")");
}

absl::StatusOr<const Tensor *> KernelContext::required(size_t i) const {
  if (const Tensor *t = input(i))
    return t;
  return error(absl::StrCat("input ", i, " is missing or not a tensor"));
}

int64_t KernelContext::attrInt(std::string_view name, int64_t dflt) const {
  const Attribute *a = node_.attr(name);
  return a && a->kind == AttrKind::Int ? a->i : dflt;
}
float KernelContext::attrFloat(std::string_view name, float dflt) const {
  const Attribute *a = node_.attr(name);
  return a && a->kind == AttrKind::Float ? a->f : dflt;
}
std::string KernelContext::attrString(std::string_view name,
                                      std::string dflt) const {
  const Attribute *a = node_.attr(name);
  return a && a->kind == AttrKind::String ? a->s : dflt;
}
std::vector<int64_t> KernelContext::attrInts(std::string_view name) const {
  const Attribute *a = node_.attr(name);
  return a ? a->ints : std::vector<int64_t>();
}
std::vector<float> KernelContext::attrFloats(std::string_view name) const {
  const Attribute *a = node_.attr(name);
  return a ? a->floats : std::vector<float>();
}

absl::StatusOr<NewTensor>
KernelContext::allocate(DataType dtype,
                        const std::vector<int64_t> &dims) const {
  ONNXOPT_RETURN_IF_ERROR(checkOutput(dtype, dims));
  return NewTensor(dtype, dims);
}

absl::Status
KernelContext::checkOutput(DataType dtype,
                           const std::vector<int64_t> &dims) const {
  for (int64_t d : dims)
    if (d < 0)
      return error(absl::StrCat("negative output dimension ", d));
  auto n = checkedProduct(dims);
  size_t es = dtype == DataType::String
                  ? sizeof(std::string)
                  : std::max<size_t>(elementSize(dtype), 1);
  auto bytes = n ? checkedMul(*n, int64_t(es)) : std::nullopt;
  if (!bytes || uint64_t(*bytes) > ev_.limits().maxTensorBytes)
    return limitExceeded(nodeWhat(node_), ": output of ",
                         n ? absl::StrCat(*n) : std::string("overflowing"),
                         " elements is over the evaluation limit of ",
                         ev_.limits().maxTensorBytes, " bytes");
  return absl::OkStatus();
}

absl::Status KernelContext::error(std::string_view what) const {
  return invalidInput(nodeWhat(node_), ": ", std::string(what));
}

absl::Status KernelContext::unsupportedType(DataType t) const {
  return unsupported(nodeWhat(node_), ": element type ", dataTypeName(t),
                     " is not supported by the reference interpreter");
}

const EvalLimits &KernelContext::limits() const { return ev_.limits(); }
// ------------------------------------------------------------------ running

struct Evaluator::Scope {
  Scope *parent = nullptr;
  // Looked up by pointer, never iterated.
  absl::flat_hash_map<const Value *, RefValue> values;
  const RefValue *lookup(const Value *v) const {
    for (const Scope *s = this; s; s = s->parent)
      if (auto it = s->values.find(v); it != s->values.end())
        return &it->second;
    return nullptr;
  }
};

absl::StatusOr<std::vector<RefValue>>
KernelContext::runSubgraph(const Graph &body, std::vector<RefValue> inputs) {
  return ev_.runInScope(body, std::move(inputs), ev_.current_);
}

absl::StatusOr<std::vector<RefValue>>
Evaluator::run(const Graph &g, std::vector<RefValue> inputs) {
  return runInScope(g, std::move(inputs), nullptr);
}

absl::StatusOr<std::vector<RefValue>>
Evaluator::runInScope(const Graph &g, std::vector<RefValue> inputs,
                      Scope *parent) {
  if (inputs.size() > g.numInputs())
    return invalidInput("graph '", g.name, "' takes ", g.numInputs(),
                        " inputs but got ", inputs.size());
  Scope scope;
  scope.parent = parent;
  Scope *saved = current_;
  current_ = &scope;
  struct Restore {
    Evaluator *ev;
    Scope *saved;
    ~Restore() { ev->current_ = saved; }
  } restore{this, saved};

  for (size_t i = 0; i < g.numInputs(); ++i) {
    const Value *in = g.input(i);
    RefValue v = i < inputs.size() ? std::move(inputs[i]) : RefValue();
    if (v.kind == RefValue::Kind::Absent && in->tensor())
      v = RefValue::of(in->tensor());
    if (v.kind == RefValue::Kind::Absent)
      return invalidInput("graph input '", in->name(), "' has no value");
    scope.values[in] = std::move(v);
  }

  // Free each value after the last node (of this graph) that uses it, so big
  // models run in the memory of their live activations.
  absl::flat_hash_map<const Node *, size_t> index;
  size_t count = 0;
  for (const Node *n : g.nodes())
    index[n] = count++;
  std::vector<std::vector<const Value *>> freeAfter(count);
  auto planFree = [&](const Value *v) {
    size_t last = 0;
    bool any = false;
    for (Use *u = v->firstUse(); u; u = u->nextUse()) {
      if (!u->user())
        return; // a graph output: kept
      const Node *user = u->user();
      while (user && user->graph() != &g)
        user = user->graph()->parentNode();
      if (!user)
        return;
      last = std::max(last, index[user]);
      any = true;
    }
    if (any)
      freeAfter[last].push_back(v);
  };

  std::vector<RefValue> constants;
  std::vector<const RefValue *> ins;
  size_t i = 0;
  for (const Node *n : g.nodes()) {
    Kernel k = findKernel(*n);
    if (!k)
      return unsupported(
          nodeWhat(*n), ": the reference interpreter has no kernel for ",
          n->op().domain.empty() ? "" : n->op().domain + ".", n->op().type);
    constants.clear();
    constants.reserve(n->numInputs());
    ins.clear();
    for (size_t j = 0; j < n->numInputs(); ++j) {
      const Value *v = n->input(j);
      if (!v) {
        ins.push_back(nullptr);
        continue;
      }
      if (v->isConstant()) {
        if (!v->tensor())
          return unsupported(nodeWhat(*n), ": input '", v->name(),
                             "' is a sparse initializer");
        constants.push_back(RefValue::of(v->tensor()));
        ins.push_back(&constants.back());
        continue;
      }
      const RefValue *rv = scope.lookup(v);
      if (!rv)
        return absl::InternalError(absl::StrCat(nodeWhat(*n), ": input '",
                                                v->name(), "' has no value"));
      ins.push_back(rv);
    }
    KernelContext ctx(*n, ins, *this);
    ONNXOPT_RETURN_IF_ERROR(k(ctx));
    for (size_t j = 0; j < n->numOutputs(); ++j) {
      const Value *out = n->output(j);
      if (!out)
        continue;
      RefValue &rv = ctx.outputs()[j];
      if (rv.kind == RefValue::Kind::Absent)
        return absl::InternalError(absl::StrCat(
            nodeWhat(*n), ": the kernel did not produce output ", j));
      if (!parent && limits_.onResult)
        limits_.onResult(*out, rv);
      scope.values[out] = std::move(rv);
      planFree(out);
    }
    for (const Value *v : freeAfter[i])
      scope.values.erase(v);
    ++i;
  }

  std::vector<RefValue> outs;
  for (size_t j = 0; j < g.numOutputs(); ++j) {
    const Value *v = g.output(j);
    if (v->isConstant()) {
      outs.push_back(RefValue::of(v->tensor()));
      continue;
    }
    const RefValue *rv = scope.lookup(v);
    if (!rv)
      return absl::InternalError(
          absl::StrCat("graph output '", g.outputName(j), "' has no value"));
    outs.push_back(*rv);
  }
  return outs;
}

absl::StatusOr<std::vector<RefValue>>
Evaluator::runNode(const Node &n, const std::vector<const RefValue *> &inputs) {
  Kernel k = findKernel(n);
  if (!k)
    return unsupported(nodeWhat(n), ": no reference kernel");
  KernelContext ctx(n, inputs, *this);
  ONNXOPT_RETURN_IF_ERROR(k(ctx));
  return std::move(ctx.outputs());
}

absl::StatusOr<std::vector<RefValue>>
evaluateModel(const Model &m, std::vector<RefValue> inputs, EvalLimits limits) {
  if (!limits.nchwcBlockSize)
    for (const auto &[key, value] : m.metadata)
      if (key == nchwc::kBlockSizeKey &&
          !absl::SimpleAtoi(value, &limits.nchwcBlockSize))
        return absl::InvalidArgumentError(absl::StrCat(
            "metadata ", key, " is not a block size: '", value, "'"));
  Evaluator ev(limits);
  return ev.run(*m.graph, std::move(inputs));
}

} // namespace onnxopt::ref
