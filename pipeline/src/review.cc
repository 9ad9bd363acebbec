#include "acervo/pipeline/review.h"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "acervo/core/review_reason.h"

namespace acervo {

std::vector<ReviewItem> PageReviewItems(const PageRecord& page) {
  static const std::pair<const char*, const char*> kFlagToKind[] = {
      {"low_confidence", "low_confidence"},
      {"orientation_fixed", "orientation_changed"},
      {"ocr_deadline", "ocr_deadline"},
      {"no_text", "no_text"},
      {"deskew_deadline", "skew_uncorrected"},
  };
  std::vector<ReviewItem> items;
  for (const auto& [flag, kind] : kFlagToKind) {
    if (std::find(page.flags.begin(), page.flags.end(), flag) == page.flags.end()) continue;
    ReviewItem item;
    item.page = page.number;
    item.kind = kind;
    char buf[160];
    if (item.kind == "low_confidence") {
      std::snprintf(buf, sizeof(buf), "mean OCR confidence %.0f", page.mean_confidence);
    } else if (item.kind == "orientation_changed") {
      std::snprintf(buf, sizeof(buf), "turned %.0f degrees", page.orientation_deg);
    } else if (item.kind == "no_text") {
      std::snprintf(buf, sizeof(buf), "the page is in the PDF without searchable text");
    } else if (item.kind == "skew_uncorrected") {
      std::snprintf(buf, sizeof(buf), "deskew stopped by the page deadline");
    } else {
      std::snprintf(buf, sizeof(buf), "OCR stopped by the page deadline: no searchable text");
    }
    item.detail = buf;
    items.push_back(std::move(item));
  }
  return items;
}

ReviewCounts CountReview(const std::vector<ReviewItem>& items) {
  ReviewCounts c;
  std::set<std::pair<std::string, std::string>> docs;
  std::set<std::tuple<std::string, std::string, int>> pages;
  for (const ReviewItem& i : items) {
    if (i.state != "open") continue;
    ++c.items;
    ++c.by_reason[i.kind];
    if (i.document_id.empty()) {
      ++c.inputs;
      continue;
    }
    docs.insert({i.lot_id, i.document_id});
    const ReviewReasonInfo* r = FindReviewReason(i.kind);
    if (i.page > 0 && r != nullptr && r->page) pages.insert({i.lot_id, i.document_id, i.page});
  }
  c.documents = static_cast<int>(docs.size());
  c.pages = static_cast<int>(pages.size());
  return c;
}

PdfPageMap PdfPagesOf(Store& store, const std::vector<ReviewItem>& items) {
  PdfPageMap out;
  std::map<std::pair<std::string, std::string>, bool> read;  // documents already looked at
  for (const ReviewItem& i : items) {
    if (i.page < 1 || i.document_id.empty() || read[{i.lot_id, i.document_id}]) continue;
    read[{i.lot_id, i.document_id}] = true;
    Result<std::optional<DocumentRecord>> d = store.GetDocument(i.lot_id, i.document_id);
    if (!d.ok() || !d->has_value()) continue;
    for (const PageRecord& p : (*d)->pages) out[{i.lot_id, i.document_id, p.number}] = p.in_pdf ? p.pdf_page : 0;
  }
  return out;
}

nlohmann::json ReviewJson(const std::vector<ReviewItem>& items, const PdfPageMap* pdf_pages) {
  using json = nlohmann::json;
  const ReviewCounts c = CountReview(items);
  json list = json::array();
  for (const ReviewItem& i : items) {
    if (i.state != "open") continue;
    json item = {{"lot", i.lot_id},
                 {"document", i.document_id},
                 {"page", i.page},
                 {"kind", i.kind},
                 {"subject", i.subject},
                 {"flag", i.Flag()},
                 {"label_pt", ReviewLabel(i.kind, i.subject, false)},
                 {"label_en", ReviewLabel(i.kind, i.subject, true)},
                 {"detail", i.detail},
                 {"action_pt", ReviewAction(i.kind, false)},
                 {"action_en", ReviewAction(i.kind, true)},
                 {"state", i.state}};
    if (pdf_pages != nullptr && i.page > 0) {
      if (auto at = pdf_pages->find({i.lot_id, i.document_id, i.page}); at != pdf_pages->end()) {
        item["pdf_page"] = at->second;
      }
    }
    list.push_back(std::move(item));
  }
  return {{"open", c.items},       {"documents", c.documents}, {"pages", c.pages},
          {"inputs", c.inputs},    {"by_reason", c.by_reason}, {"items", std::move(list)}};
}

std::string ReviewSummaryText(const std::vector<ReviewItem>& items, bool english, size_t max_items) {
  const ReviewCounts c = CountReview(items);
  if (c.items == 0) return "";
  auto plural = [](int n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); };
  std::string out = english ? "To review: " + plural(c.documents, "document", "documents") + ", " +
                                  plural(c.pages, "page", "pages") + ", " +
                                  plural(c.inputs, "input file", "input files") + " (" +
                                  plural(c.items, "reason", "reasons") + ")\n"
                            : "Para revisar: " + plural(c.documents, "documento", "documentos") + ", " +
                                  plural(c.pages, "página", "páginas") + ", " +
                                  plural(c.inputs, "arquivo de entrada", "arquivos de entrada") + " (" +
                                  plural(c.items, "motivo", "motivos") + ")\n";
  // Reasons in the catalog's order, then any unknown kind.
  for (const ReviewReasonInfo& r : ReviewReasons()) {
    auto it = c.by_reason.find(std::string(r.kind));
    if (it == c.by_reason.end()) continue;
    out += "  " + std::to_string(it->second) + "  " + std::string(r.kind) + "  (" +
           std::string(english ? r.label_en : r.label_pt) + ")\n";
  }
  for (const auto& [kind, n] : c.by_reason) {
    if (FindReviewReason(kind) == nullptr) out += "  " + std::to_string(n) + "  " + kind + "\n";
  }
  size_t shown = 0;
  for (const ReviewItem& i : items) {
    if (i.state != "open") continue;
    if (shown++ == max_items) {
      out += english ? "  ... (acervo review list for all)\n" : "  ... (acervo review list para todos)\n";
      break;
    }
    std::string where = i.lot_id + "/" + (i.document_id.empty() ? i.subject : i.document_id);
    if (i.page > 0) where += (english ? " page " : " página ") + std::to_string(i.page);
    out += "  " + where + ": " + ReviewLabel(i.kind, i.document_id.empty() ? "" : i.subject, english);
    if (!i.detail.empty()) out += " — " + i.detail;
    out += "\n";
  }
  return out;
}

}  // namespace acervo
