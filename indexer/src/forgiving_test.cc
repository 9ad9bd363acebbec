#include "forgiving.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "search_common.h"

namespace acervo {
namespace {

TEST(OcrDistanceTest, ConfusablesCostHalfAndOtherEditsOne) {
  struct Case {
    std::string a, b;
    double want;
  };
  for (const Case& c : std::vector<Case>{
           {"teixeira", "teixeira", 0},
           {"teixeira", "teixelra", 0.5},       // i/l
           {"ordem", "0rdem", 0.5},             // o/0
           {"comprovante", "cornprovante", 0.5},  // m/rn
           {"documento", "docurnento", 0.5},
           {"declaracao", "dedaracao", 0.5},    // cl/d
           {"52998224725", "52998224325", 1},   // a wrong digit
           {"52998224725", "52998224125", 0.5}, // 7 read as 1
           {"52998224725", "5299822472s", 0.5},
           {"nogueira", "nogeuira", 1},         // transposition
           {"ribeiro", "ribeir", 1},            // deletion
           {"ribeiro", "rbeiroo", 2},
           {"instituto", "inslilulo", 1.5},       // t/l, thin glyphs at low resolution
           {"fagundes", "fagurides", 0.5},      // n read as ri
           {"magalhaes", "mogolhaes", 1},       // a/o twice
           {"tomando", "fomondo", 1},           // t/f and a/o
           {"bento", "hento", 0.5},             // b/h
           {"autorizado", "autonzado", 0.5},    // ri read as n
       }) {
    EXPECT_DOUBLE_EQ(OcrDistance(c.a, c.b, 3), c.want) << c.a << " / " << c.b;
    EXPECT_DOUBLE_EQ(OcrDistance(c.b, c.a, 3), c.want) << c.b << " / " << c.a;
  }
  EXPECT_GT(OcrDistance("casamento", "documento", 2), 2);  // stops early, reports "more"
}

TEST(OcrDistanceTest, AllowedCostGrowsWithLength) {
  EXPECT_EQ(MaxForgivingCost(3), 0);
  EXPECT_EQ(MaxForgivingCost(4), 0.5);
  EXPECT_EQ(MaxForgivingCost(5), 1);
  EXPECT_EQ(MaxForgivingCost(8), 1);
  EXPECT_EQ(MaxForgivingCost(5, false), 1);
  EXPECT_EQ(MaxForgivingCost(6, false), 1.5);  // found nowhere: one edit and a confusable
  EXPECT_EQ(MaxForgivingCost(8, false), 1.5);
  EXPECT_EQ(MaxForgivingCost(9, false), 2);
  EXPECT_EQ(MaxForgivingCost(9), 2);
  EXPECT_EQ(MaxForgivingCost(11), 2);
}

TEST(VocabularyKeysTest, MisreadingsShareAKeyWithTheTrueWord) {
  auto shares = [](const std::string& word, const std::string& term) {
    const std::vector<std::string> q = QueryFuzzyKeys(word);
    const std::vector<std::string> t = VocabularyKeys(term);
    for (const std::string& k : q) {
      if (std::find(t.begin(), t.end(), k) != t.end()) return true;
    }
    return false;
  };
  EXPECT_TRUE(shares("teixeira", "teixelra"));
  EXPECT_TRUE(shares("comprovante", "cornprovante"));
  EXPECT_TRUE(shares("nogueira", "nogeuira"));   // transposition: a shared deletion
  EXPECT_TRUE(shares("ribeiro", "ribeir"));
  EXPECT_TRUE(shares("ribeiro", "ribeirao"));
  EXPECT_TRUE(shares("52998224725", "52998224125"));  // one wrong digit
  EXPECT_TRUE(shares("0rdenado", "ordenado"));
  // Digraphs decided on classes: "cl" read as "c1" or "el" still pairs.
  EXPECT_TRUE(shares("clamaro", "c1amaro"));
  EXPECT_TRUE(shares("lemele", "lemcle"));
  EXPECT_TRUE(shares("maclabi", "maelabi"));
  EXPECT_FALSE(shares("casamento", "documento"));
  // Loose confusions (a/o, b/h, n -> ri) the stored keys do not encode: the
  // query's variant keys reach them, alone or with one more edit.
  EXPECT_TRUE(shares("fagundes", "fagurides"));
  EXPECT_TRUE(shares("magalhaes", "mogolhaes"));
  EXPECT_TRUE(shares("tomando", "fomondo"));
  EXPECT_TRUE(shares("bento", "hento"));
  EXPECT_TRUE(shares("autorizado", "autonzado"));  // ri read as n
  EXPECT_TRUE(shares("maritimo", "maiilimo"));     // one edit and one confusable
  EXPECT_FALSE(shares("magalhaes", "mogolhoes"));  // three of them: beyond the keys
  // Years and short numbers get no fuzzy keys: 2023 must not find 2024.
  EXPECT_TRUE(QueryFuzzyKeys("2023").size() > 0);
  const std::vector<std::string> year = VocabularyKeys("2024");
  EXPECT_TRUE(std::none_of(year.begin(), year.end(), [](const std::string& k) { return k[0] == '~'; }));
  EXPECT_EQ(StemKey("certidoes"), StemKey("certidao"));
  EXPECT_EQ(StemKey("abc"), "");
}

TEST(VariantWeightTest, OneConfusableLetterOutweighsAStemMateThatRewritesTheWord) {
  const WordVariant plural{{"certidoes"}, MatchTier::kInflection, OcrDistance("certidao", "certidoes", 16), "inflection"};
  const WordVariant stem_mate{{"tomi"}, MatchTier::kInflection, OcrDistance("tomando", "tomi", 16), "inflection"};
  const WordVariant one_letter{{"fomando"}, MatchTier::kForgiving, 0.5, "misread"};
  const WordVariant two_edits{{"fomrndo"}, MatchTier::kForgiving, 1.5, "misread"};
  EXPECT_GT(VariantWeight(plural), VariantWeight(one_letter));
  EXPECT_GT(VariantWeight(one_letter), VariantWeight(stem_mate));
  EXPECT_GT(VariantWeight(one_letter), VariantWeight(two_edits));
  EXPECT_LT(VariantWeight(plural), 1);
}

// A vocabulary in memory: PendingVocabulary behind the interface.
class MemoryVocabulary final : public Vocabulary {
 public:
  explicit MemoryVocabulary(const std::vector<std::string>& pages) {
    for (const std::string& p : pages) v_.AddPage(p);
  }
  Result<std::vector<std::string>> TermsWithKeys(const std::vector<std::string>& keys) override {
    std::unordered_set<std::string> out;
    v_.TermsWithKeys(keys, &out);
    return std::vector<std::string>(out.begin(), out.end());
  }
  Result<std::vector<std::string>> TermsWithKeyPrefix(const std::string& prefix, int limit) override {
    std::unordered_set<std::string> out;
    v_.TermsWithKeyPrefix(prefix, limit, &out);
    return std::vector<std::string>(out.begin(), out.end());
  }
  Result<std::vector<std::string>> TermsWithPrefix(const std::string& prefix, int limit) override {
    std::unordered_set<std::string> out;
    v_.TermsWithPrefix(prefix, limit, &out);
    return std::vector<std::string>(out.begin(), out.end());
  }
  Result<int64_t> Df(const std::string& term) override { return v_.Df(term); }

 private:
  PendingVocabulary v_;
};

std::vector<std::string> Kinds(const std::vector<WordVariant>& vs, const std::string& kind) {
  std::vector<std::string> out;
  for (const WordVariant& v : vs) {
    if (v.kind != kind) continue;
    std::string w;
    for (const std::string& x : v.words) w += (w.empty() ? "" : " ") + x;
    out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(WordVariantsTest, EachMatcherFindsItsKind) {
  MemoryVocabulary vocab({"certidões emitidas pelo cartório", "Joaquim Teixelra requeri mento",
                          "a certidão denascimento", "nascimentos registrados", "cornprovante 0rdem"});
  WordMode mode;
  Result<std::vector<WordVariant>> v = WordVariants("certidao", mode, vocab);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->front().kind, "exact");
  EXPECT_EQ(Kinds(*v, "inflection"), std::vector<std::string>{"certidoes"});
  v = WordVariants("teixeira", mode, vocab);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(Kinds(*v, "misread"), std::vector<std::string>{"teixelra"});
  v = WordVariants("requerimento", mode, vocab);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(Kinds(*v, "split"), std::vector<std::string>{"requeri mento"});
  v = WordVariants("nascimento", mode, vocab);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(Kinds(*v, "merged"), std::vector<std::string>{"denascimento"});
  EXPECT_EQ(Kinds(*v, "inflection"), std::vector<std::string>{"nascimentos"});
  v = WordVariants("comprovante", mode, vocab);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(Kinds(*v, "misread"), std::vector<std::string>{"cornprovante"});
  // Without forgiving: inflections only.
  mode.forgiving = false;
  v = WordVariants("teixeira", mode, vocab);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(Kinds(*v, "misread").empty());
}

TEST(WordVariantsTest, ACommonWordGetsNoForgivingVariantsUnlessAsked) {
  std::vector<std::string> pages(kForgivingBelowDf, "registro civil");
  pages.push_back("registr0 antigo");
  MemoryVocabulary vocab(pages);
  WordMode mode;
  Result<std::vector<WordVariant>> v = WordVariants("registro", mode, vocab);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(Kinds(*v, "misread").empty());
  mode.force = true;
  v = WordVariants("registro", mode, vocab);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(Kinds(*v, "misread"), std::vector<std::string>{"registr0"});
}

TEST(ExpandQueryTest, MarksAndRolesFollowThePhrases) {
  MemoryVocabulary vocab({"Teixelra e certidoes"});
  Result<ParsedQuery> q = ParseQuery("teixeira exact:certidao -nada");
  ASSERT_TRUE(q.ok());
  Result<ExpandedQuery> e = ExpandQuery(*q, true, vocab);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->query.required_fts.size(), 2u);
  EXPECT_EQ(e->query.required_fts[0], "(\"teixeira\" OR \"teixelra\")");
  EXPECT_EQ(e->query.required_fts[1], "\"certidao\"");  // exact: no variants, mark removed
  EXPECT_EQ(e->query.excluded_fts[0], "\"nada\"");
  const std::vector<PhraseRole> roles = RolesFor(*e, e->query.required_fts);
  ASSERT_EQ(roles.size(), 3u);
  EXPECT_EQ(roles[1].kind, "misread");
  EXPECT_EQ(roles[1].matched, "teixelra");
  EXPECT_EQ(roles[1].tier, MatchTier::kForgiving);
  EXPECT_EQ(roles[2].clause, 1);
  // Forgiving off for the request: only ~ words get variants.
  q = ParseQuery("teixeira ~teixeira");
  ASSERT_TRUE(q.ok());
  e = ExpandQuery(*q, false, vocab);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->query.required_fts[0], "\"teixeira\"");
  EXPECT_EQ(e->query.required_fts[1], "(\"teixeira\" OR \"teixelra\")");
}

TEST(SnippetTest, HighlightsTheMatchedVariantsWhereTheyAre) {
  const std::string text = "Certidão emitida a pedido de Joaquim Teixelra,\nnascido em Santos.";
  EXPECT_EQ(BuildSnippet(text, {"teixelra"}), "Certidão emitida a pedido de Joaquim «Teixelra», nascido em Santos.");
  EXPECT_EQ(BuildSnippet("a certi-\ndão do registro", {"certidao"}), "a «certi- dão» do registro");
  EXPECT_EQ(BuildSnippet("requeri mento feito", {"requeri mento"}), "«requeri» «mento» feito");
  EXPECT_EQ(BuildSnippet(text, {"ausente"}), "");
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "palavra" + std::to_string(i) + " ";
  const std::string s = BuildSnippet(long_text, {"palavra20"});
  EXPECT_EQ(s.rfind("…", 0), 0u) << s;
  EXPECT_NE(s.find("«palavra20»"), std::string::npos) << s;
}

// The snippet's window is the first of the most hits among the windows
// starting 3 tokens before each hit (counted by two indexes moving
// forward, BuildSnippet): a lone early hit loses to a later group, a tie
// goes to the first group, hits at the page's very start and end, deep in
// a long page, typed without accents, joined across a line end or written
// as an identifier in groups are found where the page has them.
TEST(SnippetTest, TheWindowIsTheFirstWithTheMostHits) {
  auto words = [](int from, int to) {
    std::string s;
    for (int i = from; i < to; ++i) s += "w" + std::to_string(i) + " ";
    return s;
  };
  // One hit at 2, three at 30..34, two at 60..62: the three win.
  std::string text = words(0, 2) + "alvo " + words(3, 30) + "alvo w31 alvo w33 alvo " + words(35, 60) + "alvo w61 alvo " +
                     words(63, 80);
  EXPECT_EQ(BuildSnippet(text, {"alvo"}), "…w27 w28 w29 «alvo» w31 «alvo» w33 «alvo» w35 w36 w37 w38 w39 w40 w41 w42…");
  // Two groups of two: the first.
  text = words(0, 10) + "alvo alvo " + words(12, 40) + "alvo alvo " + words(42, 60);
  EXPECT_EQ(BuildSnippet(text, {"alvo"}), "…w7 w8 w9 «alvo» «alvo» w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22…");
  // A window holds a hit 12 positions after its own (it starts 3 before
  // it), not one 13 after: a lone first hit loses to the pair 12 apart
  // and wins against a pair 13 apart.
  text = words(0, 20) + "alvo " + words(21, 40) + "alvo " + words(41, 52) + "alvo " + words(53, 70);
  EXPECT_EQ(BuildSnippet(text, {"alvo"}), "…w37 w38 w39 «alvo» w41 w42 w43 w44 w45 w46 w47 w48 w49 w50 w51 «alvo»…");
  text = words(0, 20) + "alvo " + words(21, 40) + "alvo " + words(41, 53) + "alvo " + words(54, 70);
  EXPECT_EQ(BuildSnippet(text, {"alvo"}), "…w17 w18 w19 «alvo» w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32…");
  // At the very start and the very end of the page.
  EXPECT_EQ(BuildSnippet("CERTIDÃO " + words(1, 40), {"certidao"}),
            "«CERTIDÃO» w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15…");
  EXPECT_EQ(BuildSnippet(words(0, 40) + "Certidão.", {"certidao"}),
            "…w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 w39 «Certidão».");
  // Deep in a long page (3,000 words), a word hyphenated across a line end.
  EXPECT_EQ(BuildSnippet(words(0, 2000) + "a certi-\n  dão " + words(2003, 3000), {"certidao"}),
            "…w1998 w1999 a «certi- dão» w2003 w2004 w2005 w2006 w2007 w2008 w2009 w2010 w2011 w2012 w2013…");
  // An identifier written in groups, its groups the page's positions
  // (words without digits around it: `w29 529` would read as one number).
  std::string plain;
  for (int i = 0; i < 30; ++i) plain += "palavra ";
  EXPECT_EQ(BuildSnippet(plain + "CPF 529.982.247-25 " + plain, {"52998224725"}),
            "…palavra palavra CPF «529.982.247-25» palavra palavra palavra palavra palavra palavra palavra "
            "palavra palavra…");
}

}  // namespace
}  // namespace acervo
