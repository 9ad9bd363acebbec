// queue_bench: the work queue's own overhead (issue 18) — claims per second
// of no-op units (claim + complete, what every unit costs a worker besides
// its pages), with 1..N concurrent claimers, each on its own connection as
// separate worker processes would be, on a PostgreSQL server started for the
// run: durable (fsync and synchronous commits on, as in production) and,
// for comparison, the test servers' settings (fsync off).
//
//   queue_bench [--units N] [--claimers 1,2,4,8] [--lease S]
//   ACERVO_BENCH_PG=<libpq conninfo>: use that database instead (durable as
//   it is configured; the fsync-off run is then skipped).
//
// Also prints the cost of planning: one plan completion adding N units, and
// of enqueueing (lots per second).
//
// Target (issue 18): >= 1,000 claims per second on this machine.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "acervo/indexer/work_queue.h"
#include "postgres_test_server.h"

namespace acervo {
namespace {
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds used so far by this process (all threads).
double OwnCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds used so far by the PostgreSQL server of `data_dir`: the
// postmaster, its exited children (cutime) and its live ones. 0 when the
// server is not ours (ACERVO_BENCH_PG).
double ServerCpu(const std::filesystem::path& data_dir) {
  if (data_dir.empty()) return 0;
  std::ifstream pidfile(data_dir / "postmaster.pid");
  long postmaster = 0;
  pidfile >> postmaster;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  double total = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
    if (f.size() < 15) continue;  // f[0] is field 3 (state)
    const long pid = std::stol(name), ppid = std::stol(f[1]);
    if (pid == postmaster) {
      total += (std::stod(f[11]) + std::stod(f[12]) + std::stod(f[13]) + std::stod(f[14])) / tick;
    } else if (ppid == postmaster) {
      total += (std::stod(f[11]) + std::stod(f[12])) / tick;
    }
  }
  return total;
}

std::unique_ptr<WorkQueue> OpenOrDie(const std::string& conninfo) {
  Result<std::unique_ptr<WorkQueue>> q = OpenPostgresQueue(conninfo);
  if (!q.ok()) {
    std::fprintf(stderr, "queue_bench: %s\n", q.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(q).value();
}

// Queues a lot whose plan adds `units` no-op document units; returns the
// seconds the plan's completion took.
double FillLot(WorkQueue& q, const std::string& name, int units) {
  Result<EnqueueResult> e = q.Enqueue({name, "{}", "bench"});
  Result<std::optional<ClaimedUnit>> plan = q.Claim("planner");
  // Finalise units of earlier lots come first (older lots): no-ops too.
  while (plan.ok() && plan->has_value() && (*plan)->kind != UnitKind::kPlan) {
    if (!q.Complete(**plan, UnitOutcome{}).ok()) std::exit(1);
    plan = q.Claim("planner");
  }
  if (!e.ok() || !plan.ok() || !plan->has_value()) {
    std::fprintf(stderr, "queue_bench: cannot queue %s\n", name.c_str());
    std::exit(1);
  }
  UnitOutcome o;
  o.lot_id = name;
  for (int i = 0; i < units; ++i) {
    std::string id = "d";  // (not "d" + ...: GCC 12 warns falsely, -Wrestrict)
    id += std::to_string(i);
    o.units.push_back({UnitKind::kDocument, i, id, 0, 1, 1});
  }
  const Clock::time_point t0 = Clock::now();
  Status s = q.Complete(**plan, o);
  if (!s.ok()) {
    std::fprintf(stderr, "queue_bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  return Seconds(t0);
}

// `claimers` threads claim and complete until the queue is empty: claims/s.
// together: each completion claims the next unit in the same transaction
// (CompleteAndClaim, as a busy worker does); otherwise Claim, then Complete.
double ClaimRate(const std::string& conninfo, int claimers, int64_t* claimed, bool together = false) {
  std::vector<std::unique_ptr<WorkQueue>> queues;
  for (int i = 0; i < claimers; ++i) queues.push_back(OpenOrDie(conninfo));
  std::atomic<int64_t> n{0};
  std::atomic<bool> failed{false};
  const Clock::time_point t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < claimers; ++i) {
    threads.emplace_back([&, i] {
      const std::string name = "bench-" + std::to_string(i);
      WorkQueue& q = *queues[static_cast<size_t>(i)];
      Result<std::optional<ClaimedUnit>> u = q.Claim(name);
      while (u.ok() && u->has_value()) {
        ++n;
        UnitOutcome done;
        if (together) {
          Status completed;
          u = q.CompleteAndClaim(**u, done, name, &completed);
          if (!completed.ok()) return failed.store(true), void();
        } else {
          if (!q.Complete(**u, done).ok()) return failed.store(true), void();
          u = q.Claim(name);
        }
      }
      if (!u.ok()) failed.store(true);
    });
  }
  for (std::thread& t : threads) t.join();
  const double s = Seconds(t0);
  if (failed) std::fprintf(stderr, "queue_bench: a claimer failed\n");
  *claimed = n.load();
  return n.load() / s;
}

void RunOn(const std::string& label, const std::string& conninfo, int units, const std::vector<int>& claimers,
           const std::filesystem::path& data_dir) {
  std::unique_ptr<WorkQueue> q = OpenOrDie(conninfo);
  // Enqueue rate: lots handed over per second (one transaction each).
  const int lots = 200;
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < lots; ++i) {
    if (!q->Enqueue({"enqueue-" + label + "-" + std::to_string(i), "{}", "bench"}).ok()) std::exit(1);
  }
  const double enqueue_rate = lots / Seconds(t0);
  // Drain those plan units as no-ops (they finish their lots at once).
  int64_t ignored = 0;
  ClaimRate(conninfo, 1, &ignored);
  std::printf("%s: enqueue %.0f lots/s\n", label.c_str(), enqueue_rate);
  for (int c : claimers) {
    for (bool together : {false, true}) {
      const double plan_s = FillLot(*q, label + "-" + std::to_string(c) + (together ? "-t" : ""), units);
      int64_t n = 0;
      const double client0 = OwnCpu(), server0 = ServerCpu(data_dir);
      const double rate = ClaimRate(conninfo, c, &n, together);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the claimers' sessions end
      const double client_us = (OwnCpu() - client0) / std::max<int64_t>(1, n) * 1e6;
      const double server_us = (ServerCpu(data_dir) - server0) / std::max<int64_t>(1, n) * 1e6;
      const double cores = std::thread::hardware_concurrency();
      std::printf("%s: %d claimer%s, %s: %lld units at %.0f claims/s (plan adding %d units: %.3f s); CPU per unit "
                  "%.0f us client + %.0f us server: %.0f claims/s would fill %.0f idle cores\n",
                  label.c_str(), c, c == 1 ? " " : "s",
                  together ? "complete+claim in one transaction" : "claim, then complete            ",
                  static_cast<long long>(n), rate, units, plan_s, client_us, server_us,
                  cores * 1e6 / std::max(1.0, client_us + server_us), cores);
      std::fflush(stdout);
    }
  }
}

std::vector<int> ParseList(const char* s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::atoi(item.c_str()));
  return out;
}

}  // namespace
}  // namespace acervo

int main(int argc, char** argv) {
  using namespace acervo;
  int units = 5000;
  std::vector<int> claimers = {1, 2, 4, 8};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--units") == 0) units = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--claimers") == 0) claimers = ParseList(argv[i + 1]);
  }
  std::printf("queue_bench: %d no-op units per run, %u cores\n", units, std::thread::hardware_concurrency());
  if (const char* pg = std::getenv("ACERVO_BENCH_PG")) {
    RunOn("given server", pg, units, claimers, {});
    return 0;
  }
  for (bool durable : {true, false}) {
    PostgresTestServer server;
    Status s = server.Start(durable);
    if (!s.ok()) {
      std::fprintf(stderr, "queue_bench: %s\n", s.ToString().c_str());
      return 1;
    }
    Result<std::string> c = server.CreateDatabase("queue_bench");
    if (!c.ok()) return 1;
    RunOn(durable ? "durable (fsync on)" : "fsync off", *c, units, claimers, server.data_dir());
  }
  return 0;
}
