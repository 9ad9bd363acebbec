#include "acervo/pipeline/lot.h"

#include <gtest/gtest.h>

#include <fstream>

#include <opencv2/imgcodecs.hpp>

namespace acervo {
namespace {
namespace fs = std::filesystem;

class LotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("acervo-lot-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Image(const std::string& name) {
    cv::Mat m(40, 30, CV_8UC1, cv::Scalar(255));
    cv::imwrite((dir_ / name).string(), m);
  }
  void Text(const std::string& name, const std::string& content) { std::ofstream(dir_ / name) << content; }
  fs::path dir_;
};

TEST_F(LotTest, WithoutManifestEachFileIsADocumentInNaturalOrder) {
  for (const char* n : {"10.png", "2.png", "1.png"}) Image(n);
  Text("notes.txt", "x");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->documents.size(), 3u);
  EXPECT_EQ(plan->documents[0].id, "1");
  EXPECT_EQ(plan->documents[1].id, "2");
  EXPECT_EQ(plan->documents[2].id, "10");
  EXPECT_EQ(plan->lot_id, dir_.filename().string());
  EXPECT_EQ(plan->TotalPages(), 3);
  ASSERT_EQ(plan->warnings.size(), 1u);
  EXPECT_EQ(plan->warnings[0].where, "notes.txt");
}

TEST_F(LotTest, ManifestGroupsPagesAndKeepsFields) {
  for (const char* n : {"a.png", "b.png", "c.png", "d.png"}) Image(n);
  Text("manifest.csv",
       "document_id,document_type,title,files,processo\n"
       "DOC-1,oficio,Ofício 1,a.png;b.png,0001-2\n"
       "DOC-2,certidao,\"Certidão, 2ª via\",c.png,\n");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->documents.size(), 3u);  // d.png is named by no row
  EXPECT_EQ(plan->documents[0].pages.size(), 2u);
  EXPECT_EQ(plan->documents[0].fields, (std::vector<std::pair<std::string, std::string>>{{"processo", "0001-2"}}));
  EXPECT_TRUE(plan->documents[1].fields.empty());
  EXPECT_EQ(plan->documents[1].title, "Certidão, 2ª via");
  EXPECT_EQ(plan->documents[2].id, "d");
  EXPECT_TRUE(plan->problems.empty());
}

TEST_F(LotTest, BadRowsAndFilesAreProblemsNotFailures) {
  Image("a.png");
  Text("broken.png", "not an image");
  Text("manifest.csv",
       "document_id,document_type,title,files\n"
       "DOC-1,oficio,x,a.png\n"
       "DOC-1,oficio,dup,a.png\n"
       "DOC-2,oficio,x,missing.png\n"
       "DOC-3,oficio,x,broken.png\n"
       "../../etc,oficio,x,a.png#7\n");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string all;
  for (const LotProblem& p : plan->problems) all += p.where + ": " + p.message + "\n";
  EXPECT_NE(all.find("manifest.csv line 3: document_id 'DOC-1' is repeated"), std::string::npos) << all;
  EXPECT_NE(all.find("file 'missing.png' is not in the lot"), std::string::npos) << all;
  EXPECT_NE(all.find("broken.png: not a TIFF, PNG or JPEG"), std::string::npos) << all;
  EXPECT_NE(all.find("'a.png#7': the file has 1 page(s)"), std::string::npos) << all;
  ASSERT_EQ(plan->documents.size(), 4u);
  EXPECT_TRUE(plan->documents[0].errors.empty());
  EXPECT_EQ(plan->documents[3].file_name, "_._.._etc");
}

TEST_F(LotTest, UnreadableManifestFailsTheLot) {
  Image("a.png");
  Text("manifest.csv", "document_id,title\nx,y\n");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("missing column 'document_type'"), std::string::npos);
}

TEST(SafeFileNameTest, NeverEscapesTheFolder) {
  struct Case { std::string in, out; };
  for (const Case& c : {Case{"DOC-001", "DOC-001"}, Case{"../x", "_._x"}, Case{"a/b\\c", "a_b_c"},
                        Case{"", "_"}, Case{"Certidão nº 5", "Certidão_nº_5"}, Case{".hidden", "_hidden"}}) {
    EXPECT_EQ(SafeFileName(c.in), c.out);
  }
}

}  // namespace
}  // namespace acervo
