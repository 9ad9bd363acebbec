// The parts of a search both stores share (issue 15): request checks,
// the field-name check, snippets with the matched variants highlighted,
// and the annotation of a hit with its tier and the terms that matched on
// which pages. Each store runs its own SQL and calls these.
//
// Thread-safety: pure functions.
#ifndef ACERVO_INDEXER_SRC_SEARCH_COMMON_H_
#define ACERVO_INDEXER_SRC_SEARCH_COMMON_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/query.h"
#include "acervo/indexer/store.h"
#include "forgiving.h"

namespace acervo {

inline constexpr int kMaxSearchLimit = 10000;
inline constexpr int kSnippetTokens = 16;

// limit in 1..10000, offset >= 0, limit + offset <= 10000.
Status CheckLimits(const SearchRequest& request);

// The folded names of the index fields a request refers to (its --field
// filters and the query's field conditions), each once, in order.
std::vector<std::string> ReferencedFields(const SearchRequest& request, const ParsedQuery& query);

// SQL (shared, '?' placeholders) for the field-name check: whether a name
// exists; the names of a lot's fields; every name in the store (a loose
// index scan, not a read of every row).
inline constexpr const char* kFieldExistsSql = "SELECT 1 FROM fields WHERE name_norm = ? LIMIT 1";
inline constexpr const char* kLotFieldNamesSql =
    "SELECT DISTINCT f.name_norm FROM fields f JOIN documents d ON d.id = f.doc_id WHERE d.lot_id = ? "
    "ORDER BY 1";
inline constexpr const char* kStoreFieldNamesSql =
    "WITH RECURSIVE n(x) AS (SELECT min(name_norm) FROM fields UNION ALL "
    "SELECT (SELECT min(name_norm) FROM fields WHERE name_norm > n.x) FROM n WHERE n.x IS NOT NULL) "
    "SELECT x FROM n WHERE x IS NOT NULL";

// The InvalidArgument for a field name no document has: names the field
// and lists `known` (the lot's when `lot` is given, else the store's).
Status UnknownFieldError(const std::string& name, const std::string& lot, const std::vector<std::string>& known);

// A snippet of `text` around the best group of tokens whose term is in
// `terms` (folded index terms; a two-word entry "a b" highlights both
// words): about kSnippetTokens tokens, hits between « and », cuts marked
// …, whitespace collapsed to single spaces. "" when nothing matches.
std::string BuildSnippet(std::string_view text, const std::unordered_set<std::string>& terms);

// The first field value that is a date, as ISO YYYY-MM-DD; "" if none.
std::string FirstDate(const std::vector<FieldRecord>& fields);

// One page of a hit with the phrases of the ranking expression found on it
// (indexes into `roles`).
struct PagePhrases {
  int pdf_page = 0;
  std::vector<int> phrases;
};

// The hit's tier (the worst over the query's clauses of the best tier each
// clause matched with) and its matches (per role that matched: the pages).
// `clauses`: the number of required clauses.
void AnnotateHit(const std::vector<PhraseRole>& roles, const std::vector<PagePhrases>& pages, size_t clauses,
                 SearchHit* hit);

// The terms to highlight on a page: the matched words of `phrases`.
std::unordered_set<std::string> HighlightTerms(const std::vector<PhraseRole>& roles, const std::vector<int>& phrases);

// The per-phrase weights of the ranking: role weight x idf.
std::vector<double> PhraseWeights(const std::vector<PhraseRole>& roles, const std::vector<double>& idfs);

// A document scored for a query (both stores' ranked path).
struct ScoredDoc {
  int64_t doc_row = 0;
  double score = 0;
  int tier = 0;  // AnnotateHit's tier, for the order
  int64_t best_page_row = 0;
  std::vector<int> pages;           // PDF pages with hits, ascending
  std::vector<PagePhrases> phrases;  // per hit page, the phrases found on it
  std::vector<int> best_phrases;    // the phrases found on the best page
};

// The tier of a document from its pages' phrases (see AnnotateHit).
int DocumentTier(const std::vector<PhraseRole>& roles, const std::vector<PagePhrases>& pages, size_t clauses);

// Sorts scored documents (exact ones first, then by score desc, row) and
// keeps those in [offset, offset + limit).
void SortAndPage(std::vector<ScoredDoc>* docs, int offset, int limit);

// Completes a hit from its scored document (either store's ranked or
// date-ordered path): pages, score, tier, matches (AnnotateHit) and the
// snippet of its best page, whose text is `best_page_text`.
void FillScoredHit(const std::vector<PhraseRole>& roles, size_t clauses, ScoredDoc doc, std::string_view best_page_text,
                   SearchHit* hit);

// The unranked fill's two scans in turns (docs/store.md, step 4): a batch
// of `pages` (the matching pages, filter checked), then, when `filtered`, a
// batch of `documents` (the filtered documents), until `enough()` or either
// scan returns true (exhausted: it has seen every candidate of its kind).
Status AlternateScans(const std::function<Result<bool>()>& pages, const std::function<Result<bool>()>& documents,
                      bool filtered, const std::function<bool()>& enough);

}  // namespace acervo

#endif  // ACERVO_INDEXER_SRC_SEARCH_COMMON_H_
