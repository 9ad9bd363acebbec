// Known-item recall (issue 15): can an archivist find a document by a word
// they know is in it, when OCR misread some words?
//
// Two page sets, in one store per backend:
//  - the real corpus: every page of ../shared/corpus with ground truth,
//    processed by `acervo run` (real OCR text; cached with --ocr-cache);
//  - generated pages: Portuguese administrative text with identifiers (CPF,
//    CNPJ, process numbers), misread by the generator's OCR error model
//    (synth::Misread) with exact ground truth.
// For every page, the words of >= 6 letters that occur on no other page of
// its set's ground truth are searched alone, exact (forgiving off) and
// forgiving; the measure is how often the page's document is in the first
// 10 hits, how often at rank <= 3, the mean rank when found and how many
// hits a search returns (the precision cost). Forgiving finds are credited
// to the matcher that found them (the kinds of SearchHit::matches), and
// misses are classified. Generated identifiers that were misread are
// searched by their true value.
//
// usage: known_item_bench [--corpus DIR] [--acervo BIN] [--ocr-cache FILE]
//                         [--generated N] [--word-rate R] [--seed S]
//                         [--backend sqlite|postgres|both] [--max-queries N]
//                         [--misses FILE] [--write-texts DIR]
// --corpus may name any folder laid out like the corpus (manifest.tsv,
// images, ground truth beside them as .txt): bench/known_item_rendered.sh
// makes one of generated pages really rendered and OCRed.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "acervo/indexer/postgres_store.h"
#include "acervo/indexer/sqlite_store.h"
#include "acervo/indexer/text_fold.h"
#include "acervo/synth/synth.h"
#include "analyzer.h"
#include "forgiving.h"
#include "postgres_test_server.h"

extern char** environ;

namespace {
namespace fs = std::filesystem;
using namespace acervo;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Page {
  std::string set;    // "corpus" or "generated"
  std::string id;     // document id
  std::string truth;  // ground truth text
  std::string ocr;    // what the store holds
  std::map<std::string, std::string> misread_kind;  // folded true word -> kind (generated pages)
  std::vector<synth::Misreading> identifiers;        // misread identifiers (generated pages)
};

// ---------------------------------------------------------------- corpus --

// Runs `acervo run` on a temporary lot of the corpus's ground-truth pages
// and returns each page's OCR text, by manifest path.
std::map<std::string, std::string> OcrCorpus(const fs::path& corpus, const std::string& acervo,
                                             const std::vector<std::string>& paths) {
  const fs::path tmp = fs::temp_directory_path() / ("acervo-known-item-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  const fs::path lot = tmp / "corpus";
  fs::create_directories(lot);
  std::map<std::string, std::string> id_of;
  for (size_t i = 0; i < paths.size(); ++i) {
    char id[32];
    std::snprintf(id, sizeof(id), "c%02zu", i);
    fs::copy_file(corpus / paths[i], lot / (std::string(id) + fs::path(paths[i]).extension().string()));
    id_of[paths[i]] = id;
  }
  const fs::path out = tmp / "out";
  std::vector<std::string> args = {acervo, "run", lot.string(), "--out", out.string(), "--jobs", "2", "--text", "--quiet"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  std::fprintf(stderr, "OCR of %zu corpus pages with %s ...\n", paths.size(), acervo.c_str());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);  // its report goes to our stderr
  const int spawned = posix_spawn(&pid, acervo.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (spawned != 0) {
    std::fprintf(stderr, "cannot run %s\n", acervo.c_str());
    std::exit(3);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  std::map<std::string, std::string> text;
  for (const auto& [path, id] : id_of) text[path] = Slurp(out / "corpus" / (id + ".txt"));
  fs::remove_all(tmp);
  return text;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\f') out += "\\f";
    else out += c;
  }
  return out;
}

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char n = s[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n == 'f' ? '\f' : n;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<Page> CorpusPages(const fs::path& corpus, const std::string& acervo, const fs::path& cache) {
  std::vector<std::string> paths;
  std::ifstream manifest(corpus / "manifest.tsv");
  std::string line;
  std::getline(manifest, line);
  while (std::getline(manifest, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) cols.push_back(c);
    if (cols.size() > 4 && cols[4] == "yes") paths.push_back(cols[0]);
  }
  std::map<std::string, std::string> ocr;
  if (!cache.empty() && fs::exists(cache)) {
    std::ifstream in(cache);
    while (std::getline(in, line)) {
      const size_t tab = line.find('\t');
      if (tab != std::string::npos) ocr[line.substr(0, tab)] = Unescape(line.substr(tab + 1));
    }
  }
  if (ocr.size() != paths.size()) {
    ocr = OcrCorpus(corpus, acervo, paths);
    if (!cache.empty()) {
      std::ofstream out(cache);
      for (const auto& [p, t] : ocr) out << p << '\t' << Escape(t) << '\n';
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr, "no page with ground truth in %s/manifest.tsv (give --corpus)\n", corpus.c_str());
    std::exit(2);
  }
  std::vector<Page> pages;
  for (const std::string& p : paths) {
    fs::path gt = corpus / p;
    gt.replace_extension(".txt");
    pages.push_back({"corpus", "c-" + fs::path(p).stem().string(), Slurp(gt), ocr[p], {}, {}});
  }
  return pages;
}

// ------------------------------------------------------------- generated --

// Portuguese administrative text: registry vocabulary, names, places,
// pseudo-words for the rare tail, and identifiers with valid check digits.
class TextMaker {
 public:
  explicit TextMaker(uint64_t seed) : rng_(seed) {
    const char* syl[] = {"ba", "be", "bi", "bo", "ca", "ce", "co", "da", "de", "di", "do", "fa", "fe", "ga", "go",
                         "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "no", "pa", "pe", "pi", "po",
                         "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti", "to", "va", "ve", "vi",
                         "lha", "nha", "ção", "ões", "tro", "pre", "gra", "cla", "ten", "man", "res", "tal"};
    for (int i = 0; i < 20000; ++i) {
      std::string w;
      const int n = 2 + static_cast<int>(Pick(3));
      for (int k = 0; k < n; ++k) w += syl[Pick(std::size(syl))];
      tail_.push_back(w);
    }
  }

  std::string Page() {
    static const char* kCommon[] = {
        "de", "a", "o", "que", "e", "do", "da", "em", "um", "para", "com", "não", "uma", "os", "no", "se", "na",
        "por", "mais", "as", "dos", "como", "ao", "das", "à", "seu", "sua", "ou", "pelo", "pela", "este", "esta"};
    static const char* kRegistry[] = {
        "certidão", "nascimento", "casamento", "óbito", "registro", "cartório", "processo", "requerimento",
        "interessado", "documento", "declaração", "comprovante", "residência", "endereço", "município",
        "prefeitura", "secretaria", "ofício", "despacho", "protocolo", "matrícula", "averbação", "escritura",
        "procuração", "testemunha", "requerente", "outorgante", "livro", "folha", "termo", "vara", "comarca",
        "juízo", "sentença", "audiência", "pagamento", "contrato", "prestação", "serviços", "imóvel", "lote",
        "quadra", "loteamento", "pavimentação", "licitação", "empenho", "autorização", "arquivamento",
        "certifico", "declaro", "requer", "solicita", "encaminho", "conforme", "presente", "referente",
        "mediante", "apresentação", "original", "cópia", "autenticada", "assinatura", "reconhecida"};
    static const char* kNames[] = {"Joaquim", "Maria", "Antônio", "Helena", "Sebastião", "Luiz", "Beatriz",
                                   "Aparecida", "Raimundo", "Conceição", "Francisco", "Tereza", "Benedito",
                                   "Rosângela", "Edvaldo", "Marlene", "Gilberto", "Jucélia", "Waldemar"};
    static const char* kSurnames[] = {"Ribeiro", "Teixeira", "Nogueira", "Mendes", "Ferreira", "Gomes",
                                      "Conceição", "Prado", "Lima", "Santos", "Oliveira", "Carvalho",
                                      "Albuquerque", "Figueiredo", "Magalhães", "Vasconcelos", "Guimarães",
                                      "Bittencourt", "Cavalcanti", "Damasceno", "Evangelista", "Fagundes"};
    std::string text;
    const int sentences = 12 + static_cast<int>(Pick(8));
    for (int s = 0; s < sentences; ++s) {
      const int words = 8 + static_cast<int>(Pick(10));
      std::string sentence;
      for (int w = 0; w < words; ++w) {
        const double r = U();
        std::string word;
        if (r < 0.45) word = kCommon[Pick(std::size(kCommon))];
        else if (r < 0.75) word = kRegistry[Pick(std::size(kRegistry))];
        else if (r < 0.80) word = std::string(kNames[Pick(std::size(kNames))]) + " " + kSurnames[Pick(std::size(kSurnames))];
        else word = tail_[Zipf(tail_.size())];
        if (w == 0) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
        sentence += (w ? " " : "") + word;
      }
      if (U() < 0.25) sentence += ", CPF " + Cpf();
      else if (U() < 0.1) sentence += ", CNPJ " + Cnpj();
      else if (U() < 0.15) sentence += ", processo " + Cnj();
      text += sentence + ". ";
      if (U() < 0.3) text += "\n";
    }
    return text;
  }

 private:
  double U() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  // Zipf-like: index i with weight ~ 1/(i+1).
  size_t Zipf(size_t n) {
    const double x = std::pow(static_cast<double>(n), U());
    return std::min(n - 1, static_cast<size_t>(x) - 1 + (x < 1 ? 1 : 0));
  }
  std::string Digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('0' + Pick(10));
    return s;
  }
  static char Check(const std::string& d, int first_weight) {
    int sum = 0, w = first_weight;
    for (char c : d) sum += (c - '0') * w--;
    const int r = (sum * 10) % 11;
    return static_cast<char>('0' + (r == 10 ? 0 : r));
  }
  std::string Cpf() {
    std::string d = Digits(9);
    d += Check(d, 10);
    d += Check(d, 11);
    return d.substr(0, 3) + "." + d.substr(3, 3) + "." + d.substr(6, 3) + "-" + d.substr(9, 2);
  }
  std::string Cnpj() {
    std::string d = Digits(8) + "0001";
    d += Digits(2);  // check digits are not checked by search: any two
    return d.substr(0, 2) + "." + d.substr(2, 3) + "." + d.substr(5, 3) + "/" + d.substr(8, 4) + "-" + d.substr(12, 2);
  }
  std::string Cnj() {
    return Digits(7) + "-" + Digits(2) + "." + std::to_string(2000 + Pick(25)) + ".8.26." + Digits(4);
  }

  std::mt19937_64 rng_;
  std::vector<std::string> tail_;
};

std::vector<Page> GeneratedPages(int n, double word_rate, uint64_t seed) {
  TextMaker maker(seed);
  std::vector<Page> pages;
  for (int i = 0; i < n; ++i) {
    Page p;
    p.set = "generated";
    char id[32];
    std::snprintf(id, sizeof(id), "g%05d", i);
    p.id = id;
    p.truth = maker.Page();
    synth::MisreadSpec spec;
    spec.word_rate = word_rate;
    spec.identifier_rate = 0.5;
    spec.seed = seed * 1000003 + static_cast<uint64_t>(i);
    synth::MisreadText m = synth::Misread(p.truth, spec);
    p.ocr = m.text;
    for (const synth::Misreading& r : m.misreadings) {
      if (r.kind == "identifier") {
        p.identifiers.push_back(r);
      } else {
        p.misread_kind[FoldText(r.truth)] = r.kind;
      }
    }
    pages.push_back(std::move(p));
  }
  return pages;
}

// ------------------------------------------------------------ evaluation --

struct Query {
  size_t page;
  std::string word;  // as written in the truth
};

// Words of >= 6 letters found on exactly one page of the set (folded).
std::vector<Query> KnownItemQueries(const std::vector<Page>& pages, const std::string& set, size_t max_queries) {
  std::unordered_map<std::string, std::set<size_t>> where;
  std::unordered_map<std::string, std::string> written;
  // Unique in the ground truth of every page of the store (both sets), so
  // that a corpus word common in the generated pages is not a known item.
  for (size_t i = 0; i < pages.size(); ++i) {
    std::string word;
    auto flush = [&] {
      if (!word.empty()) {
        const std::string f = FoldText(word);
        bool letters = CountCodePoints(word) >= 6;
        for (char c : f) letters &= !(c >= '0' && c <= '9');
        if (letters && AnalyzeQueryWords(word).size() == 1) {
          where[f].insert(i);
          written.emplace(f, word);
        }
      }
      word.clear();
    };
    const std::string& t = pages[i].truth;
    size_t pos = 0;
    while (pos < t.size()) {
      const size_t at = pos;
      const char32_t cp = DecodeUtf8(t, &pos);
      std::string piece;
      FoldCodePoint(cp, &piece);
      size_t k = 0;
      if (IsTokenCodePoint(DecodeUtf8(piece, &k)) && cp != '~') {
        word.append(t, at, pos - at);
      } else {
        flush();
      }
    }
    flush();
  }
  std::vector<Query> out;
  for (const auto& [f, pages_of] : where) {
    if (pages_of.size() == 1 && pages[*pages_of.begin()].set == set) out.push_back({*pages_of.begin(), written[f]});
  }
  std::sort(out.begin(), out.end(), [](const Query& a, const Query& b) {
    return a.page != b.page ? a.page < b.page : a.word < b.word;
  });
  if (out.size() > max_queries) {  // an even sample, deterministic
    std::vector<Query> sample;
    for (size_t i = 0; i < max_queries; ++i) sample.push_back(out[i * out.size() / max_queries]);
    out = std::move(sample);
  }
  return out;
}

struct Tally {
  int n = 0, top10 = 0, top3 = 0, rank_sum = 0, hits_sum = 0;
  void Add(int rank, int hits) {
    ++n;
    hits_sum += hits;
    if (rank > 0 && rank <= 10) ++top10, rank_sum += rank;
    if (rank > 0 && rank <= 3) ++top3;
  }
  std::string Row() const {
    char buf[200];
    std::snprintf(buf, sizeof(buf), "%d | %.1f%% (%d) | %.1f%% | %.2f | %.2f | %.1f", n, 100.0 * top10 / std::max(n, 1),
                  top10, 100.0 * top3 / std::max(n, 1), top10 ? static_cast<double>(rank_sum) / top10 : 0.0,
                  top10 ? static_cast<double>(rank_sum) / top10 - 1 : 0.0, static_cast<double>(hits_sum) / std::max(n, 1));
    return buf;
  }
};

// The 1-based rank of `id` in the hits, 0 when absent; the hit in *hit.
int RankOf(const std::vector<SearchHit>& hits, const std::string& id, const SearchHit** hit) {
  for (size_t i = 0; i < hits.size(); ++i) {
    if (hits[i].document_id == id) {
      *hit = &hits[i];
      return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

FILE* g_misses = nullptr;  // --misses FILE: every word forgiving search missed, with its closest OCR word

int Evaluate(Store& store, const std::vector<Page>& pages, const std::string& set, size_t max_queries) {
  const std::vector<Query> queries = KnownItemQueries(pages, set, max_queries);
  Tally exact, forgiving;
  std::map<std::string, int> gain;    // matcher -> words found only by forgiving
  int joined = 0;                     // words exact search found only through a joined token
  std::map<std::string, int> missed;  // cause -> words forgiving misses
  std::map<std::string, std::pair<int, int>> by_misreading;  // generated: kind -> (found exact, found forgiving) of n
  std::map<std::string, int> by_misreading_n;
  for (const Query& q : queries) {
    const Page& page = pages[q.page];
    SearchRequest r;
    r.query = q.word;
    r.limit = 10;
    r.forgiving = false;
    Result<std::vector<SearchHit>> e = store.Search(r);
    r.forgiving = true;
    Result<std::vector<SearchHit>> f = store.Search(r);
    if (!e.ok() || !f.ok()) {
      std::fprintf(stderr, "search '%s': %s\n", q.word.c_str(), (!e.ok() ? e : f).status().ToString().c_str());
      return 1;
    }
    const SearchHit* eh = nullptr;
    const SearchHit* fh = nullptr;
    const int er = RankOf(*e, page.id, &eh), fr = RankOf(*f, page.id, &fh);
    exact.Add(er, static_cast<int>(e->size()));
    forgiving.Add(fr, static_cast<int>(f->size()));
    const std::string folded = FoldText(q.word);
    if (set == "generated") {
      auto it = page.misread_kind.find(folded);
      const std::string kind = it == page.misread_kind.end() ? "read right" : it->second;
      ++by_misreading_n[kind];
      by_misreading[kind].first += er > 0;
      by_misreading[kind].second += fr > 0;
    }
    if (er > 0) {
      // Found exactly although the page has no such surface word: through a
      // token the index joined (a word hyphenated across a line end).
      const std::vector<std::string> ocr_words = AnalyzeQueryWords(page.ocr);
      if (std::find(ocr_words.begin(), ocr_words.end(), folded) == ocr_words.end()) ++joined;
    }
    if (fr > 0 && er == 0) {
      std::set<std::string> kinds;
      for (const TermMatch& m : fh->matches) kinds.insert(m.kind);
      std::string k;
      for (const std::string& x : kinds) k += (k.empty() ? "" : "+") + x;
      ++gain[k];
    } else if (fr == 0) {
      const std::vector<std::string> ocr_words = AnalyzeQueryWords(page.ocr);
      std::string cause;
      if (std::find(ocr_words.begin(), ocr_words.end(), folded) != ocr_words.end()) {
        cause = "read right, ranked below 10";
      } else if (fh == nullptr && !f->empty() && f->size() >= 10) {
        cause = "misread, ranked below 10 or not matched";
      } else {
        cause = "misread beyond the matchers";
      }
      ++missed[cause];
      if (g_misses) {
        std::string closest;
        double best = 1e9;
        for (const std::string& w : ocr_words) {
          const double d = OcrDistance(folded, w, 6);
          if (d < best) best = d, closest = w;
        }
        // Where it ranks in the first 100, and what the first hit matched.
        SearchRequest deep = r;
        deep.limit = 100;
        Result<std::vector<SearchHit>> d = store.Search(deep);
        const SearchHit* dh = nullptr;
        const int dr = d.ok() ? RankOf(*d, page.id, &dh) : 0;
        std::string first;
        if (d.ok() && !d->empty()) {
          for (const TermMatch& m : d->front().matches) first += m.matched + "/" + m.kind + " ";
        }
        std::fprintf(g_misses, "%s\t%s\t%s\tclosest %s (%.1f)\t%s\trank %d of %zu\tfirst: %s\n", set.c_str(),
                     page.id.c_str(), q.word.c_str(), closest.c_str(), best, cause.c_str(), dr,
                     d.ok() ? d->size() : 0, first.c_str());
      }
    }
  }
  std::printf("\n### %s pages (%zu queries)\n\n", set.c_str(), queries.size());
  std::printf("| search | words | found in top 10 | rank <= 3 | mean rank (found) | others before it | hits returned |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::printf("| exact | %s |\n", exact.Row().c_str());
  std::printf("| forgiving | %s |\n", forgiving.Row().c_str());
  std::printf("\nFound by exact search only through a word the index joined across a line end: %d\n", joined);
  std::printf("Found only by forgiving search, by the matches that found them:");
  for (const auto& [k, n] : gain) std::printf(" %s %d;", k.c_str(), n);
  std::printf("\nMissed by forgiving search:");
  for (const auto& [k, n] : missed) std::printf(" %s %d;", k.c_str(), n);
  std::printf("\n");
  if (set == "generated") {
    std::printf("\n| how the word was misread | words | found exact | found forgiving |\n|---|---|---|---|\n");
    for (const auto& [k, n] : by_misreading_n) {
      std::printf("| %s | %d | %d | %d |\n", k.c_str(), n, by_misreading[k].first, by_misreading[k].second);
    }
    // Identifiers read with one wrong or confusable character, searched by
    // their true value (digits only, and as written).
    int n = 0, found_digits = 0, found_written = 0, found_exact = 0;
    for (const Page& p : pages) {
      for (const synth::Misreading& m : p.identifiers) {
        ++n;
        std::string digits;
        for (char c : m.truth) {
          if (c >= '0' && c <= '9') digits += c;
        }
        for (int mode = 0; mode < 3; ++mode) {
          SearchRequest r;
          r.query = mode == 1 ? m.truth : digits;
          r.limit = 10;
          r.forgiving = mode != 2;
          Result<std::vector<SearchHit>> hits = store.Search(r);
          const SearchHit* h = nullptr;
          if (hits.ok() && RankOf(*hits, p.id, &h) > 0) (mode == 0 ? found_digits : mode == 1 ? found_written : found_exact)++;
        }
      }
    }
    std::printf("\nMisread identifiers (one wrong or confusable character) searched by their true value: %d; "
                "found in top 10: digits only %.1f%%, as written %.1f%% (exact search: %.1f%%)\n",
                n, 100.0 * found_digits / std::max(n, 1), 100.0 * found_written / std::max(n, 1),
                100.0 * found_exact / std::max(n, 1));
  }
  return 0;
}

int Run(Store& store, const std::string& name, const std::vector<Page>& pages, size_t max_queries) {
  LotRecord corpus{"corpus", "known-item bench", "", "", "", "", "", ""};
  LotRecord gen{"generated", "known-item bench", "", "", "", "", "", ""};
  if (!store.UpsertLot(corpus).ok() || !store.UpsertLot(gen).ok()) return 1;
  std::vector<DocumentRecord> docs;
  for (const Page& p : pages) {
    DocumentRecord d;
    d.lot_id = p.set;
    d.document_id = p.id;
    d.page_count = 1;
    PageRecord pr;
    pr.number = 1;
    pr.pdf_page = 1;
    pr.text = p.ocr;
    d.pages.push_back(pr);
    docs.push_back(std::move(d));
    if (docs.size() == 500) {
      Status s = store.PutDocuments(docs);
      if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
      docs.clear();
    }
  }
  Status s = store.PutDocuments(docs);
  if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  std::printf("\n## %s: %zu documents\n", name.c_str(), pages.size());
  int rc = Evaluate(store, pages, "corpus", max_queries);
  rc |= Evaluate(store, pages, "generated", max_queries);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path corpus = "../shared/corpus";
  std::string acervo = "build/pipeline/acervo";
  fs::path cache;
  int generated = 2000;
  double word_rate = 0.1;
  uint64_t seed = 15;
  std::string backend = "sqlite";
  size_t max_queries = 3000;
  fs::path write_texts;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--corpus") corpus = argv[i + 1];
    else if (a == "--acervo") acervo = argv[i + 1];
    else if (a == "--ocr-cache") cache = argv[i + 1];
    else if (a == "--generated") generated = std::atoi(argv[i + 1]);
    else if (a == "--word-rate") word_rate = std::atof(argv[i + 1]);
    else if (a == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--backend") backend = argv[i + 1];
    else if (a == "--max-queries") max_queries = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--misses") g_misses = std::fopen(argv[i + 1], "w");
    else if (a == "--write-texts") write_texts = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: %s [--corpus DIR] [--acervo BIN] [--ocr-cache FILE] [--generated N] [--word-rate R] "
                   "[--seed S] [--backend sqlite|postgres|both] [--max-queries N] [--misses FILE] "
                   "[--write-texts DIR]\n",
                   argv[0]);
      return 2;
    }
  }
  if (!write_texts.empty()) {
    // The texts of `--generated` pages (seed `--seed`), one file each, for
    // bench/known_item_rendered.sh to render and OCR: pages whose OCR
    // errors are Tesseract's, not the error model's.
    fs::create_directories(write_texts);
    TextMaker maker(seed);
    for (int i = 0; i < generated; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "r%04d.txt", i);
      std::ofstream(write_texts / name) << maker.Page();
    }
    return 0;
  }
  std::vector<Page> pages = CorpusPages(corpus, acervo, cache);
  std::vector<Page> gen = GeneratedPages(generated, word_rate, seed);
  pages.insert(pages.end(), gen.begin(), gen.end());
  std::printf("# Known-item recall: %zu corpus pages (OCR by acervo run), %d generated pages (word misread rate %.2f, seed %llu)\n",
              pages.size() - gen.size(), generated, word_rate, static_cast<unsigned long long>(seed));
  int rc = 0;
  if (backend == "sqlite" || backend == "both") {
    const fs::path db = fs::temp_directory_path() / ("acervo-known-item-" + std::to_string(::getpid()) + ".db");
    SqliteOptions o;
    o.durable = false;
    Result<std::unique_ptr<Store>> s = OpenSqliteStore(db, o);
    if (!s.ok()) return std::fprintf(stderr, "%s\n", s.status().ToString().c_str()), 3;
    rc |= Run(**s, "SQLite", pages, max_queries);
    s->reset();
    for (const char* suffix : {"", "-wal", "-shm", "-audit", "-audit-wal", "-audit-shm"}) {
      fs::remove(db.string() + suffix);  // -audit: the audit trail's file (schema v13)
    }
  }
  if (backend == "postgres" || backend == "both") {
    PostgresTestServer server;
    Status st = server.Start();
    Result<std::string> c = st.ok() ? server.CreateDatabase("known_item") : Result<std::string>(st);
    if (!c.ok()) return std::fprintf(stderr, "PostgreSQL: %s\n", c.status().ToString().c_str()), 3;
    Result<std::unique_ptr<Store>> s = OpenPostgresStore(*c);
    if (!s.ok()) return std::fprintf(stderr, "%s\n", s.status().ToString().c_str()), 3;
    rc |= Run(**s, "PostgreSQL", pages, max_queries);
  }
  return rc;
}
