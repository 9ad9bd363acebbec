#include "acervo/indexer/query.h"

#include <memory>
#include <utility>

#include "acervo/indexer/field_value.h"
#include "acervo/indexer/text_fold.h"
#include "analyzer.h"
#include "sql_filter.h"

namespace acervo {
namespace {

// ---------------------------------------------------------------- lexer --

enum class Tok { kWord, kPhrase, kField, kAnd, kOr, kNot, kMinus, kLParen, kRParen, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  size_t pos = 0;        // byte offset of the token's first character
  std::string text;      // word / phrase text, or the field's value
  bool prefix = false;   // trailing '*'
  // kWord/kPhrase: `exact:` (no inflections or forgiving variants) or `~`
  // (forgiving variants whatever the request's setting).
  bool exact = false;
  bool force = false;
  // kField only.
  std::string field;     // the field name as written
  bool quoted = false;   // value was "..."
  size_t value_pos = 0;  // byte offset of the value
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Field names: a letter first, then letters, digits, '_' or '-'. Non-ASCII
// bytes count as letters so that "número" is a name.
bool IsFieldName(std::string_view s) {
  if (s.empty()) return false;
  const unsigned char first = static_cast<unsigned char>(s[0]);
  if (!IsAsciiAlpha(s[0]) && first < 0x80) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) continue;
    if (!IsAsciiAlpha(c) && !IsAsciiDigit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

// Whether FTS5's unicode61 tokenizer will find at least one token in `s`.
// An approximation that errs towards "yes": ASCII letters/digits count, and
// every non-ASCII code point except common punctuation and symbols. A term
// wrongly accepted becomes an empty FTS5 phrase, which matches nothing but
// is not an error.
bool HasSearchableChar(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t cp = DecodeUtf8(s, &pos);
    if (cp < 0x80) {
      if (IsAsciiAlpha(static_cast<char>(cp)) || IsAsciiDigit(static_cast<char>(cp))) return true;
      continue;
    }
    const bool latin1_punct = cp >= 0xA0 && cp <= 0xBF && cp != 0xAA && cp != 0xB2 &&
                              cp != 0xB3 && cp != 0xB5 && cp != 0xB9 && cp != 0xBA &&
                              cp != 0xBC && cp != 0xBD && cp != 0xBE;
    const bool other_punct = cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x206F) ||
                             (cp >= 0x3000 && cp <= 0x303F) || cp == 0xFFFD ||
                             (cp >= 0x2190 && cp <= 0x2BFF) || (cp >= 0x1F000 && cp <= 0x1FAFF);
    if (!latin1_punct && !other_punct) return true;
  }
  return false;
}

class Lexer {
 public:
  explicit Lexer(std::string_view q) : q_(q) {}

  // 1-based character position of byte offset `byte`.
  size_t CharPos(size_t byte) const { return CountCodePoints(q_.substr(0, byte)) + 1; }

  Status Error(std::string what, size_t byte) const {
    return Status::InvalidArgument(what + " at position " + std::to_string(CharPos(byte)));
  }

  // The token that starts at q_[*i] (a word, phrase or field), for `~`.
  Result<std::vector<Token>> RunOne(size_t* i) {
    Lexer sub(q_);
    sub.start_ = *i;
    sub.single_ = true;
    ACERVO_ASSIGN_OR_RETURN(std::vector<Token> toks, sub.Run());
    *i = sub.stopped_at_;
    return toks;
  }

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    size_t i = start_;
    while (true) {
      if (single_ && !out.empty()) break;
      while (i < q_.size() && IsSpace(q_[i])) ++i;
      if (i >= q_.size()) break;
      Token t;
      t.pos = i;
      const char c = q_[i];
      if (c == '(') {
        t.kind = Tok::kLParen;
        ++i;
      } else if (c == ')') {
        t.kind = Tok::kRParen;
        ++i;
      } else if (c == '"') {
        t.kind = Tok::kPhrase;
        ACERVO_ASSIGN_OR_RETURN(t.text, ReadQuoted(&i));
        t.prefix = ReadStars(&i);
        if (!HasSearchableChar(t.text)) return Error("phrase without letters or digits", t.pos);
      } else if (c == '~' && i + 1 < q_.size() && !IsSpace(q_[i + 1]) && q_[i + 1] != '(' &&
                 q_[i + 1] != ')' && q_[i + 1] != '-' && q_[i + 1] != '~') {
        // ~word, ~"phrase": forgiving whatever the setting.
        ++i;
        ACERVO_ASSIGN_OR_RETURN(std::vector<Token> one, RunOne(&i));
        Token inner = std::move(one[0]);
        if (inner.kind != Tok::kWord && inner.kind != Tok::kPhrase) {
          return Error("'~' goes before a word or a phrase", t.pos);
        }
        inner.force = true;
        inner.exact = false;
        inner.pos = t.pos;
        out.push_back(std::move(inner));
        continue;
      } else if (c == '-') {
        ++i;
        if (i >= q_.size() || IsSpace(q_[i]) || q_[i] == ')') {
          return Error("'-' without a term after it", t.pos);
        }
        t.kind = Tok::kMinus;
      } else {
        size_t end = i;
        while (end < q_.size() && !IsSpace(q_[end]) && q_[end] != '(' && q_[end] != ')' &&
               q_[end] != '"') {
          ++end;
        }
        const std::string_view run = q_.substr(i, end - i);
        i = end;
        if (run == "AND") {
          t.kind = Tok::kAnd;
        } else if (run == "OR") {
          t.kind = Tok::kOr;
        } else if (run == "NOT") {
          t.kind = Tok::kNot;
        } else if (const size_t colon = run.find(':'); colon != std::string_view::npos &&
                                                      (colon == 0 || IsFieldName(run.substr(0, colon)))) {
          if (colon == 0) return Error("empty field name", t.pos);
          t.kind = Tok::kField;
          t.field = std::string(run.substr(0, colon));
          t.value_pos = t.pos + colon + 1;
          std::string_view value = run.substr(colon + 1);
          if (value.empty() && i < q_.size() && q_[i] == '"') {
            ACERVO_ASSIGN_OR_RETURN(t.text, ReadQuoted(&i));
            t.quoted = true;
            t.prefix = ReadStars(&i);
          } else {
            while (!value.empty() && value.back() == '*') {
              value.remove_suffix(1);
              t.prefix = true;
            }
            t.text = std::string(value);
          }
          if (t.text.empty() || NormalizeFieldValue(t.text).empty()) {
            return Error("missing value for field '" + t.field + "'", t.value_pos);
          }
          if (NormalizeFieldValue(t.field) == "exact") {
            // exact:word, exact:"a phrase": text without inflections or
            // forgiving variants.
            if (!HasSearchableChar(t.text)) return Error("word without letters or digits", t.value_pos);
            t.kind = t.quoted ? Tok::kPhrase : Tok::kWord;
            t.exact = true;
            t.field.clear();
          }
        } else {
          t.kind = Tok::kWord;
          std::string_view word = run;
          while (!word.empty() && word.back() == '*') {
            word.remove_suffix(1);
            t.prefix = true;
          }
          if (word.empty()) return Error("'*' without a word before it", t.pos);
          if (!HasSearchableChar(word)) return Error("word without letters or digits", t.pos);
          t.text = std::string(word);
        }
      }
      out.push_back(std::move(t));
    }
    stopped_at_ = i;
    Token end;
    end.kind = Tok::kEnd;
    end.pos = q_.size();
    out.push_back(end);
    return out;
  }

 private:
  // At q_[*i] == '"': reads up to the closing quote and moves past it.
  Result<std::string> ReadQuoted(size_t* i) {
    const size_t open = *i;
    const size_t close = q_.find('"', open + 1);
    if (close == std::string_view::npos) return Error("unclosed quote", open);
    *i = close + 1;
    return std::string(q_.substr(open + 1, close - open - 1));
  }

  bool ReadStars(size_t* i) {
    bool any = false;
    while (*i < q_.size() && q_[*i] == '*') {
      ++*i;
      any = true;
    }
    return any;
  }

  std::string_view q_;
  size_t start_ = 0;
  bool single_ = false;  // stop after one token (RunOne)
  size_t stopped_at_ = 0;
};

// --------------------------------------------------------------- parser --

struct Node {
  enum class Kind { kTerm, kField, kAnd, kOr, kNot };
  Kind kind = Kind::kTerm;
  size_t pos = 0;  // byte offset of the token that defines the node
  Token token;     // kTerm / kField
  std::vector<std::unique_ptr<Node>> children;
  bool has_text = false;
  bool has_field = false;
  bool grouped = false;  // written in parentheses
};

using NodePtr = std::unique_ptr<Node>;

NodePtr MakeNode(Node::Kind kind, size_t pos) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->pos = pos;
  return n;
}

class Parser {
 public:
  Parser(const Lexer& lexer, std::vector<Token> tokens) : lexer_(lexer), toks_(std::move(tokens)) {}

  Result<NodePtr> Parse() {
    ACERVO_ASSIGN_OR_RETURN(NodePtr root, ParseOr(0));
    if (Peek().kind == Tok::kRParen) return lexer_.Error("unmatched ')'", Peek().pos);
    if (Peek().kind != Tok::kEnd) return lexer_.Error("unexpected token", Peek().pos);
    return root;
  }

 private:
  const Token& Peek() const { return toks_[at_]; }
  const Token& Next() { return toks_[at_++]; }

  static bool StartsTerm(Tok k) {
    return k == Tok::kWord || k == Tok::kPhrase || k == Tok::kField || k == Tok::kLParen ||
           k == Tok::kNot || k == Tok::kMinus;
  }

  static const char* OpName(Tok k) { return k == Tok::kAnd ? "AND" : k == Tok::kOr ? "OR" : "NOT"; }

  // An operator must be followed by a term.
  Status ExpectOperand(const Token& op) const {
    if (!StartsTerm(Peek().kind)) {
      return lexer_.Error(std::string("'") + OpName(op.kind) + "' without a term after it", op.pos);
    }
    return Status::OK();
  }

  Result<NodePtr> ParseOr(int depth) {
    ACERVO_ASSIGN_OR_RETURN(NodePtr left, ParseAnd(depth));
    if (Peek().kind != Tok::kOr) return left;
    NodePtr n = MakeNode(Node::Kind::kOr, Peek().pos);
    n->children.push_back(std::move(left));
    while (Peek().kind == Tok::kOr) {
      const Token& op = Next();
      ACERVO_RETURN_IF_ERROR(ExpectOperand(op));
      ACERVO_ASSIGN_OR_RETURN(NodePtr right, ParseAnd(depth));
      n->children.push_back(std::move(right));
    }
    return n;
  }

  Result<NodePtr> ParseAnd(int depth) {
    const size_t pos = Peek().pos;
    std::vector<NodePtr> items;
    ACERVO_ASSIGN_OR_RETURN(NodePtr first, ParseUnary(depth));
    items.push_back(std::move(first));
    while (true) {
      if (Peek().kind == Tok::kAnd) {
        const Token& op = Next();
        ACERVO_RETURN_IF_ERROR(ExpectOperand(op));
      } else if (!StartsTerm(Peek().kind)) {
        break;
      }
      ACERVO_ASSIGN_OR_RETURN(NodePtr item, ParseUnary(depth));
      items.push_back(std::move(item));
    }
    if (items.size() == 1) return std::move(items[0]);
    NodePtr n = MakeNode(Node::Kind::kAnd, pos);
    n->children = std::move(items);
    return n;
  }

  Result<NodePtr> ParseUnary(int depth) {
    if (Peek().kind == Tok::kNot || Peek().kind == Tok::kMinus) {
      const Token& op = Next();
      if (!StartsTerm(Peek().kind)) {
        return lexer_.Error(op.kind == Tok::kNot ? "'NOT' without a term after it"
                                                 : "'-' without a term after it",
                            op.pos);
      }
      if (depth >= kMaxQueryDepth) return lexer_.Error("query nested too deeply", op.pos);
      ACERVO_ASSIGN_OR_RETURN(NodePtr inner, ParseUnary(depth + 1));
      // NOT NOT x is x; keeping the tree free of double negation keeps the
      // FTS5 translation simple.
      if (inner->kind == Node::Kind::kNot) return std::move(inner->children[0]);
      NodePtr n = MakeNode(Node::Kind::kNot, op.pos);
      n->children.push_back(std::move(inner));
      return n;
    }
    return ParsePrimary(depth);
  }

  Result<NodePtr> ParsePrimary(int depth) {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kLParen: {
        const size_t open = Next().pos;
        if (depth >= kMaxQueryDepth) return lexer_.Error("query nested too deeply", open);
        if (Peek().kind == Tok::kRParen) return lexer_.Error("empty parentheses", open);
        if (Peek().kind == Tok::kEnd) return lexer_.Error("unclosed parenthesis", open);
        ACERVO_ASSIGN_OR_RETURN(NodePtr inner, ParseOr(depth + 1));
        if (Peek().kind != Tok::kRParen) return lexer_.Error("unclosed parenthesis", open);
        Next();
        inner->grouped = true;
        return inner;
      }
      case Tok::kWord:
      case Tok::kPhrase:
      case Tok::kField: {
        NodePtr n = MakeNode(t.kind == Tok::kField ? Node::Kind::kField : Node::Kind::kTerm, t.pos);
        n->token = Next();
        return n;
      }
      case Tok::kRParen:
        return lexer_.Error("unmatched ')'", t.pos);
      case Tok::kAnd:
      case Tok::kOr:
        return lexer_.Error(std::string("'") + OpName(t.kind) + "' without a term before it", t.pos);
      default:
        return lexer_.Error("missing term", t.pos);
    }
  }

  const Lexer& lexer_;
  std::vector<Token> toks_;
  size_t at_ = 0;
};

// ----------------------------------------------------------- translation --

void Classify(Node* n) {
  if (n->kind == Node::Kind::kTerm) {
    n->has_text = true;
  } else if (n->kind == Node::Kind::kField) {
    n->has_field = true;
  }
  for (NodePtr& c : n->children) {
    Classify(c.get());
    n->has_text |= c->has_text;
    n->has_field |= c->has_field;
  }
}

// Appends the top-level AND-operands of `n`. A parenthesised group of text
// only stays whole: its terms must then match on one page.
void FlattenAnd(Node* n, std::vector<Node*>* out) {
  if (n->kind != Node::Kind::kAnd || (n->grouped && !n->has_field)) {
    out->push_back(n);
    return;
  }
  for (NodePtr& c : n->children) FlattenAnd(c.get(), out);
}

// A double-quoted FTS5 string: the only form in which user text reaches
// FTS5. Inside quotes FTS5 treats every character as text to tokenize, and a
// doubled quote stands for one quote.
std::string FtsString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += "\"\"";
    else out.push_back(c);
  }
  out += "\"";
  return out;
}

class Translator {
 public:
  explicit Translator(const Lexer& lexer) : lexer_(lexer) {}

  Result<std::string> ToFts(const Node* n) {
    switch (n->kind) {
      case Node::Kind::kTerm: {
        std::string s = n->token.exact ? "=" : n->token.force ? "~" : "";
        // An identifier (CPF, CNPJ, process number) in any usual writing is
        // searched by its digits, as the index joins them (analyzer.h).
        std::optional<std::string> digits;
        if (n->token.kind == Tok::kWord && !n->token.prefix) digits = IdentifierDigits(n->token.text);
        s += FtsString(digits && digits->size() >= 9 ? *digits : n->token.text);
        if (n->token.prefix) s += " *";
        return s;
      }
      case Node::Kind::kOr: {
        std::string s = "(";
        for (size_t i = 0; i < n->children.size(); ++i) {
          if (n->children[i]->kind == Node::Kind::kNot) {
            return lexer_.Error("NOT needs a term to subtract from in the same group",
                                n->children[i]->pos);
          }
          ACERVO_ASSIGN_OR_RETURN(std::string c, ToFts(n->children[i].get()));
          if (i > 0) s += " OR ";
          s += c;
        }
        return s + ")";
      }
      case Node::Kind::kAnd: {
        std::vector<std::string> pos, neg;
        for (const NodePtr& c : n->children) {
          const bool negated = c->kind == Node::Kind::kNot;
          ACERVO_ASSIGN_OR_RETURN(std::string s, ToFts(negated ? c->children[0].get() : c.get()));
          (negated ? neg : pos).push_back(std::move(s));
        }
        if (pos.empty()) {
          return lexer_.Error("NOT needs a term to subtract from in the same group", n->pos);
        }
        // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on
        // "literal" + std::string&&.
        std::string s = "(";
        s += Join(pos, " AND ");
        s += ")";
        if (!neg.empty()) s = "(" + s + " NOT (" + Join(neg, " OR ") + "))";
        return s;
      }
      case Node::Kind::kNot:
        return lexer_.Error("NOT needs a term to subtract from in the same group", n->pos);
      case Node::Kind::kField:
        break;
    }
    return Status::Internal("field node in a text expression");
  }

  Result<QueryCondition> ToCondition(const Node* n) {
    QueryCondition c;
    switch (n->kind) {
      case Node::Kind::kField: {
        ACERVO_ASSIGN_OR_RETURN(c.predicate, ToPredicate(n->token));
        return c;
      }
      case Node::Kind::kAnd:
      case Node::Kind::kOr:
        c.op = n->kind == Node::Kind::kAnd ? QueryCondition::Op::kAnd : QueryCondition::Op::kOr;
        for (const NodePtr& child : n->children) {
          ACERVO_ASSIGN_OR_RETURN(QueryCondition cc, ToCondition(child.get()));
          c.children.push_back(std::move(cc));
        }
        return c;
      case Node::Kind::kNot: {
        c.op = QueryCondition::Op::kNot;
        ACERVO_ASSIGN_OR_RETURN(QueryCondition cc, ToCondition(n->children[0].get()));
        c.children.push_back(std::move(cc));
        return c;
      }
      case Node::Kind::kTerm:
        break;
    }
    return Status::Internal("text node in a metadata condition");
  }

 private:
  static std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string s;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) s += sep;
      s += parts[i];
    }
    return s;
  }

  Result<QueryPredicate> ToPredicate(const Token& t) {
    using Kind = QueryPredicate::Kind;
    QueryPredicate p;
    const std::string name = NormalizeFieldValue(t.field);
    const bool is_range = !t.quoted && t.text.find("..") != std::string::npos;
    if (name == "lot") {
      if (is_range || t.prefix) {
        return lexer_.Error("lot: takes one lot id (no range or prefix)", t.value_pos);
      }
      p.kind = Kind::kLot;
      p.value = t.text;
      return p;
    }
    if (name == "flag") {
      if (is_range || t.prefix) return lexer_.Error("flag: takes one review reason (no range or prefix)", t.value_pos);
      p.kind = Kind::kFlag;
      p.value = NormalizeFieldValue(t.text);
      return p;
    }
    if (name == "type") {
      if (is_range) return lexer_.Error("type: takes one document type (no range)", t.value_pos);
      p.kind = t.prefix ? Kind::kTypePrefix : Kind::kType;
      p.value = NormalizeFieldValue(t.text);
      return p;
    }
    p.field = name;
    if (is_range) {
      if (t.prefix) return lexer_.Error("a range cannot be a prefix", t.value_pos);
      return ToRange(t, std::move(p));
    }
    p.kind = t.prefix ? Kind::kFieldPrefix : Kind::kFieldEquals;
    p.value = NormalizeFieldValue(t.text);
    if (!t.prefix) FillFieldMeaning(t.text, &p);
    return p;
  }

  Result<QueryPredicate> ToRange(const Token& t, QueryPredicate p) {
    const size_t dots = t.text.find("..");
    const std::string from = t.text.substr(0, dots);
    const std::string to = t.text.substr(dots + 2);
    const std::string shown = "bad range '" + t.text + "'";
    if (from.empty() && to.empty()) {
      return lexer_.Error(shown + ": give at least one bound", t.value_pos);
    }
    const std::optional<std::string> date_from = ParseIsoDate(from);
    const std::optional<std::string> date_to = ParseIsoDate(to);
    if ((from.empty() || date_from) && (to.empty() || date_to)) {
      p.kind = QueryPredicate::Kind::kFieldDateRange;
      p.date_from = date_from.value_or("");
      p.date_to = date_to.value_or("");
      if (date_from && date_to && *date_from > *date_to) {
        return lexer_.Error(shown + ": the start is after the end", t.value_pos);
      }
      return p;
    }
    const std::optional<double> num_from = ParseNumber(from);
    const std::optional<double> num_to = ParseNumber(to);
    if ((from.empty() || num_from) && (to.empty() || num_to)) {
      p.kind = QueryPredicate::Kind::kFieldNumberRange;
      p.number_from = num_from;
      p.number_to = num_to;
      if (num_from && num_to && *num_from > *num_to) {
        return lexer_.Error(shown + ": the start is after the end", t.value_pos);
      }
      return p;
    }
    return lexer_.Error(shown + ": bounds must both be dates (YYYY-MM-DD or DD/MM/YYYY) or numbers",
                        t.value_pos);
  }

  const Lexer& lexer_;
};

}  // namespace

Result<ParsedQuery> ParseQuery(std::string_view query) {
  if (query.size() > kMaxQueryBytes) {
    return Status::InvalidArgument("query too long (" + std::to_string(query.size()) +
                                   " bytes, at most " + std::to_string(kMaxQueryBytes) +
                                   ") at position " + std::to_string(CountCodePoints(query.substr(0, kMaxQueryBytes)) + 1));
  }
  Lexer lexer(query);
  ACERVO_ASSIGN_OR_RETURN(std::vector<Token> tokens, lexer.Run());
  ParsedQuery out;
  if (tokens.size() == 1) return out;  // only kEnd: an empty query
  Parser parser(lexer, std::move(tokens));
  ACERVO_ASSIGN_OR_RETURN(NodePtr root, parser.Parse());
  Classify(root.get());

  std::vector<Node*> clauses;
  FlattenAnd(root.get(), &clauses);
  Translator tr(lexer);
  std::vector<std::string> positive;
  std::vector<QueryCondition> conditions;
  for (Node* clause : clauses) {
    if (clause->has_text && clause->has_field) {
      return lexer.Error("text and field conditions cannot be combined with OR/NOT in one group",
                         clause->pos);
    }
    if (clause->has_field) {
      ACERVO_ASSIGN_OR_RETURN(QueryCondition c, tr.ToCondition(clause));
      conditions.push_back(std::move(c));
    } else if (clause->kind == Node::Kind::kNot) {
      ACERVO_ASSIGN_OR_RETURN(std::string s, tr.ToFts(clause->children[0].get()));
      out.excluded_fts.push_back(std::move(s));
    } else {
      ACERVO_ASSIGN_OR_RETURN(std::string s, tr.ToFts(clause));
      positive.push_back(std::move(s));
    }
  }
  out.required_fts = std::move(positive);
  if (conditions.size() == 1) {
    out.filter = std::move(conditions[0]);
  } else if (!conditions.empty()) {
    QueryCondition all;
    all.op = QueryCondition::Op::kAnd;
    all.children = std::move(conditions);
    out.filter = std::move(all);
  }
  return out;
}

std::string ParsedQuery::RankingFts() const {
  std::string s;
  for (size_t i = 0; i < required_fts.size(); ++i) {
    if (i > 0) s += " OR ";
    s += required_fts[i];
  }
  return s;
}

namespace {

std::string FormatNumber(double v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::string DescribeCondition(const QueryCondition& c) {
  using Kind = QueryPredicate::Kind;
  switch (c.op) {
    case QueryCondition::Op::kPredicate: {
      const QueryPredicate& p = c.predicate;
      switch (p.kind) {
        case Kind::kFieldEquals:
          return p.field + "=\"" + p.value + "\"";
        case Kind::kFieldPrefix:
          return p.field + "^=\"" + p.value + "\"";
        case Kind::kFieldDateRange:
          return p.field + "=[" + p.date_from + ".." + p.date_to + "]";
        case Kind::kFieldNumberRange:
          return p.field + "=[" + (p.number_from ? FormatNumber(*p.number_from) : "") + ".." +
                 (p.number_to ? FormatNumber(*p.number_to) : "") + "]";
        case Kind::kLot:
          return "lot=\"" + p.value + "\"";
        case Kind::kType:
          return "type=\"" + p.value + "\"";
        case Kind::kTypePrefix:
          return "type^=\"" + p.value + "\"";
        case Kind::kFlag:
          return "flag=\"" + p.value + "\"";
      }
      return "?";
    }
    case QueryCondition::Op::kNot:
      return std::string("(NOT ") + DescribeCondition(c.children[0]) + ")";
    case QueryCondition::Op::kAnd:
    case QueryCondition::Op::kOr: {
      std::string s = c.op == QueryCondition::Op::kAnd ? "(AND" : "(OR";
      for (const QueryCondition& child : c.children) {
        s += " ";
        s += DescribeCondition(child);
      }
      return s + ")";
    }
  }
  return "?";
}

}  // namespace acervo
