// Inlining of model-local functions (see InlineFunctions.h).
#include "frontends/onnx/InlineFunctions.h"

#include "utils/Diagnostics.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "onnx/onnx_pb.h"

#include <map>
#include <string>
#include <utility>

namespace onnxopt {

namespace {

constexpr int kMaxDepth = 32;

using FunctionKey = std::pair<std::string, std::string>; // domain, name

class Inliner {
public:
  explicit Inliner(onnx::ModelProto &m) : model_(m) {
    for (const auto &f : m.functions())
      functions_[{f.domain(), f.name()}] = &f;
  }

  absl::Status run() {
    // The model imports what the bodies import, at the same versions.
    std::map<std::string, int64_t> imports;
    for (const auto &imp : model_.opset_import())
      imports[imp.domain()] = imp.version();
    for (const auto &[key, f] : functions_)
      for (const auto &imp : f->opset_import()) {
        std::string d = imp.domain() == "ai.onnx" ? "" : imp.domain();
        auto it = imports.find(d);
        if (it == imports.end()) {
          auto *added = model_.add_opset_import();
          added->set_domain(d);
          added->set_version(imp.version());
          imports[d] = imp.version();
        } else if (it->second != imp.version()) {
          return unsupported("model-local function '", f->name(),
                             "' imports domain '", d.empty() ? "ai.onnx" : d,
                             "' at version ", imp.version(), ", the model at ",
                             it->second, ": it cannot be inlined");
        }
      }
    ONNXOPT_RETURN_IF_ERROR(expandGraph(*model_.mutable_graph(), 0));
    model_.clear_functions();
    return absl::OkStatus();
  }

private:
  onnx::ModelProto &model_;
  std::map<FunctionKey, const onnx::FunctionProto *> functions_;
  int64_t calls_ = 0;

  const onnx::FunctionProto *calleeOf(const onnx::NodeProto &n) const {
    auto it = functions_.find({n.domain(), n.op_type()});
    return it == functions_.end() ? nullptr : it->second;
  }

  /// Expands the calls among `nodes` (and in their subgraphs) in place.
  absl::Status
  expandNodes(google::protobuf::RepeatedPtrField<onnx::NodeProto> &nodes,
              int depth) {
    google::protobuf::RepeatedPtrField<onnx::NodeProto> out;
    for (auto &n : nodes) {
      for (auto &a : *n.mutable_attribute()) {
        if (a.has_g())
          ONNXOPT_RETURN_IF_ERROR(expandGraph(*a.mutable_g(), depth));
        for (auto &g : *a.mutable_graphs())
          ONNXOPT_RETURN_IF_ERROR(expandGraph(g, depth));
      }
      const onnx::FunctionProto *f = calleeOf(n);
      if (!f) {
        *out.Add() = std::move(n);
        continue;
      }
      if (depth >= kMaxDepth)
        return unsupported("model-local function calls nest deeper than ",
                           kMaxDepth, " (recursion?) at '", f->name(), "'");
      google::protobuf::RepeatedPtrField<onnx::NodeProto> body;
      ONNXOPT_RETURN_IF_ERROR(instantiate(n, *f, body));
      ONNXOPT_RETURN_IF_ERROR(expandNodes(body, depth + 1));
      for (auto &b : body)
        *out.Add() = std::move(b);
    }
    nodes.Swap(&out);
    return absl::OkStatus();
  }

  absl::Status expandGraph(onnx::GraphProto &g, int depth) {
    return expandNodes(*g.mutable_node(), depth);
  }

  /// The body of `f` for call `call`: values renamed, attributes bound.
  absl::Status
  instantiate(const onnx::NodeProto &call, const onnx::FunctionProto &f,
              google::protobuf::RepeatedPtrField<onnx::NodeProto> &body) {
    if (call.input_size() > f.input_size() ||
        call.output_size() > f.output_size())
      return invalidInput("a call of model-local function '", f.name(),
                          "' has ", call.input_size(), " operands and ",
                          call.output_size(), " results; it declares ",
                          f.input_size(), " and ", f.output_size());
    std::string prefix = absl::StrCat(f.name(), ".", calls_++, "/");
    absl::flat_hash_map<std::string, std::string> names;
    for (int i = 0; i < f.input_size(); ++i)
      names[f.input(i)] = i < call.input_size() ? call.input(i) : "";
    for (int i = 0; i < f.output_size(); ++i)
      names[f.output(i)] =
          i < call.output_size() ? call.output(i) : prefix + f.output(i);
    // IR 9's attribute defaults (FunctionProto field 11) are not in ONNX
    // 1.12's schema: kept as an unknown field, which would be lost.
    if (!f.GetReflection()->GetUnknownFields(f).empty())
      return unsupported("model-local function '", f.name(),
                         "' has fields this build's ONNX does not know "
                         "(attribute defaults of IR 9?): it is not inlined");
    absl::flat_hash_map<std::string, const onnx::AttributeProto *> attrs;
    for (const auto &a : call.attribute())
      attrs[a.name()] = &a;
    Renamer rename{names, prefix, attrs};
    for (const auto &b : f.node()) {
      onnx::NodeProto *n = body.Add();
      *n = b;
      rename.node(*n);
    }
    return absl::OkStatus();
  }

  /// Renames a body's values: formal parameters to the call's operands,
  /// everything else apart with the prefix; binds attribute references.
  struct Renamer {
    const absl::flat_hash_map<std::string, std::string> &names;
    const std::string &prefix;
    const absl::flat_hash_map<std::string, const onnx::AttributeProto *> &attrs;

    std::string of(const std::string &name) const {
      if (name.empty())
        return name;
      auto it = names.find(name);
      return it != names.end() ? it->second : prefix + name;
    }
    void node(onnx::NodeProto &n) const {
      for (auto &in : *n.mutable_input())
        in = of(in);
      for (auto &out : *n.mutable_output())
        out = of(out);
      if (!n.name().empty())
        n.set_name(prefix + n.name());
      google::protobuf::RepeatedPtrField<onnx::AttributeProto> bound;
      for (auto &a : *n.mutable_attribute()) {
        if (!a.ref_attr_name().empty()) {
          auto it = attrs.find(a.ref_attr_name());
          if (it == attrs.end())
            continue; // unset, no default: the attribute is absent
          onnx::AttributeProto *b = bound.Add();
          *b = *it->second;
          b->set_name(a.name());
          continue;
        }
        if (a.has_g())
          graph(*a.mutable_g());
        for (auto &g : *a.mutable_graphs())
          graph(g);
        *bound.Add() = std::move(a);
      }
      n.mutable_attribute()->Swap(&bound);
    }
    void graph(onnx::GraphProto &g) const {
      for (auto &v : *g.mutable_input())
        v.set_name(of(v.name()));
      for (auto &v : *g.mutable_output())
        v.set_name(of(v.name()));
      for (auto &v : *g.mutable_value_info())
        v.set_name(of(v.name()));
      for (auto &t : *g.mutable_initializer())
        t.set_name(of(t.name()));
      for (auto &n : *g.mutable_node())
        node(n);
    }
  };
};

} // namespace

absl::Status inlineLocalFunctions(onnx::ModelProto &model) {
  if (model.functions_size() == 0)
    return absl::OkStatus();
  return Inliner(model).run();
}

} // namespace onnxopt
