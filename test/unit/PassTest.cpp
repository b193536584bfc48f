// Unit tests for the pass infrastructure: pipelines, the pass manager,
// topo-sort.
#include "ir/Builder.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"
#include "passes/PassRegistry.h"
#include "passes/PatternRewriter.h"

#include "TestModels.h"

#include <gtest/gtest.h>

using namespace onnxopt;
using onnxopt::test::makeModel;

namespace {

TEST(Pipeline, ParsesPrintsAndReparsesToTheSameText) {
  auto p = parsePipeline(
      " cse, fixpoint( dce , eliminate_identity ){max-iterations=3},topo-sort");
  ASSERT_TRUE(p.ok()) << p.status();
  // Normalized: every option printed.
  EXPECT_EQ(p->str(), "cse,fixpoint(dce,eliminate-identity{max-iterations=10,"
                      "test-convergence=false}){max-iterations=3},topo-sort");
  auto again = parsePipeline(p->str());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->str(), p->str());
  EXPECT_TRUE(parsePipeline("")->empty());
}

TEST(Pipeline, ErrorsNameTheColumnAndAreUsageErrors) {
  auto p = parsePipeline("dce,fixpoint(cse,nope)");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(p.status().message()).find("column 18"),
            std::string::npos);
  EXPECT_FALSE(parsePipeline("fixpoint(dce").ok());
  EXPECT_FALSE(parsePipeline("dce{x=1}").ok());
  EXPECT_FALSE(parsePipeline("fixpoint(dce){max-iterations=-1}").ok());
}

TEST(Pipeline, OptLevelsParse) {
  for (int level = 0; level <= 3; ++level) {
    auto p = parsePipeline(optLevelPipeline(level));
    ASSERT_TRUE(p.ok()) << level;
    auto again = parsePipeline(p->str());
    ASSERT_TRUE(again.ok()) << level;
    EXPECT_EQ(again->str(), p->str());
  }
}

TEST(PassManager, RunsOnSubgraphsAndReachesAFixpoint) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Value *c = g.addInput("C", Type::tensor(DataType::Bool));
  Builder b(*m, g);
  Node *ifNode = *b.create("If", {c});
  for (const char *branch : {"then_branch", "else_branch"}) {
    auto body = std::make_unique<Graph>();
    Node *id = body->createNode(*resolveOp("", "Identity", 17), {x}, 1);
    Node *neg = body->createNode(*resolveOp("", "Neg", 17), {id->output(0)}, 1);
    body->addOutput(neg->output(0), "o");
    ifNode->setAttr(Attribute::makeGraph(branch, std::move(body)));
  }
  g.addOutput(ifNode->output(0), "Y");
  Instrumentation inst;
  inst.verifyEach = true;
  PassManager pm(*parsePipeline("fixpoint(eliminate-identity,dce)"), inst);
  auto changed = pm.run(*m);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  for (Graph *body : ifNode->subgraphs()) {
    EXPECT_EQ(body->numNodes(), 1u);
    EXPECT_EQ(body->firstNode()->input(0), x);
  }
  // A second run changes nothing.
  PassManager again(*parsePipeline("fixpoint(eliminate-identity,dce)"), inst);
  EXPECT_FALSE(*again.run(*m));
}

TEST(TopoSort, RestoresDefinitionBeforeUse) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Builder b(*m, g);
  Node *a = *b.create("Relu", {x});
  Node *c = *b.create("Neg", {a->output(0)});
  Node *d = *b.create("Abs", {x});
  g.addOutput(c->output(0), "Y");
  g.addOutput(d->output(0), "Z");
  c->moveBefore(a);
  ASSERT_FALSE(verifyModel(*m).ok());
  auto pass = createPass("topo-sort");
  PassContext ctx{*m};
  auto changed = pass->run(g, ctx);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(verifyModel(*m).ok());
  // Stable: Abs stays last, after the pair it did not depend on.
  EXPECT_EQ(g.firstNode(), a);
  EXPECT_EQ(g.lastNode(), d);
  EXPECT_FALSE(*pass->run(g, ctx));
}

TEST(PassOption, SizesAcceptSuffixes) {
  struct Dummy : Pass {
    std::string_view argument() const override { return "dummy"; }
    std::string_view description() const override { return ""; }
    absl::StatusOr<bool> run(Graph &, PassContext &) override { return false; }
    PassOption size{this, "max-size", "limit", PassOption::Kind::Size, "1M"};
    PassOption flag{this, "flag", "a flag", PassOption::Kind::Bool, "false"};
  } d;
  EXPECT_EQ(d.size.intValue(), 1 << 20);
  EXPECT_TRUE(d.size.set("64K").ok());
  EXPECT_EQ(d.size.intValue(), 64 << 10);
  EXPECT_TRUE(d.size.set("2G").ok());
  EXPECT_EQ(d.size.intValue(), int64_t(2) << 30);
  EXPECT_FALSE(d.size.set("12Q").ok());
  EXPECT_FALSE(d.size.set("-1").ok());
  EXPECT_TRUE(d.flag.set("1").ok());
  EXPECT_EQ(d.flag.text(), "true");
  EXPECT_FALSE(d.flag.set("yes").ok());
}

} // namespace

namespace {

/// Renames Relu to Abs and Abs to Relu: never converges.
class Flip final : public OpRewritePattern {
public:
  explicit Flip(std::string from) : OpRewritePattern(std::move(from)) {}
  bool matchAndRewrite(Node &n, Rewriter &) override {
    n.setOp(*resolveOp("", n.is("Relu") ? "Abs" : "Relu", 17));
    return true;
  }
};

/// Folds Neg(Neg(x)) to x through the Rewriter.
class FoldDoubleNeg final : public OpRewritePattern {
public:
  FoldDoubleNeg() : OpRewritePattern("Neg") {}
  bool matchAndRewrite(Node &n, Rewriter &r) override {
    Node *inner = n.input(0)->definingNode();
    if (!inner || !inner->is("Neg"))
      return r.notifyMatchFailure(n, "operand is not a Neg");
    Value *x = inner->input(0);
    r.replaceNode(n, {x});
    if (!inner->hasUses())
      r.eraseNode(*inner);
    return true;
  }
};

TEST(GreedyDriver, RevisitsWhatARewriteTouched) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *v = g.addInput("X", Type::tensor(DataType::Float));
  for (int i = 0; i < 8; ++i)
    v = g.createNode(*resolveOp("", "Neg", 17), {v}, 1)->output(0);
  Node *relu = g.createNode(*resolveOp("", "Relu", 17), {v}, 1);
  g.addOutput(relu->output(0), "Y");
  std::vector<std::unique_ptr<OpRewritePattern>> patterns;
  patterns.push_back(std::make_unique<FoldDoubleNeg>());
  GreedyRewriteConfig config;
  config.maxIterations = 2;
  config.testConvergence = true;
  auto changed = applyPatternsGreedily(g, patterns, config);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(g.numNodes(), 1u);
  EXPECT_EQ(relu->input(0), g.input(0));
  EXPECT_TRUE(verifyModel(*m).ok());
}

/// Rooted at Relu: points the graph output at the Relu's result and erases
/// the Abs after it, a node still on the worklist. With `replace`, then
/// creates a Sigmoid, which takes the Abs's freed slot.
class EraseQueuedAbs final : public OpRewritePattern {
public:
  explicit EraseQueuedAbs(bool replace)
      : OpRewritePattern("Relu"), replace_(replace) {}
  bool matchAndRewrite(Node &n, Rewriter &r) override {
    Use *u = n.output(0)->firstUse();
    Node *abs = u ? u->user() : nullptr;
    if (!abs || !abs->is("Abs"))
      return r.notifyMatchFailure(n, "no Abs after the Relu");
    r.replaceAllUsesWith(abs->output(0), n.output(0));
    erased = abs;
    r.eraseNode(*abs);
    if (replace_) {
      created =
          r.create(*resolveOp("", "Sigmoid", 17), {n.output(0)}, 1, nullptr);
      r.graph().outputUse(0).set(created->output(0));
    }
    return true;
  }
  const Node *erased = nullptr;
  const Node *created = nullptr;

private:
  bool replace_;
};

TEST(GreedyDriver, SkipsTheStaleEntryOfANodeErasedWhileQueued) {
  for (bool replace : {false, true}) {
    auto m = makeModel();
    Graph &g = *m->graph;
    Value *x = g.addInput("X", Type::tensor(DataType::Float));
    Node *relu = g.createNode(*resolveOp("", "Relu", 17), {x}, 1);
    Node *abs = g.createNode(*resolveOp("", "Abs", 17), {relu->output(0)}, 1);
    g.addOutput(abs->output(0), "Y");
    std::vector<std::unique_ptr<OpRewritePattern>> patterns;
    patterns.push_back(std::make_unique<EraseQueuedAbs>(replace));
    // The Abs is on the worklist only if some pattern is rooted at it.
    patterns.push_back(std::make_unique<Flip>("Abs"));
    auto *p = static_cast<EraseQueuedAbs *>(patterns[0].get());
    GreedyRewriteConfig config;
    config.testConvergence = true;
    // Under AddressSanitizer, reading the erased Abs's mark is reported.
    auto changed = applyPatternsGreedily(g, patterns, config);
    ASSERT_TRUE(changed.ok()) << changed.status();
    EXPECT_EQ(*changed, 1u);
    EXPECT_EQ(p->erased, abs);
    if (replace) { // the case the driver's stale count exists for
      EXPECT_EQ(p->created, abs);
    }
    EXPECT_EQ(g.numNodes(), replace ? 2u : 1u);
    EXPECT_TRUE(verifyModel(*m).ok());
  }
}

/// Records the nodes it is tried on; never matches.
class Record final : public OpRewritePattern {
public:
  explicit Record(std::string op, std::vector<const Node *> &seen)
      : OpRewritePattern(std::move(op)), seen_(seen) {}
  bool matchAndRewrite(Node &n, Rewriter &) override {
    seen_.push_back(&n);
    return false;
  }

private:
  std::vector<const Node *> &seen_;
};

TEST(GreedyDriver, VisitsRootNodesOnceInProgramOrderAndSkipsAbsentRoots) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *v = g.addInput("X", Type::tensor(DataType::Float));
  std::vector<const Node *> negs;
  for (int i = 0; i < 6; ++i) {
    Node *n = g.createNode(*resolveOp("", i % 2 ? "Neg" : "Relu", 17), {v}, 1);
    if (i % 2)
      negs.push_back(n);
    v = n->output(0);
  }
  g.addOutput(v, "Y");
  std::vector<const Node *> seen;
  std::vector<std::unique_ptr<OpRewritePattern>> patterns;
  patterns.push_back(std::make_unique<Record>("Neg", seen));
  patterns.push_back(std::make_unique<Record>("Neg", seen));
  EXPECT_EQ(*applyPatternsGreedily(g, patterns), 0u);
  // Two patterns per Neg, in program order; the Relus are never tried.
  std::vector<const Node *> expected;
  for (const Node *n : negs)
    expected.insert(expected.end(), {n, n});
  EXPECT_EQ(seen, expected);
  // No root op in the graph: nothing is tried, nothing changes.
  seen.clear();
  std::vector<std::unique_ptr<OpRewritePattern>> absent;
  absent.push_back(std::make_unique<Record>("Sigmoid", seen));
  EXPECT_EQ(*applyPatternsGreedily(g, absent), 0u);
  EXPECT_TRUE(seen.empty());
}

TEST(GreedyDriver, TestConvergenceReportsOscillation) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  g.addOutput(g.createNode(*resolveOp("", "Relu", 17), {x}, 1)->output(0), "Y");
  std::vector<std::unique_ptr<OpRewritePattern>> patterns;
  patterns.push_back(std::make_unique<Flip>("Relu"));
  patterns.push_back(std::make_unique<Flip>("Abs"));
  GreedyRewriteConfig config;
  config.maxIterations = 3;
  EXPECT_TRUE(*applyPatternsGreedily(g, patterns, config));
  config.testConvergence = true;
  auto st = applyPatternsGreedily(g, patterns, config);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.status().message()).find("did not converge in 3"),
            std::string::npos);
}

} // namespace

namespace {

TEST(Rewriter, ResolvesOpsAtTheModelsOpsetAndRefusesWithoutAnImport) {
  auto m = makeModel();
  m->opsetImports = {{"", 13}};
  Rewriter r(*m->graph, m.get());
  auto split = r.resolve("Split");
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(split->sinceVersion, 13); // split sizes an input from 13 on
  m->opsetImports = {{"", 11}};
  EXPECT_EQ(r.resolve("Split")->sinceVersion, 11);
  // No import of the domain: an error, so the pattern declines unchanged.
  EXPECT_FALSE(r.resolve("Foo", "com.example").ok());
  Rewriter none(*m->graph);
  EXPECT_FALSE(none.resolve("Relu").ok());
}

TEST(Rewriter, InPlaceChangesQueueTheNodeAndFreshNamesDoNotCollide) {
  auto m = makeModel();
  Graph &g = *m->graph;
  Value *x = g.addInput("X", Type::tensor(DataType::Float));
  Value *y = g.addInput("Y", Type::tensor(DataType::Float));
  Node *neg = g.createNode(*resolveOp("", "Neg", 17), {x}, 1);
  neg->output(0)->setName("w");
  Node *add = g.createNode(*resolveOp("", "Add", 17), {neg->output(0), x}, 1);
  g.addOutput(add->output(0), "Z");
  Rewriter r(g, m.get());
  r.startWorklist();
  // Each in-place change queues the node it changed, once.
  r.setOperand(*add, 1, y);
  r.setAttr(*add, Attribute::makeInt("k", 1));
  r.modifyInPlace(*add, [&] { add->name = "renamed"; });
  // The old operand of a changed use may have died: its producer is queued.
  r.setOperands(*add, {y, y});
  EXPECT_EQ(r.next(), add);
  EXPECT_EQ(r.next(), neg);
  EXPECT_EQ(r.next(), nullptr);
  EXPECT_EQ(add->input(0), y);
  EXPECT_EQ(add->attr("k")->i, 1);
  EXPECT_TRUE(r.removeAttr(*add, "k"));
  EXPECT_FALSE(r.removeAttr(*add, "k"));
  // Fresh initializer names avoid every name in the graph.
  Value *c1 =
      r.createInitializer("w", std::make_shared<Tensor>(Tensor::fromBytes(
                                   DataType::Float, {}, std::string(4, '\0'))));
  Value *c2 = r.createInitializer("w", c1->tensor());
  EXPECT_NE(c1->name(), "w");
  EXPECT_NE(c1->name(), c2->name());
  EXPECT_EQ(g.numInitializers(), 2u);
}

} // namespace
