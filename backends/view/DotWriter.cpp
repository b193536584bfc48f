// Graphviz DOT of a model (see DotWriter.h).
#include "backends/view/DotWriter.h"

#include "ir/Graph.h"
#include "ir/OpRegistry.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace onnxopt {

namespace {

constexpr size_t kMaxAttrs = 4;
constexpr size_t kMaxListItems = 8;
constexpr size_t kMaxString = 24;

/// A DOT string literal's body: quotes and backslashes escaped, line breaks
/// as Graphviz's centered `\n`.
std::string escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string typeText(const Value &v) {
  return v.type().isUnknown() ? std::string("?") : v.type().str();
}

/// `name=value` for attributes short enough to read in a box, else "".
std::string attrText(const Attribute &a) {
  auto list = [](const auto &items) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < items.size() && i < kMaxListItems; ++i)
      parts.push_back(absl::StrCat(items[i]));
    if (items.size() > kMaxListItems)
      parts.push_back("...");
    return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
  };
  switch (a.kind) {
  case AttrKind::Int:
    return absl::StrCat(a.name, "=", a.i);
  case AttrKind::Float:
    return absl::StrCat(a.name, "=", a.f);
  case AttrKind::String:
    return a.s.size() <= kMaxString ? absl::StrCat(a.name, "=", a.s) : "";
  case AttrKind::Ints:
    return absl::StrCat(a.name, "=", list(a.ints));
  case AttrKind::Floats:
    return absl::StrCat(a.name, "=", list(a.floats));
  default:
    return "";
  }
}

/// A JSON string literal.
std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", c < 0x10 ? "0" : "",
                      absl::Hex(static_cast<unsigned char>(c)));
      continue;
    }
    // "</" would end the <script> element the JSON is embedded in.
    if (c == '/' && !out.empty() && out.back() == '<')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string jsonList(const std::vector<std::string> &items) {
  std::vector<std::string> quoted;
  for (const std::string &i : items)
    quoted.push_back(jsonString(i));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

class DotPrinter {
public:
  explicit DotPrinter(const DotOptions &opts) : opts_(opts) {}

  DotView view(const Model &m) {
    DotView v;
    v.dot = print(m);
    v.nodesJson = absl::StrCat("{", json_, "}");
    v.numNodes = numNodes_;
    return v;
  }

  std::string print(const Model &m) {
    out_ =
        "digraph onnx {\n"
        "  rankdir=TB;\n"
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f5f5f5\", "
        "fontname=\"Helvetica\", fontsize=10];\n"
        "  edge [color=\"#607080\", arrowsize=0.6];\n";
    graph(*m.graph, "  ");
    // Edges last, at the top level: an edge written inside a cluster would
    // pull an outer value it reads into that cluster.
    out_ += edges_;
    out_ += "}\n";
    return std::move(out_);
  }

private:
  /// The DOT id a value's edges start from: its producer or its input
  /// ellipse; "" for constants (summarized in their users' labels).
  std::string source(const Value *v) const {
    auto it = ids_.find(v);
    return it == ids_.end() ? std::string() : it->second;
  }

  void graph(const Graph &g, const std::string &ind) {
    for (size_t i = 0; i < g.numInputs(); ++i) {
      const Value *v = g.input(i);
      if (v->tensor())
        continue; // an initializer with a default: shown as a constant
      std::string id = absl::StrCat("v", next_++);
      ids_[v] = id;
      absl::StrAppend(&out_, ind, id, " [id=\"", opts_.idPrefix, id,
                      "\", class=\"io\", shape=ellipse, fillcolor=\"#dbe8fb\", "
                      "label=\"",
                      escaped(absl::StrCat(v->name(), "\n", typeText(*v))),
                      "\"];\n");
    }
    for (const Node *n : g.nodes())
      node(*n, ind);
    for (size_t i = 0; i < g.numOutputs(); ++i) {
      const Value *v = g.output(i);
      std::string id = absl::StrCat("v", next_++);
      absl::StrAppend(
          &out_, ind, id, " [id=\"", opts_.idPrefix, id,
          "\", class=\"io\", shape=ellipse, fillcolor=\"#fbe3d6\", "
          "label=\"",
          escaped(absl::StrCat(g.outputName(i), "\n", v ? typeText(*v) : "?")),
          "\"];\n");
      if (std::string src = source(v); !src.empty())
        absl::StrAppend(&edges_, "  ", src, " -> ", id, ";\n");
    }
  }

  void node(const Node &n, const std::string &ind) {
    std::string id = absl::StrCat("n", next_++);
    std::string label = isDefaultDomain(n.op().domain)
                            ? n.op().type
                            : absl::StrCat(n.op().domain, ".", n.op().type);
    if (!n.name.empty())
      absl::StrAppend(&label, "\n", n.name);
    size_t shown = 0;
    for (const Attribute &a : n.attrs())
      if (std::string t = attrText(a); !t.empty() && shown < kMaxAttrs) {
        absl::StrAppend(&label, "\n", t);
        ++shown;
      }
    for (size_t i = 0; i < n.numInputs(); ++i)
      if (const Value *v = n.input(i); v && v->tensor() && !ids_.contains(v))
        absl::StrAppend(&label, "\n", v->name(), ": ", typeText(*v));
    bool marked = opts_.other != nullptr;
    std::vector<std::string> ins, outs, attrs;
    for (size_t i = 0; i < n.numOutputs(); ++i)
      if (const Value *v = n.output(i)) {
        absl::StrAppend(&label, "\n-> ", typeText(*v));
        ids_[v] = id;
        outs.push_back(absl::StrCat(v->name(), ": ", typeText(*v)));
        if (marked && opts_.other->contains(v->name()))
          marked = false;
      }
    for (size_t i = 0; i < n.numInputs(); ++i)
      if (const Value *v = n.input(i))
        ins.push_back(absl::StrCat(v->name(), ": ", typeText(*v)));
    for (const Attribute &a : n.attrs()) {
      std::string t = attrText(a);
      attrs.push_back(
          t.empty() ? absl::StrCat(a.name, " (", attrKindName(a.kind), ")")
                    : t);
    }
    ++numNodes_;
    absl::StrAppend(&out_, ind, id, " [id=\"", opts_.idPrefix, id,
                    "\", class=\"op", marked ? " " + opts_.markClass : "", "\"",
                    marked ? (opts_.markClass == "removed"
                                  ? ", fillcolor=\"#f8c9c4\""
                                  : ", fillcolor=\"#c9ecc9\"")
                           : "",
                    ", label=\"", escaped(label), "\"];\n");
    absl::StrAppend(
        &json_, json_.empty() ? "" : ",\n", jsonString(opts_.idPrefix + id),
        ":{\"op\":",
        jsonString(isDefaultDomain(n.op().domain)
                       ? n.op().type
                       : absl::StrCat(n.op().domain, ".", n.op().type)),
        ",\"name\":", jsonString(n.name), ",\"attrs\":", jsonList(attrs),
        ",\"inputs\":", jsonList(ins), ",\"outputs\":", jsonList(outs),
        ",\"mark\":", jsonString(marked ? opts_.markClass : ""), "}");
    for (size_t i = 0; i < n.numInputs(); ++i)
      if (std::string src = source(n.input(i)); !src.empty())
        absl::StrAppend(&edges_, "  ", src, " -> ", id, ";\n");
    // Bodies: clusters after their owner; the values they capture have
    // edges into them.
    for (const Attribute &a : n.attrs())
      for (size_t k = 0; k < a.graphs.size(); ++k) {
        const Graph *body = a.graphs[k].get();
        if (!body)
          continue;
        absl::StrAppend(&out_, ind, "subgraph cluster_", next_++, " {\n", ind,
                        "  label=\"",
                        escaped(absl::StrCat(n.op().type, " ", a.name)),
                        "\"; style=dashed; color=\"#9aa5b1\";\n");
        graph(*body, ind + "  ");
        absl::StrAppend(&out_, ind, "}\n");
      }
  }

  const DotOptions &opts_;
  std::string out_, edges_, json_;
  size_t next_ = 0, numNodes_ = 0;
  absl::flat_hash_map<const Value *, std::string> ids_;
};

} // namespace

std::string printDot(const Model &m) {
  DotOptions opts;
  return DotPrinter(opts).print(m);
}

DotView printDotView(const Model &m, const DotOptions &opts) {
  return DotPrinter(opts).view(m);
}

absl::flat_hash_set<std::string> valueNames(const Model &m) {
  absl::flat_hash_set<std::string> names;
  walkGraphs(*m.graph, [&](Graph &g) {
    for (size_t i = 0; i < g.numInputs(); ++i)
      names.insert(g.input(i)->name());
    for (const Node *n : g.nodes())
      for (size_t i = 0; i < n->numOutputs(); ++i)
        if (const Value *v = n->output(i))
          names.insert(v->name());
  });
  return names;
}

} // namespace onnxopt
