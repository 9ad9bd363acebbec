// Issue 14, item 5 in the browser's terms, over HTTP, on SQLite and on a
// real PostgreSQL: an operator replaces a page of a stored document by
// uploading an image on the review page (multipart/form-data) and through
// the JSON API. The server is `acervo serve`'s (web::Server with the review
// module, as serve_command.cc builds it); the lot is made by the binary.
//
// Checked: the replacement runs through ReplacePage (the new page's text is
// searchable, the other pages untouched, the history and the audit trail
// name who and which masters); after it the page shows the new page's
// thumbnail (a URL naming the new master) and the replacement; refusals
// (an unreadable file, below min_dpi, the page's master again, an unknown
// page, a withdrawn document) are shown on the page and change nothing; a
// file name with "../" leads nowhere; CSRF missing or wrong is 403, a
// reader 403, an operator of another lot 404 (audited).
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/open_store.h"
#include "acervo/pipeline/review_pages.h"
#include "acervo/synth/synth.h"
#include "acervo/web/auth.h"
#include "acervo/web/server.h"
#include "support/process.h"
#include "support/replace_lot.h"
#include "support/text_page.h"
#include "test_client.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::ProcessResult;
using testing::RunProcess;
using testing::SearchIds;
using web::Client;
using json = nlohmann::json;

constexpr const char* kPassword = "senha-do-operador-1";
const char* kProfile = R"(
[lot]
project = "Arquivo Municipal"

[image]
min_dpi = 200
)";

std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class PageReplaceWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::remove_all(root_);
    fs::create_directories(lot_);
    testing::WriteReplaceFixtures(root_, lot_);
    testing::WriteSmallTextPages(lot_ / "outro.tif", {"Outro documento do mesmo lote"}, synth::FileFormat::kTiffLzw,
                                 21);
    std::ofstream(lot_ / "profile.toml") << kProfile;
    testing::WriteSmallTextPages(root_ / "terceira.png", {"Terceira folha refeita pela interface"},
                                 synth::FileFormat::kPng, 15);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  ProcessResult Acervo(std::vector<std::string> args) {
    args.insert(args.begin(), AcervoBinary());
    return RunProcess(args);
  }

  // Users: op (operator of the lot), leitor (reader of the lot), fora
  // (operator of another lot).
  void AddUsers(Store& s) {
    auto user = [&](const char* name, Role role, const char* group) {
      UserRecord u;
      u.name = name;
      u.role = role;
      u.groups = {group};
      u.password_hash = *web::HashPassword(kPassword);
      ASSERT_TRUE(s.Access().AddUser(u).ok()) << name;
    };
    user("op", Role::kOperator, "g-lote");
    user("leitor", Role::kReader, "g-lote");
    user("fora", Role::kOperator, "g-outro");
    ASSERT_TRUE(s.Access().AddGrant({"g-lote", "lot", "lote-web"}).ok());
    ASSERT_TRUE(s.Access().AddGrant({"g-outro", "lot", "lote-x"}).ok());
  }
  static httplib::MultipartFormDataItems Form(const std::string& doc, const std::string& page,
                                              const std::string& content, const std::string& filename) {
    return {{"doc", doc, "", ""}, {"page", page, "", ""}, {"image", content, filename, "image/png"},
            {"note", "folha borrada", "", ""}};
  }
  void Loop(const std::string& store);

  fs::path root_ = fs::temp_directory_path() / ("acervo-replace-web-" + std::to_string(::getpid()));
  fs::path lot_ = root_ / "lote-web";
  fs::path out_ = root_ / "saida";
};

void PageReplaceWebTest::Loop(const std::string& store) {
  ProcessResult run = Acervo({"run", lot_.string(), "--out", out_.string(), "--store", store, "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  Result<std::unique_ptr<Store>> opened = OpenStore(store, false);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  AddUsers(**opened);
  web::ServerOptions o;
  o.store = store;
  o.port = 0;
  o.workers = 8;
  o.extra_modules.push_back(NewReviewPages());
  Result<std::unique_ptr<web::Server>> server = web::Server::Create(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  const int port = (*server)->port();
  const fs::path pdf = out_ / "lote-web" / "processo.pdf";
  const std::string pdf_sha = *Sha256OfFile(pdf);
  auto status = [](const httplib::Result& r) { return r ? r->status : -1; };

  Client op(port);
  ASSERT_EQ(op.Login("op", kPassword), 303);
  httplib::Result page = op.Get("/review/lote-web?doc=processo");
  ASSERT_EQ(status(page), 200);
  EXPECT_NE(page->body.find("enctype=\"multipart/form-data\" class=\"review-replace\""), std::string::npos);

  // Refusals: shown on the page (422), nothing changes.
  const std::string nova = ReadBytes(root_ / "nova.png");
  struct Refusal {
    std::string doc, page, content, filename, says;
  };
  const std::vector<Refusal> refusals = {
      {"processo", "2", ReadBytes(root_ / "quebrada.png"), "quebrada.png", "cannot read the new image quebrada.png"},
      {"processo", "2", ReadBytes(root_ / "baixa.png"), "baixa.png", "150 dpi, below"},
      {"processo", "2", ReadBytes(out_ / "lote-web" / "masters" / "processo.tif"), "processo.tif", "current master"},
      {"processo", "9", nova, "nova.png", "page 9 not found"},
      {"nada", "1", nova, "nova.png", "no document nada"},
  };
  for (const Refusal& r : refusals) {
    httplib::Result refused = op.PostMultipart("/review/lote-web/replace", Form(r.doc, r.page, r.content, r.filename));
    ASSERT_EQ(status(refused), 422) << r.says;
    EXPECT_NE(refused->body.find("id=\"review-error\""), std::string::npos) << r.says;
    EXPECT_NE(refused->body.find(r.says), std::string::npos) << r.says << "\n" << refused->body;
    EXPECT_EQ(refused->body.find(fs::temp_directory_path().string() + "/acervo-replace-"), std::string::npos)
        << "the temporary path shows: " << refused->body;
  }
  EXPECT_EQ(*Sha256OfFile(pdf), pdf_sha);

  // CSRF, role and lot: refused before anything runs.
  EXPECT_EQ(status(op.PostMultipart("/review/lote-web/replace", Form("processo", "2", nova, "nova.png"), false)), 403);
  httplib::MultipartFormDataItems wrong = Form("processo", "2", nova, "nova.png");
  wrong.push_back({"_csrf", "ffff", "", ""});
  EXPECT_EQ(status(op.PostMultipart("/review/lote-web/replace", wrong, false)), 403);
  Client leitor(port);
  ASSERT_EQ(leitor.Login("leitor", kPassword), 303);
  EXPECT_EQ(status(leitor.PostMultipart("/review/lote-web/replace", Form("processo", "2", nova, "nova.png"))), 403);
  Client fora(port);
  ASSERT_EQ(fora.Login("fora", kPassword), 303);
  EXPECT_EQ(status(fora.PostMultipart("/review/lote-web/replace", Form("processo", "2", nova, "nova.png"))), 404);
  EXPECT_EQ(status(fora.PostMultipart("/api/v1/documents/lote-web/processo/pages/2/replacement",
                                      {{"image", nova, "nova.png", "image/png"}}, false,
                                      {{"X-CSRF-Token", fora.csrf()}})),
            404);
  EXPECT_EQ(*Sha256OfFile(pdf), pdf_sha);

  // The replacement, under a file name that tries to leave every folder.
  const std::string evil = "evil-" + std::to_string(::getpid()) + ".png";
  httplib::Result done =
      op.PostMultipart("/review/lote-web/replace", Form("processo", "2", nova, "../../../../../tmp/../" + evil));
  ASSERT_EQ(status(done), 200) << (done ? done->body : "");
  EXPECT_NE(done->body.find("id=\"review-done\""), std::string::npos) << done->body;
  const std::string new_sha = *Sha256OfFile(root_ / "nova.png");
  EXPECT_NE(*Sha256OfFile(pdf), pdf_sha);
  EXPECT_FALSE(fs::exists(fs::temp_directory_path() / evil));
  EXPECT_FALSE(fs::exists(root_ / evil));
  EXPECT_FALSE(fs::exists(out_ / evil));
  for (const auto& e : fs::recursive_directory_iterator(root_)) EXPECT_NE(e.path().filename(), evil) << e.path();
  // The page shows the replacement and the new page's thumbnail, which is
  // the new page's image.
  const std::string row = "class=\"replaced-page\" data-page=\"2\" data-sha256=\"" + new_sha + "\"";
  EXPECT_NE(done->body.find(row), std::string::npos) << done->body;
  const std::string thumb = "/thumb/lote-web/processo/2?v=" + new_sha.substr(0, 12);
  EXPECT_NE(done->body.find("src=\"" + thumb + "\""), std::string::npos) << done->body;
  httplib::Result image = op.Get(thumb);
  ASSERT_EQ(status(image), 200);
  EXPECT_EQ(image->get_header_value("Content-Type"), "image/jpeg");
  // Search, history, audit.
  EXPECT_EQ(SearchIds(store, "substituta"), std::vector<std::string>{"processo"});
  EXPECT_EQ(SearchIds(store, "borrada"), std::vector<std::string>{});
  const json h = json::parse(Acervo({"review", "history", "--store", store, "lote-web", "processo", "--json"}).out);
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.back()["action"], "replace_page");
  EXPECT_EQ(h.back()["user"], "op");
  EXPECT_EQ(h.back()["new"], new_sha);
  EXPECT_EQ(h.back()["reason"], "folha borrada");

  // The JSON API (session + X-CSRF-Token header here; an API token needs
  // none): page 3.
  const std::string terceira = ReadBytes(root_ / "terceira.png");
  httplib::Result api = op.PostMultipart("/api/v1/documents/lote-web/processo/pages/3/replacement",
                                         {{"image", terceira, "terceira.png", "image/png"}}, false,
                                         {{"X-CSRF-Token", op.csrf()}});
  ASSERT_EQ(status(api), 200) << (api ? api->body : "");
  const json j = json::parse(api->body);
  EXPECT_EQ(j["page"], 3);
  EXPECT_EQ(j["pdf"]["pages"], 3);
  EXPECT_FALSE(j["pdf"].contains("path"));
  EXPECT_EQ(j["new_master"]["sha256"], *Sha256OfFile(root_ / "terceira.png"));
  for (const auto& [stage, runs] : j["stages"].items()) EXPECT_EQ(runs, 1) << stage;
  EXPECT_EQ(SearchIds(store, "interface"), std::vector<std::string>{"processo"});
  httplib::Result api_refused = op.PostMultipart("/api/v1/documents/lote-web/processo/pages/3/replacement",
                                                 {{"image", "nada", "x.png", "image/png"}}, false,
                                                 {{"X-CSRF-Token", op.csrf()}});
  ASSERT_EQ(status(api_refused), 422);
  EXPECT_NE(json::parse(api_refused->body)["error"].get<std::string>().find("cannot read the new image x.png"),
            std::string::npos);

  // A withdrawn document's pages cannot be replaced.
  ASSERT_EQ(Acervo({"withdraw", "--store", store, "lote-web", "outro", "--reason", "duplicado"}).exit_code, 0);
  httplib::Result withdrawn = op.PostMultipart("/review/lote-web/replace", Form("outro", "1", nova, "nova.png"));
  ASSERT_EQ(status(withdrawn), 422);
  EXPECT_NE(withdrawn->body.find("withdrawn"), std::string::npos);
  (*server)->Stop();

  // The audit trail: both replacements, the refusals, the lot not granted.
  auto audited = [&](const std::string& action) {
    AuditFilter f;
    f.action = action;
    f.limit = 100;
    return (*opened)->Access().ListAudit(f).value();
  };
  const std::vector<AuditRow> replaced = audited("review_replace");
  ASSERT_EQ(replaced.size(), 2u);
  EXPECT_EQ(replaced.back().entry.user, "op");
  EXPECT_NE(replaced.back().entry.detail.find("-> " + new_sha), std::string::npos) << replaced.back().entry.detail;
  EXPECT_EQ(audited("review_replace_refused").size(), refusals.size() + 2);
  int not_granted = 0;
  for (const AuditRow& r : audited("denied")) {
    not_granted += r.entry.user == "fora" && r.entry.detail == "lot not granted";
  }
  EXPECT_EQ(not_granted, 2);
}

TEST_F(PageReplaceWebTest, SqliteStore) { Loop((root_ / "acervo.db").string()); }

TEST_F(PageReplaceWebTest, PostgresStore) {
  testing::OnPostgres("acervo_replace_web", [this](const std::string& conninfo) { Loop(conninfo); });
}

}  // namespace
}  // namespace acervo
