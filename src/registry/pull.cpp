// Pull: manifest, then every missing blob in parallel ranged parts into
// `blobs/sha256-<hex>-partial` (part state in `-partial-N`, Ollama's format, so a restarted pull
// continues where it stopped), then verification, the renames into the store, and the manifest.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/log.h"
#include "registry/common.h"
#include "registry/http.h"
#include "registry/registry.h"
#include "registry/stream_ramp.h"

namespace corral::registry {

int64_t DefaultPartSize(int64_t total) {
  constexpr int64_t kMinPart = 100'000'000;  // decimal MB, as Ollama
  constexpr int64_t kMaxPart = 1'000'000'000;
  return std::clamp<int64_t>(total / 16, kMinPart, kMaxPart);
}

namespace {

using internal::Http;
using internal::Reply;
using internal::Url;
namespace fs = std::filesystem;

// A part's state file is rewritten at least this often while bytes arrive...
constexpr auto kPartFileInterval = std::chrono::seconds(1);
// ...and after every 1/kPartFileSteps of the part: with up to 16 parts in flight, a kill loses
// (downloads again) at most about one part's worth of bytes, however fast the link is.
constexpr int64_t kPartFileSteps = 16;
// Bytes gathered from the body before one write to the partial file.
constexpr size_t kWriteBlock = 1 << 20;
// Bytes written to the partial file between starts of their writeback.
constexpr int64_t kWritebackBlock = 8 << 20;

// One download part: bytes [offset, offset+size) of the blob, `completed` of them on disk.
struct Part {
  int n = 0;
  int64_t offset = 0;
  int64_t size = 0;
  std::atomic<int64_t> completed{0};
};

std::string PartFilePath(const std::string& partial, int n) {
  return partial + "-" + std::to_string(n);
}

// Ollama's part file: {"N":0,"Offset":0,"Size":100,"Completed":40}. Written to a temp name and
// renamed, so a crash leaves the old state or the new one.
Status WritePartFile(const std::string& partial, const Part& part) {
  nlohmann::ordered_json j = {{"N", part.n},
                              {"Offset", part.offset},
                              {"Size", part.size},
                              {"Completed", part.completed.load()}};
  std::string path = PartFilePath(partial, part.n);
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << j.dump();
    if (!out.flush()) return IoError("cannot write " + temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) return ErrnoError("rename " + temp, errno);
  return Status::Ok();
}

void RemovePartial(const std::string& partial) {
  std::error_code ec;
  fs::remove(partial, ec);
  for (int n = 0;; ++n) {
    std::string path = PartFilePath(partial, n);
    if (!fs::exists(path, ec)) {
      // A gap can only come from a crash mid-cleanup; one more look catches a trailing file.
      if (!fs::exists(PartFilePath(partial, n + 1), ec)) break;
      continue;
    }
    fs::remove(path, ec);
  }
}

// The parts a previous pull left, when they cover [0, total) exactly and the data file is
// there with the right size; otherwise none (a fresh start).
std::vector<std::unique_ptr<Part>> LoadParts(const std::string& partial, int64_t total) {
  std::vector<std::unique_ptr<Part>> parts;
  std::error_code ec;
  if (!fs::is_regular_file(partial, ec) ||
      static_cast<int64_t>(fs::file_size(partial, ec)) != total) {
    return parts;
  }
  int64_t end = 0;
  for (int n = 0; end < total; ++n) {
    std::ifstream in(PartFilePath(partial, n), std::ios::binary);
    if (!in) return {};
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > 4096) return {};
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("Offset") || !j.contains("Size") ||
        !j.contains("Completed") || !j["Offset"].is_number_integer() ||
        !j["Size"].is_number_integer() || !j["Completed"].is_number_integer()) {
      return {};
    }
    auto part = std::make_unique<Part>();
    part->n = n;
    part->offset = j["Offset"].get<int64_t>();
    part->size = j["Size"].get<int64_t>();
    int64_t completed = j["Completed"].get<int64_t>();
    if (part->offset != end || part->size <= 0 || part->size > total - end || completed < 0 ||
        completed > part->size) {
      return {};
    }
    part->completed = completed;
    end += part->size;
    parts.push_back(std::move(part));
  }
  return parts;
}

// Parses "bytes S-E/T" (T may be "*"): S and E.
bool ParseContentRange(const std::string& value, int64_t* start, int64_t* end) {
  long long s = 0, e = 0;
  if (std::sscanf(value.c_str(), "bytes %lld-%lld", &s, &e) != 2) return false;
  *start = s;
  *end = e;
  return true;
}

// One download per digest in this process (Ollama shares one download between concurrent pulls):
// the pull holding a digest downloads it, verifies it and moves it into the store; another pull
// of the same digest waits, showing the holder's progress, and then finds the blob in the store
// (or, when the holder failed or was cancelled, resumes from the part files it left). A pull
// holds one digest at a time, so two pulls cannot deadlock.
class ActiveDownloads {
 public:
  static ActiveDownloads& Get() {
    static ActiveDownloads instance;
    return instance;
  }

  // Waits until no pull holds `hex`, then holds it. While waiting, `waiting` gets the holder's
  // completed bytes every `interval`; when it returns false the wait ends with Cancelled.
  Status Acquire(const std::string& hex, std::chrono::milliseconds interval,
                 const std::function<bool(int64_t)>& waiting) {
    std::unique_lock lock(mu_);
    while (held_.contains(hex)) {
      int64_t completed = held_[hex];
      lock.unlock();
      bool go_on = waiting(completed);
      lock.lock();
      if (!go_on) return CancelledError("pull cancelled");
      cv_.wait_for(lock, interval, [&] { return !held_.contains(hex); });
    }
    held_[hex] = 0;
    return Status::Ok();
  }
  void Publish(const std::string& hex, int64_t completed) {
    std::lock_guard lock(mu_);
    if (auto it = held_.find(hex); it != held_.end()) it->second = completed;
  }
  void Release(const std::string& hex) {
    std::lock_guard lock(mu_);
    held_.erase(hex);
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int64_t> held_;  // hex -> the holder's completed bytes
};

// Releases a digest taken with ActiveDownloads::Acquire.
class DigestHold {
 public:
  explicit DigestHold(std::string hex) : hex_(std::move(hex)) {}
  ~DigestHold() { ActiveDownloads::Get().Release(hex_); }
  DigestHold(const DigestHold&) = delete;
  DigestHold& operator=(const DigestHold&) = delete;

 private:
  std::string hex_;
};

class BlobDownload {
 public:
  BlobDownload(Http& http, Url url, store::Digest digest, int64_t total, std::string partial,
               const RegistryOptions& options, std::atomic<bool>& cancelled)
      : http_(http),
        url_(std::move(url)),
        digest_(std::move(digest)),
        total_(total),
        partial_(std::move(partial)),
        options_(options),
        cancelled_(cancelled) {}

  // Downloads every missing byte into the partial file; progress reported as it goes.
  Status Run(const ProgressFn& progress);
  // The sha256 of the whole partial file when Run hashed it on the way (empty: not hashed).
  const store::Digest& hashed() const { return hashed_digest_; }

 private:
  Status PlanParts();
  Status DownloadPart(Part& part);
  // One ranged GET for what the part still lacks. `permanent` set: retrying cannot help.
  Status Attempt(Part& part, bool* permanent);
  // Hashes the downloaded prefix of the blob while parts arrive, so the verification after the
  // last byte is short: part 0 grows the prefix in order, later parts are read back from the
  // page cache as the parts before them complete.
  void HashLoop();
  int64_t Prefix() const {
    int64_t sum = 0;
    for (const auto& p : parts_) {
      int64_t c = p->completed;
      sum += c;
      if (c < p->size) break;
    }
    return sum;
  }
  void Fail(Status status) {
    std::lock_guard lock(mu_);
    if (error_.ok()) error_ = std::move(status);
    stop_ = true;
  }
  bool Stopped() const { return stop_ || cancelled_; }
  int64_t Completed() const {
    int64_t sum = 0;
    for (const auto& p : parts_) sum += p->completed;
    return sum;
  }

  Http& http_;
  Url url_;
  store::Digest digest_;
  int64_t total_;
  std::string partial_;
  const RegistryOptions& options_;
  std::atomic<bool>& cancelled_;
  std::vector<std::unique_ptr<Part>> parts_;
  int fd_ = -1;
  std::mutex mu_;
  std::condition_variable done_cv_;
  Status error_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> workers_done_{false};
  store::Sha256 hash_;  // HashLoop's alone until it is joined
  int64_t hashed_ = 0;
  bool hash_failed_ = false;
  store::Digest hashed_digest_;
};

void BlobDownload::HashLoop() {
  std::vector<char> buf(1 << 20);  // read back and hashed 1 MB at a time
  while (true) {
    bool finished = workers_done_ || Stopped();  // read before the prefix: nothing is missed
    int64_t prefix = Prefix();
    if (hashed_ < prefix) {
      size_t want = static_cast<size_t>(std::min<int64_t>(prefix - hashed_, buf.size()));
      ssize_t n = ::pread(fd_, buf.data(), want, hashed_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        hash_failed_ = true;  // the file is hashed again after the download
        return;
      }
      hash_.Update(buf.data(), static_cast<size_t>(n));
      hashed_ += n;
      continue;
    }
    if (finished) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Status BlobDownload::PlanParts() {
  parts_ = LoadParts(partial_, total_);
  if (!parts_.empty()) {
    fd_ = ::open(partial_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return ErrnoError("open " + partial_, errno);
    return Status::Ok();
  }
  RemovePartial(partial_);
  fd_ = ::open(partial_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return ErrnoError("create " + partial_, errno);
  // The whole blob's space is taken now, so a disk too small fails here rather than after
  // gigabytes. statvfs first, because ext4 fills the disk before it gives up on a fallocate
  // that cannot fit; Linux's fallocate, not posix_fallocate, because where the filesystem
  // cannot allocate, glibc's would write every block once.
  struct statvfs disk {};
  const double free_bytes = ::fstatvfs(fd_, &disk) == 0
                                ? static_cast<double>(disk.f_bavail) * disk.f_frsize
                                : static_cast<double>(total_);  // unknown: let fallocate say
  bool no_space = free_bytes < static_cast<double>(total_);
  if (!no_space && total_ > 0 && ::fallocate(fd_, 0, 0, total_) != 0) {
    no_space = errno == ENOSPC;
    // Filesystems without fallocate: a sparse file of the right size will do.
    if (!no_space && ::ftruncate(fd_, total_) != 0)
      return ErrnoError("truncate " + partial_, errno);
  }
  if (no_space) {
    ::close(fd_);
    fd_ = -1;
    RemovePartial(partial_);
    char free_gb[32];
    std::snprintf(free_gb, sizeof free_gb, "%.1f GB", free_bytes / 1e9);
    return ResourceExhaustedError(
        "not enough disk space for " + digest_.String() + ": it is " + std::to_string(total_) +
        " bytes and " + fs::path(partial_).parent_path().string() + " has " + free_gb + " free");
  }
  int64_t part_size = options_.part_size > 0 ? options_.part_size : DefaultPartSize(total_);
  for (int64_t offset = 0, n = 0; offset < total_; offset += part_size, ++n) {
    auto part = std::make_unique<Part>();
    part->n = static_cast<int>(n);
    part->offset = offset;
    part->size = std::min(part_size, total_ - offset);
    parts_.push_back(std::move(part));
  }
  for (const auto& part : parts_) RETURN_IF_ERROR(WritePartFile(partial_, *part));
  return Status::Ok();
}

Status BlobDownload::Attempt(Part& part, bool* permanent) {
  const int64_t start = part.offset + part.completed;
  const int64_t end = part.offset + part.size - 1;  // inclusive
  int64_t pos = start;  // bytes before this are on disk (and counted in part.completed)
  Status sink_status;
  auto last_save = std::chrono::steady_clock::now();
  int64_t saved_pos = pos;
  int64_t synced_pos = pos;
  const int64_t save_every = std::max<int64_t>(part.size / kPartFileSteps, 1);
  // The body comes in pieces of a few KB; written in larger blocks, that is far fewer syscalls.
  std::string pending;
  pending.reserve(kWriteBlock);
  auto write = [&](const char* data, size_t size) -> bool {
    while (size > 0) {
      ssize_t n = ::pwrite(fd_, data, size, pos);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        *permanent = true;  // ENOSPC and friends: retrying will not help
        sink_status = ErrnoError("write " + partial_, n < 0 ? errno : EIO);
        return false;
      }
      data += n;
      size -= static_cast<size_t>(n);
      pos += n;
      part.completed += n;
    }
    if (pos - synced_pos >= kWritebackBlock) {
      // Start writeback now, so the fsync before the blob enters the store has little left.
      (void)::sync_file_range(fd_, synced_pos, pos - synced_pos, SYNC_FILE_RANGE_WRITE);
      synced_pos = pos;
    }
    if (auto now = std::chrono::steady_clock::now();
        pos - saved_pos >= save_every || now - last_save >= kPartFileInterval) {
      last_save = now;
      saved_pos = pos;
      (void)WritePartFile(partial_, part);  // best effort: a stale file only re-downloads more
    }
    return true;
  };
  auto flush = [&] {
    bool ok = write(pending.data(), pending.size());
    pending.clear();
    return ok;
  };
  httplib::Headers headers = {
      {"Range", "bytes=" + std::to_string(start) + "-" + std::to_string(end)}};
  auto check = [&](const httplib::Response& res) -> Status {
    if (res.status == 200 && start == 0 && end == total_ - 1) return Status::Ok();
    int64_t s = 0, e = 0;
    if (res.status != 206 || !ParseContentRange(res.get_header_value("Content-Range"), &s, &e) ||
        s != start || e > end) {
      *permanent = true;
      return UnavailableError("registry answered bytes " + std::to_string(start) + "-" +
                              std::to_string(end) + " of " + digest_.String() + " with status " +
                              std::to_string(res.status) + " and range \"" +
                              res.get_header_value("Content-Range") + "\"");
    }
    return Status::Ok();
  };
  auto sink = [&](const char* data, size_t size) {
    if (Stopped()) {
      sink_status = CancelledError("pull cancelled");
      return false;
    }
    if (static_cast<int64_t>(size) > end + 1 - pos - static_cast<int64_t>(pending.size())) {
      *permanent = true;
      sink_status = OutOfRangeError("blob " + digest_.String() + " is longer than its declared " +
                                    std::to_string(total_) + " bytes");
      return false;
    }
    // Large pieces (our plain-http reader's) go straight to the file; small ones are gathered.
    if (pending.empty() && size >= kWriteBlock / 4) return write(data, size);
    pending.append(data, size);
    return pending.size() < kWriteBlock || flush();
  };
  Result<Reply> reply = http_.Get(url_, headers, sink, internal::kMaxReplyBody, check,
                                  /*head=*/false, &sink_status);
  // What arrived before an error is good data of this range: kept.
  if (!pending.empty() && !flush()) return sink_status;
  Status saved = WritePartFile(partial_, part);
  if (!reply.ok()) {
    // A refused redirect target or an oversized error body will not change on a retry.
    StatusCode code = reply.status().code();
    *permanent |= code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted;
    return reply.status();
  }
  if (reply->status < 200 || reply->status >= 300) {
    *permanent = reply->status != 429 && reply->status < 500;
    return internal::ReplyError("GET " + reply->url.String(), *reply);
  }
  return saved;
}

Status BlobDownload::DownloadPart(Part& part) {
  int tries = 0;
  Status last;
  while (part.completed < part.size) {
    if (Stopped()) return CancelledError("pull cancelled");
    int64_t before = part.completed;
    bool permanent = false;
    last = Attempt(part, &permanent);
    if (permanent || last.code() == StatusCode::kCancelled) return last;
    if (part.completed >= part.size) break;
    // A try that moved forward resets the count: only tries without progress run out.
    tries = part.completed > before ? 0 : tries + 1;
    if (tries >= options_.max_tries) {
      std::string why = last.ok() ? "the body ended early" : last.message();
      return UnavailableError("downloading part " + std::to_string(part.n) + " of " +
                              digest_.String() + " failed after " + std::to_string(tries) +
                              " tries: " + why);
    }
    if (tries > 0) {
      LOG(kInfo) << "pull: part " << part.n << " of " << digest_.String()
                 << " retrying: " << (last.ok() ? "short body" : last.message());
      auto delay = options_.retry_delay * (int64_t{1} << std::min(tries - 1, 10));
      auto until = std::chrono::steady_clock::now() + delay;
      while (!Stopped() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
  return Status::Ok();
}

Status BlobDownload::Run(const ProgressFn& progress) {
  Status planned = PlanParts();
  if (!planned.ok()) {
    if (fd_ >= 0) ::close(fd_);
    return planned;
  }
  std::vector<Part*> todo;
  for (const auto& p : parts_) {
    if (p->completed < p->size) todo.push_back(p.get());
  }
  const int max_streams = static_cast<int>(
      std::min<size_t>(todo.size(), static_cast<size_t>(std::max(1, options_.max_parallel))));
  const auto started = std::chrono::steady_clock::now();
  internal::StreamRamp ramp(max_streams, started, options_.ramp_window);
  // Guarded by mu_: the next part to start, the workers running and how many should run.
  size_t next = 0;
  int running = 0;
  int target = ramp.streams();
  int most_streams = 0;
  std::thread hasher([this] { HashLoop(); });
  std::vector<std::thread> threads;
  // A worker downloads parts in order until none is left, or until the ramp wants fewer streams
  // (it stops between parts: a part is never cut short for that).
  auto worker = [&] {
    while (true) {
      size_t k;
      {
        std::lock_guard lock(mu_);
        if (Stopped() || running > target || next >= todo.size()) {
          --running;
          done_cv_.notify_all();
          return;
        }
        k = next++;
      }
      Status s = DownloadPart(*todo[k]);
      if (!s.ok()) Fail(s);
    }
  };
  auto start_workers = [&] {  // mu_ held
    while (running < target && next < todo.size()) {
      ++running;
      most_streams = std::max(most_streams, running);
      threads.emplace_back(worker);
    }
  };
  const std::string status = "pulling " + internal::ShortHex(digest_);
  auto report = [&] {
    int64_t completed = Completed();
    ActiveDownloads::Get().Publish(digest_.hex(), completed);
    if (!progress({status, digest_.String(), total_, completed})) cancelled_ = true;
    return completed;
  };
  {
    std::unique_lock lock(mu_);
    start_workers();
    while (running > 0) {
      done_cv_.wait_for(lock, options_.progress_interval, [&] { return running == 0; });
      if (running == 0) break;
      lock.unlock();
      int64_t completed = report();
      int streams = ramp.Update(std::chrono::steady_clock::now(), completed);
      lock.lock();
      target = streams;
      start_workers();
    }
  }
  for (auto& t : threads) t.join();
  const auto downloaded_at = std::chrono::steady_clock::now();
  workers_done_ = true;
  hasher.join();
  const auto hashed_at = std::chrono::steady_clock::now();
  if (error_.ok() && !hash_failed_ && hashed_ == total_) hashed_digest_ = hash_.Finish();
  if (::fsync(fd_) != 0 && error_.ok()) error_ = ErrnoError("fsync " + partial_, errno);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  LOG(kDebug) << "pull: " << digest_.String() << ": " << todo.size() << " parts, at most "
              << most_streams << " at once, downloaded in " << ms(downloaded_at - started)
              << " ms, hash done " << ms(hashed_at - downloaded_at) << " ms later, fsync "
              << ms(std::chrono::steady_clock::now() - hashed_at) << " ms";
  ::close(fd_);
  if (error_.ok()) report();  // the final count; a client that left by now still cancels
  if (error_.ok() && cancelled_) error_ = CancelledError("pull cancelled");
  return error_;
}

// `hashed`: the partial file's sha256 when already known (else it is read and hashed here).
Status VerifyAndCommit(store::Store& store, const store::Digest& digest,
                       const store::Digest& hashed) {
  std::string final_path = store.BlobPath(digest);
  std::string partial = final_path + "-partial";
  Result<store::Digest> got =
      hashed.empty() ? store::Sha256OfFile(partial) : Result<store::Digest>(hashed);
  if (!got.ok()) return got.status();
  if (*got != digest) {
    RemovePartial(partial);
    return CorruptionError("digest mismatch, file must be downloaded again: want " +
                           digest.String() + ", got " + got->String());
  }
  if (::rename(partial.c_str(), final_path.c_str()) != 0) {
    return ErrnoError("rename " + partial, errno);
  }
  RemovePartial(partial);  // the part files
  return store::internal::FsyncDir(store.BlobsDir());
}

// One blob into the store: held against concurrent pulls of the same digest, skipped when the
// store has it, else sized by HEAD, downloaded, verified and moved in.
Status FetchBlob(store::Store& store, Http& http, const Url& base, const std::string& repo,
                 const store::Layer& layer, const RegistryOptions& options, const ProgressFn& say,
                 std::atomic<bool>& cancelled) {
  const store::Digest& digest = layer.digest;
  const std::string status = "pulling " + internal::ShortHex(digest);
  RETURN_IF_ERROR(ActiveDownloads::Get().Acquire(
      digest.hex(), options.progress_interval, [&](int64_t completed) {
        return say({status, digest.String(), layer.size, completed});
      }));
  DigestHold hold(digest.hex());
  if (store.HasBlob(digest)) {
    if (!say({status, digest.String(), layer.size, layer.size})) {
      return CancelledError("pull cancelled");
    }
    return Status::Ok();
  }
  Url blob_url = base;
  blob_url.target = repo + "/blobs/" + digest.String();
  ASSIGN_OR_RETURN(Reply head, http.Get(blob_url, {}, nullptr, internal::kMaxReplyBody, nullptr,
                                        /*head=*/true));
  if (head.status != 200) return internal::ReplyError("HEAD " + head.url.String(), head);
  std::string length = head.Header("Content-Length");
  if (!length.empty() && length != std::to_string(layer.size)) {
    return CorruptionError("blob " + digest.String() + " is " + length +
                           " bytes on the registry, but the manifest says " +
                           std::to_string(layer.size));
  }
  std::string partial = store.BlobPath(digest) + "-partial";
  RETURN_IF_ERROR(store::internal::MakeDirs(store.BlobsDir()));
  BlobDownload download(http, blob_url, digest, layer.size, partial, options, cancelled);
  Status downloaded = download.Run(say);
  if (downloaded.code() == StatusCode::kOutOfRange ||
      downloaded.code() == StatusCode::kCorruption) {
    RemovePartial(partial);  // the registry broke the protocol: nothing worth resuming
  }
  RETURN_IF_ERROR(downloaded);
  // Verified while still held, so no other pull sees a complete partial file half-renamed.
  return VerifyAndCommit(store, digest, download.hashed());
}

Status PullLocked(store::Store& store, const store::Name& name, const RegistryOptions& options,
                  const ProgressFn& progress, std::atomic<bool>& cancelled) {
  auto say = [&](const Progress& p) {
    if (!progress(p)) cancelled = true;
    return !cancelled;
  };
  ASSIGN_OR_RETURN(Url base, internal::RegistryBase(name, options.insecure));
  Http http(internal::MakeHttpOptions(options, base));
  const std::string repo = internal::RepositoryPath(name);

  if (!say({"pulling manifest", "", 0, 0})) return CancelledError("pull cancelled");
  Url manifest_url = base;
  manifest_url.target = repo + "/manifests/" + name.tag;
  ASSIGN_OR_RETURN(Reply reply,
                   http.Get(manifest_url, {{"Accept", std::string(store::kMediaTypeManifest)}},
                            nullptr, store::kMaxManifestBytes));
  if (reply.status == 404) return NotFoundError("pull model manifest: file does not exist");
  if (reply.status != 200) return internal::ReplyError("pull model manifest", reply);
  ASSIGN_OR_RETURN(store::Manifest manifest,
                   store::ParseManifest(reply.body, "the registry's manifest"));

  // Layers, then the config (Ollama's order); each digest once.
  std::vector<store::Layer> blobs;
  std::vector<store::Layer> all = manifest.layers;
  if (!manifest.config.digest.empty()) all.push_back(manifest.config);
  for (const store::Layer& layer : all) {
    if (layer.digest.empty())
      return CorruptionError("the registry's manifest has a layer without a digest");
    if (!layer.name.empty()) {
      return UnsupportedError(
          "this model has tensor layers (safetensors), which corral cannot run");
    }
    if (layer.size < 0) return CorruptionError("the registry's manifest has a negative size");
    // The largest real models are about 1.3 TB; beyond this a size is a lie, and its parts
    // (1 GB each) would be files by the thousand.
    constexpr int64_t kMaxBlobBytes = int64_t{4} << 40;
    if (layer.size > kMaxBlobBytes) {
      return CorruptionError("blob " + layer.digest.String() + " declares " +
                             std::to_string(layer.size) + " bytes, more than 4 TiB");
    }
    bool seen = std::any_of(blobs.begin(), blobs.end(),
                            [&](const store::Layer& b) { return b.digest == layer.digest; });
    if (!seen) blobs.push_back(layer);
  }

  // Each blob is verified as soon as it is downloaded (a bad one stops the pull before more is
  // fetched); the status line keeps Ollama's sequence.
  for (const store::Layer& layer : blobs) {
    RETURN_IF_ERROR(FetchBlob(store, http, base, repo, layer, options, say, cancelled));
  }
  if (!say({"verifying sha256 digest", "", 0, 0})) return CancelledError("pull cancelled");

  std::vector<store::Digest> old_blobs;
  if (Result<store::ModelEntry> old = store.ReadModel(name); old.ok()) {
    old_blobs = old->manifest.Blobs();
  }
  if (!say({"writing manifest", "", 0, 0})) return CancelledError("pull cancelled");
  RETURN_IF_ERROR(store.WriteManifestBytes(name, reply.body));

  std::vector<store::Digest> unused;
  std::vector<store::Digest> now = manifest.Blobs();
  for (const store::Digest& d : old_blobs) {
    if (std::find(now.begin(), now.end(), d) == now.end()) unused.push_back(d);
  }
  if (!unused.empty() && !options.no_prune) {
    say({"removing unused layers", "", 0, 0});
    Result<int> removed = store.RemoveUnreferencedBlobs(unused);
    if (!removed.ok()) LOG(kWarn) << "pull: " << removed.status().message();
  }
  say({"success", "", 0, 0});
  return Status::Ok();
}

}  // namespace

Status Pull(store::Store& store, const store::Name& name, const RegistryOptions& options,
            const ProgressFn& progress) {
  if (!name.IsValid()) return InvalidArgumentError("invalid model name");
  ASSIGN_OR_RETURN(store::Name resolved, store.Resolve(name));
  resolved.scheme = name.scheme;
  std::atomic<bool> cancelled{false};
  Status s = PullLocked(store, resolved, options, progress, cancelled);
  if (!s.ok()) LOG(kInfo) << "pull " << resolved.DisplayShortest() << ": " << s.message();
  return s;
}

}  // namespace corral::registry
