#include "acervo/stages/deskew/deskew.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

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

// Clears regions that are mostly ink: photographs, halftones, black bars.
// Text, even bold, stays below ~40% in a cell that size. Those regions have
// no line structure and would only dilute (or, for bars aligned with the scan
// rather than the text, bias) the projection profile.
void ClearSolidRegions(cv::Mat& binary) {
  cv::Mat density;
  cv::resize(binary, density, cv::Size((binary.cols + kCell - 1) / kCell,
                                       (binary.rows + kCell - 1) / kCell),
             0, 0, cv::INTER_AREA);
  cv::Mat solid = density > 0.45 * 255;
  if (cv::countNonZero(solid) == 0) return;
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
    cv::resize(image, small, cv::Size(), scale, scale, cv::INTER_AREA);
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
