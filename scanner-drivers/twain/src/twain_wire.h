// The wire between `acervo scan` and the TWAIN host process
// (acervo-twain-host), which alone loads the DSM and the vendor's data source.
//
// One AF_UNIX stream socket pair (a bidirectional pipe) carries frames: an
// 8-byte header {uint32 type, uint32 payload size} in host byte order (both
// ends are the same machine and build) and the payload. The capturing
// process sends commands (List, Open, Next, Cancel, Close); the host answers
// with events and pages (Sources, Opened, PageBegin, Strip..., NativeChunk...,
// PageEnd, EndOfFeed, Error) and sends a Heartbeat four times a second from
// a thread of its own, saying which TWAIN call the vendor code is in and for
// how long, so that a hang is seen without trusting the vendor code to
// report it. Payloads are sequences of fixed-size integers, doubles and
// length-prefixed strings (WireWriter/WireReader); a reader never trusts a
// size it is given: every read is bounds-checked and frames are capped at
// kMaxFramePayload.
//
// Thread-safety: WireWriter/WireReader are values; WriteFrame may be called
// from several threads when the caller serialises them (the host holds a
// mutex). Nothing here allocates in WriteFrame, so the host's heartbeat
// thread can use it even when vendor code has corrupted the heap.
#ifndef ACERVO_SCANNER_TWAIN_WIRE_H_
#define ACERVO_SCANNER_TWAIN_WIRE_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

// What DAT_IMAGEINFO said about the page about to arrive, plus what the
// session knows (pixel flavour, mechanism).
struct TwainPageInfo {
  int32_t width = 0;
  int32_t length = 0;  // -1 when unknown before the transfer
  int32_t bits_per_pixel = 0;
  int32_t samples_per_pixel = 0;
  int32_t pixel_type = 0;    // TWPT_*
  int32_t pixel_flavor = 0;  // TWPF_CHOCOLATE or TWPF_VANILLA
  bool planar = false;
  bool native = false;       // the page comes as NativeBytes, not strips
  double x_resolution = 0, y_resolution = 0;
};

// One strip of a memory transfer as the source described it.
struct TwainStrip {
  uint32_t x_offset = 0, y_offset = 0, columns = 0, rows = 0, bytes_per_row = 0;
  uint32_t compression = 0;
};

}  // namespace acervo

namespace acervo::twain_wire {

enum class Frame : uint32_t {
  // Capturing process -> host.
  kList = 1,    // DSM path: answer Sources or Error
  kOpen = 2,    // OpenRequest: answer Opened or Error
  kNext = 3,    // answer PageBegin, Strip.../NativeChunk..., PageEnd; or EndOfFeed; or Error
  kCancel = 4,  // may arrive at any time; the page in transit is dropped
  kClose = 5,   // walk the TWAIN states down and exit 0
  kAck = 6,     // u64: strips/chunks taken out of the shared ring so far
  // Host -> capturing process.
  kHello = 100,
  kHeartbeat = 101,
  kSources = 102,
  kOpened = 103,
  kPageBegin = 104,
  kStrip = 105,
  kNativeChunk = 106,
  kPageEnd = 107,
  kEndOfFeed = 108,
  kError = 109,
  kStripInRing = 110,   // a strip the source wrote into the shared ring
  kNativeInRing = 111,  // a chunk of a native image copied into the ring
};

// The shared ring: a memfd the capturing process creates, sizes and seals
// (no shrinking or growing, so its mapping can never fault), maps read-only
// and passes to the host, which maps it writable and lends its slots to the
// source as the TW_MEMORY of each DAT_IMAGEMEMXFER. A strip then crosses the
// boundary as a frame naming its slot {u64 offset, u32 bytes, u32 slots,
// geometry}; the capturing process copies it out (it never trusts the ring
// for anything but pixels: offsets and sizes come from the frame and are
// checked) and acknowledges cumulatively (kAck) at least every quarter ring
// and at each page's end; the host reuses a slot only once acknowledged.
// Without a ring (or when a strip buffer exceeds half of it) strips travel
// inline in kStrip frames.
inline constexpr size_t kRingBytes = 4u << 20;

// Strips are at most the transfer buffer (capped at 16 MiB by the host),
// native images travel in chunks of kNativeChunkBytes.
inline constexpr uint32_t kMaxFramePayload = 32u << 20;
inline constexpr size_t kNativeChunkBytes = 1u << 20;
inline constexpr uint32_t kProtocolVersion = 1;

struct FrameIn {
  Frame type;
  std::vector<uint8_t> payload;
};

class WireWriter {
 public:
  void U32(uint32_t v) { Put(&v, 4); }
  void I32(int32_t v) { Put(&v, 4); }
  void U64(uint64_t v) { Put(&v, 8); }
  void F64(double v) { Put(&v, 8); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Put(s.data(), s.size());
  }
  void Bytes(std::span<const uint8_t> b) { Put(b.data(), b.size()); }
  const std::vector<uint8_t>& data() const { return data_; }

 private:
  void Put(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    data_.insert(data_.end(), b, b + n);
  }
  std::vector<uint8_t> data_;
};

// Reads a payload; after any failed read ok() is false and every later read
// returns zero values, so a caller checks once at the end.
class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> data) : data_(data) {}
  uint32_t U32() { return Get<uint32_t>(); }
  int32_t I32() { return Get<int32_t>(); }
  uint64_t U64() { return Get<uint64_t>(); }
  double F64() { return Get<double>(); }
  std::string Str();
  std::span<const uint8_t> Rest();
  bool ok() const { return ok_; }

 private:
  template <typename T>
  T Get() {
    T v{};
    if (!ok_ || data_.size() - pos_ < sizeof(T)) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Writes one frame whose payload is `head` followed by `body` (so a strip's
// pixels are sent from where they are, not copied behind its header first).
// Blocking; retries on EINTR and short writes; never raises SIGPIPE; does
// not allocate unless it fails. IOError when the other end is gone.
Status WriteFrame(int fd, Frame type, std::span<const uint8_t> head, std::span<const uint8_t> body = {});

// Reads one frame, blocking. nullopt at a clean end of stream (between
// frames); Corrupt for a torn frame or an oversized payload; IOError else.
Result<std::optional<FrameIn>> ReadFrameBlocking(int fd);

// Incremental reader for a socket: Poll() reads (without blocking) what is
// available and returns a complete frame when there is one, nullopt when more
// bytes are needed (the caller waits with poll()). `eof()` after the peer
// closed the stream.
class FrameReader {
 public:
  explicit FrameReader(int fd) : fd_(fd) {}
  Result<std::optional<FrameIn>> Poll();
  bool eof() const { return eof_; }

 private:
  // Bytes received and not yet returned as frames: [start_, buf_.size()).
  // Small frames (a batch of strip notices) come out of one recv().
  int fd_;
  std::vector<uint8_t> buf_;
  size_t start_ = 0;
  bool eof_ = false;
};

// The pieces of the protocol both ends build or parse.
struct OpenRequest {
  std::string dsm_path;
  std::string device;    // product name; empty: the DSM's default source
  std::string source;    // "", "adf", "flatbed"
  std::string mode;      // "", "bw", "gray", "color"
  double resolution = 0;
  bool duplex = false;
  std::string transfer;  // "", "memory", "native"
};
std::vector<uint8_t> EncodeOpen(const OpenRequest& r);
Result<OpenRequest> DecodeOpen(std::span<const uint8_t> payload);

std::vector<uint8_t> EncodeError(const Status& s);
Status DecodeError(std::span<const uint8_t> payload);

// PageBegin's payload. Decode: false when malformed.
void PutPageInfo(WireWriter& w, const TwainPageInfo& i);
bool GetPageInfo(WireReader& rd, TwainPageInfo* i);
// A strip's geometry (Strip and StripInRing frames), six u32.
void PutStrip(WireWriter& w, const TwainStrip& s);
TwainStrip GetStrip(WireReader& rd);

}  // namespace acervo::twain_wire

#endif  // ACERVO_SCANNER_TWAIN_WIRE_H_
