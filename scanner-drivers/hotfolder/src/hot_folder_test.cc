// HotFolder on a real folder: completeness (settle time, open writers,
// markers), the state file across restarts, and inotify wake-ups.
#include "acervo/scanner/hot_folder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace acervo {
namespace {
namespace fs = std::filesystem;

// Moves a file's (or folder's) mtime into the past, as if written long ago.
void Age(const fs::path& p, int seconds) {
  timespec times[2];
  ::clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= seconds;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
}

class HotFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("acervo-hot-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "in");
  }
  void TearDown() override { fs::remove_all(root_); }
  std::unique_ptr<HotFolder> Open(std::string marker = "") {
    HotFolderOptions o;
    o.dir = root_ / "in";
    o.state_file = root_ / "state.jsonl";
    o.settle_seconds = 2;
    o.marker_for = [marker](const fs::path&) { return marker; };
    Result<std::unique_ptr<HotFolder>> h = HotFolder::Open(o);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? std::move(*h) : nullptr;
  }
  std::vector<std::string> Ready(HotFolder& h) {
    Result<HotScan> s = h.Scan();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    std::vector<std::string> names;
    for (const HotItem& i : s->ready) names.push_back(i.name);
    return names;
  }
  fs::path root_;
};

TEST_F(HotFolderTest, FreshFileWaitsForTheSettleTime) {
  std::ofstream(root_ / "in/a.tif") << "data";
  std::unique_ptr<HotFolder> h = Open();
  EXPECT_TRUE(Ready(*h).empty());
  Age(root_ / "in/a.tif", 10);
  EXPECT_EQ(Ready(*h), std::vector<std::string>{"a.tif"});
}

TEST_F(HotFolderTest, FileOpenForWritingIsNotTaken) {
  int fd = ::open((root_ / "in/b.tif").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "abc", 3), 3);
  Age(root_ / "in/b.tif", 10);  // a writer that paused longer than the settle time
  std::unique_ptr<HotFolder> h = Open();
  Result<HotScan> s = h->Scan();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->ready.empty());
  ASSERT_EQ(s->waiting.size(), 1u);
  EXPECT_EQ(s->waiting[0].second, "still open for writing");
  ::close(fd);
  Age(root_ / "in/b.tif", 10);
  EXPECT_EQ(Ready(*h), std::vector<std::string>{"b.tif"});
}

TEST_F(HotFolderTest, DoneItemsStayDoneAcrossRestartsUntilTheyChange) {
  std::ofstream(root_ / "in/c.tif") << "data";
  Age(root_ / "in/c.tif", 10);
  {
    std::unique_ptr<HotFolder> h = Open();
    Result<HotScan> s = h->Scan();
    ASSERT_EQ(s->ready.size(), 1u);
    ASSERT_TRUE(h->MarkDone(s->ready[0], "ok").ok());
    EXPECT_TRUE(Ready(*h).empty());
  }
  std::unique_ptr<HotFolder> again = Open();  // a restart
  EXPECT_TRUE(Ready(*again).empty());
  std::ofstream(root_ / "in/c.tif", std::ios::app) << "more";  // new content, same name
  Age(root_ / "in/c.tif", 5);
  EXPECT_EQ(Ready(*again), std::vector<std::string>{"c.tif"});
}

TEST_F(HotFolderTest, LotFolderNeedsItsMarker) {
  fs::create_directories(root_ / "in/lot1");
  std::ofstream(root_ / "in/lot1/0001.tif") << "x";
  Age(root_ / "in/lot1/0001.tif", 10);
  Age(root_ / "in/lot1", 10);
  std::unique_ptr<HotFolder> h = Open("READY");
  EXPECT_TRUE(Ready(*h).empty());
  std::ofstream(root_ / "in/lot1/READY") << "";
  Age(root_ / "in/lot1/READY", 10);
  Age(root_ / "in/lot1", 10);
  EXPECT_EQ(Ready(*h), std::vector<std::string>{"lot1"});
}

TEST_F(HotFolderTest, HiddenAndTemporaryNamesAreIgnored) {
  std::ofstream(root_ / "in/.tmp-x.tif") << "x";
  std::ofstream(root_ / "in/~lock") << "x";
  Age(root_ / "in/.tmp-x.tif", 10);
  Age(root_ / "in/~lock", 10);
  std::unique_ptr<HotFolder> h = Open();
  EXPECT_TRUE(Ready(*h).empty());
}

TEST_F(HotFolderTest, InotifyWakesTheWaitEarly) {
  std::unique_ptr<HotFolder> h = Open();
  if (!h->using_inotify()) GTEST_SKIP() << "inotify unavailable here: polling only (covered by the other tests)";
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ofstream(root_ / "in/new.tif") << "x";
  });
  auto t0 = std::chrono::steady_clock::now();
  h->Wait(10, nullptr);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  writer.join();
  EXPECT_LT(s, 5);
}

}  // namespace
}  // namespace acervo
