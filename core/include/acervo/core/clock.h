// Wall-clock timestamps for records and reports.
#ifndef ACERVO_CORE_CLOCK_H_
#define ACERVO_CORE_CLOCK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acervo {

// Now in UTC as ISO 8601 to the second, e.g. "2026-11-28T20:31:07Z".
std::string UtcNowIso8601();

// Seconds since the Unix epoch of a UTC timestamp written as above
// ("YYYY-MM-DDTHH:MM:SSZ"); nullopt for anything else.
std::optional<int64_t> UnixSecondsOfIso8601(std::string_view iso);

// Now in UTC as ISO 8601 to the millisecond, e.g. "2026-11-28T20:31:07.042Z"
// (audit rows: several a second).
std::string UtcNowIso8601Millis();

}  // namespace acervo

#endif  // ACERVO_CORE_CLOCK_H_
