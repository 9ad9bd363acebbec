// RFC 3161 time-stamps for signatures: a client that asks a time-stamp
// authority (TSA; an ACT in ICP-Brasil) for a token over a signature value
// and checks the answer before anyone uses it, and the reader that
// `acervo verify` uses to check an embedded token later.
//
// The request (RFC 3161 2.4.1): version 1, a SHA-256 message imprint of the
// data, a fresh 64-bit random nonce, certReq true (the token then carries the
// TSA's certificate, so it can be checked without the TSA). It is POSTed over
// HTTP or HTTPS (cpp-httplib) as application/timestamp-query. The reply is
// refused unless its status grants a token, the token's imprint and nonce
// are the request's, and the token's signature verifies with a certificate
// that has the critical timeStamping extended key usage and chains to the
// configured CA file (OpenSSL's TS_RESP_verify_response).
//
// Thread-safety: a TimestampClient is immutable after Create(); Stamp() may
// be called from several threads (one HTTP connection per call).
#ifndef ACERVO_STAGES_PDF_TIMESTAMP_H_
#define ACERVO_STAGES_PDF_TIMESTAMP_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace acervo {

class TimestampClient {
 public:
  // InvalidArgument for a URL that is not http(s)://host[:port][/path] or an
  // empty CA file name; Unavailable when the CA file cannot be read or holds
  // no certificate.
  static Result<std::unique_ptr<TimestampClient>> Create(const TimestampAuthorityOptions& options);
  ~TimestampClient();

  // The DER of a verified time-stamp token (a CMS ContentInfo) over `data`.
  // Unavailable when the authority cannot be reached, times out or answers
  // with an HTTP error; Corrupt when the answer is not a time-stamp reply,
  // is not granted, or does not verify against the request. Every message
  // names the authority's URL.
  Result<std::vector<uint8_t>> Stamp(std::span<const uint8_t> data) const;

  const std::string& url() const { return options_.url; }

 private:
  struct Trust;
  TimestampClient(TimestampAuthorityOptions options, std::string origin, std::string path,
                  std::unique_ptr<Trust> trust);

  TimestampAuthorityOptions options_;
  std::string origin_;  // scheme://host[:port]
  std::string path_;    // /path (at least "/")
  std::unique_ptr<Trust> trust_;
};

// What an embedded signature time-stamp token says.
struct TimestampFacts {
  std::string time;       // genTime, ISO 8601 UTC ("2026-03-01T12:00:00Z")
  std::string authority;  // subject CN of the signing certificate
};

// Checks a token (DER ContentInfo) as found in a signature: its CMS
// signature verifies over its TSTInfo (integrity only; trusting the TSA is
// the reader's policy) and its message imprint is the digest of `data`.
// Corrupt, with the reason, when not.
Result<TimestampFacts> CheckTimestampToken(std::span<const uint8_t> token, std::span<const uint8_t> data);

}  // namespace acervo

#endif  // ACERVO_STAGES_PDF_TIMESTAMP_H_
