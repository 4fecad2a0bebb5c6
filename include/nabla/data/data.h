// nabla::data: IDX files, datasets (MNIST-format, in-memory tensors, subsets) and the
// DataLoader.
#pragma once

#include "nabla/data/dataset.h"
#include "nabla/data/idx.h"
#include "nabla/data/loader.h"
#include "nabla/data/mnist.h"
