// `acervo users` through the binary (issue 13, item 6): every subcommand an
// admin uses from a terminal — add, list, set, disable, enable, passwd,
// grant, revoke — changes what the store says and leaves its audit row; a
// wrong CPF, an unknown user and a grant without a target are refused and
// change nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/access_store.h"
#include "acervo/indexer/open_store.h"
#include "acervo/web/auth.h"
#include "support/process.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::AcervoBinary;
using testing::ProcessOptions;
using testing::ProcessResult;
using testing::RunProcess;

class UsersCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("acervo-users-cli-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "acervo.db").string();
    Result<std::unique_ptr<Store>> created = OpenStore(db_);  // `users` never creates a store
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // acervo users ARGS... --store DB, with `password` (and a newline) on stdin.
  ProcessResult Users(std::vector<std::string> args, const std::string& password = "") {
    args.insert(args.begin(), {AcervoBinary(), "users"});
    args.insert(args.begin() + 3, {"--store", db_});
    ProcessOptions o;
    if (!password.empty()) {
      o.stdin_file = (dir_ / "password").string();
      EXPECT_TRUE(WriteFileAtomic(o.stdin_file, password + "\n").ok());
    }
    ProcessResult r = RunProcess(args, o);
    if (!password.empty()) fs::remove(o.stdin_file);
    return r;
  }
  json List() {
    ProcessResult r = Users({"list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  }
  json User(const std::string& name) {
    const json list = List();
    for (const json& u : list["users"]) {
      if (u["name"] == name) return u;
    }
    return json();
  }
  std::vector<std::string> AuditActions() {
    Result<std::unique_ptr<Store>> s = OpenStore(db_);
    EXPECT_TRUE(s.ok());
    AuditFilter f;
    f.limit = 1000;
    Result<std::vector<AuditRow>> rows = (*s)->Access().ListAudit(f);
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> actions;
    for (const AuditRow& r : *rows) actions.insert(actions.begin(), r.entry.action + " " + r.entry.target);
    return actions;
  }
  std::string PasswordHash(const std::string& name) {
    Result<std::unique_ptr<Store>> s = OpenStore(db_);
    EXPECT_TRUE(s.ok());
    Result<std::optional<UserRecord>> u = (*s)->Access().GetUser(name);
    EXPECT_TRUE(u.ok() && u->has_value());
    return u.ok() && u->has_value() ? (*u)->password_hash : "";
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(UsersCliTest, EverySubcommandChangesTheStoreAndIsAudited) {
  ProcessResult add = Users({"add", "ana", "--role", "operator", "--group", "arquivo", "--name", "Ana Lima", "--cpf",
                             "529.982.247-25", "--password-stdin"},
                            "uma senha bem longa");
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("user ana added (operator)"), std::string::npos) << add.out;
  json ana = User("ana");
  EXPECT_EQ(ana["role"], "operator");
  EXPECT_EQ(ana["display_name"], "Ana Lima");
  EXPECT_EQ(ana["groups"], json::array({"arquivo"}));
  EXPECT_EQ(ana["cpf"], "52998224725");
  EXPECT_EQ(ana["disabled"], false);
  EXPECT_TRUE(web::VerifyPassword(PasswordHash("ana"), "uma senha bem longa"));

  ProcessResult set = Users({"set", "ana", "--role", "admin", "--cpf", ""});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("user ana: role=admin; cpf removed"), std::string::npos) << set.out;
  ana = User("ana");
  EXPECT_EQ(ana["role"], "admin");
  EXPECT_EQ(ana["cpf"], "");
  EXPECT_EQ(ana["groups"], json::array({"arquivo"})) << "set without --group keeps the groups";

  ASSERT_EQ(Users({"disable", "ana"}).exit_code, 0);
  EXPECT_EQ(User("ana")["disabled"], true);
  ASSERT_EQ(Users({"enable", "ana"}).exit_code, 0);
  EXPECT_EQ(User("ana")["disabled"], false);

  ProcessResult pw = Users({"passwd", "ana", "--password-stdin"}, "outra senha bem longa");
  ASSERT_EQ(pw.exit_code, 0) << pw.err;
  EXPECT_TRUE(web::VerifyPassword(PasswordHash("ana"), "outra senha bem longa"));
  EXPECT_FALSE(web::VerifyPassword(PasswordHash("ana"), "uma senha bem longa"));

  ASSERT_EQ(Users({"grant", "arquivo", "--lot", "lote-1"}).exit_code, 0);
  ASSERT_EQ(Users({"grant", "arquivo", "--project", "prefeitura"}).exit_code, 0);
  ASSERT_EQ(Users({"revoke", "arquivo", "--lot", "lote-1"}).exit_code, 0);
  EXPECT_EQ(List()["grants"],
            json::array({{{"group", "arquivo"}, {"kind", "project"}, {"target", "prefeitura"}}}));

  EXPECT_EQ(AuditActions(), (std::vector<std::string>{
                                "admin_user_add ana", "admin_user_update ana", "admin_user_update ana",
                                "admin_user_update ana", "admin_user_update ana", "admin_grant_add lot:lote-1",
                                "admin_grant_add project:prefeitura", "admin_grant_remove lot:lote-1"}));
}

TEST_F(UsersCliTest, WrongInputIsRefusedAndChangesNothing) {
  ASSERT_EQ(Users({"add", "ana", "--password-stdin"}, "uma senha bem longa").exit_code, 0);
  const std::vector<std::string> audit_before = AuditActions();

  ProcessResult bad_cpf = Users({"add", "bob", "--cpf", "529.982.247-26", "--password-stdin"}, "uma senha longa");
  EXPECT_NE(bad_cpf.exit_code, 0);
  EXPECT_NE(bad_cpf.err.find("is not a valid CPF"), std::string::npos) << bad_cpf.err;
  EXPECT_TRUE(User("bob").is_null());

  ProcessResult set_cpf = Users({"set", "ana", "--cpf", "111.111.111-11"});
  EXPECT_NE(set_cpf.exit_code, 0);
  EXPECT_EQ(User("ana")["cpf"], "");

  ProcessResult nobody = Users({"disable", "nobody"});
  EXPECT_NE(nobody.exit_code, 0);
  EXPECT_NE(nobody.err.find("no user nobody"), std::string::npos) << nobody.err;

  ProcessResult no_target = Users({"grant", "arquivo"});
  EXPECT_NE(no_target.exit_code, 0);
  EXPECT_NE(no_target.err.find("give --lot or --project"), std::string::npos) << no_target.err;
  EXPECT_TRUE(List()["grants"].empty());

  ProcessResult no_password = Users({"passwd", "ana", "--password-stdin"});
  EXPECT_NE(no_password.exit_code, 0);
  EXPECT_NE(no_password.err.find("no password on standard input"), std::string::npos) << no_password.err;

  EXPECT_EQ(AuditActions(), audit_before) << "a refused change leaves no audit row";
}

}  // namespace
}  // namespace acervo
