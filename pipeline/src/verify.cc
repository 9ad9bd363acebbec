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

Result<VerifyReport> VerifyOutput(const VerifyOptions& options) {
  const fs::path out = fs::absolute(options.out_dir).lexically_normal();
  const std::string db = options.store_path.empty() ? (out / "acervo.db").string() : options.store_path.string();
  std::error_code ec;
  if (!IsPostgresSpec(db) && !fs::exists(db, ec)) return Status::NotFound("no store at " + db);
  // Read only: an archive on read-only media is verified where it is.
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenStoreForReading(db));
  ACERVO_ASSIGN_OR_RETURN(std::vector<LotRecord> lots, store->ListLots());
  std::vector<std::string> lot_ids;
  for (const LotRecord& l : lots) lot_ids.push_back(l.id);

  VerifyReport rep;
  auto mismatch = [&](std::string where, std::string message) {
    rep.mismatches.push_back({std::move(where), std::move(message)});
  };
  std::map<std::string, std::string> master_sha;  // path -> hash on disk ("" if unreadable)
  std::set<std::string> known_dirs;

  for (const std::string& lot_id : lot_ids) {
    ++rep.lots;
    // The lot's folder: where its PDFs are (folders named by an older
    // Acervo keep their old names), else the name it gets now.
    std::set<fs::path> lot_dirs = {out / SafeFileName(lot_id)};
    ACERVO_ASSIGN_OR_RETURN(std::vector<DocumentRecord> docs, store->ListDocuments(lot_id));
    std::set<std::string> referenced;
    for (const DocumentRecord& d : docs) {
      ++rep.documents;
      const std::string row = "lot " + lot_id + " document " + d.document_id;
      // The row on its own.
      int in_pdf = 0;
      for (const PageRecord& p : d.pages) {
        if (!p.in_pdf) continue;
        ++in_pdf;
        if (p.pdf_page != in_pdf) {
          mismatch(row, "page " + std::to_string(p.number) + " is PDF page " + std::to_string(p.pdf_page) +
                            " in the store, expected " + std::to_string(in_pdf));
        }
      }
      if (in_pdf != d.page_count) {
        mismatch(row, "store says " + std::to_string(d.page_count) + " PDF pages but lists " +
                          std::to_string(in_pdf) + " pages in the PDF");
      }

      // Masters (paths in the store are relative to the output folder).
      for (const PageRecord& p : d.pages) {
        const std::string master = ResolveStoredPath(out, p.master_path).string();
        auto it = master_sha.find(master);
        if (it == master_sha.end()) {
          Result<std::string> sha = Sha256OfFile(master);
          it = master_sha.emplace(master, sha.ok() ? *sha : std::string()).first;
          if (sha.ok()) {
            ++rep.masters;
          } else {
            mismatch(master, "master missing or unreadable: " + sha.status().message());
          }
        }
        if (!it->second.empty() && it->second != p.master_sha256) {
          mismatch(master, "master changed: SHA-256 is " + Short(it->second) + ", " + row + " page " +
                               std::to_string(p.number) + " recorded " + Short(p.master_sha256));
        }
      }

      // The PDF.
      if (d.pdf_path.empty()) {
        mismatch(row, "no PDF recorded");
        continue;
      }
      const std::string pdf_path = ResolveStoredPath(out, d.pdf_path).lexically_normal().string();
      referenced.insert(pdf_path);
      lot_dirs.insert(fs::path(pdf_path).parent_path());
      ++rep.pdfs;
      // Hashing first also proves it is a regular file (never a FIFO or a
      // device the parser would wait on or read for ever).
      Result<std::string> pdf_sha = Sha256OfFile(pdf_path);
      if (!pdf_sha.ok()) {
        mismatch(pdf_path, "PDF missing or unreadable: " + pdf_sha.status().message());
        continue;
      }
      if (*pdf_sha != d.pdf_sha256) {
        mismatch(pdf_path, "PDF changed: SHA-256 is " + Short(*pdf_sha) + ", the store recorded " +
                                 Short(d.pdf_sha256));
      }
      Result<PdfFacts> facts = InspectPdf(pdf_path);
      if (!facts.ok()) {
        mismatch(pdf_path, "PDF does not parse: " + facts.status().message());
        continue;
      }
      if (facts->pages != d.page_count) {
        mismatch(pdf_path, "PDF has " + std::to_string(facts->pages) + " pages, the store recorded " +
                                 std::to_string(d.page_count));
      }
      if (facts->document_id != d.document_id || facts->lot_id != lot_id) {
        mismatch(pdf_path, "PDF says it is document '" + facts->document_id + "' of lot '" + facts->lot_id +
                                 "', the store row is " + row);
      }
      // The PDF embeds one hash per master page; the halves of a split
      // two-page spread are two stored pages of one master page.
      std::vector<std::string> want;
      int last_master = 0;
      for (const PageRecord& p : d.pages) {
        const int master = p.master_page > 0 ? p.master_page : p.number;
        if (master != last_master) want.push_back(p.master_sha256);
        last_master = master;
      }
      if (facts->master_sha256 != want) {
        size_t k = 0;
        while (k < want.size() && k < facts->master_sha256.size() && want[k] == facts->master_sha256[k]) ++k;
        mismatch(pdf_path, "master hashes embedded in the PDF differ from the store at page " +
                                 std::to_string(k + 1) + " (" + std::to_string(facts->master_sha256.size()) +
                                 " in the PDF, " + std::to_string(want.size()) + " in the store)");
      }
      const SignatureCheck& sig = facts->signature;
      if (sig.present) {
        const bool valid = sig.digest_matches && sig.attributes_ok;
        if (!valid) mismatch(pdf_path, "signature does not verify: " + sig.problem);
        rep.signatures.push_back({pdf_path, sig.form, sig.policy_name.empty() ? sig.policy_oid : sig.policy_name,
                                  sig.signer, sig.timestamp_time, sig.timestamp_authority, valid});
      }
      // PDF/A: the XMP packet parses, claims the PDF/A part, and says what
      // the store and the Info dictionary say.
      if (facts->xmp.empty()) {
        mismatch(pdf_path, "PDF has no XMP metadata packet (PDF/A requires one)");
        continue;
      }
      Result<XmpFacts> xmp = ParseXmp(facts->xmp);
      if (!xmp.ok()) {
        mismatch(pdf_path, xmp.status().message());
        continue;
      }
      if (xmp->pdfa_part.empty()) mismatch(pdf_path, "XMP claims no PDF/A part (pdfaid:part)");
      const std::string title = d.title.empty() ? d.document_id : d.title;
      if (xmp->identifier != d.document_id) {
        mismatch(pdf_path, "XMP dc:identifier is '" + xmp->identifier + "', the store row is document '" +
                               d.document_id + "'");
      }
      if (xmp->title != title) {
        mismatch(pdf_path, "XMP dc:title is '" + xmp->title + "', the store says '" + title + "'");
      }
      auto info_title = facts->info.find("Title");
      if (info_title != facts->info.end() && info_title->second != xmp->title) {
        mismatch(pdf_path, "Info Title '" + info_title->second + "' differs from XMP dc:title '" + xmp->title +
                               "' (PDF/A requires them equal)");
      }
    }

    // Withdrawn documents (issue 14): out of search, their files kept on
    // disk write-once and still checked against what the withdrawal
    // recorded.
    ACERVO_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> withdrawn, store->Review().ListWithdrawals(lot_id));
    for (const WithdrawalRecord& w : withdrawn) {
      if (w.document_id.empty() || w.pdf_path.empty()) continue;  // the lot's own entry
      ++rep.withdrawn;
      const std::string pdf_path = ResolveStoredPath(out, w.pdf_path).lexically_normal().string();
      referenced.insert(pdf_path);
      lot_dirs.insert(fs::path(pdf_path).parent_path());
      Result<std::string> sha = Sha256OfFile(pdf_path);
      if (!sha.ok()) {
        mismatch(pdf_path, "PDF of withdrawn document " + w.document_id + " missing or unreadable: " +
                                 sha.status().message());
      } else if (*sha != w.pdf_sha256) {
        mismatch(pdf_path, "PDF of withdrawn document " + w.document_id + " changed: SHA-256 is " + Short(*sha) +
                                 ", the withdrawal recorded " + Short(w.pdf_sha256));
      }
      for (const auto& [stored, want] : w.masters) {
        const std::string path = ResolveStoredPath(out, stored).string();
        Result<std::string> m = Sha256OfFile(path);
        if (!m.ok() || *m != want) {
          mismatch(path, "master of withdrawn document " + w.document_id + " " +
                             (m.ok() ? "changed: SHA-256 is " + Short(*m) + ", recorded " + Short(want)
                                     : "missing or unreadable: " + m.status().message()));
        }
      }
    }

    // Replaced pages (issue 14): every master a page had before it was
    // replaced stays on disk, write-once, with the hash recorded.
    ACERVO_ASSIGN_OR_RETURN(std::vector<PageReplacement> replaced, store->Review().Replacements(lot_id, ""));
    for (const PageReplacement& r : replaced) {
      ++rep.replaced;
      for (const auto& [stored, want] : {std::pair{r.old_master_path, r.old_master_sha256},
                                         std::pair{r.new_master_path, r.new_master_sha256}}) {
        const std::string path = ResolveStoredPath(out, stored).string();
        auto it = master_sha.find(path);
        if (it == master_sha.end()) {
          Result<std::string> m = Sha256OfFile(path);
          it = master_sha.emplace(path, m.ok() ? *m : std::string()).first;
          if (!m.ok()) {
            mismatch(path, "master of replaced page " + std::to_string(r.page) + " of " + r.document_id +
                               " missing or unreadable: " + m.status().message());
            continue;
          }
          ++rep.masters;
        }
        if (!it->second.empty() && it->second != want) {
          mismatch(path, "master of replaced page " + std::to_string(r.page) + " of " + r.document_id +
                             " changed: SHA-256 is " + Short(it->second) + ", recorded " + Short(want));
        }
      }
    }

    // PDFs in the lot folder that no row claims (links are never followed).
    for (const fs::path& lot_dir : lot_dirs) {
      if (lot_dir.parent_path() == out) known_dirs.insert(lot_dir.filename().string());
      std::error_code dir_ec, entry_ec;
      if (!fs::is_directory(fs::symlink_status(lot_dir, dir_ec))) continue;
      ec.clear();
      for (fs::directory_iterator it(lot_dir, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        if (p.extension() != ".pdf" || p.filename().string().rfind(".tmp-", 0) == 0) continue;
        const fs::file_status st = it->symlink_status(entry_ec);
        if (fs::is_symlink(st)) {
          mismatch(p.string(), "is a symbolic link where a PDF should be");
        } else if (!fs::is_regular_file(st)) {
          mismatch(p.string(), "is not a regular file");
        } else if (!referenced.count(p.lexically_normal().string())) {
          mismatch(p.string(), "PDF has no row in the store");
        }
      }
      if (ec) mismatch(lot_dir.string(), "cannot list the lot folder: " + ec.message());
    }
  }
  // Lot folders the store does not know: folders holding a lot's journal or
  // identity file (a batch's report/ and batch-state/ folders are not lots).
  ec.clear();
  for (fs::directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code probe;
    if (!fs::is_directory(it->symlink_status(probe))) continue;
    const bool is_lot = fs::exists(fs::symlink_status(p / ".lot-id", probe)) ||
                        fs::exists(fs::symlink_status(p / "journal.jsonl", probe));
    if (is_lot && !known_dirs.count(p.filename().string())) {
      mismatch(p.string(), "lot folder has no lot in the store " +
                               (IsPostgresSpec(db) ? std::string("(PostgreSQL)") : db));
    }
  }
  return rep;
}

}  // namespace acervo
