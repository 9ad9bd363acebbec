// Reading scanned page images from files: TIFF (single and multi-page;
// uncompressed, LZW, PackBits, Deflate, CCITT G3/G4, JPEG-in-TIFF), PNG and
// JPEG. The format is recognised from the bytes, never from the extension.
//
// Decoding is defensive: a file is probed first (format, page count, pixel
// size) without decoding pixels, and a page whose declared size exceeds the
// pixel limit is refused before any large allocation. Every error names the
// file and, for multi-page files, the page ("a.tif page 3: ..."); one corrupt
// page of a multi-page TIFF does not prevent reading the others.
//
// Thread-safety: all functions are reentrant; different threads may decode
// different pages of the same file at once.
#ifndef ACERVO_SCANNER_IMAGE_FILE_H_
#define ACERVO_SCANNER_IMAGE_FILE_H_

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/status.h"

namespace acervo {

enum class ImageFormat { kUnknown, kTiff, kPng, kJpeg, kPdf };
std::string_view ImageFormatName(ImageFormat f);

// Recognises the format from the first bytes (magic numbers).
ImageFormat SniffImageFormat(std::span<const uint8_t> head);

// Default refusal limit for one page: 300 megapixels (A3 at 1200 dpi is
// ~280 Mpx). Larger declared sizes are treated as hostile or corrupt.
inline constexpr int64_t kDefaultMaxPixels = 300'000'000;

struct ImageFileInfo {
  ImageFormat format = ImageFormat::kUnknown;
  int pages = 0;
};

struct DecodedPage {
  cv::Mat image;               // CV_8UC1 gray or CV_8UC3 BGR (alpha flattened on white)
  double dpi_x = 0, dpi_y = 0; // 0 when the file does not say
  int bits_per_sample = 8;     // as stored (1 for bitonal)
};

// Probes a file held in memory. Corrupt for empty/unrecognised/damaged
// headers, InvalidArgument for formats recognised but not accepted as page
// images (PDF for now). `name` is used in messages.
Result<ImageFileInfo> ProbeImage(std::span<const uint8_t> bytes, std::string_view name);

// Decodes page `page_index` (0-based) of a file held in memory. Corrupt when
// the data is truncated or damaged, InvalidArgument when the page exceeds
// `max_pixels` or has an unsupported sample layout.
Result<DecodedPage> DecodeImagePage(std::span<const uint8_t> bytes, int page_index,
                                    std::string_view name,
                                    int64_t max_pixels = kDefaultMaxPixels);

// True for file names the folder source treats as page images: TIFF, PNG,
// JPEG, PDF, and image formats it cannot decode (BMP, GIF, WebP, JPEG 2000,
// HEIF, PNM...), so that those are refused by name rather than ignored.
bool LooksLikeImageFileName(const std::filesystem::path& path);

}  // namespace acervo

#endif  // ACERVO_SCANNER_IMAGE_FILE_H_
