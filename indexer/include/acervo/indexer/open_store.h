// Opening the store a command line names: one option (`--store`) takes
// either a SQLite file or a PostgreSQL connection.
#ifndef ACERVO_INDEXER_OPEN_STORE_H_
#define ACERVO_INDEXER_OPEN_STORE_H_

#include <memory>
#include <string>
#include <string_view>

#include "acervo/core/status.h"
#include "acervo/indexer/store.h"

namespace acervo {

// True when `spec` is a libpq connection string: a "postgresql://" or
// "postgres://" URI, or key=value pairs naming a "dbname=" or "host=".
// Anything else is a SQLite file path.
bool IsPostgresSpec(std::string_view spec);

// The store `spec` names (see IsPostgresSpec). A SQLite file is created when
// missing only if `create_if_missing`; a PostgreSQL database must exist
// (its schema is created or migrated either way). Failures as
// OpenSqliteStore / OpenPostgresStore.
Result<std::unique_ptr<Store>> OpenStore(const std::string& spec, bool create_if_missing = true);

// The store `spec` names, for reading only (search, verify): a SQLite file
// is opened read-only (SqliteOptions::read_only: works on read-only media,
// never migrates, never writes) and must exist; a PostgreSQL database as
// OpenStore does.
Result<std::unique_ptr<Store>> OpenStoreForReading(const std::string& spec);

}  // namespace acervo

#endif  // ACERVO_INDEXER_OPEN_STORE_H_
