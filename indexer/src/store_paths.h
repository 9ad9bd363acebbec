// Paths in the store (schema v5): relative to the output root, so an
// archive can be moved, copied or mounted elsewhere and still be verified
// and searched where it is. Migration 5, written once for both stores.
#ifndef ACERVO_INDEXER_STORE_PATHS_H_
#define ACERVO_INDEXER_STORE_PATHS_H_

#include <string>

#include "acervo/core/status.h"
#include "sql_session.h"

namespace acervo {

// Migration 5's DDL, valid SQL for SQLite and PostgreSQL alike: each lot
// remembers the output folder its paths were written under.
inline constexpr const char* kSchemaV5Sql = "ALTER TABLE lots ADD COLUMN output_root TEXT NOT NULL DEFAULT ''";

// Migration 5 of one document row: a PDF path written before v5 is
// absolute, OUT/<lot folder>/<name>.pdf, so its output root is the folder
// two levels up. Returns that root with a trailing '/' and sets *relative
// to the PDF path below it; returns "" (nothing to do) for a path that is
// already relative or too short to have a root.
std::string MigrationRoot(const std::string& pdf_path, std::string* relative);

// Migration 5's rows, run inside the migration's write transaction after
// kSchemaV5Sql: every document's PDF path, and the master paths of its
// pages below the same root, made relative to that root (master paths
// elsewhere stay absolute); each lot's output_root set from its documents.
Status RelativizeStoredPaths(SqlSession& s);

}  // namespace acervo

#endif  // ACERVO_INDEXER_STORE_PATHS_H_
