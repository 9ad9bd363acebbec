// acervo-synth: synthetic scans with exact ground truth.
//
//   acervo-synth lot SPEC.toml --out DIR
//   acervo-synth page --text FILE [--skew D] [--orientation O] [--dpi N]
//                     [--seed S] [--font F] [--clean] [--gt FILE] [--dpi-tag T]
//                     [--width-mm W] [--height-mm H] --out FILE
//   acervo-synth bulk --pages N --out DIR [--dpi N] [--width-mm W]
//                     [--height-mm H] [--distinct K]
//       (a big lot for memory/throughput benchmarks: N single-page CCITT G4
//       TIFFs, cycling through K distinct rendered pages with a few lines
//       of text each, so generation stays fast and OCR cost per page low)
//
// Exit codes: 0 success, 1 the generation failed (message on stderr),
// 2 bad command line.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "markup.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Fail(const acervo::Status& s) {
  std::fprintf(stderr, "acervo-synth: %s\n", s.ToString().c_str());
  return kExitFailure;
}

struct PageArgs {
  std::string text_path;
  std::string out;
  std::string gt_path;
  std::string font = "DejaVu Serif";
  double font_size = 11;
  double skew = 0;
  int orientation = 0;
  double dpi = 300;
  double width_mm = 210;
  double height_mm = 297;
  double dpi_tag = -1;  // resolution written into the file; -1: dpi, 0: none
  uint64_t seed = 1;
  bool clean = false;
  double bleed = 0;
  double blur = -1;   // optics blur sigma in pixels; -1: PageSpec's default
  double noise = -1;  // gaussian noise sigma on 0..255; -1: PageSpec's default
  bool punch_holes = false;
  bool dark_border = false;
};

int RunPage(const PageArgs& a) {
  using namespace acervo::synth;
  std::string markup;
  if (!a.text_path.empty()) {
    acervo::Result<std::vector<uint8_t>> bytes = acervo::ReadFile(a.text_path);
    if (!bytes.ok()) return Fail(bytes.status());
    markup.assign(bytes->begin(), bytes->end());
  }
  PageSpec spec;
  spec.blocks = ParseBlocks(markup, a.font_size);
  spec.dpi = a.dpi;
  spec.width_mm = a.width_mm;
  spec.height_mm = a.height_mm;
  spec.font_family = a.font;
  spec.skew_deg = a.skew;
  spec.orientation_deg = a.orientation;
  spec.seed = a.seed;
  spec.bleed_through = a.bleed;
  spec.punch_holes = a.punch_holes;
  spec.dark_border = a.dark_border;
  if (a.blur >= 0) spec.blur_sigma = a.blur;
  if (a.noise >= 0) spec.noise_sigma = a.noise;
  if (a.clean) {
    spec.paper_tint = false;
    spec.noise_sigma = 0;
    spec.blur_sigma = 0;
    spec.specks = 0;
    spec.bleed_through = 0;
    spec.punch_holes = false;
    spec.dark_border = false;
  }
  acervo::Result<SynthPage> page = RenderPage(spec);
  if (!page.ok()) return Fail(page.status());

  std::string ext = std::filesystem::path(a.out).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  FileFormat format = FileFormat::kPng;
  if (ext == ".jpg" || ext == ".jpeg") {
    format = FileFormat::kJpeg;
  } else if (ext == ".tif" || ext == ".tiff") {
    format = FileFormat::kTiffLzw;
  } else if (ext != ".png") {
    return Fail(acervo::Status::InvalidArgument("--out must end in .png, .jpg or .tif"));
  }
  acervo::Status s = WritePages(a.out, {page->image}, a.dpi_tag >= 0 ? a.dpi_tag : spec.dpi, format);
  if (!s.ok()) return Fail(s);
  if (!a.gt_path.empty()) {
    s = acervo::WriteFileAtomic(a.gt_path, page->text);
    if (!s.ok()) return Fail(s);
  }
  return 0;
}

struct BulkArgs {
  int pages = 100;
  std::string out;
  double dpi = 300;
  double width_mm = 210;
  double height_mm = 297;
  int distinct = 8;
};

int RunBulk(const BulkArgs& a) {
  using namespace acervo::synth;
  std::vector<cv::Mat> renders;
  for (int k = 0; k < a.distinct; ++k) {
    PageSpec spec;
    spec.dpi = a.dpi;
    spec.width_mm = a.width_mm;
    spec.height_mm = a.height_mm;
    spec.seed = static_cast<uint64_t>(k + 1);
    spec.skew_deg = (k % 5) * 0.4 - 0.8;
    spec.blocks.push_back({"Lote de teste de memória, página modelo " + std::to_string(k + 1) + ".", 14, true});
    spec.blocks.push_back({"Processo administrativo arquivado na caixa " + std::to_string(100 + k) +
                               " do acervo municipal.", 11});
    acervo::Result<SynthPage> page = RenderPage(spec);
    if (!page.ok()) return Fail(page.status());
    renders.push_back(page->image);
  }
  std::error_code ec;
  std::filesystem::create_directories(a.out, ec);
  for (int i = 0; i < a.pages; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "%06d.tif", i + 1);
    acervo::Status s = WritePages(std::filesystem::path(a.out) / name, {renders[i % renders.size()]}, a.dpi,
                                  FileFormat::kTiffG4);
    if (!s.ok()) return Fail(s);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"acervo-synth: synthetic scans with exact ground truth"};
  app.require_subcommand(1);

  std::string spec_path, out_dir;
  CLI::App* lot = app.add_subcommand("lot", "generate a lot folder from a lot spec");
  lot->add_option("SPEC", spec_path, "lot spec (TOML), see samples/demo/README.md")
      ->required()
      ->check(CLI::ExistingFile);
  lot->add_option("--out", out_dir, "output folder (created; a previous generated lot is replaced)")
      ->required();

  PageArgs page_args;
  CLI::App* page = app.add_subcommand("page", "render one page image");
  page->add_option("--text", page_args.text_path, "page text (markup, see README); none = blank")
      ->check(CLI::ExistingFile);
  page->add_option("--out", page_args.out, "output image (.png, .jpg, .tif)")->required();
  page->add_option("--skew", page_args.skew, "skew in degrees, positive = counter-clockwise");
  page->add_option("--orientation", page_args.orientation, "0, 90, 180 or 270 (counter-clockwise)")
      ->check(CLI::IsMember({0, 90, 180, 270}));
  page->add_option("--dpi", page_args.dpi, "resolution")->check(CLI::Range(50.0, 1200.0));
  page->add_option("--width-mm", page_args.width_mm, "page width (A4: 210)")->check(CLI::Range(20.0, 1000.0));
  page->add_option("--height-mm", page_args.height_mm, "page height (A4: 297)")->check(CLI::Range(20.0, 1000.0));
  page->add_option("--dpi-tag", page_args.dpi_tag,
                   "resolution written into the file when not the rendered one (0: none)")
      ->check(CLI::Range(0.0, 1200.0));
  page->add_option("--seed", page_args.seed, "random seed of the degradations");
  page->add_option("--font", page_args.font, "fontconfig family name");
  page->add_option("--font-size", page_args.font_size, "body text size in points");
  page->add_option("--bleed", page_args.bleed, "bleed-through contrast 0..1")
      ->check(CLI::Range(0.0, 1.0));
  page->add_option("--blur", page_args.blur, "optics blur sigma in pixels (default 0.6)")->check(CLI::Range(0.0, 10.0));
  page->add_option("--noise", page_args.noise, "gaussian noise sigma on 0..255 (default 6)")
      ->check(CLI::Range(0.0, 100.0));
  page->add_flag("--punch-holes", page_args.punch_holes, "two punch holes in the left margin");
  page->add_flag("--dark-border", page_args.dark_border, "black scanner border strips");
  page->add_flag("--clean", page_args.clean, "no degradation except skew and orientation");
  page->add_option("--gt", page_args.gt_path, "write the exact ground-truth text here");

  BulkArgs bulk_args;
  CLI::App* bulk = app.add_subcommand("bulk", "write a big lot of simple pages (benchmarks)");
  bulk->add_option("--pages", bulk_args.pages, "number of page files")->check(CLI::Range(1, 1000000));
  bulk->add_option("--out", bulk_args.out, "output folder")->required();
  bulk->add_option("--dpi", bulk_args.dpi, "resolution")->check(CLI::Range(50.0, 1200.0));
  bulk->add_option("--width-mm", bulk_args.width_mm, "page width")->check(CLI::Range(20.0, 500.0));
  bulk->add_option("--height-mm", bulk_args.height_mm, "page height")->check(CLI::Range(20.0, 500.0));
  bulk->add_option("--distinct", bulk_args.distinct, "distinct rendered pages to cycle through")
      ->check(CLI::Range(1, 1000));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  if (lot->parsed()) {
    acervo::Status s = acervo::synth::GenerateLot(spec_path, out_dir);
    if (!s.ok()) return Fail(s);
    return 0;
  }
  if (bulk->parsed()) return RunBulk(bulk_args);
  return RunPage(page_args);
}
