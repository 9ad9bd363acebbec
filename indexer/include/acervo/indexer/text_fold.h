// Text folding: the one definition of "the same word, ignoring case and
// accents" for Latin-script text (Portuguese, Spanish, French...).
//
// FoldText lowercases and strips diacritics from ASCII, the Latin-1
// Supplement (U+00C0..U+00FF) and Latin Extended-A (U+0100..U+017F):
// "CERTIDÃO" and "Certidão" both fold to "certidao". Ligatures and special
// letters become their usual ASCII spelling (ß -> ss, æ -> ae, œ -> oe,
// ø -> o, ł -> l, þ -> th). Every other code point is copied unchanged.
// Bytes that are not valid UTF-8 become U+FFFD, so the output is always
// valid UTF-8 and folding is deterministic for any input.
//
// For accented letters it agrees with SQLite FTS5's `unicode61
// remove_diacritics 2` tokenizer (which the page text index uses); FTS5 keeps
// ß, æ, œ, ø, ł, đ as they are, which only matters for full-text words, not
// for field values (both sides of a field comparison are folded here).
//
// Thread-safety: pure functions, no state.
#ifndef ACERVO_INDEXER_TEXT_FOLD_H_
#define ACERVO_INDEXER_TEXT_FOLD_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "acervo/core/text.h"

namespace acervo {

// Lowercase + strip diacritics (see above). Never fails.
std::string FoldText(std::string_view utf8);

// Appends the folded spelling of one code point (FoldText, one at a time:
// for tokenisers that need to know where each folded character came from).
void FoldCodePoint(char32_t cp, std::string* out);

// DecodeUtf8 and AppendUtf8 come from acervo/core/text.h (one UTF-8
// decoder for every module).

// Number of code points in `text` as DecodeUtf8 counts them; used to report
// 1-based character positions to people.
size_t CountCodePoints(std::string_view text);

}  // namespace acervo

#endif  // ACERVO_INDEXER_TEXT_FOLD_H_
