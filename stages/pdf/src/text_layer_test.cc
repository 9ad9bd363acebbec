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

// The font size of a line's text: its height above the baseline over the
// share of an em that capitals and ascenders take (see text_layer.cc).
double TypeSizePx(double height_above_baseline) { return height_above_baseline / 0.72; }

// The first "/F... SIZE Tf" operand after `from`.
double FirstFontSize(const std::string& s, size_t from = 0) {
  size_t tf = s.find(" Tf", from);
  if (tf == std::string::npos) return -1;
  size_t start = s.rfind(' ', tf - 1) + 1;
  return std::stod(s.substr(start, tf - start));
}

// The font size in force where `op` (a Tm operator's text) is drawn.
double SizeAt(const std::string& s, const std::string& op) {
  size_t at = s.find(op);
  if (at == std::string::npos) return -1;
  size_t tf = s.rfind(" Tf", at);
  if (tf == std::string::npos) return -1;
  size_t start = s.rfind(' ', tf - 1) + 1;
  return std::stod(s.substr(start, tf - start));
}

TEST(PageContentTest, PlacesWordAtBoxWithStretch) {
  PageGeometry geo{595.2, 842.4, 300, 300};
  // 300 px wide, 50 px high at 300 dpi: 72 x 12 pt.
  std::vector<Word> words = {{"Test", cv::Rect(600, 900, 300, 50), 90, 0},
                             {"", cv::Rect(0, 0, 10, 10), 90, 0},   // no text
                             {"x", cv::Rect(0, 0, 0, 10), 90, 0}};  // no box
  int written = 0;
  std::set<FontMetrics> fonts;
  std::string s = PageContent(geo, "Im0", "F", words, &written, &fonts);
  EXPECT_EQ(written, 1);
  const double size_pt = TypeSizePx(50) * 72 / 300;  // 16.667
  EXPECT_NEAR(FirstFontSize(s), size_pt, 0.001) << s;
  // The box is 50/69.4 of the size tall: ascent 700 in steps of 50.
  EXPECT_EQ(fonts, (std::set<FontMetrics>{{700, 0}}));
  EXPECT_NE(s.find("q 595.2 0 0 842.4 0 0 cm /Im0 Do Q"), std::string::npos) << s;
  EXPECT_NE(s.find("3 Tr"), std::string::npos);
  // 4 glyphs of half an em at 100% advance 2 * 16.667 pt; the box is 72 pt.
  EXPECT_NE(s.find(FormatNumber(100 * 72 / (2 * size_pt)) + " Tz"), std::string::npos) << s;
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
  // Size 40/0.72 = 55.56: "Tabelião" tops at 40/55.56 = 700/1000, "ou" at
  // 24/55.56 = 450, "pagar" at 450 with 10/55.56 = 200 below.
  EXPECT_EQ(fonts, (std::set<FontMetrics>{{700, 0}, {450, 0}, {450, 200}}));
  const std::string size = FormatNumber(TypeSizePx(40));
  EXPECT_NE(s.find("/F700_0 " + size + " Tf"), std::string::npos) << s;
  EXPECT_NE(s.find("/F450_0 " + size + " Tf"), std::string::npos) << s;
  EXPECT_NE(s.find("/F450_200 " + size + " Tf"), std::string::npos) << s;
  // One baseline for all three: y = 720 - 140 = 580.
  EXPECT_NE(s.find("1 0 0 1 10 580 Tm"), std::string::npos) << s;
  EXPECT_NE(s.find("1 0 0 1 100 580 Tm"), std::string::npos) << s;
  EXPECT_NE(s.find("1 0 0 1 130 580 Tm"), std::string::npos) << s;
}

// A column of text: its own lines differ in height (one has no capital or
// ascender) and its paragraphs are further apart than its lines, yet all
// of them get one size, large enough for the widest pitch: text extractors
// then keep them one block instead of one block per line that the other
// column's lines interleave with.
TEST(PageContentTest, LinesOfOneColumnShareOneSizeThatSpansItsPitch) {
  PageGeometry geo{720, 720, 72, 72};
  std::vector<Word> words;
  const int bases[] = {100, 124, 148, 186, 210};  // pitch 24, a paragraph gap of 38
  for (int l = 0; l < 5; ++l) {
    const int top = l == 1 ? bases[l] - 10 : bases[l] - 17;  // line 1: x-height only
    words.push_back({"palavra", cv::Rect(10, top, 60, bases[l] - top), 90, l, bases[l], 0, l < 3 ? 0 : 1});
    words.push_back({"outra", cv::Rect(80, top, 40, bases[l] - top), 90, l, bases[l], 0, l < 3 ? 0 : 1});
  }
  int written = 0;
  std::string s = PageContent(geo, "Im0", "F", words, &written);
  EXPECT_EQ(written, 10);
  std::set<std::string> sizes;
  for (size_t at = s.find(" Tf"); at != std::string::npos; at = s.find(" Tf", at + 1)) {
    sizes.insert(FormatNumber(FirstFontSize(s, s.rfind('\n', at))));
  }
  ASSERT_EQ(sizes.size(), 1u) << s;
  const double size = std::stod(*sizes.begin());
  EXPECT_GE(1.5 * size, 38) << "the paragraph gap must be within poppler's 1.5 sizes";
  EXPECT_LT(0.5 * size, 24) << "adjacent lines must stay apart (0.5 size)";
}

// A caption lying across two columns (its lines between theirs) gets a
// size far from both, so no extractor merges it with them line by line.
TEST(PageContentTest, BlockAcrossTwoColumnsGetsAFarSize) {
  PageGeometry geo{720, 720, 72, 72};
  std::vector<Word> words;
  int line = 0;
  for (int col = 0; col < 2; ++col) {
    for (int l = 0; l < 8; ++l, ++line) {
      const int base = 100 + 24 * l, x = 10 + 300 * col;
      words.push_back({"coluna", cv::Rect(x, base - 17, 100, 17), 90, line, base, col, col});
      words.push_back({"texto", cv::Rect(x + 120, base - 17, 100, 17), 90, line, base, col, col});
    }
  }
  // The caption: x 200..420 (over both columns' edges), between lines 3 and 4.
  words.push_back({"legenda", cv::Rect(200, 164, 100, 17), 90, line, 181, 2, 2});
  words.push_back({"larga", cv::Rect(320, 164, 100, 17), 90, line, 181, 2, 2});
  std::string s = PageContent(geo, "Im0", "F", words, nullptr);
  const double left = SizeAt(s, "1 0 0 1 10 ");
  const double right = SizeAt(s, "1 0 0 1 310 ");
  const double caption = SizeAt(s, "1 0 0 1 200 ");
  ASSERT_GT(left, 0);
  ASSERT_GT(right, 0);
  ASSERT_GT(caption, 0);
  EXPECT_GE(std::abs(caption - left) / std::max(caption, left), 0.6) << s;
  EXPECT_GE(std::abs(caption - right) / std::max(caption, right), 0.6) << s;
}

// A figure's label in a hole of a paragraph (text wrapped around a logo,
// stamped-multicol_01): the paragraph's first lines start right of the
// figure, its later lines span the column, and the label (an OCR block of
// its own) lies left of the first ones. It interleaves with the paragraph
// but no line of the paragraph reaches it, so it may take a size near the
// paragraph's (poppler then keeps it in the paragraph's block, on lines of
// its own) instead of one 2.6 times apart: a block of its own, nothing
// beside it, had its reading-order box widened across the page by poppler,
// and the other column's upper part was read inside this paragraph.
TEST(PageContentTest, LabelInAHoleOfAParagraphIsNotSizedApart) {
  PageGeometry geo{720, 720, 72, 72};
  std::vector<Word> words;
  for (int l = 0; l < 8; ++l) {
    const int base = 100 + 24 * l, x = l < 3 ? 150 : 10;
    words.push_back({"texto", cv::Rect(x, base - 17, 80, 17), 90, l, base, 0, 0});
    words.push_back({"corrido", cv::Rect(250, base - 17, 80, 17), 90, l, base, 0, 0});
  }
  words.push_back({"ELEICAO", cv::Rect(20, 93, 100, 17), 90, 8, 110, 1, 1});
  words.push_back({"2016", cv::Rect(40, 123, 60, 17), 90, 9, 140, 1, 1});
  std::string s = PageContent(geo, "Im0", "F", words, nullptr);
  const double paragraph = SizeAt(s, "1 0 0 1 150 ");
  const double label = SizeAt(s, "1 0 0 1 20 ");
  ASSERT_GT(paragraph, 0);
  ASSERT_GT(label, 0);
  EXPECT_LT(std::abs(label - paragraph) / std::max(label, paragraph), 0.6) << s;
}

// Table rows read across by the OCR take stepped sizes (poppler then reads
// the grid row by row) only when they form a grid: four or more rows
// whose cells line up. A form's records (a header row, a row of values
// under it, a remarks row, a signature row, repeated) have wide gaps too,
// but stepped, poppler's table detector grouped cells of different rows
// into tables of its own (form_01: pdftotext CER 0.325 -> 0.589). Cell
// starts in px; every word 17 px tall, lines 24 px apart, one OCR block.
std::set<std::string> RowSizes(const std::vector<std::vector<int>>& rows) {
  PageGeometry geo{1240, 1754, 150, 150};
  std::vector<Word> words;
  for (size_t r = 0; r < rows.size(); ++r) {
    const int base = 300 + 24 * static_cast<int>(r);
    for (int x : rows[r]) words.push_back({"celula", cv::Rect(x, base - 17, 60, 17), 90, static_cast<int>(r), base, 0, 0});
  }
  std::string s = PageContent(geo, "Im0", "F", words, nullptr);
  std::set<std::string> sizes;
  for (size_t at = s.find(" Tf"); at != std::string::npos; at = s.find(" Tf", at + 1)) {
    sizes.insert(FormatNumber(FirstFontSize(s, s.rfind('\n', at))));
  }
  return sizes;
}

TEST(PageContentTest, OnlyRowsOfAGridTakeSteppedSizes) {
  const std::vector<int> grid = {100, 420, 620, 820};
  EXPECT_GE(RowSizes({grid, grid, grid, grid, grid}).size(), 2u) << "a grid's rows are stepped";
  EXPECT_EQ(RowSizes({grid, grid, grid}).size(), 1u) << "three rows are not a table to poppler";
  std::vector<std::vector<int>> records;
  for (int r = 0; r < 5; ++r) {
    records.push_back({100, 420, 640, 820, 1000});
    records.push_back({120, 330, 530, 700, 880});
    records.push_back({100, 620});
    records.push_back({100, 520, 860});
  }
  EXPECT_EQ(RowSizes(records).size(), 1u) << "a form's records keep one size";
  // A grid whose rows leave columns empty (a figure not given, a label the
  // OCR put in a block of its own; multicol_07) is still a grid: each cell
  // falls into one column of the first row. Before, any such row ended the
  // grid and the stretches between them, too short, kept one size.
  const std::vector<int> no_last = {100, 420, 620}, no_label = {420, 620, 820};
  EXPECT_GE(RowSizes({grid, grid, no_last, grid, no_label, grid, grid}).size(), 2u)
      << "rows with empty cells are rows of the grid";
  // A section label alone in the first column between rows of the grid
  // ("Assets"; table_01, multicol_07) does not end it, and takes the size
  // of the row after it (poppler then puts the two in one block, the
  // row's first cell, and reads it in the table). Before, the two rows on
  // each side were too few for a grid: one size.
  const std::vector<int> label = {100};
  EXPECT_GE(RowSizes({grid, grid, label, grid, grid}).size(), 2u) << "a section label keeps the grid";
  {
    PageGeometry geo{1240, 1754, 150, 150};
    std::vector<Word> words;
    const std::vector<std::vector<int>> rows = {grid, grid, label, grid, grid};
    for (size_t r = 0; r < rows.size(); ++r) {
      const int base = 300 + 24 * static_cast<int>(r);
      for (int x : rows[r]) words.push_back({"celula", cv::Rect(x, base - 17, 60, 17), 90, static_cast<int>(r), base, 0, 0});
    }
    const std::string s = PageContent(geo, "Im0", "F", words, nullptr);
    // x 100 px = 48 pt; baselines 348 and 372 px = 1586.96 and 1575.44 pt from the foot.
    const double label_size = SizeAt(s, "1 0 0 1 48 1586.96 ");
    ASSERT_GT(label_size, 0) << s;
    EXPECT_EQ(label_size, SizeAt(s, "1 0 0 1 48 1575.44 ")) << "the label takes the next row's size\n" << s;
    EXPECT_NE(label_size, SizeAt(s, "1 0 0 1 48 1598.48 ")) << "and not the previous row's\n" << s;
  }
  EXPECT_EQ(RowSizes({grid, grid, grid, label}).size(), 1u) << "a label after the last row is not a row";
  // A cell across two columns of the first row (four words 10 px apart,
  // x 400..670) is no row of the grid: the three rows after it are too few.
  const std::vector<int> wide_cell = {100, 400, 470, 540, 610, 820};
  EXPECT_EQ(RowSizes({grid, wide_cell, grid, grid, grid}).size(), 1u) << "a cell across two columns ends the grid";
  // Lines of prose with a hole where nothing was read (a stain across a
  // paragraph, barranquilla): ten words, the hole, three words, aligned
  // from line to line, but no table.
  std::vector<int> prose;
  for (int k = 0; k < 10; ++k) prose.push_back(100 + 70 * k);
  for (int k = 0; k < 3; ++k) prose.push_back(900 + 70 * k);
  EXPECT_EQ(RowSizes({prose, prose, prose, prose, prose}).size(), 1u) << "prose with a hole keeps one size";
}

// A row read across a gap no size bridges, between two lines of one cell
// whose extent its other cell lies beside (a court caption, filing_01):
// every line of its run takes a size of its own in turn, so that poppler
// makes each a block and reads the row across (see RunsOfSeparateLines).
TEST(PageContentTest, RowReadAcrossBetweenLinesOfOneCellSeparatesItsLines) {
  EXPECT_GE(RowSizes({{100}, {100}, {250, 620}, {160}, {100, 620}, {250}}).size(), 3u)
      << "a caption's lines take stepped sizes";
  // The second cell under the lines above and below (a justified line with
  // wide gaps) joins their block with its line whatever the size (rule b).
  std::vector<int> prose;
  for (int k = 0; k < 8; ++k) prose.push_back(100 + 70 * k);
  EXPECT_EQ(RowSizes({{100}, prose, {100, 520}, prose, {100}}).size(), 1u)
      << "a cell under the lines around it keeps one size";
  EXPECT_EQ(RowSizes({{100}, {100, 620}, {100, 620}, {100}}).size(), 1u)
      << "two rows together have no line of one cell between them";
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
