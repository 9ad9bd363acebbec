// Scenario: a scanner shared over the network. A real saned (sane-utils) is
// started by this test on 127.0.0.1:6566 with its own configuration (the
// `test` backend, access for 127.0.0.1), and `acervo scan` reaches it
// through libsane's `net` backend. Pages scanned remotely must be
// byte-identical to the same pages scanned locally: colour 8-bit on the
// flatbed and a 10-page 16-bit gray ADF lot. saned runs for a bounded time
// and is stopped at the end; the port is a shared resource (CTest
// RESOURCE_LOCK), so one such test runs at a time.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "acervo/core/files.h"
#include "support/process.h"
#include "support/sane_config.h"

extern char** environ;

namespace acervo {
namespace {
namespace fs = std::filesystem;

constexpr int kPort = 6566;

bool PortAccepts() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kPort);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

std::string FindSaned() {
  for (const char* p : {"/usr/sbin/saned", "/usr/bin/saned"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

class SanedNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("acervo-saned-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    std::string error;
    ASSERT_TRUE(testing::WriteSaneTestConfig(root_ / "server", &error)) << error;
    std::ofstream(root_ / "server" / "saned.conf") << "127.0.0.1\n";
    ASSERT_TRUE(testing::WriteSaneTestConfig(root_ / "local", &error)) << error;
    fs::create_directories(root_ / "client");
    std::ofstream(root_ / "client" / "dll.conf") << "net\n";
    std::ofstream(root_ / "client" / "net.conf") << "connect_timeout = 5\n127.0.0.1\n";

    std::string saned = FindSaned();
    ASSERT_FALSE(saned.empty()) << "saned is missing: install sane-utils (scripts/debian-packages.txt)";
    ASSERT_FALSE(PortAccepts()) << "port " << kPort << " is already in use; another saned is running";
    // saned in the foreground, bound to loopback, with its own config.
    std::vector<std::string> argv = {saned, "-l", "-e", "-b", "127.0.0.1", "-p", std::to_string(kPort), "-d", "1"};
    std::vector<std::string> env = {"SANE_CONFIG_DIR=" + (root_ / "server").string(), "PATH=/usr/bin:/bin"};
    std::vector<char*> args, envp;
    for (std::string& a : argv) args.push_back(a.data());
    for (std::string& e : env) envp.push_back(e.data());
    args.push_back(nullptr);
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = (root_ / "saned.log").string();
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    ASSERT_EQ(posix_spawn(&saned_pid_, args[0], &fa, nullptr, args.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!PortAccepts() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(PortAccepts()) << "saned did not start: " << testing::ReadText(log);
  }

  void TearDown() override {
    if (saned_pid_ > 0) {
      ::kill(saned_pid_, SIGTERM);
      int status = 0;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (::waitpid(saned_pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(saned_pid_, SIGKILL);
          ::waitpid(saned_pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (!HasFailure()) fs::remove_all(root_);
  }

  // Runs `acervo scan` with the given SANE configuration folder.
  testing::ProcessResult Scan(const std::string& config, std::vector<std::string> args) {
    ::setenv("SANE_CONFIG_DIR", (root_ / config).c_str(), 1);
    std::vector<std::string> argv = {testing::AcervoBinary(), "scan", "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunProcess(argv);
  }

  fs::path root_;
  pid_t saned_pid_ = -1;
};

TEST_F(SanedNetTest, RemotePagesAreByteIdenticalToLocalOnes) {
  ::setenv("SANE_CONFIG_DIR", (root_ / "client").c_str(), 1);
  testing::ProcessResult devices = testing::RunProcess({testing::AcervoBinary(), "devices"});
  ASSERT_EQ(devices.exit_code, 0) << devices.err;
  EXPECT_NE(devices.out.find("net:127.0.0.1:test:0"), std::string::npos) << devices.out;

  struct Case {
    std::string name;
    std::vector<std::string> args;
    int pages;
  };
  const std::vector<Case> cases = {
      {"color8", {"--mode", "color", "--resolution", "75", "--option", "test-picture=Color pattern"}, 1},
      {"gray16-adf",
       {"--source", "adf", "--mode", "gray", "--resolution", "75", "--option", "depth=16", "--option",
        "test-picture=Grid"},
       10},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path remote = root_ / ("remote-" + c.name), local = root_ / ("local-" + c.name);
    std::vector<std::string> ra = {"--device", "net:127.0.0.1:test:0", "--lot", remote.string()};
    std::vector<std::string> la = {"--device", "test:0", "--lot", local.string()};
    ra.insert(ra.end(), c.args.begin(), c.args.end());
    la.insert(la.end(), c.args.begin(), c.args.end());
    testing::ProcessResult r = Scan("client", ra);
    ASSERT_EQ(r.exit_code, 0) << r.err << testing::ReadText((root_ / "saned.log").string());
    testing::ProcessResult l = Scan("local", la);
    ASSERT_EQ(l.exit_code, 0) << l.err;
    for (int i = 1; i <= c.pages; ++i) {
      const std::string name = i < 10 ? "000" + std::to_string(i) + ".tif" : "00" + std::to_string(i) + ".tif";
      Result<std::string> a = Sha256OfFile(remote / name);
      Result<std::string> b = Sha256OfFile(local / name);
      ASSERT_TRUE(a.ok() && b.ok()) << name;
      EXPECT_EQ(*a, *b) << name << " differs between saned and local";
    }
    EXPECT_FALSE(fs::exists(remote / (c.pages < 9 ? "000" + std::to_string(c.pages + 1) + ".tif" : "0011.tif")));
  }
}

}  // namespace
}  // namespace acervo
