// Status and Result<T>: how every Acervo module reports success and failure.
//
// No exception crosses a module boundary. A function that can fail returns
// Status (nothing to give back) or Result<T> (a value or the reason there is
// none). Both are [[nodiscard]]: ignoring a failure must be a visible choice.
//
// Messages are for people: they name the file, the page and the reason
// ("lote-01/0003.tif page 2: truncated strip 14"), because operators read them
// at the scanner and in the morning report.
//
// Thread-safety: values; safe to copy and move between threads.
#ifndef ACERVO_CORE_STATUS_H_
#define ACERVO_CORE_STATUS_H_

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace acervo {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong (bad option, bad file).
  kNotFound,          // a named thing does not exist.
  kAlreadyExists,     // a write-once target is already there.
  kIOError,           // the OS refused a read or write.
  kCorrupt,           // data is there but cannot be decoded or fails a check.
  kUnavailable,       // a needed component (model, device) is missing now.
  kDeviceError,       // a scanner reported a fault (jam, cover open...).
  kCancelled,         // the operation was asked to stop.
  kDeadlineExceeded,  // the operation ran out of its time budget.
  kInternal,          // a bug: an invariant did not hold.
};

// Short stable name of a code ("InvalidArgument"), used in logs and JSON.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // The default Status is OK.
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeviceError(std::string m) { return {StatusCode::kDeviceError, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "Corrupt: scan.tif page 3: bad strip" or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "context: message" (no-op when OK).
  // Used to add the file/page a lower layer did not know about.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value of type T, or the Status saying why there is none. Constructing a
// Result from an OK Status is a bug and yields an Internal error instead.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : data_(std::move(status)) {  // NOLINT
    if (std::get<Status>(data_).ok()) {
      data_ = Status::Internal("Result constructed from an OK Status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<Status>(data_); }

  // Precondition: ok().
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace acervo

// Propagation helpers. They only return early; they never hide a failure.
#define ACERVO_RETURN_IF_ERROR(expr)           \
  do {                                         \
    ::acervo::Status acervo_status_ = (expr);  \
    if (!acervo_status_.ok()) return acervo_status_; \
  } while (0)

#define ACERVO_CONCAT_INNER_(a, b) a##b
#define ACERVO_CONCAT_(a, b) ACERVO_CONCAT_INNER_(a, b)
#define ACERVO_ASSIGN_OR_RETURN(lhs, expr) \
  ACERVO_ASSIGN_OR_RETURN_IMPL_(ACERVO_CONCAT_(acervo_result_, __LINE__), lhs, expr)
#define ACERVO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#endif  // ACERVO_CORE_STATUS_H_
