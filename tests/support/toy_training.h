// What the trainer tests share: a learnable toy classification set, a quiet trainer config and
// the parameters as one list of values.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "nabla/data/dataset.h"
#include "nabla/nn/module.h"
#include "nabla/train/trainer.h"

namespace nabla::testing {

// n points in 8 dimensions from the generator `seed`, each labelled (4 classes) by the argmax of
// one fixed linear map, the same for every seed: learnable, and the sets agree with each other.
std::shared_ptr<data::TensorDataset> toy_classes(uint64_t seed, int64_t n = 96);

// No progress output and no signal handlers: the config a test runs the Trainer with.
train::TrainerConfig quiet(train::TrainerConfig config);

// Every parameter's values, in the order of parameters().
std::vector<float> flat_params(nn::Module& module);

}  // namespace nabla::testing
