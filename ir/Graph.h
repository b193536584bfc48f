// The SSA graph IR: Use, Value, Node, Graph and Model.
#pragma once

#include "ir/Attribute.h"
#include "ir/OpRegistry.h"
#include "ir/SlotPool.h"
#include "ir/Tensor.h"
#include "ir/Type.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"

#include <cassert>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace onnxopt {

class Graph;
class Node;
class Value;
class Verifier;

/// One operand: a node input or a graph output. Uses of a value form an
/// intrusive doubly linked list on that value, so unlinking is O(1).
class Use {
public:
  Use(const Use &) = delete;
  Use &operator=(const Use &) = delete;
  ~Use() { set(nullptr); }
  /// Returns the storage to the owning graph's pool.
  void operator delete(Use *u, std::destroying_delete_t);

  Value *get() const { return value_; }
  /// The node using the value, or nullptr for a graph output.
  Node *user() const { return user_; }
  /// The graph whose output this is (nullptr for a node operand).
  Graph *outputOf() const { return outputOf_; }
  /// Operand index in the user, or output index in the graph.
  unsigned index() const { return index_; }
  Use *nextUse() const { return next_; }
  /// Points this use at `v` (nullptr: an absent optional input).
  void set(Value *v);

private:
  friend class Node;
  friend class Graph;
  Use(Node *user, Graph *outputOf, unsigned index)
      : user_(user), outputOf_(outputOf), index_(index) {}
  Value *value_ = nullptr;
  Node *user_ = nullptr;
  Graph *outputOf_ = nullptr;
  unsigned index_ = 0;
  Use *prev_ = nullptr;
  Use *next_ = nullptr;
};

/// An SSA value: a node result, a graph input (block argument) or an
/// initializer (a constant). Its name is a hint, kept for readability and
/// restored on output.
class Value {
public:
  enum class Kind : uint8_t { NodeOutput, GraphInput, Initializer };
  Value(const Value &) = delete;
  Value &operator=(const Value &) = delete;
  ~Value() { assert(!firstUse_ && "destroying a value that still has uses"); }
  /// Returns the storage to the owning graph's pool.
  void operator delete(Value *v, std::destroying_delete_t);

  Kind kind() const { return kind_; }
  /// The producing node, or nullptr for graph inputs and initializers.
  Node *definingNode() const { return def_; }
  /// Result index in the producing node.
  unsigned resultIndex() const { return resultIndex_; }
  /// The graph the value is defined in.
  Graph *graph() const { return graph_; }
  /// The value's number in its graph, dense and in creation order (never
  /// reused): analyses keep per-value facts in a vector indexed by it
  /// (Graph::valueIdBound()) instead of a hash map keyed by address, which on
  /// a large graph misses the cache on every lookup.
  uint32_t id() const { return id_; }

  const std::string &name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }
  const Type &type() const { return type_; }
  void setType(Type t) { type_ = std::move(t); }
  std::string docString;
  /// The input model declared this value's type (a value_info entry): the
  /// ONNX writer writes value_info for these values only unless asked for
  /// every inferred type (ExportOptions::valueInfo).
  bool typeDeclared = false;

  /// A constant: an initializer that is not a graph input.
  bool isConstant() const { return kind_ == Kind::Initializer; }
  /// The constant's tensor, or a graph input's overridable default.
  const std::shared_ptr<const Tensor> &tensor() const { return tensor_; }
  void setTensor(std::shared_ptr<const Tensor> t) { tensor_ = std::move(t); }
  /// A sparse initializer's data (kind Initializer).
  const std::shared_ptr<const SparseTensor> &sparse() const { return sparse_; }
  void setSparse(std::shared_ptr<const SparseTensor> s) {
    sparse_ = std::move(s);
  }

  // --- Uses ---
  bool useEmpty() const { return firstUse_ == nullptr; }
  bool hasOneUse() const { return firstUse_ && !firstUse_->nextUse(); }
  size_t numUses() const { return numUses_; }
  Use *firstUse() const { return firstUse_; }
  /// Uses in a stable snapshot (safe to mutate while iterating the result).
  std::vector<Use *> uses() const;
  /// True if some use is an output of any graph.
  bool isGraphOutput() const;
  /// Points every use of this value at `v`; `v` takes this value's type when
  /// it has none.
  void replaceAllUsesWith(Value *v);
  /// Points the uses for which `pred` holds at `v`.
  void replaceUsesWithIf(Value *v, const std::function<bool(Use &)> &pred);

private:
  friend class Use;
  friend class Node;
  friend class Graph;
  friend class Verifier;
  Value(Kind kind, Graph *graph, Node *def, unsigned index, uint32_t id)
      : kind_(kind), def_(def), resultIndex_(index), id_(id), graph_(graph) {}
  Kind kind_;
  Node *def_;
  unsigned resultIndex_;
  uint32_t id_;
  Graph *graph_;
  std::string name_;
  Type type_;
  std::shared_ptr<const Tensor> tensor_;
  std::shared_ptr<const SparseTensor> sparse_;
  Use *firstUse_ = nullptr;
  size_t numUses_ = 0;
  /// The verifier's "defined so far" mark (the run that saw the definition).
  uint64_t verifyMark_ = 0;
};

/// An operation. Owns its results and its subgraph attributes.
class Node {
public:
  Node(const Node &) = delete;
  Node &operator=(const Node &) = delete;
  ~Node();
  /// Returns the storage to the owning graph's pool.
  void operator delete(Node *n, std::destroying_delete_t);

  const OpId &op() const { return op_; }
  /// Changes the operator (keeps the graph's op census current).
  void setOp(OpId op);
  /// Op type and domain test ("ai.onnx" and "" are the same domain).
  bool is(std::string_view type, std::string_view domain = "") const {
    return op_.is(type, domain);
  }
  Graph *graph() const { return graph_; }
  Node *prev() const { return prev_; }
  Node *next() const { return next_; }

  // --- Operands ---
  size_t numInputs() const { return inputs_.size(); }
  /// Operand `i`, or nullptr for an absent optional input, also past the
  /// last operand (ONNX omits trailing absent inputs; an older opset's form
  /// holds as attributes what a newer one takes as operands).
  Value *input(size_t i) const {
    return i < inputs_.size() ? inputs_[i]->get() : nullptr;
  }
  Use &inputUse(size_t i) { return *inputs_[i]; }
  void setInput(size_t i, Value *v) { inputs_[i]->set(v); }
  void addInput(Value *v);
  /// Drops trailing operands from index `n` on.
  void truncateInputs(size_t n);

  // --- Results ---
  size_t numOutputs() const { return outputs_.size(); }
  /// Result `i`, or nullptr for an absent optional output, also past the
  /// last result.
  Value *output(size_t i) const {
    return i < outputs_.size() ? outputs_[i].get() : nullptr;
  }
  /// Adds a result (absent if !present).
  Value *addOutput(bool present = true);
  /// True if any result has a use.
  bool hasUses() const;

  // --- Attributes (kept in insertion order) ---
  const std::vector<Attribute> &attrs() const { return attrs_; }
  std::vector<Attribute> &mutableAttrs();
  const Attribute *attr(std::string_view name) const;
  void setAttr(Attribute a);
  bool removeAttr(std::string_view name);
  /// Every subgraph owned by this node's attributes, in attribute order.
  std::vector<Graph *> subgraphs() const;

  /// Unlinks from the graph and destroys; results must have no uses.
  void erase();
  /// Moves this node just before `pos` (same graph).
  void moveBefore(Node *pos);

private:
  friend class Graph;
  friend class Rewriter;
  Node(Graph *g, OpId op) : op_(std::move(op)), graph_(g) {}
  // What a walk over the node list reads comes first, in as few cache lines
  // as possible.
  OpId op_;
  Graph *graph_;
  /// On the greedy rewrite driver's worklist (passes/PatternRewriter.h).
  bool onWorklist_ = false;
  Node *prev_ = nullptr, *next_ = nullptr;
  std::vector<Attribute> attrs_;
  // Inline for up to two operands and results (most nodes): reading one is
  // then no separate heap block, and creating a node no malloc. Same size
  // as a std::vector.
  absl::InlinedVector<std::unique_ptr<Use>, 2> inputs_;
  absl::InlinedVector<std::unique_ptr<Value>, 2> outputs_;

public:
  std::string name;
  std::string docString;
};

/// Range over a graph's nodes that tolerates erasing the current node.
class NodeRange {
public:
  class iterator {
  public:
    explicit iterator(Node *n) : cur_(n), next_(n ? n->next() : nullptr) {}
    Node *operator*() const { return cur_; }
    iterator &operator++() {
      cur_ = next_;
      next_ = cur_ ? cur_->next() : nullptr;
      return *this;
    }
    bool operator!=(const iterator &o) const { return cur_ != o.cur_; }
    bool operator==(const iterator &o) const { return cur_ == o.cur_; }

  private:
    Node *cur_, *next_;
  };
  explicit NodeRange(Node *first) : first_(first) {}
  iterator begin() const { return iterator(first_); }
  iterator end() const { return iterator(nullptr); }

private:
  Node *first_;
};

/// A graph: inputs (block arguments), initializers (constants), nodes in
/// program order, and outputs (uses). Subgraphs are owned by their node's
/// attribute.
class Graph {
public:
  Graph() = default;
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;
  ~Graph();

  std::string name;
  std::string docString;
  /// The node whose attribute owns this graph, or nullptr for a model's main
  /// graph.
  Node *parentNode() const { return parent_; }
  void setParentNode(Node *n);
  /// Nesting depth: 0 for the main graph.
  unsigned depth() const;

  // --- Inputs ---
  size_t numInputs() const { return inputs_.size(); }
  Value *input(size_t i) const { return inputs_[i].get(); }
  Value *addInput(std::string name, Type type = Type());
  /// Removes an unused input (for subgraph bodies built by passes; never the
  /// main graph's, whose inputs are the model's contract).
  void eraseInput(size_t i);

  // --- Initializers (constants and graph-input defaults) ---
  size_t numInitializers() const { return initializers_.size(); }
  Value *initializer(size_t i) const { return initializers_[i].get(); }
  Value *addInitializer(std::string name, std::shared_ptr<const Tensor> t);
  Value *addSparseInitializer(std::string name,
                              std::shared_ptr<const SparseTensor> t);
  /// Removes an initializer that has no uses.
  void eraseInitializer(Value *v);
  /// Removes, in one linear sweep, the initializers for which `pred` holds;
  /// each must have no uses. Returns how many went.
  size_t eraseInitializersIf(const std::function<bool(const Value &)> &pred);

  // --- Outputs ---
  size_t numOutputs() const { return outputs_.size(); }
  Value *output(size_t i) const { return outputs_[i]->get(); }
  Use &outputUse(size_t i) { return *outputs_[i]; }
  /// The output's name: part of the model's contract, kept even when a pass
  /// points the output at another value.
  const std::string &outputName(size_t i) const { return outputNames_[i]; }
  /// Adds an output named `name` (default: the value's name).
  void addOutput(Value *v, std::string name = {});
  /// Removes the outputs for which `keep(i)` is false, keeping the others'
  /// order (the driver's --keep-outputs: a change of the model's contract
  /// the user asks for, never a pass's).
  void keepOutputs(const std::function<bool(size_t)> &keep);

  // --- Nodes ---
  Node *firstNode() const { return first_; }
  Node *lastNode() const { return last_; }
  size_t numNodes() const { return numNodes_; }
  NodeRange nodes() const { return NodeRange(first_); }
  /// Creates a node with `numOutputs` results, inserted before `pos` (nullptr:
  /// appended at the end).
  Node *createNode(OpId op, const std::vector<Value *> &inputs,
                   size_t numOutputs, Node *pos = nullptr);

  /// How many nodes of op type `type` (any domain) the graph holds, its
  /// subgraphs not included. A pass that matches a few op types asks this
  /// before walking a graph that cannot contain them: on a large graph each
  /// walk streams every node through the cache.
  size_t numNodesOfType(std::string_view type) const {
    auto it = opCensus_.find(absl::string_view(type.data(), type.size()));
    return it == opCensus_.end() ? 0 : it->second;
  }

  /// One more than the highest Value::id() issued in this graph.
  uint32_t valueIdBound() const { return nextValueId_; }

  /// A deep copy: inputs, initializers, nodes (attributes and subgraphs
  /// included) and outputs, names, types and doc strings; tensors are shared
  /// (they are immutable). Values of enclosing graphs that the copy's nodes
  /// read are looked up in `outer` (the copy of the enclosing graph's values)
  /// and kept as they are when absent there.
  std::unique_ptr<Graph>
  clone(const absl::flat_hash_map<const Value *, Value *> &outer = {}) const;

  /// Re-links the nodes in `order`, which must be a permutation of the nodes.
  void reorder(const std::vector<Node *> &order);

  /// Every value name used in this graph and its subgraphs (for fresh names).
  void collectNames(std::vector<std::string> &out) const;

  /// How many structural mutations (operands, nodes, results, graph inputs,
  /// initializers and outputs, subgraph attributes) this thread has made to
  /// any graph. What the verifier checks can only have changed if this
  /// moved, so the pass manager re-verifies only then.
  static uint64_t structuralMutations();

  /// Whether some node may hold a subgraph: set by anything that can attach
  /// one, cleared only by refreshMayHaveSubgraphs() finding none.
  bool mayHaveSubgraphs() const { return maySubgraphs_; }
  /// Walks the nodes once and clears the flag if none holds a subgraph.
  void refreshMayHaveSubgraphs();

private:
  friend class Node;
  friend class Value;
  friend class Use;
  void link(Node *n, Node *pos);
  void unlink(Node *n);
  void countOp(const std::string &type, int delta);
  // Declared before every member holding pooled objects, so destroyed after
  // them.
  SlotPool nodePool_{sizeof(Node), alignof(Node)};
  SlotPool valuePool_{sizeof(Value), alignof(Value)};
  SlotPool usePool_{sizeof(Use), alignof(Use)};
  Node *parent_ = nullptr;
  bool maySubgraphs_ = false;
  std::vector<std::unique_ptr<Value>> inputs_;
  std::vector<std::unique_ptr<Value>> initializers_;
  std::vector<std::unique_ptr<Use>> outputs_;
  std::vector<std::string> outputNames_;
  Node *first_ = nullptr, *last_ = nullptr;
  size_t numNodes_ = 0;
  uint32_t nextValueId_ = 0;
  // Nodes per op type. Looked up, never iterated.
  absl::flat_hash_map<std::string, size_t> opCensus_;
};

/// An opset import: domain ("" is the default ONNX domain) and version.
struct OpsetImport {
  std::string domain;
  int64_t version = 0;
};

/// A model: the main graph plus the metadata ONNX carries with it.
class Model {
public:
  int64_t irVersion = 0;
  std::vector<OpsetImport> opsetImports;
  std::string producerName, producerVersion, domain, docString;
  int64_t modelVersion = 0;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::unique_ptr<Graph> graph;
  /// Model-local functions and training info, carried through as serialized
  /// FunctionProto / TrainingInfoProto bytes (ops calling them stay opaque).
  std::vector<std::string> functionBlobs;
  std::vector<std::string> trainingInfoBlobs;
  /// (domain, name) of each model-local function, in order.
  std::vector<std::pair<std::string, std::string>> functionIds;
  /// The external data files the model's weights are mapped from (paths, as
  /// the importer opened them): a writer must never replace one of them.
  std::vector<std::string> externalDataFiles;

  /// A deep copy (Graph::clone) with the same metadata; the copy shares the
  /// tensors, so weights mapped from a file are not copied.
  std::unique_ptr<Model> clone() const;

  /// The imported opset version for `domain`, or nullopt.
  std::optional<int64_t> opsetVersion(std::string_view domain) const;
  /// The default (ONNX) domain's version, 0 when the model imports none (it
  /// then holds no ONNX op: the importer resolves every op it holds).
  int64_t onnxOpset() const { return opsetVersion("").value_or(0); }
  /// Op `type` of `domain` resolved at the version the model imports: what
  /// a pass creates. An error when the model imports no such domain.
  absl::StatusOr<OpId> resolveOp(std::string_view type,
                                 std::string_view domain = "") const;
};

/// Calls `fn` on `g` and every graph nested in it, outer graphs first.
void walkGraphs(Graph &g, const std::function<void(Graph &)> &fn);

/// Issues fresh value names that collide with nothing in a model (subgraphs
/// included): a counter over a base, skipping names already taken.
class NameGenerator {
public:
  explicit NameGenerator(const Graph &g);
  std::string fresh(std::string_view base);

private:
  // Membership only; never iterated, so hash order cannot reach the output.
  absl::flat_hash_set<std::string> taken_;
  uint64_t counter_ = 0;
};

} // namespace onnxopt
