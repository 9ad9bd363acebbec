#include "markup.h"

#include <algorithm>
#include <string>

namespace acervo::synth {
namespace {

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(TrimRight(text.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::vector<TextBlock> ParseBlocks(std::string_view markup, double body_pt) {
  std::vector<TextBlock> blocks;
  // The block being built, and what kind it is; a kind change closes it.
  enum class Kind { kNone, kParagraph, kLines, kCentered, kTable };
  Kind kind = Kind::kNone;
  TextBlock current;
  // Layout state set by % directives, applied to the blocks that follow.
  int columns = 1;
  bool justified = false;
  double size = body_pt;
  auto flush = [&]() {
    if (kind != Kind::kNone && !current.text.empty()) blocks.push_back(current);
    kind = Kind::kNone;
    current = TextBlock();
  };
  auto start = [&](Kind k) {
    flush();
    kind = k;
    current.font_size_pt = size;
    current.centered = (k == Kind::kCentered);
    current.columns = columns;
    current.justified = justified && k == Kind::kParagraph;
    current.table = k == Kind::kTable;
    // Lines of an address or signature sit closer than paragraphs.
    current.space_after_pt = (k == Kind::kParagraph) ? size * 0.8 : size * 0.6;
  };
  auto number = [](std::string_view s, double fallback) {
    try {
      return std::stod(std::string(s));
    } catch (...) {
      return fallback;
    }
  };

  for (std::string_view line : SplitLines(markup)) {
    if (StartsWith(line, "%%")) continue;
    if (StartsWith(line, "%columns ")) {
      flush();
      columns = std::clamp(static_cast<int>(number(TrimLeft(line.substr(9)), 1)), 1, 6);
    } else if (StartsWith(line, "%justify ")) {
      flush();
      justified = TrimLeft(line.substr(9)) == "on";
    } else if (StartsWith(line, "%size ")) {
      flush();
      size = std::clamp(number(TrimLeft(line.substr(6)), body_pt), 3.0, 200.0);
    } else if (line.empty()) {
      flush();
    } else if (StartsWith(line, "## ")) {
      start(Kind::kLines);
      current.bold = true;
      current.text = std::string(TrimLeft(line.substr(3)));
      flush();
    } else if (StartsWith(line, "# ")) {
      start(Kind::kCentered);
      current.bold = true;
      current.font_size_pt = size * 14.0 / 11.0;
      current.space_after_pt = size;
      current.text = std::string(TrimLeft(line.substr(2)));
      flush();
    } else if (StartsWith(line, "^ ") || line == "^") {
      if (kind != Kind::kCentered) start(Kind::kCentered);
      if (!current.text.empty()) current.text += '\n';
      current.text += std::string(TrimLeft(line.substr(1)));
    } else if (StartsWith(line, "+ ")) {
      if (kind != Kind::kTable) start(Kind::kTable);
      if (!current.text.empty()) current.text += '\n';
      current.text += std::string(TrimLeft(line.substr(2)));
    } else if (StartsWith(line, "| ") || line == "|") {
      if (kind != Kind::kLines) start(Kind::kLines);
      if (!current.text.empty()) current.text += '\n';
      current.text += std::string(TrimLeft(line.substr(1)));
    } else {
      if (kind != Kind::kParagraph) start(Kind::kParagraph);
      if (!current.text.empty()) current.text += ' ';
      current.text += std::string(TrimLeft(line));
    }
  }
  flush();
  return blocks;
}

std::vector<std::vector<TextBlock>> ParsePages(std::string_view markup, double body_pt) {
  std::vector<std::vector<TextBlock>> pages;
  std::string page;
  for (std::string_view line : SplitLines(markup)) {
    if (line == "%page") {
      pages.push_back(ParseBlocks(page, body_pt));
      page.clear();
      continue;
    }
    page.append(line);
    page += '\n';
  }
  pages.push_back(ParseBlocks(page, body_pt));
  return pages;
}

}  // namespace acervo::synth
