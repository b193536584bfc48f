// fuse-scaler-into-linear: an ai.onnx.ml Scaler (scikit-learn's
// StandardScaler, MinMaxScaler, MaxAbsScaler) in front of a LinearClassifier
// or LinearRegressor moves into the linear model's coefficients.
//
// Before:
//   s = ai.onnx.ml.Scaler <offset = o, scale = c> (X)
//   label, scores = ai.onnx.ml.LinearClassifier <coefficients = W,
//                                                intercepts = b, ...> (s)
// After:
//   label, scores = ai.onnx.ml.LinearClassifier <coefficients = W',
//                                                intercepts = b', ...> (X)
//   W'[k, f] = W[k, f] * c[f],   b'[k] = b[k] - sum_f W[k, f] * c[f] * o[f]
// (o and c have one value per feature, or one for all).
//
// Preconditions: s private (this node its only user, not a graph output); X
// float or double (the Scaler turns integers into floats, which the linear
// model would then not see); o and c have 1 or F values and W has F columns
// per score (F from the coefficients and the intercepts or targets); b of
// one value per score or absent (zero). Numeric: W' and b' are computed in
// double and rounded once; the model reads X instead of float((X - o) * c).

#include "passes/Pass.h"
#include "passes/PatternUtils.h"

#include <optional>

namespace onnxopt {

namespace {

constexpr const char *kMl = "ai.onnx.ml";

bool isMlOp(const Node *n, std::string_view type) {
  return n && !n->op().isOpaque() && n->op().is(type, kMl);
}

const std::vector<float> *floatsOf(const Node &n, std::string_view name) {
  const Attribute *a = n.attr(name);
  return a && a->kind == AttrKind::Floats ? &a->floats : nullptr;
}

/// The number of scores (rows of W) of a LinearClassifier/LinearRegressor,
/// from its intercepts, else its labels or targets.
std::optional<size_t> scoreCount(const Node &lin) {
  if (const std::vector<float> *b = floatsOf(lin, "intercepts");
      b && !b->empty())
    return b->size();
  if (lin.op().type == "LinearRegressor") {
    const Attribute *t = lin.attr("targets");
    return t ? std::optional<size_t>(size_t(std::max<int64_t>(t->i, 0)))
             : std::optional<size_t>(1);
  }
  return std::nullopt; // labels alone leave a binary margin ambiguous
}

class FuseScalerIntoLinearPass final : public Pass {
public:
  std::string_view argument() const override {
    return "fuse-scaler-into-linear";
  }
  std::string_view description() const override {
    return "Move an ai.onnx.ml Scaler in front of a LinearClassifier or "
           "LinearRegressor into its coefficients and intercepts";
  }
  bool isExact() const override { return false; }

  absl::StatusOr<bool> run(Graph &g, PassContext &) override {
    bool changed = false;
    for (Node *lin : g.nodes()) {
      if (!(isMlOp(lin, "LinearClassifier") ||
            isMlOp(lin, "LinearRegressor")) ||
          lin->numInputs() != 1 || !lin->input(0))
        continue;
      Value *s = lin->input(0);
      Node *scaler = s->definingNode();
      if (!isMlOp(scaler, "Scaler") || scaler->numInputs() != 1 ||
          !scaler->input(0) || !isPrivateResult(s))
        continue;
      Value *x = scaler->input(0);
      DataType xt =
          x->type().isTensor() ? x->type().elemType() : DataType::Undefined;
      if (xt != DataType::Float && xt != DataType::Double)
        continue;
      const std::vector<float> *w = floatsOf(*lin, "coefficients");
      auto k = scoreCount(*lin);
      if (!w || !k || *k == 0 || w->empty() || w->size() % *k != 0)
        continue;
      size_t f = w->size() / *k;
      std::vector<float> none;
      const std::vector<float> *o = floatsOf(*scaler, "offset");
      const std::vector<float> *c = floatsOf(*scaler, "scale");
      auto fits = [&](const std::vector<float> *v) {
        return !v || v->size() == 1 || v->size() == f;
      };
      if (!fits(o) || !fits(c))
        continue;
      auto at = [&](const std::vector<float> *v, size_t i, double dflt) {
        return !v || v->empty() ? dflt
                                : double(v->size() == 1 ? (*v)[0] : (*v)[i]);
      };
      const std::vector<float> *b = floatsOf(*lin, "intercepts");
      std::vector<float> w2(w->size()), b2(*k);
      for (size_t r = 0; r < *k; ++r) {
        double bias = b && !b->empty() ? double((*b)[r]) : 0.0;
        for (size_t j = 0; j < f; ++j) {
          double wc = double((*w)[r * f + j]) * at(c, j, 1.0);
          w2[r * f + j] = float(wc);
          bias -= wc * at(o, j, 0.0);
        }
        b2[r] = float(bias);
      }
      lin->setAttr(Attribute::makeFloats("coefficients", std::move(w2)));
      lin->setAttr(Attribute::makeFloats("intercepts", std::move(b2)));
      lin->setInput(0, x);
      scaler->erase();
      ++numFused;
      changed = true;
    }
    return changed;
  }

private:
  Statistic numFused{this, "num-fused", "Scalers moved into linear models"};
};

} // namespace

std::unique_ptr<Pass> createFuseScalerIntoLinearPass() {
  return std::make_unique<FuseScalerIntoLinearPass>();
}

} // namespace onnxopt
