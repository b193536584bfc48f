// Pipeline parsing and printing, and the instrumented pass manager.
#include "passes/PassManager.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/PassRegistry.h"
#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

#include <cctype>
#include <chrono>

namespace onnxopt {

// ------------------------------------------------------------------ printing

static void printElements(const std::vector<PipelineElement> &elems,
                          std::string &out) {
  for (size_t i = 0; i < elems.size(); ++i) {
    if (i)
      out += ",";
    const PipelineElement &e = elems[i];
    if (e.isFixpoint()) {
      out += "fixpoint(";
      printElements(e.children, out);
      absl::StrAppend(&out, "){max-iterations=", e.maxIterations, "}");
      continue;
    }
    out += std::string(e.pass->argument());
    if (e.pass->options().empty())
      continue;
    out += "{";
    for (size_t j = 0; j < e.pass->options().size(); ++j) {
      const PassOption *o = e.pass->options()[j];
      absl::StrAppend(&out, j ? "," : "", o->name(), "=", o->text());
    }
    out += "}";
  }
}

static bool allExact(const std::vector<PipelineElement> &elems) {
  for (const PipelineElement &e : elems)
    if (e.isFixpoint() ? !allExact(e.children) : !e.pass->isExact())
      return false;
  return true;
}

bool Pipeline::isExact() const { return allExact(elements); }

std::string Pipeline::str() const {
  std::string out;
  printElements(elements, out);
  return out;
}

// ------------------------------------------------------------------ parsing

namespace {

class PipelineParser {
public:
  explicit PipelineParser(std::string_view s) : s_(s) {}

  absl::StatusOr<Pipeline> parse() {
    Pipeline p;
    skip();
    if (pos_ == s_.size())
      return p;
    ONNXOPT_RETURN_IF_ERROR(elements(p.elements));
    skip();
    if (pos_ != s_.size())
      return error("expected ',' or the end of the pipeline");
    return p;
  }

private:
  void skip() {
    while (pos_ < s_.size() &&
           std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  absl::Status error(std::string_view what) const {
    return absl::FailedPreconditionError(absl::StrCat(
        "pass pipeline, column ", pos_ + 1, ": ", std::string(what), "\n  ",
        std::string(s_), "\n  ", std::string(pos_, ' '), "^"));
  }
  std::string name() {
    skip();
    size_t b = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
            s_[pos_] == '-' || s_[pos_] == '_'))
      ++pos_;
    return std::string(s_.substr(b, pos_ - b));
  }
  bool peekOptions() {
    skip();
    return pos_ < s_.size() && s_[pos_] == '{';
  }
  bool accept(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  /// `{k=v,...}`: calls set(key, value, column) for each.
  template <typename Fn> absl::Status options(Fn set) {
    if (!accept('{'))
      return absl::OkStatus();
    while (!accept('}')) {
      size_t at = pos_;
      std::string key = name();
      if (key.empty())
        return error("expected an option name");
      if (!accept('='))
        return error("expected '=' after the option name");
      skip();
      size_t b = pos_;
      while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}')
        ++pos_;
      std::string value(s_.substr(b, pos_ - b));
      while (!value.empty() &&
             std::isspace(static_cast<unsigned char>(value.back())))
        value.pop_back();
      absl::Status st = set(key, value);
      if (!st.ok()) {
        pos_ = at;
        return error(std::string(st.message()));
      }
      if (!accept(',') && !(skip(), pos_ < s_.size() && s_[pos_] == '}'))
        return error("expected ',' or '}'");
    }
    return absl::OkStatus();
  }

  absl::Status elements(std::vector<PipelineElement> &out) {
    do {
      skip();
      size_t at = pos_;
      std::string n = name();
      if (n.empty())
        return error("expected a pass name");
      PipelineElement e;
      if (n == "fixpoint") {
        if (!accept('('))
          return error("expected '(' after fixpoint");
        ONNXOPT_RETURN_IF_ERROR(elements(e.children));
        if (!accept(')'))
          return error("expected ')' to close fixpoint(");
        ONNXOPT_RETURN_IF_ERROR(
            options([&](const std::string &k, const std::string &v) {
              if (k != "max-iterations")
                return absl::FailedPreconditionError(
                    absl::StrCat("fixpoint has no option '", k, "'"));
              char *end = nullptr;
              long long it = std::strtoll(v.c_str(), &end, 10);
              if (v.empty() || *end || it < 1 || it > 1000000)
                return absl::FailedPreconditionError(
                    "max-iterations expects an integer from 1 to 1000000");
              e.maxIterations = it;
              return absl::OkStatus();
            }));
      } else {
        if (std::optional<std::string> why = noPassReason(n)) {
          if (!why->empty()) {
            pos_ = at;
            return error(absl::StrCat("onnxoptimizer's '", n,
                                      "' has no onnx-opt pass: ", *why));
          }
          // Nothing to run (onnxoptimizer's nop, or a pass onnx-opt does
          // not need).
          if (peekOptions())
            return error(absl::StrCat("pass '", n, "' has no options"));
          continue;
        }
        e.pass = createPass(n);
        if (!e.pass) {
          pos_ = at;
          std::string hint = suggestPassName(n);
          return error(absl::StrCat(
              "unknown pass '", n, "'",
              hint.empty() ? "" : absl::StrCat("; did you mean '", hint, "'?"),
              " (see --list-passes)"));
        }
        ONNXOPT_RETURN_IF_ERROR(
            options([&](const std::string &k, const std::string &v) {
              PassOption *o = e.pass->option(k);
              if (!o)
                return absl::FailedPreconditionError(
                    absl::StrCat("pass '", std::string(e.pass->argument()),
                                 "' has no option '", k, "'"));
              return o->set(v);
            }));
      }
      out.push_back(std::move(e));
    } while (accept(','));
    return absl::OkStatus();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

} // namespace

absl::StatusOr<Pipeline> parsePipeline(std::string_view text) {
  return PipelineParser(text).parse();
}

std::string optLevelPipeline(int level) {
  if (level <= 0)
    return "";
  // -O1: exact passes only (outputs bit-identical).
  // shape-inference in each fixpoint: the fusion guards need ranks and dims,
  // and a fixpoint ends only once inference adds nothing (so a second run
  // over the output changes nothing).
  std::string o1 =
      "fixpoint(shape-inference,canonicalize,constant-fold,fold-shape-ops,"
      "eliminate-identity,"
      "eliminate-nop-dropout,eliminate-op-with-unit,"
      "eliminate-if-with-const-cond,eliminate-shape-gather,"
      "eliminate-slice-after-shape,fuse-concat-into-reshape,"
      "eliminate-nop-cast,fuse-cast-chains,eliminate-nop-transpose,"
      "eliminate-nop-reshape,eliminate-nop-expand,eliminate-nop-slice,"
      "eliminate-nop-flatten,eliminate-nop-pad,eliminate-nop-split,"
      "eliminate-nop-concat,fuse-consecutive-squeezes,"
      "fuse-consecutive-unsqueezes,fuse-squeeze-unsqueeze,"
      "fuse-consecutive-reshapes,fuse-consecutive-concats,"
      "fuse-consecutive-slices,eliminate-slice-of-concat,"
      "fuse-consecutive-reduce-unsqueeze,"
      "eliminate-consecutive-idempotent-ops,eliminate-nop-monotone-argmax,"
      "fuse-not-into-where,"
      "fuse-consecutive-transposes,cse,dce,"
      "eliminate-unused-initializers,dedup-initializers){max-iterations=8}";
  if (level == 1)
    return o1;
  // -O2: then the numeric fusions, to a fixed point with the cleanup they
  // enable. -O3 matches the elementwise chains (GELU, the norms) first:
  // fuse-mul-into-matmul would move their scalar factors (GELU's 0.5) into
  // the next weights.
  std::string o2 =
      o1 + ",fixpoint(shape-inference," +
      (level >= 3 ? "fuse-layer-norm,fuse-rms-norm,fuse-gelu," : "") +
      "fuse-bn-into-conv,fuse-bn-into-gemm,"
      "fuse-add-bias-into-conv,"
      "fuse-mul-into-conv,fuse-pad-into-conv,fuse-pad-into-pool,"
      "fuse-matmul-add-into-gemm,fuse-transpose-into-gemm,"
      "fuse-consecutive-log-softmax,fuse-qkv,replace-einsum-with-matmul,"
      "fuse-mul-into-matmul,fuse-scaler-into-linear,"
      "constant-fold,fuse-consecutive-transposes,cse,dce,"
      "eliminate-unused-initializers,dedup-initializers){max-iterations=8}";
  if (level == 2)
    return o2;
  // -O3: then the transformer fusions standard ONNX expresses at the
  // model's opset (after --target-opset's conversion: LayerNormalization
  // from 17, Gelu from 20, RMSNormalization and Attention from 23; each pass
  // leaves a model below its opset alone), with the cleanup
  // that makes a second run change nothing (a scaled zero bias is a
  // duplicate initializer).
  return o2 +
         ",fixpoint(shape-inference,fuse-layer-norm,fuse-rms-norm,fuse-gelu,"
         "fuse-attention-scale,fuse-attention,simplify-softmax-mask,cse,"
         "dce,eliminate-unused-initializers,dedup-initializers)"
         "{max-iterations=4}";
}

// ------------------------------------------------------------------ running

PassRecord &PassManager::record(const Pass &p) {
  for (PassRecord &r : records_)
    if (r.pass == p.argument())
      return r;
  PassRecord r;
  r.pass = std::string(p.argument());
  records_.push_back(std::move(r));
  return records_.back();
}

absl::StatusOr<bool> PassManager::run(Model &m) {
  return runElements(pipeline_.elements, m);
}

absl::StatusOr<bool>
PassManager::runElements(std::vector<PipelineElement> &elems, Model &m) {
  bool changed = false;
  for (PipelineElement &e : elems) {
    if (!e.isFixpoint()) {
      ONNXOPT_ASSIGN_OR_RETURN(bool c, runPass(*e.pass, m));
      changed |= c;
      continue;
    }
    for (int64_t i = 0; i < e.maxIterations; ++i) {
      ONNXOPT_ASSIGN_OR_RETURN(bool c, runElements(e.children, m));
      changed |= c;
      if (!c)
        break;
    }
  }
  return changed;
}

absl::StatusOr<bool> PassManager::runOnGraph(Pass &p, Graph &g,
                                             PassContext &ctx) {
  // Innermost bodies first: what they stop using can then die in the outer
  // graph.
  bool changed = false;
  // Most graphs hold no subgraph: skip the walk (which, beyond the caches,
  // costs as much as a simple pass) unless one may have been attached.
  if (g.mayHaveSubgraphs())
    g.refreshMayHaveSubgraphs();
  if (g.mayHaveSubgraphs())
    for (Node *n : g.nodes()) {
      if (n->attrs().empty())
        continue; // most nodes: no subgraph to look for
      for (Graph *sub : n->subgraphs()) {
        ONNXOPT_ASSIGN_OR_RETURN(bool c, runOnGraph(p, *sub, ctx));
        changed |= c;
      }
    }
  ONNXOPT_ASSIGN_OR_RETURN(bool c, p.run(g, ctx));
  return changed || c;
}

absl::StatusOr<bool> PassManager::runPass(Pass &p, Model &m) {
  std::string name(p.argument());
  if (inst_.beforePass)
    inst_.beforePass(name);
  std::ostream *os = inst_.irStream;
  if (os && inst_.printBefore.count(name)) {
    *os << "// -----// IR Dump Before " << name << " //----- //\n";
    printModel(m, *os, inst_.printOptions);
    os->flush();
  }
  PassContext ctx{m};
  std::vector<uint64_t> before;
  for (const Statistic *s : p.statistics())
    before.push_back(s->value());
  uint64_t mutationsBefore = Graph::structuralMutations();
  auto t0 = std::chrono::steady_clock::now();
  auto result = runOnGraph(p, *m.graph, ctx);
  auto t1 = std::chrono::steady_clock::now();
  PassRecord &r = record(p);
  r.seconds += std::chrono::duration<double>(t1 - t0).count();
  ++r.runs;
  if (!result.ok()) {
    failedPass_ = name;
    return absl::Status(
        result.status().code(),
        absl::StrCat("pass '", name, "' failed: ", result.status().message()));
  }
  r.changed |= *result;
  for (size_t i = 0; i < p.statistics().size(); ++i) {
    const Statistic *s = p.statistics()[i];
    uint64_t delta = s->value() - before[i];
    auto it = std::find_if(r.statistics.begin(), r.statistics.end(),
                           [&](auto &kv) { return kv.first == s->name(); });
    if (it == r.statistics.end())
      r.statistics.emplace_back(s->name(), delta);
    else
      it->second += delta;
  }
  // The verifier checks structure only: a pass that made no structural
  // mutation cannot have broken it (MLIR skips likewise after a pass that
  // preserved everything).
  if (inst_.verifyEach && Graph::structuralMutations() != mutationsBefore)
    if (absl::Status st = verifyModel(m); !st.ok()) {
      failedPass_ = name;
      return absl::InternalError(absl::StrCat("the IR is invalid after pass '",
                                              name, "': ", st.message()));
    }
  if (inst_.afterPass)
    ONNXOPT_RETURN_IF_ERROR(inst_.afterPass(name, m));
  if (os && (inst_.printAfterAll || inst_.printAfter.count(name) ||
             (inst_.printAfterChange && *result))) {
    // Streamed as the pass ends: a dump is never held in memory whole, and
    // what was printed survives a later failure.
    *os << "// -----// IR Dump After " << name << " //----- //\n";
    printModel(m, *os, inst_.printOptions);
    os->flush();
  }
  return *result;
}

} // namespace onnxopt
