// Unit tests of utils/: the parallel loop, deferred buffers and their writes.
#include "utils/MappedFile.h"
#include "utils/OutputFile.h"
#include "utils/Parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

namespace onnxopt {
namespace {

TEST(Parallel, EveryItemOnceAndNestedLoopsRunInline) {
  for (int64_t n : {0, 1, 7, 1000, 100003}) {
    std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
    std::atomic<int> inner{0};
    parallelFor(n, 10, [&](int64_t b, int64_t e) {
      EXPECT_LE(0, b);
      EXPECT_LE(b, e);
      EXPECT_LE(e, n);
      for (int64_t i = b; i < e; ++i)
        ++seen[size_t(i)];
      // A loop inside a range of a split loop runs on that range's thread,
      // whole (an outer loop too small to split leaves the cores free).
      std::thread::id self = std::this_thread::get_id();
      parallelFor(100, 1, [&](int64_t ib, int64_t ie) {
        if (n >= 20) {
          EXPECT_EQ(std::this_thread::get_id(), self);
        }
        inner += int(ie - ib);
      });
    });
    for (auto &s : seen)
      EXPECT_EQ(s.load(), 1);
    if (n > 0) {
      EXPECT_EQ(inner.load() % 100, 0);
    }
  }
  EXPECT_GE(availableCores(), 1);
}

/// Byte i is i * 7 + 3 (mod 256), produced on demand; counts what it made.
class Counting final : public DeferredBuffer {
public:
  explicit Counting(size_t size) : DeferredBuffer(size) {}
  size_t granule() const override { return 1000; }
  mutable std::atomic<size_t> produced{0};

protected:
  void produce(size_t offset, size_t size, char *dst) const override {
    for (size_t i = 0; i < size; ++i)
      dst[i] = char((offset + i) * 7 + 3);
    produced += size;
  }
};

std::string expected(size_t offset, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = char((offset + i) * 7 + 3);
  return s;
}

TEST(DeferredBuffer, ReadsRangesThenComputesOnceWhenReadWhole) {
  Counting b(12345);
  EXPECT_TRUE(b.deferred());
  std::string got(100, '\0');
  b.read(999, 100, got.data());
  EXPECT_EQ(got, expected(999, 100));
  EXPECT_EQ(b.produced.load(), 100u);
  EXPECT_EQ(std::string(b.data(), b.size()), expected(0, b.size()));
  EXPECT_FALSE(b.deferred());
  size_t after = b.produced.load();
  b.read(5, 100, got.data()); // from the kept bytes now
  EXPECT_EQ(got, expected(5, 100));
  EXPECT_EQ(b.produced.load(), after);
}

TEST(DeferredBuffer, WrittenPieceByPieceWithoutBeingComputedWhole) {
  // Larger than the writer's staging pieces, not a multiple of its granule.
  auto b = std::make_shared<Counting>((5 << 20) + 777);
  std::string path = ::testing::TempDir() + "deferred-write.bin";
  {
    auto out = OutputFile::create(path);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE((*out)->write("head").ok());
    ASSERT_TRUE((*out)->write(ByteRange{b.get(), 11, b->size() - 11}).ok());
    ASSERT_TRUE((*out)->commit().ok());
  }
  EXPECT_TRUE(b->deferred());
  EXPECT_EQ(b->produced.load(), b->size() - 11);
  std::ifstream in(path, std::ios::binary);
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_TRUE(file.str() == "head" + expected(11, b->size() - 11));
  std::remove(path.c_str());
}

} // namespace
} // namespace onnxopt
