// Colour classification: should this page be stored as colour, grayscale or
// black-and-white?
//
// Colour: the page is reduced to ~work_dpi (which also averages away the
// colour fringes scanners leave on black text), each channel is divided by
// its own paper background (so yellowed or tinted paper becomes white), and
// pixels whose chroma (max - min channel) exceeds min_chroma are coloured.
// After an erosion that removes thin fringes, min_color_area_mm2 of coloured
// area makes the page colour (a red stamp or a blue signature is enough).
//
// Gray vs bw: of the background-normalised gray image, "mid-tone" pixels
// (between 25% and 75% darker than the paper) are kept, and an erosion
// removes those on stroke edges, where every scan of black text has them.
// Large mid-tone regions (photographs, shading, pencil) make the page gray;
// otherwise printed text on paper is bw.
//
// Thread-safety: ClassifyColor is reentrant; a ColorStage instance is used
// by one worker at a time.
#ifndef ACERVO_STAGES_COLOR_COLOR_H_
#define ACERVO_STAGES_COLOR_COLOR_H_

#include <memory>
#include <string_view>

#include <opencv2/core.hpp>

#include "acervo/core/page.h"
#include "acervo/core/page_stage.h"
#include "acervo/core/status.h"

namespace acervo {

struct ColorOptions {
  // Resolution of the analysis, dpi. [50, 300].
  double work_dpi = 100;
  // Chroma (max - min of B, G, R after paper normalisation, 0..255) above
  // which a pixel is coloured. Gray ink and fringes stay below ~25 after
  // the reduction; pale highlighter is ~50. [5, 255].
  double min_chroma = 40;
  // Coloured area that makes the page colour, mm^2. A 3 cm stamp ring is
  // ~90 mm^2; a blue pen signature ~30. (0, 10000].
  double min_color_area_mm2 = 8;
  // Share of the page covered by (eroded) mid-tones that makes it gray
  // rather than bw. (0, 1].
  double min_gray_fraction = 0.005;
};

struct ColorEstimate {
  ColorClass color_class = ColorClass::kBw;
  double color_area_mm2 = 0;  // coloured area after erosion
  double gray_fraction = 0;   // share of the page in mid-tone regions
};

// Checks every field; InvalidArgument names the bad one.
Status ValidateColorOptions(const ColorOptions& options);

// Classifies `image` (8-bit gray, BGR or BGRA) scanned at `dpi` (300 if
// unknown). A gray image is never kColor. InvalidArgument for an empty image,
// a bad type or bad options.
Result<ColorEstimate> ClassifyColor(const cv::Mat& image, const ColorOptions& options,
                                    double dpi = 300);

// The stage: sets page.color_class and, when the page is not colour,
// replaces a BGR(A) page.image with its 8-bit gray conversion (bw pages stay
// 8-bit gray here; binarisation is its own stage).
class ColorStage : public PageStage {
 public:
  static constexpr std::string_view kName = "color";
  static constexpr int kVersion = 2;  // 2: 3x3 block reduction at 300 dpi

  // InvalidArgument for bad options.
  static Result<std::unique_ptr<PageStage>> Create(const ColorOptions& options);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  Result<Page> Run(Page page, const PageContext& ctx) override;

 private:
  explicit ColorStage(const ColorOptions& options) : options_(options) {}
  ColorOptions options_;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_COLOR_COLOR_H_
