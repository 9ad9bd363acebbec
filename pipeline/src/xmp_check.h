// Reading back a PDF's XMP packet for `acervo verify`: that it is
// well-formed XML (a packet that is not fails PDF/A), and what it says
// about the document, to compare with the store and the Info dictionary.
//
// The parser is libxml2 with no network, no entity substitution and no
// DTD accepted: a packet is data, never instructions to the parser.
//
// Thread-safety: pure function.
#ifndef ACERVO_PIPELINE_XMP_CHECK_H_
#define ACERVO_PIPELINE_XMP_CHECK_H_

#include <string>

#include "acervo/core/status.h"

namespace acervo {

struct XmpFacts {
  std::string title;        // dc:title (x-default)
  std::string description;  // dc:description (x-default)
  std::string identifier;   // dc:identifier
  std::string pdfa_part;    // pdfaid:part
  std::string pdfa_conformance;  // pdfaid:conformance
};

// Corrupt with the parser's message (line and reason) when the packet is
// not well-formed XML or has a DTD; the facts otherwise (empty strings for
// absent properties).
Result<XmpFacts> ParseXmp(const std::string& packet);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_XMP_CHECK_H_
