#include "acervo/pipeline/stage_registry.h"

#include <chrono>

#include "acervo/stages/blank/blank.h"
#include "acervo/stages/color/color.h"
#include "acervo/stages/deskew/deskew.h"
#include "acervo/stages/ocr/ocr.h"
#include "acervo/stages/orientation/orientation.h"
#include "acervo/stages/pdf/image_encode.h"

namespace acervo {

Result<Page> StageChain::Run(Page page, const PageContext& ctx) {
  for (ChainEntry& e : entries) {
    if (page.blank && !e.runs_on_blank) continue;
    if (ctx.Cancelled()) return Status::Cancelled(page.origin.Describe() + ": cancelled");
    auto start = std::chrono::steady_clock::now();
    std::string_view name = e.stage->Name();
    int version = e.stage->Version();
    Result<Page> r = e.stage->Run(std::move(page), ctx);
    if (!r.ok()) {
      Status s = r.status();
      // Stages usually name the page already; add the stage either way.
      return Status(s.code(), "stage " + std::string(name) + ": " + s.message());
    }
    page = std::move(r).value();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    page.history.push_back({std::string(name), version, ms});
  }
  page.image.release();
  return page;
}

std::vector<std::string> StageNames(const LotProfile& profile) {
  std::vector<std::string> names;
  if (profile.orientation) names.push_back("orientation");
  if (profile.deskew) names.push_back("deskew");
  if (profile.blank_detection) names.push_back("blank");
  names.push_back("color");
  names.push_back("ocr");
  names.push_back("encode");
  return names;
}

Result<StageChain> BuildStageChain(const LotProfile& profile, const std::string& languages) {
  StageChain chain;
  auto add = [&](Result<std::unique_ptr<PageStage>> stage, bool runs_on_blank) -> Status {
    if (!stage.ok()) return stage.status();
    chain.entries.push_back({std::move(stage).value(), runs_on_blank});
    return Status::OK();
  };
  // Orientation first: deskew and blank detection assume upright text lines.
  if (profile.orientation) ACERVO_RETURN_IF_ERROR(add(OrientationStage::Create(OrientationOptions{}), true));
  if (profile.deskew) ACERVO_RETURN_IF_ERROR(add(DeskewStage::Create(DeskewOptions{}), true));
  if (profile.blank_detection) ACERVO_RETURN_IF_ERROR(add(BlankStage::Create(BlankOptions{}), true));
  ACERVO_RETURN_IF_ERROR(add(ColorStage::Create(ColorOptions{}), false));
  OcrOptions ocr;
  ocr.languages = languages.empty() ? profile.languages : languages;
  ocr.min_confidence = profile.min_confidence;
  ACERVO_RETURN_IF_ERROR(add(OcrStage::Create(ocr), false));
  EncodeOptions enc;
  if (profile.jpeg_quality > 0) enc.jpeg_quality = profile.jpeg_quality;
  enc.lossless = profile.lossless;
  ACERVO_RETURN_IF_ERROR(add(ImageEncodeStage::Create(enc), false));
  return chain;
}

}  // namespace acervo
