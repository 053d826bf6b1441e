#include "server/create_model.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "gguf/gguf_reader.h"
#include "quantize/quantize_model.h"
#include "quantize/recipe.h"
#include "server/json_request.h"
#include "server/model_facts.h"
#include "server/model_info.h"
#include "store/fs.h"
#include "store/manifest.h"
#include "template/library.h"
#include "template/template.h"

namespace corral::server {

using ojson = nlohmann::ordered_json;

// One layer of the manifest being built, with the status Ollama prints for it.
struct PlannedLayer {
  store::Layer layer;
  std::string status;
};

struct PreparedCreate {
  CreateRequest request;
  store::Name name;                    // the target, with the casing on disk
  std::vector<CreateProgress> queued;  // statuses of the checks ("parsing GGUF"), sent first
  std::vector<PlannedLayer> layers;    // model/projector/adapter layers or the base's layers
  nlohmann::json base_config = nlohmann::json::object();  // the `from` model's config blob
  int model_index = -1;                                   // the model layer in `layers`
  std::string architecture;                               // of the model layer's GGUF
  uint64_t parameter_count = 0;
  std::string file_type;  // the model GGUF's general.file_type in Ollama's words
  std::optional<quantize::FileType> quantize_to;
  std::string quantize_label;                       // "quantizing F16 model to Q8_0"
  const tmpl::LibraryTemplate* detected = nullptr;  // autodetected template (files only)
  bool replace_params = false;                      // write `params` as the params layer
  nlohmann::json params = nlohmann::json::object();
};

void PreparedCreateDeleter::operator()(PreparedCreate* p) const { delete p; }

namespace {

// Serializes manifest writes and the pruning that follows them, so one create's pruning never
// sees another's manifest half-decided.
std::mutex& ManifestMutex() {
  static std::mutex mu;
  return mu;
}

const char* JsonTypeName(const nlohmann::json& v) {
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

Status FieldTypeError(const nlohmann::json& v, std::string_view field, std::string_view go_type) {
  return InvalidArgumentError("json: cannot unmarshal " + std::string(JsonTypeName(v)) +
                              " into Go struct field CreateRequest." + std::string(field) +
                              " of type " + std::string(go_type));
}

Status ValueTypeError(const nlohmann::json& v, std::string_view go_type) {
  return InvalidArgumentError("json: cannot unmarshal " + std::string(JsonTypeName(v)) +
                              " into Go value of type " + std::string(go_type));
}

// map[string]string: null leaves it unset; every value must be a string (null reads as "").
Status GetStringMap(const JsonFields& fields, std::string_view key,
                    std::map<std::string, std::string>* out, bool* present) {
  const nlohmann::json* v = fields.Find(key);
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_object()) return FieldTypeError(*v, key, "map[string]string");
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (it->is_null()) {
      (*out)[it.key()] = "";
    } else if (!it->is_string()) {
      return FieldTypeError(*it, key, "string");
    } else {
      (*out)[it.key()] = it->get<std::string>();
    }
  }
  if (present != nullptr) *present = true;
  return Status::Ok();
}

// api.Message as Go encodes it: role and content always, the rest when set.
Result<ojson> DecodeMessage(const nlohmann::json& m) {
  if (!m.is_null() && !m.is_object()) return FieldTypeError(m, "messages", "api.Message");
  ojson out = ojson::object();
  auto text = [&](const char* key, std::string* s) -> Status {
    if (!m.is_object()) return Status::Ok();
    auto it = m.find(key);
    if (it == m.end() || it->is_null()) return Status::Ok();
    if (!it->is_string()) return FieldTypeError(*it, std::string("messages.") + key, "string");
    *s = it->get<std::string>();
    return Status::Ok();
  };
  std::string role, content, thinking, tool_name, tool_call_id;
  RETURN_IF_ERROR(text("role", &role));
  RETURN_IF_ERROR(text("content", &content));
  RETURN_IF_ERROR(text("thinking", &thinking));
  RETURN_IF_ERROR(text("tool_name", &tool_name));
  RETURN_IF_ERROR(text("tool_call_id", &tool_call_id));
  out["role"] = ToLower(role);
  out["content"] = content;
  if (!thinking.empty()) out["thinking"] = thinking;
  if (m.is_object()) {
    if (auto it = m.find("images"); it != m.end() && !it->is_null()) {
      if (!it->is_array()) return FieldTypeError(*it, "messages.images", "[]api.ImageData");
      for (const nlohmann::json& image : *it) {
        if (!image.is_string()) return FieldTypeError(image, "messages.images", "api.ImageData");
      }
      if (!it->empty()) out["images"] = ojson::parse(it->dump());
    }
    if (auto it = m.find("tool_calls"); it != m.end() && !it->is_null()) {
      if (!it->is_array()) return FieldTypeError(*it, "messages.tool_calls", "[]api.ToolCall");
      if (!it->empty()) out["tool_calls"] = ojson::parse(it->dump());
    }
  }
  if (!tool_name.empty()) out["tool_name"] = tool_name;
  if (!tool_call_id.empty()) out["tool_call_id"] = tool_call_id;
  return out;
}

// What golang.org/x/mod/semver accepts (the "v" optional, as Ollama adds it): "0.14.0",
// "v1.2", "1.0.0-rc1+build".
bool IsValidSemver(const std::string& v) {
  static const std::regex re(
      R"(v?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)"
      R"((\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?)?)");
  return std::regex_match(v, re);
}

// Go's fs.ValidPath, plus Ollama's extra refusals: ".", backslashes and colons.
bool IsValidRelativePath(std::string_view p) {
  if (p.empty() || p == "." || p.find_first_of("\\:") != std::string_view::npos) return false;
  for (const std::string& elem : Split(p, '/')) {
    if (elem.empty() || elem == "." || elem == "..") return false;
  }
  return true;
}

bool HasGgufMagic(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4] = {};
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n != 4) return false;
  std::string_view magic(buf, 4);
  return magic == "GGUF" || magic == "FUGG";
}

std::string GgufString(const gguf::GgufFile& f, std::string_view key) {
  const gguf::Value* v = f.Find(key);
  if (v == nullptr) return "";
  std::optional<std::string_view> s = v->AsString();
  return s ? std::string(*s) : "";
}

uint64_t GgufUint(const gguf::GgufFile& f, std::string_view key) {
  const gguf::Value* v = f.Find(key);
  if (v == nullptr) return 0;
  std::optional<uint64_t> u = v->AsUint();
  return u ? *u : 0;
}

bool GgufBool(const gguf::GgufFile& f, std::string_view key) {
  const gguf::Value* v = f.Find(key);
  if (v == nullptr) return false;
  std::optional<bool> b = v->AsBool();
  return b && *b;
}

// Ollama's choice of layer for a GGUF: adapters by general.type, projectors by general.type or
// by having a vision (or CLIP encoder) part without a language-model block count.
std::string_view GgufMediaType(const gguf::GgufFile& f) {
  std::string kind = GgufString(f, "general.type");
  if (kind == "adapter") return store::kMediaTypeAdapter;
  if (kind == "projector" || kind == "mmproj") return store::kMediaTypeProjector;
  std::string arch = GgufString(f, "general.architecture");
  uint64_t blocks = GgufUint(f, arch + ".block_count");
  if (blocks == 0 && GgufUint(f, arch + ".vision.block_count") > 0) {
    return store::kMediaTypeProjector;
  }
  if (arch == "clip" && blocks == 0 &&
      (GgufBool(f, "clip.has_vision_encoder") || GgufBool(f, "clip.has_audio_encoder"))) {
    return store::kMediaTypeProjector;
  }
  return store::kMediaTypeModel;
}

// A GGUF open error: the file's content is wrong (400) or the server could not read it (500).
Status GgufOpenError(const Status& s, std::string_view file) {
  switch (s.code()) {
    case StatusCode::kCorruption:
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnsupported:
    case StatusCode::kOutOfRange:
    case StatusCode::kResourceExhausted:
      return InvalidArgumentError("invalid GGUF file " + std::string(file) + ": " + s.message());
    default:
      return s;
  }
}

void RecordModelFacts(const gguf::GgufFile& f, PreparedCreate* p) {
  p->architecture = GgufString(f, "general.architecture");
  p->parameter_count = ParameterCount(f);
  const gguf::Value* ft = f.Find("general.file_type");
  std::optional<uint64_t> n = ft ? ft->AsUint() : std::nullopt;
  p->file_type = n ? FileTypeString(*n) : "unknown";
}

// The GGUF files of `files` (or `adapters`) as layers; `adapter` forces the adapter media type.
Status PrepareFiles(const store::Store& store, const std::map<std::string, std::string>& files,
                    bool adapter, PreparedCreate* p) {
  if (adapter && files.size() > 1) {
    return InvalidArgumentError("only one adapter is currently supported");
  }
  if (!adapter && files.empty()) return InvalidArgumentError("no files provided to convert");
  bool any = false;
  for (const auto& [file, digest_text] : files) {  // sorted by name, as Ollama iterates
    ASSIGN_OR_RETURN(store::Digest digest, store::Digest::Parse(digest_text));
    std::string path = store.BlobPath(digest);
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return InvalidArgumentError("blob not found for " + file + " (digest " + digest_text +
                                  "); upload it with POST /api/blobs/" + digest_text + " first");
    }
    if (EndsWith(file, ".safetensors")) {
      return InvalidArgumentError(
          "supplied file was not in GGUF format (safetensors import is not supported yet)");
    }
    bool magic = HasGgufMagic(path);
    if (!EndsWith(file, ".gguf") && !magic) continue;  // config.json, tokenizer files, ...
    any = true;
    p->queued.push_back({"parsing GGUF"});
    if (!magic) return InvalidArgumentError("supplied file was not in GGUF format");
    Result<std::unique_ptr<gguf::GgufFile>> opened = gguf::GgufFile::Open(path);
    if (!opened.ok()) return GgufOpenError(opened.status(), file);
    const gguf::GgufFile& f = **opened;
    if (GgufUint(f, "split.count") > 1) {
      return InvalidArgumentError("split GGUF files are not supported yet (" + file +
                                  "); merge them into one file first");
    }
    std::string_view media = adapter ? store::kMediaTypeAdapter : GgufMediaType(f);
    if (media == store::kMediaTypeModel) {
      if (p->model_index >= 0) {
        return InvalidArgumentError("only one GGUF model file is supported, got " +
                                    p->layers[p->model_index].layer.from + " and " + file);
      }
      p->model_index = static_cast<int>(p->layers.size());
      RecordModelFacts(f, p);
      p->detected = tmpl::DetectLibraryTemplate(GgufString(f, "tokenizer.chat_template"));
    }
    store::Layer layer;
    layer.media_type = std::string(media);
    layer.digest = digest;
    layer.size = static_cast<int64_t>(st.st_size);
    layer.from = file;
    p->layers.push_back({layer, "using existing layer " + digest.String()});
  }
  if (!any) return InvalidArgumentError("unknown type");
  if (!adapter && p->model_index < 0) {
    return InvalidArgumentError("files has no GGUF model, only projectors or adapters");
  }
  return Status::Ok();
}

Result<nlohmann::json> ReadJsonBlob(const store::Store& store, const store::Digest& digest) {
  ASSIGN_OR_RETURN(std::string text,
                   store::internal::ReadFileLimited(store.BlobPath(digest), kMaxTextLayerBytes));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return CorruptionError("blob " + digest.String() + " is not valid JSON");
  return j;
}

// The layers and config of the `from` model.
Status PrepareFromModel(const store::Store& store, const std::string& from, PreparedCreate* p) {
  Result<store::Name> parsed = store::ParseName(from);
  if (!parsed.ok()) return InvalidArgumentError("invalid model name");
  ASSIGN_OR_RETURN(store::Name base, store.Resolve(*parsed));
  Result<store::ModelEntry> entry = store.ReadModel(base);
  if (!entry.ok()) {
    if (entry.status().code() != StatusCode::kNotFound) return entry.status();
    return NotFoundError("model '" + from +
                         "' not found; create does not pull base models yet, pull it first");
  }
  const store::Manifest& m = entry->manifest;
  if (!m.config.digest.empty()) {
    ASSIGN_OR_RETURN(p->base_config, ReadJsonBlob(store, m.config.digest));
    if (!p->base_config.is_object()) p->base_config = nlohmann::json::object();
  }
  std::string source = base.DisplayShortest();
  for (const store::Layer& l : m.layers) {
    store::Layer layer = l;
    layer.from = source;
    if (layer.media_type == store::kMediaTypeModel && p->model_index < 0 && !layer.digest.empty()) {
      std::string path = store.BlobPath(layer.digest);
      ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> f, gguf::GgufFile::Open(path));
      p->model_index = static_cast<int>(p->layers.size());
      RecordModelFacts(*f, p);
    }
    p->layers.push_back({layer, "using existing layer " + layer.digest.String()});
  }
  return Status::Ok();
}

Status PrepareQuantize(const std::string& requested, PreparedCreate* p) {
  std::string upper = requested;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string name = upper == "Q4_K" ? "Q4_K_M" : upper == "Q5_K" ? "Q5_K_M" : upper;
  std::optional<quantize::FileType> want = quantize::FileTypeFromName(name);
  if (name == "F32") want = quantize::FileType::kAllF32;
  if (!want) return InvalidArgumentError("unsupported quantization type " + upper);
  if (p->model_index < 0) return Status::Ok();  // nothing to quantize (as Ollama)
  std::string want_name = FileTypeString(static_cast<uint64_t>(*want));
  if (p->file_type != "F16" && p->file_type != "F32" && p->file_type != "BF16") {
    return InvalidArgumentError("quantization is only supported for F16, BF16 and F32 models (" +
                                p->file_type + " given)");
  }
  if (p->file_type == want_name) return Status::Ok();
  p->quantize_to = want;
  p->quantize_label = "quantizing " + p->file_type + " model to " + want_name;
  return Status::Ok();
}

// The params layer: the request's parameters over those already in the layers (and the
// autodetected template's stop list), as Ollama's setParameters merges them.
Status PrepareParams(const store::Store& store, PreparedCreate* p) {
  nlohmann::json merged =
      p->request.parameters.is_object() ? p->request.parameters : nlohmann::json::object();
  auto add_missing = [&](const nlohmann::json& existing) {
    for (auto it = existing.begin(); it != existing.end(); ++it) {
      if (!merged.contains(it.key())) merged[it.key()] = it.value();
    }
  };
  for (const PlannedLayer& l : p->layers) {
    if (l.layer.media_type != store::kMediaTypeParams || l.layer.digest.empty()) continue;
    ASSIGN_OR_RETURN(nlohmann::json existing, ReadJsonBlob(store, l.layer.digest));
    if (!existing.is_object()) {
      return CorruptionError("params blob " + l.layer.digest.String() + " is not an object");
    }
    add_missing(existing);
  }
  if (p->detected != nullptr && !p->detected->stop.empty()) {
    nlohmann::json stop = nlohmann::json::array();
    for (std::string_view s : p->detected->stop) stop.push_back(std::string(s));
    add_missing(nlohmann::json{{"stop", stop}});
  }
  p->replace_params = !merged.empty();
  p->params = std::move(merged);
  return Status::Ok();
}

// ---- Go's encoding/json ----

// strconv.AppendFloat(f, 'f' or 'e', -1, 64) as encoding/json's floatEncoder picks it.
void AppendGoFloat(double f, std::string* out) {
  if (!std::isfinite(f)) {
    *out += "null";  // Go refuses to encode these; never produced from parsed JSON
    return;
  }
  char buf[512];
  double a = std::fabs(f);
  bool exp = a != 0 && (a < 1e-6 || a >= 1e21);
  auto r = std::to_chars(buf, buf + sizeof buf, f,
                         exp ? std::chars_format::scientific : std::chars_format::fixed);
  std::string s(buf, r.ptr);
  if (exp) {  // Go cleans "e-07" to "e-7"
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
  }
  *out += s;
}

template <typename Json>
void AppendGoJson(const Json& v, std::string* out) {
  if (v.is_null()) {
    *out += "null";
  } else if (v.is_boolean()) {
    *out += v.template get<bool>() ? "true" : "false";
  } else if (v.is_number_integer()) {
    // Go decodes numbers into float64; integers up to 2^53 print the same either way.
    double d = v.template get<double>();
    if (std::fabs(d) < 9007199254740992.0) {
      *out += v.dump();
    } else {
      AppendGoFloat(d, out);
    }
  } else if (v.is_number_float()) {
    AppendGoFloat(v.template get<double>(), out);
  } else if (v.is_string()) {
    store::AppendGoJsonString(v.template get_ref<const std::string&>(), out);
  } else if (v.is_array()) {
    out->push_back('[');
    bool first = true;
    for (const auto& e : v) {
      if (!first) out->push_back(',');
      first = false;
      AppendGoJson(e, out);
    }
    out->push_back(']');
  } else if (v.is_object()) {
    out->push_back('{');
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out->push_back(',');
      first = false;
      store::AppendGoJsonString(it.key(), out);
      out->push_back(':');
      AppendGoJson(it.value(), out);
    }
    out->push_back('}');
  } else {
    *out += "null";  // binary values do not occur in decoded JSON
  }
}

// ---- the run ----

class Run {
 public:
  Run(store::Store& store, const CreateProgressFn& progress) : store_(store), progress_(progress) {}

  void Emit(const CreateProgress& p) {
    if (!client_gone_ && progress_ && !progress_(p)) client_gone_ = true;
  }
  bool client_gone() const { return client_gone_; }

  // Stores `bytes` as a blob; the layer's status says whether it was there already.
  Result<PlannedLayer> WriteLayer(std::string_view bytes, std::string_view media_type) {
    store::Digest digest = store::Sha256Of(bytes);
    bool existed = store_.HasBlob(digest);
    if (!existed) {
      ASSIGN_OR_RETURN(store::BlobWriter writer, store_.NewBlobWriter());
      RETURN_IF_ERROR(writer.Write(bytes));
      ASSIGN_OR_RETURN(store::Digest got, writer.Commit(digest));
      created_.push_back(got);
    }
    return Planned(digest, static_cast<int64_t>(bytes.size()), media_type, existed);
  }

  // Stores the file at `path` as a blob.
  Result<PlannedLayer> WriteFileLayer(const std::string& path, std::string_view media_type) {
    ASSIGN_OR_RETURN(store::Digest digest, store::Sha256OfFile(path));
    bool existed = store_.HasBlob(digest);
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return ErrnoError("stat " + path, errno);
    if (!existed) {
      std::ifstream in(path, std::ios::binary);
      if (!in) return IoError("cannot open " + path);
      ASSIGN_OR_RETURN(store::Digest got, store_.WriteBlob(in, digest));
      created_.push_back(got);
    }
    return Planned(digest, static_cast<int64_t>(st.st_size), media_type, existed);
  }

  // After a failure: the blobs this create wrote that no manifest references go again.
  void RemoveCreatedBlobs() {
    if (created_.empty()) return;
    Result<int> removed = store_.RemoveUnreferencedBlobs(created_);
    if (!removed.ok()) {
      LOG(kWarn) << "create: cleaning up new blobs: " << removed.status().message();
    }
  }

 private:
  static PlannedLayer Planned(const store::Digest& digest, int64_t size, std::string_view media,
                              bool existed) {
    PlannedLayer p;
    p.layer.media_type = std::string(media);
    p.layer.digest = digest;
    p.layer.size = size;
    p.status = (existed ? "using existing layer " : "creating new layer ") + digest.String();
    return p;
  }

  store::Store& store_;
  const CreateProgressFn& progress_;
  bool client_gone_ = false;
  std::vector<store::Digest> created_;
};

// A path in the blobs directory for the quantized file; its name is not a digest, so start-up
// housekeeping removes it should the process die before it is moved into a blob.
std::string QuantizeTempPath(const store::Store& store) {
  static std::atomic<uint64_t> counter{0};
  return store.BlobsDir() + "/create-quantize-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1)) + ".gguf";
}

Status Quantize(store::Store& store, PreparedCreate& p, const CreateOptions& options, Run* run) {
  PlannedLayer& model = p.layers[p.model_index];
  const std::string source = store.BlobPath(model.layer.digest);
  ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> in, gguf::GgufFile::Open(source));
  uint64_t total_in = 0;
  for (const gguf::TensorInfo& t : in->tensors()) total_in += t.n_bytes;
  in.reset();

  const int64_t size = model.layer.size;
  const std::string digest = model.layer.digest.String();
  run->Emit({p.quantize_label, digest, size, 0});
  uint64_t done_in = 0;
  quantize::QuantizeOptions qopts;
  qopts.file_type = *p.quantize_to;
  qopts.n_threads = options.quantize_threads;
  qopts.on_tensor = [&](const quantize::TensorProgress& t) {
    done_in += t.bytes_in;
    double fraction = total_in > 0 ? static_cast<double>(done_in) / total_in : 1.0;
    run->Emit({p.quantize_label, digest, size,
               std::min<int64_t>(size, static_cast<int64_t>(fraction * size))});
  };
  std::string temp = QuantizeTempPath(store);
  struct Unlink {
    std::string path;
    ~Unlink() { unlink(path.c_str()); }
  } unlink_temp{temp};
  Result<quantize::QuantizeReport> report = quantize::QuantizeModel(source, temp, qopts);
  if (!report.ok()) return report.status().WithContext("quantizing");
  ASSIGN_OR_RETURN(PlannedLayer quantized, run->WriteFileLayer(temp, store::kMediaTypeModel));
  model = quantized;  // Ollama's quantized layer has no "from": it is a new blob
  p.file_type = FileTypeString(static_cast<uint64_t>(*p.quantize_to));
  return Status::Ok();
}

// Removes the layers of one media type (and the old name of the template type).
void RemoveLayers(std::vector<PlannedLayer>* layers, std::string_view media) {
  std::erase_if(*layers, [&](const PlannedLayer& l) {
    return l.layer.media_type == media ||
           (media == store::kMediaTypeTemplate && l.layer.media_type == store::kMediaTypePrompt);
  });
}

// model.ConfigV2 with Ollama's field order, from the base config and the model's GGUF facts.
ojson BuildConfig(const PreparedCreate& p) {
  const nlohmann::json& base = p.base_config;
  auto str = [&](const char* key) {
    auto it = base.find(key);
    return it != base.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto or_base = [&](const std::string& v, const char* key) { return v.empty() ? str(key) : v; };
  bool has_model = p.model_index >= 0;
  ojson c = ojson::object();
  c["model_format"] = str("model_format");
  c["model_family"] = str("model_family");
  std::vector<std::string> families;
  if (auto it = base.find("model_families"); it != base.end() && it->is_array()) {
    for (const nlohmann::json& f : *it) {
      if (f.is_string()) families.push_back(f.get<std::string>());
    }
  }
  c["model_type"] = str("model_type");
  c["file_type"] = str("file_type");
  if (has_model) {
    if (c["model_format"].get<std::string>().empty()) c["model_format"] = "gguf";
    if (c["model_family"].get<std::string>().empty()) c["model_family"] = p.architecture;
    if (c["model_type"].get<std::string>().empty()) {
      c["model_type"] = HumanNumber(p.parameter_count);
    }
    // A quantized model has the new type whatever the base said.
    if (c["file_type"].get<std::string>().empty() || p.quantize_to) c["file_type"] = p.file_type;
    if (std::find(families.begin(), families.end(), p.architecture) == families.end()) {
      families.push_back(p.architecture);
    }
  }
  c["model_families"] = families.empty() ? ojson(nullptr) : ojson(families);
  // Keep the struct's field order: model_families comes third.
  ojson ordered = ojson::object();
  for (const char* key :
       {"model_format", "model_family", "model_families", "model_type", "file_type"}) {
    ordered[key] = c[key];
  }
  auto optional = [&](const char* key, const std::string& v) {
    if (!v.empty()) ordered[key] = v;
  };
  optional("renderer", or_base(p.request.renderer, "renderer"));
  optional("parser", or_base(p.request.parser, "parser"));
  optional("requires", or_base(p.request.requires_version, "requires"));
  optional("remote_host", str("remote_host"));
  optional("remote_model", str("remote_model"));
  if (auto it = base.find("capabilities"); it != base.end() && it->is_array() && !it->empty()) {
    ordered["capabilities"] = ojson::parse(it->dump());
  }
  for (const char* key : {"context_length", "embedding_length"}) {
    auto it = base.find(key);
    if (it != base.end() && it->is_number_integer() && it->get<int64_t>() != 0) {
      ordered[key] = it->get<int64_t>();
    }
  }
  optional("base_name", str("base_name"));
  ordered["architecture"] = "amd64";
  ordered["os"] = "linux";
  return ordered;
}

Status RunSteps(store::Store& store, PreparedCreate& p, const CreateOptions& options, Run* run) {
  for (const CreateProgress& q : p.queued) run->Emit(q);
  if (p.quantize_to) {
    if (run->client_gone()) return CancelledError("create cancelled: the client went away");
    RETURN_IF_ERROR(Quantize(store, p, options, run));
  }
  std::vector<PlannedLayer> layers = p.layers;
  const CreateRequest& r = p.request;
  // The autodetected template (Ollama adds it, then a request template replaces it).
  if (p.detected != nullptr && r.template_text.empty()) {
    ASSIGN_OR_RETURN(PlannedLayer t, run->WriteLayer(p.detected->text, store::kMediaTypeTemplate));
    t.status = "using autodetected template " + std::string(p.detected->name);
    layers.push_back(std::move(t));
  }
  if (!r.template_text.empty()) {
    RemoveLayers(&layers, store::kMediaTypeTemplate);
    ASSIGN_OR_RETURN(PlannedLayer t, run->WriteLayer(r.template_text, store::kMediaTypeTemplate));
    layers.push_back(std::move(t));
  }
  if (!r.system.empty()) {
    RemoveLayers(&layers, store::kMediaTypeSystem);
    ASSIGN_OR_RETURN(PlannedLayer s, run->WriteLayer(r.system, store::kMediaTypeSystem));
    layers.push_back(std::move(s));
  }
  for (const std::string& license : r.licenses) {
    ASSIGN_OR_RETURN(PlannedLayer l, run->WriteLayer(license, store::kMediaTypeLicense));
    layers.push_back(std::move(l));
  }
  if (p.replace_params) {
    RemoveLayers(&layers, store::kMediaTypeParams);
    ASSIGN_OR_RETURN(PlannedLayer l,
                     run->WriteLayer(GoJsonEncode(p.params), store::kMediaTypeParams));
    layers.push_back(std::move(l));
  }
  if (!r.messages.empty()) {
    RemoveLayers(&layers, store::kMediaTypeMessages);
    ASSIGN_OR_RETURN(PlannedLayer l,
                     run->WriteLayer(GoJsonEncode(r.messages), store::kMediaTypeMessages));
    layers.push_back(std::move(l));
  }
  ASSIGN_OR_RETURN(PlannedLayer config,
                   run->WriteLayer(GoJsonEncode(BuildConfig(p)), store::kMediaTypeConfig));

  store::Manifest manifest;
  manifest.config = config.layer;
  for (const PlannedLayer& l : layers) {
    run->Emit({l.status});
    manifest.layers.push_back(l.layer);
  }
  if (run->client_gone()) return CancelledError("create cancelled: the client went away");
  run->Emit({"writing manifest"});

  {
    std::lock_guard<std::mutex> lock(ManifestMutex());
    Result<store::ModelEntry> old = store.ReadModel(p.name);
    RETURN_IF_ERROR(store.WriteManifest(p.name, manifest));
    if (old.ok() && !options.no_prune) {
      std::vector<store::Digest> now = manifest.Blobs();
      std::vector<store::Digest> candidates;
      for (const store::Digest& d : old->manifest.Blobs()) {
        if (std::find(now.begin(), now.end(), d) == now.end()) candidates.push_back(d);
      }
      Result<int> removed = store.RemoveUnreferencedBlobs(candidates);
      if (!removed.ok()) {  // the model is written; a leftover blob is housekeeping's
        LOG(kWarn) << "create " << p.name.DisplayShortest()
                   << ": pruning old layers: " << removed.status().message();
      }
    }
  }
  run->Emit({"success"});
  return Status::Ok();
}

}  // namespace

Result<CreateRequest> ParseCreateRequest(const nlohmann::json& body) {
  CreateRequest r;
  JsonFields fields(body, "CreateRequest");
  std::string name, quantization, remote_host;
  RETURN_IF_ERROR(fields.GetString("model", &r.model));
  RETURN_IF_ERROR(fields.GetString("name", &name));
  if (r.model.empty()) r.model = name;
  RETURN_IF_ERROR(fields.GetString("from", &r.from));
  RETURN_IF_ERROR(GetStringMap(fields, "files", &r.files, &r.has_files));
  RETURN_IF_ERROR(GetStringMap(fields, "adapters", &r.adapters, nullptr));
  RETURN_IF_ERROR(fields.GetString("template", &r.template_text));
  RETURN_IF_ERROR(fields.GetString("system", &r.system));
  RETURN_IF_ERROR(fields.GetString("quantize", &r.quantize));
  RETURN_IF_ERROR(fields.GetString("quantization", &quantization));
  if (r.quantize.empty()) r.quantize = quantization;
  RETURN_IF_ERROR(fields.GetString("renderer", &r.renderer));
  RETURN_IF_ERROR(fields.GetString("parser", &r.parser));
  RETURN_IF_ERROR(fields.GetString("requires", &r.requires_version));
  RETURN_IF_ERROR(fields.GetBool("stream", &r.stream));
  RETURN_IF_ERROR(fields.GetObject("parameters", &r.parameters));

  if (const nlohmann::json* license = fields.Find("license"); license && !license->is_null()) {
    if (license->is_string()) {
      if (!license->get<std::string>().empty()) r.licenses.push_back(license->get<std::string>());
    } else if (license->is_array()) {
      for (const nlohmann::json& l : *license) {
        if (!l.is_string() && !l.is_null()) return ValueTypeError(l, "string");
        if (l.is_string() && !l.get<std::string>().empty()) {
          r.licenses.push_back(l.get<std::string>());
        }
      }
    } else {
      return ValueTypeError(*license, "[]string");
    }
  }
  r.messages = ojson::array();
  if (const nlohmann::json* messages = fields.Find("messages"); messages && !messages->is_null()) {
    if (!messages->is_array()) return FieldTypeError(*messages, "messages", "[]api.Message");
    for (const nlohmann::json& m : *messages) {
      ASSIGN_OR_RETURN(ojson message, DecodeMessage(m));
      r.messages.push_back(std::move(message));
    }
  }

  // Ollama features this server does not have: refused rather than silently dropped.
  RETURN_IF_ERROR(fields.GetString("remote_host", &remote_host));
  if (!remote_host.empty()) {
    return InvalidArgumentError("remote models (remote_host) are not supported by this server");
  }
  std::map<std::string, std::string> draft_files;
  std::string draft_quantize;
  RETURN_IF_ERROR(GetStringMap(fields, "draft_files", &draft_files, nullptr));
  RETURN_IF_ERROR(fields.GetString("draft_quantize", &draft_quantize));
  if (!draft_files.empty() || !draft_quantize.empty()) {
    return InvalidArgumentError("draft models are not supported by this server");
  }
  return r;
}

nlohmann::ordered_json CreateProgress::ToJson() const {
  ojson j = {{"status", status}};
  if (!digest.empty()) j["digest"] = digest;
  if (total != 0) j["total"] = total;
  if (completed != 0) j["completed"] = completed;
  return j;
}

Result<PreparedCreatePtr> PrepareCreate(const store::Store& store, const CreateRequest& request) {
  PreparedCreatePtr p(new PreparedCreate);
  p->request = request;
  for (const auto* files : {&request.files, &request.adapters}) {
    for (const auto& [file, digest] : *files) {
      if (!IsValidRelativePath(file)) return InvalidArgumentError("file path must be relative");
      if (!store::IsValidDigest(digest)) return InvalidArgumentError("invalid digest format");
    }
  }
  Result<store::Name> name = store::ParseName(request.model);
  if (!name.ok()) return InvalidArgumentError("invalid model name");
  ASSIGN_OR_RETURN(p->name, store.Resolve(*name));

  if (!request.from.empty()) {
    RETURN_IF_ERROR(PrepareFromModel(store, request.from, p.get()));
  } else if (request.has_files) {
    RETURN_IF_ERROR(PrepareFiles(store, request.files, /*adapter=*/false, p.get()));
  } else {
    return InvalidArgumentError("neither 'from' or 'files' was specified");
  }
  if (!request.adapters.empty()) {
    RETURN_IF_ERROR(PrepareFiles(store, request.adapters, /*adapter=*/true, p.get()));
  }
  if (!request.template_text.empty()) {
    Result<tmpl::Template> parsed = tmpl::Template::Parse("", request.template_text);
    if (!parsed.ok()) return InvalidArgumentError("template error: " + parsed.status().message());
  }
  if (!request.requires_version.empty() && !IsValidSemver(request.requires_version)) {
    return InvalidArgumentError("requires must be a valid semver (e.g. 0.14.0)");
  }
  if (!request.quantize.empty()) RETURN_IF_ERROR(PrepareQuantize(request.quantize, p.get()));
  RETURN_IF_ERROR(PrepareParams(store, p.get()));
  return p;
}

Status RunCreate(store::Store& store, PreparedCreate& prepared, const CreateOptions& options,
                 const CreateProgressFn& progress) {
  Run run(store, progress);
  Status s = RunSteps(store, prepared, options, &run);
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(ManifestMutex());
    run.RemoveCreatedBlobs();
  }
  return s;
}

Status CreateModel(store::Store& store, const CreateRequest& request, const CreateOptions& options,
                   const CreateProgressFn& progress) {
  ASSIGN_OR_RETURN(PreparedCreatePtr prepared, PrepareCreate(store, request));
  return RunCreate(store, *prepared, options, progress);
}

int CreateHttpStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    default:
      return 500;
  }
}

std::string GoJsonEncode(const nlohmann::json& v) {
  std::string out;
  AppendGoJson(v, &out);
  out.push_back('\n');
  return out;
}

std::string GoJsonEncode(const nlohmann::ordered_json& v) {
  std::string out;
  AppendGoJson(v, &out);
  out.push_back('\n');
  return out;
}

}  // namespace corral::server
