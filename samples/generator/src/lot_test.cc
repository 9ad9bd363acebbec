// The demo lot, generated fresh: files, manifest, profile and ground truth
// must agree with each other and with docs/formats.md.
#include <tiffio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <toml++/toml.h>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "lot_internal.h"
#include "utf8.h"

namespace acervo::synth {
namespace {

namespace fs = std::filesystem;

const fs::path kSpec = fs::path(ACERVO_SOURCE_DIR) / "samples/demo/demo-lot.toml";

std::string Slurp(const fs::path& p) {
  Result<std::vector<uint8_t>> bytes = ReadFile(p);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// RFC 4180 rows (quoted fields, doubled quotes).
std::vector<std::vector<std::string>> ParseCsv(const std::string& s) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

std::string Normalised(const std::string& s) {
  std::u32string n = NormaliseWhitespace(DecodeUtf8(s));
  std::string out;
  for (char32_t c : n) {  // re-encode
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

bool ValidCpf(const std::string& formatted) {
  std::string d;
  for (char c : formatted) {
    if (std::isdigit(static_cast<unsigned char>(c))) d += c;
  }
  if (d.size() != 11 || d == std::string(11, d[0])) return false;
  for (int check = 9; check <= 10; ++check) {
    int sum = 0;
    for (int i = 0; i < check; ++i) sum += (d[static_cast<size_t>(i)] - '0') * (check + 1 - i);
    int digit = (sum * 10) % 11 % 10;
    if (digit != d[static_cast<size_t>(check)] - '0') return false;
  }
  return true;
}

// CNJ: NNNNNNN-DD.AAAA.J.TR.OOOO, ISO 7064 mod 97-10 over N AAAA J TR OOOO DD.
bool ValidCnj(const std::string& s) {
  static const std::regex kPattern(R"((\d{7})-(\d{2})\.(\d{4})\.(\d)\.(\d{2})\.(\d{4}))");
  std::smatch m;
  if (!std::regex_match(s, m, kPattern)) return false;
  std::string digits = m[1].str() + m[3].str() + m[4].str() + m[5].str() + m[6].str() + m[2].str();
  int rem = 0;
  for (char c : digits) rem = (rem * 10 + (c - '0')) % 97;
  return rem == 1;
}

struct PageRow {
  std::string file;
  int page;
  std::string document_id;
  int page_in_document;
  double skew;
  int orientation;
  bool blank;
  std::string gt_file;
};

class DemoLotTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A name of its own per process: two builds running the suite at once
    // (CI and a developer, or parallel worktrees) must not share the lot.
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("acervo-synth-demo-lot-test-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    Status s = GenerateLot(kSpec, *dir_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  std::vector<PageRow> Pages() {
    std::vector<PageRow> rows;
    std::vector<std::string> lines = Split(Slurp(*dir_ / "ground-truth/pages.tsv"), '\n');
    EXPECT_EQ(lines.front(),
              "file\tpage\tdocument_id\tpage_in_document\tskew_deg\torientation_deg\tblank\tgt_file");
    for (size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      std::vector<std::string> f = Split(lines[i], '\t');
      EXPECT_EQ(f.size(), 8u) << lines[i];
      if (f.size() != 8) continue;
      EXPECT_TRUE(f[6] == "true" || f[6] == "false");
      rows.push_back({f[0], std::stoi(f[1]), f[2], std::stoi(f[3]), std::stod(f[4]), std::stoi(f[5]),
                      f[6] == "true", f[7]});
    }
    return rows;
  }

  // The checks, one function each; a single test runs them all so that the
  // lot is generated once even when CTest runs every test in its own process.
  void PagesMatchTheFilesWritten();
  void ManifestAgreesWithPagesAndText();
  void EachDocumentHasAWordNoOtherHas();
  void ProfileFollowsTheFormat();

  static fs::path* dir_;
};
fs::path* DemoLotTest::dir_ = nullptr;

TEST_F(DemoLotTest, GeneratedLotIsConsistent) {
  {
    SCOPED_TRACE("pages.tsv against the files");
    PagesMatchTheFilesWritten();
  }
  {
    SCOPED_TRACE("manifest.csv against pages.tsv and the text");
    ManifestAgreesWithPagesAndText();
  }
  {
    SCOPED_TRACE("a distinctive word per document");
    EachDocumentHasAWordNoOtherHas();
  }
  {
    SCOPED_TRACE("profile.toml");
    ProfileFollowsTheFormat();
  }
}

void DemoLotTest::PagesMatchTheFilesWritten() {
  std::vector<PageRow> rows = Pages();
  ASSERT_GE(rows.size(), 12u);
  std::map<std::string, int> pages_per_file;
  int upside_down = 0, blank = 0, within_5 = 0;
  for (const PageRow& r : rows) {
    ASSERT_TRUE(fs::exists(*dir_ / r.file)) << r.file;
    pages_per_file[r.file] = std::max(pages_per_file[r.file], r.page);
    upside_down += r.orientation == 180;
    blank += r.blank;
    within_5 += std::abs(r.skew) <= 5;
    EXPECT_TRUE(r.orientation == 0 || r.orientation == 180) << r.file;
    std::string gt = Slurp(*dir_ / "ground-truth" / r.gt_file);
    EXPECT_EQ(gt.empty(), r.blank) << r.gt_file;
  }
  EXPECT_EQ(upside_down, 1);
  EXPECT_EQ(blank, 1);
  EXPECT_EQ(within_5, static_cast<int>(rows.size()));

  // Every image file in the folder is listed, with its page count, size, dpi.
  std::set<std::string> formats;
  int image_files = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(*dir_)) {
    std::string ext = e.path().extension().string();
    if (ext != ".tif" && ext != ".png" && ext != ".jpg") continue;
    ++image_files;
    const std::string name = e.path().filename().string();
    ASSERT_TRUE(pages_per_file.count(name)) << name << " not in pages.tsv";
    std::vector<uint8_t> bytes = *ReadFile(e.path());
    if (ext == ".tif") {
      TIFF* tif = TIFFOpen(e.path().c_str(), "r");
      ASSERT_NE(tif, nullptr);
      int n = 0;
      do {
        uint16_t compression = 0;
        float xres = 0;
        uint32_t w = 0, h = 0;
        TIFFGetField(tif, TIFFTAG_COMPRESSION, &compression);
        TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres);
        TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
        TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
        formats.insert(compression == COMPRESSION_CCITTFAX4 ? "g4"
                       : compression == COMPRESSION_LZW     ? "lzw"
                                                            : "tiff");
        EXPECT_FLOAT_EQ(xres, 300);
        EXPECT_EQ(w, 2480u);
        EXPECT_EQ(h, 3508u);
        ++n;
      } while (TIFFReadDirectory(tif));
      TIFFClose(tif);
      EXPECT_EQ(n, pages_per_file[name]) << name;
    } else {
      EXPECT_EQ(pages_per_file[name], 1);
      cv::Mat m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
      EXPECT_EQ(m.type(), CV_8UC1) << name;
      EXPECT_EQ(m.cols, 2480);
      EXPECT_EQ(m.rows, 3508);
      formats.insert(ext == ".png" ? "png" : "jpeg");
      if (ext == ".jpg") {
        EXPECT_EQ(bytes[13], 1);
        EXPECT_EQ((bytes[14] << 8) | bytes[15], 300);
      } else {
        auto it = std::search(bytes.begin(), bytes.end(), std::begin("pHYs"), std::end("pHYs") - 1);
        ASSERT_NE(it, bytes.end());
        uint32_t ppm = (uint32_t{it[4]} << 24) | (uint32_t{it[5]} << 16) | (uint32_t{it[6]} << 8) | it[7];
        EXPECT_NEAR(ppm * 0.0254, 300, 0.01);
      }
    }
  }
  EXPECT_EQ(image_files, static_cast<int>(pages_per_file.size()));
  EXPECT_EQ(formats, (std::set<std::string>{"g4", "lzw", "png", "jpeg"}));
}

void DemoLotTest::ManifestAgreesWithPagesAndText() {
  std::vector<std::vector<std::string>> csv = ParseCsv(Slurp(*dir_ / "manifest.csv"));
  ASSERT_GE(csv.size(), 5u);
  const std::vector<std::string>& header = csv[0];
  ASSERT_GE(header.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(header.begin(), header.begin() + 4),
            (std::vector<std::string>{"document_id", "document_type", "title", "files"}));

  // Document -> its pages ("file#n" or "file"), and its text.
  std::vector<PageRow> rows = Pages();
  std::map<std::string, std::vector<std::string>> entries;
  std::map<std::string, std::string> text;
  std::map<std::string, int> pages_in_file;
  for (const PageRow& r : rows) pages_in_file[r.file]++;
  for (const PageRow& r : rows) {
    entries[r.document_id].push_back(pages_in_file[r.file] > 1 ? r.file + "#" + std::to_string(r.page)
                                                               : r.file);
    text[r.document_id] += Slurp(*dir_ / "ground-truth" / r.gt_file) + "\n";
  }
  EXPECT_GE(entries.size(), 4u);
  EXPECT_EQ(csv.size() - 1, entries.size());

  for (size_t i = 1; i < csv.size(); ++i) {
    const std::vector<std::string>& row = csv[i];
    ASSERT_EQ(row.size(), header.size());
    const std::string& id = row[0];
    ASSERT_TRUE(entries.count(id)) << id;
    EXPECT_EQ(Split(row[3], ';'), entries[id]) << id;
    const std::string doc_text = Normalised(text[id]);
    int fields_in_text = 0;
    for (size_t k = 4; k < header.size(); ++k) {
      if (row[k].empty()) continue;
      EXPECT_NE(doc_text.find(row[k]), std::string::npos) << id << " " << header[k] << "=" << row[k];
      fields_in_text++;
      if (header[k] == "cpf") {
        EXPECT_TRUE(ValidCpf(row[k])) << row[k];
      } else if (header[k] == "processo") {
        EXPECT_TRUE(ValidCnj(row[k])) << row[k];
      } else if (header[k] == "data") {
        EXPECT_TRUE(std::regex_match(row[k], std::regex(R"(\d{2}/\d{2}/\d{4})"))) << row[k];
      }
    }
    EXPECT_GE(fields_in_text, 2) << id;
  }

  // Every CPF- or CNJ-looking number anywhere in the text is valid.
  std::string all;
  for (const auto& [id, t] : text) all += t;
  std::regex cpf(R"(\d{3}\.\d{3}\.\d{3}-\d{2})");
  std::regex cnj(R"(\d{7}-\d{2}\.\d{4}\.\d\.\d{2}\.\d{4})");
  int cpfs = 0, cnjs = 0;
  for (auto it = std::sregex_iterator(all.begin(), all.end(), cpf); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(ValidCpf(it->str())) << it->str();
    ++cpfs;
  }
  for (auto it = std::sregex_iterator(all.begin(), all.end(), cnj); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(ValidCnj(it->str())) << it->str();
    ++cnjs;
  }
  EXPECT_GE(cpfs, 6);
  EXPECT_GE(cnjs, 2);
}

void DemoLotTest::EachDocumentHasAWordNoOtherHas() {
  std::map<std::string, std::set<std::string>> words;  // document -> lowercase words
  for (const PageRow& r : Pages()) {
    std::u32string t = DecodeUtf8(Slurp(*dir_ / "ground-truth" / r.gt_file));
    std::string word;
    auto flush = [&]() {
      if (word.size() >= 6) words[r.document_id].insert(word);
      word.clear();
    };
    for (char32_t c : t) {
      // Letters (ASCII and Latin-1/Latin Extended-A, where Portuguese lives).
      bool letter = (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= 0xC0 && c <= 0x17F);
      if (!letter) {
        flush();
        continue;
      }
      if (c >= U'A' && c <= U'Z') c += 32;
      if (c >= 0xC0 && c <= 0xDE && c != 0xD7) c += 32;
      // Re-encode the code point (all below U+0800 here).
      if (c < 0x80) {
        word += static_cast<char>(c);
      } else {
        word += static_cast<char>(0xC0 | (c >> 6));
        word += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    flush();
  }
  ASSERT_GE(words.size(), 4u);
  for (const auto& [id, mine] : words) {
    int unique = 0;
    for (const std::string& w : mine) {
      bool elsewhere = false;
      for (const auto& [other, theirs] : words) {
        if (other != id && theirs.count(w)) elsewhere = true;
      }
      unique += !elsewhere;
    }
    EXPECT_GT(unique, 0) << id;
  }
}

void DemoLotTest::ProfileFollowsTheFormat() {
  toml::table profile;
  ASSERT_NO_THROW(profile = toml::parse_file((*dir_ / "profile.toml").string()));
  EXPECT_EQ(profile["lot"]["id"].value_or(std::string()), "demo-2026-0001");
  EXPECT_TRUE(profile["lot"]["project"].is_string());
  EXPECT_TRUE(profile["lot"]["box"].is_string());
  EXPECT_TRUE(profile["lot"]["operator"].is_string());
  EXPECT_EQ(profile["ocr"]["languages"].value_or(std::string()), "por+eng");
  const toml::array* fields = profile["fields"].as_array();
  ASSERT_NE(fields, nullptr);
  std::vector<std::vector<std::string>> csv = ParseCsv(Slurp(*dir_ / "manifest.csv"));
  std::vector<std::string> names;
  for (const toml::node& f : *fields) names.push_back((*f.as_table())["name"].value_or(std::string()));
  EXPECT_EQ(names, std::vector<std::string>(csv[0].begin() + 4, csv[0].end()));
}

// A one-page lot at low resolution: fast enough to generate several times.
constexpr char kTinySpec[] = R"(
[generator]
seed = 7
dpi = 100
[lot]
id = "tiny"
[[fields]]
name = "cpf"
required = true
[[documents]]
id = "d1"
type = "oficio"
title = "Ofício, teste"
text = "tiny.txt"
format = "FORMAT"
file = "FILE"
fields = { cpf = "123.456.789-09" }
pages = [ { skew = 1.5 }, { blank = true } ]
)";

fs::path WriteTinySpec(const fs::path& dir, const std::string& format, const std::string& file) {
  std::string spec = kTinySpec;
  spec.replace(spec.find("FORMAT"), 6, format);
  spec.replace(spec.find("FILE"), 4, file);
  EXPECT_TRUE(WriteFileAtomic(dir / "tiny.toml", spec).ok());
  EXPECT_TRUE(WriteFileAtomic(dir / "tiny.txt", std::string_view("# Ofício\nCPF 123.456.789-09")).ok());
  return dir / "tiny.toml";
}

TEST(LotTest, SameSpecSameBytesAndRegenerationReplaces) {
  fs::path dir = fs::temp_directory_path() / "acervo-synth-tiny-lot";
  fs::remove_all(dir);
  fs::create_directories(dir / "spec");
  fs::path spec = WriteTinySpec(dir / "spec", "png", "a");
  ASSERT_TRUE(GenerateLot(spec, dir / "one").ok());
  ASSERT_TRUE(GenerateLot(spec, dir / "two").ok());
  int compared = 0;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir / "one")) {
    if (!e.is_regular_file()) continue;
    fs::path rel = fs::relative(e.path(), dir / "one");
    EXPECT_EQ(*Sha256OfFile(e.path()), *Sha256OfFile(dir / "two" / rel)) << rel;
    ++compared;
  }
  EXPECT_EQ(compared, 7);  // 2 PNGs, manifest, profile, pages.tsv, 2 texts
  EXPECT_EQ(Slurp(dir / "one/manifest.csv"),
            "document_id,document_type,title,files,cpf\n"
            "d1,oficio,\"Ofício, teste\",a-p1.png;a-p2.png,123.456.789-09\n");

  // Regenerating over a generated lot replaces it: no stale page survives.
  spec = WriteTinySpec(dir / "spec", "tiff-g4", "b");
  ASSERT_TRUE(GenerateLot(spec, dir / "one").ok());
  EXPECT_FALSE(fs::exists(dir / "one/a-p1.png"));
  EXPECT_TRUE(fs::exists(dir / "one/b.tif"));
  EXPECT_NE(Slurp(dir / "one/manifest.csv").find("b.tif#1;b.tif#2"), std::string::npos);
  fs::remove_all(dir);
}

TEST(LotTest, RefusesAFolderThatIsNotAGeneratedLot) {
  fs::path dir = fs::temp_directory_path() / "acervo-synth-not-a-lot";
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_TRUE(WriteFileAtomic(dir / "precious.txt", std::string_view("keep me")).ok());
  Status s = GenerateLot(kSpec, dir);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(fs::exists(dir / "precious.txt"));
  fs::remove_all(dir);
}

TEST(LotTest, SpecErrorsNameTheProblem) {
  fs::path dir = fs::temp_directory_path() / "acervo-synth-bad-spec";
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct Case {
    const char* spec;
    const char* message;
  };
  const Case cases[] = {
      {"[lot]\nid = \"x\"\n", "no [[documents]]"},
      {"[generator\n", "demo.toml:1"},
      {"[lot]\nid='x'\n[[documents]]\nid='d'\ntype='t'\ntitle='T'\nformat='gif'\npages=[{}]\n",
       "unknown format 'gif'"},
      {"[lot]\nid='x'\n[[documents]]\nid='d'\ntype='t'\ntitle='T'\npages=[{skw=1}]\n",
       "unknown key 'skw'"},
      {"[lot]\nid='x'\n[[documents]]\nid='d'\ntype='t'\ntitle='T'\nfields={cpf='1'}\npages=[{}]\n",
       "not declared"},
      {"[lot]\nid='x'\n[[documents]]\nid='d'\ntype='t'\ntitle='T'\npages=[{}]\n",
       "only 0 page(s)"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(WriteFileAtomic(dir / "demo.toml", std::string_view(c.spec)).ok());
    Result<LotPlan> plan = PlanLot(dir / "demo.toml");
    ASSERT_FALSE(plan.ok()) << c.spec;
    EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(plan.status().message().find(c.message), std::string::npos)
        << plan.status().message() << " should mention " << c.message;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace acervo::synth
