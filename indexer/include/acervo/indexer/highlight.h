// Which words of a page a query matched, for drawing hits on the scan and
// in the page text: the positive text terms of a query, and whether an OCR
// word is one of them, with the same folding and token splitting as the
// text index (case and accents ignored; prefixes for `word*`).
//
// Words of a phrase are each highlighted where they occur on the page.
// Matching here is the SQLite index's (exact folded tokens and prefixes);
// PostgreSQL's stemming can find a page whose inflected word is then not
// highlighted. (Issue 15 owns forgiving matching and will extend this.)
//
// Thread-safety: pure functions.
#ifndef ACERVO_INDEXER_HIGHLIGHT_H_
#define ACERVO_INDEXER_HIGHLIGHT_H_

#include <string>
#include <string_view>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

struct HighlightTerm {
  std::string folded;   // as the index sees it: FoldText, one token
  bool prefix = false;  // matches tokens starting with `folded`
};

// The terms of the query's positive text clauses (words, phrase words,
// prefixes), without duplicates. InvalidArgument for a malformed query
// (the message of ParseQuery, with its position).
Result<std::vector<HighlightTerm>> HighlightTerms(std::string_view query);

// True when one of `word`'s index tokens (an OCR word may hold several,
// e.g. "Silva,") matches one of the terms.
bool WordMatchesTerms(std::string_view word, const std::vector<HighlightTerm>& terms);

// How many of `text`'s tokens match the terms.
int CountMatches(std::string_view text, const std::vector<HighlightTerm>& terms);

}  // namespace acervo

#endif  // ACERVO_INDEXER_HIGHLIGHT_H_
