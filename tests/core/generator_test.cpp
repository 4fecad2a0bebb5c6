// The Philox generator: reproducibility from (seed, offset), saved states, the counter-based
// layout of random tensors, and the moments of the uniform and normal streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "support/gradcheck.h"

using namespace nabla;

namespace {
struct Moments {
  double mean = 0, var = 0;
};
Moments moments(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  double s = 0, s2 = 0;
  for (float x : v) s += x, s2 += static_cast<double>(x) * x;
  const double n = static_cast<double>(v.size());
  return {s / n, s2 / n - (s / n) * (s / n)};
}
}  // namespace

TEST(Generator, SameSeedSameNumbers) {
  Generator a(42), b(42), c(43);
  const std::vector<float> va = Tensor::rand({100}, &a).to_vector<float>();
  EXPECT_EQ(va, Tensor::rand({100}, &b).to_vector<float>());
  EXPECT_NE(va, Tensor::rand({100}, &c).to_vector<float>());
  EXPECT_EQ(a.uniform(), b.uniform());
  EXPECT_EQ(a.random_below(1000), b.random_below(1000));
  EXPECT_EQ(a.state(), b.state());
}

TEST(Generator, DrawsAdvanceTheOffset) {
  Generator g(7);
  EXPECT_EQ(g.offset(), 0u);
  const std::vector<float> first = Tensor::rand({8}, &g).to_vector<float>();
  EXPECT_EQ(g.offset(), 2u);  // two blocks of four
  const std::vector<float> second = Tensor::rand({8}, &g).to_vector<float>();
  EXPECT_NE(first, second);
  EXPECT_EQ(g.offset(), 4u);
  Tensor::randn({5}, &g);
  EXPECT_EQ(g.offset(), 6u);  // 5 numbers take two blocks
  g.uniform();
  g.random_below(3);
  EXPECT_EQ(g.offset(), 8u);  // one block per host draw
}

TEST(Generator, StateSaveRestoreReproducesTheFollowingDraws) {
  Generator g(123);
  Tensor::rand({10}, &g);
  const Generator::State saved = g.state();
  const std::vector<float> u = Tensor::rand({6}, &g).to_vector<float>();
  const std::vector<float> n = Tensor::randn({3, 3}, &g).to_vector<float>();
  const double d = g.uniform();
  const uint64_t k = g.random_below(1u << 20);

  Generator other(999);
  other.set_state(saved);
  EXPECT_EQ(Tensor::rand({6}, &other).to_vector<float>(), u);
  EXPECT_EQ(Tensor::randn({3, 3}, &other).to_vector<float>(), n);
  EXPECT_EQ(other.uniform(), d);
  EXPECT_EQ(other.random_below(1u << 20), k);
  EXPECT_EQ(other.state(), g.state());
}

TEST(Generator, CounterBasedPrefixes) {
  // Element i depends only on (seed, offset, i): a shorter draw is a prefix of a longer one.
  Generator a(5), b(5);
  const std::vector<float> five = Tensor::rand({5}, &a).to_vector<float>();
  const std::vector<float> eight = Tensor::rand({8}, &b).to_vector<float>();
  EXPECT_EQ(five, std::vector<float>(eight.begin(), eight.begin() + 5));
  Generator c(5), d(5);
  const std::vector<float> n5 = Tensor::randn({5}, &c).to_vector<float>();
  const std::vector<float> n8 = Tensor::randn({2, 4}, &d).to_vector<float>();
  EXPECT_EQ(n5, std::vector<float>(n8.begin(), n8.begin() + 5));
}

TEST(Generator, ManualSeedResetsTheDefaultGenerator) {
  manual_seed(2024);
  EXPECT_EQ(default_generator().state(), (Generator::State{2024, 0}));
  const std::vector<float> first = Tensor::rand({4}).to_vector<float>();
  const std::vector<float> later = Tensor::randn({4}).to_vector<float>();
  manual_seed(2024);
  EXPECT_EQ(Tensor::rand({4}).to_vector<float>(), first);
  EXPECT_EQ(Tensor::randn({4}).to_vector<float>(), later);
  Generator explicit_gen(2024);
  EXPECT_EQ(Tensor::rand({4}, &explicit_gen).to_vector<float>(), first);
}

TEST(Generator, UniformMoments) {
  // 1e6 draws from U[0,1): mean 1/2 and variance 1/12. The standard error of the mean is
  // sqrt(1/12 / 1e6) = 2.9e-4 and of the variance sqrt((1/80 - 1/144) / 1e6) = 7.5e-5;
  // the tolerances are about 5 standard errors.
  Generator g(11);
  const Tensor u = Tensor::rand({1000, 1000}, &g);
  const Moments m = moments(u);
  EXPECT_NEAR(m.mean, 0.5, 1.5e-3);
  EXPECT_NEAR(m.var, 1.0 / 12, 4e-4);
  const std::vector<float> v = u.to_vector<float>();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0f);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0f);
}

TEST(Generator, NormalMoments) {
  // 1e6 draws from N(0,1): the standard error of the mean is 1e-3 and of the variance
  // sqrt(2 / 1e6) = 1.4e-3; the tolerances are about 5 standard errors.
  Generator g(12);
  const Moments m = moments(Tensor::randn({1000, 1000}, &g));
  EXPECT_NEAR(m.mean, 0.0, 5e-3);
  EXPECT_NEAR(m.var, 1.0, 7e-3);
}

TEST(Generator, HostDraws) {
  Generator g(3);
  // uniform(): 1e4 draws, standard error of the mean 2.9e-3, tolerance about 5 of them.
  double s = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = g.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    s += u;
  }
  EXPECT_NEAR(s / 10000, 0.5, 1.5e-2);
  // random_below(n) stays in [0, n) and hits every value.
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t k = g.random_below(7);
    ASSERT_LT(k, 7u);
    ++counts[k];
  }
  for (int c : counts) EXPECT_GT(c, 800);  // expected 1000, standard deviation 29
  EXPECT_EQ(g.random_below(1), 0u);
  nabla::testing::expect_error([&] { g.random_below(0); }, "must be positive");
}
