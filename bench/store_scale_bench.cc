// store_scale_bench: builds a synthetic index of N pages (default 1,000,000;
// ~2,000 characters each of Portuguese vocabulary with accents, documents of
// 10 pages with 10 index fields) in the SQLite and/or PostgreSQL store, and
// prints the ingest rate and p50/p95 latency of one-word, two-word, phrase,
// prefix and metadata-filtered queries (top 20, as `acervo search`).
//
//   store_scale_bench [--pages N] [--backend sqlite|postgres|both]
//                     [--queries Q] [--dir DIR] [--keep] [--reuse]
//   --keep: leave the SQLite database in DIR at the end (default: deleted).
//   --reuse: when DIR already holds a database with pages (a --keep run),
//   skip the ingest and only time the queries (re-timing without the
//   minutes of a 1M-page build).
//   ACERVO_BENCH_PG=<libpq conninfo>: use that database instead of starting
//   a throwaway PostgreSQL server (initdb in a temp folder, as for the tests).
//
// Goals (issue 6): ingest >= 5,000 pages/s on SQLite; p95 <= 50 ms.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "acervo/indexer/postgres_store.h"
#include "acervo/indexer/sqlite_store.h"

#include <sqlite3.h>
#include "postgres_test_server.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kPagesPerDoc = 10;
constexpr int kCharsPerPage = 2000;

// Function words first (most frequent), then the vocabulary of registry and
// court records, then names: a Zipf draw favours the front.
const std::vector<std::string>& Vocabulary() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> w = {
        "de", "a", "o", "que", "e", "do", "da", "em", "para", "com", "no", "na", "por", "os", "as", "se", "ao",
        "dos", "das", "pelo", "pela", "nos", "um", "uma", "requerente", "processo", "certidão", "documento",
        "registro", "civil", "cartório", "ofício", "senhor", "senhora", "nascimento", "casamento", "óbito",
        "averbação", "livro", "folha", "termo", "comarca", "juízo", "município", "estado", "escrivão", "tabelião",
        "oficial", "declarante", "testemunha", "filiação", "pai", "mãe", "avós", "paternos", "maternos", "natural",
        "residente", "domiciliado", "profissão", "lavrador", "comerciante", "funcionário", "público", "solteiro",
        "casado", "viúvo", "divorciado", "brasileiro", "portuguesa", "italiano", "nacionalidade", "requerimento",
        "deferido", "indeferido", "arquive-se", "publique-se", "cumpra-se", "despacho", "sentença", "acórdão",
        "recurso", "apelação", "inventário", "herdeiros", "espólio", "imóvel", "matrícula", "escritura", "compra",
        "venda", "hipoteca", "procuração", "outorgante", "outorgado", "poderes", "especiais", "foro", "eleito",
        "testamento", "legado", "usufruto", "doação", "alvará", "judicial", "certifico", "dou", "fé", "verdade",
        "assino", "presente", "aos", "dias", "mês", "ano", "mil", "novecentos", "oitenta", "cinco", "janeiro",
        "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro",
        "dezembro", "execução", "penhora", "citação", "intimação", "audiência", "conciliação", "petição",
        "contestação", "réplica", "perícia", "laudo", "embargos", "agravo", "mandado", "segurança", "liminar",
        "tutela", "antecipada", "cautelar", "honorários", "custas", "emolumentos", "selo", "protocolo", "guia",
        "recolhimento", "tributo", "imposto", "transmissão", "avaliação", "partilha", "meação", "cônjuge",
        "sobrevivente", "órfão", "tutor", "curador", "interdição", "emancipação", "adoção", "guarda", "alimentos",
        "pensão", "benefício", "previdência", "aposentadoria", "servidor", "exoneração", "nomeação", "portaria",
        "decreto", "lei", "artigo", "parágrafo", "inciso", "alínea", "código", "regimento", "estatuto",
        "Conceição", "Silva", "Souza", "Oliveira", "Pereira", "Ferreira", "Araújo", "Gonçalves", "Magalhães",
        "Estêvão", "Inês", "João", "José", "Antônio", "Maria", "Luíza", "Sebastião", "Benedito", "Aparecida",
        "Íris", "Zuleica", "Conceição", "Brandão", "Falcão", "Simões", "Guimarães", "Assunção", "Ribeirão",
        "Jundiaí", "Taubaté", "Itajubá", "Piracicaba", "Sorocaba", "Maringá", "Londrina", "Uberlândia"};
    // Rarer words: syllable compounds give a long tail, like real OCR text.
    const char* syl[] = {"ba", "ção", "de", "mé", "ri", "to", "lú", "ca", "nhe", "pó", "sa", "vã", "zi", "gu", "tê"};
    for (int i = 0; i < 3000; ++i) {
      std::string s;
      for (int k = 0, n = 2 + i % 3; k < n; ++k) s += syl[(i * 7 + k * 13 + k * i) % 15];
      w.push_back(s);
    }
    return w;
  }();
  return v;
}

struct Gen {
  std::mt19937_64 rng;
  std::uniform_real_distribution<double> u{0.0, 1.0};
  explicit Gen(uint64_t seed) : rng(seed) {}
  const std::string& Word() {
    const auto& v = Vocabulary();
    const double x = u(rng);
    return v[std::min(v.size() - 1, static_cast<size_t>(x * x * x * static_cast<double>(v.size())))];
  }
  std::string Page() {
    std::string t;
    t.reserve(kCharsPerPage + 64);
    int words = 0;
    while (t.size() < kCharsPerPage) {
      if (!t.empty()) t += (++words % 14 == 0) ? ".\n" : " ";
      // Fixed phrases of the genre, so phrase queries have something to find.
      if (u(rng) < 0.0005) t += "registro civil das pessoas naturais";
      else t += Word();
    }
    return t;
  }
};

const char* kCities[] = {"São Paulo", "Ribeirão Preto", "Jundiaí", "Taubaté", "Piracicaba", "Sorocaba",
                         "Maringá", "Londrina", "Uberlândia", "Itajubá"};
const char* kTypes[] = {"certidao", "oficio", "requerimento", "escritura", "processo"};

DocumentRecord MakeDoc(int n, Gen& g) {
  DocumentRecord d;
  d.lot_id = "lot-" + std::to_string(n / 1000);
  d.document_id = "doc-" + std::to_string(n);
  d.document_type = kTypes[n % 5];
  d.title = d.document_type + " " + std::to_string(n);
  d.pdf_path = "/archive/" + d.lot_id + "/" + d.document_id + ".pdf";
  d.pdf_sha256 = std::string(64, '0');
  d.page_count = kPagesPerDoc;
  char date[16];
  std::snprintf(date, sizeof(date), "%04d-%02d-%02d", 1950 + n % 70, 1 + n % 12, 1 + n % 28);
  d.fields = {{"processo", std::to_string(1000000 + n), "manifest.csv"},
              {"data", date, "manifest.csv"},
              {"nome", g.Word() + " " + g.Word(), "manifest.csv"},
              {"cpf", std::to_string(10000000000LL + n * 7919LL), "manifest.csv"},
              {"cidade", kCities[n % 10], "manifest.csv"},
              {"livro", std::to_string(1 + n % 300), "manifest.csv"},
              {"folha", std::to_string(1 + n % 200), "manifest.csv"},
              {"valor", std::to_string(n % 10000) + ",50", "manifest.csv"},
              {"cartorio", std::to_string(1 + n % 40) + "º Ofício", "manifest.csv"},
              {"caixa", "CX-" + std::to_string(n / 500), "manifest.csv"}};
  for (int p = 1; p <= kPagesPerDoc; ++p) {
    PageRecord r;
    r.number = p;
    r.pdf_page = p;
    r.text = g.Page();
    d.pages.push_back(std::move(r));
  }
  return d;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// CPU time of this thread (user + system), in ms: on a shared machine it
// moves far less than wall time with the other processes' load. (The
// PostgreSQL server's work is in another process and not counted.)
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct QueryKind {
  const char* name;
  std::vector<SearchRequest> requests;
};

std::vector<QueryKind> Queries(int per_kind, int docs) {
  Gen g(99);
  // The first eight kinds are exact searches (SearchRequest::forgiving
  // off: as before issue 15); the last four forgiving ones (the default of
  // `acervo search`): inflections always, misreadings for rare words.
  std::vector<QueryKind> kinds = {{"one word (common)", {}}, {"one word (rare)", {}}, {"two words", {}},
                                  {"phrase", {}},            {"prefix", {}},          {"word + field filter", {}},
                                  {"word + date range", {}}, {"filter only", {}},
                                  {"~ common word", {}},     {"~ rare word", {}},     {"~ misread rare word", {}},
                                  {"~ misread + common", {}}};
  const auto& v = Vocabulary();
  std::mt19937 r(5);
  for (int i = 0; i < per_kind; ++i) {
    SearchRequest q;
    q.query = v[24 + r() % 60];  // domain words, frequent
    kinds[0].requests.push_back(q);
    q.query = v[300 + r() % 2500];
    kinds[1].requests.push_back(q);
    q.query = v[24 + r() % 60] + " " + v[60 + r() % 150];
    kinds[2].requests.push_back(q);
    const char* phrases[] = {"\"registro civil\"", "\"pessoas naturais\"", "\"civil das pessoas\""};
    q.query = phrases[i % 3];
    kinds[3].requests.push_back(q);
    std::string w = v[24 + r() % 150];
    // The first four letters (code points, not bytes: "meação" -> "meaç").
    size_t cut = 0;
    for (int letters = 0; cut < w.size() && letters < 4; ++letters) {
      ++cut;
      while (cut < w.size() && (static_cast<unsigned char>(w[cut]) & 0xC0) == 0x80) ++cut;
    }
    q.query = w.substr(0, cut) + "*";
    kinds[4].requests.push_back(q);
    q.query = v[24 + r() % 60];
    q.fields = {{"processo", std::to_string(1000000 + static_cast<int>(r() % docs))}};
    kinds[5].requests.push_back(q);
    q.fields.clear();
    const int year = 1950 + static_cast<int>(r() % 70);
    q.query = v[24 + r() % 60] + " data:" + std::to_string(year) + "-01-01.." + std::to_string(year) + "-12-31";
    kinds[6].requests.push_back(q);
    q.query = "cidade:\"" + std::string(kCities[r() % 10]) + "\" type:" + kTypes[r() % 5];
    kinds[7].requests.push_back(q);
    // Forgiving: a rare word read with one confusable or other character
    // changed (absent from the index, so every matcher runs).
    SearchRequest f;
    f.forgiving = true;
    f.query = v[24 + r() % 60];
    kinds[8].requests.push_back(f);
    f.query = v[300 + r() % 2500];
    kinds[9].requests.push_back(f);
    std::string misread = v[300 + r() % 2500];
    const size_t at = misread.find_first_of("oiel");
    if (at != std::string::npos) {
      misread[at] = misread[at] == 'o' ? '0' : misread[at] == 'i' ? 'l' : misread[at] == 'e' ? 'c' : '1';
    } else {
      // The whole character in the middle becomes 'x' (overwriting one byte
      // of "ção" would leave invalid UTF-8, which the server refuses).
      size_t mid = misread.size() / 2, len = 1;
      while (mid > 0 && (static_cast<unsigned char>(misread[mid]) & 0xC0) == 0x80) --mid;
      while (mid + len < misread.size() && (static_cast<unsigned char>(misread[mid + len]) & 0xC0) == 0x80) ++len;
      misread.replace(mid, len, "x");
    }
    f.query = misread;
    kinds[10].requests.push_back(f);
    f.query = misread + " " + v[24 + r() % 60];
    kinds[11].requests.push_back(f);
  }
  for (size_t k = 0; k < 8; ++k) {
    for (SearchRequest& q : kinds[k].requests) q.forgiving = false;
  }
  (void)g;
  return kinds;
}

int RunQueries(Store& store, int docs, int per_kind);

int RunBackend(const std::string& name, Store& store, int pages, int per_kind, bool reuse) {
  int docs = pages / kPagesPerDoc;
  if (reuse) {
    Result<StoreStats> st = store.Stats();
    if (st.ok() && st->pages > 0) {
      docs = static_cast<int>(st->documents);
      std::printf("\n== %s: reusing %lld pages (%d documents), no ingest ==\n", name.c_str(),
                  static_cast<long long>(st->pages), docs);
      return RunQueries(store, docs, per_kind);
    }
  }
  std::printf("\n== %s: %d pages (%d documents) ==\n", name.c_str(), docs * kPagesPerDoc, docs);
  for (int l = 0; l <= (docs - 1) / 1000; ++l) {
    LotRecord lot;
    lot.id = "lot-" + std::to_string(l);
    if (!store.UpsertLot(lot).ok()) return 1;
  }
  Gen g(42);
  // First one transaction per document, as `acervo run` stores them; then
  // bulk import, kBatch documents per transaction (PutDocuments).
  constexpr int kSingle = 1000, kBatch = 100;
  Clock::duration single{}, bulk{};
  double single_cpu = 0, bulk_cpu = 0;
  int n = 0;
  for (; n < std::min(docs, kSingle); ++n) {
    DocumentRecord d = MakeDoc(n, g);
    const Clock::time_point a = Clock::now();
    const double c = ThreadCpuMs();
    Status s = store.PutDocument(d);
    single_cpu += ThreadCpuMs() - c;
    single += Clock::now() - a;
    if (!s.ok()) {
      std::fprintf(stderr, "PutDocument: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const int single_docs = n;
  while (n < docs) {
    std::vector<DocumentRecord> batch;
    for (int k = 0; k < kBatch && n < docs; ++k, ++n) batch.push_back(MakeDoc(n, g));
    const Clock::time_point a = Clock::now();
    const double c = ThreadCpuMs();
    Status s = store.PutDocuments(batch);
    bulk_cpu += ThreadCpuMs() - c;
    bulk += Clock::now() - a;
    if (!s.ok()) {
      std::fprintf(stderr, "PutDocuments: %s\n", s.ToString().c_str());
      return 1;
    }
    if (n % 10000 == 0) {
      std::fprintf(stderr, "  %d pages, bulk %.0f pages/s\n", n * kPagesPerDoc,
                   (n - single_docs) * kPagesPerDoc / (Ms(bulk) / 1000));
    }
  }
  std::printf("ingest, one transaction per document (first %d pages): %.0f pages/s wall, %.0f per CPU second\n",
              single_docs * kPagesPerDoc, single_docs * kPagesPerDoc / (Ms(single) / 1000),
              single_docs * kPagesPerDoc / (single_cpu / 1000));
  if (n > single_docs) {
    const double p = (n - single_docs) * kPagesPerDoc;
    std::printf("ingest, bulk (%d documents per transaction, %.0f pages): %.0f pages/s wall, %.0f per CPU second; "
                "goal >= 5000 pages/s\n",
                kBatch, p, p / (Ms(bulk) / 1000), p / (bulk_cpu / 1000));
  }
  return RunQueries(store, docs, per_kind);
}

// The file and what each of its tables and indexes takes (SQLite's dbstat
// table), for the index growth of issue 15 (term_keys is the forgiving
// vocabulary's keys).
void PrintSqliteSizes(const fs::path& db_path) {
  std::error_code ec;
  const auto size = fs::file_size(db_path, ec);
  std::printf("SQLite file: %.1f MB\n", ec ? -1.0 : static_cast<double>(size) / 1e6);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 14", -1, &st,
                         nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::printf("  %-28s %9.1f MB\n", reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                  static_cast<double>(sqlite3_column_int64(st, 1)) / 1e6);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

int RunQueries(Store& store, int docs, int per_kind) {
  std::printf("%-22s %8s %8s %8s %8s %8s %8s\n", "query (top 20)", "p50 ms", "p95 ms", "max ms", "cpu p50",
              "cpu p95", "hits");
  for (const QueryKind& k : Queries(per_kind, docs)) {
    std::vector<double> ms, cpu;
    size_t hits = 0;
    for (const SearchRequest& r : k.requests) {
      const Clock::time_point a = Clock::now();
      const double c = ThreadCpuMs();
      Result<std::vector<SearchHit>> h = store.Search(r);
      cpu.push_back(ThreadCpuMs() - c);
      ms.push_back(Ms(Clock::now() - a));
      if (!h.ok()) {
        std::fprintf(stderr, "search '%s': %s\n", r.query.c_str(), h.status().ToString().c_str());
        return 1;
      }
      hits += h->size();
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    auto pct = [](const std::vector<double>& v, double p) {
      return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
    };
    std::printf("%-22s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n", k.name, pct(ms, 0.5), pct(ms, 0.95), ms.back(),
                pct(cpu, 0.5), pct(cpu, 0.95), static_cast<double>(hits) / static_cast<double>(ms.size()));
  }
  std::fflush(stdout);
  return 0;
}

// The same query mix as API requests (one URL a line, the kinds in turn),
// for the HTTP benchmark of `acervo serve` (bench/web_bench.sh, issue 13).
int PrintUrls(const std::string& file, int docs, int per_kind) {
  std::FILE* f = std::fopen(file.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "cannot write %s\n", file.c_str());
    return 1;
  }
  auto enc = [](const std::string& v) {
    std::string out;
    for (unsigned char c : v) {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(buf);
    }
    return out;
  };
  const std::vector<QueryKind> kinds = Queries(per_kind, docs);
  for (int i = 0; i < per_kind; ++i) {
    for (const QueryKind& k : kinds) {
      const SearchRequest& r = k.requests[static_cast<size_t>(i)];
      std::string url = "/api/v1/search?limit=" + std::to_string(r.limit) + "&q=" + enc(r.query);
      for (const auto& [name, value] : r.fields) url += "&field=" + enc(name + "=" + value);
      std::fprintf(f, "%s\n", url.c_str());
    }
  }
  std::fclose(f);
  return 0;
}

}  // namespace
}  // namespace acervo

int main(int argc, char** argv) {
  using namespace acervo;
  int pages = 1000000, per_kind = 40;
  bool keep = false, reuse = false;
  std::string backend = "both";
  std::string urls_file;  // --print-urls: the query mix as /api/v1/search URLs (bench/web_bench.sh)
  fs::path dir = fs::temp_directory_path() / ("acervo-scale-bench-" + std::to_string(::getpid()));
  for (int i = 1; i < argc; i += 2) {
    if (!std::strcmp(argv[i], "--keep")) {
      keep = true;
      --i;
    } else if (!std::strcmp(argv[i], "--reuse")) {
      reuse = true;
      --i;
    } else if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", argv[i]);
      return 2;
    } else if (!std::strcmp(argv[i], "--pages")) pages = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--backend")) backend = argv[i + 1];
    else if (!std::strcmp(argv[i], "--queries")) per_kind = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--print-urls")) urls_file = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--pages N] [--backend sqlite|postgres|both] [--queries Q] [--dir DIR] [--keep] [--reuse] "
                           "[--print-urls FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  pages = std::max(pages, 100);
  if (!urls_file.empty()) return PrintUrls(urls_file, pages / kPagesPerDoc, per_kind);
  int rc = 0;
  if (backend == "sqlite" || backend == "both") {
    std::error_code ec;
    fs::create_directories(dir, ec);
    SqliteOptions o;
    o.durable = false;  // NORMAL: one fsync per checkpoint, as a bulk import would use
    Result<std::unique_ptr<Store>> s = OpenSqliteStore(dir / "index.db", o);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      return 1;
    }
    rc |= RunBackend("SQLite (synchronous=NORMAL)", **s, pages, per_kind, reuse);
    s->reset();
    PrintSqliteSizes(dir / "index.db");
    if (!keep) fs::remove_all(dir, ec);
  }
  if (backend == "postgres" || backend == "both") {
    PostgresTestServer server;
    std::string conninfo = std::getenv("ACERVO_BENCH_PG") ? std::getenv("ACERVO_BENCH_PG") : "";
    if (conninfo.empty()) {
      Status st = server.Start();
      Result<std::string> c = st.ok() ? server.CreateDatabase("bench") : Result<std::string>(st);
      if (!c.ok()) {
        std::fprintf(stderr, "PostgreSQL: %s\n", c.status().ToString().c_str());
        return 1;
      }
      conninfo = *c;
    }
    Result<std::unique_ptr<Store>> s = OpenPostgresStore(conninfo);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      return 1;
    }
    rc |= RunBackend("PostgreSQL 15 (throwaway server: fsync=off)", **s, pages, per_kind,
                     reuse && std::getenv("ACERVO_BENCH_PG") != nullptr);
  }
  return rc;
}
