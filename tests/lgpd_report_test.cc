// The LGPD data-subject report (web/lgpd_report.h) and `acervo lgpd
// report`: documents found through the index fields and the OCR text (also
// misread: one digit off, letters for digits, a bare run of digits), the
// accesses to exactly those documents, the searches that named the CPF,
// the request audited; JSON, HTML and a PDF printed by Chromium.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "acervo/indexer/open_store.h"
#include "acervo/indexer/sqlite_store.h"
#include "acervo/web/lgpd_report.h"
#include "postgres_test_server.h"
#include "support/process.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::AcervoBinary;
using testing::RunProcess;

constexpr const char* kCpf = "529.982.247-25";

// The same report from either store: SQLite, or a real PostgreSQL server
// started for the run (Unix socket in a temp folder).
class LgpdReportTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("acervo-lgpd-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "acervo.db").string();
    if (GetParam() == "postgres") {
      // One server for the run, stopped (and its folder removed) at exit.
      static PostgresTestServer server;
      if (!server.running()) {
        Status started = server.Start();
        ASSERT_TRUE(started.ok()) << started.ToString();
      }
      static int n = 0;
      Result<std::string> conninfo = server.CreateDatabase("lgpd" + std::to_string(++n));
      ASSERT_TRUE(conninfo.ok()) << conninfo.status().ToString();
      db_ = *conninfo;
    }
    std::unique_ptr<Store> s = std::move(OpenStore(db_).value());
    LotRecord lot;
    lot.id = "L1";
    lot.project = "Protocolo";
    lot.started_at = "2026-03-01T08:00:00Z";
    ASSERT_TRUE(s->UpsertLot(lot).ok());
    auto doc = [&](const std::string& id, std::vector<std::string> pages, std::vector<FieldRecord> fields) {
      DocumentRecord d;
      d.lot_id = "L1";
      d.document_id = id;
      d.document_type = "requerimento";
      d.title = "Requerimento " + id;
      d.pdf_path = (dir_ / (id + ".pdf")).string();
      d.pdf_sha256 = std::string(64, 'a');
      d.page_count = static_cast<int>(pages.size());
      d.fields = std::move(fields);
      for (size_t i = 0; i < pages.size(); ++i) {
        PageRecord p;
        p.number = p.pdf_page = static_cast<int>(i) + 1;
        p.text = pages[i];
        d.pages.push_back(p);
      }
      ASSERT_TRUE(s->PutDocument(d).ok());
    };
    doc("d1", {"capa", "sem número"}, {{"cpf", kCpf, ""}, {"data", "2019-05-02", ""}});
    doc("d2", {"texto", "Requerente CPF 529.982.247-26 residente"}, {});  // one digit misread
    doc("d3", {"CPF 529.98Z.247-2S"}, {});                                 // letters for digits
    doc("d4", {"inscrito sob o número 52998224735 nesta"}, {});            // bare, one digit off
    doc("d5", {"CPF 111.444.777-35, outro titular"}, {{"cpf", "111.444.777-35", ""}});
    doc("d10", {"nada"}, {});
    ASSERT_TRUE(s->Access()
                    .AppendAudit({{"", "ana", "10.0.0.5", "view_document", "L1/d1/1", ""},
                                  {"", "beto", "10.0.0.6", "download", "L1/d2", "sha"},
                                  {"", "ana", "10.0.0.5", "view_document", "L1/d10/1", ""},  // not d1
                                  {"", "ana", "10.0.0.5", "view_document", "L1/d5/1", ""},
                                  {"", "caio", "10.0.0.7", "search", "", "cpf:52998224725"},
                                  {"", "caio", "10.0.0.7", "search", "", "\"529.982.247-25\""}})
                    .ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  std::string db_;
};

TEST_P(LgpdReportTest, FindsFieldsTextAndMisreadsAndTheirAccesses) {
  std::unique_ptr<Store> s = std::move(OpenStore(db_).value());
  Result<web::LgpdReport> r = web::BuildLgpdReport(*s, "52998224725", "admin", "10.0.0.1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->documents_scanned, 6);
  std::vector<std::string> ids;
  for (const web::LgpdDocument& d : r->documents) ids.push_back(d.document);
  EXPECT_EQ(ids, std::vector<std::string>({"d1", "d2", "d3", "d4"}));
  const web::LgpdDocument& d1 = r->documents[0];
  EXPECT_EQ(d1.date, "2019-05-02");
  EXPECT_EQ(d1.type, "requerimento");
  EXPECT_EQ(d1.pages, 2);
  ASSERT_EQ(d1.occurrences.size(), 1u);
  EXPECT_EQ(d1.occurrences[0].where, "field cpf");
  EXPECT_EQ(d1.occurrences[0].match, "exact");
  ASSERT_EQ(d1.accesses.size(), 1u);  // L1/d10/1 is another document
  EXPECT_EQ(d1.accesses[0].entry.user, "ana");
  const web::LgpdDocument& d2 = r->documents[1];
  EXPECT_EQ(d2.pages_with_cpf, std::vector<int>({2}));
  EXPECT_EQ(d2.occurrences[0].match, "one digit differs");
  EXPECT_EQ(d2.date, "2026-03-01 (digitalização)");
  ASSERT_EQ(d2.accesses.size(), 1u);
  EXPECT_EQ(d2.accesses[0].entry.action, "download");
  EXPECT_EQ(r->documents[2].occurrences[0].match, "OCR look-alikes");
  EXPECT_EQ(r->documents[3].occurrences[0].read, "52998224735");
  ASSERT_EQ(r->searches.size(), 2u);
  EXPECT_EQ(r->searches[0].entry.user, "caio");
  // The request itself is on record.
  AuditFilter f;
  f.action = "lgpd_report";
  std::vector<AuditRow> rows = s->Access().ListAudit(f).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].entry.user, "admin");
  EXPECT_EQ(rows[0].entry.target, kCpf);
  // Not a CPF: refused, nothing audited.
  EXPECT_EQ(web::BuildLgpdReport(*s, "529.982.247-26", "admin", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Access().ListAudit(f).value().size(), 1u);
  // HTML escapes what it shows.
  const std::string html = web::LgpdReportHtml(*r);
  EXPECT_NE(html.find("529.982.247-25"), std::string::npos);
  EXPECT_NE(html.find("data-doc=\"L1/d4\""), std::string::npos);
}

TEST_P(LgpdReportTest, TheCommandWritesJsonHtmlAndPdf) {
  testing::ProcessResult run =
      RunProcess({AcervoBinary(), "lgpd", "report", "--store", db_, "--cpf", kCpf, "--format", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json j = json::parse(run.out);
  EXPECT_EQ(j["cpf"], kCpf);
  EXPECT_EQ(j["documents"].size(), 4u);
  EXPECT_EQ(j["documents"][0]["accesses"].size(), 1u);
  EXPECT_EQ(j["requested_by"].get<std::string>().rfind("cli:", 0), 0u);
  const fs::path html = dir_ / "r.html";
  run = RunProcess({AcervoBinary(), "lgpd", "report", "--store", db_, "--cpf", "52998224725", "--out", html.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(testing::ReadText(html.string()).find("<!DOCTYPE html>"), std::string::npos);
  const fs::path pdf = dir_ / "r.pdf";
  run = RunProcess({AcervoBinary(), "lgpd", "report", "--store", db_, "--cpf", kCpf, "--format", "pdf", "--out",
                    pdf.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = RunProcess({"pdftotext", pdf.string(), "-"});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_NE(run.out.find("529.982.247-25"), std::string::npos);
  EXPECT_NE(run.out.find("Requerimento d3"), std::string::npos);
  run = RunProcess({AcervoBinary(), "lgpd", "report", "--store", db_, "--cpf", "123"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("not a CPF"), std::string::npos) << run.err;
  // Every request audited: three that ran, not the refused one.
  std::unique_ptr<Store> s = std::move(OpenStore(db_).value());
  AuditFilter f;
  f.action = "lgpd_report";
  EXPECT_EQ(s->Access().ListAudit(f).value().size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Stores, LgpdReportTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace acervo
