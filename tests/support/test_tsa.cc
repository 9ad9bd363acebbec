#include "support/test_tsa.h"

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <chrono>
#include <vector>

namespace acervo::testing {
namespace {

X509* ReadCert(const std::filesystem::path& path) {
  BIO* b = BIO_new_file(path.c_str(), "r");
  X509* x = b == nullptr ? nullptr : PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return x;
}

EVP_PKEY* ReadKey(const std::filesystem::path& path) {
  BIO* b = BIO_new_file(path.c_str(), "r");
  EVP_PKEY* k = b == nullptr ? nullptr : PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return k;
}

std::string Der(TS_REQ* req) {
  unsigned char* der = nullptr;
  int len = i2d_TS_REQ(req, &der);
  std::string out(reinterpret_cast<char*>(der), len > 0 ? static_cast<size_t>(len) : 0);
  OPENSSL_free(der);
  return out;
}

}  // namespace

struct TestTsa::Server {
  std::unique_ptr<httplib::Server> http;
};

TestTsa::TestTsa(const TestPki& pki) : pki_(pki), server_(std::make_unique<Server>()) {}

TestTsa::~TestTsa() { Stop(); }

bool TestTsa::Start(bool tls) {
  tls_ = tls;
  if (tls) {
    server_->http = std::make_unique<httplib::SSLServer>(pki_.tsa_cert.c_str(), pki_.tsa_key.c_str());
  } else {
    server_->http = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *server_->http;
  http.Post("/tsa", [this](const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    const Answer a = answer_;
    if (a == Answer::kHttpError) {
      res.status = 500;
      res.set_content("erro interno", "text/plain");
      return;
    }
    if (a == Answer::kNotTimestamp) {
      res.set_content("isto não é uma resposta de carimbo do tempo", "application/timestamp-reply");
      return;
    }
    if (req.get_header_value("Content-Type") != "application/timestamp-query") {
      res.status = 415;
      return;
    }
    res.set_content(Reply(req.body, a), "application/timestamp-reply");
  });
  port_ = http.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) return false;
  thread_ = std::thread([&http] { http.listen_after_bind(); });
  for (int i = 0; i < 500 && !http.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return http.is_running();
}

void TestTsa::Stop() {
  if (thread_.joinable()) {
    server_->http->stop();
    thread_.join();
  }
}

std::string TestTsa::url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + "/tsa";
}

// What `openssl ts -reply` does, through the same API: parse the request,
// sign a TSTInfo for it. The wrong answers change the request first (so the
// token is well-formed but for something else) or sign with the other CA's
// authority.
std::string TestTsa::Reply(const std::string& query, Answer a) const {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(query.data());
  TS_REQ* req = d2i_TS_REQ(nullptr, &p, static_cast<long>(query.size()));
  if (req == nullptr) return "";
  if (a == Answer::kWrongNonce) {
    const ASN1_INTEGER* nonce = TS_REQ_get_nonce(req);
    ASN1_INTEGER* other = ASN1_INTEGER_new();
    ASN1_INTEGER_set_int64(other, nonce == nullptr ? 1 : ASN1_INTEGER_get(nonce) ^ 0x5A5A);
    TS_REQ_set_nonce(req, other);
    ASN1_INTEGER_free(other);
  }
  if (a == Answer::kWrongImprint) {
    ASN1_OCTET_STRING* msg = TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(req));
    std::vector<unsigned char> changed(ASN1_STRING_get0_data(msg), ASN1_STRING_get0_data(msg) + ASN1_STRING_length(msg));
    if (!changed.empty()) changed[0] ^= 0xFF;
    ASN1_OCTET_STRING_set(msg, changed.data(), static_cast<int>(changed.size()));
  }
  const std::string request = Der(req);
  TS_REQ_free(req);

  const bool other = a == Answer::kOtherCa;
  X509* cert = ReadCert(other ? pki_.other_tsa_cert : pki_.tsa_cert);
  EVP_PKEY* key = ReadKey(other ? pki_.other_tsa_key : pki_.tsa_key);
  X509* ca = ReadCert(other ? pki_.other_ca_cert : pki_.ca_cert);
  STACK_OF(X509)* chain = sk_X509_new_null();
  sk_X509_push(chain, ca);
  ASN1_OBJECT* policy = OBJ_txt2obj("1.3.6.1.4.1.99999.1.1", 1);
  TS_RESP_CTX* ctx = TS_RESP_CTX_new();
  TS_RESP_CTX_set_signer_cert(ctx, cert);
  TS_RESP_CTX_set_signer_key(ctx, key);
  TS_RESP_CTX_set_certs(ctx, chain);
  TS_RESP_CTX_set_def_policy(ctx, policy);
  TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256());
  TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256());
  // Without any accepted digest the authority rejects the request (badAlg).
  if (a != Answer::kRejected) TS_RESP_CTX_add_md(ctx, EVP_sha256());
  BIO* in = BIO_new_mem_buf(request.data(), static_cast<int>(request.size()));
  TS_RESP* resp = TS_RESP_create_response(ctx, in);
  std::string reply;
  if (resp != nullptr) {
    unsigned char* der = nullptr;
    int len = i2d_TS_RESP(resp, &der);
    if (len > 0) reply.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  }
  TS_RESP_free(resp);
  BIO_free(in);
  TS_RESP_CTX_free(ctx);
  ASN1_OBJECT_free(policy);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(key);
  X509_free(cert);
  return reply;
}

}  // namespace acervo::testing
