// TwainSession: the application side of TWAIN 2.x, i.e. the only code that
// calls into the Data Source Manager and, through it, the vendor's data
// source. It runs in the TWAIN host process (acervo-twain-host), never in
// the process that writes masters; the benchmark also runs it in-process to
// measure what the process boundary costs.
//
// It walks the TWAIN states: load the DSM (2), MSG_OPENDSM (3) with
// Acervo's TW_IDENTITY (protocol 2.4, DF_APP2, DSM memory functions from
// DAT_ENTRYPOINT), MSG_OPENDS (4) and DAT_CALLBACK, capability negotiation,
// MSG_ENABLEDS without UI (5), MSG_XFERREADY (6), one transfer per page (7),
// MSG_ENDXFER, and back down to 1 at destruction.
//
// Negotiation (state 4): ICAP_XFERMECH (memory when offered, else native),
// ICAP_PIXELTYPE, ICAP_X/YRESOLUTION, CAP_FEEDERENABLED and
// CAP_DUPLEXENABLED only when asked (otherwise their current values are
// read: the device's defaults are kept), CAP_INDICATORS FALSE (no progress
// window: capture runs from terminals and services), CAP_XFERCOUNT -1 unless
// the feeder is off (1), and ICAP_PIXELFLAVOR read so 1-bit and gray pages
// are read the way the source means them.
//
// Pages go to a TwainPageSink as they arrive: memory transfers strip by strip
// with their offsets, native transfers as the bytes of the handle (a TIFF on
// Linux, a DIB on Windows; the size is worked out from the headers because
// a DSM handle carries none). Decoding is left to the sink.
//
// TwainCallWatch says which DSM call is running and since when, so another
// thread can report a hang in vendor code.
//
// Thread-safety: one thread drives a session (TWAIN is single-threaded);
// only the TwainCallWatch is read from other threads. One session per
// process (the DSM callback has no user pointer).
#ifndef ACERVO_SCANNER_TWAIN_SESSION_H_
#define ACERVO_SCANNER_TWAIN_SESSION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/scanner/twain_protocol.h"
#include "twain_wire.h"

namespace acervo {

// Which DSM call is in progress: `since_ms` is a steady-clock time in
// milliseconds (0: none), `what` is (DAT << 16) | MSG.
struct TwainCallWatch {
  std::atomic<int64_t> since_ms{0};
  std::atomic<uint32_t> what{0};
};

// "DAT_IMAGEMEMXFER/MSG_GET" for a TwainCallWatch::what value.
std::string TwainCallName(uint32_t what);

struct TwainSourceId {
  std::string name, manufacturer, family;
};

class TwainPageSink {
 public:
  virtual ~TwainPageSink() = default;
  virtual Status Begin(const TwainPageInfo& info) = 0;
  // Where the source should write the next strip of `size` bytes (the
  // TW_MEMORY it is given), or null for the session's own buffer. The host
  // hands out slots of the memory it shares with the capturing process, so
  // strips cross the process boundary without being copied.
  virtual uint8_t* StripBuffer(size_t size) {
    (void)size;
    return nullptr;
  }
  // `bytes` is where the source wrote them (StripBuffer's or the session's).
  virtual Status Strip(const TwainStrip& strip, std::span<const uint8_t> bytes) = 0;
  virtual Status NativeBytes(std::span<const uint8_t> bytes) = 0;
};

class TwainSession {
 public:
  ~TwainSession();

  // Loads the DSM (empty path: libtwaindsm.so) and opens it. Unavailable when
  // it cannot be loaded (names the library and dlerror()). `watch` may be null.
  static Result<std::unique_ptr<TwainSession>> Load(const std::string& dsm_path, TwainCallWatch* watch);

  Result<std::vector<TwainSourceId>> List();

  // Opens the source and negotiates (see the file comment). NotFound lists
  // the sources; InvalidArgument names the capability and what is offered.
  Status Open(const twain_wire::OpenRequest& request);

  // Transfers the next page into `sink`: true when a page was delivered,
  // false when the feeder is empty. DeviceError for device faults (jam,
  // cover open...), Cancelled when `cancel` became true or the source
  // cancelled; the states are walked back to 4 on every failure.
  Result<bool> NextPage(TwainPageSink& sink, const std::atomic<bool>* cancel);

  std::string product_name() const;
  bool duplex() const { return duplex_; }
  int pending() const { return pending_; }

 private:
  class Dsm;
  TwainSession() = default;
  std::string Name() const;
  Status Fail(const std::string& during);
  Result<std::vector<uint32_t>> GetValues(uint16_t cap, uint16_t* item_type, bool* is_range, bool* is_list,
                                          twain::TW_RANGE* range);
  Result<uint32_t> GetCurrent(uint16_t cap);
  Status SetOne(uint16_t cap, uint16_t type, uint32_t value, const std::string& what);
  Status Negotiate(uint16_t cap, uint16_t type, uint32_t value, const std::string& what, const std::string& shown);
  Status WaitForXferReady(const std::atomic<bool>* cancel);
  Status MemoryTransfer(TwainPageSink& sink, const std::atomic<bool>* cancel);
  Status NativeTransfer(TwainPageSink& sink);
  Status EndTransfer();
  void ResetPending();
  void Shutdown();

  std::unique_ptr<Dsm> dsm_;
  twain::TW_IDENTITY ds_{};
  int state_ = 3;
  bool memory_ = true;
  bool duplex_ = false;
  bool done_ = false;
  int pending_ = 0;
  int pages_ = 0;
  uint16_t flavor_ = 0;
};

}  // namespace acervo

#endif  // ACERVO_SCANNER_TWAIN_SESSION_H_
