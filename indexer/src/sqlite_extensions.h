// The SQL functions and the FTS5 tokenizer the SQLite store registers on
// its connection (acervo_bm25, acervo_phrases, acervo_rank, the `acervo` tokenizer of
// analyzer.h). Any other connection that reads `pages_fts` (tests, tools)
// must register them first: FTS5 refuses a table whose tokenizer it does
// not know ("no such tokenizer: acervo").
//
// Thread-safety: call once per connection, before using it.
#ifndef ACERVO_INDEXER_SRC_SQLITE_EXTENSIONS_H_
#define ACERVO_INDEXER_SRC_SQLITE_EXTENSIONS_H_

#include <sqlite3.h>

#include "acervo/core/status.h"

namespace acervo {

// Internal on failure (an SQLite without usable FTS5).
Status RegisterSqliteExtensions(sqlite3* db);

}  // namespace acervo

#endif  // ACERVO_INDEXER_SRC_SQLITE_EXTENSIONS_H_
