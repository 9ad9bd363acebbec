#include "acervo/stages/orientation/fast_orientation.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "acervo/stages/deskew/deskew.h"

namespace acervo {
namespace {

// First reduction target; the character size is then measured and the
// reduction corrected once so that the median smaller side of the
// components (a letter's width, a word's height: touching glyphs merge into
// words on many scans) is ~kCharPx.
constexpr double kWorkDpi = 150;
constexpr double kCharPx = 9;
// Up to this skew the components are moved with the page instead of being
// found again on a levelled copy (sin 3 deg = 0.05).
constexpr double kMoveBoxesMaxSkewDeg = 3;

struct Comp {
  int x, y, w, h;
  float cx, cy;
};

// Ink (255) of `gray`: Otsu, inverted when most of the page comes out as ink
// (light text on a dark background).
cv::Mat InkOf(const cv::Mat& gray) {
  cv::Mat ink;
  cv::threshold(gray, ink, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  if (cv::countNonZero(ink) > 0.5 * static_cast<double>(ink.total())) cv::bitwise_not(ink, ink);
  return ink;
}

// Character-sized components of `ink`: not specks, not rules, not pictures.
std::vector<Comp> Components(const cv::Mat& ink) {
  cv::Mat labels, stats, centroids;
  // BBDT: the same components as OpenCV's default (Spaghetti) in ~40% less
  // time on single-threaded page-sized images (measured with
  // BM_FastOrientation, OpenCV 4.6).
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S,
                                                 cv::CCL_BBDT);
  const int max_side = std::max(8, std::min(ink.rows, ink.cols) / 8);
  std::vector<Comp> out;
  out.reserve(n);
  for (int i = 1; i < n; ++i) {
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    if (area < 6 || std::max(w, h) < 4 || std::max(w, h) > max_side) continue;
    if (area < 0.08 * w * h) continue;  // frames, table cells, long diagonals
    out.push_back({stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP), w, h,
                   static_cast<float>(centroids.at<double>(i, 0)),
                   static_cast<float>(centroids.at<double>(i, 1))});
  }
  return out;
}

// The median; for an even count the mean of the two middle values, so that
// a page and its 180-degree turn give mirror-image answers.
double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  auto mid = v.begin() + v.size() / 2;
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  const double upper = *mid;
  const double lower = *std::max_element(v.begin(), mid);
  return 0.5 * (lower + upper);
}

double MedianSize(const std::vector<Comp>& comps) {
  std::vector<double> sizes;
  sizes.reserve(comps.size());
  for (const Comp& c : comps) sizes.push_back(std::max(c.w, c.h));
  return Median(std::move(sizes));
}

// Median of the smaller side: the stroke-independent size of a character
// that letters merged into words (touching glyphs) do not inflate.
double MedianThickness(const std::vector<Comp>& comps) {
  std::vector<double> sizes;
  sizes.reserve(comps.size());
  for (const Comp& c : comps) sizes.push_back(std::min(c.w, c.h));
  return Median(std::move(sizes));
}

// Buckets component indices by centroid in square cells of `cell` pixels.
class Grid {
 public:
  Grid(const std::vector<Comp>& comps, double cell, cv::Size size)
      : cell_(std::max(1.0, cell)),
        cols_(static_cast<int>(size.width / cell_) + 1),
        rows_(static_cast<int>(size.height / cell_) + 1),
        buckets_(static_cast<size_t>(cols_) * rows_) {
    for (size_t i = 0; i < comps.size(); ++i) {
      buckets_[Index(comps[i].cx, comps[i].cy)].push_back(static_cast<int>(i));
    }
  }
  // Calls f(index) for every component in cells overlapping the box
  // [cx - rx, cx + rx] x [cy - ry, cy + ry].
  template <typename F>
  void ForEach(float cx, float cy, double rx, double ry, F f) const {
    const int c0 = std::max(0, static_cast<int>((cx - rx) / cell_));
    const int c1 = std::min(cols_ - 1, static_cast<int>((cx + rx) / cell_));
    const int r0 = std::max(0, static_cast<int>((cy - ry) / cell_));
    const int r1 = std::min(rows_ - 1, static_cast<int>((cy + ry) / cell_));
    for (int r = r0; r <= r1; ++r) {
      for (int c = c0; c <= c1; ++c) {
        for (int i : buckets_[static_cast<size_t>(r) * cols_ + c]) f(i);
      }
    }
  }

 private:
  size_t Index(float x, float y) const {
    const int c = std::clamp(static_cast<int>(x / cell_), 0, cols_ - 1);
    const int r = std::clamp(static_cast<int>(y / cell_), 0, rows_ - 1);
    return static_cast<size_t>(r) * cols_ + c;
  }
  double cell_;
  int cols_, rows_;
  std::vector<std::vector<int>> buckets_;
};

// Nearest-neighbour direction votes of letter-sized components.
void AxisVotes(const std::vector<Comp>& comps, double size, cv::Size image_size,
               int* horizontal, int* vertical) {
  std::vector<Comp> letters;
  for (const Comp& c : comps) {
    const int s = std::max(c.w, c.h);
    if (s >= 0.5 * size && s <= 2.5 * size) letters.push_back(c);
  }
  const double reach = 2.5 * size;
  Grid grid(letters, reach, image_size);
  for (const Comp& c : letters) {
    double best = reach * reach;
    float bdx = 0, bdy = 0;
    grid.ForEach(c.cx, c.cy, reach, reach, [&](int j) {
      const float dx = letters[j].cx - c.cx, dy = letters[j].cy - c.cy;
      const double d = static_cast<double>(dx) * dx + static_cast<double>(dy) * dy;
      if (d > 0 && d < best) {
        best = d;
        bdx = std::abs(dx);
        bdy = std::abs(dy);
      }
    });
    if (bdx == 0 && bdy == 0) continue;  // isolated
    if (bdx >= 2 * bdy) ++*horizontal;
    else if (bdy >= 2 * bdx) ++*vertical;
  }
}

// Ascender and descender counts of a page whose lines are horizontal.
void UpDownVotes(const std::vector<Comp>& comps, cv::Size image_size, int* asc, int* desc) {
  std::vector<double> heights;
  for (const Comp& c : comps) heights.push_back(c.h);
  const double s = Median(heights);
  if (s < 4) return;
  std::vector<Comp> letters;
  for (const Comp& c : comps) {
    if (c.h >= 0.35 * s && c.h <= 2.2 * s && c.w <= 3 * s) letters.push_back(c);
  }
  const double rx = 6 * s, ry = 0.5 * s;
  Grid grid(letters, 2 * s, image_size);
  std::vector<double> tops, bottoms;
  for (const Comp& c : letters) {
    tops.clear();
    bottoms.clear();
    grid.ForEach(c.cx, c.cy, rx, ry, [&](int j) {
      const Comp& o = letters[j];
      if (std::abs(o.cx - c.cx) <= rx && std::abs(o.cy - c.cy) <= ry) {
        tops.push_back(o.y);
        bottoms.push_back(o.y + o.h);
      }
    });
    if (tops.size() < 6) continue;
    const double xline = Median(tops), base = Median(bottoms);
    const double xh = base - xline;
    if (xh < 0.3 * s) continue;
    // Only single letters vote: touching glyphs merged into a word say
    // whether the word has an ascender or a descender, and a text like
    // "page left page" would then outvote the letter statistics.
    if (c.w > 1.3 * xh) continue;
    const double tol = 0.25 * xh, ext = 0.3 * xh;
    const double top = c.y, bottom = c.y + c.h;
    if (top < xline - ext && std::abs(bottom - base) <= tol) ++*asc;
    else if (bottom > base + ext && std::abs(top - xline) <= tol) ++*desc;
  }
}

}  // namespace

Status ValidateFastOrientationOptions(const FastOrientationOptions& o) {
  if (o.min_axis_votes < 1 || o.min_updown_votes < 1)
    return Status::InvalidArgument("orientation: vote minimums must be >= 1");
  if (!(o.min_axis_margin > 0 && o.min_axis_margin <= 1))
    return Status::InvalidArgument("orientation: min_axis_margin must be in (0, 1], got " +
                                   std::to_string(o.min_axis_margin));
  if (!(o.min_lean_margin > 0 && o.min_lean_margin <= 1) || o.min_lean_votes < 1)
    return Status::InvalidArgument("orientation: min_lean_margin must be in (0, 1] and min_lean_votes >= 1");
  if (!(o.min_updown_margin > 0 && o.min_updown_margin <= 1))
    return Status::InvalidArgument("orientation: min_updown_margin must be in (0, 1], got " +
                                   std::to_string(o.min_updown_margin));
  return Status::OK();
}

Result<FastOrientation> DetectOrientationFast(const cv::Mat& image,
                                              const FastOrientationOptions& options,
                                              double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateFastOrientationOptions(options));
  if (image.empty()) return Status::InvalidArgument("orientation: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("orientation: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;
  FastOrientation est;
  if (image.cols < 32 || image.rows < 32) return est;

  cv::Mat gray = image;
  if (image.channels() != 1) {
    cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }
  double scale = std::min(1.0, kWorkDpi / dpi);
  cv::Mat ink;
  std::vector<Comp> comps;
  double size = 0;
  // Two passes at most: the file's dpi is only a hint, the measured
  // character size decides the final reduction.
  for (int pass = 0; pass < 2; ++pass) {
    cv::Mat small = gray;
    if (scale < 0.999) cv::resize(gray, small, cv::Size(), scale, scale, cv::INTER_AREA);
    ink = InkOf(small);
    comps = Components(ink);
    size = MedianSize(comps);
    const double thickness = MedianThickness(comps);
    if (comps.size() < 10 || thickness <= 0) return est;
    if (pass == 1 || (thickness >= 0.8 * kCharPx && thickness <= 1.6 * kCharPx)) break;
    // Never enlarge beyond the original.
    const double wanted = std::min(1.0, scale * kCharPx / thickness);
    if (std::abs(wanted - scale) < 0.1 * scale) break;
    scale = wanted;
  }
  est.components = static_cast<int>(comps.size());

  AxisVotes(comps, size, ink.size(), &est.horizontal_votes, &est.vertical_votes);
  const int axis_votes = est.horizontal_votes + est.vertical_votes;
  if (axis_votes == 0) return est;
  const bool vertical = est.vertical_votes > est.horizontal_votes;
  const double axis_margin =
      std::abs(est.horizontal_votes - est.vertical_votes) / static_cast<double>(axis_votes);

  // Lines horizontal: a page turned 90 degrees counter-clockwise becomes
  // upright when turned clockwise.
  cv::Mat lines = ink;
  if (vertical) cv::rotate(ink, lines, cv::ROTATE_90_CLOCKWISE);
  // The components in that frame, moved rather than found again (labelling
  // is most of the detector's time): a quarter turn moves boxes exactly.
  std::vector<Comp> level = comps;
  if (vertical) {
    const int h = ink.rows;
    for (Comp& c : level) {
      c = {h - (c.y + c.h), c.x, c.h, c.w, static_cast<float>(h - 1) - c.cy, c.cx};
    }
  }
  DeskewOptions skew_options;
  // Only a rough angle is needed (lines level within ~0.5 deg over a few
  // words), so the search runs coarse and at a low resolution.
  skew_options.work_dpi = 75;
  skew_options.coarse_step_deg = 1;
  Result<SkewEstimate> skew = DetectSkew(255 - lines, skew_options, dpi * scale);
  if (skew.ok() && skew->enough_text && std::abs(skew->angle_deg) > 0.3) {
    est.skew_deg = skew->angle_deg;
    const cv::Point2f center(0.5f * (lines.cols - 1), 0.5f * (lines.rows - 1));
    cv::Mat m = cv::getRotationMatrix2D(center, -skew->angle_deg, 1.0);
    if (std::abs(skew->angle_deg) <= kMoveBoxesMaxSkewDeg) {
      // Each box moves with its centre; its own tilt changes its height by
      // under 5% of its width, far below the ascender test's tolerance.
      for (Comp& c : level) {
        const double nx = m.at<double>(0, 0) * c.cx + m.at<double>(0, 1) * c.cy + m.at<double>(0, 2);
        const double ny = m.at<double>(1, 0) * c.cx + m.at<double>(1, 1) * c.cy + m.at<double>(1, 2);
        c.x += static_cast<int>(std::lround(nx - c.cx));
        c.y += static_cast<int>(std::lround(ny - c.cy));
        c.cx = static_cast<float>(nx);
        c.cy = static_cast<float>(ny);
      }
    } else {
      cv::Mat turned;
      cv::warpAffine(lines, turned, m, lines.size(), cv::INTER_NEAREST, cv::BORDER_CONSTANT,
                     cv::Scalar(0));
      level = Components(turned);
    }
  }
  UpDownVotes(level, lines.size(), &est.ascenders, &est.descenders);
  const int ud_votes = est.ascenders + est.descenders;
  const bool upright = est.ascenders >= est.descenders;
  const double ud_margin =
      ud_votes > 0 ? std::abs(est.ascenders - est.descenders) / static_cast<double>(ud_votes) : 0;

  est.best_guess_deg = vertical ? (upright ? 90 : 270) : (upright ? 0 : 180);
  est.confident = axis_votes >= options.min_axis_votes && axis_margin >= options.min_axis_margin &&
                  ud_votes >= options.min_updown_votes && ud_margin >= options.min_updown_margin;
  if (est.confident) est.orientation_deg = est.best_guess_deg;
  est.leans = axis_votes >= options.min_lean_votes && axis_margin >= options.min_lean_margin &&
              ud_votes >= options.min_lean_votes && ud_margin >= options.min_lean_margin;
  return est;
}

}  // namespace acervo
