// Fuzzes lot-profile parsing (TOML): ParseProfile must return a profile or a
// message for any text, never crash. A profile it accepts holds only
// finite numbers, plain text (issue 12: no control character ever reaches
// a PDF from a profile) and patterns RE2 runs in linear time.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <re2/re2.h>

#include "acervo/core/text.h"
#include "acervo/pipeline/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  acervo::Result<acervo::LotProfile> p = acervo::ParseProfile(text, "profile.toml");
  if (!p.ok() && p.status().message().empty()) std::abort();
  if (!p.ok()) return 0;
  for (double v : {p->blank_threshold, p->min_confidence, p->page_deadline_s, p->separation.blank_max_ink,
                   p->scanner.resolution}) {
    if (!std::isfinite(v)) std::abort();
  }
  for (const std::string* t : {&p->lot_id, &p->project, &p->box, &p->operator_name, &p->description,
                               &p->archival.assunto, &p->archival.titulo}) {
    if (!acervo::TextProblem(*t).empty()) std::abort();
  }
  for (const acervo::FieldSpec& f : p->fields) {
    if (f.regex != nullptr && !f.regex->ok()) std::abort();
    // A full match of a long value must come back (linear time, no stack).
    if (f.regex != nullptr) (void)RE2::FullMatch(std::string(4096, 'a') + "!", *f.regex);
  }
  return 0;
}
