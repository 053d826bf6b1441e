#include "base/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = GetLogLevel();
    SetLogSink([this](std::string_view line) { lines_.emplace_back(line); });
  }
  void TearDown() override {
    SetLogSink(nullptr);
    SetLogLevel(saved_);
  }
  std::vector<std::string> lines_;
  LogLevel saved_ = LogLevel::kInfo;
};

TEST_F(LogTest, LineHasSlogShape) {
  SetLogLevel(LogLevel::kInfo);
  LOG(kInfo) << "Listening on "
             << "127.0.0.1:11434";
  ASSERT_EQ(lines_.size(), 1u);
  const std::string& line = lines_[0];
  EXPECT_EQ(line.rfind("time=", 0), 0u) << line;
  EXPECT_NE(line.find(" level=INFO source=log_test.cpp:"), std::string::npos) << line;
  EXPECT_NE(line.find(" msg=\"Listening on 127.0.0.1:11434\""), std::string::npos) << line;
}

TEST_F(LogTest, LevelFiltersAndSkipsEvaluation) {
  SetLogLevel(LogLevel::kWarn);
  int evaluated = 0;
  auto count = [&] { return ++evaluated; };
  LOG(kInfo) << count();
  LOG(kDebug) << count();
  LOG(kError) << "boom";
  EXPECT_EQ(evaluated, 0);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("level=ERROR"), std::string::npos);
}

TEST(LogQuoteTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(LogQuote("plain"), "plain");
  EXPECT_EQ(LogQuote(""), "\"\"");
  EXPECT_EQ(LogQuote("two words"), "\"two words\"");
  EXPECT_EQ(LogQuote("a=b"), "\"a=b\"");
  EXPECT_EQ(LogQuote("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
  EXPECT_EQ(LogQuote(std::string("\x01", 1)), "\"\\x01\"");
}

}  // namespace
}  // namespace corral
