#include <gtest/gtest.h>

#include "acervo/synth/synth.h"
#include "utf8.h"

namespace acervo::synth {
namespace {

struct CerCase {
  const char* name;
  const char* hypothesis;
  const char* truth;
  double want;
};

class CerTest : public ::testing::TestWithParam<CerCase> {};

TEST_P(CerTest, MatchesExpected) {
  const CerCase& c = GetParam();
  EXPECT_NEAR(CharacterErrorRate(c.hypothesis, c.truth), c.want, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CerTest,
    ::testing::Values(
        CerCase{"identical", "certidão de óbito", "certidão de óbito", 0.0},
        CerCase{"both_empty", "", "", 0.0},
        CerCase{"empty_truth", "x", "", 1.0},
        CerCase{"whitespace_only_truth", "", "  \n\t ", 0.0},
        CerCase{"empty_hypothesis", "", "abcd", 1.0},
        CerCase{"one_substitution_in_ten", "abcdefghiX", "abcdefghij", 0.1},
        // "ç" vs "c" is one code point, not two bytes: 1 error over 5.
        CerCase{"accent_is_one_code_point", "ofico", "ofiço", 0.2},
        CerCase{"missing_accent_tilde", "certidao", "certidão", 0.125},
        CerCase{"whitespace_normalised", "  um\n\ndois\ttrês  ", "um dois três", 0.0},
        CerCase{"line_break_equals_space", "linha um\nlinha dois", "linha um linha dois", 0.0},
        CerCase{"insertion", "abcxd", "abcd", 0.25},
        CerCase{"deletion", "abd", "abcd", 0.25},
        CerCase{"hypothesis_longer_than_truth", "abcdefgh", "ab", 3.0}),
    [](const ::testing::TestParamInfo<CerCase>& info) { return std::string(info.param.name); });

TEST(Utf8Test, DecodesMultiByteAndReplacesInvalid) {
  EXPECT_EQ(DecodeUtf8("ç"), std::u32string(U"ç"));
  EXPECT_EQ(DecodeUtf8("aã€𝄞"), std::u32string(U"aã€𝄞"));
  EXPECT_EQ(DecodeUtf8("\xC3"), std::u32string(U"\uFFFD"));          // truncated
  EXPECT_EQ(DecodeUtf8("\xC0\xAF"), std::u32string(U"\uFFFD\uFFFD"));  // overlong
  EXPECT_EQ(DecodeUtf8("\xED\xA0\x80").size(), 3u);                   // surrogate
}

TEST(Utf8Test, EditDistanceIsSymmetric) {
  EXPECT_EQ(EditDistance(U"kitten", U"sitting"), 3u);
  EXPECT_EQ(EditDistance(U"sitting", U"kitten"), 3u);
  EXPECT_EQ(EditDistance(U"", U"abc"), 3u);
}

}  // namespace
}  // namespace acervo::synth
