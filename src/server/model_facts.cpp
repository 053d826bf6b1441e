#include "server/model_facts.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/log.h"
#include "base/strings.h"
#include "server/model_info.h"
#include "store/manifest.h"
#include "template/template.h"

namespace corral::server {
namespace {

using ojson = nlohmann::ordered_json;

Result<std::string> ReadTextLayer(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return NotFoundError("blob " + path + " not found");
  if (static_cast<uint64_t>(st.st_size) > kMaxTextLayerBytes) {
    return ResourceExhaustedError("layer " + path + " is larger than " +
                                  std::to_string(kMaxTextLayerBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename Json>
Result<Json> ReadJsonLayer(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadTextLayer(path));
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return CorruptionError("layer " + path + " is not valid JSON");
  return j;
}

void AddUnique(std::vector<std::string>* caps, const std::string& c) {
  if (std::find(caps->begin(), caps->end(), c) == caps->end()) caps->push_back(c);
}

}  // namespace

std::string LocalModel::ConfigString(const char* key) const {
  auto it = config.find(key);
  if (it == config.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

Result<LocalModel> LoadLocalModel(const store::Store& store, store::ModelEntry entry) {
  LocalModel m;
  const store::Manifest& mf = entry.manifest;
  if (!mf.config.digest.empty()) {
    ASSIGN_OR_RETURN(m.config, ReadJsonLayer<nlohmann::json>(store.BlobPath(mf.config.digest)));
    if (!m.config.is_object()) m.config = nlohmann::json::object();
  }
  for (const store::Layer& layer : mf.layers) {
    if (layer.digest.empty()) continue;
    std::string path = store.BlobPath(layer.digest);
    const std::string& type = layer.media_type;
    if (type == store::kMediaTypeModel) {
      m.model_path = path;
      m.parent_model = layer.from;
    } else if (type == store::kMediaTypeAdapter) {
      m.adapter_paths.push_back(path);
    } else if (type == store::kMediaTypeProjector) {
      m.projector_paths.push_back(path);
    } else if (type == store::kMediaTypeTemplate || type == store::kMediaTypePrompt) {
      ASSIGN_OR_RETURN(std::string text, ReadTextLayer(path));
      m.template_text = std::move(text);
    } else if (type == store::kMediaTypeSystem) {
      ASSIGN_OR_RETURN(m.system, ReadTextLayer(path));
    } else if (type == store::kMediaTypeLicense) {
      ASSIGN_OR_RETURN(std::string text, ReadTextLayer(path));
      m.licenses.push_back(std::move(text));
    } else if (type == store::kMediaTypeParams) {
      ASSIGN_OR_RETURN(m.options, ReadJsonLayer<ojson>(path));
      if (!m.options.is_object())
        return CorruptionError("params layer " + path + " is not an object");
    } else if (type == store::kMediaTypeMessages) {
      ASSIGN_OR_RETURN(m.messages, ReadJsonLayer<ojson>(path));
      if (!m.messages.is_array())
        return CorruptionError("messages layer " + path + " is not an array");
    }
  }
  m.entry = std::move(entry);
  return m;
}

nlohmann::ordered_json ModelDetails::ToJson() const {
  ojson j = {{"parent_model", parent_model}, {"format", format}, {"family", family}};
  j["families"] = families ? ojson(*families) : ojson(nullptr);
  j["parameter_size"] = parameter_size;
  j["quantization_level"] = quantization_level;
  if (context_length > 0) j["context_length"] = context_length;
  if (embedding_length > 0) j["embedding_length"] = embedding_length;
  return j;
}

ModelFacts ComputeModelFacts(const LocalModel& model, const gguf::GgufFile* gguf) {
  ModelFacts facts;
  ModelDetails& d = facts.details;
  d.parent_model = model.parent_model;
  d.format = model.ConfigString("model_format");
  d.family = model.ConfigString("model_family");
  if (auto it = model.config.find("model_families"); it != model.config.end() && it->is_array()) {
    std::vector<std::string> families;
    for (const auto& f : *it) {
      if (f.is_string()) families.push_back(f.get<std::string>());
    }
    d.families = std::move(families);
  }
  d.parameter_size = model.ConfigString("model_type");
  d.quantization_level = model.ConfigString("file_type");
  auto config_int = [&](const char* key) -> int64_t {
    auto it = model.config.find(key);
    return it != model.config.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  d.context_length = config_int("context_length");
  d.embedding_length = config_int("embedding_length");

  std::vector<std::string> config_caps;
  if (auto it = model.config.find("capabilities"); it != model.config.end() && it->is_array()) {
    for (const auto& c : *it) {
      if (c.is_string()) config_caps.push_back(c.get<std::string>());
    }
  }
  std::vector<std::string>& caps = facts.capabilities;
  if (std::find(config_caps.begin(), config_caps.end(), "image") != config_caps.end()) {
    caps = {"image"};
    return facts;
  }

  std::string chat_template;
  if (gguf != nullptr) {
    if (d.format.empty()) d.format = "gguf";
    if (const gguf::Value* arch = gguf->Find("general.architecture"); arch && d.family.empty()) {
      d.family = std::string(arch->AsString().value_or(""));
    }
    if (d.parameter_size.empty()) {
      if (uint64_t n = ParameterCount(*gguf); n > 0) d.parameter_size = HumanNumber(n);
    }
    if (d.quantization_level.empty() || d.quantization_level == "unknown") {
      if (const gguf::Value* ft = gguf->Find("general.file_type")) {
        if (auto n = ft->AsUint()) d.quantization_level = FileTypeString(*n);
      }
    }
    if (d.context_length == 0)
      d.context_length = static_cast<int64_t>(ArchUint(*gguf, "context_length"));
    if (d.embedding_length == 0) {
      d.embedding_length = static_cast<int64_t>(ArchUint(*gguf, "embedding_length"));
    }
    AddUnique(&caps, HasArchKey(*gguf, "pooling_type") ? "embedding" : "completion");
    if (HasArchKey(*gguf, "vision.block_count")) AddUnique(&caps, "vision");
    if (const gguf::Value* ct = gguf->Find("tokenizer.chat_template")) {
      chat_template = std::string(ct->AsString().value_or(""));
    }
  } else {
    for (const std::string& c : config_caps) AddUnique(&caps, c);
  }

  if (model.template_text) {
    // A template that does not parse gives no template capabilities (Ollama logs and goes on).
    Result<tmpl::Template> t = tmpl::Template::Parse("", *model.template_text);
    if (t.ok()) {
      std::vector<std::string> vars = t->Vars();
      auto has = [&](const char* v) {
        return std::find(vars.begin(), vars.end(), v) != vars.end();
      };
      if (has("tools")) AddUnique(&caps, "tools");
      if (has("suffix")) AddUnique(&caps, "insert");
    } else {
      LOG(kWarn) << "model template contains errors: " << t.status().message();
    }
  } else if (!chat_template.empty()) {
    // No Go TEMPLATE: the GGUF's Jinja template renders the chat (the native path).
    if (chat_template.find("tools") != std::string::npos ||
        chat_template.find("tool_call") != std::string::npos) {
      AddUnique(&caps, "tools");
    }
  }
  if (!model.projector_paths.empty()) AddUnique(&caps, "vision");

  bool thinking = false;
  if (model.template_text) {
    thinking = TemplateHasThinkingTags(*model.template_text);
  } else if (!chat_template.empty()) {
    thinking = chat_template.find("<think>") != std::string::npos &&
               chat_template.find("</think>") != std::string::npos;
  }
  if (d.family == "gptoss" || d.family == "gpt-oss") {
    thinking = true;
  }
  if (thinking) AddUnique(&caps, "thinking");
  return facts;
}

bool TemplateHasThinkingTags(std::string_view text) {
  static const std::regex kRange(R"(\{\{-?\s*range\s+[^}]*\.Messages\b)");
  static const std::regex kThinking(R"(\{\{-?\s*\.Thinking\s*-?\}\})");
  std::string s(text);
  std::smatch range;
  if (!std::regex_search(s, range, kRange)) return false;
  std::string rest = range.suffix().str();
  std::smatch think;
  if (!std::regex_search(rest, think, kThinking)) return false;
  // The literal text right before the action (after the previous "}}") and right after it
  // (before the next "{{") are the tags.
  std::string before = think.prefix().str();
  size_t close = before.rfind("}}");
  std::string_view opening =
      TrimSpace(close == std::string::npos ? std::string_view(before)
                                           : std::string_view(before).substr(close + 2));
  std::string after = think.suffix().str();
  std::string_view closing = TrimSpace(std::string_view(after).substr(0, after.find("{{")));
  return !opening.empty() && !closing.empty();
}

}  // namespace corral::server
