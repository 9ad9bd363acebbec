// acervo watch: a hot folder for scan-to-folder devices. Complete page files
// and lot folders dropped into DIR are processed with RunLot into OUT_DIR and
// the store; each is processed once (state file, also across restarts), and
// nothing in DIR is moved or changed.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "acervo/core/files.h"
#include "acervo/indexer/open_store.h"
#include "acervo/core/text.h"
#include "acervo/pipeline/lot_runner.h"
#include "acervo/pipeline/profile.h"
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
};

}  // namespace

Command AddWatchCommand(CLI::App& root, const Context& ctx) {
  auto a = std::make_shared<WatchArgs>();
  CLI::App* cmd = root.add_subcommand("watch", "Process page files and lot folders dropped into a hot folder");
  cmd->add_option("DIR", a->dir, "The hot folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->out, "Output folder (as for `acervo run`)")->required();
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
            fs::path store_path = a->store.empty() ? a->out / "acervo.db" : fs::path(a->store);
            // Anything written into the hot folder would come back as an item.
            Status apart = CheckSeparateFolders(a->dir, "hot folder", a->out, "--out folder");
            if (apart.ok() && !IsPostgresSpec(store_path.string())) {
              apart = CheckSeparateFolders(a->dir, "hot folder", store_path, "--store");
            }
            if (!apart.ok()) {
              std::fprintf(stderr, "acervo watch: %s\n", TerminalText(apart.message()).c_str());
              return kExitUsage;
            }
            std::error_code ec;
            fs::create_directories(a->out, ec);
            Result<std::unique_ptr<Store>> store = OpenStore(store_path);
            if (!store.ok()) {
              std::fprintf(stderr, "acervo watch: cannot open store %s: %s\n", store_path.c_str(),
                           store.status().ToString().c_str());
              return kExitCannotRun;
            }
            HotFolderOptions ho;
            ho.dir = a->dir;
            ho.state_file = a->state.empty() ? a->out / ".watch-state.jsonl" : fs::path(a->state);
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
                ro.out_dir = a->out;
                ro.jobs = a->jobs;
                ro.languages = a->languages;
                ro.progress = !a->quiet;
                ro.cancel = ctx.cancel;
                if (!a->quiet) std::fprintf(stderr, "[watch] processing %s\n", TerminalText(item.name).c_str());
                Result<LotReport> report = RunLot(ro, **store);
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
