#include "acervo/pipeline/lot_passes.h"
#include "acervo/pipeline/page_replace.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/core/clock.h"
#include "acervo/core/files.h"
#include "acervo/core/memory.h"
#include "acervo/core/text.h"
#include "acervo/core/test_hooks.h"
#include "acervo/pipeline/archival.h"
#include "acervo/pipeline/chain_pool.h"
#include "acervo/pipeline/correction.h"
#include "acervo/pipeline/journal.h"
#include "acervo/pipeline/metadata.h"
#include "acervo/pipeline/page_loader.h"
#include "acervo/pipeline/review.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/scanner/image_file.h"
#include "acervo/stages/pdf/pdf_writer.h"
#include "pdf_outputs.h"

namespace acervo {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// One line of progress on stderr at most every second (and at the end),
// rewritten in place on a terminal.
namespace {

class LotProgress {
 public:
  LotProgress(bool enabled, std::string lot, int total)
      : enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0), lot_(TerminalText(lot)), total_(total),
        start_(Clock::now()) {}
  void Update(int done, bool force = false) {
    if (!enabled_ || (done == printed_ && printed_ >= 0)) return;
    Clock::time_point now = Clock::now();
    if (!force && now - last_ < std::chrono::seconds(1) && done != total_) return;
    last_ = now;
    printed_ = done;
    double min = std::chrono::duration<double>(now - start_).count() / 60.0;
    double rate = min > 0 ? done / min : 0;
    std::fprintf(stderr, "%s[%s] %d/%d pages (%.0f%%), %.1f pages/min%s", tty_ ? "\r" : "", lot_.c_str(),
                 done, total_, total_ > 0 ? 100.0 * done / total_ : 100.0, rate, tty_ ? "   " : "\n");
    if (tty_ && done == total_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool enabled_, tty_;
  std::string lot_;
  int total_;
  int printed_ = -1;
  Clock::time_point start_, last_;
};

}  // namespace

// A document being written: its record and PDF as its pages arrive.
struct DocumentBuild {
  bool failed = false;
  bool interrupted = false;  // a page was stopped by SIGINT/SIGTERM
  bool begun = false;
  int pdf_pages = 0;
  int pages = 0;  // output pages so far (a split spread counts two)
  DocumentRecord record;
  SidecarRequest sidecar_request;  // which side outputs (profile or command line)
  SidecarSet sidecars;  // hOCR/ALTO/text, written after the PDF commits
  // Encoded blank pages (index in record.pages) while the document has no
  // other page yet, for [image] blank_documents = "keep".
  std::vector<std::pair<size_t, Page>> held_blank;
};

namespace {

// The lot profile as recorded in the store and the report, and (dumped) as
// part of the checkpoint signature: every setting that shapes the output, so
// a changed profile never reuses stale checkpoints. The signing password is
// not in the profile (only the name of its environment variable).
json ProfileJson(const LotProfile& p) {
  json fields = json::array();
  for (const FieldSpec& f : p.fields) {
    fields.push_back({{"name", f.name}, {"label", f.label}, {"type", f.type},
                      {"required", f.required}, {"allowed", f.allowed}, {"regex", f.regex_text},
                      {"extract", f.extract_text}, {"types", f.types}});
  }
  json types = json::array();
  for (const DocumentTypeSpec& t : p.types) types.push_back({{"name", t.name}, {"label", t.label}});
  static const char* const kRuleNames[] = {"auto", "file", "barcode", "patch", "blank", "fixed"};
  const SeparationRule& sep = p.separation;
  const ArchivalProfile& a = p.archival;
  json signature = nullptr;
  if (p.signature) {
    signature = {{"pkcs12", p.signature->pkcs12}, {"password_env", p.signature->password_env},
                 {"reason", p.signature->reason}, {"location", p.signature->location},
                 {"contact", p.signature->contact}, {"form", p.signature->form},
                 {"tsa_url", p.signature->tsa_url}, {"tsa_ca", p.signature->tsa_ca}};
  }
  return {{"lot", {{"id", p.lot_id}, {"project", p.project}, {"box", p.box},
                   {"operator", p.operator_name}, {"description", p.description}}},
          {"image", {{"orientation", p.orientation}, {"deskew", p.deskew},
                     {"blank_detection", p.blank_detection}, {"border", p.border},
                     {"clean", p.clean}, {"color_paper", p.color_paper}, {"binarize", p.binarize},
                     {"blank_threshold", p.blank_threshold}, {"split", p.split}}},
          {"ocr", {{"languages", p.languages}, {"min_confidence", p.min_confidence},
                   {"page_deadline_s", p.page_deadline_s}}},
          {"pdf", {{"jpeg_quality", p.jpeg_quality}, {"lossless", p.lossless},
                   {"mixed_raster", p.mixed_raster}, {"pdfa", p.pdfa},
                   {"hocr", p.hocr}, {"alto", p.alto}, {"text", p.text}}},
          {"archival", {{"assunto", a.assunto}, {"autor", a.autor},
                        {"local_digitalizacao", a.local_digitalizacao},
                        {"responsavel_digitalizacao", a.responsavel_digitalizacao},
                        {"titulo", a.titulo}, {"tipo_documental", a.tipo_documental},
                        {"identificador", a.identificador}, {"data_producao", a.data_producao},
                        {"orgao_publico", a.orgao_publico}, {"classe", a.classe},
                        {"destinacao_prevista", a.destinacao_prevista}, {"genero", a.genero},
                        {"prazo_guarda", a.prazo_guarda}}},
          {"signature", signature},
          {"types", types},
          {"separation", {{"rule", kRuleNames[static_cast<int>(sep.kind)]}, {"prefix", sep.prefix},
                          {"patch_codes", sep.patch_codes}, {"pages", sep.pages},
                          {"blank_max_ink", sep.blank_max_ink}}},
          {"metadata", {{"sources", p.metadata_sources}}},
          {"fields", fields}};
}

std::string HistoryJson(const std::vector<StageRecord>& history) {
  json a = json::array();
  for (const StageRecord& r : history) {
    a.push_back({{"name", r.name}, {"version", r.version}, {"ms", r.ms}, {"cpu_ms", r.cpu_ms}});
  }
  return a.dump();
}

// A small JPEG of a flagged page for the morning report (longest side 240).
std::vector<uint8_t> Thumbnail(const cv::Mat& image) {
  if (image.empty()) return {};
  double scale = 240.0 / std::max(image.cols, image.rows);
  cv::Mat small;
  cv::resize(image, small, cv::Size(), std::min(1.0, scale), std::min(1.0, scale), cv::INTER_AREA);
  std::vector<uint8_t> out;
  cv::imencode(".jpg", small, out, {cv::IMWRITE_JPEG_QUALITY, 70});
  return out;
}

// The web preview of a page (issue 13): the page image the PDF shows,
// reduced to at most kPreviewWidth columns, as JPEG at
// OUT/<lot>/previews/<document file>/<page stem>.jpg, so `acervo serve`
// shows a page without rendering the PDF (docs/web.md). Same geometry as
// the PDF's page image, so OCR boxes map onto it by proportion. Best
// effort: without it the server renders the PDF page.
constexpr int kPreviewWidth = 1240;
}  // namespace


std::string WriteReportThumbnail(const fs::path& lot_out, const std::string& file_name, const std::string& stem,
                                 const cv::Mat& image) {
  std::vector<uint8_t> jpeg = Thumbnail(image);
  if (jpeg.empty()) return "";
  const fs::path rel = fs::path("thumbs") / (file_name + "-" + stem + ".jpg");
  if (!CreateDirectoriesBelow(lot_out, "thumbs").ok() || !WriteFileAtomic(lot_out / rel, jpeg).ok()) return "";
  return rel.string();
}

void WritePreview(const fs::path& lot_out, const std::string& file_name, const std::string& stem, const Page& p) {
  if (p.blank || p.image.empty()) return;
  cv::Mat small = p.image;
  if (p.image.cols > kPreviewWidth) {
    const double f = static_cast<double>(kPreviewWidth) / p.image.cols;
    cv::resize(p.image, small, cv::Size(), f, f, cv::INTER_AREA);
  }
  std::vector<uint8_t> jpeg;
  if (!cv::imencode(".jpg", small, jpeg, {cv::IMWRITE_JPEG_QUALITY, 75})) return;
  // Below the lot's output folder, never through a link (files.h).
  Result<fs::path> dir = CreateDirectoriesBelow(lot_out, fs::path("previews") / file_name);
  if (dir.ok()) (void)WriteFileAtomic(*dir / (stem + ".jpg"), jpeg);
}

namespace {

// True when the stored document was made from exactly the document's
// master pages, in order: the stored pages, grouped by master page, are for
// each master page either one whole page or its left then right half, from
// the same master bytes and page in file. (With splitting, the store holds
// more pages than the plan has master pages.) Stored halves while the
// profile no longer splits are not the same document either.
bool SameMasterPages(const DocumentRecord& stored, const DocumentPlan& doc,
                     const std::vector<std::string>& master_sha, bool split) {
  if (stored.pdf_path.empty()) return false;
  size_t at = 0;  // next stored page
  for (size_t m = 0; m < doc.pages.size(); ++m) {
    const PageRef& ref = doc.pages[m];
    auto from_this_master = [&](size_t k, const char* part) {
      const PageRecord& p = stored.pages[k];
      return p.master_page == static_cast<int>(m) + 1 && p.part == part &&
             p.master_sha256 == master_sha[ref.file] && p.page_in_file == ref.page_in_file;
    };
    if (at < stored.pages.size() && from_this_master(at, "whole")) {
      at += 1;
    } else if (split && at + 1 < stored.pages.size() && from_this_master(at, "left") &&
               from_this_master(at + 1, "right")) {
      at += 2;
    } else {
      return false;
    }
  }
  return at == stored.pages.size();
}

// The stored document as its lot's masters made it: a page replaced from a
// new image (page_replace.h) counts as its original master page, so that a
// rerun of the lot keeps the replacement instead of rebuilding the document
// (`--force` does rebuild it from the lot folder).
DocumentRecord AsPlanned(Store& store, const DocumentRecord& stored) {
  Result<std::vector<PageReplacement>> replaced = store.Review().Replacements(stored.lot_id, stored.document_id);
  if (!replaced.ok() || replaced->empty()) return stored;
  DocumentRecord r = stored;
  for (PageRecord& p : r.pages) {
    const PageReplacement* first = nullptr;
    const PageReplacement* last = nullptr;
    for (const PageReplacement& e : *replaced) {
      if (e.page != p.number) continue;
      if (first == nullptr) first = &e;
      last = &e;
    }
    if (last == nullptr || last->new_master_sha256 != p.master_sha256) continue;
    p.master_sha256 = first->old_master_sha256;
    p.page_in_file = first->old_page_in_file;
  }
  return r;
}

// The name of a page's checkpoint and thumbnail in its document: the
// master page number, and for a half of a spread "-left"/"-right".
std::string PageFileStem(const JournalPageId& id) {
  std::string stem = std::to_string(id.number);
  if (id.part != PageOrigin::Part::kWhole) stem += std::string("-") + PartName(id.part);
  return stem;
}


// Adds the wall time of its scope to report.passes[name].
class PassTimer {
 public:
  PassTimer(LotContext& ctx, const char* name) : ctx_(ctx), name_(name), start_(Clock::now()) {}
  ~PassTimer() { ctx_.report.passes[name_] += std::chrono::duration<double>(Clock::now() - start_).count(); }
  PassTimer(const PassTimer&) = delete;
  PassTimer& operator=(const PassTimer&) = delete;

 private:
  LotContext& ctx_;
  const char* name_;
  Clock::time_point start_;
};

}  // namespace

LotContext::LotContext(const RunOptions& o, Store* s) : options(o), store(s), started(Clock::now()) {}
LotContext::~LotContext() = default;


void LotContext::JournalFailed(const Status& s) {
  std::lock_guard<std::mutex> lock(journal_error_mu);
  journal_errors.push_back({"journal", s.ToString()});
}

std::vector<size_t> AllFiles(const LotContext& ctx) {
  std::vector<size_t> files(ctx.plan.files.size());
  for (size_t i = 0; i < files.size(); ++i) files[i] = i;
  return files;
}

std::vector<LotUnit> AllDocuments(const LotContext& ctx) {
  std::vector<LotUnit> units(ctx.plan.documents.size());
  for (size_t d = 0; d < units.size(); ++d) units[d].document = d;
  return units;
}

std::vector<size_t> FilesOf(const LotContext& ctx, const std::vector<LotUnit>& units) {
  std::vector<size_t> files;
  for (const LotUnit& u : units) {
    const DocumentPlan& doc = ctx.plan.documents[u.document];
    for (size_t k = u.first_page; k < std::min(u.end_page, doc.pages.size()); ++k) {
      files.push_back(static_cast<size_t>(doc.pages[k].file));
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

Status PlanPass(LotContext& ctx, const LotPlan* planned) {
  PassTimer timer(ctx, "plan");
  if (planned != nullptr) {
    ctx.plan = *planned;
  } else {
    ACERVO_ASSIGN_OR_RETURN(ctx.plan,
                            PlanLot(ctx.options.lot_dir, PlanOptions{ctx.options.lot_id, ctx.options.only_file}));
  }
  const LotPlan& plan = ctx.plan;
  LotReport& rep = ctx.report;
  rep.lot_id = plan.lot_id;
  rep.problems = plan.problems;
  rep.warnings = plan.warnings;
  rep.total_pages = plan.TotalPages();
  for (const SeparatorSheet& s : plan.separators) {
    rep.separators.push_back({plan.files[static_cast<size_t>(s.page.file)].name, s.page.page_in_file, s.kind, s.payload});
  }
  rep.documents.resize(plan.documents.size());
  ctx.builds.resize(plan.documents.size());
  ctx.master_sha.assign(plan.files.size(), "");
  ctx.master_path.assign(plan.files.size(), "");
  ctx.out_root = fs::absolute(ctx.options.out_dir).lexically_normal();
  ctx.lot_dir_name = SafeFileName(plan.lot_id);
  ctx.lot_out = ctx.out_root / ctx.lot_dir_name;
  ctx.masters_dir = ctx.lot_out / "masters";
  ctx.quarantine_dir = ctx.lot_out / "quarantine";
  rep.lot_out_dir = ctx.lot_out;
  return Status::OK();
}

Status CheckRunnablePass(LotContext& ctx) {
  PassTimer timer(ctx, "plan");
  // The run would read what it writes (or write into what it reads).
  ACERVO_RETURN_IF_ERROR(CheckSeparateFolders(ctx.options.lot_dir, "lot folder", ctx.options.out_dir, "--out folder"));
  // The first worker's chain is built now: a missing language model or a
  // bad stage option stops the run before anything is written.
  ACERVO_ASSIGN_OR_RETURN(StageChain chain, BuildStageChain(ctx.plan.profile, ctx.options.languages));
  ctx.first_chain = std::make_shared<StageChain>(std::move(chain));
  return OpenDocumentWriter(ctx);
}

Status OpenOutputPass(LotContext& ctx, const OutputOpening& how) {
  PassTimer timer(ctx, "open");
  const LotPlan& plan = ctx.plan;
  if (how.lock && !how.shared_lock) {
    // The workers of the store's queue have this lot: a run beside them
    // would write the same documents (checked before anything is created).
    ACERVO_ASSIGN_OR_RETURN(std::optional<std::string> queued, ctx.store->QueuedLotFolder(plan.lot_id));
    if (queued) {
      return Status::Unavailable("lot " + plan.lot_id + " is being processed by the shared work queue (from " +
                                 TerminalText(*queued) + "; see `acervo status`): leave it to the workers, or run it "
                                 "when the queue has finished it");
    }
  }
  std::error_code ec;
  // The output folder was asked for; below it, nothing is followed
  // through a link.
  fs::create_directories(ctx.out_root, ec);
  if (ec) return Status::IOError("cannot create " + ctx.out_root.string() + ": " + ec.message());
  ACERVO_RETURN_IF_ERROR(CreateDirectoriesBelow(ctx.out_root, ctx.lot_dir_name).status());
  // One run per lot folder at a time: a second would remove the first's
  // temporary files and interleave its journal.
  if (how.lock) {
    ACERVO_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(ctx.lot_out / ".lock", how.shared_lock
                                                                                  ? FileLock::Mode::kShared
                                                                                  : FileLock::Mode::kExclusive));
    ctx.lock = std::make_unique<FileLock>(std::move(lock));
  }
  // The folder belongs to one lot id for ever: two ids with one folder name
  // (letter case, on case-insensitive storage) never share it.
  const fs::path marker = ctx.lot_out / ".lot-id";
  Result<std::vector<uint8_t>> owner = ReadFile(marker, Links::kRefuse);
  if (owner.ok()) {
    const std::string id(owner->begin(), owner->end());
    if (id != plan.lot_id) {
      return Status::AlreadyExists(ctx.lot_out.string() + " holds the outputs of lot '" + TerminalText(id) +
                                   "', not of lot '" + plan.lot_id + "'");
    }
  } else if (owner.status().code() == StatusCode::kNotFound) {
    ACERVO_RETURN_IF_ERROR(WriteFileAtomic(marker, plan.lot_id));
  } else {
    return owner.status();
  }
  ACERVO_RETURN_IF_ERROR(CreateDirectoriesBelow(ctx.lot_out, "masters").status());
  // Leftovers of a run that was killed mid-write are never taken as output
  // (PDFs, masters, quarantine copies, checkpoints, thumbnails).
  if (how.remove_leftovers) ACERVO_RETURN_IF_ERROR(RemoveTempFilesRecursive(ctx.lot_out).status());
  std::vector<fs::path> others;
  for (const fs::path& p : how.read_journals) others.push_back(ctx.lot_out / p);
  ACERVO_ASSIGN_OR_RETURN(ctx.journal, Journal::Open(ctx.lot_out / how.journal, others));
  ctx.profile_signature = ProfileJson(plan.profile).dump() + "|lang=" + ctx.options.languages;

  LotRecord& lot = ctx.lot;
  lot.id = plan.lot_id;
  lot.project = plan.profile.project;
  lot.box = plan.profile.box;
  lot.operator_name = plan.profile.operator_name;
  lot.description = plan.profile.description;
  lot.profile_json = ProfileJson(plan.profile).dump();
  lot.started_at = how.started_at.empty() ? UtcNowIso8601() : how.started_at;
  lot.output_root = ctx.out_root.string();
  return ctx.store->UpsertLot(lot);
}

void KeepMasters(LotContext& ctx, const std::vector<size_t>& files) {
  PassTimer timer(ctx, "masters");
  LotPlan& plan = ctx.plan;
  for (size_t i : files) {
    InputFile& f = plan.files[i];
    if (f.status.ok()) {
      fs::path dest = ctx.masters_dir / f.name;
      Status folder = CreateDirectoriesBelow(ctx.masters_dir, fs::path(f.name).parent_path()).status();
      Result<std::string> sha = folder.ok() ? CopyFileOnce(f.path, dest) : Result<std::string>(folder);
      if (sha.ok()) {
        ctx.master_sha[i] = *sha;
        ctx.master_path[i] = dest.string();
        continue;
      }
      f.status = sha.status();
      ctx.report.problems.push_back({f.name, "cannot keep master: " + sha.status().message()});
    }
    ctx.quarantine[i].push_back(f.status.ToString());
    Status js = ctx.journal->RecordQuarantine({f.name, 0, f.status.ToString()});
    if (!js.ok()) ctx.JournalFailed(js);
  }

  // Formats are sniffed from the bytes, so a PNG named .jpg is read as the
  // PNG it is; the operator still hears about the misleading name.
  for (size_t i : files) {
    const InputFile& f = plan.files[i];
    if (!f.status.ok() || ctx.master_path[i].empty()) continue;
    std::vector<uint8_t> head(16);
    std::FILE* in = std::fopen(ctx.master_path[i].c_str(), "rb");
    if (in == nullptr) continue;
    head.resize(std::fread(head.data(), 1, head.size(), in));
    std::fclose(in);
    ImageFormat actual = SniffImageFormat(head);
    std::string ext = fs::path(f.name).extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ImageFormat named = ext == ".png" ? ImageFormat::kPng
                        : ext == ".jpg" || ext == ".jpeg" ? ImageFormat::kJpeg
                        : ext == ".tif" || ext == ".tiff" ? ImageFormat::kTiff
                        : ext == ".pdf" ? ImageFormat::kPdf
                                        : ImageFormat::kUnknown;
    if (actual != ImageFormat::kUnknown && named != ImageFormat::kUnknown && actual != named) {
      ctx.report.warnings.push_back({f.name, "named " + ext + " but the content is " +
                                                 std::string(ImageFormatName(actual)) + "; read as " +
                                                 std::string(ImageFormatName(actual))});
    }
  }
}

namespace {

// The planned values (manifest, separator payload) that differ from the
// stored document's: type, title and every planned field whose stored value
// did not come from OCR extraction. A planned field from a source the
// profile does not use is not compared.
std::vector<FieldChange> PlannedChanges(const LotProfile& profile, const DocumentPlan& doc, const DocumentRecord& r) {
  std::vector<FieldChange> changes;
  auto source_of = [&](const std::string& name) {
    auto it = doc.field_sources.find(name);
    return it == doc.field_sources.end() ? std::string("manifest.csv") : it->second;
  };
  const std::string row_source = doc.field_sources.empty() ? "manifest.csv" : doc.field_sources.begin()->second;
  if (doc.type != r.document_type) changes.push_back({"document_type", doc.type, row_source});
  if (doc.title != r.title) changes.push_back({"title", doc.title, row_source});
  for (const auto& [name, value] : doc.fields) {
    const std::string source = source_of(name);
    const std::string kind = source.rfind("separator", 0) == 0 ? "separator" : "manifest";
    if (std::find(profile.metadata_sources.begin(), profile.metadata_sources.end(), kind) ==
        profile.metadata_sources.end()) {
      continue;
    }
    auto it = std::find_if(r.fields.begin(), r.fields.end(), [&](const FieldRecord& f) { return f.name == name; });
    if (it != r.fields.end() && (it->value == value || it->source.rfind("ocr", 0) == 0)) continue;
    changes.push_back({name, value, source});
  }
  return changes;
}

}  // namespace

std::vector<PageJob> BuildWorkList(LotContext& ctx, const std::vector<LotUnit>& units) {
  PassTimer timer(ctx, "work list");
  const LotPlan& plan = ctx.plan;
  LotReport& rep = ctx.report;
  std::vector<PageJob> jobs;
  for (const LotUnit& unit : units) {
    const size_t d = unit.document;
    const DocumentPlan& doc = plan.documents[d];
    DocumentOutcome& out = rep.documents[d];
    out.id = doc.id;
    out.errors = doc.errors;
    for (const PageRef& p : doc.pages) {
      if (!plan.files[p.file].status.ok()) out.errors.push_back(plan.files[p.file].status.message());
    }
    if (!out.errors.empty()) {
      ++rep.documents_failed;
      continue;
    }
    if (!ctx.options.force) {
      Result<std::optional<DocumentRecord>> existing = ctx.store->GetDocument(plan.lot_id, doc.id);
      if (existing.ok() && existing->has_value()) {
        const DocumentRecord& r = **existing;
        bool same = SameMasterPages(AsPlanned(*ctx.store, r), doc, ctx.master_sha, plan.profile.split);
        const fs::path pdf = ResolveStoredPath(ctx.out_root, r.pdf_path);
        if (same) {
          Result<std::string> pdf_sha = Sha256OfFile(pdf);
          same = pdf_sha.ok() && *pdf_sha == r.pdf_sha256;
        }
        if (same) {
          // A corrected manifest.csv (or separator payload): the new values
          // go into the row and the PDF's metadata, without OCR.
          std::vector<FieldChange> changes = PlannedChanges(plan.profile, doc, r);
          if (!changes.empty()) {
            // A value a person corrected (review set, the web) is not undone
            // by the manifest it corrected: change it with review set again.
            Result<std::vector<HistoryEntry>> history = ctx.store->Review().History(plan.lot_id, doc.id);
            if (history.ok()) {
              std::set<std::string> by_people;
              for (const HistoryEntry& h : *history) {
                if (h.action == "set_field" && h.user.rfind("manifest", 0) != 0 && h.user.rfind("separator", 0) != 0) {
                  by_people.insert(h.field);
                }
              }
              changes.erase(std::remove_if(changes.begin(), changes.end(),
                                           [&](const FieldChange& c) { return by_people.count(c.name) > 0; }),
                            changes.end());
            }
          }
          if (!changes.empty()) {
            CorrectionRequest req;
            req.lot_id = plan.lot_id;
            req.document_id = doc.id;
            req.changes = std::move(changes);
            req.user = req.changes.front().source.empty() ? "manifest.csv" : req.changes.front().source;
            req.reason = "value changed in the lot's manifest or separator sheet";
            req.validate = false;  // stored as given and flagged, as a run does
            req.profile = &plan.profile;
            req.lot_dir = ctx.options.lot_dir;
            req.output_root = ctx.out_root;
            Result<CorrectionResult> c = CorrectDocument(*ctx.store, req);
            if (!c.ok()) {
              rep.problems.push_back({"document " + doc.id, "correction: " + c.status().ToString()});
              out.errors.push_back("correction: " + c.status().message());
            } else {
              out.corrected = static_cast<int>(c->changed.size());
            }
          }
          out.skipped = true;
          // A kill between the commit and the cleanup leaves checkpoints.
          std::error_code ec;
          fs::remove_all(ctx.lot_out / "checkpoints" / doc.file_name, ec);
          out.pdf_path = pdf.string();
          out.pages = r.page_count;
          ++rep.documents_skipped;
          continue;
        }
      }
    }
    for (size_t k = unit.first_page; k < std::min(unit.end_page, doc.pages.size()); ++k) jobs.push_back({d, k});
  }
  return jobs;
}

Status OpenDocumentWriter(LotContext& ctx) {
  PassTimer timer(ctx, "documents");
  // PDF/A part and signature from the profile; side outputs from the
  // profile or the command line.
  ACERVO_ASSIGN_OR_RETURN(PdfOptions pdf_options, PdfOptionsForLot(ctx.plan.profile, ctx.options.lot_dir));
  ACERVO_ASSIGN_OR_RETURN(ctx.writer, PdfWriter::Create(pdf_options));
  const RunOptions& o = ctx.options;
  const SidecarRequest sidecars{o.hocr || ctx.plan.profile.hocr, o.alto || ctx.plan.profile.alto,
                                o.text || ctx.plan.profile.text};
  for (DocumentBuild& b : ctx.builds) b.sidecar_request = sidecars;
  return Status::OK();
}

namespace {

// The worker side of ProcessPages: one per worker thread, with its own
// stage chain (so its own Tesseract engine).
class PageWorker {
 public:
  PageWorker(LotContext& ctx, const std::vector<PageJob>& jobs, std::shared_ptr<StageChain> chain)
      : ctx_(ctx), jobs_(jobs), chain_(std::move(chain)), signature_(ctx.profile_signature) {
    // What a checkpoint must have been made with to be reused.
    for (const ChainEntry& e : chain_->entries) {
      signature_.append("|").append(e.stage->Name()).append("@").append(std::to_string(e.stage->Version()));
    }
  }

  // One job: one master page, giving one page or, split, its two halves.
  Result<JobPages> Run(size_t i) {
    const LotPlan& plan = ctx_.plan;
    const PageJob& job = jobs_[i];
    const DocumentPlan& doc = plan.documents[job.doc];
    const PageRef& ref = doc.pages[job.page];
    const InputFile& f = plan.files[ref.file];
    const JournalPageId whole_id{doc.id, static_cast<int>(job.page) + 1, f.name, ref.page_in_file,
                                 ctx_.master_sha[ref.file]};
    auto id_of = [&](PageOrigin::Part part) {
      JournalPageId id = whole_id;
      id.part = part;
      return id;
    };
    JobPages out;
    // What the previous page freed goes back to the kernel before this one
    // allocates (core/memory.h: otherwise fragments accumulate).
    ReleaseFreeMemory();
    if (std::optional<Page> whole = FromCheckpoint(whole_id)) {
      ++ctx_.resumed;
      out.push_back(std::move(*whole));
      return out;
    }
    // Halves done before a kill are reused one by one: the master is only
    // read again when one of them is missing.
    std::optional<Page> halves[2];
    if (plan.profile.split) {
      halves[0] = FromCheckpoint(id_of(PageOrigin::Part::kLeft));
      halves[1] = FromCheckpoint(id_of(PageOrigin::Part::kRight));
      if (halves[0] && halves[1]) {
        ctx_.resumed += 2;
        out.push_back(std::move(*halves[0]));
        out.push_back(std::move(*halves[1]));
        return out;
      }
    }
    Result<Page> loaded = LoadPage(ctx_.master_path[ref.file], ref.page_in_file, f.name);
    if (!loaded.ok()) return loaded.status();
    Page page = std::move(loaded).value();
    if (std::min(page.image.cols, page.image.rows) < kMinPageSidePixels) {
      // Not a scan (an icon, a tracking pixel): refuse it rather than
      // feed stages geometry they were never meant for.
      return Status::InvalidArgument(page.origin.Describe() + ": image of " + std::to_string(page.image.cols) +
                                     "x" + std::to_string(page.image.rows) +
                                     " pixels is too small to be a scanned page (at least " +
                                     std::to_string(kMinPageSidePixels) + " pixels a side)");
    }
    page.origin.master_path = ctx_.master_path[ref.file];
    page.origin.master_sha256 = ctx_.master_sha[ref.file];
    page.origin.sequence = static_cast<int>(i) + 1;
    // Spread detection after loading and before the chain: each half then
    // goes through the whole chain (orientation ... OCR) on its own.
    if (plan.profile.split) {
      ACERVO_ASSIGN_OR_RETURN(out, SplitIfSpread(std::move(page)));
    } else {
      out.push_back(std::move(page));
    }
    for (Page& part_page : out) {
      const PageOrigin::Part part = part_page.origin.part;
      std::optional<Page>& kept = halves[part == PageOrigin::Part::kRight ? 1 : 0];
      if (part != PageOrigin::Part::kWhole && kept) {
        ++ctx_.resumed;
        part_page = std::move(*kept);
        continue;
      }
      Result<Page> done = Process(std::move(part_page), id_of(part), doc);
      if (!done.ok()) {
        if (part == PageOrigin::Part::kWhole) return done.status();
        return Status(done.status().code(), "page " + std::to_string(ref.page_in_file) + ", " + PartName(part) +
                                                " half of a two-page spread: " + done.status().message());
      }
      part_page = std::move(done).value();
      // Test-only kill point: a spread's left half is durable, its right
      // half not yet (tests/split_spread_test.cc).
      if (part == PageOrigin::Part::kLeft) TestPauseAt("left-half-done");
    }
    return out;
  }

 private:
  // One page (a master page, or one half of a spread) through the chain,
  // made durable before it counts: checkpoint first, then the journal line.
  Result<Page> Process(Page page, const JournalPageId& id, const DocumentPlan& doc) {
    const fs::path& lot_out = ctx_.lot_out;
    const std::string stem = PageFileStem(id);
    const fs::path ckpt_rel = fs::path("checkpoints") / doc.file_name / (stem + ".page");
    std::string thumb_rel;
    StageObserver observer;
    observer.after_stage = [&](const Page&, const StageRecord& r) {
      Status s = ctx_.journal->RecordStage(id, r.name, r.version);
      if (!s.ok()) ctx_.JournalFailed(s);
    };
    observer.before_release = [&](const Page& p) {
      WritePreview(lot_out, doc.file_name, stem, p);
      if (!p.flags.empty()) thumb_rel = WriteReportThumbnail(lot_out, doc.file_name, stem, p.image);
    };
    PageContext pc;
    pc.lot_id = ctx_.plan.lot_id;
    pc.document_id = doc.id;
    pc.cancel = ctx_.options.cancel;
    const LotProfile& profile = ctx_.plan.profile;
    if (profile.page_deadline_s > 0) {
      pc.deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(profile.page_deadline_s * 1000));
    }
    // Test-only kill point: a page is about to enter the chain, so a
    // SIGINT sent now stops it in flight (tests/hostile).
    TestPauseAt("before-chain");
    Result<Page> result = chain_->Run(std::move(page), pc, &observer);
    if (!result.ok()) return result;
    Status s = CreateDirectoriesBelow(lot_out, ckpt_rel.parent_path()).status();
    if (s.ok()) s = WriteFileAtomic(lot_out / ckpt_rel, EncodePageCheckpoint(*result));
    if (s.ok()) {
      JournalPageSummary sum;
      sum.id = id;
      sum.signature = signature_;
      sum.checkpoint = ckpt_rel.string();
      sum.thumbnail = thumb_rel;
      sum.flags = result->flags;
      sum.mean_confidence = result->mean_confidence;
      sum.skew_deg = result->skew_deg;
      sum.orientation_deg = result->orientation_deg;
      sum.blank = result->blank;
      s = ctx_.journal->RecordPageDone(sum);
    }
    if (!s.ok()) ctx_.JournalFailed(s);
    return result;
  }

  // A page finished by an interrupted run comes back from its checkpoint;
  // a missing or damaged one is recomputed (the journal gets a second
  // record).
  std::optional<Page> FromCheckpoint(const JournalPageId& id) const {
    std::optional<JournalPageSummary> done = ctx_.journal->FindPageDone(id, signature_);
    if (!done) return std::nullopt;
    Result<std::vector<uint8_t>> bytes = ReadFile(ctx_.lot_out / done->checkpoint);
    if (!bytes.ok()) return std::nullopt;
    Result<Page> page = DecodePageCheckpoint(*bytes, done->checkpoint);
    if (!page.ok()) return std::nullopt;
    return std::move(page).value();
  }

  LotContext& ctx_;
  const std::vector<PageJob>& jobs_;
  std::shared_ptr<StageChain> chain_;
  std::string signature_;
};

}  // namespace

int WorkerCount(LotContext& ctx, size_t jobs) {
  const RunOptions& o = ctx.options;
  const int asked = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Each worker builds a Tesseract engine: one with nothing to do is waste.
  int n = std::min<int>(asked, static_cast<int>(std::max<size_t>(1, jobs)));
  const int64_t budget = o.memory_budget_mb > 0 ? o.memory_budget_mb << 20
                                                 : static_cast<int64_t>(AvailableMemoryBytes() / 4 * 3);
  const int by_memory =
      static_cast<int>(std::max<int64_t>(1, (budget - kRunMemoryBytes) / kWorkerMemoryBytes));
  if (n > by_memory) {
    ctx.report.warnings.push_back({"lot " + ctx.plan.lot_id,
                                   std::to_string(n) + " workers asked, " + std::to_string(by_memory) +
                                       " started: the memory budget of " + std::to_string(budget >> 20) +
                                       " MB holds " + std::to_string(by_memory) + " worker(s) (" +
                                       std::to_string(kRunMemoryBytes >> 20) + " MB for the run and " +
                                       std::to_string(kWorkerMemoryBytes >> 20) +
                                       " MB a worker; --memory-budget)"});
    n = by_memory;
  }
  return n;
}

Status ProcessPages(LotContext& ctx, const std::vector<PageJob>& jobs, const PageSink& sink) {
  const Clock::time_point start = Clock::now();
  const double before = ctx.report.passes["documents"] + ctx.report.passes["commit"];
  const std::string languages = ctx.options.languages;
  std::mutex first_mu;
  const WorkerFactory factory = [&](int) -> Result<PageJobFn> {
    std::shared_ptr<StageChain> chain;
    {
      // The chain CheckRunnablePass built serves one worker.
      std::lock_guard<std::mutex> lock(first_mu);
      chain = std::move(ctx.first_chain);
    }
    const auto build = [&] { return BuildStageChain(ctx.plan.profile, languages); };
    if (!chain && ctx.chains != nullptr) {
      ACERVO_ASSIGN_OR_RETURN(chain, ctx.chains->Take(ctx.profile_signature, build));
    } else if (!chain) {
      ACERVO_ASSIGN_OR_RETURN(StageChain built, build());
      chain = std::make_shared<StageChain>(std::move(built));
    }
    auto worker = std::make_shared<PageWorker>(ctx, jobs, std::move(chain));
    return PageJobFn([worker](size_t i) { return worker->Run(i); });
  };
  LotProgress progress(ctx.options.progress, ctx.plan.lot_id, static_cast<int>(jobs.size()));
  int delivered = 0;
  const DeliverFn deliver = [&](size_t i, Result<JobPages> result) {
    ++delivered;
    if (sink) sink(jobs[i], std::move(result));
    progress.Update(delivered);
  };
  ScheduleOptions sched;
  sched.workers = WorkerCount(ctx, jobs.size());
  ctx.report.workers = std::max(ctx.report.workers, sched.workers);
  sched.max_in_flight = static_cast<size_t>(sched.workers) * 4;
  sched.cancel = ctx.options.cancel;
  Status run = RunOrdered(jobs.size(), sched, factory, deliver);
  // The sink's own passes were timed by themselves.
  const double in_sink = ctx.report.passes["documents"] + ctx.report.passes["commit"] - before;
  ctx.report.passes["pages"] += std::chrono::duration<double>(Clock::now() - start).count() - in_sink;
  if (!run.ok() && run.code() != StatusCode::kCancelled) return run;
  if (!run.ok()) ctx.report.problems.push_back({"lot " + ctx.plan.lot_id, run.ToString()});
  progress.Update(delivered, true);
  return Status::OK();
}

std::filesystem::path DocumentPdfPath(const LotContext& ctx, size_t d) {
  return ctx.lot_out / (ctx.plan.documents[d].file_name + ".pdf");
}

PdfDocumentInfo DocumentPdfInfo(const LotContext& ctx, size_t d) {
  return DocumentPdfInfo(ctx, d, ctx.plan.documents[d].fields);
}

PdfDocumentInfo DocumentPdfInfo(const LotContext& ctx, size_t d,
                                const std::vector<std::pair<std::string, std::string>>& fields) {
  DocumentPlan doc = ctx.plan.documents[d];
  doc.fields = fields;
  PdfDocumentInfo info;
  info.title = doc.title.empty() ? doc.id : doc.title;
  info.author = ctx.plan.profile.project;
  info.document_id = doc.id;
  info.lot_id = ctx.plan.lot_id;
  info.document_type = doc.type;
  // A value that fails its field's rules is never written as if valid: it
  // is left out of the Info keys, the XMP and the Decreto 10.278 values made
  // from it (docs/review.md); the store keeps it, flagged for review, and a
  // correction rewrites the PDF's metadata.
  DocumentPlan valid = doc;
  valid.fields = ValidPlannedFields(ctx.plan.profile, doc);
  info.fields = valid.fields;
  for (const PageRef& p : doc.pages) info.master_sha256.push_back(ctx.master_sha[p.file]);
  info.archival = BuildArchivalMetadata(ctx.plan.profile, valid, ctx.plan.lot_id, ctx.lot.started_at);
  info.subject = PdfSubject(info.archival, doc.type);
  return info;
}

namespace {

// Starts the document's PDF when it has not started yet.
Status BeginPdf(LotContext& ctx, size_t d) {
  DocumentBuild& st = ctx.builds[d];
  if (st.begun) return Status::OK();
  Status s = ctx.writer->Begin(DocumentPdfPath(ctx, d), DocumentPdfInfo(ctx, d));
  st.begun = s.ok();
  return s;
}

// Adds one page to the open PDF, recording its PDF page number.
Status AddPdfPage(LotContext& ctx, size_t d, const Page& page, PageRecord* pr) {
  DocumentBuild& st = ctx.builds[d];
  ACERVO_RETURN_IF_ERROR(BeginPdf(ctx, d));
  ACERVO_RETURN_IF_ERROR(ctx.writer->AddPage(PdfPageInputFromPage(page)));
  TestPauseAt("pdf-write");
  pr->in_pdf = true;
  pr->pdf_page = ++st.pdf_pages;
  if (st.sidecar_request.any()) st.sidecars.AddPage(st.sidecar_request, page, pr->pdf_page);
  return Status::OK();
}

// A page or the whole document could not be written into the PDF.
void FailPdf(LotContext& ctx, size_t d, const std::string& where, const Status& s) {
  DocumentBuild& st = ctx.builds[d];
  ctx.report.problems.push_back({where, "PDF: " + s.ToString()});
  ctx.report.documents[d].errors.push_back(where + ": PDF: " + s.message());
  ctx.writer->Abort();
  st.failed = true;
}

}  // namespace

PageRecord PageRecordOf(Page& page, int number, int master_page, const std::string& source_path,
                        const std::string& master_path) {
  // OCR text reaches the PDF, the store, hOCR/ALTO and JSON: clean text only.
  page.text = CleanText(page.text, TextLines::kLines);
  for (Word& w : page.words) w.text = CleanText(w.text);
  PageRecord pr;
  pr.number = number;
  pr.master_page = master_page;
  pr.part = PartName(page.origin.part);
  pr.master_x = page.origin.master_x;
  pr.master_width = page.origin.master_width;
  pr.source_path = source_path;
  pr.page_in_file = page.origin.page_in_file;
  // Relative to the output root (docs/store.md): the archive can move.
  pr.master_path = master_path;
  pr.master_sha256 = page.origin.master_sha256;
  pr.text = page.text;
  pr.mean_confidence = page.mean_confidence;
  pr.skew_deg = page.skew_deg;
  pr.orientation_deg = page.orientation_deg;
  pr.blank = page.blank;
  pr.blank_score = page.blank_score;
  pr.color_class = std::string(ColorClassName(page.color_class));
  pr.flags = page.flags;
  pr.stages = HistoryJson(page.history);
  // The OCR words with their boxes on the page image the PDF shows
  // (schema v6), so a viewer can highlight a hit on the scan.
  pr.image_width = page.encoded.width;
  pr.image_height = page.encoded.height;
  pr.words.reserve(page.words.size());
  for (const Word& w : page.words) pr.words.push_back({w.text, w.box.x, w.box.y, w.box.width, w.box.height});
  return pr;
}

void AddToDocument(LotContext& ctx, const PageJob& job, Result<JobPages> result) {
  {
    PassTimer timer(ctx, "documents");
    const LotPlan& plan = ctx.plan;
    LotReport& rep = ctx.report;
    const DocumentPlan& doc = plan.documents[job.doc];
    DocumentBuild& st = ctx.builds[job.doc];
    DocumentOutcome& out = rep.documents[job.doc];
    const PageRef& ref = doc.pages[job.page];
    const InputFile& f = plan.files[ref.file];
    if (job.page == 0) {
      st.record.lot_id = plan.lot_id;
      st.record.document_id = doc.id;
      st.record.document_type = doc.type;
      st.record.title = doc.title;
    }
    const bool interrupted = !result.ok() && result.status().code() == StatusCode::kCancelled &&
                             ctx.options.cancel != nullptr && ctx.options.cancel->load();
    if (interrupted) {
      // Stopped by SIGINT/SIGTERM, not a bad input: nothing is
      // quarantined, the page is redone when the lot runs again.
      if (st.begun) ctx.writer->Abort();
      st.begun = false;
      st.interrupted = true;
    } else if (!result.ok()) {
      std::string where = f.pages == 1 ? f.name : f.name + " page " + std::to_string(ref.page_in_file);
      rep.problems.push_back({where, result.status().message()});
      ctx.quarantine[ref.file].push_back("page " + std::to_string(ref.page_in_file) + ": " +
                                         result.status().ToString());
      Status js = ctx.journal->RecordQuarantine({f.name, ref.page_in_file, result.status().ToString()});
      if (!js.ok()) ctx.JournalFailed(js);
      out.errors.push_back(where + ": " + result.status().message());
      ++rep.failed_pages;
      if (st.begun) ctx.writer->Abort();
      st.failed = true;
    } else {
      ++rep.processed_pages;
      if (result->size() > 1) ++rep.spreads_split;
      // Each output page in order: a split spread's halves are two pages of
      // the document (numbers, PDF pages, blank handling, sidecars).
      for (Page& page : *result) {
        for (const StageRecord& s : page.history) {
          StageTotals& t = rep.stages[s.name];
          ++t.runs;
          t.ms += s.ms;
        }
        if (page.HasFlag("no_dpi") || page.HasFlag("implausible_dpi")) {
          rep.warnings.push_back({page.origin.Describe(), "resolution missing or implausible in the file; assumed " +
                                                              std::to_string(static_cast<int>(page.dpi_x)) + " dpi"});
        }
        PageRecord pr = PageRecordOf(page, ++st.pages, static_cast<int>(job.page) + 1, f.name,
                                     (fs::path(ctx.lot_dir_name) / "masters" / f.name).string());
        bool flagged = false;
        for (const std::string& fl : page.flags) flagged |= fl != "blank";
        if (flagged) ++rep.flagged_pages;
        if (page.blank) {
          ++rep.blank_pages;
          ++out.blank_pages;
          pr.in_pdf = false;
          pr.pdf_page = 0;
          // Kept while the document has only blank pages, in case it stays
          // so and the profile keeps such documents ([image] blank_documents).
          if (!st.failed && st.pdf_pages == 0 && plan.profile.blank_documents == "keep" &&
              !page.encoded.bytes.empty()) {
            st.held_blank.emplace_back(st.record.pages.size(), std::move(page));
          }
        } else if (!st.failed && !st.interrupted) {
          st.held_blank.clear();  // the document has content: blank pages stay out
          Status s = AddPdfPage(ctx, job.doc, page, &pr);
          if (!s.ok()) FailPdf(ctx, job.doc, page.origin.Describe(), s);
        }
        st.record.pages.push_back(std::move(pr));
      }
    }
  }
  if (job.page + 1 == ctx.plan.documents[job.doc].pages.size()) FinishDocument(ctx, job.doc);
}

namespace {

// Fields found by OCR extraction reach the PDF's metadata too. The PDF was
// begun (Info and XMP written) before the text of its last page was known,
// so when extraction found a value the finished PDF's metadata is
// rewritten now (PdfWriter::RewriteMetadata: pages, images and text layer
// copied as they are, signed again when the lot signs), before its row is
// committed. Only values that pass their field's rules are written
// (DocumentPdfInfo). Never fails the document: a failed rewrite is a report
// warning and the PDF stays as End() made it.
Result<PdfResult> AddExtractedFields(LotContext& ctx, size_t d, PdfResult written) {
  const DocumentRecord& rec = ctx.builds[d].record;
  std::vector<std::pair<std::string, std::string>> fields;
  bool extracted = false;
  for (const FieldRecord& f : rec.fields) {
    fields.emplace_back(f.name, f.value);
    extracted |= f.source.rfind("ocr", 0) == 0;
  }
  if (!extracted) return written;
  Result<PdfResult> again = ctx.writer->RewriteMetadata(written.path, DocumentPdfInfo(ctx, d, fields), written.path);
  if (again.ok()) return again;
  // The PDF as End() wrote it is complete and still in place (the rewrite
  // is atomic): the document goes on without those values in its metadata
  // (the store has them; a correction rewrites it).
  ctx.report.warnings.push_back({"document " + ctx.plan.documents[d].id,
                                 "fields found by OCR not written into the PDF's metadata: " + again.status().ToString()});
  return written;
}

}  // namespace

void FinishDocument(LotContext& ctx, size_t d) {
  bool commit = false;
  std::unique_ptr<ClaimHold> hold;  // a queue unit's fence, until the row is committed
  {
    PassTimer timer(ctx, "documents");
    const DocumentPlan& doc = ctx.plan.documents[d];
    LotReport& rep = ctx.report;
    DocumentBuild& st = ctx.builds[d];
    DocumentOutcome& out = rep.documents[d];
    const bool all_blank = !st.failed && !st.interrupted && st.pdf_pages == 0;
    if (all_blank && ctx.plan.profile.blank_documents == "keep" && !st.held_blank.empty()) {
      // Kept as a document of its blank pages (the profile says so).
      for (auto& [index, page] : st.held_blank) {
        Status s = AddPdfPage(ctx, d, page, &st.record.pages[index]);
        if (!s.ok()) {
          FailPdf(ctx, d, page.origin.Describe(), s);
          break;
        }
      }
      if (!st.failed) {
        st.record.flags.push_back("all_blank");
        rep.warnings.push_back({"document " + doc.id, "every page is blank; kept as a document of its blank pages "
                                                      "([image] blank_documents = \"keep\")"});
      }
    }
    st.held_blank.clear();
    if (st.interrupted) {
      out.errors.push_back("interrupted before its last page; run the lot again to finish it");
    } else if (st.failed) {
      ++rep.documents_failed;
      rep.problems.push_back({"document " + doc.id, "not produced: a page failed (masters kept)"});
    } else if (st.pdf_pages == 0) {
      // Nothing is silently dropped: a document of blank pages only is an
      // error of the lot (its masters are kept) unless the profile keeps it.
      rep.problems.push_back({"document " + doc.id, "every page is blank; no PDF made (masters kept; "
                                                    "[image] blank_documents = \"keep\" keeps such documents)"});
      ++rep.documents_failed;
      out.errors.push_back("every page is blank");
    } else {
      // Index fields with their sources, and every reason to review the
      // document and its pages, computed once here after extraction and
      // validated before anything of the document is committed
      // (docs/review.md).
      DocumentReview review;
      review.items = ApplyMetadata(ctx.plan.profile, doc, &st.record).items;
      for (const PageRecord& p : st.record.pages) {
        std::vector<ReviewItem> page_items = PageReviewItems(p);
        review.items.insert(review.items.end(), page_items.begin(), page_items.end());
      }
      st.record.review = std::move(review);
      Result<PdfResult> pdf = ctx.writer->End([&]() -> Status {
        TestPauseAt("pdf-publish");  // test-only: the PDF is complete, not yet renamed
        if (!ctx.hold_claim) return Status::OK();
        Result<std::unique_ptr<ClaimHold>> held = ctx.hold_claim();
        if (!held.ok()) return held.status();
        hold = std::move(held).value();
        return Status::OK();
      });
      // Under the claim's fence too (queue units): the PDF is renamed again.
      if (pdf.ok()) pdf = AddExtractedFields(ctx, d, std::move(pdf).value());
      if (!pdf.ok()) {
        ++rep.documents_failed;
        rep.problems.push_back({"document " + doc.id, "PDF: " + pdf.status().ToString()});
        out.errors.push_back("PDF: " + pdf.status().message());
      } else {
        // Relative to the output root (docs/store.md): the archive can move.
        st.record.pdf_path = (fs::path(ctx.lot_dir_name) / pdf->path.filename()).string();
        st.record.pdf_sha256 = pdf->sha256;
        st.record.page_count = pdf->pages;
        // Side outputs only for a committed PDF, and the row only after them.
        Status side = st.sidecars.Commit(ctx.lot_out, doc.file_name);
        if (!side.ok()) {
          ++rep.documents_failed;
          rep.problems.push_back({"document " + doc.id, "side outputs: " + side.ToString()});
          out.errors.push_back("side outputs: " + side.message());
        } else {
          commit = true;
        }
      }
    }
  }
  if (commit) CommitDocument(ctx, d);
  DocumentBuild& st = ctx.builds[d];
  st.record = DocumentRecord{};  // free the page texts
  st.sidecars.Clear();
}

void CommitDocument(LotContext& ctx, size_t d) {
  PassTimer timer(ctx, "commit");
  const DocumentPlan& doc = ctx.plan.documents[d];
  LotReport& rep = ctx.report;
  DocumentBuild& st = ctx.builds[d];
  DocumentOutcome& out = rep.documents[d];
  // The row is committed only now that the PDF is complete on disk.
  Status s = ctx.store->PutDocument(st.record);
  if (!s.ok()) {
    ++rep.documents_failed;
    rep.problems.push_back({"document " + doc.id, "store: " + s.ToString()});
    out.errors.push_back("store: " + s.message());
    return;
  }
  ++rep.documents_ok;
  out.pdf_path = ResolveStoredPath(ctx.out_root, st.record.pdf_path).string();
  out.pages = st.record.page_count;
  Status js = ctx.journal->RecordDocumentDone(doc.id, st.record.pdf_path, st.record.pdf_sha256);
  if (!js.ok()) ctx.JournalFailed(js);
  // The PDF and the row now hold everything the checkpoints held.
  std::error_code ec;
  fs::remove_all(ctx.lot_out / "checkpoints" / doc.file_name, ec);
}

void SyncReview(LotContext& ctx) {
  const LotPlan& plan = ctx.plan;
  LotReport& rep = ctx.report;
  // The items of the lot that no stored document carries: inputs in
  // quarantine, documents not produced or all blank, an unused separator.
  std::vector<ReviewItem> items;
  auto add = [&](std::string document, int page, std::string kind, std::string subject, std::string detail) {
    ReviewItem i;
    i.lot_id = plan.lot_id;
    i.document_id = std::move(document);
    i.page = page;
    i.kind = std::move(kind);
    i.subject = std::move(subject);
    i.detail = std::move(detail);
    items.push_back(std::move(i));
  };
  for (const auto& [index, reasons] : ctx.quarantine) {
    std::string detail;
    for (const std::string& r : reasons) detail += (detail.empty() ? "" : "; ") + r;
    add("", 0, "quarantined", plan.files[index].name, detail);
  }
  for (size_t d = 0; d < plan.documents.size(); ++d) {
    const DocumentOutcome& out = rep.documents[d];
    if (out.errors.empty() || out.skipped) continue;
    std::string detail;
    for (const std::string& e : out.errors) detail += (detail.empty() ? "" : "; ") + e;
    const bool blank = out.errors.size() == 1 && out.errors[0] == "every page is blank";
    add(plan.documents[d].id, 0, blank ? "all_blank" : "not_produced", "", detail);
  }
  if (!plan.unused_separator.empty()) {
    add("", 0, "separator_unused", plan.unused_separator, "separator sheet at the end of the lot starts no document");
  }
  Status s = ctx.store->Review().SyncLotItems(plan.lot_id, items);
  if (!s.ok()) rep.problems.push_back({"lot " + plan.lot_id, "store (review items): " + s.ToString()});
  LotSource source;
  source.lot_id = plan.lot_id;
  source.lot_dir = fs::absolute(ctx.options.lot_dir).lexically_normal().string();
  source.out_dir = fs::absolute(ctx.options.out_dir).lexically_normal().string();
  if (Result<std::vector<uint8_t>> toml = ReadFile(ctx.options.lot_dir / "profile.toml"); toml.ok()) {
    source.profile_toml.assign(toml->begin(), toml->end());
  }
  source.languages = ctx.options.languages;
  s = ctx.store->Review().RecordLotSource(source);
  if (!s.ok()) rep.problems.push_back({"lot " + plan.lot_id, "store (lot source): " + s.ToString()});
  // The report says what the store holds: one truth for every reader.
  ReviewFilter filter;
  filter.lot_id = plan.lot_id;
  filter.limit = 100000;
  Result<std::vector<ReviewItem>> open = ctx.store->Review().ListItems(filter);
  if (open.ok()) {
    rep.review = std::move(open).value();
    rep.review_pdf_pages = PdfPagesOf(*ctx.store, rep.review);
  } else {
    rep.problems.push_back({"lot " + plan.lot_id, "store (review items): " + open.status().ToString()});
  }
}

void FinaliseLot(LotContext& ctx) {
  const LotPlan& plan = ctx.plan;
  LotReport& rep = ctx.report;
  std::error_code ec;
  {
    PassTimer timer(ctx, "finalise");
  // Quarantine: a copy of each input that failed (whole or a page) with the
  // reasons beside it, so the morning shift finds them in one place. The
  // master, when there is one, stays where it is.
  for (const auto& [index, reasons] : ctx.quarantine) {
    const InputFile& f = plan.files[index];
    fs::path q = ctx.quarantine_dir / f.name;
    const Status folder =
        CreateDirectoriesBelow(ctx.lot_out, fs::path("quarantine") / fs::path(f.name).parent_path()).status();
    Result<std::string> kept = folder.ok() ? CopyFileOnce(f.path, q) : Result<std::string>(folder);
    std::string text;
    for (const std::string& r : reasons) text += r + "\n";
    // The reasons are written even when the input itself cannot be copied
    // (a link, which is never followed).
    const Status why = folder.ok() ? WriteFileAtomic(q.string() + ".reason.txt", text) : folder;
    if (!kept.ok() || !why.ok()) {
      rep.warnings.push_back({f.name, "could not copy to quarantine: " +
                                          (kept.ok() ? why.message() : kept.status().message())});
    }
  }

  // The report's lists come from the journal: they cover earlier,
  // interrupted runs of this lot as well.
  rep.resumed_pages = ctx.resumed.load();
  std::map<std::string, std::string> file_names;  // document id -> its file name in OUT/<lot>
  for (const DocumentPlan& d : plan.documents) file_names[d.id] = d.file_name;
  for (const JournalPageSummary& p : ctx.journal->FinishedPages()) {
    if (p.flags.empty()) continue;
    // The page at reading size (written for the web, issue 13), so that the
    // morning report's small thumbnail opens onto a page one can read.
    std::string preview;
    if (auto fn = file_names.find(p.id.document_id); fn != file_names.end()) {
      fs::path pv = ctx.lot_out / "previews" / fn->second / (PageFileStem(p.id) + ".jpg");
      if (fs::exists(pv, ec)) preview = pv.string();
    }
    rep.flagged.push_back({p.id.document_id, p.id.number, PartName(p.id.part), p.id.source, p.id.page_in_file,
                           p.flags, p.mean_confidence, p.skew_deg, p.orientation_deg,
                           p.thumbnail.empty() ? "" : (ctx.lot_out / p.thumbnail).string(), preview,
                           (ctx.masters_dir / p.id.source).string()});
  }
  // Each flagged page's place in its PDF (blank pages before it are left
  // out of the PDF), from the stored rows.
  std::map<std::string, std::optional<DocumentRecord>> stored;
  std::map<FlaggedKey, FlaggedPage> replaced = ReplacedPagesNow(*ctx.store, plan.lot_id, ctx.lot_out);
  for (FlaggedPage& f : rep.flagged) {
    auto it = stored.find(f.document_id);
    if (it == stored.end()) {
      Result<std::optional<DocumentRecord>> d = ctx.store->GetDocument(plan.lot_id, f.document_id);
      it = stored.emplace(f.document_id, d.ok() ? *d : std::nullopt).first;
    }
    if (!it->second) continue;
    for (const PageRecord& p : it->second->pages) {
      if (p.master_page != f.number || p.part != f.part) continue;
      if (p.in_pdf) f.pdf_page = p.pdf_page;
    }
    // Replaced since its run (page_replace.h): shown as it is now (its
    // thumbnail file was written again by the replacement).
    if (auto it = replaced.find({f.document_id, f.number, f.part}); it != replaced.end()) {
      f.replaced = true;
      f.flags = it->second.flags;
      f.mean_confidence = it->second.mean_confidence;
      replaced.erase(it);
    }
  }
  // And the pages the run did not flag whose replacement is flagged.
  for (auto& [key, f] : replaced) {
    if (!f.flags.empty()) rep.flagged.push_back(std::move(f));
  }
  for (const JournalQuarantine& q : ctx.journal->Quarantined()) {
    fs::path copy = ctx.quarantine_dir / q.file;
    rep.quarantined.push_back({q.file, q.page, q.reason, fs::exists(copy, ec) ? copy.string() : ""});
  }
  for (const LotProblem& p : ctx.journal_errors) rep.problems.push_back(p);
  fs::remove(ctx.lot_out / "checkpoints", ec);  // only when no document left any
  // One count of flagged pages: the report's list (notes included).
  rep.flagged_pages = static_cast<int>(rep.flagged.size());
  SyncReview(ctx);
  ctx.lot.finished_at = UtcNowIso8601();
  Status s = ctx.store->UpsertLot(ctx.lot);
  if (!s.ok()) rep.problems.push_back({"lot " + plan.lot_id, "store: " + s.ToString()});
  }
  rep.seconds = std::chrono::duration<double>(Clock::now() - ctx.started).count();
  rep.pages_per_minute = rep.seconds > 0 ? rep.processed_pages / (rep.seconds / 60.0) : 0;
  Status written = WriteFileAtomic(ctx.lot_out / "report.json", rep.ToJson());
  if (!written.ok()) rep.warnings.push_back({"report.json", written.ToString()});
}

}  // namespace acervo
