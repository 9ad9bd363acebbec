// Field validators: the checks a lot profile's typed index fields apply to
// every value, whatever its source (manifest, separator sheet, OCR text).
//
//   text            anything
//   int             optional sign and digits ("42", "-7")
//   date            YYYY-MM-DD or DD/MM/YYYY (also '-' or '.'), a real day
//   cpf             11 digits, punctuation "123.456.789-09" optional, both
//                   check digits right (mod 11), not all digits equal
//   cnpj            14 digits, "12.345.678/0001-95" optional, check digits
//   process_number  CNJ unified number NNNNNNN-DD.AAAA.J.TR.OOOO (20
//                   digits, punctuation optional), check digits mod 97
//                   (ISO 7064, CNJ Resolution 65/2008)
//   enum            one of the field's allowed values (case and accents
//                   ignored)
// and then, for every type, the field's `regex` (whole value) when set.
//
// Thread-safety: pure functions. A FieldSpec's compiled regex is shared
// read-only.
#ifndef ACERVO_PIPELINE_VALIDATORS_H_
#define ACERVO_PIPELINE_VALIDATORS_H_

#include <string>
#include <string_view>

#include "acervo/core/personal_numbers.h"
#include "acervo/core/status.h"
#include "acervo/pipeline/profile.h"

namespace acervo {

// IsValidCpf and IsValidCnpj: acervo/core/personal_numbers.h.
// True when `value` is a CNJ process number with correct check digits.
bool IsValidProcessNumber(std::string_view value);

// OK when `value` satisfies the field's type, allowed values and regex.
// Failure: InvalidArgument whose message is the reason for people, e.g.
// "'123.456.789-00' is not a valid CPF (check digits)". An empty value is
// checked by the caller (required), not here: it fails as "empty".
Status ValidateFieldValue(const FieldSpec& field, std::string_view value);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_VALIDATORS_H_
