#include "term_index.h"

#include <gtest/gtest.h>

#include <cmath>

namespace acervo {
namespace {

TEST(TermIndexTest, TokensFoldAndSplitLikeTheTextIndex) {
  EXPECT_EQ(IndexTokens("CERTIDÃO de Nascimento, nº 12-A; arquive-se."),
            (std::vector<std::string>{"certidao", "de", "nascimento", "nº", "12", "a", "arquive", "se"}));
  EXPECT_EQ(IndexTokens("  \n\t "), std::vector<std::string>{});
  EXPECT_EQ(IndexTokens("a—b «c» d×e"), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST(TermIndexTest, CountTermsGivesFrequenciesAndLength) {
  PageTerms p = CountTerms("Óbito óbito OBITO certidão");
  EXPECT_EQ(p.tokens, 4);
  EXPECT_EQ(p.tf, (std::vector<std::pair<std::string, int>>{{"certidao", 1}, {"obito", 3}}));
}

TEST(TermIndexTest, Bm25MatchesTheFormula) {
  // tf 2 on a page of average length: 2 * 2.2 / (2 + 1.2).
  EXPECT_NEAR(Bm25Factor(2, 100, 100), 4.4 / 3.2, 1e-12);
  EXPECT_EQ(Bm25Factor(0, 100, 100), 0);
  // Longer pages weigh less, more occurrences more.
  EXPECT_LT(Bm25Factor(2, 300, 100), Bm25Factor(2, 100, 100));
  EXPECT_GT(Bm25Factor(3, 100, 100), Bm25Factor(2, 100, 100));
  EXPECT_NEAR(Bm25Idf(1000, 10), std::log(990.5 / 10.5), 1e-12);
  EXPECT_EQ(Bm25Idf(1000, 900), 1e-6);  // clamped like FTS5
  EXPECT_LT(ImpactLevel(1.0), ImpactLevel(1.0 + 1.0 / kImpactSteps + 1e-9));
  EXPECT_EQ(ImpactLevel(1.0 + 1e-9), ImpactLevel(1.0 + 2e-9));
}

TEST(TermIndexTest, PhrasesOfAnExpressionInFts5Order) {
  std::vector<FtsPhrase> p = FtsPhrases(R"(("certidão de" AND "nasc"*) OR "a""b" NOT "óbito" OR NOT ("x" OR "y"))");
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].words, (std::vector<std::string>{"certidao", "de"}));
  EXPECT_FALSE(p[0].prefix);
  EXPECT_EQ(p[1].words, std::vector<std::string>{"nasc"});
  EXPECT_TRUE(p[1].prefix);
  EXPECT_EQ(p[2].words, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(p[2].negated);
  EXPECT_TRUE(p[3].negated);
  EXPECT_TRUE(p[4].negated);
  EXPECT_TRUE(p[5].negated);
}

TEST(TermIndexTest, MapPhrasesKeepsTheRestOfTheExpression) {
  const std::string fts = R"(("nasc"* AND "a""b") NOT "c")";
  EXPECT_EQ(MapPhrases(fts, [](const FtsPhrase&, std::string_view o) { return std::string(o); }), fts);
  EXPECT_EQ(MapPhrases(fts,
                       [](const FtsPhrase& p, std::string_view o) {
                         if (!p.prefix) return std::string(o);
                         std::string out = "(";
                         out += QuotePhrase({"nascimento"});
                         out += " OR ";
                         out += QuotePhrase({"nascido"});
                         out += ")";
                         return out;
                       }),
            R"((("nascimento" OR "nascido") AND "a""b") NOT "c")");
  EXPECT_EQ(QuotePhrase({"a\"b", "c"}), R"("a""b c")");
}

TEST(TermIndexTest, BatchCountsAddedAndRemovedPages) {
  TermBatch b;
  EXPECT_TRUE(b.empty());
  b.AddPage(1, "certidão certidão óbito", true);
  b.AddPage(2, "certidão", false);  // blank: counted, never listed
  b.RemovePage(7, "óbito antigo");
  b.Unlisted("antigo", 1);
  EXPECT_EQ(b.pages(), 1);
  EXPECT_EQ(b.tokens(), 2);
  const auto& t = b.terms();
  EXPECT_EQ(t.at("certidao").df, 2);
  ASSERT_EQ(t.at("certidao").added.size(), 1u);
  EXPECT_EQ(t.at("certidao").added[0].tf, 2);
  EXPECT_EQ(t.at("obito").df, 0);
  EXPECT_EQ(t.at("antigo").df, -1);
  EXPECT_EQ(t.at("antigo").listed, -1);
  EXPECT_TRUE(b.Removed(7));
  b.Clear();
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace acervo
