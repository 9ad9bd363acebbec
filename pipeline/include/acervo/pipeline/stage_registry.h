// The explicit list of page stages and the order a lot runs them in.
//
// This is the only place that knows every stage: adding a stage means adding
// it here (no static self-registration). BuildStageChain() is called once per
// worker thread, so each worker owns its own stage instances (and its own
// Tesseract engines); options are validated here, before any page is read.
#ifndef ACERVO_PIPELINE_STAGE_REGISTRY_H_
#define ACERVO_PIPELINE_STAGE_REGISTRY_H_

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
};

struct StageChain {
  std::vector<ChainEntry> entries;

  // Runs every stage on the page in order, timing each and appending its
  // name/version/ms to page.history. The first failing stage's Status is
  // returned with the page and stage named. Drops the pixel buffer at the end
  // (the encoded image is what the PDF needs) so pages waiting for their
  // document hold only compressed bytes.
  Result<Page> Run(Page page, const PageContext& ctx);
};

// Names of the stages, in order, that a profile enables (for --help, docs,
// reports).
std::vector<std::string> StageNames(const LotProfile& profile);

// Builds the chain a profile asks for. `languages` overrides the profile's
// OCR languages when not empty.
Result<StageChain> BuildStageChain(const LotProfile& profile, const std::string& languages = "");

}  // namespace acervo

#endif  // ACERVO_PIPELINE_STAGE_REGISTRY_H_
