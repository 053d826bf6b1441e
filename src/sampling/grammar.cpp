#include "sampling/grammar.h"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

namespace corral::sampling {

using ET = GrammarElementType;

namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool IsEndOfSequence(const GrammarElement& e) { return e.type == ET::kEnd || e.type == ET::kAlt; }

// Smallest code point of a UTF-8 sequence of `length` bytes (anything below is overlong).
uint32_t MinCodePoint(int length) {
  switch (length) {
    case 2:
      return 0x80;
    case 3:
      return 0x800;
    case 4:
      return 0x10000;
    default:
      return 0;
  }
}

}  // namespace

// Recursive descent over GBNF, as llama.cpp's llama_grammar_parser: each group and repetition
// becomes a generated rule named "<rule>_<n>" ('_' is not a word character, so generated names
// never collide with the user's).
class GrammarParser {
 public:
  GrammarParser(std::string_view text, const GrammarLimits& limits)
      : text_(text), limits_(limits) {}

  Result<std::shared_ptr<const Grammar>> Run() {
    if (text_.size() > limits_.max_text_bytes) {
      return InvalidArgumentError("grammar is " + std::to_string(text_.size()) +
                                  " bytes, more than the limit of " +
                                  std::to_string(limits_.max_text_bytes));
    }
    SkipSpace(true);
    while (pos_ < text_.size()) RETURN_IF_ERROR(ParseRule());
    for (size_t r = 0; r < rules_.size(); ++r) {
      if (!defined_[r]) return Error(first_use_[r], "undefined rule '" + names_[r] + "'");
    }
    auto root = ids_.find("root");
    if (root == ids_.end()) return Error(text_.size(), "grammar has no 'root' rule");
    auto grammar = std::shared_ptr<Grammar>(new Grammar());
    for (size_t r = 0; r < rules_.size(); ++r) {
      grammar->rule_starts_.push_back(static_cast<uint32_t>(grammar->elements_.size()));
      grammar->alt_ranges_.push_back(static_cast<uint32_t>(grammar->alt_offsets_.size()));
      uint32_t base = static_cast<uint32_t>(grammar->elements_.size());
      grammar->alt_offsets_.push_back(base);
      for (size_t i = 0; i < rules_[r].size(); ++i) {
        if (rules_[r][i].type == ET::kAlt) {
          grammar->alt_offsets_.push_back(base + static_cast<uint32_t>(i) + 1);
        }
      }
      grammar->elements_.insert(grammar->elements_.end(), rules_[r].begin(), rules_[r].end());
    }
    grammar->alt_ranges_.push_back(static_cast<uint32_t>(grammar->alt_offsets_.size()));
    grammar->rule_names_ = names_;
    grammar->root_ = root->second;
    grammar->limits_ = limits_;
    RETURN_IF_ERROR(CheckLeftRecursion());
    return std::shared_ptr<const Grammar>(std::move(grammar));
  }

 private:
  Status Error(size_t at, const std::string& message) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return InvalidArgumentError("grammar " + std::to_string(line) + ":" + std::to_string(column) +
                                ": " + message);
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  void SkipSpace(bool newline_ok) {
    while (!AtEnd()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || (newline_ok && (c == '\r' || c == '\n'))) {
        ++pos_;
      } else if (c == '#') {
        while (!AtEnd() && text_[pos_] != '\r' && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  Result<uint32_t> NewRule(std::string name, size_t at) {
    if (rules_.size() >= limits_.max_rules) {
      return Error(at, "more than " + std::to_string(limits_.max_rules) + " rules");
    }
    uint32_t id = static_cast<uint32_t>(rules_.size());
    ids_.emplace(name, id);
    names_.push_back(std::move(name));
    rules_.emplace_back();
    defined_.push_back(false);
    first_use_.push_back(at);
    def_pos_.push_back(at);
    return id;
  }

  Result<uint32_t> SymbolId(const std::string& name, size_t at) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    return NewRule(name, at);
  }

  Result<uint32_t> GeneratedId(std::string_view base, size_t at) {
    ASSIGN_OR_RETURN(uint32_t id,
                     NewRule(std::string(base) + "_" + std::to_string(rules_.size()), at));
    defined_[id] = true;
    return id;
  }

  Status SetRule(uint32_t id, std::vector<GrammarElement> rule, size_t at) {
    total_elements_ += rule.size();
    if (total_elements_ > limits_.max_elements) {
      return Error(
          at, "grammar expands to more than " + std::to_string(limits_.max_elements) + " elements");
    }
    rules_[id] = std::move(rule);
    return Status::Ok();
  }

  Status ParseRule() {
    size_t start = pos_;
    while (!AtEnd() && IsWordChar(text_[pos_])) ++pos_;
    if (pos_ == start) return Error(pos_, "expecting a rule name");
    std::string name(text_.substr(start, pos_ - start));
    SkipSpace(false);
    if (text_.substr(pos_, 3) != "::=") return Error(pos_, "expecting '::=' after rule name");
    pos_ += 3;
    SkipSpace(true);
    ASSIGN_OR_RETURN(uint32_t id, SymbolId(name, start));
    if (defined_[id]) return Error(start, "rule '" + name + "' is defined twice");
    defined_[id] = true;
    def_pos_[id] = start;
    RETURN_IF_ERROR(ParseAlternates(name, id, 0));
    if (Peek() == '\r') ++pos_;
    if (Peek() == '\n') {
      ++pos_;
    } else if (!AtEnd()) {
      return Error(pos_, std::string("unexpected '") + Peek() + "'");
    }
    SkipSpace(true);
    return Status::Ok();
  }

  Status ParseAlternates(std::string_view rule_name, uint32_t id, int depth) {
    if (depth > limits_.max_nesting) {
      return Error(pos_, "groups nested deeper than " + std::to_string(limits_.max_nesting));
    }
    size_t start = pos_;
    std::vector<GrammarElement> rule;
    RETURN_IF_ERROR(ParseSequence(rule_name, rule, depth));
    while (Peek() == '|') {
      rule.push_back({ET::kAlt, 0});
      ++pos_;
      SkipSpace(true);
      RETURN_IF_ERROR(ParseSequence(rule_name, rule, depth));
    }
    rule.push_back({ET::kEnd, 0});
    return SetRule(id, std::move(rule), start);
  }

  // One character of a literal or class: an escape or a UTF-8 encoded code point.
  Result<uint32_t> ParseChar() {
    size_t at = pos_;
    if (AtEnd()) return Error(at, "unexpected end of grammar");
    char c = text_[pos_];
    if (c == '\\') {
      ++pos_;
      char e = Peek();
      ++pos_;
      int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
      if (digits > 0) {
        uint32_t value = 0;
        for (int i = 0; i < digits; ++i, ++pos_) {
          char h = Peek();
          int v = h >= '0' && h <= '9'   ? h - '0'
                  : h >= 'a' && h <= 'f' ? h - 'a' + 10
                  : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                         : -1;
          if (v < 0)
            return Error(pos_, std::string("expecting ") + std::to_string(digits) +
                                   " hex digits after \\" + e);
          value = value * 16 + static_cast<uint32_t>(v);
        }
        if (value > 0x10FFFF) return Error(at, "escape is above U+10FFFF");
        return value;
      }
      switch (e) {
        case 'n':
          return uint32_t{'\n'};
        case 'r':
          return uint32_t{'\r'};
        case 't':
          return uint32_t{'\t'};
        case '\\':
        case '"':
        case '[':
        case ']':
        case '-':
        case '^':
          return static_cast<uint32_t>(e);
        default:
          return Error(at, std::string("unknown escape '\\") + (e ? std::string(1, e) : "") + "'");
      }
    }
    size_t n = 0;
    auto b = static_cast<unsigned char>(c);
    n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || pos_ + n > text_.size()) return Error(at, "invalid UTF-8");
    uint32_t value = n == 1 ? b : b & (0x7F >> n);
    for (size_t i = 1; i < n; ++i) {
      auto cb = static_cast<unsigned char>(text_[pos_ + i]);
      if ((cb & 0xC0) != 0x80) return Error(at, "invalid UTF-8");
      value = (value << 6) | (cb & 0x3F);
    }
    if (value < MinCodePoint(static_cast<int>(n)) || value > 0x10FFFF ||
        (value >= 0xD800 && value <= 0xDFFF)) {
      return Error(at, "invalid UTF-8");
    }
    pos_ += n;
    return value;
  }

  Result<uint32_t> ParseNumber() {
    size_t start = pos_;
    uint64_t value = 0;
    while (Peek() >= '0' && Peek() <= '9') {
      value = value * 10 + static_cast<uint64_t>(Peek() - '0');
      if (value > limits_.max_repetition) {
        return Error(
            start, "repetition bound above the limit of " + std::to_string(limits_.max_repetition));
      }
      ++pos_;
    }
    if (pos_ == start) return Error(pos_, "expecting a number");
    return static_cast<uint32_t>(value);
  }

  Status ParseSequence(std::string_view rule_name, std::vector<GrammarElement>& rule, int depth) {
    size_t last_sym_start = rule.size();
    while (!AtEnd()) {
      size_t at = pos_;
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        last_sym_start = rule.size();
        while (Peek() != '"') {
          if (AtEnd() || Peek() == '\n') return Error(at, "unterminated string literal");
          ASSIGN_OR_RETURN(uint32_t ch, ParseChar());
          rule.push_back({ET::kChar, ch});
        }
        ++pos_;
      } else if (c == '[') {
        ++pos_;
        last_sym_start = rule.size();
        ET start_type = ET::kChar;
        if (Peek() == '^') {
          ++pos_;
          start_type = ET::kCharNot;
        }
        while (Peek() != ']') {
          if (AtEnd() || Peek() == '\n') return Error(at, "unterminated character class");
          ASSIGN_OR_RETURN(uint32_t lo, ParseChar());
          rule.push_back({last_sym_start < rule.size() ? ET::kCharAlt : start_type, lo});
          if (Peek() == '-' && Peek(1) != ']' && pos_ + 1 < text_.size()) {
            size_t range_at = pos_;
            ++pos_;
            ASSIGN_OR_RETURN(uint32_t hi, ParseChar());
            if (hi < lo) return Error(range_at, "character range is backwards");
            rule.push_back({ET::kCharRngUpper, hi});
          }
        }
        ++pos_;
        if (rule.size() == last_sym_start) {
          // "[]" matches nothing, "[^]" any character.
          if (start_type == ET::kChar) return Error(at, "empty character class");
          rule.push_back({ET::kCharAny, 0});
        }
      } else if (IsWordChar(c)) {
        size_t start = pos_;
        while (!AtEnd() && IsWordChar(text_[pos_])) ++pos_;
        ASSIGN_OR_RETURN(uint32_t ref,
                         SymbolId(std::string(text_.substr(start, pos_ - start)), start));
        last_sym_start = rule.size();
        rule.push_back({ET::kRuleRef, ref});
      } else if (c == '(') {
        ++pos_;
        SkipSpace(true);
        ASSIGN_OR_RETURN(uint32_t sub, GeneratedId(rule_name, at));
        RETURN_IF_ERROR(ParseAlternates(rule_name, sub, depth + 1));
        if (Peek() != ')') return Error(at, "unbalanced '(': expecting ')'");
        ++pos_;
        last_sym_start = rule.size();
        rule.push_back({ET::kRuleRef, sub});
      } else if (c == '.') {
        ++pos_;
        last_sym_start = rule.size();
        rule.push_back({ET::kCharAny, 0});
      } else if (c == '*' || c == '+' || c == '?') {
        ++pos_;
        int64_t min = c == '+' ? 1 : 0, max = c == '?' ? 1 : -1;
        RETURN_IF_ERROR(Repeat(rule_name, rule, last_sym_start, min, max, at));
      } else if (c == '{') {
        ++pos_;
        SkipSpace(true);
        ASSIGN_OR_RETURN(uint32_t min, ParseNumber());
        SkipSpace(true);
        int64_t max = min;
        if (Peek() == ',') {
          ++pos_;
          SkipSpace(true);
          max = -1;
          if (Peek() >= '0' && Peek() <= '9') {
            ASSIGN_OR_RETURN(uint32_t m, ParseNumber());
            max = m;
            SkipSpace(true);
          }
        }
        if (Peek() != '}') return Error(at, "unbalanced '{': expecting '}'");
        ++pos_;
        if (max >= 0 && max < min) return Error(at, "repetition {m,n} with n < m");
        RETURN_IF_ERROR(Repeat(rule_name, rule, last_sym_start, min, max, at));
      } else if (c == ')' && depth == 0) {
        return Error(at, "unbalanced ')'");
      } else if (c == ']' || c == '}') {
        return Error(at, std::string("unbalanced '") + c + "'");
      } else if (c == '<') {
        return Error(at, "token terminals <...> are not supported");
      } else {
        break;
      }
      SkipSpace(depth > 0);
    }
    return Status::Ok();
  }

  // x{min,max} (max -1: unbounded) as llama.cpp's handle_repetitions: min copies of x, then
  // nested optionals r_n ::= x r_{n-1} | (not n copies of x?, which would let the parse stacks
  // grow combinatorially), or r ::= x r | when unbounded.
  Status Repeat(std::string_view rule_name, std::vector<GrammarElement>& rule,
                size_t last_sym_start, int64_t min, int64_t max, size_t at) {
    if (last_sym_start == rule.size()) return Error(at, "repetition with nothing before it");
    std::vector<GrammarElement> prev(rule.begin() + static_cast<ptrdiff_t>(last_sym_start),
                                     rule.end());
    if (prev.size() * static_cast<size_t>(std::max<int64_t>(min, max)) + total_elements_ >
        limits_.max_elements) {
      return Error(at, "repetition expands to more than " + std::to_string(limits_.max_elements) +
                           " elements");
    }
    if (min == 0) {
      rule.resize(last_sym_start);
    } else {
      for (int64_t i = 1; i < min; ++i) rule.insert(rule.end(), prev.begin(), prev.end());
    }
    uint32_t last_id = 0;
    int64_t n_opt = max < 0 ? 1 : max - min;
    for (int64_t i = 0; i < n_opt; ++i) {
      std::vector<GrammarElement> rec = prev;
      ASSIGN_OR_RETURN(uint32_t id, GeneratedId(rule_name, at));
      if (i > 0 || max < 0) rec.push_back({ET::kRuleRef, max < 0 ? id : last_id});
      rec.push_back({ET::kAlt, 0});
      rec.push_back({ET::kEnd, 0});
      RETURN_IF_ERROR(SetRule(id, std::move(rec), at));
      last_id = id;
    }
    if (n_opt > 0) rule.push_back({ET::kRuleRef, last_id});
    return Status::Ok();
  }

  // A rule is nullable when some alternative is all nullable rule references; left recursion is a
  // rule reachable from itself through leading nullable references.
  Status CheckLeftRecursion() {
    size_t n = rules_.size();
    std::vector<uint8_t> nullable(n, 0);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        if (nullable[r]) continue;
        bool alt_ok = true;
        for (const GrammarElement& e : rules_[r]) {
          if (IsEndOfSequence(e)) {
            if (alt_ok) {
              nullable[r] = 1;
              changed = true;
              break;
            }
            alt_ok = true;
          } else if (e.type != ET::kRuleRef || !nullable[e.value]) {
            alt_ok = false;
          }
        }
      }
    }
    // Iterative DFS over "can start with" edges; 0 unvisited, 1 on the path, 2 done.
    std::vector<uint8_t> color(n, 0);
    std::vector<std::pair<uint32_t, size_t>> path;  // rule, next element index to look at
    for (uint32_t start = 0; start < n; ++start) {
      if (color[start]) continue;
      path.push_back({start, 0});
      color[start] = 1;
      while (!path.empty()) {
        auto& [r, i] = path.back();
        const std::vector<GrammarElement>& rule = rules_[r];
        bool pushed = false;
        while (!pushed && i < rule.size()) {  // `i` dangles once pushed
          const GrammarElement& e = rule[i];
          // Skip to the next alternative once an element cannot be empty.
          bool prefix_nullable = true;
          for (size_t j = i; j > 0 && !IsEndOfSequence(rule[j - 1]); --j) {
            const GrammarElement& p = rule[j - 1];
            if (p.type != ET::kRuleRef || !nullable[p.value]) prefix_nullable = false;
          }
          ++i;
          if (!prefix_nullable || e.type != ET::kRuleRef) continue;
          if (color[e.value] == 1) {
            return Error(def_pos_[e.value], "left recursion in rule '" + names_[e.value] + "'");
          }
          if (color[e.value] == 0) {
            color[e.value] = 1;
            path.push_back({e.value, 0});
            pushed = true;
          }
        }
        if (!pushed) {
          color[path.back().first] = 2;
          path.pop_back();
        }
      }
    }
    return Status::Ok();
  }

  std::string_view text_;
  GrammarLimits limits_;
  size_t pos_ = 0;
  size_t total_elements_ = 0;
  std::vector<std::vector<GrammarElement>> rules_;
  std::vector<std::string> names_;
  std::vector<uint8_t> defined_;
  std::vector<size_t> first_use_;  // where each rule was first named, for "undefined rule"
  std::vector<size_t> def_pos_;
  std::unordered_map<std::string, uint32_t> ids_;
};

Result<std::shared_ptr<const Grammar>> Grammar::Parse(std::string_view text,
                                                      const GrammarLimits& limits) {
  return GrammarParser(text, limits).Run();
}

std::span<const uint32_t> Grammar::alternatives(uint32_t rule) const {
  return {alt_offsets_.data() + alt_ranges_[rule], alt_ranges_[rule + 1] - alt_ranges_[rule]};
}

void GrammarStacks::Add(std::span<const uint32_t> s) {
  for (size_t k = 0; k < size(); ++k) {
    std::span<const uint32_t> t = stack(k);
    if (t.size() == s.size() && std::equal(t.begin(), t.end(), s.begin())) return;
  }
  data.insert(data.end(), s.begin(), s.end());
  ends.push_back(static_cast<uint32_t>(data.size()));
}

// ---- Vocabulary trie ----

GrammarVocab GrammarVocab::Build(std::span<const std::string> pieces,
                                 std::span<const int32_t> eog_ids) {
  GrammarVocab v;
  v.pieces_.assign(pieces.begin(), pieces.end());
  v.eog_.assign(pieces.size(), 0);
  for (int32_t id : eog_ids) {
    if (id >= 0 && static_cast<size_t>(id) < pieces.size()) v.eog_[id] = 1;
  }
  // Sorted pieces make the trie's preorder: each token extends the path shared with the last.
  std::vector<int32_t> order;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!v.eog_[i] && !pieces[i].empty()) order.push_back(static_cast<int32_t>(i));
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return pieces[a] != pieces[b] ? pieces[a] < pieces[b] : a < b;
  });
  v.nodes_.push_back({});
  std::vector<uint32_t> path = {0};
  std::string_view prev;
  for (int32_t id : order) {
    std::string_view s = pieces[id];
    size_t lcp = 0;
    while (lcp < s.size() && lcp < prev.size() && s[lcp] == prev[lcp]) ++lcp;
    while (path.size() > lcp + 1) {
      v.nodes_[path.back()].subtree_end = static_cast<uint32_t>(v.nodes_.size());
      path.pop_back();
    }
    for (size_t j = lcp; j < s.size(); ++j) {
      Node node;
      node.byte = static_cast<uint8_t>(s[j]);
      node.depth = static_cast<uint32_t>(j + 1);
      path.push_back(static_cast<uint32_t>(v.nodes_.size()));
      v.nodes_.push_back(node);
    }
    Node& end = v.nodes_[path.back()];
    if (end.tokens_begin == end.tokens_end) {
      end.tokens_begin = static_cast<uint32_t>(v.token_ids_.size());
    }
    v.token_ids_.push_back(id);
    end.tokens_end = static_cast<uint32_t>(v.token_ids_.size());
    prev = s;
  }
  for (uint32_t n : path) v.nodes_[n].subtree_end = static_cast<uint32_t>(v.nodes_.size());
  return v;
}

// ---- Matcher ----

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar)
    : grammar_(std::move(grammar)), el_(grammar_->elements()) {
  std::vector<uint32_t> work;
  size_t budget = grammar_->limits().max_expansions;
  for (uint32_t alt : grammar_->alternatives(grammar_->root())) {
    work.clear();
    if (!IsEndOfSequence(el_[alt])) work.push_back(alt);
    if (!Expand(work, stacks_, budget)) {
      stacks_.clear();
      break;
    }
  }
}

bool GrammarMatcher::Expand(std::vector<uint32_t>& work, GrammarStacks& out, size_t& budget) const {
  if (budget == 0) return false;
  --budget;
  if (work.empty() || el_[work.back()].type != ET::kRuleRef) {
    if (out.size() >= grammar_->limits().max_stacks) return false;
    out.Add(work);
    return true;
  }
  uint32_t pos = work.back();
  work.pop_back();
  size_t base = work.size();
  bool ok = true;
  for (uint32_t alt : grammar_->alternatives(el_[pos].value)) {
    work.resize(base);
    if (!IsEndOfSequence(el_[pos + 1])) work.push_back(pos + 1);
    if (!IsEndOfSequence(el_[alt])) work.push_back(alt);
    if (!Expand(work, out, budget)) {
      ok = false;
      break;
    }
  }
  work.resize(base);
  work.push_back(pos);
  return ok;
}

namespace {

// Whether the character element at `pos` matches `cp`; *after: the element past its class.
bool MatchChar(std::span<const GrammarElement> el, uint32_t pos, uint32_t cp, uint32_t* after) {
  bool positive = el[pos].type != ET::kCharNot;
  bool found = false;
  do {
    if (el[pos].type == ET::kCharAny) {
      found = true;
      pos += 1;
    } else if (el[pos + 1].type == ET::kCharRngUpper) {
      found = found || (el[pos].value <= cp && cp <= el[pos + 1].value);
      pos += 2;
    } else {
      found = found || el[pos].value == cp;
      pos += 1;
    }
  } while (el[pos].type == ET::kCharAlt);
  *after = pos;
  return found == positive;
}

// Whether some code point in [lo, hi] matches the character element at `pos`.
bool MatchRange(std::span<const GrammarElement> el, uint32_t pos, uint32_t lo, uint32_t hi) {
  bool positive = el[pos].type != ET::kCharNot;
  do {
    uint32_t a = el[pos].value, b = a;
    if (el[pos].type == ET::kCharAny) return true;
    if (el[pos + 1].type == ET::kCharRngUpper) {
      b = el[pos + 1].value;
      pos += 2;
    } else {
      pos += 1;
    }
    if (positive && a <= hi && lo <= b) return true;
    // Negated: fails only when one excluded range covers all of [lo, hi] (approximation:
    // coverage by several adjacent ranges is not detected, which only admits more).
    if (!positive && a <= lo && hi <= b) return false;
  } while (el[pos].type == ET::kCharAlt);
  return !positive;
}

}  // namespace

bool GrammarMatcher::AdvanceCodePoint(const GrammarStacks& in, uint32_t cp, GrammarStacks& out,
                                      std::vector<uint32_t>& work) const {
  out.clear();
  size_t budget = grammar_->limits().max_expansions;
  for (size_t k = 0; k < in.size(); ++k) {
    std::span<const uint32_t> s = in.stack(k);
    if (s.empty()) continue;
    uint32_t after = 0;
    if (!MatchChar(el_, s.back(), cp, &after)) continue;
    work.assign(s.begin(), s.end() - 1);
    if (!IsEndOfSequence(el_[after])) work.push_back(after);
    if (!Expand(work, out, budget)) return false;
  }
  return out.size() > 0;
}

bool GrammarMatcher::PartialCanMatch(const State& state) const {
  const PartialUtf8& p = state.partial;
  uint32_t shift = 6u * static_cast<uint32_t>(p.remaining);
  uint32_t lo = std::max(p.value << shift, MinCodePoint(p.length));
  uint32_t hi = std::min((p.value << shift) | ((1u << shift) - 1), 0x10FFFFu);
  if (lo > hi) return false;
  // Surrogates never complete (StepByte refuses them), so a prefix whose only completions are
  // surrogates (ED A0..BF) is a dead end even where the character class covers them.
  const uint32_t below_lo = lo, below_hi = std::min(hi, 0xD7FFu);
  const uint32_t above_lo = std::max(lo, 0xE000u), above_hi = hi;
  for (size_t k = 0; k < state.stacks.size(); ++k) {
    std::span<const uint32_t> s = state.stacks.stack(k);
    if (s.empty()) continue;
    if (below_lo <= below_hi && MatchRange(el_, s.back(), below_lo, below_hi)) return true;
    if (above_lo <= above_hi && MatchRange(el_, s.back(), above_lo, above_hi)) return true;
  }
  return false;
}

bool GrammarMatcher::StepByte(const State& state, uint8_t byte, State& next,
                              std::vector<uint32_t>& work) const {
  PartialUtf8 p = state.partial;
  if (p.remaining == 0) {
    if (byte < 0x80) {
      next.partial = {};
      return AdvanceCodePoint(state.stacks, byte, next.stacks, work);
    }
    if (byte >= 0xC2 && byte <= 0xDF) {
      p = {static_cast<uint32_t>(byte & 0x1F), 1, 2};
    } else if ((byte & 0xF0) == 0xE0) {
      p = {static_cast<uint32_t>(byte & 0x0F), 2, 3};
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      p = {static_cast<uint32_t>(byte & 0x07), 3, 4};
    } else {
      return false;
    }
  } else {
    if ((byte & 0xC0) != 0x80) return false;
    p.value = (p.value << 6) | (byte & 0x3Fu);
    --p.remaining;
    if (p.remaining == 0) {
      uint32_t cp = p.value;
      if (cp < MinCodePoint(p.length) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return false;
      }
      next.partial = {};
      return AdvanceCodePoint(state.stacks, cp, next.stacks, work);
    }
  }
  next.stacks.data.assign(state.stacks.data.begin(), state.stacks.data.end());
  next.stacks.ends.assign(state.stacks.ends.begin(), state.stacks.ends.end());
  next.partial = p;
  return PartialCanMatch(next);
}

bool GrammarMatcher::CanAccept(std::string_view bytes) const {
  State a{stacks_, partial_}, b;
  std::vector<uint32_t> work;
  for (char c : bytes) {
    if (!StepByte(a, static_cast<uint8_t>(c), b, work)) return false;
    std::swap(a, b);
  }
  return true;
}

bool GrammarMatcher::Accept(std::string_view bytes) {
  State a{stacks_, partial_}, b;
  std::vector<uint32_t> work;
  for (char c : bytes) {
    if (!StepByte(a, static_cast<uint8_t>(c), b, work)) return false;
    std::swap(a, b);
  }
  stacks_ = std::move(a.stacks);
  partial_ = a.partial;
  return true;
}

bool GrammarMatcher::IsComplete() const {
  if (partial_.remaining != 0) return false;
  for (size_t k = 0; k < stacks_.size(); ++k) {
    if (stacks_.stack(k).empty()) return true;
  }
  return false;
}

bool GrammarMatcher::AllowsToken(const GrammarVocab& vocab, int32_t id) const {
  if (id < 0 || id >= vocab.n_vocab()) return false;
  if (vocab.is_eog(id)) return IsComplete();
  std::string_view piece = vocab.piece(id);
  return !piece.empty() && CanAccept(piece);
}

bool GrammarMatcher::AcceptToken(const GrammarVocab& vocab, int32_t id) {
  if (id < 0 || id >= vocab.n_vocab()) return false;
  if (vocab.is_eog(id)) return IsComplete();
  std::string_view piece = vocab.piece(id);
  return !piece.empty() && Accept(piece);
}

void GrammarMatcher::FilterDirect(const GrammarVocab& vocab, std::vector<uint8_t>& allowed) const {
  // states[d]: the state after the first d bytes of the current trie path.
  std::vector<State> states(1);
  states[0] = {stacks_, partial_};
  std::vector<uint32_t> work;
  const auto& nodes = vocab.nodes_;
  for (size_t i = 1; i < nodes.size();) {
    const GrammarVocab::Node& node = nodes[i];
    if (states.size() <= node.depth) states.resize(node.depth + 1);
    if (!StepByte(states[node.depth - 1], node.byte, states[node.depth], work)) {
      i = node.subtree_end;
      continue;
    }
    for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) allowed[vocab.token_ids_[t]] = 1;
    ++i;
  }
}

int32_t GrammarMatcher::Intern(TransitionCache& cache, const State& state) const {
  std::string& key = cache.key;
  key.clear();
  auto put = [&key](uint32_t v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(state.partial.value);
  put(static_cast<uint32_t>(state.partial.remaining) << 8 |
      static_cast<uint32_t>(state.partial.length));
  put(static_cast<uint32_t>(state.stacks.ends.size()));
  for (uint32_t e : state.stacks.ends) put(e);
  for (uint32_t d : state.stacks.data) put(d);
  auto it = cache.ids.find(key);
  if (it != cache.ids.end()) return it->second;
  if (cache.states.size() >= grammar_->limits().max_cached_states) return -1;
  auto id = static_cast<int32_t>(cache.states.size());
  cache.states.push_back(state);
  cache.next.resize(cache.next.size() + 256, TransitionCache::kUnknown);
  cache.ids.emplace(key, id);
  return id;
}

bool GrammarMatcher::FilterCached(const GrammarVocab& vocab, std::vector<uint8_t>& allowed) const {
  if (!cache_.cache) cache_.cache = std::make_unique<TransitionCache>();
  TransitionCache& cache = *cache_.cache;
  State scratch{stacks_, partial_};
  int32_t root = Intern(cache, scratch);
  if (root < 0) return false;
  std::vector<int32_t> path(1, root);  // path[d]: state id after the first d bytes
  std::vector<uint32_t> work;
  const auto& nodes = vocab.nodes_;
  for (size_t i = 1; i < nodes.size();) {
    const GrammarVocab::Node& node = nodes[i];
    size_t slot = static_cast<size_t>(path[node.depth - 1]) * 256 + node.byte;
    int32_t next = cache.next[slot];
    if (next == TransitionCache::kUnknown) {
      next = TransitionCache::kReject;
      if (StepByte(cache.states[path[node.depth - 1]], node.byte, scratch, work)) {
        next = Intern(cache, scratch);
        if (next < 0) return false;
      }
      cache.next[slot] = next;
    }
    if (next == TransitionCache::kReject) {
      i = node.subtree_end;
      continue;
    }
    if (path.size() <= node.depth) path.resize(node.depth + 1);
    path[node.depth] = next;
    for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) allowed[vocab.token_ids_[t]] = 1;
    ++i;
  }
  return true;
}

void GrammarMatcher::FilterLogits(const GrammarVocab& vocab, std::span<float> logits) const {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const bool complete = IsComplete();
  const size_t n = std::min(logits.size(), vocab.pieces_.size());
  if (!cache_.cache) cache_.cache = std::make_unique<TransitionCache>();
  State root_state{stacks_, partial_};
  const int32_t root = Intern(*cache_.cache, root_state);
  if (root >= 0) {
    auto it = cache_.cache->masks.find(root);
    if (it != cache_.cache->masks.end()) {
      const std::vector<uint64_t>& bits = it->second;
      for (size_t id = 0; id < n; ++id) {
        const bool ok = vocab.eog_[id] ? complete : ((bits[id >> 6] >> (id & 63)) & 1) != 0;
        if (!ok) logits[id] = kNegInf;
      }
      return;
    }
  }
  allowed_.assign(vocab.pieces_.size(), 0);
  if (root < 0 || !FilterCached(vocab, allowed_)) {
    // Too many distinct states (deep nesting, long counted repetitions): start the cache afresh
    // next time and walk this once without it.
    cache_.cache.reset();
    std::fill(allowed_.begin(), allowed_.end(), 0);
    FilterDirect(vocab, allowed_);
  } else if (cache_.cache->masks.size() < TransitionCache::kMaxMasks) {
    std::vector<uint64_t> bits(vocab.pieces_.size() / 64 + 1, 0);
    for (size_t id = 0; id < allowed_.size(); ++id) {
      if (allowed_[id]) bits[id >> 6] |= uint64_t{1} << (id & 63);
    }
    cache_.cache->masks.emplace(root, std::move(bits));
  }
  for (size_t id = 0; id < n; ++id) {
    const bool ok = vocab.eog_[id] ? complete : allowed_[id] != 0;
    if (!ok) logits[id] = kNegInf;
  }
}

}  // namespace corral::sampling
