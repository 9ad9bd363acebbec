// acervo: the command-line driver. Subcommands map one to one onto library
// calls; this file only parses arguments, prints, and maps Status to the
// documented exit codes (docs/cli.md).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "acervo/indexer/sqlite_store.h"
#include "acervo/indexer/store.h"
#include "acervo/pipeline/lot_runner.h"

namespace {
namespace fs = std::filesystem;

// Exit codes (docs/cli.md).
constexpr int kExitOk = 0;
constexpr int kExitLotErrors = 1;    // run: finished, but some pages/documents failed; search: no hits
constexpr int kExitUsage = 2;        // bad arguments or bad query
constexpr int kExitCannotRun = 3;    // lot/profile/manifest unreadable, store or OCR unavailable
constexpr int kExitInterrupted = 130;

std::atomic<bool> g_cancel{false};  // set by SIGINT/SIGTERM only

extern "C" void OnSignal(int) { g_cancel.store(true); }

// Debian's Tesseract is built with OpenMP. Its threads would compete with our
// worker pool for the same cores (4x slower on two cores, measured), and
// libgomp reads OMP_THREAD_LIMIT only when it is loaded, before main(). So
// when the variable is unset we set it and re-execute ourselves once.
void EnsureSingleThreadedOpenMp(char** argv) {
  if (std::getenv("OMP_THREAD_LIMIT") != nullptr) return;
  ::setenv("OMP_THREAD_LIMIT", "1", 1);
  ::execv("/proc/self/exe", argv);
  // If re-exec is impossible we carry on; only speed suffers.
}

void PrintSummary(const acervo::LotReport& r) {
  std::printf("Lot %s: %d documents written, %d failed, %d already complete\n", r.lot_id.c_str(),
              r.documents_ok, r.documents_failed, r.documents_skipped);
  std::printf("Pages: %d processed, %d blank (kept as masters, left out of PDFs), %d flagged, %d failed\n",
              r.processed_pages, r.blank_pages, r.flagged_pages, r.failed_pages);
  std::printf("Time: %.1f s, %.1f pages/min\n", r.seconds, r.pages_per_minute);
  std::printf("PDFs in %s\n", r.lot_out_dir.c_str());
  for (const acervo::DocumentOutcome& d : r.documents) {
    if (!d.pdf_path.empty()) std::printf("  %s  (%d pages)%s\n", d.pdf_path.c_str(), d.pages, d.skipped ? " [already complete]" : "");
  }
  // Messages usually name their file already; do not say it twice.
  auto print = [](const char* kind, const acervo::LotProblem& p) {
    const std::string& m = p.message;
    bool named = m.rfind(p.where + ": ", 0) == 0;
    std::fprintf(stderr, "%s: %s%s%s\n", kind, named ? "" : p.where.c_str(), named ? "" : ": ", m.c_str());
  };
  for (const acervo::LotProblem& w : r.warnings) print("warning", w);
  for (const acervo::LotProblem& p : r.problems) print("error", p);
}

int ExitFor(const acervo::Status& s) {
  switch (s.code()) {
    case acervo::StatusCode::kOk: return kExitOk;
    case acervo::StatusCode::kInvalidArgument: return kExitUsage;
    case acervo::StatusCode::kCancelled: return kExitInterrupted;
    default: return kExitCannotRun;
  }
}

}  // namespace

int main(int argc, char** argv) {
  EnsureSingleThreadedOpenMp(argv);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  CLI::App app{"Acervo: scanned lots to searchable PDF/A and a document store"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "acervo 0.1.0");

  // acervo run
  acervo::RunOptions run;
  std::string run_store;
  bool run_json = false;
  CLI::App* run_cmd = app.add_subcommand("run", "Process a lot folder into PDFs and the store");
  run_cmd->add_option("LOT_DIR", run.lot_dir, "Lot folder (page images, optional manifest.csv and profile.toml)")
      ->required()->check(CLI::ExistingDirectory);
  run_cmd->add_option("--out", run.out_dir, "Output folder (PDFs, masters, report)")->required();
  run_cmd->add_option("--store", run_store, "SQLite store (default: OUT_DIR/acervo.db)");
  run_cmd->add_option("--jobs,-j", run.jobs, "Worker threads (default: number of cores)")->check(CLI::Range(1, 256));
  run_cmd->add_option("--lang", run.languages, "Tesseract languages, e.g. por+eng (default: profile's)");
  run_cmd->add_option("--lot-id", run.lot_id, "Lot id (default: profile's, else the folder name)");
  run_cmd->add_flag("--force", run.force, "Redo documents even when already complete");
  run_cmd->add_flag("--json", run_json, "Print the lot report as JSON on stdout");
  bool quiet = false;
  run_cmd->add_flag("--quiet,-q", quiet, "No progress on stderr");

  // acervo search
  std::string search_store;
  bool search_json = false;
  std::vector<std::string> field_args;
  std::vector<std::string> query_words;
  acervo::SearchRequest search;
  CLI::App* search_cmd = app.add_subcommand("search", "Search the document store");
  search_cmd->add_option("--store", search_store, "SQLite store")->required();
  search_cmd->add_option("--field", field_args, "Filter NAME=VALUE (repeatable)");
  search_cmd->add_option("--lot", search.lot, "Only this lot");
  search_cmd->add_option("--limit", search.limit, "Maximum hits")->check(CLI::Range(1, 10000));
  search_cmd->add_flag("--json", search_json, "JSON array output");
  search_cmd->add_option("QUERY", query_words, "Query (words, \"phrases\", prefix*, field:value, AND/OR/NOT)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (run_cmd->parsed()) {
    run.progress = !quiet;
    run.cancel = &g_cancel;
    fs::path store_path = run_store.empty() ? run.out_dir / "acervo.db" : fs::path(run_store);
    acervo::Result<std::unique_ptr<acervo::Store>> store = acervo::OpenSqliteStore(store_path, {});
    if (!store.ok()) {
      std::fprintf(stderr, "acervo run: cannot open store %s: %s\n", store_path.c_str(), store.status().ToString().c_str());
      return kExitCannotRun;
    }
    acervo::Result<acervo::LotReport> report = acervo::RunLot(run, **store);
    if (!report.ok()) {
      std::fprintf(stderr, "acervo run: %s\n", report.status().ToString().c_str());
      acervo::Status s = report.status();
      return s.code() == acervo::StatusCode::kCancelled ? kExitInterrupted : kExitCannotRun;
    }
    if (run_json) {
      std::printf("%s\n", report->ToJson().c_str());
    } else {
      PrintSummary(*report);
      std::printf("Store: %s\n", store_path.c_str());
    }
    if (g_cancel.load()) return kExitInterrupted;
    return report->HasErrors() ? kExitLotErrors : kExitOk;
  }

  if (search_cmd->parsed()) {
    for (const std::string& f : field_args) {
      size_t eq = f.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "acervo search: --field needs NAME=VALUE, got '%s'\n", f.c_str());
        return kExitUsage;
      }
      search.fields.emplace_back(f.substr(0, eq), f.substr(eq + 1));
    }
    for (size_t i = 0; i < query_words.size(); ++i) search.query += (i ? " " : "") + query_words[i];
    acervo::SqliteOptions opts;
    opts.create_if_missing = false;
    acervo::Result<std::unique_ptr<acervo::Store>> store = acervo::OpenSqliteStore(search_store, opts);
    if (!store.ok()) {
      std::fprintf(stderr, "acervo search: %s\n", store.status().ToString().c_str());
      return kExitCannotRun;
    }
    acervo::Result<std::vector<acervo::SearchHit>> hits = (*store)->Search(search);
    if (!hits.ok()) {
      std::fprintf(stderr, "acervo search: %s\n", hits.status().ToString().c_str());
      return ExitFor(hits.status());
    }
    if (search_json) {
      nlohmann::json a = nlohmann::json::array();
      for (const acervo::SearchHit& h : *hits) {
        nlohmann::json fields = nlohmann::json::object();
        for (const acervo::FieldRecord& f : h.fields) fields[f.name] = f.value;
        a.push_back({{"document", h.document_id}, {"lot", h.lot_id}, {"title", h.title},
                     {"type", h.document_type}, {"pdf", h.pdf_path}, {"pages", h.pages},
                     {"snippet", h.snippet}, {"score", h.score}, {"fields", fields}});
      }
      std::printf("%s\n", a.dump(2).c_str());
    } else {
      int rank = 0;
      for (const acervo::SearchHit& h : *hits) {
        std::string pages;
        for (size_t i = 0; i < h.pages.size(); ++i) pages += (i ? ", " : "") + std::to_string(h.pages[i]);
        std::printf("%d. %s  [lot %s]  %s\n", ++rank, h.document_id.c_str(), h.lot_id.c_str(), h.title.c_str());
        std::printf("   %s%s%s\n", h.pdf_path.c_str(), pages.empty() ? "" : "  pages: ", pages.c_str());
        if (!h.snippet.empty()) std::printf("   %s\n", h.snippet.c_str());
      }
      if (hits->empty()) std::printf("no documents found\n");
    }
    return hits->empty() ? kExitLotErrors : kExitOk;
  }
  return kExitUsage;
}
