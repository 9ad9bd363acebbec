#include "acervo/pipeline/metadata.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace acervo {
namespace {

LotProfile Profile() {
  Result<LotProfile> p = ParseProfile(R"(
[metadata]
sources = ["manifest", "separator", "ocr"]

[[types]]
name = "certidao"

[[fields]]
name = "cpf"
type = "cpf"
required = true
extract = 'CPF[:\s]*([0-9.\-]{11,14})'

[[fields]]
name = "processo"
type = "process_number"
extract = '(\d{7}-\d{2}\.\d{4}\.\d\.\d{2}\.\d{4})'

[[fields]]
name = "nome"
required = true
)", "profile.toml");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : LotProfile{};
}

const FieldRecord* Find(const ResolvedMetadata& m, const std::string& name) {
  auto it = std::find_if(m.fields.begin(), m.fields.end(), [&](const FieldRecord& r) { return r.name == name; });
  return it == m.fields.end() ? nullptr : &*it;
}

bool HasFlag(const ResolvedMetadata& m, const std::string& f) {
  return std::find(m.flags.begin(), m.flags.end(), f) != m.flags.end();
}

TEST(MetadataTest, ExtractsOnlyValidValuesAndRecordsSources) {
  DocumentPlan doc;
  doc.type = "certidao";
  doc.fields = {{"nome", "Maria"}};
  doc.field_sources["nome"] = "manifest.csv line 2";
  // The first CPF in the text has wrong check digits: not taken.
  ResolvedMetadata m = ResolveMetadata(
      Profile(), doc,
      {"Certidão\nCPF: 529.982.247-26 (rasurado)", "", "Requerente CPF 529.982.247-25\nprocesso 0000001-78.2020.8.26.0100"});
  ASSERT_NE(Find(m, "cpf"), nullptr);
  EXPECT_EQ(Find(m, "cpf")->value, "529.982.247-25");
  EXPECT_EQ(Find(m, "cpf")->source, "ocr page 3");
  ASSERT_NE(Find(m, "processo"), nullptr);
  EXPECT_EQ(Find(m, "processo")->source, "ocr page 3");
  EXPECT_EQ(Find(m, "nome")->source, "manifest.csv line 2");
  EXPECT_TRUE(m.flags.empty()) << m.flags[0];
}

TEST(MetadataTest, ManifestBeatsOcrButInvalidValuesAreKeptAndFlagged) {
  DocumentPlan doc;
  doc.type = "oficio";  // not a declared type
  doc.fields = {{"cpf", "111.222.333-44"}, {"livre", "x"}};
  doc.field_sources["cpf"] = "manifest.csv line 3";
  ResolvedMetadata m = ResolveMetadata(Profile(), doc, {"CPF 529.982.247-25"});
  ASSERT_NE(Find(m, "cpf"), nullptr);
  EXPECT_EQ(Find(m, "cpf")->value, "111.222.333-44");  // nothing dropped
  EXPECT_NE(Find(m, "livre"), nullptr);
  EXPECT_TRUE(HasFlag(m, "needs_review"));
  EXPECT_TRUE(HasFlag(m, "invalid_field:cpf"));
  EXPECT_TRUE(HasFlag(m, "missing_field:nome"));
  EXPECT_TRUE(HasFlag(m, "unknown_type"));
  // Issue 14: a column the profile does not declare is named too.
  EXPECT_TRUE(HasFlag(m, "unchecked_field:livre"));
  EXPECT_EQ(m.reasons.size(), 4u);
  // The same reasons as review items, one each.
  std::vector<std::string> items;
  for (const ReviewItem& i : m.items) items.push_back(i.Flag());
  std::sort(items.begin(), items.end());
  EXPECT_EQ(items, (std::vector<std::string>{"invalid_field:cpf", "missing_field:nome", "unchecked_field:livre",
                                             "unknown_type"}));
  EXPECT_EQ(m.invalid_fields, std::vector<std::string>{"cpf"});
}

TEST(MetadataTest, InvalidPlannedValuesStayOutOfThePdf) {
  DocumentPlan doc;
  doc.type = "certidao";
  doc.fields = {{"cpf", "111.222.333-44"}, {"nome", "Maria"}, {"livre", "x"}};
  EXPECT_EQ(ValidPlannedFields(Profile(), doc),
            (std::vector<std::pair<std::string, std::string>>{{"nome", "Maria"}, {"livre", "x"}}));
}

TEST(MetadataTest, SeparationNotesBecomeReviewItems) {
  DocumentPlan doc;
  doc.type = "certidao";
  doc.fields = {{"cpf", "529.982.247-25"}, {"nome", "Maria"}};
  doc.review_notes.push_back({"no_separator", 0, "pages before the first separator sheet"});
  doc.review_notes.push_back({"separator_unreadable", 2, "0002.tif: cannot be read"});
  ResolvedMetadata m = ResolveMetadata(Profile(), doc, {});
  ASSERT_EQ(m.items.size(), 2u);
  EXPECT_EQ(m.items[0].kind, "no_separator");
  EXPECT_EQ(m.items[1].kind, "separator_unreadable");
  EXPECT_EQ(m.items[1].page, 2);
  EXPECT_TRUE(HasFlag(m, "needs_review"));
}

TEST(MetadataTest, FieldReviewItemsCheckCorrectedValues) {
  std::vector<FieldRecord> fields = {{"cpf", "529.982.247-25", "correction by maria"}, {"nome", "", "x"}};
  fields.pop_back();
  std::vector<ReviewItem> items = FieldReviewItems(Profile(), "certidao", fields);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].Flag(), "missing_field:nome");
  fields.push_back({"nome", "Maria", "correction by maria"});
  EXPECT_TRUE(FieldReviewItems(Profile(), "certidao", fields).empty());
}

TEST(MetadataTest, ApplyMetadataReadsPageTextsFromTheRecord) {
  DocumentPlan doc;
  doc.type = "certidao";
  DocumentRecord rec;
  rec.pages.resize(2);
  rec.pages[0].number = 1;
  rec.pages[0].text = "nada";
  rec.pages[1].number = 2;
  rec.pages[1].text = "CPF: 52998224725";
  ApplyMetadata(Profile(), doc, &rec);
  ASSERT_EQ(rec.fields.size(), 1u);
  EXPECT_EQ(rec.fields[0].source, "ocr page 2");
  EXPECT_NE(std::find(rec.flags.begin(), rec.flags.end(), "missing_field:nome"), rec.flags.end());
}

}  // namespace
}  // namespace acervo
