#include "acervo/pipeline/validators.h"

#include <algorithm>

#include <re2/re2.h>

#include "acervo/indexer/field_value.h"

namespace acervo {
namespace {

// The digits of `value` when it holds exactly `n` of them and otherwise only
// the punctuation people write them with ('.', '-', '/', spaces); "" when not.
std::string Digits(std::string_view value, size_t n) {
  std::string d;
  for (char c : value) {
    if (c >= '0' && c <= '9') d += c;
    else if (c != '.' && c != '-' && c != '/' && c != ' ') return "";
  }
  return d.size() == n ? d : "";
}

bool AllSame(const std::string& d) {
  return std::all_of(d.begin(), d.end(), [&](char c) { return c == d[0]; });
}

// Mod-11 check digit over d[0..n) with the given weights (Receita Federal).
int Mod11(const std::string& d, const int* weights, size_t n) {
  int sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (d[i] - '0') * weights[i];
  const int r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

}  // namespace

bool IsValidCpf(std::string_view value) {
  const std::string d = Digits(value, 11);
  if (d.empty() || AllSame(d)) return false;
  static const int w1[] = {10, 9, 8, 7, 6, 5, 4, 3, 2};
  static const int w2[] = {11, 10, 9, 8, 7, 6, 5, 4, 3, 2};
  return Mod11(d, w1, 9) == d[9] - '0' && Mod11(d, w2, 10) == d[10] - '0';
}

bool IsValidCnpj(std::string_view value) {
  const std::string d = Digits(value, 14);
  if (d.empty() || AllSame(d)) return false;
  static const int w1[] = {5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2};
  static const int w2[] = {6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2};
  return Mod11(d, w1, 12) == d[12] - '0' && Mod11(d, w2, 13) == d[13] - '0';
}

bool IsValidProcessNumber(std::string_view value) {
  // NNNNNNN DD AAAA J TR OOOO: the check digits DD make
  // N A J TR O DD (moved to the end) congruent to 1 mod 97.
  const std::string d = Digits(value, 20);
  if (d.empty()) return false;
  const std::string reordered = d.substr(0, 7) + d.substr(9) + d.substr(7, 2);
  int r = 0;
  for (char c : reordered) r = (r * 10 + (c - '0')) % 97;
  return r == 1;
}

Status ValidateFieldValue(const FieldSpec& field, std::string_view value) {
  const std::string v(value);
  const std::string quoted = "'" + v + "'";
  if (NormalizeFieldValue(v).empty()) return Status::InvalidArgument("empty value");
  const std::string& t = field.type;
  if (t == "int") {
    std::string_view s = value;
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Status::InvalidArgument(quoted + " is not a whole number");
    }
  } else if (t == "date") {
    if (!ParseIsoDate(v)) {
      return Status::InvalidArgument(quoted + " is not a date (YYYY-MM-DD or DD/MM/YYYY, a real day)");
    }
  } else if (t == "cpf") {
    if (Digits(v, 11).empty()) return Status::InvalidArgument(quoted + " is not a CPF (11 digits)");
    if (!IsValidCpf(v)) return Status::InvalidArgument(quoted + " is not a valid CPF (check digits)");
  } else if (t == "cnpj") {
    if (Digits(v, 14).empty()) return Status::InvalidArgument(quoted + " is not a CNPJ (14 digits)");
    if (!IsValidCnpj(v)) return Status::InvalidArgument(quoted + " is not a valid CNPJ (check digits)");
  } else if (t == "process_number") {
    if (Digits(v, 20).empty()) {
      return Status::InvalidArgument(quoted + " is not a CNJ process number (NNNNNNN-DD.AAAA.J.TR.OOOO)");
    }
    if (!IsValidProcessNumber(v)) {
      return Status::InvalidArgument(quoted + " is not a valid CNJ process number (check digits)");
    }
  }
  if (!field.allowed.empty()) {
    const std::string norm = NormalizeFieldValue(v);
    bool found = std::any_of(field.allowed.begin(), field.allowed.end(),
                             [&](const std::string& a) { return NormalizeFieldValue(a) == norm; });
    if (!found) return Status::InvalidArgument(quoted + " is not one of the allowed values");
  }
  if (field.regex) {
    if (!RE2::FullMatch(v, *field.regex)) {
      return Status::InvalidArgument(quoted + " does not match the pattern " + field.regex_text);
    }
  }
  return Status::OK();
}

}  // namespace acervo
