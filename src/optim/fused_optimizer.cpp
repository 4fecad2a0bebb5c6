// The one Optimizer implementation behind every config: parameters live in a flat arena, each
// state slot is a flat buffer of the arena's size, and a step is one fused update per parameter
// group (a contiguous arena range) through backend::optim_update_stub. What differs between
// optimizers is small and lives here: which slots exist, and the per-step scalars computed on the
// host.
#include <algorithm>
#include <cmath>
#include <set>

#include "backend/optim.h"
#include "nabla/optim/factory.h"

namespace nabla::optim {
namespace {

namespace rules = kernels::optim;

// Slot names as PyTorch's state keys; an empty name is a slot the config does not need.
using SlotNames = std::array<std::string, rules::kMaxSlots>;

SlotNames slot_names(const SGDConfig& c) {
  return {c.momentum > 0.0 ? "momentum_buffer" : "", "", ""};
}
SlotNames slot_names(const AdaptiveGainConfig&) {
  return {"gains", "prev_grad", ""};
}
SlotNames slot_names(const RMSpropConfig& c) {
  return {"square_avg", c.centered ? "grad_avg" : "", c.momentum > 0.0 ? "momentum_buffer" : ""};
}
SlotNames slot_names(const AdamConfig& c) {
  return {"exp_avg", "exp_avg_sq", c.amsgrad ? "max_exp_avg_sq" : ""};
}
SlotNames slot_names(const AdamWConfig& c) {
  return {"exp_avg", "exp_avg_sq", c.amsgrad ? "max_exp_avg_sq" : ""};
}
SlotNames slot_names(const AdagradConfig&) {
  return {"sum", "", ""};
}
SlotNames slot_names(const AdadeltaConfig&) {
  return {"square_avg", "acc_delta", ""};
}
SlotNames slot_names(const AdamaxConfig&) {
  return {"exp_avg", "exp_inf", ""};
}
SlotNames slot_names(const NAdamConfig&) {
  return {"exp_avg", "exp_avg_sq", ""};
}
SlotNames slot_names(const SWATSConfig&) {
  return {"exp_avg", "exp_avg_sq", "momentum_buffer"};
}

// The value a slot starts at (the gains start at 1, Adagrad's sum at its initial value).
double slot_init(const OptimizerConfig& config, int slot) {
  if (std::holds_alternative<AdaptiveGainConfig>(config)) return slot == 0 ? 1.0 : 0.0;
  if (const auto* c = std::get_if<AdagradConfig>(&config)) return c->initial_accumulator_value;
  return 0.0;
}

// The hyperparameter that cyclic schedules vary: SGD's and RMSprop's momentum, beta1 elsewhere.
template <typename C>
std::optional<double> momentum_of(const C& c) {
  if constexpr (requires { c.betas; }) return c.betas[0];
  if constexpr (std::is_same_v<C, SGDConfig> || std::is_same_v<C, RMSpropConfig>) return c.momentum;
  return std::nullopt;
}

class FusedOptimizer final : public Optimizer {
 public:
  struct Group {
    int64_t begin = 0, end = 0;  // arena range, in floats
    double weight_decay = 0.0;
    std::optional<double> momentum;
    // NAdam: the product of the momentum coefficients so far (float32, as PyTorch keeps it).
    float mu_product = 1.0f;
    // SWATS: the running projected learning rate, the step it switched at (0: not yet) and the
    // SGD learning rate found then.
    double swats_lambda = 0.0;
    int64_t swats_switched_at = 0;
    double swats_sgd_lr = 0.0;
  };

  FusedOptimizer(std::vector<ParamGroup> groups, const OptimizerConfig& config)
      : Optimizer({}), config_(config) {
    validate(config_);
    const double config_lr = std::visit([](const auto& c) { return c.lr; }, config_);
    const double config_wd = std::visit([](const auto& c) { return c.weight_decay; }, config_);
    const std::optional<double> config_momentum =
        std::visit([](const auto& c) { return momentum_of(c); }, config_);
    nn::NamedTensors all;
    std::vector<size_t> group_sizes;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const ParamGroup& g = groups[gi];
      const double lr = g.lr.value_or(config_lr);
      const double wd = g.weight_decay.value_or(config_wd);
      NABLA_CHECK(std::isfinite(lr) && lr >= 0.0,
                  "{}: parameter group {} has an invalid lr {} (must be >= 0)", type_name(), gi,
                  lr);
      NABLA_CHECK(std::isfinite(wd) && wd >= 0.0,
                  "{}: parameter group {} has an invalid weight_decay {} (must be >= 0)",
                  type_name(), gi, wd);
      group_lrs_.push_back(lr);
      groups_.push_back({.weight_decay = wd, .momentum = config_momentum});
      group_sizes.push_back(g.params.size());
      all.insert(all.end(), g.params.begin(), g.params.end());
    }
    NABLA_CHECK(!all.empty(), "{}: no parameters to optimize", type_name());
    arena_ = nn::ParameterArena::build(all);

    // Group ranges: from a group's first parameter to the next group's first (padding included).
    size_t entry = 0;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      groups_[gi].begin =
          entry < arena_->entries().size() ? arena_->entries()[entry].offset : arena_->size();
      entry += group_sizes[gi];
      groups_[gi].end =
          entry < arena_->entries().size() ? arena_->entries()[entry].offset : arena_->size();
    }

    names_ = std::visit([](const auto& c) { return slot_names(c); }, config_);
    const TensorOptions options{DType::Float32, arena_->device()};
    for (int k = 0; k < rules::kMaxSlots; ++k)
      if (!names_[k].empty())
        slots_[k] = Tensor::full({arena_->size()}, slot_init(config_, k), options);
  }

  std::string type_name() const override { return optimizer_name(config_); }
  std::shared_ptr<nn::ParameterArena> arena() const override { return arena_; }
  void zero_grad() override { arena_->zero_grad(); }

  std::optional<double> group_momentum(int64_t group) const override {
    check_group(group);
    return groups_[group].momentum;
  }
  void set_group_momentum(int64_t group, double momentum) override {
    check_group(group);
    NABLA_CHECK(groups_[group].momentum.has_value(), "{} has no momentum to cycle", type_name());
    NABLA_CHECK(momentum >= 0.0 && momentum < 1.0, "{}: invalid momentum {} (must be in [0, 1))",
                type_name(), momentum);
    // SGD and RMSprop created with momentum 0 keep no buffer that a momentum could act on.
    const bool buffer_based = std::holds_alternative<SGDConfig>(config_) ||
                              std::holds_alternative<RMSpropConfig>(config_);
    NABLA_CHECK(!buffer_based || std::ranges::count(names_, "momentum_buffer") == 1,
                "{} was created with momentum 0, so it keeps no momentum buffer; create it with "
                "momentum > 0 to cycle it",
                type_name());
    groups_[group].momentum = momentum;
  }

  bool step() override {
    arena_->check_intact();
    const bool skip = std::visit([](const auto& c) { return c.skip_nonfinite; }, config_);
    const Device device = arena_->device();
    if (skip) {
      const double sumsq =
          backend::sum_squares_stub(device)(arena_->flat_grads().data<float>(), arena_->size());
      if (!std::isfinite(sumsq)) return false;
    }
    ++step_count_;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      Group& g = groups_[gi];
      if (g.end == g.begin) continue;
      backend::UpdateBuffers buffers;
      buffers.params = arena_->flat_params().data<float>() + g.begin;
      buffers.grads = arena_->flat_grads().data<float>() + g.begin;
      for (int k = 0; k < rules::kMaxSlots; ++k)
        if (slots_[k].defined()) buffers.slots[k] = slots_[k].data<float>() + g.begin;
      buffers.n = g.end - g.begin;
      const backend::UpdateCall call =
          std::visit([&](const auto& c) { return make_call(c, g, group_lrs_[gi]); }, config_);
      const rules::Dots dots = backend::optim_update_stub(device)(call, buffers);
      if (const auto* c = std::get_if<SWATSConfig>(&config_); c && g.swats_switched_at == 0)
        swats_after_adam_step(*c, g, dots);
    }
    return true;
  }

  State state_dict() const override {
    State s;
    s.strings["type"] = type_name();
    s.scalars["step"] = static_cast<double>(step_count_);
    s.scalars["num_groups"] = static_cast<double>(groups_.size());
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      for (const auto& [key, value] : group_scalars(gi)) s.scalars[key] = value;
    }
    for (const auto& e : arena_->entries())
      for (int k = 0; k < rules::kMaxSlots; ++k)
        if (!names_[k].empty()) s.tensors[names_[k] + "." + e.name] = slot_view(k, e).clone();
    return s;
  }

  void load_state_dict(const State& s) override {
    const std::string what = type_name() + "::load_state_dict";
    const std::string& type = s.string("type", what.c_str());
    NABLA_CHECK(type == type_name(), "{}: the state is of a {} optimizer, not {}", what, type,
                type_name());
    std::vector<std::string> problems;
    const int64_t groups = s.count("num_groups", what.c_str());
    if (groups != num_groups())
      problems.push_back(fmt::format("{} parameter groups saved, {} here", groups, num_groups()));
    std::set<std::string> expected;
    for (const auto& e : arena_->entries())
      for (int k = 0; k < rules::kMaxSlots; ++k) {
        if (names_[k].empty()) continue;
        const std::string key = names_[k] + "." + e.name;
        expected.insert(key);
        auto it = s.tensors.find(key);
        if (it == s.tensors.end())
          problems.push_back(fmt::format("missing '{}'", key));
        else if (it->second.shape() != e.param.shape())
          problems.push_back(fmt::format("'{}' has shape {}, expected {}", key,
                                         it->second.shape().str(), e.param.shape().str()));
      }
    for (const auto& [key, t] : s.tensors)
      if (!expected.count(key)) problems.push_back(fmt::format("unexpected '{}'", key));
    if (problems.empty())
      for (size_t gi = 0; gi < groups_.size(); ++gi)
        for (const auto& [key, value] : group_scalars(gi))
          if (!s.scalars.count(key)) problems.push_back(fmt::format("missing value '{}'", key));
    if (!problems.empty()) {
      std::string list;
      for (const auto& p : problems) list += "\n  " + p;
      NABLA_FAIL("{}: the saved state does not match this optimizer:{}", what, list);
    }

    const char* w = what.c_str();
    step_count_ = s.count("step", w);
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const std::string p = fmt::format("group.{}.", gi);
      Group& g = groups_[gi];
      group_lrs_[gi] = s.finite(p + "lr", w, 0.0);
      g.weight_decay = s.finite(p + "weight_decay", w, 0.0);
      if (g.momentum) g.momentum = s.finite(p + "momentum", w, 0.0);
      g.mu_product = static_cast<float>(s.finite(p + "mu_product", w));
      g.swats_lambda = s.finite(p + "swats_lambda", w);
      g.swats_switched_at = s.count(p + "swats_switched_at", w);
      NABLA_CHECK(g.swats_switched_at <= step_count_,
                  "{}: the saved '{}swats_switched_at' ({}) is after the saved step ({})", what, p,
                  g.swats_switched_at, step_count_);
      g.swats_sgd_lr = s.finite(p + "swats_sgd_lr", w);
    }
    for (const auto& e : arena_->entries())
      for (int k = 0; k < rules::kMaxSlots; ++k)
        if (!names_[k].empty()) slot_view(k, e).copy_(s.tensors.at(names_[k] + "." + e.name));
  }

 private:
  Tensor slot_view(int k, const nn::ParameterArena::Entry& e) const {
    return slots_[k].narrow(0, e.offset, e.numel).view(e.param.shape());
  }

  std::vector<std::pair<std::string, double>> group_scalars(size_t gi) const {
    const std::string p = fmt::format("group.{}.", gi);
    const Group& g = groups_[gi];
    std::vector<std::pair<std::string, double>> out = {
        {p + "lr", group_lrs_[gi]},
        {p + "weight_decay", g.weight_decay},
        {p + "mu_product", g.mu_product},
        {p + "swats_lambda", g.swats_lambda},
        {p + "swats_switched_at", static_cast<double>(g.swats_switched_at)},
        {p + "swats_sgd_lr", g.swats_sgd_lr}};
    if (g.momentum) out.emplace_back(p + "momentum", *g.momentum);
    return out;
  }

  // ---- per-step scalars, computed once on the host (t = step_count_, the step being applied)

  backend::UpdateCall make_call(const SGDConfig& c, Group& g, double lr) const {
    const rules::SGDScalars s{.lr = float(lr),
                              .momentum = float(g.momentum.value_or(0.0)),
                              .one_minus_dampening = float(1.0 - c.dampening),
                              .weight_decay = float(g.weight_decay),
                              .nesterov = c.nesterov,
                              .first = step_count_ == 1,
                              .classical = c.classical};
    if (slots_[0].defined()) return backend::RuleCall<rules::SGDRule<true>>{s};
    return backend::RuleCall<rules::SGDRule<false>>{s};
  }
  backend::UpdateCall make_call(const AdaptiveGainConfig& c, Group& g, double lr) const {
    return backend::RuleCall<rules::AdaptiveGainRule>{
        {float(lr), float(c.beta), float(g.weight_decay), float(c.min_gain), float(c.max_gain)}};
  }
  backend::UpdateCall make_call(const RMSpropConfig& c, Group& g, double lr) const {
    const rules::RMSpropScalars s{float(lr),
                                  float(c.alpha),
                                  float(c.eps),
                                  float(g.weight_decay),
                                  float(g.momentum.value_or(0.0)),
                                  c.eps_inside_sqrt};
    const bool momentum = slots_[2].defined();
    if (c.centered) {
      if (momentum) return backend::RuleCall<rules::RMSpropRule<true, true>>{s};
      return backend::RuleCall<rules::RMSpropRule<true, false>>{s};
    }
    if (momentum) return backend::RuleCall<rules::RMSpropRule<false, true>>{s};
    return backend::RuleCall<rules::RMSpropRule<false, false>>{s};
  }
  rules::AdamScalars adam_scalars(const Betas& betas, double eps, double l2, double decay,
                                  const Group& g, double lr) const {
    const double beta1 = g.momentum.value_or(betas[0]);
    const double t = static_cast<double>(step_count_);
    return {.beta1 = float(beta1),
            .beta2 = float(betas[1]),
            .eps = float(eps),
            .weight_decay = float(l2),
            .decay = float(decay),
            .step_size = float(lr / (1.0 - std::pow(beta1, t))),
            .bias_correction2_sqrt = float(std::sqrt(1.0 - std::pow(betas[1], t)))};
  }
  backend::UpdateCall make_call(const AdamConfig& c, Group& g, double lr) const {
    const auto s = adam_scalars(c.betas, c.eps, g.weight_decay, 1.0, g, lr);
    if (c.amsgrad) return backend::RuleCall<rules::AdamRule<true>>{s};
    return backend::RuleCall<rules::AdamRule<false>>{s};
  }
  backend::UpdateCall make_call(const AdamWConfig& c, Group& g, double lr) const {
    const auto s = adam_scalars(c.betas, c.eps, 0.0, 1.0 - lr * g.weight_decay, g, lr);
    if (c.amsgrad) return backend::RuleCall<rules::AdamRule<true>>{s};
    return backend::RuleCall<rules::AdamRule<false>>{s};
  }
  backend::UpdateCall make_call(const AdagradConfig& c, Group& g, double lr) const {
    const double clr = lr / (1.0 + static_cast<double>(step_count_ - 1) * c.lr_decay);
    return backend::RuleCall<rules::AdagradRule>{{float(clr), float(g.weight_decay), float(c.eps)}};
  }
  backend::UpdateCall make_call(const AdadeltaConfig& c, Group& g, double lr) const {
    return backend::RuleCall<rules::AdadeltaRule>{
        {float(lr), float(c.rho), float(c.eps), float(g.weight_decay)}};
  }
  backend::UpdateCall make_call(const AdamaxConfig& c, Group& g, double lr) const {
    const double beta1 = g.momentum.value_or(c.betas[0]);
    const double clr = lr / (1.0 - std::pow(beta1, static_cast<double>(step_count_)));
    return backend::RuleCall<rules::AdamaxRule>{
        {float(beta1), float(c.betas[1]), float(c.eps), float(g.weight_decay), float(clr)}};
  }
  backend::UpdateCall make_call(const NAdamConfig& c, Group& g, double lr) const {
    const double beta1 = g.momentum.value_or(c.betas[0]);
    const double t = static_cast<double>(step_count_);
    const double mu = beta1 * (1.0 - 0.5 * std::pow(0.96, t * c.momentum_decay));
    const double mu_next = beta1 * (1.0 - 0.5 * std::pow(0.96, (t + 1.0) * c.momentum_decay));
    // As PyTorch 1.13: mu_product is a float32 tensor, and the "next" product multiplies mu in
    // a second time (mu_product * mu * mu_next after mu_product *= mu).
    g.mu_product = g.mu_product * float(mu);
    const float mu_product_next = g.mu_product * float(mu) * float(mu_next);
    return backend::RuleCall<rules::NAdamRule>{
        {.beta1 = float(beta1),
         .beta2 = float(c.betas[1]),
         .eps = float(c.eps),
         .weight_decay = float(g.weight_decay),
         .bias_correction2 = float(1.0 - std::pow(c.betas[1], t)),
         .grad_coef = float(lr * (1.0 - mu) / (1.0 - double(g.mu_product))),
         .avg_coef = float(lr * mu_next / (1.0 - double(mu_product_next)))}};
  }
  backend::UpdateCall make_call(const SWATSConfig& c, Group& g, double lr) const {
    const double beta1 = g.momentum.value_or(c.betas[0]);
    if (g.swats_switched_at > 0)
      return backend::RuleCall<rules::SWATSSGDRule>{
          {float(beta1), float(g.weight_decay), float((1.0 - beta1) * g.swats_sgd_lr)}};
    return backend::RuleCall<rules::AdamRule<false, true>>{
        adam_scalars(c.betas, c.eps, g.weight_decay, 1.0, g, lr)};
  }

  // Keskar & Socher's switching test after an Adam step p with gradient d (dots = p.p, p.d).
  void swats_after_adam_step(const SWATSConfig& c, Group& g, const rules::Dots& dots) const {
    if (dots.pg == 0.0) return;
    const double beta2 = c.betas[1];
    const double gamma = dots.pp / -dots.pg;
    g.swats_lambda = beta2 * g.swats_lambda + (1.0 - beta2) * gamma;
    const double corrected =
        g.swats_lambda / (1.0 - std::pow(beta2, static_cast<double>(step_count_)));
    if (step_count_ > 1 && std::abs(corrected - gamma) < c.eps_switch) {
      g.swats_switched_at = step_count_;
      g.swats_sgd_lr = corrected;
    }
  }

  OptimizerConfig config_;
  std::shared_ptr<nn::ParameterArena> arena_;
  std::vector<Group> groups_;
  SlotNames names_;
  std::array<Tensor, rules::kMaxSlots> slots_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(std::vector<ParamGroup> groups,
                                          const OptimizerConfig& config) {
  return std::make_unique<FusedOptimizer>(std::move(groups), config);
}

std::unique_ptr<Optimizer> make_optimizer(nn::NamedTensors params, const OptimizerConfig& config) {
  std::vector<ParamGroup> groups(1);
  groups[0].params = std::move(params);
  return make_optimizer(std::move(groups), config);
}

std::unique_ptr<Optimizer> make_optimizer(const std::vector<Tensor>& params,
                                          const OptimizerConfig& config) {
  nn::NamedTensors named;
  for (size_t i = 0; i < params.size(); ++i) named.emplace_back(std::to_string(i), params[i]);
  return make_optimizer(std::move(named), config);
}

std::vector<ParamGroup> weight_decay_groups(const nn::NamedTensors& params) {
  ParamGroup decay, no_decay;
  no_decay.weight_decay = 0.0;
  for (const auto& np : params) (np.second.dim() <= 1 ? no_decay : decay).params.push_back(np);
  std::vector<ParamGroup> groups;
  if (!decay.params.empty()) groups.push_back(std::move(decay));
  if (!no_decay.params.empty()) groups.push_back(std::move(no_decay));
  return groups;
}

}  // namespace nabla::optim
