// Administration (admins only): users (role, groups, disabled, full view of
// personal numbers, password reset), grants of lots and projects to groups,
// and the audit trail (browse, filter, page back, CSV export, chain check).
// Every change is audited before the response.
#include <set>

#include "acervo/core/csv_field.h"
#include "acervo/web/auth.h"
#include "internal.h"

namespace acervo::web {

// Invalid UTF-8 replaced first (the export is read as UTF-8).
std::string CsvField(const std::string& v) { return acervo::CsvField(ValidUtf8(v)); }

namespace {

std::vector<std::string> SplitGroups(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ",") {
    if (c == ',' || c == ' ' || c == ';') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string AdminNav(Lang lang) {
  return "<p class=\"pager\"><a href=\"/admin/users\">" + Html(T(lang, "admin_users")) + "</a><a href=\"/admin/grants\">" +
         Html(T(lang, "admin_grants")) + "</a><a href=\"/admin/audit\">" + Html(T(lang, "admin_audit")) + "</a></p>";
}

std::string RoleSelect(Lang, Role current, const std::string& form_attr = "") {
  std::string h = "<select name=\"role\"" + form_attr + ">";
  for (Role r : {Role::kReader, Role::kOperator, Role::kAdmin}) {
    h += std::string("<option value=\"") + RoleName(r) + "\"" + (r == current ? " selected" : "") + ">" + RoleName(r) +
         "</option>";
  }
  return h + "</select>";
}

HttpResponse UsersPage(RouteContext& ctx, const std::string& message = "", bool error = false) {
  const Lang lang = ctx.lang();
  Result<std::vector<UserRecord>> users = ctx.store().Access().ListUsers();
  if (!users.ok()) return ErrorPage(ctx, 500, T(lang, "err_internal"));
  std::string h = "<h1>" + Html(T(lang, "admin_users")) + "</h1>" + AdminNav(lang);
  if (!message.empty()) h += "<p class=\"" + std::string(error ? "error" : "ok") + "\" role=\"status\">" + Html(message) + "</p>";
  h += "<table id=\"users\"><tr><th>" + Html(T(lang, "user")) + "</th><th>" + Html(T(lang, "display_name")) + "</th><th>" +
       Html(T(lang, "role")) + "</th><th>" + Html(T(lang, "groups")) + "</th><th>" + Html(T(lang, "full_view")) +
       "</th><th>" + Html(T(lang, "disabled")) + "</th><th>" + Html(T(lang, "new_password")) + "</th><th></th></tr>";
  int row = 0;
  for (const UserRecord& u : *users) {
    // Inputs in cells belong to the row's form through form="..." (a form
    // cannot wrap table cells).
    const std::string f = "uf-" + std::to_string(++row);
    const std::string fa = " form=\"" + f + "\"";
    h += "<tr data-user=\"" + Html(u.name) + "\"><td>" + Html(u.name) + "</td><td><input name=\"display_name\"" + fa +
         " value=\"" + Html(u.display_name) + "\"></td><td>" + RoleSelect(lang, u.role, fa) +
         "</td><td><input name=\"groups\"" + fa + " value=\"" + Html(Join(u.groups)) +
         "\"></td><td><input type=\"checkbox\" name=\"full_view\" value=\"1\"" + fa + (u.full_view ? " checked" : "") +
         "></td><td><input type=\"checkbox\" name=\"disabled\" value=\"1\"" + fa + (u.disabled ? " checked" : "") +
         "></td><td><input type=\"password\" name=\"password\" autocomplete=\"new-password\"" + fa +
         "></td><td><form id=\"" + f + "\" method=\"post\" action=\"/admin/users/update\">" + CsrfField(ctx) +
         "<input type=\"hidden\" name=\"name\" value=\"" + Html(u.name) + "\"><button type=\"submit\">" +
         Html(T(lang, "save")) + "</button></form></td></tr>";
  }
  h += "</table><h2>" + Html(T(lang, "add_user")) + "</h2><form method=\"post\" action=\"/admin/users/add\" "
       "id=\"add-user\" class=\"search\">" +
       CsrfField(ctx) + "<input name=\"name\" placeholder=\"" + Html(T(lang, "user")) +
       "\" required><input name=\"display_name\" placeholder=\"" + Html(T(lang, "display_name")) + "\">" +
       RoleSelect(lang, Role::kReader) + "<input name=\"groups\" placeholder=\"" + Html(T(lang, "groups")) +
       "\"><input type=\"password\" name=\"password\" autocomplete=\"new-password\" placeholder=\"" +
       Html(T(lang, "new_password")) + "\" required><button type=\"submit\">" + Html(T(lang, "add_user")) +
       "</button></form>";
  return HttpResponse::Html(Layout(ctx, T(lang, "admin_users"), h), error ? 400 : 200);
}

HttpResponse AddUser(RouteContext& ctx) {
  const HttpRequest& req = ctx.req();
  UserRecord u;
  u.name = req.Form("name");
  u.display_name = req.Form("display_name");
  u.role = ParseRole(req.Form("role")).value_or(Role::kReader);
  u.groups = SplitGroups(req.Form("groups"));
  Result<std::string> hash = HashPassword(req.Form("password"));
  if (!hash.ok()) return UsersPage(ctx, hash.status().message(), true);
  u.password_hash = *hash;
  Status s = ctx.store().Access().AddUser(u);
  if (!s.ok()) return UsersPage(ctx, s.message(), true);
  ctx.Audit("admin_user_add", u.name, std::string("role=") + RoleName(u.role) + " groups=" + Join(u.groups), true);
  return UsersPage(ctx, T(ctx.lang(), "saved"));
}

HttpResponse UpdateUser(RouteContext& ctx) {
  const HttpRequest& req = ctx.req();
  Result<std::optional<UserRecord>> got = ctx.store().Access().GetUser(req.Form("name"));
  if (!got.ok()) return ErrorPage(ctx, 500, T(ctx.lang(), "err_internal"));
  if (!got->has_value()) return ErrorPage(ctx, 404, T(ctx.lang(), "err_not_found"));
  UserRecord u = **got;
  const UserRecord before = u;
  u.display_name = req.Form("display_name");
  u.role = ParseRole(req.Form("role")).value_or(u.role);
  u.groups = SplitGroups(req.Form("groups"));
  u.full_view = req.Form("full_view") == "1";
  u.disabled = req.Form("disabled") == "1";
  if (u.name == ctx.user()->user.name && (u.disabled || u.role != Role::kAdmin)) {
    return UsersPage(ctx, "you cannot disable yourself or drop your own admin role", true);
  }
  bool password_changed = false;
  if (!req.Form("password").empty()) {
    Result<std::string> hash = HashPassword(req.Form("password"));
    if (!hash.ok()) return UsersPage(ctx, hash.status().message(), true);
    u.password_hash = *hash;
    password_changed = true;
  }
  Status s = ctx.store().Access().UpdateUser(u);
  if (!s.ok()) return UsersPage(ctx, s.message(), true);
  std::string change = std::string("role ") + RoleName(before.role) + "->" + RoleName(u.role) + "; groups [" +
                       Join(before.groups) + "]->[" + Join(u.groups) + "]; disabled " + (before.disabled ? "1" : "0") +
                       "->" + (u.disabled ? "1" : "0") + "; full_view " + (before.full_view ? "1" : "0") + "->" +
                       (u.full_view ? "1" : "0") + (password_changed ? "; password reset" : "");
  ctx.Audit("admin_user_update", u.name, change, true);
  ctx.services().on_user_changed(u.name, u.disabled || password_changed);
  return UsersPage(ctx, T(ctx.lang(), "saved"));
}

HttpResponse GrantsPage(RouteContext& ctx, const std::string& message = "", bool error = false) {
  const Lang lang = ctx.lang();
  Result<std::vector<GrantRecord>> grants = ctx.store().Access().ListGrants();
  Result<std::vector<LotRecord>> lots = ctx.store().ListLots();
  if (!grants.ok() || !lots.ok()) return ErrorPage(ctx, 500, T(lang, "err_internal"));
  std::string h = "<h1>" + Html(T(lang, "admin_grants")) + "</h1>" + AdminNav(lang);
  if (!message.empty()) h += "<p class=\"" + std::string(error ? "error" : "ok") + "\">" + Html(message) + "</p>";
  h += "<table id=\"grants\"><tr><th>" + Html(T(lang, "group")) + "</th><th>" + Html(T(lang, "kind")) + "</th><th>" +
       Html(T(lang, "target")) + "</th><th></th></tr>";
  for (const GrantRecord& g : *grants) {
    h += "<tr><td>" + Html(g.group) + "</td><td>" + Html(g.kind) + "</td><td>" + Html(g.target) +
         "</td><td><form method=\"post\" action=\"/admin/grants/remove\">" + CsrfField(ctx) +
         "<input type=\"hidden\" name=\"group\" value=\"" + Html(g.group) + "\"><input type=\"hidden\" name=\"kind\" "
         "value=\"" + Html(g.kind) + "\"><input type=\"hidden\" name=\"target\" value=\"" + Html(g.target) +
         "\"><button type=\"submit\">" + Html(T(lang, "revoke")) + "</button></form></td></tr>";
  }
  h += "</table><h2>" + Html(T(lang, "add_grant")) + "</h2><form method=\"post\" action=\"/admin/grants/add\" "
       "class=\"search\" id=\"add-grant\">" +
       CsrfField(ctx) + "<input name=\"group\" placeholder=\"" + Html(T(lang, "group")) +
       "\" required><select name=\"kind\"><option value=\"lot\">lot</option><option value=\"project\">project</option>"
       "</select><input name=\"target\" list=\"known-lots\" placeholder=\"" + Html(T(lang, "target")) +
       "\" required><datalist id=\"known-lots\">";
  std::set<std::string> projects;
  for (const LotRecord& l : *lots) {
    h += "<option value=\"" + Html(l.id) + "\">";
    if (!l.project.empty()) projects.insert(l.project);
  }
  for (const std::string& p : projects) h += "<option value=\"" + Html(p) + "\">";
  h += "</datalist><button type=\"submit\">" + Html(T(lang, "add_grant")) + "</button></form>";
  return HttpResponse::Html(Layout(ctx, T(lang, "admin_grants"), h), error ? 400 : 200);
}

HttpResponse ChangeGrant(RouteContext& ctx, bool add) {
  const GrantRecord g{ctx.req().Form("group"), ctx.req().Form("kind"), ctx.req().Form("target")};
  Status s = add ? ctx.store().Access().AddGrant(g) : ctx.store().Access().RemoveGrant(g);
  if (!s.ok()) return GrantsPage(ctx, s.message(), true);
  ctx.Audit(add ? "admin_grant_add" : "admin_grant_remove", g.kind + ":" + g.target, "group " + g.group, true);
  ctx.services().on_user_changed("", false);
  return GrantsPage(ctx, T(ctx.lang(), "saved"));
}

Result<AuditFilter> FilterFromParams(const HttpRequest& req, int default_limit) {
  AuditFilter f;
  f.user = req.Query("user");
  f.action = req.Query("action");
  f.target_prefix = req.Query("target");
  f.since = req.Query("since");
  f.until = req.Query("until");
  f.limit = default_limit;
  for (const auto& [name, dest] : {std::pair{"before", &f.before_seq}}) {
    const std::string v = req.Query(name);
    if (v.empty()) continue;
    if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("'before' must be a number");
    }
    *dest = std::stoll(v);
  }
  const std::string limit = req.Query("limit");
  if (!limit.empty()) {
    if (limit.size() > 5 || limit.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("'limit' must be a number");
    }
    f.limit = std::stoi(limit);
    if (f.limit < 1 || f.limit > 10000) return Status::InvalidArgument("'limit' must be within 1..10000");
  }
  return f;
}

HttpResponse AuditPage(RouteContext& ctx) {
  const Lang lang = ctx.lang();
  const HttpRequest& req = ctx.req();
  Result<AuditFilter> f = FilterFromParams(req, 100);
  if (!f.ok()) return ErrorPage(ctx, 400, f.status().message());
  Result<std::vector<AuditRow>> rows = ctx.store().Access().ListAudit(*f);
  if (!rows.ok()) return ErrorPage(ctx, 500, T(lang, "err_internal"));
  std::string h = "<h1>" + Html(T(lang, "admin_audit")) + "</h1>" + AdminNav(lang);
  if (req.Query("verify") == "1") {
    Result<AuditCheck> check = ctx.store().Access().VerifyAudit();
    if (check.ok()) {
      h += "<p id=\"chain\" class=\"" + std::string(check->ok() ? "ok" : "error") + "\">" + Html(T(lang, "verify_chain")) +
           ": " + Html(T(lang, check->ok() ? "chain_ok" : "chain_bad")) + " (" + FormatCount(check->rows, lang) +
           "; head " + std::to_string(check->head_seq) + " <span class=\"mono\">" + Html(check->head_hash) + "</span>)";
      for (const std::string& p : check->problems) h += "<br>" + Html(p);
      h += "</p>";
    }
  }
  std::string params;
  for (const char* k : {"user", "action", "target", "since", "until"}) {
    if (!req.Query(k).empty()) params += std::string("&") + k + "=" + UrlEncode(req.Query(k));
  }
  h += "<form method=\"get\" action=\"/admin/audit\" class=\"search\" id=\"audit-filter\">";
  for (const auto& [k, key] : {std::pair{"user", "who"}, std::pair{"action", "action"}, std::pair{"target", "what"}}) {
    h += "<input name=\"" + std::string(k) + "\" value=\"" + Html(req.Query(k)) + "\" placeholder=\"" +
         Html(T(lang, key)) + "\">";
  }
  h += "<button type=\"submit\">" + Html(T(lang, "filter")) + "</button> <a id=\"audit-csv\" href=\"/admin/audit.csv?" +
       Html(params.empty() ? "" : params.substr(1)) + "\">" + Html(T(lang, "export_csv")) +
       "</a> <a href=\"/admin/audit?verify=1\">" + Html(T(lang, "verify_chain")) + "</a></form>";
  h += "<table id=\"audit\"><tr><th>#</th><th>" + Html(T(lang, "when")) + "</th><th>" + Html(T(lang, "who")) + "</th><th>" +
       Html(T(lang, "address")) + "</th><th>" + Html(T(lang, "action")) + "</th><th>" + Html(T(lang, "what")) +
       "</th><th>" + Html(T(lang, "detail")) + "</th></tr>";
  for (const AuditRow& r : *rows) {
    h += "<tr class=\"audit-row\" data-action=\"" + Html(r.entry.action) + "\"><td>" + std::to_string(r.seq) +
         "</td><td>" + Html(r.entry.at) + "</td><td>" + Html(r.entry.user) + "</td><td>" + Html(r.entry.address) +
         "</td><td>" + Html(r.entry.action) + "</td><td>" + Html(r.entry.target) + "</td><td>" + Html(r.entry.detail) +
         "</td></tr>";
  }
  h += "</table>";
  if (!rows->empty() && static_cast<int>(rows->size()) == f->limit) {
    h += "<p class=\"pager\"><a href=\"/admin/audit?before=" + std::to_string(rows->back().seq) + Html(params) + "\">" +
         Html(T(lang, "older")) + "</a></p>";
  }
  ctx.Audit("view_audit", "", params);
  return HttpResponse::Html(Layout(ctx, T(lang, "admin_audit"), h));
}

HttpResponse AuditCsv(RouteContext& ctx) {
  Result<AuditFilter> f = FilterFromParams(ctx.req(), 10000);
  if (!f.ok()) return JsonError(400, f.status().message());
  std::string csv = "seq,at,user,address,action,target,detail,prev_hash,hash\r\n";
  int64_t before = f->before_seq;
  int64_t total = 0;
  // Pages of 10,000 rows back to the first (the whole trail when asked).
  while (true) {
    AuditFilter page = *f;
    page.before_seq = before;
    page.limit = 10000;
    Result<std::vector<AuditRow>> rows = ctx.store().Access().ListAudit(page);
    if (!rows.ok()) return JsonError(500, "cannot read the audit trail");
    for (const AuditRow& r : *rows) {
      csv += std::to_string(r.seq) + "," + CsvField(r.entry.at) + "," + CsvField(r.entry.user) + "," +
             CsvField(r.entry.address) + "," + CsvField(r.entry.action) + "," + CsvField(r.entry.target) + "," +
             CsvField(r.entry.detail) + "," + r.prev_hash + "," + r.hash + "\r\n";
    }
    total += static_cast<int64_t>(rows->size());
    if (rows->size() < 10000 || total >= 1000000) break;
    before = rows->back().seq;
  }
  ctx.Audit("export_audit", "", std::to_string(total) + " rows", true);
  HttpResponse r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = csv;
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"acervo-audit.csv\"");
  return r;
}

class AdminPages final : public PageModule {
 public:
  void Register(Router& r) override {
    r.Get("/admin", Access::kAdmin, [](RouteContext&) { return HttpResponse::Redirect("/admin/users"); });
    r.Get("/admin/users", Access::kAdmin, [](RouteContext& c) { return UsersPage(c); });
    r.Post("/admin/users/add", Access::kAdmin, AddUser);
    r.Post("/admin/users/update", Access::kAdmin, UpdateUser);
    r.Get("/admin/grants", Access::kAdmin, [](RouteContext& c) { return GrantsPage(c); });
    r.Post("/admin/grants/add", Access::kAdmin, [](RouteContext& c) { return ChangeGrant(c, true); });
    r.Post("/admin/grants/remove", Access::kAdmin, [](RouteContext& c) { return ChangeGrant(c, false); });
    r.Get("/admin/audit", Access::kAdmin, AuditPage);
    r.Get("/admin/audit.csv", Access::kAdmin, AuditCsv);
  }
};

}  // namespace

std::shared_ptr<PageModule> NewAdminPages() { return std::make_shared<AdminPages>(); }

}  // namespace acervo::web
