#include "acervo/web/auth.h"

#include <sodium.h>

namespace acervo::web {

Result<std::string> HashPassword(const std::string& password) {
  if (password.size() < kMinPasswordLength) {
    return Status::InvalidArgument("a password needs at least " + std::to_string(kMinPasswordLength) + " characters");
  }
  if (password.size() > 1024) return Status::InvalidArgument("a password of more than 1024 bytes");
  if (sodium_init() < 0) return Status::Internal("libsodium cannot initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal("Argon2id hashing failed (out of memory?)");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES || password.size() > 1024) return false;
  if (sodium_init() < 0) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string RandomHex(size_t n) {
  if (sodium_init() < 0) return {};
  std::string bytes(n, '\0');
  randombytes_buf(bytes.data(), n);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<AuthResult> PasswordAuthenticator::Authenticate(const Credentials& c) {
  // A hash to verify against when the user is unknown, so that an unknown
  // name costs the same time as a wrong password.
  static const std::string kDummy = [] {
    Result<std::string> h = HashPassword("not-a-real-password-0000");
    return h.ok() ? *h : std::string();
  }();
  AuthResult out;
  Result<std::optional<UserRecord>> u =
      ValidUserName(c.user) ? access_->GetUser(c.user) : Result<std::optional<UserRecord>>(std::optional<UserRecord>());
  if (!u.ok()) return u.status();
  // A directory user ("ldap") signs in through the directory only, even
  // if someone gave them a local password: the directory decides.
  if (!u->has_value() || (**u).password_hash.empty() || (**u).source != "local") {
    (void)VerifyPassword(kDummy, c.password);
    out.reason = !u->has_value() ? "unknown user"
                 : (**u).source != "local" ? "a " + (**u).source + " user signs in through the " + (**u).source
                                           : "user has no local password";
    return out;
  }
  if (!VerifyPassword((**u).password_hash, c.password)) {
    out.reason = "wrong password";
    return out;
  }
  if ((**u).disabled) {
    out.reason = "user is disabled";
    return out;
  }
  out.ok = true;
  out.user = **u;
  return out;
}

}  // namespace acervo::web
