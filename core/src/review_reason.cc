#include "acervo/core/review_reason.h"

namespace acervo {

const std::vector<ReviewReasonInfo>& ReviewReasons() {
  static const std::vector<ReviewReasonInfo> kReasons = {
      {"invalid_field", "Campo inválido", "Invalid field",
       "Corrija o valor (acervo review set ou a fila de revisão).",
       "Correct the value (acervo review set or the review queue).", false},
      {"missing_field", "Campo obrigatório sem valor", "Required field missing",
       "Informe o valor (acervo review set ou a fila de revisão).",
       "Enter the value (acervo review set or the review queue).", false},
      {"unchecked_field", "Campo fora do perfil (não verificado)", "Field not in the profile (not checked)",
       "Confira o nome da coluna no manifest.csv e o valor.", "Check the column name in manifest.csv and the value.",
       false},
      {"unknown_type", "Tipo de documento desconhecido", "Unknown document type",
       "Corrija o tipo (campo document_type) ou inclua-o no perfil.",
       "Correct the type (field document_type) or add it to the profile.", false},
      {"no_separator", "Páginas antes da primeira folha separadora", "Pages before the first separator sheet",
       "Confira se falta uma folha separadora; corrija o tipo e os campos.",
       "Check whether a separator sheet is missing; correct the type and fields.", false},
      {"separator_payload", "Folha separadora com conteúdo inválido", "Separator sheet with an invalid payload",
       "Confira o tipo e os campos deste documento; reimprima a folha.",
       "Check this document's type and fields; print the sheet again.", false},
      {"separator_unreadable", "Página não lida na busca de separadoras", "Page unreadable while looking for separators",
       "Confira se a página é uma folha separadora; digitalize-a de novo.",
       "Check whether the page is a separator sheet; scan it again.", false},
      {"separator_unused", "Folha separadora sem documento depois", "Separator sheet with no document after it",
       "Confira se faltam páginas no fim do lote.", "Check whether pages are missing at the end of the lot.", false},
      {"all_blank", "Todas as páginas em branco (sem PDF)", "Every page blank (no PDF)",
       "Confira se o papel foi digitalizado do lado certo; digitalize de novo.",
       "Check that the paper was scanned on the right side; scan it again.", false},
      {"not_produced", "Documento não produzido", "Document not produced",
       "Veja o erro; troque o arquivo ou digitalize de novo e rode o lote de novo.",
       "See the error; replace the file or scan again and run the lot again.", false},
      {"quarantined", "Arquivo em quarentena", "Input file quarantined",
       "Troque o arquivo (cópia e motivo em quarantine/) e rode o lote de novo.",
       "Replace the file (copy and reason in quarantine/) and run the lot again.", false},
      {"low_confidence", "Baixa confiança do OCR", "Low OCR confidence",
       "Confira a legibilidade; se ilegível, digitalize de novo.", "Check legibility; if unreadable, scan it again.",
       true},
      {"skew_uncorrected", "Inclinação grande não corrigida", "Large skew not corrected",
       "Digitalize a página de novo, alinhada.", "Scan the page again, straight.", true},
      {"orientation_changed", "Orientação corrigida automaticamente", "Orientation changed automatically",
       "Confira se a página ficou de pé; aceite ou digitalize de novo.",
       "Check the page is upright; accept it or scan it again.", true},
      {"ocr_deadline", "OCR interrompido pelo prazo da página", "OCR stopped by the page deadline",
       "A página está no PDF sem texto pesquisável; digitalize de novo ou aceite.",
       "The page is in the PDF without searchable text; scan it again or accept it.", true},
      {"no_text", "Nenhuma palavra lida na página", "No word read on the page",
       "Confira a página: foto ou desenho sem texto, aceite; texto ilegível, digitalize de novo.",
       "Check the page: a photo or drawing without text, accept it; text that was not read, scan it again.", true},
      {"rescan", "Nova digitalização pedida", "Re-scan requested",
       "Digitalize a página de novo (acervo scan --replace ou acervo review replace).",
       "Scan the page again (acervo scan --replace or acervo review replace).", true},
  };
  return kReasons;
}

const ReviewReasonInfo* FindReviewReason(std::string_view kind) {
  kind = kind.substr(0, kind.find(':'));
  for (const ReviewReasonInfo& r : ReviewReasons()) {
    if (r.kind == kind) return &r;
  }
  return nullptr;
}

std::string ReviewLabel(std::string_view kind, std::string_view subject, bool english) {
  const ReviewReasonInfo* r = FindReviewReason(kind);
  std::string out(r == nullptr ? kind : (english ? r->label_en : r->label_pt));
  if (!subject.empty()) out.append(": ").append(subject);
  return out;
}

std::string ReviewAction(std::string_view kind, bool english) {
  const ReviewReasonInfo* r = FindReviewReason(kind);
  return r == nullptr ? std::string() : std::string(english ? r->action_en : r->action_pt);
}

std::string PageNoteLabel(std::string_view flag, bool english) {
  struct Note {
    std::string_view flag, pt, en;
  };
  static const Note kNotes[] = {
      {"blank", "Página em branco, fora do PDF", "Blank page, left out of the PDF"},
      {"big_skew", "Inclinação grande", "Large skew"},
      {"orientation_fixed", "Orientação corrigida", "Orientation corrected"},
      {"low_confidence", "Baixa confiança do OCR", "Low OCR confidence"},
      {"no_dpi", "Resolução ausente no arquivo (assumida)", "No resolution in the file (assumed)"},
      {"implausible_dpi", "Resolução implausível no arquivo (assumida)", "Implausible resolution in the file (assumed)"},
      {"ocr_deadline", "OCR interrompido pelo prazo", "OCR stopped by the deadline"},
      {"no_text", "Nenhuma palavra lida", "No word read"},
  };
  for (const Note& n : kNotes) {
    if (n.flag == flag) return std::string(english ? n.en : n.pt);
  }
  return std::string(flag);
}

}  // namespace acervo
