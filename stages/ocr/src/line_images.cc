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
    // 8-bit gray as P5, RGB as P6: lossless for both (what Tesseract cuts
    // out of its page images; other kinds are left to Leptonica's PNG).
    const l_ok rc = pixWriteMemPnm(pdata, psize, pix);
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
