// Exit-code mapping for statuses.
#include "utils/Diagnostics.h"

namespace onnxopt {

int exitCodeFor(const absl::Status &status) {
  switch (status.code()) {
  case absl::StatusCode::kOk:
    return kExitSuccess;
  case absl::StatusCode::kInvalidArgument:
  case absl::StatusCode::kUnimplemented:
  case absl::StatusCode::kResourceExhausted:
  case absl::StatusCode::kNotFound:
  case absl::StatusCode::kPermissionDenied:
  case absl::StatusCode::kOutOfRange:
  case absl::StatusCode::kDataLoss:
    return kExitInvalidInput;
  case absl::StatusCode::kFailedPrecondition:
    return kExitUsage;
  case absl::StatusCode::kAborted:
    return kExitVerifyFailed;
  default:
    return kExitInternal;
  }
}

} // namespace onnxopt
