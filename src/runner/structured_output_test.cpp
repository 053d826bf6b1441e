// Issue 7's acceptance for structured output: 1,000 generations constrained by the JSON schemas
// in src/sampling/testdata/schemas (nesting, arrays, enums, $ref, patterns, formats, bounds),
// on a random-weight model with varied seeds and temperatures, all decoded four at a time by one
// Runner; every output must parse and validate with ajv (an independent validator, run by node
// through tools/testclients/validate_json.mjs).
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "modelgen/model_factory.h"
#include "modelgen/model_vocab.h"
#include "runner/runner.h"
#include "sampling/json_schema.h"
#include "testing/subprocess.h"
#include "testing/testdata.h"

namespace corral::runner {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(StructuredOutputTest, ThousandGenerationsValidateWithAjv) {
  const fs::path source = testing::SourceDir();
  const fs::path validator = source / "tools/testclients/validate_json.mjs";
  auto probe = testing::RunProcess({"node", validator.string()}, {}, "");
  if (!probe.ok() || probe->exit_code == 3) {
    GTEST_SKIP() << "ajv is not installed: run tools/testclients/install.sh (make test does)";
  }

  // A random-weight llama whose vocabulary is the printable ASCII characters, with almost flat
  // logits: nothing but the grammar shapes the output, and a string ends (a '"' is drawn) within
  // about a hundred tokens. (With a real 32k vocabulary and flat logits the closing tokens are
  // so rare that strings run for thousands of tokens.)
  const fs::path dir =
      fs::temp_directory_path() / ("corral-structured-" + std::to_string(getpid()));
  auto spec = modelgen::TinySpec("llama");
  ASSERT_TRUE(spec.ok());
  spec->name = "structured";
  spec->tokenizer = "chars";
  spec->n_vocab = modelgen::kCharVocabSize;
  spec->n_embd = 64;
  spec->n_ff = 128;
  spec->n_head = 2;
  spec->n_head_kv = 1;
  spec->n_layer = 1;
  spec->logit_scale = 0.5f;
  auto path = modelgen::MakeModel(*spec, quantize::FileType::kQ8_0, dir.string(), 2);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  auto loaded = engine::Model::Load(*path, {.n_threads = 2});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::shared_ptr<const engine::Model> model = std::move(loaded).value();
  auto runner = Runner::Create(model, {.n_ctx = 4096, .n_parallel = 4, .n_threads = 2});
  ASSERT_TRUE(runner.ok());
  fs::remove_all(dir);

  std::vector<fs::path> schema_files;
  for (const auto& e : fs::directory_iterator(source / "src/sampling/testdata/schemas")) {
    if (e.path().extension() == ".json") schema_files.push_back(e.path());
  }
  std::sort(schema_files.begin(), schema_files.end());
  ASSERT_GE(schema_files.size(), 20u);

  constexpr int kGenerations = 1000;
  const float kTemperatures[] = {0.2f, 0.6f, 0.8f, 1.0f, 1.3f};
  struct Job {
    size_t schema;
    std::shared_ptr<Generation> generation;
  };
  std::vector<std::shared_ptr<const sampling::Grammar>> grammars;
  std::vector<nlohmann::json> schemas;
  for (const fs::path& p : schema_files) {
    std::string text = ReadFile(p);
    auto gbnf = sampling::JsonSchemaToGbnf(std::string_view(text));
    ASSERT_TRUE(gbnf.ok()) << p << ": " << gbnf.status().ToString();
    auto grammar = sampling::Grammar::Parse(*gbnf);
    ASSERT_TRUE(grammar.ok()) << p << ": " << grammar.status().ToString();
    grammars.push_back(*grammar);
    schemas.push_back(nlohmann::json::parse(text));
  }

  std::string lines;
  int by_length = 0, tokens = 0;
  std::map<std::string, int> failures;
  std::map<std::string, int> length_by_schema;
  // In waves of 40 so the queue stays short; the runner decodes four at a time.
  for (int first = 0; first < kGenerations; first += 40) {
    std::vector<Job> jobs;
    for (int i = first; i < std::min(kGenerations, first + 40); ++i) {
      GenerateRequest req;
      req.prompt = {1, static_cast<int32_t>(3 + i % 95), static_cast<int32_t>(3 + (i * 7) % 95)};
      req.sampling.seed = 1000 + i;
      req.sampling.temperature = kTemperatures[i % 5];
      req.num_predict = 4000;
      const size_t s = static_cast<size_t>(i) % grammars.size();
      req.grammar = grammars[s];
      auto gen = (*runner)->Submit(std::move(req));
      ASSERT_TRUE(gen.ok()) << gen.status().ToString();
      jobs.push_back({s, *gen});
    }
    for (Job& job : jobs) {
      std::string text;
      Chunk c;
      while (job.generation->Next(&c)) {
        text += c.text;
        if (c.done) {
          ASSERT_TRUE(c.error.ok())
              << c.error.ToString() << " in " << schema_files[job.schema] << " after " << text;
          if (c.done_reason == sampling::DoneReason::kLength) {
            ++by_length;
            ++length_by_schema[schema_files[job.schema].filename().string()];
          }
          tokens += static_cast<int>(c.generated.size());
        }
      }
      lines += nlohmann::json{{"schema", schemas[job.schema]}, {"output", text}}.dump() + "\n";
    }
  }
  auto validated =
      testing::RunProcess({"node", validator.string()}, {}, lines, std::chrono::seconds(300));
  ASSERT_TRUE(validated.ok()) << validated.status().ToString();
  ASSERT_EQ(validated->exit_code, 0) << validated->err;
  std::istringstream results(validated->out);
  std::istringstream inputs(lines);
  std::string result, input;
  int ok = 0, n = 0;
  while (std::getline(results, result) && std::getline(inputs, input)) {
    ++n;
    auto r = nlohmann::json::parse(result);
    if (r["ok"].get<bool>()) {
      ++ok;
    } else if (failures.size() < 10) {
      failures[input] = 1;
      ADD_FAILURE() << "invalid output: " << input << "\n  ajv: " << r["error"];
    }
  }
  EXPECT_EQ(n, kGenerations);
  EXPECT_EQ(ok, kGenerations);
  EXPECT_EQ(by_length, 0) << "generations that ran out of tokens before the JSON was complete";
  for (const auto& [name, n] : length_by_schema) ADD_FAILURE() << name << ": " << n << " ran out";
  std::printf("%d generations over %zu schemas, %d tokens, %d valid\n", kGenerations,
              schema_files.size(), tokens, ok);
}

}  // namespace
}  // namespace corral::runner
