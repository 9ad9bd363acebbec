// A TWAIN host for tests that lies: it speaks the wire protocol
// (twain_wire.h) until the first page, then sends what ACERVO_TEST_ROGUE
// names, as a host whose vendor code scribbled on its memory might:
//   ring-offset  a strip said to lie outside the shared ring
//   oversize     a frame header announcing a 1 GiB payload
//   geometry     a strip with more rows than the page has
//   huge-page    a page of 100000 x 100000 pixels
//   garbage      random bytes where a frame should be
// The capturing process must turn each into a DeviceError and stay intact.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "twain_wire.h"

using namespace acervo::twain_wire;  // NOLINT

namespace {

void Heartbeat(int fd) {
  uint8_t zero[20] = {};
  (void)WriteFrame(fd, Frame::kHeartbeat, std::span<const uint8_t>(zero, sizeof(zero)));
}

void PageBegin(int fd, int32_t w, int32_t h) {
  acervo::TwainPageInfo i;
  i.width = w;
  i.length = h;
  i.bits_per_pixel = 8;
  i.samples_per_pixel = 1;
  i.pixel_type = 1;  // gray
  i.x_resolution = i.y_resolution = 300;
  WireWriter b;
  PutPageInfo(b, i);
  (void)WriteFrame(fd, Frame::kPageBegin, b.data());
}

}  // namespace

int main() {
  const int fd = 3;
  const std::string what = std::getenv("ACERVO_TEST_ROGUE") ? std::getenv("ACERVO_TEST_ROGUE") : "";
  WireWriter hello;
  hello.U32(kProtocolVersion);
  hello.U32(static_cast<uint32_t>(::getpid()));
  (void)WriteFrame(fd, Frame::kHello, hello.data());
  for (;;) {
    acervo::Result<std::optional<FrameIn>> f = ReadFrameBlocking(fd);
    if (!f.ok() || !f->has_value()) return 0;
    if ((*f)->type == Frame::kOpen) {
      WireWriter w;
      w.Str("Rogue Source");
      w.U32(0);
      (void)WriteFrame(fd, Frame::kOpened, w.data());
    } else if ((*f)->type == Frame::kClose) {
      return 0;
    } else if ((*f)->type == Frame::kNext) {
      if (what == "ring-offset") {
        PageBegin(fd, 100, 100);
        WireWriter w;
        w.U64(uint64_t(1) << 40);
        w.U32(100 * 10);
        w.U32(8);
        PutStrip(w, acervo::TwainStrip{0, 0, 100, 10, 100, 0});
        (void)WriteFrame(fd, Frame::kStripInRing, w.data());
      } else if (what == "oversize") {
        uint32_t header[2] = {static_cast<uint32_t>(Frame::kStrip), 1u << 30};
        (void)::write(fd, header, sizeof(header));
      } else if (what == "geometry") {
        PageBegin(fd, 100, 100);
        std::string rows(100 * 50, 'x');
        WireWriter w;
        PutStrip(w, acervo::TwainStrip{0, 80, 100, 50, 100, 0});  // rows 80..129 of 100
        (void)WriteFrame(fd, Frame::kStrip, w.data(),
                         std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(rows.data()), rows.size()));
      } else if (what == "huge-page") {
        PageBegin(fd, 100000, 100000);
      } else if (what == "garbage") {
        uint8_t junk[4096];
        for (uint8_t& b : junk) b = static_cast<uint8_t>(std::rand());
        (void)::write(fd, junk, sizeof(junk));
      }
      // Keep the heartbeat going: only the capturing process's checks stop this.
      for (;;) {
        Heartbeat(fd);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
}
