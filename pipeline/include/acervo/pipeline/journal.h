// The lot journal: what has durably happened to each page of a lot, so that a
// run killed at any moment (kill -9, power cut, OOM killer) is resumed by the
// same command without losing a page and without doing a finished page twice.
//
// Format: OUT/<lot>/journal.jsonl, one JSON object per line, appended and
// fdatasync'ed before the call returns (docs/batch.md lists the records).
// A line torn by a crash (no trailing newline, or not JSON) is cut off when
// the journal is reopened; every complete line before it stays valid.
//
// Records:
// Page records carry the page's id (document, master page number, file,
// page in file, master SHA-256) and, for a half of a split spread, its
// "part" ("left"/"right").
//  - "stage": a page finished one stage (stage name and version). Tells the
//    morning report where a killed page was; the pixels of a half-processed
//    page are not kept, so such a page restarts from its master.
//  - "page": a page finished the whole chain and its checkpoint (OCR words,
//    text, findings and the encoded image, see EncodePageCheckpoint) is on
//    disk. A rerun loads the checkpoint instead of recomputing the page, as
//    long as the master's SHA-256, the page in the file and the chain
//    signature (stage names, versions and the profile) are unchanged.
//  - "document": the document's PDF is in place and its store row committed.
//  - "quarantine": an input file (page 0) or one page was refused, with why.
//  - "lot_done": the lot ran to the end; `key` is the lot folder fingerprint.
//
// Thread-safety: every method may be called from any thread (one mutex).
// Ownership: the caller owns the Journal (std::unique_ptr); it owns its fd.
#ifndef ACERVO_PIPELINE_JOURNAL_H_
#define ACERVO_PIPELINE_JOURNAL_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "acervo/core/page.h"
#include "acervo/core/status.h"

namespace acervo {

// Identifies one page of one document of a lot: a master page, or one half
// of a master page that is a two-page spread (`[image] split`), so each
// half is checkpointed and resumed on its own.
struct JournalPageId {
  std::string document_id;
  int number = 0;            // 1-based position of the master page in the document
  std::string source;        // input file name in the lot
  int page_in_file = 1;
  std::string master_sha256;
  PageOrigin::Part part = PageOrigin::Part::kWhole;  // "part" in the record; absent = whole
};

// (document id, master page number, part): a page's key in the journal.
using JournalPageKey = std::tuple<std::string, int, PageOrigin::Part>;

// What the report needs to know about a finished page.
struct JournalPageSummary {
  JournalPageId id;
  std::string signature;   // chain signature the page was made with
  std::string checkpoint;  // checkpoint path relative to the lot output folder
  std::string thumbnail;   // thumbnail path relative to the lot output folder; "" = none
  std::vector<std::string> flags;
  double mean_confidence = 0;
  double skew_deg = 0;
  int orientation_deg = 0;
  bool blank = false;
};

struct JournalQuarantine {
  std::string file;
  int page = 0;  // 0: the whole file
  std::string reason;
};

class Journal {
 public:
  // Opens (creating if needed) the journal at `path`, reads its records and
  // cuts a torn last line. IOError names the path.
  static Result<std::unique_ptr<Journal>> Open(const std::filesystem::path& path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Each Record* appends one line and syncs it; IOError when the write or
  // the sync fails (the caller must then not act as if it were recorded).
  Status RecordStage(const JournalPageId& id, std::string_view stage, int version);
  Status RecordPageDone(const JournalPageSummary& page);
  Status RecordDocumentDone(const std::string& document_id, const std::string& pdf_path,
                            const std::string& pdf_sha256);
  Status RecordQuarantine(const JournalQuarantine& q);
  Status RecordLotDone(const std::string& key);

  // The latest "page" record for this page when it was made from the same
  // master bytes, page and chain signature; nullopt otherwise.
  std::optional<JournalPageSummary> FindPageDone(const JournalPageId& id,
                                                 const std::string& signature) const;
  // Latest "page" record of every page ever finished, in journal order of
  // first appearance (for the report).
  std::vector<JournalPageSummary> FinishedPages() const;
  // Every quarantine record, without repeats, except those whose page (for
  // a whole file: any page of that file) finished later in the journal.
  std::vector<JournalQuarantine> Quarantined() const;
  // Last stage recorded for a page that has no "page" record yet: pages a
  // crash interrupted, as "doc #n: stage@version" ("doc #n left: ..." for
  // a half).
  std::vector<std::string> Interrupted() const;
  // True when a "lot_done" record with this key exists.
  bool LotDone(const std::string& key) const;
  // How many "page" records each page (each half of a split spread) has —
  // tests use it to prove no page was done twice and none was lost.
  std::map<JournalPageKey, int> PageDoneCounts() const;

  const std::filesystem::path& path() const { return path_; }

 private:
  Journal(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status AppendLine(const std::string& line);
  void Apply(const std::string& line);  // updates the in-memory view

  std::filesystem::path path_;
  int fd_ = -1;
  mutable std::mutex mu_;
  std::vector<JournalPageKey> order_;
  std::map<JournalPageKey, JournalPageSummary> done_;
  std::map<JournalPageKey, int> done_counts_;
  std::map<JournalPageKey, std::string> last_stage_;
  uint64_t seq_ = 0;  // records applied so far
  // (file, page in file) -> sequence of its last "page" record; page 0: any page of the file.
  std::map<std::pair<std::string, int>, uint64_t> last_done_;
  std::vector<std::pair<uint64_t, JournalQuarantine>> quarantine_;  // with the sequence of the last record
  std::vector<std::string> lot_done_;
};

// A page that finished the stage chain, serialised with everything the PDF
// and the store need (not the pixels: the encoded image). Decode fails with
// Corrupt naming `name` for anything that is not a complete checkpoint.
std::vector<uint8_t> EncodePageCheckpoint(const Page& page);
Result<Page> DecodePageCheckpoint(std::span<const uint8_t> bytes, std::string_view name);

// A cheap fingerprint of a lot folder: SHA-256 over the relative path, size
// and modification time of every regular file in it (recursively, hidden
// entries skipped). Changes when a file is added, removed or rewritten.
Result<std::string> LotFingerprint(const std::filesystem::path& lot_dir);

// Removes leftover temporary files (kTempPrefix) anywhere below `dir`: what a
// crash left mid-write is never taken as output. Returns how many.
Result<int> RemoveTempFilesRecursive(const std::filesystem::path& dir);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_JOURNAL_H_
