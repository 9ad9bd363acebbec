#include "acervo/core/text.h"

#include <cstdio>

namespace acervo {
namespace {

bool IsControl(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }
bool IsNonCharacter(char32_t cp) { return cp == 0xFFFE || cp == 0xFFFF; }
bool KeptInLines(char32_t cp) { return cp == '\n' || cp == '\t'; }

// True when text[pos..] starts with a well-formed sequence (DecodeUtf8 gives
// U+FFFD for both a real U+FFFD and an invalid byte).
bool ValidAt(size_t pos, char32_t cp, size_t next) {
  return cp != kReplacementCharacter || next - pos == 3;
}

std::string Hex(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

}  // namespace

char32_t DecodeUtf8(std::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const size_t i = *pos;
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    *pos = i + 1;
    return b0;
  }
  int len;
  char32_t cp;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    *pos = i + 1;
    return kReplacementCharacter;
  }
  if (i + len > text.size()) {
    *pos = i + 1;
    return kReplacementCharacter;
  }
  for (int k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) {
      *pos = i + 1;
      return kReplacementCharacter;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms and surrogates are invalid UTF-8; treating them as
  // U+FFFD keeps two spellings of one character from comparing different.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *pos = i + 1;
    return kReplacementCharacter;
  }
  *pos = i + len;
  return cp;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementCharacter;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) AppendUtf8(DecodeUtf8(s, &pos), &out);
  return out;
}

std::string CleanText(std::string_view s, TextLines lines) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp = DecodeUtf8(s, &pos);
    if (IsControl(cp)) {
      if (lines == TextLines::kLine) {
        out.push_back(' ');
      } else if (KeptInLines(cp)) {
        out.push_back(static_cast<char>(cp));
      } else if (cp == '\r' && (pos >= s.size() || s[pos] != '\n')) {
        out.push_back('\n');  // a lone CR (old Mac text) still ends a line
      }
      continue;
    }
    if (IsNonCharacter(cp)) cp = kReplacementCharacter;
    AppendUtf8(cp, &out);
  }
  return out;
}

std::string TextProblem(std::string_view s, TextLines lines) {
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t cp = DecodeUtf8(s, &pos);
    const std::string at = " at byte " + std::to_string(start + 1);
    if (!ValidAt(start, cp, pos)) return "invalid UTF-8" + at;
    if (IsControl(cp) && !(lines == TextLines::kLines && (KeptInLines(cp) || cp == '\r'))) {
      return "control character " + Hex(cp) + at;
    }
    if (IsNonCharacter(cp)) return "noncharacter " + Hex(cp) + at;
  }
  return "";
}

std::string XmlText(std::string_view s) {
  const std::string clean = CleanText(s, TextLines::kLines);
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string TerminalText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = DecodeUtf8(s, &pos);
    if (IsControl(cp)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned>(cp));
      out += buf;
    } else {
      AppendUtf8(cp, &out);
    }
  }
  return out;
}

}  // namespace acervo
