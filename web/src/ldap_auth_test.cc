// Directory login against a real OpenLDAP slapd the test starts (its own
// temp folder, a TCP port the OS picked, StartTLS with a test CA made by
// the openssl CLI): a directory user of the archivists' group signs in and
// sees only the group's lots; a wrong password, a disabled (locked)
// account, a user in no mapped group, a filter-injection attempt and an
// unreachable directory each behave as docs/security.md says.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "acervo/indexer/sqlite_store.h"
#include "acervo/web/identity.h"
#include "acervo/web/ldap_auth.h"
#include "acervo/web/server.h"
#include "test_client.h"

extern char** environ;

namespace acervo::web {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kBase = "dc=prefeitura,dc=example";
constexpr const char* kLocalPassword = "senha-local-segura";

TEST(LdapTextTest, FilterValuesAreEscaped) {
  EXPECT_EQ(EscapeLdapFilterValue("maria"), "maria");
  EXPECT_EQ(EscapeLdapFilterValue("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
  EXPECT_EQ(EscapeLdapFilterValue("a\\b"), "a\\5cb");
  EXPECT_EQ(EscapeLdapFilterValue("jos\xc3\xa9"), "jos\\c3\\a9");
}

TEST(LdapTextTest, DnsCompareIgnoringCaseAndSpaces) {
  EXPECT_EQ(CanonicalDn("CN=Arquivistas, OU=Grupos ,DC=Prefeitura"), "cn=arquivistas,ou=grupos,dc=prefeitura");
  EXPECT_EQ(CanonicalDn("cn=Maria da Silva,dc=x"), "cn=maria da silva,dc=x");
}

TEST(LdapTextTest, ActiveDirectoryRefusalsAreNamed) {
  EXPECT_EQ(ActiveDirectoryBindReason("80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, "
                                      "data 533, v3839"),
            "account disabled (Active Directory 533)");
  EXPECT_EQ(ActiveDirectoryBindReason("80090308: LdapErr: ... data 52e, v4563"), "wrong password (Active Directory 52e)");
  EXPECT_EQ(ActiveDirectoryBindReason("Invalid credentials"), "");
}

TEST(IdentityFileTest, MistakesAreRefusedWithTheLine) {
  const std::string group = "[[ldap.group]]\ndn = \"cn=g," + std::string(kBase) + "\"\ngroup = \"arquivo\"\n";
  const std::string ldap = "[ldap]\nurl = \"ldaps://dc.example\"\nbase_dn = \"" + std::string(kBase) + "\"\n";
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"[lcoal]\n", "unknown key 'lcoal'"},
      {ldap + "bnid_dn = \"x\"\n" + group, "unknown key 'bnid_dn'"},
      {ldap + group + "role = \"chefe\"\n", "role 'chefe'"},
      {"[ldap]\nurl = \"ldap://dc.example\"\nbase_dn = \"x\"\n" + group, "passwords in clear"},
      {ldap, "maps no directory group"},
      {ldap + "user_filter = \"(uid={login})\"\n" + group, "placeholder other than {user}"},
      {ldap + "preset = \"novell\"\n" + group, "preset 'novell'"},
      {"[local]\nenabled = false\n", "no way to sign in"},
  };
  for (const Case& c : cases) {
    Result<IdentityConfig> parsed = ParseIdentityConfig(c.text, "identity.toml");
    Status s = parsed.ok() ? Status::OK() : parsed.status();
    if (parsed.ok() && parsed->ldap) {
      Result<std::unique_ptr<LdapAuthenticator>> a = LdapAuthenticator::Create(*parsed->ldap, nullptr);
      if (!a.ok()) s = a.status();
    }
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.ToString();
  }
  Result<IdentityConfig> good = ParseIdentityConfig(ldap + group + "role = \"operator\"\nlots = [\"L1\"]\n", "x");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  ASSERT_EQ(good->ldap->groups.size(), 1u);
  EXPECT_EQ(good->ldap->groups[0].role, Role::kOperator);
  EXPECT_EQ(good->ldap->disabled_filter, "(pwdAccountLockedTime=*)");  // the openldap preset
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// A real slapd over an mdb database in `dir`, filled from LDIF with
// slapadd, listening on 127.0.0.1:port with StartTLS (certificate from a
// test CA for IP 127.0.0.1). Stopped (SIGTERM, waited for) by the
// destructor.
class Slapd {
 public:
  explicit Slapd(fs::path dir) : dir_(std::move(dir)) {}
  ~Slapd() { Stop(); }

  // "" or what went wrong.
  std::string Start(const std::string& ldif) {
    fs::create_directories(dir_ / "db");
    const std::string d = dir_.string();
    const std::string pki =
        "cd " + d + " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=Acervo test CA' -keyout ca.key "
        "-out ca.pem 2>/dev/null && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out "
        "srv.csr 2>/dev/null && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf && openssl x509 -req "
        "-in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out srv.pem 2>/dev/null && "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=Other CA' -keyout other.key -out other.pem "
        "2>/dev/null";
    if (std::system(pki.c_str()) != 0) return "openssl could not make the test CA";
    Write(dir_ / "slapd.conf",
          "include /etc/ldap/schema/core.schema\n"
          "include /etc/ldap/schema/cosine.schema\n"
          "include /etc/ldap/schema/inetorgperson.schema\n"
          "modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload ppolicy\n"
          "pidfile " + d + "/slapd.pid\n"
          "TLSCACertificateFile " + d + "/ca.pem\nTLSCertificateFile " + d + "/srv.pem\n"
          "TLSCertificateKeyFile " + d + "/srv.key\n"
          "database mdb\nsuffix \"" + kBase + "\"\nrootdn \"cn=admin," + kBase + "\"\nrootpw admin-secret\n"
          "directory " + d + "/db\noverlay ppolicy\n"
          "access to attrs=userPassword by anonymous auth by * none\n"
          "access to * by dn.exact=\"cn=acervo,ou=services," + kBase + "\" read by * none\n");
    Write(dir_ / "data.ldif", ldif);
    const std::string add = "slapadd -f " + d + "/slapd.conf -l " + d + "/data.ldif > " + d + "/slapadd.log 2>&1";
    if (std::system(add.c_str()) != 0) return "slapadd failed (see " + d + "/slapadd.log)";
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = FreePort();
      const std::string url = "ldap://127.0.0.1:" + std::to_string(port_) + "/";
      const std::string conf = d + "/slapd.conf";
      std::vector<std::string> args = {"/usr/sbin/slapd", "-d", "0", "-f", conf, "-h", url};
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return "cannot run slapd";
      for (int i = 0; i < 100; ++i) {
        if (Accepts(port_)) return "";
        int st = 0;
        if (waitpid(pid_, &st, WNOHANG) == pid_) {
          pid_ = 0;
          break;  // the port was taken meanwhile: another one
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      Stop();
    }
    return "slapd did not start";
  }
  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      waitpid(pid_, &st, 0);
      pid_ = 0;
    }
  }
  int port() const { return port_; }
  std::string url() const { return "ldap://127.0.0.1:" + std::to_string(port_); }
  fs::path ca() const { return dir_ / "ca.pem"; }
  fs::path other_ca() const { return dir_ / "other.pem"; }

 private:
  fs::path dir_;
  pid_t pid_ = 0;
  int port_ = 0;
};

std::string Person(const std::string& uid, const std::string& cn, const std::string& password,
                   const std::string& extra = "") {
  return "dn: uid=" + uid + ",ou=people," + kBase + "\nobjectClass: inetOrgPerson\nuid: " + uid + "\ncn: " + cn +
         "\nsn: " + cn + "\nuserPassword: " + password + "\n" + extra + "\n";
}

std::string TestDirectory() {
  const std::string b = kBase;
  return "dn: " + b + "\nobjectClass: dcObject\nobjectClass: organization\no: Prefeitura\ndc: prefeitura\n\n"
         "dn: ou=people," + b + "\nobjectClass: organizationalUnit\nou: people\n\n"
         "dn: ou=groups," + b + "\nobjectClass: organizationalUnit\nou: groups\n\n"
         "dn: ou=services," + b + "\nobjectClass: organizationalUnit\nou: services\n\n"
         "dn: cn=acervo,ou=services," + b + "\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
         "cn: acervo\nuserPassword: servico-secreto\n\n" +
         Person("maria", "Maria Arquivista", "maria-senha-1", "employeeNumber: 529.982.247-25\n") +
         Person("jose", "Jose Bloqueado", "jose-senha-1", "pwdAccountLockedTime: 000001010000Z\n") +
         Person("ana", "Ana Sem Grupo", "ana-senha-1") +
         Person("chefe", "Chefe do Arquivo", "chefe-senha-1") +
         "dn: cn=arquivistas,ou=groups," + b + "\nobjectClass: groupOfNames\ncn: arquivistas\n"
         "member: uid=maria,ou=people," + b + "\nmember: uid=jose,ou=people," + b + "\n\n"
         "dn: cn=chefia,ou=groups," + b + "\nobjectClass: groupOfNames\ncn: chefia\n"
         "member: uid=chefe,ou=people," + b + "\n\n"
         "dn: cn=outros,ou=groups," + b + "\nobjectClass: groupOfNames\ncn: outros\n"
         "member: uid=ana,ou=people," + b + "\n";
}

class LdapLoginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("acervo-ldap-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    slapd_ = new Slapd(*dir_ / "slapd");
    const std::string why = slapd_->Start(TestDirectory());
    ASSERT_EQ(why, "") << "the LDAP tests need Debian's slapd, ldap-utils and openssl";
    Result<std::unique_ptr<Store>> opened = OpenSqliteStore(*dir_ / "acervo.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Store& s = **opened;
    for (const char* lot : {"L1", "L2"}) {
      LotRecord l;
      l.id = lot;
      l.project = std::string("Projeto ") + lot;
      ASSERT_TRUE(s.UpsertLot(l).ok());
      DocumentRecord d;
      d.lot_id = lot;
      d.document_id = "d1";
      d.document_type = "certidao";
      d.title = std::string("Certidão do lote ") + lot;
      d.pdf_path = (*dir_ / (std::string(lot) + ".pdf")).string();
      std::ofstream(d.pdf_path) << "%PDF-1.4 not really a pdf";
      d.pdf_sha256 = std::string(64, 'a');
      d.page_count = 1;
      PageRecord p;
      p.number = 1;
      p.pdf_page = 1;
      p.text = std::string("certidão de nascimento ") + lot;
      p.image_width = 1000;
      p.image_height = 1400;
      d.pages = {p};
      ASSERT_TRUE(s.PutDocument(d).ok());
    }
    UserRecord admin;
    admin.name = "admin";
    admin.role = Role::kAdmin;
    admin.password_hash = *HashPassword(kLocalPassword);
    ASSERT_TRUE(s.Access().AddUser(admin).ok());
    server_ = StartServer("main", Identity(slapd_->url(), slapd_->ca(), false)).release();
  }
  static void TearDownTestSuite() {
    if (server_) server_->Stop();
    delete server_;
    delete slapd_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }

  static std::string Identity(const std::string& url, const fs::path& ca, bool fallback) {
    const std::string b = kBase;
    return "[local]\nenabled = true\n\n[ldap]\npreset = \"openldap\"\nurl = [\"" + url + "\"]\nstart_tls = true\n"
           "ca_file = \"" + ca.string() + "\"\nbind_dn = \"cn=acervo,ou=services," + b + "\"\n"
           "bind_password_file = \"ldap.secret\"\nbase_dn = \"ou=people," + b + "\"\ngroup_base = \"ou=groups," + b +
           "\"\ncpf_attribute = \"employeeNumber\"\ntimeout = 3\nfallback_to_local = " +
           (fallback ? "true" : "false") +
           "\n\n[[ldap.group]]\ndn = \"CN=Arquivistas, OU=Groups, " + b + "\"\ngroup = \"arquivo\"\nrole = \"reader\"\n"
           "lots = [\"L1\"]\n\n[[ldap.group]]\ndn = \"cn=chefia,ou=groups," + b + "\"\ngroup = \"chefia\"\n"
           "role = \"operator\"\nfull_view = true\nprojects = [\"Projeto L1\", \"Projeto L2\"]\n";
  }
  static std::unique_ptr<Server> StartServer(const std::string& name, const std::string& identity) {
    const fs::path file = *dir_ / (name + "-identity.toml");
    Write(file, identity);
    Write(*dir_ / "ldap.secret", "servico-secreto\n");
    ServerOptions o;
    o.store = (*dir_ / "acervo.db").string();
    o.port = 0;
    o.workers = 4;
    o.identity_file = file;
    Result<std::unique_ptr<Server>> server = Server::Create(o);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (!server.ok()) return nullptr;
    EXPECT_TRUE((*server)->Start().ok());
    return std::move(server).value();
  }
  static std::unique_ptr<Store> OpenDb() { return std::move(OpenSqliteStore(*dir_ / "acervo.db").value()); }
  // The newest login_failed row's detail for `user`.
  static std::string FailureReason(const std::string& user) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    AuditFilter f;
    f.action = "login_failed";
    f.limit = 100;
    std::unique_ptr<Store> db = OpenDb();
    const std::vector<AuditRow> rows = db->Access().ListAudit(f).value();
    for (const AuditRow& row : rows) {
      if (row.entry.target == user) return row.entry.detail;
    }
    return "";
  }

  static fs::path* dir_;
  static Slapd* slapd_;
  static Server* server_;
};
fs::path* LdapLoginTest::dir_ = nullptr;
Slapd* LdapLoginTest::slapd_ = nullptr;
Server* LdapLoginTest::server_ = nullptr;

TEST_F(LdapLoginTest, AnArchivistOfTheDirectorySeesOnlyTheGroupsLots) {
  Client c(server_->port());
  ASSERT_EQ(c.Login("maria", "maria-senha-1"), 303);
  httplib::Result r = c.Get("/api/v1/me");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["lots"], json::array({"L1"}));
  r = c.Get("/api/v1/search?q=certidao");
  ASSERT_TRUE(r);
  json j = json::parse(r->body);
  ASSERT_EQ(j["hits"].size(), 1u) << r->body;
  EXPECT_EQ(j["hits"][0]["lot"], "L1");
  r = c.Get("/doc/L2/d1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Get("/doc/L1/d1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/admin/users");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);  // a reader
  // Mirrored from the directory: name, role, group, CPF; no local password.
  std::optional<UserRecord> u = OpenDb()->Access().GetUser("maria").value();
  ASSERT_TRUE(u);
  EXPECT_EQ(u->source, "ldap");
  EXPECT_EQ(u->display_name, "Maria Arquivista");
  EXPECT_EQ(u->role, Role::kReader);
  EXPECT_EQ(u->groups, std::vector<std::string>({"arquivo"}));
  EXPECT_EQ(u->cpf, "52998224725");
  EXPECT_TRUE(u->password_hash.empty());
  // Audited as a directory login.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  AuditFilter f;
  f.action = "login";
  f.user = "maria";
  std::vector<AuditRow> rows = OpenDb()->Access().ListAudit(f).value();
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.front().entry.detail, "ldap");
}

TEST_F(LdapLoginTest, AChiefGetsTheProjectsRoleAndFullViewOfTheMapping) {
  Client c(server_->port());
  ASSERT_EQ(c.Login("chefe", "chefe-senha-1"), 303);
  httplib::Result r = c.Get("/api/v1/me");
  ASSERT_TRUE(r);
  json me = json::parse(r->body);
  EXPECT_EQ(me["lots"], json::array({"L1", "L2"}));  // both projects granted to the group at start
  EXPECT_EQ(me["role"], "operator");
  EXPECT_EQ(me["full_view"], true);
}

TEST_F(LdapLoginTest, WrongPasswordDisabledUngroupedAndInjectionAreRefused) {
  Client c(server_->port());
  EXPECT_EQ(c.Login("maria", "maria-senha-errada"), 401);
  EXPECT_NE(FailureReason("maria").find("refused the password"), std::string::npos) << FailureReason("maria");
  EXPECT_EQ(c.Login("jose", "jose-senha-1"), 401);  // right password, account locked
  EXPECT_NE(FailureReason("jose").find("disabled"), std::string::npos) << FailureReason("jose");
  EXPECT_EQ(c.Login("ana", "ana-senha-1"), 401);
  EXPECT_NE(FailureReason("ana").find("no directory group mapped"), std::string::npos) << FailureReason("ana");
  EXPECT_EQ(c.Login("*", "maria-senha-1"), 401);
  EXPECT_NE(FailureReason("*").find("not in the directory"), std::string::npos) << FailureReason("*");
  EXPECT_EQ(c.Login("maria", ""), 401);  // an empty password is never an anonymous bind
  EXPECT_FALSE(OpenDb()->Access().GetUser("ana").value().has_value());
  // The local administrator still signs in (local users stay).
  EXPECT_EQ(c.Login("admin", kLocalPassword), 303);
}

TEST_F(LdapLoginTest, AnUnreachableDirectoryIsSaidAndLocalUsersWaitUnlessFallback) {
  const std::string dead = "ldap://127.0.0.1:" + std::to_string(FreePort());
  std::unique_ptr<Server> s = StartServer("dead", Identity(dead, slapd_->ca(), false));
  ASSERT_TRUE(s);
  Client c(s->port());
  httplib::Result page = c.Get("/login");
  ASSERT_TRUE(page);
  httplib::Result r = c.Post("/login", {{"user", "maria"}, {"password", "maria-senha-1"}, {"next", "/search"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("LDAP"), std::string::npos);
  EXPECT_NE(FailureReason("maria").find("directory unreachable"), std::string::npos) << FailureReason("maria");
  EXPECT_EQ(c.Login("admin", kLocalPassword), 503);  // no local fallback unless configured
  s->Stop();
  // With fallback_to_local: local users sign in, directory users cannot.
  std::unique_ptr<Server> f = StartServer("fallback", Identity(dead, slapd_->ca(), true));
  ASSERT_TRUE(f);
  Client d(f->port());
  EXPECT_EQ(d.Login("admin", kLocalPassword), 303);
  Client e(f->port());
  EXPECT_EQ(e.Login("maria", "maria-senha-1"), 401);
  f->Stop();
}

TEST_F(LdapLoginTest, ADirectoryCertificateFromAnotherCaIsRefused) {
  std::unique_ptr<Server> s = StartServer("otherca", Identity(slapd_->url(), slapd_->other_ca(), false));
  ASSERT_TRUE(s);
  Client c(s->port());
  EXPECT_EQ(c.Login("maria", "maria-senha-1"), 503);
  EXPECT_NE(FailureReason("maria").find("StartTLS failed"), std::string::npos) << FailureReason("maria");
  EXPECT_NE(FailureReason("maria").find("ca_file"), std::string::npos) << FailureReason("maria");
  s->Stop();
}

}  // namespace
}  // namespace acervo::web
