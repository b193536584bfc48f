// Pass options and statistics.
#include "passes/Pass.h"

#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>

#include <cerrno>
#include <cstdlib>

namespace onnxopt {

PassOption::PassOption(Pass *owner, std::string name, std::string description,
                       Kind kind, std::string defaultValue,
                       std::vector<std::string> choices)
    : name_(std::move(name)), description_(std::move(description)), kind_(kind),
      choices_(std::move(choices)) {
  owner->options_.push_back(this);
  absl::Status st = set(defaultValue);
  assert(st.ok() && "invalid default value for a pass option");
  (void)st;
}

absl::Status PassOption::set(std::string_view text) {
  std::string s(text);
  auto bad = [&](const char *what) {
    return absl::FailedPreconditionError(
        absl::StrCat("option '", name_, "' expects ", what, ", not '", s, "'"));
  };
  switch (kind_) {
  case Kind::String:
    break;
  case Kind::Bool:
    if (s == "true" || s == "1")
      int_ = 1, s = "true";
    else if (s == "false" || s == "0")
      int_ = 0, s = "false";
    else
      return bad("true or false");
    break;
  case Kind::Int:
  case Kind::Size: {
    if (s.empty())
      return bad("a number");
    errno = 0;
    char *end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    int64_t scale = 1;
    if (kind_ == Kind::Size && *end) {
      char u = *end++;
      scale = u == 'K'   ? 1LL << 10
              : u == 'M' ? 1LL << 20
              : u == 'G' ? 1LL << 30
                         : 0;
      if (*end == 'B' || *end == 'i')
        ++end;
      if (!scale)
        return bad("a size such as 512, 64K, 1M or 2G");
    }
    if (errno || *end || v < 0 || v > INT64_MAX / scale)
      return bad(kind_ == Kind::Size ? "a size such as 512, 64K, 1M or 2G"
                                     : "a non-negative integer");
    int_ = v * scale;
    break;
  }
  }
  if (!choices_.empty() &&
      std::find(choices_.begin(), choices_.end(), s) == choices_.end())
    return bad(absl::StrCat("one of ", absl::StrJoin(choices_, ", ")).c_str());
  text_ = s;
  return absl::OkStatus();
}

Statistic::Statistic(Pass *owner, std::string name, std::string description)
    : name_(std::move(name)), description_(std::move(description)) {
  owner->statistics_.push_back(this);
}

PassOption *Pass::option(std::string_view name) const {
  for (PassOption *o : options_)
    if (o->name() == name)
      return o;
  return nullptr;
}

} // namespace onnxopt
