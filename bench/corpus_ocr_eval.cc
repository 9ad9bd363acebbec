// Accuracy on real pages: for every page of ../shared/corpus with ground
// truth (manifest has_gt=yes), the character error rate of
//   - plain `tesseract IMAGE - -l LANG` on the raw file (the peer), and
//   - Acervo's page chain (orientation, deskew, blank, colour, OCR),
// measured in the same run, with times. Prints a Markdown table and totals.
//
// usage: corpus_ocr_eval [CORPUS_DIR]   (default: ../shared/corpus)
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "acervo/pipeline/page_loader.h"
#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/synth/synth.h"

extern char** environ;

namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs tesseract with a fixed argv, stdout to a temp file.
std::string RunTesseract(const fs::path& image, const std::string& lang) {
  fs::path out = fs::temp_directory_path() / ("acervo-eval-" + std::to_string(::getpid()) + ".txt");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::string img = image.string();
  std::vector<char*> argv = {const_cast<char*>("tesseract"), img.data(), const_cast<char*>("-"),
                             const_cast<char*>("-l"), const_cast<char*>(lang.c_str()), nullptr};
  pid_t pid;
  std::string text;
  if (posix_spawnp(&pid, "tesseract", &fa, nullptr, argv.data(), environ) == 0) {
    int st;
    waitpid(pid, &st, 0);
    text = Slurp(out);
  }
  posix_spawn_file_actions_destroy(&fa);
  fs::remove(out);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  setenv("OMP_THREAD_LIMIT", "1", 1);  // for the tesseract children
  fs::path corpus = argc > 1 ? fs::path(argv[1]) : fs::path(ACERVO_CORPUS_DIR);
  if (corpus.empty() || !fs::exists(corpus / "manifest.tsv")) {
    std::fprintf(stderr, "corpus_ocr_eval: no corpus at '%s'\n", corpus.c_str());
    return 2;
  }
  std::ifstream manifest(corpus / "manifest.tsv");
  std::string line;
  std::getline(manifest, line);
  std::printf("| page | lang | tesseract CER | acervo CER | tesseract s | acervo s | acervo flags |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  double sum_t = 0, sum_a = 0, time_t = 0, time_a = 0;
  int n = 0, better = 0;
  std::map<std::string, acervo::StageChain> chains;
  while (std::getline(manifest, line)) {
    std::vector<std::string> c;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, '\t')) c.push_back(cell);
    if (c.size() < 5 || c[4] != "yes") continue;
    fs::path image = corpus / c[0];
    fs::path gt_path = image;
    gt_path.replace_extension(".txt");
    std::string truth = Slurp(gt_path);
    std::string lang = c[3] == "por" ? "por" : "eng";

    Clock::time_point t0 = Clock::now();
    std::string peer = RunTesseract(image, lang);
    double peer_s = std::chrono::duration<double>(Clock::now() - t0).count();

    if (!chains.count(lang)) {
      acervo::LotProfile profile;
      profile.languages = lang;
      acervo::Result<acervo::StageChain> chain = acervo::BuildStageChain(profile);
      if (!chain.ok()) {
        std::fprintf(stderr, "%s\n", chain.status().ToString().c_str());
        return 3;
      }
      chains.emplace(lang, std::move(chain).value());
    }
    t0 = Clock::now();
    std::string ours;
    std::string flags;
    acervo::Result<acervo::Page> page = acervo::LoadPage(image, 1, c[0]);
    if (page.ok()) page = chains.at(lang).Run(std::move(page).value(), acervo::PageContext{});
    if (page.ok()) {
      ours = page->text;
      for (const std::string& f : page->flags) flags += f + " ";
      if (page->orientation_deg) flags += "rot" + std::to_string(page->orientation_deg) + " ";
      char skew[32];
      std::snprintf(skew, sizeof(skew), "skew%.2f", page->skew_deg);
      flags += skew;
    } else {
      flags = page.status().ToString();
    }
    double ours_s = std::chrono::duration<double>(Clock::now() - t0).count();
    double cer_t = acervo::synth::CharacterErrorRate(peer, truth);
    double cer_a = acervo::synth::CharacterErrorRate(ours, truth);
    std::printf("| %s | %s | %.3f | %.3f | %.1f | %.1f | %s |\n", c[0].c_str(), lang.c_str(), cer_t, cer_a,
                peer_s, ours_s, flags.c_str());
    std::fflush(stdout);
    sum_t += cer_t;
    sum_a += cer_a;
    time_t += peer_s;
    time_a += ours_s;
    better += cer_a <= cer_t + 1e-9;
    ++n;
  }
  if (n == 0) return 2;
  std::printf("\nPages: %d. Mean CER: tesseract %.3f, acervo %.3f. Acervo at least as good on %d/%d pages. "
              "Time: tesseract %.1f s, acervo %.1f s (one thread each).\n",
              n, sum_t / n, sum_a / n, better, n, time_t, time_a);
  return 0;
}
