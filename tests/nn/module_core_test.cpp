// nn::Module: names, traversal, modes, device moves, gradients, state dicts, printing.
#include <gtest/gtest.h>

#include "support/gradcheck.h"
#include "support/layer_fixtures.h"

using namespace nabla;
using nabla::testing::expect_close;
using nabla::testing::expect_error;

namespace {

// A model written as users write one: children registered by name, plus a buffer.
class Net : public nn::Module {
 public:
  explicit Net(Generator* gen = nullptr) {
    features = register_module(
        "features", std::make_shared<nn::Sequential>(nn::Linear(4, 8, true, gen), nn::ReLU(),
                                                     nn::Linear(8, 6, true, gen)));
    head = register_module("head", std::make_shared<nn::Linear>(6, 2, true, gen));
    scale = register_buffer("scale", Tensor::full({2}, 0.5));
  }
  Tensor forward(const Tensor& x) override { return (*head)((*features)(x)) * scale; }
  std::string type_name() const override { return "Net"; }

  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<nn::Linear> head;
  Tensor scale;
};

std::vector<std::string> names_of(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, _] : named) out.push_back(name);
  return out;
}

}  // namespace

TEST(Module, HierarchicalNamesInRegistrationOrder) {
  Net net;
  EXPECT_EQ(names_of(net.named_parameters()),
            (std::vector<std::string>{"features.0.weight", "features.0.bias", "features.2.weight",
                                      "features.2.bias", "head.weight", "head.bias"}));
  EXPECT_EQ(names_of(net.named_buffers()), std::vector<std::string>{"scale"});
  EXPECT_EQ(net.num_parameters(), 4 * 8 + 8 + 8 * 6 + 6 + 6 * 2 + 2);
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
  EXPECT_TRUE(net.parameters()[4].is_same(net.head->weight()));  // handles, not copies

  std::vector<std::string> modules;
  for (const auto& [name, m] : net.named_modules()) modules.push_back(name + ":" + m->type_name());
  EXPECT_EQ(modules,
            (std::vector<std::string>{":Net", "features:Sequential", "features.0:Linear",
                                      "features.1:ReLU", "features.2:Linear", "head:Linear"}));
}

TEST(Module, SharedModulesAreListedOnce) {
  auto shared = std::make_shared<nn::Linear>(3, 3);
  nn::Sequential model{shared, nn::Tanh(), shared};
  EXPECT_EQ(names_of(model.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
  EXPECT_EQ(model.num_parameters(), 12);
  EXPECT_EQ(model.state_dict().size(), 4u);  // the state dict names every path, as PyTorch's
}

TEST(Module, RegistrationRejectsBadNames) {
  struct Bad : nn::Module {
    explicit Bad(const std::string& second) {
      register_parameter("w", Tensor::zeros({1}));
      register_buffer(second, Tensor::zeros({1}));
    }
    Tensor forward(const Tensor& x) override { return x; }
    std::string type_name() const override { return "Bad"; }
  };
  expect_error([] { Bad("w"); }, "Bad: the name 'w' is already registered");
  expect_error([] { Bad("a.b"); }, "invalid name 'a.b'");
  expect_error([] { Bad(""); }, "invalid name ''");
}

TEST(Module, TrainAndEvalAreRecursive) {
  Net net;
  EXPECT_TRUE(net.is_training());
  net.eval();
  for (const auto& [name, m] : net.named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net.train();
  for (const auto& [name, m] : net.named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(Module, ZeroGradZeroesInPlace) {
  Net net;
  net(nabla::testing::uniform({3, 4}, -1, 1)).sum().backward();
  const Tensor g = net.head->weight().grad();
  ASSERT_TRUE(g.defined());
  EXPECT_GT(g.abs().sum().item<float>(), 0.0f);
  net.zero_grad();
  EXPECT_TRUE(net.head->weight().grad().is_same(g));  // the same gradient tensor, now zero
  expect_close(g, std::vector<float>(12, 0.0f));
  Net fresh;
  fresh.zero_grad();  // no gradients yet: nothing to do
  EXPECT_FALSE(fresh.head->weight().grad().defined());
}

TEST(Module, StateDictRoundTripGivesIdenticalOutputs) {
  Generator g1(1), g2(2);
  Net a(&g1), b(&g2);
  const Tensor x = nabla::testing::uniform({5, 4}, -2, 2);
  a.scale.fill_(1.5);
  ASSERT_FALSE(allclose(a(x), b(x)));

  const nn::StateDict state = a.state_dict();
  EXPECT_EQ(state.size(), 7u);
  EXPECT_TRUE(state.count("scale"));
  const Tensor b_weight = b.head->weight();
  b.load_state_dict(state);
  EXPECT_EQ(a(x).to_vector<float>(), b(x).to_vector<float>());
  EXPECT_TRUE(b.head->weight().is_same(b_weight));  // values copied into the existing tensors
  EXPECT_TRUE(b.head->weight().requires_grad());

  a.head->weight().detach().fill_(0.0);  // the copy is independent of the source
  EXPECT_NE(b.head->weight().abs().sum().item<float>(), 0.0f);
}

TEST(Module, StrictLoadingListsEveryProblemInOneError) {
  Net a, b;
  nn::StateDict state = a.state_dict();
  state.erase("head.bias");
  state.erase("scale");
  state["extra.weight"] = Tensor::zeros({1});
  state["features.0.weight"] = Tensor::zeros({8, 5});
  const std::vector<float> before = b.features->get<nn::Linear>(0).weight().to_vector<float>();
  try {
    b.load_state_dict(state);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const char* needle :
         {"Net.load_state_dict", "missing keys: head.bias, scale", "unexpected keys: extra.weight",
          "shape mismatch: features.0.weight (expected [8, 4], got [8, 5])"})
      EXPECT_NE(msg.find(needle), std::string::npos) << needle << " not in: " << msg;
  }
  // Nothing was loaded.
  EXPECT_EQ(b.features->get<nn::Linear>(0).weight().to_vector<float>(), before);

  // Non-strict: missing and unexpected keys are allowed, a wrong shape never is.
  expect_error([&] { b.load_state_dict(state, false); }, "shape mismatch: features.0.weight");
  state.erase("features.0.weight");
  b.load_state_dict(state, false);
  EXPECT_EQ(b.head->weight().to_vector<float>(), a.head->weight().to_vector<float>());
  EXPECT_NE(b.head->bias().to_vector<float>(), a.head->bias().to_vector<float>());
}

TEST(Module, ToCpuIsANoOp) {
  Net net;
  const Tensor w = net.head->weight();
  const void* data = w.raw_data();
  net(nabla::testing::uniform({2, 4}, -1, 1)).sum().backward();
  EXPECT_EQ(&net.to(Device::cpu()), &net);
  EXPECT_EQ(w.raw_data(), data);
  EXPECT_TRUE(w.grad().defined());  // gradients stay when nothing moves
}

TEST(Module, ToCudaMovesInPlaceOrExplains) {
  Net net;
  const Tensor w = net.head->weight();
  if (!cuda::is_available()) {
    expect_error([&] { net.to(Device::cuda()); },
                 cuda::is_compiled() ? "no such CUDA device" : "built without CUDA");
    EXPECT_TRUE(w.is_cpu());  // nothing moved
    return;
  }
  const std::vector<float> values = w.to_vector<float>();
  net(nabla::testing::uniform({2, 4}, -1, 1)).sum().backward();
  net.to(Device::cuda());
  EXPECT_TRUE(w.device().is_cuda());  // the handle taken before the move follows it
  EXPECT_TRUE(net.scale.device().is_cuda());
  EXPECT_FALSE(w.grad().defined());
  EXPECT_EQ(w.to_vector<float>(), values);
  net.to(Device::cpu());
  EXPECT_TRUE(w.is_cpu());
  EXPECT_EQ(w.to_vector<float>(), values);
}

TEST(Module, PrintsTheTreeLikePyTorch) {
  Net net;
  EXPECT_EQ(net.str(),
            "Net(\n"
            "  (features): Sequential(\n"
            "    (0): Linear(in_features=4, out_features=8, bias=True)\n"
            "    (1): ReLU()\n"
            "    (2): Linear(in_features=8, out_features=6, bias=True)\n"
            "  )\n"
            "  (head): Linear(in_features=6, out_features=2, bias=True)\n"
            ")");
}

// The same models as tools/gen_layer_fixtures.py prints with PyTorch.
TEST(Module, PrintMatchesPyTorchGolden) {
  nn::Sequential mlp{nn::Flatten(), nn::Linear(784, 100), nn::ReLU(), nn::Linear(100, 10)};
  EXPECT_EQ(mlp.str(), nabla::testing::read_layer_fixture_text("mlp.repr"));

  nn::Sequential cnn{nn::Conv2d(1, 8, 3, 1, 1),
                     nn::BatchNorm2d(8),
                     nn::ReLU(),
                     nn::MaxPool2d(2),
                     nn::Conv2d(8, 16, {3, 5}, 2, 0, 2, 2, false),
                     nn::GroupNorm(4, 16),
                     nn::GELU(),
                     nn::AvgPool2d(2),
                     nn::Dropout(0.25),
                     nn::Sequential{nn::Flatten(), nn::LayerNorm({64}), nn::Linear(64, 10, false),
                                    nn::LeakyReLU(0.2), nn::Sigmoid(), nn::Tanh()},
                     nn::InstanceNorm2d(3),
                     nn::BatchNorm1d(4, 1e-3, 0.1, false)};
  EXPECT_EQ(cnn.str(), nabla::testing::read_layer_fixture_text("cnn.repr"));
}
