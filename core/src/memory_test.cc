#include "acervo/core/memory.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace acervo {
namespace {

#if defined(__GLIBC__)
// A freed page-sized buffer stays in the heap for the next page. Without the
// setting glibc maps a 64 MB block on its own and unmaps it on free, so the
// heap's free space does not grow. (The setting once compiled to nothing
// because __GLIBC__ was tested before any libc header defined it.)
TEST(MemoryTest, FreedPageBufferStaysInTheHeap) {
  TuneAllocatorForPageImages();
  constexpr size_t kBlock = 64u << 20;
  const size_t free_before = mallinfo2().fordblks;
  void* volatile block = std::malloc(kBlock);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  std::free(block);
  EXPECT_GE(mallinfo2().fordblks, free_before + kBlock);
}
#endif

}  // namespace
}  // namespace acervo
