// acervo verify: re-hash masters, check PDFs against masters and the store.
#include <cstdio>
#include <memory>
#include <string>

#include "acervo/core/text.h"
#include "acervo/pipeline/verify.h"
#include "cli/commands.h"

namespace acervo::cli {

Command AddVerifyCommand(CLI::App& root, const Context& /*ctx*/) {
  struct Args {
    VerifyOptions options;
    std::string store;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand(
      "verify", "Re-hash masters and check every PDF against its masters and the store");
  cmd->add_option("OUT_DIR", a->options.out_dir, "Output folder of acervo run (--out)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--store", a->store, "Store: a SQLite file, or a PostgreSQL connection string (postgresql://... or \"host=... dbname=...\") (default: OUT_DIR/acervo.db)");
  cmd->add_flag("--json", a->json, "Print the report as JSON on stdout");
  return {cmd, [a]() -> int {
            a->options.store_path = a->store;
            Result<VerifyReport> r = VerifyOutput(a->options);
            if (!r.ok()) {
              std::fprintf(stderr, "acervo verify: %s\n", TerminalText(r.status().ToString()).c_str());
              return kExitCannotRun;
            }
            if (a->json) {
              std::printf("%s\n", r->ToJson().c_str());
            } else {
              for (const VerifyIssue& i : r->mismatches) {
                std::fprintf(stderr, "mismatch: %s: %s\n", TerminalText(i.where).c_str(),
                             TerminalText(i.message).c_str());
              }
              std::printf("%s: %d lots, %d documents, %d PDFs, %d masters checked; %zu mismatches\n",
                          r->ok() ? "OK" : "FAILED", r->lots, r->documents, r->pdfs, r->masters,
                          r->mismatches.size());
            }
            return r->ok() ? kExitOk : kExitPartial;
          }};
}

}  // namespace acervo::cli
