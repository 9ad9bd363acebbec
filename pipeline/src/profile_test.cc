#include "acervo/pipeline/profile.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

TEST(ProfileTest, ParsesAllSections) {
  const char* text = R"(
[lot]
id = "lote-7"
project = "Arquivo Municipal"
box = "CX-12"
operator = "Ana"

[image]
deskew = false

[ocr]
languages = "por"
min_confidence = 70

[pdf]
jpeg_quality = 60

[[fields]]
name = "processo"
type = "process_number"
required = true

[[fields]]
name = "tipo"
type = "enum"
allowed = ["a", "b"]
)";
  Result<LotProfile> p = ParseProfile(text, "profile.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->lot_id, "lote-7");
  EXPECT_EQ(p->operator_name, "Ana");
  EXPECT_FALSE(p->deskew);
  EXPECT_TRUE(p->orientation);
  EXPECT_EQ(p->languages, "por");
  EXPECT_EQ(p->min_confidence, 70);
  EXPECT_EQ(p->jpeg_quality, 60);
  ASSERT_EQ(p->fields.size(), 2u);
  EXPECT_TRUE(p->fields[0].required);
  EXPECT_EQ(p->fields[0].label, "processo");
  EXPECT_EQ(p->fields[1].allowed, (std::vector<std::string>{"a", "b"}));
}

TEST(ProfileTest, BadProfilesAreRefusedWithLineAndReason) {
  struct Case { std::string text; std::string want; };
  std::vector<Case> cases = {
      {"[image]\ndeskw = false\n", "line 2: unknown key 'deskw'"},
      {"[ocr]\nmin_confidence = 300\n", "line 2: 'min_confidence' must be between"},
      {"[image]\ndeskew = \"yes\"\n", "line 2: 'deskew' must be true or false"},
      {"[lot\nid = 1\n", "line 1"},
      {"[[fields]]\nname = \"x\"\ntype = \"money\"\n", "unknown type 'money'"},
      {"[[fields]]\nname = \"t\"\ntype = \"enum\"\n", "needs 'allowed'"},
      {"[[fields]]\nname = \"a\"\n[[fields]]\nname = \"a\"\n", "defined twice"},
      {"[lot]\nid = \"../x\"\n", "lot id must not contain"},
      {"color = 1\n", "unknown key 'color'"},
  };
  for (const Case& c : cases) {
    Result<LotProfile> p = ParseProfile(c.text, "profile.toml");
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(c.want), std::string::npos) << p.status().ToString();
    EXPECT_EQ(p.status().message().rfind("profile.toml", 0), 0u) << p.status().ToString();
  }
}

}  // namespace
}  // namespace acervo
