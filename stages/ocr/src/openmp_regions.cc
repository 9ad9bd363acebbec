#include "openmp_regions.h"

#include <dlfcn.h>

namespace acervo {
namespace {

using RegionBody = void (*)(void*);
using ParallelFn = void (*)(RegionBody, void*, unsigned, unsigned);
using ParallelSectionsFn = void (*)(RegionBody, void*, unsigned, unsigned, unsigned);
using SectionsNextFn = unsigned (*)();
using SectionsEndFn = void (*)();
using ThreadLimitFn = int (*)();

// libgomp's own entry point of that name: the next definition after ours.
template <typename Fn>
Fn Libgomp(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// The sections of the `parallel sections` region running directly on this
// thread (null: none; a nested region saves and restores the outer one's).
struct Sections {
  unsigned handed_out = 0;
  unsigned count = 0;
};
thread_local Sections* open_sections = nullptr;
thread_local int through_libgomp_scopes = 0;
thread_local uint64_t direct_regions = 0;

bool ThreadLimitIsOne() {
  static const bool one = [] {
    // libgomp is loaded whenever a region can start (whoever opens one is
    // linked against it); without it there is nothing to run directly.
    const auto limit = reinterpret_cast<ThreadLimitFn>(dlsym(RTLD_DEFAULT, "omp_get_thread_limit"));
    return limit != nullptr && limit() == 1;
  }();
  return one;
}

// Runs `fn(data)` on this thread with `sections` as its open sections.
void RunDirectly(RegionBody fn, void* data, Sections* sections) {
  struct Restore {
    Sections* outer;
    ~Restore() { open_sections = outer; }
  } restore{open_sections};
  open_sections = sections;
  ++direct_regions;
  fn(data);
}

}  // namespace

bool OneThreadOpenMp::Active() { return through_libgomp_scopes == 0 && ThreadLimitIsOne(); }
uint64_t OneThreadOpenMp::RegionsOnThisThread() { return direct_regions; }

OpenMpThroughLibgomp::OpenMpThroughLibgomp() { ++through_libgomp_scopes; }
OpenMpThroughLibgomp::~OpenMpThroughLibgomp() { --through_libgomp_scopes; }

}  // namespace acervo

// See openmp_regions.h. Signatures as libgomp's (GOMP_4.0 and GOMP_1.0).
extern "C" void GOMP_parallel(acervo::RegionBody fn, void* data, unsigned num_threads, unsigned flags) {
  static const auto libgomp = acervo::Libgomp<acervo::ParallelFn>("GOMP_parallel");
  if (acervo::OneThreadOpenMp::Active() || libgomp == nullptr) {
    acervo::RunDirectly(fn, data, nullptr);
    return;
  }
  libgomp(fn, data, num_threads, flags);
}

extern "C" void GOMP_parallel_sections(acervo::RegionBody fn, void* data, unsigned num_threads, unsigned count,
                                       unsigned flags) {
  static const auto libgomp = acervo::Libgomp<acervo::ParallelSectionsFn>("GOMP_parallel_sections");
  if (acervo::OneThreadOpenMp::Active() || libgomp == nullptr) {
    acervo::Sections sections;
    sections.count = count;
    acervo::RunDirectly(fn, data, &sections);
    return;
  }
  libgomp(fn, data, num_threads, count, flags);
}

// The next section of the region running directly (1..count, then 0: done);
// inside libgomp's own regions, libgomp's answer.
extern "C" unsigned GOMP_sections_next() {
  if (acervo::Sections* s = acervo::open_sections) return s->handed_out < s->count ? ++s->handed_out : 0;
  static const auto libgomp = acervo::Libgomp<acervo::SectionsNextFn>("GOMP_sections_next");
  return libgomp != nullptr ? libgomp() : 0;
}

extern "C" void GOMP_sections_end_nowait() {
  if (acervo::open_sections != nullptr) return;
  static const auto libgomp = acervo::Libgomp<acervo::SectionsEndFn>("GOMP_sections_end_nowait");
  if (libgomp != nullptr) libgomp();
}
