// A private SANE configuration for tests: SANE's own `test` backend enabled
// (Debian ships it commented out) with an A4-sized scan area, so tests run
// against the real libsane without touching /etc/sane.d. Test-only helper.
#ifndef ACERVO_TESTS_SUPPORT_SANE_CONFIG_H_
#define ACERVO_TESTS_SUPPORT_SANE_CONFIG_H_

#include <filesystem>
#include <string>
#include <vector>

namespace acervo::testing {

// Writes DIR/dll.conf listing `backends` (default: test) and DIR/test.conf,
// a copy of /etc/sane.d/test.conf with geometry_max 300.0. Returns false
// (with `error` set) when the installed test.conf cannot be read.
bool WriteSaneTestConfig(const std::filesystem::path& dir, std::string* error,
                         const std::vector<std::string>& backends = {"test"});

// Creates a fresh config folder under the temp dir, writes it as above and
// sets SANE_CONFIG_DIR to it for this process (and its children). Must run
// before the first libsane call of the process. The folder is removed when
// the process exits.
std::filesystem::path UseSaneTestConfig();

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_SANE_CONFIG_H_
