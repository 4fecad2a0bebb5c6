#include "nabla/train/checkpoint.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "core/files.h"
#include "nabla/autograd.h"
#include "nabla/train/safetensors.h"

namespace nabla::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kModelPrefix = "model.";

void check_format(const io::Metadata& meta, const std::string& path) {
  auto format = meta.find("nabla.format");
  NABLA_CHECK(format != meta.end(),
              "'{}' is not a nabla file (no nabla.format entry in its metadata); weights written "
              "by another program load with import_weights()",
              path);
  auto version = meta.find("nabla.version");
  NABLA_CHECK(version != meta.end(), "'{}' has no format version", path);
  int v = 0;
  try {
    v = std::stoi(version->second);
  } catch (const std::exception&) {
    NABLA_FAIL("'{}' has an invalid format version '{}'", path, version->second);
  }
  NABLA_CHECK(v <= kCheckpointVersion,
              "'{}' has checkpoint format version {}, newer than this nabla reads ({}); "
              "upgrade nabla to load it",
              path, v, kCheckpointVersion);
}

// JSON has no infinities or NaN (an unset best metric, an unbounded gain): they go as strings.
json scalar_to_json(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

double scalar_from_json(const json& v) {
  if (v.is_number()) return v.get<double>();
  const std::string s = v.get<std::string>();
  if (s == "inf") return INFINITY;
  if (s == "-inf") return -INFINITY;
  NABLA_CHECK(s == "nan", "invalid value '{}' in the state table", s);
  return NAN;
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  io::TensorMap tensors;
  for (const auto& [name, t] : checkpoint.model) tensors[kModelPrefix + name] = t;
  json state = json::object();
  for (const auto& [section, s] : checkpoint.sections) {
    NABLA_CHECK(section != "model", "checkpoint: 'model' is a reserved section name");
    json scalars = json::object(), strings = json::object(), names = json::array();
    for (const auto& [k, v] : s.scalars) scalars[k] = scalar_to_json(v);
    for (const auto& [k, v] : s.strings) strings[k] = v;
    for (const auto& [k, t] : s.tensors) {
      tensors[section + "." + k] = t;
      names.push_back(k);
    }
    state[section] = {{"scalars", scalars}, {"strings", strings}, {"tensors", names}};
  }
  io::Metadata metadata = {{"nabla.format", "checkpoint"},
                           {"nabla.version", std::to_string(kCheckpointVersion)},
                           {"nabla.state", state.dump()},
                           {"nabla.config", checkpoint.config_json}};
  if (!checkpoint.model_text.empty()) metadata["nabla.model"] = checkpoint.model_text;
  if (!checkpoint.data_json.empty()) metadata["nabla.data"] = checkpoint.data_json;
  io::save_safetensors(path, tensors, metadata);
}

Checkpoint load_checkpoint(const std::string& path) {
  io::SafetensorsContents contents = io::load_safetensors(path);
  check_format(contents.metadata, path);
  NABLA_CHECK(contents.metadata.at("nabla.format") == "checkpoint",
              "'{}' holds {} only, not a training checkpoint; use load_weights()", path,
              contents.metadata.at("nabla.format"));
  Checkpoint out;
  out.config_json =
      contents.metadata.count("nabla.config") ? contents.metadata["nabla.config"] : "{}";
  if (contents.metadata.count("nabla.model")) out.model_text = contents.metadata["nabla.model"];
  if (contents.metadata.count("nabla.data")) out.data_json = contents.metadata["nabla.data"];
  const json state =
      json::parse(contents.metadata.count("nabla.state") ? contents.metadata["nabla.state"] : "{}",
                  nullptr, false);
  NABLA_CHECK(state.is_object(), "'{}' has a corrupted state table", path);
  for (auto& [name, t] : contents.tensors)
    if (name.rfind(kModelPrefix, 0) == 0) out.model[name.substr(6)] = t;
  try {
    for (const auto& [section, entry] : state.items()) {
      State s;
      for (const auto& [k, v] : entry.at("scalars").items()) s.scalars[k] = scalar_from_json(v);
      for (const auto& [k, v] : entry.at("strings").items()) s.strings[k] = v.get<std::string>();
      for (const auto& k : entry.at("tensors")) {
        const std::string key = k.get<std::string>();
        auto it = contents.tensors.find(section + "." + key);
        NABLA_CHECK(it != contents.tensors.end(), "'{}' lists tensor '{}.{}' but does not hold it",
                    path, section, key);
        s.tensors[key] = it->second;
      }
      out.sections[section] = std::move(s);
    }
  } catch (const nlohmann::json::exception& e) {
    NABLA_FAIL("'{}' has a corrupted state table: {}", path, e.what());
  }
  return out;
}

std::string checkpoint_filename(int64_t step) {
  return fmt::format("step-{:06d}.safetensors", step);
}

namespace {
// Step files of a folder, oldest first.
std::vector<std::pair<int64_t, fs::path>> step_files(const fs::path& dir) {
  static const std::regex pattern(R"(step-(\d+)\.safetensors)");
  std::vector<std::pair<int64_t, fs::path>> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || !std::regex_match(name, m, pattern)) continue;
    const std::string digits = m[1].str();
    int64_t step = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
    NABLA_CHECK(error == std::errc() && end == digits.data() + digits.size(),
                "checkpoint folder '{}' holds '{}', whose step number does not fit 64 bits; "
                "remove or rename it",
                dir.string(), name);
    files.emplace_back(step, e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Removes the temporary files of checkpoint writes whose process is gone (killed in the middle of
// a write; see save_safetensors for the name), so that crashes do not pile them up. A file whose
// writer still runs is left alone.
void remove_abandoned_writes(const fs::path& dir) {
  static const std::regex pattern(R"(\.(step-\d+\.safetensors|latest)\.tmp\.(\d{1,9})\.\d+)");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (!std::regex_match(name, m, pattern)) continue;
    const auto pid = static_cast<pid_t>(std::stol(m[2].str()));
    if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove(e.path(), ec);
  }
}

// The folder's `latest` pointer, when there, must be a file (a folder there would fail the
// rename that updates it, after an epoch of work).
void check_latest_pointer(const fs::path& dir) {
  std::error_code ec;
  const fs::path latest = dir / "latest";
  if (fs::exists(fs::symlink_status(latest, ec)))
    files::require_regular_file(latest, "checkpoint pointer");
}

void write_text_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = files::temporary_beside(path);
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << '\n';
    out.flush();
    NABLA_CHECK(out.good(), "cannot write '{}'", tmp.string());
  }
  fs::rename(tmp, path);
}
}  // namespace

void remove_checkpoints(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& [step, file] : step_files(dir)) fs::remove(file, ec);
  if (fs::is_regular_file(fs::path(dir) / "latest", ec)) fs::remove(fs::path(dir) / "latest", ec);
  remove_abandoned_writes(dir);
}

void check_checkpoint_folder(const std::string& dir) {
  files::require_writable_folder(dir, "checkpoint folder");
  check_latest_pointer(dir);
  step_files(dir);  // throws on a step file whose name it cannot read
}

void claim_checkpoint_folder(const std::string& dir, const std::string& run_dir, int64_t step,
                             bool overwrite) {
  // A run may write no checkpoint at all (resumed with nothing left to do), so the litter of
  // writers killed before it goes now, not at its first write.
  remove_abandoned_writes(dir);
  std::error_code ec;
  const bool same_run = !run_dir.empty() && fs::equivalent(dir, run_dir, ec);
  std::vector<fs::path> foreign;  // checkpoints this run would overwrite or prune
  for (const auto& [s, file] : step_files(dir))
    if (!same_run || s > step) foreign.push_back(file);
  if (foreign.empty()) return;
  if (overwrite) {
    for (const fs::path& file : foreign) fs::remove(file, ec);
    if (!same_run) remove_checkpoints(dir);
    return;
  }
  NABLA_FAIL(
      "checkpoint folder '{}' holds {} checkpoint(s) this run would overwrite or prune "
      "({}{}): {}. Choose another folder, or pass --overwrite (TrainerConfig.overwrite) "
      "to remove them",
      dir, foreign.size(), foreign.front().filename().string(), foreign.size() > 1 ? ", ..." : "",
      same_run ? fmt::format("they come after step {}, where this run resumed", step)
               : "they belong to another run");
}

std::string write_checkpoint_in(const std::string& dir, int64_t step, const Checkpoint& checkpoint,
                                int64_t keep_last) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  NABLA_CHECK(!ec, "cannot create checkpoint folder '{}': {}", dir, ec.message());
  const fs::path file = fs::path(dir) / checkpoint_filename(step);
  save_checkpoint(file.string(), checkpoint);
  write_text_atomically(fs::path(dir) / "latest", file.filename().string());
  if (keep_last > 0) {
    auto files = step_files(dir);
    for (size_t i = 0; i + static_cast<size_t>(keep_last) < files.size(); ++i)
      if (files[i].second != file) fs::remove(files[i].second, ec);
  }
  remove_abandoned_writes(dir);
  return file.string();
}

std::string resolve_checkpoint(const std::string& file_or_dir) {
  const fs::path p(file_or_dir);
  NABLA_CHECK(fs::exists(p), "cannot resume from '{}': no such file or folder", file_or_dir);
  if (!fs::is_directory(p)) {
    files::require_regular_file(p, "checkpoint");
    return file_or_dir;
  }
  // The newest step file, which `latest` names too, except after a kill between a checkpoint's
  // rename and the pointer's update: then the newer file is complete, and the one to resume.
  check_latest_pointer(p);
  const auto files = step_files(p);
  NABLA_CHECK(!files.empty(), "cannot resume from '{}': the folder holds no checkpoint",
              file_or_dir);
  return files.back().second.string();
}

std::string find_intact_checkpoint(const std::string& file_or_dir,
                                   std::vector<std::string>* skipped) {
  const std::string first = resolve_checkpoint(file_or_dir);
  const fs::path dir =
      fs::is_directory(file_or_dir) ? fs::path(file_or_dir) : fs::path(first).parent_path();
  // The one resolve_checkpoint names, then the step files newest first.
  std::vector<std::string> candidates{first};
  const auto files = step_files(dir.empty() ? fs::path(".") : dir);
  for (auto it = files.rbegin(); it != files.rend(); ++it)
    if (it->second.string() != first) candidates.push_back(it->second.string());
  for (const std::string& candidate : candidates) {
    try {
      load_checkpoint(candidate);
      return candidate;
    } catch (const Error& e) {
      if (skipped != nullptr) skipped->push_back(e.what());
    }
  }
  return "";
}

void save_weights(const nn::Module& model, const std::string& path) {
  io::TensorMap tensors;
  for (const auto& [name, t] : model.state_dict()) tensors[name] = t;
  io::save_safetensors(path, tensors,
                       {{"nabla.format", "weights"},
                        {"nabla.version", std::to_string(kCheckpointVersion)},
                        {"nabla.model", model.str()}});
}

namespace {

// The model's state in a file nabla wrote (weights or a whole checkpoint), checked whole.
nn::StateDict nabla_weights(const io::SafetensorsContents& contents, const std::string& path) {
  check_format(contents.metadata, path);
  const bool checkpoint = contents.metadata.at("nabla.format") == "checkpoint";
  nn::StateDict state;
  for (const auto& [name, t] : contents.tensors) {
    if (!checkpoint)
      state[name] = t;
    else if (name.rfind(kModelPrefix, 0) == 0)
      state[name.substr(6)] = t;
  }
  return state;
}

// The model's state in a file another program wrote, under the names `names` maps them to.
nn::StateDict imported_weights(const io::SafetensorsContents& contents, const std::string& path,
                               const WeightNames& names) {
  nn::StateDict state;
  for (const auto& [name, t] : contents.tensors) {
    std::string key = name;
    if (!names.strip_prefix.empty() && key.rfind(names.strip_prefix, 0) == 0)
      key = key.substr(names.strip_prefix.size());
    if (auto it = names.rename.find(key); it != names.rename.end()) key = it->second;
    NABLA_CHECK(state.emplace(key, t).second,
                "import_weights '{}': two tensors map onto the name '{}' (check strip_prefix and "
                "rename)",
                path, key);
  }
  return state;
}

}  // namespace

void load_weights(nn::Module& model, const std::string& path) {
  model.load_state_dict(nabla_weights(io::load_safetensors(path), path), true);
}

void import_weights(nn::Module& model, const std::string& path, const WeightNames& names) {
  model.load_state_dict(imported_weights(io::load_safetensors(path), path, names), true);
}

void init_weights_from(nn::Module& model, const std::string& path) {
  const io::SafetensorsContents contents = io::load_safetensors(path);  // read once
  model.load_state_dict(contents.metadata.contains("nabla.format")
                            ? nabla_weights(contents, path)
                            : imported_weights(contents, path, {}),
                        true);
}

}  // namespace nabla::train
