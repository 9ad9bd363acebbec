#include "support/twain_test_source.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "acervo/core/files.h"
#include "acervo/scanner/image_file.h"
#include "acervo/scanner/lot_capture.h"

namespace acervo::testing {

void UseTwainTestSource(const char* source_library) {
  ::setenv("ACERVO_TEST_TWAIN_DS", source_library, 1);
  for (const char* v : {"ACERVO_TEST_TWAIN_PAGES", "ACERVO_TEST_TWAIN_FIRST_SHEET", "ACERVO_TEST_TWAIN_JAM_AT",
                        "ACERVO_TEST_TWAIN_CRASH_AT", "ACERVO_TEST_TWAIN_HANG_AT", "ACERVO_TEST_TWAIN_RUNAWAY_AT",
                        "DISPLAY"}) {
    ::unsetenv(v);
  }
}

void LoadTwainTestSheets(int first, int count) {
  ::setenv("ACERVO_TEST_TWAIN_FIRST_SHEET", std::to_string(first).c_str(), 1);
  ::setenv("ACERVO_TEST_TWAIN_PAGES", std::to_string(count).c_str(), 1);
}

void ExpectTwainTestSheet(const std::filesystem::path& lot, int sequence, int sheet) {
  const std::string name = MasterFileName(sequence);
  Result<std::vector<uint8_t>> bytes = ReadFile(lot / name);
  ASSERT_TRUE(bytes.ok()) << name;
  Result<DecodedPage> d = DecodeImagePage(*bytes, 0, name);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->image.cols, 203) << name;
  ASSERT_EQ(d->image.rows, 157) << name;
  for (int y = 0; y < d->image.rows; y += 13) {
    for (int x = 0; x < d->image.cols; x += 7) {
      ASSERT_EQ(d->image.at<uint8_t>(y, x), (x + 3 * y + 17 * sheet) & 255) << name << " " << x << "," << y;
    }
  }
}

}  // namespace acervo::testing
