// acervo watch: a hot folder for scan-to-folder devices. Complete page files
// and lot folders dropped into DIR are processed with RunLot into OUT_DIR and
// the store; each is processed once (state file, also across restarts), and
// nothing in DIR is moved or changed.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
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

// One `acervo watch` session: the hot folder, where its items go (a store
// here, or a queue for the workers), and the counts. The command is a
// driver over these steps.
class Watch {
 public:
  Watch(const WatchArgs& a, const Context& ctx) : a_(a), ctx_(ctx), queueing_(!a.enqueue.empty()) {}

  int Run() {
    if (std::optional<int> bad = CheckArgs()) return *bad;
    if (std::optional<int> bad = OpenTarget()) return *bad;
    if (std::optional<int> bad = OpenHotFolder()) return *bad;
    for (;;) {
      if (Cancelled()) break;
      Result<HotScan> scan = hot_->Scan();
      if (!scan.ok()) {
        std::fprintf(stderr, "acervo watch: %s\n", scan.status().ToString().c_str());
        return kExitCannotRun;
      }
      for (const HotItem& item : scan->ready) {
        if (Cancelled()) break;
        if (std::optional<int> stop = Take(item)) return *stop;
      }
      if (a_.once) {
        for (const auto& [item, why] : scan->waiting) {
          if (!a_.quiet) {
            std::fprintf(stderr, "[watch] not yet: %s (%s)\n", TerminalText(item.name).c_str(), why.c_str());
          }
        }
        break;
      }
      hot_->Wait(a_.interval, ctx_.cancel);
    }
    if (!a_.quiet) std::fprintf(stderr, "[watch] %d processed, %d failed\n", processed_, failed_);
    if (a_.once && Cancelled()) return kExitInterrupted;
    return failed_ > 0 ? kExitPartial : kExitOk;
  }

 private:
  bool Cancelled() const { return ctx_.cancel != nullptr && ctx_.cancel->load(); }

  // Exactly one of --out and --enqueue, and nothing written into the hot
  // folder: anything written there would come back as an item. Queued,
  // only the staged single files are written here (the hot folder may well
  // lie on the shared root).
  std::optional<int> CheckArgs() {
    if (queueing_ == !a_.out.empty()) {
      std::fprintf(stderr, "acervo watch: give either --out (process here) or --enqueue (queue for the "
                           "workers)\n");
      return kExitUsage;
    }
    if (queueing_ && a_.shared_root.empty()) {
      std::fprintf(stderr, "acervo watch: --enqueue needs --shared-root (or $ACERVO_SHARED_ROOT)\n");
      return kExitUsage;
    }
    // Queued items: the state and the staged single files live on the
    // shared root, where the workers read them.
    home_ = queueing_ ? a_.shared_root : a_.out;
    const fs::path out = queueing_ ? a_.shared_root / ".watch-staging" : a_.out;
    const std::string out_name = queueing_ ? "staging folder" : "--out folder";
    Status apart = CheckSeparateFolders(a_.dir, "hot folder", out, out_name);
    if (apart.ok() && !queueing_ && !IsPostgresSpec(StorePath().string())) {
      apart = CheckSeparateFolders(a_.dir, "hot folder", StorePath(), "--store");
    }
    if (!apart.ok()) {
      std::fprintf(stderr, "acervo watch: %s\n", TerminalText(apart.message()).c_str());
      return kExitUsage;
    }
    return std::nullopt;
  }

  fs::path StorePath() const { return a_.store.empty() ? a_.out / "acervo.db" : fs::path(a_.store); }

  // The workers' queue, or the store items are processed into here.
  std::optional<int> OpenTarget() {
    if (queueing_) {
      Result<std::unique_ptr<WorkQueue>> q = OpenWorkQueue(a_.enqueue);
      if (!q.ok()) {
        std::fprintf(stderr, "acervo watch: %s\n", q.status().ToString().c_str());
        return q.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitCannotRun;
      }
      queue_ = std::move(q).value();
      return std::nullopt;
    }
    std::error_code ec;
    fs::create_directories(a_.out, ec);
    Result<std::unique_ptr<Store>> opened = OpenStore(StorePath());
    if (!opened.ok()) {
      std::fprintf(stderr, "acervo watch: cannot open store %s: %s\n", StorePath().c_str(),
                   opened.status().ToString().c_str());
      return kExitCannotRun;
    }
    store_ = std::move(opened).value();
    return std::nullopt;
  }

  std::optional<int> OpenHotFolder() {
    HotFolderOptions ho;
    ho.dir = a_.dir;
    ho.state_file = a_.state.empty() ? home_ / ".watch-state.jsonl" : fs::path(a_.state);
    ho.settle_seconds = a_.settle;
    ho.use_inotify = !a_.poll;
    ho.marker_for = [marker = a_.marker](const fs::path& lot) -> std::string {
      if (!marker.empty()) return marker;
      Result<LotProfile> p = LoadProfile(lot / "profile.toml");
      // A missing or broken profile asks for no marker; RunLot reports a
      // broken profile when the lot is processed.
      return p.ok() ? p->scanner.ready_marker : "";
    };
    Result<std::unique_ptr<HotFolder>> hot = HotFolder::Open(ho);
    if (!hot.ok()) {
      std::fprintf(stderr, "acervo watch: %s\n", hot.status().ToString().c_str());
      return hot.status().code() == StatusCode::kNotFound ? kExitUsage : kExitCannotRun;
    }
    hot_ = std::move(hot).value();
    if (!a_.quiet) {
      std::fprintf(stderr, "[watch] %s (%s), settle %.1f s\n", a_.dir.c_str(),
                   hot_->using_inotify() ? "inotify + polling" : "polling", a_.settle);
    }
    return std::nullopt;
  }

  // One complete item: refused, queued or processed here. An exit code
  // only when the watch must stop.
  std::optional<int> Take(const HotItem& item) {
    // A link or a FIFO: named once as failed, never followed.
    if (!item.refused.empty()) return Record(item, "failed: " + item.refused, false);
    return queueing_ ? Enqueue(item) : Process(item);
  }

  // Handed over: a single file is staged on the shared root (a hard link or
  // a copy: the original stays where it is) under a unique name, and the
  // staged lot stays: it is the lot the workers read.
  std::optional<int> Enqueue(const HotItem& item) {
    fs::path lot_dir = item.path;
    if (!item.is_dir) {
      std::string suffix = "-" + UtcNowIso8601();
      for (char& c : suffix) c = c == ':' ? '-' : c;
      Result<fs::path> staged = StageFile(item, home_, suffix);
      if (!staged.ok()) return NotYet(item, staged.status());  // retried on the next pass
      lot_dir = *staged;
    }
    QueuedLotOptions options;
    options.languages = a_.languages;
    Result<QueuedLot> q = EnqueueLot(*queue_, lot_dir, a_.shared_root, options);
    if (!q.ok() && q.status().code() != StatusCode::kInvalidArgument) {
      return NotYet(item, q.status());  // retried on the next pass (the database may be back)
    }
    return Record(item, q.ok() ? "queued as lot " + std::to_string(q->result.lot) : "failed: " + q.status().ToString(),
                  q.ok());
  }

  // Processed here with RunLot. A page file is a lot of its own, read where
  // it is (the original is never touched), named after the file: its full
  // name, so x.png and x.tif are two lots.
  std::optional<int> Process(const HotItem& item) {
    RunOptions ro;
    if (item.is_dir) {
      ro.lot_dir = item.path;
    } else {
      ro.lot_dir = a_.dir;
      ro.only_file = item.name;
      ro.lot_id = item.name;
    }
    ro.out_dir = a_.out;
    ro.jobs = a_.jobs;
    ro.languages = a_.languages;
    ro.progress = !a_.quiet;
    ro.cancel = ctx_.cancel;
    if (!a_.quiet) std::fprintf(stderr, "[watch] processing %s\n", TerminalText(item.name).c_str());
    Result<LotReport> report = RunLot(ro, *store_);
    if (Cancelled()) return std::nullopt;  // unfinished: not recorded
    if (!report.ok()) return Record(item, "failed: " + report.status().ToString(), false);
    if (report->HasErrors()) {
      const LotProblem& p = report->problems.front();
      return Record(item,
                    "failed: " + p.where + ": " + p.message + " (" + std::to_string(report->problems.size()) +
                        " problems, see " + (report->lot_out_dir / "report.json").string() + ")",
                    false);
    }
    return Record(item, "ok", true);
  }

  // Not recorded: counted as failed this pass and taken again on the next.
  std::optional<int> NotYet(const HotItem& item, const Status& why) {
    std::fprintf(stderr, "acervo watch: %s: %s\n", TerminalText(item.name).c_str(),
                 TerminalText(why.ToString()).c_str());
    ++failed_;
    return std::nullopt;
  }

  // Recorded in the state file (so never taken again), counted, and printed
  // as "NAME<TAB>OUTCOME" on stdout.
  std::optional<int> Record(const HotItem& item, const std::string& outcome, bool ok) {
    Status marked = hot_->MarkDone(item, outcome);
    if (!marked.ok()) {
      std::fprintf(stderr, "acervo watch: %s\n", TerminalText(marked.ToString()).c_str());
      return kExitCannotRun;
    }
    ++(ok ? processed_ : failed_);
    std::printf("%s\t%s\n", TerminalText(item.name).c_str(), TerminalText(outcome).c_str());
    std::fflush(stdout);
    return std::nullopt;
  }

  const WatchArgs& a_;
  const Context& ctx_;
  const bool queueing_;
  fs::path home_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<WorkQueue> queue_;
  std::unique_ptr<HotFolder> hot_;
  int processed_ = 0;
  int failed_ = 0;
};

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
  return {cmd, [a, &ctx]() -> int { return Watch(*a, ctx).Run(); }};
}

}  // namespace acervo::cli
