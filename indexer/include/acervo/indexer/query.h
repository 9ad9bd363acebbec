// The search query language, parsed into a safe full-text expression plus
// metadata conditions.
//
//   certidão nascimento          words: a page must contain all (implicit AND)
//   "certidão de nascimento"     exact phrase
//   nasc*                        prefix
//   casamento OR óbito           either (AND binds tighter than OR)
//   NOT falecido, -falecido      exclusion
//   (a OR b) c                   grouping
//   processo:123  nome:"Maria da Silva"   index field equals (accent/case-insensitive),
//                                identifiers by their digits, text by contained words
//   exact:word  exact:"a phrase" no inflections or forgiving variants for this term
//   ~word                        forgiving variants even when the word is common or
//                                the request has forgiving matching off
//   nome:mar*                    index field starts with
//   data:2020-01-01..2020-12-31  range; dates YYYY-MM-DD or DD/MM/YYYY, or numbers;
//   data:2020-01-01..  valor:..100   one open end
//   lot:LOT-ID  type:certidao    the document's lot (exact) / type (like a field)
//   flag:needs_review            the document has an open review item (issue 14);
//   flag:low_confidence  flag:"invalid_field:cpf"   ... of this kind (and subject)
//
// Operators are the upper-case words AND, OR, NOT; lower-case "and"/"or"/"not"
// are ordinary words. `-` negates only at the start of a term.
//
// Semantics (see docs/store.md):
//  - The query is an AND of top-level clauses. A text clause (a word, a
//    phrase, a prefix, or a parenthesised text group) must match some page of
//    the document; different clauses may match different pages, so
//    `joão 1985` finds a document with the name on page 1 and the year on
//    page 3. Inside a phrase or a group, matching is per page:
//    `(joão AND 1985)` needs both on one page.
//  - A negated text clause at the top level (`certidao -falecido`, or a
//    query of only `-falecido`) excludes documents with *any* page matching
//    it. Inside a group, NOT subtracts from the other terms of that group, on
//    the same page: `(certidao -obito) OR casamento`.
//  - Field, lot: and type: conditions hold for the whole document and may be
//    combined with each other freely (AND/OR/NOT/parentheses), and ANDed with
//    the text; one OR/NOT group may not mix text and field conditions.
//  - Ranking uses all positive text clauses together (RankingFts()).
//
// Safety: user text never reaches SQL or FTS5 as syntax. Every word and
// phrase is re-emitted as a double-quoted FTS5 string (quotes doubled) built
// from the parsed tokens; metadata values travel as bound SQL parameters.
//
// Thread-safety: pure functions and plain values.
#ifndef ACERVO_INDEXER_QUERY_H_
#define ACERVO_INDEXER_QUERY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

// One metadata test on a document.
struct QueryPredicate {
  enum class Kind {
    kFieldEquals,       // index field `field` has value_norm == value
    kFieldPrefix,       // index field `field` has value_norm starting with value
    kFieldDateRange,    // value_date within [date_from, date_to] (ISO; "" = open)
    kFieldNumberRange,  // value_num within [number_from, number_to] (nullopt = open)
    kLot,               // document's lot id == value (exact, case-sensitive)
    kType,              // document type, folded, == value
    kTypePrefix,        // document type, folded, starts with value
    kFlag,              // an open review item of kind `value` ("needs_review": any; "kind:subject")
  };
  Kind kind = Kind::kFieldEquals;
  std::string field;  // NormalizeFieldValue(name); empty for kLot/kType*
  std::string value;  // normalised value (raw for kLot)
  // For kFieldEquals when the value is a date: its ISO form, so that
  // `data:15/03/2020` also finds a stored "2020-03-15".
  std::optional<std::string> date;
  // For kFieldEquals (issue 15, fields by meaning): the digits of an
  // identifier-like value (CPF, CNPJ, process number written with or
  // without punctuation), compared with the stored values' digits; and the
  // words of a text value, each of which the stored value must contain
  // (`interessado:beatriz` finds "Beatriz Souza").
  std::optional<std::string> key;
  std::vector<std::string> words;
  std::string date_from, date_to;
  std::optional<double> number_from, number_to;
};

// A boolean tree of predicates. kPredicate nodes use `predicate`; kAnd/kOr
// have two or more children, kNot exactly one.
struct QueryCondition {
  enum class Op { kPredicate, kAnd, kOr, kNot };
  Op op = Op::kPredicate;
  QueryPredicate predicate;
  std::vector<QueryCondition> children;
};

struct ParsedQuery {
  // (Issue 15: a phrase may carry a mark before its opening quote, `="..."`
  // for `exact:` and `~"..."` for `~word`; the stores' forgiving expansion,
  // ExpandQuery in indexer/src/forgiving.h, removes them before the text
  // index sees the expression. Identifiers are searched by their digits.)
  // FTS5 MATCH expressions of the top-level positive text clauses: a
  // matching document has, for each, at least one page matching it. Empty
  // when the query has no positive text (then documents are listed, not
  // ranked).
  std::vector<std::string> required_fts;
  // FTS5 expressions of top-level negated text: documents with any page
  // matching one of them are excluded.
  std::vector<std::string> excluded_fts;
  // Metadata conditions; nullopt when there are none.
  std::optional<QueryCondition> filter;

  bool empty() const {
    return required_fts.empty() && excluded_fts.empty() && !filter.has_value();
  }

  // One FTS5 expression matching the pages that match any required clause
  // (their OR), used for ranking, hit pages and snippets. "" when none.
  std::string RankingFts() const;
};

// Limits that keep a hostile query from costing much.
inline constexpr size_t kMaxQueryBytes = 4096;
inline constexpr int kMaxQueryDepth = 32;

// Parses `query`. An empty or all-blank query gives an empty ParsedQuery.
// Failure: InvalidArgument whose message says what is wrong and at which
// 1-based character position, e.g. "unclosed quote at position 7",
// "empty field name at position 1", "'OR' without a term after it at
// position 10", "bad range 'x..y' at position 6: ...". Never another code.
Result<ParsedQuery> ParseQuery(std::string_view query);

// A readable rendering of a condition tree, for tests and logs, e.g.
// `(AND processo="123" data=[2020-01-01..2020-12-31])`.
std::string DescribeCondition(const QueryCondition& condition);

}  // namespace acervo

#endif  // ACERVO_INDEXER_QUERY_H_
