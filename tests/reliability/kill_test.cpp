// A training run killed at random moments resumes and ends exactly where an uninterrupted run
// ends. The run is tests/reliability/train_child (a checkpoint after every step, so most of its
// time is spent writing checkpoints and many kills land inside a write):
//   SIGKILL  20+ kills at random moments; after each, the folder's checkpoint must load and be no
//            older than the one before (nothing written is ever lost); then the run completes.
//   SIGINT   20+ interrupts; each must either arrive outside fit() (the default action ends the
//            process) or stop it gracefully with a checkpoint of the exact step it stopped at.
// Both must end with parameters bitwise equal to the uninterrupted run's (CPU, one thread).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "nabla/nabla.h"
#include "support/idx_writer.h"

using namespace nabla;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

extern char** environ;

namespace {

constexpr int kKills = 20;

struct Child {
  pid_t pid = -1;
  Clock::time_point start;
};

Child spawn(const fs::path& dir, const fs::path& out, int64_t epochs = 6) {
  const std::string child = NABLA_TRAIN_CHILD, d = dir.string(), o = out.string(),
                    e = std::to_string(epochs);
  const char* argv[] = {child.c_str(), d.c_str(), o.c_str(), e.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  Child c;
  c.start = Clock::now();
  const int rc = posix_spawn(&c.pid, child.c_str(), &actions, nullptr,
                             const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + child);
  return c;
}

int wait_for(const Child& c) {
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<char> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The global step of the folder's latest checkpoint (-1: none yet); fails the test when it does
// not load.
int64_t latest_step(const fs::path& dir) {
  if (!fs::exists(dir)) return -1;  // killed before its first checkpoint
  bool any = false;
  for (const auto& e : fs::directory_iterator(dir))
    any = any || e.path().filename().string().rfind("step-", 0) == 0;
  if (!any) return -1;
  const std::string path = train::resolve_checkpoint(dir.string());
  train::Checkpoint c = train::load_checkpoint(path);
  return static_cast<int64_t>(c.sections.at("trainer").scalar("global_step", "trainer"));
}

// The temporary files of checkpoint writes that a kill cut short, now in the folder. The next
// checkpoint write of a resumed run removes them.
std::set<std::string> interrupted_writes(const fs::path& dir) {
  std::set<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp") != std::string::npos) names.insert(name);
  }
  return names;
}

struct Reference {
  std::vector<char> params;
  double startup = 0, training = 0;  // seconds
};

const Reference& reference() {
  static const Reference ref = [] {
    nabla::testing::TempDir dir("nabla_kill_ref");
    Reference r;
    Child c = spawn(dir / "ckpt", dir / "out", 0);
    EXPECT_EQ(wait_for(c), 0);
    r.startup = seconds_since(c.start);
    c = spawn(dir / "ckpt2", dir / "out");
    EXPECT_EQ(wait_for(c), 0);
    r.training = std::max(seconds_since(c.start) - r.startup, 0.01);
    r.params = read_bytes(dir / "out");
    EXPECT_FALSE(r.params.empty());
    return r;
  }();
  return ref;
}

struct Figures {
  int runs = 0, signals = 0, graceful = 0, outside_fit = 0, in_write = 0, finished = 0;
};

// Runs the child until it completes, sending `sig` at random moments in the first `kKills`
// runs; checks the checkpoint folder after every run.
Figures run_with_signals(int sig, const fs::path& dir, const fs::path& out) {
  const Reference& ref = reference();
  std::mt19937 rng(sig == SIGKILL ? 2024 : 42);
  // Mostly inside training, sometimes during startup: S * 0.5 .. S + T / 12.
  std::uniform_real_distribution<double> delay(ref.startup * 0.5, ref.startup + ref.training / 12);
  std::printf("reference run: %.3f s startup, %.3f s training\n", ref.startup, ref.training);
  Figures f;
  int64_t last = -1;
  std::set<std::string> seen_torn;
  while (true) {
    Child c = spawn(dir, out);
    ++f.runs;
    const bool send = f.signals < kKills;
    if (send) {
      std::this_thread::sleep_for(std::chrono::duration<double>(delay(rng)));
      ::kill(c.pid, sig);
      ++f.signals;
    }
    const int status = wait_for(c);
    const int64_t step = latest_step(dir);
    EXPECT_GE(step, last) << "the checkpoint went back from step " << last << " to " << step;
    last = step;
    const std::set<std::string> torn = interrupted_writes(dir);
    for (const std::string& name : torn) f.in_write += seen_torn.insert(name).second;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      ++f.finished;
      EXPECT_EQ(read_bytes(out), ref.params) << "the resumed run ended with other parameters";
      EXPECT_TRUE(torn.empty()) << "a finished run left " << *torn.begin() << " behind";
      if (!send || f.signals >= kKills) break;
      // Finished before the signal: start over, so that every signal meets a live run.
      fs::remove_all(dir);
      last = -1;
      continue;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {  // SIGINT, handled
      ++f.graceful;
      std::ifstream in(out);
      int64_t stopped_at = -2;
      in >> stopped_at;
      EXPECT_EQ(stopped_at, step) << "a graceful stop must checkpoint the step it stopped at";
      continue;
    }
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig && send)
        << "unexpected status " << status;
    if (!WIFSIGNALED(status)) break;
    if (sig == SIGINT) ++f.outside_fit;
  }
  return f;
}

TEST(KillAndResume, SigkillAtRandomMomentsLosesNothing) {
  nabla::testing::TempDir dir("nabla_kill");
  const Figures f = run_with_signals(SIGKILL, dir / "ckpt", dir / "out");
  std::printf("SIGKILL: %d runs, %d kills (%d inside a checkpoint write), %d completed\n", f.runs,
              f.signals, f.in_write, f.finished);
  EXPECT_GE(f.signals, kKills);
  // How many kills cut a checkpoint's data write short (a temporary file left behind) depends on
  // the file system's fsync time, so it is reported, not required.
}

TEST(KillAndResume, SigintStopsGracefullyAndResumes) {
  nabla::testing::TempDir dir("nabla_int");
  const Figures f = run_with_signals(SIGINT, dir / "ckpt", dir / "out");
  std::printf("SIGINT: %d runs, %d interrupts (%d graceful, %d outside fit()), %d completed\n",
              f.runs, f.signals, f.graceful, f.outside_fit, f.finished);
  EXPECT_GE(f.signals, kKills);
  // A SIGINT that lands before fit() starts (process start-up, data loading) ends the process
  // by default; how many do depends on the machine's load, so only a graceful path is required.
  EXPECT_GE(f.graceful, 1);
  EXPECT_EQ(f.in_write, 0) << "a graceful stop must not leave a half-written checkpoint";
}

}  // namespace
