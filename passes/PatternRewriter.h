// Pattern rewriting: OpRewritePattern, the Rewriter every mutation goes
// through, and one greedy worklist driver that applies a pattern set to a fixed
// point.
#pragma once

#include "ir/Graph.h"
#include "ir/OpRegistry.h"
#include "utils/Debug.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
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

/// The only way patterns change the graph: creating ops and constants,
/// changing operands, attributes and result types in place, replacing and
/// erasing. Every change queues what it touched, so the driver revisits it.
class Rewriter {
public:
  /// `model` resolves the ops a rewrite creates (nullptr: none can be).
  /// `debugType` names the pass for --debug-only output ("": none).
  explicit Rewriter(Graph &g, const Model *model = nullptr,
                    std::string_view debugType = "")
      : graph_(g), model_(model), debugType_(debugType),
        debug_(isDebugTypeEnabled(debugType)) {}
  Graph &graph() const { return graph_; }

  // --- Creating ---
  /// Resolves ONNX op `type` of `domain` at the version the model imports.
  /// An error when the model imports no such domain or the registry lacks
  /// the op: a pattern checks this before it changes anything.
  absl::StatusOr<OpId> resolve(std::string_view type,
                               std::string_view domain = "") const;
  /// Creates a node before `pos` (nullptr: at the end).
  Node *create(OpId op, const std::vector<Value *> &inputs, size_t numOutputs,
               Node *pos);
  /// A new initializer of this graph holding `t`, named fresh from `base`.
  Value *createInitializer(std::string_view base,
                           std::shared_ptr<const Tensor> t);
  /// A value name that collides with nothing in the graph (subgraphs
  /// included), from `base`. The generator is built on first need.
  std::string freshName(std::string_view base);
  /// Gives `to` (a result just created) the name and type of `from`, the
  /// value it is about to replace.
  void takeNameAndType(Value *to, const Value &from);
  /// Sets the type of `v`, a result of a node the rewrite changed.
  void setType(Value *v, Type t);
  /// Names `v`, a result of a node the rewrite created.
  void setName(Value *v, std::string name) { v->setName(std::move(name)); }

  // --- Changing in place ---
  /// Points operand `i` of `n` at `v` (nullptr: absent).
  void setOperand(Node &n, size_t i, Value *v);
  /// Replaces all operands of `n` with `operands`.
  void setOperands(Node &n, const std::vector<Value *> &operands);
  /// Appends an operand to `n`.
  void appendOperand(Node &n, Value *v);
  /// Sets (adds or replaces) attribute `a` of `n`.
  void setAttr(Node &n, Attribute a);
  /// Removes attribute `name` of `n`; false if it had none.
  bool removeAttr(Node &n, std::string_view name);
  /// Calls `fn`, which changes `n` in place through the Node API (for edits
  /// the calls above do not cover), and queues `n`.
  void modifyInPlace(Node &n, const std::function<void()> &fn);

  // --- Replacing and erasing ---
  /// Points every use of `from` at `to`; users are revisited.
  void replaceAllUsesWith(Value *from, Value *to);
  /// Replaces each present result of `n` with the value at the same index, then
  /// erases `n`.
  void replaceNode(Node &n, const std::vector<Value *> &results);
  /// Erases a node whose results are unused.
  void eraseNode(Node &n);
  /// Erases `n` if none of its results is used, then every producer of its
  /// operands that this leaves unused, transitively (what a pattern that
  /// replaced a whole block leaves behind). Returns how many were erased.
  size_t eraseDeadFrom(Node &n);
  /// Replaces the chain that ends at `last` (one result) by `fused`, created
  /// before it: `fused` takes `last`'s node name, its result `last`'s result
  /// name, type and uses, and what only fed `last` is erased (eraseDeadFrom).
  void replaceChain(Node &last, Node &fused);

  /// Records why a pattern did not apply and returns false. With
  /// --debug-only naming this rewriter's pass, prints the node and reason
  /// (otherwise it costs a test of a flag: patterns fail on most nodes).
  bool notifyMatchFailure(const Node &n, std::string_view why) {
    if (debug_)
      printMatchFailure(n, why);
    return false;
  }

  /// The driver's worklist: nodes in the order they are to be visited. A
  /// node is on it at most once (a mark on the node says so); a node erased
  /// while on it leaves a stale entry that next() skips without reading it.
  void startWorklist();
  /// Adds `n` (a node of this graph) unless it is already on the worklist.
  void enqueue(Node *n);
  /// The next live node to visit, or nullptr when the worklist is empty.
  Node *next();
  size_t numRewrites() const { return rewrites_; }
  /// Counts a rewrite (a fold or a pattern) of the node `nodeRef` names;
  /// under --debug-only prints it.
  void noteRewrite(std::string_view nodeRef = {}) {
    ++rewrites_;
    if (debug_)
      printRewrite(nodeRef);
  }
  /// Whether --debug-only names this rewriter's pass.
  bool debugging() const { return debug_; }
  /// How debug output names `n` ("Conv 'y'").
  std::string nodeRef(const Node &n) const;

private:
  void printMatchFailure(const Node &n, std::string_view why) const;
  void printRewrite(std::string_view nodeRef) const;
  Graph &graph_;
  const Model *model_;
  std::string_view debugType_;
  bool debug_;
  std::optional<NameGenerator> names_;
  bool active_ = false;
  std::deque<Node *> worklist_;
  // Stale entries still queued, by address: a slot freed by an erase may be
  // handed to a new node before its stale entry comes up. Erases are few,
  // so this stays small; looked up, never iterated.
  absl::flat_hash_map<const Node *, unsigned> stale_;
  size_t rewrites_ = 0;
};

/// True if the uses of `result` (a node result in `g`) may be pointed at
/// `replacement`. A graph output whose replacement is not a node result of the
/// same graph (a graph input, a constant, an outer value), or is already
/// another output, needs a node of its own to carry its name: that case says
/// no.
inline bool canForwardResult(const Value &result, const Value &replacement,
                             const Graph &g) {
  if (!result.isGraphOutput())
    return true;
  return replacement.kind() == Value::Kind::NodeOutput &&
         replacement.graph() == &g && !replacement.isGraphOutput();
}

/// After a rewrite stopped using constant `v`: if nothing uses it any more
/// and nothing else holds its tensor, lets a mapped file drop its pages (the
/// peak memory of folding is then the new weights, not old plus new).
/// eliminate-unused-initializers removes the value later.
inline void releaseIfDead(const Value *v) {
  if (v && v->isConstant() && v->useEmpty() && v->tensor() &&
      v->tensor().use_count() == 1)
    v->tensor()->releasePages();
}

struct GreedyRewriteConfig {
  /// Sweeps over the whole graph before giving up.
  int64_t maxIterations = 10;
  /// Fail if the patterns still change the graph after maxIterations sweeps.
  bool testConvergence = false;
  /// Try each node's fold hook (passes/Folding.h) before the patterns.
  bool fold = false;
  /// Resolves the ops patterns create (nullptr: none can be created).
  const Model *model = nullptr;
  /// The pass's argument: --debug-only=<it> prints each match failure.
  std::string_view debugType;
};

/// Applies `patterns` to `g` until none matches: each sweep visits every node
/// in program order, revisiting the users of whatever a rewrite changed.
/// Returns the number of folds and rewrites applied; with testConvergence, an
/// error if the cap was hit.
absl::StatusOr<size_t> applyPatternsGreedily(
    Graph &g, const std::vector<std::unique_ptr<OpRewritePattern>> &patterns,
    const GreedyRewriteConfig &config = {});

} // namespace onnxopt
