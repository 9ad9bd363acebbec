// What the lot runner needs from issue 4 (PDF/A, signature, side outputs),
// kept out of lot_runner.cc so that file only calls it.
//
// PdfOptionsForLot(): the PdfWriter options a lot profile asks for (PDF/A
// part, signature with the PKCS#12 password read from the environment).
// SidecarSet: the hOCR/ALTO pages and plain-text sidecar of one document,
// collected while its pages arrive and written only once its PDF is
// committed, each file atomically, so no side output exists for a document
// whose PDF failed.
//
// Thread-safety: SidecarSet is used by the delivering thread only.
#ifndef ACERVO_PIPELINE_PDF_OUTPUTS_H_
#define ACERVO_PIPELINE_PDF_OUTPUTS_H_

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "acervo/core/page.h"
#include "acervo/core/status.h"
#include "acervo/pipeline/profile.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace acervo {

// InvalidArgument for a PDF/A part other than 1b/2b; Unavailable when the
// signature's password variable (or, with a time-stamp authority user, the
// authority's password variable) is unset (an empty password must be set
// explicitly as an empty variable).
Result<PdfOptions> PdfOptionsForLot(const LotProfile& profile, const std::filesystem::path& lot_dir);

struct SidecarRequest {
  bool hocr = false;
  bool alto = false;
  bool text = false;
  bool any() const { return hocr || alto || text; }
};

class SidecarSet {
 public:
  // Records the side outputs of a page that went into the PDF as `pdf_page`.
  void AddPage(const SidecarRequest& request, const Page& page, int pdf_page);
  // Writes them: OUT/<lot>/<file_name>.txt (pages separated by form feeds,
  // as pdftotext does) and OUT/<lot>/sidecars/<file_name>/page-NNNN.hocr and
  // page-NNNN.alto.xml, removing that folder's page-NNNN files beyond the
  // last page (left by an earlier, longer version of the document). IOError
  // naming the file on failure.
  Status Commit(const std::filesystem::path& lot_out, const std::string& file_name);
  void Clear() {
    files_.clear();
    text_.clear();
    pages_ = 0;
    want_text_ = false;
  }

 private:
  std::vector<std::pair<std::string, std::string>> files_;  // relative name, content
  std::string text_;
  int pages_ = 0;
  bool want_text_ = false;
};

}  // namespace acervo

#endif  // ACERVO_PIPELINE_PDF_OUTPUTS_H_
