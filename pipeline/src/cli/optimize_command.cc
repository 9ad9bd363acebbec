// acervo optimize: store maintenance after large ingests (Store::Optimize,
// docs/store.md).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "acervo/indexer/open_store.h"
#include "cli/commands.h"

namespace acervo::cli {

Command AddOptimizeCommand(CLI::App& root, const Context&) {
  auto store = std::make_shared<std::string>();
  CLI::App* cmd = root.add_subcommand(
      "optimize", "Merge the store's text index after large ingests (same answers, faster searches); "
                  "holds the write lock while it runs");
  cmd->add_option("--store", *store, "Store: a SQLite file or a PostgreSQL connection string")->required();
  return {cmd, [store]() -> int {
            Result<std::unique_ptr<Store>> opened = OpenStore(*store, /*create_if_missing=*/false);
            if (!opened.ok()) {
              std::fprintf(stderr, "acervo optimize: %s\n", opened.status().ToString().c_str());
              return kExitCannotRun;
            }
            const auto t0 = std::chrono::steady_clock::now();
            Status s = (*opened)->Optimize();
            if (!s.ok()) {
              std::fprintf(stderr, "acervo optimize: %s\n", s.ToString().c_str());
              return kExitCannotRun;
            }
            std::printf("store optimized in %.1f s\n",
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            return kExitOk;
          }};
}

}  // namespace acervo::cli
