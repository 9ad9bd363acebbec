#include "search_common.h"

#include <algorithm>
#include <map>

#include "acervo/indexer/field_value.h"
#include "acervo/indexer/highlight.h"
#include "analyzer.h"

namespace acervo {

Status CheckLimits(const SearchRequest& request) {
  if (request.limit < 1 || request.limit > kMaxSearchLimit) {
    return Status::InvalidArgument("search limit " + std::to_string(request.limit) + " is not within 1.." +
                                   std::to_string(kMaxSearchLimit));
  }
  if (request.offset < 0 || request.offset > kMaxSearchLimit - request.limit) {
    return Status::InvalidArgument("search offset " + std::to_string(request.offset) +
                                   " is negative or takes offset + limit past " + std::to_string(kMaxSearchLimit));
  }
  return Status::OK();
}

namespace {

void FieldsOf(const QueryCondition& c, std::vector<std::string>* out) {
  if (c.op == QueryCondition::Op::kPredicate) {
    if (!c.predicate.field.empty()) out->push_back(c.predicate.field);
    return;
  }
  for (const QueryCondition& child : c.children) FieldsOf(child, out);
}

}  // namespace

std::vector<std::string> ReferencedFields(const SearchRequest& request, const ParsedQuery& query) {
  std::vector<std::string> all;
  for (const auto& [name, value] : request.fields) all.push_back(NormalizeFieldValue(name));
  if (query.filter) FieldsOf(*query.filter, &all);
  std::vector<std::string> out;
  for (std::string& n : all) {
    if (!n.empty() && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(std::move(n));
  }
  return out;
}

Status UnknownFieldError(const std::string& name, const std::string& lot, const std::vector<std::string>& known) {
  std::string msg = "unknown field '" + name + "': ";
  if (known.empty()) {
    msg += lot.empty() ? "no document in the store has index fields" : "the documents of lot " + lot + " have no index fields";
  } else {
    msg += lot.empty() ? "the store's fields are " : "the fields of lot " + lot + " are ";
    for (size_t i = 0; i < known.size(); ++i) msg += (i ? ", " : "") + known[i];
  }
  return Status::InvalidArgument(msg);
}

std::string BuildSnippet(std::string_view text, const std::unordered_set<std::string>& terms) {
  // The words to mark as the document view marks them (highlight.h).
  const std::vector<HighlightTerm> marked = HighlightTermsOf(std::vector<std::string>(terms.begin(), terms.end()));
  // The page's tokens are visited, not collected (ForEachToken): only the
  // hits are kept, and the surface tokens' byte ranges (the scan's).
  SurfaceScan scan;
  std::vector<std::pair<size_t, size_t>> hits;  // byte spans
  std::vector<int> hit_positions;                 // in text order, so ascending
  ForEachToken(text, &scan, [&](const TokenView& t) {
    if (TokenMatchesTerms(t.term, marked)) {
      hits.emplace_back(t.begin, t.end);
      hit_positions.push_back(t.position);
    }
  });
  const std::vector<SurfaceScan::Token>& surface = scan.tokens;
  if (hits.empty() || surface.empty()) return "";
  // The window of kSnippetTokens positions, starting a little before a hit,
  // that holds the most hits (the first such).
  // The positions ascend, so do the windows' starts: the hits inside a
  // window are counted by two indexes moving forward (a page with many
  // hits is not counted hits x hits times).
  int best_start = 0, best_count = -1;
  const int n_surface = static_cast<int>(surface.size());
  size_t first_in = 0, first_after = 0;  // hits in [start, start + kSnippetTokens)
  for (int h : hit_positions) {
    const int start = std::max(0, std::min(h - 3, n_surface - kSnippetTokens));
    while (first_in < hit_positions.size() && hit_positions[first_in] < start) ++first_in;
    first_after = std::max(first_after, first_in);
    while (first_after < hit_positions.size() && hit_positions[first_after] < start + kSnippetTokens) ++first_after;
    const int count = static_cast<int>(first_after - first_in);
    if (count > best_count) best_count = count, best_start = start;
  }
  const int last_pos = std::min<int>(best_start + kSnippetTokens, static_cast<int>(surface.size())) - 1;
  // From the text's start or the window's first token, to the window's
  // last token or the text's end.
  size_t from = best_start == 0 ? 0 : surface[static_cast<size_t>(best_start)].begin;
  size_t to = last_pos + 1 == n_surface ? text.size() : surface[static_cast<size_t>(last_pos)].end;
  std::sort(hits.begin(), hits.end());
  std::vector<std::pair<size_t, size_t>> merged;
  for (const auto& h : hits) {
    if (h.second <= from || h.first >= to) continue;
    if (!merged.empty() && h.first < merged.back().second) {
      merged.back().second = std::max(merged.back().second, h.second);
    } else {
      merged.push_back(h);
    }
  }
  for (const auto& h : merged) {
    from = std::min(from, h.first);
    to = std::max(to, h.second);
  }
  std::string out;
  if (best_start > 0) out += "…";
  auto append = [&](size_t a, size_t b) {
    for (size_t i = a; i < b; ++i) {
      const char c = text[i];
      const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
      if (space && (out.empty() || out.back() == ' ')) continue;
      out += space ? ' ' : c;
    }
  };
  size_t at = from;
  for (const auto& [a, b] : merged) {
    append(at, a);
    out += "«";
    append(a, b);
    out += "»";
    at = b;
  }
  append(at, to);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (last_pos + 1 < n_surface) out += "…";
  return out;
}

std::string FirstDate(const std::vector<FieldRecord>& fields) {
  for (const FieldRecord& f : fields) {
    if (std::optional<std::string> d = ParseIsoDate(f.value)) return *d;
  }
  return "";
}

int DocumentTier(const std::vector<PhraseRole>& roles, const std::vector<PagePhrases>& pages, size_t clauses) {
  std::vector<int> best(clauses, -1);
  for (const PagePhrases& p : pages) {
    for (int i : p.phrases) {
      if (i < 0 || static_cast<size_t>(i) >= roles.size() || roles[i].weight <= 0) continue;
      const PhraseRole& r = roles[static_cast<size_t>(i)];
      if (r.clause < 0 || static_cast<size_t>(r.clause) >= clauses) continue;
      int& b = best[static_cast<size_t>(r.clause)];
      const int tier = static_cast<int>(r.tier);
      if (b < 0 || tier < b) b = tier;
    }
  }
  int tier = 0;
  for (int b : best) tier = std::max(tier, b);
  return tier;
}

void AnnotateHit(const std::vector<PhraseRole>& roles, const std::vector<PagePhrases>& pages, size_t clauses,
                 SearchHit* hit) {
  hit->tier = DocumentTier(roles, pages, clauses);
  // One entry per (query, matched, kind), pages ascending, in role order.
  std::map<size_t, std::vector<int>> by_role;
  std::map<std::string, size_t> first_role;
  for (const PagePhrases& p : pages) {
    for (int i : p.phrases) {
      if (i < 0 || static_cast<size_t>(i) >= roles.size() || roles[i].weight <= 0) continue;
      const PhraseRole& r = roles[static_cast<size_t>(i)];
      const std::string key = r.query + '\n' + r.matched + '\n' + r.kind;
      const size_t at = first_role.emplace(key, static_cast<size_t>(i)).first->second;
      by_role[at].push_back(p.pdf_page);
    }
  }
  hit->matches.clear();
  for (auto& [i, pages_of] : by_role) {
    std::sort(pages_of.begin(), pages_of.end());
    pages_of.erase(std::unique(pages_of.begin(), pages_of.end()), pages_of.end());
    const PhraseRole& r = roles[i];
    hit->matches.push_back({r.query, r.matched, r.kind, pages_of});
  }
}

std::unordered_set<std::string> HighlightTerms(const std::vector<PhraseRole>& roles, const std::vector<int>& phrases) {
  std::unordered_set<std::string> out;
  for (int i : phrases) {
    if (i >= 0 && static_cast<size_t>(i) < roles.size() && roles[i].weight > 0) out.insert(roles[i].matched);
  }
  return out;
}

std::vector<double> PhraseWeights(const std::vector<PhraseRole>& roles, const std::vector<double>& idfs) {
  std::vector<double> w(roles.size());
  for (size_t i = 0; i < roles.size(); ++i) w[i] = roles[i].weight * (i < idfs.size() ? idfs[i] : 1.0);
  return w;
}

void SortAndPage(std::vector<ScoredDoc>* docs, int offset, int limit) {
  // Exact documents first; inflections and forgiving matches together
  // after them, by their weighted score (an inflection of a real word is
  // not always a better guess than a misreading of the word itself).
  std::sort(docs->begin(), docs->end(), [](const ScoredDoc& a, const ScoredDoc& b) {
    if ((a.tier > 0) != (b.tier > 0)) return a.tier == 0;
    if (a.score != b.score) return a.score > b.score;
    return a.doc_row < b.doc_row;
  });
  const size_t skip = std::min(docs->size(), static_cast<size_t>(std::max(0, offset)));
  docs->erase(docs->begin(), docs->begin() + static_cast<std::ptrdiff_t>(skip));
  if (docs->size() > static_cast<size_t>(limit)) docs->resize(static_cast<size_t>(limit));
}

void FillScoredHit(const std::vector<PhraseRole>& roles, size_t clauses, ScoredDoc doc, std::string_view best_page_text,
                   SearchHit* hit) {
  hit->pages = std::move(doc.pages);
  hit->score = doc.score;
  AnnotateHit(roles, doc.phrases, clauses, hit);
  hit->snippet = BuildSnippet(best_page_text, HighlightTerms(roles, doc.best_phrases));
}

Status AlternateScans(const std::function<Result<bool>()>& pages, const std::function<Result<bool>()>& documents,
                      bool filtered, const std::function<bool()>& enough) {
  while (!enough()) {
    ACERVO_ASSIGN_OR_RETURN(bool pages_done, pages());
    if (pages_done || !filtered || enough()) break;
    ACERVO_ASSIGN_OR_RETURN(bool documents_done, documents());
    if (documents_done) break;
  }
  return Status::OK();
}

}  // namespace acervo
