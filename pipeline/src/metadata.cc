#include "acervo/pipeline/metadata.h"

#include <algorithm>

#include <re2/re2.h>

#include "acervo/pipeline/validators.h"

namespace acervo {
namespace {

size_t Rank(const LotProfile& p, const std::string& source) {
  const auto& o = p.metadata_sources;
  return static_cast<size_t>(std::find(o.begin(), o.end(), source) - o.begin());
}

std::string SourceKind(const std::string& source) {
  if (source.rfind("manifest", 0) == 0) return "manifest";
  if (source.rfind("separator", 0) == 0) return "separator";
  return "ocr";
}

bool AppliesTo(const FieldSpec& f, const std::string& type) {
  return f.types.empty() || std::find(f.types.begin(), f.types.end(), type) != f.types.end();
}

void Flag(ResolvedMetadata* m, std::string flag, std::string reason) {
  if (std::find(m->flags.begin(), m->flags.end(), flag) == m->flags.end()) m->flags.push_back(std::move(flag));
  m->reasons.push_back(std::move(reason));
}

// A reason for review: the flags (needs_review, kind[:subject]), the line
// for people and the review item, all from one call.
void Review(ResolvedMetadata* m, const std::string& kind, const std::string& subject, std::string detail) {
  Flag(m, "needs_review", "");
  Flag(m, subject.empty() ? kind : kind + ":" + subject, detail);
  ReviewItem item;
  item.kind = kind;
  item.subject = subject;
  item.detail = std::move(detail);
  m->items.push_back(std::move(item));
}

// The checks of a document's fields and type against the profile (the
// review reasons invalid_field, unchecked_field, missing_field, unknown_type).
void CheckFields(const LotProfile& profile, const std::string& type, ResolvedMetadata* out) {
  ResolvedMetadata& m = *out;
  for (const FieldRecord& r : m.fields) {
    const FieldSpec* f = profile.FindField(r.name);
    if (f == nullptr) {
      // Free-form columns are kept; with declared fields, one that is not
      // declared is most likely a misspelt header.
      if (!profile.fields.empty()) {
        Review(&m, "unchecked_field", r.name,
               "field '" + r.name + "' (" + r.source + ") is not in the profile's [[fields]]; value not checked");
      }
      continue;
    }
    Status s = ValidateFieldValue(*f, r.value);
    if (!s.ok()) {
      Review(&m, "invalid_field", r.name, "field '" + r.name + "' (" + r.source + "): " + s.message());
      m.invalid_fields.push_back(r.name);
    }
  }
  for (const FieldSpec& f : profile.fields) {
    if (!f.required || !AppliesTo(f, type)) continue;
    if (std::none_of(m.fields.begin(), m.fields.end(), [&](const FieldRecord& r) { return r.name == f.name; })) {
      Review(&m, "missing_field", f.name, "required field '" + f.name + "' has no value");
    }
  }
  if (!profile.types.empty() &&
      std::none_of(profile.types.begin(), profile.types.end(),
                   [&](const DocumentTypeSpec& t) { return t.name == type; })) {
    Review(&m, "unknown_type", "",
           type.empty() ? std::string("no document type given")
                            : "document type '" + type + "' is not in the profile's [[types]]");
  }
}

}  // namespace

ResolvedMetadata ResolveMetadata(const LotProfile& profile, const DocumentPlan& doc,
                                 const std::vector<std::string>& page_texts) {
  ResolvedMetadata m;
  for (const auto& [name, value] : doc.fields) {
    auto src = doc.field_sources.find(name);
    FieldRecord r{name, value, src != doc.field_sources.end() ? src->second : "manifest.csv"};
    // A source the profile does not list is not used.
    if (Rank(profile, SourceKind(r.source)) >= profile.metadata_sources.size()) continue;
    m.fields.push_back(std::move(r));
  }
  const size_t ocr_rank = Rank(profile, "ocr");
  if (ocr_rank < profile.metadata_sources.size()) {
    for (const FieldSpec& f : profile.fields) {
      if (!f.extract || !AppliesTo(f, doc.type)) continue;
      auto existing = std::find_if(m.fields.begin(), m.fields.end(),
                                   [&](const FieldRecord& r) { return r.name == f.name; });
      if (existing != m.fields.end() && Rank(profile, SourceKind(existing->source)) < ocr_rank) continue;
      bool found = false;
      for (size_t p = 0; p < page_texts.size() && !found; ++p) {
        const std::string& text = page_texts[p];
        // Every match in turn (RE2: linear time in the text per match).
        const re2::RE2& re = *f.extract;
        const int groups = std::min(re.NumberOfCapturingGroups(), 1);
        re2::StringPiece match[2];
        for (size_t pos = 0; pos <= text.size() &&
                             re.Match(text, pos, text.size(), RE2::UNANCHORED, match, groups + 1);) {
          const size_t end = static_cast<size_t>(match[0].data() - text.data()) + match[0].size();
          // Next search after this match; an empty match moves on by one
          // character (never into the middle of a UTF-8 sequence).
          size_t next = end;
          if (match[0].empty()) {
            next = end + 1;
            while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
          }
          pos = next;
          std::string value = groups == 1 && match[1].data() != nullptr ? std::string(match[1]) : std::string(match[0]);
          // The text's line breaks are not part of a value.
          std::replace(value.begin(), value.end(), '\n', ' ');
          if (!ValidateFieldValue(f, value).ok()) continue;  // e.g. a CPF with wrong check digits
          FieldRecord r{f.name, value, "ocr page " + std::to_string(p + 1)};
          if (existing != m.fields.end()) *existing = std::move(r);
          else m.fields.push_back(std::move(r));
          found = true;
          break;
        }
      }
    }
  }
  CheckFields(profile, doc.type, &m);
  for (const DocumentPlan::ReviewNote& n : doc.review_notes) {
    Review(&m, n.kind, "", n.detail);
    m.items.back().page = n.page;
  }
  m.reasons.erase(std::remove(m.reasons.begin(), m.reasons.end(), std::string()), m.reasons.end());
  return m;
}

std::vector<ReviewItem> FieldReviewItems(const LotProfile& profile, const std::string& type,
                                         const std::vector<FieldRecord>& fields) {
  ResolvedMetadata m;
  m.fields = fields;
  CheckFields(profile, type, &m);
  return m.items;
}

std::vector<std::pair<std::string, std::string>> ValidPlannedFields(const LotProfile& profile,
                                                                    const DocumentPlan& doc) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : doc.fields) {
    const FieldSpec* f = profile.FindField(name);
    if (f != nullptr && !ValidateFieldValue(*f, value).ok()) continue;
    out.emplace_back(name, value);
  }
  return out;
}

ResolvedMetadata ApplyMetadata(const LotProfile& profile, const DocumentPlan& doc, DocumentRecord* record) {
  std::vector<std::string> texts;
  for (const PageRecord& p : record->pages) {
    if (p.number < 1) continue;
    if (texts.size() < static_cast<size_t>(p.number)) texts.resize(static_cast<size_t>(p.number));
    texts[static_cast<size_t>(p.number) - 1] = p.blank ? std::string() : p.text;
  }
  ResolvedMetadata m = ResolveMetadata(profile, doc, texts);
  record->fields = m.fields;
  for (const std::string& f : m.flags) {
    if (std::find(record->flags.begin(), record->flags.end(), f) == record->flags.end()) {
      record->flags.push_back(f);
    }
  }
  return m;
}

}  // namespace acervo
