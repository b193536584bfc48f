// Pipelines (text form, parse and print) and the pass manager that runs them
// with instrumentation: IR printing, timing, statistics, verification after
// each pass.
#pragma once

#include "ir/Printer.h"
#include "passes/Pass.h"

#include "absl/status/statusor.h"

#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace onnxopt {

/// One element of a pipeline: a pass, or a fixpoint group of elements repeated
/// until none changes the model (at most `max-iterations` times).
struct PipelineElement {
  std::unique_ptr<Pass> pass;
  std::vector<PipelineElement> children;
  int64_t maxIterations = 8;
  bool isFixpoint() const { return pass == nullptr; }
};

struct Pipeline {
  std::vector<PipelineElement> elements;
  /// Normalized text: every option printed; parses back to the same text.
  std::string str() const;
  bool empty() const { return elements.empty(); }
  /// True if every pass in the pipeline is exact (outputs bit-identical).
  bool isExact() const;
};

/// Parses `a,b{opt=v},fixpoint(c,d){max-iterations=8}`. Errors
/// (FailedPrecondition, a usage error) name the column.
absl::StatusOr<Pipeline> parsePipeline(std::string_view text);

/// The text of -O0 .. -O3.
std::string optLevelPipeline(int level);

struct Instrumentation {
  std::set<std::string> printBefore, printAfter;
  bool printAfterAll = false;
  bool printAfterChange = false;
  bool verifyEach = false;
  /// Where IR dumps go, each flushed when printed.
  std::ostream *irStream = nullptr;
  PrintOptions printOptions;
  /// Called after every pass run (after verification); an error stops the
  /// pipeline and is returned as is (--verify-bisect).
  std::function<absl::Status(const std::string &pass, Model &m)> afterPass;
  /// Called before every pass run (the driver's progress line).
  std::function<void(const std::string &pass)> beforePass;
};

/// What one pass did, summed over graphs and fixpoint iterations.
struct PassRecord {
  std::string pass;
  double seconds = 0;
  uint64_t runs = 0;
  bool changed = false;
  std::vector<std::pair<std::string, uint64_t>> statistics;
};

class PassManager {
public:
  PassManager(Pipeline pipeline, Instrumentation inst)
      : pipeline_(std::move(pipeline)), inst_(std::move(inst)) {}
  /// Runs the pipeline on `m`. A pass error or a verifier failure after a pass
  /// is returned naming the pass; `failedPass()` then says which.
  absl::StatusOr<bool> run(Model &m);
  /// Per pass, in pipeline order of first appearance.
  const std::vector<PassRecord> &records() const { return records_; }
  const std::string &failedPass() const { return failedPass_; }
  /// True if every pass of the pipeline is exact.
  bool pipelineIsExact() const { return pipeline_.isExact(); }

private:
  absl::StatusOr<bool> runElements(std::vector<PipelineElement> &elems,
                                   Model &m);
  absl::StatusOr<bool> runPass(Pass &p, Model &m);
  absl::StatusOr<bool> runOnGraph(Pass &p, Graph &g, PassContext &ctx);
  PassRecord &record(const Pass &p);

  Pipeline pipeline_;
  Instrumentation inst_;
  std::vector<PassRecord> records_;
  std::string failedPass_;
};

} // namespace onnxopt
