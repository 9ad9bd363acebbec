// acervo search: ranked documents from the store.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acervo/core/text.h"
#include "acervo/indexer/open_store.h"
#include "cli/commands.h"

namespace acervo::cli {

Command AddSearchCommand(CLI::App& root, const Context&) {
  struct Args {
    std::string store;
    bool json = false;
    std::vector<std::string> fields;
    std::vector<std::string> words;
    std::string root;
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
  cmd->add_flag("--json", a->json, "JSON array output");
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
            for (size_t i = 0; i < a->words.size(); ++i) a->request.query += (i ? " " : "") + a->words[i];
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
              nlohmann::json arr = nlohmann::json::array();
              for (const SearchHit& h : *hits) {
                nlohmann::json fields = nlohmann::json::object();
                for (const FieldRecord& f : h.fields) fields[f.name] = f.value;
                arr.push_back({{"document", h.document_id}, {"lot", h.lot_id}, {"title", h.title},
                               {"type", h.document_type}, {"pdf", pdf_of(h).string()},
                               {"pages", h.pages},
                               {"snippet", h.snippet}, {"score", h.score}, {"fields", fields}});
              }
              std::printf("%s\n", arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
            } else {
              int rank = 0;
              for (const SearchHit& h : *hits) {
                std::string pages;
                for (size_t i = 0; i < h.pages.size(); ++i) pages += (i ? ", " : "") + std::to_string(h.pages[i]);
                // Store text is shown, never obeyed by the terminal.
                std::printf("%d. %s  [lot %s]  %s\n", ++rank, TerminalText(h.document_id).c_str(),
                            TerminalText(h.lot_id).c_str(), TerminalText(h.title).c_str());
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
