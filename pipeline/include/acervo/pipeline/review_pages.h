// The review queue of `acervo serve` (issue 14, docs/review.md): a page per
// lot for operators with the same actions as `acervo review` — correct
// index fields (no OCR; the PDF's metadata rewritten), accept items, ask for
// a page to be scanned again, withdraw a document — each written to the
// audit trail. A PageModule (web/router.h) that lives above web/ because a
// correction is pipeline work; `acervo serve` registers it.
//
//   GET  /review                 lots with open items (operator)
//   GET  /review/{lot}           the lot's queue, by document
//   POST /review/set             lot, doc, field.<NAME>=value..., note
//   POST /review/accept          lot, doc, [page], [kind], note
//   POST /review/rescan          lot, doc, page, note
//   POST /review/withdraw        lot, doc, reason
//
// A lot the user may not open does not exist for them (404, as elsewhere).
#ifndef ACERVO_PIPELINE_REVIEW_PAGES_H_
#define ACERVO_PIPELINE_REVIEW_PAGES_H_

#include <memory>

#include "acervo/web/router.h"

namespace acervo {

std::shared_ptr<web::PageModule> NewReviewPages();

}  // namespace acervo

#endif  // ACERVO_PIPELINE_REVIEW_PAGES_H_
