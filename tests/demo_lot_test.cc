// End to end: the bundled demo lot (generated with exact ground truth) through
// `acervo run`, checked from the outside: PDF text against the ground truth,
// search by unique words and by metadata, masters and originals by SHA-256,
// and a second run that finds everything complete.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/sqlite_store.h"
#include "acervo/pipeline/csv.h"
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

struct GtPage {
  std::string file;
  int page = 1;
  std::string document;
  int page_in_document = 1;
  bool blank = false;
  std::string text;
};

class DemoLotTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(fs::temp_directory_path() / ("acervo-demo-e2e-" + std::to_string(::getpid())));
    fs::remove_all(*root_);
    Status s = synth::GenerateLot(fs::path(ACERVO_SOURCE_DIR) / "samples/demo/demo-lot.toml", Lot());
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (const auto& e : fs::recursive_directory_iterator(Lot())) {
      if (e.is_regular_file()) (*OriginalSha())[e.path().string()] = *Sha256OfFile(e.path());
    }
    *first_run_ = RunProcess({AcervoBinary(), "run", Lot().string(), "--out", Out().string(), "--jobs", "2"});
    std::vector<CsvRow> rows;
    std::istringstream tsv(ReadText((Lot() / "ground-truth/pages.tsv").string()));
    std::string line;
    std::getline(tsv, line);  // header
    while (std::getline(tsv, line)) {
      std::vector<std::string> c;
      std::stringstream ls(line);
      std::string cell;
      while (std::getline(ls, cell, '\t')) c.push_back(cell);
      ASSERT_GE(c.size(), 8u) << line;
      GtPage p{c[0], std::stoi(c[1]), c[2], std::stoi(c[3]), c[6] == "true" || c[6] == "1" || c[6] == "yes",
               ReadText((Lot() / "ground-truth" / c[7]).string())};
      gt_->push_back(p);
    }
    // The lot's output folder is the one holding report.json.
    for (const auto& e : fs::directory_iterator(Out())) {
      if (fs::exists(e.path() / "report.json")) {
        json report = json::parse(ReadText((e.path() / "report.json").string()), nullptr, false);
        if (!report.is_discarded()) lot_id_ = new std::string(report["lot"].get<std::string>());
      }
    }
  }
  static void TearDownTestSuite() {
    // Keep the output for inspection when something failed.
    if (::testing::UnitTest::GetInstance()->current_test_suite()->Passed()) fs::remove_all(*root_);
  }
  static fs::path Lot() { return *root_ / "lot"; }
  static fs::path Out() { return *root_ / "out"; }
  static std::string LotId() { return lot_id_ ? *lot_id_ : "(no report.json)"; }
  static std::map<std::string, std::string>* OriginalSha() { return original_sha_; }

  static std::vector<std::string> DocumentIds() {
    std::vector<std::string> ids;
    for (const GtPage& p : *gt_)
      if (std::find(ids.begin(), ids.end(), p.document) == ids.end()) ids.push_back(p.document);
    return ids;
  }
  static json Search(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {AcervoBinary(), "search", "--store", (Out() / "acervo.db").string(), "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    testing::ProcessResult r = RunProcess(argv);
    json j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json::array() : j;
  }

  static inline fs::path* root_ = nullptr;
  static inline std::string* lot_id_ = nullptr;
  static inline std::map<std::string, std::string>* original_sha_ = new std::map<std::string, std::string>();
  static inline testing::ProcessResult* first_run_ = new testing::ProcessResult();
  static inline std::vector<GtPage>* gt_ = new std::vector<GtPage>();
};

TEST_F(DemoLotTest, RunSucceedsAndReportsEveryPage) {
  ASSERT_EQ(first_run_->exit_code, 0) << first_run_->out << first_run_->err;
  EXPECT_NE(first_run_->err.find("pages/min"), std::string::npos) << "progress on stderr";
  json report = json::parse(ReadText((Out() / LotId() / "report.json").string()));
  int blanks = static_cast<int>(std::count_if(gt_->begin(), gt_->end(), [](const GtPage& p) { return p.blank; }));
  EXPECT_GE(gt_->size(), 12u);
  EXPECT_EQ(report["pages"]["processed"].get<int>(), static_cast<int>(gt_->size()));
  EXPECT_EQ(report["pages"]["blank"].get<int>(), blanks);
  EXPECT_EQ(report["pages"]["failed"].get<int>(), 0);
  EXPECT_EQ(report["documents"]["ok"].get<int>(), static_cast<int>(DocumentIds().size()));
  EXPECT_GE(DocumentIds().size(), 3u);
}

TEST_F(DemoLotTest, PdfTextMatchesGroundTruth) {
  size_t truth_chars = 0;
  double errors = 0;
  for (const std::string& doc : DocumentIds()) {
    fs::path pdf = Out() / LotId() / (doc + ".pdf");
    ASSERT_TRUE(fs::exists(pdf)) << pdf;
    int pdf_page = 0;
    for (const GtPage& p : *gt_) {
      if (p.document != doc || p.blank) continue;
      ++pdf_page;
      testing::ProcessResult r = RunProcess({"pdftotext", "-f", std::to_string(pdf_page), "-l",
                                             std::to_string(pdf_page), pdf.string(), "-"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      double cer = synth::CharacterErrorRate(r.out, p.text);
      EXPECT_LT(cer, 0.10) << doc << " page " << pdf_page << " (" << p.file << ")\n--- got:\n" << r.out
                           << "\n--- want:\n" << p.text;
      truth_chars += p.text.size();
      errors += cer * p.text.size();
    }
    testing::ProcessResult info = RunProcess({"pdfinfo", pdf.string()});
    size_t at = info.out.find("\nPages:");
    ASSERT_NE(at, std::string::npos) << info.out;
    EXPECT_EQ(std::atoi(info.out.c_str() + at + 7), pdf_page)
        << doc << ": blank pages must be left out of the PDF\n" << info.out;
  }
  ASSERT_GT(truth_chars, 0u);
  double cer = errors / truth_chars;
  RecordProperty("cer", std::to_string(cer));
  std::printf("demo lot CER: %.4f\n", cer);
  EXPECT_LE(cer, 0.03);
}

TEST_F(DemoLotTest, EveryDocumentIsFoundByAWordUniqueToIt) {
  // Words (6+ letters) of each document's ground truth that no other document has.
  std::map<std::string, std::set<std::string>> docs_of_word;
  for (const GtPage& p : *gt_) {
    std::string word;
    for (char c : p.text + " ") {
      unsigned char u = static_cast<unsigned char>(c);
      if (std::isalpha(u) || u >= 0x80) {
        word += c;
      } else {
        if (word.size() >= 6 && std::all_of(word.begin(), word.end(), [](char ch) { return std::islower(static_cast<unsigned char>(ch)); }))
          docs_of_word[word].insert(p.document);
        word.clear();
      }
    }
  }
  for (const std::string& doc : DocumentIds()) {
    std::vector<std::string> unique;
    for (const auto& [w, docs] : docs_of_word)
      if (docs.size() == 1 && *docs.begin() == doc) unique.push_back(w);
    ASSERT_FALSE(unique.empty()) << doc << " has no unique word in its ground truth";
    int found = 0;
    for (size_t i = 0; i < std::min<size_t>(unique.size(), 3); ++i) {
      json hits = Search({unique[i]});
      if (!hits.empty() && hits[0]["document"] == doc) ++found;
      else ADD_FAILURE() << "searching '" << unique[i] << "' should find " << doc << " first; got " << hits.dump();
    }
    EXPECT_GT(found, 0);
  }
}

TEST_F(DemoLotTest, SearchByMetadataFieldAndWithoutAccents) {
  std::vector<CsvRow> rows = *ParseCsv(ReadText((Lot() / "manifest.csv").string()), "manifest.csv");
  ASSERT_GE(rows.size(), 4u);
  const std::vector<std::string>& header = rows[0].fields;
  int checked = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    for (size_t c = 0; c < header.size(); ++c) {
      if (header[c] == "document_id" || header[c] == "document_type" || header[c] == "title" ||
          header[c] == "files" || rows[r].fields[c].empty())
        continue;
      json hits = Search({"--field", header[c] + "=" + rows[r].fields[c]});
      bool found = std::any_of(hits.begin(), hits.end(), [&](const json& h) { return h["document"] == rows[r].fields[0]; });
      EXPECT_TRUE(found) << header[c] << "=" << rows[r].fields[c] << " -> " << hits.dump();
      ++checked;
    }
  }
  EXPECT_GE(checked, 2 * static_cast<int>(rows.size() - 1));
  // "certidao" (no accent, any case) finds the documents whose text says "certidão".
  std::set<std::string> with_certidao;
  for (const GtPage& p : *gt_) {
    std::string lower = p.text;
    if (lower.find("ertidão") != std::string::npos || lower.find("ERTIDÃO") != std::string::npos) with_certidao.insert(p.document);
  }
  ASSERT_FALSE(with_certidao.empty());
  json hits = Search({"CERTIDAO"});
  std::set<std::string> got;
  for (const json& h : hits) got.insert(h["document"].get<std::string>());
  for (const std::string& d : with_certidao) EXPECT_TRUE(got.count(d)) << d;
  for (const json& h : hits) {
    for (const char* key : {"document", "lot", "pdf", "pages", "snippet"}) EXPECT_TRUE(h.contains(key)) << key;
    EXPECT_TRUE(fs::path(h["pdf"].get<std::string>()).is_absolute()) << "search shows a path that does not depend on the cwd";
    EXPECT_TRUE(fs::exists(h["pdf"].get<std::string>()));
  }
}

// Every PDF of the lot is PDF/A-1b for Apache PDFBox Preflight and passes
// qpdf --check (issue 4), and `acervo verify` agrees with the run.
TEST_F(DemoLotTest, EveryPdfIsPdfaAndVerifies) {
  std::vector<fs::path> pdfs = testing::PdfsIn(Out() / LotId());
  EXPECT_EQ(pdfs.size(), DocumentIds().size());
  EXPECT_EQ(testing::PdfaProblems(pdfs), "");
  testing::ProcessResult verify = RunProcess({AcervoBinary(), "verify", Out().string(), "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  json report = json::parse(verify.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << verify.out;
  EXPECT_TRUE(report["ok"].get<bool>());
  EXPECT_EQ(report["documents"].get<int>(), static_cast<int>(DocumentIds().size()));
}

TEST_F(DemoLotTest, MastersAreExactCopiesAndOriginalsAreUntouched) {
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(Out() / "acervo.db", {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<std::vector<DocumentRecord>> docs = (*store)->ListDocuments(LotId());
  ASSERT_TRUE(docs.ok());
  size_t pages = 0;
  for (const DocumentRecord& d : *docs) {
    // Stored paths are relative to the output folder (docs/store.md).
    EXPECT_FALSE(fs::path(d.pdf_path).is_absolute()) << d.pdf_path;
    EXPECT_EQ(*Sha256OfFile(ResolveStoredPath(Out(), d.pdf_path)), d.pdf_sha256);
    for (const PageRecord& p : d.pages) {
      ++pages;
      std::string original = (Lot() / p.source_path).string();
      ASSERT_TRUE(OriginalSha()->count(original)) << original;
      EXPECT_EQ(p.master_sha256, (*OriginalSha())[original]) << p.source_path;
      EXPECT_EQ(*Sha256OfFile(ResolveStoredPath(Out(), p.master_path)), p.master_sha256) << p.master_path;
    }
  }
  EXPECT_EQ(pages, gt_->size());
  for (const auto& [path, sha] : *OriginalSha()) EXPECT_EQ(*Sha256OfFile(path), sha) << path;
  for (const auto& e : fs::recursive_directory_iterator(Out())) {
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << "leftover temp file " << e.path();
  }
}

TEST_F(DemoLotTest, SecondRunFindsEverythingCompleteAndDuplicatesNothing) {
  testing::ProcessResult again = RunProcess({AcervoBinary(), "run", Lot().string(), "--out", Out().string(), "--json", "-q"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  json report = json::parse(again.out);
  EXPECT_EQ(report["documents"]["skipped"].get<int>(), static_cast<int>(DocumentIds().size()));
  EXPECT_EQ(report["pages"]["processed"].get<int>(), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(Out() / "acervo.db", {});
  ASSERT_TRUE(store.ok());
  Result<StoreStats> stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->documents, static_cast<int64_t>(DocumentIds().size()));
  EXPECT_EQ(stats->pages, static_cast<int64_t>(gt_->size()));
}

}  // namespace
}  // namespace acervo
