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
//   MatchSpread     when the lot splits two-page spreads ([image] split):
//                   for a page that was one half of a spread, a new image
//                   that is itself a spread is split by the same stage and
//                   the matching half taken (a single page is taken whole);
//                   for a page that was whole, a new image detected as a
//                   spread is refused (it would be two pages)
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
//   RewriteSideOutputs  the document's hOCR/ALTO/text side outputs (those
//                   the profile asks for or the document has) brought in
//                   line: the new page's files written, the text file made
//                   again, each atomically (pdf_outputs.h)
//   WriteNewImages  the web preview of the new page and the morning
//                   report's thumbnail of the page (best effort)
//
// Thread-safety: one replacement at a time per document (the store
// serialises its own calls).
#ifndef ACERVO_PIPELINE_PAGE_REPLACE_H_
#define ACERVO_PIPELINE_PAGE_REPLACE_H_

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "acervo/core/status.h"
#include "acervo/indexer/store.h"
#include "acervo/pipeline/lot_runner.h"

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

// ReplacePage from an image held in memory (a scanned sheet, a web
// upload): the bytes are written into a private temporary folder under
// `file_name` — its last path component only, made safe by SafeFileName
// (lot.h), so that a name a client chose never leads anywhere — and the
// folder is removed afterwards. request.image is
// ignored. Errors are ReplacePage's, naming the file by that name rather
// than the temporary path.
Result<PageReplaceResult> ReplacePageFromBytes(Store& store, PageReplaceRequest request, std::string_view bytes,
                                               std::string_view file_name);

// The pages of stored lot `lot_id` (output folder `lot_out`, OUT/<lot>)
// replaced since its run, as the morning report shows a flagged page now:
// the new page's flags, confidence, master, thumbnail and preview (when
// written), PDF page, `replaced`; by (document id, master page, part). The
// report marks the pages it lists and adds those flagged now that its run
// did not flag, so they are counted like any other (issue 14: one count
// everywhere). One query for a lot without replacements; empty when the
// store cannot say.
using FlaggedKey = std::tuple<std::string, int, std::string>;
std::map<FlaggedKey, FlaggedPage> ReplacedPagesNow(Store& store, const std::string& lot_id,
                                                   const std::filesystem::path& lot_out);

// A replacement as JSON (`acervo review replace --json`, the web API):
// lot, document, page, old_master and new_master {path, sha256}, pdf
// {path, pages, sha256, previous_sha256}, in_pdf, pdf_page, flags,
// confidence, stages {name: runs}, review (ReviewJson of the document's
// open items).
nlohmann::json ReplacementJson(const PageReplaceResult& result);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_PAGE_REPLACE_H_
