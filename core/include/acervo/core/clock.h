// Wall-clock timestamps for records and reports.
#ifndef ACERVO_CORE_CLOCK_H_
#define ACERVO_CORE_CLOCK_H_

#include <string>

namespace acervo {

// Now in UTC as ISO 8601 to the second, e.g. "2026-11-28T20:31:07Z".
std::string UtcNowIso8601();

// Now in UTC as ISO 8601 to the millisecond, e.g. "2026-11-28T20:31:07.042Z"
// (audit rows: several a second).
std::string UtcNowIso8601Millis();

}  // namespace acervo

#endif  // ACERVO_CORE_CLOCK_H_
