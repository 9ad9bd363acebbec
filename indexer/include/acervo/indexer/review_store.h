// ReviewStore: what needs a person, what people decided, what changed and
// what was withdrawn — the operators' side of the store (issue 14,
// docs/review.md). Kept in the same database as the documents, on SQLite and
// PostgreSQL alike: one implementation of the logic and the SQL over the
// store's connection (indexer/src/review_store.cc, schema v8).
//
//  - Review items: every reason a document, one of its pages, or an input of
//    the lot needs a person (an invalid field, low OCR confidence, a
//    quarantined input...), as the pipeline computed it. Each item is "open"
//    until a person accepts it or the reason goes away (a correction, a
//    re-scanned page). The items of a document are replaced together with
//    the document (DocumentRecord::review, same transaction), keeping the
//    decisions taken on items that are still there; the lot-level items
//    (inputs and documents that produced no row) are replaced by the lot
//    runner at the end of a run. The document's `flags` column holds the
//    roll-up of its open items ("needs_review" plus each open reason), which
//    is what `flag:` in the query language tests (docs/store.md).
//  - History: every change to a document — a field set by a person or by a
//    corrected manifest, a decision, a re-scan request, a replaced page, a
//    withdrawal — with the old and new value, who, when and why. Append-only
//    (nothing here updates or deletes it).
//  - Withdrawals: documents (or whole lots) taken out of search and review.
//    The rows of a withdrawn document are removed from the index (its PDF
//    and masters stay on disk, write-once); the withdrawal keeps what
//    `acervo verify` needs to check those files still (paths and hashes).
//  - Page replacements (schema v11): a page re-scanned or replaced from an
//    image file, with the old and new master (path and hash), who, when and
//    why. Append-only, like the history.
//  - Lot sources: how a lot was run (its folder, profile text, languages,
//    output folder), so that a correction or a re-scan can rebuild one of its
//    documents later with the same settings and without the lot folder.
//
// Thread-safety: as for Store (calls serialised on the store's connection).
// Obtain it with Store::Review(); it lives as long as the Store.
#ifndef ACERVO_INDEXER_REVIEW_STORE_H_
#define ACERVO_INDEXER_REVIEW_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

// One reason for a person to look. (lot_id, document_id, page, kind,
// subject) identifies it.
struct ReviewItem {
  std::string lot_id;
  std::string document_id;  // "" for an input file of the lot no document holds
  int page = 0;             // page of the document (PageRecord::number) or of the input file; 0: all of it
  std::string kind = {};    // core/review_reason.h: "invalid_field", "low_confidence", "quarantined", ...
  std::string subject = {};  // the field name, the input file...; "" when the kind says it all
  std::string detail = {};  // for people (English), e.g. "'31/02/2021' is not a real calendar day"
  std::string state = "open";  // "open" or "accepted"
  std::string decided_by = {};  // who accepted it ("" while open)
  std::string decided_at = {};  // ISO 8601 UTC
  std::string note = {};        // why (as given when accepting / asking for a re-scan)

  // "kind" or "kind:subject": the flag a document carries and `flag:` finds.
  std::string Flag() const { return subject.empty() ? kind : kind + ":" + subject; }
};

// One change to a document, kept for ever.
struct HistoryEntry {
  int64_t seq = 0;          // order of the entries (set by the store)
  std::string lot_id;
  std::string document_id;  // "" for a change to the whole lot (a lot withdrawn)
  std::string at;           // ISO 8601 UTC (set by the store when empty)
  std::string user;         // "alice" (web), "cli:maria" (command line), "manifest.csv line 4"
  std::string action;       // "set_field", "accept", "rescan", "replace_page", "withdraw", "reopen"
  int page = 0;             // the page acted on; 0: the document
  std::string field;        // set_field: the field ("document_type", "title" for those); else the reason
  std::string old_value;
  std::string new_value;
  std::string reason;       // why, as the person gave it
};

// One page of a document replaced from a new image (schema v11, kept for
// ever): the old master stays on disk (write-once) and `acervo verify` keeps
// checking it with its hash.
struct PageReplacement {
  int64_t seq = 0;  // order (set by the store)
  std::string lot_id;
  std::string document_id;
  int page = 0;  // PageRecord::number
  std::string at;    // ISO 8601 UTC (set by the store when empty)
  std::string user;
  std::string reason;
  std::string old_master_path;  // as stored (relative to the output root)
  std::string old_master_sha256;
  int old_page_in_file = 1;
  std::string new_master_path;
  std::string new_master_sha256;
  std::string old_pdf_sha256;
  std::string new_pdf_sha256;
};

// What the passes hand to PutDocument with a document (same transaction).
struct DocumentReview {
  // The reasons computed for the document and its pages: they replace the
  // document's items (decisions on items still present are kept; items no
  // longer computed go away, except re-scan requests of pages not replaced).
  std::vector<ReviewItem> items;
  // Pages made anew (re-scanned): their decisions and re-scan requests end.
  std::vector<int> fresh_pages;
  // Appended to the history.
  std::vector<HistoryEntry> history;
  // Appended to the page replacements (schema v11).
  std::vector<PageReplacement> replacements;
};

// How a lot was run, recorded at every run (docs/review.md).
struct LotSource {
  std::string lot_id;
  std::string lot_dir;       // the lot folder, absolute ("" unknown)
  std::string out_dir;       // the output folder given to the run, absolute
  std::string profile_toml;  // the text of profile.toml ("" when the lot had none)
  std::string languages;     // --lang of the run ("" = the profile's)
};

// A document (or a lot, document_id "") taken out of search and review.
struct WithdrawalRecord {
  std::string lot_id;
  std::string document_id;
  std::string at;
  std::string user;
  std::string reason;
  // What `acervo verify` still checks (filled by the store from the rows).
  std::string pdf_path;
  std::string pdf_sha256;
  int page_count = 0;
  std::vector<std::pair<std::string, std::string>> masters;  // path, SHA-256
};

struct ReviewFilter {
  std::string lot_id;        // "" every lot
  std::string document_id = {};  // "" every document
  std::string kind = {};         // "" every kind; "needs_review" = every kind too
  bool include_accepted = false;
  int limit = 10000;         // 1..100000
};

class ReviewStore {
 public:
  virtual ~ReviewStore() = default;

  // Items matching `filter`, by lot, document, page, kind, subject.
  virtual Result<std::vector<ReviewItem>> ListItems(const ReviewFilter& filter) = 0;

  // Replaces the lot-level items of `lot_id` (those of ReviewKindIsLotLevel
  // kinds: quarantined inputs, documents not produced, unused separator
  // sheets) with `items`, keeping decisions on items still present.
  virtual Status SyncLotItems(const std::string& lot_id, const std::vector<ReviewItem>& items) = 0;

  // Accepts the open items of a document (page 0: every page and the
  // document; kind "": every kind) as `user` with `note`, records one
  // history entry per item and updates the document's flags. Returns how
  // many were accepted; NotFound when none was open.
  virtual Result<int> Accept(const std::string& lot_id, const std::string& document_id, int page,
                             const std::string& kind, const std::string& user, const std::string& note) = 0;

  // Asks for page `page` of a document to be scanned again: an open item of
  // kind "rescan" (until the page is replaced), a history entry, the flags
  // updated. NotFound for an unknown document or page.
  virtual Status RequestRescan(const std::string& lot_id, const std::string& document_id, int page,
                               const std::string& user, const std::string& note) = 0;

  // Appends entries to the history (each gets its seq; `at` now when empty).
  virtual Status AppendHistory(const std::vector<HistoryEntry>& entries) = 0;
  // The history of a document ("" = the lot's own entries), oldest first.
  virtual Result<std::vector<HistoryEntry>> History(const std::string& lot_id,
                                                    const std::string& document_id) = 0;

  // The withdrawal of a document, or of its whole lot; nullopt when neither.
  virtual Result<std::optional<WithdrawalRecord>> FindWithdrawal(const std::string& lot_id,
                                                                 const std::string& document_id) = 0;
  // Every withdrawal ("" = of every lot).
  virtual Result<std::vector<WithdrawalRecord>> ListWithdrawals(const std::string& lot_id) = 0;

  // The pages replaced in a lot ("" = every lot; document "" = every
  // document of the lot), oldest first.
  virtual Result<std::vector<PageReplacement>> Replacements(const std::string& lot_id,
                                                            const std::string& document_id) = 0;

  virtual Status RecordLotSource(const LotSource& source) = 0;
  virtual Result<std::optional<LotSource>> GetLotSource(const std::string& lot_id) = 0;
};

// Kinds whose items belong to the lot rather than to a stored document (see
// SyncLotItems): "quarantined", "not_produced", "all_blank", "separator_unused".
bool ReviewKindIsLotLevel(const std::string& kind);

}  // namespace acervo

#endif  // ACERVO_INDEXER_REVIEW_STORE_H_
