// The optimizer's and the schedule's configs as JSON objects, as a checkpoint records them
// (under "optimizer_config" and "scheduler_config" of its config entry): "type" (the name
// optimizer_name() and Scheduler::type_name() give) and every field by its name in the config
// struct, as the options layer spells it. A resumed run compares the recorded objects with its
// own, field by field (docs/design.md, "Resuming with changed settings"). Private to
// src/train/.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "nabla/optim/config.h"
#include "nabla/sched/scheduler.h"

namespace nabla::train::detail {

// Non-finite numbers (AdaptiveGain's max_gain = inf) are written as the strings "inf", "-inf"
// and "nan", which JSON cannot hold as numbers. A std::function (LambdaLR's lr_lambda, CyclicLR's
// scale_fn) is code, not data: it is written as "function" when set, else null.
nlohmann::json optimizer_record(const optim::OptimizerConfig& config);
nlohmann::json scheduler_record(const sched::SchedulerConfig& config);

// The schedule's type name as Scheduler::type_name() gives it ("StepLR", "NoScheduler").
std::string scheduler_type(const sched::SchedulerConfig& config);

}  // namespace nabla::train::detail
