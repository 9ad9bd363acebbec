#include "store_paths.h"

#include "acervo/indexer/store.h"

namespace acervo {

std::filesystem::path ResolveStoredPath(const std::filesystem::path& root, const std::string& stored) {
  if (stored.empty()) return {};
  const std::filesystem::path p(stored);
  return p.is_absolute() ? p : root / p;
}

std::string MigrationRoot(const std::string& pdf_path, std::string* relative) {
  if (pdf_path.empty() || pdf_path[0] != '/') return "";
  const size_t name = pdf_path.rfind('/');
  if (name == std::string::npos || name == 0) return "";
  const size_t lot = pdf_path.rfind('/', name - 1);
  if (lot == std::string::npos) return "";
  *relative = pdf_path.substr(lot + 1);
  return pdf_path.substr(0, lot + 1);
}

Status RelativizeStoredPaths(SqlSession& s) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<SqlRow> rows, s.Query("SELECT id, pdf_path FROM documents"));
  for (const SqlRow& row : rows) {
    if (!row[0] || !row[1]) continue;
    std::string relative;
    const std::string root = MigrationRoot(*row[1], &relative);
    if (root.empty()) continue;
    const int64_t id = std::stoll(*row[0]);
    ACERVO_RETURN_IF_ERROR(
        s.Query("UPDATE documents SET pdf_path = ? WHERE id = ?", {Param(relative), Param(id)}).status());
    // substr is 1-based on both backends.
    ACERVO_RETURN_IF_ERROR(s.Query("UPDATE pages SET master_path = substr(master_path, ?) "
                                   "WHERE doc_id = ? AND substr(master_path, 1, ?) = ?",
                                   {Param(static_cast<int64_t>(root.size() + 1)), Param(id),
                                    Param(static_cast<int64_t>(root.size())), Param(root)})
                               .status());
    ACERVO_RETURN_IF_ERROR(s.Query("UPDATE lots SET output_root = ? WHERE output_root = '' AND "
                                   "id = (SELECT lot_id FROM documents WHERE id = ?)",
                                   {Param(root.substr(0, root.size() - 1)), Param(id)})
                               .status());
  }
  return Status::OK();
}

}  // namespace acervo
