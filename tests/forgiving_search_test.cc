// Issue 15 end to end: pages whose OCR text holds known misreadings (the
// generator renders the misread words, so OCR reads them; the true words
// are known), run through `acervo run`, then searched with `acervo search`
// by their true words on a SQLite store and on a real PostgreSQL server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "acervo/indexer/text_fold.h"
#include "acervo/synth/synth.h"
#include "postgres_test_server.h"
#include "support/process.h"
#include "support/text_page.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using testing::AcervoBinary;
using testing::RunProcess;
using json = nlohmann::json;

constexpr double kDpi = 300;

// A true text and the misread one printed on the page.
struct Sheet {
  std::string id, truth, printed;
};

const std::vector<Sheet>& Sheets() {
  static const std::vector<Sheet> sheets = {
      {"oficio",
       "Ofício ao senhor Joaquim Teixeira sobre o comprovante de residência e o requerimento da certidão.",
       "Ofício ao senhor Joaquim Teixelra sobre o\ncornprovante de residência e o requeri mento da certi-\ndão."},
      {"despacho", "Despacho no processo do interessado de CPF 529.982.247-25.",
       "Despacho no processo do interessado de CPF 529.982.247-2S."},
      {"recibo", "Recibo de entrega das caixas ao senhor Teixeira.", "Recibo de entrega das caixas ao senhor Teixeira."},
  };
  return sheets;
}

// Confusions Tesseract makes that the stored keys do not encode (a/o, n
// read as ri), and a one-character misreading against a word that only
// shares a short stem with the query (`tomi`, stemmed like `tomando`).
const std::vector<Sheet>& LooseSheets() {
  static const std::vector<Sheet> sheets = {
      {"ata", "Ata tomando nota do pedido do senhor Fagundes e da senhora Magalhães.",
       "Ata fomando nota do pedido do senhor Fagurides e da senhora Mogolhães."},
      {"termo", "Termo autorizado pelo capitão marítimo.", "Termo autonzado pelo capitão maiilimo."},
      {"memo", "Memorando tomi de arquivo.", "Memorando tomi de arquivo."},
  };
  return sheets;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ForgivingSearchTest : public ::testing::Test {
 protected:
  // Makes the lot and runs it into `store` (a file or a connection string).
  void RunLot(const std::string& store, const std::vector<Sheet>& sheets = Sheets()) {
    root_ = fs::temp_directory_path() / ("acervo-forgiving-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    const fs::path lot = root_ / "lote-ocr";
    fs::create_directories(lot);
    std::ofstream manifest(lot / "manifest.csv");
    manifest << "document_id,document_type,title,files,cpf,interessado,data\n";
    uint64_t seed = 1;
    for (const Sheet& s : sheets) {
      ASSERT_TRUE(synth::WritePages(lot / (s.id + ".png"), {testing::TextPage(s.printed, seed++, kDpi)}, kDpi,
                                    synth::FileFormat::kPng)
                      .ok());
      manifest << s.id << ",oficio," << s.id << "," << s.id << ".png,"
               << (s.id == "despacho" ? "529.982.247-25" : "") << ","
               << (s.id == "oficio" ? "Joaquim Teixeira" : "Beatriz Souza") << ","
               << (s.id == "oficio" ? "2021-05-10" : s.id == "despacho" ? "15/03/2024" : "02/01/2019") << "\n";
    }
    manifest.close();
    out_ = root_ / "saida";
    testing::ProcessResult run = RunProcess(
        {AcervoBinary(), "run", lot.string(), "--out", out_.string(), "--store", store, "--text", "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    if (&sheets != &Sheets()) return;
    // The misreadings must have survived OCR, or the test would prove nothing.
    const std::string oficio = FoldText(Slurp(out_ / "lote-ocr" / "oficio.txt"));
    ASSERT_EQ(oficio.find("teixeira"), std::string::npos) << oficio;
    ASSERT_EQ(oficio.find("comprovante"), std::string::npos) << oficio;
    ASSERT_EQ(oficio.find("requerimento"), std::string::npos) << oficio;
    ASSERT_EQ(oficio.find("certidao"), std::string::npos) << oficio;
    const std::string despacho = FoldText(Slurp(out_ / "lote-ocr" / "despacho.txt"));
    ASSERT_EQ(despacho.find("247-25"), std::string::npos) << despacho;
  }

  json Search(const std::string& store, std::vector<std::string> args) {
    std::vector<std::string> argv = {AcervoBinary(), "search", "--store", store, "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::ProcessResult r = RunProcess(argv);
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    json j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_array()) << r.out << r.err;
    return j.is_array() ? j : json::array();
  }

  static std::vector<std::string> Docs(const json& hits) {
    std::vector<std::string> out;
    for (const json& h : hits) out.push_back(h["document"].get<std::string>());
    return out;
  }

  static std::string Kinds(const json& hit) {
    std::string out;
    for (const json& m : hit["matches"]) {
      if (!out.empty()) out += ' ';
      out += m["kind"].get<std::string>();
    }
    return out;
  }

  // Every check, on one store.
  void CheckSearches(const std::string& store) {
    json hits = Search(store, {"teixeira"});
    ASSERT_EQ(Docs(hits), (std::vector<std::string>{"recibo", "oficio"})) << hits.dump(2);
    EXPECT_EQ(hits[1]["tier"], 2);
    EXPECT_EQ(Kinds(hits[1]), "misread") << hits[1].dump(2);
    EXPECT_NE(hits[1]["snippet"].get<std::string>().find("«Teixelra»"), std::string::npos) << hits[1].dump(2);
    EXPECT_EQ(Docs(Search(store, {"--exact", "teixeira"})), std::vector<std::string>{"recibo"});
    EXPECT_EQ(Docs(Search(store, {"exact:teixeira"})), std::vector<std::string>{"recibo"});
    EXPECT_EQ(Docs(Search(store, {"--exact", "~teixeira"})), (std::vector<std::string>{"recibo", "oficio"}));
    hits = Search(store, {"comprovante"});
    ASSERT_EQ(Docs(hits), std::vector<std::string>{"oficio"});
    hits = Search(store, {"requerimento"});
    ASSERT_EQ(Docs(hits), std::vector<std::string>{"oficio"});
    EXPECT_NE(Kinds(hits[0]).find("split"), std::string::npos) << hits[0].dump(2);  // "requeri" is also a form of requerer
    hits = Search(store, {"--exact", "certidão"});  // hyphenated across the line end
    ASSERT_EQ(Docs(hits), std::vector<std::string>{"oficio"});
    EXPECT_EQ(Docs(Search(store, {"52998224725"})), std::vector<std::string>{"despacho"});
    EXPECT_EQ(Docs(Search(store, {"529.982.247-25"})), std::vector<std::string>{"despacho"});
    EXPECT_EQ(Docs(Search(store, {"--field", "cpf=52998224725"})), std::vector<std::string>{"despacho"});
    EXPECT_EQ(Docs(Search(store, {"interessado:beatriz"})), (std::vector<std::string>{"despacho", "recibo"}));
    // Hits carry what a person or a script needs.
    hits = Search(store, {"despacho"});
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0]["page_count"], 1);
    EXPECT_TRUE(hits[0]["flags"].is_array());
    EXPECT_EQ(hits[0]["type"], "oficio");
    // A misspelt field name is an error naming the fields there are.
    testing::ProcessResult bad = RunProcess({AcervoBinary(), "search", "--store", store, "cfp:1"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("unknown field 'cfp'"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("cpf, data, interessado"), std::string::npos) << bad.err;
    // Order and range by the document's date (either writing of a day).
    EXPECT_EQ(Docs(Search(store, {"--sort", "newest", "teixeira"})), (std::vector<std::string>{"oficio", "recibo"}));
    EXPECT_EQ(Docs(Search(store, {"--sort", "oldest", "teixeira"})), (std::vector<std::string>{"recibo", "oficio"}));
    EXPECT_EQ(Docs(Search(store, {"--from", "2020-01-01", "teixeira"})), std::vector<std::string>{"oficio"});
    EXPECT_EQ(Docs(Search(store, {"--to", "31/12/2020", "teixeira"})), std::vector<std::string>{"recibo"});
    EXPECT_EQ(Docs(Search(store, {"--from", "01/01/2020", "--sort", "oldest", "--field", "interessado=beatriz"})),
              std::vector<std::string>{"despacho"});
    testing::ProcessResult bad_day = RunProcess({AcervoBinary(), "search", "--store", store, "--from", "31/02/2021", "x"});
    EXPECT_EQ(bad_day.exit_code, 2);
    EXPECT_NE(bad_day.err.find("--from '31/02/2021' is not a date"), std::string::npos) << bad_day.err;
    // Paging and CSV.
    EXPECT_EQ(Docs(Search(store, {"--offset", "1", "--limit", "1", "teixeira"})), std::vector<std::string>{"oficio"});
    testing::ProcessResult csv = RunProcess({AcervoBinary(), "search", "--store", store, "--csv", "teixeira"});
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    EXPECT_EQ(csv.out.rfind("lot,document,type,title,date,page_count,pages,flags,tier,matches", 0), 0u) << csv.out;
    EXPECT_NE(csv.out.find("\"teixeira=teixelra (misread)\""), std::string::npos) << csv.out;
    // Maintenance (`acervo optimize`) changes no answer.
    testing::ProcessResult optimized = RunProcess({AcervoBinary(), "optimize", "--store", store});
    ASSERT_EQ(optimized.exit_code, 0) << optimized.err;
    EXPECT_NE(optimized.out.find("store optimized"), std::string::npos) << optimized.out;
    EXPECT_EQ(Docs(Search(store, {"teixeira"})), (std::vector<std::string>{"recibo", "oficio"}));
    EXPECT_EQ(Docs(Search(store, {"requerimento"})), std::vector<std::string>{"oficio"});
    EXPECT_EQ(Docs(Search(store, {"52998224725"})), std::vector<std::string>{"despacho"});
  }

  // The loose confusions and the ranking of a one-character misreading
  // over a stem-mate, on one store (made from LooseSheets).
  void CheckLooseSearches(const std::string& store) {
    // The misreadings must have survived OCR, or the test would prove nothing.
    const std::string ata = FoldText(Slurp(out_ / "lote-ocr" / "ata.txt"));
    ASSERT_NE(ata.find("fomando"), std::string::npos) << ata;
    ASSERT_NE(ata.find("fagurides"), std::string::npos) << ata;
    ASSERT_NE(ata.find("mogolhaes"), std::string::npos) << ata;
    const std::string termo = FoldText(Slurp(out_ / "lote-ocr" / "termo.txt"));
    ASSERT_NE(termo.find("autonzado"), std::string::npos) << termo;
    ASSERT_NE(termo.find("maiilimo"), std::string::npos) << termo;
    ASSERT_NE(FoldText(Slurp(out_ / "lote-ocr" / "memo.txt")).find("tomi"), std::string::npos);
    // n read as ri: half an edit, as rn for m.
    json hits = Search(store, {"fagundes"});
    EXPECT_EQ(Docs(hits), std::vector<std::string>{"ata"}) << hits.dump(2);
    if (hits.size() == 1) {
      EXPECT_EQ(Kinds(hits[0]), "misread");
      EXPECT_EQ(hits[0]["matches"][0]["matched"], "fagurides");
      EXPECT_NE(hits[0]["snippet"].get<std::string>().find("«Fagurides»"), std::string::npos) << hits[0].dump(2);
    }
    // Two a/o confusions in a word of 9 letters: found by the query's
    // variant keys, within the allowed cost.
    hits = Search(store, {"magalhães"});
    EXPECT_EQ(Docs(hits), std::vector<std::string>{"ata"}) << hits.dump(2);
    if (hits.size() == 1) {
      EXPECT_EQ(hits[0]["matches"][0]["matched"], "mogolhaes");
    }
    // ri read as n in a word of 10 letters: reached by the query's variant
    // key (two plain edits, which the stored keys do not reach).
    hits = Search(store, {"autorizado"});
    EXPECT_EQ(Docs(hits), std::vector<std::string>{"termo"}) << hits.dump(2);
    // A word of 8 letters found nowhere in the index: one edit and one
    // confusable letter are allowed (r/i, t/l).
    hits = Search(store, {"marítimo"});
    EXPECT_EQ(Docs(hits), std::vector<std::string>{"termo"}) << hits.dump(2);
    if (hits.size() == 1) {
      EXPECT_EQ(hits[0]["matches"][0]["matched"], "maiilimo");
    }
    // `fomando` (one confusable letter) before `tomi` (the same stem, four
    // letters rewritten).
    hits = Search(store, {"tomando"});
    EXPECT_EQ(Docs(hits), (std::vector<std::string>{"ata", "memo"})) << hits.dump(2);
    if (hits.size() == 2) {
      EXPECT_EQ(Kinds(hits[0]), "misread");
      EXPECT_EQ(Kinds(hits[1]), "inflection");
    }
    EXPECT_EQ(Docs(Search(store, {"--exact", "fagundes"})), std::vector<std::string>{});
  }

  using Check = std::function<void(const std::string& store)>;

  // Runs `sheets` into a fresh SQLite store and checks it.
  void OnSqlite(const std::string& name, const std::vector<Sheet>& sheets, Check check) {
    const std::string store =
        (fs::temp_directory_path() / ("acervo-" + name + "-" + std::to_string(::getpid()) + ".db")).string();
    fs::remove(store);
    ASSERT_NO_FATAL_FAILURE(RunLot(store, sheets));
    check(store);
    if (!HasFailure()) {
      fs::remove_all(root_);
      for (const char* suffix : {"", "-wal", "-shm", "-audit", "-audit-wal", "-audit-shm"}) fs::remove(store + suffix);
    }
  }

  // The same on a database `name` of a real PostgreSQL server started here.
  void OnPostgres(const std::string& name, const std::vector<Sheet>& sheets, Check check) {
    PostgresTestServer server;
    Status started = server.Start();
    if (!started.ok()) {
      std::fprintf(stderr, "\n*** PostgreSQL cannot run here: %s ***\n\n", started.ToString().c_str());
      GTEST_SKIP() << "PostgreSQL cannot run here: " << started.ToString();
    }
    Result<std::string> conninfo = server.CreateDatabase(name);
    ASSERT_TRUE(conninfo.ok()) << conninfo.status().ToString();
    ASSERT_NO_FATAL_FAILURE(RunLot(*conninfo, sheets));
    check(*conninfo);
    if (!HasFailure()) fs::remove_all(root_);
  }

  fs::path root_, out_;
};

TEST_F(ForgivingSearchTest, SqliteStoreFindsWhatOcrMisread) {
  OnSqlite("forgiving", Sheets(), [this](const std::string& s) { CheckSearches(s); });
}

TEST_F(ForgivingSearchTest, PostgresStoreFindsWhatOcrMisread) {
  OnPostgres("acervo_forgiving", Sheets(), [this](const std::string& s) { CheckSearches(s); });
}

TEST_F(ForgivingSearchTest, SqliteStoreFindsLooseConfusionsAndRanksThemOverStemMates) {
  OnSqlite("loose", LooseSheets(), [this](const std::string& s) { CheckLooseSearches(s); });
}

TEST_F(ForgivingSearchTest, PostgresStoreFindsLooseConfusionsAndRanksThemOverStemMates) {
  OnPostgres("acervo_loose", LooseSheets(), [this](const std::string& s) { CheckLooseSearches(s); });
}

}  // namespace
}  // namespace acervo
