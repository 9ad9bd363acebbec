// Signing: a test CA, a signer and a time-stamp authority made here with the
// openssl CLI (tests/support/test_pki.h), a local RFC 3161 authority over
// HTTP (tests/support/test_tsa.h), PDFs signed by the writer in both forms,
// and every claim checked by an independent reader: poppler's pdfsig, the
// openssl CLI (cms -print / cms -verify -cades / ts -verify) on the CMS taken
// out of the file, PDFBox Preflight (PDF/A-1b still holds), and our own
// VerifySignatureBytes.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>

#include "acervo/core/files.h"
#include "acervo/stages/pdf/image_encode.h"
#include "acervo/stages/pdf/pdf_inspect.h"
#include "acervo/stages/pdf/pdf_writer.h"
#include "signature_policy.h"
#include "support/pdfa.h"
#include "support/signature_parts.h"
#include "support/test_pki.h"
#include "support/test_tsa.h"
#include "test_tools.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using testing::RunTool;
using testing::TestTsa;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

class SignatureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new fs::path(testing::MakeTempDir("keys"));
    pki_ = new testing::TestPki();
    ASSERT_EQ(testing::MakeTestPki(*keys_, "/O=Arquivo Geral/CN=Maria da Conceição", "s3nh@", pki_), "");
  }
  static void TearDownTestSuite() { fs::remove_all(*keys_); }

  void SetUp() override {
    dir_ = testing::MakeTempDir("sign");
    tsa_ = std::make_unique<TestTsa>(*pki_);
    ASSERT_TRUE(tsa_->Start());
  }
  void TearDown() override {
    tsa_.reset();
    std::vector<fs::path> pdfs = testing::PdfsIn(dir_ / "valid");
    if (!pdfs.empty()) {
      EXPECT_EQ(testing::PdfaProblems(pdfs), "");
    }
    fs::remove_all(dir_);
  }

  static PdfSignatureOptions Options(SignatureForm form = SignatureForm::kIcpBrasil) {
    PdfSignatureOptions o;
    o.pkcs12_path = pki_->signer_p12;
    o.password = pki_->p12_password;
    o.reason = "Digitalização conforme o Decreto 10.278/2020";
    o.location = "São Paulo/SP";
    o.form = form;
    return o;
  }
  TimestampAuthorityOptions Tsa() const {
    TimestampAuthorityOptions t;
    t.url = tsa_->url();
    t.ca_file = pki_->ca_cert;
    t.timeout_s = 5;
    return t;
  }

  // A signed document of `pages` pages in dir_/valid/ (or `sub`).
  Result<PdfResult> WriteSigned(const std::string& name, int pages, const PdfSignatureOptions& so,
                                const std::string& sub = "valid") {
    PdfOptions o;
    o.signature = so;
    ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PdfWriter> w, PdfWriter::Create(o));
    fs::create_directories(dir_ / sub);
    ACERVO_RETURN_IF_ERROR(w->Begin(dir_ / sub / name, {}));
    for (int i = 0; i < pages; ++i) {
      Page page = testing::MakeTextPage(850, 1100, 100, {"assinado", "página", std::to_string(i + 1)}, 12);
      page.color_class = i % 2 == 0 ? ColorClass::kBw : ColorClass::kGray;
      auto stage = ImageEncodeStage::Create({});
      ACERVO_ASSIGN_OR_RETURN(page, (*stage)->Run(std::move(page), PageContext{}));
      ACERVO_RETURN_IF_ERROR(w->AddPage(PdfPageInputFromPage(page)));
    }
    return w->End();
  }

  // The CMS of `pdf` taken apart, its pieces written to dir_ for the CLI,
  // and `openssl cms -cmsout -print` of it.
  std::string PrintCms(const fs::path& pdf, testing::SignatureParts* parts) {
    EXPECT_EQ(testing::ReadSignatureParts(pdf, parts), "");
    EXPECT_TRUE(testing::WriteBytes(dir_ / "sig.der", parts->cms));
    EXPECT_TRUE(testing::WriteBytes(dir_ / "signed.bin", parts->signed_bytes));
    EXPECT_TRUE(testing::WriteBytes(dir_ / "sigvalue.bin", parts->signature_value));
    EXPECT_TRUE(testing::WriteBytes(dir_ / "token.der", parts->timestamp_token));
    testing::ToolOutput print =
        RunTool({"openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", (dir_ / "sig.der").string()});
    EXPECT_EQ(print.exit_code, 0);
    return print.out;
  }
  // `openssl cms -verify` of dir_/sig.der over dir_/signed.bin with the test
  // CA trusted; `cades` adds -cades (ESS signing-certificate(-v2) checked).
  int OpensslVerify(bool cades) {
    std::vector<std::string> argv = {"openssl", "cms", "-verify", "-binary", "-inform", "DER",
                                     "-in", (dir_ / "sig.der").string(), "-content", (dir_ / "signed.bin").string(),
                                     "-CAfile", pki_->ca_cert.string(), "-purpose", "any", "-out", "/dev/null"};
    if (cades) argv.push_back("-cades");
    return RunTool(argv).exit_code;
  }

  static inline fs::path* keys_ = nullptr;
  static inline testing::TestPki* pki_ = nullptr;
  fs::path dir_;
  std::unique_ptr<TestTsa> tsa_;
};

TEST_F(SignatureTest, IcpBrasilFormIsValidForPdfsigAndDeclaresAdRb) {
  auto r = WriteSigned("signed.pdf", 3, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  testing::ToolOutput sig = RunTool({"pdfsig", r->path.string()});
  EXPECT_NE(sig.out.find("Signature Validation: Signature is Valid."), std::string::npos) << sig.out;
  EXPECT_NE(sig.out.find("Signature Type: ETSI.CAdES.detached"), std::string::npos) << sig.out;
  EXPECT_NE(sig.out.find("Total document signed"), std::string::npos) << sig.out;
  EXPECT_NE(sig.out.find("Maria da Conceição"), std::string::npos) << sig.out;

  Result<PdfFacts> facts = InspectPdf(r->path);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->pages, 3);
  const SignatureCheck& s = facts->signature;
  EXPECT_TRUE(s.present && s.covers_file && s.digest_matches && s.attributes_ok) << s.problem;
  EXPECT_EQ(s.signer, "Maria da Conceição");
  EXPECT_EQ(s.sub_filter, "ETSI.CAdES.detached");
  EXPECT_EQ(s.form, "ICP-Brasil AD-RB");
  EXPECT_EQ(s.policy_oid, "2.16.76.1.7.1.11.1.3");
  EXPECT_EQ(s.policy_name, "PA_PAdES_AD_RB_v1_3");
  EXPECT_TRUE(s.signing_certificate_v2);
  EXPECT_FALSE(s.signing_time_attribute);
  EXPECT_EQ(s.timestamp_time, "");
  // The recorded hash is of the signed file as committed.
  EXPECT_EQ(*Sha256OfFile(r->path), r->sha256);
  EXPECT_EQ(tsa_->requests(), 0);
}

// The CMS read by the openssl CLI, not by our code: the attributes DOC-ICP-15.03
// mandates are there with the right values, the one PAdES forbids is not, and
// OpenSSL's own CAdES verification (chain to the test CA, ESS
// signing-certificate-v2 against the signer's certificate) passes.
TEST_F(SignatureTest, IcpBrasilAttributesAsOpensslReadsThem) {
  auto r = WriteSigned("attrs.pdf", 1, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  testing::SignatureParts parts;
  const std::string print = PrintCms(r->path, &parts);
  EXPECT_NE(print.find("object: contentType"), std::string::npos) << print;
  EXPECT_NE(print.find("object: messageDigest"), std::string::npos) << print;
  EXPECT_EQ(print.find("signingTime"), std::string::npos) << print;
  EXPECT_NE(print.find("unsignedAttrs:\n          <ABSENT>"), std::string::npos) << print;  // no time-stamp
  // signing-certificate-v2: the SHA-256 of the signer's certificate (hash
  // algorithm left at its SHA-256 default, RFC 5035).
  EXPECT_NE(print.find("id-smime-aa-signingCertificateV2"), std::string::npos) << print;
  testing::ToolOutput fp = RunTool({"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                                    pki_->signer_cert.string()});
  std::string cert_hash = fp.out.substr(fp.out.find('=') + 1);
  std::erase(cert_hash, ':');
  std::erase(cert_hash, '\n');
  ASSERT_EQ(cert_hash.size(), 64u) << fp.out;
  EXPECT_NE(print.find("[HEX DUMP]:" + Upper(cert_hash)), std::string::npos) << cert_hash << "\n" << print;
  // The policy: OID, SHA-256 (no parameters) and the hash ITI publishes, and
  // the document's URI.
  EXPECT_NE(print.find("id-smime-aa-ets-sigPolicyId"), std::string::npos) << print;
  EXPECT_NE(print.find(":2.16.76.1.7.1.11.1.3"), std::string::npos) << print;
  EXPECT_NE(print.find("[HEX DUMP]:23E4BE4B9B362172E4EBB0E72B86A133ECE5AAD843D8651C6E38A0BA3F08FC60"),
            std::string::npos)
      << print;
  EXPECT_NE(print.find("http://politicas.icpbrasil.gov.br/PA_PAdES_AD_RB_v1_3.der"), std::string::npos) << print;
  EXPECT_NE(parts.cms.find(std::string("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x04\x20", 15)),
            std::string::npos)
      << "policy hash algorithm must be SHA-256 with absent parameters";
  EXPECT_EQ(parts.timestamp_token, "");
  EXPECT_EQ(OpensslVerify(/*cades=*/true), 0);
}

TEST_F(SignatureTest, TimeStampedSignatureIsAdRtWithATokenOverTheSignatureValue) {
  PdfSignatureOptions o = Options();
  o.tsa = Tsa();
  const std::time_t before = std::time(nullptr);
  auto r = WriteSigned("ad-rt.pdf", 2, o);
  const std::time_t after = std::time(nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(tsa_->requests(), 1);
  testing::ToolOutput sig = RunTool({"pdfsig", r->path.string()});
  EXPECT_NE(sig.out.find("Signature Validation: Signature is Valid."), std::string::npos) << sig.out;
  EXPECT_NE(sig.out.find("Signature Type: ETSI.CAdES.detached"), std::string::npos) << sig.out;

  Result<PdfFacts> facts = InspectPdf(r->path);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  const SignatureCheck& s = facts->signature;
  EXPECT_TRUE(s.digest_matches && s.attributes_ok) << s.problem;
  EXPECT_EQ(s.form, "ICP-Brasil AD-RT");
  EXPECT_EQ(s.policy_name, "PA_PAdES_AD_RT_v1_3");
  EXPECT_EQ(s.timestamp_authority, "ACT de Teste");

  testing::SignatureParts parts;
  const std::string print = PrintCms(r->path, &parts);
  EXPECT_NE(print.find(":2.16.76.1.7.1.12.1.3"), std::string::npos) << print;
  EXPECT_NE(print.find("[HEX DUMP]:21D6E8D9F85E5626DC71307337A7CABD6FFEF8D085038746775CF0CE6BA4D3B5"),
            std::string::npos)
      << print;
  EXPECT_NE(print.find("http://politicas.icpbrasil.gov.br/PA_PAdES_AD_RT_v1_3.der"), std::string::npos);
  EXPECT_NE(print.find("id-smime-aa-timeStampToken"), std::string::npos) << print;
  ASSERT_FALSE(parts.timestamp_token.empty());
  EXPECT_EQ(OpensslVerify(/*cades=*/true), 0);
  // The token, by `openssl ts`: its imprint is over the signature value
  // (and only that), it chains to the CA, and its time is what we report.
  const std::vector<std::string> ts_verify = {"openssl", "ts", "-verify", "-in", (dir_ / "token.der").string(),
                                              "-token_in", "-CAfile", pki_->ca_cert.string(), "-data"};
  std::vector<std::string> good = ts_verify, bad = ts_verify;
  good.push_back((dir_ / "sigvalue.bin").string());
  bad.push_back((dir_ / "signed.bin").string());
  EXPECT_EQ(RunTool(good).exit_code, 0);
  EXPECT_NE(RunTool(bad).exit_code, 0);
  testing::ToolOutput text = RunTool({"openssl", "ts", "-reply", "-in", (dir_ / "token.der").string(), "-token_in",
                                      "-text"});
  const size_t at = text.out.find("Time stamp: ");
  ASSERT_NE(at, std::string::npos) << text.out;
  struct tm tm {};
  ASSERT_NE(strptime(text.out.c_str() + at + 12, "%b %d %H:%M:%S %Y GMT", &tm), nullptr) << text.out;
  char iso[32];
  std::strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
  EXPECT_EQ(s.timestamp_time, iso);
  const std::time_t stamped = timegm(&tm);
  EXPECT_GE(stamped, before - 1);
  EXPECT_LE(stamped, after + 1);
}

// An archive that asked for time-stamped signatures never gets a document
// without one: every way the authority can fail refuses the document (no
// file under the final name, no temporary left), with the authority and the
// reason in the error.
TEST_F(SignatureTest, AnAuthorityThatFailsRefusesTheDocument) {
  struct Case {
    const char* name;
    TestTsa::Answer answer;
    StatusCode code;
    const char* says;
  } cases[] = {
      {"wrong nonce", TestTsa::Answer::kWrongNonce, StatusCode::kCorrupt, "nonce"},
      {"wrong imprint", TestTsa::Answer::kWrongImprint, StatusCode::kCorrupt, "imprint"},
      {"rejected", TestTsa::Answer::kRejected, StatusCode::kCorrupt, "not granted"},
      {"untrusted authority", TestTsa::Answer::kOtherCa, StatusCode::kCorrupt, "does not verify"},
      {"HTTP error", TestTsa::Answer::kHttpError, StatusCode::kUnavailable, "HTTP 500"},
      {"not a time-stamp", TestTsa::Answer::kNotTimestamp, StatusCode::kCorrupt, "not an RFC 3161"},
  };
  PdfSignatureOptions o = Options();
  o.tsa = Tsa();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    tsa_->set_answer(c.answer);
    auto r = WriteSigned("refused.pdf", 1, o, "refused");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(tsa_->url()), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().ToString();
    EXPECT_TRUE(fs::is_empty(dir_ / "refused")) << "a refused document leaves nothing behind";
  }
  // Unreachable: nothing listens any more.
  const int asked = tsa_->requests();
  tsa_->Stop();
  auto r = WriteSigned("refused.pdf", 1, o, "refused");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find(tsa_->url() + ": cannot connect"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(fs::is_empty(dir_ / "refused"));
  EXPECT_EQ(tsa_->requests(), asked);

  // HTTPS to a server whose certificate the system does not trust: refused
  // before any request is sent (the server's certificate is checked).
  TestTsa https(*pki_);
  ASSERT_TRUE(https.Start(/*tls=*/true));
  o.tsa->url = https.url();
  r = WriteSigned("refused.pdf", 1, o, "refused");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find(https.url() + ": the server's TLS certificate is not trusted"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(https.requests(), 0);
  EXPECT_TRUE(fs::is_empty(dir_ / "refused"));
}

TEST_F(SignatureTest, PadesBasicFormIsStillAvailable) {
  auto r = WriteSigned("basic.pdf", 2, Options(SignatureForm::kPadesBasic));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  testing::ToolOutput sig = RunTool({"pdfsig", r->path.string()});
  EXPECT_NE(sig.out.find("Signature Validation: Signature is Valid."), std::string::npos) << sig.out;
  EXPECT_NE(sig.out.find("Signature Type: adbe.pkcs7.detached"), std::string::npos) << sig.out;
  Result<PdfFacts> facts = InspectPdf(r->path);
  ASSERT_TRUE(facts.ok());
  const SignatureCheck& s = facts->signature;
  EXPECT_TRUE(s.digest_matches && s.attributes_ok) << s.problem;
  EXPECT_EQ(s.form, "PAdES-basic");
  EXPECT_EQ(s.policy_oid, "");
  EXPECT_TRUE(s.signing_time_attribute);
  EXPECT_FALSE(s.signing_certificate_v2);
  testing::SignatureParts parts;
  const std::string print = PrintCms(r->path, &parts);
  EXPECT_NE(print.find("object: signingTime"), std::string::npos) << print;
  EXPECT_EQ(print.find("sigPolicyId"), std::string::npos) << print;
  EXPECT_EQ(OpensslVerify(/*cades=*/false), 0);

  // PAdES-basic with a time-stamp: the same unsigned token, no policy.
  PdfSignatureOptions o = Options(SignatureForm::kPadesBasic);
  o.tsa = Tsa();
  auto t = WriteSigned("basic-t.pdf", 1, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  facts = InspectPdf(t->path);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts->signature.form, "PAdES-basic with time-stamp");
  EXPECT_TRUE(facts->signature.attributes_ok) << facts->signature.problem;
  EXPECT_FALSE(facts->signature.timestamp_time.empty());
  EXPECT_NE(RunTool({"pdfsig", t->path.string()}).out.find("Signature is Valid."), std::string::npos);
}

TEST_F(SignatureTest, ChangingOneByteBreaksTheSignature) {
  for (SignatureForm form : {SignatureForm::kIcpBrasil, SignatureForm::kPadesBasic}) {
    SCOPED_TRACE(std::string(SignatureFormName(form)));
    PdfSignatureOptions o = Options(form);
    o.tsa = Tsa();
    const std::string name = std::string(SignatureFormName(form)) + ".pdf";
    auto r = WriteSigned(name, 1, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    fs::path copy = dir_ / name;
    fs::copy_file(r->path, copy);
    std::vector<uint8_t> bytes = testing::WithSignedByteChanged(*ReadFile(copy));
    ASSERT_FALSE(bytes.empty());
    ASSERT_TRUE(WriteFileAtomic(copy, bytes).ok());
    Result<SignatureCheck> check = VerifySignatureBytes(copy);
    ASSERT_TRUE(check.ok());
    EXPECT_TRUE(check->present);
    EXPECT_FALSE(check->digest_matches);
    EXPECT_FALSE(check->problem.empty());
    testing::ToolOutput sig = RunTool({"pdfsig", copy.string()});
    EXPECT_EQ(sig.out.find("Signature is Valid."), std::string::npos) << sig.out;
  }
}

TEST_F(SignatureTest, BadKeyFilesAndAuthoritiesAreRefusedAtCreate) {
  struct Case {
    const char* name;
    std::function<void(PdfSignatureOptions&)> change;
    StatusCode code;
  } cases[] = {
      {"missing", [](PdfSignatureOptions& o) { o.pkcs12_path = *keys_ / "none.p12"; }, StatusCode::kUnavailable},
      {"wrong password", [](PdfSignatureOptions& o) { o.password = "errada"; }, StatusCode::kInvalidArgument},
      {"not PKCS#12", [](PdfSignatureOptions& o) { o.pkcs12_path = pki_->signer_cert; },
       StatusCode::kInvalidArgument},
      {"not an http URL", [](PdfSignatureOptions& o) { o.tsa->url = "ftp://act.example/tsa"; },
       StatusCode::kInvalidArgument},
      {"URL without host", [](PdfSignatureOptions& o) { o.tsa->url = "http:///tsa"; }, StatusCode::kInvalidArgument},
      {"no CA file", [](PdfSignatureOptions& o) { o.tsa->ca_file.clear(); }, StatusCode::kInvalidArgument},
      {"CA file missing", [](PdfSignatureOptions& o) { o.tsa->ca_file = *keys_ / "none.pem"; },
       StatusCode::kUnavailable},
      {"CA file not PEM", [](PdfSignatureOptions& o) { o.tsa->ca_file = pki_->signer_p12; },
       StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PdfOptions o;
    o.signature = Options();
    o.signature->tsa = Tsa();
    c.change(*o.signature);
    auto w = PdfWriter::Create(o);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.status().code(), c.code) << w.status().ToString();
  }
  EXPECT_EQ(tsa_->requests(), 0);
}

// pdfsig and our own check agree: the signature is valid and covers the
// whole file.
void ExpectWholeFileSignedAndValid(const fs::path& pdf) {
  testing::ToolOutput sig = RunTool({"pdfsig", pdf.string()});
  EXPECT_NE(sig.out.find("Signature Validation: Signature is Valid."), std::string::npos) << sig.out;
  EXPECT_NE(sig.out.find("Total document signed"), std::string::npos) << sig.out;
  Result<PdfFacts> facts = InspectPdf(pdf);
  ASSERT_TRUE(facts.ok());
  EXPECT_TRUE(facts->signature.digest_matches && facts->signature.attributes_ok) << facts->signature.problem;
}

// Issue 14: a correction of a signed PDF signs it again; a writer that
// does not sign refuses to touch it.
TEST_F(SignatureTest, RewritingTheMetadataSignsAgain) {
  auto r = WriteSigned("signed.pdf", 2, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  PdfDocumentInfo info;
  info.document_id = "doc-1";
  info.fields = {{"cpf", "529.982.247-25"}};
  Result<std::unique_ptr<PdfWriter>> plain = PdfWriter::Create(PdfOptions{});
  ASSERT_TRUE(plain.ok());
  Result<PdfResult> refused = (*plain)->RewriteMetadata(r->path, info, r->path);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status().ToString();
  EXPECT_EQ(*Sha256OfFile(r->path), r->sha256);  // untouched
  PdfOptions o;
  o.signature = Options();
  Result<std::unique_ptr<PdfWriter>> signer = PdfWriter::Create(o);
  ASSERT_TRUE(signer.ok());
  Result<PdfResult> again = (*signer)->RewriteMetadata(r->path, info, r->path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectWholeFileSignedAndValid(r->path);
  // TearDown: still PDF/A for Preflight.
}

// Issue 14, a page re-scanned: replacing the first page (which holds the
// signature widget) signs the file again, the widget now on the new page.
TEST_F(SignatureTest, ReplacingTheFirstPageSignsAgain) {
  auto r = WriteSigned("signed-pages.pdf", 2, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Page page = testing::MakeTextPage(400, 500, 100, {"nova"}, 3);
  page.color_class = ColorClass::kBw;
  page = *(*ImageEncodeStage::Create({}))->Run(std::move(page), PageContext{});
  const PdfPageInput in = PdfPageInputFromPage(page);
  PdfOptions o;
  o.signature = Options();
  Result<std::unique_ptr<PdfWriter>> signer = PdfWriter::Create(o);
  ASSERT_TRUE(signer.ok());
  PdfDocumentInfo info;
  info.document_id = "doc-1";
  Result<PdfResult> again = (*signer)->RewritePages(r->path, {1, true, &in}, info, r->path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->pages, 2);
  ExpectWholeFileSignedAndValid(r->path);
  EXPECT_NE(RunTool({"pdftotext", "-f", "1", "-l", "1", r->path.string(), "-"}).out.find("nova"), std::string::npos);
  // TearDown: still PDF/A for Preflight.
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

// The policy identifier on its own: what it encodes decodes to the table's
// values, a different hash or an explicit NULL parameter is named as a
// mismatch, and the policy's signing period is enforced.
TEST(SignaturePolicyTest, EncodesDecodesAndChecks) {
  for (const SignaturePolicy* p : {&IcpBrasilAdRb(), &IcpBrasilAdRt()}) {
    SCOPED_TRACE(p->name);
    std::vector<uint8_t> der = EncodeSignaturePolicyId(*p);
    ASSERT_FALSE(der.empty());
    Result<DeclaredPolicy> d = DecodeSignaturePolicyId(der);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->oid, p->oid);
    EXPECT_EQ(d->uri, p->uri);
    EXPECT_EQ(d->hash.size(), 32u);
    EXPECT_EQ(PolicyMismatch(*d, *p), "");
    EXPECT_EQ(FindSignaturePolicy(p->oid), p);

    DeclaredPolicy other_hash = *d;
    other_hash.hash[5] ^= 1;
    EXPECT_NE(PolicyMismatch(other_hash, *p).find("ITI publishes"), std::string::npos);
    DeclaredPolicy with_null = *d;
    with_null.hash_algorithm += " (with parameters)";
    EXPECT_NE(PolicyMismatch(with_null, *p), "");
  }
  EXPECT_EQ(FindSignaturePolicy("2.16.76.1.7.1.1.2.3"), nullptr);  // CAdES AD-RB, not PAdES
  EXPECT_FALSE(DecodeSignaturePolicyId(std::vector<uint8_t>{0x30, 0x03, 0x02, 0x01, 0x01}).ok());

  const SignaturePolicy& rb = IcpBrasilAdRb();
  EXPECT_TRUE(CheckSigningPeriod(rb, rb.signing_from).ok());
  EXPECT_TRUE(CheckSigningPeriod(rb, rb.signing_until - 1).ok());
  Status late = CheckSigningPeriod(rb, rb.signing_until);
  EXPECT_EQ(late.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(late.message().find("2037-10-22"), std::string::npos) << late.ToString();
  EXPECT_FALSE(CheckSigningPeriod(rb, rb.signing_from - 1).ok());
}

}  // namespace
}  // namespace acervo
