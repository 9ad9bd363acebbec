// Processing lots from the shared work queue (indexer/work_queue.h) on any
// number of machines: `acervo worker`, and what `acervo enqueue`, `scan
// --enqueue`, `watch --enqueue` and `status` share.
//
// The shared root: one folder every machine mounts (NFS or SMB, each at its
// own path) holding the lot folders handed over by the capture stations and
// the archive the workers write: OUT/<lot>/ as for `acervo run`, with the
// shared root as OUT. The queue records lot folders relative to it, so a
// path means the same folder on every machine.
//
// A unit runs the lot passes (lot_passes.h) on its part of the lot:
//   plan      PlanPass, OpenOutputPass, the PDF writer checked; adds one
//             document unit per document and page-range units for
//             documents of more than `unit_pages` master pages
//   pages     KeepMasters, BuildWorkList, ProcessPages without a sink: the
//             range's pages become checkpoints
//   document  KeepMasters, BuildWorkList, OpenDocumentWriter, ProcessPages
//             into AddToDocument (pages of finished ranges come back from
//             their checkpoints), FinishDocument, CommitDocument
//   finalise  the units' reports merged, FinaliseLot (quarantine copies,
//             report.json, lot row finished), leftover temp files removed;
//             then the queue's morning report is rewritten
// Each unit appends to its own journal, OUT/<lot>/journal/<document>/
// <unit>-<attempt>.jsonl (appends from several machines to one file are not
// atomic on network shares), and reads its document's other journals to
// find their checkpoints; the finaliser reads them all.
//
// Drain: when `stop` is set (SIGTERM) the worker claims nothing more,
// finishes the units it holds and exits; units still running
// `drain_timeout` later are stopped (pages in flight finish and stay as
// checkpoints) and handed back to the queue. A unit whose lease was lost
// (taken over, or no heartbeat reached the database for 3/4 of the lease)
// is stopped and its outcome dropped.
//
// Thread-safety: RunWorker runs `jobs` unit threads, a heartbeat thread and
// a listener thread of its own; call it from one thread.
#ifndef ACERVO_PIPELINE_QUEUE_WORKER_H_
#define ACERVO_PIPELINE_QUEUE_WORKER_H_

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/work_queue.h"

namespace acervo {

struct WorkerOptions {
  std::string store;                  // PostgreSQL connection string
  std::filesystem::path shared_root;  // this machine's mount of the shared root
  int jobs = 1;                       // units at a time (one stage chain each)
  std::string name;                   // "" = <host>:<pid>
  std::chrono::seconds lease{60};     // heartbeats every quarter of it
  int max_attempts = 3;               // expired leases before a unit fails
  std::chrono::seconds drain_timeout{240};
  bool exit_when_idle = false;        // exit once nothing is pending or running (tests, benchmarks)
  bool progress = true;               // one line per unit on stderr
  const std::atomic<bool>* stop = nullptr;  // set on SIGTERM/SIGINT: drain
  int wake_fd = -1;                         // readable once `stop` is set (self-pipe); -1: none
};

struct WorkerSummary {
  int units_done = 0;
  int units_failed = 0;    // finished with a failure (bad input...)
  int units_released = 0;  // handed back unfinished (drain)
  int units_lost = 0;      // taken over after a lease expiry; outcome dropped
  int pages = 0;           // pages that ran the stage chain
};

// Runs until drained (`stop`) or, with exit_when_idle, until the queue holds
// no pending or running unit. Fails when the queue cannot be opened or the
// shared root is not a folder.
Result<WorkerSummary> RunWorker(const WorkerOptions& options);

// How a queued lot is run: what `acervo enqueue` passes on
// (QueueLotRequest::options_json), as JSON.
struct QueuedLotOptions {
  std::string languages;  // "" = the profile's
  std::string lot_id;     // "" = profile or folder name
  bool force = false;
  bool hocr = false, alto = false, text = false;
  int unit_pages = 24;    // documents longer than this are cut into ranges of it; 0 = never
};
std::string QueuedLotOptionsJson(const QueuedLotOptions& options);
Result<QueuedLotOptions> ParseQueuedLotOptions(const std::string& json);

// The lot folder as the queue records it: relative to `shared_root` when
// given (InvalidArgument when the folder is not inside it), else absolute.
// NotFound when it is not a folder.
Result<std::string> QueuedLotDir(const std::filesystem::path& lot_dir, const std::filesystem::path& shared_root);
// The folder a queued path names on this machine.
std::filesystem::path ResolveQueuedPath(const std::filesystem::path& shared_root, const std::string& queued);

// Queues a lot folder (acervo enqueue, scan --enqueue, watch --enqueue) as
// QueuedLotDir names it, with `options`. Failures as QueuedLotDir and
// WorkQueue::Enqueue.
struct QueuedLot {
  std::string folder;  // as queued
  EnqueueResult result;
  std::string Describe() const;  // "<folder>\tqueued as lot N" / "...\talready queued as lot N (running)"
};
Result<QueuedLot> EnqueueLot(WorkQueue& queue, const std::filesystem::path& lot_dir,
                             const std::filesystem::path& shared_root, const QueuedLotOptions& options);

// The queue's morning report: every lot finished at or after `since` (ISO
// 8601 UTC; "" = all) as one batch report (batch.h) in `dir`
// (report.html, report.json), paths resolved under `shared_root`.
Status WriteQueueReport(WorkQueue& queue, const std::filesystem::path& shared_root,
                        const std::filesystem::path& dir, const std::string& since);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_QUEUE_WORKER_H_
