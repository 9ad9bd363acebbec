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

namespace acervo {
namespace {
namespace fs = std::filesystem;

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

// How much a page of small type is enlarged; see OcrStage::Run.
constexpr double kSmallTypeScale = 2.0;

// Median box height of the words with at least three characters (short
// words and punctuation are often just x-height or a dot); 0 when fewer
// than five such words, too few to judge.
int MedianWordHeight(const std::vector<Word>& words) {
  std::vector<int> h;
  for (const Word& w : words) {
    size_t chars = 0;
    for (unsigned char c : w.text) chars += (c & 0xC0) != 0x80;  // UTF-8 code points
    if (chars >= 3) h.push_back(w.box.height);
  }
  if (h.size() < 5) return 0;
  std::nth_element(h.begin(), h.begin() + h.size() / 2, h.end());
  return h[h.size() / 2];
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

}  // namespace

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
  auto api = std::make_unique<tesseract::TessBaseAPI>();
  if (api->Init(dir.c_str(), options.languages.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
    return Status::Unavailable("OCR: Tesseract could not load '" + options.languages + "' from " + dir);
  }
  api->SetPageSegMode(static_cast<tesseract::PageSegMode>(options.page_segmentation_mode));
  // Tesseract writes "Estimating resolution" and similar notes to stderr;
  // we set the resolution ourselves and keep stderr for our progress.
  api->SetVariable("debug_file", "/dev/null");
  return std::unique_ptr<PageStage>(new OcrStage(options, std::move(api)));
}

OcrStage::OcrStage(const OcrOptions& options, std::unique_ptr<tesseract::TessBaseAPI> api)
    : options_(options), api_(std::move(api)) {}

OcrStage::~OcrStage() {
  if (api_) api_->End();
}

Result<Page> OcrStage::Run(Page page, const PageContext& ctx) {
  if (page.image.empty()) return Status::InvalidArgument(page.origin.Describe() + ": no image to OCR");
  cv::Mat img = page.ocr_image.empty() ? page.image : page.ocr_image;
  page.ocr_image.release();  // read once; the page keeps `image`
  if (img.type() == CV_8UC3) {
    cv::Mat rgb;
    cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB);  // Tesseract expects RGB order
    img = rgb;
  } else if (img.type() != CV_8UC1) {
    return Status::InvalidArgument(page.origin.Describe() + ": OCR needs an 8-bit image");
  }
  if (!img.isContinuous()) img = img.clone();
  // A resolution the page loader guessed (the file had none, or an
  // implausible one such as a screen's 96) is still usually right for
  // scanned A4/Letter pages, and on the corpus telling it reads better than
  // Tesseract's own estimate (multi-column page: CER 8.9% vs 47.6%). But
  // on a crop or an odd-sized page it can be far off, and Tesseract then
  // finds no text at all (a 1999x1127 table crop given 136 dpi). So a page
  // with a guessed resolution that reads as empty or with a low mean
  // confidence is read once more without one (0): Tesseract then estimates
  // it from the height of the text lines (a 137 dpi gray scan: CER 48% ->
  // 34%). The reading with the higher mean confidence is kept.
  const bool dpi_guessed = page.HasFlag("no_dpi") || page.HasFlag("implausible_dpi");
  auto mean_confidence = [](const std::vector<Word>& words) {
    double sum = 0;
    for (const Word& w : words) sum += w.confidence;
    return words.empty() ? 0.0 : sum / words.size();
  };
  api_->SetImage(img.data, img.cols, img.rows, img.channels(), static_cast<int>(img.step));
  api_->SetSourceResolution(static_cast<int>(page.dpi_y + 0.5));
  ACERVO_RETURN_IF_ERROR(RecognizeOnce(page, ctx));
  page.mean_confidence = mean_confidence(page.words);
  if (dpi_guessed && (page.words.empty() || page.mean_confidence < options_.min_confidence)) {
    Page again = page;
    api_->SetImage(img.data, img.cols, img.rows, img.channels(), static_cast<int>(img.step));
    api_->SetSourceResolution(0);
    ACERVO_RETURN_IF_ERROR(RecognizeOnce(again, ctx));
    again.mean_confidence = mean_confidence(again.words);
    if (page.words.empty() || again.mean_confidence > page.mean_confidence) page = std::move(again);
  }
  // Small type: text whose words are under ~11 px tall (x-height ~5-7 px,
  // a 10-pt page scanned at 100-150 dpi) is below what Tesseract's line
  // finder and LSTM read reliably. Such a page is read once more enlarged
  // twice (bicubic), with the resolution left for Tesseract to estimate,
  // and the more confident reading is kept (boxes mapped back). Measured on
  // the corpus: a 137-dpi gray scan's CER 31.5% -> 5.5%, a 154-dpi book
  // page 1.8% -> 1.6%; pages whose words are 12 px or more read worse when
  // enlarged (a photographed page 0.7% -> 1.5%, a slide 7.9% -> 55%), so
  // they are never enlarged. Telling Tesseract twice the guessed resolution
  // instead of letting it estimate reads far worse (27.8%): its noise
  // filters then take the small glyphs for specks.
  if (!page.words.empty() && MedianWordHeight(page.words) < options_.small_type_px) {
    cv::Mat big;
    cv::resize(img, big, cv::Size(), kSmallTypeScale, kSmallTypeScale, cv::INTER_CUBIC);
    Page again = page;
    api_->SetImage(big.data, big.cols, big.rows, big.channels(), static_cast<int>(big.step));
    api_->SetSourceResolution(0);
    ACERVO_RETURN_IF_ERROR(RecognizeOnce(again, ctx));
    again.mean_confidence = mean_confidence(again.words);
    if (!again.words.empty() && again.mean_confidence >= page.mean_confidence) {
      ScaleWordGeometry(again.words, 1.0 / kSmallTypeScale, cv::Size(img.cols, img.rows));
      page = std::move(again);
    }
  }
  if (!page.words.empty() && page.mean_confidence < options_.min_confidence) {
    page.AddFlag("low_confidence");
  }
  return page;
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
  int rc = api_->Recognize(&monitor);
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
