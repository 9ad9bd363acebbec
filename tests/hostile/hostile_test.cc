// tests/hostile: the lots a hostile tester or a new user tries (issue 12),
// built here and run through the real acervo binary. Every scenario is
// checked for the same four promises, whatever else it checks:
//   1. the exit code docs/cli.md documents;
//   2. nothing written outside the output folder: every other folder the
//      run could write (the lot, a folder outside both, the run's private
//      TMPDIR, HOME and working folder: everything under the scenario's
//      root but OUT) is listed before and after and must be identical;
//   3. no input lost: every entry of the lot (files, links, FIFOs) is named
//      in the store (a page's source), in quarantine/ or in report.json;
//   4. every PDF passes PDFBox Preflight and qpdf --check (one JVM for all
//      scenarios, at the end).
// Scenarios that need more (two runs, verify, search, a read-only mount, a
// signal) are their own TESTs below, with the same helpers.
//
// ACERVO_TEST_BINARY=/path/to/old/acervo runs them against another build
// (tests/support/process.h): that is how each was seen failing before the
// fixes of issue 12.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/open_store.h"
#include "acervo/synth/synth.h"
#include "support/pdfa.h"
#include "support/process.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::AcervoBinary;
using testing::ProcessResult;
using testing::ReadText;

// A small page of text (A6 at 150 dpi: quick to OCR).
cv::Mat SmallPage(const std::string& text, uint64_t seed) {
  synth::PageSpec spec;
  spec.dpi = 150;
  spec.width_mm = 105;
  spec.height_mm = 148;
  spec.margin_mm = 10;
  spec.seed = seed;
  if (!text.empty()) spec.blocks.push_back({text, 12});
  Result<synth::SynthPage> page = synth::RenderPage(spec);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? page->image : cv::Mat();
}

void WritePage(const fs::path& path, const std::string& text, uint64_t seed,
               synth::FileFormat format = synth::FileFormat::kPng, double dpi = 150) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(synth::WritePages(path, {SmallPage(text, seed)}, dpi, format).ok()) << path;
}

void WriteText(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(WriteFileAtomic(path, text).ok()) << path;
}

// Every entry below `dir` (links not followed) with its type, size and
// content hash: two listings are equal only if nothing was written there.
std::map<std::string, std::string> Listing(const fs::path& dir, const std::set<fs::path>& skip = {}) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (skip.count(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    std::string what = std::to_string(st.st_mode) + ":" + std::to_string(st.st_size);
    if (S_ISREG(st.st_mode)) {
      Result<std::string> sha = Sha256OfFile(it->path());
      what.append(":").append(sha.ok() ? *sha : std::string("?"));
    } else if (S_ISLNK(st.st_mode)) {
      std::error_code lec;
      what.append(":").append(fs::read_symlink(it->path(), lec).string());
    }
    out[it->path().lexically_relative(dir).string()] = what;
  }
  return out;
}

std::string Diff(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
  std::string d;
  for (const auto& [k, v] : b) {
    auto it = a.find(k);
    if (it == a.end()) d += "  + " + k + "\n";
    else if (it->second != v) d += "  ~ " + k + "\n";
  }
  for (const auto& [k, v] : a) {
    if (!b.count(k)) d += "  - " + k + "\n";
  }
  return d;
}

// Everything every lot report of OUT says, as one text.
std::string ReportsText(const fs::path& out) {
  std::string all;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() == "report.json") all += ReadText(it->path().string());
  }
  return all;
}

// The page sources the store of OUT holds, per lot ("lot/source").
std::set<std::string> StoredSources(const fs::path& db) {
  std::set<std::string> out;
  std::error_code ec;
  if (!fs::exists(db, ec)) return out;
  Result<std::unique_ptr<Store>> store = OpenStoreForReading(db.string());
  if (!store.ok()) return out;
  Result<std::vector<LotRecord>> lots = (*store)->ListLots();
  if (!lots.ok()) return out;
  for (const LotRecord& l : *lots) {
    Result<std::vector<DocumentRecord>> docs = (*store)->ListDocuments(l.id);
    if (!docs.ok()) continue;
    for (const DocumentRecord& d : *docs)
      for (const PageRecord& p : d.pages) out.insert(p.source_path);
  }
  return out;
}

// One scenario's folders: ROOT/{lot,out,outside,tmp,home,cwd}.
struct Folders {
  explicit Folders(const std::string& name)
      : root(fs::temp_directory_path() / ("acervo-hostile-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(root);
    for (const fs::path& p : {lot, outside, tmp, home, cwd}) fs::create_directories(p);
  }
  fs::path root;
  fs::path lot = root / "lot";
  fs::path out = root / "out";
  fs::path outside = root / "outside";
  fs::path tmp = root / "tmp";
  fs::path home = root / "home";
  fs::path cwd = root / "cwd";
};

// Runs acervo for a scenario: private TMPDIR, HOME and working folder.
ProcessResult Acervo(const Folders& f, std::vector<std::string> args, int timeout_s = 240) {
  args.insert(args.begin(), AcervoBinary());
  testing::ProcessOptions o;
  o.env = {"TMPDIR=" + f.tmp.string(), "HOME=" + f.home.string()};
  o.cwd = f.cwd.string();
  o.timeout_s = timeout_s;
  return testing::RunProcess(args, o);
}

// PDFs of every scenario, checked by one Preflight run at the end.
std::vector<fs::path>& AllPdfs() {
  static std::vector<fs::path> pdfs;
  return pdfs;
}

struct Scenario {
  std::string name;
  std::string item;  // the issue-12 item(s) it reproduces
  std::function<void(Folders&)> build;
  // acervo arguments; "{lot}", "{out}" and "{root}" are replaced.
  std::vector<std::string> args;
  int exit_code = 0;
  std::function<void(const Folders&, const ProcessResult&)> check = nullptr;
  bool inputs_accounted = true;  // false: the run was refused as a whole (exit 2/3)
  bool out_must_not_exist = false;
};

std::string Subst(std::string a, const Folders& f) {
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"{lot}", f.lot.string()}, {"{out}", f.out.string()}, {"{root}", f.root.string()}}) {
    for (size_t at = a.find(k); at != std::string::npos; at = a.find(k)) a.replace(at, k.size(), v);
  }
  return a;
}

// Runs a scenario and checks the four promises; returns its root folder
// (removed by the caller when everything passed).
fs::path RunScenario(const Scenario& s) {
  SCOPED_TRACE(s.name + " (issue 12 item " + s.item + ")");
  Folders f(s.name);
  s.build(f);
  if (::testing::Test::HasFatalFailure()) return f.root;
  std::vector<std::string> args;
  for (const std::string& a : s.args) args.push_back(Subst(a, f));
  const auto before = Listing(f.root, {f.out});
  const ProcessResult r = Acervo(f, args);
  EXPECT_EQ(r.exit_code, s.exit_code) << r.out << r.err;
  const auto after = Listing(f.root, {f.out});
  EXPECT_EQ(Diff(before, after), "") << "written outside the output folder:\n" << Diff(before, after) << r.err;
  if (s.out_must_not_exist) {
    EXPECT_FALSE(fs::exists(f.out)) << "a refused run created " << f.out;
  }
  if (s.inputs_accounted) {
    const std::string reports = ReportsText(f.out);
    const std::set<std::string> stored = StoredSources(f.out / "acervo.db");
    std::error_code ec;
    for (fs::recursive_directory_iterator it(f.lot, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string rel = it->path().lexically_relative(f.lot).string();
      const std::string base = it->path().filename().string();
      if (base[0] == '.' || base == "manifest.csv" || base == "profile.toml") continue;
      std::error_code st_ec;
      if (fs::is_directory(it->symlink_status(st_ec))) continue;
      bool named = stored.count(rel) > 0 || reports.find(json(rel).dump().substr(1, json(rel).dump().size() - 2)) !=
                                                 std::string::npos;
      EXPECT_TRUE(named) << "input not accounted for (store, quarantine or report): " << rel;
    }
  }
  for (const fs::path& p : testing::PdfsIn(f.out)) {
    if (p.string().find("/quarantine/") == std::string::npos) AllPdfs().push_back(p);
  }
  if (s.check) s.check(f, r);
  return f.root;
}

// The lot's report.json; an empty object when there is none (so a missing
// report fails the checks that read it, not the whole runner).
json Report(const fs::path& lot_out) {
  json j = json::parse(ReadText((lot_out / "report.json").string()), nullptr, false);
  return j.is_object() ? j : json::object();
}

std::string Repeat(char c, size_t n) { return std::string(n, c); }

// ---------------------------------------------------------------- scenarios

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> v;

  // 1. Inputs that map to one document id: refused by name, never merged.
  v.push_back({"ids-from-file-names", "1",
               [](Folders& f) {
                 WritePage(f.lot / "x.png", "Primeiro oficio da prefeitura", 1);
                 WritePage(f.lot / "sub" / "x.png", "Segundo oficio da prefeitura", 2);
                 WritePage(f.lot / "x.tif", "Terceiro oficio da prefeitura", 3, synth::FileFormat::kTiffLzw);
                 WritePage(f.lot / "ok.png", "Oficio sem conflito", 4);
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 1,
               [](const Folders& f, const ProcessResult& r) {
                 EXPECT_TRUE(fs::exists(f.out / "lot" / "ok.pdf"));
                 EXPECT_FALSE(fs::exists(f.out / "lot" / "x.pdf"));
                 EXPECT_FALSE(fs::exists(f.out / "lot" / "x_.pdf"));
                 for (const char* name : {"sub/x.png", "x.tif", "ids must be unique"}) {
                   EXPECT_NE(r.err.find(name), std::string::npos) << name << "\n" << r.err;
                 }
               }});
  v.push_back({"ids-manifest-and-unlisted-file", "1",
               [](Folders& f) {
                 WritePage(f.lot / "p1.png", "Certidao listada no manifesto", 5);
                 WritePage(f.lot / "p2.png", "Pagina que nenhuma linha lista", 6);
                 WriteText(f.lot / "manifest.csv", "document_id,document_type,title,files\np2,certidao,Certidao,p1.png\n");
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 1,
               [](const Folders& f, const ProcessResult& r) {
                 EXPECT_FALSE(fs::exists(f.out / "lot" / "p2.pdf"));
                 EXPECT_FALSE(fs::exists(f.out / "lot" / "p2_.pdf"));
                 EXPECT_NE(r.err.find("manifest.csv line 2"), std::string::npos) << r.err;
               }});

  // 3. A document of blank pages: an error of the lot (exit 1), or kept.
  v.push_back({"all-blank-document-reported", "3",
               [](Folders& f) {
                 WritePage(f.lot / "branca.png", "", 7);
                 WritePage(f.lot / "texto.png", "Oficio com texto de verdade", 8);
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 1,
               [](const Folders& f, const ProcessResult& r) {
                 EXPECT_NE(r.err.find("every page is blank"), std::string::npos) << r.err;
                 EXPECT_TRUE(fs::exists(f.out / "lot" / "masters" / "branca.png"));
               }});
  v.push_back({"all-blank-document-kept", "3",
               [](Folders& f) {
                 WritePage(f.lot / "branca.png", "", 9);
                 WriteText(f.lot / "profile.toml", "[image]\nblank_documents = \"keep\"\n");
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 0,
               [](const Folders& f, const ProcessResult&) {
                 EXPECT_TRUE(fs::exists(f.out / "lot" / "branca.pdf"));
                 ProcessResult v = testing::RunProcess({AcervoBinary(), "verify", f.out.string()});
                 EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
               }});

  // 4. Links: never followed out of the lot, a loop never stops the lot.
  v.push_back({"symlinks-out-and-loops", "4",
               [](Folders& f) {
                 WritePage(f.outside / "segredo.png", "Documento fora do lote", 10);
                 fs::create_directories(f.outside / "pasta");
                 WritePage(f.outside / "pasta" / "outro.png", "Outro documento de fora", 11);
                 fs::create_symlink(f.outside / "segredo.png", f.lot / "link.png");
                 fs::create_directory_symlink(f.outside / "pasta", f.lot / "pasta-link");
                 fs::create_symlink(f.lot / "loop.png", f.lot / "loop.png");
                 fs::create_symlink(f.lot / "b.png", f.lot / "a.png");
                 fs::create_symlink(f.lot / "a.png", f.lot / "b.png");
                 fs::create_symlink(f.root / "nothing.png", f.lot / "dangling.png");
                 WritePage(f.lot / "bom.png", "Oficio verdadeiro do lote", 12);
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 1,
               [](const Folders& f, const ProcessResult& r) {
                 EXPECT_TRUE(fs::exists(f.out / "lot" / "bom.pdf"));
                 EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
               }});
  v.push_back({"fifo-named-png", "17",
               [](Folders& f) {
                 ASSERT_EQ(::mkfifo((f.lot / "fila.png").c_str(), 0644), 0);
                 WritePage(f.lot / "bom.png", "Oficio verdadeiro do lote", 13);
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 1,
               [](const Folders&, const ProcessResult& r) {
                 EXPECT_NE(r.err.find("fila.png"), std::string::npos) << r.err;
               }});

  // 5. Overlapping folders are refused (exit 2), nothing created.
  v.push_back({"out-inside-lot", "5",
               [](Folders& f) { WritePage(f.lot / "a.png", "Oficio", 14); },
               {"run", "{lot}", "--out", "{lot}/saida", "--quiet"}, 2,
               [](const Folders& f, const ProcessResult& r) {
                 EXPECT_FALSE(fs::exists(f.lot / "saida"));
                 EXPECT_NE(r.err.find("overlap"), std::string::npos) << r.err;
               },
               false});
  v.push_back({"lot-inside-out", "5",
               [](Folders& f) {
                 WritePage(f.root / "out" / "lot" / "a.png", "Oficio", 15);
               },
               {"run", "{out}/lot", "--out", "{out}", "--quiet"}, 2, nullptr, false});

  // 8. A run that cannot start creates nothing.
  v.push_back({"missing-language-creates-nothing", "8",
               [](Folders& f) { WritePage(f.lot / "a.png", "Oficio", 16); },
               {"run", "{lot}", "--out", "{out}", "--lang", "xyz", "--quiet"}, 3, nullptr, false, true});
  v.push_back({"store-in-missing-folder", "8",
               [](Folders& f) { WritePage(f.lot / "a.png", "Oficio", 17); },
               {"run", "{lot}", "--out", "{out}", "--store", "{root}/outside/nao/existe/acervo.db", "--quiet"}, 3,
               [](const Folders& f, const ProcessResult&) { EXPECT_FALSE(fs::exists(f.outside / "nao")); }, false});

  // 9. Control characters from the manifest never reach PDF, XMP or terminal.
  v.push_back({"control-characters", "9",
               [](Folders& f) {
                 WritePage(f.lot / "a.png", "Oficio com titulo estranho", 18);
                 WritePage(f.lot / "b.png", "Oficio com id estranho", 19);
                 std::string m = "document_id,document_type,title,files\n";
                 m += "doc-a,oficio,\"Linha um\x0bLinha dois \x1b[31mvermelho\x1b[0m\",a.png\n";
                 m += std::string("ab\0cd", 5) + ",oficio,Nulo,b.png\n";
                 WriteText(f.lot / "manifest.csv", m);
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 1,
               [](const Folders& f, const ProcessResult& r) {
                 EXPECT_TRUE(fs::exists(f.out / "lot" / "doc-a.pdf"));
                 EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "raw ESC on the terminal";
                 EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "raw ESC on the terminal";
                 EXPECT_NE(r.err.find("U+0000"), std::string::npos) << r.err;
                 ProcessResult v = testing::RunProcess({AcervoBinary(), "verify", f.out.string()});
                 EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
                 ProcessResult s = testing::RunProcess(
                     {AcervoBinary(), "search", "--store", (f.out / "acervo.db").string(), "estranho"});
                 EXPECT_EQ(s.out.find('\x1b'), std::string::npos) << "raw ESC from the store";
               }});

  // 10. Non-finite numbers in the profile are refused with the line.
  for (const char* key : {"[pdf]\njpeg_quality = nan", "[ocr]\nmin_confidence = nan", "[ocr]\npage_deadline_s = inf",
                          "[separation]\nrule = \"blank\"\nblank_max_ink = nan"}) {
    v.push_back({std::string("profile-") + std::to_string(v.size()), "10",
                 [key](Folders& f) {
                   WritePage(f.lot / "a.png", "Oficio", 20);
                   WriteText(f.lot / "profile.toml", std::string(key) + "\n");
                 },
                 {"run", "{lot}", "--out", "{out}", "--quiet"}, 3,
                 [](const Folders&, const ProcessResult& r) {
                   EXPECT_NE(r.err.find("profile.toml line"), std::string::npos) << r.err;
                   EXPECT_NE(r.err.find("finite"), std::string::npos) << r.err;
                 },
                 false, true});
  }

  // 11. Catastrophic regexes run in linear time; the row is written.
  v.push_back({"regex-catastrophic", "11",
               [](Folders& f) {
                 WritePage(f.lot / "a.png", "Oficio", 21);
                 WritePage(f.lot / "b.png", "Oficio", 22);
                 WriteText(f.lot / "profile.toml",
                           "[[fields]]\nname = \"codigo\"\nregex = '(a+)+$'\n"
                           "[[fields]]\nname = \"longo\"\nregex = '(a|b)*'\n");
                 WriteText(f.lot / "manifest.csv", "document_id,document_type,title,files,codigo,longo\n"
                                                   "a,oficio,A," "a.png," + Repeat('a', 36) + "!,x\n"
                                                   "b,oficio,B,b.png,x," + Repeat('a', 16384) + "\n");
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 0,
               [](const Folders& f, const ProcessResult&) {
                 ProcessResult v = testing::RunProcess({AcervoBinary(), "verify", f.out.string()});
                 EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
                 EXPECT_NE(v.out.find("2 documents"), std::string::npos) << v.out;
               }});

  // 12. Never more workers (Tesseract engines) than pages.
  v.push_back({"jobs-capped-by-pages", "12",
               [](Folders& f) {
                 for (const char* n : {"p0.png", "p1.png", "p2.png"}) WritePage(f.lot / n, "Oficio", 23 + n[1]);
               },
               {"run", "{lot}", "--out", "{out}", "--jobs", "16", "--quiet"}, 0,
               [](const Folders& f, const ProcessResult&) {
                 EXPECT_EQ(Report(f.out / "lot").value("workers", -1), 3);
               }});
  v.push_back({"jobs-capped-by-memory", "12",
               [](Folders& f) {
                 for (const char* n : {"p0.png", "p1.png", "p2.png"}) WritePage(f.lot / n, "Oficio", 26 + n[1]);
               },
               {"run", "{lot}", "--out", "{out}", "--jobs", "3", "--memory-budget", "500", "--quiet"}, 0,
               [](const Folders& f, const ProcessResult& r) {
                 EXPECT_EQ(Report(f.out / "lot").value("workers", -1), 1);
                 EXPECT_NE(r.err.find("memory budget"), std::string::npos) << r.err;
               }});

  // 13. Ids too long for a file name: said so.
  v.push_back({"id-too-long", "13",
               [](Folders& f) {
                 WritePage(f.lot / "a.png", "Oficio", 29);
                 WritePage(f.lot / "b.png", "Oficio", 30);
                 WriteText(f.lot / "manifest.csv", "document_id,document_type,title,files\n" + Repeat('x', 240) +
                                                       ",oficio,Longo,a.png\n" + Repeat('y', 200) + ",oficio,Cabe,b.png\n");
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 1,
               [](const Folders& f, const ProcessResult& r) {
                 EXPECT_NE(r.err.find("too long"), std::string::npos) << r.err;
                 EXPECT_EQ(r.err.find("FileNotFound"), std::string::npos) << r.err;
                 EXPECT_TRUE(fs::exists(f.out / "lot" / (Repeat('y', 200) + ".pdf")));
               }});

  // 17. What a new user meets.
  v.push_back({"empty-lot", "17", [](Folders&) {}, {"run", "{lot}", "--out", "{out}", "--quiet"}, 1,
               [](const Folders&, const ProcessResult& r) {
                 EXPECT_NE(r.err.find("no page images"), std::string::npos) << r.err;
               }});
  v.push_back({"only-text-and-bmp", "17",
               [](Folders& f) {
                 WriteText(f.lot / "notas.txt", "anotacoes do operador\n");
                 WriteText(f.lot / "scan.bmp", "BM not really a bitmap");
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 1});
  v.push_back({"manifest-page-numbers", "17",
               [](Folders& f) {
                 WritePage(f.lot / "p1.png", "Primeira folha", 31);
                 WritePage(f.lot / "p2.png", "Segunda folha", 32);
                 WriteText(f.lot / "manifest.csv", "document_id,document_type,title,files\n"
                                                   "a,oficio,A,p1.png#1abc\nb,oficio,B,p1.png#0\n"
                                                   "c,oficio,C,p1.png#99999999999\nd,oficio,D,p2.png;p2.png\n");
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 1,
               [](const Folders&, const ProcessResult& r) {
                 for (const char* e : {"p1.png#1abc", "p1.png#0", "p1.png#99999999999", "listed again"}) {
                   EXPECT_NE(r.err.find(e), std::string::npos) << e << "\n" << r.err;
                 }
                 EXPECT_EQ(r.err.find("#-1"), std::string::npos) << r.err;
               }});
  v.push_back({"manifest-semicolons", "17",
               [](Folders& f) {
                 WritePage(f.lot / "p1.png", "Primeira folha", 33);
                 WriteText(f.lot / "manifest.csv", "document_id;document_type;title;files\na;oficio;A;p1.png\n");
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 3,
               [](const Folders&, const ProcessResult& r) {
                 EXPECT_NE(r.err.find("separated by ';'"), std::string::npos) << r.err;
               },
               false, true});
  v.push_back({"field-types-without-types", "17",
               [](Folders& f) {
                 WritePage(f.lot / "p1.png", "Primeira folha", 34);
                 WriteText(f.lot / "profile.toml", "[[fields]]\nname = \"cpf\"\ntypes = [\"certidao\"]\n");
               },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 3,
               [](const Folders&, const ProcessResult& r) {
                 EXPECT_NE(r.err.find("not in [[types]]"), std::string::npos) << r.err;
               },
               false, true});
  // An A6 page of 620 x 874 pixels whose header claims 600 dpi: an inch
  // wide, no real paper (low claims were flagged already).
  v.push_back({"implausible-high-dpi", "17",
               [](Folders& f) { WritePage(f.lot / "p1.png", "Pagina com resolucao falsa", 35,
                                          synth::FileFormat::kPng, 600); },
               {"run", "{lot}", "--out", "{out}", "--quiet"}, 0,
               [](const Folders&, const ProcessResult& r) {
                 EXPECT_NE(r.err.find("implausible"), std::string::npos) << r.err;
               }});
  return v;
}

TEST(HostileTest, EveryScenarioKeepsTheFourPromises) {
  std::vector<fs::path> roots;
  for (const Scenario& s : Scenarios()) roots.push_back(RunScenario(s));
  EXPECT_EQ(testing::PdfaProblems(AllPdfs()), "");
  if (!::testing::Test::HasFailure()) {
    for (const fs::path& r : roots) fs::remove_all(r);
  }
}


// Removes a scenario's folders when its test passed.
struct Cleanup {
  explicit Cleanup(fs::path r) : root(std::move(r)) {}
  ~Cleanup() {
    if (!::testing::Test::HasFailure()) fs::remove_all(root);
  }
  fs::path root;
};

// 2. A document id maps to one file name for ever: a later id that the old
// folding would have given the same name never overwrites it.
TEST(HostileTest, FileNamesAreStableAcrossRuns) {
  Folders f("stable-names");
  Cleanup cleanup(f.root);
  WritePage(f.lot / "a.png", "Documento com barra no id", 40);
  WritePage(f.lot / "b.png", "Documento com sublinhado no id", 41);
  WriteText(f.lot / "manifest.csv", "document_id,document_type,title,files\nx/y,oficio,Barra,a.png\n");
  ProcessResult r1 = Acervo(f, {"run", f.lot.string(), "--out", f.out.string(), "--quiet"});
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const fs::path first = f.out / "lot" / "x%2Fy.pdf";
  ASSERT_TRUE(fs::exists(first)) << r1.out;
  const std::string sha = *Sha256OfFile(first);
  WriteText(f.lot / "manifest.csv",
            "document_id,document_type,title,files\nx/y,oficio,Barra,a.png\nx_y,oficio,Sublinhado,b.png\n");
  ProcessResult r2 = Acervo(f, {"run", f.lot.string(), "--out", f.out.string(), "--quiet"});
  EXPECT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(*Sha256OfFile(first), sha) << "x/y's PDF was overwritten";
  EXPECT_TRUE(fs::exists(f.out / "lot" / "x_y.pdf"));
  ProcessResult v = testing::RunProcess({AcervoBinary(), "verify", f.out.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(testing::PdfaProblems(testing::PdfsIn(f.out)), "");
}

// 2. Two lots whose ids differ only where the old folding folded them
// keep their own folders and reports.
TEST(HostileTest, LotIdsThatFoldedAlikeKeepTheirOwnFolders) {
  Folders f("folded-lot-ids");
  Cleanup cleanup(f.root);
  const fs::path queue = f.lot;  // a queue of two lots
  WritePage(queue / "um" / "a.png", "Caixa com espaco", 42);
  WriteText(queue / "um" / "profile.toml", "[lot]\nid = \"CX 01\"\n");
  WritePage(queue / "dois" / "a.png", "Caixa com dois pontos", 43);
  WriteText(queue / "dois" / "profile.toml", "[lot]\nid = \"CX:01\"\n");
  ProcessResult r = Acervo(f, {"batch", queue.string(), "--out", f.out.string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Report(f.out / "CX%2001").value("lot", ""), "CX 01");
  EXPECT_EQ(Report(f.out / "CX%3A01").value("lot", ""), "CX:01");
  // The morning report names each lot by folder, id and output folder.
  json batch = json::parse(ReadText((f.out / "report" / "report.json").string()), nullptr, false);
  ASSERT_TRUE(batch.is_object());
  std::set<std::string> pairs;
  for (const json& l : batch["lots"]["list"]) {
    pairs.insert(l.value("folder", "") + "=" + l.value("lot", "") + "@" + fs::path(l.value("output", "")).filename().string());
  }
  EXPECT_EQ(pairs, (std::set<std::string>{"dois=CX:01@CX%3A01", "um=CX 01@CX%2001"}));
  // 6: verify of a batch output: its report/ folder is not a lot.
  ProcessResult v = testing::RunProcess({AcervoBinary(), "verify", f.out.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

// 4. A link loop or a link out of the queue never stops a batch: the other
// lots run and the morning report is written.
TEST(HostileTest, LinkLoopsNeverStopABatchOrAWatch) {
  Folders f("loops-in-queue");
  Cleanup cleanup(f.root);
  const fs::path queue = f.lot;
  fs::create_directories(queue / "a-laco");
  fs::create_symlink(queue / "a-laco" / "x.png", queue / "a-laco" / "x.png");
  WritePage(queue / "a-laco" / "bom.png", "Oficio do lote com laco", 44);
  fs::create_directory_symlink(f.outside, queue / "b-link-para-fora");
  WritePage(queue / "c-normal" / "p.png", "Oficio do lote normal", 45);
  WritePage(f.outside / "fora.png", "Documento que nao e do lote", 46);
  const auto before = Listing(f.root, {f.out});
  ProcessResult r = Acervo(f, {"batch", queue.string(), "--out", f.out.string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(fs::exists(f.out / "report" / "report.json")) << r.err;
  EXPECT_TRUE(fs::exists(f.out / "c-normal" / "p.pdf"));
  EXPECT_TRUE(fs::exists(f.out / "a-laco" / "bom.pdf"));
  EXPECT_FALSE(fs::exists(f.out / "b-link-para-fora"));
  EXPECT_NE(r.err.find("b-link-para-fora"), std::string::npos) << r.err;
  EXPECT_EQ(Diff(before, Listing(f.root, {f.out})), "");

  // The same folder as a hot folder: watch --once records the link and
  // the loop's lot, and carries on.
  const fs::path wout = f.root / "watch-out";
  ProcessResult w = Acervo(f, {"watch", queue.string(), "--out", wout.string(), "--once", "--settle", "0",
                               "--quiet"});
  EXPECT_EQ(w.exit_code, 1) << w.out << w.err;
  EXPECT_NE(w.out.find("b-link-para-fora\tfailed: is a symbolic link"), std::string::npos) << w.out;
  EXPECT_NE(w.out.find("c-normal\tok"), std::string::npos) << w.out;
  EXPECT_EQ(testing::PdfaProblems(testing::PdfsIn(f.out)), "");
}

// Runs one small lot into f.out and returns the path of its one PDF.
fs::path OneDocumentLot(const Folders& f, const std::string& text, uint64_t seed) {
  WritePage(f.lot / "doc.png", text, seed);
  ProcessResult r = Acervo(f, {"run", f.lot.string(), "--out", f.out.string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return f.out / "lot" / "doc.pdf";
}

// 6. verify never hangs on a FIFO nor reads /dev/zero for ever, and checks
// a copied archive where it is, not the original's paths.
TEST(HostileTest, VerifyChecksWhatIsThereAndNeverHangs) {
  Folders f("verify");
  Cleanup cleanup(f.root);
  const fs::path pdf = OneDocumentLot(f, "Oficio para verificar depois", 47);
  ASSERT_TRUE(fs::exists(pdf));
  const fs::path copy = f.root / "copia";
  fs::copy(f.out, copy, fs::copy_options::recursive);
  // The original is damaged: the copy still verifies, by its own files.
  {
    std::vector<uint8_t> bytes = *ReadFile(pdf);
    bytes[bytes.size() / 2] ^= 0xFF;
    ASSERT_TRUE(WriteFileAtomic(pdf, bytes).ok());
  }
  ProcessResult vc = testing::RunProcess({AcervoBinary(), "verify", copy.string()});
  EXPECT_EQ(vc.exit_code, 0) << vc.out << vc.err;
  ProcessResult vo = testing::RunProcess({AcervoBinary(), "verify", f.out.string()});
  EXPECT_EQ(vo.exit_code, 1) << vo.out << vo.err;
  EXPECT_NE(vo.err.find("PDF changed"), std::string::npos) << vo.err;
  // A PDF replaced by a link to /dev/zero, then by a FIFO: a mismatch, at once.
  const fs::path cpdf = copy / "lot" / "doc.pdf";
  fs::remove(cpdf);
  fs::create_symlink("/dev/zero", cpdf);
  testing::ProcessOptions quick;
  quick.timeout_s = 60;
  ProcessResult vz = testing::RunProcess({AcervoBinary(), "verify", copy.string()}, quick);
  EXPECT_EQ(vz.exit_code, 1) << vz.out << vz.err;
  EXPECT_NE(vz.err.find("not a regular file"), std::string::npos) << vz.err;
  fs::remove(cpdf);
  ASSERT_EQ(::mkfifo(cpdf.c_str(), 0644), 0);
  ProcessResult vf = testing::RunProcess({AcervoBinary(), "verify", copy.string()}, quick);
  EXPECT_EQ(vf.exit_code, 1) << vf.out << vf.err;
  EXPECT_NE(vf.err.find("FIFO"), std::string::npos) << vf.err;
}

// Runs argv in a private mount namespace (util-linux unshare) where `dir` is
// a read-only bind mount of itself, as a disc or a read-only NFS export
// would be. Exit 99: no such mount can be made here.
ProcessResult RunWithReadOnly(const fs::path& dir, const std::vector<std::string>& argv) {
  std::vector<std::string> wrapped = {
      "unshare", "--mount", "--propagation", "private", "sh", "-c",
      "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" || exit 99; exec \"$@\"", dir.string()};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return testing::RunProcess(wrapped);
}

// 7. An archive on read-only media is searched and verified where it is.
TEST(HostileTest, ReadOnlyArchiveIsSearchedAndVerified) {
  Folders f("read-only");
  Cleanup cleanup(f.root);
  OneDocumentLot(f, "Escritura de compra e venda do terreno", 48);
  const auto before = Listing(f.out);
  ProcessResult s = RunWithReadOnly(
      f.out, {AcervoBinary(), "search", "--store", (f.out / "acervo.db").string(), "escritura"});
  ASSERT_NE(s.exit_code, 99) << "cannot make a read-only mount here (needs root in a mount namespace)";
  EXPECT_EQ(s.exit_code, 0) << s.out << s.err;
  EXPECT_NE(s.out.find((f.out / "lot" / "doc.pdf").string()), std::string::npos) << s.out;
  ProcessResult v = RunWithReadOnly(f.out, {AcervoBinary(), "verify", f.out.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(Diff(before, Listing(f.out)), "");
}

// 14. Two runs of one lot into one output folder: the second is refused
// while the first works; the journal stays whole.
TEST(HostileTest, ASecondRunOfTheSameLotWaitsItsTurn) {
  Folders f("concurrent");
  Cleanup cleanup(f.root);
  WritePage(f.lot / "a.png", "Primeiro documento do lote disputado", 49);
  WritePage(f.lot / "b.png", "Segundo documento do lote disputado", 50);
  const std::string log = (f.root / "first.log").string();
  const pid_t first = testing::SpawnWithPause(
      {AcervoBinary(), "run", f.lot.string(), "--out", f.out.string(), "--jobs", "1", "--quiet"}, "pdf-write", log);
  ASSERT_GT(first, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(first, &status, WUNTRACED), first);
  ASSERT_TRUE(WIFSTOPPED(status)) << ReadText(log);
  // The first holds a temporary PDF now; the second must not touch it.
  std::vector<fs::path> temps;
  for (const auto& e : fs::directory_iterator(f.out / "lot")) {
    if (e.path().filename().string().rfind(".tmp-", 0) == 0) temps.push_back(e.path());
  }
  ProcessResult second = Acervo(f, {"run", f.lot.string(), "--out", f.out.string(), "--quiet"});
  EXPECT_EQ(second.exit_code, 3) << second.err;
  EXPECT_NE(second.err.find("in use by another acervo process"), std::string::npos) << second.err;
  for (const fs::path& t : temps) EXPECT_TRUE(fs::exists(t)) << "the second run removed " << t;
  ::kill(first, SIGCONT);
  ASSERT_EQ(::waitpid(first, &status, 0), first);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadText(log);
  for (const std::string& line : [&] {
         std::vector<std::string> lines;
         std::string text = ReadText((f.out / "lot" / "journal.jsonl").string());
         for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
           lines.push_back(text.substr(at, nl - at));
         return lines;
       }()) {
    EXPECT_TRUE(json::parse(line, nullptr, false).is_object()) << "spliced journal line: " << line;
  }
  EXPECT_EQ(testing::PdfaProblems(testing::PdfsIn(f.out)), "");
}

// 15. Ctrl-C in a batch: the page in flight is stopped, not quarantined;
// the resumed batch is clean and its morning report lists nothing.
TEST(HostileTest, AnInterruptedPageIsNotABadInput) {
  Folders f("interrupted");
  Cleanup cleanup(f.root);
  const fs::path queue = f.lot;
  WritePage(queue / "lote" / "a.png", "Pagina que sera interrompida", 51);
  WritePage(queue / "lote" / "b.png", "Pagina seguinte do lote", 52);
  const std::string log = (f.root / "batch.log").string();
  const pid_t pid = testing::SpawnWithPause(
      {AcervoBinary(), "batch", queue.string(), "--out", f.out.string(), "--jobs", "1", "--quiet"}, "before-chain",
      log);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, WUNTRACED), pid);
  ASSERT_TRUE(WIFSTOPPED(status)) << ReadText(log);
  ::kill(pid, SIGINT);  // Ctrl-C while the page is about to be OCRed
  ::kill(pid, SIGCONT);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 130) << ReadText(log);
  EXPECT_FALSE(fs::exists(f.out / "lote" / "quarantine")) << ReadText(log);
  ProcessResult resumed = Acervo(f, {"batch", queue.string(), "--out", f.out.string(), "--quiet"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  json batch = json::parse(ReadText((f.out / "report" / "report.json").string()), nullptr, false);
  ASSERT_TRUE(batch.is_object());
  EXPECT_EQ(batch["pages"].value("quarantined_inputs", -1), 0) << batch.dump(2);
  EXPECT_TRUE(batch["errors"].empty()) << batch["errors"].dump(2);
}

// 16. The search command line as docs/store.md and docs/cli.md write it.
TEST(HostileTest, SearchTakesTheDocumentedForms) {
  Folders f("search-args");
  Cleanup cleanup(f.root);
  WritePage(f.lot / "a.png", "Oficio da camara de Piracicaba", 53);
  WritePage(f.lot / "b.png", "Certidao do cartorio de Piracicaba", 54);
  WriteText(f.lot / "manifest.csv", "document_id,document_type,title,files,data\n"
                                    "a,oficio,Oficio,a.png,03/02/2021\nb,certidao,Certidao,b.png,04/02/2021\n");
  ProcessResult run = Acervo(f, {"run", f.lot.string(), "--out", f.out.string(), "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string db = (f.out / "acervo.db").string();
  ProcessResult a = testing::RunProcess({AcervoBinary(), "search", "--store", db, "--field", "data=03/02/2021",
                                         "piracicaba", "--json"});
  EXPECT_EQ(a.exit_code, 0) << a.err;
  json hits = json::parse(a.out, nullptr, false);
  ASSERT_TRUE(hits.is_array()) << a.out;
  ASSERT_EQ(hits.size(), 1u) << a.out;
  EXPECT_EQ(hits[0].value("document", ""), "a");
  ProcessResult b = testing::RunProcess({AcervoBinary(), "search", "--store", db, "--json", "piracicaba",
                                         "-type:oficio"});
  EXPECT_EQ(b.exit_code, 0) << b.err;
  hits = json::parse(b.out, nullptr, false);
  ASSERT_TRUE(hits.is_array()) << b.out;
  ASSERT_EQ(hits.size(), 1u) << b.out;
  EXPECT_EQ(hits[0].value("document", ""), "b");
  ProcessResult c = testing::RunProcess({AcervoBinary(), "search", "--store", db, "--json", "-type:oficio"});
  EXPECT_EQ(c.exit_code, 0) << c.err;  // a negative-only query lists the rest
  ProcessResult d = testing::RunProcess({AcervoBinary(), "search", "--store", db, "--jsn", "x"});
  EXPECT_EQ(d.exit_code, 2) << "a mistyped option is not a query word: " << d.err;
}

// 17. What a new user reads must be true: results on stdout, errors on
// stderr, the configured subject in the PDF.
TEST(HostileTest, CommandsSayTheTruthWhereTheDocsSay) {
  Folders f("new-user");
  Cleanup cleanup(f.root);
  // preprocess: an unreadable input is an error on stderr, not a page in
  // the stdout JSON; outputs are <stem>-NNN.png; one stem, one input.
  WritePage(f.lot / "bom.png", "Pagina boa", 55);
  WriteText(f.lot / "ruim.png", "not an image");
  ProcessResult p = Acervo(f, {"preprocess", (f.lot / "bom.png").string(), (f.lot / "ruim.png").string(), "--out",
                               (f.root / "pre").string(), "--json"});
  EXPECT_EQ(p.exit_code, 1) << p.err;
  json pages = json::parse(p.out, nullptr, false);
  ASSERT_TRUE(pages.is_array()) << p.out;
  ASSERT_EQ(pages.size(), 1u) << p.out;
  EXPECT_FALSE(pages[0].contains("error"));
  EXPECT_TRUE(fs::exists(f.root / "pre" / "bom-001.png"));
  EXPECT_NE(p.err.find("ruim.png"), std::string::npos) << p.err;
  WritePage(f.outside / "bom.tif", "Outra pagina boa", 56, synth::FileFormat::kTiffLzw);
  ProcessResult same = Acervo(f, {"preprocess", (f.lot / "bom.png").string(), (f.outside / "bom.tif").string(),
                                  "--out", (f.root / "pre2").string()});
  EXPECT_EQ(same.exit_code, 2) << same.err;
  fs::remove(f.lot / "ruim.png");
  // sheets: the result on stdout.
  ProcessResult sh = Acervo(f, {"sheets", "-o", (f.root / "folhas.pdf").string(), "--type", "oficio"});
  EXPECT_EQ(sh.exit_code, 0) << sh.err;
  EXPECT_NE(sh.out.find("written to"), std::string::npos) << sh.out;
  EXPECT_EQ(sh.err.find("written to"), std::string::npos) << sh.err;
  // 8: no parent folder the user did not ask for.
  ProcessResult shm = Acervo(f, {"sheets", "-o", (f.outside / "nao" / "existe" / "folhas.pdf").string(), "--type",
                                 "oficio"});
  EXPECT_NE(shm.exit_code, 0) << shm.out << shm.err;
  EXPECT_FALSE(fs::exists(f.outside / "nao")) << "sheets -o created a folder nobody asked for";
  // The PDF's Subject is the profile's [archival] assunto.
  WriteText(f.lot / "profile.toml", "[archival]\nassunto = \"Licitacao de obras publicas\"\n");
  ProcessResult run = Acervo(f, {"run", f.lot.string(), "--out", f.out.string(), "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ProcessResult info = testing::RunProcess({"pdfinfo", (f.out / "lot" / "bom.pdf").string()});
  const size_t subject = info.out.find("Subject:");
  ASSERT_NE(subject, std::string::npos) << info.out;
  EXPECT_EQ(info.out.substr(subject, info.out.find('\n', subject) - subject).find("Licitacao de obras publicas"),
            info.out.substr(subject, info.out.find('\n', subject) - subject).size() - 27)
      << info.out;
}

}  // namespace
}  // namespace acervo
