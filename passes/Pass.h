// Pass: the unit of transformation, with typed options and statistics.
#pragma once

#include "ir/Graph.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace onnxopt {

class Pass;

/// What a pass gets besides the graph it runs on.
struct PassContext {
  Model &model;
};

/// A typed pass option (`name=value` in a pipeline). Sizes accept K/M/G
/// suffixes.
class PassOption {
public:
  enum class Kind { Int, Bool, Size, String };
  /// `choices`: the only values the option takes (empty: any of its kind);
  /// another is an error when the pipeline is parsed.
  PassOption(Pass *owner, std::string name, std::string description, Kind kind,
             std::string defaultValue, std::vector<std::string> choices = {});
  const std::string &name() const { return name_; }
  const std::string &description() const { return description_; }
  Kind kind() const { return kind_; }
  /// Parses and stores `text`; the error names the option.
  absl::Status set(std::string_view text);
  /// The value as it prints in a normalized pipeline.
  const std::string &text() const { return text_; }
  int64_t intValue() const { return int_; }
  bool boolValue() const { return int_ != 0; }
  const std::string &stringValue() const { return text_; }

private:
  std::string name_, description_;
  Kind kind_;
  std::vector<std::string> choices_;
  std::string text_;
  int64_t int_ = 0;
};

/// A named counter a pass increments (`--pass-statistics`).
class Statistic {
public:
  Statistic(Pass *owner, std::string name, std::string description);
  Statistic &operator++() {
    ++value_;
    return *this;
  }
  Statistic &operator+=(uint64_t n) {
    value_ += n;
    return *this;
  }
  uint64_t value() const { return value_; }
  const std::string &name() const { return name_; }
  const std::string &description() const { return description_; }

private:
  std::string name_, description_;
  uint64_t value_ = 0;
};

/// Base class of every pass. A pass runs on one graph; the pass manager runs it
/// on the main graph and on every subgraph body, innermost first, so passes
/// never recurse into bodies themselves.
class Pass {
public:
  virtual ~Pass() = default;
  /// The kebab-case name used in pipelines (`dce`).
  virtual std::string_view argument() const = 0;
  /// One line for --list-passes.
  virtual std::string_view description() const = 0;
  /// Exact passes keep outputs bit-identical; numeric ones stay within a
  /// tolerance.
  virtual bool isExact() const { return true; }
  /// Transforms `g`; returns whether anything changed.
  virtual absl::StatusOr<bool> run(Graph &g, PassContext &ctx) = 0;

  const std::vector<PassOption *> &options() const { return options_; }
  const std::vector<Statistic *> &statistics() const { return statistics_; }
  PassOption *option(std::string_view name) const;

private:
  friend class PassOption;
  friend class Statistic;
  std::vector<PassOption *> options_;
  std::vector<Statistic *> statistics_;
};

} // namespace onnxopt
