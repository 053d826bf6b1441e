// A GET over plain http that reads the body in large blocks. httplib (the distribution's build)
// reads 4 KB per recv with a poll before each, which at loopback speed costs more CPU in
// syscalls than the transfer itself; blob downloads from an insecure registry come here instead.
// Everything from the network is bounded: the head (64 KB), chunk-size lines, lengths.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "registry/http.h"

namespace corral::registry::internal {
namespace {

constexpr size_t kMaxHead = 64 << 10;
constexpr size_t kReadBlock = 256 << 10;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on `fd` up to `timeout`; false on timeout or error.
bool WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

Result<int> Connect(const Url& url, std::chrono::milliseconds timeout) {
  std::string host = url.host_port, port = "80";
  if (!host.empty() && host[0] == '[') {  // [v6]:port
    size_t close = host.find(']');
    if (close == std::string::npos) return InvalidArgumentError("invalid host " + url.host_port);
    if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return UnavailableError("GET " + url.String() + ": " + gai_strerror(rc));
  }
  Status last = UnavailableError("GET " + url.String() + ": no address");
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS && WaitFor(fd, POLLOUT, timeout)) {
      int err = 0;
      socklen_t len = sizeof err;
      rc = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 ? 0 : -1;
    }
    if (rc == 0) {
      ::freeaddrinfo(found);
      return fd;
    }
    last = UnavailableError("GET " + url.String() + ": cannot connect");
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return last;
}

// Buffered reads with the stall timeout; the body passes through without a copy when it can.
class Reader {
 public:
  Reader(int fd, const Url& url, std::chrono::milliseconds timeout)
      : fd_(fd), url_(url), timeout_(timeout), buf_(kReadBlock) {}

  // More bytes into the buffer (compacting it first). Error on timeout, reset or EOF.
  Status Fill() {
    if (start_ > 0) {
      std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    if (end_ == buf_.size())
      return ResourceExhaustedError("GET " + url_.String() + ": line too long");
    while (true) {
      ssize_t n = ::recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
      if (n > 0) {
        end_ += static_cast<size_t>(n);
        return Status::Ok();
      }
      if (n == 0) {
        eof_ = true;
        return UnavailableError("GET " + url_.String() + ": connection closed early");
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return ErrnoError("GET " + url_.String(), errno);
      }
      if (!WaitFor(fd_, POLLIN, timeout_)) {
        return UnavailableError("GET " + url_.String() + ": no data for " +
                                std::to_string(timeout_.count()) + " ms");
      }
    }
  }
  // A line ending in CRLF (or LF), without it.
  Result<std::string> Line(size_t max) {
    while (true) {
      const char* begin = buf_.data() + start_;
      const char* nl = static_cast<const char*>(std::memchr(begin, '\n', end_ - start_));
      if (nl != nullptr) {
        std::string line(begin, nl);
        start_ += line.size() + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      if (end_ - start_ > max) return InvalidArgumentError("GET " + url_.String() + ": bad reply");
      RETURN_IF_ERROR(Fill());
    }
  }
  // Exactly `n` bytes (n < 0: up to EOF) to `sink`; Ok(false) when the sink stopped.
  Result<bool> Body(int64_t n, const BodySink& sink) {
    while (n != 0) {
      if (start_ == end_) {
        start_ = end_ = 0;
        Status s = Fill();
        if (!s.ok()) {
          if (n < 0 && eof_) return true;  // no length: the body ends with the connection
          return s;
        }
      }
      size_t take = end_ - start_;
      if (n > 0) take = static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(take)));
      if (!sink(buf_.data() + start_, take)) return false;
      start_ += take;
      if (n > 0) n -= static_cast<int64_t>(take);
    }
    return true;
  }

 private:
  int fd_;
  const Url& url_;
  std::chrono::milliseconds timeout_;
  std::vector<char> buf_;
  size_t start_ = 0, end_ = 0;
  bool eof_ = false;
};

// Digits only, no overflow; `hex` for chunk sizes.
bool ParseSize(std::string_view text, int base, int64_t* out) {
  if (text.empty() || text.size() > 15) return false;
  int64_t v = 0;
  for (char c : text) {
    int d = c >= '0' && c <= '9'                 ? c - '0'
            : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
            : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
    if (d < 0) return false;
    v = v * base + d;
  }
  *out = v;
  return true;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

Status SendAll(int fd, const std::string& data, const Url& url, std::chrono::milliseconds timeout) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && WaitFor(fd, POLLOUT, timeout)) {
      continue;
    }
    return UnavailableError("GET " + url.String() + ": cannot send the request");
  }
  return Status::Ok();
}

}  // namespace

Result<bool> PlainGet(const Url& url, const httplib::Headers& headers, const HttpOptions& options,
                      const std::function<bool(const httplib::Response&)>& on_response,
                      const BodySink& on_body) {
  ASSIGN_OR_RETURN(int fd, Connect(url, options.connect_timeout));
  Socket socket(fd);
  std::string request = "GET " + url.target + " HTTP/1.1\r\nHost: " + url.host_port +
                        "\r\nConnection: close\r\nAccept: */*\r\n";
  for (const auto& [key, value] : headers) {
    if ((key + value).find_first_of("\r\n") != std::string::npos) {
      return InvalidArgumentError("GET " + url.String() + ": bad header " + key);
    }
    request += key + ": " + value + "\r\n";
  }
  request += "\r\n";
  RETURN_IF_ERROR(SendAll(fd, request, url, options.write_timeout));

  Reader reader(fd, url, options.read_timeout);
  httplib::Response res;
  ASSIGN_OR_RETURN(std::string status_line, reader.Line(kMaxHead));
  // "HTTP/1.1 206 Partial Content"
  int64_t status = 0;
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 ||
      !ParseSize(std::string_view(status_line).substr(9, 3), 10, &status)) {
    return UnavailableError("GET " + url.String() + ": not an HTTP reply");
  }
  res.status = static_cast<int>(status);
  size_t head_bytes = status_line.size();
  while (true) {
    ASSIGN_OR_RETURN(std::string line, reader.Line(kMaxHead));
    head_bytes += line.size() + 2;
    if (head_bytes > kMaxHead) return UnavailableError("GET " + url.String() + ": head too long");
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    res.headers.emplace(Trim(std::string_view(line).substr(0, colon)),
                        Trim(std::string_view(line).substr(colon + 1)));
  }
  if (!on_response(res)) return false;
  if (res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200)) {
    return true;
  }

  std::string encoding = res.get_header_value("Transfer-Encoding");
  for (char& c : encoding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (encoding.find("chunked") != std::string::npos) {
    while (true) {
      ASSIGN_OR_RETURN(std::string line, reader.Line(1024));
      int64_t size = 0;
      if (!ParseSize(Trim(line.substr(0, line.find(';'))), 16, &size)) {
        return UnavailableError("GET " + url.String() + ": bad chunk size");
      }
      if (size == 0) return true;  // trailers are not read: the connection is closed anyway
      ASSIGN_OR_RETURN(bool more, reader.Body(size, on_body));
      if (!more) return false;
      ASSIGN_OR_RETURN(std::string crlf, reader.Line(2));
      if (!crlf.empty()) return UnavailableError("GET " + url.String() + ": bad chunk");
    }
  }
  int64_t length = -1;
  if (std::string value = res.get_header_value("Content-Length"); !value.empty()) {
    if (!ParseSize(value, 10, &length)) {
      return UnavailableError("GET " + url.String() + ": bad Content-Length");
    }
  }
  return reader.Body(length, on_body);
}

}  // namespace corral::registry::internal
