// The CPU thread pool behind parallel_for: every index exactly once for any thread count, static
// chunks, exceptions from any thread rethrown on the caller, nested loops run inline.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "kernels/cpu/loops.h"
#include "nabla/threads.h"

namespace {

using nabla::cpu::parallel_for;

class ThreadPool : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = nabla::get_num_threads(); }
  void TearDown() override { nabla::set_num_threads(saved_); }
  int saved_ = 1;
};

TEST_F(ThreadPool, EveryIndexOnceForAnyThreadCount) {
  for (int threads : {1, 2, 3, 5}) {
    nabla::set_num_threads(threads);
    EXPECT_EQ(nabla::get_num_threads(), threads);
    for (int64_t n : {0, 1, 7, 1000, 100003}) {
      std::vector<std::atomic<int>> hits(n);
      parallel_for(n, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << threads << " " << n;
    }
  }
}

TEST_F(ThreadPool, ChunksAreStaticAndIndexed) {
  nabla::set_num_threads(3);
  std::vector<int64_t> begin_of(3, -1);
  parallel_for(30, 1, [&](int64_t b, int64_t) { begin_of[nabla::cpu::thread_index()] = b; });
  EXPECT_EQ(begin_of, (std::vector<int64_t>{0, 10, 20}));
}

TEST_F(ThreadPool, ExceptionsReachTheCaller) {
  nabla::set_num_threads(2);
  for (int64_t thrower : {int64_t{0}, int64_t{99}}) {  // on the caller, on a worker
    EXPECT_THROW(parallel_for(100, 1,
                              [&](int64_t b, int64_t e) {
                                if (b <= thrower && thrower < e) throw std::runtime_error("boom");
                              }),
                 std::runtime_error);
  }
  std::atomic<int64_t> sum{0};  // the pool still works afterwards
  parallel_for(100, 1, [&](int64_t b, int64_t e) { sum += e - b; });
  EXPECT_EQ(sum.load(), 100);
}

TEST_F(ThreadPool, NestedLoopsRunOnTheirThread) {
  nabla::set_num_threads(2);
  std::atomic<int64_t> sum{0};
  parallel_for(4, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      parallel_for(10, 1, [&](int64_t ib, int64_t ie) { sum += ie - ib; });
  });
  EXPECT_EQ(sum.load(), 40);
}

}  // namespace
