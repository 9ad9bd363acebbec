#include "timestamp.h"

#include <httplib.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509_vfy.h>

#include <cctype>
#include <cstring>
#include <ctime>

#include "openssl_util.h"

namespace acervo {
namespace {

using openssl::AlgorPtr;
using openssl::BioPtr;
using openssl::Bytes;
using openssl::CmsPtr;
using openssl::LastError;
using openssl::OidText;
using openssl::StorePtr;
using openssl::ToDer;
using openssl::TsReqPtr;
using openssl::TsRespPtr;
using openssl::TstInfoPtr;

// A time-stamp reply is a few kilobytes (the token and the TSA's chain); a
// server sending more is not a TSA.
constexpr size_t kMaxReplyBytes = 1 << 20;

struct VerifyCtxFree {
  void operator()(TS_VERIFY_CTX* c) const { TS_VERIFY_CTX_free(c); }
};
struct MsgImprintFree {
  void operator()(TS_MSG_IMPRINT* m) const { TS_MSG_IMPRINT_free(m); }
};
struct IntegerFree {
  void operator()(ASN1_INTEGER* i) const { ASN1_INTEGER_free(i); }
};

std::string IsoTime(const ASN1_GENERALIZEDTIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What went wrong with the HTTP exchange, in words an operator can act on.
std::string Describe(httplib::Error e, int timeout_s) {
  const std::string t = std::to_string(timeout_s) + " s";
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect (nothing answers at that address and port, or the name does not resolve)";
    case httplib::Error::ConnectionTimeout:
      return "no connection within " + t;
    case httplib::Error::Read:
      return "no complete reply within " + t + " (or the connection was closed)";
    case httplib::Error::Write:
      return "cannot send the request within " + t;
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the system's CA certificates for HTTPS";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate is not trusted by the system's CA certificates";
    default:
      return "HTTP client error " + httplib::to_string(e);
  }
}

// Splits http(s)://host[:port][/path] into origin and path; false when the
// URL is not of that shape.
bool SplitUrl(const std::string& url, std::string* origin, std::string* path) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  size_t host_begin = scheme_end + 3;
  size_t slash = url.find('/', host_begin);
  std::string host = url.substr(host_begin, slash == std::string::npos ? std::string::npos : slash - host_begin);
  if (host.empty() || host.front() == ':') return false;
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '@' || c == '?' || c == '#') return false;
  }
  *origin = scheme + "://" + host;
  *path = slash == std::string::npos ? "/" : url.substr(slash);
  return true;
}

// The TimeStampReq for `digest` (SHA-256) with `nonce`.
TsReqPtr MakeRequest(const unsigned char* digest, unsigned digest_len, ASN1_INTEGER* nonce) {
  TsReqPtr req(TS_REQ_new());
  std::unique_ptr<TS_MSG_IMPRINT, MsgImprintFree> imprint(TS_MSG_IMPRINT_new());
  AlgorPtr alg(X509_ALGOR_new());
  if (!req || !imprint || !alg) return nullptr;
  X509_ALGOR_set_md(alg.get(), EVP_sha256());
  // The set_ functions copy their arguments.
  if (TS_REQ_set_version(req.get(), 1) != 1 || TS_MSG_IMPRINT_set_algo(imprint.get(), alg.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<unsigned char*>(digest), static_cast<int>(digest_len)) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 || TS_REQ_set_nonce(req.get(), nonce) != 1 ||
      TS_REQ_set_cert_req(req.get(), 1) != 1) {
    return nullptr;
  }
  return req;
}

}  // namespace

struct TimestampClient::Trust {
  StorePtr store;
};

TimestampClient::TimestampClient(TimestampAuthorityOptions options, std::string origin, std::string path,
                                 std::unique_ptr<Trust> trust)
    : options_(std::move(options)), origin_(std::move(origin)), path_(std::move(path)), trust_(std::move(trust)) {}

TimestampClient::~TimestampClient() = default;

Result<std::unique_ptr<TimestampClient>> TimestampClient::Create(const TimestampAuthorityOptions& options) {
  std::string origin, path;
  if (!SplitUrl(options.url, &origin, &path)) {
    return Status::InvalidArgument("time-stamp authority URL '" + options.url +
                                   "' is not http://host[:port]/path or https://...");
  }
  if (options.ca_file.empty()) {
    return Status::InvalidArgument("time-stamp authority " + options.url +
                                   " needs the CA certificates its certificate must chain to");
  }
  if (options.timeout_s <= 0) return Status::InvalidArgument("time-stamp authority timeout must be positive");
  auto trust = std::make_unique<Trust>();
  trust->store.reset(X509_STORE_new());
  if (!trust->store || X509_STORE_load_file(trust->store.get(), options.ca_file.c_str()) != 1) {
    return Status::Unavailable("cannot read the time-stamp authority's CA certificates from " +
                               options.ca_file.string() + ": " + LastError());
  }
  return std::unique_ptr<TimestampClient>(
      new TimestampClient(options, std::move(origin), std::move(path), std::move(trust)));
}

Result<std::vector<uint8_t>> TimestampClient::Stamp(std::span<const uint8_t> data) const {
  const std::string who = "time-stamp authority " + options_.url;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned digest_len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &digest_len, EVP_sha256(), nullptr) != 1) {
    return Status::Internal(who + ": cannot hash: " + LastError());
  }
  // A fresh random nonce binds the reply to this request (RFC 3161 2.4.1):
  // a replayed or cached reply fails the comparison below.
  unsigned char nonce_bytes[8];
  if (RAND_bytes(nonce_bytes, sizeof(nonce_bytes)) != 1) return Status::Internal(who + ": no random nonce");
  nonce_bytes[0] &= 0x7F;  // positive
  std::unique_ptr<ASN1_INTEGER, IntegerFree> nonce(ASN1_INTEGER_new());
  BIGNUM* bn = BN_bin2bn(nonce_bytes, sizeof(nonce_bytes), nullptr);
  if (!nonce || bn == nullptr || BN_to_ASN1_INTEGER(bn, nonce.get()) == nullptr) {
    BN_free(bn);
    return Status::Internal(who + ": cannot make a nonce");
  }
  BN_free(bn);
  TsReqPtr request = MakeRequest(digest, digest_len, nonce.get());
  if (!request) return Status::Internal(who + ": cannot build the request: " + LastError());
  std::vector<uint8_t> query = ToDer(i2d_TS_REQ, request.get());
  if (query.empty()) return Status::Internal(who + ": cannot encode the request: " + LastError());

  httplib::Client http(origin_);
  http.set_connection_timeout(options_.timeout_s, 0);
  http.set_read_timeout(options_.timeout_s, 0);
  http.set_write_timeout(options_.timeout_s, 0);
  http.set_follow_location(false);
  if (!options_.user.empty()) http.set_basic_auth(options_.user, options_.password);
  httplib::Request req;
  req.method = "POST";
  req.path = path_;
  req.body.assign(query.begin(), query.end());
  req.set_header("Content-Type", "application/timestamp-query");
  req.set_header("Accept", "application/timestamp-reply");
  std::string reply;
  bool too_large = false;
  req.content_receiver = [&](const char* bytes, size_t n, uint64_t, uint64_t) {
    if (reply.size() + n > kMaxReplyBytes) {
      too_large = true;
      return false;
    }
    reply.append(bytes, n);
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  if (!http.send(req, res, error)) {
    if (too_large) return Status::Corrupt(who + ": reply larger than " + std::to_string(kMaxReplyBytes) + " bytes");
    return Status::Unavailable(who + ": " + Describe(error, options_.timeout_s));
  }
  if (res.status != 200) {
    return Status::Unavailable(who + ": HTTP " + std::to_string(res.status) +
                               (res.reason.empty() ? "" : " " + res.reason));
  }
  const std::string type = res.get_header_value("Content-Type");
  if (type.rfind("application/timestamp-reply", 0) != 0) {
    return Status::Corrupt(who + ": answered '" + type + "', not application/timestamp-reply");
  }

  const unsigned char* p = reinterpret_cast<const unsigned char*>(reply.data());
  TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(reply.size())));
  if (!response) return Status::Corrupt(who + ": the reply is not an RFC 3161 time-stamp response");
  // Status granted, version, the imprint and nonce of this request, and the
  // token's signature by a timeStamping certificate that chains to the
  // configured CAs (the ESS signing-certificate of the token included).
  std::unique_ptr<TS_VERIFY_CTX, VerifyCtxFree> ctx(TS_REQ_to_TS_VERIFY_CTX(request.get(), nullptr));
  if (!ctx) return Status::Internal(who + ": " + LastError());
  X509_STORE_up_ref(trust_->store.get());  // the context frees its store
  TS_VERIFY_CTX_set_store(ctx.get(), trust_->store.get());
  TS_VERIFY_CTX_add_flags(ctx.get(), TS_VFY_SIGNATURE);
  if (TS_RESP_verify_response(ctx.get(), response.get()) != 1) {
    std::string why = LastError();
    TS_STATUS_INFO* status = TS_RESP_get_status_info(response.get());
    if (status != nullptr && ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status)) > 1) {
      why = "request not granted (status " + std::to_string(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status))) + ")";
      const STACK_OF(ASN1_UTF8STRING)* text = TS_STATUS_INFO_get0_text(status);
      if (text != nullptr && sk_ASN1_UTF8STRING_num(text) > 0) {
        std::span<const uint8_t> t = Bytes(sk_ASN1_UTF8STRING_value(text, 0));
        why += ": " + std::string(t.begin(), t.end());
      }
    }
    ERR_clear_error();
    return Status::Corrupt(who + ": the reply does not verify: " + why);
  }
  std::vector<uint8_t> token = ToDer(i2d_PKCS7, TS_RESP_get_token(response.get()));
  if (token.empty()) return Status::Corrupt(who + ": the reply holds no token");
  return token;
}

Result<TimestampFacts> CheckTimestampToken(std::span<const uint8_t> token, std::span<const uint8_t> data) {
  const unsigned char* p = token.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(token.size())));
  if (!cms) return Status::Corrupt("time-stamp token is not a CMS SignedData");
  if (OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_id_smime_ct_TSTInfo) {
    return Status::Corrupt("time-stamp token does not hold a TSTInfo");
  }
  // Integrity of the token (its CMS signature over the TSTInfo); trusting
  // the authority's certificate is the reader's policy, as for the signer.
  BioPtr content(BIO_new(BIO_s_mem()));
  if (!content) return Status::Internal("out of memory");
  if (CMS_verify(cms.get(), nullptr, nullptr, nullptr, content.get(), CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    return Status::Corrupt("time-stamp token signature does not verify: " + LastError());
  }
  char* info_bytes = nullptr;
  const long info_len = BIO_get_mem_data(content.get(), &info_bytes);
  const unsigned char* q = reinterpret_cast<const unsigned char*>(info_bytes);
  TstInfoPtr info(d2i_TS_TST_INFO(nullptr, &q, info_len));
  if (!info) return Status::Corrupt("time-stamp token's TSTInfo does not parse");
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(info.get());
  const ASN1_OBJECT* alg = nullptr;
  X509_ALGOR_get0(&alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  const EVP_MD* md = EVP_get_digestbyobj(alg);
  if (md == nullptr) return Status::Corrupt("time-stamp imprint uses an unknown hash " + OidText(alg));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned digest_len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &digest_len, md, nullptr) != 1) {
    return Status::Internal("cannot hash: " + LastError());
  }
  std::span<const uint8_t> stamped = Bytes(TS_MSG_IMPRINT_get_msg(imprint));
  if (stamped.size() != digest_len || std::memcmp(stamped.data(), digest, digest_len) != 0) {
    return Status::Corrupt("time-stamp token is not over this signature value (message imprint differs)");
  }
  TimestampFacts facts;
  facts.time = IsoTime(TS_TST_INFO_get_time(info.get()));
  STACK_OF(X509)* signers = CMS_get0_signers(cms.get());
  if (signers != nullptr && sk_X509_num(signers) > 0) facts.authority = openssl::SubjectName(sk_X509_value(signers, 0));
  sk_X509_free(signers);
  return facts;
}

}  // namespace acervo
