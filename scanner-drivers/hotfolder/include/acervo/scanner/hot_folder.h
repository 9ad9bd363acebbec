// Hot folder: the scan-to-folder source. Network scanners and copy jobs drop
// page files or whole lot folders into a directory; HotFolder says which of
// them are complete and not yet processed, and remembers what was processed.
//
// An item (a page file, or a sub-folder holding a lot) is complete when
//  - nothing in it changed for `settle_seconds` (size and mtime stable),
//  - no local process has one of its files open for writing (checked through
//    /proc; writers on other machines are covered by the settle time), and
//  - for a lot folder, the ready marker file exists when one is asked for.
// Hidden names (".x") and temporary names are ignored. An item is identified
// by its name and a fingerprint (sizes, mtimes, file count): once recorded in
// the state file (JSON lines, fsynced) it is never offered again, also after
// a restart, unless its content changes. HotFolder never moves, renames or
// deletes anything in the watched folder.
//
// Change notification uses inotify where it works and falls back to polling
// (network shares deliver no inotify events); correctness never depends on
// events, only latency does.
//
// Thread-safety: one thread per HotFolder. Ownership: owns its inotify fd.
#ifndef ACERVO_SCANNER_HOT_FOLDER_H_
#define ACERVO_SCANNER_HOT_FOLDER_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "acervo/core/files.h"
#include "acervo/core/status.h"

namespace acervo {

struct HotFolderOptions {
  std::filesystem::path dir;         // the watched folder
  std::filesystem::path state_file;  // processed items (JSON lines)
  double settle_seconds = 5;         // unchanged this long = complete
  bool use_inotify = true;           // false: polling only
  // The marker a lot folder needs before it is taken ("" = none). Called
  // with the folder's path, so the lot's own profile can ask for one.
  std::function<std::string(const std::filesystem::path&)> marker_for;
};

struct HotItem {
  std::filesystem::path path;
  std::string name;         // relative to the watched folder
  bool is_dir = false;
  std::string fingerprint;  // changes whenever the content may have changed
  // Non-empty: an entry Acervo does not take (a symbolic link, which is
  // never followed, a FIFO, a device), with why; the caller records it as
  // failed once instead of skipping it silently.
  std::string refused;
};

struct HotScan {
  std::vector<HotItem> ready;    // complete, never processed
  std::vector<std::pair<HotItem, std::string>> waiting;  // not complete: why
};

class HotFolder {
 public:
  // NotFound when `dir` does not exist; IOError when the state file cannot
  // be read; Corrupt names a damaged state line.
  static Result<std::unique_ptr<HotFolder>> Open(const HotFolderOptions& options);
  ~HotFolder();

  // Looks at the folder now.
  Result<HotScan> Scan();

  // Records an item as processed ("ok", or "failed: reason"). Durable when
  // it returns OK; the item is not offered again.
  Status MarkDone(const HotItem& item, std::string_view outcome);

  // Sleeps until the folder changes (inotify) or `seconds` pass, returning
  // early when `cancel` becomes true.
  void Wait(double seconds, const std::atomic<bool>* cancel);

  bool using_inotify() const { return inotify_fd_ >= 0; }

 private:
  explicit HotFolder(HotFolderOptions options) : options_(std::move(options)) {}
  void WatchSubdirs();

  HotFolderOptions options_;
  std::map<std::string, std::string> done_;  // name -> fingerprint processed
  int inotify_fd_ = -1;
  std::map<std::string, int> watched_;       // dir -> watch descriptor
  std::unique_ptr<FileLock> lock_;           // <state file>.lock: one watcher per state
};

}  // namespace acervo

#endif  // ACERVO_SCANNER_HOT_FOLDER_H_
