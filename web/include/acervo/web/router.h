// The route-registration seam of `acervo serve`: every page and API route
// is a Handler registered on a Router by a PageModule, with the access it
// needs. The server (server.h) authenticates the request, checks the role
// and, for every POST, the CSRF token before a handler runs, and gives the
// handler a RouteContext: the signed-in user, the lots they may open, a
// store connection, the audit trail and the interface language. Modules
// never see HTTP library types, never run SQL (they call indexer/), and
// return an HttpResponse.
//
// Built-in modules: search, documents, lots, admin, account, API
// (web/src/*_pages.cc, api.cc). Issue 14's review queue plugs in as one
// more module: ServerOptions::extra_modules.
//
// Thread-safety: routes are registered before the server starts and read
// concurrently afterwards; a RouteContext belongs to one request.
#ifndef ACERVO_WEB_ROUTER_H_
#define ACERVO_WEB_ROUTER_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acervo/indexer/access_store.h"
#include "acervo/indexer/store.h"

namespace acervo::web {

// Interface languages: Brazilian Portuguese (default) and English.
enum class Lang { kPt, kEn };

// A file of a multipart/form-data POST (issue 14: a page image uploaded
// for a replacement). `filename` is what the client sent: never a path to
// open or write.
struct UploadedFile {
  std::string field;         // the form field's name
  std::string filename;      // as sent (untrusted)
  std::string content_type;  // as sent (untrusted)
  std::string content;
};

struct HttpRequest {
  std::string method;                 // GET, POST
  std::string path;                   // as sent, without the query string
  std::vector<std::string> segments;  // path segments, each percent-decoded
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::multimap<std::string, std::string> form;   // decoded form fields (POST: urlencoded, or multipart fields without a file name)
  std::vector<UploadedFile> files;                // the files of a multipart/form-data POST
  std::map<std::string, std::string> headers;     // names lower-case
  std::string body;
  std::string remote_addr;
  bool tls = false;

  // The first value of a query parameter / form field / header, or "".
  std::string Query(const std::string& name) const;
  std::string Form(const std::string& name) const;
  std::string Header(const std::string& lower_name) const;
  std::vector<std::string> QueryAll(const std::string& name) const;
  // The first file sent in form field `field`, or nullptr.
  const UploadedFile* File(const std::string& field) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is this file, streamed (PDF downloads); `body` unused.
  std::filesystem::path file;
  // When set, the response is sent in two parts (chunked): `body` at once,
  // then what `tail` returns, computed after the body has left, with a
  // store connection of the pool (the handler's own is given back by then).
  // A slow part of a page (the search page's facet counts) thus never
  // holds back its first render; the page is still one HTML document, so
  // it needs no script. `tail` must own what it uses (copies, not
  // references into the request).
  std::function<std::string(Store&)> tail;

  static HttpResponse Html(std::string body, int status = 200);
  static HttpResponse Json(std::string json, int status = 200);
  static HttpResponse Redirect(const std::string& location);  // 303 See Other
};

// The user a request runs as.
struct Principal {
  UserRecord user;
  bool all_lots = false;                  // admins
  std::vector<std::string> allowed_lots;  // sorted; when !all_lots
  bool via_token = false;                 // API token (no cookie, no CSRF)
  std::string session_csrf;               // the session's CSRF token ("" for tokens)

  bool MayOpenLot(const std::string& lot_id) const;
  // CPF/CNPJ shown in full: operators, admins, and users granted full view.
  bool SeesPersonalNumbers() const { return user.full_view || user.role != Role::kReader; }
};

class RequestServices;  // server-side services a handler may use (server.cc)

// What a handler gets. The store is a connection of the server's pool,
// held for this request only.
class RouteContext {
 public:
  RouteContext(const HttpRequest& req, const Principal* user, Lang lang, Store* store, RequestServices* services,
               const std::string* csrf)
      : req_(req), user_(user), lang_(lang), store_(store), services_(services), csrf_(csrf) {}

  const HttpRequest& req() const { return req_; }
  const Principal* user() const { return user_; }  // nullptr: not signed in (public routes)
  Lang lang() const { return lang_; }
  Store& store() { return *store_; }
  RequestServices& services() { return *services_; }
  // The CSRF token to put in this response's forms ("" when none).
  const std::string& csrf() const { return *csrf_; }

  // Appends to the audit trail as this user from this address, and returns
  // only once the row is committed (the audit writer's group commit: rows
  // of concurrent requests share one transaction), so a response is never
  // sent for an action whose row could still be lost to a crash. With
  // `wait` false (reads: searches, views; issue 13), the row is queued and
  // waited for by FinishAudit, which the server calls after the handler,
  // once the request's store connection is free for another request, and
  // before anything is sent.
  // When the row cannot be written, audit_status() (after FinishAudit) says
  // why and the server answers 503 instead of the handler's response
  // (nothing is shown that the trail has not recorded).
  void Audit(const std::string& action, const std::string& target, const std::string& detail, bool wait = true);
  const Status& audit_status() const { return audit_status_; }
  // Waits for the rows Audit queued without waiting; audit_status().
  const Status& FinishAudit();

  // A search request with this user's lot restriction applied.
  void RestrictToAllowedLots(SearchRequest* request) const;

  // A {name} capture of the matched route ("" when absent).
  const std::string& Capture(const std::string& name) const;
  std::map<std::string, std::string>& captures() { return captures_; }

 private:
  std::map<std::string, std::string> captures_;
  const HttpRequest& req_;
  const Principal* user_;
  Lang lang_;
  Store* store_;
  RequestServices* services_;
  const std::string* csrf_;
  Status audit_status_;
  uint64_t audit_ticket_ = 0;  // the last row queued without waiting (AuditLog::Enqueue)
};

using Handler = std::function<HttpResponse(RouteContext&)>;

// Who may call a route. kSignedIn and above: an anonymous browser is sent
// to the login page, an API client gets 401; a user without the role gets
// 403 (audited).
enum class Access { kPublic, kSignedIn, kOperator, kAdmin };

class Router {
 public:
  // A GET route. `pattern` is "/literal/{name}/..." : literal segments and
  // {name} captures of one whole segment each (percent-decoded, so ids may
  // hold '/' as %2F); a final "{name...}" takes the rest. Captures are read
  // with Capture().
  void Get(const std::string& pattern, Access access, Handler handler);
  // A POST route: a literal path (ids travel in the form), CSRF-checked
  // unless the request authenticated with an API token. Its body is
  // bounded by ServerOptions::max_body_bytes.
  void Post(const std::string& path, Access access, Handler handler);
  // A POST route that takes an upload (multipart/form-data, up to
  // ServerOptions::max_upload_bytes): a pattern as for Get. The larger
  // limit is given only to a signed-in user with `access` who may open the
  // route's {lot} capture (when it has one), decided from the headers
  // before the body is read; anybody else keeps max_body_bytes (413 above
  // it). CSRF-checked as Post (the token travels as the form field _csrf
  // or the X-CSRF-Token header).
  void Upload(const std::string& pattern, Access access, Handler handler);

  struct Route {
    std::string method;
    std::vector<std::string> parts;  // pattern segments
    Access access;
    Handler handler;
    bool upload = false;  // Upload(): may take max_upload_bytes
  };
  // The route for a request and its captures, or nullptr.
  const Route* Match(const std::string& method, const std::vector<std::string>& segments,
                     std::map<std::string, std::string>* captures) const;
  std::vector<std::string> PostPaths() const;

 private:
  std::vector<Route> routes_;
};

// A set of pages and API routes.
class PageModule {
 public:
  virtual ~PageModule() = default;
  virtual void Register(Router& router) = 0;
};

}  // namespace acervo::web

#endif  // ACERVO_WEB_ROUTER_H_
