// My account: change my password, and my API tokens for scripts (created
// here or by POST /api/v1/tokens; the secret is shown once and stored only
// as its SHA-256).
#include "acervo/core/files.h"
#include "acervo/web/auth.h"
#include "internal.h"

namespace acervo::web {

// A new API token for the signed-in user: "acv_<id>_<secret>".
Result<std::string> CreateApiToken(RouteContext& ctx, const std::string& label) {
  ApiTokenRecord t;
  t.id = RandomHex(8);
  const std::string secret = RandomHex(32);
  t.user = ctx.user()->user.name;
  t.secret_sha256 = Sha256Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()));
  t.label = label.substr(0, 200);
  ACERVO_RETURN_IF_ERROR(ctx.store().Access().AddApiToken(t));
  ctx.Audit("token_create", t.id, t.label, true);
  return "acv_" + t.id + "_" + secret;
}

namespace {

HttpResponse AccountPage(RouteContext& ctx, const std::string& message = "", bool error = false,
                         const std::string& new_token = "") {
  const Lang lang = ctx.lang();
  const UserRecord& u = ctx.user()->user;
  std::string h = "<h1>" + Html(T(lang, "account_title")) + "</h1><p>" + Html(u.name) +
                  (u.display_name.empty() ? "" : " — " + Html(u.display_name)) + " (" + Html(RoleName(u.role)) + ")</p>";
  if (!message.empty()) h += "<p class=\"" + std::string(error ? "error" : "ok") + "\" role=\"status\">" + Html(message) + "</p>";
  if (!new_token.empty()) {
    h += "<p>" + Html(T(lang, "token_created")) + "</p><code class=\"token\" id=\"new-token\">" + Html(new_token) + "</code>";
  }
  h += "<section class=\"panel\"><h2>" + Html(T(lang, "change_password")) +
       "</h2><form method=\"post\" action=\"/account/password\" class=\"search\">" + CsrfField(ctx) +
       "<input type=\"password\" name=\"current\" autocomplete=\"current-password\" placeholder=\"" +
       Html(T(lang, "current_password")) + "\" required><input type=\"password\" name=\"password\" "
       "autocomplete=\"new-password\" placeholder=\"" + Html(T(lang, "new_password")) + "\" required><button "
       "type=\"submit\">" + Html(T(lang, "save")) + "</button></form></section>";
  h += "<section class=\"panel\"><h2>" + Html(T(lang, "api_tokens")) + "</h2><table id=\"tokens\"><tr><th>id</th><th>" +
       Html(T(lang, "token_label")) + "</th><th>" + Html(T(lang, "created")) + "</th><th>" + Html(T(lang, "state")) +
       "</th><th></th></tr>";
  Result<std::vector<ApiTokenRecord>> tokens = ctx.store().Access().ListApiTokens(u.name);
  if (tokens.ok()) {
    for (const ApiTokenRecord& t : *tokens) {
      h += "<tr><td class=\"mono\">" + Html(t.id) + "</td><td>" + Html(t.label) + "</td><td>" + Html(t.created_at) +
           "</td><td>" + Html(T(lang, t.revoked ? "revoked" : "active")) + "</td><td>";
      if (!t.revoked) {
        h += "<form method=\"post\" action=\"/account/tokens/revoke\">" + CsrfField(ctx) +
             "<input type=\"hidden\" name=\"id\" value=\"" + Html(t.id) + "\"><button type=\"submit\">" +
             Html(T(lang, "revoke")) + "</button></form>";
      }
      h += "</td></tr>";
    }
  }
  h += "</table><form method=\"post\" action=\"/account/tokens/create\" class=\"search\">" + CsrfField(ctx) +
       "<input name=\"label\" placeholder=\"" + Html(T(lang, "token_label")) + "\"><button type=\"submit\">" +
       Html(T(lang, "new_token")) + "</button></form><p class=\"note\">curl -H 'Authorization: Bearer acv_…' "
       "/api/v1/search?q=…  ·  <a href=\"/api/v1/openapi.json\">OpenAPI</a></p></section>";
  return HttpResponse::Html(Layout(ctx, T(lang, "account_title"), h), error ? 400 : 200);
}

HttpResponse ChangePassword(RouteContext& ctx) {
  UserRecord u = ctx.user()->user;
  if (!VerifyPassword(u.password_hash, ctx.req().Form("current"))) {
    ctx.Audit("password_change_failed", u.name, "wrong current password", true);
    return AccountPage(ctx, T(ctx.lang(), "login_failed"), true);
  }
  Result<std::string> hash = HashPassword(ctx.req().Form("password"));
  if (!hash.ok()) return AccountPage(ctx, hash.status().message(), true);
  // Re-read: the principal may be a few seconds old.
  Result<std::optional<UserRecord>> fresh = ctx.store().Access().GetUser(u.name);
  if (!fresh.ok() || !fresh->has_value()) return ErrorPage(ctx, 500, T(ctx.lang(), "err_internal"));
  u = **fresh;
  u.password_hash = *hash;
  Status s = ctx.store().Access().UpdateUser(u);
  if (!s.ok()) return AccountPage(ctx, s.message(), true);
  ctx.Audit("password_change", u.name, "", true);
  // Every session of this user ends, this one included: sign in again.
  ctx.services().on_user_changed(u.name, true);
  return HttpResponse::Redirect("/login");
}

class AccountPages final : public PageModule {
 public:
  void Register(Router& r) override {
    r.Get("/account", Access::kSignedIn, [](RouteContext& c) { return AccountPage(c); });
    r.Post("/account/password", Access::kSignedIn, ChangePassword);
    r.Post("/account/tokens/create", Access::kSignedIn, [](RouteContext& c) {
      Result<std::string> token = CreateApiToken(c, c.req().Form("label"));
      if (!token.ok()) return AccountPage(c, token.status().message(), true);
      return AccountPage(c, "", false, *token);
    });
    r.Post("/account/tokens/revoke", Access::kSignedIn, [](RouteContext& c) {
      const std::string id = c.req().Form("id");
      Result<std::optional<ApiTokenRecord>> t = c.store().Access().GetApiToken(id);
      // Only one's own tokens (admins too: they revoke by disabling the user).
      if (!t.ok() || !t->has_value() || (**t).user != c.user()->user.name) {
        return ErrorPage(c, 404, T(c.lang(), "err_not_found"));
      }
      Status s = c.store().Access().RevokeApiToken(id);
      if (!s.ok()) return AccountPage(c, s.message(), true);
      c.Audit("token_revoke", id, "", true);
      c.services().on_user_changed(c.user()->user.name, false);
      return AccountPage(c, T(c.lang(), "saved"));
    });
  }
};

}  // namespace

std::shared_ptr<PageModule> NewAccountPages() { return std::make_shared<AccountPages>(); }

}  // namespace acervo::web
