// StageChainPool: stage chains kept between lots, so a process that runs
// many small units (a queue worker: one document at a time) builds each
// Tesseract engine once instead of once per unit (about a second each).
//
// Chains are keyed by what they were built from (the lot's profile
// signature: its settings and OCR languages); Take() hands out an idle chain
// of that key or builds one, and the chain goes back to the pool when the
// last shared_ptr to it is dropped. At most `max_idle` chains are kept
// idle; the oldest others are freed.
//
// Thread-safety: Take() and the returns may happen on any thread.
// Ownership: the pool must outlive every chain it handed out.
#ifndef ACERVO_PIPELINE_CHAIN_POOL_H_
#define ACERVO_PIPELINE_CHAIN_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "acervo/core/status.h"
#include "acervo/pipeline/stage_registry.h"

namespace acervo {

class StageChainPool {
 public:
  explicit StageChainPool(size_t max_idle) : max_idle_(max_idle) {}
  StageChainPool(const StageChainPool&) = delete;
  StageChainPool& operator=(const StageChainPool&) = delete;

  // An idle chain built for `key`, or a new one from `build` (whose failure
  // is returned).
  Result<std::shared_ptr<StageChain>> Take(const std::string& key, const std::function<Result<StageChain>()>& build);

  // Chains built so far (tests: a second unit of one profile builds none).
  size_t built() const;

 private:
  void Return(std::string key, std::unique_ptr<StageChain> chain);

  const size_t max_idle_;
  mutable std::mutex mu_;
  std::deque<std::pair<std::string, std::unique_ptr<StageChain>>> idle_;  // oldest first
  size_t built_ = 0;
};

}  // namespace acervo

#endif  // ACERVO_PIPELINE_CHAIN_POOL_H_
