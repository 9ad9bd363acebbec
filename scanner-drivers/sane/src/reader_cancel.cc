#include "src/reader_cancel.h"

#include <dlfcn.h>
#include <pthread.h>

#include <atomic>

namespace acervo {
namespace internal {

std::atomic<uint64_t> made_deferred{0};

}  // namespace internal

uint64_t AsyncCancelRequestsMadeDeferred() { return internal::made_deferred.load(std::memory_order_relaxed); }

}  // namespace acervo

// See reader_cancel.h. libc's definition is the next one after this
// executable's; it is looked up once (dlsym allocates: not on every call).
extern "C" int pthread_setcanceltype(int type, int* oldtype) {
  using SetCancelTypeFn = int (*)(int, int*);
  static const auto libc = reinterpret_cast<SetCancelTypeFn>(dlsym(RTLD_NEXT, "pthread_setcanceltype"));
  if (type == PTHREAD_CANCEL_ASYNCHRONOUS) {
    type = PTHREAD_CANCEL_DEFERRED;
    acervo::internal::made_deferred.fetch_add(1, std::memory_order_relaxed);
  }
  return libc(type, oldtype);
}
