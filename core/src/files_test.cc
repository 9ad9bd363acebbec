#include "acervo/core/files.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace acervo
