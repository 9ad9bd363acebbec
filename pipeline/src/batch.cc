#include "acervo/pipeline/batch.h"
#include "acervo/pipeline/page_replace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "acervo/core/clock.h"
#include "acervo/core/files.h"
#include "acervo/core/text.h"
#include "acervo/indexer/store.h"
#include "acervo/pipeline/journal.h"
#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/lot_runner.h"
#include "acervo/pipeline/review.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// A saved lot report's flagged pages brought up to date with the pages
// replaced since its run (page_replace.h): a listed one is marked, with the
// new page's flags and confidence (its thumbnail file holds the new page);
// one its run did not flag but flagged now is added; the count is the
// list's.
void MarkReplacedPages(Store& store, json* report) {
  if (!report->contains("flagged") || !(*report)["flagged"].is_array()) return;
  std::map<FlaggedKey, FlaggedPage> now =
      ReplacedPagesNow(store, report->value("lot", ""), fs::path(report->value("output", "")));
  if (now.empty()) return;
  for (json& f : (*report)["flagged"]) {
    auto it = now.find({f.value("document", ""), f.value("page", 0), f.value("part", "whole")});
    if (it == now.end()) continue;
    f["replaced"] = true;
    f["flags"] = it->second.flags;
    f["confidence"] = it->second.mean_confidence;
    now.erase(it);
  }
  for (const auto& [key, f] : now) {
    if (!f.flags.empty()) (*report)["flagged"].push_back(FlaggedPageJson(f));
  }
  if (report->contains("pages") && (*report)["pages"].is_object()) {
    (*report)["pages"]["flagged"] = (*report)["flagged"].size();
  }
}

// Removes leftover temporary files of `file` (".tmp-<name>-*" beside it).
void RemoveTempFilesFor(const fs::path& file) {
  std::error_code ec;
  const std::string prefix = std::string(kTempPrefix) + file.filename().string().substr(0, 200);
  for (fs::directory_iterator it(file.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) == 0) fs::remove(it->path(), ec);
  }
}

bool ReportHasProblems(const std::string& report_json) {
  json j = json::parse(report_json, nullptr, false);
  return !j.is_object() || !j.value("problems", json::array()).empty();
}

}  // namespace

std::string_view BatchLotStateName(BatchLot::State s) {
  switch (s) {
    case BatchLot::State::kDone: return "done";
    case BatchLot::State::kSkipped: return "skipped";
    case BatchLot::State::kFailed: return "failed";
    case BatchLot::State::kInterrupted: return "interrupted";
  }
  return "?";
}

bool BatchReport::Clean() const {
  if (interrupted) return false;
  for (const BatchLot& l : lots) {
    if (l.state == BatchLot::State::kFailed || l.state == BatchLot::State::kInterrupted || l.has_errors) return false;
  }
  return true;
}

namespace {

// The queue's lots: its folders, in natural order. Anything else is named
// in the report (a link is never followed: docs/formats.md), never silently
// skipped.
struct QueueListing {
  std::vector<std::string> folders;
  std::vector<BatchLot> refused;
};

Result<QueueListing> ListQueue(const fs::path& queue_dir) {
  QueueListing q;
  std::error_code ec;
  for (fs::directory_iterator it(queue_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    const fs::file_status st = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_directory(st)) {
      q.folders.push_back(name);
    } else {
      BatchLot lot;
      lot.folder = name;
      lot.error = name + ": " + (fs::is_symlink(st) ? "is a symbolic link; links are not followed (move the lot "
                                                       "folder into the queue)"
                                : fs::is_regular_file(st) ? "is a file, not a lot folder; skipped"
                                                           : "is not a folder; skipped");
      q.refused.push_back(std::move(lot));
    }
  }
  if (ec) return Status::IOError("cannot list queue " + queue_dir.string() + ": " + ec.message());
  std::sort(q.folders.begin(), q.folders.end(), NaturalLess);
  return q;
}

// One batch over its queue: what each lot's step reads and adds to.
struct BatchRun {
  const BatchOptions& o;
  Store& store;
  fs::path state_dir;
  // Lot ids already given by an earlier folder of this queue: two folders
  // with one id would write one output folder.
  std::map<std::string, std::string> id_folder;

  bool Cancelled() const { return o.cancel != nullptr && o.cancel->load(); }
};

// The lot id the run will use (profile or folder name) must be unique in
// the queue: "" when it is, else why not.
std::string DuplicateLotId(BatchRun& b, const fs::path& lot_dir, const std::string& folder) {
  Result<std::string> peek = LotIdOf(lot_dir);
  const std::string id = peek.ok() ? *peek : folder;
  auto [at, first] = b.id_folder.emplace(id, folder);
  if (first) return "";
  return folder + ": lot id '" + id + "' is also the lot id of queue folder " + at->second +
         "; one output folder cannot hold two lots (give each profile its own [lot] id)";
}

// A lot completed earlier with the same content is skipped: its saved
// report, with what needs review as the store says now (decisions and
// corrections made since the lot ran, pages replaced), not as the lot
// said then. nullopt when the lot must run.
std::optional<json> CompletedReport(BatchRun& b, const fs::path& state_file, const std::string& folder,
                                    const std::string& fingerprint) {
  Result<std::vector<uint8_t>> saved = ReadFile(state_file);
  if (!saved.ok() || b.o.force) return std::nullopt;
  json st = json::parse(saved->begin(), saved->end(), nullptr, false);
  if (!st.is_object() || st.value("folder", "") != folder || st.value("fingerprint", "") != fingerprint) {
    return std::nullopt;
  }
  json report = st.value("report", json::object());
  if (report.is_object() && report.contains("lot")) {
    MarkReplacedPages(b.store, &report);
    ReviewFilter filter;
    filter.lot_id = report.value("lot", "");
    filter.limit = 100000;
    Result<std::vector<ReviewItem>> open = b.store.Review().ListItems(filter);
    if (open.ok()) {
      const PdfPageMap pdf_pages = PdfPagesOf(b.store, *open);
      report["review"] = ReviewJson(*open, &pdf_pages);
    }
  }
  return report;
}

// Runs the lot and records it as complete (its fingerprint and report in
// the state file) when it finished.
void RunAndRecord(BatchRun& b, const fs::path& lot_dir, const fs::path& state_file, const std::string& fingerprint,
                  BatchLot& lot) {
  const BatchOptions& o = b.o;
  if (o.progress) std::fprintf(stderr, "[batch] %s: running\n", TerminalText(lot.folder).c_str());
  RunOptions run;
  run.lot_dir = lot_dir;
  run.out_dir = o.out_dir;
  run.jobs = o.jobs;
  run.memory_budget_mb = o.memory_budget_mb;
  run.languages = o.languages;
  run.progress = o.progress;
  run.force = o.force;
  run.cancel = o.cancel;
  Result<LotReport> r = RunLot(run, b.store);
  if (!r.ok()) {
    // A lot that cannot run never stops the others.
    lot.state = r.status().code() == StatusCode::kCancelled ? BatchLot::State::kInterrupted
                                                            : BatchLot::State::kFailed;
    lot.error = lot.folder + ": " + r.status().ToString();
    if (o.progress) {
      std::fprintf(stderr, "[batch] %s: %s\n", TerminalText(lot.folder).c_str(),
                   TerminalText(r.status().ToString()).c_str());
    }
    return;
  }
  lot.report_json = r->ToJson();
  lot.has_errors = r->HasErrors();
  if (b.Cancelled()) {
    lot.state = BatchLot::State::kInterrupted;
    return;
  }
  lot.state = BatchLot::State::kDone;
  json st = {{"folder", lot.folder}, {"fingerprint", fingerprint}, {"finished_at", UtcNowIso8601()},
             {"report", json::parse(lot.report_json, nullptr, false)}};
  Status s = WriteFileAtomic(state_file, st.dump(2, ' ', false, json::error_handler_t::replace));
  if (!s.ok()) {
    lot.has_errors = true;
    lot.error = "cannot record the lot as complete: " + s.ToString();
  }
}

// One queue folder: interrupted, refused (locked by another batch,
// unreadable, a duplicate lot id), skipped as complete, or run.
BatchLot RunQueuedLot(BatchRun& b, const std::string& folder) {
  BatchLot lot;
  lot.folder = folder;
  if (b.Cancelled()) {
    lot.state = BatchLot::State::kInterrupted;
    return lot;
  }
  const fs::path lot_dir = b.o.queue_dir / folder;
  const fs::path state_file = b.state_dir / (SafeFileName(folder) + ".json");
  // One batch at a time per queue folder (two batches may share an output
  // folder): its state file and leftovers are this holder's.
  Result<FileLock> held = FileLock::Acquire(b.state_dir / (SafeFileName(folder) + ".lock"));
  if (!held.ok()) {
    lot.error = folder + ": " + held.status().ToString();
    return lot;
  }
  RemoveTempFilesFor(state_file);  // a state write cut by a crash
  Result<std::string> fingerprint = LotFingerprint(lot_dir);
  if (!fingerprint.ok()) {
    lot.error = fingerprint.status().ToString();
    return lot;
  }
  if (std::string dup = DuplicateLotId(b, lot_dir, folder); !dup.empty()) {
    lot.error = std::move(dup);
    return lot;
  }
  if (std::optional<json> done = CompletedReport(b, state_file, folder, *fingerprint)) {
    lot.state = BatchLot::State::kSkipped;
    lot.report_json = done->dump(2, ' ', false, json::error_handler_t::replace);
    lot.has_errors = ReportHasProblems(lot.report_json);
    if (b.o.progress) std::fprintf(stderr, "[batch] %s: already complete, skipped\n", TerminalText(folder).c_str());
    return lot;
  }
  RunAndRecord(b, lot_dir, state_file, *fingerprint, lot);
  return lot;
}

}  // namespace

Result<BatchReport> RunBatch(const BatchOptions& o, Store& store) {
  const auto t0 = std::chrono::steady_clock::now();
  BatchReport rep;
  rep.language = o.report_language;
  rep.queue_dir = fs::absolute(o.queue_dir).lexically_normal().string();
  rep.out_dir = fs::absolute(o.out_dir).lexically_normal().string();
  rep.started_at = UtcNowIso8601();
  std::error_code ec;
  if (!fs::is_directory(o.queue_dir, ec)) return Status::NotFound("queue folder not found: " + o.queue_dir.string());
  ACERVO_RETURN_IF_ERROR(CheckSeparateFolders(o.queue_dir, "queue folder", o.out_dir, "--out folder"));
  fs::create_directories(rep.out_dir, ec);  // asked for
  if (ec) return Status::IOError("cannot create " + rep.out_dir + ": " + ec.message());
  BatchRun b{o, store, {}, {}};
  ACERVO_ASSIGN_OR_RETURN(b.state_dir, CreateDirectoriesBelow(rep.out_dir, "batch-state"));
  ACERVO_ASSIGN_OR_RETURN(QueueListing queue, ListQueue(o.queue_dir));
  for (const std::string& folder : queue.folders) rep.lots.push_back(RunQueuedLot(b, folder));
  for (BatchLot& l : queue.refused) rep.lots.push_back(std::move(l));
  rep.interrupted = b.Cancelled();
  rep.finished_at = UtcNowIso8601();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace acervo
