#include "store/store.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <set>
#include <utility>

#include "base/log.h"
#include "base/strings.h"
#include "config/env_config.h"

namespace corral::store {
namespace {

using internal::DirEntry;

std::chrono::system_clock::time_point MTime(const struct stat& st) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool EqualFoldAscii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ToLower(a) == ToLower(b);
}

// The directory entry spelling `want`: the exact name when present, else the first (by name)
// that matches ignoring case, else nullopt.
std::optional<std::string> FindFold(const std::vector<DirEntry>& entries, const std::string& want,
                                    bool want_dir) {
  std::optional<std::string> fold;
  for (const DirEntry& e : entries) {
    if (want_dir ? !e.is_dir : e.is_dir) continue;
    if (e.name == want) return e.name;
    if (!fold && EqualFoldAscii(e.name, want)) fold = e.name;
  }
  return fold;
}

std::string NotFoundMessage(const Name& name) {
  return "model \"" + name.DisplayShortest() + "\" not found";
}

// Temp files of WriteFileAtomic: ".<tag>.tmp-XXXXXX" (never a valid tag).
bool IsManifestTempName(std::string_view name) {
  return !name.empty() && name[0] == '.' && name.find(".tmp-") != std::string_view::npos;
}

}  // namespace

Store::Store(StoreOptions options) : options_(std::move(options)) {
  // A trailing '/' would double up in every path we build.
  while (options_.root.size() > 1 && options_.root.back() == '/') options_.root.pop_back();
}

std::string Store::DefaultRoot() {
  std::string models = config::Var("OLLAMA_MODELS");
  if (!models.empty()) return models;
  std::string home;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    home = h;
  } else if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    home = pw->pw_dir;
  } else {
    home = ".";
  }
  return home + "/.ollama/models";
}

Store Store::FromEnv() { return Store(StoreOptions{DefaultRoot(), {}}); }

bool Store::NoPruneFromEnv() { return config::ParseBool(config::Var("OLLAMA_NOPRUNE")); }

std::string Store::ManifestPath(const Name& name) const {
  return ManifestsDir() + "/" + name.Filepath();
}

std::string Store::BlobPath(const Digest& digest) const {
  CHECK(!digest.empty()) << "BlobPath of an empty digest";
  return BlobsDir() + "/" + digest.Filename();
}

Result<std::string> Store::BlobPath(std::string_view digest) const {
  ASSIGN_OR_RETURN(Digest d, Digest::Parse(digest));
  return BlobPath(d);
}

bool Store::HasBlob(const Digest& digest) const {
  if (digest.empty()) return false;
  struct stat st {};
  return stat(BlobPath(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<Name> Store::Resolve(const Name& name) const {
  if (!name.IsValid()) return InvalidArgumentError("invalid model name \"" + name.String() + "\"");
  Name out = name;
  std::array<std::string*, 4> parts = {&out.host, &out.ns, &out.model, &out.tag};
  std::string dir = ManifestsDir();
  for (size_t i = 0; i < parts.size(); ++i) {
    Result<std::vector<DirEntry>> entries = internal::ListDir(dir);
    if (!entries.ok()) break;  // nothing on disk below here: keep the given casing
    bool last = i + 1 == parts.size();
    std::optional<std::string> found = FindFold(*entries, *parts[i], /*want_dir=*/!last);
    if (!found) break;
    *parts[i] = *found;
    dir += "/" + *found;
  }
  return out;
}

Result<ModelEntry> Store::ReadManifestAt(const Name& name) const {
  ModelEntry entry;
  entry.name = name;
  entry.manifest_path = ManifestPath(name);
  struct stat st {};
  Result<std::string> bytes =
      internal::ReadFileLimited(entry.manifest_path, kMaxManifestBytes, &st);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      return NotFoundError(NotFoundMessage(name));
    }
    return bytes.status().WithContext("manifest of \"" + name.DisplayShortest() + "\"");
  }
  ASSIGN_OR_RETURN(entry.manifest, ParseManifest(*bytes, entry.manifest_path));
  entry.digest = Sha256Of(*bytes);
  entry.size = entry.manifest.Size();
  entry.modified = MTime(st);
  entry.raw = std::move(bytes).value();
  return entry;
}

Result<ModelEntry> Store::ReadModel(const Name& name) const {
  ASSIGN_OR_RETURN(Name resolved, Resolve(name));
  return ReadManifestAt(resolved);
}

Result<std::vector<ModelEntry>> Store::Scan(bool strict) const {
  std::vector<ModelEntry> out;
  // Exactly four levels, as Ollama's filepath.Glob(manifests/*/*/*/*).
  auto list = [](const std::string& dir) {
    Result<std::vector<DirEntry>> r = internal::ListDir(dir);
    return r.ok() ? std::move(r).value() : std::vector<DirEntry>{};
  };
  const std::string root = ManifestsDir();
  for (const DirEntry& host : list(root)) {
    if (!host.is_dir) continue;
    for (const DirEntry& ns : list(root + "/" + host.name)) {
      if (!ns.is_dir) continue;
      std::string ns_dir = root + "/" + host.name + "/" + ns.name;
      for (const DirEntry& model : list(ns_dir)) {
        if (!model.is_dir) continue;
        for (const DirEntry& tag : list(ns_dir + "/" + model.name)) {
          if (tag.is_dir) continue;
          std::string rel = host.name + "/" + ns.name + "/" + model.name + "/" + tag.name;
          Result<Name> name = NameFromFilepath(rel);
          if (!name.ok()) {
            LOG(kDebug) << "skipping manifest path that is not a model name: " << rel;
            continue;
          }
          Result<ModelEntry> entry = ReadManifestAt(*name);
          if (!entry.ok()) {
            if (strict) return entry.status();
            LOG(kWarn) << "bad manifest " << rel << ": " << entry.status().message();
            continue;
          }
          out.push_back(std::move(entry).value());
        }
      }
    }
  }
  return out;
}

Result<std::vector<ModelEntry>> Store::List() const { return Scan(/*strict=*/false); }

Status Store::WriteManifestChecked(const Name& name, std::string_view bytes,
                                   const Manifest& parsed) {
  ASSIGN_OR_RETURN(Name resolved, Resolve(name));
  // A manifest must never name a blob that is not there: a crash mid-create then leaves blobs
  // without a manifest (pruned later), never a manifest without its blobs.
  for (const Digest& d : parsed.Blobs()) {
    if (!HasBlob(d)) {
      return NotFoundError("manifest for \"" + resolved.DisplayShortest() + "\" names blob " +
                           d.String() + ", which is not in the store");
    }
  }
  std::string path = ManifestPath(resolved);
  std::string dir = Dirname(path);
  std::vector<std::string> created;
  Status s = internal::MakeDirs(dir, &created);
  if (s.ok()) s = internal::WriteFileAtomic(path, bytes, options_.fault_hook, "manifest");
  if (!s.ok()) {
    // Take away directories made for this write only (they are empty unless someone else
    // wrote into them meanwhile, and then rmdir leaves them).
    for (auto it = created.rbegin(); it != created.rend(); ++it) rmdir(it->c_str());
    return s.WithContext("writing manifest for \"" + resolved.DisplayShortest() + "\"");
  }
  return Status::Ok();
}

Status Store::WriteManifest(const Name& name, const Manifest& manifest) {
  if (!name.IsValid()) return InvalidArgumentError("invalid model name \"" + name.String() + "\"");
  for (const Layer& layer : manifest.layers) {
    if (layer.digest.empty()) return InvalidArgumentError("manifest layer without a digest");
  }
  return WriteManifestChecked(name, SerializeManifest(manifest), manifest);
}

Status Store::WriteManifestBytes(const Name& name, std::string_view bytes) {
  if (!name.IsValid()) return InvalidArgumentError("invalid model name \"" + name.String() + "\"");
  ASSIGN_OR_RETURN(Manifest parsed, ParseManifest(bytes, "for \"" + name.DisplayShortest() + "\""));
  return WriteManifestChecked(name, bytes, parsed);
}

Result<BlobWriter> Store::NewBlobWriter() const {
  RETURN_IF_ERROR(internal::MakeDirs(BlobsDir()));
  std::string tmpl = BlobsDir() + "/sha256-tmp-XXXXXX";
  int fd = mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("create temporary blob in " + BlobsDir(), errno);
  return BlobWriter(BlobsDir(), tmpl, fd, options_.fault_hook);
}

Result<Digest> Store::WriteBlob(std::istream& in, const std::optional<Digest>& expected) const {
  ASSIGN_OR_RETURN(BlobWriter writer, NewBlobWriter());
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n > 0) RETURN_IF_ERROR(writer.Write(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
  if (in.bad() || !in.eof()) {
    writer.Abort();
    return IoError("reading blob data failed after " + std::to_string(writer.bytes_written()) +
                   " bytes");
  }
  return writer.Commit(expected);
}

Status Store::CopyModel(const Name& src, const Name& dst) {
  if (!src.IsValid()) return InvalidArgumentError("invalid model name \"" + src.String() + "\"");
  if (!dst.IsValid()) return InvalidArgumentError("invalid model name \"" + dst.String() + "\"");
  ASSIGN_OR_RETURN(ModelEntry entry, ReadModel(src));
  ASSIGN_OR_RETURN(Name to, Resolve(dst));
  if (to == entry.name) return Status::Ok();  // the same file: nothing to do
  return WriteManifestChecked(to, entry.raw, entry.manifest);
}

Status Store::DeleteModel(const Name& name) {
  ASSIGN_OR_RETURN(ModelEntry entry, ReadModel(name));
  if (unlink(entry.manifest_path.c_str()) != 0) {
    if (errno == ENOENT) return NotFoundError(NotFoundMessage(entry.name));
    return ErrnoError("remove " + entry.manifest_path, errno);
  }
  Status synced = internal::FsyncDir(Dirname(entry.manifest_path));
  if (!synced.ok()) LOG(kWarn) << synced.message();
  internal::PruneEmptyDirs(ManifestsDir(), /*remove_self=*/false);
  Result<int> removed = RemoveUnreferencedBlobs(entry.manifest.Blobs());
  if (!removed.ok()) return removed.status();
  return Status::Ok();
}

Result<int> Store::RemoveUnreferencedBlobs(const std::vector<Digest>& candidates) {
  // Corrupt manifests do not keep blobs alive here (as Ollama: a freshly orphaned layer must
  // not survive because some other manifest is broken).
  ASSIGN_OR_RETURN(std::vector<ModelEntry> all, Scan(/*strict=*/false));
  std::set<Digest> in_use;
  for (const ModelEntry& e : all) {
    for (const Digest& d : e.manifest.Blobs()) in_use.insert(d);
  }
  int removed = 0;
  std::set<Digest> seen;
  for (const Digest& d : candidates) {
    if (d.empty() || !seen.insert(d).second || in_use.count(d) > 0) continue;
    std::string path = BlobPath(d);
    if (unlink(path.c_str()) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoError("remove blob " + path, errno);
    }
    ++removed;
  }
  return removed;
}

Result<HousekeepingReport> Store::Housekeeping(const HousekeepingOptions& options) {
  HousekeepingReport report;
  const std::string blobs = BlobsDir();
  Result<std::vector<DirEntry>> entries = internal::ListDir(blobs);
  if (!entries.ok() && entries.status().code() != StatusCode::kNotFound) return entries.status();

  // Old Ollama versions (and Windows copies) wrote "sha256:<hex>"; always renamed, NOPRUNE or not.
  if (entries.ok()) {
    for (const DirEntry& e : *entries) {
      if (!StartsWith(e.name, "sha256:") || e.is_dir) continue;
      std::string fixed = e.name;
      for (char& c : fixed) {
        if (c == ':') c = '-';
      }
      std::string from = blobs + "/" + e.name;
      std::string to = blobs + "/" + fixed;
      if (rename(from.c_str(), to.c_str()) != 0) return ErrnoError("rename " + from, errno);
      ++report.renamed;
    }
  }

  if (options.no_prune) {
    report.prune_skipped = true;
    report.prune_skip_reason = "OLLAMA_NOPRUNE is set";
    return report;
  }
  Result<std::vector<ModelEntry>> all = Scan(/*strict=*/true);
  if (!all.ok()) {
    report.prune_skipped = true;
    report.prune_skip_reason =
        "corrupt manifests detected, skipping prune operation: " + all.status().message();
    LOG(kWarn) << report.prune_skip_reason;
    return report;
  }
  std::set<Digest> in_use;
  for (const ModelEntry& e : *all) {
    for (const Digest& d : e.manifest.Blobs()) in_use.insert(d);
  }
  auto old_enough = [&](const DirEntry& e) { return options.now - MTime(e.st) >= options.min_age; };

  entries = internal::ListDir(blobs);
  if (entries.ok()) {
    for (const DirEntry& e : *entries) {
      if (e.is_dir || !old_enough(e)) continue;
      std::string path = blobs + "/" + e.name;
      Result<Digest> digest = Digest::FromFilename(e.name);
      if (digest.ok() && in_use.count(*digest) > 0) continue;
      if (unlink(path.c_str()) != 0) {
        LOG(kWarn) << "couldn't remove " << path << ": " << ErrnoError("unlink", errno).message();
        continue;
      }
      ++(digest.ok() ? report.blobs_removed : report.other_files_removed);
    }
  }

  // Temp files of manifest writes that a crash left behind, then empty directories.
  const std::string root = ManifestsDir();
  auto list = [](const std::string& dir) {
    Result<std::vector<DirEntry>> r = internal::ListDir(dir);
    return r.ok() ? std::move(r).value() : std::vector<DirEntry>{};
  };
  for (const DirEntry& host : list(root)) {
    if (!host.is_dir || host.is_symlink) continue;
    for (const DirEntry& ns : list(root + "/" + host.name)) {
      if (!ns.is_dir || ns.is_symlink) continue;
      std::string ns_dir = root + "/" + host.name + "/" + ns.name;
      for (const DirEntry& model : list(ns_dir)) {
        if (!model.is_dir || model.is_symlink) continue;
        std::string model_dir = ns_dir + "/" + model.name;
        for (const DirEntry& f : list(model_dir)) {
          if (f.is_file && IsManifestTempName(f.name) && old_enough(f)) {
            std::string path = model_dir + "/" + f.name;
            if (unlink(path.c_str()) == 0) ++report.other_files_removed;
          }
        }
      }
    }
  }
  internal::PruneEmptyDirs(root, /*remove_self=*/false);
  LOG(kInfo) << "total unused blobs removed: " << report.blobs_removed;
  return report;
}

// BlobWriter ------------------------------------------------------------------------------

BlobWriter::BlobWriter(std::string blobs_dir, std::string temp_path, int fd,
                       internal::FaultHook hook)
    : blobs_dir_(std::move(blobs_dir)),
      temp_path_(std::move(temp_path)),
      fd_(fd),
      hook_(std::move(hook)) {}

BlobWriter::BlobWriter(BlobWriter&& other) noexcept
    : blobs_dir_(std::move(other.blobs_dir_)),
      temp_path_(std::exchange(other.temp_path_, std::string())),
      fd_(std::exchange(other.fd_, -1)),
      hook_(std::move(other.hook_)),
      hash_(std::move(other.hash_)),
      bytes_(other.bytes_),
      failed_(other.failed_) {}

BlobWriter& BlobWriter::operator=(BlobWriter&& other) noexcept {
  if (this != &other) {
    Abort();
    blobs_dir_ = std::move(other.blobs_dir_);
    temp_path_ = std::exchange(other.temp_path_, std::string());
    fd_ = std::exchange(other.fd_, -1);
    hook_ = std::move(other.hook_);
    hash_ = std::move(other.hash_);
    bytes_ = other.bytes_;
    failed_ = other.failed_;
  }
  return *this;
}

BlobWriter::~BlobWriter() { Abort(); }

void BlobWriter::Abort() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) unlink(temp_path_.c_str());
  temp_path_.clear();
  failed_ = true;
}

Status BlobWriter::Write(std::string_view bytes) {
  if (failed_ || fd_ < 0) return InternalError("blob writer used after it failed or finished");
  Status s = internal::CheckFault(hook_, "blob.write");
  std::string_view rest = bytes;
  while (s.ok() && !rest.empty()) {
    ssize_t n = write(fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      s = ErrnoError("write " + temp_path_, errno);
      break;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (!s.ok()) {
    Abort();
    return s;
  }
  hash_.Update(bytes);
  bytes_ += static_cast<int64_t>(bytes.size());
  return Status::Ok();
}

Result<Digest> BlobWriter::Commit(const std::optional<Digest>& expected) {
  if (failed_ || fd_ < 0) return InternalError("blob writer used after it failed or finished");
  Digest got = hash_.Finish();
  if (expected.has_value() && *expected != got) {
    Abort();
    return InvalidArgumentError("digest mismatch, expected \"" + expected->String() + "\", got \"" +
                                got.String() + "\"");
  }
  Status s = internal::CheckFault(hook_, "blob.fsync");
  if (s.ok() && fsync(fd_) != 0) s = ErrnoError("fsync " + temp_path_, errno);
  if (s.ok() && fchmod(fd_, 0644) != 0) s = ErrnoError("chmod " + temp_path_, errno);
  if (s.ok()) {
    int rc = close(fd_);
    fd_ = -1;
    if (rc != 0) s = ErrnoError("close " + temp_path_, errno);
  }
  if (s.ok()) s = internal::CheckFault(hook_, "blob.rename");
  std::string final_path = blobs_dir_ + "/" + got.Filename();
  if (s.ok() && rename(temp_path_.c_str(), final_path.c_str()) != 0) {
    s = ErrnoError("rename " + temp_path_ + " to " + final_path, errno);
  }
  if (!s.ok()) {
    Abort();
    return s;
  }
  temp_path_.clear();
  Status synced = internal::FsyncDir(blobs_dir_);
  failed_ = true;  // finished: further use is an error
  if (!synced.ok()) return synced;
  return got;
}

}  // namespace corral::store
