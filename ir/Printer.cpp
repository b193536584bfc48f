// Text printer in ONNX's textual syntax.
#include "ir/Printer.h"

#include "absl/container/flat_hash_map.h"

#include "ir/Graph.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <sstream>

namespace onnxopt {

namespace {

void printString(std::ostream &os, std::string_view s) {
  os << '"';
  for (char c : s) {
    if (c == '"' || c == '\\')
      os << '\\' << c;
    else if (c == '\n')
      os << "\\n";
    else
      os << c;
  }
  os << '"';
}

std::string formatFloat(double v, bool isDouble) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  std::string s = isDouble ? absl::StrFormat("%.17g", v)
                           : absl::StrFormat("%.9g", static_cast<float>(v));
  // Keep a float literal recognisable as such.
  if (s.find_first_of(".eE") == std::string::npos)
    s += ".0";
  return s;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v;
  if (exp == 0)
    v = std::ldexp(static_cast<float>(man), -24);
  else if (exp == 31)
    v = man ? NAN : INFINITY;
  else
    v = std::ldexp(static_cast<float>(man | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

float bf16ToFloat(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <typename T> T load(const char *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

void printElement(std::ostream &os, DataType dt, const char *p) {
  switch (dt) {
  case DataType::Float:
    os << formatFloat(load<float>(p), false);
    return;
  case DataType::Double:
    os << formatFloat(load<double>(p), true);
    return;
  case DataType::Float16:
    os << formatFloat(halfToFloat(load<uint16_t>(p)), false);
    return;
  case DataType::BFloat16:
    os << formatFloat(bf16ToFloat(load<uint16_t>(p)), false);
    return;
  case DataType::Complex64:
    os << formatFloat(load<float>(p), false) << ", "
       << formatFloat(load<float>(p + 4), false);
    return;
  case DataType::Complex128:
    os << formatFloat(load<double>(p), true) << ", "
       << formatFloat(load<double>(p + 8), true);
    return;
  case DataType::UInt8:
    os << unsigned(load<uint8_t>(p));
    return;
  case DataType::Int8:
    os << int(load<int8_t>(p));
    return;
  case DataType::UInt16:
    os << load<uint16_t>(p);
    return;
  case DataType::Int16:
    os << load<int16_t>(p);
    return;
  case DataType::Int32:
    os << load<int32_t>(p);
    return;
  case DataType::Int64:
    os << load<int64_t>(p);
    return;
  case DataType::UInt32:
    os << load<uint32_t>(p);
    return;
  case DataType::UInt64:
    os << load<uint64_t>(p);
    return;
  case DataType::Bool:
    os << (load<uint8_t>(p) ? 1 : 0);
    return;
  case DataType::String:
  case DataType::Undefined:
    return;
  }
}

bool isBareName(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
          c == ':' || c == '/' || c == '-'))
      return false;
  return true;
}

/// Value and graph names print bare where the text syntax allows, else quoted.
void printName(std::ostream &os, std::string_view s) {
  if (isBareName(s))
    os << s;
  else
    printString(os, s);
}

} // namespace

std::string dimSymbolText(std::string_view symbol) {
  // Bare where the shape syntax reads it as a name (not a number), else
  // quoted.
  if (isBareName(symbol) &&
      !std::isdigit(static_cast<unsigned char>(symbol[0])) &&
      symbol[0] != '-' && symbol[0] != '.')
    return std::string(symbol);
  std::ostringstream os;
  printString(os, symbol);
  return os.str();
}

namespace {

class Printer {
public:
  Printer(std::ostream &os, const PrintOptions &opts) : os_(os), opts_(opts) {}

  void type(const Type &t) { os_ << t.str(); }

  /// `float[2] name {1.0, 2.0}`, or just the braces where the type is declared.
  void tensorLiteral(const Tensor &t, bool withType) {
    if (withType) {
      os_ << dataTypeName(t.dtype());
      if (!t.dims().empty()) {
        os_ << "[";
        for (size_t i = 0; i < t.dims().size(); ++i)
          os_ << (i ? "," : "") << t.dims()[i];
        os_ << "]";
      }
      if (!t.name.empty()) {
        os_ << " ";
        printName(os_, t.name);
      }
      os_ << " ";
    }
    os_ << "{";
    int64_t n = t.numElements();
    if (opts_.elideTensorsOver > 0 && n > opts_.elideTensorsOver) {
      os_ << "... " << t.byteSize() << " bytes}";
      return;
    }
    if (t.dtype() == DataType::String) {
      for (size_t i = 0; i < t.strings().size(); ++i) {
        if (i)
          os_ << ", ";
        printString(os_, t.strings()[i]);
      }
    } else {
      size_t es = elementSize(t.dtype());
      std::string_view b = t.bytes();
      for (size_t off = 0; es && off + es <= b.size(); off += es) {
        if (off)
          os_ << ", ";
        printElement(os_, t.dtype(), b.data() + off);
      }
    }
    os_ << "}";
  }

  void attrValue(const Attribute &a, int indent) {
    auto list = [&](auto &items, auto fn) {
      os_ << "[";
      for (size_t i = 0; i < items.size(); ++i) {
        if (i)
          os_ << ", ";
        fn(items[i]);
      }
      os_ << "]";
    };
    switch (a.kind) {
    case AttrKind::Float:
      os_ << formatFloat(a.f, false);
      break;
    case AttrKind::Int:
      os_ << a.i;
      break;
    case AttrKind::String:
      printString(os_, a.s);
      break;
    case AttrKind::Tensor:
      tensorLiteral(*a.tensors[0], true);
      break;
    case AttrKind::Graph:
      graph(*a.graphs[0], indent);
      break;
    case AttrKind::Floats:
      list(a.floats, [&](float f) { os_ << formatFloat(f, false); });
      break;
    case AttrKind::Ints:
      list(a.ints, [&](int64_t v) { os_ << v; });
      break;
    case AttrKind::Strings:
      list(a.strings, [&](const std::string &s) { printString(os_, s); });
      break;
    case AttrKind::Tensors:
      list(a.tensors, [&](const auto &t) { tensorLiteral(*t, true); });
      break;
    case AttrKind::Graphs:
      list(a.graphs, [&](const auto &g) { graph(*g, indent); });
      break;
    case AttrKind::TypeProto:
      type(a.types[0]);
      break;
    case AttrKind::TypeProtos:
      list(a.types, [&](const Type &t) { type(t); });
      break;
    case AttrKind::SparseTensor:
    case AttrKind::SparseTensors:
      os_ << "sparse_tensor {" << a.sparseTensors.size() << "}";
      break;
    case AttrKind::Undefined:
      os_ << "undefined";
      break;
    }
  }

  void node(const Node &n, int indent) {
    os_ << std::string(indent, ' ');
    for (size_t i = 0; i < n.numOutputs(); ++i) {
      if (i)
        os_ << ", ";
      if (Value *v = n.output(i))
        printName(os_, nameOf(*v));
    }
    os_ << " = ";
    if (!isDefaultDomain(n.op().domain))
      os_ << n.op().domain << ".";
    os_ << n.op().type;
    if (!n.attrs().empty()) {
      os_ << " <";
      for (size_t i = 0; i < n.attrs().size(); ++i) {
        const Attribute &a = n.attrs()[i];
        if (i)
          os_ << ", ";
        os_ << a.name;
        if (!a.refAttrName.empty()) {
          os_ << ": " << attrKindName(a.kind) << " = @" << a.refAttrName;
          continue;
        }
        bool emptyList = (a.kind == AttrKind::Ints && a.ints.empty()) ||
                         (a.kind == AttrKind::Floats && a.floats.empty()) ||
                         (a.kind == AttrKind::Strings && a.strings.empty()) ||
                         (a.kind == AttrKind::Tensors && a.tensors.empty()) ||
                         (a.kind == AttrKind::Graphs && a.graphs.empty());
        // Empty lists and types carry no kind of their own: name it.
        if (emptyList || a.kind == AttrKind::TypeProto ||
            a.kind == AttrKind::TypeProtos)
          os_ << ": " << attrKindName(a.kind);
        os_ << " = ";
        attrValue(a, indent + 2);
      }
      os_ << ">";
    }
    os_ << " (";
    for (size_t i = 0; i < n.numInputs(); ++i) {
      if (i)
        os_ << ", ";
      if (Value *v = n.input(i))
        printName(os_, nameOf(*v));
    }
    os_ << ")\n";
  }

  void valueDecl(const Value &v, std::string_view name) {
    type(v.type());
    os_ << " ";
    printName(os_, name);
  }
  void valueDecl(const Value &v) { valueDecl(v, nameOf(v)); }

  /// The name a value prints under. A main-graph output that a pass pointed
  /// at another node result prints that result under the output's contract
  /// name (as the protobuf writer names it), so the text parses back.
  const std::string &nameOf(const Value &v) const {
    auto it = rename_.find(&v);
    return it == rename_.end() ? v.name() : it->second;
  }

  void graph(const Graph &g, int indent) {
    // An empty name prints as "": the syntax needs one to parse back.
    printName(os_, g.name);
    os_ << " ";
    os_ << "(";
    bool first = true;
    for (size_t i = 0; i < g.numInputs(); ++i) {
      const Value *v = g.input(i);
      os_ << (first ? "" : ", ");
      first = false;
      valueDecl(*v);
      if (v->tensor()) {
        os_ << " = ";
        tensorLiteral(*v->tensor(), false);
      }
    }
    os_ << ") => (";
    for (size_t i = 0; i < g.numOutputs(); ++i) {
      os_ << (i ? ", " : "");
      // The main graph's outputs keep their contract names.
      valueDecl(*g.output(i),
                g.parentNode() ? g.output(i)->name() : g.outputName(i));
    }
    os_ << ")";
    std::vector<const Value *> decls;
    for (size_t i = 0; i < g.numInitializers(); ++i)
      decls.push_back(g.initializer(i));
    size_t numInits = decls.size();
    if (opts_.showValueTypes)
      for (const Node *n : g.nodes())
        for (size_t i = 0; i < n->numOutputs(); ++i)
          if (const Value *v = n->output(i);
              v && !v->type().isUnknown() && !v->isGraphOutput())
            decls.push_back(v);
    if (!decls.empty()) {
      os_ << "\n" << std::string(indent, ' ') << "   <";
      for (size_t i = 0; i < decls.size(); ++i) {
        if (i)
          os_ << ", ";
        if (i < numInits && decls[i]->sparse()) {
          os_ << "sparse_tensor(" << decls[i]->type().str() << ") ";
          printName(os_, nameOf(*decls[i]));
          continue;
        }
        valueDecl(*decls[i]);
        if (i < numInits) {
          os_ << " = ";
          tensorLiteral(*decls[i]->tensor(), false);
        }
      }
      os_ << ">";
    }
    os_ << "\n" << std::string(indent, ' ') << "{\n";
    for (const Node *n : g.nodes())
      node(*n, indent + 2);
    os_ << std::string(indent, ' ') << "}";
  }

  void model(const Model &m) {
    os_ << "<\n  ir_version: " << m.irVersion << ",\n  opset_import: [";
    for (size_t i = 0; i < m.opsetImports.size(); ++i) {
      if (i)
        os_ << ", ";
      printString(os_, m.opsetImports[i].domain);
      os_ << " : " << m.opsetImports[i].version;
    }
    os_ << "]";
    auto field = [&](const char *k, const std::string &v) {
      if (v.empty())
        return;
      os_ << ",\n  " << k << ": ";
      printString(os_, v);
    };
    field("producer_name", m.producerName);
    field("producer_version", m.producerVersion);
    field("domain", m.domain);
    if (m.modelVersion)
      os_ << ",\n  model_version: " << m.modelVersion;
    field("doc_string", m.docString);
    if (!m.metadata.empty()) {
      os_ << ",\n  metadata_props: [";
      for (size_t i = 0; i < m.metadata.size(); ++i) {
        if (i)
          os_ << ", ";
        printString(os_, m.metadata[i].first);
        os_ << ": ";
        printString(os_, m.metadata[i].second);
      }
      os_ << "]";
    }
    os_ << "\n>\n";
    const Graph &g = *m.graph;
    for (size_t i = 0; i < g.numOutputs(); ++i) {
      const Value *v = g.output(i);
      if (v && v->kind() == Value::Kind::NodeOutput && v->graph() == &g &&
          !rename_.contains(v))
        rename_[v] = g.outputName(i);
    }
    graph(g, 0);
    os_ << "\n";
  }

private:
  std::ostream &os_;
  const PrintOptions &opts_;
  // Looked up by pointer, never iterated.
  absl::flat_hash_map<const Value *, std::string> rename_;
};

} // namespace

void printModel(const Model &m, std::ostream &os, const PrintOptions &opts) {
  Printer(os, opts).model(m);
}

std::string printModel(const Model &m, const PrintOptions &opts) {
  std::ostringstream os;
  printModel(m, os, opts);
  return os.str();
}

void printGraph(const Graph &g, std::ostream &os, int indent,
                const PrintOptions &opts) {
  Printer(os, opts).graph(g, indent);
}

} // namespace onnxopt
