// Protobuf wire-format surgery on serialized ModelProtos, so that weights are
// neither copied on load nor on save.
//
// Load: extractSkeleton() copies a ModelProto's bytes except the payloads of
// TensorProto.raw_data fields, each replaced by a marker (an unknown field
// holding a slot number); protobuf parses the small skeleton, and the importer
// turns each marker into a view of the mapped file. Save: the exporter marks
// tensors the same way, protobuf serializes the skeleton, and spliceSlots()
// streams it to the file with each marker replaced by a raw_data field written
// straight from its mapping.
#pragma once

#include "utils/OutputFile.h"

#include "absl/status/status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace onnxopt::wire {

/// Field number of the slot marker inside TensorProto (the largest legal field
/// number; ONNX does not use it). An input file that sets it is rejected.
constexpr uint32_t kSlotField = 536870911;

/// Location of one raw_data payload in the source bytes.
struct Slot {
  uint64_t offset = 0;
  uint64_t size = 0;
};

/// Limits for the walk over nested messages.
struct WalkLimits {
  /// Maximum nesting of subgraphs (If/Loop/Scan bodies) inside subgraphs.
  unsigned maxGraphDepth = 64;
};

/// Builds the skeleton of serialized ModelProto `in`: raw_data payloads of at
/// least `minBytes` are replaced by slot markers and listed in `slots`. Fails
/// on malformed wire data (naming the byte offset) or excessive nesting.
absl::Status extractSkeleton(std::string_view in, size_t minBytes,
                             std::string &skeleton, std::vector<Slot> &slots,
                             const WalkLimits &limits = {});

/// Size of the file spliceSlots() would write.
absl::StatusOr<uint64_t> splicedSize(std::string_view skeleton,
                                     const std::vector<ByteRange> &payloads);

/// Writes `skeleton` to `out` with every slot marker k replaced by a raw_data
/// field holding payloads[k].
absl::Status spliceSlots(std::string_view skeleton,
                         const std::vector<ByteRange> &payloads,
                         OutputFile &out);

} // namespace onnxopt::wire
