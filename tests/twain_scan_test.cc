// Scenario: `acervo scan --driver twain` end to end, through the TWAIN host
// process and the DSM it loads with dlopen (a DSM and data source built by
// the tests; see scanner-drivers/twain/testdata): the source is listed by
// `acervo devices`, a 5-sheet feed becomes 5 masters, a jam at sheet 3 exits
// 4 with the TWAIN condition, and --resume continues the numbering with the
// reloaded sheets. With no --source, --mode or --resolution the device's
// defaults stand (its feeder is on: every sheet is scanned), and a native
// transfer (a TIFF, as sources on Linux hand over) gives the same masters.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "acervo/scanner/lot_capture.h"
#include "support/process.h"
#include "support/twain_test_source.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

TEST(TwainScanTest, FeedJamAndResumeThroughTheCommandLine) {
  fs::path root = fs::temp_directory_path() / ("acervo-twain-cli-" + std::to_string(::getpid()));
  fs::remove_all(root);
  testing::UseTwainTestSource(ACERVO_TEST_TWAIN_DS_LIB);
  const std::string lot = (root / "lot").string();
  const std::vector<std::string> base = {testing::AcervoBinary(), "scan", "--driver", "twain", "--twain-dsm",
                                         ACERVO_TEST_TWAIN_DSM, "--device", "Acervo Test Source", "--source", "adf",
                                         "--mode", "gray", "--resolution", "150", "--lot", lot};

  testing::ProcessResult devices = testing::RunProcess(
      {testing::AcervoBinary(), "devices", "--driver", "twain", "--twain-dsm", ACERVO_TEST_TWAIN_DSM});
  ASSERT_EQ(devices.exit_code, 0) << devices.err;
  EXPECT_NE(devices.out.find("Acervo Test Source"), std::string::npos) << devices.out;

  testing::LoadTwainTestSheets(1, 5);
  ::setenv("ACERVO_TEST_TWAIN_JAM_AT", "3", 1);
  testing::ProcessResult jam = testing::RunProcess(base);
  EXPECT_EQ(jam.exit_code, 4) << jam.err;
  EXPECT_NE(jam.err.find("TWCC_PAPERJAM"), std::string::npos) << jam.err;
  EXPECT_TRUE(fs::exists(fs::path(lot) / "0002.tif"));
  EXPECT_FALSE(fs::exists(fs::path(lot) / "0003.tif"));

  // Sheets 3..5 reloaded.
  ::unsetenv("ACERVO_TEST_TWAIN_JAM_AT");
  testing::LoadTwainTestSheets(3, 3);
  std::vector<std::string> resume = base;
  resume.push_back("--resume");
  testing::ProcessResult resumed = testing::RunProcess(resume);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  Result<ScanJournal> journal = ReadScanJournal(lot);
  ASSERT_TRUE(journal.ok());
  ASSERT_EQ(journal->pages.size(), 5u);
  for (int sheet = 1; sheet <= 5; ++sheet) {
    EXPECT_DOUBLE_EQ(journal->pages[sheet - 1].dpi_x, 150);
    testing::ExpectTwainTestSheet(lot, sheet, sheet);
  }
  EXPECT_FALSE(fs::exists(fs::path(lot) / "0006.tif"));

  testing::ProcessResult missing = testing::RunProcess(
      {testing::AcervoBinary(), "scan", "--driver", "twain", "--twain-dsm", "/nonexistent/libtwaindsm.so",
       "--lot", (root / "other").string()});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("/nonexistent/libtwaindsm.so"), std::string::npos) << missing.err;
  if (!::testing::Test::HasFailure()) fs::remove_all(root);
}

TEST(TwainScanTest, DeviceDefaultsAndNativeTransfer) {
  fs::path root = fs::temp_directory_path() / ("acervo-twain-cli-defaults-" + std::to_string(::getpid()));
  fs::remove_all(root);
  testing::UseTwainTestSource(ACERVO_TEST_TWAIN_DS_LIB);  // no DISPLAY: a progress window would abort
  testing::LoadTwainTestSheets(1, 4);
  for (const char* transfer : {"memory", "native"}) {
    SCOPED_TRACE(transfer);
    const fs::path lot = root / transfer;
    testing::ProcessResult r = testing::RunProcess({testing::AcervoBinary(), "scan", "--driver", "twain",
                                                    "--twain-dsm", ACERVO_TEST_TWAIN_DSM, "--transfer", transfer,
                                                    "--lot", lot.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Result<ScanJournal> journal = ReadScanJournal(lot);
    ASSERT_TRUE(journal.ok());
    ASSERT_EQ(journal->pages.size(), 4u);  // the feeder's default: every sheet
    for (int sheet = 1; sheet <= 4; ++sheet) {
      EXPECT_DOUBLE_EQ(journal->pages[sheet - 1].dpi_x, 100);  // the source's default resolution
      testing::ExpectTwainTestSheet(lot, sheet, sheet);
    }
  }
  if (!::testing::Test::HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
