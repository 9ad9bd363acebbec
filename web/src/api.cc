// The JSON API under /api/v1/, behind the same access rules as the pages
// (session cookie + CSRF header for changes, or an API token:
// "Authorization: Bearer acv_<id>_<secret>"). Described by
// /api/v1/openapi.json and docs/api.md.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "acervo/indexer/highlight.h"
#include "acervo/indexer/query.h"
#include "internal.h"

namespace acervo::web {

using json = nlohmann::json;

namespace {

std::string NlohmannDump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// True when nlohmann's serializer (ensure_ascii off) copies `s` unchanged
// between its quotes: well-formed UTF-8 (no overlong form, surrogate or
// code point above U+10FFFF) without a byte below 0x20, '"' or '\\'.
bool NeedsNoEscape(std::string_view s) {
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == '"' || c == '\\') return false;
      ++i;
      continue;
    }
    size_t len = 0;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    else return false;
    if (i + len > n) return false;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

void WriteJsonString(std::string_view s, std::string* out) {
  if (NeedsNoEscape(s)) {
    out->push_back('"');
    out->append(s);
    out->push_back('"');
  } else {
    out->append(NlohmannDump(json(std::string(s))));
  }
}

void WriteJson(const json& j, std::string* out) {
  switch (j.type()) {
    case json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, value] : j.get_ref<const json::object_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        WriteJsonString(key, out);
        out->push_back(':');
        WriteJson(value, out);
      }
      out->push_back('}');
      return;
    }
    case json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const json& value : j.get_ref<const json::array_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        WriteJson(value, out);
      }
      out->push_back(']');
      return;
    }
    case json::value_t::string:
      WriteJsonString(j.get_ref<const std::string&>(), out);
      return;
    default:  // numbers, booleans, null, binary: few, and nlohmann's format exactly
      out->append(NlohmannDump(j));
      return;
  }
}

}  // namespace

std::string DumpJson(const json& j) {
  std::string out;
  out.reserve(4096);
  WriteJson(j, &out);
  return out;
}

namespace {

std::string Dump(const json& j) { return DumpJson(j); }

json FieldsJson(const RouteContext& ctx, const std::vector<FieldRecord>& fields, bool with_source) {
  json a = json::array();
  // Members assigned and moved, not from initializer lists (which copy
  // every value twice): a search answers with 20 hits of 10 fields each.
  for (const FieldRecord& f : fields) {
    json o = json::object();
    o["name"] = f.name;
    o["value"] = ForUser(ctx, f.value);
    if (with_source) o["source"] = f.source;
    a.push_back(std::move(o));
  }
  return a;
}

json FacetJson(const std::vector<FacetCount>& v, const RouteContext& ctx) {
  json a = json::array();
  for (const FacetCount& c : v) a.push_back({{"value", ForUser(ctx, c.value)}, {"count", c.count}});
  return a;
}

// The search answer, written straight into its text as DumpJson would
// write the object the route used to build (members in that object's
// order: by name; numbers as nlohmann writes them), without building it:
// a search answers 20 hits of ~25 strings each, and the object's nodes,
// map entries and copies of every string were a tenth of a search's
// instructions. (WebTest.TheSearchAnswerIsWhatTheJsonWriterWrites holds
// the two equal.)
class SearchAnswer {
 public:
  SearchAnswer(const RouteContext& ctx, std::string* out) : ctx_(ctx), out_(*out) {}

  void Hit(const SearchHit& h, const std::string& q) {
    Raw("{\"api\":");
    String("/api/v1/documents/" + UrlEncode(h.lot_id) + "/" + UrlEncode(h.document_id));
    Raw(",\"document\":");
    String(h.document_id);
    Raw(",\"fields\":[");
    for (size_t i = 0; i < h.fields.size(); ++i) {
      Raw(i ? ",{\"name\":" : "{\"name\":");
      String(h.fields[i].name);
      Raw(",\"value\":");
      UserString(h.fields[i].value);
      Raw("}");
    }
    Raw("],\"lot\":");
    String(h.lot_id);
    // Which query term matched as what on which pages (issue 15's
    // TermMatch). A forgiving match may be another personal number than
    // the one asked for: masked like every other value.
    Raw(",\"matches\":[");
    for (size_t i = 0; i < h.matches.size(); ++i) {
      const TermMatch& m = h.matches[i];
      Raw(i ? ",{\"kind\":" : "{\"kind\":");
      String(m.kind);
      Raw(",\"matched\":");
      UserString(m.matched);
      Raw(",\"pages\":");
      Ints(m.pages);
      Raw(",\"query\":");
      UserString(m.query);
      Raw("}");
    }
    Raw("],\"pages\":");
    Ints(h.pages);
    Raw(",\"score\":");
    out_.append(NlohmannDump(json(h.score)));
    Raw(",\"snippet\":");
    UserString(h.snippet);
    Raw(",\"tier\":");
    Int(h.tier);
    Raw(",\"title\":");
    UserString(h.title);
    Raw(",\"type\":");
    String(h.document_type);
    Raw(",\"url\":");
    String(DocUrl(h.lot_id, h.document_id, h.pages.empty() ? 0 : h.pages.front(), q));
    Raw("}");
  }

  void Raw(std::string_view s) { out_.append(s); }
  void String(std::string_view s) { WriteJsonString(s, &out_); }
  // A text as ForUser gives it, not copied when there is nothing to mask.
  void UserString(std::string_view s) {
    if (SeesAsStored(ctx_, s)) {
      String(s);
    } else {
      String(MaskPersonalNumbers(s));
    }
  }
  void Int(int64_t v) {
    char buf[24];
    const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
    out_.append(buf, r.ptr);
  }
  void Ints(const std::vector<int>& v) {
    out_.push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out_.push_back(',');
      Int(v[i]);
    }
    out_.push_back(']');
  }

 private:
  const RouteContext& ctx_;
  std::string& out_;
};

HttpResponse Search(RouteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  Result<SearchRequest> request = SearchFromParams(ctx, 20);
  if (!request.ok()) return JsonError(400, request.status().message());
  Result<std::vector<SearchHit>> hits = ctx.store().Search(*request);
  if (!hits.ok()) {
    return JsonError(hits.status().code() == StatusCode::kInvalidArgument ? 400 : 500, hits.status().message());
  }
  const std::string q = ctx.req().Query("q");
  // The facets first: a failure answers 500 before anything is written.
  json facets;
  std::optional<SearchFacets> f;
  if (ctx.req().Query("facets") == "1") {
    Result<SearchFacets> got = ctx.store().Facets(*request);
    if (!got.ok()) return JsonError(500, got.status().message());
    f = std::move(*got);
    json fields = json::array();
    for (const FieldFacet& ff : f->fields) {
      const bool personal = std::any_of(ff.values.begin(), ff.values.end(),
                                        [&](const FacetCount& v) { return ForUser(ctx, v.value) != v.value; });
      if (!personal) fields.push_back({{"name", ff.name}, {"values", FacetJson(ff.values, ctx)}});
    }
    facets = {{"lots", FacetJson(f->lots, ctx)},
              {"types", FacetJson(f->types, ctx)},
              {"fields", fields},
              {"years", FacetJson(f->years, ctx)},
              {"date_min", f->date_min},
              {"date_max", f->date_max}};
  }
  // Members by name, as the object DumpJson writes: facets, hits, limit,
  // offset, query, took_ms, total, total_exact.
  std::string body;
  body.reserve(4096 + 1024 * hits->size());
  SearchAnswer a(ctx, &body);
  a.Raw("{");
  if (f) {
    a.Raw("\"facets\":");
    WriteJson(facets, &body);
    a.Raw(",");
  }
  a.Raw("\"hits\":[");
  for (size_t i = 0; i < hits->size(); ++i) {
    if (i) a.Raw(",");
    a.Hit((*hits)[i], q);
  }
  a.Raw("],\"limit\":");
  a.Int(request->limit);
  a.Raw(",\"offset\":");
  a.Int(request->offset);
  a.Raw(",\"query\":");
  a.String(q);
  a.Raw(",\"took_ms\":");
  body.append(NlohmannDump(json(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count())));
  if (f) {
    a.Raw(",\"total\":");
    a.Int(f->total);
    a.Raw(f->total_exact ? ",\"total_exact\":true" : ",\"total_exact\":false");
  }
  a.Raw("}");
  ctx.Audit("search", ctx.req().Query("lot"), q, /*wait=*/false);
  return HttpResponse::Json(std::move(body));
}

HttpResponse Document(RouteContext& ctx) {
  Result<std::optional<DocumentRecord>> got = OpenDocument(ctx);
  if (!got.ok()) return JsonError(500, "internal error");
  if (!got->has_value()) return JsonError(404, "not found");
  const DocumentRecord& d = **got;
  ctx.Audit("view_document", d.lot_id + "/" + d.document_id, "api", /*wait=*/false);
  json pages = json::array();
  for (const PageRecord& p : d.pages) {
    pages.push_back({{"number", p.number},
                     {"pdf_page", p.in_pdf ? json(p.pdf_page) : json(nullptr)},
                     {"blank", p.blank},
                     {"flags", p.flags},
                     {"mean_confidence", p.mean_confidence},
                     {"master_sha256", p.master_sha256}});
  }
  const std::string base = "/api/v1/documents/" + UrlEncode(d.lot_id) + "/" + UrlEncode(d.document_id);
  return HttpResponse::Json(Dump({{"lot", d.lot_id},
                                  {"document", d.document_id},
                                  {"title", ForUser(ctx, d.title)},
                                  {"type", d.document_type},
                                  {"page_count", d.page_count},
                                  {"pdf_sha256", d.pdf_sha256},
                                  {"flags", d.flags},
                                  {"fields", FieldsJson(ctx, d.fields, true)},
                                  {"pages", pages},
                                  {"pdf", base + "/pdf"},
                                  {"url", DocUrl(d.lot_id, d.document_id)}}));
}

// One page: its text, its image's size and URL, and the boxes of the words
// matching `q`, in image pixels and as fractions of the page.
HttpResponse Page(RouteContext& ctx) {
  Result<std::optional<DocumentRecord>> got = OpenDocument(ctx);
  if (!got.ok()) return JsonError(500, "internal error");
  if (!got->has_value()) return JsonError(404, "not found");
  const DocumentRecord& d = **got;
  const std::string& n = ctx.Capture("page");
  if (n.empty() || n.size() > 6 || n.find_first_not_of("0123456789") != std::string::npos) {
    return JsonError(404, "not found");
  }
  const int pdf_page = std::stoi(n);
  const PageRecord* page = nullptr;
  for (const PageRecord& p : d.pages) {
    if (p.in_pdf && p.pdf_page == pdf_page) page = &p;
  }
  if (page == nullptr) return JsonError(404, "not found");
  const std::string q = ctx.req().Query("q");
  if (Result<ParsedQuery> parsed = ParseQuery(q); !parsed.ok()) return JsonError(400, parsed.status().message());
  // The words the search matched on this page (forgiving variants included).
  const std::vector<HighlightTerm> terms = PageHighlightTerms(DocumentMatches(ctx, d, q), pdf_page);
  Result<std::optional<PageWords>> words = ctx.store().GetPageWords(d.lot_id, d.document_id, page->number);
  if (!words.ok()) return JsonError(500, "internal error");
  json boxes = json::array();
  int width = 0, height = 0;
  if (words->has_value()) {
    width = (**words).image_width;
    height = (**words).image_height;
    const std::vector<bool> boxed = MatchingWords((**words).words, terms);
    for (size_t i = 0; i < boxed.size(); ++i) {
      if (!boxed[i]) continue;
      const WordBox& w = (**words).words[i];
      json b = {{"text", ForUser(ctx, w.text)}, {"x", w.x}, {"y", w.y}, {"w", w.w}, {"h", w.h}};
      if (width > 0 && height > 0) {
        b["fx"] = static_cast<double>(w.x) / width;
        b["fy"] = static_cast<double>(w.y) / height;
        b["fw"] = static_cast<double>(w.w) / width;
        b["fh"] = static_cast<double>(w.h) / height;
      }
      boxes.push_back(b);
    }
  }
  ctx.Audit("view_page", d.lot_id + "/" + d.document_id + "/" + n, "api " + q, /*wait=*/false);
  const std::string base = "/api/v1/documents/" + UrlEncode(d.lot_id) + "/" + UrlEncode(d.document_id);
  return HttpResponse::Json(Dump({{"lot", d.lot_id},
                                  {"document", d.document_id},
                                  {"pdf_page", pdf_page},
                                  {"number", page->number},
                                  {"image_width", width},
                                  {"image_height", height},
                                  {"image", base + "/pages/" + n + "/image"},
                                  {"text", ForUser(ctx, page->text)},
                                  {"hits", boxes}}));
}

HttpResponse Lots(RouteContext& ctx) {
  Result<std::vector<LotSummary>> lots = ctx.store().LotSummaries();
  if (!lots.ok()) return JsonError(500, "internal error");
  json arr = json::array();
  for (const LotSummary& l : *lots) {
    if (!ctx.user()->MayOpenLot(l.lot.id)) continue;
    arr.push_back({{"lot", l.lot.id},
                   {"project", l.lot.project},
                   {"box", l.lot.box},
                   {"operator", l.lot.operator_name},
                   {"started_at", l.lot.started_at},
                   {"finished_at", l.lot.finished_at},
                   {"documents", l.documents},
                   {"pages", l.pages},
                   {"blank_pages", l.blank_pages},
                   {"flagged_pages", l.flagged_pages},
                   {"flagged_documents", l.flagged_documents}});
  }
  return HttpResponse::Json(Dump({{"lots", arr}}));
}

HttpResponse Audit(RouteContext& ctx) {
  AuditFilter f;
  const HttpRequest& req = ctx.req();
  f.user = req.Query("user");
  f.action = req.Query("action");
  f.target_prefix = req.Query("target");
  f.since = req.Query("since");
  f.until = req.Query("until");
  for (const auto& [name, dest] : {std::pair{"before", &f.before_seq}}) {
    const std::string v = req.Query(name);
    if (v.empty()) continue;
    if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      return JsonError(400, "'before' must be a number");
    }
    *dest = std::stoll(v);
  }
  if (const std::string l = req.Query("limit"); !l.empty()) {
    if (l.size() > 5 || l.find_first_not_of("0123456789") != std::string::npos) {
      return JsonError(400, "'limit' must be a number");
    }
    f.limit = std::stoi(l);
  }
  Result<std::vector<AuditRow>> rows = ctx.store().Access().ListAudit(f);
  if (!rows.ok()) return JsonError(rows.status().code() == StatusCode::kInvalidArgument ? 400 : 500, rows.status().message());
  json arr = json::array();
  for (const AuditRow& r : *rows) {
    arr.push_back({{"seq", r.seq},
                   {"at", r.entry.at},
                   {"user", r.entry.user},
                   {"address", r.entry.address},
                   {"action", r.entry.action},
                   {"target", r.entry.target},
                   {"detail", r.entry.detail},
                   {"prev_hash", r.prev_hash},
                   {"hash", r.hash}});
  }
  ctx.Audit("view_audit", "", "api");
  return HttpResponse::Json(Dump({{"rows", arr}}));
}

HttpResponse Me(RouteContext& ctx) {
  const Principal& p = *ctx.user();
  return HttpResponse::Json(Dump({{"user", p.user.name},
                                  {"display_name", p.user.display_name},
                                  {"role", RoleName(p.user.role)},
                                  {"groups", p.user.groups},
                                  {"all_lots", p.all_lots},
                                  {"lots", p.allowed_lots},
                                  {"full_view", p.SeesPersonalNumbers()}}));
}

HttpResponse NewToken(RouteContext& ctx) {
  std::string label = ctx.req().Form("label");
  if (label.empty() && !ctx.req().body.empty() && ctx.req().Header("content-type").rfind("application/json", 0) == 0) {
    json j = json::parse(ctx.req().body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return JsonError(400, "body must be a JSON object");
    if (j.contains("label") && j["label"].is_string()) label = j["label"].get<std::string>();
  }
  Result<std::string> token = CreateApiToken(ctx, label);
  if (!token.ok()) return JsonError(500, token.status().message());
  return HttpResponse::Json(Dump({{"token", *token}, {"note", "shown once; stored only as its SHA-256"}}), 201);
}

extern const char* const kOpenApi;

class Api final : public PageModule {
 public:
  void Register(Router& r) override {
    r.Get("/api/v1/openapi.json", Access::kPublic, [](RouteContext&) { return HttpResponse::Json(kOpenApi); });
    r.Get("/api/v1/me", Access::kSignedIn, Me);
    r.Get("/api/v1/search", Access::kSignedIn, Search);
    r.Get("/api/v1/documents/{lot}/{doc}", Access::kSignedIn, Document);
    r.Get("/api/v1/documents/{lot}/{doc}/pages/{page}", Access::kSignedIn, Page);
    r.Get("/api/v1/lots", Access::kSignedIn, Lots);
    r.Get("/api/v1/audit", Access::kAdmin, Audit);
    r.Post("/api/v1/tokens", Access::kSignedIn, NewToken);
  }
};

const char* const kOpenApi = R"json({
  "openapi": "3.0.3",
  "info": {"title": "Acervo API", "version": "1.0.0",
           "description": "Search, documents, page images with hit boxes, lots and the audit trail of an Acervo archive. Every request runs as a user: a session cookie (browser; POST needs the X-CSRF-Token header) or an API token (Authorization: Bearer acv_<id>_<secret>, created on /account or by POST /api/v1/tokens). A document of a lot the user may not open answers 404. CPF/CNPJ are masked for readers without full view. See docs/api.md."},
  "components": {
    "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}, "session": {"type": "apiKey", "in": "cookie", "name": "acervo_session"}},
    "schemas": {
      "Error": {"type": "object", "properties": {"error": {"type": "string"}, "position": {"type": "integer", "description": "1-based position in the query, for query errors"}}},
      "Field": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}, "source": {"type": "string"}}},
      "Facet": {"type": "object", "properties": {"value": {"type": "string"}, "count": {"type": "integer"}}},
      "Hit": {"type": "object", "properties": {"lot": {"type": "string"}, "document": {"type": "string"}, "title": {"type": "string"}, "type": {"type": "string"}, "fields": {"type": "array", "items": {"$ref": "#/components/schemas/Field"}}, "pages": {"type": "array", "items": {"type": "integer"}}, "snippet": {"type": "string", "description": "hit words between « and »"}, "score": {"type": "number"}, "tier": {"type": "integer", "description": "0 every term exact, 1 an inflection needed, 2 a forgiving match (OCR misreading, split or merged word)"}, "matches": {"type": "array", "items": {"$ref": "#/components/schemas/TermMatch"}}, "url": {"type": "string"}, "api": {"type": "string"}}},
      "TermMatch": {"type": "object", "properties": {"query": {"type": "string"}, "matched": {"type": "string", "description": "the indexed word(s) that matched, folded"}, "kind": {"type": "string", "enum": ["exact", "inflection", "misread", "split", "merged"]}, "pages": {"type": "array", "items": {"type": "integer"}}}},
      "Box": {"type": "object", "properties": {"text": {"type": "string"}, "x": {"type": "integer"}, "y": {"type": "integer"}, "w": {"type": "integer"}, "h": {"type": "integer"}, "fx": {"type": "number"}, "fy": {"type": "number"}, "fw": {"type": "number"}, "fh": {"type": "number"}}},
      "AuditRow": {"type": "object", "properties": {"seq": {"type": "integer"}, "at": {"type": "string"}, "user": {"type": "string"}, "address": {"type": "string"}, "action": {"type": "string"}, "target": {"type": "string"}, "detail": {"type": "string"}, "prev_hash": {"type": "string"}, "hash": {"type": "string"}}}
    },
    "responses": {
      "BadRequest": {"description": "bad parameter or malformed query", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "no session or token, or an invalid token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Forbidden": {"description": "the user's role may not do this, or a missing/wrong CSRF token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "no such document or page for this user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooLarge": {"description": "request body over its limit (1 MiB; an upload route: acervo serve --max-upload-mb, 64 MiB by default, for the users it is meant for)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  },
  "security": [{"token": []}, {"session": []}],
  "paths": {
    "/api/v1/search": {"get": {"summary": "Search documents", "parameters": [
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "query language of docs/store.md"},
        {"name": "lot", "in": "query", "schema": {"type": "string"}},
        {"name": "type", "in": "query", "schema": {"type": "string"}},
        {"name": "field", "in": "query", "schema": {"type": "string"}, "description": "NAME=VALUE, repeatable"},
        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["relevance", "newest", "oldest"]}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10000}},
        {"name": "facets", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}, "description": "1: also total and filter counts"}],
      "responses": {"200": {"description": "hits", "content": {"application/json": {"schema": {"type": "object", "properties": {
          "query": {"type": "string"}, "offset": {"type": "integer"}, "limit": {"type": "integer"}, "took_ms": {"type": "number"},
          "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
          "total": {"type": "integer"}, "total_exact": {"type": "boolean"},
          "facets": {"type": "object", "properties": {"lots": {"type": "array", "items": {"$ref": "#/components/schemas/Facet"}}, "types": {"type": "array", "items": {"$ref": "#/components/schemas/Facet"}}, "years": {"type": "array", "items": {"$ref": "#/components/schemas/Facet"}}, "fields": {"type": "array"}, "date_min": {"type": "string"}, "date_max": {"type": "string"}}}}}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}}}},
    "/api/v1/documents/{lot}/{document}": {"get": {"summary": "A document: metadata with sources, pages", "parameters": [
        {"name": "lot", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "document", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "the document"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/v1/documents/{lot}/{document}/pages/{page}": {"get": {"summary": "A PDF page: text, image size and URL, boxes of the words matching q", "parameters": [
        {"name": "lot", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "document", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "page", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}},
        {"name": "q", "in": "query", "schema": {"type": "string"}}],
      "responses": {"200": {"description": "the page", "content": {"application/json": {"schema": {"type": "object", "properties": {"pdf_page": {"type": "integer"}, "image_width": {"type": "integer"}, "image_height": {"type": "integer"}, "image": {"type": "string"}, "text": {"type": "string"}, "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Box"}}}}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/v1/documents/{lot}/{document}/pages/{page}/image": {"get": {"summary": "The page rendered as JPEG", "parameters": [
        {"name": "lot", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "document", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "page", "in": "path", "required": true, "schema": {"type": "integer"}},
        {"name": "w", "in": "query", "schema": {"type": "integer", "minimum": 100, "maximum": 2400, "default": 1200}}],
      "responses": {"200": {"description": "image/jpeg"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/v1/documents/{lot}/{document}/pdf": {"get": {"summary": "Download the PDF/A (audited)", "parameters": [
        {"name": "lot", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "document", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "application/pdf"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/v1/documents/{lot}/{document}/pages/{page}/replacement": {"post": {"summary": "Replace a page from a new image (operators of the lot; audited): only that page goes through the lot's stage chain, the PDF, text, index and side outputs are rebuilt, the old master is kept (docs/review.md). The same code as `acervo review replace`.", "parameters": [
        {"name": "lot", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "document", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "page", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}, "description": "the page's number in the document (blank pages count)"}],
      "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {"image": {"type": "string", "format": "binary", "description": "TIFF, PNG or JPEG (its first page); the file name is never used as a path"}, "note": {"type": "string", "description": "why, for the history"}}}}}},
      "responses": {"200": {"description": "the replacement", "content": {"application/json": {"schema": {"type": "object", "properties": {"lot": {"type": "string"}, "document": {"type": "string"}, "page": {"type": "integer"}, "old_master": {"type": "object"}, "new_master": {"type": "object"}, "pdf": {"type": "object", "properties": {"pages": {"type": "integer"}, "sha256": {"type": "string"}, "previous_sha256": {"type": "string"}}}, "in_pdf": {"type": "boolean"}, "pdf_page": {"type": "integer"}, "flags": {"type": "array", "items": {"type": "string"}}, "confidence": {"type": "number"}, "stages": {"type": "object"}, "review": {"type": "object"}}}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}, "413": {"$ref": "#/components/responses/TooLarge"},
        "422": {"description": "refused, nothing changed: the image cannot be read or is not a page, is below the profile's min_dpi, is the page's current master, is a two-page spread for a single page; the document is withdrawn", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
    "/api/v1/lots": {"get": {"summary": "Lots the user may open, with counts", "responses": {"200": {"description": "lots"}}}},
    "/api/v1/audit": {"get": {"summary": "Audit trail, newest first (admins)", "parameters": [
        {"name": "user", "in": "query", "schema": {"type": "string"}},
        {"name": "action", "in": "query", "schema": {"type": "string"}},
        {"name": "target", "in": "query", "schema": {"type": "string"}, "description": "prefix"},
        {"name": "since", "in": "query", "schema": {"type": "string"}},
        {"name": "until", "in": "query", "schema": {"type": "string"}},
        {"name": "before", "in": "query", "schema": {"type": "integer"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 10000}}],
      "responses": {"200": {"description": "rows", "content": {"application/json": {"schema": {"type": "object", "properties": {"rows": {"type": "array", "items": {"$ref": "#/components/schemas/AuditRow"}}}}}}}, "403": {"$ref": "#/components/responses/Forbidden"}}}},
    "/api/v1/me": {"get": {"summary": "Who the request runs as", "responses": {"200": {"description": "user, role, groups, lots"}}}},
    "/api/v1/tokens": {"post": {"summary": "Create an API token for the caller (shown once)", "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"label": {"type": "string"}}}}}},
      "responses": {"201": {"description": "the token", "content": {"application/json": {"schema": {"type": "object", "properties": {"token": {"type": "string"}}}}}}, "403": {"$ref": "#/components/responses/Forbidden"}}}},
    "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3"}}}}
  }
})json";

}  // namespace

std::shared_ptr<PageModule> NewApi() { return std::make_shared<Api>(); }

}  // namespace acervo::web
