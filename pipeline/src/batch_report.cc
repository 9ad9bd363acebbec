// The morning report of a batch: JSON for machines, one self-contained HTML
// page for people. Both are built from the same JSON document so they can
// never disagree; thumbnails are inlined (data: URIs) so the page can be
// mailed or copied alone and never shows a broken image.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/core/text.h"
#include "acervo/pipeline/batch.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Dump(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

// HTML text and attribute values: the one escaper (core/text.h).
std::string Escape(std::string_view s) { return XmlText(s); }

std::string Base64(const std::vector<uint8_t>& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = uint32_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint32_t(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= in[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// The JSON document both outputs come from.
json BuildJson(const BatchReport& r) {
  json lots = json::array();
  json errors = json::array();
  json stages = json::object();
  int documents_ok = 0, documents_failed = 0, documents_skipped = 0;
  int pages_total = 0, pages_processed = 0, pages_blank = 0, pages_failed = 0, pages_flagged = 0, pages_resumed = 0;
  int quarantined = 0;
  for (const BatchLot& l : r.lots) {
    json rep = l.report_json.empty() ? json::object() : json::parse(l.report_json, nullptr, false);
    // A lot is its queue folder and its lot id (the profile's, which names
    // its output folder): both, everywhere.
    const std::string lot_id = rep.is_object() ? rep.value("lot", l.folder) : l.folder;
    const std::string output = rep.is_object() ? rep.value("output", "") : "";
    json lot = {{"folder", l.folder}, {"lot", lot_id}, {"output", output}, {"state", BatchLotStateName(l.state)},
                {"error", l.error}};
    if (!l.error.empty()) {
      errors.push_back({{"lot", lot_id}, {"folder", l.folder}, {"where", l.folder}, {"message", l.error}});
    }
    if (rep.is_object() && !rep.empty()) {
      lot["report"] = rep;
      // Skipped lots ran earlier: their pages count in the totals of what the
      // queue holds, not in this run's speed.
      const json& pages = rep.value("pages", json::object());
      const json& docs = rep.value("documents", json::object());
      pages_total += pages.value("total", 0);
      pages_blank += pages.value("blank", 0);
      pages_failed += pages.value("failed", 0);
      pages_flagged += static_cast<int>(rep.value("flagged", json::array()).size());
      documents_failed += docs.value("failed", 0);
      if (l.state == BatchLot::State::kSkipped) {
        documents_skipped += docs.value("ok", 0) + docs.value("skipped", 0);
      } else {
        pages_processed += pages.value("processed", 0);
        pages_resumed += pages.value("resumed", 0);
        documents_ok += docs.value("ok", 0);
        documents_skipped += docs.value("skipped", 0);
        const json lot_stages = rep.value("stages", json::object());  // items() needs a live object
        for (const auto& [name, t] : lot_stages.items()) {
          json& s = stages[name];
          if (!s.is_object()) s = json::object();
          s["runs"] = s.value("runs", 0) + t.value("runs", 0);
          s["ms_total"] = s.value("ms_total", 0.0) + t.value("ms_total", 0.0);
        }
      }
      quarantined += static_cast<int>(rep.value("quarantined", json::array()).size());
      for (const json& p : rep.value("problems", json::array())) {
        errors.push_back({{"lot", lot_id}, {"folder", l.folder}, {"where", p.value("where", "")},
                          {"message", p.value("message", "")}});
      }
    }
    lots.push_back(std::move(lot));
  }
  for (auto& [name, s] : stages.items()) {
    int runs = s.value("runs", 0);
    s["ms_mean"] = runs > 0 ? s.value("ms_total", 0.0) / runs : 0.0;
  }
  double minutes = r.seconds / 60.0;
  return {{"batch", {{"queue", r.queue_dir}, {"output", r.out_dir}, {"started_at", r.started_at},
                     {"finished_at", r.finished_at}, {"seconds", r.seconds}, {"interrupted", r.interrupted},
                     {"clean", r.Clean()}}},
          {"lots", {{"total", r.lots.size()}, {"list", lots}}},
          {"documents", {{"ok", documents_ok}, {"failed", documents_failed}, {"skipped", documents_skipped}}},
          {"pages", {{"total", pages_total}, {"processed", pages_processed}, {"resumed", pages_resumed},
                     {"blank", pages_blank}, {"failed", pages_failed}, {"flagged", pages_flagged},
                     {"quarantined_inputs", quarantined}}},
          {"pages_per_minute", minutes > 0 ? pages_processed / minutes : 0.0},
          {"stages", stages},
          {"errors", errors}};
}

}  // namespace

std::string BatchReport::ToJson() const { return Dump(BuildJson(*this), 2); }

std::string BatchReport::ToHtml() const {
  json j = BuildJson(*this);
  auto num = [](double v, int digits) {
    char b[64];
    std::snprintf(b, sizeof(b), "%.*f", digits, v);
    return std::string(b);
  };
  auto str = [](const json& v) { return v.is_string() ? v.get<std::string>() : Dump(v, -1); };
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"pt-BR\"><head><meta charset=\"utf-8\">\n<title>Acervo — relatório do lote noturno</title>\n";
  h += "<style>body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}"
       "td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#eee}"
       ".bad{color:#a00;font-weight:bold}.ok{color:#070}img.thumb{max-width:160px;max-height:200px;border:1px solid #888}"
       ".flag{display:inline-block;background:#fde68a;border-radius:3px;padding:0 .3em;margin:.1em}</style></head>\n<body>\n";
  const json& b = j["batch"];
  h += "<h1>Batch report</h1>\n<p id=\"summary\">Queue <code>" + Escape(str(b["queue"])) + "</code>, " +
       "started " + Escape(str(b["started_at"])) + ", finished " + Escape(str(b["finished_at"])) + " (" +
       num(b["seconds"].get<double>(), 1) + " s). <span class=\"" + (b["clean"].get<bool>() ? "ok\">clean" : "bad\">needs attention") +
       "</span></p>\n";
  const json& pages = j["pages"];
  const json& docs = j["documents"];
  h += "<table id=\"totals\"><tr><th>lots</th><th>documents ok</th><th>documents failed</th><th>documents already complete</th>"
       "<th>pages</th><th>processed</th><th>resumed</th><th>blank</th><th>failed</th><th>flagged</th><th>pages/min</th></tr>\n<tr>";
  for (const json* v : std::initializer_list<const json*>{&j["lots"]["total"], &docs["ok"], &docs["failed"], &docs["skipped"], &pages["total"],
                        &pages["processed"], &pages["resumed"], &pages["blank"], &pages["failed"], &pages["flagged"]}) {
    h += "<td>" + str(*v) + "</td>";
  }
  h += "<td>" + num(j["pages_per_minute"].get<double>(), 1) + "</td></tr></table>\n";

  h += "<h2>Lots</h2>\n<table id=\"lots\"><tr><th>folder</th><th>lot</th><th>state</th><th>documents ok</th><th>failed</th>"
       "<th>pages</th><th>problems</th></tr>\n";
  for (const json& l : j["lots"]["list"]) {
    const json rep = l.value("report", json::object());
    const json d = rep.value("documents", json::object());
    const json p = rep.value("pages", json::object());
    size_t problems = rep.value("problems", json::array()).size() + (l.value("error", "").empty() ? 0 : 1);
    h += "<tr class=\"lot\" data-folder=\"" + Escape(str(l["folder"])) + "\"><td>" + Escape(str(l["folder"])) + "</td><td>" +
         Escape(rep.value("lot", "")) + "</td><td class=\"" + (problems ? "bad" : "ok") + "\">" + Escape(str(l["state"])) +
         "</td><td>" + std::to_string(d.value("ok", 0) + d.value("skipped", 0)) + "</td><td>" +
         std::to_string(d.value("failed", 0)) + "</td><td>" + std::to_string(p.value("total", 0)) + "</td><td>" +
         std::to_string(problems) + "</td></tr>\n";
  }
  h += "</table>\n";

  h += "<h2>Errors</h2>\n<table id=\"errors\"><tr><th>lot</th><th>where</th><th>reason</th></tr>\n";
  for (const json& e : j["errors"]) {
    h += "<tr class=\"error\"><td>" + Escape(str(e["lot"])) + "</td><td>" + Escape(str(e["where"])) + "</td><td>" +
         Escape(str(e["message"])) + "</td></tr>\n";
  }
  h += "</table>\n";

  h += "<h2>Flagged pages</h2>\n<p>Blank pages removed from PDFs, low OCR confidence, large skew, orientation "
       "changed, OCR deadline, implausible resolution.</p>\n<table id=\"flagged\"><tr><th>thumbnail</th><th>lot</th>"
       "<th>document</th><th>page</th><th>file</th><th>flags</th><th>OCR confidence</th><th>skew</th><th>orientation</th></tr>\n";
  for (const json& l : j["lots"]["list"]) {
    const json rep = l.value("report", json::object());
    for (const json& f : rep.value("flagged", json::array())) {
      std::string img = "—";
      std::string thumb = f.value("thumbnail", "");
      if (!thumb.empty()) {
        Result<std::vector<uint8_t>> bytes = ReadFile(thumb);
        if (bytes.ok()) {
          img = "<img class=\"thumb\" alt=\"page thumbnail\" src=\"data:image/jpeg;base64," + Base64(*bytes) + "\">";
        }
      }
      // A half of a split two-page spread: "3 left half".
      std::string page = std::to_string(f.value("page", 0));
      const std::string part = f.value("part", "whole");
      if (part != "whole") page.append(" ").append(Escape(part)).append(" half");
      std::string flags;
      for (const json& fl : f.value("flags", json::array())) flags += "<span class=\"flag\">" + Escape(str(fl)) + "</span> ";
      h += "<tr class=\"flagged\"><td>" + img + "</td><td>" + Escape(rep.value("lot", "")) + "</td><td>" +
           Escape(f.value("document", "")) + "</td><td>" + page + "</td><td>" +
           Escape(f.value("file", "")) + (f.value("page_in_file", 1) > 1 ? " page " + std::to_string(f.value("page_in_file", 1)) : "") +
           "</td><td>" + flags + "</td><td>" + num(f.value("confidence", 0.0), 1) + "</td><td>" +
           num(f.value("skew_deg", 0.0), 2) + "°</td><td>" + std::to_string(f.value("orientation_deg", 0)) + "°</td></tr>\n";
    }
  }
  h += "</table>\n";

  h += "<h2>Quarantined inputs</h2>\n<table id=\"quarantined\"><tr><th>lot</th><th>file</th><th>page</th><th>reason</th>"
       "<th>copy</th></tr>\n";
  for (const json& l : j["lots"]["list"]) {
    const json rep = l.value("report", json::object());
    for (const json& q : rep.value("quarantined", json::array())) {
      int page = q.value("page", 0);
      h += "<tr class=\"quarantined\"><td>" + Escape(rep.value("lot", "")) + "</td><td>" + Escape(q.value("file", "")) +
           "</td><td>" + (page > 0 ? std::to_string(page) : "whole file") + "</td><td>" + Escape(q.value("reason", "")) +
           "</td><td><code>" + Escape(q.value("copy", "")) + "</code></td></tr>\n";
    }
  }
  h += "</table>\n";

  h += "<h2>Time per stage</h2>\n<table id=\"stages\"><tr><th>stage</th><th>runs</th><th>total s</th><th>mean ms</th></tr>\n";
  for (const auto& [name, s] : j["stages"].items()) {
    h += "<tr class=\"stage\"><td>" + Escape(name) + "</td><td>" + std::to_string(s.value("runs", 0)) + "</td><td>" +
         num(s.value("ms_total", 0.0) / 1000, 1) + "</td><td>" + num(s.value("ms_mean", 0.0), 0) + "</td></tr>\n";
  }
  h += "</table>\n";
  // Lets a headless check (and a curious reader) see that every thumbnail
  // actually decoded.
  h += "<script>window.addEventListener('load',function(){var n=0,ok=0;for(var i=0;i<document.images.length;i++){"
       "n++;var im=document.images[i];if(im.complete&&im.naturalWidth>0)ok++;}"
       "document.body.setAttribute('data-images',n);document.body.setAttribute('data-images-loaded',ok);});</script>\n";
  h += "</body></html>\n";
  return h;
}

Status WriteBatchReport(const BatchReport& report, const fs::path& dir) {
  // The report folder was asked for (or is OUT/report); its parents were not.
  std::error_code ec;
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) {
    return Status::IOError("cannot create report folder " + dir.string() + ": folder " + parent.string() +
                           " does not exist");
  }
  fs::create_directory(dir, ec);
  if (ec) return Status::IOError("cannot create report folder " + dir.string() + ": " + ec.message());
  ACERVO_RETURN_IF_ERROR(RemoveTempFiles(dir).status());  // a report write cut by a crash
  ACERVO_RETURN_IF_ERROR(WriteFileAtomic(dir / "report.json", report.ToJson()));
  return WriteFileAtomic(dir / "report.html", report.ToHtml());
}

}  // namespace acervo
