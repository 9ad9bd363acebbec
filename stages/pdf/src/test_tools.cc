#include "test_tools.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <opencv2/imgproc.hpp>
#include <random>
#include <regex>

extern char** environ;

namespace acervo::testing {

ToolOutput RunTool(const std::vector<std::string>& argv) {
  ToolOutput result;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return result;
  }
  char buf[65536];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0)
    result.out.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::filesystem::path MakeTempDir(const std::string& tag) {
  std::random_device rd;
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("acervo-pdf-" + tag + "-" + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir;
}

namespace {
std::string DecodeEntities(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {{"&lt;", "<"},    {"&gt;", ">"},
                                                                  {"&quot;", "\""}, {"&apos;", "'"},
                                                                  {"&#39;", "'"},   {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
      s.replace(pos, std::strlen(from), to);
      pos += std::strlen(to);
    }
  }
  return s;
}
}  // namespace

std::vector<BboxWord> ParseBbox(const std::string& html) {
  std::vector<BboxWord> words;
  static const std::regex kWord(
      R"re(<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>)re");
  // Pages are <page ...> blocks; count them as we go.
  int page = 0;
  size_t pos = 0;
  while (true) {
    size_t next_page = html.find("<page ", pos);
    size_t next_word = html.find("<word ", pos);
    if (next_word == std::string::npos) break;
    if (next_page != std::string::npos && next_page < next_word) {
      ++page;
      pos = next_page + 1;
      continue;
    }
    size_t end = html.find("</word>", next_word);
    if (end == std::string::npos) break;
    std::string one = html.substr(next_word, end + 7 - next_word);
    std::smatch m;
    if (std::regex_match(one, m, kWord)) {
      BboxWord w;
      w.x_min = std::stod(m[1]);
      w.y_min = std::stod(m[2]);
      w.x_max = std::stod(m[3]);
      w.y_max = std::stod(m[4]);
      w.text = DecodeEntities(m[5]);
      w.page = page;
      words.push_back(std::move(w));
    }
    pos = end + 7;
  }
  return words;
}

Page MakeTextPage(int width, int height, double dpi, const std::vector<std::string>& texts,
                  int max_words) {
  Page page;
  page.image = cv::Mat(height, width, CV_8UC1, cv::Scalar(255));
  page.dpi_x = dpi;
  page.dpi_y = dpi;
  page.color_class = ColorClass::kGray;
  const double px_per_pt = dpi / 72.0;
  const int margin = static_cast<int>(72 * px_per_pt * 0.8);  // ~0.8 inch
  const int line_height = static_cast<int>(14 * px_per_pt);   // 14-pt lines
  const int glyph_h = static_cast<int>(9 * px_per_pt);        // 9-pt words
  const int char_w = static_cast<int>(5.5 * px_per_pt);
  const int gap = static_cast<int>(5 * px_per_pt);
  int x = margin, y = margin, line = 0;
  for (int i = 0; i < max_words; ++i) {
    const std::string& text = texts[static_cast<size_t>(i) % texts.size()];
    // Width from the character count (UTF-8 continuation bytes not counted).
    int chars = 0;
    for (char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    const int w = std::max(1, chars) * char_w;
    if (x + w > width - margin) {
      x = margin;
      y += line_height;
      ++line;
    }
    if (y + glyph_h > height - margin) break;
    cv::Rect box(x, y, w, glyph_h);
    cv::rectangle(page.image, box, cv::Scalar(0), 2);
    std::string ascii;
    for (char c : text) ascii += static_cast<unsigned char>(c) < 0x80 ? c : '?';
    cv::putText(page.image, ascii, cv::Point(x + 4, y + glyph_h - 6), cv::FONT_HERSHEY_SIMPLEX,
                glyph_h / 40.0, cv::Scalar(0), 2);
    Word word;
    word.text = text;
    word.box = box;
    word.confidence = 90;
    word.line = line;
    page.words.push_back(std::move(word));
    x += w + gap;
  }
  return page;
}

double IoU(const cv::Rect2d& a, const cv::Rect2d& b) {
  double inter = (a & b).area();
  double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

}  // namespace acervo::testing
