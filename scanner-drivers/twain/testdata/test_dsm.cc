// A TWAIN Data Source Manager for tests, built as a shared library and
// loaded by the production driver through the same dlopen path as
// libtwaindsm.so. It does what a DSM does for one data source: identities,
// the DSM memory entry points, the application callback, and forwarding of
// every triplet addressed to the source. The source library is named by
// ACERVO_TEST_TWAIN_DS (a real DSM scans its TWAIN folder instead).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include "acervo/scanner/twain_protocol.h"

using namespace acervo::twain;  // NOLINT

namespace {

void* g_ds_lib = nullptr;
DSENTRYPROC g_ds_entry = nullptr;
TW_IDENTITY g_ds_id{};
TW_IDENTITY* g_app = nullptr;
TWAIN_CALLBACK g_callback = nullptr;
bool g_open = false;
bool g_ds_open = false;
TW_UINT16 g_condition = TWCC_SUCCESS;

TW_HANDLE MemAllocate(TW_UINT32 n) { return std::calloc(1, n); }
void MemFree(TW_HANDLE h) { std::free(h); }
TW_MEMREF MemLock(TW_HANDLE h) { return h; }
void MemUnlock(TW_HANDLE) {}

TW_UINT16 Fail(TW_UINT16 cc) {
  g_condition = cc;
  return TWRC_FAILURE;
}

}  // namespace

extern "C" TW_UINT16 DSM_Entry(TW_IDENTITY* origin, TW_IDENTITY* dest, TW_UINT32 dg, TW_UINT16 dat, TW_UINT16 msg,
                               TW_MEMREF data);

extern "C" __attribute__((visibility("default"))) TW_UINT16 DSM_Entry(TW_IDENTITY* origin, TW_IDENTITY* dest,
                                                                      TW_UINT32 dg, TW_UINT16 dat, TW_UINT16 msg,
                                                                      TW_MEMREF data) {
  if (origin == nullptr) return Fail(TWCC_BADPROTOCOL);
  // A message from the source to the application (state changes).
  if (g_ds_open && origin->Id == g_ds_id.Id && dat == DAT_NULL) {
    if (g_callback == nullptr) return Fail(TWCC_SEQERROR);
    return g_callback(origin, g_app, DG_CONTROL, DAT_NULL, msg, nullptr);
  }
  if (dest == nullptr) {
    if (dg != DG_CONTROL) return Fail(TWCC_BADPROTOCOL);
    if (dat == DAT_STATUS && msg == MSG_GET) {
      static_cast<TW_STATUS*>(data)->ConditionCode = g_condition;
      g_condition = TWCC_SUCCESS;
      return TWRC_SUCCESS;
    }
    if (dat == DAT_PARENT && msg == MSG_OPENDSM) {
      if (g_open) return Fail(TWCC_SEQERROR);
      const char* path = std::getenv("ACERVO_TEST_TWAIN_DS");
      if (path != nullptr) {
        g_ds_lib = ::dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (g_ds_lib != nullptr) g_ds_entry = reinterpret_cast<DSENTRYPROC>(::dlsym(g_ds_lib, "DS_Entry"));
      }
      if (g_ds_entry != nullptr) {
        g_ds_entry(nullptr, DG_CONTROL, DAT_IDENTITY, MSG_GET, &g_ds_id);
        g_ds_id.Id = 2;
      }
      origin->Id = 1;
      origin->SupportedGroups |= DF_DSM2;
      g_app = origin;
      g_open = true;
      return TWRC_SUCCESS;
    }
    if (!g_open) return Fail(TWCC_SEQERROR);
    if (dat == DAT_PARENT && msg == MSG_CLOSEDSM) {
      if (g_ds_open) return Fail(TWCC_SEQERROR);  // close the source first
      if (g_ds_lib != nullptr) ::dlclose(g_ds_lib);
      g_ds_lib = nullptr;
      g_ds_entry = nullptr;
      g_open = false;
      g_callback = nullptr;
      return TWRC_SUCCESS;
    }
    if (dat == DAT_ENTRYPOINT && msg == MSG_GET) {
      auto* ep = static_cast<TW_ENTRYPOINT*>(data);
      ep->DSM_Entry = &DSM_Entry;
      ep->DSM_MemAllocate = &MemAllocate;
      ep->DSM_MemFree = &MemFree;
      ep->DSM_MemLock = &MemLock;
      ep->DSM_MemUnlock = &MemUnlock;
      return TWRC_SUCCESS;
    }
    if (dat == DAT_IDENTITY) {
      auto* id = static_cast<TW_IDENTITY*>(data);
      switch (msg) {
        case MSG_GETFIRST:
        case MSG_GETDEFAULT:
          if (g_ds_entry == nullptr) return msg == MSG_GETFIRST ? TWRC_ENDOFLIST : Fail(TWCC_NODS);
          *id = g_ds_id;
          return TWRC_SUCCESS;
        case MSG_GETNEXT:
          return TWRC_ENDOFLIST;
        case MSG_OPENDS: {
          if (g_ds_entry == nullptr || std::strncmp(id->ProductName, g_ds_id.ProductName, 32) != 0) {
            return Fail(TWCC_NODS);
          }
          if (g_ds_open) return Fail(TWCC_SEQERROR);
          id->Id = g_ds_id.Id;
          TW_ENTRYPOINT ep{sizeof(TW_ENTRYPOINT), &DSM_Entry, &MemAllocate, &MemFree, &MemLock, &MemUnlock};
          g_ds_entry(origin, DG_CONTROL, DAT_ENTRYPOINT, MSG_SET, &ep);
          TW_UINT16 rc = g_ds_entry(origin, DG_CONTROL, DAT_IDENTITY, MSG_OPENDS, id);
          if (rc == TWRC_SUCCESS) g_ds_open = true;
          return rc;
        }
        case MSG_CLOSEDS: {
          if (!g_ds_open) return Fail(TWCC_SEQERROR);
          TW_UINT16 rc = g_ds_entry(origin, DG_CONTROL, DAT_IDENTITY, MSG_CLOSEDS, id);
          if (rc == TWRC_SUCCESS) {
            g_ds_open = false;
            g_callback = nullptr;
          }
          return rc;
        }
        default:
          return Fail(TWCC_BADPROTOCOL);
      }
    }
    return Fail(TWCC_BADPROTOCOL);
  }
  // Addressed to the source.
  if (!g_ds_open || dest->Id != g_ds_id.Id) return Fail(TWCC_BADDEST);
  if (dg == DG_CONTROL && dat == DAT_CALLBACK && msg == MSG_REGISTER_CALLBACK) {
    g_callback = reinterpret_cast<TWAIN_CALLBACK>(static_cast<TW_CALLBACK*>(data)->CallBackProc);
    return TWRC_SUCCESS;
  }
  return g_ds_entry(origin, dg, dat, msg, data);
}
