// Term statistics and BM25 impacts for the ranked-retrieval side tables
// ("champion lists", docs/store.md "How a ranked search runs"). Internal to
// indexer/: the SQLite store keeps, per folded term, its document frequency
// (term_df) and the top pages by impact (term_top); this file holds the
// database-independent part: tokenising a page like the full-text index,
// the BM25 formulas, reading the phrases out of a query's FTS5 expression,
// and accumulating one write transaction's changes.
//
// Thread-safety: pure functions; a TermBatch is owned by one store and used
// under its mutex.
#ifndef ACERVO_INDEXER_TERM_INDEX_H_
#define ACERVO_INDEXER_TERM_INDEX_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace acervo {

// BM25 parameters: those of FTS5's bm25() (k1 = 1.2, b = 0.75).
inline constexpr double kBm25K1 = 1.2;
inline constexpr double kBm25B = 0.75;

// Pages kept per term in term_top, and the slack allowed before a trim: a
// list grows to kChampionCap * 5/4 entries, then the commit that crosses it
// cuts it back to the kChampionCap best.
inline constexpr int kChampionCap = 1000;
inline constexpr int kChampionTrimAt = kChampionCap + kChampionCap / 4;

// The BM25 factor of one term in one page, without idf: tf (k1 + 1) /
// (tf + k1 (1 - b + b len / avg_len)). idf is the same for every page of a
// term, so ordering a term's pages by it orders them by BM25.
double Bm25Factor(int tf, int page_tokens, double avg_tokens);

// A coarse level of an impact (1 / kImpactSteps wide; impacts range over
// 0..k1+1 = 2.2, so about 70 levels). A full list takes a page only when
// its level is above the level of the list's weakest entry: once a list
// holds the best pages, the many near-ties that follow no longer rewrite
// it (each change is a b-tree write in the commit). Stored impacts stay
// exact, so the order inside a list is exact.
inline constexpr double kImpactSteps = 32;
int64_t ImpactLevel(double impact);

// idf as FTS5's bm25() computes it: ln((N - df + 0.5) / (df + 0.5)), at
// least 1e-6 (a word on more than half the pages still counts a little).
double Bm25Idf(int64_t pages, int64_t df);

// The terms of `text` as the full-text index holds them (analyzer.h):
// surface tokens and the joined ones (hyphenated words, identifiers).
std::vector<std::string> IndexTokens(std::string_view text);

// A page's token count (surface positions) and its distinct terms with
// their frequencies.
struct PageTerms {
  int tokens = 0;
  std::vector<std::pair<std::string, int>> tf;  // sorted by term
};
PageTerms CountTerms(std::string_view text);

// One phrase of an FTS5 expression made by ParseQuery ("a b", "pre"*), in
// the order FTS5 numbers its phrases. `negated`: under a NOT (it can only
// exclude, so it never supplies candidates).
// A phrase may carry a mark before its opening quote, from ParseQuery:
// `="..."` (written `exact:` in the query: no inflections or forgiving
// variants) or `~"..."` (`~word`: forgiving variants whatever the setting).
// ExpandQuery (forgiving.h) removes the marks before FTS5 sees the text.
struct FtsPhrase {
  std::vector<std::string> words;  // folded surface tokens; may be empty
  bool prefix = false;             // the last word is a prefix
  bool negated = false;
  bool exact = false;              // `exact:` mark
  bool force = false;              // `~` mark
};
std::vector<FtsPhrase> FtsPhrases(std::string_view fts);

// Re-emits `fts` with each phrase replaced by replace(phrase, its original
// text including quotes and `*`); operators, parentheses and spaces are
// kept. Used to turn prefix phrases into ORs of known words.
std::string MapPhrases(std::string_view fts,
                       const std::function<std::string(const FtsPhrase&, std::string_view)>& replace);

// Reads the quoted string of an FTS5 expression that starts at fts[*i] (a
// '"'): returns its text with doubled quotes undone and leaves *i just past
// the closing quote (or at the end when it is missing).
std::string ReadFtsQuoted(std::string_view fts, size_t* i);

// The FTS5 string for `words` as one phrase: "w1 w2 ..." (quotes doubled).
std::string QuotePhrase(const std::vector<std::string>& words);

// The term-table changes of one write transaction, applied at its end.
class TermBatch {
 public:
  struct Posting {
    int64_t page_id;
    int tf;
    int tokens;
  };
  struct Delta {
    int64_t df = 0;      // pages added minus pages removed
    int64_t listed = 0;  // term_top rows already removed by the transaction
    std::vector<Posting> added;
  };

  // A page inserted with `text`; `listable` false for pages that can never
  // be hits (blank pages): they count for df and lengths, not in term_top.
  void AddPage(int64_t page_id, std::string_view text, bool listable);
  // A page deleted (its old text): df and lengths go down; if it was added
  // earlier in this transaction its pending postings are dropped.
  void RemovePage(int64_t page_id, std::string_view text);
  // `n` term_top rows of `term` were deleted with their pages.
  void Unlisted(const std::string& term, int64_t n) { terms_[term].listed -= n; }

  bool empty() const { return terms_.empty() && pages_ == 0 && tokens_ == 0; }
  void Clear();

  const std::unordered_map<std::string, Delta>& terms() const { return terms_; }
  bool Removed(int64_t page_id) const { return removed_.count(page_id) != 0; }
  int64_t pages() const { return pages_; }
  int64_t tokens() const { return tokens_; }

 private:
  std::unordered_map<std::string, Delta> terms_;
  std::unordered_set<int64_t> removed_;
  int64_t pages_ = 0;
  int64_t tokens_ = 0;
};

}  // namespace acervo

#endif  // ACERVO_INDEXER_TERM_INDEX_H_
