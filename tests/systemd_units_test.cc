// The systemd unit files of `acervo worker` and `acervo serve`
// (scripts/systemd/, docs/deploy.md), checked the way systemd reads them:
// `systemd-analyze verify` on each (with ExecStart pointing at this build's
// binary, which it must find executable), every option ExecStart passes
// known to the subcommand, and the stop timeout longer than the drain.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::RunProcess;

const fs::path kUnits = fs::path(ACERVO_SOURCE_DIR) / "scripts" / "systemd";

class SystemdUnitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("acervo-units-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The unit with /usr/bin/acervo replaced by this build's binary.
  fs::path Installed(const std::string& name, const std::string& extra_line = "") {
    std::string text = testing::ReadText((kUnits / name).string());
    EXPECT_FALSE(text.empty()) << name;
    for (size_t at; (at = text.find("/usr/bin/acervo")) != std::string::npos;) {
      text.replace(at, std::string("/usr/bin/acervo").size(), AcervoBinary());
    }
    if (!extra_line.empty()) text.insert(text.find("[Service]\n") + 10, extra_line + "\n");
    const fs::path out = dir_ / name;
    std::ofstream(out) << text;
    return out;
  }

  // systemd-analyze's complaints about `unit` (lines naming it).
  std::string Verify(const fs::path& unit, int* exit_code) {
    testing::ProcessResult r = RunProcess({"/usr/bin/systemd-analyze", "verify", "--man=no", unit.string()});
    *exit_code = r.exit_code;
    std::string mine;
    std::istringstream lines(r.out + r.err);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(unit.filename().string()) != std::string::npos) mine += line + "\n";
    }
    return mine;
  }

  static std::string ServiceValue(const std::string& text, const std::string& key) {
    std::smatch m;
    if (!std::regex_search(text, m, std::regex("\n" + key + "=([^\n]*)"))) return "";
    return m[1];
  }

  fs::path dir_;
};

TEST_F(SystemdUnitsTest, SystemdAnalyzeVerifiesBothUnits) {
  ASSERT_TRUE(fs::exists("/usr/bin/systemd-analyze")) << "install the Debian package 'systemd'";
  for (const char* name : {"acervo-worker.service", "acervo-serve.service"}) {
    int code = -1;
    const std::string complaints = Verify(Installed(name), &code);
    EXPECT_EQ(code, 0) << name << "\n" << complaints;
    EXPECT_EQ(complaints, "") << name;
  }
  // The check is a real one: a typo in a key, or a binary that is not
  // there, is reported.
  int code = -1;
  std::string complaints = Verify(Installed("acervo-worker.service", "Restart=sometimes"), &code);
  EXPECT_NE(complaints.find("sometimes"), std::string::npos) << complaints;
  fs::path missing = dir_ / "missing.service";
  {
    std::string text = testing::ReadText((kUnits / "acervo-worker.service").string());
    text.replace(text.find("/usr/bin/acervo"), std::string("/usr/bin/acervo").size(), (dir_ / "nope").string());
    std::ofstream(missing) << text;
  }
  complaints = Verify(missing, &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(complaints.find("not executable"), std::string::npos) << complaints;
}

TEST_F(SystemdUnitsTest, EveryOptionOfExecStartIsKnownToItsCommand) {
  for (const char* name : {"acervo-worker.service", "acervo-serve.service"}) {
    SCOPED_TRACE(name);
    const std::string text = testing::ReadText((kUnits / name).string());
    std::istringstream exec(ServiceValue(text, "ExecStart"));
    std::vector<std::string> words{std::istream_iterator<std::string>(exec), std::istream_iterator<std::string>()};
    ASSERT_GE(words.size(), 2u);
    EXPECT_EQ(words[0], "/usr/bin/acervo");
    const std::string command = words[1];
    testing::ProcessResult help = RunProcess({AcervoBinary(), command, "--help"});
    // An unknown subcommand gets the root's help (exit 0): look for its own.
    const bool known = help.exit_code == 0 && help.out.find(" " + command + " [OPTIONS]") != std::string::npos;
    ASSERT_TRUE(known) << help.out << help.err;
    for (const std::string& w : words) {
      if (w.rfind("--", 0) == 0) {
        EXPECT_NE(help.out.find(w), std::string::npos) << w << " is not an option of " << command;
      }
    }
  }
}

TEST_F(SystemdUnitsTest, TheWorkerIsGivenTimeToDrain) {
  const std::string text = testing::ReadText((kUnits / "acervo-worker.service").string());
  EXPECT_EQ(ServiceValue(text, "KillSignal"), "SIGTERM");
  const std::string exec = ServiceValue(text, "ExecStart");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(exec, m, std::regex("--drain-timeout (\\d+)")));
  EXPECT_LT(std::stoi(m[1]), std::stoi(ServiceValue(text, "TimeoutStopSec")))
      << "systemd would SIGKILL the worker before it has handed its units back";
  EXPECT_EQ(ServiceValue(text, "Environment").find("OMP_THREAD_LIMIT=1") != std::string::npos, true);
}

}  // namespace
}  // namespace acervo
