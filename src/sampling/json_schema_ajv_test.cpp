// Every schema in src/sampling/testdata/schemas compiled to GBNF, then random walks through the
// grammar (bytes, plus a few multi-byte tokens), and every finished output checked by ajv
// (tools/testclients/validate_json.mjs): all of them must validate.
//
// A walk picks uniformly among the tokens the grammar allows; once the text is long it mostly
// takes the token that brings the grammar's shortest completion nearest (computed from the
// compiled rules), and ends as soon as it may, so walks finish. Walks that still reach the length
// cap are counted apart (not passes) and must be rare.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sampling/grammar.h"
#include "sampling/json_schema.h"
#include "testing/subprocess.h"
#include "testing/testdata.h"

namespace corral::sampling {
namespace {

namespace fs = std::filesystem;
using ET = GrammarElementType;

constexpr int kWalksPerSchema = 40;
constexpr size_t kLong = 160;       // bytes after which a walk heads for the end
constexpr size_t kCapBytes = 8000;  // a walk this long is abandoned (counted as capped)

std::string ClientsDir() {
  if (const char* env = std::getenv("CORRAL_TESTCLIENTS_DIR"); env && *env) return env;
  std::string cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    cache = xdg;
  } else {
    const char* home = std::getenv("HOME");
    cache = std::string(home ? home : "/root") + "/.cache";
  }
  return cache + "/corral/testclients";
}

// Shortest number of code points that completes each position of the grammar: rest[p] for the
// element at p up to the end of its alternative.
class CompletionCost {
 public:
  explicit CompletionCost(const Grammar& g) : el_(g.elements()) {
    constexpr uint64_t kInf = std::numeric_limits<uint32_t>::max();
    std::vector<uint64_t> rule_min(g.rule_count(), kInf);
    rest_.assign(el_.size(), kInf);
    for (bool changed = true; changed;) {
      changed = false;
      for (uint32_t r = 0; r < g.rule_count(); ++r) {
        for (uint32_t start : g.alternatives(r)) {
          uint64_t len = SequenceCost(start, rule_min);
          if (len < rule_min[r]) {
            rule_min[r] = len;
            changed = true;
          }
        }
      }
    }
    // rest_ for every position, from the end of each sequence backwards.
    for (size_t p = el_.size(); p-- > 0;) {
      const GrammarElement& e = el_[p];
      if (e.type == ET::kEnd || e.type == ET::kAlt) {
        rest_[p] = 0;
        continue;
      }
      uint64_t after = p + 1 < el_.size() ? rest_[p + 1] : 0;
      uint64_t here = e.type == ET::kRuleRef                                    ? rule_min[e.value]
                      : (e.type == ET::kCharAlt || e.type == ET::kCharRngUpper) ? 0
                                                                                : 1;
      rest_[p] = std::min<uint64_t>(here + after, kInf);
    }
  }

  // The cheapest completion over the matcher's parse stacks (0: it can end now).
  uint64_t Of(const GrammarMatcher& m) const {
    uint64_t best = std::numeric_limits<uint64_t>::max();
    const GrammarStacks& stacks = m.stacks();
    for (size_t k = 0; k < stacks.size(); ++k) {
      uint64_t sum = 0;
      for (uint32_t pos : stacks.stack(k)) sum += rest_[pos];
      best = std::min(best, sum);
    }
    return best;
  }

 private:
  uint64_t SequenceCost(uint32_t p, const std::vector<uint64_t>& rule_min) const {
    uint64_t len = 0;
    for (; el_[p].type != ET::kEnd && el_[p].type != ET::kAlt; ++p) {
      const GrammarElement& e = el_[p];
      if (e.type == ET::kRuleRef) {
        len += rule_min[e.value];
      } else if (e.type != ET::kCharAlt && e.type != ET::kCharRngUpper) {
        ++len;
      }
    }
    return len;
  }

  std::span<const GrammarElement> el_;
  std::vector<uint64_t> rest_;
};

std::vector<std::string> Pieces() {
  std::vector<std::string> pieces;
  for (int b = 0; b < 256; ++b) pieces.emplace_back(1, static_cast<char>(b));
  for (const char* p :
       {"\xC3\xA9", "\xE2\x82\xAC", "\xE6\x97\xA5", "\xF0\x9F\x98\x80", "\"id\"", "true", "null",
        "  ", "\n  ", "12", "-0.5", "\\n", "\\u00e9", "\":", "\\\"", "2024-"}) {
    pieces.emplace_back(p);
  }
  pieces.emplace_back("<eos>");  // end of generation (marked as EOG below)
  return pieces;
}

struct Walks {
  std::vector<std::string> outputs;
  int capped = 0;
};

// Fails the test (and returns what it has) on a dead end: a state with no allowed token.
Walks RandomWalks(const std::shared_ptr<const Grammar>& g, const GrammarVocab& vocab, int32_t eos,
                  std::mt19937& rng, const std::string& name) {
  CompletionCost cost(*g);
  Walks out;
  for (int walk = 0; walk < kWalksPerSchema; ++walk) {
    GrammarMatcher m(g);
    std::string text;
    bool done = false;
    while (!done && text.size() < kCapBytes) {
      std::vector<float> logits(static_cast<size_t>(vocab.n_vocab()), 0.0f);
      m.FilterLogits(vocab, logits);
      std::vector<int32_t> allowed;
      for (int32_t id = 0; id < vocab.n_vocab(); ++id) {
        if (std::isfinite(logits[static_cast<size_t>(id)])) allowed.push_back(id);
      }
      if (allowed.empty()) {
        ADD_FAILURE() << name << ": dead end after '" << text << "'";
        return out;
      }
      bool can_end = std::isfinite(logits[static_cast<size_t>(eos)]);
      int32_t id = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
      if (can_end && (text.size() > kLong || rng() % 16 == 0)) {
        id = eos;
      } else if (text.size() > kLong && rng() % 4 != 0) {
        // Head for the end: a token after which the shortest completion is shortest.
        uint64_t best = std::numeric_limits<uint64_t>::max();
        std::vector<int32_t> best_ids;
        for (int32_t cand : allowed) {
          if (cand == eos) continue;
          GrammarMatcher next = m;
          if (!next.AcceptToken(vocab, cand)) continue;
          uint64_t c = cost.Of(next);
          if (c < best) best_ids.clear();
          if (c <= best) {
            best = c;
            best_ids.push_back(cand);
          }
        }
        if (!best_ids.empty()) {
          id = best_ids[std::uniform_int_distribution<size_t>(0, best_ids.size() - 1)(rng)];
        }
      }
      if (!m.AcceptToken(vocab, id)) {
        ADD_FAILURE() << name << ": allowed token " << id << " refused after '" << text << "'";
        return out;
      }
      if (id == eos) {
        out.outputs.push_back(text);
        done = true;
      } else {
        text += vocab.piece(id);
      }
    }
    if (!done) ++out.capped;
  }
  return out;
}

std::vector<fs::path> SchemaFiles() {
  std::vector<fs::path> files;
  fs::path dir = fs::path(testing::SourceDir()) / "src/sampling/testdata/schemas";
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(JsonSchemaAjvTest, EverySchemaCompiles) {
  std::vector<fs::path> files = SchemaFiles();
  EXPECT_GE(files.size(), 24u);
  for (const fs::path& file : files) {
    auto gbnf = JsonSchemaToGbnf(std::string_view(ReadFile(file)));
    ASSERT_TRUE(gbnf.ok()) << file.filename() << ": " << gbnf.status().ToString();
    auto grammar = Grammar::Parse(*gbnf);
    EXPECT_TRUE(grammar.ok()) << file.filename() << ": " << grammar.status().ToString() << "\n"
                              << *gbnf;
  }
}

TEST(JsonSchemaAjvTest, RandomOutputsValidate) {
  std::string clients = ClientsDir();
  if (!fs::exists(clients + "/node_modules/ajv/package.json") ||
      !fs::exists(clients + "/node_modules/ajv-formats/package.json")) {
    GTEST_SKIP() << "ajv and ajv-formats are not installed in " << clients
                 << " (run tools/testclients/install.sh)";
  }
  std::vector<std::string> pieces = Pieces();
  const int32_t eos = static_cast<int32_t>(pieces.size()) - 1;
  GrammarVocab vocab = GrammarVocab::Build(pieces, std::vector<int32_t>{eos});
  std::mt19937 rng(20240607);

  std::string input;
  std::vector<std::pair<std::string, std::string>> sent;  // (schema file, output)
  int total_capped = 0, total_walks = 0;
  for (const fs::path& file : SchemaFiles()) {
    std::string name = file.filename().string();
    std::string text = ReadFile(file);
    auto gbnf = JsonSchemaToGbnf(std::string_view(text));
    ASSERT_TRUE(gbnf.ok()) << name << ": " << gbnf.status().ToString();
    auto grammar = Grammar::Parse(*gbnf);
    ASSERT_TRUE(grammar.ok()) << name << ": " << grammar.status().ToString();
    Walks walks = RandomWalks(*grammar, vocab, eos, rng, name);
    total_capped += walks.capped;
    total_walks += kWalksPerSchema;
    EXPECT_GE(walks.outputs.size(), static_cast<size_t>(kWalksPerSchema * 3 / 4))
        << name << ": " << walks.capped << " walks hit the length cap";
    nlohmann::json schema = nlohmann::json::parse(text);
    for (const std::string& output : walks.outputs) {
      nlohmann::json line = {{"schema", schema}, {"output", output}};
      std::string dumped;
      try {
        dumped = line.dump();  // throws on invalid UTF-8, which the grammar must not produce
      } catch (const nlohmann::json::exception& e) {
        ADD_FAILURE() << name << ": output is not valid UTF-8: " << e.what();
        continue;
      }
      input += dumped + "\n";
      sent.emplace_back(name, output);
    }
  }
  EXPECT_LE(total_capped * 20, total_walks) << total_capped << " of " << total_walks << " capped";

  std::string script = testing::SourceDir() + "/tools/testclients/validate_json.mjs";
  auto run = testing::RunProcess({"node", script}, {{"CORRAL_TESTCLIENTS_DIR", clients}}, input,
                                 std::chrono::minutes(2));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->exit_code, 0) << run->err << run->out;
  std::vector<std::string> lines;
  std::istringstream out(run->out);
  for (std::string line; std::getline(out, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), sent.size()) << run->err;
  int valid = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto result = nlohmann::json::parse(lines[i], nullptr, false);
    ASSERT_TRUE(result.is_object()) << lines[i];
    if (result.value("ok", false)) {
      ++valid;
    } else {
      ADD_FAILURE() << sent[i].first << ": ajv rejects " << sent[i].second << "\n  "
                    << result.value("error", std::string());
    }
  }
  EXPECT_EQ(valid, static_cast<int>(sent.size()));
  std::cout << "validated " << valid << " of " << sent.size() << " outputs from " << total_walks
            << " walks (" << total_capped << " capped)\n";
}

}  // namespace
}  // namespace corral::sampling
