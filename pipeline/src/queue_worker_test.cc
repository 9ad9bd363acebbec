// The parts of the queue worker that need no database: stage chains kept
// between units, lot folders as the queue records them, queued options.
#include "acervo/pipeline/queue_worker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "acervo/pipeline/chain_pool.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

TEST(StageChainPoolTest, AChainIsBuiltOncePerProfileAndReused) {
  StageChainPool pool(2);
  int builds = 0;
  const auto build = [&]() -> Result<StageChain> {
    ++builds;
    return StageChain{};
  };
  {
    Result<std::shared_ptr<StageChain>> a = pool.Take("profile-1", build);
    ASSERT_TRUE(a.ok());
    // In use: a second unit at the same time gets its own.
    Result<std::shared_ptr<StageChain>> b = pool.Take("profile-1", build);
    ASSERT_TRUE(b.ok());
    EXPECT_NE(a->get(), b->get());
  }
  EXPECT_EQ(builds, 2);
  for (int unit = 0; unit < 5; ++unit) ASSERT_TRUE(pool.Take("profile-1", build).ok());
  EXPECT_EQ(builds, 2) << "units of the same profile reuse the idle chains";
  ASSERT_TRUE(pool.Take("profile-2", build).ok());
  EXPECT_EQ(builds, 3);
  EXPECT_EQ(pool.built(), 3u);
  // A failing build is the caller's failure, and nothing is kept.
  Result<std::shared_ptr<StageChain>> bad =
      pool.Take("profile-3", []() -> Result<StageChain> { return Status::NotFound("no traineddata for xyz"); });
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

TEST(QueuedLotDirTest, LotsAreQueuedRelativeToTheSharedRoot) {
  const fs::path root = fs::temp_directory_path() / ("acervo-queued-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "shared" / "inbox" / "lote 1");
  fs::create_directories(root / "other");
  Result<std::string> rel = QueuedLotDir(root / "shared" / "inbox" / "lote 1", root / "shared");
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_EQ(*rel, "inbox/lote 1");
  // Mounted elsewhere on another machine, the same path names the same folder.
  EXPECT_EQ(ResolveQueuedPath("/mnt/acervo", *rel), fs::path("/mnt/acervo/inbox/lote 1"));
  EXPECT_EQ(QueuedLotDir(root / "other", root / "shared").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(QueuedLotDir(root / "shared", root / "shared").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(QueuedLotDir(root / "shared" / "inbox" / "missing", root / "shared").status().code(),
            StatusCode::kNotFound);
  // ".." cannot climb out.
  EXPECT_EQ(QueuedLotDir(root / "shared" / ".." / "other", root / "shared").status().code(),
            StatusCode::kInvalidArgument);
  // Without a shared root: the absolute path, used as it is.
  Result<std::string> abs = QueuedLotDir(root / "other", "");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(fs::path(*abs), fs::weakly_canonical(root / "other"));
  EXPECT_EQ(ResolveQueuedPath("/mnt/acervo", *abs), fs::path(*abs));
  fs::remove_all(root);
}

TEST(QueuedLotOptionsTest, RoundTripAndBadInput) {
  QueuedLotOptions o;
  o.languages = "por";
  o.force = true;
  o.alto = true;
  o.unit_pages = 8;
  Result<QueuedLotOptions> back = ParseQueuedLotOptions(QueuedLotOptionsJson(o));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->languages, "por");
  EXPECT_TRUE(back->force);
  EXPECT_TRUE(back->alto);
  EXPECT_FALSE(back->hocr);
  EXPECT_EQ(back->unit_pages, 8);
  EXPECT_EQ(ParseQueuedLotOptions("{}")->unit_pages, 24);
  EXPECT_FALSE(ParseQueuedLotOptions("[1]").ok());
  EXPECT_FALSE(ParseQueuedLotOptions("{\"force\": \"yes\"}").ok());
}

}  // namespace
}  // namespace acervo
