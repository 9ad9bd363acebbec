#include "acervo/stages/testing/corpus_pages.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "acervo/core/files.h"
#include "acervo/scanner/image_file.h"

extern char** environ;

namespace acervo::testing {
namespace {
namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, '\t')) out.push_back(cell);
  return out;
}

// Pages known to carry text although the manifest has no GT for them.
bool TextWithoutGt(const std::string& path) {
  for (const char* p : {"ocrmypdf-resources/typewriter.png", "ocrmypdf-resources/francais.pdf",
                        "ocrmypdf-resources/c02-22.pdf", "unpaper-tests/imgsrc001.png",
                        "unpaper-tests/imgsrc002.png", "unpaper-tests/imgsrc003.png",
                        "unpaper-tests/imgsrc004.png", "unpaper-tests/imgsrcE001.png",
                        "unpaper-tests/imgsrcE002.png", "unpaper-tests/imgsrcE003.png"}) {
    if (path == p) return true;
  }
  return false;
}

std::string Language(const std::string& manifest_lang) {
  if (manifest_lang == "por") return "por";
  if (manifest_lang == "fra") return "fra+eng";
  if (manifest_lang == "nld") return "nld+eng";
  return "eng";
}

}  // namespace

Result<std::vector<cv::Mat>> RasterisePdf(const fs::path& pdf, int dpi, const fs::path& scratch) {
  std::error_code ec;
  fs::create_directories(scratch, ec);
  const std::string prefix = (scratch / pdf.stem()).string();
  const std::string res = std::to_string(dpi);
  const std::string in = pdf.string();
  std::vector<char*> argv = {const_cast<char*>("pdftoppm"), const_cast<char*>("-r"),
                             const_cast<char*>(res.c_str()), const_cast<char*>("-gray"),
                             const_cast<char*>("-png"), const_cast<char*>(in.c_str()),
                             const_cast<char*>(prefix.c_str()), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  const int rc = posix_spawnp(&pid, "pdftoppm", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Status::Unavailable("pdftoppm cannot be started (poppler-utils)");
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Status::Corrupt(pdf.string() + ": pdftoppm failed");
  // pdftoppm names pages prefix-1.png or prefix-01.png by page count.
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(scratch)) {
    const std::string f = e.path().filename().string();
    if (f.rfind(pdf.stem().string() + "-", 0) == 0 && e.path().extension() == ".png") {
      files.push_back(e.path());
    }
  }
  auto page_no = [&](const fs::path& p) {
    const std::string s = p.stem().string();
    return std::stoi(s.substr(s.rfind('-') + 1));
  };
  std::sort(files.begin(), files.end(),
            [&](const fs::path& a, const fs::path& b) { return page_no(a) < page_no(b); });
  std::vector<cv::Mat> pages;
  for (const fs::path& f : files) {
    ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(f));
    ACERVO_ASSIGN_OR_RETURN(DecodedPage page, DecodeImagePage(bytes, 0, f.filename().string()));
    pages.push_back(page.image);
    fs::remove(f, ec);
  }
  if (pages.empty()) return Status::Corrupt(pdf.string() + ": pdftoppm wrote no page");
  return pages;
}

Result<std::vector<CorpusPage>> LoadCorpus(const fs::path& corpus, const fs::path& scratch) {
  const fs::path manifest = corpus / "manifest.tsv";
  if (!fs::exists(manifest)) return Status::NotFound(manifest.string() + ": no corpus manifest");
  std::stringstream lines(Slurp(manifest));
  std::string line;
  std::getline(lines, line);  // header
  std::vector<CorpusPage> pages;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells = SplitTabs(line);
    if (cells.size() < 5) continue;
    const std::string& path = cells[0];
    const std::string& has_gt = cells[4];
    // Unpaper's expected outputs are results, not inputs; ccitt/jbig2 and
    // 2400dpi are linn and typewriter again.
    if (path.find("golden") != std::string::npos || path.find("ccitt.pdf") != std::string::npos ||
        path.find("jbig2.pdf") != std::string::npos || path.find("2400dpi") != std::string::npos) {
      continue;
    }
    const bool blank = has_gt == "blank" || path == "unpaper-tests/imgsrc005.png";
    if (has_gt == "no" && !TextWithoutGt(path) && !blank) continue;
    const fs::path file = corpus / path;
    const fs::path truth_file = fs::path(file).replace_extension(".txt");
    CorpusPage base;
    base.has_gt = has_gt;
    base.language = Language(cells[3]);
    base.has_text = !blank;
    if (fs::exists(truth_file)) base.truth = Slurp(truth_file);
    if (file.extension() == ".pdf") {
      ACERVO_ASSIGN_OR_RETURN(std::vector<cv::Mat> images, RasterisePdf(file, 300, scratch));
      for (size_t i = 0; i < images.size(); ++i) {
        CorpusPage p = base;
        p.name = path;
        if (images.size() > 1) p.name.append("#").append(std::to_string(i + 1));
        p.image = images[i];
        p.dpi = 300;
        const std::string stem = file.stem().string();
        // Corpus README: cardinal.pdf pages are 0, 90 CW, 180, 270 CW.
        if (stem == "cardinal") p.orientation_deg = static_cast<int>((360 - 90 * i) % 360);
        if (stem == "skew") {
          p.skew_known = true;
          p.skew_deg = -1.865;  // clockwise
        }
        if (stem == "rotated_skew") {
          p.skew_known = true;
          p.skew_deg = 2.79;  // counter-clockwise as displayed
        }
        pages.push_back(std::move(p));
      }
      continue;
    }
    ACERVO_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFile(file));
    ACERVO_ASSIGN_OR_RETURN(DecodedPage decoded, DecodeImagePage(bytes, 0, path));
    CorpusPage p = base;
    p.name = path;
    p.image = decoded.image;
    p.dpi = decoded.dpi_x;
    if (p.dpi < 100) {
      p.dpi_estimated = true;
      const int short_side = std::min(p.image.cols, p.image.rows);
      p.dpi = std::clamp(short_side / 8.27, 150.0, 600.0);
    }
    // Manifest: phototest-rotated-L runs bottom to top (turned CCW), R the
    // other way.
    if (path.find("phototest-rotated-180") != std::string::npos) p.orientation_deg = 180;
    if (path.find("phototest-rotated-L") != std::string::npos) p.orientation_deg = 90;
    if (path.find("phototest-rotated-R") != std::string::npos) p.orientation_deg = 270;
    pages.push_back(std::move(p));
  }
  return pages;
}

}  // namespace acervo::testing
