// Measures the grammar filter on a real tokenizer (not a test; no timing assertions anywhere):
//
//   grammar_bench MODEL.gguf
//
// Prints the trie build time and, for several states of the JSON grammar, the cost of checking
// one token (the common path: the sampled token is allowed), of filtering the whole vocabulary
// (the fallback), and of one unconstrained Sampler::Sample over the same vocabulary.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "sampling/grammar.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double Micros(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

constexpr const char* kJson = R"(root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
ws ::= | " " | "\n" [ \t]{0,20}
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace corral;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
    return 2;
  }
  auto file = gguf::GgufFile::Open(argv[1]);
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", file.status().ToString().c_str());
    return 1;
  }
  auto tok = tokenizer::Tokenizer::FromGguf(**file);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.status().ToString().c_str());
    return 1;
  }
  const tokenizer::Tokenizer& t = **tok;
  int32_t n = t.n_tokens();
  std::vector<std::string> pieces(n);
  for (int32_t id = 0; id < n; ++id) pieces[id] = t.TokenToPiece(id, false);

  auto t0 = Clock::now();
  auto vocab = sampling::GrammarVocab::Build(pieces, t.end_of_generation());
  auto t1 = Clock::now();
  std::printf("vocab %d tokens, trie %zu nodes, built in %.1f ms\n", n, vocab.node_count(),
              Micros(t0, t1) / 1000);

  auto grammar = sampling::Grammar::Parse(kJson);
  if (!grammar.ok()) {
    std::fprintf(stderr, "%s\n", grammar.status().ToString().c_str());
    return 1;
  }
  auto sampler = sampling::Sampler::Create(sampling::SamplingOptions{}, n, 4096);
  std::vector<float> logits(n);
  for (int32_t i = 0; i < n; ++i) logits[i] = static_cast<float>((i * 7919) % 1000) / 100.0f;
  constexpr int kReps = 20;
  auto s0 = Clock::now();
  for (int r = 0; r < kReps; ++r) (void)sampler->Sample(logits);
  double sample_us = Micros(s0, Clock::now()) / kReps;
  std::printf("unconstrained Sampler::Sample (defaults): %.1f us\n", sample_us);

  auto any = sampling::Grammar::Parse("root ::= .*\n");  // every valid token: the whole trie
  struct Case {
    const char* name;
    std::shared_ptr<const sampling::Grammar> grammar;
    const char* prefix;
  };
  const Case cases[] = {{"json", *grammar, ""},
                        {"json", *grammar, "{"},
                        {"json", *grammar, "{\""},
                        {"json", *grammar, "{\"name\": \"Al"},
                        {"json", *grammar, "{\"a\": "},
                        {"json", *grammar, "{\"a\": 12"},
                        {"json", *grammar, "{\"a\": [1, {\"b\": tr"},
                        {"any (.*)", *any, "x"}};
  for (const auto& [name, g, prefix] : cases) {
    sampling::GrammarMatcher m(g);
    if (!m.Accept(prefix)) {
      std::printf("prefix '%s' rejected?\n", prefix);
      continue;
    }
    std::vector<float> l = logits;
    auto f0 = Clock::now();
    m.FilterLogits(vocab, l);  // cold: fills the transition cache
    auto f1 = Clock::now();
    for (int r = 0; r < kReps; ++r) m.FilterLogits(vocab, l);
    double cold_us = Micros(f0, f1), filter_us = Micros(f1, Clock::now()) / kReps;
    int allowed = 0, first_allowed = -1;
    for (int32_t i = 0; i < n; ++i) {
      if (l[i] > -1e30f) {
        ++allowed;
        if (first_allowed < 0 || pieces[i].size() > pieces[first_allowed].size()) first_allowed = i;
      }
    }
    // Check + accept of an allowed token: the per-token cost when the sample is accepted.
    auto c0 = Clock::now();
    bool ok = true;
    for (int r = 0; r < 1000; ++r) {
      sampling::GrammarMatcher copy = m;
      ok = ok && copy.AllowsToken(vocab, first_allowed) && copy.AcceptToken(vocab, first_allowed);
    }
    double check_us = Micros(c0, Clock::now()) / 1000;
    std::printf(
        "%-22s after '%s': %d allowed; full filter cold %.0f us, warm %.0f us; check+accept "
        "'%s' %.2f us%s\n",
        name, prefix, allowed, cold_us, filter_us, pieces[first_allowed].c_str(), check_us,
        ok ? "" : " (FAILED)");
  }
  return 0;
}
