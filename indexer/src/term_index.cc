#include "term_index.h"

#include <algorithm>
#include <cmath>

#include "acervo/indexer/text_fold.h"
#include "analyzer.h"

namespace acervo {

double Bm25Factor(int tf, int page_tokens, double avg_tokens) {
  if (tf <= 0) return 0;
  const double avg = avg_tokens > 0 ? avg_tokens : 1;
  const double t = static_cast<double>(tf);
  return t * (kBm25K1 + 1) / (t + kBm25K1 * (1 - kBm25B + kBm25B * static_cast<double>(page_tokens) / avg));
}

int64_t ImpactLevel(double impact) { return static_cast<int64_t>(std::ceil(impact * kImpactSteps)); }

double Bm25Idf(int64_t pages, int64_t df) {
  const double n = static_cast<double>(std::max<int64_t>(pages, 0));
  const double d = static_cast<double>(std::clamp<int64_t>(df, 0, std::max<int64_t>(pages, 0)));
  const double idf = std::log((n - d + 0.5) / (d + 0.5));
  return idf > 1e-6 ? idf : 1e-6;
}

std::vector<std::string> IndexTokens(std::string_view text) {
  std::vector<std::string> out;
  for (TextToken& t : AnalyzeText(text)) out.push_back(std::move(t.term));
  return out;
}

PageTerms CountTerms(std::string_view text) {
  std::unordered_map<std::string, int> counts;
  PageTerms p;
  for (TextToken& t : AnalyzeText(text)) {
    // Joined tokens share their first part's position: not a token more.
    if (t.kind == TextToken::Kind::kWord) ++p.tokens;
    ++counts[std::move(t.term)];
  }
  p.tf.reserve(counts.size());
  for (auto& [term, n] : counts) p.tf.emplace_back(term, n);
  std::sort(p.tf.begin(), p.tf.end());
  return p;
}

namespace {

// Walks the grammar ParseQuery emits: quoted strings (quotes doubled
// inside), an optional `*` after one, AND / OR / NOT, parentheses, spaces.
// Calls on_phrase(phrase, original text) for phrases and on_other(text) for
// everything else, in order.
template <typename P, typename O>
void WalkFts(std::string_view fts, P&& on_phrase, O&& on_other) {
  std::vector<bool> group_negated = {false};
  bool pending_not = false;
  size_t i = 0;
  while (i < fts.size()) {
    const char c = fts[i];
    const size_t start = i;
    if (c == '"' || ((c == '=' || c == '~') && i + 1 < fts.size() && fts[i + 1] == '"')) {
      FtsPhrase p;
      if (c != '"') {
        p.exact = c == '=';
        p.force = c == '~';
        ++i;
      }
      const std::string text = ReadFtsQuoted(fts, &i);
      p.words = AnalyzeQueryWords(text);
      size_t j = i;
      while (j < fts.size() && fts[j] == ' ') ++j;
      if (j < fts.size() && fts[j] == '*') {
        p.prefix = true;
        i = j + 1;
      }
      p.negated = pending_not || group_negated.back();
      pending_not = false;
      on_phrase(p, fts.substr(start, i - start));
    } else if (c == '(') {
      group_negated.push_back(pending_not || group_negated.back());
      pending_not = false;
      on_other(fts.substr(i++, 1));
    } else if (c == ')') {
      if (group_negated.size() > 1) group_negated.pop_back();
      on_other(fts.substr(i++, 1));
    } else if (fts.substr(i, 3) == "NOT") {
      pending_not = true;
      on_other(fts.substr(i, 3));
      i += 3;
    } else {
      on_other(fts.substr(i++, 1));  // spaces, AND, OR (byte by byte)
    }
  }
}

}  // namespace

std::string ReadFtsQuoted(std::string_view fts, size_t* i) {
  std::string text;
  ++*i;  // the opening quote
  while (*i < fts.size()) {
    if (fts[*i] == '"') {
      if (*i + 1 < fts.size() && fts[*i + 1] == '"') {
        text += '"';
        *i += 2;
        continue;
      }
      ++*i;
      break;
    }
    text += fts[(*i)++];
  }
  return text;
}

std::vector<FtsPhrase> FtsPhrases(std::string_view fts) {
  std::vector<FtsPhrase> out;
  WalkFts(
      fts, [&](const FtsPhrase& p, std::string_view) { out.push_back(p); }, [](std::string_view) {});
  return out;
}

std::string MapPhrases(std::string_view fts,
                       const std::function<std::string(const FtsPhrase&, std::string_view)>& replace) {
  std::string out;
  WalkFts(
      fts, [&](const FtsPhrase& p, std::string_view original) { out += replace(p, original); },
      [&](std::string_view other) { out += other; });
  return out;
}

std::string QuotePhrase(const std::vector<std::string>& words) {
  std::string out = "\"";
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += ' ';
    for (char c : words[i]) {
      if (c == '"') out += '"';
      out += c;
    }
  }
  return out + "\"";
}

void TermBatch::AddPage(int64_t page_id, std::string_view text, bool listable) {
  PageTerms p = CountTerms(text);
  ++pages_;
  tokens_ += p.tokens;
  for (auto& [term, tf] : p.tf) {
    Delta& d = terms_[term];
    ++d.df;
    if (listable) d.added.push_back({page_id, tf, p.tokens});
  }
}

void TermBatch::RemovePage(int64_t page_id, std::string_view text) {
  PageTerms p = CountTerms(text);
  --pages_;
  tokens_ -= p.tokens;
  for (auto& [term, tf] : p.tf) --terms_[term].df;
  removed_.insert(page_id);
}

void TermBatch::Clear() {
  terms_.clear();
  removed_.clear();
  pages_ = 0;
  tokens_ = 0;
}

}  // namespace acervo
