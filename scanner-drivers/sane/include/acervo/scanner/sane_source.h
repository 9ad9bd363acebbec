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
// A libsane call that does not return within SaneOptions::call_timeout_seconds
// ends the process (exit kSaneStuckExitCode) after writing which call, which
// device and which page to stderr: an unattended scan never hangs silently.
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

// The exit code of a process whose libsane call outlived the call timeout
// (the CLI's "device paused" code: pages so far are kept, resume later).
inline constexpr int kSaneStuckExitCode = 4;

struct SaneOptions {
  // Seconds one libsane call (open, option set, start, read, cancel, close)
  // may take. Past it the process writes why to stderr and exits with
  // kSaneStuckExitCode: a stuck backend cannot be abandoned from inside the
  // process (see call_deadline.h). 0: wait for ever. A warming lamp or a
  // slow network scanner needs tens of seconds; 120 leaves room for them.
  double call_timeout_seconds = 120;
};

// Opens and configures a device; see the file comment for errors.
// InvalidArgument also for a call timeout outside 0..86400.
Result<std::unique_ptr<Source>> OpenSaneSource(const ScanSettings& settings, const SaneOptions& options = {});

// The device's settable options with their allowed values, one per line
// ("mode: Gray | Color"), for --help-like listings and error messages.
Result<std::vector<std::string>> DescribeSaneOptions(const std::string& device);

}  // namespace acervo

#endif  // ACERVO_SCANNER_SANE_SOURCE_H_
