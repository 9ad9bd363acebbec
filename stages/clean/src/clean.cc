#include "acervo/stages/clean/clean.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/stages/imageops/imageops.h"

namespace acervo {
namespace {

// `image` reduced 8x by area averaging (sizes rounded down), in three
// halvings: OpenCV's 2x INTER_AREA path is ~30x faster than its general one,
// which an 8x reduction of a size that is not a multiple of 8 takes.
cv::Mat Reduce8(const cv::Mat& image) {
  cv::Mat small = image;
  for (int i = 0; i < 3; ++i) {
    if (small.cols < 2 || small.rows < 2) break;
    cv::Mat half;
    cv::resize(small, half, cv::Size(small.cols / 2, small.rows / 2), 0, 0, cv::INTER_AREA);
    small = half;
  }
  return small;
}

// Local paper brightness of each channel at 1/8 scale (see clean.h), from
// the image's 1/8 reduction.
cv::Mat PaperBackgroundFromReduced(cv::Mat small) {
  cv::dilate(small, small, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(7, 7)));
  cv::blur(small, small, cv::Size(5, 5));
  return cv::max(small, cv::Scalar::all(1));
}

cv::Mat PaperBackgroundSmall(const cv::Mat& image) {
  return PaperBackgroundFromReduced(Reduce8(image));
}

// Fixed point of the gain 255 / background: 10 fractional bits, so gains up
// to 32 (background >= 8) are exact to 1/1024 (a quarter of a level on
// white); darker "paper" is not paper, and any gain above 32 saturates all
// but its darkest pixels anyway.
constexpr int kGainBits = 10;
constexpr float kGainOne = 1 << kGainBits;

// out = min(255, round(in * gain)), gain = g0 + fy * (g1 - g0) in
// kGainBits fixed point, fy = w / 65536 (w < 32768). In 16-bit lanes:
// g0 + 2 * mulhi(g1 - g0, w), then mulhi(in << 7, gain) = in * gain / 512,
// halved with rounding. The vector and scalar forms give the same bytes.
void ApplyGainRow(const uint8_t* in, const int16_t* g0, const int16_t* g1, int16_t w, uint8_t* out,
                  int n) {
  int j = 0;
#if CV_SIMD128
  const cv::v_int16x8 vw = cv::v_setall_s16(w);
  const cv::v_uint16x8 one = cv::v_setall_u16(1);
  for (; j + 16 <= n; j += 16) {
    cv::v_uint16x8 p0, p1;
    cv::v_expand(cv::v_load(in + j), p0, p1);
    const cv::v_int16x8 a0 = cv::v_load(g0 + j), a1 = cv::v_load(g0 + j + 8);
    const cv::v_int16x8 d0 = cv::v_mul_hi(cv::v_load(g1 + j) - a0, vw);
    const cv::v_int16x8 d1 = cv::v_mul_hi(cv::v_load(g1 + j + 8) - a1, vw);
    const cv::v_uint16x8 gain0 = cv::v_reinterpret_as_u16(a0 + d0 + d0);
    const cv::v_uint16x8 gain1 = cv::v_reinterpret_as_u16(a1 + d1 + d1);
    const cv::v_uint16x8 q0 = (cv::v_mul_hi(p0 << 7, gain0) + one) >> 1;
    const cv::v_uint16x8 q1 = (cv::v_mul_hi(p1 << 7, gain1) + one) >> 1;
    // q <= 16320: saturating signed-to-unsigned pack clamps to 255.
    cv::v_store(out + j, cv::v_pack_u(cv::v_reinterpret_as_s16(q0), cv::v_reinterpret_as_s16(q1)));
  }
#endif
  for (; j < n; ++j) {
    const int d = ((g1[j] - g0[j]) * w) >> 16;
    const unsigned gain = static_cast<unsigned>(g0[j] + 2 * d);
    const unsigned q = (((static_cast<unsigned>(in[j]) << 7) * gain >> 16) + 1) >> 1;
    out[j] = static_cast<uint8_t>(std::min(255u, q));
  }
}

// Paper whose background estimate varies by at most this fraction of its
// median (2nd to 98th percentile over the page's interior, every channel)
// is evenly lit: normalising it is only a change of overall level.
constexpr double kEvenPaperSpread = 0.10;

bool EvenlyLit(const cv::Mat& bg) {
  const cv::Rect interior(bg.cols / 20, bg.rows / 20, bg.cols - bg.cols / 10, bg.rows - bg.rows / 10);
  if (interior.width < 4 || interior.height < 4) return false;
  std::vector<cv::Mat> channels;
  cv::split(bg(interior), channels);
  for (const cv::Mat& c : channels) {
    int hist[256] = {0};
    for (int y = 0; y < c.rows; ++y) {
      const uint8_t* row = c.ptr<uint8_t>(y);
      for (int x = 0; x < c.cols; ++x) ++hist[row[x]];
    }
    const double n = static_cast<double>(c.total());
    auto percentile = [&](double q) {
      double seen = 0;
      for (int v = 0; v < 256; ++v) {
        seen += hist[v];
        if (seen >= q * n) return v;
      }
      return 255;
    };
    const int p2 = percentile(0.02), p50 = percentile(0.5), p98 = percentile(0.98);
    if (p50 == 0 || p98 - p2 > kEvenPaperSpread * p50) return false;
  }
  return true;
}

// NormalizeBackground given the paper background at 1/8 scale.
cv::Mat NormalizeWithBackground(const cv::Mat& image, const cv::Mat& bg) {
  const int ch = image.channels(), row_len = image.cols * ch;
  // The gain, not the background, is interpolated (its reciprocal would
  // need a division per pixel): first across, at 1/8 height, by
  // cv::resize's linear mapping; then down each output row as it is made.
  // The two differ by a fraction of a level on the blurred background.
  cv::Mat gain_small;
  bg.convertTo(gain_small, CV_32F);
  cv::divide(255.0 * kGainOne, gain_small, gain_small);
  cv::Mat gain_across;
  cv::resize(gain_small, gain_across, cv::Size(image.cols, bg.rows), 0, 0, cv::INTER_LINEAR);
  cv::Mat gains;  // saturates at the largest gain (32)
  gain_across.convertTo(gains, CV_16S);
  cv::Mat out(image.size(), image.type());
  for (int y = 0; y < image.rows; ++y) {
    const LinearRow src = LinearSourceRow(y, image.rows, bg.rows);
    const int16_t w = static_cast<int16_t>(std::min(32767L, std::lround(src.fy * 32768)));
    ApplyGainRow(image.ptr<uint8_t>(y), gains.ptr<int16_t>(src.y0), gains.ptr<int16_t>(src.y1), w,
                 out.ptr<uint8_t>(y), row_len);
  }
  return out;
}

}  // namespace

Status ValidateCleanOptions(const CleanOptions& o) {
  if (!(o.max_speck_mm > 0 && o.max_speck_mm <= 3))
    return Status::InvalidArgument("clean: max_speck_mm must be in (0, 3], got " +
                                   std::to_string(o.max_speck_mm));
  if (!(o.isolation_mm > 0 && o.isolation_mm <= 10))
    return Status::InvalidArgument("clean: isolation_mm must be in (0, 10], got " +
                                   std::to_string(o.isolation_mm));
  if (!(o.ink_fraction > 0 && o.ink_fraction < 1))
    return Status::InvalidArgument("clean: ink_fraction must be in (0, 1), got " +
                                   std::to_string(o.ink_fraction));
  return Status::OK();
}

cv::Mat NormalizeBackground(const cv::Mat& image) {
  if (image.empty()) return image;
  // All channels at once (the filters work per channel): no split/merge.
  // One pass over the full-size image, in 16-bit lanes: enlarging the
  // background and dividing by it (cv::resize, cv::divide) were two passes,
  // the division in float, and a page-sized buffer in between.
  return NormalizeWithBackground(image, PaperBackgroundSmall(image));
}

Result<std::vector<cv::Rect>> FindSpecks(const cv::Mat& image, const CleanOptions& options,
                                         double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateCleanOptions(options));
  if (image.empty()) return Status::InvalidArgument("clean: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("clean: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;
  cv::Mat gray = image;
  if (image.channels() != 1) {
    cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }
  // Pages of 200 dpi and more are analysed at half resolution (4x fewer
  // pixels to label): a 0.15 mm speck is still a pixel there, only lighter,
  // which the looser ink limit allows for. Boxes are scaled back.
  const int down = dpi >= 200 && std::min(gray.cols, gray.rows) >= 400 ? 2 : 1;
  double ink_fraction = options.ink_fraction;
  if (down > 1) {
    cv::resize(gray, gray, cv::Size(gray.cols / down, gray.rows / down), 0, 0, cv::INTER_AREA);
    ink_fraction = 1 - 0.6 * (1 - options.ink_fraction);
  }
  const double px_per_mm = dpi / down / 25.4;
  // Ink against the local paper (works on normalised and raw pages alike).
  cv::Mat bg_small = PaperBackgroundSmall(gray);
  cv::Mat bg;
  cv::resize(bg_small, bg, gray.size(), 0, 0, cv::INTER_NEAREST);
  cv::Mat limit;
  bg.convertTo(limit, CV_8U, ink_fraction);
  cv::Mat ink = gray < limit;

  cv::Mat labels, stats, centroids;
  const int n = LabelComponentsWithStats(ink, labels, stats, centroids);
  const int max_side = std::max(1, static_cast<int>(std::lround(options.max_speck_mm * px_per_mm)));
  // Everything that is not speck-sized is text (or a picture): the specks
  // near it are kept. The test runs at 1/4 of full scale, where a dilation by the
  // isolation distance is cheap.
  const int grid_down = 4 / down;  // 1/4 of the full resolution
  cv::Mat big = cv::Mat::zeros((ink.rows + grid_down - 1) / grid_down, (ink.cols + grid_down - 1) / grid_down,
                               CV_8U);
  std::vector<int> small_ids;
  for (int i = 1; i < n; ++i) {
    const int x = stats.at<int>(i, cv::CC_STAT_LEFT), y = stats.at<int>(i, cv::CC_STAT_TOP);
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    if (std::max(w, h) <= max_side) {
      small_ids.push_back(i);
    } else {
      cv::rectangle(big, cv::Rect(x / grid_down, y / grid_down, (w + grid_down - 1) / grid_down + 1,
                                  (h + grid_down - 1) / grid_down + 1),
                    cv::Scalar(255), cv::FILLED);
    }
  }
  // Boxes are coarse stand-ins for the letters; a letter's box reaches at
  // least as far as its ink, so the test keeps a little more than needed.
  const int reach = std::max(1, static_cast<int>(std::lround(options.isolation_mm * px_per_mm / grid_down)));
  cv::dilate(big, big, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * reach + 1, 2 * reach + 1)));
  // Two specks within the isolation distance of each other (a colon, an
  // ellipsis, dotted leaders) are punctuation, not dust.
  cv::Mat smalls = cv::Mat::zeros(big.size(), CV_16U);
  for (int i : small_ids) {
    const int cx = static_cast<int>(centroids.at<double>(i, 0)) / grid_down;
    const int cy = static_cast<int>(centroids.at<double>(i, 1)) / grid_down;
    uint16_t& v = smalls.at<uint16_t>(std::min(cy, smalls.rows - 1), std::min(cx, smalls.cols - 1));
    v = static_cast<uint16_t>(std::min(65535, v + 1));
  }
  cv::Mat crowd;
  cv::boxFilter(smalls, crowd, CV_32F, cv::Size(2 * reach + 1, 2 * reach + 1), cv::Point(-1, -1),
                false);
  std::vector<cv::Rect> specks;
  for (int i : small_ids) {
    const int cx = std::min(static_cast<int>(centroids.at<double>(i, 0)) / grid_down, big.cols - 1);
    const int cy = std::min(static_cast<int>(centroids.at<double>(i, 1)) / grid_down, big.rows - 1);
    if (big.at<uint8_t>(cy, cx) != 0) continue;
    if (crowd.at<float>(cy, cx) > 1.5f) continue;
    specks.emplace_back(stats.at<int>(i, cv::CC_STAT_LEFT) * down - (down - 1),
                        stats.at<int>(i, cv::CC_STAT_TOP) * down - (down - 1),
                        (stats.at<int>(i, cv::CC_STAT_WIDTH) + 1) * down,
                        (stats.at<int>(i, cv::CC_STAT_HEIGHT) + 1) * down);
  }
  return specks;
}

void EraseSpecks(cv::Mat& image, const std::vector<cv::Rect>& specks, const cv::Scalar& paper) {
  const cv::Rect all(0, 0, image.cols, image.rows);
  for (const cv::Rect& s : specks) {
    // One pixel of slack: the soft rim of the speck.
    cv::Rect r = cv::Rect(s.x - 1, s.y - 1, s.width + 2, s.height + 2) & all;
    image(r).setTo(paper);
  }
}

Result<std::unique_ptr<PageStage>> CleanStage::Create(const CleanOptions& options) {
  ACERVO_RETURN_IF_ERROR(ValidateCleanOptions(options));
  return std::unique_ptr<PageStage>(new CleanStage(options));
}

Result<Page> CleanStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("clean: cancelled");
  if (page.image.empty() || page.image.depth() != CV_8U)
    return Status::InvalidArgument("clean: image must be 8-bit");
  cv::Mat image = page.image;
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2BGR);
  cv::Scalar paper = cv::Scalar::all(255);
  // The 1/8 reduction serves both the brightness test and the background
  // (its mean is the page's, less the dropped partial blocks at the edge).
  const cv::Mat reduced = Reduce8(image);
  // Light text on a dark ground (slides, negatives) has no paper to divide
  // by: the max filter would take the text for paper.
  const bool light_on_dark = cv::mean(reduced)[0] < 110;
  if (options_.normalize_background && !light_on_dark) {
    const cv::Mat bg = PaperBackgroundFromReduced(reduced);
    // Evenly lit paper is normalised for the output only (white paper
    // compresses and binarises better); OCR reads the page as it was.
    // Tesseract's LSTM reacts to any change of level: on a 137-dpi gray
    // scan of even, slightly gray paper, normalising (or a plain 1.05 gain)
    // moved its CER from 5.5% to 6.0-6.2%, while on unevenly lit paper the
    // normalisation is what lets its global threshold work.
    if (EvenlyLit(bg)) page.ocr_image = image;
    image = NormalizeWithBackground(image, bg);
    // A colour page keeps its paper for the PDF: the whitened page serves
    // OCR and the text masks, the encoder multiplies the paper back in
    // (specks erased below become paper of the local tone).
    if (page.color_class == ColorClass::kColor && image.channels() == 3 && !options_.whiten_color) {
      page.paper_tone = bg;
    }
  } else {
    image = image.clone();
    paper = cv::Scalar::all(std::max(0.0, cv::mean(image)[0]));
  }
  if (options_.despeckle && !light_on_dark) {
    ACERVO_ASSIGN_OR_RETURN(std::vector<cv::Rect> specks, FindSpecks(image, options_, page.dpi_x));
    EraseSpecks(image, specks, paper);
  }
  page.image = image;
  return page;
}

}  // namespace acervo
