#include "acervo/stages/imageops/imageops.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace acervo {

cv::Mat ReduceByArea(const cv::Mat& image, double scale) {
  const cv::Size target(std::max(1, cvRound(image.cols * scale)),
                        std::max(1, cvRound(image.rows * scale)));
  cv::Size s = image.size();
  int halvings = 0;
  while (s.width / 2 >= target.width && s.height / 2 >= target.height) {
    s = cv::Size(s.width / 2, s.height / 2);
    ++halvings;
  }
  cv::Mat small = image;
  if (s != target) {
    // Scale factors given (not the size) so the mapping is exactly the one
    // cv::resize(..., cv::Size(), scale, scale, ...) has always used.
    cv::resize(image, small, cv::Size(), scale, scale, cv::INTER_AREA);
    return small;
  }
  for (int i = 0; i < halvings; ++i) {
    cv::Mat half;
    cv::resize(small, half, cv::Size(small.cols / 2, small.rows / 2), 0, 0, cv::INTER_AREA);
    small = half;
  }
  return small;
}

// OpenCV updates the statistics of the background at every paper pixel,
// which costs more than the labelling itself; here a second pass visits only
// the ink, skipping paper eight pixels at a time.
int LabelComponentsWithStats(const cv::Mat& binary, cv::Mat& labels, cv::Mat& stats,
                             cv::Mat& centroids) {
  const int n = cv::connectedComponents(binary, labels, 8, CV_32S);
  std::vector<int> x0(n, binary.cols), y0(n, binary.rows), x1(n, -1), y1(n, -1), area(n, 0);
  std::vector<int64_t> sum_x(n, 0), sum_y(n, 0);
  for (int y = 0; y < binary.rows; ++y) {
    const uint8_t* b = binary.ptr<uint8_t>(y);
    const int* l = labels.ptr<int>(y);
    int x = 0;
    while (x < binary.cols) {
      if (x + 8 <= binary.cols) {
        uint64_t word;
        std::memcpy(&word, b + x, 8);
        if (word == 0) {
          x += 8;
          continue;
        }
      }
      const int k = l[x];
      if (k != 0) {
        x0[k] = std::min(x0[k], x);
        x1[k] = std::max(x1[k], x);
        y0[k] = std::min(y0[k], y);
        y1[k] = y;
        ++area[k];
        sum_x[k] += x;
        sum_y[k] += y;
      }
      ++x;
    }
  }
  stats.create(n, cv::CC_STAT_MAX, CV_32S);
  centroids.create(n, 2, CV_64F);
  int ink = 0;
  for (int k = 1; k < n; ++k) {
    int* s = stats.ptr<int>(k);
    s[cv::CC_STAT_LEFT] = x0[k];
    s[cv::CC_STAT_TOP] = y0[k];
    s[cv::CC_STAT_WIDTH] = x1[k] - x0[k] + 1;
    s[cv::CC_STAT_HEIGHT] = y1[k] - y0[k] + 1;
    s[cv::CC_STAT_AREA] = area[k];
    centroids.at<double>(k, 0) = static_cast<double>(sum_x[k]) / std::max(1, area[k]);
    centroids.at<double>(k, 1) = static_cast<double>(sum_y[k]) / std::max(1, area[k]);
    ink += area[k];
  }
  if (n > 0) {
    int* s = stats.ptr<int>(0);
    s[cv::CC_STAT_LEFT] = 0;
    s[cv::CC_STAT_TOP] = 0;
    s[cv::CC_STAT_WIDTH] = binary.cols;
    s[cv::CC_STAT_HEIGHT] = binary.rows;
    s[cv::CC_STAT_AREA] = static_cast<int>(binary.total()) - ink;
    centroids.at<double>(0, 0) = 0.5 * (binary.cols - 1);
    centroids.at<double>(0, 1) = 0.5 * (binary.rows - 1);
  }
  return n;
}

GlyphSize MeasureGlyphs(const cv::Mat& gray) {
  GlyphSize out;
  if (gray.empty() || gray.type() != CV_8UC1) return out;
  cv::Mat ink;
  cv::threshold(gray, ink, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  if (cv::countNonZero(ink) > 0.5 * static_cast<double>(ink.total())) cv::bitwise_not(ink, ink);
  cv::Mat labels, stats, centroids;
  const int n = LabelComponentsWithStats(ink, labels, stats, centroids);
  const int max_side = std::max(8, std::min(ink.rows, ink.cols) / 8);
  std::vector<std::pair<int, int>> heights;  // height, area
  heights.reserve(static_cast<size_t>(n));
  for (int i = 1; i < n; ++i) {
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    // Characters: at least 3 px tall, not much wider than tall (touching
    // letters of a word still count up to 3 wide), inked enough to be
    // strokes rather than frames, and not page-sized pictures.
    if (h < 3 || h > max_side || w > 3 * h || area < 4 || area < 0.1 * w * h) continue;
    heights.push_back({h, area});
  }
  out.count = static_cast<int>(heights.size());
  if (heights.size() < 30) return out;
  // Area-weighted: specks, dots and halftone grain are many but small.
  std::sort(heights.begin(), heights.end());
  double total = 0;
  for (const auto& [h, area] : heights) total += area;
  double seen = 0;
  for (const auto& [h, area] : heights) {
    seen += area;
    if (seen >= 0.5 * total) {
      out.height_px = h;
      break;
    }
  }
  return out;
}

LinearRow LinearSourceRow(int y, int dst_rows, int src_rows) {
  const double sy = (y + 0.5) * static_cast<double>(src_rows) / dst_rows - 0.5;
  LinearRow r;
  r.y0 = static_cast<int>(std::floor(sy));
  r.fy = sy - r.y0;
  if (r.y0 < 0) {
    r.y0 = 0;
    r.fy = 0;
  }
  if (r.y0 >= src_rows - 1) {
    r.y0 = src_rows - 1;
    r.fy = 0;
  }
  r.y1 = std::min(r.y0 + 1, src_rows - 1);
  return r;
}

}  // namespace acervo
