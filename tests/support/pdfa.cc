#include "support/pdfa.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include "support/process.h"

namespace acervo::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kJavaDir[] = "/usr/share/java";
const char* const kJars[] = {"preflight.jar", "pdfbox2.jar",         "fontbox2.jar", "xmpbox.jar",
                             "commons-logging.jar", "javax.activation.jar", "jaxb-api.jar"};

// The one error a PDF/A-2b file is allowed under the PDF/A-1b validator.
bool AllowedFor2b(const std::string& error_line) {
  return error_line.rfind("7.11.2", 0) == 0 && error_line.find("part must be 1") != std::string::npos;
}

}  // namespace

std::vector<fs::path> PdfsIn(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".pdf") out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string PdfaProblems(const std::vector<fs::path>& pdfs, PdfaLevel level) {
  std::string problems;
  if (pdfs.empty()) return "no PDF to check\n";

  std::string classpath;
  for (const char* jar : kJars) {
    fs::path p = fs::path(kJavaDir) / jar;
    if (!fs::exists(p)) problems += "PDFBox Preflight is not installed: missing " + p.string() + "\n";
    if (!classpath.empty()) classpath += ':';
    classpath += p.string();
  }
  if (!problems.empty()) return problems;

  // Links named by index: Preflight reports file names only, and two inputs
  // may share a name.
  std::random_device rd;
  fs::path dir = fs::temp_directory_path() /
                 ("acervo-preflight-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(dir);
  std::vector<std::string> link_names;
  for (size_t i = 0; i < pdfs.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "f%05zu.pdf", i);
    link_names.push_back(name);
    std::error_code ec;
    fs::create_symlink(fs::absolute(pdfs[i]), dir / name, ec);
    if (ec) problems += pdfs[i].string() + ": cannot link for Preflight: " + ec.message() + "\n";
  }
  ProcessResult pf = RunProcess(
      {"java", "-cp", classpath, "org.apache.pdfbox.preflight.Validator_A1b", "batch", dir.string()});
  fs::remove_all(dir);
  if (pf.exit_code == -1) return "cannot run java (install default-jre-headless)\n";

  // Output: "The file NAME is a valid PDF/A-1b file" or "The file NAME is not
  // a valid PDF/A-1b file, error(s) :" followed by one error per line.
  std::map<std::string, std::vector<std::string>> errors;
  std::map<std::string, bool> seen;
  std::istringstream in(pf.out);
  std::string line, current;
  while (std::getline(in, line)) {
    const std::string kPrefix = "The file ";
    if (line.rfind(kPrefix, 0) == 0) {
      size_t sp = line.find(' ', kPrefix.size());
      current = line.substr(kPrefix.size(), sp - kPrefix.size());
      seen[current] = true;
      continue;
    }
    if (!current.empty() && !line.empty()) errors[current].push_back(line);
  }
  for (size_t i = 0; i < pdfs.size(); ++i) {
    const std::string& name = link_names[i];
    if (!seen.count(name)) {
      problems += pdfs[i].string() + ": Preflight gave no verdict (exit " + std::to_string(pf.exit_code) +
                  ")\n" + pf.err.substr(0, 2000) + "\n";
      continue;
    }
    std::string mine;
    for (const std::string& e : errors[name]) {
      if (level == PdfaLevel::k2b && AllowedFor2b(e)) continue;
      mine += "  " + e + "\n";
    }
    if (!mine.empty()) problems += pdfs[i].string() + ": not PDF/A-" + (level == PdfaLevel::k1b ? "1b" : "2b") + ":\n" + mine;

    ProcessResult q = RunProcess({"qpdf", "--check", pdfs[i].string()});
    if (q.exit_code != 0) {
      problems += pdfs[i].string() + ": qpdf --check exit " + std::to_string(q.exit_code) + ":\n" + q.out + q.err;
    }
  }
  return problems;
}

}  // namespace acervo::testing
