// Checkpoints: everything a training run needs to continue exactly, in one safetensors file.
//
// File layout (safetensors, readable by any safetensors reader):
//   tensors    "model.<name>"          parameters and buffers, as Module::state_dict() names them
//              "<section>.<key>"       tensors of the other sections (optimizer slots, ...)
//   metadata   "nabla.format"          "checkpoint" (or "weights" for save_weights files)
//              "nabla.version"         the format version (kCheckpointVersion)
//              "nabla.state"           JSON: per section, its scalars and strings
//              "nabla.config"          JSON: the run's configuration, compared on resume
//              "nabla.model"           the model as Module::str() prints it (layers and widths)
//              "nabla.data"            JSON: the training set's Dataset::identity() (for MNIST:
//                                      the dataset, its files' SHA-256, the normalisation)
// Sections: "optimizer", "scheduler", "loader", "trainer" (counters, epoch accumulators, RNG).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nabla/nn/module.h"
#include "nabla/state.h"

namespace nabla::train {

// 2: the header is covered by a checksum of its own (io::load_safetensors checks it).
constexpr int kCheckpointVersion = 2;

struct Checkpoint {
  nn::StateDict model;
  std::map<std::string, State> sections;
  std::string config_json = "{}";
  std::string model_text;  // Module::str(); empty when unknown
  std::string data_json;   // Dataset::identity() of the training set; empty when unknown
};

// Writes atomically (temporary file, fsync, rename): a crash never leaves half a checkpoint.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Reads and validates: missing, truncated or corrupted files, other formats and newer versions
// are each a nabla::Error that says what is wrong.
Checkpoint load_checkpoint(const std::string& path);

// "step-000075.safetensors"
std::string checkpoint_filename(int64_t step);
// Writes `checkpoint` into `dir` under its step's name, then points `dir/latest` at it, then
// deletes the oldest step files beyond keep_last (0 keeps all). Returns the file's path.
std::string write_checkpoint_in(const std::string& dir, int64_t step, const Checkpoint& checkpoint,
                                int64_t keep_last);
// Removes what write_checkpoint_in writes into `dir` (step files, the latest pointer, temporaries
// of killed writers) and nothing else: the folder and any other file in it stay.
void remove_checkpoints(const std::string& dir);
// Fails now, before any work, where writes into `dir` would fail later: creates the folder when
// missing; it must then be a writable folder whose `latest` pointer (when there) is a file and
// whose step files have readable names.
void check_checkpoint_folder(const std::string& dir);
// A run at `step` that writes its checkpoints into `dir` must not overwrite or prune another
// run's: where `dir` is not `run_dir` (the folder the run resumed from or already wrote into; ""
// for a fresh run) every step file there is another run's, and where it is, those after `step`
// are (a branch). Throws naming them, or with `overwrite` removes them. Either way, first removes
// the temporary files of writers that were killed.
void claim_checkpoint_folder(const std::string& dir, const std::string& run_dir, int64_t step,
                             bool overwrite);
// A checkpoint file as given, or the newest step file of a folder (the one its `latest` pointer
// names, but for a kill between the file's rename and the pointer's update).
std::string resolve_checkpoint(const std::string& file_or_dir);
// The checkpoint resolve_checkpoint names when it reads whole, else the newest step file beside
// it that does (load_checkpoint succeeds); "" when none does. `skipped` receives the error of
// each one passed over, newest first.
std::string find_intact_checkpoint(const std::string& file_or_dir,
                                   std::vector<std::string>* skipped = nullptr);

// Model weights only, under their plain names ("0.weight"), so that any safetensors reader can
// load them into the same architecture (PyTorch's load_state_dict included).
void save_weights(const nn::Module& model, const std::string& path);
// Strict: the names and shapes must match the model. Also reads full checkpoints. The file must be
// nabla's (checked whole); for one written by another program, use import_weights.
void load_weights(nn::Module& model, const std::string& path);
// How the names in a file written elsewhere map onto the model's: `strip_prefix` is removed from
// every name that starts with it ("module." from DistributedDataParallel), then `rename` maps
// whole names (after the strip) to the model's.
struct WeightNames {
  std::string strip_prefix;
  std::map<std::string, std::string> rename;
};
// Model weights from a safetensors file written by another program (PyTorch's save_file), under
// the names the model's state_dict() uses once `names` is applied; strict. F16, BF16 and F64
// tensors are read into float32. Such a file has no checksums to verify.
void import_weights(nn::Module& model, const std::string& path, const WeightNames& names = {});
// Initial weights from any of the above: a file nabla wrote (weights or a whole checkpoint, read
// as load_weights does) or one another program wrote (as import_weights does). The examples'
// --init-weights.
void init_weights_from(nn::Module& model, const std::string& path);

}  // namespace nabla::train
