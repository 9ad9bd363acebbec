#include "acervo/indexer/highlight.h"

#include <algorithm>

#include "analyzer.h"

namespace acervo {

std::vector<HighlightTerm> HighlightTermsOf(const std::vector<std::string>& matched) {
  std::vector<HighlightTerm> out;
  auto add = [&](HighlightTerm t) {
    if (t.folded.empty()) return;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const HighlightTerm& o) {
      return o.folded == t.folded && o.prefix == t.prefix;
    });
    if (!seen) out.push_back(std::move(t));
  };
  for (const std::string& m : matched) {
    size_t at = 0;
    while (at < m.size()) {
      const size_t sp = std::min(m.find(' ', at), m.size());
      std::string word = m.substr(at, sp - at);
      at = sp + 1;
      const bool prefix = !word.empty() && word.back() == '*';
      if (prefix) word.pop_back();
      add({std::move(word), prefix});
    }
  }
  return out;
}

std::vector<HighlightTerm> PageHighlightTerms(const std::vector<TermMatch>& matches, int pdf_page) {
  std::vector<std::string> matched;
  for (const TermMatch& m : matches) {
    if (pdf_page == 0 || std::find(m.pages.begin(), m.pages.end(), pdf_page) != m.pages.end()) {
      matched.push_back(m.matched);
    }
  }
  return HighlightTermsOf(matched);
}

bool TokenMatchesTerms(std::string_view token, const std::vector<HighlightTerm>& terms) {
  for (const HighlightTerm& t : terms) {
    if (t.prefix ? token.substr(0, t.folded.size()) == t.folded : token == t.folded) return true;
  }
  return false;
}

std::vector<std::pair<size_t, size_t>> MatchingSpans(std::string_view text, const std::vector<HighlightTerm>& terms) {
  std::vector<std::pair<size_t, size_t>> spans;
  if (terms.empty()) return spans;
  SurfaceScan scan;
  ForEachToken(text, &scan, [&](const TokenView& t) {
    if (TokenMatchesTerms(t.term, terms)) spans.emplace_back(t.begin, t.end);
  });
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<size_t, size_t>> merged;
  for (const auto& s : spans) {
    if (!merged.empty() && s.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, s.second);
    } else {
      merged.push_back(s);
    }
  }
  return merged;
}

int CountMatches(std::string_view text, const std::vector<HighlightTerm>& terms) {
  if (terms.empty()) return 0;
  // Tokens come in position order (a joined token right after its first
  // part): a position is new when it differs from the last one counted.
  int count = 0, last = -1;
  SurfaceScan scan;
  ForEachToken(text, &scan, [&](const TokenView& t) {
    if (t.position != last && TokenMatchesTerms(t.term, terms)) ++count, last = t.position;
  });
  return count;
}

std::vector<bool> MatchingWords(const std::vector<WordBox>& words, const std::vector<HighlightTerm>& terms) {
  std::vector<bool> out(words.size(), false);
  if (terms.empty()) return out;
  // The words as one text, each word's byte range remembered: a space
  // between words (so identifier groups join as in the page text), a line
  // break after a word ending in a hyphen (so the hyphenated word joins).
  std::string text;
  std::vector<std::pair<size_t, size_t>> at;
  for (const WordBox& w : words) {
    if (!text.empty()) {
      const bool hyphen = text.back() == '-' || text.ends_with("\xE2\x80\x90") ||
                          text.ends_with("\xE2\x80\x91") || text.ends_with("\xC2\xAD") || text.ends_with("\xC2\xAC");
      text += hyphen ? '\n' : ' ';
    }
    at.emplace_back(text.size(), text.size() + w.text.size());
    text += w.text;
  }
  const std::vector<std::pair<size_t, size_t>> spans = MatchingSpans(text, terms);
  size_t s = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    while (s < spans.size() && spans[s].second <= at[i].first) ++s;
    out[i] = s < spans.size() && spans[s].first < at[i].second && at[i].first < at[i].second;
  }
  return out;
}

}  // namespace acervo
