// The document view: metadata with each value's source, page thumbnails,
// the page image at the first hit with every hit word boxed on the scan
// (an SVG overlay in page-image pixels: no JavaScript needed), previous /
// next hit across pages, the page text, the PDF, and the integrity panel.
// Also the page images, thumbnails and the PDF download themselves.
#include <algorithm>

#include "acervo/core/files.h"
#include "acervo/indexer/highlight.h"
#include "acervo/indexer/query.h"
#include "acervo/stages/pdf/pdf_inspect.h"
#include "internal.h"

namespace acervo::web {

Result<std::optional<DocumentRecord>> OpenDocument(RouteContext& ctx) {
  const std::string& lot = ctx.Capture("lot");
  const std::string& doc = ctx.Capture("doc");
  if (ctx.user() == nullptr || !ctx.user()->MayOpenLot(lot)) {
    // Whether the document exists is not said: the same 404 as for one
    // that does not.
    ctx.Audit("denied", lot + "/" + doc, "lot not granted to the user", true);
    return std::optional<DocumentRecord>();
  }
  Result<std::optional<DocumentRecord>> got = ctx.store().GetDocument(lot, doc);
  if (got.ok() && got->has_value()) {
    // Paths as they are on this machine (stored relative to the lot's
    // output folder, docs/store.md).
    DocumentRecord& d = **got;
    d.pdf_path = ctx.services().ResolvePath(ctx.store(), d.lot_id, d.pdf_path).string();
    for (PageRecord& p : d.pages) p.master_path = ctx.services().ResolvePath(ctx.store(), d.lot_id, p.master_path).string();
  }
  return got;
}

std::vector<TermMatch> DocumentMatches(RouteContext& ctx, const DocumentRecord& d, const std::string& q) {
  if (q.empty()) return {};
  SearchRequest r;
  r.query = q;
  r.lot = d.lot_id;
  r.document = d.document_id;
  r.limit = 1;
  ctx.RestrictToAllowedLots(&r);
  Result<std::vector<SearchHit>> hits = ctx.store().Search(r);
  if (!hits.ok() || hits->empty()) return {};
  return std::move(hits->front().matches);
}

namespace {

struct PageHits {
  int pdf_page = 0;
  int number = 0;  // PageRecord::number
  int count = 0;
};

// Pages in the PDF where the query matched, in order, with the number of
// matching words on each (at least one: the store found the page).
std::vector<PageHits> HitPages(const DocumentRecord& d, const std::vector<TermMatch>& matches) {
  std::vector<PageHits> out;
  for (const PageRecord& p : d.pages) {
    if (!p.in_pdf) continue;
    const bool hit = std::any_of(matches.begin(), matches.end(), [&](const TermMatch& m) {
      return std::find(m.pages.begin(), m.pages.end(), p.pdf_page) != m.pages.end();
    });
    if (!hit) continue;
    const int n = CountMatches(p.text, PageHighlightTerms(matches, p.pdf_page));
    out.push_back({p.pdf_page, p.number, std::max(n, 1)});
  }
  return out;
}

const PageRecord* PdfPage(const DocumentRecord& d, int pdf_page) {
  for (const PageRecord& p : d.pages) {
    if (p.in_pdf && p.pdf_page == pdf_page) return &p;
  }
  return nullptr;
}

// The page text with matching words marked (each whitespace-separated
// word holding a matching token, both parts of a joined one), escaped and
// masked.
std::string MarkedText(const RouteContext& ctx, const std::string& text, const std::vector<HighlightTerm>& terms) {
  const std::vector<std::pair<size_t, size_t>> spans = MatchingSpans(text, terms);
  size_t s = 0;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    const std::string word = text.substr(i, j - i);
    if (!word.empty()) {
      while (s < spans.size() && spans[s].second <= i) ++s;
      const bool marked = s < spans.size() && spans[s].first < j;
      const std::string shown = Html(ForUser(ctx, word));
      out += marked ? "<mark>" + shown + "</mark>" : shown;
    }
    size_t k = j;
    while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
    out += Html(text.substr(j, k - j));
    i = k;
  }
  return out;
}

HttpResponse DocumentPage(RouteContext& ctx) {
  const Lang lang = ctx.lang();
  Result<std::optional<DocumentRecord>> got = OpenDocument(ctx);
  if (!got.ok()) return ErrorPage(ctx, 500, T(lang, "err_internal"));
  if (!got->has_value()) return ErrorPage(ctx, 404, T(lang, "err_not_found"));
  const DocumentRecord& d = **got;
  const std::string q = ctx.req().Query("q");
  Result<ParsedQuery> parsed = ParseQuery(q);
  const bool text_query = parsed.ok() && !parsed->required_fts.empty();
  // What the query matched here, as the search found it (forgiving
  // variants included): the words to mark on each page.
  const std::vector<TermMatch> matches = text_query ? DocumentMatches(ctx, d, q) : std::vector<TermMatch>{};
  const std::vector<PageHits> hits = HitPages(d, matches);

  int current = 0;
  const std::string page_param = ctx.req().Query("page");
  if (!page_param.empty() && page_param.size() < 7 && page_param.find_first_not_of("0123456789") == std::string::npos) {
    current = std::stoi(page_param);
  }
  if (current < 1 || current > d.page_count) current = hits.empty() ? 1 : hits.front().pdf_page;
  const PageRecord* page = PdfPage(d, current);
  ctx.Audit("view_document", d.lot_id + "/" + d.document_id + "/" + std::to_string(current), q, /*wait=*/false);

  // Hit navigation across pages.
  int before = 0, total = 0, here = 0;
  const PageHits* prev = nullptr;
  const PageHits* next = nullptr;
  for (const PageHits& h : hits) {
    total += h.count;
    if (h.pdf_page < current) {
      before += h.count;
      prev = &h;
    } else if (h.pdf_page == current) {
      here = h.count;
    } else if (next == nullptr) {
      next = &h;
    }
  }

  std::string body = "<h1 id=\"doc-title\">" + Html(ForUser(ctx, d.title.empty() ? d.document_id : d.title)) + "</h1>";
  body += "<p class=\"meta\">" + Html(T(lang, "lot")) + " <a href=\"/search?lot=" + Html(UrlEncode(d.lot_id)) + "\">" +
          Html(d.lot_id) + "</a> · " + Html(d.document_id) +
          (d.document_type.empty() ? "" : " · " + Html(d.document_type)) + " · <a id=\"download\" href=\"/download/" +
          Html(UrlEncode(d.lot_id)) + "/" + Html(UrlEncode(d.document_id)) + "\">" + Html(T(lang, "download_pdf")) +
          "</a> · <a href=\"/search?q=" + Html(UrlEncode(q)) + "\">" + Html(T(lang, "nav_search")) + "</a></p>";

  // Thumbnails.
  std::string thumbs = "<nav class=\"thumbs\" aria-label=\"" + Html(T(lang, "thumbnails")) + "\">";
  for (const PageRecord& p : d.pages) {
    if (!p.in_pdf) continue;
    const bool has = std::any_of(hits.begin(), hits.end(), [&](const PageHits& h) { return h.pdf_page == p.pdf_page; });
    thumbs += "<a href=\"" + Html(DocUrl(d.lot_id, d.document_id, p.pdf_page, q)) + "\" class=\"" +
              std::string(p.pdf_page == current ? "current " : "") + (has ? "has-hits" : "") +
              "\"><img loading=\"lazy\" alt=\"\" src=\"" + Html(PageImageUrl(d.lot_id, d.document_id, p)) + "\">" +
              std::to_string(p.pdf_page) + "</a>";
  }
  thumbs += "</nav>";

  // The page with its hits.
  std::string center = "<div class=\"hitnav\">";
  if (prev) center += "<a id=\"prev-hit\" href=\"" + Html(DocUrl(d.lot_id, d.document_id, prev->pdf_page, q)) + "\">" +
                      Html(T(lang, "prev_hit")) + "</a>";
  center += "<span>" + Html(T(lang, "page")) + " <b id=\"current-page\">" + std::to_string(current) + "</b> " +
            Html(T(lang, "of")) + " " + std::to_string(d.page_count) + "</span>";
  if (text_query) {
    if (here > 0) {
      center += "<span id=\"hit-position\">" + Html(T(lang, "hit")) + " " + std::to_string(before + 1) +
                (here > 1 ? "–" + std::to_string(before + here) : "") + " " + Html(T(lang, "of")) + " " +
                std::to_string(total) + "</span>";
    } else if (hits.empty()) {
      center += "<span class=\"note\" id=\"no-hit-pages\">" + Html(T(lang, "no_hit_pages")) + "</span>";
    }
  }
  if (next) center += "<a id=\"next-hit\" href=\"" + Html(DocUrl(d.lot_id, d.document_id, next->pdf_page, q)) + "\">" +
                      Html(T(lang, "next_hit")) + "</a>";
  center += "</div>";
  const std::string image =
      page != nullptr ? PageImageUrl(d.lot_id, d.document_id, *page, 1200)
                      : "/page/" + UrlEncode(d.lot_id) + "/" + UrlEncode(d.document_id) + "/" + std::to_string(current) + "?w=1200";
  center += "<div class=\"scan\"><img id=\"page-image\" src=\"" + Html(image) + "\" alt=\"" + Html(T(lang, "page")) +
            " " + std::to_string(current) + "\">";
  const std::vector<HighlightTerm> terms = PageHighlightTerms(matches, current);
  if (page != nullptr && !terms.empty()) {
    Result<std::optional<PageWords>> words = ctx.store().GetPageWords(d.lot_id, d.document_id, page->number);
    if (words.ok() && words->has_value() && (**words).image_width > 0) {
      const PageWords& pw = **words;
      center += "<svg class=\"hits\" id=\"hit-boxes\" viewBox=\"0 0 " + std::to_string(pw.image_width) + " " +
                std::to_string(pw.image_height) + "\" preserveAspectRatio=\"none\" aria-hidden=\"true\">";
      const std::vector<bool> boxed = MatchingWords(pw.words, terms);
      for (size_t i = 0; i < pw.words.size(); ++i) {
        if (!boxed[i]) continue;
        const WordBox& w = pw.words[i];
        // A little padding so the box frames the word instead of cutting it.
        const int pad = std::max(2, w.h / 8);
        center += "<rect class=\"hit\" x=\"" + std::to_string(w.x - pad) + "\" y=\"" + std::to_string(w.y - pad) +
                  "\" width=\"" + std::to_string(w.w + 2 * pad) + "\" height=\"" + std::to_string(w.h + 2 * pad) +
                  "\" data-word=\"" + Html(ForUser(ctx, w.text)) + "\"><title>" + Html(ForUser(ctx, w.text)) +
                  "</title></rect>";
      }
      center += "</svg>";
    }
  }
  center += "</div>";
  if (page != nullptr) {
    center += "<h2>" + Html(T(lang, "page_text")) + "</h2><pre class=\"text\" id=\"page-text\">" +
              MarkedText(ctx, page->text, terms) + "</pre>";
  }

  // Metadata and integrity.
  std::string side = "<div class=\"side\"><h2>" + Html(T(lang, "metadata")) + "</h2><table id=\"metadata\"><tr><th>" +
                     Html(T(lang, "field")) + "</th><th>" + Html(T(lang, "value")) + "</th><th>" +
                     Html(T(lang, "source")) + "</th></tr>";
  side += "<tr><td>" + Html(T(lang, "type")) + "</td><td>" + Html(d.document_type) + "</td><td></td></tr>";
  for (const FieldRecord& f : d.fields) {
    side += "<tr><td>" + Html(f.name) + "</td><td>" + Html(ForUser(ctx, f.value)) + "</td><td>" + Html(f.source) +
            "</td></tr>";
  }
  side += "</table>";
  if (!d.flags.empty()) {
    side += "<p><b>" + Html(T(lang, "flags")) + ":</b> ";
    for (const std::string& f : d.flags) side += "<code>" + Html(f) + "</code> ";
    side += "</p>";
  }
  if (ctx.user() != nullptr && !ctx.user()->SeesPersonalNumbers()) {
    side += "<p class=\"note\">" + Html(T(lang, "masked_note")) + "</p>";
  }
  side += "<h2>" + Html(T(lang, "integrity")) + "</h2><p><a id=\"integrity-link\" href=\"/integrity/" +
          Html(UrlEncode(d.lot_id)) + "/" + Html(UrlEncode(d.document_id)) + "\">" + Html(T(lang, "check_integrity")) +
          "</a></p><p class=\"note mono\">SHA-256 " + Html(d.pdf_sha256) + "</p></div>";

  body += "<div class=\"doc\">" + thumbs + "<section>" + center + "</section>" + side + "</div>";
  return HttpResponse::Html(Layout(ctx, d.title.empty() ? d.document_id : d.title, body));
}

// A page image (w: width in pixels, 100..2400) or a thumbnail.
HttpResponse PageImage(RouteContext& ctx, bool thumbnail) {
  Result<std::optional<DocumentRecord>> got = OpenDocument(ctx);
  const bool api = ctx.req().path.rfind("/api/", 0) == 0;
  auto fail = [&](int status, const char* key) {
    return api ? JsonError(status, status == 404 ? "not found" : "bad request") : ErrorPage(ctx, status, T(ctx.lang(), key));
  };
  if (!got.ok()) return fail(500, "err_internal");
  if (!got->has_value()) return fail(404, "err_not_found");
  const DocumentRecord& d = **got;
  const std::string& n = ctx.Capture("page");
  if (n.empty() || n.size() > 6 || n.find_first_not_of("0123456789") != std::string::npos) {
    return fail(404, "err_not_found");
  }
  const int pdf_page = std::stoi(n);
  const PageRecord* page = PdfPage(d, pdf_page);
  if (page == nullptr) return fail(404, "err_not_found");
  int width = thumbnail ? 160 : 1200;
  const std::string w = ctx.req().Query("w");
  if (!thumbnail && !w.empty()) {
    if (w.size() > 5 || w.find_first_not_of("0123456789") != std::string::npos) return fail(400, "err_bad_request");
    width = std::stoi(w);
    if (width < 100 || width > 2400) return fail(400, "err_bad_request");
  }
  // The word boxes' image size comes with the page's words (not in
  // GetDocument): the preview must have its proportions.
  PageSource source = SourceOf(d, *page);
  if (Result<std::optional<PageWords>> pw = ctx.store().GetPageWords(d.lot_id, d.document_id, page->number);
      pw.ok() && pw->has_value()) {
    source.image_width = (**pw).image_width;
    source.image_height = (**pw).image_height;
  }
  Result<std::shared_ptr<const std::string>> jpeg = ctx.services().renderer().Render(source, width);
  if (!jpeg.ok()) {
    std::fprintf(stderr, "acervo serve: page image: %s\n", jpeg.status().ToString().c_str());
    return fail(jpeg.status().code() == StatusCode::kNotFound ? 404 : 500, "err_not_found");
  }
  if (!thumbnail) ctx.Audit("view_page", d.lot_id + "/" + d.document_id + "/" + n, "", /*wait=*/false);
  HttpResponse r;
  r.content_type = "image/jpeg";
  r.body = **jpeg;
  r.headers.emplace_back("Cache-Control", "private, max-age=600");
  return r;
}

HttpResponse Download(RouteContext& ctx) {
  Result<std::optional<DocumentRecord>> got = OpenDocument(ctx);
  const bool api = ctx.req().path.rfind("/api/", 0) == 0;
  if (!got.ok()) return api ? JsonError(500, "internal error") : ErrorPage(ctx, 500, T(ctx.lang(), "err_internal"));
  if (!got->has_value()) return api ? JsonError(404, "not found") : ErrorPage(ctx, 404, T(ctx.lang(), "err_not_found"));
  const DocumentRecord& d = **got;
  ctx.Audit("download", d.lot_id + "/" + d.document_id, d.pdf_sha256, /*wait=*/true);
  HttpResponse r;
  r.content_type = "application/pdf";
  r.file = d.pdf_path;
  std::string name;
  for (char c : d.document_id) name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + ".pdf\"; filename*=UTF-8''" +
                                                    UrlEncode(d.document_id) + ".pdf");
  return r;
}

HttpResponse Integrity(RouteContext& ctx) {
  const Lang lang = ctx.lang();
  Result<std::optional<DocumentRecord>> got = OpenDocument(ctx);
  if (!got.ok()) return ErrorPage(ctx, 500, T(lang, "err_internal"));
  if (!got->has_value()) return ErrorPage(ctx, 404, T(lang, "err_not_found"));
  const DocumentRecord& d = **got;
  ctx.Audit("integrity_check", d.lot_id + "/" + d.document_id, "");
  std::vector<std::string> problems;
  auto verdict = [&](bool ok) {
    return ok ? "<span class=\"good\">" + Html(T(lang, "matches")) + "</span>"
              : "<span class=\"bad\">" + Html(T(lang, "differs")) + "</span>";
  };
  std::string rows;
  Result<std::string> sha = Sha256OfFile(d.pdf_path);
  const bool pdf_ok = sha.ok() && *sha == d.pdf_sha256;
  if (!pdf_ok) problems.push_back("PDF");
  rows += "<tr><td>" + Html(T(lang, "pdf_sha")) + "</td><td class=\"mono\">" + Html(T(lang, "recorded")) + ": " +
          Html(d.pdf_sha256) + "<br>" + Html(T(lang, "on_disk")) + ": " +
          (sha.ok() ? Html(*sha) : Html(T(lang, "missing"))) + "</td><td>" + verdict(pdf_ok) + "</td></tr>";
  std::map<std::string, std::string> master_sha;
  for (const PageRecord& p : d.pages) {
    if (master_sha.count(p.master_path)) continue;
    Result<std::string> m = Sha256OfFile(p.master_path);
    master_sha[p.master_path] = m.ok() ? *m : "";
    const bool ok = m.ok() && *m == p.master_sha256;
    if (!ok) problems.push_back(p.master_path);
    rows += "<tr><td>" + Html(T(lang, "masters")) + ": " + Html(std::filesystem::path(p.master_path).filename().string()) +
            "</td><td class=\"mono\">" + Html(T(lang, "recorded")) + ": " + Html(p.master_sha256) + "<br>" +
            Html(T(lang, "on_disk")) + ": " + (m.ok() ? Html(*m) : Html(T(lang, "missing"))) + "</td><td>" +
            verdict(ok) + "</td></tr>";
  }
  Result<PdfFacts> facts = InspectPdf(d.pdf_path);
  std::string sig = Html(T(lang, "unsigned")), decree;
  if (facts.ok()) {
    const bool ids_ok = facts->document_id == d.document_id && facts->lot_id == d.lot_id && facts->pages == d.page_count;
    if (!ids_ok) problems.push_back("ids");
    rows += "<tr><td>PDF: " + Html(T(lang, "document")) + " / " + Html(T(lang, "lot")) + " / " + Html(T(lang, "pages")) +
            "</td><td>" + Html(facts->document_id) + " / " + Html(facts->lot_id) + " / " + std::to_string(facts->pages) +
            (facts->pdfa_claim.empty() ? "" : " · PDF/A-" + Html(facts->pdfa_claim)) + "</td><td>" + verdict(ids_ok) +
            "</td></tr>";
    if (facts->signature.present) {
      const bool ok = facts->signature.digest_matches && facts->signature.covers_file;
      if (!ok) problems.push_back("signature");
      sig = (ok ? "<span class=\"good\">" + Html(T(lang, "signature_valid")) + "</span>"
                : "<span class=\"bad\">" + Html(T(lang, "signature_invalid")) + "</span> " + Html(facts->signature.problem)) +
            (facts->signature.signer.empty() ? "" : " — " + Html(facts->signature.signer));
    }
    for (const auto& [k, v] : facts->info) {
      if (k.rfind("Acervo", 0) == 0) continue;
      decree += "<tr><td>" + Html(k) + "</td><td>" + Html(ForUser(ctx, v)) + "</td></tr>";
    }
  } else {
    problems.push_back("parse");
    rows += "<tr><td>PDF</td><td class=\"bad\">" + Html(facts.status().message()) + "</td><td>" + verdict(false) +
            "</td></tr>";
  }
  std::string body = "<h1>" + Html(T(lang, "integrity")) + ": " + Html(d.document_id) + "</h1>";
  body += "<section class=\"panel integrity\" id=\"integrity\"><p id=\"integrity-verdict\" class=\"" +
          std::string(problems.empty() ? "good\">" + Html(T(lang, "integrity_ok"))
                                       : "bad\">" + Html(T(lang, "integrity_bad")) + " (" +
                                             std::to_string(problems.size()) + ")") +
          "</p><table>" + rows + "</table><p><b>" + Html(T(lang, "signature")) + ":</b> <span id=\"signature\">" + sig +
          "</span></p>";
  if (!decree.empty()) body += "<h2>" + Html(T(lang, "decree_fields")) + "</h2><table id=\"decree\">" + decree + "</table>";
  body += "<p><a href=\"" + Html(DocUrl(d.lot_id, d.document_id)) + "\">← " + Html(d.document_id) + "</a></p></section>";
  return HttpResponse::Html(Layout(ctx, T(lang, "integrity"), body), problems.empty() ? 200 : 200);
}

class DocumentPages final : public PageModule {
 public:
  void Register(Router& r) override {
    r.Get("/doc/{lot}/{doc}", Access::kSignedIn, DocumentPage);
    r.Get("/page/{lot}/{doc}/{page}", Access::kSignedIn, [](RouteContext& c) { return PageImage(c, false); });
    r.Get("/thumb/{lot}/{doc}/{page}", Access::kSignedIn, [](RouteContext& c) { return PageImage(c, true); });
    r.Get("/download/{lot}/{doc}", Access::kSignedIn, Download);
    r.Get("/integrity/{lot}/{doc}", Access::kSignedIn, Integrity);
    // The same resources under the API (token or session).
    r.Get("/api/v1/documents/{lot}/{doc}/pages/{page}/image", Access::kSignedIn,
          [](RouteContext& c) { return PageImage(c, false); });
    r.Get("/api/v1/documents/{lot}/{doc}/pdf", Access::kSignedIn, Download);
  }
};

}  // namespace

std::shared_ptr<PageModule> NewDocumentPages() { return std::make_shared<DocumentPages>(); }

}  // namespace acervo::web
