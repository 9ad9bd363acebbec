#include "acervo/core/memory.h"

// Any C library header defines __GLIBC__ on glibc; without one included
// first the test below was always false and mallopt never ran.
#include <cstdio>
#include <cstdlib>

#include <algorithm>

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

void ReleaseFreeMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

uint64_t AvailableMemoryBytes() {
  uint64_t available = UINT64_MAX;
  if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kb = 0;
    while (std::fgets(line, sizeof(line), f) != nullptr) {
      if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
        available = static_cast<uint64_t>(kb) * 1024;
        break;
      }
    }
    std::fclose(f);
  }
  // cgroup v2: the limit of this process's group less what it already uses
  // (a container's memory is its cgroup's, whatever the host has free).
  unsigned long long max = 0, current = 0;
  std::FILE* m = std::fopen("/sys/fs/cgroup/memory.max", "r");
  std::FILE* c = std::fopen("/sys/fs/cgroup/memory.current", "r");
  if (m != nullptr && c != nullptr && std::fscanf(m, "%llu", &max) == 1 && std::fscanf(c, "%llu", &current) == 1 &&
      max > current) {
    available = std::min<uint64_t>(available, max - current);
  }
  if (m != nullptr) std::fclose(m);
  if (c != nullptr) std::fclose(c);
  return available;
}

}  // namespace acervo
