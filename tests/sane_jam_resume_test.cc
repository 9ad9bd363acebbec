// Scenario: an ADF lot on SANE's `test` backend jams at page 4; the operator
// clears it, reloads the remaining sheets and resumes. The lot must end with
// exactly the 10 sheets, each once, in order, and nothing partial.
//
// Sheets are made distinguishable by their length: before each page the
// scan area's bottom edge (br-y) is set from the page number, so the height
// of every master says which sheet it is. The jam is injected with the
// backend's read-return-value option between pages (page 4 never arrives);
// the resumed session gets the 7 remaining sheets, and after the 10th the
// feeder reports SANE_STATUS_NO_DOCS. The second half checks the same through
// the acervo binary: exit code 4, the message, and --resume numbering.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/scanner/image_file.h"
#include "acervo/scanner/lot_capture.h"
#include "acervo/scanner/sane_source.h"
#include "support/process.h"
#include "support/sane_config.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// Before libsane starts in this process (and for the acervo children).
const fs::path kSaneConfig = testing::UseSaneTestConfig();

constexpr double kDpi = 50;
std::string BottomMm(int sheet) { return std::to_string(40 + 3 * sheet); }  // 43, 46, ... mm
int RowsOf(int sheet) { return static_cast<int>(std::lround((40 + 3 * sheet) / 25.4 * kDpi)); }

ScanSettings Feeder(int first_sheet) {
  ScanSettings s;
  s.device = "test:0";
  s.source = "adf";
  s.mode = "gray";
  s.resolution = kDpi;
  s.options = {{"read-return-value", "Default"}, {"br-y", BottomMm(first_sheet)}};
  return s;
}

class SaneJamResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(kSaneConfig.empty()) << "cannot prepare a SANE config (is libsane-common installed?)";
    root_ = fs::temp_directory_path() / ("acervo-sane-jam-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  fs::path root_;
};

TEST_F(SaneJamResumeTest, JamAtPageFourThenResumeGivesTenDistinctPages) {
  const fs::path lot = root_ / "lot";
  {
    Result<std::unique_ptr<Source>> src = OpenSaneSource(Feeder(1));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    Source* device = src->get();
    CaptureOptions o;
    o.lot_dir = lot;
    o.driver = "sane";
    o.device = "test:0";
    o.on_page = [device](const JournalPage& p) -> Status {
      ACERVO_RETURN_IF_ERROR(device->SetOption("br-y", BottomMm(p.sequence + 1)));
      if (p.sequence == 3) return device->SetOption("read-return-value", "SANE_STATUS_JAMMED");
      return Status::OK();
    };
    CaptureReport r;
    Status s = CaptureLot(*device, o, &r);
    ASSERT_EQ(s.code(), StatusCode::kDeviceError) << s.ToString();
    EXPECT_NE(s.message().find("paused at page 4"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("paper jam"), std::string::npos) << s.ToString();
    EXPECT_EQ(r.pages, 3);
  }
  EXPECT_TRUE(fs::exists(lot / "0003.tif"));
  EXPECT_FALSE(fs::exists(lot / "0004.tif")) << "the jammed page must not be kept";
  {
    Result<std::unique_ptr<Source>> src = OpenSaneSource(Feeder(4));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    Source* device = src->get();
    CaptureOptions o;
    o.lot_dir = lot;
    o.resume = true;
    o.driver = "sane";
    o.device = "test:0";
    o.on_page = [device](const JournalPage& p) -> Status {
      ACERVO_RETURN_IF_ERROR(device->SetOption("br-y", BottomMm(p.sequence + 1)));
      // Seven sheets were reloaded: after the tenth the feeder is empty.
      if (p.sequence == 10) return device->SetOption("read-return-value", "SANE_STATUS_NO_DOCS");
      return Status::OK();
    };
    CaptureReport r;
    Status s = CaptureLot(*device, o, &r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(r.first_sequence, 4);
    EXPECT_EQ(r.pages, 7);
    EXPECT_EQ(r.total_pages, 10);
  }
  // Exactly 10 masters, each the right sheet, in order; journal agrees.
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(lot)) names.insert(e.path().filename().string());
  std::set<std::string> expected = {std::string(kScanJournalName), ".scan-lock"};
  for (int i = 1; i <= 10; ++i) expected.insert(MasterFileName(i));
  EXPECT_EQ(names, expected);
  Result<ScanJournal> journal = ReadScanJournal(lot);
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  ASSERT_EQ(journal->pages.size(), 10u);
  EXPECT_EQ(journal->pauses, 1);
  int previous_rows = 0;
  for (int sheet = 1; sheet <= 10; ++sheet) {
    const JournalPage& jp = journal->pages[static_cast<size_t>(sheet - 1)];
    EXPECT_EQ(jp.sequence, sheet);
    EXPECT_EQ(jp.sha256, *Sha256OfFile(lot / jp.file));
    Result<DecodedPage> d = DecodeImagePage(*ReadFile(lot / jp.file), 0, jp.file);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    // The backend rounds the scan length its own way: within one row.
    EXPECT_NEAR(d->image.rows, RowsOf(sheet), 1) << jp.file << " is not sheet " << sheet;
    EXPECT_GT(d->image.rows, previous_rows) << jp.file << ": sheets out of order or repeated";
    previous_rows = d->image.rows;
    EXPECT_DOUBLE_EQ(d->dpi_x, kDpi);
  }
}

// The same pause and resume through the command line: exit code 4 with the
// reason, nothing written for the faulty page, and --resume numbering.
TEST_F(SaneJamResumeTest, CommandLinePausesWithExitCodeFourAndResumes) {
  const std::string lot = (root_ / "cli-lot").string();
  const std::vector<std::string> base = {testing::AcervoBinary(), "scan", "--driver", "sane", "--device", "test:0",
                                         "--source", "adf", "--resolution", "50", "--lot", lot};
  std::vector<std::string> cover = base;
  cover.insert(cover.end(), {"--option", "read-return-value=SANE_STATUS_COVER_OPEN"});
  testing::ProcessResult paused = testing::RunProcess(cover);
  EXPECT_EQ(paused.exit_code, 4) << paused.err;
  EXPECT_NE(paused.err.find("cover open"), std::string::npos) << paused.err;
  EXPECT_NE(paused.err.find("--resume"), std::string::npos) << paused.err;
  EXPECT_FALSE(fs::exists(fs::path(lot) / "0001.tif"));

  testing::ProcessResult first = testing::RunProcess(base);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("pages/min"), std::string::npos) << first.err;
  // A lot with pages is not rescanned over by mistake.
  testing::ProcessResult again = testing::RunProcess(base);
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
  // stdout and stderr agree on what the lot holds (issue 12 item 17).
  EXPECT_NE(again.err.find("already has 10 scanned pages"), std::string::npos) << again.err;
  EXPECT_NE(again.out.find("10 complete pages in the lot"), std::string::npos) << again.out;
  // No device: the message says how to name one, whatever the driver.
  testing::ProcessResult nodev = testing::RunProcess(
      {testing::AcervoBinary(), "scan", "--driver", "sane", "--lot", (root_ / "no-device").string()});
  EXPECT_EQ(nodev.exit_code, 2) << nodev.err;
  EXPECT_NE(nodev.err.find("no scanner device given"), std::string::npos) << nodev.err;
  std::vector<std::string> resume = base;
  resume.push_back("--resume");
  testing::ProcessResult resumed = testing::RunProcess(resume);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("from 0011.tif"), std::string::npos) << resumed.out;
  EXPECT_TRUE(fs::exists(fs::path(lot) / "0020.tif"));
  EXPECT_FALSE(fs::exists(fs::path(lot) / "0021.tif"));

  // The scanned lot is an ordinary lot folder for `acervo run`. The test
  // backend's frames are blank, and a document of blank pages only is an
  // error unless the profile keeps such documents (docs/profile.md).
  ASSERT_TRUE(WriteFileAtomic(fs::path(lot) / "profile.toml", std::string_view("[image]\nblank_documents = \"keep\"\n")).ok());
  const std::string out = (root_ / "out").string();
  testing::ProcessResult run =
      testing::RunProcess({testing::AcervoBinary(), "run", lot, "--out", out, "--jobs", "2", "--quiet"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  json report = json::parse(testing::ReadText(out + "/cli-lot/report.json"), nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << run.out << run.err;
  EXPECT_EQ(report["pages"]["total"], 20) << report.dump(2);
  EXPECT_EQ(report["pages"]["failed"], 0) << report.dump(2);
}

// A device that stops answering (here: the test backend made slow, 0.2 s a
// read, against a 0.05 s --sane-timeout) ends the scan with exit 4 and the
// call, device and page named, never a hang; nothing partial is left and the
// same lot resumes on a working device.
TEST_F(SaneJamResumeTest, AStuckDeviceEndsTheScanWithExitFourAndTheLotResumes) {
  const std::string lot = (root_ / "stuck-lot").string();
  const std::vector<std::string> base = {testing::AcervoBinary(), "scan", "--driver", "sane", "--device", "test:0",
                                         "--source", "adf", "--resolution", "50", "--lot", lot};
  std::vector<std::string> slow = base;
  slow.insert(slow.end(), {"--option", "test-picture=Color pattern", "--option", "read-limit=yes", "--option",
                           "read-limit-size=100", "--option", "read-delay=yes", "--option",
                           "read-delay-duration=200000", "--sane-timeout", "0.05"});
  testing::ProcessResult stuck = testing::RunProcess(slow);
  EXPECT_EQ(stuck.exit_code, 4) << stuck.err;
  EXPECT_NE(stuck.err.find("device test:0 stopped answering: sane_read did not return within 0.05 s (reading page 1)"),
            std::string::npos)
      << stuck.err;
  EXPECT_NE(stuck.err.find("--resume"), std::string::npos) << stuck.err;
  for (const auto& e : fs::directory_iterator(lot)) {
    EXPECT_NE(e.path().extension(), ".tif") << e.path() << ": no page was complete";
    EXPECT_NE(e.path().filename().string().rfind(kTempPrefix, 0), 0u) << e.path() << ": a temp file left behind";
  }
  std::vector<std::string> resume = base;
  resume.push_back("--resume");
  testing::ProcessResult resumed = testing::RunProcess(resume);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(fs::exists(fs::path(lot) / "0010.tif"));
  EXPECT_FALSE(fs::exists(fs::path(lot) / "0011.tif"));
}

}  // namespace
}  // namespace acervo
