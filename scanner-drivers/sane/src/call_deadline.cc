#include "src/call_deadline.h"

#include <unistd.h>

namespace acervo {

CallDeadline::CallDeadline(std::chrono::milliseconds limit, int exit_code) : limit_(limit), exit_code_(exit_code) {
  if (limit_.count() > 0) thread_ = std::thread([this] { Watch(); });
}

CallDeadline::~CallDeadline() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

CallDeadline::Scope CallDeadline::Arm(std::string message) {
  if (limit_.count() <= 0) return Scope(nullptr);
  message += '\n';
  {
    std::lock_guard<std::mutex> lock(mu_);
    message_.swap(message);  // the old message is freed here, by the caller
    deadline_ = std::chrono::steady_clock::now() + limit_;
    armed_ = true;
  }
  cv_.notify_one();
  return Scope(this);
}

void CallDeadline::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = false;
}

void CallDeadline::Watch() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stop_) return;
    if (!armed_) {
      cv_.wait(lock);
      continue;
    }
    if (cv_.wait_until(lock, deadline_) != std::cv_status::timeout) continue;
    if (armed_ && !stop_ && std::chrono::steady_clock::now() >= deadline_) {
      // write(2) and _exit(2) only: the allocator may be the thing stuck.
      const char* p = message_.data();
      size_t left = message_.size();
      while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) break;
        p += n;
        left -= static_cast<size_t>(n);
      }
      ::_exit(exit_code_);
    }
  }
}

}  // namespace acervo
