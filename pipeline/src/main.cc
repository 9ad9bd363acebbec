// acervo: the command-line driver. It only builds the list of subcommands
// (one file each in cli/), parses, and runs the chosen one; commands map
// Status to the documented exit codes (docs/cli.md).
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <vector>

#include <CLI/CLI.hpp>

#include "acervo/core/memory.h"
#include "cli/commands.h"

namespace {

std::atomic<bool> g_cancel{false};  // set by SIGINT/SIGTERM only
int g_cancel_pipe[2] = {-1, -1};     // ... and a byte written here, for waits on poll()

extern "C" void OnSignal(int) {
  g_cancel.store(true);
  if (g_cancel_pipe[1] >= 0) (void)!::write(g_cancel_pipe[1], "x", 1);  // async-signal-safe
}

// Debian's Tesseract is built with OpenMP. Its threads would compete with our
// worker pool for the same cores (4x slower on two cores, measured), and
// libgomp reads OMP_THREAD_LIMIT only when it is loaded, before main(). So
// when the variable is unset we set it and re-execute ourselves once.
void EnsureSingleThreadedOpenMp(char** argv) {
  if (std::getenv("OMP_THREAD_LIMIT") != nullptr) return;
  ::setenv("OMP_THREAD_LIMIT", "1", 1);
  ::execv("/proc/self/exe", argv);
  // If re-exec is impossible we carry on; only speed suffers.
}

}  // namespace

namespace acervo::cli {

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument: return kExitUsage;
    case StatusCode::kCancelled: return kExitInterrupted;
    case StatusCode::kDeviceError: return kExitDevice;
    default: return kExitCannotRun;
  }
}

}  // namespace acervo::cli

int main(int argc, char** argv) {
  EnsureSingleThreadedOpenMp(argv);
  acervo::TuneAllocatorForPageImages();
  if (::pipe2(g_cancel_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_cancel_pipe[0] = g_cancel_pipe[1] = -1;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  CLI::App app{"Acervo: scanned lots to searchable PDF/A and a document store"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "acervo 0.1.0");
  acervo::cli::Context ctx;
  ctx.cancel = &g_cancel;
  ctx.cancel_fd = g_cancel_pipe[0];

  // Every subcommand, in the order --help lists them.
  std::vector<acervo::cli::Command> commands = {
      acervo::cli::AddRunCommand(app, ctx),
      acervo::cli::AddBatchCommand(app, ctx),
      acervo::cli::AddPreprocessCommand(app, ctx),
      acervo::cli::AddSearchCommand(app, ctx),
      acervo::cli::AddVerifyCommand(app, ctx),
      acervo::cli::AddSheetsCommand(app, ctx),
      acervo::cli::AddDevicesCommand(app, ctx),
      acervo::cli::AddScanCommand(app, ctx),
      acervo::cli::AddWatchCommand(app, ctx),
      acervo::cli::AddEnqueueCommand(app, ctx),
      acervo::cli::AddWorkerCommand(app, ctx),
      acervo::cli::AddStatusCommand(app, ctx),
      acervo::cli::AddServeCommand(app, ctx),
      acervo::cli::AddUsersCommand(app, ctx),
      acervo::cli::AddLgpdCommand(app, ctx),
      acervo::cli::AddRedactCommand(app, ctx),
      acervo::cli::AddReviewCommand(app, ctx),
      acervo::cli::AddWithdrawCommand(app, ctx),
      acervo::cli::AddOptimizeCommand(app, ctx),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? acervo::cli::kExitOk : acervo::cli::kExitUsage;
  }
  for (const acervo::cli::Command& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return acervo::cli::kExitUsage;
}
