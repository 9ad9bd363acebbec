#include "acervo/pipeline/csv.h"

namespace acervo {

Result<std::vector<CsvRow>> ParseCsv(std::string_view text, std::string_view name,
                                     size_t max_field_bytes) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  int line = 1;
  row.line = 1;
  bool in_quotes = false;
  bool field_was_quoted = false;
  bool row_has_content = false;
  auto where = [&](int l) { return std::string(name) + " line " + std::to_string(l); };
  // An over-long field spoils its row, not the file: its bytes are counted
  // but not kept, and the row carries the error (the caller skips it).
  size_t field_bytes = 0;
  auto add = [&](char c) {
    if (++field_bytes <= max_field_bytes) field += c;
  };
  auto end_field = [&]() -> Status {
    if (field_bytes > max_field_bytes && row.error.empty()) {
      row.error = where(row.line) + ": field " + std::to_string(row.fields.size() + 1) + " of " +
                  std::to_string(field_bytes) + " bytes exceeds the limit of " +
                  std::to_string(max_field_bytes) + " bytes";
      field.clear();
    }
    row.fields.push_back(std::move(field));
    field.clear();
    field_bytes = 0;
    field_was_quoted = false;
    return Status::OK();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          add('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        add(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        if (field_bytes > 0 || field_was_quoted) {
          return Status::InvalidArgument(where(line) + ": quote inside an unquoted field");
        }
        in_quotes = true;
        field_was_quoted = true;
        row_has_content = true;
        break;
      case ',':
        ACERVO_RETURN_IF_ERROR(end_field());
        row_has_content = true;
        break;
      case '\r':
        break;  // CRLF: the '\n' ends the row
      case '\n':
        if (row_has_content || field_bytes > 0) {
          ACERVO_RETURN_IF_ERROR(end_field());
          rows.push_back(std::move(row));
        }
        row = CsvRow{};
        ++line;
        row.line = line;
        row_has_content = false;
        break;
      default:
        if (field_was_quoted) {
          return Status::InvalidArgument(where(line) + ": text after a closing quote");
        }
        add(c);
        row_has_content = true;
    }
  }
  if (in_quotes) return Status::InvalidArgument(where(row.line) + ": unterminated quoted field");
  if (row_has_content || field_bytes > 0) {
    ACERVO_RETURN_IF_ERROR(end_field());
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace acervo
