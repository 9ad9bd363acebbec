#include "acervo/pipeline/profile.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <set>

#include <re2/re2.h>
#include <toml++/toml.h>

#include "acervo/core/files.h"
#include "acervo/core/text.h"
#include "acervo/core/toml_reader.h"
#include "acervo/pipeline/archival.h"

namespace acervo {
namespace {

std::string At(std::string_view name, const toml::node& n) { return TomlAt(name, n); }

// The strict reader of core (unknown keys, text and numbers checked), plus
// field rules compiled by RE2.
struct Reader : TomlReader {
  // Compiles `key` with RE2 (linear-time matching); a bad pattern, or one
  // RE2 cannot run in linear time (backreferences, lookaround), is refused
  // here, before anything runs, rather than when the first value meets it.
  Status Regex(const toml::table& t, const char* key, std::string* text,
               std::shared_ptr<const re2::RE2>* out) {
    ACERVO_RETURN_IF_ERROR(String(t, key, text));
    if (text->empty()) return Status::OK();
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(8 << 20);  // a huge pattern is refused, not compiled
    auto re = std::make_shared<const re2::RE2>(*text, options);
    if (!re->ok()) {
      return Status::InvalidArgument(At(name, *t.get(key)) + ": '" + key + "' is not a regular expression " +
                                     "Acervo can run (RE2 syntax, docs/profile.md): " + re->error());
    }
    *out = std::move(re);
    return Status::OK();
  }
};

const std::set<std::string> kFieldTypes = {"text", "int", "date", "cpf", "cnpj", "process_number", "enum"};

// [lot]: who and what the lot is; its id becomes a folder name, so no path in it.
Status ReadLot(Reader& r, const toml::table& lot, LotProfile& p) {
  const std::string_view name = r.name;
  ACERVO_RETURN_IF_ERROR(r.Unknown(lot, {"id", "project", "box", "operator", "description"}, "lot"));
  ACERVO_RETURN_IF_ERROR(r.String(lot, "id", &p.lot_id));
  ACERVO_RETURN_IF_ERROR(r.String(lot, "project", &p.project));
  ACERVO_RETURN_IF_ERROR(r.String(lot, "box", &p.box));
  ACERVO_RETURN_IF_ERROR(r.String(lot, "operator", &p.operator_name));
  ACERVO_RETURN_IF_ERROR(r.String(lot, "description", &p.description));
  if (!p.lot_id.empty() &&
      (p.lot_id.find_first_of("/\\") != std::string::npos || p.lot_id[0] == '.')) {
    return Status::InvalidArgument(TomlAt(name, *lot.get("id")) +
                                   ": lot id must not contain '/' or '\\' nor start with '.'");
  }
  return Status::OK();
}

// [image]: the cleanup stages and their thresholds.
Status ReadImage(Reader& r, const toml::table& image, LotProfile& p) {
  const std::string_view name = r.name;
  ACERVO_RETURN_IF_ERROR(r.Unknown(image, {"orientation", "deskew", "blank_detection", "border", "clean",
                                            "color_paper", "binarize", "blank_threshold", "split",
                                            "blank_documents", "min_dpi"},
                                     "image"));
  ACERVO_RETURN_IF_ERROR(r.Bool(image, "orientation", &p.orientation));
  ACERVO_RETURN_IF_ERROR(r.Bool(image, "deskew", &p.deskew));
  ACERVO_RETURN_IF_ERROR(r.Bool(image, "blank_detection", &p.blank_detection));
  ACERVO_RETURN_IF_ERROR(r.Bool(image, "border", &p.border));
  ACERVO_RETURN_IF_ERROR(r.Bool(image, "clean", &p.clean));
  ACERVO_RETURN_IF_ERROR(r.Bool(image, "binarize", &p.binarize));
  ACERVO_RETURN_IF_ERROR(r.Number(image, "blank_threshold", 0.01, 0.99, &p.blank_threshold));
  ACERVO_RETURN_IF_ERROR(r.Bool(image, "split", &p.split));
  ACERVO_RETURN_IF_ERROR(r.Number(image, "min_dpi", 0, 19200, &p.min_dpi));
  ACERVO_RETURN_IF_ERROR(r.String(image, "color_paper", &p.color_paper));
  if (p.color_paper != "scan" && p.color_paper != "white") {
    return Status::InvalidArgument(At(name, *image.get("color_paper")) + ": color_paper must be \"scan\" or \"white\"");
  }
  ACERVO_RETURN_IF_ERROR(r.String(image, "blank_documents", &p.blank_documents));
  if (p.blank_documents != "report" && p.blank_documents != "keep") {
    return Status::InvalidArgument(At(name, *image.get("blank_documents")) +
                                   ": blank_documents must be \"report\" or \"keep\"");
  }
  return Status::OK();
}

// [ocr]: languages, confidence floor, per-page deadline.
Status ReadOcr(Reader& r, const toml::table& ocr, LotProfile& p) {
  ACERVO_RETURN_IF_ERROR(r.Unknown(ocr, {"languages", "min_confidence", "page_deadline_s"}, "ocr"));
  ACERVO_RETURN_IF_ERROR(r.String(ocr, "languages", &p.languages));
  ACERVO_RETURN_IF_ERROR(r.Number(ocr, "min_confidence", 0, 100, &p.min_confidence));
  ACERVO_RETURN_IF_ERROR(r.Number(ocr, "page_deadline_s", 0, 86400, &p.page_deadline_s));
  return Status::OK();
}

// [pdf]: encoding, PDF/A part, side outputs.
Status ReadPdf(Reader& r, const toml::table& pdf, LotProfile& p) {
  const std::string_view name = r.name;
  ACERVO_RETURN_IF_ERROR(r.Unknown(pdf, {"jpeg_quality", "lossless", "mixed_raster", "pdfa", "hocr", "alto", "text"}, "pdf"));
  double q = 0;
  ACERVO_RETURN_IF_ERROR(r.Number(pdf, "jpeg_quality", 1, 100, &q));
  p.jpeg_quality = static_cast<int>(q);
  ACERVO_RETURN_IF_ERROR(r.Bool(pdf, "lossless", &p.lossless));
  ACERVO_RETURN_IF_ERROR(r.Bool(pdf, "mixed_raster", &p.mixed_raster));
  ACERVO_RETURN_IF_ERROR(r.String(pdf, "pdfa", &p.pdfa));
  if (p.pdfa != "1b" && p.pdfa != "2b") {
    return Status::InvalidArgument(TomlAt(name, *pdf.get("pdfa")) + ": pdfa must be \"1b\" or \"2b\"");
  }
  ACERVO_RETURN_IF_ERROR(r.Bool(pdf, "hocr", &p.hocr));
  ACERVO_RETURN_IF_ERROR(r.Bool(pdf, "alto", &p.alto));
  ACERVO_RETURN_IF_ERROR(r.Bool(pdf, "text", &p.text));
  return Status::OK();
}

// [scanner]: the capture device and its raw options.
Status ReadScanner(Reader& r, const toml::table& scanner, LotProfile& p) {
  const std::string_view name = r.name;
  ScannerProfile& sc = p.scanner;
  ACERVO_RETURN_IF_ERROR(r.Unknown(scanner, {"driver", "device", "source", "mode", "resolution", "duplex",
                                              "options", "ready_marker"}, "scanner"));
  ACERVO_RETURN_IF_ERROR(r.String(scanner, "driver", &sc.driver));
  ACERVO_RETURN_IF_ERROR(r.String(scanner, "device", &sc.device));
  ACERVO_RETURN_IF_ERROR(r.String(scanner, "source", &sc.source));
  ACERVO_RETURN_IF_ERROR(r.String(scanner, "mode", &sc.mode));
  ACERVO_RETURN_IF_ERROR(r.Number(scanner, "resolution", 0, 19200, &sc.resolution));
  ACERVO_RETURN_IF_ERROR(r.Bool(scanner, "duplex", &sc.duplex));
  ACERVO_RETURN_IF_ERROR(r.String(scanner, "ready_marker", &sc.ready_marker));
  auto one_of = [&](const char* key, const std::string& v, std::set<std::string> allowed) -> Status {
    if (v.empty() || allowed.count(v)) return Status::OK();
    return Status::InvalidArgument(TomlAt(name, *scanner.get(key)) + ": [scanner] " + key + " '" + v +
                                   "' is not one of the allowed values");
  };
  ACERVO_RETURN_IF_ERROR(one_of("driver", sc.driver, {"sane", "twain"}));
  ACERVO_RETURN_IF_ERROR(one_of("source", sc.source, {"flatbed", "adf"}));
  ACERVO_RETURN_IF_ERROR(one_of("mode", sc.mode, {"bw", "gray", "color"}));
  if (sc.ready_marker.find_first_of("/\\") != std::string::npos) {
    return Status::InvalidArgument(TomlAt(name, *scanner.get("ready_marker")) +
                                   ": ready_marker is a file name, not a path");
  }
  ACERVO_ASSIGN_OR_RETURN(const toml::table* options, r.Table(scanner, "options"));
  if (options != nullptr) {
    for (const auto& [k, v] : *options) {
      // Raw device options are text to the driver; numbers and booleans
      // are accepted in their TOML form for convenience.
      std::string text;
      if (v.is_string()) text = v.as_string()->get();
      else if (v.is_integer()) text = std::to_string(v.as_integer()->get());
      else if (v.is_floating_point()) text = std::to_string(v.as_floating_point()->get());
      else if (v.is_boolean()) text = v.as_boolean()->get() ? "yes" : "no";
      else return Status::InvalidArgument(TomlAt(name, v) + ": [scanner.options] " + std::string(k.str()) +
                                          " must be a string, number or boolean");
      sc.options.emplace_back(std::string(k.str()), text);
    }
  }
  return Status::OK();
}

// [separation]: how the page stream is cut into documents.
Status ReadSeparation(Reader& r, const toml::table& sep, LotProfile& p) {
  const std::string_view name = r.name;
  SeparationRule& s = p.separation;
  ACERVO_RETURN_IF_ERROR(r.Unknown(sep, {"rule", "prefix", "patch_codes", "pages", "blank_max_ink"}, "separation"));
  std::string rule = "auto";
  ACERVO_RETURN_IF_ERROR(r.String(sep, "rule", &rule));
  static const std::pair<const char*, SeparationRule::Kind> kRules[] = {
      {"auto", SeparationRule::Kind::kAuto},       {"file", SeparationRule::Kind::kFile},
      {"barcode", SeparationRule::Kind::kBarcode}, {"patch", SeparationRule::Kind::kPatch},
      {"blank", SeparationRule::Kind::kBlank},     {"fixed", SeparationRule::Kind::kFixed}};
  bool known = false;
  for (const auto& [word, kind] : kRules) {
    if (rule == word) {
      s.kind = kind;
      known = true;
    }
  }
  if (!known) {
    return Status::InvalidArgument(TomlAt(name, *sep.get("rule")) + ": unknown separation rule '" + rule +
                                   "' (auto, file, barcode, patch, blank, fixed)");
  }
  ACERVO_RETURN_IF_ERROR(r.String(sep, "prefix", &s.prefix));
  ACERVO_RETURN_IF_ERROR(r.StringList(sep, "patch_codes", &s.patch_codes));
  for (const std::string& c : s.patch_codes) {
    if (c != "I" && c != "II" && c != "III" && c != "IV" && c != "VI" && c != "T") {
      return Status::InvalidArgument(TomlAt(name, *sep.get("patch_codes")) + ": unknown patch code '" + c +
                                     "' (I, II, III, IV, VI, T)");
    }
  }
  double pages = 0;
  ACERVO_RETURN_IF_ERROR(r.Number(sep, "pages", 1, 100000, &pages));
  s.pages = static_cast<int>(pages);
  ACERVO_RETURN_IF_ERROR(r.Number(sep, "blank_max_ink", 0, 0.5, &s.blank_max_ink));
  if (s.kind == SeparationRule::Kind::kFixed && s.pages < 1) {
    return Status::InvalidArgument(TomlAt(name, sep) + ": rule 'fixed' needs 'pages'");
  }
  if (s.kind == SeparationRule::Kind::kBarcode && s.prefix.empty()) {
    return Status::InvalidArgument(TomlAt(name, sep) + ": rule 'barcode' needs a non-empty 'prefix'");
  }
  return Status::OK();
}

// [metadata]: where index values come from, each source once.
Status ReadMetadata(Reader& r, const toml::table& meta, LotProfile& p) {
  const std::string_view name = r.name;
  ACERVO_RETURN_IF_ERROR(r.Unknown(meta, {"sources"}, "metadata"));
  ACERVO_RETURN_IF_ERROR(r.StringList(meta, "sources", &p.metadata_sources));
  std::set<std::string> seen;
  for (const std::string& src : p.metadata_sources) {
    if (src != "manifest" && src != "separator" && src != "ocr") {
      return Status::InvalidArgument(TomlAt(name, *meta.get("sources")) + ": unknown metadata source '" + src +
                                     "' (manifest, separator, ocr)");
    }
    if (!seen.insert(src).second) {
      return Status::InvalidArgument(TomlAt(name, *meta.get("sources")) + ": metadata source '" + src +
                                     "' is listed twice");
    }
  }
  return Status::OK();
}

// [archival]: Decreto 10.278/2020 metadata (issue 4); templates are checked
// against the declared fields, so this runs after [[fields]].
Status ReadArchival(Reader& r, const toml::table& archival, LotProfile& p) {
  const std::string_view name = r.name;
  ArchivalProfile& a = p.archival;
  const std::pair<const char*, std::string*> kTemplates[] = {
      {"assunto", &a.assunto},
      {"autor", &a.autor},
      {"local_digitalizacao", &a.local_digitalizacao},
      {"responsavel_digitalizacao", &a.responsavel_digitalizacao},
      {"titulo", &a.titulo},
      {"tipo_documental", &a.tipo_documental},
      {"identificador", &a.identificador},
      {"data_producao", &a.data_producao},
      {"classe", &a.classe},
      {"destinacao_prevista", &a.destinacao_prevista},
      {"genero", &a.genero},
      {"prazo_guarda", &a.prazo_guarda}};
  std::set<std::string> keys = {"orgao_publico"};
  for (const auto& [key, out] : kTemplates) keys.insert(key);
  ACERVO_RETURN_IF_ERROR(r.Unknown(archival, keys, "archival"));
  ACERVO_RETURN_IF_ERROR(r.Bool(archival, "orgao_publico", &a.orgao_publico));
  std::set<std::string> placeholders = BuiltinPlaceholders();
  for (const FieldSpec& f : p.fields) placeholders.insert(f.name);
  for (const auto& [key, out] : kTemplates) {
    ACERVO_RETURN_IF_ERROR(r.String(archival, key, out));
    if (Status s = CheckTemplate(*out, placeholders); !s.ok()) {
      return Status::InvalidArgument(TomlAt(name, *archival.get(key)) + ": [archival] " + key + ": " +
                                     s.message());
    }
  }
  if (a.orgao_publico) {
    for (const char* key : {"classe", "destinacao_prevista", "genero", "prazo_guarda"}) {
      if (archival.get(key) == nullptr) {
        return Status::InvalidArgument(TomlAt(name, archival) + ": [archival] orgao_publico = true needs '" +
                                       key + "' (Decreto 10.278/2020, Anexo II)");
      }
    }
  }
  return Status::OK();
}

// [signature]: the key and the optional time-stamp authority.
Status ReadSignature(Reader& r, const toml::table& signature, LotProfile& p) {
  const std::string_view name = r.name;
  SignatureProfile sp;
  ACERVO_RETURN_IF_ERROR(r.Unknown(signature,
                                   {"pkcs12", "password_env", "reason", "location", "contact", "form", "tsa_url",
                                    "tsa_ca", "tsa_user", "tsa_password_env", "tsa_timeout"},
                                   "signature"));
  const std::pair<const char*, std::string*> strings[] = {
      {"pkcs12", &sp.pkcs12},   {"password_env", &sp.password_env}, {"reason", &sp.reason},
      {"location", &sp.location}, {"contact", &sp.contact},         {"form", &sp.form},
      {"tsa_url", &sp.tsa_url}, {"tsa_ca", &sp.tsa_ca},             {"tsa_user", &sp.tsa_user},
      {"tsa_password_env", &sp.tsa_password_env}};
  for (const auto& [key, out] : strings) ACERVO_RETURN_IF_ERROR(r.String(signature, key, out));
  ACERVO_RETURN_IF_ERROR(r.Number(signature, "tsa_timeout", 1, 600, &sp.tsa_timeout_s));
  auto refuse = [&](const char* key, const std::string& why) {
    const toml::node* n = signature.get(key);
    return Status::InvalidArgument(TomlAt(name, n != nullptr ? *n : static_cast<const toml::node&>(signature)) +
                                   ": [signature] " + why);
  };
  if (sp.pkcs12.empty()) return refuse("pkcs12", "needs 'pkcs12' (the key file)");
  if (sp.form != "icp-brasil" && sp.form != "pades-basic") {
    return refuse("form", "form must be \"icp-brasil\" or \"pades-basic\", not '" + sp.form + "'");
  }
  if (!sp.tsa_url.empty() && sp.tsa_url.rfind("http://", 0) != 0 && sp.tsa_url.rfind("https://", 0) != 0) {
    return refuse("tsa_url", "tsa_url must be an http:// or https:// URL");
  }
  if (!sp.tsa_url.empty() && sp.tsa_ca.empty()) {
    return refuse("tsa_url", "tsa_url needs 'tsa_ca' (the CA certificates the time-stamp authority must chain to)");
  }
  if (sp.tsa_url.empty()) {
    for (const char* key : {"tsa_ca", "tsa_user", "tsa_password_env", "tsa_timeout"}) {
      if (signature.get(key) != nullptr) return refuse(key, std::string(key) + " is set but tsa_url is not");
    }
  }
  p.signature = std::move(sp);
  return Status::OK();
}

// [[fields]]: the index fields, their types and rules (patterns compiled here).
Status ReadFields(Reader& r, const toml::node& fields, LotProfile& p) {
  const std::string_view name = r.name;
  if (!fields.is_array_of_tables()) {
    return Status::InvalidArgument(TomlAt(name, fields) + ": use [[fields]] tables for index fields");
  }
  std::set<std::string> seen;
  for (const toml::node& n : *fields.as_array()) {
    const toml::table& t = *n.as_table();
    FieldSpec f;
    ACERVO_RETURN_IF_ERROR(r.Unknown(t, {"name", "label", "type", "required", "allowed", "regex", "extract", "types"}, "fields"));
    ACERVO_RETURN_IF_ERROR(r.String(t, "name", &f.name));
    ACERVO_RETURN_IF_ERROR(r.String(t, "label", &f.label));
    ACERVO_RETURN_IF_ERROR(r.String(t, "type", &f.type));
    ACERVO_RETURN_IF_ERROR(r.Bool(t, "required", &f.required));
    if (f.name.empty()) return Status::InvalidArgument(TomlAt(name, n) + ": a field needs a name");
    if (!kFieldTypes.count(f.type)) {
      return Status::InvalidArgument(TomlAt(name, n) + ": field '" + f.name + "' has unknown type '" +
                                     f.type + "'");
    }
    if (!seen.insert(f.name).second) {
      return Status::InvalidArgument(TomlAt(name, n) + ": field '" + f.name + "' is defined twice");
    }
    if (const toml::node* allowed = t.get("allowed")) {
      if (!allowed->is_array()) return Status::InvalidArgument(TomlAt(name, *allowed) + ": 'allowed' must be a list");
      for (const toml::node& a : *allowed->as_array()) {
        if (!a.is_string()) return Status::InvalidArgument(TomlAt(name, a) + ": 'allowed' values must be strings");
        f.allowed.push_back(a.as_string()->get());
      }
    }
    ACERVO_RETURN_IF_ERROR(r.Regex(t, "regex", &f.regex_text, &f.regex));
    ACERVO_RETURN_IF_ERROR(r.Regex(t, "extract", &f.extract_text, &f.extract));
    ACERVO_RETURN_IF_ERROR(r.StringList(t, "types", &f.types));
    if (f.extract && f.extract->NumberOfCapturingGroups() > 1) {
      return Status::InvalidArgument(At(name, *t.get("extract")) + ": 'extract' of field '" + f.name +
                                     "' has more than one capture group; the value is group 1");
    }
    if (f.type == "enum" && f.allowed.empty()) {
      return Status::InvalidArgument(TomlAt(name, n) + ": enum field '" + f.name + "' needs 'allowed'");
    }
    if (f.label.empty()) f.label = f.name;
    p.fields.push_back(std::move(f));
  }
  return Status::OK();
}

// [[types]]: the document types, each once.
Status ReadTypes(Reader& r, const toml::node& types, LotProfile& p) {
  const std::string_view name = r.name;
  if (!types.is_array_of_tables()) {
    return Status::InvalidArgument(TomlAt(name, types) + ": use [[types]] tables for document types");
  }
  std::set<std::string> seen;
  for (const toml::node& n : *types.as_array()) {
    const toml::table& t = *n.as_table();
    DocumentTypeSpec d;
    ACERVO_RETURN_IF_ERROR(r.Unknown(t, {"name", "label"}, "types"));
    ACERVO_RETURN_IF_ERROR(r.String(t, "name", &d.name));
    ACERVO_RETURN_IF_ERROR(r.String(t, "label", &d.label));
    if (d.name.empty()) return Status::InvalidArgument(TomlAt(name, n) + ": a document type needs a name");
    if (!seen.insert(d.name).second) {
      return Status::InvalidArgument(TomlAt(name, n) + ": document type '" + d.name + "' is defined twice");
    }
    if (d.label.empty()) d.label = d.name;
    p.types.push_back(std::move(d));
  }
  return Status::OK();
}

// A field limited to a type nobody declared is a typo that would make the
// field silently never required (with no [[types]] at all, too).
Status CheckFieldTypes(std::string_view name, const toml::node& fields, const LotProfile& p) {
  for (size_t i = 0; i < p.fields.size(); ++i) {
    for (const std::string& ty : p.fields[i].types) {
      const bool declared = std::any_of(p.types.begin(), p.types.end(),
                                        [&](const DocumentTypeSpec& d) { return d.name == ty; });
      if (!declared) {
        return Status::InvalidArgument(At(name, *fields.as_array()->get(i)) + ": field '" + p.fields[i].name +
                                       "' names type '" + ty + "', which is not in [[types]]" +
                                       (p.types.empty() ? " (the profile declares no [[types]])" : ""));
      }
    }
  }
  return Status::OK();
}

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
  ACERVO_RETURN_IF_ERROR(r.Unknown(root, {"lot", "image", "ocr", "pdf", "fields", "types", "separation", "metadata", "scanner", "archival", "signature"}, "top level"));

  // Each section is read by its own step; order matters only where a check
  // names another section: field types and [archival] templates come after
  // [[fields]] and [[types]].
  using ReadTable = Status (*)(Reader&, const toml::table&, LotProfile&);
  auto section = [&](const char* key, ReadTable read) -> Status {
    ACERVO_ASSIGN_OR_RETURN(const toml::table* t, r.Table(root, key));
    return t != nullptr ? read(r, *t, p) : Status::OK();
  };
  for (auto [key, read] : {std::pair<const char*, ReadTable>{"lot", ReadLot}, {"image", ReadImage},
                           {"ocr", ReadOcr}, {"pdf", ReadPdf}, {"scanner", ReadScanner}}) {
    ACERVO_RETURN_IF_ERROR(section(key, read));
  }
  const toml::node* fields = root.get("fields");
  if (fields != nullptr) ACERVO_RETURN_IF_ERROR(ReadFields(r, *fields, p));
  if (const toml::node* types = root.get("types")) ACERVO_RETURN_IF_ERROR(ReadTypes(r, *types, p));
  if (fields != nullptr) ACERVO_RETURN_IF_ERROR(CheckFieldTypes(name, *fields, p));
  for (auto [key, read] : {std::pair<const char*, ReadTable>{"separation", ReadSeparation},
                           {"metadata", ReadMetadata}, {"archival", ReadArchival}, {"signature", ReadSignature}}) {
    ACERVO_RETURN_IF_ERROR(section(key, read));
  }
  return p;
}

const FieldSpec* LotProfile::FindField(std::string_view field_name) const {
  for (const FieldSpec& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

Result<LotProfile> LoadProfile(const std::filesystem::path& path, Links links) {
  // A profile is a page of settings: anything much larger is the wrong file.
  constexpr off_t kMaxProfileBytes = 1 << 20;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && st.st_size > kMaxProfileBytes) {
    return Status::InvalidArgument(path.filename().string() + ": " + std::to_string(st.st_size) +
                                   " bytes is larger than the limit of " + std::to_string(kMaxProfileBytes) +
                                   " bytes for a profile");
  }
  ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(path, links));
  return ParseProfile(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                      path.filename().string());
}

}  // namespace acervo
