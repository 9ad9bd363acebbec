// Issue 14, end to end through the binary, on SQLite and on a real
// PostgreSQL: one truth about what needs a person (the run summary,
// report.json, `acervo review list` and the store agree, reason by reason),
// invalid values kept out of the PDF metadata, no stale "missing field"
// warning once OCR filled it, corrections without OCR (review set, and a
// corrected manifest on a rerun) that keep the PDF/A valid and `verify`
// green, accept, re-scan requests, flag: in the query language, history,
// withdrawal; and the morning report of a batch, in headless Chromium.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "acervo/synth/synth.h"
#include "postgres_test_server.h"
#include "support/pdfa.h"
#include "support/process.h"
#include "support/text_page.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::ProcessResult;
using testing::ReadText;
using testing::RunProcess;
using json = nlohmann::json;

constexpr double kDpi = 200;

const char* kProfile = R"(
[lot]
project = "Arquivo Municipal"

[[types]]
name = "certidao"
[[types]]
name = "oficio"

[[fields]]
name = "cpf"
type = "cpf"
required = true
types = ["certidao"]
extract = 'CPF\s*([0-9.\-]{11,14})'

[[fields]]
name = "data"
type = "date"

[[fields]]
name = "processo"
required = true
types = ["oficio"]
)";

// certidao-a: an invalid CPF and an impossible date; certidao-b: no CPF in
// the manifest, but OCR reads a valid one; oficio-c: its required processo
// is missing.
const char* kManifest =
    "document_id,document_type,title,cpf,data,processo,files\n"
    "certidao-a,certidao,Certidão A,123.456.789-00,31/02/2021,,a.png\n"
    "certidao-b,certidao,Certidão B,,,,b.png\n"
    "oficio-c,oficio,Ofício C,,10/03/2021,,c.png\n";

class ReviewLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::remove_all(root_);
    fs::create_directories(lot_);
    Write(lot_ / "a.png", "Certidão de casamento lavrada no cartório do primeiro ofício.", 1);
    Write(lot_ / "b.png", "Certidão de nascimento\nRequerente CPF 529.982.247-25\nnascida em Taubaté.", 2);
    Write(lot_ / "c.png", "Ofício número doze\nEncaminhamos a certidão solicitada pela secretaria.", 3);
    std::ofstream(lot_ / "profile.toml") << kProfile;
    std::ofstream(lot_ / "manifest.csv") << kManifest;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  void Write(const fs::path& path, const std::string& text, uint64_t seed) {
    ASSERT_TRUE(synth::WritePages(path, {testing::TextPage(text, seed, kDpi)}, kDpi, synth::FileFormat::kPng).ok());
  }
  ProcessResult Acervo(std::vector<std::string> args) {
    args.insert(args.begin(), AcervoBinary());
    return RunProcess(args);
  }
  json ReviewList(const std::string& store, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"review", "list", "--store", store, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    ProcessResult r = Acervo(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  std::vector<std::string> SearchIds(const std::string& store, const std::vector<std::string>& query) {
    std::vector<std::string> args = {"search", "--store", store, "--json"};
    args.insert(args.end(), query.begin(), query.end());
    ProcessResult r = Acervo(args);
    json hits = json::parse(r.out, nullptr, false);
    std::vector<std::string> ids;
    if (hits.is_array()) {
      for (const json& h : hits) ids.push_back(h["document"]);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  // The custom and standard Info keys of a PDF, as pdfinfo prints them.
  std::string PdfInfo(const fs::path& pdf) { return RunProcess({"pdfinfo", "-custom", pdf.string()}).out; }

  void RunLoop(const std::string& store);

  fs::path root_ = fs::temp_directory_path() / ("acervo-review-e2e-" + std::to_string(::getpid()));
  fs::path lot_ = root_ / "lote-revisao";
};

void ReviewLoopTest::RunLoop(const std::string& store) {
  const fs::path out = root_ / "saida";
  ProcessResult run = Acervo({"run", lot_.string(), "--out", out.string(), "--store", store, "--jobs", "2", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  // No stale warning: certidao-b's CPF came from OCR.
  EXPECT_EQ(run.err.find("lacks required field"), std::string::npos) << run.err;

  // One truth: the report, the summary and the store say the same.
  const json report = json::parse(ReadText((out / "lote-revisao" / "report.json").string()));
  const json& review = report["review"];
  const std::map<std::string, int> want = {{"invalid_field", 2}, {"missing_field", 1}};
  using Counts = std::map<std::string, int>;
  EXPECT_EQ(review["by_reason"].get<Counts>(), want) << review.dump(2);
  EXPECT_EQ(review["documents"], 2);
  EXPECT_EQ(review["open"], 3);
  std::set<std::string> flags;
  for (const json& i : review["items"]) flags.insert(i["document"].get<std::string>() + " " + i["flag"].get<std::string>());
  EXPECT_EQ(flags, (std::set<std::string>{"certidao-a invalid_field:cpf", "certidao-a invalid_field:data",
                                          "oficio-c missing_field:processo"}));
  EXPECT_NE(run.out.find("To review: 2 documents, 0 pages, 0 input files (3 reasons)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("2  invalid_field"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("1  missing_field"), std::string::npos) << run.out;
  const json listed = ReviewList(store);
  EXPECT_EQ(listed["by_reason"], review["by_reason"]);
  EXPECT_EQ(listed["documents"], review["documents"]);
  EXPECT_EQ(listed["items"].size(), review["items"].size());
  EXPECT_EQ(ReviewList(store, {"--reason", "invalid_field"})["open"], 2);
  EXPECT_EQ(SearchIds(store, {"flag:needs_review"}), (std::vector<std::string>{"certidao-a", "oficio-c"}));
  EXPECT_EQ(SearchIds(store, {"flag:invalid_field:cpf"}), (std::vector<std::string>{"certidao-a"}));

  // The invalid values are not in the PDF as if valid; the valid ones are.
  const fs::path pdf_a = out / "lote-revisao" / "certidao-a.pdf";
  std::string info = PdfInfo(pdf_a);
  EXPECT_EQ(info.find("123.456.789-00"), std::string::npos) << info;
  EXPECT_EQ(info.find("31/02/2021"), std::string::npos) << info;
  const std::string text_before = RunProcess({"pdftotext", pdf_a.string(), "-"}).out;
  // The CPF found by OCR extraction is in certidao-b's PDF metadata from the
  // run on (Info key and the Decreto's values), not only after a correction.
  const std::string info_b = PdfInfo(out / "lote-revisao" / "certidao-b.pdf");
  EXPECT_NE(info_b.find("AcervoField.cpf"), std::string::npos) << info_b;
  EXPECT_NE(info_b.find("529.982.247-25"), std::string::npos) << info_b;

  // review set: an invalid value is refused with the reason, nothing changes.
  ProcessResult refused = Acervo({"review", "set", "--store", store, "lote-revisao", "certidao-a", "cpf=111.111.111-12",
                                  "--user", "maria"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("cpf"), std::string::npos) << refused.err;
  // A correction without the lot folder and without masters: no OCR can run.
  fs::rename(lot_, root_ / "lote-fora");
  fs::rename(out / "lote-revisao" / "masters", root_ / "masters-fora");
  ProcessResult set = Acervo({"review", "set", "--store", store, "lote-revisao", "certidao-a", "cpf=529.982.247-25",
                              "data=28/02/2021", "--user", "maria", "--note", "conferido no original"});
  fs::rename(root_ / "lote-fora", lot_);
  fs::rename(root_ / "masters-fora", out / "lote-revisao" / "masters");
  ASSERT_EQ(set.exit_code, 0) << set.out << set.err;
  info = PdfInfo(pdf_a);
  EXPECT_NE(info.find("529.982.247-25"), std::string::npos) << info;
  EXPECT_NE(info.find("28/02/2021"), std::string::npos) << info;
  EXPECT_EQ(RunProcess({"pdftotext", pdf_a.string(), "-"}).out, text_before);  // same text layer
  EXPECT_EQ(SearchIds(store, {"--field", "cpf=529.982.247-25"}),
            (std::vector<std::string>{"certidao-a", "certidao-b"}));
  EXPECT_EQ(SearchIds(store, {"flag:needs_review"}), (std::vector<std::string>{"oficio-c"}));
  ProcessResult hist = Acervo({"review", "history", "--store", store, "lote-revisao", "certidao-a", "--json"});
  ASSERT_EQ(hist.exit_code, 0) << hist.err;
  const json h = json::parse(hist.out);
  ASSERT_EQ(h.size(), 2u) << h.dump(2);
  EXPECT_EQ(h[0]["field"], "cpf");
  EXPECT_EQ(h[0]["old"], "123.456.789-00");
  EXPECT_EQ(h[0]["new"], "529.982.247-25");
  EXPECT_EQ(h[0]["user"], "maria");
  EXPECT_EQ(h[0]["reason"], "conferido no original");

  // A corrected manifest on a rerun: applied without OCR (no stage runs).
  {
    std::string m = kManifest;
    m = std::regex_replace(m, std::regex("oficio-c,oficio,Ofício C,,10/03/2021,,c.png"),
                           "oficio-c,oficio,Ofício C,,10/03/2021,PROC-2021/77,c.png");
    std::ofstream(lot_ / "manifest.csv") << m;
  }
  ProcessResult rerun =
      Acervo({"run", lot_.string(), "--out", out.string(), "--store", store, "--quiet", "--json"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  const json again = json::parse(rerun.out);
  EXPECT_TRUE(again["stages"].empty()) << again["stages"].dump();
  EXPECT_EQ(again["pages"]["processed"], 0);
  for (const json& d : again["documents"]["list"]) {
    EXPECT_TRUE(d["skipped"].get<bool>()) << d.dump();
    EXPECT_EQ(d["corrected"].get<int>(), d["id"] == "oficio-c" ? 1 : 0) << d.dump();
  }
  EXPECT_EQ(again["review"]["open"], 0) << again["review"].dump(2);
  EXPECT_NE(PdfInfo(out / "lote-revisao" / "oficio-c.pdf").find("PROC-2021/77"), std::string::npos);
  EXPECT_EQ(SearchIds(store, {"flag:needs_review"}), std::vector<std::string>{});

  // Re-scan request and accept.
  ProcessResult rescan =
      Acervo({"review", "rescan", "--store", store, "lote-revisao", "certidao-b", "--page", "1", "--note", "borrada"});
  ASSERT_EQ(rescan.exit_code, 0) << rescan.err;
  EXPECT_EQ(SearchIds(store, {"flag:rescan"}), std::vector<std::string>{"certidao-b"});
  EXPECT_EQ(ReviewList(store)["by_reason"]["rescan"], 1);
  ProcessResult accept = Acervo({"review", "accept", "--store", store, "lote-revisao", "certidao-b", "--page", "1"});
  ASSERT_EQ(accept.exit_code, 0) << accept.err;
  EXPECT_EQ(ReviewList(store)["open"], 0);

  // The PDFs are still PDF/A and the output verifies.
  EXPECT_EQ(testing::PdfaProblems(testing::PdfsIn(out / "lote-revisao")), "");
  ProcessResult verify = Acervo({"verify", out.string(), "--store", store});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // Withdraw: out of search, files kept, verify still checks them.
  ProcessResult no_reason = Acervo({"withdraw", "--store", store, "lote-revisao", "oficio-c"});
  EXPECT_EQ(no_reason.exit_code, 2);
  ProcessResult withdraw =
      Acervo({"withdraw", "--store", store, "lote-revisao", "oficio-c", "--reason", "duplicado do lote 12"});
  ASSERT_EQ(withdraw.exit_code, 0) << withdraw.err;
  EXPECT_EQ(SearchIds(store, {"encaminhamos"}), std::vector<std::string>{});
  EXPECT_TRUE(fs::exists(out / "lote-revisao" / "oficio-c.pdf"));
  verify = Acervo({"verify", out.string(), "--store", store, "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(json::parse(verify.out, nullptr, false).value("withdrawn", 0), 1) << verify.out;
  ProcessResult set_withdrawn =
      Acervo({"review", "set", "--store", store, "lote-revisao", "oficio-c", "processo=X", "--user", "maria"});
  EXPECT_NE(set_withdrawn.exit_code, 0);
}

TEST_F(ReviewLoopTest, SqliteStore) { RunLoop((root_ / "acervo.db").string()); }

TEST_F(ReviewLoopTest, PostgresStore) {
  PostgresTestServer server;
  Status started = server.Start();
  if (!started.ok()) GTEST_SKIP() << "PostgreSQL cannot run here: " << started.ToString();
  Result<std::string> conninfo = server.CreateDatabase("acervo_review");
  ASSERT_TRUE(conninfo.ok()) << conninfo.status().ToString();
  RunLoop(*conninfo);
}

}  // namespace
}  // namespace acervo
