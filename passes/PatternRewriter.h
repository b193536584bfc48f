// Pattern rewriting: OpRewritePattern, the Rewriter every mutation goes
// through, and one greedy worklist driver that applies a pattern set to a fixed
// point.
#pragma once

#include "ir/Graph.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace onnxopt {

class Rewriter;

/// A local rewrite rooted at one op type. matchAndRewrite checks cheap,
/// selective conditions first, mutates nothing until the match is certain,
/// makes every change through the Rewriter, and returns whether it rewrote.
class OpRewritePattern {
public:
  OpRewritePattern(std::string opType, std::string domain = "")
      : opType_(std::move(opType)), domain_(std::move(domain)) {}
  virtual ~OpRewritePattern() = default;
  const std::string &opType() const { return opType_; }
  const std::string &domain() const { return domain_; }
  virtual bool matchAndRewrite(Node &n, Rewriter &r) = 0;

private:
  std::string opType_, domain_;
};

/// The only way patterns change the graph, so the driver can revisit what a
/// rewrite touched.
class Rewriter {
public:
  explicit Rewriter(Graph &g) : graph_(g) {}
  Graph &graph() const { return graph_; }

  /// Creates a node before `pos` (nullptr: at the end).
  Node *create(OpId op, const std::vector<Value *> &inputs, size_t numOutputs,
               Node *pos);
  /// Points every use of `from` at `to`; users are revisited.
  void replaceAllUsesWith(Value *from, Value *to);
  /// Replaces each present result of `n` with the value at the same index, then
  /// erases `n`.
  void replaceNode(Node &n, const std::vector<Value *> &results);
  /// Erases a node whose results are unused.
  void eraseNode(Node &n);
  /// Records why a pattern did not apply (for --debug output) and returns
  /// false.
  bool notifyMatchFailure(const Node &n, std::string_view why);

  /// The driver's worklist: nodes in the order they are to be visited. A
  /// node is on it at most once (a mark on the node says so); a node erased
  /// while on it leaves a stale entry that next() skips without reading it.
  void startWorklist();
  /// Adds `n` (a node of this graph) unless it is already on the worklist.
  void enqueue(Node *n);
  /// The next live node to visit, or nullptr when the worklist is empty.
  Node *next();
  size_t numRewrites() const { return rewrites_; }
  void noteRewrite() { ++rewrites_; }

private:
  Graph &graph_;
  bool active_ = false;
  std::deque<Node *> worklist_;
  // Stale entries still queued, by address: a slot freed by an erase may be
  // handed to a new node before its stale entry comes up. Erases are few,
  // so this stays small; looked up, never iterated.
  absl::flat_hash_map<const Node *, unsigned> stale_;
  size_t rewrites_ = 0;
};

struct GreedyRewriteConfig {
  /// Sweeps over the whole graph before giving up.
  int64_t maxIterations = 10;
  /// Fail if the patterns still change the graph after maxIterations sweeps.
  bool testConvergence = false;
  /// Try each node's fold hook (passes/Folding.h) before the patterns.
  bool fold = false;
};

/// Applies `patterns` to `g` until none matches: each sweep visits every node
/// in program order, revisiting the users of whatever a rewrite changed.
/// Returns the number of folds and rewrites applied; with testConvergence, an
/// error if the cap was hit.
absl::StatusOr<size_t> applyPatternsGreedily(
    Graph &g, const std::vector<std::unique_ptr<OpRewritePattern>> &patterns,
    const GreedyRewriteConfig &config = {});

} // namespace onnxopt
