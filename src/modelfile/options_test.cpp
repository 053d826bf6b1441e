#include "modelfile/options.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "base/log.h"

namespace corral::modelfile {
namespace {

using nlohmann::json;

// Current api.DefaultOptions (ollama-api.md §2).
TEST(OptionsTest, DefaultsAreOllamas) {
  const ModelOptions o = DefaultModelOptions();
  EXPECT_EQ(o.num_predict, -1);
  EXPECT_EQ(o.num_keep, 4);
  EXPECT_FLOAT_EQ(o.sampling.temperature, 0.8f);
  EXPECT_EQ(o.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(o.sampling.top_p, 0.9f);
  EXPECT_FLOAT_EQ(o.sampling.min_p, 0.0f);
  EXPECT_FLOAT_EQ(o.sampling.typical_p, 1.0f);
  EXPECT_EQ(o.sampling.repeat_last_n, 64);
  EXPECT_FLOAT_EQ(o.sampling.repeat_penalty, 1.0f);
  EXPECT_FLOAT_EQ(o.sampling.presence_penalty, 0.0f);
  EXPECT_FLOAT_EQ(o.sampling.frequency_penalty, 0.0f);
  EXPECT_EQ(o.sampling.seed, -1);
  EXPECT_EQ(o.num_ctx, 0);
  EXPECT_EQ(o.num_batch, 512);
  EXPECT_EQ(o.num_gpu, -1);
  EXPECT_EQ(o.main_gpu, 0);
  EXPECT_FALSE(o.use_mmap.has_value());
  EXPECT_EQ(o.num_thread, 0);
  EXPECT_EQ(o.draft_num_predict, 4);
  EXPECT_TRUE(o.stop.empty());
  EXPECT_TRUE(o.explicitly_set.empty());
}

TEST(OptionsTest, KnowsEveryCurrentOptionAndItsType) {
  const std::vector<std::string> ints = {
      "num_ctx",  "num_batch", "num_gpu",     "main_gpu", "num_thread",   "draft_num_predict",
      "num_keep", "seed",      "num_predict", "top_k",    "repeat_last_n"};
  for (const std::string& name : ints) EXPECT_EQ(CurrentOptionType(name), OptionType::kInt) << name;
  const std::vector<std::string> floats = {"top_p",
                                           "min_p",
                                           "typical_p",
                                           "temperature",
                                           "repeat_penalty",
                                           "presence_penalty",
                                           "frequency_penalty"};
  for (const std::string& name : floats) {
    EXPECT_EQ(CurrentOptionType(name), OptionType::kFloat) << name;
  }
  EXPECT_EQ(CurrentOptionType("use_mmap"), OptionType::kBool);
  EXPECT_EQ(CurrentOptionType("stop"), OptionType::kStringList);
  for (const char* gone : {"numa", "tfs_z", "mirostat", "penalize_newline", "Temperature", ""}) {
    EXPECT_FALSE(CurrentOptionType(gone).has_value()) << gone;
  }
  EXPECT_TRUE(IsDeprecatedParameter("mirostat_eta"));
  EXPECT_TRUE(IsDeprecatedParameter("use_mlock"));
  EXPECT_FALSE(IsDeprecatedParameter("numa"));  // removed outright: "unknown parameter"
  EXPECT_FALSE(IsDeprecatedParameter("temperature"));
}

TEST(OptionsTest, AppliesTypedValuesAndTruncatesNumbersForInts) {
  ModelOptions o = DefaultModelOptions();
  const json map = json::parse(R"({
    "temperature": 0.2, "top_k": 10.9, "num_ctx": 8192, "seed": -1.5, "use_mmap": false,
    "stop": ["a", "b"], "num_predict": 100, "repeat_penalty": 1, "min_p": 0.05,
    "num_gpu": 0, "main_gpu": 1, "num_thread": 6, "num_batch": 256, "num_keep": 0,
    "draft_num_predict": 2, "typical_p": 0.5, "presence_penalty": 1.5,
    "frequency_penalty": -0.5, "repeat_last_n": -1, "top_p": 1
  })");
  ASSERT_TRUE(ApplyOptions(map, &o).ok());
  EXPECT_FLOAT_EQ(o.sampling.temperature, 0.2f);
  EXPECT_EQ(o.sampling.top_k, 10);  // Go's int64(10.9)
  EXPECT_EQ(o.num_ctx, 8192);
  EXPECT_EQ(o.sampling.seed, -1);  // truncation toward zero, not floor
  EXPECT_EQ(o.use_mmap, false);
  EXPECT_EQ(o.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o.num_predict, 100);
  EXPECT_FLOAT_EQ(o.sampling.repeat_penalty, 1.0f);  // an integer literal for a float option
  EXPECT_FLOAT_EQ(o.sampling.min_p, 0.05f);
  EXPECT_EQ(o.num_gpu, 0);
  EXPECT_EQ(o.main_gpu, 1);
  EXPECT_EQ(o.num_thread, 6);
  EXPECT_EQ(o.num_batch, 256);
  EXPECT_EQ(o.num_keep, 0);
  EXPECT_EQ(o.draft_num_predict, 2);
  EXPECT_FLOAT_EQ(o.sampling.typical_p, 0.5f);
  EXPECT_FLOAT_EQ(o.sampling.presence_penalty, 1.5f);
  EXPECT_FLOAT_EQ(o.sampling.frequency_penalty, -0.5f);
  EXPECT_EQ(o.sampling.repeat_last_n, -1);
  EXPECT_FLOAT_EQ(o.sampling.top_p, 1.0f);
  EXPECT_EQ(o.explicitly_set.size(), map.size());
  EXPECT_TRUE(o.IsSet("use_mmap"));
  EXPECT_FALSE(o.IsSet("mirostat"));
}

TEST(OptionsTest, WrongJsonTypesGiveOllamasMessages) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"top_k": "40"})", R"(option "top_k" must be of type integer)"},
      {R"({"num_ctx": true})", R"(option "num_ctx" must be of type integer)"},
      {R"({"seed": [1]})", R"(option "seed" must be of type integer)"},
      {R"({"temperature": "hot"})", R"(option "temperature" must be of type float32)"},
      {R"({"top_p": {}})", R"(option "top_p" must be of type float32)"},
      {R"({"use_mmap": 1})", R"(option "use_mmap" must be of type boolean)"},
      {R"({"use_mmap": "true"})", R"(option "use_mmap" must be of type boolean)"},
      {R"({"stop": "</s>"})", R"(option "stop" must be of type array)"},
      {R"({"stop": ["a", 1]})", R"(option "stop" must be of an array of strings)"},
      {R"({"stop": [null]})", R"(option "stop" must be of an array of strings)"},
  };
  for (const auto& [input, message] : cases) {
    ModelOptions o = DefaultModelOptions();
    Status s = ApplyOptions(json::parse(input), &o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << input;
    EXPECT_EQ(s.message(), message) << input;
  }
  ModelOptions o;
  EXPECT_EQ(ApplyOptions(json::array(), &o).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyOptions(json("x"), &o).code(), StatusCode::kInvalidArgument);
}

TEST(OptionsTest, NullValuesAndNullMapChangeNothing) {
  ModelOptions o = DefaultModelOptions();
  ASSERT_TRUE(ApplyOptions(json::parse(R"({"temperature": null, "stop": null})"), &o).ok());
  ASSERT_TRUE(ApplyOptions(json(nullptr), &o).ok());
  EXPECT_FLOAT_EQ(o.sampling.temperature, 0.8f);
  EXPECT_TRUE(o.stop.empty());
  EXPECT_TRUE(o.explicitly_set.empty());
}

TEST(OptionsTest, UnknownAndRemovedOptionsAreLoggedAndIgnored) {
  std::vector<std::string> lines;
  SetLogSink([&](std::string_view line) { lines.emplace_back(line); });
  ModelOptions o = DefaultModelOptions();
  std::vector<std::string> ignored;
  Status s = ApplyOptions(json::parse(R"({"bogus": "x", "numa": true, "penalize_newline": 3,
                                         "tfs_z": 1.0, "low_vram": "nope", "top_k": 7})"),
                          &o, &ignored);
  SetLogSink(nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(o.sampling.top_k, 7);
  // Keys in sorted order (nlohmann's object order).
  EXPECT_EQ(ignored,
            (std::vector<std::string>{"bogus", "low_vram", "numa", "penalize_newline", "tfs_z"}));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_NE(lines[0].find("level=WARN"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("invalid option provided"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("option=bogus"), std::string::npos) << lines[0];
}

TEST(OptionsTest, MirostatIsHonouredWhenWellTypedAndIgnoredOtherwise) {
  ModelOptions o = DefaultModelOptions();
  ASSERT_TRUE(
      ApplyOptions(json::parse(R"({"mirostat": 2, "mirostat_tau": 4.5, "mirostat_eta": 0.2})"), &o)
          .ok());
  EXPECT_EQ(o.sampling.mirostat, 2);
  EXPECT_FLOAT_EQ(o.sampling.mirostat_tau, 4.5f);
  EXPECT_FLOAT_EQ(o.sampling.mirostat_eta, 0.2f);
  EXPECT_TRUE(o.IsSet("mirostat"));

  ModelOptions p = DefaultModelOptions();
  std::vector<std::string> ignored;
  SetLogSink([](std::string_view) {});
  Status s = ApplyOptions(json::parse(R"({"mirostat": "two"})"), &p, &ignored);
  SetLogSink(nullptr);
  EXPECT_TRUE(s.ok());  // Ollama never fails on a removed option
  EXPECT_EQ(p.sampling.mirostat, 0);
  EXPECT_EQ(ignored, std::vector<std::string>{"mirostat"});
}

TEST(OptionsTest, OutOfRangeNumbersSaturate) {
  ModelOptions o = DefaultModelOptions();
  ASSERT_TRUE(ApplyOptions(json::parse(R"({"top_k": 1e12, "num_ctx": 1e30, "repeat_last_n": -1e12,
                                  "num_predict": 18446744073709551615, "temperature": 1e39})"),
                           &o)
                  .ok());
  EXPECT_EQ(o.sampling.top_k, std::numeric_limits<int32_t>::max());
  EXPECT_EQ(o.num_ctx, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(o.sampling.repeat_last_n, std::numeric_limits<int32_t>::min());
  EXPECT_EQ(o.num_predict, std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(std::isinf(o.sampling.temperature));  // Go's float32(1e39)
}

TEST(OptionsTest, MergeOrderIsRequestOverModelfileOverDefaults) {
  ModelOptions defaults = DefaultModelOptions();
  defaults.num_ctx = 4096;  // the caller's env/VRAM default
  const json params = json::parse(
      R"({"temperature": 0.5, "stop": ["<|im_end|>", "<|im_start|>"], "num_ctx": 8192,
          "top_p": 0.8})");
  const json request = json::parse(R"({"temperature": 0.9, "top_k": 5})");
  Result<ModelOptions> merged = MergeOptions(defaults, params, request);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_FLOAT_EQ(merged->sampling.temperature, 0.9f);  // request
  EXPECT_EQ(merged->sampling.top_k, 5);                 // request
  EXPECT_FLOAT_EQ(merged->sampling.top_p, 0.8f);        // Modelfile
  EXPECT_EQ(merged->num_ctx, 8192);                     // Modelfile over the default
  EXPECT_EQ(merged->stop, (std::vector<std::string>{"<|im_end|>", "<|im_start|>"}));
  EXPECT_EQ(merged->num_batch, 512);  // default
  EXPECT_FALSE(merged->IsSet("num_batch"));
  EXPECT_TRUE(merged->IsSet("num_ctx"));

  // A request's stop list replaces the Modelfile's instead of extending it.
  Result<ModelOptions> replaced =
      MergeOptions(defaults, params, json::parse(R"({"stop": ["###"]})"));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->stop, std::vector<std::string>{"###"});

  // Null layers are allowed; a bad params layer fails like a bad request.
  Result<ModelOptions> plain = MergeOptions(defaults, json(), json());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->num_ctx, 4096);
  Result<ModelOptions> bad = MergeOptions(defaults, json::parse(R"({"num_ctx": "big"})"), json());
  EXPECT_EQ(bad.status().message(), R"(option "num_ctx" must be of type integer)");
}

TEST(OptionsTest, ParsesIntsLikeGoParseInt) {
  EXPECT_EQ(GoParseInt("4096"), 4096);
  EXPECT_EQ(GoParseInt("-1"), -1);
  EXPECT_EQ(GoParseInt("+5"), 5);
  EXPECT_EQ(GoParseInt("007"), 7);
  EXPECT_EQ(GoParseInt("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(GoParseInt("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  for (const char* bad : {"", "+", "-", "1.5", " 5", "5 ", "1_000", "0x10", "1e3",
                          "9223372036854775808", "-9223372036854775809", "four"}) {
    EXPECT_FALSE(GoParseInt(bad).has_value()) << bad;
  }
}

TEST(OptionsTest, ParsesFloatsLikeGoParseFloat32) {
  EXPECT_EQ(GoParseFloat32("0.7"), 0.7f);
  EXPECT_EQ(GoParseFloat32("1"), 1.0f);
  EXPECT_EQ(GoParseFloat32("-2.5e-3"), -2.5e-3f);
  EXPECT_EQ(GoParseFloat32(".5"), 0.5f);
  EXPECT_EQ(GoParseFloat32("5."), 5.0f);
  EXPECT_EQ(GoParseFloat32("+1E2"), 100.0f);
  EXPECT_EQ(GoParseFloat32("1_000.5"), 1000.5f);  // Go literal underscores
  EXPECT_EQ(GoParseFloat32("0x1p-2"), 0.25f);
  EXPECT_EQ(GoParseFloat32("0x1.8P1"), 3.0f);
  EXPECT_EQ(GoParseFloat32("1e-50"), 0.0f);  // underflow is not an error in Go
  EXPECT_TRUE(std::isinf(*GoParseFloat32("-Infinity")));
  EXPECT_TRUE(std::isinf(*GoParseFloat32("inf")));
  EXPECT_TRUE(std::isnan(*GoParseFloat32("NaN")));
  for (const char* bad :
       {"",   ".",  "e5",   "1e",  "1e+", "hot",  "1.2.3", "0.7 ",    " 0.7", "1__0",
        "_1", "1_", "1_.5", "0x1", "0x",  "1e39", "-nan",  "infinit", "1,5",  "0.7f"}) {
    EXPECT_FALSE(GoParseFloat32(bad).has_value()) << bad;
  }
}

TEST(OptionsTest, ParsesBoolsLikeGoParseBool) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) EXPECT_EQ(GoParseBool(t), true);
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) EXPECT_EQ(GoParseBool(f), false);
  for (const char* bad : {"", "yes", "tRUE", "on", "2", " true"}) {
    EXPECT_FALSE(GoParseBool(bad).has_value()) << bad;
  }
}

TEST(OptionsTest, ParameterTextBecomesTypedJson) {
  Result<json> v = ParseParameter("num_ctx", "4096");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->is_number_integer());
  EXPECT_EQ(v->dump(), "4096");

  v = ParseParameter("temperature", "0.7");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->is_number_float());
  EXPECT_EQ(v->dump(), "0.7");  // the float32's digits, not 0.699999988079071

  v = ParseParameter("top_p", "0.95");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->dump(), "0.95");

  v = ParseParameter("repeat_penalty", "1");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->is_number_float());
  EXPECT_EQ(v->get<double>(), 1.0);

  v = ParseParameter("use_mmap", "false");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json(false));

  v = ParseParameter("stop", "<|im_end|>");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json::array({"<|im_end|>"}));

  v = ParseParameter("seed", "-42");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json(-42));
}

TEST(OptionsTest, BadParameterTextGivesOllamasMessages) {
  const std::tuple<const char*, const char*, const char*> cases[] = {
      {"num_ctx", "1.5", "invalid int value [1.5]"},
      {"num_ctx", "1.048576e+06", "invalid int value [1.048576e+06]"},
      {"seed", "", "invalid int value []"},
      {"temperature", "hot", "invalid float value [hot]"},
      {"temperature", "1e39", "invalid float value [1e39]"},
      {"top_p", "0.9 0.8", "invalid float value [0.9 0.8]"},
      {"use_mmap", "yes", "invalid bool value [yes]"},
      {"numa", "true", "unknown parameter 'numa'"},
      {"tfs_z", "1", "unknown parameter 'tfs_z'"},
      {"Temperature", "1", "unknown parameter 'Temperature'"},
      {"mirostat", "1", "unknown parameter 'mirostat'"},
      {"", "1", "unknown parameter ''"},
      {"temperature", "inf", "json: unsupported value: +Inf"},
  };
  for (const auto& [name, value, message] : cases) {
    Result<json> v = ParseParameter(name, value);
    ASSERT_FALSE(v.ok()) << name << " " << value;
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(v.status().message(), message);
  }
}

}  // namespace
}  // namespace corral::modelfile
