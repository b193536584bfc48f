// Reference kernels: RNN, GRU and LSTM (both directions, sequence lengths,
// peepholes, clip, layout).
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include "absl/strings/ascii.h"

#include <cmath>
#include <functional>

namespace onnxopt::ref {

namespace {

enum class Cell { Rnn, Gru, Lstm };

using Act = std::function<double(double)>;

absl::StatusOr<Act> activation(KernelContext &ctx, const std::string &name,
                               double alpha, double beta, bool hasAlpha,
                               bool hasBeta) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "sigmoid")
    return Act([](double x) { return 1 / (1 + std::exp(-x)); });
  if (n == "tanh")
    return Act([](double x) { return std::tanh(x); });
  if (n == "relu")
    return Act([](double x) { return x > 0 ? x : 0; });
  if (n == "leakyrelu") {
    double a = hasAlpha ? alpha : 0.01;
    return Act([a](double x) { return x >= 0 ? x : a * x; });
  }
  if (n == "thresholdedrelu") {
    double a = hasAlpha ? alpha : 1.0;
    return Act([a](double x) { return x > a ? x : 0; });
  }
  if (n == "scaledtanh") {
    double a = hasAlpha ? alpha : 1.0, b = hasBeta ? beta : 1.0;
    return Act([a, b](double x) { return a * std::tanh(b * x); });
  }
  if (n == "hardsigmoid") {
    double a = hasAlpha ? alpha : 0.2, b = hasBeta ? beta : 0.5;
    return Act(
        [a, b](double x) { return std::max(0.0, std::min(1.0, a * x + b)); });
  }
  if (n == "elu") {
    double a = hasAlpha ? alpha : 1.0;
    return Act([a](double x) { return x >= 0 ? x : a * (std::exp(x) - 1); });
  }
  if (n == "softsign")
    return Act([](double x) { return x / (1 + std::abs(x)); });
  if (n == "softplus")
    return Act([](double x) { return std::log1p(std::exp(x)); });
  if (n == "affine") {
    double a = hasAlpha ? alpha : 1.0, b = hasBeta ? beta : 0.0;
    return Act([a, b](double x) { return a * x + b; });
  }
  return ctx.error("unknown activation '" + name + "'");
}

absl::Status recurrent(KernelContext &ctx, Cell cell) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *X, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *W, ctx.required(1));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *R, ctx.required(2));
  int gates = cell == Cell::Lstm ? 4 : cell == Cell::Gru ? 3 : 1;
  std::string dir = ctx.attrString("direction", "forward");
  int dirs = dir == "bidirectional" ? 2 : 1;
  bool layout = ctx.attrInt("layout", 0);
  if (X->dims().size() != 3 || W->dims().size() != 3 || R->dims().size() != 3)
    return ctx.error("X, W and R must be 3-D");
  int64_t seq = layout ? X->dims()[1] : X->dims()[0],
          batch = layout ? X->dims()[0] : X->dims()[1], in = X->dims()[2];
  int64_t H = R->dims()[2];
  if (W->dims()[0] != dirs || W->dims()[1] != gates * H || W->dims()[2] != in ||
      R->dims()[1] != gates * H)
    return ctx.error("W or R has the wrong shape");
  std::vector<double> x = toDoubles(*X), w = toDoubles(*W), r = toDoubles(*R);
  std::vector<double> b(static_cast<size_t>(dirs * 2 * gates * H), 0.0);
  if (const Tensor *B = ctx.input(3))
    b = toDoubles(*B);
  std::vector<int64_t> lens(static_cast<size_t>(batch), seq);
  if (const Tensor *L = ctx.input(4))
    lens = toInt64s(*L);
  std::vector<double> h0(static_cast<size_t>(dirs * batch * H), 0.0), c0 = h0;
  if (const Tensor *t = ctx.input(5))
    h0 = toDoubles(*t);
  if (cell == Cell::Lstm)
    if (const Tensor *t = ctx.input(6))
      c0 = toDoubles(*t);
  std::vector<double> p(static_cast<size_t>(dirs * 3 * H), 0.0);
  if (cell == Cell::Lstm)
    if (const Tensor *t = ctx.input(7))
      p = toDoubles(*t);
  if (b.size() != size_t(dirs * 2 * gates * H) ||
      lens.size() != size_t(batch) || h0.size() != size_t(dirs * batch * H) ||
      c0.size() != size_t(dirs * batch * H) || p.size() != size_t(dirs * 3 * H))
    return ctx.error(
        "B, sequence_lens, initial_h, initial_c or P has the wrong size");
  double clip = ctx.attrFloat("clip", 0.0f);
  bool hasClip = ctx.hasAttr("clip");
  bool linearBeforeReset = ctx.attrInt("linear_before_reset", 0);
  bool inputForget = ctx.attrInt("input_forget", 0);

  // Activations: per direction, f g h for LSTM, f g for GRU, f for RNN.
  int perDir = cell == Cell::Lstm ? 3 : cell == Cell::Gru ? 2 : 1;
  std::vector<std::string> names;
  if (const Attribute *a = ctx.node().attr("activations"))
    names = a->strings;
  std::vector<float> alphas = ctx.attrFloats("activation_alpha"),
                     betas = ctx.attrFloats("activation_beta");
  std::vector<Act> acts;
  for (int i = 0; i < perDir * dirs; ++i) {
    std::string name;
    if (static_cast<size_t>(i) < names.size())
      name = names[i];
    else if (cell == Cell::Rnn)
      name = "Tanh";
    else
      name = i % perDir == 0 ? "Sigmoid" : "Tanh";
    ONNXOPT_ASSIGN_OR_RETURN(
        Act a, activation(ctx, name, size_t(i) < alphas.size() ? alphas[i] : 0,
                          size_t(i) < betas.size() ? betas[i] : 0,
                          size_t(i) < alphas.size(), size_t(i) < betas.size()));
    acts.push_back(a);
  }
  auto clipped = [&](double v) {
    return hasClip ? std::max(-clip, std::min(clip, v)) : v;
  };

  std::vector<double> Y(static_cast<size_t>(seq * dirs * batch * H), 0.0);
  std::vector<double> Yh(static_cast<size_t>(dirs * batch * H), 0.0), Yc = Yh;
  auto xAt = [&](int64_t t, int64_t bb, int64_t k) {
    return layout ? x[(bb * seq + t) * in + k] : x[(t * batch + bb) * in + k];
  };
  std::vector<double> gx(static_cast<size_t>(gates * H)),
      gh(static_cast<size_t>(gates * H));
  for (int d = 0; d < dirs; ++d) {
    bool reverse = dir == "reverse" || d == 1;
    const double *wd = w.data() + d * gates * H * in;
    const double *rd = r.data() + d * gates * H * H;
    const double *wb = b.data() + d * 2 * gates * H;
    const double *rb = wb + gates * H;
    const double *pd = p.data() + d * 3 * H;
    const Act &f = acts[d * perDir];
    const Act &g = perDir > 1 ? acts[d * perDir + 1] : f;
    const Act &hAct = perDir > 2 ? acts[d * perDir + 2] : f;
    for (int64_t bb = 0; bb < batch; ++bb) {
      std::vector<double> h(h0.begin() + (d * batch + bb) * H,
                            h0.begin() + (d * batch + bb + 1) * H);
      std::vector<double> c(c0.begin() + (d * batch + bb) * H,
                            c0.begin() + (d * batch + bb + 1) * H);
      int64_t L = std::min(lens[bb], seq);
      for (int64_t s = 0; s < L; ++s) {
        int64_t t = reverse ? L - 1 - s : s;
        for (int64_t gi = 0; gi < gates * H; ++gi) {
          double ax = wb[gi], ah = rb[gi];
          for (int64_t k = 0; k < in; ++k)
            ax += wd[gi * in + k] * xAt(t, bb, k);
          if (!(cell == Cell::Gru && gi >= 2 * H && !linearBeforeReset))
            for (int64_t k = 0; k < H; ++k)
              ah += rd[gi * H + k] * h[k];
          gx[gi] = ax;
          gh[gi] = ah;
        }
        std::vector<double> hn(static_cast<size_t>(H));
        if (cell == Cell::Rnn) {
          for (int64_t j = 0; j < H; ++j)
            hn[j] = f(clipped(gx[j] + gh[j]));
        } else if (cell == Cell::Gru) {
          for (int64_t j = 0; j < H; ++j) {
            double z = f(clipped(gx[j] + gh[j]));
            double rr = f(clipped(gx[H + j] + gh[H + j]));
            double hh;
            if (linearBeforeReset) {
              hh = g(clipped(gx[2 * H + j] + rr * gh[2 * H + j]));
            } else {
              double acc = rb[2 * H + j];
              for (int64_t k = 0; k < H; ++k)
                acc += rd[(2 * H + j) * H + k] * rr * h[k];
              hh = g(clipped(gx[2 * H + j] + acc));
            }
            hn[j] = (1 - z) * hh + z * h[j];
          }
        } else {
          std::vector<double> cn(static_cast<size_t>(H));
          for (int64_t j = 0; j < H; ++j) {
            double i = f(clipped(gx[j] + gh[j] + pd[j] * c[j]));
            double fg = f(
                clipped(gx[2 * H + j] + gh[2 * H + j] + pd[2 * H + j] * c[j]));
            if (inputForget)
              fg = 1 - i;
            double cc = g(clipped(gx[3 * H + j] + gh[3 * H + j]));
            cn[j] = fg * c[j] + i * cc;
            double o = f(clipped(gx[H + j] + gh[H + j] + pd[H + j] * cn[j]));
            hn[j] = o * hAct(cn[j]);
          }
          c = cn;
        }
        h = hn;
        for (int64_t j = 0; j < H; ++j) {
          int64_t at = layout ? ((bb * seq + t) * dirs + d) * H + j
                              : ((t * dirs + d) * batch + bb) * H + j;
          Y[at] = h[j];
        }
      }
      for (int64_t j = 0; j < H; ++j) {
        int64_t at =
            layout ? (bb * dirs + d) * H + j : (d * batch + bb) * H + j;
        Yh[at] = h[j];
        Yc[at] = c[j];
      }
    }
  }
  auto emit = [&](size_t i, const std::vector<double> &v,
                  std::vector<int64_t> dims) -> absl::Status {
    if (!ctx.wantsOutput(i))
      return absl::OkStatus();
    ONNXOPT_ASSIGN_OR_RETURN(NewTensor out, ctx.allocate(X->dtype(), dims));
    switch (X->dtype()) {
      REF_FLOATS({
        for (int64_t k = 0; k < out.size(); ++k)
          out.data<T>()[k] = T(Compute<T>(v[k]));
      })
    default:
      return ctx.unsupportedType(X->dtype());
    }
    ctx.setOutput(i, out.finish());
    return absl::OkStatus();
  };
  ONNXOPT_RETURN_IF_ERROR(
      emit(0, Y,
           layout ? std::vector<int64_t>{batch, seq, dirs, H}
                  : std::vector<int64_t>{seq, dirs, batch, H}));
  std::vector<int64_t> hd = layout ? std::vector<int64_t>{batch, dirs, H}
                                   : std::vector<int64_t>{dirs, batch, H};
  ONNXOPT_RETURN_IF_ERROR(emit(1, Yh, hd));
  if (cell == Cell::Lstm)
    ONNXOPT_RETURN_IF_ERROR(emit(2, Yc, hd));
  return absl::OkStatus();
}

absl::Status kRNN(KernelContext &ctx) { return recurrent(ctx, Cell::Rnn); }
absl::Status kGRU(KernelContext &ctx) { return recurrent(ctx, Cell::Gru); }
absl::Status kLSTM(KernelContext &ctx) { return recurrent(ctx, Cell::Lstm); }

} // namespace

void registerRnnKernels(KernelMap &m) {
  m["GRU"] = kGRU;
  m["LSTM"] = kLSTM;
  m["RNN"] = kRNN;
}

} // namespace onnxopt::ref
