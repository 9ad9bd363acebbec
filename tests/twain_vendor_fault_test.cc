// Scenario: vendor TWAIN code misbehaves in the middle of page 3 — it crashes
// (SIGSEGV), hangs inside DAT_IMAGEMEMXFER, or allocates without bound — while
// `acervo scan --driver twain` captures a 5-sheet feed. The vendor code runs
// in the TWAIN host process, so each time acervo itself survives: exit 4
// (paused), a message naming what happened, pages 1-2 complete masters in the
// journal, no partial page 3; then `--resume` with the sheets reloaded
// completes the lot with every sheet once, in order.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "acervo/scanner/lot_capture.h"
#include "support/process.h"
#include "support/twain_test_source.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

TEST(TwainVendorFaultTest, CrashHangAndRunawayPauseTheLotAndResumeCompletesIt) {
  fs::path root = fs::temp_directory_path() / ("acervo-twain-fault-" + std::to_string(::getpid()));
  fs::remove_all(root);
  testing::UseTwainTestSource(ACERVO_TEST_TWAIN_DS_LIB);
  struct Case {
    const char* env;
    std::string expect;
  } cases[] = {
      {"ACERVO_TEST_TWAIN_CRASH_AT", "killed by SIGSEGV during the transfer of page 3"},
      {"ACERVO_TEST_TWAIN_HANG_AT", "DAT_IMAGEMEMXFER/MSG_GET did not return within 2 s"},
      {"ACERVO_TEST_TWAIN_RUNAWAY_AT", "of a 300 MB limit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.env);
    const fs::path lot = root / c.env;
    const std::vector<std::string> base = {
        testing::AcervoBinary(), "scan", "--driver", "twain", "--twain-dsm", ACERVO_TEST_TWAIN_DSM, "--device",
        "Acervo Test Source", "--mode", "gray", "--resolution", "150", "--twain-timeout", "2",
        "--twain-memory-limit", "300", "--lot", lot.string()};
    testing::LoadTwainTestSheets(1, 5);
    ::setenv(c.env, "3", 1);
    testing::ProcessResult paused = testing::RunProcess(base);
    EXPECT_EQ(paused.exit_code, 4) << paused.err;
    EXPECT_NE(paused.err.find(c.expect), std::string::npos) << paused.err;
    EXPECT_NE(paused.err.find("--resume"), std::string::npos) << paused.err;
    Result<ScanJournal> journal = ReadScanJournal(lot);
    ASSERT_TRUE(journal.ok()) << journal.status().ToString();
    ASSERT_EQ(journal->pages.size(), 2u);
    EXPECT_EQ(journal->pauses, 1);
    testing::ExpectTwainTestSheet(lot, 1, 1);
    testing::ExpectTwainTestSheet(lot, 2, 2);
    EXPECT_FALSE(fs::exists(lot / MasterFileName(3)));

    // The operator reloads sheets 3..5; the source behaves this time.
    ::unsetenv(c.env);
    testing::LoadTwainTestSheets(3, 3);
    std::vector<std::string> resume = base;
    resume.push_back("--resume");
    testing::ProcessResult resumed = testing::RunProcess(resume);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    journal = ReadScanJournal(lot);
    ASSERT_TRUE(journal.ok());
    ASSERT_EQ(journal->pages.size(), 5u);
    for (int sheet = 1; sheet <= 5; ++sheet) testing::ExpectTwainTestSheet(lot, sheet, sheet);
    EXPECT_FALSE(fs::exists(lot / MasterFileName(6)));
  }
  if (!::testing::Test::HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
