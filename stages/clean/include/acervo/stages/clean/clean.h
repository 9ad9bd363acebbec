// Clean: background normalisation and despeckling.
//
// Background normalisation divides each channel by an estimate of the local
// paper brightness (a max filter over ~1 cm at 1/8 scale, smoothed): yellowed,
// tinted or unevenly lit paper becomes white and ink keeps its contrast, so
// pages compress better and binarise evenly.
//
// Despeckling removes dust: dark components no larger than max_speck_mm with
// no other ink within isolation_mm. The isolation test is what keeps the dot
// of an "i", accents, cedillas and full stops, which are as small as dust but
// always sit next to letters.
//
// Detection (FindSpecks) is separate from the changes (NormalizeBackground,
// EraseSpecks).
//
// Thread-safety: the free functions are reentrant; a CleanStage instance is
// used by one worker at a time.
#ifndef ACERVO_STAGES_CLEAN_CLEAN_H_
#define ACERVO_STAGES_CLEAN_CLEAN_H_

#include <memory>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/page_stage.h"
#include "acervo/core/status.h"

namespace acervo {

struct CleanOptions {
  bool normalize_background = true;
  bool despeckle = true;
  // Largest speck, mm (its larger side). (0, 3].
  double max_speck_mm = 0.5;
  // A small component with ink this close is part of the text, mm. (0, 10].
  double isolation_mm = 1.0;
  // Ink for despeckling: darker than this fraction of the paper. (0, 1).
  double ink_fraction = 0.6;
  // Colour pages (Page::color_class kColor) are delivered with their paper
  // tone: the page is normalised as any other (OCR and the PDF's text masks
  // read that), and the paper estimate is left in Page::paper_tone for the
  // image encoder to give the PDF the scan's paper and ink colours back. A
  // page scanned in colour is scanned so because its colours matter (tinted
  // paper, stamps, blue signatures), and Decreto 10.278 asks for a faithful
  // representative. true: colour pages are whitened like gray ones
  // (profile: [image] color_paper = "white").
  bool whiten_color = false;
};

// Checks every field; InvalidArgument names the bad one.
Status ValidateCleanOptions(const CleanOptions& options);

// Returns `image` (8-bit gray or BGR) with each channel divided by its local
// paper brightness: paper becomes ~255. Same size and type; the input is not
// modified. One pass over the image: the gain 255 / background is
// interpolated (10 fractional bits, capped at 32, i.e. background below 8
// counts as 8), which differs from dividing by the enlarged background by at
// most a level or two.
cv::Mat NormalizeBackground(const cv::Mat& image);

// Bounding boxes of the isolated specks of `image` (8-bit gray, BGR or BGRA,
// paper light) scanned at `dpi`. InvalidArgument for bad input or options.
Result<std::vector<cv::Rect>> FindSpecks(const cv::Mat& image, const CleanOptions& options,
                                         double dpi = 300);

// Paints each speck's box (one pixel wider: the soft rim) with `paper`, in
// place.
void EraseSpecks(cv::Mat& image, const std::vector<cv::Rect>& specks,
                 const cv::Scalar& paper = cv::Scalar::all(255));

// The stage: normalises the background and erases specks (per options);
// pages that are mostly dark (light text on a dark ground) are left alone.
// When the paper is evenly lit (its background estimate within 10% of its
// median over the page's interior), normalising it only changes the overall
// level, which helps the output but not OCR: the page as it came in is then
// left in Page::ocr_image for OCR to read. On colour pages (unless
// whiten_color) the paper estimate is left in Page::paper_tone: the PDF
// keeps the scan's paper colour.
class CleanStage : public PageStage {
 public:
  static constexpr std::string_view kName = "clean";
  // 2: faster reductions (halvings); 3: the gain 255 / background is
  // interpolated in 16-bit fixed point (within a level or two of dividing
  // by the enlarged background; gains capped at 32); 4: evenly lit pages
  // leave their unnormalised image for OCR; 5: colour pages keep their
  // paper tone for the PDF (Page::paper_tone)
  static constexpr int kVersion = 5;

  // InvalidArgument for bad options.
  static Result<std::unique_ptr<PageStage>> Create(const CleanOptions& options);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  Result<Page> Run(Page page, const PageContext& ctx) override;

 private:
  explicit CleanStage(const CleanOptions& options) : options_(options) {}
  CleanOptions options_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_CLEAN_CLEAN_H_
