// PageStage: the one interface of every image/OCR stage.
//
// A stage is created once per worker thread by its factory
//   static Result<std::unique_ptr<PageStage>> Create(const Options&);
// which validates the options (a bad option fails here, before any page is
// read) and may load expensive state (a Tesseract engine). Run() is then called
// for page after page on that same worker thread, so a stage instance needs no
// locking; two workers never share an instance.
//
// Run() gets the Page by value and returns it changed, or a Status naming why
// the page could not be processed (the pipeline quarantines that page with the
// message and the lot carries on). A stage never sees the store, the scanner
// or other pages: only the Page and the PageContext.
//
// Name() and Version() identify the code that produced a page: bump Version()
// whenever a change alters the stage's output. Both are stored per page.
#ifndef ACERVO_CORE_PAGE_STAGE_H_
#define ACERVO_CORE_PAGE_STAGE_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "acervo/core/page.h"
#include "acervo/core/status.h"

namespace acervo {

// What a stage may know about the page's surroundings.
struct PageContext {
  std::string lot_id;
  std::string document_id;
  // Set by the pipeline when the whole run is being stopped; long stages
  // should poll it and return Cancelled.
  const std::atomic<bool>* cancel = nullptr;
  // Wall-clock limit for the page; stages that can be interrupted honour it.
  std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::time_point::max();

  bool Cancelled() const { return cancel != nullptr && cancel->load(); }
};

class PageStage {
 public:
  virtual ~PageStage() = default;
  virtual std::string_view Name() const = 0;
  virtual int Version() const = 0;
  virtual Result<Page> Run(Page page, const PageContext& ctx) = 0;
};

}  // namespace acervo

#endif  // ACERVO_CORE_PAGE_STAGE_H_
