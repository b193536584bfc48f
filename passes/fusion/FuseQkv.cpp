// fuse-qkv: MatMuls of one input by different constant weights (the query,
// key and value projections of attention) become one MatMul by the weights
// side by side, then a Split.
//
// Before:
//   q = MatMul (X, Wq);  qb = Add (q, bq)      # Wq: [K, Nq], bq: [Nq]
//   k = MatMul (X, Wk);  kb = Add (k, bk)
//   v = MatMul (X, Wv);  vb = Add (v, bv)
// After:
//   y = MatMul (X, [Wq | Wk | Wv]);  yb = Add (y, [bq | bk | bv])
//   qb, kb, vb = Split <axis = -1> (yb, [Nq, Nk, Nv])
//
// Preconditions: at least two MatMuls read the same X with 2-D constant
// weights of one float type and the same K; biases are merged only when
// every projection adds a 1-D constant bias of its width as its only user
// (otherwise the Adds stay after the Split). The new nodes go before the
// first projection, which every user of the projections follows.
//
// Numeric: each output element is the same dot product, but a wider GEMM
// may block and sum it in another order (within float rounding).

#include "passes/PatternUtils.h"

#include "absl/container/flat_hash_map.h"

#include <cstring>

namespace onnxopt {

namespace {

/// One projection: its MatMul, its bias Add (or nullptr), and the value its
/// users read.
struct Projection {
  Node *matmul;
  Node *add = nullptr;
  int64_t width = 0;
};

/// Constants side by side along the last axis: [K, N1] | [K, N2] | ...
/// (1-D biases when `k` is 1 and the tensors are 1-D).
std::shared_ptr<const Tensor>
concatColumns(const std::vector<const Tensor *> &parts, int64_t k, bool oneD) {
  DataType dt = parts[0]->dtype();
  size_t es = elementSize(dt);
  int64_t total = 0;
  for (const Tensor *t : parts)
    total += t->numElements() / k;
  std::vector<int64_t> dims =
      oneD ? std::vector<int64_t>{total} : std::vector<int64_t>{k, total};
  std::string bytes(size_t(k * total) * es, '\0');
  size_t col = 0;
  for (const Tensor *t : parts) {
    size_t n = size_t(t->numElements() / k);
    std::string_view src = t->bytes();
    for (int64_t r = 0; r < k; ++r)
      std::memcpy(bytes.data() + (size_t(r) * size_t(total) + col) * es,
                  src.data() + size_t(r) * n * es, n * es);
    col += n;
  }
  return std::make_shared<Tensor>(
      Tensor::fromBytes(dt, std::move(dims), std::move(bytes)));
}

class FuseQkvPass final : public Pass {
public:
  std::string_view argument() const override { return "fuse-qkv"; }
  std::string_view description() const override {
    return "Merge MatMuls of one input by constant weights (QKV "
           "projections) into one MatMul and a Split";
  }
  bool isExact() const override { return false; }

  absl::StatusOr<bool> run(Graph &g, PassContext &ctx) override {
    Rewriter r(g, &ctx.model, argument());
    // Projections by input, in program order of their first MatMul.
    std::vector<Value *> order;
    absl::flat_hash_map<Value *, std::vector<Projection>> groups;
    for (Node *n : g.nodes()) {
      if (!isOp(n, "MatMul") || n->numInputs() != 2 || !n->input(0) ||
          !n->output(0) || !isConstantTensor(n->input(1)))
        continue;
      const Tensor &w = *n->input(1)->tensor();
      if (w.dims().size() != 2 || !isFloatType(w.dtype()))
        continue;
      auto &group = groups[n->input(0)];
      if (group.empty())
        order.push_back(n->input(0));
      const Tensor &first =
          group.empty() ? w : *group[0].matmul->input(1)->tensor();
      if (first.dtype() != w.dtype() || first.dims()[0] != w.dims()[0])
        continue;
      group.push_back({n, biasAdd(*n, w.dims()[1]), w.dims()[1]});
    }
    bool changed = false;
    for (Value *x : order) {
      auto &group = groups[x];
      if (group.size() < 2)
        continue;
      auto split = r.resolve("Split");
      auto matmul = r.resolve("MatMul");
      auto add = r.resolve("Add");
      if (!split.ok() || !matmul.ok() || !add.ok())
        return false;
      merge(r, x, group, *matmul, *add, *split);
      ++numFused;
      changed = true;
    }
    return changed;
  }

private:
  /// The Add of a 1-D constant bias of width `n` that is the MatMul's only
  /// user, or nullptr.
  static Node *biasAdd(const Node &mm, int64_t n) {
    Value *y = mm.output(0);
    if (!isPrivateResult(y))
      return nullptr;
    Node *add = y->firstUse()->user();
    if (!isOp(add, "Add") || add->numInputs() != 2)
      return nullptr;
    Value *b = add->input(0) == y ? add->input(1) : add->input(0);
    if (!isConstantTensor(b) ||
        b->tensor()->dims() != std::vector<int64_t>{n} ||
        b->tensor()->dtype() != mm.input(1)->tensor()->dtype())
      return nullptr;
    return add;
  }

  void merge(Rewriter &r, Value *x, std::vector<Projection> &group,
             const OpId &matmulOp, const OpId &addOp, const OpId &splitOp) {
    Node *first = group[0].matmul;
    int64_t k = first->input(1)->tensor()->dims()[0];
    std::vector<const Tensor *> ws, bs;
    bool biases = true;
    std::vector<int64_t> widths;
    for (const Projection &p : group) {
      ws.push_back(p.matmul->input(1)->tensor().get());
      widths.push_back(p.width);
      biases &= p.add != nullptr;
    }
    Value *w = r.createInitializer("qkv_weight", concatColumns(ws, k, false));
    Node *mm = r.create(matmulOp, {x, w}, 1, first);
    r.setName(mm->output(0), r.freshName("qkv"));
    Value *y = mm->output(0);
    if (biases) {
      for (const Projection &p : group) {
        Value *b = p.add->input(0) == p.matmul->output(0) ? p.add->input(1)
                                                          : p.add->input(0);
        bs.push_back(b->tensor().get());
      }
      Value *b = r.createInitializer("qkv_bias", concatColumns(bs, 1, true));
      Node *a = r.create(addOp, {y, b}, 1, first);
      r.setName(a->output(0), r.freshName("qkv_biased"));
      y = a->output(0);
    }
    Node *split = r.create(splitOp, {y}, group.size(), first);
    r.setAttr(*split, Attribute::makeInt("axis", -1));
    if (splitOp.sinceVersion >= 13)
      r.appendOperand(
          *split, r.createInitializer("qkv_split", makeInt64Tensor(widths)));
    else
      r.setAttr(*split, Attribute::makeInts("split", widths));
    for (size_t i = 0; i < group.size(); ++i) {
      Projection &p = group[i];
      Node *last = biases ? p.add : p.matmul;
      Value *out = last->output(0), *part = split->output(i);
      // The old name is freed when the old node goes; a graph output keeps
      // its name on the split result.
      r.takeNameAndType(part, *out);
      r.replaceAllUsesWith(out, part);
      if (biases)
        r.eraseNode(*p.add);
      r.eraseNode(*p.matmul);
    }
  }

  Statistic numFused{this, "num-fused", "Groups of projections merged"};
};

} // namespace

std::unique_ptr<Pass> createFuseQkvPass() {
  return std::make_unique<FuseQkvPass>();
}

} // namespace onnxopt
