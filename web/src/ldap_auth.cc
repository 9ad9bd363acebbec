// Directory login over OpenLDAP's libldap (ldap_auth.h): one login is a
// few named steps over one LdapLogin context — connect (service), find the
// entry, check it is enabled, bind as the user, read the groups, map them,
// mirror the user.
#include "acervo/web/ldap_auth.h"

#include <ldap.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "acervo/core/personal_numbers.h"

namespace acervo::web {
namespace {

// ------------------------------------------------------------ handles --

struct LdapCloser {
  void operator()(LDAP* ld) const {
    if (ld != nullptr) ldap_unbind_ext_s(ld, nullptr, nullptr);
  }
};
using LdapPtr = std::unique_ptr<LDAP, LdapCloser>;

struct MessageCloser {
  void operator()(LDAPMessage* m) const {
    if (m != nullptr) ldap_msgfree(m);
  }
};
using MessagePtr = std::unique_ptr<LDAPMessage, MessageCloser>;

// Results that mean "the directory is not there" rather than "no".
bool IsUnreachable(int rc) {
  return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR || rc == LDAP_UNAVAILABLE ||
         rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED;
}

// libldap's message for `rc` and the server's diagnostic, if any.
std::string Describe(LDAP* ld, int rc) {
  std::string out = ldap_err2string(rc);
  char* diag = nullptr;
  if (ld != nullptr && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS &&
      diag != nullptr) {
    if (*diag != '\0') out += std::string(" (") + diag + ")";
    ldap_memfree(diag);
  }
  return out;
}

std::string Diagnostic(LDAP* ld) {
  char* diag = nullptr;
  std::string out;
  if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS && diag != nullptr) {
    out = diag;
    ldap_memfree(diag);
  }
  return out;
}

std::string ToLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "{name}" replaced by `value` (already escaped) everywhere in `pattern`.
std::string Fill(std::string pattern, const std::string& name, const std::string& value) {
  const std::string key = "{" + name + "}";
  for (size_t at = pattern.find(key); at != std::string::npos; at = pattern.find(key, at + value.size())) {
    pattern.replace(at, key.size(), value);
  }
  return pattern;
}

// A filter template is balanced and names only the placeholder it may use.
Status CheckFilter(const std::string& what, const std::string& filter, const std::string& placeholder) {
  if (filter.empty()) return Status::OK();
  int depth = 0;
  for (char c : filter) {
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (depth < 0) break;
  }
  if (filter.front() != '(' || depth != 0) {
    return Status::InvalidArgument(what + " '" + filter + "' is not a parenthesised LDAP filter");
  }
  std::string rest = placeholder.empty() ? filter : Fill(filter, placeholder, "");
  if (rest.find('{') != std::string::npos) {
    return Status::InvalidArgument(what + " '" + filter + "' has a placeholder other than {" + placeholder + "}");
  }
  return Status::OK();
}

timeval Seconds(int s) { return timeval{s, 0}; }

// --------------------------------------------------------------- login --

struct Entry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> values;  // attribute (lower case) -> values
  const std::vector<std::string>& Get(const std::string& attribute) const {
    static const std::vector<std::string> kNone;
    auto it = values.find(ToLower(attribute));
    return it == values.end() ? kNone : it->second;
  }
  std::string First(const std::string& attribute) const {
    const std::vector<std::string>& v = Get(attribute);
    return v.empty() ? std::string() : v.front();
  }
};

class Directory {
 public:
  explicit Directory(const LdapOptions& o) : o_(o) {}

  // A connection to the first URL that answers, TLS set up, not bound.
  // Unavailable naming each URL tried and why.
  Result<LdapPtr> Connect(std::string* url_used) const {
    std::string why;
    for (const std::string& url : o_.urls) {
      LDAP* raw = nullptr;
      int rc = ldap_initialize(&raw, url.c_str());
      LdapPtr ld(raw);
      if (rc != LDAP_SUCCESS) {
        why += (why.empty() ? "" : "; ") + url + ": " + ldap_err2string(rc);
        continue;
      }
      const int v3 = LDAP_VERSION3;
      ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &v3);
      ldap_set_option(ld.get(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF);  // AD's referrals lead to other domains
      const timeval tv = Seconds(o_.timeout_s);
      ldap_set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &tv);
      ldap_set_option(ld.get(), LDAP_OPT_TIMEOUT, &tv);
      const int demand = LDAP_OPT_X_TLS_DEMAND;  // a certificate that chains to the CAs, for this host name
      ldap_set_option(ld.get(), LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
      if (!o_.ca_file.empty()) ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CACERTFILE, o_.ca_file.c_str());
      const int is_server = 0;
      ldap_set_option(ld.get(), LDAP_OPT_X_TLS_NEWCTX, &is_server);
      if (o_.start_tls && url.rfind("ldap://", 0) == 0) {
        rc = ldap_start_tls_s(ld.get(), nullptr, nullptr);
        if (rc != LDAP_SUCCESS) {
          why += (why.empty() ? "" : "; ") + url + ": StartTLS failed: " + Describe(ld.get(), rc);
          // libldap says "Connect error" for a certificate it does not trust.
          if (rc == LDAP_CONNECT_ERROR) why += " (is the directory's certificate issued under ca_file, for this host name?)";
          continue;
        }
      } else {
        // ldaps:// connects (and checks the certificate) at the first
        // operation; make it happen here, so a dead URL is skipped.
        rc = ldap_connect(ld.get());
        if (rc != LDAP_SUCCESS) {
          why += (why.empty() ? "" : "; ") + url + ": " + Describe(ld.get(), rc);
          continue;
        }
      }
      *url_used = url;
      return ld;
    }
    return Status::Unavailable("directory unreachable: " + why);
  }

  // Simple bind. LDAP_SUCCESS, LDAP_INVALID_CREDENTIALS, or another code.
  static int Bind(LDAP* ld, const std::string& dn, const std::string& password) {
    berval cred;
    cred.bv_val = const_cast<char*>(password.data());
    cred.bv_len = password.size();
    return ldap_sasl_bind_s(ld, dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
  }

  // Entries of a search; attributes lower-cased. Unavailable for an
  // unreachable directory; Internal for another failure.
  Result<std::vector<Entry>> Search(LDAP* ld, const std::string& base, int scope, const std::string& filter,
                                    const std::vector<std::string>& attributes, int size_limit) const {
    std::vector<char*> attrs;
    for (const std::string& a : attributes) attrs.push_back(const_cast<char*>(a.c_str()));
    attrs.push_back(nullptr);
    timeval tv = Seconds(o_.timeout_s);
    LDAPMessage* raw = nullptr;
    const int rc = ldap_search_ext_s(ld, base.c_str(), scope, filter.c_str(), attrs.data(), 0, nullptr, nullptr,
                                     &tv, size_limit, &raw);
    MessagePtr res(raw);
    std::vector<Entry> out;
    if (rc == LDAP_NO_SUCH_OBJECT) return out;
    if (IsUnreachable(rc)) return Status::Unavailable("directory search failed: " + Describe(ld, rc));
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
      return Status::Internal("directory search under " + base + " with " + filter + ": " + Describe(ld, rc));
    }
    for (LDAPMessage* e = ldap_first_entry(ld, res.get()); e != nullptr; e = ldap_next_entry(ld, e)) {
      Entry entry;
      if (char* dn = ldap_get_dn(ld, e)) {
        entry.dn = dn;
        ldap_memfree(dn);
      }
      for (const std::string& a : attributes) {
        if (a == "1.1") continue;
        berval** vals = ldap_get_values_len(ld, e, a.c_str());
        if (vals == nullptr) continue;
        std::vector<std::string>& into = entry.values[ToLower(a)];
        for (berval** v = vals; *v != nullptr; ++v) into.emplace_back((*v)->bv_val, (*v)->bv_len);
        ldap_value_free_len(vals);
      }
      out.push_back(std::move(entry));
    }
    return out;
  }

 private:
  const LdapOptions& o_;
};

// The state of one login, passed through its steps.
struct LdapLogin {
  const LdapOptions& options;
  AccessStore* access;
  Directory directory;
  LdapPtr service;  // bound as the service account
  std::string url;
  Entry entry;
  std::vector<std::string> group_dns;
  AuthResult result;
};

Status ConnectService(LdapLogin& l) {
  ACERVO_ASSIGN_OR_RETURN(l.service, l.directory.Connect(&l.url));
  if (l.options.bind_dn.empty()) return Status::OK();  // anonymous search
  const int rc = Directory::Bind(l.service.get(), l.options.bind_dn, l.options.bind_password);
  if (rc != LDAP_SUCCESS) {
    return Status::Unavailable("directory " + l.url + " refused Acervo's service account " + l.options.bind_dn + ": " +
                               Describe(l.service.get(), rc));
  }
  return Status::OK();
}

std::vector<std::string> EntryAttributes(const LdapOptions& o) {
  std::vector<std::string> a = {o.login_attribute, o.name_attribute};
  if (!o.cpf_attribute.empty()) a.push_back(o.cpf_attribute);
  if (o.group_filter.empty()) a.push_back(o.member_of_attribute);
  return a;
}

// The one entry `filter` finds, or a refusal (none, several).
Result<bool> FindEntry(LdapLogin& l, const std::string& filter, const std::string& who) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<Entry> found,
                          l.directory.Search(l.service.get(), l.options.base_dn, LDAP_SCOPE_SUBTREE, filter,
                                             EntryAttributes(l.options), 2));
  if (found.empty()) {
    l.result.reason = who + " is not in the directory (" + l.url + ")";
    return false;
  }
  if (found.size() > 1) {
    l.result.reason = who + " matches several directory entries (" + found[0].dn + ", " + found[1].dn + ")";
    return false;
  }
  l.entry = std::move(found.front());
  return true;
}

Result<bool> CheckEnabled(LdapLogin& l) {
  if (l.options.disabled_filter.empty()) return true;
  ACERVO_ASSIGN_OR_RETURN(std::vector<Entry> hit,
                          l.directory.Search(l.service.get(), l.entry.dn, LDAP_SCOPE_BASE, l.options.disabled_filter,
                                             {"1.1"}, 1));
  if (hit.empty()) return true;
  l.result.reason = "account " + l.entry.dn + " is disabled in the directory";
  return false;
}

// Binds as the entry on its own connection (the service connection keeps
// its identity for the group search).
Result<bool> BindAsUser(LdapLogin& l, const std::string& password) {
  std::string url;
  ACERVO_ASSIGN_OR_RETURN(LdapPtr ld, l.directory.Connect(&url));
  const int rc = Directory::Bind(ld.get(), l.entry.dn, password);
  if (rc == LDAP_SUCCESS) return true;
  if (IsUnreachable(rc)) return Status::Unavailable("directory " + url + ": " + Describe(ld.get(), rc));
  const std::string ad = ActiveDirectoryBindReason(Diagnostic(ld.get()));
  l.result.reason = "directory refused the password of " + l.entry.dn + ": " +
                    (ad.empty() ? Describe(ld.get(), rc) : ad);
  return false;
}

Status ReadGroups(LdapLogin& l) {
  if (l.options.group_filter.empty()) {
    l.group_dns = l.entry.Get(l.options.member_of_attribute);
    return Status::OK();
  }
  const std::string filter = Fill(l.options.group_filter, "dn", EscapeLdapFilterValue(l.entry.dn));
  const std::string& base = l.options.group_base.empty() ? l.options.base_dn : l.options.group_base;
  ACERVO_ASSIGN_OR_RETURN(std::vector<Entry> groups,
                          l.directory.Search(l.service.get(), base, LDAP_SCOPE_SUBTREE, filter, {"1.1"}, 0));
  for (const Entry& g : groups) l.group_dns.push_back(g.dn);
  return Status::OK();
}

// The user as Acervo keeps it, from the entry and the mapped groups; false
// (with the reason) when no group is mapped or the name is not usable.
bool MapUser(LdapLogin& l) {
  UserRecord& u = l.result.user;
  u.name = ToLower(l.entry.First(l.options.login_attribute));
  if (!ValidUserName(u.name)) {
    l.result.reason = "directory entry " + l.entry.dn + " has " + l.options.login_attribute + " '" + u.name +
                      "', not usable as an Acervo user name (a-z 0-9 . _ @ -)";
    return false;
  }
  u.display_name = l.entry.First(l.options.name_attribute);
  u.source = "ldap";
  u.password_hash.clear();
  std::set<std::string> mine;
  for (const std::string& dn : l.group_dns) mine.insert(CanonicalDn(dn));
  std::set<std::string> groups;
  bool any = false;
  for (const LdapGroupMapping& m : l.options.groups) {
    if (mine.count(CanonicalDn(m.dn)) == 0) continue;
    if (!any || static_cast<int>(m.role) > static_cast<int>(u.role)) u.role = m.role;
    any = true;
    u.full_view = u.full_view || m.full_view;
    groups.insert(m.group);
  }
  if (!any) {
    std::string list;
    for (const std::string& dn : l.group_dns) list += (list.empty() ? "" : "; ") + dn;
    l.result.reason = l.entry.dn + " is in no directory group mapped to Acervo (its groups: " +
                      (list.empty() ? "none" : list) + ")";
    return false;
  }
  u.groups.assign(groups.begin(), groups.end());
  if (!l.options.cpf_attribute.empty()) {
    u.cpf = ParseCpf(l.entry.First(l.options.cpf_attribute)).value_or("");
  }
  return true;
}

// Writes the directory's view of the user into the AccessStore. A local
// user of the same name is never taken over.
Result<bool> Mirror(LdapLogin& l) {
  UserRecord& u = l.result.user;
  ACERVO_ASSIGN_OR_RETURN(std::optional<UserRecord> existing, l.access->GetUser(u.name));
  if (existing && existing->source != "ldap") {
    l.result.reason = "a local user named " + u.name + " exists; directory user " + l.entry.dn +
                      " is not signed in as them (rename or remove the local user)";
    return false;
  }
  Status s = existing ? l.access->UpdateUser(u) : l.access->AddUser(u);
  if (s.code() == StatusCode::kAlreadyExists && !u.cpf.empty()) {
    // The CPF is another user's: keep the login, leave the CPF out.
    u.cpf.clear();
    s = existing ? l.access->UpdateUser(u) : l.access->AddUser(u);
  }
  ACERVO_RETURN_IF_ERROR(s);
  ACERVO_ASSIGN_OR_RETURN(std::optional<UserRecord> stored, l.access->GetUser(u.name));
  if (stored) u = *stored;
  return true;
}

// A directory user found disabled is disabled in the mirror too, so that
// any session of theirs ends at the next request.
void DisableMirror(LdapLogin& l) {
  const std::string name = ToLower(l.entry.First(l.options.login_attribute));
  Result<std::optional<UserRecord>> u = l.access->GetUser(name);
  if (u.ok() && u->has_value() && (**u).source == "ldap" && !(**u).disabled) {
    UserRecord d = **u;
    d.disabled = true;
    (void)l.access->UpdateUser(d);
  }
}

// After the identity is proved: groups mapped, user mirrored.
Result<AuthResult> Admit(LdapLogin& l) {
  ACERVO_RETURN_IF_ERROR(ReadGroups(l));
  if (!MapUser(l)) return l.result;
  ACERVO_ASSIGN_OR_RETURN(bool mirrored, Mirror(l));
  l.result.ok = mirrored;
  return l.result;
}

}  // namespace

bool ApplyLdapPreset(const std::string& preset, LdapOptions* o) {
  if (preset == "openldap") {
    o->user_filter = "(&(objectClass=inetOrgPerson)(uid={user}))";
    o->login_attribute = "uid";
    o->name_attribute = "cn";
    o->group_filter = "(&(objectClass=groupOfNames)(member={dn}))";
    o->disabled_filter = "(pwdAccountLockedTime=*)";
    return true;
  }
  if (preset == "active-directory") {
    o->user_filter = "(&(objectCategory=person)(objectClass=user)(|(sAMAccountName={user})(userPrincipalName={user})))";
    o->login_attribute = "sAMAccountName";
    o->name_attribute = "displayName";
    o->group_filter.clear();  // memberOf (nested groups: "(member:1.2.840.113556.1.4.1941:={dn})")
    o->member_of_attribute = "memberOf";
    o->disabled_filter = "(userAccountControl:1.2.840.113556.1.4.803:=2)";
    return true;
  }
  return false;
}

std::string EscapeLdapFilterValue(const std::string& value) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : value) {
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || c >= 0x80) {
      out += '\\';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string CanonicalDn(const std::string& dn) {
  std::string out;
  for (size_t i = 0; i < dn.size(); ++i) {
    const char c = dn[i];
    if (c == ' ') {
      // Drop spaces next to a separator.
      const char prev = out.empty() ? ',' : out.back();
      size_t j = i;
      while (j < dn.size() && dn[j] == ' ') ++j;
      const char next = j < dn.size() ? dn[j] : ',';
      if (prev == ',' || prev == '=' || prev == '+' || next == ',' || next == '=' || next == '+') continue;
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string ActiveDirectoryBindReason(const std::string& diagnostic) {
  static const std::pair<const char*, const char*> kCodes[] = {
      {"52e", "wrong password"},
      {"525", "user not found"},
      {"530", "not permitted to log on at this time"},
      {"531", "not permitted to log on at this workstation"},
      {"532", "password expired"},
      {"533", "account disabled"},
      {"568", "too many security identifiers"},
      {"701", "account expired"},
      {"773", "the user must reset the password"},
      {"775", "account locked out"},
  };
  const size_t at = diagnostic.find("data ");
  if (at == std::string::npos) return "";
  const std::string code = ToLower(diagnostic.substr(at + 5, 3));
  for (const auto& [c, what] : kCodes) {
    if (code == c) return std::string(what) + " (Active Directory " + c + ")";
  }
  return "";
}

Result<std::unique_ptr<LdapAuthenticator>> LdapAuthenticator::Create(LdapOptions o, AccessStore* access) {
  if (o.urls.empty()) return Status::InvalidArgument("[ldap] needs url");
  for (const std::string& url : o.urls) {
    const bool ldaps = url.rfind("ldaps://", 0) == 0;
    const bool ldap = url.rfind("ldap://", 0) == 0;
    if (!ldaps && !ldap) return Status::InvalidArgument("[ldap] url '" + url + "' is not ldap:// or ldaps://");
    if (ldap && !o.start_tls && !o.allow_plain) {
      return Status::InvalidArgument("[ldap] url '" + url +
                                     "' would send passwords in clear: use ldaps://, start_tls = true, or (on a "
                                     "trusted network only) allow_plain = true");
    }
  }
  if (o.base_dn.empty()) return Status::InvalidArgument("[ldap] needs base_dn");
  if (o.timeout_s < 1 || o.timeout_s > 120) return Status::InvalidArgument("[ldap] timeout must be 1..120 seconds");
  ACERVO_RETURN_IF_ERROR(CheckFilter("[ldap] user_filter", o.user_filter, "user"));
  if (o.user_filter.find("{user}") == std::string::npos) {
    return Status::InvalidArgument("[ldap] user_filter must contain {user}");
  }
  ACERVO_RETURN_IF_ERROR(CheckFilter("[ldap] group_filter", o.group_filter, "dn"));
  ACERVO_RETURN_IF_ERROR(CheckFilter("[ldap] disabled_filter", o.disabled_filter, ""));
  if (o.group_filter.empty() && o.member_of_attribute.empty()) {
    return Status::InvalidArgument("[ldap] needs group_filter or member_of_attribute");
  }
  if (o.groups.empty()) return Status::InvalidArgument("[ldap] maps no directory group ([[ldap.group]])");
  if (access == nullptr) return Status::InvalidArgument("LdapAuthenticator needs an AccessStore");
  return std::unique_ptr<LdapAuthenticator>(new LdapAuthenticator(std::move(o), access));
}

Result<AuthResult> LdapAuthenticator::Authenticate(const Credentials& c) {
  LdapLogin l{options_, access_, Directory(options_), nullptr, "", {}, {}, {}};
  if (c.password.empty()) {
    // A simple bind with a DN and no password is an anonymous bind, which
    // succeeds (RFC 4513 5.1.2): never let it through.
    l.result.reason = "empty password";
    return l.result;
  }
  if (c.user.size() > 256) {
    l.result.reason = "user name too long";
    return l.result;
  }
  ACERVO_RETURN_IF_ERROR(ConnectService(l));
  const std::string filter = Fill(options_.user_filter, "user", EscapeLdapFilterValue(c.user));
  ACERVO_ASSIGN_OR_RETURN(bool found, FindEntry(l, filter, "user '" + c.user + "'"));
  if (!found) return l.result;
  // A disabled account is refused before its password is tried (a
  // directory may lock it further on a wrong guess).
  ACERVO_ASSIGN_OR_RETURN(bool enabled, CheckEnabled(l));
  if (!enabled) {
    DisableMirror(l);
    return l.result;
  }
  ACERVO_ASSIGN_OR_RETURN(bool password_ok, BindAsUser(l, c.password));
  if (!password_ok) return l.result;
  return Admit(l);
}

}  // namespace acervo::web
