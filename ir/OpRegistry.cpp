// Op resolution through ONNX's schema registry.
#include "ir/OpRegistry.h"

#include "ir/NewerSchemas.h"
#include "utils/Diagnostics.h"

#include "onnx/defs/schema.h"

#include <algorithm>

namespace onnxopt {

std::optional<int> registryMaxVersion(std::string_view domain) {
  const auto &map =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(std::string(isDefaultDomain(domain) ? "" : domain));
  if (it == map.end())
    return std::nullopt;
  if (isDefaultDomain(domain))
    return std::max(it->second.second, kMaxDefaultOpset);
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
  int version = static_cast<int>(opsetVersion);
  const onnx::OpSchema *schema = nullptr;
  if (isDefaultDomain(domain) && version > kOnnxRegistryOpset) {
    // Above ONNX's registry: our definitions of what changed since 17.
    NewerSchema newer = newerSchema(type, version);
    if (newer.changed && !newer.schema)
      return id; // A version this build does not define: opaque.
    schema = newer.schema;
    version = newer.schema ? version : kOnnxRegistryOpset;
  }
  if (!schema)
    schema = onnx::OpSchemaRegistry::Schema(
        id.type, version, isDefaultDomain(domain) ? "" : id.domain);
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
