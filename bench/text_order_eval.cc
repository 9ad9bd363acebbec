// Reading order of the PDF text layer: for each page image given (with its
// ground truth beside it, X.png -> X.txt), the character error rate of
//   - the OCR text Acervo stores (Tesseract's block/paragraph/line order), and
//   - the text `pdftotext` (poppler, no -layout) extracts from the PDF
//     Acervo writes for the page,
// and their difference, which issue 16 wants within 0.02 on every page; also
// the share of OCR words whose extracted box overlaps theirs with IoU >= 0.5
// (`pdftotext -bbox`).
//
// The page chain of `acervo run` (default profile, por+eng) runs once per
// page; its result is kept as a page checkpoint in CACHE_DIR, so the text
// layer can be changed and re-measured in seconds.
//
// usage: text_order_eval CACHE_DIR IMAGE...
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "acervo/core/files.h"
#include "acervo/pipeline/journal.h"
#include "acervo/pipeline/page_loader.h"
#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/stages/pdf/pdf_writer.h"
#include "acervo/synth/synth.h"

extern char** environ;

namespace {
namespace fs = std::filesystem;

// The file's bytes as text, empty when it cannot be read (a tool that
// failed leaves no output: the page then scores as empty).
std::string Slurp(const fs::path& p) {
  acervo::Result<std::vector<uint8_t>> bytes = acervo::ReadFile(p);
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

// Runs a tool with a fixed argv, stdout to `out`.
bool Run(const std::vector<std::string>& args, const fs::path& out) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  bool ok = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0;
  if (ok) {
    int st = 0;
    waitpid(pid, &st, 0);
    ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  posix_spawn_file_actions_destroy(&fa);
  return ok;
}

double IoU(double ax0, double ay0, double ax1, double ay1, double bx0, double by0, double bx1, double by1) {
  const double iw = std::min(ax1, bx1) - std::max(ax0, bx0);
  const double ih = std::min(ay1, by1) - std::max(ay0, by0);
  if (iw <= 0 || ih <= 0) return 0;
  const double inter = iw * ih;
  return inter / ((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter);
}

}  // namespace

int main(int argc, char** argv) {
  setenv("OMP_THREAD_LIMIT", "1", 1);
  if (argc < 3) {
    std::fprintf(stderr, "usage: text_order_eval CACHE_DIR IMAGE...\n");
    return 2;
  }
  const fs::path cache = argv[1];
  fs::create_directories(cache);
  acervo::LotProfile profile;
  acervo::Result<acervo::StageChain> chain = acervo::Status::Unavailable("not built");
  auto writer = acervo::PdfWriter::Create(acervo::PdfOptions{});
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().ToString().c_str());
    return 3;
  }
  std::printf("%-28s %8s %8s %8s %8s %7s\n", "page", "CER ocr", "CER pdf", "pdf-ocr", "pdf~ocr", "IoU>=.5");
  double worst = 0;
  size_t words_all = 0, matched_all = 0;
  for (int i = 2; i < argc; ++i) {
    const fs::path image = argv[i];
    fs::path gt = image;
    gt.replace_extension(".txt");
    const std::string name = image.stem().string();
    const fs::path ckpt = cache / (name + ".page");
    acervo::Result<acervo::Page> page = acervo::Status::NotFound("no checkpoint");
    if (fs::exists(ckpt)) {
      acervo::Result<std::vector<uint8_t>> bytes = acervo::ReadFile(ckpt);
      if (bytes.ok()) page = acervo::DecodePageCheckpoint(*bytes, ckpt.string());
    }
    if (!page.ok()) {
      if (!chain.ok()) chain = acervo::BuildStageChain(profile);
      if (!chain.ok()) {
        std::fprintf(stderr, "%s\n", chain.status().ToString().c_str());
        return 3;
      }
      page = acervo::LoadPage(image, 1, image.filename().string());
      if (page.ok()) page = chain->Run(std::move(page).value(), acervo::PageContext{});
      if (!page.ok()) {
        std::printf("%-28s %s\n", name.c_str(), page.status().ToString().c_str());
        continue;
      }
      (void)acervo::WriteFileAtomic(ckpt, acervo::EncodePageCheckpoint(*page));
    }
    const fs::path pdf = cache / (name + ".pdf");
    fs::remove(pdf);
    if (!(*writer)->Begin(pdf, {}).ok() || !(*writer)->AddPage(acervo::PdfPageInputFromPage(*page)).ok() ||
        !(*writer)->End().ok()) {
      std::printf("%-28s cannot write the PDF\n", name.c_str());
      continue;
    }
    const fs::path txt = cache / (name + ".pdf.txt");
    const fs::path bbox = cache / (name + ".bbox.html");
    Run({"pdftotext", "-enc", "UTF-8", pdf.string(), "-"}, txt);
    Run({"pdftotext", "-bbox", pdf.string(), "-"}, bbox);
    // The stored OCR text beside the extracted one, to compare by eye.
    (void)acervo::WriteFileAtomic(cache / (name + ".ocr.txt"),
                                  page->text);
    const std::string truth = Slurp(gt);
    const double cer_ocr = acervo::synth::CharacterErrorRate(page->text, truth);
    const double cer_pdf = acervo::synth::CharacterErrorRate(Slurp(txt), truth);
    // How far the extracted text is from the OCR engine's own reading (its
    // block/paragraph/line order): what the text layer is asked to keep,
    // whatever order the ground truth was written in.
    const double cer_order = acervo::synth::CharacterErrorRate(Slurp(txt), page->text);
    // Boxes: each OCR word against the extracted word of the same text with
    // the best overlap (points -> pixels).
    const std::regex re("<word xMin=\"([\\d.]+)\" yMin=\"([\\d.]+)\" xMax=\"([\\d.]+)\" yMax=\"([\\d.]+)\">([^<]*)</word>");
    const std::string html = Slurp(bbox);
    struct Box {
      double x0, y0, x1, y1;
      std::string text;
    };
    std::vector<Box> got;
    for (std::sregex_iterator it(html.begin(), html.end(), re), end; it != end; ++it) {
      const double fx = page->dpi_x / 72.0, fy = page->dpi_y / 72.0;
      got.push_back({std::stod((*it)[1]) * fx, std::stod((*it)[2]) * fy, std::stod((*it)[3]) * fx,
                     std::stod((*it)[4]) * fy, (*it)[5]});
    }
    size_t words = 0, matched = 0;
    for (const acervo::Word& w : page->words) {
      if (w.box.width <= 0 || w.box.height <= 0 || w.text.find_first_not_of(' ') == std::string::npos) continue;
      ++words;
      double best = 0;
      for (const Box& g : got) {
        best = std::max(best, IoU(w.box.x, w.box.y, w.box.x + w.box.width, w.box.y + w.box.height, g.x0, g.y0,
                                  g.x1, g.y1));
      }
      matched += best >= 0.5;
    }
    words_all += words;
    matched_all += matched;
    worst = std::max(worst, std::abs(cer_pdf - cer_ocr));
    std::printf("%-28s %8.4f %8.4f %+8.4f %8.4f %6.1f%%\n", name.c_str(), cer_ocr, cer_pdf, cer_pdf - cer_ocr,
                cer_order, words ? 100.0 * matched / words : 0.0);
    std::fflush(stdout);
  }
  std::printf("worst |pdf - ocr| %.4f; word boxes IoU >= 0.5: %.2f%% of %zu\n", worst,
              words_all ? 100.0 * matched_all / words_all : 0.0, words_all);
  return 0;
}
