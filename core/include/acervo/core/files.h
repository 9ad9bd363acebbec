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
// Replaces an existing file. IOError names the path and the errno text.
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

// A unique temporary path next to `final_path` (".tmp-<name>-<random>").
std::filesystem::path TempPathFor(const std::filesystem::path& final_path);

// Reads a whole file. NotFound / IOError name the path.
Result<std::vector<uint8_t>> ReadFile(const std::filesystem::path& path);

// Removes leftover ".tmp-*" files directly inside `dir` (after a crash).
// Returns how many were removed.
Result<int> RemoveTempFiles(const std::filesystem::path& dir);

// Lowercase hex SHA-256 of a byte range / of a file's content.
std::string Sha256Hex(std::span<const uint8_t> data);
Result<std::string> Sha256OfFile(const std::filesystem::path& path);

}  // namespace acervo

#endif  // ACERVO_CORE_FILES_H_
