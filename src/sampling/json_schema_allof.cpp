// JSON schema `allOf` -> one schema. The conjuncts (with local $refs resolved one level and nested
// allOf flattened) are merged keyword by keyword into a schema every instance of which satisfies
// all of them: types intersect, properties and required unite (a shared property becomes an
// allOf of both), lower bounds take the largest and upper bounds the smallest, enums intersect.
// A conjunct with anyOf/oneOf distributes: allOf(A, anyOf(B, C)) = anyOf(allOf(A, B),
// allOf(A, C)). Keywords that cannot be combined exactly (two different patterns, ...) are an
// InvalidArgument naming allOf.
#include <algorithm>
#include <set>
#include <vector>

#include "sampling/json_schema_internal.h"

namespace corral::sampling::json_schema_internal {
namespace {

constexpr int kMaxMergeDepth = 32;
constexpr size_t kMaxAlternatives = 64;

Status MergeError(const std::string& where, const std::string& what) {
  return InvalidArgumentError("unsupported 'allOf' at " + At(where) + ": " + what);
}

// Flattens `s` into conjuncts: each an object schema without allOf (may keep anyOf/oneOf).
Status Collect(const json& s, const RefResolver& resolve, const std::string& where, int depth,
               std::vector<json>& out) {
  if (depth > kMaxMergeDepth) return MergeError(where, "$ref / allOf nested too deeply");
  if (s.is_boolean()) {
    if (s.get<bool>()) return Status::Ok();
    return MergeError(where, "a subschema is 'false' (matches nothing)");
  }
  if (!s.is_object())
    return InvalidArgumentError("JSON schema at " + At(where) + " is not an object");
  json rest = json::object();
  for (const auto& [key, value] : s.items()) {
    if (key == "allOf" || key == "$ref" || key == "$defs" || key == "definitions" ||
        IsAnnotation(key)) {
      continue;
    }
    rest[key] = value;
  }
  if (s.contains("$ref")) {
    if (!s["$ref"].is_string()) return InvalidArgumentError("bad $ref at " + At(where));
    ASSIGN_OR_RETURN(json target, resolve(s["$ref"].get<std::string>(), where));
    RETURN_IF_ERROR(Collect(target, resolve, where, depth + 1, out));
  }
  if (s.contains("allOf")) {
    const json& list = s["allOf"];
    if (!list.is_array() || list.empty()) {
      return InvalidArgumentError("'allOf' at " + At(where) + " must be a non-empty array");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      RETURN_IF_ERROR(
          Collect(list[i], resolve, where + "/allOf/" + std::to_string(i), depth + 1, out));
    }
  }
  if (!rest.empty()) out.push_back(std::move(rest));
  return Status::Ok();
}

// Every combination of the conjuncts' anyOf/oneOf branches, each a list of conjuncts without
// them.
Status Expand(std::vector<json> conj, const RefResolver& resolve, const std::string& where,
              int depth, std::vector<std::vector<json>>& out) {
  if (depth > kMaxMergeDepth) return MergeError(where, "anyOf inside allOf nested too deeply");
  auto it = std::find_if(conj.begin(), conj.end(),
                         [](const json& c) { return c.contains("anyOf") || c.contains("oneOf"); });
  if (it == conj.end()) {
    if (out.size() >= kMaxAlternatives) {
      return MergeError(
          where, "more than " + std::to_string(kMaxAlternatives) + " anyOf/oneOf combinations");
    }
    out.push_back(std::move(conj));
    return Status::Ok();
  }
  if (it->contains("anyOf") && it->contains("oneOf")) {
    return MergeError(where, "anyOf and oneOf in one subschema");
  }
  const char* key = it->contains("anyOf") ? "anyOf" : "oneOf";  // oneOf as anyOf (not exclusive)
  json branches = (*it)[key];
  if (!branches.is_array() || branches.empty()) {
    return InvalidArgumentError("'" + std::string(key) + "' at " + At(where) +
                                " must be a non-empty array");
  }
  json rest = *it;
  rest.erase(key);
  std::vector<json> base(conj.begin(), it);
  base.insert(base.end(), it + 1, conj.end());
  if (!rest.empty()) base.push_back(rest);
  for (const json& branch : branches) {
    std::vector<json> next = base;
    RETURN_IF_ERROR(Collect(branch, resolve, where + "/" + key, depth + 1, next));
    RETURN_IF_ERROR(Expand(std::move(next), resolve, where, depth + 1, out));
  }
  return Status::Ok();
}

// A type list ("integer" inside "number" counts as itself).
std::set<std::string> Types(const json& t) {
  std::set<std::string> out;
  if (t.is_string()) out.insert(t.get<std::string>());
  if (t.is_array()) {
    for (const json& one : t) {
      if (one.is_string()) out.insert(one.get<std::string>());
    }
  }
  return out;
}

Result<json> IntersectTypes(const json& a, const json& b, const std::string& where) {
  std::set<std::string> ta = Types(a), tb = Types(b);
  json out = json::array();
  for (const std::string& t : ta) {
    bool keep = tb.count(t) || (t == "integer" && tb.count("number"));
    if (keep) out.push_back(t);
  }
  for (const std::string& t : tb) {
    if (t == "integer" && ta.count("number") && !ta.count("integer")) out.push_back(t);
  }
  if (out.empty()) return MergeError(where, "the subschemas have no type in common");
  return out.size() == 1 ? out[0] : out;
}

json AllOf(const json& a, const json& b) {
  if (a == b) return a;
  return json{{"allOf", json::array({a, b})}};
}

// Merges conjuncts that have no anyOf/oneOf/allOf/$ref left.
Result<json> MergeList(const std::vector<json>& conj, const std::string& where) {
  static const std::set<std::string> kLower = {"minLength", "minItems", "minimum",
                                               "exclusiveMinimum", "minProperties"};
  static const std::set<std::string> kUpper = {"maxLength", "maxItems", "maximum",
                                               "exclusiveMaximum", "maxProperties"};
  json out = json::object();
  for (const json& c : conj) {
    for (const auto& [key, v] : c.items()) {
      if (key == "additionalProperties") continue;  // below, once properties are known
      if (!out.contains(key)) {
        out[key] = v;
        continue;
      }
      json& have = out[key];
      if (key == "type") {
        ASSIGN_OR_RETURN(have, IntersectTypes(have, v, where));
      } else if (key == "properties") {
        if (!v.is_object() || !have.is_object()) return MergeError(where, "bad 'properties'");
        for (const auto& [name, sub] : v.items()) {
          have[name] = have.contains(name) ? AllOf(have[name], sub) : sub;
        }
      } else if (key == "required") {
        for (const json& r : v) {
          if (std::find(have.begin(), have.end(), r) == have.end()) have.push_back(r);
        }
      } else if (key == "items") {
        have = AllOf(have, v);
      } else if ((kLower.count(key) || kUpper.count(key)) && have.is_number() && v.is_number()) {
        bool larger = v.get<double>() > have.get<double>();
        if (larger == static_cast<bool>(kLower.count(key))) have = v;
      } else if (key == "enum") {
        if (!v.is_array() || !have.is_array()) return MergeError(where, "bad 'enum'");
        json common = json::array();
        for (const json& e : have) {
          if (std::find(v.begin(), v.end(), e) != v.end()) common.push_back(e);
        }
        if (common.empty()) return MergeError(where, "the enums have no value in common");
        have = common;
      } else if (have != v) {
        return MergeError(where, "conflicting '" + key + "' values");
      }
    }
  }
  if (out.contains("const") && out.contains("enum")) {
    const json& e = out["enum"];
    if (!e.is_array() || std::find(e.begin(), e.end(), out["const"]) == e.end()) {
      return MergeError(where, "'const' is not among the 'enum' values");
    }
    out.erase("enum");
  }
  // additionalProperties of conjunct c applies to the properties c does not declare: false drops
  // them (an error where required), a schema constrains them; absent allows them.
  json extra_schemas = json::array();
  bool any_false = false, any_explicit = false;
  for (const json& c : conj) {
    if (!c.contains("additionalProperties")) continue;
    const json& ap = c["additionalProperties"];
    any_explicit = true;
    if (ap == json(true)) continue;
    if (ap == json(false)) {
      any_false = true;
    } else {
      extra_schemas.push_back(ap);
    }
    if (!out.contains("properties")) continue;
    json own = c.value("properties", json::object());
    json kept = json::object();
    for (const auto& [name, sub] : out["properties"].items()) {
      if (own.contains(name)) {
        kept[name] = sub;
      } else if (ap == json(false)) {
        const json& req = out.value("required", json::array());
        if (std::find(req.begin(), req.end(), json(name)) != req.end()) {
          return MergeError(where, "property '" + name +
                                       "' is required but a subschema's additionalProperties "
                                       "is false without it");
        }
      } else {
        kept[name] = AllOf(sub, ap);
      }
    }
    out["properties"] = kept;
  }
  // Extra keys are outside every conjunct's properties, so each explicit schema applies to them.
  // Absent everywhere: absent (this compiler's default, no extra keys).
  if (any_false) {
    out["additionalProperties"] = false;
  } else if (any_explicit) {
    out["additionalProperties"] = extra_schemas.empty()       ? json(true)
                                  : extra_schemas.size() == 1 ? extra_schemas[0]
                                                              : json{{"allOf", extra_schemas}};
  }
  return out;
}

}  // namespace

Result<json> MergeAllOf(const json& schema, const RefResolver& resolve, const std::string& where) {
  std::vector<json> conj;
  RETURN_IF_ERROR(Collect(schema, resolve, where, 0, conj));
  if (conj.empty()) return json(true);  // only annotations: anything
  std::vector<std::vector<json>> combos;
  RETURN_IF_ERROR(Expand(std::move(conj), resolve, where, 0, combos));
  if (combos.size() == 1) return MergeList(combos[0], where);
  json alts = json::array();
  for (const std::vector<json>& combo : combos) {
    ASSIGN_OR_RETURN(json merged, MergeList(combo, where));
    alts.push_back(std::move(merged));
  }
  return json{{"anyOf", alts}};
}

}  // namespace corral::sampling::json_schema_internal
