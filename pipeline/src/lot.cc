#include "acervo/pipeline/lot.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "acervo/core/files.h"
#include "acervo/core/text.h"
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

// A manifest is operators' typing, not a database export: anything larger
// is a mistake (a wrong file named manifest.csv), refused before parsing.
constexpr uintmax_t kMaxManifestBytes = 64ull << 20;

// The manifest's rows, the header first, with the header's columns checked.
Result<std::vector<CsvRow>> ReadManifestRows(const fs::path& path, const std::vector<std::string>& required) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<uintmax_t>(st.st_size) > kMaxManifestBytes) {
    return Status::InvalidArgument("manifest.csv: " + std::to_string(st.st_size) + " bytes is larger than the limit of " +
                                   std::to_string(kMaxManifestBytes) + " bytes");
  }
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(path, Links::kRefuse));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ACERVO_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ParseCsv(text, "manifest.csv"));
  if (rows.empty()) return Status::InvalidArgument("manifest.csv: empty (a header row is required)");
  std::set<std::string> header;
  for (const std::string& h : rows[0].fields) header.insert(Trim(h));
  for (const std::string& need : required) {
    if (header.count(need)) continue;
    // A spreadsheet saved with another separator has one column holding
    // every name: say so instead of "missing column".
    if (rows[0].fields.size() == 1) {
      for (char sep : {';', '\t', '|'}) {
        if (rows[0].fields[0].find(sep) != std::string::npos) {
          const std::string name = sep == '\t' ? "tabs" : std::string("'") + sep + "'";
          return Status::InvalidArgument("manifest.csv line 1: the columns are separated by " + name +
                                         "; manifest.csv separates them by commas (RFC 4180): export it as CSV "
                                         "with ',' as the separator");
        }
      }
    }
    return Status::InvalidArgument("manifest.csv line 1: missing column '" + need + "'");
  }
  return rows;
}

// "NAME#N": N must be a page number, 1 or more. Returns the page, 0 for a
// whole file (no '#'), or an error naming the entry.
Result<int> ParsePageSuffix(const std::string& entry, std::string* name) {
  const size_t hash = entry.rfind('#');
  if (hash == std::string::npos) {
    *name = entry;
    return 0;
  }
  *name = entry.substr(0, hash);
  const std::string digits = entry.substr(hash + 1);
  const bool numeric = !digits.empty() && digits.size() <= 9 &&
                       std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!numeric || std::stoi(digits) < 1) {
    return Status::InvalidArgument("'" + entry + "': the page after '#' must be a whole number from 1");
  }
  return std::stoi(digits);
}

Status ReadManifest(const fs::path& path, LotPlan* plan, const std::map<std::string, int>& by_name,
                    std::set<int>* referenced) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<CsvRow> rows,
                          ReadManifestRows(path, {"document_id", "document_type", "title", "files"}));
  // Where each (file, page) was first listed, to warn about a repeat.
  std::map<std::pair<int, int>, std::string> listed;
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < rows[0].fields.size(); ++i) col[Trim(rows[0].fields[i])] = i;
  std::set<std::string> ids;
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
    doc.origin = where;
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
    for (std::string raw : Split(get("files"), ';')) {
      raw = Trim(raw);
      if (raw.empty()) continue;
      std::string entry;
      Result<int> parsed = ParsePageSuffix(raw, &entry);
      if (!parsed.ok()) {
        doc.errors.push_back(where + ": " + parsed.status().message());
        continue;
      }
      const int page = *parsed;
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
      if (page > f.pages) {
        doc.errors.push_back(where + ": '" + raw + "': the file has " + std::to_string(f.pages) + " page(s)");
        continue;
      }
      for (int p = page == 0 ? 1 : page; p <= (page == 0 ? f.pages : page); ++p) {
        auto [at, first] = listed.emplace(std::make_pair(it->second, p), where);
        if (!first) {
          plan->warnings.push_back({where, "page " + std::to_string(p) + " of " + entry + " is listed again (first in " +
                                               at->second + "); it will be in both documents"});
        }
        doc.pages.push_back({it->second, p});
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
  ACERVO_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ReadManifestRows(path, {"document_id"}));
  std::vector<std::string> header;
  for (const std::string& h : rows[0].fields) header.push_back(Trim(h));
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
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    const bool keep = std::isalnum(c) || c == '-' || c == '_' || c >= 0x80 || (c == '.' && i > 0);
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (out.empty()) out = "_";
  return out;
}

namespace {

// Lower-case ASCII: two file names equal this way are one file on
// case-insensitive storage (SMB shares, exFAT, NTFS by default).
std::string CaseFolded(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// What kind of thing a lot entry is, without following a link.
enum class EntryKind { kFile, kFolder, kLink, kOther };

EntryKind KindOf(const fs::path& path, std::string* what) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    *what = "cannot be examined";
    return EntryKind::kOther;
  }
  if (S_ISREG(st.st_mode)) return EntryKind::kFile;
  if (S_ISDIR(st.st_mode)) return EntryKind::kFolder;
  if (S_ISLNK(st.st_mode)) return EntryKind::kLink;
  *what = S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket" : "a device";
  return EntryKind::kOther;
}

// Folders deeper than this below the lot are not read (a lot is a box of
// paper, not a file system).
constexpr int kMaxLotDepth = 16;

// Collects page image names (relative to `dir`, in no order) from `rel`
// and its subfolders. Links are never followed (docs/formats.md): a link
// is a problem of its own, as is anything that is not a file or a folder;
// a subfolder that cannot be read is a problem, the rest carries on.
void ListLotFolder(const fs::path& dir, const fs::path& rel, int depth, LotPlan* plan,
                   std::vector<std::string>* names) {
  std::error_code ec;
  fs::directory_iterator it(dir / rel, ec);
  if (ec) {
    plan->problems.push_back({rel.string() + "/", "folder cannot be read: " + ec.message()});
    return;
  }
  for (fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      plan->problems.push_back({rel.empty() ? std::string(".") : rel.string() + "/",
                                "folder listing stopped: " + ec.message()});
      return;
    }
    const std::string base = it->path().filename().string();
    const fs::path entry_rel = rel / base;
    const std::string name = entry_rel.string();
    if (base.empty() || base[0] == '.') continue;  // hidden: editors' and our own files
    std::string what;
    switch (KindOf(it->path(), &what)) {
      case EntryKind::kLink:
        plan->problems.push_back({name, "is a symbolic link; links are not followed (copy the file into the lot "
                                        "folder instead)"});
        continue;
      case EntryKind::kOther:
        plan->problems.push_back({name, "is " + what + ", not a regular file; skipped"});
        continue;
      case EntryKind::kFolder:
        if (rel.empty() && base == "ground-truth") continue;
        if (depth >= kMaxLotDepth) {
          plan->problems.push_back({name + "/", "folder is more than " + std::to_string(kMaxLotDepth) +
                                                    " levels deep; not read"});
          continue;
        }
        ListLotFolder(dir, entry_rel, depth + 1, plan, names);
        continue;
      case EntryKind::kFile:
        break;
    }
    if (LooksLikeImageFileName(it->path())) {
      names->push_back(name);
    } else if (!(rel.empty() && (base == "manifest.csv" || base == "profile.toml"))) {
      plan->warnings.push_back({name, "not a page image (by extension); ignored"});
    }
  }
}

// The longest file name a document's outputs may have (its PDF, text and
// side-output folder), in bytes: what file systems allow, less room for
// ".pdf" and the names of side outputs and thumbnails ("-12-right.jpg").
constexpr size_t kMaxDocumentFileNameBytes = 200;

// Makes every text of the plan clean (core/text.h) and every document's
// identity sound: an id with a control character, an id whose file name
// is too long, and ids that share one file name (even only by letter case)
// are refused, each naming the others; a title, type or field with control
// characters is cleaned, with a warning.
void CheckDocuments(LotPlan* plan) {
  std::map<std::string, std::vector<size_t>> by_file;  // case-folded file name -> documents
  // Where a document's id comes from, with its files when that is not
  // already said ("manifest.csv line 2: p1.png").
  auto origin = [&](const DocumentPlan& d) {
    std::string files;
    std::set<int> seen;
    for (const PageRef& p : d.pages) {
      if (!seen.insert(p.file).second) continue;
      if (seen.size() > 3) {
        files += ", ...";
        break;
      }
      files += (files.empty() ? "" : ", ") + plan->files[p.file].name;
    }
    if (d.origin.empty()) return files.empty() ? std::string("no pages") : files;
    if (files.empty() || d.origin.find(files) != std::string::npos) return d.origin;
    return d.origin + ": " + files;
  };
  for (size_t i = 0; i < plan->documents.size(); ++i) {
    DocumentPlan& doc = plan->documents[i];
    const std::string valid = ValidUtf8(doc.id);
    if (valid != doc.id) {
      plan->warnings.push_back({"document " + valid, "id is not valid UTF-8 (a file name in another encoding?); "
                                                     "invalid bytes replaced by U+FFFD"});
      doc.id = valid;
    }
    const std::string problem = TextProblem(doc.id);
    if (!problem.empty()) {
      doc.errors.push_back("document id '" + TerminalText(doc.id) + "' (" + origin(doc) + ") has a " + problem +
                           "; ids must be plain text");
      doc.id = CleanText(doc.id);
    }
    auto clean = [&](std::string* text, const std::string& what) {
      const std::string cleaned = CleanText(*text);
      if (cleaned == *text) return;
      plan->warnings.push_back({"document " + doc.id, what + " has a " + TextProblem(*text) +
                                                          "; control characters replaced by spaces"});
      *text = cleaned;
    };
    clean(&doc.title, "title");
    clean(&doc.type, "document type");
    for (auto& [k, v] : doc.fields) {
      std::string name = k;
      clean(&k, "field name '" + CleanText(name) + "'");
      clean(&v, "field '" + k + "'");
    }
    doc.file_name = SafeFileName(doc.id);
    if (doc.file_name.size() > kMaxDocumentFileNameBytes) {
      doc.errors.push_back("document id (" + origin(doc) + ") is too long: its file name would be " +
                           std::to_string(doc.file_name.size()) +
                           " bytes, at most " + std::to_string(kMaxDocumentFileNameBytes) + " (about " +
                           std::to_string(kMaxDocumentFileNameBytes) + " letters or digits)");
    }
    by_file[CaseFolded(doc.file_name)].push_back(i);
  }
  for (const auto& [name, docs] : by_file) {
    if (docs.size() < 2) continue;
    for (size_t i : docs) {
      std::string others;
      for (size_t j : docs) {
        if (j == i) continue;
        const DocumentPlan& o = plan->documents[j];
        others += (others.empty() ? "" : ", ") + std::string("'") + o.id + "' (" + origin(o) + ")";
      }
      DocumentPlan& doc = plan->documents[i];
      doc.errors.push_back("document id '" + doc.id + "' (" + origin(doc) + ") is also " + others +
                           ": ids must be unique in a lot and map to distinct file names (letter case "
                           "aside); rename the files or list them in manifest.csv");
    }
  }
  for (const DocumentPlan& doc : plan->documents) {
    for (const std::string& e : doc.errors) {
      // Errors from the manifest were reported as problems already.
      bool told = false;
      for (const LotProblem& p : plan->problems) told |= p.message == e;
      if (!told) plan->problems.push_back({"document " + doc.id, e});
    }
  }
}

}  // namespace

namespace {

// The lot's own profile.toml (defaults when there is none; a link is refused).
Result<LotProfile> LoadLotProfile(const fs::path& dir) {
  std::error_code ec;
  const fs::path profile_path = dir / "profile.toml";
  if (fs::symlink_status(profile_path, ec).type() == fs::file_type::not_found) return LotProfile{};
  return LoadProfile(profile_path, Links::kRefuse);
}

Result<std::string> LotIdFrom(const fs::path& dir, const LotProfile& profile, const PlanOptions& options) {
  std::string id = !options.lot_id.empty() ? options.lot_id
                   : !profile.lot_id.empty() ? profile.lot_id
                   : fs::absolute(dir).lexically_normal().filename().string();
  if (id.empty()) id = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  id = ValidUtf8(id);
  if (const std::string why = TextProblem(id); !why.empty()) {
    return Status::InvalidArgument("lot id '" + TerminalText(id) + "' has a " + why + "; lot ids must be plain text");
  }
  if (SafeFileName(id).size() > kMaxDocumentFileNameBytes) {
    return Status::InvalidArgument("lot id is too long: its folder name would be " +
                                   std::to_string(SafeFileName(id).size()) + " bytes, at most " +
                                   std::to_string(kMaxDocumentFileNameBytes));
  }
  return id;
}

}  // namespace

Result<std::string> LotIdOf(const fs::path& dir, const PlanOptions& options) {
  ACERVO_ASSIGN_OR_RETURN(LotProfile profile, LoadLotProfile(dir));
  return LotIdFrom(dir, profile, options);
}

Result<LotPlan> PlanLot(const fs::path& dir, const PlanOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("lot folder not found: " + dir.string());
  LotPlan plan;
  plan.dir = dir;
  if (options.only_file.empty()) {
    ACERVO_ASSIGN_OR_RETURN(plan.profile, LoadLotProfile(dir));
  }
  ACERVO_ASSIGN_OR_RETURN(plan.lot_id, LotIdFrom(dir, plan.profile, options));

  // Collect page images (top level and subfolders, except ground-truth/ and
  // hidden entries), in natural order of their relative path.
  if (fs::directory_iterator(dir, ec); ec) {
    return Status::IOError("cannot list lot folder " + dir.string() + ": " + ec.message());
  }
  std::vector<std::string> names;
  if (!options.only_file.empty()) {
    names.push_back(options.only_file);  // ReadFile below refuses a link or a FIFO
  } else {
    ListLotFolder(dir, fs::path(), 0, &plan, &names);
  }
  std::sort(names.begin(), names.end(), NaturalLess);

  std::map<std::string, int> by_name;
  for (const std::string& name : names) {
    InputFile f;
    f.path = dir / name;
    f.name = name;
    Result<std::vector<uint8_t>> bytes = ReadFile(f.path, Links::kRefuse);
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
  const bool has_manifest =
      options.only_file.empty() && fs::symlink_status(manifest, ec).type() != fs::file_type::not_found;
  if (plan.profile.separation.kind != SeparationRule::Kind::kAuto) {
    SeparateDocuments(&plan);
    if (has_manifest) {
      plan.has_manifest = true;
      ACERVO_RETURN_IF_ERROR(ApplyManifestById(manifest, &plan));
    }
  } else if (has_manifest) {
    plan.has_manifest = true;
    std::set<int> referenced;
    ACERVO_RETURN_IF_ERROR(ReadManifest(manifest, &plan, by_name, &referenced));
    // Pages no row names still become documents: never drop a scanned page.
    std::set<std::pair<int, int>> used;
    for (const DocumentPlan& d : plan.documents)
      for (const PageRef& p : d.pages) used.insert({p.file, p.page_in_file});
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
      doc.origin = f.name + ", not in manifest.csv";
      for (int p = 1; p <= f.pages; ++p)
        if (!used.count({int(i), p})) doc.pages.push_back({int(i), p});
      plan.warnings.push_back({f.name, "pages not listed in manifest.csv; made document '" + doc.id + "'"});
      plan.documents.push_back(std::move(doc));
    }
  } else {
    for (size_t i = 0; i < plan.files.size(); ++i) {
      const InputFile& f = plan.files[i];
      DocumentPlan doc;
      doc.id = fs::path(f.name).stem().string();
      doc.origin = f.name;
      if (!f.status.ok()) {
        doc.errors.push_back(f.status.message());
        plan.problems.push_back({f.name, f.status.message()});
      }
      for (int p = 1; p <= f.pages; ++p) doc.pages.push_back({int(i), p});
      plan.documents.push_back(std::move(doc));
    }
  }
  CheckDocuments(&plan);
  if (plan.files.empty()) {
    plan.problems.push_back({"lot " + plan.lot_id, "the lot folder holds no page images (TIFF, PNG, JPEG or PDF)"});
  }
  return plan;
}

}  // namespace acervo
