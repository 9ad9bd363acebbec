// RFC 4180 CSV reading for operators' manifests.
//
// Accepts UTF-8 (a leading BOM is skipped), CRLF or LF line ends, quoted
// fields with embedded commas, quotes ("") and line breaks. Fails with
// InvalidArgument naming the line for an unterminated quote or a stray quote
// inside an unquoted field. A field longer than `max_field_bytes` (a 1 MB
// "title" is a broken export, not data) spoils only its row: the field is
// kept empty and CsvRow::error names the line, the field and the size, so
// the caller can skip that row and keep the others.
#ifndef ACERVO_PIPELINE_CSV_H_
#define ACERVO_PIPELINE_CSV_H_

#include <string>
#include <string_view>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

struct CsvRow {
  int line = 0;  // 1-based line where the row starts
  std::vector<std::string> fields;
  std::string error;  // non-empty: the row is damaged (see above); skip it
};

Result<std::vector<CsvRow>> ParseCsv(std::string_view text, std::string_view name,
                                     size_t max_field_bytes = 64 * 1024);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_CSV_H_
