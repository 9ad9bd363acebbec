#ifndef ACERVO_STAGES_OCR_SRC_LINE_IMAGES_H_
#define ACERVO_STAGES_OCR_SRC_LINE_IMAGES_H_

#include <cstdint>

namespace acervo {

// While one of these lives on a thread, the text-line images Tesseract
// keeps in memory between cutting them out of the page and handing them to
// its LSTM are kept uncompressed instead of as PNG.
//
// Why: Tesseract 5.3 (Debian's) stores every line image of a recognition
// as PNG bytes (ImageData::SetPixInternal: pixWriteMem(..., IFF_PNG)) and
// decodes it again a moment later (pixReadMem). Upstream can keep the Pix
// instead, but only when built with TESSERACT_IMAGEDATA_AS_PIX
// (tesseract-ocr/tesseract#2965: "compressing/uncompressing is slow"),
// which Debian's build is not. Measured on Acervo's OCR stage (perf, 5
// corpus and generated pages): the zlib/libpng encoding alone was 9.8% of
// the run, 12.7% of Tesseract's recognition, more on colour pages (32-bit
// line images) and on deskewed pages (interpolated edges compress worse).
//
// How: this library defines pixWriteMem, which takes precedence over
// Leptonica's for every shared library of the process (ELF symbol
// interposition, as malloc replacements work). A PNG of 8-bit gray or RGB
// asked for while a scope is open on the calling thread is written in
// Leptonica's own serialisation (SPIX: the raster words as they are, RGB's
// unused alpha byte cleared as PNG would); pixReadMem reads either format
// by its signature, so Tesseract reads back exactly the pixels it would
// have read from the PNG and recognises the same text (checked byte for
// byte on the bench pages, docs/benchmarks.md). Every other call, and
// every call outside a scope, goes to Leptonica's own pixWriteMem
// unchanged. (Session 6 wrote PNM, P5/P6: no compression either, but
// Leptonica writes and reads PNM a byte at a time through stdio, ~3 ms
// for a 1600x64 gray line against ~0.01 ms as SPIX.)
class UncompressedLineImages {
 public:
  UncompressedLineImages();
  ~UncompressedLineImages();
  UncompressedLineImages(const UncompressedLineImages&) = delete;
  UncompressedLineImages& operator=(const UncompressedLineImages&) = delete;

  // How many images this process has kept uncompressed so far (a test
  // checks that the interposition is in effect: it silently is not when
  // the symbol is not exported from the executable).
  static uint64_t Count();
};

}  // namespace acervo

#endif  // ACERVO_STAGES_OCR_SRC_LINE_IMAGES_H_
