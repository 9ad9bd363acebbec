#include "acervo/scanner/sane_source.h"

#include <sane/sane.h>
#include <sane/saneopts.h>

#include "src/call_deadline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>

#include <opencv2/imgproc.hpp>

namespace acervo {
namespace {

// libsane keeps process-wide state; sane_init runs once, and calls that walk
// the backend list (get_devices, open) are serialised.
std::mutex& SaneMutex() {
  static std::mutex m;
  return m;
}

Status EnsureSaneInit() {
  static std::once_flag once;
  static SANE_Status init_status = SANE_STATUS_GOOD;
  std::call_once(once, [] {
    SANE_Int version = 0;
    init_status = sane_init(&version, nullptr);
  });
  if (init_status != SANE_STATUS_GOOD) {
    return Status::Unavailable(std::string("libsane cannot start: ") + sane_strstatus(init_status));
  }
  return Status::OK();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string FormatNumber(const SANE_Option_Descriptor& d, SANE_Word w) {
  if (d.type == SANE_TYPE_FIXED) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", SANE_UNFIX(w));
    return buf;
  }
  return std::to_string(w);
}

// "Gray | Color", "1..1200 (step 1) dpi", "1 | 8 | 16", "yes | no".
std::string AllowedValues(const SANE_Option_Descriptor& d) {
  std::string unit;
  switch (d.unit) {
    case SANE_UNIT_DPI: unit = " dpi"; break;
    case SANE_UNIT_MM: unit = " mm"; break;
    case SANE_UNIT_MICROSECOND: unit = " us"; break;
    case SANE_UNIT_PERCENT: unit = " %"; break;
    case SANE_UNIT_BIT: unit = " bit"; break;
    default: break;
  }
  if (d.type == SANE_TYPE_BOOL) return "yes | no";
  if (d.type == SANE_TYPE_BUTTON) return "(button: any value presses it)";
  switch (d.constraint_type) {
    case SANE_CONSTRAINT_STRING_LIST: {
      std::vector<std::string> v;
      for (const SANE_String_Const* s = d.constraint.string_list; *s != nullptr; ++s) v.emplace_back(*s);
      return Join(v, " | ");
    }
    case SANE_CONSTRAINT_WORD_LIST: {
      std::vector<std::string> v;
      for (SANE_Int i = 1; i <= d.constraint.word_list[0]; ++i) v.push_back(FormatNumber(d, d.constraint.word_list[i]));
      return Join(v, " | ") + unit;
    }
    case SANE_CONSTRAINT_RANGE: {
      const SANE_Range* r = d.constraint.range;
      std::string s = FormatNumber(d, r->min) + ".." + FormatNumber(d, r->max);
      if (r->quant != 0) s += " (step " + FormatNumber(d, r->quant) + ")";
      return s + unit;
    }
    default:
      return d.type == SANE_TYPE_STRING ? "any text" : "any number" + unit;
  }
}

std::string StatusText(SANE_Status s) { return sane_strstatus(s); }

// Faults that pause a lot: the operator can fix them and resume.
bool IsPauseStatus(SANE_Status s) {
  return s == SANE_STATUS_JAMMED || s == SANE_STATUS_COVER_OPEN || s == SANE_STATUS_IO_ERROR ||
         s == SANE_STATUS_DEVICE_BUSY || s == SANE_STATUS_NO_DOCS;
}

std::string PauseReason(SANE_Status s) {
  switch (s) {
    case SANE_STATUS_JAMMED: return "paper jam (SANE_STATUS_JAMMED)";
    case SANE_STATUS_COVER_OPEN: return "cover open (SANE_STATUS_COVER_OPEN)";
    case SANE_STATUS_IO_ERROR: return "I/O error talking to the scanner (SANE_STATUS_IO_ERROR)";
    case SANE_STATUS_DEVICE_BUSY: return "device busy (SANE_STATUS_DEVICE_BUSY)";
    case SANE_STATUS_NO_DOCS: return "feeder ran out in the middle of a page (SANE_STATUS_NO_DOCS)";
    default: return StatusText(s);
  }
}

// What stderr says when a libsane call outlives its limit (call_deadline.h).
std::string StuckMessage(const std::string& device, const char* call, std::chrono::milliseconds limit,
                         const std::string& during) {
  char secs[32];
  std::snprintf(secs, sizeof(secs), "%g", static_cast<double>(limit.count()) / 1000.0);
  return "acervo: device " + device + " stopped answering: " + call + " did not return within " + secs + " s" +
         (during.empty() ? "" : " (" + during + ")") +
         ". Its SANE backend is stuck and cannot be stopped from inside this process, so acervo ends here "
         "(exit 4). Pages captured before it are kept: check the scanner, then scan again with --resume.";
}

class SaneSource final : public Source {
 public:
  SaneSource(std::string device, SANE_Handle h, std::unique_ptr<CallDeadline> deadline)
      : device_(std::move(device)), handle_(h), deadline_(std::move(deadline)) {}
  ~SaneSource() override {
    {
      CallDeadline::Scope guard = Guard("sane_cancel", "closing the device");
      sane_cancel(handle_);
    }
    std::lock_guard<std::mutex> lock(SaneMutex());
    CallDeadline::Scope guard = Guard("sane_close", "closing the device");
    sane_close(handle_);
  }

  Status Configure(const ScanSettings& s);
  Result<std::optional<CapturedPage>> Next(const std::atomic<bool>* cancel) override;
  Status SetOption(std::string_view name, std::string_view value) override;
  std::string Describe() const override { return "sane:" + device_; }

  std::vector<std::string> OptionLines() const;

 private:
  struct Opt {
    SANE_Int index = -1;
    const SANE_Option_Descriptor* desc = nullptr;
  };
  std::optional<Opt> Find(std::string_view name) const;
  SANE_Int OptionCount() const;
  std::vector<std::string> OptionNames() const;
  Result<std::vector<std::string>> StringChoices(std::string_view name) const;
  Status SetChoice(std::string_view name, const std::vector<std::string>& wanted_keys,
                   std::string_view what, std::string* chosen);
  double CurrentResolution(const char* name) const;
  Result<CapturedPage> ReadFrames(const std::atomic<bool>* cancel);
  // Arms the watchdog (if any) for one libsane call.
  CallDeadline::Scope Guard(const char* call, const std::string& during) {
    if (deadline_ == nullptr) return CallDeadline::Scope(nullptr);
    return deadline_->Arm(StuckMessage(device_, call, deadline_->limit(), during));
  }
  std::string PageText() const { return "page " + std::to_string(pages_ + 1); }

  std::string device_;
  SANE_Handle handle_;
  std::unique_ptr<CallDeadline> deadline_;  // null: no limit (option listings)
  bool adf_ = false;
  bool duplex_ = false;
  bool flatbed_done_ = false;
  bool feed_empty_ = false;
  int pages_ = 0;
};

// Frontends must fetch option 0's descriptor before reading its value: the
// test backend and saned (through the net backend) refuse the value otherwise.
SANE_Int SaneSource::OptionCount() const {
  if (sane_get_option_descriptor(handle_, 0) == nullptr) return 0;
  SANE_Int count = 0;
  if (sane_control_option(handle_, 0, SANE_ACTION_GET_VALUE, &count, nullptr) != SANE_STATUS_GOOD) return 0;
  return count;
}

std::optional<SaneSource::Opt> SaneSource::Find(std::string_view name) const {
  SANE_Int count = OptionCount();
  if (count <= 0) return {};
  for (SANE_Int i = 1; i < count; ++i) {
    const SANE_Option_Descriptor* d = sane_get_option_descriptor(handle_, i);
    if (d != nullptr && d->name != nullptr && d->type != SANE_TYPE_GROUP && name == d->name) return Opt{i, d};
  }
  return {};
}

std::vector<std::string> SaneSource::OptionNames() const {
  std::vector<std::string> names;
  SANE_Int count = OptionCount();
  if (count <= 0) return names;
  for (SANE_Int i = 1; i < count; ++i) {
    const SANE_Option_Descriptor* d = sane_get_option_descriptor(handle_, i);
    if (d != nullptr && d->name != nullptr && *d->name != '\0' && d->type != SANE_TYPE_GROUP &&
        SANE_OPTION_IS_SETTABLE(d->cap)) {
      names.emplace_back(d->name);
    }
  }
  return names;
}

std::vector<std::string> SaneSource::OptionLines() const {
  std::vector<std::string> lines;
  for (const std::string& n : OptionNames()) {
    std::optional<Opt> o = Find(n);
    if (!o) continue;
    std::string line = n + ": " + AllowedValues(*o->desc);
    if (!SANE_OPTION_IS_ACTIVE(o->desc->cap)) line += " (inactive now)";
    lines.push_back(line);
  }
  return lines;
}

Status SaneSource::SetOption(std::string_view name, std::string_view value) {
  std::optional<Opt> o = Find(name);
  if (!o || !SANE_OPTION_IS_SETTABLE(o->desc->cap)) {
    return Status::InvalidArgument("device " + device_ + " has no settable option '" + std::string(name) +
                                   "'; it offers: " + Join(OptionNames(), ", "));
  }
  const SANE_Option_Descriptor& d = *o->desc;
  const std::string where = "device " + device_ + " option '" + std::string(name) + "'";
  if (!SANE_OPTION_IS_ACTIVE(d.cap)) {
    return Status::InvalidArgument(where + " is inactive with the current settings (an option before it "
                                   "enables it, e.g. read-delay=yes before read-delay-duration)");
  }
  auto bad_value = [&] {
    return Status::InvalidArgument(where + ": value '" + std::string(value) + "' is not allowed; allowed: " +
                                   AllowedValues(d));
  };
  SANE_Int info = 0;
  SANE_Status st = SANE_STATUS_GOOD;
  CallDeadline::Scope guard = Guard("sane_control_option", "setting " + std::string(name));
  if (d.size > static_cast<SANE_Int>(sizeof(SANE_Word)) && d.type != SANE_TYPE_STRING) {
    return Status::InvalidArgument(where + " is an array (gamma tables...) and cannot be set from text");
  }
  switch (d.type) {
    case SANE_TYPE_BOOL: {
      std::string v = Lower(value);
      SANE_Bool b;
      if (v == "yes" || v == "true" || v == "1" || v == "on") b = SANE_TRUE;
      else if (v == "no" || v == "false" || v == "0" || v == "off") b = SANE_FALSE;
      else return bad_value();
      st = sane_control_option(handle_, o->index, SANE_ACTION_SET_VALUE, &b, &info);
      break;
    }
    case SANE_TYPE_INT:
    case SANE_TYPE_FIXED: {
      std::string v(value);
      char* end = nullptr;
      double num = std::strtod(v.c_str(), &end);
      if (v.empty() || end == nullptr || *end != '\0' || !std::isfinite(num)) return bad_value();
      SANE_Word w = d.type == SANE_TYPE_FIXED ? SANE_FIX(num) : static_cast<SANE_Word>(std::lround(num));
      if (d.type == SANE_TYPE_INT && num != std::floor(num)) return bad_value();
      if (d.constraint_type == SANE_CONSTRAINT_RANGE) {
        const SANE_Range* r = d.constraint.range;
        if (w < r->min || w > r->max) return bad_value();
      } else if (d.constraint_type == SANE_CONSTRAINT_WORD_LIST) {
        bool found = false;
        for (SANE_Int i = 1; i <= d.constraint.word_list[0]; ++i) found |= d.constraint.word_list[i] == w;
        if (!found) return bad_value();
      }
      st = sane_control_option(handle_, o->index, SANE_ACTION_SET_VALUE, &w, &info);
      break;
    }
    case SANE_TYPE_STRING: {
      std::string v(value);
      if (d.constraint_type == SANE_CONSTRAINT_STRING_LIST) {
        // Accept any case, but hand the backend its own spelling.
        bool found = false;
        for (const SANE_String_Const* s = d.constraint.string_list; *s != nullptr; ++s) {
          if (Lower(*s) == Lower(value)) {
            v = *s;
            found = true;
            break;
          }
        }
        if (!found) return bad_value();
      }
      if (static_cast<SANE_Int>(v.size()) >= d.size) return bad_value();
      std::vector<char> buf(static_cast<size_t>(d.size), '\0');
      std::memcpy(buf.data(), v.data(), v.size());
      st = sane_control_option(handle_, o->index, SANE_ACTION_SET_VALUE, buf.data(), &info);
      break;
    }
    case SANE_TYPE_BUTTON:
      st = sane_control_option(handle_, o->index, SANE_ACTION_SET_VALUE, nullptr, &info);
      break;
    default:
      return Status::InvalidArgument(where + " cannot be set");
  }
  if (st == SANE_STATUS_INVAL) return bad_value();
  if (st != SANE_STATUS_GOOD) {
    return Status::DeviceError(where + ": the device refused '" + std::string(value) + "': " + StatusText(st));
  }
  return Status::OK();
}

Result<std::vector<std::string>> SaneSource::StringChoices(std::string_view name) const {
  std::optional<Opt> o = Find(name);
  if (!o || o->desc->constraint_type != SANE_CONSTRAINT_STRING_LIST) return Status::NotFound(std::string(name));
  std::vector<std::string> v;
  for (const SANE_String_Const* s = o->desc->constraint.string_list; *s != nullptr; ++s) v.emplace_back(*s);
  return v;
}

// Picks the first value of a string-list option containing one of the keys
// (in order of preference) and sets it.
Status SaneSource::SetChoice(std::string_view name, const std::vector<std::string>& keys,
                             std::string_view what, std::string* chosen) {
  Result<std::vector<std::string>> choices = StringChoices(name);
  if (!choices.ok()) {
    return Status::InvalidArgument("device " + device_ + " has no '" + std::string(name) + "' option to select " +
                                   std::string(what) + "; it offers: " + Join(OptionNames(), ", "));
  }
  for (const std::string& key : keys) {
    for (const std::string& c : *choices) {
      if (Lower(c).find(key) != std::string::npos) {
        *chosen = c;
        return SetOption(name, c);
      }
    }
  }
  return Status::InvalidArgument("device " + device_ + " offers no " + std::string(what) + "; " +
                                 std::string(name) + " can be: " + Join(*choices, " | "));
}

Status SaneSource::Configure(const ScanSettings& s) {
  std::string chosen;
  if (s.source == "adf") {
    std::vector<std::string> keys = {"adf", "feeder", "automatic document"};
    if (s.duplex) keys.insert(keys.begin(), "duplex");
    ACERVO_RETURN_IF_ERROR(SetChoice(SANE_NAME_SCAN_SOURCE, keys, "document feeder", &chosen));
    adf_ = true;
    duplex_ = Lower(chosen).find("duplex") != std::string::npos;
  } else if (s.source == "flatbed") {
    ACERVO_RETURN_IF_ERROR(SetChoice(SANE_NAME_SCAN_SOURCE, {"flatbed"}, "flatbed", &chosen));
  } else if (!s.source.empty()) {
    return Status::InvalidArgument("--source must be flatbed or adf, not '" + s.source + "'");
  } else if (Result<std::vector<std::string>> c = StringChoices(SANE_NAME_SCAN_SOURCE); c.ok()) {
    // Device default: note whether it is a feeder.
    std::optional<Opt> o = Find(SANE_NAME_SCAN_SOURCE);
    std::vector<char> buf(static_cast<size_t>(o->desc->size) + 1, '\0');
    if (sane_control_option(handle_, o->index, SANE_ACTION_GET_VALUE, buf.data(), nullptr) == SANE_STATUS_GOOD) {
      std::string v = Lower(buf.data());
      adf_ = v.find("adf") != std::string::npos || v.find("feeder") != std::string::npos ||
             v.find("automatic document") != std::string::npos;
    }
  }
  if (s.duplex && !duplex_) {
    std::optional<Opt> d = Find("duplex");
    if (!d) {
      return Status::InvalidArgument("device " + device_ + " offers no duplex scanning (no duplex source, no "
                                     "'duplex' option)");
    }
    ACERVO_RETURN_IF_ERROR(SetOption("duplex", "yes"));
    duplex_ = true;
  }
  if (!s.mode.empty()) {
    if (s.mode == "bw") {
      Status st = SetChoice(SANE_NAME_SCAN_MODE, {"lineart", "binary", "black", "halftone"}, "black-and-white mode",
                            &chosen);
      if (!st.ok()) {
        // Backends without Lineart (like `test`) give bitonal as Gray at depth 1.
        ACERVO_RETURN_IF_ERROR(SetChoice(SANE_NAME_SCAN_MODE, {"gray", "grey"}, "gray mode", &chosen));
        ACERVO_RETURN_IF_ERROR(SetOption(SANE_NAME_BIT_DEPTH, "1").WithContext("bw needs 1-bit gray"));
      }
    } else if (s.mode == "gray") {
      ACERVO_RETURN_IF_ERROR(SetChoice(SANE_NAME_SCAN_MODE, {"gray", "grey"}, "gray mode", &chosen));
      if (Find(SANE_NAME_BIT_DEPTH)) (void)SetOption(SANE_NAME_BIT_DEPTH, "8");
    } else if (s.mode == "color") {
      ACERVO_RETURN_IF_ERROR(SetChoice(SANE_NAME_SCAN_MODE, {"color", "colour"}, "colour mode", &chosen));
      if (Find(SANE_NAME_BIT_DEPTH)) (void)SetOption(SANE_NAME_BIT_DEPTH, "8");
    } else {
      return Status::InvalidArgument("--mode must be bw, gray or color, not '" + s.mode + "'");
    }
  }
  if (s.resolution > 0) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", s.resolution);
    ACERVO_RETURN_IF_ERROR(SetOption(SANE_NAME_SCAN_RESOLUTION, buf));
  }
  for (const auto& [name, value] : s.options) ACERVO_RETURN_IF_ERROR(SetOption(name, value));
  return Status::OK();
}

double SaneSource::CurrentResolution(const char* name) const {
  std::optional<Opt> o = Find(name);
  if (!o || !SANE_OPTION_IS_ACTIVE(o->desc->cap) || o->desc->size != sizeof(SANE_Word)) return 0;
  SANE_Word w = 0;
  if (sane_control_option(handle_, o->index, SANE_ACTION_GET_VALUE, &w, nullptr) != SANE_STATUS_GOOD) return 0;
  return o->desc->type == SANE_TYPE_FIXED ? SANE_UNFIX(w) : double(w);
}

Result<std::optional<CapturedPage>> SaneSource::Next(const std::atomic<bool>* cancel) {
  if (feed_empty_ || (!adf_ && flatbed_done_)) return std::optional<CapturedPage>();
  Result<CapturedPage> page = ReadFrames(cancel);
  if (!page.ok()) {
    if (page.status().code() == StatusCode::kNotFound) {  // NO_DOCS at start
      feed_empty_ = true;
      return std::optional<CapturedPage>();
    }
    return page.status();
  }
  flatbed_done_ = true;
  ++pages_;
  page->sequence = pages_;
  page->side = duplex_ && pages_ % 2 == 0 ? Side::kBack : Side::kFront;
  return std::optional<CapturedPage>(std::move(*page));
}

// Reads one page: one frame (gray/RGB) or three (single-colour frames of a
// three-pass device). NotFound means "no document to start on".
Result<CapturedPage> SaneSource::ReadFrames(const std::atomic<bool>* cancel) {
  auto fail = [&](SANE_Status st, bool started) -> Status {
    if (started) {  // drop the partial page
      CallDeadline::Scope guard = Guard("sane_cancel", "cancelling " + PageText());
      sane_cancel(handle_);
    }
    const std::string what = "device " + device_ + ": ";
    if (st == SANE_STATUS_CANCELLED) return Status::Cancelled(what + "scan cancelled");
    if (IsPauseStatus(st)) return Status::DeviceError(what + PauseReason(st));
    if (st == SANE_STATUS_NO_MEM || st == SANE_STATUS_ACCESS_DENIED) {
      return Status::Unavailable(what + StatusText(st));
    }
    return Status::DeviceError(what + StatusText(st));
  };
  std::vector<std::vector<uint8_t>> planes;  // RGB or gray; or R, G, B
  SANE_Parameters p{};
  int frame_count = 0;
  std::vector<int> frame_channel;  // for three-pass: which colour each frame is
  std::vector<uint8_t> buf(1 << 16);
  cv::Mat out;
  for (;;) {
    if (cancel != nullptr && cancel->load()) return fail(SANE_STATUS_CANCELLED, frame_count > 0);
    SANE_Status st;
    {
      CallDeadline::Scope guard = Guard("sane_start", "starting " + PageText());
      st = sane_start(handle_);
    }
    if (st == SANE_STATUS_NO_DOCS && frame_count == 0) return Status::NotFound("no documents");
    if (st != SANE_STATUS_GOOD) return fail(st, true);
    {
      CallDeadline::Scope guard = Guard("sane_get_parameters", PageText());
      st = sane_get_parameters(handle_, &p);
    }
    if (st != SANE_STATUS_GOOD) return fail(st, true);
    std::vector<uint8_t> data;
    if (p.lines > 0) data.reserve(static_cast<size_t>(p.bytes_per_line) * p.lines);
    for (;;) {
      if (cancel != nullptr && cancel->load()) return fail(SANE_STATUS_CANCELLED, true);
      SANE_Int len = 0;
      {
        CallDeadline::Scope guard = Guard("sane_read", "reading " + PageText());
        st = sane_read(handle_, buf.data(), static_cast<SANE_Int>(buf.size()), &len);
      }
      if (st == SANE_STATUS_EOF) break;
      if (st == SANE_STATUS_NO_DOCS && frame_count == 0 && data.empty()) {
        // The feeder found no sheet before any data moved: end of feed,
        // nothing lost (some backends report it here instead of at start).
        CallDeadline::Scope guard = Guard("sane_cancel", "ending the feed");
        sane_cancel(handle_);
        return Status::NotFound("no documents");
      }
      if (st != SANE_STATUS_GOOD) return fail(st, true);
      data.insert(data.end(), buf.begin(), buf.begin() + len);
    }
    planes.push_back(std::move(data));
    frame_channel.push_back(p.format == SANE_FRAME_GREEN ? 1 : p.format == SANE_FRAME_BLUE ? 2 : 0);
    ++frame_count;
    if (p.last_frame) break;
    if (frame_count >= 3) return fail(SANE_STATUS_IO_ERROR, true);
  }
  if (p.bytes_per_line <= 0 || p.pixels_per_line <= 0) {
    return Status::DeviceError("device " + device_ + ": reported an empty page geometry");
  }
  const int width = p.pixels_per_line;
  const size_t bpl = static_cast<size_t>(p.bytes_per_line);
  // Hand scanners report lines = -1: the data length decides.
  const int rows = static_cast<int>(planes[0].size() / bpl);
  if (p.lines > 0 && rows < p.lines) {
    return Status::DeviceError("device " + device_ + ": page ended after " + std::to_string(rows) + " of " +
                               std::to_string(p.lines) + " lines");
  }
  CapturedPage page;
  page.dpi_x = CurrentResolution(SANE_NAME_SCAN_RESOLUTION);
  if (page.dpi_x == 0) page.dpi_x = CurrentResolution(SANE_NAME_SCAN_X_RESOLUTION);
  page.dpi_y = CurrentResolution(SANE_NAME_SCAN_Y_RESOLUTION);
  if (page.dpi_y == 0) page.dpi_y = page.dpi_x;
  page.bits_per_sample = p.depth;
  const bool rgb = p.format == SANE_FRAME_RGB;
  const bool three_pass = p.format == SANE_FRAME_RED || p.format == SANE_FRAME_GREEN || p.format == SANE_FRAME_BLUE;
  if (p.format != SANE_FRAME_GRAY && !rgb && !three_pass) {
    return Status::DeviceError("device " + device_ + ": unsupported frame format " + std::to_string(p.format));
  }
  if (three_pass && planes.size() != 3) {
    return Status::DeviceError("device " + device_ + ": three-pass scan delivered " + std::to_string(planes.size()) +
                               " frames");
  }
  if (three_pass) {
    // Frames come in the device's order (three-pass-order); put them R, G, B.
    std::vector<std::vector<uint8_t>> ordered(3);
    for (size_t i = 0; i < planes.size(); ++i) ordered[static_cast<size_t>(frame_channel[i])] = std::move(planes[i]);
    planes = std::move(ordered);
    for (const std::vector<uint8_t>& pl : planes) {
      if (pl.size() < bpl * static_cast<size_t>(rows)) {
        return Status::DeviceError("device " + device_ + ": three-pass scan delivered frames of different sizes");
      }
    }
  }
  const int channels = (p.format == SANE_FRAME_GRAY) ? 1 : 3;
  const int depth = p.depth;
  if (depth != 1 && depth != 8 && depth != 16) {
    return Status::DeviceError("device " + device_ + ": unsupported depth " + std::to_string(depth));
  }
  // Sample s of channel c on row y, widened to 16 bits (or 0/255 for 1-bit).
  auto sample = [&](int y, int x, int c) -> int {
    const uint8_t* base;
    int idx;  // sample index within the row
    if (three_pass) {
      base = planes[static_cast<size_t>(c)].data() + bpl * static_cast<size_t>(y);
      idx = x;
    } else {
      base = planes[0].data() + bpl * static_cast<size_t>(y);
      idx = x * channels + c;
    }
    if (depth == 1) {
      // SANE: in a gray frame a set bit is black; in colour frames a set
      // bit is the channel at full intensity.
      bool set = (base[idx >> 3] >> (7 - (idx & 7))) & 1;
      return (set != (channels == 1)) ? 255 : 0;
    }
    if (depth == 8) return base[idx];
    uint16_t v;
    std::memcpy(&v, base + 2 * idx, 2);  // SANE: native byte order
    return v;
  };
  const int cv_type = depth == 16 ? (channels == 3 ? CV_16UC3 : CV_16UC1) : (channels == 3 ? CV_8UC3 : CV_8UC1);
  out.create(rows, width, cv_type);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        int v = sample(y, x, c);
        int dst = channels == 3 ? 2 - c : 0;  // RGB -> BGR
        if (depth == 16) out.ptr<uint16_t>(y)[x * channels + dst] = static_cast<uint16_t>(v);
        else out.ptr<uint8_t>(y)[x * channels + dst] = static_cast<uint8_t>(v);
      }
    }
  }
  page.image = std::move(out);
  return page;
}

// `deadline` (may be null) limits sane_open.
Result<SANE_Handle> OpenHandle(const std::string& device, CallDeadline* deadline) {
  ACERVO_RETURN_IF_ERROR(EnsureSaneInit());
  std::lock_guard<std::mutex> lock(SaneMutex());
  SANE_Handle h = nullptr;
  SANE_Status st;
  {
    CallDeadline::Scope guard = deadline == nullptr ? CallDeadline::Scope(nullptr)
                                                    : deadline->Arm(StuckMessage(device, "sane_open", deadline->limit(),
                                                                                 "opening the device"));
    st = sane_open(device.c_str(), &h);
  }
  if (st == SANE_STATUS_GOOD) return h;
  std::vector<std::string> names;
  const SANE_Device** list = nullptr;
  if (sane_get_devices(&list, SANE_FALSE) == SANE_STATUS_GOOD) {
    for (int i = 0; list[i] != nullptr; ++i) names.emplace_back(list[i]->name);
  }
  std::string offered = names.empty() ? "no scanners were found" : "scanners found: " + Join(names, ", ");
  if (st == SANE_STATUS_INVAL || st == SANE_STATUS_UNSUPPORTED) {
    return Status::NotFound("no SANE device '" + device + "'; " + offered);
  }
  return Status::Unavailable("cannot open SANE device '" + device + "': " + StatusText(st) + "; " + offered);
}

}  // namespace

Result<std::vector<ScannerInfo>> ListSaneDevices() {
  ACERVO_RETURN_IF_ERROR(EnsureSaneInit());
  std::lock_guard<std::mutex> lock(SaneMutex());
  const SANE_Device** list = nullptr;
  SANE_Status st = sane_get_devices(&list, SANE_FALSE);
  if (st != SANE_STATUS_GOOD) return Status::Unavailable(std::string("cannot list SANE devices: ") + StatusText(st));
  std::vector<ScannerInfo> out;
  for (int i = 0; list[i] != nullptr; ++i) {
    out.push_back({list[i]->name ? list[i]->name : "", list[i]->vendor ? list[i]->vendor : "",
                   list[i]->model ? list[i]->model : "", list[i]->type ? list[i]->type : ""});
  }
  return out;
}

Result<std::unique_ptr<Source>> OpenSaneSource(const ScanSettings& settings, const SaneOptions& options) {
  if (settings.device.empty()) {
    return Status::InvalidArgument("no scanner device given: name one with --device (or [scanner] device in the "
                                   "lot's profile.toml); `acervo devices` lists them");
  }
  if (!(options.call_timeout_seconds >= 0) || options.call_timeout_seconds > 86400) {
    return Status::InvalidArgument("the SANE call timeout must be between 0 and 86400 seconds");
  }
  // Rounded up: a limit under a millisecond is still a limit, not "none".
  auto deadline = std::make_unique<CallDeadline>(
      std::chrono::milliseconds(static_cast<int64_t>(std::ceil(options.call_timeout_seconds * 1000))),
      kSaneStuckExitCode);
  ACERVO_ASSIGN_OR_RETURN(SANE_Handle h, OpenHandle(settings.device, deadline.get()));
  auto source = std::make_unique<SaneSource>(settings.device, h, std::move(deadline));
  ACERVO_RETURN_IF_ERROR(source->Configure(settings));
  return std::unique_ptr<Source>(std::move(source));
}

Result<std::vector<std::string>> DescribeSaneOptions(const std::string& device) {
  ACERVO_ASSIGN_OR_RETURN(SANE_Handle h, OpenHandle(device, nullptr));
  SaneSource source(device, h, nullptr);
  return source.OptionLines();
}

}  // namespace acervo
