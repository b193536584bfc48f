// Reference kernels with subgraph bodies: If, Loop, Scan.
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

namespace onnxopt::ref {

namespace {

const Graph *graphAttr(const Node &n, std::string_view name) {
  const Attribute *a = n.attr(name);
  return a && a->kind == AttrKind::Graph && !a->graphs.empty()
             ? a->graphs[0].get()
             : nullptr;
}

bool truthy(const Tensor &t) {
  std::vector<double> v = toDoubles(t);
  return !v.empty() && v[0] != 0;
}

/// Stacks same-shaped tensors along a new axis 0.
absl::StatusOr<TensorPtr> stack(KernelContext &ctx,
                                const std::vector<TensorPtr> &parts,
                                const Type &declared) {
  if (parts.empty()) {
    // An empty scan output: shape [0, ...] with the body's declared dims when
    // they are known.
    std::vector<int64_t> dims = {0};
    if (declared.isTensor() && declared.shape())
      for (const Dim &d : *declared.shape())
        dims.push_back(d.isConstant() ? d.value() : 0);
    DataType dt = declared.isTensor() ? declared.elemType() : DataType::Float;
    NewTensor t(dt, dims);
    return t.finish();
  }
  std::vector<int64_t> dims = parts[0]->dims();
  dims.insert(dims.begin(), int64_t(parts.size()));
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out,
                           ctx.allocate(parts[0]->dtype(), dims));
  int64_t each = parts[0]->numElements();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i]->dims() != parts[0]->dims() ||
        parts[i]->dtype() != parts[0]->dtype())
      return ctx.error("scan outputs differ in shape between iterations");
    if (parts[i]->dtype() == DataType::String)
      for (int64_t k = 0; k < each; ++k)
        out.strings()[i * each + k] = parts[i]->strings()[k];
    else
      std::memcpy(out.data<char>() + parts[i]->bytes().size() * i,
                  parts[i]->bytes().data(), parts[i]->bytes().size());
  }
  return out.finish();
}

absl::Status kIf(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *c, ctx.required(0));
  const Graph *body =
      graphAttr(ctx.node(), truthy(*c) ? "then_branch" : "else_branch");
  if (!body)
    return ctx.error("missing branch");
  ONNXOPT_ASSIGN_OR_RETURN(auto outs, ctx.runSubgraph(*body, {}));
  if (outs.size() != ctx.numOutputs())
    return ctx.error("the branch has another number of outputs than the node");
  for (size_t i = 0; i < outs.size(); ++i)
    ctx.setOutputValue(i, std::move(outs[i]));
  return absl::OkStatus();
}

absl::Status kLoop(KernelContext &ctx) {
  const Graph *body = graphAttr(ctx.node(), "body");
  if (!body)
    return ctx.error("missing body");
  std::optional<int64_t> maxTrips;
  if (const Tensor *m = ctx.input(0))
    maxTrips = toInt64s(*m).at(0);
  bool cond = true;
  if (const Tensor *c = ctx.input(1))
    cond = truthy(*c);
  size_t nState = ctx.numInputs() >= 2 ? ctx.numInputs() - 2 : 0;
  if (body->numInputs() != nState + 2 || body->numOutputs() < nState + 1)
    return ctx.error("the body's inputs and outputs do not match the node");
  size_t nScan = body->numOutputs() - 1 - nState;
  std::vector<RefValue> state;
  for (size_t i = 0; i < nState; ++i) {
    if (!ctx.value(i + 2))
      return ctx.error("loop-carried initial value missing");
    state.push_back(*ctx.value(i + 2));
  }
  std::vector<std::vector<TensorPtr>> scans(nScan);
  for (int64_t it = 0; cond && (!maxTrips || it < *maxTrips); ++it) {
    std::vector<RefValue> ins;
    ins.push_back(RefValue::of(makeInt64s({it}, {})));
    NewTensor c(DataType::Bool, {});
    *c.data<uint8_t>() = 1;
    ins.push_back(RefValue::of(c.finish()));
    for (const RefValue &v : state)
      ins.push_back(v);
    ONNXOPT_ASSIGN_OR_RETURN(auto outs, ctx.runSubgraph(*body, std::move(ins)));
    if (!outs[0].isTensor())
      return ctx.error("the body's condition is not a tensor");
    cond = truthy(*outs[0].tensor);
    for (size_t i = 0; i < nState; ++i)
      state[i] = std::move(outs[1 + i]);
    for (size_t i = 0; i < nScan; ++i) {
      if (!outs[1 + nState + i].isTensor())
        return ctx.error("scan output is not a tensor");
      scans[i].push_back(outs[1 + nState + i].tensor);
    }
    if (it > (int64_t(1) << 40))
      return ctx.error("runaway loop");
  }
  for (size_t i = 0; i < nState; ++i)
    ctx.setOutputValue(i, std::move(state[i]));
  for (size_t i = 0; i < nScan; ++i) {
    ONNXOPT_ASSIGN_OR_RETURN(
        TensorPtr t,
        stack(ctx, scans[i], body->output(1 + nState + i)->type()));
    ctx.setOutput(nState + i, t);
  }
  return absl::OkStatus();
}

/// Element `i` along `axis` of `x` (the axis removed).
absl::StatusOr<TensorPtr> sliceAxis(KernelContext &ctx, const Tensor &x,
                                    int64_t axis, int64_t i) {
  std::vector<int64_t> dims = x.dims();
  int64_t outer = product(dims, 0, size_t(axis)), len = dims[axis],
          inner = product(dims, size_t(axis) + 1);
  dims.erase(dims.begin() + axis);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x.dtype(), dims));
  size_t es = elementSize(x.dtype());
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(out.data<char>() + o * inner * es,
                x.bytes().data() + ((o * len + i) * inner) * es, inner * es);
  return out.finish();
}

/// Moves axis 0 of `x` to position `axis`.
absl::StatusOr<TensorPtr> moveAxis0(KernelContext &ctx, const Tensor &x,
                                    int64_t axis) {
  if (axis == 0)
    return std::make_shared<Tensor>(x);
  std::vector<int64_t> dims = x.dims();
  int64_t len = dims[0];
  dims.erase(dims.begin());
  dims.insert(dims.begin() + axis, len);
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(x.dtype(), dims));
  int64_t outer = product(dims, 0, size_t(axis)),
          inner = product(dims, size_t(axis) + 1);
  size_t es = elementSize(x.dtype());
  for (int64_t s = 0; s < len; ++s)
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(out.data<char>() + ((o * len + s) * inner) * es,
                  x.bytes().data() + ((s * outer + o) * inner) * es,
                  inner * es);
  return out.finish();
}

absl::Status kScan(KernelContext &ctx) {
  if (ctx.sinceVersion() < 9)
    return unsupported("node '", ctx.node().name,
                       "' (Scan): opset 8 Scan is not supported by the "
                       "reference interpreter");
  const Graph *body = graphAttr(ctx.node(), "body");
  if (!body)
    return ctx.error("missing body");
  int64_t m = ctx.attrInt("num_scan_inputs", 0);
  int64_t n = int64_t(ctx.numInputs()) - m;
  if (m <= 0 || n < 0 || int64_t(body->numInputs()) != n + m)
    return ctx.error("num_scan_inputs does not match the body");
  int64_t k = int64_t(body->numOutputs()) - n;
  std::vector<int64_t> inAxes = ctx.attrInts("scan_input_axes"),
                       inDirs = ctx.attrInts("scan_input_directions"),
                       outAxes = ctx.attrInts("scan_output_axes"),
                       outDirs = ctx.attrInts("scan_output_directions");
  inAxes.resize(static_cast<size_t>(m), 0);
  inDirs.resize(static_cast<size_t>(m), 0);
  outAxes.resize(static_cast<size_t>(k), 0);
  outDirs.resize(static_cast<size_t>(k), 0);
  std::vector<RefValue> state;
  for (int64_t i = 0; i < n; ++i)
    state.push_back(*ctx.value(static_cast<size_t>(i)));
  int64_t len = -1;
  std::vector<const Tensor *> scanIns;
  for (int64_t j = 0; j < m; ++j) {
    ONNXOPT_ASSIGN_OR_RETURN(const Tensor *t,
                             ctx.required(static_cast<size_t>(n + j)));
    int64_t r = int64_t(t->dims().size());
    if (!normalizeAxis(inAxes[j], r))
      return ctx.error("scan input axis out of range");
    int64_t l = t->dims()[inAxes[j]];
    if (len >= 0 && l != len)
      return ctx.error("scan inputs differ in length");
    len = l;
    scanIns.push_back(t);
  }
  std::vector<std::vector<TensorPtr>> scans(static_cast<size_t>(k));
  for (int64_t s = 0; s < len; ++s) {
    std::vector<RefValue> ins = state;
    for (int64_t j = 0; j < m; ++j) {
      int64_t at = inDirs[j] ? len - 1 - s : s;
      ONNXOPT_ASSIGN_OR_RETURN(TensorPtr sl,
                               sliceAxis(ctx, *scanIns[j], inAxes[j], at));
      ins.push_back(RefValue::of(sl));
    }
    ONNXOPT_ASSIGN_OR_RETURN(auto outs, ctx.runSubgraph(*body, std::move(ins)));
    for (int64_t i = 0; i < n; ++i)
      state[i] = std::move(outs[i]);
    for (int64_t j = 0; j < k; ++j)
      scans[j].push_back(outs[n + j].tensor);
  }
  for (int64_t i = 0; i < n; ++i)
    ctx.setOutputValue(static_cast<size_t>(i), std::move(state[i]));
  for (int64_t j = 0; j < k; ++j) {
    if (outDirs[j])
      std::reverse(scans[j].begin(), scans[j].end());
    ONNXOPT_ASSIGN_OR_RETURN(TensorPtr st,
                             stack(ctx, scans[j], body->output(n + j)->type()));
    int64_t axis = outAxes[j], r = int64_t(st->dims().size());
    if (!normalizeAxis(axis, r))
      return ctx.error("scan output axis out of range");
    ONNXOPT_ASSIGN_OR_RETURN(TensorPtr moved, moveAxis0(ctx, *st, axis));
    ctx.setOutput(static_cast<size_t>(n + j), moved);
  }
  return absl::OkStatus();
}

} // namespace

void registerControlFlowKernels(KernelMap &m) {
  m["If"] = kIf;
  m["Loop"] = kLoop;
  m["Scan"] = kScan;
}

} // namespace onnxopt::ref
