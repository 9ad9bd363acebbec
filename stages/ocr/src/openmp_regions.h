#ifndef ACERVO_STAGES_OCR_SRC_OPENMP_REGIONS_H_
#define ACERVO_STAGES_OCR_SRC_OPENMP_REGIONS_H_

#include <cstdint>

namespace acervo {

// Tesseract's OpenMP regions, run directly on the calling thread when the
// process's OpenMP thread limit is 1 (OMP_THREAD_LIMIT=1, which the acervo
// CLI guarantees: ocr.h).
//
// Why: Debian's Tesseract is built with OpenMP, and its LSTM opens a
// `parallel sections` region for the four gates of every LSTM time step
// (LSTM::Forward). With the thread limit at 1, libgomp still builds a team
// of one thread for each, and ends each with a barrier whose last step is
// a futex wake-up system call, made even when no thread waits: ~480,000
// system calls for one small page (strace -c on bare `tesseract`), and
// libgomp plus the kernel's share of them were 18% of bare Tesseract's
// CPU on this machine (perf). Running each region's body directly is what
// a one-thread team computes, without the team: the same sections, in the
// same order, on the same thread, so the same text to the bit (checked on
// the bench pages, docs/benchmarks.md).
//
// How: this library defines GOMP_parallel and GOMP_parallel_sections (the
// entry points GCC's OpenMP lowering calls, the only OpenMP entry points
// besides the two below that libtesseract imports), which take precedence
// over libgomp's for every shared library of the process (ELF symbol
// interposition, as in line_images.h). When the thread limit is 1 and no
// OpenMpThroughLibgomp scope is open on the thread, the region's body runs
// directly; a `parallel sections` body asks GOMP_sections_next for its
// sections, answered here in order from 1 to the region's count, and ends
// with GOMP_sections_end_nowait, answered here too. Otherwise every call
// goes to libgomp's own entry point unchanged (with a higher thread limit
// Tesseract's own threads run as before). libtesseract is the only library
// of the process that uses OpenMP (nm -D on every library acervo loads).
class OneThreadOpenMp {
 public:
  // True when regions on this thread run directly: the thread limit is 1
  // and no OpenMpThroughLibgomp scope is open here. The first call reads
  // the thread limit (libgomp's omp_get_thread_limit) once for the process.
  static bool Active();

  // How many regions ran directly on the calling thread so far (a test
  // checks that the interposition is in effect: it silently is not when the
  // symbols are not exported from the executable).
  static uint64_t RegionsOnThisThread();
};

// While one lives on a thread, that thread's OpenMP regions go to libgomp
// as they would without this library (tests compare the two).
class OpenMpThroughLibgomp {
 public:
  OpenMpThroughLibgomp();
  ~OpenMpThroughLibgomp();
  OpenMpThroughLibgomp(const OpenMpThroughLibgomp&) = delete;
  OpenMpThroughLibgomp& operator=(const OpenMpThroughLibgomp&) = delete;
};

}  // namespace acervo

#endif  // ACERVO_STAGES_OCR_SRC_OPENMP_REGIONS_H_
