#include "twain_session.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <utility>

namespace acervo {
namespace {
using namespace twain;  // NOLINT: the protocol's own names read best unqualified

// Pseudo-calls for the watch: loading and unloading run vendor code too
// (library constructors and destructors).
constexpr uint32_t kWhatLoad = 0xffff0001;
constexpr uint32_t kWhatUnload = 0xffff0002;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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

// ---- Native images: how many bytes the handle holds. A DSM handle carries
// no size, so it is read from the image's own headers (TIFF IFD, DIB header).
// Reading vendor memory this way is only done in the host process, where a
// lie that faults ends that process, not the capture.
constexpr uint64_t kMaxNativeBytes = 2'000'000'000;

Result<size_t> TiffExtent(const uint8_t* p) {
  const bool le = p[0] == 'I';
  auto u16 = [&](uint64_t o) -> uint32_t { return le ? p[o] | (p[o + 1] << 8) : (p[o] << 8) | p[o + 1]; };
  auto u32 = [&](uint64_t o) -> uint32_t {
    return le ? uint32_t(p[o]) | (uint32_t(p[o + 1]) << 8) | (uint32_t(p[o + 2]) << 16) | (uint32_t(p[o + 3]) << 24)
              : (uint32_t(p[o]) << 24) | (uint32_t(p[o + 1]) << 16) | (uint32_t(p[o + 2]) << 8) | uint32_t(p[o + 3]);
  };
  const uint64_t ifd = u32(4);
  if (ifd < 8 || ifd > kMaxNativeBytes) return Status::DeviceError("native TIFF has a bad first IFD offset");
  const uint32_t n = u16(ifd);
  if (n == 0 || n > 1000) return Status::DeviceError("native TIFF has an implausible tag count");
  uint64_t end = ifd + 2 + 12ull * n + 4;
  std::vector<uint64_t> offsets, counts;
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t e = ifd + 2 + 12ull * i;
    const uint32_t tag = u16(e), type = u16(e + 2);
    const uint64_t count = u32(e + 4);
    static constexpr int kTypeSize[] = {1, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
    const uint64_t size = count * (type < 14 ? kTypeSize[type] : 1);
    if (count > (1u << 28)) return Status::DeviceError("native TIFF has an implausible tag");
    const uint64_t at = size <= 4 ? e + 8 : u32(e + 8);
    if (size > 4) end = std::max(end, at + size);
    if (end > kMaxNativeBytes) return Status::DeviceError("native TIFF is larger than 2 GB");
    if (tag == 273 || tag == 279 || tag == 324 || tag == 325) {  // strip/tile offsets and byte counts
      std::vector<uint64_t>& dst = (tag == 273 || tag == 324) ? offsets : counts;
      for (uint64_t k = 0; k < count; ++k) dst.push_back(type == 3 ? u16(at + 2 * k) : u32(at + 4 * k));
    }
  }
  if (offsets.empty() || offsets.size() != counts.size()) {
    return Status::DeviceError("native TIFF has no consistent strip offsets and byte counts");
  }
  for (size_t i = 0; i < offsets.size(); ++i) end = std::max(end, offsets[i] + counts[i]);
  if (end > kMaxNativeBytes) return Status::DeviceError("native TIFF is larger than 2 GB");
  return static_cast<size_t>(end);
}

Result<size_t> DibExtent(const uint8_t* p) {
  auto le32 = [&](int o) { return int64_t(int32_t(p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (uint32_t(p[o + 3]) << 24))); };
  const int64_t header = le32(0), w = le32(4), h = std::abs(le32(8));
  const int bits = p[14] | (p[15] << 8);
  const int64_t compression = le32(16), size_image = le32(20), used = le32(32);
  if (w <= 0 || h <= 0 || bits <= 0 || bits > 64 || w * h > 2'000'000'000) {
    return Status::DeviceError("native DIB has an implausible size");
  }
  int64_t colors = bits <= 8 ? (used > 0 ? std::min<int64_t>(used, 256) : int64_t(1) << bits) : 0;
  int64_t masks = (compression == 3 && header == 40) ? 12 : 0;  // BI_BITFIELDS
  int64_t pixels = (compression == 0 || compression == 3) ? ((w * bits + 31) / 32) * 4 * h : size_image;
  const uint64_t end = uint64_t(header + masks + 4 * colors + pixels);
  if (pixels <= 0 || end > kMaxNativeBytes) return Status::DeviceError("native DIB has an implausible size");
  return static_cast<size_t>(end);
}

Result<size_t> NativeExtent(const uint8_t* p) {
  if ((p[0] == 'I' && p[1] == 'I' && p[2] == 42 && p[3] == 0) || (p[0] == 'M' && p[1] == 'M' && p[2] == 0 && p[3] == 42)) {
    return TiffExtent(p);
  }
  const uint32_t header = p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24);
  if (header == 40 || header == 52 || header == 56 || header == 108 || header == 124) return DibExtent(p);
  return Status::DeviceError("native image is neither a TIFF nor a DIB");
}

}  // namespace

std::string TwainCallName(uint32_t what) {
  if (what == kWhatLoad) return "loading the DSM and its sources";
  if (what == kWhatUnload) return "unloading the DSM";
  auto dat = [](uint16_t d) -> std::string {
    switch (d) {
      case DAT_CAPABILITY: return "DAT_CAPABILITY";
      case DAT_IDENTITY: return "DAT_IDENTITY";
      case DAT_PARENT: return "DAT_PARENT";
      case DAT_PENDINGXFERS: return "DAT_PENDINGXFERS";
      case DAT_SETUPMEMXFER: return "DAT_SETUPMEMXFER";
      case DAT_STATUS: return "DAT_STATUS";
      case DAT_USERINTERFACE: return "DAT_USERINTERFACE";
      case DAT_CALLBACK: return "DAT_CALLBACK";
      case DAT_ENTRYPOINT: return "DAT_ENTRYPOINT";
      case DAT_IMAGEINFO: return "DAT_IMAGEINFO";
      case DAT_IMAGEMEMXFER: return "DAT_IMAGEMEMXFER";
      case DAT_IMAGENATIVEXFER: return "DAT_IMAGENATIVEXFER";
      default: return "DAT " + std::to_string(d);
    }
  };
  auto msg = [](uint16_t m) -> std::string {
    switch (m) {
      case MSG_GET: return "MSG_GET";
      case MSG_GETCURRENT: return "MSG_GETCURRENT";
      case MSG_GETDEFAULT: return "MSG_GETDEFAULT";
      case MSG_GETFIRST: return "MSG_GETFIRST";
      case MSG_GETNEXT: return "MSG_GETNEXT";
      case MSG_SET: return "MSG_SET";
      case MSG_RESET: return "MSG_RESET";
      case MSG_OPENDSM: return "MSG_OPENDSM";
      case MSG_CLOSEDSM: return "MSG_CLOSEDSM";
      case MSG_OPENDS: return "MSG_OPENDS";
      case MSG_CLOSEDS: return "MSG_CLOSEDS";
      case MSG_DISABLEDS: return "MSG_DISABLEDS";
      case MSG_ENABLEDS: return "MSG_ENABLEDS";
      case MSG_ENDXFER: return "MSG_ENDXFER";
      case MSG_REGISTER_CALLBACK: return "MSG_REGISTER_CALLBACK";
      default: return "MSG " + std::to_string(m);
    }
  };
  return dat(static_cast<uint16_t>(what >> 16)) + "/" + msg(static_cast<uint16_t>(what & 0xffff));
}

// The loaded DSM and our identity: TWAIN states 2 (loaded) and 3 (open).
// Every call into it goes through Call(), which the watch sees.
class TwainSession::Dsm {
 public:
  ~Dsm() {
    if (open_) Call(nullptr, DG_CONTROL, DAT_PARENT, MSG_CLOSEDSM, &parent_);
    if (lib_ != nullptr) {
      Begin(kWhatUnload);
      ::dlclose(lib_);
      End();
    }
  }

  static Result<std::unique_ptr<Dsm>> Load(const std::string& path, TwainCallWatch* watch) {
    std::unique_ptr<Dsm> d(new Dsm());
    d->watch_ = watch;
    std::string lib = path.empty() ? "libtwaindsm.so" : path;
    d->Begin(kWhatLoad);
    d->lib_ = ::dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    d->End();
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
    TW_UINT16 rc = d->Call(nullptr, DG_CONTROL, DAT_PARENT, MSG_OPENDSM, &d->parent_);
    if (rc != TWRC_SUCCESS) {
      return Status::Unavailable("TWAIN DSM " + lib + " refused MSG_OPENDSM: " + ConditionText(d->Condition(nullptr)));
    }
    d->open_ = true;
    // TWAIN 2 memory functions: containers and native images are DSM memory.
    if (d->app_.SupportedGroups & DF_DSM2) {
      TW_ENTRYPOINT ep{};
      ep.Size = sizeof(ep);
      if (d->Call(nullptr, DG_CONTROL, DAT_ENTRYPOINT, MSG_GET, &ep) == TWRC_SUCCESS) d->ep_ = ep;
    }
    return d;
  }

  // A vendor exception thrown through DSM_Entry becomes TWRC_FAILURE and is
  // remembered: the source's state is unknown after it, so it ends the
  // session as a device fault.
  TW_UINT16 Call(TW_IDENTITY* dest, TW_UINT32 dg, TW_UINT16 dat, TW_UINT16 msg, TW_MEMREF data) {
    Begin((uint32_t(dat) << 16) | msg);
    TW_UINT16 rc = TWRC_FAILURE;
    try {
      rc = entry_(&app_, dest, dg, dat, msg, data);
    } catch (const std::bad_alloc&) {
      exception_ = "vendor code ran out of memory (std::bad_alloc) in " + TwainCallName((uint32_t(dat) << 16) | msg);
    } catch (const std::exception& e) {
      exception_ = std::string("vendor code threw '") + e.what() + "' in " + TwainCallName((uint32_t(dat) << 16) | msg);
    } catch (...) {
      exception_ = "vendor code threw an exception in " + TwainCallName((uint32_t(dat) << 16) | msg);
    }
    End();
    return rc;
  }
  TW_UINT16 Condition(TW_IDENTITY* dest) {
    TW_STATUS st{};
    Call(dest, DG_CONTROL, DAT_STATUS, MSG_GET, &st);
    return st.ConditionCode;
  }
  std::string TakeException() { return std::exchange(exception_, std::string()); }
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

 private:
  Dsm() = default;
  void Begin(uint32_t what) {
    if (watch_ == nullptr) return;
    watch_->what.store(what);
    watch_->since_ms.store(NowMs());
  }
  void End() {
    if (watch_ != nullptr) watch_->since_ms.store(0);
  }

  void* lib_ = nullptr;
  DSMENTRYPROC entry_ = nullptr;
  TW_IDENTITY app_{};
  TW_ENTRYPOINT ep_{};
  void* parent_ = nullptr;  // no window on Linux
  bool open_ = false;
  TwainCallWatch* watch_ = nullptr;
  std::string exception_;
};

TwainSession::~TwainSession() { Shutdown(); }

Result<std::unique_ptr<TwainSession>> TwainSession::Load(const std::string& dsm_path, TwainCallWatch* watch) {
  std::unique_ptr<TwainSession> s(new TwainSession());
  ACERVO_ASSIGN_OR_RETURN(s->dsm_, Dsm::Load(dsm_path, watch));
  return s;
}

Result<std::vector<TwainSourceId>> TwainSession::List() {
  ACERVO_ASSIGN_OR_RETURN(std::vector<TW_IDENTITY> ids, dsm_->Sources());
  std::vector<TwainSourceId> out;
  for (const TW_IDENTITY& id : ids) out.push_back({Str32(id.ProductName), Str32(id.Manufacturer), Str32(id.ProductFamily)});
  return out;
}

std::string TwainSession::product_name() const { return Str32(ds_.ProductName); }
std::string TwainSession::Name() const { return "TWAIN source '" + Str32(ds_.ProductName) + "'"; }

Status TwainSession::Fail(const std::string& during) {
  std::string thrown = dsm_->TakeException();
  if (!thrown.empty()) return Status::DeviceError(Name() + ": " + during + ": " + thrown);
  TW_UINT16 cc = dsm_->Condition(&ds_);
  std::string msg = Name() + ": " + during + ": " + ConditionText(cc);
  // Every condition during a transfer pauses the lot: jams, double feeds, an
  // open cover, an offline device and the source's own failures are all
  // things an operator clears before resuming; so is a source out of memory.
  return Status::DeviceError(msg);
}

Result<std::vector<uint32_t>> TwainSession::GetValues(uint16_t cap, uint16_t* item_type, bool* is_range,
                                                      bool* is_list, TW_RANGE* range) {
  TW_CAPABILITY c{cap, 0, nullptr};
  if (dsm_->Call(&ds_, DG_CONTROL, DAT_CAPABILITY, MSG_GET, &c) != TWRC_SUCCESS) {
    return Status::NotFound("capability " + std::to_string(cap));
  }
  std::vector<uint32_t> values;
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
    for (TW_UINT32 i = 0; i < std::min<TW_UINT32>(e->NumItems, 4096); ++i) {
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

// The current value of a capability (MSG_GETCURRENT). NotFound when the
// source does not support it.
Result<uint32_t> TwainSession::GetCurrent(uint16_t cap) {
  TW_CAPABILITY c{cap, 0, nullptr};
  if (dsm_->Call(&ds_, DG_CONTROL, DAT_CAPABILITY, MSG_GETCURRENT, &c) != TWRC_SUCCESS || c.hContainer == nullptr) {
    dsm_->TakeException();
    return Status::NotFound("capability " + std::to_string(cap));
  }
  Result<uint32_t> out = Status::NotFound("capability " + std::to_string(cap) + " has no current value");
  void* p = dsm_->Lock(c.hContainer);
  if (c.ConType == TWON_ONEVALUE) {
    auto* one = static_cast<TW_ONEVALUE*>(p);
    out = one->ItemType == TWTY_UINT16 || one->ItemType == TWTY_BOOL || one->ItemType == TWTY_INT16
              ? one->Item & 0xffff
              : one->Item;
  } else if (c.ConType == TWON_ENUMERATION) {
    // Some sources answer GETCURRENT with the whole enumeration.
    auto* e = static_cast<TW_ENUMERATION*>(p);
    const size_t size = e->ItemType == TWTY_FIX32 || e->ItemType == TWTY_UINT32 || e->ItemType == TWTY_INT32 ? 4 : 2;
    if (e->CurrentIndex < e->NumItems) {
      TW_UINT32 v = 0;
      std::memcpy(&v, e->ItemList + e->CurrentIndex * size, size);
      out = v;
    }
  }
  dsm_->Unlock(c.hContainer);
  dsm_->Free(c.hContainer);
  return out;
}

Status TwainSession::SetOne(uint16_t cap, uint16_t type, uint32_t value, const std::string& what) {
  TW_CAPABILITY c{cap, TWON_ONEVALUE, dsm_->Alloc(sizeof(TW_ONEVALUE))};
  if (c.hContainer == nullptr) return Status::Unavailable("out of memory negotiating " + what);
  auto* one = static_cast<TW_ONEVALUE*>(dsm_->Lock(c.hContainer));
  one->ItemType = type;
  one->Item = value;
  dsm_->Unlock(c.hContainer);
  TW_UINT16 rc = dsm_->Call(&ds_, DG_CONTROL, DAT_CAPABILITY, MSG_SET, &c);
  dsm_->Free(c.hContainer);
  if (rc == TWRC_SUCCESS || rc == TWRC_CHECKSTATUS) return Status::OK();
  std::string thrown = dsm_->TakeException();
  if (!thrown.empty()) return Status::DeviceError(Name() + " failed setting " + what + ": " + thrown);
  return Status::InvalidArgument(Name() + " refused " + what + ": " + ConditionText(dsm_->Condition(&ds_)));
}

// Checks the value against what the source offers (so the error can list
// it), then sets it.
Status TwainSession::Negotiate(uint16_t cap, uint16_t type, uint32_t value, const std::string& what,
                               const std::string& shown) {
  TW_UINT16 item_type = type;
  bool is_range = false, is_list = false;
  TW_RANGE range{};
  Result<std::vector<uint32_t>> offered = GetValues(cap, &item_type, &is_range, &is_list, &range);
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
    for (uint32_t v : *offered) {
      uint32_t masked = (type == TWTY_UINT16 || type == TWTY_BOOL || type == TWTY_INT16) ? (v & 0xffff) : v;
      found |= masked == value;
      list += (list.empty() ? "" : ", ") + ShowValue(item_type, masked);
    }
    if (!found) {
      return Status::InvalidArgument(Name() + ": " + what + " " + shown + " is not offered; it offers " + list);
    }
  }
  return SetOne(cap, type, value, what + " " + shown);
}

Status TwainSession::Open(const twain_wire::OpenRequest& r) {
  // Which source: the named one, else the DSM's default.
  if (r.device.empty()) {
    if (dsm_->Call(nullptr, DG_CONTROL, DAT_IDENTITY, MSG_GETDEFAULT, &ds_) != TWRC_SUCCESS) {
      return Status::NotFound("the TWAIN DSM has no default data source; name one with --device");
    }
  } else {
    ACERVO_ASSIGN_OR_RETURN(std::vector<TW_IDENTITY> ids, dsm_->Sources());
    std::string names;
    bool found = false;
    for (const TW_IDENTITY& id : ids) {
      names += (names.empty() ? "" : ", ") + Str32(id.ProductName);
      if (Str32(id.ProductName) == r.device) {
        ds_ = id;
        found = true;
      }
    }
    if (!found) {
      return Status::NotFound("no TWAIN data source '" + r.device + "'; " +
                              (names.empty() ? "the DSM knows no sources" : "sources: " + names));
    }
  }
  // State 3 -> 4. TWAIN 2 registers the message callback after MSG_OPENDS,
  // addressed to the source it is for.
  if (dsm_->Call(nullptr, DG_CONTROL, DAT_IDENTITY, MSG_OPENDS, &ds_) != TWRC_SUCCESS) {
    std::string thrown = dsm_->TakeException();
    return Status::Unavailable("cannot open " + Name() + ": " +
                               (thrown.empty() ? ConditionText(dsm_->Condition(nullptr)) : thrown));
  }
  state_ = 4;
  TW_CALLBACK cb{reinterpret_cast<TW_MEMREF>(&OnTwainMessage), 0, 0};
  if (dsm_->Call(&ds_, DG_CONTROL, DAT_CALLBACK, MSG_REGISTER_CALLBACK, &cb) != TWRC_SUCCESS) {
    return Status::Unavailable(Name() + ": the DSM refused the message callback (a TWAIN 2 DSM is needed)");
  }
  // Transfer mechanism: memory (strips, no size limit on our side) unless
  // the source has only native.
  if (r.transfer == "native") {
    ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_XFERMECH, TWTY_UINT16, TWSX_NATIVE, "ICAP_XFERMECH", "native"));
    memory_ = false;
  } else {
    Status m = Negotiate(ICAP_XFERMECH, TWTY_UINT16, TWSX_MEMORY, "ICAP_XFERMECH", "memory");
    if (!m.ok()) {
      if (r.transfer == "memory") return m;
      ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_XFERMECH, TWTY_UINT16, TWSX_NATIVE, "ICAP_XFERMECH", "native"));
      memory_ = false;
    }
  }
  if (!r.mode.empty()) {
    TW_UINT32 pt = r.mode == "bw" ? TWPT_BW : r.mode == "gray" ? TWPT_GRAY : r.mode == "color" ? TWPT_RGB : 99;
    if (pt == 99) return Status::InvalidArgument("--mode must be bw, gray or color, not '" + r.mode + "'");
    ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_PIXELTYPE, TWTY_UINT16, pt, "ICAP_PIXELTYPE", r.mode));
  }
  if (r.resolution > 0) {
    TW_FIX32 f = DoubleToFix32(r.resolution);
    TW_UINT32 v = 0;
    std::memcpy(&v, &f, 4);
    char shown[32];
    std::snprintf(shown, sizeof(shown), "%g dpi", r.resolution);
    ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_XRESOLUTION, TWTY_FIX32, v, "ICAP_XRESOLUTION", shown));
    ACERVO_RETURN_IF_ERROR(Negotiate(ICAP_YRESOLUTION, TWTY_FIX32, v, "ICAP_YRESOLUTION", shown));
  }
  // The feeder and duplex are set only when asked; otherwise the device's
  // current setting stands and is read, so the transfer count and the sides
  // follow what the device will really do (a feeder on by default feeds
  // every sheet).
  bool feeder_off = false;
  if (r.source == "adf" || r.source == "flatbed") {
    const bool feeder = r.source == "adf";
    ACERVO_RETURN_IF_ERROR(Negotiate(CAP_FEEDERENABLED, TWTY_BOOL, feeder ? 1 : 0, "CAP_FEEDERENABLED",
                                     feeder ? "true" : "false"));
    feeder_off = !feeder;
  } else if (!r.source.empty()) {
    return Status::InvalidArgument("--source must be flatbed or adf, not '" + r.source + "'");
  } else {
    Result<uint32_t> current = GetCurrent(CAP_FEEDERENABLED);
    feeder_off = current.ok() && *current == 0;
  }
  if (r.duplex) {
    ACERVO_RETURN_IF_ERROR(Negotiate(CAP_DUPLEXENABLED, TWTY_BOOL, 1, "CAP_DUPLEXENABLED", "true"));
    duplex_ = true;
  } else {
    Result<uint32_t> current = GetCurrent(CAP_DUPLEXENABLED);
    duplex_ = current.ok() && *current != 0;
  }
  // No progress window: without a display some sources abort the process
  // (the official sample's Qt window). A source without the capability has
  // no indicators to turn off.
  if (!SetOne(CAP_INDICATORS, TWTY_BOOL, 0, "CAP_INDICATORS false").ok()) dsm_->TakeException();
  // -1: transfer every sheet in the feeder; a flatbed gives one.
  ACERVO_RETURN_IF_ERROR(SetOne(CAP_XFERCOUNT, TWTY_INT16, feeder_off ? 1 : 0xffff, "CAP_XFERCOUNT"));
  // How to read 1-bit and gray samples; TWAIN's default is chocolate.
  Result<uint32_t> flavor = GetCurrent(ICAP_PIXELFLAVOR);
  flavor_ = flavor.ok() && *flavor == TWPF_VANILLA ? TWPF_VANILLA : TWPF_CHOCOLATE;
  return Status::OK();
}

Status TwainSession::WaitForXferReady(const std::atomic<bool>* cancel) {
  CallbackSlot& slot = Slot();
  std::unique_lock<std::mutex> lock(slot.mu);
  // Sources may spend a while warming up or wait for paper; the operator can
  // always cancel.
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

// Back to state 4 from wherever a failed or cancelled transfer left us, one
// legal step at a time: MSG_ENDXFER (7 -> 6, or 5 when its count is 0),
// MSG_RESET only from 6, MSG_DISABLEDS from 5.
void TwainSession::ResetPending() {
  TW_PENDINGXFERS p{};
  if (state_ == 7) {
    if (dsm_->Call(&ds_, DG_CONTROL, DAT_PENDINGXFERS, MSG_ENDXFER, &p) == TWRC_SUCCESS) {
      state_ = p.Count == 0 ? 5 : 6;
    } else {
      state_ = 6;  // the source refused: try the reset from 6 anyway
    }
  }
  if (state_ == 6) {
    p = TW_PENDINGXFERS{};
    dsm_->Call(&ds_, DG_CONTROL, DAT_PENDINGXFERS, MSG_RESET, &p);
    state_ = 5;
  }
  if (state_ == 5) {
    TW_USERINTERFACE ui{0, 0, nullptr};
    dsm_->Call(&ds_, DG_CONTROL, DAT_USERINTERFACE, MSG_DISABLEDS, &ui);
    state_ = 4;
  }
  dsm_->TakeException();
}

void TwainSession::Shutdown() {
  if (dsm_ == nullptr) return;
  if (state_ >= 5) ResetPending();
  if (state_ == 4) {
    dsm_->Call(nullptr, DG_CONTROL, DAT_IDENTITY, MSG_CLOSEDS, &ds_);
    state_ = 3;
  }
}

Status TwainSession::EndTransfer() {
  // 7 -> 6 or 5: the pending count says whether the feeder has more.
  TW_PENDINGXFERS p{};
  if (dsm_->Call(&ds_, DG_CONTROL, DAT_PENDINGXFERS, MSG_ENDXFER, &p) != TWRC_SUCCESS) {
    Status s = Fail("cannot end the transfer (MSG_ENDXFER)");
    ResetPending();
    return s;
  }
  pending_ = p.Count == 0xffff ? -1 : p.Count;
  if (p.Count == 0) {
    state_ = 5;
    TW_USERINTERFACE ui{0, 0, nullptr};
    dsm_->Call(&ds_, DG_CONTROL, DAT_USERINTERFACE, MSG_DISABLEDS, &ui);
    state_ = 4;
    done_ = true;
  } else {
    state_ = 6;
  }
  return Status::OK();
}

Result<bool> TwainSession::NextPage(TwainPageSink& sink, const std::atomic<bool>* cancel) {
  if (done_) return false;
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
  Status page = memory_ ? MemoryTransfer(sink, cancel) : NativeTransfer(sink);
  if (!page.ok()) {
    ResetPending();
    done_ = page.code() != StatusCode::kDeviceError;
    return page;
  }
  ACERVO_RETURN_IF_ERROR(EndTransfer());
  ++pages_;
  return true;
}

Status TwainSession::MemoryTransfer(TwainPageSink& sink, const std::atomic<bool>* cancel) {
  TW_IMAGEINFO info{};
  if (dsm_->Call(&ds_, DG_IMAGE, DAT_IMAGEINFO, MSG_GET, &info) != TWRC_SUCCESS) return Fail("cannot read DAT_IMAGEINFO");
  TW_SETUPMEMXFER setup{};
  if (dsm_->Call(&ds_, DG_CONTROL, DAT_SETUPMEMXFER, MSG_GET, &setup) != TWRC_SUCCESS) {
    return Fail("cannot read DAT_SETUPMEMXFER");
  }
  TwainPageInfo pi;
  pi.width = info.ImageWidth;
  pi.length = info.ImageLength;
  pi.bits_per_pixel = info.BitsPerPixel;
  pi.samples_per_pixel = info.SamplesPerPixel;
  pi.pixel_type = info.PixelType;
  pi.pixel_flavor = flavor_;
  pi.planar = info.Planar != 0;
  pi.x_resolution = Fix32ToDouble(info.XResolution);
  pi.y_resolution = Fix32ToDouble(info.YResolution);
  ACERVO_RETURN_IF_ERROR(sink.Begin(pi));
  // The source's preferred strip size, within [its minimum, 16 MiB].
  constexpr TW_UINT32 kMaxBuffer = 16u << 20;
  TW_UINT32 buf_size = std::max<TW_UINT32>(setup.Preferred, std::max<TW_UINT32>(setup.MinBufSize, 1));
  buf_size = std::min(buf_size, std::max(kMaxBuffer, setup.MinBufSize));
  if (buf_size > twain_wire::kMaxFramePayload - 64) {
    return Status::DeviceError(Name() + ": asks for a transfer buffer of " + std::to_string(setup.MinBufSize) + " bytes");
  }
  std::vector<uint8_t> own;
  state_ = 7;
  for (;;) {
    if (cancel != nullptr && cancel->load()) return Status::Cancelled(Name() + ": scan cancelled mid-page");
    uint8_t* mem = sink.StripBuffer(buf_size);
    if (mem == nullptr) {
      own.resize(buf_size);
      mem = own.data();
    }
    TW_IMAGEMEMXFER x{};
    x.Compression = 0xffff;  // TWON_DONTCARE16
    x.Memory.Flags = TWMF_APPOWNS | TWMF_POINTER;
    x.Memory.Length = buf_size;
    x.Memory.TheMem = mem;
    TW_UINT16 rc = dsm_->Call(&ds_, DG_IMAGE, DAT_IMAGEMEMXFER, MSG_GET, &x);
    if (rc == TWRC_CANCEL) return Status::Cancelled(Name() + ": transfer cancelled on the device");
    if (rc != TWRC_SUCCESS && rc != TWRC_XFERDONE) return Fail("transfer of page " + std::to_string(pages_ + 1) + " failed");
    if (x.Compression != TWCP_NONE) return Status::DeviceError(Name() + ": sent a compressed strip, none was asked");
    if (x.BytesWritten > buf_size) return Status::DeviceError(Name() + ": says it wrote more than the strip buffer");
    TwainStrip st{x.XOffset, x.YOffset, x.Columns, x.Rows, x.BytesPerRow, x.Compression};
    ACERVO_RETURN_IF_ERROR(sink.Strip(st, std::span<const uint8_t>(mem, x.BytesWritten)));
    if (rc == TWRC_XFERDONE) break;
  }
  return Status::OK();
}

// Native transfer: one handle holding an image file (a TIFF from sources on
// Linux and macOS, a DIB on Windows), owned by us once handed over.
Status TwainSession::NativeTransfer(TwainPageSink& sink) {
  TwainPageInfo pi;
  pi.native = true;
  pi.pixel_flavor = flavor_;
  TW_IMAGEINFO info{};
  if (dsm_->Call(&ds_, DG_IMAGE, DAT_IMAGEINFO, MSG_GET, &info) == TWRC_SUCCESS) {
    pi.width = info.ImageWidth;
    pi.length = info.ImageLength;
    pi.bits_per_pixel = info.BitsPerPixel;
    pi.samples_per_pixel = info.SamplesPerPixel;
    pi.pixel_type = info.PixelType;
    pi.x_resolution = Fix32ToDouble(info.XResolution);
    pi.y_resolution = Fix32ToDouble(info.YResolution);
  } else {
    dsm_->Condition(&ds_);  // clear it: IMAGEINFO is optional before a native transfer
  }
  TW_HANDLE h = nullptr;
  state_ = 7;
  TW_UINT16 rc = dsm_->Call(&ds_, DG_IMAGE, DAT_IMAGENATIVEXFER, MSG_GET, &h);
  if (rc == TWRC_CANCEL) return Status::Cancelled(Name() + ": transfer cancelled on the device");
  if (rc != TWRC_XFERDONE) {
    state_ = 6;  // a failed native transfer never left state 6
    return Fail("native transfer of page " + std::to_string(pages_ + 1) + " failed");
  }
  if (h == nullptr) return Status::DeviceError(Name() + ": native transfer gave no image");
  const uint8_t* p = static_cast<const uint8_t*>(dsm_->Lock(h));
  Status s;
  Result<size_t> size = NativeExtent(p);
  if (!size.ok()) {
    s = Status::DeviceError(Name() + ": " + size.status().message());
  } else {
    s = sink.Begin(pi);
    if (s.ok()) s = sink.NativeBytes(std::span<const uint8_t>(p, *size));
  }
  dsm_->Unlock(h);
  dsm_->Free(h);
  return s;
}

}  // namespace acervo
