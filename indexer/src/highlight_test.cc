// Which words of a page a hit's matches mark (highlight.h): the document
// view's boxes, its marked page text and the snippets all rest on these.
#include "acervo/indexer/highlight.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

std::vector<std::string> Folded(const std::vector<HighlightTerm>& terms) {
  std::vector<std::string> out;
  for (const HighlightTerm& t : terms) out.push_back(t.folded + (t.prefix ? "*" : ""));
  return out;
}

TEST(HighlightTest, TermsAreTheMatchedVariantsOfThePage) {
  const std::vector<TermMatch> matches = {
      {"teixeira", "teixeira", "exact", {1}},
      {"teixeira", "teixelra", "misread", {2, 3}},
      {"requerimento", "requeri mento", "split", {3}},
      {"cert*", "cert*", "exact", {3}},
      {"teixeira", "teixelra", "misread", {3}},  // a repeat: listed once
  };
  EXPECT_EQ(Folded(PageHighlightTerms(matches, 1)), std::vector<std::string>{"teixeira"});
  EXPECT_EQ(Folded(PageHighlightTerms(matches, 2)), std::vector<std::string>{"teixelra"});
  EXPECT_EQ(Folded(PageHighlightTerms(matches, 3)),
            (std::vector<std::string>{"teixelra", "requeri", "mento", "cert*"}));
  EXPECT_EQ(PageHighlightTerms(matches, 0).size(), 5u);
  EXPECT_TRUE(PageHighlightTerms(matches, 4).empty());
  const std::vector<HighlightTerm> terms = PageHighlightTerms(matches, 3);
  EXPECT_TRUE(TokenMatchesTerms("certidao", terms));  // the prefix
  EXPECT_TRUE(TokenMatchesTerms("teixelra", terms));
  EXPECT_FALSE(TokenMatchesTerms("teixeira", terms));  // not matched on page 3
}

TEST(HighlightTest, TheMisreadWordIsBoxedNotItsNeighbours) {
  const std::vector<WordBox> words = {{"Joaquim", 0, 0, 10, 10}, {"Teixelra,", 20, 0, 10, 10}, {"morador", 40, 0, 10, 10}};
  EXPECT_EQ(MatchingWords(words, HighlightTermsOf({"teixelra"})), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(MatchingWords(words, HighlightTermsOf({"teixeira"})), (std::vector<bool>{false, false, false}));
  EXPECT_EQ(MatchingWords(words, {}), (std::vector<bool>{false, false, false}));
}

TEST(HighlightTest, JoinedWordsMarkBothParts) {
  // A word hyphenated across a line end, found as the whole word: both
  // parts are boxed and marked, and it counts once.
  const std::vector<WordBox> words = {{"segunda", 0, 0, 10, 10}, {"via", 0, 0, 10, 10}, {"certi-", 0, 0, 10, 10},
                                      {"dão", 0, 20, 10, 10}, {"de", 0, 20, 10, 10}};
  EXPECT_EQ(MatchingWords(words, HighlightTermsOf({"certidao"})), (std::vector<bool>{false, false, true, true, false}));
  const std::string text = "segunda via da certi-\ndão de casamento";
  const auto spans = MatchingSpans(text, HighlightTermsOf({"certidao"}));
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(text.substr(spans[0].first, spans[0].second - spans[0].first), "certi-\ndão");
  EXPECT_EQ(CountMatches(text, HighlightTermsOf({"certidao"})), 1);
  // An identifier written in groups and read with S for 5, found by its
  // true digits.
  const std::vector<WordBox> cpf = {{"CPF", 0, 0, 10, 10}, {"529.982.247-2S,", 20, 0, 10, 10}};
  EXPECT_EQ(MatchingWords(cpf, HighlightTermsOf({"52998224725"})), (std::vector<bool>{false, true}));
  // A split word's two parts, each boxed where it occurs.
  const std::vector<WordBox> split = {{"Requeri", 0, 0, 10, 10}, {"mento", 20, 0, 10, 10}, {"de", 40, 0, 10, 10}};
  EXPECT_EQ(MatchingWords(split, HighlightTermsOf({"requeri mento"})), (std::vector<bool>{true, true, false}));
}

}  // namespace
}  // namespace acervo
