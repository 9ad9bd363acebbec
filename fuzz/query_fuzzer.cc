// Fuzzes the search query parser: ParseQuery must give a parsed query or
// InvalidArgument (never another code), and never crash or hang; parsed
// output must be renderable.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "acervo/indexer/query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  acervo::Result<acervo::ParsedQuery> q = acervo::ParseQuery(text);
  if (!q.ok()) {
    if (q.status().code() != acervo::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  (void)q->RankingFts();
  if (q->filter) (void)acervo::DescribeCondition(*q->filter);
  return 0;
}
