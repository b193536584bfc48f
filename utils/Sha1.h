// SHA-1, for the `checksum` key of ONNX external data.
#pragma once

#include <string>
#include <string_view>

namespace onnxopt {

/// Lower-case hex SHA-1 digest of `data`.
std::string sha1Hex(std::string_view data);

} // namespace onnxopt
