#include "acervo/pipeline/scheduler.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace acervo {

Status RunOrdered(size_t count, const ScheduleOptions& options, const WorkerFactory& factory,
                  const DeliverFn& deliver) {
  if (options.workers < 1) return Status::InvalidArgument("scheduler: need at least one worker");
  const size_t max_in_flight = std::max<size_t>(1, options.max_in_flight);

  std::mutex mu;
  std::condition_variable changed;
  size_t next_job = 0;      // next index a worker will take
  size_t next_deliver = 0;  // next index the caller will deliver
  size_t taken_total = 0;   // jobs taken before a stop
  std::map<size_t, Result<JobPages>> done;
  Status fatal;
  int running = options.workers;
  auto cancelled = [&] { return options.cancel != nullptr && options.cancel->load(); };

  auto worker = [&](int id) {
    Result<PageJobFn> fn = factory(id);
    if (!fn.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (fatal.ok()) fatal = fn.status();
      --running;
      changed.notify_all();
      return;
    }
    for (;;) {
      size_t index;
      {
        std::unique_lock<std::mutex> lock(mu);
        changed.wait(lock, [&] {
          return !fatal.ok() || cancelled() || next_job >= count ||
                 next_job - next_deliver < max_in_flight;
        });
        if (!fatal.ok() || cancelled() || next_job >= count) break;
        index = next_job++;
        taken_total = next_job;
      }
      Result<JobPages> r = (*fn)(index);
      std::lock_guard<std::mutex> lock(mu);
      done.emplace(index, std::move(r));
      changed.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    --running;
    changed.notify_all();
  };

  std::vector<std::thread> threads;
  threads.reserve(options.workers);
  for (int i = 0; i < options.workers; ++i) threads.emplace_back(worker, i);

  for (;;) {
    std::optional<Result<JobPages>> item;
    size_t index = 0;
    {
      std::unique_lock<std::mutex> lock(mu);
      changed.wait(lock, [&] {
        return done.count(next_deliver) > 0 || next_deliver >= count ||
               (running == 0 && done.count(next_deliver) == 0) ||
               (cancelled() && next_deliver >= taken_total && done.empty());
      });
      auto it = done.find(next_deliver);
      if (it == done.end()) break;  // finished, stopped, or every worker gone
      index = next_deliver;
      item.emplace(std::move(it->second));
      done.erase(it);
    }
    deliver(index, std::move(*item));
    std::lock_guard<std::mutex> lock(mu);
    ++next_deliver;
    changed.notify_all();
  }
  for (std::thread& t : threads) t.join();
  if (!fatal.ok()) return fatal;
  if (next_deliver < count) return Status::Cancelled("stopped after " + std::to_string(next_deliver) + " of " + std::to_string(count) + " jobs");
  return Status::OK();
}

}  // namespace acervo
