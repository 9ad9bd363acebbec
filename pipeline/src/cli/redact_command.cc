// acervo redact: a redacted PDF/A copy of one stored document for release
// (pipeline/redact.h). The original is never modified; the copy and the
// audit trail record what was redacted and by whom ("cli:<OS user>").
#include <cstdio>
#include <memory>
#include <string>

#include "acervo/indexer/open_store.h"
#include "acervo/pipeline/redact.h"
#include "cli/commands.h"

namespace acervo::cli {

Command AddRedactCommand(CLI::App& root, const Context&) {
  struct Args {
    std::string store, lot, doc, out;
    RedactOptions options;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = root.add_subcommand(
      "redact", "Write a redacted PDF/A copy of a document: CPF/CNPJ, fields or words burnt out of the page images "
                "and left out of the text layer");
  cmd->add_option("--store", a->store, "Store: a SQLite file or a PostgreSQL connection string")->required();
  cmd->add_option("LOT", a->lot, "Lot id")->required();
  cmd->add_option("DOC", a->doc, "Document id")->required();
  cmd->add_flag("--cpf", a->options.cpf, "Every CPF, also as OCR misreads its shape");
  cmd->add_flag("--cnpj", a->options.cnpj, "Every CNPJ, also as OCR misreads its shape");
  cmd->add_option("--field", a->options.fields, "The value of this index field wherever it occurs (repeatable)");
  cmd->add_option("--words", a->options.words, "These words (case and accents ignored)");
  cmd->add_option("--out", a->out, "The copy to write (PDF/A)")->required();
  return {cmd, [a]() -> int {
            Result<std::unique_ptr<Store>> store = OpenStore(a->store, /*create_if_missing=*/false);
            if (!store.ok()) {
              std::fprintf(stderr, "acervo redact: %s\n", store.status().ToString().c_str());
              return kExitCannotRun;
            }
            a->options.actor = CliActor();
            a->options.out = a->out;
            a->options.store_spec = a->store;
            Result<RedactResult> r = RedactDocument(**store, a->lot, a->doc, a->options);
            if (!r.ok()) {
              std::fprintf(stderr, "acervo redact: %s/%s: %s\n", a->lot.c_str(), a->doc.c_str(),
                           r.status().ToString().c_str());
              const StatusCode c = r.status().code();
              return c == StatusCode::kInvalidArgument || c == StatusCode::kNotFound ? kExitUsage : kExitCannotRun;
            }
            std::string counts;
            for (const auto& [why, n] : r->counts) counts += (counts.empty() ? "" : ", ") + why + " x" + std::to_string(n);
            std::printf("%s: %d pages, %zu boxes (%s), sha256 %s\n", r->path.c_str(), r->pages, r->boxes.size(),
                        counts.empty() ? "nothing found" : counts.c_str(), r->sha256.c_str());
            return kExitOk;
          }};
}

}  // namespace acervo::cli
