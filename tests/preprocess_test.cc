// End to end: `acervo preprocess` on generated scans whose orientation,
// skew and blankness are known, plus a damaged file. Checks the JSON report
// (every key the CLI documents), the written pages, that the inputs are
// untouched, and that the bad file is named with its reason while the other
// pages complete.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "support/process.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

struct Spec {
  const char* file;
  int orientation_deg;
  double skew_deg;
  bool blank;
};

TEST(PreprocessTest, ReportsWhatEachStageFoundAndWritesThePages) {
  const fs::path root = fs::temp_directory_path() / ("acervo-preprocess-e2e-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "in");
  const Spec specs[] = {{"reto.png", 0, 0, false},
                        {"torto.png", 0, 3.2, false},
                        {"de-ponta-cabeca.tif", 180, -1.4, false},
                        {"deitado.png", 90, 0.8, false},
                        {"verso-em-branco.png", 0, 1.0, true}};
  std::vector<std::string> argv = {testing::AcervoBinary(), "preprocess", "--json", "--out",
                                   (root / "out").string()};
  std::map<std::string, std::string> sha_before;
  for (const Spec& s : specs) {
    synth::PageSpec spec;
    spec.dpi = 200;
    spec.orientation_deg = s.orientation_deg;
    spec.skew_deg = s.skew_deg;
    spec.punch_holes = true;
    spec.dark_border = true;
    spec.seed = static_cast<uint64_t>(s.orientation_deg + 7);
    if (s.blank) {
      spec.bleed_through = 0.12;
    } else {
      spec.blocks.push_back({"Certidão de nascimento lavrada no livro de registro, folha quarenta "
                             "e duas, pelo oficial do cartório da comarca de Campinas, que a "
                             "subscreve e dá fé pública do ato praticado na data abaixo.", 11});
      for (int i = 0; i < 3; ++i) spec.blocks.push_back(spec.blocks[0]);
    }
    Result<synth::SynthPage> page = synth::RenderPage(spec);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    const fs::path path = root / "in" / s.file;
    ASSERT_TRUE(synth::WritePages(path, {page->image}, spec.dpi,
                                  path.extension() == ".tif" ? synth::FileFormat::kTiffLzw
                                                             : synth::FileFormat::kPng).ok());
    sha_before[path.string()] = *Sha256OfFile(path);
    argv.push_back(path.string());
  }
  // A PNG cut in half.
  std::vector<uint8_t> png = *ReadFile(root / "in" / "reto.png");
  png.resize(png.size() / 2);
  ASSERT_TRUE(WriteFileAtomic(root / "in" / "cortado.png", png).ok());
  argv.push_back((root / "in" / "cortado.png").string());

  testing::ProcessResult r = testing::RunProcess(argv);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // one bad file
  EXPECT_NE(r.err.find("cortado.png"), std::string::npos) << r.err;
  // The error is a JSON object on stderr; stdout holds the processed pages only.
  EXPECT_NE(r.err.find("\"error\""), std::string::npos) << r.err;
  json report = json::parse(r.out);
  ASSERT_TRUE(report.is_array());
  ASSERT_EQ(report.size(), std::size(specs));
  for (size_t i = 0; i < std::size(specs); ++i) {
    const Spec& s = specs[i];
    const json& j = report[i];
    SCOPED_TRACE(s.file);
    for (const char* key : {"input", "page", "orientation_deg", "skew_deg", "blank", "blank_score",
                            "color_class", "crop", "ms"}) {
      EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j["page"], 1);
    EXPECT_EQ(j["blank"], s.blank);
    if (!s.blank) {
      EXPECT_EQ(j["orientation_deg"], s.orientation_deg);
      EXPECT_NEAR(j["skew_deg"].get<double>(), s.skew_deg, 0.15);
      EXPECT_GE(j["blank_score"].get<double>(), 0.3);
      EXPECT_EQ(j["color_class"], "bw");
      EXPECT_TRUE(j["bitonal"].get<bool>());
    }
    // The dark border (1-6 mm a side) was cropped away.
    const json& crop = j["crop"];
    cv::Mat in = cv::imread(j["input"].get<std::string>(), cv::IMREAD_GRAYSCALE);
    const double kept = static_cast<double>(crop["w"].get<int>()) * crop["h"].get<int>();
    EXPECT_LE(crop["x"].get<int>() + crop["w"].get<int>(), in.cols);
    EXPECT_LE(crop["y"].get<int>() + crop["h"].get<int>(), in.rows);
    EXPECT_LT(kept, static_cast<double>(in.total()));
    EXPECT_GT(kept, 0.85 * static_cast<double>(in.total()));
    cv::Mat out = cv::imread(j["output"].get<std::string>(), cv::IMREAD_GRAYSCALE);
    ASSERT_FALSE(out.empty());
    // Upright: a sideways page comes out portrait again.
    EXPECT_GT(out.rows, out.cols);
  }
  // The stderr line of the bad file is a JSON object naming it.
  bool named = false;
  for (size_t at = 0, nl; (nl = r.err.find('\n', at)) != std::string::npos; at = nl + 1) {
    const json e = json::parse(r.err.substr(at, nl - at), nullptr, false);
    named |= e.is_object() && e.value("error", "").find("cortado.png") != std::string::npos;
  }
  EXPECT_TRUE(named) << r.err;
  for (const auto& [path, sha] : sha_before) EXPECT_EQ(*Sha256OfFile(path), sha) << path;
  if (!HasFailure()) fs::remove_all(root);
}

// A two-page spread with a profile that has `[image] split = true` (the
// key `acervo run` splits by; no --split): two pages, left then right, the
// right one's crop in the spread's pixels beyond the gutter.
TEST(PreprocessTest, ProfileSplitTurnsASpreadIntoTwoPages) {
  const fs::path root = fs::temp_directory_path() / ("acervo-preprocess-split-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  std::vector<cv::Mat> halves;
  for (uint64_t seed : {5, 6}) {
    synth::PageSpec spec;
    spec.dpi = 150;
    spec.width_mm = 148;
    spec.height_mm = 210;
    spec.margin_mm = 15;
    spec.seed = seed;
    // Several paragraphs: a half needs real text on it to count as a page.
    for (int i = 0; i < 4; ++i) {
      spec.blocks.push_back({seed == 5 ? "Carta escrita na vila de Ouro Preto em maio, com a assinatura do escrivão "
                                         "e de duas testemunhas que a tudo assistiram."
                                       : "Registro do batismo celebrado na matriz do Pilar naquele mesmo ano, "
                                         "sendo padrinhos os avós maternos da criança.", 11});
    }
    Result<synth::SynthPage> page = synth::RenderPage(spec);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    halves.push_back(page->image);
  }
  cv::Mat spread;
  cv::hconcat(halves[0], halves[1], spread);
  ASSERT_TRUE(synth::WritePages(root / "livro.png", {spread}, 150, synth::FileFormat::kPng).ok());
  ASSERT_TRUE(WriteFileAtomic(root / "profile.toml", std::string("[image]\nsplit = true\n")).ok());
  testing::ProcessResult r =
      testing::RunProcess({testing::AcervoBinary(), "preprocess", "--json", "--profile", (root / "profile.toml").string(),
                           "--out", (root / "out").string(), (root / "livro.png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  ASSERT_TRUE(report.is_array());
  ASSERT_EQ(report.size(), 2u) << r.out;
  EXPECT_EQ(report[0]["half"], "left");
  EXPECT_EQ(report[1]["half"], "right");
  EXPECT_TRUE(fs::exists(root / "out" / "livro-001-L.png"));
  EXPECT_TRUE(fs::exists(root / "out" / "livro-001-R.png"));
  EXPECT_LT(report[0]["crop"]["x"].get<int>() + report[0]["crop"]["w"].get<int>(),
            report[1]["crop"]["x"].get<int>() + 1);
  EXPECT_GT(report[1]["crop"]["x"].get<int>(), halves[0].cols * 0.85);
  if (!HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
