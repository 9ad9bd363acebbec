// The page scheduler: a fixed pool of worker threads, a bound on pages in
// flight, and results handed back in order.
//
// Each worker first calls the factory once to build its own processing
// function (this is where a worker creates its stage chain and so its own
// Tesseract engine, initialised once and reused for every page it takes).
// Workers then take job indices in increasing order. A job is one master
// page and yields the output pages made from it, in order: usually one, two
// for a two-page spread split by `[image] split`. The calling thread
// receives every job's pages through `deliver`, strictly in job index
// order, which lets the caller stream pages into a document's PDF without
// holding the lot in memory.
//
// Memory bound: at most `max_in_flight` jobs are taken but not yet delivered
// (so at most 2 x max_in_flight output pages, but the two halves of a
// spread together are no larger than the master page they came from).
// Because jobs are taken in order, the next job to deliver is always among
// them, so the bound can never deadlock.
//
// Failure: a job's own failure is just its Result (delivered like any other).
// A factory failure (say, a missing language model) stops the run: no further
// jobs are taken, and RunOrdered returns that Status after the workers end.
// Setting `cancel` stops taking new jobs; jobs already taken still complete
// and are delivered.
#ifndef ACERVO_PIPELINE_SCHEDULER_H_
#define ACERVO_PIPELINE_SCHEDULER_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

#include "acervo/core/page.h"
#include "acervo/core/status.h"

namespace acervo {

// The output pages of one job (one master page), in order.
using JobPages = std::vector<Page>;
using PageJobFn = std::function<Result<JobPages>(size_t index)>;
using WorkerFactory = std::function<Result<PageJobFn>(int worker)>;
using DeliverFn = std::function<void(size_t index, Result<JobPages> result)>;

struct ScheduleOptions {
  int workers = 1;
  size_t max_in_flight = 8;
  const std::atomic<bool>* cancel = nullptr;
};

// Returns OK when every job (or, after cancel, every taken job) was
// delivered; the factory's Status when a worker could not be built;
// Cancelled when stopped before all jobs were taken.
Status RunOrdered(size_t count, const ScheduleOptions& options, const WorkerFactory& factory,
                  const DeliverFn& deliver);

}  // namespace acervo

#endif  // ACERVO_PIPELINE_SCHEDULER_H_
