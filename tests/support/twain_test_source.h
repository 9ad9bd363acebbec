// The TWAIN test data source (scanner-drivers/twain/testdata/test_ds.cc) as
// the end-to-end tests drive it: through environment variables read by the
// source in the TWAIN host that `acervo scan` starts. Test-only helper.
#ifndef ACERVO_TESTS_SUPPORT_TWAIN_TEST_SOURCE_H_
#define ACERVO_TESTS_SUPPORT_TWAIN_TEST_SOURCE_H_

#include <filesystem>

namespace acervo::testing {

// Points the test DSM at the test source library and clears every scenario
// variable (faults, sheets) and DISPLAY (the source's progress window then
// aborts its process, as the official sample's does).
void UseTwainTestSource(const char* source_library);

// The operator loads sheets first..first+count-1 into the feeder.
void LoadTwainTestSheets(int first, int count);

// Checks (gtest expectations) that master `sequence` of `lot` holds the test
// source's sheet `sheet` of 203 x 157 gray pixels:
// sample(x, y) = (x + 3y + 17 * sheet) & 255, on a grid of points.
void ExpectTwainTestSheet(const std::filesystem::path& lot, int sequence, int sheet);

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_TWAIN_TEST_SOURCE_H_
