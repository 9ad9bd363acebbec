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

}  // namespace

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
