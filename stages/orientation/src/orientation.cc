#include "acervo/stages/orientation/orientation.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

#include <leptonica/allheaders.h>
#include <opencv2/imgproc.hpp>
#include <tesseract/baseapi.h>

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

// Copies an 8-bit single-channel Mat into an 8 bpp Pix carrying `dpi`, so
// that Tesseract does not warn about (and guess) a missing resolution.
PixPtr ToPix(const cv::Mat& gray, int dpi) {
  PixPtr pix(pixCreate(gray.cols, gray.rows, 8));
  if (!pix) return pix;
  l_uint32* data = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < gray.rows; ++y) {
    const uint8_t* src = gray.ptr<uint8_t>(y);
    l_uint32* line = data + static_cast<size_t>(y) * wpl;
    for (int x = 0; x < gray.cols; ++x) SET_DATA_BYTE(line, x, src[x]);
  }
  pixSetResolution(pix.get(), dpi, dpi);
  return pix;
}

// Median height of the character-sized connected components of the ink in
// `binary` (ink = 0), or 0 when there are too few to tell.
int MedianCharHeight(const cv::Mat& binary) {
  cv::Mat ink = 255 - binary;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S);
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

}  // namespace

Status ValidateOrientationOptions(const OrientationOptions& o) {
  if (!(o.min_confidence >= 0 && o.min_confidence <= 100))
    return Status::InvalidArgument("orientation: min_confidence must be in [0, 100], got " +
                                   std::to_string(o.min_confidence));
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
  const int median = MedianCharHeight(binary);
  if (median > 0) {
    const double wanted = options_.text_height_px;
    if (median < 0.7 * wanted || median > 2 * wanted) {
      scale = std::clamp(wanted / median, 0.5, 3.0);
    }
    // OSD time grows with the image: never hand it more than ~3x a 300 dpi A4.
    scale = std::min(scale, std::sqrt(kMaxPixels / static_cast<double>(gray.total())));
  }
  if (std::abs(scale - 1) > 0.01) {
    cv::Mat resized;
    cv::resize(gray, resized, cv::Size(), scale, scale,
               scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
    cv::threshold(resized, binary, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  }
  PixPtr pix = ToPix(binary, static_cast<int>(std::lround(dpi * scale)));
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
  ACERVO_ASSIGN_OR_RETURN(OrientationEstimate est, osd.DetectOrientation(image, dpi));
  // OSD unsure but pointing where the fast detector leans: two independent
  // methods agreeing is trusted (forms and tables, where each alone is weak).
  if (options.fast && est.orientation_deg == 0 && est.detected && fast.leans &&
      est.raw_orientation_deg == fast.best_guess_deg) {
    est.orientation_deg = est.raw_orientation_deg;
  }
  return est;
}

Result<Page> OrientationStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("orientation: cancelled");
  ACERVO_ASSIGN_OR_RETURN(
      OrientationEstimate est,
      DetectOrientationFastThenOsd(*detector_, options_, page.image, page.dpi_y));
  page.orientation_deg = est.orientation_deg;
  page.orientation_confidence = est.confidence;
  if (est.orientation_deg != 0) {
    page.image = UprightImage(page.image, est.orientation_deg);
    if (est.orientation_deg != 180) std::swap(page.dpi_x, page.dpi_y);
    page.AddFlag("orientation_fixed");
  }
  return page;
}

}  // namespace acervo
