// The SSA graph IR: use lists, node and graph mutation.
#include "ir/Graph.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace onnxopt {

// ---------------------------------------------------------------- mutations

namespace {
// Per thread: a pass runs on one thread, and a counter another thread moves
// would only cost a verification, never skip one.
thread_local uint64_t mutations = 0;
} // namespace

uint64_t Graph::structuralMutations() { return mutations; }

// ---------------------------------------------------------------- Use / Value

void Use::set(Value *v) {
  if (value_ == v)
    return;
  ++mutations;
  if (value_) {
    if (prev_)
      prev_->next_ = next_;
    else
      value_->firstUse_ = next_;
    if (next_)
      next_->prev_ = prev_;
    --value_->numUses_;
    prev_ = next_ = nullptr;
  }
  value_ = v;
  if (v) {
    // Push front: O(1). Use order is not observable in output.
    next_ = v->firstUse_;
    if (next_)
      next_->prev_ = this;
    v->firstUse_ = this;
    ++v->numUses_;
  }
}

void Use::operator delete(Use *u, std::destroying_delete_t) {
  Graph *g = u->user_ ? u->user_->graph() : u->outputOf_;
  u->~Use();
  g->usePool_.release(u);
}

void Value::operator delete(Value *v, std::destroying_delete_t) {
  Graph *g = v->graph_;
  v->~Value();
  g->valuePool_.release(v);
}

std::vector<Use *> Value::uses() const {
  std::vector<Use *> out;
  out.reserve(numUses_);
  for (Use *u = firstUse_; u; u = u->nextUse())
    out.push_back(u);
  return out;
}

bool Value::isGraphOutput() const {
  for (Use *u = firstUse_; u; u = u->nextUse())
    if (u->outputOf())
      return true;
  return false;
}

void Value::replaceAllUsesWith(Value *v) {
  assert(v != this && "replacing a value with itself");
  // The two are the same value: a replacement without type information
  // inherits this one's (a graph output keeps its declared type).
  if (v && v->type().isUnknown() && !type_.isUnknown())
    v->setType(type_);
  while (firstUse_)
    firstUse_->set(v);
}

void Value::replaceUsesWithIf(Value *v,
                              const std::function<bool(Use &)> &pred) {
  for (Use *u : uses())
    if (pred(*u))
      u->set(v);
}

// ---------------------------------------------------------------- Node

void Node::operator delete(Node *n, std::destroying_delete_t) {
  Graph *g = n->graph_;
  n->~Node();
  g->nodePool_.release(n);
}

Node::~Node() {
  // Operands first (they may point at values of other nodes), then attributes
  // (subgraph bodies may use our results only through outer values, which are
  // not ours), then results.
  inputs_.clear();
  attrs_.clear();
  outputs_.clear();
}

void Node::addInput(Value *v) {
  ++mutations;
  inputs_.push_back(std::unique_ptr<Use>(
      ::new (graph_->usePool_.allocate())
          Use(this, nullptr, static_cast<unsigned>(inputs_.size()))));
  inputs_.back()->set(v);
}

void Node::truncateInputs(size_t n) {
  ++mutations;
  while (inputs_.size() > n)
    inputs_.pop_back();
}

Value *Node::addOutput(bool present) {
  ++mutations;
  if (!present) {
    outputs_.push_back(nullptr);
    return nullptr;
  }
  outputs_.push_back(
      std::unique_ptr<Value>(::new (graph_->valuePool_.allocate()) Value(
          Value::Kind::NodeOutput, graph_, this,
          static_cast<unsigned>(outputs_.size()), graph_->nextValueId_++)));
  return outputs_.back().get();
}

bool Node::hasUses() const {
  for (const auto &o : outputs_)
    if (o && !o->useEmpty())
      return true;
  return false;
}

const Attribute *Node::attr(std::string_view n) const {
  for (const Attribute &a : attrs_)
    if (a.name == n)
      return &a;
  return nullptr;
}

void Node::setAttr(Attribute a) {
  ++mutations;
  for (auto &g : a.graphs)
    if (g)
      g->setParentNode(this);
  if (!a.graphs.empty())
    graph_->maySubgraphs_ = true;
  for (Attribute &existing : attrs_)
    if (existing.name == a.name) {
      existing = std::move(a);
      return;
    }
  attrs_.push_back(std::move(a));
}

std::vector<Attribute> &Node::mutableAttrs() {
  // The caller may attach subgraphs or re-parent them.
  ++mutations;
  graph_->maySubgraphs_ = true;
  return attrs_;
}

bool Node::removeAttr(std::string_view n) {
  ++mutations;
  auto it = std::find_if(attrs_.begin(), attrs_.end(),
                         [&](const Attribute &a) { return a.name == n; });
  if (it == attrs_.end())
    return false;
  attrs_.erase(it);
  return true;
}

std::vector<Graph *> Node::subgraphs() const {
  std::vector<Graph *> out;
  for (const Attribute &a : attrs_)
    for (const auto &g : a.graphs)
      out.push_back(g.get());
  return out;
}

void Node::erase() {
  assert(!hasUses() && "erasing a node whose results are still used");
  ++mutations;
  Graph *g = graph_;
  g->unlink(this);
  g->countOp(op_.type, -1);
  delete this;
}

void Node::setOp(OpId op) {
  graph_->countOp(op_.type, -1);
  op_ = std::move(op);
  graph_->countOp(op_.type, +1);
}

void Node::moveBefore(Node *pos) {
  assert(pos && pos->graph_ == graph_ && "moveBefore across graphs");
  if (pos == this)
    return;
  ++mutations;
  graph_->unlink(this);
  graph_->link(this, pos);
}

// ---------------------------------------------------------------- Graph

/// Unlinks every use held by `g` and its subgraphs, so that values can then be
/// destroyed in any order (subgraphs may capture values defined anywhere).
static void dropAllUses(Graph &g) {
  for (size_t i = 0; i < g.numOutputs(); ++i)
    g.outputUse(i).set(nullptr);
  for (Node *n : g.nodes()) {
    for (size_t i = 0; i < n->numInputs(); ++i)
      n->setInput(i, nullptr);
    for (Graph *sub : n->subgraphs())
      dropAllUses(*sub);
  }
}

Graph::~Graph() {
  // Nested graphs repeat the walk over their own, already unlinked, subtree;
  // nesting depth is bounded by the importer, so this stays cheap.
  dropAllUses(*this);
  outputs_.clear();
  Node *n = last_;
  while (n) {
    Node *prev = n->prev_;
    delete n;
    n = prev;
  }
  first_ = last_ = nullptr;
}

void Graph::setParentNode(Node *n) {
  ++mutations;
  parent_ = n;
}

void Graph::refreshMayHaveSubgraphs() {
  maySubgraphs_ = false;
  for (Node *n = first_; n && !maySubgraphs_; n = n->next_)
    for (const Attribute &a : n->attrs_)
      if (!a.graphs.empty())
        maySubgraphs_ = true;
}

unsigned Graph::depth() const {
  unsigned d = 0;
  for (const Node *p = parent_; p; p = p->graph()->parent_)
    ++d;
  return d;
}

Value *Graph::addInput(std::string n, Type type) {
  ++mutations;
  auto v = std::unique_ptr<Value>(::new (valuePool_.allocate()) Value(
      Value::Kind::GraphInput, this, nullptr,
      static_cast<unsigned>(inputs_.size()), nextValueId_++));
  v->setName(std::move(n));
  v->setType(std::move(type));
  inputs_.push_back(std::move(v));
  return inputs_.back().get();
}

void Graph::eraseInput(size_t i) {
  assert(inputs_[i]->useEmpty() && "erasing a used graph input");
  ++mutations;
  inputs_.erase(inputs_.begin() + static_cast<ptrdiff_t>(i));
}

Value *Graph::addInitializer(std::string n, std::shared_ptr<const Tensor> t) {
  ++mutations;
  auto v = std::unique_ptr<Value>(::new (valuePool_.allocate()) Value(
      Value::Kind::Initializer, this, nullptr,
      static_cast<unsigned>(initializers_.size()), nextValueId_++));
  v->setName(std::move(n));
  v->setType(Type::tensor(t->dtype(), [&] {
    std::vector<Dim> dims;
    for (int64_t d : t->dims())
      dims.push_back(Dim::constant(d));
    return dims;
  }()));
  v->setTensor(std::move(t));
  initializers_.push_back(std::move(v));
  return initializers_.back().get();
}

Value *Graph::addSparseInitializer(std::string n,
                                   std::shared_ptr<const SparseTensor> t) {
  ++mutations;
  auto v = std::unique_ptr<Value>(::new (valuePool_.allocate()) Value(
      Value::Kind::Initializer, this, nullptr,
      static_cast<unsigned>(initializers_.size()), nextValueId_++));
  v->setName(std::move(n));
  std::vector<Dim> dims;
  for (int64_t d : t->dims)
    dims.push_back(Dim::constant(d));
  v->setType(Type::tensor(t->values.dtype(), std::move(dims)));
  v->setSparse(std::move(t));
  initializers_.push_back(std::move(v));
  return initializers_.back().get();
}

void Graph::eraseInitializer(Value *v) {
  assert(v->useEmpty() && "erasing a used initializer");
  ++mutations;
  auto it = std::find_if(initializers_.begin(), initializers_.end(),
                         [&](const auto &p) { return p.get() == v; });
  assert(it != initializers_.end() && "initializer of another graph");
  initializers_.erase(it);
}

size_t
Graph::eraseInitializersIf(const std::function<bool(const Value &)> &pred) {
  ++mutations;
  auto it = std::stable_partition(initializers_.begin(), initializers_.end(),
                                  [&](const auto &v) { return !pred(*v); });
  size_t n = static_cast<size_t>(initializers_.end() - it);
  for (auto j = it; j != initializers_.end(); ++j)
    assert((*j)->useEmpty() && "erasing a used initializer");
  initializers_.erase(it, initializers_.end());
  return n;
}

void Graph::reorder(const std::vector<Node *> &order) {
  assert(order.size() == numNodes_ && "reorder needs every node once");
  ++mutations;
  first_ = last_ = nullptr;
  numNodes_ = 0;
  for (Node *n : order)
    link(n, nullptr);
}

void Graph::addOutput(Value *v, std::string name) {
  ++mutations;
  outputNames_.push_back(name.empty() && v ? v->name() : std::move(name));
  outputs_.push_back(std::unique_ptr<Use>(::new (usePool_.allocate()) Use(
      nullptr, this, static_cast<unsigned>(outputs_.size()))));
  outputs_.back()->set(v);
}

void Graph::keepOutputs(const std::function<bool(size_t)> &keep) {
  ++mutations;
  std::vector<std::unique_ptr<Use>> uses;
  std::vector<std::string> names;
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (!keep(i))
      continue;
    Value *v = outputs_[i]->get();
    uses.push_back(std::unique_ptr<Use>(::new (usePool_.allocate()) Use(
        nullptr, this, static_cast<unsigned>(uses.size()))));
    uses.back()->set(v);
    names.push_back(std::move(outputNames_[i]));
  }
  outputs_ = std::move(uses); // the old uses unlink as they go
  outputNames_ = std::move(names);
}

Node *Graph::createNode(OpId op, const std::vector<Value *> &inputs,
                        size_t numOutputs, Node *pos) {
  ++mutations;
  Node *n = ::new (nodePool_.allocate()) Node(this, std::move(op));
  countOp(n->op_.type, +1);
  for (Value *v : inputs)
    n->addInput(v);
  for (size_t i = 0; i < numOutputs; ++i)
    n->addOutput();
  link(n, pos);
  return n;
}

void Graph::link(Node *n, Node *pos) {
  // A node's storage belongs to its graph's pool: nodes never change graphs.
  assert(n->graph_ == this && "linking a node of another graph");
  if (!pos) {
    n->prev_ = last_;
    n->next_ = nullptr;
    if (last_)
      last_->next_ = n;
    else
      first_ = n;
    last_ = n;
  } else {
    n->next_ = pos;
    n->prev_ = pos->prev_;
    if (pos->prev_)
      pos->prev_->next_ = n;
    else
      first_ = n;
    pos->prev_ = n;
  }
  ++numNodes_;
}

void Graph::countOp(const std::string &type, int delta) {
  auto it = opCensus_.find(type);
  if (it == opCensus_.end())
    it = opCensus_.emplace(type, 0).first;
  assert((delta > 0 || it->second > 0) && "op census went negative");
  it->second += delta;
}

void Graph::unlink(Node *n) {
  if (n->prev_)
    n->prev_->next_ = n->next_;
  else
    first_ = n->next_;
  if (n->next_)
    n->next_->prev_ = n->prev_;
  else
    last_ = n->prev_;
  n->prev_ = n->next_ = nullptr;
  --numNodes_;
}

void Graph::collectNames(std::vector<std::string> &out) const {
  for (const auto &v : inputs_)
    out.push_back(v->name());
  for (const auto &v : initializers_)
    out.push_back(v->name());
  for (const auto &n : outputNames_)
    out.push_back(n);
  for (Node *n = first_; n; n = n->next_) {
    if (!n->name.empty())
      out.push_back(n->name);
    for (size_t i = 0; i < n->numOutputs(); ++i)
      if (Value *v = n->output(i))
        out.push_back(v->name());
    for (Graph *g : n->subgraphs())
      g->collectNames(out);
  }
}

void walkGraphs(Graph &g, const std::function<void(Graph &)> &fn) {
  fn(g);
  for (Node *n : g.nodes())
    for (Graph *sub : n->subgraphs())
      walkGraphs(*sub, fn);
}

std::optional<int64_t> Model::opsetVersion(std::string_view d) const {
  for (const OpsetImport &imp : opsetImports)
    if (imp.domain == d || (isDefaultDomain(imp.domain) && isDefaultDomain(d)))
      return imp.version;
  return std::nullopt;
}

namespace {

/// A copy of `a`, its subgraphs cloned against `values` (the copies of the
/// values visible where the owning node is).
Attribute
cloneAttribute(const Attribute &a,
               const absl::flat_hash_map<const Value *, Value *> &values) {
  Attribute c = a.copyWithoutGraphs();
  for (const auto &g : a.graphs)
    c.graphs.push_back(g ? g->clone(values) : nullptr);
  return c;
}

} // namespace

std::unique_ptr<Graph>
Graph::clone(const absl::flat_hash_map<const Value *, Value *> &outer) const {
  auto g = std::make_unique<Graph>();
  g->name = name;
  g->docString = docString;
  // This graph's values and, under them, the enclosing graphs' copies: what
  // a nested subgraph may read.
  absl::flat_hash_map<const Value *, Value *> values = outer;
  auto copyValue = [](const Value &from, Value &to) {
    to.setName(from.name());
    to.setType(from.type());
    to.docString = from.docString;
    to.typeDeclared = from.typeDeclared;
  };
  for (const auto &in : inputs_) {
    Value *v = g->addInput(in->name(), in->type());
    copyValue(*in, *v);
    v->setTensor(in->tensor());
    values[in.get()] = v;
  }
  for (const auto &init : initializers_) {
    Value *v = init->sparse()
                   ? g->addSparseInitializer(init->name(), init->sparse())
                   : g->addInitializer(init->name(), init->tensor());
    copyValue(*init, *v);
    values[init.get()] = v;
  }
  auto mapped = [&](Value *v) -> Value * {
    if (!v)
      return nullptr;
    auto it = values.find(v);
    return it == values.end() ? v : it->second;
  };
  for (const Node *n : nodes()) {
    std::vector<Value *> operands;
    operands.reserve(n->numInputs());
    for (size_t i = 0; i < n->numInputs(); ++i)
      operands.push_back(mapped(n->input(i)));
    Node *m = g->createNode(n->op(), operands, 0);
    m->name = n->name;
    m->docString = n->docString;
    for (const Attribute &a : n->attrs()) {
      Attribute c = cloneAttribute(a, values);
      for (const auto &sub : c.graphs)
        if (sub)
          sub->setParentNode(m);
      m->setAttr(std::move(c));
    }
    for (size_t i = 0; i < n->numOutputs(); ++i) {
      const Value *r = n->output(i);
      Value *v = m->addOutput(r != nullptr);
      if (r) {
        copyValue(*r, *v);
        values[r] = v;
      }
    }
  }
  for (size_t i = 0; i < outputs_.size(); ++i)
    g->addOutput(mapped(output(i)), outputNames_[i]);
  return g;
}

std::unique_ptr<Model> Model::clone() const {
  auto m = std::make_unique<Model>();
  m->irVersion = irVersion;
  m->opsetImports = opsetImports;
  m->producerName = producerName;
  m->producerVersion = producerVersion;
  m->domain = domain;
  m->docString = docString;
  m->modelVersion = modelVersion;
  m->metadata = metadata;
  m->functionBlobs = functionBlobs;
  m->trainingInfoBlobs = trainingInfoBlobs;
  m->functionIds = functionIds;
  m->externalDataFiles = externalDataFiles;
  if (graph)
    m->graph = graph->clone();
  return m;
}

absl::StatusOr<OpId> Model::resolveOp(std::string_view type,
                                      std::string_view domain) const {
  std::optional<int64_t> version = opsetVersion(domain);
  if (!version)
    return absl::FailedPreconditionError(absl::StrCat(
        "the model imports no opset of domain '", std::string(domain),
        "' (needed for ", std::string(type), ")"));
  return onnxopt::resolveOp(domain, type, *version);
}

// ---------------------------------------------------------------- names

NameGenerator::NameGenerator(const Graph &g) {
  std::vector<std::string> names;
  g.collectNames(names);
  taken_.insert(names.begin(), names.end());
}

std::string NameGenerator::fresh(std::string_view base) {
  for (;;) {
    std::string candidate = absl::StrCat(std::string(base), "__", counter_++);
    if (taken_.insert(candidate).second)
      return candidate;
  }
}

} // namespace onnxopt
