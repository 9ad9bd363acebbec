// The image chain of `acervo preprocess` / `acervo run` (orientation, colour,
// deskew, border, clean, blank, binarize) on generated A4 pages at 200, 300
// and 600 dpi: 8-bit gray, a 24-bit colour scan of a black-and-white page
// (tinted paper) and a 24-bit page with a red stamp (stays colour).
// BM_ImageChain is the whole chain (orientation included); BM_ChainStage is
// each stage alone on the page as the chain hands it over (stage, dpi,
// mode), so the per-stage figures add up to the chain. Also border, clean,
// binarize and the fast orientation detector alone at 300 dpi. One core:
// OpenCV's own threads are disabled. The target is the whole chain
// <= 100 ms per 300 dpi A4 page.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/core/memory.h"
#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/stages/binarize/binarize.h"
#include "acervo/stages/border/border.h"
#include "acervo/stages/clean/clean.h"
#include "acervo/stages/orientation/fast_orientation.h"
#include "acervo/synth/synth.h"

namespace acervo {
namespace {

enum Mode { kGray = 0, kColourScanOfBw = 1, kColourPage = 2 };

// A4 page of running text, skewed 2.3 deg, with specks, punch holes and a
// dark border; cached per (dpi, mode).
const cv::Mat& A4Page(int dpi, int mode) {
  static std::map<std::pair<int, int>, cv::Mat> cache;
  cv::Mat& img = cache[{dpi, mode}];
  if (!img.empty()) return img;
  synth::PageSpec spec;
  spec.dpi = dpi;
  spec.skew_deg = 2.3;
  spec.punch_holes = true;
  spec.dark_border = true;
  const char* text =
      "A digitalização de acervos documentais exige cuidado com cada folha. Os processos "
      "antigos foram arquivados em caixas numeradas, e cada caixa recebe uma etiqueta com o "
      "número do lote, a data e o nome do operador responsável pela captura das imagens. ";
  for (int i = 0; i < 9; ++i) spec.blocks.push_back({text, 11});
  img = std::move(synth::RenderPage(spec)).value().image;
  if (mode != kGray) {
    cv::Mat bgr;
    cv::cvtColor(img, bgr, cv::COLOR_GRAY2BGR);
    // Yellowed paper: less blue.
    bgr.forEach<cv::Vec3b>([](cv::Vec3b& p, const int*) { p[0] = static_cast<uint8_t>(p[0] * 0.88); });
    if (mode == kColourPage) {
      const double s = dpi / 300.0;
      cv::circle(bgr, cv::Point(static_cast<int>(1800 * s), static_cast<int>(3000 * s)),
                 static_cast<int>(180 * s), cv::Scalar(40, 40, 200), std::max(2, static_cast<int>(14 * s)));
    }
    img = bgr;
  }
  return img;
}

void BM_ImageChain(benchmark::State& state) {
  cv::setNumThreads(1);
  const int dpi = static_cast<int>(state.range(0));
  const cv::Mat& image = A4Page(dpi, static_cast<int>(state.range(1)));
  Result<StageChain> chain = BuildImageChain(LotProfile());
  if (!chain.ok()) {
    state.SkipWithError(chain.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    Page page;
    page.image = image;
    page.dpi_x = page.dpi_y = dpi;
    Result<Page> out = chain->Run(std::move(page), PageContext());
    if (!out.ok()) state.SkipWithError(out.status().ToString().c_str());
    benchmark::DoNotOptimize(out);
  }
  state.counters["Mpx"] = image.total() / 1e6;
}
BENCHMARK(BM_ImageChain)
    ->ArgsProduct({{200, 300, 600}, {kGray, kColourScanOfBw, kColourPage}})
    ->ArgNames({"dpi", "mode"})
    ->Unit(benchmark::kMillisecond);

// Each stage of the chain alone, on the page as it reaches that stage in
// the chain (the output of the stages before it, computed once). Args: stage
// index in BuildImageChain's order (0 orientation, 1 color, 2 deskew,
// 3 border, 4 clean, 5 blank, 6 binarize), dpi, mode.
void BM_ChainStage(benchmark::State& state) {
  cv::setNumThreads(1);
  const size_t index = static_cast<size_t>(state.range(0));
  const int dpi = static_cast<int>(state.range(1));
  const cv::Mat& image = A4Page(dpi, static_cast<int>(state.range(2)));
  Result<StageChain> chain = BuildImageChain(LotProfile());
  if (!chain.ok() || index >= chain->entries.size()) {
    state.SkipWithError("no such stage in the image chain");
    return;
  }
  Page input;
  input.image = image;
  input.dpi_x = input.dpi_y = dpi;
  for (size_t i = 0; i < index; ++i) {
    Result<Page> r = chain->entries[i].stage->Run(input, PageContext());
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    input = std::move(r).value();
  }
  PageStage& stage = *chain->entries[index].stage;
  state.SetLabel(std::string(stage.Name()));
  for (auto _ : state) {
    Result<Page> out = stage.Run(input, PageContext());
    if (!out.ok()) state.SkipWithError(out.status().ToString().c_str());
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ChainStage)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6}, {200, 300, 600}, {kGray, kColourScanOfBw, kColourPage}})
    ->ArgNames({"stage", "dpi", "mode"})
    ->Unit(benchmark::kMillisecond);

void BM_FastOrientation(benchmark::State& state) {
  cv::setNumThreads(1);
  const cv::Mat& image = A4Page(300, kGray);
  for (auto _ : state) {
    Result<FastOrientation> est = DetectOrientationFast(image, FastOrientationOptions(), 300);
    benchmark::DoNotOptimize(est);
  }
}
BENCHMARK(BM_FastOrientation)->Unit(benchmark::kMillisecond);

void BM_Border(benchmark::State& state) {
  cv::setNumThreads(1);
  const cv::Mat& image = A4Page(300, kGray);
  for (auto _ : state) {
    Result<BorderEstimate> est = DetectBorder(image, BorderOptions(), 300);
    cv::Mat out = RemoveBorder(image, *est);
    benchmark::DoNotOptimize(out.data);
  }
}
BENCHMARK(BM_Border)->Unit(benchmark::kMillisecond);

void BM_Clean(benchmark::State& state) {
  cv::setNumThreads(1);
  const cv::Mat& image = A4Page(300, kGray);
  std::unique_ptr<PageStage> stage = std::move(CleanStage::Create(CleanOptions())).value();
  for (auto _ : state) {
    Page page;
    page.image = image;
    Result<Page> out = stage->Run(std::move(page), PageContext());
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Clean)->Unit(benchmark::kMillisecond);

void BM_Binarize(benchmark::State& state) {
  cv::setNumThreads(1);
  const cv::Mat& image = A4Page(300, kGray);
  for (auto _ : state) {
    Result<cv::Mat> out = Binarize(image, BinarizeOptions(), 300);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Binarize)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace acervo

// As the `acervo` binary does (pipeline/src/main.cc): the chain is measured
// with the allocator settings it runs with.
int main(int argc, char** argv) {
  acervo::TuneAllocatorForPageImages();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
