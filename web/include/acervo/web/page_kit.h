// What a PageModule outside web/ (issue 14's review queue, registered by
// `acervo serve` through ServerOptions::extra_modules) needs to make pages
// that look and behave like the built-in ones: escaping, the page frame
// with navigation and language switch, error pages, the CSRF field, links
// to a document's page.
//
// Thread-safety: pure functions.
#ifndef ACERVO_WEB_PAGE_KIT_H_
#define ACERVO_WEB_PAGE_KIT_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "acervo/web/router.h"

namespace acervo::web {

// Every text that reaches HTML goes through Html() (element content and
// double-quoted attribute values alike): & < > " ' escaped, invalid UTF-8
// replaced by U+FFFD, control characters other than tab and newline
// dropped.
std::string Html(std::string_view text);
// Percent-encoding for a URL path segment or query value.
std::string UrlEncode(std::string_view text);

// Where a stored (output-root-relative) path of lot `lot_id` is on this
// machine (the server's StoredPaths, open_store.h).
std::filesystem::path ResolveStoredFile(RouteContext& ctx, const std::string& lot_id, const std::string& stored);

// "1.234" / "1,234"
std::string FormatCount(int64_t n, Lang lang);

// The path of a document's page, with the query to highlight.
std::string DocUrl(const std::string& lot, const std::string& doc, int page = 0, const std::string& q = "");

// The image of a stored page in the PDF: "/thumb/..." (thumbnail) or
// "/page/...?w=WIDTH". The URL names the page's master (?v=), so that a
// browser never shows an image it kept of a page since replaced (issue 14:
// page images are cached for minutes).
std::string PageImageUrl(const std::string& lot, const std::string& doc, const PageRecord& page, int width = 0);

// A whole HTML page: header with navigation for this user, language
// switch, the body, footer. `title` is plain text.
std::string Layout(const RouteContext& ctx, const std::string& title, const std::string& body);
// An error page (status and message in the user's language).
HttpResponse ErrorPage(const RouteContext& ctx, int status, const std::string& message);

// An error as JSON: {"error": message[, "position": n]} (API routes).
HttpResponse JsonError(int status, const std::string& message);

// A hidden CSRF field for forms.
std::string CsrfField(const RouteContext& ctx);

}  // namespace acervo::web

#endif  // ACERVO_WEB_PAGE_KIT_H_
