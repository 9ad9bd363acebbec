// Forgiving search (issue 15): the matchers that let a query word find what
// OCR misread or what is written in another inflection, shared by the
// SQLite and PostgreSQL stores (each supplies its vocabulary through the
// Vocabulary interface; everything else is here, written once).
//
// A query word w gets, besides itself (tier 0, "exact"):
//  - tier 1, "inflection": the vocabulary's words with w's Portuguese stem
//    (`certidões` -> `certidão`, `requerimentos` -> `requerimento`);
//  - tier 2, "forgiving", only when w is rare or absent in the store (or
//    the query asks with `~w`):
//    * "misread": words within a small OCR-weighted edit distance
//      (OcrDistance; at most MaxForgivingCost(|w|)): `Teixelra`, `0rdem`,
//      `cornprovante`, an identifier with one wrong digit;
//    * "split": w cut in two words that are both in the vocabulary
//      (`requeri mento`), searched as a phrase;
//    * "merged": a vocabulary word that is w with 1-3 letters glued before
//      or after (`denascimento`, `nascimentoe`).
// Words hyphenated across line ends and identifiers written in groups are
// joined when indexing (analyzer.h), so their exact search finds them.
//
// Ranking: every document that matches all clauses with exact (tier-0)
// terms comes before those needing an inflection or a forgiving match;
// those are ordered together by BM25 with each variant weighted by
// VariantWeight (an inflection of a real word is not always a better guess
// than a misreading of the word itself). A hit reports its tier.
//
// The vocabulary is found through keys (VocabularyKeys) stored per term,
// as SQLite's spellfix1 does with its phonetic keys, but OCR-shaped: the
// "skeleton" of a word (OcrSkeleton: characters OCR confuses mapped to one
// representative, `rn` -> `m`, `0`/`o` -> `o`, `1`/`l`/`i` -> `l`...) and
// the skeleton with each one character deleted (so one further edit of any
// kind meets on a shared key), the stem (`#...`) and the reversed word
// (`<...`, for merges). docs/store.md measures this against FTS5's trigram
// tokenizer and pg_trgm.
//
// Thread-safety: pure functions; a Vocabulary is used by one search.
#ifndef ACERVO_INDEXER_SRC_FORGIVING_H_
#define ACERVO_INDEXER_SRC_FORGIVING_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/query.h"

namespace acervo {

// The OCR skeleton of a folded word (see above).
std::string OcrSkeleton(std::string_view folded);

// Whether OCR commonly reads one of these characters for the other.
bool OcrConfusable(char a, char b);

// Edit distance between folded words where a substitution of confusable
// characters (OcrConfusable, and the loose a/o, b/h) and the digraph
// confusions rn/m, cl/d, vv/w, ri/n cost 0.5, other insertions, deletions, substitutions and adjacent
// transpositions 1. Returns a value > `max` as soon as the distance is
// known to exceed it.
double OcrDistance(std::string_view a, std::string_view b, double max);

// How far a forgiving match may be from a word of `length` bytes: 0 below
// 4, 0.5 (one confusable character) at 4, 1 for 5-8, 2 from 9 on; for a
// word of 6-8 found nowhere in the index (`in_index` false: every reading
// of it was misread), 1.5: one edit and one confusable character
// (`marítimo` -> `maiilimo`, `tropical` -> `ftopical`).
double MaxForgivingCost(size_t length, bool in_index = true);

// The keys stored for one vocabulary term (see above); empty for terms too
// short or too long to be worth forgiving.
std::vector<std::string> VocabularyKeys(std::string_view term);

// The keys a query word looks up: its skeletons (classes only, and with
// digraphs collapsed when it has any) and their deletions (`~...`).
std::vector<std::string> QueryFuzzyKeys(std::string_view word);

// The key of a word's stem (`#` + PortugueseStem), "" when it has none.
std::string StemKey(std::string_view word);

// What a store offers the expansion: its vocabulary (folded terms as the
// index holds them, the pages not folded yet included).
class Vocabulary {
 public:
  virtual ~Vocabulary() = default;
  // Terms stored under any of `keys`, each once.
  virtual Result<std::vector<std::string>> TermsWithKeys(const std::vector<std::string>& keys) = 0;
  // Terms whose key starts with `prefix` (at most `limit`).
  virtual Result<std::vector<std::string>> TermsWithKeyPrefix(const std::string& prefix, int limit) = 0;
  // Terms that start with `prefix` (at most `limit`).
  virtual Result<std::vector<std::string>> TermsWithPrefix(const std::string& prefix, int limit) = 0;
  // Pages holding the term (0: not in the index).
  virtual Result<int64_t> Df(const std::string& term) = 0;
};

// The vocabulary of the pages not folded into the term tables yet, built
// in memory from their texts (at most a fold's worth of pages). Stores
// answer from their tables plus this.
class PendingVocabulary {
 public:
  void AddPage(std::string_view text);
  void Clear();
  int64_t Df(const std::string& term) const;
  void TermsWithKeys(const std::vector<std::string>& keys, std::unordered_set<std::string>* out) const;
  void TermsWithKeyPrefix(const std::string& prefix, int limit, std::unordered_set<std::string>* out) const;
  void TermsWithPrefix(const std::string& prefix, int limit, std::unordered_set<std::string>* out) const;

 private:
  std::unordered_map<std::string, int64_t> df_;
  std::multimap<std::string, std::string> keys_;  // key -> term
  std::map<std::string, int> terms_;              // sorted, for prefixes
};

// A store's Vocabulary: what its tables answer (term_keys, term_df) plus
// the terms of its pending pages. Each store implements the four table
// reads; the merge with the pending pages lives here, once.
class TableVocabulary : public Vocabulary {
 public:
  Result<std::vector<std::string>> TermsWithKeys(const std::vector<std::string>& keys) override;
  Result<std::vector<std::string>> TermsWithKeyPrefix(const std::string& prefix, int limit) override;
  Result<std::vector<std::string>> TermsWithPrefix(const std::string& prefix, int limit) override;
  Result<int64_t> Df(const std::string& term) override;

 protected:
  // The pending pages' vocabulary, brought up to date (owned by the store).
  virtual Result<const PendingVocabulary*> Pending() = 0;
  // Terms of term_keys under any of `keys`.
  virtual Result<std::vector<std::string>> KeyedTerms(const std::vector<std::string>& keys) = 0;
  // Terms of term_keys (`keys`) or term_df with a key/term in [lo, hi), at
  // most `limit`.
  virtual Result<std::vector<std::string>> RangeTerms(bool keys, const std::string& lo, const std::string& hi,
                                                      int limit) = 0;
  // term_df's df of the term, 0 when it has no row.
  virtual Result<int64_t> TableDf(const std::string& term) = 0;
};

enum class MatchTier { kExact = 0, kInflection = 1, kForgiving = 2 };

// One alternative of a query word.
struct WordVariant {
  std::vector<std::string> words;  // one word, or two for a split
  MatchTier tier = MatchTier::kExact;
  double cost = 0;   // OcrDistance for misreadings, 0.5 for splits/merges
  std::string kind;  // "exact", "inflection", "misread", "split", "merged"
};

// The weight of a variant's BM25 inside its tier.
double VariantWeight(const WordVariant& v);

// Limits of the expansion: a word rarer than this (pages) gets forgiving
// variants without asking; at most this many variants of each kind.
inline constexpr int64_t kForgivingBelowDf = 100;
inline constexpr size_t kMaxInflections = 16;
inline constexpr size_t kMaxMisreadings = 24;
inline constexpr size_t kMaxMerged = 8;

struct WordMode {
  bool inflections = true;  // tier 1
  bool forgiving = true;    // tier 2 when the word is rare or absent
  bool force = false;       // tier 2 whatever the word's frequency (`~word`)
};

// The variants of one folded query word, the word itself first.
Result<std::vector<WordVariant>> WordVariants(const std::string& word, const WordMode& mode, Vocabulary& vocab);

// A query with its forgiving alternatives. Each positive one-word phrase
// of the query (not a prefix, not marked `exact:`) becomes the OR of its
// variants; RolesFor then says, for each phrase of the ranking expression
// in FTS5's order, which clause and query word it stands for and how.
struct PhraseRole {
  int clause = 0;
  std::string query;    // the query word or phrase as searched
  std::string matched;  // the variant's words, space-separated
  MatchTier tier = MatchTier::kExact;
  std::string kind = "exact";
  double weight = 1;
};
struct ExpandedQuery {
  ParsedQuery query;
  // Per clause of query.required_fts: the role of each variant phrase, by
  // its words (space-separated).
  std::vector<std::map<std::string, PhraseRole>> by_clause;
};

// `forgiving` is the request's setting (SearchRequest::forgiving): when
// false only `~word` terms get variants. Removes the `=`/`~` marks of
// query.h from every expression (the result is plain FTS5 syntax).
Result<ExpandedQuery> ExpandQuery(const ParsedQuery& parsed, bool forgiving, Vocabulary& vocab);

// The roles of the phrases of `ranking` (an expression made from
// expanded.query, e.g. after prefix expansion), matched by clause and words;
// phrases without a role (prefix completions, phrases) are exact.
std::vector<PhraseRole> RolesFor(const ExpandedQuery& expanded, const std::vector<std::string>& required_fts);

}  // namespace acervo

#endif  // ACERVO_INDEXER_SRC_FORGIVING_H_
