// Parser for the text form (a superset of ONNX's textual syntax).
#include "format/TextParser.h"

#include "ir/Type.h"
#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

#include "onnx/onnx_pb.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace onnxopt {

namespace {

bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
         c == ':' || c == '/' || c == '-';
}

uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t man = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff)
    return static_cast<uint16_t>(sign | 0x7c00 | (man ? 0x200 : 0));
  if (exp >= 31)
    return static_cast<uint16_t>(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10)
      return static_cast<uint16_t>(sign);
    man |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t half = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(exp) << 10) | (man >> 13);
  uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
    ++half;
  return static_cast<uint16_t>(sign | half);
}

uint16_t floatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if (std::isnan(f))
    return static_cast<uint16_t>((x >> 16) | 0x40);
  uint32_t rounding = 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

class Parser {
public:
  explicit Parser(std::string_view text) : s_(text) {}

  absl::Status model(onnx::ModelProto &m) {
    skip();
    if (peek() == '<') {
      ++pos_;
      for (;;) {
        skip();
        if (peek() == '>') {
          ++pos_;
          break;
        }
        std::string key;
        ONNXOPT_RETURN_IF_ERROR(ident(key));
        ONNXOPT_RETURN_IF_ERROR(expect(':'));
        ONNXOPT_RETURN_IF_ERROR(header(key, m));
        skip();
        if (peek() == ',')
          ++pos_;
      }
    }
    ONNXOPT_RETURN_IF_ERROR(graph(*m.mutable_graph()));
    skip();
    if (pos_ != s_.size())
      return error("unexpected text after the graph");
    return absl::OkStatus();
  }

private:
  // ----------------------------------------------------------------- lexing
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n')
          ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else {
        break;
      }
    }
  }
  absl::Status error(std::string_view what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return invalidInput("cannot parse ONNX text at line ", line, ", column ",
                        col, ": ", std::string(what));
  }
  absl::Status expect(char c) {
    skip();
    if (peek() != c)
      return error(absl::StrCat("expected '", std::string(1, c), "'"));
    ++pos_;
    return absl::OkStatus();
  }
  bool accept(char c) {
    skip();
    if (peek() != c)
      return false;
    ++pos_;
    return true;
  }
  bool acceptArrow() {
    skip();
    if (s_.substr(pos_, 2) != "=>")
      return false;
    pos_ += 2;
    return true;
  }
  /// A plain identifier: [A-Za-z_][A-Za-z0-9_]*.
  absl::Status ident(std::string &out) {
    skip();
    size_t b = pos_;
    if (!(std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_'))
      return error("expected an identifier");
    while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')
      ++pos_;
    out = std::string(s_.substr(b, pos_ - b));
    return absl::OkStatus();
  }
  absl::Status string(std::string &out) {
    skip();
    if (peek() != '"')
      return error("expected a string");
    ++pos_;
    out.clear();
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c == '\\' && pos_ < s_.size()) {
        char e = s_[pos_++];
        out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
      } else {
        out.push_back(c);
      }
    }
    if (pos_ >= s_.size())
      return error("unterminated string");
    ++pos_;
    return absl::OkStatus();
  }
  /// A value name: bare ([A-Za-z0-9_.:/-]+) or a quoted string.
  absl::Status name(std::string &out) {
    skip();
    if (peek() == '"')
      return string(out);
    size_t b = pos_;
    while (isNameChar(peek()))
      ++pos_;
    if (b == pos_)
      return error("expected a name");
    out = std::string(s_.substr(b, pos_ - b));
    return absl::OkStatus();
  }
  bool atName() {
    skip();
    return peek() == '"' || isNameChar(peek());
  }
  /// A number token (ints, floats, nan, inf, with sign).
  absl::Status number(std::string &tok, bool &isFloat) {
    skip();
    size_t b = pos_;
    if (peek() == '-' || peek() == '+')
      ++pos_;
    if (s_.substr(pos_, 3) == "nan" || s_.substr(pos_, 3) == "inf") {
      pos_ += 3;
      isFloat = true;
    } else {
      isFloat = false;
      while (std::isalnum(static_cast<unsigned char>(peek())) ||
             peek() == '.' ||
             ((peek() == '-' || peek() == '+') &&
              (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E'))) {
        if (peek() == '.' || peek() == 'e' || peek() == 'E')
          isFloat = true;
        ++pos_;
      }
    }
    if (b == pos_ || (pos_ - b == 1 && (s_[b] == '-' || s_[b] == '+')))
      return error("expected a number");
    tok = std::string(s_.substr(b, pos_ - b));
    return absl::OkStatus();
  }
  absl::Status toInt(const std::string &tok, int64_t &v) {
    errno = 0;
    char *end = nullptr;
    long long r = std::strtoll(tok.c_str(), &end, 10);
    if (errno || *end)
      return error(absl::StrCat("bad integer '", tok, "'"));
    v = r;
    return absl::OkStatus();
  }
  absl::Status toUint(const std::string &tok, uint64_t &v) {
    errno = 0;
    char *end = nullptr;
    unsigned long long r = std::strtoull(tok.c_str(), &end, 10);
    if (errno || *end || tok[0] == '-')
      return error(absl::StrCat("bad unsigned integer '", tok, "'"));
    v = r;
    return absl::OkStatus();
  }
  absl::Status toDouble(const std::string &tok, double &v) {
    char *end = nullptr;
    v = std::strtod(tok.c_str(), &end);
    if (*end)
      return error(absl::StrCat("bad number '", tok, "'"));
    return absl::OkStatus();
  }

  // ----------------------------------------------------------------- header
  absl::Status header(const std::string &key, onnx::ModelProto &m) {
    std::string tok, str;
    bool isFloat = false;
    int64_t v = 0;
    if (key == "ir_version" || key == "model_version") {
      ONNXOPT_RETURN_IF_ERROR(number(tok, isFloat));
      ONNXOPT_RETURN_IF_ERROR(toInt(tok, v));
      key == "ir_version" ? m.set_ir_version(v) : m.set_model_version(v);
    } else if (key == "opset_import") {
      ONNXOPT_RETURN_IF_ERROR(expect('['));
      while (!accept(']')) {
        auto *op = m.add_opset_import();
        ONNXOPT_RETURN_IF_ERROR(string(str));
        op->set_domain(str);
        ONNXOPT_RETURN_IF_ERROR(expect(':'));
        ONNXOPT_RETURN_IF_ERROR(number(tok, isFloat));
        ONNXOPT_RETURN_IF_ERROR(toInt(tok, v));
        op->set_version(v);
        accept(',');
      }
    } else if (key == "metadata_props") {
      ONNXOPT_RETURN_IF_ERROR(expect('['));
      while (!accept(']')) {
        auto *kv = m.add_metadata_props();
        ONNXOPT_RETURN_IF_ERROR(string(str));
        kv->set_key(str);
        ONNXOPT_RETURN_IF_ERROR(expect(':'));
        ONNXOPT_RETURN_IF_ERROR(string(str));
        kv->set_value(str);
        accept(',');
      }
    } else if (key == "producer_name" || key == "producer_version" ||
               key == "domain" || key == "doc_string") {
      ONNXOPT_RETURN_IF_ERROR(string(str));
      if (key == "producer_name")
        m.set_producer_name(str);
      else if (key == "producer_version")
        m.set_producer_version(str);
      else if (key == "domain")
        m.set_domain(str);
      else
        m.set_doc_string(str);
    } else {
      return error(absl::StrCat("unknown model field '", key, "'"));
    }
    return absl::OkStatus();
  }

  // ----------------------------------------------------------------- types
  absl::Status shape(onnx::TensorShapeProto &sp) {
    // '[' already consumed.
    while (!accept(']')) {
      auto *d = sp.add_dim();
      skip();
      if (accept('?')) {
      } else if (std::isdigit(static_cast<unsigned char>(peek()))) {
        std::string tok;
        bool f = false;
        int64_t v = 0;
        ONNXOPT_RETURN_IF_ERROR(number(tok, f));
        ONNXOPT_RETURN_IF_ERROR(toInt(tok, v));
        d->set_dim_value(v);
      } else {
        std::string sym;
        ONNXOPT_RETURN_IF_ERROR(name(sym));
        d->set_dim_param(sym);
      }
      accept(',');
    }
    return absl::OkStatus();
  }
  absl::Status dtype(int32_t &out) {
    std::string id;
    ONNXOPT_RETURN_IF_ERROR(ident(id));
    auto dt = parseDataTypeName(id);
    if (!dt)
      return error(absl::StrCat("unknown element type '", id, "'"));
    out = static_cast<int32_t>(*dt);
    return absl::OkStatus();
  }
  absl::Status type(onnx::TypeProto &tp) {
    skip();
    if (accept('?'))
      return absl::OkStatus();
    size_t save = pos_;
    std::string id;
    ONNXOPT_RETURN_IF_ERROR(ident(id));
    if (id == "seq" || id == "optional") {
      ONNXOPT_RETURN_IF_ERROR(expect('('));
      auto *inner = id == "seq"
                        ? tp.mutable_sequence_type()->mutable_elem_type()
                        : tp.mutable_optional_type()->mutable_elem_type();
      ONNXOPT_RETURN_IF_ERROR(type(*inner));
      return expect(')');
    }
    if (id == "map") {
      ONNXOPT_RETURN_IF_ERROR(expect('('));
      int32_t key = 0;
      ONNXOPT_RETURN_IF_ERROR(dtype(key));
      tp.mutable_map_type()->set_key_type(key);
      ONNXOPT_RETURN_IF_ERROR(expect(','));
      ONNXOPT_RETURN_IF_ERROR(
          type(*tp.mutable_map_type()->mutable_value_type()));
      return expect(')');
    }
    if (id == "sparse_tensor") {
      ONNXOPT_RETURN_IF_ERROR(expect('('));
      int32_t dt = 0;
      ONNXOPT_RETURN_IF_ERROR(dtype(dt));
      auto *st = tp.mutable_sparse_tensor_type();
      st->set_elem_type(dt);
      if (accept('['))
        ONNXOPT_RETURN_IF_ERROR(shape(*st->mutable_shape()));
      return expect(')');
    }
    pos_ = save;
    int32_t dt = 0;
    ONNXOPT_RETURN_IF_ERROR(dtype(dt));
    auto *tt = tp.mutable_tensor_type();
    tt->set_elem_type(dt);
    if (peek() == '[') {
      ++pos_;
      ONNXOPT_RETURN_IF_ERROR(shape(*tt->mutable_shape()));
    }
    return absl::OkStatus();
  }

  // ----------------------------------------------------------------- tensors
  /// `{v, ...}` for a tensor whose dtype and dims are already set.
  absl::Status tensorBody(onnx::TensorProto &t) {
    ONNXOPT_RETURN_IF_ERROR(expect('{'));
    auto dt = static_cast<DataType>(t.data_type());
    std::string raw;
    auto put = [&](const void *p, size_t n) {
      raw.append(static_cast<const char *>(p), n);
    };
    while (!accept('}')) {
      if (dt == DataType::String) {
        std::string str;
        ONNXOPT_RETURN_IF_ERROR(string(str));
        t.add_string_data(str);
      } else {
        std::string tok;
        bool isFloat = false;
        ONNXOPT_RETURN_IF_ERROR(number(tok, isFloat));
        double d = 0;
        int64_t i = 0;
        uint64_t u = 0;
        switch (dt) {
        case DataType::Float:
        case DataType::Complex64: {
          ONNXOPT_RETURN_IF_ERROR(toDouble(tok, d));
          float f = static_cast<float>(d);
          put(&f, 4);
          break;
        }
        case DataType::Double:
        case DataType::Complex128:
          ONNXOPT_RETURN_IF_ERROR(toDouble(tok, d));
          put(&d, 8);
          break;
        case DataType::Float16:
        case DataType::BFloat16: {
          ONNXOPT_RETURN_IF_ERROR(toDouble(tok, d));
          float f = static_cast<float>(d);
          uint16_t h =
              dt == DataType::Float16 ? floatToHalf(f) : floatToBf16(f);
          put(&h, 2);
          break;
        }
        case DataType::UInt64:
        case DataType::UInt32: {
          ONNXOPT_RETURN_IF_ERROR(toUint(tok, u));
          if (dt == DataType::UInt32) {
            auto v = static_cast<uint32_t>(u);
            put(&v, 4);
          } else {
            put(&u, 8);
          }
          break;
        }
        default: {
          ONNXOPT_RETURN_IF_ERROR(toInt(tok, i));
          size_t es = elementSize(dt);
          // Little-endian truncation to the element width.
          put(&i, es);
          break;
        }
        }
      }
      accept(',');
    }
    if (dt != DataType::String)
      t.set_raw_data(raw);
    return absl::OkStatus();
  }
  /// `dtype[dims] [name] {...}`
  absl::Status tensorLiteral(onnx::TensorProto &t) {
    int32_t dt = 0;
    ONNXOPT_RETURN_IF_ERROR(dtype(dt));
    t.set_data_type(dt);
    if (accept('[')) {
      while (!accept(']')) {
        std::string tok;
        bool f = false;
        int64_t v = 0;
        ONNXOPT_RETURN_IF_ERROR(number(tok, f));
        ONNXOPT_RETURN_IF_ERROR(toInt(tok, v));
        t.add_dims(v);
        accept(',');
      }
    }
    skip();
    if (peek() != '{') {
      std::string n;
      ONNXOPT_RETURN_IF_ERROR(name(n));
      t.set_name(n);
    }
    return tensorBody(t);
  }

  // -----------------------------------------------------------------
  // attributes
  absl::Status attrValue(onnx::AttributeProto &a, int kind) {
    using AP = onnx::AttributeProto;
    skip();
    if (kind == AP::TYPE_PROTO)
      return type(*a.mutable_tp());
    if (kind == AP::TYPE_PROTOS) {
      ONNXOPT_RETURN_IF_ERROR(expect('['));
      while (!accept(']')) {
        ONNXOPT_RETURN_IF_ERROR(type(*a.add_type_protos()));
        accept(',');
      }
      return absl::OkStatus();
    }
    if (peek() == '[') {
      ++pos_;
      int elemKind = kind == AP::INTS      ? AP::INT
                     : kind == AP::FLOATS  ? AP::FLOAT
                     : kind == AP::STRINGS ? AP::STRING
                     : kind == AP::TENSORS ? AP::TENSOR
                     : kind == AP::GRAPHS  ? AP::GRAPH
                                           : 0;
      std::vector<onnx::AttributeProto> items;
      while (!accept(']')) {
        onnx::AttributeProto item;
        ONNXOPT_RETURN_IF_ERROR(attrValue(item, elemKind));
        items.push_back(std::move(item));
        accept(',');
      }
      int listKind = kind;
      if (!listKind && !items.empty()) {
        bool anyFloat = false;
        for (auto &i : items)
          anyFloat |= i.type() == AP::FLOAT;
        int t = anyFloat ? AP::FLOAT : items[0].type();
        listKind = t == AP::INT      ? AP::INTS
                   : t == AP::FLOAT  ? AP::FLOATS
                   : t == AP::STRING ? AP::STRINGS
                   : t == AP::TENSOR ? AP::TENSORS
                                     : AP::GRAPHS;
      }
      if (!listKind)
        return error("an empty list needs its type: `name: ints = []`");
      a.set_type(static_cast<AP::AttributeType>(listKind));
      for (auto &i : items) {
        switch (listKind) {
        case AP::INTS:
          if (i.type() != AP::INT)
            return error("mixed list");
          a.add_ints(i.i());
          break;
        case AP::FLOATS:
          a.add_floats(i.type() == AP::INT ? static_cast<float>(i.i()) : i.f());
          break;
        case AP::STRINGS:
          a.add_strings(i.s());
          break;
        case AP::TENSORS:
          *a.add_tensors() = i.t();
          break;
        default:
          *a.add_graphs() = i.g();
          break;
        }
      }
      return absl::OkStatus();
    }
    if (peek() == '"') {
      size_t save = pos_;
      std::string str;
      ONNXOPT_RETURN_IF_ERROR(string(str));
      skip();
      // A quoted name then '(': a graph whose name is no identifier (the
      // printer quotes an empty one).
      if (peek() == '(' && kind != AP::STRING) {
        pos_ = save;
        a.set_type(AP::GRAPH);
        return graph(*a.mutable_g());
      }
      a.set_s(str);
      a.set_type(AP::STRING);
      return absl::OkStatus();
    }
    if (std::isdigit(static_cast<unsigned char>(peek())) || peek() == '-' ||
        peek() == '+' || s_.substr(pos_, 3) == "nan" ||
        s_.substr(pos_, 3) == "inf") {
      std::string tok;
      bool isFloat = false;
      ONNXOPT_RETURN_IF_ERROR(number(tok, isFloat));
      if (isFloat || kind == AP::FLOAT) {
        double d;
        ONNXOPT_RETURN_IF_ERROR(toDouble(tok, d));
        a.set_f(static_cast<float>(d));
        a.set_type(AP::FLOAT);
      } else {
        int64_t v = 0;
        ONNXOPT_RETURN_IF_ERROR(toInt(tok, v));
        a.set_i(v);
        a.set_type(AP::INT);
      }
      return absl::OkStatus();
    }
    // A tensor literal starts with an element type; anything else is a graph.
    size_t save = pos_;
    std::string id;
    if (peek() != '(' && peek() != '"')
      ONNXOPT_RETURN_IF_ERROR(ident(id));
    pos_ = save;
    if (kind == AP::TENSOR || (kind != AP::GRAPH && parseDataTypeName(id))) {
      a.set_type(AP::TENSOR);
      return tensorLiteral(*a.mutable_t());
    }
    a.set_type(AP::GRAPH);
    return graph(*a.mutable_g());
  }

  absl::Status attribute(onnx::NodeProto &n) {
    using AP = onnx::AttributeProto;
    auto *a = n.add_attribute();
    std::string nm;
    ONNXOPT_RETURN_IF_ERROR(ident(nm));
    a->set_name(nm);
    int kind = 0;
    if (accept(':')) {
      std::string k;
      ONNXOPT_RETURN_IF_ERROR(ident(k));
      static const std::pair<const char *, int> kKinds[] = {
          {"float", AP::FLOAT},
          {"int", AP::INT},
          {"string", AP::STRING},
          {"tensor", AP::TENSOR},
          {"graph", AP::GRAPH},
          {"floats", AP::FLOATS},
          {"ints", AP::INTS},
          {"strings", AP::STRINGS},
          {"tensors", AP::TENSORS},
          {"graphs", AP::GRAPHS},
          {"type_proto", AP::TYPE_PROTO},
          {"type_protos", AP::TYPE_PROTOS},
          {"sparse_tensor", AP::SPARSE_TENSOR},
          {"sparse_tensors", AP::SPARSE_TENSORS}};
      for (auto &[kn, kv] : kKinds)
        if (k == kn)
          kind = kv;
      if (!kind)
        return error(absl::StrCat("unknown attribute type '", k, "'"));
    }
    ONNXOPT_RETURN_IF_ERROR(expect('='));
    if (accept('@')) {
      std::string ref;
      ONNXOPT_RETURN_IF_ERROR(ident(ref));
      a->set_ref_attr_name(ref);
      a->set_type(static_cast<AP::AttributeType>(kind));
      return absl::OkStatus();
    }
    ONNXOPT_RETURN_IF_ERROR(attrValue(*a, kind));
    if (kind)
      a->set_type(static_cast<AP::AttributeType>(kind));
    return absl::OkStatus();
  }

  // ----------------------------------------------------------------- graphs
  /// `type name [= {...}]`; returns whether an initializer followed.
  absl::Status decl(onnx::ValueInfoProto &vi, onnx::TensorProto *init,
                    bool &hasInit) {
    ONNXOPT_RETURN_IF_ERROR(type(*vi.mutable_type()));
    std::string n;
    ONNXOPT_RETURN_IF_ERROR(name(n));
    vi.set_name(n);
    hasInit = false;
    if (accept('=')) {
      const auto &tt = vi.type().tensor_type();
      if (!vi.type().has_tensor_type())
        return error("only tensors can have an initializer");
      init->set_name(n);
      init->set_data_type(tt.elem_type());
      for (const auto &d : tt.shape().dim()) {
        if (!d.has_dim_value())
          return error("an initializer needs constant dims");
        init->add_dims(d.dim_value());
      }
      ONNXOPT_RETURN_IF_ERROR(tensorBody(*init));
      hasInit = true;
    }
    return absl::OkStatus();
  }

  absl::Status graph(onnx::GraphProto &g) {
    if (++depth_ > 256)
      return error("graphs nested too deeply");
    skip();
    if (peek() != '(') {
      std::string n;
      ONNXOPT_RETURN_IF_ERROR(name(n));
      g.set_name(n);
    }
    ONNXOPT_RETURN_IF_ERROR(expect('('));
    while (!accept(')')) {
      onnx::TensorProto init;
      bool hasInit = false;
      ONNXOPT_RETURN_IF_ERROR(decl(*g.add_input(), &init, hasInit));
      if (hasInit)
        *g.add_initializer() = std::move(init);
      accept(',');
    }
    if (!acceptArrow())
      return error("expected '=>'");
    ONNXOPT_RETURN_IF_ERROR(expect('('));
    while (!accept(')')) {
      onnx::TensorProto unused;
      bool hasInit = false;
      ONNXOPT_RETURN_IF_ERROR(decl(*g.add_output(), &unused, hasInit));
      if (hasInit)
        return error("graph outputs cannot have initializers");
      accept(',');
    }
    if (accept('<')) {
      while (!accept('>')) {
        onnx::ValueInfoProto vi;
        onnx::TensorProto init;
        bool hasInit = false;
        ONNXOPT_RETURN_IF_ERROR(decl(vi, &init, hasInit));
        if (hasInit)
          *g.add_initializer() = std::move(init);
        else
          *g.add_value_info() = std::move(vi);
        accept(',');
      }
    }
    ONNXOPT_RETURN_IF_ERROR(expect('{'));
    while (!accept('}'))
      ONNXOPT_RETURN_IF_ERROR(node(*g.add_node()));
    --depth_;
    return absl::OkStatus();
  }

  absl::Status node(onnx::NodeProto &n) {
    // Outputs: possibly empty names separated by commas, then '='.
    for (;;) {
      skip();
      if (peek() == '=')
        break;
      std::string out;
      if (peek() != ',')
        ONNXOPT_RETURN_IF_ERROR(name(out));
      n.add_output(out);
      if (!accept(','))
        break;
      skip();
      if (peek() == '=')
        n.add_output("");
    }
    ONNXOPT_RETURN_IF_ERROR(expect('='));
    std::string op;
    ONNXOPT_RETURN_IF_ERROR(name(op));
    auto dot = op.find_last_of('.');
    if (dot != std::string::npos) {
      n.set_domain(op.substr(0, dot));
      op = op.substr(dot + 1);
    }
    n.set_op_type(op);
    if (accept('<')) {
      while (!accept('>')) {
        ONNXOPT_RETURN_IF_ERROR(attribute(n));
        accept(',');
      }
    }
    ONNXOPT_RETURN_IF_ERROR(expect('('));
    bool first = true;
    while (!accept(')')) {
      skip();
      if (peek() == ',') {
        ++pos_;
        n.add_input("");
        first = false;
        skip();
        if (peek() == ')')
          n.add_input("");
        continue;
      }
      std::string in;
      ONNXOPT_RETURN_IF_ERROR(name(in));
      n.add_input(in);
      first = false;
      if (accept(',')) {
        skip();
        if (peek() == ')')
          n.add_input("");
      }
    }
    (void)first;
    return absl::OkStatus();
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
};

} // namespace

absl::Status parseModelText(std::string_view text, onnx::ModelProto &proto) {
  return Parser(text).model(proto);
}

} // namespace onnxopt
