#include "support/sane_config.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace acervo::testing {
namespace fs = std::filesystem;

bool WriteSaneTestConfig(const fs::path& dir, std::string* error, const std::vector<std::string>& backends) {
  std::ifstream in("/etc/sane.d/test.conf");
  if (!in) {
    *error = "/etc/sane.d/test.conf is missing (package libsane-common)";
    return false;
  }
  std::ostringstream conf;
  std::string line;
  while (std::getline(in, line)) {
    // Debian's default (200 mm) is smaller than A4's 297 mm height.
    if (line.rfind("geometry_max", 0) == 0) line = "geometry_max 300.0";
    conf << line << "\n";
  }
  fs::create_directories(dir);
  std::ofstream(dir / "test.conf") << conf.str();
  std::ofstream dll(dir / "dll.conf");
  for (const std::string& b : backends) dll << b << "\n";
  return true;
}

fs::path UseSaneTestConfig() {
  // Removed when the test process exits (after libsane and any child used it).
  struct RemoveAtExit {
    fs::path dir;
    ~RemoveAtExit() {
      std::error_code ec;
      if (!dir.empty()) fs::remove_all(dir, ec);
    }
  };
  static RemoveAtExit cleanup;
  fs::path dir = fs::temp_directory_path() / ("acervo-sane-" + std::to_string(::getpid()));
  std::string error;
  if (!WriteSaneTestConfig(dir, &error)) return {};
  cleanup.dir = dir;
  ::setenv("SANE_CONFIG_DIR", dir.c_str(), 1);
  return dir;
}

}  // namespace acervo::testing
