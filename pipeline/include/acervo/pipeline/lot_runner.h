// Running one lot end to end: plan -> masters -> stages -> PDF -> store.
// RunLot is the passes of lot_passes.h over every file and document.
//
// The order of effects is the durability contract (docs/architecture.md):
//  1. every input file is copied write-once into OUT/<lot>/masters/ with its
//     SHA-256 before any processing (an unreadable input goes to
//     OUT/<lot>/quarantine/ instead, with the reason beside it);
//  2. pages run through the stage chain on a worker pool (one Tesseract
//     engine per worker), pixels read from the master copy;
//  3. a document's PDF is written under a temporary name and renamed when
//     complete and verified;
//  4. only then is its row committed to the store.
// A document with any failed page is not produced (no PDF, no row); its
// masters stay, and the report names the page and reason. Blank pages are
// kept as masters and stored, but left out of the PDF.
//
// Re-running the same lot is safe: masters are idempotent, PDFs are replaced
// atomically and rows are replaced in one transaction, so nothing is
// duplicated; documents whose PDF and row are already complete for the same
// masters are skipped.
//
// Resume after kill -9 (journal.h): every page that finishes the chain is
// checkpointed (OUT/<lot>/checkpoints/) and journalled (OUT/<lot>/
// journal.jsonl) before it counts as done, so a rerun rebuilds unfinished
// documents from checkpoints instead of recomputing their finished pages.
// Flagged pages keep a small JPEG thumbnail in OUT/<lot>/thumbs/ for the
// morning report. Leftover ".tmp-*" files anywhere below OUT/<lot>/ are
// removed first.
//
// Test-only hook: with ACERVO_TEST_PAUSE_AT=pdf-write (the first document's
// PDF is half written under its temporary name), =store-commit (its PDF is
// in place and its rows are written inside the store's open transaction,
// COMMIT not yet run) or =before-chain (the first page is about to enter the
// stage chain; core/test_hooks.h) the process prints a line on
// stderr and stops itself with SIGSTOP, so a test can SIGKILL it exactly
// there. Never set it in production.
#ifndef ACERVO_PIPELINE_LOT_RUNNER_H_
#define ACERVO_PIPELINE_LOT_RUNNER_H_

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "acervo/core/status.h"
#include "acervo/indexer/review_store.h"
#include "acervo/pipeline/lot.h"

namespace acervo {

class Store;

// A page whose shorter side has fewer pixels is refused (quarantined) as not
// a scan: stages assume page geometry.
inline constexpr int kMinPageSidePixels = 32;

struct RunOptions {
  std::filesystem::path lot_dir;
  std::filesystem::path out_dir;
  int jobs = 0;               // 0: number of cores
  // Memory the workers may use, in MB; 0: three quarters of what is
  // available when the run starts (MemAvailable, or the cgroup's limit).
  int64_t memory_budget_mb = 0;
  std::string languages;      // empty: the profile's
  std::string lot_id;         // empty: profile or folder name
  std::string only_file;      // set: the lot is this one file of lot_dir (PlanOptions)
  bool progress = true;       // progress lines on stderr
  bool force = false;         // redo documents even when already complete
  // Side outputs (docs/pdf.md), on top of what the profile's [pdf] asks for.
  bool hocr = false;          // OUT/<lot>/sidecars/<doc>/page-NNNN.hocr
  bool alto = false;          // OUT/<lot>/sidecars/<doc>/page-NNNN.alto.xml
  bool text = false;          // OUT/<lot>/<doc>.txt
  const std::atomic<bool>* cancel = nullptr;
};

struct DocumentOutcome {
  std::string id;
  std::string pdf_path;  // empty when not produced
  int pages = 0;         // pages in the PDF
  int blank_pages = 0;
  bool skipped = false;  // already complete from an earlier run
  int corrected = 0;     // of a skipped one: index fields corrected from the manifest (no OCR)
  std::vector<std::string> errors;
};

// A page worth a look in the morning (any flag: blank removed, low OCR
// confidence, big skew, orientation fixed, OCR deadline...).
struct FlaggedPage {
  std::string document_id;
  int number = 0;  // 1-based master page of the document
  std::string part = "whole";  // or "left"/"right": a half of a split two-page spread
  std::string source;
  int page_in_file = 1;
  std::vector<std::string> flags;
  double mean_confidence = 0;
  double skew_deg = 0;
  int orientation_deg = 0;
  std::string thumbnail;  // absolute path of a small JPEG; "" = none
  std::string preview;    // absolute path of the page at reading size (1240 wide); "" = none
  std::string master;     // absolute path of the master file the page comes from
  int pdf_page = 0;       // its page in the document's PDF; 0: not in it (blank) or unknown
  // Issue 14: the page was replaced since (page_replace.h); flags,
  // confidence, master and thumbnail are the new page's.
  bool replaced = false;
};

// A flagged page as report.json writes it (its "flagged" list).
nlohmann::json FlaggedPageJson(const FlaggedPage& page);

struct QuarantinedInput {
  std::string file;    // name in the lot
  int page = 0;        // 0: the whole file
  std::string reason;
  std::string copy;    // absolute path of the quarantined copy; "" = none
};

struct StageTotals {
  int runs = 0;
  double ms = 0;
};

struct LotReport {
  std::string lot_id;
  std::filesystem::path lot_out_dir;
  int total_pages = 0;
  int processed_pages = 0;  // master pages that went through the stage chain
  int spreads_split = 0;    // of them, two-page spreads split in two ([image] split)
  int blank_pages = 0;
  int failed_pages = 0;
  int flagged_pages = 0;    // low confidence, big skew, orientation fixed...
  int resumed_pages = 0;    // taken from checkpoints of an interrupted run
  int workers = 0;          // worker threads started (each one Tesseract engine)
  int documents_ok = 0;
  int documents_failed = 0;
  int documents_skipped = 0;
  double seconds = 0;
  double pages_per_minute = 0;
  std::vector<DocumentOutcome> documents;
  std::vector<LotProblem> problems;
  std::vector<LotProblem> warnings;
  std::map<std::string, StageTotals> stages;
  std::map<std::string, double> passes;  // wall seconds per pass (lot_passes.h)
  // From the journal, so they cover earlier interrupted runs too.
  std::vector<FlaggedPage> flagged;
  std::vector<QuarantinedInput> quarantined;
  // What needs a person in this lot after the run: the open review items
  // the store holds (earlier runs and decisions included; issue 14,
  // pipeline/review.h). report.json "review".
  std::vector<ReviewItem> review;
  // Where the review items' pages are in the PDFs (report.json "pdf_page").
  std::map<std::tuple<std::string, std::string, int>, int> review_pdf_pages;
  // Separator sheets found while planning (kept as masters, out of PDFs).
  struct Separator {
    std::string file;
    int page_in_file = 1;
    std::string kind;     // "barcode QRCode", "patch II", "blank"
    std::string payload;  // the barcode text ("" for patch codes and blanks)
  };
  std::vector<Separator> separators;

  bool HasErrors() const { return !problems.empty(); }
  std::string ToJson() const;
};

// The memory budget that caps workers (docs/cli.md): a run needs about
// kRunMemoryBytes whatever its workers (the calling thread's PDF writer and
// delivered pages, the first worker's page buffers and allocator reserve)
// plus kWorkerMemoryBytes for each worker (a Tesseract engine and one
// 2550x3300 colour page through the chain). Measured peak RSS on such
// pages: 805 MB with 1 worker, 1104 MB with 2 (docs/benchmarks.md,
// "Memory per worker").
inline constexpr int64_t kRunMemoryBytes = 512ll << 20;
inline constexpr int64_t kWorkerMemoryBytes = 320ll << 20;

// Runs the lot. Returns the report (check HasErrors()) when the lot could be
// run at all, even if some pages or documents failed. Fails only when
// nothing sensible can happen: unreadable lot folder, profile or manifest;
// lot and output folders overlapping; the lot's output folder locked by
// another run or holding another lot's outputs; the store cannot be
// opened; no OCR engine can be built.
Result<LotReport> RunLot(const RunOptions& options, Store& store);

// The same, but the store is opened (and so created) by `open_store` only
// once the lot is known to run: a run refused for a bad profile, a missing
// OCR language or overlapping folders creates nothing.
using StoreOpener = std::function<Result<Store*>()>;
Result<LotReport> RunLot(const RunOptions& options, const StoreOpener& open_store);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_LOT_RUNNER_H_
