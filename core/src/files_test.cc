#include "acervo/core/files.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace acervo {
namespace {
namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("acervo-files-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FilesTest, Sha256OfKnownVectors) {
  EXPECT_EQ(Sha256Hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string abc = "abc";
  EXPECT_EQ(Sha256Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(abc.data()), 3)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(FilesTest, AtomicWriteLeavesNoTempFiles) {
  fs::path p = dir_ / "out.txt";
  ASSERT_TRUE(WriteFileAtomic(p, std::string_view("first")).ok());
  ASSERT_TRUE(WriteFileAtomic(p, std::string_view("second")).ok());
  Result<std::vector<uint8_t>> data = ReadFile(p);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(std::string(data->begin(), data->end()), "second");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) { (void)e; ++entries; }
  EXPECT_EQ(entries, 1);
}

// A device, FIFO or folder under the name is never replaced by the rename
// (`--gt /dev/null` once replaced /dev/null with a plain file); a link is
// replaced itself, its target untouched.
TEST_F(FilesTest, AtomicWriteReplacesOnlyFilesAndLinks) {
  const fs::path fifo = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Status s = WriteFileAtomic(fifo, std::string_view("data"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("not a regular file"), std::string::npos) << s.ToString();
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(fifo)));
  const fs::path folder = dir_ / "folder";
  fs::create_directory(folder);
  EXPECT_FALSE(WriteFileAtomic(folder, std::string_view("data")).ok());
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(folder)));
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) { (void)e; ++entries; }
  EXPECT_EQ(entries, 2) << "no temp file left";

  const fs::path target = dir_ / "target.txt", link = dir_ / "link.txt";
  ASSERT_TRUE(WriteFileAtomic(target, std::string_view("target")).ok());
  fs::create_symlink(target, link);
  ASSERT_TRUE(WriteFileAtomic(link, std::string_view("new")).ok());
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(link)));
  Result<std::vector<uint8_t>> kept = ReadFile(target);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(std::string(kept->begin(), kept->end()), "target");
}

TEST_F(FilesTest, WriteOnceRefusesToReplace) {
  fs::path p = dir_ / "master.tif";
  std::vector<uint8_t> a = {1, 2, 3};
  ASSERT_TRUE(WriteFileOnce(p, a).ok());
  Status again = WriteFileOnce(p, std::vector<uint8_t>{9});
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFile(p), a);
}

TEST_F(FilesTest, CopyOnceIsIdempotentForSameContentOnly) {
  fs::path src = dir_ / "in.bin";
  std::ofstream(src) << "scan";
  fs::create_directories(dir_ / "m");
  Result<std::string> h1 = CopyFileOnce(src, dir_ / "m" / "in.bin");
  ASSERT_TRUE(h1.ok()) << h1.status().ToString();
  Result<std::string> h2 = CopyFileOnce(src, dir_ / "m" / "in.bin");
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(*h1, *h2);
  std::ofstream(src) << "changed";
  EXPECT_EQ(CopyFileOnce(src, dir_ / "m" / "in.bin").status().code(), StatusCode::kAlreadyExists);
}

TEST_F(FilesTest, ReadMissingFileNamesIt) {
  Result<std::vector<uint8_t>> r = ReadFile(dir_ / "nope.png");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("nope.png"), std::string::npos);
}

TEST_F(FilesTest, RemoveTempFilesOnlyRemovesTemps) {
  std::ofstream(dir_ / ".tmp-doc.pdf-1234") << "partial";
  std::ofstream(dir_ / "doc.pdf") << "whole";
  Result<int> n = RemoveTempFiles(dir_);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_TRUE(fs::exists(dir_ / "doc.pdf"));
}


// Issue 12: what is not a regular file is never read nor waited on.
TEST_F(FilesTest, OnlyRegularFilesAreRead) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo.png").c_str(), 0644), 0);
  Result<std::vector<uint8_t>> fifo = ReadFile(dir_ / "fifo.png");  // would block for ever
  EXPECT_EQ(fifo.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(fifo.status().message().find("FIFO"), std::string::npos) << fifo.status().ToString();
  EXPECT_EQ(ReadFile("/dev/zero").status().code(), StatusCode::kInvalidArgument);  // would read for ever
  EXPECT_EQ(Sha256OfFile("/dev/zero").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(dir_).status().code(), StatusCode::kInvalidArgument);
  std::ofstream(dir_ / "real.png") << "bytes";
  fs::create_symlink(dir_ / "real.png", dir_ / "link.png");
  EXPECT_TRUE(ReadFile(dir_ / "link.png").ok());
  Result<std::vector<uint8_t>> refused = ReadFile(dir_ / "link.png", Links::kRefuse);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("symbolic link"), std::string::npos);
  fs::create_symlink(dir_ / "loop", dir_ / "loop");
  EXPECT_FALSE(ReadFile(dir_ / "loop").ok());
  // Streams: the hash of a file is the hash of its bytes.
  EXPECT_EQ(*Sha256OfFile(dir_ / "real.png"),
            Sha256Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("bytes"), 5)));
}

TEST_F(FilesTest, NothingCreatesFoldersTheCallerDidNotAskFor) {
  EXPECT_FALSE(WriteFileAtomic(dir_ / "no" / "such" / "f.txt", std::string_view("x")).ok());
  EXPECT_FALSE(fs::exists(dir_ / "no"));
  Result<fs::path> made = CreateDirectoriesBelow(dir_, "a/b/c");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(*made, dir_ / "a/b/c");
  EXPECT_TRUE(fs::is_directory(dir_ / "a/b/c"));
  // A link among the folders is never followed out.
  fs::create_directories(dir_ / "elsewhere");
  fs::create_directory_symlink(dir_ / "elsewhere", dir_ / "a" / "link");
  Result<fs::path> through = CreateDirectoriesBelow(dir_, "a/link/x");
  EXPECT_EQ(through.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere" / "x"));
  EXPECT_EQ(CreateDirectoriesBelow(dir_, "../out").status().code(), StatusCode::kInvalidArgument);
  // A write-once copy is never written through a link either.
  std::ofstream(dir_ / "src") << "data";
  std::ofstream(dir_ / "elsewhere" / "victim") << "keep";
  fs::create_symlink(dir_ / "elsewhere" / "victim", dir_ / "a" / "dest");
  EXPECT_FALSE(CopyFileOnce(dir_ / "src", dir_ / "a" / "dest").ok());
  EXPECT_EQ(*Sha256OfFile(dir_ / "elsewhere" / "victim"),
            Sha256Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("keep"), 4)));
}

TEST_F(FilesTest, LongNamesKeepAShortEnoughTempName) {
  const std::string name(250, 'x');
  const fs::path temp = TempPathFor(dir_ / name);
  EXPECT_LE(temp.filename().string().size(), kMaxFileNameBytes);
  EXPECT_EQ(temp.filename().string().rfind(kTempPrefix, 0), 0u);
  EXPECT_TRUE(WriteFileAtomic(dir_ / name, std::string_view("whole")).ok());
  EXPECT_TRUE(fs::exists(dir_ / name));
}

TEST_F(FilesTest, OverlappingFoldersAreNamed) {
  fs::create_directories(dir_ / "lot");
  EXPECT_TRUE(CheckSeparateFolders(dir_ / "lot", "lot", dir_ / "out", "out").ok());
  EXPECT_FALSE(CheckSeparateFolders(dir_ / "lot", "lot", dir_ / "lot" / "out", "out").ok());
  EXPECT_FALSE(CheckSeparateFolders(dir_ / "lot" / "sub", "lot", dir_ / "lot", "out").ok());
  EXPECT_FALSE(CheckSeparateFolders(dir_ / "lot", "lot", dir_ / "lot/", "out").ok());
  EXPECT_TRUE(CheckSeparateFolders(dir_ / "lot", "lot", dir_ / "lot2", "out").ok());  // a prefix is not a parent
  // Through a link: the same folder.
  fs::create_directory_symlink(dir_ / "lot", dir_ / "alias");
  Status s = CheckSeparateFolders(dir_ / "lot", "lot folder", dir_ / "alias" / "out", "--out folder");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("lot folder"), std::string::npos);
}

TEST_F(FilesTest, ALockIsHeldByOneAtATime) {
  Result<FileLock> first = FileLock::Acquire(dir_ / ".lock");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<FileLock> second = FileLock::Acquire(dir_ / ".lock");
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.status().ToString();
  { FileLock released = std::move(first).value(); }
  EXPECT_TRUE(FileLock::Acquire(dir_ / ".lock").ok());
}

// Queue units share the lot's lock; a run excludes them, and they it.
TEST_F(FilesTest, ASharedLockHasManyHoldersAndNoExclusiveOne) {
  const fs::path path = dir_ / ".lock";
  {
    Result<FileLock> run = FileLock::Acquire(path);
    ASSERT_TRUE(run.ok());
    Result<FileLock> unit = FileLock::Acquire(path, FileLock::Mode::kShared);
    EXPECT_EQ(unit.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(unit.status().message().find("`acervo run` or `batch` (pid " + std::to_string(::getpid())),
              std::string::npos)
        << unit.status().ToString();
  }
  Result<FileLock> a = FileLock::Acquire(path, FileLock::Mode::kShared);
  Result<FileLock> b = FileLock::Acquire(path, FileLock::Mode::kShared);
  ASSERT_TRUE(a.ok() && b.ok());
  // The file still names the last run, gone by now: the message must not
  // blame it. (Here that pid is ours and alive: name a dead one, in place.)
  { std::ofstream(path, std::ios::trunc) << "999999999\n"; }
  Result<FileLock> run = FileLock::Acquire(path);
  EXPECT_EQ(run.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(run.status().message().find("workers of the shared queue"), std::string::npos) << run.status().ToString();
  // Whatever the file holds is only a hint, never a crash.
  for (const char* junk : {"99999999999999999999999\n", "-1\n", "12ab\n", ""}) {
    { std::ofstream(path, std::ios::trunc) << junk; }
    EXPECT_EQ(FileLock::Acquire(path).status().code(), StatusCode::kUnavailable) << junk;
  }
  { FileLock gone = std::move(a).value(); }
  EXPECT_EQ(FileLock::Acquire(path).status().code(), StatusCode::kUnavailable) << "b still holds it";
  { FileLock gone = std::move(b).value(); }
  EXPECT_TRUE(FileLock::Acquire(path).ok());
}

}  // namespace
}  // namespace acervo
