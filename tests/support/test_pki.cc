#include "support/test_pki.h"

#include <fstream>
#include <vector>

#include "support/process.h"

namespace acervo::testing {
namespace {

namespace fs = std::filesystem;

// A key and a certificate for `subject` issued by `ca` (ca.crt + ca.key),
// with the extensions of `ext_file`.
std::vector<std::vector<std::string>> IssueSteps(const fs::path& dir, const std::string& name,
                                                 const std::string& subject, const std::string& ca,
                                                 const fs::path& ext_file) {
  const std::string key = (dir / (name + ".key")).string();
  const std::string csr = (dir / (name + ".csr")).string();
  return {
      {"openssl", "req", "-utf8", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subject},
      {"openssl", "x509", "-req", "-in", csr, "-CA", (dir / (ca + ".crt")).string(), "-CAkey",
       (dir / (ca + ".key")).string(), "-CAcreateserial", "-out", (dir / (name + ".crt")).string(), "-days", "2",
       "-extfile", ext_file.string()},
  };
}

std::vector<std::string> CaStep(const fs::path& dir, const std::string& name, const std::string& subject) {
  return {"openssl", "req", "-x509", "-utf8", "-newkey", "rsa:2048", "-nodes", "-keyout",
          (dir / (name + ".key")).string(), "-out", (dir / (name + ".crt")).string(), "-days", "2", "-subj",
          subject, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"};
}

}  // namespace

std::string MakeTestPki(const fs::path& dir, const std::string& signer_subject, const std::string& p12_password,
                        TestPki* pki) {
  const fs::path signer_ext = dir / "signer.ext";
  const fs::path tsa_ext = dir / "tsa.ext";
  std::ofstream(signer_ext) << "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n";
  // RFC 3161 2.3: the TSA's certificate has exactly one, critical, extended
  // key usage: timeStamping. OpenSSL refuses to sign or verify otherwise.
  std::ofstream(tsa_ext) << "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
                            "extendedKeyUsage=critical,timeStamping\n";
  std::vector<std::vector<std::string>> steps = {CaStep(dir, "ca", "/O=Acervo Testes/CN=Acervo Test CA"),
                                                 CaStep(dir, "other-ca", "/CN=Outra AC de Teste")};
  for (auto& s : IssueSteps(dir, "signer", signer_subject, "ca", signer_ext)) steps.push_back(s);
  for (auto& s : IssueSteps(dir, "tsa", "/O=Acervo Testes/CN=ACT de Teste", "ca", tsa_ext)) steps.push_back(s);
  for (auto& s : IssueSteps(dir, "other-tsa", "/CN=ACT Desconhecida", "other-ca", tsa_ext)) steps.push_back(s);
  steps.push_back({"openssl", "pkcs12", "-export", "-inkey", (dir / "signer.key").string(), "-in",
                   (dir / "signer.crt").string(), "-certfile", (dir / "ca.crt").string(), "-out",
                   (dir / "signer.p12").string(), "-passout", "pass:" + p12_password});
  for (const auto& argv : steps) {
    ProcessResult r = RunProcess(argv);
    if (r.exit_code != 0) return argv[1] + " " + argv.back() + ": " + r.err;
  }
  pki->ca_cert = dir / "ca.crt";
  pki->signer_cert = dir / "signer.crt";
  pki->signer_p12 = dir / "signer.p12";
  pki->p12_password = p12_password;
  pki->tsa_cert = dir / "tsa.crt";
  pki->tsa_key = dir / "tsa.key";
  pki->other_ca_cert = dir / "other-ca.crt";
  pki->other_tsa_cert = dir / "other-tsa.crt";
  pki->other_tsa_key = dir / "other-tsa.key";
  return "";
}

}  // namespace acervo::testing
