#include "acervo/scanner/source.h"

namespace acervo {

std::string_view SideName(Side side) { return side == Side::kBack ? "back" : "front"; }

Result<std::pair<std::string, std::string>> ParseRawOption(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::InvalidArgument("option '" + std::string(text) + "' must be NAME=VALUE");
  }
  return std::make_pair(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
}

}  // namespace acervo
