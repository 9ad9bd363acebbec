// WorkQueue: the shared queue through which capture stations hand lots to
// any number of processing machines (docs/scaling.md, docs/deploy.md).
//
// A queued lot becomes units of work. Its first unit, `plan`, reads the lot
// and adds one `document` unit per document; a large document is also cut
// into `pages` units (ranges of its master pages) that run in parallel on
// any machine and leave their pages as checkpoints, and its `document` unit
// waits for them, then writes the PDF from the checkpoints and commits the
// row. When the last unit of a lot has finished, one `finalise` unit is
// added (exactly once: it is created in the transaction that records the
// last completion) and writes the lot's report and morning-report entry.
//
// Claims and leases: Claim() takes the oldest ready unit with SELECT ... FOR
// UPDATE SKIP LOCKED, so concurrent workers never wait for each other nor
// take the same unit, and gives it a fencing token (`claim`) and a lease.
// The holder extends the lease with Heartbeat(); a unit whose lease expired
// (its worker died or lost the database) is given to the next claimer, and
// after `max_attempts` expired leases it fails with the reason instead of
// killing one worker after another. Complete() and Release() act only for
// the current claim: a worker that was presumed dead cannot overwrite the
// work of the one that took over. A unit that fails (bad input, a document
// that cannot be produced) fails once with its reason; it is never retried
// by the queue.
//
// Waking: Enqueue() and every completion that makes a unit ready NOTIFY;
// WaitForWork() sleeps on LISTEN until then (or until the earliest lease
// expiry), so idle workers cost no queries.
//
// The queue exists on PostgreSQL only (OpenPostgresQueue); a SQLite store is
// one machine's and has no queue (OpenWorkQueue says so).
//
// Thread-safety: every method may be called from any thread; calls are
// serialised on one connection, except WaitForWork, which has its own.
// Ownership: the caller owns the queue (std::unique_ptr).
#ifndef ACERVO_INDEXER_WORK_QUEUE_H_
#define ACERVO_INDEXER_WORK_QUEUE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

enum class UnitKind { kPlan, kPages, kDocument, kFinalise };
std::string_view UnitKindName(UnitKind kind);  // "plan", "pages", "document", "finalise"

struct QueueLotRequest {
  // The lot folder as every machine finds it: relative to the shared root
  // (the usual case), or absolute (machines that mount it at one path).
  std::string lot_dir;
  std::string options_json = "{}";  // how to run it (the worker reads it), a JSON object
  std::string enqueued_by;          // who handed it over ("host pid")
};

struct EnqueueResult {
  int64_t lot = 0;              // queue lot id
  bool already_queued = false;  // the folder was queued or running already: that lot
  std::string state;            // its state: "queued", "running"
};

// A unit a worker holds. Page indices are 0-based master pages of the
// document, end exclusive.
struct ClaimedUnit {
  int64_t id = 0;
  int64_t lot = 0;
  UnitKind kind = UnitKind::kPlan;
  int document_index = -1;  // in the lot plan (document units, pages units)
  std::string document_id;
  int first_page = 0;
  int end_page = 0;
  int attempts = 0;   // 1 on the first claim
  int64_t claim = 0;  // the fencing token of this claim
  // The lot.
  std::string lot_dir;
  std::string lot_id;       // "" until planned
  std::string options_json;
  std::string fingerprint;  // of the lot folder when planned ("" before)
  std::string lot_started_at;  // ISO 8601 UTC, when the lot's plan was claimed
};

// A unit a plan adds.
struct NewUnit {
  UnitKind kind = UnitKind::kDocument;  // kDocument or kPages
  int document_index = 0;
  std::string document_id;
  int first_page = 0;
  int end_page = 0;  // pages units; document units cover every page
  int pages = 0;     // master pages of the unit (for the status)
};

struct UnitOutcome {
  bool failed = false;
  std::string error;        // why it failed: file, page and reason
  std::string report_json;  // what the finaliser merges ("" = none)
  int pages_computed = 0;   // pages that ran the stage chain in this unit
  // A plan: the units of the lot, the lot id and the folder's fingerprint.
  std::vector<NewUnit> units;
  std::string lot_id;
  std::string fingerprint;
};

// What the finaliser reads back: every unit of a lot.
struct UnitRecord {
  int64_t id = 0;
  UnitKind kind = UnitKind::kPlan;
  int document_index = -1;
  std::string document_id;
  int first_page = 0;
  int end_page = 0;
  std::string state;  // "pending", "running", "done", "failed"
  int attempts = 0;
  std::string worker;
  std::string error;
  std::string report_json;
  int pages_computed = 0;
};

// A lot that has finished (done or failed), for the morning report.
struct FinishedLot {
  int64_t id = 0;
  std::string lot_dir;
  std::string lot_id;
  std::string state;  // "done" or "failed"
  std::string error;  // why it could not run (failed plan)
  std::string report_json;  // the lot report; "" when it never ran
  std::string enqueued_at, started_at, finished_at;  // ISO 8601 UTC
};

struct WorkerInfo {
  std::string name;  // unique: "host:pid" unless given
  std::string host;
  int pid = 0;
  int jobs = 0;
  int lease_seconds = 60;  // its lease: silent for longer, it is presumed lost
  std::string state = "running";  // "running", "draining", "stopped"
};

struct UnitCounts {
  int64_t pending = 0;  // includes units waiting for their page ranges
  int64_t running = 0;
  int64_t done = 0;
  int64_t failed = 0;
};

struct QueueStatus {
  UnitCounts units;
  struct Lot {
    int64_t id = 0;
    std::string lot_dir, lot_id, state, error;
    std::string enqueued_at, started_at, finished_at;
    UnitCounts units;
    int64_t pages = 0;       // master pages in its units
    int64_t pages_done = 0;  // pages computed so far
  };
  std::vector<Lot> lots;  // unfinished lots, then the last finished ones
  struct Worker {
    std::string name, host, state, started_at, last_seen;
    int pid = 0;
    int jobs = 0;
    double seconds_since_seen = 0;
    bool lost = false;  // not stopped, and silent for longer than its lease
    int64_t units_done = 0;  // since it started
    int64_t pages_done = 0;
    double pages_per_minute = 0;  // last 10 minutes
    std::vector<int64_t> running;  // units it holds
  };
  std::vector<Worker> workers;
  struct Failure {
    int64_t unit = 0, lot = 0;
    std::string lot_dir, lot_id, kind, document_id, worker, error, finished_at;
    int first_page = 0, end_page = 0, attempts = 0;
  };
  std::vector<Failure> failures;  // newest first
  double pages_per_minute_10m = 0;
  double pages_per_minute_1h = 0;
  double units_per_minute_10m = 0;
};

struct QueueOptions {
  std::chrono::seconds lease{60};  // a claim's lease; heartbeats extend it
  int max_attempts = 3;            // expired leases before a unit fails
  // How long a call keeps retrying conflicts and reconnecting.
  std::chrono::milliseconds busy_timeout{30000};
};

// A unit's row held locked by HoldClaim: released (the lock's transaction
// committed) when destroyed.
class ClaimHold {
 public:
  virtual ~ClaimHold() = default;
};

class WorkQueue {
 public:
  virtual ~WorkQueue() = default;

  // Queues a lot folder with its plan unit and wakes the workers. A folder
  // already queued or running is not queued twice (already_queued).
  virtual Result<EnqueueResult> Enqueue(const QueueLotRequest& request) = 0;

  // Records the worker (queue_workers) or its new state.
  virtual Status RegisterWorker(const WorkerInfo& worker) = 0;

  // Claims the oldest ready unit for `worker` with a fresh lease, or
  // nullopt when none is ready. Expired leases are dealt with first
  // (returned to the queue, or failed after max_attempts).
  virtual Result<std::optional<ClaimedUnit>> Claim(const std::string& worker) = 0;

  // Extends the leases of the claims `worker` holds and refreshes its
  // last_seen; returns the claims it no longer holds (taken over after an
  // expiry): their work must stop and must not be completed.
  virtual Result<std::vector<int64_t>> Heartbeat(const std::string& worker, const std::vector<int64_t>& claims) = 0;

  // Records the unit's outcome for its claim and does what follows in the
  // same transaction: a plan's units are added (or its lot fails); a page
  // range counts down its document unit; the lot's last unit adds the
  // finalise unit; the finalise unit stores the lot report and ends the lot.
  // Repeating a completion that was recorded is OK. Cancelled when the
  // claim is no longer held (the outcome is dropped).
  virtual Status Complete(const ClaimedUnit& unit, const UnitOutcome& outcome) = 0;

  // Complete(unit, outcome), then Claim(worker), in one transaction: one
  // commit per unit, what a busy worker pays. `completed` receives what
  // Complete would have returned (Cancelled: the outcome was dropped); the
  // claim happens either way.
  virtual Result<std::optional<ClaimedUnit>> CompleteAndClaim(const ClaimedUnit& unit, const UnitOutcome& outcome,
                                                              const std::string& worker, Status* completed) = 0;

  // The fence around publishing a unit's results (renaming its PDF into
  // place, committing its rows): locks the unit's row on a connection of
  // its own while its claim is still `unit.claim` and running, until the
  // returned hold is destroyed. Meanwhile nobody can take the unit over (the
  // reaper skips locked rows), so a worker that was frozen past its lease
  // and lost the unit finds out here, before it renames anything over its
  // successor's files: Cancelled (publish nothing). Unavailable when the
  // database cannot be reached.
  virtual Result<std::unique_ptr<ClaimHold>> HoldClaim(const ClaimedUnit& unit) = 0;

  // Hands an unfinished unit back (a draining worker): ready again, the
  // attempt not counted. Cancelled when the claim is no longer held.
  virtual Status Release(const ClaimedUnit& unit) = 0;

  // Sleeps until a unit may be ready: a notification, the earliest lease
  // expiry, `max_wait`, or `wake_fd` readable (if >= 0). A lost connection
  // is re-established (notifications sent meanwhile are lost, so the
  // caller should then try to claim). OK unless the database stays away
  // beyond the busy timeout.
  // `stop_fd` (if >= 0) wakes it too: the worker's own stop (its last
  // slot left), so the process exits without sleeping out the wait.
  virtual Status WaitForWork(std::chrono::milliseconds max_wait, int wake_fd, int stop_fd = -1) = 0;

  // Every unit of a queue lot, by id.
  virtual Result<std::vector<UnitRecord>> LotUnits(int64_t lot) = 0;

  // Lots finished at or after `since` (ISO 8601; "" = all), oldest first.
  virtual Result<std::vector<FinishedLot>> FinishedLots(const std::string& since) = 0;

  // Counts, lots, workers, failures and throughput. `lots` lists every
  // unfinished lot and the last `finished_lots` finished ones.
  virtual Result<QueueStatus> GetStatus(int finished_lots = 20) = 0;

  // Holds a database-wide lock named `key` while `body` runs (the morning
  // report is rewritten by one finaliser at a time).
  virtual Status WithLock(int64_t key, const std::function<Status()>& body) = 0;
};

// Opens the queue in a PostgreSQL database, migrating the store schema
// first (the queue's tables are part of it, docs/store.md). Failures as
// OpenPostgresStore.
Result<std::unique_ptr<WorkQueue>> OpenPostgresQueue(const std::string& conninfo, const QueueOptions& options = {});

// The queue of the store `spec` names (open_store.h): a PostgreSQL
// connection string opens the queue; a SQLite file is InvalidArgument
// saying that the queue needs PostgreSQL and what to use instead.
Result<std::unique_ptr<WorkQueue>> OpenWorkQueue(const std::string& spec, const QueueOptions& options = {});

}  // namespace acervo

#endif  // ACERVO_INDEXER_WORK_QUEUE_H_
