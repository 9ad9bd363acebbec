// Issue 14, item 5, end to end through the binary, on SQLite and on a real
// PostgreSQL: a page marked for re-scan is replaced — from an image file
// (`acervo review replace`) and from one sheet of SANE's `test` scanner
// (`acervo scan --replace`) — through the lot's stage chain, while the
// document's other pages are copied as they are (no stage runs for them:
// the stage counts are those of one page, their text and images unchanged).
// The old master stays, the new one gets a new name, the PDF stays PDF/A
// (PDFBox Preflight), `acervo verify` checks both masters, search finds the
// new text and not the old, the rescan item clears, the replacement is in
// the history and a rerun of the lot keeps it. Refusals exit 2 naming the
// reason. The document's hOCR/ALTO/text side outputs follow the new page
// (also when a blank page, left out of the PDF, is replaced by one with
// text: the later pages' files are renumbered), and the morning report
// (a rerun's report.json, `acervo batch` running and skipping the lot)
// shows the replaced page marked, with the new page's thumbnail.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"
#include "support/replace_lot.h"
#include "support/sane_config.h"
#include "support/text_page.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::ProcessResult;
using testing::RunProcess;
using testing::SearchIds;
using json = nlohmann::json;

// Before any libsane call of this process or its children.
const fs::path kSaneConfig = testing::UseSaneTestConfig();

// Small pages (A6, 200 dpi): the profile asks for at least 200 dpi.
const char* kProfile = R"(
[lot]
project = "Arquivo Municipal"

[image]
min_dpi = 200

[pdf]
hocr = true
alto = true
text = true
)";

class PageReplaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::remove_all(root_);
    fs::create_directories(lot_);
    testing::WriteReplaceFixtures(root_, lot_);
    // A blank page between two pages of text: left out of the PDF, so the
    // third page is the PDF's second.
    testing::WriteSmallTextPages(lot_ / "outro.tif", {"Outro documento do mesmo lote", "", "Pagina final do outro"},
                                 synth::FileFormat::kTiffLzw, 12);
    std::ofstream(lot_ / "profile.toml") << kProfile;
    testing::WriteSmallTextPages(root_ / "meio.png", {"Folha do meio recuperada agora"}, synth::FileFormat::kPng, 16);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  ProcessResult Acervo(std::vector<std::string> args) {
    args.insert(args.begin(), AcervoBinary());
    return RunProcess(args);
  }

  std::string PageText(const fs::path& pdf, int page) {
    return RunProcess({"pdftotext", "-f", std::to_string(page), "-l", std::to_string(page), pdf.string(), "-"}).out;
  }
  // pdfimages -list of one page, without the header and the object numbers.
  std::string PageImages(const fs::path& pdf, int page) {
    const std::string out =
        RunProcess({"pdfimages", "-list", "-f", std::to_string(page), "-l", std::to_string(page), pdf.string()}).out;
    const size_t body = out.find('\n', out.find('\n') + 1) + 1;
    std::string line = out.substr(body);
    return line.substr(0, line.find(" image ") + 60);
  }
  void Loop(const std::string& store);
  void SideOutputsAndReport(const std::string& store);
  fs::path Sidecar(const std::string& doc, int pdf_page, const std::string& ext) {
    char name[32];
    std::snprintf(name, sizeof(name), "page-%04d.%s", pdf_page, ext.c_str());
    return out_ / "lote-rescan" / "sidecars" / doc / name;
  }

  fs::path root_ = fs::temp_directory_path() / ("acervo-replace-e2e-" + std::to_string(::getpid()));
  fs::path lot_ = root_ / "fila" / "lote-rescan";  // a batch queue of one lot
  fs::path out_ = root_ / "saida";
};

void PageReplaceTest::Loop(const std::string& store) {
  ProcessResult run = Acervo({"run", lot_.string(), "--out", out_.string(), "--store", store, "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const fs::path pdf = out_ / "lote-rescan" / "processo.pdf";
  const fs::path old_master = out_ / "lote-rescan" / "masters" / "processo.tif";
  const std::string old_master_sha = *Sha256OfFile(old_master);
  ASSERT_EQ(SearchIds(store, "borrada"), std::vector<std::string>{"processo"});
  const std::string text1 = PageText(pdf, 1), text3 = PageText(pdf, 3);
  const std::string hocr1 = testing::ReadText(Sidecar("processo", 1, "hocr").string());
  ASSERT_NE(testing::ReadText(Sidecar("processo", 2, "hocr").string()).find("borrada"), std::string::npos);
  const std::string images1 = PageImages(pdf, 1), images3 = PageImages(pdf, 3);

  ProcessResult rescan = Acervo({"review", "rescan", "--store", store, "lote-rescan", "processo", "--page", "2",
                                 "--note", "borrada"});
  ASSERT_EQ(rescan.exit_code, 0) << rescan.err;
  ASSERT_EQ(SearchIds(store, "flag:rescan"), std::vector<std::string>{"processo"});

  // Refusals: exit 2, naming the reason; nothing changes.
  const std::string pdf_sha = *Sha256OfFile(pdf);
  struct Refusal {
    std::vector<std::string> args;
    std::string says;
  };
  const std::string nova = (root_ / "nova.png").string();
  const std::vector<Refusal> refusals = {
      {{"lote-x", "processo", "--page", "2", nova}, "no lot lote-x"},
      {{"lote-rescan", "nada", "--page", "2", nova}, "no document nada"},
      {{"lote-rescan", "processo", "--page", "9", nova}, "page 9 not found"},
      {{"lote-rescan", "processo", "--page", "2", (root_ / "quebrada.png").string()}, "cannot read the new image"},
      {{"lote-rescan", "processo", "--page", "2", (root_ / "sumiu.png").string()}, "cannot read the new image"},
      {{"lote-rescan", "processo", "--page", "2", (root_ / "baixa.png").string()}, "150 dpi, below"},
      {{"lote-rescan", "processo", "--page", "2", old_master.string()}, "current master"},
  };
  for (const Refusal& r : refusals) {
    std::vector<std::string> args = {"review", "replace", "--store", store};
    args.insert(args.end(), r.args.begin(), r.args.end());
    ProcessResult refused = Acervo(args);
    EXPECT_EQ(refused.exit_code, 2) << r.says << ": " << refused.out << refused.err;
    EXPECT_NE(refused.err.find(r.says), std::string::npos) << refused.err;
  }
  EXPECT_EQ(*Sha256OfFile(pdf), pdf_sha);

  // The replacement from an image file.
  ProcessResult replaced = Acervo({"review", "replace", "--store", store, "lote-rescan", "processo", "--page", "2", nova,
                                   "--user", "maria", "--note", "folha borrada", "--json"});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.out << replaced.err;
  const json r = json::parse(replaced.out);
  // Only the new page went through the chain: every stage ran once.
  ASSERT_FALSE(r["stages"].empty());
  for (const auto& [stage, runs] : r["stages"].items()) EXPECT_EQ(runs, 1) << stage;
  EXPECT_TRUE(r["stages"].contains("ocr")) << r["stages"].dump();
  EXPECT_EQ(r["pdf"]["pages"], 3);
  EXPECT_EQ(r["old_master"]["sha256"], old_master_sha);
  const fs::path new_master = out_ / r["new_master"]["path"].get<std::string>();
  EXPECT_EQ(*Sha256OfFile(new_master), *Sha256OfFile(root_ / "nova.png"));
  EXPECT_EQ(*Sha256OfFile(old_master), old_master_sha);  // kept as it was
  EXPECT_EQ(r["review"]["open"], 0) << r["review"].dump();
  // The other pages are copied as they were; page 2 is the new one.
  EXPECT_EQ(PageText(pdf, 1), text1);
  EXPECT_EQ(PageText(pdf, 3), text3);
  EXPECT_EQ(PageImages(pdf, 1), images1);
  EXPECT_EQ(PageImages(pdf, 3), images3);
  EXPECT_NE(PageText(pdf, 2).find("substituta"), std::string::npos) << PageText(pdf, 2);
  // Search: the new text, not the old; the rescan flag is gone.
  EXPECT_EQ(SearchIds(store, "substituta"), std::vector<std::string>{"processo"});
  EXPECT_EQ(SearchIds(store, "borrada"), std::vector<std::string>{});
  EXPECT_EQ(SearchIds(store, "flag:rescan"), std::vector<std::string>{});
  ProcessResult hist = Acervo({"review", "history", "--store", store, "lote-rescan", "processo", "--json"});
  ASSERT_EQ(hist.exit_code, 0) << hist.err;
  const json h = json::parse(hist.out);
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.back()["action"], "replace_page");
  EXPECT_EQ(h.back()["page"], 2);
  EXPECT_EQ(h.back()["user"], "maria");
  EXPECT_EQ(h.back()["old"], old_master_sha);
  EXPECT_EQ(h.back()["new"], r["new_master"]["sha256"]);
  EXPECT_EQ(h.back()["reason"], "folha borrada");
  EXPECT_TRUE(fs::exists(out_ / "lote-rescan" / "previews" / "processo" / "2.jpg"));
  // The side outputs follow: page 2's hOCR and ALTO are the new page's,
  // page 1's as they were; the text file holds the new text, not the old.
  const std::string hocr2 = testing::ReadText(Sidecar("processo", 2, "hocr").string());
  EXPECT_NE(hocr2.find("substituta"), std::string::npos) << hocr2;
  EXPECT_EQ(hocr2.find("borrada"), std::string::npos);
  EXPECT_NE(hocr2.find("id=\"page_2\""), std::string::npos);
  EXPECT_NE(testing::ReadText(Sidecar("processo", 2, "alto.xml").string()).find("substituta"), std::string::npos);
  EXPECT_EQ(testing::ReadText(Sidecar("processo", 1, "hocr").string()), hocr1);
  const std::string txt = testing::ReadText((out_ / "lote-rescan" / "processo.txt").string());
  EXPECT_NE(txt.find("substituta"), std::string::npos) << txt;
  EXPECT_EQ(txt.find("borrada"), std::string::npos) << txt;
  EXPECT_EQ(std::count(txt.begin(), txt.end(), '\f'), 2) << txt;

  // A sheet from the scanner (SANE's test backend) replaces page 3.
  ProcessResult scanned = Acervo({"scan", "--driver", "sane", "--device", "test:0", "--resolution", "200",
                                  "--option", "test-picture=Color pattern", "--replace", "lote-rescan", "processo",
                                  "--page", "3", "--store", store, "--json"});
  ASSERT_EQ(scanned.exit_code, 0) << scanned.out << scanned.err;
  const json s = json::parse(scanned.out);
  for (const auto& [stage, runs] : s["stages"].items()) EXPECT_EQ(runs, 1) << stage;
  EXPECT_EQ(s["page"], 3);
  EXPECT_EQ(PageText(pdf, 1), text1);
  EXPECT_NE(PageText(pdf, 2).find("substituta"), std::string::npos);
  EXPECT_EQ(SearchIds(store, "despacho"), std::vector<std::string>{});
  ProcessResult no_page = Acervo({"scan", "--driver", "sane", "--device", "test:0", "--replace", "lote-rescan",
                                  "processo", "--store", store});
  EXPECT_EQ(no_page.exit_code, 2) << no_page.err;

  // PDF/A still, and the output verifies (both masters of each page).
  EXPECT_EQ(testing::PdfaProblems(testing::PdfsIn(out_ / "lote-rescan")), "");
  ProcessResult verify = Acervo({"verify", out_.string(), "--store", store, "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(json::parse(verify.out, nullptr, false).value("replaced", 0), 2) << verify.out;

  // A rerun of the lot keeps the replacement: nothing is processed. Its
  // report links a review item to the page's place in the PDF (page 3 of
  // "outro" is its PDF's page 2: page 2 is blank).
  ASSERT_EQ(Acervo({"review", "rescan", "--store", store, "lote-rescan", "outro", "--page", "3"}).exit_code, 0);
  const std::string replaced_sha = *Sha256OfFile(pdf);
  ProcessResult rerun = Acervo({"run", lot_.string(), "--out", out_.string(), "--store", store, "--quiet", "--json"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  const json again = json::parse(rerun.out);
  EXPECT_EQ(again["pages"]["processed"], 0) << rerun.out;
  EXPECT_EQ(*Sha256OfFile(pdf), replaced_sha);
  // (SANE's colour test pattern that replaced page 3 of "processo" holds no
  // text: what OCR makes of it may be flagged low_confidence, an item of
  // its own, since Tesseract no longer retries its doubtful lines inverted.)
  json rescans = json::array();
  for (const json& item : again["review"]["items"]) {
    if (item["kind"] == "rescan") rescans.push_back(item);
  }
  ASSERT_EQ(rescans.size(), 1u) << again["review"].dump();
  EXPECT_EQ(rescans[0]["document"], "outro");
  EXPECT_EQ(rescans[0]["page"], 3);
  EXPECT_EQ(rescans[0]["pdf_page"], 2);
  EXPECT_EQ(PageText(out_ / "lote-rescan" / "outro.pdf", 2).find("final") != std::string::npos, true);

  SideOutputsAndReport(store);

  // A withdrawn document's pages cannot be replaced.
  ASSERT_EQ(Acervo({"withdraw", "--store", store, "lote-rescan", "outro", "--reason", "duplicado"}).exit_code, 0);
  ProcessResult withdrawn = Acervo({"review", "replace", "--store", store, "lote-rescan", "outro", "--page", "1", nova});
  EXPECT_EQ(withdrawn.exit_code, 2) << withdrawn.err;
  EXPECT_NE(withdrawn.err.find("withdrawn"), std::string::npos) << withdrawn.err;
}

// "outro" page 2 is blank (left out of the PDF, flagged, with a report
// thumbnail): replaced by a page with text, it joins the PDF as its page 2
// and page 3's side outputs become the PDF's page 3 files; the morning
// report marks it replaced and shows the new page.
void PageReplaceTest::SideOutputsAndReport(const std::string& store) {
  const fs::path thumb = out_ / "lote-rescan" / "thumbs" / "outro-2.jpg";
  ASSERT_TRUE(fs::exists(thumb));
  const std::string old_thumb = testing::ReadText(thumb.string());
  ASSERT_NE(testing::ReadText(Sidecar("outro", 2, "hocr").string()).find("final"), std::string::npos);
  ProcessResult replaced = Acervo({"review", "replace", "--store", store, "lote-rescan", "outro", "--page", "2",
                                   (root_ / "meio.png").string(), "--json"});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.out << replaced.err;
  EXPECT_EQ(json::parse(replaced.out)["pdf"]["pages"], 3);
  const std::string hocr2 = testing::ReadText(Sidecar("outro", 2, "hocr").string());
  const std::string hocr3 = testing::ReadText(Sidecar("outro", 3, "hocr").string());
  const std::string alto3 = testing::ReadText(Sidecar("outro", 3, "alto.xml").string());
  EXPECT_NE(hocr2.find("recuperada"), std::string::npos) << hocr2;
  EXPECT_NE(hocr3.find("final"), std::string::npos) << hocr3;
  EXPECT_NE(hocr3.find("id=\"page_3\""), std::string::npos) << hocr3;
  EXPECT_NE(hocr3.find("ppageno 2;"), std::string::npos) << hocr3;
  EXPECT_EQ(hocr3.find("_2_"), std::string::npos) << hocr3;
  EXPECT_NE(alto3.find("PHYSICAL_IMG_NR=\"3\""), std::string::npos) << alto3;
  EXPECT_EQ(alto3.find("_2_"), std::string::npos) << alto3;
  EXPECT_EQ(alto3.find("\"page_2\""), std::string::npos) << alto3;
  EXPECT_FALSE(fs::exists(Sidecar("outro", 4, "hocr")));
  const std::string txt = testing::ReadText((out_ / "lote-rescan" / "outro.txt").string());
  EXPECT_EQ(std::count(txt.begin(), txt.end(), '\f'), 2) << txt;
  EXPECT_LT(txt.find("recuperada"), txt.find("final")) << txt;
  // The report's thumbnail is the new page's.
  EXPECT_NE(testing::ReadText(thumb.string()), old_thumb);

  // The morning report: a rerun's report.json, then `acervo batch` running
  // the lot (already complete) and skipping it the second time.
  auto marked = [](const json& flagged) {
    for (const json& f : flagged) {
      if (f["document"] == "outro" && f["page"] == 2) {
        const bool blank = f["flags"].dump().find("blank") != std::string::npos;
        return f.value("replaced", false) && !blank;
      }
    }
    return false;
  };
  // Page 3, not flagged by its run, replaced by a blank sheet: flagged now,
  // so the report lists it and counts it with the others.
  const json run_report = json::parse(testing::ReadText((out_ / "lote-rescan" / "report.json").string()));
  for (const json& f : run_report["flagged"]) {
    ASSERT_FALSE(f["document"] == "outro" && f["page"] == 3) << "its run flagged page 3 already";
  }
  testing::WriteSmallTextPages(root_ / "branca.png", {""}, synth::FileFormat::kPng, 17);
  ProcessResult blanked =
      Acervo({"review", "replace", "--store", store, "lote-rescan", "outro", "--page", "3", (root_ / "branca.png").string()});
  ASSERT_EQ(blanked.exit_code, 0) << blanked.out << blanked.err;
  auto listed_blank = [](const json& report) {
    const json& flagged = report["flagged"];
    EXPECT_EQ(report["pages"]["flagged"], flagged.size()) << "one count: the list's";
    for (const json& f : flagged) {
      if (f["document"] == "outro" && f["page"] == 3) {
        return f.value("replaced", false) && f["flags"].dump().find("blank") != std::string::npos &&
               f.value("thumbnail", "") != "" && fs::exists(f.value("thumbnail", ""));
      }
    }
    return false;
  };
  ProcessResult rerun = Acervo({"run", lot_.string(), "--out", out_.string(), "--store", store, "--quiet", "--json"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_TRUE(marked(json::parse(rerun.out)["flagged"])) << rerun.out;
  EXPECT_TRUE(listed_blank(json::parse(rerun.out))) << rerun.out;
  for (int pass = 0; pass < 2; ++pass) {
    ProcessResult batch = Acervo({"batch", (root_ / "fila").string(), "--out", out_.string(), "--store", store});
    ASSERT_EQ(batch.exit_code, 0) << batch.out << batch.err;
    const json report = json::parse(testing::ReadText((out_ / "report" / "report.json").string()));
    ASSERT_EQ(report["lots"]["list"].size(), 1u);
    EXPECT_TRUE(marked(report["lots"]["list"][0]["report"]["flagged"])) << pass;
    EXPECT_TRUE(listed_blank(report["lots"]["list"][0]["report"])) << pass;
    const std::string html = testing::ReadText((out_ / "report" / "report.html").string());
    EXPECT_NE(html.find("<span class=\"replaced\">substituída</span>"), std::string::npos) << pass;
  }
}

TEST_F(PageReplaceTest, SqliteStore) { Loop((root_ / "acervo.db").string()); }

TEST_F(PageReplaceTest, PostgresStore) {
  testing::OnPostgres("acervo_replace", [this](const std::string& conninfo) { Loop(conninfo); });
}

}  // namespace
}  // namespace acervo
