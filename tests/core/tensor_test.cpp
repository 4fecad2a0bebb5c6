#include <gtest/gtest.h>

#include "support/gradcheck.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;

TEST(Tensor, CreationAndShape) {
  Tensor z = Tensor::zeros({2, 3});
  EXPECT_EQ(z.shape(), Shape({2, 3}));
  EXPECT_EQ(z.numel(), 6);
  expect_close(z, {0, 0, 0, 0, 0, 0});
  expect_close(Tensor::ones({2}), {1, 1});
  expect_close(Tensor::full({3}, 2.5), {2.5f, 2.5f, 2.5f});
  expect_close(Tensor::arange(4), {0, 1, 2, 3});
  expect_close(Tensor::arange(1.0, 2.0, 0.25), {1, 1.25f, 1.5f, 1.75f});
  EXPECT_EQ(Tensor::arange(3, {.dtype = DType::Int64}).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 2}));
  EXPECT_FLOAT_EQ(Tensor::scalar(3.0f).item<float>(), 3.0f);
}

TEST(Tensor, FromVectorChecksSize) {
  expect_error([] { Tensor::from_vector(std::vector<float>{1, 2, 3}, {2, 2}); }, "do not fill");
}

TEST(Tensor, ViewsShareStorage) {
  Tensor a = Tensor::arange(6).reshape({2, 3});
  Tensor t = a.t();
  EXPECT_EQ(t.shape(), Shape({3, 2}));
  EXPECT_FALSE(t.is_contiguous());
  expect_close(t.contiguous(), {0, 3, 1, 4, 2, 5});
  expect_close(a.slice(1, 1, 3), {1, 2, 4, 5});
  expect_close(a.select(0, 1), {3, 4, 5});
  expect_close(a.narrow(1, 0, 1).squeeze(1), {0, 3});
  expect_close(a.permute({1, 0}).reshape({6}), {0, 3, 1, 4, 2, 5});
  expect_close(Tensor::arange(2).unsqueeze(1).expand({2, 3}), {0, 0, 0, 1, 1, 1});
  Tensor v = a.view({3, 2});
  v.fill_(7.0);
  expect_close(a, {7, 7, 7, 7, 7, 7});
  expect_error([&] { a.t().view({6}); }, "not contiguous");
  expect_error([&] { a.reshape({4, -1}); }, "cannot reshape");
}

TEST(Tensor, InPlaceOps) {
  Tensor a = Tensor::ones({2, 2});
  a.add_(Tensor::from_vector(std::vector<float>{1, 2}, {2}), 2.0f);
  expect_close(a, {3, 5, 3, 5});
  a.mul_(0.5f);
  expect_close(a, {1.5f, 2.5f, 1.5f, 2.5f});
  a.slice(0, 0, 1).copy_(Tensor::zeros({1, 2}));
  expect_close(a, {0, 0, 1.5f, 2.5f});
}

TEST(Tensor, DTypeConversion) {
  Tensor i = Tensor::from_vector(std::vector<int64_t>{1, -2, 3}, {3});
  expect_close(i.to(DType::Float32), {1, -2, 3});
  EXPECT_EQ(Tensor::from_vector(std::vector<float>{1.7f, -2.2f}, {2})
                .to(DType::Int64)
                .to_vector<int64_t>(),
            (std::vector<int64_t>{1, -2}));
  expect_error([&] { i.to_vector<float>(); }, "holds int64");
  expect_error([&] { exp(i); }, "expected a float32 tensor");
}

TEST(Tensor, PrintsLikePyTorch) {
  const std::string s = Tensor::arange(3).str();
  EXPECT_NE(s.find("[0.0000, 1.0000, 2.0000]"), std::string::npos) << s;
  EXPECT_NE(s.find("shape=[3]"), std::string::npos) << s;
}

TEST(Tensor, Cat) {
  Tensor a = Tensor::arange(4).reshape({2, 2});
  Tensor b = Tensor::full({2, 1}, 9);
  expect_close(cat({a, b}, 1), {0, 1, 9, 2, 3, 9});
  expect_close(cat({a, a}, 0), {0, 1, 2, 3, 0, 1, 2, 3});
  expect_error([&] { cat({a, Tensor::zeros({3, 3})}, 1); }, "differ outside dimension");
}

TEST(Device, ParseAndCudaAvailability) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda:1"), Device::cuda(1));
  expect_error([] { Device::parse("tpu"); }, "unknown device");
  if (!cuda::is_available()) {
    expect_error([] { Tensor::zeros({2}, {.device = Device::cuda()}); }, "cuda");
    EXPECT_EQ(Device::parse("auto"), Device::cpu());
  }
}
