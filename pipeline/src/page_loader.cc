#include "acervo/pipeline/page_loader.h"

#include <algorithm>

#include "acervo/core/files.h"
#include "acervo/scanner/image_file.h"
#include "acervo/stages/split/split.h"

namespace acervo {

Result<Page> LoadPage(const std::filesystem::path& path, int page_in_file, std::string_view name) {
  Page page;
  page.origin.source_path = std::string(name);
  page.origin.page_in_file = page_in_file;
  Result<std::vector<uint8_t>> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status().WithContext(page.origin.Describe());
  ACERVO_ASSIGN_OR_RETURN(DecodedPage decoded, DecodeImagePage(*bytes, page_in_file - 1, name));
  page.image = std::move(decoded.image);
  page.origin.master_x = 0;
  page.origin.master_width = page.image.cols;
  bool have = decoded.dpi_x > 0 && decoded.dpi_y > 0;
  // The paper the claimed resolution implies, in inches.
  const double short_in = std::min(page.image.cols / std::max(decoded.dpi_x, 1e-9),
                                   page.image.rows / std::max(decoded.dpi_y, 1e-9));
  const double long_in = std::max(page.image.cols / std::max(decoded.dpi_x, 1e-9),
                                  page.image.rows / std::max(decoded.dpi_y, 1e-9));
  const bool plausible = have && decoded.dpi_x >= kMinPlausibleDpi && decoded.dpi_y >= kMinPlausibleDpi &&
                         decoded.dpi_x <= kMaxPlausibleDpi && decoded.dpi_y <= kMaxPlausibleDpi &&
                         short_in >= kMinPaperInches && long_in <= kMaxPaperInches;
  if (plausible) {
    page.dpi_x = decoded.dpi_x;
    page.dpi_y = decoded.dpi_y;
    page.dpi_from_file = true;
    return page;
  }
  // Assume the shorter side is 8.27 in (A4) — Letter is within 3%.
  int short_side = std::min(page.image.cols, page.image.rows);
  double estimate = std::clamp(short_side / 8.27, 72.0, 600.0);
  page.dpi_x = page.dpi_y = estimate;
  page.AddFlag(have ? "implausible_dpi" : "no_dpi");
  return page;
}

Result<std::vector<Page>> SplitIfSpread(Page page) {
  Result<SpreadEstimate> spread = DetectSpread(page.image, SplitOptions(), page.dpi_x);
  if (!spread.ok()) return spread.status().WithContext(page.origin.Describe());
  std::vector<Page> out;
  if (!spread->is_spread) {
    out.push_back(std::move(page));
    return out;
  }
  std::vector<cv::Mat> halves = SplitSpread(page.image, *spread);
  page.image.release();  // the halves are copies
  const int x0 = page.origin.master_x;
  for (size_t k = 0; k < halves.size(); ++k) {
    Page half = page;
    half.image = std::move(halves[k]);
    half.origin.part = k == 0 ? PageOrigin::Part::kLeft : PageOrigin::Part::kRight;
    half.origin.master_x = x0 + (k == 0 ? 0 : spread->split_x);
    half.origin.master_width = half.image.cols;
    out.push_back(std::move(half));
  }
  return out;
}

}  // namespace acervo
