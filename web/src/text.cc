// Text for the web: URL encoding (HTML escaping and valid UTF-8 are
// core/text.h's, the one validated text path), LGPD masking of CPF/CNPJ, and the pt-BR/English messages.
#include <cstdio>
#include <cctype>
#include <cstring>

#include "acervo/indexer/text_fold.h"
#include "acervo/core/personal_numbers.h"
#include "internal.h"

namespace acervo::web {

// The one validated text path of core/text.h (XmlText: & < > " ' escaped,
// invalid UTF-8 replaced by U+FFFD, control characters other than tab and
// newline dropped).
std::string Html(std::string_view text) { return XmlText(text); }

std::filesystem::path ResolveStoredFile(RouteContext& ctx, const std::string& lot_id, const std::string& stored) {
  return ctx.services().ResolvePath(ctx.store(), lot_id, stored);
}

std::string UrlEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string UrlDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// --------------------------------------------------------------- LGPD --

bool MayHoldPersonalNumber(std::string_view text) {
  // Every shape FindPersonalNumbers knows (without its OCR mode, which
  // masking does not use) is 11 or 14 ASCII digits.
  size_t digits = 0;
  for (char c : text) digits += c >= '0' && c <= '9';
  return digits >= 11;
}

std::string MaskPersonalNumbers(std::string_view text) {
  if (!MayHoldPersonalNumber(text)) return std::string(text);
  // Punctuated forms keep their middle digits and punctuation; bare runs
  // (found only with right check digits) keep their middle digits.
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (const PersonalNumberMatch& m : FindPersonalNumbers(text)) {
    out.append(text.substr(at, m.begin - at));
    const std::string_view found = text.substr(m.begin, m.end - m.begin);
    if (m.kind == PersonalNumberKind::kCpf) {
      out += m.punctuated ? "***." + std::string(found.substr(4, 7)) + "-**" : "***" + m.digits.substr(3, 6) + "**";
    } else {
      out += m.punctuated ? "**." + std::string(found.substr(3, 7)) + "/****-**" : "**" + m.digits.substr(2, 6) + "******";
    }
    at = m.end;
  }
  out.append(text.substr(at));
  return out;
}

// ----------------------------------------------------------- messages --

namespace {

struct Message {
  const char* key;
  const char* pt;
  const char* en;
};

// Sorted by key is not required: looked up once per use in a small table.
constexpr Message kMessages[] = {
    {"nav_search", "Busca", "Search"},
    {"nav_lots", "Lotes", "Lots"},
    {"nav_admin", "Administração", "Administration"},
    {"nav_account", "Minha conta", "My account"},
    {"nav_reports", "Relatórios da manhã", "Morning reports"},
    {"nav_review", "Revisão", "Review"},
    {"logout", "Sair", "Sign out"},
    {"login", "Entrar", "Sign in"},
    {"login_title", "Entrar no Acervo", "Sign in to Acervo"},
    {"user", "Usuário", "User name"},
    {"password", "Senha", "Password"},
    {"login_failed", "Usuário ou senha incorretos.", "Wrong user name or password."},
    {"login_certificate", "Entrar com certificado digital (ICP-Brasil)", "Sign in with a digital certificate (ICP-Brasil)"},
    {"cert_none", "O navegador não apresentou um certificado digital.", "The browser presented no digital certificate."},
    {"cert_expired", "Certificado recusado: fora do prazo de validade.", "Certificate refused: outside its validity period."},
    {"cert_revoked", "Certificado recusado: revogado.", "Certificate refused: revoked."},
    {"cert_untrusted", "Certificado recusado: não emitido por uma AC aceita aqui.",
     "Certificate refused: not issued by a CA accepted here."},
    {"cert_crl", "Certificado recusado: a lista de revogação (LCR) da AC falta ou está vencida. Avise a TI.",
     "Certificate refused: the CA's revocation list (CRL) is missing or out of date. Tell IT."},
    {"cert_no_cpf", "Certificado recusado: não é um e-CPF (sem CPF do titular).",
     "Certificate refused: not an e-CPF (no holder's CPF)."},
    {"cert_invalid", "Certificado recusado: inválido.", "Certificate refused: invalid."},
    {"cert_no_user", "Nenhum usuário do Acervo tem o CPF deste certificado.", "No Acervo user has this certificate's CPF."},
    {"cert_disabled", "Certificado recusado: usuário desativado.", "Certificate refused: user disabled."},
    {"admin_lgpd", "Relatório LGPD", "LGPD report"},
    {"lgpd_run", "Gerar relatório", "Build report"},
    {"login_unavailable", "O diretório de usuários (LDAP) não responde. Tente novamente mais tarde ou avise a TI.",
     "The user directory (LDAP) does not answer. Try again later or tell IT."},
    {"login_throttled", "Muitas tentativas. Tente novamente em alguns minutos.",
     "Too many attempts. Try again in a few minutes."},
    {"search_placeholder", "Palavras, \"frases\", prefixo*, campo:valor…", "Words, \"phrases\", prefix*, field:value…"},
    {"search_button", "Buscar", "Search"},
    {"search_help",
     "Sem acentos ou maiúsculas: certidao encontra CERTIDÃO; plurais e erros de leitura do OCR também, depois dos "
     "exatos (exact:palavra só a forma exata). Use AND, OR, NOT, \"frases\", nasc*, cpf:123…",
     "Accents and case are ignored: certidao finds CERTIDÃO; plurals and OCR misreadings too, after exact matches "
     "(exact:word for the exact form only). Use AND, OR, NOT, \"phrases\", nasc*, cpf:123…"},
    {"documents", "documentos", "documents"},
    {"document", "documento", "document"},
    {"in", "em", "in"},
    {"more_than", "mais de", "more than"},
    {"sort", "Ordenar por", "Sort by"},
    {"sort_relevance", "Relevância", "Relevance"},
    {"sort_newest", "Data (mais recentes)", "Date (newest)"},
    {"sort_oldest", "Data (mais antigos)", "Date (oldest)"},
    {"filters", "Filtros", "Filters"},
    {"filter_lot", "Lote", "Lot"},
    {"filter_type", "Tipo de documento", "Document type"},
    {"filter_date", "Data do documento", "Document date"},
    {"from", "de", "from"},
    {"to", "até", "to"},
    {"apply", "Aplicar", "Apply"},
    {"clear_filters", "Limpar filtros", "Clear filters"},
    {"remove_filter", "remover filtro", "remove filter"},
    {"pages_with_hits", "Páginas com ocorrências", "Pages with hits"},
    {"found_as", "Encontrado também como", "Also found as"},
    {"kind_inflection", "outra flexão", "another inflection"},
    {"kind_misread", "provável erro de leitura do OCR", "likely OCR misreading"},
    {"kind_split", "palavra partida pelo OCR", "word split by OCR"},
    {"kind_merged", "palavra colada pelo OCR", "word merged by OCR"},
    {"page", "Página", "Page"},
    {"no_results", "Nenhum documento encontrado.", "No documents found."},
    {"previous", "Anterior", "Previous"},
    {"next", "Próxima", "Next"},
    {"query_error", "Consulta inválida", "Invalid query"},
    {"metadata", "Metadados", "Metadata"},
    {"field", "Campo", "Field"},
    {"value", "Valor", "Value"},
    {"source", "Origem", "Source"},
    {"download_pdf", "Baixar PDF", "Download PDF"},
    {"page_text", "Texto da página (OCR)", "Page text (OCR)"},
    {"thumbnails", "Páginas", "Pages"},
    {"hit", "Ocorrência", "Hit"},
    {"hits_on_page", "ocorrências nesta página", "hits on this page"},
    {"of", "de", "of"},
    {"prev_hit", "◀ Ocorrência anterior", "◀ Previous hit"},
    {"next_hit", "Próxima ocorrência ▶", "Next hit ▶"},
    {"no_hit_pages", "Nenhuma página com ocorrências da busca.", "No page holds the search terms."},
    {"integrity", "Integridade", "Integrity"},
    {"check_integrity", "Verificar integridade (SHA-256, assinatura, Decreto 10.278)",
     "Check integrity (SHA-256, signature, Decreto 10.278)"},
    {"integrity_ok", "Íntegro: o PDF e as matrizes conferem com o índice.", "Intact: the PDF and the masters match the index."},
    {"integrity_bad", "Divergências encontradas", "Mismatches found"},
    {"pdf_sha", "SHA-256 do PDF", "PDF SHA-256"},
    {"masters", "Matrizes (originais digitalizados)", "Masters (scanned originals)"},
    {"signature", "Assinatura digital", "Digital signature"},
    {"unsigned", "Não assinado", "Not signed"},
    {"signature_valid", "Válida", "Valid"},
    {"signature_invalid", "Inválida", "Invalid"},
    {"decree_fields", "Metadados do Decreto 10.278/2020", "Decreto 10.278/2020 metadata"},
    {"recorded", "registrado", "recorded"},
    {"on_disk", "no disco", "on disk"},
    {"matches", "confere", "matches"},
    {"differs", "DIVERGE", "DIFFERS"},
    {"missing", "ausente", "missing"},
    {"type", "Tipo", "Type"},
    {"lot", "Lote", "Lot"},
    {"title", "Título", "Title"},
    {"flags", "Sinalizações", "Flags"},
    {"lots_title", "Lotes", "Lots"},
    {"pages", "Páginas", "Pages"},
    {"blank", "Em branco", "Blank"},
    {"flagged", "Páginas sinalizadas", "Flagged pages"},
    {"flagged_docs", "Documentos sinalizados", "Flagged documents"},
    {"failed", "Falhas", "Failed"},
    {"quarantined", "Entradas em quarentena", "Quarantined inputs"},
    {"started", "Início", "Started"},
    {"finished", "Fim", "Finished"},
    {"project", "Projeto", "Project"},
    {"box", "Caixa", "Box"},
    {"operator", "Operador", "Operator"},
    {"problems", "Problemas", "Problems"},
    {"warnings", "Avisos", "Warnings"},
    {"report_missing", "Sem relatório deste lote (report.json).", "No report for this lot (report.json)."},
    {"no_reports", "Nenhum relatório encontrado. Inicie o servidor com --reports DIR.",
     "No reports found. Start the server with --reports DIR."},
    {"where", "Onde", "Where"},
    {"message", "Mensagem", "Message"},
    {"state", "Situação", "State"},
    {"admin_users", "Usuários", "Users"},
    {"admin_grants", "Acesso por grupo", "Access by group"},
    {"admin_audit", "Trilha de auditoria", "Audit trail"},
    {"role", "Papel", "Role"},
    {"groups", "Grupos (separados por vírgula)", "Groups (comma-separated)"},
    {"disabled", "Desativado", "Disabled"},
    {"full_view", "Vê CPF/CNPJ completos", "Sees full CPF/CNPJ"},
    {"save", "Salvar", "Save"},
    {"add_user", "Adicionar usuário", "Add user"},
    {"new_password", "Nova senha (mín. 10 caracteres)", "New password (at least 10 characters)"},
    {"group", "Grupo", "Group"},
    {"kind", "Tipo", "Kind"},
    {"target", "Lote ou projeto", "Lot or project"},
    {"add_grant", "Conceder", "Grant"},
    {"revoke", "Revogar", "Revoke"},
    {"when", "Quando", "When"},
    {"who", "Quem", "Who"},
    {"address", "De onde", "From"},
    {"action", "Ação", "Action"},
    {"what", "O quê", "What"},
    {"detail", "Detalhe", "Detail"},
    {"export_csv", "Exportar CSV", "Export CSV"},
    {"filter", "Filtrar", "Filter"},
    {"older", "Mais antigos ▶", "Older ▶"},
    {"display_name", "Nome", "Name"},
    {"account_title", "Minha conta", "My account"},
    {"change_password", "Alterar senha", "Change password"},
    {"current_password", "Senha atual", "Current password"},
    {"api_tokens", "Tokens de API (para scripts)", "API tokens (for scripts)"},
    {"new_token", "Criar token", "Create token"},
    {"token_label", "Descrição", "Label"},
    {"token_created", "Token criado. Copie-o agora: ele não será mostrado de novo.",
     "Token created. Copy it now: it will not be shown again."},
    {"created", "Criado", "Created"},
    {"revoked", "Revogado", "Revoked"},
    {"active", "Ativo", "Active"},
    {"err_not_found", "Não encontrado.", "Not found."},
    {"err_forbidden", "Acesso negado.", "Access denied."},
    {"err_csrf", "Formulário expirado ou inválido. Recarregue a página e tente de novo.",
     "Form expired or invalid. Reload the page and try again."},
    {"err_bad_request", "Requisição inválida.", "Bad request."},
    {"err_too_large", "Envio grande demais. O limite aqui é de", "Upload too large. The limit here is"},
    {"err_internal", "Erro interno. O problema foi registrado.", "Internal error. The problem was logged."},
    {"err_audit", "A trilha de auditoria não pôde registrar este pedido; nada foi mostrado. Avise o administrador.",
     "The audit trail could not record this request; nothing was shown. Tell the administrator."},
    {"saved", "Salvo.", "Saved."},
    {"masked_note", "CPF e CNPJ aparecem mascarados (LGPD).", "CPF and CNPJ are shown masked (LGPD)."},
    {"verify_chain", "Cadeia de hashes", "Hash chain"},
    {"chain_ok", "íntegra", "intact"},
    {"chain_bad", "ROMPIDA", "BROKEN"},
    {"signed_in_as", "Conectado como", "Signed in as"},
    {"language", "Idioma", "Language"},
};

}  // namespace

const char* T(Lang lang, std::string_view key) {
  for (const Message& m : kMessages) {
    if (key == m.key) return lang == Lang::kEn ? m.en : m.pt;
  }
  return "?";
}

std::string FormatCount(int64_t n, Lang lang) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += lang == Lang::kEn ? ',' : '.';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string PageImageUrl(const std::string& lot, const std::string& doc, const PageRecord& page, int width) {
  std::string url = width > 0 ? "/page/" : "/thumb/";
  url += UrlEncode(lot) + "/" + UrlEncode(doc) + "/" + std::to_string(page.pdf_page);
  if (width > 0) url += "?w=" + std::to_string(width);
  url += width > 0 ? "&v=" : "?v=";
  url += page.master_sha256.substr(0, 12);
  return url;
}

std::string DocUrl(const std::string& lot, const std::string& doc, int page, const std::string& q) {
  std::string url = "/doc/";
  url += UrlEncode(lot);
  url += '/';
  url += UrlEncode(doc);
  char sep = '?';
  if (page > 0) {
    url += sep;
    url += "page=";
    url += std::to_string(page);
    sep = '&';
  }
  if (!q.empty()) {
    url += sep;
    url += "q=";
    url += UrlEncode(q);
  }
  return url;
}

int ErrorPosition(const std::string& message) {
  const size_t at = message.rfind("at position ");
  if (at == std::string::npos) return 0;
  return std::atoi(message.c_str() + at + 12);
}

}  // namespace acervo::web
