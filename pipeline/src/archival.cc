#include "acervo/pipeline/archival.h"

#include "acervo/pipeline/lot.h"
#include "acervo/pipeline/profile.h"
#include "acervo/stages/pdf/pdf_writer.h"

namespace acervo {

const std::set<std::string>& BuiltinPlaceholders() {
  static const std::set<std::string> kNames = {"document_id", "document_type", "title", "lot_id",
                                               "project",     "box",           "operator"};
  return kNames;
}

namespace {

// Walks `tmpl`, calling literal(text) and placeholder(name); false on an
// unbalanced brace, with `error` set.
template <typename Literal, typename Placeholder>
bool Walk(std::string_view tmpl, Literal literal, Placeholder placeholder, std::string* error) {
  size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {
      literal(std::string_view(&tmpl[i], 1));
      i += 2;
      continue;
    }
    if (c == '}') {
      *error = "'}' without '{' at position " + std::to_string(i + 1);
      return false;
    }
    if (c == '{') {
      size_t close = tmpl.find('}', i + 1);
      if (close == std::string_view::npos) {
        *error = "'{' without '}' at position " + std::to_string(i + 1);
        return false;
      }
      placeholder(std::string(tmpl.substr(i + 1, close - i - 1)));
      i = close + 1;
      continue;
    }
    size_t next = tmpl.find_first_of("{}", i);
    if (next == std::string_view::npos) next = tmpl.size();
    literal(tmpl.substr(i, next - i));
    i = next;
  }
  return true;
}

}  // namespace

Status CheckTemplate(std::string_view tmpl, const std::set<std::string>& known) {
  std::string error, unknown;
  bool ok = Walk(
      tmpl, [](std::string_view) {},
      [&](const std::string& name) {
        if (unknown.empty() && !known.count(name)) unknown = name;
      },
      &error);
  if (!ok) return Status::InvalidArgument(error);
  if (!unknown.empty()) {
    return Status::InvalidArgument("unknown placeholder {" + unknown +
                                   "} (use a built-in name or a field declared with [[fields]])");
  }
  return Status::OK();
}

std::string ExpandTemplate(std::string_view tmpl, const std::map<std::string, std::string>& values) {
  std::string out, error;
  Walk(
      tmpl, [&](std::string_view s) { out.append(s); },
      [&](const std::string& name) {
        auto it = values.find(name);
        if (it != values.end()) out += it->second;
      },
      &error);
  return out;
}

std::string PdfSubject(const ArchivalMetadata& archival, const std::string& document_type) {
  return archival.assunto.empty() ? document_type : archival.assunto;
}

ArchivalMetadata BuildArchivalMetadata(const LotProfile& profile, const DocumentPlan& doc,
                                       const std::string& lot_id, const std::string& scanned_at) {
  std::map<std::string, std::string> values = {
      {"document_id", doc.id},       {"document_type", doc.type}, {"title", doc.title},
      {"lot_id", lot_id},            {"project", profile.project}, {"box", profile.box},
      {"operator", profile.operator_name}};
  for (const FieldSpec& f : profile.fields) values.emplace(f.name, "");
  for (const auto& [name, value] : doc.fields) values[name] = value;
  const ArchivalProfile& t = profile.archival;
  auto expand = [&](const std::string& tmpl, const std::string& fallback) {
    std::string v = ExpandTemplate(tmpl, values);
    return v.empty() ? fallback : v;
  };
  ArchivalMetadata m;
  m.assunto = expand(t.assunto, "");
  m.autor = expand(t.autor, profile.project);
  m.data_digitalizacao = scanned_at;
  m.local_digitalizacao = expand(t.local_digitalizacao, "");
  m.identificador = expand(t.identificador, lot_id + "/" + doc.id);
  m.responsavel_digitalizacao = expand(t.responsavel_digitalizacao, profile.operator_name);
  m.titulo = expand(t.titulo, doc.title.empty() ? doc.id : doc.title);
  m.tipo_documental = expand(t.tipo_documental, doc.type);
  m.classe = expand(t.classe, "");
  m.data_producao = expand(t.data_producao, "");
  m.destinacao_prevista = expand(t.destinacao_prevista, "");
  m.genero = expand(t.genero, "");
  m.prazo_guarda = expand(t.prazo_guarda, "");
  return m;
}

}  // namespace acervo
