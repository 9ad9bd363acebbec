// Damages one page of a multi-page TIFF in place: its first strip is
// overwritten with bytes from `rng` (high bit set, so no codec reads them as
// valid data), the other pages stay readable. For tests of a page that fails
// on bad input while the rest of its file and lot carry on. Test-only.
#ifndef ACERVO_TESTS_SUPPORT_DAMAGED_TIFF_H_
#define ACERVO_TESTS_SUPPORT_DAMAGED_TIFF_H_

#include <gtest/gtest.h>
#include <tiffio.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <vector>

#include "acervo/core/files.h"

namespace acervo::testing {

inline void DamageTiffPage(const std::filesystem::path& path, int page_index, std::mt19937& rng) {
  TIFF* t = TIFFOpen(path.c_str(), "r");
  ASSERT_NE(t, nullptr) << path;
  ASSERT_TRUE(TIFFSetDirectory(t, static_cast<tdir_t>(page_index))) << path;
  uint64_t* offsets = nullptr;
  uint64_t* counts = nullptr;
  ASSERT_TRUE(TIFFGetField(t, TIFFTAG_STRIPOFFSETS, &offsets));
  ASSERT_TRUE(TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &counts));
  const uint64_t off = offsets[0], len = counts[0];
  TIFFClose(t);
  Result<std::vector<uint8_t>> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  std::vector<uint8_t> bytes = std::move(*read);
  for (uint64_t i = off; i < off + len && i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(rng() | 0x80);
  std::error_code ec;
  std::filesystem::remove(path, ec);
  ASSERT_TRUE(WriteFileAtomic(path, bytes).ok()) << path;
}

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_DAMAGED_TIFF_H_
