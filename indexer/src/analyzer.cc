#include "analyzer.h"

#include <libstemmer.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "acervo/indexer/text_fold.h"

namespace acervo {

bool IsTokenCodePoint(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  }
  // Latin-1: the letters and the numbers ª ² ³ µ ¹ º ¼ ½ ¾, not × ÷ or the
  // punctuation. Beyond: the punctuation, symbol, arrow, maths and
  // CJK-punctuation blocks separate; everything else is taken as a letter.
  if (cp < 0xC0) {
    return cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 || cp == 0xBA ||
           (cp >= 0xBC && cp <= 0xBE);
  }
  if (cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;
  if (cp >= 0x3000 && cp <= 0x303F) return false;
  if (cp >= 0xFE10 && cp <= 0xFE6F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF20) return false;
  if (cp == 0xFFFD) return false;
  return true;
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80; }

// The digit OCR reads in place of a letter inside a number, or 0.
char DigitFor(char c) {
  switch (c) {
    case 'o': case 'q': return '0';
    case 'l': case 'i': case 'j': return '1';
    case 's': return '5';
    case 'b': return '8';
    case 'z': return '2';
    case 'g': return '9';
    default: return IsDigit(c) ? c : 0;
  }
}

// A token that reads as digits: at least one real digit, every other
// character a letter OCR confuses with a digit (read as that digit) except
// at most one other letter, kept as it is (a misread digit that forgiving
// search still finds within its edit distance: `7` read as `T`).
bool DigitLike(std::string_view t, std::string* digits) {
  // Without a digit the answer is no (`any` below stays false): most
  // tokens of a page, decided without reading each letter's digit.
  if (std::none_of(t.begin(), t.end(), [](char c) { return IsDigit(c); })) return false;
  bool any = false;
  int others = 0;
  const size_t mark = digits ? digits->size() : 0;
  for (char c : t) {
    char d = DigitFor(c);
    if (d == 0) {
      if (static_cast<unsigned char>(c) >= 0x80 || ++others > 1) {
        if (digits) digits->resize(mark);
        return false;
      }
      d = c;
    }
    any |= IsDigit(c);
    if (digits) digits->push_back(d);
  }
  if (!any && digits) digits->resize(mark);
  return any;
}

// Text between two groups of one identifier: 1-3 characters of . - / , or
// space, no line break.
bool IdentifierGap(std::string_view gap) {
  if (gap.empty() || gap.size() > 3) return false;
  for (char c : gap) {
    if (c != '.' && c != '-' && c != '/' && c != ',' && c != ' ') return false;
  }
  return true;
}

// Text between the two halves of a word hyphenated at a line end: a hyphen
// (ASCII, U+2010, U+2011, soft hyphen U+00AD or ¬), optional blanks, one
// line break, optional blanks.
bool HyphenBreak(std::string_view gap) {
  // Most gaps are a space: every hyphen above starts with one of 3 bytes.
  if (gap.empty() || (gap[0] != '-' && gap[0] != '\xE2' && gap[0] != '\xC2')) return false;
  size_t i = 0;
  if (gap.substr(0, 1) == "-") {
    i = 1;
  } else if (gap.substr(0, 3) == "\xE2\x80\x90" || gap.substr(0, 3) == "\xE2\x80\x91") {
    i = 3;
  } else if (gap.substr(0, 2) == "\xC2\xAD" || gap.substr(0, 2) == "\xC2\xAC") {
    i = 2;
  } else {
    return false;
  }
  while (i < gap.size() && (gap[i] == ' ' || gap[i] == '\t')) ++i;
  if (i < gap.size() && gap[i] == '\r') ++i;
  if (i >= gap.size() || gap[i] != '\n') return false;
  ++i;
  while (i < gap.size() && (gap[i] == ' ' || gap[i] == '\t')) ++i;
  return i == gap.size();
}

// A two-byte UTF-8 character (U+0080..U+07FF: Latin-1, Latin Extended,
// Greek, Cyrillic...) as ScanSurface reads it: folded, and whether it is
// part of a token. Computed once from FoldCodePoint and IsTokenCodePoint,
// so the table answers exactly what they do; a page of Portuguese has an
// accented letter every few words, each otherwise decoded, folded into a
// string and decoded again.
struct TwoByteFold {
  char folded[4];
  unsigned char size;  // 0: not in the table (read the general way)
  bool token;
  bool digit;  // the fold has an ASCII digit
};
const std::array<TwoByteFold, 0x800 - 0x80>& TwoByteFolds() {
  static const std::array<TwoByteFold, 0x800 - 0x80> table = [] {
    std::array<TwoByteFold, 0x800 - 0x80> t{};
    std::string piece;
    for (char32_t cp = 0x80; cp < 0x800; ++cp) {
      piece.clear();
      FoldCodePoint(cp, &piece);
      TwoByteFold& f = t[cp - 0x80];
      if (piece.empty() || piece.size() > sizeof(f.folded)) continue;
      size_t p = 0;
      f.token = IsTokenCodePoint(DecodeUtf8(piece, &p));
      f.digit = std::any_of(piece.begin(), piece.end(), [](char c) { return IsDigit(c); });
      std::memcpy(f.folded, piece.data(), piece.size());
      f.size = static_cast<unsigned char>(piece.size());
    }
    return t;
  }();
  return table;
}

// An ASCII byte as a token character: folded (lowercase), or 0 when it
// separates tokens.
constexpr std::array<char, 128> kAsciiFold = [] {
  std::array<char, 128> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<char>(c);
  for (int c = 'a'; c <= 'z'; ++c) t[c] = static_cast<char>(c);
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = static_cast<char>(c + ('a' - 'A'));
  return t;
}();

// The surface tokens of `text`, in order, into `scan` (cleared first):
// their byte ranges, and their folded terms one after the other in one
// string (no string per token: a page has hundreds of tokens, and each
// hit's snippet reads its best page whole).
void ScanSurface(std::string_view text, SurfaceScan* scan) {
  std::vector<SurfaceScan::Token>& out = scan->tokens;
  std::string& terms = scan->terms;
  out.clear();
  out.reserve(text.size() / 4 + 1);
  // The terms are written through a pointer: an ASCII byte folds to at most
  // one byte, so room for the rest of the text is kept ahead of the write
  // position, and only a longer fold (a rare non-ASCII character) grows
  // the buffer.
  terms.resize(text.size() + 16);
  char* w = terms.data();
  size_t term_at = 0;  // where the open token's term starts in `terms`
  auto ensure = [&](size_t more, size_t pos) {
    const size_t n = static_cast<size_t>(w - terms.data());
    const size_t need = n + more + (text.size() - pos) + 16;
    if (need > terms.size()) {
      terms.resize(std::max(need, 2 * terms.size()));
      w = terms.data() + n;
    }
  };
  const std::array<TwoByteFold, 0x800 - 0x80>& two_byte = TwoByteFolds();
  bool in = false, digit = false;
  size_t begin = 0;
  std::string piece;
  size_t pos = 0;
  auto close = [&](size_t at) {
    if (!in) return;
    const size_t size = static_cast<size_t>(w - terms.data()) - term_at;
    if (size <= kMaxTokenBytes) {
      out.push_back({begin, at, term_at, size, digit});
      term_at += size;
    } else {
      w = terms.data() + term_at;  // too long for a token: it only separates
    }
    in = false;
  };
  while (pos < text.size()) {
    const size_t at = pos;
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c < 0x80) {  // ASCII fast path: folded Latin text is almost all ASCII
      ++pos;
      const char f = kAsciiFold[c];
      if (f != 0) {
        if (!in) begin = at, in = true, digit = false;
        digit |= c <= '9';
        *w++ = f;
        continue;
      }
      close(at);
      continue;
    }
    // A well-formed two-byte character (lead C2..DF: never overlong) from
    // the table; anything else decoded and folded here.
    const unsigned char c1 = pos + 1 < text.size() ? static_cast<unsigned char>(text[pos + 1]) : 0;
    if (c >= 0xC2 && c <= 0xDF && (c1 & 0xC0) == 0x80) {
      const TwoByteFold& f = two_byte[(((c & 0x1Fu) << 6) | (c1 & 0x3Fu)) - 0x80];
      if (f.size > 0) {
        pos += 2;
        if (f.token) {
          if (!in) begin = at, in = true, digit = false;
          // A fold of at most the 2 bytes read keeps the room ahead; all 4
          // bytes are copied (a fixed-size copy, within the 16 kept).
          if (f.size > 2) ensure(f.size, pos);
          std::memcpy(w, f.folded, sizeof(f.folded));
          w += f.size;
          digit |= f.digit;
          continue;
        }
        close(at);
        continue;
      }
    }
    const char32_t cp = DecodeUtf8(text, &pos);
    piece.clear();
    FoldCodePoint(cp, &piece);
    size_t p = 0;
    if (IsTokenCodePoint(DecodeUtf8(piece, &p))) {
      if (!in) begin = at, in = true, digit = false;
      ensure(piece.size(), pos);
      std::memcpy(w, piece.data(), piece.size());
      w += piece.size();
      digit |= std::any_of(piece.begin(), piece.end(), [](char d) { return IsDigit(d); });
      continue;
    }
    close(at);
  }
  close(text.size());
  terms.resize(term_at);
}

}  // namespace

void ForEachToken(std::string_view text, SurfaceScan* scan, TokenVisitor visit, void* visit_context) {
  ScanSurface(text, scan);
  const std::vector<SurfaceScan::Token>& s = scan->tokens;
  auto term = [&](size_t i) { return std::string_view(scan->terms).substr(s[i].term_at, s[i].term_size); };
  auto gap = [&](size_t i) { return text.substr(s[i].end, s[i + 1].begin - s[i].end); };
  size_t ident_until = 0;  // surface tokens before this are inside an identifier already joined
  std::string& joined = scan->joined;
  std::string& digits = scan->digits;
  for (size_t i = 0; i < s.size(); ++i) {
    const std::string_view t = term(i);
    visit(visit_context, {TextToken::Kind::kWord, t, static_cast<int>(i), s[i].begin, s[i].end});
    if (i + 1 < s.size() && IsLetter(t.back()) && IsLetter(term(i + 1).front()) && HyphenBreak(gap(i)) &&
        t.size() + s[i + 1].term_size <= kMaxTokenBytes) {
      joined.assign(t);
      joined += term(i + 1);
      visit(visit_context, {TextToken::Kind::kHyphenJoin, joined, static_cast<int>(i), s[i].begin, s[i + 1].end});
    }
    if (i < ident_until) continue;
    digits.clear();
    // (DigitLike needs a digit: the scan has said whether there is one.)
    if (!s[i].digit || !DigitLike(t, &digits)) continue;
    size_t last = i;
    while (last + 1 < s.size() && digits.size() <= 25 && IdentifierGap(gap(last)) &&
           s[last + 1].digit && DigitLike(term(last + 1), &digits)) {
      ++last;
    }
    const bool grouped = last > i;
    const bool misread_single = !grouped && digits != t;
    if ((grouped || misread_single) && digits.size() >= 9 && digits.size() <= 25) {
      visit(visit_context, {TextToken::Kind::kIdentifier, digits, static_cast<int>(i), s[i].begin, s[last].end});
      ident_until = last + 1;
    }
  }
}

std::vector<TextToken> AnalyzeText(std::string_view text) {
  std::vector<TextToken> out;
  SurfaceScan scan;
  ForEachToken(text, &scan, [&](const TokenView& t) {
    out.push_back({t.kind, std::string(t.term), t.position, t.begin, t.end});
  });
  return out;
}

std::vector<std::string> AnalyzeQueryWords(std::string_view text) {
  SurfaceScan scan;
  ScanSurface(text, &scan);
  std::vector<std::string> out;
  out.reserve(scan.tokens.size());
  for (const SurfaceScan::Token& t : scan.tokens) out.push_back(scan.terms.substr(t.term_at, t.term_size));
  return out;
}

std::optional<std::string> IdentifierDigits(std::string_view value) {
  std::string digits;
  for (char c : value) {
    if (IsDigit(c)) {
      digits.push_back(c);
    } else if (c != '.' && c != '-' && c != '/' && c != ' ') {
      return std::nullopt;
    }
  }
  if (digits.size() < 5) return std::nullopt;
  return digits;
}

namespace {

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

}  // namespace

std::string PortugueseStem(std::string_view word) {
  if (word.size() < 4) return std::string(word);
  for (char c : word) {
    if (IsDigit(c)) return std::string(word);
  }
  thread_local std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer(sb_stemmer_new("portuguese", "UTF_8"));
  thread_local std::unordered_map<std::string, std::string> cache;
  std::string key(word);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::string w = key;
  // Snowball keeps -ões/-ão apart (and, unaccented, -oes/-ao): fold the
  // plurals first. Words come folded, so the accents are gone already.
  auto ends = [&](std::string_view suffix) {
    return w.size() > suffix.size() + 2 && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends("oes") || ends("aes") || ends("aos")) w.replace(w.size() - 3, 3, "ao");
  std::string stem = w;
  if (stemmer) {
    const sb_symbol* r = sb_stemmer_stem(stemmer.get(), reinterpret_cast<const sb_symbol*>(w.data()),
                                         static_cast<int>(w.size()));
    if (r != nullptr) stem.assign(reinterpret_cast<const char*>(r), static_cast<size_t>(sb_stemmer_length(stemmer.get())));
  }
  if (cache.size() > 200000) cache.clear();  // bounded memory on endless OCR noise
  cache.emplace(std::move(key), stem);
  return stem;
}

}  // namespace acervo
