// Paths in the store (schema v5): relative to the output root, so an
// archive can be moved, copied or mounted elsewhere and still verified and
// searched where it is. Shared by both stores' migration 5.
#ifndef ACERVO_INDEXER_STORE_PATHS_H_
#define ACERVO_INDEXER_STORE_PATHS_H_

#include <string>

namespace acervo {

// Migration 5 of one document row: a PDF path written before v5 is
// absolute, OUT/<lot folder>/<name>.pdf, so its output root is the folder
// two levels up. Returns that root with a trailing '/' and sets *relative
// to the PDF path below it; returns "" (nothing to do) for a path that is
// already relative or too short to have a root. Master paths of the row
// that start with the same root lose that prefix too (the caller's SQL:
// substr(master_path, length(root) + 1)).
std::string MigrationRoot(const std::string& pdf_path, std::string* relative);

}  // namespace acervo

#endif  // ACERVO_INDEXER_STORE_PATHS_H_
