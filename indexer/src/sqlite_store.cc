#include "acervo/indexer/sqlite_store.h"

#include "acervo/core/test_hooks.h"

#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "acervo/indexer/field_value.h"
#include "acervo/indexer/query.h"
#include "acervo/indexer/access_store.h"
#include "analyzer.h"
#include "forgiving.h"
#include "search_common.h"
#include "sql_filter.h"
#include "sql_session.h"
#include "sqlite_extensions.h"
#include "store_paths.h"
#include "term_index.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------ migrations --
//
// Migration N brings a database from version N-1 to N. Each runs in its own
// write transaction together with the row recording it in schema_version, so
// a crash mid-migration leaves the previous version intact. Never edit a
// migration that has shipped: add the next one.
struct Migration {
  int version;
  const char* sql;  // nullptr: `shared`
  std::string (*shared)(bool postgres) = nullptr;  // SQL both stores share (sql_session.h)
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE lots (
  id            TEXT PRIMARY KEY NOT NULL,
  project       TEXT NOT NULL DEFAULT '',
  box           TEXT NOT NULL DEFAULT '',
  operator_name TEXT NOT NULL DEFAULT '',
  description   TEXT NOT NULL DEFAULT '',
  profile_json  TEXT NOT NULL DEFAULT '',
  started_at    TEXT NOT NULL DEFAULT '',
  finished_at   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE documents (
  id                 INTEGER PRIMARY KEY,
  lot_id             TEXT NOT NULL REFERENCES lots(id) ON DELETE CASCADE,
  document_id        TEXT NOT NULL,
  document_type      TEXT NOT NULL DEFAULT '',
  document_type_norm TEXT NOT NULL DEFAULT '',
  title              TEXT NOT NULL DEFAULT '',
  pdf_path           TEXT NOT NULL DEFAULT '',
  pdf_sha256         TEXT NOT NULL DEFAULT '',
  page_count         INTEGER NOT NULL DEFAULT 0,
  flags              TEXT NOT NULL DEFAULT '[]',
  indexed_at         TEXT NOT NULL,
  UNIQUE (lot_id, document_id)
);
CREATE INDEX documents_by_type ON documents(document_type_norm);
CREATE TABLE pages (
  id              INTEGER PRIMARY KEY,
  doc_id          INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  number          INTEGER NOT NULL,
  pdf_page        INTEGER NOT NULL,
  in_pdf          INTEGER NOT NULL,
  source_path     TEXT NOT NULL DEFAULT '',
  page_in_file    INTEGER NOT NULL DEFAULT 1,
  master_path     TEXT NOT NULL DEFAULT '',
  master_sha256   TEXT NOT NULL DEFAULT '',
  text            TEXT NOT NULL DEFAULT '',
  mean_confidence REAL NOT NULL DEFAULT 0,
  skew_deg        REAL NOT NULL DEFAULT 0,
  orientation_deg REAL NOT NULL DEFAULT 0,
  blank           INTEGER NOT NULL DEFAULT 0,
  blank_score     REAL NOT NULL DEFAULT 0,
  color_class     TEXT NOT NULL DEFAULT '',
  flags           TEXT NOT NULL DEFAULT '[]',
  stages          TEXT NOT NULL DEFAULT '',
  UNIQUE (doc_id, number)
);
CREATE TABLE fields (
  doc_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal    INTEGER NOT NULL,
  name       TEXT NOT NULL,
  name_norm  TEXT NOT NULL,
  value      TEXT NOT NULL,
  value_norm TEXT NOT NULL,
  value_date TEXT,
  value_num  REAL,
  PRIMARY KEY (doc_id, ordinal)
) WITHOUT ROWID;
CREATE INDEX fields_by_value  ON fields(name_norm, value_norm);
CREATE INDEX fields_by_date   ON fields(name_norm, value_date) WHERE value_date IS NOT NULL;
CREATE INDEX fields_by_number ON fields(name_norm, value_num)  WHERE value_num IS NOT NULL;
CREATE VIRTUAL TABLE pages_fts USING fts5(
  text,
  content = 'pages', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER pages_fts_insert AFTER INSERT ON pages BEGIN
  INSERT INTO pages_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER pages_fts_delete AFTER DELETE ON pages BEGIN
  INSERT INTO pages_fts(pages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER pages_fts_update AFTER UPDATE OF text ON pages BEGIN
  INSERT INTO pages_fts(pages_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO pages_fts(rowid, text) VALUES (new.id, new.text);
END;
)sql"},
    // v2 (issue 6): where each field value came from (manifest line,
    // separator sheet, OCR page). Old rows get '' (unknown).
    {2, R"sql(
ALTER TABLE fields ADD COLUMN source TEXT NOT NULL DEFAULT '';
)sql"},
    // v3 (issue 6): the side tables of ranked retrieval ("champion lists",
    // docs/store.md): per folded term its document frequency and the pages
    // where it weighs most. Filled from the existing pages by
    // MaintainTerms(fold_all) in the same transaction (the C++ tokeniser is
    // needed, so it cannot be plain SQL).
    {3, R"sql(
CREATE TABLE term_stats (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  pages       INTEGER NOT NULL,
  tokens      INTEGER NOT NULL,
  folded_upto INTEGER NOT NULL
);
INSERT INTO term_stats (id, pages, tokens, folded_upto) VALUES (1, 0, 0, 0);
CREATE TABLE term_df (
  term   TEXT PRIMARY KEY NOT NULL,
  df     INTEGER NOT NULL,
  listed INTEGER NOT NULL,
  floor  REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE term_top (
  term    TEXT NOT NULL,
  impact  REAL NOT NULL,
  page_id INTEGER NOT NULL,
  PRIMARY KEY (term, impact, page_id)
) WITHOUT ROWID;
CREATE INDEX term_top_by_page ON term_top(page_id);
)sql"},
    // v4 (issue 3): which master page, and which part of it, each page shows
    // (two-page spreads split by `[image] split`). Old rows were each their
    // own master page, whole; their column range is unknown (width 0).
    {4, R"sql(
ALTER TABLE pages ADD COLUMN master_page INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pages ADD COLUMN part TEXT NOT NULL DEFAULT 'whole'
  CHECK (part IN ('whole', 'left', 'right'));
ALTER TABLE pages ADD COLUMN master_x INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pages ADD COLUMN master_width INTEGER NOT NULL DEFAULT 0;
UPDATE pages SET master_page = number;
)sql"},
    // v5 (issue 12): PDF and master paths relative to the output root, so an
    // archive can move; each lot remembers its root. The DDL and the rows'
    // rewrite are shared with the other store (store_paths.h).
    {5, kSchemaV5Sql},
    // v6 (issue 13): word boxes, users, groups, grants, API tokens, audit
    // trail; the same tables on both backends (sql_shared.cc).
    {6, nullptr, SchemaV6Sql},
    // v7 (issue 15): forgiving search. The text index
    // is rebuilt with the `acervo` tokenizer (the triggers of migration 1
    // name pages_fts and keep working on the new table) (analyzer.h: surface tokens plus
    // words hyphenated across line ends and identifiers joined), the term
    // tables are emptied and refilled from every page by C++ in the same
    // transaction (Migrate), with term_keys, the vocabulary's lookup keys
    // (forgiving.h). Fields get their meaning: value_key (an identifier's
    // digits) and field_words (a text value's words), filled by C++ too.
    {7, R"sql(
DROP TABLE pages_fts;
CREATE VIRTUAL TABLE pages_fts USING fts5(
  text,
  content = 'pages', content_rowid = 'id',
  tokenize = 'acervo'
);
INSERT INTO pages_fts(pages_fts) VALUES ('rebuild');
DELETE FROM term_top;
DELETE FROM term_df;
UPDATE term_stats SET pages = 0, tokens = 0, folded_upto = 0;
CREATE TABLE term_keys (
  key  TEXT NOT NULL,
  term TEXT NOT NULL,
  PRIMARY KEY (key, term)
) WITHOUT ROWID;
CREATE INDEX term_keys_by_term ON term_keys(term);
ALTER TABLE fields ADD COLUMN value_key TEXT;
CREATE INDEX fields_by_key ON fields(name_norm, value_key) WHERE value_key IS NOT NULL;
CREATE TABLE field_words (
  name_norm TEXT NOT NULL,
  word      TEXT NOT NULL,
  doc_id    INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  PRIMARY KEY (name_norm, word, doc_id)
) WITHOUT ROWID;
CREATE INDEX field_words_by_doc ON field_words(doc_id);
)sql"},
    // v8 (issue 14): review items, document history, withdrawals, lot
    // sources (review_store.cc).
    {8, nullptr, SchemaV8Sql},
    // v9 (issue 18): the work queue's tables exist on
    // PostgreSQL only (a SQLite store serves one machine, which has no
    // queue); recorded here so both stores number one logical schema.
    {9, "SELECT 1"},
    // v10 (issue 19): users.source and users.cpf
    // (sql_session.h, the same SQL on both backends).
    {10, kSchemaV10Sql},
    // v11 (issue 14, item 5): page_replacements (review_store.cc).
    {11, nullptr, SchemaV11Sql},
    // v12 (issue 13, item 11): pages_by_doc (sql_session.h).
    {12, kSchemaV12Sql},
    // v13 (issue 13, item 11; provisional number): the audit trail in a file
    // of its own (SqliteAuditTrailPath), so that a search's audit commit
    // does not empty every pooled connection's page cache of the store. The
    // rows are copied there first, in a transaction of their own
    // (CopyAuditToTrail); this migration then drops the table from the store
    // once every row is found in the trail file (DropMovedAudit).
    {13, "SELECT 1"},
    // v14 (issue 13, item 11): field_words carries its document's type, lot
    // and document id, indexed for filter-only listings (sql_session.h,
    // kSchemaV14FillSql). The columns are added by C++ where missing
    // (SQLite has no ADD COLUMN IF NOT EXISTS), then the shared SQL fills
    // and indexes them (Migrate).
    {14, "SELECT 1"},
};

static_assert(std::size(kMigrations) > 0 &&
              kMigrations[std::size(kMigrations) - 1].version == kSqliteSchemaVersion);

// ------------------------------------------------------------- utilities --

// True when `path` is on a file system mounted read-only (a disc, a
// read-only bind mount), where even root cannot write.
bool OnReadOnlyFileSystem(const fs::path& path) {
  struct statvfs st {};
  return ::statvfs(path.c_str(), &st) == 0 && (st.f_flag & ST_RDONLY) != 0;
}

bool IsBusy(int rc) {
  const int primary = rc & 0xFF;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

Status FromSqlite(int rc, sqlite3* db, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(msg + " (the database stayed busy beyond the timeout)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corrupt(msg);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return Status::IOError(msg);
    case SQLITE_CONSTRAINT:
      return Status::InvalidArgument(msg);
    default:
      return Status::Internal(msg);
  }
}

std::string FlagsToJson(const std::vector<std::string>& flags) {
  return nlohmann::json(flags).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::vector<std::string>> FlagsFromJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (j.is_discarded() || !j.is_array()) {
    return Status::Corrupt("stored flags are not a JSON array: " + std::string(text));
  }
  for (const nlohmann::json& e : j) {
    if (!e.is_string()) return Status::Corrupt("stored flag is not a string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

// A prepared statement. A cached one is owned by the store and only reset on
// destruction of this handle; an uncached one is finalized.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt, bool owned) : db_(db), stmt_(stmt), owned_(owned) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)), owned_(o.owned_) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (stmt_ == nullptr) return;
    if (owned_) {
      sqlite3_finalize(stmt_);
    } else {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  // Bind* are 1-based like SQLite. SQLITE_TRANSIENT: SQLite copies the
  // bytes, so temporaries are safe to pass.
  void Bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, const char* s) { Bind(i, std::string_view(s)); }
  void Bind(int i, const std::string& s) { Bind(i, std::string_view(s)); }
  void Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, int v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, bool v) { sqlite3_bind_int64(stmt_, i, v ? 1 : 0); }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  void Bind(int i, const Param& p) {
    std::visit([&](const auto& v) { Bind(i, v); }, p);
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  // Ready to step again (bindings kept until rebound).
  void Reset() { sqlite3_reset(stmt_); }

  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  // read(bytes, size) on the column's blob, without a copy.
  template <typename Read>
  auto Blob(int col, Read&& read) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    return read(p, sqlite3_column_bytes(stmt_, col));
  }
  int Columns() const { return sqlite3_column_count(stmt_); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool owned_;
};

// Sleeps a little, growing with the attempt, with jitter so that two
// waiting writers do not wake in lockstep.
void Backoff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  const int cap_ms = std::min(50, 1 << std::min(attempt, 6));
  std::uniform_int_distribution<int> dist(1, cap_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
}

// How a document's score combines its pages' BM25 scores: the best page
// counts fully and every other page with hits adds a quarter of its own, so
// a document whose hits are spread over several pages outranks one with a
// single equally good page, without long documents swamping the list.
constexpr double kOtherPagesWeight = 0.25;

// acervo_bm25(pages_fts, idfs): BM25 of the current row for the MATCH
// expression, the formula of FTS5's bm25() with the same k1, b and average
// page length, but with the idf of each phrase given by the caller (`idfs`:
// space-separated, one per phrase in FTS5's order; missing ones count 1)
// instead of counted. FTS5's bm25() counts each phrase's matching rows by
// reading the phrase's whole doclist once per statement, which for a word on
// half a million pages costs more than the rest of a search; the store knows
// the counts (term_df). Higher is better (bm25() is negated).
//
// The weights are parsed once per query, not per row: kept as the query's
// auxiliary data with the text they came from (a row whose argument differs
// parses it again).
struct Bm25Weights {
  std::string text;
  std::vector<double> idf;
};

// "n n n": the numbers up to the first that does not parse (the weights of
// acervo_bm25 and acervo_rank). from_chars: independent of the C
// locale (a pt_BR decimal comma).
template <typename T>
std::vector<T> ParseSpaced(std::string_view text) {
  std::vector<T> out;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    T v{};
    const std::from_chars_result r = std::from_chars(p, end, v);
    if (r.ec != std::errc()) break;
    out.push_back(v);
    p = r.ptr;
  }
  return out;
}

std::vector<double> ParseWeights(std::string_view text) { return ParseSpaced<double>(text); }

const std::vector<double>& ParsedBm25Weights(const Fts5ExtensionApi* api, Fts5Context* fts, int nval,
                                             sqlite3_value** vals, std::vector<double>* local) {
  std::string_view text;
  if (nval >= 1 && sqlite3_value_type(vals[0]) == SQLITE_TEXT) {
    text = std::string_view(reinterpret_cast<const char*>(sqlite3_value_text(vals[0])),
                            static_cast<size_t>(sqlite3_value_bytes(vals[0])));
  }
  auto* cached = static_cast<Bm25Weights*>(api->xGetAuxdata(fts, 0));
  if (cached != nullptr && cached->text == text) return cached->idf;
  auto* parsed = new Bm25Weights{std::string(text), ParseWeights(text)};
  // xSetAuxdata frees the query's previous data; when it fails it deletes
  // the new data itself: then this row parses for itself.
  if (api->xSetAuxdata(fts, parsed, [](void* w) { delete static_cast<Bm25Weights*>(w); }) != SQLITE_OK) {
    *local = ParseWeights(text);
    return *local;
  }
  return parsed->idf;
}

// Each phrase's count of instances on the current row (`tf`, per phrase in
// FTS5's order). Counted phrase by phrase (xPhraseFirst/xPhraseNext): the
// same instances as xInst gives (both read FTS5's per-phrase position
// lists, NEAR applied), without xInstCount's merge of every phrase's list
// into one array, a pass over all phrases per instance (an expanded prefix
// or a word's variants are dozens of phrases). An SQLite error code on
// failure.
int RowPhraseCounts(const Fts5ExtensionApi* api, Fts5Context* fts, std::vector<int>* tf) {
  const int nphrase = api->xPhraseCount(fts);
  tf->assign(static_cast<size_t>(std::max(nphrase, 0)), 0);
  for (int i = 0; i < nphrase; ++i) {
    Fts5PhraseIter it;
    int col = 0, off = 0;
    const int rc = api->xPhraseFirst(fts, i, &it, &col, &off);
    if (rc != SQLITE_OK) return rc;
    int n = 0;
    for (; col >= 0; api->xPhraseNext(fts, &it, &col, &off)) ++n;
    (*tf)[static_cast<size_t>(i)] = n;
  }
  return SQLITE_OK;
}

// A page's BM25 from its phrase counts: Σ idf × Bm25Factor, the phrases in
// order (a phrase past `idf` weighs 1). The one formula of acervo_bm25,
// acervo_rank and a scored document's pages (acervo_tf), so each gives the
// same double.
double PageBm25(const std::vector<double>& idf, const std::vector<int>& tf, int len, double avg) {
  double score = 0;
  for (size_t i = 0; i < tf.size(); ++i) score += (i < idf.size() ? idf[i] : 1.0) * Bm25Factor(tf[i], len, avg);
  return score;
}

// The average page length FTS5's bm25() uses (1 for an empty index).
double AveragePageLength(sqlite3_int64 rows, sqlite3_int64 total) {
  return rows > 0 ? static_cast<double>(total) / static_cast<double>(rows) : 1;
}

// The current row's BM25 (acervo_bm25) with `idf`, and each phrase's count
// of instances on it (`tf`, per phrase). An SQLite error code on failure.
int RowBm25(const Fts5ExtensionApi* api, Fts5Context* fts, const std::vector<double>& idf, std::vector<int>* tf,
            double* score) {
  int rc = RowPhraseCounts(api, fts, tf);
  int len = 0;
  sqlite3_int64 rows = 0, total = 0;
  if (rc == SQLITE_OK) rc = api->xColumnSize(fts, 0, &len);
  if (rc == SQLITE_OK) rc = api->xRowCount(fts, &rows);
  if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, 0, &total);
  if (rc != SQLITE_OK) return rc;
  *score = PageBm25(idf, *tf, len, AveragePageLength(rows, total));
  return SQLITE_OK;
}

void AcervoBm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int nval,
                sqlite3_value** vals) {
  std::vector<double> local;
  const std::vector<double>& idf = ParsedBm25Weights(api, fts, nval, vals, &local);
  std::vector<int> tf;
  double score = 0;
  const int rc = RowBm25(api, fts, idf, &tf, &score);
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  sqlite3_result_double(ctx, score);
}

// acervo_rank(pages_fts, idfs): acervo_bm25 and acervo_phrases of the
// current row from one reading of its phrase instances, as a blob
// (RankBlob): the score's 8 bytes, then each phrase found as a 4-byte
// index, ascending. A document scored for a search reads both for each of
// its matching pages; one call instead of two spares the second pass over
// the instances and the text the caller had to parse back.
void AcervoRank(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int nval, sqlite3_value** vals) {
  std::vector<double> local;
  const std::vector<double>& idf = ParsedBm25Weights(api, fts, nval, vals, &local);
  std::vector<int> tf;
  double score = 0;
  const int rc = RowBm25(api, fts, idf, &tf, &score);
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  std::vector<unsigned char> blob(sizeof(double));
  std::memcpy(blob.data(), &score, sizeof(double));
  for (size_t i = 0; i < tf.size(); ++i) {
    if (tf[i] == 0) continue;
    const int32_t index = static_cast<int32_t>(i);
    const size_t at = blob.size();
    blob.resize(at + sizeof(index));
    std::memcpy(blob.data() + at, &index, sizeof(index));
  }
  sqlite3_result_blob(ctx, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
}

// acervo_tf(pages_fts): what acervo_rank computes a row's score from,
// without the page's length, as a blob (TfBlob): the index's page count and
// token total (8 bytes each: the average page length), then each phrase's
// count of instances on the row (4 bytes each, FTS5's order). For a scored
// document's pages: FTS5's xColumnSize reads each page's length from
// pages_fts_docsize by a statement of its own (a b-tree descent a page);
// the caller reads the document's lengths in one range (DocPageLengths).
//
// The totals are read once per query (kept as its auxiliary data): they
// do not change while a statement runs, and each read costs about what
// counting a page's phrases does.
void AcervoTf(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int, sqlite3_value**) {
  struct Totals {
    sqlite3_int64 rows = 0, total = 0;
  };
  std::vector<int> tf;
  int rc = RowPhraseCounts(api, fts, &tf);
  Totals local;
  const Totals* totals = static_cast<const Totals*>(api->xGetAuxdata(fts, 0));
  if (rc == SQLITE_OK && totals == nullptr) {
    rc = api->xRowCount(fts, &local.rows);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, 0, &local.total);
    totals = &local;
    // When keeping them fails, xSetAuxdata deletes the copy itself: the
    // next row reads them again.
    if (rc == SQLITE_OK) api->xSetAuxdata(fts, new Totals(local), [](void* t) { delete static_cast<Totals*>(t); });
  }
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  std::vector<unsigned char> blob(2 * sizeof(int64_t) + tf.size() * sizeof(int32_t));
  const int64_t head[2] = {totals->rows, totals->total};
  std::memcpy(blob.data(), head, sizeof(head));
  for (size_t i = 0; i < tf.size(); ++i) {
    const int32_t n = tf[i];
    std::memcpy(blob.data() + sizeof(head) + i * sizeof(n), &n, sizeof(n));
  }
  sqlite3_result_blob(ctx, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
}

// acervo_phrases(pages_fts): the phrases of the MATCH expression found on
// the current row, as space-separated indexes in FTS5's order ("0 3"):
// which query terms and which of their variants matched on the page.
void AcervoPhrases(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int, sqlite3_value**) {
  const int nphrase = api->xPhraseCount(fts);
  std::vector<char> found(static_cast<size_t>(std::max(nphrase, 0)), 0);
  int ninst = 0;
  int rc = api->xInstCount(fts, &ninst);
  for (int i = 0; rc == SQLITE_OK && i < ninst; ++i) {
    int phrase = 0, col = 0, off = 0;
    rc = api->xInst(fts, i, &phrase, &col, &off);
    if (rc == SQLITE_OK && phrase >= 0 && phrase < nphrase) found[static_cast<size_t>(phrase)] = 1;
  }
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  std::string out;
  for (size_t i = 0; i < found.size(); ++i) {
    if (!found[i]) continue;
    if (!out.empty()) out += ' ';
    out += std::to_string(i);
  }
  sqlite3_result_text(ctx, out.c_str(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

// acervo_rank's blob read back: the score and the phrases found. A blob
// shorter than a double (NULL) scores 0 with no phrase.
struct RankBlob {
  double score = 0;
  std::vector<int> phrases;
};
// acervo_tf's blob read back (empty tf for a NULL or short blob).
struct TfBlob {
  int64_t rows = 0, total = 0;
  std::vector<int> tf;
};
TfBlob ReadTfBlob(const void* data, int bytes) {
  TfBlob r;
  const auto* p = static_cast<const unsigned char*>(data);
  const size_t n = data == nullptr ? 0 : static_cast<size_t>(std::max(bytes, 0));
  if (n < 2 * sizeof(int64_t)) return r;
  std::memcpy(&r.rows, p, sizeof(int64_t));
  std::memcpy(&r.total, p + sizeof(int64_t), sizeof(int64_t));
  r.tf.reserve((n - 2 * sizeof(int64_t)) / sizeof(int32_t));
  for (size_t at = 2 * sizeof(int64_t); at + sizeof(int32_t) <= n; at += sizeof(int32_t)) {
    int32_t v = 0;
    std::memcpy(&v, p + at, sizeof(v));
    r.tf.push_back(v);
  }
  return r;
}

// A pages_fts_docsize row's `sz`: FTS5's page length per column, each an
// SQLite varint (fts5StorageDecodeSizeArray); the table has one column.
// nullopt when the blob does not hold one.
std::optional<int> DecodeDocsize(const void* data, int bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  const int n = data == nullptr ? 0 : bytes;
  uint64_t v = 0;
  for (int i = 0; i < n && i < 9; ++i) {
    if (i == 8) return static_cast<int>((v << 8) | p[i]);
    v = (v << 7) | (p[i] & 0x7f);
    if ((p[i] & 0x80) == 0) {
      if (v > static_cast<uint64_t>(std::numeric_limits<int>::max())) return std::nullopt;
      return static_cast<int>(v);
    }
  }
  return std::nullopt;
}

RankBlob ReadRankBlob(const void* data, int bytes) {
  RankBlob r;
  const auto* p = static_cast<const unsigned char*>(data);
  const size_t n = data == nullptr ? 0 : static_cast<size_t>(std::max(bytes, 0));
  if (n < sizeof(double)) return r;
  std::memcpy(&r.score, p, sizeof(double));
  for (size_t at = sizeof(double); at + sizeof(int32_t) <= n; at += sizeof(int32_t)) {
    int32_t index = 0;
    std::memcpy(&index, p + at, sizeof(index));
    r.phrases.push_back(index);
  }
  return r;
}

// The `acervo` FTS5 tokenizer: the shared analyzer (analyzer.h). Documents
// (and snippets' re-reads) get every token, the joined ones colocated with
// their first part; queries get the surface tokens only (ParseQuery and the
// expansion hand FTS5 words already folded and split).
struct AcervoTokenizer {};

int TokenizerCreate(void*, const char**, int, Fts5Tokenizer** out) {
  *out = reinterpret_cast<Fts5Tokenizer*>(new AcervoTokenizer());
  return SQLITE_OK;
}

void TokenizerDelete(Fts5Tokenizer* t) { delete reinterpret_cast<AcervoTokenizer*>(t); }

int TokenizerTokenize(Fts5Tokenizer*, void* ctx, int flags, const char* text, int n,
                      int (*token)(void*, int, const char*, int, int, int)) {
  const bool query = (flags & FTS5_TOKENIZE_QUERY) != 0;
  for (const TextToken& t : AnalyzeText(std::string_view(text, static_cast<size_t>(std::max(n, 0))))) {
    const bool joined = t.kind != TextToken::Kind::kWord;
    if (query && joined) continue;
    const int rc = token(ctx, joined ? FTS5_TOKEN_COLOCATED : 0, t.term.data(), static_cast<int>(t.term.size()),
                         static_cast<int>(t.begin), static_cast<int>(t.end));
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

}  // namespace

// Registers acervo_bm25, acervo_phrases, acervo_rank, acervo_tf and the acervo tokenizer on the
// connection (FTS5's API pointer is obtained with the documented
// `SELECT fts5(?1)` handshake).
Status RegisterSqliteExtensions(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (api == nullptr || api->iVersion < 2) {
    return Status::Internal("this SQLite has no usable FTS5 (needed for the text index)");
  }
  rc = api->xCreateFunction(api, "acervo_bm25", nullptr, &AcervoBm25, nullptr);
  if (rc != SQLITE_OK) return FromSqlite(rc, db, "register acervo_bm25");
  rc = api->xCreateFunction(api, "acervo_phrases", nullptr, &AcervoPhrases, nullptr);
  if (rc != SQLITE_OK) return FromSqlite(rc, db, "register acervo_phrases");
  rc = api->xCreateFunction(api, "acervo_rank", nullptr, &AcervoRank, nullptr);
  if (rc != SQLITE_OK) return FromSqlite(rc, db, "register acervo_rank");
  rc = api->xCreateFunction(api, "acervo_tf", nullptr, &AcervoTf, nullptr);
  if (rc != SQLITE_OK) return FromSqlite(rc, db, "register acervo_tf");
  static fts5_tokenizer tokenizer = {&TokenizerCreate, &TokenizerDelete, &TokenizerTokenize};
  rc = api->xCreateTokenizer(api, "acervo", nullptr, &tokenizer, nullptr);
  if (rc != SQLITE_OK) return FromSqlite(rc, db, "register the acervo tokenizer");
  return Status::OK();
}

namespace {

// The URI a read-only open uses for `path`: mode=ro, or immutable=1 where
// the file or its folder cannot be written (no -shm could be made).
std::string SqliteReadOnlyName(const fs::path& path, bool writable) {
  std::string uri = "file:";
  for (unsigned char c : fs::absolute(path).string()) {
    // Percent-encode what a URI path cannot hold as is.
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  return uri + (writable ? "?mode=ro" : "?immutable=1");
}

// ----------------------------------------------------------------- store --

// SQLite's memory statistics off, before the library initialises (static
// initialisation: no other thread yet). With them on, every sqlite3_malloc
// and sqlite3_free takes one process-wide mutex, and Debian's build has no
// lookaside allocator (SQLITE_OMIT_LOOKASIDE): a search server's
// connections all allocate through that one lock. Nothing here reads the
// statistics (sqlite3_memory_used, soft heap limits). If the library was
// initialised first, the call fails and changes nothing.
[[maybe_unused]] const int kSqliteMemstatusOff = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, fs::path path, SqliteOptions options)
      : db_(db), path_(std::move(path)), options_(options), session_(this),
        access_(NewSqlAccessStore(&session_, &mu_)), review_(NewSqlReviewStore(&session_, &mu_)) {}

  ~SqliteStore() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Status Init() {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(options_.busy_timeout.count()));
    if (options_.read_only) {
      // Nothing written: no journal mode change, no migration. The rank
      // function and the text index's tokenizer are registered all the same.
      ACERVO_RETURN_IF_ERROR(RegisterSqliteExtensions(db_));
      ACERVO_RETURN_IF_ERROR(CheckReadableVersion());
      ACERVO_RETURN_IF_ERROR(AttachTrail());
      // A temporary table lives in the connection's own temp database:
      // allowed on a read-only file (facets and the allow-list need them).
      ACERVO_RETURN_IF_ERROR(Exec(kCreateAllowedLotsSql));
      return Exec(kCreateFacetIdsSql);
    }
    // journal_mode needs a lock and may meet SQLITE_BUSY without consulting
    // the busy handler while another process creates the file: retry.
    ACERVO_RETURN_IF_ERROR(ExecRetrying("PRAGMA journal_mode = WAL"));
    ACERVO_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys = ON"));
    // Not for read-only opens (above): an archive on a disc or a read-only
    // mount is where a bad sector must stay an error naming the store, not
    // a SIGBUS from a mapped page.
    if (options_.mmap_bytes > 0) {
      ACERVO_RETURN_IF_ERROR(Exec(("PRAGMA mmap_size = " + std::to_string(options_.mmap_bytes)).c_str()));
    }
    // 64 MB of page cache: FTS5 segment merges and the field indexes touch
    // far more pages than the 2 MB default holds once the index is large.
    ACERVO_RETURN_IF_ERROR(Exec("PRAGMA cache_size = -65536"));
    ACERVO_RETURN_IF_ERROR(
        Exec(options_.durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
    ACERVO_RETURN_IF_ERROR(RegisterSqliteExtensions(db_));
    ACERVO_RETURN_IF_ERROR(Migrate());
    if (!trail_attached_) ACERVO_RETURN_IF_ERROR(AttachTrail());
    ACERVO_RETURN_IF_ERROR(Exec(kCreateAllowedLotsSql));
    return Exec(kCreateFacetIdsSql);
  }

  Status Optimize() override {
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_RETURN_IF_ERROR(WriteTransaction("optimize the text index", [&]() -> Status {
      return Exec("INSERT INTO pages_fts(pages_fts) VALUES ('optimize')");
    }));
    return Exec("PRAGMA optimize");
  }

  Status UpsertLot(const LotRecord& lot) override {
    if (lot.id.empty()) return Status::InvalidArgument("lot id is empty");
    std::lock_guard<std::mutex> lock(mu_);
    return WriteTransaction("store lot " + lot.id, [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(R"sql(
        INSERT INTO lots (id, project, box, operator_name, description, profile_json,
                          started_at, finished_at, output_root)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET
          project = excluded.project, box = excluded.box,
          operator_name = excluded.operator_name, description = excluded.description,
          profile_json = excluded.profile_json, started_at = excluded.started_at,
          finished_at = excluded.finished_at, output_root = excluded.output_root)sql"));
      s.Bind(1, lot.id);
      s.Bind(2, lot.project);
      s.Bind(3, lot.box);
      s.Bind(4, lot.operator_name);
      s.Bind(5, lot.description);
      s.Bind(6, lot.profile_json);
      s.Bind(7, lot.started_at);
      s.Bind(8, lot.finished_at);
      s.Bind(9, lot.output_root);
      return Done(s, "store lot " + lot.id);
    });
  }

  Status PutDocument(const DocumentRecord& doc) override {
    ACERVO_RETURN_IF_ERROR(Validate(doc));
    const std::string what = "store document " + doc.lot_id + "/" + doc.document_id;
    std::lock_guard<std::mutex> lock(mu_);
    return WriteTransaction(what, [&]() -> Status {
      terms_.Clear();
      ACERVO_RETURN_IF_ERROR(PutDocumentLocked(doc, what));
      ACERVO_RETURN_IF_ERROR(MaintainTerms(what, /*fold_all=*/false));
      TestPauseAt("store-commit");  // test-only kill point: rows written, COMMIT pending
      return Status::OK();
    });
  }

  Status PutDocuments(const std::vector<DocumentRecord>& docs) override {
    for (const DocumentRecord& d : docs) ACERVO_RETURN_IF_ERROR(Validate(d));
    std::lock_guard<std::mutex> lock(mu_);
    return WriteTransaction("store " + std::to_string(docs.size()) + " documents", [&]() -> Status {
      terms_.Clear();
      for (const DocumentRecord& d : docs) {
        ACERVO_RETURN_IF_ERROR(PutDocumentLocked(d, "store document " + d.lot_id + "/" + d.document_id));
      }
      return MaintainTerms("store " + std::to_string(docs.size()) + " documents", /*fold_all=*/false);
    });
  }

  Result<std::optional<DocumentRecord>> GetDocument(const std::string& lot_id,
                                                    const std::string& document_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ReadTransaction tx(this);
    ACERVO_RETURN_IF_ERROR(tx.status());
    ACERVO_ASSIGN_OR_RETURN(
        Stmt s, Prepare("SELECT id FROM documents WHERE lot_id = ? AND document_id = ?"));
    s.Bind(1, lot_id);
    s.Bind(2, document_id);
    const int rc = s.Step();
    if (rc == SQLITE_DONE) return std::optional<DocumentRecord>();
    if (rc != SQLITE_ROW) return FromSqlite(rc, db_, "read document " + lot_id + "/" + document_id);
    ACERVO_ASSIGN_OR_RETURN(DocumentRecord doc, LoadDocument(s.Int(0), /*with_text=*/true));
    return std::optional<DocumentRecord>(std::move(doc));
  }

  Result<std::vector<DocumentRecord>> ListDocuments(const std::string& lot_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ReadTransaction tx(this);
    ACERVO_RETURN_IF_ERROR(tx.status());
    ACERVO_ASSIGN_OR_RETURN(
        Stmt s, Prepare("SELECT id FROM documents WHERE lot_id = ? ORDER BY document_id"));
    s.Bind(1, lot_id);
    std::vector<int64_t> ids;
    ACERVO_RETURN_IF_ERROR(ForEachRow(s, "list documents of " + lot_id,
                                      [&] { ids.push_back(s.Int(0)); }));
    std::vector<DocumentRecord> out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
      ACERVO_ASSIGN_OR_RETURN(DocumentRecord doc, LoadDocument(id, /*with_text=*/false));
      out.push_back(std::move(doc));
    }
    return out;
  }

  Result<std::vector<SearchHit>> Search(const SearchRequest& request) override {
    ACERVO_RETURN_IF_ERROR(CheckLimits(request));
    ACERVO_ASSIGN_OR_RETURN(ParsedQuery query, ParseQuery(request.query));

    // Document-level conditions, ANDed, over the documents row `d`; the
    // same with the allow-list read from kAllowedLotsTable, for the check
    // run once per candidate document (an IN list is rebuilt at every run).
    // (Only there: given the table, SQLite's planner guesses the allow-list
    // small and drives whole-filter scans from it.)
    ACERVO_ASSIGN_OR_RETURN(SqlParts where, DocumentFilterWithAccess(request, query, "1"));
    ACERVO_ASSIGN_OR_RETURN(SqlParts per_document, DocumentFilterWithAccess(request, query, "1", kAllowedLotsTable));
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_RETURN_IF_ERROR(LoadAllowedLots(request));
    ReadTransaction tx(this);
    ACERVO_RETURN_IF_ERROR(tx.status());
    SessionVocabulary vocab = StoreVocabulary();
    ACERVO_ASSIGN_OR_RETURN(ExpandedQuery expanded, CheckAndExpand(session_, vocab, request, query));
    Result<std::vector<SearchHit>> hits = Status::OK();
    if (request.sort != SearchRequest::Sort::kRelevance) {
      hits = ListByDate(expanded, where, request);
    } else if (!expanded.query.required_fts.empty()) {
      hits = RankTopK(expanded, where, per_document, request.limit, request.offset);
    } else {
      // Listed, not ranked. A text-valued field condition ANDed at the top
      // drives the statement as a join (below): the rest of the filter is
      // compiled without it.
      // With a type ANDed at the top too, the driver's index range holds
      // exactly the documents of that type, in listing order (schema v14).
      ParsedQuery rest = query;
      const ListingDrivers drivers = TakeListingDrivers(&rest);
      const std::optional<QueryPredicate>& driver = drivers.field;
      const std::optional<QueryPredicate>& type = drivers.type;
      if (driver) {
        ACERVO_ASSIGN_OR_RETURN(where, DocumentFilterWithAccess(request, rest, "1"));
      }
      // A document must have no page matching an excluded clause.
      for (const std::string& fts : expanded.query.excluded_fts) {
        where.sql += std::string(" AND d.id NOT IN ") + kPagesMatching;
        where.params.push_back(fts);
      }
      hits = ListMatching(where, request.limit, request.offset, driver ? &*driver : nullptr,
                          type ? &type->value : nullptr);
    }
    return PlainQueryError(std::move(hits));
  }

  Result<SearchFacets> Facets(const SearchRequest& request) override {
    ACERVO_ASSIGN_OR_RETURN(ParsedQuery query, ParseQuery(request.query));
    ACERVO_ASSIGN_OR_RETURN(SqlParts where, DocumentFilterWithAccess(request, query, "1"));
    std::lock_guard<std::mutex> lock(mu_);
    ReadTransaction tx(this);
    ACERVO_RETURN_IF_ERROR(tx.status());
    SessionVocabulary vocab = StoreVocabulary();
    ACERVO_ASSIGN_OR_RETURN(ExpandedQuery expanded, CheckAndExpand(session_, vocab, request, query));
    return PlainQueryError(ComputeFacets(session_, MatchingDocuments(expanded.query, where)));
  }

  Result<std::optional<PageWords>> GetPageWords(const std::string& lot_id, const std::string& document_id,
                                                int number) override {
    std::lock_guard<std::mutex> lock(mu_);
    return ReadPageWords(session_, lot_id, document_id, number);
  }

  Result<std::vector<LotSummary>> LotSummaries() override {
    std::lock_guard<std::mutex> lock(mu_);
    ReadTransaction tx(this);
    ACERVO_RETURN_IF_ERROR(tx.status());
    return ReadLotSummaries(session_);
  }

  AccessStore& Access() override { return *access_; }
  ReviewStore& Review() override { return *review_; }

  Result<int> Withdraw(const std::string& lot_id, const std::string& document_id, const std::string& user,
                       const std::string& reason) override {
    const std::string what = "withdraw " + lot_id + (document_id.empty() ? "" : "/" + document_id);
    int n = 0;
    std::lock_guard<std::mutex> lock(mu_);
    Status s = WriteTransaction(what, [&]() -> Status {
      terms_.Clear();
      ACERVO_ASSIGN_OR_RETURN(std::vector<int64_t> ids, PrepareWithdrawal(session_, lot_id, document_id, user, reason));
      for (int64_t id : ids) ACERVO_RETURN_IF_ERROR(DeleteDocumentRow(id, what));
      n = static_cast<int>(ids.size());
      return MaintainTerms(what, /*fold_all=*/false);
    });
    ACERVO_RETURN_IF_ERROR(s);
    return n;
  }

  Result<std::vector<LotRecord>> ListLots() override {
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT id, project, box, operator_name, description, profile_json, "
                                            "started_at, finished_at, output_root FROM lots ORDER BY id"));
    std::vector<LotRecord> lots;
    ACERVO_RETURN_IF_ERROR(ForEachRow(s, "list lots", [&] {
      lots.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6), s.Text(7),
                      s.Text(8)});
    }));
    return lots;
  }

  Result<StoreStats> Stats() override {
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT (SELECT count(*) FROM lots), "
                                            "(SELECT count(*) FROM documents), "
                                            "(SELECT count(*) FROM pages)"));
    const int rc = s.Step();
    if (rc != SQLITE_ROW) return FromSqlite(rc, db_, "count store rows");
    StoreStats stats;
    stats.lots = s.Int(0);
    stats.documents = s.Int(1);
    stats.pages = s.Int(2);
    return stats;
  }

 private:
  // The request's allow-list as the rows of kAllowedLotsTable (kept while
  // the next request on this connection has the same list: a pooled
  // connection mostly serves one user's searches). Written in a
  // transaction of its own on the connection's temporary database, before
  // the search's read transaction (whose rollback would undo it); callers
  // hold mu_.
  static constexpr const char* kAllowedLotsTable = "temp.acervo_allowed_lots";
  static constexpr const char* kCreateAllowedLotsSql =
      "CREATE TEMP TABLE IF NOT EXISTS acervo_allowed_lots (id TEXT PRIMARY KEY) WITHOUT ROWID";
  Status LoadAllowedLots(const SearchRequest& request) {
    if (!request.allowed_lots || request.allowed_lots->empty()) return Status::OK();
    if (allowed_loaded_ == *request.allowed_lots) return Status::OK();
    allowed_loaded_.reset();
    ACERVO_RETURN_IF_ERROR(Exec("BEGIN"));
    Status s = [&]() -> Status {
      ACERVO_RETURN_IF_ERROR(Exec("DELETE FROM temp.acervo_allowed_lots"));
      ACERVO_ASSIGN_OR_RETURN(Stmt ins, Prepare("INSERT OR IGNORE INTO temp.acervo_allowed_lots (id) VALUES (?)"));
      for (const std::string& lot : *request.allowed_lots) {
        ins.Bind(1, lot);
        const int rc = ins.Step();
        if (rc != SQLITE_DONE) return FromSqlite(rc, db_, "search: allowed lots");
        ins.Reset();
      }
      return Status::OK();
    }();
    if (s.ok()) s = Exec("COMMIT");
    if (!s.ok()) {
      ExecRc("ROLLBACK");
      return s;
    }
    allowed_loaded_ = *request.allowed_lots;
    return Status::OK();
  }

  // A read transaction for a consistent view across several statements;
  // rolled back (nothing to keep) on destruction.
  class ReadTransaction {
   public:
    explicit ReadTransaction(SqliteStore* store) : store_(store) {
      status_ = store_->Exec("BEGIN");
    }
    ~ReadTransaction() {
      if (status_.ok()) sqlite3_exec(store_->db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    const Status& status() const { return status_; }

   private:
    SqliteStore* store_;
    Status status_;
  };

  static Status Validate(const DocumentRecord& doc) {
    if (doc.lot_id.empty()) return Status::InvalidArgument("document without a lot id");
    if (doc.document_id.empty()) {
      return Status::InvalidArgument("document of lot " + doc.lot_id + " without a document id");
    }
    const std::string who = doc.lot_id + "/" + doc.document_id;
    std::vector<int> numbers;
    for (const PageRecord& p : doc.pages) {
      const std::string page = who + " page " + std::to_string(p.number);
      if (p.number < 1) return Status::InvalidArgument(page + ": page numbers start at 1");
      if (p.in_pdf && p.pdf_page < 1) {
        return Status::InvalidArgument(page + ": a page in the PDF needs its pdf_page");
      }
      if (!p.in_pdf && p.pdf_page != 0) {
        return Status::InvalidArgument(page + ": a page left out of the PDF has pdf_page 0");
      }
      ACERVO_RETURN_IF_ERROR(ValidatePagePart(p, page));
      numbers.push_back(p.number);
    }
    std::sort(numbers.begin(), numbers.end());
    if (std::adjacent_find(numbers.begin(), numbers.end()) != numbers.end()) {
      return Status::InvalidArgument(who + ": two pages with the same number");
    }
    for (const FieldRecord& f : doc.fields) {
      if (NormalizeFieldValue(f.name).empty()) {
        return Status::InvalidArgument(who + ": a field with an empty name");
      }
    }
    return Status::OK();
  }

  // Removes one document row with its pages (out of the text index and the
  // term lists first) and fields, inside the caller's write transaction.
  Status DeleteDocumentRow(int64_t id, const std::string& what) {
    ACERVO_RETURN_IF_ERROR(UnindexPages(id, what));
    // Pages one by one so that the FTS delete trigger sees each row's old text.
    for (const char* sql : {"DELETE FROM pages WHERE doc_id = ?", "DELETE FROM fields WHERE doc_id = ?",
                            "DELETE FROM field_words WHERE doc_id = ?", "DELETE FROM documents WHERE id = ?"}) {
      ACERVO_ASSIGN_OR_RETURN(Stmt d, Prepare(sql));
      d.Bind(1, id);
      ACERVO_RETURN_IF_ERROR(Done(d, what));
    }
    return Status::OK();
  }

  Status PutDocumentLocked(const DocumentRecord& doc, const std::string& what) {
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT 1 FROM lots WHERE id = ?"));
      s.Bind(1, doc.lot_id);
      const int rc = s.Step();
      if (rc == SQLITE_DONE) {
        return Status::NotFound(what + ": lot " + doc.lot_id +
                                " is not in the store (UpsertLot it first)");
      }
      if (rc != SQLITE_ROW) return FromSqlite(rc, db_, what);
    }
    {
      // Replace: the old version goes first, pages one by one so that the
      // FTS delete trigger sees each row's old text.
      ACERVO_ASSIGN_OR_RETURN(
          Stmt s, Prepare("SELECT id FROM documents WHERE lot_id = ? AND document_id = ?"));
      s.Bind(1, doc.lot_id);
      s.Bind(2, doc.document_id);
      const int rc = s.Step();
      if (rc == SQLITE_ROW) {
        ACERVO_RETURN_IF_ERROR(DeleteDocumentRow(s.Int(0), what));
      } else if (rc != SQLITE_DONE) {
        return FromSqlite(rc, db_, what);
      }
    }
    int64_t doc_row;
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(R"sql(
        INSERT INTO documents (lot_id, document_id, document_type, document_type_norm, title,
                               pdf_path, pdf_sha256, page_count, flags, indexed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))sql"));
      s.Bind(1, doc.lot_id);
      s.Bind(2, doc.document_id);
      s.Bind(3, doc.document_type);
      s.Bind(4, NormalizeFieldValue(doc.document_type));
      s.Bind(5, doc.title);
      s.Bind(6, doc.pdf_path);
      s.Bind(7, doc.pdf_sha256);
      s.Bind(8, doc.page_count);
      s.Bind(9, FlagsToJson(doc.flags));
      ACERVO_RETURN_IF_ERROR(Done(s, what));
      doc_row = sqlite3_last_insert_rowid(db_);
    }
    for (size_t i = 0; i < doc.fields.size(); ++i) {
      const FieldRecord& f = doc.fields[i];
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(R"sql(
        INSERT INTO fields (doc_id, ordinal, name, name_norm, value, value_norm, value_date,
                            value_num, source, value_key)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql"));
      s.Bind(9, f.source);
      if (std::optional<std::string> key = FieldKey(f.value)) {
        s.Bind(10, *key);
      } else {
        s.BindNull(10);
      }
      s.Bind(1, doc_row);
      s.Bind(2, static_cast<int64_t>(i));
      s.Bind(3, f.name);
      s.Bind(4, NormalizeFieldValue(f.name));
      s.Bind(5, f.value);
      s.Bind(6, NormalizeFieldValue(f.value));
      if (std::optional<std::string> date = ParseIsoDate(f.value)) {
        s.Bind(7, *date);
      } else {
        s.BindNull(7);
      }
      if (std::optional<double> num = ParseNumber(f.value)) {
        s.Bind(8, *num);
      } else {
        s.BindNull(8);
      }
      ACERVO_RETURN_IF_ERROR(Done(s, what + " field " + f.name));
      ACERVO_RETURN_IF_ERROR(PutFieldWords(doc_row, &doc, NormalizeFieldValue(f.name), f.value, what));
    }
    for (const PageRecord& p : doc.pages) {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(R"sql(
        INSERT INTO pages (doc_id, number, pdf_page, in_pdf, source_path, page_in_file,
                           master_path, master_sha256, text, mean_confidence, skew_deg,
                           orientation_deg, blank, blank_score, color_class, flags, stages,
                           master_page, part, master_x, master_width)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql"));
      s.Bind(1, doc_row);
      s.Bind(2, p.number);
      s.Bind(3, p.pdf_page);
      s.Bind(4, p.in_pdf);
      s.Bind(5, p.source_path);
      s.Bind(6, p.page_in_file);
      s.Bind(7, p.master_path);
      s.Bind(8, p.master_sha256);
      s.Bind(9, p.text);
      s.Bind(10, p.mean_confidence);
      s.Bind(11, p.skew_deg);
      s.Bind(12, p.orientation_deg);
      s.Bind(13, p.blank);
      s.Bind(14, p.blank_score);
      s.Bind(15, p.color_class);
      s.Bind(16, FlagsToJson(p.flags));
      s.Bind(17, p.stages);
      s.Bind(18, p.master_page > 0 ? p.master_page : p.number);
      s.Bind(19, p.part);
      s.Bind(20, p.master_x);
      s.Bind(21, p.master_width);
      ACERVO_RETURN_IF_ERROR(Done(s, what + " page " + std::to_string(p.number)));
      if (p.image_width > 0 || !p.words.empty()) {
        const int64_t page_row = sqlite3_last_insert_rowid(db_);
        ACERVO_ASSIGN_OR_RETURN(
            Stmt w, Prepare("INSERT INTO page_words (page_id, width, height, words) VALUES (?, ?, ?, ?)"));
        w.Bind(1, page_row);
        w.Bind(2, p.image_width);
        w.Bind(3, p.image_height);
        w.Bind(4, EncodeWordBoxes(p.words));
        ACERVO_RETURN_IF_ERROR(Done(w, what + " page " + std::to_string(p.number) + " words"));
      }
    }
    return WriteDocumentReview(session_, doc);  // review items, history, flags (schema v8)
  }

  // A text field's words, for `name:word` (field_words), with the
  // document's type, lot and id (schema v14: the filter-only listing's
  // index). `doc` is null only in migration 7, before those columns exist
  // (migration 14 fills them).
  Status PutFieldWords(int64_t doc_row, const DocumentRecord* doc, const std::string& name_norm,
                       std::string_view value, const std::string& what) {
    const char* sql = doc == nullptr ? "INSERT OR IGNORE INTO field_words (name_norm, word, doc_id) VALUES (?, ?, ?)"
                                     : "INSERT OR IGNORE INTO field_words (name_norm, word, doc_id, "
                                       "document_type_norm, lot_id, document_id) VALUES (?, ?, ?, ?, ?, ?)";
    const std::string type_norm = doc == nullptr ? std::string() : NormalizeFieldValue(doc->document_type);
    for (const std::string& w : FieldWords(value)) {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(sql));
      s.Bind(1, name_norm);
      s.Bind(2, w);
      s.Bind(3, doc_row);
      if (doc != nullptr) {
        s.Bind(4, type_norm);  // as documents.document_type_norm (PutDocument)
        s.Bind(5, doc->lot_id);
        s.Bind(6, doc->document_id);
      }
      ACERVO_RETURN_IF_ERROR(Done(s, what));
    }
    return Status::OK();
  }

  // Migration 14: field_words' document columns, added where missing (a
  // store a test took back below 14 by hand may still have them), then
  // filled and indexed by the SQL both backends share.
  Status AddFieldWordsListing(const std::string& what) {
    for (const char* column : {"document_type_norm", "lot_id", "document_id"}) {
      ACERVO_ASSIGN_OR_RETURN(
          Stmt q, Prepare("SELECT count(*) FROM pragma_table_info('field_words') WHERE name = ?", false));
      q.Bind(1, column);
      const int rc = q.Step();
      if (rc != SQLITE_ROW) return FromSqlite(rc, db_, what);
      if (q.Int(0) != 0) continue;
      ACERVO_RETURN_IF_ERROR(
          Exec(("ALTER TABLE field_words ADD COLUMN " + std::string(column) + " TEXT NOT NULL DEFAULT ''").c_str()));
    }
    return Exec(kSchemaV14FillSql);
  }

  // Migration 7: value_key and field_words for the fields already stored.
  Status FillFieldMeaning(const std::string& what) {
    struct Row {
      int64_t doc, ordinal;
      std::string name_norm, value;
    };
    std::vector<Row> rows;
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT doc_id, ordinal, name_norm, value FROM fields", false));
      ACERVO_RETURN_IF_ERROR(
          ForEachRow(s, what, [&] { rows.push_back({s.Int(0), s.Int(1), s.Text(2), s.Text(3)}); }));
    }
    for (const Row& r : rows) {
      if (std::optional<std::string> key = FieldKey(r.value)) {
        ACERVO_ASSIGN_OR_RETURN(Stmt u, Prepare("UPDATE fields SET value_key = ? WHERE doc_id = ? AND ordinal = ?"));
        u.Bind(1, *key);
        u.Bind(2, r.doc);
        u.Bind(3, r.ordinal);
        ACERVO_RETURN_IF_ERROR(Done(u, what));
      }
      ACERVO_RETURN_IF_ERROR(PutFieldWords(r.doc, /*doc=*/nullptr, r.name_norm, r.value, what));
    }
    return Status::OK();
  }

  // --- Term tables (champion lists; docs/store.md) ---
  //
  // New pages are not added to the term tables one commit at a time: each
  // commit of `acervo run` would then rewrite a b-tree leaf for every
  // distinct word of the document. Pages with ids above
  // term_stats.folded_upto are "pending"; searches read them straight from
  // FTS5 (a rowid range), and the commit that brings them to kFoldPages
  // folds them all in at once (MaintainTerms): one term_df read and write
  // per distinct term, plus term_top rows for the pages that beat the
  // term's list. Deleted pages leave at once (UnindexPages).
  static constexpr int64_t kFoldPages = 1000;

  struct TermStatsRow {
    int64_t pages = 0, tokens = 0, folded_upto = 0;
  };

  Result<TermStatsRow> ReadTermStats(const std::string& what) {
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT pages, tokens, folded_upto FROM term_stats WHERE id = 1"));
    const int rc = s.Step();
    if (rc == SQLITE_DONE) return Status::Corrupt(what + ": the term_stats row is missing");
    if (rc != SQLITE_ROW) return FromSqlite(rc, db_, what);
    TermStatsRow r;
    r.pages = s.Int(0);
    r.tokens = s.Int(1);
    r.folded_upto = s.Int(2);
    return r;
  }

  // Before a document's pages are deleted: the folded ones leave df, and
  // their term_top rows go (counted per term so term_df.listed stays exact).
  Status UnindexPages(int64_t doc_row, const std::string& what) {
    ACERVO_ASSIGN_OR_RETURN(auto range, PageRange(doc_row));
    ACERVO_ASSIGN_OR_RETURN(TermStatsRow st, ReadTermStats(what));
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT id, text FROM pages WHERE doc_id = ? AND id <= ?"));
      s.Bind(1, doc_row);
      s.Bind(2, st.folded_upto);
      ACERVO_RETURN_IF_ERROR(ForEachRow(s, what, [&] { terms_.RemovePage(s.Int(0), s.Text(1)); }));
    }
    {
      ACERVO_ASSIGN_OR_RETURN(
          Stmt c, Prepare("SELECT term, count(*) FROM term_top WHERE page_id BETWEEN ? AND ? GROUP BY term"));
      c.Bind(1, range.first);
      c.Bind(2, range.second);
      ACERVO_RETURN_IF_ERROR(ForEachRow(c, what, [&] { terms_.Unlisted(c.Text(0), c.Int(1)); }));
    }
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt d, Prepare("DELETE FROM term_top WHERE page_id BETWEEN ? AND ?"));
      d.Bind(1, range.first);
      d.Bind(2, range.second);
      ACERVO_RETURN_IF_ERROR(Done(d, what));
    }
    // SQLite gives a new row the largest id + 1: if these pages are the
    // newest folded ones, their ids will be given again, to pages that must
    // still be folded. Lower the mark below them.
    ACERVO_ASSIGN_OR_RETURN(Stmt m, Prepare("SELECT coalesce((SELECT id FROM pages WHERE id < ? OR id > ? "
                                            "ORDER BY id DESC LIMIT 1), 0)"));
    m.Bind(1, range.first);
    m.Bind(2, range.second);
    const int rc = m.Step();
    if (rc != SQLITE_ROW) return FromSqlite(rc, db_, what);
    if (m.Int(0) < st.folded_upto) {
      ACERVO_ASSIGN_OR_RETURN(Stmt u, Prepare("UPDATE term_stats SET folded_upto = ? WHERE id = 1"));
      u.Bind(1, m.Int(0));
      ACERVO_RETURN_IF_ERROR(Done(u, what));
    }
    return Status::OK();
  }

  // At the end of every write transaction: apply the removals collected,
  // and fold the pending pages in when there are kFoldPages of them (all of
  // them with `fold_all`).
  Status MaintainTerms(const std::string& what, bool fold_all) {
    ACERVO_ASSIGN_OR_RETURN(TermStatsRow st, ReadTermStats(what));
    int64_t max_id = 0;
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT coalesce(max(id), 0) FROM pages"));
      if (s.Step() == SQLITE_ROW) max_id = s.Int(0);
    }
    if (!fold_all && max_id - st.folded_upto < kFoldPages) return FlushTerms(what, st.folded_upto);
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT id, text, in_pdf FROM pages WHERE id > ? ORDER BY id", false));
    s.Bind(1, st.folded_upto);
    int64_t n = 0, last = st.folded_upto;
    Status flushed;
    ACERVO_RETURN_IF_ERROR(ForEachRow(s, what, [&] {
      last = s.Int(0);
      terms_.AddPage(last, s.Text(1), /*listable=*/s.Int(2) != 0);
      // Bounded memory when folding a whole existing store (migration 3).
      if (++n % kFoldPages == 0 && flushed.ok()) flushed = FlushTerms(what, last);
    }));
    ACERVO_RETURN_IF_ERROR(flushed);
    return FlushTerms(what, std::max(last, max_id));
  }

  // Applies terms_ and records `folded_upto`.
  Status FlushTerms(const std::string& what, int64_t folded_upto) {
    ACERVO_ASSIGN_OR_RETURN(TermStatsRow st, ReadTermStats(what));
    if (terms_.empty() && folded_upto == st.folded_upto) return Status::OK();
    const int64_t pages = st.pages + terms_.pages();
    const int64_t tokens = st.tokens + terms_.tokens();
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("UPDATE term_stats SET pages = ?, tokens = ?, folded_upto = ? "
                                              "WHERE id = 1"));
      s.Bind(1, pages);
      s.Bind(2, tokens);
      s.Bind(3, folded_upto);
      ACERVO_RETURN_IF_ERROR(Done(s, what));
    }
    // Impacts use the average page length including this transaction's
    // pages: it moves slowly, and a list ordered with a slightly older
    // average is still ordered by BM25 for all practical purposes (the
    // final scores are computed afresh at query time).
    const double avg = pages > 0 ? static_cast<double>(tokens) / static_cast<double>(pages) : 1;
    std::vector<std::pair<double, int64_t>> cand;
    for (const auto& [term, delta] : terms_.terms()) {
      int64_t df = 0, listed = 0;
      double floor = 0;
      bool known = false;
      {
        ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT df, listed, floor FROM term_df WHERE term = ?"));
        s.Bind(1, term);
        const int rc = s.Step();
        if (rc == SQLITE_ROW) {
          known = true;
          df = s.Int(0);
          listed = s.Int(1);
          floor = s.Double(2);
        } else if (rc != SQLITE_DONE) {
          return FromSqlite(rc, db_, what);
        }
      }
      df += delta.df;
      listed += delta.listed;
      cand.clear();
      for (const TermBatch::Posting& p : delta.added) {
        if (terms_.Removed(p.page_id)) continue;
        const double impact = Bm25Factor(p.tf, p.tokens, avg);
        // A full list only takes pages a level above its weakest entry.
        if (listed < kChampionCap || ImpactLevel(impact) > ImpactLevel(floor)) cand.emplace_back(impact, p.page_id);
      }
      if (cand.size() > static_cast<size_t>(kChampionCap)) {
        std::nth_element(cand.begin(), cand.begin() + kChampionCap, cand.end(), std::greater<>());
        cand.resize(static_cast<size_t>(kChampionCap));
      }
      int64_t inserted = 0;
      for (const auto& [impact, page] : cand) {
        ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT OR IGNORE INTO term_top (term, impact, page_id) "
                                                "VALUES (?, ?, ?)"));
        s.Bind(1, term);
        s.Bind(2, impact);
        s.Bind(3, page);
        ACERVO_RETURN_IF_ERROR(Done(s, what));
        inserted += sqlite3_changes(db_);
      }
      listed += inserted;
      // (Only after inserts: entries tied with the floor are all kept, so a
      // list may stay above the mark without anything to cut.)
      if (inserted > 0 && listed > kChampionTrimAt) {
        // Trim back to the kChampionCap best; the weakest kept becomes the
        // bar later pages must clear.
        {
          ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT impact FROM term_top WHERE term = ? "
                                                  "ORDER BY impact DESC, page_id DESC LIMIT 1 OFFSET ?"));
          s.Bind(1, term);
          s.Bind(2, kChampionCap - 1);
          const int rc = s.Step();
          if (rc != SQLITE_ROW) return FromSqlite(rc, db_, what);
          floor = s.Double(0);
        }
        ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("DELETE FROM term_top WHERE term = ? AND impact < ?"));
        s.Bind(1, term);
        s.Bind(2, floor);
        ACERVO_RETURN_IF_ERROR(Done(s, what));
        listed -= sqlite3_changes(db_);
      }
      if (df <= 0 && listed <= 0) {
        if (!known) continue;
        // The term leaves the vocabulary, with its lookup keys.
        for (const char* sql : {"DELETE FROM term_df WHERE term = ?", "DELETE FROM term_keys WHERE term = ?"}) {
          ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(sql));
          s.Bind(1, term);
          ACERVO_RETURN_IF_ERROR(Done(s, what));
        }
        continue;
      }
      if (!known) {
        // A new term of the vocabulary: its keys for forgiving search.
        for (const std::string& key : VocabularyKeys(term)) {
          ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT OR IGNORE INTO term_keys (key, term) VALUES (?, ?)"));
          s.Bind(1, key);
          s.Bind(2, term);
          ACERVO_RETURN_IF_ERROR(Done(s, what));
        }
      }
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO term_df (term, df, listed, floor) VALUES (?, ?, ?, ?) "
                                              "ON CONFLICT (term) DO UPDATE SET df = excluded.df, "
                                              "listed = excluded.listed, floor = excluded.floor"));
      s.Bind(1, term);
      s.Bind(2, df);
      s.Bind(3, listed);
      s.Bind(4, floor);
      ACERVO_RETURN_IF_ERROR(Done(s, what));
    }
    terms_.Clear();
    return Status::OK();
  }

  Result<DocumentRecord> LoadDocument(int64_t id, bool with_text) {
    DocumentRecord doc;
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(R"sql(
        SELECT lot_id, document_id, document_type, title, pdf_path, pdf_sha256, page_count, flags
        FROM documents WHERE id = ?)sql"));
      s.Bind(1, id);
      const int rc = s.Step();
      if (rc != SQLITE_ROW) return FromSqlite(rc, db_, "read document row");
      doc.lot_id = s.Text(0);
      doc.document_id = s.Text(1);
      doc.document_type = s.Text(2);
      doc.title = s.Text(3);
      doc.pdf_path = s.Text(4);
      doc.pdf_sha256 = s.Text(5);
      doc.page_count = static_cast<int>(s.Int(6));
      ACERVO_ASSIGN_OR_RETURN(doc.flags, FlagsFromJson(s.Text(7)));
    }
    ACERVO_ASSIGN_OR_RETURN(doc.fields, LoadFields(id));
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(R"sql(
      SELECT number, pdf_page, in_pdf, source_path, page_in_file, master_path, master_sha256,
             CASE WHEN ? THEN text ELSE '' END, mean_confidence, skew_deg, orientation_deg,
             blank, blank_score, color_class, flags, stages, master_page, part, master_x, master_width
      FROM pages WHERE doc_id = ? ORDER BY number)sql"));
    s.Bind(1, with_text);
    s.Bind(2, id);
    Status flags_status;
    ACERVO_RETURN_IF_ERROR(ForEachRow(s, "read pages of " + doc.document_id, [&] {
      PageRecord p;
      p.number = static_cast<int>(s.Int(0));
      p.pdf_page = static_cast<int>(s.Int(1));
      p.in_pdf = s.Int(2) != 0;
      p.source_path = s.Text(3);
      p.page_in_file = static_cast<int>(s.Int(4));
      p.master_path = s.Text(5);
      p.master_sha256 = s.Text(6);
      p.text = s.Text(7);
      p.mean_confidence = s.Double(8);
      p.skew_deg = s.Double(9);
      p.orientation_deg = s.Double(10);
      p.blank = s.Int(11) != 0;
      p.blank_score = s.Double(12);
      p.color_class = s.Text(13);
      Result<std::vector<std::string>> flags = FlagsFromJson(s.Text(14));
      if (flags.ok()) {
        p.flags = std::move(flags).value();
      } else {
        flags_status = flags.status();
      }
      p.stages = s.Text(15);
      p.master_page = static_cast<int>(s.Int(16));
      p.part = s.Text(17);
      p.master_x = static_cast<int>(s.Int(18));
      p.master_width = static_cast<int>(s.Int(19));
      doc.pages.push_back(std::move(p));
    }));
    ACERVO_RETURN_IF_ERROR(flags_status);
    return doc;
  }

  Result<std::vector<FieldRecord>> LoadFields(int64_t doc_row) {
    ACERVO_ASSIGN_OR_RETURN(
        Stmt s, Prepare("SELECT name, value, source FROM fields WHERE doc_id = ? ORDER BY ordinal"));
    s.Bind(1, doc_row);
    std::vector<FieldRecord> out;
    ACERVO_RETURN_IF_ERROR(
        ForEachRow(s, "read fields", [&] { out.push_back({s.Text(0), s.Text(1), s.Text(2)}); }));
    return out;
  }

  // A hit without pages, snippet or score.
  Result<SearchHit> LoadHit(int64_t doc_row) {
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(R"sql(
      SELECT lot_id, document_id, document_type, title, pdf_path, flags, page_count, indexed_at
      FROM documents WHERE id = ?)sql"));
    s.Bind(1, doc_row);
    const int rc = s.Step();
    if (rc != SQLITE_ROW) return FromSqlite(rc, db_, "read document row");
    SearchHit hit;
    hit.lot_id = s.Text(0);
    hit.document_id = s.Text(1);
    hit.document_type = s.Text(2);
    hit.title = s.Text(3);
    hit.pdf_path = s.Text(4);
    ACERVO_ASSIGN_OR_RETURN(hit.flags, FlagsFromJson(s.Text(5)));
    hit.page_count = static_cast<int>(s.Int(6));
    hit.indexed_at = s.Text(7);
    ACERVO_ASSIGN_OR_RETURN(hit.fields, LoadFields(doc_row));
    hit.date = FirstDate(hit.fields);
    return hit;
  }

  // Documents passing `where`, in lot and document order. With `driver`
  // (TakeListingDrivers, not in `where`), the statement joins the
  // driver's field_words rows (one per word, each in doc_id order) to the
  // documents instead of testing `d.id IN (subquery)`: SQLite would build
  // each subquery's 10,000-id list into a temporary index first and probe
  // it (a filter-only search: about half the instructions, same rows).
  //
  // With `type` too (a type ANDed at the top, not in `where`; only with a
  // driver), w0's rows are read from field_words_listed (schema v14:
  // name, word, type, lot, document id) for that type: only the documents
  // of that type, already in lot and document order, so the statement
  // stops at its page (LIMIT) without sorting, and an empty answer is one
  // index probe — where each of the field's documents (10,000 for a city
  // of the 1M-page benchmark store) was looked up for its type.
  Result<std::vector<SearchHit>> ListMatching(const SqlParts& where, int limit, int offset,
                                              const QueryPredicate* driver = nullptr,
                                              const std::string* type = nullptr) {
    std::string from = "documents d";
    std::vector<Param> params;
    if (driver != nullptr) {
      from = type != nullptr ? "field_words w0 INDEXED BY field_words_listed" : "field_words w0";
      for (size_t k = 1; k < driver->words.size(); ++k) {
        const std::string w = "w" + std::to_string(k);
        from += " JOIN field_words " + w + " ON " + w + ".name_norm = ? AND " + w + ".word = ? AND " + w +
                ".doc_id = w0.doc_id";
        params.push_back(driver->field);
        params.push_back(driver->words[k]);
      }
      from += " JOIN documents d ON d.id = w0.doc_id";
    }
    std::string sql = "SELECT d.id FROM " + from + " WHERE ";
    if (driver != nullptr) {
      sql += "w0.name_norm = ? AND w0.word = ? AND ";
      params.push_back(driver->field);
      params.push_back(driver->words[0]);
    }
    if (type != nullptr) {
      sql += "w0.document_type_norm = ? AND ";
      params.push_back(*type);
    }
    // (w0's lot and document id are the document's: the same order.)
    const char* order = type != nullptr ? " ORDER BY w0.lot_id, w0.document_id" : " ORDER BY d.lot_id, d.document_id";
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare(sql + where.sql + order + " LIMIT ? OFFSET ?", /*cache=*/false));
    int i = 1;
    for (const Param& p : params) s.Bind(i++, p);
    for (const Param& p : where.params) s.Bind(i++, p);
    s.Bind(i++, limit);
    s.Bind(i, offset);
    std::vector<int64_t> ids;
    ACERVO_RETURN_IF_ERROR(ForEachRow(s, "search", [&] { ids.push_back(s.Int(0)); }));
    std::vector<SearchHit> hits;
    for (int64_t id : ids) {
      ACERVO_ASSIGN_OR_RETURN(SearchHit hit, LoadHit(id));
      hits.push_back(std::move(hit));
    }
    return hits;
  }

  // Pages in the PDF matching an FTS5 expression, as a document-id set.
  static constexpr const char* kPagesMatching =
      "(SELECT p2.doc_id FROM pages p2 WHERE p2.in_pdf = 1 AND p2.id IN "
      "(SELECT rowid FROM pages_fts WHERE pages_fts MATCH ?))";

  // A statement selecting the ids (column `id`) of at most
  // kFacetCountCap + 1 documents matching the query and the filter: driven
  // by the text index when there is text, so it stops at the cap.
  static SqlParts MatchingDocuments(const ParsedQuery& q, const SqlParts& where) {
    SqlParts m;
    if (q.required_fts.empty()) {
      m.sql = "SELECT d.id AS id FROM documents d WHERE " + where.sql;
      m.params = where.params;
    } else {
      m.sql = "SELECT DISTINCT p.doc_id AS id FROM pages_fts JOIN pages p ON p.id = pages_fts.rowid "
              "JOIN documents d ON d.id = p.doc_id WHERE pages_fts MATCH ? AND p.in_pdf = 1 AND " + where.sql;
      m.params.push_back(q.required_fts.front());
      m.params.insert(m.params.end(), where.params.begin(), where.params.end());
      for (size_t i = 1; i < q.required_fts.size(); ++i) {
        m.sql += std::string(" AND d.id IN ") + kPagesMatching;
        m.params.push_back(q.required_fts[i]);
      }
    }
    for (const std::string& fts : q.excluded_fts) {
      m.sql += std::string(" AND d.id NOT IN ") + kPagesMatching;
      m.params.push_back(fts);
    }
    m.sql += " LIMIT " + std::to_string(kFacetCountCap + 1);
    return m;
  }

  // Hits in date order (SearchRequest::Sort): a page of the matching
  // documents (at most kFacetCountCap of them are sorted), each with its hit
  // pages, tier, matches and snippet when the query has text (score 0: not
  // ranked).
  Result<std::vector<SearchHit>> ListByDate(const ExpandedQuery& expanded, const SqlParts& where,
                                            const SearchRequest& r) {
    ACERVO_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                            DocumentsByDate(session_, MatchingDocuments(expanded.query, where),
                                            r.sort == SearchRequest::Sort::kDateNewest, r.limit, r.offset));
    std::optional<RankContext> c;
    if (!expanded.query.required_fts.empty() && !ids.empty()) {
      ACERVO_ASSIGN_OR_RETURN(c, NewRankContext(expanded));
      c->weights = FormatWeights(PhraseWeights(c->roles, {}));  // variants' weights, no idf: pick the best page
    }
    std::vector<SearchHit> hits;
    for (int64_t id : ids) {
      ACERVO_ASSIGN_OR_RETURN(SearchHit hit, LoadHit(id));
      if (c) {
        ACERVO_ASSIGN_OR_RETURN(std::optional<ScoredDoc> d, ScoreDocument(*c, id));
        if (d) {
          d->score = 0;
          ACERVO_RETURN_IF_ERROR(CompleteHit(*c, std::move(*d), &hit));
        }
      }
      hits.push_back(std::move(hit));
    }
    return hits;
  }

  // The store's vocabulary for ExpandQuery: term_keys and term_df, plus the
  // pending pages' terms.
  SessionVocabulary StoreVocabulary() {
    return SessionVocabulary(&session_, [this]() -> Result<const PendingVocabulary*> {
      ACERVO_RETURN_IF_ERROR(EnsurePendingVocabulary());
      return &pending_vocab_;
    });
  }

  // Rebuilds pending_vocab_ when the pending pages changed since it was
  // built (their count, id sum and the fold mark say so).
  Status EnsurePendingVocabulary() {
    ACERVO_ASSIGN_OR_RETURN(TermStatsRow st, ReadTermStats("search"));
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT count(*), coalesce(sum(id), 0) FROM pages WHERE id > ?"));
    s.Bind(1, st.folded_upto);
    const int rc = s.Step();
    if (rc != SQLITE_ROW) return FromSqlite(rc, db_, "search");
    const std::string signature =
        std::to_string(st.folded_upto) + "/" + std::to_string(s.Int(0)) + "/" + std::to_string(s.Int(1));
    if (signature == pending_signature_) return Status::OK();
    pending_vocab_.Clear();
    pending_signature_.clear();
    ACERVO_ASSIGN_OR_RETURN(Stmt t, Prepare("SELECT text FROM pages WHERE id > ?"));
    t.Bind(1, st.folded_upto);
    ACERVO_RETURN_IF_ERROR(ForEachRow(t, "search", [&] { pending_vocab_.AddPage(t.Text(0)); }));
    pending_signature_ = signature;
    return Status::OK();
  }

  // --- Ranked search without scoring every match (docs/store.md) ---
  //
  // 1. A selective metadata filter (at most kSelectiveDocs documents): only
  //    those documents are scored, each by a rowid-range MATCH.
  // 2. Otherwise candidates come from the champion lists (term_top) of the
  //    query's positive phrases: per phrase its rarest word (a prefix: its
  //    most frequent expansions), the kChampionRead pages where it weighs
  //    most. Pages are tried best tier first, then best provisional score
  //    (idf x weight x impact summed over the lists they appear in); each
  //    new document is checked once (filter, every required clause, no
  //    excluded clause) and scored exactly over all its pages, until
  //    kOverfetch x (offset + limit) documents.
  // 3. If that gives fewer than needed and the lists were not complete (a
  //    term on more pages than its list holds), the rest comes from an
  //    unranked scan that stops early: filtered documents newest first, or
  //    FTS5 matches by descending rowid.
  // Scores are acervo_bm25 (exact BM25 with idf from term_df, times each
  // variant's weight), so no step reads a common word's whole posting list.
  // Documents are ordered by tier (exact < inflection < forgiving), then
  // score.
  static constexpr int kSelectiveDocs = 300;
  static constexpr int kFilterSetMax = 100000;
  static constexpr int kOverfetch = 2;
  static constexpr int kPageBatch = 256;
  static constexpr int kChampionRead = kChampionCap;
  static constexpr int kPrefixTerms = 8;
  static constexpr int kPrefixExpand = 64;

  // What scoring a document needs from the query.
  struct RankContext {
    ParsedQuery q;                  // expanded (prefixes completed)
    std::string ranking;            // q.RankingFts()
    std::string weights;            // acervo_bm25's per-phrase weights
    std::vector<PhraseRole> roles;  // per phrase of `ranking`
    std::vector<size_t> phrase_clause;  // per phrase of `ranking`: its clause of q.required_fts
    std::vector<bool> disjunction;      // per clause: only phrases joined by OR (OnlyPhrasesOrOr)
  };

  // Whether an FTS5 expression is phrases joined by OR (parentheses
  // allowed): no AND, NOT, NEAR, column filter or other operator outside
  // the quoted phrases.
  static bool OnlyPhrasesOrOr(std::string_view fts) {
    for (size_t i = 0; i < fts.size();) {
      const char ch = fts[i];
      if (ch == '"') {  // a phrase; "" inside is a quote
        for (++i; i < fts.size(); ++i) {
          if (fts[i] == '"') {
            if (i + 1 < fts.size() && fts[i + 1] == '"') {
              ++i;
            } else {
              break;
            }
          }
        }
        if (i >= fts.size()) return false;
        ++i;
      } else if (ch == ' ' || ch == '(' || ch == ')' || ch == '*') {
        ++i;
      } else if (fts.compare(i, 2, "OR") == 0 && (i + 2 == fts.size() || fts[i + 2] == ' ' || fts[i + 2] == '(')) {
        i += 2;
      } else {
        return false;
      }
    }
    return true;
  }

  // The document's page-id range (pages of one document are inserted in one
  // transaction, so their ids are contiguous).
  Result<std::pair<int64_t, int64_t>> PageRange(int64_t doc_row) {
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT min(id), max(id) FROM pages WHERE doc_id = ?"));
    s.Bind(1, doc_row);
    const int rc = s.Step();
    if (rc != SQLITE_ROW) return FromSqlite(rc, db_, "page range");
    return std::make_pair(s.Int(0), s.Int(1));
  }

  struct PageMatch {
    int64_t row = 0;
    double score = 0;
    std::vector<int> phrases;
  };

  // The document's pages matching the ranking expression, with their
  // BM25 (acervo_rank's) and the phrases found on each. The text index alone
  // answers, restricted to the document's rowid range (FTS5 seeks to it);
  // pages are looked up by key afterwards.
  //
  // Each page's score is acervo_rank's (PageBm25), computed here from the
  // phrase counts FTS5 gives (acervo_tf) and the page lengths read for the
  // whole range at once (DocPageLengths): FTS5 would read each matching
  // page's length by a statement of its own.
  Result<std::vector<PageMatch>> MatchInRange(const RankContext& c, std::pair<int64_t, int64_t> range) {
    std::vector<PageMatch> rows;
    std::vector<std::pair<int64_t, TfBlob>> matched;
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT rowid, acervo_tf(pages_fts) "
                                              "FROM pages_fts WHERE pages_fts MATCH ? AND rowid >= ? AND rowid <= ?"));
      s.Bind(1, c.ranking);
      s.Bind(2, range.first);
      s.Bind(3, range.second);
      ACERVO_RETURN_IF_ERROR(
          ForEachRow(s, "search", [&] { matched.emplace_back(s.Int(0), s.Blob(1, &ReadTfBlob)); }));
    }
    if (matched.empty()) return rows;
    ACERVO_ASSIGN_OR_RETURN(std::vector<int> lengths, DocPageLengths(range));
    const std::vector<double> idf = ParseWeights(c.weights);
    for (auto& [row, t] : matched) {
      const size_t at = static_cast<size_t>(row - range.first);
      if (row < range.first || at >= lengths.size() || lengths[at] < 0) {
        return Status::Internal("search: the text index has no length for page " + std::to_string(row));
      }
      PageMatch m;
      m.row = row;
      m.score = PageBm25(idf, t.tf, lengths[at], AveragePageLength(t.rows, t.total));
      for (size_t i = 0; i < t.tf.size(); ++i) {
        if (t.tf[i] != 0) m.phrases.push_back(static_cast<int>(i));
      }
      rows.push_back(std::move(m));
    }
    return rows;
  }

  // FTS5's length (tokens) of each page with an id in `range`, indexed by
  // id - range.first; -1 where the text index has no row. One read of
  // pages_fts_docsize (FTS5's table of page lengths: id, then the lengths
  // as varints) for the range instead of one lookup per matching page.
  Result<std::vector<int>> DocPageLengths(std::pair<int64_t, int64_t> range) {
    std::vector<int> out(static_cast<size_t>(std::max<int64_t>(range.second - range.first + 1, 0)), -1);
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT id, sz FROM pages_fts_docsize WHERE id >= ? AND id <= ?"));
    s.Bind(1, range.first);
    s.Bind(2, range.second);
    Status bad;
    ACERVO_RETURN_IF_ERROR(ForEachRow(s, "search", [&] {
      const int64_t id = s.Int(0);
      const std::optional<int> len = s.Blob(1, &DecodeDocsize);
      if (!len) {
        bad = Status::Internal("search: the text index's length of page " + std::to_string(id) + " is damaged");
      } else if (id >= range.first && id <= range.second) {
        out[static_cast<size_t>(id - range.first)] = *len;
      }
    }));
    ACERVO_RETURN_IF_ERROR(bad);
    return out;
  }

  // pdf_page of a page in the PDF, or 0 for a page left out (blank).
  Result<int> PdfPage(int64_t page_row) {
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT pdf_page, in_pdf FROM pages WHERE id = ?"));
    s.Bind(1, page_row);
    const int rc = s.Step();
    if (rc != SQLITE_ROW) return FromSqlite(rc, db_, "search");
    return s.Int(1) != 0 ? static_cast<int>(s.Int(0)) : 0;
  }

  // A document's pages as a search reads them: each page's id with its
  // pdf_page (0 for a page left out of the PDF), in one read of the
  // pages_by_doc index (schema v12) instead of the page rows, and the
  // page-id range the text index is asked about.
  struct DocPages {
    std::vector<std::pair<int64_t, int>> pages;  // (page id, pdf_page or 0)
    std::pair<int64_t, int64_t> range{0, 0};     // min and max page id (0, 0 for none)
  };
  Result<DocPages> ReadDocPages(int64_t doc_row) {
    ACERVO_ASSIGN_OR_RETURN(
        Stmt s, Prepare("SELECT id, CASE WHEN in_pdf THEN pdf_page ELSE 0 END FROM pages WHERE doc_id = ?"));
    s.Bind(1, doc_row);
    DocPages out;
    ACERVO_RETURN_IF_ERROR(ForEachRow(s, "search", [&] {
      out.pages.emplace_back(s.Int(0), static_cast<int>(s.Int(1)));
    }));
    if (!out.pages.empty()) {
      auto [lo, hi] = std::minmax_element(out.pages.begin(), out.pages.end());
      out.range = {lo->first, hi->first};
    }
    return out;
  }

  // PdfPage of a page the text index found in the document's range: from
  // the list when it is one of the document's pages (always, as a
  // document's page ids are contiguous), else from its row.
  Result<int> PdfPageOf(const DocPages& doc, int64_t page_row) {
    for (const auto& [id, pdf_page] : doc.pages) {
      if (id == page_row) return pdf_page;
    }
    return PdfPage(page_row);
  }

  // Whether a page of the document (in the PDF) matches `fts`.
  Result<bool> DocMatches(const std::string& fts, const DocPages& doc) {
    std::vector<int64_t> rows;
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT rowid FROM pages_fts WHERE pages_fts MATCH ? "
                                              "AND rowid >= ? AND rowid <= ?"));
      s.Bind(1, fts);
      s.Bind(2, doc.range.first);
      s.Bind(3, doc.range.second);
      ACERVO_RETURN_IF_ERROR(ForEachRow(s, "search", [&] { rows.push_back(s.Int(0)); }));
    }
    for (int64_t row : rows) {
      ACERVO_ASSIGN_OR_RETURN(int pdf_page, PdfPageOf(doc, row));
      if (pdf_page > 0) return true;
    }
    return false;
  }

  // The document's exact score, tier and hit pages for the ranking
  // expression; nullopt when it fails a required or excluded clause or has
  // no hit page.
  Result<std::optional<ScoredDoc>> ScoreDocument(const RankContext& c, int64_t doc_row) {
    ACERVO_ASSIGN_OR_RETURN(DocPages doc, ReadDocPages(doc_row));
    for (const std::string& fts : c.q.excluded_fts) {
      ACERVO_ASSIGN_OR_RETURN(bool m, DocMatches(fts, doc));
      if (m) return std::optional<ScoredDoc>();
    }
    ACERVO_ASSIGN_OR_RETURN(std::vector<PageMatch> rows, MatchInRange(c, doc.range));
    ScoredDoc d;
    d.doc_row = doc_row;
    double best = -1, sum = 0;
    for (PageMatch& m : rows) {
      ACERVO_ASSIGN_OR_RETURN(int pdf_page, PdfPageOf(doc, m.row));
      if (pdf_page == 0) continue;  // blank pages are never hits
      sum += m.score;
      if (m.score > best) best = m.score, d.best_page_row = m.row, d.best_phrases = m.phrases;
      d.pages.push_back(pdf_page);
      d.phrases.push_back({pdf_page, std::move(m.phrases)});
    }
    if (d.pages.empty()) return std::optional<ScoredDoc>();
    if (c.q.required_fts.size() > 1) {
      // Every required clause must match a page in the PDF. A clause that
      // is only phrases joined by OR matches a page exactly when one of its
      // phrases is found there: the ranking match above has said which, so
      // only other clauses (AND, NOT, NEAR inside) cost a match of their own.
      std::vector<bool> found(c.q.required_fts.size(), false);
      for (const PagePhrases& page : d.phrases) {
        for (int i : page.phrases) {
          if (i >= 0 && static_cast<size_t>(i) < c.phrase_clause.size()) found[c.phrase_clause[i]] = true;
        }
      }
      for (size_t k = 0; k < c.q.required_fts.size(); ++k) {
        if (c.disjunction[k]) {
          if (!found[k]) return std::optional<ScoredDoc>();
          continue;
        }
        ACERVO_ASSIGN_OR_RETURN(bool m, DocMatches(c.q.required_fts[k], doc));
        if (!m) return std::optional<ScoredDoc>();
      }
    }
    d.score = best + kOtherPagesWeight * (sum - best);
    d.tier = DocumentTier(c.roles, d.phrases, c.q.required_fts.size());
    std::sort(d.pages.begin(), d.pages.end());
    return std::optional<ScoredDoc>(std::move(d));
  }

  Result<bool> PassesFilter(const SqlParts& where, int64_t doc_row) {
    if (where.sql == "1") return true;
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT 1 FROM documents d WHERE d.id = ? AND " + where.sql));
    int i = 1;
    s.Bind(i++, doc_row);
    for (const Param& p : where.params) s.Bind(i++, p);
    const int rc = s.Step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return FromSqlite(rc, db_, "search");
  }

  struct TermInfo {
    int64_t df = 0;
    int64_t listed = 0;
  };

  Result<TermInfo> LookupTerm(const std::string& term) {
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT df, listed FROM term_df WHERE term = ?"));
    s.Bind(1, term);
    const int rc = s.Step();
    TermInfo t;
    if (rc == SQLITE_ROW) {
      t.df = s.Int(0);
      t.listed = s.Int(1);
    } else if (rc != SQLITE_DONE) {
      return FromSqlite(rc, db_, "search");
    }
    return t;
  }

  // The most frequent terms starting with `prefix` (at most `n`), with
  // whether there were more.
  Result<std::pair<std::vector<std::string>, bool>> ExpandPrefix(const std::string& prefix, int n) {
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT term FROM term_df WHERE term >= ? AND term < ? "
                                            "ORDER BY df DESC LIMIT ?"));
    s.Bind(1, prefix);
    s.Bind(2, prefix + "\xff");  // above every UTF-8 continuation of the prefix
    s.Bind(3, n + 1);
    std::vector<std::string> terms;
    ACERVO_RETURN_IF_ERROR(ForEachRow(s, "search", [&] { terms.push_back(s.Text(0)); }));
    const bool more = terms.size() > static_cast<size_t>(n);
    if (more) terms.pop_back();
    return std::make_pair(std::move(terms), more);
  }

  // FTS5 answers a prefix query by merging the posting lists of every
  // word with that prefix, whatever rowid range is asked: per document
  // scored that is the whole cost of a search. So prefix phrases are
  // replaced by the OR of the kPrefixExpand most frequent words with that
  // prefix in term_df (each as the same phrase with the word completed).
  // A prefix with no word in term_df (only in pages not folded yet, or
  // none) is left to FTS5.
  Result<ParsedQuery> ExpandPrefixes(const ParsedQuery& in) {
    std::unordered_map<std::string, std::vector<std::string>> expansions;
    Status status;
    auto replace = [&](const FtsPhrase& p, std::string_view original) -> std::string {
      if (!p.prefix || p.words.empty()) return std::string(original);
      auto it = expansions.find(p.words.back());
      if (it == expansions.end()) {
        Result<std::pair<std::vector<std::string>, bool>> ex = ExpandPrefix(p.words.back(), kPrefixExpand);
        if (!ex.ok()) {
          status = ex.status();
          return std::string(original);
        }
        it = expansions.emplace(p.words.back(), std::move(ex->first)).first;
      }
      if (it->second.empty()) return std::string(original);
      std::string out = "(";
      std::vector<std::string> words = p.words;
      for (size_t i = 0; i < it->second.size(); ++i) {
        words.back() = it->second[i];
        out += (i > 0 ? " OR " : "") + QuotePhrase(words);
      }
      return out + ")";
    };
    ParsedQuery out = in;
    for (std::string& f : out.required_fts) f = MapPhrases(f, replace);
    for (std::string& f : out.excluded_fts) f = MapPhrases(f, replace);
    ACERVO_RETURN_IF_ERROR(status);
    return out;
  }

  // The ranking expression of an expanded query (prefixes completed) and
  // the role of each of its phrases; weights are the caller's.
  Result<RankContext> NewRankContext(const ExpandedQuery& expanded) {
    RankContext c;
    ACERVO_ASSIGN_OR_RETURN(c.q, ExpandPrefixes(expanded.query));
    c.ranking = c.q.RankingFts();
    c.roles = RolesFor(expanded, c.q.required_fts);
    for (size_t k = 0; k < c.q.required_fts.size(); ++k) {
      c.phrase_clause.insert(c.phrase_clause.end(), FtsPhrases(c.q.required_fts[k]).size(), k);
      c.disjunction.push_back(OnlyPhrasesOrOr(c.q.required_fts[k]));
    }
    // The phrases of `ranking` are the clauses' in order; if the count
    // disagrees, no clause is answered from the ranking match.
    if (c.phrase_clause.size() != FtsPhrases(c.ranking).size()) {
      c.phrase_clause.clear();
      c.disjunction.assign(c.q.required_fts.size(), false);
    }
    return c;
  }

  // acervo_bm25's weight argument: the numbers in their shortest exact form.
  static std::string FormatWeights(const std::vector<double>& weights) {
    std::string out;
    for (double w : weights) {
      char buf[32];
      const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), w);
      if (!out.empty()) out += ' ';
      out.append(buf, r.ptr);
    }
    return out;
  }

  // `per_document`: `where` as checked for one candidate at a time.
  Result<std::vector<SearchHit>> RankTopK(const ExpandedQuery& expanded, const SqlParts& where,
                                          const SqlParts& per_document, int limit, int offset) {
    ACERVO_ASSIGN_OR_RETURN(RankContext c, NewRankContext(expanded));
    ACERVO_ASSIGN_OR_RETURN(TermStatsRow st, ReadTermStats("search"));
    // Pending pages count for idf too (they are at most kFoldPages).
    int64_t pending = 0;
    {
      ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT coalesce(max(id), 0) FROM pages"));
      if (s.Step() == SQLITE_ROW) pending = std::max<int64_t>(0, s.Int(0) - st.folded_upto);
    }
    const int64_t pages = st.pages + pending;
    // idf x weight per phrase, and the champion lists that supply candidates.
    struct Source {
      std::string term;
      double weight;
      int tier;
    };
    std::vector<Source> sources;
    bool complete = true;  // every candidate list holds all pages of its term
    std::vector<double> idf_list;
    const std::vector<FtsPhrase> phrases = FtsPhrases(c.ranking);
    for (size_t k = 0; k < phrases.size(); ++k) {
      const FtsPhrase& p = phrases[k];
      int64_t df = -1;
      std::vector<std::string> best;
      std::vector<TermInfo> best_info;
      bool more = false;
      for (size_t w = 0; w < p.words.size(); ++w) {
        std::vector<std::string> terms;
        bool cut = false;
        if (p.prefix && w + 1 == p.words.size()) {
          ACERVO_ASSIGN_OR_RETURN(auto ex, ExpandPrefix(p.words[w], kPrefixTerms));
          terms = std::move(ex.first);
          cut = ex.second;
        } else {
          terms = {p.words[w]};
        }
        int64_t sum = 0;
        std::vector<TermInfo> infos;
        for (const std::string& t : terms) {
          ACERVO_ASSIGN_OR_RETURN(TermInfo info, LookupTerm(t));
          sum += info.df;
          infos.push_back(info);
        }
        // A phrase's pages all hold its rarest word: its list suffices.
        if (df < 0 || sum < df) {
          df = sum;
          best = std::move(terms);
          best_info = std::move(infos);
          more = cut;
        }
      }
      const double idf = Bm25Idf(pages, std::max<int64_t>(df, 0));
      idf_list.push_back(idf);
      if (p.negated) continue;
      const PhraseRole& role = c.roles[k];
      if (more) complete = false;
      for (size_t i = 0; i < best.size(); ++i) {
        // A word unknown to term_df may be one the tokenisers split
        // differently: let FTS5 look (it finds it cheaply if it is rare).
        if (best_info[i].df == 0 || best_info[i].listed < best_info[i].df ||
            best_info[i].listed >= kChampionRead) {
          complete = false;
        }
        sources.push_back({best[i], idf * role.weight, static_cast<int>(role.tier)});
      }
    }
    if (sources.empty()) complete = false;
    c.weights = FormatWeights(PhraseWeights(c.roles, idf_list));

    std::vector<ScoredDoc> docs;
    std::unordered_map<int64_t, bool> seen;
    bool exact = false;
    // The documents passing the filter, when there are at most
    // kFilterSetMax: checking a candidate is then a set lookup. (The
    // filter's SQL is `d.id IN (SELECT ...)`, which SQLite evaluates whole
    // at every execution: per candidate that was 0.5 s a search at 1M pages.)
    std::optional<std::unordered_set<int64_t>> filter_set;
    std::vector<int64_t> filter_ids;
    if (where.sql != "1") {
      // A filter on the documents row alone (lots the user may open, lot:)
      // costs one row lookup per candidate: it is read into a set only when
      // selective enough to score exactly.
      // Such a filter is tried with the allow-list read from its table
      // (per_document): a prepared statement kept for the next search, which
      // SQLite drives from the allowed lots and stops at the cap, where the
      // IN list of a hundred lots was parsed, bound and built into a
      // temporary index at every search. Only the set matters (it is kept
      // only when complete), so the order the rows come in does not.
      const bool row_only = RowOnlyFilter(where);
      const size_t cap = row_only ? kSelectiveDocs : kFilterSetMax;
      const SqlParts& probe = row_only ? per_document : where;
      ACERVO_ASSIGN_OR_RETURN(Stmt f, Prepare("SELECT d.id FROM documents d WHERE " + probe.sql + " LIMIT " +
                                                  std::to_string(cap + 1),
                                              /*cache=*/row_only));
      int i = 1;
      for (const Param& p : probe.params) f.Bind(i++, p);
      std::vector<int64_t>& ids = filter_ids;
      ACERVO_RETURN_IF_ERROR(ForEachRow(f, "search", [&] { ids.push_back(f.Int(0)); }));
      if (ids.size() <= cap) {
        filter_set.emplace(ids.begin(), ids.end());
        std::sort(ids.begin(), ids.end(), std::greater<>());  // newest first, for the fill
      } else {
        ids.clear();
      }
      if (filter_set && ids.size() <= static_cast<size_t>(kSelectiveDocs)) {
        exact = true;
        for (int64_t id : ids) {
          ACERVO_ASSIGN_OR_RETURN(std::optional<ScoredDoc> d, ScoreDocument(c, id));
          if (d) docs.push_back(std::move(*d));
        }
      }
    }
    const int needed = offset + limit;
    const size_t want = static_cast<size_t>(needed) * kOverfetch;
    if (!exact) {
      // Candidate pages: best tier first, then best provisional score.
      std::unordered_map<int64_t, std::pair<int, double>> provisional;  // page -> (tier, score)
      auto add = [&](int64_t page, int tier, double score) {
        auto [it, fresh] = provisional.emplace(page, std::make_pair(tier, score));
        if (!fresh) {
          it->second.first = std::min(it->second.first, tier);
          it->second.second += score;
        }
      };
      // Many sources (an expanded prefix, variants) share a budget of candidates.
      const int read = std::max<int>(100, static_cast<int>(kChampionRead * kPrefixTerms /
                                                           std::max<size_t>(sources.size(), kPrefixTerms)));
      if (read < kChampionRead) complete = false;
      for (const Source& src : sources) {
        ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT page_id, impact FROM term_top WHERE term = ? "
                                                "ORDER BY impact DESC LIMIT ?"));
        s.Bind(1, src.term);
        s.Bind(2, read);
        ACERVO_RETURN_IF_ERROR(
            ForEachRow(s, "search", [&] { add(s.Int(0), src.tier, src.weight * s.Double(1)); }));
      }
      if (pending > 0) {
        // Pages not folded into the lists yet: all of them are candidates,
        // with their exact score and the tier of what they matched.
        ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT rowid, acervo_rank(pages_fts, ?) "
                                                "FROM pages_fts WHERE pages_fts MATCH ? AND rowid > ?"));
        s.Bind(1, c.weights);
        s.Bind(2, c.ranking);
        s.Bind(3, st.folded_upto);
        ACERVO_RETURN_IF_ERROR(ForEachRow(s, "search", [&] {
          const RankBlob r = s.Blob(1, &ReadRankBlob);
          int tier = 2;
          for (int i : r.phrases) {
            if (i >= 0 && static_cast<size_t>(i) < c.roles.size()) tier = std::min(tier, static_cast<int>(c.roles[i].tier));
          }
          add(s.Int(0), tier, r.score);
        }));
      }
      std::vector<std::pair<std::pair<int, double>, int64_t>> order;
      order.reserve(provisional.size());
      for (const auto& [page, key] : provisional) order.emplace_back(key, page);
      // Taken best first from a heap: the loop mostly stops after a few
      // dozen of the candidates (a word's variants or a prefix's words
      // bring up to 8,000), so sorting them all was wasted. The order is
      // total (pages are distinct), so the sequence is the sort's.
      auto after = [](const auto& a, const auto& b) {
        // Exact candidates first, then the others together (as SortAndPage).
        const int ta = std::min(a.first.first, 1), tb = std::min(b.first.first, 1);
        if (ta != tb) return tb < ta;
        return a.first.second != b.first.second ? b.first.second > a.first.second : b.second < a.second;
      };
      std::make_heap(order.begin(), order.end(), after);
      // Prepared once for the walk, which may look up every candidate (a
      // filter most candidates fail: 1,000 of them for a word and a date
      // range); reset after each use, so the cached statement is idle while
      // the document is scored.
      ACERVO_ASSIGN_OR_RETURN(Stmt doc_of, Prepare("SELECT doc_id FROM pages WHERE id = ?"));
      for (auto end = order.end(); end != order.begin();) {
        if (docs.size() >= want) break;
        std::pop_heap(order.begin(), end, after);
        --end;
        const int64_t page = end->second;
        int64_t doc = 0;
        {
          doc_of.Bind(1, page);
          const int rc = doc_of.Step();
          if (rc == SQLITE_ROW) doc = doc_of.Int(0);
          doc_of.Reset();
          if (rc == SQLITE_DONE) continue;
          if (rc != SQLITE_ROW) return FromSqlite(rc, db_, "search");
        }
        if (!seen.emplace(doc, true).second) continue;
        if (filter_set) {
          if (filter_set->count(doc) == 0) continue;
        } else {
          ACERVO_ASSIGN_OR_RETURN(bool pass, PassesFilter(per_document, doc));
          if (!pass) continue;
        }
        ACERVO_ASSIGN_OR_RETURN(std::optional<ScoredDoc> d, ScoreDocument(c, doc));
        if (d) docs.push_back(std::move(*d));
      }
    }
    if (!exact && !complete && docs.size() < static_cast<size_t>(needed)) {
      ACERVO_RETURN_IF_ERROR(FillUnranked(c, where, filter_set ? &filter_ids : nullptr, needed, &seen, &docs));
    }
    SortAndPage(&docs, offset, limit);
    std::vector<SearchHit> hits;
    for (ScoredDoc& d : docs) {
      ACERVO_ASSIGN_OR_RETURN(SearchHit hit, LoadHit(d.doc_row));
      ACERVO_RETURN_IF_ERROR(CompleteHit(c, std::move(d), &hit));
      hits.push_back(std::move(hit));
    }
    return hits;
  }

  // A hit's pages, score, tier, matches and snippet from its scored document.
  Status CompleteHit(const RankContext& c, ScoredDoc d, SearchHit* hit) {
    ACERVO_ASSIGN_OR_RETURN(std::string text, PageText(d.best_page_row));
    FillScoredHit(c.roles, c.q.required_fts.size(), std::move(d), text, hit);
    return Status::OK();
  }

  // Step 3: more matching documents, in an order that lets the scan stop as
  // soon as `need` are found. With a filter small enough to have been read
  // (filter_ids), its documents newest first, each scored. Otherwise two
  // scans, each able to prove on its own that nothing is left:
  //  - pages: the pages matching every required clause by descending rowid
  //    (FTS5 walks its doclists backwards and stops at the LIMIT, computing
  //    no rank), each page's document checked against the filter in the
  //    same statement;
  //  - documents (only with a filter): the filtered documents newest first,
  //    each scored.
  // With a filter both run in turns, a batch each, until enough are found
  // or either is exhausted, so the cost is about twice the cheaper one's: a
  // rare or absent word under a broad filter (a reader's allow-list of
  // every lot) ends with the pages scan at once instead of scoring every
  // document the reader may open (seconds at 1M pages); a common word under
  // a narrow filter ends with the documents scan.
  Status FillUnranked(const RankContext& c, const SqlParts& where, const std::vector<int64_t>* filter_ids, int needed,
                      std::unordered_map<int64_t, bool>* seen, std::vector<ScoredDoc>* docs) {
    const size_t need = static_cast<size_t>(needed);
    auto score = [&](int64_t id) -> Status {
      if (!seen->emplace(id, true).second) return Status::OK();
      ACERVO_ASSIGN_OR_RETURN(std::optional<ScoredDoc> d, ScoreDocument(c, id));
      if (d) docs->push_back(std::move(*d));
      return Status::OK();
    };
    if (filter_ids != nullptr) {
      for (int64_t id : *filter_ids) {
        if (docs->size() >= need) break;
        ACERVO_RETURN_IF_ERROR(score(id));
      }
      return Status::OK();
    }
    const bool filtered = where.sql != "1";
    std::string all;
    for (const std::string& f : c.q.required_fts) all += (all.empty() ? "(" : " AND (") + f + ")";
    int64_t before_page = INT64_MAX, before_doc = INT64_MAX;
    // One batch of each scan; true when that scan has nothing more.
    auto pages_batch = [&]() -> Result<bool> {
      std::vector<int64_t> batch;  // documents of the pages that pass, in order
      int rows = 0;
      {
        // The filter's placeholders come first in the text, so first bound.
        ACERVO_ASSIGN_OR_RETURN(
            Stmt s, Prepare("SELECT t.r, p.doc_id, p.in_pdf, " + (filtered ? "CASE WHEN " + where.sql + " THEN 1 ELSE 0 END" : std::string("1")) +
                                " FROM (SELECT rowid AS r FROM pages_fts WHERE pages_fts MATCH ? AND rowid < ? "
                                "ORDER BY rowid DESC LIMIT ?) t JOIN pages p ON p.id = t.r" +
                                (filtered ? " JOIN documents d ON d.id = p.doc_id" : "") + " ORDER BY t.r DESC",
                            /*cache=*/!filtered));
        int i = 1;
        if (filtered) {
          for (const Param& p : where.params) s.Bind(i++, p);
        }
        s.Bind(i++, all);
        s.Bind(i++, before_page);
        s.Bind(i, kPageBatch);
        ACERVO_RETURN_IF_ERROR(ForEachRow(s, "search", [&] {
          ++rows;
          before_page = s.Int(0);
          // Blank pages are never hits; documents the filter refuses never either.
          if (s.Int(2) != 0 && s.Int(3) != 0) batch.push_back(s.Int(1));
        }));
      }
      for (int64_t doc : batch) {
        if (docs->size() >= need) break;
        ACERVO_RETURN_IF_ERROR(score(doc));
      }
      return rows < kPageBatch;  // the index has no more matching pages
    };
    auto documents_batch = [&]() -> Result<bool> {
      ACERVO_ASSIGN_OR_RETURN(Stmt q, Prepare("SELECT d.id FROM documents d WHERE d.id < ? AND " + where.sql +
                                                  " ORDER BY d.id DESC LIMIT " + std::to_string(kPageBatch),
                                              false));
      q.Bind(1, before_doc);
      int i = 2;
      for (const Param& p : where.params) q.Bind(i++, p);
      std::vector<int64_t> ids;
      ACERVO_RETURN_IF_ERROR(ForEachRow(q, "search", [&] { ids.push_back(q.Int(0)); }));
      for (int64_t id : ids) {
        if (docs->size() >= need) break;
        ACERVO_RETURN_IF_ERROR(score(id));
      }
      if (!ids.empty()) before_doc = ids.back();
      return ids.size() < static_cast<size_t>(kPageBatch);
    };
    return AlternateScans(pages_batch, documents_batch, filtered, [&] { return docs->size() >= need; });
  }

  Result<std::string> PageText(int64_t page_row) {
    ACERVO_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT text FROM pages WHERE id = ?"));
    s.Bind(1, page_row);
    const int rc = s.Step();
    if (rc == SQLITE_DONE) return std::string();
    if (rc != SQLITE_ROW) return FromSqlite(rc, db_, "build snippet");
    return s.Text(0);
  }

  // --- SQLite plumbing (callers hold mu_) ---

  Result<Stmt> Prepare(const std::string& sql, bool cache = true) {
    if (cache) {
      auto it = cache_.find(sql);
      if (it != cache_.end()) return Stmt(db_, it->second, /*owned=*/false);
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return FromSqlite(rc, db_, "prepare statement");
    }
    if (!cache) return Stmt(db_, stmt, /*owned=*/true);
    cache_.emplace(sql, stmt);
    return Stmt(db_, stmt, /*owned=*/false);
  }

  Status Done(Stmt& s, const std::string& what) {
    const int rc = s.Step();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::OK();
    return FromSqlite(rc, db_, what);
  }

  template <typename F>
  Status ForEachRow(Stmt& s, const std::string& what, F&& on_row) {
    while (true) {
      const int rc = s.Step();
      if (rc == SQLITE_DONE) return Status::OK();
      if (rc != SQLITE_ROW) return FromSqlite(rc, db_, what);
      on_row();
    }
  }

  Status Exec(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return FromSqlite(rc, db_, sql);
    return Status::OK();
  }

  int ExecRc(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }

  Status ExecRetrying(const char* sql) {
    const Clock::time_point deadline = Clock::now() + options_.busy_timeout;
    for (int attempt = 0;; ++attempt) {
      const int rc = ExecRc(sql);
      if (rc == SQLITE_OK) return Status::OK();
      if (!IsBusy(rc) || Clock::now() >= deadline) return FromSqlite(rc, db_, sql);
      Backoff(attempt);
    }
  }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT. BEGIN IMMEDIATE takes the
  // write lock up front, so the transaction never has to upgrade a read lock
  // (the upgrade is where SQLite gives up with SQLITE_BUSY without waiting).
  // BEGIN and COMMIT are retried on SQLITE_BUSY until the timeout, on top of
  // SQLite's own busy handler, for the busy cases the handler does not cover
  // (WAL recovery by another connection). A failing body rolls back.
  template <typename F>
  Status WriteTransaction(const std::string& what, F&& body) {
    const Clock::time_point deadline = Clock::now() + options_.busy_timeout;
    for (int attempt = 0;; ++attempt) {
      int rc = ExecRc("BEGIN IMMEDIATE");
      if (IsBusy(rc) && Clock::now() < deadline) {
        Backoff(attempt);
        continue;
      }
      if (rc != SQLITE_OK) return FromSqlite(rc, db_, what + ": begin");
      Status s = body();
      if (!s.ok()) {
        ExecRc("ROLLBACK");
        return s;
      }
      while (IsBusy(rc = ExecRc("COMMIT")) && Clock::now() < deadline) Backoff(attempt++);
      if (rc != SQLITE_OK) {
        const Status err = FromSqlite(rc, db_, what + ": commit");
        ExecRc("ROLLBACK");
        return err;
      }
      return Status::OK();
    }
  }

  // A read-only store is read as it is: its schema must be one this
  // program reads.
  Status CheckReadableVersion() {
    const std::string what = "read " + path_.string();
    ACERVO_ASSIGN_OR_RETURN(
        Stmt q, Prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'", false));
    if (q.Step() != SQLITE_ROW) return FromSqlite(sqlite3_errcode(db_), db_, what);
    if (q.Int(0) == 0) return Status::Corrupt(path_.string() + " is not an Acervo store");
    ACERVO_ASSIGN_OR_RETURN(Stmt v, Prepare("SELECT coalesce(max(version), 0) FROM schema_version", false));
    if (v.Step() != SQLITE_ROW) return FromSqlite(sqlite3_errcode(db_), db_, what);
    const int64_t version = v.Int(0);
    if (version > kSqliteSchemaVersion) {
      return Status::Unavailable(path_.string() + " has schema version " + std::to_string(version) +
                                 ", newer than this program's " + std::to_string(kSqliteSchemaVersion) +
                                 "; upgrade Acervo");
    }
    if (version < kSqliteMinReadableVersion) {
      return Status::Unavailable(path_.string() + " has schema version " + std::to_string(version) +
                                 "; open it once with write access (e.g. acervo run or batch on a copy) to "
                                 "migrate it to version " + std::to_string(kSqliteSchemaVersion));
    }
    return Status::OK();
  }

  // The next migration after `version`: the first with a higher number
  // (numbers may have gaps while parallel work is merged); nullptr if none.
  static const Migration* NextMigration(int version) {
    for (const Migration& m : kMigrations) {
      if (m.version > version) return &m;
    }
    return nullptr;
  }

  // The schema version as committed, outside any transaction (0: none yet).
  Result<int> PeekVersion() {
    ACERVO_ASSIGN_OR_RETURN(
        Stmt q, Prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'", false));
    if (q.Step() != SQLITE_ROW) return FromSqlite(sqlite3_errcode(db_), db_, "read the schema version");
    if (q.Int(0) == 0) return 0;
    ACERVO_ASSIGN_OR_RETURN(Stmt v, Prepare("SELECT coalesce(max(version), 0) FROM schema_version", false));
    if (v.Step() != SQLITE_ROW) return FromSqlite(sqlite3_errcode(db_), db_, "read the schema version");
    return static_cast<int>(v.Int(0));
  }

  // Attaches the audit trail file as schema `trail`: unqualified `audit`
  // in the shared SQL (sql_shared.cc) then names its table. With `create`
  // (migration 13 only) a missing file is made, with the audit table,
  // its indexes and triggers; otherwise a missing file is an error, never
  // an empty trail started in its place.
  Status AttachTrail(bool create = false) {
    const fs::path trail = SqliteAuditTrailPath(path_);
    std::error_code ec;
    if (!fs::exists(trail, ec)) {
      if (!create) {
        return Status::Corrupt("the audit trail of " + path_.string() + ", " + trail.string() +
                               ", is missing (from schema v13 the trail is kept in that file beside the store: "
                               "restore it with the store from the same backup)");
      }
    }
    if (create) ACERVO_RETURN_IF_ERROR(PrepareTrailFile(trail));
    std::string name = trail.string();
    if (options_.read_only) {
      const char* main_name = sqlite3_db_filename(db_, "main");
      // The same mode as the store itself (SqliteReadOnlyName): read-only,
      // or immutable where not even the -shm file could be written.
      const bool immutable = sqlite3_uri_boolean(main_name, "immutable", 0) != 0;
      name = SqliteReadOnlyName(trail, !immutable);
    }
    ACERVO_ASSIGN_OR_RETURN(Stmt a, Prepare("ATTACH ? AS trail", false));
    a.Bind(1, name);
    ACERVO_RETURN_IF_ERROR(Done(a, "attach the audit trail " + trail.string()));
    trail_attached_ = true;
    if (options_.read_only) return Status::OK();
    return Exec(options_.durable ? "PRAGMA trail.synchronous = FULL" : "PRAGMA trail.synchronous = NORMAL");
  }

  // Migration 13's new file: WAL, and the audit table as schema v6 made it
  // (AuditTrailSql), on a connection of its own (the attached name would
  // have to qualify every statement of the shared DDL). A file left by an
  // interrupted migration is reused as it is.
  Status PrepareTrailFile(const fs::path& trail) {
    sqlite3* t = nullptr;
    int rc = sqlite3_open_v2(trail.c_str(), &t, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(t, sqlite3_close_v2);
    if (rc != SQLITE_OK) return FromSqlite(rc, t, "create the audit trail " + trail.string());
    sqlite3_busy_timeout(t, static_cast<int>(options_.busy_timeout.count()));
    // The check and the creation in one write transaction: two processes
    // opening a brand-new store at once both get here, and the second must
    // find the first one's table, not create it again ("table audit already
    // exists": SqliteStoreConcurrencyTest.TwoProcessesBothSucceed).
    char* msg = nullptr;
    bool has_table = false;
    rc = sqlite3_exec(t, "PRAGMA journal_mode = WAL; BEGIN IMMEDIATE;", nullptr, nullptr, &msg);
    if (rc == SQLITE_OK) {
      rc = sqlite3_exec(
          t, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'audit'",
          [](void* p, int, char**, char**) { return *static_cast<bool*>(p) = true, 0; }, &has_table, &msg);
    }
    if (rc == SQLITE_OK && !has_table) rc = sqlite3_exec(t, AuditTrailSql().c_str(), nullptr, nullptr, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(t, "COMMIT;", nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
      const std::string why = msg != nullptr ? msg : sqlite3_errstr(rc);
      sqlite3_free(msg);
      sqlite3_exec(t, "ROLLBACK;", nullptr, nullptr, nullptr);
      return Status::IOError("create the audit trail " + trail.string() + ": " + why);
    }
    return Status::OK();
  }

  // Migration 13, first step: every audit row of the store copied into the
  // trail file, committed there before the store's table is dropped (a
  // transaction over two WAL files is atomic per file only: this order
  // never loses a row). Rows already in the trail must be the store's own
  // (an interrupted migration); a trail of another store is refused.
  // Whether the store's own file still has the audit table (a store whose
  // rows were moved already, with its version taken back by hand, has not).
  Result<bool> StoreHasAuditTable() {
    ACERVO_ASSIGN_OR_RETURN(
        Stmt q, Prepare("SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = 'audit'", false));
    if (q.Step() != SQLITE_ROW) return FromSqlite(sqlite3_errcode(db_), db_, "read the schema");
    return q.Int(0) != 0;
  }

  Status CopyAuditToTrail(const std::string& what) {
    return WriteTransaction(what + ": copy the audit trail to " + SqliteAuditTrailPath(path_).string(),
                            [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(bool in_store, StoreHasAuditTable());
      if (!in_store) return Status::OK();  // moved already
      ACERVO_ASSIGN_OR_RETURN(Stmt q, Prepare(R"sql(
        SELECT (SELECT count(*) FROM trail.audit),
               (SELECT count(*) FROM trail.audit t JOIN main.audit m ON m.seq = t.seq AND m.hash = t.hash),
               (SELECT coalesce(max(seq), 0) FROM trail.audit))sql", false));
      if (q.Step() != SQLITE_ROW) return FromSqlite(sqlite3_errcode(db_), db_, what);
      if (q.Int(0) != q.Int(1)) {
        return Status::Corrupt(SqliteAuditTrailPath(path_).string() + " holds audit rows that are not " +
                               path_.string() + "'s (a trail left by another store?): move it away and open again");
      }
      ACERVO_ASSIGN_OR_RETURN(Stmt ins, Prepare(R"sql(
        INSERT INTO trail.audit (seq, at, user_name, address, action, target, detail, prev_hash, hash)
        SELECT seq, at, user_name, address, action, target, detail, prev_hash, hash
        FROM main.audit WHERE seq > ? ORDER BY seq)sql", false));
      ins.Bind(1, q.Int(2));
      return Done(ins, what);
    });
  }

  // Migration 13, second step (inside its transaction): the store's own
  // table dropped once every one of its rows is in the trail file.
  Status DropMovedAudit(const std::string& what) {
    ACERVO_ASSIGN_OR_RETURN(bool in_store, StoreHasAuditTable());
    if (!in_store) return Status::OK();  // moved already
    {  // (the statement finished before the DROP: SQLite refuses it while one runs)
      ACERVO_ASSIGN_OR_RETURN(Stmt q, Prepare(R"sql(
        SELECT count(*) FROM main.audit m
        WHERE NOT EXISTS (SELECT 1 FROM trail.audit t WHERE t.seq = m.seq AND t.hash = m.hash))sql", false));
      if (q.Step() != SQLITE_ROW) return FromSqlite(sqlite3_errcode(db_), db_, what);
      if (q.Int(0) != 0) {
        return Status::Corrupt(what + ": " + std::to_string(q.Int(0)) + " audit rows are not in " +
                               SqliteAuditTrailPath(path_).string());
      }
    }
    return Exec("DROP TABLE main.audit");
  }

  Status Migrate() {
    const std::string what = "migrate " + path_.string();
    while (true) {
      // Migration 13 needs the trail file attached and filled before its
      // transaction (ATTACH cannot run inside one).
      ACERVO_ASSIGN_OR_RETURN(int committed, PeekVersion());
      const Migration* coming = NextMigration(committed);
      if (coming != nullptr && coming->version == 13 && !trail_attached_) {
        ACERVO_RETURN_IF_ERROR(AttachTrail(/*create=*/true));
        ACERVO_RETURN_IF_ERROR(CopyAuditToTrail(what));
      }
      int version = 0;
      bool done = false;
      Status s = WriteTransaction(what, [&]() -> Status {
        ACERVO_RETURN_IF_ERROR(Exec(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)"));
        {
          ACERVO_ASSIGN_OR_RETURN(
              Stmt q, Prepare("SELECT coalesce(max(version), 0) FROM schema_version", false));
          const int rc = q.Step();
          if (rc != SQLITE_ROW) return FromSqlite(rc, db_, what);
          version = static_cast<int>(q.Int(0));
        }
        if (version == 0) {
          // A SQLite file that has tables but no schema history is somebody
          // else's database: refuse rather than add tables to it.
          ACERVO_ASSIGN_OR_RETURN(
              Stmt q, Prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                              "name NOT IN ('schema_version') AND name NOT LIKE 'sqlite_%'",
                              false));
          const int rc = q.Step();
          if (rc != SQLITE_ROW) return FromSqlite(rc, db_, what);
          if (q.Int(0) != 0) {
            return Status::Corrupt(path_.string() + " is a SQLite database but not an Acervo store");
          }
        }
        if (version > kSqliteSchemaVersion) {
          return Status::Unavailable(path_.string() + " has schema version " +
                                     std::to_string(version) + ", newer than this program's " +
                                     std::to_string(kSqliteSchemaVersion) + "; upgrade Acervo");
        }
        if (version == kSqliteSchemaVersion) {
          done = true;
          return Status::OK();
        }
        const Migration* next = NextMigration(version);
        if (next == nullptr) return Status::Internal(what + ": no migration after version " + std::to_string(version));
        const Migration& m = *next;
        const std::string shared = m.sql == nullptr ? m.shared(/*postgres=*/false) : std::string();
        ACERVO_RETURN_IF_ERROR(Exec(m.sql != nullptr ? m.sql : shared.c_str()));
        if (m.version == 5) ACERVO_RETURN_IF_ERROR(RelativizeStoredPaths(session_));
        // Migration 3's tables start empty; migration 7 empties them again
        // and folds in every stored page with the current tokenizer, so the
        // pages are folded there, once, with the fields' meaning and the
        // vocabulary's keys.
        if (m.version == 13) {
          // Another process took the store to v12 after this one looked:
          // attach and copy first (next turn of the loop).
          if (!trail_attached_) return Status::OK();
          ACERVO_RETURN_IF_ERROR(DropMovedAudit(what));
        }
        if (m.version == 14) ACERVO_RETURN_IF_ERROR(AddFieldWordsListing(what));
        if (m.version == 7) {
          ACERVO_RETURN_IF_ERROR(FillFieldMeaning(what));
          terms_.Clear();
          ACERVO_RETURN_IF_ERROR(MaintainTerms(what, /*fold_all=*/true));
        }
        ACERVO_ASSIGN_OR_RETURN(
            Stmt ins, Prepare("INSERT INTO schema_version (version, applied_at) "
                              "VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                              false));
        ins.Bind(1, m.version);
        return Done(ins, what);
      });
      ACERVO_RETURN_IF_ERROR(s);
      if (done) return Status::OK();
    }
  }

  // The connection as the shared SQL (sql_session.h) uses it; callers hold mu_.
  class Session final : public SqlSession {
   public:
    explicit Session(SqliteStore* store) : store_(store) {}
    bool postgres() const override { return false; }
    Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<Param>& params) override {
      // Statements whose text varies with the request (facets over a
      // filter) are not kept once the cache is large.
      ACERVO_ASSIGN_OR_RETURN(Stmt s, store_->Prepare(sql, /*cache=*/store_->cache_.size() < 512));
      int i = 1;
      for (const Param& p : params) s.Bind(i++, p);
      std::vector<SqlRow> rows;
      ACERVO_RETURN_IF_ERROR(store_->ForEachRow(s, "query", [&] {
        SqlRow row(static_cast<size_t>(s.Columns()));
        for (int c = 0; c < s.Columns(); ++c) {
          if (!s.IsNull(c)) row[static_cast<size_t>(c)] = s.Text(c);
        }
        rows.push_back(std::move(row));
      }));
      return rows;
    }
    Status Write(const std::string& what, const std::function<Status()>& body) override {
      return store_->WriteTransaction(what, body);
    }
    Status Read(const std::function<Status()>& body) override {
      ReadTransaction tx(store_);
      ACERVO_RETURN_IF_ERROR(tx.status());
      return body();
    }

   private:
    SqliteStore* store_;
  };

  std::mutex mu_;
  sqlite3* db_;
  fs::path path_;
  SqliteOptions options_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  TermBatch terms_;  // the current write transaction's term changes
  // The vocabulary of the pages not folded yet, for forgiving search, and
  // which pending pages it was built from.
  PendingVocabulary pending_vocab_;
  std::string pending_signature_;
  std::optional<std::vector<std::string>> allowed_loaded_;  // kAllowedLotsTable's rows (LoadAllowedLots)
  bool trail_attached_ = false;  // the audit trail file, schema `trail` (AttachTrail)
  Session session_;
  std::unique_ptr<AccessStore> access_;
  std::unique_ptr<ReviewStore> review_;
};

}  // namespace

fs::path SqliteAuditTrailPath(const fs::path& path) { return fs::path(path.string() + "-audit"); }

Result<std::unique_ptr<Store>> OpenSqliteStore(const fs::path& path, const SqliteOptions& options) {
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (!exists && (!options.create_if_missing || options.read_only)) {
    return Status::NotFound("store " + path.string() + " does not exist");
  }
  if (!exists && path.has_parent_path() && !fs::is_directory(path.parent_path(), ec)) {
    return Status::NotFound("cannot create store " + path.string() + ": folder " + path.parent_path().string() +
                            " does not exist");
  }
  sqlite3* db = nullptr;
  // NOMUTEX: the store serialises calls itself, one connection per object.
  int flags = SQLITE_OPEN_NOMUTEX;
  std::string name = path.string();
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    // On read-only media SQLite could not even create the -shm file a WAL
    // database needs to be read: such a file is immutable, so say so.
    const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
    const bool writable = ::access(path.c_str(), W_OK) == 0 && ::access(folder.c_str(), W_OK) == 0 &&
                          !OnReadOnlyFileSystem(path);
    name = SqliteReadOnlyName(path, writable);
  } else {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  }
  const int rc = sqlite3_open_v2(name.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = FromSqlite(rc, db, "open store " + path.string());
    sqlite3_close_v2(db);
    return s;
  }
  auto store = std::make_unique<SqliteStore>(db, path, options);
  ACERVO_RETURN_IF_ERROR(store->Init().WithContext("open store " + path.string()));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace acervo
