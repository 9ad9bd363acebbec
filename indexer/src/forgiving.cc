#include "forgiving.h"

#include <algorithm>
#include <utility>

#include "analyzer.h"
#include "term_index.h"

namespace acervo {
namespace {

// The representative of a character's OCR confusion class.
char SkeletonChar(char c) {
  switch (c) {
    case '0': case 'o': case 'q': return 'o';
    // Thin upright glyphs: low-resolution OCR reads any for any.
    case '1': case 'l': case 'i': case 'j': case '!': case '|': case 't': case 'f': case '7': return 'l';
    case '5': case 's': return 's';
    case '8': case 'b': case '6': return 'b';
    case '2': case 'z': return 'z';
    case '9': case 'g': return 'g';
    case 'e': case 'c': return 'e';
    case 'u': case 'v': return 'u';
    default: return c;
  }
}

// The single character OCR reads for a pair of characters ("rn" -> 'm',
// "cl"/"c1" -> 'd', "vv" -> 'w'), or 0.
char DigraphFor(char a, char b) {
  if (a == 'r' && b == 'n') return 'm';
  if (a == 'c' && (b == 'l' || b == '1' || b == 'i' || b == '|')) return 'd';
  if (a == 'v' && b == 'v') return 'w';
  return 0;
}

// The skeletons of a word: every character mapped to its class, and, when
// the word holds a digraph, the same with the digraphs collapsed first. A
// word and its misreading share one of them when they differ by
// confusables (the first when a digraph was misread into a confusable of
// its parts, "cl" -> "el"; the second when it was read as one character).
std::vector<std::string> Skeletons(std::string_view w) {
  std::vector<std::string> out;
  std::string plain;
  for (char c : w) plain.push_back(SkeletonChar(c));
  out.push_back(plain);
  const std::string collapsed = OcrSkeleton(w);
  if (collapsed != plain) out.push_back(collapsed);
  return out;
}

// Confusions the stored keys do not encode (they were chosen after the
// keys: changing SkeletonChar or DigraphFor would change every stored key),
// so the query side reaches them (QueryFuzzyKeys) and OcrDistance prices
// them as confusables: `a`/`o` (and `h`/`b`), among the first alternatives
// Tesseract's LSTM gives for each other on degraded type, and `n` read as
// `ri` or `ri` as `n` (as `rn` for `m`).
bool LooseConfusable(char a, char b) {
  return (a == 'a' && b == 'o') || (a == 'o' && b == 'a') || (a == 'h' && b == 'b') || (a == 'b' && b == 'h');
}

bool LettersOnly(std::string_view w) {
  for (char c : w) {
    if (c >= '0' && c <= '9') return false;
  }
  return true;
}


// Fuzzy keys are stored for words of 4..40 bytes (a letter misread as a
// digit, `registr0`, included); numbers only when they are identifier-long
// (a 4-digit year must not match the next).
bool Ascii(std::string_view w) {
  return std::all_of(w.begin(), w.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// (Folded Latin words are ASCII; keys are made for those only: deleting or
// reversing bytes of other scripts would not give valid UTF-8, which
// PostgreSQL refuses.)
bool FuzzyEligible(std::string_view w) {
  if (w.size() < 4 || w.size() > 40 || !Ascii(w)) return false;
  const bool letter = std::any_of(w.begin(), w.end(), [](char c) { return c < '0' || c > '9'; });
  return letter || w.size() >= 9;
}

void AddDeletions(const std::string& sk, std::vector<std::string>* out) {
  if (sk.size() < 5) return;
  for (size_t i = 0; i < sk.size(); ++i) {
    if (i > 0 && sk[i] == sk[i - 1]) continue;  // same deletion as the previous
    std::string d = "~";
    d.append(sk, 0, i);
    d.append(sk, i + 1, std::string::npos);
    out->push_back(std::move(d));
  }
}

// The word with one of its characters replaced by a loose confusion of it.
std::vector<std::string> LooseVariants(std::string_view w) {
  std::vector<std::string> out;
  for (size_t i = 0; i < w.size(); ++i) {
    std::string v(w);
    switch (w[i]) {
      case 'a': v[i] = 'o'; break;
      case 'o': v[i] = 'a'; break;
      case 'h': v[i] = 'b'; break;
      case 'b': v[i] = 'h'; break;
      case 'n': v.replace(i, 1, "ri"); break;
      case 'r':
        if (i + 1 < w.size() && w[i + 1] == 'i') {
          v.replace(i, 2, "n");
          break;
        }
        continue;
      default: continue;
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::string Join(const std::vector<std::string>& words) {
  std::string s;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) s += ' ';
    s += words[i];
  }
  return s;
}

}  // namespace

std::string OcrSkeleton(std::string_view w) {
  std::string out;
  out.reserve(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    if (i + 1 < w.size()) {
      if (const char d = DigraphFor(w[i], w[i + 1])) {
        out.push_back(d);
        ++i;
        continue;
      }
    }
    out.push_back(SkeletonChar(w[i]));
  }
  return out;
}

bool OcrConfusable(char a, char b) { return a != b && SkeletonChar(a) == SkeletonChar(b); }

double OcrDistance(std::string_view a, std::string_view b, double max) {
  const size_t n = a.size(), m = b.size();
  const double over = max + 1;
  if ((n > m ? n - m : m - n) > static_cast<size_t>(2 * max) + 1) return over;
  std::vector<double> dp((n + 1) * (m + 1));
  auto at = [&](size_t i, size_t j) -> double& { return dp[i * (m + 1) + j]; };
  for (size_t j = 0; j <= m; ++j) at(0, j) = static_cast<double>(j);
  for (size_t i = 1; i <= n; ++i) {
    at(i, 0) = static_cast<double>(i);
    double row_min = at(i, 0);
    for (size_t j = 1; j <= m; ++j) {
      const char x = a[i - 1], y = b[j - 1];
      const double sub = x == y ? 0 : OcrConfusable(x, y) || LooseConfusable(x, y) ? 0.5 : 1;
      double v = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + sub});
      if (i > 1 && j > 1 && x == b[j - 2] && a[i - 2] == y) v = std::min(v, at(i - 2, j - 2) + 1);
      if (i > 1 && DigraphFor(a[i - 2], x) == y) v = std::min(v, at(i - 2, j - 1) + 0.5);
      if (j > 1 && DigraphFor(b[j - 2], y) == x) v = std::min(v, at(i - 1, j - 2) + 0.5);
      if (i > 1 && a[i - 2] == 'r' && x == 'i' && y == 'n') v = std::min(v, at(i - 2, j - 1) + 0.5);
      if (j > 1 && b[j - 2] == 'r' && y == 'i' && x == 'n') v = std::min(v, at(i - 1, j - 2) + 0.5);
      at(i, j) = v;
      row_min = std::min(row_min, v);
    }
    // Rows only grow by at least the smallest entry of the row before, give
    // or take the digraph steps (which skip a row): stop one row later.
    if (row_min > max + 0.5) return over;
  }
  return at(n, m) <= max ? at(n, m) : over;
}

double MaxForgivingCost(size_t length, bool in_index) {
  if (length < 4) return 0;
  if (length == 4) return 0.5;
  if (length == 5) return 1;
  if (length <= 8) return in_index ? 1 : 1.5;
  return 2;
}

std::string StemKey(std::string_view word) {
  if (word.size() < 4 || !LettersOnly(word) || !Ascii(word)) return "";
  return "#" + PortugueseStem(word);
}

std::vector<std::string> VocabularyKeys(std::string_view term) {
  std::vector<std::string> keys;
  if (std::string stem = StemKey(term); !stem.empty()) keys.push_back(std::move(stem));
  if (FuzzyEligible(term)) {
    for (const std::string& sk : Skeletons(term)) {
      keys.push_back("~" + sk);
      AddDeletions(sk, &keys);
    }
  }
  if (term.size() >= 4 && term.size() <= 40 && LettersOnly(term) && Ascii(term)) {
    keys.push_back("<" + std::string(term.rbegin(), term.rend()));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::vector<std::string> QueryFuzzyKeys(std::string_view word) {
  std::vector<std::string> keys;
  if (word.size() < 4 || word.size() > 40 || !Ascii(word)) return keys;
  for (const std::string& sk : Skeletons(word)) {
    keys.push_back("~" + sk);
    AddDeletions(sk, &keys);
  }
  // The word with one loose confusion (LooseConfusable, n -> ri) made, as
  // the stored keys of its misreading read: that confusion alone, or with
  // one more edit.
  for (std::string& v : LooseVariants(word)) {
    const std::string sk = Skeletons(v).front();
    keys.push_back("~" + sk);
    AddDeletions(sk, &keys);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// --- PendingVocabulary ---

void PendingVocabulary::AddPage(std::string_view text) {
  std::unordered_set<std::string> seen;
  for (TextToken& t : AnalyzeText(text)) {
    if (!seen.insert(t.term).second) continue;
    if (df_[t.term]++ == 0) {
      for (std::string& k : VocabularyKeys(t.term)) keys_.emplace(std::move(k), t.term);
      terms_.emplace(t.term, 0);
    }
  }
}

void PendingVocabulary::Clear() {
  df_.clear();
  keys_.clear();
  terms_.clear();
}

int64_t PendingVocabulary::Df(const std::string& term) const {
  auto it = df_.find(term);
  return it == df_.end() ? 0 : it->second;
}

void PendingVocabulary::TermsWithKeys(const std::vector<std::string>& keys,
                                      std::unordered_set<std::string>* out) const {
  for (const std::string& k : keys) {
    auto [lo, hi] = keys_.equal_range(k);
    for (auto it = lo; it != hi; ++it) out->insert(it->second);
  }
}

void PendingVocabulary::TermsWithKeyPrefix(const std::string& prefix, int limit,
                                           std::unordered_set<std::string>* out) const {
  int n = 0;
  for (auto it = keys_.lower_bound(prefix); it != keys_.end() && n < limit; ++it, ++n) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out->insert(it->second);
  }
}

void PendingVocabulary::TermsWithPrefix(const std::string& prefix, int limit,
                                        std::unordered_set<std::string>* out) const {
  int n = 0;
  for (auto it = terms_.lower_bound(prefix); it != terms_.end() && n < limit; ++it, ++n) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out->insert(it->first);
  }
}

// --- TableVocabulary ---

Result<std::vector<std::string>> TableVocabulary::TermsWithKeys(const std::vector<std::string>& keys) {
  ACERVO_ASSIGN_OR_RETURN(const PendingVocabulary* pending, Pending());
  ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> terms, KeyedTerms(keys));
  std::unordered_set<std::string> out(terms.begin(), terms.end());
  pending->TermsWithKeys(keys, &out);
  return std::vector<std::string>(out.begin(), out.end());
}

namespace {

// Above every UTF-8 continuation of a prefix (U+10FFFF, valid UTF-8 for a
// PostgreSQL text parameter, unlike a bare 0xFF byte).
std::string PrefixEnd(const std::string& prefix) { return prefix + "\xf4\x8f\xbf\xbf"; }

}  // namespace

Result<std::vector<std::string>> TableVocabulary::TermsWithKeyPrefix(const std::string& prefix, int limit) {
  ACERVO_ASSIGN_OR_RETURN(const PendingVocabulary* pending, Pending());
  ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> terms, RangeTerms(true, prefix, PrefixEnd(prefix), limit));
  std::unordered_set<std::string> out(terms.begin(), terms.end());
  pending->TermsWithKeyPrefix(prefix, limit, &out);
  return std::vector<std::string>(out.begin(), out.end());
}

Result<std::vector<std::string>> TableVocabulary::TermsWithPrefix(const std::string& prefix, int limit) {
  ACERVO_ASSIGN_OR_RETURN(const PendingVocabulary* pending, Pending());
  ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> terms, RangeTerms(false, prefix, PrefixEnd(prefix), limit));
  std::unordered_set<std::string> out(terms.begin(), terms.end());
  pending->TermsWithPrefix(prefix, limit, &out);
  return std::vector<std::string>(out.begin(), out.end());
}

Result<int64_t> TableVocabulary::Df(const std::string& term) {
  ACERVO_ASSIGN_OR_RETURN(const PendingVocabulary* pending, Pending());
  ACERVO_ASSIGN_OR_RETURN(int64_t df, TableDf(term));
  return df + pending->Df(term);
}

// --- expansion ---

double VariantWeight(const WordVariant& v) {
  switch (v.tier) {
    case MatchTier::kExact: return 1;
    // A form that rewrites more than three letters of the word (`tomando`
    // -> `tomi`, both stemmed to `tom`) is a weaker guess than a plural
    // (`certidão` -> `certidões`: 2.5).
    case MatchTier::kInflection: return 0.6 / (1 + std::max(0.0, v.cost - 3));
    case MatchTier::kForgiving:
      // One confusable character (`fomando`, `l0mares`) is nearly as strong
      // a guess as an inflection; less with each further half edit (0.25 at
      // 1, 0.125 at 2).
      if (v.kind == "misread") return 0.5 / (1 + 2 * (v.cost - 0.5));
      return 0.4 / (1 + v.cost);
  }
  return 1;
}

Result<std::vector<WordVariant>> WordVariants(const std::string& word, const WordMode& mode, Vocabulary& vocab) {
  std::vector<WordVariant> out;
  out.push_back({{word}, MatchTier::kExact, 0, "exact"});
  std::unordered_set<std::string> seen = {word};
  // Candidates of one kind, best first, at most `cap` of them.
  struct Cand {
    std::string term;
    double cost;
    int64_t df;
  };
  auto take = [&](std::vector<Cand> c, size_t cap, MatchTier tier, const char* kind) {
    std::sort(c.begin(), c.end(), [](const Cand& a, const Cand& b) {
      if (a.cost != b.cost) return a.cost < b.cost;
      if (a.df != b.df) return a.df > b.df;
      return a.term < b.term;
    });
    for (size_t i = 0; i < c.size() && i < cap; ++i) {
      if (!seen.insert(c[i].term).second) continue;
      out.push_back({{c[i].term}, tier, c[i].cost, kind});
    }
  };
  if (mode.inflections) {
    if (const std::string key = StemKey(word); !key.empty()) {
      ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> terms, vocab.TermsWithKeys({key}));
      std::vector<Cand> c;
      for (std::string& t : terms) {
        if (seen.count(t)) continue;
        ACERVO_ASSIGN_OR_RETURN(int64_t df, vocab.Df(t));
        const double d = OcrDistance(word, t, 16);
        if (df > 0) c.push_back({std::move(t), d, df});
      }
      take(std::move(c), kMaxInflections, MatchTier::kInflection, "inflection");
    }
  }
  if (!mode.forgiving && !mode.force) return out;
  ACERVO_ASSIGN_OR_RETURN(int64_t word_df, vocab.Df(word));
  if (!mode.force && word_df >= kForgivingBelowDf) return out;
  const double max = MaxForgivingCost(word.size(), word_df > 0);
  if (max > 0) {
    ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> terms, vocab.TermsWithKeys(QueryFuzzyKeys(word)));
    std::vector<Cand> c;
    for (std::string& t : terms) {
      if (seen.count(t)) continue;
      const double d = OcrDistance(word, t, max);
      if (d > max) continue;
      ACERVO_ASSIGN_OR_RETURN(int64_t df, vocab.Df(t));
      if (df > 0) c.push_back({std::move(t), d, df});
    }
    take(std::move(c), kMaxMisreadings, MatchTier::kForgiving, "misread");
  }
  if (word.size() >= 5 && LettersOnly(word)) {
    // Split in two words, each at least 2 letters.
    for (size_t i = 2; i + 2 <= word.size(); ++i) {
      if ((static_cast<unsigned char>(word[i]) & 0xC0) == 0x80) continue;  // inside a UTF-8 character
      const std::string a = word.substr(0, i), b = word.substr(i);
      ACERVO_ASSIGN_OR_RETURN(int64_t da, vocab.Df(a));
      if (da == 0) continue;
      ACERVO_ASSIGN_OR_RETURN(int64_t db, vocab.Df(b));
      if (db == 0) continue;
      out.push_back({{a, b}, MatchTier::kForgiving, 0.5, "split"});
    }
    // Glued to 1-3 letters, or to another word of the vocabulary, before
    // or after.
    std::vector<Cand> c;
    auto consider = [&](std::string t, std::string rest) -> Status {
      if (seen.count(t) || t.size() <= word.size()) return Status::OK();
      if (rest.size() > 3) {
        ACERVO_ASSIGN_OR_RETURN(int64_t rest_df, vocab.Df(rest));
        if (rest_df == 0) return Status::OK();
      }
      ACERVO_ASSIGN_OR_RETURN(int64_t df, vocab.Df(t));
      if (df > 0) c.push_back({std::move(t), 0.5, df});
      return Status::OK();
    };
    ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> after, vocab.TermsWithPrefix(word, 32));
    for (std::string& t : after) {
      std::string rest = t.substr(word.size());
      ACERVO_RETURN_IF_ERROR(consider(std::move(t), std::move(rest)));
    }
    std::vector<std::string> before;
    if (Ascii(word)) {
      ACERVO_ASSIGN_OR_RETURN(before, vocab.TermsWithKeyPrefix("<" + std::string(word.rbegin(), word.rend()), 32));
    }
    for (std::string& t : before) {
      if (t.size() > word.size() && t.compare(t.size() - word.size(), word.size(), word) == 0) {
        std::string rest = t.substr(0, t.size() - word.size());
        ACERVO_RETURN_IF_ERROR(consider(std::move(t), std::move(rest)));
      }
    }
    take(std::move(c), kMaxMerged, MatchTier::kForgiving, "merged");
  }
  return out;
}

Result<ExpandedQuery> ExpandQuery(const ParsedQuery& parsed, bool forgiving, Vocabulary& vocab) {
  ExpandedQuery e;
  e.query = parsed;
  Status status;
  std::unordered_map<std::string, std::vector<WordVariant>> cache;
  auto strip = [](const FtsPhrase& p, std::string_view) {
    return QuotePhrase(p.words) + (p.prefix ? " *" : "");
  };
  for (size_t i = 0; i < e.query.required_fts.size(); ++i) {
    std::map<std::string, PhraseRole>& roles = e.by_clause.emplace_back();
    auto replace = [&](const FtsPhrase& p, std::string_view original) -> std::string {
      const std::string plain = strip(p, original);
      if (!status.ok() || p.negated || p.prefix || p.words.size() != 1 || p.exact ||
          (!forgiving && !p.force)) {
        return plain;
      }
      auto it = cache.find(p.words[0] + (p.force ? "~" : ""));
      if (it == cache.end()) {
        WordMode mode;
        mode.force = p.force;
        Result<std::vector<WordVariant>> v = WordVariants(p.words[0], mode, vocab);
        if (!v.ok()) {
          status = v.status();
          return plain;
        }
        it = cache.emplace(p.words[0] + (p.force ? "~" : ""), std::move(v).value()).first;
      }
      if (it->second.size() == 1) return plain;
      std::string out = "(";
      for (size_t k = 0; k < it->second.size(); ++k) {
        const WordVariant& v = it->second[k];
        if (k > 0) out += " OR ";
        out += QuotePhrase(v.words);
        PhraseRole r;
        r.clause = static_cast<int>(i);
        r.query = p.words[0];
        r.matched = Join(v.words);
        r.tier = v.tier;
        r.kind = v.kind;
        r.weight = VariantWeight(v);
        roles.emplace(r.matched, std::move(r));
      }
      return out + ")";
    };
    e.query.required_fts[i] = MapPhrases(e.query.required_fts[i], replace);
    ACERVO_RETURN_IF_ERROR(status);
  }
  for (std::string& f : e.query.excluded_fts) f = MapPhrases(f, strip);
  return e;
}

std::vector<PhraseRole> RolesFor(const ExpandedQuery& expanded, const std::vector<std::string>& required_fts) {
  std::vector<PhraseRole> out;
  for (size_t i = 0; i < required_fts.size(); ++i) {
    for (const FtsPhrase& p : FtsPhrases(required_fts[i])) {
      const std::string words = Join(p.words);
      const std::map<std::string, PhraseRole>* roles = i < expanded.by_clause.size() ? &expanded.by_clause[i] : nullptr;
      auto it = roles ? roles->find(words) : std::map<std::string, PhraseRole>::const_iterator();
      if (roles && it != roles->end()) {
        out.push_back(it->second);
        continue;
      }
      PhraseRole r;
      r.clause = static_cast<int>(i);
      r.query = words + (p.prefix ? "*" : "");
      r.matched = r.query;
      r.weight = p.negated ? 0 : 1;
      if (p.negated) r.kind = "excluded";
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace acervo
