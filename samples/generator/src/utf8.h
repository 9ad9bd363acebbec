// UTF-8 and text helpers behind CharacterErrorRate, shared with the lot
// generator's checks. Pure functions.
#ifndef ACERVO_SAMPLES_GENERATOR_SRC_UTF8_H_
#define ACERVO_SAMPLES_GENERATOR_SRC_UTF8_H_

#include <string>
#include <string_view>

namespace acervo::synth {

// Decodes UTF-8; each byte of an invalid sequence becomes U+FFFD.
std::u32string DecodeUtf8(std::string_view s);

bool IsUnicodeSpace(char32_t c);

// Every run of whitespace -> one U+0020; leading/trailing whitespace dropped.
std::u32string NormaliseWhitespace(std::u32string_view s);

// Levenshtein distance (unit costs).
size_t EditDistance(std::u32string_view a, std::u32string_view b);

}  // namespace acervo::synth

#endif  // ACERVO_SAMPLES_GENERATOR_SRC_UTF8_H_
