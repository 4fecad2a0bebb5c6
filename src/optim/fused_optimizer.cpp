// The one Optimizer implementation behind every config: parameters live in a flat arena, each
// state slot is a flat buffer of the arena's size, and a step is one fused update per parameter
// group (a contiguous arena range) through backend::optim_update_stub. What differs between
// optimizers (which slots exist, the per-step scalars computed on the host, any state of their
// own per group) is each optimizer's Method<Config>, one file each under src/optim/methods/
// (src/optim/method.h says what one holds).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <string_view>

#include "backend/optim.h"
#include "nabla/optim/factory.h"
#include "optim/methods.h"

namespace nabla::optim {
namespace {

namespace rules = kernels::optim;
using method::Method;

// A key "group.<N>.<name>" whose name is one of method::kLegacyGroupKeys.
bool is_legacy_group_key(const std::string& key) {
  constexpr std::string_view prefix = "group.";
  if (key.rfind(prefix, 0) != 0) return false;
  size_t i = prefix.size();
  const size_t digits = i;
  while (i < key.size() && std::isdigit(static_cast<unsigned char>(key[i]))) ++i;
  if (i == digits || i == key.size() || key[i] != '.') return false;
  const std::string_view name = std::string_view(key).substr(i + 1);
  return std::ranges::find(method::kLegacyGroupKeys, name) != method::kLegacyGroupKeys.end();
}

template <typename C>
class FusedOptimizer final : public Optimizer {
  using M = Method<C>;
  using GroupState = typename M::GroupState;

 public:
  // What every optimizer keeps per parameter group (its lr is in group_lrs_).
  struct Group {
    int64_t begin = 0, end = 0;  // arena range, in floats
    double weight_decay = 0.0;
    std::optional<double> momentum;
    C config;  // its other hyperparameters: the optimizer's, or set_group_config's
  };

  FusedOptimizer(std::vector<ParamGroup> groups, const C& config) : Optimizer({}), config_(config) {
    optim::validate(config_);
    const std::optional<double> config_momentum = M::momentum(config_);
    nn::NamedTensors all;
    std::vector<size_t> group_sizes;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const ParamGroup& g = groups[gi];
      const double lr = g.lr.value_or(config_.lr);
      const double wd = g.weight_decay.value_or(config_.weight_decay);
      NABLA_CHECK(std::isfinite(lr) && lr >= 0.0,
                  "{}: parameter group {} has an invalid lr {} (must be >= 0)", type_name(), gi,
                  lr);
      NABLA_CHECK(std::isfinite(wd) && wd >= 0.0,
                  "{}: parameter group {} has an invalid weight_decay {} (must be >= 0)",
                  type_name(), gi, wd);
      group_lrs_.push_back(lr);
      groups_.push_back({.weight_decay = wd, .momentum = config_momentum, .config = config_});
      group_sizes.push_back(g.params.size());
      all.insert(all.end(), g.params.begin(), g.params.end());
    }
    states_.resize(groups_.size());
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

    names_ = M::slots(config_);
    const TensorOptions options{DType::Float32, arena_->device()};
    for (int k = 0; k < rules::kMaxSlots; ++k)
      if (!names_[k].empty())
        slots_[k] = Tensor::full({arena_->size()}, M::slot_init(config_, k), options);
  }

  std::string type_name() const override { return M::kName; }
  std::optional<OptimizerConfig> config() const override { return config_; }
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
    NABLA_CHECK(M::momentum_cycles(config_),
                "{} was created with momentum 0, so it keeps no momentum buffer; create it with "
                "momentum > 0 to cycle it",
                type_name());
    groups_[group].momentum = momentum;
  }

  std::optional<OptimizerConfig> group_config(int64_t group) const override {
    check_group(group);
    const Group& g = groups_[group];
    C c = g.config;
    c.lr = group_lrs_[group];
    c.weight_decay = g.weight_decay;
    if (g.momentum) {  // as a schedule may have cycled it
      if constexpr (requires { c.betas; })
        c.betas[0] = *g.momentum;
      else if constexpr (requires { c.momentum; })
        c.momentum = *g.momentum;
    }
    return c;
  }

  void set_group_config(int64_t group, const OptimizerConfig& config) override {
    check_group(group);
    const C* c = std::get_if<C>(&config);
    NABLA_CHECK(c != nullptr, "{}::set_group_config: a {} config, not one of {}", type_name(),
                optimizer_name(config), type_name());
    check_group_config(*c, type_name() + "::set_group_config");
    Group& g = groups_[group];
    g.config = *c;
    group_lrs_[group] = c->lr;
    g.weight_decay = c->weight_decay;
    g.momentum = M::momentum(*c);
  }

  bool step() override {
    arena_->check_intact();
    const Device device = arena_->device();
    if (config_.skip_nonfinite) {
      const double sumsq =
          backend::sum_squares_stub(device)(arena_->flat_grads().data<float>(), arena_->size());
      if (!std::isfinite(sumsq)) return false;
    }
    ++step_count_;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const Group& g = groups_[gi];
      if (g.end == g.begin) continue;
      backend::UpdateBuffers buffers;
      buffers.params = arena_->flat_params().data<float>() + g.begin;
      buffers.grads = arena_->flat_grads().data<float>() + g.begin;
      for (int k = 0; k < rules::kMaxSlots; ++k)
        if (slots_[k].defined()) buffers.slots[k] = slots_[k].data<float>() + g.begin;
      buffers.n = g.end - g.begin;
      const method::StepContext context{.step = step_count_,
                                        .lr = group_lrs_[gi],
                                        .weight_decay = g.weight_decay,
                                        .momentum = g.momentum};
      const backend::UpdateCall call = M::call(g.config, context, states_[gi]);
      const rules::Dots dots = backend::optim_update_stub(device)(call, buffers);
      M::after_step(g.config, context, states_[gi], dots);
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
      // A group's own config, where it differs from the optimizer's.
      std::vector<std::pair<std::string, double>> own, base;
      auto collect = [gi](C c, std::vector<std::pair<std::string, double>>& out) {
        for_each_config_number(gi, c, [&](const std::string& key, const auto& value) {
          out.emplace_back(key, static_cast<double>(value));
        });
      };
      collect(groups_[gi].config, own);
      collect(config_, base);
      for (size_t i = 0; i < own.size(); ++i)
        if (own[i].second != base[i].second) s.set_extended(own[i].first, own[i].second);
    }
    for (const auto& e : arena_->entries())
      for (int k = 0; k < rules::kMaxSlots; ++k)
        if (!names_[k].empty()) s.tensors[names_[k] + "." + e.name] = slot_view(k, e).clone();
    return s;
  }

  Tensor state_slot(const std::string& slot, const std::string& param) const override {
    std::string slots;
    int k = 0;
    for (; k < rules::kMaxSlots; ++k) {
      if (names_[k] == slot && !slot.empty()) break;
      if (!names_[k].empty()) slots += std::string(slots.empty() ? "" : ", ") + names_[k];
    }
    NABLA_CHECK(k < rules::kMaxSlots, "{} has no state slot '{}' (its slots: {})", type_name(),
                slot, slots.empty() ? "none" : slots);
    std::string params;
    for (const auto& e : arena_->entries()) {
      if (e.name == param) return slot_view(k, e).clone();
      params += std::string(params.empty() ? "" : ", ") + e.name;
    }
    NABLA_FAIL("{}: no parameter named '{}' (its parameters: {})", type_name(), param, params);
  }

  // The method's own state of one group, and the config (for the inspection functions below).
  const GroupState& group_state(int64_t group) const {
    check_group(group);
    return states_[group];
  }
  const C& own_config() const { return config_; }

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
    if (problems.empty()) {
      std::set<std::string> known = {"step", "num_groups"};
      for (size_t gi = 0; gi < groups_.size(); ++gi) {
        for (const auto& [key, value] : group_scalars(gi)) {
          known.insert(key);
          if (!s.scalars.count(key)) problems.push_back(fmt::format("missing value '{}'", key));
        }
        C probe = config_;
        for_each_config_number(gi, probe, [&](const std::string& key, const auto&) {
          known.insert({key, key + ".inf"});
        });
      }
      // Checkpoints written before the methods had group state of their own hold NAdam's and
      // SWATS's group keys for every optimizer: those are ignored, anything else is an error.
      for (const auto& [key, value] : s.scalars)
        if (!known.count(key) && !is_legacy_group_key(key))
          problems.push_back(fmt::format("unexpected value '{}'", key));
    }
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
      g.config = config_;
      for_each_config_number(gi, g.config, [&](const std::string& key, auto& value) {
        if (s.scalars.count(key))
          value = static_cast<std::decay_t<decltype(value)>>(s.extended(key, w));
      });
      try {
        check_group_config(g.config, what);
      } catch (const Error& e) {
        NABLA_FAIL("{}: group {}'s saved config is invalid: {}", what, gi, e.what());
      }
      states_[gi].load(s, p, w, step_count_);
    }
    for (const auto& e : arena_->entries())
      for (int k = 0; k < rules::kMaxSlots; ++k)
        if (!names_[k].empty()) slot_view(k, e).copy_(s.tensors.at(names_[k] + "." + e.name));
  }

 private:
  // A group's config: valid, with the optimizer's state slots (the rules read and write them)
  // and its skip_nonfinite. Checked when set and when read back from a file.
  void check_group_config(const C& c, const std::string& where) const {
    optim::validate(c);
    NABLA_CHECK(M::slots(c) == names_,
                "{}: the config changes which state the optimizer keeps (as momentum to or from "
                "0, centered or amsgrad do); make a new optimizer for that",
                where);
    NABLA_CHECK(c.skip_nonfinite == config_.skip_nonfinite,
                "{}: skip_nonfinite is the whole optimizer's, not a group's", where);
  }

  Tensor slot_view(int k, const nn::ParameterArena::Entry& e) const {
    return slots_[k].narrow(0, e.offset, e.numel).view(e.param.shape());
  }

  // Group gi's saved scalars: the shared ones and the method's own.
  method::GroupScalars group_scalars(size_t gi) const {
    const std::string p = fmt::format("group.{}.", gi);
    const Group& g = groups_[gi];
    method::GroupScalars out = {{p + "lr", group_lrs_[gi]}, {p + "weight_decay", g.weight_decay}};
    states_[gi].save(p, out);
    if (g.momentum) out.emplace_back(p + "momentum", *g.momentum);
    return out;
  }

  // Calls f(key, value) for each number of group gi's config that set_group_config may have
  // made its own (every field but lr and weight_decay, which the group keeps anyway):
  // "group.<gi>.config.<field>", a pair's numbers as ".0" and ".1", a bool as 0 or 1.
  template <typename Config, typename F>
  static void for_each_config_number(size_t gi, Config& c, F&& f) {
    const std::string p = fmt::format("group.{}.config.", gi);
    for_each_field<C>([&](const auto& field) {
      const std::string name = field.name;
      if (name == "lr" || name == "weight_decay") return;
      auto& value = c.*(field.member);
      using T = std::decay_t<decltype(value)>;
      if constexpr (std::is_same_v<T, std::array<double, 2>>) {
        f(p + name + ".0", value[0]);
        f(p + name + ".1", value[1]);
      } else {
        f(p + name, value);
      }
    });
  }

  C config_;
  std::shared_ptr<nn::ParameterArena> arena_;
  std::vector<Group> groups_;
  std::vector<GroupState> states_;  // the method's own state, one per group
  method::SlotNames names_;
  std::array<Tensor, rules::kMaxSlots> slots_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(std::vector<ParamGroup> groups,
                                          const OptimizerConfig& config) {
  return std::visit(
      [&](const auto& c) -> std::unique_ptr<Optimizer> {
        return std::make_unique<FusedOptimizer<std::decay_t<decltype(c)>>>(std::move(groups), c);
      },
      config);
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

SWATSPhase swats_phase(const Optimizer& optimizer, int64_t group) {
  const auto* swats = dynamic_cast<const FusedOptimizer<SWATSConfig>*>(&optimizer);
  NABLA_CHECK(swats != nullptr, "swats_phase: the optimizer is {}, not SWATS",
              optimizer.type_name());
  return Method<SWATSConfig>::phase(swats->own_config(), swats->group_state(group),
                                    swats->step_count());
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
