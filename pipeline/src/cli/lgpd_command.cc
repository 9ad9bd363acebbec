// acervo lgpd report: the data-subject report (web/lgpd_report.h) from the
// command line, as JSON, HTML or PDF (the HTML printed by headless
// Chromium). The request is audited as done by "cli:<OS user>".
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "acervo/core/files.h"
#include "acervo/core/personal_numbers.h"
#include "acervo/indexer/open_store.h"
#include "acervo/web/lgpd_report.h"
#include "cli/commands.h"

extern char** environ;

namespace acervo::cli {
namespace {

namespace fs = std::filesystem;

// `html` printed to `out` by headless Chromium (Debian's /usr/bin/chromium).
Status PrintPdf(const std::string& html, const fs::path& out) {
  const char* browser = std::getenv("ACERVO_CHROMIUM");
  const std::string exe = browser != nullptr ? browser : "/usr/bin/chromium";
  if (::access(exe.c_str(), X_OK) != 0) {
    return Status::Unavailable("--format pdf prints the report with Chromium: " + exe +
                                      " is missing (apt-get install chromium, or ACERVO_CHROMIUM=path)");
  }
  std::error_code ec;
  const fs::path dir = fs::temp_directory_path() / ("acervo-lgpd-" + std::to_string(::getpid()));
  fs::create_directories(dir, ec);
  const fs::path page = dir / "report.html", pdf = dir / "report.pdf";
  Status s = WriteFileAtomic(page, html);
  if (s.ok()) {
    std::vector<std::string> args = {exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                                     "--user-data-dir=" + (dir / "profile").string(),
                                     "--print-to-pdf=" + pdf.string(), "file://" + page.string()};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int status = 0;
    if (posix_spawn(&pid, exe.c_str(), &quiet, nullptr, argv.data(), environ) != 0 || waitpid(pid, &status, 0) != pid ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::exists(pdf) || fs::file_size(pdf, ec) == 0) {
      s = Status::Internal("Chromium could not print the report to PDF");
    }
    posix_spawn_file_actions_destroy(&quiet);
  }
  if (s.ok()) {
    // Copied, then renamed into place: no partial PDF under the final name.
    const fs::path tmp = out.string() + ".part";
    fs::copy_file(pdf, tmp, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(tmp, out, ec);
    if (ec) s = Status::IOError("cannot write " + out.string() + ": " + ec.message());
  }
  fs::remove_all(dir, ec);
  return s;
}

}  // namespace

Command AddLgpdCommand(CLI::App& root, const Context&) {
  struct Args {
    std::string store, cpf, format = "html", out;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("lgpd", "LGPD: what the archive holds about a data subject");
  cmd->require_subcommand(1);
  CLI::App* report = cmd->add_subcommand(
      "report", "Every document where a CPF appears (index fields, OCR text, one-digit misreads) and every recorded "
                "access to them; the request is audited");
  report->add_option("--store", a->store, "Store: a SQLite file or a PostgreSQL connection string")->required();
  report->add_option("--cpf", a->cpf, "The data subject's CPF (with or without punctuation)")->required();
  report->add_option("--format", a->format, "html (default), json or pdf")->check(CLI::IsMember({"html", "json", "pdf"}));
  report->add_option("--out", a->out, "Write the report here (default: standard output; required for pdf)");
  return {cmd, [a]() -> int {
            if (a->format == "pdf" && a->out.empty()) {
              std::fprintf(stderr, "acervo lgpd report: --format pdf needs --out FILE.pdf\n");
              return kExitUsage;
            }
            Result<std::unique_ptr<Store>> store = OpenStore(a->store, /*create_if_missing=*/false);
            if (!store.ok()) {
              std::fprintf(stderr, "acervo lgpd report: %s\n", store.status().ToString().c_str());
              return kExitCannotRun;
            }
            Result<web::LgpdReport> r = web::BuildLgpdReport(**store, a->cpf, CliActor(), "local");
            if (!r.ok()) {
              std::fprintf(stderr, "acervo lgpd report: %s\n", r.status().ToString().c_str());
              return r.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitCannotRun;
            }
            Status s;
            if (a->format == "pdf") {
              s = PrintPdf(web::LgpdReportHtml(*r), a->out);
            } else {
              const std::string text = a->format == "json" ? web::LgpdReportJson(*r) : web::LgpdReportHtml(*r);
              if (a->out.empty()) {
                std::fwrite(text.data(), 1, text.size(), stdout);
              } else {
                s = WriteFileAtomic(a->out, text);
              }
            }
            if (!s.ok()) {
              std::fprintf(stderr, "acervo lgpd report: %s\n", s.ToString().c_str());
              return kExitCannotRun;
            }
            std::fprintf(stderr, "acervo lgpd report: CPF %s in %zu of %lld documents\n", FormatCpf(r->cpf).c_str(),
                         r->documents.size(), static_cast<long long>(r->documents_scanned));
            return kExitOk;
          }};
}

}  // namespace acervo::cli
