// The lot runner: the passes of lot_passes.h, top to bottom, for every file
// and document of the lot.
#include "acervo/pipeline/lot_runner.h"

#include <memory>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "acervo/pipeline/lot_passes.h"
#include "acervo/pipeline/review.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace acervo {
namespace {
using json = nlohmann::json;

std::string Dump(const json& j, int indent = -1) {
  // Names and OCR text may hold bytes that are not UTF-8: never throw on them.
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace

json FlaggedPageJson(const FlaggedPage& f) {
  return {{"document", f.document_id}, {"page", f.number}, {"part", f.part}, {"file", f.source},
          {"page_in_file", f.page_in_file}, {"flags", f.flags}, {"confidence", f.mean_confidence},
          {"skew_deg", f.skew_deg}, {"orientation_deg", f.orientation_deg}, {"thumbnail", f.thumbnail},
          {"preview", f.preview}, {"master", f.master}, {"pdf_page", f.pdf_page}, {"replaced", f.replaced}};
}

std::string LotReport::ToJson() const {
  json docs = json::array();
  for (const DocumentOutcome& d : documents) {
    docs.push_back({{"id", d.id}, {"pdf", d.pdf_path}, {"pages", d.pages}, {"blank_pages", d.blank_pages},
                    {"skipped", d.skipped}, {"corrected", d.corrected}, {"errors", d.errors}});
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
  json flagged_json = json::array();
  for (const FlaggedPage& f : flagged) flagged_json.push_back(FlaggedPageJson(f));
  json separators_json = json::array();
  for (const Separator& s : separators) {
    separators_json.push_back({{"file", s.file}, {"page_in_file", s.page_in_file}, {"kind", s.kind},
                               {"payload", s.payload}});
  }
  json quarantined_json = json::array();
  for (const QuarantinedInput& q : quarantined) {
    quarantined_json.push_back({{"file", q.file}, {"page", q.page}, {"reason", q.reason}, {"copy", q.copy}});
  }
  json j = {{"lot", lot_id},
            {"output", lot_out_dir.string()},
            {"pages", {{"total", total_pages}, {"processed", processed_pages}, {"spreads_split", spreads_split},
                       {"blank", blank_pages},
                       {"failed", failed_pages}, {"flagged", flagged_pages}, {"resumed", resumed_pages}}},
            {"documents", {{"ok", documents_ok}, {"failed", documents_failed}, {"skipped", documents_skipped},
                           {"list", docs}}},
            {"workers", workers},
            {"seconds", seconds},
            {"pages_per_minute", pages_per_minute},
            {"stages", stage_json},
            {"passes", passes},
            {"problems", problems_json(problems)},
            {"warnings", problems_json(warnings)},
            {"review", ReviewJson(review, &review_pdf_pages)},
            {"separators", separators_json},
            {"flagged", flagged_json},
            {"quarantined", quarantined_json}};
  return Dump(j, 2);
}

Result<LotReport> RunLot(const RunOptions& options, const StoreOpener& open_store) {
  // Our workers are the parallelism: OpenCV's own thread pool would only
  // compete with them for the same cores.
  cv::setNumThreads(0);
  LotContext ctx(options, nullptr);
  ACERVO_RETURN_IF_ERROR(PlanPass(ctx));
  ACERVO_RETURN_IF_ERROR(CheckRunnablePass(ctx));
  ACERVO_ASSIGN_OR_RETURN(ctx.store, open_store());
  ACERVO_RETURN_IF_ERROR(OpenOutputPass(ctx));
  KeepMasters(ctx, AllFiles(ctx));
  const std::vector<PageJob> jobs = BuildWorkList(ctx, AllDocuments(ctx));
  ACERVO_RETURN_IF_ERROR(ProcessPages(ctx, jobs, [&ctx](const PageJob& job, Result<JobPages> pages) {
    AddToDocument(ctx, job, std::move(pages));
  }));
  FinaliseLot(ctx);
  return std::move(ctx.report);
}

Result<LotReport> RunLot(const RunOptions& options, Store& store) {
  return RunLot(options, [&store]() -> Result<Store*> { return &store; });
}

}  // namespace acervo
