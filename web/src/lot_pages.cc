// The lots view (operators and admins): every lot the user may open with
// its documents, pages, blank and flagged pages, and from the lot's
// report.json its failed pages and quarantined inputs; one lot's report;
// and the morning reports of `acervo batch` (--reports DIR).
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "internal.h"

namespace acervo::web {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// A JSON file (at most 64 MiB), or a discarded value.
json ReadJson(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > (64u << 20)) return json::value_t::discarded;
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, false);
}

// The lot's report.json, found beside its PDFs.
json LotReport(RouteContext& ctx, const std::string& lot) {
  SearchRequest r;
  r.lot = lot;
  r.limit = 1;
  Result<std::vector<SearchHit>> hits = ctx.store().Search(r);
  if (!hits.ok() || hits->empty() || hits->front().pdf_path.empty()) return json::value_t::discarded;
  const fs::path pdf = ctx.services().ResolvePath(ctx.store(), lot, hits->front().pdf_path);
  return ReadJson(pdf.parent_path() / "report.json");
}

int64_t Num(const json& j, std::initializer_list<const char*> path) {
  const json* at = &j;
  for (const char* k : path) {
    if (!at->is_object() || !at->contains(k)) return 0;
    at = &(*at)[k];
  }
  return at->is_number() ? at->get<int64_t>() : 0;
}

std::string Str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string ProblemTable(const RouteContext& ctx, const json& list, const char* id) {
  if (!list.is_array() || list.empty()) return "";
  std::string h = "<table id=\"" + std::string(id) + "\"><tr><th>" + Html(T(ctx.lang(), "where")) + "</th><th>" +
                  Html(T(ctx.lang(), "message")) + "</th></tr>";
  for (const json& p : list) {
    h += "<tr><td>" + Html(ForUser(ctx, Str(p, "where"))) + "</td><td>" + Html(ForUser(ctx, Str(p, "message"))) +
         "</td></tr>";
  }
  return h + "</table>";
}

HttpResponse LotsPage(RouteContext& ctx) {
  const Lang lang = ctx.lang();
  Result<std::vector<LotSummary>> lots = ctx.store().LotSummaries();
  if (!lots.ok()) return ErrorPage(ctx, 500, T(lang, "err_internal"));
  std::string h = "<h1>" + Html(T(lang, "lots_title")) + "</h1><table id=\"lots\"><tr><th>" + Html(T(lang, "lot")) +
                  "</th><th>" + Html(T(lang, "project")) + "</th><th>" + Html(T(lang, "box")) + "</th><th class=\"num\">" +
                  Html(T(lang, "documents")) + "</th><th class=\"num\">" + Html(T(lang, "pages")) +
                  "</th><th class=\"num\">" + Html(T(lang, "blank")) + "</th><th class=\"num\">" +
                  Html(T(lang, "flagged")) + "</th><th class=\"num\">" + Html(T(lang, "failed")) +
                  "</th><th class=\"num\">" + Html(T(lang, "quarantined")) + "</th><th>" + Html(T(lang, "started")) +
                  "</th><th>" + Html(T(lang, "finished")) + "</th></tr>";
  for (const LotSummary& l : *lots) {
    if (!ctx.user()->MayOpenLot(l.lot.id)) continue;
    const json report = LotReport(ctx, l.lot.id);
    const int64_t quarantined = report.is_object() && report.contains("quarantined") && report["quarantined"].is_array()
                                    ? static_cast<int64_t>(report["quarantined"].size())
                                    : 0;
    h += "<tr><td><a href=\"/lots/" + Html(UrlEncode(l.lot.id)) + "\">" + Html(l.lot.id) + "</a></td><td>" +
         Html(l.lot.project) + "</td><td>" + Html(l.lot.box) + "</td><td class=\"num\">" +
         FormatCount(l.documents, lang) + "</td><td class=\"num\">" + FormatCount(l.pages, lang) +
         "</td><td class=\"num\">" + FormatCount(l.blank_pages, lang) + "</td><td class=\"num\">" +
         FormatCount(l.flagged_pages, lang) + "</td><td class=\"num\">" +
         FormatCount(Num(report, {"pages", "failed"}), lang) + "</td><td class=\"num\">" +
         FormatCount(quarantined, lang) + "</td><td>" + Html(l.lot.started_at) + "</td><td>" +
         Html(l.lot.finished_at) + "</td></tr>";
  }
  h += "</table>";
  return HttpResponse::Html(Layout(ctx, T(lang, "lots_title"), h));
}

HttpResponse LotPage(RouteContext& ctx) {
  const Lang lang = ctx.lang();
  const std::string& lot = ctx.Capture("lot");
  if (!ctx.user()->MayOpenLot(lot)) {
    ctx.Audit("denied", lot, "lot not granted to the user", true);
    return ErrorPage(ctx, 404, T(lang, "err_not_found"));
  }
  Result<std::vector<LotSummary>> lots = ctx.store().LotSummaries();
  if (!lots.ok()) return ErrorPage(ctx, 500, T(lang, "err_internal"));
  const LotSummary* l = nullptr;
  for (const LotSummary& s : *lots) {
    if (s.lot.id == lot) l = &s;
  }
  if (l == nullptr) return ErrorPage(ctx, 404, T(lang, "err_not_found"));
  ctx.Audit("view_lot", lot, "", /*wait=*/false);
  const json report = LotReport(ctx, lot);
  std::string h = "<h1>" + Html(T(lang, "lot")) + " " + Html(lot) + "</h1><section class=\"panel\"><p>" +
                  Html(T(lang, "project")) + ": " + Html(l->lot.project) + " · " + Html(T(lang, "box")) + ": " +
                  Html(l->lot.box) + " · " + Html(T(lang, "operator")) + ": " + Html(l->lot.operator_name) + "</p><p>" +
                  FormatCount(l->documents, lang) + " " + Html(T(lang, "documents")) + " · " +
                  FormatCount(l->pages, lang) + " " + Html(T(lang, "pages")) + " · " + Html(T(lang, "flagged")) + ": " +
                  FormatCount(l->flagged_pages, lang) + "</p><p><a href=\"/search?lot=" + Html(UrlEncode(lot)) + "\">" +
                  Html(T(lang, "nav_search")) + " →</a></p></section>";
  if (!report.is_object()) {
    h += "<p class=\"note\">" + Html(T(lang, "report_missing")) + "</p>";
  } else {
    h += "<section class=\"panel\"><p>" + Html(T(lang, "pages")) + ": " +
         FormatCount(Num(report, {"pages", "total"}), lang) + " · " + Html(T(lang, "failed")) + ": " +
         FormatCount(Num(report, {"pages", "failed"}), lang) + " · " + Html(T(lang, "flagged")) + ": " +
         FormatCount(Num(report, {"pages", "flagged"}), lang) + " · " + Html(T(lang, "blank")) + ": " +
         FormatCount(Num(report, {"pages", "blank"}), lang) + "</p></section>";
    if (report.contains("problems") && !report["problems"].empty()) {
      h += "<h2>" + Html(T(lang, "problems")) + "</h2>" + ProblemTable(ctx, report["problems"], "problems");
    }
    if (report.contains("warnings") && !report["warnings"].empty()) {
      h += "<h2>" + Html(T(lang, "warnings")) + "</h2>" + ProblemTable(ctx, report["warnings"], "warnings");
    }
    if (report.contains("flagged") && report["flagged"].is_array() && !report["flagged"].empty()) {
      h += "<h2>" + Html(T(lang, "flagged")) + "</h2><table id=\"flagged\"><tr><th>" + Html(T(lang, "document")) +
           "</th><th>" + Html(T(lang, "page")) + "</th><th>" + Html(T(lang, "flags")) + "</th></tr>";
      for (const json& f : report["flagged"]) {
        std::string flags;
        if (f.contains("flags") && f["flags"].is_array()) {
          for (const json& x : f["flags"]) flags += (x.is_string() ? x.get<std::string>() : "") + " ";
        }
        const std::string doc = Str(f, "document");
        const int page = static_cast<int>(Num(f, {"page"}));
        h += "<tr><td><a href=\"" + Html(DocUrl(lot, doc)) + "\">" + Html(doc) + "</a></td><td>" + std::to_string(page) +
             "</td><td><code>" + Html(flags) + "</code></td></tr>";
      }
      h += "</table>";
    }
    if (report.contains("quarantined") && report["quarantined"].is_array() && !report["quarantined"].empty()) {
      h += "<h2>" + Html(T(lang, "quarantined")) + "</h2><table id=\"quarantined\"><tr><th>" + Html(T(lang, "where")) +
           "</th><th>" + Html(T(lang, "message")) + "</th></tr>";
      for (const json& q : report["quarantined"]) {
        h += "<tr><td>" + Html(Str(q, "file")) + "</td><td>" + Html(Str(q, "reason")) + "</td></tr>";
      }
      h += "</table>";
    }
  }
  return HttpResponse::Html(Layout(ctx, T(lang, "lot") + std::string(" ") + lot, h));
}

// The morning reports: report.json of `acervo batch` in the folders given.
std::vector<fs::path> FindReports(const ServerOptions& o) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const fs::path& dir : o.report_dirs) {
    if (fs::is_regular_file(dir / "report.json", ec)) out.push_back(dir / "report.json");
    if (!fs::is_directory(dir, ec)) continue;
    for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
      if (e.is_directory(ec) && fs::is_regular_file(e.path() / "report.json", ec)) {
        out.push_back(e.path() / "report.json");
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool IsBatchReport(const json& j) { return j.is_object() && j.contains("batch") && j["batch"].is_object(); }

HttpResponse ReportsPage(RouteContext& ctx) {
  const Lang lang = ctx.lang();
  std::string h = "<h1>" + Html(T(lang, "nav_reports")) + "</h1>";
  const std::vector<fs::path> reports = FindReports(ctx.services().options());
  int shown = 0;
  h += "<table id=\"reports\"><tr><th>#</th><th>" + Html(T(lang, "started")) + "</th><th>" + Html(T(lang, "finished")) +
       "</th><th class=\"num\">" + Html(T(lang, "documents")) + "</th><th class=\"num\">" + Html(T(lang, "pages")) +
       "</th><th class=\"num\">" + Html(T(lang, "failed")) + "</th></tr>";
  for (size_t i = 0; i < reports.size(); ++i) {
    const json j = ReadJson(reports[i]);
    if (!IsBatchReport(j)) continue;
    ++shown;
    h += "<tr><td><a href=\"/reports/" + std::to_string(i + 1) + "\">" + std::to_string(i + 1) + "</a></td><td>" +
         Html(Str(j["batch"], "started_at")) + "</td><td>" + Html(Str(j["batch"], "finished_at")) +
         "</td><td class=\"num\">" + FormatCount(Num(j, {"documents", "ok"}), lang) + "</td><td class=\"num\">" +
         FormatCount(Num(j, {"pages", "processed"}), lang) + "</td><td class=\"num\">" +
         FormatCount(Num(j, {"pages", "failed"}) + Num(j, {"documents", "failed"}), lang) + "</td></tr>";
  }
  h += "</table>";
  if (shown == 0) h += "<p class=\"note\">" + Html(T(lang, "no_reports")) + "</p>";
  return HttpResponse::Html(Layout(ctx, T(lang, "nav_reports"), h));
}

HttpResponse ReportPage(RouteContext& ctx) {
  const Lang lang = ctx.lang();
  const std::string& n = ctx.Capture("n");
  const std::vector<fs::path> reports = FindReports(ctx.services().options());
  if (n.empty() || n.size() > 6 || n.find_first_not_of("0123456789") != std::string::npos) {
    return ErrorPage(ctx, 404, T(lang, "err_not_found"));
  }
  const size_t i = std::stoul(n);
  if (i < 1 || i > reports.size()) return ErrorPage(ctx, 404, T(lang, "err_not_found"));
  const json j = ReadJson(reports[i - 1]);
  if (!IsBatchReport(j)) return ErrorPage(ctx, 404, T(lang, "err_not_found"));
  std::string h = "<h1>" + Html(T(lang, "nav_reports")) + " #" + std::to_string(i) + "</h1><section class=\"panel\"><p>" +
                  Html(Str(j["batch"], "started_at")) + " → " + Html(Str(j["batch"], "finished_at")) + "</p><p>" +
                  Html(T(lang, "documents")) + ": " + FormatCount(Num(j, {"documents", "ok"}), lang) + " · " +
                  Html(T(lang, "failed")) + ": " + FormatCount(Num(j, {"documents", "failed"}), lang) + " · " +
                  Html(T(lang, "pages")) + ": " + FormatCount(Num(j, {"pages", "processed"}), lang) + " · " +
                  Html(T(lang, "flagged")) + ": " + FormatCount(Num(j, {"pages", "flagged"}), lang) + " · " +
                  Html(T(lang, "quarantined")) + ": " + FormatCount(Num(j, {"pages", "quarantined_inputs"}), lang) +
                  "</p></section>";
  if (j.contains("lots") && j["lots"].contains("list") && j["lots"]["list"].is_array()) {
    h += "<h2>" + Html(T(lang, "lots_title")) + "</h2><table id=\"report-lots\"><tr><th>" + Html(T(lang, "lot")) +
         "</th><th>" + Html(T(lang, "state")) + "</th><th>" + Html(T(lang, "message")) + "</th></tr>";
    for (const json& l : j["lots"]["list"]) {
      const std::string folder = Str(l, "folder");
      h += "<tr><td>" + Html(folder) + "</td><td>" + Html(Str(l, "state")) + "</td><td>" + Html(Str(l, "error")) +
           "</td></tr>";
    }
    h += "</table>";
  }
  if (j.contains("errors")) h += "<h2>" + Html(T(lang, "problems")) + "</h2>" + ProblemTable(ctx, j["errors"], "errors");
  return HttpResponse::Html(Layout(ctx, T(lang, "nav_reports"), h));
}

class LotPages final : public PageModule {
 public:
  void Register(Router& r) override {
    r.Get("/lots", Access::kOperator, LotsPage);
    r.Get("/lots/{lot}", Access::kOperator, LotPage);
    r.Get("/reports", Access::kOperator, ReportsPage);
    r.Get("/reports/{n}", Access::kOperator, ReportPage);
  }
};

}  // namespace

std::shared_ptr<PageModule> NewLotPages() { return std::make_shared<LotPages>(); }

}  // namespace acervo::web
