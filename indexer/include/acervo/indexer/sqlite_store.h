// The SQLite Store: one database file, embedded, safe for several writers.
//
// The file holds the schema of docs/store.md (lots, documents, pages, fields
// and the FTS5 index `pages_fts` over page text, folded for case and
// accents, plus the term tables that let a ranked search read only the best
// pages of common words instead of scoring all of them). Opening runs any
// pending schema migrations, each in its own transaction, so an old file is
// upgraded in place and reopening is a no-op (version 3 fills the term
// tables from the stored pages: minutes for a million pages, once).
//
// The audit trail (schema v13) lives in a second file beside it,
// SqliteAuditTrailPath(path), attached to every connection: a search's
// audit row commits there, so it does not empty every other connection's
// page cache of the store (in WAL mode any commit to a file does, for every
// other connection to that file). The two files are one store: copy, move
// and back them up together; a v13 store whose trail file is missing does
// not open (Corrupt), rather than start an empty trail.
//
// Concurrency: WAL journal (readers never block the writer), a busy timeout,
// and write transactions begun with BEGIN IMMEDIATE and retried on
// SQLITE_BUSY until the timeout: several Store objects in one or several
// processes may write to the same file at once, and each write waits its
// turn instead of failing with "database is locked". Only after the timeout
// does a call fail, with Unavailable.
//
// Thread-safety: as for Store (internally serialised per object).
#ifndef ACERVO_INDEXER_SQLITE_STORE_H_
#define ACERVO_INDEXER_SQLITE_STORE_H_

#include <chrono>
#include <filesystem>
#include <memory>

#include "acervo/core/status.h"
#include "acervo/indexer/store.h"

namespace acervo {

struct SqliteOptions {
  // How long a write waits for other writers before giving up.
  std::chrono::milliseconds busy_timeout{30000};
  // Create the file when missing (its folder must exist: no folder the
  // user did not ask for is created); otherwise NotFound.
  bool create_if_missing = true;
  // Read only: nothing is ever written, not even the WAL or a migration, so
  // a store on read-only media (an archive burnt to disc, a read-only
  // mount) can be searched and verified. When the file or its folder cannot
  // be written, the file is opened as immutable (no locks, no -wal/-shm).
  // Stores of schema version kSqliteMinReadableVersion or later are read;
  // writes fail.
  bool read_only = false;
  // true: every commit is on disk when PutDocument returns (synchronous=FULL,
  // the durability rule). false: synchronous=NORMAL, faster; a power cut may
  // lose the last commits but never corrupts the file.
  bool durable = true;
  // Bytes of the file read through a memory map (PRAGMA mmap_size) rather
  // than copied by read() into each connection's own page cache: every
  // connection of every process shares the OS's copy (issue 13: a search
  // server's connections read 1.3 MB a search from the OS without it).
  // SQLite caps it at its build's SQLITE_MAX_MMAP_SIZE (2 GB on Debian 12:
  // the rest of a bigger file is read as before). 0: none. Not used by
  // read_only opens (an I/O error on a mapped page is a SIGBUS, not an
  // error: archives on read-only media keep read()). docs/store.md says
  // what it means for a store another process writes.
  int64_t mmap_bytes = int64_t{1} << 40;
};

// The newest schema version this build knows (see docs/store.md).
inline constexpr int kSqliteSchemaVersion = 14;  // v5 issue 12, v6 issue 13, v7 issue 15, v8 issue 14, v9 issue 18, v10 issue 19, v11 issue 14, v12 issue 13, v13 issue 13, v14 issue 13
// The oldest schema a read-only open reads as is (an older store must be
// opened once with write access to migrate).
inline constexpr int kSqliteMinReadableVersion = kSqliteSchemaVersion;

// The audit trail file of the store at `path` (schema v13 on): `path`
// followed by "-audit", e.g. acervo.db-audit.
std::filesystem::path SqliteAuditTrailPath(const std::filesystem::path& path);

// Opens or creates the store at `path` and brings its schema up to date.
// Failure: NotFound (missing and !create_if_missing), IOError (cannot
// open/create), Corrupt (not a SQLite database or an Acervo store),
// Unavailable (busy beyond the timeout, or the file's schema is newer than
// this program).
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& path,
                                               const SqliteOptions& options = {});

}  // namespace acervo

#endif  // ACERVO_INDEXER_SQLITE_STORE_H_
