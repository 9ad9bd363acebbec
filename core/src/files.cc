#include "acervo/core/files.h"

#include <fcntl.h>
#include <signal.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <random>

namespace acervo {
namespace fs = std::filesystem;

namespace {

Status ErrnoStatus(std::string_view what, const fs::path& path, int err) {
  return Status::IOError(std::string(what) + " " + path.string() + ": " +
                         std::strerror(err));
}

// Owns a file descriptor; closes it on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, const uint8_t* data, size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path, errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::OK();
}

// Some network and FUSE file systems cannot sync a directory (EINVAL,
// ENOTSUP, ENOSYS); there the server made the rename itself durable when it
// answered (NFS and SMB name operations are synchronous on the server), so
// that is not a failure.
bool DirSyncUnsupported(int err) { return err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP || err == ENOSYS; }

Status SyncDir(const fs::path& dir) {
  Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY));
  if (fd.get() < 0) return ErrnoStatus("cannot open directory", dir, errno);
  if (::fsync(fd.get()) != 0 && !DirSyncUnsupported(errno)) return ErrnoStatus("cannot sync directory", dir, errno);
  return Status::OK();
}

// File systems without hard links (a share backed by FAT or exFAT; some
// SMB servers) refuse link() with one of these.
bool LinksUnsupported(int err) { return err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == ENOSYS; }

// Writes data to a fresh temp file beside `path`; returns the temp path.
Result<fs::path> WriteTemp(const fs::path& path, std::span<const uint8_t> data) {
  std::error_code ec;
  fs::path temp = TempPathFor(path);
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ENOENT) return ErrnoStatus("cannot create (no such folder)", temp, err);
    return ErrnoStatus("cannot create", temp, err);
  }
  Status s = WriteAll(fd.get(), data.data(), data.size(), temp);
  if (s.ok() && ::fsync(fd.get()) != 0) s = ErrnoStatus("cannot sync", temp, errno);
  int raw = fd.Release();
  if (::close(raw) != 0 && s.ok()) s = ErrnoStatus("cannot close", temp, errno);
  if (!s.ok()) {
    fs::remove(temp, ec);
    return s;
  }
  return temp;
}

}  // namespace

fs::path TempPathFor(const fs::path& final_path) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  char suffix[17];
  std::snprintf(suffix, sizeof(suffix), "%016llx",
                static_cast<unsigned long long>(rng()));
  // Temp files are recognised by their prefix alone, so a long name is cut
  // (bytes: a cut UTF-8 sequence in a temp name is harmless).
  std::string name = final_path.filename().string();
  const size_t room = kMaxFileNameBytes - kTempPrefix.size() - 1 - 16;
  if (name.size() > room) name.resize(room);
  return final_path.parent_path() / (std::string(kTempPrefix) + name + "-" + suffix);
}

Status CommitFile(const fs::path& temp, const fs::path& final_path) {
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    std::error_code ec;
    fs::remove(temp, ec);
    return ErrnoStatus("cannot rename into", final_path, err);
  }
  return SyncDir(final_path.parent_path());
}

Status WriteFileAtomic(const fs::path& path, std::span<const uint8_t> data) {
  // The rename would replace whatever has the name: a device (`--out
  // /dev/null` once turned /dev/null into a plain file on a test machine), a
  // FIFO another program reads, a socket. Only a file (or a link, which the
  // rename replaces, never following it) is replaced.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
    return Status::InvalidArgument(path.string() + " is not a regular file (" +
                                   (S_ISDIR(st.st_mode) ? "a folder" : "a device, FIFO or socket") +
                                   "); not replaced");
  }
  ACERVO_ASSIGN_OR_RETURN(fs::path temp, WriteTemp(path, data));
  return CommitFile(temp, path);
}

Status WriteFileAtomic(const fs::path& path, std::string_view data) {
  return WriteFileAtomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

Status WriteFileOnce(const fs::path& path, std::span<const uint8_t> data) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return Status::AlreadyExists("write-once file exists: " + path.string());
  ACERVO_ASSIGN_OR_RETURN(fs::path temp, WriteTemp(path, data));
  // link() fails if the name exists, unlike rename(): that makes the write
  // once even against a concurrent writer.
  if (::link(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::error_code ec;
    if (LinksUnsupported(err) && !fs::exists(path, ec)) {
      // No hard links here: a rename is atomic too, but would replace a file
      // a concurrent writer put there since the check (for masters, the
      // same bytes: CopyFileOnce compares them).
      return CommitFile(temp, path);
    }
    fs::remove(temp, ec);
    if (err == EEXIST || LinksUnsupported(err)) return Status::AlreadyExists("write-once file exists: " + path.string());
    return ErrnoStatus("cannot link into", path, err);
  }
  std::error_code ec;
  fs::remove(temp, ec);
  return SyncDir(path.parent_path());
}

namespace {

// Opens a regular file for reading without ever blocking on a FIFO or
// reading a device: O_NONBLOCK makes open() return at once on a FIFO, and
// fstat() then refuses anything that is not a regular file.
Result<int> OpenRegular(const fs::path& path, Links links, struct stat* st) {
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  if (links == Links::kRefuse) flags |= O_NOFOLLOW;
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("no such file: " + path.string());
    if (err == ELOOP && links == Links::kRefuse) {
      return Status::InvalidArgument(path.string() + " is a symbolic link (links are not followed)");
    }
    return ErrnoStatus("cannot open", path, err);
  }
  if (::fstat(fd, st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("cannot stat", path, err);
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    const char* what = S_ISDIR(st->st_mode)    ? "a directory"
                       : S_ISFIFO(st->st_mode) ? "a FIFO"
                       : S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device"
                       : S_ISSOCK(st->st_mode) ? "a socket"
                                               : "not a regular file";
    return Status::InvalidArgument(path.string() + " is " + what + ", not a regular file");
  }
  // Back to blocking reads (they never block on a regular file anyway).
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

// Calls `sink` with each block of the file, in order.
template <typename Sink>
Status ReadBlocks(int fd, const fs::path& path, Sink sink) {
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", path, errno);
    }
    if (n == 0) return Status::OK();
    sink(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Result<std::vector<uint8_t>> ReadFile(const fs::path& path, Links links) {
  struct stat st {};
  ACERVO_ASSIGN_OR_RETURN(int raw, OpenRegular(path, links, &st));
  Fd fd(raw);
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(st.st_size));
  ACERVO_RETURN_IF_ERROR(
      ReadBlocks(fd.get(), path, [&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); }));
  return out;
}

Result<fs::path> CreateDirectoriesBelow(const fs::path& root, const fs::path& relative) {
  fs::path at = root;
  for (const fs::path& part : relative.lexically_normal()) {
    const std::string name = part.string();
    if (name.empty() || name == ".") continue;
    if (name == ".." || part.is_absolute()) {
      return Status::InvalidArgument("folder " + relative.string() + " leaves " + root.string());
    }
    at /= part;
    struct stat st {};
    if (::lstat(at.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return Status::InvalidArgument(at.string() + (S_ISLNK(st.st_mode) ? " is a symbolic link" : " is not a folder") +
                                     "; output folders are never followed through links");
    }
    if (::mkdir(at.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus("cannot create folder", at, errno);
    if (::lstat(at.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::InvalidArgument(at.string() + " is not a folder");
    }
  }
  return at;
}

Status CheckSeparateFolders(const fs::path& a, std::string_view a_name, const fs::path& b,
                            std::string_view b_name) {
  std::error_code ec;
  const fs::path ca = fs::weakly_canonical(fs::absolute(a), ec);
  const fs::path cb = fs::weakly_canonical(fs::absolute(b), ec);
  auto within = [](const fs::path& inner, const fs::path& outer) {
    auto i = inner.begin(), o = outer.begin();
    for (; o != outer.end(); ++o, ++i) {
      if (o->empty()) continue;  // a trailing separator
      if (i == inner.end() || *i != *o) return false;
    }
    return true;
  };
  if (within(ca, cb) || within(cb, ca)) {
    const bool same = within(ca, cb) && within(cb, ca);
    return Status::InvalidArgument(std::string(a_name) + " " + a.string() + (same ? " is the " : " and the ") +
                                   std::string(b_name) + " " + b.string() +
                                   (same ? "" : " overlap (one is inside the other)") +
                                   ": give folders apart, or the outputs would be read as input");
  }
  return Status::OK();
}

Result<FileLock> FileLock::Acquire(const fs::path& path, Mode mode) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (fd.get() < 0) return ErrnoStatus("cannot create lock file", path, errno);
  const bool shared = mode == Mode::kShared;
  if (::flock(fd.get(), (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) return ErrnoStatus("cannot lock", path, err);
    char pid[32] = {0};
    ssize_t n = ::pread(fd.get(), pid, sizeof(pid) - 1, 0);
    std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : std::string();
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    // A shared holder does not write its pid: when the pid in the file is
    // not a live process here, the holders are queue workers (or another
    // machine's run).
    // (The file is anybody's to write: only a plain pid is believed.)
    const bool alive = !holder.empty() && holder.size() <= 9 &&
                       holder.find_first_not_of("0123456789") == std::string::npos &&
                       ::kill(static_cast<pid_t>(std::stoi(holder)), 0) == 0;
    std::string who;
    if (shared) {
      // Only an exclusive holder keeps a shared one out.
      who = alive ? "`acervo run` or `batch` (pid " + holder + ")" : "`acervo run` or `batch` on another machine";
    } else {
      who = alive ? "another acervo process (pid " + holder + ")"
                  : "another acervo process (workers of the shared queue, or a run on another machine)";
    }
    return Status::Unavailable(path.parent_path().string() + " is in use by " + who + "; " +
                               path.filename().string() + " is locked");
  }
  if (!shared) {
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) == 0) {
      (void)!::pwrite(fd.get(), pid.data(), pid.size(), 0);
    }
  }
  return FileLock(fd.Release());
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
}

Result<std::string> CopyFileOnce(const fs::path& from, const fs::path& to) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> data, ReadFile(from, Links::kRefuse));
  std::string hash = Sha256Hex(data);
  struct stat st {};
  if (::lstat(to.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return Status::AlreadyExists(to.string() + " exists and is not a regular file (a link is never written through)");
    }
    ACERVO_ASSIGN_OR_RETURN(std::string existing, Sha256OfFile(to, Links::kRefuse));
    if (existing == hash) return hash;
    return Status::AlreadyExists("master " + to.string() + " exists with different content than " +
                                 from.string());
  }
  Status s = WriteFileOnce(to, data);
  if (s.code() == StatusCode::kAlreadyExists) {
    // Lost a race with another writer of the same master: fine if identical.
    ACERVO_ASSIGN_OR_RETURN(std::string existing, Sha256OfFile(to));
    if (existing == hash) return hash;
  }
  ACERVO_RETURN_IF_ERROR(s);
  return hash;
}

Result<int> RemoveTempFiles(const fs::path& dir) {
  std::error_code ec;
  int removed = 0;
  if (!fs::is_directory(dir, ec)) return 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code rm_ec;
    if (name.rfind(kTempPrefix, 0) == 0 && fs::remove(it->path(), rm_ec)) ++removed;
  }
  if (ec) return Status::IOError("cannot list " + dir.string() + ": " + ec.message());
  return removed;
}

std::string Sha256Hex(std::span<const uint8_t> data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

Result<std::string> Sha256OfFile(const fs::path& path, Links links) {
  struct stat st {};
  ACERVO_ASSIGN_OR_RETURN(int raw, OpenRegular(path, links, &st));
  Fd fd(raw);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return Status::Internal("SHA-256 unavailable");
  ACERVO_RETURN_IF_ERROR(
      ReadBlocks(fd.get(), path, [&](const uint8_t* p, size_t n) { EVP_DigestUpdate(md.get(), p, n); }));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

}  // namespace acervo
