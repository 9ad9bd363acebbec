// One unit of the shared queue run with the lot passes (queue_worker.h
// describes each kind). Internal to the worker.
#ifndef ACERVO_PIPELINE_SRC_QUEUE_UNIT_H_
#define ACERVO_PIPELINE_SRC_QUEUE_UNIT_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "acervo/indexer/store.h"
#include "acervo/indexer/work_queue.h"
#include "acervo/pipeline/lot.h"

namespace acervo {

class StageChainPool;

// Lot plans kept between units of the same queue lot: PlanLot probes every
// file of the lot, which a unit of one document should not repeat. A plan
// is what the lot folder held when its first unit here read it; input
// files changed later are caught by their master hashes (KeepMasters).
class PlanCache {
 public:
  std::shared_ptr<const LotPlan> Get(int64_t lot);
  void Put(int64_t lot, std::shared_ptr<const LotPlan> plan);

 private:
  std::mutex mu_;
  std::map<int64_t, std::shared_ptr<const LotPlan>> plans_;  // the newest few queue lots
};

struct UnitEnv {
  Store* store = nullptr;
  WorkQueue* queue = nullptr;  // the finaliser reads the lot's units
  std::filesystem::path shared_root;
  StageChainPool* chains = nullptr;
  PlanCache* plans = nullptr;
  const std::atomic<bool>* cancel = nullptr;  // stops the unit's pages (drain timeout, lost lease)
};

struct UnitRun {
  UnitOutcome outcome;
  // The cancel flag stopped it before its end: the outcome means nothing
  // and the unit goes back to the queue. (A unit that ran to its end while
  // the flag was being set is complete.)
  bool interrupted = false;
};

// Runs the unit. Never fails as a call: what went wrong is the outcome's
// failure and reason.
UnitRun RunUnit(const ClaimedUnit& unit, const UnitEnv& env);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_SRC_QUEUE_UNIT_H_
