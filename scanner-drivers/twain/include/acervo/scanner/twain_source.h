// TWAIN driver: scanners reached through a TWAIN 2.x Data Source Manager
// (libtwaindsm.so on Linux, TWAINDSM.dll on Windows), loaded at run time with
// dlopen/LoadLibrary, so Acervo builds and runs where no TWAIN is installed.
//
// OpenTwainSource() walks the TWAIN states 1 -> 4: load the DSM (2), open it
// (3), open the data source (4) after identifying ourselves (TW_IDENTITY),
// then negotiates capabilities: ICAP_XFERMECH (memory, else native),
// ICAP_PIXELTYPE (bw/gray/rgb), ICAP_XRESOLUTION/YRESOLUTION,
// CAP_FEEDERENABLED, CAP_DUPLEXENABLED and CAP_XFERCOUNT (-1: all sheets).
// The first Next() enables the source without UI (5) and waits for
// MSG_XFERREADY (6); each page is one transfer (7): memory transfers arrive
// as strips that are reassembled by their row offsets; native transfers as a
// DIB. MSG_ENDXFER's pending count says whether another page follows; 0 ends
// the feed. Condition codes map like SANE's statuses: TWCC_PAPERJAM,
// TWCC_PAPERDOUBLEFEED, TWCC_COVEROPEN/TWCC_DAMAGEDCORNER, TWCC_OPERATIONERROR
// and TWCC_BUMMER pause the lot (DeviceError); TWRC_CANCEL or the cancel
// flag give Cancelled (the pending transfers are reset); a partial page is
// never returned. Destruction walks the states back down to 1.
//
// Thread-safety: one thread at a time; TWAIN itself is single-threaded.
// Ownership: the Source owns the DSM handle and closes it.
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
  // The DSM library; empty: "libtwaindsm.so" through the loader's search path
  // ("TWAINDSM.dll" on Windows).
  std::filesystem::path dsm_path;
  // "memory", "native" or "" (memory when the source offers it, else native).
  std::string transfer;
};

// Data sources the DSM knows (MSG_GETFIRST/MSG_GETNEXT). Unavailable when the
// DSM cannot be loaded (the message names the library and dlerror()).
Result<std::vector<ScannerInfo>> ListTwainSources(const TwainOptions& options);

// Opens `settings.device` (a product name; empty: the DSM's default source)
// and negotiates the settings. NotFound lists the sources; InvalidArgument
// names the capability and the values the source offers.
Result<std::unique_ptr<Source>> OpenTwainSource(const ScanSettings& settings, const TwainOptions& options);

}  // namespace acervo

#endif  // ACERVO_SCANNER_TWAIN_SOURCE_H_
