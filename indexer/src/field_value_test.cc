#include "acervo/indexer/field_value.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

TEST(FieldValueTest, Normalizes) {
  EXPECT_EQ(NormalizeFieldValue("  São \t Paulo  "), "sao paulo");
  EXPECT_EQ(NormalizeFieldValue("MARIA DA CONCEIÇÃO"), "maria da conceicao");
  EXPECT_EQ(NormalizeFieldValue("   "), "");
}

TEST(FieldValueTest, ParsesDates) {
  struct Case {
    const char* in;
    const char* want;  // nullptr: not a date
  };
  const Case cases[] = {
      {"2020-03-15", "2020-03-15"}, {"15/03/2020", "2020-03-15"}, {"5/3/2020", "2020-03-05"},
      {"15-03-2020", "2020-03-15"}, {"15.03.2020", "2020-03-15"}, {" 2024-02-29 ", "2024-02-29"},
      {"2023-02-29", nullptr},      {"31/04/2020", nullptr},      {"2020-13-01", nullptr},
      {"15/03/20", nullptr},        {"15/03-2020", nullptr},      {"abc", nullptr},
      {"", nullptr},                {"0001234-56.2020.8.26.0100", nullptr},
      {"2020-3-15", nullptr},
  };
  for (const Case& c : cases) {
    const std::optional<std::string> got = ParseIsoDate(c.in);
    if (c.want == nullptr) {
      EXPECT_FALSE(got.has_value()) << c.in << " -> " << got.value_or("");
    } else {
      EXPECT_EQ(got.value_or("<none>"), c.want) << c.in;
    }
  }
}

TEST(FieldValueTest, ParsesNumbers) {
  struct Case {
    const char* in;
    std::optional<double> want;
  };
  const Case cases[] = {
      {"42", 42},   {"-3.5", -3.5}, {"3,5", 3.5},        {"+7", 7},          {" 10 ", 10},
      {"1.", std::nullopt}, {".5", std::nullopt}, {"1.2.3", std::nullopt}, {"1e5", std::nullopt},
      {"", std::nullopt},   {"2020-01-01", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseNumber(c.in), c.want) << c.in;
}

}  // namespace
}  // namespace acervo
