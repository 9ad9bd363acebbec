#include "text_layer.h"

#include <gtest/gtest.h>

namespace acervo::pdf_internal {
namespace {

TEST(FormatNumberTest, Table) {
  struct Case {
    double in;
    const char* out;
  } cases[] = {
      {0, "0"},       {1, "1"},         {12.5, "12.5"},      {595.2, "595.2"}, {1.23456, "1.235"},
      {-0.0001, "0"}, {-2.25, "-2.25"}, {1e9, "1000000000"}, {0.0004, "0"},    {100.1004, "100.1"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatNumber(c.in), c.out) << c.in;
}

TEST(Utf8ToUtf16HexTest, Table) {
  struct Case {
    const char* in;
    const char* hex;
    int units;
  } cases[] = {
      {"abc", "006100620063", 3},
      {"ção", "00E700E3006F", 3},
      {"nº", "006E00BA", 2},
      {"1ª", "003100AA", 2},
      {"“x”", "201C0078201D", 3},
      {"a–b", "006120130062", 3},
      {"é\xF0\x9F\x98\x80", "00E9", 1},  // emoji (beyond the BMP) dropped
      {"a\tb", "00610062", 2},           // control dropped
      {"a\xC3", "0061", 1},              // truncated sequence dropped
      {"\xC0\xAF", "", 0},               // overlong '/' rejected
      {"", "", 0},
  };
  for (const Case& c : cases) {
    int units = -1;
    EXPECT_EQ(Utf8ToUtf16Hex(c.in, &units), c.hex) << c.in;
    EXPECT_EQ(units, c.units) << c.in;
  }
}

TEST(PageContentTest, PlacesWordAtBoxWithStretch) {
  PageGeometry geo{595.2, 842.4, 300, 300};
  // 300 px wide, 50 px high at 300 dpi: 72 x 12 pt; 4 chars at 12 pt and
  // 100% advance 4 * 6 = 24 pt, so Tz is 300.
  std::vector<Word> words = {{"Test", cv::Rect(600, 900, 300, 50), 90, 0},
                             {"", cv::Rect(0, 0, 10, 10), 90, 0},   // no text
                             {"x", cv::Rect(0, 0, 0, 10), 90, 0}};  // no box
  int written = 0;
  std::set<FontMetrics> fonts;
  std::string s = PageContent(geo, "Im0", "F", words, &written, &fonts);
  EXPECT_EQ(written, 1);
  EXPECT_EQ(fonts, (std::set<FontMetrics>{{1000, 0}}));
  EXPECT_NE(s.find("q 595.2 0 0 842.4 0 0 cm /Im0 Do Q"), std::string::npos) << s;
  EXPECT_NE(s.find("3 Tr"), std::string::npos);
  EXPECT_NE(s.find("/F1000_0 12 Tf"), std::string::npos) << s;
  EXPECT_NE(s.find("300 Tz"), std::string::npos) << s;
  // x = 600 px = 144 pt; baseline at box bottom: 842.4 - 950*0.24 = 614.4.
  EXPECT_NE(s.find("1 0 0 1 144 614.4 Tm <0054006500730074> Tj"), std::string::npos) << s;
}

// One line: baseline and size shared, each word's font variant puts its
// extracted box on its own box: x-height-only, ascender, descender words.
TEST(PageContentTest, WordsOfALineShareBaselineAndSizeButNotTheirBox) {
  PageGeometry geo{720, 720, 72, 72};  // 1 px = 1 pt
  std::vector<Word> words = {
      {"Tabelião", cv::Rect(10, 100, 80, 40), 90, 0, 140},  // cap height: top of the line
      {"ou", cv::Rect(100, 116, 20, 24), 90, 0, 140},       // x-height only
      {"pagar", cv::Rect(130, 116, 50, 34), 90, 0, 140},    // descender: 10 px below
      {" ", cv::Rect(190, 100, 5, 40), 90, 0, 140},         // whitespace: no word
  };
  int written = 0;
  std::set<FontMetrics> fonts;
  std::string s = PageContent(geo, "Im0", "F", words, &written, &fonts);
  EXPECT_EQ(written, 3);
  // Line size 40 px (top 100, baseline 140); "ou" tops at 24/40 = 600/1000,
  // "pagar" at 600 with 10/40 = 250 below.
  EXPECT_EQ(fonts, (std::set<FontMetrics>{{1000, 0}, {600, 0}, {600, 250}}));
  EXPECT_NE(s.find("/F1000_0 40 Tf"), std::string::npos) << s;
  EXPECT_NE(s.find("/F600_0 40 Tf"), std::string::npos) << s;
  EXPECT_NE(s.find("/F600_250 40 Tf"), std::string::npos) << s;
  // One baseline for all three: y = 720 - 140 = 580.
  EXPECT_NE(s.find("1 0 0 1 10 580 Tm"), std::string::npos) << s;
  EXPECT_NE(s.find("1 0 0 1 100 580 Tm"), std::string::npos) << s;
  EXPECT_NE(s.find("1 0 0 1 130 580 Tm"), std::string::npos) << s;
}

TEST(PageContentTest, NoWordsNoTextObject) {
  PageGeometry geo{100, 100, 72, 72};
  int written = -1;
  std::string s = PageContent(geo, "Im0", "F", {}, &written);
  EXPECT_EQ(written, 0);
  EXPECT_EQ(s.find("BT"), std::string::npos);
}

TEST(ToUnicodeCMapTest, RangesStayWithinHighByteAndSkipSurrogates) {
  std::string cmap = ToUnicodeCMap();
  EXPECT_NE(cmap.find("<0000> <00FF> <0000>"), std::string::npos);
  EXPECT_NE(cmap.find("<2000> <20FF> <2000>"), std::string::npos);
  EXPECT_NE(cmap.find("<FF00> <FFFF> <FF00>"), std::string::npos);
  EXPECT_EQ(cmap.find("<D800>"), std::string::npos);
  EXPECT_NE(cmap.find("100 beginbfrange"), std::string::npos);
  EXPECT_NE(cmap.find("48 beginbfrange"), std::string::npos);  // 248 = 100+100+48
}

}  // namespace
}  // namespace acervo::pdf_internal
