// Side outputs of a processed page, for tools that want the OCR without the
// PDF: hOCR 1.2 (XHTML, one ocr_page with ocr_line and ocrx_word spans) and
// ALTO 4 (XML, one Page with one TextBlock of TextLines and Strings). Both
// give every OCR word with its box in pixels of the page image that went into
// the PDF (top-left origin) and its confidence, lines as the OCR stage
// grouped them (Word::line).
//
// The functions only build text; the caller writes it (atomically, with
// WriteFileAtomic) beside the PDF. Characters XML 1.0 cannot carry (C0
// controls but tab/newline, invalid UTF-8) are dropped.
//
// Thread-safety: pure functions.
#ifndef ACERVO_STAGES_PDF_SIDECARS_H_
#define ACERVO_STAGES_PDF_SIDECARS_H_

#include <span>
#include <string>

#include "acervo/core/page.h"
#include "acervo/core/text.h"

namespace acervo {

struct SidecarPage {
  int number = 1;          // 1-based page number in the document (the PDF page)
  int width = 0;           // image size in pixels
  int height = 0;
  double dpi_x = 300;
  double dpi_y = 300;
  std::string image_name;  // the master file the page came from, for reference
  std::span<const Word> words;
};

// The view of a processed Page (its encoded image's size, dpi and words).
// `page` must outlive the result.
SidecarPage SidecarPageFromPage(const Page& page, int number);

std::string HocrPage(const SidecarPage& page);
std::string AltoPage(const SidecarPage& page);

// Word texts go through XmlText (acervo/core/text.h): the characters XML 1.0
// allows, markup characters escaped.

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_SIDECARS_H_
