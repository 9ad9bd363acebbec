// End to end: a lot with damaged files. Each bad file gets a clear error
// naming it and the reason, goes to quarantine with that reason, and the
// good documents still become PDFs that search finds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::ReadText;
using testing::RunProcess;
using json = nlohmann::json;

class CorruptInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("acervo-corrupt-e2e-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(lot_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  void GoodPage(const std::string& name, const std::string& text, synth::FileFormat format) {
    synth::PageSpec spec;
    spec.blocks.push_back({text, 12});
    spec.skew_deg = 1.5;
    Result<synth::SynthPage> page = synth::RenderPage(spec);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_TRUE(synth::WritePages(lot_ / name, {page->image}, spec.dpi, format).ok());
  }
  fs::path root_;
  fs::path lot_ = fs::temp_directory_path() / ("acervo-corrupt-e2e-" + std::to_string(::getpid())) / "lote";
  fs::path out_ = fs::temp_directory_path() / ("acervo-corrupt-e2e-" + std::to_string(::getpid())) / "out";
};

TEST_F(CorruptInputTest, BadFilesAreNamedQuarantinedAndTheRestCompletes) {
  GoodPage("oficio.png", "Ofício circular sobre a pavimentação da avenida Tiradentes.", synth::FileFormat::kPng);
  GoodPage("recibo.tif", "Recibo de pagamento referente ao alvará de funcionamento.", synth::FileFormat::kTiffG4);
  // A PNG cut in half, random bytes named .tif, an empty .jpg.
  std::vector<uint8_t> png = *ReadFile(lot_ / "oficio.png");
  png.resize(png.size() / 2);
  ASSERT_TRUE(WriteFileAtomic(lot_ / "cortado.png", png).ok());
  std::mt19937 rng(3);
  std::vector<uint8_t> noise(4096);
  for (uint8_t& b : noise) b = static_cast<uint8_t>(rng());
  ASSERT_TRUE(WriteFileAtomic(lot_ / "ruido.tif", noise).ok());
  ASSERT_TRUE(WriteFileAtomic(lot_ / "vazio.jpg", std::string_view()).ok());
  std::map<std::string, std::string> before;
  for (const auto& e : fs::directory_iterator(lot_)) before[e.path().string()] = *Sha256OfFile(e.path());

  testing::ProcessResult run = RunProcess({AcervoBinary(), "run", lot_.string(), "--out", out_.string(), "--jobs", "2"});
  EXPECT_EQ(run.exit_code, 1) << "a failed input must give a non-zero exit\n" << run.err;
  struct Bad { std::string file, reason; };
  for (const Bad& b : {Bad{"cortado.png", "truncated PNG"}, Bad{"ruido.tif", "not a TIFF, PNG or JPEG image"},
                       Bad{"vazio.jpg", "empty file"}}) {
    EXPECT_NE(run.err.find(b.file + ": " + b.reason), std::string::npos) << b.file << "\n" << run.err;
    fs::path q = out_ / "lote" / "quarantine" / b.file;
    EXPECT_TRUE(fs::exists(q)) << q;
    EXPECT_NE(ReadText(q.string() + ".reason.txt").find(b.reason), std::string::npos);
    EXPECT_FALSE(fs::exists(out_ / "lote" / (fs::path(b.file).stem().string() + ".pdf")));
  }
  for (const char* good : {"oficio", "recibo"}) {
    fs::path pdf = out_ / "lote" / (std::string(good) + ".pdf");
    ASSERT_TRUE(fs::exists(pdf)) << pdf;
    EXPECT_EQ(testing::PdfaProblems({pdf}), "");
  }
  json hits = json::parse(RunProcess({AcervoBinary(), "search", "--store", (out_ / "acervo.db").string(), "--json",
                                      "pavimentacao"}).out);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["document"], "oficio");
  json report = json::parse(ReadText((out_ / "lote" / "report.json").string()));
  EXPECT_EQ(report["documents"]["ok"].get<int>(), 2);
  EXPECT_EQ(report["documents"]["failed"].get<int>(), 3);
  for (const auto& [path, sha] : before) EXPECT_EQ(*Sha256OfFile(path), sha) << "original modified: " << path;
}

TEST_F(CorruptInputTest, MissingLotFolderIsACleanUsageError) {
  testing::ProcessResult run = RunProcess({AcervoBinary(), "run", (root_ / "nope").string(), "--out", out_.string()});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("nope"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace acervo
