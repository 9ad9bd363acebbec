// acervo devices: the scanners SANE and TWAIN can reach now, and (with
// --options) the raw options a device offers for `acervo scan --option`.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "acervo/scanner/sane_source.h"
#include "acervo/scanner/twain_source.h"
#include "acervo/core/text.h"
#include "cli/commands.h"

namespace acervo::cli {

Command AddDevicesCommand(CLI::App& root, const Context&) {
  struct Args {
    std::string driver = "sane";
    std::string options_of;
    std::string dsm;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand("devices", "List the scanners SANE or TWAIN can reach");
  cmd->add_option("--driver", a->driver, "sane, twain or all (default: sane)")
      ->check(CLI::IsMember({"sane", "twain", "all"}));
  cmd->add_option("--options", a->options_of, "List the raw options of this SANE device");
  cmd->add_option("--twain-dsm", a->dsm, "TWAIN Data Source Manager library (default: libtwaindsm.so)");
  cmd->add_flag("--json", a->json, "Machine output on stdout");
  return {cmd, [a]() -> int {
            if (!a->options_of.empty()) {
              Result<std::vector<std::string>> lines = DescribeSaneOptions(a->options_of);
              if (!lines.ok()) {
                std::fprintf(stderr, "acervo devices: %s\n", TerminalText(lines.status().ToString()).c_str());
                return lines.status().code() == StatusCode::kNotFound ? kExitUsage : kExitCannotRun;
              }
              if (a->json) {
                std::printf("%s\n", nlohmann::json(*lines).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
              } else {
                for (const std::string& l : *lines) std::printf("%s\n", TerminalText(l).c_str());
              }
              return kExitOk;
            }
            nlohmann::json out = nlohmann::json::array();
            int failures = 0;
            auto add = [&](const char* driver, const Result<std::vector<ScannerInfo>>& list) {
              if (!list.ok()) {
                ++failures;
                std::fprintf(stderr, "acervo devices: %s: %s\n", driver, TerminalText(list.status().ToString()).c_str());
                return;
              }
              for (const ScannerInfo& d : *list) {
                out.push_back({{"driver", driver}, {"name", d.name}, {"vendor", d.vendor},
                               {"model", d.model}, {"type", d.type}});
                if (!a->json) {
                  // Driver strings are not always UTF-8 (or clean): shown, never obeyed.
                  std::printf("%s\t%s\t%s %s (%s)\n", driver, TerminalText(d.name).c_str(),
                              TerminalText(d.vendor).c_str(), TerminalText(d.model).c_str(),
                              TerminalText(d.type).c_str());
                }
              }
            };
            if (a->driver == "sane" || a->driver == "all") add("sane", ListSaneDevices());
            if (a->driver == "twain" || a->driver == "all") {
              TwainOptions t;
              t.dsm_path = a->dsm;
              add("twain", ListTwainSources(t));
            }
            if (a->json) std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
            if (!a->json && out.empty() && failures == 0) std::fprintf(stderr, "acervo devices: no scanners found\n");
            return failures > 0 && out.empty() ? kExitCannotRun : kExitOk;
          }};
}

}  // namespace acervo::cli
