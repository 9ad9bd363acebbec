#include "acervo/pipeline/lot.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

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
  EXPECT_EQ(plan->documents[3].file_name, "%2E.%2F..%2Fetc");
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
  for (const Case& c : {Case{"DOC-001", "DOC-001"}, Case{"../x", "%2E.%2Fx"}, Case{"a/b\\c", "a%2Fb%5Cc"},
                        Case{"", "_"}, Case{"Certidão nº 5", "Certidão%20nº%205"}, Case{".hidden", "%2Ehidden"},
                        // Issue 12: one id, one name, for ever: the old folding gave
                        // x/y and x_y (and CX 01 and CX:01) one file name.
                        Case{"x/y", "x%2Fy"}, Case{"x_y", "x_y"}, Case{"CX 01", "CX%2001"}, Case{"CX:01", "CX%3A01"},
                        Case{"a%2Fb", "a%252Fb"}, Case{"v1.2", "v1.2"}}) {
    EXPECT_EQ(SafeFileName(c.in), c.out);
  }
}


std::string AllProblems(const LotPlan& plan) {
  std::string all;
  for (const LotProblem& p : plan.problems) all += p.where + ": " + p.message + "\n";
  return all;
}

std::string AllWarnings(const LotPlan& plan) {
  std::string all;
  for (const LotProblem& p : plan.warnings) all += p.where + ": " + p.message + "\n";
  return all;
}

// Issue 12, item 1: inputs that map to one id are refused, each naming the
// others; the rest of the lot goes on.
TEST_F(LotTest, IdsSharingAFileNameAreRefusedByName) {
  fs::create_directories(dir_ / "sub");
  Image("x.png");
  Image("sub/x.png");
  Image("X.tif");  // one file name with x on case-insensitive storage
  Image("ok.png");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->documents.size(), 4u);
  int refused = 0;
  for (const DocumentPlan& d : plan->documents) refused += d.errors.empty() ? 0 : 1;
  EXPECT_EQ(refused, 3);
  const std::string all = AllProblems(*plan);
  for (const char* name : {"sub/x.png", "X.tif", "x.png", "ids must be unique"}) {
    EXPECT_NE(all.find(name), std::string::npos) << name << "\n" << all;
  }
}

TEST_F(LotTest, AManifestIdMeetingAnUnlistedFileIsRefused) {
  Image("p1.png");
  Image("p2.png");
  Text("manifest.csv", "document_id,document_type,title,files\np2,certidao,Certidao,p1.png\n");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->documents.size(), 2u);
  EXPECT_FALSE(plan->documents[0].errors.empty());
  EXPECT_FALSE(plan->documents[1].errors.empty());
  EXPECT_NE(AllProblems(*plan).find("manifest.csv line 2"), std::string::npos) << AllProblems(*plan);
}

// Items 4 and 17: links are never followed, loops never stop the plan,
// what is not a file is named.
TEST_F(LotTest, LinksAndSpecialFilesAreNamedNeverFollowed) {
  const fs::path outside = dir_.parent_path() / (dir_.filename().string() + "-outside");
  fs::create_directories(outside);
  cv::imwrite((outside / "secret.png").string(), cv::Mat(40, 30, CV_8UC1, cv::Scalar(255)));
  fs::create_symlink(outside / "secret.png", dir_ / "link.png");
  fs::create_directory_symlink(outside, dir_ / "folder-link");
  fs::create_symlink(dir_ / "loop.png", dir_ / "loop.png");
  fs::create_symlink(dir_ / "gone.png", dir_ / "dangling.png");
  ASSERT_EQ(::mkfifo((dir_ / "fifo.png").c_str(), 0644), 0);
  Image("good.png");
  Result<LotPlan> plan = PlanLot(dir_);
  fs::remove_all(outside);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->files.size(), 1u);
  EXPECT_EQ(plan->files[0].name, "good.png");
  const std::string all = AllProblems(*plan);
  for (const char* name : {"link.png: is a symbolic link", "folder-link: is a symbolic link",
                           "loop.png: is a symbolic link", "dangling.png: is a symbolic link", "fifo.png: is a FIFO"}) {
    EXPECT_NE(all.find(name), std::string::npos) << name << "\n" << all;
  }
  // A hot folder's single file (acervo watch) is never read through a link.
  Result<LotPlan> only = PlanLot(dir_, PlanOptions{"", "link.png"});
  ASSERT_TRUE(only.ok()) << only.status().ToString();
  ASSERT_EQ(only->files.size(), 1u);
  EXPECT_FALSE(only->files[0].status.ok());
}

// Item 17: manifest entries are read exactly as written.
TEST_F(LotTest, ManifestPageNumbersAreStrict) {
  Image("p1.png");
  Image("p2.png");
  Text("manifest.csv", "document_id,document_type,title,files\n"
                       "a,oficio,A,p1.png#1abc\nb,oficio,B,p1.png#0\nc,oficio,C,p1.png#99999999999\n"
                       "d,oficio,D,p1.png#1\ne,oficio,E,p2.png;p1.png#1\n");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const std::string all = AllProblems(*plan);
  for (const char* e : {"'p1.png#1abc': the page after '#' must be a whole number from 1",
                        "'p1.png#0': the page after '#' must be a whole number from 1",
                        "'p1.png#99999999999': the page after '#' must be a whole number from 1"}) {
    EXPECT_NE(all.find(e), std::string::npos) << e << "\n" << all;
  }
  EXPECT_EQ(all.find("#-1"), std::string::npos) << all;
  EXPECT_NE(AllWarnings(*plan).find("page 1 of p1.png is listed again (first in manifest.csv line 5)"),
            std::string::npos)
      << AllWarnings(*plan);
}

TEST_F(LotTest, AManifestWithAnotherSeparatorIsNamedSo) {
  Image("p1.png");
  Text("manifest.csv", "document_id;document_type;title;files\na;oficio;A;p1.png\n");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("separated by ';'"), std::string::npos) << plan.status().ToString();
}

// Items 9 and 13: ids are plain text and fit a file name; other texts are
// cleaned with a warning.
TEST_F(LotTest, IdsMustBePlainTextAndFitAFileName) {
  Image("a.png");
  Image("b.png");
  Image("c.png");
  Text("manifest.csv", "document_id,document_type,title,files\n" + std::string("ab\0cd", 5) +
                           ",oficio,Nulo,a.png\nok,oficio,\"Linha um\x0bLinha dois\",b.png\n" +
                           std::string(201, 'x') + ",oficio,Longo,c.png\n");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->documents.size(), 3u);
  EXPECT_FALSE(plan->documents[0].errors.empty());
  EXPECT_TRUE(plan->documents[1].errors.empty());
  EXPECT_EQ(plan->documents[1].title, "Linha um Linha dois");
  EXPECT_FALSE(plan->documents[2].errors.empty());
  const std::string all = AllProblems(*plan);
  EXPECT_NE(all.find("control character U+0000"), std::string::npos) << all;
  EXPECT_NE(all.find("too long: its file name would be 201 bytes, at most 200"), std::string::npos) << all;
  EXPECT_NE(AllWarnings(*plan).find("control character U+000B"), std::string::npos) << AllWarnings(*plan);
}

// Item 17: an empty lot is an error, not a quiet success.
TEST_F(LotTest, ALotWithoutPageImagesIsAProblem) {
  Text("notes.txt", "x");
  Text("scan.bmp", "BM");
  Result<LotPlan> plan = PlanLot(dir_);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const std::string all = AllProblems(*plan);
  EXPECT_NE(all.find("scan.bmp"), std::string::npos) << all;  // an image format we do not read
  fs::remove(dir_ / "scan.bmp");
  plan = PlanLot(dir_);
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(AllProblems(*plan).find("no page images"), std::string::npos) << AllProblems(*plan);
}

}  // namespace
}  // namespace acervo
