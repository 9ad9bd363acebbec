#include "acervo/pipeline/queue_worker.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "acervo/core/clock.h"
#include "acervo/core/text.h"
#include "acervo/indexer/postgres_store.h"
#include "acervo/indexer/work_queue.h"
#include "acervo/pipeline/batch.h"
#include "acervo/pipeline/chain_pool.h"
#include "queue_unit.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The advisory lock key of the morning report's rewrite.
constexpr int64_t kReportLock = 7243018;

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// One running worker process: `jobs` unit threads, a heartbeat thread and a
// listener thread around one queue.
class Worker {
 public:
  Worker(const WorkerOptions& o, std::unique_ptr<WorkQueue> queue, std::unique_ptr<WorkQueue> beat)
      : o_(o), queue_(std::move(queue)), beat_(std::move(beat)), chains_(static_cast<size_t>(o.jobs)) {
    if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) stop_pipe_[0] = stop_pipe_[1] = -1;
    info_.name = o.name.empty() ? HostName() + ":" + std::to_string(::getpid()) : o.name;
    info_.host = HostName();
    info_.pid = static_cast<int>(::getpid());
    info_.jobs = o.jobs;
    info_.lease_seconds = static_cast<int>(o.lease.count());
  }

  ~Worker() {
    for (int fd : stop_pipe_) {
      if (fd >= 0) ::close(fd);
    }
  }

  Result<WorkerSummary> Run() {
    ACERVO_RETURN_IF_ERROR(queue_->RegisterWorker(info_));
    Log("started: " + std::to_string(o_.jobs) + " unit(s) at a time, shared root " + o_.shared_root.string());
    std::vector<std::thread> slots;
    for (int i = 0; i < o_.jobs; ++i) slots.emplace_back([this] { SlotLoop(); });
    std::thread beat([this] { HeartbeatLoop(); });
    std::thread listener([this] { ListenLoop(); });
    for (std::thread& t : slots) t.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    beat.join();
    listener.join();
    info_.state = "stopped";
    Status s = queue_->RegisterWorker(info_);
    if (!s.ok()) Log("could not record the stop: " + s.ToString());
    Log("stopped: " + std::to_string(summary_.units_done) + " units done, " +
        std::to_string(summary_.units_failed) + " failed, " + std::to_string(summary_.units_released) +
        " released, " + std::to_string(summary_.units_lost) + " lost, " + std::to_string(summary_.pages) + " pages");
    return summary_;
  }

 private:
  bool Stopping() const { return (o_.stop != nullptr && o_.stop->load()) || idle_exit_.load(); }

  void Log(const std::string& line) {
    if (!o_.progress) return;
    std::lock_guard<std::mutex> lock(log_mu_);
    std::fprintf(stderr, "[worker %s] %s\n", info_.name.c_str(), line.c_str());
    std::fflush(stderr);
  }

  static std::string Describe(const ClaimedUnit& u) {
    std::string s = "unit " + std::to_string(u.id) + " (" + std::string(UnitKindName(u.kind));
    if (!u.document_id.empty()) s += " " + u.document_id;
    if (u.kind == UnitKind::kPages) {
      s += " pages " + std::to_string(u.first_page + 1) + "-" + std::to_string(u.end_page);
    }
    s += " of " + (u.lot_id.empty() ? u.lot_dir : u.lot_id);
    if (u.attempts > 1) s += ", attempt " + std::to_string(u.attempts);
    return s + ")";
  }

  // One unit thread: claim, run, record; sleep when nothing is ready.
  void SlotLoop() {
    Result<std::unique_ptr<Store>> store = OpenPostgresStore(o_.store, PostgresOptions{kDatabasePatience});
    if (!store.ok()) {
      Log("cannot open the store: " + store.status().ToString());
      StopAll();
      return;
    }
    std::optional<ClaimedUnit> next;  // claimed together with the last completion
    while (next || !Stopping()) {
      if (!next) {
        uint64_t seen;
        {
          std::lock_guard<std::mutex> lock(mu_);
          seen = generation_;
        }
        Result<std::optional<ClaimedUnit>> claimed = queue_->Claim(info_.name);
        if (!claimed.ok()) {
          Log("cannot claim: " + claimed.status().ToString());
          WaitForWake(seen, std::chrono::seconds(5));
          continue;
        }
        if (!claimed->has_value()) {
          if (o_.exit_when_idle && QueueEmpty()) {
            StopAll();
            break;
          }
          WaitForWake(seen, std::chrono::seconds(60));
          continue;
        }
        next = std::move(*claimed);
      }
      const ClaimedUnit unit = std::move(*next);
      next.reset();
      std::shared_ptr<std::atomic<bool>> cancel;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = held_.find(unit.claim);  // held since its claim when it came with a completion
        if (it == held_.end()) it = held_.emplace(unit.claim, Held{std::make_shared<std::atomic<bool>>(false)}).first;
        cancel = it->second.cancel;
      }
      Log(Describe(unit) + ": started");
      const Clock::time_point t0 = Clock::now();
      UnitEnv env;
      env.store = store->get();
      env.queue = queue_.get();
      env.shared_root = o_.shared_root;
      env.chains = &chains_;
      env.plans = &plans_;
      env.cancel = cancel.get();
      const UnitRun run = RunUnit(unit, env);
      const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      bool lost;
      {
        std::lock_guard<std::mutex> lock(mu_);
        lost = held_[unit.claim].lost;
      }
      next = Record(unit, run.outcome, run.interrupted, lost, seconds);
      {
        std::lock_guard<std::mutex> lock(mu_);
        held_.erase(unit.claim);
        // The next unit is held from now on (heartbeats).
        if (next) held_[next->claim] = Held{std::make_shared<std::atomic<bool>>(false), false};
      }
    }
  }

  // What a slot does with a finished unit: complete it (and, unless
  // stopping, claim the next one in the same transaction), or (stopped
  // before its end) hand it back, or (lost) drop it. Returns the next unit.
  std::optional<ClaimedUnit> Record(const ClaimedUnit& unit, const UnitOutcome& outcome, bool interrupted, bool lost,
                                    double seconds) {
    char took[32];
    std::snprintf(took, sizeof(took), "%.1f s", seconds);
    if (lost) {
      std::lock_guard<std::mutex> lock(mu_);
      ++summary_.units_lost;
      Log(Describe(unit) + ": lost its lease (taken over); outcome dropped");
      return std::nullopt;
    }
    if (interrupted) {
      Status s = queue_->Release(unit);
      std::lock_guard<std::mutex> lock(mu_);
      if (s.ok()) {
        ++summary_.units_released;
        Log(Describe(unit) + ": stopped and handed back to the queue after " + took);
      } else {
        ++summary_.units_lost;
        Log(Describe(unit) + ": stopped; " + s.ToString());
      }
      return std::nullopt;
    }
    std::optional<ClaimedUnit> next;
    Status s;
    if (Stopping()) {
      s = queue_->Complete(unit, outcome);
    } else {
      Result<std::optional<ClaimedUnit>> claimed = queue_->CompleteAndClaim(unit, outcome, info_.name, &s);
      if (!claimed.ok()) s = claimed.status();
      else next = std::move(*claimed);
    }
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++summary_.units_lost;
      Log(Describe(unit) + ": outcome not recorded: " + s.ToString());
      return next;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (outcome.failed) ++summary_.units_failed;
      else ++summary_.units_done;
      summary_.pages += outcome.pages_computed;
    }
    if (outcome.failed) {
      Log(Describe(unit) + ": failed after " + took + ": " + outcome.error);
    } else {
      Log(Describe(unit) + ": done in " + took +
          (outcome.pages_computed > 0 ? ", " + std::to_string(outcome.pages_computed) + " pages" : "") +
          (unit.kind == UnitKind::kPlan ? ", " + std::to_string(outcome.units.size()) + " units queued" : ""));
    }
    if (unit.kind == UnitKind::kFinalise) {
      // The lot is in the morning report now: rewrite it, one finaliser at a time.
      const fs::path dir = o_.shared_root / "report";
      Status r = queue_->WithLock(kReportLock, [&] {
        return WriteQueueReport(*queue_, o_.shared_root, dir, MorningReportSince());
      });
      if (!r.ok()) Log("cannot rewrite the morning report: " + r.ToString());
    }
    return next;
  }

  // The morning report covers the last day.
  static std::string MorningReportSince() {
    std::time_t t = std::time(nullptr) - 24 * 3600;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

  bool QueueEmpty() {
    Result<QueueStatus> st = queue_->GetStatus(0);
    return st.ok() && st->units.pending == 0 && st->units.running == 0;
  }

  void WaitForWake(uint64_t seen, std::chrono::seconds at_most) {
    std::unique_lock<std::mutex> lock(mu_);
    ++idle_;
    cv_.notify_all();  // the listener waits for an idle slot
    cv_.wait_for(lock, at_most, [&] { return generation_ != seen || Stopping() || finished_; });
    --idle_;
  }

  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++generation_;
    }
    cv_.notify_all();
  }

  void StopAll() {
    idle_exit_ = true;
    Wake();
    // The listener may be asleep on LISTEN: it must not hold the exit
    // back for the rest of its wait.
    if (stop_pipe_[1] >= 0) (void)!::write(stop_pipe_[1], "x", 1);
  }

  // Sleeps on LISTEN while some slot is idle; wakes the slots on a
  // notification, a lease expiry or the stop signal.
  void ListenLoop() {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return idle_ > 0 || finished_ || Stopping(); });
        if (finished_) return;
      }
      if (Stopping()) {
        Wake();
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return finished_; });
        return;
      }
      Status s = queue_->WaitForWork(std::chrono::seconds(60), o_.wake_fd, stop_pipe_[0]);
      if (!s.ok()) {
        Log("lost the database while waiting: " + s.ToString());
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      Wake();
    }
  }

  // Extends the leases of the units held; stops the units whose lease was
  // taken over, and all of them when the database has not heard from us
  // for 3/4 of a lease (others may take them over at its end). Also the
  // drain: records the state and stops what runs past the drain timeout.
  void HeartbeatLoop() {
    const auto every = std::max<Clock::duration>(std::chrono::milliseconds(250), o_.lease / 4);
    Clock::time_point last_ok = Clock::now();
    std::optional<Clock::time_point> drain_since;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, every, [&] { return finished_; })) return;
      }
      std::vector<int64_t> claims;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [claim, h] : held_) claims.push_back(claim);
      }
      Result<std::vector<int64_t>> lost = beat_->Heartbeat(info_.name, claims);
      if (lost.ok()) {
        last_ok = Clock::now();
        std::lock_guard<std::mutex> lock(mu_);
        for (int64_t c : *lost) {
          auto it = held_.find(c);
          if (it == held_.end()) continue;
          it->second.lost = true;
          it->second.cancel->store(true);
        }
      } else if (Clock::now() - last_ok > o_.lease * 3 / 4) {
        std::lock_guard<std::mutex> lock(mu_);
        bool stopping = false;
        for (auto& [claim, h] : held_) stopping |= !h.cancel->exchange(true);
        if (stopping) {
          Log("no heartbeat reached the database for " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - last_ok).count()) +
              " s: stopping the units held, others may take them over (" + lost.status().ToString() + ")");
        }
      }
      if (o_.stop != nullptr && o_.stop->load() && !drain_since) {
        drain_since = Clock::now();
        info_.state = "draining";
        (void)beat_->RegisterWorker(info_);
        Log("draining: finishing the units held, claiming no more");
        Wake();
      }
      if (drain_since && Clock::now() - *drain_since >= o_.drain_timeout) {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& [claim, h] : held_) h.cancel->store(true);
      }
    }
  }

  // How long the store and the queue wait for a database that went away
  // before a call fails (a restart, a failover).
  static constexpr std::chrono::milliseconds kDatabasePatience{600000};

  struct Held {
    std::shared_ptr<std::atomic<bool>> cancel;
    bool lost = false;
  };

  const WorkerOptions o_;
  std::unique_ptr<WorkQueue> queue_;  // claims, completions, LISTEN
  std::unique_ptr<WorkQueue> beat_;   // heartbeats only: never queued behind a slow completion
  WorkerInfo info_;
  StageChainPool chains_;
  PlanCache plans_;
  std::mutex log_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;
  int idle_ = 0;
  bool finished_ = false;
  std::atomic<bool> idle_exit_{false};
  int stop_pipe_[2] = {-1, -1};  // written by StopAll: wakes the listener
  std::map<int64_t, Held> held_;  // by claim
  WorkerSummary summary_;
};

}  // namespace

Result<WorkerSummary> RunWorker(const WorkerOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(options.shared_root, ec)) {
    return Status::InvalidArgument("the shared root " + options.shared_root.string() + " is not a folder (is it mounted?)");
  }
  if (options.jobs < 1) return Status::InvalidArgument("--jobs must be at least 1");
  QueueOptions qo;
  qo.lease = options.lease;
  qo.max_attempts = options.max_attempts;
  qo.busy_timeout = std::chrono::milliseconds(600000);
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<WorkQueue> queue, OpenWorkQueue(options.store, qo));
  // Heartbeats give up quickly: a late one is worth nothing.
  QueueOptions bo = qo;
  bo.busy_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.lease) / 4;
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<WorkQueue> beat, OpenWorkQueue(options.store, bo));
  WorkerOptions o = options;
  o.shared_root = fs::absolute(options.shared_root).lexically_normal();
  Worker worker(o, std::move(queue), std::move(beat));
  return worker.Run();
}

std::string QueuedLotOptionsJson(const QueuedLotOptions& o) {
  return json{{"languages", o.languages}, {"lot_id", o.lot_id}, {"force", o.force}, {"hocr", o.hocr},
              {"alto", o.alto}, {"text", o.text}, {"unit_pages", o.unit_pages}}
      .dump();
}

Result<QueuedLotOptions> ParseQueuedLotOptions(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::InvalidArgument("not a JSON object: " + text);
  QueuedLotOptions o;
  try {
    o.languages = j.value("languages", "");
    o.lot_id = j.value("lot_id", "");
    o.force = j.value("force", false);
    o.hocr = j.value("hocr", false);
    o.alto = j.value("alto", false);
    o.text = j.value("text", false);
    o.unit_pages = j.value("unit_pages", o.unit_pages);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("queued options: ") + e.what());
  }
  return o;
}

Result<std::string> QueuedLotDir(const fs::path& lot_dir, const fs::path& shared_root) {
  std::error_code ec;
  if (!fs::is_directory(lot_dir, ec)) return Status::NotFound("not a lot folder: " + lot_dir.string());
  const fs::path dir = fs::weakly_canonical(fs::absolute(lot_dir), ec);
  if (shared_root.empty()) return dir.string();
  const fs::path root = fs::weakly_canonical(fs::absolute(shared_root), ec);
  const fs::path rel = dir.lexically_relative(root);
  if (rel.empty() || rel == "." || *rel.begin() == "..") {
    return Status::InvalidArgument(lot_dir.string() + " is not inside the shared root " + root.string() +
                                   ": the workers could not find it");
  }
  return rel.string();
}

fs::path ResolveQueuedPath(const fs::path& shared_root, const std::string& queued) {
  const fs::path p(queued);
  return p.is_absolute() ? p : shared_root / p;
}

std::string QueuedLot::Describe() const {
  const std::string id = std::to_string(result.lot);
  // A terminal line: the folder's name is shown, never obeyed (TerminalText).
  return TerminalText(folder) + "\t" + (result.already_queued ? "already queued as lot " + id + " (" + result.state + ")"
                                                 : "queued as lot " + id);
}

Result<QueuedLot> EnqueueLot(WorkQueue& queue, const fs::path& lot_dir, const fs::path& shared_root,
                             const QueuedLotOptions& options) {
  QueuedLot q;
  ACERVO_ASSIGN_OR_RETURN(q.folder, QueuedLotDir(lot_dir, shared_root));
  ACERVO_ASSIGN_OR_RETURN(q.result, queue.Enqueue({q.folder, QueuedLotOptionsJson(options),
                                                   HostName() + " " + std::to_string(::getpid())}));
  return q;
}

Status WriteQueueReport(WorkQueue& queue, const fs::path& shared_root, const fs::path& dir, const std::string& since) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<FinishedLot> lots, queue.FinishedLots(since));
  BatchReport rep;
  rep.queue_dir = "work queue (PostgreSQL)";
  rep.out_dir = shared_root.string();
  int64_t first = 0, last = 0;
  for (const FinishedLot& l : lots) {
    BatchLot b;
    b.folder = l.lot_dir;
    b.state = l.state == "done" ? BatchLot::State::kDone : BatchLot::State::kFailed;
    b.error = l.error;
    json report = json::parse(l.report_json.empty() ? "{}" : l.report_json, nullptr, false);
    if (report.is_object() && !report.empty()) {
      // Paths were stored relative to the shared root; resolve them here.
      const auto resolve = [&](json& v) {
        if (v.is_string() && !v.get_ref<const std::string&>().empty() && v.get_ref<const std::string&>()[0] != '/') {
          v = (shared_root / v.get<std::string>()).string();
        }
      };
      if (report.contains("output")) resolve(report["output"]);
      for (const char* list : {"flagged", "quarantined"}) {
        if (!report.contains(list) || !report[list].is_array()) continue;
        for (json& e : report[list]) {
          if (e.contains("thumbnail")) resolve(e["thumbnail"]);
          if (e.contains("copy")) resolve(e["copy"]);
        }
      }
      if (report.contains("documents") && report["documents"].contains("list")) {
        for (json& d : report["documents"]["list"]) {
          if (d.contains("pdf")) resolve(d["pdf"]);
        }
      }
      b.report_json = report.dump(2, ' ', false, json::error_handler_t::replace);
      b.has_errors = !report.value("problems", json::array()).empty();
    }
    const std::optional<int64_t> t0 = UnixSecondsOfIso8601(l.started_at.empty() ? l.enqueued_at : l.started_at);
    const std::optional<int64_t> t1 = UnixSecondsOfIso8601(l.finished_at);
    if (t0 && (first == 0 || *t0 < first)) {
      first = *t0;
      rep.started_at = l.started_at.empty() ? l.enqueued_at : l.started_at;
    }
    if (t1 && *t1 >= last) {
      last = *t1;
      rep.finished_at = l.finished_at;
    }
    rep.lots.push_back(std::move(b));
  }
  rep.seconds = first > 0 && last >= first ? static_cast<double>(last - first) : 0;
  return WriteBatchReport(rep, dir);
}

}  // namespace acervo
