// acervo batch: a queue of lot folders, overnight, with a morning report.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/core/text.h"
#include "acervo/indexer/open_store.h"
#include "acervo/pipeline/batch.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace fs = std::filesystem;

Command AddBatchCommand(CLI::App& root, const Context& ctx) {
  struct Args {
    BatchOptions batch;
    std::string store;
    std::string report;
    bool json = false;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("batch", "Process every lot folder of a queue, resumably, with a morning report");
  cmd->add_option("QUEUE_DIR", a->batch.queue_dir, "Queue folder: every subfolder is a lot")
      ->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->batch.out_dir, "Output folder (one subfolder per lot)")->required();
  cmd->add_option("--store", a->store, "Store: a SQLite file, or a PostgreSQL connection string (postgresql://... or \"host=... dbname=...\") (default: OUT_DIR/acervo.db)");
  cmd->add_option("--jobs,-j", a->batch.jobs, "Worker threads (default: number of cores)")->check(CLI::Range(1, 256));
  cmd->add_option("--memory-budget", a->batch.memory_budget_mb,
                  "Memory the workers may use, in MB (default: 3/4 of the memory available)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--report", a->report, "Report folder for report.html and report.json (default: OUT_DIR/report)");
  cmd->add_option("--lang", a->batch.languages, "Tesseract languages for every lot (default: each profile's)");
  cmd->add_flag("--force", a->batch.force, "Redo every lot and document, even when already complete");
  cmd->add_option("--report-lang", a->batch.report_language, "Language of report.html: pt-BR (default) or en")
      ->check(CLI::IsMember({"pt-BR", "en"}));
  cmd->add_flag("--json", a->json, "Print the batch report as JSON on stdout");
  cmd->add_flag("--quiet,-q", a->quiet, "No progress on stderr");
  return {cmd, [a, &ctx]() -> int {
            a->batch.progress = !a->quiet;
            a->batch.cancel = ctx.cancel;
            fs::path store_path = a->store.empty() ? a->batch.out_dir / "acervo.db" : fs::path(a->store);
            const fs::path report_dir = a->report.empty() ? a->batch.out_dir / "report" : fs::path(a->report);
            // Bad arguments: anything written inside the queue would be read
            // back as a lot.
            Status apart = CheckSeparateFolders(a->batch.queue_dir, "queue folder", a->batch.out_dir, "--out folder");
            if (apart.ok()) apart = CheckSeparateFolders(a->batch.queue_dir, "queue folder", report_dir, "--report");
            if (apart.ok() && !IsPostgresSpec(store_path.string())) {
              apart = CheckSeparateFolders(a->batch.queue_dir, "queue folder", store_path, "--store");
            }
            if (!apart.ok()) {
              std::fprintf(stderr, "acervo batch: %s\n", TerminalText(apart.message()).c_str());
              return kExitUsage;
            }
            std::error_code ec;
            fs::create_directories(a->batch.out_dir, ec);
            Result<std::unique_ptr<Store>> store = OpenStore(store_path);
            if (!store.ok()) {
              std::fprintf(stderr, "acervo batch: cannot open store %s: %s\n", store_path.c_str(),
                           store.status().ToString().c_str());
              return kExitCannotRun;
            }
            Result<BatchReport> report = RunBatch(a->batch, **store);
            if (!report.ok()) {
              std::fprintf(stderr, "acervo batch: %s\n", TerminalText(report.status().ToString()).c_str());
              return kExitCannotRun;
            }
            Status written = WriteBatchReport(*report, report_dir);
            if (!written.ok()) {
              std::fprintf(stderr, "acervo batch: cannot write the report: %s\n", written.ToString().c_str());
              return kExitCannotRun;
            }
            if (a->json) {
              std::printf("%s\n", report->ToJson().c_str());
            } else {
              int done = 0, skipped = 0, failed = 0;
              for (const BatchLot& l : report->lots) {
                if (l.state == BatchLot::State::kDone) ++done;
                else if (l.state == BatchLot::State::kSkipped) ++skipped;
                else ++failed;
                if (!l.error.empty()) std::fprintf(stderr, "error: %s\n", TerminalText(l.error).c_str());
                if (l.state == BatchLot::State::kSkipped) continue;  // told when it ran
                // Every problem of the lot, named by file and page, on stderr.
                nlohmann::json r = nlohmann::json::parse(l.report_json, nullptr, false);
                if (!r.is_object()) continue;
                for (const char* kind : {"warnings", "problems"}) {
                  for (const nlohmann::json& p : r.value(kind, nlohmann::json::array())) {
                    std::string where = p.value("where", ""), message = p.value("message", "");
                    bool named = message.rfind(where + ": ", 0) == 0;  // do not say the file twice
                    std::fprintf(stderr, "%s: %s: %s%s%s\n", kind[0] == 'w' ? "warning" : "error",
                                 TerminalText(l.folder).c_str(), named ? "" : TerminalText(where).c_str(),
                                 named ? "" : ": ", TerminalText(message).c_str());
                  }
                }
              }
              std::printf("Batch: %zu lots: %d done, %d already complete, %d failed or interrupted (%.1f s)\n",
                          report->lots.size(), done, skipped, failed, report->seconds);
              std::printf("Report: %s\n", TerminalText((report_dir / "report.html").string()).c_str());
            }
            if (report->interrupted) return kExitInterrupted;
            return report->Clean() ? kExitOk : kExitPartial;
          }};
}

}  // namespace acervo::cli
