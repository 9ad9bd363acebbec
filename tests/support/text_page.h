// A generated page holding `text` (one 14-pt block, generator degradations
// from `seed`), for end-to-end tests that need a few small lots. Test-only.
#ifndef ACERVO_TESTS_SUPPORT_TEXT_PAGE_H_
#define ACERVO_TESTS_SUPPORT_TEXT_PAGE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

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

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_TEXT_PAGE_H_
