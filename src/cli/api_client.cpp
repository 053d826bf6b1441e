#include "cli/api_client.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "base/strings.h"
#include "base/version.h"

namespace corral::cli {
namespace {

using nlohmann::json;

// Go's GOARCH names, as Ollama's User-Agent carries them.
constexpr const char* GoArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "unknown";
#endif
}

// A generation may wait minutes for a model to load or a quantization to finish between two
// lines; Ollama's client has no read timeout at all.
constexpr auto kReadTimeout = std::chrono::hours(24);
constexpr auto kConnectTimeout = std::chrono::seconds(10);

Status TransportError(httplib::Error error, const std::string& method, const std::string& url) {
  if (error == httplib::Error::Connection) return UnavailableError(kCouldNotConnect);
  return UnavailableError(method + " " + url + ": " + httplib::to_string(error));
}

Status HttpError(int status, const std::string& body) {
  return Status(StatusCodeForHttp(status), ErrorTextOfReply(status, body));
}

// One NDJSON line: decoded, checked for an in-stream error, handed on.
Status HandleLine(std::string_view line, const ApiClient::LineHandler& on_line) {
  line = TrimSpace(line);
  if (line.empty()) return Status::Ok();
  json decoded = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (decoded.is_discarded()) {
    return InternalError("unmarshal: invalid JSON line from the server: " +
                         QuoteForMessage(line, 200, false));
  }
  if (decoded.is_object() && decoded.contains("error")) {
    const json& e = decoded["error"];
    return InternalError(e.is_string() ? e.get<std::string>() : e.dump());
  }
  return on_line(decoded);
}

}  // namespace

std::string UserAgent() { return std::string("corral/") + kVersion + " (" + GoArch() + " linux)"; }

StatusCode StatusCodeForHttp(int http_status) {
  switch (http_status) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kAlreadyExists;
    case 429:
    case 503:
      return StatusCode::kResourceExhausted;
    case 501:
      return StatusCode::kUnsupported;
    default:
      return StatusCode::kInternal;
  }
}

std::string ErrorTextOfReply(int http_status, const std::string& body) {
  json decoded = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (decoded.is_object() && decoded.contains("error") && decoded["error"].is_string()) {
    return decoded["error"].get<std::string>();
  }
  std::string_view text = TrimSpace(body);
  if (!text.empty()) return std::string(text.substr(0, 500));  // e.g. "404 page not found"
  return "the server answered HTTP " + std::to_string(http_status);
}

void CancelSource::Cancel() noexcept {
  cancelled_.store(true);
  const int fd = socket_.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

void CancelSource::AttachSocket(int socket) noexcept {
  socket_.store(socket);
  // A Ctrl+C between the client's check and now found no socket to shut: do it here.
  if (cancelled()) ::shutdown(socket, SHUT_RDWR);
}

ApiClient::ApiClient(config::HostAddress host) : host_(std::move(host)) {}

std::string ApiClient::FullPath(const std::string& path) const {
  return host_.path.empty() ? path : "/" + host_.path + path;
}

namespace {

// A client for one request. Ollama's OLLAMA_HOST may name https (a remote server behind a
// proxy); cpp-httplib is built here without TLS, so that is refused with a clear message.
Result<std::unique_ptr<httplib::Client>> MakeClient(const config::HostAddress& host,
                                                    CancelSource* cancel) {
  if (host.scheme != "http") {
    return UnsupportedError("OLLAMA_HOST " + host.Url() +
                            ": only http:// servers are supported by this client");
  }
  // An empty host means "all interfaces" to the server; the client connects to loopback.
  std::string name = host.host.empty() || host.host == "0.0.0.0" ? "127.0.0.1" : host.host;
  if (name == "::") name = "::1";
  auto client = std::make_unique<httplib::Client>(name, host.port);
  client->set_connection_timeout(kConnectTimeout);
  client->set_read_timeout(kReadTimeout);
  client->set_write_timeout(kReadTimeout);
  if (cancel != nullptr) {
    if (cancel->cancelled()) return CancelledError("cancelled");
    client->set_socket_options([cancel](socket_t socket) { cancel->AttachSocket(socket); });
  }
  return client;
}

}  // namespace

Status ApiClient::Finish(Status status) {
  if (cancel_ == nullptr) return status;
  cancel_->DetachSocket();
  if (cancel_->cancelled()) return CancelledError("cancelled");
  return status;
}

Status ApiClient::Heartbeat() {
  ASSIGN_OR_RETURN(int status, Head("/"));
  if (status >= 400) return HttpError(status, "");
  return Status::Ok();
}

Result<int> ApiClient::Head(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<httplib::Client> client, MakeClient(host_, cancel_));
  httplib::Result res = client->Head(FullPath(path), {{"User-Agent", UserAgent()}});
  RETURN_IF_ERROR(Finish(Status::Ok()));
  if (!res) return TransportError(res.error(), "HEAD", host_.Url() + path);
  return res->status;
}

Result<json> ApiClient::Get(const std::string& path) { return JsonRequest("GET", path, nullptr); }

Result<json> ApiClient::Post(const std::string& path, const json& body) {
  return JsonRequest("POST", path, &body);
}

Result<json> ApiClient::Delete(const std::string& path, const json& body) {
  return JsonRequest("DELETE", path, &body);
}

Result<json> ApiClient::JsonRequest(const std::string& method, const std::string& path,
                                    const json* body) {
  ASSIGN_OR_RETURN(std::unique_ptr<httplib::Client> client, MakeClient(host_, cancel_));
  httplib::Request req;
  req.method = method;
  req.path = FullPath(path);
  req.headers = {{"User-Agent", UserAgent()}, {"Accept", "application/json"}};
  if (body != nullptr) {
    req.headers.emplace("Content-Type", "application/json");
    req.body = body->dump();
  }
  httplib::Result res = client->send(req);
  RETURN_IF_ERROR(Finish(Status::Ok()));
  if (!res) return TransportError(res.error(), method, host_.Url() + path);
  if (res->status >= 400) return HttpError(res->status, res->body);
  if (TrimSpace(res->body).empty()) return json::object();
  json decoded = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (decoded.is_discarded()) {
    return InternalError("unmarshal: the server's reply to " + method + " " + path +
                         " is not JSON");
  }
  return decoded;
}

Status ApiClient::Stream(const std::string& path, const json& body, const LineHandler& on_line) {
  ASSIGN_OR_RETURN(std::unique_ptr<httplib::Client> client, MakeClient(host_, cancel_));
  httplib::Request req;
  req.method = "POST";
  req.path = FullPath(path);
  req.headers = {{"User-Agent", UserAgent()},
                 {"Accept", "application/x-ndjson"},
                 {"Content-Type", "application/json"}};
  req.body = body.dump();

  int http_status = 0;
  std::string error_body;  // the whole body of an error reply
  std::string pending;     // bytes of a line not yet complete
  Status stopped;          // why the receiver stopped the stream early
  req.response_handler = [&](const httplib::Response& response) {
    http_status = response.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (cancel_ != nullptr && cancel_->cancelled()) return false;
    if (http_status >= 400) {
      error_body.append(data, size);
      return true;
    }
    pending.append(data, size);
    size_t start = 0;
    for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      stopped = HandleLine(std::string_view(pending).substr(start, end - start), on_line);
      if (!stopped.ok()) return false;
    }
    pending.erase(0, start);
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  const bool sent = client->send(req, res, error);
  RETURN_IF_ERROR(Finish(Status::Ok()));
  if (!stopped.ok()) return stopped;
  if (!sent) return TransportError(error, "POST", host_.Url() + path);
  if (http_status >= 400) return HttpError(http_status, error_body);
  return HandleLine(pending, on_line);  // a last line without its '\n'
}

Status ApiClient::PostFile(const std::string& path, const std::string& file_path,
                           const ProgressHandler& on_progress) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(file_path, ec);
  if (ec) return IoError("open " + file_path + ": " + ec.message());
  std::ifstream file(file_path, std::ios::binary);
  if (!file) return IoError("open " + file_path + ": cannot read the file");
  ASSIGN_OR_RETURN(std::unique_ptr<httplib::Client> client, MakeClient(host_, cancel_));
  std::vector<char> chunk(1 << 20);
  bool read_failed = false;
  auto provider = [&](size_t offset, size_t length, httplib::DataSink& sink) {
    if (cancel_ != nullptr && cancel_->cancelled()) return false;
    file.seekg(static_cast<std::streamoff>(offset));
    const size_t want = std::min(length, chunk.size());
    file.read(chunk.data(), static_cast<std::streamsize>(want));
    const auto got = static_cast<size_t>(file.gcount());
    if (got == 0) {
      read_failed = true;
      return false;
    }
    if (!sink.write(chunk.data(), got)) return false;
    if (on_progress) on_progress(offset + got, size);
    return true;
  };
  httplib::Result res =
      client->Post(FullPath(path), {{"User-Agent", UserAgent()}}, static_cast<size_t>(size),
                   provider, "application/octet-stream");
  RETURN_IF_ERROR(Finish(Status::Ok()));
  if (read_failed) return IoError("read " + file_path + ": the file changed while uploading");
  if (!res) return TransportError(res.error(), "POST", host_.Url() + path);
  if (res->status >= 400) return HttpError(res->status, res->body);
  return Status::Ok();
}

}  // namespace corral::cli
