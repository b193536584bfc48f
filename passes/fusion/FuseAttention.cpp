// fuse-attention: a self-attention block over one packed Q|K|V projection
// (passes/AttentionMatch.h says which layouts and masks) becomes
// ONNX's Attention (opset 23).
//
// Before: P = Add (MatMul (X, W), bias), Q/K/V cut from P and split into
// heads, softmax(c Q K' + masks) V, the heads merged back into Y.
// After:
//   Pb = P when P is batch-first; sequence-first, MatMul (X0, W) (+ bias)
//        when X = Transpose <perm = [1, 0, 2]> (X0), else Transpose (P)
//   q, k, v = Split <axis = 2, num_outputs = 3> (Pb)          # [B, S, D]
//   keep = Expand (Unsqueeze (Not (pad), [1, 2]), [1, 1, S, 1]) # key padding
//   A = Attention <q_num_heads = H, kv_num_heads = H, scale = c,
//                  is_causal = causal> (q, k, v[, keep])        # [B, S, D]
//   Y = A, or the Transpose/Reshape of A that Y's layout is
// The projection stays a MatMul (+ Add): ONNX's Attention takes Q, K and V
// projected. The key-padding mask is expanded along the queries because
// ONNX Runtime 1.30 requires the mask's query dim to be S (it does not
// broadcast it).
//
// Preconditions: the model imports opset >= 23 (--target-opset converts an
// older one first); the match's (float32, constant W and bias, scalar
// scales, a causal Trilu or a bool key-padding mask).
//
// Numeric: Attention scales Q K' once by the product of the scales and
// sums in another order (within float rounding). A query whose keys are
// all padding is NaN in the original and 0 in ONNX Runtime's Attention (and
// in the reference interpreter's).
#include "passes/AttentionMatch.h"
#include "passes/PatternUtils.h"

namespace onnxopt {

namespace {

class AttentionChain final : public SimplePattern {
public:
  explicit AttentionChain(SimplePatternPass &pass)
      : SimplePattern("Softmax", pass) {}

  bool matchAndRewrite(Node &softmax, Rewriter &r) override {
    AttentionBlock b;
    if (const char *why = matchAttentionBlock(softmax, b))
      return r.notifyMatchFailure(softmax, why);
    auto attention = r.resolve("Attention");
    if (!attention.ok())
      return r.notifyMatchFailure(softmax, "the model's opset has no "
                                           "Attention (< 23)");
    // Every op the rewrite may create, resolved before anything changes.
    for (const char *type :
         {"Transpose", "MatMul", "Add", "Split", "Not", "Unsqueeze", "Shape",
          "Concat", "Expand", "Reshape"})
      if (!r.resolve(type).ok())
        return r.notifyMatchFailure(softmax, "an op the rewrite needs is not "
                                             "defined at the model's opset");
    Node *at = b.result->definingNode();
    auto make = [&](std::string_view type, std::vector<Value *> in,
                    size_t results, const char *name) -> Node * {
      Node *n = r.create(*r.resolve(type), std::move(in), results, at);
      for (size_t i = 0; i < results; ++i)
        r.setName(n->output(i), r.freshName(name));
      return n;
    };
    // P as [B, S, 3D]. Sequence-first (nn.MultiheadAttention), X is often
    // the Transpose of a batch-first value: the projection is made of that
    // one, else P is transposed.
    std::vector<Dim> pd = *b.packed->type().shape();
    Value *p = b.packed;
    if (b.seqFirst) {
      std::swap(pd[0], pd[1]);
      Node *xt = b.x->definingNode();
      auto perm = isOp(xt, "Transpose") ? permOf(*xt) : std::nullopt;
      if (perm && *perm == std::vector<int64_t>{1, 0, 2}) {
        Node *mm = make("MatMul", {xt->input(0), b.w}, 1, "attention_proj");
        p = mm->output(0);
        r.setType(p, Type::tensor(DataType::Float, pd));
        if (b.bias) {
          Node *add = make("Add", {p, b.bias}, 1, "attention_packed");
          p = add->output(0);
          r.setType(p, Type::tensor(DataType::Float, pd));
        }
      } else {
        Node *t = make("Transpose", {p}, 1, "attention_packed");
        r.setAttr(*t, Attribute::makeInts("perm", {1, 0, 2}));
        p = t->output(0);
        r.setType(p, Type::tensor(DataType::Float, pd));
      }
    }
    Node *split = make("Split", {p}, 3, "attention_qkv");
    r.setAttr(*split, Attribute::makeInt("axis", 2));
    r.setAttr(*split, Attribute::makeInt("num_outputs", 3));
    std::vector<Dim> part = {pd[0], pd[1], Dim::constant(b.channels)};
    for (size_t i = 0; i < 3; ++i)
      r.setType(split->output(i), Type::tensor(DataType::Float, part));
    std::vector<Value *> operands{split->output(0), split->output(1),
                                  split->output(2)};
    if (b.padMask) {
      // Attention's bool mask: true where a key is attended, [B, 1, S, S].
      Node *keep = make("Not", {b.padMask}, 1, "attention_keep");
      r.setType(keep->output(0), b.padMask->type());
      Node *u =
          make("Unsqueeze",
               {keep->output(0), r.createInitializer("attention_mask_axes",
                                                     makeInt64Tensor({1, 2}))},
               1, "attention_keep4");
      r.setType(u->output(0),
                Type::tensor(DataType::Bool, {pd[0], Dim::constant(1),
                                              Dim::constant(1), pd[1]}));
      Node *seq = make("Shape", {split->output(0)}, 1, "attention_seq");
      r.setAttr(*seq, Attribute::makeInt("start", 1));
      r.setAttr(*seq, Attribute::makeInt("end", 2));
      r.setType(seq->output(0),
                Type::tensor(DataType::Int64, {Dim::constant(1)}));
      Node *shape = make(
          "Concat",
          {r.createInitializer("attention_mask_lead", makeInt64Tensor({1, 1})),
           seq->output(0),
           r.createInitializer("attention_mask_last", makeInt64Tensor({1}))},
          1, "attention_mask_shape");
      r.setAttr(*shape, Attribute::makeInt("axis", 0));
      r.setType(shape->output(0),
                Type::tensor(DataType::Int64, {Dim::constant(4)}));
      Node *e =
          make("Expand", {u->output(0), shape->output(0)}, 1, "attention_mask");
      r.setType(e->output(0),
                Type::tensor(DataType::Bool,
                             {pd[0], Dim::constant(1), pd[1], pd[1]}));
      operands.push_back(e->output(0));
    }
    Node *a = r.create(*attention, operands, 1, at);
    a->name = r.freshName(softmax.name.empty() ? "Attention"
                                               : softmax.name + "_attention");
    r.setAttr(*a, Attribute::makeInt("q_num_heads", b.heads));
    r.setAttr(*a, Attribute::makeInt("kv_num_heads", b.heads));
    r.setAttr(*a, Attribute::makeFloat("scale", static_cast<float>(b.scale)));
    if (b.causal)
      r.setAttr(*a, Attribute::makeInt("is_causal", 1));
    Value *out = a->output(0);
    r.setName(out, r.freshName("attention"));
    r.setType(out, Type::tensor(DataType::Float, part));
    // To the layout the block's result had.
    if (b.resultSeqFirst) {
      Node *t = make("Transpose", {out}, 1, "attention_seq_first");
      r.setAttr(*t, Attribute::makeInts("perm", {1, 0, 2}));
      out = t->output(0);
      r.setType(out,
                Type::tensor(DataType::Float, {part[1], part[0], part[2]}));
    }
    if (b.resultRows) {
      Node *rs =
          make("Reshape",
               {out, r.createInitializer("attention_shape",
                                         makeInt64Tensor({-1, b.channels}))},
               1, "attention_rows");
      out = rs->output(0);
      r.setType(out, b.result->type());
    }
    Node *last = b.result->definingNode();
    r.replaceAllUsesWith(b.result, out);
    r.eraseDeadFrom(*last);
    ++pass().counter();
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseAttentionPass() {
  auto p = makeSimplePatternPass<AttentionChain>(
      "fuse-attention",
      "Fuse self-attention over a packed QKV projection into Attention "
      "(opset >= 23)",
      "num-fused", "attention blocks fused");
  p->numeric();
  return p;
}

} // namespace onnxopt
