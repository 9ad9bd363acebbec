// End to end: a page scanned in colour on cream paper goes through `acervo
// run` and its PDF keeps the paper's colour (the clean stage whitens it only
// for OCR and the text masks; issue 16, docs/profile.md `[image]
// color_paper`); with `color_paper = "white"` the paper is white. The text
// OCR stores is the same both ways, and both PDFs pass PDF/A-1b Preflight.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::ReadText;
using testing::RunProcess;

const cv::Vec3b kCream(196, 226, 240);  // BGR: a yellowed, cream sheet
const cv::Vec3b kInk(80, 35, 25);       // BGR: dark-blue ink

// The median colour of the paper (pixels at least as light as the page's
// median) of `bgr`, per channel.
cv::Vec3b PaperColour(const cv::Mat& bgr) {
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  std::vector<uint8_t> g(gray.begin<uint8_t>(), gray.end<uint8_t>());
  std::nth_element(g.begin(), g.begin() + g.size() / 2, g.end());
  const uint8_t light = g[g.size() / 2];
  cv::Vec3b out;
  for (int c = 0; c < 3; ++c) {
    std::vector<uint8_t> v;
    for (int y = 0; y < bgr.rows; ++y) {
      for (int x = 0; x < bgr.cols; ++x) {
        if (gray.at<uint8_t>(y, x) >= light) v.push_back(bgr.at<cv::Vec3b>(y, x)[c]);
      }
    }
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    out[c] = v[v.size() / 2];
  }
  return out;
}

struct LotRun {
  fs::path pdf;
  std::string text;
  cv::Mat rendered;
};

LotRun RunLot(const fs::path& root, const std::string& name, const cv::Mat& page, const std::string& profile) {
  const fs::path lot = root / (name + "-lot");
  fs::create_directories(lot);
  EXPECT_TRUE(cv::imwrite((lot / "page.png").string(), page));
  std::ofstream(lot / "profile.toml") << profile;
  const fs::path out = root / (name + "-out");
  testing::ProcessResult run = RunProcess({AcervoBinary(), "run", lot.string(), "--out", out.string(), "--jobs",
                                           "1", "--lot-id", name, "--text", "-q"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  LotRun r;
  r.pdf = out / name / "page.pdf";
  r.text = ReadText((out / name / "page.txt").string());
  const fs::path png = root / (name + "-render");
  testing::ProcessResult render =
      RunProcess({"pdftoppm", "-png", "-singlefile", "-r", "100", r.pdf.string(), png.string()});
  EXPECT_EQ(render.exit_code, 0) << render.err;
  r.rendered = cv::imread(png.string() + ".png", cv::IMREAD_COLOR);
  return r;
}

TEST(ColorPaperTest, ColourPagesKeepTheirPaperUnlessAskedWhite) {
  const fs::path root = fs::temp_directory_path() / ("acervo-colorpaper-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);

  synth::PageSpec spec;
  spec.dpi = 200;
  spec.width_mm = 150;
  spec.height_mm = 110;
  spec.paper_tint = false;
  spec.noise_sigma = 3;
  spec.specks = 0;
  spec.blocks.push_back({"CERTIDÃO DE ARQUIVAMENTO", 14, true, true, 8});
  spec.blocks.push_back({"Certifico que o processo administrativo de licenciamento foi arquivado nesta data, "
                         "com todas as folhas numeradas e rubricadas, conforme o despacho do secretário.",
                         11});
  Result<synth::SynthPage> gray = synth::RenderPage(spec);
  ASSERT_TRUE(gray.ok()) << gray.status().ToString();
  // The gray page says where the ink is: cream paper, dark-blue ink, and a
  // red stamp (what makes a page colour).
  cv::Mat page(gray->image.size(), CV_8UC3);
  for (int y = 0; y < page.rows; ++y) {
    for (int x = 0; x < page.cols; ++x) {
      const double a = gray->image.at<uint8_t>(y, x) / 255.0;
      for (int c = 0; c < 3; ++c) {
        page.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uint8_t>(kCream[c] * a + kInk[c] * (1 - a));
      }
    }
  }
  const int r = page.cols / 14;
  cv::circle(page, cv::Point(page.cols - 2 * r, page.rows - 2 * r), r, cv::Scalar(45, 30, 190), r / 6);

  const std::string common = "[ocr]\npage_deadline_s = 0\n";
  const LotRun scan = RunLot(root, "scan", page, "[image]\n" + common);
  const LotRun white = RunLot(root, "white", page, "[image]\ncolor_paper = \"white\"\n" + common);
  ASSERT_FALSE(scan.rendered.empty());
  ASSERT_FALSE(white.rendered.empty());

  const cv::Vec3b kept = PaperColour(scan.rendered);
  const cv::Vec3b whitened = PaperColour(white.rendered);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(kept[c], kCream[c], 6) << "channel " << c << ": the PDF keeps the scan's paper";
    EXPECT_GE(whitened[c], 248) << "channel " << c << ": color_paper = \"white\" whitens it";
  }
  // OCR read the same cleaned page both ways.
  EXPECT_FALSE(scan.text.empty());
  EXPECT_EQ(scan.text, white.text);
  EXPECT_NE(scan.text.find("arquivado"), std::string::npos) << scan.text;
  EXPECT_EQ(testing::PdfaProblems(std::vector<fs::path>{scan.pdf, white.pdf}), "");
  fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
