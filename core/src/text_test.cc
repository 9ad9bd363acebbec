#include "acervo/core/text.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

TEST(CleanTextTest, Table) {
  struct Case {
    std::string in;
    TextLines lines;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"Certidão nº 5", TextLines::kLine, "Certidão nº 5"},
      {"Linha um\x0bLinha dois", TextLines::kLine, "Linha um Linha dois"},
      {std::string("ab\0cd", 5), TextLines::kLine, "ab cd"},
      {"\x1b[31mred\x1b[0m", TextLines::kLine, " [31mred [0m"},
      {"a\nb\tc", TextLines::kLine, "a b c"},
      {"a\r\nb\fc\x07", TextLines::kLines, "a\nbc"},
      {"old\rmac", TextLines::kLines, "old\nmac"},
      {"p\xe9gina", TextLines::kLine, "p\xEF\xBF\xBDgina"},  // Latin-1 byte
      {"\xC2\x85next-line", TextLines::kLine, " next-line"},   // C1 control U+0085
      {"x\xEF\xBF\xBEy", TextLines::kLine, "x\xEF\xBF\xBDy"},  // noncharacter U+FFFE
      {"\xED\xA0\x80", TextLines::kLine, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // a surrogate
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CleanText(c.in, c.lines), c.out) << c.in;
    // Clean text is left alone, and has no problem.
    EXPECT_EQ(CleanText(c.out, c.lines), c.out) << c.in;
    EXPECT_EQ(TextProblem(c.out, c.lines), "") << c.in;
  }
}

TEST(TextProblemTest, NamesTheFirstOffence) {
  EXPECT_EQ(TextProblem("Linha um\x0bLinha dois"), "control character U+000B at byte 9");
  EXPECT_EQ(TextProblem(std::string("ab\0cd", 5)), "control character U+0000 at byte 3");
  EXPECT_EQ(TextProblem("p\xe9gina"), "invalid UTF-8 at byte 2");
  EXPECT_EQ(TextProblem("real \xEF\xBF\xBD replacement"), "");
  EXPECT_EQ(TextProblem("a\nb"), "control character U+000A at byte 2");
  EXPECT_EQ(TextProblem("a\nb", TextLines::kLines), "");
}

TEST(XmlTextTest, EscapesAndNeverEmitsWhatXmlForbids) {
  EXPECT_EQ(XmlText("a < b & \"c\" 'd' > e"), "a &lt; b &amp; &quot;c&quot; &apos;d&apos; &gt; e");
  EXPECT_EQ(XmlText("um\x0b" "dois\x01\f"), "umdois");
  EXPECT_EQ(XmlText("linha\nlinha\ttab"), "linha\nlinha\ttab");
  EXPECT_EQ(XmlText("\xff"), "\xEF\xBF\xBD");
}

TEST(TerminalTextTest, ShowsControlsNeverObeysThem) {
  EXPECT_EQ(TerminalText("\x1b]0;pwned\x07title"), "\\x1B]0;pwned\\x07title");
  EXPECT_EQ(TerminalText("Certidão"), "Certidão");
  EXPECT_EQ(TerminalText("\xC2\x9B"), "\\x9B");  // C1 CSI
  EXPECT_EQ(TerminalText("\xff"), "\xEF\xBF\xBD");
}

TEST(Utf8Test, DecodeAndAppendRoundTrip) {
  const std::string s = "aé€😀";
  std::string out;
  for (size_t pos = 0; pos < s.size();) AppendUtf8(DecodeUtf8(s, &pos), &out);
  EXPECT_EQ(out, s);
  EXPECT_EQ(ValidUtf8("ok\xc3"), "ok\xEF\xBF\xBD");
}

}  // namespace
}  // namespace acervo
