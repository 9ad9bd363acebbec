// Metadata conditions of a parsed query compiled to SQL over a documents row
// `d` and the `fields` table, shared by the SQLite and PostgreSQL stores (the
// SQL is valid in both). Only fixed SQL text is emitted; every value is a
// bound parameter written '?' (NumberPlaceholders turns them into
// PostgreSQL's $1, $2, ...).
//
// Thread-safety: pure functions.
#ifndef ACERVO_INDEXER_SRC_SQL_FILTER_H_
#define ACERVO_INDEXER_SRC_SQL_FILTER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <string>
#include <variant>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/query.h"
#include "acervo/indexer/store.h"

namespace acervo {

using Param = std::variant<std::string, double, int64_t>;

// SQL text plus the parameters its '?' placeholders take, in order.
struct SqlParts {
  std::string sql;
  std::vector<Param> params;
};

// Fields by meaning (issue 15). FieldKey: the digits of an identifier-like
// value (IdentifierDigits), stored as fields.value_key. FieldWords: the
// folded words of a text value (not a date, number or identifier), stored
// in field_words. FillFieldMeaning sets a kFieldEquals predicate's date,
// key and words from the value as written.
std::optional<std::string> FieldKey(std::string_view value);
std::vector<std::string> FieldWords(std::string_view value);
void FillFieldMeaning(std::string_view raw_value, QueryPredicate* p);

// Appends an SQL boolean for one predicate / a condition tree.
void CompilePredicate(const QueryPredicate& p, SqlParts* out);
void CompileCondition(const QueryCondition& c, SqlParts* out);

// `sql` with its i-th '?' replaced by "$<first + i>". Our SQL text has no
// '?' other than placeholders (no literals).
std::string NumberPlaceholders(const std::string& sql, int first = 1);

// The document-level conditions of a search, ANDed, over the documents row
// `d`: the request's lot and --field filters and the query's metadata
// filter. `true_literal` is the backend's spelling of TRUE ("1" for SQLite,
// "true" for PostgreSQL). InvalidArgument for a field filter with an empty
// name.
Result<SqlParts> CompileDocumentFilter(const SearchRequest& request, const ParsedQuery& query,
                                       const char* true_literal);

// The first predicate for which `want` is true that is the query's whole
// filter or ANDed at its top, taken out of the filter (nullopt: none; the
// query is then unchanged). The rest of the filter means the same with the
// predicate ANDed back.
std::optional<QueryPredicate> TakeTopLevelPredicate(ParsedQuery* q,
                                                    const std::function<bool(const QueryPredicate&)>& want);

// The filter-only listing's drivers (docs/store.md, "How a filter-only
// search runs"): a text-valued `field:value` condition ANDed at the top,
// taken out (its documents: those with every word of the value in the
// field's field_words rows), then, only when there is one, a `type:`
// ANDed at the top (schema v14: field_words_listed holds the field's
// documents of one type in listing order). nullopt where there is none.
struct ListingDrivers {
  std::optional<QueryPredicate> field;
  std::optional<QueryPredicate> type;
};
ListingDrivers TakeListingDrivers(ParsedQuery* q);

// The master-page fields of a page about to be stored (schema v4), checked
// the same way by both stores: part is "whole", "left" or "right", the
// master page and columns are not negative. InvalidArgument starts with
// `where` (the lot, document and page).
Status ValidatePagePart(const PageRecord& page, const std::string& where);

}  // namespace acervo

#endif  // ACERVO_INDEXER_SRC_SQL_FILTER_H_
