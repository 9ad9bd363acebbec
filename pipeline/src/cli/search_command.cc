// acervo search: ranked documents from the store.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acervo/indexer/open_store.h"
#include "cli/commands.h"

namespace acervo::cli {

Command AddSearchCommand(CLI::App& root, const Context&) {
  struct Args {
    std::string store;
    bool json = false;
    std::vector<std::string> fields;
    std::vector<std::string> words;
    SearchRequest request;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("search", "Search the document store");
  cmd->add_option("--store", a->store, "Store: a SQLite file, or a PostgreSQL connection string (postgresql://... or \"host=... dbname=...\")")->required();
  cmd->add_option("--field", a->fields, "Filter NAME=VALUE (repeatable; case and accents ignored)");
  cmd->add_option("--lot", a->request.lot, "Only this lot");
  cmd->add_option("--limit", a->request.limit, "Maximum hits")->check(CLI::Range(1, 10000));
  cmd->add_flag("--json", a->json, "JSON array output");
  cmd->add_option("QUERY", a->words, "Query: words, \"phrases\", prefix*, field:value, AND/OR/NOT (docs/store.md)");
  return {cmd, [a]() -> int {
            for (const std::string& f : a->fields) {
              size_t eq = f.find('=');
              if (eq == std::string::npos || eq == 0) {
                std::fprintf(stderr, "acervo search: --field needs NAME=VALUE, got '%s'\n", f.c_str());
                return kExitUsage;
              }
              a->request.fields.emplace_back(f.substr(0, eq), f.substr(eq + 1));
            }
            for (size_t i = 0; i < a->words.size(); ++i) a->request.query += (i ? " " : "") + a->words[i];
            Result<std::unique_ptr<Store>> store = OpenStore(a->store, /*create_if_missing=*/false);
            if (!store.ok()) {
              std::fprintf(stderr, "acervo search: %s\n", store.status().ToString().c_str());
              return kExitCannotRun;
            }
            Result<std::vector<SearchHit>> hits = (*store)->Search(a->request);
            if (!hits.ok()) {
              std::fprintf(stderr, "acervo search: %s\n", hits.status().ToString().c_str());
              return ExitCodeFor(hits.status());
            }
            if (a->json) {
              nlohmann::json arr = nlohmann::json::array();
              for (const SearchHit& h : *hits) {
                nlohmann::json fields = nlohmann::json::object();
                for (const FieldRecord& f : h.fields) fields[f.name] = f.value;
                arr.push_back({{"document", h.document_id}, {"lot", h.lot_id}, {"title", h.title},
                               {"type", h.document_type}, {"pdf", h.pdf_path}, {"pages", h.pages},
                               {"snippet", h.snippet}, {"score", h.score}, {"fields", fields}});
              }
              std::printf("%s\n", arr.dump(2).c_str());
            } else {
              int rank = 0;
              for (const SearchHit& h : *hits) {
                std::string pages;
                for (size_t i = 0; i < h.pages.size(); ++i) pages += (i ? ", " : "") + std::to_string(h.pages[i]);
                std::printf("%d. %s  [lot %s]  %s\n", ++rank, h.document_id.c_str(), h.lot_id.c_str(), h.title.c_str());
                std::printf("   %s%s%s\n", h.pdf_path.c_str(), pages.empty() ? "" : "  pages: ", pages.c_str());
                if (!h.snippet.empty()) std::printf("   %s\n", h.snippet.c_str());
              }
              if (hits->empty()) std::printf("no documents found\n");
            }
            return hits->empty() ? kExitPartial : kExitOk;
          }};
}

}  // namespace acervo::cli
