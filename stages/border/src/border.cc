#include "acervo/stages/border/border.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

#include "acervo/stages/imageops/imageops.h"

namespace acervo {
namespace {

cv::Mat ToGray(const cv::Mat& image) {
  if (image.channels() == 1) return image;
  cv::Mat gray;
  cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  return gray;
}

// Gray level below which `fraction` of the pixels lie.
int Percentile(const cv::Mat& gray, double fraction) {
  int hist[256] = {0};
  for (int y = 0; y < gray.rows; ++y) {
    const uint8_t* row = gray.ptr<uint8_t>(y);
    for (int x = 0; x < gray.cols; ++x) ++hist[row[x]];
  }
  const double want = fraction * static_cast<double>(gray.total());
  double acc = 0;
  for (int v = 0; v < 256; ++v) {
    acc += hist[v];
    if (acc >= want) return v;
  }
  return 255;
}

// Depth of the border along one side: the run of border pixels from the edge
// inward, per line across the middle 60% of that side, capped at `cap`; the
// depth exceeded by at most 10% of the lines (a letter touching the border
// or a ragged edge does not widen the crop much).
int SideDepth(const cv::Mat& border, int cap, bool vertical_side, bool from_end) {
  const int lines = vertical_side ? border.rows : border.cols;
  const int length = vertical_side ? border.cols : border.rows;
  std::vector<int> depths;
  for (int i = lines / 5; i < lines - lines / 5; ++i) {
    int d = 0;
    while (d < std::min(cap, length)) {
      const int pos = from_end ? length - 1 - d : d;
      const uint8_t v = vertical_side ? border.at<uint8_t>(i, pos) : border.at<uint8_t>(pos, i);
      if (v == 0) break;
      ++d;
    }
    depths.push_back(d);
  }
  if (depths.empty()) return 0;
  auto it = depths.begin() + static_cast<long>(0.9 * (depths.size() - 1));
  std::nth_element(depths.begin(), it, depths.end());
  return *it;
}

// The pixels of `gray` in the elliptic ring about `centre` outside radii
// `inner` (none when 0) and within `outer`, and how many of them are
// darker than `dark`.
struct RingCount {
  int pixels = 0;
  int dark = 0;
};
RingCount CountInRing(const cv::Mat& gray, cv::Point2d centre, cv::Size2d inner, cv::Size2d outer, double dark) {
  RingCount n;
  for (int y = 0; y < gray.rows; ++y) {
    const uint8_t* row = gray.ptr<uint8_t>(y);
    const double dy = y - centre.y;
    for (int x = 0; x < gray.cols; ++x) {
      const double dx = x - centre.x;
      if (inner.width > 0 && dx * dx / (inner.width * inner.width) + dy * dy / (inner.height * inner.height) < 1) {
        continue;
      }
      if (dx * dx / (outer.width * outer.width) + dy * dy / (outer.height * outer.height) > 1) continue;
      ++n.pixels;
      if (row[x] < dark) ++n.dark;
    }
  }
  return n;
}

// Whether the blob whose box (at the analysis scale) is `box` is a hole in
// the sheet, in the page's own pixels: dark all through, as a hole that
// shows the scanner's lid is (at least kSolidShare of the pixels in the
// middle of its disc, the ellipse of 70% of its radii clear of the soft rim,
// darker than `dark`), on paper (at least kPaperShare of a ring around it
// lighter). A bold letter as large (a 24-30 pt heading's e, a, n, u) passes
// the shape test once the opening has taken its thin strokes, but its
// counters and the gaps between its strokes are paper: 0.45-0.73 of that
// middle is dark (holes: 1.0). The dark counter of a large light letter on a
// dark box is solid but ringed by the letter and the box: 0.24-0.30 of its
// ring is paper (holes, generated and scanned: 0.90-1.0).
constexpr double kSolidShare = 0.9;
constexpr double kPaperShare = 0.65;

bool HoleOnPaper(const cv::Mat& image, const cv::Rect& box, double scale, double dark) {
  const cv::Rect page(0, 0, image.cols, image.rows);
  const cv::Rect full = cv::Rect(static_cast<int>(box.x / scale), static_cast<int>(box.y / scale),
                                 static_cast<int>(std::ceil(box.width / scale)),
                                 static_cast<int>(std::ceil(box.height / scale))) &
                        page;
  if (full.area() == 0) return false;
  // The blob and its surroundings, out to twice its radii (clipped at the
  // image's edge), in one gray copy.
  const int px = full.width / 2 + 1, py = full.height / 2 + 1;
  const cv::Rect around = cv::Rect(full.x - px, full.y - py, full.width + 2 * px, full.height + 2 * py) & page;
  const cv::Mat gray = ToGray(image(around));
  const cv::Point2d centre(full.x + (full.width - 1) / 2.0 - around.x, full.y + (full.height - 1) / 2.0 - around.y);
  const RingCount middle =
      CountInRing(gray, centre, cv::Size2d(0, 0), cv::Size2d(0.35 * full.width, 0.35 * full.height), dark);
  if (middle.pixels == 0 || middle.dark < kSolidShare * middle.pixels) return false;
  // The ring from 1.3 to 2 times its radii: past a letter's stroke, which
  // is thinner than its counter is wide.
  const RingCount ring = CountInRing(gray, centre, cv::Size2d(0.65 * full.width, 0.65 * full.height),
                                     cv::Size2d(full.width, full.height), dark);
  return ring.pixels > 0 && ring.pixels - ring.dark >= kPaperShare * ring.pixels;
}

}  // namespace

Status ValidateBorderOptions(const BorderOptions& o) {
  if (!(o.work_dpi >= 30 && o.work_dpi <= 150))
    return Status::InvalidArgument("border: work_dpi must be in [30, 150], got " +
                                   std::to_string(o.work_dpi));
  if (!(o.dark_fraction > 0 && o.dark_fraction < 1))
    return Status::InvalidArgument("border: dark_fraction must be in (0, 1), got " +
                                   std::to_string(o.dark_fraction));
  if (!(o.max_border_mm >= 0 && o.max_border_mm <= 100))
    return Status::InvalidArgument("border: max_border_mm must be in [0, 100], got " +
                                   std::to_string(o.max_border_mm));
  return Status::OK();
}

Result<BorderEstimate> DetectBorder(const cv::Mat& image, const BorderOptions& options,
                                    double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateBorderOptions(options));
  if (image.empty()) return Status::InvalidArgument("border: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("border: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;
  BorderEstimate est;
  est.crop = cv::Rect(0, 0, image.cols, image.rows);
  est.image_size = image.size();
  est.paper = cv::Scalar::all(255);

  const double scale = std::min(1.0, options.work_dpi / dpi);
  cv::Mat small = image;
  if (scale < 0.999) small = ReduceByArea(image, scale);
  if (small.cols < 8 || small.rows < 8) return est;
  const cv::Mat gray = ToGray(small);
  const double px_per_mm = dpi * scale / 25.4;

  const int paper_level = Percentile(gray, 0.95);
  cv::Mat paper_mask = gray >= 0.9 * paper_level;
  est.paper = cv::mean(small, paper_mask);
  if (paper_level < 40) return est;  // a dark page: nothing to call border

  cv::Mat dark = gray < options.dark_fraction * paper_level;
  // Text strokes are < 1 mm thick; borders and holes are not.
  const int k = std::max(1, static_cast<int>(std::lround(1.0 * px_per_mm)));
  cv::morphologyEx(dark, dark, cv::MORPH_OPEN,
                   cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)));

  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(dark, labels, stats, centroids, 8, CV_32S);
  cv::Mat border = cv::Mat::zeros(dark.size(), CV_8U);
  std::vector<uint8_t> is_border(n, 0);
  for (int i = 1; i < n; ++i) {
    const int x = stats.at<int>(i, cv::CC_STAT_LEFT), y = stats.at<int>(i, cv::CC_STAT_TOP);
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    if (x == 0 || y == 0 || x + w == dark.cols || y + h == dark.rows) {
      // How far it reaches in from the edges it touches: a border strip or
      // platen corner is shallow; a photograph bleeding off the page is not.
      int depth = dark.cols + dark.rows;
      if (x == 0) depth = std::min(depth, x + w);
      if (y == 0) depth = std::min(depth, y + h);
      if (x + w == dark.cols) depth = std::min(depth, dark.cols - x);
      if (y + h == dark.rows) depth = std::min(depth, dark.rows - y);
      is_border[i] = depth <= options.max_border_mm * px_per_mm ? 1 : 2;
      continue;
    }
    if (!options.punch_holes) continue;
    const double w_mm = w / px_per_mm, h_mm = h / px_per_mm;
    const double fill = stats.at<int>(i, cv::CC_STAT_AREA) / (static_cast<double>(w) * h);
    const double cx = centroids.at<double>(i, 0) / px_per_mm;
    const double cy = centroids.at<double>(i, 1) / px_per_mm;
    const double edge = std::min({cx, cy, dark.cols / px_per_mm - cx, dark.rows / px_per_mm - cy});
    if (w_mm >= 3.5 && w_mm <= 10 && h_mm >= 3.5 && h_mm <= 10 && w_mm / h_mm > 0.75 &&
        w_mm / h_mm < 1.33 && fill > 0.65 && edge < 25 &&
        HoleOnPaper(image, cv::Rect(x, y, w, h), scale, options.dark_fraction * paper_level)) {
      // Pad by 15% plus a pixel: the soft rim of the hole.
      const double pad_x = 0.15 * w + 1, pad_y = 0.15 * h + 1;
      cv::Rect r(static_cast<int>((x - pad_x) / scale), static_cast<int>((y - pad_y) / scale),
                 static_cast<int>(std::ceil((w + 2 * pad_x) / scale)),
                 static_cast<int>(std::ceil((h + 2 * pad_y) / scale)));
      est.punch_holes.push_back(r & cv::Rect(0, 0, image.cols, image.rows));
    }
  }
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    uint8_t* b = border.ptr<uint8_t>(y);
    for (int x = 0; x < labels.cols; ++x) b[x] = is_border[l[x]] != 0 ? 255 : 0;
  }

  const int cap = static_cast<int>(options.max_border_mm * px_per_mm);
  const int left = SideDepth(border, cap, true, false);
  const int right = SideDepth(border, cap, true, true);
  const int top = SideDepth(border, cap, false, false);
  const int bottom = SideDepth(border, cap, false, true);
  // One reduced pixel of slack: its edge is a blend of border and paper.
  auto full = [&](int d) { return d == 0 ? 0 : static_cast<int>(std::ceil((d + 1) / scale)); };
  const int x0 = full(left), y0 = full(top);
  const int x1 = image.cols - full(right), y1 = image.rows - full(bottom);
  if (x1 - x0 >= image.cols / 2 && y1 - y0 >= image.rows / 2) {
    est.crop = cv::Rect(x0, y0, x1 - x0, y1 - y0);
  }
  // Shallow border regions still inside the crop, grown by a reduced pixel
  // (their rim is a blend of border and paper).
  cv::Mat leftover = cv::Mat::zeros(border.size(), CV_8U);
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    uint8_t* o = leftover.ptr<uint8_t>(y);
    for (int x = 0; x < labels.cols; ++x) o[x] = is_border[l[x]] == 1 ? 255 : 0;
  }
  const cv::Rect kept(left + 1, top + 1, std::max(0, border.cols - left - right - 2),
                      std::max(0, border.rows - top - bottom - 2));
  if (kept.area() > 0 && cv::countNonZero(leftover(kept)) > 0) {
    cv::dilate(leftover, leftover, cv::Mat());
    est.leftover = leftover;
  }
  return est;
}

cv::Mat RemoveBorder(const cv::Mat& image, const BorderEstimate& est) {
  if (image.empty()) return image;
  const cv::Rect crop = est.crop & cv::Rect(0, 0, image.cols, image.rows);
  cv::Mat out = image(crop.area() > 0 ? crop : cv::Rect(0, 0, image.cols, image.rows)).clone();
  if (!est.leftover.empty()) {
    // Paint the full-resolution rectangle of each run of leftover pixels
    // (the pixels an INTER_NEAREST enlargement of the mask would mark)
    // rather than enlarging the mask: the leftover is a thin rim, and a
    // full-size mask costs more than the painting.
    const cv::Mat& m = est.leftover;
    const double sx = static_cast<double>(image.cols) / m.cols;
    const double sy = static_cast<double>(image.rows) / m.rows;
    // First full-resolution coordinate whose nearest mask cell is >= i.
    auto fx = [&](int i) { return static_cast<int>(std::ceil(i * sx - 1e-9)); };
    auto fy = [&](int i) { return static_cast<int>(std::ceil(i * sy - 1e-9)); };
    const cv::Rect all(0, 0, out.cols, out.rows);
    for (int y = 0; y < m.rows; ++y) {
      const uint8_t* row = m.ptr<uint8_t>(y);
      for (int x = 0; x < m.cols;) {
        if (row[x] == 0) {
          ++x;
          continue;
        }
        int end = x;
        while (end < m.cols && row[end] != 0) ++end;
        const cv::Rect r = cv::Rect(cv::Point(fx(x), fy(y)), cv::Point(fx(end), fy(y + 1))) - crop.tl();
        const cv::Rect clipped = r & all;
        if (clipped.area() > 0) out(clipped).setTo(est.paper);
        x = end;
      }
    }
  }
  for (const cv::Rect& hole : est.punch_holes) {
    const cv::Rect r = (hole - crop.tl()) & cv::Rect(0, 0, out.cols, out.rows);
    if (r.area() == 0) continue;
    const cv::Point c(r.x + r.width / 2, r.y + r.height / 2);
    cv::ellipse(out, c, cv::Size(r.width / 2 + 1, r.height / 2 + 1), 0, 0, 360, est.paper,
                cv::FILLED);
  }
  return out;
}

Result<std::unique_ptr<PageStage>> BorderStage::Create(const BorderOptions& options) {
  ACERVO_RETURN_IF_ERROR(ValidateBorderOptions(options));
  return std::unique_ptr<PageStage>(new BorderStage(options));
}

Result<Page> BorderStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("border: cancelled");
  ACERVO_ASSIGN_OR_RETURN(BorderEstimate est, DetectBorder(page.image, options_, page.dpi_x));
  last_crop_ = est.crop;
  if (est.crop.size() == page.image.size() && est.punch_holes.empty() && est.leftover.empty()) {
    return page;
  }
  page.image = RemoveBorder(page.image, est);
  return page;
}

}  // namespace acervo
