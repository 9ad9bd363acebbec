// TIFF encoding of captured pages, in memory, through libtiff's client I/O.
#include <tiffio.h>

#include <cstring>
#include <memory>

#include "acervo/scanner/lot_capture.h"

namespace acervo {
namespace {

// A growable in-memory file for TIFFClientOpen.
struct MemFile {
  std::vector<uint8_t> data;
  uint64_t pos = 0;
};

tsize_t MemRead(thandle_t h, tdata_t buf, tsize_t n) {
  auto* m = static_cast<MemFile*>(h);
  if (m->pos >= m->data.size()) return 0;
  size_t k = std::min<size_t>(static_cast<size_t>(n), m->data.size() - m->pos);
  std::memcpy(buf, m->data.data() + m->pos, k);
  m->pos += k;
  return static_cast<tsize_t>(k);
}
tsize_t MemWrite(thandle_t h, tdata_t buf, tsize_t n) {
  auto* m = static_cast<MemFile*>(h);
  size_t end = m->pos + static_cast<size_t>(n);
  if (end > m->data.size()) m->data.resize(end);
  std::memcpy(m->data.data() + m->pos, buf, static_cast<size_t>(n));
  m->pos = end;
  return n;
}
toff_t MemSeek(thandle_t h, toff_t off, int whence) {
  auto* m = static_cast<MemFile*>(h);
  uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->data.size() : 0;
  m->pos = base + off;
  return m->pos;
}
int MemClose(thandle_t) { return 0; }
toff_t MemSize(thandle_t h) { return static_cast<MemFile*>(h)->data.size(); }
int MemMap(thandle_t, tdata_t*, toff_t*) { return 0; }
void MemUnmap(thandle_t, tdata_t, toff_t) {}

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};

}  // namespace

std::string MasterFileName(int sequence) {
  std::string n = std::to_string(sequence);
  if (n.size() < 4) n.insert(0, 4 - n.size(), '0');
  return n + ".tif";
}

Result<std::vector<uint8_t>> EncodeMasterTiff(const CapturedPage& page) {
  const cv::Mat& img = page.image;
  const int type = img.type();
  if (img.empty() || (type != CV_8UC1 && type != CV_16UC1 && type != CV_8UC3 && type != CV_16UC3)) {
    return Status::InvalidArgument("page " + std::to_string(page.sequence) +
                                   ": unsupported image layout for a master");
  }
  const bool bitonal = page.bits_per_sample == 1 && type == CV_8UC1;
  const int channels = img.channels();
  const int bits = bitonal ? 1 : (img.depth() == CV_16U ? 16 : 8);
  MemFile mem;
  std::unique_ptr<TIFF, TiffCloser> tif(TIFFClientOpen("master.tif", "w", &mem, MemRead, MemWrite,
                                                       MemSeek, MemClose, MemSize, MemMap, MemUnmap));
  if (!tif) return Status::Internal("cannot open an in-memory TIFF writer");
  TIFF* t = tif.get();
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(img.cols));
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(img.rows));
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(bits));
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, uint16_t(channels));
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
  TIFFSetField(t, TIFFTAG_SOFTWARE, "acervo scan");
  if (page.dpi_x > 0 && page.dpi_y > 0) {
    TIFFSetField(t, TIFFTAG_XRESOLUTION, float(page.dpi_x));
    TIFFSetField(t, TIFFTAG_YRESOLUTION, float(page.dpi_y));
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
  }
  if (bitonal) {
    // G4 is the archival norm for bitonal masters; MINISWHITE is what G4
    // readers expect (1 = black).
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, uint32_t(img.rows));
  } else {
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, channels == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
    TIFFSetField(t, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
  }
  std::vector<uint8_t> line(static_cast<size_t>(TIFFScanlineSize(t)));
  for (int y = 0; y < img.rows; ++y) {
    if (bitonal) {
      std::fill(line.begin(), line.end(), 0);
      const uint8_t* row = img.ptr<uint8_t>(y);
      for (int x = 0; x < img.cols; ++x) {
        if (row[x] < 128) line[x >> 3] |= uint8_t(0x80 >> (x & 7));
      }
    } else if (channels == 3) {
      // OpenCV keeps BGR; TIFF stores RGB.
      const size_t es = img.elemSize1();
      const uint8_t* row = img.ptr<uint8_t>(y);
      for (int x = 0; x < img.cols; ++x) {
        for (int c = 0; c < 3; ++c) {
          std::memcpy(&line[(3 * size_t(x) + c) * es], row + (3 * size_t(x) + (2 - c)) * es, es);
        }
      }
    } else {
      std::memcpy(line.data(), img.ptr<uint8_t>(y), img.cols * img.elemSize());
    }
    if (TIFFWriteScanline(t, line.data(), uint32_t(y), 0) < 0) {
      return Status::Internal("page " + std::to_string(page.sequence) + ": TIFF encoding failed at row " +
                              std::to_string(y));
    }
  }
  tif.reset();  // flushes the directory into mem
  return std::move(mem.data);
}

}  // namespace acervo
