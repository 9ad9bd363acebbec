// LotCapture: pages from a Source become masters in a lot folder, one by one,
// the moment they arrive, with a journal that makes a paused lot resumable.
//
// For each page, in this order:
//  1. the image is encoded as TIFF (CCITT G4 for 1-bit, LZW otherwise, with
//     its resolution) and written write-once as LOT_DIR/NNNN.tif (temporary
//     file, fsync, link: a reader sees the whole file or none);
//  2. a journal line {"event":"page","seq":N,"file":"0001.tif","sha256":...}
//     is appended to LOT_DIR/.scan-journal.jsonl and fsynced;
//  3. only then is the next page requested from the device.
// A jam, open cover, I/O error or busy device stops the session with a
// "pause" journal line and DeviceError; the partial page is never written.
// Resuming reads the journal, adopts a master that was committed but not yet
// journaled (crash between 1 and 2), removes leftover temporary files, and
// numbers new pages after the last complete one. File names sort naturally
// (0001.tif ... 9999.tif, 10000.tif), so `acervo run` sees the scan order.
//
// Thread-safety: one capture per lot folder at a time, enforced with an
// advisory lock on LOT_DIR/.scan-lock (Unavailable when another process holds
// it). Ownership: borrows the Source for the call.
#ifndef ACERVO_SCANNER_LOT_CAPTURE_H_
#define ACERVO_SCANNER_LOT_CAPTURE_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/scanner/source.h"

namespace acervo {

inline constexpr std::string_view kScanJournalName = ".scan-journal.jsonl";

// One complete page in the journal.
struct JournalPage {
  int sequence = 0;       // 1-based position in the lot
  std::string file;       // "0001.tif"
  std::string sha256;
  std::string side;       // "front" / "back"
  double dpi_x = 0, dpi_y = 0;
  int width = 0, height = 0, bits = 0;
};

struct ScanJournal {
  std::vector<JournalPage> pages;  // in sequence order
  int pauses = 0;                  // sessions that stopped on a device fault
  std::string last_pause;          // message of the last pause, "" if none
};

// Reads LOT_DIR/.scan-journal.jsonl. A missing journal is an empty one; a
// torn last line (crash mid-append) is ignored; a damaged line elsewhere is
// Corrupt naming the line.
Result<ScanJournal> ReadScanJournal(const std::filesystem::path& lot_dir);

struct CaptureOptions {
  std::filesystem::path lot_dir;  // created when missing
  bool resume = false;            // required when the lot already has pages
  std::string driver;             // "sane", "twain": for the journal
  std::string device;
  // Called after each page is committed and journaled (progress lines; tests
  // use it to change device options between pages). A non-OK Status stops
  // the session with that Status.
  std::function<Status(const JournalPage&)> on_page;
  const std::atomic<bool>* cancel = nullptr;
};

struct CaptureReport {
  int first_sequence = 1;  // number of the first page of this session
  int pages = 0;           // pages written in this session
  int total_pages = 0;     // complete pages in the lot now
  int adopted = 0;         // masters found committed but not journaled
  int temp_removed = 0;    // partial files of an earlier session removed
  double seconds = 0;
  std::string pause;       // device fault that paused the session, "" if none
};

// Runs one capture session until the feeder is empty. Returns the report
// when the feeder emptied; DeviceError (message: the fault, the page number
// and "resume with --resume") when the device paused; Cancelled when asked to
// stop; InvalidArgument when the lot has pages and `resume` is false. In
// every case each page written before the stop is complete and journaled.
// `report` (may be null) is filled even when a Status is returned.
Status CaptureLot(Source& source, const CaptureOptions& options, CaptureReport* report);

// Encodes a captured page as a TIFF file in memory (G4 for 1-bit, LZW with
// horizontal predictor otherwise; resolution tags when known). Deterministic:
// the same pixels give the same bytes. InvalidArgument for unsupported Mats.
Result<std::vector<uint8_t>> EncodeMasterTiff(const CapturedPage& page);

// "0001.tif" for 1; at least four digits.
std::string MasterFileName(int sequence);

}  // namespace acervo

#endif  // ACERVO_SCANNER_LOT_CAPTURE_H_
