// acervo-twain-host: the process in which TWAIN vendor code runs.
//
// `acervo scan --driver twain` and `acervo devices --driver twain` start it
// (never a shell) with one end of a socket pair as fd 3 and speak the
// protocol of twain_wire.h: it loads the Data Source Manager, which loads the
// vendor's data source and whatever libraries that brings (Qt, FreeImage, a
// libtiff of its own...), and streams pages and events back. Whatever that
// code does — crash, abort, hang, allocate without bound, install hooks in
// shared libraries — stays in this process: the capturing process writes
// the masters and only reads frames it checks.
//
//   acervo-twain-host [--fd N] [--status-fd N] [--ring-fd N --ring-bytes B]
//                     [--memory-limit-mb MB]
//
// Limits set here before any vendor code loads: RLIMIT_DATA (heap and
// private mappings; 0 = none) so a runaway allocation fails here instead of
// pushing the machine into the OOM killer; RLIMIT_CORE 0, because a core
// dump of this process would hold page images (personal data) in a file
// nobody asked for. PR_SET_PDEATHSIG ends it if the capturing process dies.
//
// Three threads: the main thread drives TWAIN (TwainSession), a reader
// thread takes commands (so Cancel arrives during a transfer), and a
// heartbeat thread reports four times a second which TWAIN call is running
// and for how long, so the capturing process can tell a slow scanner from a
// hung one. The heartbeat neither allocates nor takes locks vendor code
// could hold (only the frame-writing mutex). Memory is reported as VmHWM
// (this process's own peak; getrusage would include the capturing process,
// whose address space the child shares until exec). On a fatal signal a
// handler writes {signal, VmHWM} to the status descriptor, so a runaway that
// grows faster than the heartbeat still leaves its peak behind.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "twain_session.h"
#include "twain_wire.h"

namespace acervo {
namespace {
using twain_wire::Frame;

int g_status_fd = -1;

// VmHWM of this process in KiB, from /proc/self/status; async-signal-safe
// (open, read, close and plain parsing only).
uint64_t PeakKiB() {
  char buf[4096];
  int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = std::strstr(buf, "VmHWM:");
  if (p == nullptr) return 0;
  p += 6;
  while (*p == ' ' || *p == '\t') ++p;
  uint64_t v = 0;
  while (*p >= '0' && *p <= '9') v = v * 10 + uint64_t(*p++ - '0');
  return v;
}

extern "C" void OnFatalSignal(int sig) {
  if (g_status_fd >= 0) {
    uint64_t record[2] = {uint64_t(sig), PeakKiB()};
    ssize_t w = ::write(g_status_fd, record, sizeof(record));
    (void)w;
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void InstallFatalSignalReport(int status_fd) {
  g_status_fd = status_fd;
  static char alt_stack[64 * 1024];  // a vendor stack overflow still reports
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof(alt_stack);
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_handler = OnFatalSignal;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::sigaction(sig, &sa, nullptr);
}
using twain_wire::FrameIn;
using twain_wire::WireWriter;

// The memory shared with the capturing process (twain_wire.h): slots lent
// to the source as strip buffers, reused only once acknowledged.
class Ring {
 public:
  void Map(int fd, size_t size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return;
    base_ = static_cast<uint8_t*>(p);
    size_ = size;
  }
  // A slot of `slot` bytes, once the strip that used it last was taken out.
  // Null without a ring or when two such slots do not fit.
  uint8_t* Acquire(size_t slot) {
    if (base_ == nullptr || slot == 0 || slot * 2 > size_) return nullptr;
    std::unique_lock<std::mutex> lock(mu_);
    if (slot != slot_) {  // re-cut the ring only when every slot is free
      cv_.wait(lock, [&] { return acked_ >= sent_; });
      slot_ = slot;
      slots_ = size_ / slot;
    }
    cv_.wait(lock, [&] { return sent_ - acked_ < slots_; });
    current_ = (sent_ % slots_) * slot_;
    return base_ + current_;
  }
  // Whether Acquire(slot) would wait for the capturing process.
  bool WouldWait(size_t slot) {
    std::lock_guard<std::mutex> lock(mu_);
    return base_ != nullptr && ((slot != slot_ && acked_ < sent_) || sent_ - acked_ >= slots_);
  }
  bool Holds(const uint8_t* p) const { return base_ != nullptr && p >= base_ && p < base_ + size_; }
  // The slot Acquire returned was sent: {offset, slots}.
  std::pair<uint64_t, uint32_t> Sent() {
    std::lock_guard<std::mutex> lock(mu_);
    ++sent_;
    return {current_, static_cast<uint32_t>(slots_)};
  }
  void Ack(uint64_t taken) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      acked_ = std::max(acked_, std::min(taken, sent_));
    }
    cv_.notify_all();
  }

 private:
  uint8_t* base_ = nullptr;
  size_t size_ = 0, slot_ = 0, slots_ = 0, current_ = 0;
  uint64_t sent_ = 0, acked_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
};

class Host {
 public:
  explicit Host(int fd) : fd_(fd) {}
  Ring& ring() { return ring_; }

  int Run() {
    std::thread([this] { ReadCommands(); }).detach();
    std::thread([this] { Heartbeat(); }).detach();
    WireWriter hello;
    hello.U32(twain_wire::kProtocolVersion);
    hello.U32(static_cast<uint32_t>(::getpid()));
    Send(Frame::kHello, hello.data());
    for (;;) {
      FrameIn cmd = Pop();
      switch (cmd.type) {
        case Frame::kList: List(std::string(cmd.payload.begin(), cmd.payload.end())); break;
        case Frame::kOpen: Open(cmd.payload); break;
        case Frame::kNext: Next(); break;
        case Frame::kClose:
          // Walk the states down to 1 (closing the source and the DSM runs
          // vendor code too: the heartbeat keeps watching), then leave
          // without running static destructors of vendor libraries.
          session_.reset();
          std::fflush(nullptr);
          ::_exit(0);
        default: SendError(Status::Internal("TWAIN host: unexpected command " + std::to_string(int(cmd.type))));
      }
    }
  }

 private:
  // Frames go out whole: the main and heartbeat threads share the socket.
  // Strip notices (a few dozen bytes each) are batched, so the capturing
  // process wakes a few times a page rather than once a strip; any other
  // frame of the main thread first sends the batch, keeping the order.
  void Send(Frame type, std::span<const uint8_t> head, std::span<const uint8_t> body = {}) {
    std::lock_guard<std::mutex> lock(write_mu_);
    FlushLocked();
    if (!twain_wire::WriteFrame(fd_, type, head, body).ok()) ::_exit(3);  // the capturing process is gone
  }
  void Batch(Frame type, std::span<const uint8_t> payload) {
    std::lock_guard<std::mutex> lock(write_mu_);
    const uint32_t header[2] = {static_cast<uint32_t>(type), static_cast<uint32_t>(payload.size())};
    const auto* h = reinterpret_cast<const uint8_t*>(header);
    batch_.insert(batch_.end(), h, h + sizeof(header));
    batch_.insert(batch_.end(), payload.begin(), payload.end());
    if (++batched_ >= 32) FlushLocked();
  }
  void Flush() {
    std::lock_guard<std::mutex> lock(write_mu_);
    FlushLocked();
  }
  void FlushLocked() {
    if (batch_.empty()) return;
    // The batch is whole frames: written as one frame's worth of raw bytes.
    size_t at = 0;
    while (at < batch_.size()) {
      ssize_t w = ::send(fd_, batch_.data() + at, batch_.size() - at, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) ::_exit(3);
      at += static_cast<size_t>(w);
    }
    batch_.clear();
    batched_ = 0;
  }
  // Heartbeats jump the batch: they carry no order.
  void SendHeartbeat(std::span<const uint8_t> payload) {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (!twain_wire::WriteFrame(fd_, Frame::kHeartbeat, payload).ok()) ::_exit(3);
  }
  void SendError(const Status& s) { Send(Frame::kError, twain_wire::EncodeError(s)); }

  void ReadCommands() {
    for (;;) {
      Result<std::optional<FrameIn>> f = twain_wire::ReadFrameBlocking(fd_);
      if (!f.ok() || !f->has_value()) ::_exit(3);  // the capturing process closed the wire or died
      if ((*f)->type == Frame::kCancel) {
        cancel_.store(true);
        continue;
      }
      if ((*f)->type == Frame::kAck) {
        twain_wire::WireReader rd((*f)->payload);
        ring_.Ack(rd.U64());
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(queue_mu_);
        queue_.push_back(std::move(**f));
      }
      queue_cv_.notify_one();
    }
  }

  FrameIn Pop() {
    std::unique_lock<std::mutex> lock(queue_mu_);
    queue_cv_.wait(lock, [this] { return !queue_.empty(); });
    FrameIn f = std::move(queue_.front());
    queue_.pop_front();
    return f;
  }

  void Heartbeat() {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      const int64_t since = watch_.since_ms.load();
      const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
      // Fixed layout on the stack: u64 ms in the current call, u32 call, u64 peak RSS in KiB.
      uint8_t payload[20];
      const uint64_t call_ms = since > 0 && now > since ? uint64_t(now - since) : 0;
      const uint32_t what = watch_.what.load();
      const uint64_t rss = PeakKiB();
      std::memcpy(payload, &call_ms, 8);
      std::memcpy(payload + 8, &what, 4);
      std::memcpy(payload + 12, &rss, 8);
      SendHeartbeat(std::span<const uint8_t>(payload, sizeof(payload)));
    }
  }

  Status EnsureSession(const std::string& dsm_path) {
    if (session_ != nullptr) return Status::OK();
    ACERVO_ASSIGN_OR_RETURN(session_, TwainSession::Load(dsm_path, &watch_));
    return Status::OK();
  }

  void List(const std::string& dsm_path) {
    Status s = EnsureSession(dsm_path);
    if (!s.ok()) return SendError(s);
    Result<std::vector<TwainSourceId>> ids = session_->List();
    if (!ids.ok()) return SendError(ids.status());
    WireWriter w;
    w.U32(static_cast<uint32_t>(ids->size()));
    for (const TwainSourceId& id : *ids) {
      w.Str(id.name);
      w.Str(id.manufacturer);
      w.Str(id.family);
    }
    Send(Frame::kSources, w.data());
  }

  void Open(const std::vector<uint8_t>& payload) {
    Result<twain_wire::OpenRequest> r = twain_wire::DecodeOpen(payload);
    if (!r.ok()) return SendError(r.status());
    Status s = EnsureSession(r->dsm_path);
    if (s.ok()) s = session_->Open(*r);
    if (!s.ok()) return SendError(s);
    WireWriter w;
    w.Str(session_->product_name());
    w.U32(session_->duplex() ? 1 : 0);
    Send(Frame::kOpened, w.data());
  }

  // Pages leave as the source hands them over: the page's description, then
  // each strip (or chunk of the native image) in its own frame.
  class WireSink final : public TwainPageSink {
   public:
    explicit WireSink(Host* host) : host_(host) {}
    Status Begin(const TwainPageInfo& i) override {
      WireWriter w;
      twain_wire::PutPageInfo(w, i);
      host_->Send(Frame::kPageBegin, w.data());
      return Status::OK();
    }
    uint8_t* StripBuffer(size_t size) override {
      // The capturing process can free slots only for strips it was told of.
      if (host_->ring().WouldWait(size)) host_->Flush();
      return host_->ring().Acquire(size);
    }
    Status Strip(const TwainStrip& s, std::span<const uint8_t> bytes) override {
      WireWriter w;
      if (!host_->ring().Holds(bytes.data())) {
        twain_wire::PutStrip(w, s);
        host_->Send(Frame::kStrip, w.data(), bytes);
        return Status::OK();
      }
      auto [offset, slots] = host_->ring().Sent();
      w.U64(offset);
      w.U32(static_cast<uint32_t>(bytes.size()));
      w.U32(slots);
      twain_wire::PutStrip(w, s);
      host_->Batch(Frame::kStripInRing, w.data());
      return Status::OK();
    }
    Status NativeBytes(std::span<const uint8_t> bytes) override {
      for (size_t at = 0; at < bytes.size(); at += twain_wire::kNativeChunkBytes) {
        std::span<const uint8_t> chunk = bytes.subspan(at, std::min(twain_wire::kNativeChunkBytes, bytes.size() - at));
        uint8_t* slot = StripBuffer(twain_wire::kNativeChunkBytes);
        if (slot == nullptr) {
          host_->Send(Frame::kNativeChunk, chunk);
          continue;
        }
        std::memcpy(slot, chunk.data(), chunk.size());
        auto [offset, slots] = host_->ring().Sent();
        WireWriter w;
        w.U64(offset);
        w.U32(static_cast<uint32_t>(chunk.size()));
        w.U32(slots);
        host_->Batch(Frame::kNativeInRing, w.data());
      }
      return Status::OK();
    }

   private:
    Host* host_;
  };

  void Next() {
    if (session_ == nullptr) return SendError(Status::Internal("TWAIN host: Next before Open"));
    WireSink sink(this);
    Result<bool> page = session_->NextPage(sink, &cancel_);
    if (!page.ok()) return SendError(page.status());
    if (!*page) return Send(Frame::kEndOfFeed, {});
    WireWriter w;
    w.I32(session_->pending());
    Send(Frame::kPageEnd, w.data());
  }

  int fd_;
  std::mutex write_mu_;
  std::vector<uint8_t> batch_;
  int batched_ = 0;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<FrameIn> queue_;
  std::atomic<bool> cancel_{false};
  Ring ring_;
  TwainCallWatch watch_;
  std::unique_ptr<TwainSession> session_;
};

}  // namespace
}  // namespace acervo

int main(int argc, char** argv) {
  int fd = 3, status_fd = -1, ring_fd = -1;
  long memory_mb = 0;
  size_t ring_bytes = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--fd") == 0) fd = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--status-fd") == 0) status_fd = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--memory-limit-mb") == 0) memory_mb = std::atol(argv[i + 1]);
    else if (std::strcmp(argv[i], "--ring-fd") == 0) ring_fd = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--ring-bytes") == 0) ring_bytes = std::strtoull(argv[i + 1], nullptr, 10);
  }
  acervo::InstallFatalSignalReport(status_fd);
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) return 3;  // the capturing process is already gone
  ::signal(SIGPIPE, SIG_IGN);
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
  if (memory_mb > 0) {
    rlimit data{rlim_t(memory_mb) << 20, rlim_t(memory_mb) << 20};
    ::setrlimit(RLIMIT_DATA, &data);
  }
  acervo::Host host(fd);
  if (ring_fd >= 0 && ring_bytes > 0) host.ring().Map(ring_fd, ring_bytes);
  return host.Run();
}
