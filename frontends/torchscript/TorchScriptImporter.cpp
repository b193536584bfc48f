// The TorchScript frontend: libtorch loads, freezes and inlines the module,
// specializes it for inference on the given input ranks and dtypes, and the
// lowering (Lowering.h) turns each aten/prim op of forward() into ONNX ops.
#include "frontends/torchscript/Lowering.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/Printer.h"

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/lower_tuples.h>
#include <torch/csrc/jit/passes/peephole.h>
#include <torch/csrc/jit/passes/remove_exceptions.h>
#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/csrc/jit/passes/shape_analysis.h>
#include <torch/csrc/jit/serialization/import.h>

#include <cstdlib>
#include <dlfcn.h>
#include <glob.h>
#include <iostream>

namespace onnxopt::torchscript {

namespace {

/// Forgets the sizes libtorch's shape propagation computed from the example
/// shapes (symbols as 1), keeping ranks and dtypes.
void keepRanksOnly(jit::Block &block) {
  for (jit::Value *v : block.inputs())
    if (auto tt = v->type()->cast<c10::TensorType>())
      v->setType(tt->dimensionedOnly());
  for (jit::Node *n : block.nodes()) {
    for (jit::Value *v : n->outputs())
      if (auto tt = v->type()->cast<c10::TensorType>())
        v->setType(tt->dimensionedOnly());
    for (jit::Block *b : n->blocks())
      keepRanksOnly(*b);
  }
}

/// What a scripted module computes from ranks and dtypes alone (x.dim(),
/// len(x.shape), x.dtype, the checks built on them) becomes constant, and a
/// branch that can only raise is taken as unreachable, as torch.onnx.export
/// does: onnx-opt's output has no exceptions.
void specialize(std::shared_ptr<jit::Graph> &graph) {
  keepRanksOnly(*graph->block());
  for (int round = 0; round < 3; ++round) {
    bool changed =
        jit::PeepholeOptimize(graph, /*disable_shape_peepholes=*/false);
    jit::ConstantPropagation(graph);
    jit::EliminateExceptions(graph);
    jit::ConstantPropagation(graph);
    jit::EliminateDeadCode(graph);
    if (!changed)
      break;
  }
}

/// Answers what a module asks about its run-time environment with what
/// inference on CPU has: no grad, no autocast, not CUDA, not nested, no
/// __torch_function__ overrides. nn.TransformerEncoderLayer and
/// nn.MultiheadAttention pick their fast path from these.
void specializeEnvironment(jit::Block &block) {
  for (jit::Node *n : block.nodes()) {
    for (jit::Block *b : n->blocks())
      specializeEnvironment(*b);
    std::string kind = n->kind().toQualString();
    std::optional<bool> answer;
    if (kind == "aten::is_grad_enabled" || kind == "prim::requires_grad" ||
        kind == "aten::is_autocast_enabled" || kind == "prim::is_cuda" ||
        kind == "prim::is_nested" || kind == "aten::is_nested" ||
        kind == "aten::_has_torch_function" ||
        kind == "aten::has_torch_function" || kind == "prim::is_mkldnn" ||
        kind == "prim::is_quantized" || kind == "prim::is_meta")
      answer = false;
    else if (kind == "prim::is_cpu")
      answer = true;
    if (!answer || n->outputs().size() != 1)
      continue;
    jit::WithInsertPoint guard(n);
    n->output()->replaceAllUsesWith(n->owningGraph()->insertConstant(*answer));
  }
}

/// Removes every `if` whose branches only warn and record on the module that
/// they did (torchvision's detection models: `if not self._has_warned:
/// warnings.warn(...); self._has_warned = True`). Such a flag decides only
/// whether a warning is printed, which an ONNX model never does; the module
/// state it keeps cannot be expressed in ONNX and would stop the import.
void removeWarnOnce(jit::Block &block) {
  for (auto it = block.nodes().begin(); it != block.nodes().end();) {
    jit::Node *n = *it++;
    for (jit::Block *b : n->blocks())
      removeWarnOnce(*b);
    if (n->kind() != c10::prim::If || !n->outputs().empty())
      continue;
    // The condition reads the flag (`not self.flag`); the branches warn and
    // set that same flag to a constant.
    const jit::Node *cond = n->input(0)->node();
    if (cond->kind() == c10::aten::__not__)
      cond = cond->input(0)->node();
    if (cond->kind() != c10::prim::GetAttr)
      continue;
    bool onlyWarns = true;
    for (jit::Block *b : n->blocks())
      for (jit::Node *m : b->nodes())
        onlyWarns &= m->kind() == c10::aten::warn ||
                     m->kind() == c10::prim::Constant ||
                     (m->kind() == c10::prim::SetAttr &&
                      m->s(c10::attr::name) == cond->s(c10::attr::name) &&
                      m->input(1)->node()->kind() == c10::prim::Constant);
    if (onlyWarns)
      n->destroy();
  }
}

/// Whether `n` lies in `block` or in a block nested in it.
bool isWithin(const jit::Node *n, const jit::Block *block) {
  for (const jit::Block *b = n->owningBlock(); b;) {
    if (b == block)
      return true;
    const jit::Node *owner = b->owningNode();
    b = owner ? owner->owningBlock() : nullptr;
  }
  return false;
}

/// A loop body that writes into a tensor made before the loop (batched NMS:
/// `keep_mask[idx] = True` for each class) changes it from one iteration to
/// the next. Such a tensor becomes a value the loop carries: the body reads
/// the carried value, its `index_put_` yields the next one, and what follows
/// the loop reads the loop's result. Only tensors a factory made fresh (no
/// other view can see the write) and writes at the body's top level.
void carryLoopWrites(jit::Block &block) {
  for (jit::Node *n : block.nodes()) {
    for (jit::Block *b : n->blocks())
      carryLoopWrites(*b);
    if (n->kind() != c10::prim::Loop)
      continue;
    jit::Block *body = n->blocks()[0];
    // The written tensors, each with its writes in program order.
    std::vector<std::pair<jit::Value *, std::vector<jit::Node *>>> writes;
    for (jit::Node *m : body->nodes()) {
      jit::Value *x = m->inputs().empty() ? nullptr : m->input(0);
      if (m->kind() != c10::aten::index_put_ || isWithin(x->node(), body) ||
          !makesFreshTensor(*x->node()))
        continue;
      auto it = std::find_if(writes.begin(), writes.end(),
                             [&](const auto &w) { return w.first == x; });
      if (it == writes.end())
        writes.push_back({x, {m}});
      else
        it->second.push_back(m);
    }
    for (const auto &[x, ms] : writes) {
      n->addInput(x);
      jit::Value *cur = body->addInput()->setType(x->type());
      std::vector<jit::Use> inside;
      for (const jit::Use &u : x->uses())
        if (isWithin(u.user, body))
          inside.push_back(u);
      for (const jit::Use &u : inside)
        u.user->replaceInput(u.offset, cur);
      // Each write yields the value read after it.
      for (jit::Node *m : ms) {
        cur->replaceAllUsesAfterNodeWith(m, m->output());
        cur = m->output();
      }
      body->registerOutput(cur);
      jit::Value *after = n->addOutput()->setType(x->type());
      x->replaceAllUsesAfterNodeWith(n, after);
    }
  }
}

/// Moves what follows the run-time `if` `n` (in forward()'s top block) into
/// both of its branches, so that each lowers it with the ranks that branch
/// gives (ONNX gives a value one rank; torchvision's box decoding reshapes
/// only when there are boxes). The tuple forward() returns stays after the
/// `if`, built from its new results.
void moveContinuationIntoBranches(jit::Node *n) {
  jit::Graph &g = *n->owningGraph();
  jit::Node *ret = g.block()->return_node();
  // A list or dict made before the `if` and used only after it (a result
  // list filled later) is made in each branch instead: a container changed
  // inside a branch must be made there.
  for (jit::Node *m = n->prev(); m != g.block()->param_node();) {
    jit::Node *before = m->prev();
    bool container = m->kind() == c10::prim::ListConstruct ||
                     m->kind() == c10::prim::DictConstruct;
    bool onlyAfter =
        container && m->inputs().empty() &&
        std::all_of(m->output()->uses().begin(), m->output()->uses().end(),
                    [&](const jit::Use &u) {
                      const jit::Node *user = u.user;
                      while (user->owningBlock() != g.block())
                        user = user->owningBlock()->owningNode();
                      return user->isAfter(n);
                    });
    if (onlyAfter)
      m->moveAfter(n);
    m = before;
  }
  std::vector<jit::Node *> tail;
  for (jit::Node *m = n->next(); m != ret; m = m->next())
    tail.push_back(m);
  // A tuple built only for the return stays.
  std::vector<jit::Node *> kept;
  while (!tail.empty() && tail.back()->kind() == c10::prim::TupleConstruct &&
         tail.back()->output()->uses().size() == 1 &&
         tail.back()->output()->uses()[0].user == ret) {
    kept.push_back(tail.back());
    tail.pop_back();
  }
  absl::flat_hash_set<const jit::Node *> moved(tail.begin(), tail.end());
  moved.insert(n);
  // What the kept nodes and the return read of the moved part.
  std::vector<jit::Value *> escaping;
  auto note = [&](jit::Value *v) {
    if (moved.count(v->node()) &&
        std::find(escaping.begin(), escaping.end(), v) == escaping.end())
      escaping.push_back(v);
  };
  for (jit::Node *k : kept)
    for (jit::Value *v : k->inputs())
      note(v);
  for (jit::Value *v : ret->inputs())
    note(v);
  size_t old = n->outputs().size();
  for (jit::Block *b : n->blocks()) {
    std::unordered_map<jit::Value *, jit::Value *> env;
    for (size_t k = 0; k < old; ++k)
      env[n->output(k)] = b->outputs()[k];
    auto map = [&](jit::Value *v) {
      auto it = env.find(v);
      return it == env.end() ? v : it->second;
    };
    for (jit::Node *m : tail) {
      jit::Node *copy = b->appendNode(g.createClone(m, map));
      for (size_t k = 0; k < m->outputs().size(); ++k)
        env[m->output(k)] = copy->output(k);
    }
    for (jit::Value *v : escaping)
      b->registerOutput(map(v));
  }
  for (jit::Value *v : escaping)
    v->replaceAllUsesWith(n->addOutput()->setType(v->type()));
  for (auto it = tail.rbegin(); it != tail.rend(); ++it)
    (*it)->destroy();
  for (size_t k = old; k-- > 0;) {
    n->eraseOutput(k);
    for (jit::Block *b : n->blocks())
      b->eraseOutput(k);
  }
}

/// What forward()'s code says of an argument's dtype. A TorchScript file
/// records none (torch.jit.save writes `x: Tensor`, traced or scripted; the
/// trace's example inputs are not kept), but the ops that read the argument
/// often require one: embedding indices are integers, a masked_fill mask or
/// a where condition is bool, the padding mask of the fused encoder layer
/// and attention kernels is bool by default.
struct DtypeFromUse {
  c10::ScalarType type;
  /// Required by the op (another dtype is an error), not only the default.
  bool required;
  std::string op;
};

std::optional<DtypeFromUse> dtypeFromUses(const jit::Value *v) {
  static const struct {
    const char *op;
    size_t arg;
    c10::ScalarType type;
    bool required;
  } kUses[] = {
      {"aten::embedding", 1, c10::kLong, true},
      {"aten::embedding_bag", 1, c10::kLong, true},
      {"aten::index_select", 2, c10::kLong, true},
      {"aten::gather", 2, c10::kLong, true},
      {"aten::one_hot", 0, c10::kLong, true},
      {"aten::masked_fill", 1, c10::kBool, true},
      {"aten::masked_fill_", 1, c10::kBool, true},
      {"aten::where", 0, c10::kBool, true},
      {"aten::logical_not", 0, c10::kBool, false},
      {"aten::_transformer_encoder_layer_fwd", 18, c10::kBool, false},
      {"aten::_native_multi_head_attention", 9, c10::kBool, false},
  };
  std::optional<DtypeFromUse> found;
  for (const jit::Use &u : v->uses()) {
    std::string kind = u.user->kind().toQualString();
    for (const auto &k : kUses)
      if (kind == k.op && u.offset == k.arg &&
          (!found || (k.required && !found->required)))
        found = DtypeFromUse{k.type, k.required, kind};
  }
  return found;
}

/// True if `given` is what `use` needs: an integer type for indices (int32
/// or int64), exactly bool for a mask; a default is never contradicted.
bool dtypeAgrees(c10::ScalarType given, const DtypeFromUse &use) {
  if (!use.required)
    return true;
  if (use.type == c10::kLong)
    return given == c10::kLong || given == c10::kInt;
  return given == use.type;
}

/// The first non-empty line of a libtorch error (its messages can start with
/// a newline, which left ours ending at "load: ").
std::string firstLine(const std::string &what) {
  size_t b = what.find_first_not_of(" \t\n");
  if (b == std::string::npos)
    return "(libtorch gave no reason)";
  size_t e = what.find('\n', b);
  return what.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

/// torchvision's operator library (torchvision::nms, roi_align, ...), which
/// libtorch knows only once it is loaded: $ONNXOPT_TORCHVISION_OPS, else
/// python3-torchvision's `torchvision/_C*.so`. Loaded on the first module
/// that needs it; empty when it loaded, else why not.
const std::string &loadTorchvisionOps() {
  static const std::string why = [] {
    std::vector<std::string> candidates;
    if (const char *env = std::getenv("ONNXOPT_TORCHVISION_OPS"))
      candidates.push_back(env);
    glob_t g{};
    if (::glob("/usr/lib/python3/dist-packages/torchvision/_C*.so", 0, nullptr,
               &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i)
        candidates.push_back(g.gl_pathv[i]);
    globfree(&g);
    if (candidates.empty())
      return std::string("torchvision's operator library was not found "
                         "(install python3-torchvision, or set "
                         "ONNXOPT_TORCHVISION_OPS to its _C*.so)");
    std::string errors;
    for (const std::string &c : candidates) {
      if (::dlopen(c.c_str(), RTLD_NOW | RTLD_GLOBAL))
        return std::string();
      const char *e = ::dlerror();
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", c, ": ",
                      e ? e : "cannot be loaded");
    }
    return absl::StrCat("torchvision's operator library could not be loaded (",
                        errors, ")");
  }();
  return why;
}

/// jit::load, with torchvision's operators loaded when the module calls them
/// and libtorch does not know them yet.
jit::Module loadModule(const std::string &path) {
  try {
    return jit::load(path);
  } catch (const std::exception &e) {
    std::string what = e.what();
    if (what.find("torchvision::") == std::string::npos)
      throw;
    if (const std::string &why = loadTorchvisionOps(); !why.empty())
      throw std::runtime_error(
          absl::StrCat("it calls torchvision's operators (", firstLine(what),
                       "), and ", why));
    return jit::load(path);
  }
}

absl::StatusOr<std::unique_ptr<Model>>
importWithLibtorch(const std::string &path,
                   const std::vector<TorchInput> &inputs) {
  jit::Module module;
  c10::intrusive_ptr<c10::ivalue::Object> self;
  std::shared_ptr<jit::Graph> graph;
  std::vector<std::string> argNames;
  try {
    module = loadModule(path);
    module.eval();
    jit::Module frozen = jit::freeze(module);
    self = frozen._ivalue();
    jit::Method forward = frozen.get_method("forward");
    for (const c10::Argument &a : forward.function().getSchema().arguments())
      argNames.push_back(a.name());
    graph = forward.graph()->copy();
    jit::Inline(*graph);
    jit::LowerSimpleTuples(graph);
    jit::RemoveTensorMutation(graph);
    specializeEnvironment(*graph->block());
    removeWarnOnce(*graph->block());
    carryLoopWrites(*graph->block());
    jit::ConstantPropagation(graph);
    jit::EliminateDeadCode(graph);
    // Example shapes for libtorch's shape propagation (symbols as 1): ranks
    // for transpose, flatten, ...
    std::vector<std::string> argumentNames;
    for (size_t i = 0; i < graph->inputs().size(); ++i)
      if (graph->inputs()[i]->type()->kind() != c10::TypeKind::ClassType)
        argumentNames.push_back(i < argNames.size()
                                    ? argNames[i]
                                    : graph->inputs()[i]->debugNameBase());
    // First: a shape for an argument forward() does not have is a typo the user
    // must hear about, not a flag silently ignored.
    for (const TorchInput &in : inputs)
      if (std::find(argumentNames.begin(), argumentNames.end(), in.name) ==
          argumentNames.end())
        return absl::FailedPreconditionError(absl::StrCat(
            "--input-shape ", in.name, ": forward() has no argument '", in.name,
            "' (arguments: ", absl::StrJoin(argumentNames, ", "), ")"));
    for (size_t i = 0; i < graph->inputs().size(); ++i) {
      jit::Value *v = graph->inputs()[i];
      if (v->type()->kind() == c10::TypeKind::ClassType)
        continue;
      std::string name = i < argNames.size() ? argNames[i] : v->debugNameBase();
      auto it = std::find_if(inputs.begin(), inputs.end(),
                             [&](const auto &in) { return in.name == name; });
      if (it == inputs.end())
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": forward() argument '", name,
                         "' needs a shape: give --input-shape ", name,
                         "=DIMS (a TorchScript file records none)"));
      std::vector<int64_t> sizes;
      for (const Dim &d : it->dims)
        sizes.push_back(d.isConstant() ? d.value() : 1);
      // The dtype forward()'s code implies, else float; --input-type
      // overrides a default but cannot contradict what an op requires.
      std::optional<DtypeFromUse> use = dtypeFromUses(v);
      c10::ScalarType st = use ? use->type : c10::kFloat;
      if (it->dtype) {
        auto s = scalarTypeOf(*it->dtype);
        if (!s)
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": --input-type for '", name,
                           "': libtorch has no such dtype"));
        if (use && !dtypeAgrees(*s, *use))
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": --input-type ", name, "=", dataTypeName(*it->dtype),
              " contradicts forward(): ", use->op, " reads '", name, "' as ",
              use->type == c10::kBool ? "bool"
                                      : "int64 (or another integer type)"));
        st = *s;
      }
      v->setType(c10::TensorType::create(at::empty(sizes, st)));
    }
    jit::PropagateInputShapes(graph);
    specialize(graph);
    if (std::getenv("ONNXOPT_TORCHSCRIPT_DUMP"))
      graph->dump();
  } catch (const std::exception &e) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": not a TorchScript module libtorch can load: ", firstLine(e.what())));
  }
  // Each `if` whose branches give a result two ranks moves what follows it
  // into its branches, and the lowering starts again (a few at most).
  for (int attempt = 0;; ++attempt) {
    auto model = std::make_unique<Model>();
    model->irVersion = 8;
    model->opsetImports.push_back({"", kOpset});
    model->producerName = "onnx-opt (TorchScript)";
    model->graph = std::make_unique<Graph>();
    model->graph->name = "forward";
    Lowering lowering(*model, inputs, argNames, self);
    try {
      absl::Status st = lowering.run(*graph);
      if (st.ok())
        return model;
      if (lowering.rankSplit_ && attempt < 4) {
        moveContinuationIntoBranches(lowering.rankSplit_);
        continue;
      }
      if (std::getenv("ONNXOPT_TORCHSCRIPT_DUMP"))
        std::cerr << printModel(*model);
      return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
    } catch (const std::exception &e) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": lowering failed: ", e.what()));
    }
  }
}

} // namespace

} // namespace onnxopt::torchscript

/// The module's entry point, found with dlsym by the driver
/// (TorchScriptLoader.cpp): libtorch is loaded only for TorchScript input.
extern "C" __attribute__((visibility("default"))) int
onnxoptTorchScriptImport(const std::string *path,
                         const std::vector<onnxopt::TorchInput> *inputs,
                         absl::StatusOr<std::unique_ptr<onnxopt::Model>> *out) {
  *out = onnxopt::torchscript::importWithLibtorch(*path, *inputs);
  return 0;
}
