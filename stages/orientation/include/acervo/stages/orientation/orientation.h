// Orientation: find whether a page was scanned sideways or upside down and
// turn it upright.
//
// Detection uses Tesseract's orientation-and-script detection (OSD, the
// "osd" traineddata) through the C++ API: the page is binarised with Otsu,
// rescaled so that its characters have ~text_height_px and handed to TessBaseAPI::DetectOrientationScript.
// Tesseract reports `orient_deg` as how far the content is turned CLOCKWISE
// (checked on tesseract's phototest-rotated-L.png, whose text runs bottom to
// top and which Tesseract reports as 270); Acervo's convention is
// counter-clockwise, so orientation_deg = (360 - orient_deg) % 360.
//
// Conservative by design: a page is turned only when Tesseract found enough
// characters and its confidence reaches min_confidence; otherwise the result
// is 0 ("leave it as scanned"). Turning a good page is worse than leaving a
// turned page for the operator.
//
// Detection (OrientationDetector) and correction (UprightImage) are separate;
// OrientationStage joins them. The stage first asks Acervo's own fast
// detector (fast_orientation.h, ~10 ms a page) and calls OSD (~1 s a page)
// only when the fast detector is unsure.
//
// Last resort, an OCR vote: forms, tables of figures and pages of a few big
// words give neither detector enough letter statistics, yet text read the
// right way up is recognised with far higher confidence than text read
// upside down or sideways. When both detectors are unsure, the LSTM engine
// (the lot's languages) reads the most text-rich square of the page at each
// candidate turn (two when the fast detector's axis vote is clear, else
// four) and the page is turned only when one turn reads clearly better
// (OcrVote below). The engine is loaded on the first such page. Pages of a
// few huge letters that even the OCR vote cannot read at page scale get a
// large-type vote (VoteByLargeType): the same engine on reduced copies.
//
// In a lot the OCR stage reads every page anyway, so there the vote is
// deferred (OrientationOptions::defer_ocr_vote): the stage leaves the page
// as it is with the candidate turns in Page::orientation_candidates, and the
// OCR stage, having read the page, takes its reading as the vote for 0
// degrees when it reads as upright text (ReadsUpright) and only otherwise
// runs the vote (FinishOrientationByOcr) with its own engine: the common
// case, an upright form or table the cheap detectors could not judge, costs
// no extra reading. When the fast detector, unsure, still leans to upright,
// OSD is not asked either: that reading settles the page (a page turned
// after all still gets the vote there).
//
// Thread-safety and ownership: an OrientationDetector owns one Tesseract
// engine, initialised once in Create and reused for every page; it must be
// used by one thread at a time (the pipeline makes one stage instance per
// worker). Debian's Tesseract uses OpenMP: run with OMP_THREAD_LIMIT=1 so
// that the workers, not OpenMP, use the cores.
#ifndef ACERVO_STAGES_ORIENTATION_ORIENTATION_H_
#define ACERVO_STAGES_ORIENTATION_ORIENTATION_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/page_stage.h"
#include "acervo/core/status.h"
#include "acervo/stages/orientation/fast_orientation.h"

namespace tesseract {
class TessBaseAPI;
}

namespace acervo {

struct OrientationOptions {
  // Folder holding osd.traineddata. Empty: $TESSDATA_PREFIX if set, else
  // Debian's /usr/share/tesseract-ocr/5/tessdata.
  std::string tessdata_dir;
  // Tesseract's orientation confidence needed to turn a page. Measured on
  // the shared corpus, each page in 4 turns: 9-11 on tesseract's phototest
  // (one paragraph), 14-38 on full text pages, 1-7 on forms, charts and
  // multi-column reports (right answers, but too weak to trust), and wrong
  // answers reached 5.96 (a degraded 100 dpi scan). [0, 100].
  double min_confidence = 8;
  // Median character height, in pixels, that OSD is given. OSD needs
  // characters of a certain pixel size: on 150 dpi scans it finds too few, or
  // worse, answers 90 for 270 with confidence 12. The page is rescaled (0.5x
  // to 3x) when its median connected-component height is outside
  // [0.7, 2] x this; measured medians of 300 dpi text pages are 18-23 px.
  // The size is measured rather than taken from the page's dpi because many
  // files carry no or a wrong resolution. [8, 60].
  double text_height_px = 20;
  // Use the fast detector first; false: OSD on every page.
  bool fast = true;
  FastOrientationOptions fast_options;
  // The OCR vote when both detectors are unsure; false: leave such pages.
  bool ocr_vote = true;
  // Tesseract languages (LSTM models) the vote reads with: the lot's.
  std::string ocr_languages = "eng";
  // The large-type vote (VoteByLargeType) when the OCR vote leaves a page
  // unsure too. Ignored when ocr_vote is off (it reads with that engine).
  bool large_type_vote = true;
  // Leave the OCR vote (and the large-type vote) to the OCR stage that
  // follows: see above. The stage then loads no engine of its own for it.
  bool defer_ocr_vote = false;
};

// What the OCR vote saw at one candidate turn.
struct OcrVoteReading {
  int orientation_deg = 0;
  // Characters (letters and digits) of words read with confidence >= 80,
  // and of those words found in the language's dictionary.
  int sure_chars = 0;
  int dictionary_chars = 0;
  // Of sure_chars, those in words wider than tall: read along the rows
  // rather than as vertical lines Tesseract found and turned.
  int wide_sure_chars = 0;
  double mean_confidence = 0;  // over all words read, 0 when none
  int words = 0;
};

struct OcrVote {
  int orientation_deg = 0;  // the clear winner, 0 when none
  bool decided = false;
  // One per candidate turn, then, when a sideways turn won a vote without
  // 0 among the candidates, the page as it is (0), which it must match.
  std::vector<OcrVoteReading> readings;
};

// What the large-type vote saw (VoteByLargeType).
struct LargeTypeVote {
  int orientation_deg = 0;  // the clear winner, 0 when none
  bool decided = false;
  // False when the page was not read: no letter-sized shapes of large type
  // (ordinary text, blank, a single picture or logo).
  bool ran = false;
  double glyph_px = 0;  // the estimated glyph size (page pixels), 0 if none
  // Per turn (index orientation_deg / 90): the votes of the readings (one
  // per reduction and smoothing; up to 12). A reading votes for the turn where it
  // read a long word with clearly the best confidence, or abstains.
  int votes[4] = {0, 0, 0, 0};
};

struct OrientationEstimate {
  int orientation_deg = 0;      // 0/90/180/270, counter-clockwise; 0 if unsure
  float confidence = 0;         // Tesseract's orientation confidence
  bool detected = false;        // Tesseract found enough text to decide
  int raw_orientation_deg = 0;  // Tesseract's answer even when not trusted
  std::string script;           // e.g. "Latin"; empty when not detected
  bool fast = false;            // decided by the fast detector, OSD not run
  bool ocr_vote = false;        // decided (or tried) by the OCR vote
  bool large_type = false;      // decided (or read) by the large-type vote
  // The scale the page was given to OSD at (1: as it is; 0: OSD did not
  // run). OSD's time grows with the pixels it is given.
  double osd_scale = 0;
  // With defer_ocr_vote: the turns the OCR vote would have read (empty when
  // the cheap detectors decided).
  std::vector<int> deferred_candidates;
};

// Checks every field; InvalidArgument names the bad one.
Status ValidateOrientationOptions(const OrientationOptions& options);

class OrientationDetector {
 public:
  // Loads the OSD model. InvalidArgument for bad options, Unavailable when
  // osd.traineddata cannot be loaded or (ocr_vote on) a model of
  // ocr_languages is not installed (message names the folder).
  static Result<std::unique_ptr<OrientationDetector>> Create(
      const OrientationOptions& options);
  ~OrientationDetector();
  OrientationDetector(const OrientationDetector&) = delete;
  OrientationDetector& operator=(const OrientationDetector&) = delete;

  // Detects the orientation of `image` (8-bit gray, BGR or BGRA); `dpi` is
  // only passed on to Tesseract as the image's resolution (300 if unknown). Success always yields an estimate, which is 0
  // with detected=false for pages with too little text (and for images under
  // 32x32 pixels, which Tesseract cannot take). InvalidArgument for an empty
  // image or a bad type.
  Result<OrientationEstimate> DetectOrientation(const cv::Mat& image, double dpi = 300);

  // The OCR vote on `image` (as DetectOrientation) among `candidates`
  // (orientations 0/90/180/270, counter-clockwise). decided=false when no
  // turn reads clearly better, or the page has too little text, or a
  // sideways winner of candidates without 0 reads less than the page as it
  // is (read as the check). Unavailable
  // when the LSTM models of options.ocr_languages cannot be loaded (on the
  // first call); InvalidArgument as DetectOrientation.
  Result<OcrVote> VoteByOcr(const cv::Mat& image, const std::vector<int>& candidates);

  // The large-type vote on `image` (as DetectOrientation): for pages whose
  // only text is a few huge letters (posters, title art, letters drawn with
  // blurred strokes or built of separate shapes), which every other method
  // sees as a handful of pictures. The glyph size is estimated on a coarse
  // copy; the page is then reduced so that glyphs are ~24-56 px (which also
  // merges letters built of pieces and sharpens blurred strokes),
  // binarised, and read at all four turns at several reductions and
  // smoothings. A turn wins only when several readings read a long word
  // there with clearly better confidence than at any other turn, and
  // (almost) no reading prefers another turn.
  // ran=false, decided=false for pages without large type. Errors as
  // VoteByOcr.
  Result<LargeTypeVote> VoteByLargeType(const cv::Mat& image);

  // FinishOrientationByOcr (below) with this detector's own OCR engine.
  Status FinishByOcr(const cv::Mat& image, const std::vector<int>& candidates, bool large_type_vote,
                     OrientationEstimate* est);

 private:
  OrientationDetector(const OrientationOptions& options,
                      std::unique_ptr<tesseract::TessBaseAPI> api);
  OrientationOptions options_;
  std::unique_ptr<tesseract::TessBaseAPI> api_;
  // Loads the OCR vote's engine on first use.
  Status EnsureOcrEngine();
  std::unique_ptr<tesseract::TessBaseAPI> ocr_api_;  // loaded on first vote
};

// Returns `image` turned clockwise by `orientation_deg` (0/90/180/270), which
// undoes a counter-clockwise orientation of that size. Other values return
// the image unchanged. The result shares no pixels with the input unless
// orientation_deg is 0.
cv::Mat UprightImage(const cv::Mat& image, int orientation_deg);

// The OCR vote and the large-type vote on `image` with the engine `api` (an
// LSTM engine of the lot's languages; its page segmentation mode is changed,
// the caller sets its own again), as OrientationDetector's members of the
// same names. Not thread-safe with other users of `api`.
Result<OcrVote> VoteByOcr(tesseract::TessBaseAPI& api, const cv::Mat& image,
                          const std::vector<int>& candidates);
Result<LargeTypeVote> VoteByLargeType(tesseract::TessBaseAPI& api, const cv::Mat& image);

// The end of DetectOrientationFastThenOsd for a page both cheap detectors
// left unsure: the OCR vote among `candidates`, then (when it read little at
// every turn and `large_type_vote`) the large-type vote, with `api`. Sets
// est's orientation_deg, detected, ocr_vote and large_type.
Status FinishOrientationByOcr(tesseract::TessBaseAPI& api, const cv::Mat& image,
                              const std::vector<int>& candidates, bool large_type_vote,
                              OrientationEstimate* est);

// Whether an OCR reading of a whole page (its words and their confidences,
// 0..100) shows upright text: enough characters in words read with
// confidence 80 or more, and those a large share of all it read. Text read
// sideways or upside down yields a few short "sure" words among garbage.
// What the OCR stage takes as the vote for 0 degrees (see above).
bool ReadsUpright(const std::vector<Word>& words);

// Fast detector first, OSD when it is unsure (or always when options.fast is
// false). An OSD answer below min_confidence is still taken when it equals
// the fast detector's lean (FastOrientation::leans), and an answer above it
// is not taken when the fast detector leans to another turn. When neither decides and
// options.ocr_vote is set, the OCR vote decides or leaves the page (0); when
// it leaves it having read little text at every turn (fewer sure characters
// than it needs to decide) and options.large_type_vote is set, the
// large-type vote decides or leaves it.
// Errors as DetectOrientation and VoteByOcr.
Result<OrientationEstimate> DetectOrientationFastThenOsd(OrientationDetector& osd,
                                                         const OrientationOptions& options,
                                                         const cv::Mat& image, double dpi);

// The stage: detects page.image's orientation (fast detector, then OSD when
// unsure), turns the image upright when the estimate is trusted, and sets orientation_deg (0 when unsure),
// orientation_confidence and the flag "orientation_fixed" when it turned the
// page. Width and height swap for 90/270, and so do dpi_x and dpi_y.
class OrientationStage : public PageStage {
 public:
  static constexpr std::string_view kName = "orientation";
  // 5: OSD is not given pages enlarged for halftone grain (osd_scale)
  static constexpr int kVersion = 5;

  // As OrientationDetector::Create.
  static Result<std::unique_ptr<PageStage>> Create(const OrientationOptions& options);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  // InvalidArgument when page.image is empty or not 8-bit.
  Result<Page> Run(Page page, const PageContext& ctx) override;

 private:
  OrientationStage(const OrientationOptions& options,
                   std::unique_ptr<OrientationDetector> detector)
      : options_(options), detector_(std::move(detector)) {}
  OrientationOptions options_;
  std::unique_ptr<OrientationDetector> detector_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_ORIENTATION_ORIENTATION_H_
