// AccessStore: who may use the archive and what they did — users and their
// roles, groups, grants of lots and projects to groups, API tokens, and the
// append-only, hash-chained audit trail. Kept in the same database as the
// documents (schema v6), on SQLite and PostgreSQL alike: one implementation
// of the logic and the SQL serves both (indexer/src/access_store.cc over the
// store's connection). The web server (web/) and the `acervo users` and
// `acervo verify --audit` commands use it; nothing here knows HTTP.
//
// Secrets: the store keeps only what cannot be turned back into a secret —
// an Argon2id hash string for passwords (made by the caller, web/password.h)
// and the SHA-256 of API token secrets (random 256-bit values, for which a
// fast hash is enough).
//
// Audit chain: AppendAudit gives each row the next sequence number, the
// previous row's hash and its own hash, SHA-256 over the previous hash and
// the row's fields (AuditRowHash). Rows cannot be updated or deleted
// through SQL (triggers refuse it); VerifyAudit recomputes the chain, so a
// row edited or removed by other means (the file edited, the triggers
// dropped) is found, naming the first row that does not match.
//
// Thread-safety: as for Store (calls are serialised on the store's
// connection). Obtain it with Store::Access(); it lives as long as the Store.
#ifndef ACERVO_INDEXER_ACCESS_STORE_H_
#define ACERVO_INDEXER_ACCESS_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

// What a user may do. Readers search and read the lots granted to their
// groups, with CPF/CNPJ masked unless `full_view`; operators also see the
// lots' state (and, later, the review queue); admins manage users and
// grants, see every lot and read the audit trail.
enum class Role { kReader = 0, kOperator = 1, kAdmin = 2 };
const char* RoleName(Role role);  // "reader", "operator", "admin"
std::optional<Role> ParseRole(std::string_view name);

struct UserRecord {
  std::string name;  // login: 1..64 of [a-z0-9._@-], unique
  std::string display_name;
  Role role = Role::kReader;
  std::string password_hash;  // Argon2id string ("$argon2id$..."); "" = no local password
  bool disabled = false;
  bool full_view = false;           // LGPD: sees CPF and CNPJ unmasked whatever the role
  std::vector<std::string> groups;  // group names, sorted
  std::string created_at;           // UTC ISO 8601, set by AddUser
  // v10 (issue 19): where the identity comes from. "local": a user of this
  // store (acervo users, the admin page), who may have a password;
  // "ldap": mirrored from the directory at each login (role, groups, name
  // and disabled state are the directory's; no local password).
  std::string source = "local";
  // v10: the user's CPF, 11 digits ("" none): an ICP-Brasil e-CPF
  // certificate carrying it logs this user in. Unique among users.
  std::string cpf;
};

// A group may open one lot (kind "lot", target = lot id) or every lot of a
// project (kind "project", target = LotRecord::project).
struct GrantRecord {
  std::string group;
  std::string kind;
  std::string target;
};

struct ApiTokenRecord {
  std::string id;  // public part of the token, unique
  std::string user;
  std::string secret_sha256;  // hex SHA-256 of the secret part
  std::string label;
  std::string created_at;
  bool revoked = false;
};

// One audited event as the caller describes it.
struct AuditEntry {
  std::string at;       // UTC ISO 8601 with milliseconds; "" = now
  std::string user;     // login name, or "" when unknown (a failed login names the account tried in detail)
  std::string address;  // client address
  std::string action;   // e.g. "login", "login_failed", "search", "view_document", "view_page", "download", "admin_user", "denied"
  std::string target;   // what it concerns: "lot/doc", "lot/doc/page", a user name, "" for none
  std::string detail;   // the query, the change made, the reason
};

struct AuditRow {
  int64_t seq = 0;  // 1, 2, 3 ... without gaps
  AuditEntry entry;
  std::string prev_hash;  // hash of row seq - 1; 64 zeros for row 1
  std::string hash;       // AuditRowHash(prev_hash, seq, entry)
};

struct AuditFilter {
  int64_t before_seq = 0;  // only rows with seq < this (0: from the newest); for paging back
  int limit = 100;         // 1..10000
  std::string user;        // exact, "" = any
  std::string action;      // exact, "" = any
  std::string target_prefix;  // rows whose target starts with this, "" = any
  std::string since, until;   // ISO 8601 bounds on `at` (inclusive), "" = open
  // v10 (issue 19): rows whose detail contains this text (exact bytes,
  // case-sensitive), "" = any. For finding the searches that named a CPF.
  std::string detail_contains;
};

struct AuditCheck {
  int64_t rows = 0;
  int64_t head_seq = 0;   // the last row
  std::string head_hash;  // its hash: record it elsewhere to detect a cut-off tail later
  std::vector<std::string> problems;  // empty when the chain is intact
  bool ok() const { return problems.empty(); }
};

// The hash of an audit row: hex SHA-256 of the previous hash, the sequence
// number and every field, each length-prefixed (so no two rows encode alike).
std::string AuditRowHash(const std::string& prev_hash, int64_t seq, const AuditEntry& entry);

// A user name as AddUser accepts it: 1..64 of [a-z0-9._@-], starting with a
// letter or digit.
bool ValidUserName(std::string_view name);

class AccessStore {
 public:
  virtual ~AccessStore() = default;

  // Adds a user (created_at is set here). AlreadyExists when the name is
  // taken, or the CPF is another user's; InvalidArgument for a bad name,
  // group name, source or CPF (not 11 digits with valid check digits).
  virtual Status AddUser(const UserRecord& user) = 0;
  // Replaces role, display name, password hash, disabled, full_view,
  // groups, source and CPF of an existing user. NotFound when there is
  // none; AlreadyExists when the CPF is another user's.
  virtual Status UpdateUser(const UserRecord& user) = 0;
  virtual Result<std::optional<UserRecord>> GetUser(const std::string& name) = 0;
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;  // by name
  // v10: the user whose `cpf` is these 11 digits, or nullopt.
  virtual Result<std::optional<UserRecord>> GetUserByCpf(const std::string& cpf_digits) = 0;

  // Grants are idempotent: granting twice keeps one row; revoking a grant
  // that does not exist is NotFound. InvalidArgument for a kind other than
  // "lot"/"project" or empty names.
  virtual Status AddGrant(const GrantRecord& grant) = 0;
  virtual Status RemoveGrant(const GrantRecord& grant) = 0;
  virtual Result<std::vector<GrantRecord>> ListGrants() = 0;
  // The ids of the lots stored now that `groups` may open: lots granted by
  // id (also ones not stored yet) and the lots of granted projects. Sorted.
  virtual Result<std::vector<std::string>> LotsForGroups(const std::vector<std::string>& groups) = 0;

  // API tokens. AddApiToken: AlreadyExists for a used id, NotFound for an
  // unknown user. RevokeApiToken: NotFound when there is no such token.
  virtual Status AddApiToken(const ApiTokenRecord& token) = 0;
  virtual Result<std::optional<ApiTokenRecord>> GetApiToken(const std::string& id) = 0;
  virtual Result<std::vector<ApiTokenRecord>> ListApiTokens(const std::string& user) = 0;
  virtual Status RevokeApiToken(const std::string& id) = 0;

  // Appends entries in order, in one transaction, chained to the current
  // last row; returns the rows as stored.
  virtual Result<std::vector<AuditRow>> AppendAudit(const std::vector<AuditEntry>& entries) = 0;
  // Rows matching `filter`, newest first.
  virtual Result<std::vector<AuditRow>> ListAudit(const AuditFilter& filter) = 0;
  // Recomputes the whole chain (in batches: bounded memory). The check runs;
  // its problems say what does not match. Failure only when the rows
  // cannot be read.
  virtual Result<AuditCheck> VerifyAudit() = 0;
};

}  // namespace acervo

#endif  // ACERVO_INDEXER_ACCESS_STORE_H_
