// --debug / --debug-only state.
#include "utils/Debug.h"

#include <algorithm>
#include <iostream>

namespace onnxopt {
namespace {
struct DebugState {
  std::vector<std::string> types;
  bool all = false;
};
DebugState &state() {
  static DebugState s;
  return s;
}
} // namespace

void setDebugTypes(std::vector<std::string> types, bool all) {
  types.erase(std::remove(types.begin(), types.end(), std::string()),
              types.end());
  state().types = std::move(types);
  state().all = all;
}

bool isDebugTypeEnabled(std::string_view type) {
  const DebugState &s = state();
  if (type.empty())
    return false;
  return s.all ||
         std::find(s.types.begin(), s.types.end(), type) != s.types.end();
}

std::ostream &dbgs() { return std::cerr; }

} // namespace onnxopt
