// End to end (issue 3): `acervo run` with `[image] split = true` on a lot
// whose document holds a generated two-page spread (two different known
// texts side by side on a landscape sheet, 300 dpi) and a normal page. The
// spread becomes two PDF pages, left then right, each OCRed on its own; the
// store says which master page and which half each page came from; search
// finds each half's words on its own page; a rerun skips the document; a
// run killed between the two halves resumes without losing or redoing a
// half; with split turned off the document is made again with the spread as
// one page.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>


#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/sqlite_store.h"
#include "acervo/pipeline/journal.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"


namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::RunProcess;
using json = nlohmann::json;

constexpr double kDpi = 300;
const std::string kLeft = "Tiradentes escreveu esta carta na vila de Ouro Preto.";
const std::string kRight = "Jacarandá plantado junto ao rio Paranaguá em março.";
const std::string kNormal = "Quixadá recebeu o ofício sobre a estrada nova.";

// An A5 page holding `text` (generator degradations from `seed`).
cv::Mat A5Page(const std::string& text, uint64_t seed) {
  synth::PageSpec spec;
  spec.dpi = kDpi;
  spec.width_mm = 148;
  spec.height_mm = 210;
  spec.margin_mm = 15;
  spec.seed = seed;
  spec.blocks.push_back({text, 14});
  Result<synth::SynthPage> page = synth::RenderPage(spec);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? page->image : cv::Mat();
}

// `acervo run` with ACERVO_TEST_PAUSE_AT=`pause_at`: returns once the run
// has stopped itself there (true) or ended without reaching it (false).
bool RunUntilPause(const std::vector<std::string>& argv, const std::string& pause_at, const fs::path& log,
                   pid_t* pid_out) {
  const pid_t pid = testing::SpawnWithPause(argv, pause_at, log.string());
  if (pid < 0) return false;
  *pid_out = pid;
  int status = 0;
  if (::waitpid(pid, &status, WUNTRACED) != pid) return false;
  return WIFSTOPPED(status);
}

class SplitSpreadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("acervo-split-e2e-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(lot_);
    cv::Mat left = A5Page(kLeft, 31), right = A5Page(kRight, 32), spread;
    ASSERT_FALSE(left.empty() || right.empty());
    cv::hconcat(left, right, spread);
    left_width_ = left.cols;
    spread_width_ = spread.cols;
    ASSERT_TRUE(synth::WritePages(lot_ / "livro-1.png", {spread}, kDpi, synth::FileFormat::kPng).ok());
    ASSERT_TRUE(
        synth::WritePages(lot_ / "livro-2.png", {A5Page(kNormal, 33)}, kDpi, synth::FileFormat::kPng).ok());
    ASSERT_TRUE(WriteFileAtomic(lot_ / "manifest.csv",
                                std::string("document_id,document_type,title,files\n"
                                            "livro,livro,Livro de cartas,livro-1.png;livro-2.png\n"))
                    .ok());
    SetSplit(true);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  void SetSplit(bool on) {
    ASSERT_TRUE(WriteFileAtomic(lot_ / "profile.toml",
                                std::string("[image]\nsplit = ") + (on ? "true" : "false") + "\n")
                    .ok());
  }
  std::vector<std::string> RunArgs(const fs::path& out) const {
    return {AcervoBinary(), "run", lot_.string(), "--out", out.string(), "--jobs", "2", "--json", "--quiet",
            "--hocr", "--text"};
  }
  // The text pdftotext finds on one page of `pdf`.
  static std::string PdfPageText(const fs::path& pdf, int page) {
    testing::ProcessResult r = RunProcess({"/usr/bin/pdftotext", "-f", std::to_string(page), "-l",
                                           std::to_string(page), pdf.string(), "-"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  static int PdfPages(const fs::path& pdf) {
    testing::ProcessResult r = RunProcess({"/usr/bin/pdfinfo", pdf.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const size_t at = r.out.find("Pages:");
    return at == std::string::npos ? -1 : std::stoi(r.out.substr(at + 6));
  }
  static DocumentRecord StoredLivro(const fs::path& out) {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(out / "acervo.db", {});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return {};
    Result<std::optional<DocumentRecord>> doc = (*store)->GetDocument("lote-livro", "livro");
    EXPECT_TRUE(doc.ok() && doc->has_value());
    return doc.ok() && doc->has_value() ? **doc : DocumentRecord{};
  }
  // The whole split output: three PDF pages in order, the store's pages with
  // their master page and half, and the Preflight verdict.
  void ExpectSplitOutput(const fs::path& out) {
    const fs::path pdf = out / "lote-livro" / "livro.pdf";
    ASSERT_EQ(PdfPages(pdf), 3);
    const std::string p1 = PdfPageText(pdf, 1), p2 = PdfPageText(pdf, 2), p3 = PdfPageText(pdf, 3);
    EXPECT_NE(p1.find("Tiradentes"), std::string::npos) << p1;
    EXPECT_EQ(p1.find("Jacarand"), std::string::npos) << p1;
    EXPECT_NE(p2.find("Jacarand"), std::string::npos) << p2;
    EXPECT_EQ(p2.find("Tiradentes"), std::string::npos) << p2;
    EXPECT_NE(p3.find("Quixad"), std::string::npos) << p3;
    EXPECT_EQ(testing::PdfaProblems({pdf}), "");
    // Side outputs follow the PDF pages: one hOCR file per PDF page, and the
    // text file's pages (form feeds) in the same order.
    const fs::path hocr = out / "lote-livro" / "sidecars" / "livro";
    for (int page = 1; page <= 3; ++page) {
      char name[32];
      std::snprintf(name, sizeof(name), "page-%04d.hocr", page);
      EXPECT_TRUE(fs::exists(hocr / name)) << name;
    }
    EXPECT_FALSE(fs::exists(hocr / "page-0004.hocr"));
    EXPECT_NE(testing::ReadText((hocr / "page-0002.hocr").string()).find("Jacarand"), std::string::npos);
    const std::string text = testing::ReadText((out / "lote-livro" / "livro.txt").string());
    const size_t ff1 = text.find('\f'), ff2 = text.find('\f', ff1 + 1);
    ASSERT_NE(ff2, std::string::npos) << text;
    EXPECT_NE(text.substr(0, ff1).find("Tiradentes"), std::string::npos) << text;
    EXPECT_NE(text.substr(ff1, ff2 - ff1).find("Jacarand"), std::string::npos) << text;
    EXPECT_NE(text.substr(ff2).find("Quixad"), std::string::npos) << text;

    const DocumentRecord doc = StoredLivro(out);
    EXPECT_EQ(doc.page_count, 3);
    ASSERT_EQ(doc.pages.size(), 3u);
    const PageRecord &l = doc.pages[0], &r = doc.pages[1], &n = doc.pages[2];
    EXPECT_EQ(l.number, 1);
    EXPECT_EQ(l.pdf_page, 1);
    EXPECT_EQ(l.master_page, 1);
    EXPECT_EQ(l.part, "left");
    EXPECT_EQ(l.source_path, "livro-1.png");
    EXPECT_EQ(l.master_x, 0);
    EXPECT_EQ(r.number, 2);
    EXPECT_EQ(r.pdf_page, 2);
    EXPECT_EQ(r.master_page, 1);
    EXPECT_EQ(r.part, "right");
    EXPECT_EQ(r.source_path, "livro-1.png");
    EXPECT_EQ(r.master_x, l.master_width);  // the halves tile the spread
    EXPECT_EQ(r.master_x + r.master_width, spread_width_);
    // The gutter is found near the middle (the pages' 15 mm margins meet there).
    EXPECT_NEAR(r.master_x, left_width_, 0.12 * spread_width_);
    EXPECT_EQ(n.number, 3);
    EXPECT_EQ(n.pdf_page, 3);
    EXPECT_EQ(n.master_page, 2);
    EXPECT_EQ(n.part, "whole");
    EXPECT_EQ(n.source_path, "livro-2.png");
    EXPECT_NE(l.text.find("Tiradentes"), std::string::npos) << l.text;
    EXPECT_NE(r.text.find("Jacarand"), std::string::npos) << r.text;
    EXPECT_EQ(l.master_sha256, r.master_sha256);
  }

  fs::path root_;
  fs::path lot_ = fs::temp_directory_path() / ("acervo-split-e2e-" + std::to_string(::getpid())) / "lote-livro";
  int left_width_ = 0;
  int spread_width_ = 0;
};

TEST_F(SplitSpreadTest, SpreadBecomesTwoPagesEverywhereAndRerunsSkipOrResume) {
  // 1. A full run.
  const fs::path out = root_ / "saida";
  testing::ProcessResult run = RunProcess(RunArgs(out));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  json report = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["pages"]["total"], 2);  // master pages
  EXPECT_EQ(report["pages"]["spreads_split"], 1);
  EXPECT_EQ(report["documents"]["list"][0]["pages"], 3);
  ExpectSplitOutput(out);

  // Search finds each half's words on its own PDF page.
  for (const auto& [word, page] : std::vector<std::pair<std::string, int>>{
           {"tiradentes", 1}, {"jacaranda", 2}, {"quixada", 3}}) {
    testing::ProcessResult s = RunProcess(
        {AcervoBinary(), "search", "--store", (out / "acervo.db").string(), "--json", word});
    ASSERT_EQ(s.exit_code, 0) << word << ": " << s.out << s.err;
    const json hits = json::parse(s.out, nullptr, false);
    ASSERT_TRUE(hits.is_array() && hits.size() == 1) << s.out;
    EXPECT_EQ(hits[0]["pages"], json::array({page})) << word;
  }
  // acervo verify: one embedded master hash per master page, not per half.
  testing::ProcessResult verify = RunProcess({AcervoBinary(), "verify", out.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // 2. The same command again: the document is complete, so skipped.
  run = RunProcess(RunArgs(out));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  report = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_TRUE(report["documents"]["list"][0]["skipped"].get<bool>()) << run.out;
  EXPECT_EQ(report["pages"]["processed"], 0);

  // 3. Killed right after the spread's left half was made durable, then
  // rerun: the left half comes from its checkpoint, the right half and the
  // normal page are made once, and the output is the same.
  const fs::path killed = root_ / "saida-morta";
  const fs::path log = root_ / "killed.log";
  std::vector<std::string> args = RunArgs(killed);
  args[6] = "1";  // one worker: nothing else finishes before the kill
  pid_t pid = -1;
  ASSERT_TRUE(RunUntilPause(args, "left-half-done", log, &pid)) << testing::ReadText(log.string());
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  {
    Result<std::unique_ptr<Journal>> j = Journal::Open(killed / "lote-livro" / "journal.jsonl");
    ASSERT_TRUE(j.ok());
    const std::map<JournalPageKey, int> counts = (*j)->PageDoneCounts();
    EXPECT_EQ(counts, (std::map<JournalPageKey, int>{{{"livro", 1, PageOrigin::Part::kLeft}, 1}}));
  }
  run = RunProcess(RunArgs(killed));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  report = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["pages"]["resumed"], 1) << run.out;
  ExpectSplitOutput(killed);
  {
    Result<std::unique_ptr<Journal>> j = Journal::Open(killed / "lote-livro" / "journal.jsonl");
    ASSERT_TRUE(j.ok());
    EXPECT_EQ((*j)->PageDoneCounts(), (std::map<JournalPageKey, int>{{{"livro", 1, PageOrigin::Part::kLeft}, 1},
                                                                     {{"livro", 1, PageOrigin::Part::kRight}, 1},
                                                                     {{"livro", 2, PageOrigin::Part::kWhole}, 1}}));
  }
  EXPECT_FALSE(fs::exists(killed / "lote-livro" / "checkpoints"));

  // 4. Split turned off on the first output: the stored halves no longer
  // match the profile, so the document is made again, the spread one page.
  SetSplit(false);
  run = RunProcess(RunArgs(out));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  report = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_FALSE(report["documents"]["list"][0]["skipped"].get<bool>()) << run.out;
  EXPECT_EQ(report["pages"]["spreads_split"], 0);
  const fs::path pdf = out / "lote-livro" / "livro.pdf";
  ASSERT_EQ(PdfPages(pdf), 2);
  const std::string p1 = PdfPageText(pdf, 1);
  EXPECT_NE(p1.find("Tiradentes"), std::string::npos) << p1;
  EXPECT_NE(p1.find("Jacarand"), std::string::npos) << p1;
  EXPECT_NE(PdfPageText(pdf, 2).find("Quixad"), std::string::npos);
  const DocumentRecord doc = StoredLivro(out);
  ASSERT_EQ(doc.pages.size(), 2u);
  EXPECT_EQ(doc.pages[0].part, "whole");
  EXPECT_EQ(doc.pages[0].master_page, 1);
  EXPECT_EQ(doc.pages[0].master_x, 0);
  EXPECT_EQ(doc.pages[0].master_width, spread_width_);
  EXPECT_EQ(doc.pages[1].master_page, 2);
  EXPECT_EQ(doc.pages[1].part, "whole");
  // Side outputs follow: no hOCR left for a third page that is gone.
  EXPECT_TRUE(fs::exists(out / "lote-livro" / "sidecars" / "livro" / "page-0002.hocr"));
  EXPECT_FALSE(fs::exists(out / "lote-livro" / "sidecars" / "livro" / "page-0003.hocr"));
  EXPECT_EQ(testing::PdfaProblems({pdf}), "");
}


// Issue 14: a page that came from a split spread is replaced (`acervo
// review replace`, the code the web upload runs). A new image that is itself
// a spread is split by the same stage and the matching half taken; a single
// page is taken whole for a half; a spread is refused for a page that was
// whole. The other pages stay, the side outputs follow, a rerun keeps it.
TEST_F(SplitSpreadTest, AReplacedHalfTakesTheMatchingHalfOfANewSpread) {
  const fs::path out = root_ / "saida";
  testing::ProcessResult run = RunProcess(RunArgs(out));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const fs::path pdf = out / "lote-livro" / "livro.pdf";
  const std::string store = (out / "acervo.db").string();
  const std::string kNewLeft = "Mariana guardou o livro de registros antigos.";
  const std::string kNewRight = "Sabará enviou o mapa das minas de ouro.";
  cv::Mat new_spread;
  cv::hconcat(A5Page(kNewLeft, 41), A5Page(kNewRight, 42), new_spread);
  ASSERT_TRUE(synth::WritePages(root_ / "nova-folha.png", {new_spread}, kDpi, synth::FileFormat::kPng).ok());
  ASSERT_TRUE(synth::WritePages(root_ / "avulsa.png", {A5Page("Congonhas mandou o recibo assinado.", 43)}, kDpi,
                                synth::FileFormat::kPng)
                  .ok());
  auto replace = [&](int page, const fs::path& image) {
    return RunProcess({AcervoBinary(), "review", "replace", "--store", store, "lote-livro", "livro", "--page",
                       std::to_string(page), image.string(), "--json"});
  };
  // Page 2, the right half: the right half of the new spread.
  testing::ProcessResult right = replace(2, root_ / "nova-folha.png");
  ASSERT_EQ(right.exit_code, 0) << right.out << right.err;
  std::string p1 = PdfPageText(pdf, 1), p2 = PdfPageText(pdf, 2);
  EXPECT_NE(p2.find("Sabar"), std::string::npos) << p2;
  EXPECT_EQ(p2.find("Mariana"), std::string::npos) << p2;
  EXPECT_NE(p1.find("Tiradentes"), std::string::npos) << p1;
  EXPECT_EQ(PdfPages(pdf), 3);
  const fs::path hocr = out / "lote-livro" / "sidecars" / "livro";
  EXPECT_NE(testing::ReadText((hocr / "page-0002.hocr").string()).find("Sabar"), std::string::npos);
  // Page 1, the left half, from a single page: taken whole.
  testing::ProcessResult left = replace(1, root_ / "avulsa.png");
  ASSERT_EQ(left.exit_code, 0) << left.out << left.err;
  p1 = PdfPageText(pdf, 1);
  EXPECT_NE(p1.find("Congonhas"), std::string::npos) << p1;
  EXPECT_NE(p1.find("assinado"), std::string::npos) << p1;
  EXPECT_NE(PdfPageText(pdf, 2).find("Sabar"), std::string::npos);
  const DocumentRecord doc = StoredLivro(out);
  ASSERT_EQ(doc.pages.size(), 3u);
  EXPECT_EQ(doc.pages[0].part, "left");  // still that half of master page 1, for the run's bookkeeping
  EXPECT_EQ(doc.pages[1].part, "right");
  EXPECT_EQ(doc.pages[0].master_x, 0);
  EXPECT_GT(doc.pages[1].master_x, 0);  // from the new spread's gutter
  // Page 3 was whole: a spread is two pages, refused.
  testing::ProcessResult whole = replace(3, root_ / "nova-folha.png");
  EXPECT_EQ(whole.exit_code, 2) << whole.out << whole.err;
  EXPECT_NE(whole.err.find("two-page spread"), std::string::npos) << whole.err;
  EXPECT_NE(PdfPageText(pdf, 3).find("Quixad"), std::string::npos);
  EXPECT_EQ(testing::PdfaProblems({pdf}), "");
  // A rerun keeps the replacements: nothing processed.
  testing::ProcessResult rerun = RunProcess(RunArgs(out));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(json::parse(rerun.out)["pages"]["processed"], 0) << rerun.out;
  EXPECT_NE(PdfPageText(pdf, 1).find("Congonhas"), std::string::npos);
}

}  // namespace
}  // namespace acervo
