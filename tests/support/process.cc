#include "support/process.h"

#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

extern char** environ;

namespace acervo::testing {

ProcessResult RunProcess(const std::vector<std::string>& argv) { return RunProcess(argv, ProcessOptions{}); }

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult r;
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path();
  std::string tag = std::to_string(::getpid()) + "-" + std::to_string(std::rand());
  fs::path out = dir / ("acervo-out-" + tag), err = dir / ("acervo-err-" + tag);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 0, options.stdin_file.empty() ? "/dev/null" : options.stdin_file.c_str(),
                                   O_RDONLY, 0);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, options.cwd.c_str());
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view kv(*e);
    bool replaced = false;
    for (const std::string& o : options.env) replaced |= kv.substr(0, kv.find('=') + 1) == o.substr(0, o.find('=') + 1);
    if (!replaced) env_storage.emplace_back(kv);
  }
  for (const std::string& o : options.env) env_storage.push_back(o);
  std::vector<char*> env;
  for (std::string& e : env_storage) env.push_back(e.data());
  env.push_back(nullptr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc == 0) {
    int status = 0;
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      const pid_t done = ::waitpid(pid, &status, options.timeout_s > 0 ? WNOHANG : 0);
      if (done == pid) break;
      if (done < 0 && errno != EINTR) break;
      if (options.timeout_s > 0 && std::chrono::steady_clock::now() - start > std::chrono::seconds(options.timeout_s)) {
        ::kill(pid, SIGKILL);
      } else if (options.timeout_s > 0) {
        ::usleep(20000);
      }
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  r.out = ReadText(out.string());
  r.err = ReadText(err.string());
  fs::remove(out);
  fs::remove(err);
  return r;
}

pid_t SpawnWithPause(const std::vector<std::string>& argv, const std::string& pause_at,
                     const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("ACERVO_TEST_PAUSE_AT=", 0) != 0) env_storage.emplace_back(*e);
  }
  if (!pause_at.empty()) env_storage.push_back("ACERVO_TEST_PAUSE_AT=" + pause_at);
  std::vector<char*> env;
  for (std::string& e : env_storage) env.push_back(e.data());
  env.push_back(nullptr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

std::string AcervoBinary() {
  if (const char* other = std::getenv("ACERVO_TEST_BINARY"); other != nullptr && *other != '\0') return other;
  return std::string(ACERVO_BINARY_DIR) + "/pipeline/acervo";
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace acervo::testing
