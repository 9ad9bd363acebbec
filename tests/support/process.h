// Running a program for an end-to-end test: fixed argv (no shell), stdout and
// stderr captured, exit code returned. Test-only helper.
#ifndef ACERVO_TESTS_SUPPORT_PROCESS_H_
#define ACERVO_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace acervo::testing {

struct ProcessResult {
  int exit_code = -1;  // -1: could not start; 128+N: killed by signal N
  std::string out;
  std::string err;
};

ProcessResult RunProcess(const std::vector<std::string>& argv);

// How RunProcess starts a program beyond its argv.
struct ProcessOptions {
  std::vector<std::string> env;  // "NAME=VALUE", set on top of (or replacing) ours
  std::string cwd;               // working folder; "" = ours
  int timeout_s = 0;             // > 0: killed (SIGKILL) after this long; exit_code 128+9
  std::string stdin_file;        // read as standard input; "" = /dev/null
};
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options);

// Starts argv (no shell) with stdin from /dev/null and stdout and stderr
// appended to `log`, and ACERVO_TEST_PAUSE_AT=`pause_at` in its environment
// (not set when empty; core/test_hooks.h: the program stops itself there
// with SIGSTOP). Returns the pid, or -1 when it could not be started. The
// caller waits for it (waitpid with WUNTRACED sees the pause).
pid_t SpawnWithPause(const std::vector<std::string>& argv, const std::string& pause_at,
                     const std::string& log);

// The acervo binary of this build (or $ACERVO_TEST_BINARY, to run a test
// against another build, e.g. to show that it fails there).
std::string AcervoBinary();

// Reads a whole text file ("" if missing).
std::string ReadText(const std::string& path);

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_PROCESS_H_
