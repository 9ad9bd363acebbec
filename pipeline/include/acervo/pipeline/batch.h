// Overnight batches: a queue folder whose every subfolder is a lot, run one
// after the other into one output folder and one store, with a morning
// report (HTML + JSON) that says what to fix.
//
// Order and resume: lots run in natural order of their folder names. A lot
// that ran to the end is recorded in OUT/batch-state/<lot folder>.json (its
// lot report plus a fingerprint of the folder, written atomically); the next
// batch skips it while the folder is unchanged, and its report still appears
// in the morning report. A lot interrupted by kill -9 resumes from its
// journal (journal.h). A lot that cannot run at all (bad profile, unreadable
// manifest) is reported and the batch goes on with the next one.
//
// Thread-safety: RunBatch is called from one thread; it runs the pages of a
// lot on `jobs` workers. Ownership: the caller owns the Store.
#ifndef ACERVO_PIPELINE_BATCH_H_
#define ACERVO_PIPELINE_BATCH_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

class Store;

struct BatchOptions {
  std::filesystem::path queue_dir;
  std::filesystem::path out_dir;
  std::filesystem::path report_dir;  // empty: OUT_DIR/report
  int jobs = 0;                      // 0: number of cores
  int64_t memory_budget_mb = 0;      // 0: RunOptions' default
  std::string languages;             // empty: each lot profile's
  bool progress = true;
  bool force = false;                // redo every lot and document (as `run --force`)
  std::string report_language = "pt-BR";  // of the morning report's HTML: "pt-BR" or "en"
  const std::atomic<bool>* cancel = nullptr;
};

struct BatchLot {
  enum class State { kDone, kSkipped, kFailed, kInterrupted };
  std::string folder;  // subfolder name in the queue
  State state = State::kFailed;
  std::string error;        // why the lot could not run (kFailed)
  std::string report_json;  // the lot report (LotReport::ToJson); "" when none
  bool has_errors = false;  // the lot report lists problems
};
std::string_view BatchLotStateName(BatchLot::State s);  // "done", "skipped", ...

struct BatchReport {
  std::string queue_dir;
  std::string out_dir;
  std::string started_at, finished_at;  // ISO 8601 UTC
  double seconds = 0;
  std::vector<BatchLot> lots;
  bool interrupted = false;
  std::string language = "pt-BR";  // of ToHtml(): "pt-BR" or "en"

  // Every lot ran (now or earlier) and no page, document or lot failed.
  bool Clean() const;
  // Totals and per-lot details: what needs review (every lot's open review
  // items, as the store holds them; pipeline/review.h), lots, documents,
  // pages, pages/min, time per stage, errors, flagged pages, quarantined
  // inputs (docs/batch.md).
  std::string ToJson() const;
  // The same data as one self-contained HTML page (thumbnails inlined).
  std::string ToHtml() const;
};

// Runs the queue. Fails only when the queue cannot be listed, the queue and
// output folders overlap (InvalidArgument) or the output folder cannot be
// made; everything else is in the report: an entry of the queue that is not
// a folder (a link is never followed), a folder whose lot id an earlier
// folder of the queue already has, a folder another batch is working on.
Result<BatchReport> RunBatch(const BatchOptions& options, Store& store);

// Writes report.json and report.html into `dir` (atomically each).
Status WriteBatchReport(const BatchReport& report, const std::filesystem::path& dir);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_BATCH_H_
