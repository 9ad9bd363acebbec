// acervo enqueue: hand lot folders over to the shared work queue (a
// PostgreSQL store), for `acervo worker` on any machine to process.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "acervo/indexer/work_queue.h"
#include "acervo/pipeline/queue_worker.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace fs = std::filesystem;

Command AddEnqueueCommand(CLI::App& root, const Context&) {
  struct Args {
    std::vector<fs::path> lots;
    std::string store;
    fs::path shared_root;
    QueuedLotOptions options;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("enqueue", "Queue lot folders for the workers of a PostgreSQL store");
  cmd->add_option("LOT_DIR", a->lots, "Lot folders (inside the shared root)")->required();
  cmd->add_option("--store", a->store, "PostgreSQL connection string (postgresql://... or \"host=... dbname=...\")")
      ->required();
  AddSharedRootOption(cmd, a->shared_root,
                      "The shared root as mounted here; lot folders are queued relative to it (without one, "
                      "by absolute path)");
  cmd->add_option("--lang", a->options.languages, "Tesseract languages (default: each profile's)");
  cmd->add_option("--lot-id", a->options.lot_id, "Lot id (one folder only; default: profile or folder name)");
  cmd->add_flag("--force", a->options.force, "Redo documents that are already complete");
  cmd->add_flag("--hocr", a->options.hocr, "Also write hOCR per page");
  cmd->add_flag("--alto", a->options.alto, "Also write ALTO XML per page");
  cmd->add_flag("--text", a->options.text, "Also write the text of each document");
  cmd->add_option("--unit-pages", a->options.unit_pages,
                  "Cut documents of more master pages than this into ranges for several workers (default 24; 0: "
                  "never)")
      ->check(CLI::Range(0, 100000));
  return {cmd, [a]() -> int {
            if (!a->options.lot_id.empty() && a->lots.size() > 1) {
              std::fprintf(stderr, "acervo enqueue: --lot-id names one lot; %zu folders given\n", a->lots.size());
              return kExitUsage;
            }
            Result<std::unique_ptr<WorkQueue>> queue = OpenWorkQueue(a->store);
            if (!queue.ok()) {
              std::fprintf(stderr, "acervo enqueue: %s\n", queue.status().ToString().c_str());
              return queue.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitCannotRun;
            }
            for (const fs::path& lot : a->lots) {
              Result<QueuedLot> q = EnqueueLot(**queue, lot, a->shared_root, a->options);
              if (!q.ok()) {
                std::fprintf(stderr, "acervo enqueue: %s\n", q.status().ToString().c_str());
                const StatusCode c = q.status().code();
                return c == StatusCode::kInvalidArgument || c == StatusCode::kNotFound ? kExitUsage : kExitCannotRun;
              }
              std::printf("%s\n", q->Describe().c_str());
              std::fflush(stdout);
            }
            return kExitOk;
          }};
}

}  // namespace acervo::cli
