// End to end (issue 4): a public body's lot with Decreto 10.278 metadata, a
// signature and every side output, through `acervo run`; then `acervo
// verify` on the result, and tampering with a master, a PDF, a store row and
// the lot folder, each caught and named.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/sqlite_store.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"
#include "support/signature_parts.h"
#include "support/test_pki.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::ReadText;
using testing::RunProcess;
using json = nlohmann::json;

constexpr char kProfile[] = R"(
[lot]
id = "lote-arquivo"
project = "Prefeitura Municipal de Santos"
operator = "Maria Aparecida"

[[fields]]
name = "processo"
type = "text"

[archival]
assunto = "Processo administrativo {processo}"
local_digitalizacao = "Santos/SP"
orgao_publico = true
classe = "100.1"
destinacao_prevista = "guarda permanente"
genero = "textual"
prazo_guarda = "10 anos"

[signature]
pkcs12 = "../keys/signer.p12"
password_env = "ACERVO_E2E_P12_PASSWORD"
reason = "Digitalização conforme o Decreto 10.278/2020"
location = "Santos/SP"
)";

constexpr char kManifest[] =
    "document_id,document_type,title,files,processo\n"
    "oficio-1,oficio,Ofício nº 1 – pavimentação,oficio.png,0001/2024\n"
    "contrato-2,contrato,Contrato de locação,contrato.tif,0002/2024\n";

class PdfArchiveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(fs::temp_directory_path() / ("acervo-archive-e2e-" + std::to_string(::getpid())));
    fs::remove_all(*root_);
    fs::create_directories(Lot());
    fs::create_directories(Keys());
    MakeKeys();
    Page("oficio.png", {"Ofício circular sobre a pavimentação da avenida Conceição. Solicitamos a "
                        "execução das obras até março."},
         synth::FileFormat::kPng);
    Page("contrato.tif",
         {"Contrato de locação do imóvel situado à rua São João, número 120.",
          "Cláusula segunda: o aluguel será pago até o quinto dia útil de cada mês."},
         synth::FileFormat::kTiffLzw);
    ASSERT_TRUE(WriteFileAtomic(Lot() / "profile.toml", std::string_view(kProfile)).ok());
    ASSERT_TRUE(WriteFileAtomic(Lot() / "manifest.csv", std::string_view(kManifest)).ok());
    ::setenv("ACERVO_E2E_P12_PASSWORD", "s3nh@ forte", 1);
    *run_ = RunProcess({AcervoBinary(), "run", Lot().string(), "--out", Out().string(), "--jobs", "2", "-q",
                        "--hocr", "--alto", "--text"});
  }
  static void TearDownTestSuite() {
    if (::testing::UnitTest::GetInstance()->current_test_suite()->Passed()) fs::remove_all(*root_);
  }

  static void MakeKeys() {
    testing::TestPki pki;
    ASSERT_EQ(testing::MakeTestPki(Keys(), "/O=Prefeitura Municipal de Santos/CN=Maria Aparecida", "s3nh@ forte", &pki),
              "");
  }
  static void Page(const std::string& name, const std::vector<std::string>& texts, synth::FileFormat format) {
    std::vector<cv::Mat> images;
    for (const std::string& text : texts) {
      synth::PageSpec spec;
      spec.dpi = 200;
      spec.height_mm = 120;  // half a page: quicker OCR, same kind of text
      spec.blocks.push_back({text, 12});
      spec.seed = images.size() + 7;
      Result<synth::SynthPage> page = synth::RenderPage(spec);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      images.push_back(page->image);
    }
    ASSERT_TRUE(synth::WritePages(Lot() / name, images, 200, format).ok());
  }

  static fs::path Lot() { return *root_ / "lote"; }
  static fs::path Keys() { return *root_ / "keys"; }
  static fs::path Out() { return *root_ / "out"; }
  static fs::path LotOut() { return Out() / "lote-arquivo"; }
  static testing::ProcessResult Verify() { return RunProcess({AcervoBinary(), "verify", Out().string(), "--json"}); }
  // The mismatches of a verify run as "where: message" lines.
  static std::string Mismatches(const testing::ProcessResult& r) {
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return "<no JSON: " + r.out + r.err + ">";
    std::string all;
    for (const json& m : j["mismatches"]) all += m["where"].get<std::string>() + ": " + m["message"].get<std::string>() + "\n";
    return all;
  }

  static inline fs::path* root_ = nullptr;
  static inline testing::ProcessResult* run_ = new testing::ProcessResult();
};

TEST_F(PdfArchiveTest, SignedPdfaWithDecreeMetadata) {
  ASSERT_EQ(run_->exit_code, 0) << run_->out << run_->err;
  std::vector<fs::path> pdfs = testing::PdfsIn(LotOut());
  ASSERT_EQ(pdfs.size(), 2u);
  EXPECT_EQ(testing::PdfaProblems(pdfs), "");
  for (const fs::path& pdf : pdfs) {
    SCOPED_TRACE(pdf.string());
    testing::ProcessResult sig = RunProcess({"pdfsig", pdf.string()});
    EXPECT_NE(sig.out.find("Signature Validation: Signature is Valid."), std::string::npos) << sig.out;
    EXPECT_NE(sig.out.find("Maria Aparecida"), std::string::npos) << sig.out;
  }
  std::string meta = RunProcess({"pdfinfo", "-meta", (LotOut() / "oficio-1.pdf").string()}).out;
  for (const char* want : {"<pdfaid:part>1</pdfaid:part>", "<d10278:assunto>Processo administrativo 0001/2024</d10278:assunto>",
                           "<d10278:autor>Prefeitura Municipal de Santos</d10278:autor>",
                           "<d10278:localDigitalizacao>Santos/SP</d10278:localDigitalizacao>",
                           "<d10278:identificadorDocumentoDigital>lote-arquivo/oficio-1</d10278:identificadorDocumentoDigital>",
                           "<d10278:responsavelDigitalizacao>Maria Aparecida</d10278:responsavelDigitalizacao>",
                           "<d10278:titulo>Ofício nº 1 – pavimentação</d10278:titulo>",
                           "<d10278:tipoDocumental>oficio</d10278:tipoDocumental>", "<d10278:classe>100.1</d10278:classe>",
                           "<d10278:destinacaoPrevista>guarda permanente</d10278:destinacaoPrevista>",
                           "<d10278:genero>textual</d10278:genero>", "<d10278:prazoGuarda>10 anos</d10278:prazoGuarda>",
                           "<d10278:dataDigitalizacao>20", "<d10278:hashSha256>"}) {
    EXPECT_NE(meta.find(want), std::string::npos) << want << "\n" << meta;
  }
  // The hash in the metadata is the master's.
  Result<std::string> master = Sha256OfFile(LotOut() / "masters" / "oficio.png");
  ASSERT_TRUE(master.ok());
  EXPECT_NE(meta.find("<d10278:hashSha256>" + *master + "</d10278:hashSha256>"), std::string::npos);
}

TEST_F(PdfArchiveTest, SideOutputsAreWellFormedAndMatchTheStore) {
  ASSERT_EQ(run_->exit_code, 0) << run_->err;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(Out() / "acervo.db", {});
  ASSERT_TRUE(store.ok());
  for (const char* doc : {"oficio-1", "contrato-2"}) {
    SCOPED_TRACE(doc);
    Result<std::optional<DocumentRecord>> rec = (*store)->GetDocument("lote-arquivo", doc);
    ASSERT_TRUE(rec.ok() && rec->has_value());
    std::string want_text;
    for (const PageRecord& p : (*rec)->pages) {
      if (!p.in_pdf) continue;
      if (!want_text.empty()) want_text += '\f';
      want_text += p.text + (p.text.empty() || p.text.back() == '\n' ? "" : "\n");
      char base[32];
      std::snprintf(base, sizeof(base), "page-%04d", p.pdf_page);
      const fs::path dir = LotOut() / "sidecars" / doc;
      for (const char* ext : {".hocr", ".alto.xml"}) {
        fs::path f = dir / (std::string(base) + ext);
        ASSERT_TRUE(fs::exists(f)) << f;
        EXPECT_EQ(RunProcess({"xmllint", "--noout", "--nonet", f.string()}).exit_code, 0) << f;
      }
      // Same words in both, as many as the OCR text has.
      auto count = [](const fs::path& f, const char* xpath) {
        std::string out = RunProcess({"xmllint", "--nonet", "--xpath", xpath, f.string()}).out;
        return std::atoi(out.c_str());
      };
      int hocr_words = count(dir / (std::string(base) + ".hocr"), "count(//*[@class='ocrx_word'])");
      int alto_words = count(dir / (std::string(base) + ".alto.xml"), "count(//*[local-name()='String'])");
      std::istringstream words(p.text);
      int text_words = 0;
      for (std::string w; words >> w;) ++text_words;
      EXPECT_GT(hocr_words, 5);
      EXPECT_EQ(hocr_words, alto_words);
      EXPECT_EQ(hocr_words, text_words);
      // Boxes inside the page.
      std::string alto = ReadText((dir / (std::string(base) + ".alto.xml")).string());
      std::smatch m;
      ASSERT_TRUE(std::regex_search(alto, m, std::regex(R"re(<Page ID="[^"]+" PHYSICAL_IMG_NR="\d+" WIDTH="(\d+)" HEIGHT="(\d+)")re")));
      const int width = std::stoi(m[1]), height = std::stoi(m[2]);
      std::regex string_re(R"re(<String ID="[^"]+" HPOS="(\d+)" VPOS="(\d+)" WIDTH="(\d+)" HEIGHT="(\d+)")re");
      for (auto it = std::sregex_iterator(alto.begin(), alto.end(), string_re); it != std::sregex_iterator(); ++it) {
        EXPECT_LE(std::stoi((*it)[1]) + std::stoi((*it)[3]), width);
        EXPECT_LE(std::stoi((*it)[2]) + std::stoi((*it)[4]), height);
        EXPECT_GT(std::stoi((*it)[3]), 0);
      }
    }
    EXPECT_EQ(ReadText((LotOut() / (std::string(doc) + ".txt")).string()), want_text);
  }
}

// Runs last among the tests that read the output: it changes files and puts
// each back.
TEST_F(PdfArchiveTest, VerifyCatchesEveryKindOfTampering) {
  ASSERT_EQ(run_->exit_code, 0) << run_->err;
  testing::ProcessResult clean = Verify();
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_EQ(Mismatches(clean), "");
  // The profile names no form: ICP-Brasil's, without a time-stamp authority.
  json sigs = json::parse(clean.out, nullptr, false)["signatures"];
  ASSERT_EQ(sigs.size(), 2u) << clean.out;
  for (const json& s : sigs) {
    EXPECT_EQ(s["form"], "ICP-Brasil AD-RB") << s;
    EXPECT_EQ(s["policy"], "PA_PAdES_AD_RB_v1_3") << s;
    EXPECT_EQ(s["valid"], true) << s;
  }

  // A master changed by one byte.
  const fs::path master = LotOut() / "masters" / "contrato.tif";
  std::vector<uint8_t> original = *ReadFile(master);
  {
    std::vector<uint8_t> bytes = original;
    bytes[bytes.size() / 2] ^= 0x20;
    fs::permissions(master, fs::perms::owner_write, fs::perm_options::add);
    ASSERT_TRUE(WriteFileAtomic(master, bytes).ok());
    testing::ProcessResult r = Verify();
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(Mismatches(r).find(master.string() + ": master changed"), std::string::npos) << Mismatches(r);
    ASSERT_TRUE(WriteFileAtomic(master, original).ok());
  }
  // A PDF with a byte changed: hash and signature both disagree.
  const fs::path pdf = LotOut() / "oficio-1.pdf";
  std::vector<uint8_t> pdf_bytes = *ReadFile(pdf);
  {
    std::vector<uint8_t> bytes = testing::WithSignedByteChanged(pdf_bytes);
    ASSERT_FALSE(bytes.empty());
    ASSERT_TRUE(WriteFileAtomic(pdf, bytes).ok());
    testing::ProcessResult r = Verify();
    EXPECT_EQ(r.exit_code, 1);
    std::string m = Mismatches(r);
    EXPECT_NE(m.find(pdf.string() + ": PDF changed"), std::string::npos) << m;
    EXPECT_NE(m.find(pdf.string() + ": signature does not verify"), std::string::npos) << m;
    ASSERT_TRUE(WriteFileAtomic(pdf, pdf_bytes).ok());
  }
  // A PDF gone.
  {
    fs::rename(pdf, pdf.string() + ".away");
    testing::ProcessResult r = Verify();
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(Mismatches(r).find(pdf.string() + ": PDF missing"), std::string::npos) << Mismatches(r);
    fs::rename(pdf.string() + ".away", pdf);
  }
  // A store row edited: the recorded master hash of a page no longer matches
  // the master nor the hash embedded in the PDF.
  {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(Out() / "acervo.db", {});
    ASSERT_TRUE(store.ok());
    Result<std::optional<DocumentRecord>> rec = (*store)->GetDocument("lote-arquivo", "contrato-2");
    ASSERT_TRUE(rec.ok() && rec->has_value());
    DocumentRecord edited = **rec;
    edited.pages[1].master_sha256 = std::string(64, '0');
    ASSERT_TRUE((*store)->PutDocument(edited).ok());
    testing::ProcessResult r = Verify();
    EXPECT_EQ(r.exit_code, 1);
    std::string m = Mismatches(r);
    EXPECT_NE(m.find("master changed"), std::string::npos) << m;
    EXPECT_NE(m.find("master hashes embedded in the PDF differ from the store at page 2"), std::string::npos) << m;
    ASSERT_TRUE((*store)->PutDocument(**rec).ok());
  }
  // A PDF no row knows.
  {
    fs::copy_file(pdf, LotOut() / "intruso.pdf");
    testing::ProcessResult r = Verify();
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(Mismatches(r).find("intruso.pdf: PDF has no row in the store"), std::string::npos) << Mismatches(r);
    fs::remove(LotOut() / "intruso.pdf");
  }
  // Everything restored: clean again; and a missing store is "cannot run".
  testing::ProcessResult again = Verify();
  EXPECT_EQ(again.exit_code, 0) << Mismatches(again);
  testing::ProcessResult no_store =
      RunProcess({AcervoBinary(), "verify", Out().string(), "--store", (Out() / "none.db").string()});
  EXPECT_EQ(no_store.exit_code, 3) << no_store.err;
  EXPECT_NE(no_store.err.find("none.db"), std::string::npos);
  EXPECT_FALSE(fs::exists(Out() / "none.db"));
}

}  // namespace
}  // namespace acervo
