#include "acervo/pipeline/review.h"

#include "acervo/pipeline/batch.h"

#include "acervo/core/review_reason.h"

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
  // A page with ink of which OCR read nothing needs a person, even when its
  // large skew was "corrected" (a skew measured wrong is one way to get there).
  p.flags = {"big_skew", "no_text"};
  items = PageReviewItems(p);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, "no_text");
  ASSERT_NE(FindReviewReason("no_text"), nullptr);
  EXPECT_TRUE(FindReviewReason("no_text")->page);
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

namespace acervo {
namespace {

// Issue 14: a morning report's link to a page opens the page's place in the
// PDF, not its number in the document (blank pages before it are not in
// the PDF); a page not in the PDF opens the PDF at its start.
TEST(ReviewTest, MorningReportLinksToThePdfPageNotThePageNumber) {
  std::vector<ReviewItem> items = {Item("d", 3, "rescan"), Item("d", 2, "low_confidence")};
  const PdfPageMap pdf_pages = {{{"L", "d", 1}, 1}, {{"L", "d", 2}, 0}, {{"L", "d", 3}, 2}};
  const nlohmann::json lot_review = ReviewJson(items, &pdf_pages);
  ASSERT_EQ(lot_review["items"].size(), 2u);
  EXPECT_EQ(lot_review["items"][0]["pdf_page"], 2);
  EXPECT_EQ(lot_review["items"][1]["pdf_page"], 0);
  EXPECT_FALSE(ReviewJson(items)["items"][0].contains("pdf_page"));

  nlohmann::json lot_report = {{"lot", "L"},
                               {"documents", {{"list", {{{"id", "d"}, {"pdf", "/out/L/d.pdf"}}}}}},
                               {"review", lot_review}};
  BatchReport batch;
  BatchLot lot;
  lot.folder = "L";
  lot.state = BatchLot::State::kDone;
  lot.report_json = lot_report.dump();
  batch.lots.push_back(lot);
  const std::string html = batch.ToHtml();
  EXPECT_NE(html.find("d.pdf#page=2\""), std::string::npos) << html;
  EXPECT_EQ(html.find("d.pdf#page=3\""), std::string::npos) << html;
  EXPECT_NE(html.find("d.pdf\">PDF"), std::string::npos);  // the blank page: the PDF, no page
  const nlohmann::json j = nlohmann::json::parse(batch.ToJson());
  EXPECT_EQ(j["review"]["items"][0]["pdf_page"], 2) << j["review"].dump();
}

}  // namespace
}  // namespace acervo
