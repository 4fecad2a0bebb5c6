#include "support/toy_training.h"

#include "nabla/generator.h"
#include "nabla/ops.h"

namespace nabla::testing {

std::shared_ptr<data::TensorDataset> toy_classes(uint64_t seed, int64_t n) {
  Generator gen(seed), wgen(1000);
  const Tensor x = Tensor::randn({n, 8}, &gen);
  const Tensor w = Tensor::randn({8, 4}, &wgen);
  return std::make_shared<data::TensorDataset>(x, argmax(matmul(x, w), 1));
}

train::TrainerConfig quiet(train::TrainerConfig config) {
  config.progress = train::ProgressMode::Off;
  config.handle_signals = false;
  return config;
}

std::vector<float> flat_params(nn::Module& module) {
  std::vector<float> out;
  for (const Tensor& p : module.parameters()) {
    const auto v = p.to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

}  // namespace nabla::testing
