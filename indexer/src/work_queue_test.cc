// The work queue against a real PostgreSQL server started by the test
// (postgres_test_server.h): claims, leases, fencing, the finalise unit,
// LISTEN/NOTIFY, restarts of the server, and the v4 -> v9 migration on
// both stores.
#include "acervo/indexer/work_queue.h"
#include "sqlite_extensions.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "acervo/indexer/postgres_store.h"
#include "acervo/indexer/sqlite_store.h"
#include "postgres_test_server.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int64_t PgInt(const std::string& conninfo, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(conninfo.c_str()), &PQfinish);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) {
    ADD_FAILURE() << sql << ": " << PQerrorMessage(c.get());
    return -1;
  }
  return PQgetisnull(r.get(), 0, 0) ? 0 : std::stoll(PQgetvalue(r.get(), 0, 0));
}

void PgExec(const std::string& conninfo, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(conninfo.c_str()), &PQfinish);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(c.get());
}

// A plan outcome: `pages` master pages per document, cut into ranges of
// `range` pages when a document has more.
UnitOutcome Plan(const std::string& lot_id, const std::vector<int>& pages, int range = 0) {
  UnitOutcome o;
  o.lot_id = lot_id;
  o.fingerprint = "fp";
  for (size_t d = 0; d < pages.size(); ++d) {
    const std::string id = "doc" + std::to_string(d);
    o.units.push_back({UnitKind::kDocument, static_cast<int>(d), id, 0, pages[d], pages[d]});
    if (range > 0 && pages[d] > range) {
      for (int p = 0; p < pages[d]; p += range) {
        o.units.push_back({UnitKind::kPages, static_cast<int>(d), id, p, std::min(p + range, pages[d]),
                           std::min(p + range, pages[d]) - p});
      }
    }
  }
  return o;
}

UnitOutcome Done(int pages = 1) {
  UnitOutcome o;
  o.pages_computed = pages;
  o.report_json = "{\"pages\":" + std::to_string(pages) + "}";
  return o;
}

class WorkQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_ = SharedPostgres(&why);
    if (server_ == nullptr) {
      std::fprintf(stderr, "\n*** PostgreSQL cannot run here: %s; queue tests SKIPPED ***\n\n", why.c_str());
      GTEST_SKIP() << why;
    }
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    Result<std::string> c = server_->CreateDatabase("q_" + name);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conninfo_ = *c;
    queue_ = Open();
    ASSERT_NE(queue_, nullptr);
  }

  std::unique_ptr<WorkQueue> Open(QueueOptions o = {}) {
    Result<std::unique_ptr<WorkQueue>> q = OpenPostgresQueue(conninfo_, o);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  int64_t Int(const std::string& sql) { return PgInt(conninfo_, sql); }

  ClaimedUnit ClaimOrDie(WorkQueue& q, const std::string& worker = "w1") {
    Result<std::optional<ClaimedUnit>> u = q.Claim(worker);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    EXPECT_TRUE(u.ok() && u->has_value()) << "no unit ready";
    return u.ok() && u->has_value() ? **u : ClaimedUnit{};
  }

  bool NothingReady(WorkQueue& q) {
    Result<std::optional<ClaimedUnit>> u = q.Claim("probe");
    return u.ok() && !u->has_value();
  }

  PostgresTestServer* server_ = nullptr;
  std::string conninfo_;
  std::unique_ptr<WorkQueue> queue_;
};

TEST_F(WorkQueueTest, ALotGoesPlanDocumentsFinaliseExactlyOnce) {
  Result<EnqueueResult> e = queue_->Enqueue({"inbox/L1", "{\"languages\":\"por\"}", "station 1"});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE(e->already_queued);
  // The same folder again while it is queued: the same lot.
  Result<EnqueueResult> again = queue_->Enqueue({"inbox/L1", "{}", "station 2"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_queued);
  EXPECT_EQ(again->lot, e->lot);

  ClaimedUnit plan = ClaimOrDie(*queue_);
  EXPECT_EQ(plan.kind, UnitKind::kPlan);
  EXPECT_EQ(plan.lot_dir, "inbox/L1");
  EXPECT_EQ(plan.options_json, "{\"languages\":\"por\"}");
  EXPECT_EQ(plan.attempts, 1);
  EXPECT_FALSE(plan.lot_started_at.empty());
  EXPECT_TRUE(NothingReady(*queue_));
  // doc0: 2 pages (one unit); doc1: 5 pages in ranges of 2 (3 ranges and
  // the document unit that waits for them).
  ASSERT_TRUE(queue_->Complete(plan, Plan("L1", {2, 5}, 2)).ok());
  // Recording the same completion again (a lost reply) is fine.
  ASSERT_TRUE(queue_->Complete(plan, Plan("L1", {2, 5}, 2)).ok());

  std::vector<ClaimedUnit> held;
  for (int i = 0; i < 4; ++i) held.push_back(ClaimOrDie(*queue_, "w" + std::to_string(i)));
  EXPECT_TRUE(NothingReady(*queue_)) << "the document unit of doc1 must wait for its ranges";
  EXPECT_EQ(held[0].kind, UnitKind::kDocument);
  EXPECT_EQ(held[0].document_id, "doc0");
  EXPECT_EQ(held[0].lot_id, "L1");
  EXPECT_EQ(held[0].fingerprint, "fp");
  EXPECT_EQ(held[0].lot_started_at, plan.lot_started_at);
  std::set<std::pair<int, int>> ranges;
  for (size_t i = 1; i < held.size(); ++i) {
    EXPECT_EQ(held[i].kind, UnitKind::kPages);
    ranges.insert({held[i].first_page, held[i].end_page});
  }
  EXPECT_EQ(ranges, (std::set<std::pair<int, int>>{{0, 2}, {2, 4}, {4, 5}}));
  for (size_t i = 1; i < held.size(); ++i) ASSERT_TRUE(queue_->Complete(held[i], Done(2)).ok());
  ClaimedUnit doc1 = ClaimOrDie(*queue_);
  EXPECT_EQ(doc1.kind, UnitKind::kDocument);
  EXPECT_EQ(doc1.document_id, "doc1");
  EXPECT_EQ(doc1.end_page, 5);
  ASSERT_TRUE(queue_->Complete(doc1, Done(0)).ok());
  ASSERT_TRUE(queue_->Complete(doc1, Done(0)).ok()) << "a completion whose reply was lost may come again";
  EXPECT_TRUE(NothingReady(*queue_)) << "doc0 is still running: no finalise yet";
  EXPECT_EQ(Int("SELECT count(*) FROM queue_units WHERE kind = 'finalise'"), 0);
  ASSERT_TRUE(queue_->Complete(held[0], Done(2)).ok());
  EXPECT_EQ(Int("SELECT count(*) FROM queue_units WHERE kind = 'finalise'"), 1);
  ClaimedUnit fin = ClaimOrDie(*queue_);
  EXPECT_EQ(fin.kind, UnitKind::kFinalise);
  EXPECT_TRUE(NothingReady(*queue_));
  Result<std::vector<UnitRecord>> units = queue_->LotUnits(fin.lot);
  ASSERT_TRUE(units.ok());
  EXPECT_EQ(units->size(), 7u);  // plan, 2 documents, 3 ranges, finalise
  UnitOutcome report;
  report.report_json = "{\"lot\":\"L1\"}";
  ASSERT_TRUE(queue_->Complete(fin, report).ok());
  Result<std::vector<FinishedLot>> finished = queue_->FinishedLots("");
  ASSERT_TRUE(finished.ok());
  ASSERT_EQ(finished->size(), 1u);
  EXPECT_EQ((*finished)[0].state, "done");
  EXPECT_EQ((*finished)[0].lot_id, "L1");
  EXPECT_EQ((*finished)[0].report_json, "{\"lot\":\"L1\"}");

  Result<QueueStatus> st = queue_->GetStatus();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->units.done, 7);
  EXPECT_EQ(st->units.pending + st->units.running + st->units.failed, 0);
  ASSERT_EQ(st->lots.size(), 1u);
  EXPECT_EQ(st->lots[0].pages, 7);
  EXPECT_EQ(st->lots[0].pages_done, 8);  // 3 ranges of 2, doc0 2, doc1 0
  EXPECT_GT(st->pages_per_minute_10m, 0);
  // Finished: the folder may be queued again (a new lot).
  Result<EnqueueResult> later = queue_->Enqueue({"inbox/L1", "{}", "station 1"});
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->already_queued);
  EXPECT_NE(later->lot, e->lot);
}

TEST_F(WorkQueueTest, AFailedPlanFailsItsLotWithTheReason) {
  ASSERT_TRUE(queue_->Enqueue({"inbox/bad", "{}", ""}).ok());
  ClaimedUnit plan = ClaimOrDie(*queue_);
  UnitOutcome failed;
  failed.failed = true;
  failed.error = "profile.toml line 3: unknown key 'dpi'";
  ASSERT_TRUE(queue_->Complete(plan, failed).ok());
  EXPECT_TRUE(NothingReady(*queue_));
  Result<std::vector<FinishedLot>> finished = queue_->FinishedLots("");
  ASSERT_TRUE(finished.ok());
  ASSERT_EQ(finished->size(), 1u);
  EXPECT_EQ((*finished)[0].state, "failed");
  EXPECT_EQ((*finished)[0].error, failed.error);
  Result<QueueStatus> st = queue_->GetStatus();
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->failures.size(), 1u);
  EXPECT_EQ(st->failures[0].error, failed.error);
  EXPECT_EQ(st->failures[0].kind, "plan");
}

TEST_F(WorkQueueTest, TwoFoldersOfOneLotIdDoNotRunAtOnce) {
  ASSERT_TRUE(queue_->Enqueue({"a/L1", "{}", ""}).ok());
  ASSERT_TRUE(queue_->Enqueue({"b/L1", "{}", ""}).ok());
  ClaimedUnit first = ClaimOrDie(*queue_);
  ClaimedUnit second = ClaimOrDie(*queue_);
  ASSERT_TRUE(queue_->Complete(first, Plan("L1", {1})).ok());
  ASSERT_TRUE(queue_->Complete(second, Plan("L1", {1})).ok());
  Result<std::vector<FinishedLot>> finished = queue_->FinishedLots("");
  ASSERT_TRUE(finished.ok());
  ASSERT_EQ(finished->size(), 1u);
  EXPECT_EQ((*finished)[0].lot_dir, "b/L1");
  EXPECT_NE((*finished)[0].error.find("being processed from a/L1"), std::string::npos) << (*finished)[0].error;
}

TEST_F(WorkQueueTest, ConcurrentWorkersTakeEachUnitOnce) {
  ASSERT_TRUE(queue_->Enqueue({"big", "{}", ""}).ok());
  ClaimedUnit plan = ClaimOrDie(*queue_);
  ASSERT_TRUE(queue_->Complete(plan, Plan("BIG", std::vector<int>(400, 1))).ok());
  std::mutex mu;
  std::map<int64_t, int> taken;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<WorkQueue> q = Open();
      if (!q) return ++errors, void();
      for (;;) {
        std::string worker = "t";
        worker += std::to_string(t);
        Result<std::optional<ClaimedUnit>> u = q->Claim(worker);
        if (!u.ok()) return ++errors, void();
        if (!u->has_value()) {
          // Nothing ready now; the finalise unit may still be on its way
          // (added by the last completion's second look, or by the sweep
          // of a claim whose snapshot could not see it): stop only when no
          // unit is left, as `acervo worker --exit-when-idle` does.
          if (Int("SELECT count(*) FROM queue_units WHERE state IN ('pending', 'running')") == 0) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(mu);
          ++taken[(*u)->id];
        }
        if (!q->Complete(**u, Done()).ok()) ++errors;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  // 400 documents and the finalise unit, each taken by exactly one worker.
  EXPECT_EQ(taken.size(), 401u);
  for (const auto& [id, n] : taken) EXPECT_EQ(n, 1) << "unit " << id;
  EXPECT_EQ(Int("SELECT count(*) FROM queue_units WHERE state <> 'done'"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM queue_units WHERE kind = 'finalise'"), 1);
}

// The last two units of a lot completed at the same moment each see the
// other still running: the lot must still be finalised, once.
TEST_F(WorkQueueTest, LastUnitsCompletedTogetherFinaliseTheLotOnce) {
  std::unique_ptr<WorkQueue> other = Open();
  for (int lot = 0; lot < 20; ++lot) {
    std::string name = "L";  // (not "L" + ...: GCC 12 warns falsely, -Wrestrict)
    name += std::to_string(lot);
    ASSERT_TRUE(queue_->Enqueue({name, "{}", ""}).ok());
    ASSERT_TRUE(queue_->Complete(ClaimOrDie(*queue_), Plan(name, {1, 1})).ok());
    ClaimedUnit a = ClaimOrDie(*queue_, "a");
    ClaimedUnit b = ClaimOrDie(*other, "b");
    std::thread t([&] { EXPECT_TRUE(other->Complete(b, Done()).ok()); });
    EXPECT_TRUE(queue_->Complete(a, Done()).ok());
    t.join();
    ClaimedUnit fin = ClaimOrDie(*queue_);
    ASSERT_EQ(fin.kind, UnitKind::kFinalise) << name;
    ASSERT_EQ(fin.lot_id, name);
    ASSERT_TRUE(queue_->Complete(fin, UnitOutcome{}).ok());
  }
  EXPECT_EQ(Int("SELECT count(*) FROM queue_units WHERE kind = 'finalise'"), 20);
  EXPECT_EQ(Int("SELECT count(DISTINCT lot) FROM queue_units WHERE kind = 'finalise'"), 20);
}

TEST_F(WorkQueueTest, AnExpiredLeaseIsTakenOverAndTheOldClaimIsFenced) {
  QueueOptions o;
  o.lease = std::chrono::seconds(1);
  std::unique_ptr<WorkQueue> q = Open(o);
  ASSERT_TRUE(q->Enqueue({"L", "{}", ""}).ok());
  ClaimedUnit plan = ClaimOrDie(*q);
  ASSERT_TRUE(q->Complete(plan, Plan("L", {3})).ok());
  ClaimedUnit dead = ClaimOrDie(*q, "dead");
  // Heartbeats keep it: nobody else gets it past the first lease.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(milliseconds(400));
    Result<std::vector<int64_t>> lost = q->Heartbeat("dead", {dead.claim});
    ASSERT_TRUE(lost.ok());
    EXPECT_TRUE(lost->empty());
  }
  EXPECT_TRUE(NothingReady(*q));
  // No heartbeat for longer than the lease: the next claimer takes it over.
  std::this_thread::sleep_for(milliseconds(1300));
  ClaimedUnit next = ClaimOrDie(*q, "alive");
  EXPECT_EQ(next.id, dead.id);
  EXPECT_EQ(next.attempts, 2);
  EXPECT_NE(next.claim, dead.claim);
  // The presumed dead worker wakes up: told it lost the unit; its outcome
  // is refused.
  Result<std::vector<int64_t>> lost = q->Heartbeat("dead", {dead.claim});
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(*lost, std::vector<int64_t>{dead.claim});
  Status late = q->Complete(dead, Done());
  EXPECT_EQ(late.code(), StatusCode::kCancelled) << late.ToString();
  EXPECT_TRUE(q->Complete(next, Done()).ok());
  EXPECT_EQ(Int("SELECT count(*) FROM queue_units WHERE kind = 'finalise'"), 1);
}

// The fence around publishing (a document's PDF renamed into place, its
// row committed): while a worker holds it, its unit cannot be taken over
// even past the lease; a worker that lost the unit cannot take it.
TEST_F(WorkQueueTest, APublishingWorkerHoldsItsUnitAndALateOneCannot) {
  QueueOptions o;
  o.lease = std::chrono::seconds(1);
  std::unique_ptr<WorkQueue> q = Open(o);
  std::unique_ptr<WorkQueue> other = Open(o);
  ASSERT_TRUE(q->Enqueue({"L", "{}", ""}).ok());
  ASSERT_TRUE(q->Complete(ClaimOrDie(*q), Plan("L", {1})).ok());
  ClaimedUnit slow = ClaimOrDie(*q, "slow");
  {
    Result<std::unique_ptr<ClaimHold>> hold = q->HoldClaim(slow);
    ASSERT_TRUE(hold.ok()) << hold.status().ToString();
    // Its lease runs out while it publishes: nobody takes the unit over
    // (the reaper skips the locked row) until the hold ends.
    std::this_thread::sleep_for(milliseconds(1300));
    EXPECT_TRUE(NothingReady(*other));
    EXPECT_EQ(Int("SELECT count(*) FROM queue_units WHERE state = 'running'"), 1);
  }
  EXPECT_TRUE(q->Complete(slow, Done()).ok()) << "published under the hold: its outcome counts";

  // A worker frozen past its lease, taken over: it learns so at the fence.
  ASSERT_TRUE(q->Enqueue({"M", "{}", ""}).ok());
  ASSERT_TRUE(q->Complete(ClaimOrDie(*q), Plan("M", {1})).ok());
  ClaimedUnit frozen = ClaimOrDie(*q, "frozen");
  std::this_thread::sleep_for(milliseconds(1300));
  ClaimedUnit successor = ClaimOrDie(*other, "successor");
  ASSERT_EQ(successor.id, frozen.id);
  Result<std::unique_ptr<ClaimHold>> late = q->HoldClaim(frozen);
  EXPECT_EQ(late.status().code(), StatusCode::kCancelled) << late.status().ToString();
  Result<std::unique_ptr<ClaimHold>> current = other->HoldClaim(successor);
  EXPECT_TRUE(current.ok()) << current.status().ToString();
}

TEST_F(WorkQueueTest, AUnitWhoseWorkersKeepDyingFailsInsteadOfLooping) {
  QueueOptions o;
  o.lease = std::chrono::seconds(1);
  o.max_attempts = 2;
  std::unique_ptr<WorkQueue> q = Open(o);
  ASSERT_TRUE(q->Enqueue({"L", "{}", ""}).ok());
  ASSERT_TRUE(q->Complete(ClaimOrDie(*q), Plan("L", {1})).ok());
  ClaimedUnit a = ClaimOrDie(*q, "crash-1");
  std::this_thread::sleep_for(milliseconds(1200));
  ClaimedUnit b = ClaimOrDie(*q, "crash-2");
  EXPECT_EQ(b.id, a.id);
  std::this_thread::sleep_for(milliseconds(1200));
  // The second expiry fails it; what is ready now is the lot's finalise unit.
  ClaimedUnit fin = ClaimOrDie(*q, "w");
  EXPECT_EQ(fin.kind, UnitKind::kFinalise);
  Result<QueueStatus> st = q->GetStatus();
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->failures.size(), 1u);
  EXPECT_EQ(st->failures[0].unit, a.id);
  EXPECT_EQ(st->failures[0].attempts, 2);
  EXPECT_NE(st->failures[0].error.find("crash-2"), std::string::npos) << st->failures[0].error;
}

TEST_F(WorkQueueTest, AReleasedUnitIsReadyAgainWithoutCountingAnAttempt) {
  ASSERT_TRUE(queue_->Enqueue({"L", "{}", ""}).ok());
  ASSERT_TRUE(queue_->Complete(ClaimOrDie(*queue_), Plan("L", {1})).ok());
  ClaimedUnit u = ClaimOrDie(*queue_, "draining");
  ASSERT_TRUE(queue_->Release(u).ok());
  EXPECT_EQ(queue_->Release(u).code(), StatusCode::kCancelled);
  ClaimedUnit again = ClaimOrDie(*queue_, "other");
  EXPECT_EQ(again.id, u.id);
  EXPECT_EQ(again.attempts, 1);
}

TEST_F(WorkQueueTest, AnIdleWorkerSleepsUntilNotified) {
  std::unique_ptr<WorkQueue> listener = Open();
  // Nothing queued: the wait lasts its full time (no busy polling).
  Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(listener->WaitForWork(milliseconds(400), -1).ok());
  EXPECT_GE(Clock::now() - t0, milliseconds(380));
  // An enqueue from another connection wakes it at once.
  std::thread station([&] {
    std::this_thread::sleep_for(milliseconds(300));
    EXPECT_TRUE(queue_->Enqueue({"L", "{}", ""}).ok());
  });
  t0 = Clock::now();
  ASSERT_TRUE(listener->WaitForWork(milliseconds(20000), -1).ok());
  const auto waited = Clock::now() - t0;
  station.join();
  EXPECT_GE(waited, milliseconds(250));
  EXPECT_LT(waited, milliseconds(5000));
  // A pipe written by a signal handler wakes it too.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  t0 = Clock::now();
  ASSERT_TRUE(listener->WaitForWork(milliseconds(20000), fds[0]).ok());
  EXPECT_LT(Clock::now() - t0, milliseconds(5000));
  ::close(fds[0]);
  ::close(fds[1]);
}

// A worker that found nothing to claim while another ran the last unit
// must hear when the lot (and so perhaps the queue) ends: `worker
// --exit-when-idle` waits on this, and slept out its 60 s wait before.
TEST_F(WorkQueueTest, AnIdleWorkerHearsWhenALotEnds) {
  std::unique_ptr<WorkQueue> listener = Open();
  for (bool plan_fails : {false, true}) {
    SCOPED_TRACE(plan_fails ? "a lot whose plan failed" : "a lot finalised");
    ASSERT_TRUE(queue_->Enqueue({plan_fails ? "L-bad" : "L-ok", "{}", ""}).ok());
    ClaimedUnit plan = ClaimOrDie(*queue_);
    ClaimedUnit last = plan;
    if (!plan_fails) {
      ASSERT_TRUE(queue_->Complete(plan, Plan("L-ok", {1})).ok());
      ASSERT_TRUE(queue_->Complete(ClaimOrDie(*queue_), Done()).ok());
      last = ClaimOrDie(*queue_);
      ASSERT_EQ(last.kind, UnitKind::kFinalise);
    }
    // Whatever was notified so far is consumed: the listener now sleeps.
    while (true) {
      const Clock::time_point t = Clock::now();
      ASSERT_TRUE(listener->WaitForWork(milliseconds(300), -1).ok());
      if (Clock::now() - t >= milliseconds(280)) break;
    }
    UnitOutcome outcome;
    if (plan_fails) {
      outcome.failed = true;
      outcome.error = "no pages";
    }
    std::thread other([&] {
      std::this_thread::sleep_for(milliseconds(300));
      EXPECT_TRUE(queue_->Complete(last, outcome).ok());
    });
    const Clock::time_point t0 = Clock::now();
    ASSERT_TRUE(listener->WaitForWork(milliseconds(20000), -1).ok());
    const auto waited = Clock::now() - t0;
    other.join();
    EXPECT_LT(waited, milliseconds(10000)) << "the end of the lot was not notified";
    Result<QueueStatus> st = listener->GetStatus();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->units.pending + st->units.running, 0);
  }
}

// A notification that arrives while the waiting worker's own query runs
// (here: held back by a lock until the notifier commits) comes in with
// that query's reply and must still wake it.
TEST_F(WorkQueueTest, ANotificationDuringTheWaitersQueryWakesIt) {
  std::unique_ptr<WorkQueue> listener = Open();
  ASSERT_TRUE(listener->WaitForWork(milliseconds(50), -1).ok());  // LISTEN
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(conninfo_.c_str()), &PQfinish);
  const auto exec = [&](const char* sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql), &PQclear);
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(c.get());
  };
  exec("BEGIN");
  exec("LOCK TABLE queue_units IN ACCESS EXCLUSIVE MODE");
  exec("NOTIFY acervo_queue");
  std::thread notifier([&] {
    std::this_thread::sleep_for(milliseconds(500));
    exec("COMMIT");
  });
  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(listener->WaitForWork(milliseconds(20000), -1).ok());
  const auto waited = Clock::now() - t0;
  notifier.join();
  EXPECT_LT(waited, milliseconds(10000)) << "slept past a notification that came with its query's reply";
}

TEST_F(WorkQueueTest, AStatusNamesWorkersAndTheirUnits) {
  ASSERT_TRUE(queue_->RegisterWorker({"host-a:1", "host-a", 1, 2, 60, "running"}).ok());
  ASSERT_TRUE(queue_->Enqueue({"L", "{}", ""}).ok());
  ClaimedUnit plan = ClaimOrDie(*queue_, "host-a:1");
  Result<QueueStatus> st = queue_->GetStatus();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(st->workers.size(), 1u);
  EXPECT_EQ(st->workers[0].host, "host-a");
  EXPECT_EQ(st->workers[0].jobs, 2);
  EXPECT_FALSE(st->workers[0].lost);
  EXPECT_EQ(st->workers[0].running, std::vector<int64_t>{plan.id});
  EXPECT_EQ(st->units.running, 1);
  ASSERT_TRUE(queue_->Complete(plan, Plan("L", {4})).ok());
  ASSERT_TRUE(queue_->RegisterWorker({"host-a:1", "host-a", 1, 2, 60, "stopped"}).ok());
  st = queue_->GetStatus();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->workers[0].state, "stopped");
  EXPECT_EQ(st->workers[0].units_done, 1);
  EXPECT_EQ(st->units.pending, 1);
}

// A server restarted under the queue and the store: both reconnect and
// carry on (a fast shutdown closes every session, a crash too).
// A durable server of its own (these tests restart it) and a queue on it.
class WorkQueueRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = server.Start(/*durable=*/true);
    if (!started.ok()) {
      std::fprintf(stderr, "\n*** PostgreSQL cannot run here: %s; SKIPPED ***\n\n", started.ToString().c_str());
      GTEST_SKIP() << started.ToString();
    }
    conninfo = server.CreateDatabase("restart");
    ASSERT_TRUE(conninfo.ok());
    q = OpenPostgresQueue(*conninfo);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
  }

  PostgresTestServer server;
  Result<std::string> conninfo = Status::Unavailable("not started");
  Result<std::unique_ptr<WorkQueue>> q = Status::Unavailable("not opened");
};

TEST_F(WorkQueueRestartTest, QueueAndStoreCarryOnAcrossServerRestarts) {
  Result<std::unique_ptr<Store>> store = OpenPostgresStore(*conninfo);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->UpsertLot({"L", "", "", "", "", "", "", ""}).ok());
  ASSERT_TRUE((*q)->Enqueue({"L", "{}", ""}).ok());
  for (const char* mode : {"fast", "immediate"}) {
    SCOPED_TRACE(mode);
    // The server is away for a moment while a worker waits for work.
    std::thread restart([&] { EXPECT_TRUE(server.Restart(mode, milliseconds(700)).ok()); });
    EXPECT_TRUE((*q)->WaitForWork(milliseconds(3000), -1).ok());
    restart.join();
    Result<std::optional<ClaimedUnit>> u = (*q)->Claim("w");
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    ASSERT_TRUE(u->has_value());
    ASSERT_TRUE((*q)->Complete(**u, Plan("L", {1})).ok());
    DocumentRecord d;
    d.lot_id = "L";
    d.document_id = std::string("after-") + mode;
    d.pdf_path = "L/x.pdf";
    d.page_count = 1;
    PageRecord p;
    p.number = 1;
    p.pdf_page = 1;
    p.text = "texto depois do reinício";
    d.pages.push_back(p);
    Status put = (*store)->PutDocument(d);
    EXPECT_TRUE(put.ok()) << put.ToString();
  }
  Result<StoreStats> stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->documents, 2);
  Result<QueueStatus> st = (*q)->GetStatus();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->units.done, 2);     // the plan, the document
  EXPECT_EQ(st->units.pending, 1);  // the lot's finalise unit
}

// A worker about to publish while the server restarts waits for it (the
// store's commit right after would too) instead of failing the document.
TEST_F(WorkQueueRestartTest, APublishWaitsForTheServerToComeBack) {
  ASSERT_TRUE((*q)->Enqueue({"L", "{}", ""}).ok());
  Result<std::optional<ClaimedUnit>> plan = (*q)->Claim("w");
  ASSERT_TRUE(plan.ok() && plan->has_value());
  ASSERT_TRUE((*q)->Complete(**plan, Plan("L", {1})).ok());
  Result<std::optional<ClaimedUnit>> doc = (*q)->Claim("w");
  ASSERT_TRUE(doc.ok() && doc->has_value());
  // Down for 2 s (a crash); the publish comes while it is away.
  std::thread restart([&] { EXPECT_TRUE(server.Restart("immediate", milliseconds(2000)).ok()); });
  std::this_thread::sleep_for(milliseconds(700));
  Result<std::unique_ptr<ClaimHold>> held = (*q)->HoldClaim(**doc);
  restart.join();
  EXPECT_TRUE(held.ok()) << held.status().ToString();
  held = Status::OK();
  EXPECT_TRUE((*q)->Complete(**doc, Done()).ok());
}

// -> v9: a database of the previous version gets the queue's tables; a
// SQLite file only records the version (it has no queue).
TEST_F(WorkQueueTest, DatabaseBeforeVersion9GetsTheQueueTables) {
  queue_.reset();
  // Issue 19's v10 (users.cpf, users.source) and issue 14's v11
  // (page_replacements) go too: the store is then v7.
  PgExec(conninfo_,
         "DROP TABLE page_replacements; DROP FUNCTION acervo_replacement_append_only(); "
         "ALTER TABLE users DROP COLUMN cpf, DROP COLUMN source; "
         "DROP TABLE queue_units, queue_workers, queue_lots; DELETE FROM schema_version WHERE version >= 9");
  ASSERT_LT(Int("SELECT max(version) FROM schema_version"), 9);
  std::unique_ptr<WorkQueue> q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(Int("SELECT max(version) FROM schema_version"), kPostgresSchemaVersion);
  EXPECT_TRUE(q->Enqueue({"L", "{}", ""}).ok());
  EXPECT_EQ(Int("SELECT count(*) FROM queue_units"), 1);
}

TEST(WorkQueueSqliteTest, ASqliteStoreHasNoQueueAndSaysWhatToUse) {
  const fs::path dir = fs::temp_directory_path() / ("acervo-q-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path db = dir / "acervo.db";
  {
    Result<std::unique_ptr<Store>> s = OpenSqliteStore(db);
    ASSERT_TRUE(s.ok());
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_TRUE(RegisterSqliteExtensions(raw).ok());  // the text index's tokenizer, for ALTER TABLE
  // Back to v7 (issue 19's v10 and issue 14's v11 undone too).
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TABLE page_replacements; DROP INDEX users_by_cpf; ALTER TABLE users DROP COLUMN cpf; ALTER TABLE users DROP COLUMN source; "
                         "DELETE FROM schema_version WHERE version >= 9",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  {
    Result<std::unique_ptr<Store>> s = OpenSqliteStore(db);  // v4 -> v9: a recorded no-op
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw,
                               "SELECT max(version), (SELECT count(*) FROM sqlite_schema WHERE name LIKE 'queue%') "
                               "FROM schema_version",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kSqliteSchemaVersion);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 0);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  Result<std::unique_ptr<WorkQueue>> q = OpenWorkQueue(db.string());
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(q.status().message().find("needs a PostgreSQL store"), std::string::npos) << q.status().ToString();
  EXPECT_NE(q.status().message().find("acervo batch"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace acervo
