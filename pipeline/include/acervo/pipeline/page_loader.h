// Loading one page of an image file as a Page ready for the stage chain.
//
// Resolution matters to every stage (deskew works at a fixed dpi, OCR's size
// heuristics, the PDF page size). Files often lie: screenshots and some
// scanner drivers write 72 or 96 dpi for 300-dpi scans, others 1200 or
// 65535 for a page that would then be an inch wide. A resolution below
// kMinPlausibleDpi or above kMaxPlausibleDpi, one that makes the paper
// narrower than kMinPaperInches (a receipt is about 2.2 in) or larger
// than kMaxPaperInches (A0 is 46.8 in long), or none at all, is replaced by
// an estimate that assumes the page is A4/Letter wide (clamped to 72..600
// dpi), and the page is flagged "no_dpi" or "implausible_dpi" so the
// report says so.
#ifndef ACERVO_PIPELINE_PAGE_LOADER_H_
#define ACERVO_PIPELINE_PAGE_LOADER_H_

#include <filesystem>
#include <string_view>
#include <vector>

#include "acervo/core/page.h"
#include "acervo/core/status.h"

namespace acervo {

inline constexpr double kMinPlausibleDpi = 100;
inline constexpr double kMaxPlausibleDpi = 4800;  // the highest optical resolution of document scanners
inline constexpr double kMinPaperInches = 2;      // shorter side
inline constexpr double kMaxPaperInches = 50;     // longer side

// Reads `path` and decodes page `page_in_file` (1-based). `name` is how the
// file is called in messages (its name in the lot). Errors name the file and
// page (Corrupt, InvalidArgument, NotFound, IOError).
// The page is whole: origin.master_x 0, origin.master_width its width.
Result<Page> LoadPage(const std::filesystem::path& path, int page_in_file, std::string_view name);

// The pages one loaded master page becomes with spread splitting on
// (`[image] split` in `acervo run`, `acervo preprocess --split`; both go
// through here so they decide alike): its left and right halves when
// DetectSpread (default SplitOptions, the page's dpi) finds a two-page
// spread, else the page itself. Halves are copies carrying the page's
// origin, dpi and flags, with origin.part kLeft/kRight and their columns of
// the master in origin.master_x/master_width; the spread's pixels are
// released. InvalidArgument (naming the page) when the detector refuses
// the image.
Result<std::vector<Page>> SplitIfSpread(Page page);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_PAGE_LOADER_H_
