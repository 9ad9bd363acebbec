#include "acervo/pipeline/review.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace acervo {
namespace {

ReviewItem Item(std::string doc, int page, std::string kind, std::string subject = "") {
  ReviewItem i;
  i.lot_id = "L";
  i.document_id = std::move(doc);
  i.page = page;
  i.kind = std::move(kind);
  i.subject = std::move(subject);
  return i;
}

TEST(ReviewTest, PageFlagsBecomeReasonsAndCorrectedSkewIsOnlyANote) {
  PageRecord p;
  p.number = 3;
  p.mean_confidence = 41;
  p.orientation_deg = 180;
  p.flags = {"big_skew", "low_confidence", "orientation_fixed", "blank"};
  std::vector<ReviewItem> items = PageReviewItems(p);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, "low_confidence");
  EXPECT_EQ(items[0].page, 3);
  EXPECT_EQ(items[1].kind, "orientation_changed");
  EXPECT_NE(items[1].detail.find("180"), std::string::npos);
  p.flags = {"big_skew", "deskew_deadline", "ocr_deadline"};
  items = PageReviewItems(p);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, "ocr_deadline");
  EXPECT_EQ(items[1].kind, "skew_uncorrected");
}

TEST(ReviewTest, CountsDocumentsPagesInputsAndReasonsOnce) {
  std::vector<ReviewItem> items = {Item("a", 0, "invalid_field", "cpf"), Item("a", 0, "invalid_field", "data"),
                                   Item("a", 2, "low_confidence"),       Item("a", 2, "orientation_changed"),
                                   Item("b", 1, "low_confidence"),       Item("", 0, "quarantined", "x.tif"),
                                   Item("c", 0, "not_produced")};
  items.push_back(Item("d", 0, "unknown_type"));
  items.back().state = "accepted";  // settled: counted nowhere
  ReviewCounts c = CountReview(items);
  EXPECT_EQ(c.items, 7);
  EXPECT_EQ(c.documents, 3);
  EXPECT_EQ(c.pages, 2);
  EXPECT_EQ(c.inputs, 1);
  EXPECT_EQ(c.by_reason["invalid_field"], 2);
  EXPECT_EQ(c.by_reason["low_confidence"], 2);
  EXPECT_EQ(c.by_reason.count("unknown_type"), 0u);
  const nlohmann::json j = ReviewJson(items);
  EXPECT_EQ(j["open"], 7);
  EXPECT_EQ(j["items"].size(), 7u);
  EXPECT_EQ(j["items"][0]["label_pt"], "Campo inválido: cpf");
  EXPECT_EQ(j["items"][0]["label_en"], "Invalid field: cpf");
  const std::string text = ReviewSummaryText(items, true, 100);
  EXPECT_NE(text.find("To review: 3 documents, 2 pages, 1 input file (7 reasons)"), std::string::npos) << text;
  EXPECT_NE(ReviewSummaryText(items, false, 100).find("Para revisar: 3 documentos"), std::string::npos);
  EXPECT_EQ(ReviewSummaryText({}, true, 10), "");
}

}  // namespace
}  // namespace acervo
