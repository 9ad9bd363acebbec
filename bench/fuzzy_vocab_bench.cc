// How to find, in a store's vocabulary, the words within a small OCR edit
// distance of a query word (issue 15): what the databases offer against the
// keys Acervo stores (forgiving.h), measured on the same vocabulary in the
// same run.
//
//  - SQLite FTS5 `trigram` tokenizer over the vocabulary: candidates are
//    the terms sharing a trigram with the word (an OR of its trigrams,
//    best bm25 first, the first 200 checked);
//  - PostgreSQL pg_trgm: `term % word` (similarity >= 0.3, GIN index), best
//    first, then fuzzystrmatch's levenshtein_less_equal to check;
//  - Acervo's keys (OCR skeleton, its one-character deletions), on SQLite
//    and PostgreSQL, checked with OcrDistance.
// The vocabulary: N true words (pseudo-Portuguese, 6-14 letters) plus one
// misreading of each (synth::Misread's character errors) within the OCR
// distance forgiving search allows; each query is a true word and must find
// its misreading. Prints recall, candidates read
// and latency per approach.
//
// usage: fuzzy_vocab_bench [--words N] [--queries Q] [--backend sqlite|postgres|both]
#include <sqlite3.h>
#include <libpq-fe.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "acervo/indexer/text_fold.h"
#include "acervo/synth/synth.h"
#include "forgiving.h"
#include "postgres_test_server.h"

namespace {
namespace fs = std::filesystem;
using namespace acervo;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Pair {
  std::string truth, misread;
};

std::vector<Pair> MakeVocabulary(int n) {
  const char* syl[] = {"ba", "be", "bi", "bo", "ca", "ce", "co", "da", "de", "di", "do", "fa", "fe", "ga", "go",
                       "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "no", "pa", "pe", "pi", "po",
                       "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti", "to", "va", "ve", "vi",
                       "lha", "nha", "cao", "tro", "pre", "gra", "cla", "ten", "man", "res", "tal", "mento"};
  std::mt19937_64 rng(15);
  std::set<std::string> seen;
  std::vector<Pair> out;
  uint64_t seed = 1;
  while (static_cast<int>(out.size()) < n) {
    std::string w;
    const int k = 3 + static_cast<int>(rng() % 4);
    for (int i = 0; i < k; ++i) w += syl[rng() % std::size(syl)];
    if (w.size() < 6 || w.size() > 14 || !seen.insert(w).second) continue;
    // One character error: the generator's model, words only (no splits).
    std::string m;
    for (int tries = 0; tries < 20 && (m.empty() || m == w || m.find(' ') != std::string::npos ||
                                       m.find('\n') != std::string::npos);
         ++tries) {
      synth::MisreadSpec spec;
      spec.word_rate = 1;
      spec.seed = seed++;
      m = FoldText(synth::Misread(w, spec).text);
    }
    // Only misreadings a forgiving search should find (within the allowed
    // OCR distance): the measure is whether each approach finds them.
    if (m.empty() || m == w || m.find_first_of(" \n-") != std::string::npos ||
        OcrDistance(w, m, MaxForgivingCost(w.size())) > MaxForgivingCost(w.size()) || !seen.insert(m).second) {
      continue;
    }
    out.push_back({w, m});
  }
  return out;
}

struct Result {
  int found = 0, n = 0;
  double candidates = 0;
  std::vector<double> ms;
  void Print(const char* name) {
    std::sort(ms.begin(), ms.end());
    auto pct = [&](double p) { return ms.empty() ? 0 : ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))]; };
    std::printf("| %s | %.1f%% | %.1f | %.2f | %.2f |\n", name, 100.0 * found / std::max(n, 1), candidates / std::max(n, 1),
                pct(0.5), pct(0.95));
  }
};

bool Within(const std::string& word, const std::string& term) {
  return OcrDistance(word, term, MaxForgivingCost(word.size())) <= MaxForgivingCost(word.size());
}

void RunSqlite(const std::vector<Pair>& vocab, int queries) {
  const fs::path path = fs::temp_directory_path() / ("acervo-fuzzy-vocab-" + std::to_string(::getpid()) + ".db");
  fs::remove(path);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
               "CREATE VIRTUAL TABLE tri USING fts5(term, tokenize = 'trigram');"
               "CREATE TABLE keys (key TEXT, term TEXT, PRIMARY KEY (key, term)) WITHOUT ROWID;",
               nullptr, nullptr, nullptr);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt *ins_tri = nullptr, *ins_key = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO tri (term) VALUES (?)", -1, &ins_tri, nullptr);
  sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO keys VALUES (?, ?)", -1, &ins_key, nullptr);
  for (const Pair& p : vocab) {
    for (const std::string* t : {&p.truth, &p.misread}) {
      sqlite3_bind_text(ins_tri, 1, t->c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_step(ins_tri);
      sqlite3_reset(ins_tri);
      for (const std::string& k : VocabularyKeys(*t)) {
        sqlite3_bind_text(ins_key, 1, k.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins_key, 2, t->c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_step(ins_key);
        sqlite3_reset(ins_key);
      }
    }
  }
  sqlite3_finalize(ins_tri);
  sqlite3_finalize(ins_key);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_stmt *tri = nullptr, *key = nullptr;
  sqlite3_prepare_v2(db, "SELECT term FROM tri WHERE tri MATCH ? ORDER BY rank LIMIT 200", -1, &tri, nullptr);
  sqlite3_prepare_v2(db, "SELECT term FROM keys WHERE key = ?", -1, &key, nullptr);
  Result rt, rk;
  for (int q = 0; q < queries; ++q) {
    const Pair& p = vocab[static_cast<size_t>(q) * vocab.size() / static_cast<size_t>(queries)];
    // FTS5 trigram: the OR of the word's trigrams.
    std::string expr;
    for (size_t i = 0; i + 3 <= p.truth.size(); ++i) expr += (expr.empty() ? "\"" : " OR \"") + p.truth.substr(i, 3) + "\"";
    Clock::time_point a = Clock::now();
    bool found = false;
    int n = 0;
    sqlite3_bind_text(tri, 1, expr.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(tri) == SQLITE_ROW) {
      ++n;
      const std::string t = reinterpret_cast<const char*>(sqlite3_column_text(tri, 0));
      if (t == p.misread && Within(p.truth, t)) found = true;
    }
    sqlite3_reset(tri);
    rt.ms.push_back(Ms(Clock::now() - a));
    rt.candidates += n;
    ++rt.n;
    rt.found += found;
    // Acervo's keys.
    a = Clock::now();
    found = false;
    n = 0;
    for (const std::string& k : QueryFuzzyKeys(p.truth)) {
      sqlite3_bind_text(key, 1, k.c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(key) == SQLITE_ROW) {
        ++n;
        const std::string t = reinterpret_cast<const char*>(sqlite3_column_text(key, 0));
        if (t == p.misread && Within(p.truth, t)) found = true;
      }
      sqlite3_reset(key);
    }
    rk.ms.push_back(Ms(Clock::now() - a));
    rk.candidates += n;
    ++rk.n;
    rk.found += found;
  }
  sqlite3_finalize(tri);
  sqlite3_finalize(key);
  sqlite3_close(db);
  std::error_code ec;
  std::printf("\nSQLite, %zu terms: file %.1f MB\n\n| approach | misreading found | candidates read | p50 ms | p95 ms |\n|---|---|---|---|---|\n",
              vocab.size() * 2, static_cast<double>(fs::file_size(path, ec)) / 1e6);
  rt.Print("FTS5 trigram, OR of trigrams, best 200");
  rk.Print("Acervo keys (skeleton + deletions)");
  fs::remove(path);
  fs::remove(path.string() + "-wal");
  fs::remove(path.string() + "-shm");
}

PGresult* Pg(PGconn* c, const std::string& sql, const std::vector<std::string>& params = {}) {
  std::vector<const char*> v;
  for (const std::string& p : params) v.push_back(p.c_str());
  return PQexecParams(c, sql.c_str(), static_cast<int>(v.size()), nullptr, v.data(), nullptr, nullptr, 0);
}

std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ",\"" : "\"") + items[i] + "\"";
  return out + "}";
}

void RunPostgres(const std::vector<Pair>& vocab, int queries) {
  PostgresTestServer server;
  Status st = server.Start();
  acervo::Result<std::string> c = st.ok() ? server.CreateDatabase("fuzzy") : acervo::Result<std::string>(st);
  if (!c.ok()) {
    std::fprintf(stderr, "PostgreSQL: %s\n", c.status().ToString().c_str());
    return;
  }
  PGconn* conn = PQconnectdb(c->c_str());
  PQclear(Pg(conn, "CREATE EXTENSION pg_trgm"));
  PQclear(Pg(conn, "CREATE EXTENSION fuzzystrmatch"));
  PQclear(Pg(conn, "CREATE TABLE vocab (term TEXT PRIMARY KEY)"));
  PQclear(Pg(conn, "CREATE TABLE keys (key TEXT COLLATE \"C\", term TEXT COLLATE \"C\", PRIMARY KEY (key, term))"));
  std::vector<std::string> terms, keys, key_terms;
  for (const Pair& p : vocab) {
    for (const std::string* t : {&p.truth, &p.misread}) {
      terms.push_back(*t);
      for (const std::string& k : VocabularyKeys(*t)) keys.push_back(k), key_terms.push_back(*t);
    }
  }
  PQclear(Pg(conn, "INSERT INTO vocab SELECT DISTINCT unnest($1::text[])", {TextArray(terms)}));
  PQclear(Pg(conn, "INSERT INTO keys SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
             {TextArray(keys), TextArray(key_terms)}));
  PQclear(Pg(conn, "CREATE INDEX vocab_trgm ON vocab USING gin (term gin_trgm_ops)"));
  PQclear(Pg(conn, "ANALYZE"));
  Result rt, rk;
  for (int q = 0; q < queries; ++q) {
    const Pair& p = vocab[static_cast<size_t>(q) * vocab.size() / static_cast<size_t>(queries)];
    Clock::time_point a = Clock::now();
    PGresult* r = Pg(conn,
                     "SELECT term FROM vocab WHERE term % $1 AND levenshtein_less_equal(term, $1, 2) <= 2 "
                     "ORDER BY similarity(term, $1) DESC LIMIT 50",
                     {p.truth});
    bool found = false;
    for (int i = 0; i < PQntuples(r); ++i) found |= PQgetvalue(r, i, 0) == p.misread && Within(p.truth, p.misread);
    rt.candidates += PQntuples(r);
    PQclear(r);
    rt.ms.push_back(Ms(Clock::now() - a));
    ++rt.n;
    rt.found += found;
    a = Clock::now();
    r = Pg(conn, "SELECT DISTINCT term FROM keys WHERE key = ANY($1::text[])", {TextArray(QueryFuzzyKeys(p.truth))});
    found = false;
    for (int i = 0; i < PQntuples(r); ++i) {
      const std::string t = PQgetvalue(r, i, 0);
      found |= t == p.misread && Within(p.truth, t);
    }
    rk.candidates += PQntuples(r);
    PQclear(r);
    rk.ms.push_back(Ms(Clock::now() - a));
    ++rk.n;
    rk.found += found;
  }
  PGresult* sz = Pg(conn, "SELECT pg_total_relation_size('vocab'), pg_total_relation_size('keys')");
  std::printf("\nPostgreSQL, %zu terms: vocab + trigram index %.1f MB, keys %.1f MB\n\n"
              "| approach | misreading found | candidates read | p50 ms | p95 ms |\n|---|---|---|---|---|\n",
              terms.size(), std::atof(PQgetvalue(sz, 0, 0)) / 1e6, std::atof(PQgetvalue(sz, 0, 1)) / 1e6);
  PQclear(sz);
  rt.Print("pg_trgm % (0.3) + levenshtein_less_equal, best 50");
  rk.Print("Acervo keys (skeleton + deletions)");
  PQfinish(conn);
}

}  // namespace

int main(int argc, char** argv) {
  int words = 200000, queries = 500;
  std::string backend = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--words")) words = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--queries")) queries = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--backend")) backend = argv[i + 1];
  }
  const std::vector<Pair> vocab = MakeVocabulary(words);
  std::printf("# Fuzzy lookup in a vocabulary of %d true words + one misreading each, %d queries\n", words, queries);
  if (backend != "postgres") RunSqlite(vocab, queries);
  if (backend != "sqlite") RunPostgres(vocab, queries);
  return 0;
}
