#include "acervo/stages/color/color.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "acervo/stages/imageops/imageops.h"

namespace acervo {
namespace {

// `image` reduced by `scale` (< 1) with area averaging, to the size
// cv::resize(image, out, cv::Size(), scale, scale, cv::INTER_AREA) gives.
// When that size is reached by halvings (a power-of-two scale), they are
// used: OpenCV's 2x INTER_AREA path is ~10x faster than its general one.
// Other scales take the general path in one step (halving first and then
// finishing with the general path would cost more than one general step).
// out[x * CH + c] = average of the N pixels' sums acc[(x * N + t) * CH + c]
// (mul = 65536 / (N * N)); constant N and CH let the compiler unroll.
template <int N, int CH>
void SumGroups(const uint16_t* acc, int ow, uint32_t mul, uint8_t* out) {
  for (int x = 0; x < ow; ++x) {
    const uint16_t* a = acc + x * N * CH;
    for (int c = 0; c < CH; ++c) {
      uint32_t sum = 0;
      for (int t = 0; t < N; ++t) sum += a[t * CH + c];
      out[x * CH + c] = static_cast<uint8_t>(std::min<uint32_t>(255, (sum * mul + 32768) >> 16));
    }
  }
}

// `image` (8-bit, any channels) reduced n times (2 <= n <= 16) by averaging
// n x n blocks; a last partial block column/row is dropped. OpenCV's
// INTER_AREA takes its general (slow) path for n = 3 at common page sizes;
// this is the same average at a third of its cost: rows summed with
// vectorisable adds, then n-pixel groups.
cv::Mat ReduceByInteger(const cv::Mat& image, int n) {
  const int ch = image.channels();
  const int ow = image.cols / n, oh = image.rows / n;
  cv::Mat out(std::max(1, oh), std::max(1, ow), image.type());
  if (ow == 0 || oh == 0) {
    cv::resize(image, out, out.size(), 0, 0, cv::INTER_AREA);
    return out;
  }
  const int len = ow * n * ch;
  std::vector<uint16_t> acc(len);  // n * n * 255 <= 65280
  // Division by n * n as a 16.16 multiply: off by at most one level.
  const uint32_t mul = static_cast<uint32_t>(std::lround(65536.0 / (n * n)));
  for (int y = 0; y < oh; ++y) {
    const uint8_t* first = image.ptr<uint8_t>(y * n);
    for (int i = 0; i < len; ++i) acc[i] = first[i];
    for (int k = 1; k < n; ++k) {
      const uint8_t* row = image.ptr<uint8_t>(y * n + k);
      for (int i = 0; i < len; ++i) acc[i] = static_cast<uint16_t>(acc[i] + row[i]);
    }
    uint8_t* o = out.ptr<uint8_t>(y);
    if (n == 3 && ch == 3) {
      SumGroups<3, 3>(acc.data(), ow, mul, o);
    } else if (n == 3 && ch == 1) {
      SumGroups<3, 1>(acc.data(), ow, mul, o);
    } else {
      for (int x = 0; x < ow; ++x) {
        const uint16_t* a = acc.data() + static_cast<size_t>(x) * n * ch;
        for (int c = 0; c < ch; ++c) {
          uint32_t sum = 0;
          for (int t = 0; t < n; ++t) sum += a[t * ch + c];
          o[x * ch + c] = static_cast<uint8_t>(std::min<uint32_t>(255, (sum * mul + 32768) >> 16));
        }
      }
    }
  }
  return out;
}

cv::Mat ReduceArea(const cv::Mat& image, double scale) {
  // A whole-number factor that is not a power of two (1/3 for 100 dpi
  // analysis of a 300 dpi page): block averages.
  const double inv = 1.0 / scale;
  const int n = static_cast<int>(std::lround(inv));
  if (std::abs(inv - n) < 1e-6 && n >= 3 && n <= 16 && (n & (n - 1)) != 0) {
    return ReduceByInteger(image, n);
  }
  return ReduceByArea(image, scale);
}

// Divides one 8-bit channel by its local paper brightness (a max filter over
// ~1.5 cm at 1/8 scale, then smoothed), so paper becomes 255 whatever its
// tint or lighting and ink keeps its contrast.
cv::Mat NormaliseToPaper(const cv::Mat& channel) {
  // 8x smaller in three halvings: OpenCV's 2x INTER_AREA path is far faster
  // than the general one a size not divisible by 8 would take.
  cv::Mat small = channel, bg;
  for (int i = 0; i < 3 && small.cols >= 2 && small.rows >= 2; ++i) {
    cv::Mat half;
    cv::resize(small, half, cv::Size(small.cols / 2, small.rows / 2), 0, 0, cv::INTER_AREA);
    small = half;
  }
  cv::dilate(small, small, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(7, 7)));
  cv::blur(small, small, cv::Size(5, 5));
  cv::resize(small, bg, channel.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat out;
  cv::divide(channel, cv::max(bg, 1), out, 255.0, CV_8U);
  return out;
}

}  // namespace

Status ValidateColorOptions(const ColorOptions& o) {
  if (!(o.work_dpi >= 50 && o.work_dpi <= 300))
    return Status::InvalidArgument("color: work_dpi must be in [50, 300], got " +
                                   std::to_string(o.work_dpi));
  if (!(o.min_chroma >= 5 && o.min_chroma <= 255))
    return Status::InvalidArgument("color: min_chroma must be in [5, 255], got " +
                                   std::to_string(o.min_chroma));
  if (!(o.min_color_area_mm2 > 0 && o.min_color_area_mm2 <= 10000))
    return Status::InvalidArgument("color: min_color_area_mm2 must be in (0, 10000], got " +
                                   std::to_string(o.min_color_area_mm2));
  if (!(o.min_gray_fraction > 0 && o.min_gray_fraction <= 1))
    return Status::InvalidArgument("color: min_gray_fraction must be in (0, 1], got " +
                                   std::to_string(o.min_gray_fraction));
  return Status::OK();
}

Result<ColorEstimate> ClassifyColor(const cv::Mat& image, const ColorOptions& options,
                                    double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateColorOptions(options));
  if (image.empty()) return Status::InvalidArgument("color: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("color: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;

  const double scale = std::min(1.0, options.work_dpi / dpi);
  cv::Mat small = image;
  if (scale < 0.999) small = ReduceArea(image, scale);
  const double px_per_mm = dpi * scale / 25.4;
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3));
  ColorEstimate est;

  cv::Mat gray;
  if (small.channels() == 1) {
    gray = small;
  } else {
    std::vector<cv::Mat> ch;
    cv::split(small, ch);
    ch.resize(3);  // drop alpha
    // A 3x3 mean after normalising: misregistration fringes come in
    // opposite pairs (red on one side of a stroke, cyan on the other) that
    // the mean cancels; a genuinely coloured stroke keeps its hue.
    for (cv::Mat& c : ch) {
      c = NormaliseToPaper(c);
      cv::blur(c, c, cv::Size(3, 3));
    }
    cv::Mat hi = cv::max(cv::max(ch[0], ch[1]), ch[2]);
    cv::Mat lo = cv::min(cv::min(ch[0], ch[1]), ch[2]);
    cv::Mat coloured = (hi - lo) > options.min_chroma;
    // Fringes around black text are 1-2 reduced pixels wide: erosion
    // removes them, a stamp stroke or a coloured area survives.
    cv::erode(coloured, coloured, kernel);
    est.color_area_mm2 = cv::countNonZero(coloured) / (px_per_mm * px_per_mm);
    if (est.color_area_mm2 >= options.min_color_area_mm2) {
      est.color_class = ColorClass::kColor;
      return est;
    }
    cv::cvtColor(small, gray, small.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }

  cv::Mat norm = NormaliseToPaper(gray);
  // Mid-tones: 25%..75% darker than the paper.
  cv::Mat mid = (norm > 64) & (norm < 191);
  cv::erode(mid, mid, kernel, cv::Point(-1, -1), 2);
  est.gray_fraction = cv::countNonZero(mid) / static_cast<double>(mid.total());
  est.color_class = est.gray_fraction >= options.min_gray_fraction ? ColorClass::kGray
                                                                   : ColorClass::kBw;
  return est;
}

Result<std::unique_ptr<PageStage>> ColorStage::Create(const ColorOptions& options) {
  ACERVO_RETURN_IF_ERROR(ValidateColorOptions(options));
  return std::unique_ptr<PageStage>(new ColorStage(options));
}

Result<Page> ColorStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("color: cancelled");
  ACERVO_ASSIGN_OR_RETURN(ColorEstimate est, ClassifyColor(page.image, options_, page.dpi_x));
  page.color_class = est.color_class;
  if (est.color_class != ColorClass::kColor && page.image.channels() != 1) {
    cv::Mat gray;
    cv::cvtColor(page.image, gray,
                 page.image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    page.image = gray;
  }
  return page;
}

}  // namespace acervo
