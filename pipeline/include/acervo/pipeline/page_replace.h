// Re-scan of single pages (issue 14, docs/review.md "Replace a page"): one
// page of a stored document is replaced from a new image — an image file
// (`acervo review replace`) or one sheet scanned for it (`acervo scan
// --replace`) — and the document's PDF, text and index rows are rebuilt
// without touching its other pages.
//
// As named passes over one ReplaceContext (lot_runner's shape):
//   FindTarget      the stored document, the page, the lot's recorded
//                   profile, folder and languages; refuses a withdrawn
//                   document, an unknown lot, document or page
//   LoadNewImage    the image read (its first page), refused when it cannot
//                   be read, is too small to be a page, or is below the
//                   profile's [image] min_dpi
//   KeepNewMaster   the image copied write-once into OUT/<lot>/masters/
//                   replaced/<document file>/p<N>-<sha12>.<ext> (a new name:
//                   the old master stays as it is)
//   ProcessNewPage  the page through the lot's stage chain (same profile and
//                   languages as its run); nothing else is processed
//   RebuildRecord   the page's row, the PDF page numbers, the fields found by
//                   OCR extraction (from every page's stored text) and the
//                   review reasons computed again; the page's rescan request
//                   and decisions end (DocumentReview::fresh_pages)
//   RebuildPdf      PdfWriter::RewritePages on the existing PDF: only that
//                   page's objects change, every other page (image and text
//                   layer) is copied as it is; metadata (master hashes)
//                   rewritten; signed again when the lot signs; verified;
//                   then the row (with a history entry and a
//                   page_replacements row, schema v11) committed in one
//                   transaction, the old PDF put back if the commit fails
//   WritePreview    the web preview of the new page (best effort)
//
// Not rebuilt: hOCR/ALTO/text side outputs of the document (they are
// written by a run; a rerun with --force makes them again), the morning
// report's thumbnail of the old page.
//
// Thread-safety: one replacement at a time per document (the store
// serialises its own calls).
#ifndef ACERVO_PIPELINE_PAGE_REPLACE_H_
#define ACERVO_PIPELINE_PAGE_REPLACE_H_

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/store.h"

namespace acervo {

struct PageReplaceRequest {
  std::string lot_id;
  std::string document_id;
  int page = 0;                 // PageRecord::number (1-based; blank pages count)
  std::filesystem::path image;  // the new image; its first page is used
  std::string user;             // who, for the history
  std::string reason;           // why, for the history
  // Where stored paths are on this machine (as CorrectionRequest).
  std::function<std::filesystem::path(const std::string& lot_id, const std::string& stored)> resolve = {};
  std::filesystem::path output_root = {};
  const std::atomic<bool>* cancel = nullptr;
};

struct PageReplaceResult {
  PageReplacement replacement;  // as recorded (masters, PDF hashes)
  std::string pdf_path;         // on this machine
  int pdf_pages = 0;
  bool in_pdf = false;  // false: the new page is blank (left out of the PDF)
  int pdf_page = 0;
  std::vector<std::string> flags;  // of the new page
  double mean_confidence = 0;
  std::map<std::string, int> stage_runs;  // stage name -> runs (the new page only)
  std::vector<ReviewItem> open_items;     // of the document, after
};

// Replaces the page. NotFound (the message names it) for an unknown lot,
// document or page and for a withdrawn document; InvalidArgument for an
// image that cannot be read, is not a page, is below the profile's
// min_dpi, is the page's current master, or is blank while the page is the
// only one of the document's PDF; a stage's or the PDF writer's error
// otherwise. On any error nothing changed but, possibly, a new master file
// kept under its new name (write-once, harmless).
Result<PageReplaceResult> ReplacePage(Store& store, const PageReplaceRequest& request);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_PAGE_REPLACE_H_
