#include "acervo/pipeline/review_pages.h"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acervo/core/review_reason.h"
#include "acervo/pipeline/correction.h"
#include "acervo/pipeline/page_replace.h"
#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/review.h"
#include "acervo/web/page_kit.h"

namespace acervo {
namespace {
using web::Access;
using web::Html;
using web::HttpResponse;
using web::Lang;
using web::RouteContext;
using web::UrlEncode;

std::string L(const RouteContext& ctx, const char* pt, const char* en) {
  return ctx.lang() == Lang::kEn ? en : pt;
}

std::string QueueUrl(const std::string& lot) { return "/review/" + UrlEncode(lot); }

std::string Hidden(const std::string& name, const std::string& value) {
  return "<input type=\"hidden\" name=\"" + Html(name) + "\" value=\"" + Html(value) + "\">";
}

// GET /review: every lot the user may open that has open items.
HttpResponse LotsWithItems(RouteContext& ctx) {
  ReviewFilter f;
  f.limit = 100000;
  Result<std::vector<ReviewItem>> items = ctx.store().Review().ListItems(f);
  if (!items.ok()) return web::ErrorPage(ctx, 500, items.status().ToString());
  std::map<std::string, std::vector<ReviewItem>> by_lot;
  for (ReviewItem& i : *items) {
    if (ctx.user()->MayOpenLot(i.lot_id)) by_lot[i.lot_id].push_back(std::move(i));
  }
  std::string h = "<h1>" + L(ctx, "Revisão", "Review") + "</h1>";
  if (by_lot.empty()) {
    h += "<p id=\"nothing\">" + L(ctx, "Nada para revisar.", "Nothing to review.") + "</p>";
  } else {
    h += "<table id=\"review-lots\"><tr><th>" + L(ctx, "lote", "lot") + "</th><th>" +
         L(ctx, "documentos", "documents") + "</th><th>" + L(ctx, "motivos", "reasons") + "</th></tr>";
    for (const auto& [lot, list] : by_lot) {
      const ReviewCounts c = CountReview(list);
      h += "<tr class=\"review-lot\"><td><a href=\"" + Html(QueueUrl(lot)) + "\">" + Html(lot) + "</a></td><td>" +
           web::FormatCount(c.documents, ctx.lang()) + "</td><td>" + web::FormatCount(c.items, ctx.lang()) +
           "</td></tr>";
    }
    h += "</table>";
  }
  return HttpResponse::Html(web::Layout(ctx, L(ctx, "Revisão", "Review"), h));
}

// A document's page replacements: a form to upload a new image for a page
// (the page of its open re-scan request filled in), and every page replaced
// so far with its image now and who replaced it, when and why.
std::string ReplaceSection(RouteContext& ctx, const DocumentRecord& d, const std::vector<const ReviewItem*>& items) {
  const std::string& lot = d.lot_id;
  const std::string& doc = d.document_id;
  std::string asked;
  for (const ReviewItem* i : items) {
    if (i->kind == "rescan" && i->page > 0) asked = std::to_string(i->page);
  }
  std::string h = "<form method=\"post\" action=\"" + Html(QueueUrl(lot)) +
                  "/replace\" enctype=\"multipart/form-data\" class=\"review-replace\">" + web::CsrfField(ctx) +
                  Hidden("doc", doc) + "<fieldset><legend>" +
                  L(ctx, "Substituir uma página por uma nova imagem", "Replace a page with a new image") +
                  "</legend><label>" + L(ctx, "página", "page") +
                  " <input name=\"page\" type=\"number\" min=\"1\" max=\"" + std::to_string(d.pages.size()) +
                  "\" value=\"" + asked + "\" required></label> <label>" + L(ctx, "imagem", "image") +
                  " <input name=\"image\" type=\"file\" required accept=\"image/png,image/jpeg,image/tiff\">"
                  "</label> <input name=\"note\" placeholder=\"" + L(ctx, "motivo", "why") +
                  "\"> <button type=\"submit\">" + L(ctx, "Substituir página", "Replace page") +
                  "</button></fieldset></form>";
  Result<std::vector<PageReplacement>> done = ctx.store().Review().Replacements(lot, doc);
  if (!done.ok() || done->empty()) return h;
  h += "<table class=\"review-replaced\"><tr><th>" + L(ctx, "página", "page") + "</th><th>" +
       L(ctx, "substituída", "replaced") + "</th><th>" + L(ctx, "por", "by") + "</th><th>" + L(ctx, "motivo", "why") +
       "</th><th>" + L(ctx, "imagem (SHA-256)", "image (SHA-256)") + "</th></tr>";
  for (auto r = done->rbegin(); r != done->rend(); ++r) {
    std::string image = std::to_string(r->page);
    for (const PageRecord& p : d.pages) {
      // The page's image now, when this replacement is the current one.
      if (p.number != r->page || p.master_sha256 != r->new_master_sha256 || !p.in_pdf) continue;
      image = "<a href=\"" + Html(web::DocUrl(lot, doc, p.pdf_page)) + "\"><img class=\"review-thumb\" alt=\"" +
              L(ctx, "página ", "page ") + std::to_string(p.number) + "\" src=\"" +
              Html(web::PageImageUrl(lot, doc, p)) + "\"><br>" + std::to_string(p.number) + "</a>";
    }
    h += "<tr class=\"replaced-page\" data-page=\"" + std::to_string(r->page) + "\" data-sha256=\"" +
         Html(r->new_master_sha256) + "\"><td>" + image + "</td><td>" + Html(r->at) + "</td><td>" + Html(r->user) +
         "</td><td>" + Html(r->reason) + "</td><td><code>" + Html(r->old_master_sha256.substr(0, 12)) + "</code> → <code>" +
         Html(r->new_master_sha256.substr(0, 12)) + "</code></td></tr>";
  }
  return h + "</table>";
}

// GET /review/{lot}, also after a refused action (with its message).
// `focus`: a document shown even with nothing open (the one just acted on,
// or ?doc= to ask for a re-scan or withdraw a document nobody flagged).
HttpResponse LotQueue(RouteContext& ctx, const std::string& lot, const std::string& error = "",
                      const std::string& done = "", const std::string& focus = "") {
  if (!ctx.user()->MayOpenLot(lot)) return web::ErrorPage(ctx, 404, L(ctx, "Lote não encontrado", "No such lot"));
  ReviewFilter f;
  f.lot_id = lot;
  f.limit = 100000;
  Result<std::vector<ReviewItem>> items = ctx.store().Review().ListItems(f);
  if (!items.ok()) return web::ErrorPage(ctx, 500, items.status().ToString());
  LotProfile profile;
  if (Result<std::optional<LotSource>> src = ctx.store().Review().GetLotSource(lot);
      src.ok() && src->has_value() && !(*src)->profile_toml.empty()) {
    if (Result<LotProfile> p = ParseProfile((*src)->profile_toml, "profile.toml"); p.ok()) profile = *p;
  }
  const bool en = ctx.lang() == Lang::kEn;
  const ReviewCounts counts = CountReview(*items);
  std::string h = "<h1>" + L(ctx, "Revisão do lote ", "Review of lot ") + Html(lot) + "</h1>";
  if (!error.empty()) h += "<p class=\"error\" id=\"review-error\" role=\"alert\">" + Html(error) + "</p>";
  if (!done.empty()) h += "<p class=\"ok\" id=\"review-done\" role=\"status\">" + Html(done) + "</p>";
  h += "<p id=\"review-summary\" data-documents=\"" + std::to_string(counts.documents) + "\" data-open=\"" +
       std::to_string(counts.items) + "\">" + web::FormatCount(counts.documents, ctx.lang()) + " " +
       L(ctx, "documentos", "documents") + ", " + web::FormatCount(counts.items, ctx.lang()) + " " +
       L(ctx, "motivos", "reasons") + "</p>";
  std::map<std::string, std::vector<const ReviewItem*>> by_doc;
  for (const ReviewItem& i : *items) by_doc[i.document_id].push_back(&i);
  if (!focus.empty()) by_doc[focus];
  for (const auto& [doc, list] : by_doc) {
    std::optional<DocumentRecord> record;
    if (!doc.empty()) {
      if (Result<std::optional<DocumentRecord>> r = ctx.store().GetDocument(lot, doc); r.ok()) record = std::move(*r);
    }
    h += "<section class=\"review-doc\" data-doc=\"" + Html(doc) + "\"><h2>";
    if (record) {
      h += "<a href=\"" + Html(web::DocUrl(lot, doc)) + "\">" + Html(doc) + "</a> " +
           Html(record->title.empty() ? "" : "— " + record->title);
    } else {
      h += Html(doc.empty() ? L(ctx, "Arquivos de entrada", "Input files") : doc);
    }
    h += "</h2><table class=\"review-items\"><tr><th>" + L(ctx, "página", "page") + "</th><th>" +
         L(ctx, "motivo", "reason") + "</th><th>" + L(ctx, "detalhe", "detail") + "</th><th>" +
         L(ctx, "o que fazer", "what to do") + "</th><th></th></tr>";
    for (const ReviewItem* i : list) {
      std::string page = i->page > 0 ? std::to_string(i->page) : "—";
      if (record && i->page > 0) {
        for (const PageRecord& p : record->pages) {
          if (p.number != i->page || !p.in_pdf) continue;
          page = "<a href=\"" + Html(web::DocUrl(lot, doc, p.pdf_page)) + "\"><img class=\"review-thumb\" alt=\"" +
                 L(ctx, "página ", "page ") + std::to_string(i->page) + "\" src=\"" +
                 Html(web::PageImageUrl(lot, doc, p)) + "\"><br>" + std::to_string(i->page) + "</a>";
        }
      }
      h += "<tr class=\"review-item\" data-kind=\"" + Html(i->kind) + "\" data-flag=\"" + Html(i->Flag()) + "\"><td>" +
           page + "</td><td>" + Html(ReviewLabel(i->kind, doc.empty() ? "" : i->subject, en)) + "</td><td>" +
           Html(i->detail) + "</td><td>" + Html(ReviewAction(i->kind, en)) + "</td><td>";
      if (!doc.empty()) {
        h += "<form method=\"post\" action=\"/review/accept\" class=\"inline\">" + web::CsrfField(ctx) +
             Hidden("lot", lot) + Hidden("doc", doc) + Hidden("page", std::to_string(i->page)) +
             Hidden("kind", i->kind) + "<button type=\"submit\" class=\"accept\">" + L(ctx, "Aceitar", "Accept") +
             "</button></form>";
      }
      h += "</td></tr>";
    }
    h += "</table>";
    if (record) {
      // Correct fields: the type, the title and every field of the profile
      // (and any other field the document has).
      h += "<form method=\"post\" action=\"/review/set\" class=\"review-set\">" + web::CsrfField(ctx) +
           Hidden("lot", lot) + Hidden("doc", doc) + "<fieldset><legend>" +
           L(ctx, "Corrigir campos (sem novo OCR)", "Correct fields (no OCR again)") + "</legend>";
      std::vector<std::pair<std::string, std::string>> fields = {{"document_type", record->document_type},
                                                                 {"title", record->title}};
      auto value_of = [&](const std::string& name) {
        for (const FieldRecord& f : record->fields) {
          if (f.name == name) return f.value;
        }
        return std::string();
      };
      for (const FieldSpec& s : profile.fields) fields.emplace_back(s.name, value_of(s.name));
      for (const FieldRecord& f : record->fields) {
        if (profile.FindField(f.name) == nullptr) fields.emplace_back(f.name, f.value);
      }
      for (const auto& [name, value] : fields) {
        const FieldSpec* spec = profile.FindField(name);
        const std::string label = spec != nullptr && !spec->label.empty() ? spec->label : name;
        h += "<label>" + Html(label) + " <input name=\"field." + Html(name) + "\" value=\"" + Html(value) +
             "\" data-field=\"" + Html(name) + "\"></label> ";
      }
      h += "<label>" + L(ctx, "motivo", "why") + " <input name=\"note\"></label> <button type=\"submit\">" +
           L(ctx, "Salvar correção", "Save correction") + "</button></fieldset></form>";
      h += "<form method=\"post\" action=\"/review/rescan\" class=\"review-rescan inline\">" + web::CsrfField(ctx) +
           Hidden("lot", lot) + Hidden("doc", doc) + "<label>" + L(ctx, "página", "page") +
           " <input name=\"page\" type=\"number\" min=\"1\" max=\"" + std::to_string(record->pages.size()) +
           "\" required></label> <input name=\"note\" placeholder=\"" + L(ctx, "motivo", "why") +
           "\"> <button type=\"submit\">" + L(ctx, "Pedir nova digitalização", "Ask for a re-scan") + "</button></form> ";
      h += "<form method=\"post\" action=\"/review/withdraw\" class=\"review-withdraw inline\">" + web::CsrfField(ctx) +
           Hidden("lot", lot) + Hidden("doc", doc) + "<input name=\"reason\" required placeholder=\"" +
           L(ctx, "motivo da retirada", "why withdraw") + "\"> <button type=\"submit\">" +
           L(ctx, "Retirar documento", "Withdraw document") + "</button></form>";
      h += ReplaceSection(ctx, *record, list);
    }
    h += "</section>";
  }
  if (items->empty()) h += "<p id=\"nothing\">" + L(ctx, "Nada para revisar.", "Nothing to review.") + "</p>";
  return HttpResponse::Html(web::Layout(ctx, L(ctx, "Revisão do lote ", "Review of lot ") + lot, h),
                            error.empty() ? 200 : 422);
}

// The lot and document of a POST, checked; "" when the user may not.
bool Target(RouteContext& ctx, std::string* lot, std::string* doc) {
  *lot = ctx.req().Form("lot");
  *doc = ctx.req().Form("doc");
  return !lot->empty() && !doc->empty() && ctx.user()->MayOpenLot(*lot);
}

HttpResponse Set(RouteContext& ctx) {
  std::string lot, doc;
  if (!Target(ctx, &lot, &doc)) return web::ErrorPage(ctx, 404, L(ctx, "Documento não encontrado", "No such document"));
  CorrectionRequest req;
  req.lot_id = lot;
  req.document_id = doc;
  req.user = ctx.user()->user.name;
  req.reason = ctx.req().Form("note");
  req.resolve = [&ctx](const std::string& l, const std::string& stored) { return web::ResolveStoredFile(ctx, l, stored); };
  for (const auto& [key, value] : ctx.req().form) {
    if (key.rfind("field.", 0) == 0 && key.size() > 6) req.changes.push_back({key.substr(6), value});
  }
  Result<CorrectionResult> r = CorrectDocument(ctx.store(), req);
  if (!r.ok()) {
    ctx.Audit("review_set_refused", lot + "/" + doc, r.status().message(), true);
    return LotQueue(ctx, lot, r.status().message(), "", doc);
  }
  std::string detail;
  for (const HistoryEntry& h : r->changed) detail += (detail.empty() ? "" : "; ") + h.field + ": '" + h.old_value + "' -> '" + h.new_value + "'";
  if (!r->changed.empty()) ctx.Audit("review_set", lot + "/" + doc, detail, true);
  return LotQueue(ctx, lot, "",
                  r->changed.empty() ? L(ctx, "Nada mudou.", "Nothing changed.")
                                     : L(ctx, "Correção salva: ", "Correction saved: ") + doc + " (" + detail + ")",
                  doc);
}

HttpResponse Accept(RouteContext& ctx) {
  std::string lot, doc;
  if (!Target(ctx, &lot, &doc)) return web::ErrorPage(ctx, 404, L(ctx, "Documento não encontrado", "No such document"));
  int page = 0;
  try {
    page = ctx.req().Form("page").empty() ? 0 : std::stoi(ctx.req().Form("page"));
  } catch (...) {
    return LotQueue(ctx, lot, L(ctx, "Página inválida", "Bad page number"));
  }
  const std::string kind = ctx.req().Form("kind");
  Result<int> n = ctx.store().Review().Accept(lot, doc, page, kind, ctx.user()->user.name, ctx.req().Form("note"));
  if (!n.ok()) return LotQueue(ctx, lot, n.status().message());
  ctx.Audit("review_accept", lot + "/" + doc, "page " + std::to_string(page) + " " + kind, true);
  return LotQueue(ctx, lot, "", L(ctx, "Aceito: ", "Accepted: ") + doc, doc);
}

HttpResponse Rescan(RouteContext& ctx) {
  std::string lot, doc;
  if (!Target(ctx, &lot, &doc)) return web::ErrorPage(ctx, 404, L(ctx, "Documento não encontrado", "No such document"));
  int page = 0;
  try {
    page = std::stoi(ctx.req().Form("page"));
  } catch (...) {
    return LotQueue(ctx, lot, L(ctx, "Página inválida", "Bad page number"));
  }
  Status s = ctx.store().Review().RequestRescan(lot, doc, page, ctx.user()->user.name, ctx.req().Form("note"));
  if (!s.ok()) return LotQueue(ctx, lot, s.message());
  ctx.Audit("review_rescan", lot + "/" + doc, "page " + std::to_string(page), true);
  return LotQueue(ctx, lot, "",
                  L(ctx, "Nova digitalização pedida: ", "Re-scan requested: ") + doc + " p. " + std::to_string(page),
                  doc);
}

HttpResponse Withdraw(RouteContext& ctx) {
  std::string lot, doc;
  if (!Target(ctx, &lot, &doc)) return web::ErrorPage(ctx, 404, L(ctx, "Documento não encontrado", "No such document"));
  Result<int> n = ctx.store().Withdraw(lot, doc, ctx.user()->user.name, ctx.req().Form("reason"));
  if (!n.ok()) return LotQueue(ctx, lot, n.status().message());
  ctx.Audit("review_withdraw", lot + "/" + doc, ctx.req().Form("reason"), true);
  return LotQueue(ctx, lot, "", L(ctx, "Documento retirado: ", "Document withdrawn: ") + doc);
}

// What a replacement upload asks for (the web form and the API).
struct Upload {
  std::string lot, doc;
  int page = 0;
  const web::UploadedFile* file = nullptr;
  std::string note;
};

// The upload of a request: its page number and image, checked.
Result<Upload> UploadOf(RouteContext& ctx, const std::string& lot, const std::string& doc, const std::string& page) {
  Upload u{lot, doc, 0, ctx.req().File("image"), ctx.req().Form("note")};
  if (page.empty() || page.size() > 6 || page.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(page) < 1) {
    return Status::InvalidArgument(L(ctx, "Página inválida: ", "Bad page number: ") + page);
  }
  u.page = std::stoi(page);
  if (u.file == nullptr || u.file->content.empty()) {
    return Status::InvalidArgument(L(ctx, "Escolha o arquivo da nova imagem (campo image).",
                                     "Choose the new image's file (field image)."));
  }
  return u;
}

// The replacement an upload asks for, through ReplacePage — the code of
// `acervo review replace` — one at a time (`mu`: each runs one page
// through the chain, OCR included, and two for one document must not race
// on its PDF). Audited whether done or refused.
Result<PageReplaceResult> ReplaceFromUpload(RouteContext& ctx, std::mutex& mu, const Upload& u) {
  PageReplaceRequest req;
  req.lot_id = u.lot;
  req.document_id = u.doc;
  req.page = u.page;
  req.user = ctx.user()->user.name;
  req.reason = u.note;
  req.resolve = [&ctx](const std::string& l, const std::string& stored) { return web::ResolveStoredFile(ctx, l, stored); };
  Result<PageReplaceResult> r = Status::Internal("not run");
  {
    std::lock_guard<std::mutex> lock(mu);
    r = ReplacePageFromBytes(ctx.store(), req, u.file->content, u.file->filename);
  }
  const std::string target = u.lot + "/" + u.doc;
  const std::string what = "page " + std::to_string(u.page) + ", file '" + u.file->filename + "'";
  if (!r.ok()) {
    ctx.Audit("review_replace_refused", target, what + ": " + r.status().message(), true);
    return r;
  }
  ctx.Audit("review_replace", target,
            what + ": master " + r->replacement.old_master_sha256 + " -> " + r->replacement.new_master_sha256 +
                (u.note.empty() ? "" : " (" + u.note + ")"),
            true);
  return r;
}

// A lot the user may not open: its documents do not exist for them
// (audited, as the built-in pages do).
bool Granted(RouteContext& ctx, const std::string& lot, const std::string& doc) {
  if (ctx.user()->MayOpenLot(lot)) return true;
  ctx.Audit("denied", lot + "/" + doc, "lot not granted", true);
  return false;
}

// POST /review/{lot}/replace (multipart: doc, page, image, note).
HttpResponse ReplaceForm(RouteContext& ctx, std::mutex& mu) {
  const std::string lot = ctx.Capture("lot"), doc = ctx.req().Form("doc");
  if (!Granted(ctx, lot, doc)) return web::ErrorPage(ctx, 404, L(ctx, "Documento não encontrado", "No such document"));
  Result<Upload> u = UploadOf(ctx, lot, doc, ctx.req().Form("page"));
  if (!u.ok()) return LotQueue(ctx, lot, u.status().message(), "", doc);
  Result<PageReplaceResult> r = ReplaceFromUpload(ctx, mu, *u);
  if (!r.ok()) {
    return LotQueue(ctx, lot, L(ctx, "Substituição recusada, nada mudou: ", "Replacement refused, nothing changed: ") +
                                  r.status().message(), "", doc);
  }
  return LotQueue(ctx, lot, "",
                  L(ctx, "Página substituída: ", "Page replaced: ") + doc + " p. " + std::to_string(u->page) +
                      (r->in_pdf ? "" : L(ctx, " (em branco: fora do PDF)", " (blank: left out of the PDF)")),
                  doc);
}

// POST /api/v1/documents/{lot}/{doc}/pages/{page}/replacement (multipart:
// image, note): ReplacementJson, without the server's file paths.
HttpResponse ReplaceApi(RouteContext& ctx, std::mutex& mu) {
  const std::string lot = ctx.Capture("lot"), doc = ctx.Capture("doc");
  if (!Granted(ctx, lot, doc)) return web::JsonError(404, "not found");
  Result<Upload> u = UploadOf(ctx, lot, doc, ctx.Capture("page"));
  if (!u.ok()) return web::JsonError(400, u.status().message());
  Result<PageReplaceResult> r = ReplaceFromUpload(ctx, mu, *u);
  if (!r.ok()) {
    const StatusCode code = r.status().code();
    return web::JsonError(code == StatusCode::kNotFound ? 404 : code == StatusCode::kInvalidArgument ? 422 : 500,
                          r.status().message());
  }
  nlohmann::json j = ReplacementJson(*r);
  j["pdf"].erase("path");
  return HttpResponse::Json(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

class ReviewPages : public web::PageModule {
 public:
  void Register(web::Router& r) override {
    r.Upload("/review/{lot}/replace", Access::kOperator, [this](RouteContext& c) { return ReplaceForm(c, replace_mu_); });
    r.Upload("/api/v1/documents/{lot}/{doc}/pages/{page}/replacement", Access::kOperator,
             [this](RouteContext& c) { return ReplaceApi(c, replace_mu_); });
    r.Get("/review", Access::kOperator, LotsWithItems);
    r.Get("/review/{lot}", Access::kOperator,
          [](RouteContext& c) { return LotQueue(c, c.Capture("lot"), "", "", c.req().Query("doc")); });
    r.Post("/review/set", Access::kOperator, Set);
    r.Post("/review/accept", Access::kOperator, Accept);
    r.Post("/review/rescan", Access::kOperator, Rescan);
    r.Post("/review/withdraw", Access::kOperator, Withdraw);
  }

 private:
  std::mutex replace_mu_;  // one page replacement at a time
};

}  // namespace

std::shared_ptr<web::PageModule> NewReviewPages() { return std::make_shared<ReviewPages>(); }

}  // namespace acervo
