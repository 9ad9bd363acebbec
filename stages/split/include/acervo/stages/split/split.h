// Split: two-page spreads (a book or a bound register scanned open) into two
// pages.
//
// Detection: a spread is landscape (width/height >= min_aspect) and has a
// gutter, a column near the middle with (almost) no ink between two halves
// that both carry text. The ink column profile is taken at ~work_dpi and
// smoothed over ~2 mm; the gutter is its minimum within search_fraction of
// the centre, accepted when it is below gutter_ratio of the halves' mean.
//
// Splitting turns one input page into two, so it is not a PageStage (which
// maps a page to a page): the caller replaces the page with the halves
// before the stage chain runs (SplitIfSpread in pipeline/page_loader.h, used
// by `acervo run` with [image] split and `acervo preprocess --split`).
//
// Thread-safety: reentrant.
#ifndef ACERVO_STAGES_SPLIT_SPLIT_H_
#define ACERVO_STAGES_SPLIT_SPLIT_H_

#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/status.h"

namespace acervo {

struct SplitOptions {
  double min_aspect = 1.15;       // [1, 4]
  double search_fraction = 0.12;  // (0, 0.4]
  double gutter_ratio = 0.15;     // (0, 1)
  double work_dpi = 50;           // [20, 150]
};

struct SpreadEstimate {
  bool is_spread = false;
  int split_x = 0;          // column where the halves meet, input pixels
  double gutter_ratio = 1;  // gutter ink / mean column ink of the halves
};

// Checks every field; InvalidArgument names the bad one.
Status ValidateSplitOptions(const SplitOptions& options);

// Decides whether `image` (8-bit gray, BGR or BGRA) scanned at `dpi` is a
// two-page spread. InvalidArgument for an empty image, bad type or options.
Result<SpreadEstimate> DetectSpread(const cv::Mat& image, const SplitOptions& options,
                                    double dpi = 300);

// The left and right pages of a spread (copies), or just the image when
// est.is_spread is false.
std::vector<cv::Mat> SplitSpread(const cv::Mat& image, const SpreadEstimate& est);

}  // namespace acervo

#endif  // ACERVO_STAGES_SPLIT_SPLIT_H_
