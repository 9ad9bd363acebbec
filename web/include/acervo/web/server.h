// `acervo serve`: the archivists' web interface and the JSON API over one
// store, on cpp-httplib (Debian's libcpp-httplib).
//
// What the server guarantees, whatever module handles a request:
//  - every page, asset, image and download is served by the binary itself
//    (no CDN, no file read by a name the client chose);
//  - sessions: random 256-bit ids in an HttpOnly, SameSite=Strict cookie,
//    Secure when served over TLS (or told it is behind TLS); a new id at
//    login; closed after `idle_timeout` without requests;
//  - a CSRF token checked on every POST of a cookie session (403 otherwise);
//  - login throttling per account and per client address (429);
//  - role checks (403, audited) and per-lot access: a document of a lot the
//    user may not open does not exist for them (404, audited);
//  - bounded input: headers (8 KiB, the library's limit), bodies
//    (`max_body_bytes`; `max_upload_bytes` on an upload route for the
//    users it is meant for, router.h), query strings and paths;
//  - Stop() (or SIGTERM in `acervo serve`) finishes the requests in flight,
//    flushes the audit trail and returns.
//
// Thread-safety: Start once; Stop from any thread (a signal handler must
// only set a flag that another thread turns into Stop()).
#ifndef ACERVO_WEB_SERVER_H_
#define ACERVO_WEB_SERVER_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/web/auth.h"
#include "acervo/web/router.h"

namespace acervo::web {

struct ServerOptions {
  std::string store;                      // --store: SQLite file or PostgreSQL connection string
  std::string host = "127.0.0.1";         // loopback unless told otherwise
  int port = 8080;                        // 0: the OS picks one (tests); see Server::port()
  int workers = 0;                        // HTTP worker threads; 0: 8 x cores, at least 32 (a keep-alive connection holds one)
  // Requests served against the store at once (one store connection
  // each; more wait for one); 0: cores + 1, at least 3. A search is CPU
  // work: more at once than the cores can run only stretches each one
  // (the slow kinds most: p99 103-130 ms at 4 on 2 cores, 87-97 at 3,
  // 75-85 at 2; docs/benchmarks.md, session 11); the one beyond the cores
  // keeps searches going while a page render or download holds another.
  // Issue 13.
  int store_connections = 0;
  std::chrono::seconds idle_timeout{1800};
  size_t max_body_bytes = 1 << 20;
  // Issue 14: the body limit of upload routes (Router::Upload: a page image
  // for a replacement), for a signed-in user the route is meant for.
  size_t max_upload_bytes = 64u << 20;
  std::filesystem::path tls_cert, tls_key;  // both set: HTTPS
  bool secure_cookies = false;              // Secure cookies without TLS here (behind a TLS proxy)
  std::vector<std::filesystem::path> report_dirs;  // folders of `acervo batch` morning reports
  // Login throttling: failures allowed in the window, per account / address.
  int max_failures_per_account = 5;
  int max_failures_per_address = 20;
  std::chrono::seconds failure_window{900};
  size_t render_cache_bytes = 64u << 20;  // rendered page images kept in memory
  // Issue 14 and later: more pages and API routes.
  std::vector<std::shared_ptr<PageModule>> extra_modules;
  // Authenticators asked in order; empty: those of `identity_file`, or
  // local passwords only when there is none.
  std::vector<std::shared_ptr<Authenticator>> authenticators;
  // Issue 19: the identity file (identity.h: LDAP / Active Directory,
  // local users); read, checked and its grants applied at Create.
  std::filesystem::path identity_file;
  // Issue 19: ICP-Brasil certificate login (needs tls_cert): clients
  // certificates issued under this PEM CA bundle log their holder in by
  // the CPF of the certificate (users.cpf); with a CRL file (PEM or DER),
  // revoked ones, and ones whose issuer has no current CRL there, are
  // refused. docs/security.md has the rules.
  std::filesystem::path tls_client_ca, tls_client_crl;
};

class Server {
 public:
  // Opens the store (schema migrated) and builds the routes. Failure: the
  // store cannot be opened, TLS files unreadable, bad options.
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options);
  virtual ~Server() = default;

  // Binds (port 0: any free port) and starts serving on background threads.
  // IOError when the address cannot be bound.
  virtual Status Start() = 0;
  virtual int port() const = 0;        // the bound port, after Start()
  virtual std::string url() const = 0;  // "http://127.0.0.1:PORT"
  // Stops accepting, waits for requests in flight, flushes the audit trail.
  virtual void Stop() = 0;
};

}  // namespace acervo::web

#endif  // ACERVO_WEB_SERVER_H_
