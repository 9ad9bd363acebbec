// What needs a person, computed once (issue 14, docs/review.md): the review
// items of a page from its flags, the counts every report prints, and the
// JSON form that report.json, the morning report and `acervo review list
// --json` share. The reasons themselves are named in core/review_reason.h;
// the items are kept by the store (indexer/review_store.h), and every report
// prints what the store holds after the run, so the counts agree by
// construction.
//
// Thread-safety: pure functions.
#ifndef ACERVO_PIPELINE_REVIEW_H_
#define ACERVO_PIPELINE_REVIEW_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "acervo/indexer/review_store.h"
#include "acervo/indexer/store.h"

namespace acervo {

// The review items of one stored page, from the flags its stages set:
// low_confidence, orientation_fixed -> orientation_changed, ocr_deadline,
// deskew_deadline -> skew_uncorrected. A large skew that the deskew stage
// corrected (big_skew alone) is a note, not a reason (PageNoteLabel).
std::vector<ReviewItem> PageReviewItems(const PageRecord& page);

struct ReviewCounts {
  int items = 0;      // open items
  int documents = 0;  // distinct documents with an open item (produced or not)
  int pages = 0;      // distinct (document, page) with a page-level item
  int inputs = 0;     // items of input files no document holds (quarantined...)
  std::map<std::string, int> by_reason;  // kind -> items
};
ReviewCounts CountReview(const std::vector<ReviewItem>& items);

// Where the pages of review items are in their documents' PDFs: (lot,
// document, page number) -> PDF page, 0 when the page is not in the PDF
// (blank pages are left out, so a page's number and its PDF page differ
// after one). A link to the PDF page uses this, never the page number.
using PdfPageMap = std::map<std::tuple<std::string, std::string, int>, int>;

// The PDF pages of the items' pages, from the stored documents (items
// without a page or a stored document are left out).
PdfPageMap PdfPagesOf(Store& store, const std::vector<ReviewItem>& items);

// {"open": n, "documents": n, "pages": n, "inputs": n, "by_reason": {kind: n},
//  "items": [{"lot", "document", "page", "pdf_page", "kind", "subject",
//  "label_pt", "label_en", "detail", "action_pt", "action_en", "state"}...]}
// "pdf_page" only for an item whose page `pdf_pages` knows (0: not in the
// PDF).
nlohmann::json ReviewJson(const std::vector<ReviewItem>& items, const PdfPageMap* pdf_pages = nullptr);

// For a terminal: "To review: 2 documents, 1 page, 0 input files (3 reasons)"
// then one line per reason with its count, then up to `max_items` items
// ("  lot/doc page 2: Low OCR confidence — mean OCR confidence 41"). Labels
// in English or Brazilian Portuguese. "" when nothing is open.
std::string ReviewSummaryText(const std::vector<ReviewItem>& items, bool english, size_t max_items);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_REVIEW_H_
