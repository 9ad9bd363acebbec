// The passes of a lot run, over one LotContext (like mold's driver): RunLot
// (lot_runner.h) is these calls, top to bottom.
//
//   PlanPass        plan the lot (files, documents, profile), texts checked
//   CheckRunnablePass  nothing written yet: folders apart, OCR languages
//                   and stages (the first worker's chain), PDF writer
//   OpenOutputPass  the lot's output folder: locked, leftovers removed,
//                   journal opened, lot row upserted (needs the store)
//   KeepMasters     each input file write-once into masters/ with its
//                   SHA-256 (or marked for quarantine)
//   BuildWorkList   which documents need work (complete ones are skipped);
//                   one job per master page
//   ProcessPages    jobs through the stage chain on the worker pool (or
//                   back from their checkpoints), delivered in order to a
//                   PageSink
//   AddToDocument   the "documents" pass: a delivered page joins its
//                   document's record and PDF; at its last page the PDF is
//                   ended (FinishDocument) and its side outputs written
//   CommitDocument  the row, after the PDF: store, journal, checkpoints gone
//   FinaliseLot     quarantine copies, report lists from the journal, lot
//                   row finished, report.json
//
// Each pass takes the units it works on, so a caller can run it for one
// unit instead of the whole lot: `acervo run` passes every file and
// document, a worker of a shared queue (issue 18) one document or a range
// of one document's master pages, a review correction (issue 14) one
// document. A document is written from all its pages in order: a unit of a
// page range runs ProcessPages with no sink (its pages become checkpoints),
// and the unit that writes the document later gets every page back from
// the checkpoints without running a stage.
//
// Every pass adds its wall time to report.passes (report.json "passes");
// ProcessPages counts only the time not spent in its sink.
//
// Thread-safety: a LotContext and its passes belong to the calling thread;
// ProcessPages runs the chain on its own workers and calls the sink on the
// calling thread.
#ifndef ACERVO_PIPELINE_LOT_PASSES_H_
#define ACERVO_PIPELINE_LOT_PASSES_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "acervo/core/files.h"
#include "acervo/core/status.h"
#include "acervo/indexer/store.h"
#include "acervo/indexer/work_queue.h"
#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/lot_runner.h"
#include "acervo/pipeline/scheduler.h"

namespace acervo {

class FileLock;
class Journal;
class PdfWriter;
struct StageChain;
class StageChainPool;
struct PdfDocumentInfo;
struct DocumentBuild;

// A unit of work: one document of the plan, or the master pages
// [first_page, end_page) of it (indices into DocumentPlan::pages).
struct LotUnit {
  size_t document = 0;
  size_t first_page = 0;
  size_t end_page = static_cast<size_t>(-1);  // clamped to the document's pages
};

// One job of ProcessPages: one master page of one document.
struct PageJob {
  size_t doc = 0;   // index in LotPlan::documents
  size_t page = 0;  // index in DocumentPlan::pages
};

// Receives each job's output pages (or why it failed), in job order, on the
// thread that called ProcessPages.
using PageSink = std::function<void(const PageJob& job, Result<JobPages> pages)>;

// Everything the passes share about one lot run. Filled by the passes in
// order; fields are public so that a pass reads as what it does.
struct LotContext {
  // `store` may be set later (before OpenOutputPass): a run opens (and so
  // creates) its store only once the lot is known to run.
  LotContext(const RunOptions& options, Store* store);
  ~LotContext();
  LotContext(const LotContext&) = delete;
  LotContext& operator=(const LotContext&) = delete;

  const RunOptions& options;
  Store* store;
  // When the lot started (a queue unit sets it to the lot's start).
  std::chrono::steady_clock::time_point started;
  // Stage chains kept between units (a queue worker); null: ProcessPages
  // builds one per worker thread.
  StageChainPool* chains = nullptr;

  // PlanPass
  LotPlan plan;
  LotReport report;
  // PlanPass: where outputs go. Paths in the store are relative to
  // out_root (docs/store.md).
  std::filesystem::path out_root;  // OUT, absolute
  std::string lot_dir_name;        // SafeFileName(lot id)
  std::filesystem::path lot_out;   // OUT/<lot>
  std::filesystem::path masters_dir;
  std::filesystem::path quarantine_dir;
  // CheckRunnablePass: the first worker's stage chain (taken by it).
  std::shared_ptr<StageChain> first_chain;
  // OpenOutputPass
  std::unique_ptr<FileLock> lock;  // OUT/<lot>/.lock, held for the run
  std::unique_ptr<Journal> journal;
  std::string profile_signature;  // what reused checkpoints must match
  LotRecord lot;
  // KeepMasters, by file index ("" until kept)
  std::vector<std::string> master_sha;
  std::vector<std::string> master_path;
  // Reasons why (a page of) an input file is quarantined, by file index.
  std::map<size_t, std::vector<std::string>> quarantine;
  // The documents pass: one build per document, one PDF writer at a time.
  std::vector<DocumentBuild> builds;
  std::unique_ptr<PdfWriter> writer;
  std::atomic<int> resumed{0};
  // A queue unit's fence (WorkQueue::HoldClaim): taken right before a
  // document's PDF is renamed into place and held until its row is
  // committed, so a worker that lost its claim publishes nothing. Empty for
  // `acervo run`/`batch` (the output folder's lock keeps them apart).
  std::function<Result<std::unique_ptr<ClaimHold>>()> hold_claim;

  // A failed journal write is an error of the lot (any thread).
  void JournalFailed(const Status& s);
  std::mutex journal_error_mu;
  std::vector<LotProblem> journal_errors;
};

// Every file and every document of the plan, as units for the passes.
std::vector<size_t> AllFiles(const LotContext& ctx);
std::vector<LotUnit> AllDocuments(const LotContext& ctx);
// The input files a unit's pages come from, each once, in file order.
std::vector<size_t> FilesOf(const LotContext& ctx, const std::vector<LotUnit>& units);

// plan: reads the lot folder (PlanLot) and makes every id, title, type and
// field valid UTF-8; fills ctx.plan and the report's counts. Fails when the
// lot cannot be read at all. `planned`: PlanLot's result for this lot from
// an earlier unit of it (a queue worker), used instead of reading the
// folder again.
Status PlanPass(LotContext& ctx, const LotPlan* planned = nullptr);

// How OpenOutputPass opens the lot's output folder. The defaults are a run
// of the whole lot by one process; a unit of a shared queue works beside
// other processes in the same folder.
struct OutputOpening {
  // Remove leftover temp files below OUT/<lot>/ (never while other
  // processes write there: their files in flight are temp files).
  bool remove_leftovers = true;
  // Lock OUT/<lot>/ for this run alone (FileLock on .lock), after making
  // sure the store's work queue is not processing the lot. Units of a
  // shared queue take the lock shared instead (shared_lock): they work
  // beside each other in the folder, kept apart by the queue's leases and
  // fencing tokens, and never beside an `acervo run` of the lot.
  bool lock = true;
  bool shared_lock = false;
  // This process's journal, relative to OUT/<lot>/, and other journals
  // of the lot to read (relative too; Journal::Open's read_also).
  std::filesystem::path journal = "journal.jsonl";
  std::vector<std::filesystem::path> read_journals;
  // The lot's start as recorded in the store and the PDFs' metadata
  // (ISO 8601); "" = now.
  std::string started_at;
};

// Writes nothing: refuses a lot folder and an output folder that overlap
// (a run would read its own outputs), builds the first worker's stage
// chain (so a missing OCR language fails here) and the PDF writer
// (OpenDocumentWriter). A failure means the run cannot start.
Status CheckRunnablePass(LotContext& ctx);

// Creates OUT and OUT/<lot>/masters (never through a link), locks the lot's
// output folder (FileLock on OUT/<lot>/.lock: Unavailable while another run
// holds it), checks that the folder belongs to this lot id (OUT/<lot>/
// .lot-id; AlreadyExists when another id's outputs are there), removes
// leftover temp files, opens the journal and upserts the lot row (started
// now). Fails when any of them fails.
Status OpenOutputPass(LotContext& ctx, const OutputOpening& how = {});

// How many workers ProcessPages starts for `jobs` jobs: --jobs (default:
// the cores), never more than the jobs, nor more than the memory budget
// holds: kRunMemoryBytes plus kWorkerMemoryBytes a worker, at least one
// (RunOptions::memory_budget_mb, default three quarters of the memory
// available now; docs/cli.md). A cap by memory is a report warning.
int WorkerCount(LotContext& ctx, size_t jobs);

// masters: copies each readable file of `files` write-once into masters/
// and records its SHA-256; a file that cannot be read or kept is marked for
// quarantine (journal record, report problem). Warns when a file's name
// says another format than its bytes.
void KeepMasters(LotContext& ctx, const std::vector<size_t>& files);

// work list: the jobs of `units` whose documents need work. A document with
// errors from the plan is counted failed; one whose stored row, PDF and
// masters already agree is skipped (unless --force). Needs KeepMasters for
// the units' files.
std::vector<PageJob> BuildWorkList(LotContext& ctx, const std::vector<LotUnit>& units);

// pages: runs `jobs` (each page from its checkpoint when an earlier run
// finished it, otherwise through the stage chain, checkpointed and
// journalled) on `--jobs` workers, and gives each job's pages to `sink` in
// order (null: pages only become checkpoints). With options.progress, one
// line on stderr at most every second. OK or Cancelled (report
// problem added); the factory's failure (no OCR engine) otherwise.
Status ProcessPages(LotContext& ctx, const std::vector<PageJob>& jobs, const PageSink& sink);

// Creates the PDF writer the documents pass uses (PDF/A part and signature
// from the profile; side outputs from the profile or the command line).
// Fails when the profile's PDF settings cannot be met (no signing password,
// unreadable key, font or ICC profile).
Status OpenDocumentWriter(LotContext& ctx);

// documents: the PageSink of a lot run. Adds the job's pages to their
// document's record and PDF (blank pages recorded but left out; a failed
// page quarantined and the document dropped); after the document's last
// master page, FinishDocument.
void AddToDocument(LotContext& ctx, const PageJob& job, Result<JobPages> pages);

// Ends the document's PDF (resolving its metadata first) and writes its side
// outputs, then CommitDocument; a document with a failed page, only blank
// pages, or a PDF that cannot be finished is counted failed instead.
void FinishDocument(LotContext& ctx, size_t doc);

// The PDF metadata of a document (Info, index fields, master hashes,
// Decreto 10.278 values) and the path of its PDF.
PdfDocumentInfo DocumentPdfInfo(const LotContext& ctx, size_t doc);
// The same with the document's fields as `fields` (name, value) instead of
// the planned ones: the fields found by OCR extraction included.
PdfDocumentInfo DocumentPdfInfo(const LotContext& ctx, size_t doc,
                                const std::vector<std::pair<std::string, std::string>>& fields);
std::filesystem::path DocumentPdfPath(const LotContext& ctx, size_t doc);

// A processed page as its store row: text and words cleaned (in `page` too,
// for the PDF), flags, stage history, word boxes. `master_path` as stored
// (relative to the output root).
PageRecord PageRecordOf(Page& page, int number, int master_page, const std::string& source_path,
                        const std::string& master_path);

// The web preview of a page (OUT/<lot>/previews/<file_name>/<stem>.jpg, at
// most 1240 columns, the image the PDF shows). Best effort: without it the
// server renders the PDF page.
void WritePreview(const std::filesystem::path& lot_out, const std::string& file_name, const std::string& stem,
                  const Page& page);

// The morning report's thumbnail of a flagged page
// (OUT/<lot>/thumbs/<file_name>-<stem>.jpg, longest side 240), written
// atomically: its path relative to OUT/<lot>, or "" when it could not be
// written.
std::string WriteReportThumbnail(const std::filesystem::path& lot_out, const std::string& file_name,
                                 const std::string& stem, const cv::Mat& image);

// commit: stores the finished document's row (its PDF is in place),
// journals it and removes its checkpoints. A store failure is a document
// failure in the report.
void CommitDocument(LotContext& ctx, size_t doc);

// finalise: copies quarantined inputs with their reasons, fills the report's
// flagged and quarantined lists from the journal (earlier runs included),
// marks the lot finished in the store and writes report.json (a failure to
// write it is a report warning).
void FinaliseLot(LotContext& ctx);

// Part of FinaliseLot: replaces the lot-level review items in the store
// (quarantined inputs, documents not produced or all blank, an unused
// separator sheet), records how the lot was run (LotSource) and reads the
// lot's open review items back into report.review.
void SyncReview(LotContext& ctx);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_LOT_PASSES_H_
