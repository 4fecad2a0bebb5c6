// make_optimizer: builds the parameter arena over the given parameters (group by group; each
// parameter and its .grad become views into the arena's flat buffers) and the optimizer that a
// config names. Swapping optimizers means changing the config only:
//   auto opt = optim::make_optimizer(model, optim::AdamConfig{.lr = 1e-3});
#pragma once

#include <memory>
#include <vector>

#include "nabla/nn/module.h"
#include "nabla/optim/config.h"
#include "nabla/optim/optimizer.h"

namespace nabla::optim {

std::unique_ptr<Optimizer> make_optimizer(std::vector<ParamGroup> groups,
                                          const OptimizerConfig& config);
std::unique_ptr<Optimizer> make_optimizer(nn::NamedTensors params, const OptimizerConfig& config);
// Parameters named "0", "1", ... in the given order.
std::unique_ptr<Optimizer> make_optimizer(const std::vector<Tensor>& params,
                                          const OptimizerConfig& config);
inline std::unique_ptr<Optimizer> make_optimizer(nn::Module& module,
                                                 const OptimizerConfig& config) {
  return make_optimizer(module.named_parameters(), config);
}

// The usual split for weight decay: group 0 holds the weights (matrices and kernels, decayed
// with the config's weight_decay), group 1 the parameters with at most one dimension (biases,
// norm scales and shifts) with weight_decay 0. An empty group is left out.
std::vector<ParamGroup> weight_decay_groups(const nn::NamedTensors& params);

}  // namespace nabla::optim
