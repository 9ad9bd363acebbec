// The page frame every HTML page shares, and error responses.
#include <nlohmann/json.hpp>

#include "internal.h"

namespace acervo::web {

std::string CsrfField(const RouteContext& ctx) {
  return "<input type=\"hidden\" name=\"_csrf\" value=\"" + Html(ctx.csrf()) + "\">";
}

namespace {

// The current URL with `lang` set.
std::string WithLang(const HttpRequest& req, const char* lang) {
  std::string url = req.path + "?";
  for (const auto& [k, v] : req.query) {
    if (k == "lang") continue;
    url += UrlEncode(k) + "=" + UrlEncode(v) + "&";
  }
  return url + "lang=" + lang;
}

}  // namespace

std::string Layout(const RouteContext& ctx, const std::string& title, const std::string& body) {
  const Lang lang = ctx.lang();
  const Principal* p = ctx.user();
  std::string h = std::string("<!doctype html><html lang=\"") + (lang == Lang::kEn ? "en" : "pt-BR") +
                  "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, "
                  "initial-scale=1\"><title>" +
                  Html(title) +
                  " · Acervo</title><link rel=\"stylesheet\" href=\"/assets/style.css\"><link rel=\"icon\" "
                  "href=\"/assets/icon.svg\"><script src=\"/assets/app.js\" defer></script></head><body>";
  h += "<header class=\"top\"><a class=\"brand\" href=\"/search\"><img src=\"/assets/icon.svg\" alt=\"\" "
       "width=\"24\" height=\"24\"> Acervo</a><nav>";
  if (p != nullptr) {
    h += "<a href=\"/search\">" + Html(T(lang, "nav_search")) + "</a>";
    if (p->user.role != Role::kReader) {
      h += "<a href=\"/lots\">" + Html(T(lang, "nav_lots")) + "</a>";
      h += "<a href=\"/reports\">" + Html(T(lang, "nav_reports")) + "</a>";
      h += "<a href=\"/review\">" + Html(T(lang, "nav_review")) + "</a>";
    }
    if (p->user.role == Role::kAdmin) h += "<a href=\"/admin/users\">" + Html(T(lang, "nav_admin")) + "</a>";
    h += "<a href=\"/account\">" + Html(T(lang, "nav_account")) + "</a>";
  }
  h += "</nav><div class=\"who\">";
  if (p != nullptr) {
    h += Html(T(lang, "signed_in_as")) + " <b id=\"whoami\">" + Html(p->user.name) + "</b> (" +
         Html(RoleName(p->user.role)) + ") <form method=\"post\" action=\"/logout\" class=\"inline\">" +
         CsrfField(ctx) + "<button type=\"submit\" class=\"link\">" + Html(T(lang, "logout")) + "</button></form> ";
  }
  h += lang == Lang::kEn ? "<a href=\"" + Html(WithLang(ctx.req(), "pt")) + "\" lang=\"pt-BR\">Português</a>"
                         : "<a href=\"" + Html(WithLang(ctx.req(), "en")) + "\" lang=\"en\">English</a>";
  h += "</div></header><main>" + body + "</main></body></html>";
  return h;
}

HttpResponse ErrorPage(const RouteContext& ctx, int status, const std::string& message) {
  return HttpResponse::Html(
      Layout(ctx, std::to_string(status), "<h1>" + std::to_string(status) + "</h1><p class=\"error\">" + Html(message) +
                                              "</p><p><a href=\"/search\">" + Html(T(ctx.lang(), "nav_search")) +
                                              "</a></p>"),
      status);
}

HttpResponse JsonError(int status, const std::string& message) {
  nlohmann::json j = {{"error", ValidUtf8(message)}};
  if (const int pos = ErrorPosition(message); pos > 0) j["position"] = pos;
  return HttpResponse::Json(j.dump(), status);
}

}  // namespace acervo::web
