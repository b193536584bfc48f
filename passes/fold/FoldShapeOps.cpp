// fold-shape-ops replaces int64 shape computations whose value is fully
// static with constants:
//   s = Shape (X)                   # X: float[batch, 3, 224, 224]
//   c = Gather <axis = 0> (s, one)  # one = {1}
// becomes c = {3} while Shape(X)[0] stays computed (TRAPS.md 1: a dynamic
// dim is never folded). It infers afresh from the graph inputs' declared
// types (the model's contract) and the initializers, not from intermediate
// value_info, so a stale annotation cannot bake in a dim. It also turns the
// shape input of a Reshape into a constant when its only dynamic entries are
// the Reshape input's own dims at the same positions (0 = copy, allowzero 0).
// That relies on the convention for dim_param: dims with the same symbol have
// the same size at run time (TensorRT checks it: "two network inputs with the
// same named dimension parameter are considered equal"), which dynamic axes
// follow and ONNX's inference functions preserve. Exact for every input that
// keeps that rule.
//
// A thin pass over the type inference engine of the ONNX format layer
// (format/TypeInference.h), run without trusting intermediate annotations.
#include "absl/strings/str_cat.h"
#include "format/TypeInference.h"
#include "onnx/onnx_pb.h"
#include "passes/PatternUtils.h"
#include "utils/Diagnostics.h"

#include <algorithm>
#include <vector>

namespace onnxopt {

namespace {

class FoldShapeOpsPass final : public Pass {
public:
  std::string_view argument() const override { return "fold-shape-ops"; }
  std::string_view description() const override {
    return "Fold shape computations whose value is fully static (dynamic "
           "dims stay computed)";
  }
  absl::StatusOr<bool> run(Graph &g, PassContext &ctx) override {
    // Shape values start at Shape and Size (constants are constant-fold's):
    // without them there is nothing to fold, and inference is skipped.
    if (!g.numNodesOfType("Shape") && !g.numNodesOfType("Size"))
      return false;
    TypeInference inf(g, ctx.model.onnxOpset(), false);
    inf.run();
    bool changed = false;
    for (Node *n : g.nodes()) {
      if (n->numOutputs() != 1 || !n->output(0) || n->is("Constant") ||
          !n->subgraphs().empty())
        continue;
      Value *out = n->output(0);
      const onnx::TensorShapeProto *d = inf.data(out);
      if (!d || out->isGraphOutput())
        continue;
      Type t = inf.inferred(out);
      if (!t.isTensor() || t.elemType() != DataType::Int64 || !t.shape() ||
          t.shape()->size() > 1)
        continue;
      std::vector<int64_t> values;
      bool isStatic = true;
      for (const auto &dim : d->dim()) {
        isStatic &= dim.has_dim_value();
        values.push_back(dim.dim_value());
      }
      size_t rank = t.shape()->size();
      if (!isStatic || (rank == 0 && values.size() != 1)) {
        if (!isStatic)
          ++numDynamic;
        continue;
      }
      // (An empty shape makes an empty tensor: makeInt64Tensor copies no
      // bytes from an empty vector's null data.)
      Value *c =
          g.addInitializer(out->name(), makeInt64Tensor(values, rank == 0));
      out->replaceAllUsesWith(c);
      n->erase();
      ++numFolded;
      changed = true;
    }
    changed |= constantReshapeShapes(g, inf);
    return changed;
  }

private:
  /// Reshape(X, S) where S is computed but every dynamic entry of S is X's own
  /// dim at the same position (the same symbol): S becomes a constant with 0
  /// ("copy the input's dim") there. Only with allowzero = 0, where 0 means
  /// copy (TRAPS.md 12). A single other unknown entry may become -1, but only
  /// when no entry copies (a copied 0-sized dim would make -1 ambiguous).
  bool constantReshapeShapes(Graph &g, const TypeInference &inf) {
    bool changed = false;
    for (Node *n : g.nodes()) {
      if (!n->is("Reshape") || n->op().isOpaque() || n->numInputs() < 2 ||
          !n->input(0) || !n->input(1) || n->input(1)->isConstant())
        continue;
      if (const Attribute *a = n->attr("allowzero"); a && a->i != 0)
        continue;
      const onnx::TensorShapeProto *d = inf.data(n->input(1));
      if (!d)
        continue;
      Type xt = n->input(0)->type();
      Type inferredX = inf.inferred(n->input(0));
      if (!inferredX.isUnknown())
        xt = inferredX; // the contract-derived type, not value_info
      const auto &xs = xt.shape();
      std::vector<int64_t> values;
      // -1 entries: the model's own, and those this rewrite would introduce
      // for an unknown entry (only safe without copies: a copied 0-sized dim
      // would make an introduced -1 ambiguous where the original was not).
      int inferAt = 0, introduced = 0;
      bool copies = false;
      for (int i = 0; i < d->dim_size(); ++i) {
        const auto &e = d->dim(i);
        if (e.has_dim_value()) {
          values.push_back(e.dim_value());
          copies |= e.dim_value() == 0;
          inferAt += e.dim_value() == -1;
          continue;
        }
        if (e.has_dim_param() && xs && size_t(i) < xs->size() &&
            (*xs)[i].isSymbol() && (*xs)[i].symbol() == e.dim_param()) {
          values.push_back(0);
          copies = true;
          continue;
        }
        values.push_back(-1);
        ++inferAt;
        ++introduced;
      }
      if (inferAt > 1 || (introduced && copies))
        continue;
      Value *c = g.addInitializer(n->input(1)->name() + "_const",
                                  makeInt64Tensor(values, false));
      n->setInput(1, c);
      ++numReshapes;
      changed = true;
    }
    return changed;
  }

  Statistic numFolded{this, "num-folded", "Shape computations folded"};
  Statistic numReshapes{this, "num-reshapes",
                        "Reshape shapes made constant (dynamic dims copied)"};
  Statistic numDynamic{this, "num-dynamic",
                       "Shape computations kept: a dim is dynamic"};
};

} // namespace

std::unique_ptr<Pass> createFoldShapeOpsPass() {
  return std::make_unique<FoldShapeOpsPass>();
}

} // namespace onnxopt
