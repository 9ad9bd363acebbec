// Directory login: LDAP and Active Directory through OpenLDAP's client
// library (libldap), for `acervo serve`.
//
// A login is: connect to the first directory URL that answers (ldaps://,
// or ldap:// upgraded with StartTLS; the directory's certificate must
// chain to `ca_file`, host name checked), bind as the service account,
// search the user's entry with `user_filter` ({user} is the typed name,
// escaped as RFC 4515 says), refuse it when it matches `disabled_filter`,
// bind as the entry's DN with the typed password on a fresh connection
// (an empty password is refused before: a simple bind without one is an
// anonymous bind that "succeeds"), then read the entry's groups
// (`group_filter` search, or the `member_of_attribute` values) and map
// them, by DN, to Acervo roles and groups (LdapGroupMapping). The user is
// then mirrored into the AccessStore as a "ldap" user (name, display name,
// role, groups, CPF; no local password) so sessions, grants, the admin
// page and the audit trail work as for local users.
//
// What the server is told:
//  - Status Unavailable: no directory URL answered, TLS failed, the
//    service account was refused, or a search timed out (the message names
//    the directory and the reason). No local fallback unless
//    `fallback_to_local`.
//  - not ok, with the reason for the audit trail: not in the directory,
//    several entries, disabled, wrong password (Active Directory's
//    sub-codes — 52e, 530, 531, 532, 533, 701, 773, 775 — are named), in no
//    mapped group, a local user of the same name exists.
//  - ok: the mirrored user.
//
// Thread-safety: Authenticate may be called from several threads (each
// call uses its own connections); the AccessStore serialises its calls.
#ifndef ACERVO_WEB_LDAP_AUTH_H_
#define ACERVO_WEB_LDAP_AUTH_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/access_store.h"
#include "acervo/web/auth.h"

namespace acervo::web {

// A directory group and what its members get in Acervo.
struct LdapGroupMapping {
  std::string dn;      // the group's distinguished name (compared ignoring case and spaces around ',' and '=')
  std::string group;   // the Acervo group its members join (grants are given to it)
  Role role = Role::kReader;
  bool full_view = false;          // members see CPF/CNPJ unmasked
  std::vector<std::string> lots;      // lots granted to `group` (identity.h applies them)
  std::vector<std::string> projects;  // projects granted to `group`
};

struct LdapOptions {
  // Tried in order until one connects: "ldaps://host[:636]" or
  // "ldap://host[:389]" (then `start_tls` is required unless `allow_plain`).
  std::vector<std::string> urls;
  bool start_tls = false;
  std::filesystem::path ca_file;  // PEM: the CAs the directory's certificate must chain to
  bool allow_plain = false;       // ldap:// without TLS (passwords in clear): refused unless set
  std::string bind_dn;            // service account; "" = anonymous search
  std::string bind_password;
  std::string base_dn;            // where users are searched (subtree)
  std::string user_filter = "(&(objectClass=inetOrgPerson)(uid={user}))";
  std::string login_attribute = "uid";   // the Acervo user name (lower-cased)
  std::string name_attribute = "cn";     // the display name
  std::string cpf_attribute;             // optional: the user's CPF, mirrored into Acervo (UserRecord::cpf)
  // Groups: a search under `group_base` (default base_dn) with
  // `group_filter` ({dn} is the user's DN) — or, when group_filter is
  // empty, the values of `member_of_attribute` on the user's entry.
  std::string group_base;
  std::string group_filter = "(&(objectClass=groupOfNames)(member={dn}))";
  std::string member_of_attribute = "memberOf";
  // An entry matching this (tested on the user's entry alone) is disabled.
  std::string disabled_filter;
  int timeout_s = 5;               // connect, and each operation
  bool fallback_to_local = false;  // local users may log in while the directory is unreachable
  std::vector<LdapGroupMapping> groups;
};

// Defaults for a kind of directory: "openldap" (inetOrgPerson, uid,
// groupOfNames, ppolicy's pwdAccountLockedTime) or "active-directory"
// (sAMAccountName or userPrincipalName, memberOf, userAccountControl's
// ACCOUNTDISABLE bit). False for another name.
bool ApplyLdapPreset(const std::string& preset, LdapOptions* options);

// `value` escaped for an LDAP filter (RFC 4515: * ( ) \ NUL and bytes
// above 0x7f as \XX).
std::string EscapeLdapFilterValue(const std::string& value);

// A DN in the form compared with the mapping: lower case, no spaces
// around ',', '=' and '+'.
std::string CanonicalDn(const std::string& dn);

// What an Active Directory bind refusal means, from the "data NNN" in its
// diagnostic message ("" when there is none).
std::string ActiveDirectoryBindReason(const std::string& diagnostic);

class LdapAuthenticator final : public Authenticator {
 public:
  // `access` (not owned) is where directory users are mirrored; it must
  // outlive the authenticator. InvalidArgument for options that cannot
  // work (no URL, ldap:// without TLS and without allow_plain, a bad
  // filter template, no group mapping).
  static Result<std::unique_ptr<LdapAuthenticator>> Create(LdapOptions options, AccessStore* access);

  std::string Name() const override { return "ldap"; }
  Result<AuthResult> Authenticate(const Credentials& credentials) override;
  bool FallbackWhenUnavailable() const override { return options_.fallback_to_local; }

  const LdapOptions& options() const { return options_; }

 private:
  LdapAuthenticator(LdapOptions options, AccessStore* access) : options_(std::move(options)), access_(access) {}
  LdapOptions options_;
  AccessStore* access_;
};

}  // namespace acervo::web

#endif  // ACERVO_WEB_LDAP_AUTH_H_
