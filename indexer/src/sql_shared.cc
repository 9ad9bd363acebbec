// The logic both stores share above SqlSession (sql_session.h): schema v6,
// word boxes, facets, lot summaries and the AccessStore. Every statement
// here is valid SQL for SQLite and PostgreSQL alike (booleans of our own
// tables are INTEGER 0/1; pages.blank and pages.in_pdf, BOOLEAN on
// PostgreSQL, are only read through CASE WHEN).
#include "sql_session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <tuple>
#include <span>

#include "acervo/core/clock.h"
#include "acervo/core/files.h"
#include "acervo/core/personal_numbers.h"
#include "acervo/indexer/field_value.h"
#include "acervo/indexer/query.h"
#include "search_common.h"

namespace acervo {
namespace {

// ------------------------------------------------------------ schema v6 --

constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE page_words (
  page_id  BIGINT PRIMARY KEY NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
  width    INTEGER NOT NULL,
  height   INTEGER NOT NULL,
  words    TEXT NOT NULL
);
CREATE TABLE users (
  name          TEXT PRIMARY KEY NOT NULL,
  display_name  TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL CHECK (role IN ('reader', 'operator', 'admin')),
  password_hash TEXT NOT NULL DEFAULT '',
  disabled      INTEGER NOT NULL DEFAULT 0,
  full_view     INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL
);
CREATE TABLE user_groups (
  user_name  TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  group_name TEXT NOT NULL,
  PRIMARY KEY (user_name, group_name)
);
CREATE TABLE grants (
  group_name TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('lot', 'project')),
  target     TEXT NOT NULL,
  PRIMARY KEY (group_name, kind, target)
);
CREATE TABLE api_tokens (
  id            TEXT PRIMARY KEY NOT NULL,
  user_name     TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  secret_sha256 TEXT NOT NULL,
  label         TEXT NOT NULL DEFAULT '',
  created_at    TEXT NOT NULL,
  revoked       INTEGER NOT NULL DEFAULT 0
);
)sql";

// The audit trail's table, part of schema v6 (the text of kSchemaV6 +
// kAuditTable is v6 as it shipped); on SQLite from v13 in a file of its own
// (AuditTrailSql).
constexpr const char* kAuditTable = R"sql(CREATE TABLE audit (
  seq       BIGINT PRIMARY KEY NOT NULL,
  at        TEXT NOT NULL,
  user_name TEXT NOT NULL,
  address   TEXT NOT NULL,
  action    TEXT NOT NULL,
  target    TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX audit_by_user ON audit(user_name, seq);
CREATE INDEX audit_by_target ON audit(target, seq);
CREATE INDEX audit_by_action ON audit(action, seq);
)sql";


const std::string& Col(const SqlRow& r, size_t i) {
  static const std::string kEmpty;
  return i < r.size() && r[i] ? *r[i] : kEmpty;
}
int64_t ColInt(const SqlRow& r, size_t i) {
  const std::string& v = Col(r, i);
  if (v.empty()) return 0;
  return std::strtoll(v.c_str(), nullptr, 10);
}
bool ColBool(const SqlRow& r, size_t i) {
  const std::string& v = Col(r, i);
  return v == "1" || v == "t" || v == "true";
}

// "?, ?, ?" for n values.
std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

bool ValidGroupName(std::string_view g) {
  if (g.empty() || g.size() > 64) return false;
  for (unsigned char c : g) {
    if (c < 0x21 || c == 0x7f) return false;  // no spaces or control characters
  }
  return true;
}

// --------------------------------------------------------- access store --

class SqlAccessStore final : public AccessStore {
 public:
  SqlAccessStore(SqlSession* s, std::mutex* mu) : s_(s), mu_(mu) {}

  Status AddUser(const UserRecord& user) override {
    ACERVO_RETURN_IF_ERROR(Check(user));
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("add user " + user.name, [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT 1 FROM users WHERE name = ?", {user.name}));
      if (!rows.empty()) return Status::AlreadyExists("user " + user.name + " already exists");
      ACERVO_RETURN_IF_ERROR(CpfFree(user));
      ACERVO_RETURN_IF_ERROR(s_->Query("INSERT INTO users (name, display_name, role, password_hash, disabled, "
                                       "full_view, created_at, source, cpf) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                       {user.name, user.display_name, std::string(RoleName(user.role)),
                                        user.password_hash, int64_t{user.disabled}, int64_t{user.full_view},
                                        UtcNowIso8601Millis(), user.source, user.cpf})
                                 .status());
      return WriteGroups(user);
    });
  }

  Status UpdateUser(const UserRecord& user) override {
    ACERVO_RETURN_IF_ERROR(Check(user));
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("update user " + user.name, [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT 1 FROM users WHERE name = ?", {user.name}));
      if (rows.empty()) return Status::NotFound("no user " + user.name);
      ACERVO_RETURN_IF_ERROR(CpfFree(user));
      ACERVO_RETURN_IF_ERROR(s_->Query("UPDATE users SET display_name = ?, role = ?, password_hash = ?, "
                                       "disabled = ?, full_view = ?, source = ?, cpf = ? WHERE name = ?",
                                       {user.display_name, std::string(RoleName(user.role)), user.password_hash,
                                        int64_t{user.disabled}, int64_t{user.full_view}, user.source, user.cpf,
                                        user.name})
                                 .status());
      ACERVO_RETURN_IF_ERROR(s_->Query("DELETE FROM user_groups WHERE user_name = ?", {user.name}).status());
      return WriteGroups(user);
    });
  }

  Result<std::optional<UserRecord>> GetUser(const std::string& name) override {
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(std::vector<UserRecord> users, ReadUsers(&name));
    if (users.empty()) return std::optional<UserRecord>();
    return std::optional<UserRecord>(std::move(users.front()));
  }

  Result<std::vector<UserRecord>> ListUsers() override {
    std::lock_guard<std::mutex> lock(*mu_);
    return ReadUsers(nullptr);
  }

  Result<std::optional<UserRecord>> GetUserByCpf(const std::string& cpf) override {
    if (!CpfCheckDigitsOk(cpf)) return std::optional<UserRecord>();
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT name FROM users WHERE cpf = ?", {cpf}));
    if (rows.empty()) return std::optional<UserRecord>();
    const std::string name = Col(rows.front(), 0);
    ACERVO_ASSIGN_OR_RETURN(std::vector<UserRecord> users, ReadUsers(&name));
    if (users.empty()) return std::optional<UserRecord>();
    return std::optional<UserRecord>(std::move(users.front()));
  }

  Status AddGrant(const GrantRecord& g) override {
    ACERVO_RETURN_IF_ERROR(Check(g));
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("grant", [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT 1 FROM grants WHERE group_name = ? AND kind = ? AND "
                                                   "target = ?",
                                                   {g.group, g.kind, g.target}));
      if (!rows.empty()) return Status::OK();
      return s_->Query("INSERT INTO grants (group_name, kind, target) VALUES (?, ?, ?)", {g.group, g.kind, g.target})
          .status();
    });
  }

  Status RemoveGrant(const GrantRecord& g) override {
    ACERVO_RETURN_IF_ERROR(Check(g));
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("revoke grant", [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT 1 FROM grants WHERE group_name = ? AND kind = ? AND "
                                                   "target = ?",
                                                   {g.group, g.kind, g.target}));
      if (rows.empty()) {
        return Status::NotFound("group " + g.group + " has no grant of " + g.kind + " " + g.target);
      }
      return s_->Query("DELETE FROM grants WHERE group_name = ? AND kind = ? AND target = ?",
                       {g.group, g.kind, g.target})
          .status();
    });
  }

  Result<std::vector<GrantRecord>> ListGrants() override {
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT group_name, kind, target FROM grants"));
    std::vector<GrantRecord> out;
    for (const SqlRow& r : rows) out.push_back({Col(r, 0), Col(r, 1), Col(r, 2)});
    std::sort(out.begin(), out.end(), [](const GrantRecord& a, const GrantRecord& b) {
      return std::tie(a.group, a.kind, a.target) < std::tie(b.group, b.kind, b.target);
    });
    return out;
  }

  Result<std::vector<std::string>> LotsForGroups(const std::vector<std::string>& groups) override {
    std::vector<std::string> out;
    if (groups.empty()) return out;
    std::vector<Param> params;
    for (const std::string& g : groups) params.push_back(g);
    for (const std::string& g : groups) params.push_back(g);
    std::string in = "(";  // (two steps: GCC 12's -Wrestrict false positive on "lit" + string&&)
    in += Placeholders(groups.size());
    in += ")";
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(
        auto rows, s_->Query("SELECT target FROM grants WHERE kind = 'lot' AND group_name IN " + in +
                                 " UNION SELECT l.id FROM lots l WHERE l.project <> '' AND l.project IN "
                                 "(SELECT target FROM grants WHERE kind = 'project' AND group_name IN " + in + ")",
                             params));
    for (const SqlRow& r : rows) out.push_back(Col(r, 0));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  Status AddApiToken(const ApiTokenRecord& t) override {
    if (t.id.empty() || t.secret_sha256.size() != 64) return Status::InvalidArgument("malformed API token record");
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("add API token", [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(auto u, s_->Query("SELECT 1 FROM users WHERE name = ?", {t.user}));
      if (u.empty()) return Status::NotFound("no user " + t.user);
      ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT 1 FROM api_tokens WHERE id = ?", {t.id}));
      if (!rows.empty()) return Status::AlreadyExists("API token id " + t.id + " is taken");
      return s_->Query("INSERT INTO api_tokens (id, user_name, secret_sha256, label, created_at, revoked) "
                       "VALUES (?, ?, ?, ?, ?, 0)",
                       {t.id, t.user, t.secret_sha256, t.label, UtcNowIso8601Millis()})
          .status();
    });
  }

  Result<std::optional<ApiTokenRecord>> GetApiToken(const std::string& id) override {
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(std::string(kTokenColumns) + " WHERE id = ?", {id}));
    if (rows.empty()) return std::optional<ApiTokenRecord>();
    return std::optional<ApiTokenRecord>(TokenOf(rows.front()));
  }

  Result<std::vector<ApiTokenRecord>> ListApiTokens(const std::string& user) override {
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(std::string(kTokenColumns) + " WHERE user_name = ? ORDER BY "
                                                 "created_at, id",
                                                 {user}));
    std::vector<ApiTokenRecord> out;
    for (const SqlRow& r : rows) out.push_back(TokenOf(r));
    return out;
  }

  Status RevokeApiToken(const std::string& id) override {
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("revoke API token", [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT 1 FROM api_tokens WHERE id = ?", {id}));
      if (rows.empty()) return Status::NotFound("no API token " + id);
      return s_->Query("UPDATE api_tokens SET revoked = 1 WHERE id = ?", {id}).status();
    });
  }

  Result<std::vector<AuditRow>> AppendAudit(const std::vector<AuditEntry>& entries) override {
    std::vector<AuditRow> out;
    if (entries.empty()) return out;
    std::lock_guard<std::mutex> lock(*mu_);
    Status s = s_->Write("append to the audit trail", [&]() -> Status {
      out.clear();
      // One appender at a time across processes (SQLite: BEGIN IMMEDIATE
      // already holds the write lock).
      if (s_->postgres()) ACERVO_RETURN_IF_ERROR(s_->Query("SELECT pg_advisory_xact_lock(7243013)").status());
      ACERVO_ASSIGN_OR_RETURN(auto last, s_->Query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
      int64_t seq = last.empty() ? 0 : ColInt(last[0], 0);
      std::string prev = last.empty() ? std::string(64, '0') : Col(last[0], 1);
      for (const AuditEntry& e : entries) {
        AuditRow row;
        row.seq = ++seq;
        row.entry = e;
        if (row.entry.at.empty()) row.entry.at = UtcNowIso8601Millis();
        row.prev_hash = prev;
        row.hash = AuditRowHash(prev, row.seq, row.entry);
        ACERVO_RETURN_IF_ERROR(s_->Query("INSERT INTO audit (seq, at, user_name, address, action, target, detail, "
                                         "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                         {row.seq, row.entry.at, row.entry.user, row.entry.address, row.entry.action,
                                          row.entry.target, row.entry.detail, row.prev_hash, row.hash})
                                   .status());
        prev = row.hash;
        out.push_back(std::move(row));
      }
      return Status::OK();
    });
    ACERVO_RETURN_IF_ERROR(s);
    return out;
  }

  Result<std::vector<AuditRow>> ListAudit(const AuditFilter& f) override {
    if (f.limit < 1 || f.limit > 10000) return Status::InvalidArgument("audit limit must be 1..10000");
    std::string sql = std::string(kAuditColumns) + " WHERE 1 = 1";
    std::vector<Param> params;
    if (f.before_seq > 0) {
      sql += " AND seq < ?";
      params.push_back(f.before_seq);
    }
    if (!f.user.empty()) {
      sql += " AND user_name = ?";
      params.push_back(f.user);
    }
    if (!f.action.empty()) {
      sql += " AND action = ?";
      params.push_back(f.action);
    }
    if (!f.target_prefix.empty()) {
      sql += " AND substr(target, 1, length(?)) = ?";
      params.push_back(f.target_prefix);
      params.push_back(f.target_prefix);
    }
    if (!f.since.empty()) {
      sql += " AND at >= ?";
      params.push_back(f.since);
    }
    if (!f.until.empty()) {
      sql += " AND at <= ?";
      params.push_back(f.until);
    }
    if (!f.detail_contains.empty()) {
      // instr/strpos: a plain substring, no LIKE wildcards to escape.
      sql += s_->postgres() ? " AND strpos(detail, ?) > 0" : " AND instr(detail, ?) > 0";
      params.push_back(f.detail_contains);
    }
    sql += " ORDER BY seq DESC LIMIT ?";
    params.push_back(int64_t{f.limit});
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(sql, params));
    std::vector<AuditRow> out;
    for (const SqlRow& r : rows) out.push_back(AuditOf(r));
    return out;
  }

  Result<AuditCheck> VerifyAudit() override {
    AuditCheck check;
    std::string prev(64, '0');
    int64_t expect = 1;
    constexpr int64_t kBatch = 5000;
    while (true) {
      std::vector<SqlRow> rows;
      {
        std::lock_guard<std::mutex> lock(*mu_);
        ACERVO_ASSIGN_OR_RETURN(rows, s_->Query(std::string(kAuditColumns) + " WHERE seq >= ? ORDER BY seq LIMIT ?",
                                                {expect, kBatch}));
      }
      for (const SqlRow& r : rows) {
        const AuditRow row = AuditOf(r);
        ++check.rows;
        const std::string at = "audit row " + std::to_string(row.seq);
        if (row.seq != expect) {
          check.problems.push_back("audit rows " + std::to_string(expect) + ".." + std::to_string(row.seq - 1) +
                                   " are missing (removed)");
        }
        if (row.prev_hash != prev) {
          check.problems.push_back(at + ": its previous-row hash does not match row " + std::to_string(row.seq - 1) +
                                   " (a row before it was changed or removed)");
        }
        if (AuditRowHash(row.prev_hash, row.seq, row.entry) != row.hash) {
          check.problems.push_back(at + ": its contents do not match its hash (the row was edited)");
        }
        prev = row.hash;
        expect = row.seq + 1;
        check.head_seq = row.seq;
        check.head_hash = row.hash;
        if (check.problems.size() > 100) return check;  // enough to act on
      }
      if (static_cast<int64_t>(rows.size()) < kBatch) break;
    }
    return check;
  }

 private:
  static constexpr const char* kTokenColumns =
      "SELECT id, user_name, secret_sha256, label, created_at, revoked FROM api_tokens";
  static constexpr const char* kAuditColumns =
      "SELECT seq, at, user_name, address, action, target, detail, prev_hash, hash FROM audit";

  static ApiTokenRecord TokenOf(const SqlRow& r) {
    return {Col(r, 0), Col(r, 1), Col(r, 2), Col(r, 3), Col(r, 4), ColBool(r, 5)};
  }
  static AuditRow AuditOf(const SqlRow& r) {
    AuditRow row;
    row.seq = ColInt(r, 0);
    row.entry = {Col(r, 1), Col(r, 2), Col(r, 3), Col(r, 4), Col(r, 5), Col(r, 6)};
    row.prev_hash = Col(r, 7);
    row.hash = Col(r, 8);
    return row;
  }

  static Status Check(const UserRecord& u) {
    if (!ValidUserName(u.name)) {
      return Status::InvalidArgument("user name '" + u.name + "' must be 1..64 of a-z 0-9 . _ @ -");
    }
    for (const std::string& g : u.groups) {
      if (!ValidGroupName(g)) return Status::InvalidArgument("bad group name '" + g + "'");
    }
    if (u.source != "local" && u.source != "ldap") {
      return Status::InvalidArgument("user source must be local or ldap, not '" + u.source + "'");
    }
    if (!u.cpf.empty() && !CpfCheckDigitsOk(u.cpf)) {
      return Status::InvalidArgument("'" + u.cpf + "' is not a CPF (11 digits with right check digits)");
    }
    return Status::OK();
  }

  // AlreadyExists when another user holds the user's CPF (callers hold
  // the write transaction; the unique index is the last word).
  Status CpfFree(const UserRecord& u) {
    if (u.cpf.empty()) return Status::OK();
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT name FROM users WHERE cpf = ? AND name <> ?", {u.cpf, u.name}));
    if (!rows.empty()) {
      return Status::AlreadyExists("CPF " + FormatCpf(u.cpf) + " is already user " + Col(rows.front(), 0) + "'s");
    }
    return Status::OK();
  }
  static Status Check(const GrantRecord& g) {
    if (!ValidGroupName(g.group)) return Status::InvalidArgument("bad group name '" + g.group + "'");
    if (g.kind != "lot" && g.kind != "project") return Status::InvalidArgument("grant kind must be lot or project");
    if (g.target.empty()) return Status::InvalidArgument("grant of an empty " + g.kind);
    return Status::OK();
  }

  Status WriteGroups(const UserRecord& user) {
    const std::set<std::string> groups(user.groups.begin(), user.groups.end());
    for (const std::string& g : groups) {
      ACERVO_RETURN_IF_ERROR(
          s_->Query("INSERT INTO user_groups (user_name, group_name) VALUES (?, ?)", {user.name, g}).status());
    }
    return Status::OK();
  }

  Result<std::vector<UserRecord>> ReadUsers(const std::string* name) {
    std::vector<UserRecord> out;
    std::string sql =
        "SELECT name, display_name, role, password_hash, disabled, full_view, created_at, source, cpf FROM users";
    std::vector<Param> params;
    if (name != nullptr) {
      sql += " WHERE name = ?";
      params.push_back(*name);
    }
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(sql, params));
    for (const SqlRow& r : rows) {
      UserRecord u;
      u.name = Col(r, 0);
      u.display_name = Col(r, 1);
      u.role = ParseRole(Col(r, 2)).value_or(Role::kReader);
      u.password_hash = Col(r, 3);
      u.disabled = ColBool(r, 4);
      u.full_view = ColBool(r, 5);
      u.created_at = Col(r, 6);
      u.source = Col(r, 7).empty() ? "local" : Col(r, 7);
      u.cpf = Col(r, 8);
      ACERVO_ASSIGN_OR_RETURN(auto groups, s_->Query("SELECT group_name FROM user_groups WHERE user_name = ?",
                                                     {u.name}));
      for (const SqlRow& g : groups) u.groups.push_back(Col(g, 0));
      std::sort(u.groups.begin(), u.groups.end());
      out.push_back(std::move(u));
    }
    std::sort(out.begin(), out.end(), [](const UserRecord& a, const UserRecord& b) { return a.name < b.name; });
    return out;
  }

  SqlSession* s_;
  std::mutex* mu_;
};

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kReader: return "reader";
    case Role::kOperator: return "operator";
    case Role::kAdmin: return "admin";
  }
  return "reader";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "reader") return Role::kReader;
  if (name == "operator") return Role::kOperator;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool ValidUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '@' && c != '-'))) return false;
  }
  return true;
}

std::string AuditRowHash(const std::string& prev_hash, int64_t seq, const AuditEntry& e) {
  std::string buf;
  auto add = [&](const std::string& v) {
    buf += std::to_string(v.size());
    buf += ':';
    buf += v;
    buf += '\n';
  };
  add(prev_hash);
  add(std::to_string(seq));
  add(e.at);
  add(e.user);
  add(e.address);
  add(e.action);
  add(e.target);
  add(e.detail);
  return Sha256Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf.data()), buf.size()));
}

std::string AppendOnlyTriggersSql(const std::string& table, const std::string& stem, const std::string& rows,
                                  bool postgres) {
  const std::string message = "'" + rows + " are append-only'";
  if (!postgres) {
    return "\nCREATE TRIGGER " + table + "_no_update BEFORE UPDATE ON " + table + " BEGIN\n  SELECT RAISE(ABORT, " +
           message + ");\nEND;\nCREATE TRIGGER " + table + "_no_delete BEFORE DELETE ON " + table +
           " BEGIN\n  SELECT RAISE(ABORT, " + message + ");\nEND;\n";
  }
  const std::string function = "acervo_" + stem + "_append_only";
  return "\nCREATE FUNCTION " + function + "() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RAISE EXCEPTION " +
         message + ";\nEND $$;\nCREATE TRIGGER " + table + "_append_only BEFORE UPDATE OR DELETE ON " + table +
         "\n  FOR EACH ROW EXECUTE FUNCTION " + function + "();\nCREATE TRIGGER " + table +
         "_no_truncate BEFORE TRUNCATE ON " + table + "\n  FOR EACH STATEMENT EXECUTE FUNCTION " + function + "();\n";
}

std::string SchemaV6Sql(bool postgres) {
  // Rows of the audit trail can be added, never changed or removed through
  // SQL. (Whoever can drop a trigger can still edit the file: the hash chain
  // is what shows it.)
  return std::string(kSchemaV6) + kAuditTable + AppendOnlyTriggersSql("audit", "audit", "audit rows", postgres);
}

std::string AuditTrailSql() { return std::string(kAuditTable) + AppendOnlyTriggersSql("audit", "audit", "audit rows", false); }

std::string EncodeWordBoxes(const std::vector<WordBox>& words) {
  std::string out;
  out.reserve(words.size() * 24);
  for (const WordBox& w : words) {
    std::string text;
    for (unsigned char c : w.text) {
      if (c > 0x20 && c != 0x7f) text += static_cast<char>(c);
    }
    if (text.empty()) continue;
    out += std::to_string(w.x) + ' ' + std::to_string(w.y) + ' ' + std::to_string(w.w) + ' ' + std::to_string(w.h) +
           ' ' + text + '\n';
  }
  return out;
}

std::vector<WordBox> DecodeWordBoxes(const std::string& text) {
  std::vector<WordBox> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find('\n', i);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(i, end - i);
    i = end + 1;
    WordBox w;
    int consumed = 0;
    if (std::sscanf(line.c_str(), "%d %d %d %d %n", &w.x, &w.y, &w.w, &w.h, &consumed) != 4 || consumed <= 0 ||
        static_cast<size_t>(consumed) >= line.size()) {
      continue;
    }
    w.text = line.substr(static_cast<size_t>(consumed));
    out.push_back(std::move(w));
  }
  return out;
}

Result<std::optional<PageWords>> ReadPageWords(SqlSession& s, const std::string& lot_id,
                                               const std::string& document_id, int number) {
  ACERVO_ASSIGN_OR_RETURN(
      auto rows, s.Query("SELECT p.id, pw.width, pw.height, pw.words FROM documents d JOIN pages p ON p.doc_id = d.id "
                         "LEFT JOIN page_words pw ON pw.page_id = p.id "
                         "WHERE d.lot_id = ? AND d.document_id = ? AND p.number = ?",
                         {lot_id, document_id, int64_t{number}}));
  if (rows.empty()) return std::optional<PageWords>();
  PageWords pw;
  pw.image_width = static_cast<int>(ColInt(rows[0], 1));
  pw.image_height = static_cast<int>(ColInt(rows[0], 2));
  pw.words = DecodeWordBoxes(Col(rows[0], 3));
  return std::optional<PageWords>(std::move(pw));
}

Result<SqlParts> DocumentFilterWithAccess(const SearchRequest& request, const ParsedQuery& query,
                                          const char* true_literal, const char* allowed_table) {
  ACERVO_ASSIGN_OR_RETURN(SqlParts where, CompileDocumentFilter(request, query, true_literal));
  if (!request.document.empty()) {
    if (request.lot.empty()) return Status::InvalidArgument("a search within one document needs its lot");
    where.sql += " AND d.document_id = ?";
    where.params.push_back(request.document);
  }
  for (const auto& [bound, op] : {std::pair{&request.date_from, " >= ?"}, std::pair{&request.date_to, " <= ?"}}) {
    if (bound->empty()) continue;
    if (!ParseIsoDate(*bound)) return Status::InvalidArgument("date filter '" + *bound + "' is not a date");
    where.sql += " AND ";
    where.sql += kDocumentDateSql;
    where.sql += op;
    where.params.push_back(*ParseIsoDate(*bound));
  }
  if (request.allowed_lots) {
    if (request.allowed_lots->empty()) {
      where.sql += " AND 1 = 0";
    } else if (allowed_table != nullptr) {
      where.sql += " AND d.lot_id IN ";
      where.sql += allowed_table;
    } else {
      where.sql += " AND d.lot_id IN (";
      where.sql += Placeholders(request.allowed_lots->size());
      where.sql += ")";
      for (const std::string& lot : *request.allowed_lots) where.params.push_back(lot);
    }
  }
  return where;
}

Result<SearchFacets> ComputeFacets(SqlSession& s, const SqlParts& matching) {
  SearchFacets f;
  // The matching documents once, into the connection's temporary table
  // (kFacetIdsTable): every count below reads it by key instead of
  // evaluating the match again.
  ACERVO_RETURN_IF_ERROR(s.Query(std::string("DELETE FROM ") + kFacetIdsTable).status());
  ACERVO_RETURN_IF_ERROR(
      s.Query(std::string("INSERT INTO ") + kFacetIdsTable + " (id) " + matching.sql, matching.params).status());
  {
    ACERVO_ASSIGN_OR_RETURN(auto rows, s.Query(std::string("SELECT count(*) FROM ") + kFacetIdsTable));
    f.total = rows.empty() ? 0 : ColInt(rows[0], 0);
    if (f.total > kFacetCountCap) {
      f.total = kFacetCountCap;
      f.total_exact = false;
      ACERVO_RETURN_IF_ERROR(s.Query(std::string("DELETE FROM ") + kFacetIdsTable + " WHERE id = (SELECT max(id) FROM " +
                                     kFacetIdsTable + ")")
                                 .status());
    }
  }
  if (f.total == 0) return f;
  // Every count from two passes over the matching documents (their rows,
  // their index fields), driven by the ids and counted here: one statement
  // per facet made SQLite walk an index field's whole value index (every
  // document of the store with a `cidade`) to meet the 10,000 ids — most of
  // a second for a common word at 1M pages. Ties are broken bytewise, the
  // same on both backends.
  // (`IN (SELECT ...)`, not a join: SQLite would scan `fields` whole and
  // look each row up in the ids.)
  const std::string in = std::string("(SELECT id FROM ") + kFacetIdsTable + ")";
  ACERVO_ASSIGN_OR_RETURN(auto docs, s.Query("SELECT d.lot_id, d.document_type, d.document_type_norm FROM documents d "
                                             "WHERE d.id IN " + in));
  ACERVO_ASSIGN_OR_RETURN(auto fields, s.Query("SELECT f.doc_id, f.ordinal, f.name_norm, f.name, f.value_norm, "
                                               "f.value, f.value_date FROM fields f WHERE f.doc_id IN " + in));
  // Most frequent first, then the smaller value; the first `n`.
  auto top = [](std::vector<FacetCount> v, size_t n) {
    std::sort(v.begin(), v.end(), [](const FacetCount& a, const FacetCount& b) {
      return a.count != b.count ? a.count > b.count : a.value < b.value;
    });
    if (v.size() > n) v.resize(n);
    return v;
  };
  // The smallest of a group's spellings (SQL's min()); "" may be one.
  struct Min {
    bool set = false;
    std::string value;
  };
  auto keep_min = [](Min* held, const std::string& v) {
    if (!held->set || v < held->value) *held = {true, v};
  };
  {
    std::map<std::string, int64_t> lots;
    std::map<std::string, std::pair<Min, int64_t>> types;  // type_norm -> (min spelling, count)
    for (const SqlRow& r : docs) {
      ++lots[Col(r, 0)];
      if (Col(r, 2).empty()) continue;
      auto& t = types[Col(r, 2)];
      keep_min(&t.first, Col(r, 1));
      ++t.second;
    }
    std::vector<FacetCount> v;
    for (const auto& [lot, n] : lots) v.push_back({lot, n});
    f.lots = top(std::move(v), 50);
    v.clear();
    for (const auto& [norm, t] : types) v.push_back({t.first.value, t.second});
    f.types = top(std::move(v), 30);
  }
  {
    // Field names that make useful filters: few distinct values among the
    // matches (a CPF on every document does not).
    constexpr size_t kMaxDistinct = 25;
    struct Name {
      Min spelling;
      std::set<int64_t> docs;
      std::map<std::string, std::pair<Min, std::set<int64_t>>> values;  // value_norm -> (min value, docs)
    };
    std::map<std::string, Name> names;
    for (const SqlRow& r : fields) {
      Name& n = names[Col(r, 2)];
      keep_min(&n.spelling, Col(r, 3));
      const int64_t doc = ColInt(r, 0);
      n.docs.insert(doc);
      auto& value = n.values[Col(r, 4)];
      keep_min(&value.first, Col(r, 5));
      value.second.insert(doc);
    }
    std::vector<std::pair<const std::string*, Name*>> order;
    for (auto& [norm, n] : names) order.emplace_back(&norm, &n);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.second->docs.size() != b.second->docs.size() ? a.second->docs.size() > b.second->docs.size()
                                                            : *a.first < *b.first;
    });
    if (order.size() > 12) order.resize(12);
    for (const auto& [norm, n] : order) {
      if (n->values.size() > kMaxDistinct || f.fields.size() >= 6) continue;
      std::vector<FacetCount> v;
      for (const auto& [value_norm, value] : n->values) {
        v.push_back({value.first.value, static_cast<int64_t>(value.second.size())});
      }
      FieldFacet ff;
      ff.name = n->spelling.value;
      ff.values = top(std::move(v), 10);
      f.fields.push_back(std::move(ff));
    }
  }
  {
    // A document's date: its first field (by ordinal) holding one.
    std::map<int64_t, std::pair<int64_t, std::string>> dates;  // doc -> (ordinal, date)
    for (const SqlRow& r : fields) {
      if (!r[6].has_value()) continue;
      const int64_t doc = ColInt(r, 0), ordinal = ColInt(r, 1);
      auto [it, fresh] = dates.emplace(doc, std::make_pair(ordinal, *r[6]));
      if (!fresh && ordinal < it->second.first) it->second = {ordinal, *r[6]};
    }
    std::map<std::string, int64_t> years;
    for (const auto& [doc, d] : dates) {
      const std::string& date = d.second;
      ++years[date.substr(0, 4)];
      if (f.date_min.empty() || date < f.date_min) f.date_min = date;
      if (date > f.date_max) f.date_max = date;
    }
    for (const auto& [year, n] : years) f.years.push_back({year, n});
  }
  return f;
}

Result<std::vector<int64_t>> DocumentsByDate(SqlSession& s, const SqlParts& matching, bool newest_first,
                                             int limit, int offset) {
  const std::string date = kDocumentDateSql;
  std::vector<Param> params = matching.params;
  params.push_back(int64_t{limit});
  params.push_back(int64_t{offset});
  ACERVO_ASSIGN_OR_RETURN(
      auto rows, s.Query("SELECT d.id FROM documents d WHERE d.id IN (SELECT id FROM (" + matching.sql +
                             ") t) ORDER BY " + date + " IS NULL, " + date + (newest_first ? " DESC" : " ASC") +
                             ", d.lot_id, d.document_id LIMIT ? OFFSET ?",
                         params));
  std::vector<int64_t> out;
  for (const SqlRow& r : rows) out.push_back(ColInt(r, 0));
  return out;
}

Result<std::vector<LotSummary>> ReadLotSummaries(SqlSession& s) {
  ACERVO_ASSIGN_OR_RETURN(
      auto lots, s.Query("SELECT id, project, box, operator_name, description, profile_json, started_at, "
                         "finished_at FROM lots"));
  ACERVO_ASSIGN_OR_RETURN(
      auto counts,
      s.Query("SELECT d.lot_id, count(DISTINCT d.id), count(p.id), "
              "coalesce(sum(CASE WHEN p.blank THEN 1 ELSE 0 END), 0) "
              "FROM documents d LEFT JOIN pages p ON p.doc_id = d.id GROUP BY d.lot_id"));
  // What needs a person is what the review items say is open (schema v8):
  // the same numbers as `acervo review list` and the reports.
  ACERVO_ASSIGN_OR_RETURN(
      auto review,
      s.Query("SELECT lot_id, count(DISTINCT CASE WHEN page > 0 AND document_id <> '' THEN document_id || '#' || "
              "page END), count(DISTINCT CASE WHEN document_id <> '' THEN document_id END) "
              "FROM review_items WHERE state = 'open' GROUP BY lot_id"));
  std::map<std::string, const SqlRow*> by_lot, review_by_lot;
  for (const SqlRow& r : counts) by_lot[Col(r, 0)] = &r;
  for (const SqlRow& r : review) review_by_lot[Col(r, 0)] = &r;
  std::vector<LotSummary> out;
  for (const SqlRow& r : lots) {
    LotSummary l;
    l.lot = {Col(r, 0), Col(r, 1), Col(r, 2), Col(r, 3), Col(r, 4), Col(r, 5), Col(r, 6), Col(r, 7)};
    auto it = by_lot.find(l.lot.id);
    if (it != by_lot.end()) {
      l.documents = ColInt(*it->second, 1);
      l.pages = ColInt(*it->second, 2);
      l.blank_pages = ColInt(*it->second, 3);
    }
    auto rv = review_by_lot.find(l.lot.id);
    if (rv != review_by_lot.end()) {
      l.flagged_pages = ColInt(*rv->second, 1);
      l.flagged_documents = ColInt(*rv->second, 2);
    }
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end(), [](const LotSummary& a, const LotSummary& b) { return a.lot.id < b.lot.id; });
  return out;
}

namespace {

// Whether a document the request may see has an index field `name`.
Result<bool> FieldSeen(SqlSession& s, const SearchRequest& request, const std::string& name) {
  if (!request.allowed_lots) {
    ACERVO_ASSIGN_OR_RETURN(auto rows, s.Query(kFieldExistsSql, {name}));
    return !rows.empty();
  }
  if (request.allowed_lots->empty()) return false;
  std::vector<Param> params = {name};
  for (const std::string& lot : *request.allowed_lots) params.push_back(lot);
  std::string sql = "SELECT 1 FROM fields f JOIN documents d ON d.id = f.doc_id WHERE f.name_norm = ? AND d.lot_id IN (";
  sql += Placeholders(request.allowed_lots->size());
  sql += ") LIMIT 1";
  ACERVO_ASSIGN_OR_RETURN(auto rows, s.Query(sql, params));
  return !rows.empty();
}

Status CheckFieldNames(SqlSession& s, const SearchRequest& request, const ParsedQuery& query) {
  for (const std::string& name : ReferencedFields(request, query)) {
    ACERVO_ASSIGN_OR_RETURN(bool seen, FieldSeen(s, request, name));
    if (seen) continue;
    // The names to suggest: the lot's (or the store's), of the documents
    // the request may see only (a lot it may not open has no fields for it).
    std::vector<std::string> known;
    const bool lot_allowed = request.lot.empty() || !request.allowed_lots ||
                             std::find(request.allowed_lots->begin(), request.allowed_lots->end(), request.lot) !=
                                 request.allowed_lots->end();
    if (lot_allowed) {
      ACERVO_ASSIGN_OR_RETURN(auto rows, request.lot.empty() ? s.Query(kStoreFieldNamesSql)
                                                             : s.Query(kLotFieldNamesSql, {request.lot}));
      for (const SqlRow& r : rows) {
        bool keep = true;
        if (request.lot.empty() && request.allowed_lots) {
          ACERVO_ASSIGN_OR_RETURN(keep, FieldSeen(s, request, Col(r, 0)));
        }
        if (keep) known.push_back(Col(r, 0));
      }
    }
    return UnknownFieldError(name, request.lot, known);
  }
  return Status::OK();
}

}  // namespace

Result<ExpandedQuery> CheckAndExpand(SqlSession& s, Vocabulary& vocab, const SearchRequest& request,
                                     const ParsedQuery& query) {
  ACERVO_RETURN_IF_ERROR(CheckFieldNames(s, request, query));
  return ExpandQuery(query, request.forgiving, vocab);
}

Result<std::vector<std::string>> SessionVocabulary::KeyedTerms(const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  if (keys.empty()) return out;
  std::string sql = "SELECT DISTINCT term FROM term_keys WHERE key IN (";
  sql += Placeholders(keys.size());
  sql += ")";
  ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(sql, std::vector<Param>(keys.begin(), keys.end())));
  for (const SqlRow& r : rows) out.push_back(Col(r, 0));
  return out;
}

Result<std::vector<std::string>> SessionVocabulary::RangeTerms(bool keys, const std::string& lo, const std::string& hi,
                                                               int limit) {
  ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(keys ? "SELECT term FROM term_keys WHERE key >= ? AND key < ? LIMIT ?"
                                                    : "SELECT term FROM term_df WHERE term >= ? AND term < ? LIMIT ?",
                                               {lo, hi, int64_t{limit}}));
  std::vector<std::string> out;
  for (const SqlRow& r : rows) out.push_back(Col(r, 0));
  return out;
}

Result<int64_t> SessionVocabulary::TableDf(const std::string& term) {
  ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT df FROM term_df WHERE term = ?", {term}));
  return rows.empty() ? int64_t{0} : ColInt(rows[0], 0);
}

std::unique_ptr<AccessStore> NewSqlAccessStore(SqlSession* session, std::mutex* mu) {
  return std::make_unique<SqlAccessStore>(session, mu);
}

}  // namespace acervo
