#include "acervo/stages/orientation/orientation.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <leptonica/allheaders.h>
#include <opencv2/imgproc.hpp>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/resultiterator.h>

#include "acervo/stages/imageops/imageops.h"

namespace acervo {
namespace {

constexpr const char* kDebianTessdata = "/usr/share/tesseract-ocr/5/tessdata";

// Smallest image handed to Tesseract: smaller ones trip assertions inside
// OSD (which abort the process) and cannot hold a readable line anyway.
constexpr int kMinSide = 32;

// Largest image (pixels) handed to OSD after rescaling.
constexpr double kMaxPixels = 27e6;

std::string TessdataDir(const OrientationOptions& options) {
  if (!options.tessdata_dir.empty()) return options.tessdata_dir;
  if (const char* env = std::getenv("TESSDATA_PREFIX"); env != nullptr && *env) return env;
  return kDebianTessdata;
}

// Owns a Leptonica image for the duration of one detection.
struct PixDeleter {
  void operator()(Pix* pix) const { pixDestroy(&pix); }
};
using PixPtr = std::unique_ptr<Pix, PixDeleter>;

// Copies a binary 8-bit Mat (paper 255, ink 0) into a 1 bpp Pix (ink 1)
// carrying `dpi`, so that Tesseract does not warn about (and guess) a
// missing resolution. One bit a pixel: OSD is handed pages enlarged up to
// kMaxPixels, and Tesseract copies what it is given.
PixPtr ToBinaryPix(const cv::Mat& binary, int dpi) {
  PixPtr pix(pixCreate(binary.cols, binary.rows, 1));
  if (!pix) return pix;
  l_uint32* data = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < binary.rows; ++y) {
    const uint8_t* src = binary.ptr<uint8_t>(y);
    l_uint32* line = data + static_cast<size_t>(y) * wpl;
    for (int x = 0; x < binary.cols; ++x) {
      if (src[x] < 128) SET_DATA_BIT(line, x);
    }
  }
  pixSetResolution(pix.get(), dpi, dpi);
  return pix;
}

// Median height of the character-sized connected components of the ink in
// `binary` (ink = 0), or 0 when there are too few to tell. `binary` is
// inverted in place for the labelling and restored (no page-sized copy: this
// is the orientation stage's memory peak on large pages).
int MedianCharHeight(cv::Mat& binary) {
  cv::bitwise_not(binary, binary);
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8, CV_32S);
  labels.release();
  cv::bitwise_not(binary, binary);
  std::vector<int> heights;
  for (int i = 1; i < n; ++i) {
    const int h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH);
    // Skip specks and rules, pictures and borders.
    if (h >= 4 && h <= 300 && w >= 2 && w <= 300) heights.push_back(h);
  }
  if (heights.size() < 20) return 0;
  auto mid = heights.begin() + heights.size() / 2;
  std::nth_element(heights.begin(), mid, heights.end());
  return *mid;
}

// The OCR vote reads a square of at most kVoteWindowPx pixels, after scaling
// the page so that its median character (larger side) is kVoteCharPx: ~30
// lines of ~60 characters, enough text on any page and ~0.2-0.4 s a turn
// for the fast LSTM models.
constexpr double kVoteCharPx = 30;
constexpr int kVoteWindowPx = 1000;
// A recognition that takes more CPU than this is abandoned (what it read so
// far still counts). CPU time of the reading thread, not wall time: with
// wall time, a loaded machine (an overnight batch beside other jobs; two
// workers and other processes on 2 cores) cut the readings short and the
// same page was turned differently from one run to the next.
constexpr int kVoteCpuBudgetMs = 4000;
// Wall-time backstop for a reading that makes no progress at all.
constexpr int kVoteDeadlineMs = 60000;
// The winner's sure characters: at least this many, and this many times
// those of any other turn (see VoteByOcr).
constexpr int kVoteMinSureChars = 30;
constexpr int kVoteMinRatio = 3;
// A whole-page reading taken as upright (ReadsUpright): at least this many
// characters in sure words (conf >= 80), at least this share of all the
// characters read in words of two or more, and this share of the words of
// three or more wider than tall. Measured (docs/benchmarks.md, issue 16):
// upright corpus and generated pages read 0.43-1.0 of their characters
// sure (a police form with handwriting 0.43), pages turned 90 or 180
// degrees 0.01-0.15; Tesseract reads some pages turned 270 degrees as
// vertical text (0.44-0.99 sure) but then in tall word boxes.
constexpr int kUprightMinSureChars = 30;
constexpr double kUprightMinSureShare = 0.3;
constexpr double kUprightMinWideShare = 0.7;

// The character size of `ink` (ink = 255): the area-weighted median of the
// larger sides of its components, so that specks, halftone dots of shaded
// table rows and dotted leaders (many, but little ink) do not pull it down,
// and the same on a page and its quarter turn. Also the centroids of the
// components of about that size (where the text is). 0 when there are
// fewer than 3 components.
double CharSizeAndCentroids(const cv::Mat& ink, std::vector<cv::Point2f>* centroids) {
  cv::Mat labels, stats, cents;
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, cents, 8, CV_32S);
  struct Sized {
    int side, area;
    cv::Point2f at;
  };
  std::vector<Sized> comps;
  double total_area = 0;
  for (int i = 1; i < n; ++i) {
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    const int side = std::max(w, h);
    // Not specks, rules, frames or pictures.
    if (side < 4 || side > std::min(ink.rows, ink.cols) / 3 || area < 0.08 * w * h) continue;
    comps.push_back({side, area,
                     cv::Point2f(static_cast<float>(cents.at<double>(i, 0)),
                                 static_cast<float>(cents.at<double>(i, 1)))});
    total_area += area;
  }
  if (comps.size() < 3) return 0;
  std::vector<Sized> sorted = comps;
  std::sort(sorted.begin(), sorted.end(), [](const Sized& a, const Sized& b) { return a.side < b.side; });
  double median = sorted.back().side, seen = 0;
  for (const Sized& c : sorted) {
    seen += c.area;
    if (seen >= 0.5 * total_area) {
      median = c.side;
      break;
    }
  }
  for (const Sized& c : comps) {
    if (c.side >= 0.5 * median && c.side <= 2.5 * median) centroids->push_back(c.at);
  }
  return median;
}

// The square window of side `side` in `ink` holding the most points, not
// counting points in cells that are more than a quarter ink: text printed on
// a halftone-shaded table column merges with the dots into letter-sized
// blobs, and Tesseract reads nothing there.
cv::Rect DensestWindow(const std::vector<cv::Point2f>& points, const cv::Mat& ink, int side) {
  const cv::Size size = ink.size();
  const int cell = std::max(8, side / 16);
  const int cols = (size.width + cell - 1) / cell, rows = (size.height + cell - 1) / cell;
  cv::Mat density;
  cv::resize(ink, density, cv::Size(cols, rows), 0, 0, cv::INTER_AREA);
  cv::Mat counts = cv::Mat::zeros(rows, cols, CV_32S);
  for (const cv::Point2f& p : points) {
    const int c = std::clamp(static_cast<int>(p.x) / cell, 0, cols - 1);
    const int r = std::clamp(static_cast<int>(p.y) / cell, 0, rows - 1);
    if (density.at<uint8_t>(r, c) < 64) ++counts.at<int>(r, c);
  }
  // Summed-area table (cv::integral takes no 32-bit input).
  cv::Mat sum = cv::Mat::zeros(rows + 1, cols + 1, CV_32S);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      sum.at<int>(r + 1, c + 1) = counts.at<int>(r, c) + sum.at<int>(r, c + 1) +
                                  sum.at<int>(r + 1, c) - sum.at<int>(r, c);
    }
  }
  const int wc = std::min(cols, side / cell), wr = std::min(rows, side / cell);
  int best = -1;
  cv::Point at(0, 0);
  for (int r = 0; r + wr <= rows; ++r) {
    for (int c = 0; c + wc <= cols; ++c) {
      const int n = sum.at<int>(r + wr, c + wc) - sum.at<int>(r, c + wc) - sum.at<int>(r + wr, c) +
                    sum.at<int>(r, c);
      if (n > best) {
        best = n;
        at = cv::Point(c * cell, r * cell);
      }
    }
  }
  cv::Rect window(at.x, at.y, std::min(side, size.width - at.x), std::min(side, size.height - at.y));
  return window;
}

// Letters and digits in a UTF-8 word (every non-ASCII character counts: the
// accented letters of Portuguese).
int WordChars(const char* utf8) {
  int n = 0;
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(utf8); *p; ++p) {
    if (*p < 0x80 ? std::isalnum(*p) != 0 : (*p & 0xC0) == 0xC0) ++n;
  }
  return n;
}

// The large-type vote (VoteByLargeType). The glyph size is measured on a
// coarse copy whose longer side is kLargeTypeWorkPx.
constexpr double kLargeTypeWorkPx = 600;
// Large type: the glyphs' smaller side on the coarse copy is at least this
// (~1.3% of the page's height: ~47 px on a 300 dpi A4, the width of a
// ~20 pt capital). Ordinary text merges there into words and lines 3-5 px
// high; such pages are the OCR vote's.
constexpr double kLargeTypeMinGlyph = 8;
// A word of large type: at least this many letter-sized shapes (a blank
// back with two punch holes, a single logo or picture have fewer).
constexpr int kLargeTypeMinShapes = 3;
// A page whose large-type check passes with at most this many shapes keeps
// its votes in the orientation stage when they are deferred to OCR (a few
// huge letters: the votes read them better before cleaning); a small image
// of ordinary text passes the check with its hundreds of letters and words.
constexpr int kLargeTypeMaxShapesToKeepVote = 40;
// ...unless the fast detector found this many word-pair votes on one clear
// axis: a page of ordinary text with a few large shapes on it (punch holes,
// a logo, a big title), which the OCR stage's reading judges as well as the
// votes, for nothing (anatomia of the corpus: 4,961 votes, table_01: 1,855;
// the large-type art of the tests: at most 338, on no clear axis). Its
// votes in this stage cost 1.4-1.9 s on those pages.
constexpr int kOrdinaryTextAxisVotes = 1000;
// Mean darkness of the shapes over the background on the coarse copy at
// least this: Otsu splits a blank page's grain into "shapes" too.
constexpr double kLargeTypeMinContrast = 48;
// Glyph sizes (smaller side, px) the page is reduced to, each read after
// each smoothing: 12 readings a turn. Which reduction reads best varies
// from page to page (and between turns of one page: the reduction grid
// moves), so the vote counts over all of them rather than trusting one.
constexpr double kLargeTypeGlyphPx[] = {24, 28, 32, 38, 46, 56};
constexpr double kLargeTypeBlurPx[] = {1, 2};
// Reductions larger than this (pixels) are not read: a page of a few huge
// letters needs far less (unpaper's "COLOR" at 56 px: 0.55 MP), and a page
// of smaller type that passes the glyph-size check would cost seconds a
// reading.
constexpr double kLargeTypeMaxPixels = 1e6;
// A sure long word: all letters, at least this many, read with at least
// this confidence (3-letter words and words below ~55 come often from
// pictures and from turned letters: upside-down "PAPEL" reads "Tadd" at
// 53). A reading votes for the turn whose best sure word is read with the
// highest confidence, by at least kLargeTypeMinLead points over every other
// turn's (letters such as A, V, I, O read the same upside down: "VIVA"
// reads "VAIA" at 91 against 96).
constexpr int kLargeTypeMinLetters = 4;
constexpr float kLargeTypeMinConfidence = 55;
constexpr float kLargeTypeMinLead = 5;
// The winner's votes: at least this many, and this many times those of any
// other turn. Measured on unpaper's art pages and generated pages (dotted,
// blurred words; shapes, blobs, scribbles, blank backs): right turns get
// 4-12 of 12 votes and wrong turns at most 1; pages without text at most 1.
constexpr int kLargeTypeMinVotes = 3;
constexpr int kLargeTypeMinRatio = 3;

// The darkness of `image` as ink (255 = darkest): 255 minus the darkest
// channel, so that strokes of any strong colour (yellow, light green) are
// ink as well as black ones. Alpha is ignored. Always a new buffer.
cv::Mat InkDarkness(const cv::Mat& image) {
  cv::Mat darkest;
  if (image.channels() == 1) {
    darkest = image;
  } else {
    std::vector<cv::Mat> ch;
    cv::split(image, ch);
    darkest = cv::min(cv::min(ch[0], ch[1]), ch[2]);
  }
  cv::Mat ink;
  cv::subtract(cv::Scalar(255), darkest, ink);
  return ink;
}

// Letters in a UTF-8 word, or 0 when it holds anything else (digits,
// punctuation, quotes, dashes): ASCII letters and the Latin letters of
// U+00C0-U+024F (accented Portuguese ones) except the multiplication and
// division signs.
int LettersOnly(const char* utf8) {
  int n = 0;
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(utf8); *p; ++p) {
    if (*p < 0x80) {
      if (std::isalpha(*p) == 0) return 0;
    } else {
      // Two-byte sequences only: U+0080-U+07FF.
      if ((*p & 0xE0) != 0xC0 || (p[1] & 0xC0) != 0x80) return 0;
      const int cp = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
      if (cp < 0xC0 || cp > 0x24F || cp == 0xD7 || cp == 0xF7) return 0;
      ++p;
    }
    ++n;
  }
  return n;
}

// Reads `image` (8-bit gray) turned upright by `deg` with `api` (its page
// segmentation mode already set), within `cpu_budget_ms` of this thread's CPU, and calls
// `word` for every non-empty word read; the engine is cleared afterwards.
// CPU seconds used so far by the calling thread.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Tesseract's cancel hook (called between words, on the recognising
// thread): true once the reading has used its CPU budget.
struct CpuBudget {
  double end_s;
};
bool CpuBudgetSpent(void* budget, int /*words*/) {
  return ThreadCpuSeconds() > static_cast<CpuBudget*>(budget)->end_s;
}

template <typename WordFn>
void ReadWordsTurned(tesseract::TessBaseAPI& api, const cv::Mat& image, int deg, int cpu_budget_ms,
                     WordFn&& word) {
  cv::Mat turned = UprightImage(image, deg);
  if (!turned.isContinuous()) turned = turned.clone();
  api.SetImage(turned.data, turned.cols, turned.rows, 1, static_cast<int>(turned.step));
  api.SetSourceResolution(300);
  tesseract::ETEXT_DESC monitor;
  CpuBudget budget{ThreadCpuSeconds() + cpu_budget_ms / 1000.0};
  monitor.cancel = &CpuBudgetSpent;
  monitor.cancel_this = &budget;
  monitor.set_deadline_msecs(kVoteDeadlineMs);
  if (api.Recognize(&monitor) == 0) {
    std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
    if (it) {
      do {
        if (it->Empty(tesseract::RIL_WORD)) continue;
        std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_WORD));
        if (text) word(*it, text.get(), it->Confidence(tesseract::RIL_WORD));
      } while (it->Next(tesseract::RIL_WORD));
    }
  }
  api.Clear();
}

}  // namespace

Status ValidateOrientationOptions(const OrientationOptions& o) {
  if (!(o.min_confidence >= 0 && o.min_confidence <= 100))
    return Status::InvalidArgument("orientation: min_confidence must be in [0, 100], got " +
                                   std::to_string(o.min_confidence));
  if (o.ocr_vote && o.ocr_languages.empty())
    return Status::InvalidArgument("orientation: ocr_languages is empty but ocr_vote is on");
  if (!(o.text_height_px >= 8 && o.text_height_px <= 60))
    return Status::InvalidArgument("orientation: text_height_px must be in [8, 60], got " +
                                   std::to_string(o.text_height_px));
  return Status::OK();
}

OrientationDetector::OrientationDetector(const OrientationOptions& options,
                                         std::unique_ptr<tesseract::TessBaseAPI> api)
    : options_(options), api_(std::move(api)) {}

OrientationDetector::~OrientationDetector() {
  if (api_) api_->End();
}

Result<std::unique_ptr<OrientationDetector>> OrientationDetector::Create(
    const OrientationOptions& options) {
  ACERVO_RETURN_IF_ERROR(ValidateOrientationOptions(options));
  ACERVO_RETURN_IF_ERROR(ValidateFastOrientationOptions(options.fast_options));
  const std::string dir = TessdataDir(options);
  auto api = std::make_unique<tesseract::TessBaseAPI>();
  // OSD is a legacy-engine model: OEM_TESSERACT_ONLY loads it without
  // looking for an LSTM network it does not have.
  if (api->Init(dir.c_str(), "osd", tesseract::OEM_TESSERACT_ONLY) != 0) {
    return Status::Unavailable("orientation: cannot load osd.traineddata from " + dir);
  }
  // The OCR vote's models load on the first unsure page; a missing one is
  // reported now, not as a failed page in the middle of a lot.
  if (options.ocr_vote) {
    std::stringstream langs(options.ocr_languages);
    std::string lang;
    while (std::getline(langs, lang, '+')) {
      if (!lang.empty() && !std::filesystem::exists(std::filesystem::path(dir) / (lang + ".traineddata"))) {
        return Status::Unavailable("orientation: OCR vote model '" + lang + "' not found in " + dir +
                                   " (install tesseract-ocr-" + lang + ")");
      }
    }
  }
  api->SetPageSegMode(tesseract::PSM_OSD_ONLY);
  // Tesseract prints "Too few characters. Skipping this page" and the like
  // to stderr; our result says the same thing in a field.
  api->SetVariable("debug_file", "/dev/null");
  return std::unique_ptr<OrientationDetector>(new OrientationDetector(options, std::move(api)));
}

Result<OrientationEstimate> OrientationDetector::DetectOrientation(const cv::Mat& image,
                                                                   double dpi) {
  if (image.empty()) return Status::InvalidArgument("orientation: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("orientation: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;
  OrientationEstimate est;

  cv::Mat gray;
  if (image.channels() == 1) {
    gray = image;
  } else {
    cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }
  if (gray.cols < kMinSide || gray.rows < kMinSide) return est;
  // Tesseract would binarise too; doing it here with Otsu is as good on
  // printed pages and makes the input independent of Tesseract's thresholder
  // settings.
  cv::Mat binary;
  cv::threshold(gray, binary, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);

  // A page that Otsu makes more than a third ink is noise, a photograph or a
  // dark scan: no text to orient by, and OSD on it costs seconds.
  if (cv::countNonZero(binary) < 0.66 * static_cast<double>(binary.total())) return est;

  // Bring the characters to the pixel size OSD was trained on.
  double scale = 1;
  double median = MedianCharHeight(binary);
  const double wanted = options_.text_height_px;
  if (median > 0 && median < 0.7 * wanted) {
    // Before enlarging (OSD's time grows with the pixels: a 2000x2200 table
    // enlarged 2.5x took 1.2 s), check the size on the glyphs the OCR stage
    // measures: halftone grain of shaded table rows and specks, many and
    // small, pull the plain median down (table_04: median 6 px, glyphs 20
    // px), while the area-weighted glyph height ignores them. On pages of
    // text alone the two agree within 1-2 px (corpus and generated pages,
    // docs/benchmarks.md).
    median = std::max(median, MeasureGlyphs(gray).height_px);
  }
  if (median > 0) {
    if (median < 0.7 * wanted || median > 2 * wanted) {
      scale = std::clamp(wanted / median, 0.5, 3.0);
    }
    // OSD time grows with the image: never hand it more than ~3x a 300 dpi A4.
    scale = std::min(scale, std::sqrt(kMaxPixels / static_cast<double>(gray.total())));
  }
  if (std::abs(scale - 1) > 0.01) {
    binary.release();  // replaced by the rescaled one: never both at once
    cv::resize(gray, binary, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
    cv::threshold(binary, binary, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  }
  gray.release();
  est.osd_scale = scale;
  PixPtr pix = ToBinaryPix(binary, static_cast<int>(std::lround(dpi * scale)));
  binary.release();
  if (!pix) return Status::Internal("orientation: cannot allocate a Leptonica image");

  api_->SetImage(pix.get());
  int orient_deg = 0;
  float orient_conf = 0, script_conf = 0;
  const char* script = nullptr;
  const bool found = api_->DetectOrientationScript(&orient_deg, &orient_conf, &script,
                                                   &script_conf);
  // Drop Tesseract's reference to our Pix before it is destroyed.
  api_->Clear();
  if (!found) return est;

  est.detected = true;
  est.confidence = orient_conf;
  est.raw_orientation_deg = ((360 - orient_deg) % 360 + 360) % 360;
  if (script != nullptr) est.script = script;
  if (orient_conf >= options_.min_confidence) est.orientation_deg = est.raw_orientation_deg;
  return est;
}

Status OrientationDetector::EnsureOcrEngine() {
  if (ocr_api_) return Status::OK();
  const std::string dir = TessdataDir(options_);
  auto api = std::make_unique<tesseract::TessBaseAPI>();
  if (api->Init(dir.c_str(), options_.ocr_languages.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
    return Status::Unavailable("orientation: cannot load the OCR vote's models '" +
                               options_.ocr_languages + "' from " + dir);
  }
  api->SetVariable("debug_file", "/dev/null");
  ocr_api_ = std::move(api);
  return Status::OK();
}

Result<OcrVote> VoteByOcr(tesseract::TessBaseAPI& api, const cv::Mat& image,
                          const std::vector<int>& candidates) {
  if (image.empty()) return Status::InvalidArgument("orientation: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("orientation: image must be 8-bit gray, BGR or BGRA");
  OcrVote vote;
  cv::Mat gray;
  if (image.channels() == 1) {
    gray = image;
  } else {
    cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }
  if (gray.cols < kMinSide || gray.rows < kMinSide || candidates.empty()) return vote;
  cv::Mat ink;
  cv::threshold(gray, ink, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  // Mostly ink: a photograph or a dark scan, or light text on dark.
  if (cv::countNonZero(ink) > 0.5 * static_cast<double>(ink.total())) {
    cv::bitwise_not(ink, ink);
    // Into a new buffer: `gray` may share the caller's pixels.
    cv::Mat light;
    cv::bitwise_not(gray, light);
    gray = light;
  }
  std::vector<cv::Point2f> centroids;
  const double size = CharSizeAndCentroids(ink, &centroids);
  if (size <= 0) return vote;
  const double scale = std::clamp(kVoteCharPx / size, 0.1, 3.0);
  // The window is chosen in page pixels, then scaled: only its pixels are
  // resized.
  const int side = static_cast<int>(kVoteWindowPx / scale);
  const cv::Rect window = DensestWindow(centroids, ink, side);
  cv::Mat crop;
  cv::resize(gray(window), crop, cv::Size(), scale, scale,
             scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  if (crop.cols < kMinSide || crop.rows < kMinSide) return vote;

  api.SetPageSegMode(tesseract::PSM_AUTO);
  auto read_turned = [&](int deg) {
    OcrVoteReading reading;
    reading.orientation_deg = deg;
    double conf_sum = 0;
    ReadWordsTurned(api, crop, deg, kVoteCpuBudgetMs,
                    [&](const tesseract::ResultIterator& it, const char* text, float conf) {
                      const int chars = WordChars(text);
                      ++reading.words;
                      conf_sum += conf;
                      if (conf >= 80 && chars >= 2) {
                        reading.sure_chars += chars;
                        int left = 0, top = 0, right = 0, bottom = 0;
                        if (it.BoundingBox(tesseract::RIL_WORD, &left, &top, &right, &bottom) &&
                            right - left > bottom - top) {
                          reading.wide_sure_chars += chars;
                        }
                        if (it.WordIsFromDictionary()) reading.dictionary_chars += chars;
                      }
                    });
    if (reading.words > 0) reading.mean_confidence = conf_sum / reading.words;
    vote.readings.push_back(reading);
  };
  for (int deg : candidates) read_turned(deg);
  // The winner must read clearly more sure characters than every other
  // turn. On the corpus, right-way-up windows read 139-873 sure characters
  // and the other turns at most 56, a ratio of at least 3.8; pages of a few
  // words (art, titles) read under 30 at every turn and are left alone.
  std::vector<OcrVoteReading> sorted = vote.readings;
  std::sort(sorted.begin(), sorted.end(), [](const OcrVoteReading& a, const OcrVoteReading& b) {
    return a.sure_chars > b.sure_chars;
  });
  const OcrVoteReading& best = sorted[0];
  const int second = sorted.size() > 1 ? sorted[1].sure_chars : 0;
  if (best.sure_chars >= kVoteMinSureChars && best.sure_chars >= kVoteMinRatio * second) {
    vote.decided = true;
    vote.orientation_deg = best.orientation_deg;
  }
  // A vote between the two sideways turns alone (the fast detector's axis
  // vote said the lines run vertically) never compared them with the page
  // as scanned. Blurred small type (8 pt at 200 dpi) merges letters of
  // neighbouring lines into tall shapes that vote "vertical" 133 to 51, and
  // upright pages were turned sideways. The winner must then also read at
  // least as much as the page as it is, both counted in words wider than
  // tall (read along the rows): Tesseract's layout analysis finds vertical
  // lines and reads them turned, so a sideways page read as it is, or an
  // upright page read turned 90, reads as much as the right turn (407 and
  // 407; 705 and 693) but in words taller than wide.
  const bool has_upright = std::find(candidates.begin(), candidates.end(), 0) != candidates.end();
  if (vote.decided && !has_upright && vote.orientation_deg % 180 != 0) {
    read_turned(0);
    if (best.wide_sure_chars < vote.readings.back().wide_sure_chars) {
      vote.decided = false;
      vote.orientation_deg = 0;
    }
  }
  return vote;
}

namespace {

// The glyph size (page pixels) of a page of large type, 0 for any other page
// (ordinary text, blank, a single picture or logo): the first, cheap part of
// VoteByLargeType. `ink_out` gets the page's ink darkness (inverted for
// light type on a dark page) when it is large type, `shapes_out` how many
// letter-sized shapes it saw.
double LargeTypeGlyphPx(const cv::Mat& image, cv::Mat* ink_out, int* shapes_out = nullptr) {
  if (image.cols < kMinSide || image.rows < kMinSide) return 0;
  cv::Mat ink = InkDarkness(image);

  // Glyph size on a coarse copy. The smoothing before Otsu and the closing
  // after it join letters built of separate pieces (dots, leaves) into one
  // shape.
  const double coarse_scale =
      std::min(1.0, kLargeTypeWorkPx / std::max(image.cols, image.rows));
  cv::Mat coarse, shapes;
  cv::resize(ink, coarse, cv::Size(), coarse_scale, coarse_scale, cv::INTER_AREA);
  cv::GaussianBlur(coarse, coarse, cv::Size(), 1.0);
  cv::threshold(coarse, shapes, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  if (cv::countNonZero(shapes) > 0.5 * static_cast<double>(shapes.total())) {
    // Light type on a dark page.
    cv::bitwise_not(ink, ink);
    cv::bitwise_not(coarse, coarse);
    cv::bitwise_not(shapes, shapes);
  }
  cv::Mat background;
  cv::bitwise_not(shapes, background);
  cv::morphologyEx(shapes, shapes, cv::MORPH_CLOSE,
                   cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3)));
  if (cv::countNonZero(shapes) == 0 || cv::countNonZero(background) == 0 ||
      cv::mean(coarse, shapes)[0] - cv::mean(coarse, background)[0] < kLargeTypeMinContrast)
    return 0;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(shapes, labels, stats, centroids, 8, CV_32S);
  const int short_side = std::min(shapes.cols, shapes.rows);
  std::vector<std::pair<int, int>> sides;  // smaller side, area
  double total_area = 0;
  for (int i = 1; i < n; ++i) {
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    // Not specks, not page-sized pictures, not frames and long strokes.
    if (std::max(w, h) < 0.02 * short_side || std::max(w, h) > 0.5 * short_side ||
        area < 0.1 * w * h)
      continue;
    sides.push_back({std::min(w, h), area});
    total_area += area;
  }
  if (shapes_out != nullptr) *shapes_out = static_cast<int>(sides.size());
  if (static_cast<int>(sides.size()) < kLargeTypeMinShapes) return 0;
  // Area-weighted median, as CharSizeAndCentroids.
  std::sort(sides.begin(), sides.end());
  double glyph = sides.back().first, seen = 0;
  for (const auto& [side, area] : sides) {
    seen += area;
    if (seen >= 0.5 * total_area) {
      glyph = side;
      break;
    }
  }
  if (glyph < kLargeTypeMinGlyph) return 0;
  if (ink_out != nullptr) *ink_out = ink;
  return glyph / coarse_scale;
}

}  // namespace


Result<LargeTypeVote> VoteByLargeType(tesseract::TessBaseAPI& api, const cv::Mat& image) {
  if (image.empty()) return Status::InvalidArgument("orientation: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("orientation: image must be 8-bit gray, BGR or BGRA");
  LargeTypeVote vote;
  cv::Mat ink;
  vote.glyph_px = LargeTypeGlyphPx(image, &ink);
  if (vote.glyph_px <= 0) return vote;

  // Sparse text: a few words anywhere, no columns or paragraphs to find.
  api.SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
  vote.ran = true;
  for (double glyph_px : kLargeTypeGlyphPx) {
    const double scale = std::min(2.0, glyph_px / vote.glyph_px);
    if (scale * scale * static_cast<double>(image.total()) > kLargeTypeMaxPixels) continue;
    cv::Mat reduced;
    cv::resize(ink, reduced, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
    if (reduced.cols < kMinSide || reduced.rows < kMinSide) continue;
    for (double blur : kLargeTypeBlurPx) {
      cv::Mat smooth, binary;
      cv::GaussianBlur(reduced, smooth, cv::Size(), blur);
      cv::threshold(smooth, binary, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
      // A margin: letters touching the edge are read badly.
      cv::copyMakeBorder(binary, binary, 16, 16, 16, 16, cv::BORDER_CONSTANT, cv::Scalar(255));
      float best[4] = {0, 0, 0, 0};  // per turn: the best sure word's confidence
      for (int k = 0; k < 4; ++k) {
        ReadWordsTurned(api, binary, 90 * k, kVoteCpuBudgetMs,
                        [&](const tesseract::ResultIterator&, const char* text, float conf) {
                          if (LettersOnly(text) >= kLargeTypeMinLetters && conf >= kLargeTypeMinConfidence)
                            best[k] = std::max(best[k], conf);
                        });
      }
      const int top = static_cast<int>(std::max_element(best, best + 4) - best);
      bool clear = best[top] > 0;
      for (int k = 0; k < 4; ++k) {
        if (k != top && best[top] - best[k] < kLargeTypeMinLead) clear = false;
      }
      vote.votes[top] += clear;
    }
  }
  const int winner = static_cast<int>(std::max_element(vote.votes, vote.votes + 4) - vote.votes);
  int second = 0;
  for (int k = 0; k < 4; ++k) {
    if (k != winner) second = std::max(second, vote.votes[k]);
  }
  if (vote.votes[winner] >= kLargeTypeMinVotes && vote.votes[winner] >= kLargeTypeMinRatio * second) {
    vote.decided = true;
    vote.orientation_deg = 90 * winner;
  }
  return vote;
}

Result<OcrVote> OrientationDetector::VoteByOcr(const cv::Mat& image,
                                              const std::vector<int>& candidates) {
  ACERVO_RETURN_IF_ERROR(EnsureOcrEngine());
  return acervo::VoteByOcr(*ocr_api_, image, candidates);
}

Result<LargeTypeVote> OrientationDetector::VoteByLargeType(const cv::Mat& image) {
  ACERVO_RETURN_IF_ERROR(EnsureOcrEngine());
  return acervo::VoteByLargeType(*ocr_api_, image);
}

Status OrientationDetector::FinishByOcr(const cv::Mat& image, const std::vector<int>& candidates,
                                        bool large_type_vote, OrientationEstimate* est) {
  ACERVO_RETURN_IF_ERROR(EnsureOcrEngine());
  return FinishOrientationByOcr(*ocr_api_, image, candidates, large_type_vote, est);
}

cv::Mat UprightImage(const cv::Mat& image, int orientation_deg) {
  cv::Mat out;
  switch (orientation_deg) {
    case 90: cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE); return out;
    case 180: cv::rotate(image, out, cv::ROTATE_180); return out;
    case 270: cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE); return out;
    default: return image;
  }
}

Result<std::unique_ptr<PageStage>> OrientationStage::Create(const OrientationOptions& options) {
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<OrientationDetector> detector,
                          OrientationDetector::Create(options));
  return std::unique_ptr<PageStage>(new OrientationStage(options, std::move(detector)));
}

Result<OrientationEstimate> DetectOrientationFastThenOsd(OrientationDetector& osd,
                                                         const OrientationOptions& options,
                                                         const cv::Mat& image, double dpi) {
  FastOrientation fast;
  if (options.fast) {
    ACERVO_ASSIGN_OR_RETURN(fast, DetectOrientationFast(image, options.fast_options, dpi));
    if (fast.confident) {
      OrientationEstimate est;
      est.orientation_deg = est.raw_orientation_deg = fast.orientation_deg;
      est.detected = true;
      est.fast = true;
      // Report the up/down margin on OSD's scale of trust (0..100).
      const int votes = fast.ascenders + fast.descenders;
      est.confidence = votes > 0 ? 100.0f * std::abs(fast.ascenders - fast.descenders) / votes : 0;
      return est;
    }
  }
  // The fast detector unsure but leaning to upright, with the vote left to
  // the OCR stage: that stage's reading of the page as it is settles it
  // (ReadsUpright) for nothing, and OSD (0.2-0.7 s a page) is skipped. On
  // the corpus OSD never settled such a page: forms, a receipt, a 640x480
  // crop upright and a table turned 180 degrees all went on to the vote
  // (docs/benchmarks.md, issue 16 session 7). A page turned while the lean
  // says upright is still caught: its reading is not upright, and the OCR
  // stage then votes among the same candidates.
  const bool leans_upright = options.fast && options.ocr_vote && options.defer_ocr_vote && fast.leans &&
                             fast.best_guess_deg == 0;
  OrientationEstimate est;
  if (!leans_upright) {
    ACERVO_ASSIGN_OR_RETURN(est, osd.DetectOrientation(image, dpi));
    // OSD unsure but pointing where the fast detector leans: two independent
    // methods agreeing is trusted (forms and tables, where each alone is weak).
    if (options.fast && est.orientation_deg == 0 && est.detected && fast.leans &&
        est.raw_orientation_deg == fast.best_guess_deg) {
      est.orientation_deg = est.raw_orientation_deg;
    }
    // OSD sure of a turn the fast detector leans against: one of two
    // independent methods is wrong, and a wrong turn costs the page's whole
    // reading, so the OCR vote settles it. OSD enlarges small blurred type
    // (9 pt at 150 dpi, 3x) into shapes it took for upside down with
    // confidence 12.7, where the ascenders said upright 33 to 7.
    if (options.fast && est.orientation_deg != 0 && fast.leans &&
        est.orientation_deg != fast.best_guess_deg) {
      est.orientation_deg = 0;
    }
    if (est.orientation_deg != 0 || !options.ocr_vote) return est;
  }
  // Both unsure. The fast detector's axis vote is usually clear even then
  // (forms and tables are full of short words side by side): only the two
  // turns on that axis are read.
  std::vector<int> candidates = {0, 90, 180, 270};
  const int axis_votes = fast.horizontal_votes + fast.vertical_votes;
  if (options.fast && axis_votes >= options.fast_options.min_axis_votes &&
      std::abs(fast.horizontal_votes - fast.vertical_votes) >=
          options.fast_options.min_axis_margin * axis_votes) {
    const int base = fast.vertical_votes > fast.horizontal_votes ? 90 : 0;
    candidates = {base, base + 180};
  }
  // Deferred to the OCR stage's reading, except on pages of a few huge
  // letters (a cheap glyph-size check, and few of them): the OCR stage reads
  // the page after cleaning, which such art does not survive as well as the
  // votes need. A small image of ordinary type (a receipt, a crop) also
  // passes the glyph check, with its many letters; its votes would cost
  // about 2 s, which the OCR stage's reading saves.
  const bool plenty_of_text = options.fast && axis_votes >= kOrdinaryTextAxisVotes &&
                              std::abs(fast.horizontal_votes - fast.vertical_votes) >=
                                  options.fast_options.min_axis_margin * axis_votes;
  int shapes = 0;
  const bool few_large_shapes = options.large_type_vote && !plenty_of_text &&
                                LargeTypeGlyphPx(image, nullptr, &shapes) > 0 &&
                                shapes <= kLargeTypeMaxShapesToKeepVote;
  if (options.defer_ocr_vote && !few_large_shapes) {
    est.deferred_candidates = candidates;
    return est;
  }
  if (leans_upright) {
    // The votes stay here after all (a few huge letters): OSD first, as on
    // every other page they are read for.
    ACERVO_ASSIGN_OR_RETURN(est, osd.DetectOrientation(image, dpi));
    if (est.orientation_deg != 0) return est;
  }
  ACERVO_RETURN_IF_ERROR(osd.FinishByOcr(image, candidates, options.large_type_vote, &est));
  return est;
}

Status FinishOrientationByOcr(tesseract::TessBaseAPI& api, const cv::Mat& image,
                              const std::vector<int>& candidates, bool large_type_vote,
                              OrientationEstimate* est) {
  ACERVO_ASSIGN_OR_RETURN(OcrVote vote, VoteByOcr(api, image, candidates));
  est->ocr_vote = true;
  if (vote.decided) {
    est->orientation_deg = vote.orientation_deg;
    est->detected = true;
    return Status::OK();
  }
  // Still unsure. When the OCR vote read little at every turn, perhaps the
  // page holds a few huge letters, read by none of the above. A page it
  // read plenty of text on but could not decide is not large type (and the
  // large-type vote would cost seconds there).
  int most_sure_chars = 0;
  for (const OcrVoteReading& r : vote.readings) most_sure_chars = std::max(most_sure_chars, r.sure_chars);
  if (!large_type_vote || most_sure_chars >= kVoteMinSureChars) return Status::OK();
  // All four turns are read whatever the axis vote said: on such pages it
  // counts a handful of shapes, and the other turns reading nothing is part
  // of the evidence.
  ACERVO_ASSIGN_OR_RETURN(LargeTypeVote large, VoteByLargeType(api, image));
  est->large_type = large.ran;
  if (large.decided) {
    est->orientation_deg = large.orientation_deg;
    est->detected = true;
  }
  return Status::OK();
}

bool ReadsUpright(const std::vector<Word>& words) {
  int sure = 0, all = 0, long_words = 0, wide = 0;
  for (const Word& w : words) {
    const int chars = WordChars(w.text.c_str());
    if (chars < 2) continue;
    all += chars;
    if (w.confidence >= 80) sure += chars;
    // Tesseract reads some sideways text as vertical lines; its words are
    // then taller than wide.
    if (chars >= 3) {
      ++long_words;
      wide += w.box.width > w.box.height;
    }
  }
  return sure >= kUprightMinSureChars && sure >= kUprightMinSureShare * all &&
         wide >= kUprightMinWideShare * long_words;
}

Result<Page> OrientationStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("orientation: cancelled");
  ACERVO_ASSIGN_OR_RETURN(
      OrientationEstimate est,
      DetectOrientationFastThenOsd(*detector_, options_, page.image, page.dpi_y));
  page.orientation_deg = est.orientation_deg;
  page.orientation_confidence = est.confidence;
  page.orientation_candidates = est.deferred_candidates;
  if (est.orientation_deg != 0) {
    page.image = UprightImage(page.image, est.orientation_deg);
    if (est.orientation_deg != 180) std::swap(page.dpi_x, page.dpi_y);
    page.AddFlag("orientation_fixed");
  }
  return page;
}

}  // namespace acervo
