#include "pg_connection.h"

#include <poll.h>

#include <algorithm>
#include <random>
#include <thread>

namespace acervo {
namespace {

using Clock = std::chrono::steady_clock;

// A lost connection, or a server shutting down, starting up or terminating
// our backend: a new connection may cure it.
bool ConnectionState(const std::string& state) {
  return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

bool PgRetryableState(const std::string& state) {
  return state == "40001" || state == "40P01" || state == "23505" || state == "55P03" || ConnectionState(state);
}

std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string IdArray(const std::vector<int64_t>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

void PgBackoff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  std::uniform_int_distribution<int> dist(1, std::min(50, 1 << std::min(attempt, 6)));
  std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& conninfo, Options options) {
  std::unique_ptr<PgConnection> c(new PgConnection(conninfo, std::move(options)));
  ACERVO_RETURN_IF_ERROR(c->Connect());
  return c;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Status PgConnection::Connect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = PQconnectdb(conninfo_.c_str());
  if (conn_ == nullptr) return Status::Unavailable("cannot allocate a PostgreSQL connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    last_state_ = "08001";
    return Status::Unavailable("cannot connect to PostgreSQL: " + Trimmed(PQerrorMessage(conn_)));
  }
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // NOTICEs are not for users
  last_state_.clear();
  prepared_.clear();  // prepared statements die with their session
  if (options_.on_connect) return options_.on_connect(*this);
  return Status::OK();
}

Status PgConnection::Reconnect() {
  const Clock::time_point deadline = Clock::now() + options_.busy_timeout;
  std::chrono::milliseconds wait(50);
  for (;;) {
    Status s = Connect();
    if (s.ok()) return s;
    // A server restarting refuses connections for a moment; anything else
    // (a bad password, a dropped database) will not heal by waiting, but
    // cannot be told apart from here reliably, so both wait the timeout.
    if (Clock::now() + wait > deadline) return s.WithContext("reconnecting");
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::milliseconds(1000));
  }
}

Status PgConnection::FromResult(const PGresult* r, const std::string& what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  last_state_ = state ? state : "";
  std::string msg = Trimmed(what + ": " + (r ? PQresultErrorMessage(r) : PQerrorMessage(conn_)));
  // No SQLSTATE means libpq itself failed: the server went away ("server
  // closed the connection unexpectedly") even when the status still says OK.
  if (PQstatus(conn_) != CONNECTION_OK || last_state_.empty()) {
    if (last_state_.empty()) last_state_ = "08006";  // connection failure
    return Status::Unavailable(msg);
  }
  if (PgRetryableState(last_state_)) return Status::Unavailable(msg);
  if (last_state_.rfind("22", 0) == 0 || last_state_.rfind("42", 0) == 0) return Status::Internal(msg);
  if (last_state_.rfind("23", 0) == 0) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

bool PgConnection::LastFailureRetryable() const { return PgRetryableState(last_state_); }

// Outside a transaction a statement is its own unit of work: one lost with
// its connection is sent again on a new connection. Inside one, the caller
// restarts the whole transaction.
Result<PgResult> PgConnection::Statement(const std::function<Result<PgResult>()>& send) {
  for (;;) {
    // A connection lost earlier (outside any transaction we still hold):
    // a new one first.
    if (PQstatus(conn_) != CONNECTION_OK) ACERVO_RETURN_IF_ERROR(Reconnect());
    const bool outside_transaction = PQtransactionStatus(conn_) == PQTRANS_IDLE;
    Result<PgResult> r = send();
    if (r.ok() || !outside_transaction || !ConnectionState(last_state_)) return r;
    ACERVO_RETURN_IF_ERROR(Reconnect());
  }
}

Result<PgResult> PgConnection::Exec(const std::string& sql, const PgParams& params, const std::string& what) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Statement([&]() -> Result<PgResult> {
    PgResult r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                            nullptr, 0),
               &PQclear);
    const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    return FromResult(r.get(), what);
  });
}

Result<PgResult> PgConnection::ExecPrepared(const std::string& name, const std::string& sql, const PgParams& params,
                                            const std::string& what) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Statement([&]() -> Result<PgResult> {
    if (std::find(prepared_.begin(), prepared_.end(), name) == prepared_.end()) {
      PgResult p(PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(values.size()), nullptr), &PQclear);
      if (!p || PQresultStatus(p.get()) != PGRES_COMMAND_OK) return FromResult(p.get(), what + " (prepare)");
      prepared_.push_back(name);
    }
    PgResult r(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0),
               &PQclear);
    const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    return FromResult(r.get(), what);
  });
}

Status PgConnection::ExecScript(const char* sql, const std::string& what) {
  PgResult res(PQexec(conn_, sql), &PQclear);
  if (PQresultStatus(res.get()) == PGRES_COMMAND_OK || PQresultStatus(res.get()) == PGRES_TUPLES_OK) {
    return Status::OK();
  }
  return FromResult(res.get(), what);
}

Status PgConnection::Transaction(const std::string& what, const std::function<Status()>& body) {
  const Clock::time_point deadline = Clock::now() + options_.busy_timeout;
  for (int attempt = 0;; ++attempt) {
    last_state_.clear();
    ACERVO_RETURN_IF_ERROR(Exec("BEGIN"));
    Status s = body();
    if (s.ok()) s = Exec("COMMIT");
    if (s.ok()) return s;
    const std::string state = last_state_;
    if (PQstatus(conn_) == CONNECTION_OK) (void)Exec("ROLLBACK");
    if (PgRetryableState(state) && Clock::now() < deadline) {
      // A lost connection: the next BEGIN reconnects (Exec). A COMMIT whose
      // reply was lost may have committed; the body runs again either way.
      PgBackoff(attempt);
      continue;
    }
    if (PgRetryableState(state)) return Status::Unavailable(what + ": still failing after the timeout: " + s.message());
    return s;
  }
}

std::vector<std::string> PgConnection::TakeNotifications() {
  std::vector<std::string> out;
  if (PQconsumeInput(conn_) == 0) return out;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.push_back(n->relname);
    PQfreemem(n);
  }
  return out;
}

Status PgConnection::WaitForInput(std::chrono::milliseconds timeout, int wake_fd, int wake_fd2) {
  if (PQstatus(conn_) != CONNECTION_OK) return Status::Unavailable("connection lost");
  pollfd fds[3] = {{PQsocket(conn_), POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
  nfds_t count = 1;
  for (int fd : {wake_fd, wake_fd2}) {
    if (fd >= 0) fds[count++].fd = fd;
  }
  const int n = ::poll(fds, count, static_cast<int>(std::max<int64_t>(0, timeout.count())));
  if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
      last_state_ = "08006";
      return Status::Unavailable("connection lost: " + Trimmed(PQerrorMessage(conn_)));
    }
  }
  return Status::OK();
}

}  // namespace acervo
