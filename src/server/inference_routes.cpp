#include "server/inference_routes.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/strings.h"
#include "prompt/output_parser.h"
#include "server/inference.h"
#include "server/json_request.h"
#include "server/model_facts.h"
#include "server/server_state.h"

namespace corral::server {
namespace {

using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr const char kNdjson[] = "application/x-ndjson";

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::string Now() { return FormatUtcTime(std::chrono::system_clock::now()); }

// HTTP status for an error from loading or running a model.
int StatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kCancelled:
      return 499;
    default:
      return 500;
  }
}

// A stored model resolved for a request.
struct Target {
  std::string requested;  // as the client wrote it (echoed in "model")
  LocalModel model;
  ModelFacts facts;

  bool Has(std::string_view capability) const {
    for (const std::string& c : facts.capabilities) {
      if (c == capability) return true;
    }
    return false;
  }
};

// How each endpoint words "no such model" (they differ in Ollama, and clients compare).
enum class NotFoundStyle { kSingleQuotes, kPullHint };

// Resolves `requested` to a stored model; writes the error reply and returns nullopt on failure.
std::unique_ptr<Target> ResolveTarget(ServerState& state, const std::string& requested,
                                      NotFoundStyle style, httplib::Response& res) {
  auto not_found = [&] {
    if (style == NotFoundStyle::kPullHint) {
      WriteError(res, 404, "model \"" + requested + "\" not found, try pulling it first");
    } else {
      WriteError(res, 404, "model '" + requested + "' not found");
    }
  };
  if (requested.empty()) {
    not_found();
    return nullptr;
  }
  Result<store::Name> name = store::ParseName(requested);
  if (!name.ok()) {
    WriteError(res, 400, "invalid model name");
    return nullptr;
  }
  Result<store::ModelEntry> entry = state.store.ReadModel(*name);
  if (!entry.ok()) {
    if (entry.status().code() == StatusCode::kNotFound) {
      not_found();
    } else {
      WriteError(res, 500, entry.status().message());
    }
    return nullptr;
  }
  auto target = std::make_unique<Target>();
  target->requested = requested;
  Result<LocalModel> local = LoadLocalModel(state.store, std::move(entry).value());
  if (!local.ok()) {
    WriteError(res, 500, local.status().message());
    return nullptr;
  }
  target->model = std::move(local).value();
  // The facts need the GGUF's metadata; reading it (a 128k-token vocabulary is 128k strings)
  // costs tens of milliseconds, so it happens once per model, not per request.
  if (std::optional<ModelFacts> cached = state.facts_cache.Get(target->model.entry.digest)) {
    target->facts = std::move(*cached);
  } else {
    std::unique_ptr<gguf::GgufFile> file;
    if (!target->model.model_path.empty()) {
      Result<std::unique_ptr<gguf::GgufFile>> opened =
          gguf::GgufFile::Open(target->model.model_path);
      if (!opened.ok()) {
        WriteError(res, 500, "couldn't read the model file: " + opened.status().message());
        return nullptr;
      }
      file = std::move(opened).value();
    }
    target->facts = ComputeModelFacts(target->model, file.get());
    state.facts_cache.Put(target->model.entry.digest, target->facts);
  }
  return target;
}

// The fields generate and chat share.
struct CommonRequest {
  std::string model;
  bool stream = true;
  std::optional<std::chrono::nanoseconds> keep_alive;
  nlohmann::json options;
  std::shared_ptr<const sampling::Grammar> grammar;
  prompt::Think think;
  bool truncate = false;  // only an explicit `truncate: true` may drop input (no silent loss)
  bool shift = true;
  bool logprobs = false;
  int64_t top_logprobs = 0;
  bool debug_render_only = false;
};

// The value under `key` (exact, then case-insensitive, as encoding/json matches) in the
// request's text parsed keeping key order; null when absent.
nlohmann::ordered_json OrderedField(const std::string& raw, std::string_view key) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(raw, nullptr, false);
  if (!j.is_object()) return nullptr;
  if (auto it = j.find(std::string(key)); it != j.end()) return *it;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (ToLower(it.key()) == ToLower(key)) return it.value();
  }
  return nullptr;
}

// The request's keep_alive (api.Duration rules, see ParseKeepAlive).
Status ReadKeepAlive(const JsonFields& fields, std::optional<std::chrono::nanoseconds>* out) {
  ASSIGN_OR_RETURN(*out, ParseKeepAlive(fields.Find("keep_alive")));
  return Status::Ok();
}

Status ParseCommon(const std::string& raw, const JsonFields& fields, CommonRequest* out) {
  RETURN_IF_ERROR(fields.GetString("model", &out->model));
  RETURN_IF_ERROR(fields.GetBool("stream", &out->stream));
  RETURN_IF_ERROR(fields.GetObject("options", &out->options));
  RETURN_IF_ERROR(fields.GetBool("truncate", &out->truncate));
  RETURN_IF_ERROR(fields.GetBool("shift", &out->shift));
  RETURN_IF_ERROR(fields.GetBool("logprobs", &out->logprobs));
  RETURN_IF_ERROR(fields.GetBool("_debug_render_only", &out->debug_render_only));
  if (const nlohmann::json* v = fields.Find("top_logprobs"); v && !v->is_null()) {
    if (!v->is_number_integer()) {
      return InvalidArgumentError("json: cannot unmarshal " + std::string(v->type_name()) +
                                  " into Go struct field .top_logprobs of type int");
    }
    out->top_logprobs = v->get<int64_t>();
  }
  RETURN_IF_ERROR(sampling::ValidateTopLogprobs(out->top_logprobs));
  RETURN_IF_ERROR(ReadKeepAlive(fields, &out->keep_alive));
  if (const nlohmann::json* think = fields.Find("think"); think && !think->is_null()) {
    ASSIGN_OR_RETURN(out->think, prompt::ParseThink(*think));
  }
  const nlohmann::ordered_json format = OrderedField(raw, "format");
  ASSIGN_OR_RETURN(out->grammar, ParseOutputConstraint(&format, fields.Find("grammar")));
  return Status::Ok();
}

ojson ToolCallsJson(const std::vector<prompt::ToolCall>& calls) {
  ojson out = ojson::array();
  for (const prompt::ToolCall& c : calls) {
    ojson call = ojson::object();
    if (!c.id.empty()) call["id"] = c.id;
    ojson function = ojson::object();
    function["index"] = c.index;
    function["name"] = c.name;
    function["arguments"] = c.arguments;
    call["function"] = std::move(function);
    out.push_back(std::move(call));
  }
  return out;
}

// What one reply line carries, before it takes the endpoint's shape.
struct Piece {
  prompt::OutputDelta delta;
  std::vector<sampling::Logprob> logprobs;
  bool done = false;
  std::string done_reason;
  runner::Timings timings;
  int64_t total_ns = 0, load_ns = 0;
  std::vector<int32_t> context;  // generate's final `context` (non-raw)
  bool truncated = false;
};

void AddMetrics(ojson& out, const Piece& p) {
  auto put = [&](const char* key, int64_t v) {
    if (v != 0) out[key] = v;
  };
  put("total_duration", p.total_ns);
  put("load_duration", p.load_ns);
  put("prompt_eval_count", p.timings.prompt_eval_count);
  put("prompt_eval_duration", p.timings.prompt_eval_ns);
  put("eval_count", p.timings.eval_count);
  put("eval_duration", p.timings.eval_ns);
}

// Shapes a Piece as the endpoint's reply object.
using Shape = std::function<ojson(const Piece&)>;

ojson GenerateShape(const std::string& model, const Piece& p, bool with_context) {
  ojson out = ojson::object();
  out["model"] = model;
  out["created_at"] = Now();
  out["response"] = p.delta.content;
  if (!p.delta.thinking.empty()) out["thinking"] = p.delta.thinking;
  out["done"] = p.done;
  if (p.done) {
    if (!p.done_reason.empty()) out["done_reason"] = p.done_reason;
    if (with_context) out["context"] = p.context;
    AddMetrics(out, p);
  }
  if (!p.delta.tool_calls.empty()) out["tool_calls"] = ToolCallsJson(p.delta.tool_calls);
  if (p.truncated) out["truncated"] = true;
  if (!p.logprobs.empty()) out["logprobs"] = sampling::LogprobsToJson(p.logprobs);
  return out;
}

ojson ChatShape(const std::string& model, const Piece& p) {
  ojson out = ojson::object();
  out["model"] = model;
  out["created_at"] = Now();
  ojson message = ojson::object();
  message["role"] = "assistant";
  message["content"] = p.delta.content;
  if (!p.delta.thinking.empty()) message["thinking"] = p.delta.thinking;
  if (!p.delta.tool_calls.empty()) message["tool_calls"] = ToolCallsJson(p.delta.tool_calls);
  out["message"] = std::move(message);
  if (p.done && !p.done_reason.empty()) out["done_reason"] = p.done_reason;
  out["done"] = p.done;
  if (p.done) AddMetrics(out, p);
  if (p.truncated) out["truncated"] = true;
  if (!p.logprobs.empty()) out["logprobs"] = sampling::LogprobsToJson(p.logprobs);
  return out;
}

std::string Line(const ojson& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

// One generation in flight: the model lease, the runner's stream and the output parser.
struct Flight {
  runner::Lease lease;
  std::shared_ptr<runner::Generation> generation;
  std::unique_ptr<prompt::OutputParser> parser;
  std::vector<int32_t> prompt_tokens;
  Clock::time_point start;
  bool truncated = false;
  Shape shape;

  ~Flight() {
    if (generation) generation->Cancel();  // the reply ended early (client gone)
  }

  // The next reply objects (0, 1 or 2: text, then the final one). Sets *error when the
  // generation failed; *finished after the final chunk.
  std::vector<Piece> Next(Status* error, bool* finished) {
    std::vector<Piece> out;
    runner::Chunk chunk;
    if (!generation->Next(&chunk)) {
      *finished = true;
      return out;
    }
    Piece piece;
    piece.delta = parser->Push(chunk.text);
    piece.logprobs = std::move(chunk.logprobs);
    if (chunk.done) {
      if (!chunk.error.ok()) {
        *error = chunk.error;
        *finished = true;
        return out;
      }
      prompt::OutputDelta rest = parser->Finish();
      piece.delta.content += rest.content;
      piece.delta.thinking += rest.thinking;
      for (auto& c : rest.tool_calls) piece.delta.tool_calls.push_back(std::move(c));
    }
    const bool has_text = !piece.delta.content.empty() || !piece.delta.thinking.empty() ||
                          !piece.delta.tool_calls.empty() || !piece.logprobs.empty();
    if (has_text) out.push_back(std::move(piece));
    if (chunk.done) {
      Piece last;
      last.done = true;
      last.done_reason = std::string(sampling::DoneReasonString(chunk.done_reason));
      last.timings = chunk.timings;
      last.total_ns = Nanos(Clock::now() - start);
      last.load_ns = Nanos(lease.wait_time());
      last.context = prompt_tokens;
      last.context.insert(last.context.end(), chunk.generated.begin(), chunk.generated.end());
      last.truncated = truncated;
      out.push_back(std::move(last));
      *finished = true;
    }
    return out;
  }
};

// Streams (NDJSON) or collects (one object) the flight's output as the reply.
void Reply(std::shared_ptr<Flight> flight, bool stream, httplib::Response& res) {
  if (stream) {
    res.set_chunked_content_provider(
        kNdjson,
        [flight](size_t, httplib::DataSink& sink) {
          bool finished = false;
          while (!finished) {
            Status error;
            for (const Piece& p : flight->Next(&error, &finished)) {
              std::string line = Line(flight->shape(p));
              if (!sink.write(line.data(), line.size())) return false;  // client gone: cancel
            }
            if (!error.ok()) {
              std::string line = Line(ojson{{"error", error.message()}});
              sink.write(line.data(), line.size());
            }
          }
          flight->generation.reset();
          sink.done();
          return true;
        },
        [flight](bool) {});
    return;
  }
  // Non-streamed: everything concatenated into the final object.
  Piece total;
  bool finished = false;
  while (!finished) {
    Status error;
    for (Piece& p : flight->Next(&error, &finished)) {
      total.delta.content += p.delta.content;
      total.delta.thinking += p.delta.thinking;
      for (auto& c : p.delta.tool_calls) total.delta.tool_calls.push_back(std::move(c));
      for (auto& lp : p.logprobs) total.logprobs.push_back(std::move(lp));
      if (p.done) {
        total.done = true;
        total.done_reason = p.done_reason;
        total.timings = p.timings;
        total.total_ns = p.total_ns;
        total.load_ns = p.load_ns;
        total.context = std::move(p.context);
        total.truncated = p.truncated;
      }
    }
    if (!error.ok()) return WriteError(res, StatusFor(error), error.message());
  }
  flight->generation.reset();
  WriteJson(res, flight->shape(total));
}

// Options: defaults < the model's params layer < the request.
Result<modelfile::ModelOptions> MergedOptions(ServerState& state, const Target& target,
                                              const nlohmann::json& request_options) {
  nlohmann::json params = nlohmann::json::parse(target.model.options.dump());
  std::vector<std::string> ignored;
  return modelfile::MergeOptions(state.inference->DefaultOptions(), params, request_options,
                                 &ignored);
}

runner::GenerateRequest RunnerRequest(const modelfile::ModelOptions& o, const CommonRequest& c,
                                      std::vector<int32_t> tokens) {
  runner::GenerateRequest r;
  r.prompt = std::move(tokens);
  r.sampling = o.sampling;
  r.stop = o.stop;
  r.num_predict = o.num_predict;
  r.num_keep = o.num_keep;
  r.shift = c.shift;
  r.logprobs = c.logprobs || c.top_logprobs > 0;
  r.top_logprobs = c.top_logprobs;
  r.grammar = c.grammar;
  return r;
}

std::string TooLong(size_t n_tokens, int64_t n_ctx) {
  return "the input has " + std::to_string(n_tokens) + " tokens, more than the context length of " +
         std::to_string(n_ctx) +
         " (send \"truncate\": true to drop the oldest messages, or raise num_ctx)";
}

// Thinking as the request and the model decide it: on by default for thinking models.
Status ResolveThink(const Target& t, prompt::Think* think) {
  if (think->set && think->enabled && !t.Has("thinking")) {
    return InvalidArgumentError("\"" + t.requested + "\" does not support thinking");
  }
  if (!think->set && t.Has("thinking")) {
    think->set = true;
    think->enabled = true;
  }
  return Status::Ok();
}

// The output tags of the model's template; thinking starts at once when the rendered prompt
// already opened the thinking block (qwen3, deepseek-r1 prefill it).
prompt::OutputFormat OutputFormatFor(const PromptSetup& setup, std::string_view rendered) {
  prompt::OutputFormat f = setup.output_format;
  f.starts_in_thinking = prompt::PromptOpensThinking(rendered, f);
  return f;
}

// The model's prompt setup, parsed once per manifest and kept in the state. A copy of the model
// under another name shares the manifest but may differ in the name-dependent flag; it is then
// built afresh.
Result<std::shared_ptr<const PromptSetup>> SharedPromptSetup(ServerState& state,
                                                             const Target& target,
                                                             const gguf::GgufFile& gguf) {
  const std::string& family = target.facts.details.family;
  const store::Digest& digest = target.model.entry.digest;
  if (std::optional<std::shared_ptr<const PromptSetup>> cached = state.prompt_setups.Get(digest);
      cached &&
      (*cached)->defaults.strip_earlier_thinking == StripsEarlierThinking(target.model, family)) {
    return *cached;
  }
  ASSIGN_OR_RETURN(PromptSetup fresh, PromptSetupFor(target.model, &gguf, family));
  auto shared = std::make_shared<const PromptSetup>(std::move(fresh));
  state.prompt_setups.Put(digest, shared);
  return shared;
}

// The lease, the prompt's tokens against the runner's context, and the generation started.
// Writes the error reply and returns null on failure.
std::shared_ptr<Flight> Launch(runner::Lease lease, std::vector<int32_t> tokens,
                               const modelfile::ModelOptions& options, const CommonRequest& common,
                               Clock::time_point start, httplib::Response& res) {
  runner::Runner* r = lease.runner();
  const int64_t n_ctx = r->options().n_ctx;
  if (static_cast<int64_t>(tokens.size()) > n_ctx) {
    WriteError(res, 400, TooLong(tokens.size(), n_ctx));
    return nullptr;
  }
  Result<std::shared_ptr<runner::Generation>> gen =
      r->Submit(RunnerRequest(options, common, tokens));
  if (!gen.ok()) {
    WriteError(res, StatusFor(gen.status()), gen.status().message());
    return nullptr;
  }
  auto flight = std::make_shared<Flight>();
  flight->lease = std::move(lease);
  flight->generation = std::move(gen).value();
  flight->prompt_tokens = std::move(tokens);
  flight->start = start;
  return flight;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// /api/generate

void GenerateHandler(ServerState& state, const httplib::Request&, RequestBody& body,
                     httplib::Response& res) {
  const Clock::time_point start = Clock::now();
  std::string raw;
  std::optional<nlohmann::json> request =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, "GenerateRequest", res, &raw);
  if (!request) return;
  JsonFields fields(*request, "GenerateRequest");
  CommonRequest common;
  prompt::GenerateRequest gen;
  std::string template_override;
  bool has_template = false;
  Status s = ParseCommon(raw, fields, &common);
  if (s.ok()) s = fields.GetString("prompt", &gen.prompt);
  if (s.ok()) s = fields.GetString("suffix", &gen.suffix);
  if (s.ok()) s = fields.GetString("system", &gen.system);
  if (s.ok()) s = fields.GetBool("raw", &gen.raw);
  if (s.ok()) {
    s = fields.GetString("template", &template_override);
    has_template = !template_override.empty();
  }
  std::vector<std::string> images;
  if (s.ok()) {
    if (const nlohmann::json* v = fields.Find("images"); v && !v->is_null()) {
      if (!v->is_array()) {
        s = InvalidArgumentError(
            "json: cannot unmarshal " + std::string(v->type_name()) +
            " into Go struct field GenerateRequest.images of type []api.ImageData");
      } else {
        for (const auto& img : *v) {
          if (!img.is_string()) {
            s = InvalidArgumentError(
                "json: cannot unmarshal " + std::string(img.type_name()) +
                " into Go struct field GenerateRequest.images of type api.ImageData");
            break;
          }
          images.push_back(img.get<std::string>());
        }
      }
    }
  }
  if (s.ok()) {
    if (const nlohmann::json* v = fields.Find("context"); v && !v->is_null()) {
      if (!v->is_array()) {
        s = InvalidArgumentError("json: cannot unmarshal " + std::string(v->type_name()) +
                                 " into Go struct field GenerateRequest.context of type []int");
      } else {
        for (const auto& t : *v) {
          if (!t.is_number_integer()) {
            s = InvalidArgumentError("json: cannot unmarshal " + std::string(t.type_name()) +
                                     " into Go struct field GenerateRequest.context of type int");
            break;
          }
          gen.context.push_back(t.get<int32_t>());
        }
      }
    }
  }
  if (!s.ok()) return WriteError(res, 400, s.message());

  std::unique_ptr<Target> target =
      ResolveTarget(state, common.model, NotFoundStyle::kSingleQuotes, res);
  if (!target) return;
  auto simple_reply = [&](const char* reason) {
    ojson out = ojson::object();
    out["model"] = common.model;
    out["created_at"] = Now();
    out["response"] = "";
    out["done"] = true;
    out["done_reason"] = reason;
    WriteJson(res, out);
  };
  if (gen.prompt.empty() && common.keep_alive && common.keep_alive->count() == 0) {
    state.inference->Unload(target->model);
    return simple_reply("unload");
  }
  if (gen.raw && (has_template || !gen.system.empty() || !gen.context.empty())) {
    return WriteError(res, 400, "raw mode does not support template, system, or context");
  }
  if (!target->Has("completion")) {
    return WriteError(res, 400, "\"" + common.model + "\" does not support generate");
  }
  if (!gen.suffix.empty() && !target->Has("insert")) {
    return WriteError(res, 400, target->model.entry.name.String() + " does not support insert");
  }
  if (!images.empty() && !target->Has("vision")) {
    return WriteError(res, 400, "\"" + common.model + "\" does not support image input");
  }
  if (s = ResolveThink(*target, &common.think); !s.ok()) return WriteError(res, 400, s.message());
  gen.think = common.think;
  gen.images = static_cast<int>(images.size());

  Result<modelfile::ModelOptions> options = MergedOptions(state, *target, common.options);
  if (!options.ok()) return WriteError(res, 400, options.status().message());
  Result<runner::Lease> lease =
      state.inference->Acquire(target->model, *options, common.keep_alive);
  if (!lease.ok()) return WriteError(res, StatusFor(lease.status()), lease.status().message());
  if (gen.prompt.empty() && gen.suffix.empty()) return simple_reply("load");

  Result<std::shared_ptr<const PromptSetup>> shared_setup =
      SharedPromptSetup(state, *target, lease->runner()->model().file());
  if (!shared_setup.ok()) return WriteError(res, 500, shared_setup.status().message());
  const PromptSetup* setup = shared_setup->get();
  const tokenizer::Tokenizer& tok = lease->runner()->model().tokenizer();
  Result<std::string> text = InternalError("unrendered");
  if (has_template) {
    Result<prompt::PromptTemplate> t = prompt::PromptTemplate::Parse(template_override);
    if (!t.ok()) return WriteError(res, 500, "template error: " + t.status().message());
    text = prompt::RenderGenerate(*t, gen, setup->defaults, &tok);
  } else if (setup->format.go_template || gen.raw) {
    text = prompt::RenderGenerate(
        setup->format.go_template ? *setup->format.go_template : prompt::PromptTemplate::Default(),
        gen, setup->defaults, &tok);
  } else {
    // A GGUF chat template: the generate request as a one-turn chat.
    prompt::ChatRequest chat;
    if (!gen.system.empty()) chat.messages.push_back({.role = "system", .content = gen.system});
    chat.messages.push_back({.role = "user", .content = gen.prompt});
    chat.think = gen.think;
    text = prompt::RenderChatPrompt(setup->format, chat, setup->defaults);
  }
  if (!text.ok()) return WriteError(res, StatusFor(text.status()), text.status().message());
  if (common.debug_render_only) {
    ojson out = ojson::object();
    out["model"] = common.model;
    out["created_at"] = Now();
    out["response"] = "";
    out["done"] = false;
    out["_debug_info"] = ojson{{"rendered_template", *text}, {"image_count", images.size()}};
    return WriteJson(res, out);
  }
  std::vector<int32_t> tokens = prompt::TokenizePrompt(tok, *text);
  const prompt::OutputFormat output_format = OutputFormatFor(*setup, *text);
  std::shared_ptr<Flight> flight =
      Launch(std::move(*lease), std::move(tokens), *options, common, start, res);
  if (!flight) return;
  const bool thinking = common.think.set && common.think.enabled && !gen.raw;
  flight->parser = std::make_unique<prompt::OutputParser>(output_format, thinking, false);
  const bool with_context = !gen.raw;
  flight->shape = [model = common.model, with_context](const Piece& p) {
    return GenerateShape(model, p, with_context);
  };
  Reply(std::move(flight), common.stream, res);
}

// ---------------------------------------------------------------------------------------------
// /api/chat

void ChatHandler(ServerState& state, const httplib::Request&, RequestBody& body,
                 httplib::Response& res) {
  const Clock::time_point start = Clock::now();
  std::string raw;
  std::optional<nlohmann::json> request =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, "ChatRequest", res, &raw);
  if (!request) return;
  JsonFields fields(*request, "ChatRequest");
  CommonRequest common;
  prompt::ChatRequest chat;
  Status s = ParseCommon(raw, fields, &common);
  if (s.ok()) {
    if (const nlohmann::json* m = fields.Find("messages"); m && !m->is_null()) {
      Result<std::vector<prompt::Message>> messages = prompt::ParseMessages(*m);
      if (messages.ok()) {
        chat.messages = std::move(messages).value();
      } else {
        s = messages.status();
      }
    }
  }
  if (s.ok()) {
    if (const nlohmann::json* tools = fields.Find("tools"); tools && !tools->is_null()) {
      if (!tools->is_array()) {
        s = InvalidArgumentError("json: cannot unmarshal " + std::string(tools->type_name()) +
                                 " into Go struct field ChatRequest.tools of type api.Tools");
      } else {
        chat.tools = *tools;
      }
    }
  }
  if (!s.ok()) return WriteError(res, 400, s.message());
  if (common.model.empty()) return WriteError(res, 400, "model is required");

  std::unique_ptr<Target> target =
      ResolveTarget(state, common.model, NotFoundStyle::kSingleQuotes, res);
  if (!target) return;
  auto simple_reply = [&](const char* reason) {
    ojson out = ojson::object();
    out["model"] = common.model;
    out["created_at"] = Now();
    out["message"] = ojson{{"role", "assistant"}, {"content", ""}};
    out["done_reason"] = reason;
    out["done"] = true;
    WriteJson(res, out);
  };
  if (chat.messages.empty() && common.keep_alive && common.keep_alive->count() == 0) {
    state.inference->Unload(target->model);
    return simple_reply("unload");
  }
  if (!target->Has("completion")) {
    return WriteError(res, 400, "\"" + common.model + "\" does not support chat");
  }
  const bool has_tools = chat.tools.is_array() && !chat.tools.empty();
  if (has_tools && !target->Has("tools")) {
    return WriteError(res, 400, target->model.entry.name.String() + " does not support tools");
  }
  for (const prompt::Message& m : chat.messages) {
    if (!m.images.empty() && !target->Has("vision")) {
      return WriteError(res, 400, "\"" + common.model + "\" does not support image input");
    }
  }
  if (s = ResolveThink(*target, &common.think); !s.ok()) return WriteError(res, 400, s.message());
  chat.think = common.think;

  Result<modelfile::ModelOptions> options = MergedOptions(state, *target, common.options);
  if (!options.ok()) return WriteError(res, 400, options.status().message());
  Result<runner::Lease> lease =
      state.inference->Acquire(target->model, *options, common.keep_alive);
  if (!lease.ok()) return WriteError(res, StatusFor(lease.status()), lease.status().message());
  if (chat.messages.empty()) return simple_reply("load");

  Result<std::shared_ptr<const PromptSetup>> shared_setup =
      SharedPromptSetup(state, *target, lease->runner()->model().file());
  if (!shared_setup.ok()) return WriteError(res, 500, shared_setup.status().message());
  const PromptSetup* setup = shared_setup->get();
  const tokenizer::Tokenizer& tok = lease->runner()->model().tokenizer();
  const int64_t n_ctx = lease->runner()->options().n_ctx;
  // Only an explicit truncate drops history: the oldest messages that are neither system
  // messages nor the last one go first, until the prompt fits.
  bool truncated = false;
  std::vector<int32_t> tokens;
  std::string rendered;
  while (true) {
    Result<std::string> text = prompt::RenderChatPrompt(setup->format, chat, setup->defaults);
    if (!text.ok()) return WriteError(res, StatusFor(text.status()), text.status().message());
    if (common.debug_render_only) {
      ojson out = ojson::object();
      out["model"] = common.model;
      out["created_at"] = Now();
      out["message"] = ojson{{"role", "assistant"}, {"content", ""}};
      out["done"] = false;
      out["_debug_info"] = ojson{{"rendered_template", *text}};
      return WriteJson(res, out);
    }
    tokens = prompt::TokenizePrompt(tok, *text);
    rendered = std::move(*text);
    if (static_cast<int64_t>(tokens.size()) <= n_ctx || !common.truncate) break;
    size_t drop = chat.messages.size();
    for (size_t i = 0; i + 1 < chat.messages.size(); ++i) {
      if (chat.messages[i].role != "system") {
        drop = i;
        break;
      }
    }
    if (drop == chat.messages.size()) break;  // nothing left to drop: too long is an error
    chat.messages.erase(chat.messages.begin() + static_cast<std::ptrdiff_t>(drop));
    truncated = true;
  }
  std::shared_ptr<Flight> flight =
      Launch(std::move(*lease), std::move(tokens), *options, common, start, res);
  if (!flight) return;
  flight->truncated = truncated;
  const bool thinking = common.think.set && common.think.enabled;
  flight->parser = std::make_unique<prompt::OutputParser>(OutputFormatFor(*setup, rendered),
                                                          thinking, has_tools);
  flight->shape = [model = common.model](const Piece& p) { return ChatShape(model, p); };
  Reply(std::move(flight), common.stream, res);
}

// ---------------------------------------------------------------------------------------------
// /api/embed and /api/embeddings

namespace {

// The lease for an embedding request, or the error reply.
std::optional<runner::Lease> EmbedLease(ServerState& state, const Target& target,
                                        const nlohmann::json& request_options,
                                        std::optional<std::chrono::nanoseconds> keep_alive,
                                        httplib::Response& res) {
  Result<modelfile::ModelOptions> options = MergedOptions(state, target, request_options);
  if (!options.ok()) {
    WriteError(res, 400, options.status().message());
    return std::nullopt;
  }
  Result<runner::Lease> lease = state.inference->Acquire(target.model, *options, keep_alive);
  if (!lease.ok()) {
    WriteError(res, StatusFor(lease.status()), lease.status().message());
    return std::nullopt;
  }
  return std::move(lease).value();
}

}  // namespace

void EmbedHandler(ServerState& state, const httplib::Request&, RequestBody& body,
                  httplib::Response& res) {
  const Clock::time_point start = Clock::now();
  std::optional<nlohmann::json> request =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, "EmbedRequest", res);
  if (!request) return;
  JsonFields fields(*request, "EmbedRequest");
  std::string model;
  bool truncate = true;
  nlohmann::json options;
  int64_t dimensions = 0;
  Status s = fields.GetString("model", &model);
  if (s.ok()) s = fields.GetBool("truncate", &truncate);
  if (s.ok()) s = fields.GetObject("options", &options);
  std::optional<std::chrono::nanoseconds> keep_alive;
  if (s.ok()) s = ReadKeepAlive(fields, &keep_alive);
  if (s.ok()) {
    if (const nlohmann::json* d = fields.Find("dimensions"); d && !d->is_null()) {
      if (!d->is_number_integer()) {
        s = InvalidArgumentError("json: cannot unmarshal " + std::string(d->type_name()) +
                                 " into Go struct field EmbedRequest.dimensions of type int");
      } else {
        dimensions = d->get<int64_t>();
      }
    }
  }
  if (!s.ok()) return WriteError(res, 400, s.message());
  std::vector<std::string> inputs;
  if (const nlohmann::json* in = fields.Find("input"); in && !in->is_null()) {
    if (in->is_string()) {
      if (!in->get<std::string>().empty()) inputs.push_back(in->get<std::string>());
    } else if (in->is_array()) {
      for (const auto& v : *in) {
        if (!v.is_string()) return WriteError(res, 400, "invalid input type");
        inputs.push_back(v.get<std::string>());
      }
    } else {
      return WriteError(res, 400, "invalid input type");
    }
  }
  std::unique_ptr<Target> target = ResolveTarget(state, model, NotFoundStyle::kPullHint, res);
  if (!target) return;
  std::optional<runner::Lease> lease = EmbedLease(state, *target, options, keep_alive, res);
  if (!lease) return;
  ojson out = ojson::object();
  out["model"] = model;
  if (inputs.empty()) {
    out["embeddings"] = ojson::array();
    return WriteJson(res, out);
  }
  runner::Runner* r = lease->runner();
  const tokenizer::Tokenizer& tok = r->model().tokenizer();
  const int64_t limit = std::min(r->options().n_ctx, r->options().n_batch);
  ojson embeddings = ojson::array();
  int64_t n_tokens = 0;
  for (const std::string& input : inputs) {
    std::vector<int32_t> tokens = prompt::TokenizePrompt(tok, input);
    if (static_cast<int64_t>(tokens.size()) > limit) {
      if (!truncate) return WriteError(res, 400, "the input length exceeds the context length");
      // Keep the start; a trailing EOS/SEP the tokenizer added stays last.
      const int32_t last = tokens.back();
      const bool keep_last =
          tok.IsEndOfGeneration(last) || tok.vocab().HasAttr(last, tokenizer::kAttrControl);
      tokens.resize(static_cast<size_t>(limit));
      if (keep_last) tokens.back() = last;
    }
    n_tokens += static_cast<int64_t>(tokens.size());
    Result<std::vector<float>> v = r->Embed(std::move(tokens));
    if (!v.ok()) return WriteError(res, StatusFor(v.status()), v.status().message());
    std::vector<float>& e = *v;
    if (dimensions > 0 && dimensions < static_cast<int64_t>(e.size())) {
      e.resize(static_cast<size_t>(dimensions));
    }
    double norm = 0;
    for (float x : e) {
      if (!std::isfinite(x)) return WriteError(res, 500, "embedding contains NaN or Inf values");
      norm += static_cast<double>(x) * x;
    }
    norm = std::sqrt(norm);
    ojson row = ojson::array();
    for (float x : e) row.push_back(norm > 0 ? static_cast<float>(x / norm) : x);
    embeddings.push_back(std::move(row));
  }
  out["embeddings"] = std::move(embeddings);
  out["total_duration"] = Nanos(Clock::now() - start);
  out["load_duration"] = Nanos(lease->wait_time());
  out["prompt_eval_count"] = n_tokens;
  WriteJson(res, out);
}

void EmbeddingsHandler(ServerState& state, const httplib::Request&, RequestBody& body,
                       httplib::Response& res) {
  std::optional<nlohmann::json> request =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, "EmbeddingRequest", res);
  if (!request) return;
  JsonFields fields(*request, "EmbeddingRequest");
  std::string model, text;
  nlohmann::json options;
  Status s = fields.GetString("model", &model);
  if (s.ok()) s = fields.GetString("prompt", &text);
  if (s.ok()) s = fields.GetObject("options", &options);
  std::optional<std::chrono::nanoseconds> keep_alive;
  if (s.ok()) s = ReadKeepAlive(fields, &keep_alive);
  if (!s.ok()) return WriteError(res, 400, s.message());
  if (model.empty()) return WriteError(res, 400, "model is required");
  std::unique_ptr<Target> target = ResolveTarget(state, model, NotFoundStyle::kPullHint, res);
  if (!target) return;
  std::optional<runner::Lease> lease = EmbedLease(state, *target, options, keep_alive, res);
  if (!lease) return;
  ojson out = ojson::object();
  if (text.empty()) {
    out["embedding"] = ojson::array();
    return WriteJson(res, out);
  }
  runner::Runner* r = lease->runner();
  std::vector<int32_t> tokens = prompt::TokenizePrompt(r->model().tokenizer(), text);
  const int64_t limit = std::min(r->options().n_ctx, r->options().n_batch);
  if (static_cast<int64_t>(tokens.size()) > limit) {
    return WriteError(res, 400, TooLong(tokens.size(), limit));
  }
  Result<std::vector<float>> v = r->Embed(std::move(tokens));
  if (!v.ok()) return WriteError(res, 500, v.status().message());
  ojson row = ojson::array();
  for (float x : *v) row.push_back(static_cast<double>(x));
  out["embedding"] = std::move(row);
  WriteJson(res, out);
}

// ---------------------------------------------------------------------------------------------
// /api/ps

void PsHandler(ServerState& state, const httplib::Request&, RequestBody&, httplib::Response& res) {
  std::vector<runner::LoadedInfo> loaded = state.inference->scheduler().List();
  std::sort(loaded.begin(), loaded.end(),
            [](const auto& a, const auto& b) { return a.expires_at > b.expires_at; });
  ojson models = ojson::array();
  for (const runner::LoadedInfo& info : loaded) {
    ojson m = ojson::object();
    m["name"] = info.name;
    m["model"] = info.name;
    m["size"] = info.size_bytes;
    // The details of the stored model, when it is still in the store.
    ojson details = ojson::object();
    if (Result<store::Name> name = store::ParseName(info.name); name.ok()) {
      if (Result<store::ModelEntry> entry = state.store.ReadModel(*name); entry.ok()) {
        if (std::optional<ModelFacts> facts = state.facts_cache.Get(entry->digest)) {
          details = facts->details.ToJson();
          details["parent_model"] = "";
        }
      }
    }
    m["digest"] = info.digest;
    m["details"] = std::move(details);
    if (info.expires_at == runner::WallClock::time_point::max()) {
      // Forever: Go's time.Now().Add(math.MaxInt64), in 2318 (past a time_point's range).
      const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
      m["expires_at"] = FormatLocalTime(now_ns / 1'000'000'000 + kMax / 1'000'000'000,
                                        now_ns % 1'000'000'000 + kMax % 1'000'000'000);
    } else {
      m["expires_at"] = FormatLocalTime(info.expires_at);
    }
    m["size_vram"] = 0;
    m["context_length"] = info.context_length;
    models.push_back(std::move(m));
  }
  WriteJson(res, ojson{{"models", std::move(models)}});
}

}  // namespace corral::server
