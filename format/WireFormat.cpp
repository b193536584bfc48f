// Protobuf wire-format surgery on serialized ModelProtos.
#include "format/WireFormat.h"

#include "absl/container/flat_hash_map.h"
#include "utils/Diagnostics.h"

namespace onnxopt::wire {

namespace {

/// The messages on the paths from ModelProto to every TensorProto.
enum class Msg {
  Model,
  Graph,
  Node,
  Attribute,
  Tensor,
  SparseTensor,
  Function,
  TrainingInfo,
  Other
};

Msg childKind(Msg parent, uint32_t field) {
  switch (parent) {
  case Msg::Model:
    return field == 7    ? Msg::Graph
           : field == 25 ? Msg::Function
           : field == 20 ? Msg::TrainingInfo
                         : Msg::Other;
  case Msg::TrainingInfo:
    return (field == 1 || field == 2) ? Msg::Graph : Msg::Other;
  case Msg::Graph:
    return field == 1    ? Msg::Node
           : field == 5  ? Msg::Tensor
           : field == 15 ? Msg::SparseTensor
                         : Msg::Other;
  case Msg::Function:
    return field == 7 ? Msg::Node : Msg::Other;
  case Msg::Node:
    return field == 5 ? Msg::Attribute : Msg::Other;
  case Msg::Attribute:
    return (field == 5 || field == 10)    ? Msg::Tensor
           : (field == 6 || field == 11)  ? Msg::Graph
           : (field == 22 || field == 23) ? Msg::SparseTensor
                                          : Msg::Other;
  case Msg::SparseTensor:
    return (field == 1 || field == 2) ? Msg::Tensor : Msg::Other;
  case Msg::Tensor:
  case Msg::Other:
    return Msg::Other;
  }
  return Msg::Other;
}

void putVarint(std::string &out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

size_t varintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

/// One field as read from the wire.
struct Field {
  uint32_t number = 0;
  uint32_t wireType = 0;
  uint64_t varint = 0;      // wire type 0
  std::string_view payload; // wire type 2
  std::string_view whole;   // tag through end of field
};

/// Reads fields from a message body; reports offsets relative to the file.
class Reader {
public:
  Reader(std::string_view body, uint64_t base) : data_(body), base_(base) {}
  bool done() const { return pos_ >= data_.size(); }

  absl::Status next(Field &f) {
    size_t start = pos_;
    uint64_t tag;
    ONNXOPT_RETURN_IF_ERROR(varint(tag));
    f.number = static_cast<uint32_t>(tag >> 3);
    f.wireType = static_cast<uint32_t>(tag & 7);
    if (f.number == 0 || (tag >> 3) > 0x1fffffff)
      return corrupt(start, "invalid field number");
    switch (f.wireType) {
    case 0:
      ONNXOPT_RETURN_IF_ERROR(varint(f.varint));
      break;
    case 1:
      ONNXOPT_RETURN_IF_ERROR(skip(8, start));
      break;
    case 5:
      ONNXOPT_RETURN_IF_ERROR(skip(4, start));
      break;
    case 2: {
      uint64_t len;
      ONNXOPT_RETURN_IF_ERROR(varint(len));
      if (len > data_.size() - pos_)
        return corrupt(start, "length-delimited field runs past the end");
      f.payload = data_.substr(pos_, len);
      pos_ += len;
      break;
    }
    default:
      return corrupt(start,
                     "unsupported wire type " + std::to_string(f.wireType));
    }
    f.whole = data_.substr(start, pos_ - start);
    return absl::OkStatus();
  }

  uint64_t offsetOf(std::string_view inner) const {
    return base_ + static_cast<uint64_t>(inner.data() - data_.data());
  }

private:
  absl::Status varint(uint64_t &v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size())
        return corrupt(pos_, "truncated varint");
      auto b = static_cast<uint8_t>(data_[pos_++]);
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80))
        return absl::OkStatus();
    }
    return corrupt(pos_, "varint longer than 10 bytes");
  }
  absl::Status skip(size_t n, size_t start) {
    if (n > data_.size() - pos_)
      return corrupt(start, "fixed-size field runs past the end");
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status corrupt(size_t at, const std::string &what) const {
    return invalidInput(
        "not a valid ONNX model: corrupt protobuf data at byte ", base_ + at,
        " (", what, ")");
  }
  std::string_view data_;
  uint64_t base_;
  size_t pos_ = 0;
};

class Extractor {
public:
  Extractor(std::string_view file, size_t minBytes, std::vector<Slot> &slots,
            const WalkLimits &limits)
      : file_(file), minBytes_(minBytes), slots_(slots), limits_(limits) {}

  absl::Status run(std::string_view body, Msg kind, unsigned graphDepth,
                   std::string &out) {
    if (kind == Msg::Graph && graphDepth > limits_.maxGraphDepth)
      return limitExceeded("subgraphs are nested more than ",
                           limits_.maxGraphDepth, " levels deep");
    Reader r(body, static_cast<uint64_t>(body.data() - file_.data()));
    Field f;
    while (!r.done()) {
      ONNXOPT_RETURN_IF_ERROR(r.next(f));
      if (kind == Msg::Tensor) {
        if (f.number == kSlotField)
          return invalidInput(
              "not a valid ONNX model: TensorProto uses reserved "
              "field number ",
              kSlotField);
        if (f.number == 9 && f.wireType == 2 && f.payload.size() >= minBytes_) {
          slots_.push_back({r.offsetOf(f.payload), f.payload.size()});
          putVarint(out, (uint64_t(kSlotField) << 3) | 0);
          putVarint(out, slots_.size() - 1);
          continue;
        }
      }
      Msg child = f.wireType == 2 ? childKind(kind, f.number) : Msg::Other;
      if (child == Msg::Other) {
        out.append(f.whole);
        continue;
      }
      // The child is written in place after a header for its current
      // length; only a child that lost a payload to a slot (so shrank) has
      // its header rewritten, which moves that child's bytes once. Copying
      // each child out of a separate buffer instead moves every byte once
      // per level of nesting.
      size_t head = out.size();
      uint64_t tag = (uint64_t(f.number) << 3) | 2;
      putVarint(out, tag);
      putVarint(out, f.payload.size());
      size_t start = out.size();
      // The model's own graph is depth 0; each subgraph below it adds one
      // (as in the importer, so --max-subgraph-depth=1 admits one level).
      bool nested = child == Msg::Graph && kind == Msg::Attribute;
      ONNXOPT_RETURN_IF_ERROR(
          run(f.payload, child, graphDepth + (nested ? 1 : 0), out));
      size_t len = out.size() - start;
      if (len != f.payload.size()) {
        std::string h;
        putVarint(h, tag);
        putVarint(h, len);
        out.replace(head, start - head, h);
      }
    }
    return absl::OkStatus();
  }

private:
  std::string_view file_;
  size_t minBytes_;
  std::vector<Slot> &slots_;
  const WalkLimits &limits_;
};

/// Measures, and optionally writes, the skeleton with markers spliced out.
class Splicer {
public:
  Splicer(std::string_view skeleton, const std::vector<ByteRange> &payloads)
      : skeleton_(skeleton), payloads_(payloads) {}

  absl::StatusOr<uint64_t> size(std::string_view body, Msg kind) {
    Reader r(body, static_cast<uint64_t>(body.data() - skeleton_.data()));
    Field f;
    uint64_t total = 0;
    while (!r.done()) {
      ONNXOPT_RETURN_IF_ERROR(r.next(f));
      if (kind == Msg::Tensor && f.number == kSlotField) {
        if (f.varint >= payloads_.size())
          return absl::InternalError("slot marker out of range");
        uint64_t len = payloads_[f.varint].size;
        total += varintSize((9 << 3) | 2) + varintSize(len) + len;
        continue;
      }
      Msg child = f.wireType == 2 ? childKind(kind, f.number) : Msg::Other;
      if (child == Msg::Other) {
        total += f.whole.size();
        continue;
      }
      ONNXOPT_ASSIGN_OR_RETURN(uint64_t sub, childSize(f.payload, child));
      total +=
          varintSize((uint64_t(f.number) << 3) | 2) + varintSize(sub) + sub;
    }
    return total;
  }

  absl::Status write(std::string_view body, Msg kind, OutputFile &out) {
    Reader r(body, static_cast<uint64_t>(body.data() - skeleton_.data()));
    Field f;
    std::string head;
    while (!r.done()) {
      ONNXOPT_RETURN_IF_ERROR(r.next(f));
      if (kind == Msg::Tensor && f.number == kSlotField) {
        const ByteRange &payload = payloads_[f.varint];
        head.clear();
        putVarint(head, (9 << 3) | 2);
        putVarint(head, payload.size);
        ONNXOPT_RETURN_IF_ERROR(out.write(head));
        ONNXOPT_RETURN_IF_ERROR(out.write(payload));
        continue;
      }
      Msg child = f.wireType == 2 ? childKind(kind, f.number) : Msg::Other;
      if (child == Msg::Other) {
        ONNXOPT_RETURN_IF_ERROR(out.write(f.whole));
        continue;
      }
      ONNXOPT_ASSIGN_OR_RETURN(uint64_t sub, childSize(f.payload, child));
      head.clear();
      putVarint(head, (uint64_t(f.number) << 3) | 2);
      putVarint(head, sub);
      ONNXOPT_RETURN_IF_ERROR(out.write(head));
      ONNXOPT_RETURN_IF_ERROR(write(f.payload, child, out));
    }
    return absl::OkStatus();
  }

private:
  /// A child message's size, computed once: write() asks for the size of
  /// each message it enters, which size() already walked, so without the
  /// memo a message at depth d is walked d times (a node's attributes hold
  /// one field per list element: millions in a large tree ensemble).
  absl::StatusOr<uint64_t> childSize(std::string_view body, Msg kind) {
    auto it = sizes_.find(body.data());
    if (it != sizes_.end())
      return it->second;
    ONNXOPT_ASSIGN_OR_RETURN(uint64_t sub, size(body, kind));
    sizes_.emplace(body.data(), sub);
    return sub;
  }

  std::string_view skeleton_;
  const std::vector<ByteRange> &payloads_;
  absl::flat_hash_map<const char *, uint64_t> sizes_;
};

} // namespace

absl::Status extractSkeleton(std::string_view in, size_t minBytes,
                             std::string &skeleton, std::vector<Slot> &slots,
                             const WalkLimits &limits) {
  skeleton.clear();
  slots.clear();
  return Extractor(in, minBytes, slots, limits)
      .run(in, Msg::Model, 0, skeleton);
}

// Without payloads there is nothing to splice: the skeleton is the file (a
// classic-ML model keeps its trees in attributes, millions of fields that
// need no walk).
absl::StatusOr<uint64_t> splicedSize(std::string_view skeleton,
                                     const std::vector<ByteRange> &payloads) {
  if (payloads.empty())
    return skeleton.size();
  return Splicer(skeleton, payloads).size(skeleton, Msg::Model);
}

absl::Status spliceSlots(std::string_view skeleton,
                         const std::vector<ByteRange> &payloads,
                         OutputFile &out) {
  if (payloads.empty())
    return out.write(skeleton);
  return Splicer(skeleton, payloads).write(skeleton, Msg::Model, out);
}

} // namespace onnxopt::wire
