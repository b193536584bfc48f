// Reference kernels for detection models: NonMaxSuppression and RoiAlign.
#include "backends/reference/KernelTable.h"

#include "utils/Diagnostics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace onnxopt::ref {

namespace {

/// Box as (ymin, xmin, ymax, xmax) from either of NonMaxSuppression's layouts.
struct Box {
  double y1, x1, y2, x2;
};

Box readBox(const double *b, bool centerPoint) {
  if (centerPoint) // [x_center, y_center, width, height]
    return {b[1] - b[3] / 2, b[0] - b[2] / 2, b[1] + b[3] / 2, b[0] + b[2] / 2};
  // Corners in either order.
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]),
          std::max(b[1], b[3])};
}

double iou(const Box &a, const Box &b) {
  double ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  double iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (ih <= 0 || iw <= 0)
    return 0;
  double inter = ih * iw;
  double uni =
      (a.y2 - a.y1) * (a.x2 - a.x1) + (b.y2 - b.y1) * (b.x2 - b.x1) - inter;
  return uni > 0 ? inter / uni : 0;
}

absl::Status kNonMaxSuppression(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *boxesT, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *scoresT, ctx.required(1));
  if (boxesT->dims().size() != 3 || boxesT->dims()[2] != 4 ||
      scoresT->dims().size() != 3 || scoresT->dims()[0] != boxesT->dims()[0] ||
      scoresT->dims()[2] != boxesT->dims()[1])
    return ctx.error("boxes must be [batches, boxes, 4] and scores "
                     "[batches, classes, boxes]");
  int64_t maxOut = 0;
  if (const Tensor *t = ctx.input(2); t && t->numElements() > 0)
    maxOut = toInt64s(*t).at(0);
  double iouThreshold = 0, scoreThreshold = -INFINITY;
  if (const Tensor *t = ctx.input(3); t && t->numElements() > 0)
    iouThreshold = toDoubles(*t).at(0);
  bool hasScoreThreshold = false;
  if (const Tensor *t = ctx.input(4); t && t->numElements() > 0) {
    scoreThreshold = toDoubles(*t).at(0);
    hasScoreThreshold = true;
  }
  bool center = ctx.attrInt("center_point_box", 0);
  int64_t batches = boxesT->dims()[0], n = boxesT->dims()[1],
          classes = scoresT->dims()[1];
  std::vector<double> boxes = toDoubles(*boxesT), scores = toDoubles(*scoresT);
  std::vector<int64_t> selected;
  std::vector<int64_t> order;
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t c = 0; c < classes; ++c) {
      const double *sc = scores.data() + (b * classes + c) * n;
      order.clear();
      for (int64_t i = 0; i < n; ++i)
        if (!hasScoreThreshold || sc[i] > scoreThreshold)
          order.push_back(i);
      // Highest score first; ties keep the lower box index first.
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t p, int64_t q) { return sc[p] > sc[q]; });
      std::vector<Box> kept;
      int64_t count = 0;
      for (int64_t i : order) {
        if (count >= maxOut)
          break;
        Box bi = readBox(boxes.data() + (b * n + i) * 4, center);
        bool suppressed = false;
        for (const Box &k : kept)
          if (iou(bi, k) > iouThreshold) {
            suppressed = true;
            break;
          }
        if (suppressed)
          continue;
        kept.push_back(bi);
        selected.insert(selected.end(), {b, c, i});
        ++count;
      }
    }
  ctx.setOutput(0, makeInt64s(selected, {int64_t(selected.size() / 3), 3}));
  return absl::OkStatus();
}

absl::Status kRoiAlign(KernelContext &ctx) {
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *xT, ctx.required(0));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *roisT, ctx.required(1));
  ONNXOPT_ASSIGN_OR_RETURN(const Tensor *idxT, ctx.required(2));
  if (xT->dims().size() != 4 || roisT->dims().size() != 2 ||
      roisT->dims()[1] != 4)
    return ctx.error("X must be 4-D and rois [num_rois, 4]");
  int64_t C = xT->dims()[1], H = xT->dims()[2], W = xT->dims()[3],
          R = roisT->dims()[0];
  int64_t oh = ctx.attrInt("output_height", 1),
          ow = ctx.attrInt("output_width", 1);
  int64_t ratio = ctx.attrInt("sampling_ratio", 0);
  double scale = ctx.attrFloat("spatial_scale", 1.0f);
  bool maxMode = ctx.attrString("mode", "avg") == "max";
  // Opset 16 added half_pixel (its default); opset 10 behaves as
  // output_half_pixel.
  bool halfPixel = ctx.sinceVersion() >= 16 &&
                   ctx.attrString("coordinate_transformation_mode",
                                  "half_pixel") == "half_pixel";
  if (oh <= 0 || ow <= 0)
    return ctx.error("output size must be positive");
  std::vector<double> x = toDoubles(*xT), rois = toDoubles(*roisT);
  std::vector<int64_t> bidx = toInt64s(*idxT);
  if (int64_t(bidx.size()) != R)
    return ctx.error("batch_indices must have one entry per roi");
  std::vector<double> out(static_cast<size_t>(R * C * oh * ow), 0.0);
  double offset = halfPixel ? 0.5 : 0.0;
  for (int64_t r = 0; r < R; ++r) {
    int64_t b = bidx[r];
    if (b < 0 || b >= xT->dims()[0])
      return ctx.error("batch index out of range");
    double sw = rois[r * 4] * scale - offset,
           sh = rois[r * 4 + 1] * scale - offset;
    double ew = rois[r * 4 + 2] * scale - offset,
           eh = rois[r * 4 + 3] * scale - offset;
    double rw = ew - sw, rh = eh - sh;
    if (!halfPixel) {
      rw = std::max(rw, 1.0);
      rh = std::max(rh, 1.0);
    }
    double bh = rh / double(oh), bw = rw / double(ow);
    int64_t gh = ratio > 0 ? ratio : int64_t(std::ceil(rh / double(oh)));
    int64_t gw = ratio > 0 ? ratio : int64_t(std::ceil(rw / double(ow)));
    double count = double(std::max<int64_t>(gh * gw, 1));
    for (int64_t c = 0; c < C; ++c) {
      const double *plane = x.data() + (b * C + c) * H * W;
      for (int64_t ph = 0; ph < oh; ++ph)
        for (int64_t pw = 0; pw < ow; ++pw) {
          double acc = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; ++iy)
            for (int64_t ix = 0; ix < gw; ++ix) {
              double y =
                  sh + double(ph) * bh + (double(iy) + 0.5) * bh / double(gh);
              double xx =
                  sw + double(pw) * bw + (double(ix) + 0.5) * bw / double(gw);
              double v = 0;
              if (!(y < -1.0 || y > double(H) || xx < -1.0 || xx > double(W))) {
                y = std::max(y, 0.0);
                xx = std::max(xx, 0.0);
                int64_t yl = int64_t(y), xl = int64_t(xx), yh, xh;
                if (yl >= H - 1) {
                  yh = yl = H - 1;
                  y = double(yl);
                } else {
                  yh = yl + 1;
                }
                if (xl >= W - 1) {
                  xh = xl = W - 1;
                  xx = double(xl);
                } else {
                  xh = xl + 1;
                }
                double ly = y - double(yl), lx = xx - double(xl), hy = 1 - ly,
                       hx = 1 - lx;
                double w1 = hy * hx * plane[yl * W + xl],
                       w2 = hy * lx * plane[yl * W + xh],
                       w3 = ly * hx * plane[yh * W + xl],
                       w4 = ly * lx * plane[yh * W + xh];
                // Max mode takes the largest weighted corner, as ONNX
                // Runtime does.
                v = maxMode ? std::max(std::max(w1, w2), std::max(w3, w4))
                            : w1 + w2 + w3 + w4;
              }
              if (maxMode) {
                acc = first ? v : std::max(acc, v);
                first = false;
              } else {
                acc += v;
              }
            }
          out[((r * C + c) * oh + ph) * ow + pw] = maxMode ? acc : acc / count;
        }
    }
  }
  ONNXOPT_ASSIGN_OR_RETURN(NewTensor res,
                           ctx.allocate(xT->dtype(), {R, C, oh, ow}));
  switch (xT->dtype()) {
    REF_FLOATS({
      for (int64_t i = 0; i < res.size(); ++i)
        res.data<T>()[i] = T(Compute<T>(out[i]));
    })
  default:
    return ctx.unsupportedType(xT->dtype());
  }
  ctx.setOutput(0, res.finish());
  return absl::OkStatus();
}

} // namespace

void registerDetectionKernels(KernelMap &m) {
  m["NonMaxSuppression"] = kNonMaxSuppression;
  m["RoiAlign"] = kRoiAlign;
}

} // namespace onnxopt::ref
