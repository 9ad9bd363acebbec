// OCR-like misreadings with exact ground truth (synth.h, Misread).
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "acervo/synth/synth.h"

namespace acervo::synth {
namespace {

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// What OCR reads for a character it confuses, or "" (truth -> read).
std::vector<std::string> ConfusionsOf(const std::string& ch) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kTable = {
      {"o", {"0"}},  {"O", {"0"}},       {"l", {"1", "I"}}, {"i", {"l", "1"}}, {"I", {"l", "1"}},
      {"S", {"5"}},  {"s", {"5"}},       {"B", {"8"}},      {"m", {"rn"}},     {"d", {"cl"}},
      {"e", {"c"}},  {"c", {"e"}},       {"u", {"v"}},      {"n", {"ri"}},     {"a", {"o"}},
      {"h", {"b"}},  {"ã", {"a", "ä"}},  {"ç", {"c"}},      {"é", {"e"}},
  };
  for (const auto& [from, to] : kTable) {
    if (from == ch) return to;
  }
  return {};
}

// A word as a list of UTF-8 characters.
std::vector<std::string> Chars(std::string_view w) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < w.size()) {
    size_t n = 1;
    const unsigned char c = static_cast<unsigned char>(w[i]);
    if (c >= 0xF0) n = 4;
    else if (c >= 0xE0) n = 3;
    else if (c >= 0xC0) n = 2;
    out.emplace_back(w.substr(i, n));
    i += n;
  }
  return out;
}

std::string Join(const std::vector<std::string>& cs) {
  std::string s;
  for (const std::string& c : cs) s += c;
  return s;
}

class Misreader {
 public:
  explicit Misreader(uint64_t seed) : rng_(seed) {}

  double U() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  char Letter() { return static_cast<char>('a' + Pick(26)); }

  // One confusable change; false when the word has no confusable character.
  bool Confuse(std::vector<std::string>* cs) {
    std::vector<size_t> at;
    for (size_t i = 0; i < cs->size(); ++i) {
      if (!ConfusionsOf((*cs)[i]).empty()) at.push_back(i);
    }
    if (at.empty()) return false;
    const size_t i = at[Pick(at.size())];
    const std::vector<std::string> to = ConfusionsOf((*cs)[i]);
    (*cs)[i] = to[Pick(to.size())];
    return true;
  }
  void Substitute(std::vector<std::string>* cs) {
    const size_t i = Pick(cs->size());
    std::string c(1, Letter());
    while (c == (*cs)[i]) c = std::string(1, Letter());
    (*cs)[i] = c;
  }
  void Delete(std::vector<std::string>* cs) { cs->erase(cs->begin() + static_cast<std::ptrdiff_t>(Pick(cs->size()))); }
  void Insert(std::vector<std::string>* cs) {
    cs->insert(cs->begin() + static_cast<std::ptrdiff_t>(Pick(cs->size() + 1)), std::string(1, Letter()));
  }
  // A cut inside the word, at least 2 characters from each end.
  size_t Cut(size_t n) { return 2 + Pick(n - 3); }

 private:
  std::mt19937_64 rng_;
};

struct Token {
  std::string text;
  bool word = false;
};

std::vector<Token> Tokens(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const bool w = IsWordByte(static_cast<unsigned char>(s[i]));
    size_t j = i;
    while (j < s.size() && IsWordByte(static_cast<unsigned char>(s[j])) == w) ++j;
    out.push_back({std::string(s.substr(i, j - i)), w});
    i = j;
  }
  return out;
}

bool AllDigits(const std::string& w) {
  for (char c : w) {
    if (!IsDigit(c)) return false;
  }
  return !w.empty();
}

// Separators inside an identifier: . - / alone.
bool IdentifierSeparator(const std::string& s) { return s == "." || s == "-" || s == "/"; }

}  // namespace

MisreadText Misread(std::string_view truth, const MisreadSpec& spec) {
  Misreader m(spec.seed);
  std::vector<Token> toks = Tokens(truth);
  MisreadText out;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (!toks[i].word) {
      out.text += toks[i].text;
      continue;
    }
    // An identifier: digit groups joined by single separators, >= 9 digits.
    if (AllDigits(toks[i].text)) {
      size_t last = i;
      size_t digits = toks[i].text.size();
      while (last + 2 < toks.size() && IdentifierSeparator(toks[last + 1].text) && AllDigits(toks[last + 2].text)) {
        last += 2;
        digits += toks[last].text.size();
      }
      std::string whole;
      for (size_t k = i; k <= last; ++k) whole += toks[k].text;
      if (digits >= 9 && m.U() < spec.identifier_rate) {
        std::vector<size_t> at;
        for (size_t k = 0; k < whole.size(); ++k) {
          if (IsDigit(whole[k])) at.push_back(k);
        }
        std::string read = whole;
        const size_t k = at[m.Pick(at.size())];
        static const std::string kLetters = "OlZ3ASGT8g";  // a letter OCR reads for each digit 0-9
        if (m.U() < 0.6) {
          read[k] = kLetters[static_cast<size_t>(read[k] - '0')];
        } else {
          char d = read[k];
          while (d == read[k]) d = static_cast<char>('0' + m.Pick(10));
          read[k] = d;
        }
        out.misreadings.push_back({whole, read, "identifier"});
        out.text += read;
      } else {
        out.text += whole;
      }
      i = last;
      continue;
    }
    std::vector<std::string> cs = Chars(toks[i].text);
    if (cs.size() < 4 || m.U() >= spec.word_rate) {
      out.text += toks[i].text;
      continue;
    }
    const double r = m.U();
    std::string kind;
    if (r < 0.35) {
      kind = m.Confuse(&cs) ? "confusable" : (m.Substitute(&cs), "substitution");
    } else if (r < 0.47) {
      kind = "substitution";
      m.Substitute(&cs);
    } else if (r < 0.55) {
      kind = "deletion";
      m.Delete(&cs);
    } else if (r < 0.60) {
      kind = "insertion";
      m.Insert(&cs);
    } else if (r < 0.68) {
      kind = "two_edits";
      if (!m.Confuse(&cs)) m.Substitute(&cs);
      m.Substitute(&cs);
    } else if (r < 0.78) {
      kind = "split";
      cs.insert(cs.begin() + static_cast<std::ptrdiff_t>(m.Cut(cs.size())), " ");
    } else if (r < 0.86 && i + 2 < toks.size() && toks[i + 1].text == " " && toks[i + 2].word) {
      kind = "merged";
      out.misreadings.push_back({toks[i].text, toks[i].text + toks[i + 2].text, kind});
      out.text += toks[i].text;
      ++i;  // the space is lost; the next word follows at once
      continue;
    } else if (r < 0.93) {
      kind = "hyphenated";
      cs.insert(cs.begin() + static_cast<std::ptrdiff_t>(m.Cut(cs.size())), "-\n");
    } else {
      kind = "dropped";
      cs.clear();
    }
    const std::string read = Join(cs);
    out.misreadings.push_back({toks[i].text, read, kind});
    out.text += read;
  }
  return out;
}

}  // namespace acervo::synth
