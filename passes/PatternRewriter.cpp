// Pattern rewriting and the greedy worklist driver.
#include "passes/PatternRewriter.h"

#include "passes/Folding.h"
#include "utils/Debug.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cassert>
#include <sstream>

namespace onnxopt {

void Rewriter::startWorklist() {
  assert(worklist_.empty() && stale_.empty() && "worklist still in use");
  active_ = true;
}

void Rewriter::enqueue(Node *n) {
  if (!active_ || !n || n->graph() != &graph_ || n->onWorklist_)
    return;
  n->onWorklist_ = true;
  worklist_.push_back(n);
}

Node *Rewriter::next() {
  while (!worklist_.empty()) {
    Node *n = worklist_.front();
    worklist_.pop_front();
    if (auto it = stale_.find(n); it != stale_.end()) {
      if (--it->second == 0)
        stale_.erase(it);
      continue;
    }
    n->onWorklist_ = false;
    return n;
  }
  active_ = false;
  return nullptr;
}

absl::StatusOr<OpId> Rewriter::resolve(std::string_view type,
                                       std::string_view domain) const {
  if (!model_)
    return absl::FailedPreconditionError("this rewriter creates no ops");
  return model_->resolveOp(type, domain);
}

Node *Rewriter::create(OpId op, const std::vector<Value *> &inputs,
                       size_t numOutputs, Node *pos) {
  Node *n = graph_.createNode(std::move(op), inputs, numOutputs, pos);
  enqueue(n);
  return n;
}

std::string Rewriter::freshName(std::string_view base) {
  if (!names_)
    names_.emplace(graph_);
  return names_->fresh(base);
}

Value *Rewriter::createInitializer(std::string_view base,
                                   std::shared_ptr<const Tensor> t) {
  return graph_.addInitializer(freshName(base), std::move(t));
}

void Rewriter::takeNameAndType(Value *to, const Value &from) {
  to->setName(from.name());
  to->setType(from.type());
}

void Rewriter::setType(Value *v, Type t) {
  v->setType(std::move(t));
  for (Use *u : v->uses())
    enqueue(u->user());
}

void Rewriter::setOperand(Node &n, size_t i, Value *v) {
  // The old operand may have lost its last use.
  if (Value *old = n.input(i))
    enqueue(old->definingNode());
  n.setInput(i, v);
  enqueue(&n);
}

void Rewriter::setOperands(Node &n, const std::vector<Value *> &operands) {
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (Value *old = n.input(i))
      enqueue(old->definingNode());
  n.truncateInputs(0);
  for (Value *v : operands)
    n.addInput(v);
  enqueue(&n);
}

void Rewriter::appendOperand(Node &n, Value *v) {
  n.addInput(v);
  enqueue(&n);
}

void Rewriter::setAttr(Node &n, Attribute a) {
  n.setAttr(std::move(a));
  enqueue(&n);
}

bool Rewriter::removeAttr(Node &n, std::string_view name) {
  enqueue(&n);
  return n.removeAttr(name);
}

void Rewriter::modifyInPlace(Node &n, const std::function<void()> &fn) {
  fn();
  enqueue(&n);
}

void Rewriter::replaceAllUsesWith(Value *from, Value *to) {
  for (Use *u : from->uses())
    if (u->user())
      enqueue(u->user());
  from->replaceAllUsesWith(to);
  if (to->definingNode())
    enqueue(to->definingNode());
}

void Rewriter::replaceNode(Node &n, const std::vector<Value *> &results) {
  for (size_t i = 0; i < n.numOutputs() && i < results.size(); ++i)
    if (n.output(i) && results[i])
      replaceAllUsesWith(n.output(i), results[i]);
  eraseNode(n);
}

void Rewriter::eraseNode(Node &n) {
  // Operands may become dead: let the patterns see their producers again.
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (Value *v = n.input(i))
      enqueue(v->definingNode());
  if (n.onWorklist_)
    ++stale_[&n];
  n.erase();
}

void Rewriter::replaceChain(Node &last, Node &fused) {
  fused.name = last.name;
  takeNameAndType(fused.output(0), *last.output(0));
  replaceAllUsesWith(last.output(0), fused.output(0));
  eraseDeadFrom(last);
}

size_t Rewriter::eraseDeadFrom(Node &n) {
  auto dead = [](const Node &m) {
    for (size_t i = 0; i < m.numOutputs(); ++i)
      if (const Value *v = m.output(i); v && !v->useEmpty())
        return false;
    return true;
  };
  // A producer can be reached from two of its users: erase it once (no node
  // is created meanwhile, so an erased address is not reused).
  absl::flat_hash_set<const Node *> erasedNodes;
  std::vector<Node *> work{&n};
  while (!work.empty()) {
    Node *m = work.back();
    work.pop_back();
    if (erasedNodes.contains(m) || !dead(*m))
      continue;
    std::vector<Node *> producers;
    for (size_t i = 0; i < m->numInputs(); ++i)
      if (Value *v = m->input(i);
          v && v->definingNode() &&
          std::find(producers.begin(), producers.end(), v->definingNode()) ==
              producers.end())
        producers.push_back(v->definingNode());
    erasedNodes.insert(m);
    eraseNode(*m);
    work.insert(work.end(), producers.begin(), producers.end());
  }
  return erasedNodes.size();
}

namespace {
/// `Conv 'name'` (the first result's name; nodes carry none of their own).
void printNodeRef(std::ostream &os, const Node &n) {
  os << n.op().type;
  if (n.numOutputs() > 0 && n.output(0))
    os << " '" << n.output(0)->name() << "'";
}
} // namespace

void Rewriter::printMatchFailure(const Node &n, std::string_view why) const {
  std::ostream &os = dbgs();
  os << "[" << debugType_ << "] ";
  printNodeRef(os, n);
  os << ": no match: " << why << "\n";
}

void Rewriter::printRewrite(std::string_view nodeRef) const {
  dbgs() << "[" << debugType_ << "] " << nodeRef << ": rewritten\n";
}

std::string Rewriter::nodeRef(const Node &n) const {
  std::ostringstream os;
  printNodeRef(os, n);
  return os.str();
}

absl::StatusOr<size_t> applyPatternsGreedily(
    Graph &g, const std::vector<std::unique_ptr<OpRewritePattern>> &patterns,
    const GreedyRewriteConfig &config) {
  // Patterns by op type, plus the fold hooks' op types (with no pattern) when
  // folding; looked up, never iterated.
  absl::flat_hash_map<std::string, std::vector<OpRewritePattern *>> byType;
  for (const auto &p : patterns)
    byType[p->opType()].push_back(p.get());
  if (config.fold)
    for (std::string_view type : foldHookOpTypes())
      byType.try_emplace(std::string(type));
  Rewriter rewriter(g, config.model, config.debugType);
  for (int64_t sweep = 0; sweep < config.maxIterations; ++sweep) {
    // A sweep can only match these root ops: when the graph holds none, it
    // would walk every node to find nothing.
    if (!std::any_of(byType.begin(), byType.end(), [&](const auto &entry) {
          return g.numNodesOfType(entry.first) > 0;
        }))
      return rewriter.numRewrites();
    // Only nodes of those types start on the worklist, in program order;
    // nodes a rewrite touches are added as they change.
    rewriter.startWorklist();
    for (Node *n : g.nodes())
      if (byType.contains(n->op().type))
        rewriter.enqueue(n);
    bool sweepChanged = false;
    while (Node *n = rewriter.next()) {
      if (config.fold)
        if (Value *folded = foldNode(*n);
            folded && canForwardResult(*n->output(0), *folded, g)) {
          std::string ref = rewriter.debugging() ? rewriter.nodeRef(*n) : "";
          rewriter.replaceNode(*n, {folded});
          rewriter.noteRewrite(ref);
          sweepChanged = true;
          continue;
        }
      auto it = byType.find(n->op().type);
      if (it == byType.end())
        continue;
      for (OpRewritePattern *p : it->second) {
        if (!n->is(p->opType(), p->domain()))
          continue;
        // Named before the pattern runs: `n` may be gone after.
        std::string ref = rewriter.debugging() ? rewriter.nodeRef(*n) : "";
        if (p->matchAndRewrite(*n, rewriter)) {
          rewriter.noteRewrite(ref);
          sweepChanged = true;
          break; // `n` may be gone.
        }
      }
    }
    if (!sweepChanged)
      return rewriter.numRewrites();
  }
  // A check the user asked for (test-convergence=true), not a bug in
  // onnx-opt: exit 3, like --verify.
  if (config.testConvergence)
    return absl::AbortedError(
        absl::StrCat("patterns did not converge in ", config.maxIterations,
                     " iterations (test-convergence=true)"));
  return rewriter.numRewrites();
}

} // namespace onnxopt
