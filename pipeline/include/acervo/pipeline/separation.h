// Separation: cutting a lot's page stream into documents by the profile's
// [separation] rule (barcode/QR separator sheets, Kodak patch codes, blank
// sheets, a fixed page count, one input file per document).
//
// PlanLot calls SeparateDocuments when the rule is not `auto`; the runner
// then sees ordinary DocumentPlans. Separator sheets are listed in
// LotPlan::separators and belong to no document: their input files are
// still kept as masters, and they never reach a PDF.
//
// Separator payloads: a barcode whose text starts with the rule's prefix
// (default "ACERVO") followed by nothing or by ';'-separated key=value pairs,
// values percent-encoded (UTF-8):
//   ACERVO;type=certidao;id=CX12-004;nome=Maria%20da%20Silva
// `type`, `id` and `title` set the next document's type, id and title; every
// other key is an index field of it (source "separator <file> page <n>").
// Other barcodes (a process label printed on a page) are not separators.
//
// Thread-safety: pure functions over plain values; SeparateDocuments may
// decode pages (reads files) and uses no shared state.
#ifndef ACERVO_PIPELINE_SEPARATION_H_
#define ACERVO_PIPELINE_SEPARATION_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "acervo/core/status.h"
#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/profile.h"

namespace acervo {

struct SeparatorPayload {
  std::string type, id, title;
  std::vector<std::pair<std::string, std::string>> fields;
};

// The payload of a separator barcode. NotFound when `text` does not start
// with `prefix` followed by end or ';' (not a separator); InvalidArgument
// for a malformed pair or escape (the reason and the 1-based position).
Result<SeparatorPayload> ParseSeparatorPayload(std::string_view text, std::string_view prefix);
// The barcode text for a payload (inverse of ParseSeparatorPayload).
std::string FormatSeparatorPayload(std::string_view prefix, const SeparatorPayload& payload);

// What one page is, for the rule.
struct PageSignal {
  bool separator = false;
  std::string kind;     // as SeparatorSheet::kind
  std::string payload;  // barcode text
};

// Looks at one decoded page for the rule's separator (barcode, patch code
// or blank sheet). Rules that need no pixels (file, fixed, auto) give a
// non-separator. Failure only for an unusable image (InvalidArgument).
Result<PageSignal> ClassifyPage(const cv::Mat& image, double dpi, const SeparationRule& rule);

// Replaces plan->documents by the documents the rule cuts from all pages of
// plan->files (natural order), fills plan->separators, and reports problems
// and warnings naming file and page. Pages that cannot be decoded stay in
// their document (the runner quarantines them), never dropped. Document ids
// come from separator payloads (`id`) or are numbered "<lot>-0001"...;
// kFile uses each file's stem.
void SeparateDocuments(LotPlan* plan);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_SEPARATION_H_
