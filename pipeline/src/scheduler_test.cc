#include "acervo/pipeline/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace acervo {
namespace {

TEST(SchedulerTest, DeliversEveryJobInOrderWithBoundedInFlight) {
  struct Case { size_t count; int workers; size_t in_flight; };
  for (const Case& c : {Case{0, 2, 4}, Case{1, 1, 1}, Case{50, 2, 3}, Case{200, 4, 8}, Case{30, 3, 1}}) {
    std::atomic<int> taken_not_delivered{0};
    std::atomic<int> max_seen{0};
    std::mutex mu;
    std::set<int> factories;
    std::vector<size_t> order;
    Status s = RunOrdered(
        c.count, {c.workers, c.in_flight, nullptr},
        [&](int worker) -> Result<PageJobFn> {
          std::lock_guard<std::mutex> lock(mu);
          factories.insert(worker);
          return PageJobFn([&](size_t i) -> Result<JobPages> {
            int now = ++taken_not_delivered;
            int prev = max_seen.load();
            while (now > prev && !max_seen.compare_exchange_weak(prev, now)) {}
            std::this_thread::sleep_for(std::chrono::microseconds((i * 7919) % 500));
            if (i % 13 == 5) return Status::Corrupt("job " + std::to_string(i));
            // Every third job is a spread: two pages, left then right.
            JobPages pages(i % 3 == 0 ? 2 : 1);
            for (size_t k = 0; k < pages.size(); ++k) {
              pages[k].origin.sequence = static_cast<int>(i);
              if (pages.size() == 2) pages[k].origin.part = k == 0 ? PageOrigin::Part::kLeft : PageOrigin::Part::kRight;
            }
            return pages;
          });
        },
        [&](size_t i, Result<JobPages> r) {
          --taken_not_delivered;
          order.push_back(i);
          if (i % 13 == 5) {
            EXPECT_FALSE(r.ok());
          } else {
            ASSERT_TRUE(r.ok());
            ASSERT_EQ(r->size(), i % 3 == 0 ? 2u : 1u);
            for (const Page& p : *r) EXPECT_EQ(p.origin.sequence, static_cast<int>(i));
            if (r->size() == 2) {
              EXPECT_EQ((*r)[0].origin.part, PageOrigin::Part::kLeft);
              EXPECT_EQ((*r)[1].origin.part, PageOrigin::Part::kRight);
            }
          }
        });
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(order.size(), c.count);
    for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
    EXPECT_LE(max_seen.load(), static_cast<int>(c.in_flight));
    EXPECT_EQ(static_cast<int>(factories.size()), c.workers);
  }
}

TEST(SchedulerTest, FactoryFailureStopsTheRun) {
  int delivered = 0;
  Status s = RunOrdered(
      10, {2, 4, nullptr},
      [](int) -> Result<PageJobFn> { return Status::Unavailable("no language model 'xyz'"); },
      [&](size_t, Result<JobPages>) { ++delivered; });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(delivered, 0);
}

TEST(SchedulerTest, CancelStopsTakingJobsButDeliversTakenOnes) {
  std::atomic<bool> cancel{false};
  std::vector<size_t> delivered;
  Status s = RunOrdered(
      1000, {2, 4, &cancel},
      [&](int) -> Result<PageJobFn> {
        return PageJobFn([&](size_t i) -> Result<JobPages> {
          if (i == 20) cancel = true;
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          return JobPages(1);
        });
      },
      [&](size_t i, Result<JobPages>) { delivered.push_back(i); });
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  ASSERT_GE(delivered.size(), 21u);
  EXPECT_LT(delivered.size(), 1000u);
  for (size_t i = 0; i < delivered.size(); ++i) EXPECT_EQ(delivered[i], i);
}

}  // namespace
}  // namespace acervo
