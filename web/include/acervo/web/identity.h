// Where `acervo serve` takes its users from: the identity file
// (`acervo serve --identity FILE`, TOML; docs/security.md has the full
// reference and an example for OpenLDAP and for Active Directory).
//
//   [local]
//   enabled = true                 # users of the store (acervo users) may sign in
//
//   [ldap]
//   preset = "openldap"            # or "active-directory": filter and attribute defaults
//   url = ["ldaps://dc1.prefeitura.local", "ldaps://dc2.prefeitura.local"]
//   start_tls = false              # true for ldap:// URLs
//   ca_file = "/etc/acervo/ad-ca.pem"
//   bind_dn = "cn=acervo,ou=servicos,dc=prefeitura,dc=local"
//   bind_password_file = "/etc/acervo/ldap.secret"   # or bind_password
//   base_dn = "ou=pessoas,dc=prefeitura,dc=local"
//   fallback_to_local = false      # local users may sign in while the directory is down
//   [[ldap.group]]
//   dn = "cn=arquivistas,ou=grupos,dc=prefeitura,dc=local"
//   group = "arquivo"              # the Acervo group its members join
//   role = "reader"                # reader | operator | admin
//   full_view = false
//   lots = ["LOTE-2024-001"]       # granted to the group at start
//   projects = ["Protocolo"]
//
// Order of the authenticators built: the directory first (when
// configured), then local passwords (when enabled). Unknown keys, a bad
// role, a missing file are errors that name the file and the key: a typo
// must not silently open or close the archive.
#ifndef ACERVO_WEB_IDENTITY_H_
#define ACERVO_WEB_IDENTITY_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/access_store.h"
#include "acervo/web/auth.h"
#include "acervo/web/ldap_auth.h"

namespace acervo::web {

struct IdentityConfig {
  bool local = true;
  std::optional<LdapOptions> ldap;
};

// Parses an identity file. InvalidArgument naming the file and the key for
// anything malformed or unknown; NotFound when the file is missing.
Result<IdentityConfig> LoadIdentityConfig(const std::filesystem::path& file);
// The same from TOML text (`origin` names it in messages).
Result<IdentityConfig> ParseIdentityConfig(const std::string& text, const std::string& origin);

// The authenticators of `config`, in the order they are asked, over
// `access` (not owned; must outlive them). The grants of the directory
// groups' `lots` and `projects` are added to `access` (idempotent).
Result<std::vector<std::shared_ptr<Authenticator>>> BuildAuthenticators(const IdentityConfig& config,
                                                                        AccessStore* access);

}  // namespace acervo::web

#endif  // ACERVO_WEB_IDENTITY_H_
