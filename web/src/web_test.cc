#include <gtest/gtest.h>

#include "internal.h"

namespace acervo::web {
namespace {

TEST(TextTest, MasksCpfAndCnpj) {
  EXPECT_EQ(MaskPersonalNumbers("CPF 123.456.789-09, fim"), "CPF ***.456.789-**, fim");
  EXPECT_EQ(MaskPersonalNumbers("CNPJ 12.345.678/0001-95."), "CNPJ **.345.678/****-**.");
}

}  // namespace
}  // namespace acervo::web
