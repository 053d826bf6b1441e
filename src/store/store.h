// The model store in Ollama's on-disk layout, so an existing Ollama models folder works as is:
//
//   <root>/manifests/<host>/<namespace>/<model>/<tag>   manifest JSON (see manifest.h)
//   <root>/blobs/sha256-<64 hex>                          content-addressed blobs
//
// <root> is OLLAMA_MODELS (default $HOME/.ollama/models). Every path is built from a validated
// Name or Digest only, so no request can reach outside <root>. Writes are atomic: a crash or an
// error at any point leaves the old state or the new one, never a half-written file.
//
// Thread safety: a Store holds no mutable state; concurrent calls are as safe as the
// filesystem operations they make (the server serializes create/delete/pull per model).
#pragma once

#include <chrono>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/digest.h"
#include "store/fs.h"
#include "store/manifest.h"
#include "store/name.h"

namespace corral::store {

struct StoreOptions {
  std::string root;  // the models directory (tests: a temp dir)
  // Fault injection for tests (see internal::FaultHook); empty in production. Stages:
  // "manifest.write|fsync|rename", "blob.write|fsync|rename".
  internal::FaultHook fault_hook;
};

// One model found in the store.
struct ModelEntry {
  Name name;                  // with the casing on disk
  std::string manifest_path;  // absolute (or relative to the root as given)
  Manifest manifest;
  Digest digest;     // sha256 of the manifest file bytes (/api/tags `digest` is digest.hex())
  int64_t size = 0;  // manifest.Size()
  std::chrono::system_clock::time_point modified;  // the manifest file's mtime
  std::string raw;  // the manifest file's bytes (copies, /api/show, pushes use them as is)
};

struct HousekeepingOptions {
  bool no_prune = false;  // OLLAMA_NOPRUNE: only the sha256: -> sha256- renames run
  // Files younger than min_age (by mtime, against `now`) are kept: an upload or pull may be
  // writing them right now.
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  std::chrono::seconds min_age = std::chrono::hours(1);
};

struct HousekeepingReport {
  int renamed = 0;                // "sha256:<hex>" files renamed to "sha256-<hex>"
  int blobs_removed = 0;          // unreferenced digest-named blobs
  int other_files_removed = 0;    // non-digest files (stale temp/partial files)
  bool prune_skipped = false;     // no_prune, or a manifest is corrupt
  std::string prune_skip_reason;  // why, when skipped
};

class BlobWriter;

class Store {
 public:
  explicit Store(StoreOptions options);

  // OLLAMA_MODELS, else $HOME/.ollama/models (the passwd entry's home when HOME is unset).
  static std::string DefaultRoot();
  // Store(DefaultRoot()).
  static Store FromEnv();
  // OLLAMA_NOPRUNE, parsed as Ollama's envconfig.Bool.
  static bool NoPruneFromEnv();

  const std::string& root() const { return options_.root; }
  std::string ManifestsDir() const { return options_.root + "/manifests"; }
  std::string BlobsDir() const { return options_.root + "/blobs"; }

  // <root>/manifests/<host>/<ns>/<model>/<tag>; the name must be valid (CHECKed).
  std::string ManifestPath(const Name& name) const;
  // <root>/blobs/sha256-<hex>; the digest must not be empty (CHECKed).
  std::string BlobPath(const Digest& digest) const;
  // Validates first: InvalidArgument for anything but "sha256:<64 lowercase hex>".
  Result<std::string> BlobPath(std::string_view digest) const;

  bool HasBlob(const Digest& digest) const;

  // The name with each part replaced by the casing already on disk, part by part from the host
  // down (an exact match wins over a case-insensitive one); parts not on disk keep the casing
  // given. So "LLama3.2" resolves to an existing "llama3.2". InvalidArgument for invalid names.
  Result<Name> Resolve(const Name& name) const;

  // Resolves the name, reads and parses its manifest. NotFound ("model "x" not found") when no
  // manifest exists; Corruption naming the file when it is malformed.
  Result<ModelEntry> ReadModel(const Name& name) const;

  // Every model: a glob of exactly four levels under manifests/; paths that are not valid names
  // are skipped, and so are manifests that do not parse (logged). Sorted by name.
  Result<std::vector<ModelEntry>> List() const;

  // Writes Ollama's serialization of `manifest` for `name`, atomically (temp file in the same
  // directory, fsync, rename, fsync the directory). Every blob it names must be in the store.
  Status WriteManifest(const Name& name, const Manifest& manifest);
  // The same with bytes as received (pulls store manifests byte for byte); they must parse.
  Status WriteManifestBytes(const Name& name, std::string_view bytes);

  // A writer for one blob; see BlobWriter.
  Result<BlobWriter> NewBlobWriter() const;
  // Reads `in` to the end into a blob. With `expected`, a different content digest is refused
  // (InvalidArgument "digest mismatch, expected ..., got ...") and nothing is left behind.
  Result<Digest> WriteBlob(std::istream& in, const std::optional<Digest>& expected) const;

  // Copies the manifest bytes of `src` to `dst` (a new manifest naming the same blobs). `dst`
  // takes the casing of what is on disk. NotFound when `src` does not exist.
  Status CopyModel(const Name& src, const Name& dst);

  // Removes the manifest, then the empty directories above it, then the model's blobs that no
  // other manifest references (always, whatever OLLAMA_NOPRUNE says; as Ollama).
  Status DeleteModel(const Name& name);

  // Removes blobs of `candidates` that no manifest references (after a create or pull replaced
  // a manifest). Returns how many were removed.
  Result<int> RemoveUnreferencedBlobs(const std::vector<Digest>& candidates);

  // Start-up housekeeping as `ollama serve` does it: rename "sha256:<hex>" blob files to
  // "sha256-<hex>"; then, unless no_prune or some manifest is corrupt, delete unreferenced
  // blobs and non-digest files in blobs/ older than min_age, and empty manifest directories.
  Result<HousekeepingReport> Housekeeping(const HousekeepingOptions& options);

 private:
  // All manifests; strict: the first unreadable one is an error.
  Result<std::vector<ModelEntry>> Scan(bool strict) const;
  Result<ModelEntry> ReadManifestAt(const Name& name) const;
  Status WriteManifestChecked(const Name& name, std::string_view bytes, const Manifest& parsed);

  StoreOptions options_;
};

// Streams one blob into the store: bytes go to a temp file `blobs/sha256-tmp-XXXXXX` (a
// non-digest name, so a crash leaves only something housekeeping removes) while the SHA-256 is
// computed; Commit checks the digest, fsyncs and renames it into place. A writer destroyed
// without Commit removes its temp file.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&& other) noexcept;
  BlobWriter& operator=(BlobWriter&& other) noexcept;
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;
  ~BlobWriter();

  Status Write(std::string_view bytes);
  int64_t bytes_written() const { return bytes_; }
  // Finishes the blob. With `expected`, a mismatch is refused and the temp file removed.
  Result<Digest> Commit(const std::optional<Digest>& expected);
  // Drops the temp file (also done by the destructor).
  void Abort();

 private:
  friend class Store;
  BlobWriter(std::string blobs_dir, std::string temp_path, int fd, internal::FaultHook hook);

  std::string blobs_dir_;
  std::string temp_path_;
  int fd_ = -1;
  internal::FaultHook hook_;
  Sha256 hash_;
  int64_t bytes_ = 0;
  bool failed_ = false;
};

}  // namespace corral::store
