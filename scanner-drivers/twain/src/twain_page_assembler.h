// TwainPageAssembler: one TWAIN page, as the TWAIN host streams it, made into
// a CapturedPage in the capturing process.
//
// Memory transfers arrive as strips placed by their YOffset/XOffset (any
// order, padded rows, tiles narrower than the page); 1-bit and gray samples
// are read with the source's ICAP_PIXELFLAVOR (chocolate: 0 is black;
// vanilla: 0 is white); colour is reordered to OpenCV's BGR. Native
// transfers arrive as the bytes of an image file: a TIFF (what sources on
// Linux and macOS hand over) is decoded by the defensive decoder of
// scanner-drivers/folder (its photometric interpretation says which value is
// black), a Windows DIB (BITMAPINFOHEADER, palette, bottom-up rows) here.
// Everything the host sends is checked: a geometry that does not fit the
// page, a page over the pixel limit or a native image over 2 GB is a
// DeviceError naming the source, never a crash or an oversized allocation.
//
// Thread-safety: one page, one thread. Not reusable: one assembler per page.
#ifndef ACERVO_SCANNER_TWAIN_PAGE_ASSEMBLER_H_
#define ACERVO_SCANNER_TWAIN_PAGE_ASSEMBLER_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/status.h"
#include "acervo/scanner/source.h"
#include "twain_session.h"

namespace acervo {

class TwainPageAssembler {
 public:
  // `name` ("TWAIN source 'X'") starts every error message.
  explicit TwainPageAssembler(std::string name) : name_(std::move(name)) {}

  Status Begin(const TwainPageInfo& info);
  Status AddStrip(const TwainStrip& strip, std::span<const uint8_t> bytes);
  Status AddNative(std::span<const uint8_t> bytes);
  // The complete page. DeviceError when rows are missing or the native image
  // cannot be decoded.
  Result<CapturedPage> Finish();

 private:
  Result<CapturedPage> FinishMemory();
  Result<CapturedPage> FinishNative();
  Status Bad(const std::string& what) const { return Status::DeviceError(name_ + ": " + what); }

  std::string name_;
  TwainPageInfo info_;
  bool begun_ = false;
  size_t row_bytes_ = 0;
  int rows_type_ = 0, rows_cols_ = 0;
  size_t rows_done_ = 0;
  cv::Mat rows_;                // memory transfers: the page as the source's samples
  std::vector<uint8_t> file_;   // native transfers: the image file's bytes
};

}  // namespace acervo

#endif  // ACERVO_SCANNER_TWAIN_PAGE_ASSEMBLER_H_
