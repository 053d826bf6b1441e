#include "server/model_routes.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "base/log.h"
#include "base/strings.h"
#include "modelfile/modelfile.h"
#include "server/json_request.h"
#include "server/model_facts.h"
#include "server/model_info.h"
#include "server/server_state.h"

namespace corral::server {
namespace {

using ojson = nlohmann::ordered_json;

// The GGUF of a model, or null when it has none or it does not open (logged).
std::unique_ptr<gguf::GgufFile> OpenGguf(const LocalModel& model) {
  if (model.model_path.empty()) return nullptr;
  Result<std::unique_ptr<gguf::GgufFile>> file = gguf::GgufFile::Open(model.model_path);
  if (!file.ok()) {
    LOG(kWarn) << "couldn't open model file " << model.model_path << ": "
               << file.status().message();
    return nullptr;
  }
  return std::move(file).value();
}

ModelFacts CachedFacts(ServerState& state, const LocalModel& model) {
  if (std::optional<ModelFacts> cached = state.facts_cache.Get(model.entry.digest)) return *cached;
  std::unique_ptr<gguf::GgufFile> file = OpenGguf(model);
  ModelFacts facts = ComputeModelFacts(model, file.get());
  state.facts_cache.Put(model.entry.digest, facts);
  return facts;
}

ojson StringArray(const std::vector<std::string>& v) {
  ojson out = ojson::array();
  for (const std::string& s : v) out.push_back(s);
  return out;
}

// Go's %#v of a value decoded from JSON into interface{}.
std::string GoSharpV(const ojson& v) {
  if (v.is_string()) return GoQuote(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return GoFloatV(v.get<double>());
  if (v.is_null()) return "<nil>";
  return v.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

// Reads the request's model name: "model", else "name".
Status RequestedModel(const JsonFields& fields, std::string* out) {
  std::string model, name;
  RETURN_IF_ERROR(fields.GetString("model", &model));
  RETURN_IF_ERROR(fields.GetString("name", &name));
  *out = model.empty() ? name : model;
  return Status::Ok();
}

}  // namespace

std::string GoFloatV(double v) {
  char sci[64];
  auto r = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  if (r.ec != std::errc()) return "NaN";
  std::string s(sci, r.ptr);
  if (s == "inf") return "+Inf";
  if (s == "-inf") return "-Inf";
  if (s.find("nan") != std::string::npos) return "NaN";
  size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  int digits = 0;
  for (size_t i = 0; i < e; ++i) digits += s[i] >= '0' && s[i] <= '9';
  int eprec = 6;  // strconv 'g' with the shortest precision
  if (eprec > digits && digits >= exp + 1) eprec = digits;
  if (exp < -4 || exp >= eprec) {
    // Go writes at least two exponent digits: "1e-05", "1.5e+21".
    std::string mant = s.substr(0, e);
    char buf[16];
    std::snprintf(buf, sizeof buf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return mant + buf;
  }
  char fixed[400];
  auto f = std::to_chars(fixed, fixed + sizeof fixed, v, std::chars_format::fixed);
  return std::string(fixed, f.ptr);
}

std::string FormatParameters(const nlohmann::ordered_json& options) {
  std::vector<std::string> lines;
  auto line = [&](const std::string& key, const ojson& value) {
    char pad[64];
    std::snprintf(pad, sizeof pad, "%-30s", key.c_str());
    lines.push_back(std::string(key.size() > 30 ? key : pad) + " " + GoSharpV(value));
  };
  for (auto it = options.begin(); it != options.end(); ++it) {
    if (it.value().is_array()) {
      for (const ojson& v : it.value()) line(it.key(), v);
    } else {
      line(it.key(), it.value());
    }
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
  return out;
}

void ListModelsHandler(ServerState& state, const httplib::Request&, RequestBody&,
                       httplib::Response& res) {
  Result<std::vector<store::ModelEntry>> entries = state.store.List();
  if (!entries.ok()) return WriteError(res, 500, entries.status().message());
  std::vector<store::ModelEntry> list = std::move(entries).value();
  std::stable_sort(list.begin(), list.end(),
                   [](const auto& a, const auto& b) { return a.modified > b.modified; });
  ojson models = ojson::array();
  for (store::ModelEntry& entry : list) {
    std::string name = entry.name.DisplayShortest();
    Result<LocalModel> model = LoadLocalModel(state.store, std::move(entry));
    if (!model.ok()) {  // Ollama skips a model whose config it cannot read
      LOG(kWarn) << "bad manifest " << name << ": " << model.status().message();
      continue;
    }
    ModelFacts facts = CachedFacts(state, *model);
    ojson m = {{"name", name}, {"model", name}};
    m["modified_at"] = FormatLocalTime(model->entry.modified);
    m["size"] = model->entry.size;
    m["digest"] = model->entry.digest.hex();
    m["details"] = facts.details.ToJson();
    if (!facts.capabilities.empty()) m["capabilities"] = StringArray(facts.capabilities);
    models.push_back(std::move(m));
  }
  WriteJson(res, ojson{{"models", std::move(models)}});
}

void ShowModelHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                      httplib::Response& res) {
  std::optional<nlohmann::json> request =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, "ShowRequest", res);
  if (!request) return;
  JsonFields fields(*request, "ShowRequest");
  std::string requested, system;
  bool verbose = false;
  nlohmann::json options;
  Status s = RequestedModel(fields, &requested);
  if (s.ok()) s = fields.GetString("system", &system);
  if (s.ok()) s = fields.GetBool("verbose", &verbose);
  if (s.ok()) s = fields.GetObject("options", &options);
  if (!s.ok()) return WriteError(res, 400, s.message());
  if (requested.empty()) return WriteError(res, 400, "model is required");

  Result<store::Name> name = store::ParseName(requested);
  if (!name.ok()) return WriteError(res, 400, "invalid model name");
  Result<store::Name> resolved = state.store.Resolve(*name);
  if (!resolved.ok()) return WriteError(res, 400, resolved.status().message());
  std::string shown = resolved->DisplayShortest();
  Result<store::ModelEntry> entry = state.store.ReadModel(*resolved);
  if (!entry.ok()) {
    if (entry.status().code() == StatusCode::kNotFound) {
      return WriteError(res, 404, "model '" + shown + "' not found");
    }
    return WriteError(res, 500, entry.status().message());
  }
  Result<LocalModel> model = LoadLocalModel(state.store, std::move(entry).value());
  if (!model.ok()) return WriteError(res, 500, model.status().message());
  std::shared_ptr<const ShownGguf> gguf_parts;
  if (!model->model_path.empty()) {
    std::optional<std::shared_ptr<const ShownGguf>> cached =
        verbose ? std::nullopt : state.show_cache.Get(model->entry.digest);
    if (cached) {
      gguf_parts = *cached;
    } else {
      std::unique_ptr<gguf::GgufFile> file = OpenGguf(*model);
      if (file == nullptr) {
        return WriteError(res, 500, "couldn't read the model file of '" + shown + "'");
      }
      auto parts = std::make_shared<ShownGguf>();
      if (const gguf::Value* ct = file->Find("tokenizer.chat_template")) {
        if (auto t = ct->AsString(); t && !t->empty()) parts->chat_template = std::string(*t);
      }
      parts->model_info = GgufModelInfo(*file, verbose);
      if (!file->tensors().empty()) parts->tensors = GgufTensors(*file);
      gguf_parts = parts;
      if (!verbose) state.show_cache.Put(model->entry.digest, gguf_parts);
    }
  }
  const ModelFacts facts = CachedFacts(state, *model);

  // The template Ollama would render with: the TEMPLATE layer, else the GGUF's Jinja chat
  // template (native mode), else its default "{{ .Prompt }}".
  std::string template_text = "{{ .Prompt }}";
  if (model->template_text) {
    template_text = *model->template_text;
  } else if (gguf_parts && gguf_parts->chat_template) {
    template_text = *gguf_parts->chat_template;
  }
  if (!system.empty()) model->system = system;

  ojson out = ojson::object();
  std::string license;
  for (size_t i = 0; i < model->licenses.size(); ++i) {
    license += (i ? "\n" : "") + model->licenses[i];
  }
  if (!license.empty()) out["license"] = license;
  {
    // Ollama renders the Modelfile with the request's options merged over the params layer.
    modelfile::ShowModelfileInput mf;
    mf.short_name = shown;
    mf.model_path = model->model_path;
    mf.adapter_paths = model->adapter_paths;
    mf.projector_paths = model->projector_paths;
    mf.template_text = template_text;
    mf.system = model->system;
    mf.renderer = model->ConfigString("renderer");
    mf.parser = model->ConfigString("parser");
    mf.parameters = nlohmann::json::parse(model->options.dump());
    if (options.is_object()) {
      for (auto it = options.begin(); it != options.end(); ++it) mf.parameters[it.key()] = *it;
    }
    mf.licenses = model->licenses;
    for (const ojson& m : model->messages) {
      if (!m.is_object()) continue;
      mf.messages.push_back({m.value("role", std::string()), m.value("content", std::string())});
    }
    out["modelfile"] = modelfile::FormatModelfile(mf);
  }
  if (std::string params = FormatParameters(model->options); !params.empty()) {
    out["parameters"] = params;
  }
  if (!template_text.empty()) out["template"] = template_text;
  if (!model->system.empty()) out["system"] = model->system;
  for (const char* key : {"renderer", "parser"}) {
    if (std::string v = model->ConfigString(key); !v.empty()) out[key] = v;
  }
  out["details"] = facts.details.ToJson();
  ojson messages = ojson::array();
  for (const ojson& m : model->messages) {
    if (!m.is_object()) continue;
    auto text = [&](const char* key) {
      auto it = m.find(key);
      return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    messages.push_back(ojson{{"role", text("role")}, {"content", text("content")}});
  }
  if (!messages.empty()) out["messages"] = std::move(messages);
  ojson info = gguf_parts ? gguf_parts->model_info : ojson::object();
  // Ollama's quirk for GitHub Copilot Chat, which shows general.basename as the model's name.
  if (StartsWith(req.get_header_value("User-Agent"), "GitHubCopilotChat/")) {
    info["general.basename"] = requested;
  }
  out["model_info"] = std::move(info);
  if (!model->projector_paths.empty()) {
    Result<std::unique_ptr<gguf::GgufFile>> projector =
        gguf::GgufFile::Open(model->projector_paths.front());
    if (!projector.ok()) return WriteError(res, 500, projector.status().message());
    out["projector_info"] = GgufModelInfo(**projector, verbose);
  }
  if (gguf_parts && !gguf_parts->tensors.is_null()) out["tensors"] = gguf_parts->tensors;
  if (!facts.capabilities.empty()) out["capabilities"] = StringArray(facts.capabilities);
  out["modified_at"] = FormatLocalTime(model->entry.modified);
  if (std::string v = model->ConfigString("requires"); !v.empty()) out["requires"] = v;
  WriteJson(res, out);
}

void CopyModelHandler(ServerState& state, const httplib::Request&, RequestBody& body,
                      httplib::Response& res) {
  std::optional<nlohmann::json> request =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, "CopyRequest", res);
  if (!request) return;
  JsonFields fields(*request, "CopyRequest");
  std::string source, destination;
  Status s = fields.GetString("source", &source);
  if (s.ok()) s = fields.GetString("destination", &destination);
  if (!s.ok()) return WriteError(res, 400, s.message());

  Result<store::Name> src = store::ParseName(source);
  if (!src.ok()) return WriteError(res, 400, "source " + GoQuote(source) + " is invalid");
  Result<store::Name> dst = store::ParseName(destination);
  if (!dst.ok()) {
    return WriteError(res, 400, "destination " + GoQuote(destination) + " is invalid");
  }
  Result<store::Name> src_resolved = state.store.Resolve(*src);
  if (!src_resolved.ok()) return WriteError(res, 400, src_resolved.status().message());
  Status copied = state.store.CopyModel(*src_resolved, *dst);
  if (copied.code() == StatusCode::kNotFound) {
    return WriteError(res, 404, "model " + GoQuote(source) + " not found");
  }
  if (!copied.ok()) return WriteError(res, 500, copied.message());
  res.status = 200;
}

void DeleteModelHandler(ServerState& state, const httplib::Request&, RequestBody& body,
                        httplib::Response& res) {
  std::optional<nlohmann::json> request =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, "DeleteRequest", res);
  if (!request) return;
  JsonFields fields(*request, "DeleteRequest");
  std::string requested;
  if (Status s = RequestedModel(fields, &requested); !s.ok()) {
    return WriteError(res, 400, s.message());
  }
  Result<store::Name> name = store::ParseName(requested);
  if (!name.ok()) return WriteError(res, 400, "name " + GoQuote(requested) + " is invalid");
  Result<store::Name> resolved = state.store.Resolve(*name);
  if (!resolved.ok()) return WriteError(res, 400, resolved.status().message());
  Status deleted = state.store.DeleteModel(*resolved);
  if (deleted.code() == StatusCode::kNotFound) {
    return WriteError(res, 404, "model '" + requested + "' not found");
  }
  if (!deleted.ok()) return WriteError(res, 500, deleted.message());
  res.status = 200;
}

}  // namespace corral::server
