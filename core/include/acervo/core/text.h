// Text that crosses Acervo's borders: the one validated path.
//
// Everything a person or a program reads back — PDF Info and XMP, hOCR,
// ALTO, the HTML morning report, JSON reports and --json output, the store,
// lines on a terminal — comes from outside: file names (bytes, any
// encoding), manifests, profiles, barcode payloads, OCR. Such text enters
// through CleanText() (or is refused with TextProblem()'s reason where it is
// an identity, such as a document id), and leaves through the escaper of its
// target: XmlText() for XML and HTML, TerminalText() for a terminal. JSON
// needs only valid UTF-8 (the JSON library escapes control characters).
//
// Clean text is valid UTF-8 without control characters: no C0 character
// (U+0000..U+001F), DEL (U+007F) or C1 character (U+0080..U+009F), and no
// noncharacter U+FFFE/U+FFFF; one-line text (kLine: ids, titles, names,
// index fields) allows no line break either, many-line text (kLines: OCR
// text) keeps '\n' and '\t'.
//
// Thread-safety: pure functions.
#ifndef ACERVO_CORE_TEXT_H_
#define ACERVO_CORE_TEXT_H_

#include <string>
#include <string_view>

namespace acervo {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// Decodes one UTF-8 code point starting at text[*pos] and advances *pos past
// it. Returns U+FFFD (and advances by one byte) for an invalid, overlong or
// truncated sequence or a surrogate. Precondition: *pos < text.size().
char32_t DecodeUtf8(std::string_view text, size_t* pos);

// Appends the UTF-8 encoding of `cp` (U+FFFD for values that are not
// Unicode scalar values).
void AppendUtf8(char32_t cp, std::string* out);

// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string ValidUtf8(std::string_view s);

enum class TextLines {
  kLine,   // one line: every control character becomes a space
  kLines,  // many lines: '\n' and '\t' stay ('\r\n' and a lone '\r' become '\n')
};

// Clean text (see above): invalid bytes become U+FFFD, control characters a
// space (kLine) or nothing (kLines, except the ones it keeps), noncharacters
// U+FFFD. Clean text comes back unchanged.
std::string CleanText(std::string_view s, TextLines lines = TextLines::kLine);

// Why `s` is not clean text, for a message ("control character U+000B at
// byte 9", "invalid UTF-8 at byte 3"); "" when it is clean.
std::string TextProblem(std::string_view s, TextLines lines = TextLines::kLine);

// Clean text escaped for XML 1.0 and HTML content and attribute values
// ('&', '<', '>', '"', '\''); characters XML forbids never come out.
std::string XmlText(std::string_view s);

// Text for one line of a terminal: valid UTF-8 with every control character
// shown as "\xNN" (so an ESC from a manifest is seen, never obeyed).
std::string TerminalText(std::string_view s);

}  // namespace acervo

#endif  // ACERVO_CORE_TEXT_H_
