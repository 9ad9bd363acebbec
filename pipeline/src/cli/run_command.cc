// acervo run: one lot folder into PDFs, masters and the store.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "acervo/core/files.h"
#include "acervo/core/text.h"
#include "acervo/indexer/open_store.h"
#include "acervo/pipeline/lot_runner.h"
#include "acervo/pipeline/review.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {
namespace fs = std::filesystem;

void PrintSummary(const LotReport& r) {
  // Ids, names and messages come from the lot: never raw on a terminal.
  std::printf("Lot %s: %d documents written, %d failed, %d already complete\n", TerminalText(r.lot_id).c_str(),
              r.documents_ok, r.documents_failed, r.documents_skipped);
  std::printf("Pages: %d processed, %d blank (kept as masters, left out of PDFs), %d flagged, %d failed\n",
              r.processed_pages, r.blank_pages, r.flagged_pages, r.failed_pages);
  // What needs a person, as the store holds it (same as report.json
  // "review", the morning report and `acervo review list`).
  const std::string review = ReviewSummaryText(r.review, /*english=*/true, 20);
  std::printf("%s", review.empty() ? "To review: nothing\n" : review.c_str());
  std::printf("Time: %.1f s, %.1f pages/min\n", r.seconds, r.pages_per_minute);
  std::printf("PDFs in %s\n", TerminalText(r.lot_out_dir.string()).c_str());
  for (const DocumentOutcome& d : r.documents) {
    if (!d.pdf_path.empty()) {
      std::printf("  %s  (%d pages)%s", TerminalText(d.pdf_path).c_str(), d.pages,
                  d.skipped ? " [already complete]" : "");
      if (d.corrected > 0) std::printf(" [%d field%s corrected, no OCR]", d.corrected, d.corrected == 1 ? "" : "s");
      std::printf("\n");
    }
  }
  // Messages usually name their file already; do not say it twice.
  auto print = [](const char* kind, const LotProblem& p) {
    const std::string& m = p.message;
    bool named = m.rfind(p.where + ": ", 0) == 0;
    std::fprintf(stderr, "%s: %s%s%s\n", kind, named ? "" : TerminalText(p.where).c_str(), named ? "" : ": ",
                 TerminalText(m).c_str());
  };
  for (const LotProblem& w : r.warnings) print("warning", w);
  for (const LotProblem& p : r.problems) print("error", p);
}

}  // namespace

Command AddRunCommand(CLI::App& root, const Context& ctx) {
  struct Args {
    RunOptions run;
    std::string store;
    bool json = false;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("run", "Process a lot folder into PDFs and the store");
  cmd->add_option("LOT_DIR", a->run.lot_dir, "Lot folder (page images, optional manifest.csv and profile.toml)")
      ->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->run.out_dir, "Output folder (PDFs, masters, report)")->required();
  cmd->add_option("--store", a->store, "Store: a SQLite file, or a PostgreSQL connection string (postgresql://... or \"host=... dbname=...\") (default: OUT_DIR/acervo.db)");
  cmd->add_option("--jobs,-j", a->run.jobs, "Worker threads (default: number of cores; never more than pages, nor "
                                            "than --memory-budget holds)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--memory-budget", a->run.memory_budget_mb,
                  "Memory the run may use, in MB (default: 3/4 of the memory available; counted as 512 MB "
                  "plus 320 MB a worker)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--lang", a->run.languages, "Tesseract languages, e.g. por+eng (default: profile's)");
  cmd->add_option("--lot-id", a->run.lot_id, "Lot id (default: profile's, else the folder name)");
  cmd->add_flag("--force", a->run.force, "Redo documents even when already complete");
  cmd->add_flag("--hocr", a->run.hocr, "Also write hOCR per page (OUT/<lot>/sidecars/<doc>/)");
  cmd->add_flag("--alto", a->run.alto, "Also write ALTO XML per page (OUT/<lot>/sidecars/<doc>/)");
  cmd->add_flag("--text", a->run.text, "Also write a plain-text file per document (OUT/<lot>/<doc>.txt)");
  cmd->add_flag("--json", a->json, "Print the lot report as JSON on stdout");
  cmd->add_flag("--quiet,-q", a->quiet, "No progress on stderr");
  return {cmd, [a, &ctx]() -> int {
            a->run.progress = !a->quiet;
            a->run.cancel = ctx.cancel;
            // Bad arguments: folders that overlap (the run would read its
            // own outputs), a store inside the lot.
            const fs::path store_path = a->store.empty() ? a->run.out_dir / "acervo.db" : fs::path(a->store);
            Status apart = CheckSeparateFolders(a->run.lot_dir, "lot folder", a->run.out_dir, "--out folder");
            if (apart.ok() && !IsPostgresSpec(store_path.string())) {
              apart = CheckSeparateFolders(a->run.lot_dir, "lot folder", store_path, "--store");
            }
            if (!apart.ok()) {
              std::fprintf(stderr, "acervo run: %s\n", TerminalText(apart.message()).c_str());
              return kExitUsage;
            }
            // The store is opened (and so created) only once the lot is
            // known to run: a refused run leaves nothing behind.
            std::unique_ptr<Store> store;
            const StoreOpener open_store = [&]() -> Result<Store*> {
              std::error_code ec;
              if (a->store.empty()) fs::create_directories(a->run.out_dir, ec);  // asked for
              Result<std::unique_ptr<Store>> opened = OpenStore(store_path);
              if (!opened.ok()) return opened.status().WithContext("cannot open store " + store_path.string());
              store = std::move(opened).value();
              return store.get();
            };
            Result<LotReport> report = RunLot(a->run, open_store);
            if (!report.ok()) {
              std::fprintf(stderr, "acervo run: %s\n", TerminalText(report.status().ToString()).c_str());
              if (report.status().code() == StatusCode::kCancelled) return kExitInterrupted;
              return kExitCannotRun;
            }
            if (a->json) {
              std::printf("%s\n", report->ToJson().c_str());
            } else {
              PrintSummary(*report);
              std::printf("Store: %s\n", TerminalText(store_path.string()).c_str());
            }
            if (ctx.cancel != nullptr && ctx.cancel->load()) return kExitInterrupted;
            return report->HasErrors() ? kExitPartial : kExitOk;
          }};
}

}  // namespace acervo::cli
