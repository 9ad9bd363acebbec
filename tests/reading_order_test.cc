// End to end: a generated two-column page of justified Portuguese text with
// known words goes through `acervo run` (OCR and all), and the text that
// `pdftotext` (poppler, reading order without -layout, the way indexers and
// "copy all" extract text) takes from its PDF gives each column whole, in
// order: the left column's lines, then the right column's, each line as
// printed (a justified line's widely spaced words stay one line, and never
// share a line with the other column). One limit: a line whose spaces are
// wider than the gutter between the columns may come out in pieces (still
// in order): an extractor that joined words that far apart would join the
// columns too.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "acervo/synth/synth.h"
#include "support/process.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::ReadText;
using testing::RunProcess;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // Whitespace-normalised (a form feed ends the page).
    std::string norm;
    for (char c : line) {
      if (c == ' ' || c == '\t' || c == '\f' || c == '\r') {
        if (!norm.empty() && norm.back() != ' ') norm += ' ';
      } else {
        norm += c;
      }
    }
    while (!norm.empty() && norm.back() == ' ') norm.pop_back();
    if (!norm.empty()) out.push_back(norm);
  }
  return out;
}

TEST(ReadingOrderTest, PdftotextGivesEachColumnWholeAndJustifiedLinesWhole) {
  const fs::path root = fs::temp_directory_path() / ("acervo-order-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "lot");

  synth::PageSpec spec;
  spec.dpi = 200;
  spec.paper_tint = false;  // clean print: OCR reads it exactly
  spec.noise_sigma = 0;
  spec.blur_sigma = 0;
  spec.specks = 0;
  spec.column_gap_mm = 10;
  const char* paragraphs[] = {
      "O acervo compreende livros de registro, plantas de loteamento, processos de licenciamento, folhas de "
      "pagamento e correspondência oficial, em papel de gramaturas diversas, muitos com manchas de umidade.",
      "A comissão permanente de avaliação de documentos reunir-se-á mensalmente para analisar as propostas "
      "de eliminação, observando o valor histórico, probatório e informativo de cada série documental.",
      "Fica o interessado notificado a apresentar, no prazo de quinze dias úteis, contados do recebimento "
      "desta, os documentos relacionados no parecer técnico, sob pena de arquivamento do pedido.",
      "Encaminhem-se os autos à Procuradoria-Geral do Município para manifestação sobre a regularidade do "
      "procedimento licitatório, com urgência, tendo em vista o vencimento do contrato vigente.",
  };
  spec.blocks.push_back({"RELATÓRIO DO ARQUIVO MUNICIPAL", 14, true, true, 10});
  for (const char* p : paragraphs) {
    synth::TextBlock b{p, 10};
    b.columns = 2;
    b.justified = true;
    b.space_after_pt = 8;
    spec.blocks.push_back(b);
  }
  Result<synth::SynthPage> page = synth::RenderPage(spec);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_TRUE(synth::WritePages(root / "lot" / "page.png", {page->image}, spec.dpi, synth::FileFormat::kPng).ok());

  testing::ProcessResult run =
      RunProcess({AcervoBinary(), "run", (root / "lot").string(), "--out", (root / "out").string(), "--jobs", "1",
                  "--lot-id", "order", "-q"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const fs::path pdf = root / "out" / "order" / "page.pdf";
  ASSERT_TRUE(fs::exists(pdf));
  testing::ProcessResult text = RunProcess({"pdftotext", "-enc", "UTF-8", pdf.string(), "-"});
  ASSERT_EQ(text.exit_code, 0) << text.err;

  // Ground truth lines in reading order: the title, the left column's lines,
  // then the right column's (the generator writes them so).
  const std::vector<std::string> want = Lines(page->text);
  const std::vector<std::string> got = Lines(text.out);
  ASSERT_GE(want.size(), 12u);
  // The widest space of each printed line, against the gutter.
  const double gutter_px = spec.column_gap_mm * spec.dpi / 25.4;
  std::vector<int> widest(want.size(), 0);
  for (size_t i = 1; i < page->words.size(); ++i) {
    const synth::WordBox& a = page->words[i - 1];
    const synth::WordBox& b = page->words[i];
    if (a.line == b.line && b.line < static_cast<int>(widest.size())) {
      widest[b.line] = std::max(widest[b.line], b.box.x - (a.box.x + a.box.width));
    }
  }
  // Every printed line comes out as one extracted line, and in order: a
  // line of the left column never shares a line with the right column's,
  // and a justified line is not cut where its spaces are wide.
  size_t at = 0, found = 0, expected = 0, justified = 0;
  std::string missing;
  for (size_t i = 0; i < want.size(); ++i) {
    if (widest[i] >= gutter_px) continue;
    ++expected;
    justified += widest[i] > spec.dpi / 72.0 * 10 * 0.5;  // spaces over half an em: stretched
    size_t k = at;
    while (k < got.size() && got[k] != want[i]) ++k;
    if (k < got.size()) {
      ++found;
      at = k + 1;
    } else {
      missing += "\n  " + want[i];
    }
  }
  EXPECT_GE(expected, want.size() - 3) << "the page should have few lines spaced wider than its gutter";
  EXPECT_GE(justified, 8u) << "the page should have justified lines with stretched spaces";
  EXPECT_EQ(found, expected) << "lines not found whole and in order:" << missing << "\n--- pdftotext:\n"
                             << text.out;
  // And the whole text is the whole truth: nothing interleaved in between.
  EXPECT_LE(synth::CharacterErrorRate(text.out, page->text), 0.01) << text.out;
  if (!HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
