// The explicit list of page stages and the order a lot runs them in.
//
// This is the only place that knows every stage: adding a stage means adding
// it here (no static self-registration). BuildStageChain() is called once per
// worker thread, so each worker owns its own stage instances (and its own
// Tesseract engines); options are validated here, before any page is read.
#ifndef ACERVO_PIPELINE_STAGE_REGISTRY_H_
#define ACERVO_PIPELINE_STAGE_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "acervo/core/page_stage.h"
#include "acervo/pipeline/profile.h"

namespace acervo {

struct ChainEntry {
  std::unique_ptr<PageStage> stage;
  // Blank pages leave the PDF, so stages after blank detection that only
  // serve the PDF (OCR, encoding) are skipped for them.
  bool runs_on_blank = true;
  // When the page deadline stops this stage (DeadlineExceeded), the page
  // goes on without this stage's findings, flagged "<name>_deadline", so one
  // pathological page cannot fail its document or stall the lot (OCR).
  bool skip_on_deadline = false;
};

// Optional hooks into StageChain::Run, called on the worker thread.
struct StageObserver {
  // After each stage that completed (the journal records it).
  std::function<void(const Page&, const StageRecord&)> after_stage;
  // Once the whole chain succeeded, just before the pixels are dropped (the
  // last chance to keep a thumbnail of a flagged page).
  std::function<void(const Page&)> before_release;
};

struct StageChain {
  std::vector<ChainEntry> entries;

  // Runs every stage on the page in order, timing each and appending its
  // name/version/ms to page.history. The first failing stage's Status is
  // returned with the page and stage named. Drops the pixel buffer at the end
  // (the encoded image is what the PDF needs) so pages waiting for their
  // document hold only compressed bytes.
  Result<Page> Run(Page page, const PageContext& ctx, const StageObserver* observer = nullptr);
};

// Names of the stages, in order, that a profile enables (for --help, docs,
// reports).
std::vector<std::string> StageNames(const LotProfile& profile);

// Builds the image stages of the chain a profile asks for (orientation,
// colour, deskew, border, clean, blank, binarize; no OCR, no encoding): what
// `acervo preprocess` runs. BuildStageChain uses the same stages, with OCR
// placed before binarize (OCR reads the cleaned gray page). `languages`
// overrides the profile's OCR languages (which the orientation stage's OCR
// vote reads with) when not empty.
Result<StageChain> BuildImageChain(const LotProfile& profile, const std::string& languages = "");

// Builds the chain a profile asks for. `languages` overrides the profile's
// OCR languages when not empty.
Result<StageChain> BuildStageChain(const LotProfile& profile, const std::string& languages = "");

}  // namespace acervo

#endif  // ACERVO_PIPELINE_STAGE_REGISTRY_H_
