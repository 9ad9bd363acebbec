// Running a program for an end-to-end test: fixed argv (no shell), stdout and
// stderr captured, exit code returned. Test-only helper.
#ifndef ACERVO_TESTS_SUPPORT_PROCESS_H_
#define ACERVO_TESTS_SUPPORT_PROCESS_H_

#include <string>
#include <vector>

namespace acervo::testing {

struct ProcessResult {
  int exit_code = -1;  // -1: could not start; 128+N: killed by signal N
  std::string out;
  std::string err;
};

ProcessResult RunProcess(const std::vector<std::string>& argv);

// The acervo binary of this build.
std::string AcervoBinary();

// Reads a whole text file ("" if missing).
std::string ReadText(const std::string& path);

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_PROCESS_H_
