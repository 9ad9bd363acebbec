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

}  // namespace acervo
