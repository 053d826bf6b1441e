// JSON schema number bounds -> GBNF. Integers: an exact digit-wise range grammar. Numbers: the
// bounds are first moved onto decimals with at most 16 fraction digits (outward only where the
// double comparison ajv and JavaScript make stays exact, see DecimalBound), then the same
// digit-wise construction covers the integer part and the fraction, in plain notation (no
// exponent). Every alternative is a flat sequence, so nesting stays shallow.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <vector>

#include "sampling/json_schema_internal.h"

namespace corral::sampling::json_schema_internal {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;  // JavaScript's, for integer bounds
constexpr double kMaxNumberBound = 1e15;                     // |number bounds| up to this
constexpr uint64_t kFractionScale = 10000000000000000ULL;    // 10^16: fractions in 1e-16 steps
constexpr const char* kAnyDigits = "[0-9]{0,15}";            // a fraction's free tail (bounded)
constexpr const char* kDigitCap = "9999999999999999";        // 16 digits, as `integral-part`

std::string Digits(char lo, char hi) {
  if (lo == hi) return std::string("\"") + lo + "\"";
  if (lo == '0' && hi == '9') return "[0-9]";
  return std::string("[") + lo + "-" + hi + "]";
}

// Exactly n free digits ("" for none).
std::string AnyDigits(size_t n) {
  if (n == 0) return "";
  if (n == 1) return "[0-9]";
  return "[0-9]{" + std::to_string(n) + "}";
}

std::string Lit(std::string_view s) { return s.empty() ? "" : "\"" + std::string(s) + "\""; }

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    out += (out.empty() ? "" : " ") + p;
  }
  return out;
}

std::string Group(const std::vector<std::string>& alts) {
  if (alts.size() == 1) return alts[0].empty() ? "\"\"" : alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// Digit strings of s's length that are >= s (ge) or <= s (!ge).
std::vector<std::string> FixedBound(const std::string& s, bool ge) {
  const char free_digit = ge ? '0' : '9';  // trailing digits that impose nothing
  size_t t = s.size();
  while (t > 0 && s[t - 1] == free_digit) --t;
  if (t == 0) return {AnyDigits(s.size())};
  std::vector<std::string> alts;
  for (size_t i = 0; i < t; ++i) {
    // Equal to s before i, then a digit beyond s[i] (or s[i] itself at the last constraining
    // position), then anything.
    char lo = ge ? static_cast<char>(s[i] + (i + 1 < t ? 1 : 0)) : '0';
    char hi = ge ? '9' : static_cast<char>(s[i] - (i + 1 < t ? 1 : 0));
    if (lo > hi) continue;
    alts.push_back(Join({Lit(s.substr(0, i)), Digits(lo, hi), AnyDigits(s.size() - i - 1)}));
  }
  return alts;
}

// Digit strings of the same length as lo and hi (lo <= hi) between them.
std::vector<std::string> FixedRange(const std::string& lo, const std::string& hi) {
  size_t j = 0;
  while (j < lo.size() && lo[j] == hi[j]) ++j;
  if (j == lo.size()) return {Lit(lo)};
  std::string p = lo.substr(0, j);
  std::string lo_rest = lo.substr(j + 1), hi_rest = hi.substr(j + 1);
  bool lo_free = lo_rest.find_first_not_of('0') == std::string::npos;
  bool hi_free = hi_rest.find_first_not_of('9') == std::string::npos;
  std::vector<std::string> alts;
  char mid_lo = lo_free ? lo[j] : static_cast<char>(lo[j] + 1);
  char mid_hi = hi_free ? hi[j] : static_cast<char>(hi[j] - 1);
  if (!lo_free) {
    for (const std::string& a : FixedBound(lo_rest, true)) {
      alts.push_back(Join({Lit(p + lo[j]), a}));
    }
  }
  if (mid_lo <= mid_hi) {
    alts.push_back(Join({Lit(p), Digits(mid_lo, mid_hi), AnyDigits(hi_rest.size())}));
  }
  if (!hi_free) {
    for (const std::string& a : FixedBound(hi_rest, false)) {
      alts.push_back(Join({Lit(p + hi[j]), a}));
    }
  }
  return alts;
}

// Canonical decimal integers (no leading zeros) from lo to hi, both digit strings.
std::vector<std::string> UIntRange(const std::string& lo, const std::string& hi) {
  std::vector<std::string> alts;
  size_t full_from = 0, full_to = 0;  // a run of lengths that are complete: [1-9][0-9]{a,b}
  auto flush = [&] {
    if (full_from == 0) return;
    std::string rep = full_from == full_to
                          ? std::to_string(full_from - 1)
                          : std::to_string(full_from - 1) + "," + std::to_string(full_to - 1);
    alts.push_back("[1-9] [0-9]{" + rep + "}");
    full_from = full_to = 0;
  };
  for (size_t len = lo.size(); len <= hi.size(); ++len) {
    std::string a = len == lo.size() ? lo : "1" + std::string(len - 1, '0');
    std::string b = len == hi.size() ? hi : std::string(len, '9');
    bool full = len > 1 && a == "1" + std::string(len - 1, '0') && b == std::string(len, '9');
    if (full) {
      if (full_from == 0) full_from = len;
      full_to = len;
      continue;
    }
    flush();
    for (std::string& alt : FixedRange(a, b)) alts.push_back(std::move(alt));
  }
  flush();
  return alts;
}

// Decimal tails R (the digits after a point) with 0.R >= 0.c; c has no trailing zeros and is not
// empty.
std::vector<std::string> TailAtLeast(const std::string& c) {
  std::vector<std::string> alts;
  for (size_t i = 0; i < c.size(); ++i) {
    bool last = i + 1 == c.size();
    char lo = static_cast<char>(c[i] + (last ? 0 : 1));
    if (lo > '9') continue;
    alts.push_back(Join({Lit(c.substr(0, i)), Digits(lo, '9'), kAnyDigits}));
  }
  return alts;
}

// Decimal tails R with 0.R <= 0.c (c without trailing zeros); `nonempty`: R has a digit.
std::vector<std::string> TailAtMost(const std::string& c, bool nonempty) {
  std::vector<std::string> alts;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i] > '0') {
      alts.push_back(
          Join({Lit(c.substr(0, i)), Digits('0', static_cast<char>(c[i] - 1)), kAnyDigits}));
    }
    if (i > 0 || !nonempty) alts.push_back(Lit(c.substr(0, i)));  // a prefix of c
  }
  if (c.empty()) {
    alts.push_back(nonempty ? "\"0\" [0]{0,15}" : "[0]{0,16}");
  } else {
    alts.push_back(Join({Lit(c), "[0]{0,15}"}));
  }
  return alts;
}

// Decimal tails R, with at least one digit, and 0.lo <= 0.R <= 0.hi (no trailing zeros; lo <=
// hi).
std::vector<std::string> TailBetween(const std::string& lo, const std::string& hi) {
  if (lo == hi) return {lo.empty() ? "\"0\" [0]{0,15}" : Join({Lit(lo), "[0]{0,15}"})};
  std::string lp = lo + std::string(hi.size() > lo.size() ? hi.size() - lo.size() : 0, '0');
  size_t j = 0;
  while (lp[j] == hi[j]) ++j;  // lo < hi, so they differ within hi's length
  std::string p = hi.substr(0, j);
  std::vector<std::string> alts;
  for (size_t k = std::max<size_t>(lo.size(), 1); k <= j; ++k) {
    alts.push_back(Join({Lit(p.substr(0, k)), "[0]{0,15}"}));  // shorter than the split point
  }
  std::string lo_rest = j + 1 < lo.size() ? lo.substr(j + 1) : "";
  if (lo_rest.empty()) {
    alts.push_back(Join({Lit(p + lp[j]), kAnyDigits}));
  } else {
    for (const std::string& a : TailAtLeast(lo_rest)) alts.push_back(Join({Lit(p + lp[j]), a}));
  }
  if (lp[j] + 1 <= hi[j] - 1) {
    alts.push_back(Join(
        {Lit(p), Digits(static_cast<char>(lp[j] + 1), static_cast<char>(hi[j] - 1)), kAnyDigits}));
  }
  for (const std::string& a : TailAtMost(hi.substr(j + 1), false)) {
    alts.push_back(Join({Lit(p + hi[j]), a}));
  }
  return alts;
}

// A decimal with at most 16 fraction digits: value = (neg ? -1 : 1) * (ip + fp / 10^16).
struct Decimal {
  bool neg = false;  // never set for zero
  uint64_t ip = 0;
  uint64_t fp = 0;

  std::string IntDigits() const { return std::to_string(ip); }
  std::string FracDigits() const {  // without trailing zeros
    char buf[32];
    snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(fp));
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s;
  }
  std::string Text() const {
    std::string f = FracDigits();
    return (neg ? "-" : "") + IntDigits() + (f.empty() ? "" : "." + f);
  }
  double Parsed() const { return std::strtod(Text().c_str(), nullptr); }
  Decimal Abs() const { return {false, ip, fp}; }
  bool IsZero() const { return ip == 0 && fp == 0; }
};

int Compare(const Decimal& a, const Decimal& b) {
  if (a.neg != b.neg) return a.neg ? -1 : 1;
  int mag = a.ip != b.ip ? (a.ip < b.ip ? -1 : 1) : a.fp != b.fp ? (a.fp < b.fp ? -1 : 1) : 0;
  return a.neg ? -mag : mag;
}

// d + dir * 1e-16.
Decimal Step(Decimal d, int dir) {
  if (d.neg) {
    Decimal m = Step(d.Abs(), -dir);
    m.neg = !m.IsZero() && !m.neg;
    return m;
  }
  if (dir > 0) {
    if (++d.fp == kFractionScale) {
      d.fp = 0;
      ++d.ip;
    }
  } else if (d.IsZero()) {
    d = {true, 0, 1};
  } else if (d.fp == 0) {
    --d.ip;
    d.fp = kFractionScale - 1;
  } else {
    --d.fp;
  }
  return d;
}

// `v` (|v| <= 1e15) rounded to 16 fraction digits.
Decimal Round16(double v) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%.16f", std::fabs(v));
  std::string s = buf;
  size_t dot = s.find('.');
  Decimal d;
  d.ip = std::strtoull(s.substr(0, dot).c_str(), nullptr, 10);
  d.fp = std::strtoull(s.substr(dot + 1).c_str(), nullptr, 10);
  d.neg = v < 0 && !d.IsZero();
  return d;
}

// A decimal bound D such that every decimal x >= D (lower) or x <= D (upper) parses to a double
// that passes the check against `bound` (exclusive: strictly). Rounding to the nearest double is
// monotonic, so it is enough that D itself parses to a double at or beyond the target: the bound,
// or for an exclusive bound the next double past it.
Decimal DecimalBound(double bound, bool lower, bool exclusive) {
  double target = bound;
  if (exclusive) target = std::nextafter(bound, lower ? HUGE_VAL : -HUGE_VAL);
  Decimal d = Round16(target);
  // Round16 is within 0.5e-16 of target; one step outward passes it.
  if (lower ? d.Parsed() < target : d.Parsed() > target) d = Step(d, lower ? 1 : -1);
  return d;
}

// Non-negative decimals from a to b (b nullopt: unbounded) as `int-part ("." digits)?`.
std::string NonNegative(const Decimal& a, const std::optional<Decimal>& b) {
  std::string a_int = a.IntDigits(), a_frac = a.FracDigits();
  std::vector<std::string> alts;
  if (b && b->ip == a.ip) {
    std::string b_frac = b->FracDigits();
    std::string tail = Group(TailBetween(a_frac, b_frac));
    std::string frac = "\".\" " + tail;
    alts.push_back(Lit(a_int) + " " + (a_frac.empty() ? "(" + frac + ")?" : frac));
    return Group(alts);
  }
  // Integer part a.ip: the fraction must reach a's.
  if (a_frac.empty()) {
    alts.push_back(Lit(a_int) + " (\".\" [0-9]{1,16})?");
  } else {
    alts.push_back(Lit(a_int) + " \".\" " + Group(TailAtLeast(a_frac)));
  }
  // Integer parts strictly between: any fraction.
  std::string from = std::to_string(a.ip + 1);
  std::string to = b ? (b->ip == 0 ? "" : std::to_string(b->ip - 1)) : kDigitCap;
  if (!to.empty() && (from.size() < to.size() || (from.size() == to.size() && from <= to))) {
    alts.push_back(Group(UIntRange(from, to)) + " (\".\" [0-9]{1,16})?");
  }
  // Integer part b.ip: the fraction must stay within b's.
  if (b)
    alts.push_back(Lit(b->IntDigits()) + " (\".\" " + Group(TailAtMost(b->FracDigits(), true)) +
                   ")?");
  return Group(alts);
}

// The bound keywords: value as a double, whether it was given, and for integers the exact value.
struct Bound {
  bool present = false;
  double value = 0;
  bool exclusive = false;
  std::string keyword;
};

Result<Bound> ReadBound(const json& schema, const char* inclusive, const char* exclusive,
                        bool lower, const std::string& where) {
  Bound out;
  for (const char* k : {inclusive, exclusive}) {
    if (!schema.contains(k)) continue;
    const json& v = schema[k];
    if (!v.is_number()) {
      return InvalidArgumentError("'" + std::string(k) + "' at " + At(where) + " must be a number");
    }
    double d = v.get<double>();
    if (!std::isfinite(d))
      return InvalidArgumentError("'" + std::string(k) + "' at " + At(where) + " is invalid");
    bool excl = k == exclusive;
    // The tighter of minimum / exclusiveMinimum (or the maxima); at a tie the exclusive one.
    bool tighter =
        !out.present || (lower ? d > out.value : d < out.value) || (d == out.value && excl);
    if (tighter) out = {true, d, excl, k};
  }
  return out;
}

Result<std::string> IntegerBounds(const Bound& lo, const Bound& hi, const std::string& where) {
  std::optional<int64_t> min, max;
  for (const Bound* b : {&lo, &hi}) {
    if (!b->present) continue;
    if (std::fabs(b->value) > static_cast<double>(kMaxSafeInteger)) {
      return InvalidArgumentError("'" + b->keyword + "' at " + At(where) +
                                  " is beyond +-(2^53-1), which JSON numbers cannot bound exactly");
    }
    // The bound is exact as a double here, and so is every integer near it.
    bool lower = b == &lo;
    double v = lower ? (b->exclusive ? std::floor(b->value) + 1 : std::ceil(b->value))
                     : (b->exclusive ? std::ceil(b->value) - 1 : std::floor(b->value));
    (lower ? min : max) = static_cast<int64_t>(v);
  }
  if (min && max && *min > *max) {
    return InvalidArgumentError("no integer satisfies the bounds at " + At(where));
  }
  std::vector<std::string> alts;
  if (!max || *max >= 0) {  // 0 and up
    std::string from = std::to_string(min ? std::max<int64_t>(*min, 0) : 0);
    std::string to = max ? std::to_string(*max) : kDigitCap;
    alts.push_back(Group(UIntRange(from, to)));
  }
  if (!min || *min < 0) {  // negative: "-" and the magnitude
    std::string from = std::to_string(max && *max < 0 ? -*max : 1);
    std::string to = min ? std::to_string(-*min) : kDigitCap;
    alts.push_back("\"-\" " + Group(UIntRange(from, to)));
  }
  return Group(alts) + " space";
}

Result<std::string> NumberBounds(const Bound& lo, const Bound& hi, const std::string& where) {
  std::optional<Decimal> min, max;
  for (const Bound* b : {&lo, &hi}) {
    if (!b->present) continue;
    if (std::fabs(b->value) > kMaxNumberBound) {
      return InvalidArgumentError("'" + b->keyword + "' at " + At(where) +
                                  " is beyond +-1e15, which is not supported for numbers");
    }
    bool lower = b == &lo;
    (lower ? min : max) = DecimalBound(b->value, lower, b->exclusive);
  }
  if (min && max && Compare(*min, *max) > 0) {
    return InvalidArgumentError("no number satisfies the bounds at " + At(where));
  }
  Decimal zero;
  std::vector<std::string> alts;
  if (!max || !max->neg) {  // 0 and up
    alts.push_back(NonNegative(min && !min->neg ? *min : zero, max));
  }
  if (!min || min->neg) {  // below 0 ("-0" only where 0 itself is allowed)
    std::optional<Decimal> magnitude_max;
    if (min) magnitude_max = min->Abs();
    alts.push_back("\"-\" " + NonNegative(max && max->neg ? max->Abs() : zero, magnitude_max));
  }
  return Group(alts) + " space";
}

}  // namespace

Result<std::string> NumberBoundsGbnf(const json& schema, bool integer, const std::string& where) {
  if (schema.contains("multipleOf")) {
    return InvalidArgumentError("unsupported JSON schema keyword 'multipleOf' at " + At(where));
  }
  ASSIGN_OR_RETURN(Bound lo, ReadBound(schema, "minimum", "exclusiveMinimum", true, where));
  ASSIGN_OR_RETURN(Bound hi, ReadBound(schema, "maximum", "exclusiveMaximum", false, where));
  if (!lo.present && !hi.present) return std::string();
  return integer ? IntegerBounds(lo, hi, where) : NumberBounds(lo, hi, where);
}

}  // namespace corral::sampling::json_schema_internal
