// Reading TOML configuration tables strictly (toml++): every key of a
// table through typed readers, unknown keys refused, each error naming the
// file and line. Shared by the lot profile (pipeline/) and the identity
// file of `acervo serve` (web/). Header-only, like toml++ itself: the
// includer links tomlplusplus.
#ifndef ACERVO_CORE_TOML_READER_H_
#define ACERVO_CORE_TOML_READER_H_

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "acervo/core/status.h"
#include "acervo/core/text.h"

namespace acervo {

inline std::string TomlAt(std::string_view name, const toml::node& n) {
  return std::string(name) + " line " + std::to_string(n.source().begin.line);
}

// Reads every key of a table through the handlers; unknown keys fail.
struct TomlReader {
  std::string_view name;

  Status Unknown(const toml::table& t, const std::set<std::string>& known, std::string_view table) {
    for (const auto& [k, v] : t) {
      if (!known.count(std::string(k.str()))) {
        return Status::InvalidArgument(TomlAt(name, v) + ": unknown key '" + std::string(k.str()) +
                                       "' in [" + std::string(table) + "]");
      }
    }
    return Status::OK();
  }
  Status String(const toml::table& t, const char* key, std::string* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::OK();
    if (!n->is_string()) return Status::InvalidArgument(TomlAt(name, *n) + ": '" + key + "' must be a string");
    const std::string& v = n->as_string()->get();
    // Configuration text reaches PDFs, XMP, pages and reports: control
    // characters (which TOML lets through as \u escapes) are refused with
    // the line (core/text.h).
    if (const std::string why = TextProblem(v); !why.empty()) {
      return Status::InvalidArgument(TomlAt(name, *n) + ": '" + key + "' has a " + why);
    }
    *out = v;
    return Status::OK();
  }
  Status Bool(const toml::table& t, const char* key, bool* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::OK();
    if (!n->is_boolean()) return Status::InvalidArgument(TomlAt(name, *n) + ": '" + key + "' must be true or false");
    *out = n->as_boolean()->get();
    return Status::OK();
  }
  Status Number(const toml::table& t, const char* key, double lo, double hi, double* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::OK();
    double v;
    if (n->is_integer()) v = double(n->as_integer()->get());
    else if (n->is_floating_point()) v = n->as_floating_point()->get();
    else return Status::InvalidArgument(TomlAt(name, *n) + ": '" + key + "' must be a number");
    // nan and inf compare false with everything: test for them first.
    if (!std::isfinite(v)) {
      return Status::InvalidArgument(TomlAt(name, *n) + ": '" + key + "' must be a finite number, not " +
                                     (std::isnan(v) ? "nan" : "inf"));
    }
    if (v < lo || v > hi) {
      return Status::InvalidArgument(TomlAt(name, *n) + ": '" + key + "' must be between " +
                                     std::to_string(lo) + " and " + std::to_string(hi));
    }
    *out = v;
    return Status::OK();
  }
  Status StringList(const toml::table& t, const char* key, std::vector<std::string>* out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::OK();
    if (!n->is_array()) return Status::InvalidArgument(TomlAt(name, *n) + ": '" + key + "' must be a list of strings");
    out->clear();
    for (const toml::node& a : *n->as_array()) {
      if (!a.is_string()) return Status::InvalidArgument(TomlAt(name, a) + ": '" + key + "' values must be strings");
      const std::string& v = a.as_string()->get();
      if (const std::string why = TextProblem(v); !why.empty()) {
        return Status::InvalidArgument(TomlAt(name, a) + ": a value of '" + key + "' has a " + why);
      }
      out->push_back(v);
    }
    return Status::OK();
  }
  Result<const toml::table*> Table(const toml::table& root, const char* key) {
    const toml::node* n = root.get(key);
    if (n == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) return Status::InvalidArgument(TomlAt(name, *n) + ": '" + key + "' must be a table");
    return n->as_table();
  }
};

}  // namespace acervo

#endif  // ACERVO_CORE_TOML_READER_H_
