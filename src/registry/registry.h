// Pull and push of models over the OCI-distribution registry protocol, as Ollama does it
// (ollama-api.md §7): the manifest with Ollama's media types, blobs in parallel ranged parts
// that survive restarts (`blobs/sha256-<hex>-partial` plus `-partial-N` part files), every blob
// verified before it enters the store, the manifest written last and atomically; pushes with
// an existence check, cross-repository mounts and chunked uploads.
//
// Safety: every digest in a manifest is validated before a path is built from it (the
// CVE-2024-37032 class); a blob is bounded by its declared size (a longer body is an error,
// never written past); manifests are bounded; redirects go only to http/https URLs and never
// carry credentials to another host.
//
// A 401 with `WWW-Authenticate: Bearer realm=...` is answered by Docker's token flow (the realm
// must be on the registry's host) and the request repeated once with the token. Not yet:
// Ollama's signed token requests (ed25519 key, needed to push to ollama.com), the upload
// `etag`. Concurrent pulls of one digest share its download: the second waits, reporting the
// first one's progress, then finds the blob in the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "store/name.h"
#include "store/store.h"

namespace corral::registry {

struct RegistryOptions {
  // Plain http (and http:// names) allowed; without it an http name is an error.
  bool insecure = false;
  // Bytes per download part / upload chunk; 0 picks Ollama's: total/16 within [100 MB, 1000 MB].
  int64_t part_size = 0;
  // Download parts in flight per blob, at most: a download starts with two and doubles while
  // that raises the rate by 20% or more, measured over `ramp_window` (stream_ramp.h).
  int max_parallel = 16;
  std::chrono::milliseconds ramp_window{1000};
  int max_tries = 6;  // per part, with backoff retry_delay * 2^try
  std::chrono::milliseconds retry_delay{1000};
  // A part with no byte for this long is restarted (from where it stopped).
  std::chrono::milliseconds stall_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  // Progress lines for a downloading blob at most this often.
  std::chrono::milliseconds progress_interval{60};
  bool no_prune = false;  // OLLAMA_NOPRUNE: keep layers a replaced manifest no longer uses
};

// One line of Ollama's progress stream.
struct Progress {
  std::string status;
  std::string digest;  // "sha256:<hex>" for per-blob lines, else empty
  int64_t total = 0;
  int64_t completed = 0;
};
// Returns false to cancel (the client went away): the transfer stops, partial files stay.
using ProgressFn = std::function<bool(const Progress&)>;

// Ollama's part size for a blob of `total` bytes.
int64_t DefaultPartSize(int64_t total);

// Pulls `name` (validated) from its registry into `store`. Errors carry Ollama's texts where
// Ollama has one ("pull model manifest: file does not exist", "digest mismatch, file must be
// downloaded again: want sha256:..., got sha256:...").
Status Pull(store::Store& store, const store::Name& name, const RegistryOptions& options,
            const ProgressFn& progress);

// Pushes the local model `name` to its registry.
Status Push(store::Store& store, const store::Name& name, const RegistryOptions& options,
            const ProgressFn& progress);

}  // namespace corral::registry
