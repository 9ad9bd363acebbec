#include "acervo/indexer/field_value.h"

#include <charconv>
#include <cstdio>

#include "acervo/indexer/text_fold.h"

namespace acervo {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

std::optional<std::string> MakeDate(int y, int m, int d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1) return std::nullopt;
  const int max_day = kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0);
  if (d > max_day) return std::nullopt;
  char buf[32];  // sized for any int, to keep -Wformat-truncation quiet
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
  return std::string(buf);
}

}  // namespace

std::string NormalizeFieldValue(std::string_view value) {
  const std::string folded = FoldText(value);
  std::string out;
  out.reserve(folded.size());
  bool pending_space = false;
  for (char c : folded) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::optional<std::string> ParseIsoDate(std::string_view value) {
  const std::string_view s = Trim(value);
  // YYYY-MM-DD
  if (s.size() == 10 && s[4] == '-' && s[7] == '-' && AllDigits(s.substr(0, 4)) &&
      AllDigits(s.substr(5, 2)) && AllDigits(s.substr(8, 2))) {
    return MakeDate(ToInt(s.substr(0, 4)), ToInt(s.substr(5, 2)), ToInt(s.substr(8, 2)));
  }
  // D/M/YYYY, DD/MM/YYYY, with '/', '-' or '.' (one separator throughout).
  const size_t a = s.find_first_of("/-.");
  if (a == std::string_view::npos) return std::nullopt;
  const char sep = s[a];
  const size_t b = s.find(sep, a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  const std::string_view d = s.substr(0, a);
  const std::string_view m = s.substr(a + 1, b - a - 1);
  const std::string_view y = s.substr(b + 1);
  if (d.size() > 2 || m.size() > 2 || y.size() != 4 || !AllDigits(d) || !AllDigits(m) ||
      !AllDigits(y)) {
    return std::nullopt;
  }
  return MakeDate(ToInt(y), ToInt(m), ToInt(d));
}

std::optional<double> ParseNumber(std::string_view value) {
  std::string_view s = Trim(value);
  std::string text;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    if (s[i] == '-') text.push_back('-');
    ++i;
  }
  size_t int_digits = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++int_digits) text.push_back(s[i]);
  if (int_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    text.push_back('.');
    ++i;
    size_t frac_digits = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++frac_digits) text.push_back(s[i]);
    if (frac_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double out = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return out;
}

}  // namespace acervo
