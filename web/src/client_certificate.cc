#include "client_certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "acervo/core/personal_numbers.h"

namespace acervo::web {
namespace {

// The ICP-Brasil otherName of a natural person's data (DOC-ICP-04, 7.1.3.1:
// "OID = 2.16.76.1.3.1 e conteúdo = nas primeiras 8 posições, a data de
// nascimento do titular, no formato ddmmaaaa; nas 11 posições subsequentes,
// o CPF do titular; ..." then NIS, RG and its issuer).
constexpr char kPersonDataOid[] = "2.16.76.1.3.1";

std::string OneLine(const X509_NAME* name) {
  if (name == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string s(data, static_cast<size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return s;
}

std::string NotAfter(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, X509_get0_notAfter(cert));
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string s(data, static_cast<size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return s;
}

// The kind and reason of a failed chain check, in the words the audit
// trail and docs/security.md use, with OpenSSL's own text after it.
std::string Describe(int err, X509* cert, std::string* kind) {
  const std::string openssl = X509_verify_cert_error_string(err);
  *kind = "invalid";
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      *kind = "expired";
      return "expired (not valid after " + NotAfter(cert) + ")";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      *kind = "expired";
      return "not yet valid";
    case X509_V_ERR_CERT_REVOKED:
      *kind = "revoked";
      return "revoked (" + openssl + ")";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      *kind = "untrusted";
      return "untrusted: not issued under a configured CA (" + openssl + ")";
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      *kind = "crl";
      return "no CRL of its issuer in the CRL file (" + openssl + ")";
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
      *kind = "crl";
      return "the CRL of its issuer is out of date (" + openssl + ")";
    default:
      return "invalid (" + openssl + ")";
  }
}

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no detail";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

std::optional<std::string> IcpBrasilCpf(X509* cert, std::string* why) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) {
    *why = "no CPF: the certificate has no SubjectAltName (not an ICP-Brasil natural-person certificate)";
    return std::nullopt;
  }
  ASN1_OBJECT* want = OBJ_txt2obj(kPersonDataOid, 1);
  std::optional<std::string> cpf;
  *why = "no CPF: no otherName 2.16.76.1.3.1 in the SubjectAltName (not an ICP-Brasil natural-person certificate)";
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_OTHERNAME || OBJ_cmp(gn->d.otherName->type_id, want) != 0) continue;
    const ASN1_TYPE* v = gn->d.otherName->value;
    // DOC-ICP-04 says OCTET STRING; issuers have also used the string types.
    if (v == nullptr || (v->type != V_ASN1_OCTET_STRING && v->type != V_ASN1_PRINTABLESTRING &&
                         v->type != V_ASN1_UTF8STRING && v->type != V_ASN1_IA5STRING &&
                         v->type != V_ASN1_VISIBLESTRING)) {
      *why = "no CPF: otherName 2.16.76.1.3.1 is not a string";
      break;
    }
    const ASN1_STRING* s = v->value.asn1_string;
    const std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                            static_cast<size_t>(ASN1_STRING_length(s)));
    const std::string digits = value.size() >= 19 ? value.substr(8, 11) : "";
    if (!CpfCheckDigitsOk(digits)) {
      *why = "no CPF: positions 9-19 of otherName 2.16.76.1.3.1 are not a CPF with right check digits";
      break;
    }
    cpf = digits;
    why->clear();
    break;
  }
  ASN1_OBJECT_free(want);
  GENERAL_NAMES_free(names);
  return cpf;
}

Result<std::unique_ptr<ClientCertificateVerifier>> ClientCertificateVerifier::Create(
    const std::filesystem::path& ca_file, const std::filesystem::path& crl_file) {
  std::unique_ptr<ClientCertificateVerifier> v(new ClientCertificateVerifier());
  v->ca_file_ = ca_file;
  v->crl_file_ = crl_file;
  ACERVO_RETURN_IF_ERROR(v->Load());
  return v;
}

Status ClientCertificateVerifier::Load() {
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
  if (X509_STORE_load_file(store.get(), ca_file_.c_str()) != 1 ||
      sk_X509_OBJECT_num(X509_STORE_get0_objects(store.get())) == 0) {
    return Status::InvalidArgument("client CA bundle " + ca_file_.string() +
                                   ": no PEM certificate could be read (" + OpenSslError() + ")");
  }
  if (!crl_file_.empty()) {
    std::error_code ec;
    crl_mtime_ = std::filesystem::last_write_time(crl_file_, ec);
    std::ifstream in(crl_file_, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in || ec) return Status::InvalidArgument("CRL file " + crl_file_.string() + ": cannot be read");
    BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
    int added = 0;
    if (bytes.find("-----BEGIN") != std::string::npos) {
      STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
      for (int i = 0; infos != nullptr && i < sk_X509_INFO_num(infos); ++i) {
        X509_INFO* info = sk_X509_INFO_value(infos, i);
        if (info->crl != nullptr && X509_STORE_add_crl(store.get(), info->crl) == 1) ++added;
      }
      sk_X509_INFO_pop_free(infos, X509_INFO_free);
    } else if (X509_CRL* crl = d2i_X509_CRL_bio(bio, nullptr)) {  // DER, as ICP-Brasil's CAs publish them
      if (X509_STORE_add_crl(store.get(), crl) == 1) ++added;
      X509_CRL_free(crl);
    }
    BIO_free(bio);
    if (added == 0) {
      return Status::InvalidArgument("CRL file " + crl_file_.string() + ": no CRL (PEM or DER) could be read (" +
                                     OpenSslError() + ")");
    }
    // The end-entity certificate is checked against its issuer's CRL; a
    // missing or stale CRL refuses the certificate.
    X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK);
  }
  store_ = std::move(store);
  return Status::OK();
}

bool ClientCertificateVerifier::SetUpContext(SSL_CTX* ctx) const {
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file_.c_str());
  if (names == nullptr) return false;
  SSL_CTX_set_client_CA_list(ctx, names);
  // Asked, not required, not judged here: Check() decides at login, so a
  // browser without a certificate still reaches the password form.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  static const unsigned char kSessionContext[] = "acervo-serve";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return true;
}

CertificateCheck ClientCertificateVerifier::Check(const SSL* ssl) {
  CertificateCheck c;
  X509* leaf = ssl != nullptr ? SSL_get0_peer_certificate(ssl) : nullptr;
  if (leaf == nullptr) {
    c.reason = "no client certificate was presented";
    c.kind = "none";
    return c;
  }
  c.subject = OneLine(X509_get_subject_name(leaf));
  std::shared_ptr<X509_STORE> store;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::error_code ec;
    if (!crl_file_.empty() && std::filesystem::last_write_time(crl_file_, ec) != crl_mtime_ && !ec) {
      const Status s = Load();  // a CRL being replaced: keep the old one until the new one reads
      if (!s.ok()) std::fprintf(stderr, "acervo serve: %s (the previous CRLs stay in use)\n", s.ToString().c_str());
    }
    store = store_;
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, SSL_get_peer_cert_chain(ssl)) != 1) {
    c.reason = "cannot check the certificate (" + OpenSslError() + ")";
    c.kind = "invalid";
    return c;
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    c.reason = Describe(X509_STORE_CTX_get_error(ctx.get()), leaf, &c.kind);
    ERR_clear_error();
    return c;
  }
  std::string why;
  std::optional<std::string> cpf = IcpBrasilCpf(leaf, &why);
  if (!cpf) {
    c.reason = why;
    c.kind = "no_cpf";
    return c;
  }
  c.ok = true;
  c.cpf = *cpf;
  return c;
}

}  // namespace acervo::web
