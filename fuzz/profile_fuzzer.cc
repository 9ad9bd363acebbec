// Fuzzes lot-profile parsing (TOML): ParseProfile must return a profile or a
// message for any text, never crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "acervo/pipeline/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  acervo::Result<acervo::LotProfile> p = acervo::ParseProfile(text, "profile.toml");
  if (!p.ok() && p.status().message().empty()) std::abort();
  return 0;
}
