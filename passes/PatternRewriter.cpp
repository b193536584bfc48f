// Pattern rewriting and the greedy worklist driver.
#include "passes/PatternRewriter.h"

#include "passes/Folding.h"
#include "passes/PassUtils.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace onnxopt {

void Rewriter::enqueue(Node *n) {
  if (worklist_ && n && n->graph() == &graph_ && members_->insert(n).second)
    worklist_->push_back(n);
}

Node *Rewriter::create(OpId op, const std::vector<Value *> &inputs,
                       size_t numOutputs, Node *pos) {
  Node *n = graph_.createNode(std::move(op), inputs, numOutputs, pos);
  enqueue(n);
  return n;
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
  if (members_)
    members_->erase(&n);
  n.erase();
}

bool Rewriter::notifyMatchFailure(const Node &, std::string_view) {
  return false;
}

absl::StatusOr<size_t> applyPatternsGreedily(
    Graph &g, const std::vector<std::unique_ptr<OpRewritePattern>> &patterns,
    const GreedyRewriteConfig &config) {
  // Patterns by op type; looked up, never iterated.
  absl::flat_hash_map<std::string, std::vector<OpRewritePattern *>> byType;
  for (const auto &p : patterns)
    byType[p->opType()].push_back(p.get());
  Rewriter rewriter(g);
  for (int64_t sweep = 0; sweep < config.maxIterations; ++sweep) {
    // Only nodes a pattern (or the fold hooks) could apply to start on the
    // worklist, in program order: most passes match a few op types, and a
    // sweep over the rest would only hash and miss the cache. Nodes a rewrite
    // touches are added as they change.
    std::deque<Node *> worklist;
    absl::flat_hash_set<Node *> members;
    for (Node *n : g.nodes()) {
      if (!config.fold && !byType.contains(n->op().type))
        continue;
      worklist.push_back(n);
      members.insert(n);
    }
    rewriter.setWorklist(&worklist, &members);
    bool sweepChanged = false;
    while (!worklist.empty()) {
      Node *n = worklist.front();
      worklist.pop_front();
      // Erased nodes left the member set; skip their stale entries.
      if (!members.erase(n))
        continue;
      if (config.fold)
        if (Value *folded = foldNode(*n);
            folded && canForwardResult(*n->output(0), *folded, g)) {
          rewriter.replaceNode(*n, {folded});
          rewriter.noteRewrite();
          sweepChanged = true;
          continue;
        }
      auto it = byType.find(n->op().type);
      if (it == byType.end())
        continue;
      for (OpRewritePattern *p : it->second) {
        if (!n->is(p->opType(), p->domain()))
          continue;
        if (p->matchAndRewrite(*n, rewriter)) {
          rewriter.noteRewrite();
          sweepChanged = true;
          break; // `n` may be gone.
        }
      }
    }
    rewriter.setWorklist(nullptr, nullptr);
    if (!sweepChanged)
      return rewriter.numRewrites();
  }
  if (config.testConvergence)
    return absl::InternalError(absl::StrCat(
        "patterns did not converge in ", config.maxIterations, " iterations"));
  return rewriter.numRewrites();
}

} // namespace onnxopt
