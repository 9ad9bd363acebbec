// page_metrics: the per-page measurements bench/real_pages.py needs and
// Python alone would compute too slowly (no numpy on Debian's OCRmyPDF
// machine).
//
//   page_metrics cer
//       reads lines "TRUTH_FILE<TAB>TEXT_FILE" on stdin and prints one line
//       "CER" per input line: the whitespace-normalised character error rate
//       of the text against the truth (acervo::synth::CharacterErrorRate, the
//       measure of bench/corpus_ocr_eval), or "nan" when a file is missing.
//   page_metrics fidelity MASTER RENDERED
//       compares a page rendered from a PDF (pdftoppm) with the master image
//       it was made from, both read by Acervo's own decoder (alpha flattened
//       on white) and compared in gray: prints "ssim=S psnr=P psnr_rgb=C
//       worst_tile=W tiles_over_12=F" (mean SSIM over 8x8 Gaussian windows,
//       sigma 1.5; PSNR in dB, of the gray and of the three colour channels
//       (their mean squared error); the largest mean absolute error of a 32x32 tile and the
//       share of tiles whose error exceeds 12 grey levels, the bounds the
//       mixed-raster encoder keeps). The rendered page is resized to the
//       master's size when the two differ by a rounding pixel or two.
//   page_metrics glyphs IMAGE
//       prints the page's glyph size as the OCR stage measures it
//       (MeasureGlyphs): "glyph_height=H count=N".
//
// Exit codes: 0 success, 1 a file could not be read, 2 bad command line.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <opencv2/imgproc.hpp>

#include "acervo/core/files.h"
#include "acervo/scanner/image_file.h"
#include "acervo/stages/imageops/imageops.h"
#include "acervo/synth/synth.h"

namespace {

bool ReadText(const std::string& path, std::string* out) {
  acervo::Result<std::vector<uint8_t>> bytes = acervo::ReadFile(path);
  if (!bytes.ok()) return false;
  out->assign(bytes->begin(), bytes->end());
  return true;
}

int Cer() {
  std::string line;
  while (std::getline(std::cin, line)) {
    const size_t tab = line.find('\t');
    std::string truth, text;
    if (tab == std::string::npos || !ReadText(line.substr(0, tab), &truth) ||
        !ReadText(line.substr(tab + 1), &text)) {
      std::printf("nan\n");
    } else {
      std::printf("%.5f\n", acervo::synth::CharacterErrorRate(text, truth));
    }
    std::fflush(stdout);
  }
  return 0;
}

// The page as BGR (a gray page as three equal channels).
cv::Mat LoadColour(const std::string& path) {
  acervo::Result<std::vector<uint8_t>> bytes = acervo::ReadFile(path);
  if (!bytes.ok()) return {};
  acervo::Result<acervo::DecodedPage> page = acervo::DecodeImagePage(*bytes, 0, path);
  if (!page.ok()) return {};
  if (page->image.channels() == 3) return page->image;
  cv::Mat bgr;
  cv::cvtColor(page->image, bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}

cv::Mat ToGray(const cv::Mat& bgr) {
  cv::Mat gray;
  if (!bgr.empty()) cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  return gray;
}

cv::Mat LoadGray(const std::string& path) { return ToGray(LoadColour(path)); }

double Psnr(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  diff.convertTo(diff, CV_32F);
  const cv::Scalar mse = cv::mean(diff.mul(diff));
  double sum = 0;
  for (int c = 0; c < a.channels(); ++c) sum += mse[c];
  return 10.0 * std::log10(255.0 * 255.0 / std::max(1e-9, sum / a.channels()));
}

double Ssim(const cv::Mat& a8, const cv::Mat& b8) {
  // Wang et al. 2004 with the usual constants, on 0..255 gray.
  const double c1 = 6.5025, c2 = 58.5225;
  cv::Mat a, b;
  a8.convertTo(a, CV_32F);
  b8.convertTo(b, CV_32F);
  auto blur = [](const cv::Mat& m) {
    cv::Mat out;
    cv::GaussianBlur(m, out, cv::Size(7, 7), 1.5);
    return out;
  };
  cv::Mat mu_a = blur(a), mu_b = blur(b);
  cv::Mat mu_a2 = mu_a.mul(mu_a), mu_b2 = mu_b.mul(mu_b), mu_ab = mu_a.mul(mu_b);
  cv::Mat s_a = blur(a.mul(a)) - mu_a2, s_b = blur(b.mul(b)) - mu_b2, s_ab = blur(a.mul(b)) - mu_ab;
  cv::Mat num = (2 * mu_ab + c1).mul(2 * s_ab + c2);
  cv::Mat den = (mu_a2 + mu_b2 + c1).mul(s_a + s_b + c2);
  cv::Mat map;
  cv::divide(num, den, map);
  return cv::mean(map)[0];
}

int Fidelity(const std::string& master_path, const std::string& rendered_path) {
  const cv::Mat master_bgr = LoadColour(master_path);
  cv::Mat rendered_bgr = LoadColour(rendered_path);
  if (master_bgr.empty() || rendered_bgr.empty()) {
    std::fprintf(stderr, "page_metrics: cannot read %s\n",
                 master_bgr.empty() ? master_path.c_str() : rendered_path.c_str());
    return 1;
  }
  if (rendered_bgr.size() != master_bgr.size()) {
    cv::resize(rendered_bgr, rendered_bgr, master_bgr.size(), 0, 0, cv::INTER_AREA);
  }
  const cv::Mat master = ToGray(master_bgr), rendered = ToGray(rendered_bgr);
  const double ssim = Ssim(master, rendered);
  const double psnr = Psnr(master, rendered);
  // Colour: what gray hides (a hue shifted, chroma smeared by subsampling).
  const double psnr_rgb = Psnr(master_bgr, rendered_bgr);
  cv::Mat diff;
  cv::absdiff(master, rendered, diff);
  double worst = 0;
  int tiles = 0, over = 0;
  for (int y = 0; y + 32 <= diff.rows; y += 32) {
    for (int x = 0; x + 32 <= diff.cols; x += 32) {
      const double e = cv::mean(diff(cv::Rect(x, y, 32, 32)))[0];
      worst = std::max(worst, e);
      ++tiles;
      over += e > 12;
    }
  }
  std::printf("ssim=%.4f psnr=%.2f psnr_rgb=%.2f worst_tile=%.1f tiles_over_12=%.4f\n", ssim, psnr, psnr_rgb,
              worst, tiles > 0 ? static_cast<double>(over) / tiles : 0.0);
  return 0;
}

}  // namespace

int Glyphs(const std::string& path) {
  cv::Mat gray = LoadGray(path);
  if (gray.empty()) return 1;
  acervo::GlyphSize g = acervo::MeasureGlyphs(gray);
  std::printf("glyph_height=%.1f count=%d\n", g.height_px, g.count);
  return 0;
}

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "glyphs" && argc == 3) return Glyphs(argv[2]);
  if (cmd == "cer" && argc == 2) return Cer();
  if (cmd == "fidelity" && argc == 4) return Fidelity(argv[2], argv[3]);
  std::fprintf(stderr, "usage: page_metrics cer < PAIRS | page_metrics fidelity MASTER RENDERED\n");
  return 2;
}
