// Deskew: find how far the text lines of a page are tilted and rotate the
// page so that they are level.
//
// Detection (DetectSkew) and correction (RotateImage) are separate functions
// so that each can be tested and benchmarked alone; DeskewStage joins them.
//
// Sign convention (shared with the synthetic generator and the CLI): a skew
// angle > 0 means the content is rotated counter-clockwise as displayed (text
// lines rise to the right). The correction rotates by -angle.
//
// Method: the page is reduced to ~work_dpi, binarised with Otsu (inverted
// when most of it comes out dark: light text on a dark ground), and its dark
// pixels (outside a margin band, where scanner borders live) are gathered
// into weighted points. For each candidate angle the points are projected
// onto the axis perpendicular to the text lines and the sum of squares of the
// resulting profile is taken: it peaks when the lines fall into few bins.
// The search runs coarse to fine (coarse_step_deg, then 0.1, then 0.02) and
// ends with a parabola fit. Points are projected, never images rotated, so a
// 300 dpi A4 page costs a few milliseconds.
//
// Thread-safety: the free functions are reentrant. A DeskewStage instance is
// used by one worker thread at a time (see page_stage.h).
#ifndef ACERVO_STAGES_DESKEW_DESKEW_H_
#define ACERVO_STAGES_DESKEW_DESKEW_H_

#include <memory>
#include <string_view>

#include <opencv2/core.hpp>

#include "acervo/core/page_stage.h"
#include "acervo/core/status.h"

namespace acervo {

struct DeskewOptions {
  // Largest |angle| searched, degrees. (0, 45].
  double max_angle_deg = 15;
  // Step of the coarse search, degrees. (0, 2]. Must be smaller than the
  // angular width of the profile peak (~1 deg for full-width text lines).
  double coarse_step_deg = 0.5;
  // Resolution at which detection works, dpi. [50, 300]. Lower is faster;
  // 150 keeps ~0.02 deg precision on a page of text.
  double work_dpi = 150;
  // Fraction of each side ignored (scanner borders, punch holes). [0, 0.25).
  double margin_fraction = 0.03;
  // Below this confidence the page is not rotated ("too little text").
  // [0, 1].
  double min_confidence = 0.15;
  // Fewer dark pixels than this fraction of the (reduced) page: no text.
  double min_ink_fraction = 0.001;
  // The stage flags "big_skew" when |angle| exceeds this, degrees. A skew
  // this large usually means the sheet was fed badly and the operator should
  // look (text near the edges may be cut off).
  double big_skew_deg = 5;
  // Angles smaller than this are detected but not corrected, degrees: the
  // rotation would blur the page for no visible gain. At 0.05 deg a line
  // across a whole A4 width drifts 0.18 mm (2 px at 300 dpi), a twentieth of
  // a 10 pt text line's height: nothing for OCR or a reader; the skip also
  // saves the rotation (the most expensive full-resolution step) on the many
  // pages that a good feeder scans straight.
  double min_correction_deg = 0.05;
  // Interpolation of the correction: true cubic (sharper, cv::warpAffine),
  // false linear (RotateImage's two-pass path up to 10 deg: ~2x faster than
  // linear warpAffine on gray pages, ~4x faster than cubic; what the lot
  // chain uses).
  bool cubic = true;
};

// Result of DetectSkew.
struct SkewEstimate {
  double angle_deg = 0;     // > 0: content rotated counter-clockwise
  double confidence = 0;    // 0..1: 1 - (worst profile score / best score)
  bool enough_text = false; // false: angle is 0 and should not be applied
  double ink_fraction = 0;  // dark-pixel share of the analysed area
};

// Checks every field; InvalidArgument names the bad one.
Status ValidateDeskewOptions(const DeskewOptions& options);

// Estimates the skew of `image` (CV_8UC1 gray or CV_8UC3 BGR, any size) whose
// resolution is `dpi` (used only to choose the reduction; pass the page's
// dpi, 300 if unknown). Success always yields an estimate; when the page has
// too little text it has angle 0, enough_text false and a low confidence.
// InvalidArgument for an empty image, a bad type or bad options.
Result<SkewEstimate> DetectSkew(const cv::Mat& image,
                                const DeskewOptions& options, double dpi = 300);

// How RotateImage fills the corners uncovered by the rotation.
enum class RotateFill {
  kWhite,       // 255 in every channel
  kBackground,  // the median of the image's outermost rows and columns
};

// Returns `image` rotated counter-clockwise (as displayed) by `deg` about its
// centre, same size and type; corners are filled per `fill`. `cubic` selects
// cubic interpolation (cv::warpAffine), else linear: for 8-bit images and
// |deg| <= 10 a two-pass (column then row) resampler that needs no
// full-size temporaries, otherwise cv::warpAffine. An empty image is
// returned as is; the input is never modified.
cv::Mat RotateImage(const cv::Mat& image, double deg,
                    RotateFill fill = RotateFill::kBackground, bool cubic = true);

// The stage: detects the skew of page.image and, when the estimate is
// trustworthy and above min_correction_deg, replaces page.image with the
// corrected image. Sets page.skew_deg to the detected angle (0 when there was
// too little text) and flags "big_skew" when |angle| > big_skew_deg.
class DeskewStage : public PageStage {
 public:
  static constexpr std::string_view kName = "deskew";
  static constexpr int kVersion = 3;  // 3: two-pass linear rotation

  // InvalidArgument for bad options.
  static Result<std::unique_ptr<PageStage>> Create(const DeskewOptions& options);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  // InvalidArgument when page.image is empty or not 8-bit gray/BGR.
  Result<Page> Run(Page page, const PageContext& ctx) override;

 private:
  explicit DeskewStage(const DeskewOptions& options) : options_(options) {}
  DeskewOptions options_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_DESKEW_DESKEW_H_
