#include "twain_wire.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace acervo::twain_wire {

std::string WireReader::Str() {
  const uint32_t n = U32();
  if (!ok_ || data_.size() - pos_ < n) {
    ok_ = false;
    return {};
  }
  std::string s(reinterpret_cast<const char*>(data_.data() + pos_), n);
  pos_ += n;
  return s;
}

std::span<const uint8_t> WireReader::Rest() {
  if (!ok_) return {};
  std::span<const uint8_t> r = data_.subspan(pos_);
  pos_ = data_.size();
  return r;
}

Status WriteFrame(int fd, Frame type, std::span<const uint8_t> head, std::span<const uint8_t> body) {
  const size_t size = head.size() + body.size();
  if (size > kMaxFramePayload) return Status::Internal("TWAIN wire frame too large");
  uint32_t header[2] = {static_cast<uint32_t>(type), static_cast<uint32_t>(size)};
  iovec iov[3] = {{header, sizeof(header)}, {}, {}};
  int n_iov = 1;
  for (std::span<const uint8_t> part : {head, body}) {
    if (!part.empty()) iov[n_iov++] = {const_cast<uint8_t*>(part.data()), part.size()};
  }
  iovec* cur = iov;
  while (n_iov > 0) {
    msghdr m{};
    m.msg_iov = cur;
    m.msg_iovlen = static_cast<size_t>(n_iov);
    ssize_t w = ::sendmsg(fd, &m, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("TWAIN wire write failed: ") + std::strerror(errno));
    }
    size_t done = static_cast<size_t>(w);
    while (n_iov > 0 && done >= cur->iov_len) {
      done -= cur->iov_len;
      ++cur;
      --n_iov;
    }
    if (n_iov > 0) {
      cur->iov_base = static_cast<uint8_t*>(cur->iov_base) + done;
      cur->iov_len -= done;
    }
  }
  return Status::OK();
}

namespace {

// Reads exactly n bytes; false with *eof at a clean end before any byte.
Status ReadExactly(int fd, uint8_t* p, size_t n, bool* eof) {
  size_t got = 0;
  *eof = false;
  while (got < n) {
    ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("TWAIN wire read failed: ") + std::strerror(errno));
    }
    if (r == 0) {
      if (got == 0) {
        *eof = true;
        return Status::OK();
      }
      return Status::Corrupt("TWAIN wire: stream ended inside a frame");
    }
    got += static_cast<size_t>(r);
  }
  return Status::OK();
}

}  // namespace

Result<std::optional<FrameIn>> ReadFrameBlocking(int fd) {
  uint32_t header[2];
  bool eof = false;
  ACERVO_RETURN_IF_ERROR(ReadExactly(fd, reinterpret_cast<uint8_t*>(header), sizeof(header), &eof));
  if (eof) return std::optional<FrameIn>();
  if (header[1] > kMaxFramePayload) return Status::Corrupt("TWAIN wire: oversized frame");
  FrameIn f{static_cast<Frame>(header[0]), std::vector<uint8_t>(header[1])};
  if (header[1] > 0) {
    ACERVO_RETURN_IF_ERROR(ReadExactly(fd, f.payload.data(), f.payload.size(), &eof));
    if (eof) return Status::Corrupt("TWAIN wire: stream ended inside a frame");
  }
  return std::optional<FrameIn>(std::move(f));
}

Result<std::optional<FrameIn>> FrameReader::Poll() {
  for (;;) {
    const size_t have = buf_.size() - start_;
    size_t need = 8;
    if (have >= 8) {
      uint32_t header[2];
      std::memcpy(header, buf_.data() + start_, 8);
      if (header[1] > kMaxFramePayload) return Status::Corrupt("TWAIN wire: oversized frame");
      need = 8 + size_t(header[1]);
      if (have >= need) {
        FrameIn f{static_cast<Frame>(header[0]),
                  std::vector<uint8_t>(buf_.begin() + static_cast<ptrdiff_t>(start_ + 8),
                                       buf_.begin() + static_cast<ptrdiff_t>(start_ + need))};
        start_ += need;
        return std::optional<FrameIn>(std::move(f));
      }
    }
    if (eof_) {
      if (have > 0) return Status::Corrupt("TWAIN wire: stream ended inside a frame");
      return std::optional<FrameIn>();
    }
    // Make room: drop what was consumed, then read at least the rest of the
    // current frame (and whatever else is there, up to 256 KiB more).
    if (start_ > 0) {
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(start_));
      start_ = 0;
    }
    const size_t old = buf_.size();
    buf_.resize(old + std::max(need - have, size_t(256) << 10));
    ssize_t r = ::recv(fd_, buf_.data() + old, buf_.size() - old, MSG_DONTWAIT);
    buf_.resize(old + static_cast<size_t>(std::max<ssize_t>(r, 0)));
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::optional<FrameIn>();
      return Status::IOError(std::string("TWAIN wire read failed: ") + std::strerror(errno));
    }
    if (r == 0) eof_ = true;
  }
}

std::vector<uint8_t> EncodeOpen(const OpenRequest& r) {
  WireWriter w;
  w.Str(r.dsm_path);
  w.Str(r.device);
  w.Str(r.source);
  w.Str(r.mode);
  w.F64(r.resolution);
  w.U32(r.duplex ? 1 : 0);
  w.Str(r.transfer);
  return w.data();
}

Result<OpenRequest> DecodeOpen(std::span<const uint8_t> payload) {
  WireReader rd(payload);
  OpenRequest r;
  r.dsm_path = rd.Str();
  r.device = rd.Str();
  r.source = rd.Str();
  r.mode = rd.Str();
  r.resolution = rd.F64();
  r.duplex = rd.U32() != 0;
  r.transfer = rd.Str();
  if (!rd.ok()) return Status::Corrupt("TWAIN wire: malformed Open");
  return r;
}

std::vector<uint8_t> EncodeError(const Status& s) {
  WireWriter w;
  w.U32(static_cast<uint32_t>(s.code()));
  w.Str(s.message());
  return w.data();
}

Status DecodeError(std::span<const uint8_t> payload) {
  WireReader rd(payload);
  uint32_t code = rd.U32();
  std::string msg = rd.Str();
  if (!rd.ok() || code == 0 || code > static_cast<uint32_t>(StatusCode::kInternal)) {
    return Status::Corrupt("TWAIN wire: malformed Error");
  }
  return Status(static_cast<StatusCode>(code), std::move(msg));
}

void PutPageInfo(WireWriter& w, const TwainPageInfo& i) {
  w.I32(i.width);
  w.I32(i.length);
  w.I32(i.bits_per_pixel);
  w.I32(i.samples_per_pixel);
  w.I32(i.pixel_type);
  w.I32(i.pixel_flavor);
  w.U32(i.planar ? 1 : 0);
  w.U32(i.native ? 1 : 0);
  w.F64(i.x_resolution);
  w.F64(i.y_resolution);
}

bool GetPageInfo(WireReader& rd, TwainPageInfo* i) {
  i->width = rd.I32();
  i->length = rd.I32();
  i->bits_per_pixel = rd.I32();
  i->samples_per_pixel = rd.I32();
  i->pixel_type = rd.I32();
  i->pixel_flavor = rd.I32();
  i->planar = rd.U32() != 0;
  i->native = rd.U32() != 0;
  i->x_resolution = rd.F64();
  i->y_resolution = rd.F64();
  return rd.ok();
}

void PutStrip(WireWriter& w, const TwainStrip& s) {
  for (uint32_t v : {s.x_offset, s.y_offset, s.columns, s.rows, s.bytes_per_row, s.compression}) w.U32(v);
}

TwainStrip GetStrip(WireReader& rd) {
  TwainStrip s;
  for (uint32_t* v : {&s.x_offset, &s.y_offset, &s.columns, &s.rows, &s.bytes_per_row, &s.compression}) *v = rd.U32();
  return s;
}

}  // namespace acervo::twain_wire
