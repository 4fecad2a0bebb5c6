// nn::Sequential: the ways to build one, indexing, an MLP forward/backward against PyTorch,
// gradients through the module API, and nn::summary.
#include <gtest/gtest.h>

#include "support/gradcheck.h"
#include "support/layer_fixtures.h"
#include "support/module_gradcheck.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;
using nabla::testing::LayerFixtures;

namespace {
nn::Sequential mnist_mlp() {
  return nn::Sequential{nn::Flatten(), nn::Linear(784, 100), nn::ReLU(), nn::Linear(100, 10)};
}
}  // namespace

TEST(Sequential, BuiltFromValuesPointersVectorsAndPushBack) {
  nn::Sequential a = mnist_mlp();
  EXPECT_EQ(a.size(), 4u);
  EXPECT_EQ(a[1].type_name(), "Linear");
  EXPECT_EQ(a.get<nn::Linear>(3).out_features(), 10);
  std::vector<std::string> names;
  for (const auto& [name, _] : a.named_children()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0", "1", "2", "3"}));
  expect_error([&] { a.get<nn::Linear>(0); }, "child 0 is a Flatten");
  expect_error([&] { a[4]; }, "index 4 out of range (4 modules)");

  auto shared = std::make_shared<nn::Linear>(2, 2);
  nn::Sequential b(std::vector<std::shared_ptr<nn::Module>>{shared, std::make_shared<nn::ReLU>()});
  b.push_back(nn::Tanh());
  b.push_back(shared);
  EXPECT_EQ(b.size(), 4u);
  EXPECT_EQ(&b[0], shared.get());
  EXPECT_EQ(b[2].type_name(), "Tanh");

  nn::Sequential copy = a;  // a copy shares its children, as the handles it holds
  EXPECT_EQ(copy.size(), 4u);
  EXPECT_EQ(&copy[1], &a[1]);
  nn::Sequential nested{nn::Sequential{nn::ReLU()}, nn::ReLU()};  // two, the first a Sequential
  EXPECT_EQ(nested[0].type_name(), "Sequential");
}

TEST(Sequential, LinearByValueSharesParametersWithTheOriginal) {
  nn::Linear lin(3, 2);
  nn::Sequential model{lin};
  EXPECT_TRUE(model.get<nn::Linear>(0).weight().is_same(lin.weight()));
}

// Flatten, Linear, ReLU, Linear with PyTorch's values for the same weights and input.
TEST(Sequential, MlpForwardBackwardMatchesPyTorch) {
  const auto& fx = LayerFixtures::get();
  nn::Sequential model{nn::Flatten(), nn::Linear(12, 6), nn::ReLU(), nn::Linear(6, 4)};
  model.load_state_dict({{"1.weight", fx["mlp.1.weight"]},
                         {"1.bias", fx["mlp.1.bias"]},
                         {"3.weight", fx["mlp.3.weight"]},
                         {"3.bias", fx["mlp.3.bias"]}});
  const Tensor y = model(fx["mlp.x"]);  // (3, 3, 2, 2) -> (3, 4)
  EXPECT_EQ(y.shape(), Shape({3, 4}));
  // Sums of at most 12 float32 products of O(1) values: rounding stays below 1e-6.
  expect_close(y, fx["mlp.y"].to_vector<float>(), 1e-5, 1e-6);
  y.sum().backward();
  expect_close(model.get<nn::Linear>(1).weight().grad(), fx["mlp.grad.1.weight"].to_vector<float>(),
               1e-5, 1e-6);
  expect_close(model.get<nn::Linear>(3).bias().grad(), fx["mlp.grad.3.bias"].to_vector<float>(),
               1e-5, 1e-6);
}

TEST(Sequential, MlpGradientsThroughTheModuleApi) {
  Generator gen(7);
  nn::Sequential model{nn::Flatten(), nn::Linear(6, 5, true, &gen), nn::Tanh(),
                       nn::Linear(5, 3, true, &gen)};
  nabla::testing::expect_module_gradients_match(model,
                                                nabla::testing::uniform({4, 2, 3}, -1, 1, 3));
}

TEST(Summary, TableOfAnMlp) {
  nn::Sequential model = mnist_mlp();
  const std::string s = nn::summary(model, {2, 1, 28, 28});
  for (const char* needle : {"Input shape: [2, 1, 28, 28]", "0 (Flatten)", "[2, 784]", "1 (Linear)",
                             "[2, 100]", "78,500", "3 (Linear)", "[2, 10]", "1,010",
                             "Total params: 79,510", "Trainable params: 79,510"})
    EXPECT_NE(s.find(needle), std::string::npos) << needle << " not in:\n" << s;
  EXPECT_TRUE(model.is_training());  // modes restored
  EXPECT_TRUE(model[1].is_training());
  EXPECT_FALSE(model.get<nn::Linear>(1).weight().grad().defined());
}

TEST(Summary, OneRowForOtherModulesAndModesRestored) {
  nn::Sequential inner{nn::Linear(3, 2)};
  nn::Sequential model{inner, nn::ReLU()};
  model[1].eval();  // a mixed state must come back as it was
  const std::string s = nn::summary(inner[0], {5, 3});
  EXPECT_NE(s.find("Linear"), std::string::npos) << s;
  EXPECT_NE(s.find("[5, 2]"), std::string::npos) << s;
  nn::summary(model, {1, 3});
  EXPECT_TRUE(model[0].is_training());
  EXPECT_FALSE(model[1].is_training());
  expect_error([&] { nn::summary(model, {1, 4}); }, "must end with 3 features");
  EXPECT_TRUE(model[0].is_training());
}
