// End to end: a per-page OCR deadline. With a deadline far too short for any
// page (profile [ocr] page_deadline_s), Tesseract's monitor stops each page's
// recognition; the page is flagged "ocr_deadline", still goes into its PDF
// as an image, and the lot and the batch go on to the end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

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

TEST(OcrDeadlineTest, PathologicalPagesAreFlaggedAndTheLotGoesOn) {
  fs::path root = fs::temp_directory_path() / ("acervo-deadline-e2e-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::path slow = root / "fila" / "1-lento", normal = root / "fila" / "2-normal";
  std::string dense;
  for (int i = 0; i < 40; ++i) dense += "Processo administrativo número " + std::to_string(1000 + i) + " arquivado. ";
  for (const fs::path& lot : {slow, normal}) {
    fs::create_directories(lot);
    for (int k = 1; k <= 2; ++k) {
      synth::PageSpec spec;
      spec.dpi = 200;
      spec.seed = static_cast<uint64_t>(k);
      spec.blocks.push_back({dense, 10});
      Result<synth::SynthPage> page = synth::RenderPage(spec);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      ASSERT_TRUE(synth::WritePages(lot / ("pagina-" + std::to_string(k) + ".png"), {page->image}, 200,
                                    synth::FileFormat::kPng).ok());
    }
  }
  // A millisecond: no page can be recognised in time.
  ASSERT_TRUE(WriteFileAtomic(slow / "profile.toml", std::string_view("[ocr]\npage_deadline_s = 0.001\n")).ok());

  fs::path out = root / "saida";
  testing::ProcessResult run =
      RunProcess({AcervoBinary(), "batch", (root / "fila").string(), "--out", out.string(), "--jobs", "2", "--quiet"});
  EXPECT_EQ(run.exit_code, 0) << "a flagged page is not an error\n" << run.out << run.err;

  json r = json::parse(ReadText((out / "report" / "report.json").string()));
  ASSERT_EQ(r["lots"]["list"].size(), 2u);
  const json& slow_lot = r["lots"]["list"][0]["report"];
  EXPECT_EQ(slow_lot["documents"]["ok"].get<int>(), 2) << slow_lot.dump(2);
  int deadline_flags = 0;
  for (const json& f : slow_lot["flagged"]) deadline_flags += f["flags"].dump().find("ocr_deadline") != std::string::npos;
  EXPECT_EQ(deadline_flags, 2) << slow_lot["flagged"].dump(2);
  for (int k = 1; k <= 2; ++k) {
    fs::path pdf = out / "1-lento" / ("pagina-" + std::to_string(k) + ".pdf");
    ASSERT_TRUE(fs::exists(pdf)) << pdf;
    EXPECT_EQ(testing::PdfaProblems({pdf}), "");  // pages without text are still PDF/A
  }
  // The next lot, with the default deadline, is recognised normally.
  const json& normal_lot = r["lots"]["list"][1]["report"];
  EXPECT_EQ(normal_lot["documents"]["ok"].get<int>(), 2);
  EXPECT_EQ(normal_lot["flagged"].dump().find("ocr_deadline"), std::string::npos);
  std::string text = RunProcess({"pdftotext", (out / "2-normal" / "pagina-1.pdf").string(), "-"}).out;
  EXPECT_NE(text.find("arquivado"), std::string::npos) << text;
  if (!HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
