#include "twain_page_assembler.h"

#include <algorithm>
#include <cstring>

#include <opencv2/imgproc.hpp>

#include "acervo/scanner/image_file.h"

namespace acervo {
namespace {
using namespace twain;  // NOLINT

constexpr int32_t kMaxSide = 200'000;              // pixels; 16 m at 300 dpi
constexpr size_t kMaxNativeBytes = 2'000'000'000;  // as the host's own limit

// Windows DIB: BITMAPINFOHEADER, palette, rows padded to 4 bytes, bottom-up
// when the height is positive. 1, 8 (palette, read as gray) and 24 bits.
Result<CapturedPage> DecodeDib(std::span<const uint8_t> b, const std::string& name) {
  auto le32 = [&](size_t o) { return int32_t(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (uint32_t(b[o + 3]) << 24)); };
  auto le16 = [&](size_t o) { return int(b[o] | (b[o + 1] << 8)); };
  if (b.size() < 40) return Status::DeviceError(name + ": native DIB is truncated");
  const int32_t header = le32(0), w = le32(4), h_signed = le32(8);
  const int bits = le16(14);
  const int32_t compression = le32(16), xppm = le32(24), yppm = le32(28);
  int32_t colors = le32(32);
  if (header < 40 || w <= 0 || h_signed == 0 || h_signed == INT32_MIN || compression != 0 ||
      (bits != 1 && bits != 8 && bits != 24) || int64_t(w) * std::abs(int64_t(h_signed)) > kDefaultMaxPixels) {
    return Status::DeviceError(name + ": native image is not an uncompressed 1/8/24-bit DIB");
  }
  if (bits == 24) colors = 0;
  else if (colors <= 0 || colors > (1 << bits)) colors = 1 << bits;
  const int rows = std::abs(h_signed);
  const size_t stride = ((static_cast<size_t>(w) * bits + 31) / 32) * 4;
  const size_t palette_at = static_cast<size_t>(header), pixels_at = palette_at + 4 * static_cast<size_t>(colors);
  if (pixels_at + stride * rows > b.size()) return Status::DeviceError(name + ": native DIB is truncated");
  const uint8_t* palette = b.data() + palette_at;
  const uint8_t* pixels = b.data() + pixels_at;
  CapturedPage page;
  page.image.create(rows, w, bits == 24 ? CV_8UC3 : CV_8UC1);
  page.bits_per_sample = bits == 24 ? 8 : bits;
  uint8_t gray[256];
  for (int i = 0; i < colors; ++i) gray[i] = static_cast<uint8_t>((palette[4 * i] + palette[4 * i + 1] + palette[4 * i + 2]) / 3);
  for (int y = 0; y < rows; ++y) {
    const uint8_t* src = pixels + stride * static_cast<size_t>(h_signed > 0 ? rows - 1 - y : y);
    uint8_t* dst = page.image.ptr<uint8_t>(y);
    if (bits == 24) {
      std::memcpy(dst, src, static_cast<size_t>(w) * 3);  // DIB rows are BGR already
    } else {
      for (int x = 0; x < w; ++x) {
        int idx = bits == 8 ? src[x] : (src[x >> 3] >> (7 - (x & 7))) & 1;
        dst[x] = gray[std::min(idx, colors - 1)];
      }
    }
  }
  page.dpi_x = xppm > 0 ? xppm * 0.0254 : 0;
  page.dpi_y = yppm > 0 ? yppm * 0.0254 : 0;
  return page;
}

}  // namespace

Status TwainPageAssembler::Begin(const TwainPageInfo& info) {
  if (begun_) return Bad("page described twice");
  begun_ = true;
  info_ = info;
  if (info.native) return Status::OK();
  const int bpp = info.bits_per_pixel;
  if (info.width <= 0 || info.width > kMaxSide || info.length == 0 || info.length > kMaxSide || info.length < -1 ||
      (bpp != 1 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 48) || info.planar) {
    return Bad("unsupported image layout (" + std::to_string(info.width) + "x" + std::to_string(info.length) + ", " +
               std::to_string(bpp) + " bits per pixel" + (info.planar ? ", planar" : "") + ")");
  }
  if (info.length > 0 && int64_t(info.width) * info.length > kDefaultMaxPixels) {
    return Bad("page of " + std::to_string(info.width) + "x" + std::to_string(info.length) + " pixels is over the limit");
  }
  row_bytes_ = (static_cast<size_t>(info.width) * bpp + 7) / 8;
  // Strips are copied straight into a Mat of the page's own sample type, so
  // a gray page needs no further copy.
  const int channels = info.samples_per_pixel == 3 ? 3 : 1;
  const int depth = bpp / channels;
  rows_type_ = depth == 1 || depth * channels != bpp ? CV_8UC1 : depth == 16 ? CV_16UC(channels) : CV_8UC(channels);
  rows_cols_ = rows_type_ == CV_8UC1 ? static_cast<int>(row_bytes_) : info.width;
  if (info.length > 0) rows_.create(info.length, rows_cols_, rows_type_);
  return Status::OK();
}

Status TwainPageAssembler::AddStrip(const TwainStrip& x, std::span<const uint8_t> bytes) {
  if (!begun_ || info_.native) return Bad("strip outside a memory transfer");
  if (x.compression != TWCP_NONE) return Bad("sent a compressed strip, none was asked");
  if (x.rows == 0) return Status::OK();
  // Place the strip by its offsets: strips may come in any order, and a
  // source may send tiles (XOffset) narrower than the page.
  const int bpp = info_.bits_per_pixel;
  const size_t x_bits = static_cast<size_t>(x.x_offset) * bpp;
  const size_t strip_row = (static_cast<size_t>(x.columns) * bpp + 7) / 8;
  const size_t max_rows = info_.length > 0 ? static_cast<size_t>(info_.length) : static_cast<size_t>(kMaxSide);
  if (x_bits % 8 != 0 || x.bytes_per_row < strip_row || x_bits / 8 + strip_row > row_bytes_ ||
      static_cast<size_t>(x.bytes_per_row) * (x.rows - 1) + strip_row > bytes.size() ||
      static_cast<size_t>(x.y_offset) + x.rows > max_rows) {
    return Bad("strip geometry does not fit the page");
  }
  const int needed = static_cast<int>(x.y_offset + x.rows);
  if (needed > rows_.rows) {  // a page of unknown length grows
    if (int64_t(needed) * info_.width > kDefaultMaxPixels) return Bad("page of unknown length grows over the pixel limit");
    cv::Mat grown(std::max(needed, rows_.rows * 2), rows_cols_, rows_type_);
    if (!rows_.empty()) rows_.copyTo(grown.rowRange(0, rows_.rows));
    rows_ = grown;
  }
  for (uint32_t r = 0; r < x.rows; ++r) {
    std::memcpy(rows_.ptr<uint8_t>(static_cast<int>(x.y_offset + r)) + x_bits / 8,
                &bytes[static_cast<size_t>(r) * x.bytes_per_row], strip_row);
  }
  rows_done_ = std::max(rows_done_, static_cast<size_t>(x.y_offset) + x.rows);
  return Status::OK();
}

Status TwainPageAssembler::AddNative(std::span<const uint8_t> bytes) {
  if (!begun_ || !info_.native) return Bad("native image bytes outside a native transfer");
  if (file_.size() + bytes.size() > kMaxNativeBytes) return Bad("native image is larger than 2 GB");
  file_.insert(file_.end(), bytes.begin(), bytes.end());
  return Status::OK();
}

Result<CapturedPage> TwainPageAssembler::Finish() {
  if (!begun_) return Bad("page ended before it began");
  return info_.native ? FinishNative() : FinishMemory();
}

Result<CapturedPage> TwainPageAssembler::FinishMemory() {
  const int rows = static_cast<int>(info_.length > 0 ? info_.length : static_cast<int32_t>(rows_done_));
  if (rows_done_ < static_cast<size_t>(rows) || rows == 0) {
    return Bad("page ended after " + std::to_string(rows_done_) + " of " + std::to_string(rows) + " rows");
  }
  const int bpp = info_.bits_per_pixel;
  const int channels = info_.samples_per_pixel == 3 ? 3 : 1;
  const int depth = bpp / channels;
  if (depth != 1 && depth != 8 && depth != 16) return Bad("unsupported sample depth " + std::to_string(depth));
  // Vanilla sources send 0 for white: 1-bit and gray samples are inverted.
  const bool vanilla = channels == 1 && info_.pixel_flavor == TWPF_VANILLA;
  CapturedPage page;
  page.dpi_x = info_.x_resolution;
  page.dpi_y = info_.y_resolution;
  page.bits_per_sample = depth;
  const int w = info_.width;
  if (depth == 1) {
    const uint8_t one = vanilla ? 0 : 255, zero = vanilla ? 255 : 0;
    page.image.create(rows, w, CV_8UC1);
    for (int y = 0; y < rows; ++y) {
      const uint8_t* src = rows_.ptr<uint8_t>(y);
      uint8_t* dst = page.image.ptr<uint8_t>(y);
      for (int x = 0; x < w; ++x) dst[x] = ((src[x >> 3] >> (7 - (x & 7))) & 1) ? one : zero;
    }
    return page;
  }
  if (rows_type_ == CV_8UC1 && rows_cols_ != w) return Bad("unsupported sample layout (" + std::to_string(bpp) + " bits)");
  cv::Mat samples = rows_.rowRange(0, rows);  // in the source's order
  if (channels == 3) {
    cv::cvtColor(samples, page.image, cv::COLOR_RGB2BGR);
  } else if (vanilla) {
    cv::bitwise_not(samples, page.image);
  } else {
    page.image = samples;
  }
  return page;
}

Result<CapturedPage> TwainPageAssembler::FinishNative() {
  std::span<const uint8_t> b(file_);
  if (b.size() < 8) return Bad("native transfer gave no image");
  if (SniffImageFormat(b) == ImageFormat::kTiff) {
    // What sources on Linux and macOS hand over (the official sample source:
    // "Linux is a TIFF"); its photometric interpretation says which is black.
    Result<DecodedPage> d = DecodeImagePage(b, 0, "native image");
    if (!d.ok()) return Bad(d.status().message());
    CapturedPage page;
    page.image = std::move(d->image);
    page.bits_per_sample = d->bits_per_sample;
    page.dpi_x = d->dpi_x > 0 ? d->dpi_x : info_.x_resolution;
    page.dpi_y = d->dpi_y > 0 ? d->dpi_y : info_.y_resolution;
    return page;
  }
  Result<CapturedPage> page = DecodeDib(b, name_);
  if (!page.ok()) return page;
  if (page->dpi_x == 0) page->dpi_x = info_.x_resolution;
  if (page->dpi_y == 0) page->dpi_y = info_.y_resolution;
  return page;
}

}  // namespace acervo
