#include "acervo/pipeline/lot.h"

#include <algorithm>
#include <map>
#include <set>

#include "acervo/core/files.h"
#include "acervo/pipeline/csv.h"
#include "acervo/pipeline/separation.h"
#include "acervo/scanner/image_file.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Status ReadManifest(const fs::path& path, LotPlan* plan, const std::map<std::string, int>& by_name,
                    std::set<int>* referenced) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(path));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ACERVO_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ParseCsv(text, "manifest.csv"));
  if (rows.empty()) return Status::InvalidArgument("manifest.csv: empty (a header row is required)");
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < rows[0].fields.size(); ++i) col[Trim(rows[0].fields[i])] = i;
  for (const char* need : {"document_id", "document_type", "title", "files"}) {
    if (!col.count(need)) {
      return Status::InvalidArgument(std::string("manifest.csv line 1: missing column '") + need + "'");
    }
  }
  std::set<std::string> ids, file_names;
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    std::string where = "manifest.csv line " + std::to_string(row.line);
    if (!row.error.empty()) {  // e.g. a 1 MB field: this row only
      plan->problems.push_back({where, row.error + "; row skipped"});
      continue;
    }
    auto get = [&](const std::string& c) {
      size_t i = col.at(c);
      return i < row.fields.size() ? Trim(row.fields[i]) : std::string();
    };
    DocumentPlan doc;
    doc.id = get("document_id");
    doc.type = get("document_type");
    doc.title = get("title");
    if (row.fields.size() != rows[0].fields.size()) {
      plan->problems.push_back({where, "has " + std::to_string(row.fields.size()) + " columns, header has " +
                                           std::to_string(rows[0].fields.size()) + "; row skipped"});
      continue;
    }
    if (doc.id.empty()) {
      plan->problems.push_back({where, "empty document_id; row skipped"});
      continue;
    }
    if (!ids.insert(doc.id).second) {
      plan->problems.push_back({where, "document_id '" + doc.id + "' is repeated; row skipped"});
      continue;
    }
    doc.file_name = SafeFileName(doc.id);
    while (!file_names.insert(doc.file_name).second) doc.file_name += "_";
    for (const auto& [name, index] : col) {
      if (name == "document_id" || name == "document_type" || name == "title" || name == "files") continue;
      std::string v = get(name);
      if (!v.empty()) {
        doc.fields.emplace_back(name, v);
        doc.field_sources[name] = where;
      }
    }
    // A required field without a value is not warned about here: OCR
    // extraction may still fill it. The "missing_field" review item is
    // computed once the pages are read (metadata.h).
    for (std::string entry : Split(get("files"), ';')) {
      entry = Trim(entry);
      if (entry.empty()) continue;
      int page = 0;
      size_t hash = entry.rfind('#');
      if (hash != std::string::npos) {
        try {
          page = std::stoi(entry.substr(hash + 1));
        } catch (...) {
          page = -1;
        }
        entry = entry.substr(0, hash);
      }
      auto it = by_name.find(entry);
      if (it == by_name.end()) {
        doc.errors.push_back(where + ": file '" + entry + "' is not in the lot");
        continue;
      }
      const InputFile& f = plan->files[it->second];
      referenced->insert(it->second);
      if (!f.status.ok()) {
        doc.errors.push_back(f.status.message());
        continue;
      }
      if (page == 0) {
        for (int p = 1; p <= f.pages; ++p) doc.pages.push_back({it->second, p});
      } else if (page < 1 || page > f.pages) {
        doc.errors.push_back(where + ": '" + entry + "#" + std::to_string(page) +
                             "': the file has " + std::to_string(f.pages) + " page(s)");
      } else {
        doc.pages.push_back({it->second, page});
      }
    }
    if (doc.pages.empty() && doc.errors.empty()) doc.errors.push_back(where + ": no pages listed");
    for (const std::string& e : doc.errors) plan->problems.push_back({"document " + doc.id, e});
    plan->documents.push_back(std::move(doc));
  }
  return Status::OK();
}

// With a separation rule the documents come from the page stream, and the
// manifest only adds index data to the documents whose id it names (its
// `files` column, if any, is not used).
Status ApplyManifestById(const fs::path& path, LotPlan* plan) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(path));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ACERVO_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ParseCsv(text, "manifest.csv"));
  if (rows.empty()) return Status::InvalidArgument("manifest.csv: empty (a header row is required)");
  std::vector<std::string> header;
  for (const std::string& h : rows[0].fields) header.push_back(Trim(h));
  if (std::find(header.begin(), header.end(), "document_id") == header.end()) {
    return Status::InvalidArgument("manifest.csv line 1: missing column 'document_id'");
  }
  std::map<std::string, DocumentPlan*> by_id;
  for (DocumentPlan& d : plan->documents) by_id[d.id] = &d;
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    const std::string where = "manifest.csv line " + std::to_string(row.line);
    if (row.fields.size() != header.size()) {
      plan->problems.push_back({where, "has " + std::to_string(row.fields.size()) + " columns, header has " +
                                           std::to_string(header.size()) + "; row skipped"});
      continue;
    }
    std::string id;
    for (size_t c = 0; c < header.size(); ++c)
      if (header[c] == "document_id") id = Trim(row.fields[c]);
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      plan->warnings.push_back({where, "document '" + id + "' was not found by the separation rule; row unused"});
      continue;
    }
    DocumentPlan& doc = *it->second;
    for (size_t c = 0; c < header.size(); ++c) {
      const std::string v = Trim(row.fields[c]);
      const std::string& name = header[c];
      if (v.empty() || name == "document_id" || name == "files") continue;
      if (name == "document_type") {
        doc.type = v;
      } else if (name == "title") {
        doc.title = v;
      } else {
        // The manifest is typed index data; whether it beats a separator
        // payload for the same field is the profile's [metadata] order.
        auto existing = std::find_if(doc.fields.begin(), doc.fields.end(),
                                     [&](const auto& kv) { return kv.first == name; });
        const auto& order = plan->profile.metadata_sources;
        const auto rank = [&](const std::string& src) {
          return std::find(order.begin(), order.end(), src) - order.begin();
        };
        if (existing == doc.fields.end()) {
          doc.fields.emplace_back(name, v);
          doc.field_sources[name] = where;
        } else if (rank("manifest") < rank("separator")) {
          existing->second = v;
          doc.field_sources[name] = where;
        }
      }
    }
  }
  return Status::OK();
}

}  // namespace

int LotPlan::TotalPages() const {
  int n = 0;
  for (const DocumentPlan& d : documents) n += static_cast<int>(d.pages.size());
  return n;
}

bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      std::string_view na(a.data() + i, i2 - i), nb(b.data() + j, j2 - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::string SafeFileName(std::string_view id) {
  std::string out;
  for (unsigned char c : id) {
    bool ok = std::isalnum(c) || c == '.' || c == '-' || c == '_' || c >= 0x80;
    out += ok ? static_cast<char>(c) : '_';
  }
  while (!out.empty() && out[0] == '.') out[0] = '_';
  if (out.empty()) out = "_";
  return out;
}

Result<LotPlan> PlanLot(const fs::path& dir, const PlanOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("lot folder not found: " + dir.string());
  LotPlan plan;
  plan.dir = dir;
  fs::path profile_path = dir / "profile.toml";
  if (fs::exists(profile_path)) {
    ACERVO_ASSIGN_OR_RETURN(plan.profile, LoadProfile(profile_path));
  }
  plan.lot_id = !options.lot_id.empty() ? options.lot_id
                : !plan.profile.lot_id.empty() ? plan.profile.lot_id
                : fs::absolute(dir).lexically_normal().filename().string();
  if (plan.lot_id.empty()) plan.lot_id = fs::absolute(dir).lexically_normal().parent_path().filename().string();

  // Collect page images (top level and subfolders, except ground-truth/ and
  // hidden entries), in natural order of their relative path.
  std::vector<std::string> names;
  for (fs::recursive_directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    std::string base = it->path().filename().string();
    if (base.empty() || base[0] == '.' || (it->is_directory() && base == "ground-truth")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    std::string rel = fs::relative(it->path(), dir).string();
    if (LooksLikeImageFileName(it->path())) {
      names.push_back(rel);
    } else if (base != "manifest.csv" && base != "profile.toml") {
      plan.warnings.push_back({rel, "not a page image (by extension); ignored"});
    }
  }
  if (ec) return Status::IOError("cannot list lot folder " + dir.string() + ": " + ec.message());
  std::sort(names.begin(), names.end(), NaturalLess);

  std::map<std::string, int> by_name;
  for (const std::string& name : names) {
    InputFile f;
    f.path = dir / name;
    f.name = name;
    Result<std::vector<uint8_t>> bytes = ReadFile(f.path);
    if (!bytes.ok()) {
      f.status = bytes.status();
    } else {
      Result<ImageFileInfo> info = ProbeImage(*bytes, name);
      if (info.ok()) f.pages = info->pages;
      else f.status = info.status();
    }
    by_name[name] = static_cast<int>(plan.files.size());
    plan.files.push_back(std::move(f));
  }

  fs::path manifest = dir / "manifest.csv";
  if (plan.profile.separation.kind != SeparationRule::Kind::kAuto) {
    SeparateDocuments(&plan);
    if (fs::exists(manifest)) {
      plan.has_manifest = true;
      ACERVO_RETURN_IF_ERROR(ApplyManifestById(manifest, &plan));
    }
  } else if (fs::exists(manifest)) {
    plan.has_manifest = true;
    std::set<int> referenced;
    ACERVO_RETURN_IF_ERROR(ReadManifest(manifest, &plan, by_name, &referenced));
    // Pages no row names still become documents: never drop a scanned page.
    std::set<std::pair<int, int>> used;
    for (const DocumentPlan& d : plan.documents)
      for (const PageRef& p : d.pages) used.insert({p.file, p.page_in_file});
    std::set<std::string> taken;
    for (const DocumentPlan& d : plan.documents) taken.insert(d.file_name);
    for (size_t i = 0; i < plan.files.size(); ++i) {
      const InputFile& f = plan.files[i];
      bool any_unused = false;
      for (int p = 1; p <= f.pages; ++p) any_unused |= !used.count({int(i), p});
      if (!f.status.ok()) {
        // Unreadable and named by no row: report it here (a row naming it
        // already reported it as that document's error).
        if (!referenced.count(int(i))) plan.problems.push_back({f.name, f.status.message()});
        continue;
      }
      if (!any_unused) continue;
      DocumentPlan doc;
      doc.id = fs::path(f.name).stem().string();
      doc.file_name = SafeFileName(doc.id);
      while (!taken.insert(doc.file_name).second) doc.file_name += "_";
      for (int p = 1; p <= f.pages; ++p)
        if (!used.count({int(i), p})) doc.pages.push_back({int(i), p});
      plan.warnings.push_back({f.name, "pages not listed in manifest.csv; made document '" + doc.id + "'"});
      plan.documents.push_back(std::move(doc));
    }
  } else {
    std::set<std::string> taken;
    for (size_t i = 0; i < plan.files.size(); ++i) {
      const InputFile& f = plan.files[i];
      DocumentPlan doc;
      doc.id = fs::path(f.name).stem().string();
      doc.file_name = SafeFileName(doc.id);
      while (!taken.insert(doc.file_name).second) doc.file_name += "_";
      if (!f.status.ok()) {
        doc.errors.push_back(f.status.message());
        plan.problems.push_back({f.name, f.status.message()});
      }
      for (int p = 1; p <= f.pages; ++p) doc.pages.push_back({int(i), p});
      plan.documents.push_back(std::move(doc));
    }
  }
  return plan;
}

}  // namespace acervo
