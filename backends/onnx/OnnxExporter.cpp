// ONNX backend: deterministic protobuf output with streamed weights.
#include "backends/onnx/OnnxExporter.h"

#include "format/ProtoConversion.h"
#include "format/WireFormat.h"
#include "utils/Diagnostics.h"
#include "utils/OutputFile.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

#include "onnx/onnx_pb.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace onnxopt {

namespace {

constexpr uint64_t kProtobufLimit = uint64_t(2) << 30;
/// Payloads at least this large are streamed (slot markers), not copied.
constexpr size_t kSlotThreshold = 64;

/// Where a tensor's bytes go.
enum class Placement { Inline, External };

class Exporter {
public:
  Exporter(uint64_t externalThreshold, bool external,
           ExportOptions::ValueInfo valueInfo)
      : externalThreshold_(externalThreshold), external_(external),
        valueInfo_(valueInfo) {}

  void exportModel(const Model &m, onnx::ModelProto &p);

  /// Payloads referenced by slot markers.
  std::vector<ByteRange> payloads;
  /// Tensors bound for the external data file, in write order.
  struct ExternalEntry {
    onnx::TensorProto *proto;
    ByteRange range;
  };
  std::vector<ExternalEntry> externals;

private:
  void assignNames(const Graph &g, bool isMain);
  const std::string &nameOf(const Value *v) { return names_[v]; }
  void exportGraph(const Graph &g, onnx::GraphProto &gp, bool isMain);
  void exportTensor(const Tensor &t, onnx::TensorProto &tp);
  void exportAttribute(const Attribute &a, onnx::AttributeProto &ap);
  bool wantValueInfo(const Value &v) const {
    return valueInfo_ == ExportOptions::ValueInfo::All ||
           (valueInfo_ == ExportOptions::ValueInfo::Declared && v.typeDeclared);
  }

  uint64_t externalThreshold_;
  bool external_;
  ExportOptions::ValueInfo valueInfo_;
  // Looked up by pointer; never iterated, so hash order cannot reach the
  // output.
  absl::flat_hash_map<const Value *, std::string> names_;
  absl::flat_hash_set<std::string> used_;
  uint64_t counter_ = 0;
};

std::string freshName(absl::flat_hash_set<std::string> &used, uint64_t &counter,
                      std::string_view base) {
  std::string b = base.empty() ? std::string("v") : std::string(base);
  for (;;) {
    std::string c = absl::StrCat(b, "__", counter++);
    if (used.insert(c).second)
      return c;
  }
}

void Exporter::assignNames(const Graph &g, bool isMain) {
  auto claim = [&](const Value *v, bool mustKeep) {
    if (names_.contains(v))
      return;
    const std::string &want = v->name();
    if (mustKeep || (!want.empty() && used_.insert(want).second)) {
      used_.insert(want);
      names_[v] = want;
    } else {
      names_[v] = freshName(used_, counter_, want);
    }
  };
  // The main graph's inputs and outputs are the model's contract: reserve them.
  if (isMain) {
    for (size_t i = 0; i < g.numInputs(); ++i)
      claim(g.input(i), true);
    for (size_t i = 0; i < g.numOutputs(); ++i)
      used_.insert(g.outputName(i));
    for (size_t i = 0; i < g.numOutputs(); ++i) {
      const Value *v = g.output(i);
      if (v->kind() == Value::Kind::NodeOutput && v->graph() == &g &&
          !names_.contains(v))
        names_[v] = g.outputName(i);
    }
  } else {
    for (size_t i = 0; i < g.numInputs(); ++i)
      claim(g.input(i), false);
  }
  for (size_t i = 0; i < g.numInitializers(); ++i)
    claim(g.initializer(i), false);
  for (const Node *n : g.nodes()) {
    for (const Graph *sub : n->subgraphs())
      assignNames(*sub, false);
    for (size_t i = 0; i < n->numOutputs(); ++i)
      if (const Value *v = n->output(i))
        claim(v, false);
  }
}

void Exporter::exportTensor(const Tensor &t, onnx::TensorProto &tp) {
  for (int64_t d : t.dims())
    tp.add_dims(d);
  tp.set_data_type(static_cast<int32_t>(t.dtype()));
  if (!t.name.empty())
    tp.set_name(t.name);
  if (!t.docString.empty())
    tp.set_doc_string(t.docString);
  if (t.dtype() == DataType::String) {
    for (const auto &s : t.strings())
      tp.add_string_data(s);
    return;
  }
  if (external_ && t.byteSize() >= externalThreshold_) {
    externals.push_back({&tp, t.byteRange()});
    return;
  }
  if (t.byteSize() >= kSlotThreshold) {
    tp.mutable_unknown_fields()->AddVarint(wire::kSlotField, payloads.size());
    payloads.push_back(t.byteRange());
    return;
  }
  std::string_view bytes = t.bytes();
  tp.set_raw_data(bytes.data(), bytes.size());
}

void Exporter::exportAttribute(const Attribute &a, onnx::AttributeProto &ap) {
  AttributeEncoders enc;
  enc.tensor = enc.sparseValues = [&](const Tensor &t, onnx::TensorProto &tp) {
    exportTensor(t, tp);
    return true;
  };
  enc.graph = [&](const Graph &g, onnx::GraphProto &gp) {
    exportGraph(g, gp, false);
    return true;
  };
  toAttributeProto(a, ap, enc);
}

void Exporter::exportGraph(const Graph &g, onnx::GraphProto &gp, bool isMain) {
  if (!g.name.empty())
    gp.set_name(g.name);
  if (!g.docString.empty())
    gp.set_doc_string(g.docString);
  auto valueInfo = [&](const Value *v, onnx::ValueInfoProto &vi,
                       const std::string &name) {
    vi.set_name(name);
    if (!v->type().isUnknown())
      toTypeProto(v->type(), *vi.mutable_type());
    if (!v->docString.empty())
      vi.set_doc_string(v->docString);
  };
  for (size_t i = 0; i < g.numInputs(); ++i) {
    const Value *v = g.input(i);
    valueInfo(v, *gp.add_input(), nameOf(v));
    if (v->tensor()) {
      auto *tp = gp.add_initializer();
      exportTensor(*v->tensor(), *tp);
      tp->set_name(nameOf(v));
    }
  }
  for (size_t i = 0; i < g.numInitializers(); ++i) {
    const Value *v = g.initializer(i);
    if (v->sparse()) {
      auto *sp = gp.add_sparse_initializer();
      exportTensor(v->sparse()->values, *sp->mutable_values());
      sp->mutable_values()->set_name(nameOf(v));
      exportTensor(v->sparse()->indices, *sp->mutable_indices());
      for (int64_t d : v->sparse()->dims)
        sp->add_dims(d);
      continue;
    }
    auto *tp = gp.add_initializer();
    exportTensor(*v->tensor(), *tp);
    tp->set_name(nameOf(v));
  }
  for (const Node *n : g.nodes()) {
    auto *np = gp.add_node();
    for (size_t i = 0; i < n->numInputs(); ++i)
      np->add_input(n->input(i) ? nameOf(n->input(i)) : std::string());
    for (size_t i = 0; i < n->numOutputs(); ++i)
      np->add_output(n->output(i) ? nameOf(n->output(i)) : std::string());
    if (!n->name.empty())
      np->set_name(n->name);
    np->set_op_type(n->op().type);
    if (!n->op().domain.empty())
      np->set_domain(n->op().domain);
    for (const Attribute &a : n->attrs())
      exportAttribute(a, *np->add_attribute());
    if (!n->docString.empty())
      np->set_doc_string(n->docString);
  }
  for (size_t i = 0; i < g.numOutputs(); ++i) {
    const Value *v = g.output(i);
    std::string want = isMain ? g.outputName(i) : nameOf(v);
    if (nameOf(v) != want) {
      // The output's name is fixed but its value carries another: bridge it.
      auto *np = gp.add_node();
      np->add_input(nameOf(v));
      np->add_output(want);
      np->set_op_type("Identity");
    }
    valueInfo(v, *gp.add_output(), want);
  }
  for (const Node *n : g.nodes())
    for (size_t i = 0; i < n->numOutputs(); ++i) {
      const Value *v = n->output(i);
      if (v && !v->type().isUnknown() && !v->isGraphOutput() &&
          wantValueInfo(*v))
        valueInfo(v, *gp.add_value_info(), nameOf(v));
    }
}

void Exporter::exportModel(const Model &m, onnx::ModelProto &p) {
  assignNames(*m.graph, true);
  p.set_ir_version(m.irVersion);
  for (const OpsetImport &imp : m.opsetImports) {
    auto *op = p.add_opset_import();
    op->set_domain(imp.domain);
    op->set_version(imp.version);
  }
  if (!m.producerName.empty())
    p.set_producer_name(m.producerName);
  if (!m.producerVersion.empty())
    p.set_producer_version(m.producerVersion);
  if (!m.domain.empty())
    p.set_domain(m.domain);
  if (m.modelVersion)
    p.set_model_version(m.modelVersion);
  if (!m.docString.empty())
    p.set_doc_string(m.docString);
  for (const auto &[k, v] : m.metadata) {
    auto *kv = p.add_metadata_props();
    kv->set_key(k);
    kv->set_value(v);
  }
  exportGraph(*m.graph, *p.mutable_graph(), true);
  for (const auto &blob : m.functionBlobs)
    p.add_functions()->ParseFromString(blob);
  for (const auto &blob : m.trainingInfoBlobs)
    p.add_training_info()->ParseFromString(blob);
}

std::string serializeDeterministic(const onnx::ModelProto &p) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    p.SerializeToCodedStream(&cos);
  }
  return out;
}

std::string baseName(const std::string &path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

std::string dirName(const std::string &path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? std::string(".") : path.substr(0, pos);
}

} // namespace

absl::Status exportModelFile(const Model &m, const std::string &path,
                             const ExportOptions &opts) {
  std::string dataName = opts.externalData;
  if (dataName.empty()) {
    // Measure the inline model first; past protobuf's limit, weights move out.
    Exporter probe(0, false, opts.valueInfo);
    google::protobuf::Arena arena; // see importModelFile
    auto &p = *google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
    probe.exportModel(m, p);
    std::string skeleton = serializeDeterministic(p);
    ONNXOPT_ASSIGN_OR_RETURN(uint64_t size,
                             wire::splicedSize(skeleton, probe.payloads));
    if (size < kProtobufLimit) {
      ONNXOPT_ASSIGN_OR_RETURN(auto out, OutputFile::create(path));
      ONNXOPT_RETURN_IF_ERROR(
          wire::spliceSlots(skeleton, probe.payloads, *out));
      return out->commit();
    }
    if (path == "-")
      return absl::FailedPreconditionError(
          "the model passes 2 GiB and needs external data: write it to a file");
    dataName = baseName(path) + ".data";
  }
  if (dataName.find('/') != std::string::npos || dataName == "." ||
      dataName == "..")
    return absl::FailedPreconditionError(absl::StrCat(
        "--external-data must be a file name in the output's directory, not '",
        dataName, "'"));
  if (path == "-")
    return absl::FailedPreconditionError(
        "external data needs an output file, not standard output");
  // The data file goes beside the file the model lands in (through a link).
  ONNXOPT_ASSIGN_OR_RETURN(std::string target, resolveOutputPath(path));
  PathKind kind = pathKind(target);
  if (kind != PathKind::Regular && kind != PathKind::Missing)
    return absl::FailedPreconditionError(absl::StrCat(
        "external data needs a regular output file; '", path, "' is not one"));
  if (dataName == baseName(target))
    return absl::FailedPreconditionError(
        "the external data file cannot be the model file itself");
  std::string dataPath = dirName(target) + "/" + dataName;
  if (opts.guard)
    ONNXOPT_RETURN_IF_ERROR(
        opts.guard->checkNotInput(dataPath, "the external data file"));

  Exporter ex(opts.externalThreshold, true, opts.valueInfo);
  google::protobuf::Arena arena;
  auto &p = *google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
  ex.exportModel(m, p);
  ONNXOPT_ASSIGN_OR_RETURN(auto data, OutputFile::create(dataPath));
  static const std::string kZeros(4096, '\0');
  for (auto &e : ex.externals) {
    // Page-align large tensors so runtimes can map them in place.
    uint64_t align = e.range.size >= 65536 ? 4096 : 64;
    uint64_t pad = (align - data->offset() % align) % align;
    ONNXOPT_RETURN_IF_ERROR(data->write(kZeros.data(), pad));
    uint64_t offset = data->offset();
    ONNXOPT_RETURN_IF_ERROR(data->write(e.range));
    e.proto->set_data_location(onnx::TensorProto::EXTERNAL);
    auto add = [&](const char *k, std::string v) {
      auto *kv = e.proto->add_external_data();
      kv->set_key(k);
      kv->set_value(std::move(v));
    };
    add("location", dataName);
    add("offset", std::to_string(offset));
    add("length", std::to_string(e.range.size));
  }
  std::string skeleton = serializeDeterministic(p);
  ONNXOPT_ASSIGN_OR_RETURN(uint64_t size,
                           wire::splicedSize(skeleton, ex.payloads));
  if (size >= kProtobufLimit)
    return absl::FailedPreconditionError(
        "the model still passes 2 GiB with external data; lower "
        "--external-data-threshold");
  ONNXOPT_ASSIGN_OR_RETURN(auto out, OutputFile::create(path));
  ONNXOPT_RETURN_IF_ERROR(wire::spliceSlots(skeleton, ex.payloads, *out));
  ONNXOPT_RETURN_IF_ERROR(data->commit());
  return out->commit();
}

absl::Status exportTensorFile(const Tensor &t, const std::string &name,
                              const std::string &path) {
  onnx::TensorProto tp;
  toTensorProto(t, name, tp);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream sos(&bytes);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    tp.SerializeToCodedStream(&cos);
  }
  return writeFileAtomically(path, bytes);
}

} // namespace onnxopt
