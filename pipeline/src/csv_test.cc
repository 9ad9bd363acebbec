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
                        Case{"a\n\"x\"y\n", "line 2: text after"},
                        Case{"a\n" + std::string(2 * 1024 * 1024, 'x') + "\n", "line 2: field"}}) {
    Result<std::vector<CsvRow>> rows = ParseCsv(c.text, "manifest.csv");
    ASSERT_FALSE(rows.ok()) << c.want;
    EXPECT_NE(rows.status().message().find("manifest.csv " + c.want), std::string::npos)
        << rows.status().ToString();
  }
}

}  // namespace
}  // namespace acervo
