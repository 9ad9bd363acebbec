// The search page: one query box in the query language of docs/store.md,
// filters with counts, sort, pages of 20, snippets with the words marked,
// links to the pages with hits, the count and the time taken. Server-side
// HTML: works without JavaScript.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "acervo/indexer/field_value.h"
#include "internal.h"

namespace acervo::web {

bool SeesAsStored(const RouteContext& ctx, std::string_view text) {
  return (ctx.user() != nullptr && ctx.user()->SeesPersonalNumbers()) || !MayHoldPersonalNumber(text);
}

std::string ForUser(const RouteContext& ctx, std::string_view text) {
  if (SeesAsStored(ctx, text)) return std::string(text);
  return MaskPersonalNumbers(text);
}

std::string SnippetHtml(const RouteContext& ctx, std::string_view snippet) {
  const std::string text = Html(ForUser(ctx, snippet));
  std::string out;
  bool open = false;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "«") == 0) {
      if (!open) out += "<mark>";
      open = true;
      i += 2;
    } else if (text.compare(i, 2, "»") == 0) {
      if (open) out += "</mark>";
      open = false;
      i += 2;
    } else {
      out += text[i++];
    }
  }
  if (open) out += "</mark>";
  return out;
}

Result<SearchRequest> SearchFromParams(const RouteContext& ctx, int page_size) {
  const HttpRequest& req = ctx.req();
  SearchRequest r;
  r.query = req.Query("q");
  if (r.query.size() > 4096) return Status::InvalidArgument("the query is longer than 4096 bytes");
  const std::string type = req.Query("type");
  if (!type.empty()) {
    if (type.find('"') != std::string::npos || type.size() > 200) {
      return Status::InvalidArgument("bad document type filter");
    }
    // Appended after the user's text, so parse errors keep their positions.
    r.query += (r.query.empty() ? "" : " ") + std::string("type:\"") + type + "\"";
  }
  r.lot = req.Query("lot");
  for (const std::string& f : req.QueryAll("field")) {
    const size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) return Status::InvalidArgument("field filter must be NAME=VALUE");
    r.fields.emplace_back(f.substr(0, eq), f.substr(eq + 1));
  }
  for (const auto& [name, dest] : {std::pair{"from", &r.date_from}, std::pair{"to", &r.date_to}}) {
    const std::string v = req.Query(name);
    if (v.empty()) continue;
    if (!ParseIsoDate(v)) return Status::InvalidArgument(std::string("'") + name + "' is not a date (YYYY-MM-DD)");
    *dest = v;
  }
  const std::string sort = req.Query("sort");
  if (sort == "newest") {
    r.sort = SearchRequest::Sort::kDateNewest;
  } else if (sort == "oldest") {
    r.sort = SearchRequest::Sort::kDateOldest;
  } else if (!sort.empty() && sort != "relevance") {
    return Status::InvalidArgument("sort must be relevance, newest or oldest");
  }
  auto number = [&](const std::string& name, int lo, int hi, int dflt) -> Result<int> {
    const std::string v = req.Query(name);
    if (v.empty()) return dflt;
    if (v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("'" + name + "' must be a number");
    }
    const int n = std::stoi(v);
    if (n < lo || n > hi) {
      return Status::InvalidArgument("'" + name + "' must be within " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return n;
  };
  ACERVO_ASSIGN_OR_RETURN(r.limit, number("limit", 1, 100, page_size));
  ACERVO_ASSIGN_OR_RETURN(const int page, number("page", 1, 10000 / r.limit, 1));
  ACERVO_ASSIGN_OR_RETURN(r.offset, number("offset", 0, 10000, (page - 1) * r.limit));
  ctx.RestrictToAllowedLots(&r);
  return r;
}

namespace {

constexpr int kPageSize = 20;

// The current search URL with parameter `name` set to `value` ("" drops
// it); `page` always starts over unless it is the one set.
std::string Url(const HttpRequest& req, const std::string& name, const std::string& value, bool add = false) {
  std::string url = "/search?";
  bool first = true;
  for (const auto& [k, v] : req.query) {
    if (k == "page" || k == "lang" || (k == name && !add)) continue;
    if (!first) url += '&';
    url += UrlEncode(k);
    url += '=';
    url += UrlEncode(v);
    first = false;
  }
  if (!value.empty()) {
    if (!first) url += '&';
    url += UrlEncode(name);
    url += '=';
    url += UrlEncode(value);
  }
  return url;
}

// The URL without one value of a repeatable parameter.
std::string UrlWithout(const HttpRequest& req, const std::string& name, const std::string& value) {
  std::string url = "/search?";
  bool first = true;
  for (const auto& [k, v] : req.query) {
    if (k == "page" || k == "lang" || (k == name && v == value)) continue;
    if (!first) url += '&';
    url += UrlEncode(k);
    url += '=';
    url += UrlEncode(v);
    first = false;
  }
  return url;
}

std::string FacetList(const RouteContext& ctx, const char* title_key, const std::string& param,
                      const std::vector<FacetCount>& values, bool add = false,
                      const std::string& field_name = "") {
  if (values.empty()) return "";
  std::string h = "<h3>" + Html(title_key[0] == '=' ? std::string(title_key + 1) : T(ctx.lang(), title_key)) +
                  "</h3><ul>";
  for (const FacetCount& v : values) {
    const std::string value = field_name.empty() ? v.value : field_name + "=" + v.value;
    h += "<li><a href=\"" + Html(Url(ctx.req(), param, value, add)) + "\">" + Html(ForUser(ctx, v.value)) +
         "</a><span class=\"count\">" + FormatCount(v.count, ctx.lang()) + "</span></li>";
  }
  return h + "</ul>";
}

// Where the search page's counted part (filters, total, pages) joins the
// rest: HTML comments cannot come from escaped user text.
constexpr const char* kTailMark = "<!--acervo:counts-->";

// The list of hits (or the no-results note).
std::string HitList(const RouteContext& ctx, const std::vector<SearchHit>& hits, const SearchRequest& request) {
  const Lang lang = ctx.lang();
  const std::string q = ctx.req().Query("q");
  std::string list = "<ol class=\"hits\" id=\"hits\" start=\"" + std::to_string(request.offset + 1) + "\">";
  for (const SearchHit& h : hits) {
    const int first_page = h.pages.empty() ? 0 : h.pages.front();
    list += "<li class=\"hit\"><h2><a class=\"doc-link\" href=\"" +
            Html(DocUrl(h.lot_id, h.document_id, first_page, q)) + "\">" +
            Html(ForUser(ctx, h.title.empty() ? h.document_id : h.title)) + "</a></h2>";
    list += "<div class=\"meta\">" + Html(T(lang, "lot")) + " " + Html(h.lot_id) + " · " + Html(h.document_id) +
            (h.document_type.empty() ? "" : " · " + Html(h.document_type)) + "</div>";
    if (!h.fields.empty()) {
      list += "<div class=\"fields\">";
      for (const FieldRecord& f : h.fields) {
        list += "<span><b>" + Html(f.name) + ":</b> " + Html(ForUser(ctx, f.value)) + "</span>";
      }
      list += "</div>";
    }
    if (!h.snippet.empty()) list += "<p class=\"snippet\">" + SnippetHtml(ctx, h.snippet) + "</p>";
    // Words found as another inflection or through a forgiving match
    // (issue 15): said, so a reader can judge the hit.
    std::string found;
    for (const TermMatch& m : h.matches) {
      if (m.kind == "exact" || m.matched == m.query) continue;
      found += std::string(found.empty() ? "" : ", ") + "<b>" + Html(ForUser(ctx, m.matched)) + "</b> (" +
               Html(T(lang, "kind_" + m.kind)) + ")";
    }
    if (!found.empty()) list += "<p class=\"found-as\">" + Html(T(lang, "found_as")) + ": " + found + "</p>";
    if (!h.pages.empty()) {
      list += "<div class=\"pages\">" + Html(T(lang, "pages_with_hits")) + ": ";
      for (size_t i = 0; i < h.pages.size() && i < 30; ++i) {
        list += "<a href=\"" + Html(DocUrl(h.lot_id, h.document_id, h.pages[i], q)) + "\">" +
                std::to_string(h.pages[i]) + "</a> ";
      }
      if (h.pages.size() > 30) list += "…";
      list += "</div>";
    }
    list += "</li>";
  }
  list += "</ol>";
  if (hits.empty()) list = "<p id=\"no-results\">" + Html(T(lang, "no_results")) + "</p>";
  return list;
}

// The counted part of the search page: the filters with their counts, the
// total and the time, the links to the pages of results.
std::string CountsHtml(const RouteContext& ctx, const Result<SearchFacets>& facets, const SearchRequest& request,
                       double seconds) {
  const Lang lang = ctx.lang();
  const HttpRequest& req = ctx.req();
  std::string side = "<aside class=\"facets\" id=\"facets\"><h2>" + Html(T(lang, "filters")) + "</h2>";
  if (!facets.ok()) {
    return side + "<p class=\"error\" role=\"alert\">" + Html(T(lang, "query_error")) + ": " +
           Html(facets.status().message()) + "</p></aside>";
  }
  side += FacetList(ctx, "filter_lot", "lot", facets->lots);
  side += FacetList(ctx, "filter_type", "type", facets->types);
  for (const FieldFacet& ff : facets->fields) {
    // A filter link carries the value itself: none for personal numbers
    // the user may not see in full.
    const bool personal = std::any_of(ff.values.begin(), ff.values.end(), [&](const FacetCount& v) {
      return ForUser(ctx, v.value) != v.value;
    });
    if (!personal) side += FacetList(ctx, ("=" + ff.name).c_str(), "field", ff.values, /*add=*/true, ff.name);
  }
  if (!facets->years.empty() || !req.Query("from").empty() || !req.Query("to").empty()) {
    side += "<h3>" + Html(T(lang, "filter_date")) + "</h3><ul>";
    for (const FacetCount& y : facets->years) {
      HttpRequest tmp = req;
      tmp.query.erase("from");
      tmp.query.erase("to");
      tmp.query.emplace("from", y.value + "-01-01");
      tmp.query.emplace("to", y.value + "-12-31");
      side += "<li><a href=\"" + Html(Url(tmp, "", "")) + "\">" + Html(y.value) + "</a><span class=\"count\">" +
              FormatCount(y.count, lang) + "</span></li>";
    }
    side += "</ul><form method=\"get\" action=\"/search\" class=\"dates\">";
    for (const auto& [k, v] : req.query) {
      if (k == "from" || k == "to" || k == "page" || k == "lang") continue;
      side += "<input type=\"hidden\" name=\"" + Html(k) + "\" value=\"" + Html(v) + "\">";
    }
    side += "<label>" + Html(T(lang, "from")) + " <input type=\"date\" name=\"from\" value=\"" + Html(req.Query("from")) +
            "\"></label> <label>" + Html(T(lang, "to")) + " <input type=\"date\" name=\"to\" value=\"" +
            Html(req.Query("to")) + "\"></label> <button type=\"submit\">" + Html(T(lang, "apply")) + "</button></form>";
  }
  side += "</aside>";

  char took[32];
  std::snprintf(took, sizeof(took), "%.2f", seconds);
  std::string seconds_text = took;
  if (lang == Lang::kPt) std::replace(seconds_text.begin(), seconds_text.end(), '.', ',');
  std::string summary = "<div class=\"summary-area\"><p class=\"summary\" id=\"summary\"><span id=\"total\">" +
                        std::string(facets->total_exact ? "" : std::string(T(lang, "more_than")) + " ") +
                        FormatCount(facets->total, lang) + "</span> " +
                        Html(T(lang, facets->total == 1 ? "document" : "documents")) + " " + Html(T(lang, "in")) +
                        " <span id=\"took\">" + seconds_text + " s</span></p>";
  if (ctx.user() != nullptr && !ctx.user()->SeesPersonalNumbers()) {
    summary += "<p class=\"note\">" + Html(T(lang, "masked_note")) + "</p>";
  }
  summary += "</div>";

  // Pages of results.
  const int page = request.offset / request.limit + 1;
  const int64_t shown_total = std::min<int64_t>(facets->total, 10000);
  const int pages = static_cast<int>((shown_total + request.limit - 1) / request.limit);
  std::string pager;
  if (pages > 1) {
    pager = "<nav class=\"pager\" aria-label=\"pages\">";
    if (page > 1) pager += "<a rel=\"prev\" href=\"" + Html(Url(req, "page", std::to_string(page - 1))) + "\">" +
                           Html(T(lang, "previous")) + "</a>";
    for (int p = std::max(1, page - 4); p <= std::min(pages, page + 4); ++p) {
      pager += p == page ? "<b>" + std::to_string(p) + "</b>"
                         : "<a href=\"" + Html(Url(req, "page", std::to_string(p))) + "\">" + std::to_string(p) + "</a>";
    }
    if (page < pages) pager += "<a rel=\"next\" id=\"next-page\" href=\"" +
                               Html(Url(req, "page", std::to_string(page + 1))) + "\">" + Html(T(lang, "next")) + "</a>";
    pager += "</nav>";
  }
  return side + summary + pager;
}

HttpResponse SearchPage(RouteContext& ctx) {
  const Lang lang = ctx.lang();
  const HttpRequest& req = ctx.req();
  const std::string q = req.Query("q");
  const std::string sort = req.Query("sort");
  std::string form = "<form class=\"search\" method=\"get\" action=\"/search\" role=\"search\">";
  form += "<input type=\"search\" name=\"q\" id=\"q\" value=\"" + Html(q) + "\" placeholder=\"" +
          Html(T(lang, "search_placeholder")) + "\" aria-label=\"" + Html(T(lang, "search_button")) + "\">";
  for (const char* keep : {"lot", "type", "from", "to"}) {
    if (!req.Query(keep).empty()) {
      form += "<input type=\"hidden\" name=\"" + std::string(keep) + "\" value=\"" + Html(req.Query(keep)) + "\">";
    }
  }
  for (const std::string& f : req.QueryAll("field")) {
    form += "<input type=\"hidden\" name=\"field\" value=\"" + Html(f) + "\">";
  }
  form += "<label>" + Html(T(lang, "sort")) + " <select name=\"sort\" id=\"sort\">";
  for (const auto& [v, key] : {std::pair{"relevance", "sort_relevance"}, std::pair{"newest", "sort_newest"},
                               std::pair{"oldest", "sort_oldest"}}) {
    form += std::string("<option value=\"") + v + "\"" + (sort == v ? " selected" : "") + ">" + Html(T(lang, key)) +
            "</option>";
  }
  form += "</select></label><button type=\"submit\">" + Html(T(lang, "search_button")) + "</button></form>";
  form += "<p class=\"note\">" + Html(T(lang, "search_help")) + "</p>";

  const auto t0 = std::chrono::steady_clock::now();
  Result<SearchRequest> request = SearchFromParams(ctx, kPageSize);
  Result<std::vector<SearchHit>> hits = request.ok() ? ctx.store().Search(*request) : request.status();
  ctx.Audit("search", req.Query("lot"), q + (req.Query("type").empty() ? "" : " [type=" + req.Query("type") + "]"),
            /*wait=*/false);
  if (!hits.ok()) {
    const Status& s = hits.status();
    const int status = s.code() == StatusCode::kInvalidArgument ? 400 : 500;
    std::string body = form + "<p class=\"error\" role=\"alert\" id=\"query-error\">" + Html(T(lang, "query_error")) +
                       ": " + Html(s.message()) + "</p>";
    return HttpResponse::Html(Layout(ctx, T(lang, "nav_search"), body), status);
  }

  // Active filters, each removable.
  std::string active;
  for (const char* key : {"lot", "type", "from", "to"}) {
    const std::string v = req.Query(key);
    if (!v.empty()) {
      active += "<a href=\"" + Html(Url(req, key, "")) + "\" title=\"" + Html(T(lang, "remove_filter")) + "\">" +
                Html(key) + ": " + Html(ForUser(ctx, v)) + " ✕</a>";
    }
  }
  for (const std::string& f : req.QueryAll("field")) {
    active += "<a href=\"" + Html(UrlWithout(req, "field", f)) + "\">" + Html(ForUser(ctx, f)) + " ✕</a>";
  }
  std::string body = form;
  if (!active.empty()) {
    body += "<div class=\"active-filters\">" + active + "<a href=\"/search?q=" + Html(UrlEncode(q)) + "\">" +
            Html(T(lang, "clear_filters")) + "</a></div>";
  }
  body += "<div class=\"layout search\"><section class=\"results\">" + HitList(ctx, *hits, *request) + "</section>" +
          kTailMark + "</div>";

  // The hits go out at once; the filters with their counts, the total and
  // the pages follow in the same document when counted (CSS puts them in
  // their places): the counts cost several times the search on a large
  // store and must not hold back the first render.
  const std::string page = Layout(ctx, q.empty() ? T(lang, "nav_search") : q, body);
  const size_t mark = page.find(kTailMark);
  HttpResponse r = HttpResponse::Html(page.substr(0, mark));
  r.tail = [req = req, user = *ctx.user(), lang, services = &ctx.services(), csrf = ctx.csrf(),
            request = *request, t0, rest = page.substr(mark + std::strlen(kTailMark))](Store& store) {
    RouteContext tail_ctx(req, &user, lang, &store, services, &csrf);
    Result<SearchFacets> facets = store.Facets(request);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return CountsHtml(tail_ctx, facets, request, seconds) + rest;
  };
  return r;
}
class SearchPages final : public PageModule {
 public:
  void Register(Router& router) override { router.Get("/search", Access::kSignedIn, SearchPage); }
};

}  // namespace

std::shared_ptr<PageModule> NewSearchPages() { return std::make_shared<SearchPages>(); }

}  // namespace acervo::web
