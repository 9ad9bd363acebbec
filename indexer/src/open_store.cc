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

StoredPaths StoredPaths::ForStore(const std::string& spec, Store& store, const std::filesystem::path& root) {
  StoredPaths p;
  p.root_ = root;
  std::error_code ec;
  if (!IsPostgresSpec(spec)) p.store_dir_ = std::filesystem::absolute(spec, ec).parent_path();
  if (Result<std::vector<LotRecord>> lots = store.ListLots(); lots.ok()) {
    for (const LotRecord& l : *lots) p.lot_roots_[l.id] = l.output_root;
  }
  return p;
}

std::filesystem::path StoredPaths::Resolve(const std::string& lot_id, const std::string& stored) const {
  if (stored.empty() || std::filesystem::path(stored).is_absolute()) return stored;
  if (!root_.empty()) return ResolveStoredPath(root_, stored);
  std::vector<std::filesystem::path> roots;
  if (!store_dir_.empty()) roots.push_back(store_dir_);
  auto lot = lot_roots_.find(lot_id);
  if (lot != lot_roots_.end() && !lot->second.empty()) roots.push_back(lot->second);
  std::error_code ec;
  roots.push_back(std::filesystem::current_path(ec));
  for (const std::filesystem::path& r : roots) {
    const std::filesystem::path p = ResolveStoredPath(r, stored);
    if (std::filesystem::exists(std::filesystem::symlink_status(p, ec))) return p;
  }
  return ResolveStoredPath(roots.front(), stored);
}

}  // namespace acervo
