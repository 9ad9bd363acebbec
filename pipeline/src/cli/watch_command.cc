// acervo watch: a hot folder for scan-to-folder devices. Complete page files
// and lot folders dropped into DIR are processed with RunLot into OUT_DIR and
// the store; each is processed once (state file, also across restarts), and
// nothing in DIR is moved or changed.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "acervo/core/clock.h"
#include "acervo/core/files.h"
#include "acervo/indexer/open_store.h"
#include "acervo/core/text.h"
#include "acervo/pipeline/lot_runner.h"
#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/queue_worker.h"
#include "acervo/scanner/hot_folder.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {
namespace fs = std::filesystem;

struct WatchArgs {
  fs::path dir;
  fs::path out;
  std::string store;
  std::string state;
  std::string marker;
  double settle = 5;
  double interval = 2;
  bool once = false;
  bool poll = false;
  int jobs = 0;
  std::string languages;
  bool quiet = false;
  std::string enqueue;  // a PostgreSQL store: queue the items for its workers instead of running them
  fs::path shared_root;
};

// A single page file becomes a one-file lot: a staging folder holding a hard
// link (or copy) of it, so RunLot sees a lot folder and the original stays
// where it is, untouched.
// `suffix` makes the staged lot's name (its lot id) unique: a queued lot
// lives on after this call, and scanners restart their file numbers.
Result<fs::path> StageFile(const HotItem& item, const fs::path& out, const std::string& suffix = "") {
  fs::path staging = out / ".watch-staging" / (fs::path(item.name).stem().string() + suffix);
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return Status::IOError("cannot create " + staging.string() + ": " + ec.message());
  fs::path target = staging / item.name;
  if (::link(item.path.c_str(), target.c_str()) != 0) {
    ACERVO_ASSIGN_OR_RETURN(std::string sha, CopyFileOnce(item.path, target));
    (void)sha;
  }
  return staging;
}

}  // namespace

Command AddWatchCommand(CLI::App& root, const Context& ctx) {
  auto a = std::make_shared<WatchArgs>();
  CLI::App* cmd = root.add_subcommand("watch", "Process page files and lot folders dropped into a hot folder");
  cmd->add_option("DIR", a->dir, "The hot folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->out, "Output folder (as for `acervo run`); not with --enqueue");
  cmd->add_option("--enqueue", a->enqueue,
                  "Queue each complete item for the workers of this PostgreSQL store instead of processing it here "
                  "(the hot folder must be inside the shared root)");
  AddSharedRootOption(cmd, a->shared_root, "With --enqueue: the shared root as mounted here");
  cmd->add_option("--store", a->store, "Store: a SQLite file, or a PostgreSQL connection string (postgresql://... or \"host=... dbname=...\") (default: OUT_DIR/acervo.db)");
  cmd->add_option("--state", a->state, "State file of processed items (default: OUT_DIR/.watch-state.jsonl)");
  cmd->add_option("--marker", a->marker,
                  "A lot folder is taken only when it holds this file (default: the lot profile's "
                  "[scanner] ready_marker, else none)");
  cmd->add_option("--settle", a->settle, "Seconds an item must stay unchanged (default 5)")->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--interval", a->interval, "Seconds between polls (default 2)")->check(CLI::Range(0.05, 3600.0));
  cmd->add_flag("--once", a->once, "Process what is complete now, then exit");
  cmd->add_flag("--poll", a->poll, "Poll only (no inotify), e.g. on network shares");
  cmd->add_option("--jobs,-j", a->jobs, "Worker threads per lot (default: number of cores)")->check(CLI::Range(1, 256));
  cmd->add_option("--lang", a->languages, "Tesseract languages (default: the profile's)");
  cmd->add_flag("--quiet,-q", a->quiet, "No progress on stderr");
  return {cmd, [a, &ctx]() -> int {
            const bool queueing = !a->enqueue.empty();
            if (queueing == !a->out.empty()) {
              std::fprintf(stderr, "acervo watch: give either --out (process here) or --enqueue (queue for the "
                                   "workers)\n");
              return kExitUsage;
            }
            if (queueing && a->shared_root.empty()) {
              std::fprintf(stderr, "acervo watch: --enqueue needs --shared-root (or $ACERVO_SHARED_ROOT)\n");
              return kExitUsage;
            }
            // Queued items: the state and the staged single files live on the
            // shared root, where the workers read them.
            const fs::path home = queueing ? a->shared_root : a->out;
            {
              // Anything written into the hot folder would come back as an
              // item. Queued, only the staged single files are written here
              // (the hot folder may well lie on the shared root).
              const fs::path out = queueing ? a->shared_root / ".watch-staging" : a->out;
              const std::string out_name = queueing ? "staging folder" : "--out folder";
              Status apart = CheckSeparateFolders(a->dir, "hot folder", out, out_name);
              const fs::path store_path = a->store.empty() ? a->out / "acervo.db" : fs::path(a->store);
              if (apart.ok() && !queueing && !IsPostgresSpec(store_path.string())) {
                apart = CheckSeparateFolders(a->dir, "hot folder", store_path, "--store");
              }
              if (!apart.ok()) {
                std::fprintf(stderr, "acervo watch: %s\n", TerminalText(apart.message()).c_str());
                return kExitUsage;
              }
            }
            std::error_code ec;
            std::unique_ptr<Store> store;
            std::unique_ptr<WorkQueue> queue;
            if (queueing) {
              Result<std::unique_ptr<WorkQueue>> q = OpenWorkQueue(a->enqueue);
              if (!q.ok()) {
                std::fprintf(stderr, "acervo watch: %s\n", q.status().ToString().c_str());
                return q.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitCannotRun;
              }
              queue = std::move(q).value();
            } else {
              fs::path store_path = a->store.empty() ? a->out / "acervo.db" : fs::path(a->store);
              fs::create_directories(a->out, ec);
              Result<std::unique_ptr<Store>> opened = OpenStore(store_path);
              if (!opened.ok()) {
                std::fprintf(stderr, "acervo watch: cannot open store %s: %s\n", store_path.c_str(),
                             opened.status().ToString().c_str());
                return kExitCannotRun;
              }
              store = std::move(opened).value();
            }
            HotFolderOptions ho;
            ho.dir = a->dir;
            ho.state_file = a->state.empty() ? home / ".watch-state.jsonl" : fs::path(a->state);
            ho.settle_seconds = a->settle;
            ho.use_inotify = !a->poll;
            std::string marker = a->marker;
            ho.marker_for = [marker](const fs::path& lot) -> std::string {
              if (!marker.empty()) return marker;
              Result<LotProfile> p = LoadProfile(lot / "profile.toml");
              // A missing or broken profile asks for no marker; RunLot
              // reports a broken profile when the lot is processed.
              return p.ok() ? p->scanner.ready_marker : "";
            };
            Result<std::unique_ptr<HotFolder>> hot = HotFolder::Open(ho);
            if (!hot.ok()) {
              std::fprintf(stderr, "acervo watch: %s\n", hot.status().ToString().c_str());
              return hot.status().code() == StatusCode::kNotFound ? kExitUsage : kExitCannotRun;
            }
            if (!a->quiet) {
              std::fprintf(stderr, "[watch] %s (%s), settle %.1f s\n", a->dir.c_str(),
                           (*hot)->using_inotify() ? "inotify + polling" : "polling", a->settle);
            }
            int processed = 0, failed = 0;
            for (;;) {
              if (ctx.cancel != nullptr && ctx.cancel->load()) break;
              Result<HotScan> scan = (*hot)->Scan();
              if (!scan.ok()) {
                std::fprintf(stderr, "acervo watch: %s\n", scan.status().ToString().c_str());
                return kExitCannotRun;
              }
              for (const HotItem& item : scan->ready) {
                if (ctx.cancel != nullptr && ctx.cancel->load()) break;
                RunOptions ro;
                if (!item.refused.empty()) {
                  // A link or a FIFO: named once as failed, never followed.
                  const std::string outcome = "failed: " + item.refused;
                  Status marked = (*hot)->MarkDone(item, outcome);
                  if (!marked.ok()) {
                    std::fprintf(stderr, "acervo watch: %s\n", TerminalText(marked.ToString()).c_str());
                    return kExitCannotRun;
                  }
                  ++failed;
                  std::printf("%s\t%s\n", TerminalText(item.name).c_str(), TerminalText(outcome).c_str());
                  std::fflush(stdout);
                  continue;
                }
                if (item.is_dir) {
                  ro.lot_dir = item.path;
                } else {
                  // A page file is a lot of its own, read where it is (the
                  // original is never touched), named after the file: its
                  // full name, so x.png and x.tif are two lots.
                  ro.lot_dir = a->dir;
                  ro.only_file = item.name;
                  ro.lot_id = item.name;
                }
                if (queueing) {
                  // Handed over: a single file is staged on the shared root
                  // (a hard link or a copy: the original stays where it is)
                  // under a unique name, and the staged lot stays: it is the
                  // lot the workers read.
                  fs::path lot_dir = item.path;
                  if (!item.is_dir) {
                    std::string suffix = "-" + UtcNowIso8601();
                    for (char& c : suffix) c = c == ':' ? '-' : c;
                    Result<fs::path> staged = StageFile(item, home, suffix);
                    if (!staged.ok()) {
                      std::fprintf(stderr, "acervo watch: %s: %s\n", TerminalText(item.name).c_str(),
                                   TerminalText(staged.status().ToString()).c_str());
                      ++failed;
                      continue;  // not recorded: retried on the next pass
                    }
                    lot_dir = *staged;
                  }
                  QueuedLotOptions options;
                  options.languages = a->languages;
                  Result<QueuedLot> q = EnqueueLot(*queue, lot_dir, a->shared_root, options);
                  if (!q.ok() && q.status().code() != StatusCode::kInvalidArgument) {
                    std::fprintf(stderr, "acervo watch: %s: %s\n", TerminalText(item.name).c_str(),
                                 TerminalText(q.status().ToString()).c_str());
                    ++failed;
                    continue;  // not recorded: retried on the next pass (the database may be back)
                  }
                  const std::string outcome = q.ok() ? "queued as lot " + std::to_string(q->result.lot)
                                                     : "failed: " + q.status().ToString();
                  Status marked = (*hot)->MarkDone(item, outcome);
                  if (!marked.ok()) {
                    std::fprintf(stderr, "acervo watch: %s\n", TerminalText(marked.ToString()).c_str());
                    return kExitCannotRun;
                  }
                  if (q.ok()) ++processed;
                  else ++failed;
                  std::printf("%s\t%s\n", TerminalText(item.name).c_str(), TerminalText(outcome).c_str());
                  std::fflush(stdout);
                  continue;
                }
                ro.out_dir = a->out;
                ro.jobs = a->jobs;
                ro.languages = a->languages;
                ro.progress = !a->quiet;
                ro.cancel = ctx.cancel;
                if (!a->quiet) std::fprintf(stderr, "[watch] processing %s\n", TerminalText(item.name).c_str());
                Result<LotReport> report = RunLot(ro, *store);
                if (ctx.cancel != nullptr && ctx.cancel->load()) break;  // unfinished: not recorded
                std::string outcome;
                if (!report.ok()) {
                  outcome = "failed: " + report.status().ToString();
                } else if (report->HasErrors()) {
                  const LotProblem& p = report->problems.front();
                  outcome = "failed: " + p.where + ": " + p.message + " (" +
                            std::to_string(report->problems.size()) + " problems, see " +
                            (report->lot_out_dir / "report.json").string() + ")";
                } else {
                  outcome = "ok";
                }
                Status marked = (*hot)->MarkDone(item, outcome);
                if (!marked.ok()) {
                  std::fprintf(stderr, "acervo watch: %s\n", marked.ToString().c_str());
                  return kExitCannotRun;
                }
                if (outcome == "ok") ++processed;
                else ++failed;
                std::printf("%s\t%s\n", TerminalText(item.name).c_str(), TerminalText(outcome).c_str());
                std::fflush(stdout);
              }
              if (a->once) {
                for (const auto& [item, why] : scan->waiting) {
                  if (!a->quiet) {
                    std::fprintf(stderr, "[watch] not yet: %s (%s)\n", TerminalText(item.name).c_str(), why.c_str());
                  }
                }
                break;
              }
              (*hot)->Wait(a->interval, ctx.cancel);
            }
            if (!a->quiet) std::fprintf(stderr, "[watch] %d processed, %d failed\n", processed, failed);
            if (a->once && ctx.cancel != nullptr && ctx.cancel->load()) return kExitInterrupted;
            return failed > 0 ? kExitPartial : kExitOk;
          }};
}

}  // namespace acervo::cli
