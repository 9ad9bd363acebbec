#include "acervo/pipeline/profile.h"

#include <set>

#include <toml++/toml.h>

#include "acervo/core/files.h"

namespace acervo {
namespace {

std::string At(std::string_view name, const toml::node& n) {
  return std::string(name) + " line " + std::to_string(n.source().begin.line);
}

// Reads every key of a table through the handlers; unknown keys fail.
struct Reader {
  std::string_view name;

  Status Unknown(const toml::table& t, const std::set<std::string>& known, std::string_view table) {
    for (const auto& [k, v] : t) {
      if (!known.count(std::string(k.str()))) {
        return Status::InvalidArgument(At(name, v) + ": unknown key '" + std::string(k.str()) +
                                       "' in [" + std::string(table) + "]");
      }
    }
    return Status::OK();
  }
  Status String(const toml::table& t, const char* key, std::string* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::OK();
    if (!n->is_string()) return Status::InvalidArgument(At(name, *n) + ": '" + key + "' must be a string");
    *out = n->as_string()->get();
    return Status::OK();
  }
  Status Bool(const toml::table& t, const char* key, bool* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::OK();
    if (!n->is_boolean()) return Status::InvalidArgument(At(name, *n) + ": '" + key + "' must be true or false");
    *out = n->as_boolean()->get();
    return Status::OK();
  }
  Status Number(const toml::table& t, const char* key, double lo, double hi, double* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::OK();
    double v;
    if (n->is_integer()) v = double(n->as_integer()->get());
    else if (n->is_floating_point()) v = n->as_floating_point()->get();
    else return Status::InvalidArgument(At(name, *n) + ": '" + key + "' must be a number");
    if (v < lo || v > hi) {
      return Status::InvalidArgument(At(name, *n) + ": '" + key + "' must be between " +
                                     std::to_string(lo) + " and " + std::to_string(hi));
    }
    *out = v;
    return Status::OK();
  }
  Result<const toml::table*> Table(const toml::table& root, const char* key) {
    const toml::node* n = root.get(key);
    if (n == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) return Status::InvalidArgument(At(name, *n) + ": '" + key + "' must be a table");
    return n->as_table();
  }
};

const std::set<std::string> kFieldTypes = {"text", "int", "date", "cpf", "cnpj", "process_number", "enum"};

}  // namespace

Result<LotProfile> ParseProfile(std::string_view text, std::string_view name) {
  toml::table root;
  try {
    root = toml::parse(text, std::string(name));
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(std::string(name) + " line " +
                                   std::to_string(e.source().begin.line) + ": " +
                                   std::string(e.description()));
  }
  LotProfile p;
  Reader r{name};
  ACERVO_RETURN_IF_ERROR(r.Unknown(root, {"lot", "image", "ocr", "pdf", "fields"}, "top level"));

  ACERVO_ASSIGN_OR_RETURN(const toml::table* lot, r.Table(root, "lot"));
  if (lot != nullptr) {
    ACERVO_RETURN_IF_ERROR(r.Unknown(*lot, {"id", "project", "box", "operator", "description"}, "lot"));
    ACERVO_RETURN_IF_ERROR(r.String(*lot, "id", &p.lot_id));
    ACERVO_RETURN_IF_ERROR(r.String(*lot, "project", &p.project));
    ACERVO_RETURN_IF_ERROR(r.String(*lot, "box", &p.box));
    ACERVO_RETURN_IF_ERROR(r.String(*lot, "operator", &p.operator_name));
    ACERVO_RETURN_IF_ERROR(r.String(*lot, "description", &p.description));
    if (!p.lot_id.empty() &&
        (p.lot_id.find_first_of("/\\") != std::string::npos || p.lot_id[0] == '.')) {
      return Status::InvalidArgument(At(name, *lot->get("id")) +
                                     ": lot id must not contain '/' or '\\' nor start with '.'");
    }
  }
  ACERVO_ASSIGN_OR_RETURN(const toml::table* image, r.Table(root, "image"));
  if (image != nullptr) {
    ACERVO_RETURN_IF_ERROR(r.Unknown(*image, {"orientation", "deskew", "blank_detection"}, "image"));
    ACERVO_RETURN_IF_ERROR(r.Bool(*image, "orientation", &p.orientation));
    ACERVO_RETURN_IF_ERROR(r.Bool(*image, "deskew", &p.deskew));
    ACERVO_RETURN_IF_ERROR(r.Bool(*image, "blank_detection", &p.blank_detection));
  }
  ACERVO_ASSIGN_OR_RETURN(const toml::table* ocr, r.Table(root, "ocr"));
  if (ocr != nullptr) {
    ACERVO_RETURN_IF_ERROR(r.Unknown(*ocr, {"languages", "min_confidence", "page_deadline_s"}, "ocr"));
    ACERVO_RETURN_IF_ERROR(r.String(*ocr, "languages", &p.languages));
    ACERVO_RETURN_IF_ERROR(r.Number(*ocr, "min_confidence", 0, 100, &p.min_confidence));
    ACERVO_RETURN_IF_ERROR(r.Number(*ocr, "page_deadline_s", 0, 86400, &p.page_deadline_s));
  }
  ACERVO_ASSIGN_OR_RETURN(const toml::table* pdf, r.Table(root, "pdf"));
  if (pdf != nullptr) {
    ACERVO_RETURN_IF_ERROR(r.Unknown(*pdf, {"jpeg_quality", "lossless"}, "pdf"));
    double q = 0;
    ACERVO_RETURN_IF_ERROR(r.Number(*pdf, "jpeg_quality", 1, 100, &q));
    p.jpeg_quality = static_cast<int>(q);
    ACERVO_RETURN_IF_ERROR(r.Bool(*pdf, "lossless", &p.lossless));
  }
  if (const toml::node* fields = root.get("fields")) {
    if (!fields->is_array_of_tables()) {
      return Status::InvalidArgument(At(name, *fields) + ": use [[fields]] tables for index fields");
    }
    std::set<std::string> seen;
    for (const toml::node& n : *fields->as_array()) {
      const toml::table& t = *n.as_table();
      FieldSpec f;
      ACERVO_RETURN_IF_ERROR(r.Unknown(t, {"name", "label", "type", "required", "allowed"}, "fields"));
      ACERVO_RETURN_IF_ERROR(r.String(t, "name", &f.name));
      ACERVO_RETURN_IF_ERROR(r.String(t, "label", &f.label));
      ACERVO_RETURN_IF_ERROR(r.String(t, "type", &f.type));
      ACERVO_RETURN_IF_ERROR(r.Bool(t, "required", &f.required));
      if (f.name.empty()) return Status::InvalidArgument(At(name, n) + ": a field needs a name");
      if (!kFieldTypes.count(f.type)) {
        return Status::InvalidArgument(At(name, n) + ": field '" + f.name + "' has unknown type '" +
                                       f.type + "'");
      }
      if (!seen.insert(f.name).second) {
        return Status::InvalidArgument(At(name, n) + ": field '" + f.name + "' is defined twice");
      }
      if (const toml::node* allowed = t.get("allowed")) {
        if (!allowed->is_array()) return Status::InvalidArgument(At(name, *allowed) + ": 'allowed' must be a list");
        for (const toml::node& a : *allowed->as_array()) {
          if (!a.is_string()) return Status::InvalidArgument(At(name, a) + ": 'allowed' values must be strings");
          f.allowed.push_back(a.as_string()->get());
        }
      }
      if (f.type == "enum" && f.allowed.empty()) {
        return Status::InvalidArgument(At(name, n) + ": enum field '" + f.name + "' needs 'allowed'");
      }
      if (f.label.empty()) f.label = f.name;
      p.fields.push_back(std::move(f));
    }
  }
  return p;
}

Result<LotProfile> LoadProfile(const std::filesystem::path& path) {
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(path));
  return ParseProfile(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                      path.filename().string());
}

}  // namespace acervo
