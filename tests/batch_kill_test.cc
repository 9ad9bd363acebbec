// End to end: `acervo batch` killed with SIGKILL at a dozen moments — seeded
// random ones, once while a PDF is half written and once just before a
// store commit (ACERVO_TEST_PAUSE_AT) — and rerun each time. In the end:
// every master exactly once with its SHA-256, every PDF complete (qpdf) and
// indexed exactly once, no temporary file anywhere, originals untouched, and
// no page finished twice (the journal has one "page" record per page).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "acervo/core/files.h"
#include "acervo/indexer/sqlite_store.h"
#include "acervo/pipeline/journal.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"


namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::RunProcess;

struct Doc {
  std::string lot, id, word;  // word: appears in this document only
};

class BatchKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("acervo-kill-e2e-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(queue_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }
  // A small page (A6 at 200 dpi) so a dozen reruns stay well under a minute.
  void Page(const fs::path& path, const std::vector<std::string>& texts, synth::FileFormat format, uint64_t seed) {
    std::vector<cv::Mat> images;
    for (const std::string& t : texts) {
      synth::PageSpec spec;
      spec.dpi = 200;
      spec.width_mm = 105;
      spec.height_mm = 148;
      spec.margin_mm = 10;
      spec.seed = seed++;
      spec.blocks.push_back({t, 12});
      Result<synth::SynthPage> page = synth::RenderPage(spec);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      images.push_back(page->image);
    }
    fs::create_directories(path.parent_path());
    ASSERT_TRUE(synth::WritePages(path, images, 200, format).ok());
  }
  fs::path root_;
  fs::path queue_ = fs::temp_directory_path() / ("acervo-kill-e2e-" + std::to_string(::getpid())) / "fila";
  fs::path out_ = fs::temp_directory_path() / ("acervo-kill-e2e-" + std::to_string(::getpid())) / "saida";
};

TEST_F(BatchKillTest, SigkillAtAnyMomentThenRerunLosesAndDuplicatesNothing) {
  std::vector<Doc> docs = {
      {"lote-1", "oficio", "Tiradentes"}, {"lote-1", "recibo", "Alvorada"}, {"lote-1", "ata", "Jacarandá"},
      {"lote-2", "certidao", "Paranaguá"}, {"lote-2", "contrato", "Itaboraí"}, {"lote-2", "edital", "Quixadá"}};
  uint64_t seed = 11;
  for (const Doc& d : docs) {
    // Two pages each (a multi-page TIFF for some): documents take several
    // deliveries, so kills land between the pages of one document too.
    std::vector<std::string> texts = {"Documento " + d.id + " da praça " + d.word + " número um.",
                                      "Segunda folha do documento " + d.id + " com anexos."};
    if (d.id == "recibo" || d.id == "contrato") {
      Page(queue_ / d.lot / (d.id + ".tif"), texts, synth::FileFormat::kTiffLzw, seed);
    } else {
      Page(queue_ / d.lot / (d.id + "-1.png"), {texts[0]}, synth::FileFormat::kPng, seed);
      Page(queue_ / d.lot / (d.id + "-2.png"), {texts[1]}, synth::FileFormat::kPng, seed + 1);
      std::string manifest_path = (queue_ / d.lot / "manifest.csv").string();
      std::string manifest = testing::ReadText(manifest_path);
      if (manifest.empty()) manifest = "document_id,document_type,title,files\n";
      manifest += d.id + ",oficio,Documento " + d.id + "," + d.id + "-1.png;" + d.id + "-2.png\n";
      ASSERT_TRUE(WriteFileAtomic(manifest_path, manifest).ok());
    }
    seed += 2;
  }
  // Multi-page TIFF files named by no manifest row become their own documents.
  std::map<std::string, std::string> originals;
  for (const auto& e : fs::recursive_directory_iterator(queue_)) {
    if (e.is_regular_file()) originals[e.path().string()] = *Sha256OfFile(e.path());
  }

  const std::vector<std::string> argv = {AcervoBinary(), "batch", queue_.string(), "--out", out_.string(),
                                         "--jobs", "2", "--quiet"};
  const fs::path log = root_ / "runs.log";
  std::mt19937 rng(20261128);
  // Short delays: with resume every rerun makes progress, and on an idle
  // machine the whole batch takes only a few seconds.
  std::uniform_int_distribution<int> delay_ms(80, 900);
  int landed = 0, pauses = 0, completed = 0;
  for (int attempt = 0; attempt < 40 && landed < 12; ++attempt) {
    std::string pause = attempt == 1 ? "pdf-write" : attempt == 3 ? "store-commit" : "";
    pid_t pid = testing::SpawnWithPause(argv, pause, log.string());
    ASSERT_GT(pid, 0);
    int status = 0;
    bool killed = false;
    if (!pause.empty()) {
      // Wait until the process stops itself at the named point.
      ASSERT_EQ(::waitpid(pid, &status, WUNTRACED), pid);
      ASSERT_TRUE(WIFSTOPPED(status)) << "the run never reached " << pause << "\n" << testing::ReadText(log.string());
      ++pauses;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      killed = true;
    } else {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms(rng));
      while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (std::chrono::steady_clock::now() >= deadline && ::kill(pid, SIGKILL) == 0) {
        ::waitpid(pid, &status, 0);
        killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
      }
    }
    if (killed) {
      ++landed;
    } else if (WIFEXITED(status)) {
      // The batch finished before the kill: it must have succeeded. Start
      // over from an empty output so later kills still land mid-work.
      EXPECT_EQ(WEXITSTATUS(status), 0) << testing::ReadText(log.string());
      ++completed;
      fs::remove_all(out_);
    }
  }
  std::printf("runs that completed before their kill (output reset each time): %d\n", completed);
  std::printf("kills landed: %d (2 of them at ACERVO_TEST_PAUSE_AT points)\n", landed);
  EXPECT_EQ(pauses, 2);
  EXPECT_GE(landed, 10) << "too few kills landed before the batch finished";

  testing::ProcessResult final_run = RunProcess(argv);
  ASSERT_EQ(final_run.exit_code, 0) << final_run.out << final_run.err << testing::ReadText(log.string());

  // Originals byte-identical.
  for (const auto& [path, sha] : originals) EXPECT_EQ(*Sha256OfFile(path), sha) << "original changed: " << path;

  // Every master exactly once, with its SHA-256.
  for (const char* lot : {"lote-1", "lote-2"}) {
    std::set<std::string> inputs, masters;
    for (const auto& e : fs::directory_iterator(queue_ / lot)) {
      std::string n = e.path().filename().string();
      if (n != "manifest.csv") inputs.insert(n);
    }
    for (const auto& e : fs::recursive_directory_iterator(out_ / lot / "masters")) {
      if (!e.is_regular_file()) continue;
      std::string n = e.path().filename().string();
      EXPECT_TRUE(masters.insert(n).second) << "master twice: " << n;
      EXPECT_EQ(*Sha256OfFile(e.path()), originals[(queue_ / lot / n).string()]) << n;
    }
    EXPECT_EQ(masters, inputs) << lot;
  }

  // Every PDF complete and indexed exactly once.
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(out_ / "acervo.db", {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<StoreStats> stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->documents, static_cast<int64_t>(docs.size()));
  EXPECT_EQ(stats->pages, static_cast<int64_t>(2 * docs.size()));
  std::vector<fs::path> pdfs;
  for (const Doc& d : docs) {
    Result<std::optional<DocumentRecord>> rec = (*store)->GetDocument(d.lot, d.id);
    ASSERT_TRUE(rec.ok() && rec->has_value()) << d.lot << "/" << d.id;
    const DocumentRecord& r = **rec;
    EXPECT_EQ(r.page_count, 2) << d.id;
    // Stored paths are relative to the output folder (docs/store.md).
    const fs::path pdf = ResolveStoredPath(out_, r.pdf_path);
    EXPECT_EQ(*Sha256OfFile(pdf), r.pdf_sha256) << pdf;
    pdfs.push_back(pdf);
    SearchRequest q;
    q.query = d.id;
    Result<std::vector<SearchHit>> hits = (*store)->Search(q);
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ(hits->size(), 1u) << d.id;
  }
  // Every PDF that survived the kills is whole and PDF/A (Preflight + qpdf).
  EXPECT_EQ(testing::PdfaProblems(pdfs), "");

  // No temporary file (nor leftover checkpoint) where an output belongs.
  for (const auto& e : fs::recursive_directory_iterator(out_)) {
    std::string n = e.path().filename().string();
    EXPECT_NE(n.rfind(".tmp-", 0), 0u) << e.path();
    EXPECT_EQ(e.path().string().find("/checkpoints/"), std::string::npos) << "checkpoint left: " << e.path();
  }

  // No page finished twice: a page interrupted before its checkpoint was
  // durable is redone once; one with a checkpoint is never recomputed.
  for (const char* lot : {"lote-1", "lote-2"}) {
    Result<std::unique_ptr<Journal>> j = Journal::Open(out_ / lot / "journal.jsonl");
    ASSERT_TRUE(j.ok());
    std::map<JournalPageKey, int> counts = (*j)->PageDoneCounts();
    EXPECT_EQ(counts.size(), 6u) << lot;
    for (const auto& [key, n] : counts) {
      EXPECT_EQ(n, 1) << lot << " " << std::get<0>(key) << " page " << std::get<1>(key);
    }
  }
}

}  // namespace
}  // namespace acervo
