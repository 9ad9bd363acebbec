#include "acervo/stages/ocr/ocr.h"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/resultiterator.h>

#include <chrono>
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
  cv::Mat img = page.image;
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
  int line = -1;
  std::unique_ptr<tesseract::ResultIterator> it(api_->GetIterator());
  if (it) {
    const tesseract::PageIteratorLevel level = tesseract::RIL_WORD;
    bool first_word = true;
    int bx1 = 0, by1 = 0, bx2 = 0, by2 = 0;  // baseline of the current line
    bool have_baseline = false;
    do {
      if (it->Empty(level)) continue;
      std::unique_ptr<char[]> text(it->GetUTF8Text(level));
      if (!text || text[0] == '\0') continue;
      int x1, y1, x2, y2;
      it->BoundingBox(level, &x1, &y1, &x2, &y2);
      bool new_block = it->IsAtBeginningOf(tesseract::RIL_BLOCK);
      bool new_line = it->IsAtBeginningOf(tesseract::RIL_TEXTLINE);
      if (new_line || first_word) {
        ++line;
        have_baseline = it->Baseline(tesseract::RIL_TEXTLINE, &bx1, &by1, &bx2, &by2);
      }
      if (!first_word) page.text += new_block ? "\n\n" : new_line ? "\n" : " ";
      first_word = false;
      page.text += text.get();
      Word w;
      w.text = text.get();
      w.box = cv::Rect(x1, y1, x2 - x1, y2 - y1);
      w.confidence = it->Confidence(level);
      w.line = line;
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
