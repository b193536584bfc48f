// Unit tests for the zero-copy load and streamed save.
#include "format/WireFormat.h"
#include "backends/onnx/OnnxExporter.h"
#include "frontends/onnx/OnnxImporter.h"

#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <vector>

using namespace onnxopt;
namespace fs = std::filesystem;

namespace {

class TempDir {
public:
  TempDir() {
    char tmpl[] = "/tmp/onnxopt-unit-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

onnx::ModelProto makeProto(size_t weightFloats) {
  onnx::ModelProto p;
  p.set_ir_version(8);
  auto *op = p.add_opset_import();
  op->set_version(17);
  auto *g = p.mutable_graph();
  g->set_name("g");
  auto *t = g->add_initializer();
  t->set_name("W");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(static_cast<int64_t>(weightFloats));
  std::string raw(weightFloats * 4, '\0');
  for (size_t i = 0; i < raw.size(); ++i)
    raw[i] = static_cast<char>(i * 7);
  t->set_raw_data(raw);
  auto *in = g->add_input();
  in->set_name("X");
  in->mutable_type()->mutable_tensor_type()->set_elem_type(1);
  in->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->add_dim()
      ->set_dim_value(static_cast<int64_t>(weightFloats));
  auto *n = g->add_node();
  n->set_op_type("Add");
  n->add_input("X");
  n->add_input("W");
  n->add_output("Y");
  auto *out = g->add_output();
  out->set_name("Y");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(1);
  return p;
}

void writeProto(const onnx::ModelProto &p, const std::string &path) {
  std::ofstream f(path, std::ios::binary);
  p.SerializeToOstream(&f);
}

std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(WireFormat, SkeletonDropsLargePayloadsAndRecordsTheirPlace) {
  std::string bytes = makeProto(1000).SerializeAsString();
  std::string skeleton;
  std::vector<wire::Slot> slots;
  ASSERT_TRUE(wire::extractSkeleton(bytes, 64, skeleton, slots).ok());
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0].size, 4000u);
  EXPECT_LT(skeleton.size(), 200u);
  EXPECT_EQ(bytes.substr(slots[0].offset, 4), std::string("\0\7\16\25", 4));
  // Splicing the payload back gives the original bytes.
  OwnedBuffer buffer(bytes);
  std::vector<ByteRange> payloads = {{&buffer, slots[0].offset, slots[0].size}};
  EXPECT_EQ(*wire::splicedSize(skeleton, payloads), bytes.size());
}

TEST(WireFormat, RejectsTruncatedData) {
  std::string bytes = makeProto(100).SerializeAsString();
  std::string skeleton;
  std::vector<wire::Slot> slots;
  absl::Status st = wire::extractSkeleton(bytes.substr(0, bytes.size() - 5), 64,
                                          skeleton, slots);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("corrupt protobuf data at byte"),
            std::string::npos);
}

TEST(WireFormat, RejectsTheReservedMarkerFieldInInput) {
  onnx::ModelProto p = makeProto(4);
  p.mutable_graph()
      ->mutable_initializer(0)
      ->mutable_unknown_fields()
      ->AddVarint(wire::kSlotField, 0);
  std::string skeleton;
  std::vector<wire::Slot> slots;
  EXPECT_FALSE(
      wire::extractSkeleton(p.SerializeAsString(), 64, skeleton, slots).ok());
}

TEST(Import, WeightsAreViewsIntoTheMappedFile) {
  TempDir dir;
  writeProto(makeProto(1000), dir.file("m.onnx"));
  auto m = importModelFile(dir.file("m.onnx"));
  ASSERT_TRUE(m.ok()) << m.status();
  const Value *w = (*m)->graph->initializer(0);
  ASSERT_TRUE(w->isConstant());
  EXPECT_TRUE(w->tensor()->isMapped());
  EXPECT_EQ(w->tensor()->bytes().size(), 4000u);
  EXPECT_EQ(w->tensor()->bytes()[1], 7);
}

TEST(Import, ReleasedPagesReadBackTheSameBytes) {
  TempDir dir;
  writeProto(makeProto(100000), dir.file("m.onnx"));
  auto m = importModelFile(dir.file("m.onnx"));
  ASSERT_TRUE(m.ok()) << m.status();
  const Tensor &t = *(*m)->graph->initializer(0)->tensor();
  ASSERT_TRUE(t.isMapped());
  std::string before(t.bytes());
  t.releasePages(); // drops the resident pages inside the range
  EXPECT_EQ(std::string(t.bytes()), before);
}

TEST(Export, RoundTripIsByteStableAndDeterministic) {
  TempDir dir;
  writeProto(makeProto(1000), dir.file("m.onnx"));
  auto m = importModelFile(dir.file("m.onnx"));
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(exportModelFile(**m, dir.file("a.onnx")).ok());
  ASSERT_TRUE(exportModelFile(**m, dir.file("b.onnx")).ok());
  EXPECT_EQ(slurp(dir.file("a.onnx")), slurp(dir.file("b.onnx")));
  auto again = importModelFile(dir.file("a.onnx"));
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(exportModelFile(**again, dir.file("c.onnx")).ok());
  EXPECT_EQ(slurp(dir.file("a.onnx")), slurp(dir.file("c.onnx")));
  onnx::ModelProto parsed;
  ASSERT_TRUE(parsed.ParseFromString(slurp(dir.file("a.onnx"))));
  EXPECT_EQ(parsed.graph().initializer(0).raw_data().size(), 4000u);
  EXPECT_EQ(parsed.graph().output(0).name(), "Y");
}

TEST(Export, ValueInfoIsWhatTheInputDeclaredUnlessAskedForAll) {
  // X -> Add(X, W) = Y -> Neg = Z -> Relu = R: the input declares Y's type
  // in value_info, not Z's; both get types (the importer's and inference's).
  TempDir dir;
  onnx::ModelProto p = makeProto(4);
  auto *g = p.mutable_graph();
  g->mutable_output(0)->set_name("R");
  for (auto [op, in, out] : {std::tuple{"Neg", "Y", "Z"}, {"Relu", "Z", "R"}}) {
    auto *n = g->add_node();
    n->set_op_type(op);
    n->add_input(in);
    n->add_output(out);
  }
  auto *vi = g->add_value_info();
  vi->set_name("Y");
  *vi->mutable_type() = g->input(0).type();
  writeProto(p, dir.file("m.onnx"));
  auto m = importModelFile(dir.file("m.onnx"));
  ASSERT_TRUE(m.ok()) << m.status();
  for (Node *n : (*m)->graph->nodes())
    n->output(0)->setType((*m)->graph->input(0)->type());
  auto written = [&](ExportOptions::ValueInfo mode) {
    ExportOptions opts;
    opts.valueInfo = mode;
    EXPECT_TRUE(exportModelFile(**m, dir.file("out.onnx"), opts).ok());
    onnx::ModelProto back;
    EXPECT_TRUE(back.ParseFromString(slurp(dir.file("out.onnx"))));
    std::vector<std::string> names;
    for (const auto &v : back.graph().value_info())
      names.push_back(v.name());
    return names;
  };
  using VI = ExportOptions::ValueInfo;
  EXPECT_EQ(written(VI::Declared), std::vector<std::string>{"Y"});
  EXPECT_EQ(written(VI::All), (std::vector<std::string>{"Y", "Z"}));
  EXPECT_TRUE(written(VI::None).empty());
  // A round trip keeps what was declared, and a clone carries the mark.
  auto clone = (*m)->clone();
  EXPECT_TRUE((*clone->graph->nodes().begin())->output(0)->typeDeclared);
}

TEST(Export, ExternalDataIsWrittenBesideAndReadBack) {
  TempDir dir;
  writeProto(makeProto(1000), dir.file("m.onnx"));
  auto m = importModelFile(dir.file("m.onnx"));
  ASSERT_TRUE(m.ok());
  ExportOptions opts;
  opts.externalData = "weights.bin";
  // An existing data file is replaced, never appended to.
  { std::ofstream(dir.file("weights.bin")) << std::string(12345, 'x'); }
  ASSERT_TRUE(exportModelFile(**m, dir.file("out.onnx"), opts).ok());
  EXPECT_EQ(fs::file_size(dir.file("weights.bin")), 4000u);
  auto back = importModelFile(dir.file("out.onnx"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->get()->graph->initializer(0)->tensor()->isMapped());
  EXPECT_EQ(back->get()->graph->initializer(0)->tensor()->bytes(),
            (*m)->graph->initializer(0)->tensor()->bytes());
}

TEST(Export, ExternalDataNameMustStayInTheOutputDirectory) {
  TempDir dir;
  writeProto(makeProto(10), dir.file("m.onnx"));
  auto m = importModelFile(dir.file("m.onnx"));
  ASSERT_TRUE(m.ok());
  ExportOptions opts;
  opts.externalData = "../escape.bin";
  EXPECT_FALSE(exportModelFile(**m, dir.file("out.onnx"), opts).ok());
  EXPECT_FALSE(fs::exists(dir.file("out.onnx")));
}

TEST(Export, RenamedOutputValueKeepsTheContractName) {
  TempDir dir;
  writeProto(makeProto(4), dir.file("m.onnx"));
  auto m = importModelFile(dir.file("m.onnx"));
  ASSERT_TRUE(m.ok());
  Graph &g = *(*m)->graph;
  // Point the output straight at the input, as an identity-removing pass would.
  g.outputUse(0).set(g.input(0));
  g.firstNode()->erase();
  ASSERT_TRUE(exportModelFile(**m, dir.file("out.onnx")).ok());
  onnx::ModelProto parsed;
  ASSERT_TRUE(parsed.ParseFromString(slurp(dir.file("out.onnx"))));
  EXPECT_EQ(parsed.graph().output(0).name(), "Y");
  EXPECT_EQ(parsed.graph().input(0).name(), "X");
  ASSERT_EQ(parsed.graph().node_size(), 1);
  EXPECT_EQ(parsed.graph().node(0).op_type(), "Identity");
}

} // namespace
