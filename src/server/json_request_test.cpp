// Go-compatible JSON decoding messages, field typing, quoting and time formatting.
#include "server/json_request.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

namespace corral::server {
namespace {

TEST(GoJsonSyntaxErrorTest, EncodingJsonMessages) {
  EXPECT_EQ(GoJsonSyntaxError(""), "EOF");
  EXPECT_EQ(GoJsonSyntaxError(" \n\t"), "EOF");
  EXPECT_EQ(GoJsonSyntaxError("{}"), "");
  EXPECT_EQ(GoJsonSyntaxError(R"({"a":[1,-2.5e+3,true,null,"x\u00e9\n"]} junk)"), "");
  EXPECT_EQ(GoJsonSyntaxError("{"), "unexpected EOF");
  EXPECT_EQ(GoJsonSyntaxError(R"({"a":)"), "unexpected EOF");
  EXPECT_EQ(GoJsonSyntaxError(R"({"a)"), "unexpected EOF");
  EXPECT_EQ(GoJsonSyntaxError("x"), "invalid character 'x' looking for beginning of value");
  EXPECT_EQ(GoJsonSyntaxError("{'a':1}"),
            "invalid character '\\'' looking for beginning of object key string");
  EXPECT_EQ(GoJsonSyntaxError(R"({"a" 1})"), "invalid character '1' after object key");
  EXPECT_EQ(GoJsonSyntaxError(R"({"a":1 "b":2})"),
            "invalid character '\"' after object key:value pair");
  EXPECT_EQ(GoJsonSyntaxError("[1 2]"), "invalid character '2' after array element");
  EXPECT_EQ(GoJsonSyntaxError("[1,]"), "invalid character ']' looking for beginning of value");
  EXPECT_EQ(GoJsonSyntaxError(R"({"a":1,})"),
            "invalid character '}' looking for beginning of object key string");
  EXPECT_EQ(GoJsonSyntaxError("tru"), "unexpected EOF");
  EXPECT_EQ(GoJsonSyntaxError("trUe"), "invalid character 'U' in literal true (expecting 'u')");
  EXPECT_EQ(GoJsonSyntaxError("01"), "");  // Go's decoder stops after the value 0
  EXPECT_EQ(GoJsonSyntaxError("-x"), "invalid character 'x' in numeric literal");
  EXPECT_EQ(GoJsonSyntaxError("1.x"),
            "invalid character 'x' after decimal point in numeric literal");
  EXPECT_EQ(GoJsonSyntaxError("1ex"), "invalid character 'x' in exponent of numeric literal");
  EXPECT_EQ(GoJsonSyntaxError("\"a\nb\""), "invalid character '\\n' in string literal");
  EXPECT_EQ(GoJsonSyntaxError(R"("\q")"), "invalid character 'q' in string escape code");
  EXPECT_EQ(GoJsonSyntaxError(R"("\u12x4")"),
            "invalid character 'x' in \\u hexadecimal character escape");
  EXPECT_EQ(GoJsonSyntaxError(std::string(20000, '[')), "exceeded max depth");
  EXPECT_EQ(GoJsonSyntaxError(std::string(9000, '[') + std::string(9000, ']')), "");
}

TEST(JsonFieldsTest, TypesAndCaseInsensitiveKeys) {
  nlohmann::json j = nlohmann::json::parse(
      R"({"MODEL":"m","verbose":true,"options":{"a":1},"system":null,"n":3})");
  JsonFields f(j, "ShowRequest");
  std::string model, system = "keep";
  bool verbose = false;
  nlohmann::json options;
  EXPECT_TRUE(f.GetString("model", &model).ok());
  EXPECT_EQ(model, "m");
  EXPECT_TRUE(f.GetString("system", &system).ok());
  EXPECT_EQ(system, "keep");  // null leaves the default
  EXPECT_TRUE(f.GetBool("verbose", &verbose).ok());
  EXPECT_TRUE(verbose);
  EXPECT_TRUE(f.GetObject("options", &options).ok());
  EXPECT_EQ(options["a"], 1);
  Status s = f.GetString("n", &model);
  EXPECT_EQ(s.message(),
            "json: cannot unmarshal number into Go struct field ShowRequest.n of type string");
  EXPECT_EQ(f.GetBool("model", &verbose).message(),
            "json: cannot unmarshal string into Go struct field ShowRequest.model of type bool");
}

TEST(GoQuoteTest, QuotesLikePercentQ) {
  EXPECT_EQ(GoQuote("abc"), "\"abc\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote(std::string("a\nb\x01", 4)), "\"a\\nb\\x01\"");
}

class TimeZoneTest : public ::testing::Test {
 protected:
  void SetTz(const char* tz) {
    setenv("TZ", tz, 1);
    tzset();
  }
  void TearDown() override {
    if (saved_) {
      setenv("TZ", saved_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  std::optional<std::string> saved_ =
      getenv("TZ") ? std::optional<std::string>(getenv("TZ")) : std::nullopt;
};

TEST_F(TimeZoneTest, FormatLocalTimeIsGoRfc3339Nano) {
  using std::chrono::nanoseconds;
  std::chrono::system_clock::time_point t(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          nanoseconds(1726113243516566000LL)));
  SetTz("UTC0");
  EXPECT_EQ(FormatLocalTime(t), "2024-09-12T03:54:03.516566Z");
  SetTz("XYZ-5:30");  // POSIX: 5h30 east of UTC
  EXPECT_EQ(FormatLocalTime(t), "2024-09-12T09:24:03.516566+05:30");
  SetTz("ABC7");
  std::chrono::system_clock::time_point whole(std::chrono::seconds(1726113243));
  EXPECT_EQ(FormatLocalTime(whole), "2024-09-11T20:54:03-07:00");
}

// Ollama's "forever" (now + math.MaxInt64 ns) lies past 2262, where a time_point ends.
TEST_F(TimeZoneTest, FormatLocalTimeGoesPastTimePointRange) {
  SetTz("UTC0");
  EXPECT_EQ(FormatLocalTime(9223372036, 854775807), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(FormatLocalTime(1726113243 + 9223372036, 516566000 + 854775807),
            "2316-12-23T03:41:20.371341807Z");
  EXPECT_EQ(FormatLocalTime(10, -1), "1970-01-01T00:00:09.999999999Z");
}

}  // namespace
}  // namespace corral::server
