// A TWAIN data source for tests ("Acervo Test Source"), built as a shared
// library and reached through the test DSM. It keeps the TWAIN state machine
// strictly (a triplet in the wrong state fails with TWCC_SEQERROR), offers
// the capabilities the driver negotiates, and feeds synthetic sheets whose
// pixels encode the sheet number: sample(x, y) = (x + 3y + 17 * sheet) & 255
// (RGB: channel c adds 85c; BW: bit = ((x / 8 + y / 8 + sheet) & 1)).
//
// Scenario from the environment, read at MSG_OPENDS:
//   ACERVO_TEST_TWAIN_PAGES       sheets in the feeder (default 5)
//   ACERVO_TEST_TWAIN_FIRST_SHEET number of the first sheet (default 1)
//   ACERVO_TEST_TWAIN_JAM_AT      sheet whose transfer jams mid-page
//   ACERVO_TEST_TWAIN_CANCEL_AT   sheet whose transfer is cancelled mid-page
//   ACERVO_TEST_TWAIN_MECHS       "memory,native" (default) or "native"
//   ACERVO_TEST_TWAIN_LOG         file receiving one line per state change
//                                 and capability set
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "acervo/scanner/twain_protocol.h"

using namespace acervo::twain;  // NOLINT

namespace {

constexpr int kWidth = 203;  // not a multiple of 8 or 4: padding matters
constexpr int kHeight = 157;

struct Ds {
  int state = 3;
  TW_IDENTITY self{};
  TW_IDENTITY app{};
  TW_ENTRYPOINT dsm{};
  TW_UINT16 condition = TWCC_SUCCESS;
  // Configuration.
  int pages = 5, first_sheet = 1, jam_at = 0, cancel_at = 0;
  bool memory_offered = true;
  // Negotiated.
  TW_UINT16 mech = TWSX_NATIVE;
  TW_UINT16 pixel_type = TWPT_GRAY;
  double xres = 100, yres = 100;
  bool feeder = false, duplex = false;
  int xfer_count = -1;
  // Transfer.
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

TW_UINT16 Fail(TW_UINT16 cc) {
  g.condition = cc;
  return TWRC_FAILURE;
}

int BitsPerPixel() { return g.pixel_type == TWPT_BW ? 1 : g.pixel_type == TWPT_RGB ? 24 : 8; }
size_t RowBytes() { return (static_cast<size_t>(kWidth) * BitsPerPixel() + 7) / 8; }

uint8_t Sample(int x, int y, int c) { return static_cast<uint8_t>((x + 3 * y + 17 * g.sheet + 85 * c) & 255); }
bool Bit(int x, int y) { return ((x / 8 + y / 8 + g.sheet) & 1) != 0; }  // 1 = white (chocolate)

void Row(int y, uint8_t* out) {
  std::memset(out, 0, RowBytes());
  for (int x = 0; x < kWidth; ++x) {
    if (g.pixel_type == TWPT_BW) {
      if (Bit(x, y)) out[x >> 3] |= static_cast<uint8_t>(0x80 >> (x & 7));
    } else if (g.pixel_type == TWPT_RGB) {
      for (int c = 0; c < 3; ++c) out[3 * x + c] = Sample(x, y, c);
    } else {
      out[x] = Sample(x, y, 0);
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
  if (msg == MSG_GET || msg == MSG_GETCURRENT) {
    switch (cap->Cap) {
      case ICAP_XFERMECH:
        return g.memory_offered ? GetEnum16(cap, {TWSX_NATIVE, TWSX_MEMORY}, g.mech) : GetEnum16(cap, {TWSX_NATIVE}, g.mech);
      case ICAP_PIXELTYPE: return GetEnum16(cap, {TWPT_BW, TWPT_GRAY, TWPT_RGB}, g.pixel_type);
      case ICAP_XRESOLUTION:
      case ICAP_YRESOLUTION: return GetResolution(cap);
      case CAP_FEEDERENABLED: return GetOne(cap, TWTY_BOOL, g.feeder);
      case CAP_DUPLEXENABLED: return GetOne(cap, TWTY_BOOL, g.duplex);
      case CAP_XFERCOUNT: return GetOne(cap, TWTY_INT16, static_cast<TW_UINT16>(g.xfer_count));
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
    case CAP_XFERCOUNT: g.xfer_count = static_cast<int16_t>(v & 0xffff); return TWRC_SUCCESS;
    default: return Fail(TWCC_CAPUNSUPPORTED);
  }
}

TW_UINT16 Enable() {
  if (g.state != 4) return Fail(TWCC_SEQERROR);
  SetState(5);
  int sheets = g.feeder ? g.pages : std::min(g.pages, 1);
  if (g.xfer_count > 0) sheets = std::min(sheets, g.xfer_count);
  if (sheets == 0) return TWRC_SUCCESS;  // nothing to scan: stays in 5
  g.remaining = sheets;
  g.sheet = g.first_sheet;
  g.next_row = 0;
  g.strips = 0;
  SetState(6);
  // Tell the application through the DSM, as a real source does.
  g.dsm.DSM_Entry(&g.self, &g.app, DG_CONTROL, DAT_NULL, MSG_XFERREADY, nullptr);
  return TWRC_SUCCESS;
}

TW_UINT16 MemXfer(TW_IMAGEMEMXFER* x) {
  if ((g.state != 6 && g.state != 7) || g.mech != TWSX_MEMORY) return Fail(TWCC_SEQERROR);
  if (g.state == 6) SetState(7);
  ++g.strips;
  if (g.strips == 4 && g.sheet == g.jam_at) return Fail(TWCC_PAPERJAM);
  if (g.strips == 4 && g.sheet == g.cancel_at) return TWRC_CANCEL;
  const size_t rb = RowBytes();
  const size_t stride = rb + 3;  // a padded strip row, as real sources do
  if (x->Memory.Length < stride) return Fail(TWCC_BADVALUE);
  int rows = std::min<int>(static_cast<int>(x->Memory.Length / stride), kHeight - g.next_row);
  rows = std::min(rows, 7);  // many small strips
  // Odd sheets go bottom-up: strips must be placed by YOffset, not order.
  bool reverse = g.sheet % 2 == 1;
  int y0 = reverse ? kHeight - g.next_row - rows : g.next_row;
  auto* mem = static_cast<uint8_t*>(x->Memory.TheMem);
  for (int r = 0; r < rows; ++r) Row(y0 + r, mem + static_cast<size_t>(r) * stride);
  x->Compression = TWCP_NONE;
  x->BytesPerRow = static_cast<TW_UINT32>(stride);
  x->Columns = kWidth;
  x->Rows = static_cast<TW_UINT32>(rows);
  x->XOffset = 0;
  x->YOffset = static_cast<TW_UINT32>(y0);
  x->BytesWritten = static_cast<TW_UINT32>(stride * rows);
  g.next_row += rows;
  return g.next_row >= kHeight ? TWRC_XFERDONE : TWRC_SUCCESS;
}

TW_UINT16 NativeXfer(TW_HANDLE* out) {
  if (g.state != 6) return Fail(TWCC_SEQERROR);
  if (g.sheet == g.jam_at) return Fail(TWCC_PAPERJAM);
  if (g.sheet == g.cancel_at) return TWRC_CANCEL;
  const int bits = BitsPerPixel();
  const int colors = bits <= 8 ? 1 << bits : 0;
  const size_t stride = ((static_cast<size_t>(kWidth) * bits + 31) / 32) * 4;
  const size_t size = 40 + 4 * static_cast<size_t>(colors) + stride * kHeight;
  TW_HANDLE h = g.dsm.DSM_MemAllocate(static_cast<TW_UINT32>(size));
  auto* p = static_cast<uint8_t*>(g.dsm.DSM_MemLock(h));
  auto le32 = [](uint8_t* b, uint32_t v) { for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i)); };
  le32(p, 40);
  le32(p + 4, kWidth);
  le32(p + 8, kHeight);  // bottom-up
  p[12] = 1;
  p[14] = static_cast<uint8_t>(bits);
  le32(p + 24, static_cast<uint32_t>(g.xres / 0.0254 + 0.5));
  le32(p + 28, static_cast<uint32_t>(g.yres / 0.0254 + 0.5));
  le32(p + 32, static_cast<uint32_t>(colors));
  for (int i = 0; i < colors; ++i) {
    uint8_t v = static_cast<uint8_t>(i * 255 / (colors - 1));
    p[40 + 4 * i] = p[41 + 4 * i] = p[42 + 4 * i] = v;
  }
  uint8_t* pixels = p + 40 + 4 * colors;
  std::vector<uint8_t> row(RowBytes());
  for (int y = 0; y < kHeight; ++y) {
    Row(y, row.data());
    uint8_t* dst = pixels + stride * static_cast<size_t>(kHeight - 1 - y);
    if (bits == 24) {
      for (int x = 0; x < kWidth; ++x) {  // DIB rows are BGR
        dst[3 * x] = row[3 * x + 2];
        dst[3 * x + 1] = row[3 * x + 1];
        dst[3 * x + 2] = row[3 * x];
      }
    } else {
      std::memcpy(dst, row.data(), row.size());
    }
  }
  *out = h;
  SetState(7);
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

}  // namespace

extern "C" __attribute__((visibility("default"))) TW_UINT16 DS_Entry(TW_IDENTITY* origin, TW_UINT32 dg,
                                                                     TW_UINT16 dat, TW_UINT16 msg, TW_MEMREF data) {
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
  if (dg == DG_CONTROL && dat == DAT_IDENTITY && msg == MSG_OPENDS) {
    if (g.state != 3) return Fail(TWCC_SEQERROR);
    TW_ENTRYPOINT keep = g.dsm;
    g = Ds{};
    g.dsm = keep;
    g.self = *static_cast<TW_IDENTITY*>(data);
    g.app = *origin;
    g.pages = EnvInt("ACERVO_TEST_TWAIN_PAGES", 5);
    g.first_sheet = EnvInt("ACERVO_TEST_TWAIN_FIRST_SHEET", 1);
    g.jam_at = EnvInt("ACERVO_TEST_TWAIN_JAM_AT", 0);
    g.cancel_at = EnvInt("ACERVO_TEST_TWAIN_CANCEL_AT", 0);
    const char* mechs = std::getenv("ACERVO_TEST_TWAIN_MECHS");
    g.memory_offered = mechs == nullptr || std::string(mechs).find("memory") != std::string::npos;
    SetState(4);
    return TWRC_SUCCESS;
  }
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
    s->MinBufSize = 1024;
    s->MaxBufSize = 65536;
    s->Preferred = 4096;
    return TWRC_SUCCESS;
  }
  if (dg == DG_CONTROL && dat == DAT_PENDINGXFERS) return Pending(msg, static_cast<TW_PENDINGXFERS*>(data));
  if (dg == DG_IMAGE && dat == DAT_IMAGEINFO && msg == MSG_GET) {
    if (g.state != 6 && g.state != 7) return Fail(TWCC_SEQERROR);
    auto* i = static_cast<TW_IMAGEINFO*>(data);
    std::memset(i, 0, sizeof(*i));
    i->XResolution = DoubleToFix32(g.xres);
    i->YResolution = DoubleToFix32(g.yres);
    i->ImageWidth = kWidth;
    i->ImageLength = kHeight;
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
