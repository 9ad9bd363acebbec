#include "acervo/core/test_hooks.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace acervo {

void TestPauseAt(const char* point) {
  static std::atomic<bool> paused{false};
  const char* want = std::getenv("ACERVO_TEST_PAUSE_AT");
  if (want == nullptr || std::string_view(want) != point || paused.exchange(true)) return;
  std::fprintf(stderr, "acervo: test pause at %s (ACERVO_TEST_PAUSE_AT)\n", point);
  std::fflush(stderr);
  std::raise(SIGSTOP);
}

}  // namespace acervo
