// Image preprocessing on real pages, every target of issue 3 in one run:
//   deskew       corpus pages turned by random known angles in +-15 deg and
//                0 deg (error against angle + the page's own detected skew),
//                plus skew.pdf and rotated_skew.pdf (published angles)
//   orientation  every corpus page with text at all four turns
//   blank        precision on every corpus page with text (after the image
//                chain), recall on generated blank backs (texture, specks,
//                punch holes, bleed-through, borders, skew)
//   OCR          Tesseract CER on each GT page, raw vs preprocessed (the page
//                as OCR reads it in a lot: before binarisation)
//   time         the image chain per page
// Prints the figures and PASS/FAIL per target; exit 1 when one fails.
// With --lot-orientation, only this instead: every corpus page with text at
// all four turns through the whole chain of a lot (BuildStageChain: the
// orientation stage leaves its OCR vote to the OCR stage, issue 16), the
// orientation each ends with, and the chain's CPU time per page.
//
// usage: preprocess_eval [CORPUS_DIR] [--no-ocr] [--angles N] [--blanks N] [--only NAME_PART] [--dump DIR]
//                        [--lot-orientation]
#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/pipeline/profile.h"
#include "acervo/pipeline/stage_registry.h"
#include "acervo/stages/deskew/deskew.h"
#include "acervo/stages/ocr/ocr.h"
#include "acervo/stages/orientation/orientation.h"
#include "acervo/stages/testing/corpus_pages.h"
#include "acervo/synth/synth.h"

namespace {
namespace fs = std::filesystem;
using acervo::Page;
using acervo::PageContext;
using acervo::Result;
using acervo::testing::CorpusPage;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

// CPU time of the calling thread (ms): steadier than wall time on a busy
// machine.
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

cv::Mat TurnCcw(const cv::Mat& img, int deg) {
  cv::Mat out;
  switch (deg) {
    case 90: cv::rotate(img, out, cv::ROTATE_90_COUNTERCLOCKWISE); return out;
    case 180: cv::rotate(img, out, cv::ROTATE_180); return out;
    case 270: cv::rotate(img, out, cv::ROTATE_90_CLOCKWISE); return out;
    default: return img;
  }
}

const char* Verdict(bool ok) { return ok ? "PASS" : "FAIL"; }

// Levenshtein CER with UNLV's "~" runs (unrepresentable characters) removed
// from the truth, and the hypothesis compared as is.
double Cer(const std::string& hyp, std::string truth) {
  std::string t;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] == '~') continue;
    t += truth[i];
  }
  return acervo::synth::CharacterErrorRate(hyp, t);
}

// Orientation through a lot's whole chain, OCR included: 0 when every
// turned page comes out upright, 1 when not, 2 when the chain cannot be built.
int EvalLotOrientation(const std::vector<CorpusPage>& text_pages) {
  Result<acervo::StageChain> chain = acervo::BuildStageChain(acervo::LotProfile());
  if (!chain.ok()) {
    std::fprintf(stderr, "preprocess_eval: %s\n", chain.status().ToString().c_str());
    return 2;
  }
  int total = 0, correct = 0, wrong_turns = 0;
  double cpu_ms = 0;
  std::printf("## Orientation in a lot (whole chain, OCR included)\n\n");
  for (const CorpusPage& p : text_pages) {
    for (int turn : {0, 90, 180, 270}) {
      Page page;
      page.image = TurnCcw(p.image, turn);
      page.dpi_x = page.dpi_y = p.dpi;
      page.origin.source_path = p.name;
      const int expected = (p.orientation_deg + turn) % 360;
      const double c0 = ThreadCpuMs();
      Result<Page> out = chain->Run(std::move(page), PageContext{});
      const double cpu = ThreadCpuMs() - c0;
      cpu_ms += cpu;
      ++total;
      const bool right = out.ok() && out->orientation_deg == expected;
      correct += right;
      wrong_turns += out.ok() && !right && out->orientation_deg != 0;
      double orientation_ms = 0;
      if (out.ok()) {
        for (const acervo::StageRecord& r : out->history) {
          if (r.name == "orientation") orientation_ms = r.cpu_ms;
        }
      }
      std::printf("- %s turned %d: %s %d (expected %d), %.0f ms CPU (orientation stage %.0f)\n", p.name.c_str(),
                  turn, right ? "right" : "WRONG", out.ok() ? out->orientation_deg : -1, expected, cpu,
                  orientation_ms);
      std::fflush(stdout);
    }
  }
  std::printf("\nlot orientation: %d/%d correct  %s; turned to a wrong side: %d; left as scanned: %d; "
              "mean %.0f ms CPU per page (whole chain)\n",
              correct, total, Verdict(correct == total), wrong_turns, total - correct - wrong_turns,
              cpu_ms / std::max(1, total));
  return correct == total ? 0 : 1;
}

// Deskew on pages of known skew and on turned copies of the others: true
// when the targets are met.
bool EvalDeskew(const std::vector<CorpusPage>& text_pages, int angles_per_page) {
  acervo::DeskewOptions options;
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> angle_dist(-15, 15);
  double sum = 0, worst = 0;
  int n = 0;
  std::string worst_name;
  std::printf("## Deskew\n\n");
  for (const CorpusPage& p : text_pages) {
    if (p.orientation_deg != 0) continue;  // turned copies: orientation's job
    if (p.skew_known) {
      Result<acervo::SkewEstimate> est = acervo::DetectSkew(p.image, options, p.dpi);
      const double err = est.ok() ? std::abs(est->angle_deg - p.skew_deg) : 99;
      std::printf("- %s: published %+.3f, found %+.3f, error %.3f\n", p.name.c_str(), p.skew_deg,
                  est.ok() ? est->angle_deg : 0.0, err);
      sum += err;
      worst = std::max(worst, err);
      if (err >= worst) worst_name = p.name;
      ++n;
      continue;
    }
    if (p.has_gt != "yes" && p.has_gt != "ref") continue;
    // The page's own skew, found once; the turned copies must agree.
    Result<acervo::SkewEstimate> base = acervo::DetectSkew(p.image, options, p.dpi);
    if (!base.ok()) continue;
    std::vector<double> angles = {0};
    for (int i = 0; i < angles_per_page; ++i) angles.push_back(angle_dist(rng));
    for (double a : angles) {
      cv::Mat turned = a == 0 ? p.image : acervo::RotateImage(p.image, a, acervo::RotateFill::kBackground, false);
      Result<acervo::SkewEstimate> est = acervo::DetectSkew(turned, options, p.dpi);
      const double truth = base->angle_deg + a;
      const double err = est.ok() ? std::abs(est->angle_deg - truth) : 99;
      sum += err;
      ++n;
      if (err > worst) {
        worst = err;
        worst_name = p.name + " at " + std::to_string(a);
      }
      if (err > 0.3) {
        std::printf("- %s turned %+.2f: found %+.3f, expected %+.3f (own skew %+.3f)\n", p.name.c_str(), a,
                    est.ok() ? est->angle_deg : 0.0, truth, base->angle_deg);
      }
    }
  }
  const double mae = n ? sum / n : 99;
  const bool ok = mae <= 0.1 && worst <= 0.3;
  std::printf("\ndeskew: %d measurements, MAE %.3f deg (target <= 0.1), max %.3f deg (<= 0.3, %s)  %s\n\n",
              n, mae, worst, worst_name.c_str(), Verdict(ok));
  return ok;
}

// Orientation with the fast detector and its OSD and OCR-vote fallbacks:
// true when every turned page is found.
Result<bool> EvalOrientation(const std::vector<CorpusPage>& text_pages) {
  // As a lot with the default profile builds it (OCR vote in its languages).
  acervo::OrientationOptions options;
  options.ocr_languages = acervo::LotProfile().languages;
  Result<std::unique_ptr<acervo::OrientationDetector>> osd =
      acervo::OrientationDetector::Create(options);
  if (!osd.ok()) {
    return acervo::Status::Unavailable("orientation detector: " + osd.status().ToString());
  }
  int total = 0, correct = 0, fast = 0, wrong_turns = 0, voted = 0, large_ran = 0, large_gated = 0,
      large_in_flow = 0;
  double fast_ms = 0, all_ms = 0, vote_ms = 0, large_ran_cpu_ms = 0, large_gated_cpu_ms = 0;
  std::printf("## Orientation\n\n");
  for (const CorpusPage& p : text_pages) {
    for (int turn : {0, 90, 180, 270}) {
      const cv::Mat img = TurnCcw(p.image, turn);
      const int expected = (p.orientation_deg + turn) % 360;
      auto t0 = Clock::now();
      Result<acervo::FastOrientation> f = acervo::DetectOrientationFast(img, options.fast_options, p.dpi);
      fast_ms += Ms(t0);
      t0 = Clock::now();
      Result<acervo::OrientationEstimate> est =
          acervo::DetectOrientationFastThenOsd(**osd, options, img, p.dpi);
      const double ms = Ms(t0);
      all_ms += ms;
      if (est.ok() && est->ocr_vote) {
        ++voted;
        vote_ms += ms;
        std::printf("- OCR vote on %s turned %d: %d (expected %d), %.0f ms%s\n", p.name.c_str(), turn,
                    est->orientation_deg, expected, ms, est->large_type ? " (large-type vote read it)" : "");
        std::fflush(stdout);
        // The large-type vote's own cost on the pages that take it (after
        // an OCR vote that read too little), timed again alone in CPU time.
        large_in_flow += est->large_type;
        if (est->large_type) {
          const double c0 = ThreadCpuMs();
          Result<acervo::LargeTypeVote> lt = (*osd)->VoteByLargeType(img);
          const double cpu = ThreadCpuMs() - c0;
          if (lt.ok()) {
            std::printf("  large-type vote: glyph %.0f px, votes %d/%d/%d/%d, %.0f ms CPU alone\n",
                        lt->glyph_px, lt->votes[0], lt->votes[1], lt->votes[2], lt->votes[3], cpu);
          }
          if (lt.ok() && lt->ran) {
            ++large_ran;
            large_ran_cpu_ms += cpu;
          } else {
            ++large_gated;
            large_gated_cpu_ms += cpu;
          }
        }
      }
      ++total;
      const bool right = est.ok() && est->orientation_deg == expected;
      correct += right;
      // Leaving a page as scanned is the safe failure; turning it to a
      // wrong side is the one that must never happen.
      wrong_turns += est.ok() && !right && est->orientation_deg != 0;
      fast += est.ok() && est->fast;
      if (!right) {
        std::printf("- WRONG %s turned %d: got %d (expected %d) via %s; fast guess %d confident %d "
                    "h/v %d/%d asc/desc %d/%d\n",
                    p.name.c_str(), turn, est.ok() ? est->orientation_deg : -1, expected,
                    est.ok() && est->fast ? "fast" : est.ok() && est->ocr_vote ? "OCR vote" : "OSD", f.ok() ? f->best_guess_deg : -1,
                    f.ok() && f->confident, f.ok() ? f->horizontal_votes : 0,
                    f.ok() ? f->vertical_votes : 0, f.ok() ? f->ascenders : 0, f.ok() ? f->descenders : 0);
      }
    }
  }
  const bool ok = correct == total;
  std::printf("\norientation: %d/%d correct (target: all)  %s; turned to a wrong side: %d (left as "
              "scanned: %d); decided by the fast detector alone: %d/%d; "
              "mean %.1f ms fast detector, %.1f ms with the OSD and OCR-vote fallbacks per page; "
              "OCR vote run on %d pages (mean %.0f ms each, detectors included)\n\n",
              correct, total, Verdict(ok), wrong_turns, total - correct - wrong_turns, fast, total, fast_ms / std::max(1, total),
              all_ms / std::max(1, total), voted, vote_ms / std::max(1, voted));
  std::printf("large-type vote: run on %d pages (OCR vote undecided, too little text read), timed alone: "
              "reads %d (mean %.0f ms CPU each), its glyph-size check turns away %d (mean %.1f ms CPU "
              "each); never runs on the other pages\n\n",
              large_in_flow, large_ran, large_ran_cpu_ms / std::max(1, large_ran), large_gated,
              large_gated_cpu_ms / std::max(1, large_gated));
  return ok;
}

// What OCR reads in a lot: the page before binarisation (see
// stage_registry.cc), or the copy a stage left for OCR (Page::ocr_image);
// the bitonal page only goes into the PDF.
Result<Page> RunImageChain(acervo::StageChain& chain, const cv::Mat& image, double dpi, cv::Mat* out_image) {
  Page page;
  page.image = image;
  page.dpi_x = page.dpi_y = dpi;
  acervo::StageObserver observer;
  observer.after_stage = [out_image](const Page& p, const acervo::StageRecord& r) {
    if (out_image != nullptr && r.name != "binarize") *out_image = p.ocr_image.empty() ? p.image : p.ocr_image;
  };
  return chain.Run(std::move(page), PageContext(), &observer);
}

// Blank detection: precision on the corpus's text pages, recall on generated
// blank backs, and the image chain's time. Fills `processed` with what OCR
// reads of each text page (written to `dump` when given). True when the
// targets are met.
bool EvalBlanks(acervo::StageChain& chain, const std::vector<CorpusPage>& text_pages,
                const std::vector<CorpusPage>& blank_pages, int blanks, const fs::path& dump,
                std::vector<cv::Mat>* processed) {
  bool chain_ok = true;
    std::printf("## Blank pages and chain time\n\n");
    int false_blank = 0;
    double chain_ms = 0;
    for (size_t i = 0; i < text_pages.size(); ++i) {
      const CorpusPage& p = text_pages[i];
      auto t0 = Clock::now();
      Result<Page> out = RunImageChain(chain, p.image, p.dpi, &(*processed)[i]);
      chain_ms += Ms(t0);
      if (!out.ok()) {
        std::printf("- %s: chain failed: %s\n", p.name.c_str(), out.status().ToString().c_str());
        chain_ok = false;
        continue;
      }
      if (!dump.empty()) {
        std::error_code ec;
        fs::create_directories(dump, ec);
        std::string file = p.name;
        for (char& c : file) c = (c == '/' || c == '#') ? '_' : c;
        cv::imwrite((dump / (file + ".png")).string(), (*processed)[i]);
      }
      if (out->blank) {
        ++false_blank;
        std::printf("- TEXT PAGE CALLED BLANK: %s (score %.3f)\n", p.name.c_str(), out->blank_score);
      }
    }
    for (const CorpusPage& p : blank_pages) {
      Result<Page> out = RunImageChain(chain, p.image, p.dpi, nullptr);
      std::printf("- corpus blank-ish page %s: blank=%d score %.3f\n", p.name.c_str(),
                  out.ok() && out->blank, out.ok() ? out->blank_score : -1.0);
    }
    // Generated blank backs.
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    int detected = 0;
    for (int i = 0; i < blanks; ++i) {
      acervo::synth::PageSpec spec;
      spec.seed = 1000 + i;
      spec.dpi = i % 3 == 0 ? 200 : 300;
      spec.specks = 20 + static_cast<int>(80 * u(rng));
      spec.noise_sigma = 4 + 6 * u(rng);
      spec.punch_holes = u(rng) < 0.5;
      spec.dark_border = u(rng) < 0.3;
      spec.bleed_through = u(rng) < 0.7 ? 0.04 + 0.14 * u(rng) : 0;
      spec.skew_deg = (u(rng) - 0.5) * 6;
      Result<acervo::synth::SynthPage> page = acervo::synth::RenderPage(spec);
      if (!page.ok()) continue;
      Result<Page> out = RunImageChain(chain, page->image, spec.dpi, nullptr);
      if (out.ok() && out->blank) {
        ++detected;
      } else {
        std::printf("- blank back %d missed (score %.3f; specks %d holes %d border %d bleed %.2f)\n", i,
                    out.ok() ? out->blank_score : -1.0, spec.specks, spec.punch_holes, spec.dark_border,
                    spec.bleed_through);
      }
    }
    const double recall = blanks ? 100.0 * detected / blanks : 0;
    const bool precision_ok = false_blank == 0;
    const bool recall_ok = recall >= 98;
    std::printf("\nblank precision: %zu text pages, %d called blank (target 0)  %s\n",
                text_pages.size(), false_blank, Verdict(precision_ok));
    std::printf("blank recall: %d/%d generated blank backs = %.1f%% (target >= 98%%)  %s\n", detected,
                blanks, recall, Verdict(recall_ok));
    std::printf("image chain: mean %.1f ms per corpus page (one core, sizes as in the corpus)\n\n",
                chain_ms / std::max<size_t>(1, text_pages.size()));
  return chain_ok && precision_ok && recall_ok;
}

// Tesseract's CER on each ground-truth page, raw against preprocessed:
// true when preprocessing helps overall and no page is worse by more than
// half a point.
Result<bool> EvalOcr(const std::vector<CorpusPage>& text_pages, const std::vector<cv::Mat>& processed) {
  std::printf("## OCR (Tesseract CER, raw page vs preprocessed page)\n\n");
  std::printf("| page | raw CER | processed CER | delta (points) |\n|---|---:|---:|---:|\n");
  std::map<std::string, std::unique_ptr<acervo::PageStage>> engines;
  double raw_sum = 0, proc_sum = 0;
  int n = 0, worse = 0;
  for (size_t i = 0; i < text_pages.size(); ++i) {
    const CorpusPage& p = text_pages[i];
    if (p.has_gt != "yes" || processed[i].empty()) continue;
    std::unique_ptr<acervo::PageStage>& engine = engines[p.language];
    if (!engine) {
      acervo::OcrOptions o;
      o.languages = p.language;
      Result<std::unique_ptr<acervo::PageStage>> e = acervo::OcrStage::Create(o);
      if (!e.ok()) {
        return acervo::Status::Unavailable("OCR engine: " + e.status().ToString());
      }
      engine = std::move(e).value();
    }
    auto ocr_text = [&](const cv::Mat& img) {
      Page page;
      page.image = img;
      page.dpi_x = page.dpi_y = p.dpi;
      // As the page loader marks a resolution it guessed.
      if (p.dpi_estimated) page.AddFlag("no_dpi");
      Result<Page> out = engine->Run(std::move(page), PageContext());
      if (!out.ok()) {
        std::printf("- %s: OCR failed: %s\n", p.name.c_str(), out.status().ToString().c_str());
        return std::string();
      }
      return out->text;
    };
    const double raw = 100 * Cer(ocr_text(p.image), p.truth);
    const double proc = 100 * Cer(ocr_text(processed[i]), p.truth);
    raw_sum += raw;
    proc_sum += proc;
    ++n;
    const bool page_worse = proc > raw + 0.5;
    worse += page_worse;
    std::printf("| %s | %.2f | %.2f | %+.2f%s |\n", p.name.c_str(), raw, proc, proc - raw,
                page_worse ? " WORSE" : "");
    std::fflush(stdout);
  }
  const bool ok = worse == 0 && proc_sum < raw_sum;
  std::printf("\nOCR: %d pages, mean CER raw %.2f%%, processed %.2f%%; pages more than 0.5 points worse: %d  %s\n\n",
              n, raw_sum / std::max(1, n), proc_sum / std::max(1, n), worse, Verdict(ok));
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path corpus = "../shared/corpus";
  bool ocr = true;
  int angles_per_page = 4;
  int blanks = 120;
  std::string only;  // measure only the pages whose name contains this
  fs::path dump;     // write each processed page (what OCR reads) here
  bool lot_orientation = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-ocr") == 0) ocr = false;
    else if (std::strcmp(argv[i], "--angles") == 0 && i + 1 < argc) angles_per_page = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--blanks") == 0 && i + 1 < argc) blanks = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else if (std::strcmp(argv[i], "--dump") == 0 && i + 1 < argc) dump = argv[++i];
    else if (std::strcmp(argv[i], "--lot-orientation") == 0) lot_orientation = true;
    else corpus = argv[i];
  }
  // One core, as a pipeline worker has.
  cv::setNumThreads(1);
  const fs::path scratch = fs::temp_directory_path() / ("acervo-preprocess-eval-" + std::to_string(::getpid()));
  Result<std::vector<CorpusPage>> loaded = acervo::testing::LoadCorpus(corpus, scratch);
  std::error_code ec;
  fs::remove_all(scratch, ec);
  if (!loaded.ok()) {
    std::fprintf(stderr, "preprocess_eval: %s\n", loaded.status().ToString().c_str());
    return 2;
  }
  std::vector<CorpusPage> text_pages, blank_pages;
  for (CorpusPage& p : *loaded) {
    if (!only.empty() && p.name.find(only) == std::string::npos) continue;
    (p.has_text ? text_pages : blank_pages).push_back(p);
  }
  std::printf("# Preprocessing evaluation on %s: %zu pages with text, %zu blank\n\n",
              corpus.c_str(), text_pages.size(), blank_pages.size());
  if (lot_orientation) return EvalLotOrientation(text_pages);
  bool all_ok = EvalDeskew(text_pages, angles_per_page);
  Result<bool> orientation = EvalOrientation(text_pages);
  Result<acervo::StageChain> chain = acervo::BuildImageChain(acervo::LotProfile());
  if (!orientation.ok() || !chain.ok()) {
    std::fprintf(stderr, "preprocess_eval: %s\n",
                 (!orientation.ok() ? orientation.status() : chain.status()).ToString().c_str());
    return 2;
  }
  all_ok &= *orientation;
  std::vector<cv::Mat> processed(text_pages.size());
  all_ok &= EvalBlanks(*chain, text_pages, blank_pages, blanks, dump, &processed);
  if (ocr) {
    Result<bool> ocr_ok = EvalOcr(text_pages, processed);
    if (!ocr_ok.ok()) {
      std::fprintf(stderr, "preprocess_eval: %s\n", ocr_ok.status().ToString().c_str());
      return 2;
    }
    all_ok &= *ocr_ok;
  }
  std::printf("overall: %s\n", Verdict(all_ok));
  return all_ok ? 0 : 1;
}
