// Durable file writing: the building blocks of "nothing is lost".
//
// Every output is written to a temporary name in the target's directory,
// flushed to disk, then renamed over the final name, and the directory is
// synced; a reader therefore sees either no file or the complete file, never a
// partial one, even after a power cut. Temporary names start with ".tmp-" so
// recovery can recognise and delete them.
//
// Thread-safety: the functions are safe to call concurrently on different
// paths.
#ifndef ACERVO_CORE_FILES_H_
#define ACERVO_CORE_FILES_H_

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

inline constexpr std::string_view kTempPrefix = ".tmp-";

// Writes `data` to `path` atomically (temp file, fsync, rename, fsync dir).
// Replaces an existing file (or symbolic link); InvalidArgument, and nothing
// written, when `path` is a folder, device, FIFO or socket. The folder must exist: nothing creates
// folders the caller did not ask for (CreateDirectoriesBelow does, below a
// root). IOError names the path and the errno text.
Status WriteFileAtomic(const std::filesystem::path& path,
                       std::span<const uint8_t> data);
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data);

// Like WriteFileAtomic but never replaces: AlreadyExists when `path` exists.
// Used for masters, which are written once and never changed.
Status WriteFileOnce(const std::filesystem::path& path,
                     std::span<const uint8_t> data);

// Copies `from` to `to` write-once, returning the hex SHA-256 of the bytes
// copied. If `to` already exists with the same content the copy is skipped and
// OK is returned (so a re-run after a crash is idempotent); with different
// content it is AlreadyExists.
Result<std::string> CopyFileOnce(const std::filesystem::path& from,
                                 const std::filesystem::path& to);

// Renames a complete temporary file into place and syncs the directory.
Status CommitFile(const std::filesystem::path& temp,
                  const std::filesystem::path& final_path);

// A unique temporary path next to `final_path` (".tmp-<name>-<random>"),
// its name shortened when needed so that it fits in 255 bytes (a file name
// that fits is never refused for its temporary name).
std::filesystem::path TempPathFor(const std::filesystem::path& final_path);

// The longest file name (one path component) file systems allow, in bytes.
inline constexpr size_t kMaxFileNameBytes = 255;

// Whether ReadFile follows a symbolic link in the last path component.
enum class Links { kFollow, kRefuse };

// Reads a whole regular file. NotFound / IOError name the path;
// InvalidArgument for anything that is not a regular file (a directory, a
// FIFO, a device such as /dev/zero: never read, never waited on) and, with
// Links::kRefuse, for a symbolic link.
Result<std::vector<uint8_t>> ReadFile(const std::filesystem::path& path, Links links = Links::kFollow);

// Creates `root / relative` folder by folder below `root`, which must exist.
// Returns the full path. Fails (InvalidArgument) when a component exists and
// is not a folder — a symbolic link included: output folders never lead out
// through a link — and with IOError when a folder cannot be created.
Result<std::filesystem::path> CreateDirectoriesBelow(const std::filesystem::path& root,
                                                     const std::filesystem::path& relative);

// InvalidArgument naming both when folder `a` is folder `b`, or either is
// inside the other (compared as the kernel resolves them, links included;
// they need not exist yet). A program that reads one and writes the other
// would otherwise read its own outputs.
Status CheckSeparateFolders(const std::filesystem::path& a, std::string_view a_name,
                            const std::filesystem::path& b, std::string_view b_name);

// An exclusive advisory lock (flock) on a file, held until destroyed; the
// kernel drops it when the process dies. The file holds the holder's pid.
class FileLock {
 public:
  // kShared: many holders at once (the units of the shared work queue, on
  // any machine of an NFSv4 share), none while an exclusive holder has it;
  // a shared holder leaves the file's pid as it is.
  enum class Mode { kExclusive, kShared };
  // Unavailable when another process holds it (naming that pid, or saying
  // that queue workers hold it), IOError when the lock file cannot be
  // created (its folder must exist).
  static Result<FileLock> Acquire(const std::filesystem::path& path, Mode mode = Mode::kExclusive);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Removes leftover ".tmp-*" files directly inside `dir` (after a crash).
// Returns how many were removed.
Result<int> RemoveTempFiles(const std::filesystem::path& dir);

// Lowercase hex SHA-256 of a byte range / of a regular file's content (read
// in blocks: memory stays small for any file size; not a regular file is
// InvalidArgument, as for ReadFile).
std::string Sha256Hex(std::span<const uint8_t> data);
Result<std::string> Sha256OfFile(const std::filesystem::path& path, Links links = Links::kFollow);

}  // namespace acervo

#endif  // ACERVO_CORE_FILES_H_
