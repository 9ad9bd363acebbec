#include "markup.h"

#include <gtest/gtest.h>

namespace acervo::synth {
namespace {

TEST(MarkupTest, BlocksByKind) {
  std::vector<TextBlock> blocks = ParseBlocks(
      "# Título\n"
      "^ centro um\n"
      "^ centro dois\n"
      "\n"
      "| linha um\n"
      "| linha dois\n"
      "parágrafo que\n"
      "continua aqui\n"
      "%% comentário\n"
      "\n"
      "## Cabeçalho\n");
  ASSERT_EQ(blocks.size(), 5u);
  EXPECT_EQ(blocks[0].text, "Título");
  EXPECT_TRUE(blocks[0].bold);
  EXPECT_TRUE(blocks[0].centered);
  EXPECT_GT(blocks[0].font_size_pt, 11);
  EXPECT_EQ(blocks[1].text, "centro um\ncentro dois");
  EXPECT_TRUE(blocks[1].centered);
  EXPECT_EQ(blocks[2].text, "linha um\nlinha dois");
  EXPECT_FALSE(blocks[2].centered);
  EXPECT_EQ(blocks[3].text, "parágrafo que continua aqui");
  EXPECT_EQ(blocks[4].text, "Cabeçalho");
  EXPECT_TRUE(blocks[4].bold);
  EXPECT_FALSE(blocks[4].centered);
}

TEST(MarkupTest, Pages) {
  auto pages = ParsePages("um\n%page\ndois\n%page\n");
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0][0].text, "um");
  EXPECT_EQ(pages[1][0].text, "dois");
  EXPECT_TRUE(pages[2].empty());
}

}  // namespace
}  // namespace acervo::synth
