// The onnx-opt driver: command line, load, write, exit codes.
#include "driver/OnnxOptMain.h"

#include "backends/onnx/OnnxExporter.h"
#include "backends/reference/Evaluator.h"
#include "driver/InputShapes.h"
#include "driver/Verify.h"
#include "frontends/onnx/OnnxImporter.h"
#include "frontends/torchscript/TorchScriptImporter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"
#include "passes/PassRegistry.h"
#include "passes/Plugin.h"
#include "utils/Diagnostics.h"
#include "utils/OutputFile.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace onnxopt {

namespace cl = llvm::cl;

namespace {

struct Stats {
  size_t nodes = 0, initializers = 0, subgraphs = 0;
  uint64_t weightBytes = 0;
  std::map<std::string, size_t> ops; // sorted: printed in a stable order
  // The main graph alone (what other tools count).
  size_t mainNodes = 0;
  std::map<std::string, size_t> mainOps;
};

void gather(const Graph &g, Stats &s, bool main = true) {
  for (size_t i = 0; i < g.numInitializers(); ++i) {
    ++s.initializers;
    if (const auto &t = g.initializer(i)->tensor())
      s.weightBytes += t->bytes().size();
  }
  for (const Node *n : g.nodes()) {
    ++s.nodes;
    ++s.ops[n->op().type];
    if (main) {
      ++s.mainNodes;
      ++s.mainOps[n->op().type];
    }
    for (const Graph *sub : n->subgraphs()) {
      ++s.subgraphs;
      gather(*sub, s, false);
    }
  }
}

std::string describe(const Model &m) {
  Stats s;
  gather(*m.graph, s);
  std::string ops;
  for (const auto &[op, n] : s.ops)
    absl::StrAppend(&ops, ops.empty() ? "" : ", ", op, " ", n);
  return absl::StrCat(s.nodes, " nodes (", ops, "), ", s.initializers,
                      " initializers (", s.weightBytes, " bytes), ",
                      s.subgraphs, " subgraphs, ", m.graph->numInputs(),
                      " inputs, ", m.graph->numOutputs(), " outputs");
}

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += std::string("\\") + c;
    else if (static_cast<unsigned char>(c) < 0x20)
      out += absl::StrFormat("\\u%04x", c);
    else
      out += c;
  }
  return out + "\"";
}

std::string jsonModel(const Model &m) {
  Stats s;
  gather(*m.graph, s);
  auto histogram = [](const std::map<std::string, size_t> &h) {
    std::string out;
    for (const auto &[op, n] : h)
      absl::StrAppend(&out, out.empty() ? "" : ", ", jsonString(op), ": ", n);
    return out;
  };
  std::string ops = histogram(s.ops);
  auto values = [&](bool inputs) {
    std::string out;
    const Graph &g = *m.graph;
    size_t n = inputs ? g.numInputs() : g.numOutputs();
    for (size_t i = 0; i < n; ++i) {
      const Value *v = inputs ? g.input(i) : g.output(i);
      absl::StrAppend(&out, i ? ", " : "", "{\"name\": ",
                      jsonString(inputs ? v->name() : g.outputName(i)),
                      ", \"type\": ", jsonString(v->type().str()), "}");
    }
    return out;
  };
  return absl::StrCat("{\"nodes\": ", s.nodes, ", \"ops\": {", ops,
                      "}, \"main_graph_nodes\": ", s.mainNodes,
                      ", \"main_graph_ops\": {", histogram(s.mainOps),
                      "}, \"weights\": ", s.initializers,
                      ", \"weight_bytes\": ", s.weightBytes, ", \"inputs\": [",
                      values(true), "], \"outputs\": [", values(false), "]}");
}

int fail(const absl::Status &st) {
  int code = exitCodeFor(st);
  llvm::errs() << "onnx-opt: error: " << std::string(st.message()) << "\n";
  if (code == kExitInternal)
    llvm::errs()
        << "onnx-opt: this is a bug in onnx-opt; please report it with "
           "the input model and the command line\n";
  return code;
}

int run(int argc, char **argv) {
  cl::OptionCategory category("onnx-opt options");
  cl::opt<std::string> input(
      cl::Positional, cl::desc("<input .onnx or .onnxtxt>"), cl::cat(category));
  cl::opt<std::string> output("o", cl::desc("Output file ('-' for stdout)"),
                              cl::value_desc("file"), cl::init("-"),
                              cl::cat(category));
  enum class Emit { Auto, Onnx, Text };
  cl::opt<Emit> emit(
      "emit", cl::desc("Output format (default: text for stdout and .onnxtxt)"),
      cl::values(clEnumValN(Emit::Onnx, "onnx", "ONNX protobuf"),
                 clEnumValN(Emit::Text, "text", "ONNX text syntax")),
      cl::init(Emit::Auto), cl::cat(category));
  cl::opt<std::string> externalData(
      "external-data",
      cl::desc(
          "Write tensors of at least --external-data-threshold bytes to FILE "
          "(a name in the output's directory)"),
      cl::value_desc("file"), cl::cat(category));
  cl::opt<uint64_t> externalThreshold(
      "external-data-threshold",
      cl::desc("Smallest tensor, in bytes, written to external data"),
      cl::init(1024), cl::cat(category));
  cl::opt<bool> summary("summary",
                        cl::desc("Print what was read and written to stderr"),
                        cl::cat(category));
  cl::opt<unsigned> maxDepth(
      "max-subgraph-depth",
      cl::desc("Reject models with subgraphs nested deeper"), cl::init(64),
      cl::cat(category));
  cl::opt<int64_t> elide(
      "elide-tensors-over",
      cl::desc("In text output, print tensors with more elements as {...}"),
      cl::init(0), cl::cat(category));

  cl::opt<std::string> pipelineText(
      "p",
      cl::desc("Pass pipeline, e.g. 'fixpoint(cse,dce){max-iterations=8}'"),
      cl::value_desc("pipeline"), cl::cat(category));
  cl::list<std::string> inputShape(
      "input-shape",
      cl::desc("Fix an input's shape before the passes run (x=1x3x224x224; a "
               "name keeps a dim symbolic, ? unknown) and re-infer"),
      cl::value_desc("name=dims"), cl::cat(category));
  cl::list<std::string> inputType(
      "input-type",
      cl::desc("TorchScript input: an argument's element type (ids=int64; "
               "default float, int64 for embedding indices)"),
      cl::value_desc("name=dtype"), cl::cat(category));
  cl::list<std::string> dynamicDim(
      "dynamic-dim",
      cl::desc("Make an input's static dim symbolic (x:0=batch) and re-infer"),
      cl::value_desc("name:axis=symbol"), cl::cat(category));
  cl::opt<bool> o0("O0", cl::desc("No passes"), cl::cat(category));
  cl::opt<bool> o1("O1", cl::desc("Exact passes only"), cl::cat(category));
  cl::opt<bool> o2("O2", cl::desc("-O1 plus numeric fusions"),
                   cl::cat(category));
  cl::opt<bool> o3("O3", cl::desc("-O2 plus transformer pattern fusions"),
                   cl::cat(category));
  cl::opt<bool> listPasses("list-passes", cl::desc("List the passes and exit"),
                           cl::cat(category));
  cl::opt<bool> dumpPipeline(
      "dump-pass-pipeline",
      cl::desc("Print the normalized pipeline to stderr before running"),
      cl::cat(category));
  cl::list<std::string> printBefore(
      "print-ir-before", cl::desc("Print the IR before these passes"),
      cl::CommaSeparated, cl::value_desc("pass"), cl::cat(category));
  cl::list<std::string> printAfter(
      "print-ir-after", cl::desc("Print the IR after these passes"),
      cl::CommaSeparated, cl::value_desc("pass"), cl::cat(category));
  cl::opt<bool> printAfterAll("print-ir-after-all",
                              cl::desc("Print the IR after every pass"),
                              cl::cat(category));
  cl::opt<bool> printAfterChange(
      "print-ir-after-change",
      cl::desc("Print the IR after every pass that changed it"),
      cl::cat(category));
  // On by default, as in mlir-opt: a broken pass is caught where it broke.
  cl::opt<bool> verifyEach(
      "verify-each",
      cl::desc(
          "Run the IR verifier after every pass (default on; =false to skip)"),
      cl::init(true), cl::cat(category));
  cl::opt<bool> timePasses("time-passes",
                           cl::desc("Report the time of each pass"),
                           cl::cat(category));
  cl::opt<bool> passStatistics("pass-statistics",
                               cl::desc("Report the statistics of each pass"),
                               cl::cat(category));
  cl::list<std::string> plugins(
      "load-pass-plugin", cl::desc("Load a pass plugin (a shared library)"),
      cl::value_desc("lib.so"), cl::cat(category));
  cl::opt<std::string> reportFile(
      "report",
      cl::desc("Write a JSON report (passes, model before and after)"),
      cl::value_desc("file.json"), cl::cat(category));

  cl::OptionCategory evalCategory("evaluation and verification");
  cl::opt<bool> evaluate(
      "evaluate",
      cl::desc("Run the model (after the pipeline) with the reference "
               "interpreter; the model is written only if -o is given"),
      cl::cat(evalCategory));
  cl::opt<std::string> inputsDir(
      "inputs",
      cl::desc("--evaluate: read input_0.pb, ... from DIR (default: seeded "
               "random inputs)"),
      cl::value_desc("dir"), cl::cat(evalCategory));
  cl::opt<std::string> outputsDir(
      "outputs",
      cl::desc("--evaluate: write output_0.pb, ... to DIR (default: print a "
               "summary)"),
      cl::value_desc("dir"), cl::cat(evalCategory));
  cl::opt<std::string> verify(
      "verify",
      cl::desc("Run the original and the optimized model on N seeded random "
               "inputs (default 3) and compare every output"),
      cl::value_desc("N"), cl::ValueOptional, cl::cat(evalCategory));
  cl::list<std::string> verifyShape(
      "verify-shape",
      cl::desc("Shape of a random input (NAME=1x3x224x224) or the value of a "
               "dim symbol (batch=2)"),
      cl::value_desc("name=dims"), cl::cat(evalCategory));
  cl::opt<std::string> verifyInputs(
      "verify-inputs",
      cl::desc("--verify on input_0.pb, ... from DIR instead of random inputs"),
      cl::value_desc("dir"), cl::cat(evalCategory));
  cl::opt<double> verifyRtol(
      "verify-rtol", cl::desc("Relative tolerance for numeric pipelines"),
      cl::init(1e-4), cl::cat(evalCategory));
  cl::opt<double> verifyAtol(
      "verify-atol", cl::desc("Absolute tolerance for numeric pipelines"),
      cl::init(1e-5), cl::cat(evalCategory));
  cl::opt<bool> verifyBisect(
      "verify-bisect",
      cl::desc("On a mismatch, re-run the pipeline and name the first pass "
               "after which the outputs changed"),
      cl::cat(evalCategory));
  cl::opt<uint64_t> verifySeed("verify-seed",
                               cl::desc("Seed of the random inputs"),
                               cl::init(0), cl::cat(evalCategory));

  cl::HideUnrelatedOptions({&category, &evalCategory});
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "onnx-opt " << ONNXOPT_VERSION << "\n";
  });
  std::string parseErrors;
  llvm::raw_string_ostream errs(parseErrors);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "onnx-opt: a graph optimization compiler for ONNX models\n", &errs)) {
    errs.flush();
    llvm::errs() << parseErrors;
    return kExitUsage;
  }

  // Plugins first, so that their passes can appear in -p and --list-passes.
  for (const std::string &path : plugins)
    if (absl::Status st = loadPassPlugin(path); !st.ok()) {
      llvm::errs() << "onnx-opt: error: " << std::string(st.message()) << "\n";
      return kExitUsage;
    }
  if (listPasses) {
    for (const PassInfo &p : registeredPasses()) {
      auto pass = p.factory();
      llvm::outs() << "  " << p.argument;
      if (!p.alias.empty())
        llvm::outs() << " (" << p.alias << ")";
      llvm::outs() << "\n      " << std::string(pass->description())
                   << (pass->isExact() ? " [exact]" : " [numeric]") << "\n";
      for (const PassOption *o : pass->options())
        llvm::outs() << "      {" << o->name() << "=" << o->text() << "} "
                     << o->description() << "\n";
    }
    return kExitSuccess;
  }
  if (input.empty()) {
    llvm::errs() << "onnx-opt: error: no input model (see --help)\n";
    return kExitUsage;
  }
  int levels = o0 + o1 + o2 + o3;
  if (levels > 1 || (levels && !pipelineText.empty())) {
    llvm::errs()
        << "onnx-opt: error: give one of -O0..-O3 or -p, not several\n";
    return kExitUsage;
  }
  std::string pipelineSource = pipelineText;
  if (levels)
    pipelineSource = optLevelPipeline(o1 ? 1 : o2 ? 2 : o3 ? 3 : 0);
  auto pipeline = parsePipeline(pipelineSource);
  if (!pipeline.ok()) {
    llvm::errs() << "onnx-opt: error: "
                 << std::string(pipeline.status().message()) << "\n";
    return kExitUsage;
  }
  std::string normalized = pipeline->str();
  if (dumpPipeline)
    llvm::errs() << normalized << "\n";

  bool text =
      emit == Emit::Text ||
      (emit == Emit::Auto &&
       (output == "-" || absl::EndsWith(output.getValue(), ".onnxtxt")));
  if (text && !externalData.empty()) {
    llvm::errs() << "onnx-opt: error: --external-data needs --emit=onnx\n";
    return kExitUsage;
  }
  if (output != "-") {
    struct stat st;
    if (::stat(output.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      llvm::errs() << "onnx-opt: error: output '" << output
                   << "' is a directory\n";
      return kExitUsage;
    }
  }

  std::vector<InputShapeSpec> shapeSpecs;
  std::vector<DynamicDimSpec> dynamicSpecs;
  for (const std::string &t : inputShape) {
    auto spec = parseInputShape(t);
    if (!spec.ok())
      return fail(spec.status());
    shapeSpecs.push_back(std::move(*spec));
  }
  for (const std::string &t : dynamicDim) {
    auto spec = parseDynamicDim(t);
    if (!spec.ok())
      return fail(spec.status());
    dynamicSpecs.push_back(std::move(*spec));
  }

  std::vector<std::pair<std::string, DataType>> typeSpecs;
  for (const std::string &t : inputType) {
    auto spec = parseInputType(t);
    if (!spec.ok())
      return fail(spec.status());
    typeSpecs.push_back(std::move(*spec));
  }

  ImportOptions iopts;
  iopts.maxGraphDepth = maxDepth;
  // ONNX (protobuf or text), or a TorchScript archive.
  auto importModelFile =
      [&](const std::string &path,
          const ImportOptions &o) -> absl::StatusOr<std::unique_ptr<Model>> {
    if (looksLikeTorchScript(path)) {
      std::vector<TorchInput> shapes;
      for (const InputShapeSpec &spec : shapeSpecs)
        shapes.push_back({spec.input, spec.dims, std::nullopt});
      for (const auto &[name, dt] : typeSpecs) {
        auto it =
            std::find_if(shapes.begin(), shapes.end(),
                         [&](const TorchInput &t) { return t.name == name; });
        if (it == shapes.end())
          return absl::InvalidArgumentError(
              absl::StrCat("--input-type ", name,
                           ": give the argument's shape too "
                           "(--input-shape ",
                           name, "=DIMS)"));
        it->dtype = dt;
      }
      return importTorchScript(path, shapes);
    }
    if (!typeSpecs.empty()) {
      return absl::InvalidArgumentError(
          "--input-type applies to TorchScript input only (an ONNX model "
          "declares its input types)");
    }
    return onnxopt::importModelFile(path, o);
  };
  auto t0 = std::chrono::steady_clock::now();
  auto model = importModelFile(input, iopts);
  if (!model.ok())
    return fail(model.status());
  auto t1 = std::chrono::steady_clock::now();
  if (absl::Status st = verifyModel(**model); !st.ok())
    return fail(absl::InternalError(
        absl::StrCat("the imported model fails verification: ", st.message())));
  if (absl::Status st = applyInputShapes(**model, shapeSpecs, dynamicSpecs);
      !st.ok())
    return fail(st);

  std::string modelBefore = reportFile.empty() ? "" : jsonModel(**model);
  std::string summaryBefore = summary ? describe(**model) : "";
  Instrumentation inst;
  inst.printBefore.insert(printBefore.begin(), printBefore.end());
  inst.printAfter.insert(printAfter.begin(), printAfter.end());
  inst.printAfterAll = printAfterAll;
  inst.printAfterChange = printAfterChange;
  inst.verifyEach = verifyEach;
  std::ostringstream irDump;
  inst.irStream = &irDump;
  PassManager pm(std::move(*pipeline), inst);
  auto ran = pm.run(**model);
  llvm::errs() << irDump.str();
  if (!ran.ok()) {
    // A reproducer: the input as text and the pipeline that failed on it.
    if (auto original = importModelFile(input, iopts); original.ok()) {
      char path[] = "/tmp/onnx-opt-reproducer-XXXXXX.onnxtxt";
      int fd = ::mkstemps(path, 8);
      if (fd >= 0) {
        std::string body = absl::StrCat(
            "# onnx-opt reproducer: pass '", pm.failedPass(), "' failed with: ",
            std::string(ran.status().message()).substr(0, 500),
            "\n# RUN: onnx-opt %s -p '", normalized, "' --verify-each\n",
            printModel(**original));
        (void)!::write(fd, body.data(), body.size());
        ::close(fd);
        llvm::errs() << "onnx-opt: reproducer written to " << path << "\n";
      }
    }
    return fail(ran.status());
  }
  auto t15 = std::chrono::steady_clock::now();
  if (timePasses || passStatistics) {
    for (const PassRecord &r : pm.records()) {
      llvm::errs() << "onnx-opt: pass " << r.pass;
      if (timePasses)
        llvm::errs() << llvm::format(" %.3f ms over %llu runs", r.seconds * 1e3,
                                     static_cast<unsigned long long>(r.runs));
      if (passStatistics)
        for (const auto &[k, v] : r.statistics)
          llvm::errs() << " " << k << "=" << v;
      llvm::errs() << "\n";
    }
  }

  ShapeBindings shapes;
  for (const std::string &b : verifyShape)
    if (absl::Status st = parseShapeBinding(b, shapes); !st.ok()) {
      llvm::errs() << "onnx-opt: error: " << std::string(st.message()) << "\n";
      return kExitUsage;
    }
  // --verify: the original against the optimized model, on the same inputs.
  if (verify.getNumOccurrences()) {
    unsigned samples = 3;
    if (!verify.empty() &&
        (!absl::SimpleAtoi(verify.getValue(), &samples) || samples == 0)) {
      llvm::errs() << "onnx-opt: error: --verify expects a positive count\n";
      return kExitUsage;
    }
    auto original = importModelFile(input, iopts);
    if (!original.ok())
      return fail(original.status());
    // The original with the same input shapes, so that both take the same
    // inputs.
    if (absl::Status st =
            applyInputShapes(**original, shapeSpecs, dynamicSpecs);
        !st.ok())
      return fail(st);
    bool exact = pm.pipelineIsExact();
    std::vector<std::string> notes;
    if (!verifyInputs.empty())
      samples = 1;
    for (unsigned s = 0; s < samples; ++s) {
      auto ins =
          verifyInputs.empty()
              ? randomInputs(*(*original)->graph, shapes, verifySeed + s, notes)
              : readInputDir(*(*original)->graph, verifyInputs);
      if (!ins.ok())
        return fail(ins.status());
      auto want = ref::evaluateModel(**original, *ins);
      if (!want.ok())
        return fail(
            absl::Status(want.status().code(),
                         absl::StrCat("--verify: running the original model: ",
                                      want.status().message())));
      auto got = ref::evaluateModel(**model, *ins);
      if (!got.ok())
        return fail(
            absl::Status(got.status().code(),
                         absl::StrCat("--verify: running the optimized model: ",
                                      got.status().message())));
      Comparison c =
          compareOutputs(*(*original)->graph, *want, *(*model)->graph, *got,
                         exact, verifyRtol, verifyAtol);
      if (c.equal)
        continue;
      llvm::errs() << "onnx-opt: error: verification failed on sample " << s
                   << ": " << c.message << "\n";
      if (verifyBisect) {
        // Re-run the pipeline on a fresh copy, checking after every pass.
        auto fresh = importModelFile(input, iopts);
        auto again = parsePipeline(pipelineSource);
        if (fresh.ok() && again.ok()) {
          Instrumentation binst;
          binst.verifyEach = verifyEach;
          std::string culprit;
          binst.afterPass = [&](const std::string &pass, Model &m) {
            auto now = ref::evaluateModel(m, *ins);
            if (!now.ok()) {
              culprit = absl::StrCat("pass '", pass,
                                     "' (the model no longer "
                                     "runs: ",
                                     now.status().message(), ")");
              return absl::CancelledError("found");
            }
            Comparison cc = compareOutputs(*(*original)->graph, *want, *m.graph,
                                           *now, exact, verifyRtol, verifyAtol);
            if (cc.equal)
              return absl::OkStatus();
            culprit = absl::StrCat("pass '", pass, "': ", cc.message);
            return absl::CancelledError("found");
          };
          PassManager bpm(std::move(*again), binst);
          (void)bpm.run(**fresh);
          llvm::errs() << "onnx-opt: bisect: "
                       << (culprit.empty()
                               ? std::string("no single pass changed the "
                                             "outputs on its own")
                               : "the outputs first changed after " + culprit)
                       << "\n";
        }
      }
      return kExitVerifyFailed;
    }
    for (const std::string &n : notes)
      llvm::errs() << "onnx-opt: verify: note: " << n << "\n";
    llvm::errs() << "onnx-opt: verify: " << samples << " sample"
                 << (samples == 1 ? "" : "s") << ", "
                 << (*model)->graph->numOutputs() << " outputs "
                 << (exact ? "bit-identical"
                           : absl::StrFormat("within rtol=%g atol=%g",
                                             verifyRtol.getValue(),
                                             verifyAtol.getValue()))
                 << "\n";
  }

  if (evaluate) {
    std::vector<std::string> notes;
    auto ins = inputsDir.empty()
                   ? randomInputs(*(*model)->graph, shapes, verifySeed, notes)
                   : readInputDir(*(*model)->graph, inputsDir);
    if (!ins.ok())
      return fail(ins.status());
    auto outs = ref::evaluateModel(**model, std::move(*ins));
    if (!outs.ok())
      return fail(outs.status());
    if (!outputsDir.empty()) {
      if (absl::Status st = writeOutputDir(*(*model)->graph, *outs, outputsDir);
          !st.ok())
        return fail(st);
    } else {
      llvm::outs() << describeOutputs(*(*model)->graph, *outs);
    }
    if (!output.getNumOccurrences())
      return kExitSuccess;
  }

  absl::Status written;
  if (text) {
    PrintOptions popts;
    popts.elideTensorsOver = elide;
    written = writeFileAtomically(output, printModel(**model, popts));
  } else {
    ExportOptions eopts;
    eopts.externalData = externalData;
    eopts.externalThreshold = externalThreshold;
    written = exportModelFile(**model, output, eopts);
  }
  if (!written.ok())
    return fail(written);
  auto t2 = std::chrono::steady_clock::now();
  auto seconds = [](auto a, auto b) {
    return std::chrono::duration<double>(b - a).count();
  };
  if (!reportFile.empty()) {
    std::string passes;
    for (const PassRecord &r : pm.records()) {
      std::string stats;
      for (const auto &[k, v] : r.statistics)
        absl::StrAppend(&stats, stats.empty() ? "" : ", ", jsonString(k), ": ",
                        v);
      absl::StrAppend(&passes, passes.empty() ? "" : ",\n    ",
                      "{\"pass\": ", jsonString(r.pass),
                      ", \"seconds\": ", absl::StrFormat("%.6f", r.seconds),
                      ", \"runs\": ", r.runs,
                      ", \"changed\": ", r.changed ? "true" : "false",
                      ", \"statistics\": {", stats, "}}");
    }
    std::string json = absl::StrCat(
        "{\n  \"input\": ", jsonString(input.getValue()),
        ",\n  \"output\": ", jsonString(output.getValue()),
        ",\n  \"pipeline\": ", jsonString(normalized),
        ",\n  \"seconds\": {\"load\": ",
        absl::StrFormat("%.6f", seconds(t0, t1)),
        ", \"passes\": ", absl::StrFormat("%.6f", seconds(t1, t15)),
        ", \"write\": ", absl::StrFormat("%.6f", seconds(t15, t2)),
        "},\n  \"passes\": [", passes.empty() ? "" : "\n    ", passes,
        "],\n  \"before\": ", modelBefore,
        ",\n  \"after\": ", jsonModel(**model), "\n}\n");
    if (absl::Status st = writeFileAtomically(reportFile, json); !st.ok())
      return fail(st);
  }
  if (summary) {
    auto ms = [](auto a, auto b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    llvm::errs() << "onnx-opt: read " << input << ": " << summaryBefore << "\n"
                 << "onnx-opt: wrote " << output << " as "
                 << (text ? "ONNX text" : "ONNX protobuf") << ": "
                 << describe(**model) << "\n"
                 << "onnx-opt: pipeline: "
                 << (normalized.empty() ? std::string("(empty)") : normalized)
                 << "\n"
                 << llvm::format("onnx-opt: load %.1f ms, write %.1f ms\n",
                                 ms(t0, t1), ms(t1, t2));
  }
  return kExitSuccess;
}

} // namespace

int onnxOptMain(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    llvm::errs() << "onnx-opt: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

} // namespace onnxopt
