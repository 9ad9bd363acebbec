#include "acervo/core/personal_numbers.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

TEST(PersonalNumbers, CheckDigits) {
  EXPECT_TRUE(CpfCheckDigitsOk("52998224725"));
  EXPECT_FALSE(CpfCheckDigitsOk("52998224726"));
  EXPECT_FALSE(CpfCheckDigitsOk("11111111111"));  // one repeated digit
  EXPECT_FALSE(CpfCheckDigitsOk("5299822472"));
  EXPECT_TRUE(CnpjCheckDigitsOk("11222333000181"));
  EXPECT_FALSE(CnpjCheckDigitsOk("11222333000182"));
  EXPECT_TRUE(IsValidCpf("529.982.247-25"));
  EXPECT_TRUE(IsValidCpf("529 982 247 25"));
  EXPECT_FALSE(IsValidCpf("529.982.247-2x"));
  EXPECT_TRUE(IsValidCnpj("11.222.333/0001-81"));
  EXPECT_EQ(ParseCpf("529.982.247-25").value_or(""), "52998224725");
  EXPECT_FALSE(ParseCpf("529.982.247-24").has_value());
  EXPECT_EQ(FormatCpf("52998224725"), "529.982.247-25");
  EXPECT_EQ(FormatCnpj("11222333000181"), "11.222.333/0001-81");
}

struct Case {
  const char* text;
  bool ocr;
  std::vector<std::string> found;  // the digits of each match, in order
};

TEST(PersonalNumbers, FindsTheShapesPeopleWriteAndOcrReads) {
  const Case cases[] = {
      // Punctuated shapes: any check digits.
      {"CPF 123.456.789-00 e CNPJ 12.345.678/0001-00.", false, {"12345678900", "12345678000100"}},
      // Bare runs only with right check digits (phone numbers stay).
      {"tel 11987654321, cpf 52998224725", false, {"52998224725"}},
      {"52998224725x", false, {"52998224725"}},
      {"529982247-25 e 11222333/0001-81", false, {"52998224725", "11222333000181"}},
      // Never part of a longer number.
      {"1529.982.247-25 529.982.247-251 9529982247251", false, {}},
      {"processo 0001234-56.2020.8.26.0100", false, {}},
      // OCR: spaces after separators, ',' for '.', an en dash, look-alikes.
      {"CPF: 529. 982,247 -25 fim", true, {"52998224725"}},
      {"CPF 529.982.247\xE2\x80\x93" "25", true, {"52998224725"}},
      {"CPF 52O.982.2l7-25", true, {"52098221725"}},
      {"CPF 529.982.247-25s", true, {"52998224725"}},
      // ... but not in strict mode, and not three look-alikes.
      {"CPF 52O.982.2l7-25", false, {}},
      {"CPF 5ZO.982.2l7-25", true, {}},
      // Bare runs with look-alikes are never taken (they would be guesses).
      {"52998224725 529982247Z5", true, {"52998224725"}},
      // A word is not a number.
      {"Solo.Sol.Sol-OS", true, {}},
  };
  for (const Case& c : cases) {
    FindOptions o;
    o.ocr = c.ocr;
    std::vector<std::string> got;
    for (const PersonalNumberMatch& m : FindPersonalNumbers(c.text, o)) got.push_back(m.digits);
    EXPECT_EQ(got, c.found) << c.text << (c.ocr ? " (ocr)" : "");
  }
}

TEST(PersonalNumbers, MatchesCoverTheirBytes) {
  const std::string text = "Sr. X, CPF 529.982.247-25, casado";
  std::vector<PersonalNumberMatch> m = FindPersonalNumbers(text);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(text.substr(m[0].begin, m[0].end - m[0].begin), "529.982.247-25");
  EXPECT_EQ(m[0].kind, PersonalNumberKind::kCpf);
  EXPECT_TRUE(m[0].punctuated);
  EXPECT_TRUE(m[0].check_ok);
  FindOptions cnpj_only;
  cnpj_only.cpf = false;
  EXPECT_TRUE(FindPersonalNumbers(text, cnpj_only).empty());
}

}  // namespace
}  // namespace acervo
