// The onnx-opt driver: command line, load, write, exit codes.
#include "driver/OnnxOptMain.h"

#include "backends/onnx/OnnxExporter.h"
#include "frontends/onnx/OnnxImporter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "utils/Diagnostics.h"
#include "utils/OutputFile.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <sys/stat.h>

namespace onnxopt {

namespace cl = llvm::cl;

namespace {

struct Stats {
  size_t nodes = 0, initializers = 0, subgraphs = 0;
  uint64_t weightBytes = 0;
  std::map<std::string, size_t> ops; // sorted: printed in a stable order
};

void gather(const Graph &g, Stats &s) {
  for (size_t i = 0; i < g.numInitializers(); ++i) {
    ++s.initializers;
    if (const auto &t = g.initializer(i)->tensor())
      s.weightBytes += t->bytes().size();
  }
  for (const Node *n : g.nodes()) {
    ++s.nodes;
    ++s.ops[n->op().type];
    for (const Graph *sub : n->subgraphs()) {
      ++s.subgraphs;
      gather(*sub, s);
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
  cl::opt<std::string> input(cl::Positional,
                             cl::desc("<input .onnx or .onnxtxt>"),
                             cl::Required, cl::cat(category));
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

  cl::HideUnrelatedOptions(category);
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

  ImportOptions iopts;
  iopts.maxGraphDepth = maxDepth;
  auto t0 = std::chrono::steady_clock::now();
  auto model = importModelFile(input, iopts);
  if (!model.ok())
    return fail(model.status());
  auto t1 = std::chrono::steady_clock::now();
  if (absl::Status st = verifyModel(**model); !st.ok())
    return fail(absl::InternalError(
        absl::StrCat("the imported model fails verification: ", st.message())));

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
  if (summary) {
    auto ms = [](auto a, auto b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    llvm::errs() << "onnx-opt: read " << input << ": " << describe(**model)
                 << "\n"
                 << "onnx-opt: wrote " << output << " as "
                 << (text ? "ONNX text" : "ONNX protobuf")
                 << " (pipeline: empty)\n"
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
