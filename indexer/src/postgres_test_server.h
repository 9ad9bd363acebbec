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

  Status Start();
  void Stop();
  bool running() const { return running_; }

  // Creates an empty database and returns its libpq connection string.
  Result<std::string> CreateDatabase(const std::string& name);

 private:
  int Run(const std::vector<std::string>& argv, bool as_postgres);
  std::string Conninfo(const std::string& db) const;

  std::filesystem::path dir_, bin_;
  bool running_ = false;
  bool root_ = false;
};

// The process-wide server, started on first use; nullptr (and the reason in
// *why) when PostgreSQL cannot run here.
PostgresTestServer* SharedPostgres(std::string* why);

}  // namespace acervo

#endif  // ACERVO_INDEXER_SRC_POSTGRES_TEST_SERVER_H_
