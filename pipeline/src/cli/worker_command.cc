// acervo worker: process units of the shared work queue until SIGTERM (a
// systemd service, docs/deploy.md), on as many machines as needed.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "acervo/pipeline/queue_worker.h"
#include "cli/commands.h"

namespace acervo::cli {

Command AddWorkerCommand(CLI::App& root, const Context& ctx) {
  struct Args {
    WorkerOptions o;
    int lease = 60;
    int drain = 240;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("worker", "Process lots of the shared work queue (PostgreSQL) until stopped");
  cmd->add_option("--store", a->o.store, "PostgreSQL connection string (postgresql://... or \"host=... dbname=...\")")
      ->required();
  AddSharedRootOption(cmd, a->o.shared_root, "The shared root as mounted here: lot folders, masters and PDFs")
      ->required();
  cmd->add_option("--jobs,-j", a->o.jobs, "Units at a time, one OCR engine each (default 1)")->check(CLI::Range(1, 256));
  cmd->add_option("--name", a->o.name, "Worker name in the status (default: host:pid)");
  cmd->add_option("--lease", a->lease, "Seconds a unit stays claimed without a heartbeat (default 60)")
      ->check(CLI::Range(2, 3600));
  cmd->add_option("--max-attempts", a->o.max_attempts,
                  "Claims of a unit whose worker died before it fails (default 3)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--drain-timeout", a->drain,
                  "On SIGTERM, seconds to finish the units held before handing them back (default 240)")
      ->check(CLI::Range(0, 86400));
  cmd->add_flag("--exit-when-idle", a->o.exit_when_idle, "Exit once no unit is pending or running");
  cmd->add_flag("--quiet,-q", a->quiet, "No progress on stderr");
  return {cmd, [a, &ctx]() -> int {
            a->o.lease = std::chrono::seconds(a->lease);
            a->o.drain_timeout = std::chrono::seconds(a->drain);
            a->o.progress = !a->quiet;
            a->o.stop = ctx.cancel;
            a->o.wake_fd = ctx.cancel_fd;
            Result<WorkerSummary> r = RunWorker(a->o);
            if (!r.ok()) {
              std::fprintf(stderr, "acervo worker: %s\n", r.status().ToString().c_str());
              return r.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitCannotRun;
            }
            std::printf("units done %d, failed %d, handed back %d, lost %d; pages %d\n", r->units_done,
                        r->units_failed, r->units_released, r->units_lost, r->pages);
            return kExitOk;
          }};
}

}  // namespace acervo::cli
