// POST /api/create without the HTTP: a create request (ollama-api.md §1.5) turned into blobs and
// a manifest in the store, reporting Ollama's progress statuses along the way.
//
// Two phases, so that every mistake a request can make is answered with a real HTTP status
// before a stream starts:
//   PrepareCreate  reads and checks everything (names, files, blobs, GGUF metadata, the base
//                  model, the template, the quantization type) and writes nothing;
//   RunCreate      quantizes, writes the new blobs, the config blob and the manifest (atomically,
//                  last), then prunes the blobs the replaced manifest no longer needs.
// A failure at any point of RunCreate leaves the previous manifest (or none) as it was and
// removes the blobs this create wrote that no manifest references.
//
//   ASSIGN_OR_RETURN(CreateRequest req, ParseCreateRequest(json));
//   ASSIGN_OR_RETURN(auto prepared, PrepareCreate(store, req));
//   RETURN_IF_ERROR(RunCreate(store, *prepared, {}, [](const CreateProgress& p) { ...; return true;
//   }));
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "store/store.h"

namespace corral::server {

// api.CreateRequest (the JSON form, Ollama >= 0.5.5).
struct CreateRequest {
  std::string model;  // "model", else the deprecated "name"
  std::string from;
  bool has_files = false;                       // "files" was given (possibly empty)
  std::map<std::string, std::string> files;     // file name -> "sha256:<hex>"
  std::map<std::string, std::string> adapters;  // file name -> "sha256:<hex>"
  std::string template_text;                    // empty: keep the base's / the detected one
  std::string system;                           // empty: keep the base's
  std::vector<std::string> licenses;            // appended
  nlohmann::json parameters;                    // object, or null
  nlohmann::ordered_json messages;              // array (possibly empty)
  std::string quantize;                         // "quantize", else "quantization"
  std::string renderer;
  std::string parser;
  std::string requires_version;  // "requires"
  bool stream = true;
};

// Decodes a request body with encoding/json's rules for api.CreateRequest's field types; a
// wrong type is InvalidArgument "json: cannot unmarshal number into Go struct field
// CreateRequest.files of type string". Fields this server cannot honour (remote_host,
// draft_files, draft_quantize) are InvalidArgument rather than silently dropped.
Result<CreateRequest> ParseCreateRequest(const nlohmann::json& body);

// One line of the status stream (api.ProgressResponse; zero fields are omitted).
struct CreateProgress {
  std::string status;
  std::string digest;
  int64_t total = 0;
  int64_t completed = 0;

  nlohmann::ordered_json ToJson() const;
};

// Receives each status; returning false (the client went away) stops the create before the
// manifest is written.
using CreateProgressFn = std::function<bool(const CreateProgress&)>;

struct CreateOptions {
  bool no_prune = false;     // OLLAMA_NOPRUNE: keep the replaced manifest's blobs
  int quantize_threads = 0;  // 0: every core
};

// What PrepareCreate found; consumed by RunCreate.
struct PreparedCreate;
struct PreparedCreateDeleter {
  void operator()(PreparedCreate* p) const;
};
using PreparedCreatePtr = std::unique_ptr<PreparedCreate, PreparedCreateDeleter>;

// Validates the request against the store without writing anything. Errors carry the status
// they answer with (CreateHttpStatus): InvalidArgument for the request's mistakes ("invalid
// model name", "neither 'from' or 'files' was specified", "file path must be relative",
// "invalid digest format", "unknown type", "supplied file was not in GGUF format", "only one
// adapter is currently supported", "template error: ...", "unsupported quantization type X",
// "quantization is only supported for F16, BF16 and F32 models"), NotFound for a `from` model
// that is not in the store.
Result<PreparedCreatePtr> PrepareCreate(const store::Store& store, const CreateRequest& request);

// Writes the model and reports "parsing GGUF", "quantizing F16 model to Q8_0" (with digest,
// total and completed), "using existing layer sha256:...", "creating new layer sha256:...",
// "using autodetected template <name>", "writing manifest" and finally "success".
Status RunCreate(store::Store& store, PreparedCreate& prepared, const CreateOptions& options,
                 const CreateProgressFn& progress);

// PrepareCreate + RunCreate.
Status CreateModel(store::Store& store, const CreateRequest& request, const CreateOptions& options,
                   const CreateProgressFn& progress);

// The HTTP status of a create error: 400 for InvalidArgument, 404 for NotFound, else 500.
int CreateHttpStatus(const Status& status);

// Go's json.NewEncoder(w).Encode(v) for a decoded JSON value: HTML-safe string escaping,
// float64 number formatting, object keys in the order `v` holds them (nlohmann::json sorts them
// as Go sorts map keys; ordered_json keeps a struct's field order), and a trailing newline.
// Used for the params, messages and config blobs so they have the digests Ollama's would.
std::string GoJsonEncode(const nlohmann::json& v);
std::string GoJsonEncode(const nlohmann::ordered_json& v);

}  // namespace corral::server
