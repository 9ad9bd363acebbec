#include "acervo/scanner/lot_capture.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// Appends one line to the journal and fsyncs it before returning, so a line
// that is there after a crash was complete when the next page was asked for.
Status AppendJournal(const fs::path& lot_dir, const json& entry) {
  fs::path path = lot_dir / kScanJournalName;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open scan journal " + path.string() + ": " + std::strerror(errno));
  std::string line = entry.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  ssize_t n = ::write(fd, line.data(), line.size());
  int err = errno;
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size()) || !synced) {
    return Status::IOError("cannot write scan journal " + path.string() + ": " + std::strerror(err));
  }
  return Status::OK();
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Sequence number of a master file name ("0012.tif" -> 12), 0 if not one.
int SequenceOf(const std::string& name) {
  if (name.size() < 8 || name.substr(name.size() - 4) != ".tif") return 0;
  std::string digits = name.substr(0, name.size() - 4);
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
  }
  return digits.size() > 9 ? 0 : std::stoi(digits);
}

}  // namespace

Result<ScanJournal> ReadScanJournal(const fs::path& lot_dir) {
  ScanJournal j;
  fs::path path = lot_dir / kScanJournalName;
  if (!fs::exists(path)) return j;
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(path));
  std::string text(bytes.begin(), bytes.end());
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  size_t consumed = 0;
  while (std::getline(in, line)) {
    ++line_no;
    consumed += line.size() + 1;
    bool last = consumed >= text.size();
    bool torn = last && (text.empty() || text.back() != '\n');
    json e = json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.is_object()) {
      if (torn) break;  // the append a crash interrupted: never acknowledged
      return Status::Corrupt(path.string() + " line " + std::to_string(line_no) + ": not a JSON object");
    }
    if (torn) break;
    std::string event = e.value("event", "");
    if (event == "page") {
      JournalPage p;
      p.sequence = e.value("seq", 0);
      p.file = e.value("file", "");
      p.sha256 = e.value("sha256", "");
      p.side = e.value("side", "front");
      p.dpi_x = e.value("dpi_x", 0.0);
      p.dpi_y = e.value("dpi_y", 0.0);
      p.width = e.value("width", 0);
      p.height = e.value("height", 0);
      p.bits = e.value("bits", 0);
      if (p.sequence <= 0 || p.file.empty()) {
        return Status::Corrupt(path.string() + " line " + std::to_string(line_no) + ": page entry without seq/file");
      }
      j.pages.push_back(std::move(p));
    } else if (event == "pause") {
      ++j.pauses;
      j.last_pause = e.value("message", "");
    }
  }
  std::sort(j.pages.begin(), j.pages.end(),
            [](const JournalPage& a, const JournalPage& b) { return a.sequence < b.sequence; });
  return j;
}

Status CaptureLot(Source& source, const CaptureOptions& options, CaptureReport* report) {
  CaptureReport local;
  CaptureReport& r = report != nullptr ? *report : local;
  r = CaptureReport{};
  const fs::path& dir = options.lot_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) {
    return Status::IOError("cannot create lot folder " + dir.string() + (ec ? ": " + ec.message() : ""));
  }
  // One writer per lot: a second `acervo scan` on the same folder would
  // number pages twice. The kernel drops the lock if we crash.
  const fs::path lock_path = dir / ".scan-lock";
  int lock_fd = ::open(lock_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return Status::IOError("cannot create " + lock_path.string() + ": " + std::strerror(errno));
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return Status::Unavailable("another scan is writing lot " + dir.string() + " (" + lock_path.string() +
                               " is locked)");
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock_fd};
  ACERVO_ASSIGN_OR_RETURN(ScanJournal journal, ReadScanJournal(dir));
  std::set<int> journaled;
  for (const JournalPage& p : journal.pages) journaled.insert(p.sequence);

  // Masters committed after the last journal line (a crash between the link
  // and the append) are complete by construction: adopt them.
  std::vector<std::pair<int, std::string>> unjournaled;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    int seq = SequenceOf(name);
    if (seq > 0 && !journaled.count(seq)) unjournaled.emplace_back(seq, name);
  }
  const bool has_pages = !journal.pages.empty() || !unjournaled.empty();
  if (has_pages && !options.resume) {
    // The report says what the lot holds, as the message does.
    r.total_pages = static_cast<int>(journal.pages.size() + unjournaled.size());
    return Status::InvalidArgument(
        "lot " + dir.string() + " already has " + std::to_string(journal.pages.size() + unjournaled.size()) +
        " scanned pages; use --resume to continue it");
  }
  ACERVO_ASSIGN_OR_RETURN(r.temp_removed, RemoveTempFiles(dir));
  std::sort(unjournaled.begin(), unjournaled.end());
  for (const auto& [seq, name] : unjournaled) {
    ACERVO_ASSIGN_OR_RETURN(std::string sha, Sha256OfFile(dir / name));
    JournalPage p;
    p.sequence = seq;
    p.file = name;
    p.sha256 = sha;
    ACERVO_RETURN_IF_ERROR(AppendJournal(
        dir, json{{"event", "page"}, {"seq", seq}, {"file", name}, {"sha256", sha}, {"adopted", true},
                  {"time", NowSeconds()}}));
    journal.pages.push_back(p);
    ++r.adopted;
  }
  int next = 1;
  for (const JournalPage& p : journal.pages) next = std::max(next, p.sequence + 1);
  r.first_sequence = next;
  r.total_pages = static_cast<int>(journal.pages.size());

  ACERVO_RETURN_IF_ERROR(AppendJournal(dir, json{{"event", "start"},
                                                 {"driver", options.driver},
                                                 {"device", options.device},
                                                 {"resume", options.resume},
                                                 {"next_seq", next},
                                                 {"time", NowSeconds()}}));
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };

  for (;;) {
    if (options.cancel != nullptr && options.cancel->load()) {
      r.seconds = elapsed();
      return Status::Cancelled("scan interrupted before page " + std::to_string(next) + "; " +
                               std::to_string(r.total_pages) + " complete pages in the lot");
    }
    Result<std::optional<CapturedPage>> got = source.Next(options.cancel);
    if (!got.ok()) {
      r.seconds = elapsed();
      Status s = got.status();
      if (s.code() == StatusCode::kDeviceError) {
        r.pause = s.message();
        std::string msg = "scanner paused at page " + std::to_string(next) + ": " + s.message() + "; " +
                          std::to_string(r.total_pages) +
                          " complete pages kept; clear the device, reload the remaining sheets and "
                          "resume with --resume";
        ACERVO_RETURN_IF_ERROR(AppendJournal(
            dir, json{{"event", "pause"}, {"next_seq", next}, {"message", s.message()}, {"time", NowSeconds()}}));
        return Status::DeviceError(msg);
      }
      if (s.code() == StatusCode::kCancelled) {
        return Status::Cancelled("scan interrupted during page " + std::to_string(next) +
                                 " (partial page discarded); " + std::to_string(r.total_pages) +
                                 " complete pages in the lot");
      }
      return s.WithContext("page " + std::to_string(next));
    }
    if (!got->has_value()) break;  // feeder empty
    CapturedPage page = std::move(**got);
    page.sequence = next;
    ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> tiff, EncodeMasterTiff(page));
    std::string name = MasterFileName(next);
    ACERVO_RETURN_IF_ERROR(WriteFileOnce(dir / name, tiff));
    JournalPage jp;
    jp.sequence = next;
    jp.file = name;
    jp.sha256 = Sha256Hex(tiff);
    jp.side = std::string(SideName(page.side));
    jp.dpi_x = page.dpi_x;
    jp.dpi_y = page.dpi_y;
    jp.width = page.image.cols;
    jp.height = page.image.rows;
    jp.bits = page.bits_per_sample;
    ACERVO_RETURN_IF_ERROR(AppendJournal(dir, json{{"event", "page"},
                                                   {"seq", jp.sequence},
                                                   {"file", jp.file},
                                                   {"sha256", jp.sha256},
                                                   {"side", jp.side},
                                                   {"dpi_x", jp.dpi_x},
                                                   {"dpi_y", jp.dpi_y},
                                                   {"width", jp.width},
                                                   {"height", jp.height},
                                                   {"bits", jp.bits},
                                                   {"time", NowSeconds()}}));
    ++r.pages;
    ++r.total_pages;
    ++next;
    r.seconds = elapsed();
    if (options.on_page) ACERVO_RETURN_IF_ERROR(options.on_page(jp));
  }
  r.seconds = elapsed();
  return AppendJournal(dir, json{{"event", "end"}, {"pages", r.pages}, {"total_pages", r.total_pages},
                                 {"time", NowSeconds()}});
}

}  // namespace acervo
