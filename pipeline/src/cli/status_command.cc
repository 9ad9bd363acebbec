// acervo status: the shared work queue at a glance — units by state, lots,
// workers, throughput and failures with their reasons; optionally the
// morning report of the lots finished lately.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "acervo/indexer/work_queue.h"
#include "acervo/pipeline/queue_worker.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

json CountsJson(const UnitCounts& c) {
  return {{"pending", c.pending}, {"running", c.running}, {"done", c.done}, {"failed", c.failed}};
}

std::string CountsText(const UnitCounts& c) {
  return std::to_string(c.pending) + " pending, " + std::to_string(c.running) + " running, " +
         std::to_string(c.done) + " done, " + std::to_string(c.failed) + " failed";
}

json StatusJson(const QueueStatus& st) {
  json lots = json::array(), workers = json::array(), failures = json::array();
  for (const QueueStatus::Lot& l : st.lots) {
    lots.push_back({{"id", l.id}, {"folder", l.lot_dir}, {"lot", l.lot_id}, {"state", l.state}, {"error", l.error},
                    {"enqueued_at", l.enqueued_at}, {"started_at", l.started_at}, {"finished_at", l.finished_at},
                    {"units", CountsJson(l.units)}, {"pages", l.pages}, {"pages_done", l.pages_done}});
  }
  for (const QueueStatus::Worker& w : st.workers) {
    workers.push_back({{"name", w.name}, {"host", w.host}, {"pid", w.pid}, {"jobs", w.jobs}, {"state", w.state},
                       {"lost", w.lost}, {"started_at", w.started_at}, {"last_seen", w.last_seen},
                       {"seconds_since_seen", w.seconds_since_seen}, {"units_done", w.units_done},
                       {"pages_done", w.pages_done}, {"pages_per_minute", w.pages_per_minute},
                       {"running", w.running}});
  }
  for (const QueueStatus::Failure& f : st.failures) {
    failures.push_back({{"unit", f.unit}, {"lot", f.lot}, {"folder", f.lot_dir}, {"lot_id", f.lot_id},
                        {"kind", f.kind}, {"document", f.document_id}, {"first_page", f.first_page + 1},
                        {"end_page", f.end_page}, {"attempts", f.attempts}, {"worker", f.worker},
                        {"error", f.error}, {"finished_at", f.finished_at}});
  }
  return {{"units", CountsJson(st.units)},
          {"throughput", {{"pages_per_minute_10m", st.pages_per_minute_10m},
                          {"pages_per_minute_1h", st.pages_per_minute_1h},
                          {"units_per_minute_10m", st.units_per_minute_10m}}},
          {"workers", workers},
          {"lots", lots},
          {"failures", failures}};
}

void PrintStatus(const QueueStatus& st) {
  std::printf("Units: %s\n", CountsText(st.units).c_str());
  std::printf("Throughput: %.1f pages/min (last 10 min), %.1f pages/min (last hour), %.1f units/min\n",
              st.pages_per_minute_10m, st.pages_per_minute_1h, st.units_per_minute_10m);
  std::printf("Workers:\n");
  if (st.workers.empty()) std::printf("  none\n");
  for (const QueueStatus::Worker& w : st.workers) {
    std::string holding;
    for (int64_t u : w.running) holding += (holding.empty() ? " holding unit " : ", ") + std::to_string(u);
    std::printf("  %s  %s%s  %d jobs  seen %.0f s ago  %lld units, %lld pages since %s, %.1f pages/min%s\n",
                w.name.c_str(), w.state.c_str(), w.lost ? " (LOST: no heartbeat)" : "", w.jobs, w.seconds_since_seen,
                static_cast<long long>(w.units_done), static_cast<long long>(w.pages_done), w.started_at.c_str(),
                w.pages_per_minute, holding.c_str());
  }
  std::printf("Lots:\n");
  if (st.lots.empty()) std::printf("  none\n");
  for (const QueueStatus::Lot& l : st.lots) {
    std::printf("  #%lld %s%s  %s  units: %s  pages %lld/%lld%s%s\n", static_cast<long long>(l.id), l.lot_dir.c_str(),
                l.lot_id.empty() ? "" : (" (" + l.lot_id + ")").c_str(), l.state.c_str(),
                CountsText(l.units).c_str(), static_cast<long long>(l.pages_done), static_cast<long long>(l.pages),
                l.finished_at.empty() ? "" : ("  finished " + l.finished_at).c_str(),
                l.error.empty() ? "" : ("  error: " + l.error).c_str());
  }
  if (!st.failures.empty()) std::printf("Failures (newest first):\n");
  for (const QueueStatus::Failure& f : st.failures) {
    std::string what = f.kind;
    if (!f.document_id.empty()) what += " " + f.document_id;
    if (f.kind == "pages") what += " pages " + std::to_string(f.first_page + 1) + "-" + std::to_string(f.end_page);
    std::printf("  unit %lld %s of %s (%s), attempt %d on %s, %s: %s\n", static_cast<long long>(f.unit), what.c_str(),
                f.lot_id.empty() ? "?" : f.lot_id.c_str(), f.lot_dir.c_str(), f.attempts, f.worker.c_str(),
                f.finished_at.c_str(), f.error.c_str());
  }
}

}  // namespace

Command AddStatusCommand(CLI::App& root, const Context&) {
  struct Args {
    std::string store;
    bool json = false;
    int lots = 20;
    fs::path report;
    fs::path shared_root;
    double hours = 24;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("status", "The shared work queue: units, lots, workers, throughput, failures");
  cmd->add_option("--store", a->store, "PostgreSQL connection string (postgresql://... or \"host=... dbname=...\")")
      ->required();
  cmd->add_flag("--json", a->json, "Machine output");
  cmd->add_option("--lots", a->lots, "Finished lots to list (default 20)")->check(CLI::Range(0, 100000));
  cmd->add_option("--report", a->report, "Also write the morning report (report.html, report.json) into this folder");
  cmd->add_option("--hours", a->hours, "The morning report covers lots finished in the last H hours (default 24)")
      ->check(CLI::Range(0.0, 1e6));
  AddSharedRootOption(cmd, a->shared_root, "The shared root as mounted here, to find thumbnails for the report");
  return {cmd, [a]() -> int {
            Result<std::unique_ptr<WorkQueue>> queue = OpenWorkQueue(a->store);
            if (!queue.ok()) {
              std::fprintf(stderr, "acervo status: %s\n", queue.status().ToString().c_str());
              return queue.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitCannotRun;
            }
            Result<QueueStatus> st = (*queue)->GetStatus(a->lots);
            if (!st.ok()) {
              std::fprintf(stderr, "acervo status: %s\n", st.status().ToString().c_str());
              return kExitCannotRun;
            }
            if (!a->report.empty()) {
              const std::time_t since = std::time(nullptr) - static_cast<std::time_t>(a->hours * 3600);
              std::tm tm{};
              gmtime_r(&since, &tm);
              char iso[32];
              std::strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
              Status s = WriteQueueReport(**queue, a->shared_root, a->report, iso);
              if (!s.ok()) {
                std::fprintf(stderr, "acervo status: cannot write the report: %s\n", s.ToString().c_str());
                return kExitCannotRun;
              }
            }
            if (a->json) {
              std::printf("%s\n", StatusJson(*st).dump(2, ' ', false, json::error_handler_t::replace).c_str());
            } else {
              PrintStatus(*st);
            }
            return kExitOk;
          }};
}

}  // namespace acervo::cli
