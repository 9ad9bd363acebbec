// The work queue on PostgreSQL (work_queue.h): tables of schema v9
// (postgres_store.cc), claims with FOR UPDATE SKIP LOCKED, leases, and
// LISTEN/NOTIFY on the channel "acervo_queue".
#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "acervo/indexer/open_store.h"
#include "acervo/indexer/postgres_store.h"
#include "acervo/indexer/work_queue.h"
#include "pg_connection.h"

namespace acervo {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kNotify = "NOTIFY acervo_queue";

// A timestamp column as ISO 8601 UTC text ("" for NULL).
std::string Iso(const std::string& column) {
  return "coalesce(to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')";
}

UnitKind KindFrom(std::string_view name) {
  if (name == "pages") return UnitKind::kPages;
  if (name == "document") return UnitKind::kDocument;
  if (name == "finalise") return UnitKind::kFinalise;
  return UnitKind::kPlan;
}

std::string Text(const PGresult* r, int row, int col) { return PQgetvalue(r, row, col); }
int64_t Int(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : std::stoll(PQgetvalue(r, row, col));
}
double Real(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : std::stod(PQgetvalue(r, row, col));
}

// A fencing token: random, positive, unique in practice (and enforced by a
// unique index).
int64_t NewToken() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return static_cast<int64_t>(rng() >> 1) | 1;
}

// Claim (see ClaimLocked). $1 token, $2 worker, $3 lease seconds. The lot
// row of a plan is updated in the statement; its started_at is this
// statement's now(), which the output repeats (a CTE's changes are not
// visible to the rest of the statement).
const std::string kClaimSql = R"sql(
WITH c AS (
  SELECT id FROM queue_units
  WHERE state = 'pending' AND waiting = 0 AND NOT EXISTS (SELECT 1 FROM queue_units m WHERE m.claim = $1)
  ORDER BY lot, id LIMIT 1 FOR UPDATE SKIP LOCKED),
u AS (
  UPDATE queue_units q SET state = 'running', claim = $1, worker = $2, attempts = q.attempts + 1,
         lease_until = now() + make_interval(secs => $3), claimed_at = now(), error = ''
  FROM c WHERE q.id = c.id
  RETURNING q.id, q.lot, q.kind, q.document_index, q.document_id, q.first_page, q.end_page, q.attempts, q.claim),
l AS (
  UPDATE queue_lots ql SET state = 'running', started_at = coalesce(ql.started_at, now())
  FROM u WHERE ql.id = u.lot AND u.kind = 'plan' AND ql.state = 'queued' RETURNING ql.id),
x AS (
  SELECT * FROM u
  UNION ALL
  SELECT m.id, m.lot, m.kind, m.document_index, m.document_id, m.first_page, m.end_page, m.attempts, m.claim
  FROM queue_units m WHERE m.claim = $1 AND m.state = 'running')
SELECT x.id, x.lot, x.kind, x.document_index, x.document_id, x.first_page, x.end_page, x.attempts, x.claim,
       lt.lot_dir, lt.lot_id, lt.options, lt.fingerprint, )sql" +
    Iso("CASE WHEN x.kind = 'plan' THEN coalesce(lt.started_at, now()) ELSE lt.started_at END") +
    " FROM x JOIN queue_lots lt ON lt.id = x.lot";

// Completion of a document or pages unit, in one statement: the unit's
// outcome for its claim ($1 id, $2 claim, $3 state, $4 error, $5 report,
// $6 pages), its document unit's count of ranges, and the lot's finalise
// unit when no other unit of the lot is unfinished, with a NOTIFY when a
// unit became ready. Returns whether it was recorded (0: the claim is not
// running: recorded before, or taken over) and how many other units of the
// lot are still running: two last units completing at once each see the
// other running, so each looks again after its commit (kFinaliseIfDoneSql).
const std::string kCompleteSql = R"sql(
WITH u AS (
  UPDATE queue_units SET state = $3, error = $4, report = nullif($5, ''), pages_computed = $6,
         finished_at = now(), lease_until = NULL
  WHERE id = $1 AND claim = $2 AND state = 'running' AND kind IN ('document', 'pages')
  RETURNING lot, parent),
p AS (UPDATE queue_units q SET waiting = q.waiting - 1 FROM u WHERE q.id = u.parent RETURNING q.waiting),
o AS (SELECT count(*) FILTER (WHERE q.state = 'pending') AS pending,
             count(*) FILTER (WHERE q.state = 'running') AS running
      FROM queue_units q JOIN u ON q.lot = u.lot WHERE q.state IN ('pending', 'running') AND q.id <> $1),
f AS (INSERT INTO queue_units (lot, kind)
      SELECT u.lot, 'finalise' FROM u, o, queue_lots l
      WHERE o.pending = 0 AND o.running = 0 AND l.id = u.lot AND l.state = 'running'
      ON CONFLICT DO NOTHING RETURNING id)
SELECT (SELECT count(*) FROM u),
       coalesce((SELECT CASE WHEN pending = 0 THEN running ELSE 0 END FROM o), 0),
       (SELECT count(*) FROM (SELECT pg_notify('acervo_queue', '')
                              WHERE EXISTS (SELECT 1 FROM f) OR EXISTS (SELECT 1 FROM p WHERE p.waiting = 0)) n))sql";

// The finalise unit of lot $1 if it is running and none of its units is
// unfinished (once: a unique key), with a NOTIFY. Also, with $1 = 0, for
// every such lot: the sweep that finalises a lot whose last two units
// completed at once on workers that died before looking again.
const std::string kFinaliseIfDoneSql = R"sql(
WITH f AS (
  INSERT INTO queue_units (lot, kind)
  SELECT l.id, 'finalise' FROM queue_lots l
  WHERE ($1 = 0 OR l.id = $1) AND l.state = 'running'
    AND NOT EXISTS (SELECT 1 FROM queue_units q WHERE q.lot = l.id AND q.state IN ('pending', 'running'))
  ON CONFLICT DO NOTHING RETURNING id)
SELECT count(*) FROM (SELECT pg_notify('acervo_queue', '') FROM f) n)sql";

ClaimedUnit ClaimedFrom(const PGresult* r, int i) {
  ClaimedUnit u;
  u.id = Int(r, i, 0);
  u.lot = Int(r, i, 1);
  u.kind = KindFrom(Text(r, i, 2));
  u.document_index = static_cast<int>(Int(r, i, 3));
  u.document_id = Text(r, i, 4);
  u.first_page = static_cast<int>(Int(r, i, 5));
  u.end_page = static_cast<int>(Int(r, i, 6));
  u.attempts = static_cast<int>(Int(r, i, 7));
  u.claim = Int(r, i, 8);
  u.lot_dir = Text(r, i, 9);
  u.lot_id = Text(r, i, 10);
  u.options_json = Text(r, i, 11);
  u.fingerprint = Text(r, i, 12);
  u.lot_started_at = Text(r, i, 13);
  return u;
}

// HoldClaim's lock: a transaction on a connection of its own, committed
// (nothing was changed) when the hold ends; a lost connection has released
// it already.
class RowHold final : public ClaimHold {
 public:
  explicit RowHold(std::unique_ptr<PgConnection> c) : c_(std::move(c)) {}
  ~RowHold() override { (void)c_->Exec("COMMIT"); }

 private:
  std::unique_ptr<PgConnection> c_;
};

class PostgresQueue final : public WorkQueue {
 public:
  PostgresQueue(std::string conninfo, QueueOptions options, std::unique_ptr<PgConnection> pg)
      : conninfo_(std::move(conninfo)), options_(options), pg_(std::move(pg)) {}

  Result<EnqueueResult> Enqueue(const QueueLotRequest& r) override {
    if (r.lot_dir.empty()) return Status::InvalidArgument("enqueue: empty lot folder");
    std::lock_guard<std::mutex> lock(mu_);
    const std::string what = "enqueue " + r.lot_dir;
    EnqueueResult out;
    ACERVO_RETURN_IF_ERROR(pg_->Transaction(what, [&]() -> Status {
      out = EnqueueResult{};
      ACERVO_ASSIGN_OR_RETURN(PgResult ins, pg_->Exec("INSERT INTO queue_lots (lot_dir, options, enqueued_by) "
                                                      "VALUES ($1, $2, $3) ON CONFLICT (lot_dir) WHERE state IN "
                                                      "('queued', 'running') DO NOTHING RETURNING id",
                                                      {r.lot_dir, r.options_json, r.enqueued_by}, what));
      if (PQntuples(ins.get()) == 0) {
        ACERVO_ASSIGN_OR_RETURN(PgResult old, pg_->Exec("SELECT id, state FROM queue_lots WHERE lot_dir = $1 AND "
                                                        "state IN ('queued', 'running')",
                                                        {r.lot_dir}, what));
        if (PQntuples(old.get()) == 0) return Status::Unavailable(what + ": raced with its completion");
        out.lot = Int(old.get(), 0, 0);
        out.state = Text(old.get(), 0, 1);
        out.already_queued = true;
        return Status::OK();
      }
      out.lot = Int(ins.get(), 0, 0);
      out.state = "queued";
      ACERVO_RETURN_IF_ERROR(pg_->Exec("INSERT INTO queue_units (lot, kind) VALUES ($1, 'plan')",
                                       {std::to_string(out.lot)}, what)
                                 .status());
      return pg_->Exec(kNotify);
    }));
    return out;
  }

  Status RegisterWorker(const WorkerInfo& w) override {
    std::lock_guard<std::mutex> lock(mu_);
    return pg_->Exec(R"sql(
      INSERT INTO queue_workers (name, host, pid, jobs, state, lease) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, jobs = excluded.jobs,
        state = excluded.state, lease = excluded.lease, last_seen = now(),
        started_at = CASE WHEN queue_workers.state = 'stopped' THEN now() ELSE queue_workers.started_at END)sql",
                     {w.name, w.host, std::to_string(w.pid), std::to_string(w.jobs), w.state,
                      std::to_string(w.lease_seconds)},
                     "register worker")
        .status();
  }

  Result<std::optional<ClaimedUnit>> Claim(const std::string& worker) override {
    std::lock_guard<std::mutex> lock(mu_);
    return ClaimWithReapLocked(worker);
  }

 private:
  Result<std::optional<ClaimedUnit>> ClaimWithReapLocked(const std::string& worker) {
    bool reaped = false;
    if (Clock::now() >= next_reap_) {
      ACERVO_ASSIGN_OR_RETURN(int n, ReapExpiredLocked());
      reaped = true;
      (void)n;
    }
    const int64_t token = NewToken();
    ACERVO_ASSIGN_OR_RETURN(std::optional<ClaimedUnit> got, ClaimLocked(token, worker));
    if (!got && !reaped) {
      // Nothing ready: a lease may have expired since the last look.
      ACERVO_ASSIGN_OR_RETURN(int n, ReapExpiredLocked());
      if (n > 0) return ClaimLocked(token, worker);
    }
    return got;
  }

 public:
  Result<std::vector<int64_t>> Heartbeat(const std::string& worker, const std::vector<int64_t>& claims) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int64_t> lost;
    ACERVO_RETURN_IF_ERROR(pg_->Transaction("heartbeat", [&]() -> Status {
      lost.clear();
      ACERVO_RETURN_IF_ERROR(pg_->Exec("UPDATE queue_workers SET last_seen = now() WHERE name = $1", {worker},
                                       "heartbeat")
                                 .status());
      if (claims.empty()) return Status::OK();
      ACERVO_ASSIGN_OR_RETURN(PgResult r, pg_->Exec("UPDATE queue_units SET lease_until = now() + "
                                                    "make_interval(secs => $2) WHERE claim = ANY($1::bigint[]) AND "
                                                    "state = 'running' RETURNING claim",
                                                    {IdArray(claims), LeaseSeconds()}, "heartbeat"));
      std::vector<int64_t> held;
      for (int i = 0; i < PQntuples(r.get()); ++i) held.push_back(Int(r.get(), i, 0));
      for (int64_t c : claims) {
        if (std::find(held.begin(), held.end(), c) == held.end()) lost.push_back(c);
      }
      return Status::OK();
    }));
    return lost;
  }

  Status Complete(const ClaimedUnit& unit, const UnitOutcome& outcome) override {
    std::lock_guard<std::mutex> lock(mu_);
    return CompleteLocked(unit, outcome);
  }

  Result<std::optional<ClaimedUnit>> CompleteAndClaim(const ClaimedUnit& unit, const UnitOutcome& outcome,
                                                      const std::string& worker, Status* completed) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (unit.kind != UnitKind::kDocument && unit.kind != UnitKind::kPages) {
      // Plans and finalisations are rare: two transactions.
      *completed = CompleteLocked(unit, outcome);
      return ClaimWithReapLocked(worker);
    }
    if (Clock::now() >= next_reap_) ACERVO_RETURN_IF_ERROR(ReapExpiredLocked().status());
    const int64_t token = NewToken();
    std::optional<ClaimedUnit> next;
    bool lost = false, look_again = false;
    ACERVO_RETURN_IF_ERROR(pg_->Transaction("complete unit " + std::to_string(unit.id) + " and claim", [&]() -> Status {
      ACERVO_RETURN_IF_ERROR(CompleteUnitLocked(unit, outcome, &lost, &look_again));
      ACERVO_ASSIGN_OR_RETURN(next, ClaimLocked(token, worker));
      return Status::OK();
    }));
    if (look_again) ACERVO_RETURN_IF_ERROR(FinaliseIfDoneLocked(unit.lot));
    *completed = lost ? LostClaim(unit) : Status::OK();
    return next;
  }

  // A restart or failover of the server while a unit publishes is waited
  // out (the busy timeout), as the store's own commit right after would be:
  // a document must not fail because the database was away for a moment.
  Result<std::unique_ptr<ClaimHold>> HoldClaim(const ClaimedUnit& unit) override {
    const Clock::time_point give_up = Clock::now() + options_.busy_timeout;
    while (true) {
      Result<std::unique_ptr<ClaimHold>> held = TryHoldClaim(unit);
      if (held.ok() || held.status().code() != StatusCode::kUnavailable || Clock::now() >= give_up) return held;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }

 private:
  Result<std::unique_ptr<ClaimHold>> TryHoldClaim(const ClaimedUnit& unit) {
    const std::string what = "hold unit " + std::to_string(unit.id) + " to publish it";
    PgConnection::Options o;
    o.busy_timeout = options_.busy_timeout;
    ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> c, PgConnection::Open(conninfo_, std::move(o)));
    ACERVO_RETURN_IF_ERROR(c->Exec("BEGIN"));
    ACERVO_ASSIGN_OR_RETURN(PgResult r, c->Exec("SELECT 1 FROM queue_units WHERE id = $1 AND claim = $2 AND "
                                                "state = 'running' FOR UPDATE",
                                                {std::to_string(unit.id), std::to_string(unit.claim)}, what));
    if (PQntuples(r.get()) == 0) return LostClaim(unit);  // the connection closes: nothing held
    return std::unique_ptr<ClaimHold>(new RowHold(std::move(c)));
  }

 public:

  Status Release(const ClaimedUnit& unit) override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string what = "release unit " + std::to_string(unit.id);
    bool released = false;
    ACERVO_RETURN_IF_ERROR(pg_->Transaction(what, [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(PgResult r, pg_->Exec("UPDATE queue_units SET state = 'pending', claim = NULL, "
                                                    "lease_until = NULL, attempts = greatest(attempts - 1, 0), "
                                                    "error = 'released unfinished by ' || worker WHERE id = $1 AND "
                                                    "claim = $2 AND state = 'running' RETURNING id",
                                                    {std::to_string(unit.id), std::to_string(unit.claim)}, what));
      released = PQntuples(r.get()) > 0;
      return released ? pg_->Exec(kNotify) : Status::OK();
    }));
    if (!released) return Status::Cancelled(what + ": no longer held");
    return Status::OK();
  }

  Status WaitForWork(std::chrono::milliseconds max_wait, int wake_fd, int stop_fd) override {
    std::lock_guard<std::mutex> lock(listen_mu_);
    if (!listen_) {
      PgConnection::Options o;
      o.busy_timeout = options_.busy_timeout;
      o.on_connect = [](PgConnection& c) { return c.Exec("LISTEN acervo_queue"); };
      ACERVO_ASSIGN_OR_RETURN(listen_, PgConnection::Open(conninfo_, std::move(o)));
    }
    if (!listen_->TakeNotifications().empty()) return Status::OK();
    // The earliest lease to expire: a dead worker's unit is ready then,
    // and nobody will NOTIFY.
    ACERVO_ASSIGN_OR_RETURN(PgResult r, listen_->Exec("SELECT extract(epoch FROM min(lease_until) - now()) FROM "
                                                      "queue_units WHERE state = 'running'",
                                                      {}, "wait for work"));
    std::chrono::milliseconds timeout = max_wait;
    if (!PQgetisnull(r.get(), 0, 0)) {
      // A lease already expired (nobody was free to take it over) is
      // looked at again in a second, not in a loop.
      const auto expiry = std::chrono::milliseconds(static_cast<int64_t>(Real(r.get(), 0, 0) * 1000) + 50);
      timeout = std::min(timeout, std::max(expiry, std::chrono::milliseconds(1000)));
    }
    // A notification sent while that query ran came in with its reply: it
    // waits in libpq's queue, not on the socket, and poll() would sleep
    // past it (a worker missed the end of the queue's last lot this way
    // and slept out its 60 s).
    if (!listen_->TakeNotifications().empty()) return Status::OK();
    Status s = listen_->WaitForInput(timeout, wake_fd, stop_fd);
    if (!s.ok()) return listen_->Reconnect();  // notifications sent meanwhile are lost: the caller claims anyway
    (void)listen_->TakeNotifications();
    return Status::OK();
  }

  Result<std::vector<UnitRecord>> LotUnits(int64_t lot) override {
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_ASSIGN_OR_RETURN(PgResult r, pg_->Exec("SELECT id, kind, document_index, document_id, first_page, end_page, "
                                                  "state, attempts, worker, error, coalesce(report, ''), "
                                                  "pages_computed FROM queue_units WHERE lot = $1 ORDER BY id",
                                                  {std::to_string(lot)}, "units of lot " + std::to_string(lot)));
    std::vector<UnitRecord> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      const PGresult* p = r.get();
      out.push_back({Int(p, i, 0), KindFrom(Text(p, i, 1)), static_cast<int>(Int(p, i, 2)), Text(p, i, 3),
                     static_cast<int>(Int(p, i, 4)), static_cast<int>(Int(p, i, 5)), Text(p, i, 6),
                     static_cast<int>(Int(p, i, 7)), Text(p, i, 8), Text(p, i, 9), Text(p, i, 10),
                     static_cast<int>(Int(p, i, 11))});
    }
    return out;
  }

  Result<std::vector<FinishedLot>> FinishedLots(const std::string& since) override {
    std::lock_guard<std::mutex> lock(mu_);
    ACERVO_ASSIGN_OR_RETURN(
        PgResult r, pg_->Exec("SELECT id, lot_dir, lot_id, state, error, coalesce(report, ''), " + Iso("enqueued_at") +
                                  ", " + Iso("started_at") + ", " + Iso("finished_at") +
                                  " FROM queue_lots WHERE state IN ('done', 'failed') AND ($1 = '' OR finished_at "
                                  ">= $1::timestamptz) ORDER BY finished_at, id",
                              {since}, "finished lots"));
    std::vector<FinishedLot> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      const PGresult* p = r.get();
      out.push_back({Int(p, i, 0), Text(p, i, 1), Text(p, i, 2), Text(p, i, 3), Text(p, i, 4), Text(p, i, 5),
                     Text(p, i, 6), Text(p, i, 7), Text(p, i, 8)});
    }
    return out;
  }

  Result<QueueStatus> GetStatus(int finished_lots) override {
    std::lock_guard<std::mutex> lock(mu_);
    QueueStatus st;
    ACERVO_RETURN_IF_ERROR(pg_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    Status s = ReadStatusLocked(finished_lots, &st);
    (void)pg_->Exec("ROLLBACK");
    ACERVO_RETURN_IF_ERROR(s);
    return st;
  }

  Status WithLock(int64_t key, const std::function<Status()>& body) override {
    std::lock_guard<std::mutex> lock(lock_mu_);
    if (!lock_conn_) {
      PgConnection::Options o;
      o.busy_timeout = options_.busy_timeout;
      ACERVO_ASSIGN_OR_RETURN(lock_conn_, PgConnection::Open(conninfo_, std::move(o)));
    }
    ACERVO_RETURN_IF_ERROR(lock_conn_->Exec("SELECT pg_advisory_lock($1)", {std::to_string(key)}, "lock").status());
    Status s = body();
    // A lost connection has released the lock already.
    (void)lock_conn_->Exec("SELECT pg_advisory_unlock($1)", {std::to_string(key)}, "unlock");
    return s;
  }

 private:
  std::string LeaseSeconds() const { return std::to_string(options_.lease.count()); }

  static Status LostClaim(const ClaimedUnit& unit) {
    return Status::Cancelled("unit " + std::to_string(unit.id) +
                             ": another worker took it over after its lease expired; this outcome is dropped");
  }

  Status CompleteLocked(const ClaimedUnit& unit, const UnitOutcome& outcome) {
    const std::string what = "complete unit " + std::to_string(unit.id);
    bool lost = false;
    if (unit.kind == UnitKind::kDocument || unit.kind == UnitKind::kPages) {
      bool look_again = false;
      ACERVO_RETURN_IF_ERROR(CompleteUnitLocked(unit, outcome, &lost, &look_again));  // one statement, its own commit
      if (look_again) ACERVO_RETURN_IF_ERROR(FinaliseIfDoneLocked(unit.lot));
    } else {
      ACERVO_RETURN_IF_ERROR(pg_->Transaction(what, [&]() -> Status {
        lost = false;
        ACERVO_ASSIGN_OR_RETURN(PgResult r, pg_->Exec("SELECT state, coalesce(claim, 0) FROM queue_units WHERE id = "
                                                      "$1 FOR UPDATE",
                                                      {std::to_string(unit.id)}, what));
        if (PQntuples(r.get()) == 0 || Int(r.get(), 0, 1) != unit.claim) {
          lost = true;
          return Status::OK();
        }
        const std::string state = Text(r.get(), 0, 0);
        if (state == "done" || state == "failed") return Status::OK();  // recorded before; its reply was lost
        return FinishLocked(unit.id, unit.lot, unit.kind, outcome);
      }));
    }
    return lost ? LostClaim(unit) : Status::OK();
  }

  // A document or pages unit's completion (kCompleteSql). *lost: the claim
  // is not this unit's running one, and its outcome was not recorded before.
  // *look_again: other units of the lot were running, none pending: after
  // the commit, FinaliseIfDoneLocked.
  Status CompleteUnitLocked(const ClaimedUnit& unit, const UnitOutcome& outcome, bool* lost, bool* look_again) {
    const std::string what = "complete unit " + std::to_string(unit.id);
    *lost = false;
    *look_again = false;
    ACERVO_ASSIGN_OR_RETURN(PgResult r, pg_->ExecPrepared("acervo_complete", kCompleteSql,
                                                  {std::to_string(unit.id), std::to_string(unit.claim),
                                                   outcome.failed ? "failed" : "done", outcome.error,
                                                   outcome.report_json, std::to_string(outcome.pages_computed)},
                                                  what));
    if (Int(r.get(), 0, 0) == 1) {
      *look_again = Int(r.get(), 0, 1) > 0;
      return Status::OK();
    }
    // Recorded before (the reply to a first try was lost), or taken over.
    ACERVO_ASSIGN_OR_RETURN(PgResult again, pg_->Exec("SELECT state FROM queue_units WHERE id = $1 AND claim = $2",
                                                      {std::to_string(unit.id), std::to_string(unit.claim)}, what));
    const std::string state = PQntuples(again.get()) > 0 ? Text(again.get(), 0, 0) : "";
    *lost = state != "done" && state != "failed";
    return Status::OK();
  }

  Status FinaliseIfDoneLocked(int64_t lot) {
    return pg_->ExecPrepared("acervo_finalise_if_done", kFinaliseIfDoneSql, {std::to_string(lot)},
                             "finalise lot " + std::to_string(lot))
        .status();
  }

  // One statement (one round trip, committed on its own): the oldest ready
  // unit claimed with `token`, or the unit this token claimed already (the
  // statement run again after its reply was lost), with its lot; a plan's
  // lot starts running.
  Result<std::optional<ClaimedUnit>> ClaimLocked(int64_t token, const std::string& worker) {
    ACERVO_ASSIGN_OR_RETURN(PgResult r, pg_->ExecPrepared("acervo_claim", kClaimSql,
                                                          {std::to_string(token), worker, LeaseSeconds()}, "claim"));
    if (PQntuples(r.get()) == 0) return std::optional<ClaimedUnit>();
    return std::optional<ClaimedUnit>(ClaimedFrom(r.get(), 0));
  }

  // Units whose lease expired: back to the queue, or failed once they
  // have been claimed max_attempts times (each claim died). Returns how
  // many; looks again at most once a second unless asked by an empty claim.
  Result<int> ReapExpiredLocked() {
    next_reap_ = Clock::now() + std::chrono::seconds(1);
    int reaped = 0;
    ACERVO_RETURN_IF_ERROR(pg_->Transaction("reap expired leases", [&]() -> Status {
      reaped = 0;
      ACERVO_ASSIGN_OR_RETURN(PgResult r, pg_->Exec("SELECT id, lot, kind, attempts, worker FROM queue_units WHERE "
                                                    "state = 'running' AND lease_until < now() ORDER BY lease_until "
                                                    "LIMIT 32 FOR UPDATE SKIP LOCKED",
                                                    {}, "reap expired leases"));
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        ++reaped;
        const int64_t id = Int(r.get(), i, 0);
        const int attempts = static_cast<int>(Int(r.get(), i, 3));
        const std::string worker = Text(r.get(), i, 4);
        if (attempts >= options_.max_attempts) {
          UnitOutcome failed;
          failed.failed = true;
          failed.error = "its worker stopped answering (lease expired) on each of " + std::to_string(attempts) +
                         " attempts, the last on " + worker + "; not retried";
          ACERVO_RETURN_IF_ERROR(FinishLocked(id, Int(r.get(), i, 1), KindFrom(Text(r.get(), i, 2)), failed));
          continue;
        }
        ACERVO_RETURN_IF_ERROR(pg_->Exec("UPDATE queue_units SET state = 'pending', claim = NULL, lease_until = NULL, "
                                         "error = 'lease of ' || worker || ' expired; returned to the queue' "
                                         "WHERE id = $1",
                                         {std::to_string(id)}, "reap expired leases")
                                   .status());
      }
      // The sweep: lots whose last units completed at once (see kCompleteSql).
      return FinaliseIfDoneLocked(0);
    }));
    return reaped;
  }

  // Records a unit's outcome and what follows from it (see Complete), inside
  // the caller's transaction, with the unit's row locked.
  Status FinishLocked(int64_t id, int64_t lot, UnitKind kind, const UnitOutcome& o) {
    const std::string what = "complete unit " + std::to_string(id);
    const std::string lot_text = std::to_string(lot);
    ACERVO_ASSIGN_OR_RETURN(PgResult r, pg_->Exec("UPDATE queue_units SET state = $2, error = $3, report = "
                                                  "nullif($4, ''), pages_computed = $5, finished_at = now(), "
                                                  "lease_until = NULL WHERE id = $1 RETURNING coalesce(parent, 0)",
                                                  {std::to_string(id), o.failed ? "failed" : "done", o.error,
                                                   o.report_json, std::to_string(o.pages_computed)},
                                                  what));
    const int64_t parent = Int(r.get(), 0, 0);
    bool notify = false;
    if (kind == UnitKind::kPlan) {
      std::string error = o.failed ? o.error : "";
      if (error.empty() && !o.lot_id.empty()) {
        // Two folders of one lot id at once would write one output folder.
        ACERVO_ASSIGN_OR_RETURN(PgResult twin, pg_->Exec("SELECT lot_dir FROM queue_lots WHERE lot_id = $1 AND id <> "
                                                         "$2 AND state IN ('queued', 'running')",
                                                         {o.lot_id, lot_text}, what));
        if (PQntuples(twin.get()) > 0) {
          error = "lot id " + o.lot_id + " is being processed from " + Text(twin.get(), 0, 0) +
                  " already; enqueue this folder again when that lot has finished";
          ACERVO_RETURN_IF_ERROR(
              pg_->Exec("UPDATE queue_units SET state = 'failed', error = $2 WHERE id = $1", {std::to_string(id), error},
                        what)
                  .status());
        }
      }
      if (!error.empty()) {
        ACERVO_RETURN_IF_ERROR(
            pg_->Exec("UPDATE queue_lots SET state = 'failed', error = $2, finished_at = now() WHERE id = $1",
                      {lot_text, error}, what)
                .status());
        return pg_->Exec(kNotify);  // a lot ended: see the finalise unit below
      }
      ACERVO_RETURN_IF_ERROR(AddUnitsLocked(lot, o, what));
      notify = !o.units.empty();
    }
    if (kind == UnitKind::kPages && parent != 0) {
      ACERVO_ASSIGN_OR_RETURN(PgResult w, pg_->Exec("UPDATE queue_units SET waiting = waiting - 1 WHERE id = $1 "
                                                    "RETURNING waiting",
                                                    {std::to_string(parent)}, what));
      notify = notify || (PQntuples(w.get()) > 0 && Int(w.get(), 0, 0) == 0);
    }
    if (kind == UnitKind::kFinalise) {
      ACERVO_RETURN_IF_ERROR(pg_->Exec("UPDATE queue_lots SET state = 'done', report = nullif($2, ''), error = $3, "
                                       "finished_at = now() WHERE id = $1",
                                       {lot_text, o.report_json, o.failed ? o.error : ""}, what)
                                 .status());
      // A lot ended, perhaps the queue's last: idle workers look again (one
      // NOTIFY a lot), so `worker --exit-when-idle` leaves when the queue
      // empties instead of sleeping out its wait.
      return pg_->Exec(kNotify);
    }
    // The lot's last unit: its finalise unit (a plan of no document, a unit
    // failed by the reaper; a race with another completion is caught by
    // the sweep).
    ACERVO_RETURN_IF_ERROR(FinaliseIfDoneLocked(lot));
    return notify ? pg_->Exec(kNotify) : Status::OK();
  }

  // A plan's units: document units first (waiting for their page ranges),
  // then the ranges pointing at them.
  Status AddUnitsLocked(int64_t lot, const UnitOutcome& o, const std::string& what) {
    const std::string lot_text = std::to_string(lot);
    ACERVO_RETURN_IF_ERROR(pg_->Exec("UPDATE queue_lots SET lot_id = $2, fingerprint = $3 WHERE id = $1",
                                     {lot_text, o.lot_id, o.fingerprint}, what)
                               .status());
    for (UnitKind kind : {UnitKind::kDocument, UnitKind::kPages}) {
      std::vector<std::string> ids;
      std::vector<int64_t> index, first, end, pages, waiting;
      for (const NewUnit& u : o.units) {
        if (u.kind != kind) continue;
        ids.push_back(u.document_id);
        index.push_back(u.document_index);
        first.push_back(u.first_page);
        end.push_back(u.end_page);
        pages.push_back(u.pages);
        waiting.push_back(kind == UnitKind::kDocument
                              ? std::count_if(o.units.begin(), o.units.end(),
                                              [&](const NewUnit& p) {
                                                return p.kind == UnitKind::kPages && p.document_index == u.document_index;
                                              })
                              : 0);
      }
      if (ids.empty()) continue;
      ACERVO_RETURN_IF_ERROR(
          pg_->Exec(R"sql(
        INSERT INTO queue_units (lot, kind, document_index, document_id, first_page, end_page, pages, waiting, parent)
        SELECT $1, $2, t.di, t.id, t.fp, t.ep, t.pg, t.w,
               (SELECT d.id FROM queue_units d WHERE d.lot = $1 AND d.kind = 'document' AND
                       d.document_index = t.di AND $2 = 'pages')
        FROM unnest($3::int[], $4::text[], $5::int[], $6::int[], $7::int[], $8::int[]) AS t(di, id, fp, ep, pg, w)
        ON CONFLICT DO NOTHING)sql",
                    {lot_text, std::string(UnitKindName(kind)), IdArray(index), TextArray(ids), IdArray(first),
                     IdArray(end), IdArray(pages), IdArray(waiting)},
                    what)
              .status());
    }
    return Status::OK();
  }

  Status ReadStatusLocked(int finished_lots, QueueStatus* st) {
    {
      ACERVO_ASSIGN_OR_RETURN(PgResult r, pg_->Exec("SELECT state, count(*) FROM queue_units GROUP BY state", {},
                                                    "status"));
      for (int i = 0; i < PQntuples(r.get()); ++i) Count(&st->units, Text(r.get(), i, 0), Int(r.get(), i, 1));
    }
    {
      ACERVO_ASSIGN_OR_RETURN(
          PgResult r,
          pg_->Exec("WITH ls AS ((SELECT * FROM queue_lots WHERE state IN ('queued', 'running')) UNION ALL "
                    "(SELECT * FROM queue_lots WHERE state IN ('done', 'failed') ORDER BY finished_at DESC LIMIT $1)) "
                    "SELECT ls.id, ls.lot_dir, ls.lot_id, ls.state, ls.error, " + Iso("ls.enqueued_at") + ", " +
                        Iso("ls.started_at") + ", " + Iso("ls.finished_at") +
                        ", u.state, count(u.id), coalesce(sum(u.pages) FILTER (WHERE u.kind = 'document'), 0), "
                        "coalesce(sum(u.pages_computed), 0) FROM ls LEFT JOIN queue_units u ON u.lot = ls.id "
                        "GROUP BY ls.id, ls.lot_dir, ls.lot_id, ls.state, ls.error, ls.enqueued_at, ls.started_at, "
                        "ls.finished_at, u.state ORDER BY ls.finished_at IS NOT NULL, ls.finished_at DESC, ls.id",
                    {std::to_string(finished_lots)}, "status"));
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        const PGresult* p = r.get();
        if (st->lots.empty() || st->lots.back().id != Int(p, i, 0)) {
          QueueStatus::Lot l;
          l.id = Int(p, i, 0);
          l.lot_dir = Text(p, i, 1);
          l.lot_id = Text(p, i, 2);
          l.state = Text(p, i, 3);
          l.error = Text(p, i, 4);
          l.enqueued_at = Text(p, i, 5);
          l.started_at = Text(p, i, 6);
          l.finished_at = Text(p, i, 7);
          st->lots.push_back(std::move(l));
        }
        QueueStatus::Lot& l = st->lots.back();
        Count(&l.units, Text(p, i, 8), Int(p, i, 9));
        l.pages += Int(p, i, 10);
        l.pages_done += Int(p, i, 11);
      }
    }
    {
      ACERVO_ASSIGN_OR_RETURN(
          PgResult r,
          pg_->Exec("SELECT w.name, w.host, w.pid, w.jobs, w.state, " + Iso("w.started_at") + ", " +
                        Iso("w.last_seen") +
                        ", extract(epoch FROM now() - w.last_seen), "
                        "(SELECT count(*) FROM queue_units u WHERE u.worker = w.name AND u.finished_at >= w.started_at), "
                        "(SELECT coalesce(sum(u.pages_computed), 0) FROM queue_units u WHERE u.worker = w.name AND "
                        "u.finished_at >= w.started_at), "
                        "(SELECT coalesce(sum(u.pages_computed), 0) FROM queue_units u WHERE u.worker = w.name AND "
                        "u.finished_at > now() - interval '10 minutes'), "
                        "extract(epoch FROM least(interval '10 minutes', now() - w.started_at)), "
                        "(SELECT coalesce(string_agg(u.id::text, ',' ORDER BY u.id), '') FROM queue_units u "
                        "WHERE u.worker = w.name AND u.state = 'running'), w.lease "
                        "FROM queue_workers w WHERE w.state <> 'stopped' OR w.last_seen > now() - interval '1 day' "
                        "ORDER BY w.name",
                    {}, "status"));
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        const PGresult* p = r.get();
        QueueStatus::Worker w;
        w.name = Text(p, i, 0);
        w.host = Text(p, i, 1);
        w.pid = static_cast<int>(Int(p, i, 2));
        w.jobs = static_cast<int>(Int(p, i, 3));
        w.state = Text(p, i, 4);
        w.started_at = Text(p, i, 5);
        w.last_seen = Text(p, i, 6);
        w.seconds_since_seen = Real(p, i, 7);
        w.lost = w.state != "stopped" && w.seconds_since_seen > static_cast<double>(Int(p, i, 13));
        w.units_done = Int(p, i, 8);
        w.pages_done = Int(p, i, 9);
        const double minutes = Real(p, i, 11) / 60.0;
        w.pages_per_minute = minutes > 0 ? static_cast<double>(Int(p, i, 10)) / minutes : 0;
        const std::string running = Text(p, i, 12);
        for (size_t at = 0; at < running.size();) {
          size_t comma = running.find(',', at);
          if (comma == std::string::npos) comma = running.size();
          w.running.push_back(std::stoll(running.substr(at, comma - at)));
          at = comma + 1;
        }
        st->workers.push_back(std::move(w));
      }
    }
    {
      ACERVO_ASSIGN_OR_RETURN(
          PgResult r, pg_->Exec("SELECT u.id, u.lot, l.lot_dir, l.lot_id, u.kind, u.document_id, u.worker, u.error, " +
                                    Iso("u.finished_at") +
                                    ", u.first_page, u.end_page, u.attempts FROM queue_units u JOIN queue_lots l ON "
                                    "l.id = u.lot WHERE u.state = 'failed' ORDER BY u.finished_at DESC, u.id DESC "
                                    "LIMIT 100",
                                {}, "status"));
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        const PGresult* p = r.get();
        st->failures.push_back({Int(p, i, 0), Int(p, i, 1), Text(p, i, 2), Text(p, i, 3), Text(p, i, 4),
                                Text(p, i, 5), Text(p, i, 6), Text(p, i, 7), Text(p, i, 8),
                                static_cast<int>(Int(p, i, 9)), static_cast<int>(Int(p, i, 10)),
                                static_cast<int>(Int(p, i, 11))});
      }
    }
    {
      // Rates over the last 10 minutes and hour, or over the time since the
      // first of those units was claimed when the queue started later.
      ACERVO_ASSIGN_OR_RETURN(
          PgResult r,
          pg_->Exec("SELECT coalesce(sum(pages_computed) FILTER (WHERE finished_at > now() - interval '10 minutes'), 0), "
                    "extract(epoch FROM least(interval '10 minutes', now() - min(claimed_at) FILTER (WHERE "
                    "finished_at > now() - interval '10 minutes'))), "
                    "count(*) FILTER (WHERE finished_at > now() - interval '10 minutes'), "
                    "coalesce(sum(pages_computed), 0), extract(epoch FROM least(interval '1 hour', now() - "
                    "min(claimed_at))) FROM queue_units WHERE finished_at > now() - interval '1 hour'",
                    {}, "status"));
      const double m10 = Real(r.get(), 0, 1) / 60.0, m60 = Real(r.get(), 0, 4) / 60.0;
      st->pages_per_minute_10m = m10 > 0 ? static_cast<double>(Int(r.get(), 0, 0)) / m10 : 0;
      st->units_per_minute_10m = m10 > 0 ? static_cast<double>(Int(r.get(), 0, 2)) / m10 : 0;
      st->pages_per_minute_1h = m60 > 0 ? static_cast<double>(Int(r.get(), 0, 3)) / m60 : 0;
    }
    return Status::OK();
  }

  static void Count(UnitCounts* c, const std::string& state, int64_t n) {
    if (state == "pending") c->pending += n;
    else if (state == "running") c->running += n;
    else if (state == "done") c->done += n;
    else if (state == "failed") c->failed += n;
  }

  const std::string conninfo_;
  const QueueOptions options_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point next_reap_{};
  std::unique_ptr<PgConnection> pg_;
  std::mutex listen_mu_;
  std::unique_ptr<PgConnection> listen_;  // LISTEN acervo_queue
  std::mutex lock_mu_;
  std::unique_ptr<PgConnection> lock_conn_;  // WithLock's session locks
};

}  // namespace

std::string_view UnitKindName(UnitKind kind) {
  switch (kind) {
    case UnitKind::kPlan: return "plan";
    case UnitKind::kPages: return "pages";
    case UnitKind::kDocument: return "document";
    case UnitKind::kFinalise: return "finalise";
  }
  return "?";
}

Result<std::unique_ptr<WorkQueue>> OpenPostgresQueue(const std::string& conninfo, const QueueOptions& options) {
  if (options.lease.count() < 1) return Status::InvalidArgument("the lease must be at least one second");
  if (options.max_attempts < 1) return Status::InvalidArgument("max_attempts must be at least 1");
  {
    // The queue's tables are part of the store's schema: bring it up to date.
    PostgresOptions po;
    po.busy_timeout = options.busy_timeout;
    ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenPostgresStore(conninfo, po));
  }
  PgConnection::Options o;
  o.busy_timeout = options.busy_timeout;
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> pg, PgConnection::Open(conninfo, std::move(o)));
  return std::unique_ptr<WorkQueue>(std::make_unique<PostgresQueue>(conninfo, options, std::move(pg)));
}

Result<std::unique_ptr<WorkQueue>> OpenWorkQueue(const std::string& spec, const QueueOptions& options) {
  if (!IsPostgresSpec(spec)) {
    return Status::InvalidArgument(
        "the work queue needs a PostgreSQL store (--store postgresql://... or \"host=... dbname=...\"); '" + spec +
        "' is a SQLite file, which serves one machine: process lots there with `acervo run` or `acervo batch`");
  }
  return OpenPostgresQueue(spec, options);
}

}  // namespace acervo
