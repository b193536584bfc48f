// dedup-initializers: merges constants with the same dtype, shape and bytes.
//
// Before:  <float[2] A = {1, 2}, float[2] B = {1, 2}>  y = Add (A, B)
// After:   <float[2] A = {1, 2}>                       y = Add (A, A)
//
// Preconditions: both are constants of this graph (never a graph input's
// overridable default), dense, with equal dtype, dims and bytes (onnxsim#265:
// not merely equal values). The first in order survives. Exact.

#include "passes/Pass.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace onnxopt {

namespace {

class DedupInitializersPass final : public Pass {
public:
  std::string_view argument() const override { return "dedup-initializers"; }
  std::string_view description() const override {
    return "Merge initializers with identical dtype, shape and bytes";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    // Grouped by dtype, dims and byte size; bytes compared only within a group.
    // Looked up by key; never iterated.
    absl::flat_hash_map<std::string, std::vector<Value *>> groups;
    absl::flat_hash_set<const Value *> merged;
    for (size_t i = 0; i < g.numInitializers(); ++i) {
      Value *v = g.initializer(i);
      const auto &t = v->tensor();
      if (!t || v->sparse())
        continue;
      std::string key = absl::StrCat(static_cast<int>(t->dtype()), ":",
                                     absl::StrJoin(t->dims(), ","), ":",
                                     t->byteSize(), ":", t->strings().size());
      auto &group = groups[key];
      Value *twin = nullptr;
      for (Value *c : group)
        if (c->tensor()->contentEquals(*t)) {
          twin = c;
          break;
        }
      if (!twin) {
        group.push_back(v);
        continue;
      }
      v->replaceAllUsesWith(twin);
      merged.insert(v);
    }
    size_t n = g.eraseInitializersIf(
        [&](const Value &v) { return merged.contains(&v); });
    numMerged += n;
    return n != 0;
  }

private:
  Statistic numMerged{this, "num-merged", "Initializers merged"};
};

} // namespace

std::unique_ptr<Pass> createDedupInitializersPass() {
  return std::make_unique<DedupInitializersPass>();
}

} // namespace onnxopt
