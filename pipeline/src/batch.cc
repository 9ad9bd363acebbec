#include "acervo/pipeline/batch.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "acervo/core/clock.h"
#include "acervo/core/files.h"
#include "acervo/indexer/store.h"
#include "acervo/pipeline/journal.h"
#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/lot_runner.h"
#include "acervo/pipeline/review.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

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

Result<BatchReport> RunBatch(const BatchOptions& o, Store& store) {
  const auto t0 = std::chrono::steady_clock::now();
  BatchReport rep;
  rep.language = o.report_language;
  rep.queue_dir = fs::absolute(o.queue_dir).lexically_normal().string();
  rep.out_dir = fs::absolute(o.out_dir).lexically_normal().string();
  rep.started_at = UtcNowIso8601();
  std::error_code ec;
  if (!fs::is_directory(o.queue_dir, ec)) return Status::NotFound("queue folder not found: " + o.queue_dir.string());
  const fs::path state_dir = fs::path(rep.out_dir) / "batch-state";
  fs::create_directories(state_dir, ec);
  if (ec) return Status::IOError("cannot create " + state_dir.string() + ": " + ec.message());
  ACERVO_RETURN_IF_ERROR(RemoveTempFiles(state_dir).status());

  std::vector<std::string> folders;
  for (fs::directory_iterator it(o.queue_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !it->is_directory()) continue;
    folders.push_back(name);
  }
  if (ec) return Status::IOError("cannot list queue " + o.queue_dir.string() + ": " + ec.message());
  std::sort(folders.begin(), folders.end(), NaturalLess);

  for (const std::string& folder : folders) {
    BatchLot lot;
    lot.folder = folder;
    if (o.cancel != nullptr && o.cancel->load()) {
      lot.state = BatchLot::State::kInterrupted;
      rep.lots.push_back(std::move(lot));
      continue;
    }
    const fs::path lot_dir = o.queue_dir / folder;
    const fs::path state_file = state_dir / (SafeFileName(folder) + ".json");
    Result<std::string> fingerprint = LotFingerprint(lot_dir);
    if (!fingerprint.ok()) {
      lot.error = fingerprint.status().ToString();
      rep.lots.push_back(std::move(lot));
      continue;
    }
    // Completed earlier with the same content: skip, keep its report.
    Result<std::vector<uint8_t>> saved = ReadFile(state_file);
    if (saved.ok()) {
      json st = json::parse(saved->begin(), saved->end(), nullptr, false);
      if (!o.force && st.is_object() && st.value("folder", "") == folder &&
          st.value("fingerprint", "") == *fingerprint) {
        lot.state = BatchLot::State::kSkipped;
        json saved_report = st.value("report", json::object());
        // What needs review is what the store says now (decisions and
        // corrections made since the lot ran), not what the lot said then.
        if (saved_report.is_object() && saved_report.contains("lot")) {
          ReviewFilter filter;
          filter.lot_id = saved_report.value("lot", "");
          filter.limit = 100000;
          Result<std::vector<ReviewItem>> open = store.Review().ListItems(filter);
          if (open.ok()) saved_report["review"] = ReviewJson(*open);
        }
        lot.report_json = saved_report.dump(2, ' ', false, json::error_handler_t::replace);
        lot.has_errors = ReportHasProblems(lot.report_json);
        if (o.progress) std::fprintf(stderr, "[batch] %s: already complete, skipped\n", folder.c_str());
        rep.lots.push_back(std::move(lot));
        continue;
      }
    }
    if (o.progress) std::fprintf(stderr, "[batch] %s: running\n", folder.c_str());
    RunOptions run;
    run.lot_dir = lot_dir;
    run.out_dir = o.out_dir;
    run.jobs = o.jobs;
    run.languages = o.languages;
    run.progress = o.progress;
    run.force = o.force;
    run.cancel = o.cancel;
    Result<LotReport> r = RunLot(run, store);
    if (!r.ok()) {
      // A lot that cannot run never stops the others.
      lot.state = r.status().code() == StatusCode::kCancelled ? BatchLot::State::kInterrupted
                                                              : BatchLot::State::kFailed;
      lot.error = folder + ": " + r.status().ToString();
      if (o.progress) std::fprintf(stderr, "[batch] %s: %s\n", folder.c_str(), r.status().ToString().c_str());
      rep.lots.push_back(std::move(lot));
      continue;
    }
    lot.report_json = r->ToJson();
    lot.has_errors = r->HasErrors();
    if (o.cancel != nullptr && o.cancel->load()) {
      lot.state = BatchLot::State::kInterrupted;
      rep.lots.push_back(std::move(lot));
      continue;
    }
    lot.state = BatchLot::State::kDone;
    json st = {{"folder", folder}, {"fingerprint", *fingerprint}, {"finished_at", UtcNowIso8601()},
               {"report", json::parse(lot.report_json, nullptr, false)}};
    Status s = WriteFileAtomic(state_file, st.dump(2, ' ', false, json::error_handler_t::replace));
    if (!s.ok()) {
      lot.has_errors = true;
      lot.error = "cannot record the lot as complete: " + s.ToString();
    }
    rep.lots.push_back(std::move(lot));
  }
  rep.interrupted = o.cancel != nullptr && o.cancel->load();
  rep.finished_at = UtcNowIso8601();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace acervo
