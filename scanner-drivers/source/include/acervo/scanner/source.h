// Source: the one interface through which scanners hand pages to Acervo.
//
// A Source yields captured pages one at a time, each with its capture
// metadata (resolution, side of the sheet, sequence within this session).
// SANE, TWAIN and any future driver implement it; `acervo scan` sees only
// this interface (and LotCapture, which turns pages into masters).
//
// Contract of Next():
//  - a page: the complete image of one side of one sheet. A page whose
//    transfer was cut off (jam mid-read, cancel, I/O error) is never
//    returned: the driver drops its partial data and reports the failure;
//  - std::nullopt: the feeder is empty (SANE_STATUS_NO_DOCS, TWAIN's
//    pending transfer count reaching 0) or the flatbed page was taken;
//  - DeviceError: the device paused the lot (paper jam, cover open, I/O
//    error, device busy); the message says which, and the lot can resume;
//  - Cancelled: `cancel` became true (checked between transfer blocks);
//  - InvalidArgument / NotFound / Unavailable: the session cannot start.
//
// Thread-safety: a Source is used by one thread at a time. Ownership: the
// caller owns the Source (std::unique_ptr) and the pages it returns.
#ifndef ACERVO_SCANNER_SOURCE_H_
#define ACERVO_SCANNER_SOURCE_H_

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/status.h"

namespace acervo {

enum class Side { kFront, kBack };
std::string_view SideName(Side side);  // "front", "back"

struct CapturedPage {
  // CV_8UC1 (gray, or bitonal as 0/255 when bits_per_sample == 1),
  // CV_16UC1, CV_8UC3 or CV_16UC3 (colour, BGR channel order as in OpenCV).
  cv::Mat image;
  int bits_per_sample = 8;  // 1, 8 or 16: what the device delivered
  double dpi_x = 0;         // 0 when the device does not say
  double dpi_y = 0;
  Side side = Side::kFront;
  int sequence = 0;         // 1-based position within this Source's session
};

class Source {
 public:
  virtual ~Source() = default;

  // See the contract in the file comment. `cancel` may be null.
  virtual Result<std::optional<CapturedPage>> Next(const std::atomic<bool>* cancel) = 0;

  // Sets a raw device option between pages (e.g. SANE's
  // "read-return-value"). InvalidArgument lists the options or values the
  // device offers. Drivers without raw options return InvalidArgument.
  virtual Status SetOption(std::string_view name, std::string_view value) = 0;

  // "sane:test:0" or "twain:Acervo Test Source": for journals and messages.
  virtual std::string Describe() const = 0;
};

// Scan settings shared by the drivers (the CLI and the profile's [scanner]
// section fill them). Empty/zero fields keep the device's default.
struct ScanSettings {
  std::string device;                  // driver-specific name ("test:0")
  std::string source;                  // "", "flatbed" or "adf"
  bool duplex = false;
  double resolution = 0;               // dpi
  std::string mode;                    // "", "bw", "gray" or "color"
  std::vector<std::pair<std::string, std::string>> options;  // raw NAME=VALUE
};

// Splits "NAME=VALUE"; InvalidArgument when there is no '=' or no name.
Result<std::pair<std::string, std::string>> ParseRawOption(std::string_view text);

}  // namespace acervo

#endif  // ACERVO_SCANNER_SOURCE_H_
