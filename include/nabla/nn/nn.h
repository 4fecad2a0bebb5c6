// The nn layer of nabla: modules, layers, losses, initialisers, functional ops, summaries.
#pragma once

#include "nabla/nn/arena.h"
#include "nabla/nn/functional.h"
#include "nabla/nn/init.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/loss.h"
#include "nabla/nn/module.h"
#include "nabla/nn/summary.h"
