// acervo review (list, set, accept, rescan, history) and acervo withdraw:
// the operators' side of the store (issue 14, docs/review.md).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acervo/core/review_reason.h"
#include "acervo/core/text.h"
#include "acervo/indexer/open_store.h"
#include "acervo/pipeline/correction.h"
#include "acervo/pipeline/page_replace.h"
#include "acervo/pipeline/review.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {

// Text from the store or the command line, safe on a terminal (core/text.h).
std::string T(const std::string& s) { return TerminalText(s); }
using json = nlohmann::json;

// Who acts, as the history records it: "cli:<login>".
std::string CliUser() {
  for (const char* var : {"ACERVO_USER", "USER", "LOGNAME"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return std::string("cli:") + v;
  }
  return "cli:uid" + std::to_string(::getuid());
}

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "acervo %s: %s\n", what, T(s.ToString()).c_str());
  return ExitCodeFor(s);
}

struct ReviewArgs {
  std::string store;
  std::string lot, document, reason, note, user, lang = "en";
  int page = 0;
  bool json = false, all = false;
  std::vector<std::string> assignments;
  std::string image;
};

// Resolves the store's relative paths for the lot being changed.
std::function<std::filesystem::path(const std::string&, const std::string&)> Resolver(const StoredPaths& paths) {
  return [&paths](const std::string& l, const std::string& stored) { return paths.Resolve(l, stored); };
}

// review list: open items (with --all, decided ones too), as text or JSON.
int ReviewList(Store& store, const ReviewArgs& a) {
  if (!a.reason.empty() && a.reason != "needs_review" && FindReviewReason(a.reason) == nullptr) {
    std::string kinds;
    for (const ReviewReasonInfo& r : ReviewReasons()) kinds += (kinds.empty() ? "" : ", ") + std::string(r.kind);
    std::fprintf(stderr, "acervo review list: unknown reason '%s' (one of: %s)\n", a.reason.c_str(),
                 kinds.c_str());
    return kExitUsage;
  }
  ReviewFilter f;
  f.lot_id = a.lot;
  f.document_id = a.document;
  f.kind = a.reason;
  f.include_accepted = a.all;
  f.limit = 100000;
  Result<std::vector<ReviewItem>> items = store.Review().ListItems(f);
  if (!items.ok()) return Fail("review list", items.status());
  if (a.json) {
    json j = ReviewJson(*items);
    if (a.all) {  // accepted ones too, with their decision
      json all = json::array();
      for (const ReviewItem& i : *items) {
        all.push_back({{"lot", i.lot_id}, {"document", i.document_id}, {"page", i.page}, {"kind", i.kind},
                       {"subject", i.subject}, {"detail", i.detail}, {"state", i.state},
                       {"decided_by", i.decided_by}, {"decided_at", i.decided_at}, {"note", i.note}});
      }
      j["all"] = all;
    }
    std::printf("%s\n", j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    const std::string text = ReviewSummaryText(*items, a.lang == "en", 100000);
    std::printf("%s", text.empty() ? (a.lang == "en" ? "Nothing to review\n" : "Nada para revisar\n")
                                   : text.c_str());
  }
  return kExitOk;
}

// review set: corrects index fields, rewrites the PDF's metadata, prints
// what changed and what is left to review.
int ReviewSet(Store& store, const ReviewArgs& a, const std::string& user) {
  CorrectionRequest req;
  req.lot_id = a.lot;
  req.document_id = a.document;
  req.user = user;
  req.reason = a.note;
  for (const std::string& s : a.assignments) {
    Result<FieldChange> c = ParseFieldChange(s);
    if (!c.ok()) return Fail("review set", c.status());
    req.changes.push_back(*c);
  }
  const StoredPaths paths = StoredPaths::ForStore(a.store, store);
  req.resolve = Resolver(paths);
  Result<CorrectionResult> r = CorrectDocument(store, req);
  if (!r.ok()) return Fail("review set", r.status());
  if (r->changed.empty()) {
    std::printf("%s/%s: nothing changed\n", T(a.lot).c_str(), T(a.document).c_str());
    return kExitOk;
  }
  for (const HistoryEntry& h : r->changed) {
    std::printf("%s/%s: %s '%s' -> '%s'\n", T(a.lot).c_str(), T(a.document).c_str(), T(h.field).c_str(),
                T(h.old_value).c_str(), T(h.new_value).c_str());
  }
  std::printf("PDF metadata rewritten: %s (sha256 %s)\n", T(r->pdf_path).c_str(), r->pdf_sha256.c_str());
  ReviewFilter f;
  f.lot_id = a.lot;
  f.document_id = a.document;
  Result<std::vector<ReviewItem>> open = store.Review().ListItems(f);
  if (open.ok()) {
    const std::string text = ReviewSummaryText(*open, true, 50);
    std::printf("%s", text.empty() ? "Nothing left to review for this document\n" : text.c_str());
  }
  return kExitOk;
}

int ReviewAccept(Store& store, const ReviewArgs& a, const std::string& user) {
  Result<int> n = store.Review().Accept(a.lot, a.document, a.page, a.reason, user, a.note);
  if (!n.ok()) return Fail("review accept", n.status());
  std::printf("%s/%s: %d item%s accepted\n", T(a.lot).c_str(), T(a.document).c_str(), *n, *n == 1 ? "" : "s");
  return kExitOk;
}

int ReviewRescan(Store& store, const ReviewArgs& a, const std::string& user) {
  Status s = store.Review().RequestRescan(a.lot, a.document, a.page, user, a.note);
  if (!s.ok()) return Fail("review rescan", s);
  std::printf("%s/%s page %d: marked to be scanned again\n", T(a.lot).c_str(), T(a.document).c_str(), a.page);
  return kExitOk;
}

int ReviewReplace(Store& store, const ReviewArgs& a, const std::string& user) {
  PageReplaceRequest req;
  req.lot_id = a.lot;
  req.document_id = a.document;
  req.page = a.page;
  req.image = a.image;
  req.user = user;
  req.reason = a.note;
  const StoredPaths paths = StoredPaths::ForStore(a.store, store);
  req.resolve = Resolver(paths);
  return PrintReplacement(ReplacePage(store, req), a.json);
}

// review history: every change to a document, oldest first.
int ReviewHistory(Store& store, const ReviewArgs& a) {
  Result<std::vector<HistoryEntry>> h = store.Review().History(a.lot, a.document);
  if (!h.ok()) return Fail("review history", h.status());
  if (a.json) {
    json arr = json::array();
    for (const HistoryEntry& e : *h) {
      arr.push_back({{"seq", e.seq}, {"at", e.at}, {"user", e.user}, {"action", e.action}, {"page", e.page},
                     {"field", e.field}, {"old", e.old_value}, {"new", e.new_value}, {"reason", e.reason}});
    }
    std::printf("%s\n", arr.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    for (const HistoryEntry& e : *h) {
      std::printf("%s  %s  %s", T(e.at).c_str(), T(e.user).c_str(), T(e.action).c_str());
      if (e.page > 0) std::printf(" page %d", e.page);
      if (!e.field.empty()) std::printf(" %s", T(e.field).c_str());
      if (e.action == "set_field") std::printf(" '%s' -> '%s'", T(e.old_value).c_str(), T(e.new_value).c_str());
      if (!e.reason.empty()) std::printf("  (%s)", T(e.reason).c_str());
      std::printf("\n");
    }
    if (h->empty()) std::printf("no history\n");
  }
  return kExitOk;
}

}  // namespace

int PrintReplacement(const Result<PageReplaceResult>& r, bool as_json) {
  if (!r.ok()) {
    std::fprintf(stderr, "acervo review replace: %s\n", T(r.status().ToString()).c_str());
    // A name on the line that is wrong (lot, document, page, withdrawn) or
    // an image that cannot be used: the command as given cannot work.
    const StatusCode code = r.status().code();
    return code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument ? kExitUsage
                                                                                 : ExitCodeFor(r.status());
  }
  const PageReplacement& p = r->replacement;
  if (as_json) {
    const json j = ReplacementJson(*r);
    std::printf("%s\n", j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  std::printf("%s/%s page %d replaced: new master %s (sha256 %s), old master %s kept\n", T(p.lot_id).c_str(),
              T(p.document_id).c_str(), p.page, T(p.new_master_path).c_str(), p.new_master_sha256.c_str(),
              T(p.old_master_path).c_str());
  std::printf("PDF rebuilt: %s (%d pages, sha256 %s)%s\n", T(r->pdf_path).c_str(), r->pdf_pages,
              p.new_pdf_sha256.c_str(), r->in_pdf ? "" : "; the new page is blank and left out of the PDF");
  const std::string text = ReviewSummaryText(r->open_items, true, 50);
  std::printf("%s", text.empty() ? "Nothing left to review for this document\n" : text.c_str());
  return kExitOk;
}

Command AddReviewCommand(CLI::App& root, const Context&) {
  auto a = std::make_shared<ReviewArgs>();
  CLI::App* cmd = root.add_subcommand("review", "What needs a person: list, correct fields, accept, ask for a re-scan");
  cmd->require_subcommand(1);
  auto common = [&](CLI::App* sub) {
    sub->add_option("--store", a->store, "Store: a SQLite file or a PostgreSQL connection string")->required();
    sub->add_option("--user", a->user, "Who acts, for the history (default: cli:$USER)");
  };
  CLI::App* list = cmd->add_subcommand("list", "Open review items (the same as the run summary and reports)");
  common(list);
  list->add_option("--lot", a->lot, "Only this lot");
  list->add_option("--document", a->document, "Only this document (with --lot)");
  list->add_option("--reason", a->reason, "Only this reason (invalid_field, low_confidence, ...; docs/review.md)");
  list->add_flag("--all", a->all, "Accepted items too");
  list->add_option("--lang", a->lang, "Labels in en (default) or pt-BR")->check(CLI::IsMember({"en", "pt-BR"}));
  list->add_flag("--json", a->json, "JSON output (as report.json \"review\")");

  CLI::App* set = cmd->add_subcommand("set", "Correct index fields (no OCR again): FIELD=VALUE... ('' removes)");
  common(set);
  set->add_option("LOT", a->lot)->required();
  set->add_option("DOC", a->document)->required();
  set->add_option("FIELD=VALUE", a->assignments, "document_type=..., title=..., or a field of the profile")->required();
  set->add_option("--note", a->note, "Why (kept in the history)");

  CLI::App* accept = cmd->add_subcommand("accept", "Accept a document's (or a page's) open items as they are");
  common(accept);
  accept->add_option("LOT", a->lot)->required();
  accept->add_option("DOC", a->document)->required();
  accept->add_option("--page", a->page, "Only this page's items")->check(CLI::Range(1, 1000000));
  accept->add_option("--reason", a->reason, "Only items of this reason");
  accept->add_option("--note", a->note, "Why (kept in the history)");

  CLI::App* rescan = cmd->add_subcommand("rescan", "Ask for a page to be scanned again");
  common(rescan);
  rescan->add_option("LOT", a->lot)->required();
  rescan->add_option("DOC", a->document)->required();
  rescan->add_option("--page", a->page, "The page of the document")->required()->check(CLI::Range(1, 1000000));
  rescan->add_option("--note", a->note, "Why (kept in the history)");

  CLI::App* replace = cmd->add_subcommand(
      "replace", "Replace a page from a new image file: only that page is processed, the PDF and index rebuilt");
  common(replace);
  replace->add_option("LOT", a->lot)->required();
  replace->add_option("DOC", a->document)->required();
  replace->add_option("--page", a->page, "The page of the document")->required()->check(CLI::Range(1, 1000000));
  replace->add_option("IMAGE", a->image, "The new image (TIFF, PNG or JPEG; its first page)")->required();
  replace->add_option("--note", a->note, "Why (kept in the history)");
  replace->add_flag("--json", a->json, "JSON output");

  CLI::App* history = cmd->add_subcommand("history", "Every change to a document: old and new value, who, when, why");
  common(history);
  history->add_option("LOT", a->lot)->required();
  history->add_option("DOC", a->document)->required();
  history->add_flag("--json", a->json, "JSON output");

  return {cmd, [a, list, set, accept, rescan, replace, history]() -> int {
            const std::string user = a->user.empty() ? CliUser() : a->user;
            Result<std::unique_ptr<Store>> opened = OpenStore(a->store, /*create_if_missing=*/false);
            if (!opened.ok()) return Fail("review", opened.status());
            Store& store = **opened;
            if (list->parsed()) return ReviewList(store, *a);
            if (set->parsed()) return ReviewSet(store, *a, user);
            if (accept->parsed()) return ReviewAccept(store, *a, user);
            if (rescan->parsed()) return ReviewRescan(store, *a, user);
            if (replace->parsed()) return ReviewReplace(store, *a, user);
            if (history->parsed()) return ReviewHistory(store, *a);
            return kExitUsage;
          }};
}

Command AddWithdrawCommand(CLI::App& root, const Context&) {
  struct Args {
    std::string store, lot, document, reason, user;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand(
      "withdraw", "Take a document (or a whole lot) out of search and review; its files stay on disk");
  cmd->add_option("--store", a->store, "Store: a SQLite file or a PostgreSQL connection string")->required();
  cmd->add_option("LOT", a->lot)->required();
  cmd->add_option("DOC", a->document, "The document (default: every document of the lot)");
  cmd->add_option("--reason", a->reason, "Why (required; kept in the history)")->required();
  cmd->add_option("--user", a->user, "Who acts (default: cli:$USER)");
  return {cmd, [a]() -> int {
            Result<std::unique_ptr<Store>> opened = OpenStore(a->store, /*create_if_missing=*/false);
            if (!opened.ok()) return Fail("withdraw", opened.status());
            Result<int> n = (*opened)->Withdraw(a->lot, a->document, a->user.empty() ? CliUser() : a->user, a->reason);
            if (!n.ok()) return Fail("withdraw", n.status());
            std::printf("%d document%s of lot %s withdrawn (files kept on disk; acervo verify still checks them)\n", *n,
                        *n == 1 ? "" : "s", T(a->lot).c_str());
            return kExitOk;
          }};
}

}  // namespace acervo::cli
