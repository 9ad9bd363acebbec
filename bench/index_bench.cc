// Index benchmarks: ingest speed and query latency of the SQLite store on
// synthetic Portuguese pages.
//
//   ACERVO_BENCH_PAGES   pages in the query corpus (default 20000)
//   ACERVO_BENCH_DIR     where the stores are created (default: temp dir)
//
// Ingest: documents of 10 pages (~250 words each), one PutDocument (one
// transaction) each, with durable (synchronous=FULL) and fast
// (synchronous=NORMAL) settings; items/s is pages/s.
// Query: a store of ACERVO_BENCH_PAGES pages is built once, then single
// words (common and rare), a phrase, a prefix, field-filtered queries and a
// filter-only listing are timed, each asking for the top 20.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "acervo/indexer/sqlite_store.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;

constexpr int kPagesPerDocument = 10;
constexpr int kWordsPerPage = 250;

const std::vector<std::string>& Words() {
  // Ordered roughly by frequency: the sampler below favours the front.
  static const std::vector<std::string> words = {
      "de", "a", "o", "que", "e", "do", "da", "em", "para", "com", "no", "na", "por", "os",
      "as", "se", "ao", "dos", "das", "pelo", "pela", "nos", "um", "uma", "requerente",
      "processo", "certidão", "documento", "registro", "civil", "cartório", "ofício",
      "senhor", "senhora", "nascimento", "casamento", "óbito", "averbação", "livro", "folha",
      "termo", "comarca", "juízo", "município", "estado", "São", "Paulo", "Rio", "Janeiro",
      "Minas", "Gerais", "escrivão", "tabelião", "oficial", "declarante", "testemunha",
      "filiação", "pai", "mãe", "avós", "paternos", "maternos", "natural", "residente",
      "domiciliado", "profissão", "lavrador", "comerciante", "funcionário", "público",
      "solteiro", "casado", "viúvo", "divorciado", "brasileiro", "portuguesa", "italiano",
      "nacionalidade", "requerimento", "deferido", "indeferido", "arquive-se", "publique-se",
      "cumpra-se", "despacho", "sentença", "acórdão", "recurso", "apelação", "inventário",
      "herdeiros", "espólio", "imóvel", "matrícula", "escritura", "compra", "venda",
      "hipoteca", "procuração", "outorgante", "outorgado", "poderes", "especiais", "foro",
      "eleito", "testamento", "legado", "usufruto", "doação", "alvará", "judicial",
      "certifico", "dou", "fé", "verdade", "assino", "presente", "aos", "dias", "mês",
      "ano", "mil", "novecentos", "oitenta", "cinco", "janeiro", "fevereiro", "março",
      "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro",
      "dezembro", "Conceição", "Silva", "Souza", "Oliveira", "Pereira", "Ferreira",
      "Araújo", "Gonçalves", "Magalhães", "Estêvão", "Inês", "João", "José", "Antônio",
      "Maria", "Luíza", "Sebastião", "Benedito", "Aparecida", "Íris", "Zuleica",
  };
  return words;
}

std::string MakePage(std::mt19937& rng) {
  const std::vector<std::string>& words = Words();
  // Zipf-like: the index of a word is the square of a uniform draw.
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::string text;
  for (int i = 0; i < kWordsPerPage; ++i) {
    const size_t k = static_cast<size_t>(u(rng) * u(rng) * static_cast<double>(words.size()));
    if (!text.empty()) text += (i % 12 == 0) ? ".\n" : " ";
    text += words[std::min(k, words.size() - 1)];
  }
  return text;
}

DocumentRecord MakeDocument(const std::string& lot, int n, std::mt19937& rng) {
  static const char* kTypes[] = {"certidao", "oficio", "requerimento", "escritura"};
  DocumentRecord d;
  d.lot_id = lot;
  d.document_id = "doc-" + std::to_string(n);
  d.document_type = kTypes[n % 4];
  d.title = d.document_type + " " + std::to_string(n);
  d.pdf_path = lot + "/" + d.document_id + ".pdf";
  d.pdf_sha256 = std::string(64, '0');
  d.page_count = kPagesPerDocument;
  char date[16];
  std::snprintf(date, sizeof(date), "%02d/%02d/%04d", 1 + n % 28, 1 + n % 12, 1950 + n % 70);
  d.fields = {{"processo", std::to_string(100000 + n)}, {"data", date},
              {"interessado", Words()[130 + n % 25]}};
  for (int p = 1; p <= kPagesPerDocument; ++p) {
    PageRecord page;
    page.number = p;
    page.pdf_page = p;
    page.text = MakePage(rng);
    page.stages = R"([{"name":"ocr","version":1,"ms":900}])";
    d.pages.push_back(std::move(page));
  }
  return d;
}

fs::path BenchDir() {
  const char* env = std::getenv("ACERVO_BENCH_DIR");
  fs::path base = env != nullptr ? fs::path(env) : fs::temp_directory_path();
  return base / ("acervo-index-bench-" + std::to_string(::getpid()));
}

int CorpusPages() {
  const char* env = std::getenv("ACERVO_BENCH_PAGES");
  const int pages = env != nullptr ? std::atoi(env) : 20000;
  return std::max(pages, kPagesPerDocument);
}

std::unique_ptr<Store> OpenFresh(const fs::path& path, bool durable) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-audit", "-audit-wal", "-audit-shm"}) {
    fs::remove(path.string() + suffix, ec);  // -audit: the audit trail's file (schema v13)
  }
  SqliteOptions options;
  options.durable = durable;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path, options);
  if (!store.ok()) return nullptr;
  LotRecord lot;
  lot.id = "bench";
  if (!(*store)->UpsertLot(lot).ok()) return nullptr;
  return std::move(store).value();
}

void BM_Ingest(benchmark::State& state) {
  const bool durable = state.range(0) != 0;
  std::unique_ptr<Store> store =
      OpenFresh(BenchDir() / (durable ? "ingest-durable.db" : "ingest-fast.db"), durable);
  if (store == nullptr) {
    state.SkipWithError("cannot open store");
    return;
  }
  std::mt19937 rng(1);
  // Pre-generate so that text synthesis is not timed.
  std::vector<DocumentRecord> docs;
  for (int i = 0; i < 64; ++i) docs.push_back(MakeDocument("bench", i, rng));
  int n = 0;
  for (auto _ : state) {
    DocumentRecord& d = docs[static_cast<size_t>(n) % docs.size()];
    d.document_id = "doc-" + std::to_string(n++);  // always a new document
    if (!store->PutDocument(d).ok()) {
      state.SkipWithError("PutDocument failed");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(n) * kPagesPerDocument);
  state.SetLabel(durable ? "pages/s, synchronous=FULL" : "pages/s, synchronous=NORMAL");
}
BENCHMARK(BM_Ingest)->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);

// The query corpus, built on first use and shared by the query benchmarks.
Store* QueryStore() {
  static std::unique_ptr<Store> store = [] {
    std::unique_ptr<Store> s = OpenFresh(BenchDir() / "query.db", /*durable=*/false);
    if (s == nullptr) return s;
    std::mt19937 rng(2);
    const int docs = CorpusPages() / kPagesPerDocument;
    for (int i = 0; i < docs; ++i) {
      if (!s->PutDocument(MakeDocument("bench", i, rng)).ok()) return std::unique_ptr<Store>();
    }
    return s;
  }();
  return store.get();
}

void BM_Query(benchmark::State& state, const char* query, bool with_field_filter) {
  Store* store = QueryStore();
  if (store == nullptr) {
    state.SkipWithError("cannot build the query corpus");
    return;
  }
  SearchRequest r;
  r.query = query;
  if (with_field_filter) r.fields = {{"interessado", "conceicao"}};
  size_t hits = 0;
  for (auto _ : state) {
    Result<std::vector<SearchHit>> result = store->Search(r);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    hits = result->size();
    benchmark::DoNotOptimize(hits);
  }
  state.counters["hits"] = static_cast<double>(hits);
  state.counters["corpus_pages"] = CorpusPages();
}

BENCHMARK_CAPTURE(BM_Query, common_word, "certidão", false)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Query, rare_word, "zuleica", false)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Query, two_words, "certidao averbacao", false)
    ->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Query, phrase, "\"registro civil\"", false)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Query, prefix, "averb*", false)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Query, word_type_date, "certidao type:oficio data:1960-01-01..1969-12-31",
                  false)
    ->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Query, word_field_filter, "certidão", true)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Query, filter_only, "processo:100123", false)
    ->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace acervo

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(acervo::BenchDir(), ec);
  return 0;
}
