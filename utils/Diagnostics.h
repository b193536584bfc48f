// Error helpers: model errors are absl::Status values with a category that maps
// to an exit code.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace onnxopt {

/// Process exit codes (DESIGN.md).
enum ExitCode : int {
  kExitSuccess = 0,
  kExitInvalidInput = 1,
  kExitUsage = 2,
  kExitVerifyFailed = 3,
  kExitInternal = 4,
};

/// An error in the user's model or files: exit code 1.
template <typename... Args> absl::Status invalidInput(const Args &...args) {
  return absl::InvalidArgumentError(absl::StrCat(args...));
}

/// A model feature we do not support: exit code 1.
template <typename... Args> absl::Status unsupported(const Args &...args) {
  return absl::UnimplementedError(absl::StrCat(args...));
}

/// A resource limit was hit (depth, size): exit code 1.
template <typename... Args> absl::Status limitExceeded(const Args &...args) {
  return absl::ResourceExhaustedError(absl::StrCat(args...));
}

/// A mistake on the command line (a flag, a path): exit code 2.
template <typename... Args> absl::Status usageError(const Args &...args) {
  return absl::FailedPreconditionError(absl::StrCat(args...));
}

/// Maps a status to the process exit code.
int exitCodeFor(const absl::Status &status);

} // namespace onnxopt

#define ONNXOPT_RETURN_IF_ERROR(expr)                                          \
  do {                                                                         \
    ::absl::Status _st = (expr);                                               \
    if (!_st.ok())                                                             \
      return _st;                                                              \
  } while (0)

#define ONNXOPT_CONCAT_INNER(a, b) a##b
#define ONNXOPT_CONCAT(a, b) ONNXOPT_CONCAT_INNER(a, b)
#define ONNXOPT_ASSIGN_OR_RETURN(lhs, expr)                                    \
  ONNXOPT_ASSIGN_OR_RETURN_IMPL(ONNXOPT_CONCAT(_statusor_, __LINE__), lhs, expr)
#define ONNXOPT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                          \
  auto tmp = (expr);                                                           \
  if (!tmp.ok())                                                               \
    return tmp.status();                                                       \
  lhs = std::move(*tmp)
