#include "acervo/pipeline/chain_pool.h"

#include <algorithm>

namespace acervo {

Result<std::shared_ptr<StageChain>> StageChainPool::Take(const std::string& key,
                                                         const std::function<Result<StageChain>()>& build) {
  std::unique_ptr<StageChain> chain;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(idle_.rbegin(), idle_.rend(), [&](const auto& e) { return e.first == key; });
    if (it != idle_.rend()) {
      chain = std::move(it->second);
      idle_.erase(std::next(it).base());
    }
  }
  if (!chain) {
    ACERVO_ASSIGN_OR_RETURN(StageChain built, build());
    chain = std::make_unique<StageChain>(std::move(built));
    std::lock_guard<std::mutex> lock(mu_);
    ++built_;
  }
  StageChain* raw = chain.release();
  return std::shared_ptr<StageChain>(raw, [this, key](StageChain* c) { Return(key, std::unique_ptr<StageChain>(c)); });
}

void StageChainPool::Return(std::string key, std::unique_ptr<StageChain> chain) {
  std::unique_ptr<StageChain> evicted;  // freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  idle_.emplace_back(std::move(key), std::move(chain));
  if (idle_.size() > max_idle_) {
    evicted = std::move(idle_.front().second);
    idle_.pop_front();
  }
}

size_t StageChainPool::built() const {
  std::lock_guard<std::mutex> lock(mu_);
  return built_;
}

}  // namespace acervo
