// fuse-pad-into-conv and fuse-pad-into-pool: a constant Pad folded into the
// pads of the Conv or pool after it.
#include "passes/fusion/FusePadIntoConv.h"
#include "passes/fusion/FusePadIntoPool.h"

#include "passes/fusion/FusionUtils.h"

#include <cmath>

namespace onnxopt {

namespace {

/// What a Pad does, when it is a constant-mode pad of the spatial dims only.
struct SpatialPad {
  Value *input = nullptr;
  std::vector<int64_t> begin, end; // per spatial dim
  double value = 0;
};

std::optional<SpatialPad> spatialPad(Node &pad) {
  if (!isOp(&pad, "Pad") || !pad.input(0) || !isPrivateResult(pad.output(0)))
    return std::nullopt;
  if (const Attribute *m = pad.attr("mode"); m && m->s != "constant")
    return std::nullopt;
  std::vector<int64_t> pads;
  SpatialPad sp;
  sp.input = pad.input(0);
  if (pad.op().sinceVersion < 11) {
    const Attribute *p =
        pad.attr(pad.op().sinceVersion < 2 ? "paddings" : "pads");
    if (!p)
      return std::nullopt;
    pads = p->ints;
    if (const Attribute *v = pad.attr("value"))
      sp.value = v->f;
  } else {
    if (pad.numInputs() < 2 || !isConstantTensor(pad.input(1)))
      return std::nullopt;
    for (double d : constantValues(*pad.input(1)))
      pads.push_back(int64_t(d));
    if (pad.numInputs() > 2 && pad.input(2)) {
      if (!isConstantTensor(pad.input(2)) ||
          pad.input(2)->tensor()->numElements() != 1)
        return std::nullopt;
      sp.value = constantValues(*pad.input(2))[0];
    }
    if (pad.numInputs() > 3 && pad.input(3))
      return std::nullopt; // axes (opset 18): not handled
  }
  size_t rank = pads.size() / 2;
  if (pads.size() % 2 || rank < 3)
    return std::nullopt;
  for (int64_t p : pads)
    if (p < 0)
      return std::nullopt;
  if (pads[0] || pads[1] || pads[rank] || pads[rank + 1])
    return std::nullopt; // batch or channel padded
  sp.begin.assign(pads.begin() + 2, pads.begin() + rank);
  sp.end.assign(pads.begin() + rank + 2, pads.end());
  return sp;
}

/// The consumer's pads attribute (zeros when absent), if auto_pad allows.
std::optional<std::vector<int64_t>> consumerPads(const Node &n,
                                                 size_t spatial) {
  if (const Attribute *a = n.attr("auto_pad"); a && a->s != "NOTSET")
    return std::nullopt;
  std::vector<int64_t> pads(2 * spatial, 0);
  if (const Attribute *p = n.attr("pads")) {
    if (p->ints.size() != 2 * spatial)
      return std::nullopt;
    pads = p->ints;
  }
  return pads;
}

class PadInto final : public OpRewritePattern {
public:
  PadInto(std::string op, Statistic &fused)
      : OpRewritePattern(std::move(op)), fused_(fused) {}

  bool matchAndRewrite(Node &n, Rewriter &r) override {
    if (n.op().isOpaque() || !n.input(0))
      return r.notifyMatchFailure(n, "opaque or malformed");
    Node *pad = n.input(0)->definingNode();
    auto sp = pad ? spatialPad(*pad) : std::nullopt;
    if (!sp)
      return r.notifyMatchFailure(n, "not a private constant spatial Pad");
    size_t spatial = sp->begin.size();
    auto pads = consumerPads(n, spatial);
    if (!pads)
      return r.notifyMatchFailure(n, "auto_pad or pads do not fit");
    bool countPads = false;
    if (n.is("Conv")) {
      if (sp->value != 0)
        return r.notifyMatchFailure(n, "the Pad value is not 0");
    } else if (n.is("AveragePool")) {
      if (sp->value != 0)
        return r.notifyMatchFailure(n, "the Pad value is not 0");
      const Attribute *cip = n.attr("count_include_pad");
      bool counts = cip && cip->i;
      bool ownPads = false;
      for (int64_t p : *pads)
        ownPads |= p != 0;
      if (!counts && ownPads)
        return r.notifyMatchFailure(n, "mixes counted and uncounted pads");
      countPads = true;
    } else { // MaxPool
      if (!(std::isinf(sp->value) && sp->value < 0))
        return r.notifyMatchFailure(n, "the Pad value could win a max");
      if (n.numOutputs() > 1 && n.output(1) && !n.output(1)->useEmpty())
        return r.notifyMatchFailure(n, "Indices are used");
    }
    for (size_t i = 0; i < spatial; ++i) {
      (*pads)[i] += sp->begin[i];
      (*pads)[i + spatial] += sp->end[i];
    }
    r.setAttr(n, Attribute::makeInts("pads", *pads));
    if (countPads)
      r.setAttr(n, Attribute::makeInt("count_include_pad", 1));
    r.setOperand(n, 0, sp->input);
    r.eraseNode(*pad);
    ++fused_;
    return true;
  }

private:
  Statistic &fused_;
};

class FusePadIntoConvPass final : public PatternPass {
public:
  std::string_view argument() const override { return "fuse-pad-into-conv"; }
  std::string_view description() const override {
    return "Fold a zero spatial Pad into the pads of the Conv after it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<PadInto>("Conv", numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Pads folded into Conv"};
};

class FusePadIntoPoolPass final : public PatternPass {
public:
  std::string_view argument() const override { return "fuse-pad-into-pool"; }
  std::string_view description() const override {
    return "Fold a constant spatial Pad into the pads of the AveragePool or "
           "MaxPool after it";
  }
  bool isExact() const override { return false; }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<PadInto>("AveragePool", numFused));
    patterns.push_back(std::make_unique<PadInto>("MaxPool", numFused));
  }

private:
  Statistic numFused{this, "num-fused", "Pads folded into pools"};
};

} // namespace

std::unique_ptr<Pass> createFusePadIntoConvPass() {
  return std::make_unique<FusePadIntoConvPass>();
}
std::unique_ptr<Pass> createFusePadIntoPoolPass() {
  return std::make_unique<FusePadIntoPoolPass>();
}

} // namespace onnxopt
