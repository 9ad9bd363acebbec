// The reasons a document or a page needs a person (issue 14), named once:
// their codes (the `kind` of a review item, what `flag:` finds, what
// `acervo review list --reason` takes), their labels for people in
// Brazilian Portuguese and English, and what to do about each. The run
// summary, report.json, the morning report, `acervo review` and the web
// review queue all print them from here, so one reason reads the same
// everywhere (docs/review.md lists them).
//
// Also named here: the page notes that are worth telling but need nobody
// (a blank page left out of the PDF, a large skew that was corrected, an
// assumed resolution).
//
// Thread-safety: constant tables and pure functions.
#ifndef ACERVO_CORE_REVIEW_REASON_H_
#define ACERVO_CORE_REVIEW_REASON_H_

#include <string>
#include <string_view>
#include <vector>

namespace acervo {

struct ReviewReasonInfo {
  std::string_view kind;       // "invalid_field"
  std::string_view label_pt;   // "Campo inválido"
  std::string_view label_en;   // "Invalid field"
  std::string_view action_pt;  // what to do, for people
  std::string_view action_en;
  bool page = false;           // about one page (else the document or an input file)
};

// Every reason, in the order reports list them.
const std::vector<ReviewReasonInfo>& ReviewReasons();
// The reason of `kind` ("invalid_field"; a flag "invalid_field:cpf" works
// too), or nullptr for a kind that is not a reason.
const ReviewReasonInfo* FindReviewReason(std::string_view kind);

// "Campo inválido: cpf" / "Invalid field: cpf"; an unknown kind as is.
std::string ReviewLabel(std::string_view kind, std::string_view subject, bool english);
// What to do about it ("" for an unknown kind).
std::string ReviewAction(std::string_view kind, bool english);

// A page flag as people read it: "Página em branco, fora do PDF",
// "Inclinação grande corrigida", ... (the flag itself when unknown).
std::string PageNoteLabel(std::string_view flag, bool english);

}  // namespace acervo

#endif  // ACERVO_CORE_REVIEW_REASON_H_
