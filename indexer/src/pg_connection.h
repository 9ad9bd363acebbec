// One libpq connection that outlives server restarts: the plumbing the
// PostgreSQL store and the work queue share.
//
// A statement run outside a transaction block whose connection is found
// broken (the server restarted, a network cut, an administrator's
// pg_terminate_backend) is run again on a new connection, which is retried
// with back-off until the busy timeout. Inside a transaction the loss is
// reported (Unavailable, SQLSTATE class 08) and Transaction() starts the
// whole transaction again on a new connection, as it does for
// serialization failures and deadlocks. Callers therefore write statements
// and transactions that may run twice: an autocommit statement whose reply
// was lost may have committed.
//
// After every (re)connection the on_connect callback sets the session up
// again (temp tables, LISTEN): session state does not survive a restart.
//
// Thread-safety: none; the owner serialises calls (the store's mutex, the
// queue's). Ownership: owns the PGconn.
#ifndef ACERVO_INDEXER_SRC_PG_CONNECTION_H_
#define ACERVO_INDEXER_SRC_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;
using PgParams = std::vector<std::optional<std::string>>;  // nullopt: NULL

class PgConnection {
 public:
  struct Options {
    // How long conflicts (serialization failures, deadlocks, unique-key
    // races) and reconnections are retried before Unavailable.
    std::chrono::milliseconds busy_timeout{30000};
    // Session setup, run after the first connection and every reconnection.
    std::function<Status(PgConnection&)> on_connect;
  };

  // Connects and runs on_connect. Unavailable with the server's message
  // when the server cannot be reached (no retry: a wrong address should
  // fail at once).
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& conninfo, Options options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // One statement with text parameters. Failure: Unavailable (connection
  // lost inside a transaction, or not back before the timeout; retryable
  // conflicts), Internal (SQL the server rejects: classes 22, 42),
  // InvalidArgument (constraint violations), IOError otherwise; the
  // message starts with `what`.
  Result<PgResult> Exec(const std::string& sql, const PgParams& params, const std::string& what);
  Status Exec(const char* sql) { return Exec(sql, {}, sql).status(); }
  // The same for a statement run often: prepared once per connection (as
  // `name`), so the server parses and plans it once.
  Result<PgResult> ExecPrepared(const std::string& name, const std::string& sql, const PgParams& params,
                                const std::string& what);
  // Several statements in the simple protocol (migrations, DDL).
  Status ExecScript(const char* sql, const std::string& what);

  // BEGIN, body, COMMIT; on a retryable failure (conflict or lost
  // connection) rolls back, waits a jittered moment and runs body again
  // until the busy timeout.
  Status Transaction(const std::string& what, const std::function<Status()>& body);

  // The Status for a failed result (null: the connection's own error).
  Status FromResult(const PGresult* r, const std::string& what);

  // SQLSTATE of the last failure ("" when none or unknown).
  const std::string& last_state() const { return last_state_; }
  // True when the last failure was a conflict or a lost connection.
  bool LastFailureRetryable() const;

  // Reconnects now (retrying until the busy timeout) and runs on_connect.
  Status Reconnect();

  // Notifications (LISTEN) received so far, as channel names, consumed.
  std::vector<std::string> TakeNotifications();
  // Waits until the server sends something (a notification) or `timeout`
  // passes or `wake_fd` (if >= 0) becomes readable. OK in all three cases;
  // Unavailable when the connection broke (call Reconnect).
  Status WaitForInput(std::chrono::milliseconds timeout, int wake_fd, int wake_fd2 = -1);

  PGconn* raw() { return conn_; }

 private:
  PgConnection(std::string conninfo, Options options) : conninfo_(std::move(conninfo)), options_(std::move(options)) {}
  Status Connect();
  // Runs `send` (one statement on conn_), again on a new connection when
  // the connection was lost outside a transaction.
  Result<PgResult> Statement(const std::function<Result<PgResult>()>& send);

  std::string conninfo_;
  Options options_;
  PGconn* conn_ = nullptr;
  std::string last_state_;
  std::vector<std::string> prepared_;  // names prepared on this connection
};

// SQLSTATE classes a retry may cure: serialization failure, deadlock,
// unique violation (two writers inserting one new key), lock not
// available, connection exceptions, and the server shutting down or
// starting up.
bool PgRetryableState(const std::string& state);

// Array literals for a text[] / bigint[] parameter ('{"a","b"}', '{1,2}').
std::string TextArray(const std::vector<std::string>& items);
std::string IdArray(const std::vector<int64_t>& ids);

// Jittered sleep before retry `attempt` (1 ms up to 50 ms, growing).
void PgBackoff(int attempt);

}  // namespace acervo

#endif  // ACERVO_INDEXER_SRC_PG_CONNECTION_H_
