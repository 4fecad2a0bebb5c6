// nabla: a small deep-learning training framework. This header brings in the whole public API.
#pragma once

#include "nabla/autograd.h"
#include "nabla/data/data.h"
#include "nabla/device.h"
#include "nabla/dist/communicator.h"
#include "nabla/dist/data_parallel.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/generator.h"
#include "nabla/nn/nn.h"
#include "nabla/ops.h"
#include "nabla/optim/optim.h"
#include "nabla/sched/sched.h"
#include "nabla/shape.h"
#include "nabla/tensor.h"
#include "nabla/threads.h"
#include "nabla/train/train.h"
