// End to end (issue 19, item 5): a lot signed in ICP-Brasil's form with a
// time-stamp authority (AD-RT), through `acervo run` and `acervo verify`, with
// a local RFC 3161 authority (tests/support/test_tsa.h) in this process.
//   1. The authority is down: no document is produced, the report names the
//      authority and the reason, exit 1.
//   2. It is back: the same command produces exactly those documents, from
//      the page checkpoints (no OCR again), each time-stamped once; pdfsig
//      says valid, Preflight passes, `acervo verify` reports the form, the
//      policy and the time-stamp time.
//   3. A changed byte is caught by verify and by pdfsig.
//   4. A lot with `form = "pades-basic"` still gets PAdES-basic.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"
#include "support/signature_parts.h"
#include "support/test_pki.h"
#include "support/test_tsa.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::RunProcess;
using testing::TestTsa;
using json = nlohmann::json;

constexpr char kManifest[] =
    "document_id,document_type,title,files\n"
    "oficio-1,oficio,Ofício nº 1,oficio.png\n"
    "certidao-2,certidao,Certidão de nascimento,certidao.png\n";

class IcpBrasilSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("acervo-icp-e2e-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "keys");
    ASSERT_EQ(testing::MakeTestPki(root_ / "keys", "/O=Prefeitura Municipal de Santos/CN=João Arquivista",
                                   "s3nh@ forte", &pki_),
              "");
    ::setenv("ACERVO_E2E_ICP_PASSWORD", "s3nh@ forte", 1);
    tsa_ = std::make_unique<TestTsa>(pki_);
    ASSERT_TRUE(tsa_->Start());
  }
  void TearDown() override {
    tsa_.reset();
    if (!HasFailure()) fs::remove_all(root_);
  }

  // A lot folder `name` of two one-page documents signed as `signature_keys` says.
  fs::path MakeLot(const std::string& name, const std::string& signature_keys) {
    const fs::path lot = root_ / name;
    fs::create_directories(lot);
    int seed = 11;
    for (const char* file : {"oficio.png", "certidao.png"}) {
      synth::PageSpec spec;
      spec.dpi = 200;
      spec.height_mm = 100;
      spec.seed = ++seed;
      spec.blocks.push_back({std::string("Documento ") + file + " assinado pelo arquivo municipal.", 12});
      Result<synth::SynthPage> page = synth::RenderPage(spec);
      EXPECT_TRUE(page.ok());
      EXPECT_TRUE(synth::WritePages(lot / file, {page->image}, 200, synth::FileFormat::kPng).ok());
    }
    const std::string profile = "[lot]\nid = \"" + name +
                                "\"\nproject = \"Prefeitura Municipal de Santos\"\n\n"
                                "[signature]\npkcs12 = \"../keys/signer.p12\"\n"
                                "password_env = \"ACERVO_E2E_ICP_PASSWORD\"\n"
                                "reason = \"Digitalização conforme o Decreto 10.278/2020\"\n" +
                                signature_keys;
    EXPECT_TRUE(WriteFileAtomic(lot / "profile.toml", std::string_view(profile)).ok());
    EXPECT_TRUE(WriteFileAtomic(lot / "manifest.csv", std::string_view(kManifest)).ok());
    return lot;
  }
  testing::ProcessResult Run(const fs::path& lot) {
    return RunProcess({AcervoBinary(), "run", lot.string(), "--out", (root_ / "out").string(), "--jobs", "2", "-q"});
  }
  json Report(const std::string& lot) {
    return json::parse(testing::ReadText((root_ / "out" / lot / "report.json").string()), nullptr, false);
  }
  // The lot's two PDFs pass Preflight, and pdfsig finds each signed by the
  // test signer with a valid signature of `sub_filter`.
  static void ExpectTwoSignedPdfas(const fs::path& lot_out, const std::string& sub_filter) {
    std::vector<fs::path> pdfs = testing::PdfsIn(lot_out);
    ASSERT_EQ(pdfs.size(), 2u);
    EXPECT_EQ(testing::PdfaProblems(pdfs), "");
    for (const fs::path& pdf : pdfs) {
      testing::ProcessResult sig = RunProcess({"pdfsig", pdf.string()});
      EXPECT_NE(sig.out.find("Signature Validation: Signature is Valid."), std::string::npos) << sig.out;
      EXPECT_NE(sig.out.find("Signature Type: " + sub_filter), std::string::npos) << sig.out;
      EXPECT_NE(sig.out.find("João Arquivista"), std::string::npos) << sig.out;
    }
  }
  testing::ProcessResult Verify(bool as_json) {
    std::vector<std::string> argv = {AcervoBinary(), "verify", (root_ / "out").string()};
    if (as_json) argv.push_back("--json");
    return RunProcess(argv);
  }

  fs::path root_;
  testing::TestPki pki_;
  std::unique_ptr<TestTsa> tsa_;
};

TEST_F(IcpBrasilSignatureTest, TimeStampedLotRefusedWhileTheAuthorityIsDownThenCompleted) {
  const std::string tsa_keys = "tsa_url = \"" + tsa_->url() + "\"\ntsa_ca = \"../keys/ca.crt\"\ntsa_timeout = 5\n";
  const fs::path lot = MakeLot("lote-act", tsa_keys);
  const fs::path lot_out = root_ / "out" / "lote-act";

  // 1. The authority answers HTTP 500 for every request.
  tsa_->set_answer(TestTsa::Answer::kHttpError);
  testing::ProcessResult down = Run(lot);
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;
  EXPECT_TRUE(testing::PdfsIn(lot_out).empty()) << "no document without its time-stamp";
  EXPECT_NE(down.err.find("time-stamp authority " + tsa_->url() + ": HTTP 500"), std::string::npos) << down.err;
  json report = Report("lote-act");
  ASSERT_FALSE(report.is_discarded());
  EXPECT_EQ(report["documents"]["failed"], 2);
  EXPECT_EQ(report["documents"]["ok"], 0);
  std::string problems = report["problems"].dump();
  EXPECT_NE(problems.find("document oficio-1"), std::string::npos) << problems;
  EXPECT_NE(problems.find("time-stamp authority"), std::string::npos) << problems;
  EXPECT_EQ(tsa_->requests(), 2);

  // 2. Back: the same command makes the two documents from their checkpoints.
  tsa_->set_answer(TestTsa::Answer::kGood);
  testing::ProcessResult up = Run(lot);
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_EQ(tsa_->requests(), 4);
  report = Report("lote-act");
  EXPECT_EQ(report["documents"]["ok"], 2);
  EXPECT_EQ(report["pages"]["resumed"], 2) << "pages come back from their checkpoints, not from OCR again";
  ExpectTwoSignedPdfas(lot_out, "ETSI.CAdES.detached");
  testing::ProcessResult verify = Verify(true);
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  json v = json::parse(verify.out, nullptr, false);
  ASSERT_FALSE(v.is_discarded()) << verify.out;
  ASSERT_EQ(v["signatures"].size(), 2u) << verify.out;
  for (const json& s : v["signatures"]) {
    EXPECT_EQ(s["form"], "ICP-Brasil AD-RT") << s;
    EXPECT_EQ(s["policy"], "PA_PAdES_AD_RT_v1_3") << s;
    EXPECT_EQ(s["signer"], "João Arquivista") << s;
    EXPECT_EQ(s["timestamp_authority"], "ACT de Teste") << s;
    EXPECT_EQ(s["valid"], true) << s;
    // ISO 8601 UTC, today.
    const std::string ts = s["timestamp"];
    ASSERT_EQ(ts.size(), 20u) << s;
    EXPECT_EQ(ts.back(), 'Z');
  }
  testing::ProcessResult text = Verify(false);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(": ICP-Brasil AD-RT, signed by João Arquivista, time-stamp 20"), std::string::npos)
      << text.out;

  // 3. One byte of the first signed span changed: verify and pdfsig both see it.
  const fs::path pdf = lot_out / "oficio-1.pdf";
  std::vector<uint8_t> bytes = testing::WithSignedByteChanged(*ReadFile(pdf));
  ASSERT_FALSE(bytes.empty());
  ASSERT_TRUE(WriteFileAtomic(pdf, bytes).ok());
  testing::ProcessResult tampered = Verify(true);
  EXPECT_EQ(tampered.exit_code, 1);
  json t = json::parse(tampered.out, nullptr, false);
  ASSERT_FALSE(t.is_discarded()) << tampered.out;
  bool caught = false;
  for (const json& m : t["mismatches"]) {
    caught |= m["where"] == pdf.string() &&
              m["message"].get<std::string>().rfind("signature does not verify", 0) == 0;
  }
  EXPECT_TRUE(caught) << tampered.out;
  bool listed_invalid = false;
  for (const json& s : t["signatures"]) listed_invalid |= s["pdf"] == pdf.string() && s["valid"] == false;
  EXPECT_TRUE(listed_invalid) << tampered.out;
  EXPECT_EQ(RunProcess({"pdfsig", pdf.string()}).out.find("Signature is Valid."), std::string::npos);
}

TEST_F(IcpBrasilSignatureTest, PadesBasicFormByProfile) {
  const fs::path lot = MakeLot("lote-basico", "form = \"pades-basic\"\n");
  testing::ProcessResult run = Run(lot);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ExpectTwoSignedPdfas(root_ / "out" / "lote-basico", "adbe.pkcs7.detached");
  testing::ProcessResult verify = Verify(true);
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  json v = json::parse(verify.out, nullptr, false);
  ASSERT_EQ(v["signatures"].size(), 2u) << verify.out;
  for (const json& s : v["signatures"]) {
    EXPECT_EQ(s["form"], "PAdES-basic") << s;
    EXPECT_EQ(s["timestamp"], "") << s;
  }
  EXPECT_EQ(tsa_->requests(), 0);
}

}  // namespace
}  // namespace acervo
