// zxing-cpp 1.4: Result::text() as UTF-8 std::string (the 2.x default).
#define ZX_USE_UTF8 1

#include "acervo/stages/barcode/barcode.h"

#include <algorithm>
#include <map>

#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>
#include <ZXing/ReadBarcode.h>
#include <opencv2/imgproc.hpp>

namespace acervo {
namespace {

struct PatchInfo {
  PatchCode code;
  const char* name;
  const char* digit;
  std::array<bool, 4> bars;
};

constexpr PatchInfo kPatches[] = {
    {PatchCode::kI, "I", "1", {true, true, false, false}},
    {PatchCode::kII, "II", "2", {true, false, false, true}},
    {PatchCode::kIII, "III", "3", {true, false, true, false}},
    {PatchCode::kIV, "IV", "4", {false, true, true, false}},
    {PatchCode::kVI, "VI", "6", {false, false, true, true}},
    {PatchCode::kT, "T", "5", {false, true, false, true}},
};

// Detection works at this resolution: a narrow bar is 8 pixels, enough to
// tell it from a wide one (20) after blur and threshold, and cheap.
constexpr double kWorkDpi = 100;

// Patterns read on one scanline of a binary row (0 = ink).
void ReadRow(const uint8_t* row, int n, double unit_px, std::map<int, int>* votes) {
  // Run lengths, starting with a white run (possibly empty).
  std::vector<int> runs;
  bool ink = false;
  int len = 0;
  for (int x = 0; x < n; ++x) {
    const bool px = row[x] == 0;
    if (px == ink) {
      ++len;
    } else {
      runs.push_back(len);
      ink = px;
      len = 1;
    }
  }
  runs.push_back(len);
  if (!ink) {
    // The row ends in white: fine. Otherwise add an empty trailing white run.
  } else {
    runs.push_back(0);
  }
  // runs[0] white, runs[1] ink, runs[2] white, ... A patch is ink runs at
  // i, i+2, i+4, i+6 (i odd) with white runs between and quiet zones around.
  for (size_t i = 1; i + 6 < runs.size(); i += 2) {
    const int total = runs[i] + runs[i + 1] + runs[i + 2] + runs[i + 3] + runs[i + 4] + runs[i + 5] +
                      runs[i + 6];
    const double u = total / 10.0;  // 2 W (2.5u) + 2 N (1u) + 3 spaces (1u)
    if (u < 0.6 * unit_px || u > 1.5 * unit_px) continue;
    if (runs[i - 1] < 2 * u || (i + 7 < runs.size() && runs[i + 7] < 2 * u)) continue;
    bool ok = true;
    for (int s = 1; s <= 5 && ok; s += 2) ok = runs[i + s] >= 0.45 * u && runs[i + s] <= 1.8 * u;
    if (!ok) continue;
    std::array<bool, 4> bars{};
    int wide = 0;
    for (int b = 0; b < 4 && ok; ++b) {
      const double w = runs[i + 2 * b] / u;
      if (w >= 0.45 && w <= 1.6) bars[b] = false;
      else if (w >= 1.8 && w <= 3.4) bars[b] = true, ++wide;
      else ok = false;
    }
    if (!ok || wide != 2) continue;
    for (const PatchInfo& p : kPatches) {
      if (p.bars == bars) ++(*votes)[static_cast<int>(p.code)];
    }
  }
}

std::optional<PatchCode> DetectAcross(const cv::Mat& bin) {
  const double unit_px = 0.08 * kWorkDpi;
  // A vote per scanline; a row can see the same pattern only once per code
  // column, but the sheet may print it several times across.
  std::map<int, int> rows_with;
  for (int y = 0; y < bin.rows; y += 2) {
    std::map<int, int> votes;
    ReadRow(bin.ptr<uint8_t>(y), bin.cols, unit_px, &votes);
    for (const auto& [code, n] : votes) ++rows_with[code];
  }
  // At least one inch of bars read the same way (every other row sampled).
  const int need = static_cast<int>(kWorkDpi / 2);
  int best = -1, best_rows = 0;
  for (const auto& [code, n] : rows_with) {
    if (n > best_rows) best = code, best_rows = n;
  }
  if (best < 0 || best_rows < need) return std::nullopt;
  return static_cast<PatchCode>(best);
}

}  // namespace

Result<std::vector<DecodedBarcode>> DecodeBarcodes(const cv::Mat& image) {
  if (image.empty()) return Status::InvalidArgument("empty image");
  cv::Mat gray;
  if (image.type() == CV_8UC1) gray = image;
  else if (image.type() == CV_8UC3) cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  else return Status::InvalidArgument("barcode reading needs an 8-bit gray or BGR image");
  if (!gray.isContinuous()) gray = gray.clone();
  std::vector<DecodedBarcode> out;
  try {
    ZXing::DecodeHints hints;
    hints.setFormats(ZXing::BarcodeFormat::QRCode | ZXing::BarcodeFormat::DataMatrix |
                     ZXing::BarcodeFormat::Code128 | ZXing::BarcodeFormat::Code39 |
                     ZXing::BarcodeFormat::PDF417 | ZXing::BarcodeFormat::Aztec);
    hints.setTryHarder(true);
    hints.setTryRotate(true);
    ZXing::ImageView view(gray.data, gray.cols, gray.rows, ZXing::ImageFormat::Lum,
                          static_cast<int>(gray.step));
    for (const ZXing::Result& r : ZXing::ReadBarcodes(view, hints)) {
      if (!r.isValid()) continue;
      out.push_back({ZXing::ToString(r.format()), r.text()});
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("barcode reader: ") + e.what());
  }
  return out;
}

std::string_view PatchCodeName(PatchCode code) {
  for (const PatchInfo& p : kPatches) {
    if (p.code == code) return p.name;
  }
  return "?";
}

std::optional<PatchCode> PatchCodeFromName(std::string_view name) {
  for (const PatchInfo& p : kPatches) {
    if (name == p.name || name == p.digit) return p.code;
  }
  return std::nullopt;
}

std::array<bool, 4> PatchCodeBars(PatchCode code) {
  for (const PatchInfo& p : kPatches) {
    if (p.code == code) return p.bars;
  }
  return {};
}

PatchCode UpsideDownPatchCode(PatchCode code) {
  std::array<bool, 4> bars = PatchCodeBars(code);
  std::reverse(bars.begin(), bars.end());
  for (const PatchInfo& p : kPatches) {
    if (p.bars == bars) return p.code;
  }
  return code;  // unreachable: the set of codes is closed under reversal
}

std::optional<PatchCode> DetectPatchCode(const cv::Mat& image, double dpi) {
  if (image.empty() || dpi <= 0) return std::nullopt;
  cv::Mat gray;
  if (image.type() == CV_8UC3) cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  else if (image.type() == CV_8UC1) gray = image;
  else return std::nullopt;
  const double scale = kWorkDpi / dpi;
  cv::Mat small;
  cv::resize(gray, small, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Mat bin;
  cv::threshold(small, bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  if (std::optional<PatchCode> c = DetectAcross(bin)) return c;
  cv::Mat turned;
  cv::transpose(bin, turned);  // a sheet fed sideways
  return DetectAcross(turned);
}

Result<cv::Mat> EncodeBarcode(std::string_view format, std::string_view text) {
  ZXing::BarcodeFormat f;
  if (format == "qr") f = ZXing::BarcodeFormat::QRCode;
  else if (format == "code128") f = ZXing::BarcodeFormat::Code128;
  else return Status::InvalidArgument("unknown barcode format '" + std::string(format) + "' (qr, code128)");
  try {
    ZXing::MultiFormatWriter writer(f);
    writer.setMargin(0);
    if (f == ZXing::BarcodeFormat::QRCode) writer.setEccLevel(4).setEncoding(ZXing::CharacterSet::UTF8);
    // Width/height 0: one pixel per module.
    const ZXing::BitMatrix m = writer.encode(std::string(text), 0, 0);
    const int rows = f == ZXing::BarcodeFormat::QRCode ? m.height() : 1;
    cv::Mat out(rows, m.width(), CV_8UC1);
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < m.width(); ++x) out.at<uint8_t>(y, x) = m.get(x, y) ? 0 : 255;
    return out;
  } catch (const std::exception& e) {
    return Status::InvalidArgument("cannot encode '" + std::string(text) + "' as " + std::string(format) + ": " +
                                   e.what());
  }
}

}  // namespace acervo
