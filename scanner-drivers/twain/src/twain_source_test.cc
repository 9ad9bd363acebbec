// The TWAIN driver through the production dlopen path, against a DSM and a
// data source built by these tests (testdata/): multi-page feed with strip
// reassembly, native transfer and the fallback to it, capability
// negotiation and its errors, jam at page N then resume, cancel.
#include "acervo/scanner/twain_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "acervo/core/files.h"
#include "acervo/scanner/image_file.h"
#include "acervo/scanner/lot_capture.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

constexpr int kWidth = 203, kHeight = 157;

class TwainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("acervo-twain-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ::setenv("ACERVO_TEST_TWAIN_DS", ACERVO_TEST_TWAIN_DS_LIB, 1);
    ::setenv("ACERVO_TEST_TWAIN_LOG", (dir_ / "ds.log").c_str(), 1);
    for (const char* v : {"ACERVO_TEST_TWAIN_PAGES", "ACERVO_TEST_TWAIN_FIRST_SHEET", "ACERVO_TEST_TWAIN_JAM_AT",
                          "ACERVO_TEST_TWAIN_CANCEL_AT", "ACERVO_TEST_TWAIN_MECHS"}) {
      ::unsetenv(v);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  static TwainOptions Dsm(std::string transfer = "") { return TwainOptions{ACERVO_TEST_TWAIN_DSM, transfer}; }
  static ScanSettings Feeder(std::string mode = "gray") {
    ScanSettings s;
    s.device = "Acervo Test Source";
    s.source = "adf";
    s.mode = std::move(mode);
    s.resolution = 200;
    return s;
  }
  std::string Log() {
    std::ifstream in(dir_ / "ds.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

// The sheet number a gray page encodes: sample(x, y) = (x + 3y + 17 s) & 255.
void ExpectSheet(const cv::Mat& img, int sheet) {
  ASSERT_EQ(img.cols, kWidth);
  ASSERT_EQ(img.rows, kHeight);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      if (img.channels() == 3) {
        cv::Vec3b v = img.at<cv::Vec3b>(y, x);
        for (int c = 0; c < 3; ++c) {
          ASSERT_EQ(v[2 - c], (x + 3 * y + 17 * sheet + 85 * c) & 255) << "x " << x << " y " << y << " c " << c;
        }
      } else {
        ASSERT_EQ(img.at<uint8_t>(y, x), (x + 3 * y + 17 * sheet) & 255) << "x " << x << " y " << y;
      }
    }
  }
}

TEST_F(TwainTest, FeederMemoryTransferReassemblesStrips) {
  {
    Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm("memory"));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    for (int sheet = 1; sheet <= 5; ++sheet) {
      Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      ASSERT_TRUE(page->has_value()) << "feed ended early at " << sheet;
      EXPECT_DOUBLE_EQ((*page)->dpi_x, 200);
      EXPECT_EQ((*page)->bits_per_sample, 8);
      ExpectSheet((*page)->image, sheet);  // odd sheets arrive bottom-up
    }
    Result<std::optional<CapturedPage>> end = (*src)->Next(nullptr);
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(end->has_value());
  }
  std::string log = Log();
  // Negotiated: memory transfer, gray, 200 dpi, feeder on, all sheets.
  EXPECT_NE(log.find("set 0x0103 2"), std::string::npos) << log;
  EXPECT_NE(log.find("set 0x0101 1"), std::string::npos) << log;
  EXPECT_NE(log.find("set 0x1002 1"), std::string::npos) << log;
  EXPECT_NE(log.find("set 0x0001 65535"), std::string::npos) << log;
  EXPECT_NE(log.find("state 7"), std::string::npos) << log;
  // Walked back down: 7 -> 6 ... -> 5 -> 4 -> 3.
  EXPECT_EQ(log.substr(log.size() - 24), "state 5\nstate 4\nstate 3\n") << log;
}

TEST_F(TwainTest, NativeTransferOfColourAndBitonal) {
  Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder("color"), Dsm("native"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
  ASSERT_TRUE(page.ok() && page->has_value()) << page.status().ToString();
  ExpectSheet((*page)->image, 1);
  EXPECT_NEAR((*page)->dpi_x, 200, 0.1);

  src->reset();
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "1", 1);
  src = OpenTwainSource(Feeder("bw"), Dsm("memory"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  page = (*src)->Next(nullptr);
  ASSERT_TRUE(page.ok() && page->has_value()) << page.status().ToString();
  EXPECT_EQ((*page)->bits_per_sample, 1);
  const cv::Mat& bw = (*page)->image;
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      ASSERT_EQ(bw.at<uint8_t>(y, x), ((x / 8 + y / 8 + 1) & 1) ? 255 : 0) << x << "," << y;
    }
  }
}

TEST_F(TwainTest, FallsBackToNativeWhenMemoryIsNotOffered) {
  ::setenv("ACERVO_TEST_TWAIN_MECHS", "native", 1);
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "2", 1);
  Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  for (int sheet = 1; sheet <= 2; ++sheet) {
    Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
    ASSERT_TRUE(page.ok() && page->has_value()) << page.status().ToString();
    ExpectSheet((*page)->image, sheet);
  }
  EXPECT_FALSE((*src)->Next(nullptr)->has_value());
  src->reset();
  EXPECT_NE(Log().find("set 0x0103 0"), std::string::npos);
  // Asking for memory explicitly names what the source offers.
  Result<std::unique_ptr<Source>> mem = OpenTwainSource(Feeder(), Dsm("memory"));
  ASSERT_FALSE(mem.ok());
  EXPECT_NE(mem.status().message().find("offers 0"), std::string::npos) << mem.status().ToString();
}

TEST_F(TwainTest, JamAtPageThreeThenResumeGivesEveryPageOnce) {
  fs::path lot = dir_ / "lot";
  ::setenv("ACERVO_TEST_TWAIN_JAM_AT", "3", 1);
  {
    Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    CaptureOptions o;
    o.lot_dir = lot;
    CaptureReport r;
    Status s = CaptureLot(**src, o, &r);
    EXPECT_EQ(s.code(), StatusCode::kDeviceError) << s.ToString();
    EXPECT_NE(s.message().find("TWCC_PAPERJAM"), std::string::npos) << s.ToString();
    EXPECT_EQ(r.pages, 2);
  }
  // The operator clears the jam and reloads sheets 3..5.
  ::setenv("ACERVO_TEST_TWAIN_JAM_AT", "0", 1);
  ::setenv("ACERVO_TEST_TWAIN_FIRST_SHEET", "3", 1);
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "3", 1);
  {
    Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    CaptureOptions o;
    o.lot_dir = lot;
    o.resume = true;
    CaptureReport r;
    ASSERT_TRUE(CaptureLot(**src, o, &r).ok());
    EXPECT_EQ(r.first_sequence, 3);
    EXPECT_EQ(r.total_pages, 5);
  }
  for (int sheet = 1; sheet <= 5; ++sheet) {
    std::string name = MasterFileName(sheet);
    Result<DecodedPage> d = DecodeImagePage(*ReadFile(lot / name), 0, name);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ExpectSheet(d->image, sheet);
  }
  EXPECT_FALSE(fs::exists(lot / MasterFileName(6)));
}

TEST_F(TwainTest, CancelOnTheDeviceAndFromUs) {
  ::setenv("ACERVO_TEST_TWAIN_CANCEL_AT", "2", 1);
  {
    Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    ASSERT_TRUE((*src)->Next(nullptr)->has_value());
    Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
    ASSERT_FALSE(page.ok());
    EXPECT_EQ(page.status().code(), StatusCode::kCancelled);
  }
  ::unsetenv("ACERVO_TEST_TWAIN_CANCEL_AT");
  std::atomic<bool> cancel{true};
  Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
  ASSERT_TRUE(src.ok());
  Result<std::optional<CapturedPage>> page = (*src)->Next(&cancel);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kCancelled);
  src->reset();
  std::string log = Log();
  EXPECT_EQ(log.substr(log.size() - 8), "state 3\n") << log;
}

TEST_F(TwainTest, ErrorsNameWhatTheSourceOffers) {
  ScanSettings s = Feeder();
  s.device = "Nonexistent Scanner";
  Result<std::unique_ptr<Source>> src = OpenTwainSource(s, Dsm());
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kNotFound);
  EXPECT_NE(src.status().message().find("Acervo Test Source"), std::string::npos);

  s = Feeder();
  s.resolution = 5000;
  src = OpenTwainSource(s, Dsm());
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(src.status().message().find("50..600"), std::string::npos) << src.status().ToString();

  Result<std::unique_ptr<Source>> missing = OpenTwainSource(Feeder(), TwainOptions{"/nonexistent/libtwaindsm.so", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kUnavailable);

  Result<std::vector<ScannerInfo>> list = ListTwainSources(Dsm());
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "Acervo Test Source");
}

}  // namespace
}  // namespace acervo
