#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <tuple>
#include <utility>

namespace corral::tokenizer {
namespace {

constexpr std::string_view kPrefix = "tokenizer.ggml.";

std::string Key(std::string_view name) { return std::string(kPrefix) + std::string(name); }

// GGUF token types (gguf-py TokenType) -> attribute bits.
Result<uint32_t> AttrFromTokenType(int64_t type, size_t index) {
  switch (type) {
    case 0:
      return uint32_t{kAttrUndefined};
    case 1:
      return uint32_t{kAttrNormal};
    case 2:
      return uint32_t{kAttrUnknown};
    case 3:
      return uint32_t{kAttrControl};
    case 4:
      return uint32_t{kAttrUserDefined};
    case 5:
      return uint32_t{kAttrUnused};
    case 6:
      return uint32_t{kAttrByte};
    default:
      return CorruptionError(Key("token_type") + "[" + std::to_string(index) + "] is " +
                             std::to_string(type) + ", expected a token type 0..6");
  }
}

// A special-token id key: absent keeps `*id`; -1 / 0xFFFFFFFF mean "unset" (converters write
// that); any other id outside the vocabulary is an error.
Status ReadSpecialId(const gguf::GgufFile& file, std::string_view name, int32_t n_tokens,
                     int32_t* id) {
  const std::string key = Key(name);
  const gguf::Value* value = file.Find(key);
  if (value == nullptr) return Status::Ok();
  std::optional<int64_t> v = value->AsInt();
  if (!v) {
    return CorruptionError(key + " must be an integer, found " +
                           std::string(gguf::ValueTypeName(value->type())));
  }
  if (*v == -1 || *v == 0xFFFFFFFFll) {
    *id = kNoToken;
    return Status::Ok();
  }
  if (*v < 0 || *v >= n_tokens) {
    return OutOfRangeError(key + " = " + std::to_string(*v) + " is outside the vocabulary of " +
                           std::to_string(n_tokens) + " tokens");
  }
  *id = static_cast<int32_t>(*v);
  return Status::Ok();
}

Status ReadBool(const gguf::GgufFile& file, std::string_view name, bool* out) {
  const std::string key = Key(name);
  if (file.Find(key) == nullptr) return Status::Ok();
  ASSIGN_OR_RETURN(*out, file.GetBool(key));
  return Status::Ok();
}

bool OneOf(std::string_view text, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), text) != options.end();
}

Status ReadTokens(const gguf::GgufFile& file, Vocab* vocab) {
  ASSIGN_OR_RETURN(gguf::Value texts, file.GetArray(Key("tokens"), gguf::ValueType::kString));
  const uint64_t n = texts.array_size();
  if (n == 0 || n > static_cast<uint64_t>(INT32_MAX)) {
    return CorruptionError(Key("tokens") + " has " + std::to_string(n) +
                           " entries, expected 1 to 2^31-1");
  }
  gguf::Value scores, types;
  bool scores_are_int = false;
  if (const gguf::Value* v = file.Find(Key("scores"))) {
    scores_are_int = v->is_array() && v->element_type() == gguf::ValueType::kInt32;
    ASSIGN_OR_RETURN(scores,
                     file.GetArray(Key("scores"), scores_are_int ? gguf::ValueType::kInt32
                                                                 : gguf::ValueType::kFloat32));
    if (scores.array_size() != n) {
      return CorruptionError(Key("scores") + " has " + std::to_string(scores.array_size()) +
                             " entries but " + Key("tokens") + " has " + std::to_string(n));
    }
  }
  if (file.Find(Key("token_type")) != nullptr) {
    ASSIGN_OR_RETURN(types, file.GetArray(Key("token_type"), gguf::ValueType::kInt32));
    if (types.array_size() != n) {
      return CorruptionError(Key("token_type") + " has " + std::to_string(types.array_size()) +
                             " entries but " + Key("tokens") + " has " + std::to_string(n));
    }
  }
  // Sized exactly first (texts as stored, empty ones as their stand-in), so that the arena
  // and the index are allocated once, without slack.
  const auto stand_in = [](uint64_t i) { return "[EMPTY_" + std::to_string(i) + "]"; };
  uint64_t total_bytes = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const size_t size = texts.Element(i).AsString()->size();
    total_bytes += size != 0 ? size : stand_in(i).size();
  }
  if (total_bytes > UINT32_MAX) {
    return CorruptionError(Key("tokens") + " holds " + std::to_string(total_bytes) +
                           " bytes of text, more than 4 GiB");
  }
  vocab->texts.Reserve(n, total_bytes);
  vocab->attrs.assign(n, kAttrNormal);
  if (scores.array_size() != 0) vocab->scores.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view text = *texts.Element(i).AsString();
    std::string empty_text;
    if (text.empty()) text = empty_text = stand_in(i);  // as llama.cpp
    if (scores.array_size() != 0) {
      vocab->scores[i] = scores_are_int ? static_cast<float>(*scores.Element(i).AsInt())
                                        : static_cast<float>(*scores.Element(i).AsFloat());
    }
    if (types.array_size() != 0) {
      ASSIGN_OR_RETURN(const uint32_t attr, AttrFromTokenType(*types.Element(i).AsInt(), i));
      vocab->attrs[i] = static_cast<uint16_t>(attr);
    }
    auto [id, inserted] = vocab->texts.Insert(text);
    if (!inserted) {
      return CorruptionError("duplicate token '" + std::string(text) + "' in " + Key("tokens") +
                             " at ids " + std::to_string(id) + " and " + std::to_string(i));
    }
    vocab->max_token_bytes = std::max(vocab->max_token_bytes, text.size());
  }
  return Status::Ok();
}

Status ReadMerges(const gguf::GgufFile& file, Vocab* vocab) {
  ASSIGN_OR_RETURN(gguf::Value merges, file.GetArray(Key("merges"), gguf::ValueType::kString));
  // (left, right, rank) triples, turned into the compact table once all are known.
  std::vector<MergeTable::Merge> triples;
  triples.reserve(merges.array_size());
  std::string merged;
  for (uint64_t i = 0; i < merges.array_size(); ++i) {
    std::string_view merge = *merges.Element(i).AsString();
    const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string_view::npos;
    if (space == std::string_view::npos) {
      return CorruptionError(Key("merges") + "[" + std::to_string(i) + "] = '" +
                             std::string(merge) + "' is not two tokens separated by a space");
    }
    std::string_view left = merge.substr(0, space), right = merge.substr(space + 1);
    merged.assign(left);
    merged.append(right);
    const int32_t left_id = vocab->Find(left), right_id = vocab->Find(right);
    for (auto [part, id] : {std::pair{left, left_id}, std::pair{right, right_id},
                            std::pair{std::string_view(merged), vocab->Find(merged)}}) {
      if (id == kNoToken) {
        return CorruptionError(Key("merges") + "[" + std::to_string(i) + "] = '" +
                               std::string(merge) + "' names '" + std::string(part) +
                               "', which is not a token");
      }
    }
    triples.push_back({left_id, right_id, static_cast<int32_t>(i)});  // Build keeps the first
  }
  vocab->merges.Build(vocab->n_tokens(), std::move(triples));
  return Status::Ok();
}

// llama.cpp recognizes end-of-turn, FIM and end-of-generation tokens by their text and forces
// them to CONTROL; that changes how they are parsed and printed, so we do the same.
void ApplyTextRules(Vocab* v) {
  const auto force_control = [&](int32_t id) { v->SetAttr(id, v->attr(id) | kAttrControl); };
  const auto detect = [&](int32_t* slot, std::initializer_list<std::string_view> texts) {
    if (*slot != kNoToken) return;
    for (std::string_view text : texts) {
      if (int32_t id = v->Find(text); id != kNoToken) {
        *slot = id;
        force_control(id);
        return;
      }
    }
  };
  detect(&v->eot, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                   "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
                   "<end_of_utterance>"});
  detect(&v->eom, {"<|eom_id|>"});
  detect(&v->fim_pre, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>",
                       "▁<PRE>", "<|code_prefix|>", "<|prefix|>"});
  detect(&v->fim_suf, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>",
                       "▁<SUF>", "<|code_suffix|>", "<|suffix|>"});
  detect(&v->fim_mid, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>",
                       "▁<MID>", "<|code_middle|>", "<|middle|>"});
  detect(&v->fim_pad, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
  detect(&v->fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
  detect(&v->fim_sep, {"<|file_sep|>"});

  for (int32_t id = 0; id < v->n_tokens(); ++id) {
    if (v->HasAttr(id, kAttrControl) && v->text(id).find("unused") != std::string_view::npos) {
      v->SetAttr(id, v->attr(id) | kAttrUnused);
    }
  }

  std::vector<int32_t> eog;
  for (int32_t id : {v->fim_pad, v->fim_rep, v->fim_sep}) {
    if (id != kNoToken) eog.push_back(id);
  }
  for (int32_t id = 0; id < v->n_tokens(); ++id) {
    if (OneOf(v->text(id), {"<|eot_id|>",
                            "<|im_end|>",
                            "<|end|>",
                            "<|return|>",
                            "<|call|>",
                            "<|flush|>",
                            "<|calls|>",
                            "<end_of_turn>",
                            "<|endoftext|>",
                            "</s>",
                            "<|eom_id|>",
                            "<EOT>",
                            "_<EOT>",
                            "[EOT]",
                            "[EOS]",
                            "<|end_of_text|>",
                            "<end_of_utterance>",
                            "<eos>",
                            "<turn|>",
                            "<|tool_response>",
                            "<｜end▁of▁sentence｜>",
                            "[e~["})) {
      eog.push_back(id);
      force_control(id);
    }
    if (OneOf(v->text(id), {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})) {
      v->SetAttr(id, kAttrUserDefined);  // gpt-oss: always rendered
    }
  }
  for (int32_t id : {v->eos, v->eot, v->eom}) {
    if (id != kNoToken) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  const auto has_text = [&](std::string_view text) {
    return std::any_of(eog.begin(), eog.end(), [&](int32_t id) { return v->text(id) == text; });
  };
  const auto drop = [&](std::string_view text, uint32_t new_attr) {
    for (auto it = eog.begin(); it != eog.end(); ++it) {
      if (v->text(*it) == text) {
        v->SetAttr(*it, new_attr);
        eog.erase(it);
        return;
      }
    }
  };
  // gpt-oss / solar-open: "<|end|>" ends a message, not the generation.
  if (has_text("<|end|>") &&
      ((has_text("<|return|>") && (has_text("<|call|>") || has_text("<|calls|>"))) ||
       ((has_text("<|call|>") || has_text("<|calls|>")) && has_text("<|flush|>")))) {
    drop("<|end|>", kAttrUserDefined);
  }
  if (has_text("<|tool_response>") && has_text("</s>")) drop("</s>", kAttrNormal);
  v->end_of_generation = std::move(eog);
}

void BuildSpecialTokens(Vocab* v) {
  for (int32_t id = 0; id < v->n_tokens(); ++id) {
    if (v->HasAttr(id, kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      v->special_tokens.push_back(id);
    }
  }
  std::stable_sort(v->special_tokens.begin(), v->special_tokens.end(),
                   [&](int32_t a, int32_t b) { return v->text(a).size() > v->text(b).size(); });

  // Per-model strip attributes llama.cpp sets by name (they are not stored in GGUF).
  std::string name = v->name;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto set_attr = [&](std::string_view text, uint32_t attr, bool on) {
    if (int32_t id = v->Find(text); id != kNoToken) {
      v->SetAttr(id, on ? (v->attr(id) | attr) : (v->attr(id) & ~attr));
    }
  };
  if (OneOf(v->pre, {"jina-v2-de", "jina-v2-es", "jina-v2-code"})) {
    set_attr("<mask>", kAttrLstrip, true);
  } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (int32_t id : v->special_tokens) v->SetAttr(id, v->attr(id) | kAttrRstrip);
    set_attr("</s>", kAttrRstrip, true);
    for (std::string_view text : {"<unk>", "<s>", "<|endoftext|>"}) {
      set_attr(text, kAttrRstrip, false);
    }
  } else if (name.find("modern-bert") != std::string::npos) {
    set_attr("[MASK]", kAttrLstrip, true);
  }
}

}  // namespace

std::string_view TokenizerKindName(TokenizerKind kind) {
  switch (kind) {
    case TokenizerKind::kSpm:
      return "SPM";
    case TokenizerKind::kBpe:
      return "BPE";
    case TokenizerKind::kWpm:
      return "WPM";
  }
  return "?";
}

// Whether tokenizer.ggml.tokens holds `text` (a linear scan; only used for format detection).
static bool HasTokenText(const gguf::GgufFile& file, std::string_view text) {
  const gguf::Value* tokens = file.Find("tokenizer.ggml.tokens");
  if (tokens == nullptr || !tokens->is_array() ||
      tokens->element_type() != gguf::ValueType::kString) {
    return false;
  }
  for (uint64_t i = 0; i < tokens->array_size(); ++i) {
    if (tokens->Element(i).AsString() == text) return true;
  }
  return false;
}

Result<Vocab> Vocab::FromGguf(const gguf::GgufFile& file) {
  Vocab v;
  ASSIGN_OR_RETURN(std::string_view model, file.GetString(Key("model")));
  v.model = std::string(model);
  if (file.Find(Key("pre")) != nullptr) {
    ASSIGN_OR_RETURN(std::string_view pre, file.GetString(Key("pre")));
    v.pre = std::string(pre);
  }
  if (file.Find("general.name") != nullptr) {
    ASSIGN_OR_RETURN(std::string_view name, file.GetString("general.name"));
    v.name = std::string(name);
  }

  // Defaults per model, as llama.cpp sets them before reading the keys.
  if (model == "llama") {
    v.kind = TokenizerKind::kSpm;
    v.bos = 1, v.eos = 2, v.unk = 0;
    v.add_space_prefix = true, v.add_bos = true;
  } else if (model == "bert") {
    v.kind = TokenizerKind::kWpm;
    v.bos = 101, v.unk = 100, v.sep = 102, v.pad = 0, v.mask = 103;
    v.add_bos = true, v.add_sep = true, v.clean_spaces = true;
  } else if (model == "gpt2") {
    v.kind = TokenizerKind::kBpe;
    v.bos = 11, v.eos = 11;
    // Some Llama 3 files (converted by older tools, served by Ollama) carry no or a "default"
    // pre-tokenizer; their chat markers identify them, and Ollama treats them as llama-bpe.
    if ((v.pre.empty() || v.pre == "default") && HasTokenText(file, "<|start_header_id|>") &&
        HasTokenText(file, "<|eot_id|>")) {
      v.pre = "llama-bpe";
    }
    ASSIGN_OR_RETURN(PreTokenizerConfig pre, LookUpPreTokenizer(v.pre));
    v.pre_regexes = std::move(pre.regexes);
    v.ignore_merges = pre.ignore_merges;
    v.add_bos = pre.add_bos;
    v.clean_spaces = pre.clean_spaces;
    v.add_sep = pre.add_sep;
    if (pre.bos_is_null) v.bos = kNoToken;
  } else {
    return UnsupportedError("unknown tokenizer model '" + v.model + "' in " + Key("model") +
                            " (supported: llama, gpt2, bert)");
  }
  RETURN_IF_ERROR(ReadBool(file, "add_space_prefix", &v.add_space_prefix));
  RETURN_IF_ERROR(ReadBool(file, "remove_extra_whitespaces", &v.remove_extra_whitespaces));

  RETURN_IF_ERROR(ReadTokens(file, &v));
  if (v.kind == TokenizerKind::kBpe) RETURN_IF_ERROR(ReadMerges(file, &v));

  // Default ids outside a small vocabulary are dropped, as llama.cpp does.
  for (int32_t* id : {&v.bos, &v.eos, &v.unk, &v.sep, &v.pad, &v.mask}) {
    if (*id >= v.n_tokens()) *id = kNoToken;
  }
  const std::pair<std::string_view, int32_t*> id_keys[] = {
      {"bos_token_id", &v.bos},         {"eos_token_id", &v.eos},
      {"eot_token_id", &v.eot},         {"eom_token_id", &v.eom},
      {"unknown_token_id", &v.unk},     {"seperator_token_id", &v.sep},
      {"padding_token_id", &v.pad},     {"mask_token_id", &v.mask},
      {"fim_pre_token_id", &v.fim_pre}, {"fim_suf_token_id", &v.fim_suf},
      {"fim_mid_token_id", &v.fim_mid}, {"fim_pad_token_id", &v.fim_pad},
      {"fim_rep_token_id", &v.fim_rep}, {"fim_sep_token_id", &v.fim_sep},
      {"prefix_token_id", &v.fim_pre},  {"suffix_token_id", &v.fim_suf},
      {"middle_token_id", &v.fim_mid},
  };
  for (const auto& [name, id] : id_keys) {
    RETURN_IF_ERROR(ReadSpecialId(file, name, v.n_tokens(), id));
  }
  RETURN_IF_ERROR(ReadBool(file, "add_bos_token", &v.add_bos));
  RETURN_IF_ERROR(ReadBool(file, "add_eos_token", &v.add_eos));
  RETURN_IF_ERROR(ReadBool(file, "add_sep_token", &v.add_sep));
  for (auto [flag, id, what] :
       {std::tuple{v.add_bos, v.bos, "add_bos_token / bos_token_id"},
        std::tuple{v.add_eos, v.eos, "add_eos_token / eos_token_id"},
        std::tuple{v.add_sep, v.sep, "add_sep_token / seperator_token_id"}}) {
    if (flag && id == kNoToken) {
      return CorruptionError(std::string("tokenizer asks to add a token that is not set: ") + what);
    }
  }

  ApplyTextRules(&v);
  // Ollama lists extra end-of-generation ids.
  if (const gguf::Value* extra = file.Find(Key("eos_token_ids")); extra && extra->is_array()) {
    for (uint64_t i = 0; i < extra->array_size(); ++i) {
      std::optional<int64_t> id = extra->Element(i).AsInt();
      if (!id || *id < 0 || *id >= v.n_tokens()) {
        return OutOfRangeError(Key("eos_token_ids") + "[" + std::to_string(i) +
                               "] is not a token id of this vocabulary");
      }
      v.end_of_generation.push_back(static_cast<int32_t>(*id));
    }
    std::sort(v.end_of_generation.begin(), v.end_of_generation.end());
    v.end_of_generation.erase(std::unique(v.end_of_generation.begin(), v.end_of_generation.end()),
                              v.end_of_generation.end());
  }
  BuildSpecialTokens(&v);
  return v;
}

}  // namespace corral::tokenizer
