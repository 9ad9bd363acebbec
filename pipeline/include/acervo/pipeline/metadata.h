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
// "missing_field:<name>"; a type not in [[types]] gives "unknown_type". A
// column not in [[fields]] of a profile that declares fields gives
// "unchecked_field:<name>" (a typo in the header goes unnoticed otherwise). An
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
  // The same reasons as review items (kind, subject = the field, detail =
  // the line of `reasons`), plus a field outside the profile's [[fields]]
  // ("unchecked_field", when the profile declares fields) and the plan's
  // separation notes. Lot and document ids are left for the caller.
  std::vector<ReviewItem> items;
  // The names of fields whose value failed validation: they are stored as
  // given (and flagged) but never written into the PDF as if valid.
  std::vector<std::string> invalid_fields;
};

// Resolves the document's fields from its plan and its pages' OCR text
// (page_texts[i] is page i+1 of the document; blank pages may be "").
ResolvedMetadata ResolveMetadata(const LotProfile& profile, const DocumentPlan& doc,
                                 const std::vector<std::string>& page_texts);

// For the lot runner: replaces record->fields with the resolved fields and
// appends the review flags to record->flags, reading the texts from
// record->pages. Returns the resolution (its review items among others).
ResolvedMetadata ApplyMetadata(const LotProfile& profile, const DocumentPlan& doc, DocumentRecord* record);

// The review items of a document's fields and type as they stand (after a
// correction): invalid, unchecked and missing fields, an unknown type.
std::vector<ReviewItem> FieldReviewItems(const LotProfile& profile, const std::string& type,
                                         const std::vector<FieldRecord>& fields);

// The document's planned fields that pass their field's rules (a field the
// profile does not declare is kept): what the PDF's metadata may say.
std::vector<std::pair<std::string, std::string>> ValidPlannedFields(const LotProfile& profile,
                                                                    const DocumentPlan& doc);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_METADATA_H_
