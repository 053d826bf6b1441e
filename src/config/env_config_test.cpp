#include "config/env_config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace corral::config {
namespace {

struct HostCase {
  const char* raw;
  const char* want_url;
};

// Expected values worked out from Ollama's envconfig.Host rules (ollama-api.md §9).
TEST(ParseHostTest, FollowsOllamaRules) {
  const HostCase cases[] = {
      {"", "http://127.0.0.1:11434"},
      {"1.2.3.4", "http://1.2.3.4:11434"},
      {":1234", "http://:1234"},
      {"1.2.3.4:1234", "http://1.2.3.4:1234"},
      {"example.com", "http://example.com:11434"},
      {"example.com:1234", "http://example.com:1234"},
      {"http://example.com", "http://example.com:80"},
      {"https://example.com", "https://example.com:443"},
      {"https://example.com/ollama", "https://example.com:443/ollama"},
      {"ollama.com", "https://ollama.com:443"},
      {"[::1]", "http://[::1]:11434"},
      {"::1", "http://[::1]:11434"},
      {"[::1]:1234", "http://[::1]:1234"},
      {"0.0.0.0", "http://0.0.0.0:11434"},
      {"  \"127.0.0.1:5000\"  ", "http://127.0.0.1:5000"},
      {"127.0.0.1:99999", "http://127.0.0.1:11434"},
      {"127.0.0.1:-1", "http://127.0.0.1:11434"},
      {"127.0.0.1:abc", "http://127.0.0.1:11434"},
      {"http://127.0.0.1:abc", "http://127.0.0.1:80"},
  };
  for (const HostCase& c : cases) {
    EXPECT_EQ(ParseHost(c.raw).Url(), c.want_url) << "OLLAMA_HOST=" << c.raw;
  }
}

TEST(ParseHostTest, Parts) {
  HostAddress a = ParseHost("https://example.com:8443/base");
  EXPECT_EQ(a.scheme, "https");
  EXPECT_EQ(a.host, "example.com");
  EXPECT_EQ(a.port, 8443);
  EXPECT_EQ(a.path, "base");
  EXPECT_EQ(a.HostPort(), "example.com:8443");
}

TEST(EnvTest, VarTrimsSpacesAndQuotes) {
  setenv("CORRAL_TEST_VAR", "  'quoted value'  ", 1);
  EXPECT_EQ(Var("CORRAL_TEST_VAR"), "quoted value");
  unsetenv("CORRAL_TEST_VAR");
  EXPECT_EQ(Var("CORRAL_TEST_VAR"), "");
}

TEST(EnvTest, HostReadsTheEnvironment) {
  setenv("OLLAMA_HOST", "127.0.0.1:4321", 1);
  EXPECT_EQ(Host().port, 4321);
  unsetenv("OLLAMA_HOST");
  EXPECT_EQ(Host().Url(), "http://127.0.0.1:11434");
}

TEST(EnvTest, ParseBoolLikeOllama) {
  EXPECT_FALSE(ParseBool(""));
  EXPECT_FALSE(ParseBool("0"));
  EXPECT_FALSE(ParseBool("false"));
  EXPECT_FALSE(ParseBool("FALSE"));
  EXPECT_TRUE(ParseBool("1"));
  EXPECT_TRUE(ParseBool("true"));
  EXPECT_TRUE(ParseBool("yes"));  // not a Go bool, but non-empty counts as true
}

TEST(EnvTest, DebugLevel) {
  EXPECT_EQ(ParseDebugLevel(""), LogLevel::kInfo);
  EXPECT_EQ(ParseDebugLevel("0"), LogLevel::kInfo);
  EXPECT_EQ(ParseDebugLevel("false"), LogLevel::kInfo);
  EXPECT_EQ(ParseDebugLevel("1"), LogLevel::kDebug);
  EXPECT_EQ(ParseDebugLevel("true"), LogLevel::kDebug);
  EXPECT_EQ(ParseDebugLevel("2"), LogLevel::kTrace);
}

}  // namespace
TEST(GoDurationTest, ParsesGoSyntaxAndRefusesBareNumbers) {
  EXPECT_EQ(ParseGoDuration("0"), 0);
  EXPECT_EQ(ParseGoDuration("5m"), 300'000'000'000LL);
  EXPECT_EQ(ParseGoDuration("1h30m"), 5400'000'000'000LL);
  EXPECT_EQ(ParseGoDuration("300ms"), 300'000'000LL);
  EXPECT_EQ(ParseGoDuration("1.5s"), 1'500'000'000LL);
  EXPECT_EQ(ParseGoDuration("-1m"), -60'000'000'000LL);
  EXPECT_EQ(ParseGoDuration("2us"), 2000);
  EXPECT_EQ(ParseGoDuration("2\xC2\xB5s"), 2000);
  EXPECT_EQ(ParseGoDuration("3600"), std::nullopt) << "missing unit";
  EXPECT_EQ(ParseGoDuration("-1"), std::nullopt);
  EXPECT_EQ(ParseGoDuration(""), std::nullopt);
  EXPECT_EQ(ParseGoDuration("5d"), std::nullopt);
  EXPECT_EQ(ParseGoDuration("m"), std::nullopt);
  EXPECT_EQ(ParseGoDuration("99999999999h"), std::nullopt) << "past int64 nanoseconds";
}

TEST(EnvTest, KeepAliveAndSchedulerLimits) {
  unsetenv("OLLAMA_KEEP_ALIVE");
  EXPECT_EQ(KeepAliveNanos(), 300'000'000'000LL);
  setenv("OLLAMA_KEEP_ALIVE", "10m", 1);
  EXPECT_EQ(KeepAliveNanos(), 600'000'000'000LL);
  setenv("OLLAMA_KEEP_ALIVE", "3600", 1);  // integer seconds are accepted here
  EXPECT_EQ(KeepAliveNanos(), 3600'000'000'000LL);
  setenv("OLLAMA_KEEP_ALIVE", "-1", 1);
  EXPECT_EQ(KeepAliveNanos(), INT64_MAX);
  setenv("OLLAMA_KEEP_ALIVE", "soon", 1);
  EXPECT_EQ(KeepAliveNanos(), 300'000'000'000LL);
  unsetenv("OLLAMA_KEEP_ALIVE");

  unsetenv("OLLAMA_NUM_PARALLEL");
  EXPECT_EQ(NumParallel(), 1);
  setenv("OLLAMA_NUM_PARALLEL", "4", 1);
  EXPECT_EQ(NumParallel(), 4);
  setenv("OLLAMA_NUM_PARALLEL", "-2", 1);
  EXPECT_EQ(NumParallel(), 1);
  unsetenv("OLLAMA_NUM_PARALLEL");
  setenv("OLLAMA_MAX_QUEUE", "8", 1);
  EXPECT_EQ(MaxQueue(), 8);
  setenv("OLLAMA_MAX_QUEUE", "x", 1);
  EXPECT_EQ(MaxQueue(), 512);
  unsetenv("OLLAMA_MAX_QUEUE");
}

}  // namespace corral::config
