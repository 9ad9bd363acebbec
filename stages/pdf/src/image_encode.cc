#include "acervo/stages/pdf/image_encode.h"

#include <podofo/podofo.h>
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

namespace acervo {
namespace {

Status CheckImage(const cv::Mat& image) {
  if (image.empty()) return Status::InvalidArgument("empty image");
  if (image.type() != CV_8UC1 && image.type() != CV_8UC3) {
    return Status::InvalidArgument("image must be CV_8UC1 or CV_8UC3, got type " +
                                   std::to_string(image.type()));
  }
  return Status::OK();
}

cv::Mat ToGray(const cv::Mat& image) {
  if (image.channels() == 1) return image;
  cv::Mat gray;
  cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  return gray;
}

// An in-memory TIFF "file" for TIFFClientOpen: libtiff seeks back to patch
// the header, so this is a growable buffer with a position, not a stream.
struct MemTiff {
  std::vector<uint8_t> data;
  uint64_t pos = 0;
  std::string error;  // the last libtiff error for this handle
};

tsize_t MemRead(thandle_t h, tdata_t buf, tsize_t size) {
  MemTiff* m = static_cast<MemTiff*>(h);
  if (m->pos >= m->data.size()) return 0;
  tsize_t n = static_cast<tsize_t>(
      std::min<uint64_t>(static_cast<uint64_t>(size), m->data.size() - m->pos));
  std::memcpy(buf, m->data.data() + m->pos, static_cast<size_t>(n));
  m->pos += static_cast<uint64_t>(n);
  return n;
}

tsize_t MemWrite(thandle_t h, tdata_t buf, tsize_t size) {
  MemTiff* m = static_cast<MemTiff*>(h);
  uint64_t end = m->pos + static_cast<uint64_t>(size);
  if (end > m->data.size()) m->data.resize(end);
  std::memcpy(m->data.data() + m->pos, buf, static_cast<size_t>(size));
  m->pos = end;
  return size;
}

toff_t MemSeek(thandle_t h, toff_t off, int whence) {
  MemTiff* m = static_cast<MemTiff*>(h);
  int64_t base = 0;
  if (whence == SEEK_CUR) base = static_cast<int64_t>(m->pos);
  if (whence == SEEK_END) base = static_cast<int64_t>(m->data.size());
  int64_t target = base + static_cast<int64_t>(off);
  if (target < 0) return static_cast<toff_t>(-1);
  m->pos = static_cast<uint64_t>(target);
  return m->pos;
}

int MemClose(thandle_t) { return 0; }
toff_t MemSize(thandle_t h) { return static_cast<MemTiff*>(h)->data.size(); }
int MemMap(thandle_t, tdata_t*, toff_t*) { return 0; }
void MemUnmap(thandle_t, tdata_t, toff_t) {}

// Per-handle error sink, so that concurrent encoders neither print to stderr
// nor race on libtiff's process-wide handler.
int MemError(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  static_cast<MemTiff*>(user)->error =
      std::string(module != nullptr ? module : "libtiff") + ": " + buf;
  return 1;
}
int MemWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

TiffPtr OpenMem(MemTiff* mem, const char* mode) {
  std::unique_ptr<TIFFOpenOptions, decltype(&TIFFOpenOptionsFree)> opts(TIFFOpenOptionsAlloc(),
                                                                        &TIFFOpenOptionsFree);
  TIFFOpenOptionsSetErrorHandlerExtR(opts.get(), &MemError, mem);
  TIFFOpenOptionsSetWarningHandlerExtR(opts.get(), &MemWarning, mem);
  mem->pos = 0;
  return TiffPtr(TIFFClientOpenExt("memory", mode, mem, &MemRead, &MemWrite, &MemSeek, &MemClose,
                                   &MemSize, &MemMap, &MemUnmap, opts.get()));
}

Status TiffError(const MemTiff& mem, const char* what) {
  return Status::Internal(std::string("G4 encoding: ") + what +
                          (mem.error.empty() ? "" : ": " + mem.error));
}

}  // namespace

Result<cv::Mat> Binarize(const cv::Mat& image) {
  ACERVO_RETURN_IF_ERROR(CheckImage(image));
  cv::Mat gray = ToGray(image);
  // A page that is already bitonal (the binarize stage ran) is kept exactly:
  // a second threshold could only move pixels the earlier stage chose.
  cv::Mat not_black, not_white;
  cv::compare(gray, 0, not_black, cv::CMP_NE);
  cv::compare(gray, 255, not_white, cv::CMP_NE);
  if (cv::countNonZero(not_black & not_white) == 0) return gray;
  cv::Mat bw;
  cv::threshold(gray, bw, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  return bw;
}

Result<EncodedImage> EncodeCcittG4(const cv::Mat& image) {
  ACERVO_ASSIGN_OR_RETURN(cv::Mat bw, Binarize(image));
  const int width = bw.cols;
  const int height = bw.rows;
  const size_t row_bytes = (static_cast<size_t>(width) + 7) / 8;

  // Pack to 1 bit per pixel, MSB first, 1 = black (WhiteIsZero).
  std::vector<uint8_t> packed(row_bytes * static_cast<size_t>(height), 0);
  for (int y = 0; y < height; ++y) {
    const uint8_t* src = bw.ptr<uint8_t>(y);
    uint8_t* dst = packed.data() + row_bytes * static_cast<size_t>(y);
    for (int x = 0; x < width; ++x) {
      if (src[x] < 128) dst[x >> 3] |= static_cast<uint8_t>(0x80u >> (x & 7));
    }
  }

  MemTiff mem;
  {
    TiffPtr tif = OpenMem(&mem, "w");
    if (!tif) return TiffError(mem, "cannot open memory TIFF for writing");
    TIFF* t = tif.get();
    bool ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(width)) &&
              TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(height)) &&
              TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1) &&
              TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1) &&
              TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4) &&
              TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE) &&
              TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB) &&
              TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
              TIFFSetField(t, TIFFTAG_T6OPTIONS, 0) &&
              // One strip: the PDF filter decodes a single G4 stream.
              TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(height));
    if (!ok) return TiffError(mem, "cannot set TIFF fields");
    if (TIFFWriteEncodedStrip(t, 0, packed.data(), static_cast<tmsize_t>(packed.size())) < 0) {
      return TiffError(mem, "cannot write strip");
    }
    if (!TIFFWriteDirectory(t)) return TiffError(mem, "cannot write directory");
  }  // TIFFClose flushes the header into mem.data.

  // Read the strip back raw: these bytes are exactly the CCITT G4 stream.
  TiffPtr tif = OpenMem(&mem, "r");
  if (!tif) return TiffError(mem, "cannot reopen memory TIFF");
  if (TIFFNumberOfStrips(tif.get()) != 1) return TiffError(mem, "expected one strip");
  tmsize_t raw_size = TIFFRawStripSize(tif.get(), 0);
  if (raw_size <= 0) return TiffError(mem, "empty strip");
  EncodedImage out;
  out.bytes.resize(static_cast<size_t>(raw_size));
  tmsize_t got = TIFFReadRawStrip(tif.get(), 0, out.bytes.data(), raw_size);
  if (got != raw_size) return TiffError(mem, "short raw strip read");
  out.codec = EncodedImage::Codec::kCcittG4;
  out.width = width;
  out.height = height;
  out.components = 1;
  out.bits_per_component = 1;
  return out;
}

Result<EncodedImage> EncodeJpeg(const cv::Mat& image, int quality) {
  ACERVO_RETURN_IF_ERROR(CheckImage(image));
  if (quality < 1 || quality > 100) {
    return Status::InvalidArgument("JPEG quality must be 1..100, got " + std::to_string(quality));
  }
  EncodedImage out;
  // imencode takes OpenCV's BGR order and writes a standard JPEG (YCbCr,
  // Adobe-free JFIF), which is what DCTDecode with DeviceRGB expects.
  const std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, quality, cv::IMWRITE_JPEG_OPTIMIZE, 1};
  bool ok = false;
  try {
    ok = cv::imencode(".jpg", image, out.bytes, params);
  } catch (const cv::Exception& e) {
    return Status::Internal(std::string("JPEG encoding failed: ") + e.what());
  }
  if (!ok) return Status::Internal("JPEG encoding failed");
  out.codec = EncodedImage::Codec::kJpeg;
  out.width = image.cols;
  out.height = image.rows;
  out.components = image.channels();
  out.bits_per_component = 8;
  return out;
}

Result<EncodedImage> EncodeFlate(const cv::Mat& image) {
  ACERVO_RETURN_IF_ERROR(CheckImage(image));
  cv::Mat samples;
  if (image.channels() == 3) {
    cv::cvtColor(image, samples, cv::COLOR_BGR2RGB);  // PDF DeviceRGB order
  } else {
    samples = image;
  }
  if (!samples.isContinuous()) samples = samples.clone();
  const size_t size = samples.total() * samples.elemSize();

  EncodedImage out;
  try {
    std::unique_ptr<PoDoFo::PdfFilter> flate(
        PoDoFo::PdfFilterFactory::Create(PoDoFo::ePdfFilter_FlateDecode));
    if (!flate) return Status::Internal("no Flate filter in PoDoFo");
    char* encoded = nullptr;
    PoDoFo::pdf_long encoded_len = 0;
    flate->Encode(reinterpret_cast<const char*>(samples.data), static_cast<PoDoFo::pdf_long>(size),
                  &encoded, &encoded_len);
    std::unique_ptr<char, decltype(&PoDoFo::podofo_free)> holder(encoded, &PoDoFo::podofo_free);
    out.bytes.assign(reinterpret_cast<const uint8_t*>(encoded),
                     reinterpret_cast<const uint8_t*>(encoded) + encoded_len);
  } catch (const PoDoFo::PdfError& e) {
    return Status::Internal(std::string("Flate encoding failed: ") +
                            PoDoFo::PdfError::ErrorMessage(e.GetError()));
  }
  out.codec = EncodedImage::Codec::kFlate;
  out.width = image.cols;
  out.height = image.rows;
  out.components = image.channels();
  out.bits_per_component = 8;
  return out;
}

Result<std::unique_ptr<PageStage>> ImageEncodeStage::Create(const EncodeOptions& options) {
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
    return Status::InvalidArgument("encode: jpeg_quality must be 1..100, got " +
                                   std::to_string(options.jpeg_quality));
  }
  return std::unique_ptr<PageStage>(new ImageEncodeStage(options));
}

Result<EncodedImage> ImageEncodeStage::EncodeContinuousTone(const cv::Mat& image) const {
  if (options_.lossless) return EncodeFlate(image);
  Result<EncodedImage> jpeg = EncodeJpeg(image, options_.jpeg_quality);
  if (!jpeg.ok()) return jpeg;
  // Flat, clean pages (digital renders, forms with few tones) often deflate
  // smaller than they JPEG-compress; then lossless is also the smaller
  // choice, so take it. Noisy scans stay JPEG (Flate is 2-5x larger there).
  Result<EncodedImage> flate = EncodeFlate(image);
  if (flate.ok() && flate->bytes.size() < jpeg->bytes.size()) return flate;
  return jpeg;
}

Result<Page> ImageEncodeStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("encode: " + page.origin.Describe());
  Result<EncodedImage> encoded = Status::Internal("unreachable");
  switch (page.color_class) {
    case ColorClass::kBw:
      encoded = EncodeCcittG4(page.image);
      break;
    case ColorClass::kGray: {
      Status s = CheckImage(page.image);
      if (!s.ok()) {
        encoded = s;
        break;
      }
      encoded = EncodeContinuousTone(ToGray(page.image));
      break;
    }
    case ColorClass::kColor:
      // A gray Mat classed as colour is stored as gray: there is no colour
      // left to keep.
      encoded = EncodeContinuousTone(page.image);
      break;
  }
  if (!encoded.ok()) {
    return encoded.status().WithContext("encode " + page.origin.Describe());
  }
  page.encoded = std::move(encoded).value();
  return page;
}

}  // namespace acervo
