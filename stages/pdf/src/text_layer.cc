#include "text_layer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace acervo::pdf_internal {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void AppendHex4(unsigned v, std::string* out) {
  out->push_back(kHex[(v >> 12) & 0xF]);
  out->push_back(kHex[(v >> 8) & 0xF]);
  out->push_back(kHex[(v >> 4) & 0xF]);
  out->push_back(kHex[v & 0xF]);
}

// Decodes one UTF-8 sequence at `s[*i]`, advancing *i. Returns -1 for an
// invalid sequence (then *i moves past one byte so decoding resynchronises).
int32_t NextCodepoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int len = 0;
  int32_t cp = 0;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++*i;
    return -1;
  }
  if (*i + static_cast<size_t>(len) > s.size()) {
    ++*i;
    return -1;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Reject overlong forms and surrogates, which valid UTF-8 never holds.
  static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    ++*i;
    return -1;
  }
  *i += static_cast<size_t>(len);
  return cp;
}

}  // namespace

std::string FormatNumber(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 3);
  if (r.ec != std::errc()) return "0";
  std::string s(buf, r.ptr);
  // Trim "12.500" -> "12.5", "3.000" -> "3"; "-0" -> "0".
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string Utf8ToUtf16Hex(std::string_view utf8, int* units) {
  std::string hex;
  int n = 0;
  size_t i = 0;
  while (i < utf8.size()) {
    int32_t cp = NextCodepoint(utf8, &i);
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp > 0xFFFF) continue;
    AppendHex4(static_cast<unsigned>(cp), &hex);
    ++n;
  }
  if (units != nullptr) *units = n;
  return hex;
}

std::string FontName(std::string_view prefix, FontMetrics m) {
  return std::string(prefix) + std::to_string(m.ascent) + "_" + std::to_string(m.descent);
}

std::string PageContent(const PageGeometry& page, std::string_view image_name,
                        std::string_view font_prefix, std::span<const Word> words,
                        int* words_written, std::set<FontMetrics>* fonts,
                        std::string_view overlay_name) {
  std::string out;
  out.reserve(64 + words.size() * 64);
  // The image fills the page: its unit square scaled to the page size.
  out += "q ";
  out += FormatNumber(page.width_pt) + " 0 0 " + FormatNumber(page.height_pt);
  out += " 0 0 cm /";
  out += image_name;
  out += " Do Q\n";
  if (!overlay_name.empty()) {
    // The foreground of a mixed-raster page: an image whose /Mask stencil
    // lets it show only on the ink (no transparency involved).
    out += "q ";
    out += FormatNumber(page.width_pt) + " 0 0 " + FormatNumber(page.height_pt);
    out += " 0 0 cm /";
    out += overlay_name;
    out += " Do Q\n";
  }

  const double sx = 72.0 / page.dpi_x;
  const double sy = 72.0 / page.dpi_y;
  int written = 0;
  std::string last_size, last_scale, last_font;

  // Words of one text line share one baseline and one font size, as in
  // Tesseract's own renderer: viewers and text extractors rebuild lines
  // from baselines and sizes, so per-word sizes (an "o" is half as tall as
  // "pagará") would scatter a line into fragments and break copy-paste and
  // phrase search. The size is the line's height above its baseline, so the
  // selection box covers the words' ascenders; descenders stay below it.
  auto base_of = [](const Word& w) { return w.baseline >= 0 ? w.baseline : w.box.y + w.box.height; };
  size_t i = 0;
  while (i < words.size()) {
    // A line: consecutive words with the same line index whose boxes overlap
    // the first word's vertically.
    const Word& first = words[i];
    size_t j = i + 1;
    while (j < words.size() && words[j].line == first.line &&
           std::min(words[j].box.y + words[j].box.height, first.box.y + first.box.height) >
               std::max(words[j].box.y, first.box.y)) {
      ++j;
    }
    std::vector<int> bases;
    for (size_t k = i; k < j; ++k) bases.push_back(base_of(words[k]));
    std::nth_element(bases.begin(), bases.begin() + bases.size() / 2, bases.end());
    const int line_base = bases[bases.size() / 2];
    int line_top = line_base;
    for (size_t k = i; k < j; ++k) line_top = std::min(line_top, words[k].box.y);
    const double line_px = std::max(1, line_base - line_top);

    for (size_t k = i; k < j; ++k) {
      const Word& w = words[k];
      if (w.box.width <= 0 || w.box.height <= 0) continue;
      int n = 0;
      std::string hex = Utf8ToUtf16Hex(w.text, &n);
      // Whitespace-only "words" (Tesseract emits some) are no words.
      bool blank = true;
      for (size_t h = 0; blank && h < hex.size(); h += 4) blank = hex.compare(h, 4, "0020") == 0;
      if (n == 0 || blank) continue;
      const double font_size = line_px * sy;
      const double box_width = w.box.width * sx;
      // Advance of n glyphs at 100% is n * kGlyphWidth/1000 * font_size.
      const double scale = 100.0 * box_width / (n * (kGlyphWidth / 1000.0) * font_size);
      const double x = w.box.x * sx;
      const double y = page.height_pt - line_base * sy;
      // An explicit space after every word but a line's last one: copy-paste
      // and extraction then never glue two words together however narrow the
      // printed gap. It lies outside the stretched word, in the gap.
      if (k + 1 < j) hex += "0020";
      if (written == 0) out += "BT\n3 Tr\n";  // 3 Tr: neither fill nor stroke
      std::string size = FormatNumber(font_size);
      std::string tz = FormatNumber(scale);
      // The word's own top and bottom relative to the line's baseline, in
      // 1/1000 of the font size, in steps of 50: a handful of variants per
      // document. Ascent at least one step (an empty box helps nobody).
      auto step = [&](double px) { return static_cast<int>(std::lround(px / line_px * 20.0)) * 50; };
      FontMetrics m;
      m.ascent = std::clamp(step(line_base - w.box.y), 50, 2000);
      m.descent = std::clamp(step(w.box.y + w.box.height - line_base), 0, 1000);
      if (fonts != nullptr) fonts->insert(m);
      std::string font = FontName(font_prefix, m);
      // Tf and Tz are text state: repeat them only when they change.
      if (size != last_size || font != last_font) {
        out += "/";
        out += font;
        out += " " + size + " Tf\n";
        last_size = size;
        last_font = font;
      }
      if (tz != last_scale) {
        out += tz + " Tz\n";
        last_scale = tz;
      }
      out += "1 0 0 1 " + FormatNumber(x) + " " + FormatNumber(y) + " Tm <" + hex + "> Tj\n";
      ++written;
    }
    i = j;
  }
  if (written > 0) out += "ET\n";
  if (words_written != nullptr) *words_written = written;
  return out;
}

std::string ToUnicodeCMap() {
  std::string out =
      "/CIDInit /ProcSet findresource begin\n"
      "12 dict begin\n"
      "begincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n"
      "/CMapType 2 def\n"
      "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
  // One range per high byte, except the surrogates D8..DF; at most 100
  // ranges per bfrange block.
  std::vector<unsigned> highs;
  for (unsigned hi = 0; hi <= 0xFF; ++hi) {
    if (hi >= 0xD8 && hi <= 0xDF) continue;
    highs.push_back(hi);
  }
  for (size_t start = 0; start < highs.size(); start += 100) {
    size_t end = std::min(highs.size(), start + 100);
    out += std::to_string(end - start) + " beginbfrange\n";
    for (size_t k = start; k < end; ++k) {
      unsigned lo = highs[k] << 8;
      out += "<";
      AppendHex4(lo, &out);
      out += "> <";
      AppendHex4(lo | 0xFF, &out);
      out += "> <";
      AppendHex4(lo, &out);
      out += ">\n";
    }
    out += "endbfrange\n";
  }
  out +=
      "endcmap\n"
      "CMapName currentdict /CMap defineresource pop\n"
      "end\n"
      "end\n";
  return out;
}

}  // namespace acervo::pdf_internal
