#include "postgres_test_server.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <thread>

namespace acervo {
namespace fs = std::filesystem;

int PostgresTestServer::Run(const std::vector<std::string>& argv, bool as_postgres) {
  std::vector<std::string> full;
  if (as_postgres && root_) full = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The server's own log goes to its file; keep the test output readable.
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDOUT_FILENO);
      ::dup2(devnull, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (std::string& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Status PostgresTestServer::Start(bool durable) {
  if (running_) return Status::OK();
  durable_ = durable;
  for (const char* v : {"17", "16", "15", "14", "13"}) {
    fs::path b = fs::path("/usr/lib/postgresql") / v / "bin";
    if (fs::exists(b / "initdb") && fs::exists(b / "pg_ctl")) {
      bin_ = b;
      break;
    }
  }
  if (bin_.empty()) return Status::Unavailable("PostgreSQL server binaries not found (Debian package 'postgresql')");
  root_ = ::geteuid() == 0;
  if (root_ && ::getpwnam("postgres") == nullptr) return Status::Unavailable("no 'postgres' OS user to run the server");
  std::string tmpl = (fs::temp_directory_path() / "acervo-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return Status::IOError("cannot create a temp folder");
  dir_ = tmpl;
  if (root_) {
    const passwd* pw = ::getpwnam("postgres");
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return Status::IOError("cannot chown " + dir_.string());
  }
  const std::string data = (dir_ / "data").string();
  if (Run({(bin_ / "initdb").string(), "-D", data, "-A", "trust", "-U", "acervo", "-E", "UTF8", "--no-sync",
           "--locale=C.UTF-8"},
          true) != 0) {
    return Status::Unavailable("initdb failed in " + data);
  }
  return StartServer();
}

Status PostgresTestServer::StartServer() {
  const std::string data = (dir_ / "data").string();
  // Unix socket in our folder only; fsync off unless durable: a test
  // server, not an archive.
  std::string opts = "-c listen_addresses='' -c unix_socket_directories='" + dir_.string() + "'";
  if (!durable_) opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  if (Run({(bin_ / "pg_ctl").string(), "-D", data, "-o", opts, "-l", (dir_ / "server.log").string(), "-w", "-t",
           "60", "start"},
          true) != 0) {
    return Status::Unavailable("pg_ctl start failed (see " + (dir_ / "server.log").string() + ")");
  }
  running_ = true;
  return Status::OK();
}

Status PostgresTestServer::Restart(const std::string& mode, std::chrono::milliseconds down) {
  if (!running_) return Status::Unavailable("the test server is not running");
  if (Run({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", mode, "-w", "stop"}, true) != 0) {
    return Status::Unavailable("pg_ctl stop -m " + mode + " failed");
  }
  running_ = false;
  std::this_thread::sleep_for(down);
  return StartServer();
}

void PostgresTestServer::Stop() {
  if (running_) {
    Run({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"}, true);
    running_ = false;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PostgresTestServer::Conninfo(const std::string& db) const {
  return "host=" + dir_.string() + " user=acervo dbname=" + db;
}

Result<std::string> PostgresTestServer::CreateDatabase(const std::string& name) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(Conninfo("postgres").c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) return Status::Unavailable(PQerrorMessage(c.get()));
  for (const std::string& sql : std::vector<std::string>{"DROP DATABASE IF EXISTS \"" + name + "\"", "CREATE DATABASE \"" + name + "\""}) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return Status::IOError(PQresultErrorMessage(r.get()));
  }
  return Conninfo(name);
}

PostgresTestServer* SharedPostgres(std::string* why) {
  static PostgresTestServer* server = nullptr;
  static std::string reason;
  static bool tried = false;
  if (!tried) {
    tried = true;
    auto* s = new PostgresTestServer();  // stopped by the atexit below
    Status st = s->Start();
    if (st.ok()) {
      server = s;
      std::atexit([] { server->Stop(); });
    } else {
      reason = st.ToString();
      s->Stop();
      delete s;
    }
  }
  if (why) *why = reason;
  return server;
}

}  // namespace acervo
