#include "acervo/indexer/highlight.h"

#include <algorithm>

#include "acervo/indexer/query.h"
#include "term_index.h"

namespace acervo {
namespace {

bool TokenMatches(const std::string& token, const std::vector<HighlightTerm>& terms) {
  for (const HighlightTerm& t : terms) {
    if (t.prefix ? token.compare(0, t.folded.size(), t.folded) == 0 : token == t.folded) return true;
  }
  return false;
}

}  // namespace

Result<std::vector<HighlightTerm>> HighlightTerms(std::string_view query) {
  ACERVO_ASSIGN_OR_RETURN(ParsedQuery parsed, ParseQuery(query));
  std::vector<HighlightTerm> out;
  for (const FtsPhrase& p : FtsPhrases(parsed.RankingFts())) {
    if (p.negated) continue;
    for (size_t i = 0; i < p.words.size(); ++i) {
      HighlightTerm t{p.words[i], p.prefix && i + 1 == p.words.size()};
      if (t.folded.empty()) continue;
      const bool seen = std::any_of(out.begin(), out.end(), [&](const HighlightTerm& o) {
        return o.folded == t.folded && o.prefix == t.prefix;
      });
      if (!seen) out.push_back(std::move(t));
    }
  }
  return out;
}

bool WordMatchesTerms(std::string_view word, const std::vector<HighlightTerm>& terms) {
  if (terms.empty()) return false;
  for (const std::string& token : IndexTokens(word)) {
    if (TokenMatches(token, terms)) return true;
  }
  return false;
}

int CountMatches(std::string_view text, const std::vector<HighlightTerm>& terms) {
  if (terms.empty()) return 0;
  int n = 0;
  for (const std::string& token : IndexTokens(text)) n += TokenMatches(token, terms) ? 1 : 0;
  return n;
}

}  // namespace acervo
