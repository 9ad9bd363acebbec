// TWAIN driver: scanners reached through a TWAIN 2.x Data Source Manager
// (libtwaindsm.so on Linux), loaded at run time, so Acervo builds and runs
// where no TWAIN is installed.
//
// Vendor code never runs in the calling process. OpenTwainSource() and
// ListTwainSources() start the TWAIN host, a small executable of this
// project (acervo-twain-host), which loads the DSM and, through it, the
// vendor's data source; pages and events come back over a socket pair
// (twain_wire.h) and are checked and assembled here (TwainPageAssembler).
// So the master writer never shares an address space with vendor libraries
// (the official sample source loads FreeImage, whose libtiff tag extender
// made Acervo's own TIFF writer loop), and whatever the vendor code does
// becomes a Status:
//  - a crash or abort of the host: DeviceError naming the signal, the page,
//    the host's peak memory and its last output (the lot pauses, exit 4);
//  - a hang: the host reports every 250 ms which TWAIN call is running;
//    one running longer than `timeout_seconds`, or a host silent that long,
//    is killed: DeviceError;
//  - runaway memory: the host runs under RLIMIT_DATA `memory_limit_mb`, so
//    the allocation fails there and the host dies or reports it: DeviceError.
// A page is returned only once complete; a partial page is never returned.
//
// The session in the host walks the TWAIN states (see twain_session.h),
// negotiates ICAP_XFERMECH (memory, else native), ICAP_PIXELTYPE,
// ICAP_X/YRESOLUTION, CAP_FEEDERENABLED / CAP_DUPLEXENABLED only when asked
// (otherwise the device's defaults stand and are read), CAP_INDICATORS
// FALSE, CAP_XFERCOUNT (-1: all sheets, unless the feeder is off) and reads
// ICAP_PIXELFLAVOR. Condition codes map like SANE's statuses: TWCC_PAPERJAM,
// TWCC_PAPERDOUBLEFEED, TWCC_INTERLOCK, TWCC_DAMAGEDCORNER,
// TWCC_OPERATIONERROR, TWCC_BUMMER... pause the lot (DeviceError);
// TWRC_CANCEL, MSG_CLOSEDSREQ or the cancel flag give Cancelled.
//
// Thread-safety: one thread at a time. Ownership: the Source owns the host
// process; destroying it walks the TWAIN states down and reaps the host
// (killing it when it does not exit within 10 s).
#ifndef ACERVO_SCANNER_TWAIN_SOURCE_H_
#define ACERVO_SCANNER_TWAIN_SOURCE_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/scanner/sane_source.h"  // ScannerInfo
#include "acervo/scanner/source.h"

namespace acervo {

struct TwainOptions {
  // The DSM library; empty: "libtwaindsm.so" through the loader's search path.
  std::filesystem::path dsm_path;
  // "memory", "native" or "" (memory when the source offers it, else native).
  std::string transfer;
  // The host executable; empty: acervo-twain-host next to the running
  // executable, else the one of this build tree.
  std::filesystem::path host_path;
  // A TWAIN call (or a silence of the host) longer than this is a hang.
  double timeout_seconds = 120;
  // RLIMIT_DATA of the host process in MiB (0: none).
  long memory_limit_mb = 4096;
};

// Data sources the DSM knows (MSG_GETFIRST/MSG_GETNEXT). Unavailable when the
// DSM cannot be loaded (the message names the library and dlerror()) or the
// host cannot be started; DeviceError when vendor code crashed or hung.
Result<std::vector<ScannerInfo>> ListTwainSources(const TwainOptions& options);

// Opens `settings.device` (a product name; empty: the DSM's default source)
// and negotiates the settings. NotFound lists the sources; InvalidArgument
// names the capability and the values the source offers; DeviceError when
// vendor code crashed or hung while opening.
Result<std::unique_ptr<Source>> OpenTwainSource(const ScanSettings& settings, const TwainOptions& options);

}  // namespace acervo

#endif  // ACERVO_SCANNER_TWAIN_SOURCE_H_
