// Separator-sheet symbols: reading barcodes/QR codes (zxing-cpp) and Kodak
// patch codes (our own detector: zxing does not read them), and drawing both
// for the printable sheets of `acervo sheets`.
//
// Kodak patch codes are four parallel black bars, two wide (0.20") and two
// narrow (0.08"), separated by narrow (0.08") spaces; the order of wide (W)
// and narrow (N) bars names the code:
//   I: WWNN   II: WNNW   III: WNWN   IV: NWWN   VI: NNWW   T: NWNW
// They are read as scanned, across the page (bars running top to bottom) or,
// for a sheet fed sideways, down the page. A sheet scanned upside down reads
// its bars in reverse order, which turns III into T and back; II, IV, I/VI
// pairs stay distinguishable only up to that too (I <-> VI), so profiles that
// mix III with T or I with VI depend on the feed direction (docs/profile.md).
//
// Thread-safety: pure functions; zxing-cpp's reader keeps no shared state.
#ifndef ACERVO_STAGES_BARCODE_BARCODE_H_
#define ACERVO_STAGES_BARCODE_BARCODE_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/status.h"

namespace acervo {

struct DecodedBarcode {
  std::string format;  // "QRCode", "Code128", "DataMatrix", ...
  std::string text;    // the payload, UTF-8
};

// Every barcode zxing-cpp finds on the page (QR, DataMatrix, Code 128,
// Code 39, PDF417, Aztec), in zxing's order; empty when none. `image` is
// CV_8UC1 or CV_8UC3 (BGR). Failure: InvalidArgument for another pixel
// type or an empty image.
Result<std::vector<DecodedBarcode>> DecodeBarcodes(const cv::Mat& image);

enum class PatchCode { kI, kII, kIII, kIV, kVI, kT };

// "I", "II", "III", "IV", "VI", "T".
std::string_view PatchCodeName(PatchCode code);
// The code named by `name` (as above; "1".."6" and "2" style digits too).
std::optional<PatchCode> PatchCodeFromName(std::string_view name);
// The code's bars from left to right: true = wide.
std::array<bool, 4> PatchCodeBars(PatchCode code);
// The code a sheet of `code` reads as when fed upside down (its bars in
// reverse): I <-> VI, III <-> T; II and IV read the same.
PatchCode UpsideDownPatchCode(PatchCode code);

// The patch code printed on the page, or nullopt. `dpi` is the page's
// resolution (bar widths are physical). A code counts only when the same
// pattern is read on scanlines covering at least an inch of bar length, so
// text, tables and rules do not trigger it. CV_8UC1 or CV_8UC3.
std::optional<PatchCode> DetectPatchCode(const cv::Mat& image, double dpi);

// The symbol of `text` as a matrix of modules (CV_8UC1, 0 = black,
// 255 = white), one pixel per module, no quiet zone. `format` is "qr" or
// "code128" (a 1-row matrix for code128). Failure: InvalidArgument for an
// unknown format or text the format cannot hold (zxing's reason).
Result<cv::Mat> EncodeBarcode(std::string_view format, std::string_view text);

}  // namespace acervo

#endif  // ACERVO_STAGES_BARCODE_BARCODE_H_
