// Field values: how an index field's value is normalised when stored, so
// that queries compare like with like.
//
//  - NormalizeFieldValue: FoldText (lowercase, no accents) with surrounding
//    whitespace trimmed and inner runs of whitespace collapsed to one space;
//    "  São  Paulo " and "sao paulo" compare equal.
//  - ParseIsoDate: "2020-03-15" and "15/03/2020" (the Brazilian DD/MM/YYYY
//    also written with '-' or '.') both give "2020-03-15", so date ranges
//    compare as text in ISO order.
//  - ParseNumber: "42", "-3.5", "3,5" (decimal comma) as a double.
//
// Thread-safety: pure functions, no state.
#ifndef ACERVO_INDEXER_FIELD_VALUE_H_
#define ACERVO_INDEXER_FIELD_VALUE_H_

#include <optional>
#include <string>
#include <string_view>

namespace acervo {

// Folded, trimmed, whitespace-collapsed value (see above). Never fails.
std::string NormalizeFieldValue(std::string_view value);

// The ISO date (YYYY-MM-DD) that `value` spells, or nullopt when it is not
// one of the accepted forms or not a real calendar day (2021-02-29 is not).
// Surrounding whitespace is ignored. Years 1000..9999.
std::optional<std::string> ParseIsoDate(std::string_view value);

// The number `value` spells: optional sign, digits, optional decimal part
// after '.' or ','. No thousands separators, no exponent; nullopt otherwise.
// Surrounding whitespace is ignored.
std::optional<double> ParseNumber(std::string_view value);

}  // namespace acervo

#endif  // ACERVO_INDEXER_FIELD_VALUE_H_
