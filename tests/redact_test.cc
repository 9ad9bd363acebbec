// Redacted copies (pipeline/redact.h, `acervo redact`) end to end: a lot
// generated here (its own layout: sans font, 12 pt, wide margins, JPEG
// and G4 scans) is run through `acervo run`; the copy of a document
// has no CPF, CNPJ or named field left in its text (pdftotext), black
// pixels where each redacted word was on the rendered page, passes PDF/A
// Preflight, says what was redacted; the original is unchanged.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/access_store.h"
#include "acervo/indexer/sqlite_store.h"
#include "acervo/pipeline/redact.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::RunProcess;

constexpr const char* kText =
    "PREFEITURA MUNICIPAL\n"
    "REQUERIMENTO DE ALVARÁ\n"
    "Eu, Maria Aparecida Souza, inscrita no CPF sob o nº 529.982.247-25, "
    "representante da Construtora Alfa Ltda, CNPJ 11.444.777/0001-61, requeiro a "
    "expedição de alvará de construção para o imóvel da Rua das Flores, 120.\n"
    "Testemunha: José Pereira, CPF 111.444.777-35.\n"
    "Nestes termos, peço deferimento.\n";

class RedactTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("acervo-redact-test-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    std::ofstream(*dir_ / "texto.txt") << kText;
    std::ofstream(*dir_ / "lot.toml")
        << "[generator]\nseed = 19004\ndpi = 300\nfont = \"DejaVu Sans\"\nfont_size_pt = 12\nmargin_mm = 32\n"
           "[generator.degradation]\nnoise_sigma = 3\nblur_sigma = 0.4\nspecks = 5\npaper_tint = true\n"
           "[lot]\nid = \"tarjas\"\nproject = \"Alvarás\"\n[ocr]\nlanguages = \"por\"\n"
           "[[fields]]\nname = \"cpf\"\ntype = \"cpf\"\n[[fields]]\nname = \"nome\"\ntype = \"text\"\n"
           "[[documents]]\nid = \"req-cor\"\ntype = \"requerimento\"\ntitle = \"Requerimento de alvará\"\n"
           "text = \"texto.txt\"\nformat = \"jpeg\"\nfile = \"req-cor\"\n"
           "fields = { cpf = \"529.982.247-25\", nome = \"Maria Aparecida Souza\" }\npages = [ { skew = 0.7 } ]\n"
           "[[documents]]\nid = \"req-pb\"\ntype = \"requerimento\"\ntitle = \"Requerimento de alvará\"\n"
           "text = \"texto.txt\"\nformat = \"tiff-g4\"\nfile = \"req-pb\"\n"
           "fields = { cpf = \"529.982.247-25\", nome = \"Maria Aparecida Souza\" }\npages = [ { skew = 0.7 } ]\n";
    Status made = synth::GenerateLot(*dir_ / "lot.toml", *dir_ / "lot");
    ASSERT_TRUE(made.ok()) << made.ToString();
    testing::ProcessResult run =
        RunProcess({AcervoBinary(), "run", (*dir_ / "lot").string(), "--out", (*dir_ / "out").string(), "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }
  static std::string Db() { return (*dir_ / "out" / "acervo.db").string(); }
  static std::string Text(const fs::path& pdf) { return RunProcess({"pdftotext", pdf.string(), "-"}).out; }
  static fs::path* dir_;
};
fs::path* RedactTest::dir_ = nullptr;

void CheckCopy(const fs::path& dir, const std::string& doc) {
  std::unique_ptr<Store> store = std::move(OpenSqliteStore((dir / "out" / "acervo.db")).value());
  std::optional<DocumentRecord> d = store->GetDocument("tarjas", doc).value();
  ASSERT_TRUE(d);
  d->pdf_path = ResolveStoredPath(dir / "out", d->pdf_path).string();  // relative to the output folder
  const std::string original_sha = Sha256OfFile(d->pdf_path).value();
  const std::string original_text = RunProcess({"pdftotext", d->pdf_path, "-"}).out;
  ASSERT_NE(original_text.find("529.982.247-25"), std::string::npos) << "OCR must read the CPF for this test to mean anything";
  ASSERT_NE(original_text.find("Aparecida"), std::string::npos);
  RedactOptions o;
  o.cpf = o.cnpj = true;
  o.fields = {"nome"};
  o.actor = "teste";
  o.out = dir / (doc + "-tarjado.pdf");
  o.store_spec = (dir / "out" / "acervo.db").string();
  Result<RedactResult> r = RedactDocument(*store, "tarjas", doc, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->counts["cpf"], 2) << doc;
  EXPECT_EQ(r->counts["cnpj"], 1) << doc;
  EXPECT_GE(r->counts["field nome"], 1) << doc;
  // The text layer has none of it; the rest is still there.
  const std::string text = RunProcess({"pdftotext", o.out.string(), "-"}).out;
  for (const char* gone : {"529.982.247-25", "52998224725", "11.444.777/0001-61", "111.444.777-35", "Aparecida"}) {
    EXPECT_EQ(text.find(gone), std::string::npos) << doc << ": " << gone << " left in\n" << text;
  }
  EXPECT_NE(text.find("deferimento"), std::string::npos) << text;
  // The boxes cover the words' pixels on the rendered copy, where the
  // original had ink.
  const fs::path stem = dir / (doc + "-page");
  ASSERT_EQ(RunProcess({"pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-singlefile", "-gray", "-png", o.out.string(),
                        stem.string()}).exit_code, 0);
  const fs::path orig_stem = dir / (doc + "-orig");
  ASSERT_EQ(RunProcess({"pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-singlefile", "-gray", "-png", d->pdf_path,
                        orig_stem.string()}).exit_code, 0);
  cv::Mat copy = cv::imread(stem.string() + ".png", cv::IMREAD_GRAYSCALE);
  cv::Mat orig = cv::imread(orig_stem.string() + ".png", cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(copy.empty());
  ASSERT_EQ(copy.size(), orig.size());
  int checked = 0;
  for (const RedactBox& b : r->boxes) {
    if (b.page != 1) continue;
    const cv::Rect inner = cv::Rect(b.x + 2, b.y + 2, b.w - 4, b.h - 4) & cv::Rect(0, 0, copy.cols, copy.rows);
    double lo = 0, hi = 0;
    cv::minMaxLoc(copy(inner), &lo, &hi);
    EXPECT_LE(hi, 40) << doc << " box " << b.reason << " at " << b.x << "," << b.y << " is not black";
    cv::minMaxLoc(orig(inner), &lo, &hi);
    EXPECT_LE(lo, 100) << doc << ": the original had no ink under box " << b.reason;
    ++checked;
  }
  EXPECT_GE(checked, 4);
  // PDF/A, with what was redacted and by whom; the original unchanged.
  EXPECT_EQ(testing::PdfaProblems({o.out}), "");
  const std::string info = RunProcess({"pdfinfo", o.out.string()}).out;
  EXPECT_NE(info.find("cópia tarjada; cnpj x1, cpf x2"), std::string::npos) << info;
  EXPECT_NE(info.find("por teste"), std::string::npos) << info;
  EXPECT_EQ(Sha256OfFile(d->pdf_path).value(), original_sha);
  AuditFilter f;
  f.action = "redact";
  f.target_prefix = "tarjas/" + doc;
  EXPECT_EQ(store->Access().ListAudit(f).value().size(), 1u);
}

TEST_F(RedactTest, JpegScansAreRedactedInImageTextAndMetadata) { CheckCopy(*dir_, "req-cor"); }
TEST_F(RedactTest, G4ScansAreRedactedInImageTextAndMetadata) { CheckCopy(*dir_, "req-pb"); }

TEST_F(RedactTest, TheCommandRefusesTheOriginalAndUnknownThings) {
  std::unique_ptr<Store> store = std::move(OpenSqliteStore(Db()).value());
  const std::string original =
      ResolveStoredPath(*dir_ / "out", store->GetDocument("tarjas", "req-cor").value()->pdf_path).string();
  auto redact = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {AcervoBinary(), "redact", "--store", Db(), "tarjas"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProcess(argv);
  };
  testing::ProcessResult r = redact({"req-cor", "--cpf", "--out", original});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("originals are never modified"), std::string::npos) << r.err;
  r = redact({"nao-existe", "--cpf", "--out", (*dir_ / "x.pdf").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no document"), std::string::npos) << r.err;
  r = redact({"req-cor", "--field", "rg", "--out", (*dir_ / "x.pdf").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no field 'rg'"), std::string::npos) << r.err;
  r = redact({"req-cor", "--out", (*dir_ / "x.pdf").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(*dir_ / "x.pdf"));
  r = redact({"req-cor", "--words", "Pereira", "deferimento", "--out", (*dir_ / "w.pdf").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("word Pereira x1"), std::string::npos) << r.out;
  const std::string text = Text(*dir_ / "w.pdf");
  EXPECT_EQ(text.find("Pereira"), std::string::npos);
  EXPECT_EQ(text.find("deferimento"), std::string::npos);
  EXPECT_NE(text.find("529.982.247-25"), std::string::npos);  // not asked
}

}  // namespace
}  // namespace acervo
