// Builder: node creation with op resolution.
#include "ir/Builder.h"

#include "utils/Diagnostics.h"

namespace onnxopt {

absl::StatusOr<Node *> Builder::create(std::string_view type,
                                       const std::vector<Value *> &inputs,
                                       size_t numOutputs,
                                       std::string_view domain) {
  auto version = model_.opsetVersion(domain);
  if (!version)
    return invalidInput("domain '", std::string(domain),
                        "' has no opset_import");
  ONNXOPT_ASSIGN_OR_RETURN(OpId op, resolveOp(domain, type, *version));
  return graph_.createNode(std::move(op), inputs, numOutputs, pos_);
}

} // namespace onnxopt
