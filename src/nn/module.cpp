// nn::Module: registration, hierarchical traversal, device moves, state dicts and printing.
#include "nabla/nn/module.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>
#include <sstream>

#include "nabla/autograd.h"

namespace nabla::nn {

namespace {

std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::string join(const std::vector<std::string>& items) {
  return fmt::format("{}", fmt::join(items, ", "));
}

// Indents every line after the first by two spaces (PyTorch's _addindent).
std::string indent_tail(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- registration

void Module::check_new_name(const std::string& name) const {
  NABLA_CHECK(!name.empty() && name.find('.') == std::string::npos,
              "{}: invalid name '{}' (names are non-empty and contain no '.')", type_name(), name);
  auto taken = [&](const auto& list) {
    for (const auto& [n, _] : list)
      if (n == name) return true;
    return false;
  };
  NABLA_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_),
              "{}: the name '{}' is already registered", type_name(), name);
}

Tensor& Module::register_parameter(const std::string& name, Tensor tensor) {
  check_new_name(name);
  NABLA_CHECK(tensor.defined(), "{}: parameter '{}' is undefined", type_name(), name);
  NABLA_CHECK(tensor.dtype() == DType::Float32, "{}: parameter '{}' must be float32, got {}",
              type_name(), name, dtype_name(tensor.dtype()));
  NABLA_CHECK(tensor.is_leaf(), "{}: parameter '{}' must be a leaf tensor (use detach())",
              type_name(), name);
  tensor.requires_grad(true);
  params_.emplace_back(name, std::move(tensor));
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name);
  NABLA_CHECK(tensor.defined(), "{}: buffer '{}' is undefined", type_name(), name);
  buffers_.emplace_back(name, std::move(tensor));
  return buffers_.back().second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name);
  NABLA_CHECK(module != nullptr, "{}: child module '{}' is null", type_name(), name);
  NABLA_CHECK(module.get() != this, "{}: a module cannot be its own child", type_name());
  children_.emplace_back(name, std::move(module));
}

// ---------------------------------------------------------------- traversal

void Module::collect(const std::string& prefix, bool want_params, NamedTensors& out) const {
  for (const auto& [name, t] : want_params ? params_ : buffers_)
    out.emplace_back(join_name(prefix, name), t);
  for (const auto& [name, child] : children_)
    child->collect(join_name(prefix, name), want_params, out);
}

void Module::collect_modules(const std::string& prefix,
                             std::vector<std::pair<std::string, Module*>>& out) {
  out.emplace_back(prefix, this);
  for (const auto& [name, child] : children_) child->collect_modules(join_name(prefix, name), out);
}

namespace {
// Keeps the first name of a tensor that appears under several (shared modules, tied weights),
// so that every tensor is listed, updated and counted once.
NamedTensors unique_tensors(NamedTensors all) {
  std::set<const TensorImpl*> seen;
  NamedTensors out;
  for (auto& entry : all)
    if (seen.insert(entry.second.impl()).second) out.push_back(std::move(entry));
  return out;
}

std::vector<Tensor> tensors_of(const NamedTensors& named) {
  std::vector<Tensor> out;
  out.reserve(named.size());
  for (const auto& [_, t] : named) out.push_back(t);
  return out;
}
}  // namespace

NamedTensors Module::named_parameters() const {
  NamedTensors all;
  collect("", true, all);
  return unique_tensors(std::move(all));
}

NamedTensors Module::named_buffers() const {
  NamedTensors all;
  collect("", false, all);
  return unique_tensors(std::move(all));
}

std::vector<Tensor> Module::parameters() const {
  return tensors_of(named_parameters());
}
std::vector<Tensor> Module::buffers() const {
  return tensors_of(named_buffers());
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  collect_modules("", out);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [_, t] : named_parameters()) n += t.numel();
  return n;
}

// ---------------------------------------------------------------- modes, devices, gradients

void Module::train(bool on) {
  training_ = on;
  for (const auto& [_, child] : children_) child->train(on);
}

Module& Module::to(Device device) {
  if (device.is_cuda()) {
    NABLA_CHECK(cuda::is_compiled(),
                "{}.to({}): nabla was built without CUDA; rebuild with -DNABLA_CUDA=ON",
                type_name(), device.str());
    NABLA_CHECK(device.index >= 0 && device.index < cuda::device_count(),
                "{}.to({}): no such CUDA device ({} found)", type_name(), device.str(),
                cuda::device_count());
  }
  NoGradGuard no_grad;
  NamedTensors all = named_parameters();
  for (auto& entry : named_buffers()) all.push_back(std::move(entry));
  for (auto& [_, t] : all) {
    TensorImpl& impl = *t.impl();
    if (impl.storage->device == device) continue;
    // Re-point the existing TensorImpl at a contiguous copy on the new device, so that every
    // handle to this parameter (optimizers, user code) follows it.
    const Tensor moved = t.detach().to(device);
    impl.storage = moved.impl()->storage;
    impl.offset = moved.offset();
    impl.strides = moved.strides();
    impl.grad.reset();
  }
  return *this;
}

void Module::zero_grad() {
  NoGradGuard no_grad;
  for (auto& [_, p] : named_parameters()) {
    Tensor g = p.grad();
    if (g.defined()) g.zero_();
  }
}

// ---------------------------------------------------------------- state dict

StateDict Module::state_dict() const {
  NamedTensors all;
  collect("", true, all);
  collect("", false, all);
  StateDict out;
  for (auto& [name, t] : all) out.emplace(name, t.detach());
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  NamedTensors own;
  collect("", true, own);
  collect("", false, own);
  std::vector<std::string> missing, unexpected, mismatched;
  std::set<std::string> known;
  for (const auto& [name, t] : own) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back(name);
    } else if (!it->second.defined() || it->second.shape() != t.shape()) {
      mismatched.push_back(
          fmt::format("{} (expected {}, got {})", name, t.shape().str(),
                      it->second.defined() ? it->second.shape().str() : std::string("undefined")));
    }
  }
  for (const auto& [name, _] : state)
    if (!known.count(name)) unexpected.push_back(name);

  // Check everything first, so that a failed load leaves the module untouched.
  std::vector<std::string> problems;
  if (strict && !missing.empty()) problems.push_back("missing keys: " + join(missing));
  if (strict && !unexpected.empty()) problems.push_back("unexpected keys: " + join(unexpected));
  if (!mismatched.empty()) problems.push_back("shape mismatch: " + join(mismatched));
  NABLA_CHECK(problems.empty(), "{}.load_state_dict: {}", type_name(), fmt::join(problems, "; "));

  NoGradGuard no_grad;
  for (auto& [name, t] : own) {
    auto it = state.find(name);
    if (it != state.end()) t.copy_(it->second);
  }
}

// ---------------------------------------------------------------- printing

std::string Module::str() const {
  std::vector<std::string> lines;
  const std::string extra = extra_repr();
  if (!extra.empty()) {
    std::istringstream in(extra);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  for (const auto& [name, child] : children_)
    lines.push_back(fmt::format("({}): {}", name, indent_tail(child->str())));
  std::string out = type_name() + "(";
  if (children_.empty() && lines.size() <= 1) {
    if (!lines.empty()) out += lines[0];
  } else {
    for (const std::string& line : lines) out += "\n  " + line;
    out += "\n";
  }
  return out + ")";
}

}  // namespace nabla::nn
