// acervo users: local users, their roles and groups, and group grants of
// lots and projects (the same records the admin page edits). Every change
// is written to the audit trail as done by "cli:<OS user>".
#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "acervo/core/personal_numbers.h"
#include "acervo/indexer/access_store.h"
#include "acervo/indexer/open_store.h"
#include "acervo/web/auth.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {

// A password from stdin (one line) or, on a terminal, typed twice without echo.
Result<std::string> ReadPassword(bool from_stdin) {
  std::string pw;
  if (from_stdin || !::isatty(STDIN_FILENO)) {
    if (!std::getline(std::cin, pw)) return Status::InvalidArgument("no password on standard input");
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    return pw;
  }
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string again;
  std::fprintf(stderr, "Password: ");
  std::getline(std::cin, pw);
  std::fprintf(stderr, "\nAgain: ");
  std::getline(std::cin, again);
  std::fprintf(stderr, "\n");
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  if (pw != again) return Status::InvalidArgument("the two passwords differ");
  return pw;
}

void Audit(Store& store, const std::string& action, const std::string& target, const std::string& detail) {
  Result<std::vector<AuditRow>> r = store.Access().AppendAudit({{"", CliActor(), "local", action, target, detail}});
  if (!r.ok()) std::fprintf(stderr, "acervo users: audit trail: %s\n", r.status().ToString().c_str());
}

int Fail(const Status& s) {
  std::fprintf(stderr, "acervo users: %s\n", s.ToString().c_str());
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kAlreadyExists ||
                 s.code() == StatusCode::kNotFound
             ? kExitUsage
             : kExitCannotRun;
}

struct UsersArgs {
  std::string store;
  std::string name, display, role = "reader", group_target, lot, project, cpf;
  std::vector<std::string> groups;
  bool full_view = false, password_stdin = false, json = false;
};

// A new password, read from the terminal or stdin, hashed with Argon2id.
Result<std::string> NewPasswordHash(bool from_stdin) {
  ACERVO_ASSIGN_OR_RETURN(std::string pw, ReadPassword(from_stdin));
  return web::HashPassword(pw);
}

// --cpf as given: digits, punctuated or not; "" when it was "" (removes).
Result<std::string> CpfArg(const std::string& given) {
  if (given.empty()) return std::string();
  std::optional<std::string> cpf = ParseCpf(given);
  if (!cpf) return Status::InvalidArgument("--cpf '" + given + "' is not a valid CPF");
  return *cpf;
}

int UsersAdd(Store& store, const UsersArgs& a) {
  UserRecord u;
  u.name = a.name;
  u.display_name = a.display;
  u.role = *ParseRole(a.role);
  u.groups = a.groups;
  u.full_view = a.full_view;
  Result<std::string> cpf = CpfArg(a.cpf);
  if (!cpf.ok()) return Fail(cpf.status());
  u.cpf = *cpf;
  Result<std::string> hash = NewPasswordHash(a.password_stdin);
  if (!hash.ok()) return Fail(hash.status());
  u.password_hash = *hash;
  if (Status s = store.Access().AddUser(u); !s.ok()) return Fail(s);
  Audit(store, "admin_user_add", u.name, std::string("role=") + RoleName(u.role));
  std::printf("user %s added (%s)\n", u.name.c_str(), RoleName(u.role));
  return kExitOk;
}

int UsersList(Store& store, const UsersArgs& a) {
  Result<std::vector<UserRecord>> users = store.Access().ListUsers();
  Result<std::vector<GrantRecord>> grants = store.Access().ListGrants();
  if (!users.ok()) return Fail(users.status());
  if (!grants.ok()) return Fail(grants.status());
  if (a.json) {
    nlohmann::json j = {{"users", nlohmann::json::array()}, {"grants", nlohmann::json::array()}};
    for (const UserRecord& u : *users) {
      j["users"].push_back({{"name", u.name}, {"display_name", u.display_name}, {"role", RoleName(u.role)},
                            {"groups", u.groups}, {"disabled", u.disabled}, {"full_view", u.full_view},
                            {"cpf", u.cpf}, {"created_at", u.created_at}});
    }
    for (const GrantRecord& g : *grants) {
      j["grants"].push_back({{"group", g.group}, {"kind", g.kind}, {"target", g.target}});
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  for (const UserRecord& u : *users) {
    std::string groups;
    for (const std::string& g : u.groups) groups += (groups.empty() ? "" : ",") + g;
    std::printf("%-20s %-8s %-24s%s%s\n", u.name.c_str(), RoleName(u.role), groups.c_str(),
                u.disabled ? " [disabled]" : "", u.full_view ? " [full view]" : "");
  }
  for (const GrantRecord& g : *grants) {
    std::printf("grant: group %s may open %s %s\n", g.group.c_str(), g.kind.c_str(), g.target.c_str());
  }
  return kExitOk;
}

// users grant / revoke: a group may open a lot, or every lot of a project.
int UsersGrant(Store& store, const UsersArgs& a, bool add) {
  if (a.lot.empty() == a.project.empty()) return Fail(Status::InvalidArgument("give --lot or --project"));
  GrantRecord g{a.group_target, a.lot.empty() ? "project" : "lot", a.lot.empty() ? a.project : a.lot};
  Status s = add ? store.Access().AddGrant(g) : store.Access().RemoveGrant(g);
  if (!s.ok()) return Fail(s);
  Audit(store, add ? "admin_grant_add" : "admin_grant_remove", g.kind + ":" + g.target, "group " + g.group);
  std::printf("%s: group %s, %s %s\n", add ? "granted" : "revoked", g.group.c_str(), g.kind.c_str(),
              g.target.c_str());
  return kExitOk;
}

// users disable / enable / passwd / set: one user's record changed, the
// change audited. `change` edits the record and says what it did.
int UsersUpdate(Store& store, const UsersArgs& a,
                const std::function<Result<std::string>(UserRecord&)>& change) {
  Result<std::optional<UserRecord>> got = store.Access().GetUser(a.name);
  if (!got.ok()) return Fail(got.status());
  if (!got->has_value()) return Fail(Status::NotFound("no user " + a.name));
  UserRecord u = **got;
  Result<std::string> what = change(u);
  if (!what.ok()) return Fail(what.status());
  if (Status s = store.Access().UpdateUser(u); !s.ok()) return Fail(s);
  Audit(store, "admin_user_update", u.name, *what);
  std::printf("user %s: %s\n", u.name.c_str(), what->c_str());
  return kExitOk;
}

}  // namespace

std::string CliActor() {
  const passwd* pw = ::getpwuid(::geteuid());
  return std::string("cli:") + (pw != nullptr ? pw->pw_name : std::to_string(::geteuid()));
}

Command AddUsersCommand(CLI::App& root, const Context&) {
  auto a = std::make_shared<UsersArgs>();
  CLI::App* cmd = root.add_subcommand("users", "Manage web users, their roles and groups, and group grants");
  cmd->require_subcommand(1);
  auto store_opt = [&](CLI::App* sub) {
    sub->add_option("--store", a->store, "Store: a SQLite file or a PostgreSQL connection string")->required();
  };
  CLI::App* add = cmd->add_subcommand("add", "Add a user (password from the terminal or --password-stdin)");
  store_opt(add);
  add->add_option("NAME", a->name, "Login name: a-z 0-9 . _ @ -")->required();
  add->add_option("--role", a->role, "reader, operator or admin (default reader)")
      ->check(CLI::IsMember({"reader", "operator", "admin"}));
  add->add_option("--name", a->display, "Display name");
  add->add_option("--group", a->groups, "Group (repeatable): lots are granted to groups");
  add->add_flag("--full-view", a->full_view, "Sees CPF/CNPJ unmasked although a reader (LGPD)");
  add->add_option("--cpf", a->cpf, "The user's CPF: their ICP-Brasil certificate signs them in (issue 19)");
  add->add_flag("--password-stdin", a->password_stdin, "Read the password from standard input (one line)");
  CLI::App* list = cmd->add_subcommand("list", "List users and grants");
  store_opt(list);
  list->add_flag("--json", a->json, "JSON output");
  CLI::App* disable = cmd->add_subcommand("disable", "Disable a user (signs them out everywhere)");
  store_opt(disable);
  disable->add_option("NAME", a->name)->required();
  CLI::App* enable = cmd->add_subcommand("enable", "Enable a disabled user");
  store_opt(enable);
  enable->add_option("NAME", a->name)->required();
  CLI::App* passwd = cmd->add_subcommand("passwd", "Set a user's password");
  store_opt(passwd);
  passwd->add_option("NAME", a->name)->required();
  passwd->add_flag("--password-stdin", a->password_stdin, "Read the password from standard input (one line)");
  CLI::App* set = cmd->add_subcommand("set", "Change a user's role, groups or full view");
  store_opt(set);
  set->add_option("NAME", a->name)->required();
  set->add_option("--role", a->role, "reader, operator or admin")->check(CLI::IsMember({"reader", "operator", "admin"}));
  set->add_option("--group", a->groups, "The user's groups (repeatable; replaces them)");
  set->add_option("--cpf", a->cpf, "The user's CPF, for certificate login (\"\" removes it)");
  set->add_flag("--full-view", a->full_view, "Sees CPF/CNPJ unmasked");
  CLI::App* grant = cmd->add_subcommand("grant", "Let a group open a lot or every lot of a project");
  store_opt(grant);
  grant->add_option("GROUP", a->group_target)->required();
  auto* gl = grant->add_option("--lot", a->lot, "Lot id");
  auto* gp = grant->add_option("--project", a->project, "Project name (LotRecord project)");
  gl->excludes(gp);
  CLI::App* revoke = cmd->add_subcommand("revoke", "Remove a grant");
  store_opt(revoke);
  revoke->add_option("GROUP", a->group_target)->required();
  auto* rl = revoke->add_option("--lot", a->lot, "Lot id");
  auto* rp = revoke->add_option("--project", a->project, "Project name");
  rl->excludes(rp);

  return {cmd, [a, add, list, disable, enable, passwd, set, grant, revoke]() -> int {
            Result<std::unique_ptr<Store>> opened = OpenStore(a->store, /*create_if_missing=*/false);
            if (!opened.ok()) return Fail(opened.status());
            Store& store = **opened;
            if (add->parsed()) return UsersAdd(store, *a);
            if (list->parsed()) return UsersList(store, *a);
            if (grant->parsed() || revoke->parsed()) return UsersGrant(store, *a, grant->parsed());
            if (disable->parsed() || enable->parsed()) {
              return UsersUpdate(store, *a, [&](UserRecord& u) -> Result<std::string> {
                u.disabled = disable->parsed();
                return std::string(u.disabled ? "disabled" : "enabled");
              });
            }
            if (passwd->parsed()) {
              return UsersUpdate(store, *a, [&](UserRecord& u) -> Result<std::string> {
                ACERVO_ASSIGN_OR_RETURN(u.password_hash, NewPasswordHash(a->password_stdin));
                return std::string("password set");
              });
            }
            return UsersUpdate(store, *a, [&](UserRecord& u) -> Result<std::string> {
              if (set->count("--role") > 0) u.role = *ParseRole(a->role);
              if (set->count("--group") > 0) u.groups = a->groups;
              if (set->count("--full-view") > 0) u.full_view = a->full_view;
              std::string what = std::string("role=") + RoleName(u.role);
              if (set->count("--cpf") > 0) {
                ACERVO_ASSIGN_OR_RETURN(u.cpf, CpfArg(a->cpf));
                what += u.cpf.empty() ? "; cpf removed" : "; cpf set";
              }
              return what;
            });
          }};
}

}  // namespace acervo::cli
