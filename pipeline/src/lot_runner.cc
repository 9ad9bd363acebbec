#include "acervo/pipeline/lot_runner.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/store.h"
#include "acervo/pipeline/page_loader.h"
#include "acervo/pipeline/scheduler.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

std::string NowIso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json ProfileJson(const LotProfile& p) {
  json fields = json::array();
  for (const FieldSpec& f : p.fields) {
    fields.push_back({{"name", f.name}, {"label", f.label}, {"type", f.type},
                      {"required", f.required}, {"allowed", f.allowed}});
  }
  return {{"lot", {{"id", p.lot_id}, {"project", p.project}, {"box", p.box},
                   {"operator", p.operator_name}, {"description", p.description}}},
          {"image", {{"orientation", p.orientation}, {"deskew", p.deskew},
                     {"blank_detection", p.blank_detection}}},
          {"ocr", {{"languages", p.languages}, {"min_confidence", p.min_confidence},
                   {"page_deadline_s", p.page_deadline_s}}},
          {"pdf", {{"jpeg_quality", p.jpeg_quality}, {"lossless", p.lossless}}},
          {"fields", fields}};
}

std::string HistoryJson(const std::vector<StageRecord>& history) {
  json a = json::array();
  for (const StageRecord& r : history) a.push_back({{"name", r.name}, {"version", r.version}, {"ms", r.ms}});
  return a.dump();
}

// One line of progress on stderr at most every second (and at the end),
// rewritten in place on a terminal.
class Progress {
 public:
  Progress(bool enabled, std::string lot, int total)
      : enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0), lot_(std::move(lot)), total_(total),
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

struct Job {
  size_t doc;
  size_t page;  // index in DocumentPlan::pages
};

struct DocState {
  bool failed = false;
  bool begun = false;
  int pdf_pages = 0;
  DocumentRecord record;
};

}  // namespace

std::string LotReport::ToJson() const {
  json docs = json::array();
  for (const DocumentOutcome& d : documents) {
    docs.push_back({{"id", d.id}, {"pdf", d.pdf_path}, {"pages", d.pages}, {"blank_pages", d.blank_pages},
                    {"skipped", d.skipped}, {"errors", d.errors}});
  }
  auto problems_json = [](const std::vector<LotProblem>& v) {
    json a = json::array();
    for (const LotProblem& p : v) a.push_back({{"where", p.where}, {"message", p.message}});
    return a;
  };
  json stage_json = json::object();
  for (const auto& [name, t] : stages) {
    stage_json[name] = {{"runs", t.runs}, {"ms_total", t.ms}, {"ms_mean", t.runs ? t.ms / t.runs : 0}};
  }
  json j = {{"lot", lot_id},
            {"output", lot_out_dir.string()},
            {"pages", {{"total", total_pages}, {"processed", processed_pages}, {"blank", blank_pages},
                       {"failed", failed_pages}, {"flagged", flagged_pages}}},
            {"documents", {{"ok", documents_ok}, {"failed", documents_failed}, {"skipped", documents_skipped},
                           {"list", docs}}},
            {"seconds", seconds},
            {"pages_per_minute", pages_per_minute},
            {"stages", stage_json},
            {"problems", problems_json(problems)},
            {"warnings", problems_json(warnings)}};
  return j.dump(2);
}

Result<LotReport> RunLot(const RunOptions& o, Store& store) {
  const Clock::time_point t0 = Clock::now();
  // Our workers are the parallelism: OpenCV's own thread pool would only
  // compete with them for the same cores.
  cv::setNumThreads(0);
  ACERVO_ASSIGN_OR_RETURN(LotPlan plan, PlanLot(o.lot_dir, PlanOptions{o.lot_id}));
  LotReport rep;
  rep.lot_id = plan.lot_id;
  rep.problems = plan.problems;
  rep.warnings = plan.warnings;
  rep.total_pages = plan.TotalPages();

  // Absolute paths in the store: a search from any folder must open the PDF.
  const fs::path lot_out = fs::absolute(o.out_dir).lexically_normal() / SafeFileName(plan.lot_id);
  const fs::path masters_dir = lot_out / "masters";
  const fs::path quarantine_dir = lot_out / "quarantine";
  rep.lot_out_dir = lot_out;
  std::error_code ec;
  fs::create_directories(masters_dir, ec);
  if (ec) return Status::IOError("cannot create " + masters_dir.string() + ": " + ec.message());
  // Leftovers of a run that was killed mid-write are never taken as output.
  ACERVO_RETURN_IF_ERROR(RemoveTempFiles(lot_out).status());

  LotRecord lot;
  lot.id = plan.lot_id;
  lot.project = plan.profile.project;
  lot.box = plan.profile.box;
  lot.operator_name = plan.profile.operator_name;
  lot.description = plan.profile.description;
  lot.profile_json = ProfileJson(plan.profile).dump();
  lot.started_at = NowIso();
  ACERVO_RETURN_IF_ERROR(store.UpsertLot(lot));

  // 1. Masters (and quarantine for inputs that cannot be read at all).
  std::vector<std::string> master_sha(plan.files.size()), master_path(plan.files.size());
  // Reasons why (a page of) an input file was quarantined, by file index.
  std::map<size_t, std::vector<std::string>> quarantine;
  for (size_t i = 0; i < plan.files.size(); ++i) {
    InputFile& f = plan.files[i];
    if (f.status.ok()) {
      fs::path dest = masters_dir / f.name;
      Result<std::string> sha = CopyFileOnce(f.path, dest);
      if (sha.ok()) {
        master_sha[i] = *sha;
        master_path[i] = dest.string();
        continue;
      }
      f.status = sha.status();
      rep.problems.push_back({f.name, "cannot keep master: " + sha.status().message()});
    }
    quarantine[i].push_back(f.status.ToString());
  }

  // 2. Which documents need work.
  std::vector<Job> jobs;
  std::vector<DocState> states(plan.documents.size());
  rep.documents.resize(plan.documents.size());
  for (size_t d = 0; d < plan.documents.size(); ++d) {
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
    if (!o.force) {
      Result<std::optional<DocumentRecord>> existing = store.GetDocument(plan.lot_id, doc.id);
      if (existing.ok() && existing->has_value()) {
        const DocumentRecord& r = **existing;
        bool same = r.pages.size() == doc.pages.size() && !r.pdf_path.empty();
        for (size_t k = 0; same && k < doc.pages.size(); ++k) {
          same = r.pages[k].master_sha256 == master_sha[doc.pages[k].file] &&
                 r.pages[k].page_in_file == doc.pages[k].page_in_file;
        }
        if (same) {
          Result<std::string> pdf_sha = Sha256OfFile(r.pdf_path);
          same = pdf_sha.ok() && *pdf_sha == r.pdf_sha256;
        }
        if (same) {
          out.skipped = true;
          out.pdf_path = r.pdf_path;
          out.pages = r.page_count;
          ++rep.documents_skipped;
          continue;
        }
      }
    }
    for (size_t k = 0; k < doc.pages.size(); ++k) jobs.push_back({d, k});
  }

  // 3. Pages through the stage chain, documents into PDFs and the store.
  Result<std::unique_ptr<PdfWriter>> writer_or = PdfWriter::Create(PdfOptions{});
  if (!writer_or.ok()) return writer_or.status();
  std::unique_ptr<PdfWriter> writer = std::move(writer_or).value();

  const LotProfile& profile = plan.profile;
  const std::string languages = o.languages;
  const WorkerFactory factory = [&](int) -> Result<PageJobFn> {
    ACERVO_ASSIGN_OR_RETURN(StageChain chain, BuildStageChain(profile, languages));
    auto shared = std::make_shared<StageChain>(std::move(chain));
    return PageJobFn([&, shared](size_t i) -> Result<Page> {
      const Job& job = jobs[i];
      const DocumentPlan& doc = plan.documents[job.doc];
      const PageRef& ref = doc.pages[job.page];
      const InputFile& f = plan.files[ref.file];
      Result<Page> loaded = LoadPage(master_path[ref.file], ref.page_in_file, f.name);
      if (!loaded.ok()) return loaded.status();
      Page page = std::move(loaded).value();
      page.origin.master_path = master_path[ref.file];
      page.origin.master_sha256 = master_sha[ref.file];
      page.origin.sequence = static_cast<int>(i) + 1;
      PageContext ctx;
      ctx.lot_id = plan.lot_id;
      ctx.document_id = doc.id;
      ctx.cancel = o.cancel;
      if (profile.page_deadline_s > 0) {
        ctx.deadline = Clock::now() + std::chrono::milliseconds(
                                          static_cast<int64_t>(profile.page_deadline_s * 1000));
      }
      return shared->Run(std::move(page), ctx);
    });
  };

  Progress progress(o.progress, plan.lot_id, static_cast<int>(jobs.size()));
  int delivered = 0;
  const DeliverFn deliver = [&](size_t i, Result<Page> result) {
    const Job& job = jobs[i];
    const DocumentPlan& doc = plan.documents[job.doc];
    DocState& st = states[job.doc];
    DocumentOutcome& out = rep.documents[job.doc];
    const PageRef& ref = doc.pages[job.page];
    ++delivered;
    if (job.page == 0) {
      st.record.lot_id = plan.lot_id;
      st.record.document_id = doc.id;
      st.record.document_type = doc.type;
      st.record.title = doc.title;
      for (const auto& [k, v] : doc.fields) st.record.fields.push_back({k, v});
    }
    if (!result.ok()) {
      const InputFile& f = plan.files[ref.file];
      std::string where = f.pages == 1 ? f.name : f.name + " page " + std::to_string(ref.page_in_file);
      rep.problems.push_back({where, result.status().message()});
      quarantine[ref.file].push_back("page " + std::to_string(ref.page_in_file) + ": " + result.status().ToString());
      out.errors.push_back(where + ": " + result.status().message());
      ++rep.failed_pages;
      if (st.begun) writer->Abort();
      st.failed = true;
    } else {
      Page page = std::move(result).value();
      ++rep.processed_pages;
      for (const StageRecord& s : page.history) {
        StageTotals& t = rep.stages[s.name];
        ++t.runs;
        t.ms += s.ms;
      }
      if (page.HasFlag("no_dpi") || page.HasFlag("implausible_dpi")) {
        rep.warnings.push_back({page.origin.Describe(), "resolution missing or implausible in the file; assumed " +
                                                            std::to_string(static_cast<int>(page.dpi_x)) + " dpi"});
      }
      PageRecord pr;
      pr.number = static_cast<int>(job.page) + 1;
      pr.source_path = page.origin.source_path;
      pr.page_in_file = page.origin.page_in_file;
      pr.master_path = page.origin.master_path;
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
      bool flagged = false;
      for (const std::string& f : page.flags) flagged |= f != "blank";
      if (flagged) ++rep.flagged_pages;
      if (page.blank) {
        ++rep.blank_pages;
        ++out.blank_pages;
        pr.in_pdf = false;
        pr.pdf_page = 0;
      } else if (!st.failed) {
        Status s;
        if (!st.begun) {
          PdfDocumentInfo info;
          info.title = doc.title.empty() ? doc.id : doc.title;
          info.author = profile.project;
          info.subject = doc.type;
          info.document_id = doc.id;
          info.lot_id = plan.lot_id;
          info.document_type = doc.type;
          info.fields = doc.fields;
          for (const PageRef& p : doc.pages) info.master_sha256.push_back(master_sha[p.file]);
          s = writer->Begin(lot_out / (doc.file_name + ".pdf"), info);
          st.begun = s.ok();
        }
        if (s.ok()) s = writer->AddPage(PdfPageInputFromPage(page));
        if (!s.ok()) {
          rep.problems.push_back({page.origin.Describe(), "PDF: " + s.ToString()});
          out.errors.push_back(page.origin.Describe() + ": PDF: " + s.message());
          writer->Abort();
          st.failed = true;
        } else {
          pr.in_pdf = true;
          pr.pdf_page = ++st.pdf_pages;
        }
      }
      st.record.pages.push_back(std::move(pr));
    }

    if (job.page + 1 == doc.pages.size()) {
      if (st.failed) {
        ++rep.documents_failed;
        rep.problems.push_back({"document " + doc.id, "not produced: a page failed (masters kept)"});
      } else if (st.pdf_pages == 0) {
        rep.warnings.push_back({"document " + doc.id, "every page is blank; no PDF made"});
        ++rep.documents_failed;
        out.errors.push_back("every page is blank");
      } else {
        Result<PdfResult> pdf = writer->End();
        if (!pdf.ok()) {
          ++rep.documents_failed;
          rep.problems.push_back({"document " + doc.id, "PDF: " + pdf.status().ToString()});
          out.errors.push_back("PDF: " + pdf.status().message());
        } else {
          st.record.pdf_path = pdf->path.string();
          st.record.pdf_sha256 = pdf->sha256;
          st.record.page_count = pdf->pages;
          // The row is committed only now that the PDF is complete on disk.
          Status s = store.PutDocument(st.record);
          if (!s.ok()) {
            ++rep.documents_failed;
            rep.problems.push_back({"document " + doc.id, "store: " + s.ToString()});
            out.errors.push_back("store: " + s.message());
          } else {
            ++rep.documents_ok;
            out.pdf_path = st.record.pdf_path;
            out.pages = pdf->pages;
          }
        }
      }
      st.record = DocumentRecord{};  // free the page texts
    }
    progress.Update(delivered);
  };

  ScheduleOptions sched;
  sched.workers = o.jobs > 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  sched.max_in_flight = static_cast<size_t>(sched.workers) * 4;
  sched.cancel = o.cancel;
  Status run = RunOrdered(jobs.size(), sched, factory, deliver);
  if (!run.ok() && run.code() != StatusCode::kCancelled) return run;
  if (!run.ok()) rep.problems.push_back({"lot " + plan.lot_id, run.ToString()});
  progress.Update(delivered, true);

  // Quarantine: a copy of each input that failed (whole or a page) with the
  // reasons beside it, so the morning shift finds them in one place. The
  // master, when there is one, stays where it is.
  for (const auto& [index, reasons] : quarantine) {
    const InputFile& f = plan.files[index];
    fs::path q = quarantine_dir / f.name;
    fs::create_directories(q.parent_path(), ec);
    Result<std::string> kept = CopyFileOnce(f.path, q);
    std::string text;
    for (const std::string& r : reasons) text += r + "\n";
    Status why = WriteFileAtomic(q.string() + ".reason.txt", text);
    if (!kept.ok() || !why.ok()) {
      rep.warnings.push_back({f.name, "could not copy to quarantine: " +
                                          (kept.ok() ? why.message() : kept.status().message())});
    }
  }

  rep.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  rep.pages_per_minute = rep.seconds > 0 ? rep.processed_pages / (rep.seconds / 60.0) : 0;
  lot.finished_at = NowIso();
  Status s = store.UpsertLot(lot);
  if (!s.ok()) rep.problems.push_back({"lot " + plan.lot_id, "store: " + s.ToString()});
  s = WriteFileAtomic(lot_out / "report.json", rep.ToJson());
  if (!s.ok()) rep.warnings.push_back({"report.json", s.ToString()});
  return rep;
}

}  // namespace acervo
