// The SANE driver against SANE's own `test` backend (real libsane, real
// backend; configured by tests/support/sane_config.h): every mode and depth
// with pixel checks through the master TIFF, the 10-page feeder, faults
// injected with read-return-value, cancel of a slow device, and the errors
// for unknown devices, options and values.
#include "acervo/scanner/sane_source.h"

#include <gtest/gtest.h>
#include <tiffio.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "acervo/scanner/lot_capture.h"
#include "src/reader_cancel.h"
#include "support/sane_config.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

// libsane reads SANE_CONFIG_DIR once, at its first use: set it before main.
const fs::path kSaneConfig = testing::UseSaneTestConfig();

ScanSettings TestDevice(std::vector<std::pair<std::string, std::string>> options) {
  ScanSettings s;
  s.device = "test:0";
  s.resolution = 50;  // small pages: these tests check pixels, not speed
  // The test backend keeps option values across sane_close/sane_open within
  // a process (measured), so every test starts from the same state.
  s.options = {{"read-return-value", "Default"}, {"read-delay", "no"}, {"read-limit", "no"}};
  s.options.insert(s.options.end(), options.begin(), options.end());
  return s;
}

// Reads a master back with libtiff, exactly as stored (16-bit kept,
// 1-bit as 0/255, RGB as BGR) to compare with what the scanner gave.
cv::Mat ReadMaster(const std::vector<uint8_t>& bytes, int* bits) {
  fs::path tmp = fs::temp_directory_path() / ("acervo-sane-master-" + std::to_string(::getpid()) + ".tif");
  std::ofstream(tmp, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  TIFF* t = TIFFOpen(tmp.c_str(), "r");
  if (t == nullptr) return {};
  uint32_t w = 0, h = 0;
  uint16_t bps = 0, spp = 0, photo = 0, compression = 0;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetField(t, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetField(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
  TIFFGetField(t, TIFFTAG_COMPRESSION, &compression);
  *bits = bps;
  EXPECT_EQ(compression, bps == 1 ? COMPRESSION_CCITTFAX4 : COMPRESSION_LZW);
  int type = bps == 16 ? (spp == 3 ? CV_16UC3 : CV_16UC1) : (spp == 3 ? CV_8UC3 : CV_8UC1);
  cv::Mat m(int(h), int(w), type);
  std::vector<uint8_t> line(size_t(TIFFScanlineSize(t)));
  for (uint32_t y = 0; y < h; ++y) {
    TIFFReadScanline(t, line.data(), y, 0);
    for (uint32_t x = 0; x < w; ++x) {
      if (bps == 1) {
        bool black = (line[x >> 3] >> (7 - (x & 7))) & 1;  // MINISWHITE
        EXPECT_EQ(photo, PHOTOMETRIC_MINISWHITE);
        m.at<uint8_t>(int(y), int(x)) = black ? 0 : 255;
      } else {
        for (uint16_t c = 0; c < spp; ++c) {
          int dst = spp == 3 ? 2 - c : 0;
          if (bps == 16) {
            uint16_t v;
            std::memcpy(&v, &line[2 * (x * spp + c)], 2);
            m.ptr<uint16_t>(int(y))[x * spp + dst] = v;
          } else {
            m.ptr<uint8_t>(int(y))[x * spp + dst] = line[x * spp + c];
          }
        }
      }
    }
  }
  TIFFClose(t);
  fs::remove(tmp);
  return m;
}

struct ModeCase {
  std::string mode;
  int depth;
  std::string picture;
  int expected;  // every sample of the page
};

class SaneModeTest : public ::testing::TestWithParam<ModeCase> {};

TEST_P(SaneModeTest, PixelsReachTheMasterExactly) {
  const ModeCase& c = GetParam();
  Result<std::unique_ptr<Source>> src = OpenSaneSource(
      TestDevice({{"mode", c.mode}, {"depth", std::to_string(c.depth)}, {"test-picture", c.picture}}));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_TRUE(page->has_value());
  const CapturedPage& p = **page;
  EXPECT_EQ(p.bits_per_sample, c.depth);
  EXPECT_EQ(p.image.channels(), c.mode == "Color" ? 3 : 1);
  EXPECT_EQ(p.image.depth(), c.depth == 16 ? CV_16U : CV_8U);
  EXPECT_DOUBLE_EQ(p.dpi_x, 50);
  // Default test geometry: 80 x 100 mm at 50 dpi.
  EXPECT_EQ(p.image.cols, 157);
  EXPECT_EQ(p.image.rows, 196);
  std::vector<cv::Mat> planes;
  cv::split(p.image, planes);
  for (const cv::Mat& plane : planes) {
    double lo, hi;
    cv::minMaxLoc(plane, &lo, &hi);
    EXPECT_EQ(lo, c.expected);
    EXPECT_EQ(hi, c.expected);
  }
  Result<std::vector<uint8_t>> tiff = EncodeMasterTiff(p);
  ASSERT_TRUE(tiff.ok()) << tiff.status().ToString();
  int bits = 0;
  cv::Mat back = ReadMaster(*tiff, &bits);
  // Colour 1-bit is stored as 8-bit RGB (TIFF readers rarely take 1-bit RGB).
  EXPECT_EQ(bits, c.depth == 1 && c.mode == "Color" ? 8 : c.depth);
  ASSERT_EQ(back.type(), p.image.type());
  EXPECT_EQ(cv::norm(back, p.image, cv::NORM_INF), 0);
}

INSTANTIATE_TEST_SUITE_P(
    ModesAndDepths, SaneModeTest,
    ::testing::Values(ModeCase{"Gray", 1, "Solid black", 0}, ModeCase{"Gray", 1, "Solid white", 255},
                      ModeCase{"Gray", 8, "Solid black", 0}, ModeCase{"Gray", 8, "Solid white", 255},
                      ModeCase{"Gray", 16, "Solid black", 0}, ModeCase{"Gray", 16, "Solid white", 65535},
                      ModeCase{"Color", 1, "Solid black", 0}, ModeCase{"Color", 1, "Solid white", 255},
                      ModeCase{"Color", 8, "Solid black", 0}, ModeCase{"Color", 8, "Solid white", 255},
                      ModeCase{"Color", 16, "Solid black", 0}, ModeCase{"Color", 16, "Solid white", 65535}),
    [](const ::testing::TestParamInfo<ModeCase>& i) {
      std::string pic = i.param.picture == "Solid black" ? "Black" : "White";
      return i.param.mode + std::to_string(i.param.depth) + pic;
    });

// The colour pattern has saturated bars: all three channels must carry
// different content, in the right (BGR) places, through the master.
TEST(SaneSourceTest, ColorPatternKeepsChannelOrder) {
  Result<std::unique_ptr<Source>> src =
      OpenSaneSource(TestDevice({{"mode", "Color"}, {"depth", "8"}, {"test-picture", "Color pattern"}}));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
  ASSERT_TRUE(page.ok() && page->has_value()) << page.status().ToString();
  const cv::Mat& img = (*page)->image;
  int pure_red = 0, pure_blue = 0;
  for (int y = 0; y < img.rows; ++y) {
    for (int x = 0; x < img.cols; ++x) {
      cv::Vec3b v = img.at<cv::Vec3b>(y, x);
      if (v[2] == 255 && v[1] == 0 && v[0] == 0) ++pure_red;
      if (v[0] == 255 && v[1] == 0 && v[2] == 0) ++pure_blue;
    }
  }
  EXPECT_GT(pure_red, 0);
  EXPECT_GT(pure_blue, 0);
  int bits = 0;
  cv::Mat back = ReadMaster(*EncodeMasterTiff(**page), &bits);
  EXPECT_EQ(cv::norm(back, img, cv::NORM_INF), 0);
}

TEST(SaneSourceTest, FeederGivesTenPagesThenEnds) {
  ScanSettings s = TestDevice({});
  s.source = "adf";
  Result<std::unique_ptr<Source>> src = OpenSaneSource(s);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  for (int i = 1; i <= 10; ++i) {
    Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
    ASSERT_TRUE(page.ok()) << i << ": " << page.status().ToString();
    ASSERT_TRUE(page->has_value()) << "feeder ended early at " << i;
    EXPECT_EQ((*page)->sequence, i);
  }
  Result<std::optional<CapturedPage>> end = (*src)->Next(nullptr);
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_FALSE(end->has_value());
}

TEST(SaneSourceTest, FlatbedGivesOnePage) {
  ScanSettings s = TestDevice({});
  s.source = "flatbed";
  Result<std::unique_ptr<Source>> src = OpenSaneSource(s);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_TRUE((*src)->Next(nullptr)->has_value());
  EXPECT_FALSE((*src)->Next(nullptr)->has_value());
}

struct FaultCase {
  std::string status;
  std::string says;
};

class SaneFaultTest : public ::testing::TestWithParam<FaultCase> {};

// Injected between pages, as a jam at page 3 happens on a real feeder.
TEST_P(SaneFaultTest, FaultPausesWithReason) {
  ScanSettings s = TestDevice({});
  s.source = "adf";
  Result<std::unique_ptr<Source>> src = OpenSaneSource(s);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_TRUE((*src)->Next(nullptr)->has_value());
  ASSERT_TRUE((*src)->Next(nullptr)->has_value());
  ASSERT_TRUE((*src)->SetOption("read-return-value", GetParam().status).ok());
  Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kDeviceError) << page.status().ToString();
  EXPECT_NE(page.status().message().find(GetParam().says), std::string::npos) << page.status().ToString();
  EXPECT_NE(page.status().message().find(GetParam().status), std::string::npos) << page.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Faults, SaneFaultTest,
                         ::testing::Values(FaultCase{"SANE_STATUS_JAMMED", "paper jam"},
                                           FaultCase{"SANE_STATUS_COVER_OPEN", "cover open"},
                                           FaultCase{"SANE_STATUS_IO_ERROR", "I/O error"},
                                           FaultCase{"SANE_STATUS_DEVICE_BUSY", "busy"}),
                         [](const ::testing::TestParamInfo<FaultCase>& i) {
                           return i.param.status.substr(std::string("SANE_STATUS_").size());
                         });

TEST(SaneSourceTest, CancelStopsASlowScanQuickly) {
  // The backend pauses 0.2 s after each buffer it hands over; the colour
  // pattern comes in ~21 buffers, so one page takes about 4 s.
  Result<std::unique_ptr<Source>> src = OpenSaneSource(TestDevice({{"test-picture", "Color pattern"},
                                                                   {"read-limit", "yes"},
                                                                   {"read-limit-size", "100"},
                                                                   {"read-delay", "yes"},
                                                                   {"read-delay-duration", "200000"}}));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  std::atomic<bool> cancel{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.store(true);
  });
  auto t0 = std::chrono::steady_clock::now();
  Result<std::optional<CapturedPage>> page = (*src)->Next(&cancel);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stopper.join();
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kCancelled) << page.status().ToString();
  EXPECT_LT(s, 3.0) << "cancel was not honoured between reads";
}

// The test backend runs each page's reader on a sanei_thread thread, which
// asks for asynchronous cancellation as it starts; the backend is loaded by
// libsane with dlopen, so only an exported definition reaches it. Without
// it the reader can be cancelled inside malloc and hang the process
// (src/reader_cancel.h). A jam after the reader has started is cancelled as
// the scan ends, and the reader is joined.
TEST(SaneSourceTest, ReaderThreadsAreCancelledOnlyAtCancellationPoints) {
  const uint64_t before = AsyncCancelRequestsMadeDeferred();
  {
    Result<std::unique_ptr<Source>> src = OpenSaneSource(TestDevice({}));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    ASSERT_TRUE((*src)->Next(nullptr)->has_value());
  }
  EXPECT_GT(AsyncCancelRequestsMadeDeferred(), before)
      << "the backend's reader did not reach Acervo's pthread_setcanceltype (is it exported?)";
  // Jams as a page starts: each starts a reader and cancels it at once.
  // With asynchronous cancellation 7 of 18 runs of this loop hung (six test
  // processes at a time, load 8-11); none with the definition. A hang ends
  // the test process through the call watchdog, in 10 s, saying where.
  SaneOptions watchdog;
  watchdog.call_timeout_seconds = 10;
  for (int i = 0; i < 200; ++i) {
    ScanSettings s = TestDevice({{"read-return-value", "SANE_STATUS_JAMMED"}});
    s.source = "adf";
    Result<std::unique_ptr<Source>> src = OpenSaneSource(s, watchdog);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
    ASSERT_FALSE(page.ok()) << "cycle " << i;
    EXPECT_EQ(page.status().code(), StatusCode::kDeviceError) << page.status().ToString();
  }
}

// A backend call that never returns (a reader thread cancelled while it held
// the allocator's lock, say) must not hang an unattended scan: past the call
// timeout the process says which call, device and page, and exits 4. The
// slow device stands in for the stuck one: each sane_read waits 0.2 s for
// the backend's next buffer, four times the 50 ms limit.
TEST(SaneSourceDeathTest, ACallPastItsTimeoutEndsTheProcessSayingWhy) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // libsane's threads: re-exec, do not fork
  EXPECT_EXIT(
      {
        SaneOptions o;
        o.call_timeout_seconds = 0.05;
        Result<std::unique_ptr<Source>> src =
            OpenSaneSource(TestDevice({{"test-picture", "Color pattern"},
                                       {"read-limit", "yes"},
                                       {"read-limit-size", "100"},
                                       {"read-delay", "yes"},
                                       {"read-delay-duration", "200000"}}),
                           o);
        if (!src.ok()) std::_Exit(90);
        (void)(*src)->Next(nullptr);
        std::_Exit(91);  // the page came although every read outlived the limit
      },
      ::testing::ExitedWithCode(kSaneStuckExitCode),
      "device test:0 stopped answering: sane_read did not return within 0.05 s \\(reading page 1\\)");
}

// A limit under a millisecond is rounded up to one, never down to "none".
TEST(SaneSourceDeathTest, ALimitUnderAMillisecondIsStillALimit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        SaneOptions o;
        o.call_timeout_seconds = 0.0004;
        Result<std::unique_ptr<Source>> src = OpenSaneSource(
            TestDevice({{"read-limit", "yes"}, {"read-limit-size", "100"}, {"read-delay", "yes"},
                        {"read-delay-duration", "200000"}}),
            o);
        if (src.ok()) (void)(*src)->Next(nullptr);
        std::_Exit(91);
      },
      ::testing::ExitedWithCode(kSaneStuckExitCode), "did not return within 0.001 s");
}

TEST(SaneSourceTest, ACallTimeoutOutOfRangeIsRefused) {
  SaneOptions o;
  o.call_timeout_seconds = -1;
  Result<std::unique_ptr<Source>> src = OpenSaneSource(TestDevice({}), o);
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kInvalidArgument);
  o.call_timeout_seconds = std::nan("");
  EXPECT_EQ(OpenSaneSource(TestDevice({}), o).status().code(), StatusCode::kInvalidArgument);
}

TEST(SaneSourceTest, UnknownDeviceListsDevices) {
  ScanSettings s = TestDevice({});
  s.device = "nosuch:9";
  Result<std::unique_ptr<Source>> src = OpenSaneSource(s);
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kNotFound);
  EXPECT_NE(src.status().message().find("nosuch:9"), std::string::npos);
  EXPECT_NE(src.status().message().find("test:0"), std::string::npos) << src.status().ToString();
}

struct BadOption {
  std::vector<std::pair<std::string, std::string>> options;
  std::string mode;
  std::vector<std::string> says;
};

class SaneBadOptionTest : public ::testing::TestWithParam<BadOption> {};

TEST_P(SaneBadOptionTest, ErrorListsWhatTheDeviceOffers) {
  ScanSettings s = TestDevice(GetParam().options);
  s.mode = GetParam().mode;
  Result<std::unique_ptr<Source>> src = OpenSaneSource(s);
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kInvalidArgument);
  for (const std::string& w : GetParam().says) {
    EXPECT_NE(src.status().message().find(w), std::string::npos) << w << " not in " << src.status().ToString();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Options, SaneBadOptionTest,
    ::testing::Values(BadOption{{{"no-such-option", "1"}}, "", {"no-such-option", "read-return-value", "mode"}},
                      BadOption{{{"mode", "Infrared"}}, "", {"Infrared", "Gray | Color"}},
                      BadOption{{{"depth", "12"}}, "", {"'12'", "1 | 8 | 16"}},
                      BadOption{{{"resolution", "5000"}}, "", {"5000", "1..1200"}},
                      BadOption{{{"read-return-value", "SANE_STATUS_ON_FIRE"}}, "", {"SANE_STATUS_JAMMED"}},
                      BadOption{{{"read-delay-duration", "5"}}, "", {"inactive"}},
                      BadOption{{}, "sepia", {"bw, gray or color"}}));

TEST(SaneSourceTest, ListsTheTestDevices) {
  Result<std::vector<ScannerInfo>> devices = ListSaneDevices();
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  bool found = false;
  for (const ScannerInfo& d : *devices) found |= d.name == "test:0";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace acervo
