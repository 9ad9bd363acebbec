#include "acervo/stages/pdf/image_encode.h"

#include "acervo/stages/imageops/imageops.h"

#include <podofo/podofo.h>
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

// After <cstdio> and <cstddef>: jpeglib.h uses FILE and size_t undeclared.
#include <jpeglib.h>

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


// libjpeg reports fatal errors through error_exit, which must not return;
// it longjmps back to CompressJpeg. Only plain C objects live between the
// setjmp and the longjmp, so no C++ destructor is skipped.
struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void JpegErrorExit(j_common_ptr cinfo) {
  JpegError* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

void JpegSilence(j_common_ptr, int) {}  // warnings: none matter for encoding

// The output buffer jpeg_mem_dest allocates with malloc.
struct JpegBuffer {
  unsigned char* data = nullptr;
  unsigned long size = 0;  // NOLINT(runtime/int): libjpeg's type
  ~JpegBuffer() { std::free(data); }
};

// Baseline JPEG of 8-bit samples:
//  - libjpeg's standard tables scaled by `quality` (jpeg_set_quality);
//  - optimised Huffman tables (a second pass over the coefficients; lossless,
//    5-10% smaller than the standard tables on scans);
//  - colour as YCbCr with 4:2:0 chroma (2x2 luma blocks per chroma block):
//    the eye and OCR see luminance detail, and text edges live there; this
//    is also what Ghostscript and OCRmyPDF store;
//  - sequential (not progressive) and JFIF, which PDF/A-1 and every reader
//    accept.
// `samples` are gray (channels 1) or BGR (channels 3) rows `stride` bytes
// apart.
// False with *error set when libjpeg fails.
bool CompressJpeg(const uint8_t* samples, size_t stride, int width, int height, int channels, int quality,
                  JpegBuffer* out, std::string* error) {
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = &JpegErrorExit;
  err.mgr.emit_message = &JpegSilence;
  err.message[0] = '\0';
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_compress(&cinfo);
    *error = err.message;
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &out->data, &out->size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = channels;
  // Colour straight from OpenCV's BGR order (a libjpeg-turbo extension): no
  // RGB copy of the page.
  cinfo.in_color_space = channels == 3 ? JCS_EXT_BGR : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);  // YCbCr for RGB input, JFIF header
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = TRUE;
  cinfo.dct_method = JDCT_ISLOW;  // accurate; FASTEST/IFAST costs quality
  if (channels == 3) {
    cinfo.comp_info[0].h_samp_factor = 2;
    cinfo.comp_info[0].v_samp_factor = 2;
    for (int c = 1; c < 3; ++c) {
      cinfo.comp_info[c].h_samp_factor = 1;
      cinfo.comp_info[c].v_samp_factor = 1;
    }
  }
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(samples + stride * cinfo.next_scanline);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

}  // namespace

void ApplyPaperToneInPlace(cv::Mat& image, const cv::Mat& paper_tone) {
  if (image.empty() || paper_tone.empty() || image.channels() != paper_tone.channels()) return;
  cv::Mat tone;
  paper_tone.convertTo(tone, CV_32F, 1.0 / 255);
  // The clean stage's mapping of its 1/8 background onto the page
  // (cv::resize's INTER_LINEAR across, rows interpolated the same way
  // down), taken down first and then across, one row at a time: nothing
  // page-sized.
  cv::Mat small_row, row;
  for (int y = 0; y < image.rows; ++y) {
    const LinearRow src = LinearSourceRow(y, image.rows, tone.rows);
    cv::addWeighted(tone.row(src.y0), 1 - src.fy, tone.row(src.y1), src.fy, 0, small_row);
    cv::resize(small_row, row, cv::Size(image.cols, 1), 0, 0, cv::INTER_LINEAR);
    cv::Mat dst = image.row(y);
    cv::multiply(dst, row, dst, 1.0, image.type());
  }
}

cv::Mat ApplyPaperTone(const cv::Mat& image, const cv::Mat& paper_tone) {
  if (image.empty() || paper_tone.empty() || image.channels() != paper_tone.channels()) return image;
  cv::Mat out = image.clone();
  ApplyPaperToneInPlace(out, paper_tone);
  return out;
}

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

namespace {

// G4 of a 0/255 page where `is_ink(value)` tells the black pixels.
template <typename IsInk>
Result<EncodedImage> PackG4(const cv::Mat& bw, IsInk is_ink) {
  const int width = bw.cols;
  const int height = bw.rows;
  const size_t row_bytes = (static_cast<size_t>(width) + 7) / 8;

  // Pack to 1 bit per pixel, MSB first, 1 = black (WhiteIsZero).
  std::vector<uint8_t> packed(row_bytes * static_cast<size_t>(height), 0);
  for (int y = 0; y < height; ++y) {
    const uint8_t* src = bw.ptr<uint8_t>(y);
    uint8_t* dst = packed.data() + row_bytes * static_cast<size_t>(y);
    for (int x = 0; x < width; ++x) {
      if (is_ink(src[x])) dst[x >> 3] |= static_cast<uint8_t>(0x80u >> (x & 7));
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

Result<EncodedImage> EncodeG4FromInk(const cv::Mat& ink) {
  return PackG4(ink, [](uint8_t v) { return v != 0; });
}

}  // namespace

Result<EncodedImage> EncodeCcittG4(const cv::Mat& image) {
  ACERVO_ASSIGN_OR_RETURN(cv::Mat bw, Binarize(image));
  return PackG4(bw, [](uint8_t v) { return v < 128; });
}

Result<EncodedImage> EncodeJpeg(const cv::Mat& image, int quality) {
  ACERVO_RETURN_IF_ERROR(CheckImage(image));
  if (quality < 1 || quality > 100) {
    return Status::InvalidArgument("JPEG quality must be 1..100, got " + std::to_string(quality));
  }
  JpegBuffer buffer;
  std::string error;
  if (!CompressJpeg(image.data, image.step, image.cols, image.rows, image.channels(), quality, &buffer,
                    &error)) {
    return Status::Internal("JPEG encoding failed: " + error);
  }
  EncodedImage out;
  out.bytes.assign(buffer.data, buffer.data + buffer.size);
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

namespace {

// Mixed raster content this small (bytes per pixel; 174 KB for a 300-dpi
// A4 page) is taken without encoding the JPEG to compare with: text pages
// come out at 0.004-0.02 of their pixels, a JPEG of a scan at 0.03-0.1.
constexpr double kSureMixedRasterBytesPerPixel = 0.02;

// Whether `image` looks like a flat digital render (many runs of equal
// pixels) rather than a scan (sensor noise makes neighbours differ): only
// then can Flate beat JPEG, and deflating a colour scan costs a second or
// more for nothing. Every 4th row is looked at.
bool LooksFlat(const cv::Mat& image) {
  const int ch = image.channels();
  int64_t same = 0, all = 0;
  for (int y = 0; y < image.rows; y += 4) {
    const uint8_t* p = image.ptr<uint8_t>(y);
    for (int x = 1; x < image.cols; ++x) {
      same += std::memcmp(p + (x - 1) * ch, p + x * ch, static_cast<size_t>(ch)) == 0;
      ++all;
    }
  }
  return all > 0 && same > all / 2;
}

}  // namespace

Result<EncodedImage> ImageEncodeStage::EncodeContinuousTone(const cv::Mat& image,
                                                            const cv::Mat& split_from) const {
  if (options_.lossless) return EncodeFlate(image);
  // Text on plain paper first: the text keeps full resolution as a bitonal
  // mask and paper and ink colours go to small JPEGs, when the rebuilt page
  // is within the fidelity bounds; anything else (photos, colour graphics)
  // keeps a single image. Small enough, it needs no JPEG to compare with.
  std::optional<EncodedImage> mixed;
  if (options_.mixed_raster) {
    ACERVO_ASSIGN_OR_RETURN(mixed, EncodeMixedRaster(image, MixedRasterOptions{}, SIZE_MAX, split_from));
    if (mixed && mixed->bytes.size() <= kSureMixedRasterBytesPerPixel * static_cast<double>(image.total())) {
      return std::move(mixed).value();
    }
  }
  Result<EncodedImage> jpeg = EncodeJpeg(image, options_.jpeg_quality);
  if (!jpeg.ok()) return jpeg;
  EncodedImage best = std::move(jpeg).value();
  // Flat, clean pages (digital renders, forms with few tones) often deflate
  // smaller than they JPEG-compress; then lossless is also the smaller
  // choice, so take it. Noisy scans stay JPEG (Flate is 2-5x larger there).
  if (LooksFlat(image)) {
    Result<EncodedImage> flate = EncodeFlate(image);
    if (flate.ok() && flate->bytes.size() < best.bytes.size()) best = std::move(flate).value();
  }
  if (mixed && mixed->bytes.size() < best.bytes.size()) return std::move(mixed).value();
  return best;
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
    case ColorClass::kColor: {
      // A gray Mat classed as colour is stored as gray: there is no colour
      // left to keep.
      if (page.paper_tone.empty() || page.image.type() != CV_8UC3) {
        encoded = EncodeContinuousTone(page.image);
        break;
      }
      // The clean stage whitened the paper (stages/clean): the text masks
      // are split from that page, as OCR read it, and the colours are the
      // scan's. The page keeps the image the PDF shows (previews and
      // thumbnails are made from it).
      const cv::Mat split_from = ToGray(page.image);
      // In place when nothing else holds the whitened page (the chain's
      // case: OCR, its only other reader, is done): a second colour copy
      // would be the stage's largest buffer (209 MB on an A3 600-dpi page).
      if (page.image.u != nullptr && page.image.u->refcount == 1) {
        ApplyPaperToneInPlace(page.image, page.paper_tone);
      } else {
        page.image = ApplyPaperTone(page.image, page.paper_tone);
      }
      page.paper_tone.release();
      encoded = EncodeContinuousTone(page.image, split_from);
      break;
    }
  }
  if (!encoded.ok()) {
    return encoded.status().WithContext("encode " + page.origin.Describe());
  }
  page.encoded = std::move(encoded).value();
  return page;
}

// ---- Mixed raster content ----

namespace {

// Packed layout, little-endian u32s: "AMRC" magic, version 2, background
// width, height, components, foreground width, height, then the byte counts
// of the mask (G4), the background (JPEG) and the foreground (JPEG), then
// those three byte strings in that order. Version 3 (a page with edge
// tones) adds the edge image's width and height after the foreground's and
// the byte counts of the edge mask (G4) and the edge image (JPEG) after the
// foreground's, and those two byte strings at the end. Version 2 is still
// read (a journal written before edge tones existed).
constexpr char kMrcMagic[4] = {'A', 'M', 'R', 'C'};
constexpr uint32_t kMrcVersion = 2;
constexpr uint32_t kMrcEdgeVersion = 3;
constexpr size_t kMrcHeader = 4 + 9 * 4;
constexpr size_t kMrcEdgeHeader = 4 + 13 * 4;

void PutU32(std::vector<uint8_t>* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t GetU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

// `image` at 1/scale of its size from the pixels `keep` (!= 0) only: each
// scale x scale block is the mean of its kept pixels; blocks with none take
// the mean of their filled neighbours, ring by ring. For the background,
// `keep` is the paper (so no dark text halo is smeared into it); for the
// foreground, the ink (so each stroke's colour is its own, not the
// paper's). Sums in integers, one pass over the page: nothing page-sized
// is allocated (float copies of an A3 600-dpi colour page took ~800 MB).
cv::Mat MaskedReduce(const cv::Mat& image, const cv::Mat& keep, int scale) {
  const int ch = image.channels();
  const cv::Size small((image.cols + scale - 1) / scale, (image.rows + scale - 1) / scale);
  std::vector<uint32_t> sums(static_cast<size_t>(small.area()) * ch, 0), counts(small.area(), 0);
  for (int y = 0; y < image.rows; ++y) {
    const uint8_t* px = image.ptr<uint8_t>(y);
    const uint8_t* k = keep.ptr<uint8_t>(y);
    const size_t row = static_cast<size_t>(y / scale) * small.width;
    for (int x = 0; x < image.cols; ++x) {
      if (k[x] == 0) continue;
      const size_t block = row + static_cast<size_t>(x / scale);
      ++counts[block];
      for (int c = 0; c < ch; ++c) sums[block * ch + c] += px[x * ch + c];
    }
  }
  cv::Mat sum(small, CV_MAKETYPE(CV_32F, ch)), weight(small, CV_32F);
  for (int by = 0; by < small.height; ++by) {
    float* s = sum.ptr<float>(by);
    float* w = weight.ptr<float>(by);
    for (int bx = 0; bx < small.width; ++bx) {
      const size_t block = static_cast<size_t>(by) * small.width + bx;
      w[bx] = static_cast<float>(counts[block]);
      for (int c = 0; c < ch; ++c) s[bx * ch + c] = static_cast<float>(sums[block * ch + c]);
    }
  }
  // The integer sums are in `sum` and `weight` now: let them go before the
  // hole filling allocates its own (15 MB for a 300-dpi Letter page at
  // scale 3; this function held the page's peak heap).
  std::vector<uint32_t>().swap(sums);
  std::vector<uint32_t>().swap(counts);
  // Fill holes: a 3x3 box of (sum, weight) spreads known blocks outward by
  // one block per round; known blocks keep their own value.
  for (int round = 0; round < 64; ++round) {
    cv::Mat hole = weight < 1e-4;
    if (cv::countNonZero(hole) == 0) break;
    cv::Mat sum_b, weight_b;
    cv::boxFilter(sum, sum_b, -1, cv::Size(3, 3), cv::Point(-1, -1), false);
    cv::boxFilter(weight, weight_b, -1, cv::Size(3, 3), cv::Point(-1, -1), false);
    sum_b.copyTo(sum, hole);
    weight_b.copyTo(weight, hole);
  }
  // The mean, straight to 8 bits (as split, divide, merge and convertTo
  // would give it, without their four float copies).
  cv::Mat out(small, CV_MAKETYPE(CV_8U, ch));
  for (int by = 0; by < small.height; ++by) {
    const float* s = sum.ptr<float>(by);
    const float* w = weight.ptr<float>(by);
    uint8_t* o = out.ptr<uint8_t>(by);
    for (int bx = 0; bx < small.width; ++bx) {
      const float safe_weight = std::max(w[bx], 1e-4f);
      for (int c = 0; c < ch; ++c) o[bx * ch + c] = cv::saturate_cast<uint8_t>(s[bx * ch + c] / safe_weight);
    }
  }
  return out;
}

// The rows [y0, y0 + rows) of `layer` scaled up to `size` with bilinear
// interpolation, exactly as cv::resize(layer, page, size, 0, 0,
// INTER_LINEAR) would give them, without making the whole page.
cv::Mat ScaledRows(const cv::Mat& layer, cv::Size size, int y0, int rows) {
  const double sx = static_cast<double>(layer.cols) / size.width;
  const double sy = static_cast<double>(layer.rows) / size.height;
  const cv::Matx23d to_layer(sx, 0, 0.5 * sx - 0.5, 0, sy, (y0 + 0.5) * sy - 0.5);
  cv::Mat out;
  cv::warpAffine(layer, out, to_layer, cv::Size(size.width, rows), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_REPLICATE);
  return out;
}

// The fidelity measure of MixedRasterFidelity, strip by strip: `rebuilt_rows`
// gives rows [y0, y0 + n) of the rebuilt page, so that the page rebuilt
// from the layers never needs to exist whole.
template <typename RowsFn>
MixedRasterError TileErrors(const cv::Mat& image, const cv::Mat& ink, double tile_bound, RowsFn rebuilt_rows) {
  constexpr int kTile = 32;
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3));
  const int tiles_x = (image.cols + kTile - 1) / kTile;
  double worst = 0, total = 0, counted_all = 0;
  int tiles = 0, over = 0;
  std::vector<double> tile_sum(tiles_x), tile_n(tiles_x), tile_area(tiles_x);
  for (int y0 = 0; y0 < image.rows; y0 += kTile) {
    const int n = std::min(kTile, image.rows - y0);
    const cv::Mat rebuilt = rebuilt_rows(y0, n);
    cv::Mat diff;
    cv::absdiff(rebuilt, image.rowRange(y0, y0 + n), diff);
    if (diff.channels() == 3) {
      // The mean of the three channel differences: scanner noise is per
      // channel and their maximum would count it about 1.4 times over; a
      // colour the layers lose is still tens of levels.
      cv::Mat mean;
      cv::transform(diff, mean, cv::Matx13f(1.f / 3, 1.f / 3, 1.f / 3));
      diff = mean;
    }
    // A one-pixel band on each side of every stroke edge is left out: a
    // bitonal edge cannot hold the scanner's anti-aliasing ramp, on any
    // text page, and that is the loss a bw page takes too. What is measured
    // is what the layers could have kept and did not: ink tone and paper.
    // (Morphology on a row range sees the rows around it.)
    cv::Mat grown, shrunk;
    cv::dilate(ink.rowRange(y0, y0 + n), grown, kernel);
    cv::erode(ink.rowRange(y0, y0 + n), shrunk, kernel);
    std::fill(tile_sum.begin(), tile_sum.end(), 0);
    std::fill(tile_n.begin(), tile_n.end(), 0);
    std::fill(tile_area.begin(), tile_area.end(), 0);
    for (int y = 0; y < n; ++y) {
      const uint8_t* d = diff.ptr<uint8_t>(y);
      const uint8_t* g = grown.ptr<uint8_t>(y);
      const uint8_t* sh = shrunk.ptr<uint8_t>(y);
      for (int x = 0; x < image.cols; ++x) {
        const int t = x / kTile;
        tile_area[t] += 1;
        if (g[x] == 0 || sh[x] != 0) {
          tile_sum[t] += d[x];
          tile_n[t] += 1;
        }
      }
    }
    for (int t = 0; t < tiles_x; ++t) {
      total += tile_sum[t];
      counted_all += tile_n[t];
      ++tiles;
      // A tile that is nearly all edge band says little; its few pixels
      // count towards the page mean only.
      if (tile_n[t] < 0.25 * tile_area[t]) continue;
      const double mean = tile_sum[t] / tile_n[t];
      worst = std::max(worst, mean);
      over += mean > tile_bound;
    }
  }
  MixedRasterError err;
  err.worst_tile = worst;
  err.share_over = tiles > 0 ? static_cast<double>(over) / tiles : 0;
  err.mean = counted_all > 0 ? total / counted_all : 0;
  return err;
}

cv::Mat DecodeJpegMat(const std::vector<uint8_t>& bytes, int components) {
  try {
    return cv::imdecode(bytes, components == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
  } catch (const cv::Exception&) {
    return cv::Mat();
  }
}

// The mask's ink pixels (255) from G4 bytes, by way of libtiff.
Result<cv::Mat> DecodeMask(const EncodedImage& mask) {
  MemTiff mem;
  {
    TiffPtr tif = OpenMem(&mem, "w");
    if (!tif) return TiffError(mem, "cannot open memory TIFF for the mask");
    TIFF* t = tif.get();
    bool ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(mask.width)) &&
              TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(mask.height)) &&
              TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1) &&
              TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1) &&
              TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4) &&
              TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE) &&
              TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(mask.height));
    if (!ok) return TiffError(mem, "cannot set mask TIFF fields");
    if (TIFFWriteRawStrip(t, 0, const_cast<uint8_t*>(mask.bytes.data()),
                          static_cast<tmsize_t>(mask.bytes.size())) < 0) {
      return TiffError(mem, "cannot write mask strip");
    }
    if (!TIFFWriteDirectory(t)) return TiffError(mem, "cannot write mask directory");
  }
  TiffPtr tif = OpenMem(&mem, "r");
  if (!tif) return TiffError(mem, "cannot reopen mask TIFF");
  const size_t row_bytes = (static_cast<size_t>(mask.width) + 7) / 8;
  std::vector<uint8_t> packed(row_bytes * static_cast<size_t>(mask.height));
  if (TIFFReadEncodedStrip(tif.get(), 0, packed.data(), static_cast<tmsize_t>(packed.size())) !=
      static_cast<tmsize_t>(packed.size())) {
    return TiffError(mem, "mask does not decode to its size");
  }
  cv::Mat out(mask.height, mask.width, CV_8UC1);
  for (int y = 0; y < mask.height; ++y) {
    const uint8_t* src = packed.data() + row_bytes * static_cast<size_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int x = 0; x < mask.width; ++x) dst[x] = (src[x >> 3] & (0x80u >> (x & 7))) ? 255 : 0;
  }
  return out;
}

}  // namespace

EncodedImage PackMixedRaster(const MixedRasterLayers& layers) {
  EncodedImage out;
  out.codec = EncodedImage::Codec::kMixedRaster;
  out.width = layers.mask.width;
  out.height = layers.mask.height;
  out.components = layers.background.components;
  out.bits_per_component = 8;
  const bool edge = layers.has_edge();
  for (char c : kMrcMagic) out.bytes.push_back(static_cast<uint8_t>(c));
  std::vector<uint32_t> fields = {edge ? kMrcEdgeVersion : kMrcVersion,
                                  static_cast<uint32_t>(layers.background.width),
                                  static_cast<uint32_t>(layers.background.height),
                                  static_cast<uint32_t>(layers.background.components),
                                  static_cast<uint32_t>(layers.foreground.width),
                                  static_cast<uint32_t>(layers.foreground.height)};
  if (edge) {
    fields.push_back(static_cast<uint32_t>(layers.edge.width));
    fields.push_back(static_cast<uint32_t>(layers.edge.height));
  }
  for (const EncodedImage* part : {&layers.mask, &layers.background, &layers.foreground}) {
    fields.push_back(static_cast<uint32_t>(part->bytes.size()));
  }
  if (edge) {
    fields.push_back(static_cast<uint32_t>(layers.edge_mask.bytes.size()));
    fields.push_back(static_cast<uint32_t>(layers.edge.bytes.size()));
  }
  for (uint32_t v : fields) PutU32(&out.bytes, v);
  std::vector<const EncodedImage*> parts = {&layers.mask, &layers.background, &layers.foreground};
  if (edge) {
    parts.push_back(&layers.edge_mask);
    parts.push_back(&layers.edge);
  }
  for (const EncodedImage* part : parts) {
    out.bytes.insert(out.bytes.end(), part->bytes.begin(), part->bytes.end());
  }
  return out;
}

Result<MixedRasterLayers> UnpackMixedRaster(const EncodedImage& packed) {
  const std::vector<uint8_t>& b = packed.bytes;
  if (packed.codec != EncodedImage::Codec::kMixedRaster || b.size() < kMrcHeader ||
      std::memcmp(b.data(), kMrcMagic, 4) != 0) {
    return Status::Corrupt("not a mixed-raster page image");
  }
  const uint32_t version = GetU32(b.data() + 4);
  const bool edge = version == kMrcEdgeVersion;
  if ((version != kMrcVersion && !edge) || (edge && b.size() < kMrcEdgeHeader)) {
    return Status::Corrupt("not a mixed-raster page image");
  }
  const size_t header = edge ? kMrcEdgeHeader : kMrcHeader;
  uint32_t f[12] = {};
  for (size_t i = 0; i < (header - 8) / 4; ++i) f[i] = GetU32(b.data() + 8 + 4 * i);
  const uint32_t bg_w = f[0], bg_h = f[1], comps = f[2], fg_w = f[3], fg_h = f[4];
  const uint32_t edge_w = edge ? f[5] : 0, edge_h = edge ? f[6] : 0;
  const uint32_t* counts = f + (edge ? 7 : 5);
  const uint64_t mask_n = counts[0], bg_n = counts[1], fg_n = counts[2];
  const uint64_t edge_mask_n = edge ? counts[3] : 0, edge_n = edge ? counts[4] : 0;
  const auto fits = [&](uint32_t w, uint32_t h) {
    return w > 0 && h > 0 && w <= static_cast<uint32_t>(packed.width) &&
           h <= static_cast<uint32_t>(packed.height);
  };
  if (packed.width <= 0 || packed.height <= 0 || !fits(bg_w, bg_h) || !fits(fg_w, fg_h) ||
      (edge && (!fits(edge_w, edge_h) || edge_mask_n == 0 || edge_n == 0)) ||
      (comps != 1 && comps != 3) || mask_n == 0 || bg_n == 0 || fg_n == 0 ||
      header + mask_n + bg_n + fg_n + edge_mask_n + edge_n != b.size()) {
    return Status::Corrupt("mixed-raster page image has an inconsistent header");
  }
  MixedRasterLayers l;
  auto part = [&](size_t from, uint64_t n, EncodedImage::Codec codec, int w, int h, int c,
                  int bits) {
    EncodedImage e;
    e.codec = codec;
    e.width = w;
    e.height = h;
    e.components = c;
    e.bits_per_component = bits;
    e.bytes.assign(b.begin() + static_cast<std::ptrdiff_t>(from),
                   b.begin() + static_cast<std::ptrdiff_t>(from + n));
    return e;
  };
  size_t at = header;
  l.mask = part(at, mask_n, EncodedImage::Codec::kCcittG4, packed.width, packed.height, 1, 1);
  at += mask_n;
  l.background = part(at, bg_n, EncodedImage::Codec::kJpeg, static_cast<int>(bg_w),
                      static_cast<int>(bg_h), static_cast<int>(comps), 8);
  at += bg_n;
  l.foreground = part(at, fg_n, EncodedImage::Codec::kJpeg, static_cast<int>(fg_w),
                      static_cast<int>(fg_h), static_cast<int>(comps), 8);
  at += fg_n;
  if (edge) {
    l.edge_mask = part(at, edge_mask_n, EncodedImage::Codec::kCcittG4, packed.width, packed.height, 1, 1);
    at += edge_mask_n;
    l.edge = part(at, edge_n, EncodedImage::Codec::kJpeg, static_cast<int>(edge_w),
                  static_cast<int>(edge_h), static_cast<int>(comps), 8);
  }
  return l;
}

Result<cv::Mat> RenderMixedRaster(const MixedRasterLayers& layers) {
  cv::Mat bg = DecodeJpegMat(layers.background.bytes, layers.background.components);
  cv::Mat fg = DecodeJpegMat(layers.foreground.bytes, layers.foreground.components);
  if (bg.empty() || bg.cols != layers.background.width || bg.rows != layers.background.height ||
      fg.empty() || fg.cols != layers.foreground.width || fg.rows != layers.foreground.height) {
    return Status::Corrupt("mixed-raster background or foreground does not decode");
  }
  ACERVO_ASSIGN_OR_RETURN(cv::Mat ink, DecodeMask(layers.mask));
  // Scale as a reader does: each layer is drawn over the whole page, so its
  // pixel grid is stretched to the page, not cropped.
  cv::Mat page, ink_colour;
  cv::resize(bg, page, ink.size(), 0, 0, cv::INTER_LINEAR);
  if (layers.has_edge()) {
    cv::Mat edge = DecodeJpegMat(layers.edge.bytes, layers.edge.components);
    if (edge.empty() || edge.cols != layers.edge.width || edge.rows != layers.edge.height) {
      return Status::Corrupt("mixed-raster edge tones do not decode");
    }
    ACERVO_ASSIGN_OR_RETURN(cv::Mat edge_pixels, DecodeMask(layers.edge_mask));
    cv::Mat edge_colour;
    cv::resize(edge, edge_colour, ink.size(), 0, 0, cv::INTER_LINEAR);
    edge_colour.copyTo(page, edge_pixels);
  }
  cv::resize(fg, ink_colour, ink.size(), 0, 0, cv::INTER_LINEAR);
  ink_colour.copyTo(page, ink);
  return page;
}

Result<std::optional<EncodedImage>> EncodeMixedRaster(const cv::Mat& image,
                                                      const MixedRasterOptions& options,
                                                      size_t not_larger_than, const cv::Mat& split_from) {
  ACERVO_RETURN_IF_ERROR(CheckImage(image));
  if (!split_from.empty()) {
    ACERVO_RETURN_IF_ERROR(CheckImage(split_from));
    if (split_from.size() != image.size()) {
      return Status::InvalidArgument("mixed raster: the page to split the masks from is not the image's size");
    }
  }
  // The gray the ink and its edge tones are told from.
  const auto split_gray = [&] { return ToGray(split_from.empty() ? image : split_from); };
  if (!(options.max_share_over >= 0) || !(options.max_tile_error >= 0) ||
      !(options.max_any_tile_error >= 0) || !(options.max_mean_error >= 0)) {
    return Status::InvalidArgument("mixed raster: fidelity bounds must be >= 0");
  }
  if (options.background_scale < 1 || options.background_scale > 16 ||
      options.foreground_scale < 1 || options.foreground_scale > 16 ||
      options.background_quality < 1 || options.background_quality > 100 ||
      options.foreground_quality < 1 || options.foreground_quality > 100) {
    return Status::InvalidArgument("mixed raster: scales must be 1..16 and qualities 1..100");
  }
  // Ink: darker than Otsu's split of the page. On text on paper the split
  // falls between paper and ink; on a photo it cuts through the picture and
  // the fidelity check below turns the page down. Every page-sized buffer
  // below is one byte a pixel and released as soon as it is used: on an A3
  // 600-dpi page each is 70 MB.
  cv::Mat ink;
  double paper_level = 0, ink_level = 0;
  {
    const cv::Mat gray = split_gray();
    cv::threshold(gray, ink, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
    if (cv::countNonZero(ink) == 0) return std::optional<EncodedImage>();
    // Paper: away from ink by a pixel, so anti-aliased stroke edges do not
    // darken the background around the letters.
    cv::Mat paper;
    cv::dilate(ink, paper, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    cv::bitwise_not(paper, paper);
    if (cv::countNonZero(paper) == 0) return std::optional<EncodedImage>();
    paper_level = cv::mean(gray, paper)[0];
  }
  // Ink colours come from the stroke cores (the ink eroded), which the
  // scanner saw without paper mixed in; thin strokes have no core and give
  // their own pixels.
  cv::Mat core;
  {
    cv::erode(ink, core, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    cv::Mat thin;
    cv::dilate(core, thin, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    cv::bitwise_not(thin, thin);
    cv::bitwise_and(thin, ink, thin);
    core |= thin;
    ink_level = cv::mean(split_gray(), core)[0];
  }
  // Text stands out from its paper; a low-contrast split is a picture or a
  // shading, not ink.
  constexpr double kMinContrast = 40;
  if (paper_level - ink_level < kMinContrast) return std::optional<EncodedImage>();

  // Edge tones: on the one-pixel band each side of every stroke edge (the
  // anti-aliasing ramp), the pixels whose grey is in the middle half of the
  // way from ink to paper. They leave the ink mask (the ink's lighter rim)
  // and the paper (its darker rim) for a layer of their own. The ink's own
  // split (`ink`) stays what the background, the foreground and the
  // fidelity check below are made from.
  cv::Mat edge;
  if (options.edge_tones) {
    const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3));
    cv::Mat grown, band;
    cv::dilate(ink, grown, kernel);
    cv::erode(ink, band, kernel);
    cv::bitwise_not(band, band);
    cv::bitwise_and(band, grown, band);
    const double contrast = paper_level - ink_level;
    cv::Mat between;
    cv::inRange(split_gray(), cv::Scalar(ink_level + contrast / 4), cv::Scalar(paper_level - contrast / 4),
                between);
    cv::bitwise_and(band, between, edge);
    if (cv::countNonZero(edge) == 0) edge.release();
  }

  MixedRasterLayers layers;
  if (edge.empty()) {
    ACERVO_ASSIGN_OR_RETURN(layers.mask, EncodeG4FromInk(ink));
  } else {
    // Two nested solid masks rather than the ink and a ring around it: the
    // edge mask is the ink's split with the edge tones (drawn first, in the
    // edge colour), the mask the ink without them (drawn over it). G4 codes
    // a ring's two edges where a solid shape has one: on 300-dpi pages the
    // ring cost twice the ink mask's bytes, the nested mask about as much.
    cv::Mat ink_only, ink_and_edge;
    cv::bitwise_and(ink, ~edge, ink_only);
    cv::bitwise_or(ink, edge, ink_and_edge);
    ACERVO_ASSIGN_OR_RETURN(layers.mask, EncodeG4FromInk(ink_only));
    ACERVO_ASSIGN_OR_RETURN(layers.edge_mask, EncodeG4FromInk(ink_and_edge));
  }
  if (layers.mask.bytes.size() + layers.edge_mask.bytes.size() >= not_larger_than) {
    return std::optional<EncodedImage>();
  }
  cv::Mat background, foreground;
  {
    cv::Mat paper;
    cv::dilate(ink, paper, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
    cv::bitwise_not(paper, paper);
    background = MaskedReduce(image, paper, options.background_scale);
  }
  ACERVO_ASSIGN_OR_RETURN(layers.background, EncodeJpeg(background, options.background_quality));
  foreground = MaskedReduce(image, core, options.foreground_scale);
  core.release();
  ACERVO_ASSIGN_OR_RETURN(layers.foreground, EncodeJpeg(foreground, options.foreground_quality));
  if (!edge.empty()) {
    ACERVO_ASSIGN_OR_RETURN(layers.edge,
                            EncodeJpeg(MaskedReduce(image, edge, options.foreground_scale), options.foreground_quality));
  }
  EncodedImage packed = PackMixedRaster(layers);
  if (packed.bytes.size() >= not_larger_than) return std::optional<EncodedImage>();

  // Fidelity: rebuild the page as a reader will (the layers decoded, scaled
  // to the page, the ink colour where the mask is) and bound the error per
  // 32x32 tile (a local failure such as a photo cut into ink and paper) and
  // over the page. Strip by strip: the rebuilt page never exists whole.
  const cv::Mat bg = DecodeJpegMat(layers.background.bytes, layers.background.components);
  const cv::Mat fg = DecodeJpegMat(layers.foreground.bytes, layers.foreground.components);
  const cv::Mat edge_colour =
      edge.empty() ? cv::Mat() : DecodeJpegMat(layers.edge.bytes, layers.edge.components);
  if (bg.empty() || fg.empty() || (!edge.empty() && edge_colour.empty())) {
    return Status::Internal("mixed raster: a layer does not decode");
  }
  const MixedRasterError err =
      TileErrors(image, ink, options.max_tile_error, [&](int y0, int n) {
        cv::Mat rows = ScaledRows(bg, image.size(), y0, n);
        if (!edge.empty()) {
          ScaledRows(edge_colour, image.size(), y0, n).copyTo(rows, edge.rowRange(y0, y0 + n));
          ScaledRows(fg, image.size(), y0, n).copyTo(rows, ink.rowRange(y0, y0 + n) & ~edge.rowRange(y0, y0 + n));
        } else {
          ScaledRows(fg, image.size(), y0, n).copyTo(rows, ink.rowRange(y0, y0 + n));
        }
        return rows;
      });
  if (err.share_over > options.max_share_over || err.worst_tile > options.max_any_tile_error ||
      err.mean > options.max_mean_error) {
    return std::optional<EncodedImage>();
  }
  return std::optional<EncodedImage>(std::move(packed));
}

MixedRasterError MixedRasterFidelity(const cv::Mat& image, const cv::Mat& rebuilt,
                                     const cv::Mat& ink, double tile_bound) {
  return TileErrors(image, ink, tile_bound, [&](int y0, int n) { return rebuilt.rowRange(y0, y0 + n); });
}

}  // namespace acervo
