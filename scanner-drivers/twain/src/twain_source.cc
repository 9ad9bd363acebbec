#include "acervo/scanner/twain_source.h"

#include <dlfcn.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "acervo/scanner/twain_protocol.h"

namespace acervo {
namespace {
using namespace twain;  // NOLINT: the protocol's own names read best unqualified

// MSG_XFERREADY / MSG_CLOSEDSREQ arrive through the callback the DSM calls.
// TWAIN gives the callback no pointer of ours (RefCon is 32 bits), so the
// one open session is found through this slot; TWAIN allows one per process.
struct CallbackSlot {
  std::mutex mu;
  std::condition_variable cv;
  TW_UINT16 message = MSG_NULL;
};
CallbackSlot& Slot() {
  static CallbackSlot slot;
  return slot;
}

TW_UINT16 OnTwainMessage(TW_IDENTITY*, TW_IDENTITY*, TW_UINT32, TW_UINT16, TW_UINT16 msg, TW_MEMREF) {
  CallbackSlot& s = Slot();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.message = msg;
  }
  s.cv.notify_all();
  return TWRC_SUCCESS;
}

std::string Str32(const TW_STR32& s) { return std::string(s, strnlen(s, sizeof(TW_STR32))); }

void SetStr32(TW_STR32& dst, std::string_view v) {
  std::memset(dst, 0, sizeof(TW_STR32));
  std::memcpy(dst, v.data(), std::min(v.size(), sizeof(TW_STR32) - 2));
}

std::string ConditionText(TW_UINT16 cc) {
  switch (cc) {
    case TWCC_PAPERJAM: return "paper jam (TWCC_PAPERJAM)";
    case TWCC_PAPERDOUBLEFEED: return "double feed (TWCC_PAPERDOUBLEFEED)";
    case TWCC_INTERLOCK: return "cover open (TWCC_INTERLOCK)";
    case TWCC_DAMAGEDCORNER: return "damaged corner detected (TWCC_DAMAGEDCORNER)";
    case TWCC_CHECKDEVICEONLINE: return "device offline (TWCC_CHECKDEVICEONLINE)";
    case TWCC_OPERATIONERROR: return "device operation error (TWCC_OPERATIONERROR)";
    case TWCC_BUMMER: return "device failure (TWCC_BUMMER)";
    case TWCC_LOWMEMORY: return "out of memory (TWCC_LOWMEMORY)";
    case TWCC_NODS: return "no data source (TWCC_NODS)";
    case TWCC_BADVALUE: return "value not accepted (TWCC_BADVALUE)";
    case TWCC_SEQERROR: return "operation out of sequence (TWCC_SEQERROR)";
    case TWCC_CAPUNSUPPORTED: return "capability not supported (TWCC_CAPUNSUPPORTED)";
    case TWCC_NOMEDIA: return "no paper (TWCC_NOMEDIA)";
    default: return "condition code " + std::to_string(cc);
  }
}

// The loaded DSM and our identity: TWAIN states 2 (loaded) and 3 (open).
class Dsm {
 public:
  ~Dsm() {
    if (open_) entry_(&app_, nullptr, DG_CONTROL, DAT_PARENT, MSG_CLOSEDSM, &parent_);
    if (lib_ != nullptr) ::dlclose(lib_);
  }

  static Result<std::unique_ptr<Dsm>> Load(const std::filesystem::path& path) {
    std::unique_ptr<Dsm> d(new Dsm());
    std::string lib = path.empty() ? "libtwaindsm.so" : path.string();
    d->lib_ = ::dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (d->lib_ == nullptr) {
      const char* e = ::dlerror();
      return Status::Unavailable("cannot load the TWAIN Data Source Manager " + lib + ": " + (e ? e : "unknown") +
                                 " (install a TWAIN DSM or pass --twain-dsm PATH)");
    }
    d->entry_ = reinterpret_cast<DSMENTRYPROC>(::dlsym(d->lib_, "DSM_Entry"));
    if (d->entry_ == nullptr) return Status::Unavailable(lib + " has no DSM_Entry: not a TWAIN DSM");
    // State 2 -> 3.
    std::memset(&d->app_, 0, sizeof(d->app_));
    d->app_.Version.MajorNum = 0;
    d->app_.Version.MinorNum = 1;
    d->app_.Version.Language = 2;  // TWLG_ENGLISH
    d->app_.Version.Country = 1;   // TWCY_USA
    SetStr32(d->app_.Version.Info, "acervo 0.1.0");
    d->app_.ProtocolMajor = 2;
    d->app_.ProtocolMinor = 4;
    d->app_.SupportedGroups = DG_CONTROL | DG_IMAGE | DF_APP2;
    SetStr32(d->app_.Manufacturer, "Acervo");
    SetStr32(d->app_.ProductFamily, "Acervo GED");
    SetStr32(d->app_.ProductName, "acervo scan");
    TW_UINT16 rc = d->entry_(&d->app_, nullptr, DG_CONTROL, DAT_PARENT, MSG_OPENDSM, &d->parent_);
    if (rc != TWRC_SUCCESS) {
      return Status::Unavailable("TWAIN DSM " + lib + " refused MSG_OPENDSM: " + ConditionText(d->Condition(nullptr)));
    }
    d->open_ = true;
    // TWAIN 2 memory functions: containers and native images are DSM memory.
    if (d->app_.SupportedGroups & DF_DSM2) {
      TW_ENTRYPOINT ep{};
      ep.Size = sizeof(ep);
      if (d->entry_(&d->app_, nullptr, DG_CONTROL, DAT_ENTRYPOINT, MSG_GET, &ep) == TWRC_SUCCESS) d->ep_ = ep;
    }
    return d;
  }

  TW_UINT16 Call(TW_IDENTITY* dest, TW_UINT32 dg, TW_UINT16 dat, TW_UINT16 msg, TW_MEMREF data) {
    return entry_(&app_, dest, dg, dat, msg, data);
  }
  TW_UINT16 Condition(TW_IDENTITY* dest) {
    TW_STATUS st{};
    entry_(&app_, dest, DG_CONTROL, DAT_STATUS, MSG_GET, &st);
    return st.ConditionCode;
  }
  TW_HANDLE Alloc(TW_UINT32 n) { return ep_.DSM_MemAllocate ? ep_.DSM_MemAllocate(n) : std::calloc(1, n); }
  void Free(TW_HANDLE h) {
    if (h == nullptr) return;
    if (ep_.DSM_MemFree) ep_.DSM_MemFree(h);
    else std::free(h);
  }
  void* Lock(TW_HANDLE h) { return ep_.DSM_MemLock ? ep_.DSM_MemLock(h) : h; }
  void Unlock(TW_HANDLE h) {
    if (ep_.DSM_MemUnlock) ep_.DSM_MemUnlock(h);
  }

  Result<std::vector<TW_IDENTITY>> Sources() {
    std::vector<TW_IDENTITY> out;
    TW_IDENTITY id{};
    TW_UINT16 rc = Call(nullptr, DG_CONTROL, DAT_IDENTITY, MSG_GETFIRST, &id);
    while (rc == TWRC_SUCCESS) {
      out.push_back(id);
      id = TW_IDENTITY{};
      rc = Call(nullptr, DG_CONTROL, DAT_IDENTITY, MSG_GETNEXT, &id);
    }
    if (rc != TWRC_ENDOFLIST && rc != TWRC_FAILURE) {
      return Status::Unavailable("TWAIN DSM cannot list data sources: return code " + std::to_string(rc));
    }
    return out;
  }

  TW_IDENTITY& app() { return app_; }

 private:
  Dsm() = default;
  void* lib_ = nullptr;
  DSMENTRYPROC entry_ = nullptr;
  TW_IDENTITY app_{};
  TW_ENTRYPOINT ep_{};
  void* parent_ = nullptr;  // no window on Linux
  bool open_ = false;
};

class TwainSource final : public Source {
 public:
  TwainSource(std::unique_ptr<Dsm> dsm, TW_IDENTITY ds) : dsm_(std::move(dsm)), ds_(ds) {}
  ~TwainSource() override { Shutdown(); }

  Status Open(const ScanSettings& s, const TwainOptions& o);
  Result<std::optional<CapturedPage>> Next(const std::atomic<bool>* cancel) override;
  Status SetOption(std::string_view name, std::string_view) override {
    return Status::InvalidArgument("TWAIN source '" + Str32(ds_.ProductName) + "' takes no raw option '" +
                                   std::string(name) + "'; use --source, --duplex, --resolution, --mode");
  }
  std::string Describe() const override { return "twain:" + Str32(ds_.ProductName); }

 private:
  std::string Name() const { return "TWAIN source '" + Str32(ds_.ProductName) + "'"; }
  // Capability helpers.
  Result<std::vector<TW_UINT32>> GetValues(TW_UINT16 cap, TW_UINT16* item_type, bool* is_range, bool* is_list,
                                           TW_RANGE* range);
  Status SetOne(TW_UINT16 cap, TW_UINT16 type, TW_UINT32 value, const std::string& what);
  Status Negotiate(TW_UINT16 cap, TW_UINT16 type, TW_UINT32 value, const std::string& what,
                   const std::string& shown);
  Status Fail(const std::string& during);
  Status WaitForXferReady(const std::atomic<bool>* cancel);
  Result<CapturedPage> MemoryTransfer(const std::atomic<bool>* cancel);
  Result<CapturedPage> NativeTransfer();
  void ResetPending();
  void Shutdown();

  std::unique_ptr<Dsm> dsm_;
  TW_IDENTITY ds_;
  int state_ = 3;
  bool memory_ = true;
  bool feeder_ = false;
  bool duplex_ = false;
  bool done_ = false;
  int pages_ = 0;
};

Status TwainSource::Fail(const std::string& during) {
  TW_UINT16 cc = dsm_->Condition(&ds_);
  std::string msg = Name() + ": " + during + ": " + ConditionText(cc);
  switch (cc) {
    case TWCC_PAPERJAM:
    case TWCC_PAPERDOUBLEFEED:
    case TWCC_INTERLOCK:
    case TWCC_DAMAGEDCORNER:
    case TWCC_CHECKDEVICEONLINE:
    case TWCC_OPERATIONERROR:
    case TWCC_BUMMER:
      return Status::DeviceError(msg);
    case TWCC_LOWMEMORY:
      return Status::Unavailable(msg);
    default:
      return Status::DeviceError(msg);
  }
}

Result<std::vector<TW_UINT32>> TwainSource::GetValues(TW_UINT16 cap, TW_UINT16* item_type, bool* is_range,
                                                      bool* is_list, TW_RANGE* range) {
  TW_CAPABILITY c{cap, 0, nullptr};
  if (dsm_->Call(&ds_, DG_CONTROL, DAT_CAPABILITY, MSG_GET, &c) != TWRC_SUCCESS) {
    return Status::NotFound("capability " + std::to_string(cap));
  }
  std::vector<TW_UINT32> values;
  *is_range = false;
  *is_list = false;
  void* p = dsm_->Lock(c.hContainer);
  if (c.ConType == TWON_ONEVALUE) {
    auto* one = static_cast<TW_ONEVALUE*>(p);
    *item_type = one->ItemType;
    values.push_back(one->Item);
  } else if (c.ConType == TWON_ENUMERATION) {
    auto* e = static_cast<TW_ENUMERATION*>(p);
    *is_list = true;
    *item_type = e->ItemType;
    const size_t size = e->ItemType == TWTY_FIX32 || e->ItemType == TWTY_UINT32 || e->ItemType == TWTY_INT32 ? 4 : 2;
    for (TW_UINT32 i = 0; i < e->NumItems; ++i) {
      TW_UINT32 v = 0;
      std::memcpy(&v, e->ItemList + i * size, size);
      values.push_back(v);
    }
  } else if (c.ConType == TWON_RANGE) {
    *range = *static_cast<TW_RANGE*>(p);
    *item_type = range->ItemType;
    *is_range = true;
  }
  dsm_->Unlock(c.hContainer);
  dsm_->Free(c.hContainer);
  return values;
}

Status TwainSource::SetOne(TW_UINT16 cap, TW_UINT16 type, TW_UINT32 value, const std::string& what) {
  TW_CAPABILITY c{cap, TWON_ONEVALUE, dsm_->Alloc(sizeof(TW_ONEVALUE))};
  if (c.hContainer == nullptr) return Status::Unavailable("out of memory negotiating " + what);
  auto* one = static_cast<TW_ONEVALUE*>(dsm_->Lock(c.hContainer));
  one->ItemType = type;
  one->Item = value;
  dsm_->Unlock(c.hContainer);
  TW_UINT16 rc = dsm_->Call(&ds_, DG_CONTROL, DAT_CAPABILITY, MSG_SET, &c);
  dsm_->Free(c.hContainer);
  if (rc == TWRC_SUCCESS || rc == TWRC_CHECKSTATUS) return Status::OK();
  return Status::InvalidArgument(Name() + " refused " + what + ": " + ConditionText(dsm_->Condition(&ds_)));
}

std::string ShowValue(TW_UINT16 type, TW_UINT32 v) {
  if (type == TWTY_FIX32) {
    TW_FIX32 f;
    std::memcpy(&f, &v, sizeof(f));
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", Fix32ToDouble(f));
    return buf;
  }
  if (type == TWTY_BOOL) return v ? "true" : "false";
  return std::to_string(static_cast<int32_t>(type == TWTY_INT16 ? int16_t(v) : int32_t(v)));
}

// Checks the value against what the source offers (so the error can list
// it), then sets it.
Status TwainSource::Negotiate(TW_UINT16 cap, TW_UINT16 type, TW_UINT32 value, const std::string& what,
                              const std::string& shown) {
  TW_UINT16 item_type = type;
  bool is_range = false, is_list = false;
  TW_RANGE range{};
  Result<std::vector<TW_UINT32>> offered = GetValues(cap, &item_type, &is_range, &is_list, &range);
  if (!offered.ok()) {
    return Status::InvalidArgument(Name() + " does not support " + what + " (cannot set it to " + shown + ")");
  }
  if (is_range && type == TWTY_FIX32) {
    TW_FIX32 lo, hi, want;
    std::memcpy(&lo, &range.MinValue, 4);
    std::memcpy(&hi, &range.MaxValue, 4);
    std::memcpy(&want, &value, 4);
    if (Fix32ToDouble(want) < Fix32ToDouble(lo) || Fix32ToDouble(want) > Fix32ToDouble(hi)) {
      return Status::InvalidArgument(Name() + ": " + what + " " + shown + " is out of range; it offers " +
                                     ShowValue(TWTY_FIX32, range.MinValue) + ".." +
                                     ShowValue(TWTY_FIX32, range.MaxValue));
    }
  } else if (is_list) {
    bool found = false;
    std::string list;
    for (TW_UINT32 v : *offered) {
      TW_UINT32 masked = (type == TWTY_UINT16 || type == TWTY_BOOL || type == TWTY_INT16) ? (v & 0xffff) : v;
      found |= masked == value;
      list += (list.empty() ? "" : ", ") + ShowValue(item_type, masked);
    }
    if (!found) {
      return Status::InvalidArgument(Name() + ": " + what + " " + shown + " is not offered; it offers " + list);
    }
  }
  return SetOne(cap, type, value, what + " " + shown);
}

Status TwainSource::Open(const ScanSettings& s, const TwainOptions& o) {
  // State 3 -> 4. TWAIN 2 registers the message callback after MSG_OPENDS,
  // addressed to the source it is for.
  if (dsm_->Call(nullptr, DG_CONTROL, DAT_IDENTITY, MSG_OPENDS, &ds_) != TWRC_SUCCESS) {
    return Status::Unavailable("cannot open " + Name() + ": " + ConditionText(dsm_->Condition(nullptr)));
  }
  state_ = 4;
  TW_CALLBACK cb{reinterpret_cast<TW_MEMREF>(&OnTwainMessage), 0, 0};
  if (dsm_->Call(&ds_, DG_CONTROL, DAT_CALLBACK, MSG_REGISTER_CALLBACK, &cb) != TWRC_SUCCESS) {
    return Status::Unavailable(Name() + ": the DSM refused the message callback (a TWAIN 2 DSM is needed)");
  }
  // Transfer mechanism: memory (strips, no size limit on our side) unless
  // the source has only native.
  if (o.transfer == "native") {
    ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_XFERMECH, TWTY_UINT16, TWSX_NATIVE, "ICAP_XFERMECH", "native"));
    memory_ = false;
  } else {
    Status m = Negotiate(ICAP_XFERMECH, TWTY_UINT16, TWSX_MEMORY, "ICAP_XFERMECH", "memory");
    if (!m.ok()) {
      if (o.transfer == "memory") return m;
      ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_XFERMECH, TWTY_UINT16, TWSX_NATIVE, "ICAP_XFERMECH", "native"));
      memory_ = false;
    }
  }
  if (!s.mode.empty()) {
    TW_UINT32 pt = s.mode == "bw" ? TWPT_BW : s.mode == "gray" ? TWPT_GRAY : s.mode == "color" ? TWPT_RGB : 99;
    if (pt == 99) return Status::InvalidArgument("--mode must be bw, gray or color, not '" + s.mode + "'");
    ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_PIXELTYPE, TWTY_UINT16, pt, "ICAP_PIXELTYPE", s.mode));
  }
  if (s.resolution > 0) {
    TW_FIX32 f = DoubleToFix32(s.resolution);
    TW_UINT32 v = 0;
    std::memcpy(&v, &f, 4);
    char shown[32];
    std::snprintf(shown, sizeof(shown), "%g dpi", s.resolution);
    ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_XRESOLUTION, TWTY_FIX32, v, "ICAP_XRESOLUTION", shown));
    ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_YRESOLUTION, TWTY_FIX32, v, "ICAP_YRESOLUTION", shown));
  }
  if (s.source == "adf" || s.source == "flatbed") {
    feeder_ = s.source == "adf";
    ACERVO_RETURN_IF_ERROR(Negotiate(CAP_FEEDERENABLED, TWTY_BOOL, feeder_ ? 1 : 0, "CAP_FEEDERENABLED",
                                     feeder_ ? "true" : "false"));
  } else if (!s.source.empty()) {
    return Status::InvalidArgument("--source must be flatbed or adf, not '" + s.source + "'");
  }
  if (s.duplex) {
    ACERVO_RETURN_IF_ERROR(Negotiate(CAP_DUPLEXENABLED, TWTY_BOOL, 1, "CAP_DUPLEXENABLED", "true"));
    duplex_ = true;
  }
  // -1: transfer every sheet in the feeder; a flatbed gives one.
  ACERVO_RETURN_IF_ERROR(SetOne(CAP_XFERCOUNT, TWTY_INT16, feeder_ ? 0xffff : 1, "CAP_XFERCOUNT"));
  if (!s.options.empty()) return SetOption(s.options.front().first, s.options.front().second);
  return Status::OK();
}

Status TwainSource::WaitForXferReady(const std::atomic<bool>* cancel) {
  CallbackSlot& slot = Slot();
  std::unique_lock<std::mutex> lock(slot.mu);
  // Sources may spend a while warming up; the operator can always cancel.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (slot.message != MSG_XFERREADY) {
    if (slot.message == MSG_CLOSEDSREQ) return Status::Cancelled(Name() + " asked to close (cancelled on the device)");
    if (cancel != nullptr && cancel->load()) return Status::Cancelled(Name() + ": scan cancelled");
    if (slot.cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100))) ==
            std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= deadline) {
      return Status::DeviceError(Name() + ": no transfer became ready within 5 minutes");
    }
  }
  slot.message = MSG_NULL;
  return Status::OK();
}

void TwainSource::ResetPending() {
  // From 6 or 7 back to 5: drop whatever pages the source still holds.
  TW_PENDINGXFERS p{};
  if (state_ == 7) dsm_->Call(&ds_, DG_CONTROL, DAT_PENDINGXFERS, MSG_ENDXFER, &p);
  if (state_ >= 6) dsm_->Call(&ds_, DG_CONTROL, DAT_PENDINGXFERS, MSG_RESET, &p);
  if (state_ >= 5) {
    TW_USERINTERFACE ui{0, 0, nullptr};
    dsm_->Call(&ds_, DG_CONTROL, DAT_USERINTERFACE, MSG_DISABLEDS, &ui);
  }
  state_ = std::min(state_, 4);
}

void TwainSource::Shutdown() {
  if (state_ >= 5) ResetPending();
  if (state_ == 4) {
    dsm_->Call(nullptr, DG_CONTROL, DAT_IDENTITY, MSG_CLOSEDS, &ds_);
    state_ = 3;
  }
}

Result<std::optional<CapturedPage>> TwainSource::Next(const std::atomic<bool>* cancel) {
  if (done_) return std::optional<CapturedPage>();
  if (state_ == 4) {
    // 4 -> 5 -> 6: enable without UI and wait for the first page.
    {
      std::lock_guard<std::mutex> lock(Slot().mu);
      Slot().message = MSG_NULL;
    }
    TW_USERINTERFACE ui{0, 0, nullptr};
    TW_UINT16 rc = dsm_->Call(&ds_, DG_CONTROL, DAT_USERINTERFACE, MSG_ENABLEDS, &ui);
    if (rc != TWRC_SUCCESS && rc != TWRC_CHECKSTATUS) return Fail("cannot start scanning (MSG_ENABLEDS)");
    state_ = 5;
    Status ready = WaitForXferReady(cancel);
    if (!ready.ok()) {
      ResetPending();
      return ready;
    }
    state_ = 6;
  }
  if (state_ != 6) return Status::Internal(Name() + ": transfer requested in TWAIN state " + std::to_string(state_));
  if (cancel != nullptr && cancel->load()) {
    ResetPending();
    return Status::Cancelled(Name() + ": scan cancelled");
  }
  Result<CapturedPage> page = memory_ ? MemoryTransfer(cancel) : NativeTransfer();
  if (!page.ok()) {
    ResetPending();
    done_ = page.status().code() != StatusCode::kDeviceError;
    return page.status();
  }
  // 7 -> 6 or 5: the pending count says whether the feeder has more.
  TW_PENDINGXFERS p{};
  if (dsm_->Call(&ds_, DG_CONTROL, DAT_PENDINGXFERS, MSG_ENDXFER, &p) != TWRC_SUCCESS) {
    Status s = Fail("cannot end the transfer (MSG_ENDXFER)");
    ResetPending();
    return s;
  }
  if (p.Count == 0) {
    state_ = 5;
    ResetPending();
    done_ = true;
  } else {
    state_ = 6;
  }
  ++pages_;
  page->sequence = pages_;
  page->side = duplex_ && pages_ % 2 == 0 ? Side::kBack : Side::kFront;
  return std::optional<CapturedPage>(std::move(*page));
}

Result<CapturedPage> TwainSource::MemoryTransfer(const std::atomic<bool>* cancel) {
  TW_IMAGEINFO info{};
  if (dsm_->Call(&ds_, DG_IMAGE, DAT_IMAGEINFO, MSG_GET, &info) != TWRC_SUCCESS) return Fail("cannot read DAT_IMAGEINFO");
  TW_SETUPMEMXFER setup{};
  if (dsm_->Call(&ds_, DG_CONTROL, DAT_SETUPMEMXFER, MSG_GET, &setup) != TWRC_SUCCESS) {
    return Fail("cannot read DAT_SETUPMEMXFER");
  }
  const int bpp = info.BitsPerPixel;
  const int channels = info.SamplesPerPixel == 3 ? 3 : 1;
  if (info.ImageWidth <= 0 || (bpp != 1 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 48) || info.Planar) {
    return Status::DeviceError(Name() + ": unsupported image layout (" + std::to_string(bpp) + " bits per pixel" +
                               (info.Planar ? ", planar" : "") + ")");
  }
  const size_t row_bytes = (static_cast<size_t>(info.ImageWidth) * bpp + 7) / 8;
  std::vector<uint8_t> image;  // packed rows, grown as strips arrive
  if (info.ImageLength > 0) image.resize(row_bytes * static_cast<size_t>(info.ImageLength));
  const TW_UINT32 buf_size = std::max<TW_UINT32>(setup.Preferred, std::max<TW_UINT32>(setup.MinBufSize, 1));
  std::vector<uint8_t> buf(buf_size);
  state_ = 7;
  size_t rows_done = 0;
  for (;;) {
    if (cancel != nullptr && cancel->load()) return Status::Cancelled(Name() + ": scan cancelled mid-page");
    TW_IMAGEMEMXFER x{};
    x.Compression = 0xffff;  // TWON_DONTCARE16
    x.Memory.Flags = TWMF_APPOWNS | TWMF_POINTER;
    x.Memory.Length = buf_size;
    x.Memory.TheMem = buf.data();
    TW_UINT16 rc = dsm_->Call(&ds_, DG_IMAGE, DAT_IMAGEMEMXFER, MSG_GET, &x);
    if (rc == TWRC_CANCEL) return Status::Cancelled(Name() + ": transfer cancelled on the device");
    if (rc != TWRC_SUCCESS && rc != TWRC_XFERDONE) return Fail("transfer of page " + std::to_string(pages_ + 1) + " failed");
    if (x.Compression != TWCP_NONE) return Status::DeviceError(Name() + ": sent a compressed strip, none was asked");
    // Place the strip by its offsets: strips may come in any order, and a
    // source may send tiles (XOffset) narrower than the page.
    const size_t x_byte = static_cast<size_t>(x.XOffset) * bpp / 8;
    const size_t strip_row = (static_cast<size_t>(x.Columns) * bpp + 7) / 8;
    if (x.Rows > 0 && (x.BytesPerRow < strip_row || x_byte + strip_row > row_bytes ||
                       static_cast<size_t>(x.BytesPerRow) * x.Rows > x.BytesWritten + x.BytesPerRow ||
                       x.BytesWritten > buf_size)) {
      return Status::DeviceError(Name() + ": strip geometry does not fit the page");
    }
    size_t needed = (static_cast<size_t>(x.YOffset) + x.Rows) * row_bytes;
    if (needed > image.size()) image.resize(needed);
    for (TW_UINT32 r = 0; r < x.Rows; ++r) {
      std::memcpy(&image[(x.YOffset + r) * row_bytes + x_byte], &buf[static_cast<size_t>(r) * x.BytesPerRow], strip_row);
    }
    rows_done = std::max(rows_done, static_cast<size_t>(x.YOffset) + x.Rows);
    if (rc == TWRC_XFERDONE) break;
  }
  const int rows = static_cast<int>(info.ImageLength > 0 ? info.ImageLength : rows_done);
  if (rows_done < static_cast<size_t>(rows)) {
    return Status::DeviceError(Name() + ": page ended after " + std::to_string(rows_done) + " of " +
                               std::to_string(rows) + " rows");
  }
  CapturedPage page;
  page.dpi_x = Fix32ToDouble(info.XResolution);
  page.dpi_y = Fix32ToDouble(info.YResolution);
  const int depth = bpp / channels;
  page.bits_per_sample = depth;
  const int w = info.ImageWidth;
  if (depth == 1) {
    // TWPF_CHOCOLATE (TWAIN's default pixel flavour): 0 is black.
    page.image.create(rows, w, CV_8UC1);
    for (int y = 0; y < rows; ++y) {
      const uint8_t* src = &image[static_cast<size_t>(y) * row_bytes];
      for (int x = 0; x < w; ++x) page.image.at<uint8_t>(y, x) = ((src[x >> 3] >> (7 - (x & 7))) & 1) ? 255 : 0;
    }
  } else {
    int type = depth == 16 ? (channels == 3 ? CV_16UC3 : CV_16UC1) : (channels == 3 ? CV_8UC3 : CV_8UC1);
    page.image.create(rows, w, type);
    const size_t es = depth / 8;
    for (int y = 0; y < rows; ++y) {
      const uint8_t* src = &image[static_cast<size_t>(y) * row_bytes];
      uint8_t* dst = page.image.ptr<uint8_t>(y);
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < channels; ++c) {
          int to = channels == 3 ? 2 - c : 0;  // RGB -> BGR
          std::memcpy(dst + (static_cast<size_t>(x) * channels + to) * es, src + (static_cast<size_t>(x) * channels + c) * es, es);
        }
      }
    }
  }
  return page;
}

// Native transfer: one handle holding a DIB (BITMAPINFOHEADER, palette,
// bottom-up rows padded to 4 bytes), owned by us once handed over.
Result<CapturedPage> TwainSource::NativeTransfer() {
  TW_HANDLE h = nullptr;
  state_ = 7;
  TW_UINT16 rc = dsm_->Call(&ds_, DG_IMAGE, DAT_IMAGENATIVEXFER, MSG_GET, &h);
  if (rc == TWRC_CANCEL) return Status::Cancelled(Name() + ": transfer cancelled on the device");
  if (rc != TWRC_XFERDONE) return Fail("native transfer of page " + std::to_string(pages_ + 1) + " failed");
  if (h == nullptr) return Status::DeviceError(Name() + ": native transfer gave no image");
  const uint8_t* p = static_cast<const uint8_t*>(dsm_->Lock(h));
  auto le32 = [](const uint8_t* b) { return int32_t(b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24)); };
  auto le16 = [](const uint8_t* b) { return int(b[0] | (b[1] << 8)); };
  const int32_t header = le32(p);
  const int32_t w = le32(p + 4);
  const int32_t h_signed = le32(p + 8);
  const int bits = le16(p + 14);
  const int32_t compression = le32(p + 16);
  const int32_t xppm = le32(p + 24), yppm = le32(p + 28);
  int32_t colors = le32(p + 32);
  Status bad;
  CapturedPage page;
  if (header < 40 || w <= 0 || h_signed == 0 || compression != 0 || (bits != 1 && bits != 8 && bits != 24) ||
      int64_t(w) * std::abs(int64_t(h_signed)) > 300'000'000) {
    bad = Status::DeviceError(Name() + ": native image is not an uncompressed 1/8/24-bit DIB");
  } else {
    if (colors == 0 && bits <= 8) colors = 1 << bits;
    if (bits == 24) colors = 0;
    const uint8_t* palette = p + header;
    const uint8_t* pixels = palette + 4 * colors;
    const int rows = std::abs(h_signed);
    const size_t stride = ((static_cast<size_t>(w) * bits + 31) / 32) * 4;
    page.image.create(rows, w, bits == 24 ? CV_8UC3 : CV_8UC1);
    page.bits_per_sample = bits == 24 ? 8 : bits;
    for (int y = 0; y < rows; ++y) {
      const uint8_t* src = pixels + stride * static_cast<size_t>(h_signed > 0 ? rows - 1 - y : y);
      for (int x = 0; x < w; ++x) {
        if (bits == 24) {
          cv::Vec3b& d = page.image.at<cv::Vec3b>(y, x);
          d = cv::Vec3b(src[3 * x], src[3 * x + 1], src[3 * x + 2]);  // DIB is BGR already
        } else {
          int idx = bits == 8 ? src[x] : (src[x >> 3] >> (7 - (x & 7))) & 1;
          const uint8_t* q = palette + 4 * std::min(idx, colors - 1);  // B, G, R, 0
          page.image.at<uint8_t>(y, x) = static_cast<uint8_t>((q[0] + q[1] + q[2]) / 3);
        }
      }
    }
    page.dpi_x = xppm > 0 ? xppm * 0.0254 : 0;
    page.dpi_y = yppm > 0 ? yppm * 0.0254 : 0;
  }
  dsm_->Unlock(h);
  dsm_->Free(h);
  if (!bad.ok()) return bad;
  return page;
}

}  // namespace

Result<std::vector<ScannerInfo>> ListTwainSources(const TwainOptions& options) {
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<Dsm> dsm, Dsm::Load(options.dsm_path));
  ACERVO_ASSIGN_OR_RETURN(std::vector<TW_IDENTITY> ids, dsm->Sources());
  std::vector<ScannerInfo> out;
  for (const TW_IDENTITY& id : ids) {
    out.push_back({Str32(id.ProductName), Str32(id.Manufacturer), Str32(id.ProductFamily), "TWAIN data source"});
  }
  return out;
}

Result<std::unique_ptr<Source>> OpenTwainSource(const ScanSettings& settings, const TwainOptions& options) {
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<Dsm> dsm, Dsm::Load(options.dsm_path));
  TW_IDENTITY chosen{};
  if (settings.device.empty()) {
    if (dsm->Call(nullptr, DG_CONTROL, DAT_IDENTITY, MSG_GETDEFAULT, &chosen) != TWRC_SUCCESS) {
      return Status::NotFound("the TWAIN DSM has no default data source; name one with --device");
    }
  } else {
    ACERVO_ASSIGN_OR_RETURN(std::vector<TW_IDENTITY> ids, dsm->Sources());
    std::string names;
    bool found = false;
    for (const TW_IDENTITY& id : ids) {
      names += (names.empty() ? "" : ", ") + Str32(id.ProductName);
      if (Str32(id.ProductName) == settings.device) {
        chosen = id;
        found = true;
      }
    }
    if (!found) {
      return Status::NotFound("no TWAIN data source '" + settings.device + "'; " +
                              (names.empty() ? "the DSM knows no sources" : "sources: " + names));
    }
  }
  auto source = std::make_unique<TwainSource>(std::move(dsm), chosen);
  ACERVO_RETURN_IF_ERROR(source->Open(settings, options));
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace acervo
