#include "line_images.h"

#include <dlfcn.h>
#include <leptonica/allheaders.h>

#include <atomic>

namespace acervo {
namespace {

thread_local int open_scopes = 0;
std::atomic<uint64_t> kept_uncompressed{0};

using PixWriteMemFn = l_ok (*)(l_uint8**, size_t*, PIX*, l_int32);

// Leptonica's own pixWriteMem: the next definition after this one.
PixWriteMemFn LeptonicaPixWriteMem() {
  static const PixWriteMemFn fn = reinterpret_cast<PixWriteMemFn>(dlsym(RTLD_NEXT, "pixWriteMem"));
  return fn;
}

}  // namespace

UncompressedLineImages::UncompressedLineImages() { ++open_scopes; }
UncompressedLineImages::~UncompressedLineImages() { --open_scopes; }
uint64_t UncompressedLineImages::Count() { return kept_uncompressed.load(std::memory_order_relaxed); }

}  // namespace acervo

// See line_images.h. Same contract as Leptonica's: 0 on success.
extern "C" l_ok pixWriteMem(l_uint8** pdata, size_t* psize, PIX* pix, l_int32 format) {
  if (format == IFF_PNG && acervo::open_scopes > 0 && pix != nullptr && pixGetColormap(pix) == nullptr &&
      (pixGetDepth(pix) == 8 || (pixGetDepth(pix) == 32 && pixGetSpp(pix) == 3))) {
    // Leptonica's own serialisation (SPIX: a small header and the raster
    // words as they are, no compression, no per-byte stdio as its PNM
    // writer and reader do). PNG drops the alpha byte of RGB (spp 3) and
    // reads it back as 0; SPIX keeps the words whole, so an RGB image is
    // serialised from a copy with that byte cleared: Tesseract then reads
    // back exactly what it would have read from the PNG.
    l_ok rc = 1;
    if (pixGetDepth(pix) == 8) {
      rc = pixWriteMemSpix(pdata, psize, pix);
    } else if (PIX* rgb = pixCopy(nullptr, pix)) {
      l_uint32* word = pixGetData(rgb);
      const size_t words = static_cast<size_t>(pixGetWpl(rgb)) * pixGetHeight(rgb);
      for (size_t i = 0; i < words; ++i) word[i] &= 0xffffff00u;  // alpha: the low byte
      rc = pixWriteMemSpix(pdata, psize, rgb);
      pixDestroy(&rgb);
    }
    if (rc == 0) {
      acervo::kept_uncompressed.fetch_add(1, std::memory_order_relaxed);
      return rc;
    }
  }
  const acervo::PixWriteMemFn leptonica = acervo::LeptonicaPixWriteMem();
  if (leptonica == nullptr) {
    // Cannot happen while Leptonica is loaded (Tesseract needs it); fail as
    // Leptonica does for a format it cannot write.
    return 1;
  }
  return leptonica(pdata, psize, pix, format);
}
