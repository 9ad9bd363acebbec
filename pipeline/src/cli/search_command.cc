// acervo search: ranked documents from the store.
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "acervo/core/csv_field.h"
#include "acervo/core/text.h"
#include "acervo/indexer/field_value.h"
#include "acervo/indexer/open_store.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {

// "  (forgiving: teixeira ~ teixelra)" for hits that needed more than the
// exact words, so a person sees why a hit is there.
std::string MatchNote(const SearchHit& h) {
  std::string note;
  for (const TermMatch& m : h.matches) {
    if (m.kind == "exact" || m.kind == "excluded") continue;
    note += note.empty() ? "" : ", ";
    note += m.query + " ~ " + m.matched;
  }
  if (note.empty()) return "";
  return std::string("  (") + (h.tier >= 2 ? "forgiving" : "inflection") + ": " + note + ")";
}

// Where a hit's PDF is on this machine (stored paths are relative).
using PdfOf = std::function<std::filesystem::path(const SearchHit&)>;

nlohmann::json HitsJson(const std::vector<SearchHit>& hits, const PdfOf& pdf_of) {
  nlohmann::json arr = nlohmann::json::array();
  for (const SearchHit& h : hits) {
    nlohmann::json fields = nlohmann::json::object();
    for (const FieldRecord& f : h.fields) fields[f.name] = f.value;
    nlohmann::json matches = nlohmann::json::array();
    for (const TermMatch& m : h.matches) {
      matches.push_back({{"query", m.query}, {"matched", m.matched}, {"kind", m.kind}, {"pages", m.pages}});
    }
    arr.push_back({{"document", h.document_id}, {"lot", h.lot_id}, {"title", h.title}, {"type", h.document_type},
                   {"pdf", pdf_of(h).string()}, {"pages", h.pages}, {"page_count", h.page_count}, {"flags", h.flags},
                   {"date", h.date}, {"indexed_at", h.indexed_at}, {"snippet", h.snippet}, {"score", h.score},
                   {"tier", h.tier}, {"matches", matches}, {"fields", fields}});
  }
  return arr;
}

std::string HitsCsv(const std::vector<SearchHit>& hits, const PdfOf& pdf_of) {
  auto join = [](const auto& items, auto&& text) {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : "; ") + text(i);
    return s;
  };
  std::string out =
      "lot,document,type,title,date,page_count,pages,flags,tier,matches,score,pdf,fields,snippet\r\n";
  for (const SearchHit& h : hits) {
    char score[32];
    std::snprintf(score, sizeof(score), "%.4f", h.score);
    const std::vector<std::string> row = {
        h.lot_id, h.document_id, h.document_type, h.title, h.date, std::to_string(h.page_count),
        join(h.pages, [](int p) { return std::to_string(p); }), join(h.flags, [](const std::string& f) { return f; }),
        std::to_string(h.tier),
        join(h.matches, [](const TermMatch& m) { return m.query + "=" + m.matched + " (" + m.kind + ")"; }), score,
        pdf_of(h).string(), join(h.fields, [](const FieldRecord& f) { return f.name + "=" + f.value; }), h.snippet};
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + CsvField(row[i]);
    out += "\r\n";
  }
  return out;
}

}  // namespace

Command AddSearchCommand(CLI::App& root, const Context&) {
  struct Args {
    std::string store;
    bool json = false;
    bool csv = false;
    bool exact = false;
    std::vector<std::string> fields;
    std::vector<std::string> words;
    std::string root;
    std::string sort = "relevance";
    std::string from, to;
    SearchRequest request;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("search", "Search the document store");
  // The query is every argument that is not an option, in order, including
  // words that start with '-' (negation: -word, -type:oficio): so no short
  // options here, not even -h (a query "-habeas" would print the help).
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->allow_extras();
  cmd->add_option("--store", a->store, "Store: a SQLite file, or a PostgreSQL connection string (postgresql://... or \"host=... dbname=...\")")->required();
  cmd->add_option("--root", a->root, "Folder the store's PDF and master paths are relative to (default: the SQLite store's folder)");
  // One value per --field: the words after it are the query.
  cmd->add_option("--field", a->fields, "Filter NAME=VALUE (repeatable; case and accents ignored)")
      ->allow_extra_args(false);
  cmd->add_option("--lot", a->request.lot, "Only this lot");
  cmd->add_option("--limit", a->request.limit, "Maximum hits")->check(CLI::Range(1, 10000));
  cmd->add_option("--offset", a->request.offset, "Skip this many hits first (paging)")->check(CLI::Range(0, 9999));
  cmd->add_option("--sort", a->sort, "Order: relevance (default), newest or oldest (by the document's date)")
      ->check(CLI::IsMember({"relevance", "newest", "oldest"}));
  cmd->add_option("--from", a->from, "Only documents dated on or after this day (YYYY-MM-DD or DD/MM/YYYY)");
  cmd->add_option("--to", a->to, "Only documents dated on or before this day (YYYY-MM-DD or DD/MM/YYYY)");
  cmd->add_flag("--exact", a->exact,
                "Exact words only: no inflections or forgiving matches of OCR misreadings (~word still forgives)");
  cmd->add_flag("--json", a->json, "JSON array output");
  cmd->add_flag("--csv", a->csv, "CSV output (one row per hit, a header first)")->excludes("--json");
  cmd->footer("QUERY: words, \"phrases\", prefix*, field:value, -word, AND/OR/NOT (docs/store.md), after the options "
                "or among them.");
  return {cmd, [a, cmd]() -> int {
            a->words = cmd->remaining();
            for (const std::string& w : a->words) {
              // The query language has no "--": such a word is a mistyped option.
              if (w.rfind("--", 0) == 0 && w.size() > 2) {
                std::fprintf(stderr, "acervo search: unknown option %s (see acervo search --help)\n",
                             TerminalText(w).c_str());
                return kExitUsage;
              }
            }
            for (const std::string& f : a->fields) {
              size_t eq = f.find('=');
              if (eq == std::string::npos || eq == 0) {
                std::fprintf(stderr, "acervo search: --field needs NAME=VALUE, got '%s'\n", f.c_str());
                return kExitUsage;
              }
              a->request.fields.emplace_back(f.substr(0, eq), f.substr(eq + 1));
            }
            // The date range and order, as the web's search takes them.
            for (const auto& [name, given, dest] : {std::tuple{"--from", &a->from, &a->request.date_from},
                                                    std::tuple{"--to", &a->to, &a->request.date_to}}) {
              if (given->empty()) continue;
              std::optional<std::string> day = ParseIsoDate(*given);
              if (!day) {
                std::fprintf(stderr, "acervo search: %s '%s' is not a date (YYYY-MM-DD or DD/MM/YYYY)\n", name,
                             TerminalText(*given).c_str());
                return kExitUsage;
              }
              *dest = *day;
            }
            if (a->sort == "newest") a->request.sort = SearchRequest::Sort::kDateNewest;
            if (a->sort == "oldest") a->request.sort = SearchRequest::Sort::kDateOldest;
            for (size_t i = 0; i < a->words.size(); ++i) a->request.query += (i ? " " : "") + a->words[i];
            a->request.forgiving = !a->exact;
            // Read only: an archive on read-only media is searched where it is.
            Result<std::unique_ptr<Store>> store = OpenStoreForReading(a->store);
            if (!store.ok()) {
              std::fprintf(stderr, "acervo search: %s\n", TerminalText(store.status().ToString()).c_str());
              return kExitCannotRun;
            }
            // Stored paths are relative to their lot's output folder
            // (docs/store.md).
            const StoredPaths paths = StoredPaths::ForStore(a->store, **store, a->root);
            const auto pdf_of = [&](const SearchHit& h) { return paths.Resolve(h.lot_id, h.pdf_path); };
            Result<std::vector<SearchHit>> hits = (*store)->Search(a->request);
            if (!hits.ok()) {
              std::fprintf(stderr, "acervo search: %s\n", TerminalText(hits.status().ToString()).c_str());
              return ExitCodeFor(hits.status());
            }
            if (a->json) {
              std::printf("%s\n", HitsJson(*hits, pdf_of).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
            } else if (a->csv) {
              std::fputs(HitsCsv(*hits, pdf_of).c_str(), stdout);
            } else {
              int rank = 0;
              for (const SearchHit& h : *hits) {
                std::string pages;
                for (size_t i = 0; i < h.pages.size(); ++i) pages += (i ? ", " : "") + std::to_string(h.pages[i]);
                // Store text is shown, never obeyed by the terminal.
                std::printf("%d. %s  [lot %s]  %s%s\n", a->request.offset + ++rank, TerminalText(h.document_id).c_str(),
                            TerminalText(h.lot_id).c_str(), TerminalText(h.title).c_str(),
                            TerminalText(MatchNote(h)).c_str());
                std::printf("   %s%s%s\n", TerminalText(pdf_of(h).string()).c_str(),
                            pages.empty() ? "" : "  pages: ", pages.c_str());
                if (!h.snippet.empty()) std::printf("   %s\n", TerminalText(h.snippet).c_str());
              }
              if (hits->empty()) std::printf("no documents found\n");
            }
            return hits->empty() ? kExitPartial : kExitOk;
          }};
}

}  // namespace acervo::cli
