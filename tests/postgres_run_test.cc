// acervo run / search / verify with a PostgreSQL store named on the command
// line (a libpq connection string in --store), against a real server started
// by the test (initdb in a temp folder, Unix socket; see
// indexer/src/postgres_test_server.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "acervo/indexer/open_store.h"
#include "acervo/indexer/postgres_store.h"
#include "acervo/synth/synth.h"
#include "postgres_test_server.h"
#include "support/pdfa.h"
#include "support/process.h"
#include "support/text_page.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::RunProcess;
using json = nlohmann::json;

constexpr double kDpi = 200;

cv::Mat TextPage(const std::string& text, uint64_t seed) { return testing::TextPage(text, seed, kDpi); }

TEST(OpenStoreTest, TellsConnectionStringsFromFiles) {
  EXPECT_TRUE(IsPostgresSpec("postgresql://acervo@db.example/acervo"));
  EXPECT_TRUE(IsPostgresSpec("postgres://localhost/acervo"));
  EXPECT_TRUE(IsPostgresSpec("host=/tmp/pg dbname=acervo"));
  EXPECT_TRUE(IsPostgresSpec("dbname=acervo"));
  EXPECT_FALSE(IsPostgresSpec("out/acervo.db"));
  EXPECT_FALSE(IsPostgresSpec("/srv/lotes/hostname=x.db"));
  EXPECT_FALSE(IsPostgresSpec(""));
}

TEST(PostgresRunTest, RunSearchAndVerifyWithAPostgresStore) {
  PostgresTestServer server;
  Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "\n*** PostgreSQL cannot run here: %s ***\n\n", started.ToString().c_str());
    GTEST_SKIP() << "PostgreSQL cannot run here: " << started.ToString();
  }
  Result<std::string> conninfo = server.CreateDatabase("acervo_run");
  ASSERT_TRUE(conninfo.ok()) << conninfo.status().ToString();

  const fs::path root = fs::temp_directory_path() / ("acervo-pg-run-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path lot = root / "lote-pg";
  fs::create_directories(lot);
  ASSERT_TRUE(synth::WritePages(lot / "oficio.png", {TextPage("Ofício sobre a pavimentação da rua.", 1)}, kDpi,
                                synth::FileFormat::kPng)
                  .ok());
  ASSERT_TRUE(synth::WritePages(lot / "recibo.png", {TextPage("Recibo de entrega das caixas.", 2)}, kDpi,
                                synth::FileFormat::kPng)
                  .ok());

  const fs::path out = root / "saida";
  testing::ProcessResult run =
      RunProcess({AcervoBinary(), "run", lot.string(), "--out", out.string(), "--store", *conninfo, "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_FALSE(fs::exists(out / "acervo.db"));  // nothing went to a SQLite file
  {
    Result<std::unique_ptr<Store>> pg = OpenPostgresStore(*conninfo);
    ASSERT_TRUE(pg.ok()) << pg.status().ToString();
    Result<StoreStats> stats = (*pg)->Stats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->documents, 2);  // the rows are in PostgreSQL itself
  }

  testing::ProcessResult search =
      RunProcess({AcervoBinary(), "search", "--store", *conninfo, "--json", "pavimentacao"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  const json hits = json::parse(search.out, nullptr, false);
  ASSERT_TRUE(hits.is_array()) << search.out;
  ASSERT_EQ(hits.size(), 1u) << search.out;
  EXPECT_EQ(hits[0]["document"], "oficio");
  EXPECT_TRUE(fs::exists(hits[0]["pdf"].get<std::string>()));

  testing::ProcessResult verify = RunProcess({AcervoBinary(), "verify", out.string(), "--store", *conninfo});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(testing::PdfaProblems(testing::PdfsIn(out / "lote-pg")), "");

  // A second run finds both documents complete in PostgreSQL.
  run = RunProcess({AcervoBinary(), "run", lot.string(), "--out", out.string(), "--store", *conninfo, "--json",
                    "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json report = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.out;
  ASSERT_EQ(report["documents"]["list"].size(), 2u) << run.out;
  for (const json& d : report["documents"]["list"]) EXPECT_TRUE(d["skipped"].get<bool>()) << d.dump();
  if (!HasFailure()) fs::remove_all(root);
}

}  // namespace
}  // namespace acervo
