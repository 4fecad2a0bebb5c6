// The dispatch point: a CUDA entry point runs with its device current, and the previous device is
// current again afterwards, whatever the call does (a fake device switch stands in for CUDA).
#include <gtest/gtest.h>

#include <vector>

#include "backend/dispatch.h"

using namespace nabla;

namespace {

int g_current = 0;            // the fake's current device
std::vector<int> g_switches;  // every device the dispatch made current, in order
int g_seen_by_call = -1;      // the device current while the entry point ran

int fake_exchange(int index) {
  const int previous = g_current;
  g_current = index;
  g_switches.push_back(index);
  return previous;
}

int doubled_on_cuda(int x) {
  g_seen_by_call = g_current;
  return 2 * x;
}
int failing_on_cuda(int) {
  g_seen_by_call = g_current;
  NABLA_FAIL("the kernel failed");
}

NABLA_DECLARE_STUB(doubled_stub, int(int x));
NABLA_DECLARE_STUB(failing_stub, int(int x));

// Installs the fake for one test and puts the backend's own switch back after it.
class Dispatch : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = backend::exchange_cuda_device;
    backend::exchange_cuda_device = fake_exchange;
    g_current = 0, g_seen_by_call = -1;
    g_switches.clear();
    doubled_stub.cuda = doubled_on_cuda;
    failing_stub.cuda = failing_on_cuda;
  }
  void TearDown() override { backend::exchange_cuda_device = saved_; }

 private:
  int (*saved_)(int) = nullptr;
};

}  // namespace

TEST_F(Dispatch, ACudaCallRunsOnItsDeviceAndRestoresTheCurrentOne) {
  EXPECT_EQ(doubled_stub(Device::cuda(1))(21), 42);
  EXPECT_EQ(g_seen_by_call, 1);
  EXPECT_EQ(g_current, 0);
  EXPECT_EQ(g_switches, (std::vector<int>{1, 0}));
}

TEST_F(Dispatch, ACallOnTheCurrentDeviceSwitchesNothingBack) {
  EXPECT_EQ(doubled_stub(Device::cuda(0))(1), 2);
  EXPECT_EQ(g_seen_by_call, 0);
  EXPECT_EQ(g_switches, (std::vector<int>{0}));  // asked once, nothing to restore
}

TEST_F(Dispatch, TheDeviceIsRestoredWhenTheCallThrows) {
  EXPECT_THROW(failing_stub(Device::cuda(2))(0), Error);
  EXPECT_EQ(g_seen_by_call, 2);
  EXPECT_EQ(g_current, 0);
}

TEST_F(Dispatch, CpuCallsLeaveTheCudaDeviceAlone) {
  doubled_stub.cpu = [](int x) { return x + 1; };
  EXPECT_EQ(doubled_stub(Device::cpu())(1), 2);
  EXPECT_TRUE(g_switches.empty());
}

TEST_F(Dispatch, AnEmptySlotIsAnErrorNamingTheEntryPoint) {
  doubled_stub.cpu = nullptr;
  try {
    doubled_stub(Device::cpu())(1);
    FAIL() << "expected nabla::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("doubled_stub"), std::string::npos) << e.what();
  }
}
