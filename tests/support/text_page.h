// A generated page holding `text` (one 14-pt block, generator degradations
// from `seed`), for end-to-end tests that need a few small lots. Test-only.
#ifndef ACERVO_TESTS_SUPPORT_TEXT_PAGE_H_
#define ACERVO_TESTS_SUPPORT_TEXT_PAGE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/synth/synth.h"

namespace acervo::testing {

inline cv::Mat TextPage(const std::string& text, uint64_t seed, double dpi) {
  synth::PageSpec spec;
  spec.dpi = dpi;
  spec.seed = seed;
  spec.blocks.push_back({text, 14});
  Result<synth::SynthPage> page = synth::RenderPage(spec);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? page->image : cv::Mat();
}

// Small pages (A6 at 200 dpi, one 12-pt block each) holding `texts`, one
// page each, written as one file at `path` (multi-page where the format
// allows): for e2e tests that rerun or kill acervo many times.
inline void WriteSmallTextPages(const std::filesystem::path& path, const std::vector<std::string>& texts,
                                synth::FileFormat format, uint64_t seed) {
  std::vector<cv::Mat> images;
  for (const std::string& t : texts) {
    synth::PageSpec spec;
    spec.dpi = 200;
    spec.width_mm = 105;
    spec.height_mm = 148;
    spec.margin_mm = 10;
    spec.seed = seed++;
    spec.blocks.push_back({t, 12});
    Result<synth::SynthPage> page = synth::RenderPage(spec);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    images.push_back(page->image);
  }
  std::filesystem::create_directories(path.parent_path());
  ASSERT_TRUE(synth::WritePages(path, images, 200, format).ok()) << path;
}

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_TEXT_PAGE_H_
