// End-to-end runs of the example programs on a toy MNIST-format folder (200 training and 100
// test images): each program runs as a child process, and its exit status, output and files are
// checked. Every run takes well under a second of training.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "nabla/error.h"
#include "nabla/train/checkpoint.h"
#include "nabla/train/safetensors.h"
#include "support/command_line.h"
#include "support/idx_writer.h"
#include "support/toy_mnist.h"

namespace nabla::testing {
namespace {

struct Output {
  int status = -1;   // the exit status
  std::string text;  // stdout and stderr
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Programs : public ::testing::Test {
 protected:
  void SetUp() override { write_toy_mnist(dir_ / "data"); }

  // Runs an example in the temporary folder, with the toy data unless `args` says otherwise.
  Output run(const std::string& program, const std::string& args, bool with_data = true) const {
    const std::string command =
        fmt_command(program, (with_data ? "--data data --progress off --threads 1 " : "") + args);
    FILE* pipe = popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    Output out;
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.text.append(buffer, n);
    const int status = pclose(pipe);
    out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
  }

  std::string fmt_command(const std::string& program, const std::string& args) const {
    return "cd '" + dir_.path().string() + "' && '" NABLA_EXAMPLES_DIR "/" + program + "' " + args +
           " 2>&1";
  }

  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
  }

  TempDir dir_{"nabla_examples"};
};

// The last "test accuracy NN.NN%" of an output.
double accuracy_in(const std::string& text) {
  const std::regex pattern(R"(test accuracy ([0-9.]+)%)");
  double accuracy = -1;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
       it != std::sregex_iterator(); ++it)
    accuracy = std::stod((*it)[1]);
  return accuracy;
}

TEST_F(Programs, MlpHelpListsTheFlags) {
  const Output out = run("mnist_mlp", "--help", false);
  EXPECT_EQ(out.status, 0);
  for (const char* flag :
       {"--data", "--hidden", "--init", "--optimizer", "--lr", "--scheduler", "--epochs",
        "--batch-size", "--checkpoint-dir", "--resume", "--metrics", "--config", "--help"})
    EXPECT_NE(out.text.find(flag), std::string::npos) << flag;
}

std::string joined(const std::set<std::string>& flags, const char* separator) {
  std::string out;
  for (const std::string& f : flags) out += (out.empty() ? "" : separator) + f;
  return out;
}

// Every program's --help lists exactly the flags it accepts: given every flag that any program
// lists, and two that none does, each program refuses exactly those its help does not list.
TEST_F(Programs, EveryHelpListsExactlyTheFlagsAccepted) {
  const char* programs[] = {"mnist_mlp",    "mnist_cnn",       "compare_optimizers",
                            "resume",       "optimizer_paths", "lr_schedules",
                            "plot_metrics", "mnist_speedrun"};
  std::map<std::string, std::set<std::string>> listed;
  std::set<std::string> candidates = {"--colour", "--no-such-flag"};
  for (const char* program : programs) {
    const Output help = run(program, "--help", false);
    ASSERT_EQ(help.status, 0) << program << "\n" << help.text;
    listed[program] = flags_in(help.text);
    EXPECT_TRUE(listed[program].count("--help") && listed[program].count("--version")) << program;
    candidates.insert(listed[program].begin(), listed[program].end());
  }
  candidates.erase("--version");  // answered before the flags are read
  for (const char* program : programs) {
    SCOPED_TRACE(program);
    std::set<std::string> accepted = listed[program], refused;
    accepted.erase("--version");
    for (const std::string& flag : candidates)
      if (!accepted.count(flag)) refused.insert(flag);
    // With --help the flags' names are checked, not their values.
    const Output all = run(program, "--help " + joined(candidates, " "), false);
    EXPECT_EQ(all.status, 2) << all.text;
    EXPECT_NE(all.text.find("unknown flags " + joined(refused, ", ") + " (see --help)"),
              std::string::npos)
        << all.text;
    const Output own = run(program, "--help " + joined(accepted, " "), false);
    EXPECT_EQ(own.status, 0) << own.text;
    EXPECT_EQ(own.text, run(program, "--help", false).text);
  }
}

TEST_F(Programs, MlpRejectsAnUnknownFlag) {
  const Output out = run("mnist_mlp", "--epochs 1 --colour blue");
  EXPECT_EQ(out.status, 2);  // a usage error
  EXPECT_NE(out.text.find("unknown flag --colour"), std::string::npos) << out.text;
  // A flag that another program honours is refused, not ignored, where it does not apply.
  for (const auto& [program, flags] :
       {std::pair{"mnist_cnn", "--hidden 5"}, std::pair{"compare_optimizers", "--lr 0.5"},
        std::pair{"compare_optimizers", "--checkpoint-dir x"}, std::pair{"lr_schedules", "--lr 1"},
        std::pair{"mnist_speedrun", "--epochs 2"}}) {
    const Output refused = run(program, flags, false);
    EXPECT_EQ(refused.status, 2) << program << " " << flags << "\n" << refused.text;
    EXPECT_NE(refused.text.find("unknown flag"), std::string::npos) << refused.text;
  }
  const Output missing = run("mnist_mlp", "--lr", false);
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.text.find("--lr needs a value (X)"), std::string::npos) << missing.text;
}

// -h is --help; --version; a mistake on the command line exits 2, a failure of the run 1; what
// the program printed comes before the error.
TEST_F(Programs, CommandLineConventions) {
  const Output help = run("mnist_mlp", "-h", false);
  EXPECT_EQ(help.status, 0);
  EXPECT_EQ(help.text, run("mnist_mlp", "--help", false).text);
  for (const char* program : {"mnist_mlp", "mnist_cnn", "compare_optimizers"}) {
    const Output version = run(program, "--version", false);
    EXPECT_EQ(version.status, 0);
    EXPECT_EQ(version.text, std::string(program) + " (nabla " + nabla::version() + ")\n");
  }
  const Output zero = run("compare_optimizers", "--epochs 0");
  EXPECT_EQ(zero.status, 2) << zero.text;
  EXPECT_NE(zero.text.find("--epochs must be > 0"), std::string::npos) << zero.text;
  EXPECT_EQ(run("mnist_mlp", "--precision fp8").status, 2);
  EXPECT_EQ(run("compare_optimizers", "--train-size x").status, 2);
  const Output missing = run("mnist_mlp", "--data nowhere --epochs 1", false);  // a run failure
  EXPECT_EQ(missing.status, 1) << missing.text;
}

// SIGTERM, as a scheduler sends it, ends a run after its checkpoint with status 143 (128 + 15).
TEST_F(Programs, SigtermCheckpointsAndExits143) {
  // The program in the background, the signal a second later, its status from the shell.
  const std::string script = "cd '" + dir_.path().string() +
                             "' && { '" NABLA_EXAMPLES_DIR
                             "/mnist_mlp' --data data --progress off --threads 1 --epochs 100000 "
                             "--batch-size 50 --checkpoint-dir ckpt > out.txt 2>&1 & pid=$!; "
                             "sleep 1; kill -TERM $pid; wait $pid; echo status $?; }";
  FILE* pipe = popen(script.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[256] = {};
  const size_t n = fread(buffer, 1, sizeof buffer - 1, pipe);
  pclose(pipe);
  EXPECT_EQ(std::string(buffer, n), "status 143\n");
  const std::string out = read_text(dir_ / "out.txt");
  EXPECT_NE(out.find("interrupted at step"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::is_empty(dir_ / "ckpt"));
}

// Sizes whose element or byte counts do not fit 64 bits end in a clear error, not a crash.
TEST_F(Programs, SizesThatOverflowAreErrors) {
  for (const auto& [program, flags] :
       {std::pair{"mnist_mlp", "--batch-size 2305843009213693952"},
        std::pair{"mnist_mlp", "--hidden 4611686018427387904"},
        std::pair{"mnist_mlp", "--eval-batch-size 2305843009213693952"},
        std::pair{"mnist_cnn", "--batch-size 2305843009213693952"}}) {
    SCOPED_TRACE(flags);
    const Output out = run(program, std::string("--epochs 1 ") + flags);
    EXPECT_EQ(out.status, 1) << out.text;
    EXPECT_NE(out.text.find("elements, more than 2^63"), std::string::npos) << out.text;
  }
}

// A run that diverges (here: a learning rate far too large) is a failure that says what to try.
TEST_F(Programs, DivergenceIsNotSuccess) {
  for (const char* program : {"mnist_mlp", "mnist_cnn"}) {
    SCOPED_TRACE(program);
    const Output out = run(program, "--epochs 1 --batch-size 20 --lr 16 --init he-normal");
    EXPECT_EQ(out.status, 1) << out.text;
    EXPECT_NE(out.text.find("training diverged"), std::string::npos) << out.text;
    EXPECT_NE(out.text.find("Try a smaller learning rate"), std::string::npos) << out.text;
  }
}

TEST_F(Programs, MlpLearnsTheToyData) {
  const Output out = run("mnist_mlp", "--epochs 3 --batch-size 20 --hidden 32");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_GE(accuracy_in(out.text), 90.0) << out.text;  // chance is 10%
}

TEST_F(Programs, MlpRunsWithEveryOptimizer) {
  for (const char* optimizer :
       {"sgd --nesterov", "adaptive-gain", "rmsprop", "adam", "adamw --amsgrad", "adagrad",
        "adadelta", "adamax", "nadam", "swats", "rprop --etas 0.5,1.2 --step-sizes 1e-6,0.1"}) {
    const Output out =
        run("mnist_mlp", std::string("--epochs 1 --batch-size 50 --optimizer ") + optimizer);
    EXPECT_EQ(out.status, 0) << optimizer << "\n" << out.text;
    EXPECT_GE(accuracy_in(out.text), 0.0) << optimizer;
  }
  // SWATS says whether and when it switched to SGD.
  const Output swats =
      run("mnist_mlp", "--epochs 1 --batch-size 50 --optimizer swats --eps-switch 10");
  ASSERT_EQ(swats.status, 0) << swats.text;
  EXPECT_NE(swats.text.find("swats: switched to SGD after step 2, SGD lr "), std::string::npos)
      << swats.text;
  EXPECT_NE(run("mnist_mlp", "--epochs 1 --batch-size 50 --optimizer swats")
                .text.find("swats: still Adam after "),
            std::string::npos);
}

TEST_F(Programs, MlpRunsWithEverySchedule) {
  for (const char* schedule :
       {"none", "exponential --gamma 0.9", "exponential-decay --k 0.1", "step --step-size 1",
        "multistep --milestones 1", "inverse --k 0.5",
        "cyclic --base-lr 0.01 --max-lr 0.1 --step-size-up 2", "cosine --t-max 2",
        "onecycle --max-lr 0.1", "plateau --patience 0", "linear-warmup --start-factor 0.1"}) {
    const Output out =
        run("mnist_mlp", std::string("--epochs 2 --batch-size 50 --scheduler ") + schedule);
    EXPECT_EQ(out.status, 0) << schedule << "\n" << out.text;
    EXPECT_GE(accuracy_in(out.text), 0.0) << schedule;
  }
}

// --decay-biases off trains with optim::weight_decay_groups: decay on the weight matrices only.
TEST_F(Programs, MlpSplitsWeightDecayGroupsWhenAsked) {
  const Output out = run("mnist_mlp",
                         "--epochs 1 --batch-size 50 --optimizer adamw --weight-decay 0.1 "
                         "--decay-biases off --checkpoint-dir ckpt");
  ASSERT_EQ(out.status, 0) << out.text;
  // The checkpoint holds two groups, the second without decay.
  const train::Checkpoint c =
      train::load_checkpoint((dir_ / "ckpt" / "step-000004.safetensors").string());
  const auto& groups = c.sections.at("optimizer").scalars;
  EXPECT_EQ(groups.at("group.0.weight_decay"), 0.1);
  EXPECT_EQ(groups.at("group.1.weight_decay"), 0.0);
}

TEST_F(Programs, MlpReadsAConfigFile) {
  write("run.toml",
        "[model]\nhidden = [16]\n[optimizer]\ntype = \"adam\"\nlr = 0.002\n"
        "[trainer]\nepochs = 1\nbatch_size = 50\n");
  const Output out = run("mnist_mlp", "--config run.toml");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("optimizer: Adam, lr 0.002"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("after 1 epochs"), std::string::npos) << out.text;
  // Flags override the file.
  const Output flagged = run("mnist_mlp", "--config run.toml --lr 0.003");
  EXPECT_NE(flagged.text.find("optimizer: Adam, lr 0.003"), std::string::npos) << flagged.text;
}

TEST_F(Programs, MlpConfigErrorsSayWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[optimizer]\ntype = \"sgd\"\nbetas = [0.9, 0.99]\n", "unknown key 'betas' in [optimizer]"},
      {"[trainer]\nepochs = \"many\"\n", "'trainer.epochs' in run.toml expects a number"},
      {"[model]\nhidden = [1.5]\n", "expects a whole number, got 1.5"},
      {"[training]\nepochs = 1\n", "unknown section [training]"},
      {"[trainer\n", "config file 'run.toml'"},  // a TOML syntax error
  };
  for (const auto& [toml, message] : cases) {
    write("run.toml", toml);
    const Output out = run("mnist_mlp", "--config run.toml");
    EXPECT_EQ(out.status, 2) << toml;  // a usage error
    EXPECT_NE(out.text.find(message), std::string::npos) << toml << "\n" << out.text;
  }
}

TEST_F(Programs, MlpResumesFromItsCheckpoint) {
  const std::string common = "--batch-size 50 --checkpoint-dir ckpt --metrics metrics.jsonl ";
  write("metrics.jsonl", "a line of an earlier run\n");  // a fresh run starts the file anew
  ASSERT_EQ(run("mnist_mlp", common + "--epochs 1").status, 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "ckpt" / "step-000004.safetensors"));
  const Output resumed = run("mnist_mlp", common + "--epochs 2 --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.text;
  EXPECT_NE(resumed.text.find("after 2 epochs"), std::string::npos) << resumed.text;
  // One metrics line per epoch: the resumed run appended epoch 2 only, at step 8.
  const std::string metrics = read_text(dir_ / "metrics.jsonl");
  EXPECT_TRUE(std::regex_search(metrics, std::regex(R"(^\{"epoch":1,.*"step":4,)"))) << metrics;
  EXPECT_TRUE(std::regex_search(metrics, std::regex(R"(\n\{"epoch":2,.*"step":8,)"))) << metrics;
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 2) << metrics;
  // Resuming a finished run has nothing to do.
  const Output again = run("mnist_mlp", common + "--epochs 2 --resume");
  EXPECT_EQ(again.status, 0);
  EXPECT_NE(again.text.find("nothing to do"), std::string::npos) << again.text;
}

TEST_F(Programs, MlpSavesItsWeightsAndStartsFromThem) {
  const std::string common = "--batch-size 50 --hidden 16 ";
  const Output trained = run("mnist_mlp", common + "--epochs 2 --save-weights w.safetensors");
  ASSERT_EQ(trained.status, 0) << trained.text;
  EXPECT_NE(trained.text.find("weights: w.safetensors"), std::string::npos) << trained.text;
  const double accuracy = accuracy_in(trained.text);
  // The same file under another program's metadata, as PyTorch's save_file writes it.
  io::save_safetensors((dir_ / "torch.safetensors").string(),
                       io::load_safetensors((dir_ / "w.safetensors").string()).tensors,
                       {{"format", "pt"}});
  // An epoch whose steps change nothing (lr 1e-30) evaluates the weights it started from.
  for (const char* file : {"w.safetensors", "torch.safetensors"}) {
    const Output started =
        run("mnist_mlp", common + "--epochs 1 --lr 1e-30 --init-weights " + file);
    ASSERT_EQ(started.status, 0) << file << "\n" << started.text;
    EXPECT_EQ(accuracy_in(started.text), accuracy) << file << "\n" << started.text;
  }
  // The architecture must match the file's.
  const Output other = run("mnist_mlp", "--epochs 1 --hidden 8 --init-weights w.safetensors");
  EXPECT_EQ(other.status, 1) << other.text;
  EXPECT_NE(other.text.find("shape"), std::string::npos) << other.text;
  EXPECT_NE(run("mnist_mlp", "--help", false).text.find("--save-weights FILE"), std::string::npos);
}

TEST_F(Programs, CnnSavesOneNetworksWeights) {
  const Output saved =
      run("mnist_cnn", "--epochs 1 --batch-size 50 --save-weights cnn.safetensors");
  ASSERT_EQ(saved.status, 0) << saved.text;
  const Output started =
      run("mnist_cnn", "--epochs 1 --batch-size 50 --lr 1e-30 --init-weights cnn.safetensors");
  ASSERT_EQ(started.status, 0) << started.text;
  // The table's row: "default   NN.NN%".
  const auto row = [](const std::string& text) {
    std::smatch m;
    return std::regex_search(text, m, std::regex(R"(\ndefault +([0-9.]+)%)")) ? m[1].str() : "";
  };
  ASSERT_NE(row(saved.text), "") << saved.text;
  EXPECT_EQ(row(started.text), row(saved.text)) << started.text;
  const Output all = run("mnist_cnn", "--epochs 1 --init all --save-weights cnn.safetensors");
  EXPECT_EQ(all.status, 2) << all.text;
  EXPECT_NE(all.text.find("for one network"), std::string::npos) << all.text;
}

// A resume keeps the checkpoint's settings, not the program's defaults, and changes what its
// flags name: here the lr, under the step schedule the first run chose.
TEST_F(Programs, MlpResumesWithTheCheckpointsSettingsAndANewLr) {
  const std::string first =
      "--batch-size 50 --checkpoint-dir ckpt --epochs 2 --scheduler step "
      "--step-size 1 --gamma 0.5 --optimizer adam --lr 0.01";
  ASSERT_EQ(run("mnist_mlp", first).status, 0);
  const Output resumed = run("mnist_mlp", "--checkpoint-dir ckpt --resume --epochs 3 --lr 0.005");
  ASSERT_EQ(resumed.status, 0) << resumed.text;
  EXPECT_NE(resumed.text.find("changed since the checkpoint: optimizer.lr: 0.01 -> 0.005"),
            std::string::npos)
      << resumed.text;
  EXPECT_NE(resumed.text.find("changed since the checkpoint: epochs: 2 -> 3"), std::string::npos)
      << resumed.text;
  // Nothing else changed: the optimizer, the schedule and the batch size are the checkpoint's.
  size_t changes = 0;
  for (size_t at = resumed.text.find("changed since"); at != std::string::npos;
       at = resumed.text.find("changed since", at + 1))
    ++changes;
  EXPECT_EQ(changes, 2u) << resumed.text;
  EXPECT_NE(resumed.text.find("after 3 epochs"), std::string::npos) << resumed.text;
}

TEST_F(Programs, CnnTrainsAnEpochAndRunsTheInitExperiment) {
  const Output one = run("mnist_cnn", "--epochs 1 --batch-size 20 --init he-normal");
  ASSERT_EQ(one.status, 0) << one.text;
  EXPECT_NE(one.text.find("he-normal"), std::string::npos) << one.text;

  const Output all = run("mnist_cnn", "--epochs 1 --batch-size 50 --init all");
  ASSERT_EQ(all.status, 0) << all.text;
  for (const char* init : {"uniform", "normal", "default", "xavier-uniform", "xavier-normal",
                           "he-uniform", "he-normal"})
    EXPECT_TRUE(std::regex_search(all.text, std::regex(std::string("\n") + init + " +[0-9.]+% ")))
        << init << "\n"
        << all.text;
  // Beside the lecture's numbers, with their mean.
  EXPECT_TRUE(std::regex_search(all.text, std::regex("\nxavier-uniform +[0-9.]+% +97.36% ")))
      << all.text;
  EXPECT_TRUE(std::regex_search(all.text, std::regex("\nmean +[0-9.]+% +97.63% "))) << all.text;
  EXPECT_NE(run("mnist_cnn", "--help", false).text.find("--init all"), std::string::npos);
}

TEST_F(Programs, CompareOptimizersPrintsATableAndDrawsTheLosses) {
  const Output out =
      run("compare_optimizers", "--epochs 1 --hidden 16 --train-size 150 --plot losses.svg");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("(150 training images)"), std::string::npos) << out.text;
  const std::string svg = read_text(dir_ / "losses.svg");
  for (const char* name : {"sgd", "sgd+momentum", "nesterov", "adaptive-gain", "rmsprop", "adam",
                           "adamw", "adagrad", "adadelta", "adamax", "nadam", "swats", "rprop"}) {
    EXPECT_NE(out.text.find(std::string("\n") + name + " "), std::string::npos) << name;
    EXPECT_NE(svg.find(std::string(">") + name + "<"), std::string::npos) << name;
  }
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
}

TEST_F(Programs, OptimizerPathsDrawsEveryFunction) {
  const Output out = run("optimizer_paths", "--steps 40", false);
  ASSERT_EQ(out.status, 0) << out.text;
  for (const char* f : {"rosenbrock", "beale", "ravine", "saddle"}) {
    const std::string svg = read_text(dir_ / (std::string("paths-") + f + ".svg"));
    EXPECT_NE(svg.find(">nadam<"), std::string::npos) << f;
    EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n") << f;
  }
  // Plain gradient descent on the quadratic 0.5 x^2 + 10 y^2 from (-4.5, 2) with lr 0.065:
  // x_k = -4.5 * 0.935^k and y_k = 2 * (-0.3)^k; after 40 steps (-0.30597, 2.4e-21).
  EXPECT_NE(out.text.find("sgd            ends at (  -0.3060,    0.0000)"), std::string::npos)
      << out.text;
  EXPECT_NE(run("optimizer_paths", "--stepz 3", false).status, 0);
}

TEST_F(Programs, OptimizerPathsOverlaysAFewPathsAndDrawsTheirLoss) {
  const Output out = run("optimizer_paths",
                         "--functions ravine --only momentum,nesterov --layout overlay --loss on "
                         "--lr 0.02 --steps 30",
                         false);
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("ravine (sgd-like lr 0.02"), std::string::npos) << out.text;
  EXPECT_EQ(out.text.find("rosenbrock"), std::string::npos) << out.text;
  const std::string paths = read_text(dir_ / "paths-ravine.svg");
  EXPECT_NE(paths.find(">nesterov<"), std::string::npos);
  EXPECT_EQ(paths.find(">sgd<"), std::string::npos);
  EXPECT_EQ(paths.find("<svg x="), std::string::npos);  // one picture, not panels
  EXPECT_NE(read_text(dir_ / "loss-ravine.svg").find(">momentum<"), std::string::npos);
  EXPECT_NE(run("optimizer_paths", "--layout stacked", false).status, 0);
  EXPECT_NE(run("optimizer_paths", "--functions himmelblau", false).status, 0);
}

TEST_F(Programs, LrSchedulesPrintsAndDrawsTheLecturesSchedules) {
  const Output out = run("lr_schedules", "--steps 20", false);
  ASSERT_EQ(out.status, 0) << out.text;
  // Printed every 2 steps. lr0 0.1: halved at steps 10 and 20; 0.1 / (1 + 0.1 * 20) at step 20; the
  // triangle back at its maximum 0.006 after 20 iterations.
  EXPECT_TRUE(
      std::regex_search(out.text, std::regex("\nhalving( +0.10000){5}( +0.05000){5} +0.02500\n")))
      << out.text;
  EXPECT_TRUE(std::regex_search(out.text, std::regex("\ninverse .* 0.03333\n"))) << out.text;
  EXPECT_TRUE(std::regex_search(out.text, std::regex("\ntriangular .* 0.00600\n"))) << out.text;
  const std::string svg = read_text(dir_ / "schedules.svg");
  for (const char* name : {"exponential", "halving", "inverse"})
    EXPECT_NE(svg.find(std::string(">") + name + "<"), std::string::npos) << name;
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
}

TEST_F(Programs, ResumeDemoMatchesTheUninterruptedRun) {
  const Output out = run("resume", "--epochs 2 --stop-at 5 --dir ckpt");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("resumed: first step 6"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("identical"), std::string::npos) << out.text;
}

TEST_F(Programs, SpeedrunLearnsAndRepeatsItsBits) {
  // The speedrun draws no progress bar, so it takes no --progress: the flags are given here.
  const std::string args = "--data data --threads 1 --rung 2 --target 0.6 --seed 3";
  const Output one = run("mnist_speedrun", args, false), two = run("mnist_speedrun", args, false);
  ASSERT_EQ(one.status, 0) << one.text;
  const std::regex line(
      R"(rung 2 seed 3: [0-9.]+% after [0-9.]+ s \([0-9.]+ epochs, weights ([0-9a-f]{16})\))");
  std::smatch a, b;
  ASSERT_TRUE(std::regex_search(one.text, a, line)) << one.text;
  ASSERT_TRUE(std::regex_search(two.text, b, line)) << two.text;
  EXPECT_EQ(a[1], b[1]);  // the same seed, the same weights bit for bit
  const Output other =
      run("mnist_speedrun", "--data data --threads 1 --rung 2 --target 0.6 --seed 4", false);
  std::smatch c;
  ASSERT_TRUE(std::regex_search(other.text, c, std::regex(R"(weights ([0-9a-f]{16}))")));
  EXPECT_NE(a[1], c[1]);
}

TEST_F(Programs, SpeedrunRejectsWhatItDoesNotTake) {
  EXPECT_NE(run("mnist_speedrun", "--data data --lr 0.1", false).status, 0);
  EXPECT_NE(run("mnist_speedrun", "--data data --rung 9", false).status, 0);
  const Output help = run("mnist_speedrun", "--help", false);
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.text.find("PyTorch's MNIST example"), std::string::npos);
}

TEST_F(Programs, PlotMetricsDrawsTheCurves) {
  ASSERT_EQ(run("mnist_mlp", "--epochs 2 --batch-size 50 --metrics sgd.jsonl").status, 0);
  const Output out = run("plot_metrics", "sgd.jsonl curves.svg", false);
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(read_text(dir_ / "curves.svg").find(">sgd test<"), std::string::npos);
  EXPECT_NE(read_text(dir_ / "curves-accuracy.svg").find(">sgd train<"), std::string::npos);
  write("bad.jsonl", "{\"epoch\": 1}\n");
  const Output bad = run("plot_metrics", "bad.jsonl out.svg", false);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.text.find("bad.jsonl:1"), std::string::npos) << bad.text;
}

}  // namespace
}  // namespace nabla::testing
