// The LGPD data-subject report (Lei 13.709/2018, art. 18 and 19): what the
// archive holds about one CPF and who has seen it. `acervo lgpd report`
// and the admin page /admin/lgpd build it with BuildLgpdReport.
//
// What is found:
//  - documents whose index fields hold the CPF (any punctuation);
//  - documents whose OCR text holds it — exactly, or as OCR misreads it:
//    one digit different, letters read for digits (O for 0, l for 1, S for
//    5...), spaces after the separators; each such hit says what was read
//    and how it differs, so a person can judge it;
//  - every audit row about those documents (views, pages, downloads,
//    denied attempts), and the searches whose text named the CPF.
// The report is a full scan of the store's documents (a data-subject
// request is rare; no index can find a misread number): 3.6 s for 50,000
// pages here, linear in the store's pages (docs/security.md).
//
// The request itself is written to the audit trail ("lgpd_report", target
// the formatted CPF, by `actor`) before the report is returned, so that
// asking about someone is itself on record.
#ifndef ACERVO_WEB_LGPD_REPORT_H_
#define ACERVO_WEB_LGPD_REPORT_H_

#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/indexer/access_store.h"
#include "acervo/indexer/store.h"

namespace acervo::web {

struct LgpdOccurrence {
  std::string where;      // "field cpf" or "page 3"
  std::string read;       // the text as stored ("529.982.247-25", "529.98Z.247-25")
  std::string match;      // "exact", "one digit differs", "OCR look-alikes"
};

struct LgpdDocument {
  std::string lot, project, document, type, title, date;  // date: a date field, else when the lot was digitised
  int pages = 0;
  std::vector<int> pages_with_cpf;  // document page numbers
  std::vector<LgpdOccurrence> occurrences;
  std::vector<AuditRow> accesses;  // oldest first
};

struct LgpdReport {
  std::string cpf;           // 11 digits
  std::string generated_at;  // UTC ISO 8601
  std::string requested_by;
  std::vector<LgpdDocument> documents;  // by lot, document
  std::vector<AuditRow> searches;       // audit rows whose detail names the CPF
  int64_t documents_scanned = 0;
};

// InvalidArgument when `cpf` is not a CPF (check digits); a store error
// otherwise. `actor` is who asked ("cli:root", a web user name).
Result<LgpdReport> BuildLgpdReport(Store& store, const std::string& cpf, const std::string& actor,
                                   const std::string& address);

std::string LgpdReportJson(const LgpdReport& report);
// A self-contained HTML page (inline style; Portuguese with the English
// terms in the headings), printable.
std::string LgpdReportHtml(const LgpdReport& report);
// The report's body alone, for the admin page's layout.
std::string LgpdReportHtmlBody(const LgpdReport& report);

}  // namespace acervo::web

#endif  // ACERVO_WEB_LGPD_REPORT_H_
