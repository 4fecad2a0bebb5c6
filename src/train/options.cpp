#include "nabla/train/options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <toml++/toml.h>

namespace nabla::train {
namespace {

// ---------------------------------------------------------------- values from either source

class Value {
 public:
  explicit Value(std::string where) : where_(std::move(where)) {}
  virtual ~Value() = default;
  virtual double number() const = 0;
  virtual bool boolean() const = 0;
  virtual std::string text() const = 0;
  virtual std::vector<double> numbers() const = 0;
  const std::string& where() const { return where_; }

  int64_t integer() const {
    const double v = number();
    NABLA_CHECK(v == static_cast<double>(static_cast<int64_t>(v)), "{} expects a whole number, got {}",
                where_, v);
    return static_cast<int64_t>(v);
  }
  std::vector<int64_t> integers() const {
    std::vector<int64_t> out;
    for (double v : numbers()) {
      NABLA_CHECK(v == static_cast<double>(static_cast<int64_t>(v)),
                  "{} expects whole numbers, got {}", where_, v);
      out.push_back(static_cast<int64_t>(v));
    }
    return out;
  }

 private:
  std::string where_;
};

// A command-line value: text parsed into the type the field wants.
class TextValue : public Value {
 public:
  TextValue(std::string where, std::string text) : Value(std::move(where)), text_(std::move(text)) {}
  double number() const override { return parse_number(text_); }
  bool boolean() const override {
    if (text_ == "true" || text_ == "1" || text_ == "yes" || text_ == "on") return true;
    if (text_ == "false" || text_ == "0" || text_ == "no" || text_ == "off") return false;
    NABLA_FAIL("{} expects true or false, got '{}'", where(), text_);
  }
  std::string text() const override { return text_; }
  std::vector<double> numbers() const override {
    std::vector<double> out;
    std::stringstream ss(text_);
    for (std::string item; std::getline(ss, item, ',');) out.push_back(parse_number(item));
    return out;
  }

 private:
  double parse_number(const std::string& s) const {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    NABLA_CHECK(!s.empty() && end == s.c_str() + s.size(), "{} expects a number, got '{}'", where(),
                s);
    return v;
  }
  std::string text_;
};

// A TOML value: its type must fit the field.
class TomlValue : public Value {
 public:
  TomlValue(std::string where, const toml::node& node) : Value(std::move(where)), node_(node) {}
  double number() const override {
    if (auto v = node_.value<double>()) return *v;
    NABLA_FAIL("{} expects a number, got {}", where(), type());
  }
  bool boolean() const override {
    if (auto v = node_.as_boolean()) return v->get();
    NABLA_FAIL("{} expects true or false, got {}", where(), type());
  }
  std::string text() const override {
    if (auto v = node_.as_string()) return v->get();
    NABLA_FAIL("{} expects a string, got {}", where(), type());
  }
  std::vector<double> numbers() const override {
    if (node_.is_number()) return {number()};
    const toml::array* a = node_.as_array();
    NABLA_CHECK(a != nullptr, "{} expects a list of numbers, got {}", where(), type());
    std::vector<double> out;
    for (const toml::node& e : *a) {
      auto v = e.value<double>();
      NABLA_CHECK(v.has_value(), "{} expects a list of numbers", where());
      out.push_back(*v);
    }
    return out;
  }

 private:
  std::string type() const {
    std::ostringstream os;
    os << node_.type();
    return os.str();
  }
  const toml::node& node_;
};

// ---------------------------------------------------------------- fields of the config structs

// Sets c.<field> when this config has that field; false when it does not.
#define NABLA_FIELD(field, expr)             \
  if (key == #field) {                       \
    if constexpr (requires { c.field; }) {   \
      c.field = expr;                        \
      return true;                           \
    }                                        \
    return false;                            \
  }

template <typename C>
bool set_optimizer_field(C& c, const std::string& key, const Value& v) {
  NABLA_FIELD(lr, v.number())
  NABLA_FIELD(momentum, v.number())
  NABLA_FIELD(dampening, v.number())
  NABLA_FIELD(weight_decay, v.number())
  NABLA_FIELD(nesterov, v.boolean())
  NABLA_FIELD(classical, v.boolean())
  NABLA_FIELD(beta, v.number())
  NABLA_FIELD(min_gain, v.number())
  NABLA_FIELD(max_gain, v.number())
  NABLA_FIELD(alpha, v.number())
  NABLA_FIELD(eps, v.number())
  NABLA_FIELD(centered, v.boolean())
  NABLA_FIELD(eps_inside_sqrt, v.boolean())
  NABLA_FIELD(amsgrad, v.boolean())
  NABLA_FIELD(lr_decay, v.number())
  NABLA_FIELD(initial_accumulator_value, v.number())
  NABLA_FIELD(rho, v.number())
  NABLA_FIELD(momentum_decay, v.number())
  NABLA_FIELD(eps_switch, v.number())
  NABLA_FIELD(skip_nonfinite, v.boolean())
  if (key == "betas") {
    if constexpr (requires { c.betas; }) {
      const std::vector<double> b = v.numbers();
      NABLA_CHECK(b.size() == 2, "{} expects two numbers, got {}", v.where(), b.size());
      c.betas = {b[0], b[1]};
      return true;
    }
    return false;
  }
  return false;
}

template <typename E>
using EnumNames = std::vector<std::pair<const char*, E>>;

template <typename E>
E parse_enum(const Value& v, const EnumNames<E>& names) {
  const std::string text = v.text();
  std::vector<std::string> known;
  for (const auto& [name, value] : names) {
    if (text == name) return value;
    known.emplace_back(name);
  }
  NABLA_FAIL("{}: unknown value '{}' (expected one of: {})", v.where(), text, fmt::join(known, ", "));
}

EnumNames<sched::CyclicMode> mode_names(const sched::CyclicLRConfig&) {
  return {{"triangular", sched::CyclicMode::Triangular},
          {"triangular2", sched::CyclicMode::Triangular2},
          {"exp_range", sched::CyclicMode::ExpRange}};
}
EnumNames<sched::PlateauMode> mode_names(const sched::ReduceLROnPlateauConfig&) {
  return {{"min", sched::PlateauMode::Min}, {"max", sched::PlateauMode::Max}};
}

sched::StepUnit parse_unit(const Value& v) {
  return parse_enum<sched::StepUnit>(
      v, {{"epoch", sched::StepUnit::Epoch}, {"iteration", sched::StepUnit::Iteration}});
}

sched::PerGroup per_group(const Value& v) {
  sched::PerGroup p;
  p.values = v.numbers();
  return p;
}

template <typename C>
bool set_scheduler_field(C& c, const std::string& key, const Value& v) {
  using namespace sched;
  NABLA_FIELD(gamma, v.number())
  NABLA_FIELD(k, v.number())
  NABLA_FIELD(step_size, v.integer())
  NABLA_FIELD(milestones, v.integers())
  NABLA_FIELD(base_lr, per_group(v))
  NABLA_FIELD(max_lr, per_group(v))
  NABLA_FIELD(step_size_up, v.integer())
  NABLA_FIELD(step_size_down, v.integer())
  NABLA_FIELD(cycle_momentum, v.boolean())
  NABLA_FIELD(base_momentum, per_group(v))
  NABLA_FIELD(max_momentum, per_group(v))
  NABLA_FIELD(t_max, v.integer())
  NABLA_FIELD(eta_min, v.number())
  NABLA_FIELD(t_0, v.integer())
  NABLA_FIELD(t_mult, v.integer())
  NABLA_FIELD(start_factor, v.number())
  NABLA_FIELD(end_factor, v.number())
  NABLA_FIELD(total_iters, v.integer())
  NABLA_FIELD(total_steps, v.integer())
  NABLA_FIELD(steps_per_epoch, v.integer())
  NABLA_FIELD(pct_start, v.number())
  NABLA_FIELD(div_factor, v.number())
  NABLA_FIELD(final_div_factor, v.number())
  NABLA_FIELD(three_phase, v.boolean())
  NABLA_FIELD(factor, v.number())
  NABLA_FIELD(patience, v.integer())
  NABLA_FIELD(threshold, v.number())
  NABLA_FIELD(cooldown, v.integer())
  NABLA_FIELD(min_lr, per_group(v))
  NABLA_FIELD(eps, v.number())
  NABLA_FIELD(unit, parse_unit(v))
  NABLA_FIELD(mode, (parse_enum<std::decay_t<decltype(c.mode)>>(v, mode_names(c))))
  NABLA_FIELD(anneal_strategy,
              parse_enum<AnnealStrategy>(
                  v, {{"cos", AnnealStrategy::Cos}, {"linear", AnnealStrategy::Linear}}))
  NABLA_FIELD(threshold_mode,
              parse_enum<ThresholdMode>(
                  v, {{"rel", ThresholdMode::Rel}, {"abs", ThresholdMode::Abs}}))
  return false;
}
#undef NABLA_FIELD

bool set_trainer_field(TrainerConfig& t, const std::string& key, const Value& v) {
  if (key == "epochs") t.epochs = v.integer();
  else if (key == "batch_size") t.batch_size = v.integer();
  else if (key == "seed") t.seed = static_cast<uint64_t>(v.integer());
  else if (key == "clip_grad_norm") t.clip_grad_norm = v.number();
  else if (key == "clip_grad_value") t.clip_grad_value = v.number();
  else if (key == "eval_every") t.eval_every = v.integer();
  else if (key == "eval_batch_size") t.eval_batch_size = v.integer();
  else if (key == "checkpoint_dir") t.checkpoint_dir = v.text();
  else if (key == "checkpoint_every") t.checkpoint_every = v.integer();
  else if (key == "keep_last") t.keep_last = v.integer();
  else if (key == "resume") t.resume = v.text();
  else if (key == "metrics") t.metrics_path = v.text();
  else if (key == "shuffle") t.shuffle = v.boolean();
  else if (key == "drop_last") t.drop_last = v.boolean();
  else if (key == "prefetch") t.prefetch = v.boolean();
  else if (key == "max_consecutive_skips") t.max_consecutive_skips = v.integer();
  else if (key == "early_stopping_patience") t.early_stopping_patience = v.integer();
  else if (key == "early_stopping_min_delta") t.early_stopping_min_delta = v.number();
  else if (key == "distributed") t.distributed = v.boolean();
  else if (key == "check_parameters_every") t.check_parameters_every = v.integer();
  else if (key == "progress")
    t.progress = parse_enum<ProgressMode>(v, {{"auto", ProgressMode::Auto},
                                              {"bar", ProgressMode::Bar},
                                              {"lines", ProgressMode::Lines},
                                              {"off", ProgressMode::Off}});
  else return false;
  return true;
}

// Run-level keys: the data, the model, the device.
bool set_run_field(RunOptions& o, const std::string& key, const Value& v) {
  if (key == "data" || key == "dir") o.data_dir = v.text();
  else if (key == "hidden") o.model.hidden = v.integers();
  else if (key == "init") o.model.init = v.text();
  else if (key == "dropout") o.model.dropout = v.number();
  else if (key == "device") o.device = v.text();
  else if (key == "threads") o.threads = static_cast<int>(v.integer());
  else return false;
  return true;
}

bool set_optimizer(RunOptions& o, const std::string& key, const Value& v) {
  return std::visit([&](auto& c) { return set_optimizer_field(c, key, v); }, o.optimizer);
}
bool set_scheduler(RunOptions& o, const std::string& key, const Value& v) {
  return std::visit([&](auto& c) { return set_scheduler_field(c, key, v); }, o.scheduler);
}

std::string kebab(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

// An optimizer as the command line spells it: "adaptive-gain" or "adaptive_gain" for AdaptiveGain.
optim::OptimizerConfig optimizer_for_cli(std::string name) {
  std::erase_if(name, [](char c) { return c == '-' || c == '_'; });
  return optim::parse_optimizer(name);
}

}  // namespace

sched::SchedulerConfig scheduler_for_cli(const std::string& name) {
  std::string n = name;
  std::replace(n.begin(), n.end(), '-', '_');
  if (n == "inverse") n = "inverse_decay";
  if (n == "linear_warmup" || n == "warmup") n = "linear";
  sched::SchedulerConfig config = sched::scheduler_from_name(n);
  // PyTorch steps these per batch; per epoch they would barely move.
  std::visit(
      [](auto& c) {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, sched::CyclicLRConfig> ||
                      std::is_same_v<C, sched::OneCycleLRConfig>)
          c.unit = sched::StepUnit::Iteration;
      },
      config);
  return config;
}

void complete_schedule(RunOptions& o, int64_t train_size) {
  auto* one_cycle = std::get_if<sched::OneCycleLRConfig>(&o.scheduler);
  if (one_cycle == nullptr || one_cycle->total_steps || one_cycle->steps_per_epoch) return;
  const int64_t b = o.trainer.batch_size;
  const int64_t per_epoch = o.trainer.drop_last ? train_size / b : (train_size + b - 1) / b;
  one_cycle->total_steps =
      o.trainer.epochs * (one_cycle->unit == sched::StepUnit::Iteration ? per_epoch : 1);
}

void apply_config_file(RunOptions& o, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    NABLA_FAIL("config file '{}': {} (at {})", path, e.description(), where.str());
  }
  for (const auto& [section_key, node] : root) {
    const std::string section(section_key.str());
    const toml::table* table = node.as_table();
    NABLA_CHECK(table != nullptr,
                "config file '{}': '{}' must be a section ([data], [model], [optimizer], "
                "[scheduler], [trainer] or [run])",
                path, section);
    // The type keys come first: they choose the struct the other keys go into.
    if (section == "optimizer") {
      if (auto type = (*table)["type"].value<std::string>()) o.optimizer = optimizer_for_cli(*type);
    } else if (section == "scheduler") {
      if (auto type = (*table)["type"].value<std::string>()) o.scheduler = scheduler_for_cli(*type);
    }
    for (const auto& [k, value] : *table) {
      const std::string key(k.str());
      const TomlValue v(fmt::format("'{}.{}' in {}", section, key, path), value);
      if ((section == "optimizer" || section == "scheduler") && key == "type") {
        v.text();  // must be a string
        continue;
      }
      bool known = false;
      if (section == "data" && key == "dir") known = set_run_field(o, key, v);
      else if (section == "model" || section == "run") known = key != "dir" && key != "data" && set_run_field(o, key, v);
      else if (section == "trainer") known = set_trainer_field(o.trainer, key, v);
      else if (section == "optimizer") known = set_optimizer(o, key, v);
      else if (section == "scheduler") known = set_scheduler(o, key, v);
      else NABLA_FAIL("config file '{}': unknown section [{}]", path, section);
      NABLA_CHECK(known, "config file '{}': unknown key '{}' in [{}]{}", path, key, section,
                  section == "optimizer"
                      ? fmt::format(" (not a field of {})", optim::optimizer_name(o.optimizer))
                      : std::string());
    }
  }
}

void apply_command_line(RunOptions& o, int argc, const char* const* argv) {
  struct Flag {
    std::string key, value;
    bool has_value;
  };
  std::vector<Flag> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    NABLA_CHECK(arg.rfind("--", 0) == 0 && arg.size() > 2,
                "unexpected argument '{}' (flags start with --; see --help)", arg);
    arg = arg.substr(2);
    Flag f{arg, "", false};
    if (auto eq = arg.find('='); eq != std::string::npos) {
      f = {arg.substr(0, eq), arg.substr(eq + 1), true};
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      f.value = argv[++i], f.has_value = true;
    }
    std::replace(f.key.begin(), f.key.end(), '-', '_');
    flags.push_back(std::move(f));
  }
  auto value_of = [](const Flag& f) {
    return TextValue("--" + kebab(f.key), f.has_value ? f.value : "true");
  };
  for (const Flag& f : flags) {
    if (f.key == "help") o.help = true;
    if (f.key == "config") {
      NABLA_CHECK(f.has_value, "--config needs a file name");
      apply_config_file(o, f.value);
    }
  }
  for (const Flag& f : flags) {
    if (f.key == "optimizer") {
      NABLA_CHECK(f.has_value, "--optimizer needs a name (sgd, adam, ...)");
      optim::OptimizerConfig chosen = optimizer_for_cli(f.value);
      if (chosen.index() != o.optimizer.index()) o.optimizer = chosen;
    } else if (f.key == "scheduler") {
      NABLA_CHECK(f.has_value, "--scheduler needs a name (none, step, cosine, ...)");
      sched::SchedulerConfig chosen = scheduler_for_cli(f.value);
      if (chosen.index() != o.scheduler.index()) o.scheduler = chosen;
    }
  }
  for (const Flag& f : flags) {
    if (f.key == "help" || f.key == "config" || f.key == "optimizer" || f.key == "scheduler")
      continue;
    if (f.key == "resume" && !f.has_value) {  // --resume alone: the checkpoint folder
      o.trainer.resume = o.trainer.checkpoint_dir.empty() ? "checkpoints" : o.trainer.checkpoint_dir;
      continue;
    }
    const TextValue v = value_of(f);
    const bool known = set_run_field(o, f.key, v) || set_trainer_field(o.trainer, f.key, v) ||
                       set_optimizer(o, f.key, v) || set_scheduler(o, f.key, v);
    NABLA_CHECK(known, "unknown flag --{} (for the chosen optimizer {} and schedule); see --help",
                kebab(f.key), optim::optimizer_name(o.optimizer));
  }
}

std::optional<std::string> take_flag(int& argc, char** argv, const std::string& name) {
  const std::string flag = "--" + name;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    int used = 0;
    std::string value;
    if (arg == flag) {
      NABLA_CHECK(i + 1 < argc, "{} needs a value", flag);
      value = argv[i + 1], used = 2;
    } else if (arg.rfind(flag + "=", 0) == 0) {
      value = arg.substr(flag.size() + 1), used = 1;
    } else {
      continue;
    }
    std::copy(argv + i + used, argv + argc, argv + i);
    argc -= used;
    return value;
  }
  return std::nullopt;
}

std::string usage(const std::string& program, const RunOptions& d, const std::string& about) {
  const TrainerConfig& t = d.trainer;
  const std::string text =
      !about.empty() ? about
                     : "Trains a multilayer perceptron on MNIST-format data (real MNIST when --data "
                       "or data/mnist\nholds it, else Fashion-MNIST from Debian's "
                       "dataset-fashion-mnist).\n";
  return fmt::format(
      R"(usage: {0} [flags]

{13}
data and model
  --data DIR               folder with the four IDX files (default: auto)
  --hidden N[,N...]        hidden layer widths (default: {1})
  --init NAME              default, uniform, normal, xavier-uniform, xavier-normal, he-uniform,
                           he-normal (default: {2})
  --dropout P              dropout after each hidden layer (default: {3})
  --device cpu|cuda|auto   (default: {4})
  --threads N              CPU threads, 0 for all cores (default: {5})
  --seed N                 data order and initialisation (default: {6})
optimizer
  --optimizer NAME         sgd, adaptive-gain, rmsprop, adam, adamw, adagrad, adadelta, adamax,
                           nadam, swats (default: {7})
  --lr X  --momentum X  --nesterov  --dampening X  --weight-decay X  --classical
  --betas B1,B2  --eps X  --amsgrad  --alpha X  --centered  --eps-inside-sqrt  --rho X
  --beta X  --min-gain X  --max-gain X  --lr-decay X  --momentum-decay X  --eps-switch X
schedule
  --scheduler NAME         none, exponential, exponential-decay, step, multistep, inverse, cyclic,
                           cosine, onecycle, plateau, linear-warmup (default: none)
  --gamma X  --k X  --step-size N  --milestones N,N  --t-max N  --eta-min X  --max-lr X
  --base-lr X  --step-size-up N  --mode NAME  --pct-start X  --start-factor X  --total-iters N
  --factor X  --patience N  --threshold X  --cooldown N  --min-lr X  --unit epoch|iteration
training
  --epochs N               total epochs, also when resuming (default: {8})
  --batch-size N           (default: {9})
  --clip-grad-norm X       0 for none (default: {10})
  --eval-every N           epochs between test evaluations (default: {11})
  --checkpoint-dir DIR     write checkpoints there (default: none)
  --checkpoint-every N     also every N steps (default: each epoch end only)
  --keep-last N            checkpoints kept (default: {12})
  --resume [FILE|DIR]      continue from a checkpoint (default folder: the checkpoint dir)
  --metrics FILE           append per-epoch metrics as JSON lines
  --progress auto|bar|lines|off
  --distributed            data-parallel over the MPI job (mpirun -np N {0} --distributed);
                           --batch-size is the global batch
  --check-parameters-every N   steps between cross-rank parameter checks (default: {14})
  --config FILE            a TOML file with [data] [model] [optimizer] [scheduler] [trainer]
                           [run] sections; flags override it
  --help                   this text
)",
      program, fmt::join(d.model.hidden, ","), d.model.init, d.model.dropout, d.device, d.threads,
      t.seed, optim::optimizer_name(d.optimizer), t.epochs, t.batch_size, t.clip_grad_norm,
      t.eval_every, t.keep_last, text, t.check_parameters_every);
}

}  // namespace nabla::train
