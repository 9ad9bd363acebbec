// Test helpers: running the external PDF tools with a fixed argv (no shell)
// and building synthetic pages. Test-only.
#ifndef ACERVO_STAGES_PDF_TEST_TOOLS_H_
#define ACERVO_STAGES_PDF_TEST_TOOLS_H_

#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "acervo/core/page.h"

namespace acervo::testing {

struct ToolOutput {
  int exit_code = -1;  // -1 when the program could not be run
  std::string out;     // stdout
};

// Runs argv[0] (looked up in PATH) with posix_spawnp, stdin from /dev/null,
// stderr discarded, and collects stdout.
ToolOutput RunTool(const std::vector<std::string>& argv);

// A fresh empty directory under the system temp dir, removed by the caller.
std::filesystem::path MakeTempDir(const std::string& tag);

// A word as pdftotext -bbox reports it: text (HTML entities decoded) and box
// in points, top-left origin.
struct BboxWord {
  std::string text;
  double x_min = 0, y_min = 0, x_max = 0, y_max = 0;
  int page = 0;  // 1-based
};
std::vector<BboxWord> ParseBbox(const std::string& html);

// Synthetic page: white `width`x`height` CV_8UC1 at `dpi`, with words laid
// out in lines from the table of `texts` (cycled), each drawn as a black
// rectangle outline + ASCII putText, and listed in Page::words with the box.
Page MakeTextPage(int width, int height, double dpi, const std::vector<std::string>& texts,
                  int max_words);

// Intersection over union of two boxes.
double IoU(const cv::Rect2d& a, const cv::Rect2d& b);

}  // namespace acervo::testing

#endif  // ACERVO_STAGES_PDF_TEST_TOOLS_H_
