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
  auto end_field = [&]() -> Status {
    if (field.size() > max_field_bytes) {
      return Status::InvalidArgument(where(line) + ": field of " + std::to_string(field.size()) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(max_field_bytes));
    }
    row.fields.push_back(std::move(field));
    field.clear();
    field_was_quoted = false;
    return Status::OK();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
        if (field.size() > max_field_bytes) {
          return Status::InvalidArgument(where(line) + ": field exceeds the limit of " +
                                         std::to_string(max_field_bytes) + " bytes");
        }
      }
      continue;
    }
    switch (c) {
      case '"':
        if (!field.empty() || field_was_quoted) {
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
        if (row_has_content || !field.empty()) {
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
        field += c;
        row_has_content = true;
        if (field.size() > max_field_bytes) {
          return Status::InvalidArgument(where(line) + ": field exceeds the limit of " +
                                         std::to_string(max_field_bytes) + " bytes");
        }
    }
  }
  if (in_quotes) return Status::InvalidArgument(where(row.line) + ": unterminated quoted field");
  if (row_has_content || !field.empty()) {
    ACERVO_RETURN_IF_ERROR(end_field());
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace acervo
