// ICP-Brasil certificate login (issue 19): the checks on a TLS client
// certificate, apart from the server so they can be read and tested whole.
//
// The TLS layer asks every client for a certificate but accepts any (or
// none), so password logins over the same port keep working; whether a
// certificate proves anyone is decided here, at POST /login/certificate:
//  - it must chain to a CA of the configured bundle (the chain the client
//    sent is used as untrusted intermediates), be inside its validity
//    period, and, when a CRL file is configured, not be revoked — with a CRL
//    file, a certificate whose issuer has no (current) CRL there is refused
//    (fail closed);
//  - it must carry the ICP-Brasil natural-person field: SubjectAltName
//    otherName 2.16.76.1.3.1, whose value (DOC-ICP-04) starts with the
//    holder's birth date (8 digits, ddmmaaaa) followed by the CPF (11
//    digits, check digits right).
// Each refusal comes with a reason for the audit trail.
//
// Thread-safety: Check may be called from any number of threads.
#ifndef ACERVO_WEB_SRC_CLIENT_CERTIFICATE_H_
#define ACERVO_WEB_SRC_CLIENT_CERTIFICATE_H_

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "acervo/core/status.h"

namespace acervo::web {

struct CertificateCheck {
  bool ok = false;
  std::string cpf;      // 11 digits, when ok
  std::string subject;  // the certificate's subject, one line ("" without a certificate)
  std::string reason;   // why not, when !ok, for the audit trail: "expired (not valid after ...)", ...
  // The kind of refusal, for the page (text.cc "cert_<kind>"): none,
  // expired, revoked, untrusted, crl, no_cpf, invalid; the server adds
  // no_user and disabled.
  std::string kind;
};

// The CPF of an ICP-Brasil natural-person certificate (SubjectAltName
// otherName 2.16.76.1.3.1), or nullopt with *why set.
std::optional<std::string> IcpBrasilCpf(X509* cert, std::string* why);

class ClientCertificateVerifier {
 public:
  // Reads the CA bundle (PEM, one or more certificates) and, when
  // `crl_file` is not empty, the CRLs (PEM, one or more, or one DER CRL as
  // ICP-Brasil publishes them). InvalidArgument when a file is unreadable
  // or holds none.
  static Result<std::unique_ptr<ClientCertificateVerifier>> Create(const std::filesystem::path& ca_file,
                                                                   const std::filesystem::path& crl_file);

  // Sets up a server TLS context: a certificate is asked for (with the
  // bundle's CA names, so browsers offer the right one) but not required,
  // and not judged at the handshake.
  bool SetUpContext(SSL_CTX* ctx) const;

  // Judges the certificate of a TLS connection (nullptr: none). The CRL
  // file is read again when it has changed since the last check.
  CertificateCheck Check(const SSL* ssl);

 private:
  ClientCertificateVerifier() = default;
  Status Load();  // (re)builds store_ from the files

  std::filesystem::path ca_file_, crl_file_;
  std::mutex mu_;
  std::shared_ptr<X509_STORE> store_;
  std::filesystem::file_time_type crl_mtime_{};
};

}  // namespace acervo::web

#endif  // ACERVO_WEB_SRC_CLIENT_CERTIFICATE_H_
