// Separation end to end without OCR: `acervo sheets`' PDF is rendered the
// way a printer+scanner would see it (pdftoppm, then scan-like degradation
// by the samples/ generator), mixed with generated document pages into a lot
// folder, and PlanLot must cut the lot at those very sheets.
#include "acervo/pipeline/separation.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/sheets.h"
#include "acervo/synth/synth.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using synth::FileFormat;
using synth::PageSpec;
using synth::ScanLikeSpec;
using synth::SynthPage;
using synth::TextBlock;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/acervo-separation-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Runs a program with a fixed argv (no shell); its exit status.
int Run(const std::vector<std::string>& argv) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

constexpr int kDpi = 150;

// The sheets of `pdf` as a scanner would return them.
std::vector<cv::Mat> ScanSheets(const fs::path& pdf, const fs::path& dir) {
  const fs::path prefix = dir / "sheet";
  EXPECT_EQ(Run({"pdftoppm", "-r", std::to_string(kDpi), "-gray", "-png", pdf.string(), prefix.string()}), 0);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("sheet-", 0) == 0 && e.path().extension() == ".png") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<cv::Mat> out;
  uint64_t seed = 7;
  for (const fs::path& f : files) {
    cv::Mat clean = cv::imread(f.string(), cv::IMREAD_GRAYSCALE);
    ScanLikeSpec spec;
    spec.seed = seed++;
    spec.skew_deg = (seed % 2 ? 1.2 : -0.9);
    Result<cv::Mat> scanned = synth::ScanLike(clean, spec);
    EXPECT_TRUE(scanned.ok());
    out.push_back(*scanned);
    fs::remove(f);
  }
  return out;
}

cv::Mat TextPage(const std::string& text, uint64_t seed) {
  PageSpec spec;
  spec.dpi = kDpi;
  spec.seed = seed;
  spec.skew_deg = 0.5;
  // A real page: the heading plus a body of several lines.
  std::string body;
  for (int i = 0; i < 12; ++i) body += "Certifico e dou fé que o presente documento foi lavrado neste cartório.\n";
  spec.blocks = {TextBlock{text}, TextBlock{body}};
  Result<SynthPage> p = synth::RenderPage(spec);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? p->image : cv::Mat();
}

cv::Mat BlankPage(uint64_t seed) {
  PageSpec spec;
  spec.dpi = kDpi;
  spec.seed = seed;
  Result<SynthPage> p = synth::RenderPage(spec);
  EXPECT_TRUE(p.ok());
  return p->image;
}

void WriteLot(const fs::path& dir, const std::vector<cv::Mat>& pages, const std::string& profile) {
  fs::create_directories(dir);
  for (size_t i = 0; i < pages.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "%04zu.png", i + 1);
    ASSERT_TRUE(synth::WritePages(dir / name, {pages[i]}, kDpi, FileFormat::kPng).ok());
  }
  std::ofstream(dir / "profile.toml") << profile;
}

TEST(SeparatorPayloadTest, RoundTripAndErrors) {
  SeparatorPayload p;
  p.type = "certidão";
  p.id = "CX12-004";
  p.fields = {{"nome", "Maria da Silva; filha"}, {"cpf", "529.982.247-25"}};
  const std::string text = FormatSeparatorPayload("ACERVO", p);
  EXPECT_EQ(text.find(' '), std::string::npos) << text;
  Result<SeparatorPayload> back = ParseSeparatorPayload(text, "ACERVO");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->type, "certidão");
  EXPECT_EQ(back->id, "CX12-004");
  EXPECT_EQ(back->fields, p.fields);

  struct Case {
    std::string text;
    StatusCode code;
  };
  for (const Case& c : std::vector<Case>{{"ACERVO", StatusCode::kOk},
                                         {"ACERVOX", StatusCode::kNotFound},
                                         {"0000001-78.2020.8.26.0100", StatusCode::kNotFound},
                                         {"ACERVO;type", StatusCode::kInvalidArgument},
                                         {"ACERVO;nome=a%2", StatusCode::kInvalidArgument},
                                         {"ACERVO;nome=a%zz", StatusCode::kInvalidArgument}}) {
    EXPECT_EQ(ParseSeparatorPayload(c.text, "ACERVO").status().code(), c.code) << c.text;
  }
}

TEST(SeparationTest, PrintedSheetsAreReadBackAfterScanning) {
  TempDir tmp;
  SheetSpec qr;
  qr.payload.type = "certidao";
  qr.payload.fields = {{"nome", "João da Conceição"}};
  SheetSpec code128 = qr;
  code128.kind = SheetSpec::Kind::kCode128;
  code128.payload.fields.clear();
  std::vector<SheetSpec> sheets = {qr, code128};
  for (const char* patch : {"I", "II", "III", "IV", "VI", "T"}) {
    SheetSpec s;
    s.kind = SheetSpec::Kind::kPatch;
    s.patch = patch;
    sheets.push_back(s);
  }
  ASSERT_TRUE(WriteSeparatorSheets(sheets, tmp.path() / "sheets.pdf").ok());
  EXPECT_FALSE(fs::exists(tmp.path() / "sheets.pdf.tmp"));
  std::vector<cv::Mat> scans = ScanSheets(tmp.path() / "sheets.pdf", tmp.path());
  ASSERT_EQ(scans.size(), sheets.size());

  SeparationRule barcode;
  barcode.kind = SeparationRule::Kind::kBarcode;
  for (int i = 0; i < 2; ++i) {
    Result<PageSignal> s = ClassifyPage(scans[i], kDpi, barcode);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(s->separator) << "sheet " << i;
    EXPECT_EQ(s->payload, FormatSeparatorPayload("ACERVO", sheets[i].payload));
  }
  SeparationRule patch;
  patch.kind = SeparationRule::Kind::kPatch;
  patch.patch_codes = {"I", "II", "III", "IV", "VI", "T"};
  for (size_t i = 2; i < sheets.size(); ++i) {
    Result<PageSignal> s = ClassifyPage(scans[i], kDpi, patch);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->kind, "patch " + sheets[i].patch);
  }
  // Neither reads a text page as a separator, nor a patch sheet as a barcode.
  const cv::Mat text = TextPage("Certidão de nascimento.\nProcesso 0000001-78.2020.8.26.0100.", 3);
  EXPECT_FALSE(ClassifyPage(text, kDpi, barcode)->separator);
  EXPECT_FALSE(ClassifyPage(text, kDpi, patch)->separator);
  EXPECT_FALSE(ClassifyPage(scans[3], kDpi, barcode)->separator);
}

TEST(SeparationTest, PatchSheetFedUpsideDownStillSeparatesWhenUnambiguous) {
  TempDir tmp;
  std::vector<SheetSpec> sheets(2);
  sheets[0].kind = sheets[1].kind = SheetSpec::Kind::kPatch;
  sheets[0].patch = "T";
  sheets[1].patch = "VI";
  ASSERT_TRUE(WriteSeparatorSheets(sheets, tmp.path() / "sheets.pdf").ok());
  std::vector<cv::Mat> scans = ScanSheets(tmp.path() / "sheets.pdf", tmp.path());
  ASSERT_EQ(scans.size(), 2u);
  cv::Mat t_turned, vi_turned;
  cv::rotate(scans[0], t_turned, cv::ROTATE_180);
  cv::rotate(scans[1], vi_turned, cv::ROTATE_180);

  SeparationRule rule;  // default patch codes: II and T
  rule.kind = SeparationRule::Kind::kPatch;
  Result<PageSignal> s = ClassifyPage(t_turned, kDpi, rule);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->separator);
  EXPECT_EQ(s->kind, "patch T (upside down)");
  // VI turned over reads as I; neither is in the profile.
  EXPECT_FALSE(ClassifyPage(vi_turned, kDpi, rule)->separator);
  rule.patch_codes = {"I"};
  EXPECT_EQ(ClassifyPage(vi_turned, kDpi, rule)->kind, "patch I");  // read as printed on the page
  rule.patch_codes = {"VI"};
  EXPECT_EQ(ClassifyPage(vi_turned, kDpi, rule)->kind, "patch VI (upside down)");
  // With both III and T in the profile the reading is taken as it is.
  rule.patch_codes = {"III", "T"};
  EXPECT_EQ(ClassifyPage(t_turned, kDpi, rule)->kind, "patch III");
  EXPECT_EQ(ClassifyPage(scans[0], kDpi, rule)->kind, "patch T");
}

TEST(SeparationTest, PlanLotCutsAGeneratedLotAtItsSheets) {
  TempDir tmp;
  std::vector<SheetSpec> sheets(2);
  sheets[0].payload.type = "certidao";
  sheets[0].payload.id = "CERT-1";
  sheets[0].payload.fields = {{"nome", "Maria"}};
  sheets[1].payload.type = "oficio";
  SheetSpec patch;
  patch.kind = SheetSpec::Kind::kPatch;
  patch.patch = "T";
  sheets.push_back(patch);
  ASSERT_TRUE(WriteSeparatorSheets(sheets, tmp.path() / "sheets.pdf").ok());
  std::vector<cv::Mat> scans = ScanSheets(tmp.path() / "sheets.pdf", tmp.path());
  ASSERT_EQ(scans.size(), 3u);
  const cv::Mat a1 = TextPage("Certidão, folha um.", 11), a2 = TextPage("Certidão, folha dois.", 12),
                b1 = TextPage("Ofício número sete.", 13), c1 = TextPage("Despacho.", 14);

  // Barcode rule: [sheet A] a1 a2 [sheet B] b1 — a trailing page before any
  // sheet would be its own document.
  const fs::path lot = tmp.path() / "lot-barcode";
  WriteLot(lot, {scans[0], a1, a2, scans[1], b1}, "[separation]\nrule = \"barcode\"\n");
  std::ofstream(lot / "manifest.csv") << "document_id,protocolo\nCERT-1,77\n";
  Result<LotPlan> plan = PlanLot(lot, PlanOptions{"L1"});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->documents.size(), 2u);
  EXPECT_EQ(plan->documents[0].id, "CERT-1");
  EXPECT_EQ(plan->documents[0].type, "certidao");
  EXPECT_EQ(plan->documents[0].pages.size(), 2u);
  ASSERT_EQ(plan->documents[0].fields.size(), 2u);
  EXPECT_EQ(plan->documents[0].field_sources.at("nome"), "separator 0001.png");
  EXPECT_EQ(plan->documents[0].field_sources.at("protocolo"), "manifest.csv line 2");
  EXPECT_EQ(plan->documents[1].id, "L1-0001");
  EXPECT_EQ(plan->documents[1].type, "oficio");
  EXPECT_EQ(plan->documents[1].pages.size(), 1u);
  ASSERT_EQ(plan->separators.size(), 2u);
  EXPECT_EQ(plan->separators[1].page.file, 3);
  EXPECT_EQ(plan->files.size(), 5u);  // every sheet stays an input: kept as a master
  EXPECT_TRUE(plan->problems.empty());

  // Patch rule (T), in a multi-page TIFF: a1 [T] b1 c1.
  const fs::path lot2 = tmp.path() / "lot-patch";
  fs::create_directories(lot2);
  ASSERT_TRUE(synth::WritePages(lot2 / "scan.tif", {a1, scans[2], b1, c1}, kDpi, FileFormat::kTiffLzw).ok());
  std::ofstream(lot2 / "profile.toml") << "[separation]\nrule = \"patch\"\npatch_codes = [\"T\"]\n";
  plan = PlanLot(lot2, PlanOptions{"L2"});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->documents.size(), 2u);
  EXPECT_EQ(plan->documents[0].pages.size(), 1u);
  EXPECT_EQ(plan->documents[1].pages.size(), 2u);
  EXPECT_EQ(plan->documents[1].pages[0].page_in_file, 3);
  ASSERT_EQ(plan->separators.size(), 1u);
  EXPECT_EQ(plan->separators[0].kind, "patch T");

  // Blank rule: a1 [blank blank] b1 [blank] c1 -> 3 documents.
  const fs::path lot3 = tmp.path() / "lot-blank";
  WriteLot(lot3, {a1, BlankPage(1), BlankPage(2), b1, BlankPage(3), c1}, "[separation]\nrule = \"blank\"\n");
  plan = PlanLot(lot3, PlanOptions{"L3"});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->documents.size(), 3u);
  EXPECT_EQ(plan->separators.size(), 3u);

  // Fixed rule: 5 pages by 2 -> 2 + 2 + 1.
  const fs::path lot4 = tmp.path() / "lot-fixed";
  WriteLot(lot4, {a1, a2, b1, c1, a1}, "[separation]\nrule = \"fixed\"\npages = 2\n");
  plan = PlanLot(lot4, PlanOptions{"L4"});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->documents.size(), 3u);
  EXPECT_EQ(plan->documents[2].pages.size(), 1u);
}

}  // namespace
}  // namespace acervo
