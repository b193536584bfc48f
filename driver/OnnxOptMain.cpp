// The onnx-opt driver: command line, load, write, exit codes.
//
// run() is a sequence of stages, each its own function: options (parsed and
// cross-checked), the pipeline, load, output checks, passes (with the
// reproducer), verify/bisect, evaluate, write, report. Every refusal happens
// before the first byte is written.
#include "driver/OnnxOptMain.h"

#include "backends/lowering/Target.h"
#include "backends/onnx/OnnxExporter.h"
#include "backends/reference/Evaluator.h"
#include "backends/view/DotWriter.h"
#include "backends/view/HtmlWriter.h"
#include "driver/InputShapes.h"
#include "driver/Verify.h"
#include "format/TypeInference.h"
#include "frontends/onnx/OnnxImporter.h"
#include "frontends/torchscript/TorchScriptImporter.h"
#include "ir/OpRegistry.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"
#include "passes/PassRegistry.h"
#include "passes/Plugin.h"
#include "utils/Debug.h"
#include "utils/Diagnostics.h"
#include "utils/OutputFile.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <streambuf>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace onnxopt {

namespace cl = llvm::cl;

namespace {

using Clock = std::chrono::steady_clock;

double secondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Every command-line option. Constructed once per run: the options register
/// themselves with LLVM's parser.
struct Options {
  cl::OptionCategory category{"onnx-opt options"};
  cl::OptionCategory evalCategory{"evaluation and verification"};

  cl::opt<std::string> input{cl::Positional,
                             cl::desc("<input .onnx, .onnxtxt or .pt>"),
                             cl::init(std::string()), cl::cat(category)};
  cl::opt<std::string> output{"o", cl::desc("Output file ('-' for stdout)"),
                              cl::value_desc("file"), cl::init("-"),
                              cl::cat(category)};
  enum class Emit { Auto, Onnx, Text, Dot, Html };
  cl::opt<Emit> emit{
      "emit",
      cl::desc("Output format (default: text for stdout and .onnxtxt, DOT "
               "for .dot, HTML for .html, else protobuf)"),
      cl::values(
          clEnumValN(Emit::Onnx, "onnx", "ONNX protobuf"),
          clEnumValN(Emit::Text, "text", "ONNX text syntax"),
          clEnumValN(Emit::Dot, "dot", "Graphviz DOT: the graph to look at"),
          clEnumValN(Emit::Html, "html",
                     "one self-contained HTML page: the graph as SVG (laid "
                     "out by Graphviz), searchable, before and after the "
                     "pipeline")),
      cl::init(Emit::Auto), cl::cat(category)};
  cl::opt<ExportOptions::ValueInfo> valueInfo{
      "value-info",
      cl::desc("Which intermediate values get a value_info entry in ONNX "
               "output"),
      cl::values(
          clEnumValN(ExportOptions::ValueInfo::Declared, "declared",
                     "those the input declared (default: what ONNX Runtime "
                     "is given stays what the original gave it)"),
          clEnumValN(ExportOptions::ValueInfo::All, "all",
                     "every inferred type (for viewers)"),
          clEnumValN(ExportOptions::ValueInfo::None, "none", "none")),
      cl::init(ExportOptions::ValueInfo::Declared), cl::cat(category)};
  cl::opt<std::string> externalData{
      "external-data",
      cl::desc(
          "Write tensors of at least --external-data-threshold bytes to FILE "
          "(a name in the output's directory)"),
      cl::value_desc("file"), cl::init(std::string()), cl::cat(category)};
  cl::opt<uint64_t> externalThreshold{
      "external-data-threshold",
      cl::desc("Smallest tensor, in bytes, written to external data"),
      cl::init(1024), cl::cat(category)};
  cl::list<std::string> keepOutputs{
      "keep-outputs",
      cl::desc("Keep only these graph outputs (comma-separated names, in the "
               "model's order); what only the others needed becomes dead "
               "code: a classifier's ZipMap when only its label is kept"),
      cl::value_desc("name,..."), cl::CommaSeparated, cl::cat(category)};
  cl::opt<bool> summary{"summary",
                        cl::desc("Print what was read and written to stderr"),
                        cl::init(false), cl::cat(category)};
  cl::opt<unsigned> maxDepth{
      "max-subgraph-depth",
      cl::desc("Reject models with subgraphs nested deeper (the main graph "
               "is depth 0)"),
      cl::init(64), cl::cat(category)};
  cl::opt<int64_t> elide{
      "elide-tensors-over",
      cl::desc("In text output and IR dumps, print tensors with more "
               "elements as {...} (default: all of the output, 16 in dumps)"),
      cl::init(0), cl::cat(category)};
  cl::opt<std::string> pipelineText{
      "p",
      cl::desc("Pass pipeline, e.g. 'fixpoint(cse,dce){max-iterations=8}'"),
      cl::value_desc("pipeline"), cl::init(std::string()), cl::cat(category)};
  cl::list<std::string> inputShape{
      "input-shape",
      cl::desc("Fix an input's shape before the passes run (x=1x3x224x224; a "
               "name keeps a dim symbolic, ? unknown) and re-infer"),
      cl::value_desc("name=dims"), cl::cat(category)};
  cl::list<std::string> inputType{
      "input-type",
      cl::desc("TorchScript input: an argument's element type (ids=int64; "
               "default: what forward() implies, int64 indices and bool "
               "masks, else float)"),
      cl::value_desc("name=dtype"), cl::cat(category)};
  cl::list<std::string> dynamicDim{
      "dynamic-dim",
      cl::desc("Make an input's static dim symbolic (x:0=batch) and re-infer"),
      cl::value_desc("name:axis=symbol"), cl::cat(category)};
  cl::opt<bool> o0{"O0", cl::desc("No passes"), cl::init(false),
                   cl::cat(category)};
  cl::opt<bool> o1{"O1", cl::desc("Exact passes only"), cl::init(false),
                   cl::cat(category)};
  cl::opt<bool> o2{"O2", cl::desc("-O1 plus numeric fusions"), cl::init(false),
                   cl::cat(category)};
  cl::opt<bool> o3{"O3", cl::desc("-O2 plus transformer pattern fusions"),
                   cl::init(false), cl::cat(category)};
  cl::opt<bool> listPasses{"list-passes", cl::desc("List the passes and exit"),
                           cl::init(false), cl::cat(category)};
  cl::opt<std::string> target{
      "target",
      cl::desc("Lower for one execution provider after the pipeline (default "
               "onnx: portable; --list-targets)"),
      cl::value_desc("name"), cl::init("onnx"), cl::cat(category)};
  cl::opt<int> targetOpset{
      "target-opset",
      cl::desc("Convert the default ONNX domain to this opset first, up or "
               "down (convert-opset; exit 1 naming a node the opset cannot "
               "express)"),
      cl::value_desc("N"), cl::init(0), cl::cat(category)};
  cl::opt<bool> inlineFunctions{
      "inline-functions",
      cl::desc("Inline model-local functions at their call sites on import "
               "(--target-opset does)"),
      cl::init(false), cl::cat(category)};
  cl::opt<bool> listTargets{"list-targets",
                            cl::desc("List the targets and exit"),
                            cl::init(false), cl::cat(category)};
  cl::opt<bool> dumpPipeline{
      "dump-pass-pipeline",
      cl::desc("Print the normalized pipeline to stderr (without an input "
               "model: print it and exit)"),
      cl::init(false), cl::cat(category)};
  cl::list<std::string> printBefore{
      "print-ir-before", cl::desc("Print the IR before these passes"),
      cl::CommaSeparated, cl::value_desc("pass"), cl::cat(category)};
  cl::list<std::string> printAfter{
      "print-ir-after", cl::desc("Print the IR after these passes"),
      cl::CommaSeparated, cl::value_desc("pass"), cl::cat(category)};
  // LLVM's debug flags: Debian's LLVM is built without them (NDEBUG), so
  // onnx-opt defines its own, with the same spelling and meaning.
  cl::list<std::string> debugOnly{
      "debug-only",
      cl::desc("Print these passes' debug output (each pattern's match "
               "failures with their reasons, and rewrites) to stderr"),
      cl::CommaSeparated, cl::value_desc("pass"), cl::cat(category)};
  cl::opt<bool> debug{"debug",
                      cl::desc("Print every pass's debug output to stderr"),
                      cl::init(false), cl::cat(category)};
  cl::opt<bool> printAfterAll{"print-ir-after-all",
                              cl::desc("Print the IR after every pass"),
                              cl::init(false), cl::cat(category)};
  cl::opt<bool> printAfterChange{
      "print-ir-after-change",
      cl::desc("Print the IR after every pass that changed it"),
      cl::init(false), cl::cat(category)};
  // On by default, as in mlir-opt: a broken pass is caught where it broke.
  cl::opt<bool> verifyEach{
      "verify-each",
      cl::desc(
          "Run the IR verifier after every pass (default on; =false to skip)"),
      cl::init(true), cl::cat(category)};
  cl::opt<bool> timePasses{"time-passes",
                           cl::desc("Report the time of each pass"),
                           cl::init(false), cl::cat(category)};
  cl::opt<bool> passStatistics{
      "pass-statistics",
      cl::desc("Report the statistics of each pass (non-zero counters)"),
      cl::init(false), cl::cat(category)};
  cl::list<std::string> plugins{
      "load-pass-plugin", cl::desc("Load a pass plugin (a shared library)"),
      cl::value_desc("lib.so"), cl::cat(category)};
  cl::opt<std::string> depfile{
      "depfile",
      cl::desc("Write a Make-style depfile: the output depends on the input "
               "model, its external-data files, loaded plugins and --inputs/"
               "--verify-inputs files"),
      cl::value_desc("file.d"), cl::init(std::string()), cl::cat(category)};
  cl::opt<std::string> reportFile{
      "report",
      cl::desc("Write a JSON report (passes, model before and after)"),
      cl::value_desc("file.json"), cl::init(std::string()), cl::cat(category)};

  cl::opt<bool> evaluate{
      "evaluate",
      cl::desc("Run the model (after the pipeline) with the reference "
               "interpreter; the model is written only if -o is given"),
      cl::init(false), cl::cat(evalCategory)};
  cl::opt<std::string> inputsDir{
      "inputs",
      cl::desc("--evaluate: read input_0.pb, ... from DIR (default: seeded "
               "random inputs)"),
      cl::value_desc("dir"), cl::init(std::string()), cl::cat(evalCategory)};
  cl::opt<std::string> outputsDir{
      "outputs",
      cl::desc("--evaluate: write output_0.pb, ... to DIR (default: print a "
               "summary)"),
      cl::value_desc("dir"), cl::init(std::string()), cl::cat(evalCategory)};
  cl::opt<std::string> verify{
      "verify",
      cl::desc("Run the original and the optimized model on N seeded random "
               "inputs (default 3) and compare every output"),
      cl::value_desc("N"),
      cl::ValueOptional,
      cl::init(std::string()),
      cl::cat(evalCategory)};
  cl::list<std::string> verifyShape{
      "verify-shape",
      cl::desc("Shape of a random input (NAME=1x3x224x224) or the value of a "
               "dim symbol (batch=2)"),
      cl::value_desc("name=dims"), cl::cat(evalCategory)};
  cl::opt<std::string> verifyInputs{
      "verify-inputs",
      cl::desc("--verify on input_0.pb, ... from DIR instead of random inputs"),
      cl::value_desc("dir"), cl::init(std::string()), cl::cat(evalCategory)};
  cl::opt<double> verifyRtol{
      "verify-rtol",
      cl::desc("Relative tolerance for numeric pipelines, of the larger of "
               "the element and the output's RMS (finite, >= 0)"),
      cl::init(kDefaultRtol), cl::cat(evalCategory)};
  cl::opt<double> verifyAtol{
      "verify-atol",
      cl::desc("Absolute tolerance for numeric pipelines (a finite number "
               ">= 0)"),
      cl::init(kDefaultAtol), cl::cat(evalCategory)};
  cl::opt<bool> verifyBisect{
      "verify-bisect",
      cl::desc("On a mismatch, re-run the pipeline and name the first pass "
               "after which the outputs changed"),
      cl::init(false), cl::cat(evalCategory)};
  cl::opt<uint64_t> verifySeed{"verify-seed",
                               cl::desc("Seed of the random inputs"),
                               cl::init(0), cl::cat(evalCategory)};

  bool verifying() const { return verify.getNumOccurrences() > 0; }
  bool dotOutput() const {
    return emit == Emit::Dot ||
           (emit == Emit::Auto && absl::EndsWith(output.getValue(), ".dot"));
  }
  bool htmlOutput() const {
    return emit == Emit::Html ||
           (emit == Emit::Auto && absl::EndsWith(output.getValue(), ".html"));
  }
  bool textOutput() const {
    return emit == Emit::Text ||
           (emit == Emit::Auto && !dotOutput() && !htmlOutput() &&
            (output == "-" || absl::EndsWith(output.getValue(), ".onnxtxt")));
  }
  /// ONNX protobuf (what --external-data and --value-info apply to).
  bool onnxOutput() const {
    return !textOutput() && !dotOutput() && !htmlOutput();
  }
  int optLevel() const { return o1 ? 1 : o2 ? 2 : o3 ? 3 : 0; }
};

/// stderr with a buffer, flushed after each IR dump: a dump streams out as
/// it is printed instead of being held whole in memory (or written a token
/// per system call, as std::cerr would).
/// The progress line of a long run on a terminal: after ~2 s, stderr's last
/// line shows the phase (and pass) and the time so far, redrawn in place and
/// erased at the end. Never when stderr is not a terminal (pipes, files, CI
/// logs), nor with options that print to stderr while passes run. The delay
/// can be set with ONNXOPT_PROGRESS_AFTER_MS (tests).
class Progress {
public:
  explicit Progress(bool enabled) {
    if (!enabled || !isatty(STDERR_FILENO))
      return;
    int64_t after = 2000;
    if (const char *env = std::getenv("ONNXOPT_PROGRESS_AFTER_MS"))
      after = std::atoll(env);
    start_ = Clock::now();
    afterMs_ = after;
    thread_ = std::thread([this, after] { loop(after); });
  }
  ~Progress() { stop(); }
  /// What is running now; "" pauses the line (a phase that prints, such as
  /// --verify's notes and result).
  void phase(std::string text) {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = std::move(text);
    if (phase_.empty() && shown_) {
      std::fputs("\r\033[K", stderr);
      shown_ = false;
    } else if (thread_.joinable() && !done_ &&
               secondsBetween(start_, Clock::now()) * 1e3 >= afterMs_) {
      draw(); // at once: the line follows the passes as they start
    }
  }
  void stop() {
    if (!thread_.joinable())
      return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (shown_)
      std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

private:
  void loop(int64_t afterMs) {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::milliseconds(afterMs),
                     [this] { return done_; }))
      return;
    while (!done_) {
      draw();
      cv_.wait_for(lock, std::chrono::milliseconds(200),
                   [this] { return done_; });
    }
  }

  /// Redraws the line (mu_ held).
  void draw() {
    if (phase_.empty())
      return;
    double t = secondsBetween(start_, Clock::now());
    std::fprintf(stderr, "\r\033[Konnx-opt: %s (%.1f s)", phase_.c_str(), t);
    std::fflush(stderr);
    shown_ = true;
  }

  Clock::time_point start_;
  int64_t afterMs_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string phase_ = "loading";
  bool done_ = false, shown_ = false;
};

class StderrBuf final : public std::streambuf {
public:
  StderrBuf() { setp(buf_, buf_ + sizeof buf_); }
  ~StderrBuf() override { sync(); }

protected:
  int_type overflow(int_type c) override {
    if (sync() != 0)
      return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override {
    llvm::errs().flush();
    const char *p = pbase();
    while (p < pptr()) {
      ssize_t n = ::write(STDERR_FILENO, p, size_t(pptr() - p));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; // stderr closed: a dump is lost, the run is not
      p += n;
    }
    setp(buf_, buf_ + sizeof buf_);
    return 0;
  }

private:
  char buf_[1 << 16];
};

/// The progress line of the run in flight (fail() erases it first).
Progress *activeProgress = nullptr;

int fail(const absl::Status &st) {
  if (activeProgress)
    activeProgress->stop();
  int code = exitCodeFor(st);
  llvm::errs() << "onnx-opt: error: " << std::string(st.message()) << "\n";
  if (code == kExitInternal)
    llvm::errs()
        << "onnx-opt: this is a bug in onnx-opt; please report it with "
           "the input model and the command line\n";
  return code;
}

/// An option that does nothing without another one is a mistake, not a no-op.
absl::Status requireParent(const cl::Option &child, bool parentGiven,
                           const char *parents) {
  if (child.getNumOccurrences() && !parentGiven)
    return usageError("--", child.ArgStr.str(), " has no effect without ",
                      parents);
  return absl::OkStatus();
}

/// Checks what the parser cannot: values in range, options that need
/// another one, pass names in --print-ir-*.
absl::Status checkOptions(Options &o) {
  for (const cl::opt<double> *tol : {&o.verifyRtol, &o.verifyAtol})
    if (!std::isfinite(tol->getValue()) || tol->getValue() < 0)
      return usageError("--", tol->ArgStr.str(),
                        " must be a finite number >= 0, not ", tol->getValue(),
                        " (a NaN or negative tolerance would pass or fail "
                        "every comparison)");
  if (!findTarget(o.target)) {
    std::vector<std::string> names;
    for (const Target &t : registeredTargets())
      names.push_back(t.name);
    return usageError("unknown --target '", o.target.getValue(),
                      "' (targets: ", absl::StrJoin(names, ", "), ")");
  }
  bool v = o.verifying(), e = o.evaluate;
  ONNXOPT_RETURN_IF_ERROR(requireParent(o.verifyRtol, v, "--verify"));
  ONNXOPT_RETURN_IF_ERROR(requireParent(o.verifyAtol, v, "--verify"));
  ONNXOPT_RETURN_IF_ERROR(requireParent(o.verifyBisect, v, "--verify"));
  ONNXOPT_RETURN_IF_ERROR(requireParent(o.verifyInputs, v, "--verify"));
  ONNXOPT_RETURN_IF_ERROR(
      requireParent(o.verifySeed, v || e, "--verify or --evaluate"));
  ONNXOPT_RETURN_IF_ERROR(
      requireParent(o.verifyShape, v || e, "--verify or --evaluate"));
  ONNXOPT_RETURN_IF_ERROR(requireParent(o.inputsDir, e, "--evaluate"));
  ONNXOPT_RETURN_IF_ERROR(requireParent(o.outputsDir, e, "--evaluate"));
  ONNXOPT_RETURN_IF_ERROR(requireParent(
      o.externalThreshold, !o.externalData.empty(), "--external-data"));
  for (cl::list<std::string> *names :
       {std::addressof(o.printBefore), std::addressof(o.printAfter),
        std::addressof(o.debugOnly)})
    for (std::string &name : *names) {
      std::string canonical = canonicalPassName(name);
      if (canonical.empty()) {
        std::string hint = suggestPassName(name);
        return usageError(
            "--", names->ArgStr.str(), ": unknown pass '", name, "'",
            hint.empty() ? "" : absl::StrCat("; did you mean '", hint, "'?"),
            " (see --list-passes)");
      }
      name = canonical;
    }
  if (!o.onnxOutput() && !o.externalData.empty())
    return usageError("--external-data needs --emit=onnx");
  if (!o.onnxOutput() && o.valueInfo.getNumOccurrences() > 0)
    return usageError("--value-info needs --emit=onnx (text output shows "
                      "every inferred type)");
  if (o.verifying() && !o.verify.empty()) {
    unsigned samples = 0;
    if (!absl::SimpleAtoi(o.verify.getValue(), &samples) || samples == 0)
      return usageError("--verify expects a positive count, not '",
                        o.verify.getValue(), "'");
  }
  if (o.targetOpset.getNumOccurrences()) {
    int maxOpset = registryMaxVersion("").value_or(0);
    if (o.targetOpset < 7 || o.targetOpset > maxOpset)
      return usageError("--target-opset=", o.targetOpset.getValue(),
                        ": this build converts opsets 7..", maxOpset,
                        " (ONNX 1.12's schemas to 17, this build's own above)");
  }
  if (o.htmlOutput() && !llvm::sys::findProgramByName("dot"))
    return unsupported("--emit=html lays the graph out with Graphviz's dot "
                       "program, which is not on PATH (Debian: apt-get "
                       "install graphviz)");
  if (!o.depfile.empty() && (o.output.empty() || o.output == "-"))
    return usageError("--depfile needs -o FILE (the rule's target)");
  int levels = o.o0 + o.o1 + o.o2 + o.o3;
  if (levels > 1 || (levels && !o.pipelineText.empty()))
    return usageError("give one of -O0..-O3 or -p, not several");
  return absl::OkStatus();
}

void listTargets() {
  for (const Target &t : registeredTargets()) {
    llvm::outs() << "  " << t.name << "\n      " << t.description
                 << "\n      accepted by: " << t.accepts << "\n";
    if (!t.pipeline.empty())
      llvm::outs() << "      lowering: " << t.pipeline << "\n";
  }
}

void listPasses() {
  for (const PassInfo &p : registeredPasses()) {
    auto pass = p.factory();
    llvm::outs() << "  " << p.argument;
    std::vector<std::string> aliases = passAliases(p);
    if (!aliases.empty())
      llvm::outs() << " (" << absl::StrJoin(aliases, ", ") << ")";
    llvm::outs() << "\n      " << std::string(pass->description())
                 << (pass->isExact() ? " [exact]" : " [numeric]") << "\n";
    for (const PassOption *o : pass->options())
      llvm::outs() << "      {" << o->name() << "=" << o->text() << "} "
                   << o->description() << "\n";
  }
}

/// The input, read once: the model is imported from these bytes (so standard
/// input works like a file); --verify keeps a Model::clone() of it as the
/// original, and a reproducer after a failure re-imports them.
struct Input {
  std::string path;
  bool torchScript = false;
  std::shared_ptr<const Buffer> bytes; // ONNX input only
  ImportOptions options;
  std::vector<InputShapeSpec> shapes;
  std::vector<DynamicDimSpec> dynamic;
  std::vector<std::pair<std::string, DataType>> types;

  /// A fresh model, with --input-shape/--dynamic-dim applied.
  absl::StatusOr<std::unique_ptr<Model>> import() const {
    std::unique_ptr<Model> m;
    if (torchScript) {
      std::vector<TorchInput> ins;
      for (const InputShapeSpec &spec : shapes)
        ins.push_back({spec.input, spec.dims, std::nullopt});
      for (const auto &[name, dt] : types) {
        auto it = std::find_if(ins.begin(), ins.end(),
                               [&](const auto &t) { return t.name == name; });
        if (it == ins.end())
          return usageError("--input-type ", name,
                            ": give the argument's shape too (--input-shape ",
                            name, "=DIMS)");
        it->dtype = dt;
      }
      ONNXOPT_ASSIGN_OR_RETURN(m, importTorchScript(path, ins));
    } else {
      ONNXOPT_ASSIGN_OR_RETURN(m, importModelBuffer(bytes, path, options));
    }
    if (absl::Status st = verifyModel(*m); !st.ok())
      return absl::InternalError(absl::StrCat(
          "the imported model fails verification: ", st.message()));
    // TorchScript input has its --input-shape dims already (applying them
    // again only re-checks them); --dynamic-dim applies to both.
    ONNXOPT_RETURN_IF_ERROR(applyInputShapes(*m, shapes, dynamic));
    return m;
  }
};

absl::StatusOr<Input> openInput(const Options &o) {
  Input in;
  in.path = o.input;
  in.options.maxGraphDepth = o.maxDepth;
  // A conversion needs every node in the graph: function bodies import
  // opsets of their own.
  in.options.inlineLocalFunctions =
      o.inlineFunctions || o.targetOpset.getNumOccurrences() > 0;
  for (const std::string &t : o.inputShape) {
    ONNXOPT_ASSIGN_OR_RETURN(auto spec, parseInputShape(t));
    in.shapes.push_back(std::move(spec));
  }
  for (const std::string &t : o.dynamicDim) {
    ONNXOPT_ASSIGN_OR_RETURN(auto spec, parseDynamicDim(t));
    in.dynamic.push_back(std::move(spec));
  }
  for (const std::string &t : o.inputType) {
    ONNXOPT_ASSIGN_OR_RETURN(auto spec, parseInputType(t));
    in.types.push_back(std::move(spec));
  }
  in.torchScript = in.path != "-" && looksLikeTorchScript(in.path);
  if (!in.torchScript) {
    if (!in.types.empty())
      return usageError("--input-type applies to TorchScript input only (an "
                        "ONNX model declares its input types)");
    ONNXOPT_ASSIGN_OR_RETURN(in.bytes, readModelSource(in.path));
  }
  return in;
}

/// --keep-outputs: drops the other graph outputs before the pipeline (and
/// before --verify's copy of the original, whose contract is then the kept
/// outputs). An unknown name is a usage error naming the outputs there are.
absl::Status keepOutputs(const Options &o, Model &m) {
  if (o.keepOutputs.empty())
    return absl::OkStatus();
  Graph &g = *m.graph;
  std::set<std::string> keep(o.keepOutputs.begin(), o.keepOutputs.end());
  std::vector<std::string> names;
  for (size_t i = 0; i < g.numOutputs(); ++i)
    names.push_back(g.outputName(i));
  for (const std::string &k : keep)
    if (std::find(names.begin(), names.end(), k) == names.end())
      return usageError("--keep-outputs: the model has no output '", k,
                        "' (outputs: ", absl::StrJoin(names, ", "), ")");
  g.keepOutputs([&](size_t i) { return keep.count(names[i]) > 0; });
  return absl::OkStatus();
}

/// The files a run reads and writes, checked against each other before
/// anything is written (README, "Exit codes and guarantees").
absl::Status checkFiles(const Options &o, const Input &in, const Model &m,
                        FileGuard &guard) {
  if (in.path != "-")
    guard.addInput(in.path, "the input model", /*replaceable=*/true);
  for (const std::string &f : m.externalDataFiles)
    guard.addInput(f, "the input's external data");
  for (const std::string &p : o.plugins)
    guard.addInput(p, "the plugin");
  const Graph &g = *m.graph;
  for (const std::string *dir :
       {&o.inputsDir.getValue(), &o.verifyInputs.getValue()})
    if (!dir->empty())
      for (size_t i = 0; i < g.numInputs(); ++i)
        guard.addInput(absl::StrCat(*dir, "/input_", i, ".pb"),
                       "the input file");
  bool writesModel = !o.evaluate || o.output.getNumOccurrences();
  if (writesModel) {
    ONNXOPT_RETURN_IF_ERROR(guard.claimOutput(o.output, "the output (-o)",
                                              /*inPlace=*/true));
    if (o.output != "-" && pathKind(o.output) == PathKind::Directory)
      return usageError("output '", o.output.getValue(), "' is a directory");
    if (!o.externalData.empty()) {
      ONNXOPT_ASSIGN_OR_RETURN(std::string target, resolveOutputPath(o.output));
      auto slash = target.find_last_of('/');
      std::string dir =
          slash == std::string::npos ? "." : target.substr(0, slash);
      ONNXOPT_RETURN_IF_ERROR(
          guard.claimOutput(dir + "/" + o.externalData.getValue(),
                            "the external data file (--external-data)"));
    }
  }
  if (!o.reportFile.empty())
    ONNXOPT_RETURN_IF_ERROR(
        guard.claimOutput(o.reportFile, "the report (--report)"));
  if (!o.depfile.empty())
    ONNXOPT_RETURN_IF_ERROR(
        guard.claimOutput(o.depfile, "the depfile (--depfile)"));
  if (!o.outputsDir.empty())
    for (size_t i = 0; i < g.numOutputs(); ++i)
      ONNXOPT_RETURN_IF_ERROR(guard.claimOutput(
          absl::StrCat(o.outputsDir.getValue(), "/output_", i, ".pb"),
          "the output file (--outputs)"));
  return absl::OkStatus();
}

/// A reproducer for a failed pipeline: the input as text and the pipeline.
void writeReproducer(const Input &in, const std::string &pipeline,
                     const std::string &pass, const absl::Status &why) {
  auto original = in.import();
  if (!original.ok())
    return;
  char path[] = "/tmp/onnx-opt-reproducer-XXXXXX.onnxtxt";
  int fd = ::mkstemps(path, 8);
  if (fd < 0)
    return;
  std::string body =
      absl::StrCat("# onnx-opt reproducer: pass '", pass,
                   "' failed with: ", std::string(why.message()).substr(0, 500),
                   "\n# RUN: onnx-opt %s -p '", pipeline, "' --verify-each\n",
                   printModel(**original));
  (void)!::write(fd, body.data(), body.size());
  ::close(fd);
  llvm::errs() << "onnx-opt: reproducer written to " << path << "\n";
}

/// --pass-statistics, as LLVM prints them: only counters that moved.
void printStatistics(const PassManager &pm) {
  for (const PassRecord &r : pm.records()) {
    std::string moved;
    for (const auto &[k, v] : r.statistics)
      if (v)
        absl::StrAppend(&moved, " ", k, "=", v);
    if (!moved.empty())
      llvm::errs() << "onnx-opt: pass " << r.pass << moved << "\n";
  }
}

/// --time-passes: a total, and each pass's and stage's share of it.
void printTimes(const PassManager &pm, double passesWall,
                const std::vector<std::pair<std::string, double>> &phases) {
  double passes = 0;
  for (const PassRecord &r : pm.records())
    passes += r.seconds;
  double total = std::max(passes, passesWall);
  for (const auto &[phase, s] : phases)
    total += s;
  auto line = [&](const std::string &what, double s, const std::string &n) {
    llvm::errs() << llvm::format("onnx-opt: %10.3f ms %5.1f%%  ", s * 1e3,
                                 total > 0 ? 100 * s / total : 0.0)
                 << what << n << "\n";
  };
  llvm::errs() << "onnx-opt: ===---- pass execution timing ----===\n";
  for (const auto &[phase, s] : phases)
    if (s > 0) // a stage that did not run
      line(phase, s, "");
  for (const PassRecord &r : pm.records())
    line("pass " + r.pass, r.seconds,
         absl::StrCat(" (", r.runs, r.runs == 1 ? " run)" : " runs)"));
  line("pass manager (verifier, instrumentation)",
       std::max(0.0, passesWall - passes), "");
  line("total", total, "");
}

/// Re-runs the pipeline on a fresh copy, comparing after every pass, and
/// names the first pass after which the outputs changed.
void bisect(const Options &o, const std::string &pipeline,
            const Model &original, const std::vector<ref::RefValue> &inputs,
            const std::vector<ref::RefValue> &want, bool exact) {
  std::unique_ptr<Model> fresh = original.clone();
  auto again = parsePipeline(pipeline);
  if (!again.ok())
    return;
  Instrumentation binst;
  binst.verifyEach = o.verifyEach;
  std::string culprit;
  binst.afterPass = [&](const std::string &pass, Model &m) {
    auto now = ref::evaluateModel(m, inputs);
    if (!now.ok()) {
      culprit = absl::StrCat("pass '", pass, "' (the model no longer runs: ",
                             now.status().message(), ")");
      return absl::CancelledError("found");
    }
    Comparison c = compareOutputs(*original.graph, want, *m.graph, *now, exact,
                                  o.verifyRtol, o.verifyAtol);
    if (c.equal)
      return absl::OkStatus();
    culprit = absl::StrCat("pass '", pass, "': ", c.message);
    return absl::CancelledError("found");
  };
  PassManager bpm(std::move(*again), binst);
  (void)bpm.run(*fresh);
  llvm::errs() << "onnx-opt: bisect: "
               << (culprit.empty()
                       ? std::string("no single pass changed the "
                                     "outputs on its own")
                       : "the outputs first changed after " + culprit)
               << "\n";
}

/// --verify: the original against the optimized model, on the same inputs.
absl::Status verifyAgainstOriginal(const Options &o, const Model &original,
                                   const std::string &pipeline,
                                   const ShapeBindings &shapes, bool exact,
                                   const Model &optimized) {
  unsigned samples = 3;
  if (!o.verify.empty())
    (void)absl::SimpleAtoi(o.verify.getValue(), &samples);
  if (!o.verifyInputs.empty())
    samples = 1;
  std::vector<std::string> notes;
  for (unsigned s = 0; s < samples; ++s) {
    ONNXOPT_ASSIGN_OR_RETURN(
        auto ins,
        o.verifyInputs.empty()
            ? randomInputs(*original.graph, shapes, o.verifySeed + s, notes)
            : readInputDir(*original.graph, o.verifyInputs));
    auto want = ref::evaluateModel(original, ins);
    if (!want.ok())
      return absl::Status(want.status().code(),
                          absl::StrCat("--verify: running the original model: ",
                                       want.status().message()));
    auto got = ref::evaluateModel(optimized, ins);
    if (!got.ok())
      return absl::Status(
          got.status().code(),
          absl::StrCat("--verify: running the optimized model: ",
                       got.status().message()));
    Comparison c = compareOutputs(*original.graph, *want, *optimized.graph,
                                  *got, exact, o.verifyRtol, o.verifyAtol);
    if (!c.equal && !exact) {
      // Past a near-tie in TopK or NonMaxSuppression, the rounding of a
      // fused weight picks another box: a jump no tolerance on outputs
      // covers. Then the values that feed such ops are what must match.
      size_t cuts = 0;
      Comparison through = compareThroughDiscontinuities(
          original, optimized, ins, *want, o.verifyRtol, o.verifyAtol, cuts);
      if (through.equal) {
        notes.push_back(absl::StrCat(
            "sample ", s, ": ", c.message, "; accepted: the ", cuts,
            " values feeding discontinuous ops (TopK, NonMaxSuppression, "
            "comparisons, ...) match within tolerance, and from the "
            "original's values there the optimized model gives the "
            "original's outputs"));
        continue;
      }
      if (cuts)
        c.message += absl::StrCat(
            "; at the ", cuts,
            " values feeding discontinuous ops: ", through.message);
    }
    if (c.equal)
      continue;
    llvm::errs() << "onnx-opt: error: verification failed on sample " << s
                 << ": " << c.message << "\n";
    if (o.verifyBisect)
      bisect(o, pipeline, original, ins, *want, exact);
    else
      llvm::errs() << "onnx-opt: note: --verify-bisect names the first pass "
                      "that changed the outputs"
                   << (exact ? ""
                             : "; --verify-rtol and --verify-atol set "
                               "the tolerances")
                   << "\n";
    return absl::AbortedError("the optimized model's outputs differ from the "
                              "original's; nothing was written");
  }
  for (const std::string &n : notes)
    llvm::errs() << "onnx-opt: verify: note: " << n << "\n";
  llvm::errs() << "onnx-opt: verify: " << samples << " sample"
               << (samples == 1 ? "" : "s") << ", "
               << optimized.graph->numOutputs() << " outputs "
               << (exact ? "bit-identical"
                         : absl::StrFormat("within rtol=%g atol=%g",
                                           o.verifyRtol.getValue(),
                                           o.verifyAtol.getValue()))
               << "\n";
  return absl::OkStatus();
}

/// --evaluate: runs the model and prints or writes its outputs.
absl::Status evaluateModel(const Options &o, const ShapeBindings &shapes,
                           const Model &m) {
  std::vector<std::string> notes;
  ONNXOPT_ASSIGN_OR_RETURN(
      auto ins, o.inputsDir.empty()
                    ? randomInputs(*m.graph, shapes, o.verifySeed, notes)
                    : readInputDir(*m.graph, o.inputsDir));
  ONNXOPT_ASSIGN_OR_RETURN(auto outs, ref::evaluateModel(m, std::move(ins)));
  if (!o.outputsDir.empty())
    return writeOutputDir(*m.graph, outs, o.outputsDir);
  llvm::outs() << describeOutputs(*m.graph, outs);
  return absl::OkStatus();
}

/// Writes the model, after checking that it is one onnx-opt (and a runtime)
/// would load: every node's operands pass its op's type inference.
absl::Status writeModel(const Options &o, const Input &in, const Model &m,
                        const FileGuard &guard) {
  if (absl::Status st = typeCheckModel(m); !st.ok())
    return absl::Status(
        st.code(),
        absl::StrCat(in.path, ": the model is inconsistent, ", st.message(),
                     in.shapes.empty() ? ""
                                       : " (check the --input-shape values)",
                     "; nothing was written"));
  if (o.dotOutput())
    return writeFileAtomically(o.output, printDot(m));
  if (o.textOutput()) {
    PrintOptions popts;
    popts.elideTensorsOver = o.elide;
    return writeFileAtomically(o.output, printModel(m, popts));
  }
  ExportOptions eopts;
  eopts.externalData = o.externalData;
  eopts.externalThreshold = o.externalThreshold;
  eopts.guard = &guard;
  eopts.valueInfo = o.valueInfo;
  return exportModelFile(m, o.output, eopts);
}

/// A path as a Make rule writes it: spaces, '#' and '\\' before them
/// escaped, '$' doubled.
std::string makeEscaped(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '#')
      out += '\\';
    if (c == '$')
      out += '$';
    out += c;
  }
  return out;
}

/// The depfile of one run: `OUTPUT: INPUT EXTERNAL-DATA... PLUGINS... PB...`.
absl::Status writeDepfile(const Options &o, const Model &m) {
  std::vector<std::string> deps;
  if (o.input != "-")
    deps.push_back(o.input);
  deps.insert(deps.end(), m.externalDataFiles.begin(),
              m.externalDataFiles.end());
  deps.insert(deps.end(), o.plugins.begin(), o.plugins.end());
  for (const std::string *dir :
       {&o.inputsDir.getValue(), &o.verifyInputs.getValue()})
    if (!dir->empty())
      for (size_t i = 0; i < m.graph->numInputs(); ++i)
        if (std::string pb = absl::StrCat(*dir, "/input_", i, ".pb");
            llvm::sys::fs::exists(pb))
          deps.push_back(pb);
  std::string text = makeEscaped(o.output) + ":";
  for (const std::string &d : deps)
    absl::StrAppend(&text, " \\\n  ", makeEscaped(d));
  text += "\n";
  return writeFileAtomically(o.depfile, text);
}

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
      s.weightBytes += t->byteSize();
  }
  for (const Node *n : g.nodes()) {
    // Ops of other domains count under `domain.type` (com.microsoft.Attention).
    std::string op = isDefaultDomain(n->op().domain)
                         ? n->op().type
                         : absl::StrCat(n->op().domain, ".", n->op().type);
    ++s.nodes;
    ++s.ops[op];
    if (main) {
      ++s.mainNodes;
      ++s.mainOps[op];
    }
    for (const Graph *sub : n->subgraphs()) {
      ++s.subgraphs;
      gather(*sub, s, false);
    }
  }
}

/// Each op type's node count before and after, sorted by op (the rows of
/// --summary's table and of the HTML view's).
std::vector<HtmlOpCount> opCounts(const Stats &before, const Stats &after) {
  std::map<std::string, HtmlOpCount> rows;
  for (const auto &[op, n] : before.ops)
    rows[op].before = n;
  for (const auto &[op, n] : after.ops)
    rows[op].after = n;
  std::vector<HtmlOpCount> out;
  for (auto &[op, row] : rows) {
    row.op = op;
    out.push_back(row);
  }
  return out;
}

/// SVG of a DOT graph, laid out by Graphviz's dot program. Large graphs get
/// dot's fast settings (network simplex and crossing minimization cut short,
/// straight edges): minutes become seconds past a few thousand nodes.
absl::StatusOr<std::string> layoutSvg(const std::string &dot, size_t numNodes) {
  auto program = llvm::sys::findProgramByName("dot");
  if (!program)
    return unsupported("Graphviz's dot program is not on PATH");
  llvm::SmallString<128> in, out;
  if (llvm::sys::fs::createTemporaryFile("onnx-opt", "dot", in) ||
      llvm::sys::fs::createTemporaryFile("onnx-opt", "svg", out))
    return absl::InternalError("cannot create a temporary file");
  struct Cleanup {
    llvm::SmallString<128> &a, &b;
    ~Cleanup() {
      llvm::sys::fs::remove(a);
      llvm::sys::fs::remove(b);
    }
  } cleanup{in, out};
  ONNXOPT_RETURN_IF_ERROR(writeFileAtomically(std::string(in.str()), dot));
  std::vector<llvm::StringRef> args{*program, "-Tsvg", in.str(), "-o",
                                    out.str()};
  if (numNodes > 1500)
    for (llvm::StringRef a : {"-Gnslimit=1", "-Gnslimit1=1", "-Gmclimit=0.01",
                              "-Gsplines=line", "-Gremincross=false"})
      args.push_back(a);
  std::string err;
  int rc =
      llvm::sys::ExecuteAndWait(*program, args, llvm::None, {}, 0, 0, &err);
  if (rc != 0)
    return absl::InternalError(
        absl::StrCat("dot failed (exit ", rc, "): ", err));
  auto svg = llvm::MemoryBuffer::getFile(out);
  if (!svg)
    return absl::InternalError("dot wrote no SVG");
  return (*svg)->getBuffer().str();
}

/// --emit=html: the model (and, when a pipeline ran, the model before it)
/// as one page.
absl::Status writeHtmlView(const Options &o, const Model *before,
                           const Model &after, const std::string &pipeline) {
  HtmlPage page;
  page.title = absl::StrCat("onnx-opt: ", o.input.getValue());
  auto pane = [&](const Model &m, std::string title, const char *prefix,
                  const Model *other,
                  const char *mark) -> absl::StatusOr<HtmlPane> {
    DotOptions opts;
    opts.idPrefix = prefix;
    absl::flat_hash_set<std::string> names;
    if (other) {
      names = valueNames(*other);
      opts.other = &names;
      opts.markClass = mark;
    }
    DotView view = printDotView(m, opts);
    HtmlPane p;
    p.title = std::move(title);
    ONNXOPT_ASSIGN_OR_RETURN(p.svg, layoutSvg(view.dot, view.numNodes));
    p.nodesJson = std::move(view.nodesJson);
    p.numNodes = view.numNodes;
    return p;
  };
  if (before) {
    page.pipeline = pipeline;
    ONNXOPT_ASSIGN_OR_RETURN(HtmlPane b,
                             pane(*before, "before", "b-", &after, "removed"));
    ONNXOPT_ASSIGN_OR_RETURN(HtmlPane a,
                             pane(after, "after", "a-", before, "created"));
    page.panes.push_back(std::move(b));
    page.panes.push_back(std::move(a));
    Stats sb, sa;
    gather(*before->graph, sb);
    gather(*after.graph, sa);
    page.opCounts = opCounts(sb, sa);
  } else {
    ONNXOPT_ASSIGN_OR_RETURN(HtmlPane a,
                             pane(after, "graph", "a-", nullptr, ""));
    page.panes.push_back(std::move(a));
  }
  return writeFileAtomically(o.output, writeHtml(page));
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

/// Size of a file in bytes, or -1 (stdin, stdout, a device).
int64_t fileSize(const std::string &path) {
  uint64_t size = 0;
  if (path == "-" || llvm::sys::fs::file_size(path, size))
    return -1;
  return int64_t(size);
}

/// The before/after table of --summary (what users of onnxsim and OnnxSlim
/// paste into issues): one row per op type, then nodes, initializers,
/// weight bytes and file sizes, each with its change.
std::string summaryTable(const Stats &b, const Stats &a, int64_t inBytes,
                         int64_t outBytes) {
  std::vector<std::array<std::string, 4>> rows;
  auto delta = [](int64_t x, int64_t y) {
    return y == x ? std::string("0") : absl::StrCat(y > x ? "+" : "", y - x);
  };
  auto row = [&](std::string name, int64_t x, int64_t y) {
    rows.push_back(
        {std::move(name), absl::StrCat(x), absl::StrCat(y), delta(x, y)});
  };
  for (const HtmlOpCount &c : opCounts(b, a))
    row(c.op, int64_t(c.before), int64_t(c.after));
  size_t opRows = rows.size();
  row("nodes", int64_t(b.nodes), int64_t(a.nodes));
  row("initializers", int64_t(b.initializers), int64_t(a.initializers));
  row("weight bytes", int64_t(b.weightBytes), int64_t(a.weightBytes));
  if (inBytes >= 0 && outBytes >= 0)
    row("file bytes", inBytes, outBytes);
  std::array<size_t, 4> w{2, 6, 5, 5};
  for (const auto &r : rows)
    for (size_t i = 0; i < 4; ++i)
      w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::array<std::string, 4> &r) {
    std::string out = "| " + r[0] + std::string(w[0] - r[0].size(), ' ');
    for (size_t i = 1; i < 4; ++i)
      absl::StrAppend(&out, " | ", std::string(w[i] - r[i].size(), ' '), r[i]);
    return out + " |\n";
  };
  auto rule = [&] {
    std::string out = "|";
    for (size_t i = 0; i < 4; ++i)
      absl::StrAppend(&out, std::string(w[i] + 2, '-'), "|");
    return out + "\n";
  };
  std::string out = line({"op", "before", "after", "delta"}) + rule();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i == opRows)
      out += rule();
    out += line(rows[i]);
  }
  return out;
}

llvm::json::Value jsonModel(const Model &m) {
  Stats s;
  gather(*m.graph, s);
  auto histogram = [](const std::map<std::string, size_t> &h) {
    llvm::json::Object out;
    for (const auto &[op, n] : h)
      out[op] = int64_t(n);
    return out;
  };
  auto values = [&](bool inputs) {
    llvm::json::Array out;
    const Graph &g = *m.graph;
    size_t n = inputs ? g.numInputs() : g.numOutputs();
    for (size_t i = 0; i < n; ++i) {
      const Value *v = inputs ? g.input(i) : g.output(i);
      out.push_back(
          llvm::json::Object{{"name", inputs ? v->name() : g.outputName(i)},
                             {"type", v->type().str()}});
    }
    return out;
  };
  return llvm::json::Object{{"nodes", int64_t(s.nodes)},
                            {"ops", histogram(s.ops)},
                            {"main_graph_nodes", int64_t(s.mainNodes)},
                            {"main_graph_ops", histogram(s.mainOps)},
                            {"weights", int64_t(s.initializers)},
                            {"weight_bytes", int64_t(s.weightBytes)},
                            {"inputs", values(true)},
                            {"outputs", values(false)}};
}

/// Wall time of each stage of the run.
struct Phases {
  double load = 0, passes = 0, verify = 0, evaluate = 0, write = 0;
};

std::string reportJson(const Options &o, const std::string &pipeline,
                       const Phases &t, const PassManager &pm,
                       llvm::json::Value before, const Model &after) {
  llvm::json::Array passes;
  for (const PassRecord &r : pm.records()) {
    llvm::json::Object stats;
    for (const auto &[k, v] : r.statistics)
      stats[k] = int64_t(v);
    passes.push_back(llvm::json::Object{{"pass", r.pass},
                                        {"seconds", r.seconds},
                                        {"runs", int64_t(r.runs)},
                                        {"changed", r.changed},
                                        {"statistics", std::move(stats)}});
  }
  llvm::json::Object report{
      {"input", o.input.getValue()},
      {"output", o.output.getValue()},
      {"pipeline", pipeline},
      {"seconds", llvm::json::Object{{"load", t.load},
                                     {"passes", t.passes},
                                     {"verify", t.verify},
                                     {"evaluate", t.evaluate},
                                     {"write", t.write}}},
      {"passes", std::move(passes)},
      {"before", std::move(before)},
      {"after", jsonModel(after)}};
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
  os.flush();
  return out;
}

/// The stages after the command line: load, check files, passes, verify,
/// evaluate, write, report.
int runPipeline(Options &o, Pipeline pipeline, const std::string &normalized) {
  auto t0 = Clock::now();
  // Not while something else prints to stderr as the passes run.
  Progress progress(o.printBefore.empty() && o.printAfter.empty() &&
                    !o.printAfterAll && !o.printAfterChange &&
                    o.debugOnly.empty() && !o.debug);
  activeProgress = &progress;
  struct Unset {
    ~Unset() { activeProgress = nullptr; }
  } unset;
  auto input = openInput(o);
  if (!input.ok())
    return fail(input.status());
  auto model = input->import();
  if (!model.ok())
    return fail(model.status());
  Phases phases;
  phases.load = secondsBetween(t0, Clock::now());

  FileGuard guard;
  if (absl::Status st = checkFiles(o, *input, **model, guard); !st.ok())
    return fail(st);
  ShapeBindings shapes;
  for (const std::string &b : o.verifyShape)
    if (absl::Status st = parseShapeBinding(b, shapes); !st.ok())
      return fail(st);
  if (absl::Status st = checkShapeBindings(*(*model)->graph, shapes); !st.ok())
    return fail(st);

  if (absl::Status st = keepOutputs(o, **model); !st.ok())
    return fail(st);
  llvm::json::Value before =
      o.reportFile.empty() ? llvm::json::Value(nullptr) : jsonModel(**model);
  std::string summaryBefore = o.summary ? describe(**model) : "";
  Stats statsBefore;
  if (o.summary)
    gather(*(*model)->graph, statsBefore);
  StderrBuf dumpBuf;
  std::ostream dumpStream(&dumpBuf);
  Instrumentation inst;
  setDebugTypes({o.debugOnly.begin(), o.debugOnly.end()}, o.debug);
  inst.printBefore.insert(o.printBefore.begin(), o.printBefore.end());
  inst.printAfter.insert(o.printAfter.begin(), o.printAfter.end());
  inst.printAfterAll = o.printAfterAll;
  inst.printAfterChange = o.printAfterChange;
  inst.verifyEach = o.verifyEach;
  inst.irStream = &dumpStream;
  // Dumps elide large tensors unless asked: a ResNet's weights as text
  // would be gigabytes per pass.
  inst.printOptions.elideTensorsOver =
      o.elide.getNumOccurrences() ? o.elide.getValue() : 16;
  inst.beforePass = [&progress](const std::string &pass) {
    progress.phase("pass " + pass);
  };
  PassManager pm(std::move(pipeline), inst);
  // The original for --verify (and --verify-bisect's fresh runs): a copy that
  // shares the weights.
  std::unique_ptr<Model> original;
  if (o.verifying())
    original = (*model)->clone();
  // --emit=html shows the model before the pipeline beside the result.
  std::unique_ptr<Model> viewBefore;
  if (o.htmlOutput() && !normalized.empty())
    viewBefore = (*model)->clone();
  auto t1 = Clock::now();
  auto ran = pm.run(**model);
  dumpStream.flush();
  phases.passes = secondsBetween(t1, Clock::now());
  if (!ran.ok()) {
    // A check the user asked for (test-convergence) failing is no bug to
    // reproduce.
    if (ran.status().code() != absl::StatusCode::kAborted)
      writeReproducer(*input, normalized, pm.failedPass(), ran.status());
    return fail(ran.status());
  }
  if (o.passStatistics)
    printStatistics(pm);

  auto t2 = Clock::now();
  progress.phase(""); // --verify prints its notes and result
  if (o.verifying())
    if (absl::Status st = verifyAgainstOriginal(
            o, *original, normalized, shapes, pm.pipelineIsExact(), **model);
        !st.ok()) {
      if (st.code() == absl::StatusCode::kAborted)
        return kExitVerifyFailed; // the mismatch is printed already
      return fail(st);
    }
  auto t3 = Clock::now();
  phases.verify = secondsBetween(t2, t3);
  progress.phase(o.evaluate ? "" : "evaluating");
  if (o.evaluate)
    if (absl::Status st = evaluateModel(o, shapes, **model); !st.ok())
      return fail(st);
  auto t4 = Clock::now();
  phases.evaluate = secondsBetween(t3, t4);
  progress.phase("writing");
  // A view shows every value's type: inference fills in what the pipeline
  // (or the lack of one) left unknown. Types only; the graph is unchanged.
  if (o.dotOutput() || o.htmlOutput())
    for (Model *m : {model->get(), viewBefore.get()})
      if (m)
        walkGraphs(*m->graph,
                   [&](Graph &g) { refineTypes(g, m->onnxOpset()); });
  if (o.htmlOutput()) {
    if (absl::Status st =
            writeHtmlView(o, viewBefore.get(), **model, normalized);
        !st.ok())
      return fail(st);
  } else if (!o.evaluate || o.output.getNumOccurrences()) {
    if (absl::Status st = writeModel(o, *input, **model, guard); !st.ok())
      return fail(st);
  }
  if (!o.depfile.empty())
    if (absl::Status st = writeDepfile(o, **model); !st.ok())
      return fail(st);
  phases.write = secondsBetween(t4, Clock::now());
  progress.stop(); // before anything else is printed

  if (o.timePasses)
    printTimes(pm, phases.passes,
               {{"load", phases.load},
                {"verify", phases.verify},
                {"evaluate", phases.evaluate},
                {"write", phases.write}});
  if (!o.reportFile.empty())
    if (absl::Status st = writeFileAtomically(
            o.reportFile,
            reportJson(o, normalized, phases, pm, std::move(before), **model));
        !st.ok())
      return fail(st);
  if (o.summary)
    llvm::errs() << "onnx-opt: read " << o.input << ": " << summaryBefore
                 << "\n"
                 << "onnx-opt: wrote " << o.output << " as "
                 << (o.dotOutput()    ? "Graphviz DOT"
                     : o.textOutput() ? "ONNX text"
                                      : "ONNX protobuf")
                 << ": " << describe(**model) << "\n"
                 << "onnx-opt: pipeline: "
                 << (normalized.empty() ? std::string("(empty)") : normalized)
                 << "\n"
                 << llvm::format("onnx-opt: load %.1f ms, passes %.1f ms, "
                                 "verify %.1f ms, evaluate %.1f ms, write "
                                 "%.1f ms\n",
                                 phases.load * 1e3, phases.passes * 1e3,
                                 phases.verify * 1e3, phases.evaluate * 1e3,
                                 phases.write * 1e3);
  if (o.summary) {
    Stats statsAfter;
    gather(*(*model)->graph, statsAfter);
    llvm::errs() << summaryTable(statsBefore, statsAfter, fileSize(o.input),
                                 fileSize(o.output));
  }
  return kExitSuccess;
}

int run(int argc, char **argv) {
  // One set of options for the process: LLVM's parser keeps pointers to the
  // options and categories it registered, so a second run in one process
  // (the Python package) reuses them, reset to their defaults.
  static Options *options = new Options;
  Options &o = *options;
  cl::ResetAllOptionOccurrences();
  cl::HideUnrelatedOptions({&o.category, &o.evalCategory});
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
  // The targets' lowering passes, then plugins, so that their passes can
  // appear in -p, --print-ir-* and --list-passes.
  if (absl::Status st = registerBuiltinTargets(); !st.ok())
    return fail(absl::InternalError(st.message()));
  for (const std::string &path : o.plugins)
    if (absl::Status st = loadPassPlugin(path); !st.ok())
      return fail(usageError(st.message()));
  if (absl::Status st = checkOptions(o); !st.ok())
    return fail(st);
  if (o.listPasses) {
    listPasses();
    return kExitSuccess;
  }
  if (o.listTargets) {
    listTargets();
    return kExitSuccess;
  }
  std::string source =
      o.pipelineText.getNumOccurrences() || !(o.o0 || o.o1 || o.o2 || o.o3)
          ? o.pipelineText.getValue()
          : optLevelPipeline(o.optLevel());
  // The opset conversion runs first: the pipeline then works at (and
  // creates ops of) the opset the user asked for.
  if (o.targetOpset.getNumOccurrences())
    source =
        source.empty()
            ? absl::StrCat("convert-opset{opset=", o.targetOpset.getValue(),
                           "}")
            : absl::StrCat("convert-opset{opset=", o.targetOpset.getValue(),
                           "},", source);
  // The target's lowering runs after the user's pipeline, as its passes.
  const Target *target = findTarget(o.target);
  if (!target->pipeline.empty())
    source = source.empty() ? target->pipeline
                            : absl::StrCat(source, ",", target->pipeline);
  auto pipeline = parsePipeline(source);
  if (!pipeline.ok())
    return fail(pipeline.status());
  std::string normalized = pipeline->str();
  if (o.dumpPipeline)
    llvm::errs() << normalized << "\n";
  if (o.input.empty()) {
    if (o.dumpPipeline)
      return kExitSuccess; // the pipeline was all that was asked for
    return fail(usageError("no input model (see --help)"));
  }
  return runPipeline(o, std::move(*pipeline), normalized);
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
