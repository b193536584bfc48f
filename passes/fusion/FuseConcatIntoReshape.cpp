// fuse-concat-into-reshape
//   Reshape (X, Concat(parts))  ->  Reshape (X, constant)  when every part is
//   a constant or X's own dims: a dim at its own position becomes 0 ("copy",
//   allowzero 0 only; TRAPS.md 12), a static dim its value, and at most one
//   other becomes -1 when all the other entries are known non-zero (a
//   0-sized dim would make -1 ambiguous).
//
// Exact. Shape computations read syntactically: fold-shape-ops does the same
// through inference and symbols; this needs no inference and keeps working
// where a dim is unknown rather than symbolic.
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

/// One entry of a Reshape's shape being rebuilt.
struct Entry {
  enum Kind { Value, Copy, Unknown } kind;
  int64_t value = 0;
};

class ConcatIntoReshape final : public SimplePattern {
public:
  explicit ConcatIntoReshape(SimplePatternPass &pass)
      : SimplePattern("Reshape", pass) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || n.numInputs() < 2 || !n.input(0) || !n.input(1))
      return r.notifyMatchFailure(n, "opaque or malformed");
    const Node *concat = n.input(1)->definingNode();
    if (!isOp(concat, "Concat") || !(intAttr(*concat, "axis", 0) == 0 ||
                                     intAttr(*concat, "axis", 0) == -1))
      return r.notifyMatchFailure(n, "the shape is not a Concat");
    Value *x = n.input(0);
    bool allowzero = intAttr(n, "allowzero", 0) != 0;
    std::vector<Entry> entries;
    auto known = [&](int64_t v) {
      // A static 0 with allowzero 0 would read as "copy": unknown instead.
      entries.push_back(v == 0 && !allowzero ? Entry{Entry::Unknown}
                                             : Entry{Entry::Value, v});
    };
    for (size_t p = 0; p < concat->numInputs(); ++p) {
      Value *part = concat->input(p);
      if (auto c = constantInts(part)) {
        for (int64_t v : *c)
          entries.push_back(v == 0 && !allowzero ? Entry{Entry::Copy}
                                                 : Entry{Entry::Value, v});
        continue;
      }
      if (auto ref = dimsRef(part); ref && !ref->scalar) {
        for (int64_t j : ref->dims) {
          if (ref->x == x && !allowzero && j == int64_t(entries.size()))
            entries.push_back({Entry::Copy});
          else if (auto d = staticDim(ref->x, j))
            known(*d);
          else
            entries.push_back({Entry::Unknown});
        }
        continue;
      }
      auto len = rankOf(part) == 1 ? staticDim(part, 0) : std::nullopt;
      if (!len)
        return r.notifyMatchFailure(n, "a part of unknown length");
      entries.insert(entries.end(), size_t(*len), Entry{Entry::Unknown});
    }
    size_t unknown = 0, inferred = 0;
    for (const Entry &e : entries) {
      unknown += e.kind == Entry::Unknown;
      inferred += e.kind == Entry::Value && e.value == -1;
    }
    if (unknown > 1 || (unknown && inferred))
      return r.notifyMatchFailure(n, "more than one entry to infer");
    std::vector<int64_t> values;
    for (size_t k = 0; k < entries.size(); ++k) {
      const Entry &e = entries[k];
      if (unknown && e.kind != Entry::Unknown) {
        // -1 is computed from the others: each must be known non-zero.
        auto d = staticDim(x, int64_t(k));
        bool nonzero = e.kind == Entry::Value ? e.value > 0 : d && *d > 0;
        if (!nonzero)
          return r.notifyMatchFailure(n, "-1 beside an entry that may be 0");
      }
      values.push_back(e.kind == Entry::Value  ? e.value
                       : e.kind == Entry::Copy ? 0
                                               : -1);
    }
    Value *c = r.createInitializer(n.input(1)->name(), makeInt64Tensor(values));
    r.setOperand(n, 1, c);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseConcatIntoReshapePass() {
  return makeSimplePatternPass<ConcatIntoReshape>(
      "fuse-concat-into-reshape",
      "Turn a Reshape's Concat of constants and its input's own dims into a "
      "constant shape",
      "num-fused", "Reshape shapes made constant");
}

} // namespace onnxopt
