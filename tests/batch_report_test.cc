// End to end: the morning report of a batch. A lot with pages that must be
// flagged (a blank page removed from its PDF, a page skewed 7°, a page upside
// down) and an unreadable input; the JSON lists them, and the HTML page,
// opened in headless Chromium (Debian `chromium`), renders those rows with
// every thumbnail decoded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "support/process.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::ReadText;
using testing::RunProcess;
using json = nlohmann::json;

class BatchReportTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::remove_all(root_); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  void Write(const std::string& name, const std::string& text, double skew, int orientation, uint64_t seed) {
    synth::PageSpec spec;
    spec.dpi = 200;
    spec.width_mm = 105;
    spec.height_mm = 148;
    spec.margin_mm = 10;
    spec.seed = seed;
    spec.skew_deg = skew;
    spec.orientation_deg = orientation;
    if (!text.empty()) spec.blocks.push_back({text, 12});
    Result<synth::SynthPage> page = synth::RenderPage(spec);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    fs::create_directories(lot_);
    ASSERT_TRUE(synth::WritePages(lot_ / name, {page->image}, 200, synth::FileFormat::kPng).ok());
  }
  fs::path root_ = fs::temp_directory_path() / ("acervo-report-e2e-" + std::to_string(::getpid()));
  fs::path lot_ = root_ / "fila" / "lote-manha";
};

TEST_F(BatchReportTest, HtmlReportShowsFlaggedPagesAndQuarantineInChromium) {
  const std::string para =
      "A comissão de arquivo examinou os processos da prefeitura e registrou em ata as decisões sobre "
      "a guarda permanente dos documentos da praça Tiradentes e do mercado municipal.";
  Write("01-texto.png", para, 0, 0, 1);
  Write("02-branca.png", "", 0, 0, 2);
  Write("03-torta.png", para, 7, 0, 3);
  Write("04-invertida.png", para, 0, 180, 4);
  ASSERT_TRUE(WriteFileAtomic(lot_ / "05-ruido.png", std::string_view("isto não é uma imagem")).ok());
  ASSERT_TRUE(WriteFileAtomic(lot_ / "manifest.csv",
                              std::string_view("document_id,document_type,title,files\n"
                                               "ata,ata,Ata da comissão,01-texto.png;02-branca.png\n"
                                               "torta,oficio,Ofício torto,03-torta.png\n"
                                               "invertida,oficio,Ofício invertido,04-invertida.png\n"))
                  .ok());

  const fs::path out = root_ / "saida", report_dir = root_ / "relatorio";
  testing::ProcessResult run = RunProcess({AcervoBinary(), "batch", (root_ / "fila").string(), "--out", out.string(),
                                           "--jobs", "2", "--quiet", "--report", report_dir.string()});
  EXPECT_EQ(run.exit_code, 1) << "an unreadable input is an error\n" << run.out << run.err;

  json r = json::parse(ReadText((report_dir / "report.json").string()));
  ASSERT_EQ(r["lots"]["list"].size(), 1u);
  const json& lot = r["lots"]["list"][0]["report"];
  EXPECT_EQ(r["documents"]["ok"].get<int>(), 3) << r.dump(2);
  EXPECT_EQ(r["pages"]["blank"].get<int>(), 1);
  EXPECT_GT(r["pages_per_minute"].get<double>(), 0);
  for (const char* stage : {"orientation", "deskew", "blank", "ocr", "encode"}) {
    EXPECT_GT(r["stages"][stage]["runs"].get<int>(), 0) << stage;
  }
  std::map<std::string, std::string> flag_of = {{"02-branca.png", "blank"},
                                                {"03-torta.png", "big_skew"},
                                                {"04-invertida.png", "orientation_fixed"}};
  for (const auto& [file, flag] : flag_of) {
    bool found = false;
    for (const json& f : lot["flagged"]) {
      if (f["file"] == file) {
        found = true;
        EXPECT_NE(f["flags"].dump().find(flag), std::string::npos) << file << ": " << f.dump();
        EXPECT_TRUE(fs::exists(f["thumbnail"].get<std::string>())) << f.dump();
      }
    }
    EXPECT_TRUE(found) << file << " not flagged\n" << lot["flagged"].dump(2);
  }
  ASSERT_EQ(lot["quarantined"].size(), 1u);
  EXPECT_EQ(lot["quarantined"][0]["file"], "05-ruido.png");
  EXPECT_NE(r["errors"].dump().find("05-ruido.png"), std::string::npos);

  // Render in headless Chromium and read back the DOM after scripts ran.
  fs::path profile = root_ / "chromium-profile";
  testing::ProcessResult dom = RunProcess(
      {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--user-data-dir=" + profile.string(), "--virtual-time-budget=5000", "--dump-dom",
       "file://" + (report_dir / "report.html").string()});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  const std::string& html = dom.out;
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t p = html.find(needle); p != std::string::npos; p = html.find(needle, p + 1)) ++n;
    return n;
  };
  EXPECT_GE(count("<tr class=\"flagged\">"), 3u) << html.substr(0, 2000);
  EXPECT_EQ(count("<tr class=\"quarantined\">"), 1u);
  EXPECT_EQ(count("<tr class=\"lot\""), 1u);
  for (const auto& [file, flag] : flag_of) {
    EXPECT_NE(html.find(file), std::string::npos) << file;
    EXPECT_NE(html.find("data-flag=\"" + flag + "\""), std::string::npos) << flag;
  }
  EXPECT_NE(html.find("05-ruido.png"), std::string::npos);
  // Issue 14: the review section comes first and holds every lot's open
  // items, counted once: the same numbers in the report's JSON, each lot's
  // report and the HTML rows.
  const json& rv = r["review"];
  int open = 0;
  for (const json& l : r["lots"]["list"]) open += l["report"]["review"]["open"].get<int>();
  EXPECT_EQ(rv["open"].get<int>(), open) << rv.dump(2);
  EXPECT_EQ(rv["by_reason"].value("quarantined", 0), 1) << rv.dump(2);
  EXPECT_GE(rv["by_reason"].value("orientation_changed", 0), 1) << rv.dump(2);
  EXPECT_EQ(count("<tr class=\"review-item\""), static_cast<size_t>(open));
  EXPECT_LT(html.find("id=\"to-review\""), html.find("id=\"totals\""));
  // Issue 14: people read labels in Portuguese; the skewed page says it was corrected.
  EXPECT_NE(html.find("Inclinação grande — corrigida"), std::string::npos);
  EXPECT_NE(html.find("Orientação corrigida"), std::string::npos);
  EXPECT_NE(html.find("Documentos para revisar"), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex("data-images=\"(\\d+)\" data-images-loaded=\"(\\d+)\"")))
      << "the page script did not run\n" << html.substr(0, 3000);
  EXPECT_GE(std::stoi(m[1]), 3);
  EXPECT_EQ(m[1], m[2]) << "some thumbnails did not decode";
}

}  // namespace
}  // namespace acervo
