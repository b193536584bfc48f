// Unit tests of the reference interpreter and the driver's output comparison.
#include "backends/reference/Evaluator.h"
#include "driver/Verify.h"
#include "frontends/onnx/OnnxImporter.h"
#include "utils/OutputFile.h"

#include "absl/strings/str_cat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <unistd.h>

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

/// Y = Transpose(X) swapping the last two axes, for X of `dims` filled with
/// distinct `Word` patterns: Y's tensor and the bytes it must hold.
template <class Word>
std::pair<TensorPtr, std::string> transposeOf(std::string_view elem,
                                              std::vector<int64_t> dims) {
  int64_t b = dims[0], rows = dims[1], cols = dims[2];
  std::ostringstream text;
  text << "<ir_version: 8, opset_import: [\"\" : 17]>\ng (" << elem << "[" << b
       << "," << rows << "," << cols << "] X) => (" << elem << "[" << b << ","
       << cols << "," << rows
       << "] Y) {\n  Y = Transpose <perm = [0, 2, 1]> (X)\n}";
  auto m = parse(text.str());
  std::vector<Word> x(size_t(b * rows * cols)), y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = Word(i * 2654435761u + 1);
  for (int64_t k = 0; k < b; ++k)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        y[size_t((k * cols + j) * rows + i)] =
            x[size_t((k * rows + i) * cols + j)];
  std::string xb(x.size() * sizeof(Word), '\0'), yb(xb.size(), '\0');
  std::memcpy(xb.data(), x.data(), xb.size());
  std::memcpy(yb.data(), y.data(), yb.size());
  DataType dt = sizeof(Word) == 4 ? DataType::Float : DataType::Int64;
  auto outs =
      ref::evaluateModel(*m, {RefValue::of(std::make_shared<Tensor>(
                                 Tensor::fromBytes(dt, dims, std::move(xb))))});
  EXPECT_TRUE(outs.ok()) << outs.status();
  return {outs.ok() ? (*outs)[0].tensor : nullptr, yb};
}

template <class Word>
void checkDeferredTranspose(std::string_view elem, std::vector<int64_t> dims) {
  auto [y, want] = transposeOf<Word>(elem, dims);
  ASSERT_TRUE(y);
  // Large: deferred, produced piece by piece; any range, rows cut anywhere.
  ASSERT_TRUE(y->buffer()->deferred());
  EXPECT_EQ(y->byteSize(), want.size());
  size_t row = size_t(dims[1]) * sizeof(Word);
  for (auto [at, n] : std::vector<std::pair<size_t, size_t>>{
           {0, want.size()},
           {3, 5},
           {row - 2, 2 * row + 7},
           {want.size() / 2 + 1, want.size() / 2 - 1},
           {want.size() - 1, 1}}) {
    std::string got(n, '\0');
    y->buffer()->read(y->byteOffset() + at, n, got.data());
    EXPECT_EQ(got, want.substr(at, n)) << "range " << at << " + " << n;
  }
  // Compared without computing it all; a last byte that differs is seen.
  Tensor same = Tensor::fromBytes(y->dtype(), y->dims(), want);
  std::string off = want;
  off.back() ^= 1;
  Tensor other = Tensor::fromBytes(y->dtype(), y->dims(), off);
  EXPECT_TRUE(y->contentEquals(same));
  EXPECT_FALSE(y->contentEquals(other));
  // Two transposes of equal operands are equal, decided on the operands.
  auto [twin, unused] = transposeOf<Word>(elem, dims);
  ASSERT_TRUE(twin);
  EXPECT_TRUE(y->contentEquals(*twin));
  EXPECT_TRUE(twin->contentEquals(*y));
  EXPECT_TRUE(twin->buffer()->deferred());
  EXPECT_TRUE(y->buffer()->deferred());
  // Written to a file piece by piece.
  std::string path = ::testing::TempDir() + "deferred.bin";
  {
    auto out = OutputFile::create(path);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE((*out)->write(y->byteRange()).ok());
    ASSERT_TRUE((*out)->commit().ok());
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_TRUE(file.str() == want);
  std::remove(path.c_str());
  // Read whole, it is computed once and kept.
  EXPECT_TRUE(y->bytes() == want);
  EXPECT_FALSE(y->buffer()->deferred());
}

TEST(Transpose, LargeOutputsAreDeferredAndExact) {
  // Rows and columns that are multiples of neither the 32-element tiles nor
  // the 4x4 register blocks; several matrices.
  checkDeferredTranspose<uint32_t>("float", {3, 37, 10001});
  checkDeferredTranspose<uint64_t>("int64", {2, 33, 8003});
}

TEST(Transpose, SmallOutputsAreComputedAtOnce) {
  auto [y, want] = transposeOf<uint32_t>("float", {2, 5, 7});
  ASSERT_TRUE(y);
  EXPECT_FALSE(y->buffer()->deferred());
  EXPECT_TRUE(y->bytes() == want);
}

} // namespace
} // namespace onnxopt
