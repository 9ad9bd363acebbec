// The PostgreSQL Store: the same contract as the SQLite one (store.h), for
// several machines writing and searching one index.
//
// Full text: each page's text is indexed as a `tsvector` column (GIN index)
// computed by this client with the analyzer the SQLite store's FTS5
// tokenizer uses (schema v7, issue 15): folded surface words plus words
// hyphenated across line ends and identifiers joined, so both stores match
// the same terms. Inflections and OCR misreadings are found at query time
// from the vocabulary (forgiving search, docs/store.md), as in SQLite.
// Queries of query.h are translated to `tsquery` text from the parsed,
// folded tokens and passed as bound parameters cast with `::tsquery`: user
// text never reaches SQL as syntax. Ranking follows the SQLite store (schema
// v3 "champion lists" per lexeme, candidates scored with BM25 from their
// tsvectors, combined per document the same way, ordered by match tier);
// snippets come from the shared snippet builder. Writes go by COPY.
// See docs/store.md.
//
// Schema migrations are versioned (schema_version table) and applied at
// open under a transaction-scoped advisory lock, so two processes opening a
// new database at once do not both migrate. Migration 1 creates the
// `unaccent` extension: the connecting role must be allowed to (or the
// extension must already exist).
//
// Concurrency: every write is one transaction; PutDocument takes an
// advisory lock on (lot, document) so concurrent writers of one document
// serialise, and retries on serialization failures and deadlocks until the
// timeout, then fails with Unavailable.
//
// Thread-safety: as for Store (one connection per object, internally
// serialised).
#ifndef ACERVO_INDEXER_POSTGRES_STORE_H_
#define ACERVO_INDEXER_POSTGRES_STORE_H_

#include <chrono>
#include <memory>
#include <string>

#include "acervo/core/status.h"
#include "acervo/indexer/store.h"

namespace acervo {

struct PostgresOptions {
  // How long a write keeps retrying conflicts before giving up.
  std::chrono::milliseconds busy_timeout{30000};
};

// The newest schema version this build knows (see docs/store.md).
inline constexpr int kPostgresSchemaVersion = 14;  // v5 issue 12, v6 issue 13, v7 issue 15, v8 issue 14, v9 issue 18, v10 issue 19, v11 issue 14, v12 issue 13, v13 issue 13, v14 issue 13

// Connects with a libpq connection string ("host=/tmp/pg dbname=acervo" or
// "postgresql://...") and brings the schema up to date. Failure: Unavailable
// (cannot connect: the server's message), Unavailable (schema newer than
// this program), Corrupt (the database has tables but is not an Acervo
// store), IOError for other server errors.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo,
                                                 const PostgresOptions& options = {});

// The tsquery text for one FTS5 expression produced by ParseQuery (quoted
// strings, `*` prefixes, AND/OR/NOT, parentheses): words become quoted
// lexemes, phrases `<->` chains, prefixes `:*`. Exposed for tests.
// InvalidArgument when a quoted string holds no letter or digit.
Result<std::string> FtsToTsquery(std::string_view fts);

}  // namespace acervo

#endif  // ACERVO_INDEXER_POSTGRES_STORE_H_
