#include "queue_unit.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "acervo/core/clock.h"
#include "acervo/core/files.h"
#include "acervo/pipeline/chain_pool.h"
#include "acervo/pipeline/journal.h"
#include "acervo/pipeline/lot_passes.h"
#include "acervo/pipeline/queue_worker.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

UnitRun Failed(std::string error) {
  UnitRun r;
  r.outcome.failed = true;
  r.outcome.error = std::move(error);
  return r;
}

bool Cancelled(const UnitEnv& env) { return env.cancel != nullptr && env.cancel->load(); }

// True when an earlier claim of this very unit committed the document (its
// journal has the "document" record) and was stopped before it could say
// so: the document counts as made by this lot, not as found complete.
bool EarlierClaimCommitted(const fs::path& journals, const ClaimedUnit& u) {
  std::error_code ec;
  const std::string prefix = std::to_string(u.id) + "-";
  for (fs::directory_iterator it(journals, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) != 0) continue;
    Result<std::vector<uint8_t>> bytes = ReadFile(it->path());
    if (!bytes.ok()) continue;
    const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    if (text.find("\"t\":\"document\"") != std::string_view::npos) return true;
  }
  return false;
}

// The page ranges of the lot's documents: one document unit each, and for a
// document of more than `unit_pages` master pages, ranges of that many too.
std::vector<NewUnit> PlanUnits(const LotPlan& plan, int unit_pages) {
  std::vector<NewUnit> units;
  for (size_t d = 0; d < plan.documents.size(); ++d) {
    const DocumentPlan& doc = plan.documents[d];
    const int n = static_cast<int>(doc.pages.size());
    units.push_back({UnitKind::kDocument, static_cast<int>(d), doc.id, 0, n, n});
    if (unit_pages <= 0 || n <= unit_pages) continue;
    for (int first = 0; first < n; first += unit_pages) {
      const int end = std::min(n, first + unit_pages);
      units.push_back({UnitKind::kPages, static_cast<int>(d), doc.id, first, end, end - first});
    }
  }
  return units;
}

// Journals, relative to OUT/<lot>/: a lot-level unit's own file, and the
// folder of each document's units.
fs::path DocumentJournals(const DocumentPlan& doc) { return fs::path("journal") / "documents" / doc.file_name; }
fs::path OwnJournal(const ClaimedUnit& u, const fs::path& dir) {
  return dir / (std::to_string(u.id) + "-" + std::to_string(u.attempts) + ".jsonl");
}

// Every *.jsonl below OUT/<lot>/`dir`, relative to OUT/<lot>/, except `own`.
std::vector<fs::path> JournalsBelow(const fs::path& lot_out, const fs::path& dir, const fs::path& own) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(lot_out / dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".jsonl") continue;
    fs::path rel = it->path().lexically_relative(lot_out);
    if (rel != own) out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Strings of a report that name files below the shared root are stored
// relative to it (the machines mount it at different paths) and resolved
// again where they are read.
void RelativiseStrings(json& j, const std::string& root) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.size() > root.size() && s.compare(0, root.size(), root) == 0 && s[root.size()] == '/') {
      j = s.substr(root.size() + 1);
    }
  } else if (j.is_array() || j.is_object()) {
    for (json& v : j) RelativiseStrings(v, root);
  }
}

std::string RootString(const fs::path& shared_root) {
  std::string root = fs::absolute(shared_root).lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

json ProblemsJson(const std::vector<LotProblem>& v, size_t skip) {
  json a = json::array();
  for (size_t i = skip; i < v.size(); ++i) a.push_back({{"where", v[i].where}, {"message", v[i].message}});
  return a;
}

// What a document unit adds to its lot's report (the plan's own problems
// and warnings, which every unit's PlanPass repeats, left out).
std::string DocumentUnitReport(const LotContext& ctx, size_t d, const fs::path& shared_root) {
  const LotReport& r = ctx.report;
  const DocumentOutcome& o = r.documents[d];
  json stages = json::object();
  for (const auto& [name, t] : r.stages) stages[name] = {t.runs, t.ms};
  json j = {{"document", d},
            {"outcome", {{"id", o.id}, {"pdf", o.pdf_path}, {"pages", o.pages}, {"blank_pages", o.blank_pages},
                         {"skipped", o.skipped}, {"errors", o.errors}}},
            {"counts", {{"processed", r.processed_pages}, {"spreads_split", r.spreads_split},
                        {"blank", r.blank_pages}, {"failed", r.failed_pages}, {"flagged", r.flagged_pages},
                        {"resumed", r.resumed_pages}, {"ok", r.documents_ok}, {"documents_failed", r.documents_failed},
                        {"skipped", r.documents_skipped}}},
            {"problems", ProblemsJson(r.problems, ctx.plan.problems.size())},
            {"warnings", ProblemsJson(r.warnings, ctx.plan.warnings.size())},
            {"stages", stages},
            {"passes", r.passes}};
  RelativiseStrings(j, RootString(shared_root));
  return Dump(j);
}

std::string PagesUnitReport(const LotReport& r, int computed) {
  return Dump(json{{"computed", computed}, {"passes", r.passes}});
}

// Adds a unit's report (DocumentUnitReport / PagesUnitReport) to the lot's.
// Returns the pages the unit computed (pages units) for the resumed count.
int MergeUnitReport(LotReport& rep, const UnitRecord& u, const fs::path& shared_root) {
  const json j = json::parse(u.report_json, nullptr, false);
  if (!j.is_object()) return 0;
  const json passes = j.value("passes", json::object());  // items() needs a live object
  for (const auto& [pass, seconds] : passes.items()) {
    if (seconds.is_number()) rep.passes[pass] += seconds.get<double>();
  }
  if (u.kind == UnitKind::kPages) return j.value("computed", 0);
  const size_t d = j.value("document", static_cast<size_t>(-1));
  if (d >= rep.documents.size()) return 0;
  const json& o = j["outcome"];
  DocumentOutcome& out = rep.documents[d];
  out.id = o.value("id", "");
  const std::string pdf = o.value("pdf", "");
  out.pdf_path = pdf.empty() || pdf[0] == '/' ? pdf : (shared_root / pdf).string();
  out.pages = o.value("pages", 0);
  out.blank_pages = o.value("blank_pages", 0);
  out.skipped = o.value("skipped", false);
  out.errors = o.value("errors", std::vector<std::string>{});
  const json& c = j["counts"];
  rep.processed_pages += c.value("processed", 0);
  rep.spreads_split += c.value("spreads_split", 0);
  rep.blank_pages += c.value("blank", 0);
  rep.failed_pages += c.value("failed", 0);
  rep.flagged_pages += c.value("flagged", 0);
  rep.resumed_pages += c.value("resumed", 0);
  rep.documents_ok += c.value("ok", 0);
  rep.documents_failed += c.value("documents_failed", 0);
  rep.documents_skipped += c.value("skipped", 0);
  for (const char* kind : {"problems", "warnings"}) {
    std::vector<LotProblem>& into = kind[0] == 'p' ? rep.problems : rep.warnings;
    const json list = j.value(kind, json::array());
    for (const json& p : list) into.push_back({p.value("where", ""), p.value("message", "")});
  }
  const json stages = j.value("stages", json::object());
  for (const auto& [name, t] : stages.items()) {
    if (!t.is_array() || t.size() != 2) continue;
    rep.stages[name].runs += t[0].get<int>();
    rep.stages[name].ms += t[1].get<double>();
  }
  return 0;
}

// finalise: the units' reports merged into this context's report, then
// FinaliseLot over every journal of the lot.
UnitRun Finalise(LotContext& ctx, const ClaimedUnit& unit, const UnitEnv& env) {
  Result<std::vector<UnitRecord>> units = env.queue->LotUnits(unit.lot);
  if (!units.ok()) return Failed(units.status().ToString());
  LotReport& rep = ctx.report;
  int computed_by_ranges = 0;
  for (const UnitRecord& u : *units) {
    if (u.kind == UnitKind::kPlan || u.kind == UnitKind::kFinalise) continue;
    if (!u.report_json.empty()) {
      computed_by_ranges += MergeUnitReport(rep, u, env.shared_root);
      continue;
    }
    if (u.state != "failed") continue;
    // A unit that failed without running to its end (its workers died, the
    // lot folder vanished...).
    if (u.kind == UnitKind::kDocument) {
      if (u.document_index >= 0 && static_cast<size_t>(u.document_index) < rep.documents.size()) {
        DocumentOutcome& out = rep.documents[static_cast<size_t>(u.document_index)];
        out.id = u.document_id;
        out.errors.push_back(u.error);
      }
      ++rep.documents_failed;
      rep.problems.push_back({"document " + u.document_id, u.error});
    } else {
      rep.warnings.push_back({"document " + u.document_id + " pages " + std::to_string(u.first_page + 1) + "-" +
                                  std::to_string(u.end_page),
                              u.error});
    }
  }
  // Pages of a document that came back from the checkpoints of its page
  // ranges were not resumed from an interrupted run.
  rep.resumed_pages = std::max(0, rep.resumed_pages - computed_by_ranges);
  ctx.resumed = rep.resumed_pages;  // FinaliseLot reports ctx.resumed
  // Inputs refused by any unit, with their reasons, for the quarantine copies.
  for (const JournalQuarantine& q : ctx.journal->Quarantined()) {
    for (size_t i = 0; i < ctx.plan.files.size(); ++i) {
      if (ctx.plan.files[i].name != q.file) continue;
      ctx.quarantine[i].push_back(q.page == 0 ? q.reason : "page " + std::to_string(q.page) + ": " + q.reason);
    }
  }
  Result<std::string> fingerprint = LotFingerprint(ctx.options.lot_dir);
  if (fingerprint.ok() && !unit.fingerprint.empty() && *fingerprint != unit.fingerprint) {
    rep.warnings.push_back({"lot " + ctx.plan.lot_id, "the lot folder changed while the lot was processed (files added, "
                                                      "removed or rewritten); queue it again to take the changes in"});
  }
  FinaliseLot(ctx);
  UnitRun run;
  json report = json::parse(rep.ToJson(), nullptr, false);
  RelativiseStrings(report, RootString(env.shared_root));
  run.outcome.report_json = Dump(report);
  return run;
}

}  // namespace

std::shared_ptr<const LotPlan> PlanCache::Get(int64_t lot) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = plans_.find(lot);
  return it == plans_.end() ? nullptr : it->second;
}

void PlanCache::Put(int64_t lot, std::shared_ptr<const LotPlan> plan) {
  std::lock_guard<std::mutex> lock(mu_);
  plans_[lot] = std::move(plan);
  while (plans_.size() > 8) plans_.erase(plans_.begin());  // queue lot ids grow: the oldest go
}

namespace {

// What `acervo run` would be given for this unit's lot, from the options
// queued with it.
RunOptions UnitRunOptions(const QueuedLotOptions& lo, const ClaimedUnit& u, const UnitEnv& env) {
  RunOptions o;
  o.lot_dir = ResolveQueuedPath(env.shared_root, u.lot_dir);
  o.out_dir = env.shared_root;
  o.jobs = 1;  // the worker's parallelism is its units
  o.languages = lo.languages;
  o.lot_id = lo.lot_id;
  o.progress = false;
  o.force = lo.force;
  o.hocr = lo.hocr;
  o.alto = lo.alto;
  o.text = lo.text;
  o.cancel = env.cancel;
  return o;
}

// How the unit opens the lot's outputs: its own journal, the journals it
// reads, and (for the plan) a check that inputs and outputs do not overlap.
Result<OutputOpening> UnitOutputOpening(const LotContext& ctx, const ClaimedUnit& u, const UnitEnv& env, size_t d) {
  const LotPlan& plan = ctx.plan;
  const bool whole_lot = u.kind == UnitKind::kPlan || u.kind == UnitKind::kFinalise;
  OutputOpening how;
  how.started_at = u.lot_started_at;
  // Other machines write in this lot's folder now; the finaliser runs when
  // every unit has finished and removes what dead ones left.
  how.remove_leftovers = u.kind == UnitKind::kFinalise;
  how.shared_lock = true;  // beside each other, never beside `acervo run` of the lot
  how.journal = whole_lot ? OwnJournal(u, "journal") : OwnJournal(u, DocumentJournals(plan.documents[d]));
  const fs::path lot_out = fs::absolute(env.shared_root).lexically_normal() / SafeFileName(plan.lot_id);
  if (u.kind == UnitKind::kPlan) {
    // The lot's outputs must not land inside its inputs (the next plan
    // would take them for pages), nor the inputs inside the outputs.
    const fs::path in = fs::absolute(ctx.options.lot_dir).lexically_normal();
    const auto inside = [](const fs::path& a, const fs::path& b) {
      const std::string rel = a.lexically_relative(b).string();
      return !rel.empty() && rel.rfind("..", 0) != 0;
    };
    if (inside(in, lot_out) || inside(lot_out, in)) {
      return Status::InvalidArgument(
          "the lot folder " + in.string() + " and its output folder " + lot_out.string() +
          " overlap; keep lots handed over to the queue in a folder of their own (e.g. <shared root>/inbox/)");
    }
  } else if (u.kind == UnitKind::kFinalise) {
    how.read_journals = JournalsBelow(lot_out, "journal", how.journal);
    how.read_journals.push_back("journal.jsonl");  // an earlier `acervo run` of the lot
  } else {
    how.read_journals = JournalsBelow(lot_out, DocumentJournals(plan.documents[d]), how.journal);
  }
  return how;
}

// The plan unit: what every unit will need, checked once before any is
// queued: the PDF settings (a signing password, a key) and the OCR engine,
// whose chain then waits in the pool for this worker's next unit.
UnitRun RunPlanUnit(LotContext& ctx, const QueuedLotOptions& lo, const UnitEnv& env) {
  const LotPlan& plan = ctx.plan;
  Status s = OpenDocumentWriter(ctx);
  if (s.ok()) {
    Result<std::shared_ptr<StageChain>> chain = env.chains->Take(
        ctx.profile_signature, [&] { return BuildStageChain(plan.profile, ctx.options.languages); });
    s = chain.status();
  }
  if (!s.ok()) return Failed("cannot run: " + s.ToString());
  UnitRun run;
  run.outcome.units = PlanUnits(plan, lo.unit_pages);
  run.outcome.lot_id = plan.lot_id;
  Result<std::string> fingerprint = LotFingerprint(ctx.options.lot_dir);
  if (fingerprint.ok()) run.outcome.fingerprint = *fingerprint;
  return run;
}

// A pages unit: its pages OCRed and checkpointed for the document unit.
UnitRun RunPagesUnit(LotContext& ctx, const ClaimedUnit& u, const UnitEnv& env, size_t d) {
  const std::vector<LotUnit> units = {{d, static_cast<size_t>(u.first_page), static_cast<size_t>(u.end_page)}};
  KeepMasters(ctx, FilesOf(ctx, units));
  const std::vector<PageJob> jobs = BuildWorkList(ctx, units);
  size_t made = 0;  // pages now checkpointed (a failed one is the document unit's to report)
  Status s = ProcessPages(ctx, jobs, [&made](const PageJob&, Result<JobPages> pages) { made += pages.ok() ? 1 : 0; });
  if (!s.ok()) return Failed(s.ToString());
  UnitRun run;
  run.interrupted = Cancelled(env) && made < jobs.size();
  run.outcome.pages_computed = std::max(0, static_cast<int>(jobs.size()) - ctx.resumed.load());
  run.outcome.report_json = PagesUnitReport(ctx.report, run.outcome.pages_computed);
  return run;
}

// A document unit: the document's pages (checkpoints of its pages units
// reused), its PDF published under the claim, its row stored.
UnitRun RunDocumentUnit(LotContext& ctx, const ClaimedUnit& u, const UnitEnv& env, size_t d) {
  const std::vector<LotUnit> units = {{d}};
  // Published only while this claim still holds the unit (a worker frozen
  // past its lease must not rename over its successor's PDF).
  ctx.hold_claim = [&env, &u] { return env.queue->HoldClaim(u); };
  KeepMasters(ctx, FilesOf(ctx, units));
  const std::vector<PageJob> jobs = BuildWorkList(ctx, units);
  Status s = OpenDocumentWriter(ctx);
  if (s.ok()) {
    s = ProcessPages(ctx, jobs, [&ctx](const PageJob& job, Result<JobPages> pages) {
      AddToDocument(ctx, job, std::move(pages));
    });
  }
  if (!s.ok()) return Failed(s.ToString());
  LotReport& rep = ctx.report;
  DocumentOutcome& doc = rep.documents[d];
  UnitRun run;
  // Stopped before its document was stored: back to the queue (its
  // finished pages stay as checkpoints for the next claim).
  run.interrupted = Cancelled(env) && rep.documents_ok == 0 && rep.documents_skipped == 0;
  if (doc.skipped && EarlierClaimCommitted(ctx.lot_out / DocumentJournals(ctx.plan.documents[d]), u)) {
    doc.skipped = false;
    --rep.documents_skipped;
    ++rep.documents_ok;
  }
  rep.resumed_pages = ctx.resumed.load();
  for (const LotProblem& p : ctx.journal_errors) rep.problems.push_back(p);
  UnitOutcome& out = run.outcome;
  out.pages_computed = std::max(0, rep.processed_pages - rep.resumed_pages);
  out.report_json = DocumentUnitReport(ctx, d, env.shared_root);
  if (!doc.errors.empty() || rep.documents_failed > 0) {
    out.failed = true;
    for (const std::string& e : doc.errors) out.error += (out.error.empty() ? "" : "; ") + e;
    if (out.error.empty()) out.error = "document " + doc.id + " was not produced (see the lot report)";
  }
  return run;
}

}  // namespace

UnitRun RunUnit(const ClaimedUnit& u, const UnitEnv& env) {
  Result<QueuedLotOptions> lo = ParseQueuedLotOptions(u.options_json);
  if (!lo.ok()) return Failed("queued options: " + lo.status().ToString());
  const RunOptions o = UnitRunOptions(*lo, u, env);
  LotContext ctx(o, env.store);
  ctx.chains = env.chains;
  if (std::optional<int64_t> t0 = UnixSecondsOfIso8601(u.lot_started_at)) {
    // Lot-wide times (the finalised report's seconds) count from the lot's start.
    const auto since = std::chrono::system_clock::now() - std::chrono::system_clock::from_time_t(*t0);
    ctx.started = std::chrono::steady_clock::now() - std::chrono::duration_cast<std::chrono::steady_clock::duration>(since);
  }

  // The lot's plan: made once per lot and worker, made again by the plan unit.
  std::shared_ptr<const LotPlan> cached = u.kind == UnitKind::kPlan ? nullptr : env.plans->Get(u.lot);
  if (!cached) {
    Result<LotPlan> planned = PlanLot(o.lot_dir, PlanOptions{o.lot_id});
    if (!planned.ok()) return Failed(o.lot_dir.string() + ": " + planned.status().ToString());
    cached = std::make_shared<const LotPlan>(std::move(planned).value());
    env.plans->Put(u.lot, cached);
  }
  if (Status s = PlanPass(ctx, cached.get()); !s.ok()) return Failed(s.ToString());
  const LotPlan& plan = ctx.plan;
  const bool whole_lot = u.kind == UnitKind::kPlan || u.kind == UnitKind::kFinalise;
  if (!whole_lot && (u.document_index < 0 || static_cast<size_t>(u.document_index) >= plan.documents.size() ||
                     plan.documents[static_cast<size_t>(u.document_index)].id != u.document_id)) {
    return Failed("document " + u.document_id + " is no longer where the plan put it in " + o.lot_dir.string() +
                  " (the lot folder changed); queue the lot again");
  }
  const size_t d = whole_lot ? 0 : static_cast<size_t>(u.document_index);
  Result<OutputOpening> how = UnitOutputOpening(ctx, u, env, d);
  if (!how.ok()) return Failed(how.status().message());
  if (Status s = OpenOutputPass(ctx, *how); !s.ok()) return Failed(s.ToString());

  switch (u.kind) {
    case UnitKind::kPlan: return RunPlanUnit(ctx, *lo, env);
    case UnitKind::kPages: return RunPagesUnit(ctx, u, env, d);
    case UnitKind::kDocument: return RunDocumentUnit(ctx, u, env, d);
    case UnitKind::kFinalise: return Finalise(ctx, u, env);
  }
  return Failed("unknown unit kind");
}

}  // namespace acervo
