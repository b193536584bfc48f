// Op resolution through ONNX's schema registry.
#include "ir/OpRegistry.h"

#include "utils/Diagnostics.h"

#include "onnx/defs/schema.h"

namespace onnxopt {

std::optional<int> registryMaxVersion(std::string_view domain) {
  const auto &map =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(std::string(isDefaultDomain(domain) ? "" : domain));
  if (it == map.end())
    return std::nullopt;
  return it->second.second;
}

absl::StatusOr<OpId> resolveOp(std::string_view domain, std::string_view type,
                               int64_t opsetVersion) {
  OpId id;
  id.domain = std::string(domain);
  id.type = std::string(type);
  auto maxVersion = registryMaxVersion(domain);
  if (!maxVersion || opsetVersion > *maxVersion)
    return id; // Opaque: carried through untouched.
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(id.type, static_cast<int>(opsetVersion),
                                     isDefaultDomain(domain) ? "" : id.domain);
  if (!schema)
    return invalidInput(
        "operator '", std::string(type), "' is not defined in domain '",
        isDefaultDomain(domain) ? std::string("ai.onnx") : std::string(domain),
        "' at opset version ", opsetVersion);
  id.schema = schema;
  id.sinceVersion = schema->SinceVersion();
  return id;
}

} // namespace onnxopt
