// Lot profile: the TOML file that says how a lot is processed and indexed
// (docs/formats.md). A bad profile is refused before any page is touched,
// with the line and the reason; unknown keys are errors too, because a typo
// ("deskw = false") silently ignored would change an archive.
#ifndef ACERVO_PIPELINE_PROFILE_H_
#define ACERVO_PIPELINE_PROFILE_H_

#include <filesystem>
#include <string>
#include <vector>

#include "acervo/core/status.h"

namespace acervo {

struct FieldSpec {
  std::string name;   // the manifest column and the --field name
  std::string label;  // for people
  std::string type = "text";  // text|int|date|cpf|cnpj|process_number|enum
  bool required = false;
  std::vector<std::string> allowed;  // for enum
};

struct LotProfile {
  // [lot]
  std::string lot_id;  // empty: the lot folder's name
  std::string project;
  std::string box;
  std::string operator_name;
  std::string description;
  // [image]
  bool orientation = true;
  bool deskew = true;
  bool blank_detection = true;
  // [ocr]
  std::string languages = "por+eng";
  double min_confidence = 60;
  double page_deadline_s = 120;  // 0: none
  // [pdf]
  int jpeg_quality = 0;  // 0: the writer's default
  bool lossless = false;
  // [[fields]]
  std::vector<FieldSpec> fields;
};

// Parses profile text; `name` is used in messages ("profile.toml line 7: ...").
Result<LotProfile> ParseProfile(std::string_view text, std::string_view name);
// Reads and parses a file. NotFound if absent.
Result<LotProfile> LoadProfile(const std::filesystem::path& path);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_PROFILE_H_
