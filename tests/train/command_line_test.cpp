// train::CommandLine and the field tables it is built from: each config's table names every
// member (or the member is code), the help lists exactly the flags the parser takes, and the
// parser's errors say what is wrong.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "nabla/nabla.h"
#include "support/command_line.h"
#include "support/gradcheck.h"

using namespace nabla;
using nabla::testing::expect_error;
using nabla::testing::flags_in;
using nabla::testing::TrainingCommandLine;

namespace {

// Converts to any member type, to count an aggregate's members by initialising it.
struct AnyValue {
  template <typename T>
  operator T() const;  // NOLINT: implicit on purpose; never called
};

template <typename C, typename... A>
constexpr size_t member_count(A... values) {
  if constexpr (requires { C{values..., AnyValue{}}; })
    return member_count<C>(values..., AnyValue{});
  else
    return sizeof...(A);
}

template <typename C>
constexpr size_t table_size() {
  return std::tuple_size_v<decltype(fields_of<C>())>;
}

// The members of C that are code, not values (functions, other configs), or the program's to set.
template <typename C>
constexpr size_t code_members() {
  if constexpr (std::is_same_v<C, sched::CyclicLRConfig>) return 1;      // scale_fn
  if constexpr (std::is_same_v<C, sched::LambdaLRConfig>) return 2;      // the lambdas
  if constexpr (std::is_same_v<C, sched::SequentialLRConfig>) return 1;  // schedulers
  if constexpr (std::is_same_v<C, train::TrainerConfig>) return 2;       // device, signals
  return 0;
}

template <typename V, typename F>
void for_each_alternative(F&& f) {
  [&]<size_t... I>(std::index_sequence<I...>) {
    (f(std::type_identity<std::variant_alternative_t<I, V>>{}), ...);
  }
  (std::make_index_sequence<std::variant_size_v<V>>{});
}

}  // namespace

// A member added to a config but not to its table would be missing from every command line,
// file and checkpoint: each table names as many fields as the struct has values.
TEST(FieldTables, EveryMemberIsDeclared) {
  auto check = [](auto type) {
    using C = typename decltype(type)::type;
    EXPECT_EQ(table_size<C>() + code_members<C>(), member_count<C>()) << typeid(C).name();
  };
  for_each_alternative<optim::OptimizerConfig>(check);
  for_each_alternative<sched::SchedulerConfig>(check);
  check(std::type_identity<train::TrainerConfig>{});
}

// Ranges come from the tables, for configs built in code as for the command line.
TEST(FieldTables, RangesAreCheckedFromTheTable) {
  expect_error([] { optim::validate(optim::SGDConfig{.momentum = -1}); },
               "SGDConfig: invalid momentum -1 (must be >= 0)");
  expect_error(
      [] {
        optim::validate(optim::AdamConfig{.betas = {0.9, 1.0}});
      },
      "AdamConfig: invalid betas[1] 1 (must be in [0, 1))");
  optim::validate(optim::AdaptiveGainConfig{.max_gain = std::numeric_limits<double>::infinity()});
  expect_error([] { train::validate(train::TrainerConfig{.keep_last = -1}); },
               "TrainerConfig: invalid keep_last -1 (must be >= 0)");
  TrainingCommandLine cli;
  expect_error([&] { cli.parse({"--momentum", "-1"}); }, "--momentum must be >= 0, got -1");
  expect_error([&] { cli.parse({"--keep-last", "-1"}); }, "--keep-last must be >= 0, got -1");
}

// The help lists every flag the parser declares and no other; the parser refuses the others.
TEST(CommandLine, HelpListsExactlyTheDeclaredFlags) {
  TrainingCommandLine cli;
  const std::vector<std::string> declared = cli.cli.flags();
  EXPECT_EQ(flags_in(cli.cli.help()), std::set<std::string>(declared.begin(), declared.end()));
  for (const char* flag : {"--lr", "--betas", "--scheduler-eps", "--scheduler-epochs", "--t-max",
                           "--epochs", "--resume", "--hidden", "--config", "--help"})
    EXPECT_NE(std::find(declared.begin(), declared.end(), flag), declared.end()) << flag;
  // A program that declares less takes less.
  train::RunOptions options;
  train::CommandLine small("small", "A smaller program.");
  small.add_trainer_options(options.trainer, {"epochs", "batch_size"});
  EXPECT_EQ(flags_in(small.help()),
            (std::set<std::string>{"--epochs", "--batch-size", "--config", "--help", "--version"}));
  const char* argv[] = {"small", "--lr", "0.1"};
  expect_error([&] { small.parse(3, argv); }, "unknown flag --lr");
}

TEST(CommandLine, ErrorsSayWhatIsWrong) {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"--lr"}, "--lr needs a value (X)"},
      {{"--colour", "blue", "--size", "3"}, "unknown flags --colour, --size (see --help)"},
      {{"--epoch", "3"}, "unknown flag --epoch (see --help; did you mean --epochs?)"},
      {{"--betas", "0.9,0.99"}, "--betas does not apply to the sgd optimizer (see --help)"},
      {{"--optimizer", "adam", "--nesterov"}, "--nesterov does not apply to the adam optimizer"},
      {{"--gamma", "0.5"}, "--gamma does not apply to the none schedule"},
      {{"--scheduler", "lambda"}, "the lambda schedule is built in code"},
      {{"--scheduler", "plateau", "--mode", "sideways"}, "--mode: unknown value 'sideways'"},
      {{"--scheduler", "cyclic", "--mode", "max"}, "--mode: unknown value 'max'"},
  };
  for (const auto& [flags, message] : cases) {
    SCOPED_TRACE(message);
    TrainingCommandLine cli;
    expect_error([&] { cli.parse(flags); }, message);
    // Usage errors, for run_program's exit status 2.
    EXPECT_THROW(cli.parse(flags), UsageError);
  }
}

TEST(CommandLine, ValuesInEachForm) {
  TrainingCommandLine cli;
  ASSERT_TRUE(cli.parse({"--optimizer", "adam", "--amsgrad", "--bias-correction=off",
                         "--betas=0.8,0.9", "--scheduler", "plateau", "--scheduler-eps", "1e-3",
                         "--eps", "1e-6", "--mode", "max", "--lr", "-0", "--shuffle", "off"}));
  const auto& adam = std::get<optim::AdamConfig>(cli.options.optimizer);
  EXPECT_TRUE(adam.amsgrad);
  EXPECT_FALSE(adam.bias_correction);
  EXPECT_EQ(adam.betas, (optim::Betas{0.8, 0.9}));
  EXPECT_EQ(adam.eps, 1e-6);
  const auto& plateau = std::get<sched::ReduceLROnPlateauConfig>(cli.options.scheduler);
  EXPECT_EQ(plateau.eps, 1e-3);
  EXPECT_EQ(plateau.mode, sched::PlateauMode::Max);
  EXPECT_FALSE(cli.options.trainer.shuffle);
}

// -h and --help print the help instead of running, after checking the flags' names.
TEST(CommandLine, HelpIsPrintedNotRun) {
  TrainingCommandLine cli;
  ::testing::internal::CaptureStdout();
  EXPECT_FALSE(cli.parse({"--lr", "--help"}));  // a value missing is not checked then
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), cli.cli.help());
  ::testing::internal::CaptureStdout();
  EXPECT_FALSE(cli.parse({"-h"}));
  ::testing::internal::GetCapturedStdout();
  expect_error([&] { cli.parse({"--help", "--colour"}); }, "unknown flag --colour");
}

// The help shows the program's defaults, each flag's values, and which optimizers or
// schedules a field belongs to.
TEST(CommandLine, HelpShowsDefaultsAndOwners) {
  TrainingCommandLine cli;
  cli.options.optimizer = optim::SGDConfig{.lr = 0.05, .momentum = 0.9};
  cli.options.trainer.epochs = 7;
  const std::string help = cli.cli.help();
  EXPECT_NE(help.find("--lr X"), std::string::npos);
  EXPECT_NE(help.find("learning rate (default: 0.05)"), std::string::npos) << help;
  EXPECT_NE(help.find("(sgd, rmsprop) (default: 0.9)"), std::string::npos) << help;
  EXPECT_NE(help.find("--epochs N"), std::string::npos);
  EXPECT_NE(help.find("(default: 7)"), std::string::npos);
  EXPECT_NE(help.find("--progress auto|bar|lines|off"), std::string::npos);
  EXPECT_NE(help.find("--resume [FILE|DIR]"), std::string::npos);
  EXPECT_NE(help.find("cyclic: how the amplitude shrinks, triangular|triangular2|exp_range"),
            std::string::npos)
      << help;
  // The help wrapped at 100 columns, unwrapped.
  const std::string text = std::regex_replace(help, std::regex("\n {30}"), " ");
  EXPECT_NE(text.find("[data] [run] [optimizer] [scheduler] [trainer] [model] sections"),
            std::string::npos)
      << help;
}

// A program's own options: typed, range-checked, and in their TOML section.
TEST(CommandLine, AProgramsOwnOptions) {
  std::string out = ".";
  int64_t steps = 10;
  double rate = 0.5;
  bool loud = false;
  std::optional<std::string> weights;
  std::vector<std::string> files;
  train::CommandLine cli("tool", "A tool.");
  cli.add({.name = "out", .help = "folder", .value_name = "DIR"}, out);
  cli.add({.name = "steps", .help = "steps", .section = "tool", .bounds = closed(1, 100)}, steps);
  cli.add({.name = "rate", .help = "rate", .bounds = above(0)}, rate);
  cli.add({.name = "loud", .help = "louder"}, loud);
  cli.add({.name = "init-weights", .help = "file"}, weights);
  cli.add_positional("FILES", "inputs", files, 1);
  const char* argv[] = {"tool",  "a.txt",          "--out",        "x", "--steps=20", "--loud",
                        "b.txt", "--init-weights", "w.safetensors"};
  ASSERT_TRUE(cli.parse(static_cast<int>(std::size(argv)), argv));
  EXPECT_EQ(out, "x");
  EXPECT_EQ(steps, 20);
  EXPECT_TRUE(loud);  // alone: "b.txt" is an argument
  EXPECT_EQ(weights, "w.safetensors");
  EXPECT_EQ(files, (std::vector<std::string>{"a.txt", "b.txt"}));
  const char* too_many[] = {"tool", "a", "--steps", "101"};
  expect_error([&] { cli.parse(4, too_many); }, "--steps must be in [1, 100], got 101");
  const char* zero[] = {"tool", "a", "--rate", "0"};
  expect_error([&] { cli.parse(4, zero); }, "--rate must be > 0, got 0");
  files.clear();
  const char* none[] = {"tool"};
  expect_error([&] { cli.parse(1, none); }, "expected at least 1 FILES");
  const std::string help = cli.help();
  EXPECT_NE(help.find("usage: tool [flags] FILES"), std::string::npos) << help;
  EXPECT_NE(help.find("--out DIR"), std::string::npos);
  EXPECT_NE(help.find("--config FILE"), std::string::npos);  // [tool] steps
}
