// Brazilian personal numbers — CPF (natural persons, 11 digits) and CNPJ
// (legal persons, 14 digits) — as values and as they occur in text.
//
// Used wherever the LGPD reaches the code: the web server masks them for
// readers (web/), `acervo redact` blacks them out of page images and text
// layers, `acervo lgpd report` looks a CPF up, the validators of index
// fields check them, and certificate login reads the CPF of an ICP-Brasil
// e-CPF. One implementation of the check digits and of the shapes, so that
// what is masked, redacted and found agrees.
//
// Check digits (Receita Federal): mod 11 over the first 9 (CPF) or 12
// (CNPJ) digits with the published weights, a remainder below 2 giving 0;
// a number of one repeated digit is not valid.
//
// Thread-safety: pure functions.
#ifndef ACERVO_CORE_PERSONAL_NUMBERS_H_
#define ACERVO_CORE_PERSONAL_NUMBERS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acervo {

// True for exactly 11 (CPF) / 14 (CNPJ) ASCII digits with right check
// digits, not all the same digit.
bool CpfCheckDigitsOk(std::string_view digits);
bool CnpjCheckDigitsOk(std::string_view digits);

// True when `value` is a CPF / CNPJ with right check digits, written with
// or without the punctuation people use ('.', '-', '/', spaces).
bool IsValidCpf(std::string_view value);
bool IsValidCnpj(std::string_view value);

// The 11 digits of a valid CPF written with or without punctuation, or
// nullopt.
std::optional<std::string> ParseCpf(std::string_view value);

// "123.456.789-09" for 11 digits; "12.345.678/0001-95" for 14 digits; other
// input is returned unchanged.
std::string FormatCpf(std::string_view digits);
std::string FormatCnpj(std::string_view digits);

enum class PersonalNumberKind { kCpf, kCnpj };

// One CPF or CNPJ found in a text: bytes [begin, end) of the text.
struct PersonalNumberMatch {
  size_t begin = 0;
  size_t end = 0;
  PersonalNumberKind kind = PersonalNumberKind::kCpf;
  std::string digits;      // 11 or 14 digits (OCR look-alikes read as the digit they stand for)
  bool punctuated = false;  // written in the usual shape (123.456.789-09, 12.345.678/0001-95)
  bool check_ok = false;    // the check digits are right
  int lookalikes = 0;       // letters read as digits (OCR mode only)
};

struct FindOptions {
  // Only the exact forms: "999.999.999-99" / "99.999.999/9999-99" (any
  // check digits: the shape says what it is) and bare runs of 11/14 digits
  // whose check digits are right (so phone and process numbers are left
  // alone). A match is never preceded or followed by another digit.
  //
  // With `ocr`, also what OCR makes of those shapes on paper: a space
  // after a separator or before the dash ("123. 456.789 -09"), ',' read
  // for '.', '–' for '-', and up to `max_lookalikes` letters that OCR
  // commonly reads for a digit (O/o/D/Q for 0, I/l/i/|/! for 1, Z for 2,
  // S/s for 5, G/b for 6, T for 7, B for 8, g/q for 9) inside a punctuated
  // shape. Bare runs still need right check digits. Meant for redaction,
  // where missing an occurrence is worse than blacking out a look-alike.
  bool ocr = false;
  int max_lookalikes = 2;
  bool cpf = true;
  bool cnpj = true;
};

// Every CPF/CNPJ occurrence in `text`, in order, not overlapping.
std::vector<PersonalNumberMatch> FindPersonalNumbers(std::string_view text, const FindOptions& options = {});

// The digit an OCR look-alike stands for ('O' -> '0', 'l' -> '1', ...), the
// digit itself for a digit, or 0 when `c` is neither.
char DigitLookalike(char c);

}  // namespace acervo

#endif  // ACERVO_CORE_PERSONAL_NUMBERS_H_
