#include "acervo/pipeline/page_replace.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "acervo/core/clock.h"
#include "acervo/core/files.h"
#include "acervo/core/text.h"
#include "acervo/pipeline/correction.h"
#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/lot_passes.h"
#include "acervo/pipeline/metadata.h"
#include "acervo/pipeline/page_loader.h"
#include "acervo/pipeline/review.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/stages/pdf/pdf_writer.h"
#include "pdf_outputs.h"

namespace acervo {
namespace fs = std::filesystem;
namespace {

// The name a page's preview and report thumbnail files carry: its master
// page, and its half of a split spread.
std::string ReportImageStem(const PageRecord& p) {
  std::string stem = std::to_string(p.master_page > 0 ? p.master_page : p.number);
  if (p.part != "whole") stem += "-" + p.part;
  return stem;
}

// Everything the passes share about one replacement.
struct ReplaceContext {
  explicit ReplaceContext(Store& s, const PageReplaceRequest& r)
      : store(s), req(r), where(r.lot_id + "/" + r.document_id + " page " + std::to_string(r.page)) {}
  Store& store;
  const PageReplaceRequest& req;
  const std::string where;
  // FindTarget
  DocumentRecord rec;
  size_t index = 0;  // of the page in rec.pages
  PageRecord old_page;
  StoredLot lot;
  fs::path lot_out;           // OUT/<lot> on this machine
  std::string lot_stored;     // OUT/<lot> as stored paths start ("<lot dir>")
  std::string file_name;      // the document's file name (its PDF's stem)
  // LoadNewImage / KeepNewMaster
  Page page;
  std::string new_sha;
  std::string source_path;  // below masters/
  std::string master_stored;
  // ProcessNewPage
  cv::Mat preview;  // the page image the PDF shows, for WritePreview
  PageRecord new_page;
  PageReplaceResult result;
};

Status FindTarget(ReplaceContext& c) {
  const PageReplaceRequest& req = c.req;
  if (req.page < 1) return Status::InvalidArgument("a replacement names a page (1 or more)");
  ACERVO_ASSIGN_OR_RETURN(std::optional<WithdrawalRecord> withdrawn,
                          c.store.Review().FindWithdrawal(req.lot_id, req.document_id));
  if (withdrawn) {
    return Status::NotFound(req.lot_id + "/" + req.document_id + " is withdrawn (" + withdrawn->reason +
                            "): its pages cannot be replaced");
  }
  ACERVO_ASSIGN_OR_RETURN(std::vector<LotRecord> lots, c.store.ListLots());
  if (std::none_of(lots.begin(), lots.end(), [&](const LotRecord& l) { return l.id == req.lot_id; })) {
    return Status::NotFound("no lot " + req.lot_id + " in the store");
  }
  ACERVO_ASSIGN_OR_RETURN(std::optional<DocumentRecord> stored, c.store.GetDocument(req.lot_id, req.document_id));
  if (!stored) return Status::NotFound("no document " + req.document_id + " in lot " + req.lot_id);
  c.rec = std::move(*stored);
  auto it = std::find_if(c.rec.pages.begin(), c.rec.pages.end(),
                         [&](const PageRecord& p) { return p.number == req.page; });
  if (it == c.rec.pages.end()) {
    return Status::NotFound("page " + std::to_string(req.page) + " not found: document " + req.document_id +
                            " has " + std::to_string(c.rec.pages.size()) + " page(s)");
  }
  c.index = static_cast<size_t>(it - c.rec.pages.begin());
  c.old_page = *it;
  StoredLotHints hints;
  hints.resolve = req.resolve;
  hints.output_root = req.output_root;
  ACERVO_ASSIGN_OR_RETURN(c.lot, LocateStoredDocument(c.store, c.rec, hints));
  // Masters live beside the PDF, in the lot's output folder.
  c.lot_out = c.lot.pdf.parent_path();
  c.lot_stored = fs::path(c.rec.pdf_path).parent_path().string();
  c.file_name = c.lot.pdf.stem().string();
  return Status::OK();
}

Status LoadNewImage(ReplaceContext& c) {
  const std::string name = c.req.image.filename().string();
  std::error_code ec;
  if (!fs::is_regular_file(c.req.image, ec)) {
    return Status::InvalidArgument("cannot read the new image " + c.req.image.string() + ": not a readable file");
  }
  Result<Page> loaded = LoadPage(c.req.image, 1, name);
  if (!loaded.ok()) {
    return Status::InvalidArgument("cannot read the new image " + c.req.image.string() + ": " +
                                   loaded.status().message());
  }
  c.page = std::move(loaded).value();
  if (std::min(c.page.image.cols, c.page.image.rows) < kMinPageSidePixels) {
    return Status::InvalidArgument("the new image " + name + " is " + std::to_string(c.page.image.cols) + "x" +
                                   std::to_string(c.page.image.rows) + " pixels: too small to be a scanned page");
  }
  // The resolution the file states (LoadPage replaces a missing or
  // implausible one with an estimate and flags the page).
  const double min_dpi = c.lot.profile.min_dpi;
  const bool stated = !c.page.HasFlag("no_dpi") && !c.page.HasFlag("implausible_dpi");
  if (min_dpi > 0 && stated && std::min(c.page.dpi_x, c.page.dpi_y) + 0.5 < min_dpi) {
    return Status::InvalidArgument("the new image " + name + " is " +
                                   std::to_string(static_cast<int>(std::min(c.page.dpi_x, c.page.dpi_y) + 0.5)) +
                                   " dpi, below the lot profile's minimum of " +
                                   std::to_string(static_cast<int>(min_dpi)) + " dpi ([image] min_dpi)");
  }
  ACERVO_ASSIGN_OR_RETURN(c.new_sha, Sha256OfFile(c.req.image));
  if (c.new_sha == c.old_page.master_sha256) {
    return Status::InvalidArgument("the new image " + name + " is the page's current master (same SHA-256)");
  }
  return Status::OK();
}

Status KeepNewMaster(ReplaceContext& c) {
  std::string ext = c.req.image.extension().string();
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  // A new name for ever: the document, the page and the image's hash. The
  // old master is not touched.
  const fs::path below = fs::path("replaced") / c.file_name;
  std::string file = "p";  // (built by appends: GCC 12 warns wrongly on a chain of +)
  file.append(std::to_string(c.req.page)).append("-").append(c.new_sha, 0, 12).append(ext);
  ACERVO_ASSIGN_OR_RETURN(fs::path dir, CreateDirectoriesBelow(c.lot_out, fs::path("masters") / below));
  ACERVO_ASSIGN_OR_RETURN(std::string copied, CopyFileOnce(c.req.image, dir / file));
  if (copied != c.new_sha) {
    return Status::IOError("the new image " + c.req.image.string() + " changed while it was being kept");
  }
  c.source_path = (below / file).string();
  c.master_stored = (fs::path(c.lot_stored) / "masters" / below / file).string();
  c.page.origin.source_path = c.source_path;
  c.page.origin.master_path = (dir / file).string();
  c.page.origin.master_sha256 = c.new_sha;
  c.page.origin.page_in_file = 1;
  return Status::OK();
}

// The lot splits two-page spreads: the new image is read as the run would
// read it. A half of a spread is replaced by the matching half of a new
// spread (the operator scanned the sheet again, both pages), or by a
// single page taken whole; a whole page is never replaced by a spread
// (that would be two pages).
Status MatchSpread(ReplaceContext& c) {
  if (!c.lot.profile.split) return Status::OK();
  ACERVO_ASSIGN_OR_RETURN(std::vector<Page> parts, SplitIfSpread(std::move(c.page)));
  if (parts.size() == 1) {
    c.page = std::move(parts[0]);
    // Still that half of its master page for the run's bookkeeping (a rerun
    // finds its pages by master page and half).
    if (c.old_page.part != "whole") {
      c.page.origin.part = c.old_page.part == "left" ? PageOrigin::Part::kLeft : PageOrigin::Part::kRight;
    }
    return Status::OK();
  }
  if (c.old_page.part == "whole") {
    return Status::InvalidArgument("the new image " + c.req.image.filename().string() +
                                   " is a two-page spread, and " + c.where +
                                   " is a single page: scan that page alone");
  }
  for (Page& p : parts) {
    if (c.old_page.part == PartName(p.origin.part)) c.page = std::move(p);
  }
  return Status::OK();
}

Status ProcessNewPage(ReplaceContext& c) {
  ACERVO_ASSIGN_OR_RETURN(StageChain chain, BuildStageChain(c.lot.profile, c.lot.languages));
  PageContext pc;
  pc.lot_id = c.req.lot_id;
  pc.document_id = c.req.document_id;
  pc.cancel = c.req.cancel;
  if (c.lot.profile.page_deadline_s > 0) {
    pc.deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(c.lot.profile.page_deadline_s * 1000));
  }
  StageObserver observer;
  observer.before_release = [&c](const Page& p) { c.preview = p.image; };  // shares the buffer
  ACERVO_ASSIGN_OR_RETURN(c.page, chain.Run(std::move(c.page), pc, &observer));
  for (const StageRecord& r : c.page.history) ++c.result.stage_runs[r.name];
  c.new_page = PageRecordOf(c.page, c.old_page.number, c.old_page.master_page, c.source_path, c.master_stored);
  return Status::OK();
}

// The fields found by OCR extraction, found again from every page's text
// (the new page's included); values from the manifest, a separator sheet or
// a person stay as they are.
void ReextractFields(const LotProfile& profile, DocumentRecord* rec) {
  DocumentPlan plan;
  plan.id = rec->document_id;
  plan.type = rec->document_type;
  std::vector<std::string> texts;
  for (const PageRecord& p : rec->pages) texts.push_back(p.blank ? std::string() : p.text);
  const ResolvedMetadata extracted = ResolveMetadata(profile, plan, texts);
  std::vector<FieldRecord> fields;
  std::set<std::string> kept;
  for (const FieldRecord& f : rec->fields) {
    if (f.source.rfind("ocr", 0) == 0) continue;
    fields.push_back(f);
    kept.insert(f.name);
  }
  for (const FieldRecord& f : extracted.fields) {
    if (!kept.count(f.name)) fields.push_back(f);
  }
  rec->fields = std::move(fields);
}

Status RebuildRecord(ReplaceContext& c) {
  DocumentRecord& rec = c.rec;
  // GetDocument leaves the word boxes out; the row is replaced whole.
  ACERVO_RETURN_IF_ERROR(LoadPageWords(c.store, &rec));
  PageRecord& np = c.new_page;
  np.in_pdf = !np.blank;
  rec.pages[c.index] = np;
  int pdf_page = 0;
  for (PageRecord& p : rec.pages) {
    p.pdf_page = p.in_pdf ? ++pdf_page : 0;
  }
  if (pdf_page == 0) {
    return Status::InvalidArgument("the new image for " + c.where +
                                   " is blank, and the page is the only page of the document's PDF");
  }
  ReextractFields(c.lot.profile, &rec);
  DocumentReview review;
  ACERVO_ASSIGN_OR_RETURN(review.items, DocumentReviewItems(c.store, c.lot.profile, rec));
  review.fresh_pages = {c.req.page};
  review.history.push_back({0, rec.lot_id, rec.document_id, "", c.req.user, "replace_page", c.req.page, "master",
                            c.old_page.master_sha256, c.new_sha, c.req.reason});
  PageReplacement r;
  r.lot_id = rec.lot_id;
  r.document_id = rec.document_id;
  r.page = c.req.page;
  r.user = c.req.user;
  r.reason = c.req.reason;
  r.old_master_path = c.old_page.master_path;
  r.old_master_sha256 = c.old_page.master_sha256;
  r.old_page_in_file = c.old_page.page_in_file;
  r.new_master_path = c.master_stored;
  r.new_master_sha256 = c.new_sha;
  r.old_pdf_sha256 = rec.pdf_sha256;
  review.replacements.push_back(r);
  rec.review = std::move(review);
  return Status::OK();
}

Status RebuildPdf(ReplaceContext& c) {
  DocumentRecord& rec = c.rec;
  ACERVO_ASSIGN_OR_RETURN(PdfOptions options, PdfOptionsForLot(c.lot.profile, c.lot.lot_dir));
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PdfWriter> writer, PdfWriter::Create(options));
  // Where the page goes in the PDF: its old place, or after the pages in
  // the PDF before it (it was blank, left out).
  PdfPageEdit edit;
  edit.remove = c.old_page.in_pdf;
  edit.at = c.old_page.in_pdf ? c.old_page.pdf_page : 1;
  if (!c.old_page.in_pdf) {
    for (size_t k = 0; k < c.index; ++k) edit.at += rec.pages[k].in_pdf ? 1 : 0;
  }
  const PdfPageInput input = PdfPageInputFromPage(c.page);
  if (c.new_page.in_pdf) edit.insert = &input;
  const PdfDocumentInfo info = StoredPdfInfo(c.lot.profile, rec);
  const fs::path& pdf = c.lot.pdf;
  ACERVO_ASSIGN_OR_RETURN(
      PdfResult written,
      SwapStoredPdf(
          pdf, c.where, [&](const fs::path& old) { return writer->RewritePages(old, edit, info, pdf); },
          [&](const PdfResult& w) {
            rec.pdf_sha256 = w.sha256;
            rec.page_count = w.pages;
            rec.review->replacements.back().new_pdf_sha256 = w.sha256;
            return c.store.PutDocument(rec);
          }));
  c.result.replacement = rec.review->replacements.back();
  c.result.pdf_path = pdf.string();
  c.result.pdf_pages = written.pages;
  return Status::OK();
}

// The document's hOCR/ALTO/text side outputs in line with the rebuilt PDF
// (pdf_outputs.h), after the commit as in a run.
Status RewriteSideOutputs(ReplaceContext& c) {
  const LotProfile& profile = c.lot.profile;
  const SidecarRequest want{profile.hocr, profile.alto, profile.text};
  SidecarRewrite where;
  where.old_pdf_page = c.old_page.in_pdf ? c.old_page.pdf_page : 0;
  where.new_pdf_page = c.rec.pages[c.index].pdf_page;
  std::vector<std::string> texts;
  for (const PageRecord& p : c.rec.pages) {
    if (p.in_pdf) texts.push_back(p.text);
  }
  where.pdf_pages = static_cast<int>(texts.size());
  Status s = RewriteSidecarsForPage(c.lot_out, c.file_name, want, c.new_page.in_pdf ? &c.page : nullptr, where, texts);
  if (s.ok()) return s;
  return Status(s.code(), "the page was replaced, but its side outputs (hOCR/ALTO/text) were not rewritten: " +
                              s.message() + " (a rerun with --force makes them again)");
}

// The page's web preview and, when it has one or is flagged now, the
// morning report's thumbnail, both of the new page under the page's names.
void WriteNewImages(ReplaceContext& c) {
  if (c.preview.empty()) return;
  const std::string stem = ReportImageStem(c.new_page);
  if (!c.new_page.blank) {
    Page shown;
    shown.image = c.preview;
    WritePreview(c.lot_out, c.file_name, stem, shown);
  }
  std::error_code ec;
  if (!c.new_page.flags.empty() || fs::exists(c.lot_out / "thumbs" / (c.file_name + "-" + stem + ".jpg"), ec)) {
    WriteReportThumbnail(c.lot_out, c.file_name, stem, c.preview);
  }
}

}  // namespace

Result<PageReplaceResult> ReplacePage(Store& store, const PageReplaceRequest& req) {
  ReplaceContext c(store, req);
  ACERVO_RETURN_IF_ERROR(FindTarget(c));
  ACERVO_RETURN_IF_ERROR(LoadNewImage(c));
  ACERVO_RETURN_IF_ERROR(KeepNewMaster(c));
  ACERVO_RETURN_IF_ERROR(MatchSpread(c));
  ACERVO_RETURN_IF_ERROR(ProcessNewPage(c).WithContext(c.where));
  ACERVO_RETURN_IF_ERROR(RebuildRecord(c));
  ACERVO_RETURN_IF_ERROR(RebuildPdf(c));
  ACERVO_RETURN_IF_ERROR(RewriteSideOutputs(c));
  WriteNewImages(c);
  c.result.in_pdf = c.new_page.in_pdf;
  c.result.pdf_page = c.rec.pages[c.index].pdf_page;
  c.result.flags = c.new_page.flags;
  c.result.mean_confidence = c.new_page.mean_confidence;
  ReviewFilter f;
  f.lot_id = req.lot_id;
  f.document_id = req.document_id;
  Result<std::vector<ReviewItem>> open = store.Review().ListItems(f);
  if (open.ok()) c.result.open_items = std::move(open).value();
  return std::move(c.result);
}

Result<PageReplaceResult> ReplacePageFromBytes(Store& store, PageReplaceRequest request, std::string_view bytes,
                                               std::string_view file_name) {
  std::string tmpl = (fs::temp_directory_path() / "acervo-replace-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::IOError("cannot create a temporary folder in " + fs::temp_directory_path().string());
  }
  const fs::path dir = tmpl;
  // A name a client chose: its last component (at most 100 bytes), made safe.
  const size_t slash = file_name.find_last_of("/\\");
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  request.image = dir / SafeFileName(file_name.substr(0, 100));
  const Status written = WriteFileAtomic(request.image, bytes);
  Result<PageReplaceResult> r = written.ok() ? ReplacePage(store, request) : Result<PageReplaceResult>(written);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (r.ok()) return r;
  // The file by its name, not by the temporary folder that is gone.
  std::string message = r.status().message();
  const std::string prefix = dir.string() + "/";
  for (size_t at = message.find(prefix); at != std::string::npos; at = message.find(prefix)) message.erase(at, prefix.size());
  return Status(r.status().code(), message);
}

std::map<FlaggedKey, FlaggedPage> ReplacedPagesNow(Store& store, const std::string& lot_id, const fs::path& lot_out) {
  std::map<FlaggedKey, FlaggedPage> out;
  Result<std::vector<PageReplacement>> done = store.Review().Replacements(lot_id, "");
  if (!done.ok() || done->empty()) return out;
  std::set<std::string> documents;
  for (const PageReplacement& r : *done) documents.insert(r.document_id);
  std::error_code ec;
  for (const std::string& id : documents) {
    Result<std::optional<DocumentRecord>> d = store.GetDocument(lot_id, id);  // a withdrawn one is gone
    if (!d.ok() || !d->has_value()) continue;
    const std::string file_name = fs::path((**d).pdf_path).stem().string();
    for (const PageRecord& p : (**d).pages) {
      auto r = std::find_if(done->begin(), done->end(), [&](const PageReplacement& e) {
        return e.document_id == id && e.page == p.number && e.new_master_sha256 == p.master_sha256;
      });
      if (r == done->end()) continue;
      FlaggedPage f;
      f.document_id = id;
      f.number = p.master_page > 0 ? p.master_page : p.number;
      f.part = p.part;
      f.source = fs::path(r->new_master_path).filename().string();
      f.flags = p.flags;
      f.mean_confidence = p.mean_confidence;
      f.master = (lot_out / "masters" / "replaced" / file_name / f.source).string();
      const std::string stem = ReportImageStem(p);
      const fs::path thumb = lot_out / "thumbs" / (file_name + "-" + stem + ".jpg");
      const fs::path preview = lot_out / "previews" / file_name / (stem + ".jpg");
      if (fs::exists(thumb, ec)) f.thumbnail = thumb.string();
      if (fs::exists(preview, ec)) f.preview = preview.string();
      f.pdf_page = p.in_pdf ? p.pdf_page : 0;
      f.replaced = true;
      out.emplace(FlaggedKey{id, f.number, f.part}, std::move(f));
    }
  }
  return out;
}

nlohmann::json ReplacementJson(const PageReplaceResult& r) {
  using json = nlohmann::json;
  const PageReplacement& p = r.replacement;
  json stages = json::object();
  for (const auto& [name, runs] : r.stage_runs) stages[name] = runs;
  return {{"lot", p.lot_id},
          {"document", p.document_id},
          {"page", p.page},
          {"old_master", {{"path", p.old_master_path}, {"sha256", p.old_master_sha256}}},
          {"new_master", {{"path", p.new_master_path}, {"sha256", p.new_master_sha256}}},
          {"pdf",
           {{"path", r.pdf_path}, {"pages", r.pdf_pages}, {"sha256", p.new_pdf_sha256}, {"previous_sha256", p.old_pdf_sha256}}},
          {"in_pdf", r.in_pdf},
          {"pdf_page", r.pdf_page},
          {"flags", r.flags},
          {"confidence", r.mean_confidence},
          {"stages", stages},
          {"review", ReviewJson(r.open_items)}};
}

}  // namespace acervo
