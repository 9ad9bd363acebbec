#include "acervo/pipeline/csv.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

TEST(CsvTest, ParsesRfc4180) {
  struct Case { std::string text; std::vector<std::vector<std::string>> rows; };
  std::vector<Case> cases = {
      {"a,b\n1,2\n", {{"a", "b"}, {"1", "2"}}},
      {"a,b\r\n1,2", {{"a", "b"}, {"1", "2"}}},
      {"\xEF\xBB\xBFid,título\nx,\"Certidão, 2ª via\"\n", {{"id", "título"}, {"x", "Certidão, 2ª via"}}},
      {"a\n\"linha 1\nlinha 2\"\n", {{"a"}, {"linha 1\nlinha 2"}}},
      {"a,b\n\"diz \"\"sim\"\"\",\n", {{"a", "b"}, {"diz \"sim\"", ""}}},
      {"a\n\n\nb\n", {{"a"}, {"b"}}},
  };
  for (const Case& c : cases) {
    Result<std::vector<CsvRow>> rows = ParseCsv(c.text, "m.csv");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), c.rows.size()) << c.text;
    for (size_t i = 0; i < c.rows.size(); ++i) EXPECT_EQ((*rows)[i].fields, c.rows[i]);
  }
}

TEST(CsvTest, RowsKnowTheirLine) {
  Result<std::vector<CsvRow>> rows = ParseCsv("h\n\"a\nb\"\nc\n", "m.csv");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].line, 1);
  EXPECT_EQ((*rows)[1].line, 2);
  EXPECT_EQ((*rows)[2].line, 4);
}

TEST(CsvTest, ErrorsNameTheLine) {
  struct Case { std::string text; std::string want; };
  for (const Case& c : {Case{"a\n\"open", "line 2: unterminated"},
                        Case{"a\nb\"c\n", "line 2: quote inside"},
                        Case{"a\n\"x\"y\n", "line 2: text after"}}) {
    Result<std::vector<CsvRow>> rows = ParseCsv(c.text, "manifest.csv");
    ASSERT_FALSE(rows.ok()) << c.want;
    EXPECT_NE(rows.status().message().find("manifest.csv " + c.want), std::string::npos)
        << rows.status().ToString();
  }
}

// A 1 MB field (a broken export) spoils its own row, not the manifest: the
// row carries the error and the rows around it are intact.
TEST(CsvTest, OverlongFieldMarksOnlyItsRow) {
  for (bool quoted : {false, true}) {
    std::string big(1 << 20, 'x');
    if (quoted) big = "\"" + big + "\"";
    Result<std::vector<CsvRow>> rows = ParseCsv("id,title\na,ok\nb," + big + "\nc,ok\n", "manifest.csv");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 4u);
    EXPECT_TRUE((*rows)[1].error.empty());
    EXPECT_NE((*rows)[2].error.find("manifest.csv line 3: field 2 of 1048576 bytes exceeds the limit"),
              std::string::npos) << (*rows)[2].error;
    EXPECT_TRUE((*rows)[2].fields[1].empty());
    EXPECT_EQ((*rows)[3].fields, (std::vector<std::string>{"c", "ok"}));
    EXPECT_EQ((*rows)[3].line, 4);
  }
}

}  // namespace
}  // namespace acervo
