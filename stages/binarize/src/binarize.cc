#include "acervo/stages/binarize/binarize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace acervo {

Status ValidateBinarizeOptions(const BinarizeOptions& o) {
  if (!(o.window_mm >= 0.5 && o.window_mm <= 20))
    return Status::InvalidArgument("binarize: window_mm must be in [0.5, 20], got " +
                                   std::to_string(o.window_mm));
  if (!(o.k >= 0.01 && o.k <= 1))
    return Status::InvalidArgument("binarize: k must be in [0.01, 1], got " + std::to_string(o.k));
  if (!(o.r >= 1 && o.r <= 255))
    return Status::InvalidArgument("binarize: r must be in [1, 255], got " + std::to_string(o.r));
  return Status::OK();
}

namespace {

// Sauvola's threshold T = m * (1 + k * (s / R - 1)) of every pixel of
// `small`, over a win x win window (odd win, replicated border), as 8 bits.
// One pass with running column sums: no full-size temporaries, which on one
// core cost more than the arithmetic (page faults of fresh buffers).
cv::Mat SauvolaThreshold(const cv::Mat& small, int win, double k, double r) {
  const int w = small.cols, h = small.rows, rad = win / 2;
  // Column sums over the window rows: int32 is enough (win <= ~480 at
  // 1200 dpi: 480 * 65025 < 2^31).
  std::vector<int32_t> col(w, 0), col_sq(w, 0);
  auto add_row = [&](int y, int sign) {
    const uint8_t* p = small.ptr<uint8_t>(std::clamp(y, 0, h - 1));
    for (int x = 0; x < w; ++x) {
      const int32_t v = p[x];
      col[x] += sign * v;
      col_sq[x] += sign * v * v;
    }
  };
  for (int y = -rad; y <= rad; ++y) add_row(y, 1);
  // Prefix sums along the row, the border replicated rad columns out.
  std::vector<int64_t> pre(static_cast<size_t>(w) + 2 * rad + 1);
  std::vector<double> pre_sq(pre.size());
  cv::Mat t(small.size(), CV_8U);
  const double inv_n = 1.0 / (static_cast<double>(win) * win);
  for (int y = 0; y < h; ++y) {
    pre[0] = 0;
    pre_sq[0] = 0;
    for (int i = 0; i < w + 2 * rad; ++i) {
      const int x = std::clamp(i - rad, 0, w - 1);
      pre[i + 1] = pre[i] + col[x];
      pre_sq[i + 1] = pre_sq[i] + col_sq[x];
    }
    uint8_t* out = t.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const double m = static_cast<double>(pre[x + win] - pre[x]) * inv_n;
      const double var = (pre_sq[x + win] - pre_sq[x]) * inv_n - m * m;
      const double sd = std::sqrt(std::max(var, 0.0));
      out[x] = cv::saturate_cast<uint8_t>(m * (1.0 + k * (sd / r - 1.0)));
    }
    add_row(y + rad + 1, 1);
    add_row(y - rad, -1);
  }
  return t;
}

// out = 255 where gray > threshold, else 0, the threshold being `t` (half
// the size of `gray`, rounded down) enlarged 2x by bilinear interpolation,
// fused into one pass: the enlarged surface is never stored.
void CompareHalfResThreshold(const cv::Mat& gray, const cv::Mat& t, cv::Mat& out) {
  const int w = gray.cols, h = gray.rows, sw = t.cols, sh = t.rows;
  out.create(gray.size(), CV_8U);
  // Vertical blend of two threshold rows, x4 (weights 3:1).
  std::vector<uint16_t> v(static_cast<size_t>(sw) + 2);
  std::vector<uint8_t> thr(w);
  for (int y = 0; y < h; ++y) {
    // Source position of row y: y / 2 - 0.25, i.e. row i = y / 2 weighted
    // 3/4 and its neighbour above (even y) or below (odd y) 1/4.
    const int i = std::min(y / 2, sh - 1);
    const int j = std::clamp(y % 2 == 0 ? i - 1 : i + 1, 0, sh - 1);
    const uint8_t* a = t.ptr<uint8_t>(i);
    const uint8_t* b = t.ptr<uint8_t>(j);
    uint16_t* vv = v.data() + 1;
    for (int x = 0; x < sw; ++x) vv[x] = static_cast<uint16_t>(3 * a[x] + b[x]);
    vv[-1] = vv[0];
    vv[sw] = vv[sw - 1];
    // Same along the row: x16 in total, rounded.
    const int pairs = std::min(sw, w / 2);
    for (int x = 0; x < pairs; ++x) {
      thr[2 * x] = static_cast<uint8_t>((3 * vv[x] + vv[x - 1] + 8) >> 4);
      thr[2 * x + 1] = static_cast<uint8_t>((3 * vv[x] + vv[x + 1] + 8) >> 4);
    }
    for (int x = 2 * pairs; x < w; ++x) thr[x] = static_cast<uint8_t>((vv[sw - 1] * 4 + 8) >> 4);
    const uint8_t* g = gray.ptr<uint8_t>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) o[x] = g[x] > thr[x] ? 255 : 0;
  }
}

}  // namespace

Result<cv::Mat> Binarize(const cv::Mat& image, const BinarizeOptions& options, double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateBinarizeOptions(options));
  if (image.empty()) return Status::InvalidArgument("binarize: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("binarize: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;
  cv::Mat gray = image;
  if (image.channels() != 1) {
    cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }
  // Statistics at half resolution (see binarize.h); tiny images at full.
  const int down = std::min(gray.cols, gray.rows) >= 200 ? 2 : 1;
  cv::Mat small = gray;
  if (down > 1) {
    cv::resize(gray, small, cv::Size(gray.cols / down, gray.rows / down), 0, 0, cv::INTER_AREA);
  }
  const int win = std::max(3, static_cast<int>(std::lround(options.window_mm * dpi / 25.4 / down)) | 1);
  const cv::Mat t = SauvolaThreshold(small, win, options.k, options.r);
  cv::Mat out;
  if (down > 1) {
    CompareHalfResThreshold(gray, t, out);
  } else {
    cv::compare(gray, t, out, cv::CMP_GT);  // paper 255, ink 0
  }
  return out;
}

Result<std::unique_ptr<PageStage>> BinarizeStage::Create(const BinarizeOptions& options) {
  ACERVO_RETURN_IF_ERROR(ValidateBinarizeOptions(options));
  return std::unique_ptr<PageStage>(new BinarizeStage(options));
}

Result<Page> BinarizeStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("binarize: cancelled");
  if (page.blank) return page;
  if (options_.only_bw && page.color_class != ColorClass::kBw) return page;
  ACERVO_ASSIGN_OR_RETURN(page.image, Binarize(page.image, options_, page.dpi_x));
  return page;
}

}  // namespace acervo
