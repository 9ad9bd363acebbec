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

// After one page of a stored document was replaced (page_replace.h): the
// document's side outputs brought in line with its rebuilt PDF, each file
// atomically. Which ones: those `want` asks for (the profile) and those the
// document already has on disk (a run with --hocr/--alto/--text).
//  - hOCR/ALTO of the new page written from `page` as a run writes them
//    (`page` nullptr: the new page is blank, left out of the PDF, and its
//    old files go);
//  - when the PDF gained or lost that page, the files of the pages after it
//    are renamed and their page numbers rewritten;
//  - the text file made again from `pdf_texts`, the text of every PDF page.
// IOError naming the file on failure.
struct SidecarRewrite {
  int old_pdf_page = 0;  // the old page's place in the PDF; 0: it was blank
  int new_pdf_page = 0;  // the new page's place; 0: it is blank
  int pdf_pages = 0;     // pages in the PDF now
};
Status RewriteSidecarsForPage(const std::filesystem::path& lot_out, const std::string& file_name,
                              const SidecarRequest& want, const Page* page, const SidecarRewrite& where,
                              const std::vector<std::string>& pdf_texts);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_PDF_OUTPUTS_H_
