// OpId: an operator resolved through ONNX's schema registry for a model's
// opsets.
#pragma once

#include "absl/status/statusor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace onnx {
class OpSchema;
}

namespace onnxopt {

/// True for "" and "ai.onnx", the two spellings of the default domain.
inline bool isDefaultDomain(std::string_view d) {
  return d.empty() || d == "ai.onnx";
}

/// An operator identity: domain, type, and the opset version its schema was
/// introduced in. Ops the registry does not know (custom domains, opsets newer
/// than the registry) are opaque: no schema, sinceVersion 0.
struct OpId {
  std::string domain;
  std::string type;
  int sinceVersion = 0;
  const onnx::OpSchema *schema = nullptr;

  bool isOpaque() const { return schema == nullptr; }
  bool is(std::string_view t, std::string_view d = "") const {
    if (type != t)
      return false;
    if (isDefaultDomain(d))
      return isDefaultDomain(domain);
    return domain == d;
  }
  bool operator==(const OpId &o) const {
    return type == o.type && sinceVersion == o.sinceVersion &&
           (domain == o.domain ||
            (isDefaultDomain(domain) && isDefaultDomain(o.domain)));
  }
};

/// Highest opset version the registry knows for `domain`, or nullopt for
/// domains it does not know (custom domains).
std::optional<int> registryMaxVersion(std::string_view domain);

/// The default domain's schema of `type` at `version`: ONNX's registry's up
/// to 17; above, this build's own for an op that changed in 18..version
/// (ir/NewerSchemas.h) and ONNX's latest for one that did not. nullptr when
/// there is none; `undefined` (optional) says the op changed in 18..version
/// and this build has no definition of that version.
const onnx::OpSchema *defaultDomainSchema(std::string_view type, int version,
                                          bool *undefined = nullptr);

/// Resolves `type` in `domain` at the imported `opsetVersion`. Returns an
/// opaque OpId for custom domains and for opsets newer than the registry; an
/// error for an op the registry should know but does not.
absl::StatusOr<OpId> resolveOp(std::string_view domain, std::string_view type,
                               int64_t opsetVersion);

} // namespace onnxopt
