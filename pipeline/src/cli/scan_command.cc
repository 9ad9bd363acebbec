// acervo scan: drive a scanner (SANE or TWAIN) into a lot folder, one master
// per page as it arrives, pausing on jams and resuming where it stopped.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "acervo/core/files.h"
#include "acervo/indexer/open_store.h"
#include "acervo/pipeline/page_replace.h"
#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/queue_worker.h"
#include "acervo/scanner/lot_capture.h"
#include "acervo/scanner/sane_source.h"
#include "acervo/scanner/twain_source.h"
#include "acervo/core/text.h"
#include "cli/commands.h"

namespace acervo::cli {
namespace {
namespace fs = std::filesystem;

struct ScanArgs {
  std::string driver;
  std::string device;
  fs::path lot;
  std::string source;
  bool duplex = false;
  double resolution = 0;
  std::string mode;
  std::vector<std::string> options;
  bool resume = false;
  bool json = false;
  bool quiet = false;
  std::string dsm;
  std::string transfer;
  double twain_timeout = 120;
  double sane_timeout = 120;
  long twain_memory_mb = 4096;
  std::string enqueue;  // a PostgreSQL store: hand the lot to its workers when the scan completes
  fs::path shared_root;
  // --replace LOT DOC --page N: one sheet scanned to replace a stored page.
  std::vector<std::string> replace;
  int page = 0;
  std::string store, note, user;
};

// Flags win over the lot profile's [scanner] defaults.
Result<ScanSettings> Settings(const ScanArgs& a, const ScannerProfile& prof, std::string* driver) {
  ScanSettings s;
  *driver = !a.driver.empty() ? a.driver : !prof.driver.empty() ? prof.driver : "sane";
  s.device = !a.device.empty() ? a.device : prof.device;
  s.source = !a.source.empty() ? a.source : prof.source;
  s.mode = !a.mode.empty() ? a.mode : prof.mode;
  s.resolution = a.resolution > 0 ? a.resolution : prof.resolution;
  s.duplex = a.duplex || prof.duplex;
  s.options = prof.options;
  for (const std::string& o : a.options) {
    ACERVO_ASSIGN_OR_RETURN(auto kv, ParseRawOption(o));
    s.options.push_back(std::move(kv));
  }
  return s;
}

int ExitFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound: return kExitUsage;  // a name on the line is wrong
    case StatusCode::kDeviceError: return kExitDevice;
    case StatusCode::kCancelled: return kExitInterrupted;
    default: return kExitCannotRun;
  }
}

// The scanner of `driver` ("sane" or "twain") with `settings`.
Result<std::unique_ptr<Source>> OpenScanner(const ScanArgs& a, const ScanSettings& settings, const std::string& driver) {
  if (driver != "twain") {
    SaneOptions o;
    o.call_timeout_seconds = a.sane_timeout;
    return OpenSaneSource(settings, o);
  }
  TwainOptions t;
  t.dsm_path = a.dsm;
  t.transfer = a.transfer;
  t.timeout_seconds = a.twain_timeout;
  t.memory_limit_mb = a.twain_memory_mb;
  return OpenTwainSource(settings, t);
}

// acervo scan --replace: one sheet from the scanner, kept as a TIFF master
// like any scanned page, replaces page --page of a stored document
// (page_replace.h). The scanner settings are the flags, else the [scanner]
// section of the profile the lot was run with.
int ScanReplacement(const ScanArgs& a, const Context& ctx) {
  Result<std::unique_ptr<Store>> opened = OpenStore(a.store, /*create_if_missing=*/false);
  if (!opened.ok()) {
    std::fprintf(stderr, "acervo scan: %s\n", TerminalText(opened.status().ToString()).c_str());
    return ExitFor(opened.status());
  }
  Store& store = **opened;
  ScannerProfile prof;
  if (Result<std::optional<LotSource>> src = store.Review().GetLotSource(a.replace[0]);
      src.ok() && src->has_value() && !(*src)->profile_toml.empty()) {
    if (Result<LotProfile> p = ParseProfile((*src)->profile_toml, "profile.toml"); p.ok()) prof = p->scanner;
  }
  std::string driver;
  Result<ScanSettings> settings = Settings(a, prof, &driver);
  if (!settings.ok()) {
    std::fprintf(stderr, "acervo scan: %s\n", TerminalText(settings.status().ToString()).c_str());
    return kExitUsage;
  }
  Result<std::unique_ptr<Source>> source = OpenScanner(a, *settings, driver);
  if (!source.ok()) {
    std::fprintf(stderr, "acervo scan: %s\n", TerminalText(source.status().ToString()).c_str());
    return ExitFor(source.status());
  }
  Result<std::optional<CapturedPage>> sheet = (*source)->Next(ctx.cancel);
  source->reset();  // one sheet: the device is closed before the page is processed
  Status s = sheet.ok() ? Status::OK() : sheet.status();
  if (s.ok() && !sheet->has_value()) s = Status::DeviceError("no page in the scanner: put the sheet in and try again");
  Result<std::vector<uint8_t>> tiff = s.ok() ? EncodeMasterTiff(**sheet) : Result<std::vector<uint8_t>>(s);
  if (!tiff.ok()) {
    std::fprintf(stderr, "acervo scan: %s\n", TerminalText(tiff.status().ToString()).c_str());
    return ExitFor(tiff.status());
  }
  // ReplacePageFromBytes keeps the sheet write-once among the lot's masters.
  PageReplaceRequest req;
  req.lot_id = a.replace[0];
  req.document_id = a.replace[1];
  req.page = a.page;
  req.user = a.user.empty() ? CliActor() : a.user;
  req.reason = a.note.empty() ? "re-scanned (" + driver + ":" + settings->device + ")" : a.note;
  const StoredPaths paths = StoredPaths::ForStore(a.store, store);
  req.resolve = [&paths](const std::string& l, const std::string& stored) { return paths.Resolve(l, stored); };
  req.cancel = ctx.cancel;
  const std::string_view bytes(reinterpret_cast<const char*>(tiff->data()), tiff->size());
  return PrintReplacement(ReplacePageFromBytes(store, req, bytes, "rescan-page" + std::to_string(a.page) + ".tif"),
                          a.json);
}

}  // namespace

Command AddScanCommand(CLI::App& root, const Context& ctx) {
  auto a = std::make_shared<ScanArgs>();
  CLI::App* cmd = root.add_subcommand("scan", "Scan pages from a SANE or TWAIN scanner into a lot folder");
  cmd->add_option("--driver", a->driver, "sane or twain (default: profile's, else sane)")
      ->check(CLI::IsMember({"sane", "twain"}));
  cmd->add_option("--device", a->device, "Device name (see `acervo devices`; default: profile's)");
  cmd->add_option("--lot", a->lot, "Lot folder the masters go to (created when missing; not with --replace)");
  cmd->add_option("--source", a->source, "flatbed or adf")->check(CLI::IsMember({"flatbed", "adf"}));
  cmd->add_flag("--duplex", a->duplex, "Scan both sides");
  cmd->add_option("--resolution", a->resolution, "Resolution in dpi")->check(CLI::Range(1.0, 19200.0));
  cmd->add_option("--mode", a->mode, "bw, gray or color")->check(CLI::IsMember({"bw", "gray", "color"}));
  cmd->add_option("--option", a->options, "Raw device option NAME=VALUE (repeatable, applied in order)");
  cmd->add_flag("--resume", a->resume, "Continue a paused lot after its last complete page");
  cmd->add_option("--twain-dsm", a->dsm, "TWAIN Data Source Manager library (default: libtwaindsm.so)");
  cmd->add_option("--transfer", a->transfer, "TWAIN transfer: memory or native (default: memory if offered)")
      ->check(CLI::IsMember({"memory", "native"}));
  cmd->add_option("--twain-timeout", a->twain_timeout,
                  "Seconds a TWAIN call may take before the source counts as hung (default 120)")
      ->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--sane-timeout", a->sane_timeout,
                  "Seconds a SANE call may take; past it the scan stops with exit 4, pages so far kept "
                  "(default 120; 0: no limit)")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--twain-memory-limit", a->twain_memory_mb,
                  "MiB of memory the TWAIN host (vendor code) may allocate; 0: no limit (default 4096)")
      ->check(CLI::Range(0L, 1L << 30));
  cmd->add_option("--enqueue", a->enqueue,
                  "When the feeder is emptied, queue the lot for the workers of this PostgreSQL store "
                  "(as `acervo enqueue`)");
  AddSharedRootOption(cmd, a->shared_root, "With --enqueue: the shared root as mounted here");
  cmd->add_option("--replace", a->replace,
                  "LOT DOC: scan one sheet and replace page --page of that stored document with it")
      ->expected(2);
  cmd->add_option("--page", a->page, "With --replace: the page of the document")->check(CLI::Range(1, 1000000));
  cmd->add_option("--store", a->store, "With --replace: the store (a SQLite file or a PostgreSQL connection)");
  cmd->add_option("--note", a->note, "With --replace: why (kept in the history)");
  cmd->add_option("--user", a->user, "With --replace: who acts (default: cli:$USER)");
  cmd->add_flag("--json", a->json, "Print the session report as JSON on stdout");
  cmd->add_flag("--quiet,-q", a->quiet, "No progress on stderr");
  return {cmd, [a, &ctx]() -> int {
            if (!a->replace.empty()) {
              if (a->page < 1 || a->store.empty() || !a->lot.empty()) {
                std::fprintf(stderr, "acervo scan: --replace LOT DOC needs --page N and --store DB (and no --lot)\n");
                return kExitUsage;
              }
              return ScanReplacement(*a, ctx);
            }
            if (a->lot.empty()) {
              std::fprintf(stderr, "acervo scan: --lot is required (or --replace LOT DOC --page N --store DB)\n");
              return kExitUsage;
            }
            ScannerProfile prof;
            fs::path profile_path = a->lot / "profile.toml";
            if (fs::exists(profile_path)) {
              Result<LotProfile> p = LoadProfile(profile_path);
              if (!p.ok()) {
                std::fprintf(stderr, "acervo scan: %s\n", TerminalText(p.status().ToString()).c_str());
                return kExitUsage;
              }
              prof = p->scanner;
            }
            if (!a->enqueue.empty() && !a->shared_root.empty()) {
              // Said now, not after the last page: the workers could not find the lot.
              const fs::path rel = fs::weakly_canonical(fs::absolute(a->lot))
                                       .lexically_relative(fs::weakly_canonical(fs::absolute(a->shared_root)));
              if (rel.empty() || *rel.begin() == ".." || rel == ".") {
                std::fprintf(stderr, "acervo scan: --enqueue: the lot %s is not inside the shared root %s\n",
                             a->lot.c_str(), a->shared_root.c_str());
                return kExitUsage;
              }
            }
            std::string driver;
            Result<ScanSettings> settings = Settings(*a, prof, &driver);
            if (!settings.ok()) {
              std::fprintf(stderr, "acervo scan: %s\n", TerminalText(settings.status().ToString()).c_str());
              return kExitUsage;
            }
            Result<std::unique_ptr<Source>> source = OpenScanner(*a, *settings, driver);
            if (!source.ok()) {
              std::fprintf(stderr, "acervo scan: %s\n", TerminalText(source.status().ToString()).c_str());
              return ExitFor(source.status());
            }
            CaptureOptions o;
            o.lot_dir = a->lot;
            o.resume = a->resume;
            o.driver = driver;
            o.device = settings->device;
            o.cancel = ctx.cancel;
            auto start = std::chrono::steady_clock::now();
            int session_pages = 0;
            o.on_page = [&](const JournalPage& p) -> Status {
              ++session_pages;
              if (!a->quiet) {
                double min = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60;
                std::fprintf(stderr, "[scan] page %d -> %s (%s), %d this session, %.1f pages/min\n", p.sequence,
                             p.file.c_str(), p.side.c_str(), session_pages, min > 0 ? session_pages / min : 0.0);
              }
              return Status::OK();
            };
            CaptureReport r;
            Status s = CaptureLot(**source, o, &r);
            source->reset();  // close the device before reporting
            // A complete lot goes to the queue; a paused one waits for --resume.
            Result<QueuedLot> queued = Status::Cancelled("not queued");
            if (s.ok() && !a->enqueue.empty()) {
              Result<std::unique_ptr<WorkQueue>> queue = OpenWorkQueue(a->enqueue);
              queued = queue.ok() ? EnqueueLot(**queue, a->lot, a->shared_root, QueuedLotOptions{})
                                  : Result<QueuedLot>(queue.status());
              if (!queued.ok()) {
                s = queued.status().WithContext("the lot is complete but could not be queued (run acervo enqueue)");
              }
            }
            if (a->json) {
              nlohmann::json j = {{"lot", a->lot.string()},     {"driver", driver},
                                  {"device", settings->device}, {"first_sequence", r.first_sequence},
                                  {"pages", r.pages},           {"total_pages", r.total_pages},
                                  {"adopted", r.adopted},       {"seconds", r.seconds},
                                  {"status", std::string(StatusCodeName(s.code()))},
                                  {"message", s.message()}};
              if (queued.ok()) j["queued"] = {{"folder", queued->folder}, {"lot", queued->result.lot},
                                             {"already_queued", queued->result.already_queued}};
              std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
            } else {
              std::printf("Lot %s: %d pages scanned this session (from %s), %d complete pages in the lot\n",
                          TerminalText(a->lot.string()).c_str(), r.pages, MasterFileName(r.first_sequence).c_str(),
                          r.total_pages);
              if (queued.ok()) std::printf("%s\n", queued->Describe().c_str());
            }
            if (!s.ok()) std::fprintf(stderr, "acervo scan: %s\n", TerminalText(s.ToString()).c_str());
            return ExitFor(s);
          }};
}

}  // namespace acervo::cli
