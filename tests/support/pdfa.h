// Checking PDFs from the outside the way an archive would: Apache PDFBox
// Preflight (PDF/A-1b validator; Debian libpdfbox2-java and friends) and
// `qpdf --check`. Test-only helper.
//
// Preflight starts a JVM (about a second), so all files of one call are
// validated by one JVM in batch mode: the files are symlinked into a fresh
// temporary folder that Preflight walks.
#ifndef ACERVO_TESTS_SUPPORT_PDFA_H_
#define ACERVO_TESTS_SUPPORT_PDFA_H_

#include <filesystem>
#include <string>
#include <vector>

namespace acervo::testing {

enum class PdfaLevel {
  k1b,  // must pass Preflight with no error at all
  // Preflight validates PDF/A-1b only; a 2b file must pass it with no error
  // but the one saying its pdfaid:part is not 1 (7.11.2).
  k2b,
};

// Every problem of `pdfs` as text, one block per failing file naming it and
// the errors; "" when every file passes both Preflight and qpdf --check.
// Missing tools (java, the PDFBox jars, qpdf) are a problem too: the package
// list installs them, so their absence must fail the test, not skip it.
std::string PdfaProblems(const std::vector<std::filesystem::path>& pdfs,
                         PdfaLevel level = PdfaLevel::k1b);

// Every *.pdf below `dir` (recursively), sorted.
std::vector<std::filesystem::path> PdfsIn(const std::filesystem::path& dir);

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_PDFA_H_
