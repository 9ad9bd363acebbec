// Test support: a real, throwaway PostgreSQL server for the store tests.
//
// Start() runs Debian's initdb into a fresh temp folder (as the `postgres`
// OS user when we are root: the server refuses to run as root), starts the
// server with pg_ctl listening only on a Unix socket in that folder (no TCP
// port to collide with), and Stop() (also the destructor) shuts it down and
// removes the folder. When the binaries are missing, Start() fails with the
// reason so the tests can skip loudly.
//
// Thread-safety: none needed; one per test binary.
#ifndef ACERVO_INDEXER_SRC_POSTGRES_TEST_SERVER_H_
#define ACERVO_INDEXER_SRC_POSTGRES_TEST_SERVER_H_

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

class PostgresTestServer {
 public:
  PostgresTestServer() = default;
  ~PostgresTestServer() { Stop(); }
  PostgresTestServer(const PostgresTestServer&) = delete;
  PostgresTestServer& operator=(const PostgresTestServer&) = delete;

  // durable: fsync and synchronous commits on, as in production (the
  // default trades them for speed: a test server, not an archive).
  Status Start(bool durable = false);
  void Stop();
  bool running() const { return running_; }

  // Stops the server (pg_ctl stop -m `mode`: "fast" closes every session,
  // "immediate" is a crash), waits `down`, and starts it again with the
  // same settings and data.
  Status Restart(const std::string& mode = "fast", std::chrono::milliseconds down = std::chrono::milliseconds(0));

  // The server's data folder (benchmarks read postmaster.pid from it).
  std::filesystem::path data_dir() const { return dir_ / "data"; }

  // Creates an empty database and returns its libpq connection string.
  Result<std::string> CreateDatabase(const std::string& name);

 private:
  int Run(const std::vector<std::string>& argv, bool as_postgres);
  Status StartServer();
  std::string Conninfo(const std::string& db) const;

  std::filesystem::path dir_, bin_;
  bool durable_ = false;
  bool running_ = false;
  bool root_ = false;
};

// The process-wide server, started on first use; nullptr (and the reason in
// *why) when PostgreSQL cannot run here.
PostgresTestServer* SharedPostgres(std::string* why);

}  // namespace acervo

#endif  // ACERVO_INDEXER_SRC_POSTGRES_TEST_SERVER_H_
