// The configs as a checkpoint records them (under its config entry): "optimizer_config" and
// "scheduler_config" hold "type" (optimizer_name(), sched::scheduler_type()) and every field of
// the config's table by name; the trainer's kept settings stand at the top level. A resumed run
// compares the recorded objects with its own, field by field (docs/design.md, "Resuming with
// changed settings"). Private to src/train/.
#pragma once

#include <nlohmann/json.hpp>

#include "nabla/optim/config.h"
#include "nabla/sched/scheduler.h"
#include "nabla/train/trainer.h"

namespace nabla::train::detail {

// Non-finite numbers (AdaptiveGain's max_gain = inf) are written as the strings "inf", "-inf"
// and "nan", which JSON cannot hold as numbers. A std::function (LambdaLR's lr_lambda, CyclicLR's
// scale_fn) is code, not data: it is written as "function" when set, else null.
nlohmann::json optimizer_record(const optim::OptimizerConfig& config);
nlohmann::json scheduler_record(const sched::SchedulerConfig& config);
// The TrainerConfig fields a resumed run keeps (kept_field in its table).
nlohmann::json kept_trainer_record(const TrainerConfig& config);

}  // namespace nabla::train::detail
