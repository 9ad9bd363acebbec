// A local RFC 3161 time-stamp authority for tests: an HTTP server (cpp-httplib)
// on 127.0.0.1 with a port the OS assigns, answering POST /tsa with replies
// made by OpenSSL's TS API (the code behind `openssl ts -reply`) and signed
// with the TestPki's time-stamp authority certificate. It can also answer
// wrongly, the ways a real authority or something posing as one can.
// Test-only helper.
//
// Thread-safety: the server answers on its own threads; set_answer() and
// requests() may be called from the test's thread at any time.
#ifndef ACERVO_TESTS_SUPPORT_TEST_TSA_H_
#define ACERVO_TESTS_SUPPORT_TEST_TSA_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "support/test_pki.h"

namespace acervo::testing {

class TestTsa {
 public:
  enum class Answer {
    kGood,           // a granted, correct token
    kWrongNonce,     // a token for the same imprint but another nonce
    kWrongImprint,   // a token for other data with the request's nonce
    kRejected,       // status rejection (badAlg), no token
    kOtherCa,        // a correct token signed by the other CA's authority
    kHttpError,      // HTTP 500
    kNotTimestamp,   // HTTP 200, application/timestamp-reply, not DER
  };

  explicit TestTsa(const TestPki& pki);
  ~TestTsa();  // stops the server

  // Starts listening; false when the server cannot start. With `tls`, over
  // HTTPS with the authority's own certificate, which no client trusts for
  // TLS (a private CA, and no serverAuth usage).
  bool Start(bool tls = false);
  void Stop();

  // http(s)://127.0.0.1:PORT/tsa
  std::string url() const;
  void set_answer(Answer a) { answer_ = a; }
  int requests() const { return requests_; }

 private:
  std::string Reply(const std::string& query, Answer a) const;

  TestPki pki_;
  struct Server;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = -1;
  bool tls_ = false;
  std::atomic<Answer> answer_{Answer::kGood};
  std::atomic<int> requests_{0};
};

}  // namespace acervo::testing

#endif  // ACERVO_TESTS_SUPPORT_TEST_TSA_H_
