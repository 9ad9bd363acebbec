#include "acervo/core/status.h"

#include <gtest/gtest.h>

namespace acervo {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ACERVO_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ToStringAndContext) {
  Status s = Status::Corrupt("bad strip").WithContext("a.tif page 2");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_EQ(s.ToString(), "Corrupt: a.tif page 2: bad strip");
  EXPECT_TRUE(Status::OK().WithContext("x").ok());
}

TEST(ResultTest, PropagatesValuesAndErrors) {
  struct Case { int in; bool ok; int out; };
  for (const Case& c : {Case{8, true, 2}, Case{6, false, 0}, Case{3, false, 0}}) {
    Result<int> r = Quarter(c.in);
    EXPECT_EQ(r.ok(), c.ok) << c.in;
    if (c.ok) EXPECT_EQ(*r, c.out);
    else EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ResultTest, OkStatusIsTurnedIntoInternalError) {
  Result<int> r{Status::OK()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace acervo
