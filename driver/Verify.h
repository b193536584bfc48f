// Evaluation and verification in the driver: reading and writing .pb tensors,
// seeded random inputs, and output comparison (bit-exact or within tolerance).
#pragma once

#include "backends/reference/Evaluator.h"
#include "ir/Graph.h"

#include "absl/status/statusor.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace onnxopt {

/// Reads input_0.pb, input_1.pb, ... from `dir`, matched to the graph inputs
/// in order. Inputs past the last file must have an initializer default.
absl::StatusOr<std::vector<ref::RefValue>> readInputDir(const Graph &g,
                                                        const std::string &dir);

/// Writes output_0.pb, output_1.pb, ... (named after the graph outputs).
absl::Status writeOutputDir(const Graph &g,
                            const std::vector<ref::RefValue> &outputs,
                            const std::string &dir);

/// Shapes for random inputs: an input name maps to its full dims, a dim
/// symbol to its value. Unresolved symbols become 1 and are listed in `notes`.
struct ShapeBindings {
  std::map<std::string, std::vector<int64_t>> inputs;
  std::map<std::string, int64_t> symbols;
};
/// Parses "NAME=2x3x4" (or "NAME=2,3,4") into `b`.
absl::Status parseShapeBinding(std::string_view text, ShapeBindings &b);

/// Fails (a usage error) when a binding names neither a graph input nor a
/// dim symbol of one: a typo would otherwise be ignored.
absl::Status checkShapeBindings(const Graph &g, const ShapeBindings &b);

/// Seeded random values for every graph input without a default: floats
/// uniform in [-1, 1), integers in [0, 10), bools 0/1.
absl::StatusOr<std::vector<ref::RefValue>>
randomInputs(const Graph &g, const ShapeBindings &shapes, uint64_t seed,
             std::vector<std::string> &notes);

/// Default tolerances of --verify for numeric pipelines (README gives the
/// measurements behind them).
constexpr double kDefaultRtol = 1e-3;
constexpr double kDefaultAtol = 1e-5;

/// How two runs' outputs compare.
struct Comparison {
  bool equal = true;
  /// On a mismatch: which output, the worst element and the error.
  std::string message;
};
/// Compares outputs by graph output name: bit-identical when `exact`, else
/// |got - want| <= atol + rtol * max(|want|, rms(want)) for floating-point
/// outputs and atol + rtol * |want| for integers (NaN matches NaN). A missing
/// output is a mismatch.
Comparison compareOutputs(const Graph &want,
                          const std::vector<ref::RefValue> &w, const Graph &got,
                          const std::vector<ref::RefValue> &g, bool exact,
                          double rtol, double atol);

/// For numeric pipelines whose outputs pass through a discontinuity (TopK,
/// NonMaxSuppression, ArgMax, a comparison, a float-to-int Cast), where a
/// rounding difference picks another box and no tolerance on outputs holds:
/// the values that feed those ops (`cuts` of them, found by name in the
/// original's main graph) must match within tolerance, and the optimized
/// model, given the original's values there, must give the original's
/// outputs. Fails when there is no such value or one is missing from the
/// optimized model.
Comparison
compareThroughDiscontinuities(const Model &original, const Model &optimized,
                              const std::vector<ref::RefValue> &inputs,
                              const std::vector<ref::RefValue> &want,
                              double rtol, double atol, size_t &cuts);

/// One line per output: name, type, shape and the first values.
std::string describeOutputs(const Graph &g,
                            const std::vector<ref::RefValue> &outputs);

} // namespace onnxopt
