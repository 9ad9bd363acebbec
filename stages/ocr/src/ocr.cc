#include "acervo/stages/ocr/ocr.h"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <opencv2/imgproc.hpp>

#include "acervo/core/memory.h"
#include "acervo/stages/imageops/imageops.h"
#include "acervo/stages/orientation/orientation.h"
#include "line_images.h"
#include "openmp_regions.h"
#include "polarity.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

// Colour pages over this many pixels are read in gray (see Run).
constexpr double kMaxColourPixels = 24e6;

bool CancelRequested(void* ctx, int /*words*/) {
  return static_cast<const PageContext*>(ctx)->Cancelled();
}

std::vector<std::string> SplitLanguages(const std::string& langs) {
  std::vector<std::string> out;
  std::stringstream ss(langs);
  std::string item;
  while (std::getline(ss, item, '+')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// How much a page of small type is enlarged; see OcrStage::ReadPage.
constexpr double kSmallTypeScale = 2.0;
// Median height of words of three or more characters over the measured
// glyph height (MeasureGlyphs), 1.2-1.6 on corpus and generated pages.
constexpr double kWordPerGlyphHeight = 1.4;

// The page's glyph height in pixels (0: too little text to tell). A page
// whose glyphs are clearly large at half the resolution is measured there
// (a quarter of the pixels); only small ones need every pixel.
double GlyphHeight(const cv::Mat& img) {
  cv::Mat gray;
  if (img.channels() == 3) {
    cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
  } else {
    gray = img;
  }
  if (std::min(gray.cols, gray.rows) >= 1600) {
    const GlyphSize half = MeasureGlyphs(ReduceByArea(gray, 0.5));
    if (half.count >= 30 && half.height_px >= 8) return 2 * half.height_px;
  }
  return MeasureGlyphs(gray).height_px;
}

// Maps boxes and baselines read on an enlarged image back to the page
// (clamped to it).
void ScaleWordGeometry(std::vector<Word>& words, double f, cv::Size page) {
  const cv::Rect bounds(0, 0, page.width, page.height);
  for (Word& w : words) {
    int x1 = static_cast<int>(std::floor(w.box.x * f));
    int y1 = static_cast<int>(std::floor(w.box.y * f));
    int x2 = static_cast<int>(std::ceil((w.box.x + w.box.width) * f));
    int y2 = static_cast<int>(std::ceil((w.box.y + w.box.height) * f));
    w.box = cv::Rect(x1, y1, std::max(1, x2 - x1), std::max(1, y2 - y1)) & bounds;
    if (w.baseline >= 0) w.baseline = std::min(page.height - 1, static_cast<int>(std::lround(w.baseline * f)));
  }
}

struct PixDeleter {
  void operator()(Pix* p) const { pixDestroy(&p); }
};
using PixPtr = std::unique_ptr<Pix, PixDeleter>;

// The Leptonica image Tesseract would build from `img` (8-bit gray, or BGR
// as 32-bit RGB with a zero alpha byte: what TessBaseAPI::SetImage makes of
// RGB bytes), made straight from OpenCV's BGR so that no RGB copy of the
// page is needed. Null when Leptonica cannot allocate it.
PixPtr PixFromMat(const cv::Mat& img) {
  PixPtr pix(pixCreate(img.cols, img.rows, img.channels() == 3 ? 32 : 8));
  if (pix == nullptr) return pix;
  l_uint32* line = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < img.rows; ++y, line += wpl) {
    const uint8_t* s = img.ptr<uint8_t>(y);
    if (img.channels() == 3) {
      for (int x = 0; x < img.cols; ++x, s += 3) composeRGBPixel(s[2], s[1], s[0], line + x);
    } else {
      for (int x = 0; x < img.cols; ++x) SET_DATA_BYTE(line, x, s[x]);
    }
  }
  return pix;
}

// Loads the languages of `options` (tessdata_dir resolved) into `api`.
// Tesseract's inverted retry of low-confidence lines (tessedit_do_invert)
// is set here, as a load-time variable, or not at all: SetVariable reaches
// the first language only, and each further one keeps the value it was
// loaded with (its own Tesseract instance). Reloading por+eng takes
// ~0.17 s of CPU.
Status InitEngine(tesseract::TessBaseAPI& api, const OcrOptions& options, bool invert_retry) {
  const std::vector<std::string> vars = {"tessedit_do_invert"};
  const std::vector<std::string> values = {invert_retry ? "1" : "0"};
  if (api.Init(options.tessdata_dir.c_str(), options.languages.c_str(), tesseract::OEM_LSTM_ONLY, nullptr, 0,
               &vars, &values, false) != 0) {
    return Status::Unavailable("OCR: Tesseract could not load '" + options.languages + "' from " +
                               options.tessdata_dir);
  }
  api.SetPageSegMode(static_cast<tesseract::PageSegMode>(options.page_segmentation_mode));
  // Tesseract writes "Estimating resolution" and similar notes to stderr;
  // we set the resolution ourselves and keep stderr for our progress.
  api.SetVariable("debug_file", "/dev/null");
  return Status::OK();
}

}  // namespace

cv::Mat TesseractGray(const cv::Mat& bgr) {
  CV_Assert(bgr.type() == CV_8UC3);
  // Leptonica's pixConvertRGBToLuminance, the conversion Tesseract applies
  // to each line of a colour page before its LSTM reads it (pixConvertTo8
  // in Input::PreparePixInput): weights 0.3/0.5/0.2 as floats, summed in
  // float and rounded half up, written out so the result is bit-identical.
  constexpr float kRed = 0.3f, kGreen = 0.5f, kBlue = 0.2f;
  cv::Mat gray(bgr.size(), CV_8UC1);
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* s = bgr.ptr<uint8_t>(y);
    uint8_t* d = gray.ptr<uint8_t>(y);
    for (int x = 0; x < bgr.cols; ++x, s += 3) {
      const float sum = kRed * s[2] + kGreen * s[1] + kBlue * s[0];
      d[x] = static_cast<uint8_t>(static_cast<int>(static_cast<double>(sum) + 0.5));
    }
  }
  return gray;
}

std::string DefaultTessdataDir() {
  for (const char* dir : {"/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                          "/usr/share/tessdata", "/usr/local/share/tessdata"}) {
    if (fs::is_directory(dir)) return dir;
  }
  return "";
}

Result<std::unique_ptr<PageStage>> OcrStage::Create(const OcrOptions& options) {
  std::vector<std::string> langs = SplitLanguages(options.languages);
  if (langs.empty()) return Status::InvalidArgument("OCR: empty language list");
  if (options.page_segmentation_mode < 0 || options.page_segmentation_mode > 13) {
    return Status::InvalidArgument("OCR: page segmentation mode must be 0..13");
  }
  if (options.small_type_px < 0 || options.small_type_px > 64) {
    return Status::InvalidArgument("OCR: small_type_px must be 0..64");
  }
  std::string dir = options.tessdata_dir;
  if (dir.empty()) {
    const char* env = std::getenv("TESSDATA_PREFIX");
    dir = env != nullptr ? env : DefaultTessdataDir();
  }
  for (const std::string& l : langs) {
    if (!fs::exists(fs::path(dir) / (l + ".traineddata"))) {
      return Status::Unavailable("OCR: language model '" + l + "' not found in " + dir +
                                 " (install tesseract-ocr-" + l + ")");
    }
  }
  // Leptonica reports recoverable internal conditions ("box outside
  // rectangle") on stderr; they are not the operator's business and would
  // drown the progress lines. Process-wide, but idempotent.
  setMsgSeverity(L_SEVERITY_NONE);
  // Tesseract's OpenMP regions run directly on the worker's thread when the
  // thread limit is 1 (openmp_regions.h); the limit is read here, once,
  // before any worker reads a page.
  (void)OneThreadOpenMp::Active();
  auto api = std::make_unique<tesseract::TessBaseAPI>();
  OcrOptions resolved = options;
  resolved.tessdata_dir = dir;
  ACERVO_RETURN_IF_ERROR(InitEngine(*api, resolved, options.invert_retry));
  return std::unique_ptr<PageStage>(new OcrStage(resolved, std::move(api), options.invert_retry));
}

OcrStage::OcrStage(const OcrOptions& options, std::unique_ptr<tesseract::TessBaseAPI> api, bool invert_retry)
    : options_(options), api_(std::move(api)), invert_retry_(invert_retry) {}

Status OcrStage::UseInvertRetry(bool on) {
  if (on == invert_retry_ && loaded_) return Status::OK();
  api_->End();
  loaded_ = false;
  // The models' memory back to the kernel before they are loaded again:
  // kept free in the heap, a reload placed elsewhere would add its ~60 MB
  // to the process's peak.
  ReleaseFreeMemory();
  ACERVO_RETURN_IF_ERROR(InitEngine(*api_, options_, on));
  invert_retry_ = on;
  loaded_ = true;
  return Status::OK();
}

OcrStage::~OcrStage() {
  if (api_ && loaded_) api_->End();
}

Result<Page> OcrStage::Run(Page page, const PageContext& ctx) {
  if (page.image.empty()) return Status::InvalidArgument(page.origin.Describe() + ": no image to OCR");
  // An engine whose reload failed on an earlier page is loaded again before
  // anything here uses it (the orientation vote reads with it too).
  if (!loaded_) ACERVO_RETURN_IF_ERROR(UseInvertRetry(invert_retry_));
  cv::Mat img = page.ocr_image.empty() ? page.image : page.ocr_image;
  page.ocr_image.release();  // read once; the page keeps `image`
  if (img.type() == CV_8UC3 && static_cast<double>(img.total()) > kMaxColourPixels) {
    // A very large colour page (A3 at 600 dpi: 70 Mpx) is read in gray
    // (TesseractGray, what Tesseract's LSTM reads of colour anyway):
    // Tesseract copies what it is given at 4 bytes a pixel, and the RGB
    // copy for it would take 3 more (~500 MB for that page).
    img = TesseractGray(img);
  } else if (img.type() != CV_8UC3 && img.type() != CV_8UC1) {
    return Status::InvalidArgument(page.origin.Describe() + ": OCR needs an 8-bit image");
  }
  // Other colour pages are read in colour: Tesseract thresholds them per
  // channel for its layout analysis, which reads stamped and coloured pages
  // a little differently from their gray (measured on 9 colour pages,
  // docs/benchmarks.md: gray would move two pages' CER up by 0.14-0.17
  // points and three down, saving ~75 MB a page in Tesseract's copies; not
  // taken, accuracy first). ReadPage lets the image it is handed go once
  // Tesseract's own copy is made (the deskewed colour copy only OCR reads,
  // Page::ocr_image, 25 MB for a Letter page); it is kept here only when a
  // turned page may have to be read again.
  if (page.orientation_candidates.empty()) {
    ACERVO_RETURN_IF_ERROR(ReadPage(page, std::move(img), ctx));
    img.release();
  } else {
    ACERVO_RETURN_IF_ERROR(ReadPage(page, img, ctx));
  }
  // The orientation stage left the OCR vote to us (stages/orientation,
  // defer_ocr_vote): a reading of upright text is the vote for 0 degrees,
  // and costs nothing more. Otherwise the vote runs on the page as it is
  // now (deskewed, cleaned) and, when it finds another turn, the page is
  // turned and read again.
  if (!page.orientation_candidates.empty()) {
    const std::vector<int> candidates = std::move(page.orientation_candidates);
    page.orientation_candidates.clear();
    if (!ReadsUpright(page.words)) {
      // The votes see the page as the orientation stage would have (BGR
      // when colour: the large-type vote measures ink as the darkest
      // channel, and coloured letters are light in gray).
      OrientationEstimate est;
      Status voted = Status::OK();
      {
        UncompressedLineImages uncompressed;  // its readings too (line_images.h)
        voted = FinishOrientationByOcr(*api_, page.image, candidates, true, &est);
      }
      api_->SetPageSegMode(static_cast<tesseract::PageSegMode>(options_.page_segmentation_mode));
      ACERVO_RETURN_IF_ERROR(voted);
      if (est.orientation_deg != 0) {
        page.image = UprightImage(page.image, est.orientation_deg);
        if (!page.paper_tone.empty()) page.paper_tone = UprightImage(page.paper_tone, est.orientation_deg);
        img = UprightImage(img, est.orientation_deg);
        if (est.orientation_deg != 180) std::swap(page.dpi_x, page.dpi_y);
        page.orientation_deg = est.orientation_deg;
        page.AddFlag("orientation_fixed");
        ACERVO_RETURN_IF_ERROR(ReadPage(page, std::move(img), ctx));
      }
    }
  }
  if (!page.words.empty() && page.mean_confidence < options_.min_confidence) {
    page.AddFlag("low_confidence");
  }
  // A page with ink (blank pages never reach OCR) of which not one word was
  // read is in the PDF without searchable text: a photograph or a drawing
  // needs nothing, text OCR could not read (a blurred scan, a skew measured
  // wrong) needs a person. Without this flag nothing would say so.
  if (page.words.empty()) page.AddFlag("no_text");
  return page;
}

Status OcrStage::ReadPage(Page& page, cv::Mat img, const PageContext& ctx) {
  auto mean_confidence = [](const std::vector<Word>& words) {
    double sum = 0;
    for (const Word& w : words) sum += w.confidence;
    return words.empty() ? 0.0 : sum / words.size();
  };
  // Small type: text whose words are under ~11 px tall (x-height ~5-7 px,
  // a 10-pt page scanned at 100-150 dpi) is below what Tesseract's line
  // finder and LSTM read reliably; read enlarged twice (bicubic), with the
  // resolution left for Tesseract to estimate, it reads far better
  // (measured on the corpus: a 137-dpi gray scan's CER 31.5% -> 5.5%, a
  // 154-dpi book page 1.8% -> 1.6%). Pages whose words are 12 px or more
  // read worse enlarged (a photographed page 0.7% -> 1.5%, a slide 7.9% ->
  // 55%), so they never are. Telling Tesseract twice the guessed resolution
  // instead of letting it estimate reads far worse (27.8%): its noise
  // filters then take the small glyphs for specks. The type size is
  // measured on the page's own ink before reading (MeasureGlyphs), so a
  // page is read once, at the scale it needs; words are ~1.4 times the
  // measured glyph height (corpus and generated pages, docs/benchmarks.md).
  // Light text on a dark ground is what Tesseract's inverted retry of
  // doubtful lines is for; a page without any is read without it
  // (polarity.h). Told before reading, from the page's own pixels.
  if (!options_.invert_retry) {
    const bool may_hold = MayHoldLightOnDark(img, page.dpi_y);
    ACERVO_RETURN_IF_ERROR(UseInvertRetry(may_hold));
    if (may_hold) page.AddFlag("light_on_dark");
  }
  if (options_.small_type_px > 0) {
    const double word_px = kWordPerGlyphHeight * GlyphHeight(img);
    if (word_px > 0 && word_px < options_.small_type_px) {
      const cv::Size size(img.cols, img.rows);
      PixPtr big;
      {
        cv::Mat enlarged;
        cv::resize(img, enlarged, cv::Size(), kSmallTypeScale, kSmallTypeScale, cv::INTER_CUBIC);
        img.release();
        big = PixFromMat(enlarged);
      }
      if (big == nullptr) return Status::Internal(page.origin.Describe() + ": no memory for OCR's image");
      api_->SetImage(big.get());  // Tesseract keeps a copy of its own
      big.reset();
      api_->SetSourceResolution(0);
      ACERVO_RETURN_IF_ERROR(RecognizeOnce(page, ctx));
      ScaleWordGeometry(page.words, 1.0 / kSmallTypeScale, size);
      page.mean_confidence = mean_confidence(page.words);
      page.AddFlag("small_type");
      return Status::OK();
    }
  }
  // A resolution the page loader guessed (the file had none, or an
  // implausible one such as a screen's 96) is still usually right for
  // scanned A4/Letter pages, and on the corpus telling it reads better than
  // Tesseract's own estimate (multi-column page: CER 8.9% vs 47.6%). But
  // on a crop or an odd-sized page it can be far off, and Tesseract then
  // finds no text at all (a 1999x1127 table crop given 136 dpi). So a page
  // with a guessed resolution that reads as empty or with a low mean
  // confidence is read once more without one (0): Tesseract then estimates
  // it from the height of the text lines. The reading with the higher mean
  // confidence is kept.
  const bool dpi_guessed = page.HasFlag("no_dpi") || page.HasFlag("implausible_dpi");
  PixPtr pix = PixFromMat(img);
  img.release();
  if (pix == nullptr) return Status::Internal(page.origin.Describe() + ": no memory for OCR's image");
  api_->SetImage(pix.get());  // Tesseract keeps a copy of its own until RecognizeOnce ends
  // Ours is kept only for a second reading (RecognizeOnce ends by clearing
  // Tesseract's): 4 bytes a pixel for colour, 1 for gray.
  if (!dpi_guessed) pix.reset();
  api_->SetSourceResolution(static_cast<int>(page.dpi_y + 0.5));
  ACERVO_RETURN_IF_ERROR(RecognizeOnce(page, ctx));
  page.mean_confidence = mean_confidence(page.words);
  if (dpi_guessed && (page.words.empty() || page.mean_confidence < options_.min_confidence)) {
    Page again = page;
    api_->SetImage(pix.get());
    pix.reset();
    api_->SetSourceResolution(0);
    ACERVO_RETURN_IF_ERROR(RecognizeOnce(again, ctx));
    again.mean_confidence = mean_confidence(again.words);
    if (page.words.empty() || again.mean_confidence > page.mean_confidence) page = std::move(again);
  }
  return Status::OK();
}

Status OcrStage::RecognizeOnce(Page& page, const PageContext& ctx) {
  tesseract::ETEXT_DESC monitor;
  monitor.cancel = &CancelRequested;
  monitor.cancel_this = const_cast<PageContext*>(&ctx);
  if (ctx.deadline != std::chrono::steady_clock::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        ctx.deadline - std::chrono::steady_clock::now());
    monitor.set_deadline_msecs(static_cast<int32_t>(std::max<int64_t>(1, left.count())));
  }
  int rc;
  {
    // Tesseract's line images kept uncompressed, not as PNG (line_images.h).
    UncompressedLineImages uncompressed;
    rc = api_->Recognize(&monitor);
  }
  if (ctx.Cancelled()) {
    api_->Clear();
    return Status::Cancelled(page.origin.Describe() + ": OCR cancelled");
  }
  if (monitor.deadline_exceeded()) {
    api_->Clear();
    return Status::DeadlineExceeded(page.origin.Describe() + ": OCR exceeded the page deadline");
  }
  if (rc != 0) {
    api_->Clear();
    return Status::Internal(page.origin.Describe() + ": Tesseract recognition failed");
  }

  page.words.clear();
  page.text.clear();
  int line = -1, block = -1, paragraph = -1;
  std::unique_ptr<tesseract::ResultIterator> it(api_->GetIterator());
  if (it) {
    const tesseract::PageIteratorLevel level = tesseract::RIL_WORD;
    bool first_word = true;
    int bx1 = 0, by1 = 0, bx2 = 0, by2 = 0;  // baseline of the current line
    bool have_baseline = false;
    // Boundaries seen on words without text still start the next block,
    // paragraph or line.
    bool new_block = false, new_para = false, new_line = false;
    do {
      new_block = new_block || it->IsAtBeginningOf(tesseract::RIL_BLOCK);
      new_para = new_para || it->IsAtBeginningOf(tesseract::RIL_PARA);
      new_line = new_line || it->IsAtBeginningOf(tesseract::RIL_TEXTLINE);
      if (it->Empty(level)) continue;
      std::unique_ptr<char[]> text(it->GetUTF8Text(level));
      if (!text || text[0] == '\0') continue;
      int x1, y1, x2, y2;
      it->BoundingBox(level, &x1, &y1, &x2, &y2);
      if (new_block || first_word) ++block;
      if (new_para || new_block || first_word) ++paragraph;
      if (new_line || first_word) {
        ++line;
        have_baseline = it->Baseline(tesseract::RIL_TEXTLINE, &bx1, &by1, &bx2, &by2);
      }
      if (!first_word) page.text += new_block ? "\n\n" : new_line ? "\n" : " ";
      first_word = false;
      new_block = new_para = new_line = false;
      page.text += text.get();
      Word w;
      w.text = text.get();
      w.box = cv::Rect(x1, y1, x2 - x1, y2 - y1);
      w.confidence = it->Confidence(level);
      w.line = line;
      w.block = block;
      w.paragraph = paragraph;
      if (have_baseline) {
        // The baseline may slope slightly; take it under the word's centre.
        double cx = x1 + (x2 - x1) / 2.0;
        double t = bx2 != bx1 ? (cx - bx1) / double(bx2 - bx1) : 0.0;
        w.baseline = static_cast<int>(by1 + t * (by2 - by1) + 0.5);
        // A baseline far outside the word's box is a layout-analysis slip.
        if (w.baseline < y1 || w.baseline > y2 + (y2 - y1)) w.baseline = -1;
      }
      page.words.push_back(std::move(w));
    } while (it->Next(level));
  }
  api_->Clear();
  return Status::OK();
}

}  // namespace acervo
