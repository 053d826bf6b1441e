#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

namespace corral {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = NotFoundError("model 'x' not found");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "model 'x' not found");
  EXPECT_EQ(s.ToString(), "NotFound: model 'x' not found");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = CorruptionError("bad magic").WithContext("reading a.gguf");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "reading a.gguf: bad magic");
  EXPECT_TRUE(Status::Ok().WithContext("ignored").ok());
}

TEST(StatusTest, ErrnoErrorNamesTheOsReason) {
  Status s = ErrnoError("open /nope", ENOENT);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "open /nope: No such file or directory");
}

Result<int> ParsePositive(int x) {
  if (x <= 0) return InvalidArgumentError("not positive: " + std::to_string(x));
  return x;
}

Result<int> DoubleIt(int x) {
  ASSIGN_OR_RETURN(int v, ParsePositive(x));
  return v * 2;
}

Status CheckBoth(int a, int b) {
  RETURN_IF_ERROR(ParsePositive(a).status());
  RETURN_IF_ERROR(ParsePositive(b).status());
  return Status::Ok();
}

TEST(ResultTest, ValueAndErrorPaths) {
  Result<int> good = DoubleIt(21);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);

  Result<int> bad = DoubleIt(-3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "not positive: -3");
}

TEST(ResultTest, ReturnIfErrorStopsAtFirstFailure) {
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_EQ(CheckBoth(1, -2).message(), "not positive: -2");
  EXPECT_EQ(CheckBoth(-1, -2).message(), "not positive: -1");
}

TEST(ResultTest, HoldsMoveOnlyTypes) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> bad = InvalidArgumentError("nope");
  EXPECT_DEATH((void)bad.value(), "value\\(\\) on an error Result: InvalidArgument: nope");
}

TEST(ResultDeathTest, OkStatusIsNotAResult) {
  EXPECT_DEATH(Result<int>{Status::Ok()}, "carries no value");
}

}  // namespace
}  // namespace corral
