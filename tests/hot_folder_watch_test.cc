// Scenario: a scan-to-folder device drops a lot folder and a single page
// file into a hot folder while `acervo watch --once` runs from time to time.
//  - the lot folder, complete and settled, becomes PDFs and store rows;
//  - the single file, still being written (open for writing, growing), is
//    left alone until it is complete, then processed;
//  - a restart processes nothing twice; nothing in the hot folder is moved.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

cv::Mat Page(const std::string& text, uint64_t seed) {
  synth::PageSpec spec;
  spec.dpi = 200;
  spec.width_mm = 148;
  spec.height_mm = 105;
  spec.margin_mm = 12;
  spec.noise_sigma = 2;
  spec.specks = 0;
  spec.seed = seed;
  spec.blocks.push_back({text, 16});
  Result<synth::SynthPage> p = synth::RenderPage(spec);
  return p.ok() ? p->image : cv::Mat();
}

int CountLines(const fs::path& p) {
  std::ifstream in(p);
  int n = 0;
  std::string line;
  while (std::getline(in, line)) n += !line.empty();
  return n;
}

TEST(HotFolderWatchTest, CompleteItemsOnceAndNeverHalfWrittenOnes) {
  fs::path root = fs::temp_directory_path() / ("acervo-watch-e2e-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path in = root / "in", out = root / "out";
  fs::create_directories(in / "lote-a");
  ASSERT_TRUE(synth::WritePages(in / "lote-a" / "oficio.tif", {Page("Oficio circular sobre zabumbeiro", 1)}, 200,
                                synth::FileFormat::kTiffLzw).ok());
  ASSERT_TRUE(synth::WritePages(in / "lote-a" / "parecer.tif", {Page("Parecer tecnico do xilografo", 2)}, 200,
                                synth::FileFormat::kTiffLzw).ok());
  // The single page, prepared aside and then written slowly into the folder.
  ASSERT_TRUE(synth::WritePages(root / "avulso.tif", {Page("Requerimento do quilombola", 3)}, 200,
                                synth::FileFormat::kTiffLzw).ok());
  std::vector<uint8_t> bytes = *ReadFile(root / "avulso.tif");
  std::ofstream slow(in / "avulso.tif", std::ios::binary);
  slow.write(reinterpret_cast<const char*>(bytes.data()), 100);
  slow.flush();
  std::atomic<bool> keep_writing{true};
  size_t pos = 100;  // bytes written so far
  std::thread writer([&] {
    while (keep_writing.load() && pos < bytes.size() / 2) {
      size_t n = std::min<size_t>(64, bytes.size() / 2 - pos);
      slow.write(reinterpret_cast<const char*>(bytes.data() + pos), static_cast<std::streamsize>(n));
      slow.flush();
      pos += n;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));  // the lot folder settles

  const std::vector<std::string> watch = {testing::AcervoBinary(), "watch", in.string(), "--out", out.string(),
                                          "--once", "--settle", "1", "--jobs", "2"};
  testing::ProcessResult first = testing::RunProcess(watch);
  keep_writing = false;
  writer.join();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("lote-a\tok"), std::string::npos) << first.out << first.err;
  EXPECT_EQ(first.out.find("avulso"), std::string::npos) << "half-written file was taken: " << first.out;
  EXPECT_NE(first.err.find("not yet: avulso.tif"), std::string::npos) << first.err;
  EXPECT_TRUE(fs::exists(out / "lote-a" / "oficio.pdf"));
  EXPECT_TRUE(fs::exists(out / "lote-a" / "parecer.pdf"));
  EXPECT_EQ(testing::PdfaProblems(testing::PdfsIn(out / "lote-a")), "");

  // The writer finishes and closes; after the settle time it is taken.
  slow.write(reinterpret_cast<const char*>(bytes.data() + pos), static_cast<std::streamsize>(bytes.size() - pos));
  slow.close();
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  testing::ProcessResult second = testing::RunProcess(watch);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("avulso.tif\tok"), std::string::npos) << second.out << second.err;
  EXPECT_EQ(second.out.find("lote-a"), std::string::npos) << "processed twice: " << second.out;

  // A restart finds nothing new.
  testing::ProcessResult third = testing::RunProcess(watch);
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(third.out, "");
  EXPECT_EQ(CountLines(out / ".watch-state.jsonl"), 2);

  // Store rows: each document is found by a word only it contains.
  for (const auto& [word, doc] : std::vector<std::pair<std::string, std::string>>{
           {"zabumbeiro", "oficio"}, {"xilografo", "parecer"}, {"quilombola", "avulso"}}) {
    testing::ProcessResult s = testing::RunProcess(
        {testing::AcervoBinary(), "search", "--store", (out / "acervo.db").string(), "--json", word});
    ASSERT_EQ(s.exit_code, 0) << word << ": " << s.err;
    json hits = json::parse(s.out, nullptr, false);
    ASSERT_TRUE(hits.is_array() && !hits.empty()) << s.out;
    EXPECT_EQ(hits[0]["document"], doc) << s.out;
  }
  // Nothing in the hot folder was moved or changed.
  EXPECT_TRUE(fs::exists(in / "lote-a" / "oficio.tif"));
  EXPECT_EQ(*Sha256OfFile(in / "avulso.tif"), Sha256Hex(bytes));
  if (!::testing::Test::HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
