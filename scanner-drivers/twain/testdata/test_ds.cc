// A TWAIN data source for tests ("Acervo Test Source"), built as a shared
// library and reached through the test DSM from the TWAIN host. It keeps the
// TWAIN state machine strictly (a triplet in the wrong state fails with
// TWCC_SEQERROR and is logged as "seqerror ..."), offers the capabilities the
// driver negotiates, and feeds synthetic sheets whose pixels encode the
// sheet number: sample(x, y) = (x + 3y + 17 * sheet) & 255 (RGB: channel c
// adds 85c; BW: white where ((x / 8 + y / 8 + sheet) & 1)).
//
// Where it matters, it behaves like the TWAIN Working Group's sample source
// (twain-samples Twain_DS_sample01) as measured on Linux: native transfers
// hand over a TIFF; CAP_INDICATORS is TRUE by default and, with it, enabling
// the source opens a progress window, which without a display aborts the
// process as Qt does; the feeder is on by default; MSG_XFERREADY is sent
// from inside MSG_ENABLEDS; the default CAP_XFERCOUNT is -1. Unlike it, it
// can also be a vanilla source (ICAP_PIXELFLAVOR: 0 is white).
//
// Scenario from the environment, read at MSG_OPENDS:
//   ACERVO_TEST_TWAIN_PAGES       sheets in the feeder (default 5)
//   ACERVO_TEST_TWAIN_FIRST_SHEET number of the first sheet (default 1)
//   ACERVO_TEST_TWAIN_JAM_AT      sheet whose transfer jams mid-page
//   ACERVO_TEST_TWAIN_CANCEL_AT   sheet whose transfer is cancelled mid-page
//   ACERVO_TEST_TWAIN_CRASH_AT    sheet whose transfer crashes (SIGSEGV)
//   ACERVO_TEST_TWAIN_HANG_AT     sheet whose transfer never returns
//   ACERVO_TEST_TWAIN_RUNAWAY_AT  sheet whose transfer allocates without
//                                 bound; when allocation fails it aborts
//                                 (ACERVO_TEST_TWAIN_RUNAWAY_MODE=abort, as
//                                 g_malloc does) or throws std::bad_alloc
//                                 (=throw); it stops at 2 GiB and hangs, so
//                                 a missing memory limit shows as a hang
//   ACERVO_TEST_TWAIN_MECHS       "memory,native" (default) or "native"
//   ACERVO_TEST_TWAIN_NATIVE      "tiff" (default, as on Linux) or "dib"
//   ACERVO_TEST_TWAIN_FEEDER_DEFAULT  1 (default) or 0
//   ACERVO_TEST_TWAIN_FLAVOR      "chocolate" (default) or "vanilla"
//   ACERVO_TEST_TWAIN_IGNORE_INDICATORS  1: CAP_INDICATORS FALSE is
//                                 accepted but the window opens anyway
//   ACERVO_TEST_TWAIN_PAPER       "a4": A4 at the negotiated resolution
//                                 (default: 203 x 157 pixels)
//   ACERVO_TEST_TWAIN_STRIP_ROWS  rows per strip (default 7; 0: as many as
//                                 the buffer holds)
//   ACERVO_TEST_TWAIN_STRIP_DELAY_MS  a slow scanner: this long per strip
//   ACERVO_TEST_TWAIN_BUFFER      the strip buffer it asks for in
//                                 DAT_SETUPMEMXFER (default 4096, or 65536
//                                 with STRIP_ROWS 0)
//   ACERVO_TEST_TWAIN_LOG         file receiving one line per state change,
//                                 capability set, sequence error and event
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "acervo/scanner/twain_protocol.h"

using namespace acervo::twain;  // NOLINT

namespace {

struct Ds {
  int state = 3;
  TW_IDENTITY self{};
  TW_IDENTITY app{};
  TW_ENTRYPOINT dsm{};
  TW_UINT16 condition = TWCC_SUCCESS;
  TW_UINT16 dat = 0, msg = 0;  // the triplet being handled (for the log)
  // Configuration.
  int pages = 5, first_sheet = 1, jam_at = 0, cancel_at = 0, crash_at = 0, hang_at = 0, runaway_at = 0;
  bool runaway_throws = false;
  bool memory_offered = true;
  bool native_dib = false;
  bool vanilla = false;
  bool ignore_indicators = false;
  bool a4 = false;
  int strip_rows = 7;
  int buffer = 0;
  int strip_delay_ms = 0;
  // Negotiated.
  TW_UINT16 mech = TWSX_NATIVE;
  TW_UINT16 pixel_type = TWPT_GRAY;
  double xres = 100, yres = 100;
  bool feeder = true, duplex = false, indicators = true;
  int xfer_count = -1;
  // Transfer.
  int width = 203, height = 157;  // not a multiple of 8 or 4: padding matters
  int sheet = 0;      // current sheet number
  int remaining = 0;  // pending transfers
  int next_row = 0;   // memory transfer progress
  int strips = 0;
} g;

void Log(const std::string& line) {
  const char* path = std::getenv("ACERVO_TEST_TWAIN_LOG");
  if (path == nullptr) return;
  if (FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%s\n", line.c_str());
    std::fclose(f);
  }
}

void SetState(int s) {
  g.state = s;
  Log("state " + std::to_string(s));
}

int EnvInt(const char* name, int def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : def;
}
std::string EnvStr(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

TW_UINT16 Fail(TW_UINT16 cc) {
  g.condition = cc;
  if (cc == TWCC_SEQERROR || cc == TWCC_CAPSEQERROR) {
    char line[80];
    std::snprintf(line, sizeof(line), "seqerror dat 0x%04x msg 0x%04x in state %d", g.dat, g.msg, g.state);
    Log(line);
  }
  return TWRC_FAILURE;
}

int BitsPerPixel() { return g.pixel_type == TWPT_BW ? 1 : g.pixel_type == TWPT_RGB ? 24 : 8; }
size_t RowBytes() { return (static_cast<size_t>(g.width) * BitsPerPixel() + 7) / 8; }

// One row as the source sends it: packed, RGB order, in its pixel flavour.
void Row(int y, uint8_t* out) {
  const int base = 3 * y + 17 * g.sheet;
  if (g.pixel_type == TWPT_BW) {
    std::memset(out, 0, RowBytes());
    for (int x = 0; x < g.width; ++x) {
      const bool white = ((x / 8 + y / 8 + g.sheet) & 1) != 0;
      if (white != g.vanilla) out[x >> 3] |= static_cast<uint8_t>(0x80 >> (x & 7));
    }
  } else if (g.pixel_type == TWPT_RGB) {
    for (int x = 0; x < g.width; ++x) {
      for (int c = 0; c < 3; ++c) out[3 * x + c] = static_cast<uint8_t>(x + base + 85 * c);
    }
  } else {
    const uint8_t flip = g.vanilla ? 0xff : 0;
    for (int x = 0; x < g.width; ++x) out[x] = static_cast<uint8_t>(x + base) ^ flip;
  }
}

// What a badly behaved vendor does, at the sheet the scenario names.
void MaybeMisbehave() {
  if (g.sheet == g.crash_at) {
    Log("crashing");
    ::raise(SIGSEGV);
  }
  if (g.sheet == g.hang_at) {
    Log("hanging");
    for (;;) ::pause();
  }
  if (g.sheet == g.runaway_at) {
    Log("allocating without bound");
    constexpr size_t kChunk = 64u << 20;
    size_t total = 0;
    for (;;) {
      void* p = std::malloc(kChunk);
      if (p == nullptr) {
        Log("allocation failed after " + std::to_string(total >> 20) + " MB");
        if (g.runaway_throws) throw std::bad_alloc();
        std::fprintf(stderr, "test source: out of memory after %zu MB\n", total >> 20);
        std::abort();
      }
      std::memset(p, 1, kChunk);  // really use it
      total += kChunk;
      if (total >= (size_t(2) << 30)) {  // no limit on this process: do not take the machine
        Log("runaway stopped at 2 GB: no memory limit");
        for (;;) ::pause();
      }
    }
  }
}

TW_HANDLE NewContainer(size_t size) { return g.dsm.DSM_MemAllocate(static_cast<TW_UINT32>(size)); }

TW_UINT16 GetOne(TW_CAPABILITY* cap, TW_UINT16 type, TW_UINT32 value) {
  cap->ConType = TWON_ONEVALUE;
  cap->hContainer = NewContainer(sizeof(TW_ONEVALUE));
  auto* one = static_cast<TW_ONEVALUE*>(g.dsm.DSM_MemLock(cap->hContainer));
  one->ItemType = type;
  one->Item = value;
  return TWRC_SUCCESS;
}

TW_UINT16 GetEnum16(TW_CAPABILITY* cap, const std::vector<TW_UINT16>& items, TW_UINT16 current) {
  cap->ConType = TWON_ENUMERATION;
  cap->hContainer = NewContainer(sizeof(TW_ENUMERATION) + 2 * items.size());
  auto* e = static_cast<TW_ENUMERATION*>(g.dsm.DSM_MemLock(cap->hContainer));
  e->ItemType = TWTY_UINT16;
  e->NumItems = static_cast<TW_UINT32>(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    std::memcpy(e->ItemList + 2 * i, &items[i], 2);
    if (items[i] == current) e->CurrentIndex = static_cast<TW_UINT32>(i);
  }
  return TWRC_SUCCESS;
}

TW_UINT16 GetResolution(TW_CAPABILITY* cap) {
  cap->ConType = TWON_RANGE;
  cap->hContainer = NewContainer(sizeof(TW_RANGE));
  auto* r = static_cast<TW_RANGE*>(g.dsm.DSM_MemLock(cap->hContainer));
  r->ItemType = TWTY_FIX32;
  TW_FIX32 lo = DoubleToFix32(50), hi = DoubleToFix32(600), step = DoubleToFix32(1);
  std::memcpy(&r->MinValue, &lo, 4);
  std::memcpy(&r->MaxValue, &hi, 4);
  std::memcpy(&r->StepSize, &step, 4);
  return TWRC_SUCCESS;
}

TW_UINT16 Capability(TW_UINT16 msg, TW_CAPABILITY* cap) {
  if (g.state != 4) return Fail(TWCC_CAPSEQERROR);  // negotiation only in state 4
  if (msg == MSG_GETCURRENT) {
    TW_FIX32 res = DoubleToFix32(cap->Cap == ICAP_XRESOLUTION ? g.xres : g.yres);
    TW_UINT32 res_bits = 0;
    std::memcpy(&res_bits, &res, 4);
    switch (cap->Cap) {
      case ICAP_XFERMECH: return GetOne(cap, TWTY_UINT16, g.mech);
      case ICAP_PIXELTYPE: return GetOne(cap, TWTY_UINT16, g.pixel_type);
      case ICAP_XRESOLUTION:
      case ICAP_YRESOLUTION: return GetOne(cap, TWTY_FIX32, res_bits);
      case CAP_FEEDERENABLED: return GetOne(cap, TWTY_BOOL, g.feeder);
      case CAP_DUPLEXENABLED: return GetOne(cap, TWTY_BOOL, g.duplex);
      case CAP_INDICATORS: return GetOne(cap, TWTY_BOOL, g.indicators);
      case CAP_XFERCOUNT: return GetOne(cap, TWTY_INT16, static_cast<TW_UINT16>(g.xfer_count));
      case ICAP_PIXELFLAVOR: return GetOne(cap, TWTY_UINT16, g.vanilla ? TWPF_VANILLA : TWPF_CHOCOLATE);
      default: return Fail(TWCC_CAPUNSUPPORTED);
    }
  }
  if (msg == MSG_GET) {
    switch (cap->Cap) {
      case ICAP_XFERMECH:
        return g.memory_offered ? GetEnum16(cap, {TWSX_NATIVE, TWSX_MEMORY}, g.mech) : GetEnum16(cap, {TWSX_NATIVE}, g.mech);
      case ICAP_PIXELTYPE: return GetEnum16(cap, {TWPT_BW, TWPT_GRAY, TWPT_RGB}, g.pixel_type);
      case ICAP_XRESOLUTION:
      case ICAP_YRESOLUTION: return GetResolution(cap);
      case CAP_FEEDERENABLED: return GetOne(cap, TWTY_BOOL, g.feeder);
      case CAP_DUPLEXENABLED: return GetOne(cap, TWTY_BOOL, g.duplex);
      case CAP_INDICATORS: return GetOne(cap, TWTY_BOOL, g.indicators);
      case CAP_XFERCOUNT: return GetOne(cap, TWTY_INT16, static_cast<TW_UINT16>(g.xfer_count));
      case ICAP_PIXELFLAVOR: {
        TW_UINT16 f = g.vanilla ? TWPF_VANILLA : TWPF_CHOCOLATE;
        return GetEnum16(cap, {f}, f);
      }
      default: return Fail(TWCC_CAPUNSUPPORTED);
    }
  }
  if (msg != MSG_SET) return Fail(TWCC_CAPBADOPERATION);
  if (cap->ConType != TWON_ONEVALUE) return Fail(TWCC_BADVALUE);
  auto* one = static_cast<TW_ONEVALUE*>(g.dsm.DSM_MemLock(cap->hContainer));
  TW_UINT32 v = one->Item;
  char line[80];
  std::snprintf(line, sizeof(line), "set 0x%04x %u", cap->Cap, v);
  Log(line);
  switch (cap->Cap) {
    case ICAP_XFERMECH:
      if (v != TWSX_NATIVE && !(v == TWSX_MEMORY && g.memory_offered)) return Fail(TWCC_BADVALUE);
      g.mech = static_cast<TW_UINT16>(v);
      return TWRC_SUCCESS;
    case ICAP_PIXELTYPE:
      if (v > TWPT_RGB) return Fail(TWCC_BADVALUE);
      g.pixel_type = static_cast<TW_UINT16>(v);
      return TWRC_SUCCESS;
    case ICAP_XRESOLUTION:
    case ICAP_YRESOLUTION: {
      TW_FIX32 f;
      std::memcpy(&f, &v, 4);
      double d = Fix32ToDouble(f);
      if (d < 50 || d > 600) return Fail(TWCC_BADVALUE);
      (cap->Cap == ICAP_XRESOLUTION ? g.xres : g.yres) = d;
      return TWRC_SUCCESS;
    }
    case CAP_FEEDERENABLED: g.feeder = (v & 0xffff) != 0; return TWRC_SUCCESS;
    case CAP_DUPLEXENABLED: g.duplex = (v & 0xffff) != 0; return TWRC_SUCCESS;
    case CAP_INDICATORS:
      if (!g.ignore_indicators) g.indicators = (v & 0xffff) != 0;
      return TWRC_SUCCESS;
    case CAP_XFERCOUNT: g.xfer_count = static_cast<int16_t>(v & 0xffff); return TWRC_SUCCESS;
    case ICAP_PIXELFLAVOR: return Fail(TWCC_CAPBADOPERATION);  // read-only here
    default: return Fail(TWCC_CAPUNSUPPORTED);
  }
}

TW_UINT16 Enable() {
  if (g.state != 4) return Fail(TWCC_SEQERROR);
  SetState(5);
  int sheets = g.feeder ? g.pages : std::min(g.pages, 1);
  if (g.xfer_count > 0) sheets = std::min(sheets, g.xfer_count);
  if (g.a4) {
    g.width = static_cast<int>(8.27 * g.xres + 0.5);
    g.height = static_cast<int>(11.69 * g.yres + 0.5);
  }
  // The progress window, as the official sample opens it with Qt: without a
  // display Qt aborts the whole process.
  if (g.indicators) {
    const char* display = std::getenv("DISPLAY");
    if (display == nullptr || *display == '\0') {
      std::fprintf(stderr, "qt.qpa.xcb: could not connect to display \n");
      std::fflush(stderr);
      std::abort();
    }
    Log("indicators shown");
  }
  if (sheets == 0) return TWRC_SUCCESS;  // nothing to scan: stays in 5
  g.remaining = sheets;
  g.sheet = g.first_sheet;
  g.next_row = 0;
  g.strips = 0;
  SetState(6);
  // Tell the application through the DSM from inside MSG_ENABLEDS, as the
  // official sample source does.
  g.dsm.DSM_Entry(&g.self, &g.app, DG_CONTROL, DAT_NULL, MSG_XFERREADY, nullptr);
  return TWRC_SUCCESS;
}

TW_UINT16 MemXfer(TW_IMAGEMEMXFER* x) {
  if ((g.state != 6 && g.state != 7) || g.mech != TWSX_MEMORY) return Fail(TWCC_SEQERROR);
  if (g.state == 6) SetState(7);
  ++g.strips;
  if (g.strip_delay_ms > 0) ::usleep(static_cast<useconds_t>(g.strip_delay_ms) * 1000);
  if (g.strips == 4) {
    if (g.sheet == g.jam_at) return Fail(TWCC_PAPERJAM);
    if (g.sheet == g.cancel_at) return TWRC_CANCEL;
    MaybeMisbehave();
  }
  const size_t rb = RowBytes();
  const size_t stride = rb + 3;  // a padded strip row, as real sources do
  if (x->Memory.Length < stride) return Fail(TWCC_BADVALUE);
  int rows = std::min<int>(static_cast<int>(x->Memory.Length / stride), g.height - g.next_row);
  if (g.strip_rows > 0) rows = std::min(rows, g.strip_rows);  // many small strips
  // Odd sheets go bottom-up: strips must be placed by YOffset, not order.
  bool reverse = g.sheet % 2 == 1;
  int y0 = reverse ? g.height - g.next_row - rows : g.next_row;
  auto* mem = static_cast<uint8_t*>(x->Memory.TheMem);
  for (int r = 0; r < rows; ++r) Row(y0 + r, mem + static_cast<size_t>(r) * stride);
  x->Compression = TWCP_NONE;
  x->BytesPerRow = static_cast<TW_UINT32>(stride);
  x->Columns = static_cast<TW_UINT32>(g.width);
  x->Rows = static_cast<TW_UINT32>(rows);
  x->XOffset = 0;
  x->YOffset = static_cast<TW_UINT32>(y0);
  x->BytesWritten = static_cast<TW_UINT32>(stride * rows);
  g.next_row += rows;
  return g.next_row >= g.height ? TWRC_XFERDONE : TWRC_SUCCESS;
}

void Le32(uint8_t* b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
}
void Le16(uint8_t* b, uint16_t v) {
  b[0] = static_cast<uint8_t>(v);
  b[1] = static_cast<uint8_t>(v >> 8);
}

// The native image as sources on Linux hand it over: an uncompressed
// single-strip TIFF (little-endian, 12 tags, like the sample's CTiffWriter),
// whose photometric interpretation follows the pixel flavour.
TW_HANDLE NativeTiff() {
  const int bits = BitsPerPixel();
  const int spp = g.pixel_type == TWPT_RGB ? 3 : 1;
  const size_t rb = RowBytes();
  const size_t ifd = 8, n_tags = 12, extra = ifd + 2 + 12 * n_tags + 4;
  const size_t bps_at = extra, xres_at = bps_at + 6, yres_at = xres_at + 8, data_at = yres_at + 8;
  const size_t size = data_at + rb * g.height;
  TW_HANDLE h = g.dsm.DSM_MemAllocate(static_cast<TW_UINT32>(size));
  auto* p = static_cast<uint8_t*>(g.dsm.DSM_MemLock(h));
  std::memcpy(p, "II*\0", 4);
  Le32(p + 4, ifd);
  Le16(p + ifd, n_tags);
  uint8_t* e = p + ifd + 2;
  auto tag = [&](uint16_t id, uint16_t type, uint32_t count, uint32_t value) {
    Le16(e, id);
    Le16(e + 2, type);
    Le32(e + 4, count);
    if (type == 3 && count == 1) {
      Le16(e + 8, static_cast<uint16_t>(value));
    } else {
      Le32(e + 8, value);
    }
    e += 12;
  };
  const uint16_t photometric = spp == 3 ? 2 : g.vanilla ? 0 : 1;  // RGB, MinIsWhite, MinIsBlack
  tag(256, 4, 1, static_cast<uint32_t>(g.width));
  tag(257, 4, 1, static_cast<uint32_t>(g.height));
  tag(258, 3, static_cast<uint32_t>(spp), spp == 3 ? static_cast<uint32_t>(bps_at) : static_cast<uint32_t>(bits));
  tag(259, 3, 1, 1);
  tag(262, 3, 1, photometric);
  tag(273, 4, 1, static_cast<uint32_t>(data_at));
  tag(277, 3, 1, static_cast<uint32_t>(spp));
  tag(278, 4, 1, static_cast<uint32_t>(g.height));
  tag(279, 4, 1, static_cast<uint32_t>(rb * g.height));
  tag(282, 5, 1, static_cast<uint32_t>(xres_at));
  tag(283, 5, 1, static_cast<uint32_t>(yres_at));
  tag(296, 3, 1, 2);  // inches
  Le32(e, 0);         // no next IFD
  for (int c = 0; c < 3; ++c) Le16(p + bps_at + 2 * c, 8);
  Le32(p + xres_at, static_cast<uint32_t>(g.xres + 0.5));
  Le32(p + xres_at + 4, 1);
  Le32(p + yres_at, static_cast<uint32_t>(g.yres + 0.5));
  Le32(p + yres_at + 4, 1);
  for (int y = 0; y < g.height; ++y) Row(y, p + data_at + rb * y);
  return h;
}

// The native image as Windows sources hand it over: a DIB with a palette
// (following the pixel flavour) and bottom-up rows.
TW_HANDLE NativeDib() {
  const int bits = BitsPerPixel();
  const int colors = bits <= 8 ? 1 << bits : 0;
  const size_t stride = ((static_cast<size_t>(g.width) * bits + 31) / 32) * 4;
  const size_t size = 40 + 4 * static_cast<size_t>(colors) + stride * g.height;
  TW_HANDLE h = g.dsm.DSM_MemAllocate(static_cast<TW_UINT32>(size));
  auto* p = static_cast<uint8_t*>(g.dsm.DSM_MemLock(h));
  Le32(p, 40);
  Le32(p + 4, static_cast<uint32_t>(g.width));
  Le32(p + 8, static_cast<uint32_t>(g.height));  // bottom-up
  p[12] = 1;
  p[14] = static_cast<uint8_t>(bits);
  Le32(p + 24, static_cast<uint32_t>(g.xres / 0.0254 + 0.5));
  Le32(p + 28, static_cast<uint32_t>(g.yres / 0.0254 + 0.5));
  Le32(p + 32, static_cast<uint32_t>(colors));
  for (int i = 0; i < colors; ++i) {
    uint8_t v = static_cast<uint8_t>(i * 255 / (colors - 1));
    if (g.vanilla) v = static_cast<uint8_t>(255 - v);
    p[40 + 4 * i] = p[41 + 4 * i] = p[42 + 4 * i] = v;
  }
  uint8_t* pixels = p + 40 + 4 * colors;
  std::vector<uint8_t> row(RowBytes());
  for (int y = 0; y < g.height; ++y) {
    Row(y, row.data());
    uint8_t* dst = pixels + stride * static_cast<size_t>(g.height - 1 - y);
    if (bits == 24) {
      for (int x = 0; x < g.width; ++x) {  // DIB rows are BGR
        dst[3 * x] = row[3 * x + 2];
        dst[3 * x + 1] = row[3 * x + 1];
        dst[3 * x + 2] = row[3 * x];
      }
    } else {
      std::memcpy(dst, row.data(), row.size());
    }
  }
  return h;
}

TW_UINT16 NativeXfer(TW_HANDLE* out) {
  if (g.state != 6 || g.mech != TWSX_NATIVE) return Fail(TWCC_SEQERROR);
  if (g.sheet == g.jam_at) return Fail(TWCC_PAPERJAM);  // a failed transfer stays in 6
  SetState(7);
  if (g.sheet == g.cancel_at) return TWRC_CANCEL;
  MaybeMisbehave();
  *out = g.native_dib ? NativeDib() : NativeTiff();
  return TWRC_XFERDONE;
}

TW_UINT16 Pending(TW_UINT16 msg, TW_PENDINGXFERS* p) {
  if (msg == MSG_ENDXFER) {
    if (g.state != 7 && g.state != 6) return Fail(TWCC_SEQERROR);
    --g.remaining;
    ++g.sheet;
    g.next_row = 0;
    g.strips = 0;
    p->Count = static_cast<TW_UINT16>(g.remaining);
    SetState(g.remaining > 0 ? 6 : 5);
    return TWRC_SUCCESS;
  }
  if (msg == MSG_RESET) {
    if (g.state != 6) return Fail(TWCC_SEQERROR);
    g.remaining = 0;
    p->Count = 0;
    SetState(5);
    return TWRC_SUCCESS;
  }
  return Fail(TWCC_BADPROTOCOL);
}

// Whether libtiff shares this process (FreeImage-style tag extenders chain
// to themselves when libtiff outlives a reload of the source).
bool LibtiffMapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libtiff") != std::string::npos) return true;
  }
  return false;
}

TW_UINT16 Open(TW_IDENTITY* origin, TW_IDENTITY* id) {
  if (g.state != 3) return Fail(TWCC_SEQERROR);
  TW_ENTRYPOINT keep = g.dsm;
  g = Ds{};
  g.dsm = keep;
  g.self = *id;
  g.app = *origin;
  g.pages = EnvInt("ACERVO_TEST_TWAIN_PAGES", 5);
  g.first_sheet = EnvInt("ACERVO_TEST_TWAIN_FIRST_SHEET", 1);
  g.jam_at = EnvInt("ACERVO_TEST_TWAIN_JAM_AT", 0);
  g.cancel_at = EnvInt("ACERVO_TEST_TWAIN_CANCEL_AT", 0);
  g.crash_at = EnvInt("ACERVO_TEST_TWAIN_CRASH_AT", 0);
  g.hang_at = EnvInt("ACERVO_TEST_TWAIN_HANG_AT", 0);
  g.runaway_at = EnvInt("ACERVO_TEST_TWAIN_RUNAWAY_AT", 0);
  g.runaway_throws = EnvStr("ACERVO_TEST_TWAIN_RUNAWAY_MODE") == "throw";
  const std::string mechs = EnvStr("ACERVO_TEST_TWAIN_MECHS");
  g.memory_offered = mechs.empty() || mechs.find("memory") != std::string::npos;
  g.native_dib = EnvStr("ACERVO_TEST_TWAIN_NATIVE") == "dib";
  g.feeder = EnvInt("ACERVO_TEST_TWAIN_FEEDER_DEFAULT", 1) != 0;
  g.vanilla = EnvStr("ACERVO_TEST_TWAIN_FLAVOR") == "vanilla";
  g.ignore_indicators = EnvInt("ACERVO_TEST_TWAIN_IGNORE_INDICATORS", 0) != 0;
  g.a4 = EnvStr("ACERVO_TEST_TWAIN_PAPER") == "a4";
  g.strip_rows = EnvInt("ACERVO_TEST_TWAIN_STRIP_ROWS", 7);
  g.buffer = EnvInt("ACERVO_TEST_TWAIN_BUFFER", g.strip_rows > 0 ? 4096 : 65536);
  g.strip_delay_ms = EnvInt("ACERVO_TEST_TWAIN_STRIP_DELAY_MS", 0);
  Log(std::string("libtiff mapped: ") + (LibtiffMapped() ? "yes" : "no"));
  SetState(4);
  return TWRC_SUCCESS;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) TW_UINT16 DS_Entry(TW_IDENTITY* origin, TW_UINT32 dg,
                                                                     TW_UINT16 dat, TW_UINT16 msg, TW_MEMREF data) {
  g.dat = dat;
  g.msg = msg;
  if (dg == DG_CONTROL && dat == DAT_IDENTITY && msg == MSG_GET) {
    auto* id = static_cast<TW_IDENTITY*>(data);
    std::memset(id, 0, sizeof(*id));
    id->ProtocolMajor = 2;
    id->ProtocolMinor = 4;
    id->SupportedGroups = DG_CONTROL | DG_IMAGE | DF_DS2;
    std::strcpy(id->Manufacturer, "Acervo");
    std::strcpy(id->ProductFamily, "Test");
    std::strcpy(id->ProductName, "Acervo Test Source");
    return TWRC_SUCCESS;
  }
  if (dg == DG_CONTROL && dat == DAT_ENTRYPOINT && msg == MSG_SET) {
    g.dsm = *static_cast<TW_ENTRYPOINT*>(data);
    return TWRC_SUCCESS;
  }
  if (dg == DG_CONTROL && dat == DAT_STATUS && msg == MSG_GET) {
    static_cast<TW_STATUS*>(data)->ConditionCode = g.condition;
    g.condition = TWCC_SUCCESS;
    return TWRC_SUCCESS;
  }
  if (dg == DG_CONTROL && dat == DAT_IDENTITY && msg == MSG_OPENDS) return Open(origin, static_cast<TW_IDENTITY*>(data));
  if (dg == DG_CONTROL && dat == DAT_IDENTITY && msg == MSG_CLOSEDS) {
    if (g.state != 4) return Fail(TWCC_SEQERROR);
    SetState(3);
    return TWRC_SUCCESS;
  }
  if (dg == DG_CONTROL && dat == DAT_CAPABILITY) return Capability(msg, static_cast<TW_CAPABILITY*>(data));
  if (dg == DG_CONTROL && dat == DAT_USERINTERFACE) {
    if (msg == MSG_ENABLEDS) {
      if (static_cast<TW_USERINTERFACE*>(data)->ShowUI) return Fail(TWCC_BADVALUE);  // no UI here
      return Enable();
    }
    if (msg == MSG_DISABLEDS) {
      if (g.state != 5) return Fail(TWCC_SEQERROR);
      SetState(4);
      return TWRC_SUCCESS;
    }
  }
  if (dg == DG_CONTROL && dat == DAT_SETUPMEMXFER && msg == MSG_GET) {
    if (g.state < 4) return Fail(TWCC_SEQERROR);
    auto* s = static_cast<TW_SETUPMEMXFER*>(data);
    s->MinBufSize = std::min(1024, g.buffer);
    s->MaxBufSize = std::max(1 << 20, g.buffer);
    s->Preferred = static_cast<TW_UINT32>(g.buffer);
    return TWRC_SUCCESS;
  }
  if (dg == DG_CONTROL && dat == DAT_PENDINGXFERS) return Pending(msg, static_cast<TW_PENDINGXFERS*>(data));
  if (dg == DG_IMAGE && dat == DAT_IMAGEINFO && msg == MSG_GET) {
    if (g.state != 6 && g.state != 7) return Fail(TWCC_SEQERROR);
    auto* i = static_cast<TW_IMAGEINFO*>(data);
    std::memset(i, 0, sizeof(*i));
    i->XResolution = DoubleToFix32(g.xres);
    i->YResolution = DoubleToFix32(g.yres);
    i->ImageWidth = g.width;
    i->ImageLength = g.height;
    i->SamplesPerPixel = g.pixel_type == TWPT_RGB ? 3 : 1;
    i->BitsPerPixel = static_cast<TW_INT16>(BitsPerPixel());
    for (int c = 0; c < i->SamplesPerPixel; ++c) i->BitsPerSample[c] = g.pixel_type == TWPT_BW ? 1 : 8;
    i->PixelType = static_cast<TW_INT16>(g.pixel_type);
    i->Compression = TWCP_NONE;
    return TWRC_SUCCESS;
  }
  if (dg == DG_IMAGE && dat == DAT_IMAGEMEMXFER && msg == MSG_GET) return MemXfer(static_cast<TW_IMAGEMEMXFER*>(data));
  if (dg == DG_IMAGE && dat == DAT_IMAGENATIVEXFER && msg == MSG_GET) return NativeXfer(static_cast<TW_HANDLE*>(data));
  return Fail(TWCC_BADPROTOCOL);
}
