// The Store contract, tested on both backends (SQLite and a real PostgreSQL
// started for the run), plus SQLite-only tests of its file handling.
#include "acervo/indexer/sqlite_store.h"
#include "acervo/indexer/access_store.h"
#include "acervo/indexer/postgres_store.h"

#include "acervo/core/files.h"
#include "postgres_test_server.h"
#include "sql_session.h"
#include "sqlite_extensions.h"
#include "term_index.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace acervo {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "acervo-store-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? fs::path(tmpl) : fs::path();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

LotRecord Lot(const std::string& id) {
  LotRecord lot;
  lot.id = id;
  lot.project = "Arquivo Geral";
  lot.box = "CX-0001";
  lot.operator_name = "Maria";
  lot.started_at = "2026-03-01T08:00:00Z";
  return lot;
}

PageRecord Page(int number, int pdf_page, std::string text) {
  PageRecord p;
  p.number = number;
  p.pdf_page = pdf_page;
  p.in_pdf = pdf_page > 0;
  p.blank = pdf_page == 0;
  p.source_path = "scan.tif";
  p.page_in_file = number;
  p.master_path = "masters/" + std::to_string(number) + ".tif";
  p.master_sha256 = std::string(64, 'a');
  p.text = std::move(text);
  p.mean_confidence = 91.5;
  p.color_class = "gray";
  p.stages = R"([{"name":"ocr","version":1,"ms":120}])";
  return p;
}

DocumentRecord Doc(const std::string& lot, const std::string& id, const std::string& type,
                   std::vector<FieldRecord> fields, std::vector<PageRecord> pages) {
  DocumentRecord d;
  d.lot_id = lot;
  d.document_id = id;
  d.document_type = type;
  d.title = type + " " + id;
  d.pdf_path = lot + "/" + id + ".pdf";
  d.pdf_sha256 = std::string(64, 'b');
  d.fields = std::move(fields);
  d.pages = std::move(pages);
  for (const PageRecord& p : d.pages) d.page_count += p.in_pdf ? 1 : 0;
  return d;
}

std::vector<DocumentRecord> Corpus() {
  return {
      Doc("L1", "d1", "certidao",
          {{"processo", "0001"}, {"data", "15/03/2020"}, {"nome", "João da Silva"}},
          {Page(1, 1, "CERTIDÃO DE NASCIMENTO. Certifico que João da Silva nasceu em 1985."),
           // A blank page whose noise the OCR read as a word: stored, never a hit.
           Page(2, 0, "certidão casamento"),
           Page(3, 2, "Registro civil das pessoas naturais. Observações: nenhuma.")}),
      Doc("L1", "d2", "oficio", {{"data", "2021-06-01"}, {"valor", "150"}},
          {Page(1, 1, "Ofício nº 12. Encaminho a certidão de óbito solicitada."),
           Page(2, 2, "Atenciosamente, o escrivão.")}),
      Doc("L1", "d3", "certidao", {{"data", "2019-12-31"}, {"valor", "99,5"}},
          {Page(1, 1, "Certidão de casamento. Certidão expedida; certidão conferida."),
           Page(2, 2, "Averbação: certidão retificada em cartório.")}),
      Doc("L2", "d1", "requerimento", {{"data", "2020-07-10"}, {"nome", "Maria Conceição"}},
          {Page(1, 1, "Requerimento de certidão negativa de débitos.")}),
  };
}

std::unique_ptr<Store> OpenOrDie(const fs::path& path, SqliteOptions options = {}) {
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

void Fill(Store& store) {
  ASSERT_TRUE(store.UpsertLot(Lot("L1")).ok());
  ASSERT_TRUE(store.UpsertLot(Lot("L2")).ok());
  for (const DocumentRecord& d : Corpus()) ASSERT_TRUE(store.PutDocument(d).ok()) << d.document_id;
}

SearchRequest Q(std::string query, std::string lot = "",
                std::vector<std::pair<std::string, std::string>> fields = {}, int limit = 20) {
  SearchRequest r;
  r.query = std::move(query);
  r.lot = std::move(lot);
  r.fields = std::move(fields);
  r.limit = limit;
  return r;
}

std::vector<std::string> Ids(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  for (const SearchHit& h : hits) out.push_back(h.lot_id + "/" + h.document_id);
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

enum class Backend { kSqlite, kPostgres };

// Migration 14 taken out again (issue 13, item 11): field_words without
// its documents' type, lot and id. On SQLite UndoSqliteV13 starts with it.
constexpr const char* kUndoSqliteV14 =
    "DROP INDEX field_words_listed; ALTER TABLE field_words DROP COLUMN document_type_norm; "
    "ALTER TABLE field_words DROP COLUMN lot_id; ALTER TABLE field_words DROP COLUMN document_id; "
    "DELETE FROM schema_version WHERE version >= 14; ";
constexpr const char* kUndoPostgresV14 =
    "DROP INDEX field_words_listed; ALTER TABLE field_words DROP COLUMN document_type_norm, DROP COLUMN lot_id, "
    "DROP COLUMN document_id; DELETE FROM schema_version WHERE version >= 14; ";
// Fail (naming field_words) when the v14 columns or index are missing.
constexpr const char* kCheckFieldWordsListingSqlite =
    "SELECT count(*) FROM field_words INDEXED BY field_words_listed WHERE name_norm = 'nome' AND word = 'joao' "
    "AND document_type_norm = 'certidao' AND lot_id <> '' AND document_id <> ''";
constexpr const char* kCheckFieldWordsListingPostgres =
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'field_words_listed') "
    "THEN RAISE EXCEPTION 'no such index on field_words'; END IF; "
    "PERFORM count(*) FROM field_words WHERE lot_id <> '' AND document_id <> ''; END $$";
// Fail when a field word lacks its document's type, lot or id.
constexpr const char* kUnfilledFieldWordsSqlite =
    "SELECT CASE WHEN count(*) > 0 THEN json('unfilled field_words') END FROM field_words "
    "WHERE lot_id = '' OR document_id = '' OR document_type_norm = ''";
constexpr const char* kUnfilledFieldWordsPostgres =
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM field_words WHERE lot_id = '' OR document_id = '' OR "
    "document_type_norm = '') THEN RAISE EXCEPTION 'unfilled field_words'; END IF; END $$";

// Migration 13 taken out again on SQLite (issue 13, item 11): the audit
// rows back into the store's own table (as v6 made it), the trail file
// removed. Goes first wherever a test takes a SQLite store below v13;
// "" on success, else SQLite's message. (PostgreSQL's v13 changes nothing:
// the kUndo*/kDrop* texts' "version >= N" take its row away.)
std::string UndoSqliteV13(const fs::path& db_path) {
  const fs::path trail = SqliteAuditTrailPath(db_path);
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  if (Status st = RegisterSqliteExtensions(db); !st.ok()) return st.ToString();  // DROP COLUMN reparses the schema
  const std::string sql = std::string(kUndoSqliteV14) + "ATTACH '" + trail.string() + "' AS trail; BEGIN; " +
                          AuditTrailSql() +
                          "INSERT INTO main.audit SELECT * FROM trail.audit ORDER BY seq; "
                          "DELETE FROM schema_version WHERE version >= 13; COMMIT; DETACH trail;";
  std::string error;
  char* msg = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) error = msg ? msg : "error";
  sqlite3_free(msg);
  sqlite3_close(db);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(trail.string() + suffix);
  return error;
}

// SQL that takes a store back from schema v6 to the version before it
// (issue 13's tables and its schema_version row), for migration tests.
constexpr const char* kDropV6Sqlite =
    "DROP TABLE page_words; DROP TABLE api_tokens; DROP TABLE user_groups; DROP TABLE users; "
    "DROP TABLE grants; DROP TABLE audit; DELETE FROM schema_version WHERE version >= 6; ";
// Takes a database back from v9 (the work queue, issue 18), so the
// tests of older migrations start from what they expect.
constexpr const char* kUndoQueueTables =
    "DROP TABLE queue_units, queue_workers, queue_lots; DELETE FROM schema_version WHERE version >= 9; ";

constexpr const char* kDropV6Postgres =
    "DROP TABLE page_words, api_tokens, user_groups, users, grants, audit; "
    "DROP FUNCTION acervo_audit_append_only(); DELETE FROM schema_version WHERE version >= 6; ";
// Back to v4 from v5 (after kDropV6*): the same SQL on both backends.
constexpr const char* kDropV5 =
    "ALTER TABLE lots DROP COLUMN output_root; DELETE FROM schema_version WHERE version >= 5; ";

// Migration 7 taken out again (issue 15): the text index back to FTS5's
// unicode61 tokenizer, no keys, no field meaning. Then kDropV6* takes a
// store back to v4.
constexpr const char* kUndoSqliteV7 =
    "DROP TABLE term_keys; DROP TABLE field_words; DROP INDEX fields_by_key; "
    "ALTER TABLE fields DROP COLUMN value_key; "
    "DROP TABLE pages_fts; "
    "CREATE VIRTUAL TABLE pages_fts USING fts5(text, content = 'pages', content_rowid = 'id', "
    "tokenize = 'unicode61 remove_diacritics 2'); "
    "INSERT INTO pages_fts(pages_fts) VALUES ('rebuild'); "
    "DELETE FROM schema_version WHERE version >= 7; ";  // and v9 (issue 18: nothing on SQLite)

// Migration 7 taken out again on PostgreSQL (see kUndoSqliteV7): tsv back
// from `acervo_pt` by the trigger of migration 3.
constexpr const char* kUndoPostgresV7 =
    "DROP TABLE term_keys, field_words; DROP INDEX fields_by_key; ALTER TABLE fields DROP COLUMN value_key; "
    "DO $$ BEGIN EXECUTE format('CREATE TRIGGER pages_tsv BEFORE INSERT OR UPDATE OF text ON pages FOR EACH ROW "
    "EXECUTE FUNCTION tsvector_update_trigger(tsv, %L, text)', quote_ident(current_schema()) || '.acervo_pt'); END $$; "
    "UPDATE pages SET text = text; "
    "DELETE FROM schema_version WHERE version = 7; ";

// Migration 11 taken out again (issue 14, item 5): no page_replacements.
constexpr const char* kUndoSqliteV11 =
    "DROP TABLE page_replacements; DELETE FROM schema_version WHERE version >= 11; ";
constexpr const char* kUndoPostgresV11 =
    "DROP TABLE page_replacements; DROP FUNCTION acervo_replacement_append_only(); "
    "DELETE FROM schema_version WHERE version >= 11; ";
// Migration 12 taken out again (issue 13, item 11): no pages_by_doc. The
// same SQL on both backends.
constexpr const char* kUndoV12 = "DROP INDEX pages_by_doc; DELETE FROM schema_version WHERE version >= 12; ";
// Fails (naming the index) when pages_by_doc is missing.
constexpr const char* kCheckPagesByDocSqlite = "SELECT count(*) FROM pages INDEXED BY pages_by_doc WHERE doc_id = 1";
constexpr const char* kCheckPagesByDocPostgres =
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'pages_by_doc') "
    "THEN RAISE EXCEPTION 'no such index: pages_by_doc'; END IF; END $$";
// Migration 10 taken out again (issue 19): users without source and cpf.
// Below v11 first (the same text as kUndo*V11: a store below v10 is below
// v11 too).
constexpr const char* kUndoSqliteV10 =
    "DROP TABLE page_replacements; DELETE FROM schema_version WHERE version >= 11; "
    "DROP INDEX users_by_cpf; ALTER TABLE users DROP COLUMN cpf; ALTER TABLE users DROP COLUMN source; "
    "DELETE FROM schema_version WHERE version >= 10; ";
constexpr const char* kUndoPostgresV10 =
    "DROP TABLE page_replacements; DROP FUNCTION acervo_replacement_append_only(); "
    "DELETE FROM schema_version WHERE version >= 11; "
    "ALTER TABLE users DROP COLUMN cpf, DROP COLUMN source; DELETE FROM schema_version WHERE version >= 10; ";
// Migration 8 taken out again (issue 14's review tables and the history's
// append-only trigger, dropped with its table): back to v7. Applied first,
// before kUndo*V7, wherever a test takes a store below v8.
constexpr const char* kDropV8Sqlite =
    "DROP TABLE review_items; DROP TABLE document_history; DROP TABLE withdrawals; DROP TABLE lot_sources; "
    "DELETE FROM schema_version WHERE version >= 8; ";
constexpr const char* kDropV8Postgres =
    "DROP TABLE review_items, document_history, withdrawals, lot_sources; "
    "DROP FUNCTION acervo_history_append_only(); DELETE FROM schema_version WHERE version >= 8; ";

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// A fresh PostgreSQL database per test; "" after a loud message when the
// server cannot run on this machine.
std::string FreshPostgresDatabase() {
  static int counter = 0;
  std::string why;
  PostgresTestServer* server = SharedPostgres(&why);
  if (server == nullptr) {
    std::fprintf(stderr,
                 "\n*** PostgreSQL store tests SKIPPED: cannot start a PostgreSQL server here: %s ***\n"
                 "*** install the Debian packages postgresql postgresql-contrib (scripts/debian-packages.txt) ***\n\n",
                 why.c_str());
    return "";
  }
  Result<std::string> conninfo = server->CreateDatabase("acervo_test_" + std::to_string(++counter));
  EXPECT_TRUE(conninfo.ok()) << conninfo.status().ToString();
  return conninfo.ok() ? *conninfo : "";
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      fs::create_directories(dir_.path() / "index");  // a store never creates folders
      store_ = OpenOrDie(dir_.path() / "index" / "acervo.db");
    } else {
      conninfo_ = FreshPostgresDatabase();
      if (conninfo_.empty()) GTEST_SKIP() << "PostgreSQL cannot run here (see the message above)";
      Result<std::unique_ptr<Store>> s = OpenPostgresStore(conninfo_);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      store_ = std::move(s).value();
    }
    ASSERT_NE(store_, nullptr);
    Fill(*store_);
  }
  bool sqlite() const { return GetParam() == Backend::kSqlite; }

  // Closes and reopens the store (migrations run again).
  void Reopen() {
    store_.reset();
    if (sqlite()) {
      store_ = OpenOrDie(dir_.path() / "index" / "acervo.db");
    } else {
      Result<std::unique_ptr<Store>> s = OpenPostgresStore(conninfo_);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      store_ = std::move(s).value();
    }
  }

  // Runs SQL on the database behind the store's back; "" on success, else
  // the database's message.
  std::string RawExec(const std::string& sql) {
    std::string error;
    if (sqlite()) {
      sqlite3* db = nullptr;
      const fs::path path = dir_.path() / "index" / "acervo.db";
      sqlite3_open(path.c_str(), &db);
      if (Status st = RegisterSqliteExtensions(db); !st.ok()) error = st.ToString();
      // The audit trail's file too, as the store sees it (schema v13).
      std::string run = sql;
      if (fs::exists(SqliteAuditTrailPath(path))) run = "ATTACH '" + SqliteAuditTrailPath(path).string() + "' AS trail; " + sql;
      char* msg = nullptr;
      if (sqlite3_exec(db, run.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) error = msg ? msg : "error";
      sqlite3_free(msg);
      sqlite3_close(db);
    } else {
      PGconn* c = PQconnectdb(conninfo_.c_str());
      PGresult* r = PQexec(c, sql.c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        error = PQresultErrorMessage(r);
        if (error.empty()) error = "error";
      }
      PQclear(r);
      PQfinish(c);
    }
    return error;
  }

  // Takes the store below v13 on SQLite (UndoSqliteV13); nothing on
  // PostgreSQL. The store must be closed.
  void UndoV13() {
    if (sqlite()) ASSERT_EQ(UndoSqliteV13(dir_.path() / "index" / "acervo.db"), "");
  }

  std::vector<SearchHit> SearchOk(const SearchRequest& r) {
    Result<std::vector<SearchHit>> hits = store_->Search(r);
    EXPECT_TRUE(hits.ok()) << r.query << ": " << hits.status().ToString();
    return hits.ok() ? std::move(hits).value() : std::vector<SearchHit>{};
  }

  TempDir dir_;
  std::string conninfo_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, FindsRegardlessOfCaseAndAccents) {
  const std::vector<std::string> all = {"L1/d1", "L1/d2", "L1/d3", "L2/d1"};
  for (const char* q : {"certidao", "CERTIDÃO", "certidão", "Certidao", "CERTIDAO"}) {
    EXPECT_EQ(Sorted(Ids(SearchOk(Q(q)))), all) << q;
  }
}

TEST_P(StoreTest, SearchTable) {
  struct Case {
    std::string query;
    std::vector<std::string> want;  // sorted
    std::string lot = "";
    std::vector<std::pair<std::string, std::string>> fields = {};
  };
  const std::vector<Case> cases = {
      {"\"certidão de nascimento\"", {"L1/d1"}},
      {"\"certidao de obito\"", {"L1/d2"}},
      {"\"nascimento certidão\"", {}},
      {"nasc*", {"L1/d1"}},
      {"NASC*", {"L1/d1"}},
      {"cart*", {"L1/d3"}},
      {"casamento OR óbito", {"L1/d2", "L1/d3"}},
      {"certidão AND casamento", {"L1/d3"}},
      {"certidão -óbito", {"L1/d1", "L1/d3", "L2/d1"}},
      {"certidão NOT (casamento OR negativa)", {"L1/d1", "L1/d2"}},
      {"-certidão", {}},
      {"-casamento", {"L1/d1", "L1/d2", "L2/d1"}},  // d1's blank page does not count
      // Clauses may match on different pages; a group must match on one.
      {"nascimento registro", {"L1/d1"}},
      {"(nascimento registro)", {}},
      // Each clause on a page in the PDF: d1's "casamento" is on its blank page.
      {"casamento certidão", {"L1/d3"}},
      {"(casamento OR averbação) certidão", {"L1/d3"}},
      {"(casamento OR nascimento) (registro OR averbação)", {"L1/d1", "L1/d3"}},
      {"(nascimento NOT casamento) registro", {"L1/d1"}},
      {"(certidão NOT negativa) (escrivão OR registro)", {"L1/d1", "L1/d2"}},
      {"\"pessoas naturais\" nascimento", {"L1/d1"}},
      {"(certidão -óbito) OR escrivão", {"L1/d1", "L1/d2", "L1/d3", "L2/d1"}},
      {"processo:0001", {"L1/d1"}},
      {"nome:\"joao da silva\"", {"L1/d1"}},
      {"NOME:\"JOÃO  DA SILVA\"", {"L1/d1"}},
      {"nome:joao", {"L1/d1"}},  // a text field matches by the words it contains
      {"nome:\"silva joao\"", {"L1/d1"}},
      {"nome:joaquim", {}},
      {"nome:mar*", {"L2/d1"}},
      // A text field's words ANDed with the rest of a filter-only query (on
      // SQLite they drive the listing as a join): the same documents.
      {"nome:joao type:certidao", {"L1/d1"}},
      {"type:oficio nome:\"joao da silva\"", {}},
      {"nome:\"joao da silva\" -type:oficio lot:L1", {"L1/d1"}},
      {"nome:joao -nascimento", {}},
      {"nome:joao OR type:oficio", {"L1/d1", "L1/d2"}},
      {"-nome:joao type:certidao", {"L1/d3"}},
      {"data:15/03/2020", {"L1/d1"}},
      {"data:2020-03-15", {"L1/d1"}},
      {"data:2020-01-01..2020-12-31", {"L1/d1", "L2/d1"}},
      {"data:01/01/2020..31/12/2020", {"L1/d1", "L2/d1"}},
      {"data:2021-01-01..", {"L1/d2"}},
      {"data:..2019-12-31", {"L1/d3"}},
      {"valor:99..200", {"L1/d2", "L1/d3"}},
      {"valor:100..", {"L1/d2"}},
      {"lot:L2", {"L2/d1"}},
      {"type:certidao", {"L1/d1", "L1/d3"}},
      {"type:CERTIDÃO", {"L1/d1", "L1/d3"}},
      {"type:cert*", {"L1/d1", "L1/d3"}},
      {"type:certidao OR type:oficio", {"L1/d1", "L1/d2", "L1/d3"}},
      {"-type:certidao", {"L1/d2", "L2/d1"}},
      {"certidão type:oficio", {"L1/d2"}},
      {"certidão lot:L1 -type:certidao", {"L1/d2"}},
      {"certidão", {"L2/d1"}, "L2"},
      {"", {"L1/d1", "L1/d2", "L1/d3"}, "L1"},
      {"", {"L1/d1"}, "", {{"data", "2020-03-15"}}},
      {"", {"L1/d1"}, "", {{"Nome", "JOAO DA SILVA"}}},
      {"certidão", {"L1/d2"}, "", {{"valor", "150"}}},
      {"inexistente", {}},
  };
  for (const Case& c : cases) {
    SearchRequest r;
    r.query = c.query;
    r.lot = c.lot;
    r.fields = c.fields;
    EXPECT_EQ(Sorted(Ids(SearchOk(r))), c.want) << "query: " << c.query;
  }
}

TEST_P(StoreTest, EmptyQueryListsInIdOrderWithLimit) {
  SearchRequest r;
  r.limit = 3;
  const std::vector<SearchHit> hits = SearchOk(r);
  EXPECT_EQ(Ids(hits), (std::vector<std::string>{"L1/d1", "L1/d2", "L1/d3"}));
  for (const SearchHit& h : hits) {
    EXPECT_EQ(h.score, 0);
    EXPECT_TRUE(h.pages.empty());
  }
}

TEST_P(StoreTest, HitsCarryPagesSnippetAndFields) {
  SearchRequest r;
  r.query = "certidao";
  const std::vector<SearchHit> hits = SearchOk(r);
  ASSERT_EQ(hits.size(), 4u);
  for (const SearchHit& h : hits) {
    if (h.lot_id == "L1" && h.document_id == "d1") {
      // PDF page 1 only: the blank page (not in the PDF) is not a hit.
      EXPECT_EQ(h.pages, std::vector<int>{1});
      EXPECT_NE(h.snippet.find("«CERTIDÃO»"), std::string::npos) << h.snippet;
      EXPECT_EQ(h.document_type, "certidao");
      EXPECT_EQ(h.pdf_path, "L1/d1.pdf");
      ASSERT_EQ(h.fields.size(), 3u);
      EXPECT_EQ(h.fields[2].name, "nome");
      EXPECT_EQ(h.fields[2].value, "João da Silva");
    }
    if (h.lot_id == "L1" && h.document_id == "d3") {
      EXPECT_EQ(h.pages, (std::vector<int>{1, 2}));
    }
    EXPECT_NE(h.snippet.find("«"), std::string::npos) << h.snippet;
    EXPECT_NE(h.snippet.find("»"), std::string::npos) << h.snippet;
  }
  // Several clauses: pages matching any of them are hits.
  r.query = "nascimento registro";
  const std::vector<SearchHit> two = SearchOk(r);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].pages, (std::vector<int>{1, 2}));
}

TEST_P(StoreTest, RanksDocumentsWithMoreAndBetterHitsFirst) {
  SearchRequest r;
  r.query = "certidão";
  const std::vector<SearchHit> hits = SearchOk(r);
  ASSERT_EQ(hits.size(), 4u);
  // d3 says "certidão" four times on two pages.
  EXPECT_EQ(hits[0].lot_id + "/" + hits[0].document_id, "L1/d3");
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
  EXPECT_GT(hits[0].score, hits[1].score);
  r.limit = 2;
  EXPECT_EQ(SearchOk(r).size(), 2u);
}

TEST_P(StoreTest, RePuttingReplacesTheDocument) {
  Result<StoreStats> before = store_->Stats();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->lots, 2);
  EXPECT_EQ(before->documents, 4);
  EXPECT_EQ(before->pages, 8);

  // Same document, new text and fields, one page fewer; put it three times.
  DocumentRecord d = Doc("L1", "d1", "certidao", {{"processo", "0002"}},
                         {Page(1, 1, "Certidão de nascimento reemitida.")});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->PutDocument(d).ok());
  Result<StoreStats> after = store_->Stats();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->documents, 4);
  EXPECT_EQ(after->pages, 6);

  EXPECT_EQ(Ids(SearchOk(Q("reemitida"))), std::vector<std::string>{"L1/d1"});
  EXPECT_TRUE(SearchOk(Q("registro")).empty());  // old page 3 text is gone
  EXPECT_TRUE(SearchOk(Q("processo:0001")).empty());
  EXPECT_EQ(Ids(SearchOk(Q("processo:0002"))), std::vector<std::string>{"L1/d1"});
  EXPECT_EQ(SearchOk(Q("nascimento")).size(), 1u);
  store_.reset();
  if (!sqlite()) return;

  // The FTS index agrees with the pages table after all the replacing.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "index" / "acervo.db").c_str(), &db), SQLITE_OK);
  ASSERT_TRUE(RegisterSqliteExtensions(db).ok());
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, "INSERT INTO pages_fts(pages_fts, rank) VALUES('integrity-check', 1)",
                         nullptr, nullptr, &err),
            SQLITE_OK)
      << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST_P(StoreTest, UpsertLotKeepsDocuments) {
  LotRecord lot = Lot("L1");
  lot.finished_at = "2026-03-01T18:00:00Z";
  lot.description = "caixa 1";
  ASSERT_TRUE(store_->UpsertLot(lot).ok());
  Result<StoreStats> stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->lots, 2);
  EXPECT_EQ(stats->documents, 4);
}

TEST_P(StoreTest, ListLotsGivesEveryLotWithItsMetadataById) {
  LotRecord lot = Lot("L0");
  lot.description = "caixa\tzero";
  lot.profile_json = "{\"dpi\": 300}";
  lot.finished_at = "2026-03-02T18:00:00Z";
  ASSERT_TRUE(store_->UpsertLot(lot).ok());
  Result<std::vector<LotRecord>> lots = store_->ListLots();
  ASSERT_TRUE(lots.ok()) << lots.status().ToString();
  ASSERT_EQ(lots->size(), 3u);
  EXPECT_EQ((*lots)[0].id, "L0");
  EXPECT_EQ((*lots)[1].id, "L1");
  EXPECT_EQ((*lots)[2].id, "L2");
  EXPECT_EQ((*lots)[0].description, "caixa\tzero");
  EXPECT_EQ((*lots)[0].profile_json, "{\"dpi\": 300}");
  EXPECT_EQ((*lots)[0].finished_at, "2026-03-02T18:00:00Z");
  EXPECT_EQ((*lots)[1].project, "Arquivo Geral");
  EXPECT_EQ((*lots)[1].box, "CX-0001");
  EXPECT_EQ((*lots)[1].operator_name, "Maria");
  EXPECT_EQ((*lots)[1].started_at, "2026-03-01T08:00:00Z");
}

TEST_P(StoreTest, GetAndListDocuments) {
  Result<std::optional<DocumentRecord>> got = store_->GetDocument("L1", "d1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  const DocumentRecord& d = **got;
  const DocumentRecord want = Corpus()[0];
  EXPECT_EQ(d.title, want.title);
  EXPECT_EQ(d.pdf_sha256, want.pdf_sha256);
  EXPECT_EQ(d.page_count, 2);
  ASSERT_EQ(d.pages.size(), 3u);
  EXPECT_EQ(d.pages[1].in_pdf, false);
  EXPECT_EQ(d.pages[1].pdf_page, 0);
  EXPECT_TRUE(d.pages[1].blank);
  EXPECT_EQ(d.pages[2].pdf_page, 2);
  EXPECT_EQ(d.pages[0].text, want.pages[0].text);
  EXPECT_EQ(d.pages[0].stages, want.pages[0].stages);
  EXPECT_EQ(d.pages[0].mean_confidence, 91.5);
  ASSERT_EQ(d.fields.size(), 3u);
  EXPECT_EQ(d.fields[1].value, "15/03/2020");

  Result<std::optional<DocumentRecord>> missing = store_->GetDocument("L1", "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  Result<std::vector<DocumentRecord>> list = store_->ListDocuments("L1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[2].document_id, "d3");
  EXPECT_EQ((*list)[0].pages.size(), 3u);
  EXPECT_TRUE((*list)[0].pages[0].text.empty());
  Result<std::vector<DocumentRecord>> none = store_->ListDocuments("nope");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreTest, FieldSourcesAreKept) {
  DocumentRecord d = Doc("L1", "src", "certidao",
                         {{"cpf", "529.982.247-25", "ocr page 2"}, {"nome", "Ana", "manifest.csv line 4"}},
                         {Page(1, 1, "texto")});
  ASSERT_TRUE(store_->PutDocument(d).ok());
  Result<std::optional<DocumentRecord>> got = store_->GetDocument("L1", "src");
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_EQ((*got)->fields.size(), 2u);
  EXPECT_EQ((*got)->fields[0].source, "ocr page 2");
  EXPECT_EQ((*got)->fields[1].source, "manifest.csv line 4");
  const std::vector<SearchHit> hits = SearchOk(Q("cpf:529.982.247-25"));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].fields[0].source, "ocr page 2");
}

TEST_P(StoreTest, RejectsBadDocuments) {
  struct Case {
    DocumentRecord doc;
    StatusCode code;
  };
  std::vector<Case> cases = {
      {Doc("L9", "x", "t", {}, {}), StatusCode::kNotFound},
      {Doc("", "x", "t", {}, {}), StatusCode::kInvalidArgument},
      {Doc("L1", "", "t", {}, {}), StatusCode::kInvalidArgument},
      {Doc("L1", "x", "t", {}, {Page(1, 1, "a"), Page(1, 2, "b")}), StatusCode::kInvalidArgument},
      {Doc("L1", "x", "t", {}, {Page(0, 1, "a")}), StatusCode::kInvalidArgument},
      {Doc("L1", "x", "t", {{" ", "v"}}, {}), StatusCode::kInvalidArgument},
  };
  PageRecord bad = Page(1, 1, "a");
  bad.in_pdf = false;
  cases.push_back({Doc("L1", "x", "t", {}, {bad}), StatusCode::kInvalidArgument});
  for (const Case& c : cases) {
    EXPECT_EQ(store_->PutDocument(c.doc).code(), c.code) << c.doc.lot_id << "/" << c.doc.document_id;
  }
  Result<StoreStats> stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->documents, 4);  // nothing half-stored
  EXPECT_EQ(store_->UpsertLot(LotRecord{}).code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, BadQueriesAreInvalidArgumentWithPosition) {
  struct Case {
    SearchRequest request;
    std::string message;
  };
  const Case cases[] = {
      {Q("certidão \"de"), "unclosed quote at position 10"},
      {Q("(a OR b"), "unclosed parenthesis at position 1"},
      {Q("a AND"), "'AND' without a term after it at position 3"},
      {Q(":x"), "empty field name at position 1"},
      {Q("data:2020..x"), "bad range '2020..x': bounds must both be dates (YYYY-MM-DD or "
                         "DD/MM/YYYY) or numbers at position 6"},
      {Q("a", "", {}, 0), "search limit 0 is not within 1..10000"},
      {Q("a", "", {{"", "x"}}), "field filter with an empty name"},
  };
  for (const Case& c : cases) {
    Result<std::vector<SearchHit>> r = store_->Search(c.request);
    ASSERT_FALSE(r.ok()) << c.request.query;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
}

// Random queries straight into the store: only OK or InvalidArgument, never
// an SQL or FTS5 error, whatever the characters.
TEST_P(StoreTest, FuzzedQueriesNeverReachSqliteAsSyntax) {
  const std::string alphabet[] = {"certidão", "a", "ç", " ", " ", "\"", "(", ")", "*", "-", ":",
                                  "..", "AND", "OR", "NOT", "NEAR", "data:", "type:", "lot:",
                                  "2020-01-01", "5", "\xff", "'", ";", "^", "{", "}", "+",
                                  "«", "…", "\\", "%", "_", "\x01", "DROP TABLE pages;--"};
  std::mt19937 rng(777);
  std::uniform_int_distribution<size_t> pick(0, std::size(alphabet) - 1);
  std::uniform_int_distribution<int> len(1, 12);
  int ok = 0;
  for (int i = 0; i < 3000; ++i) {
    SearchRequest r;
    for (int n = len(rng); n > 0; --n) r.query += alphabet[pick(rng)];
    Result<std::vector<SearchHit>> hits = store_->Search(r);
    if (hits.ok()) {
      ++ok;
    } else {
      ASSERT_EQ(hits.status().code(), StatusCode::kInvalidArgument)
          << r.query << ": " << hits.status().ToString();
    }
  }
  EXPECT_GT(ok, 300);
  Result<StoreStats> stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->pages, 8);
}

// Schema v4: the halves of a split two-page spread keep their master page,
// side and column range; a page without them is its own master page, whole.
TEST_P(StoreTest, MasterPageAndPartRoundTrip) {
  DocumentRecord doc =
      Doc("L1", "spread", "livro", {}, {Page(1, 1, "esquerda"), Page(2, 2, "direita"), Page(3, 3, "inteira")});
  for (int k : {0, 1}) {
    doc.pages[k].master_page = 1;
    doc.pages[k].part = k == 0 ? "left" : "right";
    doc.pages[k].master_x = k == 0 ? 0 : 1650;
    doc.pages[k].master_width = k == 0 ? 1650 : 1858;
  }
  doc.pages[2].master_page = 0;  // "the page's own number"
  ASSERT_TRUE(store_->PutDocument(doc).ok());
  Result<std::optional<DocumentRecord>> got = store_->GetDocument("L1", "spread");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  const std::vector<PageRecord>& p = (**got).pages;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].master_page, 1);
  EXPECT_EQ(p[0].part, "left");
  EXPECT_EQ(p[0].master_x, 0);
  EXPECT_EQ(p[0].master_width, 1650);
  EXPECT_EQ(p[1].master_page, 1);
  EXPECT_EQ(p[1].part, "right");
  EXPECT_EQ(p[1].master_x, 1650);
  EXPECT_EQ(p[1].master_width, 1858);
  EXPECT_EQ(p[2].master_page, 3);
  EXPECT_EQ(p[2].part, "whole");

  DocumentRecord bad = doc;
  bad.pages[0].part = "middle";
  Status s = store_->PutDocument(bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("middle"), std::string::npos) << s.ToString();
  bad = doc;
  bad.pages[1].master_x = -1;
  EXPECT_EQ(store_->PutDocument(bad).code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------- issue 13 (web) --

// Schema v6: a page's image size and OCR word boxes are kept, read back per
// page, and replaced with the document.
TEST_P(StoreTest, WordBoxesRoundTripPerPage) {
  DocumentRecord doc = Doc("L1", "boxes", "oficio", {}, {Page(1, 1, "Certidão de óbito"), Page(2, 2, "sem caixas")});
  doc.pages[0].image_width = 2480;
  doc.pages[0].image_height = 3508;
  doc.pages[0].words = {{"Certidão", 100, 200, 300, 40}, {"de", 410, 200, 50, 40}, {"óbito", 470, 198, 160, 44},
                        {"com\tespaço\n", 1, 2, 3, 4}};
  ASSERT_TRUE(store_->PutDocument(doc).ok());
  Result<std::optional<PageWords>> w = store_->GetPageWords("L1", "boxes", 1);
  ASSERT_TRUE(w.ok() && w->has_value()) << w.status().ToString();
  EXPECT_EQ((**w).image_width, 2480);
  EXPECT_EQ((**w).image_height, 3508);
  ASSERT_EQ((**w).words.size(), 4u);
  EXPECT_EQ((**w).words[2].text, "óbito");
  EXPECT_EQ((**w).words[2].x, 470);
  EXPECT_EQ((**w).words[2].y, 198);
  EXPECT_EQ((**w).words[2].w, 160);
  EXPECT_EQ((**w).words[2].h, 44);
  EXPECT_EQ((**w).words[3].text, "comespaço");  // whitespace and controls never reach the codec's lines
  Result<std::optional<PageWords>> none = store_->GetPageWords("L1", "boxes", 2);
  ASSERT_TRUE(none.ok() && none->has_value());
  EXPECT_EQ((**none).image_width, 0);
  EXPECT_TRUE((**none).words.empty());
  Result<std::optional<PageWords>> missing = store_->GetPageWords("L1", "boxes", 9);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  // Replacing the document replaces its boxes (no stale rows).
  doc.pages[0].words = {{"novo", 5, 6, 7, 8}};
  ASSERT_TRUE(store_->PutDocument(doc).ok());
  w = store_->GetPageWords("L1", "boxes", 1);
  ASSERT_TRUE(w.ok() && w->has_value());
  ASSERT_EQ((**w).words.size(), 1u);
  EXPECT_EQ((**w).words[0].text, "novo");
  // PutDocuments (COPY on PostgreSQL) keeps them too.
  DocumentRecord bulk = doc;
  bulk.document_id = "boxes2";
  ASSERT_TRUE(store_->PutDocuments({bulk}).ok());
  w = store_->GetPageWords("L1", "boxes2", 1);
  ASSERT_TRUE(w.ok() && w->has_value());
  ASSERT_EQ((**w).words.size(), 1u);
  EXPECT_EQ((**w).words[0].x, 5);
}

TEST_P(StoreTest, OffsetPagesThroughTheHits) {
  std::vector<std::string> all;
  for (const SearchHit& h : SearchOk(Q("certidao"))) all.push_back(h.lot_id + "/" + h.document_id);
  ASSERT_EQ(all.size(), 4u);
  std::vector<std::string> paged;
  for (int offset : {0, 2}) {
    SearchRequest r = Q("certidao", "", {}, 2);
    r.offset = offset;
    for (const SearchHit& h : SearchOk(r)) paged.push_back(h.lot_id + "/" + h.document_id);
  }
  EXPECT_EQ(paged, all);
  SearchRequest listing = Q("", "", {}, 3);
  listing.offset = 3;
  EXPECT_EQ(Ids(SearchOk(listing)), std::vector<std::string>({"L2/d1"}));
  SearchRequest bad = Q("x");
  bad.offset = -1;
  EXPECT_EQ(store_->Search(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, SortsByTheDocumentsDate) {
  // Dates: L1/d1 15/03/2020, L1/d2 2021-06-01, L1/d3 2019-12-31, L2/d1 2020-07-10.
  for (const char* q : {"", "certidao"}) {
    SearchRequest r = Q(q);
    r.sort = SearchRequest::Sort::kDateNewest;
    std::vector<SearchHit> hits = SearchOk(r);
    EXPECT_EQ(Ids(hits), std::vector<std::string>({"L1/d2", "L2/d1", "L1/d1", "L1/d3"})) << q;
    if (*q) {
      for (const SearchHit& h : hits) EXPECT_FALSE(h.pages.empty()) << h.document_id;
    }
    r.sort = SearchRequest::Sort::kDateOldest;
    r.limit = 2;
    r.offset = 1;
    EXPECT_EQ(Ids(SearchOk(r)), std::vector<std::string>({"L1/d1", "L2/d1"})) << q;
  }
}

TEST_P(StoreTest, AllowedLotsHideEverythingElse) {
  for (const char* q : {"certidao", "", "type:requerimento OR type:oficio", "-casamento"}) {
    SearchRequest r = Q(q);
    r.allowed_lots = std::vector<std::string>{"L2"};
    for (const SearchHit& h : SearchOk(r)) EXPECT_EQ(h.lot_id, "L2") << q;
    r.sort = SearchRequest::Sort::kDateNewest;
    for (const SearchHit& h : SearchOk(r)) EXPECT_EQ(h.lot_id, "L2") << q;
    Result<SearchFacets> f = store_->Facets(r);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    for (const FacetCount& c : f->lots) EXPECT_EQ(c.value, "L2") << q;
    r.allowed_lots = std::vector<std::string>{};
    EXPECT_TRUE(SearchOk(r).empty()) << q;
    f = store_->Facets(r);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->total, 0) << q;
  }
  // One connection, the allow-list changing from search to search (SQLite
  // keeps the last one in a temporary table): each sees its own lots only.
  for (const std::vector<std::string>& lots : std::vector<std::vector<std::string>>{
           {"L2"}, {"L1"}, {"L1", "L2"}, {"L2"}, {"elsewhere"}, {"L2", "L2"}, {}, {"L1"}}) {
    SearchRequest r = Q("certidao");
    r.allowed_lots = lots;
    std::set<std::string> seen, want;
    for (const SearchHit& h : SearchOk(r)) seen.insert(h.lot_id);
    for (const std::string& l : lots) {
      if (l == "L1" || l == "L2") want.insert(l);
    }
    EXPECT_EQ(seen, want) << ::testing::PrintToString(lots);
    Result<SearchFacets> f = store_->Facets(r);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    std::set<std::string> counted;
    for (const FacetCount& c : f->lots) counted.insert(c.value);
    EXPECT_EQ(counted, want) << ::testing::PrintToString(lots);
  }
}

TEST_P(StoreTest, FacetsCountTheMatchingDocuments) {
  Result<SearchFacets> f = store_->Facets(Q("certidao"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->total, 4);
  EXPECT_TRUE(f->total_exact);
  ASSERT_EQ(f->lots.size(), 2u);
  EXPECT_EQ(f->lots[0].value, "L1");
  EXPECT_EQ(f->lots[0].count, 3);
  EXPECT_EQ(f->lots[1].count, 1);
  ASSERT_EQ(f->types.size(), 3u);
  EXPECT_EQ(f->types[0].value, "certidao");
  EXPECT_EQ(f->types[0].count, 2);
  EXPECT_EQ(f->date_min, "2019-12-31");
  EXPECT_EQ(f->date_max, "2021-06-01");
  ASSERT_EQ(f->years.size(), 3u);
  EXPECT_EQ(f->years[1].value, "2020");
  EXPECT_EQ(f->years[1].count, 2);
  // The document-date filter (either date form).
  SearchRequest in2020 = Q("certidao");
  in2020.date_from = "2020-01-01";
  in2020.date_to = "31/12/2020";
  EXPECT_EQ(Sorted(Ids(SearchOk(in2020))), (std::vector<std::string>{"L1/d1", "L2/d1"}));
  EXPECT_EQ(store_->Facets(in2020)->total, 2);
  in2020.date_to = "not a date";
  EXPECT_EQ(store_->Search(in2020).status().code(), StatusCode::kInvalidArgument);
  bool saw_nome = false;
  for (const FieldFacet& ff : f->fields) {
    if (ff.name != "nome") continue;
    saw_nome = true;
    EXPECT_EQ(ff.values.size(), 2u);
  }
  EXPECT_TRUE(saw_nome);
  // The same filters as Search: exclusions, metadata, lot.
  f = store_->Facets(Q("certidao -casamento"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->total, 3);  // L1/d3 (casamento) is out; L1/d1's "casamento" is on a blank page, which never counts
  f = store_->Facets(Q("type:certidao"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->total, 2);
  EXPECT_EQ(store_->Facets(Q("\"unclosed")).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, LotSummariesCountDocumentsAndPages) {
  Result<std::vector<LotSummary>> lots = store_->LotSummaries();
  ASSERT_TRUE(lots.ok()) << lots.status().ToString();
  ASSERT_EQ(lots->size(), 2u);
  EXPECT_EQ((*lots)[0].lot.id, "L1");
  EXPECT_EQ((*lots)[0].lot.project, "Arquivo Geral");
  EXPECT_EQ((*lots)[0].documents, 3);
  EXPECT_EQ((*lots)[0].pages, 7);
  EXPECT_EQ((*lots)[0].blank_pages, 1);
  EXPECT_EQ((*lots)[1].documents, 1);
  EXPECT_EQ((*lots)[1].pages, 1);
}

TEST_P(StoreTest, UsersGroupsAndGrants) {
  AccessStore& a = store_->Access();
  UserRecord u;
  u.name = "maria";
  u.display_name = "Maria Souza";
  u.role = Role::kReader;
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  u.groups = {"arquivo", "protocolo"};
  ASSERT_TRUE(a.AddUser(u).ok());
  EXPECT_EQ(a.AddUser(u).code(), StatusCode::kAlreadyExists);
  UserRecord bad = u;
  bad.name = "Maria Souza";
  EXPECT_EQ(a.AddUser(bad).code(), StatusCode::kInvalidArgument);
  Result<std::optional<UserRecord>> got = a.GetUser("maria");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((**got).display_name, "Maria Souza");
  EXPECT_EQ((**got).role, Role::kReader);
  EXPECT_EQ((**got).password_hash, u.password_hash);
  EXPECT_EQ((**got).groups, (std::vector<std::string>{"arquivo", "protocolo"}));
  EXPECT_FALSE((**got).disabled);
  EXPECT_FALSE((**got).created_at.empty());
  u.role = Role::kOperator;
  u.disabled = true;
  u.full_view = true;
  u.groups = {"arquivo"};
  ASSERT_TRUE(a.UpdateUser(u).ok());
  got = a.GetUser("maria");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got).role, Role::kOperator);
  EXPECT_TRUE((**got).disabled);
  EXPECT_TRUE((**got).full_view);
  EXPECT_EQ((**got).groups, std::vector<std::string>{"arquivo"});
  UserRecord ghost;
  ghost.name = "ghost";
  EXPECT_EQ(a.UpdateUser(ghost).code(), StatusCode::kNotFound);
  Result<std::vector<UserRecord>> users = a.ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 1u);

  // Lots: by id (even one not stored yet) and by project (both lots are of
  // "Arquivo Geral").
  ASSERT_TRUE(a.AddGrant({"arquivo", "lot", "L2"}).ok());
  ASSERT_TRUE(a.AddGrant({"arquivo", "lot", "L2"}).ok());  // idempotent
  ASSERT_TRUE(a.AddGrant({"arquivo", "lot", "L9"}).ok());
  EXPECT_EQ(a.AddGrant({"arquivo", "box", "x"}).code(), StatusCode::kInvalidArgument);
  Result<std::vector<std::string>> lots = a.LotsForGroups({"arquivo"});
  ASSERT_TRUE(lots.ok()) << lots.status().ToString();
  EXPECT_EQ(*lots, (std::vector<std::string>{"L2", "L9"}));
  EXPECT_TRUE(a.LotsForGroups({"outro"})->empty());
  ASSERT_TRUE(a.AddGrant({"protocolo", "project", "Arquivo Geral"}).ok());
  EXPECT_EQ(*a.LotsForGroups({"protocolo"}), (std::vector<std::string>{"L1", "L2"}));
  EXPECT_EQ(a.ListGrants()->size(), 3u);
  ASSERT_TRUE(a.RemoveGrant({"arquivo", "lot", "L9"}).ok());
  EXPECT_EQ(a.RemoveGrant({"arquivo", "lot", "L9"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(*a.LotsForGroups({"arquivo"}), std::vector<std::string>{"L2"});

  // API tokens: stored by id with the hash of their secret.
  ApiTokenRecord t{"tok1", "maria", std::string(64, 'f'), "script", "", false};
  ASSERT_TRUE(a.AddApiToken(t).ok());
  EXPECT_EQ(a.AddApiToken(t).code(), StatusCode::kAlreadyExists);
  t.id = "tok2";
  t.user = "nobody";
  EXPECT_EQ(a.AddApiToken(t).code(), StatusCode::kNotFound);
  Result<std::optional<ApiTokenRecord>> tok = a.GetApiToken("tok1");
  ASSERT_TRUE(tok.ok() && tok->has_value());
  EXPECT_EQ((**tok).user, "maria");
  EXPECT_FALSE((**tok).revoked);
  ASSERT_TRUE(a.RevokeApiToken("tok1").ok());
  EXPECT_TRUE((**a.GetApiToken("tok1")).revoked);
  EXPECT_EQ(a.RevokeApiToken("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(a.ListApiTokens("maria")->size(), 1u);
}

// v10 (issue 19): a user's identity source and CPF; the CPF finds the user
// (certificate login), is unique, and must be a real CPF.
TEST_P(StoreTest, UsersHaveASourceAndAUniqueCpf) {
  AccessStore& a = store_->Access();
  UserRecord u;
  u.name = "joana";
  u.cpf = "52998224725";
  ASSERT_TRUE(a.AddUser(u).ok());
  UserRecord d;
  d.name = "dir.user";
  d.source = "ldap";
  ASSERT_TRUE(a.AddUser(d).ok());
  Result<std::optional<UserRecord>> got = a.GetUserByCpf("52998224725");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((**got).name, "joana");
  EXPECT_EQ((**got).source, "local");
  EXPECT_EQ((**a.GetUser("dir.user")).source, "ldap");
  EXPECT_FALSE(a.GetUserByCpf("11144477735")->has_value());
  EXPECT_FALSE(a.GetUserByCpf("")->has_value());
  // Another user cannot take the CPF, on add or on update.
  UserRecord other;
  other.name = "outra";
  other.cpf = "52998224725";
  EXPECT_EQ(a.AddUser(other).code(), StatusCode::kAlreadyExists);
  d.cpf = "52998224725";
  EXPECT_EQ(a.UpdateUser(d).code(), StatusCode::kAlreadyExists);
  // The unique index holds even behind the store's back.
  EXPECT_NE(RawExec("UPDATE users SET cpf = '52998224725' WHERE name = 'dir.user'"), "");
  // Not a CPF, not a source.
  other.cpf = "52998224726";
  EXPECT_EQ(a.AddUser(other).code(), StatusCode::kInvalidArgument);
  other.cpf = "";
  other.source = "kerberos";
  EXPECT_EQ(a.AddUser(other).code(), StatusCode::kInvalidArgument);
  // Moving the CPF: clear it from one, give it to the other.
  u.cpf = "";
  ASSERT_TRUE(a.UpdateUser(u).ok());
  ASSERT_TRUE(a.UpdateUser(d).ok());
  EXPECT_EQ((**a.GetUserByCpf("52998224725")).name, "dir.user");

  // The audit trail can be filtered by a text its details contain.
  ASSERT_TRUE(a.AppendAudit({{"", "maria", "", "search", "", "cpf:529.982.247-25"},
                             {"", "maria", "", "search", "", "certidao 50%_"},
                             {"", "maria", "", "search", "", "outra coisa"}})
                  .ok());
  AuditFilter f;
  f.detail_contains = "529.982.247-25";
  EXPECT_EQ(a.ListAudit(f)->size(), 1u);
  f.detail_contains = "50%_";  // no wildcards
  EXPECT_EQ(a.ListAudit(f)->size(), 1u);
  f.detail_contains = "%";
  EXPECT_EQ(a.ListAudit(f)->size(), 1u);
}

// The audit trail is a hash chain: appended in order, listed newest first,
// verified; SQL cannot change or delete a row, and a row changed behind
// the triggers' back (or removed) is found by VerifyAudit.
TEST_P(StoreTest, AuditTrailIsAppendOnlyAndHashChained) {
  AccessStore& a = store_->Access();
  Result<AuditCheck> empty = a.VerifyAudit();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->ok());
  EXPECT_EQ(empty->rows, 0);
  std::vector<AuditEntry> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back({"", i % 2 ? "maria" : "admin", "127.0.0.1", i == 0 ? "login" : "search", "L1/d" + std::to_string(i),
                     "certidão \"nº " + std::to_string(i) + "\"\t"});
  }
  Result<std::vector<AuditRow>> rows = a.AppendAudit(batch);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ((*rows)[0].seq, 1);
  EXPECT_EQ((*rows)[0].prev_hash, std::string(64, '0'));
  EXPECT_EQ((*rows)[1].prev_hash, (*rows)[0].hash);
  ASSERT_TRUE(a.AppendAudit({{"", "admin", "::1", "download", "L1/d1", ""}}).ok());
  Result<std::vector<AuditRow>> listed = a.ListAudit({});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 6u);
  EXPECT_EQ((*listed)[0].seq, 6);  // newest first
  EXPECT_EQ((*listed)[5].entry.detail, "certidão \"nº 0\"\t");
  AuditFilter only_maria;
  only_maria.user = "maria";
  EXPECT_EQ(a.ListAudit(only_maria)->size(), 2u);
  AuditFilter page;
  page.before_seq = 3;
  page.limit = 10;
  EXPECT_EQ(a.ListAudit(page)->size(), 2u);
  AuditFilter by_target;
  by_target.target_prefix = "L1/d1";
  EXPECT_EQ(a.ListAudit(by_target)->size(), 2u);
  Result<AuditCheck> ok = a.VerifyAudit();
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok()) << ok->problems.front();
  EXPECT_EQ(ok->rows, 6);
  EXPECT_EQ(ok->head_seq, 6);
  EXPECT_EQ(ok->head_hash, (*listed)[0].hash);

  // SQL refuses to change or remove rows.
  EXPECT_NE(RawExec("UPDATE audit SET detail = 'x' WHERE seq = 2"), "");
  EXPECT_NE(RawExec("DELETE FROM audit WHERE seq = 2"), "");
  EXPECT_TRUE(a.VerifyAudit()->ok());

  // Behind the triggers' back: an edit, then a removal, are found.
  const std::string drop = sqlite() ? "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
                                    : "DROP TRIGGER audit_append_only ON audit;";
  ASSERT_EQ(RawExec(drop), "");
  ASSERT_EQ(RawExec("UPDATE audit SET detail = 'nada' WHERE seq = 3"), "");
  Result<AuditCheck> edited = a.VerifyAudit();
  ASSERT_TRUE(edited.ok());
  ASSERT_FALSE(edited->ok());
  EXPECT_NE(edited->problems.front().find("row 3"), std::string::npos) << edited->problems.front();
  ASSERT_EQ(RawExec("DELETE FROM audit WHERE seq = 3"), "");
  Result<AuditCheck> removed = a.VerifyAudit();
  ASSERT_TRUE(removed.ok());
  ASSERT_FALSE(removed->ok());
  EXPECT_NE(removed->problems.front().find("missing"), std::string::npos) << removed->problems.front();
}

// A store made before schema v6 (v4 here) is migrated on open: the new
// tables appear, old pages read as having no boxes, users can be added.
TEST_P(StoreTest, VersionBeforeSixIsMigrated) {
  store_.reset();
  UndoV13();
  ASSERT_EQ(RawExec(sqlite() ? std::string(kUndoSqliteV10) + kDropV8Sqlite + kUndoSqliteV7 + kDropV6Sqlite + kDropV5
                             : std::string(kUndoPostgresV10) + kUndoQueueTables + kDropV8Postgres + kUndoPostgresV7 + kDropV6Postgres + kDropV5),
            "");
  Reopen();
  ASSERT_NE(store_, nullptr);
  Result<std::optional<PageWords>> w = store_->GetPageWords("L1", "d1", 1);
  ASSERT_TRUE(w.ok() && w->has_value()) << w.status().ToString();
  EXPECT_EQ((**w).image_width, 0);
  UserRecord u;
  u.name = "admin";
  u.role = Role::kAdmin;
  EXPECT_TRUE(store_->Access().AddUser(u).ok());
  EXPECT_TRUE(store_->Access().AppendAudit({{"", "admin", "", "login", "", ""}}).ok());
  EXPECT_EQ(RawExec("UPDATE audit SET detail = 'x'").empty(), false);  // triggers are back
  EXPECT_EQ(Ids(SearchOk(Q("nascimento"))), std::vector<std::string>({"L1/d1"}));
}

// A store of schema v10 (before issue 14's page replacements) gets the
// page_replacements table: a document stored before keeps its rows, a
// replacement is recorded with the document and listed, and the table is
// append-only like the history.
TEST_P(StoreTest, VersionTenGetsPageReplacements) {
  store_.reset();
  UndoV13();
  ASSERT_EQ(RawExec(sqlite() ? kUndoSqliteV11 : kUndoPostgresV11), "");
  Reopen();
  ASSERT_NE(store_, nullptr);
  Result<std::optional<DocumentRecord>> doc = store_->GetDocument("L1", "d1");
  ASSERT_TRUE(doc.ok() && doc->has_value()) << doc.status().ToString();
  Result<std::vector<PageReplacement>> none = store_->Review().Replacements("L1", "");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  DocumentRecord rec = **doc;
  DocumentReview review;
  PageReplacement r;
  r.page = 1;
  r.user = "cli:maria";
  r.reason = "torn corner";
  r.old_master_path = "L1/masters/a.tif";
  r.old_master_sha256 = std::string(64, 'a');
  r.new_master_path = "L1/masters/replaced/d1/p1-bbbb.tif";
  r.new_master_sha256 = std::string(64, 'b');
  review.replacements.push_back(r);
  rec.review = review;
  ASSERT_TRUE(store_->PutDocument(rec).ok());
  Result<std::vector<PageReplacement>> got = store_->Review().Replacements("L1", "d1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].seq, 1);
  EXPECT_EQ((*got)[0].document_id, "d1");
  EXPECT_EQ((*got)[0].old_master_sha256, std::string(64, 'a'));
  EXPECT_EQ((*got)[0].new_master_path, "L1/masters/replaced/d1/p1-bbbb.tif");
  EXPECT_EQ((*got)[0].reason, "torn corner");
  EXPECT_FALSE((*got)[0].at.empty());
  EXPECT_NE(RawExec("UPDATE page_replacements SET reason = 'x'").find("append-only"), std::string::npos);
  EXPECT_NE(RawExec("DELETE FROM page_replacements").find("append-only"), std::string::npos);
}

// A store of schema v11 gets pages_by_doc, the index a scored document's
// pages are read from (issue 13, item 11), and answers every search as
// before: same documents, order, pages, scores and snippets.
TEST_P(StoreTest, VersionElevenGetsPagesByDocWithTheSameAnswers) {
  // A blank page (left out of the PDF) and a document of several pages, so
  // the pages read from the index decide hits and PDF page numbers.
  ASSERT_TRUE(store_
                  ->PutDocument(Doc("L2", "d9", "oficio", {{"processo", "0009"}},
                                    {Page(1, 1, "primeira folha sem o termo"),
                                     Page(2, 2, "certidão de casamento averbada"), Page(3, 0, "certidão"),
                                     Page(4, 3, "certidão final")}))
                  .ok());
  const std::vector<std::string> queries = {"certidão", "certidão casamento", "\"registro civil\"", "cert*",
                                            "certidão -casamento", "nascimento OR casamento"};
  auto answers = [&]() {
    std::vector<std::string> out;
    for (const std::string& q : queries) {
      for (const SearchHit& h : SearchOk(Q(q))) {
        std::string pages;
        for (int p : h.pages) pages += std::to_string(p) + ",";
        out.push_back(q + " | " + h.lot_id + "/" + h.document_id + " | " + pages + " | " +
                      std::to_string(h.score) + " | " + h.snippet);
      }
    }
    return out;
  };
  const std::vector<std::string> before = answers();
  ASSERT_FALSE(before.empty());
  bool found_multi = false;
  for (const std::string& a : before) found_multi |= a.find("L2/d9 | 2,3,") != std::string::npos;
  EXPECT_TRUE(found_multi) << "the blank page must not be a hit, the pages after it keep their PDF numbers";
  store_.reset();
  UndoV13();
  ASSERT_EQ(RawExec(kUndoV12), "");
  const char* check = sqlite() ? kCheckPagesByDocSqlite : kCheckPagesByDocPostgres;
  EXPECT_NE(RawExec(check).find("pages_by_doc"), std::string::npos);
  Reopen();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(RawExec(check), "");
  EXPECT_EQ(answers(), before);
}

// A filter-only search `field:words type:T` (schema v14: read from
// field_words_listed, in listing order) lists the same documents as the
// documents' rows say: lot and document id order (text order: d10 before
// d9), paging, a reader's lots, other conditions beside it, and a document
// replaced under another type listed under its new type only.
TEST_P(StoreTest, FieldAndTypeListingFollowsTheDocuments) {
  ASSERT_TRUE(store_->UpsertLot(Lot("L3")).ok());
  const std::vector<std::tuple<std::string, std::string, std::string, std::string>> docs = {
      {"L3", "d9", "oficio", "São Paulo"},  {"L3", "d10", "oficio", "São Paulo"},
      {"L2", "d7", "oficio", "Sao Paulo"},  {"L2", "d8", "certidao", "São Paulo"},
      {"L1", "d5", "ofício", "SÃO PAULO"},  {"L1", "d6", "oficio", "Santos"},
      {"L3", "d11", "oficio", "Paulo Afonso"}};
  for (const auto& [lot, id, type, city] : docs) {
    ASSERT_TRUE(store_->PutDocument(Doc(lot, id, type, {{"cidade", city}}, {Page(1, 1, "texto de " + id)})).ok());
  }
  auto ids = [&](const std::string& query, int limit, int offset,
                 std::optional<std::vector<std::string>> lots = std::nullopt) {
    SearchRequest r = Q(query, "", {}, limit);
    r.offset = offset;
    r.allowed_lots = std::move(lots);
    return Ids(SearchOk(r));
  };
  const std::vector<std::string> all = {"L1/d5", "L2/d7", "L3/d10", "L3/d9"};
  EXPECT_EQ(ids("cidade:\"São Paulo\" type:oficio", 20, 0), all);
  EXPECT_EQ(ids("type:OFÍCIO cidade:\"sao paulo\"", 20, 0), all);
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:oficio", 2, 0), std::vector<std::string>({"L1/d5", "L2/d7"}));
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:oficio", 2, 2), std::vector<std::string>({"L3/d10", "L3/d9"}));
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:oficio", 2, 3), std::vector<std::string>({"L3/d9"}));
  EXPECT_EQ(ids("cidade:paulo type:oficio", 20, 0),
            std::vector<std::string>({"L1/d5", "L2/d7", "L3/d10", "L3/d11", "L3/d9"}));
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:oficio", 20, 0, std::vector<std::string>{"L3", "L1"}),
            std::vector<std::string>({"L1/d5", "L3/d10", "L3/d9"}));
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:oficio lot:L3", 20, 0), std::vector<std::string>({"L3/d10", "L3/d9"}));
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:oficio type:certidao", 20, 0), std::vector<std::string>());
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:oficio -d10", 20, 0),
            std::vector<std::string>({"L1/d5", "L2/d7", "L3/d9"}));
  EXPECT_EQ(ids("cidade:santos type:certidao", 20, 0), std::vector<std::string>());
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:certidao", 20, 0), std::vector<std::string>({"L2/d8"}));
  // Replaced under another type and city: listed by its new ones only.
  ASSERT_TRUE(store_->PutDocument(Doc("L2", "d7", "certidao", {{"cidade", "Santos"}}, {Page(1, 1, "outro")})).ok());
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:oficio", 20, 0), std::vector<std::string>({"L1/d5", "L3/d10", "L3/d9"}));
  EXPECT_EQ(ids("cidade:santos type:certidao", 20, 0), std::vector<std::string>({"L2/d7"}));
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:certidao", 20, 0), std::vector<std::string>({"L2/d8"}));
  // Withdrawn: gone from the listing.
  ASSERT_TRUE(store_->Withdraw("L3", "d10", "cli:maria", "duplicate").ok());
  EXPECT_EQ(ids("cidade:\"sao paulo\" type:oficio", 20, 0), std::vector<std::string>({"L1/d5", "L3/d9"}));
}

// Schema v14 (issue 13, item 11): a store of v13 gets field_words' type,
// lot and document id filled from its documents and the index
// field_words_listed, and lists every filter-only search as before.
TEST_P(StoreTest, VersionThirteenGetsTheFieldWordsListingWithTheSameAnswers) {
  ASSERT_TRUE(store_->UpsertLot(Lot("L3")).ok());
  ASSERT_TRUE(store_->PutDocument(Doc("L3", "d10", "certidao", {{"nome", "João Souza"}}, {Page(1, 1, "x")})).ok());
  ASSERT_TRUE(store_->PutDocument(Doc("L3", "d9", "certidao", {{"nome", "Joao"}}, {Page(1, 1, "y")})).ok());
  const std::vector<std::string> queries = {"nome:joao type:certidao", "type:certidao nome:joao",
                                            "nome:joao", "nome:\"joao da silva\" type:certidao",
                                            "nome:maria type:requerimento", "nome:joao type:oficio"};
  auto answers = [&]() {
    std::vector<std::string> out;
    for (const std::string& q : queries) {
      std::string line = q + " |";
      for (const std::string& id : Ids(SearchOk(Q(q)))) line += " " + id;
      out.push_back(line);
    }
    return out;
  };
  const std::vector<std::string> before = answers();
  EXPECT_EQ(before[0], "nome:joao type:certidao | L1/d1 L3/d10 L3/d9");
  store_.reset();
  UndoV13();  // (SQLite: v14 first, then v13)
  if (!sqlite()) {
    ASSERT_EQ(RawExec(kUndoPostgresV14), "");
  }
  const char* check = sqlite() ? kCheckFieldWordsListingSqlite : kCheckFieldWordsListingPostgres;
  EXPECT_NE(RawExec(check).find("field_words"), std::string::npos);
  Reopen();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(RawExec(check), "");
  EXPECT_EQ(RawExec(sqlite() ? kUnfilledFieldWordsSqlite : kUnfilledFieldWordsPostgres), "")
      << "every field word has its document's type, lot and id";
  EXPECT_EQ(answers(), before);
}

// Schema v13 (issue 13, item 11): a store of v12 keeps every audit row and
// its chain. On SQLite the rows move to the trail file beside the store
// and the store's own table is gone; PostgreSQL keeps them in place.
TEST_P(StoreTest, VersionTwelveKeepsItsAuditTrailInItsOwnFile) {
  AccessStore& a = store_->Access();
  std::vector<AuditEntry> batch;
  for (int i = 0; i < 4; ++i) batch.push_back({"", "maria", "127.0.0.1", "search", "", "q" + std::to_string(i)});
  ASSERT_TRUE(a.AppendAudit(batch).ok());
  const std::string head = a.VerifyAudit()->head_hash;
  store_.reset();
  UndoV13();
  if (sqlite()) {
    ASSERT_FALSE(fs::exists(SqliteAuditTrailPath(dir_.path() / "index" / "acervo.db")));
    ASSERT_EQ(RawExec("SELECT count(*) FROM main.audit"), "");  // v12: the rows in the store's file
  }
  Reopen();
  ASSERT_NE(store_, nullptr);
  if (sqlite()) {
    EXPECT_TRUE(fs::exists(SqliteAuditTrailPath(dir_.path() / "index" / "acervo.db")));
    EXPECT_NE(RawExec("SELECT count(*) FROM main.audit"), "") << "the store's own audit table is still there";
    EXPECT_EQ(RawExec("SELECT count(*) FROM trail.audit"), "");
  }
  Result<AuditCheck> moved = store_->Access().VerifyAudit();
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_TRUE(moved->ok()) << moved->problems.front();
  EXPECT_EQ(moved->rows, 4);
  EXPECT_EQ(moved->head_hash, head);
  // The chain goes on from its head; SQL still refuses edits.
  Result<std::vector<AuditRow>> more = store_->Access().AppendAudit({{"", "admin", "::1", "login", "admin", ""}});
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  EXPECT_EQ((*more)[0].seq, 5);
  EXPECT_EQ((*more)[0].prev_hash, head);
  EXPECT_TRUE(store_->Access().VerifyAudit()->ok());
  EXPECT_NE(RawExec("UPDATE audit SET detail = 'x' WHERE seq = 2"), "");
  Reopen();  // a no-op the second time
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->Access().VerifyAudit()->rows, 5);
}

// A store of schema v6 (before issue 19) gets users.source and users.cpf:
// existing users are local, without a CPF; CPFs can be set afterwards.
TEST_P(StoreTest, VersionSixGetsUserSourceAndCpf) {
  UserRecord u;
  u.name = "antiga";
  u.role = Role::kAdmin;
  ASSERT_TRUE(store_->Access().AddUser(u).ok());
  store_.reset();
  UndoV13();
  ASSERT_EQ(RawExec(sqlite() ? kUndoSqliteV10 : kUndoPostgresV10), "");
  Reopen();
  ASSERT_NE(store_, nullptr);
  Result<std::optional<UserRecord>> got = store_->Access().GetUser("antiga");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((**got).source, "local");
  EXPECT_EQ((**got).cpf, "");
  u = **got;
  u.cpf = "52998224725";
  ASSERT_TRUE(store_->Access().UpdateUser(u).ok());
  EXPECT_EQ((**store_->Access().GetUserByCpf("52998224725")).name, "antiga");
}

// ------------------------------------------------------- review (v8) --

// d1 of L1 with review items: an invalid field of the document, low
// confidence on page 3.
DocumentRecord ReviewedDoc(std::vector<int> fresh = {}) {
  DocumentRecord d = Corpus()[0];
  DocumentReview r;
  r.items = {{"", "", 0, "invalid_field", "cpf", "'123' is not a valid CPF"},
             {"", "", 3, "low_confidence", "", "mean OCR confidence 41"}};
  r.fresh_pages = std::move(fresh);
  d.review = r;
  return d;
}

TEST_P(StoreTest, ReviewItemsRollUpIntoFlagsAndSearch) {
  ASSERT_TRUE(store_->PutDocument(ReviewedDoc()).ok());
  Result<std::optional<DocumentRecord>> d = store_->GetDocument("L1", "d1");
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((**d).flags, std::vector<std::string>({"needs_review", "invalid_field:cpf", "low_confidence"}));
  EXPECT_EQ(Ids(SearchOk(Q("flag:needs_review"))), std::vector<std::string>({"L1/d1"}));
  EXPECT_EQ(Ids(SearchOk(Q("flag:low_confidence certidão"))), std::vector<std::string>({"L1/d1"}));
  EXPECT_EQ(Ids(SearchOk(Q("flag:\"invalid_field:cpf\""))), std::vector<std::string>({"L1/d1"}));
  EXPECT_EQ(Ids(SearchOk(Q("flag:invalid_field"))), std::vector<std::string>({"L1/d1"}));
  EXPECT_TRUE(SearchOk(Q("flag:unknown_type")).empty());
  EXPECT_EQ(Sorted(Ids(SearchOk(Q("certidão -flag:needs_review")))),
            std::vector<std::string>({"L1/d2", "L1/d3", "L2/d1"}));
  EXPECT_FALSE(store_->Search(Q("flag:a..b")).ok());

  Result<std::vector<LotSummary>> lots = store_->LotSummaries();
  ASSERT_TRUE(lots.ok());
  EXPECT_EQ(lots->front().flagged_documents, 1);
  EXPECT_EQ(lots->front().flagged_pages, 1);

  // Accept page 3: its reason leaves the flags, the history says who.
  Result<int> n = store_->Review().Accept("L1", "d1", 3, "", "ana", "legible enough");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  EXPECT_TRUE(SearchOk(Q("flag:low_confidence")).empty());
  EXPECT_EQ(Ids(SearchOk(Q("flag:needs_review"))), std::vector<std::string>({"L1/d1"}));
  EXPECT_EQ(store_->Review().Accept("L1", "d1", 3, "", "ana", "").status().code(), StatusCode::kNotFound);
  Result<std::vector<HistoryEntry>> h = store_->Review().History("L1", "d1");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].action, "accept");
  EXPECT_EQ((*h)[0].user, "ana");
  EXPECT_EQ((*h)[0].page, 3);
  EXPECT_EQ((*h)[0].field, "low_confidence");
  EXPECT_EQ((*h)[0].reason, "legible enough");

  // Stored again with the same reasons: the decision stands. A re-scanned
  // page 3 is new: its reason is open again.
  ASSERT_TRUE(store_->PutDocument(ReviewedDoc()).ok());
  EXPECT_TRUE(SearchOk(Q("flag:low_confidence")).empty());
  ASSERT_TRUE(store_->PutDocument(ReviewedDoc({3})).ok());
  EXPECT_EQ(Ids(SearchOk(Q("flag:low_confidence"))), std::vector<std::string>({"L1/d1"}));

  // A re-scan request stays until its page is made anew.
  ASSERT_TRUE(store_->Review().RequestRescan("L1", "d1", 1, "ana", "torn corner").ok());
  EXPECT_EQ(store_->Review().RequestRescan("L1", "d1", 9, "ana", "").code(), StatusCode::kNotFound);
  EXPECT_EQ(Ids(SearchOk(Q("flag:rescan"))), std::vector<std::string>({"L1/d1"}));
  ASSERT_TRUE(store_->PutDocument(ReviewedDoc()).ok());
  EXPECT_EQ(Ids(SearchOk(Q("flag:rescan"))), std::vector<std::string>({"L1/d1"}));
  ASSERT_TRUE(store_->PutDocument(ReviewedDoc({1})).ok());
  EXPECT_TRUE(SearchOk(Q("flag:rescan")).empty());

  // Everything accepted: nothing left to review.
  ASSERT_TRUE(store_->Review().Accept("L1", "d1", 0, "", "ana", "checked").ok());
  EXPECT_TRUE(SearchOk(Q("flag:needs_review")).empty());
  Result<std::vector<ReviewItem>> open = store_->Review().ListItems({"L1"});
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty());
  ReviewFilter all{"L1"};
  all.include_accepted = true;
  open = store_->Review().ListItems(all);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 2u);
  EXPECT_EQ(RawExec("UPDATE document_history SET reason = 'x'").empty(), false);  // append-only
  EXPECT_EQ(RawExec("DELETE FROM document_history").empty(), false);
  // PostgreSQL's TRUNCATE skips row triggers: a statement trigger refuses it
  // (the same AppendOnlyTriggersSql as the audit trail's).
  if (!sqlite()) {
    EXPECT_EQ(RawExec("TRUNCATE document_history").empty(), false);
    EXPECT_EQ(RawExec("TRUNCATE audit").empty(), false);
  }
}

TEST_P(StoreTest, LotLevelItemsAreReplacedKeepingDecisions) {
  ReviewItem q{"L1", "", 2, "quarantined", "scan.tif", "truncated TIFF"};
  ReviewItem nb{"L1", "d9", 0, "all_blank", "", "every page is blank"};
  ASSERT_TRUE(store_->Review().SyncLotItems("L1", {q, nb}).ok());
  EXPECT_FALSE(store_->Review().SyncLotItems("L1", {{"L1", "d1", 0, "low_confidence"}}).ok());
  Result<std::vector<ReviewItem>> items = store_->Review().ListItems({"L1", "", "quarantined"});
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].Flag(), "quarantined:scan.tif");
  ASSERT_TRUE(store_->Review().Accept("L1", "", 2, "quarantined", "ana", "calibration sheet").ok());
  ASSERT_TRUE(store_->Review().SyncLotItems("L1", {q}).ok());  // d9 is gone, the decision on q stays
  ReviewFilter all{"L1"};
  all.include_accepted = true;
  items = store_->Review().ListItems(all);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].state, "accepted");
  Result<std::vector<LotSummary>> lots = store_->LotSummaries();
  ASSERT_TRUE(lots.ok());
  EXPECT_EQ(lots->front().flagged_documents, 0);
}

TEST_P(StoreTest, WithdrawnDocumentsLeaveSearchAndReview) {
  ASSERT_TRUE(store_->PutDocument(ReviewedDoc()).ok());
  EXPECT_EQ(store_->Withdraw("L1", "d1", "ana", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Withdraw("L1", "zz", "ana", "dup").status().code(), StatusCode::kNotFound);
  Result<int> n = store_->Withdraw("L1", "d1", "ana", "duplicate of d3");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(store_->Withdraw("L1", "d1", "ana", "again").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Sorted(Ids(SearchOk(Q("certidao")))), std::vector<std::string>({"L1/d2", "L1/d3", "L2/d1"}));
  EXPECT_TRUE(SearchOk(Q("nascimento")).empty());
  EXPECT_TRUE(SearchOk(Q("flag:needs_review")).empty());
  Result<std::optional<DocumentRecord>> gone = store_->GetDocument("L1", "d1");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  Result<std::optional<WithdrawalRecord>> w = store_->Review().FindWithdrawal("L1", "d1");
  ASSERT_TRUE(w.ok() && w->has_value());
  EXPECT_EQ((**w).reason, "duplicate of d3");
  EXPECT_EQ((**w).pdf_path, "L1/d1.pdf");
  EXPECT_EQ((**w).page_count, 2);
  EXPECT_EQ((**w).masters.size(), 3u);
  Result<std::vector<HistoryEntry>> h = store_->Review().History("L1", "d1");
  ASSERT_TRUE(h.ok() && !h->empty());
  EXPECT_EQ(h->back().action, "withdraw");
  // A whole lot.
  n = store_->Withdraw("L2", "", "ana", "wrong box");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  w = store_->Review().FindWithdrawal("L2", "anything");
  ASSERT_TRUE(w.ok() && w->has_value());
  EXPECT_EQ((**w).document_id, "");
  Result<std::vector<WithdrawalRecord>> list = store_->Review().ListWithdrawals("");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u);  // L1/d1, L2/d1, L2 itself
  Result<StoreStats> st = store_->Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->documents, 2);
  // The term lists lost the withdrawn pages too: a ranked search is right.
  EXPECT_EQ(Sorted(Ids(SearchOk(Q("certidão casamento")))), std::vector<std::string>({"L1/d3"}));
}

TEST_P(StoreTest, LotSourceRoundTrips) {
  LotSource src{"L1", "/lots/L1", "/out", "[lot]\nid = \"L1\"\n", "por"};
  ASSERT_TRUE(store_->Review().RecordLotSource(src).ok());
  src.languages = "eng";
  ASSERT_TRUE(store_->Review().RecordLotSource(src).ok());
  Result<std::optional<LotSource>> got = store_->Review().GetLotSource("L1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got).profile_toml, src.profile_toml);
  EXPECT_EQ((**got).languages, "eng");
  got = store_->Review().GetLotSource("L2");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST_P(StoreTest, VersionBeforeEightIsMigrated) {
  store_.reset();
  // Issue 19's v10 and issue 18's queue (v9) go first: the store is then v7.
  UndoV13();
  ASSERT_EQ(RawExec(sqlite() ? std::string(kUndoSqliteV10) + kDropV8Sqlite
                             : std::string(kUndoPostgresV10) + kUndoQueueTables + kDropV8Postgres),
            "");
  Reopen();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->PutDocument(ReviewedDoc()).ok());
  EXPECT_EQ(Ids(SearchOk(Q("flag:needs_review"))), std::vector<std::string>({"L1/d1"}));
  EXPECT_TRUE(store_->Review().AppendHistory({{0, "L1", "d1", "", "ana", "set_field", 0, "cpf", "1", "2", "typo"}}).ok());
  EXPECT_EQ(RawExec("UPDATE document_history SET reason = 'x'").empty(), false);  // triggers are there
  EXPECT_EQ(Ids(SearchOk(Q("nascimento"))), std::vector<std::string>({"L1/d1"}));
}

// --- Issue 15: forgiving search, fields by meaning, paging, annotations --

// Pages whose OCR text holds known misreadings (the true words in comments).
void FillMisread(Store& store) {
  ASSERT_TRUE(store.UpsertLot(Lot("M")).ok());
  std::vector<DocumentRecord> docs = {
      Doc("M", "exact", "oficio", {{"interessado", "Joaquim Teixeira"}},
          {Page(1, 1, "Ofício ao senhor Joaquim Teixeira, morador em Santos.")}),
      // Teixeira read as Teixelra; comprovante as cornprovante.
      Doc("M", "misread", "certidao", {{"interessado", "Beatriz Souza"}, {"data", "15/03/2024"}},
          {Page(1, 1, "Certidão a pedido de Joaquim Teixelra."), Page(2, 2, "Segue o cornprovante de endereço.")}),
      // requerimento split in two; certidão hyphenated across a line end.
      Doc("M", "split", "requerimento", {},
          {Page(1, 1, "Requeri mento de segunda via da certi-\ndão de casamento.")}),
      // A CPF read with S for 5 and a process number with O for 0.
      Doc("M", "ids", "despacho",
          {{"cpf", "529.982.247-25"}, {"processo", "0004821-10.2023.8.26.0562"}},
          {Page(1, 1, "Interessado CPF 529.982.247-2S, processo 0004821-10.2023.8.26.O562.")}),
      Doc("M", "plural", "certidao", {}, {Page(1, 1, "As certidões foram emitidas.")}),
  };
  for (const DocumentRecord& d : docs) ASSERT_TRUE(store.PutDocument(d).ok()) << d.document_id;
}

const TermMatch* FindMatch(const SearchHit& h, const std::string& kind) {
  for (const TermMatch& m : h.matches) {
    if (m.kind == kind) return &m;
  }
  return nullptr;
}

TEST_P(StoreTest, ForgivingSearchFindsMisreadWordsBelowExactOnes) {
  FillMisread(*store_);
  std::vector<SearchHit> hits = SearchOk(Q("teixeira", "M"));
  ASSERT_EQ(Ids(hits), (std::vector<std::string>{"M/exact", "M/misread"}));
  EXPECT_EQ(hits[0].tier, 0);
  EXPECT_EQ(hits[1].tier, 2);
  const TermMatch* m = FindMatch(hits[1], "misread");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->query, "teixeira");
  EXPECT_EQ(m->matched, "teixelra");
  EXPECT_EQ(m->pages, std::vector<int>{1});
  EXPECT_NE(hits[1].snippet.find("«Teixelra»"), std::string::npos) << hits[1].snippet;
  // Off by the query or by the request; ~ turns it back on.
  EXPECT_EQ(Ids(SearchOk(Q("exact:teixeira", "M"))), std::vector<std::string>{"M/exact"});
  SearchRequest strict = Q("teixeira", "M");
  strict.forgiving = false;
  EXPECT_EQ(Ids(SearchOk(strict)), std::vector<std::string>{"M/exact"});
  strict.query = "~teixeira";
  EXPECT_EQ(Ids(SearchOk(strict)), (std::vector<std::string>{"M/exact", "M/misread"}));
  // OCR's rn for m, on page 2.
  hits = SearchOk(Q("comprovante", "M"));
  ASSERT_EQ(Ids(hits), std::vector<std::string>{"M/misread"});
  EXPECT_EQ(hits[0].pages, std::vector<int>{2});
}

TEST_P(StoreTest, SplitHyphenatedAndInflectedWordsAreFound) {
  FillMisread(*store_);
  std::vector<SearchHit> hits = SearchOk(Q("requerimento", "M"));
  ASSERT_EQ(Ids(hits), std::vector<std::string>{"M/split"});
  ASSERT_NE(FindMatch(hits[0], "split"), nullptr);
  EXPECT_EQ(FindMatch(hits[0], "split")->matched, "requeri mento");
  // Hyphenated across a line end: joined in the index, an exact match.
  hits = SearchOk(Q("exact:certidão", "M"));
  EXPECT_EQ(Sorted(Ids(hits)), (std::vector<std::string>{"M/misread", "M/split"}));
  // certidões <-> certidão, exact forms first.
  hits = SearchOk(Q("certidões", "M"));
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].document_id, "plural");
  EXPECT_EQ(hits[0].tier, 0);
  EXPECT_EQ(hits[1].tier, 1);
  EXPECT_EQ(Sorted({hits[1].document_id, hits[2].document_id}), (std::vector<std::string>{"misread", "split"}));
  ASSERT_NE(FindMatch(hits[1], "inflection"), nullptr);
  EXPECT_EQ(Ids(SearchOk(Q("exact:certidões", "M"))), std::vector<std::string>{"M/plural"});
}

TEST_P(StoreTest, IdentifiersAreFoundByTheirTrueValueInAnyWriting) {
  FillMisread(*store_);
  for (const char* q : {"52998224725", "529.982.247-25", "00048211020238260562", "0004821-10.2023.8.26.0562",
                        // one wrong digit
                        "52998224125", "00048211020238260569"}) {
    EXPECT_EQ(Ids(SearchOk(Q(q, "M"))), std::vector<std::string>{"M/ids"}) << q;
  }
  // Fields by meaning: digits only or punctuated, --field or field:.
  for (const char* v : {"52998224725", "529.982.247-25", "529 982 247 25"}) {
    EXPECT_EQ(Ids(SearchOk(Q("", "M", {{"cpf", v}}))), std::vector<std::string>{"M/ids"}) << v;
  }
  EXPECT_EQ(Ids(SearchOk(Q("processo:00048211020238260562"))), std::vector<std::string>{"M/ids"});
  EXPECT_EQ(Ids(SearchOk(Q("cpf:529982247"))), std::vector<std::string>{});  // a prefix of digits is not the value
}

TEST_P(StoreTest, FieldsMatchByMeaningAndUnknownNamesAreErrors) {
  FillMisread(*store_);
  EXPECT_EQ(Ids(SearchOk(Q("interessado:beatriz"))), std::vector<std::string>{"M/misread"});
  EXPECT_EQ(Ids(SearchOk(Q("interessado:SOUZA"))), std::vector<std::string>{"M/misread"});
  EXPECT_EQ(Ids(SearchOk(Q("", "", {{"interessado", "beatriz"}}))), std::vector<std::string>{"M/misread"});
  EXPECT_EQ(Ids(SearchOk(Q("data:2024-03-15"))), std::vector<std::string>{"M/misread"});
  Result<std::vector<SearchHit>> bad = store_->Search(Q("cfp:1"));
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("unknown field 'cfp'"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("cpf"), std::string::npos) << bad.status().ToString();
  bad = store_->Search(Q("", "M", {{"nme", "x"}}));
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("lot M"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("interessado"), std::string::npos) << bad.status().ToString();
}

// Words of other scripts (and OCR's stray symbols) are stored and found on
// both backends: no key made of them may be invalid UTF-8.
TEST_P(StoreTest, WordsOfOtherScriptsStoreAndAreFound) {
  ASSERT_TRUE(store_->UpsertLot(Lot("S")).ok());
  ASSERT_TRUE(store_
                  ->PutDocument(Doc("S", "grego", "oficio", {},
                                    {Page(1, 1, "Ελληνικά κείμενα, русский текст, nº 1º, µ² ½ and ﬁnal")}))
                  .ok());
  EXPECT_EQ(Ids(SearchOk(Q("κείμενα", "S"))), std::vector<std::string>{"S/grego"});
  EXPECT_EQ(Ids(SearchOk(Q("русский", "S"))), std::vector<std::string>{"S/grego"});
  EXPECT_EQ(Ids(SearchOk(Q("текста", "S"))), std::vector<std::string>{});
}

TEST_P(StoreTest, HitsCarryFlagsPageCountDateAndPaging) {
  FillMisread(*store_);
  std::vector<SearchHit> hits = SearchOk(Q("teixeira", "M"));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[1].page_count, 2);
  EXPECT_EQ(hits[1].date, "2024-03-15");
  EXPECT_EQ(hits[1].indexed_at.size(), 20u) << hits[1].indexed_at;  // 2026-01-01T00:00:00Z
  SearchRequest r = Q("teixeira", "M", {}, 1);
  r.offset = 1;
  EXPECT_EQ(Ids(SearchOk(r)), std::vector<std::string>{"M/misread"});
  r.offset = 2;
  EXPECT_TRUE(SearchOk(r).empty());
  r = Q("", "M", {}, 2);
  r.offset = 3;
  EXPECT_EQ(Ids(SearchOk(r)), (std::vector<std::string>{"M/plural", "M/split"}));
  r.offset = -1;
  EXPECT_EQ(store_->Search(r).status().code(), StatusCode::kInvalidArgument);
}

// Issues 13 and 15 together: forgiving matches obey the date sort, the
// date range, paging and allowed_lots, and Facets counts exactly the
// documents Search finds (forgiving ones included).
TEST_P(StoreTest, ForgivingMatchesHonourSortDatesAccessAndFacets) {
  FillMisread(*store_);
  SearchRequest r = Q("teixeira");
  r.sort = SearchRequest::Sort::kDateNewest;
  std::vector<SearchHit> hits = SearchOk(r);
  // M/misread is dated 2024-03-15; M/exact has no date and comes last.
  ASSERT_EQ(Ids(hits), (std::vector<std::string>{"M/misread", "M/exact"}));
  EXPECT_EQ(hits[0].tier, 2);
  ASSERT_NE(FindMatch(hits[0], "misread"), nullptr);
  EXPECT_EQ(FindMatch(hits[0], "misread")->matched, "teixelra");
  EXPECT_EQ(hits[0].pages, std::vector<int>{1});
  EXPECT_NE(hits[0].snippet.find("«Teixelra»"), std::string::npos) << hits[0].snippet;
  EXPECT_EQ(hits[1].tier, 0);
  r.offset = 1;
  EXPECT_EQ(Ids(SearchOk(r)), std::vector<std::string>{"M/exact"});
  r.offset = 0;
  r.sort = SearchRequest::Sort::kDateOldest;
  EXPECT_EQ(Ids(SearchOk(r)), (std::vector<std::string>{"M/misread", "M/exact"}));

  SearchRequest dated = Q("teixeira");
  dated.date_from = "2024-01-01";
  EXPECT_EQ(Ids(SearchOk(dated)), std::vector<std::string>{"M/misread"});

  for (SearchRequest::Sort sort : {SearchRequest::Sort::kRelevance, SearchRequest::Sort::kDateNewest}) {
    SearchRequest access = Q("teixeira");
    access.sort = sort;
    access.allowed_lots = std::vector<std::string>{"L1", "L2"};
    EXPECT_TRUE(SearchOk(access).empty());
    Result<SearchFacets> f = store_->Facets(access);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->total, 0);
    access.allowed_lots = std::vector<std::string>{"M"};
    EXPECT_EQ(SearchOk(access).size(), 2u);
  }

  // Facets: the misread document counts; exact matching counts one.
  Result<SearchFacets> f = store_->Facets(Q("teixeira"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->total, 2);
  ASSERT_EQ(f->years.size(), 1u);
  EXPECT_EQ(f->years[0].value, "2024");
  SearchRequest strict = Q("teixeira");
  strict.forgiving = false;
  EXPECT_EQ(store_->Facets(strict)->total, 1);
  EXPECT_EQ(store_->Facets(Q("certidões", "M"))->total, 3);        // inflections too
  EXPECT_EQ(store_->Facets(Q("requerimento", "M"))->total, 1);     // a split word
  EXPECT_EQ(store_->Facets(Q("52998224125", "M"))->total, 1);      // an identifier with one wrong digit

  // Unknown field names are errors for Facets too, and a field only the
  // lots a request may not open have is unknown to it (and not listed).
  EXPECT_EQ(store_->Facets(Q("cfp:1")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(SearchOk(Q("nome:maria")).empty());
  SearchRequest hidden = Q("nome:maria");
  hidden.allowed_lots = std::vector<std::string>{"M"};
  Result<std::vector<SearchHit>> bad = store_->Search(hidden);
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("unknown field 'nome'"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("interessado"), std::string::npos) << bad.status().ToString();
  const std::string listed = bad.status().message().substr(bad.status().message().find(" are "));
  EXPECT_EQ(listed.find("nome"), std::string::npos) << bad.status().ToString();
  EXPECT_EQ(store_->Facets(hidden).status().code(), StatusCode::kInvalidArgument);

  // A lot the request may read holds the word exactly; its misreadings are
  // only in a lot it may not (M): through no forgiving variant, sort, date
  // range or page does M show in hits, counts or facets.
  ASSERT_TRUE(store_->UpsertLot(Lot("R")).ok());
  ASSERT_TRUE(store_->PutDocument(Doc("R", "open", "oficio", {{"data", "01/02/2023"}},
                                      {Page(1, 1, "Carta do senhor Joaquim Teixeira.")}))
                  .ok());
  for (SearchRequest::Sort sort :
       {SearchRequest::Sort::kRelevance, SearchRequest::Sort::kDateNewest, SearchRequest::Sort::kDateOldest}) {
    SearchRequest open = Q("teixeira");
    open.sort = sort;
    open.allowed_lots = std::vector<std::string>{"R"};
    std::vector<SearchHit> seen = SearchOk(open);
    ASSERT_EQ(Ids(seen), std::vector<std::string>{"R/open"});
    EXPECT_EQ(seen[0].tier, 0);
    Result<SearchFacets> rf = store_->Facets(open);
    ASSERT_TRUE(rf.ok()) << rf.status().ToString();
    EXPECT_EQ(rf->total, 1);
    ASSERT_EQ(rf->lots.size(), 1u);
    EXPECT_EQ(rf->lots[0].value, "R");
    EXPECT_EQ(rf->date_min, "2023-02-01");
    open.offset = 1;
    EXPECT_TRUE(SearchOk(open).empty());
    open.offset = 0;
    open.date_from = "2024-01-01";  // only M/misread is dated then
    EXPECT_TRUE(SearchOk(open).empty());
    EXPECT_EQ(store_->Facets(open)->total, 0);
    open.date_from.clear();
    // Words found in M only through a forgiving match, or an identifier
    // with a wrong digit: nothing.
    for (const char* q : {"comprovante", "requerimento", "52998224125", "~teixelra cornprovante"}) {
      open.query = q;
      EXPECT_TRUE(SearchOk(open).empty()) << q;
      EXPECT_EQ(store_->Facets(open)->total, 0) << q;
    }
  }
  // Unrestricted, the same request finds M's misreadings (the checks above
  // are not vacuous).
  EXPECT_EQ(Ids(SearchOk(Q("comprovante"))), std::vector<std::string>{"M/misread"});
  EXPECT_EQ(store_->Facets(Q("teixeira"))->total, 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         BackendName);

// ----------------------------------------------------------- open/migrate --

// The reason the trail has a file of its own (schema v13): in WAL mode a
// commit to a file makes every other connection to it drop its page cache
// at its next read. A search's audit row must not do that to the store.
TEST(SqliteAuditTrailTest, AnAuditCommitLeavesTheStoreFileUnchanged) {
  TempDir dir;
  const fs::path path = dir.path() / "acervo.db";
  std::unique_ptr<Store> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->UpsertLot(Lot("L1")).ok());
  sqlite3* reader = nullptr;  // another connection, as a pooled search connection
  ASSERT_EQ(sqlite3_open(path.c_str(), &reader), SQLITE_OK);
  auto data_version = [&] {  // changes when another connection commits to the file
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(reader, "PRAGMA main.data_version", -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  };
  const int64_t before = data_version();
  ASSERT_TRUE(store->Access().AppendAudit({{"", "maria", "127.0.0.1", "search", "", "certidao"}}).ok());
  ASSERT_TRUE(store->Access().AppendAudit({{"", "maria", "127.0.0.1", "view", "L1/d1", ""}}).ok());
  EXPECT_EQ(data_version(), before) << "an audit commit changed the store's file";
  ASSERT_TRUE(store->UpsertLot(Lot("L2")).ok());  // a commit to the store itself is seen
  EXPECT_NE(data_version(), before);
  sqlite3_close(reader);
  EXPECT_EQ(store->Access().VerifyAudit()->rows, 2);
}

// The trail file is part of the store: without it a v13 store does not
// open (no new, empty trail in its place), and a trail left behind by
// another store is not adopted by a new store of the same name.
TEST(SqliteAuditTrailTest, AMissingOrForeignTrailFileIsRefused) {
  TempDir dir;
  const fs::path path = dir.path() / "acervo.db";
  const fs::path trail = SqliteAuditTrailPath(path);
  {
    std::unique_ptr<Store> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Access().AppendAudit({{"", "admin", "", "login", "admin", ""}}).ok());
  }
  ASSERT_TRUE(fs::exists(trail));
  fs::rename(trail, dir.path() / "elsewhere");
  for (const bool read_only : {false, true}) {
    SqliteOptions o;
    o.read_only = read_only;
    Result<std::unique_ptr<Store>> missing = OpenSqliteStore(path, o);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kCorrupt) << missing.status().ToString();
    EXPECT_NE(missing.status().message().find(trail.string()), std::string::npos) << missing.status().ToString();
    EXPECT_FALSE(fs::exists(trail)) << "an empty trail was started in place of the missing one";
  }
  fs::rename(dir.path() / "elsewhere", trail);
  SqliteOptions ro;
  ro.read_only = true;
  std::unique_ptr<Store> read = OpenOrDie(path, ro);
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->Access().VerifyAudit()->rows, 1);
  read.reset();
  // The store removed, its trail left: a new store there refuses it.
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
  Result<std::unique_ptr<Store>> fresh = OpenSqliteStore(path);
  ASSERT_FALSE(fresh.ok());
  EXPECT_NE(fresh.status().message().find(trail.string()), std::string::npos) << fresh.status().ToString();
  sqlite3* db = nullptr;  // the trail as it was
  ASSERT_EQ(sqlite3_open(trail.c_str(), &db), SQLITE_OK);
  int rows = -1;
  sqlite3_exec(
      db, "SELECT count(*) FROM audit", [](void* n, int, char** v, char**) { return *static_cast<int*>(n) = std::atoi(v[0]), 0; },
      &rows, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(rows, 1);
}

// Migration 13 interrupted after the rows were copied to the trail file
// and before the store's table was dropped: the next open finishes it,
// every row once.
TEST(SqliteAuditTrailTest, AnInterruptedMoveIsFinished) {
  TempDir dir;
  const fs::path path = dir.path() / "acervo.db";
  {
    std::unique_ptr<Store> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Access().AppendAudit({{"", "a", "", "login", "a", ""}, {"", "a", "", "search", "", "x"}}).ok());
  }
  ASSERT_EQ(UndoSqliteV13(path), "");
  // The first step of the move alone: the trail file with the rows.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(SqliteAuditTrailPath(path).c_str(), &db), SQLITE_OK);
  const std::string copy = "PRAGMA journal_mode = WAL; " + AuditTrailSql() + "ATTACH '" + path.string() +
                           "' AS store; INSERT INTO audit SELECT * FROM store.audit; DETACH store;";
  ASSERT_EQ(sqlite3_exec(db, copy.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  std::unique_ptr<Store> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  Result<AuditCheck> check = store->Access().VerifyAudit();
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->ok());
  EXPECT_EQ(check->rows, 2);
  EXPECT_TRUE(store->Access().AppendAudit({{"", "a", "", "logout", "", ""}}).ok());
  EXPECT_EQ(store->Access().VerifyAudit()->rows, 3);
}

TEST(SqliteStoreOpenTest, MigrationsAreIdempotentOnReopen) {
  TempDir dir;
  const fs::path db_path = dir.path() / "acervo.db";
  for (int i = 0; i < 3; ++i) {
    std::unique_ptr<Store> store = OpenOrDie(db_path);
    ASSERT_NE(store, nullptr);
    if (i == 0) Fill(*store);
    Result<StoreStats> stats = store->Stats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->documents, 4);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  ASSERT_TRUE(RegisterSqliteExtensions(db).ok());
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*), max(version) FROM schema_version", -1, &stmt,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  // One row per migration (1-10), the newest last.
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kSqliteSchemaVersion);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), kSqliteSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_stmt* mode = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &mode, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(mode), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(mode, 0)), "wal");
  sqlite3_finalize(mode);
  // A schema from the future is refused rather than misread.
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 'later')", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Result<std::unique_ptr<Store>> newer = OpenSqliteStore(db_path);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kUnavailable);
}

// The FTS5 text index's segment count, from its structure record (id 10
// of pages_fts_data: a 4-byte cookie, [a 4-byte version-2 marker,] varints
// nLevel, nSegment, ...).
int TextIndexSegments(const fs::path& db_path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT block FROM pages_fts_data WHERE id = 10", -1, &st, nullptr), SQLITE_OK);
  int segments = -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const auto* b = static_cast<const unsigned char*>(sqlite3_column_blob(st, 0));
    const int n = sqlite3_column_bytes(st, 0);
    int at = 4;
    if (n >= 8 && b[4] == 0xFF && b[5] == 0 && b[6] == 0 && b[7] == 1) at = 8;
    auto varint = [&]() {
      uint64_t v = 0;
      for (int i = 0; i < 9 && at < n; ++i) {
        const unsigned char c = b[at++];
        if (i == 8) return (v << 8) | c;
        v = (v << 7) | (c & 0x7F);
        if ((c & 0x80) == 0) break;
      }
      return v;
    };
    varint();  // levels
    segments = static_cast<int>(varint());
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return segments;
}

// `acervo optimize`: many small commits leave the text index in several
// segments; Optimize merges them into one, and every search answers the same.
TEST(SqliteStoreOpenTest, OptimizeMergesTheTextIndexAndKeepsTheAnswers) {
  TempDir dir;
  const fs::path db_path = dir.path() / "acervo.db";
  std::unique_ptr<Store> store = OpenOrDie(db_path);
  ASSERT_NE(store, nullptr);
  Fill(*store);
  for (int i = 0; i < 40; ++i) {  // one commit each, as a run stores documents
    const std::string n = std::to_string(i);
    std::string text = "Ofício número ";  // (appends: GCC 12 warns wrongly on a chain of +)
    text.append(n).append(" sobre certidão");
    ASSERT_TRUE(store->PutDocument(Doc("L2", "extra" + n, "oficio", {}, {Page(1, 1, text)})).ok());
  }
  const std::vector<std::string> queries = {"certidão", "certidao casamento", "\"certidão de\"", "oficio -negativa",
                                            "número"};
  std::vector<std::vector<std::string>> before;
  for (const std::string& q : queries) {
    Result<std::vector<SearchHit>> hits = store->Search(Q(q, "", {}, 100));
    ASSERT_TRUE(hits.ok()) << q << ": " << hits.status().ToString();
    before.push_back(Ids(*hits));
  }
  const int segments = TextIndexSegments(db_path);
  EXPECT_GT(segments, 1);
  ASSERT_TRUE(store->Optimize().ok());
  EXPECT_EQ(TextIndexSegments(db_path), 1) << "was " << segments;
  for (size_t i = 0; i < queries.size(); ++i) {
    Result<std::vector<SearchHit>> hits = store->Search(Q(queries[i], "", {}, 100));
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ(Ids(*hits), before[i]) << queries[i];
  }
}

// An in-memory database with Acervo's SQLite functions and a table `t`
// (FTS5, Acervo's tokenizer) holding `rows` ("(1, 'text'), ..."); null
// when it cannot be made.
struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using MemoryDb = std::unique_ptr<sqlite3, CloseDb>;
MemoryDb FtsTableOf(const std::string& rows) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(":memory:", &raw) != SQLITE_OK) return MemoryDb(raw);
  MemoryDb db(raw);
  const std::string sql = "CREATE VIRTUAL TABLE t USING fts5(text, tokenize = 'acervo');"
                          "INSERT INTO t (rowid, text) VALUES " + rows + ";";
  if (!RegisterSqliteExtensions(raw).ok() || sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return nullptr;
  }
  return db;
}

// acervo_bm25's weights are parsed once per query and kept (issue 13,
// item 11): each row is still scored with its own argument, whether the
// argument changes from row to row or between two runs of one statement.
TEST(SqliteExtensionsTest, Bm25ScoresEachRowWithItsOwnWeights) {
  const MemoryDb owner = FtsTableOf("(1, 'comum um'), (2, 'comum comum dois tres'), "
                                    "(3, 'comum comum comum quatro cinco seis')");
  ASSERT_NE(owner, nullptr);
  sqlite3* db = owner.get();
  auto scores = [&](const std::string& sql, const std::vector<std::string>& binds) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::vector<std::vector<double>> runs;
    for (const std::string& w : binds) {  // the same statement, run again with another weight
      sqlite3_bind_text(stmt, 1, w.c_str(), -1, SQLITE_TRANSIENT);
      std::vector<double> out;
      while (sqlite3_step(stmt) == SQLITE_ROW) out.push_back(sqlite3_column_double(stmt, 0));
      sqlite3_reset(stmt);
      runs.push_back(out);
    }
    sqlite3_finalize(stmt);
    return runs;
  };
  const auto fixed =
      scores("SELECT acervo_bm25(t, ?) FROM t WHERE t MATCH 'comum' ORDER BY rowid", {"1", "2.5", "1"});
  ASSERT_EQ(fixed.size(), 3u);
  ASSERT_EQ(fixed[0].size(), 3u);
  EXPECT_GT(fixed[0][0], 0);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(fixed[1][i], 2.5 * fixed[0][i]) << i;
    EXPECT_EQ(fixed[2][i], fixed[0][i]) << i;
  }
  // Per row: 1, 3 and 1 again.
  const auto varying = scores(
      "SELECT acervo_bm25(t, CASE rowid WHEN 2 THEN ? ELSE '1' END) FROM t WHERE t MATCH 'comum' ORDER BY rowid",
      {"3"});
  ASSERT_EQ(varying.size(), 1u);
  ASSERT_EQ(varying[0].size(), 3u);
  EXPECT_EQ(varying[0][0], fixed[0][0]);
  EXPECT_DOUBLE_EQ(varying[0][1], 3 * fixed[0][1]);
  EXPECT_EQ(varying[0][2], fixed[0][2]);
}

// acervo_rank is acervo_bm25 and acervo_phrases of a row in one call: the
// same score to the bit, and the phrases found as 4-byte indexes after it.
TEST(SqliteExtensionsTest, RankIsBm25AndPhrasesInOneBlob) {
  const MemoryDb owner = FtsTableOf("(1, 'comum um'), (2, 'comum comum dois raro'), "
                                    "(3, 'raro quatro cinco seis'), (4, 'nada')");
  ASSERT_NE(owner, nullptr);
  sqlite3* db = owner.get();
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT rowid, acervo_bm25(t, ?1), acervo_phrases(t), acervo_rank(t, ?1) FROM t "
                               "WHERE t MATCH '\"comum\" OR \"ausente\" OR \"raro\"' ORDER BY rowid",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(stmt, 1, "1.5 7 0.25", -1, SQLITE_TRANSIENT);
  std::vector<std::pair<int64_t, std::vector<int32_t>>> found;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const double bm25 = sqlite3_column_double(stmt, 1);
    const std::string phrases = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2));
    const auto* blob = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, 3));
    const int bytes = sqlite3_column_bytes(stmt, 3);
    ASSERT_GE(bytes, 8);
    ASSERT_EQ((bytes - 8) % 4, 0);
    double score = 0;
    std::memcpy(&score, blob, 8);
    EXPECT_EQ(score, bm25);
    std::vector<int32_t> indexes((bytes - 8) / 4);
    if (!indexes.empty()) std::memcpy(indexes.data(), blob + 8, indexes.size() * 4);
    std::string text;
    for (int32_t i : indexes) text += (text.empty() ? "" : " ") + std::to_string(i);
    EXPECT_EQ(text, phrases);
    found.emplace_back(sqlite3_column_int64(stmt, 0), indexes);
  }
  sqlite3_finalize(stmt);
  const std::vector<std::pair<int64_t, std::vector<int32_t>>> want = {{1, {0}}, {2, {0, 2}}, {3, {2}}};
  EXPECT_EQ(found, want);
}

// acervo_tf gives what a scored document's page score is computed from
// outside FTS5 (issue 13, item 11, session 10): the index's page count and
// token total, then every phrase's count of instances on the row (NEAR
// applied, phrases absent from the row 0). With the page length from
// pages_fts_docsize, the same formula gives acervo_rank's score to the bit.
TEST(SqliteExtensionsTest, TfGivesPhraseCountsThatScoreAsRankDoes) {
  const MemoryDb owner = FtsTableOf("(1, 'comum um'), (2, 'comum comum dois raro'), "
                                    "(3, 'raro quatro cinco dois seis sete raro'), (4, 'nada')");
  ASSERT_NE(owner, nullptr);
  sqlite3* db = owner.get();
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT rowid, acervo_tf(t), acervo_rank(t, ?1), "
                               "(SELECT sz FROM t_docsize WHERE id = t.rowid) FROM t "
                               "WHERE t MATCH '\"comum\" OR \"ausente\" OR \"raro\" OR NEAR(\"dois\" \"raro\", 1)' "
                               "ORDER BY rowid",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  const std::vector<double> weights = {1.5, 7, 0.25, 2, 3};
  sqlite3_bind_text(stmt, 1, "1.5 7 0.25 2 3", -1, SQLITE_TRANSIENT);
  std::vector<std::pair<int64_t, std::vector<int32_t>>> counts;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* blob = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, 1));
    const int bytes = sqlite3_column_bytes(stmt, 1);
    ASSERT_GE(bytes, 16);
    ASSERT_EQ((bytes - 16) % 4, 0);
    int64_t rows = 0, total = 0;
    std::memcpy(&rows, blob, 8);
    std::memcpy(&total, blob + 8, 8);
    EXPECT_EQ(rows, 4);
    EXPECT_EQ(total, 2 + 4 + 7 + 1);
    std::vector<int32_t> tf((bytes - 16) / 4);
    std::memcpy(tf.data(), blob + 16, tf.size() * 4);
    counts.emplace_back(sqlite3_column_int64(stmt, 0), tf);
    // One-byte varint: the page's tokens.
    ASSERT_EQ(sqlite3_column_bytes(stmt, 3), 1);
    const int len = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, 3))[0];
    double score = 0;
    for (size_t i = 0; i < tf.size(); ++i) {
      score += weights[i] * Bm25Factor(tf[i], len, static_cast<double>(total) / static_cast<double>(rows));
    }
    double rank = 0;
    ASSERT_GE(sqlite3_column_bytes(stmt, 2), 8);
    std::memcpy(&rank, sqlite3_column_blob(stmt, 2), 8);
    EXPECT_EQ(score, rank) << "row " << sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  // Phrases: comum, ausente, raro, then NEAR's dois and raro (within one
  // token of each other: on row 2, not on row 3).
  const std::vector<std::pair<int64_t, std::vector<int32_t>>> want = {
      {1, {1, 0, 0, 0, 0}}, {2, {2, 0, 1, 1, 1}}, {3, {0, 0, 2, 0, 0}}};
  EXPECT_EQ(counts, want);
}

TEST(SqliteStoreOpenTest, RefusesWhatIsNotAStore) {
  TempDir dir;
  {
    std::ofstream(dir.path() / "text.db") << "this is not a database, just some text....\n";
  }
  EXPECT_EQ(OpenSqliteStore(dir.path() / "text.db").status().code(), StatusCode::kCorrupt);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "other.db").c_str(), &db), SQLITE_OK);
  ASSERT_TRUE(RegisterSqliteExtensions(db).ok());
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(OpenSqliteStore(dir.path() / "other.db").status().code(), StatusCode::kCorrupt);

  SqliteOptions no_create;
  no_create.create_if_missing = false;
  EXPECT_EQ(OpenSqliteStore(dir.path() / "missing.db", no_create).status().code(),
            StatusCode::kNotFound);
}

// ------------------------------------------------------------ concurrency --

constexpr int kDocsPerWriter = 200;

// Opens its own store on `path` and writes kDocsPerWriter documents.
Status WriteMany(const fs::path& path, const std::string& writer) {
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  if (!store.ok()) return store.status();
  ACERVO_RETURN_IF_ERROR((*store)->UpsertLot(Lot("LC")));
  for (int i = 0; i < kDocsPerWriter; ++i) {
    const std::string id = writer + "-" + std::to_string(i);
    ACERVO_RETURN_IF_ERROR((*store)->PutDocument(
        Doc("LC", id, "oficio", {{"n", std::to_string(i)}},
            {Page(1, 1, "Ofício " + id + " certidão"), Page(2, 2, "página dois de " + id)})));
  }
  return Status::OK();
}

void ExpectAllWritten(const fs::path& path) {
  std::unique_ptr<Store> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  Result<StoreStats> stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->lots, 1);
  EXPECT_EQ(stats->documents, 2 * kDocsPerWriter);
  EXPECT_EQ(stats->pages, 4 * kDocsPerWriter);
  SearchRequest r;
  r.query = "certidão";
  r.limit = 10000;
  Result<std::vector<SearchHit>> hits = store->Search(r);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), static_cast<size_t>(2 * kDocsPerWriter));
}

TEST(SqliteStoreConcurrencyTest, TwoThreadsWithTheirOwnStoresBothSucceed) {
  TempDir dir;
  const fs::path path = dir.path() / "acervo.db";
  Status a, b;
  // Both open the brand-new file at once: the migration race is covered too.
  std::thread ta([&] { a = WriteMany(path, "a"); });
  std::thread tb([&] { b = WriteMany(path, "b"); });
  ta.join();
  tb.join();
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(b.ok()) << b.ToString();
  ExpectAllWritten(path);
}

TEST(SqliteStoreConcurrencyTest, TwoProcessesBothSucceed) {
  TempDir dir;
  const fs::path path = dir.path() / "acervo.db";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Child: no gtest assertions here; the exit code is the verdict.
    const Status s = WriteMany(path, "child");
    if (!s.ok()) std::fprintf(stderr, "child: %s\n", s.ToString().c_str());
    ::_exit(s.ok() ? 0 : 1);
  }
  const Status s = WriteMany(path, "parent");
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  ExpectAllWritten(path);
}

TEST(PostgresStoreConcurrencyTest, TwoWritersOnOneDatabaseBothSucceed) {
  const std::string conninfo = FreshPostgresDatabase();
  if (conninfo.empty()) GTEST_SKIP() << "PostgreSQL cannot run here (see the message above)";
  constexpr int kDocs = 50;
  auto write = [&](const std::string& writer) -> Status {
    Result<std::unique_ptr<Store>> store = OpenPostgresStore(conninfo);
    if (!store.ok()) return store.status();
    ACERVO_RETURN_IF_ERROR((*store)->UpsertLot(Lot("LC")));
    for (int i = 0; i < kDocs; ++i) {
      // Both writers also rewrite one shared document: no lost or duplicate row.
      const std::string id = i % 10 == 0 ? "shared" : writer + "-" + std::to_string(i);
      ACERVO_RETURN_IF_ERROR((*store)->PutDocument(Doc("LC", id, "oficio", {}, {Page(1, 1, "certidão " + id)})));
    }
    return Status::OK();
  };
  Status a, b;
  std::thread ta([&] { a = write("a"); });
  std::thread tb([&] { b = write("b"); });
  ta.join();
  tb.join();
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(b.ok()) << b.ToString();
  Result<std::unique_ptr<Store>> store = OpenPostgresStore(conninfo);
  ASSERT_TRUE(store.ok());
  Result<StoreStats> stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->documents, 2 * (kDocs - kDocs / 10) + 1);
  EXPECT_EQ(stats->pages, stats->documents);
}

TEST(FtsToTsqueryTest, Translations) {
  struct Case {
    std::string fts, want;
  };
  for (const Case& c : std::vector<Case>{
           // Folded here: the tsquery is cast, not normalised by PostgreSQL.
           {"\"certidão\"", "'certidao'"},
           {"\"nasc\" *", "'nasc':*"},
           {"\"Certidão de Nascimento\"", "('certidao' <-> 'de' <-> 'nascimento')"},
           {"(\"a\" AND \"b\")", "('a' & 'b')"},
           {"((\"a\") NOT (\"b\" OR \"c\"))", "(('a') & !('b' | 'c'))"},
           {"\"o'brien\"", "('o' <-> 'brien')"},
           {"\"x\"\"y\"", "('x' <-> 'y')"},
       }) {
    Result<std::string> got = FtsToTsquery(c.fts);
    ASSERT_TRUE(got.ok()) << c.fts;
    EXPECT_EQ(*got, c.want) << c.fts;
  }
  EXPECT_EQ(FtsToTsquery("\"--\"").status().code(), StatusCode::kInvalidArgument);
}

TEST(SqliteStoreConcurrencyTest, OneStoreSharedByThreads) {
  TempDir dir;
  std::unique_ptr<Store> store = OpenOrDie(dir.path() / "acervo.db");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->UpsertLot(Lot("LS")).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        if (!store->PutDocument(Doc("LS", id, "x", {}, {Page(1, 1, "texto " + id)})).ok()) {
          ++failures;
        }
        if (!store->Search(Q("texto")).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  Result<StoreStats> stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->documents, 100);
}

// ------------------------------------------------ champion lists (SQLite) --
//
// Stores big enough that pages are folded into the term tables
// (term_df/term_top, docs/store.md) and lists overflow their cap, so the
// ranked path really reads them; small stores (above) only ever see pending
// pages.

namespace champion {

// One SQL value from the store's file (a separate connection).
int64_t SqlInt(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_TRUE(RegisterSqliteExtensions(db).ok());
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  int64_t v = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return v;
}

// FTS5's own scores (negated bm25, higher is better) of the best pages for
// `fts`: the reference a full scan would give.
// (`and_rowid`: an SQL condition on the page id `rowid` the pages must meet too.)
std::vector<double> Fts5TopScores(const fs::path& db_path, const std::string& fts, int n,
                                  const std::string& and_rowid = "1") {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_TRUE(RegisterSqliteExtensions(db).ok());
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "SELECT -bm25(pages_fts) FROM pages_fts WHERE pages_fts MATCH ? AND " + and_rowid +
                          " ORDER BY rank LIMIT " + std::to_string(n);
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  sqlite3_bind_text(stmt, 1, fts.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<double> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) out.push_back(sqlite3_column_double(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// Document i of the big corpus: one page, "comum" 1..5 times among filler
// of varying length, so BM25 scores differ from page to page.
DocumentRecord Numbered(int i, const std::string& extra = "") {
  std::string text;
  for (int k = 0; k < 20 + i % 17; ++k) text += "palavra" + std::to_string(k % 9) + " ";
  for (int k = 0; k < 1 + i % 5; ++k) text += "comum ";
  if (i % 2 == 0) text += "civil texto registro ";  // both words, never the phrase
  text += extra;
  return Doc("L1", "n" + std::to_string(i), "certidao", {{"processo", std::to_string(i)}},
             {Page(1, 1, text)});
}

// The store both backends' champion-list tests search: `docs` numbered
// documents in lot L1, one with "comum" twelve times (777), one rare word
// (1500) and a phrase every 500 (3, 503, ...), written 100 at a time.
void FillChampionStore(Store& store, int docs) {
  ASSERT_TRUE(store.UpsertLot(Lot("L1")).ok());
  std::vector<DocumentRecord> batch;
  for (int i = 0; i < docs; ++i) {
    std::string extra;
    if (i == 777) extra = "comum comum comum comum comum comum comum comum comum comum comum comum";
    if (i == 1500) extra = "raríssimo";
    if (i % 500 == 3) extra = "registro civil das pessoas naturais";
    batch.push_back(Numbered(i, extra));
    if (batch.size() == 100) {
      ASSERT_TRUE(store.PutDocuments(batch).ok());
      batch.clear();
    }
  }
  ASSERT_TRUE(store.PutDocuments(batch).ok());
}

// Each prefix here has exactly one word in the champion store, so the
// prefix query and the word query must find the same documents, whatever
// the operators around them. `search` is a backend's fixture's SearchOk.
template <typename SearchFn>
void ExpectPrefixesMatchTheirWords(SearchFn&& search) {
  const std::pair<const char*, const char*> cases[] = {
      {"(comu* OR raríss*) -civil", "(comum OR rarissimo) -civil"},
      {"\"registro civ\"*", "\"registro civil\""},
      {"comum NOT natura*", "comum NOT naturais"},
      {"(palavra1 -natur*) OR raríss*", "(palavra1 -naturais) OR rarissimo"},
      {"RARÍSS*", "rarissimo"},
  };
  for (const auto& [prefix, words] : cases) {
    std::vector<SearchHit> a = search(Q(prefix, "", {}, 10000));
    std::vector<SearchHit> b = search(Q(words, "", {}, 10000));
    EXPECT_FALSE(a.empty()) << prefix;
    EXPECT_EQ(Sorted(Ids(a)), Sorted(Ids(b))) << prefix << " vs " << words;
  }
}

class ChampionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenOrDie(path_);
    ASSERT_NE(store_, nullptr);
    ASSERT_NO_FATAL_FAILURE(FillChampionStore(*store_, kDocs));
  }

  std::vector<SearchHit> SearchOk(const SearchRequest& r) {
    Result<std::vector<SearchHit>> hits = store_->Search(r);
    EXPECT_TRUE(hits.ok()) << r.query << ": " << hits.status().ToString();
    return hits.ok() ? std::move(hits).value() : std::vector<SearchHit>{};
  }

  // More pages than one list holds before a trim, and than one fold.
  static constexpr int kDocs = 3000;
  TempDir dir_;
  fs::path path_ = dir_.path() / "acervo.db";
  std::unique_ptr<Store> store_;
};

TEST_F(ChampionTest, CommonWordGivesTheTrulyBestPagesFirst) {
  ASSERT_GT(SqlInt(path_, "SELECT folded_upto FROM term_stats"), 2000);
  std::vector<SearchHit> hits = SearchOk(Q("comum", "", {}, 10));
  ASSERT_EQ(hits.size(), 10u);
  EXPECT_EQ(hits[0].document_id, "n777");
  // Single-page documents: a document's score is its page's BM25, so the
  // top 10 must carry the same scores as FTS5's own full ranking.
  std::vector<double> want = Fts5TopScores(path_, "\"comum\"", 10);
  ASSERT_EQ(want.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_NEAR(hits[i].score, want[i], 1e-6 * want[i]) << i;
}

// A filter passing a third of the documents (more than are scored one by
// one): the walk down the word's list (taken from a heap: session 10)
// tries about three pages per document kept and still gives the best
// filtered pages.
TEST_F(ChampionTest, FilteredWalkGivesTheBestFilteredPages) {
  std::vector<SearchHit> hits = SearchOk(Q("comum processo:1*", "", {}, 30));
  ASSERT_EQ(hits.size(), 30u);
  for (const SearchHit& h : hits) EXPECT_EQ(h.document_id.substr(0, 2), "n1") << h.document_id;
  const std::vector<double> want = Fts5TopScores(
      path_, "\"comum\"", 30,
      "rowid IN (SELECT p.id FROM pages p JOIN fields f ON f.doc_id = p.doc_id "
      "WHERE f.name_norm = 'processo' AND f.value_norm LIKE '1%')");
  ASSERT_EQ(want.size(), 30u);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(hits[i].score, want[i], 1e-6 * want[i]) << i;
}

TEST_F(ChampionTest, ListsStayCappedAndCountsExact) {
  const int64_t listed = SqlInt(path_, "SELECT listed FROM term_df WHERE term = 'comum'");
  EXPECT_EQ(listed, SqlInt(path_, "SELECT count(*) FROM term_top WHERE term = 'comum'"));
  EXPECT_GE(listed, 1000);
  EXPECT_LE(listed, 1250);
  // df counts the folded pages holding the word, as FTS5 sees them.
  EXPECT_EQ(SqlInt(path_, "SELECT df FROM term_df WHERE term = 'comum'"),
            SqlInt(path_, "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH 'comum' AND rowid <= "
                          "(SELECT folded_upto FROM term_stats)"));
  EXPECT_EQ(SqlInt(path_, "SELECT pages FROM term_stats"), SqlInt(path_, "SELECT folded_upto FROM term_stats"));
  // Every list row names a live page.
  EXPECT_EQ(SqlInt(path_, "SELECT count(*) FROM term_top WHERE page_id NOT IN (SELECT id FROM pages)"), 0);
}

TEST_F(ChampionTest, ReplacingOrEmptyingADocumentRemovesItsEntries) {
  const int64_t df = SqlInt(path_, "SELECT df FROM term_df WHERE term = 'comum'");
  const int64_t old_page =
      SqlInt(path_, "SELECT p.id FROM pages p JOIN documents d ON d.id = p.doc_id WHERE d.document_id = 'n777'");
  ASSERT_GT(SqlInt(path_, "SELECT count(*) FROM term_top WHERE term = 'comum' AND page_id = " +
                              std::to_string(old_page)),
            0);
  // The best page is replaced by one without the word.
  ASSERT_TRUE(store_->PutDocument(Doc("L1", "n777", "certidao", {}, {Page(1, 1, "texto novo sem a palavra")})).ok());
  EXPECT_EQ(SqlInt(path_, "SELECT count(*) FROM term_top WHERE page_id = " + std::to_string(old_page)), 0);
  EXPECT_EQ(SqlInt(path_, "SELECT df FROM term_df WHERE term = 'comum'"), df - 1);
  EXPECT_EQ(SqlInt(path_, "SELECT listed FROM term_df WHERE term = 'comum'"),
            SqlInt(path_, "SELECT count(*) FROM term_top WHERE term = 'comum'"));
  std::vector<SearchHit> hits = SearchOk(Q("comum", "", {}, 10));
  ASSERT_FALSE(hits.empty());
  EXPECT_NE(hits[0].document_id, "n777");
  EXPECT_EQ(Ids(SearchOk(Q("novo"))), std::vector<std::string>({"L1/n777"}));
  // The rare word's only document goes; so does the word.
  ASSERT_EQ(Ids(SearchOk(Q("raríssimo"))), std::vector<std::string>({"L1/n1500"}));
  ASSERT_TRUE(store_->PutDocument(Doc("L1", "n1500", "certidao", {}, {Page(1, 1, "outro texto")})).ok());
  EXPECT_TRUE(SearchOk(Q("raríssimo")).empty());
  EXPECT_EQ(SqlInt(path_, "SELECT count(*) FROM term_df WHERE term = 'rarissimo'"), 0);
}

TEST_F(ChampionTest, RareWordsPhrasesAndPrefixesAreExact) {
  EXPECT_EQ(Ids(SearchOk(Q("RARISSIMO"))), std::vector<std::string>({"L1/n1500"}));
  // "civil" and "registro" are on half the pages, the phrase on six.
  std::vector<std::string> want;
  for (int i = 3; i < kDocs; i += 500) want.push_back("L1/n" + std::to_string(i));
  EXPECT_EQ(Sorted(Ids(SearchOk(Q("\"registro civil\"")))), Sorted(want));
  EXPECT_EQ(Sorted(Ids(SearchOk(Q("\"registro civil\" naturais")))), Sorted(want));
  // Prefixes: expanded through term_df, same answers as the words.
  EXPECT_EQ(Ids(SearchOk(Q("raríss*"))), std::vector<std::string>({"L1/n1500"}));
  EXPECT_EQ(Sorted(Ids(SearchOk(Q("natura*", "", {}, 100)))), Sorted(want));
  std::vector<SearchHit> pre = SearchOk(Q("comu*", "", {}, 5));
  ASSERT_EQ(pre.size(), 5u);
  EXPECT_EQ(pre[0].document_id, "n777");
  // A metadata filter with a common word, and an exclusion.
  EXPECT_EQ(Ids(SearchOk(Q("comum processo:1234"))), std::vector<std::string>({"L1/n1234"}));
  for (const SearchHit& h : SearchOk(Q("comum -civil", "", {}, 50))) {
    EXPECT_EQ(std::stoi(h.document_id.substr(1)) % 2, 1) << h.document_id;
  }
}

TEST_F(ChampionTest, ExpandedPrefixesMatchLikeTheWordsTheyStandFor) {
  ExpectPrefixesMatchTheirWords([&](const SearchRequest& r) { return SearchOk(r); });
}

TEST_F(ChampionTest, PendingPagesAreFoundBeforeTheirFold) {
  const int64_t folded = SqlInt(path_, "SELECT folded_upto FROM term_stats");
  // One document per commit, as `acervo run` stores them: not folded yet.
  ASSERT_TRUE(store_->PutDocument(Doc("L1", "new", "oficio", {}, {Page(1, 1, "inédito comum comum comum comum "
                                                                             "comum comum comum comum comum comum "
                                                                             "comum comum comum comum")}))
                  .ok());
  EXPECT_EQ(SqlInt(path_, "SELECT folded_upto FROM term_stats"), folded);
  EXPECT_EQ(Ids(SearchOk(Q("inedito"))), std::vector<std::string>({"L1/new"}));
  EXPECT_EQ(Ids(SearchOk(Q("inédi*"))), std::vector<std::string>({"L1/new"}));
  std::vector<SearchHit> hits = SearchOk(Q("comum", "", {}, 3));
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].document_id, "new");
}

// What migration 7 (issue 15) added, taken out again: the SQL that turns a
// current SQLite file into a version-4 one (the FTS5 index back on
// unicode61, without term_keys, field_words and fields.value_key).

TEST(ChampionMigrationTest, Version2DatabaseIsUpgradedWithItsTermTables) {
  TempDir dir;
  const fs::path path = dir.path() / "acervo.db";
  {
    std::unique_ptr<Store> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->UpsertLot(Lot("L1")).ok());
    std::vector<DocumentRecord> batch;
    for (int i = 0; i < 1500; ++i) batch.push_back(Numbered(i, i == 42 ? "raríssimo" : ""));
    ASSERT_TRUE(store->PutDocuments(batch).ok());
  }
  // Make it exactly a version-2 file: without migration 3's tables and row.
  ASSERT_EQ(UndoSqliteV13(path), "");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_TRUE(RegisterSqliteExtensions(db).ok());
  ASSERT_EQ(sqlite3_exec(db,
                         (std::string(kUndoSqliteV10) + kDropV8Sqlite + kUndoSqliteV7 + kDropV6Sqlite + kDropV5 +
                         "DROP TABLE term_top; DROP TABLE term_df; DROP TABLE term_stats; "
                         "ALTER TABLE pages DROP COLUMN master_page; ALTER TABLE pages DROP COLUMN part; "
                         "ALTER TABLE pages DROP COLUMN master_x; ALTER TABLE pages DROP COLUMN master_width; "
                         "DELETE FROM schema_version WHERE version >= 3").c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ASSERT_EQ(SqlInt(path, "SELECT max(version) FROM schema_version"), 2);
  std::unique_ptr<Store> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(SqlInt(path, "SELECT max(version) FROM schema_version"), kSqliteSchemaVersion);
  EXPECT_EQ(SqlInt(path, "SELECT folded_upto FROM term_stats"), SqlInt(path, "SELECT max(id) FROM pages"));
  EXPECT_EQ(SqlInt(path, "SELECT pages FROM term_stats"), 1500);
  EXPECT_EQ(SqlInt(path, "SELECT df FROM term_df WHERE term = 'comum'"), 1500);
  EXPECT_EQ(SqlInt(path, "SELECT count(*) FROM term_top WHERE term = 'comum'"),
            SqlInt(path, "SELECT listed FROM term_df WHERE term = 'comum'"));
  Result<std::vector<SearchHit>> hits = store->Search(Q("raríssimo"));
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(Ids(*hits), std::vector<std::string>({"L1/n42"}));
}

// The word boxes and the user a v6 store holds before migration 7 (they
// must survive it).
void FillWebTables(Store& store) {
  DocumentRecord doc = Doc("M", "boxes", "oficio", {}, {Page(1, 1, "Caixas")});
  doc.pages[0].image_width = 100;
  doc.pages[0].image_height = 200;
  doc.pages[0].words = {{"Caixas", 1, 2, 3, 4}};
  ASSERT_TRUE(store.PutDocument(doc).ok());
  UserRecord u;
  u.name = "ana";
  ASSERT_TRUE(store.Access().AddUser(u).ok());
}

void ExpectWebTablesKept(Store& store) {
  Result<std::optional<PageWords>> w = store.GetPageWords("M", "boxes", 1);
  ASSERT_TRUE(w.ok() && w->has_value()) << w.status().ToString();
  ASSERT_EQ((**w).words.size(), 1u);
  EXPECT_EQ((**w).words[0].text, "Caixas");
  Result<std::optional<UserRecord>> u = store.Access().GetUser("ana");
  ASSERT_TRUE(u.ok() && u->has_value());
}

// v4 -> v7 and v6 -> v7 (issue 15 after issue 13): the text index is
// rebuilt with the acervo tokenizer, the term tables refolded with their
// keys, the fields get their meaning; pages stored before find their
// misreadings, split words and identifiers; a v6 store keeps its word
// boxes and users, a v4 one gets the v6 tables first.
TEST(ForgivingMigrationTest, Version4And6SqliteDatabasesBecomeForgiving) {
  for (const int from : {6, 4}) {
  SCOPED_TRACE("from version " + std::to_string(from));
  TempDir dir;
  const fs::path path = dir.path() / "acervo.db";
  {
    std::unique_ptr<Store> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    FillMisread(*store);
    if (from == 6) FillWebTables(*store);
  }
  ASSERT_EQ(UndoSqliteV13(path), "");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_TRUE(RegisterSqliteExtensions(db).ok());
  const std::string undo = std::string(kUndoSqliteV10) + kDropV8Sqlite + kUndoSqliteV7 + (from == 4 ? std::string(kDropV6Sqlite) + kDropV5 : "");
  ASSERT_EQ(sqlite3_exec(db, undo.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_EQ(SqlInt(path, "SELECT max(version) FROM schema_version"), from);
  ASSERT_EQ(SqlInt(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'term_keys'"), 0);
  std::unique_ptr<Store> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  if (from == 6) ExpectWebTablesKept(*store);
  EXPECT_EQ(SqlInt(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'page_words'"), 1);
  EXPECT_EQ(SqlInt(path, "SELECT max(version) FROM schema_version"), kSqliteSchemaVersion);
  EXPECT_GT(SqlInt(path, "SELECT count(*) FROM term_keys WHERE term = 'teixelra'"), 0);
  EXPECT_EQ(SqlInt(path, "SELECT count(*) FROM fields WHERE value_key = '52998224725'"), 1);
  EXPECT_EQ(SqlInt(path, "SELECT count(*) FROM field_words WHERE word = 'beatriz'"), 1);
  EXPECT_EQ(SqlInt(path, "SELECT folded_upto FROM term_stats"), SqlInt(path, "SELECT max(id) FROM pages"));
  auto ids = [&](const SearchRequest& r) {
    Result<std::vector<SearchHit>> hits = store->Search(r);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    return hits.ok() ? Ids(*hits) : std::vector<std::string>{"error"};
  };
  EXPECT_EQ(ids(Q("teixeira")), (std::vector<std::string>{"M/exact", "M/misread"}));
  EXPECT_EQ(ids(Q("requerimento")), std::vector<std::string>{"M/split"});
  EXPECT_EQ(ids(Q("52998224725")), std::vector<std::string>{"M/ids"});
  EXPECT_EQ(ids(Q("", "", {{"cpf", "52998224725"}})), std::vector<std::string>{"M/ids"});
  EXPECT_EQ(ids(Q("interessado:beatriz")), std::vector<std::string>{"M/misread"});
  sqlite3* check = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &check), SQLITE_OK);
  ASSERT_TRUE(RegisterSqliteExtensions(check).ok());
  EXPECT_EQ(sqlite3_exec(check, "INSERT INTO pages_fts(pages_fts, rank) VALUES('integrity-check', 1)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(check);
  }
}

// v3 -> v4: existing pages become their own master page, whole, with an
// unknown column range; they stay searchable and new split pages store.
TEST(SplitMigrationTest, Version3SqliteDatabaseGetsMasterPageColumns) {
  TempDir dir;
  const fs::path path = dir.path() / "acervo.db";
  {
    std::unique_ptr<Store> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    Fill(*store);
  }
  ASSERT_EQ(UndoSqliteV13(path), "");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_TRUE(RegisterSqliteExtensions(db).ok());
  ASSERT_EQ(sqlite3_exec(db,
                         (std::string(kUndoSqliteV10) + kDropV8Sqlite + kUndoSqliteV7 + kDropV6Sqlite + kDropV5 +
                          "ALTER TABLE pages DROP COLUMN master_page; ALTER TABLE pages DROP COLUMN part; "
                          "ALTER TABLE pages DROP COLUMN master_x; ALTER TABLE pages DROP COLUMN master_width; "
                          "DELETE FROM schema_version WHERE version >= 4")
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ASSERT_EQ(SqlInt(path, "SELECT max(version) FROM schema_version"), 3);
  std::unique_ptr<Store> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(SqlInt(path, "SELECT max(version) FROM schema_version"), kSqliteSchemaVersion);
  EXPECT_EQ(SqlInt(path, "SELECT count(*) FROM pages WHERE master_page <> number OR part <> 'whole' "
                         "OR master_width <> 0"),
            0);
  Result<std::optional<DocumentRecord>> got = store->GetDocument("L1", "d1");
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_EQ((**got).pages.size(), 3u);
  EXPECT_EQ((**got).pages[2].master_page, 3);
  EXPECT_EQ((**got).pages[2].part, "whole");
  Result<std::vector<SearchHit>> hits = store->Search(Q("nascimento"));
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_EQ(Ids(*hits), std::vector<std::string>({"L1/d1"}));
}

// --- The same properties on PostgreSQL (terms are lexemes of pages.tsv;
// pending pages are listed in term_pending instead of an id mark) ---

// The first column of the first row of `sql` in the database, or -1.
int64_t PgInt(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  int64_t v = -1;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << sql << ": " << PQresultErrorMessage(r);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
      v = std::stoll(PQgetvalue(r, 0, 0));
    }
    PQclear(r);
  } else {
    ADD_FAILURE() << PQerrorMessage(c);
  }
  PQfinish(c);
  return v;
}


void PgExec(const std::string& conninfo, const std::string& sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  PGresult* r = PQexec(c, sql.c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << sql << ": " << PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
}

// The lexeme of `word` in acervo_pt, as an SQL expression.
std::string Lex(const std::string& word) {
  return "(SELECT lexeme FROM unnest(to_tsvector('acervo_pt', '" + word + "')))";
}

// A full scan's BM25 of every page holding `word` (one-word query), best
// first: idf from term_df and the page count (folded + pending), the
// average length from term_stats, tf and lengths from the tsvectors.
std::vector<double> PgFullScanTop(const std::string& conninfo, const std::string& word, int n) {
  const std::string sql =
      "WITH s AS (SELECT pages + (SELECT count(*) FROM term_pending) AS n, tokens::float8 / pages AS avg "
      "           FROM term_stats), "
      "d AS (SELECT df FROM term_df WHERE term = " + Lex(word) + "), "
      "pg AS (SELECT (SELECT sum(array_length(u.positions, 1)) FROM unnest(p.tsv) u) AS len, "
      "              (SELECT array_length(u.positions, 1) FROM unnest(p.tsv) u WHERE u.lexeme = " + Lex(word) + ") AS tf "
      "       FROM pages p WHERE p.in_pdf AND p.tsv @@ to_tsquery('acervo_pt', '" + word + "')) "
      "SELECT greatest(ln((s.n - d.df + 0.5) / (d.df + 0.5)), 1e-6) * "
      "       pg.tf * 2.2 / (pg.tf + 1.2 * (0.25 + 0.75 * pg.len / s.avg)) "
      "FROM pg, s, d ORDER BY 1 DESC LIMIT " + std::to_string(n);
  std::vector<double> out;
  PGconn* c = PQconnectdb(conninfo.c_str());
  PGresult* r = PQexec(c, sql.c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
  for (int i = 0; i < PQntuples(r); ++i) out.push_back(std::stod(PQgetvalue(r, i, 0)));
  PQclear(r);
  PQfinish(c);
  return out;
}

// What a PostgreSQL store migrated to v7 must show: no trigger, nothing
// pending, keys and fields' meaning filled, and pages stored before found
// by their misreadings, split words and identifiers.
void ExpectForgivingAfterMigration(const std::string& conninfo, Store& s) {
  EXPECT_EQ(PgInt(conninfo, "SELECT max(version) FROM schema_version"), kPostgresSchemaVersion);
  EXPECT_EQ(PgInt(conninfo, "SELECT count(*) FROM pg_trigger WHERE tgname = 'pages_tsv'"), 0);
  EXPECT_EQ(PgInt(conninfo, "SELECT count(*) FROM term_pending"), 0);
  EXPECT_GT(PgInt(conninfo, "SELECT count(*) FROM term_keys WHERE term = 'teixelra'"), 0);
  EXPECT_EQ(PgInt(conninfo, "SELECT count(*) FROM fields WHERE value_key = '52998224725'"), 1);
  EXPECT_EQ(PgInt(conninfo, "SELECT count(*) FROM field_words WHERE word = 'beatriz'"), 1);
  auto ids = [&](const SearchRequest& r) {
    Result<std::vector<SearchHit>> hits = s.Search(r);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    return hits.ok() ? Ids(*hits) : std::vector<std::string>{"error"};
  };
  EXPECT_EQ(ids(Q("teixeira", "M")), (std::vector<std::string>{"M/exact", "M/misread"}));
  EXPECT_EQ(ids(Q("requerimento", "M")), std::vector<std::string>{"M/split"});
  EXPECT_EQ(ids(Q("52998224725", "M")), std::vector<std::string>{"M/ids"});
  EXPECT_EQ(ids(Q("", "M", {{"cpf", "52998224725"}})), std::vector<std::string>{"M/ids"});
  EXPECT_EQ(ids(Q("interessado:beatriz")), std::vector<std::string>{"M/misread"});
  EXPECT_EQ(ids(Q("raríssimo")), std::vector<std::string>({"L1/n1500"}));
}

class PostgresChampionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conninfo_ = FreshPostgresDatabase();
    if (conninfo_.empty()) GTEST_SKIP() << "PostgreSQL cannot run here (see the message above)";
    Result<std::unique_ptr<Store>> s = OpenPostgresStore(conninfo_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_NO_FATAL_FAILURE(FillChampionStore(*store_, kDocs));
  }

  std::vector<SearchHit> SearchOk(const SearchRequest& r) {
    Result<std::vector<SearchHit>> hits = store_->Search(r);
    EXPECT_TRUE(hits.ok()) << r.query << ": " << hits.status().ToString();
    return hits.ok() ? std::move(hits).value() : std::vector<SearchHit>{};
  }
  int64_t Int(const std::string& sql) { return PgInt(conninfo_, sql); }

  static constexpr int kDocs = 3000;
  std::string conninfo_;
  std::unique_ptr<Store> store_;
};

TEST_F(PostgresChampionTest, CommonWordGivesTheTrulyBestPagesFirst) {
  ASSERT_GT(Int("SELECT pages FROM term_stats"), 2000);
  std::vector<SearchHit> hits = SearchOk(Q("comum", "", {}, 10));
  ASSERT_EQ(hits.size(), 10u);
  EXPECT_EQ(hits[0].document_id, "n777");
  std::vector<double> want = PgFullScanTop(conninfo_, "comum", 10);
  ASSERT_EQ(want.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_NEAR(hits[i].score, want[i], 1e-6 * want[i]) << i;
}

TEST_F(PostgresChampionTest, ListsStayCappedAndCountsExact) {
  const std::string term = Lex("comum");
  const int64_t listed = Int("SELECT listed FROM term_df WHERE term = " + term);
  EXPECT_EQ(listed, Int("SELECT count(*) FROM term_top WHERE term = " + term));
  EXPECT_GE(listed, 1000);
  EXPECT_LE(listed, 1250);
  // df counts the folded pages holding the lexeme.
  EXPECT_EQ(Int("SELECT df FROM term_df WHERE term = " + term),
            Int("SELECT count(*) FROM pages WHERE tsv @@ to_tsquery('acervo_pt', 'comum') "
                "AND id NOT IN (SELECT page_id FROM term_pending)"));
  EXPECT_EQ(Int("SELECT pages FROM term_stats"),
            Int("SELECT count(*) FROM pages") - Int("SELECT count(*) FROM term_pending"));
  EXPECT_LT(Int("SELECT count(*) FROM term_pending"), 1000);
  EXPECT_EQ(Int("SELECT count(*) FROM term_top WHERE page_id NOT IN (SELECT id FROM pages)"), 0);
}

TEST_F(PostgresChampionTest, ReplacingOrEmptyingADocumentRemovesItsEntries) {
  const std::string term = Lex("comum");
  const int64_t df = Int("SELECT df FROM term_df WHERE term = " + term);
  const int64_t old_page =
      Int("SELECT p.id FROM pages p JOIN documents d ON d.id = p.doc_id WHERE d.document_id = 'n777'");
  ASSERT_GT(Int("SELECT count(*) FROM term_top WHERE term = " + term + " AND page_id = " + std::to_string(old_page)),
            0);
  ASSERT_TRUE(store_->PutDocument(Doc("L1", "n777", "certidao", {}, {Page(1, 1, "texto novo sem a palavra")})).ok());
  EXPECT_EQ(Int("SELECT count(*) FROM term_top WHERE page_id = " + std::to_string(old_page)), 0);
  EXPECT_EQ(Int("SELECT df FROM term_df WHERE term = " + term), df - 1);
  EXPECT_EQ(Int("SELECT listed FROM term_df WHERE term = " + term),
            Int("SELECT count(*) FROM term_top WHERE term = " + term));
  std::vector<SearchHit> hits = SearchOk(Q("comum", "", {}, 10));
  ASSERT_FALSE(hits.empty());
  EXPECT_NE(hits[0].document_id, "n777");
  EXPECT_EQ(Ids(SearchOk(Q("novo"))), std::vector<std::string>({"L1/n777"}));
  ASSERT_EQ(Ids(SearchOk(Q("raríssimo"))), std::vector<std::string>({"L1/n1500"}));
  ASSERT_TRUE(store_->PutDocument(Doc("L1", "n1500", "certidao", {}, {Page(1, 1, "outro texto")})).ok());
  EXPECT_TRUE(SearchOk(Q("raríssimo")).empty());
  EXPECT_EQ(Int("SELECT count(*) FROM term_df WHERE term = " + Lex("rarissimo")), 0);
}

TEST_F(PostgresChampionTest, RareWordsPhrasesAndPrefixesAreExact) {
  EXPECT_EQ(Ids(SearchOk(Q("RARISSIMO"))), std::vector<std::string>({"L1/n1500"}));
  std::vector<std::string> want;
  for (int i = 3; i < kDocs; i += 500) want.push_back("L1/n" + std::to_string(i));
  EXPECT_EQ(Sorted(Ids(SearchOk(Q("\"registro civil\"")))), Sorted(want));
  EXPECT_EQ(Sorted(Ids(SearchOk(Q("\"registro civil\" naturais")))), Sorted(want));
  EXPECT_EQ(Ids(SearchOk(Q("raríss*"))), std::vector<std::string>({"L1/n1500"}));
  EXPECT_EQ(Sorted(Ids(SearchOk(Q("natura*", "", {}, 100)))), Sorted(want));
  std::vector<SearchHit> pre = SearchOk(Q("comu*", "", {}, 5));
  ASSERT_EQ(pre.size(), 5u);
  EXPECT_EQ(pre[0].document_id, "n777");
  EXPECT_EQ(Ids(SearchOk(Q("comum processo:1234"))), std::vector<std::string>({"L1/n1234"}));
  std::vector<SearchHit> odd = SearchOk(Q("comum -civil", "", {}, 50));
  EXPECT_EQ(odd.size(), 50u);
  for (const SearchHit& h : odd) EXPECT_EQ(std::stoi(h.document_id.substr(1)) % 2, 1) << h.document_id;
}

TEST_F(PostgresChampionTest, PrefixesMatchLikeTheWordsTheyStandFor) {
  ExpectPrefixesMatchTheirWords([&](const SearchRequest& r) { return SearchOk(r); });
}

TEST_F(PostgresChampionTest, PendingPagesAreFoundBeforeTheirFold) {
  const int64_t pending = Int("SELECT count(*) FROM term_pending");
  ASSERT_TRUE(store_->PutDocument(Doc("L1", "new", "oficio", {}, {Page(1, 1, "inédito comum comum comum comum "
                                                                             "comum comum comum comum comum comum "
                                                                             "comum comum comum comum")}))
                  .ok());
  EXPECT_EQ(Int("SELECT count(*) FROM term_pending"), pending + 1);
  EXPECT_EQ(Ids(SearchOk(Q("inedito"))), std::vector<std::string>({"L1/new"}));
  EXPECT_EQ(Ids(SearchOk(Q("inédi*"))), std::vector<std::string>({"L1/new"}));
  std::vector<SearchHit> hits = SearchOk(Q("comum", "", {}, 3));
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].document_id, "new");
}

TEST_F(PostgresChampionTest, Version2DatabaseIsUpgradedWithItsTermTables) {
  store_.reset();
  // Make it exactly a version-2 database: without migration 3's tables and row.
  PgExec(conninfo_, std::string(kUndoPostgresV10) + kUndoQueueTables + kDropV8Postgres + kUndoPostgresV7 + kDropV6Postgres + kDropV5 +
                    "DROP TABLE term_top, term_df, term_stats, term_pending; DROP TRIGGER pages_tsv ON pages; "
                    "ALTER TABLE pages DROP COLUMN master_page, DROP COLUMN part, DROP COLUMN master_x, "
                    "DROP COLUMN master_width; "
                    "DELETE FROM schema_version WHERE version >= 3");
  ASSERT_EQ(Int("SELECT max(version) FROM schema_version"), 2);
  Result<std::unique_ptr<Store>> s = OpenPostgresStore(conninfo_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Int("SELECT max(version) FROM schema_version"), kPostgresSchemaVersion);
  EXPECT_EQ(Int("SELECT count(*) FROM term_pending"), 0);
  EXPECT_EQ(Int("SELECT pages FROM term_stats"), kDocs);
  EXPECT_EQ(Int("SELECT df FROM term_df WHERE term = " + Lex("comum")), kDocs);
  EXPECT_EQ(Int("SELECT count(*) FROM term_top WHERE term = " + Lex("comum")),
            Int("SELECT listed FROM term_df WHERE term = " + Lex("comum")));
  Result<std::vector<SearchHit>> hits = (*s)->Search(Q("raríssimo"));
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_EQ(Ids(*hits), std::vector<std::string>({"L1/n1500"}));
}

TEST_F(PostgresChampionTest, Version3DatabaseGetsMasterPageColumns) {
  store_.reset();
  PgExec(conninfo_, std::string(kUndoPostgresV10) + kUndoQueueTables + kDropV8Postgres + kUndoPostgresV7 + kDropV6Postgres + kDropV5 +
                    "ALTER TABLE pages DROP COLUMN master_page, DROP COLUMN part, DROP COLUMN master_x, "
                    "DROP COLUMN master_width; DELETE FROM schema_version WHERE version >= 4");
  ASSERT_EQ(Int("SELECT max(version) FROM schema_version"), 3);
  Result<std::unique_ptr<Store>> s = OpenPostgresStore(conninfo_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Int("SELECT max(version) FROM schema_version"), kPostgresSchemaVersion);
  EXPECT_EQ(Int("SELECT count(*) FROM pages"), kDocs);
  EXPECT_EQ(Int("SELECT count(*) FROM pages WHERE master_page <> number OR part <> 'whole' OR master_width <> 0"), 0);
  Result<std::optional<DocumentRecord>> got = (*s)->GetDocument("L1", "n7");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((**got).pages.at(0).part, "whole");
  EXPECT_EQ((**got).pages.at(0).master_page, (**got).pages.at(0).number);
  Result<std::vector<SearchHit>> hits = (*s)->Search(Q("raríssimo"));
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_EQ(Ids(*hits), std::vector<std::string>({"L1/n1500"}));
}

// v6 -> v7 on PostgreSQL (issue 15 after issue 13): tsv recomputed by the
// shared analyzer, the trigger gone, the term tables refolded with keys,
// fields' meaning; word boxes and users kept. (v4 -> v7: the next test.)
TEST_F(PostgresChampionTest, Version6DatabaseBecomesForgiving) {
  FillMisread(*store_);
  FillWebTables(*store_);
  store_.reset();
  PgExec(conninfo_, std::string(kUndoPostgresV10) + kUndoQueueTables + kDropV8Postgres + kUndoPostgresV7);
  ASSERT_EQ(Int("SELECT max(version) FROM schema_version"), 6);
  ASSERT_EQ(Int("SELECT count(*) FROM pg_tables WHERE tablename = 'term_keys'"), 0);
  Result<std::unique_ptr<Store>> s = OpenPostgresStore(conninfo_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectWebTablesKept(**s);
  ExpectForgivingAfterMigration(conninfo_, **s);
}

TEST_F(PostgresChampionTest, Version4DatabaseBecomesForgiving) {
  FillMisread(*store_);
  store_.reset();
  PgExec(conninfo_, std::string(kUndoPostgresV10) + kUndoQueueTables + kDropV8Postgres + kUndoPostgresV7 + kDropV6Postgres + kDropV5);
  ASSERT_EQ(Int("SELECT max(version) FROM schema_version"), 4);
  ASSERT_EQ(Int("SELECT count(*) FROM pg_tables WHERE tablename = 'term_keys'"), 0);
  Result<std::unique_ptr<Store>> s = OpenPostgresStore(conninfo_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Int("SELECT count(*) FROM pg_tables WHERE tablename = 'page_words'"), 1);
  ExpectForgivingAfterMigration(conninfo_, **s);
}

// PutDocuments with the same document twice keeps the last (one COPY per
// call must not trip over the unique key), and text with COPY's special
// characters (tab, newline, backslash) comes back as stored.
TEST_F(PostgresChampionTest, BulkPutKeepsTheLastCopyAndSpecialCharacters) {
  const std::string text = "linha\tcom tab\nnova linha \\ barra invertida \\N literal";
  std::vector<DocumentRecord> docs = {Doc("L1", "dup", "oficio", {{"nome", "a\tb"}}, {Page(1, 1, "primeiro")}),
                                      Doc("L1", "dup", "oficio", {{"nome", "c\\d"}}, {Page(1, 1, text)})};
  ASSERT_TRUE(store_->PutDocuments(docs).ok());
  Result<std::optional<DocumentRecord>> got = store_->GetDocument("L1", "dup");
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_EQ((*got)->pages.size(), 1u);
  EXPECT_EQ((*got)->pages[0].text, text);
  ASSERT_EQ((*got)->fields.size(), 1u);
  EXPECT_EQ((*got)->fields[0].value, "c\\d");
  EXPECT_EQ(Ids(SearchOk(Q("barra invertida"))), std::vector<std::string>({"L1/dup"}));
  EXPECT_TRUE(SearchOk(Q("primeiro")).empty());
  // A missing lot fails the whole call, naming the document.
  Status s = store_->PutDocuments({Doc("L1", "ok1", "oficio", {}, {Page(1, 1, "x")}),
                                   Doc("nao-existe", "d9", "oficio", {}, {Page(1, 1, "y")})});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("nao-existe/d9"), std::string::npos) << s.message();
  Result<std::optional<DocumentRecord>> none = store_->GetDocument("L1", "ok1");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace champion


// v4 -> v5 (issue 12): paths become relative to the output folder, so an
// archive can move. A row's root is the folder above its PDF's lot folder;
// master paths under it lose the prefix, others stay absolute. The same
// test on both backends (a real PostgreSQL server).
LotRecord LotNamed(const std::string& id) {
  LotRecord l;
  l.id = id;
  return l;
}

class RelativePathsMigrationTest : public ::testing::TestWithParam<Backend> {
 protected:
  // Runs SQL on the raw database (the store closed).
  void Exec(const std::string& sql) {
    if (GetParam() == Backend::kSqlite) {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
      ASSERT_TRUE(RegisterSqliteExtensions(db).ok());  // the text index's tokenizer (v7)
      char* err = nullptr;
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
      sqlite3_free(err);
      sqlite3_close(db);
    } else {
      champion::PgExec(conninfo_, sql);
    }
  }
  int64_t Int(const std::string& sql) {
    return GetParam() == Backend::kSqlite ? champion::SqlInt(path_, sql) : champion::PgInt(conninfo_, sql);
  }
  Result<std::unique_ptr<Store>> Open() {
    if (GetParam() == Backend::kSqlite) return OpenSqliteStore(path_);
    return OpenPostgresStore(conninfo_);
  }
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      conninfo_ = FreshPostgresDatabase();
      if (conninfo_.empty()) GTEST_SKIP() << "PostgreSQL cannot run here (see the message above)";
    }
    path_ = dir_.path() / "acervo.db";
  }
  TempDir dir_;
  fs::path path_;
  std::string conninfo_;
};

TEST_P(RelativePathsMigrationTest, Version4AbsolutePathsBecomeRelativeToTheOutputFolder) {
  {
    Result<std::unique_ptr<Store>> store = Open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->UpsertLot(LotNamed("L1")).ok());
    ASSERT_TRUE((*store)->UpsertLot(LotNamed("L2")).ok());
    // As a v4 Acervo wrote them: absolute.
    DocumentRecord a = Doc("L1", "d1", "certidao", {}, {Page(1, 1, "primeira"), Page(2, 2, "segunda")});
    a.pdf_path = "/arquivo/saida/L1/d1.pdf";
    a.pages[0].master_path = "/arquivo/saida/L1/masters/p1.png";
    a.pages[1].master_path = "/outro/disco/p2.png";  // not under the root: stays
    DocumentRecord b = Doc("L2", "x", "oficio", {}, {Page(1, 1, "terceira")});
    b.pdf_path = "/mnt/b/out/L%202/x.pdf";
    b.pages[0].master_path = "/mnt/b/out/L%202/masters/sub/x.tif";
    DocumentRecord c = Doc("L2", "y", "oficio", {}, {Page(1, 1, "quarta")});  // already relative
    ASSERT_TRUE((*store)->PutDocuments({a, b, c}).ok());
  }
  if (GetParam() == Backend::kSqlite) ASSERT_EQ(UndoSqliteV13(path_), "");
  Exec(std::string(GetParam() == Backend::kSqlite ? std::string(kUndoSqliteV10) + kDropV8Sqlite + kUndoSqliteV7 + kDropV6Sqlite
                                                 : std::string(kUndoPostgresV10) + kUndoQueueTables + kDropV8Postgres + kUndoPostgresV7 + kDropV6Postgres) +
       kDropV5);
  ASSERT_EQ(Int("SELECT max(version) FROM schema_version"), 4);
  Result<std::unique_ptr<Store>> store = Open();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(Int("SELECT max(version) FROM schema_version"),
            GetParam() == Backend::kSqlite ? kSqliteSchemaVersion : kPostgresSchemaVersion);
  // Each lot remembers the folder its paths were relative to.
  Result<std::vector<LotRecord>> lots = (*store)->ListLots();
  ASSERT_TRUE(lots.ok());
  ASSERT_EQ(lots->size(), 2u);
  EXPECT_EQ((*lots)[0].output_root, "/arquivo/saida");
  EXPECT_EQ((*lots)[1].output_root, "/mnt/b/out");
  Result<std::optional<DocumentRecord>> got = (*store)->GetDocument("L1", "d1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got).pdf_path, "L1/d1.pdf");
  EXPECT_EQ((**got).pages[0].master_path, "L1/masters/p1.png");
  EXPECT_EQ((**got).pages[1].master_path, "/outro/disco/p2.png");
  got = (*store)->GetDocument("L2", "x");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got).pdf_path, "L%202/x.pdf");
  EXPECT_EQ((**got).pages[0].master_path, "L%202/masters/sub/x.tif");
  got = (*store)->GetDocument("L2", "y");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got).pdf_path, "L2/y.pdf");
  // Resolved where the archive is now.
  EXPECT_EQ(ResolveStoredPath("/media/disco", "L1/d1.pdf"), fs::path("/media/disco/L1/d1.pdf"));
  EXPECT_EQ(ResolveStoredPath("/media/disco", "/outro/disco/p2.png"), fs::path("/outro/disco/p2.png"));
  // Still searchable.
  Result<std::vector<SearchHit>> hits = (*store)->Search(Q("primeira"));
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_EQ(Ids(*hits), std::vector<std::string>({"L1/d1"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, RelativePathsMigrationTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& i) {
                           return i.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

// Read-only use (issue 12): a store is searched and read without writing
// anything of its own, and writes are refused. (On read-only media, where
// SQLite could not even make its -shm file, the file is opened immutable:
// tests/hostile, ReadOnlyArchiveIsSearchedAndVerified, on a read-only mount.)
TEST(SqliteReadOnlyTest, ReadsWithoutWritingAndRefusesWrites) {
  TempDir dir;
  const fs::path path = dir.path() / "acervo.db";
  {
    std::unique_ptr<Store> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    Fill(*store);
  }
  const std::string sha_before = *Sha256OfFile(path);
  SqliteOptions ro;
  ro.read_only = true;
  ro.create_if_missing = false;
  std::unique_ptr<Store> store = OpenOrDie(path, ro);
  ASSERT_NE(store, nullptr);
  Result<std::vector<SearchHit>> hits = store->Search(Q("nascimento"));
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_EQ(Ids(*hits), std::vector<std::string>({"L1/d1"}));
  EXPECT_FALSE(store->UpsertLot(LotNamed("L9")).ok());
  store.reset();
  EXPECT_EQ(*Sha256OfFile(path), sha_before) << "a read-only open changed the store";
  // A missing store is never created read-only, nor a missing folder ever.
  EXPECT_EQ(OpenSqliteStore(dir.path() / "none.db", ro).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(OpenSqliteStore(dir.path() / "no" / "such" / "acervo.db").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir.path() / "no"));
}

}  // namespace
}  // namespace acervo
