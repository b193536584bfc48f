// Unit tests for the IR: use lists, RAUW, erase, builder, verifier, captures.
#include "ir/Builder.h"
#include "ir/Graph.h"
#include "ir/NewerSchemas.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "TestModels.h"

#include "onnx/defs/schema.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

using namespace onnxopt;
using onnxopt::test::makeModel;

namespace {

std::shared_ptr<const Tensor> floats(std::vector<float> v) {
  std::string bytes(reinterpret_cast<const char *>(v.data()), v.size() * 4);
  return std::make_shared<Tensor>(Tensor::fromBytes(
      DataType::Float, {int64_t(v.size())}, std::move(bytes)));
}

TEST(IR, UseListsTrackOperandsAndOutputs) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Builder b(*m, g);
  Node *add = *b.create("Add", {x, x});
  Node *relu = *b.create("Relu", {add->output(0)});
  g.addOutput(relu->output(0), "Y");
  EXPECT_EQ(x->numUses(), 2u);
  EXPECT_EQ(add->output(0)->numUses(), 1u);
  EXPECT_TRUE(add->output(0)->hasOneUse());
  EXPECT_TRUE(relu->output(0)->isGraphOutput());
  EXPECT_EQ(relu->output(0)->firstUse()->outputOf(), &g);
  add->setInput(1, nullptr);
  EXPECT_EQ(x->numUses(), 1u);
  EXPECT_TRUE(verifyModel(*m).ok());
}

TEST(IR, ReplaceAllUsesWithMovesEveryUseIncludingOutputs) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Builder b(*m, g);
  Node *id = *b.create("Identity", {x});
  Node *relu = *b.create("Relu", {id->output(0)});
  Node *neg = *b.create("Neg", {id->output(0)});
  g.addOutput(id->output(0), "I");
  g.addOutput(relu->output(0), "R");
  g.addOutput(neg->output(0), "N");
  id->output(0)->replaceAllUsesWith(x);
  EXPECT_TRUE(id->output(0)->useEmpty());
  // Relu, Neg, the output, and still the Identity itself.
  EXPECT_EQ(x->numUses(), 4u);
  EXPECT_EQ(relu->input(0), x);
  EXPECT_EQ(g.output(0), x);
  // The output keeps its contractual name though its value changed.
  EXPECT_EQ(g.outputName(0), "I");
  id->erase();
  EXPECT_EQ(x->numUses(), 3u);
  EXPECT_EQ(g.numNodes(), 2u);
  EXPECT_TRUE(verifyModel(*m).ok());
}

TEST(IR, ReplaceUsesWithIfIsSelective) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Value *y = g.addInput("Z", Type::tensor(DataType::Float));
  Builder b(*m, g);
  Node *a = *b.create("Relu", {x});
  Node *c = *b.create("Neg", {x});
  x->replaceUsesWithIf(y, [&](Use &u) { return u.user() == c; });
  EXPECT_EQ(a->input(0), x);
  EXPECT_EQ(c->input(0), y);
}

TEST(IR, EraseWhileIteratingIsSafe) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Builder b(*m, g);
  for (int i = 0; i < 5; ++i)
    (void)*b.create("Relu", {x});
  for (Node *n : g.nodes())
    n->erase();
  EXPECT_EQ(g.numNodes(), 0u);
  EXPECT_TRUE(x->useEmpty());
}

TEST(IR, BuilderRejectsUnknownOpsAndKeepsCustomDomainsOpaque) {
  auto m = makeModel();
  m->opsetImports.push_back({"com.acme", 1});
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Builder b(*m, g);
  EXPECT_FALSE(b.create("NoSuchOp", {x}).ok());
  EXPECT_FALSE(b.create("Relu", {x}, 1, "com.missing").ok());
  Node *custom = *b.create("Frob", {x}, 1, "com.acme");
  EXPECT_TRUE(custom->op().isOpaque());
  Node *relu = *b.create("Relu", {x});
  EXPECT_FALSE(relu->op().isOpaque());
  EXPECT_EQ(relu->op().sinceVersion, 14);
  EXPECT_TRUE(relu->is("Relu", "ai.onnx"));
}

TEST(IR, BuilderInsertsBeforeThePoint) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Builder b(*m, g);
  Node *last = *b.create("Relu", {x});
  b.setInsertionPoint(last);
  Node *first = *b.create("Neg", {x});
  EXPECT_EQ(g.firstNode(), first);
  EXPECT_EQ(first->next(), last);
}

TEST(IR, VerifierRejectsUseBeforeDefinition) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Builder b(*m, g);
  Node *a = *b.create("Relu", {x});
  Node *c = *b.create("Neg", {a->output(0)});
  g.addOutput(c->output(0), "Y");
  c->moveBefore(a);
  absl::Status st = verifyModel(*m);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("not defined before its use"),
            std::string::npos);
  a->moveBefore(c);
  EXPECT_TRUE(verifyModel(*m).ok());
}

TEST(IR, SubgraphCapturesAreUsesOfTheOuterValue) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Value *c = g.addInput("C", Type::tensor(DataType::Bool));
  Builder b(*m, g);
  Node *relu = *b.create("Relu", {x});
  Node *ifNode = *b.create("If", {c});
  for (const char *branch : {"then_branch", "else_branch"}) {
    auto body = std::make_unique<Graph>();
    body->name = branch;
    Node *inner =
        body->createNode(*resolveOp("", "Neg", 17), {relu->output(0)}, 1);
    inner->output(0)->setName(std::string(branch) + "_out");
    body->addOutput(inner->output(0));
    ifNode->setAttr(Attribute::makeGraph(branch, std::move(body)));
  }
  g.addOutput(ifNode->output(0), "Y");
  // Both bodies use the outer Relu result: it cannot be erased or silently
  // lost.
  EXPECT_EQ(relu->output(0)->numUses(), 2u);
  EXPECT_TRUE(relu->hasUses());
  EXPECT_TRUE(verifyModel(*m).ok());
  // RAUW on the outer value rewires the bodies too.
  relu->output(0)->replaceAllUsesWith(x);
  EXPECT_EQ(ifNode->subgraphs()[0]->firstNode()->input(0), x);
  relu->erase();
  EXPECT_TRUE(verifyModel(*m).ok());
  // A body node moved ahead of the outer definition is caught.
  EXPECT_EQ(ifNode->subgraphs()[1]->parentNode(), ifNode);
}

TEST(IR, VerifierRejectsCaptureOfALaterOuterValue) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Value *c = g.addInput("C", Type::tensor(DataType::Bool));
  Builder b(*m, g);
  Node *ifNode = *b.create("If", {c});
  Node *later = *b.create("Relu", {x});
  auto body = std::make_unique<Graph>();
  Node *inner =
      body->createNode(*resolveOp("", "Neg", 17), {later->output(0)}, 1);
  body->addOutput(inner->output(0), "o");
  ifNode->setAttr(Attribute::makeGraph("then_branch", std::move(body)));
  EXPECT_FALSE(verifyModel(*m).ok());
}

TEST(IR, VerifierEndsASubgraphsScopeWithIt) {
  // A value defined in a branch is visible neither in the other branch nor
  // in the outer graph after the If (the verifier's marks are cleared when
  // a subgraph ends), and a second run sees the same.
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Value *c = g.addInput("C", Type::tensor(DataType::Bool));
  Builder b(*m, g);
  Node *ifNode = *b.create("If", {c});
  auto thenBody = std::make_unique<Graph>();
  Node *inner = thenBody->createNode(*resolveOp("", "Neg", 17), {x}, 1);
  thenBody->addOutput(inner->output(0), "t");
  ifNode->setAttr(Attribute::makeGraph("then_branch", std::move(thenBody)));
  auto elseBody = std::make_unique<Graph>();
  Node *other =
      elseBody->createNode(*resolveOp("", "Relu", 17), {inner->output(0)}, 1);
  elseBody->addOutput(other->output(0), "e");
  ifNode->setAttr(Attribute::makeGraph("else_branch", std::move(elseBody)));
  EXPECT_FALSE(verifyModel(*m).ok());
  other->setInput(0, x);
  EXPECT_TRUE(verifyModel(*m).ok());
  Node *after = *b.create("Abs", {inner->output(0)});
  g.addOutput(after->output(0), "Y");
  absl::Status st = verifyModel(*m);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("not defined before its use"),
            std::string::npos);
  EXPECT_FALSE(verifyModel(*m).ok());
  after->setInput(0, ifNode->output(0));
  EXPECT_TRUE(verifyModel(*m).ok());
}

TEST(IR, SlotPoolReusesReleasedSlotsAndKeepsAlignment) {
  SlotPool pool(40, 8);
  std::vector<void *> slots;
  for (int i = 0; i < 1000; ++i) {
    slots.push_back(pool.allocate());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(slots.back()) % 8, 0u);
  }
  // Slots of one chunk are consecutive, in allocation order.
  EXPECT_EQ(static_cast<char *>(slots[1]) - static_cast<char *>(slots[0]), 40);
  pool.release(slots[500]);
  pool.release(slots[7]);
  EXPECT_EQ(pool.allocate(), slots[7]);
  EXPECT_EQ(pool.allocate(), slots[500]);
  void *fresh = pool.allocate();
  for (void *s : slots)
    EXPECT_NE(fresh, s);
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan a released slot stays poisoned until it is handed out again.
  pool.release(slots[3]);
  EXPECT_TRUE(__asan_address_is_poisoned(slots[3]));
  EXPECT_EQ(pool.allocate(), slots[3]);
  EXPECT_FALSE(__asan_address_is_poisoned(slots[3]));
#endif
}

TEST(IR, StructuralMutationsCountWhatTheVerifierChecks) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Builder b(*m, g);
  Node *relu = *b.create("Relu", {x});
  g.addOutput(relu->output(0), "Y");
  uint64_t before = Graph::structuralMutations();
  // Types, names and attributes without subgraphs are not structure.
  relu->output(0)->setType(Type::tensor(DataType::Float, {Dim::constant(2)}));
  relu->name = "r";
  EXPECT_EQ(Graph::structuralMutations(), before);
  Node *neg = *b.create("Neg", {x});
  EXPECT_GT(Graph::structuralMutations(), before);
  before = Graph::structuralMutations();
  g.outputUse(0).set(neg->output(0));
  EXPECT_GT(Graph::structuralMutations(), before);
  before = Graph::structuralMutations();
  relu->erase();
  EXPECT_GT(Graph::structuralMutations(), before);
}

TEST(IR, OpCensusFollowsCreateEraseAndSetOp) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Builder b(*m, g);
  Node *r1 = *b.create("Relu", {x});
  Node *r2 = *b.create("Relu", {r1->output(0)});
  EXPECT_EQ(g.numNodesOfType("Relu"), 2u);
  EXPECT_EQ(g.numNodesOfType("Abs"), 0u);
  r2->setOp(*resolveOp("", "Abs", 17));
  EXPECT_EQ(g.numNodesOfType("Relu"), 1u);
  EXPECT_EQ(g.numNodesOfType("Abs"), 1u);
  r2->erase();
  EXPECT_EQ(g.numNodesOfType("Abs"), 0u);
  r1->moveBefore(r1);
  EXPECT_EQ(g.numNodesOfType("Relu"), 1u);
}

TEST(IR, ValueIdsAreDenseInCreationOrderAndNotReused) {
  auto m = makeModel();
  Graph &g = *m->graph;
  EXPECT_EQ(g.valueIdBound(), 0u);
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Value *w = g.addInitializer("W", floats({1, 2}));
  Builder b(*m, g);
  Node *add = *b.create("Add", {x, w});
  EXPECT_EQ(x->id(), 0u);
  EXPECT_EQ(w->id(), 1u);
  EXPECT_EQ(add->output(0)->id(), 2u);
  add->erase();
  Node *mul = *b.create("Mul", {x, w});
  EXPECT_EQ(mul->output(0)->id(), 3u);
  EXPECT_EQ(g.valueIdBound(), 4u);
}

TEST(IR, MayHaveSubgraphsIsSetByAttachingAndClearedByAWalk) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *c = g.addInput("C", Type::tensor(DataType::Bool));
  Builder b(*m, g);
  EXPECT_FALSE(g.mayHaveSubgraphs());
  Node *ifNode = *b.create("If", {c});
  EXPECT_FALSE(g.mayHaveSubgraphs());
  auto body = std::make_unique<Graph>();
  body->addOutput(c, "o");
  ifNode->setAttr(Attribute::makeGraph("then_branch", std::move(body)));
  EXPECT_TRUE(g.mayHaveSubgraphs());
  g.refreshMayHaveSubgraphs();
  EXPECT_TRUE(g.mayHaveSubgraphs());
  ifNode->erase();
  g.refreshMayHaveSubgraphs();
  EXPECT_FALSE(g.mayHaveSubgraphs());
}

TEST(IR, InitializersAreConstantsAndInputDefaultsAreNot) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *w = g.addInitializer("W", floats({1, 2}));
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  x->setTensor(floats({3, 4}));
  EXPECT_TRUE(w->isConstant());
  EXPECT_FALSE(x->isConstant());
  ASSERT_TRUE(w->type().shape());
  EXPECT_EQ((*w->type().shape())[0].value(), 2);
}

TEST(IR, NameGeneratorSkipsNamesInSubgraphs) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *c = g.addInput("C", Type::tensor(DataType::Bool));
  Node *ifNode = g.createNode(*resolveOp("", "If", 17), {c}, 1);
  auto body = std::make_unique<Graph>();
  Node *inner = body->createNode(*resolveOp("", "Neg", 17), {c}, 1);
  inner->output(0)->setName("t__0");
  body->addOutput(inner->output(0));
  ifNode->setAttr(Attribute::makeGraph("then_branch", std::move(body)));
  NameGenerator names(g);
  EXPECT_EQ(names.fresh("t"), "t__1");
  EXPECT_EQ(names.fresh("t"), "t__2");
}

TEST(IR, TypesPrintInTextSyntax) {
  EXPECT_EQ(
      Type::tensor(DataType::Float, {Dim::symbol("N"), Dim::constant(3), Dim()})
          .str(),
      "float[N,3,?]");
  EXPECT_EQ(Type::tensor(DataType::Int64).str(), "int64");
  EXPECT_EQ(Type::tensor(DataType::Int64, {}).str(), "int64[]");
  EXPECT_EQ(Type::sequence(Type::tensor(DataType::Float)).str(), "seq(float)");
  EXPECT_EQ(elementSize(DataType::BFloat16), 2u);
  EXPECT_EQ(parseDataTypeName("float16"), DataType::Float16);
}

} // namespace

namespace {

TEST(IR, CloneIsADeepCopyThatPrintsTheSameAndSharesTensors) {
  auto m = makeModel();
  m->producerName = "test";
  m->metadata.emplace_back("k", "v");
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float, {Dim::constant(2)}));
  Value *c = g.addInput("C", Type::tensor(DataType::Bool));
  Value *w = g.addInitializer("W", floats({1, 2}));
  Builder b(*m, g);
  Node *add = *b.create("Add", {x, w});
  add->name = "add";
  add->output(0)->setName("a");
  Node *ifNode = *b.create("If", {c});
  ifNode->output(0)->setName("y");
  for (const char *branch : {"then_branch", "else_branch"}) {
    auto body = std::make_unique<Graph>();
    body->name = branch;
    // The body reads the outer `a`: the copy must read the copy's `a`.
    Node *inner =
        body->createNode(*resolveOp("", "Neg", 17), {add->output(0)}, 1);
    inner->output(0)->setName(std::string(branch) + "_out");
    body->addOutput(inner->output(0));
    ifNode->setAttr(Attribute::makeGraph(branch, std::move(body)));
  }
  g.addOutput(ifNode->output(0), "y");
  ASSERT_TRUE(verifyModel(*m).ok());

  auto copy = m->clone();
  ASSERT_TRUE(verifyModel(*copy).ok());
  EXPECT_EQ(printModel(*copy), printModel(*m)); // every element printed
  EXPECT_EQ(copy->producerName, "test");
  EXPECT_EQ(copy->metadata, m->metadata);
  // Weights are shared, not copied.
  EXPECT_EQ(copy->graph->initializer(0)->tensor().get(), w->tensor().get());
  // The copy's subgraphs read the copy's values and name their parent.
  Graph &cg = *copy->graph;
  Node *cAdd = cg.firstNode(), *cIf = cAdd->next();
  EXPECT_NE(cAdd, add);
  for (Graph *sub : cIf->subgraphs()) {
    EXPECT_EQ(sub->firstNode()->input(0), cAdd->output(0));
    EXPECT_EQ(sub->parentNode(), cIf);
  }
  // Changing the copy leaves the original alone.
  cAdd->output(0)->replaceAllUsesWith(cg.input(0));
  cAdd->erase();
  EXPECT_TRUE(verifyModel(*copy).ok());
  EXPECT_EQ(g.numNodes(), 2u);
  EXPECT_EQ(add->output(0)->numUses(), 2u);
  EXPECT_TRUE(verifyModel(*m).ok());
}

} // namespace

// ----------------------------------------------- opsets above ONNX 1.12's

TEST(NewerOpsets, ResolveOursOnnxsOrOpaque) {
  // Changed at 18 (axes as an operand): our schema, with its version.
  auto mean = resolveOp("", "ReduceMean", 21);
  ASSERT_TRUE(mean.ok());
  EXPECT_EQ(mean->sinceVersion, 18);
  EXPECT_EQ(mean->schema->inputs().size(), 2u);
  // Unchanged since 14: ONNX's.
  auto relu = resolveOp("", "Relu", 23);
  ASSERT_TRUE(relu.ok());
  EXPECT_EQ(relu->sinceVersion, 14);
  // New ops exist from their version only.
  EXPECT_FALSE(resolveOp("", "Gelu", 19).ok());
  EXPECT_EQ(resolveOp("", "Gelu", 20)->sinceVersion, 20);
  EXPECT_EQ(resolveOp("", "Attention", 23)->sinceVersion, 23);
  // A version this build does not define stays opaque.
  EXPECT_TRUE(resolveOp("", "QuantizeLinear", 19)->isOpaque());
  EXPECT_FALSE(resolveOp("", "QuantizeLinear", 18)->isOpaque());
  // Beyond what this build types: opaque.
  EXPECT_TRUE(resolveOp("", "Relu", kMaxDefaultOpset + 1)->isOpaque());
  EXPECT_EQ(registryMaxVersion(""), kMaxDefaultOpset);
}

TEST(NewerOpsets, DocsListEveryVersion) {
  // docs/opset-conversion.md has one row per opset: the versions defined,
  // then the ones that are not.
  std::ifstream in(std::string(ONNXOPT_SOURCE_DIR) +
                   "/docs/opset-conversion.md");
  std::stringstream docs;
  docs << in.rdbuf();
  std::map<int, std::pair<std::string, std::string>> rows;
  for (const NewerVersion &v : newerVersions()) {
    std::string &list =
        v.defined ? rows[v.version].first : rows[v.version].second;
    list += (list.empty() ? "" : ", ") + v.op;
  }
  for (const auto &[version, lists] : rows) {
    std::string row = "| " + std::to_string(version) + " | " + lists.first +
                      " | " + (lists.second.empty() ? "-" : lists.second) +
                      " |";
    EXPECT_NE(docs.str().find(row), std::string::npos) << "missing: " << row;
  }
}
