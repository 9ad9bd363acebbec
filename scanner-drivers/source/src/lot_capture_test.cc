// LotCapture with a scripted Source (the interface's contract, played out
// page by page): masters and journal, pause and resume numbering, partial
// pages never kept, crash leftovers adopted or removed, cancel.
#include "acervo/scanner/lot_capture.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include <opencv2/imgproc.hpp>

#include "acervo/core/files.h"
#include "acervo/scanner/image_file.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

// Plays a list of steps: a page of a given shade, a fault, or end of feed.
class ScriptedSource final : public Source {
 public:
  struct Step {
    int shade = -1;  // >= 0: a gray page of this value
    Status fault;    // when shade < 0 and not OK
  };
  explicit ScriptedSource(std::deque<Step> steps) : steps_(std::move(steps)) {}
  Result<std::optional<CapturedPage>> Next(const std::atomic<bool>*) override {
    if (steps_.empty()) return std::optional<CapturedPage>();
    Step s = steps_.front();
    steps_.pop_front();
    if (s.shade < 0) return s.fault;
    CapturedPage p;
    p.image = cv::Mat(40, 30, CV_8UC1, cv::Scalar(s.shade));
    p.dpi_x = p.dpi_y = 100;
    return std::optional<CapturedPage>(std::move(p));
  }
  Status SetOption(std::string_view, std::string_view) override { return Status::InvalidArgument("none"); }
  std::string Describe() const override { return "scripted"; }

 private:
  std::deque<Step> steps_;
};

ScriptedSource::Step Page(int shade) { return {shade, Status::OK()}; }
ScriptedSource::Step Fault(Status s) { return {-1, std::move(s)}; }

class LotCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("acervo-capture-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  Status Capture(std::deque<ScriptedSource::Step> steps, bool resume, CaptureReport* r) {
    ScriptedSource src(std::move(steps));
    CaptureOptions o;
    o.lot_dir = dir_;
    o.resume = resume;
    o.driver = "scripted";
    return CaptureLot(src, o, r);
  }
  // Shade of each master, in file-name order.
  std::vector<int> Shades() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    std::vector<int> out;
    for (const std::string& n : names) {
      if (n[0] == '.') continue;
      std::vector<uint8_t> bytes = *ReadFile(dir_ / n);
      Result<DecodedPage> d = DecodeImagePage(bytes, 0, n);
      EXPECT_TRUE(d.ok()) << d.status().ToString();
      if (d.ok()) out.push_back(d->image.at<uint8_t>(0, 0));
    }
    return out;
  }
  fs::path dir_;
};

TEST_F(LotCaptureTest, PagesBecomeMastersWithJournal) {
  CaptureReport r;
  ASSERT_TRUE(Capture({Page(10), Page(20), Page(30)}, false, &r).ok());
  EXPECT_EQ(r.pages, 3);
  EXPECT_EQ(Shades(), (std::vector<int>{10, 20, 30}));
  Result<ScanJournal> j = ReadScanJournal(dir_);
  ASSERT_TRUE(j.ok());
  ASSERT_EQ(j->pages.size(), 3u);
  EXPECT_EQ(j->pages[2].file, "0003.tif");
  EXPECT_EQ(j->pages[2].sha256, *Sha256OfFile(dir_ / "0003.tif"));
  Result<DecodedPage> d = DecodeImagePage(*ReadFile(dir_ / "0001.tif"), 0, "0001.tif");
  EXPECT_DOUBLE_EQ(d->dpi_x, 100);
}

TEST_F(LotCaptureTest, JamPausesAndResumeContinuesNumbering) {
  CaptureReport r;
  Status s = Capture({Page(10), Page(20), Fault(Status::DeviceError("paper jam")), Page(99)}, false, &r);
  EXPECT_EQ(s.code(), StatusCode::kDeviceError);
  EXPECT_NE(s.message().find("page 3"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("--resume"), std::string::npos) << s.ToString();
  EXPECT_EQ(r.pages, 2);
  // Without --resume a lot with pages is refused, untouched.
  Status refused = Capture({Page(1)}, false, &r);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Capture({Page(30), Page(40)}, true, &r).ok());
  EXPECT_EQ(r.first_sequence, 3);
  EXPECT_EQ(Shades(), (std::vector<int>{10, 20, 30, 40}));
  Result<ScanJournal> j = ReadScanJournal(dir_);
  EXPECT_EQ(j->pauses, 1);
  EXPECT_EQ(j->last_pause, "paper jam");
}

TEST_F(LotCaptureTest, CrashLeftoversAreAdoptedOrRemoved) {
  CaptureReport r;
  ASSERT_TRUE(Capture({Page(10)}, false, &r).ok());
  // A crash after the link of 0002.tif but before its journal line, and a
  // temporary file of a page cut off mid-write, and a torn journal line.
  CapturedPage p;
  p.image = cv::Mat(40, 30, CV_8UC1, cv::Scalar(20));
  ASSERT_TRUE(WriteFileOnce(dir_ / "0002.tif", *EncodeMasterTiff(p)).ok());
  std::ofstream(dir_ / ".tmp-0003.tif-abc") << "partial";
  std::ofstream(dir_ / kScanJournalName, std::ios::app) << "{\"event\":\"page\",\"seq\":3,\"fi";
  ASSERT_TRUE(Capture({Page(30)}, true, &r).ok());
  EXPECT_EQ(r.adopted, 1);
  EXPECT_EQ(r.temp_removed, 1);
  EXPECT_EQ(r.first_sequence, 3);
  EXPECT_EQ(Shades(), (std::vector<int>{10, 20, 30}));
  EXPECT_FALSE(fs::exists(dir_ / ".tmp-0003.tif-abc"));
}

TEST_F(LotCaptureTest, CancelKeepsCompletePagesOnly) {
  CaptureReport r;
  Status s = Capture({Page(10), Fault(Status::Cancelled("stop")), Page(30)}, false, &r);
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(Shades(), (std::vector<int>{10}));
}

TEST_F(LotCaptureTest, SecondWriterOfTheSameLotIsRefused) {
  fs::create_directories(dir_);
  int fd = ::open((dir_ / ".scan-lock").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another process's scan, as far as flock is concerned
  CaptureReport r;
  Status s = Capture({Page(10)}, false, &r);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  ::close(fd);
  EXPECT_TRUE(Capture({Page(10)}, false, &r).ok());
}

TEST_F(LotCaptureTest, DamagedJournalIsReportedWithLine) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / kScanJournalName) << "garbage\n{\"event\":\"end\"}\n";
  Result<ScanJournal> j = ReadScanJournal(dir_);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("line 1"), std::string::npos);
}

TEST(MasterTiffTest, NamesSortNaturally) {
  EXPECT_EQ(MasterFileName(1), "0001.tif");
  EXPECT_EQ(MasterFileName(9999), "9999.tif");
  EXPECT_EQ(MasterFileName(12345), "12345.tif");
}

struct Layout {
  int type;
  int bits;
};
class MasterLayoutTest : public ::testing::TestWithParam<Layout> {};

// Every layout a driver may deliver encodes deterministically and decodes
// through the folder source that `acervo run` uses.
TEST_P(MasterLayoutTest, EncodesDeterministicallyAndDecodes) {
  CapturedPage p;
  p.bits_per_sample = GetParam().bits;
  p.image = cv::Mat(64, 48, GetParam().type, cv::Scalar::all(0));
  cv::rectangle(p.image, cv::Rect(8, 8, 20, 30), cv::Scalar::all(GetParam().bits == 16 ? 65535 : 255), -1);
  p.dpi_x = p.dpi_y = 300;
  Result<std::vector<uint8_t>> a = EncodeMasterTiff(p);
  Result<std::vector<uint8_t>> b = EncodeMasterTiff(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, *b);
  Result<DecodedPage> d = DecodeImagePage(*a, 0, "m.tif");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->image.cols, 48);
  EXPECT_DOUBLE_EQ(d->dpi_x, 300);
  cv::Mat gray = d->image.channels() == 3 ? cv::Mat() : d->image;
  if (d->image.channels() == 3) cv::extractChannel(d->image, gray, 0);
  EXPECT_EQ(gray.at<uint8_t>(10, 10), 255);
  EXPECT_EQ(gray.at<uint8_t>(50, 40), 0);
}

INSTANTIATE_TEST_SUITE_P(Layouts, MasterLayoutTest,
                         ::testing::Values(Layout{CV_8UC1, 1}, Layout{CV_8UC1, 8}, Layout{CV_16UC1, 16},
                                           Layout{CV_8UC3, 8}, Layout{CV_16UC3, 16}));

}  // namespace
}  // namespace acervo
