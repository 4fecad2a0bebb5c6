// nabla::optim: optimizers over a flat parameter arena, their configs, and gradient clipping.
#pragma once

#include "nabla/optim/clip.h"
#include "nabla/optim/config.h"
#include "nabla/optim/factory.h"
#include "nabla/optim/optimizer.h"
