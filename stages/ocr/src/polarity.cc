#include "polarity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "acervo/stages/imageops/imageops.h"

namespace acervo {
namespace {

// The page is looked at at about this resolution: a header band or a stamp
// is many pixels across there, a text line's strokes are not.
constexpr double kWorkDpi = 75;
// Side of the window (mm) in which a dark ground is mostly dark, and the
// least extent of what is left of it after that window: a band holding one
// line of 10-pt type is ~5 mm tall, a text line's bold strokes are a few
// tenths of a millimetre apart.
constexpr double kWindowMm = 2.0;
// Share of a window's pixels that are dark on a dark ground (light letters
// take the rest); dense bold text at kWorkDpi stays well under it.
constexpr double kDarkShare = 0.8;
// Inside a ground, the marks lighter than its median by this much (of the
// page's ink-to-paper contrast) are its letters; darker ones are dark text on
// a grey shading.
constexpr double kMarkContrast = 0.25;
// The lighter marks must be this share of the ground (not the few specks of
// a solid black box) and outweigh the darker ones.
constexpr double kMinLightShare = 0.005;
// They are letters: this many light marks shaped like glyphs, ~0.6 mm (the
// x-height of 6-pt type) to ~7.5 mm (a 30-pt capital) tall by the page's
// resolution, and they are this share of the light pixels. A photograph's
// light marks are patches of every size (0.22-0.23 of them glyph-shaped on
// two corpus pages); the ground of a cleaned page need not be flat (the
// clean stage's background normalisation lightens a band towards its ends).
constexpr int kMinGlyphs = 20;
constexpr double kMinGlyphShare = 0.25;
constexpr double kMinGlyphInch = 0.025;
constexpr double kMaxGlyphInch = 0.3;

// Whether the ground of `gray` inside `mask` holds light letters (above).
// `contrast`: the page's darkest to lightest.
bool HoldsLightMarks(const cv::Mat& gray, const cv::Mat& mask, double contrast, double dpi) {
  int hist[256] = {0};
  int total = 0;
  for (int y = 0; y < gray.rows; ++y) {
    const uint8_t* p = gray.ptr<uint8_t>(y);
    const uint8_t* m = mask.ptr<uint8_t>(y);
    for (int x = 0; x < gray.cols; ++x) {
      if (m[x]) ++hist[p[x]], ++total;
    }
  }
  if (total == 0) return false;
  int median = 0;
  for (int acc = 0; median < 255; ++median) {
    acc += hist[median];
    if (2 * acc >= total) break;
  }
  const int d = static_cast<int>(std::lround(kMarkContrast * contrast));
  int lighter = 0, darker = 0;
  for (int v = 0; v < 256; ++v) {
    if (v > median + d) lighter += hist[v];
    if (v < median - d) darker += hist[v];
  }
  if (lighter < kMinLightShare * total || lighter <= darker) return false;
  cv::Mat light = (gray > median + d) & mask;
  cv::Mat labels, stats, centroids;
  const int n = LabelComponentsWithStats(light, labels, stats, centroids);
  int glyphs = 0;
  int64_t glyph_px = 0, light_px = 0;
  for (int i = 1; i < n; ++i) {
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    light_px += area;
    if (h >= kMinGlyphInch * dpi && h <= kMaxGlyphInch * dpi && w <= 3 * h && area >= 0.1 * w * h) {
      ++glyphs;
      glyph_px += area;
    }
  }
  return glyphs >= kMinGlyphs && glyph_px >= kMinGlyphShare * light_px;
}

}  // namespace

bool MayHoldLightOnDark(const cv::Mat& img, double dpi) {
  if (img.empty() || (img.type() != CV_8UC1 && img.type() != CV_8UC3)) return false;
  if (!(dpi >= 50 && dpi <= 2400)) dpi = 300;  // sizes only
  // Gray of the reduced page, and of each candidate ground at full size
  // (below): no page-sized gray copy of a colour page (70 MB on A3 at 600
  // dpi) for a test every page takes.
  const auto to_gray = [](const cv::Mat& m) {
    if (m.channels() == 1) return m;
    cv::Mat g;
    cv::cvtColor(m, g, cv::COLOR_BGR2GRAY);
    return g;
  };
  const double scale = std::min(1.0, kWorkDpi / dpi);
  const double work_dpi = dpi * scale;
  const int k = std::max(3, static_cast<int>(std::lround(kWindowMm / 25.4 * work_dpi)) | 1);
  cv::Mat small = to_gray(scale < 1 ? ReduceByArea(img, scale) : img);
  if (small.cols < 2 * k || small.rows < 2 * k) return false;
  double lo = 0, hi = 0;
  cv::minMaxLoc(small, &lo, &hi);
  if (hi - lo < 64) return false;  // no ink to speak of
  cv::Mat dark;
  cv::threshold(small, dark, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);

  // Where windows of k x k are mostly dark; of those areas, the ones at
  // least k across both ways (a window's worth of ground left inside).
  cv::Mat share;
  cv::boxFilter(dark, share, CV_32F, cv::Size(k, k), cv::Point(-1, -1), true, cv::BORDER_REPLICATE);
  cv::Mat seed = share > kDarkShare * 255;
  share.release();
  cv::Mat labels, stats, centroids;
  const int n = LabelComponentsWithStats(seed, labels, stats, centroids);
  std::vector<uint8_t> keep(n, 0);
  bool any = false;
  for (int i = 1; i < n; ++i) {
    if (stats.at<int>(i, cv::CC_STAT_WIDTH) >= k && stats.at<int>(i, cv::CC_STAT_HEIGHT) >= k) {
      keep[i] = 255;
      any = true;
    }
  }
  if (!any) return false;
  cv::Mat kept(seed.size(), CV_8UC1);
  for (int y = 0; y < kept.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    uint8_t* d = kept.ptr<uint8_t>(y);
    for (int x = 0; x < kept.cols; ++x) d[x] = keep[l[x]];
  }
  // Each ground whole, its holes (its letters) filled; its marks looked at
  // in the page's own pixels (thin light strokes average away when reduced).
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(kept, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  for (size_t c = 0; c < contours.size(); ++c) {
    const cv::Rect inner = cv::boundingRect(contours[c]);
    cv::Mat filled = cv::Mat::zeros(inner.size(), CV_8UC1);
    cv::drawContours(filled, contours, static_cast<int>(c), cv::Scalar(255), cv::FILLED, cv::LINE_8,
                     cv::noArray(), 0, -inner.tl());
    const double f = 1.0 / scale;
    const int x1 = static_cast<int>(std::floor(inner.x * f)), y1 = static_cast<int>(std::floor(inner.y * f));
    const int x2 = std::min(img.cols, static_cast<int>(std::ceil((inner.x + inner.width) * f)));
    const int y2 = std::min(img.rows, static_cast<int>(std::ceil((inner.y + inner.height) * f)));
    if (x2 <= x1 || y2 <= y1) continue;
    const cv::Rect box(x1, y1, x2 - x1, y2 - y1);
    cv::Mat mask;
    cv::resize(filled, mask, box.size(), 0, 0, cv::INTER_NEAREST);
    if (HoldsLightMarks(to_gray(img(box)), mask, hi - lo, dpi)) return true;
  }
  return false;
}

}  // namespace acervo
