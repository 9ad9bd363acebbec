// Pages of the shared real-scan corpus (../shared/corpus, see its README) for
// the stage tests, benchmarks and the preprocessing evaluation. Test and
// benchmark code only: nothing in the pipeline links this.
//
// Images are decoded with the folder source's decoder (alpha flattened on
// white); PDFs are rasterised at 300 dpi by poppler's pdftoppm, started with
// posix_spawn and a fixed argv (no shell), into a scratch folder.
//
// Thread-safety: reentrant; scratch folders must differ between threads.
#ifndef ACERVO_STAGES_TESTING_CORPUS_PAGES_H_
#define ACERVO_STAGES_TESTING_CORPUS_PAGES_H_

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/status.h"

namespace acervo::testing {

struct CorpusPage {
  std::string name;          // "tesseract-test/phototest.tif", "cardinal.pdf#2"
  cv::Mat image;             // 8-bit gray or BGR, as displayed
  double dpi = 300;          // from the file; estimated (A4 width) when absent
  bool dpi_estimated = false;  // the file had no or an implausible (< 100) dpi
  int orientation_deg = 0;   // counter-clockwise turn of the content as displayed
  bool skew_known = false;   // skew_deg is a published angle (skew PDFs)
  double skew_deg = 0;       // > 0: lines rise to the right
  std::string language;      // Tesseract languages ("eng", "por")
  std::string has_gt;        // manifest column: yes, ref, no, blank
  std::string truth;         // ground-truth text ("" without)
  bool has_text = true;      // false for blank.pdf and the near-empty page
};

// Rasterises every page of `pdf` at `dpi`, gray, with pdftoppm. Unavailable
// when pdftoppm cannot be run, Corrupt when it fails on the file.
Result<std::vector<cv::Mat>> RasterisePdf(const std::filesystem::path& pdf, int dpi,
                                          const std::filesystem::path& scratch);

// Every page listed in `corpus`/manifest.tsv that is a page (unpaper's
// expected outputs and duplicate encodings are skipped), with its truth.
// NotFound when the manifest is missing.
Result<std::vector<CorpusPage>> LoadCorpus(const std::filesystem::path& corpus,
                                           const std::filesystem::path& scratch);

}  // namespace acervo::testing

#endif  // ACERVO_STAGES_TESTING_CORPUS_PAGES_H_
