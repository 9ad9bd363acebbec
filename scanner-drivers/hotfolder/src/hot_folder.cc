#include "acervo/scanner/hot_folder.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

bool Ignored(const std::string& name) { return name.empty() || name[0] == '.' || name[0] == '~'; }

struct FileId {
  dev_t dev;
  ino_t ino;
  bool operator<(const FileId& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
};

// Every file some local process holds open for writing, from /proc/*/fd and
// the access mode in /proc/*/fdinfo. Processes we may not inspect are
// skipped (their files are still covered by the settle time).
std::set<FileId> FilesOpenForWriting() {
  std::set<FileId> out;
  std::error_code ec;
  // Processes come and go while we look: every step takes an error code
  // (a vanished process is skipped, never an exception).
  for (fs::directory_iterator pit("/proc", ec), pend; !ec && pit != pend; pit.increment(ec)) {
    const fs::directory_entry& proc = *pit;
    const std::string pid = proc.path().filename().string();
    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
    std::error_code ec2;
    for (fs::directory_iterator fit(proc.path() / "fd", ec2), fend; !ec2 && fit != fend; fit.increment(ec2)) {
      const fs::directory_entry& fd = *fit;
      struct stat st {};
      if (::stat(fd.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      std::ifstream info(proc.path() / "fdinfo" / fd.path().filename());
      std::string key;
      while (info >> key) {
        if (key == "flags:") {
          std::string octal;
          info >> octal;
          long flags = std::strtol(octal.c_str(), nullptr, 8);
          if ((flags & O_ACCMODE) != O_RDONLY) out.insert({st.st_dev, st.st_ino});
          break;
        }
      }
    }
  }
  return out;
}

struct Observed {
  std::string fingerprint;
  double newest_age = 0;  // seconds since the most recent mtime in the item
  std::vector<FileId> files;
  int count = 0;
};

Observed Observe(const fs::path& path, bool is_dir) {
  Observed o;
  int64_t total = 0;
  int64_t newest_ns = 0;
  auto add = [&](const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return;
    if (S_ISREG(st.st_mode)) {
      total += st.st_size;
      o.files.push_back({st.st_dev, st.st_ino});
      ++o.count;
    }
    int64_t ns = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    newest_ns = std::max(newest_ns, ns);
  };
  add(path);
  if (is_dir) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      add(it->path());
    }
  }
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t now_ns = int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  o.newest_age = double(now_ns - newest_ns) / 1e9;
  o.fingerprint = std::to_string(o.count) + ":" + std::to_string(total) + ":" + std::to_string(newest_ns);
  return o;
}

}  // namespace

Result<std::unique_ptr<HotFolder>> HotFolder::Open(const HotFolderOptions& options) {
  if (!fs::is_directory(options.dir)) return Status::NotFound("hot folder does not exist: " + options.dir.string());
  std::unique_ptr<HotFolder> h(new HotFolder(options));
  // The state file's folder is the caller's (never created here), and one
  // watcher at a time uses a state file.
  const fs::path state_dir = options.state_file.has_parent_path() ? options.state_file.parent_path() : fs::path(".");
  std::error_code dir_ec;
  if (!fs::is_directory(state_dir, dir_ec)) {
    return Status::NotFound("folder of the watch state file does not exist: " + state_dir.string());
  }
  ACERVO_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(options.state_file.string() + ".lock"));
  h->lock_ = std::make_unique<FileLock>(std::move(lock));
  if (fs::exists(options.state_file)) {
    ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(options.state_file));
    std::string text(bytes.begin(), bytes.end());
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      json e = json::parse(line, nullptr, false);
      if (e.is_discarded() || !e.contains("name") || !e.contains("fingerprint")) {
        bool last = in.peek() == EOF && (text.empty() || text.back() != '\n');
        if (last) break;  // a torn append: that item was not acknowledged
        return Status::Corrupt(options.state_file.string() + " line " + std::to_string(n) + ": damaged entry");
      }
      h->done_[e["name"].get<std::string>()] = e["fingerprint"].get<std::string>();
    }
  }
  if (options.use_inotify) {
    h->inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (h->inotify_fd_ >= 0) h->WatchSubdirs();
  }
  return h;
}

HotFolder::~HotFolder() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void HotFolder::WatchSubdirs() {
  const uint32_t mask = IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY | IN_DELETE | IN_ATTRIB;
  auto watch = [&](const fs::path& d) {
    if (watched_.count(d.string())) return;
    int wd = ::inotify_add_watch(inotify_fd_, d.c_str(), mask);
    if (wd >= 0) watched_[d.string()] = wd;
  };
  watch(options_.dir);
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code st_ec;
    if (fs::is_directory(it->symlink_status(st_ec)) && !Ignored(it->path().filename().string())) watch(it->path());
  }
  if (watched_.empty()) {  // e.g. a share that refuses watches: poll
    ::close(inotify_fd_);
    inotify_fd_ = -1;
  }
}

Result<HotScan> HotFolder::Scan() {
  HotScan scan;
  std::error_code ec;
  std::vector<fs::directory_entry> entries;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(*it);
  if (ec) return Status::IOError("cannot list hot folder " + options_.dir.string() + ": " + ec.message());
  std::sort(entries.begin(), entries.end(),
            [](const fs::directory_entry& a, const fs::directory_entry& b) { return a.path() < b.path(); });
  std::set<FileId> writing;
  bool writers_known = false;
  for (const fs::directory_entry& e : entries) {
    const std::string name = e.path().filename().string();
    if (Ignored(name)) continue;
    if (fs::path(options_.state_file).parent_path() == options_.dir && name == options_.state_file.filename()) continue;
    HotItem item;
    item.path = e.path();
    item.name = name;
    // Links are never followed (docs/formats.md), and what is neither a file
    // nor a folder is never read: both are refused once, by name.
    std::error_code st_ec;
    const fs::file_status st = e.symlink_status(st_ec);
    item.is_dir = fs::is_directory(st);
    if (fs::is_symlink(st) || (!item.is_dir && !fs::is_regular_file(st))) {
      item.refused = fs::is_symlink(st) ? "is a symbolic link; links are not followed"
                                        : "is not a regular file or a folder";
      struct stat lst {};
      item.fingerprint = ::lstat(item.path.c_str(), &lst) == 0
                             ? "refused:" + std::to_string(lst.st_ino) + ":" + std::to_string(lst.st_mtim.tv_sec)
                             : "refused";
      auto done = done_.find(name);
      if (done == done_.end() || done->second != item.fingerprint) scan.ready.push_back(std::move(item));
      continue;
    }
    Observed o = Observe(item.path, item.is_dir);
    item.fingerprint = o.fingerprint;
    auto done = done_.find(name);
    if (done != done_.end() && done->second == item.fingerprint) continue;  // processed already
    if (o.newest_age < options_.settle_seconds) {
      scan.waiting.emplace_back(item, "changed " + std::to_string(o.newest_age).substr(0, 4) + " s ago");
      continue;
    }
    if (item.is_dir && o.count == 0) {
      scan.waiting.emplace_back(item, "empty folder");
      continue;
    }
    if (!writers_known) {
      writing = FilesOpenForWriting();
      writers_known = true;
    }
    bool open = false;
    for (const FileId& f : o.files) open |= writing.count(f) > 0;
    if (open) {
      scan.waiting.emplace_back(item, "still open for writing");
      continue;
    }
    if (item.is_dir && options_.marker_for) {
      std::string marker = options_.marker_for(item.path);
      if (!marker.empty() && !fs::exists(item.path / marker)) {
        scan.waiting.emplace_back(item, "no ready marker '" + marker + "' yet");
        continue;
      }
    }
    scan.ready.push_back(std::move(item));
  }
  if (inotify_fd_ >= 0) WatchSubdirs();  // new lot folders
  return scan;
}

Status HotFolder::MarkDone(const HotItem& item, std::string_view outcome) {
  json e = {{"name", item.name},
            {"fingerprint", item.fingerprint},
            {"outcome", std::string(outcome)},
            {"time", std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()}};
  std::string line = e.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  int fd = ::open(options_.state_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open watch state " + options_.state_file.string() + ": " + std::strerror(errno));
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return Status::IOError("cannot write watch state " + options_.state_file.string() + ": " + std::strerror(err));
  done_[item.name] = item.fingerprint;
  return Status::OK();
}

void HotFolder::Wait(double seconds, const std::atomic<bool>* cancel) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (cancel != nullptr && cancel->load()) return;
    // Short slices so a signal is noticed promptly either way.
    if (inotify_fd_ >= 0) {
      pollfd p{inotify_fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        char buf[4096];
        while (::read(inotify_fd_, buf, sizeof(buf)) > 0) {
        }
        return;
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

}  // namespace acervo
