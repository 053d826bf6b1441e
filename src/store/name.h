// Ollama model names (types/model/name.go): `[scheme://][host/][namespace/]model[:tag]`, parsed
// right to left, with Ollama's part rules, defaults and display form, and the mapping between a
// name and its manifest path `<host>/<namespace>/<model>/<tag>` under `manifests/`.
//
// Every part of a valid name starts with [A-Za-z0-9_] and contains only [A-Za-z0-9_.-] (plus
// ':' in the host; no '.' in the namespace), so a valid name can never spell "..", "/", "\",
// NUL or an absolute path: a valid name's Filepath() is always four plain directory entries.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "base/status.h"

namespace corral::store {

inline constexpr std::string_view kDefaultHost = "registry.ollama.ai";
inline constexpr std::string_view kDefaultNamespace = "library";
inline constexpr std::string_view kDefaultTag = "latest";
inline constexpr std::string_view kDefaultScheme = "https";

// What Ollama puts in a part that a separator promised but that is empty ("m:", "/m", "a//m"),
// so that defaults do not fill it and validation fails.
inline constexpr std::string_view kMissingPart = "!MISSING!";

enum class NamePart { kHost, kNamespace, kModel, kTag };

struct Name {
  std::string scheme;  // as written before "://"; "" when absent (kDefaultScheme applies)
  std::string host;
  std::string ns;  // namespace
  std::string model;
  std::string tag;

  // True when every part is present and valid (Ollama's IsFullyQualified).
  bool IsValid() const;

  // "host/namespace/model:tag" (parts that are empty are left out with their separator).
  std::string String() const;

  // Ollama's DisplayShortest: "model:tag" for the default host and namespace, "ns/model:tag"
  // for the default host, else "host/ns/model:tag". The tag is always shown.
  std::string DisplayShortest() const;

  // "host/namespace/model/tag", the manifest's path relative to `manifests/`. Only for valid
  // names (CHECKed: a caller that skipped validation is a bug, not user input).
  std::string Filepath() const;

  // Case-insensitive comparison of host, namespace, model and tag (the scheme is ignored).
  bool EqualFold(const Name& other) const;

  // Exact comparison of the four parts (the casing matters; the scheme is ignored).
  friend bool operator==(const Name& a, const Name& b) {
    return a.host == b.host && a.ns == b.ns && a.model == b.model && a.tag == b.tag;
  }
};

// Ollama's ParseNameBare: splits without defaults and without validation.
Name ParseNameBare(std::string_view s);

// ParseNameBare, then the defaults (registry.ollama.ai / library / latest) fill empty parts. No
// validation: check IsValid().
Name ParseNameWithDefaults(std::string_view s);

// ParseNameWithDefaults + validation. The error (InvalidArgument) names the offending part:
// `invalid model name "a/../b": namespace ".." must start with a letter, digit or '_'`.
Result<Name> ParseName(std::string_view s);

// Whether `s` is a valid value for one part (length and characters).
bool IsValidNamePart(NamePart part, std::string_view s);

// Why `s` is not a valid part ("" when it is).
std::string NamePartError(NamePart part, std::string_view s);

// The reverse of Filepath(): "host/ns/model/tag" (exactly four '/'-separated parts, each
// valid) back to a name; InvalidArgument otherwise (Ollama skips such files when listing).
Result<Name> NameFromFilepath(std::string_view relative_path);

std::string_view NamePartLabel(NamePart part);

// For test failure messages.
inline void PrintTo(const Name& name, std::ostream* os) { *os << name.String(); }

}  // namespace corral::store
