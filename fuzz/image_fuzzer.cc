// Fuzzes page-image loading: ProbeImage and DecodeImagePage on arbitrary
// bytes (TIFF, PNG, JPEG, PDF sniffing). Any outcome but a crash, a sanitizer
// report or a hang is fine; a Result must be OK or carry a message.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "acervo/scanner/image_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  acervo::Result<acervo::ImageFileInfo> info = acervo::ProbeImage(bytes, "fuzz.img");
  if (!info.ok()) {
    if (info.status().message().empty()) std::abort();
    return 0;
  }
  // A small pixel limit keeps iterations fast; the limit path itself is
  // what a hostile header meets in production.
  constexpr int64_t kMaxPixels = 4'000'000;
  for (int page = 0; page < info->pages && page < 4; ++page) {
    acervo::Result<acervo::DecodedPage> p = acervo::DecodeImagePage(bytes, page, "fuzz.img", kMaxPixels);
    if (p.ok() && (p->image.empty() || int64_t(p->image.total()) > kMaxPixels)) std::abort();
    if (!p.ok() && p.status().message().empty()) std::abort();
  }
  return 0;
}
