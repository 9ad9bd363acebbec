#include "acervo/core/csv_field.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

TEST(CsvFieldTest, QuotesAndDefusesFormulas) {
  EXPECT_EQ(CsvField(""), "\"\"");
  EXPECT_EQ(CsvField("Silva, \"Zé\""), "\"Silva, \"\"Zé\"\"\"");
  EXPECT_EQ(CsvField("linha 1\r\nlinha 2"), "\"linha 1\r\nlinha 2\"");
  for (const char* formula : {"=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) {
    EXPECT_EQ(CsvField(formula), "\"'" + std::string(formula) + "\"") << formula;
  }
  EXPECT_EQ(CsvField("a=1"), "\"a=1\"");
}

}  // namespace
}  // namespace acervo
