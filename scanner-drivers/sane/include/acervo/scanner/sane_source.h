// SANE driver: scanners reached through libsane (local backends and, through
// the `net` backend, scanners shared by saned on another machine).
//
// OpenSaneSource() opens a device, applies ScanSettings (source, duplex,
// resolution, mode, raw options) and returns a Source that loops: start,
// read until EOF, next page, until SANE_STATUS_NO_DOCS. Statuses map as:
//   NO_DOCS at start (ADF)          -> end of feed (std::nullopt)
//   JAMMED, COVER_OPEN, IO_ERROR,
//   DEVICE_BUSY, NO_DOCS mid-page   -> DeviceError (the lot pauses); the
//                                      partial page is dropped
//   CANCELLED or the cancel flag    -> Cancelled (sane_cancel is called)
// A flatbed source yields exactly one page per session.
//
// Unknown device, option or value: InvalidArgument / NotFound whose message
// lists what the device offers (devices, option names, allowed values).
//
// libsane is process-global (sane_init/sane_exit): this module initialises it
// once, on first use, and never calls sane_exit while a handle is open.
// Thread-safety: one thread uses a SaneSource at a time; opening sources from
// several threads at once is serialised internally.
#ifndef ACERVO_SCANNER_SANE_SOURCE_H_
#define ACERVO_SCANNER_SANE_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/scanner/source.h"

namespace acervo {

struct ScannerInfo {
  std::string name;    // what --device takes ("test:0", "net:host:test:0")
  std::string vendor;
  std::string model;
  std::string type;
};

// Devices libsane finds now (local and, with the net backend, remote).
Result<std::vector<ScannerInfo>> ListSaneDevices();

// Opens and configures a device; see the file comment for errors.
Result<std::unique_ptr<Source>> OpenSaneSource(const ScanSettings& settings);

// The device's settable options with their allowed values, one per line
// ("mode: Gray | Color"), for --help-like listings and error messages.
Result<std::vector<std::string>> DescribeSaneOptions(const std::string& device);

}  // namespace acervo

#endif  // ACERVO_SCANNER_SANE_SOURCE_H_
