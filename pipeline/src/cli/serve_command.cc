// acervo serve: the web interface and JSON API (web/server.h).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "acervo/web/server.h"
#include "acervo/pipeline/review_pages.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {

// "HOST:PORT", "[V6]:PORT" or "PORT" (loopback).
bool ParseListen(const std::string& text, std::string* host, int* port) {
  std::string h = "127.0.0.1", p = text;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find("]:");
    if (close == std::string::npos) return false;
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':'); colon != std::string::npos) {
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.empty()) h = "127.0.0.1";
  }
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  const int n = std::stoi(p);
  if (n > 65535) return false;
  *host = h;
  *port = n;
  return true;
}

}  // namespace

Command AddServeCommand(CLI::App& root, const Context& ctx) {
  struct Args {
    web::ServerOptions options;
    std::string listen = "127.0.0.1:8080";
    int idle_minutes = 30;
    int max_upload_mb = 64;
    std::vector<std::string> reports;
    std::string tls_cert, tls_key, identity, tls_client_ca, tls_client_crl;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("serve", "Serve the web interface and the JSON API over a store");
  cmd->add_option("--store", a->options.store,
                  "Store: a SQLite file, or a PostgreSQL connection string (postgresql://... or \"host=... dbname=...\")")
      ->required();
  cmd->add_option("--listen", a->listen,
                  "HOST:PORT to listen on (default 127.0.0.1:8080, loopback only; 0.0.0.0:8080 for the network; "
                  "port 0 picks a free one)");
  cmd->add_option("--workers", a->options.workers, "HTTP worker threads, one per open connection (default: 8 x cores, at least 32)")
      ->check(CLI::Range(1, 512));
  cmd->add_option("--idle-timeout", a->idle_minutes, "Minutes without a request before a session ends (default 30)")
      ->check(CLI::Range(1, 24 * 60));
  cmd->add_option("--max-upload-mb", a->max_upload_mb,
                  "Largest page image an operator may upload to replace a page (MiB, default 64); every other "
                  "request body stays at 1 MiB")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--reports", a->reports, "Folder of `acervo batch` morning reports (repeatable)");
  cmd->add_option("--tls-cert", a->tls_cert, "PEM certificate: serve HTTPS");
  cmd->add_option("--tls-key", a->tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--tls-client-ca", a->tls_client_ca,
                  "PEM CA bundle: ICP-Brasil certificates issued under it sign their holder in by CPF (HTTPS only)");
  cmd->add_option("--tls-client-crl", a->tls_client_crl,
                  "CRL file (PEM or DER) of --tls-client-ca: revoked certificates are refused; re-read when it changes");
  cmd->add_option("--identity", a->identity,
                  "Identity file (TOML): LDAP / Active Directory login, groups mapped to roles and lots, local "
                  "users on or off (docs/security.md); default: local users only");
  cmd->add_flag("--secure-cookies", a->options.secure_cookies,
                "Mark cookies Secure although this server speaks HTTP (behind a TLS proxy)");
  const std::atomic<bool>* cancel = ctx.cancel;
  return {cmd, [a, cancel]() -> int {
            if (!ParseListen(a->listen, &a->options.host, &a->options.port)) {
              std::fprintf(stderr, "acervo serve: --listen needs HOST:PORT, got '%s'\n", a->listen.c_str());
              return kExitUsage;
            }
            a->options.idle_timeout = std::chrono::minutes(a->idle_minutes);
            a->options.max_upload_bytes = static_cast<size_t>(a->max_upload_mb) << 20;
            for (const std::string& r : a->reports) a->options.report_dirs.emplace_back(r);
            a->options.tls_cert = a->tls_cert;
            a->options.tls_key = a->tls_key;
            a->options.tls_client_ca = a->tls_client_ca;
            a->options.tls_client_crl = a->tls_client_crl;
            a->options.identity_file = a->identity;
            a->options.extra_modules.push_back(NewReviewPages());  // issue 14
            Result<std::unique_ptr<web::Server>> server = web::Server::Create(a->options);
            if (!server.ok()) {
              std::fprintf(stderr, "acervo serve: %s\n", server.status().ToString().c_str());
              return ExitCodeFor(server.status()) == kExitUsage ? kExitUsage : kExitCannotRun;
            }
            Status s = (*server)->Start();
            if (!s.ok()) {
              std::fprintf(stderr, "acervo serve: %s\n", s.ToString().c_str());
              return kExitCannotRun;
            }
            // The first line of stdout is the address (tests and scripts read it).
            std::printf("Acervo serving on %s\n", (*server)->url().c_str());
            std::fflush(stdout);
            std::fprintf(stderr, "acervo serve: store %s; stop with Ctrl-C or SIGTERM\n", a->options.store.c_str());
            while (cancel == nullptr || !cancel->load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
            std::fprintf(stderr, "acervo serve: stopping (finishing requests in flight, flushing the audit trail)\n");
            (*server)->Stop();
            return kExitOk;
          }};
}

}  // namespace acervo::cli
