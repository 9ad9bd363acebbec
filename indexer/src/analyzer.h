// The text analyzer both stores index with (issue 15): what a page's OCR
// text becomes in the full-text index, written once for SQLite (an FTS5
// tokenizer, `acervo`) and PostgreSQL (tsvectors computed here and sent with
// the page), so both match exactly the same terms.
//
// A page gives, in order:
//  - surface tokens: FoldText (lowercase, no diacritics), split on what is
//    not a letter or a digit (like FTS5's `unicode61 remove_diacritics 2`);
//    each has a position (0, 1, 2, ...);
//  - joined tokens, at the position of their first part (FTS5 "colocated"):
//    * a word hyphenated across a line end, `certi-\ndão` -> `certidao`
//      (the parts stay tokens too);
//    * an identifier written in groups (CPF `529.982.247-25`, CNPJ,
//      process numbers `0004821-10.2023.8.26.0562`, `529 982 247 25`) ->
//      its digits `52998224725`, with the letters OCR confuses with digits
//      read as those digits (`2S` -> `25`, `O` -> `0`, `l`/`I` -> `1`,
//      `B` -> `8`); a single token of 9+ such characters with a confusable
//      letter gets its digit reading too.
//
// Queries use the surface tokens only (AnalyzeQueryWords); everything
// forgiving (inflections, OCR misreadings, split words) is added at query
// time from the vocabulary (forgiving.h), not by indexing more.
//
// Thread-safety: pure functions (the stemmer is per thread).
#ifndef ACERVO_INDEXER_SRC_ANALYZER_H_
#define ACERVO_INDEXER_SRC_ANALYZER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace acervo {

// Tokens longer than this (bytes, folded) are left out of the index: they
// are never words, and PostgreSQL refuses lexemes over 2047 bytes.
inline constexpr size_t kMaxTokenBytes = 255;

struct TextToken {
  enum class Kind { kWord, kHyphenJoin, kIdentifier };
  Kind kind = Kind::kWord;
  std::string term;  // folded
  int position = 0;  // surface position; joined tokens take their first part's
  size_t begin = 0;  // byte range in the original text (joined: the whole span)
  size_t end = 0;
};

// Every token of a page, surface and joined, in text order (a joined token
// right after its first part).
std::vector<TextToken> AnalyzeText(std::string_view text);

// One token as ForEachToken hands it over: AnalyzeText's TextToken, with the
// term valid only during the call.
struct TokenView {
  TextToken::Kind kind;
  std::string_view term;
  int position;
  size_t begin;
  size_t end;
};

// What ForEachToken reads a text into: kept by the caller and reused, so a
// text costs no allocation per token (a search reads each hit's best page
// whole for its snippet). `tokens` are the surface tokens after the call.
struct SurfaceScan {
  struct Token {
    size_t begin, end;          // byte range in the text
    size_t term_at, term_size;  // the folded term in `terms`
    bool digit;                 // whether the term has an ASCII digit
  };
  std::vector<Token> tokens;
  std::string terms;
  std::string joined, digits;  // scratch for joined tokens' terms
};

// Calls `visit(visit_context, token)` for every token AnalyzeText(text)
// returns, in the same order (AnalyzeText is built on it).
using TokenVisitor = void (*)(void* visit_context, const TokenView& token);
void ForEachToken(std::string_view text, SurfaceScan* scan, TokenVisitor visit, void* visit_context);

template <typename F>
void ForEachToken(std::string_view text, SurfaceScan* scan, F&& visit) {
  ForEachToken(
      text, scan, [](void* f, const TokenView& t) { (*static_cast<std::remove_reference_t<F>*>(f))(t); },
      static_cast<void*>(&visit));
}

// The surface tokens only (folded), as a query word or phrase is split.
std::vector<std::string> AnalyzeQueryWords(std::string_view text);

// Whether `cp` (a folded code point) is part of a token.
bool IsTokenCodePoint(char32_t cp);

// The digits of an identifier-like value (CPF, CNPJ, process number, any
// run of digit groups with `.`, `-`, `/`, spaces): `529.982.247-25` ->
// `52998224725`. nullopt when the value has anything else (letters other
// than those OCR confuses with digits when there is at least one digit,
// other punctuation) or fewer than 5 digits.
std::optional<std::string> IdentifierDigits(std::string_view value);

// The Portuguese Snowball stem (libstemmer) of a folded word, after folding
// the plural endings Snowball leaves apart (-oes/-aes/-aos -> -ao, so that
// `certidoes` and `certidao` share a stem). Words of fewer than 4 letters,
// or with digits, are their own stem.
std::string PortugueseStem(std::string_view folded_word);

}  // namespace acervo

#endif  // ACERVO_INDEXER_SRC_ANALYZER_H_
