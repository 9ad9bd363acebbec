// The Decreto 10.278/2020 (Annex II) metadata of each document, from the lot
// profile's [archival] section and the document's manifest row.
//
// Each [archival] value is a template: literal text with placeholders in
// braces, replaced per document:
//   {document_id} {document_type} {title} {lot_id} {project} {box} {operator}
//   and {NAME} for every index field declared with [[fields]] (the manifest
//   column of that name; empty when the row leaves it empty).
// "{{" and "}}" stand for literal braces. Placeholders are checked when the
// profile is parsed, so a typo fails before any page is touched.
//
// Thread-safety: pure functions.
#ifndef ACERVO_PIPELINE_ARCHIVAL_H_
#define ACERVO_PIPELINE_ARCHIVAL_H_

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "acervo/core/status.h"

namespace acervo {

struct ArchivalMetadata;
struct DocumentPlan;
struct LotProfile;

// Placeholders every template may use, besides the declared fields.
const std::set<std::string>& BuiltinPlaceholders();

// InvalidArgument (naming the placeholder) for an unknown placeholder or an
// unbalanced brace. `known` holds the allowed names.
Status CheckTemplate(std::string_view tmpl, const std::set<std::string>& known);

// Replaces the placeholders; unknown names become "" (CheckTemplate ran at
// parse time).
std::string ExpandTemplate(std::string_view tmpl, const std::map<std::string, std::string>& values);

// The metadata of one document. `scanned_at` is the ISO 8601 date-time of the
// run (data da digitalização). Defaults when the profile leaves a field
// empty: titulo = the document's title (else its id), tipo_documental = its
// type, identificador = "<lot_id>/<document_id>", autor = the lot's project,
// responsavel_digitalizacao = the lot's operator.
ArchivalMetadata BuildArchivalMetadata(const LotProfile& profile, const DocumentPlan& doc,
                                       const std::string& lot_id, const std::string& scanned_at);

// The PDF's Subject (Info) and dc:description (XMP): the Decreto's assunto
// when the profile gives one, else the document type. The same for a run
// and for a later rewrite of the metadata (a correction, a page replaced).
std::string PdfSubject(const ArchivalMetadata& archival, const std::string& document_type);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_ARCHIVAL_H_
