#include "acervo/pipeline/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "acervo/core/files.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("acervo-journal-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

JournalPageSummary Done(const std::string& doc, int n, const std::string& sha, const std::string& sig) {
  JournalPageSummary s;
  s.id = {doc, n, doc + ".tif", n, sha};
  s.signature = sig;
  s.checkpoint = "checkpoints/" + doc + "/" + std::to_string(n) + ".page";
  s.flags = {"big_skew"};
  s.skew_deg = 6.5;
  return s;
}

TEST_F(JournalTest, RecordsSurviveReopenAndATornTailIsCut) {
  fs::path path = dir_ / "journal.jsonl";
  {
    Result<std::unique_ptr<Journal>> j = Journal::Open(path);
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    ASSERT_TRUE((*j)->RecordStage({"a", 1, "a.tif", 1, "s1"}, "deskew", 2).ok());
    ASSERT_TRUE((*j)->RecordPageDone(Done("a", 1, "s1", "sig")).ok());
    ASSERT_TRUE((*j)->RecordStage({"a", 2, "a.tif", 2, "s1"}, "ocr", 3).ok());
    ASSERT_TRUE((*j)->RecordQuarantine({"bad.png", 0, "Corrupt: bad.png: empty file"}).ok());
  }
  // A crash in the middle of an append leaves half a line.
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << "{\"t\":\"page\",\"doc\":\"a\",\"n\":2,\"si";
  }
  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  std::vector<JournalPageSummary> pages = (*j)->FinishedPages();
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].flags, std::vector<std::string>{"big_skew"});
  EXPECT_DOUBLE_EQ(pages[0].skew_deg, 6.5);
  EXPECT_EQ((*j)->Interrupted(), std::vector<std::string>{"a #2: ocr@3"});
  ASSERT_EQ((*j)->Quarantined().size(), 1u);
  // The next record starts on its own line and is read back.
  ASSERT_TRUE((*j)->RecordPageDone(Done("a", 2, "s1", "sig")).ok());
  j = Journal::Open(path);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)->FinishedPages().size(), 2u);
  EXPECT_TRUE((*j)->Interrupted().empty());
}

TEST_F(JournalTest, CheckpointIsReusedOnlyForTheSameMasterPageAndChain) {
  Result<std::unique_ptr<Journal>> j = Journal::Open(dir_ / "journal.jsonl");
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->RecordPageDone(Done("doc", 1, "sha-1", "orientation@1|ocr@2")).ok());
  struct Case {
    JournalPageId id;
    std::string signature;
    bool reused;
  };
  for (const Case& c : {Case{{"doc", 1, "doc.tif", 1, "sha-1"}, "orientation@1|ocr@2", true},
                        Case{{"doc", 1, "doc.tif", 1, "sha-2"}, "orientation@1|ocr@2", false},
                        Case{{"doc", 1, "doc.tif", 1, "sha-1"}, "orientation@1|ocr@3", false},
                        Case{{"doc", 1, "doc.tif", 2, "sha-1"}, "orientation@1|ocr@2", false},
                        Case{{"doc", 2, "doc.tif", 1, "sha-1"}, "orientation@1|ocr@2", false},
                        Case{{"other", 1, "doc.tif", 1, "sha-1"}, "orientation@1|ocr@2", false}}) {
    EXPECT_EQ((*j)->FindPageDone(c.id, c.signature).has_value(), c.reused)
        << c.id.document_id << " " << c.id.number << " " << c.id.master_sha256 << " " << c.signature;
  }
}

// The halves of a split spread are two journal pages of one master page:
// each is found, counted and reported on its own, and neither stands in for
// the whole page (or the other half).
TEST_F(JournalTest, HalvesOfASpreadAreSeparatePages) {
  const fs::path path = dir_ / "journal.jsonl";
  JournalPageSummary left = Done("livro", 3, "s1", "sig");
  left.id.part = PageOrigin::Part::kLeft;
  left.checkpoint = "checkpoints/livro/3-left.page";
  {
    Result<std::unique_ptr<Journal>> j = Journal::Open(path);
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->RecordPageDone(left).ok());
    JournalPageId right_id = left.id;
    right_id.part = PageOrigin::Part::kRight;
    ASSERT_TRUE((*j)->RecordStage(right_id, "ocr", 3).ok());
  }
  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_TRUE(j.ok());
  JournalPageId id{"livro", 3, "livro.tif", 3, "s1"};
  EXPECT_FALSE((*j)->FindPageDone(id, "sig").has_value());  // whole
  id.part = PageOrigin::Part::kRight;
  EXPECT_FALSE((*j)->FindPageDone(id, "sig").has_value());
  id.part = PageOrigin::Part::kLeft;
  std::optional<JournalPageSummary> found = (*j)->FindPageDone(id, "sig");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->checkpoint, "checkpoints/livro/3-left.page");
  EXPECT_EQ(found->id.part, PageOrigin::Part::kLeft);
  EXPECT_EQ((*j)->Interrupted(), std::vector<std::string>{"livro #3 right: ocr@3"});
  JournalPageSummary right = left;
  right.id.part = PageOrigin::Part::kRight;
  right.checkpoint = "checkpoints/livro/3-right.page";
  ASSERT_TRUE((*j)->RecordPageDone(right).ok());
  std::map<JournalPageKey, int> counts = (*j)->PageDoneCounts();
  EXPECT_EQ(counts, (std::map<JournalPageKey, int>{{{"livro", 3, PageOrigin::Part::kLeft}, 1},
                                                   {{"livro", 3, PageOrigin::Part::kRight}, 1}}));
  // A journal line written before splitting existed (no "part") is whole.
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << R"({"t":"page","doc":"old","n":1,"file":"old.tif","pif":1,"sha":"s2","sig":"sig","ckpt":"c"})" << "\n";
  }
  j = Journal::Open(path);
  ASSERT_TRUE(j.ok());
  EXPECT_TRUE((*j)->FindPageDone({"old", 1, "old.tif", 1, "s2"}, "sig").has_value());
}

TEST_F(JournalTest, CheckpointRoundTripsAndRefusesDamage) {
  Page p;
  p.origin = {"a.tif", 2, "/out/masters/a.tif", "abc", 7};
  p.dpi_x = p.dpi_y = 300;
  p.orientation_deg = 180;
  p.skew_deg = -1.25;
  p.color_class = ColorClass::kBw;
  p.words.push_back({"Tiradentes", cv::Rect(10, 20, 30, 40), 91.5f, 0, 58});
  p.text = "Praça Tiradentes";
  p.mean_confidence = 91.5;
  p.encoded.codec = EncodedImage::Codec::kCcittG4;
  p.encoded.bytes = {1, 2, 3, 4, 5};
  p.encoded.width = 2480;
  p.encoded.height = 3508;
  p.encoded.bits_per_component = 1;
  p.history.push_back({"ocr", 3, 812.5});
  p.flags = {"orientation_fixed"};
  p.origin.part = PageOrigin::Part::kRight;
  p.origin.master_x = 2480;
  p.origin.master_width = 2490;
  std::vector<uint8_t> bytes = EncodePageCheckpoint(p);
  Result<Page> back = DecodePageCheckpoint(bytes, "1.page");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->origin.master_path, p.origin.master_path);
  EXPECT_EQ(back->origin.part, PageOrigin::Part::kRight);
  EXPECT_EQ(back->origin.master_x, 2480);
  EXPECT_EQ(back->origin.master_width, 2490);
  EXPECT_EQ(back->orientation_deg, 180);
  EXPECT_DOUBLE_EQ(back->skew_deg, -1.25);
  EXPECT_EQ(back->color_class, ColorClass::kBw);
  ASSERT_EQ(back->words.size(), 1u);
  EXPECT_EQ(back->words[0].box, cv::Rect(10, 20, 30, 40));
  EXPECT_EQ(back->words[0].baseline, 58);
  EXPECT_EQ(back->text, p.text);
  EXPECT_EQ(back->encoded.bytes, p.encoded.bytes);
  EXPECT_EQ(back->encoded.codec, EncodedImage::Codec::kCcittG4);
  EXPECT_EQ(back->history.size(), 1u);
  EXPECT_EQ(back->flags, p.flags);

  std::vector<uint8_t> truncated(bytes.begin(), bytes.end() - 2);
  std::vector<uint8_t> flipped = bytes;
  flipped.back() ^= 0xFF;
  std::vector<uint8_t> garbage = {'n', 'o', 'p', 'e'};
  for (const std::vector<uint8_t>* bad : {&truncated, &flipped, &garbage}) {
    Result<Page> r = DecodePageCheckpoint(*bad, "1.page");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("1.page"), std::string::npos);
  }
}

TEST_F(JournalTest, TempFilesAreRemovedAtAnyDepthAndFingerprintSeesChanges) {
  fs::create_directories(dir_ / "lot" / "masters" / "sub");
  ASSERT_TRUE(WriteFileAtomic(dir_ / "lot" / "a.png", std::string_view("a")).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ / "lot" / "masters" / "sub" / ".tmp-x-1", std::string_view("partial")).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ / "lot" / ".tmp-y-2", std::string_view("partial")).ok());
  Result<int> removed = RemoveTempFilesRecursive(dir_ / "lot");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2);
  EXPECT_TRUE(fs::exists(dir_ / "lot" / "a.png"));

  Result<std::string> before = LotFingerprint(dir_ / "lot");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*LotFingerprint(dir_ / "lot"), *before);
  ASSERT_TRUE(WriteFileAtomic(dir_ / "lot" / "b.png", std::string_view("b")).ok());
  EXPECT_NE(*LotFingerprint(dir_ / "lot"), *before);
}


// Issue 12: two writers of one journal (a second process that should have
// been refused, an editor) never splice a record into another: every write
// lands at the end (O_APPEND).
TEST_F(JournalTest, TwoWritersNeverSpliceRecords) {
  fs::path path = dir_ / "journal.jsonl";
  Result<std::unique_ptr<Journal>> a = Journal::Open(path);
  Result<std::unique_ptr<Journal>> b = Journal::Open(path);
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE((*a)->RecordPageDone(Done("a", i, "s1", "sig")).ok());
    ASSERT_TRUE((*b)->RecordPageDone(Done("b", i, "s1", "sig")).ok());
  }
  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)->FinishedPages().size(), 100u) << "records lost to overwrites";
}

// Issue 12: a page quarantined once and finished later (the input fixed
// and the lot rerun) is no longer listed as quarantined.
TEST_F(JournalTest, AQuarantineFixedLaterIsNoLongerListed) {
  fs::path path = dir_ / "journal.jsonl";
  Result<std::unique_ptr<Journal>> j = Journal::Open(path);
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->RecordQuarantine({"a.tif", 1, "Corrupt: damaged"}).ok());
  ASSERT_TRUE((*j)->RecordQuarantine({"b.tif", 0, "Corrupt: empty file"}).ok());
  ASSERT_TRUE((*j)->RecordQuarantine({"c.tif", 2, "Corrupt: damaged"}).ok());
  ASSERT_TRUE((*j)->RecordPageDone(Done("a", 1, "s2", "sig")).ok());  // a.tif page 1, later
  ASSERT_TRUE((*j)->RecordPageDone(Done("b", 3, "s2", "sig")).ok());  // b.tif page 3: the file is fine now
  std::vector<JournalQuarantine> q = (*j)->Quarantined();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].file, "c.tif");
  // Quarantined again after that: listed again.
  ASSERT_TRUE((*j)->RecordQuarantine({"a.tif", 1, "Corrupt: damaged"}).ok());
  j = Journal::Open(path);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)->Quarantined().size(), 2u);
}

}  // namespace
}  // namespace acervo
