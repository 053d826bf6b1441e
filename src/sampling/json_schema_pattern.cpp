// JSON schema `pattern` -> GBNF: an ECMAScript regex subset parsed into a small tree, rewritten
// so no unbounded repetition has a body that can match the empty string (GBNF would see left
// recursion), then printed as GBNF over the JSON-escaped form of each character.
#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "sampling/json_schema_internal.h"

namespace corral::sampling::json_schema_internal {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr int kMaxRepeat = 1000;      // {n,m} bounds above this are refused
constexpr size_t kMaxPattern = 4096;  // code points
constexpr int kMaxGroupDepth = 32;
constexpr size_t kMaxRewrite = 100000;  // tree nodes copied when rewriting nullable loops

// A set of code points as sorted, disjoint, non-adjacent inclusive ranges.
struct CharSet {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;

  void Add(uint32_t lo, uint32_t hi) { ranges.emplace_back(lo, hi); }
  void Add(const CharSet& other) {
    ranges.insert(ranges.end(), other.ranges.begin(), other.ranges.end());
  }
  void Normalize() {
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (const auto& r : ranges) {
      if (!out.empty() && r.first <= out.back().second + 1) {
        out.back().second = std::max(out.back().second, r.second);
      } else {
        out.push_back(r);
      }
    }
    ranges = std::move(out);
  }
  CharSet Complement() const {  // of a normalized set
    CharSet out;
    uint32_t next = 0;
    for (const auto& [lo, hi] : ranges) {
      if (lo > next) out.Add(next, lo - 1);
      next = hi + 1;
    }
    if (next <= kMaxCodePoint) out.Add(next, kMaxCodePoint);
    return out;
  }
  CharSet Intersect(uint32_t lo, uint32_t hi) const {
    CharSet out;
    for (const auto& r : ranges) {
      uint32_t a = std::max(lo, r.first), b = std::min(hi, r.second);
      if (a <= b) out.Add(a, b);
    }
    return out;
  }
  bool Contains(uint32_t c) const {
    for (const auto& [lo, hi] : ranges) {
      if (c >= lo && c <= hi) return true;
    }
    return false;
  }
};

CharSet Of(std::initializer_list<std::pair<uint32_t, uint32_t>> ranges) {
  CharSet s;
  for (const auto& r : ranges) s.Add(r.first, r.second);
  s.Normalize();
  return s;
}

// ECMAScript's \d, \w, \s (WhiteSpace and LineTerminator) and `.` (all but line terminators).
const CharSet kDigit = Of({{'0', '9'}});
const CharSet kWord = Of({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
const CharSet kSpace = Of({{'\t', '\r'},
                           {' ', ' '},
                           {0xA0, 0xA0},
                           {0x1680, 0x1680},
                           {0x2000, 0x200A},
                           {0x2028, 0x2029},
                           {0x202F, 0x202F},
                           {0x205F, 0x205F},
                           {0x3000, 0x3000},
                           {0xFEFF, 0xFEFF}});
const CharSet kDot = Of({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}).Complement();

struct Node {
  enum class Kind { kChars, kSeq, kAlt, kRepeat, kBegin, kEnd };
  Kind kind = Kind::kSeq;
  CharSet chars;           // kChars
  std::vector<Node> kids;  // kSeq, kAlt; kRepeat: exactly one
  int min = 0, max = 0;    // kRepeat; max -1: unbounded
};

Node Chars(CharSet s) {
  Node n;
  n.kind = Node::Kind::kChars;
  n.chars = std::move(s);
  return n;
}

Node Repeat(Node kid, int min, int max) {
  Node n;
  n.kind = Node::Kind::kRepeat;
  n.kids.push_back(std::move(kid));
  n.min = min;
  n.max = max;
  return n;
}

bool Nullable(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kChars:
      return false;
    case Node::Kind::kSeq:
      return std::all_of(n.kids.begin(), n.kids.end(), Nullable);
    case Node::Kind::kAlt:
      return std::any_of(n.kids.begin(), n.kids.end(), Nullable);
    case Node::Kind::kRepeat:
      return n.min == 0 || Nullable(n.kids[0]);
    default:
      return true;
  }
}

size_t Count(const Node& n) {
  size_t c = 1;
  for (const Node& k : n.kids) c += Count(k);
  return c;
}

// Takes `cost` from `budget`; false (and budget 0) when it does not cover it.
bool Spend(size_t cost, size_t& budget) {
  if (cost > budget) {
    budget = 0;
    return false;
  }
  budget -= cost;
  return true;
}

// The non-empty strings of `n`'s language; nullopt when it has none. Rewriting copies subtrees:
// their sizes come out of `budget` (0 afterwards: the pattern was too complex, the result is
// incomplete).
std::optional<Node> NonEmpty(const Node& n, size_t& budget) {
  if (!Spend(Count(n), budget)) return std::nullopt;
  switch (n.kind) {
    case Node::Kind::kChars:
      return n;
    case Node::Kind::kAlt: {
      Node out;
      out.kind = Node::Kind::kAlt;
      for (const Node& k : n.kids) {
        if (auto ne = NonEmpty(k, budget)) out.kids.push_back(std::move(*ne));
      }
      if (out.kids.empty()) return std::nullopt;
      return out;
    }
    case Node::Kind::kSeq: {
      if (!Nullable(n)) return n;
      // Every kid can be empty: the first non-empty kid is kid i (those before it are empty).
      Node out;
      out.kind = Node::Kind::kAlt;
      for (size_t i = 0; i < n.kids.size(); ++i) {
        auto ne = NonEmpty(n.kids[i], budget);
        if (!ne) continue;
        Node seq;
        seq.kind = Node::Kind::kSeq;
        seq.kids.push_back(std::move(*ne));
        seq.kids.insert(seq.kids.end(), n.kids.begin() + static_cast<ptrdiff_t>(i) + 1,
                        n.kids.end());
        out.kids.push_back(std::move(seq));
      }
      if (out.kids.empty()) return std::nullopt;
      return out;
    }
    case Node::Kind::kRepeat: {
      if (n.max == 0) return std::nullopt;
      if (!Nullable(n)) return n;
      // x{0,m} (or x{n,m} with x nullable) less the empty string: a non-empty x, then x{0,m-1}.
      auto ne = NonEmpty(n.kids[0], budget);
      if (!ne) return std::nullopt;
      Node seq;
      seq.kind = Node::Kind::kSeq;
      seq.kids.push_back(std::move(*ne));
      if (n.max != 1) seq.kids.push_back(Repeat(n.kids[0], 0, n.max < 0 ? -1 : n.max - 1));
      return seq;
    }
    default:
      return std::nullopt;
  }
}

// Rewrites x{n,} with a nullable x as (non-empty x)* (the same language), bottom up.
void FixNullableLoops(Node& n, size_t& budget) {
  for (Node& k : n.kids) FixNullableLoops(k, budget);
  if (n.kind != Node::Kind::kRepeat || n.max >= 0 || !Nullable(n.kids[0])) return;
  auto ne = NonEmpty(n.kids[0], budget);
  if (!ne) {
    n = Node();  // only the empty string
    return;
  }
  FixNullableLoops(*ne, budget);
  n = Repeat(std::move(*ne), 0, -1);
}

class RegexParser {
 public:
  explicit RegexParser(std::vector<uint32_t> text) : text_(std::move(text)) {}

  Result<Node> Run() {
    ASSIGN_OR_RETURN(Node n, Alternation(0));
    at_ = pos_;
    if (pos_ < text_.size()) return Error("unbalanced ')'");
    return n;
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgumentError(what + " (offset " + std::to_string(at_) + ")");
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  uint32_t Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : 0xFFFFFFFF;
  }

  Result<Node> Alternation(int depth) {
    if (depth > kMaxGroupDepth) return Error("groups nested too deeply");
    Node alt;
    alt.kind = Node::Kind::kAlt;
    while (true) {
      ASSIGN_OR_RETURN(Node seq, Sequence(depth));
      alt.kids.push_back(std::move(seq));
      if (Peek() != '|') break;
      ++pos_;
    }
    return alt;
  }

  Result<Node> Sequence(int depth) {
    Node seq;
    seq.kind = Node::Kind::kSeq;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      ASSIGN_OR_RETURN(Node atom, Atom(depth));
      ASSIGN_OR_RETURN(atom, Quantified(std::move(atom)));
      seq.kids.push_back(std::move(atom));
    }
    return seq;
  }

  // Reads a decimal number (for {n,m}); nullopt when there is none.
  std::optional<int64_t> Number() {
    size_t start = pos_;
    int64_t v = 0;
    while (Peek() >= '0' && Peek() <= '9') {
      v = std::min<int64_t>(v * 10 + (Peek() - '0'), int64_t{1} << 40);
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    return v;
  }

  Result<Node> Quantified(Node atom) {
    uint32_t c = Peek();
    if (c != '*' && c != '+' && c != '?' && c != '{') return atom;
    at_ = pos_;
    if (atom.kind == Node::Kind::kBegin || atom.kind == Node::Kind::kEnd) {
      return Error("quantifier after an anchor");
    }
    int64_t min = 0, max = -1;
    ++pos_;
    if (c == '+') {
      min = 1;
    } else if (c == '?') {
      max = 1;
    } else if (c == '{') {
      auto lo = Number();
      if (!lo) return Error("'{' that is not a quantifier (escape it as \\{)");
      min = *lo;
      max = min;
      if (Peek() == ',') {
        ++pos_;
        auto hi = Number();
        max = hi ? *hi : -1;
      }
      if (Peek() != '}') return Error("'{' that is not a quantifier (escape it as \\{)");
      ++pos_;
      if (max >= 0 && max < min) return Error("quantifier {n,m} with m < n");
      if (min > kMaxRepeat || max > kMaxRepeat) {
        return Error("quantifier bound above " + std::to_string(kMaxRepeat));
      }
    }
    if (Peek() == '?') ++pos_;  // lazy: the same set of matching strings
    uint32_t next = Peek();
    if (next == '*' || next == '+' || next == '?' || next == '{') {
      return Error("nothing to repeat");
    }
    return Repeat(std::move(atom), static_cast<int>(min), static_cast<int>(max));
  }

  Result<Node> Atom(int depth) {
    at_ = pos_;
    uint32_t c = Peek();
    switch (c) {
      case '^':
      case '$': {
        ++pos_;
        Node n;
        n.kind = c == '^' ? Node::Kind::kBegin : Node::Kind::kEnd;
        return n;
      }
      case '.':
        ++pos_;
        return Chars(kDot);
      case '(':
        return Group(depth);
      case '[':
        return Class();
      case '\\':
        return Escape();
      case '*':
      case '+':
      case '?':
        return Error("nothing to repeat");
      case '{':
      case '}':
      case ']':
        return Error(std::string("lone '") + static_cast<char>(c) + "' (escape it)");
      default:
        ++pos_;
        return Chars(Of({{c, c}}));
    }
  }

  Result<Node> Group(int depth) {
    ++pos_;  // '('
    if (Peek() == '?') {
      if (Peek(1) == ':') {
        pos_ += 2;
      } else if (Peek(1) == '=' || Peek(1) == '!') {
        return Error("lookahead (?= / (?!");
      } else if (Peek(1) == '<' && (Peek(2) == '=' || Peek(2) == '!')) {
        return Error("lookbehind (?<= / (?<!");
      } else if (Peek(1) == '<') {  // named group: matches like any group
        pos_ += 2;
        while (!AtEnd() && Peek() != '>') ++pos_;
        if (AtEnd()) return Error("unterminated group name");
        ++pos_;
      } else {
        return Error("group modifier '(?'");
      }
    }
    ASSIGN_OR_RETURN(Node inner, Alternation(depth + 1));
    if (Peek() != ')') return Error("unbalanced '('");
    ++pos_;
    return inner;
  }

  // Reads `digits` hex digits; nullopt when they are not there.
  std::optional<uint32_t> Hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      uint32_t h = Peek();
      int d = h >= '0' && h <= '9'   ? static_cast<int>(h - '0')
              : h >= 'a' && h <= 'f' ? static_cast<int>(h - 'a' + 10)
              : h >= 'A' && h <= 'F' ? static_cast<int>(h - 'A' + 10)
                                     : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    return v;
  }

  // One escape after '\' (pos_ at the '\'): a set of characters. `in_class`: \b is backspace.
  Result<CharSet> EscapeSet(bool in_class) {
    ++pos_;
    if (AtEnd()) return Error("'\\' at the end");
    uint32_t c = Peek();
    ++pos_;
    switch (c) {
      case 'd':
        return kDigit;
      case 'D':
        return kDigit.Complement();
      case 'w':
        return kWord;
      case 'W':
        return kWord.Complement();
      case 's':
        return kSpace;
      case 'S':
        return kSpace.Complement();
      case 't':
        return Of({{'\t', '\t'}});
      case 'n':
        return Of({{'\n', '\n'}});
      case 'r':
        return Of({{'\r', '\r'}});
      case 'v':
        return Of({{'\v', '\v'}});
      case 'f':
        return Of({{'\f', '\f'}});
      case 'b':
        if (in_class) return Of({{'\b', '\b'}});
        return Error("word boundary \\b");
      case 'B':
        return Error("word boundary \\B");
      case 'k':
        return Error("backreference \\k");
      case 'p':
      case 'P':
        return Error("Unicode property escape \\p / \\P");
      case '0':
        if (Peek() >= '0' && Peek() <= '9') return Error("octal escape");
        return Of({{0, 0}});
      case 'c': {
        uint32_t l = Peek();
        if (!((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z'))) return Error("bad \\c escape");
        ++pos_;
        return Of({{l % 32, l % 32}});
      }
      case 'x': {
        auto v = Hex(2);
        if (!v) return Error("bad \\x escape");
        return Of({{*v, *v}});
      }
      case 'u': {
        uint32_t v = 0;
        if (Peek() == '{') {
          ++pos_;
          size_t start = pos_;
          while (!AtEnd() && Peek() != '}') ++pos_;
          if (AtEnd() || pos_ == start || pos_ - start > 6) return Error("bad \\u{...} escape");
          size_t end = pos_;
          pos_ = start;
          auto h = Hex(static_cast<int>(end - start));
          if (!h || *h > kMaxCodePoint) return Error("bad \\u{...} escape");
          ++pos_;  // '}'
          v = *h;
        } else {
          auto h = Hex(4);
          if (!h) return Error("bad \\u escape");
          v = *h;
          // A surrogate pair written as two escapes is one code point (u flag).
          if (v >= 0xD800 && v <= 0xDBFF && Peek() == '\\' && Peek(1) == 'u') {
            size_t save = pos_;
            pos_ += 2;
            auto lo = Hex(4);
            if (lo && *lo >= 0xDC00 && *lo <= 0xDFFF) {
              v = 0x10000 + ((v - 0xD800) << 10) + (*lo - 0xDC00);
            } else {
              pos_ = save;
            }
          }
        }
        if (v >= 0xD800 && v <= 0xDFFF) return Error("lone surrogate escape");
        return Of({{v, v}});
      }
      default:
        break;
    }
    if (c >= '1' && c <= '9')
      return Error("backreference \\" + std::string(1, static_cast<char>(c)));
    // Identity escapes of syntax characters (and '-', '/', which JSON schema authors write).
    static const std::string_view kSyntax = "^$\\.*+?()[]{}|/-";
    if (c < 0x80 && kSyntax.find(static_cast<char>(c)) != std::string_view::npos) {
      return Of({{c, c}});
    }
    --pos_;
    return Error("unknown escape");
  }

  Result<Node> Escape() {
    ASSIGN_OR_RETURN(CharSet s, EscapeSet(false));
    return Chars(std::move(s));
  }

  Result<Node> Class() {
    ++pos_;  // '['
    bool negate = false;
    if (Peek() == '^') {
      negate = true;
      ++pos_;
    }
    CharSet set;
    while (true) {
      if (AtEnd()) return Error("unterminated character class");
      if (Peek() == ']') break;
      ASSIGN_OR_RETURN(auto lo, ClassAtom());
      if (Peek() == '-' && Peek(1) != ']' && Peek(1) != 0xFFFFFFFF) {
        ++pos_;
        ASSIGN_OR_RETURN(auto hi, ClassAtom());
        if (!lo.second || !hi.second) return Error("class escape as a range end");
        if (hi.first.ranges[0].first < lo.first.ranges[0].first) {
          return Error("character class range out of order");
        }
        set.Add(lo.first.ranges[0].first, hi.first.ranges[0].first);
      } else {
        set.Add(lo.first);
      }
    }
    ++pos_;  // ']'
    set.Normalize();
    if (negate) set = set.Complement();
    if (set.ranges.empty()) return Error("character class that matches nothing");
    return Chars(std::move(set));
  }

  // One class member: (set, is a single character).
  Result<std::pair<CharSet, bool>> ClassAtom() {
    if (Peek() == '\\') {
      ASSIGN_OR_RETURN(CharSet s, EscapeSet(true));
      bool single = s.ranges.size() == 1 && s.ranges[0].first == s.ranges[0].second;
      return std::make_pair(std::move(s), single);
    }
    uint32_t c = Peek();
    ++pos_;
    return std::make_pair(Of({{c, c}}), true);
  }

  std::vector<uint32_t> text_;
  size_t pos_ = 0;
  size_t at_ = 0;  // start of the atom or quantifier being read, for messages
};

}  // namespace

std::string GbnfClassChar(uint32_t c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return std::string(1, static_cast<char>(c));
  }
  char buf[16];
  if (c < 0x100) {
    snprintf(buf, sizeof(buf), "\\x%02X", c);
  } else if (c < 0x10000) {
    snprintf(buf, sizeof(buf), "\\u%04X", c);
  } else {
    snprintf(buf, sizeof(buf), "\\U%08X", c);
  }
  return buf;
}

namespace {

// Hex digit alternatives of JSON's \uXXXX for low nibbles in `lows` (both letter cases).
std::string HexDigitClass(const std::vector<int>& lows) {
  std::string out = "[";
  for (int v : lows) {
    if (v < 10) {
      out += static_cast<char>('0' + v);
    } else {
      out += static_cast<char>('a' + v - 10);
      out += static_cast<char>('A' + v - 10);
    }
  }
  return out + "]";
}

// A GBNF class of the hex digits with values a..b, in both letter cases.
std::string HexDigits(uint32_t a, uint32_t b) {
  if (a == 0 && b == 15) return "[0-9a-fA-F]";
  std::string out = "[";
  for (uint32_t v = a; v <= b; ++v) {
    if (v < 10) {
      out += static_cast<char>('0' + v);
    } else {
      out += static_cast<char>('a' + v - 10);
      out += static_cast<char>('A' + v - 10);
    }
  }
  return out + "]";
}

// `digits` hex digits whose value is within lo..hi (< 16^digits).
std::string HexRange(uint32_t lo, uint32_t hi, int digits) {
  if (digits == 0) return "";
  uint32_t unit = 1u << (4 * (digits - 1));
  uint32_t lo_d = lo / unit, hi_d = hi / unit, lo_r = lo % unit, hi_r = hi % unit;
  auto rest = [&](uint32_t a, uint32_t b) {
    std::string r = HexRange(a, b, digits - 1);
    return r.empty() ? r : " " + r;
  };
  if (lo_d == hi_d) return HexDigits(lo_d, lo_d) + rest(lo_r, hi_r);
  std::vector<std::string> alts;
  uint32_t mid_lo = lo_d, mid_hi = hi_d;
  if (lo_r != 0) {
    alts.push_back(HexDigits(lo_d, lo_d) + rest(lo_r, unit - 1));
    ++mid_lo;
  }
  if (hi_r != unit - 1) {
    alts.push_back(HexDigits(hi_d, hi_d) + rest(0, hi_r));
    --mid_hi;
  }
  if (mid_lo <= mid_hi) alts.push_back(HexDigits(mid_lo, mid_hi) + rest(0, unit - 1));
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// A GBNF expression for one character of `s` as it appears inside a JSON string: raw where JSON
// allows it (non-ASCII also as a \u escape), else escaped (", \ and control characters; DEL as
// \u007f, as the `char` rule).
std::string EmitSet(const CharSet& s) {
  std::vector<std::string> alts;
  CharSet plain;
  for (const auto& part :
       {s.Intersect(0x20, 0x21), s.Intersect(0x23, 0x5B), s.Intersect(0x5D, 0x7E),
        s.Intersect(0x80, 0xD7FF), s.Intersect(0xE000, kMaxCodePoint)}) {
    plain.Add(part);
  }
  plain.Normalize();
  if (!plain.ranges.empty()) {
    std::string cls = "[";
    for (const auto& [lo, hi] : plain.ranges) {
      cls += GbnfClassChar(lo);
      if (hi > lo) cls += "-" + GbnfClassChar(hi);
    }
    alts.push_back(cls + "]");
  }
  // Non-ASCII BMP characters also as \uXXXX escapes, so a tokenizer without them can still
  // write them (astral ones would need surrogate pairs: raw only).
  for (const auto& part : {s.Intersect(0x80, 0xD7FF), s.Intersect(0xE000, 0xFFFF)}) {
    for (const auto& [lo, hi] : part.ranges) {
      alts.push_back(R"("\\u" )" + HexRange(lo, hi, 4));
    }
  }
  if (s.Contains('"')) alts.push_back(R"("\\\"")");
  if (s.Contains('\\')) alts.push_back(R"("\\\\")");
  if (s.Contains('/')) alts.push_back(R"("\\/")");
  static const std::pair<uint32_t, const char*> kShort[] = {{'\b', R"("\\b")"},
                                                            {'\f', R"("\\f")"},
                                                            {'\n', R"("\\n")"},
                                                            {'\r', R"("\\r")"},
                                                            {'\t', R"("\\t")"}};
  for (const auto& [c, lit] : kShort) {
    if (s.Contains(c)) alts.push_back(lit);
  }
  for (int high : {0, 1, 7}) {  // \u0000-\u001f and \u007f, grouped by their third hex digit
    std::vector<int> lows;
    for (int low = 0; low < 16; ++low) {
      uint32_t c = static_cast<uint32_t>(high * 16 + low);
      if ((c < 0x20 || c == 0x7F) && s.Contains(c)) lows.push_back(low);
    }
    if (!lows.empty()) {
      alts.push_back(R"("\\u00" [)" + std::to_string(high) + "] " + HexDigitClass(lows));
    }
  }
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

std::string Emit(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kChars:
      return EmitSet(n.chars);
    case Node::Kind::kSeq: {
      if (n.kids.empty()) return "\"\"";
      std::string out;
      for (const Node& k : n.kids) out += (out.empty() ? "" : " ") + Emit(k);
      return n.kids.size() == 1 ? out : "(" + out + ")";
    }
    case Node::Kind::kAlt: {
      if (n.kids.size() == 1) return Emit(n.kids[0]);
      std::string out = "(";
      for (size_t i = 0; i < n.kids.size(); ++i) out += (i ? " | " : "") + Emit(n.kids[i]);
      return out + ")";
    }
    case Node::Kind::kRepeat: {
      const Node& kid = n.kids[0];
      if (n.max == 0 || (kid.kind == Node::Kind::kSeq && kid.kids.empty())) return "\"\"";
      std::string body = "(" + Emit(kid) + ")";
      if (n.min == 0 && n.max == -1) return body + "*";
      if (n.min == 1 && n.max == -1) return body + "+";
      if (n.min == 0 && n.max == 1) return body + "?";
      if (n.min == n.max) return body + "{" + std::to_string(n.min) + "}";
      return body + "{" + std::to_string(n.min) + "," +
             (n.max < 0 ? std::string() : std::to_string(n.max)) + "}";
    }
    default:
      return "\"\"";
  }
}

bool HasAnchor(const Node& n) {
  if (n.kind == Node::Kind::kBegin || n.kind == Node::Kind::kEnd) return true;
  return std::any_of(n.kids.begin(), n.kids.end(), HasAnchor);
}

}  // namespace

bool DecodeUtf8(std::string_view s, std::vector<uint32_t>& out) {
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    int n = b < 0x80             ? 1
            : (b & 0xE0) == 0xC0 ? 2
            : (b & 0xF0) == 0xE0 ? 3
            : (b & 0xF8) == 0xF0 ? 4
                                 : 0;
    if (n == 0 || i + static_cast<size_t>(n) > s.size()) return false;
    uint32_t v = n == 1 ? b : b & (0x7F >> n);
    for (int k = 1; k < n; ++k) {
      auto c = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((c & 0xC0) != 0x80) return false;
      v = (v << 6) | (c & 0x3F);
    }
    static const uint32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < kMinOfLength[n] || v > kMaxCodePoint || (v >= 0xD800 && v <= 0xDFFF)) return false;
    out.push_back(v);
    i += static_cast<size_t>(n);
  }
  return true;
}

Result<std::string> PatternGbnf(std::string_view pattern, std::string_view any_char) {
  std::vector<uint32_t> text;
  if (!DecodeUtf8(pattern, text)) return InvalidArgumentError("not valid UTF-8");
  if (text.size() > kMaxPattern) {
    return InvalidArgumentError("longer than " + std::to_string(kMaxPattern) + " characters");
  }
  ASSIGN_OR_RETURN(Node top, RegexParser(std::move(text)).Run());
  // Each top-level alternative may start with ^ and end with $; without them it matches
  // anywhere in the string (JSON schema patterns are unanchored).
  std::string out;
  for (Node& seq : top.kids) {
    bool begin = !seq.kids.empty() && seq.kids.front().kind == Node::Kind::kBegin;
    if (begin) seq.kids.erase(seq.kids.begin());
    bool end = !seq.kids.empty() && seq.kids.back().kind == Node::Kind::kEnd;
    if (end) seq.kids.pop_back();
    if (HasAnchor(seq)) {
      return InvalidArgumentError(
          "^ and $ only at the start and end of the pattern (or of a top-level alternative)");
    }
    size_t budget = kMaxRewrite;
    FixNullableLoops(seq, budget);
    if (budget == 0) return InvalidArgumentError("too complex (nested optional repetitions)");
    std::string alt = Emit(seq);
    if (!begin) alt = "(" + std::string(any_char) + ")* " + alt;
    if (!end) alt += " (" + std::string(any_char) + ")*";
    out += (out.empty() ? "" : " | ") + alt;
  }
  return top.kids.size() == 1 ? out : "(" + out + ")";
}

}  // namespace corral::sampling::json_schema_internal
