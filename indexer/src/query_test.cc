#include "acervo/indexer/query.h"

#include <gtest/gtest.h>

#include <random>

namespace acervo {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string s;
  for (const std::string& e : parts) s += (s.empty() ? "" : " | ") + e;
  return s;
}

TEST(ParseQueryTest, Translates) {
  struct Case {
    const char* query;
    const char* fts;
    const char* excluded;
    const char* filter;  // DescribeCondition, "" = none
  };
  const Case cases[] = {
      {"", "", "", ""},
      {"   ", "", "", ""},
      {"certidão", R"("certidão")", "", ""},
      {"certidão nascimento", R"("certidão" | "nascimento")", "", ""},
      {"a AND b", R"("a" | "b")", "", ""},
      {"\"certidão de nascimento\"", R"("certidão de nascimento")", "", ""},
      {"nasc*", R"("nasc" *)", "", ""},
      {"\"certidão de nasc\"*", R"("certidão de nasc" *)", "", ""},
      {"a OR b c", R"(("a" OR ("b" AND "c")))", "", ""},
      {"(a OR b) c", R"(("a" OR "b") | "c")", "", ""},
      {"a -b", R"("a")", R"("b")", ""},
      {"a NOT b", R"("a")", R"("b")", ""},
      {"-b", "", R"("b")", ""},
      {"a -(b OR c)", R"("a")", R"(("b" OR "c"))", ""},
      {"(a -b) OR c", R"(((("a") NOT ("b")) OR "c"))", "", ""},
      {"(a -b) c", R"((("a") NOT ("b")) | "c")", "", ""},
      {"(a b type:x)", R"("a" | "b")", "", "type=\"x\""},
      {"--a", R"("a")", "", ""},
      {"and or not", R"("and" | "or" | "not")", "", ""},
      // Quotes inside a word are re-quoted, FTS5 syntax in user text is inert.
      {"a\"b c\"", R"("a" | "b c")", "", ""},
      {"(joão AND 1985) x", R"(("joão" AND "1985") | "x")", "", ""},
      {"NEAR(a b)", R"("NEAR" | ("a" AND "b"))", "", ""},
      {"x^y col:val", R"("x^y")", "", "col=\"val\""},
      {"12:30", R"("12:30")", "", ""},
      {"processo:123", "", "", "processo=\"123\""},
      {"Nome:\"MARIA  da Conceição\"", "", "", "nome=\"maria da conceicao\""},
      {"nome:mar*", "", "", "nome^=\"mar\""},
      {"data:15/03/2020", "", "", "data=\"15/03/2020\""},
      {"data:2020-01-01..2020-12-31", "", "", "data=[2020-01-01..2020-12-31]"},
      {"data:01/01/2020..31/12/2020", "", "", "data=[2020-01-01..2020-12-31]"},
      {"data:2020-01-01..", "", "", "data=[2020-01-01..]"},
      {"valor:..100", "", "", "valor=[..100]"},
      {"valor:10..100,5", "", "", "valor=[10..100.5]"},
      {"lot:LOTE-01 type:Certidão", "", "", "(AND lot=\"LOTE-01\" type=\"certidao\")"},
      {"type:cert*", "", "", "type^=\"cert\""},
      {"type:a OR type:b", "", "", "(OR type=\"a\" type=\"b\")"},
      {"-type:oficio", "", "", "(NOT type=\"oficio\")"},
      {"óbito (type:a OR type:b) -c", R"("óbito")", R"("c")",
       "(OR type=\"a\" type=\"b\")"},
  };
  for (const Case& c : cases) {
    Result<ParsedQuery> q = ParseQuery(c.query);
    ASSERT_TRUE(q.ok()) << c.query << ": " << q.status().ToString();
    EXPECT_EQ(Join(q->required_fts), c.fts) << c.query;
    EXPECT_EQ(Join(q->excluded_fts), c.excluded) << c.query;
    EXPECT_EQ(q->filter ? DescribeCondition(*q->filter) : "", c.filter) << c.query;
  }
}

TEST(ParseQueryTest, DateEqualityKeepsIsoForm) {
  Result<ParsedQuery> q = ParseQuery("data:15/03/2020");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->filter.has_value());
  EXPECT_EQ(q->filter->predicate.date.value_or(""), "2020-03-15");
}

TEST(ParseQueryTest, ReportsErrorsWithPositions) {
  struct Case {
    const char* query;
    const char* message;
  };
  const Case cases[] = {
      {"certidão \"de nasc", "unclosed quote at position 10"},
      {"abcdef \"x", "unclosed quote at position 8"},
      {"(a OR b", "unclosed parenthesis at position 1"},
      {"a (b (c)", "unclosed parenthesis at position 3"},
      {"a)", "unmatched ')' at position 2"},
      {"()", "empty parentheses at position 1"},
      {"a AND", "'AND' without a term after it at position 3"},
      {"a OR", "'OR' without a term after it at position 3"},
      {"OR a", "'OR' without a term before it at position 1"},
      {"a AND OR b", "'AND' without a term after it at position 3"},
      {"a NOT", "'NOT' without a term after it at position 3"},
      {"a -", "'-' without a term after it at position 3"},
      {"(a -)", "'-' without a term after it at position 4"},
      {":x", "empty field name at position 1"},
      {"ação :x", "empty field name at position 6"},
      {"nome:", "missing value for field 'nome' at position 6"},
      {"nome:\"  \"", "missing value for field 'nome' at position 6"},
      {"nome:\"x", "unclosed quote at position 6"},
      {"data:2020-01-01..abc",
       "bad range '2020-01-01..abc': bounds must both be dates (YYYY-MM-DD or DD/MM/YYYY) or "
       "numbers at position 6"},
      {"data:..", "bad range '..': give at least one bound at position 6"},
      {"data:2021-01-01..2020-01-01",
       "bad range '2021-01-01..2020-01-01': the start is after the end at position 6"},
      {"valor:10..x", "bad range '10..x': bounds must both be dates (YYYY-MM-DD or DD/MM/YYYY) "
                      "or numbers at position 7"},
      {"lot:a..b", "lot: takes one lot id (no range or prefix) at position 5"},
      {"*", "'*' without a word before it at position 1"},
      {"\"\"", "phrase without letters or digits at position 1"},
      {"a ...", "word without letters or digits at position 3"},
      {"a OR type:x", "text and field conditions cannot be combined with OR/NOT in one group at "
                      "position 3"},
      {"a OR -b", "NOT needs a term to subtract from in the same group at position 6"},
      {"c OR (-a -b)", "NOT needs a term to subtract from in the same group at position 7"},
  };
  for (const Case& c : cases) {
    Result<ParsedQuery> q = ParseQuery(c.query);
    ASSERT_FALSE(q.ok()) << c.query;
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument) << c.query;
    EXPECT_EQ(q.status().message(), c.message) << c.query;
  }
}

TEST(ParseQueryTest, LimitsSizeAndDepth) {
  EXPECT_EQ(ParseQuery(std::string(kMaxQueryBytes + 1, 'a')).status().code(),
            StatusCode::kInvalidArgument);
  std::string deep(100, '(');
  deep += "a";
  deep += std::string(100, ')');
  Result<ParsedQuery> q = ParseQuery(deep);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().message(), "query nested too deeply at position 33");
  EXPECT_EQ(ParseQuery(std::string(2000, '-') + "a").status().code(),
            StatusCode::kInvalidArgument);
}

// Random strings over the query language's own characters: whatever comes
// in, the parser answers OK or InvalidArgument, and an OK answer's FTS5
// expressions only ever contain quoted strings and operators.
TEST(ParseQueryTest, FuzzOnlyOkOrInvalidArgument) {
  const std::string alphabet[] = {"a", "b", "ç", "Ã", " ", " ", "\"", "(", ")", "*", "-", ":",
                                  ".", "..", "/", "AND", "OR", "NOT", "data:", "type:", "lot:",
                                  "2020-01-01", "15/03/2020", "5", "\xff", "'", ";", "\\", "^"};
  std::mt19937 rng(12345);
  std::uniform_int_distribution<size_t> pick(0, std::size(alphabet) - 1);
  std::uniform_int_distribution<int> len(0, 24);
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string q;
    for (int n = len(rng); n > 0; --n) q += alphabet[pick(rng)];
    Result<ParsedQuery> r = ParseQuery(q);
    if (r.ok()) {
      ++ok;
      continue;
    }
    ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << q << ": " << r.status().ToString();
    ASSERT_NE(r.status().message().find(" at position "), std::string::npos) << q;
  }
  EXPECT_GT(ok, 1000);  // the fuzzer also exercises the success paths
}

}  // namespace
}  // namespace acervo
