// The TWAIN driver through the production path — the TWAIN host process,
// the DSM loaded with dlopen there — against a DSM and a data source built by
// these tests (testdata/), which behave like the official TWAIN sample
// source where it matters: multi-page feed with strip reassembly, native
// transfers as TIFF (and DIB), the feeder on by default, CAP_INDICATORS, both
// pixel flavours, state-machine sequencing, jam then resume, cancel, and
// vendor code that crashes, hangs or allocates without bound.
#include "acervo/scanner/twain_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

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
    for (const char* v :
         {"ACERVO_TEST_TWAIN_PAGES", "ACERVO_TEST_TWAIN_FIRST_SHEET", "ACERVO_TEST_TWAIN_JAM_AT",
          "ACERVO_TEST_TWAIN_CANCEL_AT", "ACERVO_TEST_TWAIN_MECHS", "ACERVO_TEST_TWAIN_NATIVE",
          "ACERVO_TEST_TWAIN_FEEDER_DEFAULT", "ACERVO_TEST_TWAIN_FLAVOR", "ACERVO_TEST_TWAIN_IGNORE_INDICATORS",
          "ACERVO_TEST_TWAIN_CRASH_AT", "ACERVO_TEST_TWAIN_HANG_AT", "ACERVO_TEST_TWAIN_RUNAWAY_AT",
          "ACERVO_TEST_TWAIN_RUNAWAY_MODE", "ACERVO_TEST_TWAIN_PAPER", "ACERVO_TEST_TWAIN_STRIP_ROWS",
          "ACERVO_TEST_TWAIN_BUFFER", "ACERVO_TEST_TWAIN_STRIP_DELAY_MS", "DISPLAY"}) {
      ::unsetenv(v);
    }
  }
  void TearDown() override {
    // Whatever happened, Acervo never sent a triplet out of sequence.
    EXPECT_EQ(Log().find("seqerror"), std::string::npos) << Log();
    fs::remove_all(dir_);
  }
  static TwainOptions Dsm(std::string transfer = "") {
    TwainOptions o;
    o.dsm_path = ACERVO_TEST_TWAIN_DSM;
    o.transfer = std::move(transfer);
    return o;
  }
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
  // Every page the source has, in order.
  static std::vector<CapturedPage> All(Source& src) {
    std::vector<CapturedPage> pages;
    for (;;) {
      Result<std::optional<CapturedPage>> p = src.Next(nullptr);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      if (!p.ok() || !p->has_value()) return pages;
      pages.push_back(std::move(**p));
    }
  }
  fs::path dir_;
};

// The sheet number a gray or colour page encodes:
// sample(x, y) = (x + 3y + 17 s + 85 c) & 255.
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

// A bitonal page: white where ((x / 8 + y / 8 + sheet) & 1).
void ExpectBitonalSheet(const CapturedPage& page, int sheet) {
  EXPECT_EQ(page.bits_per_sample, 1);
  ASSERT_EQ(page.image.cols, kWidth);
  ASSERT_EQ(page.image.rows, kHeight);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      ASSERT_EQ(page.image.at<uint8_t>(y, x), ((x / 8 + y / 8 + sheet) & 1) ? 255 : 0) << x << "," << y;
    }
  }
}

TEST_F(TwainTest, FeederMemoryTransferReassemblesStrips) {
  {
    Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm("memory"));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    EXPECT_EQ((*src)->Describe(), "twain:Acervo Test Source");
    for (int sheet = 1; sheet <= 5; ++sheet) {
      Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      ASSERT_TRUE(page->has_value()) << "feed ended early at " << sheet;
      EXPECT_DOUBLE_EQ((*page)->dpi_x, 200);
      EXPECT_EQ((*page)->bits_per_sample, 8);
      EXPECT_EQ((*page)->sequence, sheet);
      ExpectSheet((*page)->image, sheet);  // odd sheets arrive bottom-up
    }
    Result<std::optional<CapturedPage>> end = (*src)->Next(nullptr);
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(end->has_value());
  }
  std::string log = Log();
  // Negotiated: memory transfer, gray, 200 dpi, feeder on, no progress
  // window, all sheets.
  EXPECT_NE(log.find("set 0x0103 2"), std::string::npos) << log;
  EXPECT_NE(log.find("set 0x0101 1"), std::string::npos) << log;
  EXPECT_NE(log.find("set 0x1002 1"), std::string::npos) << log;
  EXPECT_NE(log.find("set 0x100b 0"), std::string::npos) << log;
  EXPECT_NE(log.find("set 0x0001 65535"), std::string::npos) << log;
  EXPECT_NE(log.find("state 7"), std::string::npos) << log;
  // Walked back down: 7 -> 6 ... -> 5 -> 4 -> 3.
  EXPECT_EQ(log.substr(log.size() - 24), "state 5\nstate 4\nstate 3\n") << log;
}

// Issue 17 item 1: on Linux the official sample source hands over a TIFF in
// the native handle ("Linux is a TIFF"); Windows sources a DIB.
TEST_F(TwainTest, NativeTransfersAsTiffAndAsDib) {
  for (const char* format : {"tiff", "dib"}) {
    SCOPED_TRACE(format);
    ::setenv("ACERVO_TEST_TWAIN_NATIVE", format, 1);
    ::setenv("ACERVO_TEST_TWAIN_PAGES", "2", 1);
    for (const char* mode : {"gray", "color"}) {
      Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(mode), Dsm("native"));
      ASSERT_TRUE(src.ok()) << src.status().ToString();
      std::vector<CapturedPage> pages = All(**src);
      ASSERT_EQ(pages.size(), 2u);
      for (int sheet = 1; sheet <= 2; ++sheet) {
        ExpectSheet(pages[sheet - 1].image, sheet);
        EXPECT_NEAR(pages[sheet - 1].dpi_x, 200, 0.1);
        EXPECT_EQ(pages[sheet - 1].bits_per_sample, 8);
      }
    }
    ::setenv("ACERVO_TEST_TWAIN_PAGES", "1", 1);
    Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder("bw"), Dsm("native"));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    std::vector<CapturedPage> pages = All(**src);
    ASSERT_EQ(pages.size(), 1u);
    ExpectBitonalSheet(pages[0], 1);
  }
}

TEST_F(TwainTest, BitonalMemoryTransfer) {
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "2", 1);
  Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder("bw"), Dsm("memory"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  std::vector<CapturedPage> pages = All(**src);
  ASSERT_EQ(pages.size(), 2u);
  ExpectBitonalSheet(pages[0], 1);
  ExpectBitonalSheet(pages[1], 2);
}

// Issue 17 item 5: ICAP_PIXELFLAVOR is read. A vanilla source sends 0 for
// white; the pages must come out the same as a chocolate source's.
TEST_F(TwainTest, VanillaPixelFlavourIsHonoured) {
  ::setenv("ACERVO_TEST_TWAIN_FLAVOR", "vanilla", 1);
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "1", 1);
  for (const char* transfer : {"memory", "native"}) {
    for (const char* native : {"tiff", "dib"}) {
      SCOPED_TRACE(std::string(transfer) + " " + native);
      ::setenv("ACERVO_TEST_TWAIN_NATIVE", native, 1);
      Result<std::unique_ptr<Source>> bw = OpenTwainSource(Feeder("bw"), Dsm(transfer));
      ASSERT_TRUE(bw.ok()) << bw.status().ToString();
      std::vector<CapturedPage> pages = All(**bw);
      ASSERT_EQ(pages.size(), 1u);
      ExpectBitonalSheet(pages[0], 1);
      bw->reset();
      Result<std::unique_ptr<Source>> gray = OpenTwainSource(Feeder("gray"), Dsm(transfer));
      ASSERT_TRUE(gray.ok()) << gray.status().ToString();
      pages = All(**gray);
      ASSERT_EQ(pages.size(), 1u);
      // Memory: inverted by the flavour; TIFF: MinIsWhite; DIB: its palette.
      ExpectSheet(pages[0].image, 1);
    }
  }
}

TEST_F(TwainTest, FallsBackToNativeWhenMemoryIsNotOffered) {
  ::setenv("ACERVO_TEST_TWAIN_MECHS", "native", 1);
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "2", 1);
  Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  std::vector<CapturedPage> pages = All(**src);
  ASSERT_EQ(pages.size(), 2u);
  for (int sheet = 1; sheet <= 2; ++sheet) ExpectSheet(pages[sheet - 1].image, sheet);
  src->reset();
  EXPECT_NE(Log().find("set 0x0103 0"), std::string::npos);
  // Asking for memory explicitly names what the source offers.
  Result<std::unique_ptr<Source>> mem = OpenTwainSource(Feeder(), Dsm("memory"));
  ASSERT_FALSE(mem.ok());
  EXPECT_EQ(mem.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mem.status().message().find("offers 0"), std::string::npos) << mem.status().ToString();
}

// Issue 17 item 3: without --source the device's feeder setting stands (on
// by default, as in the official sample source) and every sheet is scanned;
// a device whose feeder is off gives one page.
TEST_F(TwainTest, TheDevicesFeederDefaultIsKept) {
  ScanSettings s = Feeder();
  s.source.clear();
  {
    Result<std::unique_ptr<Source>> src = OpenTwainSource(s, Dsm());
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    EXPECT_EQ(All(**src).size(), 5u);
  }
  std::string log = Log();
  EXPECT_EQ(log.find("set 0x1002"), std::string::npos) << log;  // CAP_FEEDERENABLED untouched
  EXPECT_NE(log.find("set 0x0001 65535"), std::string::npos) << log;
  fs::remove(dir_ / "ds.log");
  ::setenv("ACERVO_TEST_TWAIN_FEEDER_DEFAULT", "0", 1);
  {
    Result<std::unique_ptr<Source>> src = OpenTwainSource(s, Dsm());
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    EXPECT_EQ(All(**src).size(), 1u);
  }
  log = Log();
  EXPECT_EQ(log.find("set 0x1002"), std::string::npos) << log;
  EXPECT_NE(log.find("set 0x0001 1\n"), std::string::npos) << log;
}

// Issue 17 item 2: the source would open a progress window that needs a
// display (aborting the process without one, as Qt does); Acervo sets
// CAP_INDICATORS FALSE, so capture runs from a terminal or a service.
TEST_F(TwainTest, NoProgressWindowWithoutADisplay) {
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "2", 1);
  {
    Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    EXPECT_EQ(All(**src).size(), 2u);
  }
  EXPECT_NE(Log().find("set 0x100b 0"), std::string::npos) << Log();
  EXPECT_EQ(Log().find("indicators shown"), std::string::npos) << Log();
  // A source that ignores it aborts: that is the host's death, a pause
  // naming the signal and what the source said, never Acervo's.
  ::setenv("ACERVO_TEST_TWAIN_IGNORE_INDICATORS", "1", 1);
  Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kDeviceError);
  EXPECT_NE(page.status().message().find("SIGABRT"), std::string::npos) << page.status().ToString();
  EXPECT_NE(page.status().message().find("could not connect to display"), std::string::npos)
      << page.status().ToString();
  // A dead host answers every later call the same way.
  Result<std::optional<CapturedPage>> again = (*src)->Next(nullptr);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), page.status().message());
}

// Issue 17 item 4: a jam on the last sheet: MSG_ENDXFER returns Count 0
// (state 5), so no MSG_RESET may follow (TearDown checks no triplet was out
// of sequence); a cancel on the last sheet likewise.
TEST_F(TwainTest, NoResetAfterTheLastTransferEnded) {
  for (const char* fault : {"ACERVO_TEST_TWAIN_JAM_AT", "ACERVO_TEST_TWAIN_CANCEL_AT"}) {
    for (const char* transfer : {"memory", "native"}) {
      SCOPED_TRACE(std::string(fault) + " " + transfer);
      ::setenv(fault, "3", 1);
      ::setenv("ACERVO_TEST_TWAIN_PAGES", "3", 1);
      {
        Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm(transfer));
        ASSERT_TRUE(src.ok()) << src.status().ToString();
        ASSERT_TRUE((*src)->Next(nullptr)->has_value());
        ASSERT_TRUE((*src)->Next(nullptr)->has_value());
        Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
        ASSERT_FALSE(page.ok());
      }
      ::unsetenv(fault);
      std::string log = Log();
      EXPECT_EQ(log.substr(log.size() - 8), "state 3\n") << log;
    }
  }
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

// Ctrl-C in the middle of a slow page: the cancel reaches the host between
// strips, the page is dropped at once, and the states are walked down.
TEST_F(TwainTest, CancelFromUsMidPage) {
  ::setenv("ACERVO_TEST_TWAIN_STRIP_DELAY_MS", "50", 1);  // 23 strips: over a second a page
  Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  std::atomic<bool> cancel{false};
  std::thread operator_presses_ctrl_c([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.store(true);
  });
  Result<std::optional<CapturedPage>> page = (*src)->Next(&cancel);
  operator_presses_ctrl_c.join();
  // Not the complete page the host would have sent had it only looked at
  // the cancel between pages.
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kCancelled) << page.status().ToString();
  src->reset();
  std::string log = Log();
  EXPECT_NE(log.find("state 7"), std::string::npos) << log;
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

  TwainOptions missing_dsm = Dsm();
  missing_dsm.dsm_path = "/nonexistent/libtwaindsm.so";
  Result<std::unique_ptr<Source>> missing = OpenTwainSource(Feeder(), missing_dsm);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(missing.status().message().find("/nonexistent/libtwaindsm.so"), std::string::npos);

  TwainOptions missing_host = Dsm();
  missing_host.host_path = "/nonexistent/acervo-twain-host";
  missing = OpenTwainSource(Feeder(), missing_host);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/acervo-twain-host"), std::string::npos)
      << missing.status().ToString();

  Result<std::vector<ScannerInfo>> list = ListTwainSources(Dsm());
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "Acervo Test Source");
}

// Issue 17 item 6: the DSM and the source never load into the process that
// writes masters, and the host process holds no libtiff of ours (so a
// vendor's libtiff tag extender cannot chain into a writer that outlives it).
TEST_F(TwainTest, VendorCodeStaysInTheHostProcess) {
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "1", 1);
  Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), Dsm());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ(All(**src).size(), 1u);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    EXPECT_EQ(line.find("acervo_test_ds"), std::string::npos) << line;
  }
  EXPECT_NE(Log().find("libtiff mapped: no"), std::string::npos) << Log();
}

// Issue 17 item 2: vendor code that crashes, hangs or allocates without
// bound mid-page: a DeviceError (the lot pauses), every page before it
// complete and committed, and this process unharmed.
TEST_F(TwainTest, VendorFaultsMidPagePauseTheLot) {
  struct Fault {
    const char* env;
    const char* mode;
    std::string expect;
  } faults[] = {
      {"ACERVO_TEST_TWAIN_CRASH_AT", "", "SIGSEGV"},
      {"ACERVO_TEST_TWAIN_HANG_AT", "", "DAT_IMAGEMEMXFER/MSG_GET did not return within 1.5 s"},
      {"ACERVO_TEST_TWAIN_RUNAWAY_AT", "abort", "of a 256 MB limit"},
      {"ACERVO_TEST_TWAIN_RUNAWAY_AT", "throw", "std::bad_alloc"},
  };
  for (const Fault& f : faults) {
    SCOPED_TRACE(std::string(f.env) + " " + f.mode);
    fs::path lot = dir_ / (std::string("lot-") + f.env + f.mode);
    ::setenv(f.env, "3", 1);
    ::setenv("ACERVO_TEST_TWAIN_RUNAWAY_MODE", f.mode, 1);
    TwainOptions o = Dsm();
    o.timeout_seconds = 1.5;
    o.memory_limit_mb = 256;
    {
      Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), o);
      ASSERT_TRUE(src.ok()) << src.status().ToString();
      CaptureOptions co;
      co.lot_dir = lot;
      CaptureReport r;
      Status s = CaptureLot(**src, co, &r);
      EXPECT_EQ(s.code(), StatusCode::kDeviceError) << s.ToString();
      EXPECT_NE(s.message().find(f.expect), std::string::npos) << s.ToString();
      EXPECT_EQ(r.pages, 2);
    }
    ::unsetenv(f.env);
    ::setenv("ACERVO_TEST_TWAIN_FIRST_SHEET", "3", 1);
    ::setenv("ACERVO_TEST_TWAIN_PAGES", "3", 1);
    {
      Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), o);
      ASSERT_TRUE(src.ok()) << src.status().ToString();
      CaptureOptions co;
      co.lot_dir = lot;
      co.resume = true;
      CaptureReport r;
      Status s = CaptureLot(**src, co, &r);
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(r.total_pages, 5);
    }
    ::unsetenv("ACERVO_TEST_TWAIN_FIRST_SHEET");
    ::unsetenv("ACERVO_TEST_TWAIN_PAGES");
    for (int sheet = 1; sheet <= 5; ++sheet) {
      std::string name = MasterFileName(sheet);
      Result<DecodedPage> d = DecodeImagePage(*ReadFile(lot / name), 0, name);
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      ExpectSheet(d->image, sheet);
    }
  }
}

// The capturing side trusts nothing the host sends: a host whose memory was
// scribbled on by vendor code (here a rogue host) gives a DeviceError and is
// stopped; this process carries on.
TEST_F(TwainTest, ALyingHostIsStoppedNotBelieved) {
  TwainOptions o = Dsm();
  o.host_path = ACERVO_TEST_ROGUE_HOST;
  o.timeout_seconds = 2;
  for (const char* lie : {"ring-offset", "oversize", "geometry", "huge-page", "garbage"}) {
    SCOPED_TRACE(lie);
    ::setenv("ACERVO_TEST_ROGUE", lie, 1);
    Result<std::unique_ptr<Source>> src = OpenTwainSource(Feeder(), o);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    EXPECT_EQ((*src)->Describe(), "twain:Rogue Source");
    Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
    ASSERT_FALSE(page.ok());
    EXPECT_EQ(page.status().code(), StatusCode::kDeviceError) << page.status().ToString();
    EXPECT_NE(page.status().message().find("process was stopped"), std::string::npos) << page.status().ToString();
  }
  ::unsetenv("ACERVO_TEST_ROGUE");
}

// Pages larger than the shared ring, every pixel checked: slots are reused
// within each page, and the host may reuse one only after this side copied
// the strip out of it (a slot reused too early shows as another strip's rows).
TEST_F(TwainTest, PagesLargerThanTheRingAreExact) {
  ::setenv("ACERVO_TEST_TWAIN_PAPER", "a4", 1);
  ::setenv("ACERVO_TEST_TWAIN_STRIP_ROWS", "0", 1);
  ::setenv("ACERVO_TEST_TWAIN_BUFFER", "16384", 1);  // many small slots, many acknowledgements
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "6", 1);
  ScanSettings s = Feeder();
  s.resolution = 300;  // 8.7 MB a page
  Result<std::unique_ptr<Source>> src = OpenTwainSource(s, Dsm("memory"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  for (int sheet = 1; sheet <= 6; ++sheet) {
    Result<std::optional<CapturedPage>> page = (*src)->Next(nullptr);
    ASSERT_TRUE(page.ok() && page->has_value()) << page.status().ToString();
    const cv::Mat& img = (*page)->image;
    ASSERT_EQ(img.cols, 2481);
    ASSERT_EQ(img.rows, 3507);
    for (int y = 0; y < img.rows; ++y) {
      const uint8_t* row = img.ptr<uint8_t>(y);
      for (int x = 0; x < img.cols; ++x) {
        ASSERT_EQ(row[x], (x + 3 * y + 17 * sheet) & 255) << "sheet " << sheet << " " << x << "," << y;
      }
    }
  }
}

// Pages larger than the shared ring's slots: strips through the ring, strips
// too big for it inline, and a native image in several ring chunks.
TEST_F(TwainTest, LargePagesThroughTheRingAndInline) {
  ::setenv("ACERVO_TEST_TWAIN_PAPER", "a4", 1);
  ::setenv("ACERVO_TEST_TWAIN_PAGES", "2", 1);
  struct Case {
    const char* transfer;
    const char* buffer;  // the source's strip buffer
  } cases[] = {{"memory", "65536"}, {"memory", "3145728"}, {"native", ""}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.transfer) + " " + c.buffer);
    ::setenv("ACERVO_TEST_TWAIN_STRIP_ROWS", "0", 1);
    ::setenv("ACERVO_TEST_TWAIN_BUFFER", c.buffer, 1);
    ScanSettings s = Feeder();
    s.resolution = 150;
    Result<std::unique_ptr<Source>> src = OpenTwainSource(s, Dsm(c.transfer));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    std::vector<CapturedPage> pages = All(**src);
    ASSERT_EQ(pages.size(), 2u);
    for (int sheet = 1; sheet <= 2; ++sheet) {
      const cv::Mat& img = pages[sheet - 1].image;
      ASSERT_EQ(img.cols, 1241);  // 8.27 in at 150 dpi
      ASSERT_EQ(img.rows, 1754);  // 11.69 in
      for (int y = 0; y < img.rows; y += 17) {
        for (int x = 0; x < img.cols; x += 13) {
          ASSERT_EQ(img.at<uint8_t>(y, x), (x + 3 * y + 17 * sheet) & 255) << x << "," << y;
        }
      }
    }
  }
}

}  // namespace
}  // namespace acervo
