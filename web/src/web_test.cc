// acervo serve, end to end over HTTP on a port the OS picks: access rules
// on every endpoint, hostile input (path traversal, oversized headers and
// bodies, malformed queries, script injection, wrong role, CSRF, brute
// force, guessed URLs), LGPD masking, API tokens, the audit trail. The
// browser tests (tests/browser/) cover the pages in Chromium.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "acervo/indexer/sqlite_store.h"
#include "acervo/web/auth.h"
#include "acervo/web/server.h"
#include "internal.h"
#include "test_client.h"

namespace acervo::web {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kPassword = "senha-segura-1";
constexpr const char* kInjection = "<script>alert('x')</script>";

TEST(TextTest, MasksCpfAndCnpj) {
  EXPECT_EQ(MaskPersonalNumbers("CPF 123.456.789-09, fim"), "CPF ***.456.789-**, fim");
  EXPECT_EQ(MaskPersonalNumbers("CNPJ 12.345.678/0001-95."), "CNPJ **.345.678/****-**.");
  // Bare digits only when their check digits make them a CPF / CNPJ.
  EXPECT_EQ(MaskPersonalNumbers("52998224725"), "***982247**");
  EXPECT_EQ(MaskPersonalNumbers("11444777000161"), "**444777******");
  EXPECT_EQ(MaskPersonalNumbers("fone 11987654321"), "fone 11987654321");
  EXPECT_EQ(MaskPersonalNumbers("processo 0001234-56.2020.8.26.0100"), "processo 0001234-56.2020.8.26.0100");
  EXPECT_EQ(MaskPersonalNumbers("1123.456.789-09"), "1123.456.789-09");  // part of a longer number
}

TEST(TextTest, HtmlEscapesEverythingThatMatters) {
  EXPECT_EQ(Html("<a href=\"x\" onclick='y'>&</a>"), "&lt;a href=&quot;x&quot; onclick=&apos;y&apos;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(Html("ok\x01\x7f\xff"), "ok\xEF\xBF\xBD");
}

// The API's JSON writer gives nlohmann's dump(-1, ' ', false, replace)
// byte for byte, whatever the strings hold: escapes, control characters,
// every kind of malformed UTF-8, and numbers of every kind.
TEST(JsonTest, DumpJsonWritesExactlyWhatNlohmannWrites) {
  const std::vector<std::string> strings = {
      "", "certidão", "São Paulo «casamento» …", "aspas \" e barra \\ e /", "tab\there\nnew\r\f\b", std::string(1, '\0'),
      "\x01\x1f\x7f", "\u2028\u2029", "\xF0\x9F\x93\x84 emoji", "cut \xC3", "\xC3\x28", "\xA0 lone continuation",
      "\xC0\xAF overlong", "\xE0\x80\xAF overlong", "\xED\xA0\x80 surrogate", "\xF4\x90\x80\x80 above U+10FFFF",
      "\xF8\x88\x80\x80\x80", "\xFF\xFE", "\xE2\x82", "ok\xF0\x9F\x93", "<script>alert(1)</script>", "***.456.789-**"};
  json doc = json::object();
  json arr = json::array();
  for (const std::string& v : strings) {
    arr.push_back(v);
    doc[v] = v;  // as a key too
  }
  doc["values"] = arr;
  doc["numbers"] = {0, -1, 42u, 1.4211135443571177, 1e-05, 2.0, -0.0, 1e300, 123456789012345678LL, 0.1};
  doc["misc"] = {true, false, nullptr, json::object(), json::array()};
  doc["nested"] = {{"hits", {{{"score", 0.5}, {"snippet", "a\tb"}}}}, {"took_ms", 3}};
  EXPECT_EQ(web::DumpJson(doc), doc.dump(-1, ' ', false, json::error_handler_t::replace));
  for (const std::string& v : strings) {
    EXPECT_EQ(web::DumpJson(json(v)), json(v).dump(-1, ' ', false, json::error_handler_t::replace)) << v;
  }
  EXPECT_EQ(web::DumpJson(json::object()), "{}");
}

TEST(RouterTest, MatchesLiteralsAndCaptures) {
  Router r;
  r.Get("/doc/{lot}/{doc}", Access::kSignedIn, [](RouteContext&) { return HttpResponse(); });
  r.Get("/api/v1/search", Access::kSignedIn, [](RouteContext&) { return HttpResponse(); });
  std::map<std::string, std::string> caps;
  ASSERT_NE(r.Match("GET", {"doc", "L/1", "d 2"}, &caps), nullptr);
  EXPECT_EQ(caps["lot"], "L/1");
  EXPECT_EQ(caps["doc"], "d 2");
  EXPECT_EQ(r.Match("GET", {"doc", "L1"}, &caps), nullptr);
  EXPECT_EQ(r.Match("GET", {"doc", "L1", "d", "x"}, &caps), nullptr);
  EXPECT_EQ(r.Match("POST", {"api", "v1", "search"}, &caps), nullptr);
}

TEST(PasswordTest, Argon2idHashesVerifyAndRefuseShortOnes) {
  Result<std::string> h = HashPassword(kPassword);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword(*h, kPassword));
  EXPECT_FALSE(VerifyPassword(*h, "senha-segura-2"));
  EXPECT_EQ(HashPassword("curta").status().code(), StatusCode::kInvalidArgument);
}

// A raw HTTP exchange (for requests a client library would refuse to
// send): the status code of the answer, 0 when the connection closed.
int RawStatus(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  char buf[256] = {};
  const ssize_t n = ::recv(fd, buf, sizeof(buf) - 1, 0);
  ::close(fd);
  if (n <= 12) return 0;
  return std::atoi(buf + 9);
}

class WebTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("acervo-web-" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    const fs::path db = *dir_ / "acervo.db";
    Result<std::unique_ptr<Store>> opened = OpenSqliteStore(db);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Store& s = **opened;
    for (const char* lot : {"L1", "L2"}) {
      LotRecord l;
      l.id = lot;
      l.project = std::string("Projeto ") + lot;
      ASSERT_TRUE(s.UpsertLot(l).ok());
    }
    auto doc = [&](const std::string& lot, const std::string& id, const std::string& title, const std::string& text,
                   std::vector<FieldRecord> fields,
                   std::vector<WordBox> words = {{"Certidão", 100, 100, 200, 40}, {"de", 310, 100, 40, 40},
                                                 {"nascimento", 360, 100, 240, 40}}) {
      DocumentRecord d;
      d.lot_id = lot;
      d.document_id = id;
      d.document_type = "certidao";
      d.title = title;
      // L1/d2 as `acervo run` stores it since schema v5: relative to the
      // output folder, which holds the store (docs/store.md).
      const std::string name = lot + "-" + id + ".pdf";
      d.pdf_path = lot == "L1" && id == "d2" ? name : (*dir_ / name).string();
      std::ofstream(*dir_ / name) << "%PDF-1.4 not really a pdf " << id;
      d.pdf_sha256 = std::string(64, 'a');
      d.page_count = 1;
      d.fields = std::move(fields);
      PageRecord p;
      p.number = 1;
      p.pdf_page = 1;
      p.text = text;
      p.image_width = 1000;
      p.image_height = 1400;
      p.words = std::move(words);
      d.pages = {p};
      ASSERT_TRUE(s.PutDocument(d).ok());
    };
    doc("L1", "d1", std::string("Certidão ") + kInjection, std::string("Certidão de nascimento ") + kInjection +
        " CPF 123.456.789-09", {{"cpf", "123.456.789-09", "manifest.csv line 2"}, {"nota", kInjection, ""}});
    doc("L1", "d2", "Ofício", "Ofício sobre certidão", {{"cpf", "529.982.247-25", ""}});
    doc("L2", "d1", "Segredo", "certidão sigilosa palavrasecreta", {{"cpf", "111.444.777-35", ""}});
    // Issue 15: OCR read "Teixeira" as "Teixelra" (a forgiving match).
    doc("L1", "d3", "Termo de recebimento", "Recebido do senhor Joaquim Teixelra.", {},
        {{"Recebido", 100, 100, 200, 40}, {"do", 310, 100, 40, 40}, {"senhor", 360, 100, 150, 40},
         {"Joaquim", 520, 100, 180, 40}, {"Teixelra.", 710, 100, 200, 40}});
    AccessStore& a = s.Access();
    auto user = [&](const std::string& name, Role role, std::vector<std::string> groups, bool full = false) {
      UserRecord u;
      u.name = name;
      u.role = role;
      u.groups = std::move(groups);
      u.full_view = full;
      u.password_hash = *HashPassword(kPassword);
      ASSERT_TRUE(a.AddUser(u).ok());
    };
    user("admin", Role::kAdmin, {});
    user("oper", Role::kOperator, {"g1"});
    user("leitor", Role::kReader, {"g1"});
    user("vepleno", Role::kReader, {"g1"}, true);
    user("fora", Role::kReader, {"g2"});
    user("tentado", Role::kReader, {"g1"});
    user("sumido", Role::kReader, {"g1"});
    ASSERT_TRUE(a.AddGrant({"g1", "lot", "L1"}).ok());
    ServerOptions o;
    o.store = db.string();
    o.port = 0;
    o.workers = 8;
    Result<std::unique_ptr<Server>> server = Server::Create(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = server->release();
    ASSERT_TRUE(server_->Start().ok());
  }
  static void TearDownTestSuite() {
    if (server_) server_->Stop();
    delete server_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }

  static int port() { return server_->port(); }
  static std::unique_ptr<Store> OpenDb() { return std::move(OpenSqliteStore(*dir_ / "acervo.db").value()); }
  // Audit rows with this action (newest first), after the writer's batch.
  static std::vector<AuditRow> AuditRows(const std::string& action) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    AuditFilter f;
    f.action = action;
    f.limit = 1000;
    return OpenDb()->Access().ListAudit(f).value();
  }

  static fs::path* dir_;
  static Server* server_;
};
fs::path* WebTest::dir_ = nullptr;
Server* WebTest::server_ = nullptr;

TEST_F(WebTest, AnonymousRequestsGoToLoginOr401) {
  Client c(port());
  httplib::Result r = c.Get("/search?q=x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303);
  // (The client library decodes Location.)
  EXPECT_EQ(UrlDecode(r->get_header_value("Location"), false), "/login?next=/search?q=x");
  r = c.Get("/api/v1/search?q=x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Get("/api/v1/openapi.json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json spec = json::parse(r->body);
  EXPECT_TRUE(spec["paths"].contains("/api/v1/search"));
  EXPECT_TRUE(spec["paths"].contains("/api/v1/documents/{lot}/{document}/pages/{page}"));
  r = c.Get("/assets/style.css");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/css; charset=utf-8");
}

TEST_F(WebTest, LoginNeedsItsCsrfTokenAndGivesANewSession) {
  Client c(port());
  c.Get("/login");
  httplib::Result r = c.Post("/login", {{"user", "leitor"}, {"password", kPassword}}, /*with_csrf=*/false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(c.Login("leitor", kPassword), 303);
  Client d(port());
  EXPECT_EQ(d.Login("leitor", "errada-errada"), 401);
}

TEST_F(WebTest, BruteForceIsThrottledPerAccount) {
  Client c(port());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.Login("tentado", "errada-" + std::to_string(i) + "xxxx"), 401) << i;
  // Locked even with the right password, from any address.
  EXPECT_EQ(c.Login("tentado", kPassword), 429);
  Client other(port());
  EXPECT_EQ(other.Login("tentado", kPassword), 429);
  EXPECT_GE(AuditRows("login_failed").size(), 5u);
  EXPECT_FALSE(AuditRows("login_throttled").empty());
}

TEST_F(WebTest, PathTraversalFindsNothing) {
  Client c(port());
  ASSERT_EQ(c.Login("admin", kPassword), 303);
  for (const char* path :
       {"/assets/../../../../etc/passwd", "/assets/..%2f..%2f..%2fetc%2fpasswd", "/assets/%2e%2e/%2e%2e/etc/passwd",
        "/doc/..%2F..%2F..%2Fetc/passwd", "/download/L1/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/download/..%2F..%2F/..%2F..%2Fetc%2Fpasswd", "/page/L1/d1/..%2F1", "/thumb/L1/..%2Fd1/1",
        "/api/v1/documents/..%2F..%2Fetc/passwd", "/api/v1/documents/L1/d1/pages/1%2F..%2F..%2F",
        "/reports/..%2F..%2Fetc%2Fpasswd", "/lots/..%2F..", "/download/L1/d1%00.pdf", "/%2e%2e/%2e%2e/etc/passwd"}) {
    httplib::Result r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_TRUE(r->status == 404 || r->status == 400) << path << " -> " << r->status;
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << path;
  }
}

TEST_F(WebTest, OversizedHeadersBodiesAndUrisAreRefused) {
  std::string big_header = "GET /login HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  const int s1 = RawStatus(port(), big_header);
  EXPECT_TRUE(s1 == 400 || s1 == 431 || s1 == 0) << s1;
  std::string many_headers = "GET /login HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 400; ++i) many_headers += "X-H" + std::to_string(i) + ": " + std::string(100, 'b') + "\r\n";
  const int s2 = RawStatus(port(), many_headers + "\r\n");
  EXPECT_NE(s2, 200) << "40 KB of headers accepted";
  const int s3 = RawStatus(port(), "GET /search?q=" + std::string(10000, 'c') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(s3, 414);
  Client c(port());
  c.Get("/login");
  httplib::Result r = c.PostRaw("/login", "user=" + std::string(2 << 20, 'd'), "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // Still serving.
  httplib::Result ok = c.Get("/login");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

// Without TCP_NODELAY every keep-alive response after the first waits for
// the client's delayed ACK (40 ms on Linux) between its head and its body:
// one connection made 19 searches a second instead of 200 (docs/benchmarks.md,
// session 11). The server runs in this process, so its sockets are ours to
// inspect: the listener and the connection it accepted for us.
TEST_F(WebTest, ResponsesAreNotHeldBackByNagle) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = "GET /login HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  char buf[64] = {};
  ASSERT_GT(::recv(fd, buf, sizeof(buf) - 1, 0), 12);  // accepted and answered; the connection stays open
  int listeners = 0, accepted = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int other = std::atoi(entry.path().filename().c_str());
    sockaddr_in local{};
    socklen_t len = sizeof(local);
    if (other == fd || ::getsockname(other, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
        local.sin_family != AF_INET || ntohs(local.sin_port) != port()) {
      continue;
    }
    int listening = 0, nodelay = 0;
    socklen_t ilen = sizeof(int);
    ASSERT_EQ(::getsockopt(other, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ilen), 0);
    ilen = sizeof(int);
    ASSERT_EQ(::getsockopt(other, IPPROTO_TCP, TCP_NODELAY, &nodelay, &ilen), 0);
    EXPECT_NE(nodelay, 0) << (listening ? "the listening socket" : "an accepted connection") << " has Nagle on";
    ++(listening ? listeners : accepted);
  }
  ::close(fd);
  EXPECT_EQ(listeners, 1);
  EXPECT_GE(accepted, 1);
}

TEST_F(WebTest, MalformedQueriesAre400WithThePosition) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  httplib::Result r = c.Get("/api/v1/search?q=" + UrlEncode("certidão \"de nasc"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  json j = json::parse(r->body);
  EXPECT_EQ(j["position"], 10);
  EXPECT_NE(j["error"].get<std::string>().find("unclosed quote"), std::string::npos);
  r = c.Get("/search?q=" + UrlEncode("(a OR b"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("unclosed parenthesis at position 1"), std::string::npos);
  for (const char* bad : {"/api/v1/search?limit=x", "/api/v1/search?limit=100000", "/api/v1/search?sort=sideways",
                          "/api/v1/search?from=ontem", "/api/v1/search?page=-1"}) {
    r = c.Get(bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad;
  }
}

// A query parameter that is not UTF-8 (a byte cut out of "ção") is a 400
// naming the parameter, on the API and on the pages, never a search.
TEST_F(WebTest, InvalidUtf8InAParameterIs400NamingIt) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  struct Case {
    const char* url;
    int status;
    const char* says;
  };
  for (const Case& k : {Case{"/api/v1/search?limit=20&q=z%C3i%C3%A7%C3%A3o", 400, "\"parameter 'q' is not valid UTF-8\""},
                        Case{"/api/v1/search?q=certidao&lot=L%FF1", 400, "\"parameter 'lot' is not valid UTF-8\""},
                        Case{"/search?q=%E3%81", 400, "parameter &apos;q&apos; is not valid UTF-8"},  // truncated
                        Case{"/api/v1/search?q=certid%C3%A3o", 200, "\"hits\""}}) {  // valid, accented
    httplib::Result r = c.Get(k.url);
    ASSERT_TRUE(r) << k.url;
    EXPECT_EQ(r->status, k.status) << k.url << ": " << r->body;
    EXPECT_NE(r->body.find(k.says), std::string::npos) << k.url << ": " << r->body;
  }
}

// The search page sends its hits first and its counts (filters, total,
// pages: the costly part on a large store) after them in the same HTML
// document, chunked: the browser renders the hits before the counts exist,
// and a page without JavaScript still gets everything.
TEST_F(WebTest, TheSearchPageSendsTheHitsBeforeTheCounts) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  httplib::Result r = c.Get("/search?q=certidao");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Transfer-Encoding"), "chunked");
  const size_t hits = r->body.find("id=\"hits\"");
  const size_t facets = r->body.find("id=\"facets\"");
  const size_t total = r->body.find("id=\"total\"");
  ASSERT_NE(hits, std::string::npos);
  ASSERT_NE(facets, std::string::npos);
  ASSERT_NE(total, std::string::npos);
  EXPECT_LT(hits, facets);
  EXPECT_LT(hits, total);
  EXPECT_NE(r->body.find("class=\"count\""), std::string::npos);  // the filters have their counts
  EXPECT_EQ(r->body.find("acervo:counts"), std::string::npos);     // the join mark is not sent
  EXPECT_NE(r->body.rfind("</html>"), std::string::npos);
  // Never compressed: a gzip stream would hold the hits back until the end.
  r = c.Get("/search?q=certidao", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "");
  EXPECT_NE(r->body.find("id=\"facets\""), std::string::npos);
  // A query error is still one plain 400 page.
  r = c.Get("/search?q=" + UrlEncode("(a OR b"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->get_header_value("Transfer-Encoding"), "chunked");
}

TEST_F(WebTest, ScriptInjectionIsEscapedEverywhere) {
  Client c(port());
  ASSERT_EQ(c.Login("admin", kPassword), 303);
  for (const char* path : {"/search?q=certidao", "/doc/L1/d1?q=certidao", "/search?q=" "%3Cscript%3E",
                           "/search?lot=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/integrity/L1/d1"}) {
    httplib::Result r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->body.find("<script>alert"), std::string::npos) << path;
  }
  httplib::Result r = c.Get("/doc/L1/d1?q=certidao");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(r->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  // JSON carries the text as data.
  r = c.Get("/api/v1/documents/L1/d1");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["title"], std::string("Certidão ") + kInjection);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json; charset=utf-8");
}

TEST_F(WebTest, WrongRoleIs403AndAudited) {
  Client reader(port());
  ASSERT_EQ(reader.Login("leitor", kPassword), 303);
  for (const char* path : {"/admin/users", "/admin/audit", "/admin/audit.csv", "/lots", "/reports", "/api/v1/audit"}) {
    httplib::Result r = reader.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 403) << path;
  }
  httplib::Result r = reader.Post("/admin/users/add", {{"name", "intruso"}, {"role", "admin"}, {"password", kPassword}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  Client oper(port());
  ASSERT_EQ(oper.Login("oper", kPassword), 303);
  r = oper.Get("/admin/users");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = oper.Get("/lots");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find(">L1<"), std::string::npos);
  EXPECT_EQ(r->body.find(">L2<"), std::string::npos);  // not granted
  EXPECT_FALSE(OpenDb()->Access().GetUser("intruso").value().has_value());
  bool seen = false;
  for (const AuditRow& row : AuditRows("denied")) seen |= row.entry.user == "leitor" && row.entry.target == "/admin/users";
  EXPECT_TRUE(seen);
}

TEST_F(WebTest, EveryChangeNeedsTheCsrfToken) {
  Client admin(port());
  ASSERT_EQ(admin.Login("admin", kPassword), 303);
  const httplib::Params add = {{"name", "novo"}, {"role", "reader"}, {"password", kPassword}, {"groups", "g1"}};
  httplib::Result r = admin.Post("/admin/users/add", add, /*with_csrf=*/false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  httplib::Params wrong = add;
  wrong.emplace("_csrf", std::string(64, '0'));
  r = admin.Post("/admin/users/add", wrong, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  for (const char* path : {"/admin/grants/add", "/admin/users/update", "/account/tokens/create", "/logout",
                           "/account/password"}) {
    r = admin.Post(path, {{"group", "g9"}, {"kind", "lot"}, {"target", "L2"}}, false);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 403) << path;
  }
  r = admin.Post("/api/v1/tokens", {{"label", "x"}}, false);  // a session on the API needs the header too
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_FALSE(OpenDb()->Access().GetUser("novo").value().has_value());
  r = admin.Post("/admin/users/add", add);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(OpenDb()->Access().GetUser("novo").value().has_value());
  EXPECT_FALSE(AuditRows("admin_user_add").empty());
}

TEST_F(WebTest, AReaderSeesNothingOfALotNotGranted) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  // Search, counts and filters.
  httplib::Result r = c.Get("/api/v1/search?q=certidao&facets=1");
  ASSERT_TRUE(r);
  json j = json::parse(r->body);
  EXPECT_EQ(j["total"], 2);
  for (const json& h : j["hits"]) EXPECT_EQ(h["lot"], "L1");
  for (const json& f : j["facets"]["lots"]) EXPECT_EQ(f["value"], "L1");
  r = c.Get("/api/v1/search?q=palavrasecreta&facets=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["total"], 0);
  // Nor through a forgiving variant (issue 15): "palavrasecrata" is one
  // letter from the hidden word; an admin finds L2/d1 through it.
  Client admin(port());
  ASSERT_EQ(admin.Login("admin", kPassword), 303);
  r = admin.Get("/api/v1/search?q=palavrasecrata&facets=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["total"], 1) << r->body;
  for (const std::string path : {"/api/v1/search?q=palavrasecrata&facets=1",
                                 "/api/v1/search?q=palavrasecrata&sort=newest&facets=1",
                                 "/api/v1/search?q=palavrasecrata+certidao&facets=1"}) {
    r = c.Get(path);
    ASSERT_TRUE(r) << path;
    j = json::parse(r->body);
    EXPECT_EQ(j["total"], 0) << path;
    EXPECT_TRUE(j["hits"].empty()) << path;
    EXPECT_EQ(r->body.find("palavrasecreta"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("L2"), std::string::npos) << path;
  }
  r = c.Get("/search?q=palavrasecrata");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("id=\"no-results\""), std::string::npos);
  EXPECT_EQ(r->body.find("Segredo"), std::string::npos);
  r = c.Get("/search?q=palavrasecreta");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("id=\"no-results\""), std::string::npos);
  EXPECT_EQ(r->body.find("Segredo"), std::string::npos);
  r = c.Get("/search?q=certidao");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.find("L2"), std::string::npos);
  r = c.Get("/search?lot=L2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.find("Segredo"), std::string::npos);
  r = c.Get("/api/v1/lots");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.find("L2"), std::string::npos);
  r = c.Get("/api/v1/me");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["lots"], json::array({"L1"}));
  // Guessed URLs: the same 404 as a document that does not exist, audited.
  httplib::Result missing = c.Get("/doc/L1/nao-existe");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  for (const char* path : {"/doc/L2/d1", "/download/L2/d1", "/page/L2/d1/1", "/thumb/L2/d1/1", "/integrity/L2/d1",
                           "/api/v1/documents/L2/d1", "/api/v1/documents/L2/d1/pages/1",
                           "/api/v1/documents/L2/d1/pages/1/image", "/api/v1/documents/L2/d1/pdf"}) {
    r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->body.find("Segredo"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("palavrasecreta"), std::string::npos) << path;
  }
  auto main_part = [](const std::string& body) { return body.substr(body.find("<main>")); };
  r = c.Get("/doc/L2/d1");
  EXPECT_EQ(main_part(r->body), main_part(c.Get("/doc/L2/nao-existe")->body));
  bool audited = false;
  for (const AuditRow& row : AuditRows("denied")) audited |= row.entry.user == "leitor" && row.entry.target == "L2/d1";
  EXPECT_TRUE(audited);
  // Granted: found.
  r = c.Get("/doc/L1/d1?q=nascimento");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/download/L1/d1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.rfind("%PDF", 0), 0u);
  EXPECT_NE(r->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
}

// Issue 12: a PDF path stored relative to the output folder is found
// there (an archive that was moved or copied is served where it is).
TEST_F(WebTest, RelativeStoredPathsResolveAgainstTheStoreFolder) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  httplib::Result r = c.Get("/api/v1/documents/L1/d2/pdf");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("not really a pdf d2"), std::string::npos) << r->body.substr(0, 200);
}

TEST_F(WebTest, CpfAndCnpjAreMaskedForReaders) {
  Client reader(port());
  ASSERT_EQ(reader.Login("leitor", kPassword), 303);
  for (const char* path : {"/search?q=certidao", "/api/v1/search?q=certidao", "/doc/L1/d1", "/api/v1/documents/L1/d1",
                           "/api/v1/documents/L1/d1/pages/1?q=cpf"}) {
    httplib::Result r = reader.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->body.find("123.456.789-09"), std::string::npos) << path;
    EXPECT_NE(r->body.find("***.456.789-**"), std::string::npos) << path;
  }
  for (const char* who : {"vepleno", "oper", "admin"}) {
    Client c(port());
    ASSERT_EQ(c.Login(who, kPassword), 303);
    httplib::Result r = c.Get("/api/v1/search?q=certidao");
    ASSERT_TRUE(r);
    EXPECT_NE(r->body.find("123.456.789-09"), std::string::npos) << who;
  }
}

// The search answer is written without building a JSON object first
// (api.cc, SearchAnswer): it must be what DumpJson writes for the object
// the answer parses to (members by name, nlohmann's numbers and escapes),
// masked for readers and not for those who may see the numbers, with and
// without facets, with a query that needs escaping (quotes, a tab).
TEST_F(WebTest, TheSearchAnswerIsWhatTheJsonWriterWrites) {
  for (const char* who : {"leitor", "vepleno", "admin"}) {
    Client c(port());
    ASSERT_EQ(c.Login(who, kPassword), 303);
    for (const std::string q : {"certidao", "certidao OR \"de nascimento\"", "certidao\tnascimento", "teixeira",
                                "cpf:12345678909", "ausente"}) {
      for (const char* facets : {"", "&facets=1"}) {
        httplib::Result r = c.Get("/api/v1/search?q=" + UrlEncode(q) + facets);
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << who << " " << q << " " << r->body;
        EXPECT_EQ(r->body, web::DumpJson(json::parse(r->body))) << who << " " << q << facets;
      }
    }
  }
}

TEST_F(WebTest, HitBoxesComeWithThePage) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  httplib::Result r = c.Get("/api/v1/documents/L1/d1/pages/1?q=" + UrlEncode("NASCIMENTO"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  json j = json::parse(r->body);
  EXPECT_EQ(j["image_width"], 1000);
  ASSERT_EQ(j["hits"].size(), 1u);
  EXPECT_EQ(j["hits"][0]["x"], 360);
  EXPECT_DOUBLE_EQ(j["hits"][0]["fx"].get<double>(), 0.36);
  r = c.Get("/doc/L1/d1?q=certidao");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("viewBox=\"0 0 1000 1400\""), std::string::npos);
  EXPECT_NE(r->body.find("data-word=\"Certidão\""), std::string::npos);
}

// Issues 13 and 15 together: a page found through an OCR misreading has
// the misread word boxed on the scan and marked in the text, from the same
// matches the search reports; the results say what the query matched as.
TEST_F(WebTest, AForgivingMatchIsBoxedAndMarked) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  httplib::Result r = c.Get("/search?q=teixeira");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("/doc/L1/d3"), std::string::npos);
  EXPECT_NE(r->body.find("<mark>Teixelra</mark>"), std::string::npos) << "the snippet marks the misread word";
  EXPECT_NE(r->body.find("class=\"found-as\""), std::string::npos);
  EXPECT_NE(r->body.find("<b>teixelra</b>"), std::string::npos);
  r = c.Get("/api/v1/search?q=teixeira");
  ASSERT_TRUE(r);
  json j = json::parse(r->body);
  ASSERT_EQ(j["hits"].size(), 1u);
  EXPECT_EQ(j["hits"][0]["tier"], 2);
  ASSERT_EQ(j["hits"][0]["matches"].size(), 1u);
  EXPECT_EQ(j["hits"][0]["matches"][0]["kind"], "misread");
  EXPECT_EQ(j["hits"][0]["matches"][0]["matched"], "teixelra");
  EXPECT_EQ(j["hits"][0]["matches"][0]["pages"], json::array({1}));
  r = c.Get("/doc/L1/d3?q=teixeira");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("data-word=\"Teixelra.\""), std::string::npos) << "the misread word is boxed";
  EXPECT_EQ(r->body.find("data-word=\"Joaquim\""), std::string::npos) << "only the matched word is boxed";
  EXPECT_NE(r->body.find("<mark>Teixelra.</mark>"), std::string::npos) << "and marked in the page text";
  EXPECT_NE(r->body.find("id=\"hit-position\""), std::string::npos);
  r = c.Get("/api/v1/documents/L1/d3/pages/1?q=teixeira");
  ASSERT_TRUE(r);
  j = json::parse(r->body);
  ASSERT_EQ(j["hits"].size(), 1u);
  EXPECT_EQ(j["hits"][0]["x"], 710);
  // exact: turns the forgiving match off: no hit, no box.
  r = c.Get("/doc/L1/d3?q=" + UrlEncode("exact:teixeira"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.find("data-word=\"Teixelra.\""), std::string::npos);
  EXPECT_NE(r->body.find("no-hit-pages"), std::string::npos);
}

TEST_F(WebTest, ApiTokensWorkUntilRevoked) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  httplib::Result r = c.PostRaw("/api/v1/tokens", "{\"label\":\"script\"}", "application/json",
                                {{"X-CSRF-Token", c.csrf()}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string token = json::parse(r->body)["token"];
  httplib::Client api("127.0.0.1", port());
  httplib::Result me = api.Get("/api/v1/me", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(me);
  ASSERT_EQ(me->status, 200);
  EXPECT_EQ(json::parse(me->body)["user"], "leitor");
  httplib::Result s = api.Get("/api/v1/search?q=palavrasecreta", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(s);
  EXPECT_TRUE(json::parse(s->body)["hits"].empty());
  std::string tampered = token;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  httplib::Result bad = api.Get("/api/v1/me", {{"Authorization", "Bearer " + tampered}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  // The stored record holds only a hash of the secret.
  const std::string id = token.substr(4, token.find('_', 4) - 4);
  Result<std::optional<ApiTokenRecord>> rec = OpenDb()->Access().GetApiToken(id);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ(token.find((**rec).secret_sha256), std::string::npos);
  ASSERT_TRUE(OpenDb()->Access().RevokeApiToken(id).ok());
  std::this_thread::sleep_for(std::chrono::seconds(11));  // past the server's token cache
  httplib::Result revoked = api.Get("/api/v1/me", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->status, 401);
}

TEST_F(WebTest, DisablingAUserEndsTheirSessions) {
  Client victim(port());
  ASSERT_EQ(victim.Login("sumido", kPassword), 303);
  ASSERT_EQ(victim.Get("/search")->status, 200);
  Client admin(port());
  ASSERT_EQ(admin.Login("admin", kPassword), 303);
  admin.Get("/admin/users");
  httplib::Result r = admin.Post("/admin/users/update", {{"name", "sumido"}, {"role", "reader"}, {"groups", "g1"},
                                                         {"disabled", "1"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  r = victim.Get("/search");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303);
  Client again(port());
  EXPECT_EQ(again.Login("sumido", kPassword), 401);
}

TEST_F(WebTest, TheAuditTrailRecordsWhoDidWhatAndExports) {
  Client reader(port());
  ASSERT_EQ(reader.Login("leitor", kPassword), 303);
  reader.Get("/search?q=nascimento");
  reader.Get("/doc/L1/d1?q=nascimento");
  reader.Get("/download/L1/d1");
  Client admin(port());
  ASSERT_EQ(admin.Login("admin", kPassword), 303);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  httplib::Result r = admin.Get("/api/v1/audit?user=leitor&limit=1000");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::set<std::string> actions;
  const json audit = json::parse(r->body);
  for (const json& row : audit["rows"]) {
    actions.insert(row["action"].get<std::string>());
    EXPECT_EQ(row["address"], "127.0.0.1");
  }
  for (const char* want : {"login", "search", "view_document", "download"}) {
    EXPECT_TRUE(actions.count(want)) << want << ": " << r->body.substr(0, 500);
  }
  r = admin.Get("/admin/audit.csv?user=leitor");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body.rfind("seq,at,user,address,action,target,detail,prev_hash,hash\r\n", 0), 0u);
  EXPECT_NE(r->body.find("\"nascimento\""), std::string::npos);
  r = admin.Get("/admin/audit?verify=1");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("id=\"chain\" class=\"ok\""), std::string::npos);
  EXPECT_TRUE(OpenDb()->Access().VerifyAudit().value().ok());
}

// A response is sent only once its audit row is committed: with the
// store's write lock held elsewhere a search waits, and when the lock is let
// go its row is already in the store (so a server killed right after any
// response has lost no row of it).
TEST_F(WebTest, AResponseWaitsForItsAuditRow) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  const std::string marker = "auditwait" + std::to_string(::getpid());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((*dir_ / "acervo.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::future<httplib::Result> search =
      std::async(std::launch::async, [&] { return c.Get("/api/v1/search?q=" + marker); });
  EXPECT_EQ(search.wait_for(std::chrono::milliseconds(600)), std::future_status::timeout)
      << "the search answered while its audit row could not be written";
  EXPECT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  httplib::Result r = search.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  AuditFilter f;
  f.action = "search";
  f.user = "leitor";
  f.limit = 1000;
  std::unique_ptr<Store> store = OpenDb();
  Result<std::vector<AuditRow>> rows = store->Access().ListAudit(f);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  bool found = false;
  for (const AuditRow& row : *rows) found = found || row.entry.detail == marker;
  EXPECT_TRUE(found) << "no audit row for the search at the time of its response";
}

// LGPD: an answer the audit trail could not record is withheld (503), a
// login it could not record starts no session; once the trail works again,
// so does the server.
TEST_F(WebTest, NothingIsAnsweredThatTheAuditTrailCouldNotRecord) {
  Client c(port());
  ASSERT_EQ(c.Login("leitor", kPassword), 303);
  sqlite3* db = nullptr;  // the audit trail's own file (schema v13)
  ASSERT_EQ(sqlite3_open_v2(SqliteAuditTrailPath(*dir_ / "acervo.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr),
            SQLITE_OK);
  auto exec = [&](const char* sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
  };
  exec("CREATE TRIGGER test_audit_fails BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  for (const char* path : {"/api/v1/search?q=certidao", "/search?q=certidao", "/doc/L1/d1?q=certidao",
                           "/api/v1/documents/L1/d1"}) {
    httplib::Result r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 503) << path;
    for (const char* shown : {"123.456.789-09", "456.789", "nascimento", "manifest.csv"}) {
      EXPECT_EQ(r->body.find(shown), std::string::npos) << path << ": the answer leaked into the refusal: " << shown;
    }
  }
  Client other(port());
  EXPECT_EQ(other.Login("leitor", kPassword), 503);
  httplib::Result r = other.Get("/search?q=certidao");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303) << "a login the trail did not record started a session";
  exec("DROP TRIGGER test_audit_fails");
  sqlite3_close(db);
  r = c.Get("/api/v1/search?q=certidao");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("456.789"), std::string::npos);
  EXPECT_EQ(other.Login("leitor", kPassword), 303);
}

TEST_F(WebTest, EnglishOnRequest) {
  Client c(port());
  httplib::Result r = c.Get("/login?lang=en");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("Sign in to Acervo"), std::string::npos);
  r = c.Get("/login");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("Entrar no Acervo"), std::string::npos);
}

// Sessions end after the idle timeout; Stop() flushes the audit trail.
TEST(WebServerTest, IdleSessionsEndAndStopFlushesTheAudit) {
  const fs::path dir = fs::temp_directory_path() / ("acervo-web-idle-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::unique_ptr<Store> s = std::move(OpenSqliteStore(dir / "acervo.db").value());
    UserRecord u;
    u.name = "ana";
    u.role = Role::kReader;
    u.password_hash = *HashPassword(kPassword);
    ASSERT_TRUE(s->Access().AddUser(u).ok());
  }
  ServerOptions o;
  o.store = (dir / "acervo.db").string();
  o.port = 0;
  o.idle_timeout = std::chrono::seconds(1);
  Result<std::unique_ptr<Server>> server = Server::Create(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  Client c((*server)->port());
  ASSERT_EQ(c.Login("ana", kPassword), 303);
  EXPECT_EQ(c.Get("/search?q=agora")->status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_EQ(c.Get("/search")->status, 303);
  (*server)->Stop();
  AuditFilter f;
  f.action = "search";
  // The one after login (Client::Login reads /search for its token) and this one.
  EXPECT_EQ(OpenSqliteStore(dir / "acervo.db").value()->Access().ListAudit(f).value().size(), 2u);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// A scratch store with one user of each role, for servers with their own
// options.
fs::path SmallStore(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("acervo-web-" + name + "-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::unique_ptr<Store> s = std::move(OpenSqliteStore(dir / "acervo.db").value());
  for (const auto& [user, role] : {std::pair{"ana", Role::kReader}, std::pair{"op", Role::kOperator}}) {
    UserRecord u;
    u.name = user;
    u.role = role;
    u.password_hash = *HashPassword(kPassword);
    EXPECT_TRUE(s->Access().AddUser(u).ok());
  }
  return dir;
}

// Issue 13: at most `store_connections` requests use the store at once; a
// search's audit row is waited for after its connection is given back, so
// with one connection and the trail's writer blocked (the store's write
// lock held elsewhere), a waiting search does not hold up the next request.
TEST(WebServerTest, AStoreConnectionIsFreeWhileItsSearchWaitsForTheAudit) {
  const fs::path dir = SmallStore("connfree");
  ServerOptions o;
  o.store = (dir / "acervo.db").string();
  o.port = 0;
  o.store_connections = 1;
  Result<std::unique_ptr<Server>> server = Server::Create(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  Client a((*server)->port()), b((*server)->port());
  ASSERT_EQ(a.Login("ana", kPassword), 303);
  ASSERT_EQ(b.Login("ana", kPassword), 303);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "acervo.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::future<httplib::Result> search = std::async(std::launch::async, [&] { return a.Get("/api/v1/search?q=agora"); });
  EXPECT_EQ(search.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout)
      << "the search answered while its audit row could not be written";
  std::future<httplib::Result> me = std::async(std::launch::async, [&] { return b.Get("/api/v1/me"); });
  EXPECT_EQ(me.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "the search waiting for its audit row held the only store connection";
  EXPECT_EQ(search.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  EXPECT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  httplib::Result m = me.get();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  httplib::Result r = search.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  (*server)->Stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// A StorePool hands out at most its limit of connections; Take waits for a
// Give (issue 13: requests beyond the cores only thrash the page caches).
TEST(WebServerTest, TheStorePoolWaitsAtItsLimit) {
  const fs::path dir = SmallStore("pool");
  StorePool pool((dir / "acervo.db").string(), 2);
  Result<std::unique_ptr<Store>> one = pool.Take(), two = pool.Take();
  ASSERT_TRUE(one.ok() && two.ok());
  std::future<Result<std::unique_ptr<Store>>> third = std::async(std::launch::async, [&] { return pool.Take(); });
  EXPECT_EQ(third.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  pool.Give(std::move(one).value());
  ASSERT_EQ(third.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Result<std::unique_ptr<Store>> got = third.get();
  ASSERT_TRUE(got.ok());
  pool.Give(std::move(got).value());
  pool.Give(std::move(two).value());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The seams: more pages plug in as a PageModule (issue 14's review queue)
// and get the same sign-in, role and CSRF checks; another Authenticator
// (issue 19's LDAP, certificates) signs users in through the same form.
TEST(WebServerTest, ExtraModulesAndAuthenticatorsPlugIn) {
  class Review final : public PageModule {
   public:
    void Register(Router& r) override {
      r.Get("/review/{lot}", Access::kOperator, [](RouteContext& c) {
        return HttpResponse::Html(Layout(c, "review", "<p id=\"review\">" + Html(c.Capture("lot")) + "</p>"));
      });
      r.Post("/review/accept", Access::kOperator, [](RouteContext& c) {
        c.Audit("review_accept", c.req().Form("doc"), "", true);
        return HttpResponse::Html("accepted " + Html(c.req().Form("doc")));
      });
    }
  };
  class Directory final : public Authenticator {
   public:
    explicit Directory(Store* store) : store_(store) {}
    std::string Name() const override { return "directory"; }
    Result<AuthResult> Authenticate(const Credentials& c) override {
      AuthResult r;
      if (c.user == "op" && c.password == "senha-do-diretorio") {
        r.ok = true;
        r.user = store_->Access().GetUser("op").value().value();
      } else {
        r.reason = "not in the directory";
      }
      return r;
    }
   private:
    Store* store_;
  };
  const fs::path dir = SmallStore("seams");
  std::unique_ptr<Store> store = std::move(OpenSqliteStore(dir / "acervo.db").value());
  ServerOptions o;
  o.store = (dir / "acervo.db").string();
  o.port = 0;
  o.extra_modules.push_back(std::make_shared<Review>());
  o.authenticators.push_back(std::make_shared<Directory>(store.get()));
  o.authenticators.push_back(std::make_shared<PasswordAuthenticator>(&store->Access()));
  Result<std::unique_ptr<Server>> server = Server::Create(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  Client op((*server)->port());
  ASSERT_EQ(op.Login("op", "senha-do-diretorio"), 303);  // the directory's password
  httplib::Result r = op.Get("/review/L%2F1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("<p id=\"review\">L/1</p>"), std::string::npos);
  r = op.Post("/review/accept", {{"doc", "d1"}}, /*with_csrf=*/false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = op.Post("/review/accept", {{"doc", "d1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  Client reader((*server)->port());
  ASSERT_EQ(reader.Login("ana", kPassword), 303);  // local password, second authenticator
  r = reader.Get("/review/L1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  (*server)->Stop();
  AuditFilter f;
  f.action = "review_accept";
  EXPECT_EQ(store->Access().ListAudit(f).value().size(), 1u);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// Issue 14: an upload route (Router::Upload) takes a multipart form up to
// max_upload_bytes, but only from a signed-in user with the route's role
// who may open its {lot}, decided before the body is read; every other
// route, user and client keeps max_body_bytes (413 above it, urlencoded,
// multipart or chunked alike). The CSRF token is checked on a multipart
// form as on any other; fields and files reach the handler apart.
TEST(WebServerTest, UploadRoutesHaveTheirOwnBodyLimit) {
  class Uploads final : public PageModule {
   public:
    void Register(Router& r) override {
      r.Upload("/up/{lot}", Access::kOperator, [](RouteContext& c) {
        if (!c.user()->MayOpenLot(c.Capture("lot"))) {
          c.Audit("denied", c.Capture("lot"), "lot not granted", true);
          return JsonError(404, "not found");
        }
        const UploadedFile* f = c.req().File("image");
        json j = {{"note", c.req().Form("note")}, {"files", c.req().files.size()}};
        if (f != nullptr) {
          j["filename"] = f->filename;
          j["type"] = f->content_type;
          j["bytes"] = f->content.size();
          j["intact"] = f->content == std::string(f->content.size(), 'p');
        }
        return HttpResponse::Json(j.dump());
      });
      r.Post("/small", Access::kOperator, [](RouteContext& c) {
        return HttpResponse::Json(json{{"bytes", c.req().body.size()}}.dump());
      });
    }
  };
  const fs::path dir = SmallStore("upload");
  {
    std::unique_ptr<Store> s = std::move(OpenSqliteStore(dir / "acervo.db").value());
    UserRecord u;
    u.name = "op1";
    u.role = Role::kOperator;
    u.groups = {"g1"};
    u.password_hash = *HashPassword(kPassword);
    ASSERT_TRUE(s->Access().AddUser(u).ok());
    ASSERT_TRUE(s->Access().AddGrant({"g1", "lot", "L1"}).ok());
  }
  ServerOptions o;
  o.store = (dir / "acervo.db").string();
  o.port = 0;
  o.max_upload_bytes = 4u << 20;  // max_body_bytes stays 1 MiB
  o.extra_modules.push_back(std::make_shared<Uploads>());
  Result<std::unique_ptr<Server>> server = Server::Create(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  const int port = (*server)->port();
  const std::string two_mib(2u << 20, 'p');
  auto image = [](const std::string& content) {
    return httplib::MultipartFormDataItems{{"image", content, "../../etc/passwd", "image/png"}, {"note", "nova", "", ""}};
  };
  auto status = [](const httplib::Result& r) { return r ? r->status : -1; };

  Client op(port);
  ASSERT_EQ(op.Login("op1", kPassword), 303);
  httplib::Result r = op.PostMultipart("/up/L1", image(two_mib));
  ASSERT_EQ(status(r), 200) << (r ? r->body : "");
  json j = json::parse(r->body);
  EXPECT_EQ(j["bytes"], two_mib.size());
  EXPECT_EQ(j["intact"], true);
  EXPECT_EQ(j["note"], "nova");  // a field, not a file
  EXPECT_EQ(j["files"], 1);
  EXPECT_EQ(j["filename"], "../../etc/passwd");  // handed over as sent, for the handler to ignore
  // The same 2 MiB to another route: 1 MiB there (urlencoded, multipart, chunked).
  EXPECT_EQ(status(op.PostRaw("/small", "_csrf=" + op.csrf() + "&x=" + two_mib, "application/x-www-form-urlencoded")),
            413);
  EXPECT_EQ(status(op.PostMultipart("/small", image(two_mib))), 413);
  EXPECT_EQ(status(op.PostChunked("/small", 2u << 20, "application/x-www-form-urlencoded")), 413);
  // Over the upload limit itself.
  r = op.PostMultipart("/up/L1", image(std::string(5u << 20, 'p')));
  EXPECT_EQ(status(r), 413);
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("4 MiB"), std::string::npos) << r->body;
  // CSRF: missing or wrong is 403; the header works as the field does.
  EXPECT_EQ(status(op.PostMultipart("/up/L1", image("ppp"), /*with_csrf=*/false)), 403);
  httplib::MultipartFormDataItems wrong = image("ppp");
  wrong.push_back({"_csrf", "0123", "", ""});
  EXPECT_EQ(status(op.PostMultipart("/up/L1", wrong, false)), 403);
  EXPECT_EQ(status(op.PostMultipart("/up/L1", image("ppp"), false, {{"X-CSRF-Token", op.csrf()}})), 200);
  // A lot not granted: the small limit, then the handler's 404.
  EXPECT_EQ(status(op.PostMultipart("/up/L2", image(two_mib))), 413);
  EXPECT_EQ(status(op.PostMultipart("/up/L2", image("ppp"))), 404);
  // An operator of no lot, a reader, nobody: the small limit; then 404 / 403 / login.
  Client other(port);
  ASSERT_EQ(other.Login("op", kPassword), 303);
  EXPECT_EQ(status(other.PostMultipart("/up/L1", image(two_mib))), 413);
  Client reader(port);
  ASSERT_EQ(reader.Login("ana", kPassword), 303);
  EXPECT_EQ(status(reader.PostMultipart("/up/L1", image(two_mib))), 413);
  EXPECT_EQ(status(reader.PostMultipart("/up/L1", image("ppp"))), 403);
  Client nobody(port);
  EXPECT_EQ(status(nobody.PostMultipart("/up/L1", image(two_mib), false)), 413);
  EXPECT_EQ(status(nobody.PostChunked("/up/L1", 2u << 20, "application/octet-stream")), 413);
  // A client that asks first (Expect: 100-continue) is refused before it
  // sends the body.
  EXPECT_EQ(RawStatus(port, "POST /small HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                            "Content-Length: 2097152\r\nExpect: 100-continue\r\n\r\n"),
            413);
  // Still serving, on the same connection too.
  EXPECT_EQ(status(op.PostMultipart("/up/L1", image("ppp"))), 200);
  (*server)->Stop();
  std::unique_ptr<Store> s = std::move(OpenSqliteStore(dir / "acervo.db").value());
  AuditFilter f;
  f.action = "denied";
  f.limit = 100;
  int too_large = 0;
  const std::vector<AuditRow> rows = s->Access().ListAudit(f).value();
  for (const AuditRow& row : rows) {
    too_large += row.entry.detail.find("over the limit") != std::string::npos;
  }
  EXPECT_EQ(too_large, 10);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// Over TLS the session cookie is Secure.
TEST(WebServerTest, TlsMakesCookiesSecure) {
  const fs::path dir = SmallStore("tls");
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
                          (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string() + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl CLI missing (scripts/debian-packages.txt)";
  ServerOptions o;
  o.store = (dir / "acervo.db").string();
  o.port = 0;
  o.tls_cert = dir / "cert.pem";
  o.tls_key = dir / "key.pem";
  Result<std::unique_ptr<Server>> server = Server::Create(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  EXPECT_EQ((*server)->url().rfind("https://", 0), 0u);
  httplib::SSLClient tls("127.0.0.1", (*server)->port());
  tls.enable_server_certificate_verification(false);
  httplib::Result r = tls.Get("/login");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Set-Cookie").find("; Secure"), std::string::npos) << r->get_header_value("Set-Cookie");
  (*server)->Stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The morning reports of `acervo batch` appear for operators.
TEST(WebServerTest, MorningReportsAreListed) {
  const fs::path dir = SmallStore("reports");
  fs::create_directories(dir / "reports" / "2026-03-01");
  std::ofstream(dir / "reports" / "2026-03-01" / "report.json")
      << R"({"batch": {"started_at": "2026-03-01T22:00:00Z", "finished_at": "2026-03-02T05:10:00Z"},
            "lots": {"total": 1, "list": [{"folder": "CX-0042", "state": "done", "error": ""}]},
            "documents": {"ok": 41, "failed": 1}, "pages": {"processed": 812, "failed": 2, "flagged": 9},
            "errors": [{"lot": "CX-0042", "where": "0007.tif page 2", "message": "<b>unreadable</b>"}]})";
  ServerOptions o;
  o.store = (dir / "acervo.db").string();
  o.port = 0;
  o.report_dirs = {dir / "reports"};
  Result<std::unique_ptr<Server>> server = Server::Create(o);
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  Client op((*server)->port());
  ASSERT_EQ(op.Login("op", kPassword), 303);
  httplib::Result r = op.Get("/reports");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("2026-03-01T22:00:00Z"), std::string::npos);
  r = op.Get("/reports/1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("CX-0042"), std::string::npos);
  EXPECT_NE(r->body.find("&lt;b&gt;unreadable&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(op.Get("/reports/2")->status, 404);
  (*server)->Stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(WebServerTest, ABadStoreFailsAtCreate) {
  ServerOptions o;
  o.store = "/nonexistent/acervo.db";
  o.port = 0;
  EXPECT_FALSE(Server::Create(o).ok());
}

}  // namespace
}  // namespace acervo::web
