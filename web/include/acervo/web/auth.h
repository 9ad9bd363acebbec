// Signing in: the authenticator seam of `acervo serve`, and local passwords.
//
// An Authenticator turns credentials into a user of the AccessStore, or
// says no. The server asks each configured authenticator that accepts the
// kind of credentials in turn (local passwords here; LDAP/Active Directory
// in ldap_auth.h, put together from an identity file by identity.h);
// throttling, sessions,
// auditing and the role checks stay in the server, whatever proved the
// identity. An authenticator that cannot work (its directory does not
// answer) stops the login there — unless it says others may answer then
// (FallbackWhenUnavailable), the configured "local fallback".
//
// Passwords are hashed with Argon2id (libsodium's crypto_pwhash_str,
// interactive limits: 64 MiB, 2 passes), which makes each guess cost memory
// as well as time; the hash string carries its salt and parameters, so
// older hashes stay verifiable when the limits change.
//
// Thread-safety: HashPassword/VerifyPassword are safe from any thread; an
// Authenticator must be callable concurrently.
#ifndef ACERVO_WEB_AUTH_H_
#define ACERVO_WEB_AUTH_H_

#include <optional>
#include <string>

#include "acervo/core/status.h"
#include "acervo/indexer/access_store.h"

namespace acervo::web {

// What a client presented.
struct Credentials {
  std::string user;
  std::string password;
  std::string remote_addr;
  // For authenticators that need more (a TLS client certificate in PEM,
  // issue 19): "" when none.
  std::string client_certificate_pem;
};

struct AuthResult {
  bool ok = false;
  UserRecord user;     // when ok
  std::string reason;  // when not: for the audit trail, never shown to the client
  // When not empty: what the client is told instead of the generic "wrong
  // user name or password" (a certificate's holder is told why it was
  // refused: expired, revoked, not trusted).
  std::string user_message;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual std::string Name() const = 0;  // "password", "ldap", "certificate"
  // Whether these credentials are of the kind this authenticator checks:
  // by default a user name with a password (no client certificate).
  virtual bool Accepts(const Credentials& credentials) const {
    return credentials.client_certificate_pem.empty() && !credentials.user.empty();
  }
  // ok with the user, or not ok with a reason. A Status error only when the
  // authenticator itself cannot work (directory unreachable): its message
  // goes to the audit trail and the server's log.
  virtual Result<AuthResult> Authenticate(const Credentials& credentials) = 0;
  // When Authenticate fails with a Status error, may the next
  // authenticators still answer? Default no: an unreachable directory is
  // said as such, not silently replaced by another identity source.
  virtual bool FallbackWhenUnavailable() const { return false; }
};

// Local users of the AccessStore with an Argon2id password hash. A disabled
// user, an unknown user and a wrong password all fail (with different
// reasons for the audit trail); an unknown user costs a hash verification
// too, so timing does not tell which.
class PasswordAuthenticator final : public Authenticator {
 public:
  explicit PasswordAuthenticator(AccessStore* access) : access_(access) {}
  std::string Name() const override { return "password"; }
  Result<AuthResult> Authenticate(const Credentials& credentials) override;

 private:
  AccessStore* access_;
};

// Minimum password length accepted by HashPassword.
inline constexpr size_t kMinPasswordLength = 10;

// The Argon2id hash string of `password`. InvalidArgument when shorter than
// kMinPasswordLength or longer than 1024 bytes; Internal when libsodium
// cannot run (out of memory).
Result<std::string> HashPassword(const std::string& password);
// True when `password` matches `hash` (a string from HashPassword).
bool VerifyPassword(const std::string& hash, const std::string& password);

// `n` random bytes as lower-case hex (libsodium's CSPRNG).
std::string RandomHex(size_t n);

}  // namespace acervo::web

#endif  // ACERVO_WEB_AUTH_H_
