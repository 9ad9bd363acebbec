// Store: where processed lots, documents and pages are recorded and searched.
//
// The pipeline's index sink writes a LotRecord once per lot (UpsertLot) and
// one DocumentRecord per finished document (PutDocument), only after the
// document's PDF exists and verifies. `acervo search`, `acervo serve` and
// `acervo verify` read it back.
//
// Idempotence: a document is identified by (lot_id, document_id). Putting it
// again replaces it whole (its pages, fields and full-text rows), so
// re-running or resuming a lot never duplicates anything.
//
// Implementations: SQLite (sqlite_store.h, the embedded default) and
// PostgreSQL (postgres_store.h, for several machines), tested by one
// parameterised suite.
//
// Ownership and thread-safety: the caller owns the Store through
// std::unique_ptr. Every method may be called from any thread; calls on one
// Store object are serialised by an internal mutex (one database connection
// per object). For parallel work, open one Store per thread or process on
// the same database: writers wait for each other instead of failing.
#ifndef ACERVO_INDEXER_STORE_H_
#define ACERVO_INDEXER_STORE_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/review_store.h"

namespace acervo {

class AccessStore;  // access_store.h: users, groups, grants, API tokens, audit trail

struct LotRecord {
  std::string id;  // required, unique
  std::string project;
  std::string box;
  std::string operator_name;
  std::string description;
  std::string profile_json;  // the lot profile as JSON ("" when none)
  std::string started_at;    // ISO 8601, e.g. "2026-03-01T08:00:00Z"
  std::string finished_at;   // "" while the lot is running
  // The absolute output folder its paths are relative to, when it was
  // written (schema v5): a hint where to find its files when nothing else
  // says (one store may hold lots of several output folders); "" unknown.
  std::string output_root = {};
};

// One index field of a document (a manifest column, a barcode value...).
struct FieldRecord {
  std::string name;
  std::string value;
  // Where the value came from, for people checking it: "manifest.csv line
  // 4", "separator 0003.tif page 1", "ocr page 2"; "" when unknown. (The
  // initializer lets older code write {name, value} without -Wextra noise.)
  std::string source = {};
};

// Paths in records (DocumentRecord::pdf_path, PageRecord::master_path) are
// relative to the output root — the `--out` folder of `acervo run` — since
// schema v5, so an archive can be moved or copied and still be verified and
// searched where it is. Rows the v5 migration could not make relative keep
// their absolute path. ResolveStoredPath gives the file on this machine.
std::filesystem::path ResolveStoredPath(const std::filesystem::path& root, const std::string& stored);
// One OCR word and its box on the page image the PDF shows (schema v6), so
// that a viewer can draw a hit over the scan.
struct WordBox {
  std::string text;            // UTF-8, as OCR read it
  int x = 0, y = 0, w = 0, h = 0;  // pixels of the page image, top-left origin
};

// The word boxes of one page and the size of the image they refer to.
struct PageWords {
  int image_width = 0;   // pixels; the PDF page shows exactly this image
  int image_height = 0;
  std::vector<WordBox> words;  // in reading order
};

struct PageRecord {
  int number = 0;        // 1-based position in the document; blank pages count too
  int pdf_page = 0;      // 1-based page in the PDF; 0 when !in_pdf
  bool in_pdf = true;    // false for blank pages removed from the PDF
  std::string source_path;  // input file the page came from
  int page_in_file = 1;     // 1-based page within source_path
  std::string master_path;
  std::string master_sha256;
  std::string text;  // OCR text, UTF-8
  double mean_confidence = 0;  // mean OCR word confidence, 0..100
  double skew_deg = 0;
  double orientation_deg = 0;
  bool blank = false;
  double blank_score = 0;
  std::string color_class;  // e.g. "bw", "gray", "color"
  std::vector<std::string> flags;  // e.g. "low_confidence", "big_skew"
  std::string stages;  // JSON array of {"name","version","ms","cpu_ms"}; "" = none
  // The master page this page was made from and which part of it (schema
  // v4). A two-page spread split by `[image] split` gives two pages with
  // the same master page: "left" then "right".
  int master_page = 0;        // 1-based master page of the document; 0 = `number`
  std::string part = "whole";  // "whole", "left" or "right"
  int master_x = 0;            // first column of the master page shown, in master pixels
  int master_width = 0;        // columns shown from master_x; 0 = unknown (rows before v4)
  // The page image's size and its OCR words with boxes (schema v6). Stored
  // by PutDocument when image_width > 0; GetDocument and ListDocuments
  // leave `words` empty (GetPageWords reads them for one page).
  int image_width = 0;
  int image_height = 0;
  std::vector<WordBox> words;
};

struct DocumentRecord {
  std::string lot_id;       // required; the lot must have been upserted
  std::string document_id;  // required, unique within the lot
  std::string document_type;
  std::string title;
  std::string pdf_path;
  std::string pdf_sha256;
  int page_count = 0;  // pages in the PDF
  std::vector<FieldRecord> fields;
  // The open review reasons (schema v8: "needs_review" and each open
  // item's flag, see review_store.h). When `review` is set, PutDocument
  // recomputes them from the review items and ignores this.
  std::vector<std::string> flags;
  std::vector<PageRecord> pages;  // in document order
  // Issue 14: the document's review items, fresh pages and history entries,
  // written by PutDocument in the same transaction (review_store.h). Not
  // filled by GetDocument.
  std::optional<DocumentReview> review;
};

// A search: a query in the language of query.h, plus filters that the
// caller (a CLI option, a web form) gives outside the query text.
struct SearchRequest {
  std::string query;
  // Index field filters, each `name = value` compared like `name:"value"`
  // in the query (case- and accent-insensitive; dates in either form).
  std::vector<std::pair<std::string, std::string>> fields;
  std::string lot;  // only this lot when not empty
  // Only this document of `lot` when not empty (a document view asking which
  // of its words a query matched: the hit's `matches`). Requires `lot`.
  std::string document;
  int limit = 20;   // at most this many hits; 1..10000
  int offset = 0;   // skip this many hits first (paging); offset + limit <= 10000
  // Order of the hits. kRelevance ranks text queries by BM25 (documents
  // without text in the query are listed by lot and id); the date orders
  // sort by the document's date (its first index field holding a date;
  // documents without one come last), newest or oldest first.
  enum class Sort { kRelevance, kDateNewest, kDateOldest };
  Sort sort = Sort::kRelevance;
  // The document's date (as Sort uses it) within [date_from, date_to],
  // ISO YYYY-MM-DD; "" leaves that end open.
  std::string date_from, date_to;
  // Access control: when set, only documents of these lots exist for this
  // request — hits, counts and facets alike (an empty list: nothing).
  std::optional<std::vector<std::string>> allowed_lots;
  // Forgiving matching (issue 15, docs/store.md "Forgiving search"): query
  // words also find their inflections and, when they are rare or absent,
  // OCR misreadings, split and merged words, ranked below exact matches.
  // false: every word exact unless written `~word`.
  bool forgiving = true;
};

// Counts for the filters of a results page: how many matching documents
// fall in each lot, document type and index field value.
struct FacetCount {
  std::string value;
  int64_t count = 0;
};
struct FieldFacet {
  std::string name;                // as stored (first spelling met)
  std::vector<FacetCount> values;  // most frequent first
};
struct SearchFacets {
  int64_t total = 0;         // matching documents
  bool total_exact = true;   // false: `total` is a lower bound (counting stopped at kFacetCountCap)
  std::vector<FacetCount> lots;
  std::vector<FacetCount> types;
  std::vector<FieldFacet> fields;  // the most common field names, each with its top values
  std::string date_min, date_max;  // range of the documents' dates (ISO); "" when none
  std::vector<FacetCount> years;   // documents per year of their date, oldest first
};
// Counting (and date sorting) stops at this many matching documents: a
// results page says "more than 10,000" rather than walk a common word's
// every posting.
inline constexpr int64_t kFacetCountCap = 10000;

// A lot with the counts the lots view shows.
struct LotSummary {
  LotRecord lot;
  int64_t documents = 0;
  int64_t pages = 0;          // stored pages, blank ones included
  int64_t blank_pages = 0;
  int64_t flagged_pages = 0;      // pages with an open review item (review_store.h)
  int64_t flagged_documents = 0;  // documents with an open review item (produced or not)
};

// Which query term matched a hit, as what, and on which pages.
struct TermMatch {
  std::string query;    // the query word (folded) or phrase
  std::string matched;  // the indexed word(s) that matched (folded), e.g. "teixelra"
  // "exact", "inflection" (another form of the word), "misread" (an OCR
  // misreading within the allowed distance), "split" (the word read as two),
  // "merged" (the word glued to another).
  std::string kind;
  std::vector<int> pages;  // PDF pages, ascending
};

struct SearchHit {
  std::string lot_id;
  std::string document_id;
  std::string document_type;
  std::string title;
  std::string pdf_path;
  std::vector<int> pages;  // PDF page numbers with hits, ascending
  std::string snippet;     // from the best page; hit words inside « and »
  double score = 0;        // higher is better; 0 when the query has no text
  std::vector<FieldRecord> fields;
  // Issue 15: what a person or a script needs to judge the hit.
  std::vector<std::string> flags;  // the document's flags
  int page_count = 0;              // pages in the PDF
  std::string indexed_at;          // when the document was stored, ISO 8601 UTC
  std::string date;                // the first index field holding a date (ISO), "" if none
  // 0 when every query term matched exactly, 1 when some needed another
  // inflection, 2 when some needed a forgiving match; tier-0 hits come
  // first, the others after them by score.
  int tier = 0;
  std::vector<TermMatch> matches;  // per query term and variant that matched
};

struct StoreStats {
  int64_t lots = 0;
  int64_t documents = 0;
  int64_t pages = 0;  // all stored pages, blank ones included
};

class Store {
 public:
  virtual ~Store() = default;

  // Inserts the lot or updates its metadata; its documents are kept.
  // Failure: InvalidArgument (empty id), Unavailable (database busy beyond
  // the timeout), IOError/Corrupt from the database.
  virtual Status UpsertLot(const LotRecord& lot) = 0;

  // Stores the document in one transaction, replacing any earlier version
  // of (lot_id, document_id) with all its pages, fields and text. Either all
  // of it is stored or nothing. Failure: InvalidArgument (empty ids, two
  // pages with one number, in_pdf pages without a pdf_page or blank ones
  // with one, a part other than whole/left/right, negative master columns),
  // NotFound (lot not upserted), Unavailable, IOError, Corrupt.
  virtual Status PutDocument(const DocumentRecord& doc) = 0;

  // Stores several documents in one transaction (bulk import, benchmarks):
  // all of them or none. Same failures as PutDocument, naming the document.
  // The default puts them one by one (not atomic); both stores override it.
  virtual Status PutDocuments(const std::vector<DocumentRecord>& docs) {
    for (const DocumentRecord& d : docs) ACERVO_RETURN_IF_ERROR(PutDocument(d));
    return Status::OK();
  }

  // Every lot with its metadata, ordered by id (empty for a new store).
  virtual Result<std::vector<LotRecord>> ListLots() = 0;

  // The document with its pages (text included) and fields, or nullopt when
  // there is no such document.
  virtual Result<std::optional<DocumentRecord>> GetDocument(const std::string& lot_id,
                                                            const std::string& document_id) = 0;

  // The lot's documents ordered by document_id, with fields and pages but
  // with every PageRecord::text left empty (texts can be large; use
  // GetDocument). An unknown lot gives an empty list.
  virtual Result<std::vector<DocumentRecord>> ListDocuments(const std::string& lot_id) = 0;

  // Runs a search. With text in the query (and request.sort kRelevance),
  // hits are ranked by tier, then BM25 (best first, see docs/store.md);
  // without, matching documents are listed by (lot, document id); the date
  // sorts list them by date, each text hit with its pages, tier and
  // matches too. Failure: InvalidArgument for a malformed query, limit,
  // offset or date (the message gives the position, e.g. "unclosed quote at
  // position 7") and for a field name no document the request may see has
  // (the message lists the fields of the lot, or of the store, that it may
  // see); never a raw SQL or FTS5 error. Unavailable/IOError/Corrupt from
  // the database.
  virtual Result<std::vector<SearchHit>> Search(const SearchRequest& request) = 0;

  // Counts of lots, documents and pages.
  virtual Result<StoreStats> Stats() = 0;

  // The word boxes of page `number` (1-based, as PageRecord::number) of a
  // document; nullopt when there is no such page. A page stored before
  // schema v6 (or without OCR) gives image size 0 and no words.
  virtual Result<std::optional<PageWords>> GetPageWords(const std::string& lot_id,
                                                        const std::string& document_id, int number) = 0;

  // The counts of the documents `request` matches (its limit, offset and
  // sort are ignored): the documents Search finds, forgiving matches
  // included, honouring allowed_lots. Counting stops at
  // kFacetCountCap documents (then total_exact is false and the facets
  // describe those documents). Failure: as Search.
  virtual Result<SearchFacets> Facets(const SearchRequest& request) = 0;

  // Every lot with its document and page counts, by id.
  virtual Result<std::vector<LotSummary>> LotSummaries() = 0;

  // Users, groups, grants, API tokens and the audit trail, kept in the same
  // database (access_store.h). Owned by the Store; valid while it lives.
  virtual AccessStore& Access() = 0;

  // Review items, document history, withdrawals, lot sources (schema v8,
  // review_store.h). Owned by the Store; valid while it lives.
  virtual ReviewStore& Review() = 0;

  // Takes a document (or, with document_id "", every document of the lot)
  // out of search and review, in one transaction: the withdrawal is
  // recorded with the PDF and master paths and hashes (for `acervo
  // verify`), the history gets an entry, the review items go, and the
  // document rows (pages, fields, text index) are deleted. Files on disk
  // are not touched. Returns how many documents were withdrawn.
  // InvalidArgument without a reason; NotFound for an unknown lot or
  // document; AlreadyExists when the document is withdrawn already.
  virtual Result<int> Withdraw(const std::string& lot_id, const std::string& document_id, const std::string& user,
                               const std::string& reason) = 0;

  // Maintenance after large ingests (`acervo optimize`). SQLite: the text
  // index's segments (one more b-tree per term with every batch of
  // commits) are merged into one (FTS5 'optimize'), then the planner's
  // statistics are refreshed (PRAGMA optimize). Searches give the same
  // answers, with fewer reads: on the 1,000,000-page store benchmark −23%
  // instructions a search (docs/benchmarks.md). It holds the write lock
  // while it runs (5.5 s on that store): writers, the web server's audit
  // rows included, wait for it. PostgreSQL: nothing to do (autovacuum
  // analyses and merges GIN's pending list). Failure: the store's error.
  virtual Status Optimize() { return Status::OK(); }

  // The lot folder (as queued) whose lot `lot_id` the shared work queue of
  // this store is processing (queued or running), or nullopt: `acervo run`
  // and `batch` leave such a lot to the workers. A store without a queue
  // (SQLite) has none.
  virtual Result<std::optional<std::string>> QueuedLotFolder(const std::string& lot_id) {
    (void)lot_id;
    return std::optional<std::string>();
  }
};

}  // namespace acervo

#endif  // ACERVO_INDEXER_STORE_H_
