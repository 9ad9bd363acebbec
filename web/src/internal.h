// What the web module's pages share: the services a handler may use
// (audit writer, page renderer, options), text for HTML (escaping in one
// place, LGPD masking, the pt-BR/en messages) and the page layout.
//
// Thread-safety: AuditLog and PageRenderer are used by every worker thread
// (internally locked); the text functions are pure.
#ifndef ACERVO_WEB_SRC_INTERNAL_H_
#define ACERVO_WEB_SRC_INTERNAL_H_

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "acervo/core/text.h"
#include "acervo/indexer/access_store.h"
#include "acervo/indexer/open_store.h"
#include "acervo/indexer/store.h"
#include "acervo/web/page_kit.h"
#include "acervo/web/router.h"
#include "acervo/web/server.h"

namespace acervo::web {

// --------------------------------------------------------------- audit --

// Appends audit rows through a store connection of its own, in batches:
// Record() queues the entry (with its time); a writer thread appends every
// queued entry in one transaction at most every 200 ms. Record(..., wait)
// returns once the entry is durable. Stop() writes what is queued.
// Rows queued when the process is killed (not stopped) are lost: at most
// 200 ms of non-waiting events (searches, views) — logins, admin actions
// and denials wait.
class AuditLog {
 public:
  explicit AuditLog(std::unique_ptr<Store> store);
  ~AuditLog();
  // Appends `entry`. With `wait`, returns once its row is committed, or the
  // reason it could not be (the caller then withholds its answer: an action
  // the trail cannot record is not served).
  Status Record(AuditEntry entry, bool wait);
  // Record without waiting, for Wait later: the entry's ticket, or nullopt
  // (entry left as it was) when the log is stopped and Record must write it.
  std::optional<uint64_t> Enqueue(AuditEntry& entry);
  // Returns once the entry of `ticket` is committed, or why it could not be.
  Status Wait(uint64_t ticket);
  void Stop();
  Status last_error() const;

 private:
  void Run();
  std::unique_ptr<Store> store_;
  mutable std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::vector<AuditEntry> queue_;
  uint64_t queued_ = 0, written_ = 0;
  // Entries (first, last] of recent batches that failed, newest last, so
  // each waiter learns whether its own row was written.
  std::deque<std::pair<uint64_t, uint64_t>> failed_;
  bool stop_ = false;
  Status error_;
  std::thread thread_;
};

// ------------------------------------------------------------ renderer --

// Where a page image comes from: the preview `acervo run` wrote beside the
// PDF (previews/<document file>/<page stem>.jpg, the page image reduced),
// else the PDF page itself.
struct PageSource {
  std::string pdf;
  int pdf_page = 0;          // 1-based
  std::string preview;       // path of the run's preview ("" when unknown)
  int image_width = 0;       // the page image's size (word boxes), 0 = unknown
  int image_height = 0;
};
// The PageSource of a stored page of a document.
PageSource SourceOf(const DocumentRecord& d, const PageRecord& p);

// Page images for the browser, `width` pixels wide, JPEG: the run's
// preview when it exists and has the page image's proportions (served as
// is, or reduced for thumbnails), else the PDF page rendered by poppler.
// Either way the picture is the PDF's page image, so highlight boxes
// stored in page-image pixels map onto it by proportion. Results are kept
// in an LRU cache of `cache_bytes`.
class PageRenderer {
 public:
  explicit PageRenderer(size_t cache_bytes) : cache_bytes_(cache_bytes) {}
  // NotFound when the file or page is missing, Corrupt when it does not parse.
  Result<std::shared_ptr<const std::string>> Render(const PageSource& page, int width);

 private:
  std::mutex mu_;
  size_t cache_bytes_, used_ = 0;
  std::list<std::pair<std::string, std::shared_ptr<const std::string>>> lru_;
  std::unordered_map<std::string, decltype(lru_)::iterator> index_;

  Result<std::shared_ptr<const std::string>> FromPdf(const PageSource& page, int width);
  void Keep(const std::string& key, const std::shared_ptr<const std::string>& bytes);
};

// A store connection per concurrent request (each Store serialises its own
// calls): opened on demand, kept for reuse, at most `max_out` out at once
// (Take waits for a Give). Requests beyond what the cores can run only
// interleave: with a connection each, every connection's page cache sees a
// slice of the traffic and misses (on the 1M-page store, 20 connections
// read 330 pages a search from the OS, 4 read 60), and the working sets
// of all of them compete for the CPU caches (docs/benchmarks.md, issue 13).
class StorePool {
 public:
  StorePool(std::string spec, int max_out) : spec_(std::move(spec)), max_out_(std::max(1, max_out)) {}
  Result<std::unique_ptr<Store>> Take();
  void Give(std::unique_ptr<Store> store);

 private:
  std::string spec_;
  const int max_out_;
  std::mutex mu_;
  std::condition_variable cv_;
  int out_ = 0;
  std::vector<std::unique_ptr<Store>> free_;
};

class RequestServices {
 public:
  RequestServices(const ServerOptions& options, AuditLog* audit, PageRenderer* renderer)
      : options_(options), audit_(audit), renderer_(renderer) {}
  const ServerOptions& options() const { return options_; }
  AuditLog& audit() { return *audit_; }
  PageRenderer& renderer() { return *renderer_; }
  // Where a stored (output-root-relative) path is on this machine
  // (StoredPaths, open_store.h); the lots' folders are read again when a
  // lot is new since the last read.
  std::filesystem::path ResolvePath(Store& store, const std::string& lot_id, const std::string& stored);
  // Call after changing a user (name) or grants (""): caches are dropped;
  // `end_sessions` also signs the user out everywhere.
  std::function<void(const std::string& name, bool end_sessions)> on_user_changed;

 private:
  const ServerOptions& options_;
  AuditLog* audit_;
  PageRenderer* renderer_;
  std::mutex paths_mu_;
  std::optional<StoredPaths> paths_;
};

// ---------------------------------------------------------------- text --

// Html() and UrlEncode() are page_kit.h's (Html is core/text.h's XmlText).
std::string UrlDecode(std::string_view text, bool plus_is_space);
// JSON-safe UTF-8 (invalid bytes become U+FFFD) for nlohmann::json:
// core/text.h's.
using ::acervo::ValidUtf8;

// LGPD minimisation: CPF and CNPJ numbers in `text` shown the usual
// masked way — CPF 123.456.789-09 -> ***.456.789-**, CNPJ
// 12.345.678/0001-95 -> **.345.678/****-**; the same digits without
// punctuation (11 or 14 digits standing alone) when their check digits are
// those of a CPF / CNPJ.
std::string MaskPersonalNumbers(std::string_view text);
// False when `text` cannot hold a number MaskPersonalNumbers masks (fewer
// than the 11 digits of a CPF, the shortest): such a text is shown as it
// is, not searched (most of a search answer's strings).
bool MayHoldPersonalNumber(std::string_view text);

// The interface's messages, by key, in the language asked (pt-BR default).
const char* T(Lang lang, std::string_view key);

// ------------------------------------------------------------- layout --

// The 1-based position in a parser's message ("... at position 7"), or 0.
int ErrorPosition(const std::string& message);

// ------------------------------------------------------- shared by pages --

// A SearchRequest from the parameters of /search and /api/v1/search: q,
// lot, type, field (NAME=VALUE, repeatable), from, to, sort
// (relevance|newest|oldest), page (1-based) or offset, with the user's lot
// restriction. InvalidArgument for a bad parameter (the message names it).
Result<SearchRequest> SearchFromParams(const RouteContext& ctx, int page_size);
// A personal number as this user may see it (masked for readers).
std::string ForUser(const RouteContext& ctx, std::string_view text);
// Whether ForUser(ctx, text) is `text` itself, known without masking: the
// user sees personal numbers, or the text cannot hold one.
bool SeesAsStored(const RouteContext& ctx, std::string_view text);
// A snippet with its « » hit marks as <mark>, escaped (and masked).
std::string SnippetHtml(const RouteContext& ctx, std::string_view snippet);
// The document a route names ({lot}, {doc}) when this user may open it;
// nullopt after auditing a denial (the caller answers 404: a document of a
// lot not granted does not exist for this user).
Result<std::optional<DocumentRecord>> OpenDocument(RouteContext& ctx);

// What query `q` matched in document `d` (SearchHit::matches of `d`
// searched alone with the user's lot restriction, forgiving variants
// included): the words to mark on each page (acervo/indexer/highlight.h).
// Empty when q has no text, does not match `d`, or is malformed.
std::vector<TermMatch> DocumentMatches(RouteContext& ctx, const DocumentRecord& d, const std::string& q);

// A new API token of the signed-in user, "acv_<id>_<secret>" (audited).
Result<std::string> CreateApiToken(RouteContext& ctx, const std::string& label);
// One CSV field (RFC 4180), spreadsheet formulas defused.
std::string CsvField(const std::string& value);

// `j` as `j.dump(-1, ' ', false, replace)` writes it, byte for byte (the
// API's answers), written directly: strings that need no escape (valid
// UTF-8 without control characters, quotes or backslashes: nearly every
// one) are copied whole, where nlohmann's serializer decodes and copies
// every byte (a tenth of a search's instructions). Any other string, and
// every number, goes through nlohmann's own serializer.
std::string DumpJson(const nlohmann::json& j);

// The built-in modules (each in its own file).
std::shared_ptr<PageModule> NewAccountPages();
std::shared_ptr<PageModule> NewSearchPages();
std::shared_ptr<PageModule> NewDocumentPages();
std::shared_ptr<PageModule> NewLotPages();
std::shared_ptr<PageModule> NewAdminPages();
std::shared_ptr<PageModule> NewApi();

// Served assets: name ("style.css") -> bytes and type; nullptr if unknown.
struct Asset {
  std::string_view bytes;
  const char* type;
};
const Asset* FindAsset(std::string_view name);

}  // namespace acervo::web

#endif  // ACERVO_WEB_SRC_INTERNAL_H_
