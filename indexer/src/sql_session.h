// What the SQLite and PostgreSQL stores share above their connections:
// SqlSession is the small interface each store implements over its own
// connection (statements with '?' placeholders, rows as text, its own
// write-transaction rules), and the functions below are the logic written
// once on top of it — schema v6 (word boxes, users, grants, tokens, audit),
// the word-box codec, facet counts, lot summaries, the AccessStore, and
// the field-name check and expansion that start every search.
//
// Thread-safety: a SqlSession is used only by a caller holding its store's
// mutex (the functions here never lock; NewSqlAccessStore's methods lock the
// mutex they are given).
#ifndef ACERVO_INDEXER_SRC_SQL_SESSION_H_
#define ACERVO_INDEXER_SRC_SQL_SESSION_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/access_store.h"
#include "acervo/indexer/review_store.h"
#include "acervo/indexer/store.h"
#include "forgiving.h"
#include "sql_filter.h"

namespace acervo {

// One result row: each column as text, nullopt for NULL (PostgreSQL
// booleans read "t"/"f", SQLite's 1/0).
using SqlRow = std::vector<std::optional<std::string>>;

class SqlSession {
 public:
  virtual ~SqlSession() = default;
  virtual bool postgres() const = 0;
  // One statement; '?' placeholders bound in order (renumbered $n for
  // PostgreSQL). Failure: the backend's error mapped like its store's.
  virtual Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<Param>& params = {}) = 0;
  // `body` inside one write transaction with the backend's retry rules
  // (SQLite: BEGIN IMMEDIATE and busy retries; PostgreSQL: serialization
  // retries), committed when it returns OK, rolled back otherwise.
  virtual Status Write(const std::string& what, const std::function<Status()>& body) = 0;
  // `body` inside one read transaction (a consistent view).
  virtual Status Read(const std::function<Status()>& body) = 0;
};

// Schema v6, the same for both backends but for the column types given
// (SQLite: "BLOB"-free; only the audit triggers differ): run as the
// migration's SQL.
std::string SchemaV6Sql(bool postgres);
// v6's audit table, its indexes and append-only triggers alone (SQLite):
// what a SQLite store's audit trail file holds from schema v13 on.
std::string AuditTrailSql();

// Triggers that keep `table` append-only (UPDATE, DELETE and, on
// PostgreSQL, TRUNCATE refused with "<rows> are append-only"): the audit
// trail (v6) and the document history (v8). PostgreSQL's trigger function
// is acervo_<stem>_append_only().
std::string AppendOnlyTriggersSql(const std::string& table, const std::string& stem, const std::string& rows,
                                  bool postgres);

// Schema v10 (issue 19; provisional number, the lead renumbers at merge),
// the same SQL on both backends: where each user's identity comes from
// (local or the directory) and the CPF an ICP-Brasil certificate maps to.
inline constexpr const char* kSchemaV10Sql = R"sql(
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'ldap'));
ALTER TABLE users ADD COLUMN cpf TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_by_cpf ON users(cpf) WHERE cpf <> '';
)sql";

// Schema v12 (issue 13, item 11; provisional number), the same SQL on both
// backends: a document's pages with what a search reads of each (whether
// it is in the PDF, its PDF page; the page id is in every index entry),
// read from the index alone, without the page rows and their text.
inline constexpr const char* kSchemaV12Sql =
    "CREATE INDEX IF NOT EXISTS pages_by_doc ON pages(doc_id, in_pdf, pdf_page)";

// Schema v14 (issue 13, item 11), after each backend has added the three
// columns to field_words (document_type_norm, lot_id, document_id: its
// document's, which never change while the row exists — a document is
// replaced by deleting its rows): fills them and indexes each field word's
// documents by type, then in listing order (lot, document id). So a
// filter-only search `cidade:"X" type:Y` reads the city's documents of
// that type from one index range, already in the order it lists them,
// and stops at its page, instead of looking up each of the city's
// documents for its type. The same SQL on both backends.
inline constexpr const char* kSchemaV14FillSql = R"sql(
UPDATE field_words SET (document_type_norm, lot_id, document_id) =
  (SELECT d.document_type_norm, d.lot_id, d.document_id FROM documents d WHERE d.id = field_words.doc_id);
CREATE INDEX IF NOT EXISTS field_words_listed
  ON field_words(name_norm, word, document_type_norm, lot_id, document_id, doc_id);
)sql";

// Word boxes as stored in page_words.words: one line per word, "x y w h
// text" (text with its whitespace and control characters removed).
// Decode is lenient: a malformed line is skipped.
std::string EncodeWordBoxes(const std::vector<WordBox>& words);
std::vector<WordBox> DecodeWordBoxes(const std::string& text);

// Store::GetPageWords on either backend.
Result<std::optional<PageWords>> ReadPageWords(SqlSession& s, const std::string& lot_id,
                                               const std::string& document_id, int number);

// The SQL expression of a document's date over the documents row `d`: the
// ISO date of its first index field holding a date, NULL when none.
inline constexpr const char* kDocumentDateSql =
    "(SELECT f.value_date FROM fields f WHERE f.doc_id = d.id AND f.value_date IS NOT NULL "
    "ORDER BY f.ordinal LIMIT 1)";

// A temporary table (id BIGINT PRIMARY KEY) each store creates on its
// connection at open: the matching documents of one Facets call. (A
// temporary table may be written inside PostgreSQL's read-only search
// transaction; created there it could not be.)
inline constexpr const char* kFacetIdsTable = "facet_ids";
inline constexpr const char* kCreateFacetIdsSql =
    "CREATE TEMP TABLE IF NOT EXISTS facet_ids (id BIGINT PRIMARY KEY)";

// Facet counts over the documents whose ids the statement `matching`
// selects (at most kFacetCountCap + 1 rows, as the backend built it), read
// once into kFacetIdsTable.
Result<SearchFacets> ComputeFacets(SqlSession& s, const SqlParts& matching);

// Ids of the documents `matching` selects in date order, a page of them.
Result<std::vector<int64_t>> DocumentsByDate(SqlSession& s, const SqlParts& matching, bool newest_first,
                                             int limit, int offset);

// Store::LotSummaries on either backend.
Result<std::vector<LotSummary>> ReadLotSummaries(SqlSession& s);

// The document-level filter of a request with its document, date range and
// allowed_lots restriction added (CompileDocumentFilter plus
// "d.document_id = ?", the date bounds, "d.lot_id IN (...)").
// `allowed_table`: when set, a non-empty allow-list is tested as
// "d.lot_id IN <allowed_table>", a one-column table of lot ids the caller
// has filled with request.allowed_lots, instead of one parameter per lot
// (SQLite builds a temporary index of such a list at every execution of the
// statement: per candidate document of a search, for a reader with a
// hundred lots that was a tenth of the search's work).
Result<SqlParts> DocumentFilterWithAccess(const SearchRequest& request, const ParsedQuery& query,
                                          const char* true_literal, const char* allowed_table = nullptr);

// True when a document filter tests only the documents row itself (no
// subquery: lots, the access restriction): cheap to check per candidate.
inline bool RowOnlyFilter(const SqlParts& where) { return where.sql.find("SELECT") == std::string::npos; }

// A search's result with a generic database error turned into a plain
// InvalidArgument: the SQL text is fixed, so such an error can only come
// from evaluating the user's expression, and the user never sees the
// database's own message.
template <typename T>
Result<T> PlainQueryError(Result<T> r) {
  if (!r.ok() && r.status().code() == StatusCode::kInternal) {
    return Status::InvalidArgument("the query could not be evaluated by the text index");
  }
  return r;
}

// What Search and Facets do first, on either backend: the field names
// the request refers to are checked against the documents it may see (its
// lot, its allowed_lots: UnknownFieldError, listing those documents'
// fields, for a name none of them has), then the query gets its forgiving
// variants from `vocab` (ExpandQuery, per request.forgiving).
Result<ExpandedQuery> CheckAndExpand(SqlSession& s, Vocabulary& vocab, const SearchRequest& request,
                                     const ParsedQuery& query);

// A store's Vocabulary for ExpandQuery (forgiving.h): term_keys and
// term_df read through the session, plus the store's pending pages, which
// `pending` brings up to date.
class SessionVocabulary final : public TableVocabulary {
 public:
  SessionVocabulary(SqlSession* s, std::function<Result<const PendingVocabulary*>()> pending)
      : s_(s), pending_(std::move(pending)) {}

 protected:
  Result<const PendingVocabulary*> Pending() override { return pending_(); }
  Result<std::vector<std::string>> KeyedTerms(const std::vector<std::string>& keys) override;
  Result<std::vector<std::string>> RangeTerms(bool keys, const std::string& lo, const std::string& hi,
                                              int limit) override;
  Result<int64_t> TableDf(const std::string& term) override;

 private:
  SqlSession* s_;
  std::function<Result<const PendingVocabulary*>()> pending_;
};

// The AccessStore over `session`, each call under `mu` (the store's mutex).
std::unique_ptr<AccessStore> NewSqlAccessStore(SqlSession* session, std::mutex* mu);

// ------------------------------------------------ review (schema v8) --
// review_store.cc. Schema v8: review items, document history, withdrawals
// and lot sources; the same SQL on both backends (only the history's
// append-only triggers differ).
std::string SchemaV8Sql(bool postgres);
// Schema v11 (issue 14, item 5): page_replacements, append-only; the same
// SQL on both backends but for the triggers.
std::string SchemaV11Sql(bool postgres);
// Inside PutDocument's transaction, after the document's rows: its review
// items, fresh pages and history (DocumentRecord::review, when set), and
// its flags rolled up from the open items.
Status WriteDocumentReview(SqlSession& s, const DocumentRecord& doc);
// Inside Withdraw's transaction: records the withdrawal of the document
// (or of the whole lot when document_id is "") with what verify needs,
// appends the history, drops the review items, and returns the row ids of
// the documents the store must now delete (with their pages and text
// index). InvalidArgument without a reason; NotFound for an unknown lot or
// document; AlreadyExists for a document withdrawn before.
Result<std::vector<int64_t>> PrepareWithdrawal(SqlSession& s, const std::string& lot_id,
                                               const std::string& document_id, const std::string& user,
                                               const std::string& reason);
// The ReviewStore over `session`, each call under `mu`.
std::unique_ptr<ReviewStore> NewSqlReviewStore(SqlSession* session, std::mutex* mu);

}  // namespace acervo

#endif  // ACERVO_INDEXER_SRC_SQL_SESSION_H_
