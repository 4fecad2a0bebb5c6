// The training layer: Trainer, checkpoints, safetensors files and run options.
#pragma once

#include "nabla/train/checkpoint.h"
#include "nabla/train/options.h"
#include "nabla/train/safetensors.h"
#include "nabla/train/trainer.h"
