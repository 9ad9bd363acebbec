// The identity file of `acervo serve` (identity.h).
#include "acervo/web/identity.h"

#include <fstream>
#include <sstream>

#include "acervo/core/toml_reader.h"

namespace acervo::web {
namespace {

Status ReadGroup(TomlReader& r, const toml::table& t, LdapGroupMapping* g) {
  ACERVO_RETURN_IF_ERROR(r.Unknown(t, {"dn", "group", "role", "full_view", "lots", "projects"}, "[ldap.group]"));
  ACERVO_RETURN_IF_ERROR(r.String(t, "dn", &g->dn));
  ACERVO_RETURN_IF_ERROR(r.String(t, "group", &g->group));
  std::string role = "reader";
  ACERVO_RETURN_IF_ERROR(r.String(t, "role", &role));
  ACERVO_RETURN_IF_ERROR(r.Bool(t, "full_view", &g->full_view));
  ACERVO_RETURN_IF_ERROR(r.StringList(t, "lots", &g->lots));
  ACERVO_RETURN_IF_ERROR(r.StringList(t, "projects", &g->projects));
  const std::string where = TomlAt(r.name, t);
  if (g->dn.empty()) return Status::InvalidArgument(where + ": [[ldap.group]] needs dn");
  if (g->group.empty() || !ValidUserName(g->group)) {
    return Status::InvalidArgument(where + ": [[ldap.group]] needs group, an Acervo group name (a-z 0-9 . _ @ -)");
  }
  std::optional<Role> parsed = ParseRole(role);
  if (!parsed) return Status::InvalidArgument(where + ": role '" + role + "' is not reader, operator or admin");
  g->role = *parsed;
  return Status::OK();
}

Status ReadLdap(TomlReader& r, const toml::table& t, const std::filesystem::path& dir, LdapOptions* o) {
  ACERVO_RETURN_IF_ERROR(r.Unknown(
      t,
      {"preset", "url", "start_tls", "ca_file", "allow_plain", "bind_dn", "bind_password", "bind_password_file",
       "base_dn", "user_filter", "login_attribute", "name_attribute", "cpf_attribute", "group_base", "group_filter",
       "member_of_attribute", "disabled_filter", "timeout", "fallback_to_local", "group"},
      "[ldap]"));
  std::string preset = "openldap";
  ACERVO_RETURN_IF_ERROR(r.String(t, "preset", &preset));
  if (!ApplyLdapPreset(preset, o)) {
    return Status::InvalidArgument(TomlAt(r.name, *t.get("preset")) + ": preset '" + preset +
                                   "' is not openldap or active-directory");
  }
  if (const toml::node* u = t.get("url"); u != nullptr && u->is_string()) {
    o->urls = {u->as_string()->get()};
  } else {
    ACERVO_RETURN_IF_ERROR(r.StringList(t, "url", &o->urls));
  }
  ACERVO_RETURN_IF_ERROR(r.Bool(t, "start_tls", &o->start_tls));
  std::string ca;
  ACERVO_RETURN_IF_ERROR(r.String(t, "ca_file", &ca));
  if (!ca.empty()) o->ca_file = dir / ca;  // an absolute path stays as it is
  ACERVO_RETURN_IF_ERROR(r.Bool(t, "allow_plain", &o->allow_plain));
  ACERVO_RETURN_IF_ERROR(r.String(t, "bind_dn", &o->bind_dn));
  ACERVO_RETURN_IF_ERROR(r.String(t, "bind_password", &o->bind_password));
  std::string secret;
  ACERVO_RETURN_IF_ERROR(r.String(t, "bind_password_file", &secret));
  if (!secret.empty()) {
    // The service account's password kept apart from the file (which may
    // be readable by more people), first line only.
    const std::filesystem::path p = dir / secret;
    std::ifstream in(p);
    if (!in) return Status::InvalidArgument(TomlAt(r.name, *t.get("bind_password_file")) + ": cannot read " + p.string());
    std::getline(in, o->bind_password);
  }
  ACERVO_RETURN_IF_ERROR(r.String(t, "base_dn", &o->base_dn));
  ACERVO_RETURN_IF_ERROR(r.String(t, "user_filter", &o->user_filter));
  ACERVO_RETURN_IF_ERROR(r.String(t, "login_attribute", &o->login_attribute));
  ACERVO_RETURN_IF_ERROR(r.String(t, "name_attribute", &o->name_attribute));
  ACERVO_RETURN_IF_ERROR(r.String(t, "cpf_attribute", &o->cpf_attribute));
  ACERVO_RETURN_IF_ERROR(r.String(t, "group_base", &o->group_base));
  ACERVO_RETURN_IF_ERROR(r.String(t, "group_filter", &o->group_filter));
  ACERVO_RETURN_IF_ERROR(r.String(t, "member_of_attribute", &o->member_of_attribute));
  ACERVO_RETURN_IF_ERROR(r.String(t, "disabled_filter", &o->disabled_filter));
  double timeout = o->timeout_s;
  ACERVO_RETURN_IF_ERROR(r.Number(t, "timeout", 1, 120, &timeout));
  o->timeout_s = static_cast<int>(timeout);
  ACERVO_RETURN_IF_ERROR(r.Bool(t, "fallback_to_local", &o->fallback_to_local));
  if (const toml::node* g = t.get("group"); g != nullptr) {
    if (!g->is_array_of_tables()) {
      return Status::InvalidArgument(TomlAt(r.name, *g) + ": write each group as a [[ldap.group]] table");
    }
    for (const toml::node& one : *g->as_array()) {
      LdapGroupMapping m;
      ACERVO_RETURN_IF_ERROR(ReadGroup(r, *one.as_table(), &m));
      o->groups.push_back(std::move(m));
    }
  }
  return Status::OK();
}

Result<IdentityConfig> Parse(const std::string& text, const std::string& origin, const std::filesystem::path& dir) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(origin + " line " + std::to_string(e.source().begin.line) + ": " +
                                   std::string(e.description()));
  }
  TomlReader r{origin};
  ACERVO_RETURN_IF_ERROR(r.Unknown(root, {"local", "ldap"}, "top level"));
  IdentityConfig c;
  ACERVO_ASSIGN_OR_RETURN(const toml::table* local, r.Table(root, "local"));
  if (local != nullptr) {
    ACERVO_RETURN_IF_ERROR(r.Unknown(*local, {"enabled"}, "[local]"));
    ACERVO_RETURN_IF_ERROR(r.Bool(*local, "enabled", &c.local));
  }
  ACERVO_ASSIGN_OR_RETURN(const toml::table* ldap, r.Table(root, "ldap"));
  if (ldap != nullptr) {
    c.ldap.emplace();
    ACERVO_RETURN_IF_ERROR(ReadLdap(r, *ldap, dir, &*c.ldap));
  }
  if (!c.local && !c.ldap) return Status::InvalidArgument(origin + ": no way to sign in ([local] disabled, no [ldap])");
  if (c.ldap && c.ldap->fallback_to_local && !c.local) {
    return Status::InvalidArgument(origin + ": [ldap] fallback_to_local needs [local] enabled");
  }
  return c;
}

}  // namespace

Result<IdentityConfig> ParseIdentityConfig(const std::string& text, const std::string& origin) {
  return Parse(text, origin, std::filesystem::current_path());
}

Result<IdentityConfig> LoadIdentityConfig(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return Status::NotFound("identity file " + file.string() + " cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), file.string(), std::filesystem::absolute(file).parent_path());
}

Result<std::vector<std::shared_ptr<Authenticator>>> BuildAuthenticators(const IdentityConfig& config,
                                                                        AccessStore* access) {
  std::vector<std::shared_ptr<Authenticator>> out;
  if (config.ldap) {
    ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<LdapAuthenticator> ldap, LdapAuthenticator::Create(*config.ldap, access));
    for (const LdapGroupMapping& g : config.ldap->groups) {
      for (const std::string& lot : g.lots) ACERVO_RETURN_IF_ERROR(access->AddGrant({g.group, "lot", lot}));
      for (const std::string& p : g.projects) ACERVO_RETURN_IF_ERROR(access->AddGrant({g.group, "project", p}));
    }
    out.push_back(std::move(ldap));
  }
  if (config.local) out.push_back(std::make_shared<PasswordAuthenticator>(access));
  return out;
}

}  // namespace acervo::web
