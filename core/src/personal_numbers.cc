#include "acervo/core/personal_numbers.h"

#include <algorithm>

namespace acervo {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Mod-11 check digit over d[0..n) with the given weights (Receita Federal).
int Mod11(std::string_view d, const int* weights, size_t n) {
  int sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (d[i] - '0') * weights[i];
  const int r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

bool AllDigits(std::string_view d) { return std::all_of(d.begin(), d.end(), IsDigit); }
bool AllSame(std::string_view d) { return d.find_first_not_of(d[0]) == std::string_view::npos; }

// The digits of `value` when it holds exactly `n` of them and otherwise only
// the punctuation people write them with; "" when not.
std::string DigitsOnly(std::string_view value, size_t n) {
  std::string d;
  for (char c : value) {
    if (IsDigit(c)) {
      d += c;
    } else if (c != '.' && c != '-' && c != '/' && c != ' ') {
      return "";
    }
  }
  return d.size() == n ? d : "";
}

// A run of digits (and, in OCR mode, look-alikes) read from the text.
// One byte of text per character read (digits and look-alikes are ASCII).
struct Group {
  size_t start = 0;
  std::string digits;
  std::vector<bool> letter;  // per character: a look-alike letter, not a digit
  int Lookalikes(size_t n) const { return static_cast<int>(std::count(letter.begin(), letter.begin() + n, true)); }
};

// The separator after a group: its kind ('.', '-', '/') and where the next
// group starts; kind 0 when there is none.
struct Separator {
  char kind = 0;
  size_t next = 0;
};

class Scanner {
 public:
  Scanner(std::string_view text, const FindOptions& o) : t_(text), o_(o) {}

  // The group starting at `at` (may be empty) and where it ends.
  size_t ReadGroup(size_t at, Group* g) const {
    size_t i = at;
    g->start = at;
    while (i < t_.size() && g->digits.size() <= 14) {
      const char c = t_[i];
      if (IsDigit(c)) {
        g->digits += c;
        g->letter.push_back(false);
      } else if (o_.ocr && DigitLookalike(c) != 0) {
        g->digits += DigitLookalike(c);
        g->letter.push_back(true);
      } else {
        break;
      }
      ++i;
    }
    return i;
  }

  // A separator at `at` followed by the start of another group.
  Separator ReadSeparator(size_t at) const {
    size_t i = at;
    if (o_.ocr && i < t_.size() && t_[i] == ' ') ++i;
    char kind = 0;
    if (i < t_.size() && (t_[i] == '.' || t_[i] == '-' || t_[i] == '/')) {
      kind = t_[i];
      ++i;
    } else if (o_.ocr && i < t_.size() && t_[i] == ',') {
      kind = '.';
      ++i;
    } else if (o_.ocr && t_.substr(i, 3) == "\xE2\x80\x93") {  // en dash
      kind = '-';
      i += 3;
    }
    if (kind == 0) return {};
    if (o_.ocr && i < t_.size() && t_[i] == ' ') ++i;
    if (i >= t_.size() || !(IsDigit(t_[i]) || (o_.ocr && DigitLookalike(t_[i]) != 0))) return {};
    return {kind, i};
  }

  bool DigitLikeAt(size_t i) const {
    return i < t_.size() && (IsDigit(t_[i]) || (o_.ocr && DigitLookalike(t_[i]) != 0 && IsAsciiAlnum(t_[i])));
  }

  std::string_view text() const { return t_; }

 private:
  std::string_view t_;
  const FindOptions& o_;
};

struct Shape {
  PersonalNumberKind kind;
  std::vector<size_t> lengths;
  std::string separators;  // between the groups
  bool punctuated;         // the usual written shape: any check digits
};

const std::vector<Shape>& Shapes() {
  static const std::vector<Shape> kShapes = {
      {PersonalNumberKind::kCnpj, {2, 3, 3, 4, 2}, "../-", true},
      {PersonalNumberKind::kCpf, {3, 3, 3, 2}, "..-", true},
      {PersonalNumberKind::kCnpj, {8, 4, 2}, "/-", false},
      {PersonalNumberKind::kCpf, {9, 2}, "-", false},
      {PersonalNumberKind::kCnpj, {14}, "", false},
      {PersonalNumberKind::kCpf, {11}, "", false},
  };
  return kShapes;
}

}  // namespace

char DigitLookalike(char c) {
  if (IsDigit(c)) return c;
  switch (c) {
    case 'O': case 'o': case 'D': case 'Q': return '0';
    case 'I': case 'l': case 'i': case '|': case '!': return '1';
    case 'Z': case 'z': return '2';
    case 'S': case 's': return '5';
    case 'G': case 'b': return '6';
    case 'T': return '7';
    case 'B': return '8';
    case 'g': case 'q': return '9';
    default: return 0;
  }
}

bool CpfCheckDigitsOk(std::string_view d) {
  if (d.size() != 11 || !AllDigits(d) || AllSame(d)) return false;
  static const int w1[] = {10, 9, 8, 7, 6, 5, 4, 3, 2};
  static const int w2[] = {11, 10, 9, 8, 7, 6, 5, 4, 3, 2};
  return Mod11(d, w1, 9) == d[9] - '0' && Mod11(d, w2, 10) == d[10] - '0';
}

bool CnpjCheckDigitsOk(std::string_view d) {
  if (d.size() != 14 || !AllDigits(d) || AllSame(d)) return false;
  static const int w1[] = {5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2};
  static const int w2[] = {6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2};
  return Mod11(d, w1, 12) == d[12] - '0' && Mod11(d, w2, 13) == d[13] - '0';
}

bool IsValidCpf(std::string_view value) { return CpfCheckDigitsOk(DigitsOnly(value, 11)); }
bool IsValidCnpj(std::string_view value) { return CnpjCheckDigitsOk(DigitsOnly(value, 14)); }

std::optional<std::string> ParseCpf(std::string_view value) {
  std::string d = DigitsOnly(value, 11);
  if (!CpfCheckDigitsOk(d)) return std::nullopt;
  return d;
}

std::string FormatCpf(std::string_view d) {
  if (d.size() != 11 || !AllDigits(d)) return std::string(d);
  std::string s(d);
  return s.substr(0, 3) + "." + s.substr(3, 3) + "." + s.substr(6, 3) + "-" + s.substr(9, 2);
}

std::string FormatCnpj(std::string_view d) {
  if (d.size() != 14 || !AllDigits(d)) return std::string(d);
  std::string s(d);
  return s.substr(0, 2) + "." + s.substr(2, 3) + "." + s.substr(5, 3) + "/" + s.substr(8, 4) + "-" + s.substr(12, 2);
}

std::vector<PersonalNumberMatch> FindPersonalNumbers(std::string_view text, const FindOptions& o) {
  std::vector<PersonalNumberMatch> out;
  Scanner sc(text, o);
  size_t i = 0;
  while (i < text.size()) {
    // A number starts at a digit (or, with OCR, a look-alike) that does not
    // continue a digit run or a word.
    const bool prev_digit = i > 0 && IsDigit(text[i - 1]);
    const bool prev_word = i > 0 && IsAsciiAlnum(text[i - 1]);
    const bool starts = IsDigit(text[i]) ? !prev_digit : (sc.DigitLikeAt(i) && !prev_word);
    if (!starts) {
      ++i;
      continue;
    }
    // Read up to five groups and their separators.
    std::vector<Group> groups;
    std::string seps;
    std::vector<size_t> ends;  // end of each group in the text
    size_t at = i;
    while (groups.size() < 5) {
      Group g;
      const size_t end = sc.ReadGroup(at, &g);
      if (g.digits.empty()) break;
      groups.push_back(std::move(g));
      ends.push_back(end);
      const Separator s = sc.ReadSeparator(end);
      if (s.kind == 0) break;
      seps += s.kind;
      at = s.next;
    }
    bool found = false;
    for (const Shape& shape : Shapes()) {
      if ((shape.kind == PersonalNumberKind::kCpf && !o.cpf) || (shape.kind == PersonalNumberKind::kCnpj && !o.cnpj)) {
        continue;
      }
      const size_t n = shape.lengths.size();
      if (groups.size() < n || seps.compare(0, n - 1, shape.separators) != 0) continue;
      PersonalNumberMatch m;
      bool fits = true;
      size_t end = ends[n - 1];
      for (size_t k = 0; k < n && fits; ++k) {
        const Group& g = groups[k];
        size_t len = g.digits.size();
        // The last group may be followed by letters OCR could read as
        // digits ("-09s"): they are not part of the number.
        if (k + 1 == n && len > shape.lengths[k] &&
            std::all_of(g.letter.begin() + static_cast<std::ptrdiff_t>(shape.lengths[k]), g.letter.end(),
                        [](bool b) { return b; })) {
          len = shape.lengths[k];
          end = g.start + len;
        }
        fits = len == shape.lengths[k];
        m.digits += g.digits.substr(0, len);
        m.lookalikes += g.Lookalikes(len);
      }
      if (!fits) continue;
      // Never the head of a longer number.
      if (end < text.size() && IsDigit(text[end])) continue;
      m.kind = shape.kind;
      m.check_ok = shape.kind == PersonalNumberKind::kCpf ? CpfCheckDigitsOk(m.digits) : CnpjCheckDigitsOk(m.digits);
      m.punctuated = shape.punctuated;
      // Look-alike letters only inside the written shape; anything less
      // than the shape must prove itself by its check digits.
      if (m.lookalikes > 0 && (!shape.punctuated || m.lookalikes > o.max_lookalikes)) continue;
      if (!shape.punctuated && !m.check_ok) continue;
      m.begin = i;
      m.end = end;
      out.push_back(std::move(m));
      i = end;
      found = true;
      break;
    }
    if (!found) {
      // Skip the rest of this digit run.
      i = ends.empty() ? i + 1 : ends.front();
    }
  }
  return out;
}

}  // namespace acervo
