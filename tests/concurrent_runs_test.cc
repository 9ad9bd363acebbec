// End to end (issue 6): two `acervo run` processes write one SQLite store at
// the same time. Lot A is cut by QR separator sheets printed by `acervo
// sheets` (rendered with pdftoppm and degraded like a scan); its profile
// extracts a CPF from the OCR text. Lot B is one document per file. Both
// runs must finish with every document stored (none lost, no "database is
// locked"), separator sheets kept as masters but out of the PDFs, and every
// field value carrying its source.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "acervo/indexer/sqlite_store.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"
#include "support/text_page.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::RunProcess;
using json = nlohmann::json;

constexpr double kDpi = 200;

cv::Mat TextPage(const std::string& text, uint64_t seed) { return testing::TextPage(text, seed, kDpi); }

class ConcurrentRunsTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(root_); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  void Write(const fs::path& path, const cv::Mat& page) {
    fs::create_directories(path.parent_path());
    ASSERT_TRUE(synth::WritePages(path, {page}, kDpi, synth::FileFormat::kPng).ok()) << path;
  }
  fs::path root_ = fs::temp_directory_path() / ("acervo-concurrent-e2e-" + std::to_string(::getpid()));
};

TEST_F(ConcurrentRunsTest, TwoRunsShareOneStoreAndSeparatorSheetsCutTheLot) {
  // Separator sheets from the CLI, as an operator would print them.
  const fs::path sheets = root_ / "sheets.pdf";
  testing::ProcessResult made =
      RunProcess({AcervoBinary(), "sheets", "-o", sheets.string(), "--type", "certidao", "--field", "nome=Ana Lúcia"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  made = RunProcess({AcervoBinary(), "sheets", "-o", (root_ / "sheets2.pdf").string(), "--type", "oficio"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::vector<cv::Mat> seps;
  int n = 0;
  for (const fs::path& pdf : {sheets, root_ / "sheets2.pdf"}) {
    const fs::path prefix = root_ / ("sep" + std::to_string(n++));
    ASSERT_EQ(RunProcess({"pdftoppm", "-r", "200", "-gray", "-png", "-singlefile", pdf.string(), prefix.string()})
                  .exit_code,
              0);
    synth::ScanLikeSpec spec;
    spec.seed = static_cast<uint64_t>(n);
    Result<cv::Mat> scanned = synth::ScanLike(cv::imread(prefix.string() + ".png", cv::IMREAD_GRAYSCALE), spec);
    ASSERT_TRUE(scanned.ok()) << scanned.status().ToString();
    seps.push_back(*scanned);
  }

  const fs::path lot_a = root_ / "lote-a", lot_b = root_ / "lote-b";
  Write(lot_a / "0001.png", seps[0]);
  Write(lot_a / "0002.png", TextPage("Certidão de nascimento\nRequerente com CPF 529.982.247-25\nnascida em Taubaté.", 1));
  Write(lot_a / "0003.png", seps[1]);
  Write(lot_a / "0004.png", TextPage("Ofício número doze\nEncaminhamos a certidão solicitada.", 2));
  std::ofstream(lot_a / "profile.toml") << R"(
[separation]
rule = "barcode"

[[types]]
name = "certidao"
[[types]]
name = "oficio"

[[fields]]
name = "cpf"
type = "cpf"
extract = 'CPF\s*([0-9.\-]{11,14})'

[[fields]]
name = "nome"
required = true
)";
  Write(lot_b / "carta.png", TextPage("Carta de apresentação do arquivo municipal.", 3));
  Write(lot_b / "recibo.png", TextPage("Recibo de entrega das caixas de processos.", 4));

  const fs::path store = root_ / "shared" / "acervo.db";
  fs::create_directories(store.parent_path());  // a store never creates folders (issue 12)
  testing::ProcessResult ra, rb;
  std::thread ta([&] {
    ra = RunProcess({AcervoBinary(), "run", lot_a.string(), "--out", (root_ / "out-a").string(), "--store",
                     store.string(), "--jobs", "1", "--quiet", "--json"});
  });
  std::thread tb([&] {
    rb = RunProcess({AcervoBinary(), "run", lot_b.string(), "--out", (root_ / "out-b").string(), "--store",
                     store.string(), "--jobs", "1", "--quiet", "--json"});
  });
  ta.join();
  tb.join();
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(ra.err.find("locked"), std::string::npos) << ra.err;
  EXPECT_EQ(rb.err.find("locked"), std::string::npos) << rb.err;

  Result<std::unique_ptr<Store>> opened = OpenSqliteStore(store);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& s = **opened;
  Result<StoreStats> stats = s.Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->lots, 2);
  EXPECT_EQ(stats->documents, 4);

  // The lot row records the whole profile (separation, types, sources,
  // extraction rules), so an archivist can see how the lot was cut and indexed.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(store.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT profile_json FROM lots WHERE id = 'lote-a'", -1, &st, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    const nlohmann::json profile =
        nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), nullptr, false);
    sqlite3_finalize(st);
    sqlite3_close(db);
    ASSERT_TRUE(profile.is_object());
    EXPECT_EQ(profile["separation"]["rule"], "barcode");
    EXPECT_EQ(profile["separation"]["prefix"], "ACERVO");
    ASSERT_EQ(profile["types"].size(), 2u);
    EXPECT_EQ(profile["types"][1]["name"], "oficio");
    EXPECT_EQ(profile["metadata"]["sources"], nlohmann::json({"manifest", "separator", "ocr"}));
    ASSERT_EQ(profile["fields"].size(), 2u);
    EXPECT_EQ(profile["fields"][0]["extract"], "CPF\\s*([0-9.\\-]{11,14})");
    EXPECT_EQ(profile["pdf"]["pdfa"], "1b");
  }

  std::vector<fs::path> pdfs = testing::PdfsIn(root_ / "out-a");
  for (const fs::path& p : testing::PdfsIn(root_ / "out-b")) pdfs.push_back(p);
  EXPECT_EQ(pdfs.size(), 4u);
  EXPECT_EQ(testing::PdfaProblems(pdfs), "");

  Result<std::vector<DocumentRecord>> docs = s.ListDocuments("lote-a");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  const DocumentRecord& cert = (*docs)[0];
  const DocumentRecord& oficio = (*docs)[1];
  EXPECT_EQ(cert.document_type, "certidao");
  EXPECT_EQ(oficio.document_type, "oficio");
  // Separator sheets are masters, not PDF pages.
  EXPECT_EQ(cert.page_count, 1);
  EXPECT_EQ(oficio.page_count, 1);
  EXPECT_TRUE(fs::exists(root_ / "out-a" / "lote-a" / "masters" / "0001.png"));
  const std::string pdfinfo = RunProcess({"pdfinfo", ResolveStoredPath(root_ / "out-a", cert.pdf_path).string()}).out;
  const size_t at = pdfinfo.find("Pages:");
  ASSERT_NE(at, std::string::npos) << pdfinfo;
  EXPECT_EQ(std::stoi(pdfinfo.substr(at + 6)), 1) << pdfinfo;
  std::map<std::string, FieldRecord> fields;
  for (const FieldRecord& f : cert.fields) fields[f.name] = f;
  ASSERT_TRUE(fields.count("nome"));
  EXPECT_EQ(fields["nome"].value, "Ana Lúcia");
  EXPECT_EQ(fields["nome"].source, "separator 0001.png");
  ASSERT_TRUE(fields.count("cpf")) << "CPF not extracted from the OCR text";
  EXPECT_EQ(fields["cpf"].value, "529.982.247-25");
  EXPECT_EQ(fields["cpf"].source, "ocr page 1");
  EXPECT_TRUE(std::find(cert.flags.begin(), cert.flags.end(), "needs_review") == cert.flags.end());
  // The ofício has no `nome`: flagged for review, stored all the same.
  EXPECT_NE(std::find(oficio.flags.begin(), oficio.flags.end(), "missing_field:nome"), oficio.flags.end());

  json hits = json::parse(
      RunProcess({AcervoBinary(), "search", "--store", store.string(), "--json", "--field", "cpf=529.982.247-25"}).out);
  ASSERT_EQ(hits.size(), 1u) << hits.dump();
  EXPECT_EQ(json::parse(RunProcess({AcervoBinary(), "search", "--store", store.string(), "--json", "recibo"}).out).size(),
            1u);
}

}  // namespace
}  // namespace acervo
