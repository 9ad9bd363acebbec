// The ReviewStore (review_store.h) and schema v8, written once for both
// stores over SqlSession (sql_session.h). Every statement is valid SQL for
// SQLite and PostgreSQL alike.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "acervo/core/clock.h"
#include "acervo/indexer/review_store.h"
#include "sql_session.h"

namespace acervo {
namespace {

using json = nlohmann::json;

// ------------------------------------------------------------ schema v8 --

constexpr const char* kSchemaV8 = R"sql(
CREATE TABLE review_items (
  lot_id      TEXT NOT NULL,
  document_id TEXT NOT NULL,
  page        INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  subject     TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT '',
  state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted')),
  decided_by  TEXT NOT NULL DEFAULT '',
  decided_at  TEXT NOT NULL DEFAULT '',
  note        TEXT NOT NULL DEFAULT '',
  created_at  TEXT NOT NULL,
  PRIMARY KEY (lot_id, document_id, page, kind, subject)
);
CREATE INDEX review_items_open ON review_items(state, kind, lot_id, document_id);
CREATE TABLE document_history (
  seq         BIGINT PRIMARY KEY NOT NULL,
  lot_id      TEXT NOT NULL,
  document_id TEXT NOT NULL,
  at          TEXT NOT NULL,
  user_name   TEXT NOT NULL,
  action      TEXT NOT NULL,
  page        INTEGER NOT NULL DEFAULT 0,
  field       TEXT NOT NULL DEFAULT '',
  old_value   TEXT NOT NULL DEFAULT '',
  new_value   TEXT NOT NULL DEFAULT '',
  reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX document_history_by_document ON document_history(lot_id, document_id, seq);
CREATE TABLE withdrawals (
  lot_id      TEXT NOT NULL,
  document_id TEXT NOT NULL,
  at          TEXT NOT NULL,
  user_name   TEXT NOT NULL,
  reason      TEXT NOT NULL,
  pdf_path    TEXT NOT NULL DEFAULT '',
  pdf_sha256  TEXT NOT NULL DEFAULT '',
  page_count  INTEGER NOT NULL DEFAULT 0,
  masters     TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (lot_id, document_id)
);
CREATE TABLE lot_sources (
  lot_id       TEXT PRIMARY KEY NOT NULL,
  lot_dir      TEXT NOT NULL DEFAULT '',
  out_dir      TEXT NOT NULL DEFAULT '',
  profile_toml TEXT NOT NULL DEFAULT '',
  languages    TEXT NOT NULL DEFAULT '',
  recorded_at  TEXT NOT NULL
);
)sql";

// ----------------------------------------------------------- schema v11 --

constexpr const char* kSchemaV11 = R"sql(
CREATE TABLE page_replacements (
  seq               BIGINT PRIMARY KEY NOT NULL,
  lot_id            TEXT NOT NULL,
  document_id       TEXT NOT NULL,
  page              INTEGER NOT NULL,
  at                TEXT NOT NULL,
  user_name         TEXT NOT NULL,
  reason            TEXT NOT NULL DEFAULT '',
  old_master_path   TEXT NOT NULL,
  old_master_sha256 TEXT NOT NULL,
  old_page_in_file  INTEGER NOT NULL DEFAULT 1,
  new_master_path   TEXT NOT NULL,
  new_master_sha256 TEXT NOT NULL,
  old_pdf_sha256    TEXT NOT NULL DEFAULT '',
  new_pdf_sha256    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX page_replacements_by_document ON page_replacements(lot_id, document_id, page, seq);
)sql";

constexpr const char* kReplacementColumns =
    "SELECT seq, lot_id, document_id, page, at, user_name, reason, old_master_path, old_master_sha256, "
    "old_page_in_file, new_master_path, new_master_sha256, old_pdf_sha256, new_pdf_sha256 FROM page_replacements";

const std::string& Col(const SqlRow& r, size_t i) {
  static const std::string kEmpty;
  return i < r.size() && r[i] ? *r[i] : kEmpty;
}
int64_t ColInt(const SqlRow& r, size_t i) {
  const std::string& v = Col(r, i);
  return v.empty() ? 0 : std::strtoll(v.c_str(), nullptr, 10);
}

constexpr const char* kItemColumns =
    "SELECT lot_id, document_id, page, kind, subject, detail, state, decided_by, decided_at, note FROM review_items";

ReviewItem ItemOf(const SqlRow& r) {
  ReviewItem i;
  i.lot_id = Col(r, 0);
  i.document_id = Col(r, 1);
  i.page = static_cast<int>(ColInt(r, 2));
  i.kind = Col(r, 3);
  i.subject = Col(r, 4);
  i.detail = Col(r, 5);
  i.state = Col(r, 6);
  i.decided_by = Col(r, 7);
  i.decided_at = Col(r, 8);
  i.note = Col(r, 9);
  return i;
}

using ItemKey = std::tuple<std::string, int, std::string, std::string>;  // document, page, kind, subject
ItemKey KeyOf(const ReviewItem& i) { return {i.document_id, i.page, i.kind, i.subject}; }

Status InsertItem(SqlSession& s, const ReviewItem& i, const std::string& now) {
  return s.Query("INSERT INTO review_items (lot_id, document_id, page, kind, subject, detail, state, decided_by, "
                 "decided_at, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 {i.lot_id, i.document_id, int64_t{i.page}, i.kind, i.subject, i.detail, i.state, i.decided_by,
                  i.decided_at, i.note, now})
      .status();
}

// Items in `computed` replace the existing ones selected by `replaceable`;
// an item that was accepted and is computed again with the same detail stays
// accepted (a person already looked at exactly this).
Status ReplaceItems(SqlSession& s, const std::vector<ReviewItem>& existing, const std::vector<ReviewItem>& computed,
                    const std::function<bool(const ReviewItem&)>& replaceable) {
  std::map<ItemKey, const ReviewItem*> before;
  for (const ReviewItem& e : existing) {
    if (replaceable(e)) before[KeyOf(e)] = &e;
  }
  for (const auto& [key, e] : before) {
    ACERVO_RETURN_IF_ERROR(s.Query("DELETE FROM review_items WHERE lot_id = ? AND document_id = ? AND page = ? AND "
                                   "kind = ? AND subject = ?",
                                   {e->lot_id, e->document_id, int64_t{e->page}, e->kind, e->subject})
                               .status());
  }
  const std::string now = UtcNowIso8601();
  std::set<ItemKey> written;
  for (ReviewItem item : computed) {
    if (!written.insert(KeyOf(item)).second) continue;  // the same reason twice: once
    auto it = before.find(KeyOf(item));
    if (it != before.end() && it->second->state == "accepted" && it->second->detail == item.detail) {
      item.state = "accepted";
      item.decided_by = it->second->decided_by;
      item.decided_at = it->second->decided_at;
      item.note = it->second->note;
    } else {
      item.state = "open";
      item.decided_by.clear();
      item.decided_at.clear();
      item.note.clear();
    }
    ACERVO_RETURN_IF_ERROR(InsertItem(s, item, now));
  }
  return Status::OK();
}

Result<std::vector<ReviewItem>> ItemsOf(SqlSession& s, const std::string& lot_id, const std::string& document_id) {
  ACERVO_ASSIGN_OR_RETURN(auto rows, s.Query(std::string(kItemColumns) + " WHERE lot_id = ? AND document_id = ?",
                                             {lot_id, document_id}));
  std::vector<ReviewItem> out;
  for (const SqlRow& r : rows) out.push_back(ItemOf(r));
  return out;
}

// documents.flags := "needs_review" and every open reason of the document
// (sorted), or [] when nothing is open.
Status RollUpFlags(SqlSession& s, const std::string& lot_id, const std::string& document_id) {
  if (document_id.empty()) return Status::OK();
  ACERVO_ASSIGN_OR_RETURN(auto rows, s.Query("SELECT kind, subject FROM review_items WHERE lot_id = ? AND "
                                             "document_id = ? AND state = 'open'",
                                             {lot_id, document_id}));
  std::set<std::string> open;
  for (const SqlRow& r : rows) open.insert(Col(r, 1).empty() ? Col(r, 0) : Col(r, 0) + ":" + Col(r, 1));
  std::vector<std::string> flags;
  if (!open.empty()) flags.push_back("needs_review");
  flags.insert(flags.end(), open.begin(), open.end());
  return s.Query("UPDATE documents SET flags = ? WHERE lot_id = ? AND document_id = ?",
                 {json(flags).dump(), lot_id, document_id})
      .status();
}

Status AppendHistoryLocked(SqlSession& s, const std::vector<HistoryEntry>& entries) {
  if (entries.empty()) return Status::OK();
  // One appender at a time across processes (SQLite: BEGIN IMMEDIATE
  // already holds the write lock).
  if (s.postgres()) ACERVO_RETURN_IF_ERROR(s.Query("SELECT pg_advisory_xact_lock(7243014)").status());
  ACERVO_ASSIGN_OR_RETURN(auto last, s.Query("SELECT coalesce(max(seq), 0) FROM document_history"));
  int64_t seq = last.empty() ? 0 : ColInt(last[0], 0);
  const std::string now = UtcNowIso8601();
  for (const HistoryEntry& e : entries) {
    ACERVO_RETURN_IF_ERROR(s.Query("INSERT INTO document_history (seq, lot_id, document_id, at, user_name, action, "
                                   "page, field, old_value, new_value, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                   "?, ?)",
                                   {++seq, e.lot_id, e.document_id, e.at.empty() ? now : e.at, e.user, e.action,
                                    int64_t{e.page}, e.field, e.old_value, e.new_value, e.reason})
                               .status());
  }
  return Status::OK();
}

Status AppendReplacementsLocked(SqlSession& s, const std::string& lot_id, const std::string& document_id,
                                const std::vector<PageReplacement>& entries) {
  if (entries.empty()) return Status::OK();
  if (s.postgres()) ACERVO_RETURN_IF_ERROR(s.Query("SELECT pg_advisory_xact_lock(7243015)").status());
  ACERVO_ASSIGN_OR_RETURN(auto last, s.Query("SELECT coalesce(max(seq), 0) FROM page_replacements"));
  int64_t seq = last.empty() ? 0 : ColInt(last[0], 0);
  const std::string now = UtcNowIso8601();
  for (const PageReplacement& e : entries) {
    ACERVO_RETURN_IF_ERROR(
        s.Query("INSERT INTO page_replacements (seq, lot_id, document_id, page, at, user_name, reason, "
                "old_master_path, old_master_sha256, old_page_in_file, new_master_path, new_master_sha256, "
                "old_pdf_sha256, new_pdf_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {++seq, lot_id, document_id, int64_t{e.page}, e.at.empty() ? now : e.at, e.user, e.reason,
                 e.old_master_path, e.old_master_sha256, int64_t{e.old_page_in_file}, e.new_master_path,
                 e.new_master_sha256, e.old_pdf_sha256, e.new_pdf_sha256})
            .status());
  }
  return Status::OK();
}

PageReplacement ReplacementOf(const SqlRow& r) {
  PageReplacement p;
  p.seq = ColInt(r, 0);
  p.lot_id = Col(r, 1);
  p.document_id = Col(r, 2);
  p.page = static_cast<int>(ColInt(r, 3));
  p.at = Col(r, 4);
  p.user = Col(r, 5);
  p.reason = Col(r, 6);
  p.old_master_path = Col(r, 7);
  p.old_master_sha256 = Col(r, 8);
  p.old_page_in_file = static_cast<int>(ColInt(r, 9));
  p.new_master_path = Col(r, 10);
  p.new_master_sha256 = Col(r, 11);
  p.old_pdf_sha256 = Col(r, 12);
  p.new_pdf_sha256 = Col(r, 13);
  return p;
}

WithdrawalRecord WithdrawalOf(const SqlRow& r) {
  WithdrawalRecord w;
  w.lot_id = Col(r, 0);
  w.document_id = Col(r, 1);
  w.at = Col(r, 2);
  w.user = Col(r, 3);
  w.reason = Col(r, 4);
  w.pdf_path = Col(r, 5);
  w.pdf_sha256 = Col(r, 6);
  w.page_count = static_cast<int>(ColInt(r, 7));
  json m = json::parse(Col(r, 8), nullptr, false);
  if (m.is_array()) {
    for (const json& e : m) {
      if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        w.masters.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      }
    }
  }
  return w;
}

constexpr const char* kWithdrawalColumns =
    "SELECT lot_id, document_id, at, user_name, reason, pdf_path, pdf_sha256, page_count, masters FROM withdrawals";

// --------------------------------------------------------- review store --

class SqlReviewStore final : public ReviewStore {
 public:
  SqlReviewStore(SqlSession* s, std::mutex* mu) : s_(s), mu_(mu) {}

  Result<std::vector<ReviewItem>> ListItems(const ReviewFilter& f) override {
    if (f.limit < 1 || f.limit > 100000) return Status::InvalidArgument("review list limit must be 1..100000");
    std::string sql = std::string(kItemColumns) + " WHERE 1 = 1";
    std::vector<Param> params;
    if (!f.lot_id.empty()) {
      sql += " AND lot_id = ?";
      params.push_back(f.lot_id);
    }
    if (!f.document_id.empty()) {
      sql += " AND document_id = ?";
      params.push_back(f.document_id);
    }
    if (!f.kind.empty() && f.kind != "needs_review") {
      const size_t colon = f.kind.find(':');
      sql += " AND kind = ?";
      params.push_back(f.kind.substr(0, colon));
      if (colon != std::string::npos) {
        sql += " AND subject = ?";
        params.push_back(f.kind.substr(colon + 1));
      }
    }
    if (!f.include_accepted) sql += " AND state = 'open'";
    sql += " ORDER BY lot_id, document_id, page, kind, subject LIMIT ?";
    params.push_back(int64_t{f.limit});
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(sql, params));
    std::vector<ReviewItem> out;
    for (const SqlRow& r : rows) out.push_back(ItemOf(r));
    return out;
  }

  Status SyncLotItems(const std::string& lot_id, const std::vector<ReviewItem>& items) override {
    for (const ReviewItem& i : items) {
      if (i.lot_id != lot_id || !ReviewKindIsLotLevel(i.kind)) {
        return Status::InvalidArgument("lot-level review items must be of lot " + lot_id + " and of a lot-level kind");
      }
    }
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("review items of lot " + lot_id, [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(std::string(kItemColumns) + " WHERE lot_id = ?", {lot_id}));
      std::vector<ReviewItem> existing;
      for (const SqlRow& r : rows) existing.push_back(ItemOf(r));
      ACERVO_RETURN_IF_ERROR(
          ReplaceItems(*s_, existing, items, [](const ReviewItem& i) { return ReviewKindIsLotLevel(i.kind); }));
      return Status::OK();
    });
  }

  Result<int> Accept(const std::string& lot_id, const std::string& document_id, int page, const std::string& kind,
                     const std::string& user, const std::string& note) override {
    int accepted = 0;
    std::lock_guard<std::mutex> lock(*mu_);
    Status s = s_->Write("accept review items of " + lot_id + "/" + document_id, [&]() -> Status {
      accepted = 0;
      ACERVO_ASSIGN_OR_RETURN(std::vector<ReviewItem> items, ItemsOf(*s_, lot_id, document_id));
      const std::string now = UtcNowIso8601();
      std::vector<HistoryEntry> history;
      for (const ReviewItem& i : items) {
        if (i.state != "open" || (page > 0 && i.page != page)) continue;
        if (!kind.empty() && kind != "needs_review" && i.kind != kind && i.Flag() != kind) continue;
        ACERVO_RETURN_IF_ERROR(s_->Query("UPDATE review_items SET state = 'accepted', decided_by = ?, decided_at = ?, "
                                         "note = ? WHERE lot_id = ? AND document_id = ? AND page = ? AND kind = ? AND "
                                         "subject = ?",
                                         {user, now, note, lot_id, document_id, int64_t{i.page}, i.kind, i.subject})
                                   .status());
        history.push_back({0, lot_id, document_id, now, user, "accept", i.page, i.Flag(), "open", "accepted", note});
        ++accepted;
      }
      if (accepted == 0) {
        return Status::NotFound("nothing open to accept in " + lot_id + "/" + document_id +
                                (page > 0 ? " page " + std::to_string(page) : "") +
                                (kind.empty() ? "" : " of kind " + kind));
      }
      ACERVO_RETURN_IF_ERROR(AppendHistoryLocked(*s_, history));
      return RollUpFlags(*s_, lot_id, document_id);
    });
    ACERVO_RETURN_IF_ERROR(s);
    return accepted;
  }

  Status RequestRescan(const std::string& lot_id, const std::string& document_id, int page, const std::string& user,
                       const std::string& note) override {
    if (page < 1) return Status::InvalidArgument("a re-scan names a page (1 or more)");
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("re-scan request for " + lot_id + "/" + document_id, [&]() -> Status {
      ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT 1 FROM pages p JOIN documents d ON d.id = p.doc_id WHERE "
                                                   "d.lot_id = ? AND d.document_id = ? AND p.number = ?",
                                                   {lot_id, document_id, int64_t{page}}));
      if (rows.empty()) {
        return Status::NotFound("no page " + std::to_string(page) + " in document " + lot_id + "/" + document_id);
      }
      ACERVO_RETURN_IF_ERROR(s_->Query("DELETE FROM review_items WHERE lot_id = ? AND document_id = ? AND page = ? "
                                       "AND kind = 'rescan'",
                                       {lot_id, document_id, int64_t{page}})
                                 .status());
      const std::string now = UtcNowIso8601();
      ReviewItem item{lot_id, document_id, page, "rescan", "", note.empty() ? "asked for by " + user : note,
                      "open", "", "", note};
      ACERVO_RETURN_IF_ERROR(InsertItem(*s_, item, now));
      ACERVO_RETURN_IF_ERROR(
          AppendHistoryLocked(*s_, {{0, lot_id, document_id, now, user, "rescan", page, "", "", "", note}}));
      return RollUpFlags(*s_, lot_id, document_id);
    });
  }

  Status AppendHistory(const std::vector<HistoryEntry>& entries) override {
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("document history", [&]() { return AppendHistoryLocked(*s_, entries); });
  }

  Result<std::vector<HistoryEntry>> History(const std::string& lot_id, const std::string& document_id) override {
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT seq, lot_id, document_id, at, user_name, action, page, "
                                                 "field, old_value, new_value, reason FROM document_history WHERE "
                                                 "lot_id = ? AND document_id = ? ORDER BY seq",
                                                 {lot_id, document_id}));
    std::vector<HistoryEntry> out;
    for (const SqlRow& r : rows) {
      out.push_back({ColInt(r, 0), Col(r, 1), Col(r, 2), Col(r, 3), Col(r, 4), Col(r, 5),
                     static_cast<int>(ColInt(r, 6)), Col(r, 7), Col(r, 8), Col(r, 9), Col(r, 10)});
    }
    return out;
  }

  Result<std::optional<WithdrawalRecord>> FindWithdrawal(const std::string& lot_id,
                                                         const std::string& document_id) override {
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(std::string(kWithdrawalColumns) +
                                                     " WHERE lot_id = ? AND document_id IN (?, '') ORDER BY "
                                                     "document_id DESC",
                                                 {lot_id, document_id}));
    if (rows.empty()) return std::optional<WithdrawalRecord>();
    return std::optional<WithdrawalRecord>(WithdrawalOf(rows.front()));
  }

  Result<std::vector<WithdrawalRecord>> ListWithdrawals(const std::string& lot_id) override {
    std::lock_guard<std::mutex> lock(*mu_);
    std::vector<Param> params;
    std::string sql = kWithdrawalColumns;
    if (!lot_id.empty()) {
      sql += " WHERE lot_id = ?";
      params.push_back(lot_id);
    }
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(sql + " ORDER BY lot_id, document_id", params));
    std::vector<WithdrawalRecord> out;
    for (const SqlRow& r : rows) out.push_back(WithdrawalOf(r));
    return out;
  }

  Result<std::vector<PageReplacement>> Replacements(const std::string& lot_id,
                                                    const std::string& document_id) override {
    std::lock_guard<std::mutex> lock(*mu_);
    std::vector<Param> params;
    std::string sql = kReplacementColumns;
    if (!lot_id.empty()) {
      sql += " WHERE lot_id = ?";
      params.push_back(lot_id);
      if (!document_id.empty()) {
        sql += " AND document_id = ?";
        params.push_back(document_id);
      }
    }
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query(sql + " ORDER BY seq", params));
    std::vector<PageReplacement> out;
    for (const SqlRow& r : rows) out.push_back(ReplacementOf(r));
    return out;
  }

  Status RecordLotSource(const LotSource& l) override {
    if (l.lot_id.empty()) return Status::InvalidArgument("lot source without a lot id");
    std::lock_guard<std::mutex> lock(*mu_);
    return s_->Write("lot source " + l.lot_id, [&]() -> Status {
      ACERVO_RETURN_IF_ERROR(s_->Query("DELETE FROM lot_sources WHERE lot_id = ?", {l.lot_id}).status());
      return s_->Query("INSERT INTO lot_sources (lot_id, lot_dir, out_dir, profile_toml, languages, recorded_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       {l.lot_id, l.lot_dir, l.out_dir, l.profile_toml, l.languages, UtcNowIso8601()})
          .status();
    });
  }

  Result<std::optional<LotSource>> GetLotSource(const std::string& lot_id) override {
    std::lock_guard<std::mutex> lock(*mu_);
    ACERVO_ASSIGN_OR_RETURN(auto rows, s_->Query("SELECT lot_id, lot_dir, out_dir, profile_toml, languages FROM "
                                                 "lot_sources WHERE lot_id = ?",
                                                 {lot_id}));
    if (rows.empty()) return std::optional<LotSource>();
    const SqlRow& r = rows.front();
    return std::optional<LotSource>(LotSource{Col(r, 0), Col(r, 1), Col(r, 2), Col(r, 3), Col(r, 4)});
  }

 private:
  SqlSession* s_;
  std::mutex* mu_;
};

}  // namespace

bool ReviewKindIsLotLevel(const std::string& kind) {
  return kind == "quarantined" || kind == "not_produced" || kind == "all_blank" || kind == "separator_unused";
}

std::string SchemaV11Sql(bool postgres) {
  return std::string(kSchemaV11) +
         AppendOnlyTriggersSql("page_replacements", "replacement", "page replacement rows", postgres);
}

std::string SchemaV8Sql(bool postgres) {
  // The history, like the audit trail, is only ever appended to.
  return std::string(kSchemaV8) + AppendOnlyTriggersSql("document_history", "history", "document history rows", postgres);
}

Status WriteDocumentReview(SqlSession& s, const DocumentRecord& doc) {
  if (!doc.review) return Status::OK();
  const DocumentReview& r = *doc.review;
  ACERVO_ASSIGN_OR_RETURN(std::vector<ReviewItem> existing, ItemsOf(s, doc.lot_id, doc.document_id));
  const std::set<int> fresh(r.fresh_pages.begin(), r.fresh_pages.end());
  std::vector<ReviewItem> computed = r.items;
  for (ReviewItem& i : computed) {
    i.lot_id = doc.lot_id;
    i.document_id = doc.document_id;
  }
  // A re-scan request stays until its page is made anew; the lot-level
  // items of a document that now has its row (not produced before) go.
  for (const ReviewItem& e : existing) {
    if (e.kind == "rescan" && !fresh.count(e.page)) computed.push_back(e);
  }
  ACERVO_RETURN_IF_ERROR(ReplaceItems(s, existing, computed, [&](const ReviewItem& i) {
    return !ReviewKindIsLotLevel(i.kind) || i.kind == "not_produced" || i.kind == "all_blank";
  }));
  // Decisions on the replaced pages do not carry over to the new scan.
  for (int p : fresh) {
    ACERVO_RETURN_IF_ERROR(s.Query("UPDATE review_items SET state = 'open', decided_by = '', decided_at = '', "
                                   "note = '' WHERE lot_id = ? AND document_id = ? AND page = ? AND kind <> 'rescan'",
                                   {doc.lot_id, doc.document_id, int64_t{p}})
                               .status());
  }
  std::vector<HistoryEntry> history = r.history;
  for (HistoryEntry& h : history) {
    h.lot_id = doc.lot_id;
    h.document_id = doc.document_id;
  }
  ACERVO_RETURN_IF_ERROR(AppendHistoryLocked(s, history));
  ACERVO_RETURN_IF_ERROR(AppendReplacementsLocked(s, doc.lot_id, doc.document_id, r.replacements));
  return RollUpFlags(s, doc.lot_id, doc.document_id);
}

Result<std::vector<int64_t>> PrepareWithdrawal(SqlSession& s, const std::string& lot_id,
                                               const std::string& document_id, const std::string& user,
                                               const std::string& reason) {
  if (lot_id.empty()) return Status::InvalidArgument("withdraw: no lot given");
  if (reason.empty()) return Status::InvalidArgument("withdraw: a reason is required");
  ACERVO_ASSIGN_OR_RETURN(auto lot, s.Query("SELECT 1 FROM lots WHERE id = ?", {lot_id}));
  if (lot.empty()) return Status::NotFound("no lot " + lot_id + " in the store");
  std::string sql = "SELECT id, document_id, pdf_path, pdf_sha256, page_count FROM documents WHERE lot_id = ?";
  std::vector<Param> params = {lot_id};
  if (!document_id.empty()) {
    sql += " AND document_id = ?";
    params.push_back(document_id);
  }
  ACERVO_ASSIGN_OR_RETURN(auto docs, s.Query(sql, params));
  if (!document_id.empty() && docs.empty()) {
    ACERVO_ASSIGN_OR_RETURN(auto earlier, s.Query("SELECT 1 FROM withdrawals WHERE lot_id = ? AND document_id IN (?, "
                                                  "'')",
                                                  {lot_id, document_id}));
    if (!earlier.empty()) return Status::AlreadyExists(lot_id + "/" + document_id + " is already withdrawn");
    return Status::NotFound("no document " + lot_id + "/" + document_id + " in the store");
  }
  const std::string now = UtcNowIso8601();
  std::vector<int64_t> ids;
  std::vector<HistoryEntry> history;
  for (const SqlRow& d : docs) {
    ids.push_back(ColInt(d, 0));
    ACERVO_ASSIGN_OR_RETURN(auto masters, s.Query("SELECT DISTINCT master_path, master_sha256 FROM pages WHERE "
                                                  "doc_id = ? ORDER BY master_path",
                                                  {ColInt(d, 0)}));
    json m = json::array();
    for (const SqlRow& r : masters) m.push_back({Col(r, 0), Col(r, 1)});
    ACERVO_RETURN_IF_ERROR(s.Query("DELETE FROM withdrawals WHERE lot_id = ? AND document_id = ?", {lot_id, Col(d, 1)})
                               .status());
    ACERVO_RETURN_IF_ERROR(s.Query("INSERT INTO withdrawals (lot_id, document_id, at, user_name, reason, pdf_path, "
                                   "pdf_sha256, page_count, masters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                   {lot_id, Col(d, 1), now, user, reason, Col(d, 2), Col(d, 3), ColInt(d, 4), m.dump()})
                               .status());
    history.push_back({0, lot_id, Col(d, 1), now, user, "withdraw", 0, "", "", "", reason});
  }
  if (document_id.empty()) {
    ACERVO_RETURN_IF_ERROR(s.Query("DELETE FROM withdrawals WHERE lot_id = ? AND document_id = ''", {lot_id}).status());
    ACERVO_RETURN_IF_ERROR(s.Query("INSERT INTO withdrawals (lot_id, document_id, at, user_name, reason) VALUES (?, "
                                   "'', ?, ?, ?)",
                                   {lot_id, now, user, reason})
                               .status());
    history.push_back({0, lot_id, "", now, user, "withdraw", 0, "", "", "", reason});
    ACERVO_RETURN_IF_ERROR(s.Query("DELETE FROM review_items WHERE lot_id = ?", {lot_id}).status());
  } else {
    ACERVO_RETURN_IF_ERROR(
        s.Query("DELETE FROM review_items WHERE lot_id = ? AND document_id = ?", {lot_id, document_id}).status());
  }
  ACERVO_RETURN_IF_ERROR(AppendHistoryLocked(s, history));
  return ids;
}

std::unique_ptr<ReviewStore> NewSqlReviewStore(SqlSession* session, std::mutex* mu) {
  return std::make_unique<SqlReviewStore>(session, mu);
}

}  // namespace acervo
