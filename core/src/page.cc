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
  std::string out = name + " page " + std::to_string(page_in_file);
  if (part != Part::kWhole) out += std::string(" (") + PartName(part) + " half)";
  return out;
}

const char* PartName(PageOrigin::Part part) {
  switch (part) {
    case PageOrigin::Part::kLeft: return "left";
    case PageOrigin::Part::kRight: return "right";
    case PageOrigin::Part::kWhole: break;
  }
  return "whole";
}

bool Page::HasFlag(std::string_view flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

void Page::AddFlag(std::string flag) {
  if (!HasFlag(flag)) flags.push_back(std::move(flag));
}

}  // namespace acervo
