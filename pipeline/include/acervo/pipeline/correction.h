// Corrections without OCR (issue 14, docs/review.md): a changed index field
// of a stored document — from `acervo review set`, a corrected manifest.csv
// on a rerun, or the web review page — goes into the store at once (search
// finds the new value) and into the document's PDF metadata (Info and XMP,
// the signature redone when the lot signs), rewritten from the existing PDF:
// the pages and their text layer are copied, no stage runs.
//
// Order of effects (no PDF without its row, no row without its PDF): the new
// PDF is written and verified beside the old one; the old one is kept under
// a temporary name while the new one is renamed into place; the row (new
// fields, PDF hash, review items, history entries) is then committed in one
// transaction; if that fails the old PDF is put back. A crash between the
// rename and the commit leaves the new PDF with the old row: `acervo verify`
// reports the hash mismatch and a rerun of the lot rebuilds the document.
//
// Thread-safety: one call at a time per document (the store serialises its
// own calls).
#ifndef ACERVO_PIPELINE_CORRECTION_H_
#define ACERVO_PIPELINE_CORRECTION_H_

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/store.h"
#include "acervo/pipeline/profile.h"

namespace acervo {

struct PdfDocumentInfo;  // acervo/stages/pdf/pdf_writer.h
struct PdfResult;

struct FieldChange {
  std::string name;   // a field of the profile, or "document_type" / "title"
  std::string value;  // "" removes the field (refused for a required one when validating)
  std::string source = {};  // where the value comes from ("" = "correction by <user>")
};

struct CorrectionRequest {
  std::string lot_id;
  std::string document_id;
  std::vector<FieldChange> changes;
  std::string user;    // "cli:maria", "alice", "manifest.csv line 4"
  std::string reason;  // why, kept in the history
  // true (review set, web): a value that fails the profile's rules is
  // refused with the reason. false (a corrected manifest): stored as given
  // and flagged, as a run would.
  bool validate = true;
  // The lot's profile and folder; when null, those recorded by the lot's
  // last run (ReviewStore::GetLotSource).
  const LotProfile* profile = nullptr;
  std::filesystem::path lot_dir;
  // Where the stored (output-root-relative, schema v5) PDF path is on this
  // machine: `resolve` when set (StoredPaths of the command's or server's
  // store, open_store.h), else under `output_root`, else under the lot's
  // recorded output folder (lots.output_root, else its last run's).
  std::function<std::filesystem::path(const std::string& lot_id, const std::string& stored)> resolve = {};
  std::filesystem::path output_root = {};
};

struct CorrectionResult {
  std::vector<HistoryEntry> changed;  // one per field whose value changed ("" when none did)
  std::string pdf_path;  // the PDF on this machine (the stored path resolved)
  std::string pdf_sha256;
};

// Applies the changes. InvalidArgument names the field and the rule for a
// refused value, an unknown field or type; NotFound for an unknown or
// withdrawn document; the PDF writer's error when the PDF cannot be
// rewritten (then nothing changed). No change at all is OK with an empty
// `changed` (nothing is written).
Result<CorrectionResult> CorrectDocument(Store& store, const CorrectionRequest& request);

// ---- Shared with page replacement (page_replace.h) ----

// The PDF metadata of a stored document, as DocumentPdfInfo makes it for a
// run: only values that pass their field's rules; the master hashes of its
// pages; DataDigitalizacao left empty (RewriteMetadata keeps the file's).
PdfDocumentInfo StoredPdfInfo(const LotProfile& profile, const DocumentRecord& record);

// What CorrectDocument and ReplacePage may be told about a stored
// document's lot (see CorrectionRequest); anything not given is read from
// the store (LotSource, lots.output_root).
struct StoredLotHints {
  const LotProfile* profile = nullptr;
  std::filesystem::path lot_dir;
  std::function<std::filesystem::path(const std::string& lot_id, const std::string& stored)> resolve;
  std::filesystem::path output_root;
};
struct StoredLot {
  LotProfile profile;  // empty (defaults) when the lot recorded none
  std::filesystem::path lot_dir;
  std::string languages;  // --lang of its last run ("" = the profile's)
  std::function<std::filesystem::path(const std::string& lot_id, const std::string& stored)> resolve;
  std::filesystem::path pdf;  // the document's PDF on this machine
};
Result<StoredLot> LocateStoredDocument(Store& store, const DocumentRecord& record, const StoredLotHints& hints);

// The review reasons of a stored document as a run would compute them now:
// its fields and type as they stand, its pages' own, and the separation
// notes already stored (which no correction or new page settles: they stay
// until accepted).
Result<std::vector<ReviewItem>> DocumentReviewItems(Store& store, const LotProfile& profile,
                                                    const DocumentRecord& record);

// Reads the word boxes of every page of `record` (GetDocument leaves them
// out; PutDocument replaces the row whole).
Status LoadPageWords(Store& store, DocumentRecord* record);

// The PDF swap of a correction or a page replacement: `rewrite` writes the
// new PDF to `pdf` from the old one (kept under a temporary link, passed
// in); then `commit` stores the row; if it fails the old PDF is put back.
// Errors carry `where`.
Result<PdfResult> SwapStoredPdf(const std::filesystem::path& pdf, const std::string& where,
                                const std::function<Result<PdfResult>(const std::filesystem::path& old_pdf)>& rewrite,
                                const std::function<Status(const PdfResult&)>& commit);

// "FIELD=VALUE" -> change; InvalidArgument without '=' or with an empty name.
Result<FieldChange> ParseFieldChange(const std::string& arg);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_CORRECTION_H_
