// --input-shape and --dynamic-dim: change the declared shapes of graph inputs
// before the passes run, then re-infer every value from them.
//
//   --input-shape NAME=1x3x224x224   fixes dims (a symbol such as `batch`
//                                    becomes the number everywhere it
//                                    appears); `?` leaves a dim unknown, a
//                                    name makes it symbolic
//   --dynamic-dim NAME:AXIS=SYMBOL   makes a static dim symbolic (dynamic axes
//                                    for a model exported without them)
//   --input-type NAME=DTYPE          a TorchScript argument's element type
//
// Both re-infer the node results from the new input types (declared
// intermediate shapes are dropped: they describe the old inputs). A static dim
// can only be fixed to its own value, and --dynamic-dim fails, naming the
// node, when a Reshape to a constant shape bakes the old size in.
#pragma once

#include "ir/Graph.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <string>
#include <string_view>
#include <vector>

namespace onnxopt {

struct InputShapeSpec {
  std::string input;
  std::vector<Dim> dims;
};
struct DynamicDimSpec {
  std::string input;
  int64_t axis = 0;
  std::string symbol;
};

absl::StatusOr<InputShapeSpec> parseInputShape(std::string_view text);
absl::StatusOr<DynamicDimSpec> parseDynamicDim(std::string_view text);
/// --input-type NAME=DTYPE (TorchScript input), e.g. ids=int64.
absl::StatusOr<std::pair<std::string, DataType>>
parseInputType(std::string_view text);

/// Applies the specs to `m`'s main graph inputs and re-infers. Errors name the
/// input, the dim or the node.
absl::Status applyInputShapes(Model &m,
                              const std::vector<InputShapeSpec> &shapes,
                              const std::vector<DynamicDimSpec> &dynamic);

} // namespace onnxopt
