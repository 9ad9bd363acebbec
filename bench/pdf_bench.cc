// Benchmarks of the PDF stage: encoding one 300-dpi A4 page (JPEG at several
// qualities, CCITT G4, Flate) and writing a 10-page searchable PDF. Counters
// report bytes per page so that size and speed are read side by side.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "acervo/core/page.h"
#include "acervo/stages/pdf/image_encode.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace {

// A text-like A4 page at 300 dpi: slightly grey paper with mild noise and
// ~10-pt lines of text, plus its word boxes.
acervo::Page A4TextPage(double noise_sigma) {
  constexpr int kW = 2480, kH = 3508;
  acervo::Page page;
  page.dpi_x = page.dpi_y = 300;
  page.color_class = acervo::ColorClass::kGray;
  cv::Mat img(kH, kW, CV_8UC1, cv::Scalar(232));
  // Sensor noise is what JPEG spends most bytes on; the clean stage removes
  // much of it, so both cases are measured.
  cv::Mat noise(kH, kW, CV_16SC1);
  cv::randn(noise, 0, noise_sigma);
  cv::Mat img16;
  img.convertTo(img16, CV_16SC1);
  img16 += noise;
  img16.convertTo(img, CV_8UC1);
  const std::string line = "Certidao de nascimento, registro 1234, Conceicao, folha 56";
  int row = 0;
  for (int y = 250; y + 60 < kH - 250; y += 58, ++row) {
    cv::putText(img, line, cv::Point(240, y), cv::FONT_HERSHEY_SIMPLEX, 1.25, cv::Scalar(25), 3,
                cv::LINE_AA);
    int x = 240;
    for (int i = 0; i < 8; ++i) {
      acervo::Word w;
      w.text = "palavra";
      w.box = cv::Rect(x, y - 30, 220, 38);
      w.line = row;
      page.words.push_back(w);
      x += 250;
    }
  }
  page.image = img;
  return page;
}

const acervo::Page& SharedPage(bool noisy = false) {
  static const acervo::Page clean = A4TextPage(0);
  static const acervo::Page noisy_page = A4TextPage(4);
  return noisy ? noisy_page : clean;
}

// Args: quality, noisy (0/1). Counters: bytes and the mean absolute error of
// the ink pixels (value < 128 in the original), a proxy for edge crispness.
void BM_EncodeJpegGray(benchmark::State& state) {
  const cv::Mat& img = SharedPage(state.range(1) != 0).image;
  std::vector<uint8_t> bytes;
  for (auto _ : state) {
    auto e = acervo::EncodeJpeg(img, static_cast<int>(state.range(0)));
    if (!e.ok()) state.SkipWithError(e.status().ToString().c_str());
    bytes = std::move(e->bytes);
  }
  cv::Mat back = cv::imdecode(bytes, cv::IMREAD_GRAYSCALE);
  cv::Mat diff;
  cv::absdiff(back, img, diff);
  state.counters["bytes_per_page"] = static_cast<double>(bytes.size());
  state.counters["ink_mae"] = cv::mean(diff, img < 128)[0];
}
BENCHMARK(BM_EncodeJpegGray)
    ->ArgsProduct({{50, 60, 75, 85, 95}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

void BM_EncodeG4(benchmark::State& state) {
  const cv::Mat& img = SharedPage().image;
  size_t bytes = 0;
  for (auto _ : state) {
    auto e = acervo::EncodeCcittG4(img);
    if (!e.ok()) state.SkipWithError(e.status().ToString().c_str());
    bytes = e->bytes.size();
  }
  state.counters["bytes_per_page"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeG4)->Unit(benchmark::kMillisecond);

void BM_EncodeFlateGray(benchmark::State& state) {
  const cv::Mat& img = SharedPage().image;
  size_t bytes = 0;
  for (auto _ : state) {
    auto e = acervo::EncodeFlate(img);
    if (!e.ok()) state.SkipWithError(e.status().ToString().c_str());
    bytes = e->bytes.size();
  }
  state.counters["bytes_per_page"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeFlateGray)->Unit(benchmark::kMillisecond);

// Writes a 10-page PDF of already-encoded pages (arg 0: JPEG q75, 1: G4).
void BM_WritePdf10Pages(benchmark::State& state) {
  acervo::Page page = SharedPage();
  page.color_class = state.range(0) == 0 ? acervo::ColorClass::kGray : acervo::ColorClass::kBw;
  auto stage = acervo::ImageEncodeStage::Create(acervo::EncodeOptions{});
  auto encoded = (*stage)->Run(page, acervo::PageContext{});
  if (!encoded.ok()) {
    state.SkipWithError(encoded.status().ToString().c_str());
    return;
  }
  auto writer = acervo::PdfWriter::Create(acervo::PdfOptions{});
  if (!writer.ok()) {
    state.SkipWithError(writer.status().ToString().c_str());
    return;
  }
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("acervo-pdf-bench-" + std::to_string(std::random_device{}()) + ".pdf");
  uint64_t bytes = 0;
  for (auto _ : state) {
    if (!(*writer)->Begin(path, {}).ok()) state.SkipWithError("Begin failed");
    for (int i = 0; i < 10; ++i) {
      if (!(*writer)->AddPage(acervo::PdfPageInputFromPage(*encoded)).ok()) {
        state.SkipWithError("AddPage failed");
      }
    }
    auto r = (*writer)->End();
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    bytes = r->bytes;
  }
  std::filesystem::remove(path);
  state.counters["bytes_per_page"] = static_cast<double>(bytes) / 10;
  state.counters["words_per_page"] = static_cast<double>(page.words.size());
}
BENCHMARK(BM_WritePdf10Pages)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
