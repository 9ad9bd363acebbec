// Image-stage benchmarks: skew detection and the deskew stage on A4 pages at
// 200/300/600 dpi, gray and colour; orientation detection (Tesseract OSD);
// blank scoring; colour classification. One core (run with
// OMP_THREAD_LIMIT=1, as the pipeline does).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/stages/blank/blank.h"
#include "acervo/stages/color/color.h"
#include "acervo/stages/deskew/deskew.h"
#include "acervo/stages/orientation/orientation.h"

namespace acervo {
namespace {

// A4 page of Hershey text at `dpi`, skewed by 3.1 degrees, 1 or 3 channels.
cv::Mat A4TextPage(double dpi, bool colour) {
  const double s = dpi / 300;
  cv::Mat page(static_cast<int>(3508 * s), static_cast<int>(2480 * s), CV_8UC1,
               cv::Scalar(245));
  std::mt19937_64 rng(1);
  static const char* kWords[] = {"processo", "documento", "arquivo", "de",  "para",
                                 "com",      "the",       "quick",   "fox", "registro"};
  for (int y = static_cast<int>(400 * s); y < page.rows - 300 * s; y += static_cast<int>(70 * s)) {
    int x = static_cast<int>(295 * s);
    while (true) {
      std::string w = std::string(kWords[rng() % 10]) + " ";
      int base = 0;
      cv::Size sz = cv::getTextSize(w, cv::FONT_HERSHEY_DUPLEX, 1.3 * s, std::max(1, static_cast<int>(2 * s)), &base);
      if (x + sz.width > page.cols - 295 * s) break;
      cv::putText(page, w, cv::Point(x, y), cv::FONT_HERSHEY_DUPLEX, 1.3 * s, cv::Scalar(20),
                  std::max(1, static_cast<int>(2 * s)), cv::LINE_AA);
      x += sz.width;
    }
  }
  page = RotateImage(page, 3.1, RotateFill::kWhite, false);
  if (colour) cv::cvtColor(page, page, cv::COLOR_GRAY2BGR);
  return page;
}

// Args: dpi, colour (0/1).
void BM_DetectSkew(benchmark::State& state) {
  const double dpi = static_cast<double>(state.range(0));
  const cv::Mat page = A4TextPage(dpi, state.range(1) != 0);
  DeskewOptions options;
  for (auto _ : state) {
    Result<SkewEstimate> est = DetectSkew(page, options, dpi);
    benchmark::DoNotOptimize(est);
  }
}
BENCHMARK(BM_DetectSkew)->ArgsProduct({{200, 300, 600}, {0, 1}})->Unit(benchmark::kMillisecond);

// The whole stage: detection plus the cubic rotation of the page.
void BM_DeskewStage(benchmark::State& state) {
  const double dpi = static_cast<double>(state.range(0));
  const cv::Mat image = A4TextPage(dpi, state.range(1) != 0);
  std::unique_ptr<PageStage> stage = std::move(DeskewStage::Create(DeskewOptions())).value();
  for (auto _ : state) {
    Page page;
    page.image = image;
    page.dpi_x = page.dpi_y = dpi;
    Result<Page> out = stage->Run(std::move(page), PageContext());
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_DeskewStage)->ArgsProduct({{200, 300, 600}, {0, 1}})->Unit(benchmark::kMillisecond);

void BM_RotateImage(benchmark::State& state) {
  const cv::Mat page = A4TextPage(300, state.range(0) != 0);
  const bool cubic = state.range(1) != 0;
  for (auto _ : state) {
    cv::Mat out = RotateImage(page, -3.1, RotateFill::kBackground, cubic);
    benchmark::DoNotOptimize(out.data);
  }
}
BENCHMARK(BM_RotateImage)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond);

// The peer of RotateImage's linear path: cv::warpAffine, bilinear, same page
// and angle. Args: colour.
void BM_WarpAffineLinear(benchmark::State& state) {
  const cv::Mat page = A4TextPage(300, state.range(0) != 0);
  const cv::Point2f center(0.5f * (page.cols - 1), 0.5f * (page.rows - 1));
  const cv::Mat m = cv::getRotationMatrix2D(center, -3.1, 1.0);
  for (auto _ : state) {
    cv::Mat out;
    cv::warpAffine(page, out, m, page.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                   cv::Scalar::all(255));
    benchmark::DoNotOptimize(out.data);
  }
}
BENCHMARK(BM_WarpAffineLinear)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Args: dpi.
void BM_DetectOrientation(benchmark::State& state) {
  const double dpi = static_cast<double>(state.range(0));
  cv::Mat page = A4TextPage(dpi, false);
  cv::rotate(page, page, cv::ROTATE_90_COUNTERCLOCKWISE);
  Result<std::unique_ptr<OrientationDetector>> detector =
      OrientationDetector::Create(OrientationOptions());
  if (!detector.ok()) {
    state.SkipWithError(detector.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    Result<OrientationEstimate> est = (*detector)->DetectOrientation(page, dpi);
    benchmark::DoNotOptimize(est);
  }
}
BENCHMARK(BM_DetectOrientation)->Arg(200)->Arg(300)->Unit(benchmark::kMillisecond);

// Args: dpi, text (0 = blank paper, 1 = text page).
void BM_ScoreBlank(benchmark::State& state) {
  const double dpi = static_cast<double>(state.range(0));
  cv::Mat page = state.range(1) ? A4TextPage(dpi, false)
                                : cv::Mat(static_cast<int>(3508 * dpi / 300),
                                          static_cast<int>(2480 * dpi / 300), CV_8UC1,
                                          cv::Scalar(240));
  for (auto _ : state) {
    Result<BlankScore> s = ScoreBlank(page, BlankOptions(), dpi);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ScoreBlank)->ArgsProduct({{200, 300, 600}, {0, 1}})->Unit(benchmark::kMillisecond);

// Args: dpi, colour.
void BM_ClassifyColor(benchmark::State& state) {
  const double dpi = static_cast<double>(state.range(0));
  const cv::Mat page = A4TextPage(dpi, state.range(1) != 0);
  for (auto _ : state) {
    Result<ColorEstimate> est = ClassifyColor(page, ColorOptions(), dpi);
    benchmark::DoNotOptimize(est);
  }
}
BENCHMARK(BM_ClassifyColor)->ArgsProduct({{200, 300, 600}, {0, 1}})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace acervo

// OpenCV's own thread pool is switched off: the pipeline runs one page per
// worker thread, so per-page numbers are wanted for one core.
int main(int argc, char** argv) {
  cv::setNumThreads(0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
