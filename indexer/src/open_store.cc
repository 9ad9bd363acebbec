#include "acervo/indexer/open_store.h"

#include "acervo/indexer/postgres_store.h"
#include "acervo/indexer/sqlite_store.h"

namespace acervo {

bool IsPostgresSpec(std::string_view spec) {
  if (spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0) return true;
  // A file path never holds "dbname=" or "host=" followed by a value in
  // practice; libpq key=value strings always name one of them.
  for (std::string_view key : {"dbname=", "host="}) {
    const size_t at = spec.find(key);
    if (at != std::string_view::npos && (at == 0 || spec[at - 1] == ' ')) return true;
  }
  return false;
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& spec, bool create_if_missing) {
  if (IsPostgresSpec(spec)) return OpenPostgresStore(spec);
  SqliteOptions options;
  options.create_if_missing = create_if_missing;
  return OpenSqliteStore(spec, options);
}

Result<std::unique_ptr<Store>> OpenStoreForReading(const std::string& spec) {
  if (IsPostgresSpec(spec)) return OpenPostgresStore(spec);
  SqliteOptions options;
  options.create_if_missing = false;
  options.read_only = true;
  return OpenSqliteStore(spec, options);
}

}  // namespace acervo
