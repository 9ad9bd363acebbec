// Printable separator sheets for operators (`acervo sheets`): one A4 page per
// sheet, as a PDF, to print and put between documents before scanning.
//
//  - barcode sheets carry a QR code (or Code 128) whose text is a separator
//    payload (separation.h): the next document's type, id and fields;
//  - patch sheets carry a Kodak patch code (II, T, ...) drawn to Kodak's
//    dimensions (wide bars 0.20", narrow bars and spaces 0.08", bars 7"
//    long), repeated across the sheet so any feed position reads it.
// Each sheet also prints, for people, what it is and what it carries.
//
// Thread-safety: plain functions; each call writes its own file.
#ifndef ACERVO_PIPELINE_SHEETS_H_
#define ACERVO_PIPELINE_SHEETS_H_

#include <filesystem>
#include <string>
#include <vector>

#include "acervo/core/status.h"
#include "acervo/pipeline/separation.h"

namespace acervo {

struct SheetSpec {
  enum class Kind { kQr, kCode128, kPatch };
  Kind kind = Kind::kQr;
  std::string prefix = "ACERVO";  // barcode sheets: the payload prefix
  SeparatorPayload payload;       // barcode sheets
  std::string patch = "II";       // patch sheets: I, II, III, IV, VI, T
  std::string caption;            // printed under the title; "" = derived
};

// Writes the sheets, one page each, to `path` (temp file renamed when
// complete: never a partial PDF under the final name). Failure:
// InvalidArgument (no sheets, unknown patch code, payload too long for the
// symbol), IOError.
Status WriteSeparatorSheets(const std::vector<SheetSpec>& sheets, const std::filesystem::path& path);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_SHEETS_H_
