#include "acervo/indexer/text_fold.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

TEST(FoldTextTest, FoldsCaseAndAccents) {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"", ""},
      {"certidao", "certidao"},
      {"CERTIDÃO", "certidao"},
      {"Certidão", "certidao"},
      {"AÇÃO ÓBITO ÉPOCA", "acao obito epoca"},
      {"àáâãäå ÀÁÂÃÄÅ", "aaaaaa aaaaaa"},
      {"èéêë ìíîï òóôõö ùúûü ýÿ ñ ç", "eeee iiii ooooo uuuu yy n c"},
      {"Straße Æsir Œuvre Øre Þorn", "strasse aesir oeuvre ore thorn"},
      {"Łódź Čapek Šťastný Żółw İstanbul ı", "lodz capek stastny zolw istanbul i"},
      {"× ÷", "× ÷"},              // symbols, not letters
      {"Ωμέγα €", "Ωμέγα €"},        // outside the folded ranges: unchanged
      {"123-456/7", "123-456/7"},
  };
  for (const Case& c : cases) EXPECT_EQ(FoldText(c.in), c.want) << c.in;
}

TEST(FoldTextTest, InvalidUtf8BecomesReplacementCharacter) {
  struct Case {
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {"a\xff" "b", "a\xEF\xBF\xBD" "b"},
      {"\xC3", "\xEF\xBF\xBD"},                    // truncated
      {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},    // overlong '/'
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // surrogate
  };
  for (const Case& c : cases) EXPECT_EQ(FoldText(c.in), c.want);
}

TEST(FoldTextTest, CountsCodePoints) {
  EXPECT_EQ(CountCodePoints(""), 0u);
  EXPECT_EQ(CountCodePoints("abc"), 3u);
  EXPECT_EQ(CountCodePoints("ação"), 4u);
  EXPECT_EQ(CountCodePoints("\xff\xff"), 2u);
}

}  // namespace
}  // namespace acervo
