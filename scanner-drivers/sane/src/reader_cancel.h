// Deferred cancellation for libsane's reader threads.
//
// Why: sanei_thread, which the `test` backend and 18 other Debian backends
// use to run a page's reader beside the caller, makes each reader thread
// *asynchronously* cancellable (pthread_setcanceltype(ASYNCHRONOUS)) and then
// lets it call malloc, free and stdio. sane_cancel ends the reader with
// pthread_cancel, which can stop it in the middle of malloc with the
// allocator's arena lock held; every later allocation in that arena then
// waits for ever, and so does the scan (session 9: 2 of 18 runs of
// sane_jam_resume_test three at a time hung in sane_cancel right after the
// injected jam). POSIX allows only async-cancel-safe functions under
// asynchronous cancellation, and malloc is not one.
//
// What: the process linking the SANE driver defines pthread_setcanceltype
// itself and exports it (scanner-drivers/sane/CMakeLists.txt), so the
// backends libsane loads with dlopen bind to it. A request for asynchronous
// cancellation is made a deferred one: the reader still ends on
// pthread_cancel, at its next cancellation point (the write to its pipe, a
// read, a sleep), where it holds no lock. Every other request goes to libc
// unchanged. Nothing else in Acervo's process asks for asynchronous
// cancellation (checked with `nm -D` over the linked libraries), and the
// call watchdog (call_deadline.h) stays as the backstop for a backend stuck
// for any other reason.
#ifndef ACERVO_SCANNER_SANE_READER_CANCEL_H_
#define ACERVO_SCANNER_SANE_READER_CANCEL_H_

#include <cstdint>

namespace acervo {

// How many requests for asynchronous cancellation this process has made
// deferred (every sanei_thread reader started counts one): a test's way to
// see that dlopen'd backends reach the definition.
uint64_t AsyncCancelRequestsMadeDeferred();

}  // namespace acervo

#endif  // ACERVO_SCANNER_SANE_READER_CANCEL_H_
