// End to end, issue 18: capture stations hand lots over to the shared work
// queue — `acervo scan --enqueue` (SANE's test backend) when the feeder is
// emptied, `acervo watch --enqueue` for lot folders and single page files
// dropped into a hot folder on the shared root, `acervo enqueue` — and one
// `acervo worker` processes them all; `acervo status` and the morning
// report show them. Also what a SQLite store and a folder outside the
// shared root answer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/postgres_store.h"
#include "acervo/synth/synth.h"
#include "postgres_test_server.h"
#include "support/process.h"
#include "support/sane_config.h"
#include "support/text_page.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::AcervoBinary;
using testing::RunProcess;

const fs::path kSaneConfig = testing::UseSaneTestConfig();

TEST(QueueHandoverTest, ScanWatchAndEnqueueHandLotsToTheWorkers) {
  ASSERT_FALSE(kSaneConfig.empty());
  PostgresTestServer server;
  Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "\n*** PostgreSQL cannot run here: %s; SKIPPED ***\n\n", started.ToString().c_str());
    GTEST_SKIP() << started.ToString();
  }
  Result<std::string> db = server.CreateDatabase("handover");
  ASSERT_TRUE(db.ok());
  const fs::path root = fs::temp_directory_path() / ("acervo-handover-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path shared = root / "shared";
  fs::create_directories(shared / "inbox");
  fs::create_directories(root / "elsewhere");

  // A SQLite store serves one machine: no queue, and it says what to use.
  testing::ProcessResult sqlite =
      RunProcess({AcervoBinary(), "enqueue", "--store", (root / "acervo.db").string(), (root / "elsewhere").string()});
  EXPECT_EQ(sqlite.exit_code, 2);
  EXPECT_NE(sqlite.err.find("needs a PostgreSQL store"), std::string::npos) << sqlite.err;
  EXPECT_NE(sqlite.err.find("acervo batch"), std::string::npos) << sqlite.err;
  // A folder the workers could not find is refused, by enqueue...
  testing::ProcessResult outside = RunProcess({AcervoBinary(), "enqueue", "--store", *db, "--shared-root",
                                               shared.string(), (root / "elsewhere").string()});
  EXPECT_EQ(outside.exit_code, 2);
  EXPECT_NE(outside.err.find("not inside the shared root"), std::string::npos) << outside.err;
  // ...and by scan before any page is scanned.
  const std::vector<std::string> scan = {AcervoBinary(), "scan", "--driver", "sane", "--device", "test:0",
                                         "--source", "adf", "--resolution", "75", "--option",
                                         "test-picture=Color pattern", "--enqueue", *db,
                                         "--shared-root", shared.string(), "--lot"};
  std::vector<std::string> argv = scan;
  argv.push_back((root / "elsewhere" / "scan-x").string());
  testing::ProcessResult early = RunProcess(argv);
  EXPECT_EQ(early.exit_code, 2) << early.err;
  EXPECT_FALSE(fs::exists(root / "elsewhere" / "scan-x" / "0001.tif"));

  // A scanning station: the feeder is emptied, the lot is queued.
  argv = scan;
  argv.push_back((shared / "inbox" / "scan-1").string());
  testing::ProcessResult scanned = RunProcess(argv);
  ASSERT_EQ(scanned.exit_code, 0) << scanned.err;
  EXPECT_NE(scanned.out.find("inbox/scan-1\tqueued as lot 1"), std::string::npos) << scanned.out;

  // A hot folder on the shared root: a lot folder and a loose page file.
  const fs::path hot = shared / "hot";
  fs::create_directories(hot / "lote-w");  // WriteFileAtomic makes no folders
  ASSERT_TRUE(synth::WritePages(hot / "lote-w" / "oficio.png", {testing::TextPage("Ofício de Mariana.", 3, 200)},
                                200, synth::FileFormat::kPng)
                  .ok());
  ASSERT_TRUE(synth::WritePages(hot / "solta.png", {testing::TextPage("Folha solta de Ouro Preto.", 4, 200)}, 200,
                                synth::FileFormat::kPng)
                  .ok());
  testing::ProcessResult watched = RunProcess({AcervoBinary(), "watch", hot.string(), "--enqueue", *db,
                                               "--shared-root", shared.string(), "--once", "--settle", "0",
                                               "--poll", "--quiet"});
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  EXPECT_NE(watched.out.find("lote-w\tqueued as lot 2"), std::string::npos) << watched.out;
  EXPECT_NE(watched.out.find("solta.png\tqueued as lot 3"), std::string::npos) << watched.out;
  // Items handed over are not handed over twice.
  testing::ProcessResult again = RunProcess({AcervoBinary(), "watch", hot.string(), "--enqueue", *db,
                                             "--shared-root", shared.string(), "--once", "--settle", "0",
                                             "--poll", "--quiet"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "");
  // Queued again while queued: the same lot.
  testing::ProcessResult twice = RunProcess({AcervoBinary(), "enqueue", "--store", *db, "--shared-root",
                                             shared.string(), (shared / "inbox" / "scan-1").string()});
  EXPECT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_NE(twice.out.find("already queued as lot 1 (queued)"), std::string::npos) << twice.out;

  testing::ProcessResult before = RunProcess({AcervoBinary(), "status", "--store", *db, "--json"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  json st = json::parse(before.out, nullptr, false);
  ASSERT_TRUE(st.is_object()) << before.out;
  EXPECT_EQ(st["units"]["pending"], 3);  // the three plans
  EXPECT_EQ(st["lots"].size(), 3u);

  testing::ProcessResult worker = RunProcess({AcervoBinary(), "worker", "--store", *db, "--shared-root",
                                              shared.string(), "--jobs", "2", "--exit-when-idle", "--quiet"});
  ASSERT_EQ(worker.exit_code, 0) << worker.err;
  testing::ProcessResult after = RunProcess({AcervoBinary(), "status", "--store", *db, "--json"});
  st = json::parse(after.out, nullptr, false);
  ASSERT_TRUE(st.is_object()) << after.out;
  EXPECT_EQ(st["units"]["pending"], 0);
  EXPECT_EQ(st["units"]["running"], 0);
  EXPECT_EQ(st["units"]["failed"], 0) << after.out;
  for (const json& l : st["lots"]) EXPECT_EQ(l["state"], "done") << l.dump();
  testing::ProcessResult text = RunProcess({AcervoBinary(), "status", "--store", *db});
  EXPECT_NE(text.out.find("Units: 0 pending, 0 running"), std::string::npos) << text.out;

  Result<std::unique_ptr<Store>> store = OpenPostgresStore(*db);
  ASSERT_TRUE(store.ok());
  Result<StoreStats> stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->lots, 3);
  EXPECT_EQ(stats->pages, 12);  // 10 scanned sheets, the folder's page, the loose page
  const json morning = json::parse(testing::ReadText((shared / "report" / "report.json").string()), nullptr, false);
  ASSERT_TRUE(morning.is_object());
  EXPECT_EQ(morning["lots"]["total"], 3);
  EXPECT_TRUE(fs::exists(shared / "report" / "report.html"));
  if (!HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
