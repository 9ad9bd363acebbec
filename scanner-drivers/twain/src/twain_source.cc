#include "acervo/scanner/twain_source.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>

#include "twain_page_assembler.h"
#include "twain_session.h"
#include "twain_wire.h"

extern char** environ;

namespace acervo {
namespace {
namespace fs = std::filesystem;
using twain_wire::Frame;
using twain_wire::FrameIn;
using Clock = std::chrono::steady_clock;

constexpr double kCloseSeconds = 10;  // an orderly close may take this long

std::string HostPath(const TwainOptions& o) {
  if (!o.host_path.empty()) return o.host_path.string();
  // An installed acervo has the host beside it; a build tree has it where
  // CMake put it.
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) {
    fs::path beside = fs::path(std::string(buf, static_cast<size_t>(n))).parent_path() / "acervo-twain-host";
    std::error_code ec;
    if (fs::exists(beside, ec)) return beside.string();
  }
  return ACERVO_TWAIN_HOST_BUILD_PATH;
}

std::string SignalName(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    default: return "signal " + std::to_string(sig);
  }
}

// The host process, from the capturing side: starts it, sends commands,
// receives frames while watching it (heartbeats, hang limit, cancel), and
// turns its death into a Status.
class HostProcess {
 public:
  ~HostProcess() { Close(); }

  static Result<std::unique_ptr<HostProcess>> Start(const TwainOptions& o) {
    std::unique_ptr<HostProcess> h(new HostProcess());
    h->timeout_ = o.timeout_seconds > 0 ? o.timeout_seconds : 120;
    h->memory_mb_ = o.memory_limit_mb;
    const std::string exe = HostPath(o);
    // The child's ends, moved to descriptors >= 10 first so that placing
    // them at 1-5 can never overwrite one another (acervo may run with
    // some of 0-2 closed, as services do).
    int sv[2] = {-1, -1}, ep[2] = {-1, -1}, st[2] = {-1, -1};
    auto high = [](int fd) {
      int h = fd >= 0 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 10) : -1;
      if (fd >= 0) ::close(fd);
      return h;
    };
    const bool made = ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0 && ::pipe2(ep, O_CLOEXEC) == 0 &&
                      ::pipe2(st, O_CLOEXEC) == 0;
    h->sock_ = sv[0];
    h->err_ = ep[0];
    h->status_ = st[0];
    const int child_sock = high(sv[1]), child_out = high(ep[1]), child_status = high(st[1]);
    // The strip ring (twain_wire.h), sealed so the host can neither shrink
    // it under our mapping nor grow it; mapped read-only here. Without it
    // strips travel inline.
    const int ring = high(h->MapRing());
    auto close_child_ends = [&] {
      for (int fd : {child_sock, child_out, child_status, ring}) {
        if (fd >= 0) ::close(fd);
      }
    };
    if (!made || child_sock < 0 || child_out < 0 || child_status < 0) {
      close_child_ends();
      return Status::Unavailable(std::string("cannot start the TWAIN host: ") + std::strerror(errno));
    }
    // Room for a few strips in flight, so the host reads the next one from
    // the scanner while this side places the last.
    int buf = 4 << 20;
    ::setsockopt(h->sock_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    ::setsockopt(child_sock, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, child_out, 1);  // vendor chatter on stdout is kept apart from the wire
    posix_spawn_file_actions_adddup2(&fa, child_out, 2);
    posix_spawn_file_actions_adddup2(&fa, child_sock, 3);
    posix_spawn_file_actions_adddup2(&fa, child_status, 4);  // its fatal-signal report
    if (ring >= 0) posix_spawn_file_actions_adddup2(&fa, ring, 5);
    posix_spawn_file_actions_addclosefrom_np(&fa, 6);  // no lot lock or journal descriptor leaks to vendor code
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group: Ctrl-C reaches acervo, which cancels the host
    // in order; and a kill takes whatever helpers vendor code started.
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    const std::string mem = std::to_string(std::max(0L, o.memory_limit_mb));
    std::vector<std::string> args = {exe, "--fd", "3", "--status-fd", "4", "--memory-limit-mb", mem};
    if (ring >= 0) args.insert(args.end(), {"--ring-fd", "5", "--ring-bytes", std::to_string(h->ring_size_)});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, exe.c_str(), &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close_child_ends();
    if (rc != 0) {
      return Status::Unavailable("cannot start the TWAIN host " + exe + ": " + std::strerror(rc));
    }
    h->pid_ = pid;
    ::fcntl(h->err_, F_SETFL, ::fcntl(h->err_, F_GETFL) | O_NONBLOCK);
    h->reader_ = std::make_unique<twain_wire::FrameReader>(h->sock_);
    Result<FrameIn> hello = h->Receive(nullptr, "starting the TWAIN host");
    if (!hello.ok()) return hello.status();
    twain_wire::WireReader rd(hello->payload);
    if (hello->type != Frame::kHello || rd.U32() != twain_wire::kProtocolVersion) {
      return Status::Unavailable("the TWAIN host " + exe + " speaks another protocol version");
    }
    return h;
  }

  Status Send(Frame type, std::span<const uint8_t> payload) {
    if (!gone_.ok()) return gone_;
    // Commands are a few bytes and the host's reader thread takes them at
    // once, so a blocking write cannot wait on vendor code.
    if (!twain_wire::WriteFrame(sock_, type, payload).ok()) return Died("sending it a command");
    return Status::OK();
  }

  // The next frame other than a heartbeat. Heartbeats are checked here: a
  // TWAIN call running longer than the timeout, or a host silent that long,
  // is a hang and the host is killed. When `cancel` turns true, Cancel is
  // sent once; a host that does not answer within 10 s is killed.
  Result<FrameIn> Receive(const std::atomic<bool>* cancel, const std::string& doing) {
    if (!gone_.ok()) return gone_;
    const double silence_limit = std::min(timeout_, 15.0);
    // The host's own waits are bounded (5 minutes for MSG_XFERREADY); a host
    // that beats but never gets anywhere longer than that is stuck too.
    const double progress_limit = timeout_ + 330;
    const Clock::time_point started = Clock::now();
    Clock::time_point last = started;
    Clock::time_point cancel_deadline{};
    bool cancel_sent = false;
    for (;;) {
      Result<std::optional<FrameIn>> f = reader_->Poll();
      if (!f.ok()) return Kill("the TWAIN host sent a damaged frame during " + doing + " (" + f.status().message() + ")");
      if (f->has_value()) {
        last = Clock::now();
        if ((*f)->type != Frame::kHeartbeat) return std::move(**f);
        twain_wire::WireReader rd((*f)->payload);
        const uint64_t call_ms = rd.U64();
        const uint32_t what = rd.U32();
        peak_rss_kb_ = std::max<uint64_t>(peak_rss_kb_, rd.U64());
        if (call_ms > timeout_ * 1000) {
          return Kill("the TWAIN source hung: " + TwainCallName(what) + " did not return within " +
                      Seconds(timeout_) + " during " + doing);
        }
        continue;
      }
      if (reader_->eof()) return Died(doing);
      const Clock::time_point now = Clock::now();
      if (cancel != nullptr && cancel->load() && !cancel_sent) {
        cancel_sent = true;
        cancel_deadline = now + std::chrono::seconds(10);
        uint8_t nothing = 0;
        (void)twain_wire::WriteFrame(sock_, Frame::kCancel, std::span<const uint8_t>(&nothing, 0));
      }
      if (cancel_sent && now > cancel_deadline) {
        Status k = Kill("the TWAIN host did not stop within 10 s of the cancel");
        return Status::Cancelled(k.message());
      }
      if (std::chrono::duration<double>(now - last).count() > silence_limit) {
        return Kill("the TWAIN host stopped answering for " + Seconds(silence_limit) + " during " + doing);
      }
      if (std::chrono::duration<double>(now - started).count() > progress_limit) {
        return Kill("the TWAIN host made no progress for " + Seconds(progress_limit) + " during " + doing);
      }
      pollfd fds[2] = {{sock_, POLLIN, 0}, {err_, POLLIN, 0}};
      ::poll(fds, err_ >= 0 ? 2 : 1, 100);
      if (err_ >= 0 && fds[1].revents != 0) DrainOutput();
    }
  }

  // Hands `copy` the bytes of a strip or chunk the host put in the ring
  // (offset and size checked against the ring), then, and only then, gives
  // the slot back: the host may overwrite it once acknowledged, so copying
  // and releasing are one step here. Acknowledged every quarter ring (the
  // host waits for free slots) and at each page's end.
  Status FromRing(twain_wire::WireReader& rd, const std::function<Status(std::span<const uint8_t>)>& copy) {
    const uint64_t offset = rd.U64();
    const uint32_t bytes = rd.U32();
    const uint32_t slots = rd.U32();
    if (!rd.ok() || ring_ == nullptr || offset > ring_size_ || bytes > ring_size_ - offset) {
      return Status::DeviceError("the TWAIN host named bytes outside the shared ring");
    }
    Status s = copy(std::span<const uint8_t>(ring_ + offset, bytes));
    ++taken_;
    if (taken_ - acked_ >= std::max<uint64_t>(1, slots / 4)) Acknowledge();
    return s;
  }
  // Tells the host every slot taken so far is free again.
  void Acknowledge() {
    if (taken_ == acked_ || !gone_.ok()) return;
    twain_wire::WireWriter w;
    w.U64(taken_);
    (void)twain_wire::WriteFrame(sock_, Frame::kAck, w.data());
    acked_ = taken_;
  }

  // The host died: reaps it and says how, with its last output.
  Status Died(const std::string& doing) {
    if (!gone_.ok()) return gone_;
    int status = 0;
    // Its output may still be in the pipe.
    for (int i = 0; i < 20 && err_ >= 0; ++i) {
      pollfd p{err_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) break;
      if (!DrainOutput()) break;
    }
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
    pid_ = -1;
    ReadFatalReport();
    std::string how = WIFSIGNALED(status) ? "was killed by " + SignalName(WTERMSIG(status))
                                          : "exited with code " + std::to_string(WEXITSTATUS(status));
    gone_ = Status::DeviceError("the TWAIN host (vendor code) " + how + " during " + doing + Memory() + LastOutput());
    return gone_;
  }

  // Ends a host that hangs or misbehaves. `why` becomes the DeviceError.
  Status Kill(const std::string& why) {
    if (!gone_.ok()) return gone_;
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
      pid_ = -1;
    }
    DrainOutput();
    gone_ = Status::DeviceError(why + "; its process was stopped" + Memory() + LastOutput());
    return gone_;
  }

  // Orderly end: Close, then wait for the host to exit (killing it after
  // 10 s). A host that dies while closing is reported on stderr only: every
  // page was already delivered.
  void Close() {
    if (pid_ > 0) {
      uint8_t nothing = 0;
      (void)twain_wire::WriteFrame(sock_, Frame::kClose, std::span<const uint8_t>(&nothing, 0));
      const Clock::time_point deadline =
          Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(kCloseSeconds * 1000));
      int status = 0;
      pid_t r = 0;
      while ((r = ::waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
        pollfd fds[2] = {{sock_, POLLIN, 0}, {err_, POLLIN, 0}};
        ::poll(fds, 2, 50);
        if (fds[0].revents != 0) (void)reader_->Poll();  // drop late heartbeats
        if (fds[1].revents != 0) DrainOutput();
      }
      if (r == 0) {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
        std::fprintf(stderr, "acervo: the TWAIN host did not close within %.0f s and was stopped\n", kCloseSeconds);
      } else if (r > 0 && (WIFSIGNALED(status) || WEXITSTATUS(status) != 0)) {
        std::fprintf(stderr, "acervo: the TWAIN host ended badly while closing (%s)\n",
                     WIFSIGNALED(status) ? SignalName(WTERMSIG(status)).c_str()
                                         : ("exit code " + std::to_string(WEXITSTATUS(status))).c_str());
      }
      pid_ = -1;
    }
    DrainOutput();
    if (sock_ >= 0) ::close(sock_);
    if (err_ >= 0) ::close(err_);
    if (status_ >= 0) ::close(status_);
    sock_ = err_ = status_ = -1;
    if (ring_ != nullptr) ::munmap(const_cast<uint8_t*>(ring_), ring_size_);
    ring_ = nullptr;
  }

 private:
  HostProcess() = default;

  static std::string Seconds(double s) {
    char b[32];
    std::snprintf(b, sizeof(b), "%g s", s);
    return b;
  }
  std::string Memory() const {
    std::string m = "; peak memory " + std::to_string(peak_rss_kb_ / 1024) + " MB";
    if (memory_mb_ > 0) m += " of a " + std::to_string(memory_mb_) + " MB limit";
    return m;
  }
  // Creates the ring; returns its descriptor (for the child) or -1.
  int MapRing() {
    int fd = ::memfd_create("acervo-twain-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    if (::ftruncate(fd, static_cast<off_t>(twain_wire::kRingBytes)) != 0 ||
        ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
      ::close(fd);
      return -1;
    }
    void* p = ::mmap(nullptr, twain_wire::kRingBytes, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      return -1;
    }
    ring_ = static_cast<const uint8_t*>(p);
    ring_size_ = twain_wire::kRingBytes;
    return fd;
  }

  // The host's own report of a fatal signal: its peak memory at that moment
  // (the heartbeats may have missed a runaway that took a fraction of a second).
  void ReadFatalReport() {
    uint64_t record[2] = {0, 0};
    if (status_ >= 0 && ::read(status_, record, sizeof(record)) == sizeof(record)) {
      peak_rss_kb_ = std::max(peak_rss_kb_, record[1]);
    }
  }
  std::string LastOutput() const {
    std::string t = tail_;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    if (t.empty()) return "";
    const size_t nl = t.rfind('\n');
    return "; its last output: \"" + (nl == std::string::npos ? t : t.substr(nl + 1)) + "\"";
  }

  // Forwards the host's stdout/stderr (vendor messages) line by line to ours
  // and keeps the tail for error messages. False at end of stream.
  bool DrainOutput() {
    if (err_ < 0) return false;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(err_, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return n < 0;  // EAGAIN: more may come; 0: closed
      line_.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = line_.find('\n')) != std::string::npos) {
        std::string line = line_.substr(0, nl);
        line_.erase(0, nl + 1);
        std::fprintf(stderr, "twain-host: %s\n", line.c_str());
        tail_ += line + "\n";
      }
      if (line_.size() > 4096) {  // a very long line without newline
        tail_ += line_ + "\n";
        line_.clear();
      }
      if (tail_.size() > 4096) tail_.erase(0, tail_.size() - 4096);
    }
  }

  pid_t pid_ = -1;
  int sock_ = -1;
  int err_ = -1;
  int status_ = -1;
  std::unique_ptr<twain_wire::FrameReader> reader_;
  double timeout_ = 120;
  long memory_mb_ = 0;
  uint64_t peak_rss_kb_ = 0;
  std::string line_, tail_;
  Status gone_;  // not OK once the host is gone (why)
  const uint8_t* ring_ = nullptr;
  size_t ring_size_ = 0;
  uint64_t taken_ = 0, acked_ = 0;
};

class TwainHostSource final : public Source {
 public:
  TwainHostSource(std::unique_ptr<HostProcess> host, std::string product, bool duplex)
      : host_(std::move(host)), product_(std::move(product)), duplex_(duplex) {}

  Result<std::optional<CapturedPage>> Next(const std::atomic<bool>* cancel) override;
  Status SetOption(std::string_view name, std::string_view) override {
    return Status::InvalidArgument(Name() + " takes no raw option '" + std::string(name) +
                                   "'; use --source, --duplex, --resolution, --mode");
  }
  std::string Describe() const override { return "twain:" + product_; }

 private:
  std::string Name() const { return "TWAIN source '" + product_ + "'"; }
  // The host sent something that cannot be a page: it is stopped, since
  // it would go on sending the rest of that page.
  Status Abandon(const Status& why) { return host_->Kill(why.message()); }
  Result<std::optional<CapturedPage>> ReceivePage(const std::atomic<bool>* cancel);

  std::unique_ptr<HostProcess> host_;
  std::string product_;
  bool duplex_ = false;
  bool done_ = false;
  int pages_ = 0;
};

Result<std::optional<CapturedPage>> TwainHostSource::Next(const std::atomic<bool>* cancel) {
  if (done_) return std::optional<CapturedPage>();
  // A cancel before the transfer asks for no page (closing the source walks
  // the states down); one during it reaches the host, which drops the page.
  if (cancel != nullptr && cancel->load()) {
    done_ = true;
    return Status::Cancelled(Name() + ": scan cancelled");
  }
  uint8_t nothing = 0;
  Status sent = host_->Send(Frame::kNext, std::span<const uint8_t>(&nothing, 0));
  if (!sent.ok()) {
    done_ = true;
    return sent;
  }
  Result<std::optional<CapturedPage>> page = ReceivePage(cancel);
  // A device fault (jam) leaves the session able to go on once cleared; a
  // dead host answers every later call with how it died.
  if (!page.ok() && page.status().code() != StatusCode::kDeviceError) done_ = true;
  return page;
}

Result<std::optional<CapturedPage>> TwainHostSource::ReceivePage(const std::atomic<bool>* cancel) {
  const std::string doing = "the transfer of page " + std::to_string(pages_ + 1);
  TwainPageAssembler page(Name());
  for (;;) {
    ACERVO_ASSIGN_OR_RETURN(FrameIn f, host_->Receive(cancel, doing));
    Status s;
    switch (f.type) {
      case Frame::kPageBegin: {
        twain_wire::WireReader rd(f.payload);
        TwainPageInfo info;
        s = twain_wire::GetPageInfo(rd, &info)
                ? page.Begin(info)
                : Status::DeviceError(Name() + ": malformed page description from the TWAIN host");
        break;
      }
      case Frame::kStrip: {
        twain_wire::WireReader rd(f.payload);
        TwainStrip st = twain_wire::GetStrip(rd);
        std::span<const uint8_t> bytes = rd.Rest();
        s = rd.ok() ? page.AddStrip(st, bytes) : Status::DeviceError(Name() + ": malformed strip from the TWAIN host");
        break;
      }
      case Frame::kStripInRing: {
        twain_wire::WireReader rd(f.payload);
        s = host_->FromRing(rd, [&](std::span<const uint8_t> bytes) {
          TwainStrip st = twain_wire::GetStrip(rd);
          return rd.ok() ? page.AddStrip(st, bytes) : Status::DeviceError(Name() + ": malformed strip from the TWAIN host");
        });
        break;
      }
      case Frame::kNativeInRing: {
        twain_wire::WireReader rd(f.payload);
        s = host_->FromRing(rd, [&](std::span<const uint8_t> bytes) { return page.AddNative(bytes); });
        break;
      }
      case Frame::kNativeChunk: s = page.AddNative(f.payload); break;
      case Frame::kPageEnd: {
        host_->Acknowledge();  // before the next page may re-cut the ring
        Result<CapturedPage> done = page.Finish();
        if (!done.ok()) return done.status();  // the host finished the page: it is still usable
        twain_wire::WireReader rd(f.payload);
        if (rd.I32() == 0) done_ = true;
        ++pages_;
        done->sequence = pages_;
        done->side = duplex_ && pages_ % 2 == 0 ? Side::kBack : Side::kFront;
        return std::optional<CapturedPage>(std::move(*done));
      }
      case Frame::kEndOfFeed: done_ = true; return std::optional<CapturedPage>();
      case Frame::kError:
        host_->Acknowledge();
        return twain_wire::DecodeError(f.payload);
      default: s = Status::DeviceError(Name() + ": unexpected frame from the TWAIN host"); break;
    }
    if (!s.ok()) return Abandon(s);
  }
}

}  // namespace

Result<std::vector<ScannerInfo>> ListTwainSources(const TwainOptions& options) {
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<HostProcess> host, HostProcess::Start(options));
  const std::string dsm = options.dsm_path.string();
  ACERVO_RETURN_IF_ERROR(host->Send(Frame::kList, std::span<const uint8_t>(
                                                      reinterpret_cast<const uint8_t*>(dsm.data()), dsm.size())));
  ACERVO_ASSIGN_OR_RETURN(FrameIn f, host->Receive(nullptr, "listing the TWAIN sources"));
  if (f.type == Frame::kError) return twain_wire::DecodeError(f.payload);
  twain_wire::WireReader rd(f.payload);
  std::vector<ScannerInfo> out;
  const uint32_t n = f.type == Frame::kSources ? rd.U32() : 0;
  for (uint32_t i = 0; i < n && rd.ok(); ++i) {
    std::string name = rd.Str(), manufacturer = rd.Str(), family = rd.Str();
    out.push_back({name, manufacturer, family, "TWAIN data source"});
  }
  if (f.type != Frame::kSources || !rd.ok()) return host->Kill("the TWAIN host sent a malformed source list");
  return out;
}

Result<std::unique_ptr<Source>> OpenTwainSource(const ScanSettings& settings, const TwainOptions& options) {
  if (!settings.options.empty()) {
    return Status::InvalidArgument("TWAIN sources take no raw option '" + settings.options.front().first +
                                   "'; use --source, --duplex, --resolution, --mode");
  }
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<HostProcess> host, HostProcess::Start(options));
  twain_wire::OpenRequest r;
  r.dsm_path = options.dsm_path.string();
  r.device = settings.device;
  r.source = settings.source;
  r.mode = settings.mode;
  r.resolution = settings.resolution;
  r.duplex = settings.duplex;
  r.transfer = options.transfer;
  ACERVO_RETURN_IF_ERROR(host->Send(Frame::kOpen, twain_wire::EncodeOpen(r)));
  ACERVO_ASSIGN_OR_RETURN(FrameIn f, host->Receive(nullptr, "opening the TWAIN source"));
  if (f.type == Frame::kError) return twain_wire::DecodeError(f.payload);
  twain_wire::WireReader rd(f.payload);
  std::string product = rd.Str();
  const bool duplex = rd.U32() != 0;
  if (f.type != Frame::kOpened || !rd.ok()) return host->Kill("the TWAIN host sent a malformed answer to Open");
  return std::unique_ptr<Source>(new TwainHostSource(std::move(host), std::move(product), duplex));
}

}  // namespace acervo
