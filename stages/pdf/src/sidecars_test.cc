#include "acervo/stages/pdf/sidecars.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <regex>

#include "acervo/core/files.h"
#include "test_tools.h"

namespace acervo {
namespace {

namespace fs = std::filesystem;
using testing::RunTool;

Page PageWithWords() {
  Page page = testing::MakeTextPage(1240, 1754, 150,
                                    {"Certidão", "nº", "1.234", "<fim>", "&", "“aspas”", "São", "Paulo",
                                     "ação", "O'Neil"},
                                    40);
  page.encoded.width = page.image.cols;
  page.encoded.height = page.image.rows;
  page.origin.master_path = "/lote/masters/0001 \"a\".tif";
  // Words XML cannot carry are left out, not written broken.
  Word control;
  control.text = "\x01\x02";
  control.box = cv::Rect(10, 10, 20, 20);
  control.line = 99;
  page.words.push_back(control);
  return page;
}

// Runs xmllint on `xml` (no network, no DTD fetch); "" when well-formed.
std::string XmlProblems(const fs::path& dir, const std::string& name, const std::string& xml) {
  fs::path file = dir / name;
  if (!WriteFileAtomic(file, xml).ok()) return "cannot write " + file.string();
  testing::ToolOutput r = RunTool({"xmllint", "--noout", "--nonet", file.string()});
  return r.exit_code == 0 ? "" : "xmllint exit " + std::to_string(r.exit_code);
}

std::string Count(const fs::path& file, const std::string& xpath) {
  testing::ToolOutput r = RunTool({"xmllint", "--nonet", "--xpath", xpath, file.string()});
  while (!r.out.empty() && std::isspace(static_cast<unsigned char>(r.out.back()))) r.out.pop_back();
  return r.out;
}

class SidecarsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("sidecars"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SidecarsTest, HocrIsWellFormedWithEveryWordAndBox) {
  Page page = PageWithWords();
  const size_t usable = page.words.size() - 1;
  std::string hocr = HocrPage(SidecarPageFromPage(page, 3));
  ASSERT_EQ(XmlProblems(dir_, "p.hocr", hocr), "") << hocr.substr(0, 2000);
  EXPECT_EQ(Count(dir_ / "p.hocr", "count(//*[@class='ocrx_word'])"), std::to_string(usable));
  EXPECT_EQ(Count(dir_ / "p.hocr", "count(//*[@class='ocr_page'])"), "1");
  EXPECT_NE(hocr.find("bbox 0 0 1240 1754; ppageno 2; scan_res 150 150"), std::string::npos);

  // Each word in order with its exact box and text.
  std::regex word_re(R"re(<span class="ocrx_word" id="word_3_\d+" title="bbox (\d+) (\d+) (\d+) (\d+); x_wconf (\d+)">([^<]*)</span>)re");
  std::vector<std::smatch> found;
  size_t k = 0;
  for (auto it = std::sregex_iterator(hocr.begin(), hocr.end(), word_re); it != std::sregex_iterator(); ++it, ++k) {
    ASSERT_LT(k, usable);
    const Word& w = page.words[k];
    const std::smatch& m = *it;
    EXPECT_EQ(std::stoi(m[1]), w.box.x);
    EXPECT_EQ(std::stoi(m[2]), w.box.y);
    EXPECT_EQ(std::stoi(m[3]), w.box.x + w.box.width);
    EXPECT_EQ(std::stoi(m[4]), w.box.y + w.box.height);
    EXPECT_EQ(XmlText(w.text), m[6].str());
  }
  EXPECT_EQ(k, usable);
  // Lines group the words of one OCR line.
  int lines = 0;
  for (size_t i = 0; i < usable; ++i) lines += i == 0 || page.words[i].line != page.words[i - 1].line;
  EXPECT_EQ(Count(dir_ / "p.hocr", "count(//*[@class='ocr_line'])"), std::to_string(lines));
}

TEST_F(SidecarsTest, AltoIsWellFormedWithEveryWordAndBox) {
  Page page = PageWithWords();
  const size_t usable = page.words.size() - 1;
  std::string alto = AltoPage(SidecarPageFromPage(page, 1));
  ASSERT_EQ(XmlProblems(dir_, "p.xml", alto), "") << alto.substr(0, 2000);
  EXPECT_EQ(Count(dir_ / "p.xml", "count(//*[local-name()='String'])"), std::to_string(usable));
  EXPECT_EQ(Count(dir_ / "p.xml", "string(//*[local-name()='Page']/@WIDTH)"), "1240");
  EXPECT_EQ(Count(dir_ / "p.xml", "string(//*[local-name()='MeasurementUnit'])"), "pixel");
  std::regex string_re(R"re(<String ID="string_1_\d+" HPOS="(\d+)" VPOS="(\d+)" WIDTH="(\d+)" HEIGHT="(\d+)" WC="([0-9.]+)" CONTENT="([^"]*)"/>)re");
  size_t k = 0;
  for (auto it = std::sregex_iterator(alto.begin(), alto.end(), string_re); it != std::sregex_iterator(); ++it, ++k) {
    ASSERT_LT(k, usable);
    const Word& w = page.words[k];
    EXPECT_EQ(std::stoi((*it)[1]), w.box.x);
    EXPECT_EQ(std::stoi((*it)[2]), w.box.y);
    EXPECT_EQ(std::stoi((*it)[3]), w.box.width);
    EXPECT_EQ(std::stoi((*it)[4]), w.box.height);
    EXPECT_EQ((*it)[6].str(), XmlText(w.text));
  }
  EXPECT_EQ(k, usable);
  // The CONTENT attribute decodes back to the word (xmllint does the XML).
  EXPECT_EQ(Count(dir_ / "p.xml", "string((//*[local-name()='String'])[4]/@CONTENT)"), "<fim>");
}

TEST_F(SidecarsTest, PageWithoutWordsIsStillValid) {
  Page page;
  page.encoded.width = 100;
  page.encoded.height = 200;
  ASSERT_EQ(XmlProblems(dir_, "e.hocr", HocrPage(SidecarPageFromPage(page, 1))), "");
  ASSERT_EQ(XmlProblems(dir_, "e.xml", AltoPage(SidecarPageFromPage(page, 1))), "");
}

TEST(XmlTextTest, EscapesAndDropsWhatXmlCannotHold) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"a&b", "a&amp;b"}, {"<x>", "&lt;x&gt;"}, {"\"'", "&quot;&apos;"}, {"ação", "ação"},
      {"a\x01" "b", "ab"}, {"\xC3", "\xEF\xBF\xBD"}, {"tab\there", "tab\there"},
  };
  for (const Case& c : cases) EXPECT_EQ(XmlText(c.in), c.out) << c.in;
}

}  // namespace
}  // namespace acervo
