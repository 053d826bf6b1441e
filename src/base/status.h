// Status and Result<T>: the error values used at every boundary with files, the network, user
// input or model metadata. No exception crosses a module boundary; broken internal invariants
// use CHECK (check.h) instead.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace corral {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong (HTTP 400)
  kNotFound,           // a file, model or key does not exist (HTTP 404)
  kAlreadyExists,      // (HTTP 409)
  kPermissionDenied,   // (HTTP 403)
  kCorruption,         // a file's bytes contradict its format
  kUnsupported,        // valid but not implemented by us (a type, an architecture)
  kOutOfRange,         // a value outside what is representable or allowed
  kResourceExhausted,  // memory, disk, queue space (HTTP 503 where it is a queue)
  kIoError,            // the OS said no
  kUnavailable,        // a peer is unreachable or refused
  kCancelled,
  kDeadlineExceeded,
  kInternal,  // our bug, reported instead of crashing where we can
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NotFound: model 'x' not found" style; "OK" when ok.
  std::string ToString() const;

  // Returns a copy whose message is "context: message" (code kept), to add where an error
  // passed through without losing what the lower layer said.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Builders, e.g. InvalidArgumentError("num_ctx must be positive, got -1").
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status CorruptionError(std::string message);
Status UnsupportedError(std::string message);
Status OutOfRangeError(std::string message);
Status ResourceExhaustedError(std::string message);
Status IoError(std::string message);
Status UnavailableError(std::string message);
Status CancelledError(std::string message);
Status InternalError(std::string message);

// IoError from errno: "<what>: <strerror(err)>".
Status ErrnoError(std::string_view what, int err);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    CHECK(!status_.ok()) << "Result<T> built from an OK Status carries no value";
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    CHECK(ok()) << "value() on an error Result: " << status_.ToString();
    return *value_;
  }
  const T& value() const& {
    CHECK(ok()) << "value() on an error Result: " << status_.ToString();
    return *value_;
  }
  T&& value() && {
    CHECK(ok()) << "value() on an error Result: " << status_.ToString();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  Status status_;  // OK exactly when value_ is set
};

}  // namespace corral

#define CORRAL_STATUS_CONCAT_INNER(a, b) a##b
#define CORRAL_STATUS_CONCAT(a, b) CORRAL_STATUS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                                \
  do {                                                       \
    ::corral::Status corral_status_tmp_ = (expr);            \
    if (!corral_status_tmp_.ok()) return corral_status_tmp_; \
  } while (0)

// ASSIGN_OR_RETURN(auto x, ReadThing()); declares x from a Result or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  CORRAL_ASSIGN_OR_RETURN_IMPL(CORRAL_STATUS_CONCAT(corral_result_, __LINE__), lhs, expr)
#define CORRAL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
