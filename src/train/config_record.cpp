// The configs as recorded in a checkpoint (config_record.h), from their field tables.
#include "train/config_record.h"

#include "train/field_values.h"

namespace nabla::train::detail {

using nlohmann::json;

namespace {

template <typename R, typename... A>
json function_record(const std::function<R(A...)>& f) {
  return f ? json("function") : json(nullptr);
}

}  // namespace

json optimizer_record(const optim::OptimizerConfig& config) {
  json j = {{"type", optim::optimizer_name(config)}};
  std::visit([&](const auto& c) { record_fields(c, j); }, config);
  return j;
}

json scheduler_record(const sched::SchedulerConfig& config) {
  json j = {{"type", sched::scheduler_type(config)}};
  std::visit(
      [&](const auto& c) {
        record_fields(c, j);
        // What the tables leave out: functions, and SequentialLR's schedules.
        if constexpr (requires { c.scale_fn; }) j["scale_fn"] = function_record(c.scale_fn);
        if constexpr (requires { c.lr_lambdas; }) {
          j["lr_lambda"] = function_record(c.lr_lambda);
          j["lr_lambdas"] = json::array();
          for (const auto& f : c.lr_lambdas) j["lr_lambdas"].push_back(function_record(f));
        }
        if constexpr (requires { c.schedulers; }) {
          j["schedulers"] = json::array();
          for (const sched::SchedulerConfig& child : c.schedulers)
            j["schedulers"].push_back(scheduler_record(child));
        }
      },
      config);
  return j;
}

json kept_trainer_record(const TrainerConfig& config) {
  json j = json::object();
  for_each_field<TrainerConfig>([&](const auto& f) {
    if (f.kept_on_resume) j[f.name] = to_json(config.*(f.member));
  });
  return j;
}

}  // namespace nabla::train::detail
