#include "acervo/indexer/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "acervo/indexer/field_value.h"
#include "acervo/indexer/query.h"
#include "acervo/indexer/access_store.h"
#include "pg_connection.h"
#include "analyzer.h"
#include "forgiving.h"
#include "search_common.h"
#include "sql_filter.h"
#include "sql_session.h"
#include "store_paths.h"
#include "term_index.h"

namespace acervo {
namespace {

using Clock = std::chrono::steady_clock;

struct Migration {
  int version;
  const char* sql;  // nullptr: `shared`
  std::string (*shared)(bool postgres) = nullptr;  // SQL both stores share (sql_session.h)
};

// Never edit a shipped migration: append the next one. Version numbers
// follow the SQLite store's so both describe the same logical schema.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION acervo_pt (COPY = portuguese);
ALTER TEXT SEARCH CONFIGURATION acervo_pt
  ALTER MAPPING FOR hword, hword_part, word WITH unaccent, portuguese_stem;
CREATE TABLE lots (
  id            TEXT PRIMARY KEY,
  project       TEXT NOT NULL DEFAULT '',
  box           TEXT NOT NULL DEFAULT '',
  operator_name TEXT NOT NULL DEFAULT '',
  description   TEXT NOT NULL DEFAULT '',
  profile_json  TEXT NOT NULL DEFAULT '',
  started_at    TEXT NOT NULL DEFAULT '',
  finished_at   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE documents (
  id                 BIGSERIAL PRIMARY KEY,
  lot_id             TEXT NOT NULL REFERENCES lots(id) ON DELETE CASCADE,
  document_id        TEXT NOT NULL,
  document_type      TEXT NOT NULL DEFAULT '',
  document_type_norm TEXT NOT NULL DEFAULT '',
  title              TEXT NOT NULL DEFAULT '',
  pdf_path           TEXT NOT NULL DEFAULT '',
  pdf_sha256         TEXT NOT NULL DEFAULT '',
  page_count         INTEGER NOT NULL DEFAULT 0,
  flags              TEXT NOT NULL DEFAULT '[]',
  indexed_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (lot_id, document_id)
);
CREATE INDEX documents_by_type ON documents(document_type_norm);
CREATE TABLE pages (
  id              BIGSERIAL PRIMARY KEY,
  doc_id          BIGINT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  number          INTEGER NOT NULL,
  pdf_page        INTEGER NOT NULL,
  in_pdf          BOOLEAN NOT NULL,
  source_path     TEXT NOT NULL DEFAULT '',
  page_in_file    INTEGER NOT NULL DEFAULT 1,
  master_path     TEXT NOT NULL DEFAULT '',
  master_sha256   TEXT NOT NULL DEFAULT '',
  text            TEXT NOT NULL DEFAULT '',
  tsv             TSVECTOR NOT NULL,
  mean_confidence DOUBLE PRECISION NOT NULL DEFAULT 0,
  skew_deg        DOUBLE PRECISION NOT NULL DEFAULT 0,
  orientation_deg DOUBLE PRECISION NOT NULL DEFAULT 0,
  blank           BOOLEAN NOT NULL DEFAULT false,
  blank_score     DOUBLE PRECISION NOT NULL DEFAULT 0,
  color_class     TEXT NOT NULL DEFAULT '',
  flags           TEXT NOT NULL DEFAULT '[]',
  stages          TEXT NOT NULL DEFAULT '',
  UNIQUE (doc_id, number)
);
CREATE INDEX pages_tsv ON pages USING gin(tsv);
CREATE TABLE fields (
  doc_id     BIGINT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal    INTEGER NOT NULL,
  name       TEXT NOT NULL,
  name_norm  TEXT NOT NULL,
  value      TEXT NOT NULL,
  value_norm TEXT NOT NULL,
  value_date TEXT,
  value_num  DOUBLE PRECISION,
  PRIMARY KEY (doc_id, ordinal)
);
CREATE INDEX fields_by_value  ON fields(name_norm, value_norm);
CREATE INDEX fields_by_date   ON fields(name_norm, value_date) WHERE value_date IS NOT NULL;
CREATE INDEX fields_by_number ON fields(name_norm, value_num)  WHERE value_num IS NOT NULL;
)sql"},
    {2, R"sql(
ALTER TABLE fields ADD COLUMN source TEXT NOT NULL DEFAULT '';
)sql"},
    // v3 (issue 6): the side tables of ranked retrieval ("champion lists",
    // docs/store.md), keyed by the lexemes of pages.tsv. term_pending lists
    // the pages not folded in yet: with several writers, BIGSERIAL ids do
    // not commit in order, so SQLite's "folded up to id N" mark would skip
    // pages of a transaction still open when a later one folds. Every
    // existing page starts pending; Migrate() folds them in the same
    // transaction.
    {3, R"sql(
CREATE TABLE term_stats (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  pages  BIGINT NOT NULL,
  tokens BIGINT NOT NULL
);
INSERT INTO term_stats (id, pages, tokens) VALUES (1, 0, 0);
CREATE TABLE term_df (
  term   TEXT COLLATE "C" PRIMARY KEY,
  df     BIGINT NOT NULL,
  listed BIGINT NOT NULL,
  floor  DOUBLE PRECISION NOT NULL
);
CREATE TABLE term_top (
  term    TEXT COLLATE "C" NOT NULL,
  impact  DOUBLE PRECISION NOT NULL,
  page_id BIGINT NOT NULL,
  doc_id  BIGINT NOT NULL,  -- the page's document: candidates need no page lookup
  PRIMARY KEY (term, impact, page_id)
);
CREATE INDEX term_top_by_page ON term_top(page_id);
CREATE TABLE term_pending (page_id BIGINT PRIMARY KEY);
INSERT INTO term_pending (page_id) SELECT id FROM pages;
-- Field filters read doc_id from the index alone (an index-only scan:
-- a common value no longer visits one heap page per document).
DROP INDEX fields_by_value;
CREATE INDEX fields_by_value ON fields(name_norm, value_norm) INCLUDE (doc_id);
-- pages.tsv filled by the server on insert, so pages can come by COPY.
DO $$ BEGIN
  EXECUTE format('CREATE TRIGGER pages_tsv BEFORE INSERT OR UPDATE OF text ON pages FOR EACH ROW '
                 'EXECUTE FUNCTION tsvector_update_trigger(tsv, %L, text)',
                 quote_ident(current_schema()) || '.acervo_pt');
END $$;
)sql"},
    // v4 (issue 3): which master page, and which part of it, each page shows
    // (two-page spreads split by `[image] split`); as in the SQLite store.
    {4, R"sql(
ALTER TABLE pages ADD COLUMN master_page INTEGER NOT NULL DEFAULT 0,
                  ADD COLUMN part TEXT NOT NULL DEFAULT 'whole'
                    CHECK (part IN ('whole', 'left', 'right')),
                  ADD COLUMN master_x INTEGER NOT NULL DEFAULT 0,
                  ADD COLUMN master_width INTEGER NOT NULL DEFAULT 0;
UPDATE pages SET master_page = number;
)sql"},
    // v5 (issue 12): PDF and master paths relative to the output root, so an
    // archive can move; each lot remembers its root. The DDL and the rows'
    // rewrite are shared with the other store (store_paths.h).
    {5, kSchemaV5Sql},
    // v6 (issue 13): word boxes, users, groups, grants, API tokens, audit
    // trail; the same tables on both backends (sql_shared.cc).
    {6, nullptr, SchemaV6Sql},
    // v7 (issue 15): forgiving search, as in the SQLite
    // store. pages.tsv is now computed by the client with the shared
    // analyzer (analyzer.h: surface tokens, no stemming, no stop words, plus
    // hyphenated words and identifiers joined), so both stores match the
    // same terms; Migrate() recomputes every page's tsv and refolds the
    // term tables (now with term_keys), and fills the fields' meaning.
    {7, R"sql(
DROP TRIGGER pages_tsv ON pages;
CREATE TABLE term_keys (
  key  TEXT COLLATE "C" NOT NULL,
  term TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (key, term)
);
CREATE INDEX term_keys_by_term ON term_keys(term);
ALTER TABLE fields ADD COLUMN value_key TEXT;
CREATE INDEX fields_by_key ON fields(name_norm, value_key) WHERE value_key IS NOT NULL;
CREATE TABLE field_words (
  name_norm TEXT NOT NULL,
  word      TEXT NOT NULL,
  doc_id    BIGINT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  PRIMARY KEY (name_norm, word, doc_id)
);
CREATE INDEX field_words_by_doc ON field_words(doc_id);
TRUNCATE term_top, term_df, term_pending;
UPDATE term_stats SET pages = 0, tokens = 0;
INSERT INTO term_pending (page_id) SELECT id FROM pages;
)sql"},
    // v8 (issue 14): review items, document history, withdrawals, lot
    // sources (review_store.cc).
    {8, nullptr, SchemaV8Sql},
    // v9 (issue 18): the work queue shared by the
    // machines of a centre (work_queue.h, docs/scaling.md). PostgreSQL
    // only; the SQLite store records the version without tables.
    {9, R"sql(
CREATE TABLE queue_lots (
  id BIGSERIAL PRIMARY KEY,
  lot_dir TEXT NOT NULL,                 -- relative to the shared root, or absolute
  lot_id TEXT NOT NULL DEFAULT '',       -- known once planned
  options TEXT NOT NULL DEFAULT '{}',    -- how to run it (JSON)
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  enqueued_by TEXT NOT NULL DEFAULT '',
  enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ,
  fingerprint TEXT NOT NULL DEFAULT '',  -- of the lot folder when planned
  error TEXT NOT NULL DEFAULT '',
  report TEXT);                          -- the lot report, set once by its finalise unit
CREATE UNIQUE INDEX queue_lots_active_dir ON queue_lots(lot_dir) WHERE state IN ('queued', 'running');
CREATE UNIQUE INDEX queue_lots_active_id ON queue_lots(lot_id) WHERE state IN ('queued', 'running') AND lot_id <> '';
CREATE INDEX queue_lots_finished ON queue_lots(finished_at) WHERE finished_at IS NOT NULL;
CREATE TABLE queue_units (
  id BIGSERIAL PRIMARY KEY,
  lot BIGINT NOT NULL REFERENCES queue_lots(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('plan', 'pages', 'document', 'finalise')),
  document_index INTEGER NOT NULL DEFAULT -1,
  document_id TEXT NOT NULL DEFAULT '',
  first_page INTEGER NOT NULL DEFAULT 0,
  end_page INTEGER NOT NULL DEFAULT 0,
  pages INTEGER NOT NULL DEFAULT 0,
  parent BIGINT REFERENCES queue_units(id) ON DELETE CASCADE,  -- a page range's document unit
  waiting INTEGER NOT NULL DEFAULT 0,    -- a document unit's page ranges not finished
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  claim BIGINT,                          -- fencing token of the current (or completing) claim
  worker TEXT NOT NULL DEFAULT '',
  lease_until TIMESTAMPTZ,
  claimed_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ,
  error TEXT NOT NULL DEFAULT '',
  pages_computed INTEGER NOT NULL DEFAULT 0,
  report TEXT,
  UNIQUE (lot, kind, document_index, first_page));
CREATE INDEX queue_units_ready ON queue_units(lot, id) WHERE state = 'pending' AND waiting = 0;
CREATE INDEX queue_units_leases ON queue_units(lease_until) WHERE state = 'running';
CREATE UNIQUE INDEX queue_units_claim ON queue_units(claim) WHERE claim IS NOT NULL;
CREATE INDEX queue_units_finished ON queue_units(finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX queue_units_parent ON queue_units(parent) WHERE parent IS NOT NULL;
-- A lot's unfinished units: is this completion its last? (No counter on the
-- lot row: one hot row would serialise every completion of a lot.)
CREATE INDEX queue_units_unfinished ON queue_units(lot) WHERE state IN ('pending', 'running');
CREATE TABLE queue_workers (
  name TEXT PRIMARY KEY,
  host TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL DEFAULT 0,
  jobs INTEGER NOT NULL DEFAULT 0,
  lease INTEGER NOT NULL DEFAULT 60,     -- seconds; silent for longer = lost
  state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'draining', 'stopped')),
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen TIMESTAMPTZ NOT NULL DEFAULT now());
)sql"},
    // v10 (issue 19): users.source and users.cpf
    // (sql_session.h, the same SQL on both backends).
    {10, kSchemaV10Sql},
    // v11 (issue 14, item 5): page_replacements (review_store.cc).
    {11, nullptr, SchemaV11Sql},
    // v12 (issue 13, item 11): pages_by_doc (sql_session.h).
    {12, kSchemaV12Sql},
    // v13 (issue 13, item 11; provisional number): on SQLite the audit trail
    // moves to a file of its own, so that its commits stop emptying the
    // search connections' page caches. PostgreSQL keeps it where it is: its
    // buffer cache is shared by every connection and a commit invalidates
    // nothing in it. Recorded so both stores number one logical schema.
    {13, "SELECT 1"},
    // v14 (issue 13, item 11): field_words carries its document's type, lot
    // and document id (the lot and id in the "C" collation the listings
    // sort by), filled and indexed by the SQL both backends share
    // (kSchemaV14FillSql, run after these columns by Migrate).
    {14, R"sql(
ALTER TABLE field_words
  ADD COLUMN IF NOT EXISTS document_type_norm TEXT NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS lot_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS document_id TEXT COLLATE "C" NOT NULL DEFAULT '';
)sql"},
};
static_assert(std::size(kMigrations) > 0 &&
              kMigrations[std::size(kMigrations) - 1].version == kPostgresSchemaVersion);

constexpr double kOtherPagesWeight = 0.25;  // as in the SQLite store

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string ParamText(const Param& p) {
  if (const std::string* s = std::get_if<std::string>(&p)) return *s;
  if (const int64_t* i = std::get_if<int64_t>(&p)) return std::to_string(*i);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", std::get<double>(p));
  return buf;
}

std::string FlagsToJson(const std::vector<std::string>& flags) {
  return nlohmann::json(flags).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> FlagsFromJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}


// A PostgreSQL array literal ('{"a","b"}') for a text[] parameter.
void CopyField(std::string* row, std::string_view v, bool first = false) {
  if (!first) *row += '\t';
  for (char c : v) {
    switch (c) {
      case '\\': *row += "\\\\"; break;
      case '\t': *row += "\\t"; break;
      case '\n': *row += "\\n"; break;
      case '\r': *row += "\\r"; break;
      default: *row += c;
    }
  }
}
void CopyNull(std::string* row) { *row += "\t\\N"; }

std::string Lexeme(const std::string& w) {
  std::string out = "'";
  for (char c : w) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

// A page's tsvector in PostgreSQL's text form, from the shared analyzer:
// 'term':pos,pos ... (positions 1-based, at most 16383, at most 256 per
// lexeme, as PostgreSQL keeps them).
std::string TsvectorText(std::string_view text) {
  std::map<std::string, std::vector<int>> lexemes;
  for (const TextToken& t : AnalyzeText(text)) {
    std::vector<int>& pos = lexemes[t.term];
    if (pos.size() < 256) pos.push_back(std::min(t.position + 1, 16383));
  }
  std::string out;
  for (const auto& [term, pos] : lexemes) {
    if (!out.empty()) out += ' ';
    out += Lexeme(term);
    out += ':';
    for (size_t i = 0; i < pos.size(); ++i) {
      if (i > 0) out += ',';
      out += std::to_string(pos[i]);
    }
  }
  return out;
}

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(std::unique_ptr<PgConnection> pg)
      : pg_(std::move(pg)), session_(this), access_(NewSqlAccessStore(&session_, &mu_)),
        review_(NewSqlReviewStore(&session_, &mu_)) {}

  // Session-private work tables: the postings of one fold, the facets'
  // document ids (again after every reconnection: temp tables die with
  // their session).
  static Status SetUpSession(PgConnection& c) {
    ACERVO_RETURN_IF_ERROR(c.Exec("CREATE TEMP TABLE IF NOT EXISTS fold_post (term TEXT COLLATE \"C\", page_id BIGINT, "
                                  "doc_id BIGINT, listable BOOLEAN, tf INTEGER) ON COMMIT DELETE ROWS"));
    return c.Exec(kCreateFacetIdsSql);
  }

  Status Init() { return Migrate(); }

  Status UpsertLot(const LotRecord& lot) override {
    if (lot.id.empty()) return Status::InvalidArgument("lot id is empty");
    std::lock_guard<std::mutex> lock(mu_);
    return WriteTransaction("store lot " + lot.id, [&]() -> Status {
      return Exec(R"sql(
        INSERT INTO lots (id, project, box, operator_name, description, profile_json, started_at, finished_at,
                          output_root)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO UPDATE SET
          project = excluded.project, box = excluded.box, operator_name = excluded.operator_name,
          description = excluded.description, profile_json = excluded.profile_json,
          started_at = excluded.started_at, finished_at = excluded.finished_at,
          output_root = excluded.output_root)sql",
                  {lot.id, lot.project, lot.box, lot.operator_name, lot.description, lot.profile_json,
                   lot.started_at, lot.finished_at, lot.output_root},
                  "store lot " + lot.id)
          .status();
    });
  }

  Status PutDocument(const DocumentRecord& doc) override {
    ACERVO_RETURN_IF_ERROR(Validate(doc));
    const std::string what = "store document " + doc.lot_id + "/" + doc.document_id;
    std::lock_guard<std::mutex> lock(mu_);
    return WriteTransaction(what, [&]() -> Status { return PutLocked({&doc}, what); });
  }

  Status PutDocuments(const std::vector<DocumentRecord>& docs) override {
    for (const DocumentRecord& d : docs) ACERVO_RETURN_IF_ERROR(Validate(d));
    if (docs.empty()) return Status::OK();
    // The same document twice in one call: the last one wins, as if stored
    // one after the other.
    std::vector<const DocumentRecord*> keep;
    {
      std::unordered_set<std::string> seen;
      for (size_t i = docs.size(); i-- > 0;) {
        if (seen.insert(docs[i].lot_id + '\n' + docs[i].document_id).second) keep.push_back(&docs[i]);
      }
      std::reverse(keep.begin(), keep.end());
    }
    const std::string what = "store " + std::to_string(docs.size()) + " documents";
    std::lock_guard<std::mutex> lock(mu_);
    return WriteTransaction(what, [&]() -> Status { return PutLocked(keep, what); });
  }

  // Documents (distinct keys) inside the caller's transaction: old versions
  // deleted (and taken out of the term tables), then documents, fields,
  // pages and their term_pending rows sent with COPY, with ids taken from
  // the sequences first (a trigger computes pages.tsv on the server). At
  // the end the pending pages are folded into the term tables when there
  // are kFoldPages of them.
  Status PutLocked(const std::vector<const DocumentRecord*>& docs, const std::string& what) {
    std::vector<std::string> keys, lots, ids;
    for (const DocumentRecord* d : docs) {
      keys.push_back(d->lot_id + "\n" + d->document_id);
      lots.push_back(d->lot_id);
      ids.push_back(d->document_id);
    }
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());  // one lock order for every writer
    ACERVO_RETURN_IF_ERROR(Exec("SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest($1::text[]) "
                                "WITH ORDINALITY AS t(k, i) ORDER BY i",
                                {TextArray(sorted)}, what)
                               .status());
    {
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT id FROM lots WHERE id = ANY($1::text[])", {TextArray(lots)}, what));
      std::unordered_set<std::string> known;
      for (int i = 0; i < PQntuples(r.get()); ++i) known.insert(PQgetvalue(r.get(), i, 0));
      for (const DocumentRecord* d : docs) {
        if (known.count(d->lot_id) == 0) {
          return Status::NotFound("store document " + d->lot_id + "/" + d->document_id + ": lot " + d->lot_id +
                                  " is not in the store (UpsertLot it first)");
        }
      }
    }
    {
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT d.id FROM documents d JOIN unnest($1::text[], $2::text[]) "
                                                "AS k(l, i) ON d.lot_id = k.l AND d.document_id = k.i",
                                                {TextArray(lots), TextArray(ids)}, what));
      std::vector<int64_t> old;
      for (int i = 0; i < PQntuples(r.get()); ++i) old.push_back(std::stoll(PQgetvalue(r.get(), i, 0)));
      if (!old.empty()) {
        ACERVO_RETURN_IF_ERROR(UnindexDocuments(old, what));
        ACERVO_RETURN_IF_ERROR(Exec("DELETE FROM documents WHERE id = ANY($1::bigint[])", {IdArray(old)}, what).status());
      }
    }
    size_t n_pages = 0;
    for (const DocumentRecord* d : docs) n_pages += d->pages.size();
    ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> rows, NextIds("documents_id_seq", docs.size(), what));
    ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> page_rows, NextIds("pages_id_seq", n_pages, what));
    size_t page_at = 0;
    std::string doc_data, field_data, words_data, page_data, pending_data, page_words_data, row;
    for (size_t k = 0; k < docs.size(); ++k) {
      const DocumentRecord& doc = *docs[k];
      row.clear();
      CopyField(&row, rows[k], true);
      CopyField(&row, doc.lot_id);
      CopyField(&row, doc.document_id);
      CopyField(&row, doc.document_type);
      CopyField(&row, NormalizeFieldValue(doc.document_type));
      CopyField(&row, doc.title);
      CopyField(&row, doc.pdf_path);
      CopyField(&row, doc.pdf_sha256);
      CopyField(&row, std::to_string(doc.page_count));
      CopyField(&row, FlagsToJson(doc.flags));
      doc_data += row + '\n';
      for (size_t i = 0; i < doc.fields.size(); ++i) {
        const FieldRecord& f = doc.fields[i];
        row.clear();
        CopyField(&row, rows[k], true);
        CopyField(&row, std::to_string(i));
        CopyField(&row, f.name);
        CopyField(&row, NormalizeFieldValue(f.name));
        CopyField(&row, f.value);
        CopyField(&row, NormalizeFieldValue(f.value));
        if (std::optional<std::string> date = ParseIsoDate(f.value)) {
          CopyField(&row, *date);
        } else {
          CopyNull(&row);
        }
        if (std::optional<double> n = ParseNumber(f.value)) {
          CopyField(&row, ParamText(*n));
        } else {
          CopyNull(&row);
        }
        CopyField(&row, f.source);
        if (std::optional<std::string> key = FieldKey(f.value)) {
          CopyField(&row, *key);
        } else {
          CopyNull(&row);
        }
        field_data += row + '\n';
        for (const std::string& w : FieldWords(f.value)) {
          row.clear();
          CopyField(&row, NormalizeFieldValue(f.name), true);
          CopyField(&row, w);
          CopyField(&row, rows[k]);
          words_data += row + '\n';
        }
      }
      for (const PageRecord& p : doc.pages) {
        row.clear();
        pending_data += page_rows[page_at] + '\n';
        CopyField(&row, page_rows[page_at++], true);
        CopyField(&row, rows[k]);
        CopyField(&row, std::to_string(p.number));
        CopyField(&row, std::to_string(p.pdf_page));
        CopyField(&row, p.in_pdf ? "t" : "f");
        CopyField(&row, p.source_path);
        CopyField(&row, std::to_string(p.page_in_file));
        CopyField(&row, p.master_path);
        CopyField(&row, p.master_sha256);
        CopyField(&row, p.text);
        CopyField(&row, TsvectorText(p.text));
        CopyField(&row, ParamText(p.mean_confidence));
        CopyField(&row, ParamText(p.skew_deg));
        CopyField(&row, ParamText(p.orientation_deg));
        CopyField(&row, p.blank ? "t" : "f");
        CopyField(&row, ParamText(p.blank_score));
        CopyField(&row, p.color_class);
        CopyField(&row, FlagsToJson(p.flags));
        CopyField(&row, p.stages);
        CopyField(&row, std::to_string(p.master_page > 0 ? p.master_page : p.number));
        CopyField(&row, p.part);
        CopyField(&row, std::to_string(p.master_x));
        CopyField(&row, std::to_string(p.master_width));
        page_data += row + '\n';
        if (p.image_width > 0 || !p.words.empty()) {
          row.clear();
          CopyField(&row, page_rows[page_at - 1], true);
          CopyField(&row, std::to_string(p.image_width));
          CopyField(&row, std::to_string(p.image_height));
          CopyField(&row, EncodeWordBoxes(p.words));
          page_words_data += row + '\n';
        }
      }
    }
    ACERVO_RETURN_IF_ERROR(CopyIn("COPY documents (id, lot_id, document_id, document_type, document_type_norm, title, "
                                  "pdf_path, pdf_sha256, page_count, flags) FROM STDIN",
                                  doc_data, what + " (documents)"));
    if (!field_data.empty()) {
      ACERVO_RETURN_IF_ERROR(CopyIn("COPY fields (doc_id, ordinal, name, name_norm, value, value_norm, value_date, "
                                    "value_num, source, value_key) FROM STDIN",
                                    field_data, what + " (fields)"));
    }
    if (!words_data.empty()) {
      // One value may repeat a word: COPY has no ON CONFLICT, so words are
      // deduplicated per value (FieldWords) and values of one name per
      // document through a staging step.
      ACERVO_RETURN_IF_ERROR(Exec("CREATE TEMP TABLE IF NOT EXISTS field_words_in (name_norm TEXT, word TEXT, "
                                  "doc_id BIGINT) ON COMMIT DELETE ROWS"));
      ACERVO_RETURN_IF_ERROR(CopyIn("COPY field_words_in (name_norm, word, doc_id) FROM STDIN", words_data,
                                    what + " (field words)"));
      // Each row with its document's type, lot and id (schema v14).
      ACERVO_RETURN_IF_ERROR(Exec("INSERT INTO field_words (name_norm, word, doc_id, document_type_norm, lot_id, "
                                  "document_id) SELECT DISTINCT i.name_norm, i.word, i.doc_id, d.document_type_norm, "
                                  "d.lot_id, d.document_id FROM field_words_in i JOIN documents d ON d.id = i.doc_id "
                                  "ON CONFLICT DO NOTHING"));
      ACERVO_RETURN_IF_ERROR(Exec("TRUNCATE field_words_in"));
    }
    if (!page_data.empty()) {
      ACERVO_RETURN_IF_ERROR(CopyIn("COPY pages (id, doc_id, number, pdf_page, in_pdf, source_path, page_in_file, "
                                    "master_path, master_sha256, text, tsv, mean_confidence, skew_deg, orientation_deg, "
                                    "blank, blank_score, color_class, flags, stages, master_page, part, master_x, "
                                    "master_width) FROM STDIN",
                                    page_data, what + " (pages)"));
      ACERVO_RETURN_IF_ERROR(CopyIn("COPY term_pending (page_id) FROM STDIN", pending_data, what + " (pages)"));
    }
    if (!page_words_data.empty()) {
      ACERVO_RETURN_IF_ERROR(CopyIn("COPY page_words (page_id, width, height, words) FROM STDIN", page_words_data,
                                    what + " (word boxes)"));
    }
    // Review items, history, flags (schema v8).
    for (const DocumentRecord* d : docs) ACERVO_RETURN_IF_ERROR(WriteDocumentReview(session_, *d));
    return MaintainTerms(what, /*fold_all=*/false);
  }

  // `n` new values of a sequence.
  Result<std::vector<std::string>> NextIds(const char* sequence, size_t n, const std::string& what) {
    std::vector<std::string> out;
    if (n == 0) return out;
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT nextval($1::regclass) FROM generate_series(1, $2)",
                                              {std::string(sequence), std::to_string(n)}, what));
    if (PQntuples(r.get()) != static_cast<int>(n)) return Status::IOError(what + ": no ids from " + sequence);
    for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(PQgetvalue(r.get(), i, 0));
    return out;
  }

  // COPY ... FROM STDIN with `data` (text format rows).
  Status CopyIn(const std::string& sql, const std::string& data, const std::string& what) {
    PGconn* conn_ = pg_->raw();
    ResultPtr r(PQexec(conn_, sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) return FromResult(r.get(), what);
    constexpr size_t kChunk = 1 << 20;
    for (size_t at = 0; at < data.size(); at += kChunk) {
      const size_t n = std::min(kChunk, data.size() - at);
      if (PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) != 1) {
        return Status::Unavailable(what + ": " + PQerrorMessage(conn_));
      }
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) return Status::Unavailable(what + ": " + PQerrorMessage(conn_));
    Status s;
    while (PGresult* res = PQgetResult(conn_)) {
      ResultPtr owned(res, &PQclear);
      if (s.ok() && PQresultStatus(res) != PGRES_COMMAND_OK) s = FromResult(res, what);
    }
    return s;
  }

  Result<std::optional<DocumentRecord>> GetDocument(const std::string& lot_id,
                                                    const std::string& document_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT id FROM documents WHERE lot_id = $1 AND document_id = $2",
                                              {lot_id, document_id}, "read document"));
    if (PQntuples(r.get()) == 0) return std::optional<DocumentRecord>();
    ACERVO_ASSIGN_OR_RETURN(DocumentRecord d, LoadDocument(PQgetvalue(r.get(), 0, 0), true));
    return std::optional<DocumentRecord>(std::move(d));
  }

  Result<std::vector<DocumentRecord>> ListDocuments(const std::string& lot_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT id FROM documents WHERE lot_id = $1 ORDER BY document_id",
                                              {lot_id}, "list documents of " + lot_id));
    std::vector<DocumentRecord> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      ACERVO_ASSIGN_OR_RETURN(DocumentRecord d, LoadDocument(PQgetvalue(r.get(), i, 0), false));
      out.push_back(std::move(d));
    }
    return out;
  }

  Result<std::vector<SearchHit>> Search(const SearchRequest& request) override {
    ACERVO_RETURN_IF_ERROR(CheckLimits(request));
    ACERVO_ASSIGN_OR_RETURN(ParsedQuery query, ParseQuery(request.query));
    ACERVO_ASSIGN_OR_RETURN(SqlParts where, DocumentFilterWithAccess(request, query, "true"));
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_RETURN_IF_ERROR(Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}, "search").status());
    Result<std::vector<SearchHit>> hits = SearchLocked(request, query, where);
    (void)Exec("ROLLBACK", {}, "search");
    return PlainQueryError(std::move(hits));
  }

  Result<std::vector<SearchHit>> SearchLocked(const SearchRequest& request, const ParsedQuery& query,
                                              const SqlParts& where) {
    ACERVO_ASSIGN_OR_RETURN(Expanded e, ExpandAndTranslate(request, query));
    if (request.sort != SearchRequest::Sort::kRelevance) {
      return ListByDate(e.query, e.required, e.excluded, where, request);
    }
    if (e.query.query.required_fts.empty()) {
      // `field:words type:T` ANDed at the top: read from field_words_listed
      // (schema v14), the rest of the filter checked on each document.
      ParsedQuery rest = query;
      const ListingDrivers drivers = TakeListingDrivers(&rest);
      SqlParts list = where;
      if (drivers.type) {
        ACERVO_ASSIGN_OR_RETURN(list, DocumentFilterWithAccess(request, rest, "true"));
      }
      for (const std::string& tsq : e.excluded) {
        list.sql += std::string(" AND d.id NOT IN ") + kPagesMatching;
        list.params.push_back(tsq);
      }
      if (drivers.type) {
        return ListByFieldAndType(*drivers.field, drivers.type->value, list, request.limit, request.offset);
      }
      return ListMatching(list, request.limit, request.offset);
    }
    ACERVO_ASSIGN_OR_RETURN(std::string tsq, FtsToTsquery(e.query.query.RankingFts()));
    return RankTopK(e.query, tsq, e.required, e.excluded, where, request.limit, request.offset);
  }

  // A request's query with its forgiving variants (its field names checked
  // first) and the tsquery of each of its required and excluded clauses.
  struct Expanded {
    ExpandedQuery query;
    std::vector<std::string> required, excluded;
  };
  Result<Expanded> ExpandAndTranslate(const SearchRequest& request, const ParsedQuery& query) {
    Expanded e;
    SessionVocabulary vocab = StoreVocabulary();
    ACERVO_ASSIGN_OR_RETURN(e.query, CheckAndExpand(session_, vocab, request, query));
    ACERVO_RETURN_IF_ERROR(TranslateClauses(e.query.query, &e.required, &e.excluded));
    return e;
  }

  Result<SearchFacets> Facets(const SearchRequest& request) override {
    ACERVO_ASSIGN_OR_RETURN(ParsedQuery query, ParseQuery(request.query));
    ACERVO_ASSIGN_OR_RETURN(SqlParts where, DocumentFilterWithAccess(request, query, "true"));
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_RETURN_IF_ERROR(Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}, "facets").status());
    Result<SearchFacets> facets = [&]() -> Result<SearchFacets> {
      ACERVO_ASSIGN_OR_RETURN(Expanded e, ExpandAndTranslate(request, query));
      return ComputeFacets(session_, MatchingDocuments(e.required, e.excluded, where));
    }();
    (void)Exec("ROLLBACK", {}, "facets");
    return PlainQueryError(std::move(facets));
  }

  Result<std::optional<PageWords>> GetPageWords(const std::string& lot_id, const std::string& document_id,
                                                int number) override {
    std::lock_guard<std::mutex> lock(mu_);
    return ReadPageWords(session_, lot_id, document_id, number);
  }

  Result<std::vector<LotSummary>> LotSummaries() override {
    std::lock_guard<std::mutex> lock(mu_);
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
      ACERVO_ASSIGN_OR_RETURN(std::vector<int64_t> ids, PrepareWithdrawal(session_, lot_id, document_id, user, reason));
      n = static_cast<int>(ids.size());
      if (ids.empty()) return Status::OK();
      ACERVO_RETURN_IF_ERROR(UnindexDocuments(ids, what));
      ACERVO_RETURN_IF_ERROR(Exec("DELETE FROM documents WHERE id = ANY($1::bigint[])", {IdArray(ids)}, what).status());
      return MaintainTerms(what, /*fold_all=*/false);
    });
    ACERVO_RETURN_IF_ERROR(s);
    return n;
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
  // built (their count and id sum say so).
  Status EnsurePendingVocabulary() {
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT count(*), coalesce(sum(page_id), 0) FROM term_pending", {},
                                              "search"));
    const std::string signature = std::string(PQgetvalue(r.get(), 0, 0)) + "/" + PQgetvalue(r.get(), 0, 1);
    if (signature == pending_signature_) return Status::OK();
    pending_vocab_.Clear();
    pending_signature_.clear();
    ACERVO_ASSIGN_OR_RETURN(ResultPtr t, Exec("SELECT p.text FROM term_pending t JOIN pages p ON p.id = t.page_id", {},
                                              "search"));
    for (int i = 0; i < PQntuples(t.get()); ++i) pending_vocab_.AddPage(PQgetvalue(t.get(), i, 0));
    pending_signature_ = signature;
    return Status::OK();
  }

  Result<std::vector<LotRecord>> ListLots() override {
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT id, project, box, operator_name, description, profile_json, "
                                              "started_at, finished_at, output_root FROM lots ORDER BY id COLLATE \"C\"",
                                              {}, "list lots"));
    std::vector<LotRecord> lots;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      auto v = [&](int c) { return std::string(PQgetvalue(r.get(), i, c)); };
      lots.push_back({v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7), v(8)});
    }
    return lots;
  }

  Result<std::optional<std::string>> QueuedLotFolder(const std::string& lot_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    // A lot id is known once its plan ran; a lot still waiting for its plan
    // is matched by nothing (its plan refuses the lot while a run holds the
    // output folder: OpenOutputPass's lock).
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT lot_dir FROM queue_lots WHERE lot_id = $1 AND state IN "
                                              "('queued', 'running') ORDER BY id LIMIT 1",
                                              {lot_id}, "look for lot " + lot_id + " in the work queue"));
    if (PQntuples(r.get()) == 0) return std::optional<std::string>();
    return std::optional<std::string>(PQgetvalue(r.get(), 0, 0));
  }

  Result<StoreStats> Stats() override {
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT (SELECT count(*) FROM lots), (SELECT count(*) FROM documents), "
                                              "(SELECT count(*) FROM pages)",
                                              {}, "count store rows"));
    StoreStats s;
    s.lots = std::stoll(PQgetvalue(r.get(), 0, 0));
    s.documents = std::stoll(PQgetvalue(r.get(), 0, 1));
    s.pages = std::stoll(PQgetvalue(r.get(), 0, 2));
    return s;
  }

 private:
  static Status Validate(const DocumentRecord& doc) {
    if (doc.lot_id.empty()) return Status::InvalidArgument("document without a lot id");
    if (doc.document_id.empty()) return Status::InvalidArgument("document of lot " + doc.lot_id + " without a document id");
    const std::string who = doc.lot_id + "/" + doc.document_id;
    std::vector<int> numbers;
    for (const PageRecord& p : doc.pages) {
      const std::string page = who + " page " + std::to_string(p.number);
      if (p.number < 1) return Status::InvalidArgument(page + ": page numbers start at 1");
      if (p.in_pdf && p.pdf_page < 1) return Status::InvalidArgument(page + ": a page in the PDF needs its pdf_page");
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
      if (NormalizeFieldValue(f.name).empty()) return Status::InvalidArgument(who + ": a field with an empty name");
    }
    return Status::OK();
  }

  // --- Term tables (champion lists; docs/store.md) ---
  //
  // As in the SQLite store, new pages are not added to the term tables one
  // commit at a time: they are listed in term_pending, searched directly
  // (tsv @@ query over that short list), and folded in, set-based, by the
  // commit that brings them to kFoldPages. A term is a lexeme of pages.tsv
  // (unaccented, stemmed), its tf the number of its positions in the page,
  // a page's length the positions of all its lexemes (stop words are not
  // indexed, so they do not count).
  static constexpr int64_t kFoldPages = 1000;
  static constexpr int64_t kFoldChunk = 5000;  // pages per fold statement when folding everything

  // Locks the term_stats row: folds and deletions of folded pages are
  // serialised (concurrent plain inserts are not).
  Status LockTermStats(const std::string& what) {
    return Exec("SELECT 1 FROM term_stats WHERE id = 1 FOR UPDATE", {}, what).status();
  }

  // Before documents are deleted: their pending pages leave term_pending;
  // their folded pages leave df, the page and token counts, and term_top.
  Status UnindexDocuments(const std::vector<int64_t>& doc_rows, const std::string& what) {
    ACERVO_RETURN_IF_ERROR(LockTermStats(what));
    const std::string docs = IdArray(doc_rows);
    ACERVO_RETURN_IF_ERROR(Exec("DELETE FROM term_pending WHERE page_id IN "
                                "(SELECT id FROM pages WHERE doc_id = ANY($1::bigint[]))",
                                {docs}, what)
                               .status());
    // What is left of their pages was folded.
    ACERVO_RETURN_IF_ERROR(Exec(R"sql(
      UPDATE term_stats SET pages = pages - x.n, tokens = tokens - x.t
      FROM (SELECT count(*) AS n, coalesce(sum((SELECT sum(coalesce(array_length(u.positions, 1), 1))
                                                FROM unnest(p.tsv) u)), 0) AS t
            FROM pages p WHERE p.doc_id = ANY($1::bigint[])) x
      WHERE id = 1)sql",
                                {docs}, what)
                               .status());
    ACERVO_RETURN_IF_ERROR(Exec(R"sql(
      UPDATE term_df t SET df = t.df - c.n
      FROM (SELECT u.lexeme AS term, count(*) AS n FROM pages p, unnest(p.tsv) u
            WHERE p.doc_id = ANY($1::bigint[]) GROUP BY 1) c
      WHERE t.term = c.term)sql",
                                {docs}, what)
                               .status());
    ACERVO_RETURN_IF_ERROR(Exec(R"sql(
      WITH del AS (DELETE FROM term_top WHERE page_id IN (SELECT id FROM pages WHERE doc_id = ANY($1::bigint[]))
                   RETURNING term)
      UPDATE term_df t SET listed = t.listed - c.n
      FROM (SELECT term, count(*) AS n FROM del GROUP BY term) c WHERE t.term = c.term)sql",
                                {docs}, what)
                               .status());
    return Exec(R"sql(
      WITH gone AS (
        DELETE FROM term_df WHERE df <= 0 AND listed <= 0 AND term IN
          (SELECT u.lexeme FROM pages p, unnest(p.tsv) u WHERE p.doc_id = ANY($1::bigint[]))
        RETURNING term)
      DELETE FROM term_keys WHERE term IN (SELECT term FROM gone))sql",
                {docs}, what)
        .status();
  }

  // At the end of every write: fold the pending pages when there are
  // kFoldPages of them (all of them with `fold_all`, kFoldChunk at a time).
  Status MaintainTerms(const std::string& what, bool fold_all) {
    if (!fold_all) {
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT count(*) FROM (SELECT 1 FROM term_pending LIMIT $1) t",
                                                {std::to_string(kFoldPages)}, what));
      if (std::stoll(PQgetvalue(r.get(), 0, 0)) < kFoldPages) return Status::OK();
    }
    ACERVO_RETURN_IF_ERROR(LockTermStats(what));
    while (true) {
      ACERVO_ASSIGN_OR_RETURN(int64_t n, FoldPending(fold_all ? kFoldChunk : kFoldPages * 4, what));
      if (!fold_all || n == 0) return Status::OK();
    }
  }

  // Folds up to `max_pages` pending pages (caller holds the term_stats
  // lock): the same rules as the SQLite store's FlushTerms, set-based.
  // Returns the number of pages folded.
  Result<int64_t> FoldPending(int64_t max_pages, const std::string& what) {
    ACERVO_RETURN_IF_ERROR(Exec("TRUNCATE fold_post"));
    // Claim the pages, read their postings (one pass over the tsvectors),
    // and count them in term_stats.
    ACERVO_ASSIGN_OR_RETURN(ResultPtr st, Exec(R"sql(
      WITH claimed AS (
        DELETE FROM term_pending WHERE page_id IN (SELECT page_id FROM term_pending ORDER BY page_id LIMIT $1)
        RETURNING page_id),
      post AS (
        INSERT INTO fold_post (term, page_id, doc_id, listable, tf)
        SELECT u.lexeme, p.id, p.doc_id, p.in_pdf, coalesce(array_length(u.positions, 1), 1)
        FROM claimed c JOIN pages p ON p.id = c.page_id CROSS JOIN LATERAL unnest(p.tsv) u
        RETURNING tf)
      UPDATE term_stats SET pages = pages + (SELECT count(*) FROM claimed),
                            tokens = tokens + (SELECT coalesce(sum(tf), 0) FROM post)
      WHERE id = 1 RETURNING pages, tokens, (SELECT count(*) FROM claimed))sql",
                                               {std::to_string(max_pages)}, what));
    if (PQntuples(st.get()) != 1) return Status::Corrupt(what + ": the term_stats row is missing");
    const int64_t folded = std::atoll(PQgetvalue(st.get(), 0, 2));
    if (folded == 0) return folded;
    const double pages = std::atof(PQgetvalue(st.get(), 0, 0)), tokens = std::atof(PQgetvalue(st.get(), 0, 1));
    // Impacts use the average length including these pages (it moves slowly;
    // final scores are computed afresh at query time).
    const double avg = pages > 0 && tokens > 0 ? tokens / pages : 1;
    // New list entries: a list under kChampionCap takes any page, a full one
    // only pages a level above its weakest entry; at most kChampionCap per
    // term per fold. Then df and listed.
    ACERVO_ASSIGN_OR_RETURN(ResultPtr fresh, Exec(R"sql(
      WITH ins AS (
        INSERT INTO term_top (term, impact, page_id, doc_id)
        SELECT term, impact, page_id, doc_id FROM (
          SELECT f.term, f.impact, f.page_id, f.doc_id,
                 row_number() OVER (PARTITION BY f.term ORDER BY f.impact DESC, f.page_id) AS rn
          FROM (SELECT term, page_id, doc_id, listable,
                       tf * ($2::float8 + 1) / (tf + $2::float8 * (1 - $3::float8 + $3::float8 * len / $1::float8))
                         AS impact
                FROM (SELECT term, page_id, doc_id, listable, tf, sum(tf) OVER (PARTITION BY page_id) AS len
                      FROM fold_post) l) f
          LEFT JOIN term_df t ON t.term = f.term
          WHERE f.listable AND (t.term IS NULL OR t.listed < $4 OR
                                ceil(f.impact * $5::float8) > ceil(t.floor * $5::float8))) x
        WHERE rn <= $4
        ON CONFLICT DO NOTHING
        RETURNING term),
      n AS (SELECT term, count(*) AS c FROM ins GROUP BY term),
      d AS (SELECT term, count(*) AS df FROM fold_post GROUP BY term)
      INSERT INTO term_df (term, df, listed, floor)
      SELECT d.term, d.df, coalesce(n.c, 0), 0 FROM d LEFT JOIN n ON n.term = d.term
      ON CONFLICT (term) DO UPDATE SET df = term_df.df + excluded.df, listed = term_df.listed + excluded.listed
      RETURNING term, (xmax = 0) AS fresh)sql",
                                {ParamText(avg), ParamText(kBm25K1), ParamText(kBm25B), std::to_string(kChampionCap),
                                 ParamText(kImpactSteps)},
                                what));
    // New terms of the vocabulary get their lookup keys (forgiving.h).
    {
      std::vector<std::string> keys, terms;
      for (int i = 0; i < PQntuples(fresh.get()); ++i) {
        if (std::string(PQgetvalue(fresh.get(), i, 1)) != "t") continue;
        const std::string term = PQgetvalue(fresh.get(), i, 0);
        for (std::string& k : VocabularyKeys(term)) {
          keys.push_back(std::move(k));
          terms.push_back(term);
        }
      }
      if (!keys.empty()) {
        ACERVO_RETURN_IF_ERROR(Exec("INSERT INTO term_keys (key, term) SELECT * FROM unnest($1::text[], $2::text[]) "
                                    "ON CONFLICT DO NOTHING",
                                    {TextArray(keys), TextArray(terms)}, what)
                                   .status());
      }
    }
    // Lists past kChampionTrimAt go back to the kChampionCap best; the
    // weakest kept becomes the bar (floor) later pages must clear. One
    // statement per list: each is an index range delete.
    ACERVO_ASSIGN_OR_RETURN(ResultPtr over, Exec(R"sql(
      SELECT t.term, (SELECT x.impact FROM term_top x WHERE x.term = t.term
                      ORDER BY x.impact DESC, x.page_id DESC OFFSET $2 - 1 LIMIT 1)
      FROM term_df t WHERE t.listed > $1 AND t.term IN (SELECT term FROM fold_post WHERE listable))sql",
                                                 {std::to_string(kChampionTrimAt), std::to_string(kChampionCap)},
                                                 what));
    for (int i = 0; i < PQntuples(over.get()); ++i) {
      ACERVO_RETURN_IF_ERROR(Exec(R"sql(
        WITH del AS (DELETE FROM term_top WHERE term = $1 AND impact < $2::float8 RETURNING 1)
        UPDATE term_df SET floor = $2::float8, listed = listed - (SELECT count(*) FROM del) WHERE term = $1)sql",
                                  {std::string(PQgetvalue(over.get(), i, 0)), std::string(PQgetvalue(over.get(), i, 1))},
                                  what)
                                 .status());
    }
    return folded;
  }

  Result<std::vector<FieldRecord>> LoadFields(const std::string& row) {
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT name, value, source FROM fields WHERE doc_id = $1 ORDER BY ordinal",
                                              {row}, "read fields"));
    std::vector<FieldRecord> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      out.push_back({PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1), PQgetvalue(r.get(), i, 2)});
    }
    return out;
  }
  Result<DocumentRecord> LoadDocument(const std::string& row, bool with_text) {
    DocumentRecord d;
    {
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT lot_id, document_id, document_type, title, pdf_path, "
                                                "pdf_sha256, page_count, flags FROM documents WHERE id = $1",
                                                {row}, "read document row"));
      if (PQntuples(r.get()) != 1) return Status::Corrupt("document row " + row + " vanished");
      d.lot_id = PQgetvalue(r.get(), 0, 0);
      d.document_id = PQgetvalue(r.get(), 0, 1);
      d.document_type = PQgetvalue(r.get(), 0, 2);
      d.title = PQgetvalue(r.get(), 0, 3);
      d.pdf_path = PQgetvalue(r.get(), 0, 4);
      d.pdf_sha256 = PQgetvalue(r.get(), 0, 5);
      d.page_count = std::atoi(PQgetvalue(r.get(), 0, 6));
      d.flags = FlagsFromJson(PQgetvalue(r.get(), 0, 7));
    }
    ACERVO_ASSIGN_OR_RETURN(d.fields, LoadFields(row));
    ACERVO_ASSIGN_OR_RETURN(
        ResultPtr r,
        Exec("SELECT number, pdf_page, in_pdf, source_path, page_in_file, master_path, master_sha256, "
             "CASE WHEN $2 THEN text ELSE '' END, mean_confidence, skew_deg, orientation_deg, blank, blank_score, "
             "color_class, flags, stages, master_page, part, master_x, master_width FROM pages WHERE doc_id = $1 "
             "ORDER BY number",
             {row, with_text ? "t" : "f"}, "read pages of " + d.document_id));
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      auto v = [&](int c) { return std::string(PQgetvalue(r.get(), i, c)); };
      PageRecord p;
      p.number = std::stoi(v(0));
      p.pdf_page = std::stoi(v(1));
      p.in_pdf = v(2) == "t";
      p.source_path = v(3);
      p.page_in_file = std::stoi(v(4));
      p.master_path = v(5);
      p.master_sha256 = v(6);
      p.text = v(7);
      p.mean_confidence = std::stod(v(8));
      p.skew_deg = std::stod(v(9));
      p.orientation_deg = std::stod(v(10));
      p.blank = v(11) == "t";
      p.blank_score = std::stod(v(12));
      p.color_class = v(13);
      p.flags = FlagsFromJson(v(14));
      p.stages = v(15);
      p.master_page = std::stoi(v(16));
      p.part = v(17);
      p.master_x = std::stoi(v(18));
      p.master_width = std::stoi(v(19));
      d.pages.push_back(std::move(p));
    }
    return d;
  }

  Result<std::vector<SearchHit>> ListMatching(const SqlParts& where, int limit, int offset) {
    std::vector<std::optional<std::string>> params;
    for (const Param& p : where.params) params.push_back(ParamText(p));
    params.push_back(std::to_string(limit));
    params.push_back(std::to_string(offset));
    ACERVO_ASSIGN_OR_RETURN(
        ResultPtr r, Exec(NumberPlaceholders("SELECT d.id FROM documents d WHERE " + where.sql +
                                             " ORDER BY d.lot_id COLLATE \"C\", d.document_id COLLATE \"C\" LIMIT ? OFFSET ?"),
                          params, "search"));
    std::vector<int64_t> rows;
    for (int i = 0; i < PQntuples(r.get()); ++i) rows.push_back(std::stoll(PQgetvalue(r.get(), i, 0)));
    return LoadHits(rows);
  }

  // Documents with every word of `field` (a text value) and of type `type`
  // that pass `where`, in lot and document order: one range of
  // field_words_listed (name, word, type, then the lot and id in the "C"
  // collation ListMatching sorts by) for the first word, the others
  // probed per document, so the statement can stop at its page.
  Result<std::vector<SearchHit>> ListByFieldAndType(const QueryPredicate& field, const std::string& type,
                                                    const SqlParts& where, int limit, int offset) {
    std::string sql = "SELECT d.id FROM field_words w0";
    std::vector<std::optional<std::string>> params;
    for (size_t k = 1; k < field.words.size(); ++k) {
      const std::string w = "w" + std::to_string(k);
      sql += " JOIN field_words " + w + " ON " + w + ".name_norm = ? AND " + w + ".word = ? AND " + w +
             ".doc_id = w0.doc_id";
      params.push_back(field.field);
      params.push_back(field.words[k]);
    }
    sql += " JOIN documents d ON d.id = w0.doc_id WHERE w0.name_norm = ? AND w0.word = ? AND "
           "w0.document_type_norm = ? AND " + where.sql + " ORDER BY w0.lot_id, w0.document_id LIMIT ? OFFSET ?";
    params.push_back(field.field);
    params.push_back(field.words[0]);
    params.push_back(type);
    for (const Param& p : where.params) params.push_back(ParamText(p));
    params.push_back(std::to_string(limit));
    params.push_back(std::to_string(offset));
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec(NumberPlaceholders(sql), params, "search"));
    std::vector<int64_t> rows;
    for (int i = 0; i < PQntuples(r.get()); ++i) rows.push_back(std::stoll(PQgetvalue(r.get(), i, 0)));
    return LoadHits(rows);
  }

  // The tsquery of each required and excluded clause.
  static Status TranslateClauses(const ParsedQuery& q, std::vector<std::string>* required,
                                 std::vector<std::string>* excluded) {
    for (const auto& [from, to] : {std::pair{&q.required_fts, required}, std::pair{&q.excluded_fts, excluded}}) {
      for (const std::string& fts : *from) {
        ACERVO_ASSIGN_OR_RETURN(std::string tsq, FtsToTsquery(fts));
        to->push_back(std::move(tsq));
      }
    }
    return Status::OK();
  }

  // Pages in the PDF matching a tsquery, as a document-id set.
  static constexpr const char* kPagesMatching =
      "(SELECT p2.doc_id FROM pages p2 WHERE p2.in_pdf AND p2.tsv @@ ?::tsquery)";

  // A statement selecting the ids (column `id`) of at most
  // kFacetCountCap + 1 documents matching the clauses and the filter.
  static SqlParts MatchingDocuments(const std::vector<std::string>& required, const std::vector<std::string>& excluded,
                                    const SqlParts& where) {
    SqlParts m;
    if (required.empty()) {
      m.sql = "SELECT d.id AS id FROM documents d WHERE " + where.sql;
      m.params = where.params;
    } else {
      m.sql = "SELECT DISTINCT p.doc_id AS id FROM pages p JOIN documents d ON d.id = p.doc_id "
              "WHERE p.in_pdf AND p.tsv @@ ?::tsquery AND " + where.sql;
      m.params.push_back(required.front());
      m.params.insert(m.params.end(), where.params.begin(), where.params.end());
      for (size_t i = 1; i < required.size(); ++i) {
        m.sql += std::string(" AND d.id IN ") + kPagesMatching;
        m.params.push_back(required[i]);
      }
    }
    for (const std::string& tsq : excluded) {
      m.sql += std::string(" AND d.id NOT IN ") + kPagesMatching;
      m.params.push_back(tsq);
    }
    m.sql += " LIMIT " + std::to_string(kFacetCountCap + 1);
    return m;
  }

  // Hits in date order: a page of the matching documents, each with its hit
  // pages, tier, matches and snippet when the query has text (score 0: not
  // ranked).
  Result<std::vector<SearchHit>> ListByDate(const ExpandedQuery& expanded, const std::vector<std::string>& required,
                                            const std::vector<std::string>& excluded, const SqlParts& where,
                                            const SearchRequest& r) {
    ACERVO_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                            DocumentsByDate(session_, MatchingDocuments(required, excluded, where),
                                            r.sort == SearchRequest::Sort::kDateNewest, r.limit, r.offset));
    ACERVO_ASSIGN_OR_RETURN(std::vector<SearchHit> hits, LoadHits(ids));
    if (required.empty() || ids.empty()) return hits;
    ACERVO_ASSIGN_OR_RETURN(std::string ranking, FtsToTsquery(expanded.query.RankingFts()));
    ACERVO_ASSIGN_OR_RETURN(RankPlan plan, PlanRanking(expanded, ranking, required, excluded));
    ACERVO_ASSIGN_OR_RETURN(std::vector<ScoredDoc> scored, ScoreDocuments(plan.c, ids));
    std::vector<int64_t> best_pages;
    for (const ScoredDoc& d : scored) best_pages.push_back(d.best_page_row);
    ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> texts, PageTexts(best_pages));
    std::unordered_map<int64_t, size_t> at;
    for (size_t i = 0; i < ids.size(); ++i) at[ids[i]] = i;
    for (size_t i = 0; i < scored.size(); ++i) {
      SearchHit& hit = hits[at[scored[i].doc_row]];
      scored[i].score = 0;
      FillScoredHit(plan.c.roles, plan.c.clauses, std::move(scored[i]), texts[i], &hit);
    }
    return hits;
  }

  // --- Ranked search without scoring every match (docs/store.md) ---
  //
  // The SQLite store's algorithm (RankTopK there), on lexemes:
  // 1. A selective metadata filter (at most kSelectiveDocs documents): those
  //    documents are scored.
  // 2. Otherwise candidates are the champion lists (term_top) of the query's
  //    positive phrases (per phrase its rarest word; a prefix: its
  //    kPrefixTerms most frequent lexemes) plus the pending pages that match.
  //    Pages are tried best provisional score first (idf x impact); each new
  //    document is checked (filter, every required clause, no excluded
  //    clause) and scored exactly, until kOverfetch x limit documents.
  // 3. If fewer than `limit` and some list was incomplete: an unranked scan
  //    that stops early (filtered documents newest first, or matching pages
  //    by descending id).
  // Matching is always PostgreSQL's (tsv @@ tsquery). Scores are BM25
  // computed here from the pages' tsvectors (ScoreDocuments), the same
  // formula as the impacts of the lists, so a one-word query's top-k is the
  // full-scan BM25 top-k.
  static constexpr int kSelectiveDocs = 300;
  static constexpr int kFilterSetMax = 100000;
  static constexpr int kOverfetch = 2;
  static constexpr int kPageBatch = 256;
  static constexpr int kChampionRead = kChampionCap;
  static constexpr int kPrefixTerms = 8;

  // A page's length (all positions) and the tf of the query's lexemes on
  // it, from one pass over p.tsv; $3 = exact lexemes, $4 = prefixes
  // (renumbered by PageTfs).
  static constexpr const char* kPageTfs = R"sql(
      SELECT coalesce(sum(n), 0) AS len,
             coalesce(string_agg(lexeme || ' ' || n, ' ') FILTER (WHERE hit), '') AS tfs
      FROM (SELECT w.lexeme, coalesce(array_length(w.positions, 1), 1) AS n,
                   (w.lexeme = ANY($3::text[]) OR
                    (cardinality($4::text[]) > 0 AND
                     EXISTS (SELECT 1 FROM unnest($4::text[]) pre WHERE starts_with(w.lexeme, pre)))) AS hit
            FROM unnest(p.tsv) w) u)sql";

  static std::string PageTfs(int lexemes_param, int prefixes_param) {
    std::string sql;
    for (const char* c = kPageTfs; *c; ++c) {
      if (c[0] == '$' && (c[1] == '3' || c[1] == '4')) {
        sql += '$' + std::to_string(c[1] == '3' ? lexemes_param : prefixes_param);
        ++c;
      } else {
        sql += *c;
      }
    }
    return sql;
  }

  // "lexeme tf lexeme tf ..." (lexemes hold no spaces) to a map.
  static std::unordered_map<std::string, int> ParseTfs(std::string_view text) {
    std::unordered_map<std::string, int> out;
    size_t i = 0;
    while (i < text.size()) {
      const size_t a = text.find(' ', i);
      if (a == std::string_view::npos) break;
      size_t b = text.find(' ', a + 1);
      if (b == std::string_view::npos) b = text.size();
      out[std::string(text.substr(i, a - i))] = std::atoi(std::string(text.substr(a + 1, b - a - 1)).c_str());
      i = b + 1;
    }
    return out;
  }

  // One positive phrase of the ranking expression, for scoring: its words'
  // lexemes (a page's tf for the phrase is the smallest of theirs; a prefix
  // word's tf is the sum over the page's lexemes with that prefix).
  struct ScoredPhrase {
    std::vector<std::string> lexemes;
    std::string prefix;  // empty: no prefix word
    double idf = 0;      // x the variant's weight (0 for a negated phrase)
    bool negated = false;
  };

  struct RankContext {
    std::string ranking;                // tsquery of the positive clauses together
    std::vector<std::string> required;  // tsquery per required clause (checked when > 1)
    std::vector<std::string> excluded;
    std::vector<ScoredPhrase> phrases;  // one per phrase of the ranking expression, in order
    std::vector<PhraseRole> roles;      // the same order
    size_t clauses = 0;
    std::vector<std::string> exact_lexemes, prefixes;  // all of phrases', for the SQL
    double avg = 1;
  };

  // The lexemes of one query word: the analyzer's surface tokens (the
  // index holds exactly those, see TsvectorText).
  static std::vector<std::string> Lexemes(const std::string& word) { return AnalyzeQueryWords(word); }

  struct TermInfo {
    int64_t df = 0;
    int64_t listed = 0;
  };

  Result<TermInfo> LookupTerm(const std::string& term) {
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT df, listed FROM term_df WHERE term = $1", {term}, "search"));
    TermInfo t;
    if (PQntuples(r.get()) == 1) {
      t.df = std::stoll(PQgetvalue(r.get(), 0, 0));
      t.listed = std::stoll(PQgetvalue(r.get(), 0, 1));
    }
    return t;
  }

  // The most frequent lexemes starting with `prefix` (at most `n`), their
  // df summed, and whether there were more.
  struct Expansion {
    std::vector<std::string> terms;
    std::vector<TermInfo> infos;
    int64_t df = 0;
    bool more = false;
  };
  Result<Expansion> ExpandPrefix(const std::string& prefix, int n) {
    std::string like;
    for (char c : prefix) {
      if (c == '%' || c == '_' || c == '\\') like += '\\';
      like += c;
    }
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT term, df, listed FROM term_df WHERE term LIKE $1 "
                                              "ORDER BY df DESC LIMIT $2",
                                              {like + "%", std::to_string(n + 1)}, "search"));
    Expansion e;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      if (i == n) {
        e.more = true;
        break;
      }
      e.terms.push_back(PQgetvalue(r.get(), i, 0));
      e.infos.push_back({std::stoll(PQgetvalue(r.get(), i, 1)), std::stoll(PQgetvalue(r.get(), i, 2))});
      e.df += e.infos.back().df;
    }
    return e;
  }

  // Documents among `doc_rows` passing every required clause (when there
  // are several) and no excluded one, with their exact scores, in the order
  // given.
  Result<std::vector<ScoredDoc>> ScoreDocuments(const RankContext& c, const std::vector<int64_t>& doc_rows) {
    std::vector<ScoredDoc> out;
    if (doc_rows.empty()) return out;
    const std::string docs = IdArray(doc_rows);
    std::unordered_set<int64_t> out_of;  // failing a clause
    auto docs_matching = [&](const std::string& tsq) -> Result<std::unordered_set<int64_t>> {
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT DISTINCT doc_id FROM pages WHERE doc_id = ANY($1::bigint[]) "
                                                "AND in_pdf AND tsv @@ $2::tsquery",
                                                {docs, tsq}, "search"));
      std::unordered_set<int64_t> s;
      for (int i = 0; i < PQntuples(r.get()); ++i) s.insert(std::stoll(PQgetvalue(r.get(), i, 0)));
      return s;
    };
    if (c.required.size() > 1) {
      for (const std::string& tsq : c.required) {
        ACERVO_ASSIGN_OR_RETURN(auto m, docs_matching(tsq));
        for (int64_t d : doc_rows)
          if (m.count(d) == 0) out_of.insert(d);
      }
    }
    for (const std::string& tsq : c.excluded) {
      ACERVO_ASSIGN_OR_RETURN(auto m, docs_matching(tsq));
      out_of.insert(m.begin(), m.end());
    }
    // One row per matching page: its length and the query's lexemes on it
    // with their tf ("lexeme tf lexeme tf ..."), from one pass over its
    // tsvector.
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec(std::string(R"sql(
      SELECT p.doc_id, p.id, p.pdf_page, x.len, x.tfs
      FROM pages p CROSS JOIN LATERAL ()sql") + PageTfs(3, 4) + R"sql() x
      WHERE p.doc_id = ANY($1::bigint[]) AND p.in_pdf AND p.tsv @@ $2::tsquery
      ORDER BY p.id)sql",
                                              {docs, c.ranking, TextArray(c.exact_lexemes), TextArray(c.prefixes)},
                                              "search"));
    struct PageTf {
      int64_t doc = 0;
      int pdf_page = 0;
      int len = 0;
      std::unordered_map<std::string, int> tf;
    };
    std::vector<std::pair<int64_t, PageTf>> pages;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      PageTf t;
      t.doc = std::stoll(PQgetvalue(r.get(), i, 0));
      t.pdf_page = std::atoi(PQgetvalue(r.get(), i, 2));
      t.len = std::atoi(PQgetvalue(r.get(), i, 3));
      t.tf = ParseTfs(PQgetvalue(r.get(), i, 4));
      pages.emplace_back(std::stoll(PQgetvalue(r.get(), i, 1)), std::move(t));
    }
    std::unordered_map<int64_t, ScoredDoc> by_doc;
    std::unordered_map<int64_t, double> best;
    for (const auto& [page, t] : pages) {
      if (out_of.count(t.doc)) continue;
      std::vector<int> matched;
      const double score = PageScore(c, t.tf, t.len, &matched);
      ScoredDoc& d = by_doc[t.doc];
      d.doc_row = t.doc;
      d.score += score;  // the sum for now
      auto [it, fresh] = best.emplace(t.doc, score);
      if (fresh || score > it->second) it->second = score, d.best_page_row = page, d.best_phrases = matched;
      d.pages.push_back(t.pdf_page);
      d.phrases.push_back({t.pdf_page, std::move(matched)});
    }
    for (int64_t doc : doc_rows) {
      auto it = by_doc.find(doc);
      if (it == by_doc.end()) continue;
      ScoredDoc d = std::move(it->second);
      by_doc.erase(it);
      const double b = best[doc];
      d.score = b + kOtherPagesWeight * (d.score - b);
      d.tier = DocumentTier(c.roles, d.phrases, c.clauses);
      std::sort(d.pages.begin(), d.pages.end());
      out.push_back(std::move(d));
    }
    return out;
  }

  // BM25 of one page: sum over the phrases of idf x Bm25Factor(tf).
  // (The phrases present on the page, as indexes into c.phrases, go to
  // `matched`: a phrase counts as present when all its lexemes are, which
  // for a phrase of several words is an upper bound, as its tf.)
  static double PageScore(const RankContext& c, const std::unordered_map<std::string, int>& tf, int len,
                          std::vector<int>* matched = nullptr) {
    double score = 0;
    for (size_t k = 0; k < c.phrases.size(); ++k) {
      const ScoredPhrase& p = c.phrases[k];
      if (p.negated || (p.lexemes.empty() && p.prefix.empty())) continue;
      int t = -1;
      for (const std::string& l : p.lexemes) {
        auto it = tf.find(l);
        const int n = it == tf.end() ? 0 : it->second;
        t = t < 0 ? n : std::min(t, n);
      }
      if (!p.prefix.empty()) {
        int n = 0;
        for (const auto& [lexeme, k] : tf)
          if (lexeme.rfind(p.prefix, 0) == 0) n += k;
        t = t < 0 ? n : std::min(t, n);
      }
      if (t > 0) {
        score += p.idf * Bm25Factor(t, len, c.avg);
        if (matched) matched->push_back(static_cast<int>(k));
      }
    }
    return score;
  }

  // A champion list that supplies candidates: a term with its phrase's
  // idf x weight and tier.
  struct Source {
    std::string term;
    double idf;
    int tier;
  };
  // What ranking an expanded query needs: the scoring context, the
  // candidate lists, whether those hold every page of their terms, and the
  // number of pending pages.
  struct RankPlan {
    RankContext c;
    std::vector<Source> sources;
    bool complete = true;
    int64_t pending = 0;
  };

  Result<RankPlan> PlanRanking(const ExpandedQuery& expanded, const std::string& ranking,
                               const std::vector<std::string>& required, const std::vector<std::string>& excluded) {
    const ParsedQuery& q = expanded.query;
    RankPlan plan;
    RankContext& c = plan.c;
    c.ranking = ranking;
    c.required = required;
    c.excluded = excluded;
    c.roles = RolesFor(expanded, q.required_fts);
    c.clauses = q.required_fts.size();
    int64_t pages = 0, pending = 0;
    {
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT pages, tokens, (SELECT count(*) FROM term_pending) "
                                                "FROM term_stats WHERE id = 1",
                                                {}, "search"));
      if (PQntuples(r.get()) != 1) return Status::Corrupt("search: the term_stats row is missing");
      pages = std::stoll(PQgetvalue(r.get(), 0, 0));
      const double tokens = std::atof(PQgetvalue(r.get(), 0, 1));
      pending = std::stoll(PQgetvalue(r.get(), 0, 2));
      c.avg = pages > 0 && tokens > 0 ? tokens / static_cast<double>(pages) : 0;
    }
    if (c.avg <= 0) {
      // Nothing folded yet (a store of fewer than kFoldPages pages): the
      // average length of the pending pages.
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec(R"sql(
        SELECT avg((SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(p.tsv) u))
        FROM term_pending t JOIN pages p ON p.id = t.page_id)sql",
                                                {}, "search"));
      c.avg = PQgetisnull(r.get(), 0, 0) ? 1 : std::max(1.0, std::atof(PQgetvalue(r.get(), 0, 0)));
    }
    const int64_t n_pages = pages + pending;
    plan.pending = pending;
    std::vector<Source>& sources = plan.sources;
    bool& complete = plan.complete;  // every candidate list holds all pages of its term
    std::unordered_map<std::string, std::vector<std::string>> lexeme_cache;
    const std::vector<FtsPhrase> all_phrases = FtsPhrases(q.RankingFts());
    for (size_t pk = 0; pk < all_phrases.size(); ++pk) {
      const FtsPhrase& p = all_phrases[pk];
      const PhraseRole& role = c.roles[pk];
      ScoredPhrase sp;
      sp.negated = p.negated;
      int64_t df = -1;
      std::vector<std::string> best;
      std::vector<TermInfo> best_info;
      bool more = false;
      for (size_t w = 0; w < p.words.size(); ++w) {
        auto it = lexeme_cache.find(p.words[w]);
        if (it == lexeme_cache.end()) {
          it = lexeme_cache.emplace(p.words[w], Lexemes(p.words[w])).first;
        }
        const std::vector<std::string>& lexemes = it->second;
        if (lexemes.empty()) continue;  // a stop word: not indexed, not scored
        const bool prefix = p.prefix && w + 1 == p.words.size();
        for (size_t k = 0; k < lexemes.size(); ++k) {
          std::vector<std::string> terms;
          std::vector<TermInfo> infos;
          int64_t sum = 0;
          bool cut = false;
          if (prefix && k + 1 == lexemes.size()) {
            sp.prefix = lexemes[k];
            ACERVO_ASSIGN_OR_RETURN(Expansion ex, ExpandPrefix(lexemes[k], kPrefixTerms));
            terms = std::move(ex.terms);
            infos = std::move(ex.infos);
            sum = ex.df;
            cut = ex.more;
          } else {
            sp.lexemes.push_back(lexemes[k]);
            ACERVO_ASSIGN_OR_RETURN(TermInfo info, LookupTerm(lexemes[k]));
            terms = {lexemes[k]};
            infos = {info};
            sum = info.df;
          }
          // A phrase's pages all hold its rarest word: its list suffices.
          if (df < 0 || sum < df) {
            df = sum;
            best = std::move(terms);
            best_info = std::move(infos);
            more = cut;
          }
        }
      }
      sp.idf = Bm25Idf(n_pages, std::max<int64_t>(df, 0)) * role.weight;
      if (p.negated || (sp.lexemes.empty() && sp.prefix.empty())) {
        c.phrases.push_back(std::move(sp));  // kept for the phrase numbering
        continue;
      }
      if (more) complete = false;
      for (size_t i = 0; i < best.size(); ++i) {
        if (best_info[i].df == 0 || best_info[i].listed < best_info[i].df || best_info[i].listed >= kChampionRead) {
          complete = false;
        }
        sources.push_back({best[i], sp.idf, static_cast<int>(role.tier)});
      }
      if (best.empty()) complete = false;  // a prefix with no folded word
      for (const std::string& l : sp.lexemes) c.exact_lexemes.push_back(l);
      if (!sp.prefix.empty()) c.prefixes.push_back(sp.prefix);
      c.phrases.push_back(std::move(sp));
    }
    if (sources.empty()) complete = false;
    return plan;
  }

  Result<std::vector<SearchHit>> RankTopK(const ExpandedQuery& expanded, const std::string& ranking,
                                          const std::vector<std::string>& required,
                                          const std::vector<std::string>& excluded, const SqlParts& where,
                                          int limit, int offset) {
    ACERVO_ASSIGN_OR_RETURN(RankPlan plan, PlanRanking(expanded, ranking, required, excluded));
    const RankContext& c = plan.c;
    const ParsedQuery& q = expanded.query;
    const std::vector<Source>& sources = plan.sources;
    bool complete = plan.complete;
    const int64_t pending = plan.pending;
    std::vector<ScoredDoc> docs;
    std::unordered_set<int64_t> seen;
    bool exact = false;
    std::optional<std::unordered_set<int64_t>> filter_set;
    std::vector<int64_t> filter_ids;  // newest first, for the fill
    const std::vector<std::optional<std::string>> where_params = Params(where);
    if (where.sql != "true") {
      // A filter on the documents row alone (lots the user may open, lot:)
      // is asked about the candidates only, unless selective enough to
      // score exactly.
      const int cap = RowOnlyFilter(where) ? kSelectiveDocs : kFilterSetMax;
      std::vector<std::optional<std::string>> params = where_params;
      params.push_back(std::to_string(cap + 1));
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec(NumberPlaceholders("SELECT d.id FROM documents d WHERE " + where.sql +
                                                                   " LIMIT ?"),
                                                params, "search"));
      if (PQntuples(r.get()) <= cap) {
        for (int i = 0; i < PQntuples(r.get()); ++i) filter_ids.push_back(std::stoll(PQgetvalue(r.get(), i, 0)));
        filter_set.emplace(filter_ids.begin(), filter_ids.end());
        std::sort(filter_ids.begin(), filter_ids.end(), std::greater<>());
      }
      if (filter_set && filter_ids.size() <= static_cast<size_t>(kSelectiveDocs)) {
        exact = true;
        ACERVO_ASSIGN_OR_RETURN(docs, ScoreDocuments(c, filter_ids));
      }
    }
    const int needed = offset + limit;
    const size_t want = static_cast<size_t>(needed) * kOverfetch;
    if (!exact) {
      std::unordered_map<int64_t, double> provisional;
      std::unordered_map<int64_t, int> page_tier;  // the best tier of the lists a page is in
      auto tier_of = [&](int64_t page, int tier) {
        auto [it, fresh] = page_tier.emplace(page, tier);
        if (!fresh) it->second = std::min(it->second, tier);
      };
      std::unordered_map<int64_t, int64_t> page_doc;  // candidate page -> its document
      const int read = std::max<int>(100, static_cast<int>(kChampionRead * kPrefixTerms /
                                                           std::max<size_t>(sources.size(), kPrefixTerms)));
      if (read < kChampionRead) complete = false;
      for (const Source& src : sources) {
        ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT page_id, impact, doc_id FROM term_top WHERE term = $1 "
                                                  "ORDER BY impact DESC LIMIT $2",
                                                  {src.term, std::to_string(read)}, "search"));
        for (int i = 0; i < PQntuples(r.get()); ++i) {
          const int64_t page = std::stoll(PQgetvalue(r.get(), i, 0));
          provisional[page] += src.idf * std::atof(PQgetvalue(r.get(), i, 1));
          tier_of(page, src.tier);
          page_doc[page] = std::stoll(PQgetvalue(r.get(), i, 2));
        }
      }
      // The pending pages that match come too, ranked by idf x impact
      // computed here.
      if (pending > 0) {
        ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec(std::string(R"sql(
          SELECT p.id, p.doc_id, x.len, x.tfs
          FROM term_pending t JOIN pages p ON p.id = t.page_id CROSS JOIN LATERAL ()sql") + PageTfs(2, 3) + R"sql() x
          WHERE p.in_pdf AND p.tsv @@ $1::tsquery)sql",
                                                  {c.ranking, TextArray(c.exact_lexemes), TextArray(c.prefixes)},
                                                  "search"));
        for (int i = 0; i < PQntuples(r.get()); ++i) {
          const int64_t page = std::stoll(PQgetvalue(r.get(), i, 0));
          page_doc[page] = std::stoll(PQgetvalue(r.get(), i, 1));
          // Matched: above the pages of the lists with the same score.
          std::vector<int> matched;
          provisional[page] += PageScore(c, ParseTfs(PQgetvalue(r.get(), i, 3)),
                                         std::atoi(PQgetvalue(r.get(), i, 2)), &matched) + 1e-12;
          int tier = 2;
          for (int k : matched) tier = std::min(tier, static_cast<int>(c.roles[static_cast<size_t>(k)].tier));
          tier_of(page, tier);
        }
      }
      std::vector<std::pair<std::pair<int, double>, int64_t>> order;
      order.reserve(provisional.size());
      std::vector<int64_t> unknown;
      for (const auto& [page, score] : provisional) {
        order.push_back({{page_tier[page], score}, page});
        if (!page_doc.count(page)) unknown.push_back(page);
      }
      if (!unknown.empty()) {
        ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT id, doc_id FROM pages WHERE id = ANY($1::bigint[])",
                                                  {IdArray(unknown)}, "search"));
        for (int i = 0; i < PQntuples(r.get()); ++i) {
          page_doc[std::stoll(PQgetvalue(r.get(), i, 0))] = std::stoll(PQgetvalue(r.get(), i, 1));
        }
      }
      std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
        // Exact candidates first, then the others together (as SortAndPage).
        const int ta = std::min(a.first.first, 1), tb = std::min(b.first.first, 1);
        if (ta != tb) return ta < tb;
        return a.first.second != b.first.second ? a.first.second > b.first.second : a.second < b.second;
      });
      // Documents in candidate order, checked and scored a batch at a time.
      std::vector<int64_t> doc_order;
      for (const auto& [score, page] : order) {
        auto it = page_doc.find(page);
        if (it == page_doc.end()) continue;  // deleted since it was listed
        if (seen.insert(it->second).second) doc_order.push_back(it->second);
      }
      if (!filter_set && where.sql != "true" && !doc_order.empty()) {
        // A filter passing more than kFilterSetMax documents: ask it about
        // the candidates only.
        std::vector<std::optional<std::string>> params = {IdArray(doc_order)};
        for (const auto& p : where_params) params.push_back(p);
        ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec(NumberPlaceholders("SELECT d.id FROM documents d WHERE "
                                                                     "d.id = ANY(?::bigint[]) AND " + where.sql),
                                                  params, "search"));
        filter_set.emplace();
        for (int i = 0; i < PQntuples(r.get()); ++i) filter_set->insert(std::stoll(PQgetvalue(r.get(), i, 0)));
      }
      size_t at = 0;
      while (docs.size() < want && at < doc_order.size()) {
        std::vector<int64_t> batch;
        const size_t take = std::max<size_t>(want - docs.size(), 8);
        while (batch.size() < take && at < doc_order.size()) {
          const int64_t d = doc_order[at++];
          if (!filter_set || filter_set->count(d)) batch.push_back(d);
        }
        ACERVO_ASSIGN_OR_RETURN(std::vector<ScoredDoc> scored, ScoreDocuments(c, batch));
        for (ScoredDoc& d : scored) docs.push_back(std::move(d));
      }
    }
    if (!exact && !complete && docs.size() < static_cast<size_t>(needed)) {
      ACERVO_RETURN_IF_ERROR(FillUnranked(c, q, where, where_params, filter_ids.empty() ? nullptr : &filter_ids,
                                          needed, &seen, &docs));
    }
    SortAndPage(&docs, offset, limit);
    std::vector<int64_t> rows, best_pages;
    for (const ScoredDoc& d : docs) {
      rows.push_back(d.doc_row);
      best_pages.push_back(d.best_page_row);
    }
    ACERVO_ASSIGN_OR_RETURN(std::vector<SearchHit> hits, LoadHits(rows));
    ACERVO_ASSIGN_OR_RETURN(std::vector<std::string> texts, PageTexts(best_pages));
    for (size_t i = 0; i < hits.size(); ++i) FillScoredHit(c.roles, c.clauses, std::move(docs[i]), texts[i], &hits[i]);
    return hits;
  }

  // The hits (without pages, score, snippet) of `doc_rows`, in that order:
  // two statements whatever their number (each round trip costs more than
  // the row on a busy machine).
  Result<std::vector<SearchHit>> LoadHits(const std::vector<int64_t>& doc_rows) {
    std::vector<SearchHit> hits(doc_rows.size());
    if (doc_rows.empty()) return hits;
    std::unordered_map<int64_t, size_t> at;
    for (size_t i = 0; i < doc_rows.size(); ++i) at[doc_rows[i]] = i;
    const std::string ids = IdArray(doc_rows);
    {
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT id, lot_id, document_id, document_type, title, pdf_path, flags, "
                                                "page_count, to_char(indexed_at AT TIME ZONE 'UTC', "
                                                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                                                "FROM documents WHERE id = ANY($1::bigint[])",
                                                {ids}, "read document rows"));
      if (PQntuples(r.get()) != static_cast<int>(at.size())) return Status::Corrupt("search: a document row vanished");
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        SearchHit& h = hits[at[std::stoll(PQgetvalue(r.get(), i, 0))]];
        h.lot_id = PQgetvalue(r.get(), i, 1);
        h.document_id = PQgetvalue(r.get(), i, 2);
        h.document_type = PQgetvalue(r.get(), i, 3);
        h.title = PQgetvalue(r.get(), i, 4);
        h.pdf_path = PQgetvalue(r.get(), i, 5);
        h.flags = FlagsFromJson(PQgetvalue(r.get(), i, 6));
        h.page_count = std::atoi(PQgetvalue(r.get(), i, 7));
        h.indexed_at = PQgetvalue(r.get(), i, 8);
      }
    }
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT doc_id, name, value, source FROM fields "
                                              "WHERE doc_id = ANY($1::bigint[]) ORDER BY doc_id, ordinal",
                                              {ids}, "read fields"));
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      hits[at[std::stoll(PQgetvalue(r.get(), i, 0))]].fields.push_back(
          {PQgetvalue(r.get(), i, 1), PQgetvalue(r.get(), i, 2), PQgetvalue(r.get(), i, 3)});
    }
    for (SearchHit& h : hits) h.date = FirstDate(h.fields);
    return hits;
  }

  // Step 3: more matching documents, stopping as soon as `limit` are held:
  // filtered documents newest first, or (no filter) the documents of the
  // pages matching every required clause by descending page id.
  Status FillUnranked(const RankContext& c, const ParsedQuery& q, const SqlParts& where,
                      const std::vector<std::optional<std::string>>& where_params,
                      const std::vector<int64_t>* filter_ids, int limit, std::unordered_set<int64_t>* seen,
                      std::vector<ScoredDoc>* docs) {
    const size_t need = static_cast<size_t>(limit);
    auto score_batch = [&](const std::vector<int64_t>& ids) -> Status {
      std::vector<int64_t> fresh;
      for (int64_t id : ids)
        if (seen->insert(id).second) fresh.push_back(id);
      ACERVO_ASSIGN_OR_RETURN(std::vector<ScoredDoc> scored, ScoreDocuments(c, fresh));
      for (ScoredDoc& d : scored) {
        if (docs->size() >= need) break;
        docs->push_back(std::move(d));
      }
      return Status::OK();
    };
    if (filter_ids != nullptr) {
      // Batches of twice what is missing: scoring a document reads all its
      // pages' tsvectors, so an oversized batch costs more than a round trip.
      for (size_t at = 0; at < filter_ids->size() && docs->size() < need;) {
        const size_t end = std::min(filter_ids->size(), at + std::max<size_t>(8, 2 * (need - docs->size())));
        ACERVO_RETURN_IF_ERROR(score_batch(std::vector<int64_t>(filter_ids->begin() + at, filter_ids->begin() + end)));
        at = end;
      }
      return Status::OK();
    }
    // As SQLite's fill (docs/store.md, step 4): the pages matching every
    // required clause newest first, the filter checked in the same
    // statement, in turns with the filtered documents newest first when
    // there is a filter, until enough or either scan is exhausted.
    const bool filtered = where.sql != "true";
    std::string all;
    for (const std::string& f : q.required_fts) {
      ACERVO_ASSIGN_OR_RETURN(std::string tsq, FtsToTsquery(f));
      all += (all.empty() ? "(" : " & (") + tsq + ")";
    }
    int64_t before_page = INT64_MAX, before_doc = INT64_MAX;
    auto pages_batch = [&]() -> Result<bool> {
      // The filter's placeholders come first in the text, so first bound.
      std::vector<std::optional<std::string>> params;
      if (filtered) params = where_params;
      params.push_back(std::to_string(before_page));
      params.push_back(all);
      params.push_back(std::to_string(kPageBatch));
      ACERVO_ASSIGN_OR_RETURN(
          ResultPtr r,
          Exec(NumberPlaceholders("SELECT p.id, p.doc_id, " +
                                  (filtered ? "CASE WHEN " + where.sql + " THEN 1 ELSE 0 END" : std::string("1")) +
                                  " FROM pages p" + (filtered ? " JOIN documents d ON d.id = p.doc_id" : "") +
                                  " WHERE p.in_pdf AND p.id < ? AND p.tsv @@ ?::tsquery ORDER BY p.id DESC LIMIT ?"),
               params, "search"));
      std::vector<int64_t> ids;
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        before_page = std::stoll(PQgetvalue(r.get(), i, 0));
        const int64_t doc = std::stoll(PQgetvalue(r.get(), i, 1));
        if (std::string_view(PQgetvalue(r.get(), i, 2)) != "1") continue;  // the filter refuses it
        if (ids.empty() || ids.back() != doc) ids.push_back(doc);
      }
      ACERVO_RETURN_IF_ERROR(score_batch(ids));
      return PQntuples(r.get()) < kPageBatch;
    };
    auto documents_batch = [&]() -> Result<bool> {
      std::vector<std::optional<std::string>> params = {std::to_string(before_doc)};
      for (const auto& p : where_params) params.push_back(p);
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec(NumberPlaceholders("SELECT d.id FROM documents d WHERE d.id < ? AND " +
                                                                   where.sql + " ORDER BY d.id DESC LIMIT " +
                                                                   std::to_string(kPageBatch)),
                                                params, "search"));
      std::vector<int64_t> ids;
      for (int i = 0; i < PQntuples(r.get()); ++i) ids.push_back(std::stoll(PQgetvalue(r.get(), i, 0)));
      ACERVO_RETURN_IF_ERROR(score_batch(ids));
      if (!ids.empty()) before_doc = ids.back();
      return ids.size() < static_cast<size_t>(kPageBatch);
    };
    return AlternateScans(pages_batch, documents_batch, filtered, [&] { return docs->size() >= need; });
  }

  // The texts of `page_rows`, in order ("" for a page gone).
  Result<std::vector<std::string>> PageTexts(const std::vector<int64_t>& page_rows) {
    std::vector<std::string> out(page_rows.size());
    if (page_rows.empty()) return out;
    ACERVO_ASSIGN_OR_RETURN(ResultPtr s, Exec("SELECT id, text FROM pages WHERE id = ANY($1::bigint[])",
                                              {IdArray(page_rows)}, "build snippet"));
    std::unordered_map<int64_t, std::string> by_page;
    for (int i = 0; i < PQntuples(s.get()); ++i) by_page[std::stoll(PQgetvalue(s.get(), i, 0))] = PQgetvalue(s.get(), i, 1);
    for (size_t i = 0; i < page_rows.size(); ++i) out[i] = by_page[page_rows[i]];
    return out;
  }

  static std::vector<std::optional<std::string>> Params(const SqlParts& where) {
    std::vector<std::optional<std::string>> out;
    for (const Param& p : where.params) out.push_back(ParamText(p));
    return out;
  }

  // --- libpq plumbing (callers hold mu_) ---

  Result<ResultPtr> Exec(const std::string& sql, const std::vector<std::optional<std::string>>& params,
                         const std::string& what) {
    return pg_->Exec(sql, params, what);
  }
  Status FromResult(const PGresult* r, const std::string& what) { return pg_->FromResult(r, what); }
  Status Exec(const char* sql) { return pg_->Exec(sql); }
  Status WriteTransaction(const std::string& what, const std::function<Status()>& body) {
    return pg_->Transaction(what, body);
  }

  // Migration 7: every page's tsv from the shared analyzer, 1,000 pages per
  // round trip.
  Status RecomputeTsvectors(const std::string& what) {
    for (int64_t after = 0;;) {
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT id, text FROM pages WHERE id > $1 ORDER BY id LIMIT 1000",
                                                {std::to_string(after)}, what));
      if (PQntuples(r.get()) == 0) return Status::OK();
      std::vector<int64_t> ids;
      std::vector<std::string> tsv;
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        ids.push_back(std::stoll(PQgetvalue(r.get(), i, 0)));
        tsv.push_back(TsvectorText(PQgetvalue(r.get(), i, 1)));
      }
      after = ids.back();
      ACERVO_RETURN_IF_ERROR(Exec("UPDATE pages p SET tsv = v.t::tsvector FROM unnest($1::bigint[], $2::text[]) "
                                  "AS v(id, t) WHERE p.id = v.id",
                                  {IdArray(ids), TextArray(tsv)}, what)
                                 .status());
    }
  }

  // Migration 7: value_key and field_words for the fields already stored.
  Status FillFieldMeaning(const std::string& what) {
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT doc_id, ordinal, name_norm, value FROM fields", {}, what));
    std::vector<std::string> key_docs, key_ordinals, keys, w_names, w_words, w_docs;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      const std::string value = PQgetvalue(r.get(), i, 3);
      if (std::optional<std::string> key = FieldKey(value)) {
        key_docs.push_back(PQgetvalue(r.get(), i, 0));
        key_ordinals.push_back(PQgetvalue(r.get(), i, 1));
        keys.push_back(*key);
      }
      for (const std::string& w : FieldWords(value)) {
        w_names.push_back(PQgetvalue(r.get(), i, 2));
        w_words.push_back(w);
        w_docs.push_back(PQgetvalue(r.get(), i, 0));
      }
    }
    if (!keys.empty()) {
      ACERVO_RETURN_IF_ERROR(Exec("UPDATE fields f SET value_key = v.k FROM unnest($1::bigint[], $2::int[], $3::text[]) "
                                  "AS v(d, o, k) WHERE f.doc_id = v.d AND f.ordinal = v.o",
                                  {TextArray(key_docs), TextArray(key_ordinals), TextArray(keys)}, what)
                                 .status());
    }
    if (!w_words.empty()) {
      ACERVO_RETURN_IF_ERROR(Exec("INSERT INTO field_words (name_norm, word, doc_id) "
                                  "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING",
                                  {TextArray(w_names), TextArray(w_words), TextArray(w_docs)}, what)
                                 .status());
    }
    return Status::OK();
  }

  Status Migrate() {
    while (true) {
      bool done = false;
      Status s = WriteTransaction("migrate", [&]() -> Status {
        // One migrator at a time, across processes.
        ACERVO_RETURN_IF_ERROR(Exec("SELECT pg_advisory_xact_lock(7243001)"));
        ACERVO_RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                                    "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"));
        ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT coalesce(max(version), 0) FROM schema_version", {}, "migrate"));
        const int version = std::atoi(PQgetvalue(r.get(), 0, 0));
        if (version == 0) {
          ACERVO_ASSIGN_OR_RETURN(ResultPtr t, Exec("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                                                    "AND tablename <> 'schema_version'",
                                                    {}, "migrate"));
          if (std::atoi(PQgetvalue(t.get(), 0, 0)) != 0) {
            return Status::Corrupt("the database has tables but is not an Acervo store");
          }
        }
        if (version > kPostgresSchemaVersion) {
          return Status::Unavailable("the database has schema version " + std::to_string(version) +
                                     ", newer than this program's " + std::to_string(kPostgresSchemaVersion) +
                                     "; upgrade Acervo");
        }
        if (version == kPostgresSchemaVersion) {
          done = true;
          return Status::OK();
        }
        // The next migration above the database's version (numbers may
        // skip while parallel work is merged).
        const Migration* next = std::find_if(std::begin(kMigrations), std::end(kMigrations),
                                             [&](const Migration& c) { return c.version > version; });
        if (next == std::end(kMigrations)) {
          return Status::Internal("no migration after version " + std::to_string(version));
        }
        const Migration& m = *next;
        const std::string shared = m.sql == nullptr ? m.shared(/*postgres=*/true) : std::string();
        // Several statements: the simple query protocol.
        ACERVO_RETURN_IF_ERROR(pg_->ExecScript(m.sql != nullptr ? m.sql : shared.c_str(),
                                               "migration " + std::to_string(m.version)));
        if (m.version == 5) ACERVO_RETURN_IF_ERROR(RelativizeStoredPaths(session_));
        if (m.version == 14) ACERVO_RETURN_IF_ERROR(pg_->ExecScript(kSchemaV14FillSql, "migration 14"));
        // Migration 3 lists every page as pending; migration 7 recomputes
        // the tsvectors and folds them all, once (the tokens come from the
        // tsvectors, so this is SQL run from here).
        if (m.version == 7) {
          ACERVO_RETURN_IF_ERROR(RecomputeTsvectors("migration 7"));
          ACERVO_RETURN_IF_ERROR(FillFieldMeaning("migration 7"));
          ACERVO_RETURN_IF_ERROR(MaintainTerms("migration 7", /*fold_all=*/true));
        }
        return Exec("INSERT INTO schema_version (version) VALUES ($1)", {std::to_string(m.version)}, "migrate")
            .status();
      });
      ACERVO_RETURN_IF_ERROR(s);
      if (done) return Status::OK();
    }
  }

  // The connection as the shared SQL (sql_session.h) uses it; callers hold mu_.
  class Session final : public SqlSession {
   public:
    explicit Session(PostgresStore* store) : store_(store) {}
    bool postgres() const override { return true; }
    Result<std::vector<SqlRow>> Query(const std::string& sql, const std::vector<Param>& params) override {
      std::vector<std::optional<std::string>> values;
      for (const Param& p : params) values.push_back(ParamText(p));
      ACERVO_ASSIGN_OR_RETURN(ResultPtr r, store_->Exec(NumberPlaceholders(sql), values, "query"));
      std::vector<SqlRow> rows;
      const int ncol = PQnfields(r.get());
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        SqlRow row(static_cast<size_t>(ncol));
        for (int c = 0; c < ncol; ++c) {
          if (!PQgetisnull(r.get(), i, c)) row[static_cast<size_t>(c)] = std::string(PQgetvalue(r.get(), i, c));
        }
        rows.push_back(std::move(row));
      }
      return rows;
    }
    Status Write(const std::string& what, const std::function<Status()>& body) override {
      return store_->WriteTransaction(what, body);
    }
    Status Read(const std::function<Status()>& body) override {
      ACERVO_RETURN_IF_ERROR(store_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}, "read").status());
      Status s = body();
      (void)store_->Exec("ROLLBACK", {}, "read");
      return s;
    }

   private:
    PostgresStore* store_;
  };

  std::mutex mu_;
  std::unique_ptr<PgConnection> pg_;
  // The vocabulary of the pending pages, for forgiving search, and which
  // pending pages it was built from.
  PendingVocabulary pending_vocab_;
  std::string pending_signature_;
  Session session_;
  std::unique_ptr<AccessStore> access_;
  std::unique_ptr<ReviewStore> review_;
};

}  // namespace

Result<std::string> FtsToTsquery(std::string_view fts) {
  std::string out;
  size_t i = 0;
  while (i < fts.size()) {
    const char c = fts[i];
    if (c == ' ') {
      ++i;
    } else if (c == '(' || c == ')') {
      out += c;
      ++i;
    } else if (c == '"') {
      const std::string text = ReadFtsQuoted(fts, &i);
      // Words as the index holds them (analyzer.h), folded: the tsquery is
      // cast, not normalised by a text search configuration.
      const std::vector<std::string> words = AnalyzeQueryWords(text);
      if (words.empty()) return Status::InvalidArgument("a query term has no letters or digits");
      size_t j = i;
      while (j < fts.size() && fts[j] == ' ') ++j;
      const bool prefix = j < fts.size() && fts[j] == '*';
      if (prefix) i = j + 1;
      std::string t = words.size() > 1 ? "(" : "";
      for (size_t k = 0; k < words.size(); ++k) {
        if (k > 0) t += " <-> ";
        t += Lexeme(words[k]);
        if (prefix && k + 1 == words.size()) t += ":*";
      }
      if (words.size() > 1) t += ")";
      out += t;
    } else if (fts.substr(i, 3) == "AND") {
      out += " & ";
      i += 3;
    } else if (fts.substr(i, 2) == "OR") {
      out += " | ";
      i += 2;
    } else if (fts.substr(i, 3) == "NOT") {
      out += " & !";
      i += 3;
    } else {
      return Status::Internal("unexpected text index expression at byte " + std::to_string(i));
    }
  }
  return out;
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo, const PostgresOptions& options) {
  PgConnection::Options o;
  o.busy_timeout = options.busy_timeout;
  o.on_connect = &PostgresStore::SetUpSession;
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> pg, PgConnection::Open(conninfo, std::move(o)));
  auto store = std::make_unique<PostgresStore>(std::move(pg));
  ACERVO_RETURN_IF_ERROR(store->Init().WithContext("open PostgreSQL store"));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace acervo
