#include "acervo/pipeline/profile.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

TEST(ProfileTest, ParsesAllSections) {
  const char* text = R"(
[lot]
id = "lote-7"
project = "Arquivo Municipal"
box = "CX-12"
operator = "Ana"

[image]
deskew = false

[ocr]
languages = "por"
min_confidence = 70

[pdf]
jpeg_quality = 60
mixed_raster = false

[[fields]]
name = "processo"
type = "process_number"
required = true

[[fields]]
name = "tipo"
type = "enum"
allowed = ["a", "b"]
)";
  Result<LotProfile> p = ParseProfile(text, "profile.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->lot_id, "lote-7");
  EXPECT_EQ(p->operator_name, "Ana");
  EXPECT_FALSE(p->deskew);
  EXPECT_TRUE(p->orientation);
  EXPECT_EQ(p->languages, "por");
  EXPECT_EQ(p->min_confidence, 70);
  EXPECT_EQ(p->jpeg_quality, 60);
  EXPECT_FALSE(p->mixed_raster);
  EXPECT_TRUE(LotProfile{}.mixed_raster);
  ASSERT_EQ(p->fields.size(), 2u);
  EXPECT_TRUE(p->fields[0].required);
  EXPECT_EQ(p->fields[0].label, "processo");
  EXPECT_EQ(p->fields[1].allowed, (std::vector<std::string>{"a", "b"}));
}

TEST(ProfileTest, BadProfilesAreRefusedWithLineAndReason) {
  struct Case { std::string text; std::string want; };
  std::vector<Case> cases = {
      {"[image]\ndeskw = false\n", "line 2: unknown key 'deskw'"},
      {"[ocr]\nmin_confidence = 300\n", "line 2: 'min_confidence' must be between"},
      {"[image]\ndeskew = \"yes\"\n", "line 2: 'deskew' must be true or false"},
      {"[lot\nid = 1\n", "line 1"},
      {"[[fields]]\nname = \"x\"\ntype = \"money\"\n", "unknown type 'money'"},
      {"[[fields]]\nname = \"t\"\ntype = \"enum\"\n", "needs 'allowed'"},
      {"[[fields]]\nname = \"a\"\n[[fields]]\nname = \"a\"\n", "defined twice"},
      {"[lot]\nid = \"../x\"\n", "lot id must not contain"},
      {"color = 1\n", "unknown key 'color'"},
      // Issue 12: non-finite numbers, control characters, untyped types,
      // patterns RE2 cannot run in linear time.
      {"[pdf]\njpeg_quality = nan\n", "line 2: 'jpeg_quality' must be a finite number, not nan"},
      {"[ocr]\nmin_confidence = nan\n", "line 2: 'min_confidence' must be a finite number"},
      {"[ocr]\npage_deadline_s = inf\n", "line 2: 'page_deadline_s' must be a finite number, not inf"},
      {"[separation]\nblank_max_ink = -nan\n", "line 2: 'blank_max_ink' must be a finite number"},
      {"[lot]\nproject = \"a\\u000bb\"\n", "line 2: 'project' has a control character U+000B"},
      {"[[fields]]\nname = \"cpf\"\ntypes = [\"certidao\"]\n", "not in [[types]] (the profile declares no [[types]])"},
      {"[[fields]]\nname = \"x\"\nregex = '(a)\\1'\n", "line 3: 'regex' is not a regular expression Acervo can run"},
      {"[[fields]]\nname = \"x\"\nextract = '(?=a)b'\n", "line 3: 'extract' is not a regular expression"},
      {"[image]\nblank_documents = \"drop\"\n", "line 2: blank_documents must be"},
  };
  for (const Case& c : cases) {
    Result<LotProfile> p = ParseProfile(c.text, "profile.toml");
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.want), std::string::npos) << p.status().ToString();
    EXPECT_EQ(p.status().message().rfind("profile.toml", 0), 0u) << p.status().ToString();
  }
}

// Issue 5: the lot's default scanner ([scanner]) for acervo scan / watch.
TEST(ProfileTest, ScannerSectionGivesDefaultsAndRefusesTypos) {
  Result<LotProfile> p = ParseProfile(
      "[scanner]\ndriver = \"sane\"\ndevice = \"test:0\"\nsource = \"adf\"\nmode = \"gray\"\n"
      "resolution = 300\nduplex = true\nready_marker = \"PRONTO\"\n"
      "[scanner.options]\nread-delay = false\ndepth = 8\ntest-picture = \"Grid\"\n",
      "profile.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->scanner.driver, "sane");
  EXPECT_EQ(p->scanner.device, "test:0");
  EXPECT_EQ(p->scanner.source, "adf");
  EXPECT_EQ(p->scanner.mode, "gray");
  EXPECT_EQ(p->scanner.resolution, 300);
  EXPECT_TRUE(p->scanner.duplex);
  EXPECT_EQ(p->scanner.ready_marker, "PRONTO");
  using Opts = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(p->scanner.options, (Opts{{"depth", "8"}, {"read-delay", "no"}, {"test-picture", "Grid"}}));
  struct Case { std::string text; std::string want; };
  std::vector<Case> cases = {
      {"[scanner]\ndevise = \"x\"\n", "unknown key 'devise' in [scanner]"},
      {"[scanner]\nsource = \"tray\"\n", "source 'tray'"},
      {"[scanner]\ndriver = \"wia\"\n", "driver 'wia'"},
      {"[scanner]\nready_marker = \"a/b\"\n", "file name, not a path"},
      {"[scanner.options]\nx = [1]\n", "must be a string, number or boolean"},
  };
  for (const Case& c : cases) {
    Result<LotProfile> bad = ParseProfile(c.text, "profile.toml");
    ASSERT_FALSE(bad.ok()) << c.text;
    EXPECT_NE(bad.status().message().find(c.want), std::string::npos) << bad.status().ToString();
  }
}

// Issue 6: document types, field rules, separation and metadata sources.
TEST(ProfileTest, TypesRulesSeparationAndMetadata) {
  Result<LotProfile> p = ParseProfile(R"(
[[types]]
name = "certidao"
label = "Certidão"

[[fields]]
name = "cpf"
type = "cpf"
required = true
regex = '\d{3}\.\d{3}\.\d{3}-\d{2}'
extract = 'CPF[:\s]*([0-9.\-]{11,14})'
types = ["certidao"]

[separation]
rule = "patch"
patch_codes = ["II"]

[metadata]
sources = ["separator", "manifest"]
)", "profile.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->types.size(), 1u);
  EXPECT_EQ(p->types[0].label, "Certidão");
  ASSERT_NE(p->FindField("cpf"), nullptr);
  EXPECT_TRUE(p->FindField("cpf")->regex != nullptr);
  EXPECT_TRUE(p->FindField("cpf")->extract != nullptr);
  EXPECT_EQ(p->separation.kind, SeparationRule::Kind::kPatch);
  EXPECT_EQ(p->separation.patch_codes, std::vector<std::string>{"II"});
  EXPECT_EQ(p->metadata_sources, (std::vector<std::string>{"separator", "manifest"}));

  struct Case { std::string text; std::string want; };
  const std::vector<Case> cases = {
      {"[[fields]]\nname = \"x\"\nregex = \"(\"\n", "line 3: 'regex' is not a regular expression Acervo can run"},
      {"[[fields]]\nname = \"x\"\nextract = \"(a)(b)\"\n", "more than one capture group"},
      {"[[types]]\nname = \"a\"\n[[fields]]\nname = \"x\"\ntypes = [\"b\"]\n", "names type 'b'"},
      {"[[types]]\nname = \"a\"\n[[types]]\nname = \"a\"\n", "line 3: document type 'a' is defined twice"},
      {"[separation]\nrule = \"qr\"\n", "line 2: unknown separation rule 'qr'"},
      {"[separation]\nrule = \"fixed\"\n", "rule 'fixed' needs 'pages'"},
      {"[separation]\nrule = \"patch\"\npatch_codes = [\"V\"]\n", "line 3: unknown patch code 'V'"},
      {"[separation]\npagez = 2\n", "line 2: unknown key 'pagez' in [separation]"},
      {"[metadata]\nsources = [\"ocr\", \"ocr\"]\n", "line 2: metadata source 'ocr' is listed twice"},
      {"[metadata]\nsources = [\"fax\"]\n", "unknown metadata source 'fax'"},
  };
  for (const Case& c : cases) {
    Result<LotProfile> bad = ParseProfile(c.text, "profile.toml");
    ASSERT_FALSE(bad.ok()) << c.text;
    EXPECT_NE(bad.status().message().find(c.want), std::string::npos) << bad.status().ToString();
  }
}

// Every [image] key: defaults when absent, each parsed, bad values refused
// with the line and the reason.
TEST(ProfileTest, ImageSectionKeys) {
  const LotProfile defaults;
  EXPECT_TRUE(defaults.orientation);
  EXPECT_TRUE(defaults.deskew);
  EXPECT_TRUE(defaults.blank_detection);
  EXPECT_TRUE(defaults.border);
  EXPECT_TRUE(defaults.clean);
  EXPECT_TRUE(defaults.binarize);
  EXPECT_DOUBLE_EQ(defaults.blank_threshold, 0.3);
  EXPECT_FALSE(defaults.split);
  Result<LotProfile> empty = ParseProfile("[image]\n", "profile.toml");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->orientation && empty->deskew && empty->blank_detection && empty->border &&
              empty->clean && empty->binarize);
  EXPECT_DOUBLE_EQ(empty->blank_threshold, 0.3);
  EXPECT_FALSE(empty->split);
  EXPECT_EQ(empty->color_paper, "scan");

  Result<LotProfile> all = ParseProfile(
      "[image]\norientation = false\ndeskew = false\nblank_detection = false\nborder = false\n"
      "clean = false\nbinarize = false\nblank_threshold = 0.45\nsplit = true\ncolor_paper = \"white\"\n",
      "profile.toml");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_FALSE(all->orientation);
  EXPECT_FALSE(all->deskew);
  EXPECT_FALSE(all->blank_detection);
  EXPECT_FALSE(all->border);
  EXPECT_FALSE(all->clean);
  EXPECT_FALSE(all->binarize);
  EXPECT_DOUBLE_EQ(all->blank_threshold, 0.45);
  EXPECT_TRUE(all->split);
  EXPECT_EQ(all->color_paper, "white");

  struct Case {
    std::string text;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"[image]\norientation = 1\n", "line 2: 'orientation' must be true or false"},
      {"[image]\n\nclean = \"no\"\n", "line 3: 'clean' must be true or false"},
      {"[image]\nbinarize = \"off\"\n", "line 2: 'binarize' must be true or false"},
      {"[image]\nsplit = \"yes\"\n", "line 2: 'split' must be true or false"},
      {"[image]\ncolor_paper = \"cream\"\n", "line 2: color_paper must be \"scan\" or \"white\""},
      {"[image]\nblank_threshold = 1.5\n", "line 2: 'blank_threshold' must be between"},
      {"[image]\nblank_threshold = 0\n", "line 2: 'blank_threshold' must be between"},
      {"[image]\nblank_threshold = \"low\"\n", "line 2: 'blank_threshold'"},
      {"[image]\nborders = true\n", "line 2: unknown key 'borders'"},
      {"image = true\n", "'image'"},
  };
  for (const Case& c : cases) {
    Result<LotProfile> p = ParseProfile(c.text, "profile.toml");
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(p.status().message().find(c.want), std::string::npos) << p.status().ToString();
  }
}

// Issue 19: the signature form and the time-stamp authority.
TEST(ProfileTest, SignatureSectionFormAndTimestampAuthority) {
  Result<LotProfile> p = ParseProfile("[signature]\npkcs12 = \"k.p12\"\n", "profile.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->signature.has_value());
  EXPECT_EQ(p->signature->form, "icp-brasil");  // the default
  EXPECT_EQ(p->signature->tsa_url, "");

  p = ParseProfile(
      "[signature]\npkcs12 = \"k.p12\"\nform = \"pades-basic\"\ntsa_url = \"https://act.exemplo.gov.br/tsa\"\n"
      "tsa_ca = \"act.pem\"\ntsa_user = \"prefeitura\"\ntsa_password_env = \"SENHA_ACT\"\ntsa_timeout = 7\n",
      "profile.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->signature->form, "pades-basic");
  EXPECT_EQ(p->signature->tsa_url, "https://act.exemplo.gov.br/tsa");
  EXPECT_EQ(p->signature->tsa_ca, "act.pem");
  EXPECT_EQ(p->signature->tsa_user, "prefeitura");
  EXPECT_EQ(p->signature->tsa_password_env, "SENHA_ACT");
  EXPECT_EQ(p->signature->tsa_timeout_s, 7);

  struct Case { std::string keys; std::string want; };
  const std::vector<Case> cases = {
      {"form = \"cades\"\n", "line 3: [signature] form must be"},
      {"tsa_url = \"ftp://act/tsa\"\ntsa_ca = \"a.pem\"\n", "line 3: [signature] tsa_url must be an http"},
      {"tsa_url = \"http://act/tsa\"\n", "line 3: [signature] tsa_url needs 'tsa_ca'"},
      {"tsa_ca = \"a.pem\"\n", "line 3: [signature] tsa_ca is set but tsa_url is not"},
      {"tsa_url = \"http://act/tsa\"\ntsa_ca = \"a.pem\"\ntsa_timeout = 0\n", "'tsa_timeout' must be between"},
      {"tsa_server = \"x\"\n", "unknown key 'tsa_server'"},
  };
  for (const Case& c : cases) {
    Result<LotProfile> bad = ParseProfile("[signature]\npkcs12 = \"k.p12\"\n" + c.keys, "profile.toml");
    ASSERT_FALSE(bad.ok()) << c.keys;
    EXPECT_NE(bad.status().message().find(c.want), std::string::npos) << bad.status().ToString();
  }
}

}  // namespace
}  // namespace acervo
