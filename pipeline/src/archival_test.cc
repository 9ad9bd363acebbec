#include "acervo/pipeline/archival.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "acervo/pipeline/correction.h"
#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/profile.h"
#include "acervo/stages/pdf/pdf_writer.h"
#include "src/pdf_outputs.h"

namespace acervo {
namespace {

TEST(ArchivalTemplateTest, ExpandsPlaceholdersAndBraces) {
  const std::map<std::string, std::string> values = {{"processo", "0001-2"}, {"title", "Certidão"}};
  struct Case {
    const char* tmpl;
    const char* want;
  } cases[] = {
      {"", ""},
      {"literal", "literal"},
      {"Processo {processo}", "Processo 0001-2"},
      {"{title} – {processo}", "Certidão – 0001-2"},
      {"{{literal}}", "{literal}"},
      {"{missing}", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(ExpandTemplate(c.tmpl, values), c.want) << c.tmpl;
}

TEST(ArchivalTemplateTest, CheckRefusesUnknownNamesAndBadBraces) {
  const std::set<std::string> known = {"title", "processo"};
  EXPECT_TRUE(CheckTemplate("{title} {processo} {{x}}", known).ok());
  struct Case {
    const char* tmpl;
    const char* message;
  } cases[] = {
      {"{titel}", "unknown placeholder {titel}"},
      {"{title", "'{' without '}'"},
      {"title}", "'}' without '{'"},
  };
  for (const Case& c : cases) {
    Status s = CheckTemplate(c.tmpl, known);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.tmpl;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.ToString();
  }
}

constexpr char kProfile[] = R"(
[lot]
project = "Prefeitura de Santos"
operator = "Maria"

[pdf]
pdfa = "2b"
hocr = true
text = true

[[fields]]
name = "processo"
type = "text"

[[fields]]
name = "data"
type = "date"

[archival]
assunto = "Processo {processo}"
local_digitalizacao = "Santos/SP"
data_producao = "{data}"
orgao_publico = true
classe = "100.1"
destinacao_prevista = "guarda permanente"
genero = "textual"
prazo_guarda = "permanente"

[signature]
pkcs12 = "chave.p12"
password_env = "ACERVO_TEST_P12_PASSWORD"
reason = "Decreto 10.278/2020"
)";

TEST(ArchivalProfileTest, ParsesSectionsAndBuildsDocumentMetadata) {
  Result<LotProfile> p = ParseProfile(kProfile, "profile.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->pdfa, "2b");
  EXPECT_TRUE(p->hocr);
  EXPECT_FALSE(p->alto);
  EXPECT_TRUE(p->text);
  EXPECT_TRUE(p->archival.orgao_publico);
  ASSERT_TRUE(p->signature.has_value());
  EXPECT_EQ(p->signature->pkcs12, "chave.p12");

  DocumentPlan doc;
  doc.id = "doc-7";
  doc.type = "oficio";
  doc.title = "Ofício nº 7";
  doc.fields = {{"processo", "123/2024"}, {"data", "2024-03-15"}};
  ArchivalMetadata m = BuildArchivalMetadata(*p, doc, "lote-1", "2026-03-01T08:00:00Z");
  EXPECT_EQ(m.assunto, "Processo 123/2024");
  EXPECT_EQ(m.autor, "Prefeitura de Santos");  // default: the project
  EXPECT_EQ(m.responsavel_digitalizacao, "Maria");  // default: the operator
  EXPECT_EQ(m.titulo, "Ofício nº 7");
  EXPECT_EQ(m.tipo_documental, "oficio");
  EXPECT_EQ(m.identificador, "lote-1/doc-7");
  EXPECT_EQ(m.data_digitalizacao, "2026-03-01T08:00:00Z");
  EXPECT_EQ(m.local_digitalizacao, "Santos/SP");
  EXPECT_EQ(m.data_producao, "2024-03-15");
  EXPECT_EQ(m.classe, "100.1");
  EXPECT_EQ(m.destinacao_prevista, "guarda permanente");
  EXPECT_EQ(m.genero, "textual");
  EXPECT_EQ(m.prazo_guarda, "permanente");
}

// Issue 14: a correction (or a replaced page) rewrites the PDF's metadata
// from the stored row; its Subject is what a run writes: the assunto when
// the profile gives one, else the document type.
TEST(ArchivalProfileTest, RewrittenMetadataKeepsTheSubjectOfTheRun) {
  Result<LotProfile> p = ParseProfile(kProfile, "profile.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  DocumentRecord r;
  r.lot_id = "lote-1";
  r.document_id = "doc-7";
  r.document_type = "oficio";
  r.fields = {{"processo", "123/2024", "correction by maria"}};
  EXPECT_EQ(StoredPdfInfo(*p, r).subject, "Processo 123/2024");
  EXPECT_EQ(StoredPdfInfo(LotProfile{}, r).subject, "oficio");
}

TEST(ArchivalProfileTest, BadSectionsAreRefusedWithLineAndReason) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"[archival]\nassuntto = \"x\"\n", "unknown key 'assuntto' in [archival]"},
      {"[archival]\nassunto = \"{processo}\"\n", "line 2: [archival] assunto: unknown placeholder {processo}"},
      {"[archival]\norgao_publico = true\nclasse = \"1\"\n", "needs 'destinacao_prevista'"},
      {"[pdf]\npdfa = \"3u\"\n", "pdfa must be"},
      {"[pdf]\nhocr = \"yes\"\n", "'hocr' must be true or false"},
      {"[signature]\nreason = \"x\"\n", "[signature] needs 'pkcs12'"},
      {"[signature]\npkcs12 = \"a.p12\"\npassword = \"x\"\n", "unknown key 'password' in [signature]"},
  };
  for (const Case& c : cases) {
    Result<LotProfile> p = ParseProfile(c.text, "profile.toml");
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.message), std::string::npos) << p.status().ToString();
  }
}

TEST(ArchivalProfileTest, PdfOptionsFollowTheProfile) {
  Result<LotProfile> p = ParseProfile(kProfile, "profile.toml");
  ASSERT_TRUE(p.ok());
  ::unsetenv("ACERVO_TEST_P12_PASSWORD");
  Result<PdfOptions> o = PdfOptionsForLot(*p, "/lotes/l1");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(o.status().message().find("ACERVO_TEST_P12_PASSWORD"), std::string::npos);

  ::setenv("ACERVO_TEST_P12_PASSWORD", "segredo", 1);
  o = PdfOptionsForLot(*p, "/lotes/l1");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->pdfa, PdfaPart::k2b);
  ASSERT_TRUE(o->signature.has_value());
  EXPECT_EQ(o->signature->pkcs12_path, "/lotes/l1/chave.p12");
  EXPECT_EQ(o->signature->password, "segredo");
  EXPECT_EQ(o->signature->reason, "Decreto 10.278/2020");
  ::unsetenv("ACERVO_TEST_P12_PASSWORD");

  Result<PdfOptions> plain = PdfOptionsForLot(LotProfile{}, "/lotes/l1");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->pdfa, PdfaPart::k1b);
  EXPECT_FALSE(plain->signature.has_value());
  EXPECT_EQ(plain->icc_profile_path, kDefaultSrgbProfilePath);
}

// Issue 19: the signature form and the time-stamp authority reach the writer;
// the authority's password, like the key's, comes only from the environment.
TEST(ArchivalProfileTest, SignatureFormAndTimestampAuthorityFollowTheProfile) {
  Result<LotProfile> p = ParseProfile(
      "[signature]\npkcs12 = \"chave.p12\"\npassword_env = \"ACERVO_TEST_P12_PASSWORD\"\n"
      "form = \"pades-basic\"\ntsa_url = \"http://act.exemplo/tsa\"\ntsa_ca = \"act.pem\"\n"
      "tsa_user = \"prefeitura\"\ntsa_password_env = \"ACERVO_TEST_TSA_PASSWORD\"\ntsa_timeout = 9\n",
      "profile.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ::setenv("ACERVO_TEST_P12_PASSWORD", "segredo", 1);
  ::unsetenv("ACERVO_TEST_TSA_PASSWORD");
  Result<PdfOptions> o = PdfOptionsForLot(*p, "/lotes/l1");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(o.status().message().find("ACERVO_TEST_TSA_PASSWORD"), std::string::npos) << o.status().ToString();

  ::setenv("ACERVO_TEST_TSA_PASSWORD", "outro segredo", 1);
  o = PdfOptionsForLot(*p, "/lotes/l1");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_TRUE(o->signature.has_value());
  EXPECT_EQ(o->signature->form, SignatureForm::kPadesBasic);
  ASSERT_TRUE(o->signature->tsa.has_value());
  EXPECT_EQ(o->signature->tsa->url, "http://act.exemplo/tsa");
  EXPECT_EQ(o->signature->tsa->ca_file, "/lotes/l1/act.pem");
  EXPECT_EQ(o->signature->tsa->user, "prefeitura");
  EXPECT_EQ(o->signature->tsa->password, "outro segredo");
  EXPECT_EQ(o->signature->tsa->timeout_s, 9);
  ::unsetenv("ACERVO_TEST_TSA_PASSWORD");

  // Without form and authority: the ICP-Brasil form, no time-stamp.
  p = ParseProfile("[signature]\npkcs12 = \"chave.p12\"\npassword_env = \"ACERVO_TEST_P12_PASSWORD\"\n",
                   "profile.toml");
  ASSERT_TRUE(p.ok());
  o = PdfOptionsForLot(*p, "/lotes/l1");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->signature->form, SignatureForm::kIcpBrasil);
  EXPECT_FALSE(o->signature->tsa.has_value());
  ::unsetenv("ACERVO_TEST_P12_PASSWORD");
}

}  // namespace
}  // namespace acervo
