// Push: every blob of the manifest (layers, then the config) unless the registry has it, by a
// cross-repository mount when the layer names its source model, else by an upload in chunks
// (PATCH per chunk, then PUT ?digest=); the manifest last.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

#include "base/log.h"
#include "registry/common.h"
#include "registry/http.h"
#include "registry/registry.h"

namespace corral::registry {
namespace {

using internal::Http;
using internal::Reply;
using internal::Url;

constexpr size_t kReadChunk = 1 << 20;  // bytes read from the blob file per provider call

class FileCloser {
 public:
  explicit FileCloser(int fd) : fd_(fd) {}
  ~FileCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileCloser(const FileCloser&) = delete;
  FileCloser& operator=(const FileCloser&) = delete;

 private:
  int fd_;
};

class Pusher {
 public:
  Pusher(store::Store& store, const store::Name& name, Url base, const RegistryOptions& options,
         const ProgressFn& progress)
      : store_(store),
        name_(name),
        base_(std::move(base)),
        options_(options),
        progress_(progress),
        http_(internal::MakeHttpOptions(options, base_)) {}

  Status UploadBlob(const store::Layer& layer);
  Status PutManifest(const std::string& raw);
  bool Say(const Progress& p) {
    if (!progress_(p)) cancelled_ = true;
    return !cancelled_;
  }

 private:
  // Sends [offset, offset+length) of the blob file as one chunk.
  Result<Reply> SendChunk(const std::string& method, const Url& url,
                          const httplib::Headers& headers, int fd, int64_t offset, int64_t length,
                          const store::Layer& layer, int64_t* sent);

  store::Store& store_;
  store::Name name_;
  Url base_;
  const RegistryOptions& options_;
  const ProgressFn& progress_;
  Http http_;
  bool cancelled_ = false;
};

Result<Reply> Pusher::SendChunk(const std::string& method, const Url& url,
                                const httplib::Headers& headers, int fd, int64_t offset,
                                int64_t length, const store::Layer& layer, int64_t* sent) {
  auto buffer = std::make_shared<std::vector<char>>(kReadChunk);
  const std::string status = "pushing " + internal::ShortHex(layer.digest);
  auto last = std::chrono::steady_clock::now();
  const int64_t base_sent = *sent;
  auto provider = [&, buffer](size_t off, size_t len, httplib::DataSink& sink) {
    size_t want = std::min(len, buffer->size());
    ssize_t n = ::pread(fd, buffer->data(), want, offset + static_cast<int64_t>(off));
    if (n <= 0) return false;
    if (!sink.write(buffer->data(), static_cast<size_t>(n))) return false;
    *sent = base_sent + static_cast<int64_t>(off) + n;
    if (auto now = std::chrono::steady_clock::now(); now - last >= options_.progress_interval) {
      last = now;
      if (!Say({status, layer.digest.String(), layer.size, *sent})) return false;
    }
    return true;
  };
  Result<Reply> reply = http_.Send(method, url, headers, static_cast<size_t>(length), provider,
                                   "application/octet-stream", internal::kMaxReplyBody);
  if (cancelled_) return CancelledError("push cancelled");
  if (reply.ok()) *sent = base_sent + length;
  return reply;
}

Status Pusher::UploadBlob(const store::Layer& layer) {
  const std::string repo = internal::RepositoryPath(name_);
  const std::string status = "pushing " + internal::ShortHex(layer.digest);
  const std::string digest = layer.digest.String();
  auto done = [&] {
    return Say({status, digest, layer.size, layer.size}) ? Status::Ok()
                                                         : CancelledError("push cancelled");
  };

  Url blob_url = base_;
  blob_url.target = repo + "/blobs/" + digest;
  ASSIGN_OR_RETURN(Reply head, http_.Get(blob_url, {}, nullptr, internal::kMaxReplyBody, nullptr,
                                         /*head=*/true));
  if (head.status == 200) return done();
  if (head.status != 404) return internal::ReplyError("HEAD " + head.url.String(), head);

  Url start = base_;
  start.target = repo + "/blobs/uploads/";
  if (!layer.from.empty()) {
    // A layer taken from another model of the same registry can be mounted, not uploaded.
    Result<store::Name> from = store::ParseName(layer.from);
    if (from.ok() && from->host == name_.host &&
        !(from->ns == name_.ns && from->model == name_.model)) {
      start = internal::WithQuery(start, "mount", digest);
      start = internal::WithQuery(start, "from", from->ns + "/" + from->model);
    }
  }
  ASSIGN_OR_RETURN(Reply started,
                   http_.Send("POST", start, {}, 0, nullptr, "", internal::kMaxReplyBody));
  if (started.status == 201) return done();  // mounted
  if (started.status != 202) return internal::ReplyError("POST " + start.String(), started);
  std::string location = started.Header("Docker-Upload-Location");
  if (location.empty()) location = started.Header("Location");
  ASSIGN_OR_RETURN(Url upload, internal::ResolveLocation(start, location));

  ASSIGN_OR_RETURN(std::string path, store_.BlobPath(digest));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + path, errno);
  FileCloser closer(fd);
  const int64_t part_size =
      options_.part_size > 0 ? options_.part_size : DefaultPartSize(layer.size);
  int64_t sent = 0;
  for (int64_t offset = 0; offset < layer.size; offset += part_size) {
    const int64_t length = std::min(part_size, layer.size - offset);
    httplib::Headers headers = {
        {"Content-Range", std::to_string(offset) + "-" + std::to_string(offset + length - 1)},
        {"X-Redirect-Uploads", "1"}};
    ASSIGN_OR_RETURN(Reply chunk,
                     SendChunk("PATCH", upload, headers, fd, offset, length, layer, &sent));
    if (chunk.status == 307) {
      // "PUT this chunk there": an object store, which gets no registry credentials.
      ASSIGN_OR_RETURN(Url target, internal::ResolveLocation(upload, chunk.Header("Location")));
      sent = offset;
      ASSIGN_OR_RETURN(Reply put, SendChunk("PUT", target, {}, fd, offset, length, layer, &sent));
      if (put.status < 200 || put.status >= 300) {
        return internal::ReplyError("PUT " + target.String(), put);
      }
      continue;
    }
    if (chunk.status != 202 && chunk.status != 204) {
      return internal::ReplyError("PATCH " + upload.String(), chunk);
    }
    if (std::string next = chunk.Header("Location"); !next.empty()) {
      ASSIGN_OR_RETURN(upload, internal::ResolveLocation(upload, next));
    }
    if (!Say({status, digest, layer.size, sent})) return CancelledError("push cancelled");
  }
  Url finish = internal::WithQuery(upload, "digest", digest);
  ASSIGN_OR_RETURN(Reply put,
                   http_.Send("PUT", finish, {}, 0, nullptr, "", internal::kMaxReplyBody));
  if (put.status != 201 && put.status != 200 && put.status != 204) {
    return internal::ReplyError("PUT " + finish.String(), put);
  }
  return done();
}

Status Pusher::PutManifest(const std::string& raw) {
  Url url = base_;
  url.target = internal::RepositoryPath(name_) + "/manifests/" + name_.tag;
  auto provider = [&raw](size_t off, size_t len, httplib::DataSink& sink) {
    return sink.write(raw.data() + off, std::min(len, raw.size() - off));
  };
  ASSIGN_OR_RETURN(Reply reply,
                   http_.Send("PUT", url, {}, raw.size(), provider,
                              std::string(store::kMediaTypeManifest), internal::kMaxReplyBody));
  if (reply.status < 200 || reply.status >= 300) {
    return internal::ReplyError("PUT " + url.String(), reply);
  }
  return Status::Ok();
}

}  // namespace

Status Push(store::Store& store, const store::Name& name, const RegistryOptions& options,
            const ProgressFn& progress) {
  if (!name.IsValid()) return InvalidArgumentError("invalid model name");
  if (!progress({"retrieving manifest", "", 0, 0})) return CancelledError("push cancelled");
  Result<store::ModelEntry> entry = store.ReadModel(name);
  if (!entry.ok()) {
    progress({"couldn't retrieve manifest", "", 0, 0});
    return entry.status();
  }
  store::Name target = entry->name;
  target.scheme = name.scheme;
  ASSIGN_OR_RETURN(Url base, internal::RegistryBase(target, options.insecure));
  Pusher pusher(store, target, base, options, progress);

  std::vector<store::Layer> layers = entry->manifest.layers;
  if (!entry->manifest.config.digest.empty()) layers.push_back(entry->manifest.config);
  std::vector<store::Digest> done;
  for (const store::Layer& layer : layers) {
    if (std::find(done.begin(), done.end(), layer.digest) != done.end()) continue;
    done.push_back(layer.digest);
    Status s = pusher.UploadBlob(layer);
    if (!s.ok()) {
      LOG(kInfo) << "push " << target.DisplayShortest() << ": " << s.message();
      return s;
    }
  }
  if (!pusher.Say({"pushing manifest", "", 0, 0})) return CancelledError("push cancelled");
  Status s = pusher.PutManifest(entry->raw);
  if (!s.ok()) return s;
  pusher.Say({"success", "", 0, 0});
  return Status::Ok();
}

}  // namespace corral::registry
