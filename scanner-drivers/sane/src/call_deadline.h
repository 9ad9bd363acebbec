// CallDeadline: ends the process when one libsane call runs past a limit.
//
// Why end the process rather than return an error: a libsane call cannot be
// abandoned. Its state is process-wide, and a stuck call usually means the
// process itself is wedged: sanei_thread (used by the `test` backend and by
// many hardware backends) runs each reader with *asynchronous* cancellation,
// so sane_cancel can stop it in the middle of malloc or free with the
// allocator's arena lock held. Every later allocation in that arena then
// waits for ever (seen here once: the test backend's reader stuck in free at
// thread exit, the scan thread in sane_read waiting to join it). An
// unattended scan must not hang silently, so after `limit` the watchdog
// writes the armed message to stderr and calls _exit(exit_code). Pages
// already captured are durable (lot_capture.h writes and journals each page
// before asking for the next), and `acervo scan --resume` continues.
//
// The watchdog thread neither allocates nor takes a lock another thread can
// hold while it fires: the message is formatted by Arm(), in the caller.
//
// Thread-safety: Arm() from one thread at a time (the scan's thread).
#ifndef ACERVO_SCANNER_SANE_CALL_DEADLINE_H_
#define ACERVO_SCANNER_SANE_CALL_DEADLINE_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace acervo {

class CallDeadline {
 public:
  // limit <= 0: no watchdog; Arm() does nothing.
  CallDeadline(std::chrono::milliseconds limit, int exit_code);
  ~CallDeadline();
  CallDeadline(const CallDeadline&) = delete;
  CallDeadline& operator=(const CallDeadline&) = delete;

  // While a Scope lives, the call it guards must return within the limit.
  class Scope {
   public:
    explicit Scope(CallDeadline* d) : d_(d) {}
    ~Scope() {
      if (d_ != nullptr) d_->Disarm();
    }
    Scope(Scope&& o) noexcept : d_(o.d_) { o.d_ = nullptr; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;

   private:
    CallDeadline* d_;
  };

  // `message` (one line, without "\n") is what stderr gets if the limit passes.
  [[nodiscard]] Scope Arm(std::string message);

  std::chrono::milliseconds limit() const { return limit_; }

 private:
  void Disarm();
  void Watch();

  const std::chrono::milliseconds limit_;
  const int exit_code_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool stop_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::string message_;
  std::thread thread_;
};

}  // namespace acervo

#endif  // ACERVO_SCANNER_SANE_CALL_DEADLINE_H_
