#include "acervo/core/files.h"

#include <fcntl.h>
#include <openssl/evp.h>
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
  fs::create_directories(path.parent_path().empty() ? fs::path(".") : path.parent_path(), ec);
  if (ec) return Status::IOError("cannot create directory " + path.parent_path().string() + ": " + ec.message());
  fs::path temp = TempPathFor(path);
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoStatus("cannot create", temp, errno);
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
  return final_path.parent_path() /
         (std::string(kTempPrefix) + final_path.filename().string() + "-" + suffix);
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
  ACERVO_ASSIGN_OR_RETURN(fs::path temp, WriteTemp(path, data));
  return CommitFile(temp, path);
}

Status WriteFileAtomic(const fs::path& path, std::string_view data) {
  return WriteFileAtomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

Status WriteFileOnce(const fs::path& path, std::span<const uint8_t> data) {
  if (fs::exists(path)) return Status::AlreadyExists("write-once file exists: " + path.string());
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

Result<std::vector<uint8_t>> ReadFile(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::NotFound("no such file: " + path.string());
    return ErrnoStatus("cannot open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("cannot stat", path, errno);
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument("is a directory: " + path.string());
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(st.st_size));
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", path, errno);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Result<std::string> CopyFileOnce(const fs::path& from, const fs::path& to) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> data, ReadFile(from));
  std::string hash = Sha256Hex(data);
  if (fs::exists(to)) {
    ACERVO_ASSIGN_OR_RETURN(std::string existing, Sha256OfFile(to));
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
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(kTempPrefix, 0) == 0) {
      if (fs::remove(e.path(), ec)) ++removed;
    }
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

Result<std::string> Sha256OfFile(const fs::path& path) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> data, ReadFile(path));
  return Sha256Hex(data);
}

}  // namespace acervo
