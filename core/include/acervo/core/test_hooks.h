// Test-only crash points. When the environment variable ACERVO_TEST_PAUSE_AT
// names `point`, the process prints a line on stderr and stops itself
// (SIGSTOP) the first time it reaches that point, so an end-to-end test can
// SIGKILL it at exactly that moment (tests/batch_kill_test.cc). Without the
// variable this is one getenv() per call and does nothing.
//
// Points: "pdf-write" (a PDF's temporary file is being written, not yet
// renamed), "pdf-publish" (a document's PDF is complete and verified, the
// next step renames it into place), "store-commit" (inside the store's write transaction, after
// the rows are written and before COMMIT) and "left-half-done" (the left
// half of a split two-page spread is checkpointed and journalled, its right
// half not yet).
#ifndef ACERVO_CORE_TEST_HOOKS_H_
#define ACERVO_CORE_TEST_HOOKS_H_

namespace acervo {

void TestPauseAt(const char* point);

}  // namespace acervo

#endif  // ACERVO_CORE_TEST_HOOKS_H_
