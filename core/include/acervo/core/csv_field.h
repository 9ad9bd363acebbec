// One field of a CSV row for people's spreadsheets (the web's audit export,
// `acervo search --csv`).
//
// Thread-safety: pure function.
#ifndef ACERVO_CORE_CSV_FIELD_H_
#define ACERVO_CORE_CSV_FIELD_H_

#include <string>
#include <string_view>

namespace acervo {

// `value` as an RFC 4180 field: always quoted, inner quotes doubled. A value
// a spreadsheet would run as a formula (first character = + - @, tab or CR)
// gets a leading apostrophe (OWASP's CSV-injection advice).
std::string CsvField(std::string_view value);

}  // namespace acervo

#endif  // ACERVO_CORE_CSV_FIELD_H_
