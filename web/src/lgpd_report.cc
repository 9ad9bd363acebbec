// The LGPD data-subject report (lgpd_report.h): named passes — find the
// documents, read their accesses, read the searches, record the request.
#include "acervo/web/lgpd_report.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "acervo/core/clock.h"
#include "acervo/core/personal_numbers.h"
#include "internal.h"

namespace acervo::web {
namespace {

using json = nlohmann::json;

int DigitsDiffering(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return 99;
  int n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

// Occurrences of `cpf` in `text`, exact or as OCR misreads it.
std::vector<LgpdOccurrence> FindInText(const std::string& text, const std::string& cpf, const std::string& where) {
  std::vector<LgpdOccurrence> out;
  std::set<size_t> seen;
  FindOptions o;
  o.ocr = true;
  o.cnpj = false;
  for (const PersonalNumberMatch& m : FindPersonalNumbers(text, o)) {
    const int d = DigitsDiffering(m.digits, cpf);
    if (d > 1) continue;
    seen.insert(m.begin);
    out.push_back({where, text.substr(m.begin, m.end - m.begin),
                   d == 1 ? "one digit differs" : m.lookalikes > 0 ? "OCR look-alikes" : "exact"});
  }
  // Bare runs of 11 digits with one digit misread fail the check digits,
  // so the finder leaves them: compare them here.
  for (size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i == 11 && seen.count(i) == 0 && DigitsDiffering(text.substr(i, 11), cpf) <= 1) {
      const bool exact = text.compare(i, 11, cpf) == 0;
      out.push_back({where, text.substr(i, 11), exact ? "exact" : "one digit differs"});
    }
    i = j;
  }
  return out;
}

std::string DocumentDate(const DocumentRecord& d, const LotRecord& lot) {
  for (const FieldRecord& f : d.fields) {
    std::string n = f.name;
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
    if ((n.find("data") != std::string::npos || n.find("date") != std::string::npos) && !f.value.empty()) {
      return f.value;
    }
  }
  return lot.started_at.empty() ? "" : lot.started_at.substr(0, 10) + " (digitalização)";
}

// Pass 1: every document of every lot, fields and page text.
Status FindDocuments(Store& store, LgpdReport& r) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<LotRecord> lots, store.ListLots());
  for (const LotRecord& lot : lots) {
    ACERVO_ASSIGN_OR_RETURN(std::vector<DocumentRecord> listed, store.ListDocuments(lot.id));
    for (const DocumentRecord& entry : listed) {
      // ListDocuments leaves the page texts out: one document at a time.
      ACERVO_ASSIGN_OR_RETURN(std::optional<DocumentRecord> full, store.GetDocument(lot.id, entry.document_id));
      if (!full) continue;  // removed meanwhile
      const DocumentRecord& d = *full;
      ++r.documents_scanned;
      LgpdDocument hit;
      for (const FieldRecord& f : d.fields) {
        for (LgpdOccurrence& o : FindInText(f.value, r.cpf, "field " + f.name)) hit.occurrences.push_back(std::move(o));
      }
      for (const PageRecord& p : d.pages) {
        std::vector<LgpdOccurrence> found = FindInText(p.text, r.cpf, "page " + std::to_string(p.number));
        if (found.empty()) continue;
        hit.pages_with_cpf.push_back(p.number);
        for (LgpdOccurrence& o : found) hit.occurrences.push_back(std::move(o));
      }
      if (hit.occurrences.empty()) continue;
      hit.lot = lot.id;
      hit.project = lot.project;
      hit.document = d.document_id;
      hit.type = d.document_type;
      hit.title = d.title;
      hit.date = DocumentDate(d, lot);
      hit.pages = static_cast<int>(d.pages.size());
      r.documents.push_back(std::move(hit));
    }
  }
  return Status::OK();
}

// Every audit row matching `filter`, oldest first (pages back through the trail).
Result<std::vector<AuditRow>> AllAudit(AccessStore& access, AuditFilter filter) {
  std::vector<AuditRow> out;
  filter.limit = 10000;
  for (;;) {
    ACERVO_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, access.ListAudit(filter));
    out.insert(out.end(), rows.begin(), rows.end());
    if (static_cast<int>(rows.size()) < filter.limit) break;
    filter.before_seq = rows.back().seq;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// Pass 2: who opened, viewed, downloaded (or was refused) each document.
Status ReadAccesses(AccessStore& access, LgpdReport& r) {
  for (LgpdDocument& d : r.documents) {
    const std::string key = d.lot + "/" + d.document;
    AuditFilter f;
    f.target_prefix = key;
    ACERVO_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, AllAudit(access, f));
    for (AuditRow& row : rows) {
      const std::string& t = row.entry.target;
      if (t == key || t.rfind(key + "/", 0) == 0) d.accesses.push_back(std::move(row));
    }
  }
  return Status::OK();
}

// Pass 3: searches (and anything else) whose detail named the CPF, in
// either written form.
Status ReadSearches(AccessStore& access, LgpdReport& r) {
  std::map<int64_t, AuditRow> by_seq;
  for (const std::string& form : {r.cpf, FormatCpf(r.cpf)}) {
    AuditFilter f;
    f.detail_contains = form;
    ACERVO_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, AllAudit(access, f));
    for (AuditRow& row : rows) {
      if (row.entry.action != "lgpd_report") by_seq[row.seq] = std::move(row);
    }
  }
  for (auto& [seq, row] : by_seq) r.searches.push_back(std::move(row));
  return Status::OK();
}

json AuditJson(const AuditRow& row) {
  return {{"seq", row.seq},       {"at", row.entry.at},         {"user", row.entry.user},
          {"address", row.entry.address}, {"action", row.entry.action}, {"target", row.entry.target},
          {"detail", row.entry.detail}};
}

std::string AuditTable(const std::vector<AuditRow>& rows, const char* id) {
  if (rows.empty()) return "<p class=\"none\">Nenhum registro.</p>";
  std::string h = std::string("<table id=\"") + id + "\"><tr><th>#</th><th>Quando (UTC)</th><th>Usuário</th>"
                  "<th>Endereço</th><th>Ação</th><th>Alvo</th><th>Detalhe</th></tr>";
  for (const AuditRow& a : rows) {
    h += "<tr><td>" + std::to_string(a.seq) + "</td><td>" + Html(a.entry.at) + "</td><td>" + Html(a.entry.user) +
         "</td><td>" + Html(a.entry.address) + "</td><td>" + Html(a.entry.action) + "</td><td>" + Html(a.entry.target) +
         "</td><td>" + Html(a.entry.detail) + "</td></tr>";
  }
  return h + "</table>";
}

}  // namespace

Result<LgpdReport> BuildLgpdReport(Store& store, const std::string& cpf_text, const std::string& actor,
                                   const std::string& address) {
  std::optional<std::string> cpf = ParseCpf(cpf_text);
  if (!cpf) return Status::InvalidArgument("'" + cpf_text + "' is not a CPF (11 digits with right check digits)");
  LgpdReport r;
  r.cpf = *cpf;
  r.requested_by = actor;
  r.generated_at = UtcNowIso8601();
  // The request goes on record first: asking about someone is itself
  // something the data subject may learn.
  ACERVO_RETURN_IF_ERROR(
      store.Access().AppendAudit({{"", actor, address, "lgpd_report", FormatCpf(r.cpf), "data-subject report"}}).status());
  ACERVO_RETURN_IF_ERROR(FindDocuments(store, r));
  ACERVO_RETURN_IF_ERROR(ReadAccesses(store.Access(), r));
  ACERVO_RETURN_IF_ERROR(ReadSearches(store.Access(), r));
  return r;
}

std::string LgpdReportJson(const LgpdReport& r) {
  json docs = json::array();
  for (const LgpdDocument& d : r.documents) {
    json occ = json::array(), acc = json::array();
    for (const LgpdOccurrence& o : d.occurrences) occ.push_back({{"where", o.where}, {"read", o.read}, {"match", o.match}});
    for (const AuditRow& a : d.accesses) acc.push_back(AuditJson(a));
    docs.push_back({{"lot", d.lot}, {"project", d.project}, {"document", d.document}, {"type", d.type},
                    {"title", d.title}, {"date", d.date}, {"pages", d.pages}, {"pages_with_cpf", d.pages_with_cpf},
                    {"occurrences", occ}, {"accesses", acc}});
  }
  json searches = json::array();
  for (const AuditRow& a : r.searches) searches.push_back(AuditJson(a));
  json out = {{"cpf", FormatCpf(r.cpf)},       {"generated_at", r.generated_at}, {"requested_by", r.requested_by},
              {"documents_scanned", r.documents_scanned}, {"documents", docs}, {"searches_naming_cpf", searches}};
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string LgpdReportHtmlBody(const LgpdReport& r) {
  std::string h = "<h1>Relatório ao titular (LGPD) — CPF <span id=\"lgpd-cpf\">" + Html(FormatCpf(r.cpf)) +
                  "</span></h1><p>Gerado em " + Html(r.generated_at) + " por " + Html(r.requested_by) + "; " +
                  std::to_string(r.documents_scanned) + " documentos examinados; <strong id=\"lgpd-count\">" +
                  std::to_string(r.documents.size()) + "</strong> com o CPF.</p>";
  h += "<h2>Documentos (documents)</h2>";
  if (r.documents.empty()) h += "<p class=\"none\" id=\"lgpd-none\">Nenhum documento contém este CPF.</p>";
  for (const LgpdDocument& d : r.documents) {
    h += "<section class=\"lgpd-doc\" data-doc=\"" + Html(d.lot + "/" + d.document) + "\"><h3>" + Html(d.lot) + " / " +
         Html(d.document) + " — " + Html(d.title) + "</h3><p>Projeto " + Html(d.project) + " · tipo " + Html(d.type) +
         " · data " + Html(d.date) + " · " + std::to_string(d.pages) + " páginas; o CPF nas páginas ";
    for (size_t i = 0; i < d.pages_with_cpf.size(); ++i) h += (i ? ", " : "") + std::to_string(d.pages_with_cpf[i]);
    if (d.pages_with_cpf.empty()) h += "— (só nos campos)";
    h += "</p><table class=\"occ\"><tr><th>Onde</th><th>Lido</th><th>Correspondência</th></tr>";
    for (const LgpdOccurrence& o : d.occurrences) {
      h += "<tr><td>" + Html(o.where) + "</td><td>" + Html(o.read) + "</td><td>" + Html(o.match) + "</td></tr>";
    }
    h += "</table><h4>Acessos (accesses)</h4>" + AuditTable(d.accesses, "lgpd-access") + "</section>";
  }
  h += "<h2>Buscas que citaram o CPF (searches naming the CPF)</h2>" + AuditTable(r.searches, "lgpd-searches");
  return h;
}

std::string LgpdReportHtml(const LgpdReport& r) {
  return "<!DOCTYPE html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\"><title>Relatório LGPD " +
         Html(FormatCpf(r.cpf)) +
         "</title><style>body{font-family:sans-serif;margin:2em;color:#111}table{border-collapse:collapse;margin:.5em "
         "0 1em}td,th{border:1px solid #999;padding:.2em .5em;font-size:90%;text-align:left}section{margin:1.5em 0}"
         "</style></head><body>" +
         LgpdReportHtmlBody(r) + "</body></html>\n";
}

}  // namespace acervo::web
