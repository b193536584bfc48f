// ort-fuse-attention: a self-attention block over one packed Q|K|V projection
// (passes/AttentionMatch.h says which) becomes ONNX Runtime's
// com.microsoft.Attention.
//
// After:
//   A = com.microsoft.Attention <num_heads = H, scale = c1*c2,
//                                unidirectional = causal>
//           (Xb, W, bias[, Cast <to = int32> (Not (pad))])
//   Y = A, or the Transpose/Reshape of A that Y's layout is
// Xb is X when P's leading axes are (batch, sequence), else X's
// sequence-first Transpose undone. A missing bias becomes zeros (ONNX
// Runtime needs one); float32 only (ONNX Runtime's CPU Attention).
//
// Numeric: Attention scales Q*K' once by c1*c2 and masks with -10000 instead
// of -inf (both underflow to a zero weight), so results move within float
// rounding. A sequence whose keys are all padding differs: softmax over
// -inf everywhere is NaN in the original, a plain average in Attention.
#include "backends/ort/OrtPasses.h"

#include "passes/AttentionMatch.h"
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class AttentionToOrt final : public OpRewritePattern {
public:
  explicit AttentionToOrt(Statistic &fused)
      : OpRewritePattern("Softmax"), fused_(fused) {}

  bool matchAndRewrite(Node &softmax, Rewriter &r) override {
    AttentionBlock b;
    if (const char *why = matchAttentionBlock(softmax, b))
      return r.notifyMatchFailure(softmax, why);
    return rewrite(softmax, b, r);
  }

private:
  bool rewrite(Node &softmax, const AttentionBlock &b, Rewriter &r) {
    auto attention = r.resolve("Attention", "com.microsoft");
    auto transpose = r.resolve("Transpose");
    auto reshape = r.resolve("Reshape");
    if (!attention.ok() || !transpose.ok() || !reshape.ok())
      return r.notifyMatchFailure(softmax,
                                  "no com.microsoft or Transpose/Reshape");
    Node *at = b.result->definingNode();
    // Attention reads X as [batch, seq, Din].
    std::vector<Dim> dims = *b.x->type().shape();
    Value *x = b.x;
    if (b.seqFirst) {
      // P is sequence-first: undo X's Transpose, or transpose X.
      std::swap(dims[0], dims[1]);
      Node *t = b.x->definingNode();
      auto perm = isOp(t, "Transpose") ? permOf(*t) : std::nullopt;
      if (perm && *perm == std::vector<int64_t>{1, 0, 2}) {
        x = t->input(0);
      } else {
        Node *tn = r.create(*transpose, {b.x}, 1, at);
        r.setAttr(*tn, Attribute::makeInts("perm", {1, 0, 2}));
        x = tn->output(0);
        r.setName(x, r.freshName("attention_input"));
        r.setType(x, Type::tensor(DataType::Float, dims));
      }
    }
    Value *bias = b.bias;
    if (!bias)
      bias = r.createInitializer(
          "attention_bias",
          makeFloatTensor(DataType::Float, {3 * b.channels},
                          std::vector<double>(3 * b.channels, 0.0)));
    std::vector<Value *> operands{x, b.w, bias};
    if (b.padMask) {
      // Attention's raw mask: int32 [B, S], 1 where a key is attended.
      auto notOp = r.resolve("Not");
      auto castOp = r.resolve("Cast");
      if (!notOp.ok() || !castOp.ok())
        return r.notifyMatchFailure(softmax, "no Not or Cast at this opset");
      Node *keep = r.create(*notOp, {b.padMask}, 1, at);
      r.setName(keep->output(0), r.freshName("attention_keep"));
      r.setType(keep->output(0), b.padMask->type());
      Node *cast = r.create(*castOp, {keep->output(0)}, 1, at);
      r.setAttr(*cast, Attribute::makeInt(
                           "to", static_cast<int64_t>(DataType::Int32)));
      r.setName(cast->output(0), r.freshName("attention_mask_index"));
      r.setType(cast->output(0),
                Type::tensor(DataType::Int32, *b.padMask->type().shape()));
      operands.push_back(cast->output(0));
    }
    Node *a = r.create(*attention, operands, 1, at);
    a->name = r.freshName(softmax.name.empty() ? "Attention"
                                               : softmax.name + "_attention");
    r.setAttr(*a, Attribute::makeInt("num_heads", b.heads));
    r.setAttr(*a, Attribute::makeFloat("scale", static_cast<float>(b.scale)));
    if (b.causal)
      r.setAttr(*a, Attribute::makeInt("unidirectional", 1));
    Value *out = a->output(0);
    r.setName(out, r.freshName("attention"));
    std::vector<Dim> od = {dims[0], dims[1], Dim::constant(b.channels)};
    r.setType(out, Type::tensor(DataType::Float, od));
    // To the layout the block's result had.
    if (b.resultSeqFirst) {
      Node *tn = r.create(*transpose, {out}, 1, at);
      r.setAttr(*tn, Attribute::makeInts("perm", {1, 0, 2}));
      out = tn->output(0);
      r.setName(out, r.freshName("attention_seq_first"));
      r.setType(out, Type::tensor(DataType::Float, {od[1], od[0], od[2]}));
    }
    if (b.resultRows) {
      Value *shape = r.createInitializer("attention_shape",
                                         makeInt64Tensor({-1, b.channels}));
      Node *rn = r.create(*reshape, {out, shape}, 1, at);
      out = rn->output(0);
      r.setName(out, r.freshName("attention_rows"));
      r.setType(out, b.result->type());
    }
    Node *last = b.result->definingNode();
    r.replaceAllUsesWith(b.result, out);
    r.eraseDeadFrom(*last);
    ++fused_;
    return true;
  }

  Statistic &fused_;
};

class OrtFuseAttentionPass final : public OrtLoweringPass {
public:
  std::string_view argument() const override { return "ort-fuse-attention"; }
  std::string_view description() const override {
    return "Lower self-attention over a packed QKV projection to ONNX "
           "Runtime's com.microsoft.Attention";
  }

protected:
  void populatePatterns(
      std::vector<std::unique_ptr<OpRewritePattern>> &patterns) override {
    patterns.push_back(std::make_unique<AttentionToOrt>(numFused));
  }

private:
  Statistic numFused{this, "num-fused",
                     "attention blocks lowered to com.microsoft.Attention"};
};

} // namespace

std::unique_ptr<Pass> createOrtFuseAttentionPass() {
  return std::make_unique<OrtFuseAttentionPass>();
}

} // namespace onnxopt
