#include "acervo/pipeline/correction.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "acervo/core/clock.h"
#include "acervo/core/files.h"
#include "acervo/pipeline/archival.h"
#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/metadata.h"
#include "acervo/pipeline/review.h"
#include "acervo/pipeline/validators.h"
#include "acervo/stages/pdf/pdf_writer.h"
#include "pdf_outputs.h"

namespace acervo {
namespace fs = std::filesystem;
namespace {

bool IsSeparatorKind(const std::string& kind) {
  return kind == "no_separator" || kind == "separator_payload" || kind == "separator_unreadable";
}

// A change checked against the profile's rules (review set, web page).
Status CheckChange(const LotProfile& profile, const std::string& type, const FieldChange& c) {
  if (c.name == "title") return Status::OK();
  if (c.name == "document_type") {
    if (c.value.empty()) return Status::InvalidArgument("document_type: a document needs a type");
    if (!profile.types.empty() && std::none_of(profile.types.begin(), profile.types.end(),
                                               [&](const DocumentTypeSpec& t) { return t.name == c.value; })) {
      std::string names;
      for (const DocumentTypeSpec& t : profile.types) names += (names.empty() ? "" : ", ") + t.name;
      return Status::InvalidArgument("document_type: '" + c.value + "' is not a type of the lot's profile (" + names +
                                     ")");
    }
    return Status::OK();
  }
  const FieldSpec* f = profile.FindField(c.name);
  if (f == nullptr) {
    if (profile.fields.empty()) return Status::OK();  // a free-form lot
    std::string names;
    for (const FieldSpec& s : profile.fields) names += (names.empty() ? "" : ", ") + s.name;
    return Status::InvalidArgument("'" + c.name + "' is not a field of the lot's profile (" + names + ")");
  }
  if (c.value.empty()) {
    const bool applies = f->types.empty() || std::find(f->types.begin(), f->types.end(), type) != f->types.end();
    if (f->required && applies) return Status::InvalidArgument(c.name + ": required, cannot be removed");
    return Status::OK();
  }
  Status s = ValidateFieldValue(*f, c.value);
  if (!s.ok()) return Status::InvalidArgument(c.name + ": '" + c.value + "' refused: " + s.message());
  return Status::OK();
}

}  // namespace

PdfDocumentInfo StoredPdfInfo(const LotProfile& profile, const DocumentRecord& r) {
  DocumentPlan plan;
  plan.id = r.document_id;
  plan.type = r.document_type;
  plan.title = r.title;
  for (const FieldRecord& f : r.fields) plan.fields.emplace_back(f.name, f.value);
  plan.fields = ValidPlannedFields(profile, plan);
  PdfDocumentInfo info;
  info.title = r.title.empty() ? r.document_id : r.title;
  info.author = profile.project;
  info.document_id = r.document_id;
  info.lot_id = r.lot_id;
  info.document_type = r.document_type;
  info.fields = plan.fields;
  int last_master = 0;
  for (const PageRecord& p : r.pages) {
    if (p.master_page == last_master) continue;  // the other half of a split spread
    last_master = p.master_page;
    info.master_sha256.push_back(p.master_sha256);
  }
  // data_digitalizacao stays the file's (RewriteMetadata).
  info.archival = BuildArchivalMetadata(profile, plan, r.lot_id, "");
  info.archival.data_digitalizacao.clear();
  info.subject = PdfSubject(info.archival, r.document_type);
  return info;
}

Result<std::vector<ReviewItem>> DocumentReviewItems(Store& store, const LotProfile& profile,
                                                    const DocumentRecord& rec) {
  std::vector<ReviewItem> items = FieldReviewItems(profile, rec.document_type, rec.fields);
  for (const PageRecord& p : rec.pages) {
    std::vector<ReviewItem> page_items = PageReviewItems(p);
    items.insert(items.end(), page_items.begin(), page_items.end());
  }
  ReviewFilter filter;
  filter.lot_id = rec.lot_id;
  filter.document_id = rec.document_id;
  filter.include_accepted = true;
  ACERVO_ASSIGN_OR_RETURN(std::vector<ReviewItem> existing, store.Review().ListItems(filter));
  for (const ReviewItem& i : existing) {
    if (IsSeparatorKind(i.kind)) items.push_back(i);
  }
  return items;
}

Result<StoredLot> LocateStoredDocument(Store& store, const DocumentRecord& rec, const StoredLotHints& hints) {
  StoredLot out;
  // The lot's profile and folder: given, or as its last run recorded them.
  ACERVO_ASSIGN_OR_RETURN(std::optional<LotSource> source, store.Review().GetLotSource(rec.lot_id));
  if (hints.profile != nullptr) {
    out.profile = *hints.profile;
    out.lot_dir = hints.lot_dir;
  } else {
    if (source && !source->profile_toml.empty()) {
      ACERVO_ASSIGN_OR_RETURN(out.profile, ParseProfile(source->profile_toml, "profile.toml of lot " + rec.lot_id));
    }
    if (source) out.lot_dir = source->lot_dir;
  }
  if (source) out.languages = source->languages;
  // Stored paths are relative to the lot's output folder (docs/store.md).
  fs::path output_root = hints.output_root;
  if (output_root.empty() && !hints.resolve) {
    ACERVO_ASSIGN_OR_RETURN(std::vector<LotRecord> lots, store.ListLots());
    for (const LotRecord& l : lots) {
      if (l.id == rec.lot_id) output_root = l.output_root;
    }
  }
  if (output_root.empty() && !hints.resolve && !fs::path(rec.pdf_path).is_absolute() && source) {
    output_root = source->out_dir;
  }
  out.resolve = [resolve = hints.resolve, output_root](const std::string& lot, const std::string& stored) {
    return resolve ? resolve(lot, stored) : ResolveStoredPath(output_root, stored);
  };
  out.pdf = out.resolve(rec.lot_id, rec.pdf_path);
  return out;
}

Status LoadPageWords(Store& store, DocumentRecord* rec) {
  for (PageRecord& p : rec->pages) {
    ACERVO_ASSIGN_OR_RETURN(std::optional<PageWords> words, store.GetPageWords(rec->lot_id, rec->document_id, p.number));
    if (words) {
      p.image_width = words->image_width;
      p.image_height = words->image_height;
      p.words = std::move(words->words);
    }
  }
  return Status::OK();
}

Result<PdfResult> SwapStoredPdf(const fs::path& pdf, const std::string& where,
                                const std::function<Result<PdfResult>(const fs::path& old_pdf)>& rewrite,
                                const std::function<Status(const PdfResult&)>& commit) {
  const fs::path backup = TempPathFor(pdf);
  std::error_code ec;
  fs::create_hard_link(pdf, backup, ec);
  if (ec) return Status::IOError("cannot keep " + pdf.string() + " while rewriting it: " + ec.message());
  Result<PdfResult> rewritten = rewrite(backup);
  if (!rewritten.ok()) {
    fs::remove(backup, ec);  // `pdf` was not touched
    return rewritten.status().WithContext(where);
  }
  Status put = commit(*rewritten);
  if (!put.ok()) {
    Status back = CommitFile(backup, pdf);  // the old PDF matches the old row
    return put.WithContext(where + (back.ok() ? " (PDF put back as it was)"
                                              : " (and the old PDF could not be put back: " + back.ToString() + ")"));
  }
  fs::remove(backup, ec);
  return rewritten;
}

Result<FieldChange> ParseFieldChange(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument("'" + arg + "': expected FIELD=VALUE");
  }
  return FieldChange{arg.substr(0, eq), arg.substr(eq + 1)};
}

Result<CorrectionResult> CorrectDocument(Store& store, const CorrectionRequest& req) {
  const std::string where = req.lot_id + "/" + req.document_id;
  ACERVO_ASSIGN_OR_RETURN(std::optional<WithdrawalRecord> withdrawn,
                          store.Review().FindWithdrawal(req.lot_id, req.document_id));
  if (withdrawn) return Status::NotFound(where + " is withdrawn (" + withdrawn->reason + ")");
  ACERVO_ASSIGN_OR_RETURN(std::optional<DocumentRecord> stored, store.GetDocument(req.lot_id, req.document_id));
  if (!stored) return Status::NotFound("no document " + where + " in the store");
  DocumentRecord rec = std::move(*stored);

  StoredLotHints hints;
  hints.profile = req.profile;
  hints.lot_dir = req.lot_dir;
  hints.resolve = req.resolve;
  hints.output_root = req.output_root;
  ACERVO_ASSIGN_OR_RETURN(StoredLot lot, LocateStoredDocument(store, rec, hints));
  const LotProfile* profile = &lot.profile;
  const fs::path& pdf = lot.pdf;

  // Only values that differ count (a form sends every field; an unchanged
  // value, valid or not, is not the person's change). Check every change
  // first: a refused one changes nothing.
  auto current = [&](const std::string& name) {
    if (name == "document_type") return rec.document_type;
    if (name == "title") return rec.title;
    for (const FieldRecord& f : rec.fields) {
      if (f.name == name) return f.value;
    }
    return std::string();
  };
  std::vector<FieldChange> changes;
  for (const FieldChange& c : req.changes) {
    if (c.value != current(c.name)) changes.push_back(c);
  }
  std::string type = rec.document_type;
  for (const FieldChange& c : changes) {
    if (c.name == "document_type") type = c.value;
  }
  if (req.validate) {
    for (const FieldChange& c : changes) ACERVO_RETURN_IF_ERROR(CheckChange(*profile, type, c));
  }
  const std::string now = UtcNowIso8601();
  CorrectionResult result;
  for (const FieldChange& c : changes) {
    std::string old_value;
    if (c.name == "document_type") {
      old_value = rec.document_type;
      rec.document_type = c.value;
    } else if (c.name == "title") {
      old_value = rec.title;
      rec.title = c.value;
    } else {
      auto it = std::find_if(rec.fields.begin(), rec.fields.end(), [&](const FieldRecord& f) { return f.name == c.name; });
      if (it != rec.fields.end()) old_value = it->value;
      const std::string source = c.source.empty() ? "correction by " + req.user : c.source;
      if (c.value.empty()) {
        if (it != rec.fields.end()) rec.fields.erase(it);
      } else if (it != rec.fields.end()) {
        if (it->value != c.value) *it = FieldRecord{c.name, c.value, source};
      } else {
        rec.fields.push_back(FieldRecord{c.name, c.value, source});
      }
    }
    if (old_value == c.value) continue;
    result.changed.push_back({0, req.lot_id, req.document_id, now, req.user, "set_field", 0, c.name, old_value, c.value,
                              req.reason});
  }
  result.pdf_path = pdf.string();
  result.pdf_sha256 = rec.pdf_sha256;
  if (result.changed.empty()) return result;

  // The reasons, computed again as a run would compute them: the fields and
  // type as they now stand, the pages' own, and separation notes (which a
  // field change does not settle: they stay until accepted).
  DocumentReview review;
  ACERVO_ASSIGN_OR_RETURN(review.items, DocumentReviewItems(store, *profile, rec));
  review.history = result.changed;
  // GetDocument leaves the word boxes out; the row is replaced whole.
  ACERVO_RETURN_IF_ERROR(LoadPageWords(store, &rec));
  rec.review = std::move(review);

  // The PDF: rewritten beside the old one, which is kept until the row is in.
  ACERVO_ASSIGN_OR_RETURN(PdfOptions options, PdfOptionsForLot(*profile, lot.lot_dir));
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PdfWriter> writer, PdfWriter::Create(options));
  const PdfDocumentInfo info = StoredPdfInfo(*profile, rec);
  ACERVO_RETURN_IF_ERROR(SwapStoredPdf(
                             pdf, where, [&](const fs::path& old) { return writer->RewriteMetadata(old, info, pdf); },
                             [&](const PdfResult& written) {
                               rec.pdf_sha256 = written.sha256;
                               rec.page_count = written.pages;
                               return store.PutDocument(rec);
                             })
                             .status());
  result.pdf_sha256 = rec.pdf_sha256;
  return result;
}

}  // namespace acervo
