#include "acervo/core/memory.h"

// Any C library header defines __GLIBC__ on glibc; without one included
// first the test below was always false and mallopt never ran.
#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace acervo {

void TuneAllocatorForPageImages() {
#if defined(__GLIBC__)
  // Above this size glibc would mmap each block (its dynamic threshold stops
  // at 32 MB, and every free of such a block trims the heap again). 256 MB is
  // above any single page buffer we make (a 600-dpi A4 colour page is 100 MB).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  // Keep up to this much free memory at the top of a heap instead of
  // returning it to the kernel after every page.
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

}  // namespace acervo
