// OCR stage: Tesseract 5 through its C++ API.
//
// One OcrStage owns one tesseract::TessBaseAPI, initialised in Create()
// (loading the language models takes ~0.3 s and ~60 MB; reloaded only to
// switch Tesseract's inverted retry, below); the pipeline creates
// one stage per worker thread, so engines are never shared and need no lock.
//
// Tesseract's own OpenMP threading must be off (OMP_THREAD_LIMIT=1 in the
// environment before the process starts; the acervo CLI re-executes itself to
// guarantee it): with a worker per core, OpenMP threads only fight over the
// same cores (measured: 4x slower on two cores). With the limit at 1 the
// regions Tesseract opens (one per LSTM time step) run directly on the
// worker's thread, without libgomp's one-thread team and its system call
// per region (src/openmp_regions.h: -21% of the stage's CPU, same text).
//
// Run() recognises page.image (already upright and deskewed; page.ocr_image
// instead when a stage left one, which Run then releases) and fills
// page.words (boxes in page.image pixels), page.text (lines joined by '\n',
// blocks separated by an empty line) and page.mean_confidence, and flags
// "low_confidence" below Options::min_confidence. Tesseract is told the
// page's resolution; when the page loader guessed it (flags "no_dpi",
// "implausible_dpi") and the page reads as empty or below min_confidence,
// it is read once more with Tesseract estimating the resolution from the
// text lines, and the more confident reading is kept. A page of small type
// (words under small_type_px, 11 px: a 10-pt page scanned at 100-150 dpi,
// told by the height of its ink's glyphs before reading) is read enlarged
// twice instead, its boxes mapped back to page.image pixels, and flagged
// "small_type". A page whose orientation the orientation stage left to the
// OCR vote (Page::orientation_candidates) is settled here: its reading,
// when it reads as upright text, is the vote; otherwise the vote runs with
// this engine and a page found turned is turned and read again.
// Tesseract's inverted retry of each doubtful line runs only on pages that
// may hold light text on a dark ground (a header band, a reversed stamp, a
// negative), flagged "light_on_dark" (Options::invert_retry).
// A colour page over 24 Mpx is given to Tesseract in gray (TesseractGray),
// others in colour; page.image stays in colour.
// Blank pages are not given to OCR by the pipeline. The page deadline in PageContext and its cancel flag
// stop recognition early: DeadlineExceeded / Cancelled.
#ifndef ACERVO_STAGES_OCR_OCR_H_
#define ACERVO_STAGES_OCR_OCR_H_

#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "acervo/core/page_stage.h"

namespace tesseract {
class TessBaseAPI;
}

namespace acervo {

struct OcrOptions {
  std::string languages = "por+eng";  // Tesseract language list
  std::string tessdata_dir;           // empty: Tesseract's default location
  int page_segmentation_mode = 3;     // PSM_AUTO: layout analysis, no OSD
  double min_confidence = 60;         // flag pages whose mean is lower
  // Pages whose median word height (px) is below this are read once more
  // enlarged twice (see above); 0 turns that off. 0..64.
  int small_type_px = 11;
  // Tesseract's own retry of every low-confidence text line inverted
  // (tessedit_do_invert, up to three LSTM passes a line, in every language
  // tried) on every page. False: only on pages that may hold light text on
  // a dark ground (flag "light_on_dark"), told before reading; the engine
  // is reloaded (~0.17 s) when a page needs the other setting than the last.
  bool invert_retry = false;
};

class OcrStage final : public PageStage {
 public:
  // InvalidArgument for an empty language list or a bad mode; Unavailable when
  // a language model is not installed (the message names it and the folder).
  static Result<std::unique_ptr<PageStage>> Create(const OcrOptions& options);
  ~OcrStage() override;

  std::string_view Name() const override { return "ocr"; }
  // 3: small type re-read enlarged; 4: small type read once (told by
  // glyph size), deferred orientation votes settled, block/paragraph ids;
  // 5: colour pages over 24 Mpx given to Tesseract as Leptonica's luminance;
  // 6: Tesseract's inverted retry only on pages that may hold light text on
  // a dark ground
  int Version() const override { return 6; }
  Result<Page> Run(Page page, const PageContext& ctx) override;

 private:
  OcrStage(const OcrOptions& options, std::unique_ptr<tesseract::TessBaseAPI> api, bool invert_retry);
  // Makes the engine retry doubtful lines inverted or not, reloading it when
  // it is loaded the other way. Unavailable when the reload fails (the next
  // call tries again).
  Status UseInvertRetry(bool on);
  // Recognises the image set on api_ into page.words and page.text
  // (replacing them). Cancelled / DeadlineExceeded / Internal as Run.
  Status RecognizeOnce(Page& page, const PageContext& ctx);
  // Reads `img` (page.image or what replaces it for OCR, BGR or gray) into
  // page.words/text/mean_confidence: enlarged when its type is small, else
  // at the page's resolution (and once more without one when that was
  // guessed and read badly). `img` is let go as soon as Tesseract holds its
  // own copy (pass the last reference to free it). Errors as RecognizeOnce;
  // Internal when Leptonica cannot allocate the page.
  Status ReadPage(Page& page, cv::Mat img, const PageContext& ctx);
  OcrOptions options_;  // tessdata_dir resolved
  std::unique_ptr<tesseract::TessBaseAPI> api_;
  bool invert_retry_;   // how api_ was loaded
  bool loaded_ = true;  // false after a failed reload
};

// The gray Tesseract is given for a very large colour (BGR, CV_8UC3)
// page: Leptonica's luminance (0.3 R + 0.5 G + 0.2 B, rounded half up), bit
// for bit the gray Tesseract's LSTM computes from each line of a colour
// page. What differs from giving the colour page is Tesseract's page
// thresholding for its layout analysis (Otsu on this gray instead of per
// channel) and memory: Tesseract copies its input twice at 4 bytes a pixel
// for colour, 1 for gray (a 300-dpi Letter page: 67 MB -> 17 MB).
cv::Mat TesseractGray(const cv::Mat& bgr);

// Default tessdata folder of this system's Tesseract ("" if unknown).
std::string DefaultTessdataDir();

}  // namespace acervo

#endif  // ACERVO_STAGES_OCR_OCR_H_
