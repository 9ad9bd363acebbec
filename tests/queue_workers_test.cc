// End to end, issue 18: several `acervo worker` processes sharing a temp
// folder as the shared root and a real PostgreSQL server started by the
// test (durable: fsync and synchronous commits on), under faults —
// (leases of 20 s: a restart of a durable server on a busy machine takes
// several seconds, and a worker stops its units after 3/4 of a lease
// without reaching the database)
//  - one worker stops itself with a PDF half written (ACERVO_TEST_PAUSE_AT)
//    and is SIGKILLed: its unit is taken over when its lease expires;
//  - the PostgreSQL server crashes and restarts mid-run (pg_ctl stop -m
//    immediate): the workers reconnect and carry on;
//  - a document with a damaged page fails once with its reason and is not
//    retried;
//  - a worker gets SIGTERM while it holds a unit: it finishes it and exits 0.
// Afterwards: every page done exactly once (one "page" record per page in
// the lot's journals, one stored page per master page), every document
// indexed once, every PDF passes PDFBox Preflight, no temp file left, both
// lots finalised once with their reports and the morning report.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/postgres_store.h"
#include "acervo/pipeline/journal.h"
#include "acervo/synth/synth.h"
#include "postgres_test_server.h"
#include "support/pdfa.h"
#include "support/damaged_tiff.h"
#include "support/process.h"
#include "support/text_page.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::AcervoBinary;
using testing::RunProcess;
using Clock = std::chrono::steady_clock;

// Rows of a query as text (empty on failure, which fails the test).
std::vector<std::vector<std::string>> Query(const std::string& conninfo, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(conninfo.c_str()), &PQfinish);
  std::vector<std::vector<std::string>> rows;
  if (PQstatus(c.get()) != CONNECTION_OK) return rows;  // the server is restarting
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return rows;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r.get()); ++j) row.push_back(PQgetvalue(r.get(), i, j));
    rows.push_back(std::move(row));
  }
  return rows;
}

int64_t QueryInt(const std::string& conninfo, const std::string& sql) {
  auto rows = Query(conninfo, sql);
  return rows.empty() || rows[0].empty() || rows[0][0].empty() ? -1 : std::stoll(rows[0][0]);
}

// Waits for `done` (polled every 200 ms) up to `limit`.
bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  const Clock::time_point end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

// The exit status of `pid` within `limit`, or -1 (then it is killed).
int WaitExit(pid_t pid, std::chrono::seconds limit) {
  int status = 0;
  if (!WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, limit)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class QueueWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = server_.Start(/*durable=*/true);
    if (!started.ok()) {
      std::fprintf(stderr, "\n*** PostgreSQL cannot run here: %s; queue e2e test SKIPPED ***\n\n",
                   started.ToString().c_str());
      GTEST_SKIP() << started.ToString();
    }
    Result<std::string> c = server_.CreateDatabase("queue_e2e");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conninfo_ = *c;
    root_ = fs::temp_directory_path() / ("acervo-queue-e2e-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    shared_ = root_ / "shared";
    fs::create_directories(shared_ / "inbox");
  }
  void TearDown() override {
    for (pid_t pid : workers_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (!HasFailure() && !root_.empty()) fs::remove_all(root_);
  }

  void Pages(const fs::path& path, const std::vector<std::string>& texts, synth::FileFormat format, uint64_t seed) {
    testing::WriteSmallTextPages(path, texts, format, seed);
  }

  pid_t StartWorker(const std::string& name, const std::string& pause_at = "", int lease = 20) {
    const std::vector<std::string> argv = {AcervoBinary(), "worker", "--store", conninfo_, "--shared-root",
                                           shared_.string(), "--jobs", "1", "--lease", std::to_string(lease),
                                           "--name", name,
                                           "--drain-timeout", "120"};
    pid_t pid = testing::SpawnWithPause(argv, pause_at, (root_ / (name + ".log")).string());
    EXPECT_GT(pid, 0);
    workers_.push_back(pid);
    return pid;
  }

  void Forget(pid_t pid) { workers_.erase(std::remove(workers_.begin(), workers_.end(), pid), workers_.end()); }

  std::string Logs() {
    std::string all;
    for (const char* n : {"w1", "w2", "w3", "w4"}) {
      all += std::string("--- ") + n + "\n" + testing::ReadText((root_ / (std::string(n) + ".log")).string());
    }
    return all;
  }

  PostgresTestServer server_;
  std::string conninfo_;
  fs::path root_, shared_;
  std::vector<pid_t> workers_;
};

TEST_F(QueueWorkersTest, ExactlyOnceUnderKilledWorkersAndADatabaseRestart) {
  // lote-a: five short documents and a long one of six pages (cut into
  // ranges of two by --unit-pages 2: its pages run on several workers).
  const fs::path lot_a = shared_ / "inbox" / "lote-a";
  std::string manifest = "document_id,document_type,title,files\n";
  const std::vector<std::string> words = {"Tiradentes", "Alvorada", "Jacarandá", "Paranaguá", "Itaboraí"};
  uint64_t seed = 100;
  std::map<std::string, int> planned_pages;  // "<lot>/<document>" -> master pages
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string id = "doc" + std::to_string(i + 1);
    const int n = i % 2 == 0 ? 1 : 2;
    std::string files;
    for (int p = 1; p <= n; ++p) {
      const std::string file = id + "-" + std::to_string(p) + ".png";
      Pages(lot_a / file, {"Documento " + id + " da praça " + words[i] + ", folha " + std::to_string(p) + "."},
            synth::FileFormat::kPng, seed++);
      files += (p > 1 ? ";" : "") + file;
    }
    manifest += id + ",oficio,Documento " + id + "," + files + "\n";
    planned_pages["lote-a/" + id] = n;
  }
  std::string long_files;
  for (int p = 1; p <= 6; ++p) {
    const std::string file = "longo-" + std::to_string(p) + ".png";
    Pages(lot_a / file, {"Processo longo de Quixadá, folha número " + std::to_string(p) + "."},
          synth::FileFormat::kPng, seed++);
    long_files += (p > 1 ? ";" : "") + file;
  }
  manifest += "longo,processo,Processo longo," + long_files + "\n";
  planned_pages["lote-a/longo"] = 6;
  ASSERT_TRUE(WriteFileAtomic(lot_a / "manifest.csv", manifest).ok());

  // lote-b: two good documents and a three-page TIFF whose page 2 is damaged.
  const fs::path lot_b = shared_ / "inbox" / "lote-b";
  Pages(lot_b / "recibo.png", {"Recibo de entrega em Ubatuba."}, synth::FileFormat::kPng, seed++);
  Pages(lot_b / "ata.tif", {"Ata da reunião em Caraguatatuba.", "Segunda folha da ata."},
        synth::FileFormat::kTiffLzw, seed);
  seed += 2;
  planned_pages["lote-b/recibo"] = 1;
  planned_pages["lote-b/ata"] = 2;
  Pages(lot_b / "multi.tif", {"Primeira folha de Paraty.", "Segunda folha danificada.", "Terceira folha de Paraty."},
        synth::FileFormat::kTiffLzw, seed);
  {
    std::mt19937 rng(7);
    ASSERT_NO_FATAL_FAILURE(testing::DamageTiffPage(lot_b / "multi.tif", 1, rng));
  }

  // A station hands both lots over.
  testing::ProcessResult enq = RunProcess({AcervoBinary(), "enqueue", "--store", conninfo_, "--shared-root",
                                           shared_.string(), "--unit-pages", "2", lot_a.string(), lot_b.string()});
  ASSERT_EQ(enq.exit_code, 0) << enq.err;
  EXPECT_NE(enq.out.find("inbox/lote-a\tqueued as lot 1"), std::string::npos) << enq.out;

  // w1 alone plans lote-a and starts a document; it stops itself with the
  // PDF half written, and is killed there: mid-unit.
  const pid_t w1 = StartWorker("w1", "pdf-write");
  int status = 0;
  ASSERT_EQ(::waitpid(w1, &status, WUNTRACED), w1);
  ASSERT_TRUE(WIFSTOPPED(status)) << "w1 never reached the pause point\n" << Logs();
  const std::string killed_unit =
      Query(conninfo_, "SELECT id FROM queue_units WHERE worker = 'w1' AND state = 'running'").at(0).at(0);
  ::kill(w1, SIGKILL);
  ::waitpid(w1, &status, 0);
  Forget(w1);
  bool temp_left = false;
  for (const auto& e : fs::recursive_directory_iterator(shared_)) {
    temp_left |= e.path().filename().string().rfind(".tmp-", 0) == 0;
  }
  EXPECT_TRUE(temp_left) << "the kill was meant to leave a half-written PDF behind";

  const pid_t w2 = StartWorker("w2");
  const pid_t w3 = StartWorker("w3");
  const pid_t w4 = StartWorker("w4");
  (void)w2;
  (void)w3;

  // w4 is asked to stop while it holds a unit: it finishes that unit first.
  std::string drained_unit;
  WaitFor(
      [&] {
        auto rows = Query(conninfo_, "SELECT id FROM queue_units WHERE worker = 'w4' AND state = 'running'");
        if (!rows.empty()) drained_unit = rows[0][0];
        return !drained_unit.empty();
      },
      std::chrono::seconds(120));
  ::kill(w4, SIGTERM);
  EXPECT_EQ(WaitExit(w4, std::chrono::seconds(180)), 0) << Logs();
  Forget(w4);

  // Mid-run: the database crashes and comes back.
  ASSERT_TRUE(WaitFor([&] { return QueryInt(conninfo_, "SELECT count(*) FROM queue_units WHERE state = 'done'") >= 5; },
                      std::chrono::seconds(300)))
      << Logs();
  ASSERT_GT(QueryInt(conninfo_, "SELECT count(*) FROM queue_units WHERE state IN ('pending', 'running')"), 0)
      << "the restart must come before the end";
  ASSERT_TRUE(server_.Restart("immediate", std::chrono::milliseconds(1500)).ok());

  ASSERT_TRUE(WaitFor([&] {
    return QueryInt(conninfo_, "SELECT count(*) FROM queue_lots WHERE state IN ('done', 'failed')") == 2;
  }, std::chrono::seconds(600)))
      << Logs();
  for (pid_t pid : std::vector<pid_t>(workers_)) {
    ::kill(pid, SIGTERM);
    EXPECT_EQ(WaitExit(pid, std::chrono::seconds(60)), 0) << Logs();
    Forget(pid);
  }
  const std::string logs = Logs();

  // The queue: both lots finalised once; the killed unit taken over once;
  // the drained unit finished by w4 itself; the damaged document failed
  // once with its reason.
  EXPECT_EQ(QueryInt(conninfo_, "SELECT count(*) FROM queue_lots WHERE state = 'done' AND report IS NOT NULL"), 2);
  EXPECT_EQ(QueryInt(conninfo_, "SELECT count(*) FROM queue_units WHERE kind = 'finalise'"), 2);
  EXPECT_EQ(QueryInt(conninfo_, "SELECT count(*) FROM queue_units WHERE state NOT IN ('done', 'failed')"), 0);
  EXPECT_EQ(QueryInt(conninfo_, "SELECT attempts FROM queue_units WHERE id = " + killed_unit), 2) << logs;
  EXPECT_EQ(QueryInt(conninfo_, "SELECT count(*) FROM queue_units WHERE state = 'done' AND id = " + killed_unit), 1);
  if (!drained_unit.empty()) {
    EXPECT_EQ(Query(conninfo_, "SELECT worker || ' ' || state FROM queue_units WHERE id = " + drained_unit).at(0).at(0),
              "w4 done")
        << logs;
  }
  const auto failed = Query(conninfo_, "SELECT document_id, attempts, error FROM queue_units WHERE state = 'failed'");
  ASSERT_EQ(failed.size(), 1u) << logs;
  EXPECT_EQ(failed[0][0], "multi");
  EXPECT_EQ(failed[0][1], "1");
  EXPECT_NE(failed[0][2].find("multi.tif page 2"), std::string::npos) << failed[0][2];
  testing::ProcessResult st = RunProcess({AcervoBinary(), "status", "--store", conninfo_, "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  const json status_json = json::parse(st.out, nullptr, false);
  ASSERT_TRUE(status_json.is_object()) << st.out;
  EXPECT_EQ(status_json["units"]["pending"], 0);
  EXPECT_EQ(status_json["units"]["running"], 0);
  EXPECT_EQ(status_json["units"]["failed"], 1);
  ASSERT_EQ(status_json["failures"].size(), 1u);
  EXPECT_EQ(status_json["failures"][0]["document"], "multi");
  EXPECT_EQ(status_json["workers"].size(), 4u);

  // The store: every planned document but the damaged one, once, with each
  // master page once.
  Result<std::unique_ptr<Store>> store = OpenPostgresStore(conninfo_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::set<std::string> stored;
  for (const char* lot : {"lote-a", "lote-b"}) {
    Result<std::vector<DocumentRecord>> docs = (*store)->ListDocuments(lot);
    ASSERT_TRUE(docs.ok());
    for (const DocumentRecord& d : *docs) {
      const std::string key = std::string(lot) + "/" + d.document_id;
      EXPECT_TRUE(stored.insert(key).second) << key;
      std::vector<int> masters;
      for (const PageRecord& p : d.pages) masters.push_back(p.master_page);
      std::vector<int> want(static_cast<size_t>(planned_pages[key]));
      for (size_t k = 0; k < want.size(); ++k) want[k] = static_cast<int>(k) + 1;
      EXPECT_EQ(masters, want) << key;
      // Paths in the store are below the shared root.
      EXPECT_TRUE(fs::exists(d.pdf_path) || fs::exists(shared_ / d.pdf_path)) << d.pdf_path;
    }
  }
  std::set<std::string> want_docs;
  for (const auto& [k, n] : planned_pages) want_docs.insert(k);
  EXPECT_EQ(stored, want_docs);
  for (const auto& [word, doc] : std::map<std::string, std::string>{{"Tiradentes", "doc1"}, {"Quixadá", "longo"},
                                                                      {"Caraguatatuba", "ata"}}) {
    SearchRequest q;
    q.query = word;
    Result<std::vector<SearchHit>> hits = (*store)->Search(q);
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 1u) << word;
    EXPECT_EQ((*hits)[0].document_id, doc);
  }

  // The journals of each lot (one file per unit attempt): one "page"
  // record per page ever finished; the damaged page never.
  for (const char* lot : {"lote-a", "lote-b"}) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(shared_ / lot / "journal")) {
      if (e.path().extension() == ".jsonl") files.push_back(e.path());
    }
    ASSERT_FALSE(files.empty());
    const fs::path merged = root_ / (std::string(lot) + "-merged.jsonl");
    Result<std::unique_ptr<Journal>> j = Journal::Open(merged, files);
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    int pages = 0;
    for (const auto& [key, n] : (*j)->PageDoneCounts()) {
      EXPECT_EQ(n, 1) << lot << " " << std::get<0>(key) << " page " << std::get<1>(key) << " done " << n << " times";
      ++pages;
    }
    EXPECT_EQ(pages, std::string(lot) == "lote-a" ? 13 : 5);  // lote-b: recibo 1, ata 2, multi 1 and 3
  }

  // Lot reports and the morning report, written once each by the finaliser.
  for (const char* lot : {"lote-a", "lote-b"}) {
    const json report = json::parse(testing::ReadText((shared_ / lot / "report.json").string()), nullptr, false);
    ASSERT_TRUE(report.is_object()) << lot;
    EXPECT_EQ(report["pages"]["total"], std::string(lot) == "lote-a" ? 13 : 6);
    EXPECT_EQ(report["documents"]["ok"], std::string(lot) == "lote-a" ? 6 : 2) << report.dump(2);
    EXPECT_EQ(report["documents"]["failed"], std::string(lot) == "lote-a" ? 0 : 1);
    if (std::string(lot) == "lote-a") {
      EXPECT_GE(report["pages"]["resumed"].get<int>(), 1) << "the killed unit's page came back from its checkpoint";
    }
  }
  const json morning = json::parse(testing::ReadText((shared_ / "report" / "report.json").string()), nullptr, false);
  ASSERT_TRUE(morning.is_object());
  EXPECT_EQ(morning["lots"]["total"], 2);
  EXPECT_EQ(morning["documents"]["ok"], 8);
  EXPECT_EQ(morning["documents"]["failed"], 1);

  // Every PDF passes Preflight; nothing temporary is left anywhere.
  std::vector<fs::path> pdfs = testing::PdfsIn(shared_ / "lote-a");
  for (const fs::path& p : testing::PdfsIn(shared_ / "lote-b")) pdfs.push_back(p);
  EXPECT_EQ(pdfs.size(), 8u);
  EXPECT_EQ(testing::PdfaProblems(pdfs), "");
  for (const auto& e : fs::recursive_directory_iterator(shared_)) {
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << e.path();
  }
  if (HasFailure()) std::fprintf(stderr, "%s\n", logs.c_str());
}

}  // namespace
}  // namespace acervo

namespace acervo {
namespace {

// A worker frozen (SIGSTOP, a paused VM) with its document's PDF complete
// and about to be renamed, past its lease: another worker takes the unit
// over and publishes the document. When the frozen one wakes up it must
// not rename its own PDF over its successor's (the store's row would then
// describe another file, or two workers' rows race): the fence
// (WorkQueue::HoldClaim) refuses it. A third worker holds the lot's other
// document meanwhile, so the lot is not finalised (the finaliser removes
// the temp files dead workers left, which would hide the race).
TEST_F(QueueWorkersTest, AWorkerFrozenPastItsLeasePublishesNothing) {
  const fs::path lot = shared_ / "inbox" / "lote-f";
  Pages(lot / "a.png", {"Ofício da câmara de Mariana."}, synth::FileFormat::kPng, 41);
  Pages(lot / "b.png", {"Recibo da câmara de Sabará."}, synth::FileFormat::kPng, 42);
  ASSERT_TRUE(WriteFileAtomic(lot / "manifest.csv", "document_id,document_type,title,files\n"
                                                    "a,oficio,Ofício,a.png\nb,recibo,Recibo,b.png\n")
                  .ok());
  testing::ProcessResult enq = RunProcess(
      {AcervoBinary(), "enqueue", "--store", conninfo_, "--shared-root", shared_.string(), lot.string()});
  ASSERT_EQ(enq.exit_code, 0) << enq.err;
  const auto stopped = [&](pid_t pid, const char* name) {
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, WUNTRACED), pid);
    EXPECT_TRUE(WIFSTOPPED(status)) << name << " never reached the pause point\n" << Logs();
  };
  const auto unit_of = [&](const std::string& doc) {
    return Query(conninfo_, "SELECT id FROM queue_units WHERE document_id = '" + doc + "'").at(0).at(0);
  };

  // w1 plans the lot, takes document a and freezes right before its rename.
  const pid_t w1 = StartWorker("w1", "pdf-publish", /*lease=*/6);
  ASSERT_NO_FATAL_FAILURE(stopped(w1, "w1"));
  ASSERT_EQ(Query(conninfo_, "SELECT worker FROM queue_units WHERE id = " + unit_of("a")).at(0).at(0), "w1");
  // w3 takes document b (a is still w1's) and holds it, frozen too.
  const pid_t w3 = StartWorker("w3", "pdf-publish", /*lease=*/120);
  ASSERT_NO_FATAL_FAILURE(stopped(w3, "w3"));
  ASSERT_EQ(Query(conninfo_, "SELECT worker FROM queue_units WHERE id = " + unit_of("b")).at(0).at(0), "w3");
  // w1's lease runs out: w2 takes document a over and publishes it.
  StartWorker("w2", "", /*lease=*/120);
  ASSERT_TRUE(WaitFor([&] {
    return QueryInt(conninfo_, "SELECT count(*) FROM queue_units WHERE state = 'done' AND worker = 'w2' AND id = " +
                                   unit_of("a")) == 1;
  }, std::chrono::seconds(300)))
      << Logs();
  const auto row = Query(conninfo_, "SELECT pdf_path, pdf_sha256 FROM documents WHERE document_id = 'a'");
  ASSERT_EQ(row.size(), 1u);
  const fs::path pdf = shared_ / row[0][0];
  Result<std::string> published = Sha256OfFile(pdf);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_EQ(*published, row[0][1]);

  // w1 wakes up where it stopped: right before the rename.
  ::kill(w1, SIGCONT);
  ASSERT_TRUE(WaitFor([&] {
    const std::string log = testing::ReadText((root_ / "w1.log").string());
    return log.find("lost its lease") != std::string::npos || log.find("outcome not recorded") != std::string::npos;
  }, std::chrono::seconds(60)))
      << Logs();
  Result<std::string> after = Sha256OfFile(pdf);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, row[0][1]) << "the frozen worker renamed its PDF over its successor's\n" << Logs();
  EXPECT_EQ(Query(conninfo_, "SELECT pdf_sha256 FROM documents WHERE document_id = 'a'").at(0).at(0), row[0][1]);

  // w3 goes on: the lot ends with both documents once, nothing left over.
  ::kill(w3, SIGCONT);
  ASSERT_TRUE(WaitFor([&] { return QueryInt(conninfo_, "SELECT count(*) FROM queue_lots WHERE state = 'done'") == 1; },
                      std::chrono::seconds(300)))
      << Logs();
  for (pid_t pid : std::vector<pid_t>(workers_)) {
    ::kill(pid, SIGTERM);
    EXPECT_EQ(WaitExit(pid, std::chrono::seconds(60)), 0) << Logs();
    Forget(pid);
  }
  EXPECT_EQ(QueryInt(conninfo_, "SELECT count(*) FROM documents"), 2);
  Result<std::string> final_sha = Sha256OfFile(pdf);
  ASSERT_TRUE(final_sha.ok());
  EXPECT_EQ(*final_sha, Query(conninfo_, "SELECT pdf_sha256 FROM documents WHERE document_id = 'a'").at(0).at(0));
  for (const auto& e : fs::recursive_directory_iterator(shared_)) {
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << "temp file left: " << e.path();
  }
}

// `acervo run` and the queue's workers never process one lot at once: a
// run refuses a lot the store's queue is processing (whatever its --out),
// and while a run holds the lot's output folder a worker's plan fails the
// queued lot with the reason instead of writing beside it.
TEST_F(QueueWorkersTest, ARunAndTheWorkersNeverShareALot) {
  const fs::path lot = shared_ / "inbox" / "lote-r";
  Pages(lot / "a.png", {"Ata da câmara de Diamantina."}, synth::FileFormat::kPng, 51);
  ASSERT_TRUE(WriteFileAtomic(lot / "profile.toml", "[lot]\nid = \"lote-r\"\n").ok());
  // The same lot (same id) copied outside the shared root, where a run may
  // read it while writing into the shared root.
  const fs::path copy = root_ / "copy" / "lote-r";
  fs::create_directories(copy.parent_path());
  fs::copy(lot, copy, fs::copy_options::recursive);
  const std::vector<std::string> run = {AcervoBinary(), "run", copy.string(), "--out", shared_.string(),
                                        "--store", conninfo_, "-q"};
  testing::ProcessResult enq = RunProcess(
      {AcervoBinary(), "enqueue", "--store", conninfo_, "--shared-root", shared_.string(), lot.string()});
  ASSERT_EQ(enq.exit_code, 0) << enq.err;
  // A worker has the lot (stopped mid-document).
  const pid_t w1 = StartWorker("w1", "pdf-publish");
  int status = 0;
  ASSERT_EQ(::waitpid(w1, &status, WUNTRACED), w1);
  ASSERT_TRUE(WIFSTOPPED(status)) << Logs();
  for (const fs::path& out : {shared_, root_ / "elsewhere"}) {
    std::vector<std::string> argv = run;
    argv[4] = out.string();
    testing::ProcessResult r = RunProcess(argv);
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("being processed by the shared work queue"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(root_ / "elsewhere")) << "a refused run creates nothing";
  ::kill(w1, SIGCONT);
  ASSERT_TRUE(WaitFor([&] { return QueryInt(conninfo_, "SELECT count(*) FROM queue_lots WHERE state = 'done'") == 1; },
                      std::chrono::seconds(300)))
      << Logs();
  ::kill(w1, SIGTERM);
  EXPECT_EQ(WaitExit(w1, std::chrono::seconds(60)), 0) << Logs();
  Forget(w1);
  // Finished: a run may look at it again (nothing to do).
  testing::ProcessResult again = RunProcess(run);
  EXPECT_EQ(again.exit_code, 0) << again.err;

  // A run holds the lot's folder (stopped mid-PDF); the lot is queued again.
  const pid_t runner = testing::SpawnWithPause(
      {AcervoBinary(), "run", copy.string(), "--out", shared_.string(), "--store", conninfo_, "--force", "-q"},
      "pdf-write", (root_ / "run.log").string());
  ASSERT_GT(runner, 0);
  ASSERT_EQ(::waitpid(runner, &status, WUNTRACED), runner);
  ASSERT_TRUE(WIFSTOPPED(status)) << testing::ReadText((root_ / "run.log").string());
  enq = RunProcess({AcervoBinary(), "enqueue", "--store", conninfo_, "--shared-root", shared_.string(), lot.string()});
  ASSERT_EQ(enq.exit_code, 0) << enq.err;
  testing::ProcessResult w2 = RunProcess({AcervoBinary(), "worker", "--store", conninfo_, "--shared-root",
                                          shared_.string(), "--exit-when-idle", "--name", "w2"});
  EXPECT_EQ(w2.exit_code, 0) << w2.err;
  const auto failed = Query(conninfo_, "SELECT state, error FROM queue_lots ORDER BY id DESC LIMIT 1");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0][0], "failed");
  EXPECT_NE(failed[0][1].find("`acervo run` or `batch` (pid " + std::to_string(runner) + ")"), std::string::npos)
      << failed[0][1];
  ::kill(runner, SIGCONT);
  EXPECT_EQ(WaitExit(runner, std::chrono::seconds(120)), 0) << testing::ReadText((root_ / "run.log").string());
}

// `worker --exit-when-idle` (batch jobs, this bench and tests): a worker
// idle while another finishes the queue's last units leaves with it, not
// after its listener's 60 s wait (2 workers measured slower than 1).
TEST_F(QueueWorkersTest, IdleWorkersLeaveWhenTheQueueEmpties) {
  const fs::path lot = shared_ / "inbox" / "lote-i";
  Pages(lot / "a.png", {"Certidão de Ouro Preto."}, synth::FileFormat::kPng, 61);
  testing::ProcessResult enq = RunProcess(
      {AcervoBinary(), "enqueue", "--store", conninfo_, "--shared-root", shared_.string(), lot.string()});
  ASSERT_EQ(enq.exit_code, 0) << enq.err;
  std::vector<pid_t> pids;
  for (const char* name : {"w1", "w2"}) {
    pids.push_back(testing::SpawnWithPause({AcervoBinary(), "worker", "--store", conninfo_, "--shared-root",
                                            shared_.string(), "--name", name, "--exit-when-idle"},
                                           "", (root_ / (std::string(name) + ".log")).string()));
    ASSERT_GT(pids.back(), 0);
  }
  // One unit at a time: one worker idles while the other runs the plan,
  // the document and the finalisation.
  std::vector<Clock::time_point> exited(2);
  std::vector<int> codes(2, -1);
  const Clock::time_point start = Clock::now();
  while ((codes[0] < 0 || codes[1] < 0) && Clock::now() - start < std::chrono::seconds(300)) {
    for (size_t i = 0; i < 2; ++i) {
      int status = 0;
      if (codes[i] < 0 && ::waitpid(pids[i], &status, WNOHANG) == pids[i]) {
        codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        exited[i] = Clock::now();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (size_t i = 0; i < 2; ++i) {
    if (codes[i] < 0) {
      ::kill(pids[i], SIGKILL);
      ::waitpid(pids[i], nullptr, 0);
    }
  }
  ASSERT_EQ(codes, (std::vector<int>{0, 0})) << Logs();
  const auto gap = exited[0] > exited[1] ? exited[0] - exited[1] : exited[1] - exited[0];
  EXPECT_LT(gap, std::chrono::seconds(20)) << "an idle worker outlived the queue by its wait\n" << Logs();
  EXPECT_EQ(QueryInt(conninfo_, "SELECT count(*) FROM queue_lots WHERE state = 'done'"), 1);
}

}  // namespace
}  // namespace acervo
