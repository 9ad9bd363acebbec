#include "acervo/pipeline/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// File names and OCR text may hold bytes that are not UTF-8; the journal
// must never throw on them (nlohmann does by default), so they are replaced.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string IoError(const fs::path& p, const char* what) {
  return p.string() + ": " + what + ": " + std::strerror(errno);
}

json IdJson(const JournalPageId& id) {
  json j = {{"doc", id.document_id}, {"n", id.number}, {"file", id.source}, {"pif", id.page_in_file},
            {"sha", id.master_sha256}};
  // Whole pages keep the record shape of journals written before splitting.
  if (id.part != PageOrigin::Part::kWhole) j["part"] = PartName(id.part);
  return j;
}

PageOrigin::Part PartFrom(const std::string& name) {
  return name == "left" ? PageOrigin::Part::kLeft : name == "right" ? PageOrigin::Part::kRight
                                                                    : PageOrigin::Part::kWhole;
}

JournalPageKey KeyOf(const JournalPageId& id) { return {id.document_id, id.number, id.part}; }

JournalPageId IdFrom(const json& j) {
  JournalPageId id;
  id.document_id = j.value("doc", "");
  id.number = j.value("n", 0);
  id.source = j.value("file", "");
  id.page_in_file = j.value("pif", 1);
  id.master_sha256 = j.value("sha", "");
  id.part = PartFrom(j.value("part", "whole"));
  return id;
}

constexpr std::string_view kCheckpointMagic = "ACERVO-PAGE-1\n";

}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  // O_APPEND: every write lands at the end of the file, whoever else has
  // it open (a second process never splices a record into another).
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Status::IOError(IoError(path, "cannot open journal"));
  std::unique_ptr<Journal> j(new Journal(path, fd));
  Result<std::vector<uint8_t>> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  // Only lines ended by '\n' were completely written; a crash mid-append
  // leaves a torn tail, which is cut so the next record starts a line.
  size_t good = 0;
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) break;
    j->Apply(std::string(text.substr(start, nl - start)));
    start = good = nl + 1;
  }
  if (good != text.size()) {
    if (::ftruncate(fd, static_cast<off_t>(good)) != 0 || ::fdatasync(fd) != 0) {
      return Status::IOError(IoError(path, "cannot repair torn journal tail"));
    }
  }
  if (::lseek(fd, 0, SEEK_END) < 0) return Status::IOError(IoError(path, "seek"));
  return j;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::Apply(const std::string& line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;  // not ours or damaged: ignore, never guess
  ++seq_;
  std::string type = j.value("t", "");
  if (type == "stage") {
    JournalPageId id = IdFrom(j);
    last_stage_[KeyOf(id)] = j.value("stage", "") + "@" + std::to_string(j.value("v", 0));
  } else if (type == "page") {
    JournalPageSummary s;
    s.id = IdFrom(j);
    s.signature = j.value("sig", "");
    s.checkpoint = j.value("ckpt", "");
    s.thumbnail = j.value("thumb", "");
    s.flags = j.value("flags", std::vector<std::string>{});
    s.mean_confidence = j.value("conf", 0.0);
    s.skew_deg = j.value("skew", 0.0);
    s.orientation_deg = j.value("orient", 0);
    s.blank = j.value("blank", false);
    JournalPageKey key = KeyOf(s.id);
    last_done_[{s.id.source, s.id.page_in_file}] = seq_;
    last_done_[{s.id.source, 0}] = seq_;
    if (!done_.count(key)) order_.push_back(key);
    done_[key] = std::move(s);
    ++done_counts_[key];
  } else if (type == "quarantine") {
    JournalQuarantine q{j.value("file", ""), j.value("page", 0), j.value("reason", "")};
    auto same = std::find_if(quarantine_.begin(), quarantine_.end(), [&](const auto& o) {
      return o.second.file == q.file && o.second.page == q.page && o.second.reason == q.reason;
    });
    if (same != quarantine_.end()) same->first = seq_;
    else quarantine_.emplace_back(seq_, std::move(q));
  } else if (type == "lot_done") {
    lot_done_.push_back(j.value("key", ""));
  }
}

Status Journal::AppendLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string data = line + "\n";
  // One write() of the whole line, appended (O_APPEND): a crash can only
  // tear the last line, which Open() cuts.
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IOError(IoError(path_, "cannot append to journal"));
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return Status::IOError(IoError(path_, "cannot sync journal"));
  Apply(line);
  return Status::OK();
}

Status Journal::RecordStage(const JournalPageId& id, std::string_view stage, int version) {
  json j = IdJson(id);
  j["t"] = "stage";
  j["stage"] = std::string(stage);
  j["v"] = version;
  return AppendLine(Dump(j));
}

Status Journal::RecordPageDone(const JournalPageSummary& s) {
  json j = IdJson(s.id);
  j["t"] = "page";
  j["sig"] = s.signature;
  j["ckpt"] = s.checkpoint;
  j["thumb"] = s.thumbnail;
  j["flags"] = s.flags;
  j["conf"] = s.mean_confidence;
  j["skew"] = s.skew_deg;
  j["orient"] = s.orientation_deg;
  j["blank"] = s.blank;
  return AppendLine(Dump(j));
}

Status Journal::RecordDocumentDone(const std::string& document_id, const std::string& pdf_path,
                                   const std::string& pdf_sha256) {
  return AppendLine(Dump({{"t", "document"}, {"doc", document_id}, {"pdf", pdf_path}, {"sha", pdf_sha256}}));
}

Status Journal::RecordQuarantine(const JournalQuarantine& q) {
  return AppendLine(Dump({{"t", "quarantine"}, {"file", q.file}, {"page", q.page}, {"reason", q.reason}}));
}

Status Journal::RecordLotDone(const std::string& key) {
  return AppendLine(Dump({{"t", "lot_done"}, {"key", key}}));
}

std::optional<JournalPageSummary> Journal::FindPageDone(const JournalPageId& id,
                                                        const std::string& signature) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = done_.find(KeyOf(id));
  if (it == done_.end()) return std::nullopt;
  const JournalPageSummary& s = it->second;
  if (s.signature != signature || s.id.master_sha256 != id.master_sha256 ||
      s.id.page_in_file != id.page_in_file) {
    return std::nullopt;
  }
  return s;
}

std::vector<JournalPageSummary> Journal::FinishedPages() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JournalPageSummary> out;
  out.reserve(order_.size());
  for (const auto& key : order_) out.push_back(done_.at(key));
  return out;
}

std::vector<JournalQuarantine> Journal::Quarantined() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JournalQuarantine> out;
  for (const auto& [seq, q] : quarantine_) {
    // A page (or, for a whole file, any page of it) that finished after it
    // was refused is no longer quarantined: the input was fixed and rerun.
    auto later = last_done_.find({q.file, q.page});
    if (later != last_done_.end() && later->second > seq) continue;
    out.push_back(q);
  }
  return out;
}

std::vector<std::string> Journal::Interrupted() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, stage] : last_stage_) {
    if (done_.count(key)) continue;
    const auto& [doc, number, part] = key;
    out.push_back(doc + " #" + std::to_string(number) +
                  (part == PageOrigin::Part::kWhole ? "" : std::string(" ") + PartName(part)) + ": " + stage);
  }
  return out;
}

bool Journal::LotDone(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::find(lot_done_.begin(), lot_done_.end(), key) != lot_done_.end();
}

std::map<JournalPageKey, int> Journal::PageDoneCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_counts_;
}

// Checkpoint layout: magic, 8-digit decimal length of the JSON header, the
// JSON header, then the encoded image bytes. The header carries the byte
// count and SHA-256 of the image so a damaged file is refused, not used.
std::vector<uint8_t> EncodePageCheckpoint(const Page& p) {
  json words = json::array();
  for (const Word& w : p.words) {
    words.push_back({w.text, w.box.x, w.box.y, w.box.width, w.box.height, w.confidence, w.line, w.baseline,
                     w.block, w.paragraph});
  }
  json history = json::array();
  for (const StageRecord& r : p.history) history.push_back({r.name, r.version, r.ms, r.cpu_ms});
  json h = {{"origin", {p.origin.source_path, p.origin.page_in_file, p.origin.master_path,
                        p.origin.master_sha256, p.origin.sequence}},
            {"part", {PartName(p.origin.part), p.origin.master_x, p.origin.master_width}},
            {"dpi", {p.dpi_x, p.dpi_y, p.dpi_from_file}},
            {"orientation", {p.orientation_deg, p.orientation_confidence}},
            {"skew", p.skew_deg},
            {"blank", {p.blank, p.blank_score}},
            {"color", static_cast<int>(p.color_class)},
            {"words", words},
            {"text", p.text},
            {"confidence", p.mean_confidence},
            {"encoded", {static_cast<int>(p.encoded.codec), p.encoded.width, p.encoded.height,
                         p.encoded.components, p.encoded.bits_per_component, p.encoded.bytes.size(),
                         Sha256Hex(p.encoded.bytes)}},
            {"history", history},
            {"flags", p.flags}};
  std::string header = Dump(h);
  char len[16];
  std::snprintf(len, sizeof(len), "%08zu", header.size());
  std::vector<uint8_t> out(kCheckpointMagic.size() + 8 + header.size() + p.encoded.bytes.size());
  uint8_t* at = out.data();
  std::memcpy(at, kCheckpointMagic.data(), kCheckpointMagic.size());
  at += kCheckpointMagic.size();
  std::memcpy(at, len, 8);
  at += 8;
  std::memcpy(at, header.data(), header.size());
  at += header.size();
  if (!p.encoded.bytes.empty()) std::memcpy(at, p.encoded.bytes.data(), p.encoded.bytes.size());
  return out;
}

Result<Page> DecodePageCheckpoint(std::span<const uint8_t> bytes, std::string_view name) {
  auto bad = [&](const std::string& why) { return Status::Corrupt(std::string(name) + ": checkpoint " + why); };
  std::string_view all(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (all.substr(0, kCheckpointMagic.size()) != kCheckpointMagic) return bad("has no magic");
  all.remove_prefix(kCheckpointMagic.size());
  if (all.size() < 8) return bad("is truncated");
  size_t len = 0;
  for (char c : all.substr(0, 8)) {
    if (c < '0' || c > '9') return bad("has a bad length");
    len = len * 10 + static_cast<size_t>(c - '0');
  }
  all.remove_prefix(8);
  if (all.size() < len) return bad("is truncated");
  json h = json::parse(all.substr(0, len), nullptr, false);
  all.remove_prefix(len);
  if (!h.is_object()) return bad("header is not JSON");
  try {
    Page p;
    const json& o = h.at("origin");
    p.origin.source_path = o.at(0).get<std::string>();
    p.origin.page_in_file = o.at(1).get<int>();
    p.origin.master_path = o.at(2).get<std::string>();
    p.origin.master_sha256 = o.at(3).get<std::string>();
    p.origin.sequence = o.at(4).get<int>();
    if (h.contains("part")) {  // absent in checkpoints made before splitting: whole
      const json& part = h.at("part");
      const std::string name = part.at(0).get<std::string>();
      if (name != "whole" && name != "left" && name != "right") return bad("has a bad part");
      p.origin.part = PartFrom(name);
      p.origin.master_x = part.at(1).get<int>();
      p.origin.master_width = part.at(2).get<int>();
    }
    p.dpi_x = h.at("dpi").at(0).get<double>();
    p.dpi_y = h.at("dpi").at(1).get<double>();
    p.dpi_from_file = h.at("dpi").at(2).get<bool>();
    p.orientation_deg = h.at("orientation").at(0).get<int>();
    p.orientation_confidence = h.at("orientation").at(1).get<float>();
    p.skew_deg = h.at("skew").get<double>();
    p.blank = h.at("blank").at(0).get<bool>();
    p.blank_score = h.at("blank").at(1).get<double>();
    int color = h.at("color").get<int>();
    if (color < 0 || color > 2) return bad("has a bad colour class");
    p.color_class = static_cast<ColorClass>(color);
    for (const json& w : h.at("words")) {
      Word word;
      word.text = w.at(0).get<std::string>();
      word.box = cv::Rect(w.at(1).get<int>(), w.at(2).get<int>(), w.at(3).get<int>(), w.at(4).get<int>());
      word.confidence = w.at(5).get<float>();
      word.line = w.at(6).get<int>();
      word.baseline = w.at(7).get<int>();
      // Block and paragraph came in later: older checkpoints leave them -1.
      if (w.size() > 9) {
        word.block = w.at(8).get<int>();
        word.paragraph = w.at(9).get<int>();
      }
      p.words.push_back(std::move(word));
    }
    p.text = h.at("text").get<std::string>();
    p.mean_confidence = h.at("confidence").get<double>();
    const json& e = h.at("encoded");
    int codec = e.at(0).get<int>();
    if (codec < 0 || codec > static_cast<int>(EncodedImage::Codec::kMixedRaster)) {
      return bad("has a bad codec");
    }
    p.encoded.codec = static_cast<EncodedImage::Codec>(codec);
    p.encoded.width = e.at(1).get<int>();
    p.encoded.height = e.at(2).get<int>();
    p.encoded.components = e.at(3).get<int>();
    p.encoded.bits_per_component = e.at(4).get<int>();
    if (e.at(5).get<size_t>() != all.size()) return bad("image is truncated");
    p.encoded.bytes.assign(all.begin(), all.end());
    if (Sha256Hex(p.encoded.bytes) != e.at(6).get<std::string>()) return bad("image fails its SHA-256");
    for (const json& r : h.at("history")) {
      // CPU time came in later: checkpoints without it read as 0.
      p.history.push_back({r.at(0).get<std::string>(), r.at(1).get<int>(), r.at(2).get<double>(),
                           r.size() > 3 ? r.at(3).get<double>() : 0.0});
    }
    p.flags = h.at("flags").get<std::vector<std::string>>();
    return p;
  } catch (const json::exception& ex) {
    return bad(std::string("is malformed: ") + ex.what());
  }
}

Result<std::string> LotFingerprint(const fs::path& lot_dir) {
  std::error_code ec;
  std::vector<std::string> lines;
  for (fs::recursive_directory_iterator it(lot_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string base = it->path().filename().string();
    // lstat: a link (even a looping one) is never followed; it counts by
    // its own change time, so adding or retargeting one changes the print.
    struct stat st{};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (!base.empty() && base[0] == '.') {
      if (S_ISDIR(st.st_mode)) it.disable_recursion_pending();
      continue;
    }
    if (S_ISDIR(st.st_mode)) continue;
    // Lexically: fs::relative resolves links, and a looping one throws.
    lines.push_back(it->path().lexically_relative(lot_dir).string() + "\t" + std::to_string(st.st_size) + "\t" +
                    std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec));
  }
  if (ec) return Status::IOError("cannot list " + lot_dir.string() + ": " + ec.message());
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  return Sha256Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(all.data()), all.size()));
}

Result<int> RemoveTempFilesRecursive(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code st_ec;
    if (it->path().filename().string().rfind(kTempPrefix, 0) == 0 && !fs::is_directory(it->symlink_status(st_ec))) {
      doomed.push_back(it->path());
    }
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IOError("cannot list " + dir.string() + ": " + ec.message());
  }
  for (const fs::path& p : doomed) {
    if (!fs::remove(p, ec) && ec) return Status::IOError("cannot remove " + p.string() + ": " + ec.message());
  }
  return static_cast<int>(doomed.size());
}

}  // namespace acervo
