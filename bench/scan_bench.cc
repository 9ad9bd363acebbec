// scan_bench: scanning throughput in pages/min, A4 at 300 dpi, 8-bit gray,
// through the same Source interface and CaptureLot that `acervo scan` uses:
//
//   sane         SANE's own `test` backend (real libsane; ADF, Grid picture)
//   twain-inproc the TWAIN session run inside this process (the test DSM and
//                data source, A4 pages): what Acervo did before issue 17
//   twain-host   the same session in the TWAIN host process, pages streamed
//                over the socket pair (what `acervo scan` does now)
//
// Two measures for each: "transfer" (Next() until the feeder is empty; pages
// are dropped) and "capture" (CaptureLot: every page a write-once LZW master,
// fsynced, journalled). Rounds are interleaved (sane, in-process, host, ...)
// so machine noise hits all three alike; the medians and the ratio
// host / in-process (the cost of the process boundary; goal < 5 %) are
// printed. Wall time on a shared machine mostly measures the scheduler, so
// CPU time per page (user + system, this process and the reaped host
// together) is printed too: what the boundary costs in work, independent of
// the load.
//
//   scan_bench [--pages N] [--rounds R] [--dir DIR] [--only SOURCE] [--measure transfer|capture]
//   (--only, --measure: one source, one measure, e.g. under `perf record`,
//   whose cpu-clock samples of both processes are the load-independent figure)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "acervo/scanner/lot_capture.h"
#include "acervo/scanner/sane_source.h"
#include "acervo/scanner/twain_source.h"
#include "support/sane_config.h"
#include "twain_page_assembler.h"
#include "twain_session.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// libsane reads SANE_CONFIG_DIR once, at its first use.
const fs::path kSaneConfig = testing::UseSaneTestConfig();

// The TWAIN session in this process, as a Source (the peer of the host).
class InProcessTwain final : public Source {
 public:
  static Result<std::unique_ptr<Source>> Open(const twain_wire::OpenRequest& r) {
    std::unique_ptr<InProcessTwain> s(new InProcessTwain());
    ACERVO_ASSIGN_OR_RETURN(s->session_, TwainSession::Load(r.dsm_path, nullptr));
    ACERVO_RETURN_IF_ERROR(s->session_->Open(r));
    return std::unique_ptr<Source>(std::move(s));
  }
  Result<std::optional<CapturedPage>> Next(const std::atomic<bool>* cancel) override {
    TwainPageAssembler page("in-process TWAIN");
    struct Sink final : TwainPageSink {
      TwainPageAssembler* a;
      Status Begin(const TwainPageInfo& i) override { return a->Begin(i); }
      Status Strip(const TwainStrip& s, std::span<const uint8_t> b) override { return a->AddStrip(s, b); }
      Status NativeBytes(std::span<const uint8_t> b) override { return a->AddNative(b); }
    } sink;
    sink.a = &page;
    ACERVO_ASSIGN_OR_RETURN(bool got, session_->NextPage(sink, cancel));
    if (!got) return std::optional<CapturedPage>();
    ACERVO_ASSIGN_OR_RETURN(CapturedPage p, page.Finish());
    p.sequence = ++pages_;
    return std::optional<CapturedPage>(std::move(p));
  }
  Status SetOption(std::string_view, std::string_view) override { return Status::InvalidArgument("no options"); }
  std::string Describe() const override { return "twain-inproc"; }

 private:
  std::unique_ptr<TwainSession> session_;
  int pages_ = 0;
};

using Opener = std::function<Result<std::unique_ptr<Source>>()>;

// CPU seconds of this process and its reaped children (the TWAIN host).
double CpuSeconds() {
  double t = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage ru{};
    ::getrusage(who, &ru);
    t += ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  }
  return t;
}

struct RoundResult {
  double seconds = 0, cpu = 0;
  int pages = 0;
};

// One round: open, then either drain the feeder or capture it into a fresh
// lot (0 pages on failure, with a message). The source is closed (the host
// reaped) before the clocks stop.
RoundResult Round(const Opener& open, bool capture, const fs::path& lot) {
  const Clock::time_point t0 = Clock::now();
  const double cpu0 = CpuSeconds();
  Result<std::unique_ptr<Source>> src = open();
  if (!src.ok()) {
    std::fprintf(stderr, "open: %s\n", src.status().ToString().c_str());
    return {};
  }
  int pages = 0;
  if (capture) {
    fs::remove_all(lot);
    CaptureOptions o;
    o.lot_dir = lot;
    CaptureReport r;
    Status s = CaptureLot(**src, o, &r);
    if (!s.ok()) std::fprintf(stderr, "capture: %s\n", s.ToString().c_str());
    pages = r.pages;
  } else {
    for (;;) {
      Result<std::optional<CapturedPage>> p = (*src)->Next(nullptr);
      if (!p.ok()) {
        std::fprintf(stderr, "next: %s\n", p.status().ToString().c_str());
        break;
      }
      if (!p->has_value()) break;
      ++pages;
    }
  }
  src->reset();
  return {std::chrono::duration<double>(Clock::now() - t0).count(), CpuSeconds() - cpu0, pages};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Main(int argc, char** argv) {
  int pages = 10, rounds = 5;
  std::string only, measure;
  fs::path dir = fs::temp_directory_path() / ("acervo-scan-bench-" + std::to_string(::getpid()));
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--pages") == 0) pages = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    else if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
    else if (std::strcmp(argv[i], "--measure") == 0) measure = argv[i + 1];
  }
  if (kSaneConfig.empty()) {
    std::fprintf(stderr, "cannot write a SANE test configuration\n");
    return 1;
  }
  // The TWAIN test source: A4 at the negotiated resolution, strips as large
  // as its buffer, `pages` sheets in the feeder.
  ::setenv("ACERVO_TEST_TWAIN_DS", ACERVO_TEST_TWAIN_DS_LIB, 1);
  ::setenv("ACERVO_TEST_TWAIN_PAPER", "a4", 1);
  ::setenv("ACERVO_TEST_TWAIN_STRIP_ROWS", "0", 1);
  ::setenv("ACERVO_TEST_TWAIN_PAGES", std::to_string(pages).c_str(), 1);
  twain_wire::OpenRequest twain;
  twain.dsm_path = ACERVO_TEST_TWAIN_DSM;
  twain.device = "Acervo Test Source";
  twain.source = "adf";
  twain.mode = "gray";
  twain.resolution = 300;
  twain.transfer = "memory";
  ScanSettings twain_settings;
  twain_settings.device = twain.device;
  twain_settings.source = twain.source;
  twain_settings.mode = twain.mode;
  twain_settings.resolution = twain.resolution;
  TwainOptions host;
  host.dsm_path = twain.dsm_path;
  host.transfer = twain.transfer;
  // SANE's test backend: A4, 8-bit gray, its ADF (10 sheets per load).
  ScanSettings sane;
  sane.device = "test:0";
  sane.source = "adf";
  sane.mode = "gray";
  sane.resolution = 300;
  sane.options = {{"read-return-value", "Default"}, {"read-delay", "no"}, {"read-limit", "no"},
                  {"test-picture", "Grid"}, {"tl-x", "0"}, {"tl-y", "0"}, {"br-x", "210"}, {"br-y", "297"}};
  std::vector<std::pair<std::string, Opener>> sources = {
      {"sane", [&] { return OpenSaneSource(sane); }},
      {"twain-inproc", [&] { return InProcessTwain::Open(twain); }},
      {"twain-host", [&] { return OpenTwainSource(twain_settings, host); }},
  };
  if (!only.empty()) {
    std::erase_if(sources, [&](const auto& s) { return s.first != only; });
    if (sources.empty()) {
      std::fprintf(stderr, "--only: sane, twain-inproc or twain-host\n");
      return 2;
    }
  }
  std::printf("A4 300 dpi 8-bit gray; %d TWAIN sheets per round (SANE's test ADF: 10), %d rounds, medians\n", pages,
              rounds);
  std::map<std::string, std::vector<double>> rate;    // pages/min per "source measure"
  std::map<std::string, std::vector<double>> cpu_ms;  // CPU ms per page
  for (bool capture : {false, true}) {
    if (!measure.empty() && (measure == "capture") != capture) continue;
    for (int r = 0; r < rounds; ++r) {
      for (const auto& [name, open] : sources) {
        RoundResult rr = Round(open, capture, dir / name);
        if (rr.pages == 0) return 1;
        const std::string key = name + (capture ? " capture" : " transfer");
        rate[key].push_back(rr.pages / rr.seconds * 60);
        cpu_ms[key].push_back(rr.cpu / rr.pages * 1000);
      }
    }
  }
  fs::remove_all(dir);
  std::printf("%-14s %18s %18s %16s %16s\n", "source", "transfer pages/min", "capture pages/min", "transfer CPU ms",
              "capture CPU ms");
  for (const auto& [name, open] : sources) {
    std::printf("%-14s %18.1f %18.1f %16.2f %16.2f\n", name.c_str(), Median(rate[name + " transfer"]),
                Median(rate[name + " capture"]), Median(cpu_ms[name + " transfer"]), Median(cpu_ms[name + " capture"]));
  }
  for (const char* m : {"transfer", "capture"}) {
    if (!only.empty() || !measure.empty()) break;
    const double in = Median(rate[std::string("twain-inproc ") + m]);
    const double out = Median(rate[std::string("twain-host ") + m]);
    const double cin = Median(cpu_ms[std::string("twain-inproc ") + m]);
    const double cout = Median(cpu_ms[std::string("twain-host ") + m]);
    std::printf("process boundary cost, %s: wall %+.1f %% (host %.1f vs in-process %.1f pages/min), "
                "CPU %+.1f %% (%.2f vs %.2f ms/page)\n",
                m, (in / out - 1) * 100, out, in, (cout / cin - 1) * 100, cout, cin);
  }
  std::printf("load average at the end: ");
  std::fflush(stdout);
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    char b[64] = {};
    if (std::fgets(b, sizeof(b), f) != nullptr) std::printf("%s", b);
    std::fclose(f);
  }
  return 0;
}

}  // namespace
}  // namespace acervo

int main(int argc, char** argv) { return acervo::Main(argc, argv); }
