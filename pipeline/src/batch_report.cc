// The morning report of a batch: JSON for machines, one self-contained HTML
// page for people. Both are built from the same JSON document so they can
// never disagree; thumbnails are inlined (data: URIs) so the page can be
// mailed or copied alone and never shows a broken image.
#include <cctype>
#include <map>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/core/review_reason.h"
#include "acervo/core/text.h"
#include "acervo/pipeline/batch.h"
#include "acervo/pipeline/review.h"

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
  std::vector<ReviewItem> review;  // every lot's open items, as each lot report holds them
  PdfPageMap review_pdf_pages;     // and their pages' places in the PDFs
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
      const json lot_review = rep.value("review", json::object());
      for (const json& i : lot_review.value("items", json::array())) {
        ReviewItem item;
        item.lot_id = i.value("lot", "");
        item.document_id = i.value("document", "");
        item.page = i.value("page", 0);
        item.kind = i.value("kind", "");
        item.subject = i.value("subject", "");
        item.detail = i.value("detail", "");
        item.state = i.value("state", "open");
        if (i.contains("pdf_page")) review_pdf_pages[{item.lot_id, item.document_id, item.page}] = i.value("pdf_page", 0);
        review.push_back(std::move(item));
      }
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
          {"review", ReviewJson(review, &review_pdf_pages)},
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

namespace {

// file:// URL of an absolute path (each byte outside the unreserved set
// percent-encoded), for links to PDFs, masters and page previews.
std::string FileUrl(const std::string& path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string InlineJpeg(const std::string& path, const std::string& alt) {
  if (path.empty()) return "";
  Result<std::vector<uint8_t>> bytes = ReadFile(path);
  if (!bytes.ok()) return "";
  return "<img class=\"thumb\" alt=\"" + Escape(alt) + "\" src=\"data:image/jpeg;base64," + Base64(*bytes) + "\">";
}

// BatchReport::ToHtml, one section per step over the report's JSON (the
// same data as report.json), appended to `h`. Every label for people in
// Brazilian Portuguese, or English on request.
struct ReportHtml {
  json j;
  bool en = false;
  std::string h;

  std::string T(const char* pt, const char* english) const { return std::string(en ? english : pt); }
  static std::string num(double v, int digits) {
    char b[64];
    std::snprintf(b, sizeof(b), "%.*f", digits, v);
    return std::string(b);
  }
  static std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : Dump(v, -1); }

  // The document head and the one-line summary of the run.
  void Head() {
    h += std::string("<!DOCTYPE html>\n<html lang=\"") + (en ? "en" : "pt-BR") +
         "\"><head><meta charset=\"utf-8\">\n<title>Acervo — " + T("relatório do lote noturno", "batch report") +
         "</title>\n";
    h +=
        "<style>body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#eee}"
        ".bad{color:#a00;font-weight:bold}.ok{color:#070}img.thumb{max-width:160px;max-height:200px;border:1px solid "
        "#888}"
        ".flag{display:inline-block;background:#fde68a;border-radius:3px;padding:0 .3em;margin:.1em}"
        ".action{color:#444;font-size:.9em}</style></head>\n<body>\n";
    const json& b = j["batch"];
    h += "<h1>" + T("Relatório do lote noturno", "Batch report") + "</h1>\n<p id=\"summary\">" + T("Fila", "Queue") +
         " <code>" + Escape(str(b["queue"])) + "</code>, " + T("início", "started") + " " +
         Escape(str(b["started_at"])) + ", " + T("fim", "finished") + " " + Escape(str(b["finished_at"])) + " (" +
         num(b["seconds"].get<double>(), 1) + " s). <span class=\"" +
         (b["clean"].get<bool>() ? "ok\">" + T("sem erros", "clean")
                                 : "bad\">" + T("requer atenção", "needs attention")) +
         "</span></p>\n";
  }

  // What people must look at comes first: one row per open review item,
  // the same items and counts as report.json "review", each lot's
  // report.json and `acervo review list`.
  void ToReview() {
    const json& review = j["review"];
    std::map<std::string, std::map<std::string, std::string>> pdf_of;   // lot -> document -> PDF
    std::map<std::tuple<std::string, std::string, int>, json> page_of;  // (lot, document, page) -> flagged entry
    for (const json& l : j["lots"]["list"]) {
      const json rep = l.value("report", json::object());
      const std::string lot = rep.value("lot", "");
      for (const json& d : rep.value("documents", json::object()).value("list", json::array())) {
        if (!d.value("pdf", "").empty()) pdf_of[lot][d.value("id", "")] = d.value("pdf", "");
      }
      for (const json& f : rep.value("flagged", json::array())) {
        page_of[{lot, f.value("document", ""), f.value("page", 0)}] = f;
      }
    }
    h += "<h2 id=\"to-review\">" + T("Documentos para revisar", "Documents to review") + "</h2>\n";
    h += "<p id=\"review-summary\" data-documents=\"" + str(review["documents"]) + "\" data-pages=\"" +
         str(review["pages"]) + "\" data-inputs=\"" + str(review["inputs"]) + "\" data-open=\"" + str(review["open"]) +
         "\">" + str(review["documents"]) + " " + T("documentos", "documents") + ", " + str(review["pages"]) + " " +
         T("páginas", "pages") + ", " + str(review["inputs"]) + " " + T("arquivos de entrada", "input files") + " (" +
         str(review["open"]) + " " + T("motivos", "reasons") + ").</p>\n";
    h += "<table id=\"review-reasons\"><tr><th>" + T("motivo", "reason") + "</th><th>" + T("quantidade", "count") +
         "</th></tr>\n";
    for (const ReviewReasonInfo& r : ReviewReasons()) {
      const json& by = review["by_reason"];
      if (!by.contains(std::string(r.kind))) continue;
      h += "<tr class=\"reason\" data-kind=\"" + std::string(r.kind) + "\"><td>" +
           Escape(en ? r.label_en : r.label_pt) + "</td><td>" + str(by[std::string(r.kind)]) + "</td></tr>\n";
    }
    h += "</table>\n<table id=\"review\"><tr><th>" + T("página", "page") + "</th><th>" + T("lote", "lot") +
         "</th><th>" + T("documento", "document") + "</th><th>" + T("motivo", "reason") + "</th><th>" +
         T("detalhe", "detail") + "</th><th>" + T("o que fazer", "what to do") + "</th><th>" + T("abrir", "open") +
         "</th></tr>\n";
    for (const json& i : review["items"]) {
      const std::string lot = i.value("lot", ""), document = i.value("document", "");
      const int page = i.value("page", 0);
      std::string img, links;
      auto pdf = pdf_of[lot].find(document);
      if (pdf != pdf_of[lot].end()) {
        // The page's place in the PDF, not its number in the document: blank
        // pages before it are not in the PDF. A page not in the PDF (blank)
        // or of unknown place opens the PDF at its start.
        const int pdf_page = page > 0 ? i.value("pdf_page", 0) : 0;
        links += "<a class=\"pdf\" href=\"" + Escape(FileUrl(pdf->second)) +
                 (pdf_page > 0 ? "#page=" + std::to_string(pdf_page) : "") + "\">PDF</a> ";
      }
      auto f = page_of.find({lot, document, page});
      if (page > 0 && f != page_of.end()) {
        const std::string preview = f->second.value("preview", "");
        img = InlineJpeg(f->second.value("thumbnail", ""), T("miniatura da página", "page thumbnail"));
        if (!img.empty() && !preview.empty())
          img = "<a class=\"preview\" href=\"" + Escape(FileUrl(preview)) + "\">" + img + "</a>";
        const std::string master = f->second.value("master", "");
        if (!master.empty())
          links += "<a class=\"master\" href=\"" + Escape(FileUrl(master)) + "\">" + T("original", "master") + "</a>";
      }
      std::string where = document.empty() ? Escape(i.value("subject", "")) : Escape(document);
      h += "<tr class=\"review-item\" data-kind=\"" + Escape(i.value("kind", "")) + "\"><td>" +
           (img.empty() ? "—" : img) + (page > 0 ? "<br>" + T("pág. ", "p. ") + std::to_string(page) : "") +
           "</td><td>" + Escape(lot) + "</td><td>" + where + "</td><td>" +
           Escape(i.value(en ? "label_en" : "label_pt", "")) + "</td><td>" + Escape(i.value("detail", "")) +
           "</td><td class=\"action\">" + Escape(i.value(en ? "action_en" : "action_pt", "")) + "</td><td>" + links +
           "</td></tr>\n";
    }
    h += "</table>\n";
  }

  // Pages and documents of the whole batch.
  void Totals() {
    const json& pages = j["pages"];
    const json& docs = j["documents"];
    h += "<h2>" + T("Totais", "Totals") + "</h2>\n<table id=\"totals\"><tr><th>" + T("lotes", "lots") + "</th><th>" +
         T("documentos gerados", "documents ok") + "</th><th>" + T("documentos com falha", "documents failed") +
         "</th><th>" + T("documentos já completos", "documents already complete") + "</th><th>" +
         T("páginas", "pages") + "</th><th>" + T("processadas", "processed") + "</th><th>" + T("retomadas", "resumed") +
         "</th><th>" + T("em branco", "blank") + "</th><th>" + T("com falha", "failed") + "</th><th>" +
         T("com notas", "flagged") + "</th><th>" + T("páginas/min", "pages/min") + "</th></tr>\n<tr>";
    for (const json* v : std::initializer_list<const json*>{
             &j["lots"]["total"], &docs["ok"], &docs["failed"], &docs["skipped"], &pages["total"], &pages["processed"],
             &pages["resumed"], &pages["blank"], &pages["failed"], &pages["flagged"]}) {
      h += "<td>" + str(*v) + "</td>";
    }
    h += "<td>" + num(j["pages_per_minute"].get<double>(), 1) + "</td></tr></table>\n";
  }

  // One row per lot folder, with its state.
  void Lots() {
    h += "<h2>" + T("Lotes", "Lots") + "</h2>\n<table id=\"lots\"><tr><th>" + T("pasta", "folder") + "</th><th>" +
         T("lote", "lot") + "</th><th>" + T("situação", "state") + "</th><th>" +
         T("documentos gerados", "documents ok") + "</th><th>" + T("com falha", "failed") + "</th><th>" +
         T("páginas", "pages") + "</th><th>" + T("para revisar", "to review") + "</th><th>" + T("erros", "problems") +
         "</th></tr>\n";
    for (const json& l : j["lots"]["list"]) {
      const json rep = l.value("report", json::object());
      const json d = rep.value("documents", json::object());
      const json p = rep.value("pages", json::object());
      size_t problems = rep.value("problems", json::array()).size() + (l.value("error", "").empty() ? 0 : 1);
      const int to_review = rep.value("review", json::object()).value("documents", 0);
      h += "<tr class=\"lot\" data-folder=\"" + Escape(str(l["folder"])) + "\"><td>" + Escape(str(l["folder"])) +
           "</td><td>" + Escape(rep.value("lot", "")) + "</td><td class=\"" + (problems ? "bad" : "ok") + "\">" +
           Escape(str(l["state"])) + "</td><td>" + std::to_string(d.value("ok", 0) + d.value("skipped", 0)) +
           "</td><td>" + std::to_string(d.value("failed", 0)) + "</td><td>" + std::to_string(p.value("total", 0)) +
           "</td><td>" + std::to_string(to_review) + "</td><td>" + std::to_string(problems) + "</td></tr>\n";
    }
    h += "</table>\n";
  }

  // Every error, naming its lot and where.
  void Errors() {
    h += "<h2>" + T("Erros", "Errors") + "</h2>\n<table id=\"errors\"><tr><th>" + T("lote", "lot") + "</th><th>" +
         T("onde", "where") + "</th><th>" + T("motivo", "reason") + "</th></tr>\n";
    for (const json& e : j["errors"]) {
      h += "<tr class=\"error\"><td>" + Escape(str(e["lot"])) + "</td><td>" + Escape(str(e["where"])) + "</td><td>" +
           Escape(str(e["message"])) + "</td></tr>\n";
    }
    h += "</table>\n";
  }

  // Separator sheets found.
  void Separators() {
    h += "<h2>" + T("Folhas separadoras encontradas", "Separator sheets found") +
         "</h2>\n<table id=\"separators\"><tr><th>" + T("lote", "lot") + "</th><th>" + T("arquivo", "file") +
         "</th><th>" + T("página", "page") + "</th><th>" + T("tipo", "kind") + "</th><th>" + T("conteúdo", "payload") +
         "</th></tr>\n";
    for (const json& l : j["lots"]["list"]) {
      const json rep = l.value("report", json::object());
      for (const json& sp : rep.value("separators", json::array())) {
        h += "<tr class=\"separator\"><td>" + Escape(rep.value("lot", "")) + "</td><td>" +
             Escape(sp.value("file", "")) + "</td><td>" + std::to_string(sp.value("page_in_file", 1)) + "</td><td>" +
             Escape(sp.value("kind", "")) + "</td><td><code>" + Escape(sp.value("payload", "")) + "</code></td></tr>\n";
      }
    }
    h += "</table>\n";
  }

  // Warnings of every lot.
  void Warnings() {
    h += "<h2>" + T("Avisos", "Warnings") + "</h2>\n<table id=\"warnings\"><tr><th>" + T("lote", "lot") + "</th><th>" +
         T("onde", "where") + "</th><th>" + T("aviso", "warning") + "</th></tr>\n";
    for (const json& l : j["lots"]["list"]) {
      const json rep = l.value("report", json::object());
      for (const json& w : rep.value("warnings", json::array())) {
        h += "<tr class=\"warning\"><td>" + Escape(rep.value("lot", "")) + "</td><td>" + Escape(w.value("where", "")) +
             "</td><td>" + Escape(w.value("message", "")) + "</td></tr>\n";
      }
    }
    h += "</table>\n";
  }

  // Flagged pages with their thumbnails.
  void Flagged() {
    h += "<h2>" + T("Páginas com notas", "Flagged pages") + "</h2>\n<p>" +
         T("Páginas em branco retiradas dos PDFs, baixa confiança do OCR, inclinação grande (corrigida ou não), "
           "orientação corrigida, prazo do OCR, resolução implausível. Clique na miniatura para ver a página legível.",
           "Blank pages removed from PDFs, low OCR confidence, large skew (corrected or not), orientation changed, OCR "
           "deadline, implausible resolution. Click a thumbnail to see the page at reading size.") +
         "</p>\n<table id=\"flagged\"><tr><th>" + T("miniatura", "thumbnail") + "</th><th>" + T("lote", "lot") +
         "</th><th>" + T("documento", "document") + "</th><th>" + T("página", "page") + "</th><th>" +
         T("arquivo", "file") + "</th><th>" + T("notas", "flags") + "</th><th>" +
         T("confiança do OCR", "OCR confidence") + "</th><th>" + T("inclinação", "skew") + "</th><th>" +
         T("orientação", "orientation") + "</th></tr>\n";
    for (const json& l : j["lots"]["list"]) {
      const json rep = l.value("report", json::object());
      for (const json& f : rep.value("flagged", json::array())) {
        std::string img = InlineJpeg(f.value("thumbnail", ""), T("miniatura da página", "page thumbnail"));
        const std::string preview = f.value("preview", "");
        if (!img.empty() && !preview.empty())
          img = "<a class=\"preview\" href=\"" + Escape(FileUrl(preview)) + "\">" + img + "</a>";
        if (img.empty()) img = "—";
        // A half of a split two-page spread: "3 left half".
        std::string page = std::to_string(f.value("page", 0));
        const std::string part = f.value("part", "whole");
        if (part != "whole") page.append(" ").append(Escape(part)).append(" half");
        if (f.value("replaced", false)) page += " <span class=\"replaced\">" + T("substituída", "replaced") + "</span>";
        std::string flags;
        const json flag_list = f.value("flags", json::array());
        const bool deskew_stopped = flag_list.dump().find("deskew_deadline") != std::string::npos;
        for (const json& fl : flag_list) {
          std::string label = PageNoteLabel(str(fl), en);
          // Say for a skewed page whether it was corrected or must be scanned again.
          if (str(fl) == "big_skew") {
            label += deskew_stopped ? T(" — não corrigida: digitalize de novo", " — not corrected: scan again")
                                    : T(" — corrigida", " — corrected");
          }
          flags += "<span class=\"flag\" data-flag=\"" + Escape(str(fl)) + "\">" + Escape(label) + "</span> ";
        }
        h +=
            "<tr class=\"flagged\"><td>" + img + "</td><td>" + Escape(rep.value("lot", "")) + "</td><td>" +
            Escape(f.value("document", "")) + "</td><td>" + page + "</td><td>" + Escape(f.value("file", "")) +
            (f.value("page_in_file", 1) > 1 ? " " + T("pág.", "page") + " " + std::to_string(f.value("page_in_file", 1))
                                            : "") +
            "</td><td>" + flags + "</td><td>" + num(f.value("confidence", 0.0), 1) + "</td><td>" +
            num(f.value("skew_deg", 0.0), 2) + "°</td><td>" + std::to_string(f.value("orientation_deg", 0)) +
            "°</td></tr>\n";
      }
    }
    h += "</table>\n";
  }

  // Inputs set aside, with the copy kept.
  void Quarantined() {
    h += "<h2>" + T("Arquivos em quarentena", "Quarantined inputs") + "</h2>\n<table id=\"quarantined\"><tr><th>" +
         T("lote", "lot") + "</th><th>" + T("arquivo", "file") + "</th><th>" + T("página", "page") + "</th><th>" +
         T("motivo", "reason") + "</th><th>" + T("cópia", "copy") + "</th></tr>\n";
    for (const json& l : j["lots"]["list"]) {
      const json rep = l.value("report", json::object());
      for (const json& q : rep.value("quarantined", json::array())) {
        int page = q.value("page", 0);
        h += "<tr class=\"quarantined\"><td>" + Escape(rep.value("lot", "")) + "</td><td>" +
             Escape(q.value("file", "")) + "</td><td>" +
             (page > 0 ? std::to_string(page) : T("arquivo inteiro", "whole file")) + "</td><td>" +
             Escape(q.value("reason", "")) + "</td><td><code>" + Escape(q.value("copy", "")) + "</code></td></tr>\n";
      }
    }
    h += "</table>\n";
  }

  // Time per stage.
  void Stages() {
    h += "<h2>" + T("Tempo por etapa", "Time per stage") + "</h2>\n<table id=\"stages\"><tr><th>" +
         T("etapa", "stage") + "</th><th>" + T("execuções", "runs") + "</th><th>" + T("total s", "total s") +
         "</th><th>" + T("média ms", "mean ms") + "</th></tr>\n";
    for (const auto& [name, s] : j["stages"].items()) {
      h += "<tr class=\"stage\"><td>" + Escape(name) + "</td><td>" + std::to_string(s.value("runs", 0)) + "</td><td>" +
           num(s.value("ms_total", 0.0) / 1000, 1) + "</td><td>" + num(s.value("ms_mean", 0.0), 0) + "</td></tr>\n";
    }
    h += "</table>\n";
  }

  // Lets a headless check (and a curious reader) see that every thumbnail
  // actually decoded.
  void Tail() {
    h += "<script>window.addEventListener('load',function(){var n=0,ok=0;for(var i=0;i<document.images.length;i++){"
         "n++;var im=document.images[i];if(im.complete&&im.naturalWidth>0)ok++;}"
         "document.body.setAttribute('data-images',n);document.body.setAttribute('data-images-loaded',ok);});</"
         "script>\n";
    h += "</body></html>\n";
  }
};

}  // namespace

std::string BatchReport::ToHtml() const {
  ReportHtml r{BuildJson(*this), language == "en", ""};
  for (void (ReportHtml::*section)() : {&ReportHtml::Head, &ReportHtml::ToReview, &ReportHtml::Totals,
                                         &ReportHtml::Lots, &ReportHtml::Errors, &ReportHtml::Separators,
                                         &ReportHtml::Warnings, &ReportHtml::Flagged, &ReportHtml::Quarantined,
                                         &ReportHtml::Stages, &ReportHtml::Tail}) {
    (r.*section)();
  }
  return std::move(r.h);
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
