// CharacterErrorRate: Levenshtein over Unicode code points.
//
// Code points rather than bytes, so that "ç" against "c" is one error, not
// two; whitespace normalised, so that line breaks versus spaces (OCR layout
// choices) are not counted as errors.
#include <algorithm>
#include <vector>

#include "acervo/synth/synth.h"
#include "utf8.h"

namespace acervo::synth {

std::u32string DecodeUtf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool valid = len > 0 && i + static_cast<size_t>(len) <= s.size();
    for (int k = 1; valid && k < len; ++k) {
      const unsigned char c = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((c >> 6) != 0x2) {
        valid = false;
      } else {
        cp = (cp << 6) | (c & 0x3F);
      }
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if (valid && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
                  (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
                  (cp >= 0xD800 && cp <= 0xDFFF))) {
      valid = false;
    }
    if (!valid) {
      out.push_back(U'\uFFFD');  // one replacement per bad byte
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<size_t>(len);
  }
  return out;
}

bool IsUnicodeSpace(char32_t c) {
  return c == U' ' || (c >= U'\t' && c <= U'\r') || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

std::u32string NormaliseWhitespace(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char32_t c : s) {
    if (IsUnicodeSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(U' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

size_t EditDistance(std::u32string_view a, std::u32string_view b) {
  // One row over the shorter string: O(min(n, m)) memory.
  if (a.size() < b.size()) std::swap(a, b);
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];  // D[i-1][j-1]
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];  // D[i-1][j]
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

double CharacterErrorRate(std::string_view hypothesis, std::string_view truth) {
  const std::u32string h = NormaliseWhitespace(DecodeUtf8(hypothesis));
  const std::u32string t = NormaliseWhitespace(DecodeUtf8(truth));
  if (t.empty()) return h.empty() ? 0.0 : 1.0;
  return static_cast<double>(EditDistance(h, t)) / static_cast<double>(t.size());
}

}  // namespace acervo::synth
