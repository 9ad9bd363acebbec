// Border: dark scanner borders and punch holes, and the crop to the sheet.
//
// Where the platen or the lid shows around (or through) the sheet, a scan has
// dark strips along its edges and dark discs where the sheet was punched.
// They waste storage, disturb OCR and look bad. Detection (DetectBorder) finds
// them on a reduced copy; correction (RemoveBorder) crops to the sheet and
// paints the holes and any leftover border with the paper's colour.
//
// Detection: pixels darker than dark_fraction x the paper level (a high
// percentile of the page) form the dark mask; an opening of ~1 mm removes text
// strokes from it. Dark regions touching the image edge are border: the crop
// keeps, on each side, the band past which at most 10% of the rows (or
// columns) are still border, capped at max_border_mm; border regions that
// remain inside the crop (reaching at most max_border_mm in from an edge)
// are painted with the paper colour. Filled round dark blobs
// 3.5-10 mm across whose centre is within 25 mm of an edge, and dark all
// through in the page's own pixels, are punch holes (a round stamp is a ring,
// a body-text "o" far smaller, a large bold letter near the edge has its
// counters: a heading's e, a, n, u are no holes).
//
// Run border detection after deskew: the sheet's edges are then parallel to
// the image's, and the crop a true rectangle.
//
// Thread-safety: the free functions are reentrant; a BorderStage instance is
// used by one worker at a time.
#ifndef ACERVO_STAGES_BORDER_BORDER_H_
#define ACERVO_STAGES_BORDER_BORDER_H_

#include <memory>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/page_stage.h"
#include "acervo/core/status.h"

namespace acervo {

struct BorderOptions {
  // Resolution of the analysis, dpi. [30, 150].
  double work_dpi = 75;
  // A pixel darker than this fraction of the paper level is "dark". (0, 1).
  double dark_fraction = 0.5;
  // Deepest border removed on any side, mm. Deeper dark regions are content
  // (a photograph bleeding off the page), not border. [0, 100].
  double max_border_mm = 30;
  // Paint punch holes with the paper colour.
  bool punch_holes = true;
};

struct BorderEstimate {
  cv::Rect crop;                      // the sheet, in input pixels
  std::vector<cv::Rect> punch_holes;  // in input pixels
  cv::Scalar paper;                   // paper colour, per channel (BGR or gray)
  // Border regions left inside the crop (a slanted strip, a corner of the
  // platen), 255 where to paint, at the analysis resolution; empty if none.
  cv::Mat leftover;
  cv::Size image_size;                // of the analysed image
  bool has_border() const { return crop.size() != image_size || !leftover.empty(); }
};

// Checks every field; InvalidArgument names the bad one.
Status ValidateBorderOptions(const BorderOptions& options);

// Finds border and punch holes of `image` (8-bit gray, BGR or BGRA) scanned
// at `dpi` (300 if unknown). Success always yields an estimate; a page with
// no border has crop == the whole image. InvalidArgument for an empty image,
// a bad type or bad options.
Result<BorderEstimate> DetectBorder(const cv::Mat& image, const BorderOptions& options,
                                    double dpi = 300);

// Returns `image` cropped to est.crop with the punch holes and leftover
// border painted in est.paper. The input is never modified; the result owns its pixels.
cv::Mat RemoveBorder(const cv::Mat& image, const BorderEstimate& est);

// The stage: crops page.image to the sheet and paints punch holes (no flag:
// borders are routine, not a reason for an operator to look). last_crop() is the crop of the last page
// run, in the coordinates of the image the stage received (for reports).
class BorderStage : public PageStage {
 public:
  static constexpr std::string_view kName = "border";
  static constexpr int kVersion = 3;  // 2: faster reductions (halvings); 3: holes are dark all through

  // InvalidArgument for bad options.
  static Result<std::unique_ptr<PageStage>> Create(const BorderOptions& options);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  Result<Page> Run(Page page, const PageContext& ctx) override;
  const cv::Rect& last_crop() const { return last_crop_; }

 private:
  explicit BorderStage(const BorderOptions& options) : options_(options) {}
  BorderOptions options_;
  cv::Rect last_crop_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_BORDER_BORDER_H_
