// GBNF grammars (llama.cpp's grammar language) and a matcher that constrains decoding to them.
//
//   ASSIGN_OR_RETURN(auto grammar, sampling::Grammar::Parse(text));    // once per request
//   auto vocab = sampling::GrammarVocab::Build(pieces, eog_ids);      // once per tokenizer
//   sampling::GrammarMatcher m(grammar);                            // one per sequence
//   int32_t id = sampler.Sample(logits);
//   if (!m.AcceptToken(vocab, id)) {           // rare: only then filter the whole vocabulary
//     m.FilterLogits(vocab, logits);           // -inf for every token the grammar rejects
//     id = sampler.Sample(logits);
//     m.AcceptToken(vocab, id);
//   }
//
// (SampleConstrained in constrained.h does exactly this.)
//
// Design (llama-grammar.cpp's): rules compile to one flat array of elements; the matcher's state
// is a set of parse stacks, each a list of positions in that array whose top is a terminal
// (character element) or which is empty (the root can end here). One code point advances every
// stack whose top matches it and re-expands rule references. Text is matched in code points;
// a token that ends mid code point leaves its bytes pending until the next token completes it.
//
// The vocabulary filter walks a byte trie of all token pieces depth first, advancing the state
// once per trie edge, so tokens that share a prefix share the work and a subtree whose prefix
// the grammar rejects is skipped whole.
//
// Left recursion (a rule that can reach itself before consuming a character) is refused at parse
// time, so expanding rule references always terminates.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace corral::sampling {

// Caps against hostile grammars (user supplied through the API).
struct GrammarLimits {
  size_t max_text_bytes = 1 << 20;
  size_t max_rules = 8192;          // named and generated rules together
  size_t max_elements = 1 << 20;    // compiled size, after expanding {m,n}
  int32_t max_nesting = 64;         // ( ) depth
  uint32_t max_repetition = 10000;  // m and n in {m,n}
  size_t max_stacks = 4096;         // parse stacks alive at once; more rejects the input
  size_t max_cached_states = 4096;  // a matcher's transition cache (1 KiB each); then reset
  // Rule expansions per code point: ambiguous grammars (r1 ::= r2 | r2, r2 ::= r3 | r3, ...)
  // expand exponentially many times to few distinct stacks. More rejects the input.
  size_t max_expansions = 1 << 20;
};

enum class GrammarElementType : uint8_t {
  kEnd,           // end of a rule
  kAlt,           // start of another alternative
  kRuleRef,       // value: rule id
  kChar,          // value: code point; may be followed by kCharAlt / kCharRngUpper
  kCharNot,       // [^...]: value: code point; followed like kChar
  kCharRngUpper,  // value: inclusive upper bound of the range started by the element before
  kCharAlt,       // value: another code point of the same class
  kCharAny,       // '.'
};

struct GrammarElement {
  GrammarElementType type = GrammarElementType::kEnd;
  uint32_t value = 0;
};

class Grammar {
 public:
  // InvalidArgument with "line:column: message" for a malformed grammar.
  static Result<std::shared_ptr<const Grammar>> Parse(std::string_view text,
                                                      const GrammarLimits& limits = {});

  // Flat element array: rule r is elements()[rule_start(r)...] up to its kEnd.
  std::span<const GrammarElement> elements() const { return elements_; }
  uint32_t rule_start(uint32_t rule) const { return rule_starts_[rule]; }
  // Offsets of the first element of each alternative of `rule`.
  std::span<const uint32_t> alternatives(uint32_t rule) const;
  size_t rule_count() const { return rule_starts_.size(); }
  uint32_t root() const { return root_; }
  const std::string& rule_name(uint32_t rule) const { return rule_names_[rule]; }
  const GrammarLimits& limits() const { return limits_; }

 private:
  friend class GrammarParser;
  std::vector<GrammarElement> elements_;
  std::vector<uint32_t> rule_starts_;  // [rule_count]
  std::vector<uint32_t> alt_offsets_;  // all rules' alternative starts, rule by rule
  std::vector<uint32_t> alt_ranges_;   // [rule_count + 1] into alt_offsets_
  std::vector<std::string> rule_names_;
  uint32_t root_ = 0;
  GrammarLimits limits_;
};

// A set of parse stacks stored flat: stack k is data[ends[k-1] .. ends[k]) (bottom first).
struct GrammarStacks {
  std::vector<uint32_t> data;
  std::vector<uint32_t> ends;

  size_t size() const { return ends.size(); }
  std::span<const uint32_t> stack(size_t k) const {
    uint32_t begin = k == 0 ? 0 : ends[k - 1];
    return {data.data() + begin, ends[k] - begin};
  }
  void clear() {
    data.clear();
    ends.clear();
  }
  void Add(std::span<const uint32_t> s);  // skips duplicates
};

// Pending bytes of a code point cut by a token boundary.
struct PartialUtf8 {
  uint32_t value = 0;    // bits decoded so far
  int8_t remaining = 0;  // continuation bytes still expected; -1: invalid
  int8_t length = 0;     // length of the whole sequence
};

// The token pieces of one tokenizer (decoded bytes of every id) as a byte trie, plus which ids
// end generation. Built once per tokenizer; read-only afterwards.
class GrammarVocab {
 public:
  static GrammarVocab Build(std::span<const std::string> pieces, std::span<const int32_t> eog_ids);

  int32_t n_vocab() const { return static_cast<int32_t>(pieces_.size()); }
  bool is_eog(int32_t id) const { return eog_[id] != 0; }
  std::string_view piece(int32_t id) const { return pieces_[id]; }
  size_t node_count() const { return nodes_.size(); }

 private:
  friend class GrammarMatcher;
  // Nodes in depth-first preorder; node 0 is the root (empty prefix).
  struct Node {
    uint8_t byte = 0;
    uint32_t depth = 0;
    uint32_t subtree_end = 0;                   // first node after this node's subtree
    uint32_t tokens_begin = 0, tokens_end = 0;  // range of token_ids_ ending exactly here
  };
  std::vector<std::string> pieces_;
  std::vector<uint8_t> eog_;
  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
};

class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  // Advances by `bytes` (a token's text; may end mid code point). Returns false and leaves the
  // state unchanged when the grammar cannot accept them.
  bool Accept(std::string_view bytes);
  bool CanAccept(std::string_view bytes) const;

  // Token level: the EOG token is accepted only when IsComplete (and changes nothing); a token
  // with empty text is never accepted.
  bool AllowsToken(const GrammarVocab& vocab, int32_t id) const;
  bool AcceptToken(const GrammarVocab& vocab, int32_t id);

  // logits: [vocab.n_vocab()]. Sets -inf for every token AllowsToken refuses. Not thread-safe
  // (it fills the matcher's transition cache); one matcher per sequence.
  void FilterLogits(const GrammarVocab& vocab, std::span<float> logits) const;

  // The root rule can end here (and no code point is half read).
  bool IsComplete() const;
  // No continuation at all is possible: only when the initial expansion of the root overflowed
  // max_stacks / max_expansions (Accept never moves into a dead state).
  bool IsDead() const { return stacks_.size() == 0; }

  const GrammarStacks& stacks() const { return stacks_; }

 private:
  struct State {
    GrammarStacks stacks;
    PartialUtf8 partial;
  };
  // Parse states interned as they are met, with a lazily filled byte transition table: a
  // deterministic automaton built on demand. Inside a JSON string, say, every ordinary
  // character leads back to the same state, so walking the trie costs one table lookup per node.
  // Content-keyed, so it stays valid across tokens; cleared when it grows past
  // GrammarLimits::max_cached_states.
  struct TransitionCache {
    static constexpr int32_t kUnknown = -2, kReject = -1;
    std::vector<State> states;
    std::vector<int32_t> next;  // [states.size() * 256]
    std::unordered_map<std::string, int32_t> ids;
    std::string key;  // scratch
    // The tokens a state allows, as a bitset over the vocabulary ([n_vocab / 64 + 1] words), for
    // the states FilterLogits met before: a JSON grammar keeps returning to a few states (inside
    // a string, after a value), so most filters are one pass over the bitset instead of a walk
    // of the vocabulary trie. At most kMaxMasks of them.
    static constexpr size_t kMaxMasks = 64;
    std::unordered_map<int32_t, std::vector<uint64_t>> masks;
  };
  // A copied matcher starts with an empty cache (copies are cheap and independent).
  class CacheHolder {
   public:
    CacheHolder() = default;
    CacheHolder(const CacheHolder&) {}
    CacheHolder& operator=(const CacheHolder&) {
      cache.reset();
      return *this;
    }
    CacheHolder(CacheHolder&&) = default;
    CacheHolder& operator=(CacheHolder&&) = default;
    std::unique_ptr<TransitionCache> cache;
  };
  // -1 when the cache is full.
  int32_t Intern(TransitionCache& cache, const State& state) const;
  // allowed[id] = 1 for every trie token the grammar accepts. false: cache overflowed.
  bool FilterCached(const GrammarVocab& vocab, std::vector<uint8_t>& allowed) const;
  void FilterDirect(const GrammarVocab& vocab, std::vector<uint8_t>& allowed) const;
  // next = state advanced by one byte; false when the byte is rejected.
  // work: scratch for building stacks.
  bool StepByte(const State& state, uint8_t byte, State& next, std::vector<uint32_t>& work) const;
  bool AdvanceCodePoint(const GrammarStacks& in, uint32_t cp, GrammarStacks& out,
                        std::vector<uint32_t>& work) const;
  // Expands the rule references on top of `work` (restored on return) into stacks topped by a
  // terminal; false when out would hold more than max_stacks or `budget` expansions run out.
  bool Expand(std::vector<uint32_t>& work, GrammarStacks& out, size_t& budget) const;
  bool PartialCanMatch(const State& state) const;

  std::shared_ptr<const Grammar> grammar_;
  std::span<const GrammarElement> el_;
  GrammarStacks stacks_;
  PartialUtf8 partial_;
  mutable CacheHolder cache_;
  mutable std::vector<uint8_t> allowed_;  // [n_vocab] FilterLogits' scratch
};

}  // namespace corral::sampling
