// Reference kernel: Einsum, by direct summation over every label.
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <map>

namespace onnxopt::ref {

namespace {

/// Labels of one term: letters as themselves, ellipsis dims as negative ids
/// (-1 is the ellipsis dim farthest left among all operands).
using Term = std::vector<int>;

/// Parses one term against a rank (-1: the output, whose ellipsis rank is
/// `ellipsis`). Returns false on bad syntax.
bool parseTerm(const std::string &text, int64_t rank, int64_t &ellipsis,
               Term &out) {
  size_t dots = text.find("...");
  size_t letters = text.size() - (dots == std::string::npos ? 0 : 3);
  for (char c : text)
    if (c != '.' && !std::isalpha(static_cast<unsigned char>(c)))
      return false;
  int64_t n = 0;
  if (dots != std::string::npos) {
    if (text.find("...", dots + 3) != std::string::npos)
      return false;
    n = rank < 0 ? ellipsis : rank - int64_t(letters);
    if (n < 0)
      return false;
    ellipsis = std::max(ellipsis, n);
  } else if (rank >= 0 && int64_t(letters) != rank) {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == dots) {
      for (int64_t j = 0; j < n; ++j)
        out.push_back(-int(n - j)); // right-aligned: last ellipsis dim is -1
      i += 2;
      continue;
    }
    if (text[i] == '.')
      return false;
    out.push_back(text[i]);
  }
  return true;
}

absl::Status kEinsum(KernelContext &ctx) {
  std::string eq;
  for (char c : ctx.attrString("equation"))
    if (c != ' ')
      eq += c;
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> texts;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    texts.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (texts.size() != ctx.numInputs())
    return ctx.error("the equation has another number of operands");
  std::vector<const Tensor *> ins;
  std::vector<Term> terms(texts.size());
  int64_t ellipsis = 0;
  for (size_t k = 0; k < texts.size(); ++k) {
    ONNXOPT_ASSIGN_OR_RETURN(const Tensor *t, ctx.required(k));
    if (!ins.empty() && t->dtype() != ins[0]->dtype())
      return ctx.error("operands of different types");
    ins.push_back(t);
    if (!parseTerm(texts[k], int64_t(t->dims().size()), ellipsis, terms[k]))
      return ctx.error(absl::StrCat("bad term '", texts[k], "'"));
  }
  // Label sizes (ellipsis dims broadcast, as do size-1 letters).
  std::map<int, int64_t> size;
  for (size_t k = 0; k < terms.size(); ++k)
    for (size_t d = 0; d < terms[k].size(); ++d) {
      int64_t s = ins[k]->dims()[d];
      auto [it, fresh] = size.emplace(terms[k][d], s);
      if (!fresh && it->second != s) {
        if (it->second == 1)
          it->second = s;
        else if (s != 1)
          return ctx.error("a label has two sizes");
      }
    }
  Term out;
  if (arrow != std::string::npos) {
    if (!parseTerm(eq.substr(arrow + 2), -1, ellipsis, out))
      return ctx.error("bad output term");
    for (int l : out)
      if (!size.count(l))
        return ctx.error("an output label is in no operand");
  } else {
    for (int64_t j = ellipsis; j > 0; --j)
      out.push_back(-int(j));
    std::map<int, int> count;
    for (const Term &t : terms)
      for (int l : t)
        ++count[l];
    for (const auto &[l, c] : count)
      if (l > 0 && c == 1)
        out.push_back(l);
  }
  // Iteration order: output labels, then the summed ones.
  Term labels = out;
  for (const auto &[l, s] : size)
    if (std::find(out.begin(), out.end(), l) == out.end())
      labels.push_back(l);
  std::vector<int64_t> dims, outDims;
  for (int l : labels)
    dims.push_back(size[l]);
  for (int l : out)
    outDims.push_back(size[l]);
  // Strides of each operand per label (a repeated label walks the diagonal;
  // a broadcast size-1 dim stays put).
  std::vector<std::vector<int64_t>> strides(
      ins.size(), std::vector<int64_t>(labels.size()));
  for (size_t k = 0; k < ins.size(); ++k) {
    int64_t stride = 1;
    for (size_t d = terms[k].size(); d-- > 0;) {
      size_t li = size_t(std::find(labels.begin(), labels.end(), terms[k][d]) -
                         labels.begin());
      if (ins[k]->dims()[d] != 1)
        strides[k][li] += stride;
      stride *= ins[k]->dims()[d];
    }
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor result,
                           ctx.allocate(ins[0]->dtype(), outDims));
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < labels.size(); ++i)
    (i < out.size() ? outer : inner) *= dims[i];
  switch (ins[0]->dtype()) {
    REF_NUMERIC({
      std::vector<View<T>> views;
      for (const Tensor *t : ins)
        views.emplace_back(*t);
      T *o = result.data<T>();
      std::vector<int64_t> idx(labels.size(), 0), off(ins.size(), 0);
      double acc = 0; // one output element's sum, rounded once
      for (int64_t i = 0; i < outer * inner; ++i) {
        double p = 1;
        for (size_t k = 0; k < ins.size(); ++k)
          p *= double(Compute<T>(views[k][off[k]]));
        acc += p;
        if ((i + 1) % inner == 0) {
          o[i / inner] = T(Compute<T>(acc));
          acc = 0;
        }
        // Advance the odometer, innermost label last.
        for (size_t d = labels.size(); d-- > 0;) {
          for (size_t k = 0; k < ins.size(); ++k)
            off[k] += strides[k][d];
          if (++idx[d] < dims[d])
            break;
          for (size_t k = 0; k < ins.size(); ++k)
            off[k] -= strides[k][d] * dims[d];
          idx[d] = 0;
        }
      }
    })
  default:
    return ctx.unsupportedType(ins[0]->dtype());
  }
  ctx.setOutput(0, result.finish());
  return absl::OkStatus();
}

} // namespace

void registerEinsumKernels(KernelMap &m) { m["Einsum"] = kEinsum; }

} // namespace onnxopt::ref
