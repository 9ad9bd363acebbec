// Which words of a page a search hit matched, for drawing the hit on the
// scan, marking it in the page text and in snippets. There is one notion of
// "what matched": the variants the store reports per hit and page
// (SearchHit::matches, issue 15) — the query's words themselves, prefix
// completions, other inflections, OCR misreadings, split and merged words —
// compared with a page's text by the index's own analyzer (surface tokens
// folded like the index, plus words hyphenated across a line end and
// identifiers written in groups, joined). So a page found through a
// misreading (`Teixelra` for `teixeira`) has that word boxed, and a word the
// index joined (`certi-` / `dão`) has both of its parts boxed.
//
// Thread-safety: pure functions.
#ifndef ACERVO_INDEXER_HIGHLIGHT_H_
#define ACERVO_INDEXER_HIGHLIGHT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acervo/indexer/store.h"

namespace acervo {

struct HighlightTerm {
  std::string folded;   // as the index holds it: one folded token
  bool prefix = false;  // matches tokens starting with `folded`
};

// The terms of matched variants as the store names them (TermMatch::matched
// and the snippet builder's phrases): each space-separated word of a phrase
// or a split word; a trailing `*` makes the last word a prefix. Without
// duplicates.
std::vector<HighlightTerm> HighlightTermsOf(const std::vector<std::string>& matched);

// The terms to mark on PDF page `pdf_page` of a hit: the variants of the
// matches found on that page (every page's when pdf_page is 0).
std::vector<HighlightTerm> PageHighlightTerms(const std::vector<TermMatch>& matches, int pdf_page);

// Whether one folded index token is one of the terms.
bool TokenMatchesTerms(std::string_view token, const std::vector<HighlightTerm>& terms);

// The byte ranges [begin, end) of `text` whose index tokens match, in text
// order, overlapping ranges merged (a joined token spans both its parts).
std::vector<std::pair<size_t, size_t>> MatchingSpans(std::string_view text, const std::vector<HighlightTerm>& terms);

// How many word positions of `text` match (a word hyphenated across a line
// end, or an identifier written in groups, counts once).
int CountMatches(std::string_view text, const std::vector<HighlightTerm>& terms);

// Which of a page's OCR words (in reading order) to box: one flag per word.
// The words are read together as the index read the page (a word ending in
// a hyphen continues on the next), so the parts of a joined word are both
// flagged.
std::vector<bool> MatchingWords(const std::vector<WordBox>& words, const std::vector<HighlightTerm>& terms);

}  // namespace acervo

#endif  // ACERVO_INDEXER_HIGHLIGHT_H_
