// Benchmarks of the PDF stage: encoding one 300-dpi A4 page (JPEG at several
// qualities, CCITT G4, Flate) and writing a 10-page searchable PDF. Counters
// report bytes per page so that size and speed are read side by side.
//
// BM_JpegCorpus / BM_JpegCorpusOcr (issue 4) choose the JPEG quality on real
// gray and colour scans of the shared corpus: bytes, PSNR, mean error on ink
// pixels and on paper, and the character error rate of Tesseract reading the
// decoded JPEG against the page's ground truth (the text a reader or a later
// re-OCR would get from the PDF's image). Mode 0 is the encoder Acervo uses
// (libjpeg-turbo, 4:2:0, optimised Huffman tables); mode 1 is what the
// encoder was before (OpenCV imencode, quality only), for comparison.
//   ./build/bench/pdf_bench --benchmark_filter=JpegCorpus
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <cctype>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "acervo/core/page.h"
#include "acervo/stages/ocr/ocr.h"
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


// ---- Real gray and colour scans (issue 4) ----

// Corpus pages the colour stage classes gray or colour (`acervo preprocess
// --json`), with the language of their ground truth.
struct CorpusPage {
  const char* file;
  bool color;
  const char* languages;
};
constexpr CorpusPage kCorpusPages[] = {
    {"scribeocr-benchmark/filing_01.png", false, "eng"},
    {"scribeocr-benchmark/table_09.png", false, "eng"},
    {"ptbr-dharma/barranquilla.png", false, "por"},
    {"unpaper-tests/imgsrc004.png", false, "eng"},
    {"scribeocr-benchmark/multicol_05.jpg", true, "eng"},
    {"ocrmypdf-resources/linn.png", true, "eng"},
    {"unpaper-tests/imgsrc003.png", true, "eng"},
    {"scribeocr-benchmark/multicol_01.png", false, "eng"},
};
constexpr int kCorpusPageCount = static_cast<int>(std::size(kCorpusPages));

std::filesystem::path CorpusDir() {
  const char* env = std::getenv("ACERVO_CORPUS_DIR");
  return env != nullptr ? std::filesystem::path(env) : std::filesystem::path(ACERVO_CORPUS_DIR);
}

const cv::Mat& CorpusImage(int index) {
  static std::vector<cv::Mat> cache(kCorpusPageCount);
  cv::Mat& m = cache[static_cast<size_t>(index)];
  if (m.empty()) {
    const CorpusPage& cp = kCorpusPages[index];
    m = cv::imread((CorpusDir() / cp.file).string(),
                   cp.color ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
  }
  return m;
}

// The old encoder: OpenCV's imencode with quality and optimised tables only.
std::vector<uint8_t> OpenCvJpeg(const cv::Mat& img, int quality) {
  std::vector<uint8_t> out;
  cv::imencode(".jpg", img, out, {cv::IMWRITE_JPEG_QUALITY, quality, cv::IMWRITE_JPEG_OPTIMIZE, 1});
  return out;
}

std::vector<uint8_t> EncodeCorpusJpeg(const cv::Mat& img, int quality, int mode) {
  if (mode == 1) return OpenCvJpeg(img, quality);
  auto e = acervo::EncodeJpeg(img, quality);
  return e.ok() ? std::move(e->bytes) : std::vector<uint8_t>{};
}

// Counters of a decoded JPEG against its source: PSNR over the page (gray
// for both), mean absolute error on ink (source gray < 128) and on paper.
void QualityCounters(const cv::Mat& src, const cv::Mat& back, benchmark::State& state) {
  cv::Mat g0, g1;
  if (src.channels() == 3) {
    cv::cvtColor(src, g0, cv::COLOR_BGR2GRAY);
    cv::cvtColor(back, g1, cv::COLOR_BGR2GRAY);
  } else {
    g0 = src;
    g1 = back;
  }
  cv::Mat diff;
  cv::absdiff(g0, g1, diff);
  state.counters["psnr"] = cv::PSNR(src, back);
  state.counters["ink_mae"] = cv::mean(diff, g0 < 128)[0];
  state.counters["paper_mae"] = cv::mean(diff, g0 >= 128)[0];
}

// Args: corpus page, quality, mode (0 = libjpeg-turbo 4:2:0 as Acervo
// encodes, 1 = the old OpenCV imencode). Counters: KB, the quality measures,
// and KB after Flate over the JPEG (what a [/FlateDecode /DCTDecode] stream
// would take).
void BM_JpegCorpus(benchmark::State& state) {
  const int index = static_cast<int>(state.range(0));
  const cv::Mat& img = CorpusImage(index);
  if (img.empty()) {
    state.SkipWithError("corpus page missing (set ACERVO_CORPUS_DIR)");
    return;
  }
  state.SetLabel(kCorpusPages[index].file);
  std::vector<uint8_t> bytes;
  for (auto _ : state) {
    bytes = EncodeCorpusJpeg(img, static_cast<int>(state.range(1)), static_cast<int>(state.range(2)));
  }
  if (bytes.empty()) {
    state.SkipWithError("encoding failed");
    return;
  }
  cv::Mat back = cv::imdecode(bytes, img.channels() == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
  state.counters["KB"] = static_cast<double>(bytes.size()) / 1024;
  const cv::Mat as_row(1, static_cast<int>(bytes.size()), CV_8UC1, bytes.data());
  auto deflated = acervo::EncodeFlate(as_row);
  if (deflated.ok()) state.counters["KB_flate"] = static_cast<double>(deflated->bytes.size()) / 1024;
  QualityCounters(img, back, state);
}
BENCHMARK(BM_JpegCorpus)
    ->ArgsProduct({benchmark::CreateDenseRange(0, kCorpusPageCount - 1, 1), {40, 50, 60, 75}, {0, 1}})
    ->Unit(benchmark::kMillisecond);


// Args: corpus page, background scale, background quality. Mixed raster
// content (G4 text mask, reduced JPEG background and ink foreground) with the fidelity
// bounds switched off, so every page reports its sizes and errors; the
// counter `accepted` says whether the default bounds take the page.
// Counters: KB (all layers), mask_KB, worst_tile, share_over and mean_err (the
// fidelity measures, grey levels), psnr, ink_mae, paper_mae.
void BM_MixedRasterCorpus(benchmark::State& state) {
  const int index = static_cast<int>(state.range(0));
  const cv::Mat& img = CorpusImage(index);
  if (img.empty()) {
    state.SkipWithError("corpus page missing (set ACERVO_CORPUS_DIR)");
    return;
  }
  state.SetLabel(kCorpusPages[index].file);
  acervo::MixedRasterOptions o;
  o.background_scale = static_cast<int>(state.range(1));
  o.background_quality = static_cast<int>(state.range(2));
  acervo::MixedRasterOptions unbounded = o;
  unbounded.max_share_over = 1;
  unbounded.max_any_tile_error = unbounded.max_mean_error = 255;
  std::optional<acervo::EncodedImage> packed;
  for (auto _ : state) {
    auto r = acervo::EncodeMixedRaster(img, unbounded, SIZE_MAX);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    packed = std::move(r).value();
  }
  if (!packed) {
    state.SkipWithError("no ink found");
    return;
  }
  auto layers = acervo::UnpackMixedRaster(*packed);
  auto rebuilt = acervo::RenderMixedRaster(*layers);
  cv::Mat gray = img, ink;
  if (img.channels() == 3) cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
  cv::threshold(gray, ink, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  const acervo::MixedRasterError err =
      acervo::MixedRasterFidelity(img, *rebuilt, ink, o.max_tile_error);
  auto bounded = acervo::EncodeMixedRaster(img, o, SIZE_MAX);
  state.counters["KB"] = static_cast<double>(packed->bytes.size()) / 1024;
  state.counters["mask_KB"] = static_cast<double>(layers->mask.bytes.size()) / 1024;
  state.counters["worst_tile"] = err.worst_tile;
  state.counters["mean_err"] = err.mean;
  state.counters["share_over"] = err.share_over;
  state.counters["accepted"] = bounded.ok() && bounded->has_value() ? 1 : 0;
  QualityCounters(img, *rebuilt, state);
}
BENCHMARK(BM_MixedRasterCorpus)
    ->ArgsProduct({benchmark::CreateDenseRange(0, kCorpusPageCount - 1, 1), {3}, {50}})
    ->Unit(benchmark::kMillisecond);

// Levenshtein distance over Unicode-agnostic bytes of whitespace-normalised
// text, divided by the reference length.
std::string NormaliseSpace(const std::string& s) {
  std::string out;
  bool space = true;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!space) out += ' ';
      space = true;
    } else {
      out += c;
      space = false;
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

double CharErrorRate(const std::string& ref_raw, const std::string& hyp_raw) {
  const std::string ref = NormaliseSpace(ref_raw), hyp = NormaliseSpace(hyp_raw);
  std::vector<int> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= ref.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= hyp.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref[i - 1] != hyp[j - 1])});
    }
    std::swap(prev, cur);
  }
  return ref.empty() ? 0 : static_cast<double>(prev[hyp.size()]) / static_cast<double>(ref.size());
}

// Args: corpus page, quality (0 = the source image itself, no JPEG), mode as
// above or 2 = mixed raster content (quality: the background's), rebuilt as
// a reader renders it. Counter cer: Tesseract (the OCR stage) on the decoded page against
// the ground-truth .txt beside the page. One OCR per case, seconds each.
void BM_JpegCorpusOcr(benchmark::State& state) {
  const int index = static_cast<int>(state.range(0));
  const int quality = static_cast<int>(state.range(1));
  const cv::Mat& img = CorpusImage(index);
  const CorpusPage& cp = kCorpusPages[index];
  std::filesystem::path gt = CorpusDir() / cp.file;
  gt.replace_extension(".txt");
  std::ifstream in(gt);
  if (img.empty() || !in) {
    state.SkipWithError("corpus page or its .txt missing (set ACERVO_CORPUS_DIR)");
    return;
  }
  const std::string truth((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  acervo::OcrOptions oo;
  oo.languages = cp.languages;
  auto ocr = acervo::OcrStage::Create(oo);
  if (!ocr.ok()) {
    state.SkipWithError(ocr.status().ToString().c_str());
    return;
  }
  state.SetLabel(cp.file);
  double cer = 0;
  for (auto _ : state) {
    acervo::Page page;
    if (quality == 0) {
      page.image = img;
    } else if (state.range(2) == 2) {
      acervo::MixedRasterOptions o;
      o.max_share_over = 1;
      o.max_any_tile_error = o.max_mean_error = 255;
      o.background_quality = quality;
      auto packed = acervo::EncodeMixedRaster(img, o, SIZE_MAX);
      if (!packed.ok() || !packed->has_value()) {
        state.SkipWithError("mixed raster failed");
        return;
      }
      page.image = *acervo::RenderMixedRaster(*acervo::UnpackMixedRaster(**packed));
    } else {
      std::vector<uint8_t> bytes = EncodeCorpusJpeg(img, quality, static_cast<int>(state.range(2)));
      page.image = cv::imdecode(bytes, img.channels() == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
    }
    auto r = (*ocr)->Run(std::move(page), acervo::PageContext{});
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    cer = CharErrorRate(truth, r->text);
  }
  state.counters["cer"] = cer;
}
BENCHMARK(BM_JpegCorpusOcr)
    ->ArgsProduct({benchmark::CreateDenseRange(0, kCorpusPageCount - 1, 1), {0, 50, 75}, {0}})
    ->ArgsProduct({benchmark::CreateDenseRange(0, kCorpusPageCount - 1, 1), {50}, {2}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
