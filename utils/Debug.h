// --debug / --debug-only: LLVM's debug output, by pass. A component prints
// its debug lines (a pattern's match failures, with reasons) only when its
// debug type (a pass's argument) is enabled.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace onnxopt {

/// Enables the debug types in `types` ("" entries ignored); `all` enables
/// every type (--debug).
void setDebugTypes(std::vector<std::string> types, bool all = false);
/// Whether debug output of `type` is on.
bool isDebugTypeEnabled(std::string_view type);
/// Where debug output goes (stderr).
std::ostream &dbgs();

} // namespace onnxopt
