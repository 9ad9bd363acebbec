// `acervo serve` on cpp-httplib: request plumbing, sessions, CSRF, login
// throttling, role and lot checks, audit writer and store pool. Pages live
// in the modules (*_pages.cc, api.cc); nothing here renders content but
// the login page.
#include "acervo/web/server.h"

#include "acervo/web/identity.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "acervo/core/clock.h"
#include "acervo/core/files.h"
#include "acervo/core/personal_numbers.h"
#include "acervo/indexer/open_store.h"
#include "client_certificate.h"
#include "internal.h"

namespace acervo::web {

// ---------------------------------------------------------- plumbing --

std::string HttpRequest::Query(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}
std::string HttpRequest::Form(const std::string& name) const {
  auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}
std::string HttpRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}
const UploadedFile* HttpRequest::File(const std::string& field) const {
  for (const UploadedFile& f : files) {
    if (f.field == field) return &f;
  }
  return nullptr;
}
std::vector<std::string> HttpRequest::QueryAll(const std::string& name) const {
  std::vector<std::string> out;
  auto [a, b] = query.equal_range(name);
  for (auto it = a; it != b; ++it) out.push_back(it->second);
  return out;
}

HttpResponse HttpResponse::Html(std::string body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
HttpResponse HttpResponse::Json(std::string json, int status) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = std::move(json);
  return r;
}
HttpResponse HttpResponse::Redirect(const std::string& location) {
  HttpResponse r;
  r.status = 303;
  r.headers.emplace_back("Location", location);
  return r;
}

bool Principal::MayOpenLot(const std::string& lot_id) const {
  return all_lots || std::binary_search(allowed_lots.begin(), allowed_lots.end(), lot_id);
}

void RouteContext::Audit(const std::string& action, const std::string& target, const std::string& detail,
                         bool wait) {
  AuditEntry e;
  e.user = user_ ? user_->user.name : "";
  e.address = req_.remote_addr;
  e.action = action;
  e.target = target;
  e.detail = detail.size() > 2000 ? detail.substr(0, 2000) + "…" : detail;
  if (!wait) {
    if (std::optional<uint64_t> ticket = services_->audit().Enqueue(e)) {
      audit_ticket_ = std::max(audit_ticket_, *ticket);  // rows commit in ticket order
      return;
    }
  }
  Status st = services_->audit().Record(std::move(e), /*wait=*/true);
  if (!st.ok() && audit_status_.ok()) audit_status_ = std::move(st);
}

const Status& RouteContext::FinishAudit() {
  if (audit_ticket_ != 0) {
    Status st = services_->audit().Wait(audit_ticket_);
    audit_ticket_ = 0;
    if (!st.ok() && audit_status_.ok()) audit_status_ = std::move(st);
  }
  return audit_status_;
}

std::filesystem::path RequestServices::ResolvePath(Store& store, const std::string& lot_id,
                                                  const std::string& stored) {
  std::lock_guard<std::mutex> lock(paths_mu_);
  if (!paths_ || !paths_->KnowsLot(lot_id)) paths_ = StoredPaths::ForStore(options_.store, store);
  return paths_->Resolve(lot_id, stored);
}

void RouteContext::RestrictToAllowedLots(SearchRequest* request) const {
  if (user_ == nullptr) {
    request->allowed_lots = std::vector<std::string>{};
  } else if (!user_->all_lots) {
    request->allowed_lots = user_->allowed_lots;
  }
}

const std::string& RouteContext::Capture(const std::string& name) const {
  static const std::string kEmpty;
  auto it = captures_.find(name);
  return it == captures_.end() ? kEmpty : it->second;
}

namespace {

std::vector<std::string> SplitPattern(const std::string& pattern) {
  std::vector<std::string> parts;
  size_t i = 1;
  while (i <= pattern.size()) {
    size_t j = pattern.find('/', i);
    if (j == std::string::npos) j = pattern.size();
    if (j > i) parts.push_back(pattern.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

}  // namespace

void Router::Get(const std::string& pattern, Access access, Handler handler) {
  routes_.push_back({"GET", SplitPattern(pattern), access, std::move(handler)});
}

void Router::Post(const std::string& path, Access access, Handler handler) {
  routes_.push_back({"POST", SplitPattern(path), access, std::move(handler)});
}

void Router::Upload(const std::string& pattern, Access access, Handler handler) {
  routes_.push_back({"POST", SplitPattern(pattern), access, std::move(handler), /*upload=*/true});
}

const Router::Route* Router::Match(const std::string& method, const std::vector<std::string>& segments,
                                   std::map<std::string, std::string>* captures) const {
  for (const Route& r : routes_) {
    if (r.method != method) continue;
    captures->clear();
    bool ok = true;
    size_t i = 0;
    for (; i < r.parts.size() && ok; ++i) {
      const std::string& p = r.parts[i];
      const bool capture = p.size() > 2 && p.front() == '{' && p.back() == '}';
      if (capture && p.size() > 5 && p.compare(p.size() - 4, 4, "...}") == 0) {
        std::string rest;
        for (size_t k = i; k < segments.size(); ++k) rest += (k > i ? "/" : "") + segments[k];
        if (rest.empty()) ok = false;
        (*captures)[p.substr(1, p.size() - 5)] = rest;
        i = r.parts.size();
        break;
      }
      if (i >= segments.size()) {
        ok = false;
      } else if (capture) {
        if (segments[i].empty()) ok = false;
        (*captures)[p.substr(1, p.size() - 2)] = segments[i];
      } else if (p != segments[i]) {
        ok = false;
      }
    }
    const bool rest_capture = !r.parts.empty() && r.parts.back().size() > 5 &&
                              r.parts.back().compare(r.parts.back().size() - 4, 4, "...}") == 0;
    if (ok && (rest_capture || segments.size() == r.parts.size())) return &r;
  }
  captures->clear();
  return nullptr;
}

// ------------------------------------------------------------- audit --

AuditLog::AuditLog(std::unique_ptr<Store> store) : store_(std::move(store)) {
  thread_ = std::thread([this] { Run(); });
}

AuditLog::~AuditLog() { Stop(); }

Status AuditLog::Record(AuditEntry entry, bool wait) {
  const std::optional<uint64_t> mine = Enqueue(entry);
  // Stopped: write it now, on this thread.
  if (!mine) return store_->Access().AppendAudit({entry}).status();
  return wait ? Wait(*mine) : Status::OK();
}

std::optional<uint64_t> AuditLog::Enqueue(AuditEntry& entry) {
  if (entry.at.empty()) entry.at = UtcNowIso8601Millis();  // the event's time, not the flush's
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_ && !thread_.joinable()) return std::nullopt;
  queue_.push_back(std::move(entry));
  const uint64_t mine = ++queued_;
  cv_.notify_one();
  return mine;
}

Status AuditLog::Wait(uint64_t mine) {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return written_ >= mine || (stop_ && !thread_.joinable()); });
  if (written_ < mine) return Status::Unavailable("audit trail: the server stopped before the row was written");
  for (const auto& [first, last] : failed_) {
    if (mine > first && mine <= last) return error_;
  }
  return Status::OK();
}

void AuditLog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stop_) return;
      continue;
    }
    std::vector<AuditEntry> batch;
    batch.swap(queue_);
    const uint64_t from = written_, upto = queued_;
    lock.unlock();
    Result<std::vector<AuditRow>> r = store_->Access().AppendAudit(batch);
    if (!r.ok()) std::fprintf(stderr, "acervo serve: audit trail: %s\n", r.status().ToString().c_str());
    lock.lock();
    if (!r.ok()) {
      error_ = r.status();
      failed_.emplace_back(from, upto);
      if (failed_.size() > 256) failed_.pop_front();  // waiters read theirs right after the notify
    }
    written_ = upto;
    done_cv_.notify_all();
    // Group commit without a pause: the rows queued while this batch was
    // written (their requests waiting) make the next batch.
  }
}

void AuditLog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  done_cv_.notify_all();
}

Status AuditLog::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

// ------------------------------------------------------------- stores --

Result<std::unique_ptr<Store>> StorePool::Take() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return out_ < max_out_; });
    ++out_;
    if (!free_.empty()) {
      std::unique_ptr<Store> s = std::move(free_.back());
      free_.pop_back();
      return s;
    }
  }
  Result<std::unique_ptr<Store>> opened = OpenStore(spec_, /*create_if_missing=*/false);
  if (!opened.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    --out_;
    cv_.notify_one();
  }
  return opened;
}

void StorePool::Give(std::unique_ptr<Store> store) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(std::move(store));
  --out_;
  cv_.notify_one();
}

namespace {

using Clock = std::chrono::steady_clock;

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ------------------------------------------------------------ sessions --

struct Session {
  std::string user;  // "" for the anonymous session of the login form
  std::string csrf;
  Clock::time_point created, last_seen;
};

class SessionTable {
 public:
  explicit SessionTable(std::chrono::seconds idle) : idle_(idle) {}

  std::string Create(const std::string& user, std::string* csrf) {
    std::lock_guard<std::mutex> lock(mu_);
    Sweep();
    std::string id = RandomHex(32);
    Session s{user, RandomHex(32), Clock::now(), Clock::now()};
    *csrf = s.csrf;
    sessions_[id] = s;
    return id;
  }
  // The live session (touched), or nullopt (unknown, idle too long, or
  // older than 12 hours).
  std::optional<Session> Find(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return std::nullopt;
    const Clock::time_point now = Clock::now();
    if (now - it->second.last_seen > idle_ || now - it->second.created > std::chrono::hours(12)) {
      sessions_.erase(it);
      return std::nullopt;
    }
    it->second.last_seen = now;
    return it->second;
  }
  void Erase(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(id);
  }
  // Ends every session of a user (disabled, password changed).
  void EraseUser(const std::string& user) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      it = it->second.user == user ? sessions_.erase(it) : std::next(it);
    }
  }

 private:
  void Sweep() {
    if (++creates_ % 256 != 0) return;
    const Clock::time_point now = Clock::now();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      it = now - it->second.last_seen > idle_ ? sessions_.erase(it) : std::next(it);
    }
  }
  std::mutex mu_;
  std::chrono::seconds idle_;
  std::unordered_map<std::string, Session> sessions_;
  uint64_t creates_ = 0;
};

// Failed logins per key (an account, an address) within a sliding window.
class Throttle {
 public:
  Throttle(int max, std::chrono::seconds window) : max_(max), window_(window) {}
  bool Blocked(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return Count(key) >= static_cast<size_t>(max_);
  }
  void Fail(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    Count(key);
    failures_[key].push_back(Clock::now());
  }
  void Clear(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.erase(key);
  }

 private:
  size_t Count(const std::string& key) {
    auto it = failures_.find(key);
    if (it == failures_.end()) return 0;
    const Clock::time_point cut = Clock::now() - window_;
    while (!it->second.empty() && it->second.front() < cut) it->second.pop_front();
    if (it->second.empty()) {
      failures_.erase(it);
      return 0;
    }
    return it->second.size();
  }
  std::mutex mu_;
  int max_;
  std::chrono::seconds window_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> failures_;
};

std::map<std::string, std::string> ParseCookies(const std::string& header) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < header.size()) {
    size_t end = header.find(';', i);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(i, end - i);
    i = end + 1;
    const size_t eq = part.find('=');
    if (eq == std::string::npos) continue;
    std::string name = part.substr(0, eq), value = part.substr(eq + 1);
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    out[name] = value;
  }
  return out;
}

void ParseQueryString(std::string_view qs, std::multimap<std::string, std::string>* out) {
  size_t i = 0;
  while (i < qs.size()) {
    size_t end = qs.find('&', i);
    if (end == std::string::npos) end = qs.size();
    std::string_view part = qs.substr(i, end - i);
    i = end + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::string name = UrlDecode(part.substr(0, eq), true);
    std::string value = eq == std::string::npos ? std::string() : UrlDecode(part.substr(eq + 1), true);
    out->emplace(std::move(name), std::move(value));
  }
}

Lang PickLang(const HttpRequest& req, const std::map<std::string, std::string>& cookies) {
  std::string l = req.Query("lang");
  if (l.empty()) {
    auto it = cookies.find("acervo_lang");
    if (it != cookies.end()) l = it->second;
  }
  if (l == "en") return Lang::kEn;
  if (l == "pt" || l == "pt-BR") return Lang::kPt;
  const std::string accept = req.Header("accept-language");
  if (accept.rfind("en", 0) == 0) return Lang::kEn;
  return Lang::kPt;
}

// The login page (the one page the server renders itself: it needs the
// session table).
std::string LoginPage(Lang lang, const std::string& csrf, const std::string& next, const std::string& error,
                      bool certificate) {
  std::string body;
  body += "<main class=\"login\"><h1>" + Html(T(lang, "login_title")) + "</h1>";
  if (!error.empty()) body += "<p class=\"error\" role=\"alert\">" + Html(error) + "</p>";
  body += "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"_csrf\" value=\"" + Html(csrf) +
          "\"><input type=\"hidden\" name=\"next\" value=\"" + Html(next) + "\">";
  body += "<label>" + Html(T(lang, "user")) +
          " <input name=\"user\" id=\"user\" autocomplete=\"username\" required autofocus></label>";
  body += "<label>" + Html(T(lang, "password")) +
          " <input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\" "
          "required></label>";
  body += "<button type=\"submit\">" + Html(T(lang, "login")) + "</button></form>";
  if (certificate) {  // issue 19: the certificate the browser presented at the TLS handshake
    body += "<form method=\"post\" action=\"/login/certificate\" class=\"certificate\"><input type=\"hidden\" "
            "name=\"_csrf\" value=\"" + Html(csrf) + "\"><input type=\"hidden\" name=\"next\" value=\"" + Html(next) +
            "\"><button type=\"submit\" id=\"login-certificate\">" + Html(T(lang, "login_certificate")) +
            "</button></form>";
  }
  body += "<p class=\"lang\"><a href=\"/login?lang=pt\" lang=\"pt-BR\">Português</a> · <a href=\"/login?lang=en\" "
          "lang=\"en\">English</a></p></main>";
  return std::string("<!doctype html><html lang=\"") + (lang == Lang::kEn ? "en" : "pt-BR") +
         "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>Acervo</title><link rel=\"stylesheet\" href=\"/assets/style.css\">"
         "<link rel=\"icon\" href=\"/assets/icon.svg\"></head><body>" +
         body + "</body></html>";
}

// A redirect target after login: a local path only.
std::string SafeNext(const std::string& next) {
  if (next.empty() || next[0] != '/' || next.rfind("//", 0) == 0 || next.find('\\') != std::string::npos ||
      next.find_first_of("\r\n") != std::string::npos) {
    return "/search";
  }
  return next;
}

// ------------------------------------------------------------- server --

constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kMaxHeaders = 100;

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(ServerOptions options)
      : options_(std::move(options)),
        pool_(options_.store, options_.store_connections > 0
                                  ? options_.store_connections
                                  : std::max(3, static_cast<int>(std::thread::hardware_concurrency()) + 1)),
        sessions_(options_.idle_timeout),
        account_throttle_(options_.max_failures_per_account, options_.failure_window),
        address_throttle_(options_.max_failures_per_address, options_.failure_window),
        renderer_(options_.render_cache_bytes) {}

  ~ServerImpl() override { Stop(); }

  Status Init() {
    if (sodium_init() < 0) return Status::Internal("libsodium cannot initialise");
    // Open (and migrate) once up front: a bad store fails here, not on the
    // first request.
    ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<Store> first, OpenStore(options_.store, /*create_if_missing=*/false));
    ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<Store> audit_store, OpenStore(options_.store, false));
    audit_ = std::make_unique<AuditLog>(std::move(audit_store));
    auth_store_ = std::move(first);
    if (options_.authenticators.empty() && !options_.identity_file.empty()) {
      ACERVO_ASSIGN_OR_RETURN(IdentityConfig identity, LoadIdentityConfig(options_.identity_file));
      ACERVO_ASSIGN_OR_RETURN(options_.authenticators, BuildAuthenticators(identity, &auth_store_->Access()));
    }
    if (options_.authenticators.empty()) {
      options_.authenticators.push_back(std::make_shared<PasswordAuthenticator>(&auth_store_->Access()));
    }
    services_ = std::make_unique<RequestServices>(options_, audit_.get(), &renderer_);
    // A change to a user or to grants takes effect at the next request;
    // a disabled user or a changed password also ends the user's sessions.
    services_->on_user_changed = [this](const std::string& name, bool end_sessions) {
      ForgetUser(name);
      if (end_sessions) sessions_.EraseUser(name);
    };
    std::vector<std::shared_ptr<PageModule>> modules = {NewAccountPages(), NewSearchPages(), NewDocumentPages(),
                                                        NewLotPages(),     NewAdminPages(),  NewApi()};
    for (const auto& m : options_.extra_modules) modules.push_back(m);
    for (const auto& m : modules) m->Register(router_);
    if (options_.tls_cert.empty() != options_.tls_key.empty()) {
      return Status::InvalidArgument("--tls-cert and --tls-key go together");
    }
    if (!options_.tls_client_ca.empty() && options_.tls_cert.empty()) {
      return Status::InvalidArgument("certificate login (--tls-client-ca) needs HTTPS (--tls-cert, --tls-key)");
    }
    if (!options_.tls_client_crl.empty() && options_.tls_client_ca.empty()) {
      return Status::InvalidArgument("--tls-client-crl goes with --tls-client-ca");
    }
    if (!options_.tls_client_ca.empty()) {
      ACERVO_ASSIGN_OR_RETURN(certificates_,
                              ClientCertificateVerifier::Create(options_.tls_client_ca, options_.tls_client_crl));
      if (options_.tls_client_crl.empty()) {
        std::fprintf(stderr, "acervo serve: warning: certificate login without a CRL file (--tls-client-crl): "
                             "revoked certificates are not refused\n");
      }
      // The library's own set-up (protocols, certificate and key), plus a
      // client certificate asked for but left to Check().
      const std::string cert = options_.tls_cert.string(), key = options_.tls_key.string();
      http_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
        SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
        SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
        return SSL_CTX_use_certificate_chain_file(&ctx, cert.c_str()) == 1 &&
               SSL_CTX_use_PrivateKey_file(&ctx, key.c_str(), SSL_FILETYPE_PEM) == 1 &&
               certificates_->SetUpContext(&ctx);
      });
      if (!http_->is_valid()) {
        return Status::InvalidArgument("cannot use the TLS certificate/key " + options_.tls_cert.string() + " / " +
                                       options_.tls_key.string() + " or the client CA bundle " +
                                       options_.tls_client_ca.string());
      }
      tls_ = true;
    } else if (!options_.tls_cert.empty()) {
      http_ = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
      if (!http_->is_valid()) {
        return Status::InvalidArgument("cannot use the TLS certificate/key " + options_.tls_cert.string() + " / " +
                                       options_.tls_key.string());
      }
      tls_ = true;
    } else {
      http_ = std::make_unique<httplib::Server>();
    }
    // A keep-alive connection holds its worker between requests: count
    // threads by connections, not by cores.
    const int workers = options_.workers > 0
                            ? options_.workers
                            : std::max(32, 8 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    http_->new_task_queue = [workers] { return new httplib::ThreadPool(static_cast<size_t>(workers)); };
    // The library's own cap is the largest body any route takes; each
    // request's own limit is applied while its body is read (ReadBody).
    http_->set_payload_max_length(std::max(options_.max_body_bytes, options_.max_upload_bytes));
    // A response goes out as two writes (head, then body); with Nagle's
    // algorithm on, the body waits for the client's delayed ACK of the head
    // (40 ms on Linux) on every keep-alive request after the first.
    http_->set_tcp_nodelay(true);
    http_->set_keep_alive_max_count(1000);
    http_->set_keep_alive_timeout(5);
    http_->set_read_timeout(10);
    http_->set_write_timeout(30);
    http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      // GET/HEAD are routed here, with no regular expression on the path;
      // requests with a body come to DispatchWithBody below, before the
      // library reads the body.
      if (req.method != "GET" && req.method != "HEAD") return httplib::Server::HandlerResponse::Unhandled;
      Dispatch(req, res, nullptr);
      return httplib::Server::HandlerResponse::Handled;
    });
    // Every request that may carry a body, whatever its path: the body is
    // read here, against its route's limit (an unknown path gets the small
    // one), never by the library into memory first.
    auto with_body = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read) {
      DispatchWithBody(req, res, read);
    };
    // A client that asks before sending a body (Expect: 100-continue; curl
    // does for large uploads) hears of a body over its limit before it
    // sends it.
    http_->set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
      const size_t limit = BodyLimit(req);
      if (req.get_header_value<uint64_t>("Content-Length") <= limit) return 100;
      RefuseBody(req, res, 413, limit);
      return 413;
    });
    http_->Post(".*", with_body);
    http_->Put(".*", with_body);
    http_->Patch(".*", with_body);
    http_->Delete(".*", with_body);
    http_->set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      const bool api = req.path.rfind("/api/", 0) == 0;
      const std::string msg = res.status == 404 ? "not found"
                              : res.status == 413 ? "request body too large"
                              : res.status == 414 ? "request URI too long"
                                                  : "bad request";
      if (api || req.method != "GET") {
        res.set_content(nlohmann::json{{"error", msg}}.dump(), "application/json; charset=utf-8");
      } else {
        res.set_content("<!doctype html><title>" + std::to_string(res.status) + "</title><p>" + Html(msg),
                        "text/html; charset=utf-8");
      }
      (void)this;
    });
    http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      res.status = 500;
      res.set_content(nlohmann::json{{"error", "internal error"}}.dump(), "application/json; charset=utf-8");
    });
    return Status::OK();
  }

  Status Start() override {
    if (options_.port == 0) {
      port_ = http_->bind_to_any_port(options_.host);
      if (port_ <= 0) return Status::IOError("cannot bind " + options_.host + " to a free port");
    } else {
      if (!http_->bind_to_port(options_.host, options_.port)) {
        return Status::IOError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                               " (in use, or not an address of this machine)");
      }
      port_ = options_.port;
    }
    listener_ = std::thread([this] { http_->listen_after_bind(); });
    return Status::OK();
  }

  int port() const override { return port_; }
  std::string url() const override {
    const bool v6 = options_.host.find(':') != std::string::npos;
    return std::string(tls_ ? "https" : "http") + "://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" +
           std::to_string(port_);
  }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    if (http_) http_->stop();
    if (listener_.joinable()) listener_.join();  // requests in flight finish first
    if (audit_) audit_->Stop();
  }

 private:
  struct Context {
    HttpRequest req;
    std::map<std::string, std::string> cookies;
    Lang lang = Lang::kPt;
    std::optional<Principal> principal;
    std::string session_id;
    std::string csrf;  // of the session, for forms
    const SSL* ssl = nullptr;  // the TLS connection (its client certificate)
  };

  // Builds our request from the library's; false for a request to refuse
  // as malformed (bad encoding in the path).
  static bool Translate(const httplib::Request& in, bool tls, HttpRequest* out) {
    out->method = in.method == "HEAD" ? "GET" : in.method;
    std::string target = in.target;
    const size_t q = target.find('?');
    out->path = target.substr(0, q);
    if (q != std::string::npos) ParseQueryString(std::string_view(target).substr(q + 1), &out->query);
    if (out->path.empty() || out->path[0] != '/') return false;
    size_t i = 1;
    while (i <= out->path.size()) {
      size_t j = out->path.find('/', i);
      if (j == std::string::npos) j = out->path.size();
      std::string seg = UrlDecode(std::string_view(out->path).substr(i, j - i), false);
      if (seg.find('\0') != std::string::npos) return false;
      if (!seg.empty() || j < out->path.size()) out->segments.push_back(std::move(seg));
      i = j + 1;
    }
    while (!out->segments.empty() && out->segments.back().empty()) out->segments.pop_back();
    for (const auto& [k, v] : in.headers) {
      std::string key = k;
      std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
      out->headers[key] = v;
    }
    out->remote_addr = in.remote_addr;
    out->tls = tls;
    return true;
  }

  // A request body as ReadBody read it.
  struct Body {
    std::string raw;                  // not multipart
    std::vector<UploadedFile> parts;  // multipart: every part, fields and files
  };
  static constexpr size_t kMaxParts = 64;

  // The body into our request: an urlencoded form's fields, a multipart
  // form's fields (parts without a file name) and files.
  static void ApplyBody(const httplib::Request& in, Body body, HttpRequest* out) {
    if (in.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
      ParseQueryString(body.raw, &out->form);
    }
    out->body = std::move(body.raw);
    for (UploadedFile& part : body.parts) {
      if (part.filename.empty()) {
        out->form.emplace(part.field, std::move(part.content));
      } else {
        out->files.push_back(std::move(part));
      }
    }
  }

  // Reads the body of `in` against `limit` bytes (of content: a multipart
  // form's framing aside) into `body`. 200: read; 413: larger — a body
  // whose Content-Length says so is read and dropped unseen, so that the
  // client gets the answer and the connection stays in step; 400:
  // malformed (a multipart form without a boundary, too many parts).
  static int ReadBody(const httplib::Request& in, const httplib::ContentReader& read, size_t limit, Body* body) {
    const bool multipart = in.is_multipart_form_data();
    if (in.get_header_value<uint64_t>("Content-Length") > limit) {
      auto drop = [](const char*, size_t) { return true; };
      if (multipart) {
        read([](const httplib::MultipartFormData&) { return true; }, drop);
      } else {
        read(drop);
      }
      return 413;
    }
    size_t seen = 0;
    bool over = false;
    auto keep = [&](std::string* to, const char* data, size_t n) {
      seen += n;
      over = seen > limit;
      if (!over) to->append(data, n);
      return !over;
    };
    bool ok = false;
    if (multipart) {
      ok = read(
          [&](const httplib::MultipartFormData& part) {
            if (body->parts.size() >= kMaxParts) return false;
            body->parts.push_back({part.name, part.filename, part.content_type, {}});
            return true;
          },
          [&](const char* data, size_t n) { return !body->parts.empty() && keep(&body->parts.back().content, data, n); });
    } else {
      ok = read([&](const char* data, size_t n) { return keep(&body->raw, data, n); });
    }
    return over ? 413 : ok ? 200 : 400;
  }

  // The body limit of a request, from its headers (before its body is
  // read): max_upload_bytes for an upload route (Router::Upload) asked by a
  // signed-in user with the route's access who may open its {lot};
  // max_body_bytes for anything else.
  size_t BodyLimit(const httplib::Request& in) {
    Context c;
    std::map<std::string, std::string> captures;
    const Router::Route* route = nullptr;
    if (Translate(in, tls_, &c.req)) route = router_.Match(c.req.method, c.req.segments, &captures);
    if (route == nullptr || !route->upload) return options_.max_body_bytes;
    c.cookies = ParseCookies(c.req.Header("cookie"));
    if (!Identify(c) || !c.principal || !HasRole(*c.principal, route->access)) return options_.max_body_bytes;
    auto lot = captures.find("lot");
    if (lot != captures.end() && !c.principal->MayOpenLot(lot->second)) return options_.max_body_bytes;
    return std::max(options_.max_body_bytes, options_.max_upload_bytes);
  }

  static Role RoleFor(Access access) {
    return access == Access::kAdmin ? Role::kAdmin : access == Access::kOperator ? Role::kOperator : Role::kReader;
  }
  static bool HasRole(const Principal& who, Access access) {
    return static_cast<int>(who.user.role) >= static_cast<int>(RoleFor(access));
  }

  // Who is asking: an API token (Authorization header) or the session
  // cookie, into c.principal (and c.session_id, c.csrf). false: a token
  // was sent and is not valid.
  bool Identify(Context& c) {
    const std::string authz = c.req.Header("authorization");
    if (!authz.empty()) {
      bool bad_token = false;
      c.principal = FromToken(authz, &bad_token);
      return !bad_token;
    }
    auto it = c.cookies.find("acervo_session");
    if (it == c.cookies.end()) return true;
    std::optional<Session> s = sessions_.Find(it->second);
    if (!s) return true;
    c.session_id = it->second;
    c.csrf = s->csrf;
    if (s->user.empty()) return true;
    c.principal = PrincipalFor(s->user);
    if (c.principal) {
      c.principal->session_csrf = s->csrf;
    } else {
      sessions_.Erase(it->second);  // user disabled or removed
      c.session_id.clear();
      c.csrf.clear();
    }
    return true;
  }

  // A request that may carry a body (POST, PUT, PATCH, DELETE): the body
  // read against the request's limit (BodyLimit), then Dispatch. Over the
  // limit: 413 (audited), and the handler never runs.
  void DispatchWithBody(const httplib::Request& in, httplib::Response& res, const httplib::ContentReader& read) {
    const size_t limit = BodyLimit(in);
    Body body;
    const int status = ReadBody(in, read, limit, &body);
    if (status == 200) {
      Dispatch(in, res, &body);
      return;
    }
    RefuseBody(in, res, status, limit);
  }

  // Answers a request whose body is refused: 400 (malformed) or 413 (over
  // `limit`, audited), as a page or as JSON for the API.
  void RefuseBody(const httplib::Request& in, httplib::Response& res, int status, size_t limit) {
    Context c;
    if (Translate(in, tls_, &c.req)) {
      c.cookies = ParseCookies(c.req.Header("cookie"));
      c.lang = PickLang(c.req, c.cookies);
      if (!Identify(c)) c.principal.reset();
    }
    const Principal* who = c.principal ? &*c.principal : nullptr;
    RouteContext bare(c.req, who, c.lang, nullptr, services_.get(), &c.csrf);
    const bool api = in.path.rfind("/api/", 0) == 0;
    if (status == 400) {
      Send(c, api ? JsonError(400, "malformed request body") : ErrorPage(bare, 400, T(c.lang, "err_bad_request")), in,
           res);
      return;
    }
    const std::string mib = FormatMib(limit);
    bare.Audit("denied", in.path, "request body over the limit of " + mib + " for this request", true);
    HttpResponse r = api ? JsonError(413, "request body too large: at most " + mib + " here")
                         : ErrorPage(bare, 413, std::string(T(c.lang, "err_too_large")) + " " + mib + ".");
    // A body cut short (chunked, over the limit) leaves the connection out of step.
    r.headers.emplace_back("Connection", "close");
    Send(c, std::move(r), in, res);
  }

  static std::string FormatMib(size_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g MiB", static_cast<double>(bytes) / (1 << 20));
    return buf;
  }

  // The API token of an "Authorization: Bearer acv_<id>_<secret>" header,
  // checked: the principal, or nullopt (and *bad when a token was given but
  // is not valid).
  std::optional<Principal> FromToken(const std::string& header, bool* bad) {
    const std::string prefix = "Bearer acv_";
    if (header.rfind(prefix, 0) != 0) {
      *bad = !header.empty();
      return std::nullopt;
    }
    const std::string rest = header.substr(prefix.size());
    const size_t us = rest.find('_');
    *bad = true;
    if (us == std::string::npos || us == 0 || us > 64) return std::nullopt;
    const std::string id = rest.substr(0, us), secret = rest.substr(us + 1);
    const std::string secret_hash =
        Sha256Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()));
    std::optional<ApiTokenRecord> token;
    {
      std::lock_guard<std::mutex> lock(cache_mu_);
      auto it = token_cache_.find(id);
      if (it != token_cache_.end() && Clock::now() - it->second.first < std::chrono::seconds(10)) {
        token = it->second.second;
      }
    }
    if (!token) {
      std::lock_guard<std::mutex> lock(auth_mu_);
      Result<std::optional<ApiTokenRecord>> t = auth_store_->Access().GetApiToken(id);
      if (!t.ok() || !t->has_value()) return std::nullopt;
      token = **t;
      std::lock_guard<std::mutex> cl(cache_mu_);
      token_cache_[id] = {Clock::now(), *token};
    }
    if (token->revoked || !ConstantTimeEquals(token->secret_sha256, secret_hash)) return std::nullopt;
    std::optional<Principal> p = PrincipalFor(token->user);
    if (!p) return std::nullopt;
    p->via_token = true;
    *bad = false;
    return p;
  }

  // The principal of a user name: role, groups and lots (cached 5 s so a
  // burst of requests does not read them each time; a change made through
  // the admin page clears the cache).
  std::optional<Principal> PrincipalFor(const std::string& name) {
    {
      std::lock_guard<std::mutex> lock(cache_mu_);
      auto it = principal_cache_.find(name);
      if (it != principal_cache_.end() && Clock::now() - it->second.first < std::chrono::seconds(5)) {
        return it->second.second;
      }
    }
    std::lock_guard<std::mutex> lock(auth_mu_);
    Result<std::optional<UserRecord>> u = auth_store_->Access().GetUser(name);
    if (!u.ok() || !u->has_value() || (**u).disabled) return std::nullopt;
    Principal p;
    p.user = **u;
    p.all_lots = p.user.role == Role::kAdmin;
    if (!p.all_lots) {
      Result<std::vector<std::string>> lots = auth_store_->Access().LotsForGroups(p.user.groups);
      if (!lots.ok()) return std::nullopt;
      p.allowed_lots = std::move(lots).value();
    }
    std::lock_guard<std::mutex> cl(cache_mu_);
    principal_cache_[name] = {Clock::now(), p};
    return p;
  }

  void ForgetUser(const std::string& name) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (name.empty()) {
      principal_cache_.clear();  // grants changed: everybody's lots
    } else {
      principal_cache_.erase(name);
    }
    token_cache_.clear();
  }

  std::string CookieHeader(const std::string& name, const std::string& value, bool http_only, int max_age = -1) {
    std::string c = name + "=" + value + "; Path=/; SameSite=Strict";
    if (http_only) c += "; HttpOnly";
    if (tls_ || options_.secure_cookies) c += "; Secure";
    if (max_age >= 0) c += "; Max-Age=" + std::to_string(max_age);
    return c;
  }

  void Send(const Context& c, HttpResponse r, const httplib::Request& in, httplib::Response& res) {
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k.c_str(), v);
    // No framing, no sniffing, nothing loaded from elsewhere; the pages
    // need no inline script.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                   "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Referrer-Policy", "same-origin");
    if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
    if (!c.req.Query("lang").empty()) {
      res.set_header("Set-Cookie", CookieHeader("acervo_lang", c.lang == Lang::kEn ? "en" : "pt", false, 31536000));
    }
    if (!r.file.empty()) {
      auto file = std::make_shared<std::ifstream>(r.file, std::ios::binary);
      std::error_code ec;
      const uintmax_t size = std::filesystem::file_size(r.file, ec);
      if (!*file || ec) {
        res.status = 404;
        res.set_content("not found", "text/plain");
        return;
      }
      res.set_content_provider(static_cast<size_t>(size), r.content_type,
                               [file](size_t offset, size_t length, httplib::DataSink& sink) {
                                 std::vector<char> buf(std::min<size_t>(length, 1 << 16));
                                 file->seekg(static_cast<std::streamoff>(offset));
                                 file->read(buf.data(), static_cast<std::streamsize>(buf.size()));
                                 const std::streamsize n = file->gcount();
                                 if (n <= 0) return false;
                                 sink.write(buf.data(), static_cast<size_t>(n));
                                 return true;
                               });
      return;
    }
    if (in.method == "HEAD") {
      res.set_header("Content-Type", r.content_type);
      return;
    }
    if (r.tail) {
      // Sent uncompressed: the library's gzip/brotli stream would hold the
      // first part back until the last (headless Chromium then saw nothing
      // before the end). The library picks the encoding from the request's
      // Accept-Encoding once the handler returns; the request object is the
      // library's own, not const, so dropping the header here is defined.
      const_cast<httplib::Request&>(in).headers.erase("Accept-Encoding");
      auto head = std::make_shared<std::string>(std::move(r.body));
      res.set_chunked_content_provider(
          r.content_type, [this, head, tail = std::move(r.tail)](size_t, httplib::DataSink& sink) {
            if (!sink.write(head->data(), head->size())) return false;
            std::string rest;
            Result<std::unique_ptr<Store>> store = pool_.Take();
            if (store.ok()) {
              try {
                rest = tail(**store);
              } catch (const std::exception& e) {
                std::fprintf(stderr, "acervo serve: %s\n", e.what());
              }
              pool_.Give(std::move(store).value());
            } else {
              std::fprintf(stderr, "acervo serve: store: %s\n", store.status().ToString().c_str());
            }
            if (!rest.empty() && !sink.write(rest.data(), rest.size())) return false;
            sink.done();
            return true;
          });
      return;
    }
    res.set_content(std::move(r.body), r.content_type.c_str());
  }

  // Routes a request; `body`: its body as DispatchWithBody read it
  // (nullptr for GET and HEAD).
  void Dispatch(const httplib::Request& in, httplib::Response& res, Body* body) {
    Context c;
    const bool api = in.path.rfind("/api/", 0) == 0;
    // The library bounds each header line (8 KiB); bound them all.
    size_t header_bytes = 0;
    for (const auto& [k, v] : in.headers) header_bytes += k.size() + v.size() + 4;
    if (header_bytes > kMaxHeaderBytes || in.headers.size() > kMaxHeaders) {
      Send(c, JsonError(431, "request headers too large"), in, res);
      return;
    }
    if (!Translate(in, tls_, &c.req)) {
      HttpResponse r = HttpResponse::Json(nlohmann::json{{"error", "malformed request path"}}.dump(), 400);
      Send(c, std::move(r), in, res);
      return;
    }
    if (body != nullptr) ApplyBody(in, std::move(*body), &c.req);
    c.ssl = in.ssl;
    c.cookies = ParseCookies(c.req.Header("cookie"));
    c.lang = PickLang(c.req, c.cookies);
    // A query parameter that is not UTF-8 is refused by name, before any
    // handler sees it (text is UTF-8 everywhere downstream).
    for (const auto& [name, value] : c.req.query) {
      if (ValidUtf8(name) == name && ValidUtf8(value) == value) continue;
      const std::string message = "parameter '" + ValidUtf8(name) + "' is not valid UTF-8";
      RouteContext bare(c.req, nullptr, c.lang, nullptr, services_.get(), &c.csrf);
      Send(c, api ? JsonError(400, message) : ErrorPage(bare, 400, message), in, res);
      return;
    }

    // Assets: a fixed table, never a file name.
    if (c.req.method == "GET" && c.req.segments.size() == 2 && c.req.segments[0] == "assets") {
      if (const Asset* a = FindAsset(c.req.segments[1])) {
        HttpResponse r;
        r.content_type = a->type;
        r.body = std::string(a->bytes);
        r.headers.emplace_back("Cache-Control", "public, max-age=3600");
        Send(c, std::move(r), in, res);
        return;
      }
    }
    if (c.req.method == "GET" && c.req.segments.size() == 1 && c.req.segments[0] == "favicon.ico") {
      Send(c, HttpResponse::Redirect("/assets/icon.svg"), in, res);
      return;
    }

    if (!Identify(c)) {
      AuditEntry e;
      e.address = c.req.remote_addr;
      e.action = "denied";
      e.target = c.req.path;
      e.detail = "invalid or revoked API token";
      (void)audit_->Record(std::move(e), true);  // a refusal: nothing to withhold
      HttpResponse r = JsonError(401, "invalid or revoked API token");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      Send(c, std::move(r), in, res);
      return;
    }

    if (c.req.path == "/login/certificate") {
      Send(c, HandleCertificateLogin(c), in, res);
      return;
    }
    if (c.req.path == "/login" || c.req.path == "/logout") {
      Send(c, HandleLogin(c, res), in, res);
      return;
    }
    if (c.req.method == "GET" && c.req.segments.empty()) {
      Send(c, HttpResponse::Redirect(c.principal ? "/search" : "/login"), in, res);
      return;
    }

    std::map<std::string, std::string> captures;
    const Router::Route* route = router_.Match(c.req.method, c.req.segments, &captures);
    const Principal* who = c.principal ? &*c.principal : nullptr;
    RouteContext bare(c.req, who, c.lang, nullptr, services_.get(), &c.csrf);
    if (route == nullptr) {
      Send(c, api ? JsonError(404, "not found") : ErrorPage(bare, 404, T(c.lang, "err_not_found")), in, res);
      return;
    }
    if (route->access != Access::kPublic) {
      if (who == nullptr) {
        if (api) {
          HttpResponse r = JsonError(401, "sign in or send an API token (Authorization: Bearer ...)");
          r.headers.emplace_back("WWW-Authenticate", "Bearer");
          Send(c, std::move(r), in, res);
        } else {
          std::string next = c.req.path;
          if (in.target.size() > c.req.path.size()) next = in.target;
          Send(c, HttpResponse::Redirect("/login?next=" + UrlEncode(next)), in, res);
        }
        return;
      }
      if (!HasRole(*who, route->access)) {
        bare.Audit("denied", c.req.path, std::string("needs role ") + RoleName(RoleFor(route->access)), true);
        Send(c, api ? JsonError(403, "your role may not do this") : ErrorPage(bare, 403, T(c.lang, "err_forbidden")),
             in, res);
        return;
      }
    }
    if (c.req.method == "POST" && !(who != nullptr && who->via_token)) {
      std::string token = c.req.Form("_csrf");
      if (token.empty()) token = c.req.Header("x-csrf-token");
      if (c.csrf.empty() || !ConstantTimeEquals(token, c.csrf)) {
        bare.Audit("denied", c.req.path, "missing or wrong CSRF token", true);
        Send(c, api ? JsonError(403, "missing or wrong CSRF token") : ErrorPage(bare, 403, T(c.lang, "err_csrf")),
             in, res);
        return;
      }
    }
    Result<std::unique_ptr<Store>> store = pool_.Take();
    if (!store.ok()) {
      std::fprintf(stderr, "acervo serve: store: %s\n", store.status().ToString().c_str());
      Send(c, api ? JsonError(503, "store unavailable") : ErrorPage(bare, 503, T(c.lang, "err_internal")), in, res);
      return;
    }
    RouteContext ctx(c.req, who, c.lang, store->get(), services_.get(), &c.csrf);
    ctx.captures() = std::move(captures);
    HttpResponse r;
    try {
      r = route->handler(ctx);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "acervo serve: %s %s: %s\n", c.req.method.c_str(), c.req.path.c_str(), e.what());
      r = api ? JsonError(500, "internal error") : ErrorPage(ctx, 500, T(c.lang, "err_internal"));
    }
    pool_.Give(std::move(store).value());
    // Rows queued without waiting (reads: searches, views) are waited for
    // here, with the store connection free for the next request.
    if (!ctx.FinishAudit().ok()) r = AuditUnavailable(bare, api);
    Send(c, std::move(r), in, res);
  }

  // An action the audit trail could not record is not answered (LGPD: who
  // saw what must hold for every answer sent). A change the handler made
  // stands; its own history row (document_history, in the change's
  // transaction) still names who made it. The server log has the reason.
  static HttpResponse AuditUnavailable(RouteContext& bare, bool api) {
    return api ? JsonError(503, "the audit trail could not record this request; nothing was answered (see the server log)")
               : ErrorPage(bare, 503, T(bare.lang(), "err_audit"));
  }

  HttpResponse HandleLogin(Context& c, httplib::Response&) {
    RouteContext bare(c.req, c.principal ? &*c.principal : nullptr, c.lang, nullptr, services_.get(), &c.csrf);
    if (c.req.path == "/logout") {
      if (c.req.method != "POST") return HttpResponse::Redirect("/search");
      if (c.session_id.empty() || !ConstantTimeEquals(c.req.Form("_csrf"), c.csrf)) {
        return ErrorPage(bare, 403, T(c.lang, "err_csrf"));
      }
      bare.Audit("logout", "", "", true);
      sessions_.Erase(c.session_id);
      HttpResponse r = HttpResponse::Redirect("/login");
      r.headers.emplace_back("Set-Cookie", CookieHeader("acervo_session", "", true, 0));
      return r;
    }
    const std::string next = SafeNext(c.req.method == "POST" ? c.req.Form("next") : c.req.Query("next"));
    if (c.req.method == "GET") {
      if (c.principal) return HttpResponse::Redirect(next);
      // An anonymous session carries the login form's CSRF token.
      HttpResponse r;
      std::string csrf = c.csrf;
      if (c.session_id.empty()) {
        const std::string id = sessions_.Create("", &csrf);
        r.headers.emplace_back("Set-Cookie", CookieHeader("acervo_session", id, true));
      }
      r.body = LoginPage(c.lang, csrf, next, "", certificates_ != nullptr);
      return r;
    }
    // POST /login
    if (c.session_id.empty() || !ConstantTimeEquals(c.req.Form("_csrf"), c.csrf)) {
      bare.Audit("denied", "/login", "missing or wrong CSRF token", true);
      return ErrorPage(bare, 403, T(c.lang, "err_csrf"));
    }
    const std::string user = c.req.Form("user").substr(0, 128);
    const std::string address = c.req.remote_addr;
    auto fail_page = [&](int status, const char* key) {
      HttpResponse r =
          HttpResponse::Html(LoginPage(c.lang, c.csrf, next, T(c.lang, key), certificates_ != nullptr), status);
      return r;
    };
    if (account_throttle_.Blocked("user:" + user) || address_throttle_.Blocked("addr:" + address)) {
      AuditEntry e{"", "", address, "login_throttled", user, "too many failed logins for this account or address"};
      (void)audit_->Record(e, true);  // a refusal: nothing to withhold
      HttpResponse r = fail_page(429, "login_throttled");
      r.headers.emplace_back("Retry-After", std::to_string(options_.failure_window.count()));
      return r;
    }
    Credentials cred{user, c.req.Form("password"), address, ""};
    std::optional<UserRecord> who;
    std::string method;   // the authenticator that proved the identity
    std::string reasons;  // why each one asked said no, for the audit trail
    const char* message = "login_failed";
    int status = 401;
    for (const auto& a : options_.authenticators) {
      if (!a->Accepts(cred)) continue;
      std::unique_lock<std::mutex> auth_lock(auth_mu_);
      Result<AuthResult> r = a->Authenticate(cred);
      auth_lock.unlock();
      if (r.ok() && r->ok) {
        who = r->user;
        method = a->Name();
        break;
      }
      const std::string why = a->Name() + ": " + (r.ok() ? r->reason : r.status().ToString());
      reasons += (reasons.empty() ? "" : "; ") + why;
      if (!r.ok()) {
        // The identity source cannot answer (directory down): said as such,
        // and the next ones are asked only when it allows (local fallback).
        std::fprintf(stderr, "acervo serve: login of '%s': %s\n", user.c_str(), why.c_str());
        if (a->FallbackWhenUnavailable()) continue;
        message = "login_unavailable";
        status = 503;
        break;
      }
    }
    if (!who) {
      if (status == 401) {  // a directory that is down is no guess at a password
        account_throttle_.Fail("user:" + user);
        address_throttle_.Fail("addr:" + address);
      }
      AuditEntry e{"", "", address, "login_failed", user,
                   reasons.empty() ? "no authenticator accepted the credentials" : reasons};
      (void)audit_->Record(e, true);  // a refusal: nothing to withhold
      return fail_page(status, message);
    }
    account_throttle_.Clear("user:" + user);
    return StartSession(c, who->name, method, next);
  }

  // A new session id at login (the anonymous one is dropped): a session
  // id planted before login is worth nothing after it.
  HttpResponse StartSession(const Context& c, const std::string& user, const std::string& method,
                            const std::string& next) {
    AuditEntry e{"", user, c.req.remote_addr, "login", user, method};
    if (!audit_->Record(e, true).ok()) {  // no session the trail has not seen start
      RouteContext bare(c.req, nullptr, c.lang, nullptr, services_.get(), &c.csrf);
      return AuditUnavailable(bare, false);
    }
    sessions_.Erase(c.session_id);
    std::string csrf;
    const std::string id = sessions_.Create(user, &csrf);
    HttpResponse r = HttpResponse::Redirect(next);
    r.headers.emplace_back("Set-Cookie", CookieHeader("acervo_session", id, true));
    return r;
  }

  // POST /login/certificate (issue 19): the TLS client certificate, checked
  // (client_certificate.h), logs in the user whose CPF it carries. Every
  // refusal is audited with its reason and shown on the login page. Not
  // throttled: a certificate login cannot guess anything (the TLS handshake
  // proved the private key).
  HttpResponse HandleCertificateLogin(Context& c) {
    RouteContext bare(c.req, c.principal ? &*c.principal : nullptr, c.lang, nullptr, services_.get(), &c.csrf);
    if (certificates_ == nullptr) return ErrorPage(bare, 404, T(c.lang, "err_not_found"));
    if (c.req.method != "POST") return HttpResponse::Redirect("/login");
    if (c.session_id.empty() || !ConstantTimeEquals(c.req.Form("_csrf"), c.csrf)) {
      bare.Audit("denied", "/login/certificate", "missing or wrong CSRF token", true);
      return ErrorPage(bare, 403, T(c.lang, "err_csrf"));
    }
    const std::string next = SafeNext(c.req.Form("next"));
    CertificateCheck check = certificates_->Check(c.ssl);
    std::optional<UserRecord> who;
    if (check.ok) {
      std::lock_guard<std::mutex> lock(auth_mu_);
      Result<std::optional<UserRecord>> u = auth_store_->Access().GetUserByCpf(check.cpf);
      if (!u.ok()) {
        check.reason = "store: " + u.status().ToString();
        check.kind = "invalid";
      } else if (!u->has_value()) {
        check.reason = "CPF " + FormatCpf(check.cpf) + " belongs to no user";
        check.kind = "no_user";
      } else if ((**u).disabled) {
        check.reason = "user " + (**u).name + " is disabled";
        check.kind = "disabled";
      } else {
        who = **u;
      }
    }
    if (!who) {
      AuditEntry e{"", "", c.req.remote_addr, "login_failed", check.subject, "certificate: " + check.reason};
      (void)audit_->Record(e, true);  // a refusal: nothing to withhold
      return HttpResponse::Html(
          LoginPage(c.lang, c.csrf, next, T(c.lang, "cert_" + check.kind), true), 401);
    }
    return StartSession(c, who->name, "certificate", next);
  }

  ServerOptions options_;
  StorePool pool_;
  SessionTable sessions_;
  Throttle account_throttle_, address_throttle_;
  PageRenderer renderer_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Store> auth_store_;  // used under auth_mu_
  std::mutex auth_mu_;
  std::unique_ptr<RequestServices> services_;
  Router router_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<ClientCertificateVerifier> certificates_;  // certificate login configured
  bool tls_ = false;
  int port_ = 0;
  std::thread listener_;
  std::atomic<bool> stopped_{false};
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::pair<Clock::time_point, Principal>> principal_cache_;
  std::unordered_map<std::string, std::pair<Clock::time_point, ApiTokenRecord>> token_cache_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options) {
  auto s = std::make_unique<ServerImpl>(options);
  ACERVO_RETURN_IF_ERROR(s->Init());
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace acervo::web
