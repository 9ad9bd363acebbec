// Opening the store a command line names: one option (`--store`) takes
// either a SQLite file or a PostgreSQL connection.
#ifndef ACERVO_INDEXER_OPEN_STORE_H_
#define ACERVO_INDEXER_OPEN_STORE_H_

#include <filesystem>
#include <map>
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

// Where the files a store's rows name are on this machine. Stored paths are
// relative to their lot's output folder (schema v5, docs/store.md); the
// folder is, in order: `root` when given (alone), else the first of the
// SQLite store's folder (where `acervo run` puts it), the lot's recorded
// output folder and the current folder under which the file exists (the
// first of them when none has it). Absolute stored paths (rows the v5
// migration could not make relative) are kept.
class StoredPaths {
 public:
  StoredPaths() = default;
  // Reads the lots' recorded output folders once (a lot added later falls
  // back to the other folders).
  static StoredPaths ForStore(const std::string& spec, Store& store, const std::filesystem::path& root = {});
  std::filesystem::path Resolve(const std::string& lot_id, const std::string& stored) const;
  // Whether the lot's recorded output folder was read (a long-running
  // reader reloads when a lot is new).
  bool KnowsLot(const std::string& lot_id) const { return lot_roots_.count(lot_id) > 0; }

 private:
  std::filesystem::path root_;        // --root
  std::filesystem::path store_dir_;   // the SQLite store's folder ("" for PostgreSQL)
  std::map<std::string, std::string> lot_roots_;
};

}  // namespace acervo

#endif  // ACERVO_INDEXER_OPEN_STORE_H_
