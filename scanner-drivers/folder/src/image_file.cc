#include "acervo/scanner/image_file.h"

#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <memory>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace acervo {
namespace {

uint32_t Be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
uint16_t Be16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }

std::string PageName(std::string_view name, int page_index, int pages) {
  std::string s(name);
  if (pages != 1) s += " page " + std::to_string(page_index + 1);
  return s;
}

Status CheckPixels(int64_t w, int64_t h, int64_t max_pixels, const std::string& where) {
  if (w <= 0 || h <= 0) {
    return Status::Corrupt(where + ": invalid image size " + std::to_string(w) + "x" +
                           std::to_string(h));
  }
  // w * h may overflow int64 for hostile headers (found by fuzzing).
  if (w > max_pixels / h) {
    return Status::InvalidArgument(where + ": image of " + std::to_string(w) + "x" +
                                   std::to_string(h) + " pixels exceeds the limit of " +
                                   std::to_string(max_pixels) + " pixels per page");
  }
  return Status::OK();
}

// ---------------------------------------------------------------- TIFF ----
// libtiff reads from memory through client callbacks; its error messages are
// captured per handle (TIFFOpenOptions, libtiff >= 4.5) so that concurrent
// decodes never mix their messages and nothing is printed to stderr.
struct MemTiff {
  std::span<const uint8_t> data;
  toff_t pos = 0;
  std::string error;
};

tmsize_t MemRead(thandle_t h, void* buf, tmsize_t size) {
  auto* m = static_cast<MemTiff*>(h);
  if (m->pos >= m->data.size()) return 0;
  tmsize_t n = std::min<tmsize_t>(size, static_cast<tmsize_t>(m->data.size() - m->pos));
  std::memcpy(buf, m->data.data() + m->pos, static_cast<size_t>(n));
  m->pos += static_cast<toff_t>(n);
  return n;
}
tmsize_t MemWrite(thandle_t, void*, tmsize_t) { return -1; }
toff_t MemSeek(thandle_t h, toff_t off, int whence) {
  auto* m = static_cast<MemTiff*>(h);
  toff_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->data.size();
  m->pos = base + off;
  return m->pos;
}
int MemClose(thandle_t) { return 0; }
toff_t MemSize(thandle_t h) { return static_cast<MemTiff*>(h)->data.size(); }
int MemMap(thandle_t, void**, toff_t*) { return 0; }
void MemUnmap(thandle_t, void*, toff_t) {}

int TiffError(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* m = static_cast<MemTiff*>(user);
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  if (m->error.empty()) {
    m->error = buf;
    (void)module;
  }
  return 1;  // handled: do not print
}
int TiffWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

// `max_alloc` bounds any single allocation libtiff makes, so a hostile
// header (a 146-byte file once made it take 2 GB; found by fuzzing) is
// refused instead of exhausting memory.
TiffPtr OpenTiff(MemTiff* mem, int64_t max_alloc) {
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, TiffError, mem);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, TiffWarning, mem);
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts, static_cast<tmsize_t>(max_alloc));
  TIFF* t = TIFFClientOpenExt("mem", "rm", mem, MemRead, MemWrite, MemSeek, MemClose, MemSize,
                              MemMap, MemUnmap, opts);
  TIFFOpenOptionsFree(opts);
  return TiffPtr(t);
}

Result<ImageFileInfo> ProbeTiff(std::span<const uint8_t> bytes, std::string_view name) {
  MemTiff mem{bytes, 0, {}};
  TiffPtr tif = OpenTiff(&mem, int64_t(64) << 20);  // directories only
  if (!tif) return Status::Corrupt(std::string(name) + ": cannot read TIFF header: " + mem.error);
  int pages = TIFFNumberOfDirectories(tif.get());
  if (pages <= 0) return Status::Corrupt(std::string(name) + ": TIFF has no pages");
  return ImageFileInfo{ImageFormat::kTiff, pages};
}

void TiffResolution(TIFF* tif, DecodedPage* out) {
  float xr = 0, yr = 0;
  uint16_t unit = RESUNIT_INCH;
  TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  if (TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xr) && TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yr) &&
      xr > 0 && yr > 0) {
    double f = unit == RESUNIT_CENTIMETER ? 2.54 : 1.0;
    if (unit != RESUNIT_NONE) {
      out->dpi_x = xr * f;
      out->dpi_y = yr * f;
    }
  }
}

Result<DecodedPage> DecodeTiff(std::span<const uint8_t> bytes, int page_index,
                               std::string_view name, int64_t max_pixels) {
  MemTiff mem{bytes, 0, {}};
  // No libtiff buffer needs more than the largest page we accept, as RGBA.
  TiffPtr tif = OpenTiff(&mem, std::clamp<int64_t>(max_pixels * 4, int64_t(64) << 20, int64_t(1) << 31));
  if (!tif) return Status::Corrupt(std::string(name) + ": cannot read TIFF header: " + mem.error);
  int pages = TIFFNumberOfDirectories(tif.get());
  std::string where = PageName(name, page_index, pages);
  if (page_index < 0 || page_index >= pages || !TIFFSetDirectory(tif.get(), uint16_t(page_index))) {
    return Status::Corrupt(where + ": cannot read page directory" +
                           (mem.error.empty() ? "" : ": " + mem.error));
  }
  uint32_t w = 0, h = 0;
  uint16_t bps = 1, spp = 1, photometric = PHOTOMETRIC_MINISWHITE, planar = PLANARCONFIG_CONTIG;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_PLANARCONFIG, &planar);
  if (!TIFFGetField(tif.get(), TIFFTAG_PHOTOMETRIC, &photometric)) {
    photometric = bps == 1 ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK;
  }
  ACERVO_RETURN_IF_ERROR(CheckPixels(w, h, max_pixels, where));

  DecodedPage out;
  out.bits_per_sample = bps;
  TiffResolution(tif.get(), &out);

  const bool gray_like = spp == 1 && (photometric == PHOTOMETRIC_MINISWHITE ||
                                      photometric == PHOTOMETRIC_MINISBLACK);
  const bool rgb8 = spp == 3 && bps == 8 && photometric == PHOTOMETRIC_RGB &&
                    planar == PLANARCONFIG_CONTIG;
  if (!TIFFIsTiled(tif.get()) && ((gray_like && (bps == 1 || bps == 8)) || rgb8)) {
    // Fast path for the layouts scanners write: read scanlines directly.
    cv::Mat img(static_cast<int>(h), static_cast<int>(w), rgb8 ? CV_8UC3 : CV_8UC1);
    std::vector<uint8_t> line(static_cast<size_t>(TIFFScanlineSize(tif.get())));
    const bool invert = photometric == PHOTOMETRIC_MINISWHITE;
    for (uint32_t y = 0; y < h; ++y) {
      if (TIFFReadScanline(tif.get(), line.data(), y, 0) < 0) {
        return Status::Corrupt(where + ": damaged image data at row " + std::to_string(y) +
                               (mem.error.empty() ? "" : ": " + mem.error));
      }
      uint8_t* row = img.ptr<uint8_t>(static_cast<int>(y));
      if (rgb8) {
        for (uint32_t x = 0; x < w; ++x) {  // RGB -> BGR
          row[3 * x] = line[3 * x + 2];
          row[3 * x + 1] = line[3 * x + 1];
          row[3 * x + 2] = line[3 * x];
        }
      } else if (bps == 1) {
        for (uint32_t x = 0; x < w; ++x) {
          bool bit = (line[x >> 3] >> (7 - (x & 7))) & 1;
          row[x] = (bit != invert) ? 255 : 0;
        }
      } else {
        for (uint32_t x = 0; x < w; ++x) row[x] = invert ? uint8_t(255 - line[x]) : line[x];
      }
    }
    out.image = std::move(img);
    return out;
  }

  // Everything else (tiles, palettes, 16-bit, CMYK, YCbCr...) through
  // libtiff's generic RGBA reader.
  cv::Mat rgba(static_cast<int>(h), static_cast<int>(w), CV_8UC4);
  if (!TIFFReadRGBAImageOriented(tif.get(), w, h, reinterpret_cast<uint32_t*>(rgba.data),
                                 ORIENTATION_TOPLEFT, 0)) {
    return Status::Corrupt(where + ": cannot decode image data" +
                           (mem.error.empty() ? "" : ": " + mem.error));
  }
  cv::Mat bgr;
  cv::cvtColor(rgba, bgr, cv::COLOR_RGBA2BGR);
  if (spp == 1) {
    cv::cvtColor(bgr, out.image, cv::COLOR_BGR2GRAY);
  } else {
    out.image = std::move(bgr);
  }
  return out;
}

// ------------------------------------------------------------ PNG/JPEG ----
struct HeaderInfo {
  int64_t width = 0, height = 0;
  double dpi_x = 0, dpi_y = 0;
  bool complete = true;  // the stream ends where the format says it ends
};

Result<HeaderInfo> ParsePng(std::span<const uint8_t> b, std::string_view name) {
  HeaderInfo info;
  info.complete = false;
  size_t pos = 8;
  bool have_ihdr = false;
  while (pos + 12 <= b.size()) {
    uint32_t len = Be32(&b[pos]);
    const uint8_t* type = &b[pos + 4];
    if (len > b.size() || pos + 12 + len > b.size()) break;
    const uint8_t* data = &b[pos + 8];
    if (std::memcmp(type, "IHDR", 4) == 0 && len >= 8) {
      info.width = Be32(data);
      info.height = Be32(data + 4);
      have_ihdr = true;
    } else if (std::memcmp(type, "pHYs", 4) == 0 && len >= 9 && data[8] == 1) {
      info.dpi_x = Be32(data) * 0.0254;
      info.dpi_y = Be32(data + 4) * 0.0254;
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      info.complete = true;
      break;
    }
    pos += 12 + len;
  }
  if (!have_ihdr) return Status::Corrupt(std::string(name) + ": PNG without a valid IHDR header");
  return info;
}

Result<HeaderInfo> ParseJpeg(std::span<const uint8_t> b, std::string_view name) {
  HeaderInfo info;
  size_t pos = 2;
  bool have_sof = false;
  while (pos + 4 <= b.size()) {
    if (b[pos] != 0xFF) break;
    uint8_t marker = b[pos + 1];
    if (marker == 0xFF) { ++pos; continue; }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) { pos += 2; continue; }
    uint16_t len = Be16(&b[pos + 2]);
    if (len < 2 || pos + 2 + len > b.size()) break;
    const uint8_t* seg = &b[pos + 4];
    if (marker == 0xE0 && len >= 16 && std::memcmp(seg, "JFIF", 5) == 0) {
      uint8_t units = seg[7];
      double xd = Be16(seg + 8), yd = Be16(seg + 10);
      if (units == 1) { info.dpi_x = xd; info.dpi_y = yd; }
      else if (units == 2) { info.dpi_x = xd * 2.54; info.dpi_y = yd * 2.54; }
    } else if ((marker >= 0xC0 && marker <= 0xCF) && marker != 0xC4 && marker != 0xC8 &&
               marker != 0xCC && len >= 7) {
      info.height = Be16(seg + 1);
      info.width = Be16(seg + 3);
      have_sof = true;
    } else if (marker == 0xDA) {
      break;  // entropy-coded data follows
    }
    pos += 2 + len;
  }
  if (!have_sof) return Status::Corrupt(std::string(name) + ": JPEG without a frame header");
  // libjpeg fills a truncated image with gray and only warns; we refuse it.
  size_t end = b.size();
  while (end > 2 && (b[end - 1] == 0 || b[end - 1] == '\n' || b[end - 1] == '\r')) --end;
  info.complete = end >= 2 && b[end - 2] == 0xFF && b[end - 1] == 0xD9;
  return info;
}

Result<DecodedPage> DecodeWithOpenCv(std::span<const uint8_t> bytes, const HeaderInfo& info,
                                     std::string_view name, std::string_view format,
                                     int64_t max_pixels) {
  std::string where(name);
  if (!info.complete) return Status::Corrupt(where + ": truncated " + std::string(format) + " file");
  ACERVO_RETURN_IF_ERROR(CheckPixels(info.width, info.height, max_pixels, where));
  cv::Mat raw;
  try {
    cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<uint8_t*>(bytes.data()));
    raw = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return Status::Corrupt(where + ": cannot decode " + std::string(format) + ": " + e.what());
  }
  if (raw.empty()) return Status::Corrupt(where + ": cannot decode " + std::string(format) + " data");
  DecodedPage out;
  out.dpi_x = info.dpi_x;
  out.dpi_y = info.dpi_y;
  if (raw.depth() == CV_16U) {
    raw.convertTo(raw, CV_8U, 1.0 / 257.0);
    out.bits_per_sample = 16;
  }
  if (raw.channels() == 4) {
    // Flatten alpha on white: scans have no transparency, screenshots might.
    // In integers, row by row, into the one 3-channel buffer the page
    // keeps: float copies of a 3300x2550 page cost ~100 MB each.
    cv::Mat flat(raw.size(), CV_8UC3);
    for (int y = 0; y < raw.rows; ++y) {
      const uint8_t* in = raw.ptr<uint8_t>(y);
      uint8_t* out = flat.ptr<uint8_t>(y);
      for (int x = 0; x < raw.cols; ++x, in += 4, out += 3) {
        const int a = in[3], white = 255 * (255 - a);
        for (int c = 0; c < 3; ++c) out[c] = static_cast<uint8_t>((in[c] * a + white + 127) / 255);
      }
    }
    raw = flat;
  } else if (raw.channels() == 2) {
    cv::Mat gray;
    cv::extractChannel(raw, gray, 0);
    raw = gray;
  }
  out.image = std::move(raw);
  return out;
}

}  // namespace

std::string_view ImageFormatName(ImageFormat f) {
  switch (f) {
    case ImageFormat::kTiff: return "TIFF";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPdf: return "PDF";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

ImageFormat SniffImageFormat(std::span<const uint8_t> h) {
  auto starts = [&](std::initializer_list<uint8_t> sig) {
    return h.size() >= sig.size() && std::equal(sig.begin(), sig.end(), h.begin());
  };
  if (starts({'I', 'I', 42, 0}) || starts({'M', 'M', 0, 42}) || starts({'I', 'I', 43, 0}) ||
      starts({'M', 'M', 0, 43})) {
    return ImageFormat::kTiff;
  }
  if (starts({0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})) return ImageFormat::kPng;
  if (starts({0xFF, 0xD8, 0xFF})) return ImageFormat::kJpeg;
  if (starts({'%', 'P', 'D', 'F', '-'})) return ImageFormat::kPdf;
  return ImageFormat::kUnknown;
}

Result<ImageFileInfo> ProbeImage(std::span<const uint8_t> bytes, std::string_view name) {
  if (bytes.empty()) return Status::Corrupt(std::string(name) + ": empty file (0 bytes)");
  ImageFormat format = SniffImageFormat(bytes);
  switch (format) {
    case ImageFormat::kTiff:
      return ProbeTiff(bytes, name);
    case ImageFormat::kPng: {
      ACERVO_ASSIGN_OR_RETURN(HeaderInfo info, ParsePng(bytes, name));
      if (!info.complete) return Status::Corrupt(std::string(name) + ": truncated PNG file");
      return ImageFileInfo{format, 1};
    }
    case ImageFormat::kJpeg: {
      ACERVO_ASSIGN_OR_RETURN(HeaderInfo info, ParseJpeg(bytes, name));
      if (!info.complete) return Status::Corrupt(std::string(name) + ": truncated JPEG file");
      return ImageFileInfo{format, 1};
    }
    case ImageFormat::kPdf: {
      // Say why as precisely as a quick look allows: the operator must
      // either get the password or re-export the file.
      std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      if (text.find("/Encrypt") != std::string_view::npos) {
        return Status::InvalidArgument(std::string(name) +
                                       ": encrypted PDF (password protected); cannot be read as page images");
      }
      if (text.find("%%EOF") == std::string_view::npos) {
        return Status::Corrupt(std::string(name) + ": malformed PDF (no %%EOF trailer: truncated or damaged)");
      }
      return Status::InvalidArgument(std::string(name) +
                                     ": PDF input is not accepted as a page image yet");
    }
    case ImageFormat::kUnknown:
      break;
  }
  return Status::Corrupt(std::string(name) +
                         ": not a TIFF, PNG or JPEG image (unrecognised file signature)");
}

Result<DecodedPage> DecodeImagePage(std::span<const uint8_t> bytes, int page_index,
                                    std::string_view name, int64_t max_pixels) {
  ACERVO_ASSIGN_OR_RETURN(ImageFileInfo info, ProbeImage(bytes, name));
  if (page_index < 0 || page_index >= info.pages) {
    return Status::InvalidArgument(std::string(name) + ": no page " +
                                   std::to_string(page_index + 1) + " (file has " +
                                   std::to_string(info.pages) + ")");
  }
  switch (info.format) {
    case ImageFormat::kTiff:
      return DecodeTiff(bytes, page_index, name, max_pixels);
    case ImageFormat::kPng: {
      ACERVO_ASSIGN_OR_RETURN(HeaderInfo h, ParsePng(bytes, name));
      return DecodeWithOpenCv(bytes, h, name, "PNG", max_pixels);
    }
    case ImageFormat::kJpeg: {
      ACERVO_ASSIGN_OR_RETURN(HeaderInfo h, ParseJpeg(bytes, name));
      return DecodeWithOpenCv(bytes, h, name, "JPEG", max_pixels);
    }
    default:
      break;
  }
  return Status::Internal(std::string(name) + ": unexpected format");
}

bool LooksLikeImageFileName(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  // PDFs and image formats we do not decode are taken too, so that such a
  // file is quarantined with its reason instead of silently ignored.
  for (const char* e : {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".pdf", ".bmp", ".gif", ".webp", ".jp2", ".j2k",
                        ".jpx", ".jxl", ".heic", ".heif", ".pbm", ".pgm", ".ppm", ".pnm"}) {
    if (ext == e) return true;
  }
  return false;
}

}  // namespace acervo
