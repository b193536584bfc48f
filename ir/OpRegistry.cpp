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

const onnx::OpSchema *defaultDomainSchema(std::string_view type, int version,
                                          bool *undefined) {
  if (undefined)
    *undefined = false;
  if (version > kOnnxRegistryOpset) {
    NewerSchema newer = newerSchema(type, version);
    if (undefined)
      *undefined = newer.changed && !newer.schema;
    if (newer.changed)
      return newer.schema;
    version = kOnnxRegistryOpset;
  }
  return onnx::OpSchemaRegistry::Schema(std::string(type), version, "");
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
  if (isDefaultDomain(domain)) {
    bool undefined = false;
    schema = defaultDomainSchema(type, version, &undefined);
    if (undefined)
      return id; // A version this build does not define: opaque.
  } else {
    schema = onnx::OpSchemaRegistry::Schema(id.type, version, id.domain);
  }
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
