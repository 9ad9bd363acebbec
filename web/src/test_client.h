// The tests' browser-like HTTP client for `acervo serve` (web_test,
// ldap_auth_test): keeps the session cookie and the last CSRF token, and
// checks the cookie's flags on the way.
#ifndef ACERVO_WEB_TEST_CLIENT_H_
#define ACERVO_WEB_TEST_CLIENT_H_

#include <gtest/gtest.h>
#include <httplib.h>

#include <string>

namespace acervo::web {

class Client {
 public:
  explicit Client(int port) : http_("127.0.0.1", port) { http_.set_read_timeout(30); }
  // Over HTTPS (the server's certificate not checked), presenting the
  // client certificate `cert_pem` / `key_pem` when given (issue 19).
  Client(int port, const std::string& cert_pem, const std::string& key_pem)
      : http_("https://127.0.0.1:" + std::to_string(port), cert_pem, key_pem) {
    http_.set_read_timeout(30);
    http_.enable_server_certificate_verification(false);
  }

  httplib::Result Get(const std::string& path, httplib::Headers extra = {}) {
    AddCookie(&extra);
    httplib::Result r = http_.Get(path.c_str(), extra);
    Remember(r);
    return r;
  }
  httplib::Result Post(const std::string& path, httplib::Params form, bool with_csrf = true,
                       httplib::Headers extra = {}) {
    if (with_csrf) form.emplace("_csrf", csrf_);
    AddCookie(&extra);
    httplib::Result r = http_.Post(path.c_str(), extra, form);
    Remember(r);
    return r;
  }
  httplib::Result PostRaw(const std::string& path, const std::string& body, const std::string& type,
                          httplib::Headers extra = {}) {
    AddCookie(&extra);
    return http_.Post(path.c_str(), extra, body, type.c_str());
  }
  // A multipart/form-data POST (issue 14's uploads), with the session's
  // CSRF token as the field _csrf unless told not to.
  httplib::Result PostMultipart(const std::string& path, httplib::MultipartFormDataItems items, bool with_csrf = true,
                                httplib::Headers extra = {}) {
    if (with_csrf) items.push_back({"_csrf", csrf_, "", ""});
    AddCookie(&extra);
    return http_.Post(path.c_str(), extra, items);
  }
  // A body sent chunked (no Content-Length): `bytes` of 'x'.
  httplib::Result PostChunked(const std::string& path, size_t bytes, const std::string& type) {
    httplib::Headers extra;
    AddCookie(&extra);
    return http_.Post(
        path.c_str(), extra,
        [bytes](size_t offset, httplib::DataSink& sink) {
          if (offset >= bytes) {
            sink.done();
            return true;
          }
          const std::string part(std::min<size_t>(64 << 10, bytes - offset), 'x');
          return sink.write(part.data(), part.size());
        },
        type.c_str());
  }
  // Signs in through the form; the status of the POST.
  int Login(const std::string& user, const std::string& password) {
    httplib::Result page = Get("/login");
    if (!page) return -1;
    const std::string prior = session_;
    httplib::Result r = Post("/login", {{"user", user}, {"password", password}, {"next", "/search"}});
    if (!r) return -1;
    if (r->status == 303) {
      EXPECT_NE(session_, prior) << "a new session id at login";
      Get("/search");  // picks up the session's CSRF token
    }
    return r->status;
  }
  const std::string& session() const { return session_; }
  const std::string& csrf() const { return csrf_; }
  void ForgetCookie() { session_.clear(); }

 private:
  void AddCookie(httplib::Headers* h) {
    if (!session_.empty()) h->emplace("Cookie", "acervo_session=" + session_);
  }
  void Remember(const httplib::Result& r) {
    if (!r) return;
    for (const auto& [k, v] : r->headers) {
      if (k == "Set-Cookie" && v.rfind("acervo_session=", 0) == 0) {
        session_ = v.substr(15, v.find(';') - 15);
        EXPECT_NE(v.find("HttpOnly"), std::string::npos) << v;
        EXPECT_NE(v.find("SameSite=Strict"), std::string::npos) << v;
      }
    }
    const std::string& b = r->body;
    const size_t at = b.find("name=\"_csrf\" value=\"");
    if (at != std::string::npos) csrf_ = b.substr(at + 20, b.find('"', at + 20) - at - 20);
  }
  httplib::Client http_;
  std::string session_, csrf_;
};

}  // namespace acervo::web

#endif  // ACERVO_WEB_TEST_CLIENT_H_
