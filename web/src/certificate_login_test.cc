// ICP-Brasil certificate login (issue 19), end to end over HTTPS on a port
// the OS picks. The test makes its own PKI with the openssl CLI (`openssl
// ca`, so certificates can be back-dated, revoked and listed in a CRL): a
// test CA, e-CPF-shaped client certificates (SubjectAltName otherName
// 2.16.76.1.3.1 = birth date + CPF + NIS + RG, as DOC-ICP-04 lays it out),
// and an unrelated CA. A valid one logs its holder in; expired, revoked,
// other-CA, no-CPF and CPF-of-no-user certificates, and no certificate, are
// refused with the reason in the audit trail; passwords still work on the
// same port.
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <tuple>
#include <vector>
#include <filesystem>
#include <fstream>
#include <string>

#include "acervo/indexer/sqlite_store.h"
#include "acervo/web/auth.h"
#include "acervo/web/server.h"
#include "test_client.h"

namespace acervo::web {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPassword = "senha-segura-1";
constexpr const char* kMariaCpf = "52998224725";   // user "maria"
constexpr const char* kNobodyCpf = "11144477735";  // a valid CPF no user has
constexpr const char* kDisabledCpf = "39053344705";  // user "inativo", disabled

// The otherName value of an e-CPF: ddmmaaaa, CPF, NIS (11), RG (15), issuer.
std::string PersonData(const std::string& cpf) {
  return "01021980" + cpf + "00000000000" + "000000001234567" + "SSPSP";
}

class CertificateLoginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("acervo-cert-login-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_ / "new");
    const std::string d = dir_->string();
    std::ofstream(*dir_ / "ca.cnf") << "[ca]\ndefault_ca = test\n[test]\ndir = " << d
                                    << "\ndatabase = $dir/index.txt\nnew_certs_dir = $dir/new\n"
                                       "certificate = $dir/ca.pem\nprivate_key = $dir/ca.key\nserial = $dir/serial\n"
                                       "crlnumber = $dir/crlnumber\ndefault_md = sha256\ndefault_days = 30\n"
                                       "default_crl_days = 30\npolicy = any\nunique_subject = no\n"
                                       "[any]\ncommonName = supplied\n";
    std::ofstream(*dir_ / "index.txt");
    std::ofstream(*dir_ / "serial") << "1000\n";
    std::ofstream(*dir_ / "crlnumber") << "1000\n";
    // Extension files of the client certificates.
    auto ext = [&](const std::string& name, const std::string& san) {
      std::ofstream(*dir_ / (name + ".ext")) << "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, "
                                                "nonRepudiation, keyEncipherment\nextendedKeyUsage = clientAuth, "
                                                "emailProtection\nsubjectAltName = "
                                             << san << "\n";
    };
    // An e-CPF also carries 2.16.76.1.3.6 (CEI) and 2.16.76.1.3.5 (voter id).
    auto ecpf = [](const std::string& cpf) {
      return "email:maria@example.gov.br, otherName:2.16.76.1.3.1;OCTETSTRING:" + PersonData(cpf) +
             ", otherName:2.16.76.1.3.6;OCTETSTRING:000000000000, otherName:2.16.76.1.3.5;OCTETSTRING:"
             "0000000000000000000";
    };
    ext("maria", ecpf(kMariaCpf));
    ext("nobody", ecpf(kNobodyCpf));
    ext("disabled", ecpf(kDisabledCpf));
    ext("nocpf", "email:maria@example.gov.br");
    ext("badcpf", "otherName:2.16.76.1.3.1;OCTETSTRING:" + PersonData("52998224726"));
    std::string script =
        "set -e; cd " + d +
        "; exec 2>openssl.log"
        "; openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/O=ICP-Brasil/CN=AC Teste Acervo' "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key "
        "-out ca.pem"
        "; openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=Outra AC' "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout other.key "
        "-out other.pem"
        "; openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost -keyout srv.key -out srv.pem";
    // name, extension file, extra `openssl ca` arguments
    const std::vector<std::array<std::string, 3>> certs = {
        {"maria", "maria", ""},
        {"maria2", "maria", ""},
        {"expired", "maria", "-startdate 20200101000000Z -enddate 20200201000000Z"},
        {"revoked", "maria", ""},
        {"nobody", "nobody", ""},
        {"disabled", "disabled", ""},
        {"nocpf", "nocpf", ""},
        {"badcpf", "badcpf", ""}};
    for (const auto& [name, extfile, extra] : certs) {
      script += "; openssl req -newkey rsa:2048 -nodes -subj '/O=ICP-Brasil/CN=MARIA DA SILVA:" + name + "' -keyout " +
                name + ".key -out " + name + ".csr; openssl ca -batch -notext -config ca.cnf -extfile " + extfile +
                ".ext " + extra + " -in " + name + ".csr -out " + name + ".pem";
    }
    // A certificate of the same shape from the other CA.
    script += "; openssl req -newkey rsa:2048 -nodes -subj '/CN=MARIA DA SILVA:other' -keyout stranger.key -out "
              "stranger.csr; openssl x509 -req -days 30 -in stranger.csr -CA other.pem -CAkey other.key "
              "-CAcreateserial -extfile maria.ext -out stranger.pem"
              "; openssl ca -batch -config ca.cnf -revoke revoked.pem -crl_reason keyCompromise"
              "; openssl ca -batch -config ca.cnf -gencrl -out crl.pem";
    const int rc = std::system(("bash -c \"" + script + "\"").c_str());
    ASSERT_EQ(rc, 0) << "openssl could not make the test PKI (scripts/debian-packages.txt: openssl); see " << d
                     << "/openssl.log";

    Result<std::unique_ptr<Store>> s = OpenSqliteStore(*dir_ / "acervo.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (const auto& [name, cpf, disabled] :
         {std::tuple{"maria", kMariaCpf, false}, std::tuple{"op", "", false},
          std::tuple{"inativo", kDisabledCpf, true}}) {
      UserRecord u;
      u.name = name;
      u.role = Role::kReader;
      u.cpf = cpf;
      u.disabled = disabled;
      u.password_hash = *HashPassword(kPassword);
      ASSERT_TRUE((*s)->Access().AddUser(u).ok());
    }
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }

  void SetUp() override {
    ServerOptions o;
    o.store = (*dir_ / "acervo.db").string();
    o.port = 0;
    o.tls_cert = *dir_ / "srv.pem";
    o.tls_key = *dir_ / "srv.key";
    o.tls_client_ca = *dir_ / "ca.pem";
    o.tls_client_crl = *dir_ / "crl.pem";
    Result<std::unique_ptr<Server>> server = Server::Create(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // Logs in with the certificate `c` was made with (none for a plain
  // client): the POST's status; *page gets the answer's body.
  int CertificateLogin(Client* c, std::string* page = nullptr) {
    httplib::Result form = c->Get("/login");
    if (!form) return -1;
    EXPECT_NE(form->body.find("action=\"/login/certificate\""), std::string::npos) << "the login page's button";
    httplib::Result r = c->Post("/login/certificate", {{"next", "/search"}});
    if (!r) return -1;
    if (page != nullptr) *page = r->body;
    return r->status;
  }
  static std::string Cert(const std::string& name) { return (*dir_ / (name + ".pem")).string(); }
  static std::string Key(const std::string& name) { return (*dir_ / (name + ".key")).string(); }

  // The newest audit row of `action`.
  AuditEntry LastAudit(const std::string& action) {
    server_->Stop();  // flushes the audit trail
    std::unique_ptr<Store> s = std::move(OpenSqliteStore(*dir_ / "acervo.db").value());
    AuditFilter f;
    f.action = action;
    std::vector<AuditRow> rows = s->Access().ListAudit(f).value();
    EXPECT_FALSE(rows.empty()) << "no audit row " << action;
    if (rows.empty()) return {};
    AuditRow last = rows.front();
    for (const AuditRow& r : rows) {
      if (r.seq > last.seq) last = r;
    }
    return last.entry;
  }

  // A refusal: 401, the message on the page, the reason in the audit trail.
  void ExpectRefused(const std::string& name, const std::string& reason, const std::string& message) {
    Client c = name.empty() ? Client(server_->port(), "", "") : Client(server_->port(), Cert(name), Key(name));
    std::string page;
    EXPECT_EQ(CertificateLogin(&c, &page), 401) << name;
    EXPECT_NE(page.find(message), std::string::npos) << name << ": " << page;
    httplib::Result after = c.Get("/search");
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 303) << "not signed in";
    const AuditEntry row = LastAudit("login_failed");
    EXPECT_EQ(row.detail.rfind("certificate: ", 0), 0u) << row.detail;
    EXPECT_NE(row.detail.find(reason), std::string::npos) << row.detail;
  }

  static fs::path* dir_;
  std::unique_ptr<Server> server_;
};
fs::path* CertificateLoginTest::dir_ = nullptr;

TEST_F(CertificateLoginTest, AValidECpfLogsItsHolderIn) {
  Client c(server_->port(), Cert("maria"), Key("maria"));
  EXPECT_EQ(CertificateLogin(&c), 303);
  httplib::Result r = c.Get("/search");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("maria"), std::string::npos);
  const AuditEntry row = LastAudit("login");
  EXPECT_EQ(row.user, "maria");
  EXPECT_EQ(row.detail, "certificate");
}

TEST_F(CertificateLoginTest, PasswordsStillWorkWithoutACertificate) {
  Client c(server_->port(), "", "");
  EXPECT_EQ(c.Login("op", kPassword), 303);
  EXPECT_EQ(c.Get("/search")->status, 200);
}

TEST_F(CertificateLoginTest, ExpiredIsRefused) {
  ExpectRefused("expired", "expired (not valid after", "fora do prazo de validade");
}
TEST_F(CertificateLoginTest, RevokedIsRefused) { ExpectRefused("revoked", "revoked (", "revogado"); }
TEST_F(CertificateLoginTest, OtherCaIsRefused) {
  ExpectRefused("stranger", "untrusted: not issued under a configured CA", "não emitido por uma AC aceita");
}
TEST_F(CertificateLoginTest, NoCpfIsRefused) { ExpectRefused("nocpf", "no otherName 2.16.76.1.3.1", "não é um e-CPF"); }
TEST_F(CertificateLoginTest, WrongCpfCheckDigitsAreRefused) {
  ExpectRefused("badcpf", "are not a CPF with right check digits", "não é um e-CPF");
}
TEST_F(CertificateLoginTest, CpfOfNoUserIsRefused) {
  ExpectRefused("nobody", "CPF 111.444.777-35 belongs to no user", "Nenhum usuário do Acervo tem o CPF");
}
TEST_F(CertificateLoginTest, DisabledUserIsRefused) {
  ExpectRefused("disabled", "user inativo is disabled", "usuário desativado");
}
TEST_F(CertificateLoginTest, NoCertificateIsRefused) {
  ExpectRefused("", "no client certificate", "não apresentou um certificado");
}

// A CRL replaced while the server runs is read again at the next login.
TEST_F(CertificateLoginTest, ANewCrlTakesEffectWithoutRestart) {
  {
    Client c(server_->port(), Cert("maria2"), Key("maria2"));
    EXPECT_EQ(CertificateLogin(&c), 303);
  }
  const std::string d = dir_->string();
  ASSERT_EQ(std::system(("cd " + d + " && openssl ca -batch -config ca.cnf -revoke maria2.pem 2>/dev/null && "
                         "openssl ca -batch -config ca.cnf -gencrl -out crl.new 2>/dev/null && mv crl.new crl.pem")
                            .c_str()),
            0);
  fs::last_write_time(*dir_ / "crl.pem", fs::file_time_type::clock::now() + std::chrono::seconds(1));
  ExpectRefused("maria2", "revoked (", "revogado");
}

TEST(CertificateLoginOptionsTest, BadSetupsFailAtCreate) {
  ServerOptions o;
  o.store = "/nonexistent/acervo.db";
  o.port = 0;
  o.tls_client_ca = "/nonexistent/ca.pem";
  const fs::path dir = fs::temp_directory_path() / ("acervo-cert-opts-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ASSERT_TRUE(OpenSqliteStore(dir / "acervo.db").ok());
  o.store = (dir / "acervo.db").string();
  Result<std::unique_ptr<Server>> s = Server::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().ToString().find("needs HTTPS"), std::string::npos) << s.status().ToString();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace acervo::web
