#include "acervo/core/page.h"

#include <algorithm>
#include <filesystem>

namespace acervo {

std::string_view ColorClassName(ColorClass c) {
  switch (c) {
    case ColorClass::kBw: return "bw";
    case ColorClass::kGray: return "gray";
    case ColorClass::kColor: return "color";
  }
  return "gray";
}

std::string PageOrigin::Describe() const {
  std::string name = std::filesystem::path(source_path).filename().string();
  return name + " page " + std::to_string(page_in_file);
}

bool Page::HasFlag(std::string_view flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

void Page::AddFlag(std::string flag) {
  if (!HasFlag(flag)) flags.push_back(std::move(flag));
}

}  // namespace acervo
