// The default domain above ONNX 1.12's opset 17: the operator versions
// opsets 18..23 introduced, as this build defines them.
//
// The ONNX library this build links stops at opset 17. A model of a newer
// opset is typed only where we know every operator it uses: each op that
// changed in 18..N is either defined here (a schema of ours, with type and
// shape inference) or listed as undefined, and a node of an undefined version
// stays opaque (carried through, never converted or written by
// --target-opset). An op that did not change since 17 keeps ONNX's schema.
// docs/opset-conversion.md has the table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace onnx {
class OpSchema;
}

namespace onnxopt {

/// The highest opset of ONNX's schema registry (what the library knows).
constexpr int kOnnxRegistryOpset = 17;
/// The highest default-domain opset this build types.
constexpr int kMaxDefaultOpset = 23;

/// What the default domain's `type` is at `opset` (18..kMaxDefaultOpset).
struct NewerSchema {
  /// True when the op has a version in 18..opset (introduced or changed).
  bool changed = false;
  /// That version's schema when this build defines it; nullptr when it
  /// does not (changed) or the op did not change (use ONNX's at 17).
  const onnx::OpSchema *schema = nullptr;
};
NewerSchema newerSchema(std::string_view type, int opset);

/// One row of the table: an op version of 18..23 and whether it is defined.
struct NewerVersion {
  std::string op;
  int version;
  bool defined;
};
/// Every op version of 18..kMaxDefaultOpset, by version then name.
std::vector<NewerVersion> newerVersions();

} // namespace onnxopt
