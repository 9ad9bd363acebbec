// The invisible text layer of a page: content-stream and font-program text
// that PdfWriter embeds. Pure functions of their inputs (no PoDoFo), so the
// numbers and encodings can be tested without writing a PDF.
//
// Model (the one Tesseract's PDF renderer uses): the glyphless font has one
// glyph, 1/2 em wide (kGlyphWidth in font units of 1/1000 em); every
// character of a word is one CID equal to its UTF-16 code unit. A word of n
// characters at font size s and horizontal scaling z% advances
// n * 0.5 * s * z / 100 points, so z is chosen to make that the box width.
//
// Thread-safety: pure functions.
#ifndef ACERVO_STAGES_PDF_TEXT_LAYER_H_
#define ACERVO_STAGES_PDF_TEXT_LAYER_H_

#include <set>
#include <span>
#include <string>
#include <string_view>

#include "acervo/core/page.h"

namespace acervo::pdf_internal {

inline constexpr int kGlyphWidth = 500;  // /DW of the CIDFont, 1/1000 em

// A PDF number: fixed notation, at most 3 decimals, no trailing zeros, "." as
// the decimal point whatever the C locale says (std::to_chars ignores it).
std::string FormatNumber(double v);

// Uppercase hex of the UTF-16BE code units of the text layer's characters in
// `utf8`: BMP characters only (others and C0/C1 controls dropped, as are
// invalid UTF-8 sequences). `units` gets the number of characters kept.
std::string Utf8ToUtf16Hex(std::string_view utf8, int* units);

// Geometry of one page for the content stream.
struct PageGeometry {
  double width_pt = 0;  // page (and image) size in points
  double height_pt = 0;
  double dpi_x = 300;  // pixels per inch of the image
  double dpi_y = 300;
};

// The vertical extent of the glyph box a text extractor or viewer computes
// for a word: from the baseline up `ascent` and down `descent`, in 1/1000 of
// the font size (the FontDescriptor's Ascent and -Descent). Words of one line
// share baseline and font size (see PageContent) and differ only in these,
// so each word's selection box is its own box (an "o", a "pagar" with a
// descender, a capitalised "Tabelião") without breaking the line apart.
struct FontMetrics {
  int ascent = 1000;
  int descent = 0;
  auto operator<=>(const FontMetrics&) const = default;
};
// The resource name of the font variant with `m`: prefix + "A_D".
std::string FontName(std::string_view prefix, FontMetrics m);

// The whole content stream of a page: the image `image_name` scaled to the
// page, the images `overlay_names` over it in order (the masked edge tones
// and foreground of a mixed-raster page), then one BT..ET block with each usable word at its box in text
// rendering mode 3 (invisible): baseline and font size per line, Tz
// stretching the advance to the box width, and a font variant (named
// FontName(font_prefix, metrics)) whose ascent and descent put the word's
// vertical box on its OCR box, quantised to 1/20 of the font size.
// `words_written` (may be null) gets how many words were placed; `fonts`
// (may be null) gets the variants used.
std::string PageContent(const PageGeometry& page, std::string_view image_name,
                        std::string_view font_prefix, std::span<const Word> words,
                        int* words_written, std::set<FontMetrics>* fonts = nullptr,
                        std::span<const std::string_view> overlay_names = {});

// The ToUnicode CMap: each 2-byte code maps to the same UTF-16 value. Written
// as ranges that never cross a high byte (as the CMap spec requires) and
// skipping the surrogate block, which is not a character on its own.
std::string ToUnicodeCMap();

}  // namespace acervo::pdf_internal

#endif  // ACERVO_STAGES_PDF_TEXT_LAYER_H_
