// Image operations shared by the stages, each a faster stand-in with the
// same result as the OpenCV call it names (measured single-threaded on
// 300-dpi A4 pages, OpenCV 4.6; figures in docs/benchmarks.md, issue 3).
//
// Thread-safety: reentrant free functions.
#ifndef ACERVO_STAGES_IMAGEOPS_IMAGEOPS_H_
#define ACERVO_STAGES_IMAGEOPS_IMAGEOPS_H_

#include <opencv2/core.hpp>

namespace acervo {

// `image` reduced by `scale` (0 < scale < 1) with area averaging, the size
// and pixels of cv::resize(image, out, cv::Size(), scale, scale,
// cv::INTER_AREA). When that size is reached by halvings (a power-of-two
// scale) they are used: OpenCV's 2x INTER_AREA path is ~10x faster than its
// general one. Other scales take the general path in one step.
cv::Mat ReduceByArea(const cv::Mat& image, double scale);

// cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8,
// CV_32S) for the components (rows 1..n-1; row 0, the background, only gets
// its area and the whole image as box), at about half the cost. `binary` is
// CV_8UC1, ink non-zero. Returns the number of labels, background included.
int LabelComponentsWithStats(const cv::Mat& binary, cv::Mat& labels, cv::Mat& stats,
                             cv::Mat& centroids);

// The type size of a page's text, measured on its own ink (not its dpi tag,
// which may be missing or wrong): Otsu split of `gray` (CV_8UC1; inverted
// when most of it comes out as ink, light text on dark), 8-connected
// components, and of those shaped like characters (not specks, rules, frames
// or pictures) the median height weighted by area (so that specks and
// halftone grain, many but small, do not count for much): between the
// x-height and the height of capitals. count is how many components that
// median is over; with fewer than 30 the page has too little text to judge
// and height is 0.
struct GlyphSize {
  double height_px = 0;
  int count = 0;
};
GlyphSize MeasureGlyphs(const cv::Mat& gray);

// The source rows cv::resize's INTER_LINEAR reads for row `y` of an image
// `dst_rows` tall made from one `src_rows` tall: y0 and y1 (clamped at the
// edges) and y1's weight fy. For mapping a reduced image (the clean
// stage's 1/8 paper background) onto a page one row at a time, without a
// page-sized enlargement.
struct LinearRow {
  int y0 = 0, y1 = 0;
  double fy = 0;
};
LinearRow LinearSourceRow(int y, int dst_rows, int src_rows);

}  // namespace acervo

#endif  // ACERVO_STAGES_IMAGEOPS_IMAGEOPS_H_
