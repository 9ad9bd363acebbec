// The watchdog behind the SANE call timeout: quiet while calls return in
// time, and a clean exit with the armed message when one does not.
#include "src/call_deadline.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

namespace acervo {
namespace {
using namespace std::chrono_literals;

TEST(CallDeadlineTest, CallsThatReturnInTimeNeverFire) {
  CallDeadline d(100ms, 4);
  for (int i = 0; i < 50; ++i) {
    CallDeadline::Scope s = d.Arm("call " + std::to_string(i) + " stuck");
    std::this_thread::sleep_for(2ms);
  }
  // Disarmed for longer than the limit: nothing may fire.
  std::this_thread::sleep_for(300ms);
  SUCCEED();
}

TEST(CallDeadlineTest, ZeroMeansNoLimit) {
  CallDeadline d(0ms, 4);
  CallDeadline::Scope s = d.Arm("never printed");
  std::this_thread::sleep_for(50ms);
  SUCCEED();
}

TEST(CallDeadlineDeathTest, AnArmedCallPastTheLimitEndsTheProcessWithItsMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        CallDeadline d(50ms, 7);
        {
          CallDeadline::Scope first = d.Arm("first call stuck");
          std::this_thread::sleep_for(10ms);
        }
        CallDeadline::Scope second = d.Arm("second call stuck");  // only the call under way counts
        std::this_thread::sleep_for(2s);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(7), "^second call stuck\n$");
}

}  // namespace
}  // namespace acervo
