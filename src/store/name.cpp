#include "store/name.h"

#include <array>

#include "base/check.h"
#include "base/strings.h"

namespace corral::store {
namespace {

bool IsAlnumOrUnderscore(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

size_t MaxLength(NamePart part) { return part == NamePart::kHost ? 350 : 80; }

// strings.Cut-from-the-right as Ollama's cutPromised: an empty side of a separator that was
// found becomes kMissingPart, so "m:" or "/m" can never validate.
bool CutPromised(std::string_view s, char sep, std::string* before, std::string* after) {
  size_t i = s.rfind(sep);
  if (i == std::string_view::npos) {
    *before = std::string(s);
    after->clear();
    return false;
  }
  std::string_view b = s.substr(0, i);
  std::string_view a = s.substr(i + 1);
  *before = b.empty() ? std::string(kMissingPart) : std::string(b);
  *after = a.empty() ? std::string(kMissingPart) : std::string(a);
  return true;
}

bool EqualFoldAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// For error messages: escaped and cut at 100 bytes, so a hostile name can neither forge a log
// line nor blow up a response.
std::string Quote(std::string_view s) { return QuoteForMessage(s, 100, /*ascii_only=*/false); }

}  // namespace

std::string_view NamePartLabel(NamePart part) {
  switch (part) {
    case NamePart::kHost:
      return "host";
    case NamePart::kNamespace:
      return "namespace";
    case NamePart::kModel:
      return "model";
    case NamePart::kTag:
      return "tag";
  }
  return "part";
}

std::string NamePartError(NamePart part, std::string_view s) {
  std::string label(NamePartLabel(part));
  if (s.empty() || s == kMissingPart) return label + " is empty";
  if (s.size() > MaxLength(part)) {
    return label + " is " + std::to_string(s.size()) + " bytes long; the limit is " +
           std::to_string(MaxLength(part));
  }
  if (!IsAlnumOrUnderscore(static_cast<unsigned char>(s[0]))) {
    return label + " " + Quote(s) + " must start with a letter, digit or '_'";
  }
  for (size_t i = 1; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool ok = IsAlnumOrUnderscore(c) || c == '-' || (c == '.' && part != NamePart::kNamespace) ||
              (c == ':' && part == NamePart::kHost);
    if (!ok) {
      return label + " " + Quote(s) + " contains a character that is not allowed at byte " +
             std::to_string(i);
    }
  }
  return "";
}

bool IsValidNamePart(NamePart part, std::string_view s) { return NamePartError(part, s).empty(); }

Name ParseNameBare(std::string_view s) {
  Name n;
  std::string rest;
  // '/' is not a tag character, so a ':' after the last '/' starts the tag; one before it
  // belongs to the host (a port) or the scheme.
  size_t colon = s.rfind(':');
  size_t slash = s.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    CutPromised(s, ':', &rest, &n.tag);
  } else {
    rest = std::string(s);
  }

  std::string before;
  if (!CutPromised(rest, '/', &before, &n.model)) {
    n.model = rest;
    return n;
  }
  rest = before;
  if (!CutPromised(rest, '/', &before, &n.ns)) {
    n.ns = rest;
    return n;
  }
  // Whatever is left is the host, after an optional "scheme://" (any scheme text, as Ollama's
  // strings.Cut; a '/' left in it makes the host invalid).
  size_t sep = before.find("://");
  if (sep == std::string::npos) {
    n.host = before;
  } else {
    n.scheme = before.substr(0, sep);
    n.host = before.substr(sep + 3);
  }
  return n;
}

Name ParseNameWithDefaults(std::string_view s) {
  Name n = ParseNameBare(s);
  if (n.host.empty()) n.host = std::string(kDefaultHost);
  if (n.ns.empty()) n.ns = std::string(kDefaultNamespace);
  if (n.tag.empty()) n.tag = std::string(kDefaultTag);
  return n;
}

Result<Name> ParseName(std::string_view s) {
  Name n = ParseNameWithDefaults(s);
  const std::array<std::pair<NamePart, const std::string*>, 4> parts = {{
      {NamePart::kModel, &n.model},
      {NamePart::kTag, &n.tag},
      {NamePart::kNamespace, &n.ns},
      {NamePart::kHost, &n.host},
  }};
  for (const auto& [part, value] : parts) {
    std::string why = NamePartError(part, *value);
    if (!why.empty()) return InvalidArgumentError("invalid model name " + Quote(s) + ": " + why);
  }
  return n;
}

bool Name::IsValid() const {
  return IsValidNamePart(NamePart::kHost, host) && IsValidNamePart(NamePart::kNamespace, ns) &&
         IsValidNamePart(NamePart::kModel, model) && IsValidNamePart(NamePart::kTag, tag);
}

std::string Name::String() const {
  std::string out;
  if (!host.empty()) out += host + "/";
  if (!ns.empty()) out += ns + "/";
  out += model;
  if (!tag.empty()) out += ":" + tag;
  return out;
}

std::string Name::DisplayShortest() const {
  std::string out;
  if (!EqualFoldAscii(host, kDefaultHost)) {
    out += host + "/" + ns + "/";
  } else if (!EqualFoldAscii(ns, kDefaultNamespace)) {
    out += ns + "/";
  }
  out += model + ":" + tag;
  return out;
}

std::string Name::Filepath() const {
  CHECK(IsValid()) << "Filepath() of an invalid model name: " << String();
  return host + "/" + ns + "/" + model + "/" + tag;
}

bool Name::EqualFold(const Name& other) const {
  return EqualFoldAscii(host, other.host) && EqualFoldAscii(ns, other.ns) &&
         EqualFoldAscii(model, other.model) && EqualFoldAscii(tag, other.tag);
}

Result<Name> NameFromFilepath(std::string_view relative_path) {
  std::vector<std::string> parts = Split(relative_path, '/');
  if (parts.size() != 4) {
    return InvalidArgumentError("manifest path " + Quote(relative_path) +
                                " is not host/namespace/model/tag");
  }
  Name n;
  n.host = parts[0];
  n.ns = parts[1];
  n.model = parts[2];
  n.tag = parts[3];
  const std::array<std::pair<NamePart, const std::string*>, 4> checks = {{
      {NamePart::kHost, &n.host},
      {NamePart::kNamespace, &n.ns},
      {NamePart::kModel, &n.model},
      {NamePart::kTag, &n.tag},
  }};
  for (const auto& [part, value] : checks) {
    std::string why = NamePartError(part, *value);
    if (!why.empty()) {
      return InvalidArgumentError("manifest path " + Quote(relative_path) + ": " + why);
    }
  }
  return n;
}

}  // namespace corral::store
