// WritePages: encode pages in memory, stamp the resolution into the bytes,
// then write the file atomically (acervo::WriteFileAtomic).
//
// OpenCV's encoders do not record a resolution, and a scan without one is a
// scan whose dpi the pipeline has to guess; so the PNG gets a pHYs chunk and
// the JPEG's JFIF header gets its density fields patched here. TIFF is written
// with libtiff through an in-memory client so that the atomic write stays the
// only way bytes reach the disk.
#include <tiffio.h>

#include <array>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "write_internal.h"

namespace acervo::synth {
namespace {

// ---- PNG ------------------------------------------------------------------

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

void PutBe32(std::vector<uint8_t>* out, uint32_t v) {
  out->push_back(static_cast<uint8_t>(v >> 24));
  out->push_back(static_cast<uint8_t>(v >> 16));
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

uint32_t GetBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// ---- TIFF in memory -------------------------------------------------------

struct MemFile {
  std::vector<uint8_t> data;
  uint64_t pos = 0;
  std::string error;
};

tmsize_t MemRead(thandle_t h, void* buf, tmsize_t n) {
  MemFile* f = static_cast<MemFile*>(h);
  if (f->pos >= f->data.size()) return 0;
  size_t count = std::min<size_t>(static_cast<size_t>(n), f->data.size() - f->pos);
  std::memcpy(buf, f->data.data() + f->pos, count);
  f->pos += count;
  return static_cast<tmsize_t>(count);
}

tmsize_t MemWrite(thandle_t h, void* buf, tmsize_t n) {
  MemFile* f = static_cast<MemFile*>(h);
  size_t end = f->pos + static_cast<size_t>(n);
  if (end > f->data.size()) f->data.resize(end);
  std::memcpy(f->data.data() + f->pos, buf, static_cast<size_t>(n));
  f->pos = end;
  return n;
}

toff_t MemSeek(thandle_t h, toff_t off, int whence) {
  MemFile* f = static_cast<MemFile*>(h);
  int64_t base = whence == SEEK_CUR ? static_cast<int64_t>(f->pos)
                 : whence == SEEK_END ? static_cast<int64_t>(f->data.size())
                                      : 0;
  int64_t target = base + static_cast<int64_t>(off);
  if (target < 0) return static_cast<toff_t>(-1);
  f->pos = static_cast<uint64_t>(target);
  return f->pos;
}

int MemClose(thandle_t) { return 0; }
toff_t MemSize(thandle_t h) { return static_cast<MemFile*>(h)->data.size(); }
int MemMap(thandle_t, void**, toff_t*) { return 0; }
void MemUnmap(thandle_t, void*, toff_t) {}

int CaptureTiffError(TIFF*, void* user_data, const char* module, const char* fmt, va_list ap) {
  MemFile* f = static_cast<MemFile*>(user_data);
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  if (!f->error.empty()) f->error += "; ";
  f->error += std::string(module != nullptr ? module : "libtiff") + ": " + buf;
  return 1;  // handled: keep libtiff from printing
}

int IgnoreTiffWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

Result<std::vector<uint8_t>> EncodeTiff(const std::vector<cv::Mat>& pages, double dpi,
                                        FileFormat format) {
  MemFile mem;
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(options, CaptureTiffError, &mem);
  TIFFOpenOptionsSetWarningHandlerExtR(options, IgnoreTiffWarning, nullptr);
  TIFF* tif = TIFFClientOpenExt("memory", "w", &mem, MemRead, MemWrite, MemSeek, MemClose,
                                MemSize, MemMap, MemUnmap, options);
  TIFFOpenOptionsFree(options);
  if (tif == nullptr) return Status::Internal("libtiff: cannot open an in-memory TIFF: " + mem.error);

  bool ok = true;
  const bool g4 = format == FileFormat::kTiffG4;
  for (size_t p = 0; ok && p < pages.size(); ++p) {
    const cv::Mat& page = pages[p];
    const uint32_t w = static_cast<uint32_t>(page.cols);
    const uint32_t h = static_cast<uint32_t>(page.rows);
    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, pages.size() > 1 ? FILETYPE_PAGE : 0);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
    if (dpi > 0) {
      TIFFSetField(tif, TIFFTAG_XRESOLUTION, static_cast<float>(dpi));
      TIFFSetField(tif, TIFFTAG_YRESOLUTION, static_cast<float>(dpi));
      TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    }
    TIFFSetField(tif, TIFFTAG_SOFTWARE, "acervo-synth");
    if (pages.size() > 1) {
      TIFFSetField(tif, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(p),
                   static_cast<uint16_t>(pages.size()));
    }
    if (g4) {
      TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
      TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
      TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
      TIFFSetField(tif, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, h);  // G4 is coded as one strip
      std::vector<uint8_t> row((w + 7) / 8);
      for (uint32_t y = 0; ok && y < h; ++y) {
        std::fill(row.begin(), row.end(), 0);
        const uint8_t* src = page.ptr<uint8_t>(static_cast<int>(y));
        for (uint32_t x = 0; x < w; ++x) {
          // MINISWHITE: a set bit is black ink.
          if (src[x] < kG4Threshold) row[x >> 3] |= static_cast<uint8_t>(0x80 >> (x & 7));
        }
        ok = TIFFWriteScanline(tif, row.data(), y, 0) == 1;
      }
    } else {
      TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
      TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
      if (format == FileFormat::kTiffLzw) {
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
        TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
      } else {
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
      }
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
      std::vector<uint8_t> row(w);
      for (uint32_t y = 0; ok && y < h; ++y) {
        std::memcpy(row.data(), page.ptr<uint8_t>(static_cast<int>(y)), w);
        ok = TIFFWriteScanline(tif, row.data(), y, 0) == 1;
      }
    }
    ok = ok && TIFFWriteDirectory(tif) == 1;
  }
  TIFFClose(tif);
  if (!ok) return Status::Internal("libtiff: " + mem.error);
  return std::move(mem.data);
}

}  // namespace

uint32_t Crc32(std::span<const uint8_t> data) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Status SetPngDpi(std::vector<uint8_t>* png, double dpi) {
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t>& b = *png;
  if (b.size() < 33 || std::memcmp(b.data(), kSignature, 8) != 0 ||
      std::memcmp(b.data() + 12, "IHDR", 4) != 0 || GetBe32(b.data() + 8) != 13) {
    return Status::Corrupt("not a PNG with an IHDR chunk");
  }
  // Drop any pHYs already there, so the file has exactly one.
  size_t pos = 33;
  while (pos + 12 <= b.size()) {
    uint32_t len = GetBe32(b.data() + pos);
    if (pos + 12 + len > b.size()) return Status::Corrupt("truncated PNG chunk");
    if (std::memcmp(b.data() + pos + 4, "pHYs", 4) == 0) {
      b.erase(b.begin() + static_cast<long>(pos), b.begin() + static_cast<long>(pos + 12 + len));
      continue;
    }
    pos += 12 + len;
  }
  // pHYs: pixels per unit X and Y, unit 1 = metre.
  const uint32_t ppm = static_cast<uint32_t>(std::lround(dpi / 0.0254));
  std::vector<uint8_t> chunk;
  PutBe32(&chunk, 9);
  const size_t type_at = chunk.size();
  chunk.insert(chunk.end(), {'p', 'H', 'Y', 's'});
  PutBe32(&chunk, ppm);
  PutBe32(&chunk, ppm);
  chunk.push_back(1);
  PutBe32(&chunk, Crc32(std::span<const uint8_t>(chunk.data() + type_at, chunk.size() - type_at)));
  b.insert(b.begin() + 33, chunk.begin(), chunk.end());
  return Status::OK();
}

Status SetJpegDpi(std::vector<uint8_t>* jpeg, double dpi) {
  std::vector<uint8_t>& b = *jpeg;
  if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8) return Status::Corrupt("not a JPEG");
  const uint16_t density = static_cast<uint16_t>(std::clamp<long>(std::lround(dpi), 1, 65535));
  if (b.size() >= 18 && b[2] == 0xFF && b[3] == 0xE0 && std::memcmp(b.data() + 6, "JFIF", 5) == 0) {
    b[13] = 1;  // units: dots per inch
    b[14] = static_cast<uint8_t>(density >> 8);
    b[15] = static_cast<uint8_t>(density);
    b[16] = static_cast<uint8_t>(density >> 8);
    b[17] = static_cast<uint8_t>(density);
    return Status::OK();
  }
  // No JFIF header: insert one right after SOI.
  const uint8_t app0[] = {0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x01,
                          static_cast<uint8_t>(density >> 8), static_cast<uint8_t>(density),
                          static_cast<uint8_t>(density >> 8), static_cast<uint8_t>(density),
                          0x00, 0x00};
  b.insert(b.begin() + 2, std::begin(app0), std::end(app0));
  return Status::OK();
}

Result<std::vector<uint8_t>> EncodePages(const std::vector<cv::Mat>& pages, double dpi,
                                         FileFormat format) {
  if (pages.empty()) return Status::InvalidArgument("no pages to write");
  if (!(dpi >= 0 && dpi < 100000)) return Status::InvalidArgument("bad dpi");
  for (const cv::Mat& page : pages) {
    if (page.empty() || page.type() != CV_8UC1) {
      return Status::InvalidArgument("pages must be non-empty CV_8UC1 images");
    }
  }
  switch (format) {
    case FileFormat::kTiffNone:
    case FileFormat::kTiffLzw:
    case FileFormat::kTiffG4:
      return EncodeTiff(pages, dpi, format);
    case FileFormat::kPng:
    case FileFormat::kJpeg: {
      if (pages.size() != 1) return Status::InvalidArgument("PNG and JPEG hold one page only");
      std::vector<uint8_t> bytes;
      const bool png = format == FileFormat::kPng;
      // JPEG quality of a typical archive scanner's "high" setting.
      std::vector<int> params = png ? std::vector<int>{cv::IMWRITE_PNG_COMPRESSION, 3}
                                    : std::vector<int>{cv::IMWRITE_JPEG_QUALITY, 88};
      bool encoded = false;
      try {
        encoded = cv::imencode(png ? ".png" : ".jpg", pages[0], bytes, params);
      } catch (const cv::Exception& e) {
        return Status::Internal(std::string("OpenCV encoder: ") + e.what());
      }
      if (!encoded) return Status::Internal("OpenCV encoder failed");
      if (dpi > 0) ACERVO_RETURN_IF_ERROR(png ? SetPngDpi(&bytes, dpi) : SetJpegDpi(&bytes, dpi));
      return bytes;
    }
  }
  return Status::InvalidArgument("unknown file format");
}

Status WritePages(const std::filesystem::path& path, const std::vector<cv::Mat>& pages,
                  double dpi, FileFormat format) {
  Result<std::vector<uint8_t>> bytes = EncodePages(pages, dpi, format);
  if (!bytes.ok()) {
    return Status(bytes.status().code() == StatusCode::kInvalidArgument ? StatusCode::kInvalidArgument
                                                                         : StatusCode::kIOError,
                  path.string() + ": " + bytes.status().message());
  }
  Status written = WriteFileAtomic(path, std::span<const uint8_t>(*bytes));
  // The caller needs the file's name even when the OS complained about its
  // directory.
  if (!written.ok() && written.message().find(path.string()) == std::string::npos) {
    return written.WithContext(path.string());
  }
  return written;
}

}  // namespace acervo::synth
