// Metadata: a document's index fields, from the sources the profile names
// ([metadata] sources, first wins): the operators' manifest.csv, separator
// sheet payloads (both resolved while planning, see lot.h/separation.h), and
// extraction rules run on the OCR text once the pages are done.
//
// Every value keeps its source (FieldRecord::source, stored): "manifest.csv
// line 4", "separator 0003.tif page 1", "ocr page 2". Every value is checked
// against its field's type and rules (validators.h). Nothing is dropped: an
// invalid value is stored as given and the document is flagged
// "needs_review" plus "invalid_field:<name>"; a missing required field gives
// "missing_field:<name>"; a type not in [[types]] gives "unknown_type". An
// extraction rule takes only a value that validates (a CPF with wrong check
// digits in the text is not taken; the next match is tried).
//
// Thread-safety: pure functions.
#ifndef ACERVO_PIPELINE_METADATA_H_
#define ACERVO_PIPELINE_METADATA_H_

#include <string>
#include <vector>

#include "acervo/indexer/store.h"
#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/profile.h"

namespace acervo {

struct ResolvedMetadata {
  std::vector<FieldRecord> fields;  // planned fields first (their order), then extracted ones
  std::vector<std::string> flags;   // review flags (see above), empty when all is well
  std::vector<std::string> reasons; // one line per flag, for people
};

// Resolves the document's fields from its plan and its pages' OCR text
// (page_texts[i] is page i+1 of the document; blank pages may be "").
ResolvedMetadata ResolveMetadata(const LotProfile& profile, const DocumentPlan& doc,
                                 const std::vector<std::string>& page_texts);

// For the lot runner: replaces record->fields with the resolved fields and
// appends the review flags to record->flags, reading the texts from
// record->pages.
void ApplyMetadata(const LotProfile& profile, const DocumentPlan& doc, DocumentRecord* record);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_METADATA_H_
