// Signing: a test CA and signer certificate made here with the openssl CLI,
// PDFs signed by the writer, checked by poppler's pdfsig (an independent
// verifier), by our own VerifySignatureBytes, and by Preflight (PDF/A-1b
// still holds with the signature field).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "acervo/core/files.h"
#include "acervo/stages/pdf/image_encode.h"
#include "acervo/stages/pdf/pdf_inspect.h"
#include "acervo/stages/pdf/pdf_writer.h"
#include "support/pdfa.h"
#include "test_tools.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using testing::RunTool;

class SignatureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new fs::path(testing::MakeTempDir("keys"));
    const fs::path& k = *keys_;
    std::ofstream(k / "ext.cnf") << "basicConstraints=CA:FALSE\n"
                                    "keyUsage=critical,digitalSignature,nonRepudiation\n";
    const std::vector<std::vector<std::string>> steps = {
        {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", (k / "ca.key").string(),
         "-out", (k / "ca.crt").string(), "-days", "2", "-subj", "/CN=Acervo Test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
        {"openssl", "req", "-utf8", "-newkey", "rsa:2048", "-nodes", "-keyout", (k / "signer.key").string(), "-out",
         (k / "signer.csr").string(), "-subj", "/O=Arquivo Geral/CN=Maria da Conceição"},
        {"openssl", "x509", "-req", "-in", (k / "signer.csr").string(), "-CA", (k / "ca.crt").string(),
         "-CAkey", (k / "ca.key").string(), "-CAcreateserial", "-out", (k / "signer.crt").string(), "-days",
         "2", "-extfile", (k / "ext.cnf").string()},
        {"openssl", "pkcs12", "-export", "-inkey", (k / "signer.key").string(), "-in",
         (k / "signer.crt").string(), "-certfile", (k / "ca.crt").string(), "-out",
         (k / "signer.p12").string(), "-passout", "pass:s3nh@"},
    };
    for (const auto& argv : steps) {
      ASSERT_EQ(RunTool(argv).exit_code, 0) << argv[1] << " " << argv[2];
    }
  }
  static void TearDownTestSuite() { fs::remove_all(*keys_); }

  void SetUp() override { dir_ = testing::MakeTempDir("sign"); }
  void TearDown() override {
    std::vector<fs::path> pdfs = testing::PdfsIn(dir_ / "valid");
    if (!pdfs.empty()) {
      EXPECT_EQ(testing::PdfaProblems(pdfs), "");
    }
    fs::remove_all(dir_);
  }

  static PdfSignatureOptions Options() {
    PdfSignatureOptions o;
    o.pkcs12_path = *keys_ / "signer.p12";
    o.password = "s3nh@";
    o.reason = "Digitalização conforme o Decreto 10.278/2020";
    o.location = "São Paulo/SP";
    return o;
  }

  // A signed document of `pages` pages in dir_/valid/.
  Result<PdfResult> WriteSigned(const std::string& name, int pages) {
    PdfOptions o;
    o.signature = Options();
    ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PdfWriter> w, PdfWriter::Create(o));
    fs::create_directories(dir_ / "valid");
    ACERVO_RETURN_IF_ERROR(w->Begin(dir_ / "valid" / name, {}));
    for (int i = 0; i < pages; ++i) {
      Page page = testing::MakeTextPage(850, 1100, 100, {"assinado", "página", std::to_string(i + 1)}, 12);
      page.color_class = i % 2 == 0 ? ColorClass::kBw : ColorClass::kGray;
      auto stage = ImageEncodeStage::Create({});
      ACERVO_ASSIGN_OR_RETURN(page, (*stage)->Run(std::move(page), PageContext{}));
      ACERVO_RETURN_IF_ERROR(w->AddPage(PdfPageInputFromPage(page)));
    }
    return w->End();
  }

  static inline fs::path* keys_ = nullptr;
  fs::path dir_;
};

TEST_F(SignatureTest, PdfsigReportsTheSignatureValid) {
  auto r = WriteSigned("signed.pdf", 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  testing::ToolOutput sig = RunTool({"pdfsig", r->path.string()});
  EXPECT_NE(sig.out.find("Signature Validation: Signature is Valid."), std::string::npos) << sig.out;
  EXPECT_NE(sig.out.find("Signature Type: adbe.pkcs7.detached"), std::string::npos) << sig.out;
  EXPECT_NE(sig.out.find("Total document signed"), std::string::npos) << sig.out;
  EXPECT_NE(sig.out.find("Maria da Conceição"), std::string::npos) << sig.out;

  Result<PdfFacts> facts = InspectPdf(r->path);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->pages, 3);
  EXPECT_TRUE(facts->signature.present);
  EXPECT_TRUE(facts->signature.covers_file) << facts->signature.problem;
  EXPECT_TRUE(facts->signature.digest_matches) << facts->signature.problem;
  EXPECT_EQ(facts->signature.signer, "Maria da Conceição");
  // The recorded hash is of the signed file as committed.
  EXPECT_EQ(*Sha256OfFile(r->path), r->sha256);
}

TEST_F(SignatureTest, ChangingOneByteBreaksTheSignature) {
  auto r = WriteSigned("tampered.pdf", 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  fs::path copy = dir_ / "tampered.pdf";
  fs::copy_file(r->path, copy);
  std::vector<uint8_t> bytes = *ReadFile(copy);
  // A byte of the first image stream, far from the signature.
  bytes[bytes.size() / 4] ^= 0x01;
  ASSERT_TRUE(WriteFileAtomic(copy, bytes).ok());
  Result<SignatureCheck> check = VerifySignatureBytes(copy);
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->present);
  EXPECT_FALSE(check->digest_matches);
  EXPECT_FALSE(check->problem.empty());
  testing::ToolOutput sig = RunTool({"pdfsig", copy.string()});
  EXPECT_EQ(sig.out.find("Signature is Valid."), std::string::npos) << sig.out;
}

TEST_F(SignatureTest, BadKeyFilesAreRefusedAtCreate) {
  struct Case {
    const char* name;
    std::function<void(PdfSignatureOptions&)> change;
    StatusCode code;
  } cases[] = {
      {"missing", [](PdfSignatureOptions& o) { o.pkcs12_path = *keys_ / "none.p12"; }, StatusCode::kUnavailable},
      {"wrong password", [](PdfSignatureOptions& o) { o.password = "errada"; }, StatusCode::kInvalidArgument},
      {"not PKCS#12", [](PdfSignatureOptions& o) { o.pkcs12_path = *keys_ / "signer.crt"; },
       StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PdfOptions o;
    o.signature = Options();
    c.change(*o.signature);
    auto w = PdfWriter::Create(o);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.status().code(), c.code) << w.status().ToString();
  }
}

TEST_F(SignatureTest, UnsignedFileHasNoSignature) {
  PdfOptions o;
  auto w = PdfWriter::Create(o);
  ASSERT_TRUE(w.ok());
  Page page = testing::MakeTextPage(300, 300, 100, {"x"}, 1);
  page.color_class = ColorClass::kBw;
  page = *(*ImageEncodeStage::Create({}))->Run(std::move(page), PageContext{});
  fs::create_directories(dir_ / "valid");
  ASSERT_TRUE((*w)->Begin(dir_ / "valid" / "plain.pdf", {}).ok());
  ASSERT_TRUE((*w)->AddPage(PdfPageInputFromPage(page)).ok());
  auto r = (*w)->End();
  ASSERT_TRUE(r.ok());
  Result<SignatureCheck> check = VerifySignatureBytes(r->path);
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->present);
}

}  // namespace
}  // namespace acervo
