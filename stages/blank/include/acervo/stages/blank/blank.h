// Blank-page detection: is there anything on this side of the sheet worth
// keeping (text, a page number, a stamp, a signature)?
//
// Precision comes first: a page with any real mark must never be called
// blank (a dropped page is lost information), while a blank page kept by
// mistake costs only a little storage. So the detector removes what is known
// not to be content and calls the page blank only if nothing is left:
//  - paper texture, tint and uneven lighting: the image is divided by its
//    background (a large-scale max filter), so only local contrast counts;
//  - faint bleed-through and noise: pixels less than min_contrast darker than
//    the surrounding paper are not ink;
//  - dust specks: components smaller than min_feature_mm;
//  - scanner borders: a margin band is ignored, and long thin components
//    hugging the edge of the analysed area are dropped;
//  - punch holes: filled round blobs 3.5-10 mm across near a page edge.
// What remains is scored: every surviving component adds up to 1 (a 2 mm
// character counts fully, smaller ones in proportion), and
// score = 1 - exp(-sum), so one digit already scores ~0.63.
//
// Thread-safety: ScoreBlank is reentrant; a BlankStage instance is used by one
// worker at a time.
#ifndef ACERVO_STAGES_BLANK_BLANK_H_
#define ACERVO_STAGES_BLANK_BLANK_H_

#include <memory>
#include <string_view>

#include <opencv2/core.hpp>

#include "acervo/core/page_stage.h"
#include "acervo/core/status.h"

namespace acervo {

struct BlankOptions {
  // A page is blank when its score is below this. (0, 1). With the default,
  // any single mark of min_feature_mm or larger makes the page not blank.
  double threshold = 0.3;
  // Resolution of the analysis, dpi. [75, 300].
  double work_dpi = 150;
  // How much darker than the surrounding paper a pixel must be to be ink,
  // as a fraction of the paper's brightness. Printed text and stamps are
  // 0.5-0.9; bleed-through and paper texture stay below ~0.25. (0, 1).
  double min_contrast = 0.35;
  // Components whose larger side is below this are specks, mm. The dot of
  // an "i" is smaller but never alone; a 6 pt digit is ~1.5 mm tall. (0, 5].
  double min_feature_mm = 0.8;
  // Band along every edge that is ignored (scanner borders, shadows), mm.
  // Page numbers are usually 10+ mm from the edge. [0, 30].
  double margin_mm = 8;
};

struct BlankScore {
  double score = 0;        // 0 (nothing) .. 1 (clearly has content)
  bool blank = true;       // score < threshold
  int components = 0;      // marks that counted
  double ink_fraction = 0; // share of the analysed area covered by them
};

// Checks every field; InvalidArgument names the bad one.
Status ValidateBlankOptions(const BlankOptions& options);

// Scores `image` (8-bit gray, BGR or BGRA) scanned at `dpi` (300 if
// unknown; used to convert mm to pixels). Never fails on valid input: an
// empty or unsupported image is InvalidArgument, as are bad options.
Result<BlankScore> ScoreBlank(const cv::Mat& image, const BlankOptions& options,
                              double dpi = 300);

// The stage: sets page.blank and page.blank_score and flags "blank". The
// image is not changed; what happens to blank pages (drop, keep, use as a
// document separator) is the lot profile's decision, not this stage's.
class BlankStage : public PageStage {
 public:
  static constexpr std::string_view kName = "blank";
  static constexpr int kVersion = 2;  // 2: faster reductions (halvings)

  // InvalidArgument for bad options.
  static Result<std::unique_ptr<PageStage>> Create(const BlankOptions& options);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  Result<Page> Run(Page page, const PageContext& ctx) override;

 private:
  explicit BlankStage(const BlankOptions& options) : options_(options) {}
  BlankOptions options_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_BLANK_BLANK_H_
