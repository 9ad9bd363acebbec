// One subcommand of the acervo CLI: its CLI11 definition and what runs when
// it is chosen. Each command lives in its own file (cli/<name>_command.cc)
// and is added to the explicit list in main.cc.
#ifndef ACERVO_PIPELINE_CLI_COMMAND_H_
#define ACERVO_PIPELINE_CLI_COMMAND_H_

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "acervo/core/status.h"

namespace acervo::cli {

// Exit codes, documented in docs/cli.md. Keep the two in step.
inline constexpr int kExitOk = 0;
inline constexpr int kExitPartial = 1;    // finished, but something failed (or: no hits)
inline constexpr int kExitUsage = 2;      // bad arguments, bad query, bad input named on the line
inline constexpr int kExitCannotRun = 3;  // a needed file, store, model or device is unusable
inline constexpr int kExitDevice = 4;     // scanner paused: jam, cover open, I/O error (resumable)
inline constexpr int kExitInterrupted = 130;

// What every command may use.
struct Context {
  const std::atomic<bool>* cancel = nullptr;  // set on SIGINT/SIGTERM
  int cancel_fd = -1;  // becomes readable on SIGINT/SIGTERM (a self-pipe), for poll()
};

struct Command {
  CLI::App* app = nullptr;   // the subcommand inside the root app
  std::function<int()> run;  // returns the exit code
};

// --shared-root, or $ACERVO_SHARED_ROOT: the centre's shared root as mounted
// on this machine (docs/scaling.md); `use` says what the command needs it for.
inline CLI::Option* AddSharedRootOption(CLI::App* cmd, std::filesystem::path& root, const std::string& use) {
  return cmd->add_option("--shared-root", root, use + " (default: $ACERVO_SHARED_ROOT)")->envname("ACERVO_SHARED_ROOT");
}

// Maps a Status to the generic exit codes above.
int ExitCodeFor(const Status& status);

}  // namespace acervo::cli

#endif  // ACERVO_PIPELINE_CLI_COMMAND_H_
