#include "acervo/pipeline/validators.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

namespace acervo {
namespace {

FieldSpec Field(std::string type, std::vector<std::string> allowed = {}, std::string regex = "") {
  FieldSpec f;
  f.name = "f";
  f.type = std::move(type);
  f.allowed = std::move(allowed);
  if (!regex.empty()) {
    f.regex_text = regex;
    f.regex = std::make_shared<const re2::RE2>(regex);
  }
  return f;
}

TEST(ValidatorsTest, TypedValues) {
  struct Case {
    FieldSpec field;
    std::string value;
    bool ok;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {Field("text"), "qualquer coisa", true, ""},
      {Field("text"), "   ", false, "empty"},
      {Field("int"), "42", true, ""},
      {Field("int"), "-7", true, ""},
      {Field("int"), "4.2", false, "not a whole number"},
      {Field("date"), "2020-03-15", true, ""},
      {Field("date"), "15/03/2020", true, ""},
      {Field("date"), "2021-02-29", false, "not a date"},
      {Field("cpf"), "529.982.247-25", true, ""},
      {Field("cpf"), "52998224725", true, ""},
      {Field("cpf"), "529.982.247-26", false, "check digits"},
      {Field("cpf"), "111.111.111-11", false, "check digits"},
      {Field("cpf"), "5299822472", false, "11 digits"},
      {Field("cnpj"), "11.222.333/0001-81", true, ""},
      {Field("cnpj"), "11222333000181", true, ""},
      {Field("cnpj"), "11.222.333/0001-82", false, "check digits"},
      {Field("cnpj"), "11.222.333/0001", false, "14 digits"},
      {Field("process_number"), "0000001-78.2020.8.26.0100", true, ""},
      {Field("process_number"), "0000001-45.2020.8.26.0100", false, "check digits"},
      {Field("process_number"), "123-45", false, "NNNNNNN-DD.AAAA.J.TR.OOOO"},
      {Field("enum", {"Nascimento", "Casamento"}), "nascimento", true, ""},
      {Field("enum", {"Nascimento", "Casamento"}), "óbito", false, "allowed values"},
      {Field("text", {}, "[A-Z]{2}-\\d+"), "CX-12", true, ""},
      {Field("text", {}, "[A-Z]{2}-\\d+"), "CX-12a", false, "does not match"},
  };
  for (const Case& c : cases) {
    Status s = ValidateFieldValue(c.field, c.value);
    EXPECT_EQ(s.ok(), c.ok) << c.field.type << " '" << c.value << "': " << s.ToString();
    if (!c.ok) {
      EXPECT_NE(s.message().find(c.reason), std::string::npos) << s.message();
    }
  }
}

TEST(ValidatorsTest, CheckDigitAlgorithmsAgreeWithKnownNumbers) {
  // Computed by hand from the published algorithms.
  EXPECT_TRUE(IsValidCpf("123.456.789-09"));
  EXPECT_FALSE(IsValidCpf("123.456.789-00"));
  EXPECT_TRUE(IsValidCnpj("00.000.000/0001-91"));  // Banco do Brasil
  EXPECT_TRUE(IsValidProcessNumber("00000017820208260100"));
  EXPECT_FALSE(IsValidProcessNumber("00000018720208260100"));
}


// Issue 12: patterns that make a backtracking engine run for minutes or
// overflow its stack are linear-time with RE2 (with std::regex this test
// did not finish, then crashed).
TEST(ValidatorsTest, CatastrophicPatternsRunInLinearTime) {
  EXPECT_FALSE(ValidateFieldValue(Field("text", {}, "(a+)+$"), std::string(36, 'a') + "!").ok());
  EXPECT_TRUE(ValidateFieldValue(Field("text", {}, "(a|b)*"), std::string(16384, 'a')).ok());
  EXPECT_TRUE(ValidateFieldValue(Field("text", {}, "(a|b)*"), std::string(1 << 20, 'b')).ok());
}

}  // namespace
}  // namespace acervo
