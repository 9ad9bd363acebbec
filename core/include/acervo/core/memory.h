// Process-wide allocator settings for programs that push full-page images
// through the stages (the `acervo` binary, the image benchmarks).
#ifndef ACERVO_CORE_MEMORY_H_
#define ACERVO_CORE_MEMORY_H_

#include <cstdint>

namespace acervo {

// Makes glibc's malloc serve page-sized buffers (a 300-dpi A4 colour page is
// 26 MB) from its heaps and keep freed ones for the next page, instead of
// mapping fresh zeroed memory for every temporary and giving it back at once.
// Measured on the colour-page chain: 127 -> 95 ms CPU per page, the
// difference being page faults (bench/preprocess_bench, BM_ImageChain).
// Memory stays bounded by the pages in flight (the scheduler's limit): freed
// buffers are reused, not accumulated.
// Call once, early in main(), before worker threads start. No effect and no
// failure with an allocator other than glibc's.
void TuneAllocatorForPageImages();

// Gives the memory malloc holds free back to the kernel (glibc: malloc_trim,
// which also releases the free pages inside its heaps). Called by a worker
// before each page: the buffers a page freed are kept while it runs (the
// speed TuneAllocatorForPageImages buys), but pages of other sizes would
// otherwise find them too fragmented to reuse and grow the process page
// after page (the whole corpus at --jobs 1 peaked ~40 MB higher without it,
// docs/benchmarks.md). Costs the next page its first-touch page faults (no
// measurable CPU). Thread-safe; no effect with another allocator.
void ReleaseFreeMemory();

// Bytes of memory this process could still use now: the kernel's
// MemAvailable, or less when the process's cgroup (v2) limit leaves less.
// A large value when neither can be read.
uint64_t AvailableMemoryBytes();

}  // namespace acervo

#endif  // ACERVO_CORE_MEMORY_H_
