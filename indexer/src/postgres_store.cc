#include "acervo/indexer/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "acervo/indexer/field_value.h"
#include "acervo/indexer/query.h"
#include "sql_filter.h"

namespace acervo {
namespace {

using Clock = std::chrono::steady_clock;

struct Migration {
  int version;
  const char* sql;
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
};
static_assert(std::size(kMigrations) == kPostgresSchemaVersion);

constexpr double kOtherPagesWeight = 0.25;  // as in the SQLite store
constexpr int kMaxLimit = 10000;
constexpr const char* kHeadlineOptions =
    "StartSel=«, StopSel=», MaxWords=16, MinWords=6, MaxFragments=1, FragmentDelimiter=…";

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string ParamText(const Param& p) {
  if (const std::string* s = std::get_if<std::string>(&p)) return *s;
  if (const int64_t* i = std::get_if<int64_t>(&p)) return std::to_string(*i);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", std::get<double>(p));
  return buf;
}

std::string FlagsToJson(const std::vector<std::string>& flags) { return nlohmann::json(flags).dump(); }

std::vector<std::string> FlagsFromJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// Retry these: serialization failure, deadlock, unique violation (two
// writers inserting the same new document at once).
bool Retryable(const std::string& state) {
  return state == "40001" || state == "40P01" || state == "23505" || state == "55P03";
}

void Backoff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  std::uniform_int_distribution<int> dist(1, std::min(50, 1 << std::min(attempt, 6)));
  std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
}

bool IsWordByte(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

std::string Lexeme(const std::string& w) {
  std::string out = "'";
  for (char c : w) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

class PostgresStore final : public Store {
 public:
  PostgresStore(PGconn* conn, PostgresOptions options) : conn_(conn), options_(options) {}
  ~PostgresStore() override { PQfinish(conn_); }

  Status Init() {
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // NOTICEs are not for users
    return Migrate();
  }

  Status UpsertLot(const LotRecord& lot) override {
    if (lot.id.empty()) return Status::InvalidArgument("lot id is empty");
    std::lock_guard<std::mutex> lock(mu_);
    return WriteTransaction("store lot " + lot.id, [&]() -> Status {
      return Exec(R"sql(
        INSERT INTO lots (id, project, box, operator_name, description, profile_json, started_at, finished_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (id) DO UPDATE SET
          project = excluded.project, box = excluded.box, operator_name = excluded.operator_name,
          description = excluded.description, profile_json = excluded.profile_json,
          started_at = excluded.started_at, finished_at = excluded.finished_at)sql",
                  {lot.id, lot.project, lot.box, lot.operator_name, lot.description, lot.profile_json,
                   lot.started_at, lot.finished_at},
                  "store lot " + lot.id)
          .status();
    });
  }

  Status PutDocument(const DocumentRecord& doc) override {
    ACERVO_RETURN_IF_ERROR(Validate(doc));
    const std::string what = "store document " + doc.lot_id + "/" + doc.document_id;
    std::lock_guard<std::mutex> lock(mu_);
    return WriteTransaction(what, [&]() -> Status { return PutLocked(doc, what); });
  }

  Status PutDocuments(const std::vector<DocumentRecord>& docs) override {
    for (const DocumentRecord& d : docs) ACERVO_RETURN_IF_ERROR(Validate(d));
    std::lock_guard<std::mutex> lock(mu_);
    return WriteTransaction("store " + std::to_string(docs.size()) + " documents", [&]() -> Status {
      for (const DocumentRecord& d : docs) {
        ACERVO_RETURN_IF_ERROR(PutLocked(d, "store document " + d.lot_id + "/" + d.document_id));
      }
      return Status::OK();
    });
  }

  // One document inside the caller's transaction.
  Status PutLocked(const DocumentRecord& doc, const std::string& what) {
    {
      ACERVO_RETURN_IF_ERROR(
          Exec("SELECT pg_advisory_xact_lock(hashtext($1))", {doc.lot_id + "\n" + doc.document_id}, what).status());
      ACERVO_ASSIGN_OR_RETURN(ResultPtr lot, Exec("SELECT 1 FROM lots WHERE id = $1", {doc.lot_id}, what));
      if (PQntuples(lot.get()) == 0) {
        return Status::NotFound(what + ": lot " + doc.lot_id + " is not in the store (UpsertLot it first)");
      }
      ACERVO_RETURN_IF_ERROR(Exec("DELETE FROM documents WHERE lot_id = $1 AND document_id = $2",
                                  {doc.lot_id, doc.document_id}, what)
                                 .status());
      ACERVO_ASSIGN_OR_RETURN(
          ResultPtr ins,
          Exec(R"sql(INSERT INTO documents (lot_id, document_id, document_type, document_type_norm, title,
                                            pdf_path, pdf_sha256, page_count, flags)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id)sql",
               {doc.lot_id, doc.document_id, doc.document_type, NormalizeFieldValue(doc.document_type), doc.title,
                doc.pdf_path, doc.pdf_sha256, std::to_string(doc.page_count), FlagsToJson(doc.flags)},
               what));
      const std::string row = PQgetvalue(ins.get(), 0, 0);
      for (size_t i = 0; i < doc.fields.size(); ++i) {
        const FieldRecord& f = doc.fields[i];
        std::optional<std::string> date = ParseIsoDate(f.value);
        std::optional<std::string> num;
        if (std::optional<double> n = ParseNumber(f.value)) num = ParamText(*n);
        ACERVO_RETURN_IF_ERROR(
            Exec(R"sql(INSERT INTO fields (doc_id, ordinal, name, name_norm, value, value_norm, value_date,
                                           value_num, source)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9))sql",
                 {row, std::to_string(i), f.name, NormalizeFieldValue(f.name), f.value, NormalizeFieldValue(f.value),
                  date, num, f.source},
                 what + " field " + f.name)
                .status());
      }
      for (const PageRecord& p : doc.pages) {
        ACERVO_RETURN_IF_ERROR(
            Exec(R"sql(INSERT INTO pages (doc_id, number, pdf_page, in_pdf, source_path, page_in_file, master_path,
                                          master_sha256, text, tsv, mean_confidence, skew_deg, orientation_deg,
                                          blank, blank_score, color_class, flags, stages)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, to_tsvector('acervo_pt', $9), $10, $11, $12,
                               $13, $14, $15, $16, $17))sql",
                 {row, std::to_string(p.number), std::to_string(p.pdf_page), p.in_pdf ? "t" : "f", p.source_path,
                  std::to_string(p.page_in_file), p.master_path, p.master_sha256, p.text, ParamText(p.mean_confidence),
                  ParamText(p.skew_deg), ParamText(p.orientation_deg), p.blank ? "t" : "f", ParamText(p.blank_score),
                  p.color_class, FlagsToJson(p.flags), p.stages},
                 what + " page " + std::to_string(p.number))
                .status());
      }
      return Status::OK();
    }
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
    if (request.limit < 1 || request.limit > kMaxLimit) {
      return Status::InvalidArgument("search limit " + std::to_string(request.limit) + " is not within 1.." +
                                     std::to_string(kMaxLimit));
    }
    ACERVO_ASSIGN_OR_RETURN(ParsedQuery query, ParseQuery(request.query));
    ACERVO_ASSIGN_OR_RETURN(SqlParts where, CompileDocumentFilter(request, query, "true"));
    constexpr const char* kPagesMatching =
        "(SELECT p2.doc_id FROM pages p2 WHERE p2.in_pdf AND p2.tsv @@ to_tsquery('acervo_pt', ?))";
    if (query.required_fts.size() > 1) {
      for (const std::string& fts : query.required_fts) {
        ACERVO_ASSIGN_OR_RETURN(std::string tsq, FtsToTsquery(fts));
        where.sql += std::string(" AND d.id IN ") + kPagesMatching;
        where.params.push_back(tsq);
      }
    }
    for (const std::string& fts : query.excluded_fts) {
      ACERVO_ASSIGN_OR_RETURN(std::string tsq, FtsToTsquery(fts));
      where.sql += std::string(" AND d.id NOT IN ") + kPagesMatching;
      where.params.push_back(tsq);
    }
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_RETURN_IF_ERROR(Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}, "search").status());
    Result<std::vector<SearchHit>> hits = Status::OK();
    if (query.required_fts.empty()) {
      hits = ListMatching(where, request.limit);
    } else {
      Result<std::string> tsq = FtsToTsquery(query.RankingFts());
      hits = tsq.ok() ? RankMatching(*tsq, where, request.limit) : Result<std::vector<SearchHit>>(tsq.status());
    }
    (void)Exec("ROLLBACK", {}, "search");
    if (!hits.ok() && hits.status().code() == StatusCode::kInternal) {
      return Status::InvalidArgument("the query could not be evaluated by the text index");
    }
    return hits;
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
             "color_class, flags, stages FROM pages WHERE doc_id = $1 ORDER BY number",
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
      d.pages.push_back(std::move(p));
    }
    return d;
  }

  Result<SearchHit> LoadHit(const std::string& row) {
    ACERVO_ASSIGN_OR_RETURN(ResultPtr r, Exec("SELECT lot_id, document_id, document_type, title, pdf_path "
                                              "FROM documents WHERE id = $1",
                                              {row}, "read document row"));
    if (PQntuples(r.get()) != 1) return Status::Corrupt("document row " + row + " vanished");
    SearchHit h;
    h.lot_id = PQgetvalue(r.get(), 0, 0);
    h.document_id = PQgetvalue(r.get(), 0, 1);
    h.document_type = PQgetvalue(r.get(), 0, 2);
    h.title = PQgetvalue(r.get(), 0, 3);
    h.pdf_path = PQgetvalue(r.get(), 0, 4);
    ACERVO_ASSIGN_OR_RETURN(h.fields, LoadFields(row));
    return h;
  }

  Result<std::vector<SearchHit>> ListMatching(const SqlParts& where, int limit) {
    std::vector<std::optional<std::string>> params;
    for (const Param& p : where.params) params.push_back(ParamText(p));
    params.push_back(std::to_string(limit));
    ACERVO_ASSIGN_OR_RETURN(
        ResultPtr r, Exec(NumberPlaceholders("SELECT d.id FROM documents d WHERE " + where.sql +
                                             " ORDER BY d.lot_id, d.document_id LIMIT ?"),
                          params, "search"));
    std::vector<SearchHit> hits;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      ACERVO_ASSIGN_OR_RETURN(SearchHit h, LoadHit(PQgetvalue(r.get(), i, 0)));
      hits.push_back(std::move(h));
    }
    return hits;
  }

  Result<std::vector<SearchHit>> RankMatching(const std::string& tsq, const SqlParts& where, int limit) {
    std::vector<std::optional<std::string>> params = {tsq};
    for (const Param& p : where.params) params.push_back(ParamText(p));
    ACERVO_ASSIGN_OR_RETURN(
        ResultPtr r,
        Exec(NumberPlaceholders("SELECT p.doc_id, p.pdf_page, ts_rank(p.tsv, q.q), p.id "
                                "FROM (SELECT to_tsquery('acervo_pt', ?) AS q) q "
                                "JOIN pages p ON p.tsv @@ q.q JOIN documents d ON d.id = p.doc_id "
                                "WHERE p.in_pdf AND " + where.sql),
             params, "search"));
    struct Agg {
      int64_t doc = 0;
      double best = -1, sum = 0;
      std::string best_page;
      std::vector<int> pages;
    };
    std::unordered_map<int64_t, Agg> by_doc;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      const int64_t doc = std::stoll(PQgetvalue(r.get(), i, 0));
      Agg& a = by_doc[doc];
      a.doc = doc;
      const double score = std::stod(PQgetvalue(r.get(), i, 2));
      a.sum += score;
      if (score > a.best) a.best = score, a.best_page = PQgetvalue(r.get(), i, 3);
      a.pages.push_back(std::atoi(PQgetvalue(r.get(), i, 1)));
    }
    std::vector<Agg> docs;
    for (auto& [k, a] : by_doc) docs.push_back(std::move(a));
    auto score_of = [](const Agg& a) { return a.best + kOtherPagesWeight * (a.sum - a.best); };
    std::sort(docs.begin(), docs.end(), [&](const Agg& a, const Agg& b) {
      const double sa = score_of(a), sb = score_of(b);
      return sa != sb ? sa > sb : a.doc < b.doc;
    });
    if (docs.size() > static_cast<size_t>(limit)) docs.resize(static_cast<size_t>(limit));
    std::vector<SearchHit> hits;
    for (Agg& a : docs) {
      ACERVO_ASSIGN_OR_RETURN(SearchHit h, LoadHit(std::to_string(a.doc)));
      std::sort(a.pages.begin(), a.pages.end());
      h.pages = std::move(a.pages);
      h.score = score_of(a);
      ACERVO_ASSIGN_OR_RETURN(ResultPtr s, Exec("SELECT ts_headline('acervo_pt', text, to_tsquery('acervo_pt', $1), $3) "
                                                "FROM pages WHERE id = $2",
                                                {tsq, a.best_page, kHeadlineOptions}, "build snippet"));
      std::string raw = PQntuples(s.get()) ? PQgetvalue(s.get(), 0, 0) : "", out;
      for (char c : raw) {
        const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : c;
      }
      h.snippet = std::move(out);
      hits.push_back(std::move(h));
    }
    return hits;
  }

  // --- libpq plumbing (callers hold mu_) ---

  Result<ResultPtr> Exec(const std::string& sql, const std::vector<std::optional<std::string>>& params,
                         const std::string& what) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    ResultPtr r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0),
                &PQclear);
    const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    last_state_ = state ? state : "";
    std::string msg = what + ": " + (r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_));
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (PQstatus(conn_) != CONNECTION_OK || last_state_.rfind("08", 0) == 0) return Status::Unavailable(msg);
    if (Retryable(last_state_)) return Status::Unavailable(msg);
    if (last_state_.rfind("22", 0) == 0 || last_state_.rfind("42", 0) == 0) return Status::Internal(msg);
    if (last_state_.rfind("23", 0) == 0) return Status::InvalidArgument(msg);
    return Status::IOError(msg);
  }
  Status Exec(const char* sql) { return Exec(sql, {}, sql).status(); }

  template <typename F>
  Status WriteTransaction(const std::string& what, F&& body) {
    const Clock::time_point deadline = Clock::now() + options_.busy_timeout;
    for (int attempt = 0;; ++attempt) {
      last_state_.clear();
      ACERVO_RETURN_IF_ERROR(Exec("BEGIN"));
      Status s = body();
      if (s.ok()) s = Exec("COMMIT");
      if (s.ok()) return s;
      const std::string state = last_state_;
      (void)Exec("ROLLBACK");
      if (Retryable(state) && Clock::now() < deadline) {
        Backoff(attempt);
        continue;
      }
      if (Retryable(state)) return Status::Unavailable(what + ": still conflicting after the timeout: " + s.message());
      return s;
    }
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
        const Migration& m = kMigrations[version];
        // Several statements: the simple query protocol.
        ResultPtr res(PQexec(conn_, m.sql), &PQclear);
        if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
          const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
          last_state_ = state ? state : "";
          return Status::IOError("migration " + std::to_string(m.version) + ": " + PQresultErrorMessage(res.get()));
        }
        return Exec("INSERT INTO schema_version (version) VALUES ($1)", {std::to_string(m.version)}, "migrate")
            .status();
      });
      ACERVO_RETURN_IF_ERROR(s);
      if (done) return Status::OK();
    }
  }

  std::mutex mu_;
  PGconn* conn_;
  PostgresOptions options_;
  std::string last_state_;
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
      std::string text;
      ++i;
      while (i < fts.size()) {
        if (fts[i] == '"') {
          if (i + 1 < fts.size() && fts[i + 1] == '"') {
            text += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        text += fts[i++];
      }
      // Words as FTS5's unicode61 tokenizer splits them: runs of letters and
      // digits (any non-ASCII byte counts as a letter).
      std::vector<std::string> words;
      std::string w;
      for (unsigned char ch : text) {
        if (IsWordByte(ch)) {
          w += static_cast<char>(ch);
        } else if (!w.empty()) {
          words.push_back(w);
          w.clear();
        }
      }
      if (!w.empty()) words.push_back(w);
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
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Status::Unavailable("cannot allocate a PostgreSQL connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    PQfinish(conn);
    return Status::Unavailable("cannot connect to PostgreSQL: " + msg);
  }
  auto store = std::make_unique<PostgresStore>(conn, options);
  ACERVO_RETURN_IF_ERROR(store->Init().WithContext("open PostgreSQL store"));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace acervo
