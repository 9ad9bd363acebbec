#include "acervo/indexer/text_fold.h"

#include <array>

namespace acervo {
namespace {


// Folded spelling of U+00C0..U+00FF. nullptr: copy the code point unchanged
// (× and ÷ are symbols, not letters).
constexpr std::array<const char*, 64> kLatin1 = {
    "a", "a", "a", "a", "a", "a", "ae", "c",       // C0-C7  À..Ç
    "e", "e", "e", "e", "i", "i", "i",  "i",       // C8-CF  È..Ï
    "d", "n", "o", "o", "o", "o", "o",  nullptr,   // D0-D7  Ð..×
    "o", "u", "u", "u", "u", "y", "th", "ss",      // D8-DF  Ø..ß
    "a", "a", "a", "a", "a", "a", "ae", "c",       // E0-E7  à..ç
    "e", "e", "e", "e", "i", "i", "i",  "i",       // E8-EF  è..ï
    "d", "n", "o", "o", "o", "o", "o",  nullptr,   // F0-F7  ð..÷
    "o", "u", "u", "u", "u", "y", "th", "y",       // F8-FF  ø..ÿ
};

// Folded spelling of U+0100..U+017F (Latin Extended-A): upper/lower pairs of
// accented letters, plus a few ligatures and special letters.
constexpr std::array<const char*, 128> kLatinExtA = {
    "a",  "a",  "a", "a", "a", "a",                      // 0100-0105 Āā Ăă Ąą
    "c",  "c",  "c", "c", "c", "c", "c", "c",            // 0106-010D Ćć Ĉĉ Ċċ Čč
    "d",  "d",  "d", "d",                                // 010E-0111 Ďď Đđ
    "e",  "e",  "e", "e", "e", "e", "e", "e", "e", "e",  // 0112-011B Ēē..Ěě
    "g",  "g",  "g", "g", "g", "g", "g", "g",            // 011C-0123 Ĝĝ..Ģģ
    "h",  "h",  "h", "h",                                // 0124-0127 Ĥĥ Ħħ
    "i",  "i",  "i", "i", "i", "i", "i", "i", "i", "i",  // 0128-0131 Ĩĩ..İı
    "ij", "ij",                                          // 0132-0133 Ĳĳ
    "j",  "j",                                           // 0134-0135 Ĵĵ
    "k",  "k",  "k",                                     // 0136-0138 Ķķ ĸ
    "l",  "l",  "l", "l", "l", "l", "l", "l", "l", "l",  // 0139-0142 Ĺĺ..Łł
    "n",  "n",  "n", "n", "n", "n", "n", "n", "n",       // 0143-014B Ńń..ŉ Ŋŋ
    "o",  "o",  "o", "o", "o", "o",                      // 014C-0151 Ōō..Őő
    "oe", "oe",                                          // 0152-0153 Œœ
    "r",  "r",  "r", "r", "r", "r",                      // 0154-0159 Ŕŕ..Řř
    "s",  "s",  "s", "s", "s", "s", "s", "s",            // 015A-0161 Śś..Šš
    "t",  "t",  "t", "t", "t", "t",                      // 0162-0167 Ţţ..Ŧŧ
    "u",  "u",  "u", "u", "u", "u", "u", "u", "u", "u",  // 0168-0171 Ũũ..Űű
    "u",  "u",                                           // 0172-0173 Ųų
    "w",  "w",                                           // 0174-0175 Ŵŵ
    "y",  "y",  "y",                                     // 0176-0178 Ŷŷ Ÿ
    "z",  "z",  "z", "z", "z", "z",                      // 0179-017E Źź Żż Žž
    "s",                                                 // 017F ſ
};

}  // namespace

size_t CountCodePoints(std::string_view text) {
  size_t n = 0;
  for (size_t pos = 0; pos < text.size(); ++n) DecodeUtf8(text, &pos);
  return n;
}

void FoldCodePoint(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp));
    return;
  }
  const char* folded = nullptr;
  if (cp >= 0xC0 && cp <= 0xFF) {
    folded = kLatin1[cp - 0xC0];
  } else if (cp >= 0x100 && cp <= 0x17F) {
    folded = kLatinExtA[cp - 0x100];
  }
  if (folded != nullptr) {
    *out += folded;
  } else {
    AppendUtf8(cp, out);
  }
}

std::string FoldText(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  size_t pos = 0;
  while (pos < utf8.size()) {
    const unsigned char c = static_cast<unsigned char>(utf8[pos]);
    if (c < 0x80) {  // ASCII fast path
      ++pos;
      out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c));
      continue;
    }
    FoldCodePoint(DecodeUtf8(utf8, &pos), &out);
  }
  return out;
}

}  // namespace acervo
