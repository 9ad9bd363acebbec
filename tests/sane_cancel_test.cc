// Scenario: the operator interrupts (Ctrl-C) a slow scan in the middle of a
// page. `acervo scan` must stop promptly with exit code 130, keep the pages
// already complete, and leave nothing of the cut-off page (no master, no
// temporary file, no journal entry). The slow device is SANE's `test`
// backend with read-delay: it pauses after each buffer it hands over.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "acervo/scanner/lot_capture.h"
#include "support/process.h"
#include "support/sane_config.h"

extern char** environ;

namespace acervo {
namespace {
namespace fs = std::filesystem;

const fs::path kSaneConfig = testing::UseSaneTestConfig();

TEST(SaneCancelTest, InterruptMidPageKeepsOnlyCompletePages) {
  ASSERT_FALSE(kSaneConfig.empty());
  fs::path root = fs::temp_directory_path() / ("acervo-sane-cancel-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const fs::path lot = root / "lot";
  // About 1 s per page: the colour pattern comes in ~21 buffers, 50 ms apart.
  std::vector<std::string> argv = {testing::AcervoBinary(), "scan", "--device", "test:0", "--source", "adf",
                                   "--resolution", "50", "--lot", lot.string(),
                                   "--option", "test-picture=Color pattern", "--option", "read-delay=yes",
                                   "--option", "read-delay-duration=50000"};
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const fs::path err = root / "stderr.txt";
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);

  // Wait for the first complete page, then interrupt during the second.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(lot / "0001.tif") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(fs::exists(lot / "0001.tif")) << testing::ReadText(err.string());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  double stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string stderr_text = testing::ReadText(err.string());
  ASSERT_TRUE(WIFEXITED(status)) << stderr_text;
  EXPECT_EQ(WEXITSTATUS(status), 130) << stderr_text;
  EXPECT_LT(stop_s, 5.0) << "the scan did not stop promptly";
  EXPECT_NE(stderr_text.find("partial page discarded"), std::string::npos) << stderr_text;

  Result<ScanJournal> journal = ReadScanJournal(lot);
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  int masters = 0;
  for (const auto& e : fs::directory_iterator(lot)) {
    std::string name = e.path().filename().string();
    EXPECT_NE(name.rfind(".tmp-", 0), 0u) << "temporary file left: " << name;
    if (name.size() == 8 && name.substr(4) == ".tif") ++masters;
  }
  EXPECT_GE(masters, 1);
  EXPECT_EQ(static_cast<size_t>(masters), journal->pages.size()) << "every master journaled, no others";
  if (!HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
