// acervo run: one lot folder into PDFs, masters and the store.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "acervo/indexer/open_store.h"
#include "acervo/pipeline/lot_runner.h"
#include "acervo/pipeline/review.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {
namespace fs = std::filesystem;

void PrintSummary(const LotReport& r) {
  std::printf("Lot %s: %d documents written, %d failed, %d already complete\n", r.lot_id.c_str(),
              r.documents_ok, r.documents_failed, r.documents_skipped);
  std::printf("Pages: %d processed, %d blank (kept as masters, left out of PDFs), %d flagged, %d failed\n",
              r.processed_pages, r.blank_pages, r.flagged_pages, r.failed_pages);
  // What needs a person, as the store holds it (same as report.json
  // "review", the morning report and `acervo review list`).
  const std::string review = ReviewSummaryText(r.review, /*english=*/true, 20);
  std::printf("%s", review.empty() ? "To review: nothing\n" : review.c_str());
  std::printf("Time: %.1f s, %.1f pages/min\n", r.seconds, r.pages_per_minute);
  std::printf("PDFs in %s\n", r.lot_out_dir.c_str());
  for (const DocumentOutcome& d : r.documents) {
    if (!d.pdf_path.empty()) {
      std::printf("  %s  (%d pages)%s", d.pdf_path.c_str(), d.pages, d.skipped ? " [already complete]" : "");
      if (d.corrected > 0) std::printf(" [%d field%s corrected, no OCR]", d.corrected, d.corrected == 1 ? "" : "s");
      std::printf("\n");
    }
  }
  // Messages usually name their file already; do not say it twice.
  auto print = [](const char* kind, const LotProblem& p) {
    const std::string& m = p.message;
    bool named = m.rfind(p.where + ": ", 0) == 0;
    std::fprintf(stderr, "%s: %s%s%s\n", kind, named ? "" : p.where.c_str(), named ? "" : ": ", m.c_str());
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
  cmd->add_option("--jobs,-j", a->run.jobs, "Worker threads (default: number of cores)")->check(CLI::Range(1, 256));
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
            fs::path store_path = a->store.empty() ? a->run.out_dir / "acervo.db" : fs::path(a->store);
            Result<std::unique_ptr<Store>> store = OpenStore(store_path);
            if (!store.ok()) {
              std::fprintf(stderr, "acervo run: cannot open store %s: %s\n", store_path.c_str(),
                           store.status().ToString().c_str());
              return kExitCannotRun;
            }
            Result<LotReport> report = RunLot(a->run, **store);
            if (!report.ok()) {
              std::fprintf(stderr, "acervo run: %s\n", report.status().ToString().c_str());
              return report.status().code() == StatusCode::kCancelled ? kExitInterrupted : kExitCannotRun;
            }
            if (a->json) {
              std::printf("%s\n", report->ToJson().c_str());
            } else {
              PrintSummary(*report);
              std::printf("Store: %s\n", store_path.c_str());
            }
            if (ctx.cancel != nullptr && ctx.cancel->load()) return kExitInterrupted;
            return report->HasErrors() ? kExitPartial : kExitOk;
          }};
}

}  // namespace acervo::cli
