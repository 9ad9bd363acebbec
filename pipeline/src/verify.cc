#include "acervo/pipeline/verify.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/open_store.h"
#include "acervo/pipeline/lot.h"
#include "acervo/stages/pdf/pdf_inspect.h"
#include "xmp_check.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;

std::string Short(const std::string& sha) { return sha.size() > 16 ? sha.substr(0, 16) + "…" : sha; }

}  // namespace

std::string VerifyReport::ToJson() const {
  nlohmann::json issues = nlohmann::json::array();
  for (const VerifyIssue& i : mismatches) issues.push_back({{"where", i.where}, {"message", i.message}});
  nlohmann::json sigs = nlohmann::json::array();
  for (const VerifiedSignature& s : signatures) {
    sigs.push_back({{"pdf", s.pdf},
                    {"form", s.form},
                    {"policy", s.policy},
                    {"signer", s.signer},
                    {"timestamp", s.timestamp},
                    {"timestamp_authority", s.timestamp_authority},
                    {"valid", s.valid}});
  }
  nlohmann::json j = {{"ok", ok()},         {"lots", lots},       {"documents", documents},
                      {"pdfs", pdfs},       {"masters", masters}, {"withdrawn", withdrawn}, {"replaced", replaced}, {"mismatches", issues},
                      {"signatures", sigs}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// One verification: what every pass reads and adds to.
struct VerifyContext {
  fs::path out;
  std::string db;
  Store* store = nullptr;
  VerifyReport rep;
  std::map<std::string, std::string> master_sha;  // path -> hash on disk ("" if unreadable)
  std::set<std::string> known_dirs;               // lot folder names some lot owns

  // Of the lot being checked.
  std::string lot_id;
  std::set<fs::path> lot_dirs;       // where its PDFs are
  std::set<std::string> referenced;  // PDFs a row or a withdrawal claims

  void Mismatch(std::string where, std::string message) {
    rep.mismatches.push_back({std::move(where), std::move(message)});
  }
  // A master's hash, read once per run however many rows name it. The first
  // time it cannot be read, reported as `what` missing or unreadable; then
  // "" (no further comparison).
  const std::string& MasterHash(const std::string& path, const std::string& what) {
    auto it = master_sha.find(path);
    if (it == master_sha.end()) {
      Result<std::string> sha = Sha256OfFile(path);
      it = master_sha.emplace(path, sha.ok() ? *sha : std::string()).first;
      if (sha.ok()) {
        ++rep.masters;
      } else {
        Mismatch(path, what + " missing or unreadable: " + sha.status().message());
      }
    }
    return it->second;
  }
  // A PDF the lot owns: its path, now claimed, and its folder, now listed.
  std::string ClaimPdf(const std::string& stored) {
    const std::string path = ResolveStoredPath(out, stored).lexically_normal().string();
    referenced.insert(path);
    lot_dirs.insert(fs::path(path).parent_path());
    return path;
  }
};

// The row on its own: in-PDF pages numbered 1..n in order, as many as the
// row's page count.
void CheckRow(VerifyContext& c, const DocumentRecord& d, const std::string& row) {
  int in_pdf = 0;
  for (const PageRecord& p : d.pages) {
    if (!p.in_pdf) continue;
    ++in_pdf;
    if (p.pdf_page != in_pdf) {
      c.Mismatch(row, "page " + std::to_string(p.number) + " is PDF page " + std::to_string(p.pdf_page) +
                          " in the store, expected " + std::to_string(in_pdf));
    }
  }
  if (in_pdf != d.page_count) {
    c.Mismatch(row, "store says " + std::to_string(d.page_count) + " PDF pages but lists " +
                        std::to_string(in_pdf) + " pages in the PDF");
  }
}

// Masters (paths in the store are relative to the output folder).
void CheckMasters(VerifyContext& c, const DocumentRecord& d, const std::string& row) {
  for (const PageRecord& p : d.pages) {
    const std::string master = ResolveStoredPath(c.out, p.master_path).string();
    const std::string& sha = c.MasterHash(master, "master");
    if (!sha.empty() && sha != p.master_sha256) {
      c.Mismatch(master, "master changed: SHA-256 is " + Short(sha) + ", " + row + " page " +
                             std::to_string(p.number) + " recorded " + Short(p.master_sha256));
    }
  }
}

// What the PDF says of itself: page count, ids, one master hash per master
// page (the halves of a split two-page spread are two stored pages of one
// master page), and its signature.
void CheckPdfFacts(VerifyContext& c, const DocumentRecord& d, const std::string& row, const std::string& pdf_path,
                   const PdfFacts& facts) {
  if (facts.pages != d.page_count) {
    c.Mismatch(pdf_path, "PDF has " + std::to_string(facts.pages) + " pages, the store recorded " +
                             std::to_string(d.page_count));
  }
  if (facts.document_id != d.document_id || facts.lot_id != c.lot_id) {
    c.Mismatch(pdf_path, "PDF says it is document '" + facts.document_id + "' of lot '" + facts.lot_id +
                             "', the store row is " + row);
  }
  std::vector<std::string> want;
  int last_master = 0;
  for (const PageRecord& p : d.pages) {
    const int master = p.master_page > 0 ? p.master_page : p.number;
    if (master != last_master) want.push_back(p.master_sha256);
    last_master = master;
  }
  if (facts.master_sha256 != want) {
    size_t k = 0;
    while (k < want.size() && k < facts.master_sha256.size() && want[k] == facts.master_sha256[k]) ++k;
    c.Mismatch(pdf_path, "master hashes embedded in the PDF differ from the store at page " +
                             std::to_string(k + 1) + " (" + std::to_string(facts.master_sha256.size()) +
                             " in the PDF, " + std::to_string(want.size()) + " in the store)");
  }
  const SignatureCheck& sig = facts.signature;
  if (sig.present) {
    const bool valid = sig.digest_matches && sig.attributes_ok;
    if (!valid) c.Mismatch(pdf_path, "signature does not verify: " + sig.problem);
    c.rep.signatures.push_back({pdf_path, sig.form, sig.policy_name.empty() ? sig.policy_oid : sig.policy_name,
                                sig.signer, sig.timestamp_time, sig.timestamp_authority, valid});
  }
}

// PDF/A: the XMP packet parses, claims the PDF/A part, and says what the
// store and the Info dictionary say.
void CheckXmp(VerifyContext& c, const DocumentRecord& d, const std::string& pdf_path, const PdfFacts& facts) {
  if (facts.xmp.empty()) {
    c.Mismatch(pdf_path, "PDF has no XMP metadata packet (PDF/A requires one)");
    return;
  }
  Result<XmpFacts> xmp = ParseXmp(facts.xmp);
  if (!xmp.ok()) {
    c.Mismatch(pdf_path, xmp.status().message());
    return;
  }
  if (xmp->pdfa_part.empty()) c.Mismatch(pdf_path, "XMP claims no PDF/A part (pdfaid:part)");
  const std::string title = d.title.empty() ? d.document_id : d.title;
  if (xmp->identifier != d.document_id) {
    c.Mismatch(pdf_path, "XMP dc:identifier is '" + xmp->identifier + "', the store row is document '" +
                             d.document_id + "'");
  }
  if (xmp->title != title) {
    c.Mismatch(pdf_path, "XMP dc:title is '" + xmp->title + "', the store says '" + title + "'");
  }
  auto info_title = facts.info.find("Title");
  if (info_title != facts.info.end() && info_title->second != xmp->title) {
    c.Mismatch(pdf_path, "Info Title '" + info_title->second + "' differs from XMP dc:title '" + xmp->title +
                             "' (PDF/A requires them equal)");
  }
}

// The document's PDF: its bytes against the row, then what it says.
void CheckPdf(VerifyContext& c, const DocumentRecord& d, const std::string& row) {
  if (d.pdf_path.empty()) {
    c.Mismatch(row, "no PDF recorded");
    return;
  }
  const std::string pdf_path = c.ClaimPdf(d.pdf_path);
  ++c.rep.pdfs;
  // Hashing first also proves it is a regular file (never a FIFO or a
  // device the parser would wait on or read for ever).
  Result<std::string> pdf_sha = Sha256OfFile(pdf_path);
  if (!pdf_sha.ok()) {
    c.Mismatch(pdf_path, "PDF missing or unreadable: " + pdf_sha.status().message());
    return;
  }
  if (*pdf_sha != d.pdf_sha256) {
    c.Mismatch(pdf_path, "PDF changed: SHA-256 is " + Short(*pdf_sha) + ", the store recorded " +
                             Short(d.pdf_sha256));
  }
  Result<PdfFacts> facts = InspectPdf(pdf_path);
  if (!facts.ok()) {
    c.Mismatch(pdf_path, "PDF does not parse: " + facts.status().message());
    return;
  }
  CheckPdfFacts(c, d, row, pdf_path, *facts);
  CheckXmp(c, d, pdf_path, *facts);
}

// Withdrawn documents (issue 14): out of search, their files kept on disk
// write-once and still checked against what the withdrawal recorded.
Status CheckWithdrawn(VerifyContext& c) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> withdrawn, c.store->Review().ListWithdrawals(c.lot_id));
  for (const WithdrawalRecord& w : withdrawn) {
    if (w.document_id.empty() || w.pdf_path.empty()) continue;  // the lot's own entry
    ++c.rep.withdrawn;
    const std::string pdf_path = c.ClaimPdf(w.pdf_path);
    Result<std::string> sha = Sha256OfFile(pdf_path);
    if (!sha.ok()) {
      c.Mismatch(pdf_path, "PDF of withdrawn document " + w.document_id + " missing or unreadable: " +
                               sha.status().message());
    } else if (*sha != w.pdf_sha256) {
      c.Mismatch(pdf_path, "PDF of withdrawn document " + w.document_id + " changed: SHA-256 is " + Short(*sha) +
                               ", the withdrawal recorded " + Short(w.pdf_sha256));
    }
    for (const auto& [stored, want] : w.masters) {
      const std::string path = ResolveStoredPath(c.out, stored).string();
      Result<std::string> m = Sha256OfFile(path);
      if (!m.ok() || *m != want) {
        c.Mismatch(path, "master of withdrawn document " + w.document_id + " " +
                             (m.ok() ? "changed: SHA-256 is " + Short(*m) + ", recorded " + Short(want)
                                     : "missing or unreadable: " + m.status().message()));
      }
    }
  }
  return Status::OK();
}

// Replaced pages (issue 14): every master a page had before it was replaced
// stays on disk, write-once, with the hash recorded.
Status CheckReplaced(VerifyContext& c) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<PageReplacement> replaced, c.store->Review().Replacements(c.lot_id, ""));
  for (const PageReplacement& r : replaced) {
    ++c.rep.replaced;
    const std::string what = "master of replaced page " + std::to_string(r.page) + " of " + r.document_id;
    for (const auto& [stored, want] : {std::pair{r.old_master_path, r.old_master_sha256},
                                       std::pair{r.new_master_path, r.new_master_sha256}}) {
      const std::string path = ResolveStoredPath(c.out, stored).string();
      const std::string& sha = c.MasterHash(path, what);
      if (!sha.empty() && sha != want) {
        c.Mismatch(path, what + " changed: SHA-256 is " + Short(sha) + ", recorded " + Short(want));
      }
    }
  }
  return Status::OK();
}

// PDFs in the lot's folders that no row claims (links are never followed).
void CheckLotFolders(VerifyContext& c) {
  for (const fs::path& lot_dir : c.lot_dirs) {
    if (lot_dir.parent_path() == c.out) c.known_dirs.insert(lot_dir.filename().string());
    std::error_code ec, dir_ec, entry_ec;
    if (!fs::is_directory(fs::symlink_status(lot_dir, dir_ec))) continue;
    for (fs::directory_iterator it(lot_dir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      if (p.extension() != ".pdf" || p.filename().string().rfind(".tmp-", 0) == 0) continue;
      const fs::file_status st = it->symlink_status(entry_ec);
      if (fs::is_symlink(st)) {
        c.Mismatch(p.string(), "is a symbolic link where a PDF should be");
      } else if (!fs::is_regular_file(st)) {
        c.Mismatch(p.string(), "is not a regular file");
      } else if (!c.referenced.count(p.lexically_normal().string())) {
        c.Mismatch(p.string(), "PDF has no row in the store");
      }
    }
    if (ec) c.Mismatch(lot_dir.string(), "cannot list the lot folder: " + ec.message());
  }
}

// One lot: its rows, their masters and PDFs, its withdrawals and
// replacements, then its folders.
Status CheckLot(VerifyContext& c, const std::string& lot_id) {
  ++c.rep.lots;
  c.lot_id = lot_id;
  c.referenced.clear();
  // The lot's folder: where its PDFs are (folders named by an older Acervo
  // keep their old names), else the name it gets now.
  c.lot_dirs = {c.out / SafeFileName(lot_id)};
  ACERVO_ASSIGN_OR_RETURN(std::vector<DocumentRecord> docs, c.store->ListDocuments(lot_id));
  for (const DocumentRecord& d : docs) {
    ++c.rep.documents;
    const std::string row = "lot " + lot_id + " document " + d.document_id;
    CheckRow(c, d, row);
    CheckMasters(c, d, row);
    CheckPdf(c, d, row);
  }
  ACERVO_RETURN_IF_ERROR(CheckWithdrawn(c));
  ACERVO_RETURN_IF_ERROR(CheckReplaced(c));
  CheckLotFolders(c);
  return Status::OK();
}

// Lot folders the store does not know: folders holding a lot's journal or
// identity file (a batch's report/ and batch-state/ folders are not lots).
void CheckUnknownLotFolders(VerifyContext& c) {
  std::error_code ec;
  for (fs::directory_iterator it(c.out, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code probe;
    if (!fs::is_directory(it->symlink_status(probe))) continue;
    const bool is_lot = fs::exists(fs::symlink_status(p / ".lot-id", probe)) ||
                        fs::exists(fs::symlink_status(p / "journal.jsonl", probe));
    if (is_lot && !c.known_dirs.count(p.filename().string())) {
      c.Mismatch(p.string(), "lot folder has no lot in the store " +
                                 (IsPostgresSpec(c.db) ? std::string("(PostgreSQL)") : c.db));
    }
  }
}

}  // namespace

Result<VerifyReport> VerifyOutput(const VerifyOptions& options) {
  VerifyContext c;
  c.out = fs::absolute(options.out_dir).lexically_normal();
  c.db = options.store_path.empty() ? (c.out / "acervo.db").string() : options.store_path.string();
  std::error_code ec;
  if (!IsPostgresSpec(c.db) && !fs::exists(c.db, ec)) return Status::NotFound("no store at " + c.db);
  // Read only: an archive on read-only media is verified where it is.
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenStoreForReading(c.db));
  c.store = store.get();
  ACERVO_ASSIGN_OR_RETURN(std::vector<LotRecord> lots, store->ListLots());
  for (const LotRecord& l : lots) ACERVO_RETURN_IF_ERROR(CheckLot(c, l.id));
  CheckUnknownLotFolders(c);
  return std::move(c.rep);
}

}  // namespace acervo
