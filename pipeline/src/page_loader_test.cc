#include "acervo/pipeline/page_loader.h"

#include <gtest/gtest.h>

#include <string>

#include <opencv2/core.hpp>

#include "acervo/synth/synth.h"

namespace acervo {
namespace {

cv::Mat TextPage(const std::string& text, uint64_t seed) {
  synth::PageSpec spec;
  spec.dpi = 150;
  spec.seed = seed;
  spec.width_mm = 148;
  spec.height_mm = 210;
  spec.margin_mm = 15;
  std::string body;
  for (int i = 0; i < 12; ++i) body += text + " " + std::to_string(i * 37 + seed) + ". ";
  spec.blocks.push_back({body});
  Result<synth::SynthPage> page = synth::RenderPage(spec);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? page->image : cv::Mat();
}

Page MasterPage(cv::Mat image) {
  Page p;
  p.image = std::move(image);
  p.dpi_x = p.dpi_y = 150;
  p.origin = {"livro.tif", 3, "/out/masters/livro.tif", "abc", 9};
  p.origin.master_width = p.image.cols;
  p.AddFlag("no_dpi");
  return p;
}

// What `acervo run` ([image] split) and `acervo preprocess --split` both do
// with a loaded master page.
TEST(SplitIfSpreadTest, SpreadGivesLeftAndRightHalvesWithTheirMasterColumns) {
  cv::Mat left = TextPage("Carta escrita na vila de Ouro Preto", 1);
  cv::Mat right = TextPage("Registro do batismo na matriz do Pilar", 2);
  cv::Mat spread;
  cv::hconcat(left, right, spread);
  Result<std::vector<Page>> pages = SplitIfSpread(MasterPage(spread));
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  ASSERT_EQ(pages->size(), 2u);
  const Page& l = (*pages)[0];
  const Page& r = (*pages)[1];
  EXPECT_EQ(l.origin.part, PageOrigin::Part::kLeft);
  EXPECT_EQ(r.origin.part, PageOrigin::Part::kRight);
  EXPECT_EQ(l.origin.master_x, 0);
  EXPECT_EQ(l.origin.master_width, l.image.cols);
  EXPECT_EQ(r.origin.master_x, l.image.cols);
  EXPECT_EQ(r.origin.master_width, r.image.cols);
  EXPECT_EQ(l.image.cols + r.image.cols, spread.cols);
  EXPECT_NEAR(r.origin.master_x, left.cols, 15 / 25.4 * 150);  // within the inner margins
  // Each half pixel for pixel the columns it names.
  EXPECT_EQ(cv::norm(r.image, spread.colRange(r.origin.master_x, spread.cols), cv::NORM_INF), 0);
  for (const Page* p : {&l, &r}) {
    EXPECT_EQ(p->origin.master_sha256, "abc");
    EXPECT_EQ(p->origin.page_in_file, 3);
    EXPECT_EQ(p->image.rows, spread.rows);
    EXPECT_DOUBLE_EQ(p->dpi_x, 150);
    EXPECT_TRUE(p->HasFlag("no_dpi"));
  }
  EXPECT_EQ(l.origin.Describe(), "livro.tif page 3 (left half)");
  EXPECT_EQ(r.origin.Describe(), "livro.tif page 3 (right half)");
}

TEST(SplitIfSpreadTest, SinglePageStaysWholeAndBadImagesNameThePage) {
  cv::Mat single = TextPage("Oficio sobre a estrada nova", 3);
  Result<std::vector<Page>> pages = SplitIfSpread(MasterPage(single));
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  ASSERT_EQ(pages->size(), 1u);
  EXPECT_EQ((*pages)[0].origin.part, PageOrigin::Part::kWhole);
  EXPECT_EQ((*pages)[0].origin.master_width, single.cols);
  EXPECT_EQ((*pages)[0].image.data, single.data);  // not copied
  EXPECT_EQ((*pages)[0].origin.Describe(), "livro.tif page 3");

  Result<std::vector<Page>> empty = SplitIfSpread(MasterPage(cv::Mat()));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("livro.tif page 3"), std::string::npos) << empty.status().ToString();
}

}  // namespace
}  // namespace acervo
