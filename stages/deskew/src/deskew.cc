#include "acervo/stages/deskew/deskew.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "acervo/stages/imageops/imageops.h"

namespace acervo {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Width, in reduced pixels, of the column strips whose dark pixels are merged
// into one weighted point. Merging cuts the point count ~3x; the position
// error it adds (at most half a strip times sin(angle)) blurs every angle's
// profile alike, so it does not move the peak.
constexpr int kStripWidth = 4;

// Dark pixels merged per (row, strip): the input to the projections.
struct InkPoints {
  std::vector<float> x;
  std::vector<float> y;
  std::vector<float> w;
  double total_weight = 0;
  float min_x = 0, max_x = 0, min_y = 0, max_y = 0;
};

cv::Mat ToGray(const cv::Mat& image) {
  if (image.channels() == 1) return image;
  cv::Mat gray;
  cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY
                                                  : cv::COLOR_BGR2GRAY);
  return gray;
}

// Size, in reduced pixels, of the cells in which ink density is measured to
// find pictures (~2.7 mm at 150 dpi).
constexpr int kCell = 16;

// True when some row of the 3x3 cells around a cell is (nearly) paper: at
// most a fifth of its pixels ink (descenders and ascenders crossing the
// gap between two text lines). Three cells wide, so the odd light row of a
// halftone (16 random pixels are mostly paper about once in a hundred rows)
// does not pass for a gap; a text line skewed 5 degrees drifts by 4 pixels
// across that width, still leaving its gap rows clear.
bool HasLineGap(const cv::Mat& binary, int cell_x, int cell_y) {
  const int x0 = std::max(0, (cell_x - 1) * kCell);
  const int x1 = std::min(binary.cols, (cell_x + 2) * kCell);
  const int y0 = std::max(0, (cell_y - 1) * kCell);
  const int y1 = std::min(binary.rows, (cell_y + 2) * kCell);
  const int max_ink = (x1 - x0) / 5;
  for (int y = y0; y < y1; ++y) {
    const uint8_t* row = binary.ptr<uint8_t>(y);
    int ink = 0;
    for (int x = x0; x < x1; ++x) ink += row[x] != 0;
    if (ink <= max_ink) return true;
  }
  return false;
}

// Ink/paper changes along the rows of a cell, per row. Strokes of type
// change at least once a row in a cell's width (blurred 8 pt at 150 dpi: 1
// to 3 times, its letters run together); the shapes of a photograph and
// black bars are wider than a cell (0 in 9 of 10 such cells, and the
// dilation below covers the others).
double TransitionsPerRow(const cv::Mat& binary, int cell_x, int cell_y) {
  const int x0 = cell_x * kCell, x1 = std::min(binary.cols, x0 + kCell);
  const int y0 = cell_y * kCell, y1 = std::min(binary.rows, y0 + kCell);
  int changes = 0;
  for (int y = y0; y < y1; ++y) {
    const uint8_t* row = binary.ptr<uint8_t>(y);
    for (int x = x0 + 1; x < x1; ++x) changes += (row[x] != 0) != (row[x - 1] != 0);
  }
  return static_cast<double>(changes) / std::max(1, y1 - y0);
}

// Dense text rather than a picture: strokes (ink/paper changes along the
// cell's rows) and paper between its lines. Blurred small type (8 pt at
// 150 dpi) fills its cells past the solid threshold, but keeps both; a
// photograph has wide shapes, a halftone or black bar ink in every row.
bool LooksLikeText(const cv::Mat& binary, int cell_x, int cell_y) {
  return TransitionsPerRow(binary, cell_x, cell_y) >= 1 && HasLineGap(binary, cell_x, cell_y);
}

// Clears regions that are mostly ink: photographs, halftones, black bars.
// Text, even bold, stays below ~40% in a cell that size, and denser blurred
// text is told from pictures by LooksLikeText. Those regions have
// no line structure and would only dilute (or, for bars aligned with the scan
// rather than the text, bias) the projection profile; clearing the lines of
// a dense text block instead left its ragged edges, whose false peak turned
// pages of 8-pt type at 150 dpi by -4.7 times their true skew.
void ClearSolidRegions(cv::Mat& binary) {
  // Padded to whole cells with paper, so the reduction is four halvings
  // (OpenCV's fast 2x path) instead of one general, slow, INTER_AREA.
  cv::Mat density;
  cv::copyMakeBorder(binary, density, 0, (kCell - binary.rows % kCell) % kCell, 0,
                     (kCell - binary.cols % kCell) % kCell, cv::BORDER_CONSTANT, cv::Scalar(0));
  for (int step = 1; step < kCell; step *= 2) {
    cv::Mat half;
    cv::resize(density, half, cv::Size(density.cols / 2, density.rows / 2), 0, 0, cv::INTER_AREA);
    density = half;
  }
  cv::Mat solid = density > 0.45 * 255;
  int solid_cells = 0;
  for (int cy = 0; cy < solid.rows; ++cy) {
    uint8_t* row = solid.ptr<uint8_t>(cy);
    for (int cx = 0; cx < solid.cols; ++cx) {
      if (row[cx] == 0) continue;
      if (LooksLikeText(binary, cx, cy)) {
        row[cx] = 0;
      } else {
        ++solid_cells;
      }
    }
  }
  if (solid_cells == 0) return;
  // One cell of slack: the edges of a picture are partly covered cells.
  cv::dilate(solid, solid, cv::Mat());
  cv::Mat mask;
  cv::resize(solid, mask, cv::Size(solid.cols * kCell, solid.rows * kCell), 0, 0,
             cv::INTER_NEAREST);
  binary.setTo(0, mask(cv::Rect(0, 0, binary.cols, binary.rows)));
}

// Gathers the ink of `ink` (0 = paper, 255 = full ink) inside the margins as
// one weighted point per (row, strip).
InkPoints CollectInk(const cv::Mat& ink, int margin_x, int margin_y) {
  InkPoints pts;
  const int x0 = margin_x, x1 = ink.cols - margin_x;
  const int y0 = margin_y, y1 = ink.rows - margin_y;
  pts.min_x = static_cast<float>(x0);
  pts.max_x = static_cast<float>(x1);
  pts.min_y = static_cast<float>(y0);
  pts.max_y = static_cast<float>(y1);
  for (int y = y0; y < y1; ++y) {
    const uint8_t* row = ink.ptr<uint8_t>(y);
    for (int xs = x0; xs < x1; xs += kStripWidth) {
      const int xe = std::min(xs + kStripWidth, x1);
      int sum = 0;
      for (int x = xs; x < xe; ++x) sum += row[x];
      if (sum == 0) continue;
      const float w = static_cast<float>(sum) / 255.f;
      pts.x.push_back(0.5f * static_cast<float>(xs + xe - 1));
      pts.y.push_back(static_cast<float>(y));
      pts.w.push_back(w);
      pts.total_weight += w;
    }
  }
  return pts;
}

// Sum of squares of the profile of the points projected on the axis
// perpendicular to lines tilted by `deg` (counter-clockwise as displayed).
// A line rising to the right satisfies y = y0 - x*tan(deg), so
// p = y*cos + x*sin is constant along it. Points are splatted linearly into
// two neighbouring bins so the score varies smoothly with the angle, which
// the final parabola fit needs.
class ProfileScorer {
 public:
  explicit ProfileScorer(const InkPoints& pts) : pts_(pts) {
    const double diag = std::hypot(pts.max_x, pts.max_y);
    bins_.assign(static_cast<size_t>(2 * diag + 4), 0.f);
    offset_ = static_cast<float>(diag + 1);
  }

  double Score(double deg) {
    std::fill(bins_.begin(), bins_.end(), 0.f);
    const float c = static_cast<float>(std::cos(deg * kPi / 180));
    const float s = static_cast<float>(std::sin(deg * kPi / 180));
    const size_t n = pts_.x.size();
    const float* xs = pts_.x.data();
    const float* ys = pts_.y.data();
    const float* ws = pts_.w.data();
    float* bins = bins_.data();
    for (size_t i = 0; i < n; ++i) {
      const float p = ys[i] * c + xs[i] * s + offset_;
      const int b = static_cast<int>(p);
      const float f = p - static_cast<float>(b);
      bins[b] += ws[i] * (1.f - f);
      bins[b + 1] += ws[i] * f;
    }
    double sum = 0;
    for (float v : bins_) sum += static_cast<double>(v) * v;
    return sum;
  }

 private:
  const InkPoints& pts_;
  std::vector<float> bins_;
  float offset_ = 0;
};

// Evaluates angles lo, lo+step, ..., hi; returns the best angle and fills
// `best_score`, `min_score` and the scores of its neighbours.
struct SearchResult {
  double angle = 0;
  double best = 0;
  double min = 0;
  double left = -1;   // score at angle - step (-1 when outside the range)
  double right = -1;  // score at angle + step
};

SearchResult Search(ProfileScorer& scorer, double lo, double hi, double step) {
  const int n = static_cast<int>(std::floor((hi - lo) / step + 1e-9)) + 1;
  std::vector<double> scores(n);
  for (int i = 0; i < n; ++i) scores[i] = scorer.Score(lo + i * step);
  const int best = static_cast<int>(
      std::max_element(scores.begin(), scores.end()) - scores.begin());
  SearchResult r;
  r.angle = lo + best * step;
  r.best = scores[best];
  r.min = *std::min_element(scores.begin(), scores.end());
  if (best > 0) r.left = scores[best - 1];
  if (best + 1 < n) r.right = scores[best + 1];
  return r;
}

// Largest |angle| turned by the two-pass path of RotateImage, degrees. Its
// intermediate row is squeezed by cos(angle) before pass 2 stretches it back
// (1.5% at 10 deg); beyond that cv::warpAffine is used.
constexpr double kTwoPassMaxDeg = 10;

// Bytes per step of the chunked blend (one SSE register).
constexpr int kBlendChunk = 16;

// A run of x in [begin, end) over which floor(t0 + slope * x) == k.
struct Run {
  int begin;
  int end;
  int k;
};

// Fixed point of LineRuns: 24 fractional bits (a position error below 1e-3
// pixel across 10000 pixels), weights are the top 8 of them.
constexpr int kFracBits = 24;

// Pixels per block of WriteWeights' multi-channel loop.
constexpr int kWeightBlock = 16;

// weights[x * CH + c] = bits 16..23 of u0 + step * x (mod 2^32) for every
// channel c, x in [0, n rounded up to kWeightBlock). Over a block of
// kWeightBlock pixels the bytes are base[j] + the block's offset, base
// fixed: a loop the compiler vectorises on plain SSE2, where replicating
// each pixel's weight into CH bytes one pixel at a time does not.
template <int CH>
void WriteWeights(uint32_t u0, uint32_t step, int n, uint8_t* w) {
  uint32_t base[kWeightBlock * CH];
  for (int j = 0; j < kWeightBlock * CH; ++j) base[j] = u0 + step * static_cast<uint32_t>(j / CH);
  const uint32_t block_step = step * kWeightBlock;
  uint32_t offset = 0;
  for (int x = 0; x < n; x += kWeightBlock, offset += block_step) {
    uint8_t* out = w + static_cast<size_t>(x) * CH;
    for (int j = 0; j < kWeightBlock * CH; ++j) out[j] = static_cast<uint8_t>((base[j] + offset) >> 16);
  }
}

void WriteWeightsAnyChannels(uint32_t u0, uint32_t step, int n, int ch, uint8_t* w) {
  uint32_t u = u0;
  for (int x = 0; x < n; ++x, u += step) {
    std::fill_n(w + static_cast<size_t>(x) * ch, ch, static_cast<uint8_t>(u >> 16));
  }
}

// Splits x in [0, n) into runs of constant floor(t0 + slope * x) and writes
// the 8-bit fraction of t at each x into weights[x * ch + c] for every
// channel c (so the blends below run over bytes). |slope| must be < 1.
// Run bounds and weights come from the same integers, so every weight is the
// fraction relative to its run's k.
void LineRuns(double t0, double slope, int n, int ch, std::vector<Run>& runs,
              std::vector<uint8_t>& weights) {
  runs.clear();
  // Spare bytes: WriteWeights fills whole blocks, and BlendChunks reads up
  // to a chunk past the end.
  const int blocks = (n + kWeightBlock - 1) / kWeightBlock;
  weights.resize(static_cast<size_t>(blocks) * kWeightBlock * ch + kBlendChunk);
  const int64_t one = int64_t{1} << kFracBits;
  const int64_t v0 = std::llround(t0 * static_cast<double>(one));
  const int64_t step = std::llround(slope * static_cast<double>(one));
  int x = 0;
  while (x < n) {
    const int64_t vx = v0 + step * x;
    const int64_t k = vx >> kFracBits;  // floor, also for negative vx
    int end = n;
    if (step > 0) {
      end = static_cast<int>(std::min<int64_t>(n, x + ((k + 1) * one - vx + step - 1) / step));
    } else if (step < 0) {
      // First x with vx + (x' - x) * step < k * one.
      end = static_cast<int>(std::min<int64_t>(n, x + (vx - k * one) / (-step) + 1));
    }
    runs.push_back({x, end, static_cast<int>(k)});
    x = end;
  }
  // The fraction relative to the run's k is the low kFracBits bits of
  // v0 + step * x, which uint32 arithmetic (wrapping) keeps exactly; the
  // weight is their top 8.
  static_assert(kFracBits == 24, "weights are bits 16..23");
  const uint32_t u0 = static_cast<uint32_t>(v0);
  const uint32_t s = static_cast<uint32_t>(step);  // wraps for step < 0
  switch (ch) {
    case 1: WriteWeights<1>(u0, s, n, weights.data()); break;
    case 3: WriteWeights<3>(u0, s, n, weights.data()); break;
    case 4: WriteWeights<4>(u0, s, n, weights.data()); break;
    default: WriteWeightsAnyChannels(u0, s, n, ch, weights.data()); break;
  }
}

// out[j] = a[j] * (1 - w[j]) + b[j] * w[j], w in 1/256ths, rounded. Written
// as plain byte loops so the compiler vectorises them.
void Blend(const uint8_t* a, const uint8_t* b, const uint8_t* w, uint8_t* out, int n) {
  for (int j = 0; j < n; ++j) {
    const unsigned wj = w[j];
    out[j] = static_cast<uint8_t>((a[j] * (256u - wj) + b[j] * wj + 128u) >> 8);
  }
}

// Blend over n rounded up to whole kBlendChunk-byte chunks: no scalar tail
// (runs are short, ~18 pixels at 3 degrees, so tails would be a third of
// the work). The caller guarantees the extra bytes are readable in a, b and
// w, and that writing them to `out` is harmless (a later run overwrites).
void BlendChunks(const uint8_t* a, const uint8_t* b, const uint8_t* w, uint8_t* out, int n) {
  for (int j = 0; j < n; j += kBlendChunk) {
    for (int i = j; i < j + kBlendChunk; ++i) {
      const unsigned wi = w[i];
      out[i] = static_cast<uint8_t>((a[i] * (256u - wi) + b[i] * wi + 128u) >> 8);
    }
  }
}

// Linear-interpolated rotation by |deg| <= kTwoPassMaxDeg, faster than
// cv::warpAffine on one core (BM_RotateImage vs BM_WarpAffineLinear). The affine map is split in two 1-D passes
// (Catmull & Smith, "3-D transformations of images in scanline order", 1980),
// exact for any affine map: pass 1 resamples each column vertically, pass 2
// each row horizontally. Output row y only needs intermediate row y, so
// both passes run row by row through one buffer. Along a row the source
// offset is constant over long runs (it changes every 1/tan(angle) pixels in
// pass 1, every 1/(1 - cos(angle)) in pass 2), so each run is a blend of two
// contiguous byte ranges. The result is a linear interpolation like
// bilinear's, not bit-identical to it: each column is interpolated at its
// own height (tan(angle) of a pixel from its neighbour's), and weights have
// 8 bits (warpAffine's 5); the two differ only on stroke edges, by a few
// levels on average (RotateImageTest.LinearTwoPassMatchesWarpAffine).
cv::Mat RotateTwoPass(const cv::Mat& image, const cv::Mat& forward, const cv::Scalar& fill) {
  cv::Mat inv;
  cv::invertAffineTransform(forward, inv);
  // dst (x, y) -> src (a x + b y + c, d x + e y + f).
  const double a = inv.at<double>(0, 0), b = inv.at<double>(0, 1), c = inv.at<double>(0, 2);
  const double d = inv.at<double>(1, 0), e = inv.at<double>(1, 1), f = inv.at<double>(1, 2);
  const int w = image.cols, h = image.rows, ch = image.channels();
  const int row_bytes = w * ch;
  cv::Mat out(image.size(), image.type());

  std::vector<uint8_t> fill_px(ch);
  for (int i = 0; i < ch; ++i) fill_px[i] = cv::saturate_cast<uint8_t>(fill[std::min(i, 3)]);
  // A row of the fill colour: the rows (and columns) just outside the image,
  // which pixels on the rim blend with, as BORDER_CONSTANT does.
  std::vector<uint8_t> fill_row(static_cast<size_t>(row_bytes) + 2 * ch + kBlendChunk);
  for (size_t i = 0; i < fill_row.size(); ++i) fill_row[i] = fill_px[i % ch];
  // Intermediate row, one fill pixel either side: I(u, y) at (u + 1) * ch.
  std::vector<uint8_t> mid(fill_row);
  std::vector<Run> runs;
  std::vector<uint8_t> weights;
  auto src_row = [&](int r) -> const uint8_t* {
    return r >= 0 && r < h ? image.ptr<uint8_t>(r) : fill_row.data();
  };

  for (int y = 0; y < h; ++y) {
    // Pass 1: I(u, y) = src(u, sy) with sy = (d / a) u + (e - d b / a) y + (f - d c / a).
    LineRuns((e - d * b / a) * y + (f - d * c / a), d / a, w, ch, runs, weights);
    uint8_t* m = mid.data() + ch;
    for (const Run& r : runs) {
      const int off = r.begin * ch, len = (r.end - r.begin) * ch;
      if (r.k < -1 || r.k > h - 1) {
        std::copy_n(fill_row.data() + off, len, m + off);
      } else {
        // The next output row takes this run from rows k + 1 and k + 2: ask
        // for row k + 2 now. A run is a short piece of a row far from the
        // last one read, which the hardware prefetcher does not foresee; on
        // a colour page the ~100 rows in use at once overflow L2.
        if (r.k + 2 < h) {
          const uint8_t* next = src_row(r.k + 2) + off;
          for (int i = 0; i < len; i += 64) __builtin_prefetch(next + i);
          __builtin_prefetch(next + len - 1);
        }
        // Chunked when the rounded-up length stays inside the source rows.
        if (off + len + kBlendChunk <= row_bytes) {
          BlendChunks(src_row(r.k) + off, src_row(r.k + 1) + off, weights.data() + off, m + off, len);
        } else {
          Blend(src_row(r.k) + off, src_row(r.k + 1) + off, weights.data() + off, m + off, len);
        }
      }
    }
    // Pass 2: O(x, y) = I(a x + b y + c, y) = I(x + t'(x), y) with
    // t'(x) = (a - 1) x + b y + c: the offset from x changes slowly.
    LineRuns(b * y + c, a - 1, w, ch, runs, weights);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (const Run& r : runs) {
      // u = x + k must lie in [-1, w - 1] for both taps to be in `mid`.
      const int lo = std::max(r.begin, -1 - r.k), hi = std::min(r.end, w - r.k);
      if (lo >= hi) {
        std::copy_n(fill_row.data(), (r.end - r.begin) * ch, o + r.begin * ch);
        continue;
      }
      const uint8_t* s0 = mid.data() + (lo + r.k + 1) * ch;
      // Blend first: its chunked form may write past hi, into bytes the
      // fills below (or later runs) then set. Chunked only when the
      // rounded-up write stays inside this output row.
      if ((hi + r.k + 1) * ch + kBlendChunk <= static_cast<int>(mid.size()) &&
          hi * ch + kBlendChunk <= row_bytes) {
        BlendChunks(s0, s0 + ch, weights.data() + lo * ch, o + lo * ch, (hi - lo) * ch);
      } else {
        Blend(s0, s0 + ch, weights.data() + lo * ch, o + lo * ch, (hi - lo) * ch);
      }
      if (lo > r.begin) std::copy_n(fill_row.data(), (lo - r.begin) * ch, o + r.begin * ch);
      if (hi < r.end) std::copy_n(fill_row.data(), (r.end - hi) * ch, o + hi * ch);
    }
  }
  return out;
}

}  // namespace

Status ValidateDeskewOptions(const DeskewOptions& o) {
  if (!(o.max_angle_deg > 0 && o.max_angle_deg <= 45))
    return Status::InvalidArgument("deskew: max_angle_deg must be in (0, 45], got " +
                                   std::to_string(o.max_angle_deg));
  if (!(o.coarse_step_deg > 0 && o.coarse_step_deg <= 2))
    return Status::InvalidArgument("deskew: coarse_step_deg must be in (0, 2], got " +
                                   std::to_string(o.coarse_step_deg));
  if (!(o.work_dpi >= 50 && o.work_dpi <= 300))
    return Status::InvalidArgument("deskew: work_dpi must be in [50, 300], got " +
                                   std::to_string(o.work_dpi));
  if (!(o.margin_fraction >= 0 && o.margin_fraction < 0.25))
    return Status::InvalidArgument("deskew: margin_fraction must be in [0, 0.25), got " +
                                   std::to_string(o.margin_fraction));
  if (!(o.min_confidence >= 0 && o.min_confidence <= 1))
    return Status::InvalidArgument("deskew: min_confidence must be in [0, 1], got " +
                                   std::to_string(o.min_confidence));
  if (!(o.min_ink_fraction >= 0 && o.min_ink_fraction < 1))
    return Status::InvalidArgument("deskew: min_ink_fraction must be in [0, 1), got " +
                                   std::to_string(o.min_ink_fraction));
  if (!(o.big_skew_deg >= 0))
    return Status::InvalidArgument("deskew: big_skew_deg must be >= 0");
  if (!(o.min_correction_deg >= 0))
    return Status::InvalidArgument("deskew: min_correction_deg must be >= 0");
  return Status::OK();
}

Result<SkewEstimate> DetectSkew(const cv::Mat& image, const DeskewOptions& options,
                                double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateDeskewOptions(options));
  if (image.empty()) return Status::InvalidArgument("deskew: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("deskew: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;

  // Reduce first, then convert: INTER_AREA on the colour image and one
  // cvtColor on a quarter of the pixels is cheaper than the other way round.
  const double scale = std::min(1.0, options.work_dpi / dpi);
  cv::Mat small;
  if (scale < 0.999) {
    small = ReduceByArea(image, scale);
  } else {
    small = image;
  }
  cv::Mat gray = ToGray(small);
  cv::Mat binary;
  cv::threshold(gray, binary, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  // Light text on a dark background (slides, negatives): the "ink" is then
  // most of the page; the text lines are the other class.
  if (cv::countNonZero(binary) > 0.5 * static_cast<double>(binary.total())) {
    cv::bitwise_not(binary, binary);
  }

  const int margin_x = static_cast<int>(binary.cols * options.margin_fraction);
  const int margin_y = static_cast<int>(binary.rows * options.margin_fraction);
  ClearSolidRegions(binary);
  InkPoints pts = CollectInk(binary, margin_x, margin_y);

  SkewEstimate est;
  const double area = static_cast<double>(binary.cols - 2 * margin_x) *
                      (binary.rows - 2 * margin_y);
  est.ink_fraction = area > 0 ? pts.total_weight / area : 0;
  // Otsu on an empty page splits the paper noise in two: half the pixels
  // "dark". Real text pages stay well below 40%.
  if (pts.x.size() < 50 || est.ink_fraction < options.min_ink_fraction ||
      est.ink_fraction > 0.4) {
    return est;
  }

  // The coarse search only has to land within a step of the peak, so it runs
  // at half the resolution, on ~4x fewer points; the refinement uses all.
  cv::Mat half;
  cv::resize(binary, half, cv::Size(binary.cols / 2, binary.rows / 2), 0, 0,
             cv::INTER_AREA);
  InkPoints coarse_pts = CollectInk(half, margin_x / 2, margin_y / 2);
  ProfileScorer coarse_scorer(coarse_pts);
  ProfileScorer scorer(pts);
  const double range = options.max_angle_deg;
  SearchResult coarse = Search(coarse_scorer, -range, range, options.coarse_step_deg);
  // A large angle found at half resolution is confirmed at full resolution
  // before the page is turned by it: small blurred type (8 pt at 150 dpi)
  // loses its line structure when halved, and a false peak far from the
  // true skew sent such a page into OCR turned 10 degrees, where not one
  // word was read. Large skews are rare, so the full search costs little.
  if (std::abs(coarse.angle) > options.big_skew_deg) {
    coarse = Search(scorer, -range, range, options.coarse_step_deg);
  }
  est.confidence = coarse.best > 0 ? 1.0 - coarse.min / coarse.best : 0;

  // Refine around the coarse peak in two rounds, each spanning one step of
  // the previous round on either side.
  double step = options.coarse_step_deg;
  SearchResult fine = coarse;
  for (double next : {0.1, 0.02}) {
    if (next >= step) continue;
    const double lo = std::max(-range, fine.angle - step);
    const double hi = std::min(range, fine.angle + step);
    fine = Search(scorer, lo, hi, next);
    step = next;
  }
  double angle = fine.angle;
  // Parabola through the best score and its neighbours: sub-step position of
  // the peak.
  if (fine.left >= 0 && fine.right >= 0) {
    const double denom = fine.left - 2 * fine.best + fine.right;
    if (denom < 0) {
      const double delta = 0.5 * (fine.left - fine.right) / denom;
      angle += std::clamp(delta, -0.5, 0.5) * step;
    }
  }
  est.angle_deg = angle;
  est.enough_text = est.confidence >= options.min_confidence;
  if (!est.enough_text) est.angle_deg = 0;
  return est;
}

cv::Mat RotateImage(const cv::Mat& image, double deg, RotateFill fill, bool cubic) {
  if (image.empty()) return image;
  cv::Scalar border = cv::Scalar::all(255);
  if (fill == RotateFill::kBackground) {
    // The median of the outermost rows and columns is the paper (or the
    // scanner lid) colour, so the new corners blend in.
    const int ch = image.channels();
    std::vector<std::vector<uint8_t>> samples(ch);
    auto take = [&](int y, int x) {
      const uint8_t* p = image.ptr<uint8_t>(y) + static_cast<size_t>(x) * ch;
      for (int c = 0; c < ch; ++c) samples[c].push_back(p[c]);
    };
    for (int x = 0; x < image.cols; ++x) {
      take(0, x);
      take(image.rows - 1, x);
    }
    for (int y = 0; y < image.rows; ++y) {
      take(y, 0);
      take(y, image.cols - 1);
    }
    for (int c = 0; c < ch && c < 4; ++c) {
      auto mid = samples[c].begin() + samples[c].size() / 2;
      std::nth_element(samples[c].begin(), mid, samples[c].end());
      border[c] = *mid;
    }
  }
  const cv::Point2f center(0.5f * (image.cols - 1), 0.5f * (image.rows - 1));
  // getRotationMatrix2D turns counter-clockwise as displayed for a positive
  // angle (y axis pointing down), which is our convention.
  cv::Mat m = cv::getRotationMatrix2D(center, deg, 1.0);
  if (!cubic && std::abs(deg) <= kTwoPassMaxDeg && image.depth() == CV_8U) {
    return RotateTwoPass(image, m, border);
  }
  cv::Mat out;
  cv::warpAffine(image, out, m, image.size(), cubic ? cv::INTER_CUBIC : cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, border);
  return out;
}

Result<std::unique_ptr<PageStage>> DeskewStage::Create(const DeskewOptions& options) {
  ACERVO_RETURN_IF_ERROR(ValidateDeskewOptions(options));
  return std::unique_ptr<PageStage>(new DeskewStage(options));
}

Result<Page> DeskewStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("deskew: cancelled");
  ACERVO_ASSIGN_OR_RETURN(SkewEstimate est, DetectSkew(page.image, options_, page.dpi_x));
  page.skew_deg = est.enough_text ? est.angle_deg : 0;
  if (!est.enough_text) return page;
  if (std::abs(est.angle_deg) > options_.big_skew_deg) page.AddFlag("big_skew");
  if (std::abs(est.angle_deg) >= options_.min_correction_deg) {
    page.image = RotateImage(page.image, -est.angle_deg, RotateFill::kBackground,
                             options_.cubic);
  }
  return page;
}

}  // namespace acervo
