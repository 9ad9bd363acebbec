#include "analyzer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "acervo/core/text.h"
#include "acervo/indexer/text_fold.h"

namespace acervo {
namespace {

std::vector<std::string> Terms(const std::string& text, TextToken::Kind kind) {
  std::vector<std::string> out;
  for (const TextToken& t : AnalyzeText(text)) {
    if (t.kind == kind) out.push_back(t.term);
  }
  return out;
}

TEST(AnalyzerTest, SurfaceTokensAreFoldedWithTheirByteRanges) {
  const std::string text = "CERTIDÃO de Nascimento, nº 12-A";
  const std::vector<TextToken> t = AnalyzeText(text);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].term, "certidao");
  EXPECT_EQ(text.substr(t[0].begin, t[0].end - t[0].begin), "CERTIDÃO");
  EXPECT_EQ(t[3].term, "nº");  // º is a letter of the token, as in unicode61
  EXPECT_EQ(t[5].term, "a");
  EXPECT_EQ(t[5].position, 5);
  EXPECT_EQ(AnalyzeQueryWords("a—b «c» d×e"), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

// Two-byte characters are read from a table (SurfaceTokens): each must
// split and fold exactly as FoldCodePoint and IsTokenCodePoint say, inside
// a word and alone, and malformed bytes still read as U+FFFD (a separator).
TEST(AnalyzerTest, EveryTwoByteCharacterFoldsAsTheFolderSays) {
  for (char32_t cp = 0x80; cp < 0x800; ++cp) {
    std::string ch;
    ch += static_cast<char>(0xC0 | (cp >> 6));
    ch += static_cast<char>(0x80 | (cp & 0x3F));
    std::string folded;
    FoldCodePoint(cp, &folded);
    size_t p = 0;
    const bool token = IsTokenCodePoint(DecodeUtf8(folded, &p));
    const std::vector<std::string> want =
        token ? std::vector<std::string>{"ab" + folded + "c"} : std::vector<std::string>{"ab", "c"};
    EXPECT_EQ(AnalyzeQueryWords("aB" + ch + "c"), want) << static_cast<unsigned>(cp);
    const std::vector<TextToken> t = AnalyzeText(ch + " x");
    ASSERT_EQ(t.size(), token ? 2u : 1u) << static_cast<unsigned>(cp);
    if (token) EXPECT_EQ(t[0].term, folded);
    EXPECT_EQ(t.back().begin, 3u);
  }
  EXPECT_EQ(AnalyzeQueryWords("a\xC0\x80" "b"), (std::vector<std::string>{"a", "b"}));  // overlong NUL
  EXPECT_EQ(AnalyzeQueryWords("a\xC3"), (std::vector<std::string>{"a"}));             // cut short
  EXPECT_EQ(AnalyzeQueryWords("a\xC3zb"), (std::vector<std::string>{"a", "zb"}));      // no continuation
}

// A token over kMaxTokenBytes only separates (ScanSurface drops its term
// from the terms it keeps one after the other): the tokens after it keep
// their own terms and the next positions, joined ones included.
TEST(AnalyzerTest, OverlongTokensOnlySeparate) {
  const std::string longer(300, 'X');
  const std::string text = "Ação " + longer + " de " + longer + "-\nfim 529.982.247-25 " + longer;
  const std::vector<TextToken> t = AnalyzeText(text);
  std::vector<std::string> terms;
  std::vector<int> positions;
  for (const TextToken& k : t) terms.push_back(k.term), positions.push_back(k.position);
  EXPECT_EQ(terms, (std::vector<std::string>{"acao", "de", "fim", "529", "52998224725", "982", "247", "25"}));
  EXPECT_EQ(positions, (std::vector<int>{0, 1, 2, 3, 3, 4, 5, 6}));
  EXPECT_EQ(text.substr(t[2].begin, t[2].end - t[2].begin), "fim");
  EXPECT_EQ(text.substr(t[4].begin, t[4].end - t[4].begin), "529.982.247-25");
  EXPECT_EQ(AnalyzeQueryWords(longer + " Ação " + longer), (std::vector<std::string>{"acao"}));
}

TEST(AnalyzerTest, WordsHyphenatedAcrossLineEndsAreJoined) {
  const std::string text = "emitida a certi-\n  dão do registro";
  const std::vector<TextToken> t = AnalyzeText(text);
  std::vector<std::string> joined = Terms(text, TextToken::Kind::kHyphenJoin);
  EXPECT_EQ(joined, std::vector<std::string>{"certidao"});
  for (const TextToken& x : t) {
    if (x.kind == TextToken::Kind::kHyphenJoin) {
      EXPECT_EQ(x.position, 2);  // colocated with "certi"
      EXPECT_EQ(text.substr(x.begin, x.end - x.begin), "certi-\n  dão");
    }
  }
  // A hyphen inside a line is a compound, not a line break; a soft hyphen
  // and U+2010 break lines too.
  EXPECT_TRUE(Terms("guarda-chuva novo", TextToken::Kind::kHyphenJoin).empty());
  EXPECT_EQ(Terms("requeri\xC2\xAD\nmento", TextToken::Kind::kHyphenJoin), std::vector<std::string>{"requerimento"});
  EXPECT_EQ(Terms("requeri\xE2\x80\x90\r\nmento", TextToken::Kind::kHyphenJoin),
            std::vector<std::string>{"requerimento"});
  // Digits do not hyphenate.
  EXPECT_TRUE(Terms("12-\n34", TextToken::Kind::kHyphenJoin).empty());
}

TEST(AnalyzerTest, IdentifiersInGroupsAreJoinedWithConfusablesReadAsDigits) {
  struct Case {
    std::string text;
    std::vector<std::string> want;
  };
  for (const Case& c : std::vector<Case>{
           {"CPF 529.982.247-25 consta", {"52998224725"}},
           {"CPF 529.982.247-2S consta", {"52998224725"}},     // S read for 5
           {"CPF 529.9B2.247-25", {"52998224725"}},            // B read for 8
           {"CNPJ 11.222.333/0001-81", {"11222333000181"}},
           {"processo 0004821-10.2023.8.26.0562", {"00048211020238260562"}},
           {"processo 0004821 -10.2023.8.26.O562", {"00048211020238260562"}},  // space, O for 0
           {"CPF 529 982 247 25", {"52998224725"}},
           {"CPF 5299822472S", {"52998224725"}},  // one token with a confusable letter
           {"CPF 529.982.24T-25", {"52998224t25"}},  // another letter stays, for forgiving search
           {"data 15/03/2024", {}},               // 8 digits: not an identifier
           {"CPF 52998224725", {}},               // already one token
           {"linha 1\n2 3 4 5 6 7 8 9", {}},      // groups do not cross lines
           {"sobre isso 1985", {}},               // words are not digits
           {"CPF 529.OOB.247-25", {}},            // a group of confusables alone is no number
           {"CPF SOB.982.247-25", {}},
       }) {
    EXPECT_EQ(Terms(c.text, TextToken::Kind::kIdentifier), c.want) << c.text;
  }
}

TEST(AnalyzerTest, IdentifierDigitsOfFieldValues) {
  EXPECT_EQ(IdentifierDigits("529.982.247-25"), "52998224725");
  EXPECT_EQ(IdentifierDigits("0004821-10.2023.8.26.0562"), "00048211020238260562");
  EXPECT_EQ(IdentifierDigits("11.222.333/0001-81"), "11222333000181");
  EXPECT_EQ(IdentifierDigits("1234"), std::nullopt);  // too short to be an identifier
  EXPECT_EQ(IdentifierDigits("Maria 12345"), std::nullopt);
  EXPECT_EQ(IdentifierDigits("3,5"), std::nullopt);
}

TEST(AnalyzerTest, PortugueseStemsJoinPluralsAndVerbForms) {
  EXPECT_EQ(PortugueseStem("certidoes"), PortugueseStem("certidao"));
  EXPECT_EQ(PortugueseStem("requerimentos"), PortugueseStem("requerimento"));
  EXPECT_EQ(PortugueseStem("declaracoes"), PortugueseStem("declaracao"));
  EXPECT_EQ(PortugueseStem("registrados"), PortugueseStem("registro"));
  EXPECT_EQ(PortugueseStem("irmaos"), PortugueseStem("irmao"));
  EXPECT_NE(PortugueseStem("casamento"), PortugueseStem("casa"));
  EXPECT_EQ(PortugueseStem("de"), "de");        // short words are their own stem
  EXPECT_EQ(PortugueseStem("2024a"), "2024a");  // so are words with digits
}

}  // namespace
}  // namespace acervo
