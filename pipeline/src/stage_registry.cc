#include "acervo/pipeline/stage_registry.h"

#include <time.h>

#include <chrono>
#include <optional>

#include "acervo/stages/binarize/binarize.h"
#include "acervo/stages/blank/blank.h"
#include "acervo/stages/border/border.h"
#include "acervo/stages/clean/clean.h"
#include "acervo/stages/color/color.h"
#include "acervo/stages/deskew/deskew.h"
#include "acervo/stages/ocr/ocr.h"
#include "acervo/stages/orientation/orientation.h"
#include "acervo/stages/pdf/image_encode.h"

namespace acervo {

namespace {

// CPU time of the calling thread, ms (a stage runs on one worker thread).
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

}  // namespace

Result<Page> StageChain::Run(Page page, const PageContext& ctx, const StageObserver* observer) {
  for (ChainEntry& e : entries) {
    if (page.blank && !e.runs_on_blank) continue;
    if (ctx.Cancelled()) return Status::Cancelled(page.origin.Describe() + ": cancelled");
    auto start = std::chrono::steady_clock::now();
    const double cpu_start = ThreadCpuMs();
    std::string_view name = e.stage->Name();
    int version = e.stage->Version();
    // A shallow copy (stages never write into a Mat they did not create) to
    // carry on from if the deadline stops this stage.
    std::optional<Page> before;
    if (e.skip_on_deadline) {
      before = page;
      // The stage that may be skipped is OCR, the one reader of ocr_image:
      // the page carries on without it either way, and holding it here
      // would keep a colour copy alive while OCR runs (25 MB a page).
      before->ocr_image.release();
    }
    Result<Page> r = e.stage->Run(std::move(page), ctx);
    if (!r.ok() && before && r.status().code() == StatusCode::kDeadlineExceeded) {
      page = std::move(*before);
      page.AddFlag(std::string(name) + "_deadline");
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      page.history.push_back({std::string(name) + ":deadline", version, ms, ThreadCpuMs() - cpu_start});
      continue;
    }
    if (!r.ok()) {
      Status s = r.status();
      // Stages usually name the page already; add the stage either way.
      return Status(s.code(), "stage " + std::string(name) + ": " + s.message());
    }
    page = std::move(r).value();
    if (!page.ocr_image.empty() && page.ocr_image.size() != page.image.size()) page.ocr_image.release();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    page.history.push_back({std::string(name), version, ms, ThreadCpuMs() - cpu_start});
    if (observer != nullptr && observer->after_stage) observer->after_stage(page, page.history.back());
  }
  if (observer != nullptr && observer->before_release) observer->before_release(page);
  page.image.release();
  page.ocr_image.release();
  page.paper_tone.release();
  return page;
}

std::vector<std::string> StageNames(const LotProfile& profile) {
  std::vector<std::string> names;
  if (profile.orientation) names.push_back("orientation");
  names.push_back("color");
  if (profile.deskew) names.push_back("deskew");
  if (profile.border) names.push_back("border");
  if (profile.clean) names.push_back("clean");
  if (profile.blank_detection) names.push_back("blank");
  names.push_back("ocr");
  if (profile.binarize) names.push_back("binarize");
  names.push_back("encode");
  return names;
}

namespace {

// The image stages; with `ocr_follows` the orientation stage leaves its OCR
// vote to the OCR stage, which reads the page anyway (stages/orientation).
Result<StageChain> BuildImageStages(const LotProfile& profile, const std::string& languages,
                                    bool ocr_follows) {
  StageChain chain;
  auto add = [&](Result<std::unique_ptr<PageStage>> stage, bool runs_on_blank) -> Status {
    if (!stage.ok()) return stage.status();
    chain.entries.push_back({std::move(stage).value(), runs_on_blank});
    return Status::OK();
  };
  // Orientation first: deskew and blank detection assume upright text lines.
  if (profile.orientation) {
    // The OCR vote (pages both orientation detectors leave unsure) reads
    // with the languages OCR will read with.
    OrientationOptions orientation;
    orientation.ocr_languages = languages.empty() ? profile.languages : languages;
    orientation.defer_ocr_vote = ocr_follows;
    ACERVO_RETURN_IF_ERROR(add(OrientationStage::Create(orientation), true));
  }
  // Colour next: a page that is not colour becomes 8-bit gray here, so the
  // full-resolution work after it (rotation, normalisation) costs a third.
  ACERVO_RETURN_IF_ERROR(add(ColorStage::Create(ColorOptions{}), true));
  if (profile.deskew) {
    // Linear interpolation: half the time of cubic at 300 dpi, and the
    // difference disappears in binarised and JPEG-encoded pages.
    DeskewOptions deskew;
    deskew.cubic = false;
    ACERVO_RETURN_IF_ERROR(add(DeskewStage::Create(deskew), true));
  }
  // Border after deskew: the sheet's edges are then parallel to the image's.
  if (profile.border) ACERVO_RETURN_IF_ERROR(add(BorderStage::Create(BorderOptions{}), true));
  if (profile.clean) {
    CleanOptions clean;
    clean.whiten_color = profile.color_paper == "white";
    ACERVO_RETURN_IF_ERROR(add(CleanStage::Create(clean), true));
  }
  if (profile.blank_detection) {
    BlankOptions blank;
    blank.threshold = profile.blank_threshold;
    ACERVO_RETURN_IF_ERROR(add(BlankStage::Create(blank), true));
  }
  // Bitonal only for pages classed bw; blank pages leave the PDF anyway.
  if (profile.binarize) ACERVO_RETURN_IF_ERROR(add(BinarizeStage::Create(BinarizeOptions{}), false));
  return chain;
}

}  // namespace

Result<StageChain> BuildImageChain(const LotProfile& profile, const std::string& languages) {
  return BuildImageStages(profile, languages, /*ocr_follows=*/false);
}

Result<StageChain> BuildStageChain(const LotProfile& profile, const std::string& languages) {
  ACERVO_ASSIGN_OR_RETURN(StageChain chain, BuildImageStages(profile, languages, /*ocr_follows=*/true));
  // OCR reads the cleaned gray page and binarisation moves after it: the
  // PDF gets the bitonal image, while Tesseract thresholds the gray one its
  // own way (on the corpus' charts and forms Sauvola-first read worse).
  std::vector<ChainEntry> after_ocr;
  if (!chain.entries.empty() && chain.entries.back().stage->Name() == BinarizeStage::kName) {
    after_ocr.push_back(std::move(chain.entries.back()));
    chain.entries.pop_back();
  }
  auto add = [&](Result<std::unique_ptr<PageStage>> stage, bool runs_on_blank) -> Status {
    if (!stage.ok()) return stage.status();
    chain.entries.push_back({std::move(stage).value(), runs_on_blank});
    return Status::OK();
  };
  OcrOptions ocr;
  ocr.languages = languages.empty() ? profile.languages : languages;
  ocr.min_confidence = profile.min_confidence;
  ACERVO_RETURN_IF_ERROR(add(OcrStage::Create(ocr), false));
  chain.entries.back().skip_on_deadline = true;
  for (ChainEntry& e : after_ocr) chain.entries.push_back(std::move(e));
  EncodeOptions enc;
  if (profile.jpeg_quality > 0) enc.jpeg_quality = profile.jpeg_quality;
  enc.lossless = profile.lossless;
  enc.mixed_raster = profile.mixed_raster;
  // A lot that keeps documents of blank pages only needs their images
  // ([image] blank_documents = "keep"); otherwise blank pages leave the PDF.
  ACERVO_RETURN_IF_ERROR(add(ImageEncodeStage::Create(enc), profile.blank_documents == "keep"));
  return chain;
}

}  // namespace acervo
