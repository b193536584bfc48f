// Unit tests of the reference interpreter and the driver's output comparison.
#include "backends/reference/Evaluator.h"
#include "driver/Verify.h"
#include "frontends/onnx/OnnxImporter.h"

#include "absl/strings/str_cat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace onnxopt {
namespace {

using ref::RefValue;

std::unique_ptr<Model> parse(std::string_view text) {
  auto m = importModelText(text, ".");
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

RefValue floats(std::vector<float> v, std::vector<int64_t> dims) {
  std::string bytes(v.size() * 4, '\0');
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return RefValue::of(std::make_shared<Tensor>(
      Tensor::fromBytes(DataType::Float, std::move(dims), std::move(bytes))));
}

std::vector<float> values(const RefValue &v) {
  ref::View<float> view(*v.tensor);
  return std::vector<float>(view.data(), view.data() + view.size());
}

TEST(Float16, RoundsToNearestEvenAndKeepsSpecials) {
  EXPECT_EQ(ref::Float16(1.0f).bits, 0x3c00);
  EXPECT_EQ(ref::Float16(65504.0f).bits, 0x7bff);
  EXPECT_EQ(ref::Float16(65520.0f).bits, 0x7c00); // rounds up to inf
  EXPECT_EQ(ref::Float16(5.9604644775390625e-8f).bits, 0x0001);
  // 1 + 2^-11 is halfway between 1 and the next half: ties go to even (1).
  EXPECT_EQ(ref::Float16(1.0f + 0x1.0p-11f).bits, 0x3c00);
  EXPECT_TRUE(std::isnan(float(ref::Float16(std::nanf("")))));
  for (uint32_t b = 0; b < 0x7c00; b += 7) // every finite half round-trips
    EXPECT_EQ(ref::Float16(ref::Float16::toFloat(uint16_t(b))).bits, b);
  EXPECT_EQ(ref::BFloat16(1.00390625f).bits, 0x3f80); // tie to even
  EXPECT_EQ(ref::BFloat16(1.01171875f).bits, 0x3f82);
}

TEST(Evaluator, RunsAGraphWithBroadcastingAndFreesNothingItNeeds) {
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2,3] X, float[3] B) => (float[2,3] Y, float[2,3] Z) {
  s = Add (X, B)
  Y = Relu (s)
  Z = Mul (s, s)
})");
  ASSERT_TRUE(m);
  auto outs = ref::evaluateModel(
      *m, {floats({-1, 2, -3, 4, -5, 6}, {2, 3}), floats({1, 1, 1}, {3})});
  ASSERT_TRUE(outs.ok()) << outs.status();
  EXPECT_EQ(values((*outs)[0]), (std::vector<float>{0, 3, 0, 5, 0, 7}));
  EXPECT_EQ(values((*outs)[1]), (std::vector<float>{0, 9, 4, 25, 16, 49}));
}

TEST(Evaluator, SubgraphsSeeOuterValues) {
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
g (bool C, float[2] X) => (float[2] Y) {
  a = Neg (X)
  Y = If <then_branch = t () => (float[2] o) { o = Abs (a) },
          else_branch = e () => (float[2] p) { p = Identity (a) }> (C)
})");
  ASSERT_TRUE(m);
  auto cond = std::make_shared<Tensor>(
      Tensor::fromBytes(DataType::Bool, {}, std::string(1, '\1')));
  auto outs =
      ref::evaluateModel(*m, {RefValue::of(cond), floats({1, -2}, {2})});
  ASSERT_TRUE(outs.ok()) << outs.status();
  EXPECT_EQ(values((*outs)[0]), (std::vector<float>{1, 2}));
}

TEST(Evaluator, ErrorsNameTheNodeAndLimitsHold) {
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2] X) => (float[2] Y) <int64[1] I = {5}> {
  Y = Gather <axis = 0> (X, I)
})");
  ASSERT_TRUE(m);
  auto outs = ref::evaluateModel(*m, {floats({1, 2}, {2})});
  ASSERT_FALSE(outs.ok());
  EXPECT_NE(std::string(outs.status().message()).find("(Gather)"),
            std::string::npos);

  auto big = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[1] X) => (float[1000,1000] Y) <int64[2] S = {1000, 1000}> {
  Y = Expand (X, S)
})");
  ASSERT_TRUE(big);
  ref::EvalLimits limits;
  limits.maxTensorBytes = 1 << 20;
  auto huge = ref::evaluateModel(*big, {floats({1}, {1})}, limits);
  ASSERT_FALSE(huge.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(huge.status()));
}

TEST(CompareOutputs, ExactToleranceNaNAndMissingOutputs) {
  auto a = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2] X) => (float[2] Y) { Y = Neg (X) })");
  auto b = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2] X) => (float[2] Z) { Z = Neg (X) })");
  ASSERT_TRUE(a && b);
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<RefValue> want{floats({1.0f, nan}, {2})};
  std::vector<RefValue> same{floats({1.0f, nan}, {2})};
  std::vector<RefValue> close{floats({1.000001f, nan}, {2})};
  const Graph &ga = *a->graph;
  EXPECT_TRUE(compareOutputs(ga, want, ga, same, true, 0, 0).equal);
  Comparison exact = compareOutputs(ga, want, ga, close, true, 0, 0);
  EXPECT_FALSE(exact.equal);
  EXPECT_NE(exact.message.find("not bit-identical"), std::string::npos);
  EXPECT_TRUE(compareOutputs(ga, want, ga, close, false, 1e-4, 1e-5).equal);
  Comparison far =
      compareOutputs(ga, want, ga, {floats({2, nan}, {2})}, false, 1e-4, 1e-5);
  EXPECT_FALSE(far.equal);
  EXPECT_NE(far.message.find("worst at element 0"), std::string::npos);
  // A renamed output is a failure, not a skip.
  Comparison renamed =
      compareOutputs(ga, want, *b->graph, same, false, 1e-4, 1e-5);
  EXPECT_FALSE(renamed.equal);
  EXPECT_NE(renamed.message.find("'Y' is missing"), std::string::npos);
}

TEST(CompareOutputs, ToleranceScalesWithTheOutputsRms) {
  auto a = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[3] X) => (float[3] Y) { Y = Neg (X) })");
  ASSERT_TRUE(a);
  const Graph &g = *a->graph;
  std::vector<RefValue> want = {floats({100, 0.001f, -50}, {3})};
  // The near-zero element is off by 50% of itself, but by 5e-6 of the RMS:
  // rounding in a sum of large terms moves it so.
  std::vector<RefValue> nearZero = {floats({100, 0.0015f, -50}, {3})};
  EXPECT_TRUE(compareOutputs(g, want, g, nearZero, false, 1e-3, 1e-5).equal);
  // The same infinity is equal (inf - inf is NaN, not an error).
  float inf = std::numeric_limits<float>::infinity();
  std::vector<RefValue> infs = {floats({inf, -inf, 1}, {3})};
  EXPECT_TRUE(compareOutputs(g, infs, g, infs, false, 1e-3, 1e-5).equal);
  EXPECT_FALSE(compareOutputs(g, infs, g, {floats({inf, inf, 1}, {3})}, false,
                              1e-3, 1e-5)
                   .equal);
  // A 1% error on a large element is not rounding.
  std::vector<RefValue> drift = {floats({101, 0.001f, -50}, {3})};
  Comparison c = compareOutputs(g, want, g, drift, false, 1e-3, 1e-5);
  EXPECT_FALSE(c.equal);
  EXPECT_NE(c.message.find("output's RMS"), std::string::npos);
}

TEST(CompareOutputs, ThroughADiscontinuity) {
  // The optimized model's scale differs in the last bits: TopK then picks the
  // other of two near-tied elements. The value feeding TopK matches within
  // tolerance, and from the original's value TopK gives the original's
  // output: accepted. A 1% scale is caught at that value.
  auto model = [&](const char *scale) {
    return parse(absl::StrCat(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[2] X) => (float[1] V, int64[1] I) <float[2] c = {)",
                              scale, R"(, 1.0}, int64[1] k = {1}>
{ a = Mul (X, c)
  V, I = TopK (a, k) })"));
  };
  auto original = model("1.0"), rounded = model("1.00000024"),
       drifted = model("1.01");
  ASSERT_TRUE(original && rounded && drifted);
  std::vector<RefValue> ins = {floats({1.0f, 1.00000012f}, {2})};
  auto want = ref::evaluateModel(*original, ins);
  auto got = ref::evaluateModel(*rounded, ins);
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_FALSE(compareOutputs(*original->graph, *want, *rounded->graph, *got,
                              false, 1e-3, 1e-5)
                   .equal); // index 0 instead of 1
  size_t cuts = 0;
  EXPECT_TRUE(compareThroughDiscontinuities(*original, *rounded, ins, *want,
                                            1e-3, 1e-5, cuts)
                  .equal);
  EXPECT_EQ(cuts, 1u);
  Comparison drift = compareThroughDiscontinuities(*original, *drifted, ins,
                                                   *want, 1e-3, 1e-5, cuts);
  EXPECT_FALSE(drift.equal);
  EXPECT_NE(drift.message.find("value 'a'"), std::string::npos)
      << drift.message;
}

TEST(RandomInputs, SeededBoundAndDeterministic) {
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
g (float[N,3] X, int64[N] I) => (float[N,3] Y) { Y = Neg (X) })");
  ASSERT_TRUE(m);
  ShapeBindings shapes;
  ASSERT_TRUE(parseShapeBinding("N=4", shapes).ok());
  EXPECT_FALSE(parseShapeBinding("N", shapes).ok());
  std::vector<std::string> notes;
  auto a = randomInputs(*m->graph, shapes, 1, notes);
  auto b = randomInputs(*m->graph, shapes, 1, notes);
  auto c = randomInputs(*m->graph, shapes, 2, notes);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ((*a)[0].tensor->dims(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ((*a)[0].tensor->bytes(), (*b)[0].tensor->bytes());
  EXPECT_NE((*a)[0].tensor->bytes(), (*c)[0].tensor->bytes());
  for (int64_t v : ref::toInt64s(*(*a)[1].tensor))
    EXPECT_TRUE(v >= 0 && v < 10);
  EXPECT_TRUE(notes.empty());
}

} // namespace
} // namespace onnxopt
