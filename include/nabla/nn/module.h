// nn::Module: the base of every layer and model. A module owns named parameters (trainable
// tensors), named buffers (state such as running statistics) and named child modules; names
// compose hierarchically as in PyTorch ("0.weight", "features.2.bias").
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
// A name -> tensor map (parameters and buffers), as PyTorch's state_dict.
using StateDict = std::map<std::string, Tensor>;

class Module : public std::enable_shared_from_this<Module> {
 public:
  virtual ~Module() = default;

  // Single-input forward; composite models override it.
  virtual Tensor forward(const Tensor& input) = 0;
  Tensor operator()(const Tensor& input) { return forward(input); }

  // Parameters and buffers of this module and all descendants, depth first in registration
  // order (the order of the parameter arena). A tensor shared by several modules is listed
  // once, under its first name.
  std::vector<Tensor> parameters() const;
  NamedTensors named_parameters() const;
  std::vector<Tensor> buffers() const;
  NamedTensors named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // Every module of the tree, this one first (name ""), depth first in registration order.
  std::vector<std::pair<std::string, Module*>> named_modules();
  int64_t num_parameters() const;

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves every parameter and buffer in place: existing handles see the new device. Gradients
  // are dropped (they belong to the old device). Throws before moving anything when the device
  // cannot be used.
  Module& to(Device device);
  // Zeroes every parameter's gradient in place (keeps it where it lives, e.g. in an arena).
  void zero_grad();

  // Every parameter and buffer by its full name (a tensor reachable by several paths appears
  // under each), as detached tensors sharing storage with the module.
  StateDict state_dict() const;
  // Copies values into the existing tensors. Strict: every key must match a parameter or buffer
  // of the same shape, and every parameter/buffer must be present; violations are listed in one
  // nabla::Error by name.
  void load_state_dict(const StateDict& state, bool strict = true);

  // "Linear", "Conv2d", ...; and the arguments shown by str(), as PyTorch's extra_repr.
  virtual std::string type_name() const = 0;
  virtual std::string extra_repr() const { return ""; }
  // The tree, as print(model) in PyTorch.
  std::string str() const;

 protected:
  Module() = default;
  // Copies share parameters, buffers and children with the original (handles, as PyTorch's
  // nn.Sequential(a, a) shares a): containers store copies of the modules they are given.
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;

  // Registration: names are non-empty, contain no '.', and are unique within the module.
  // Parameters are float32 leaves and are marked as requiring a gradient.
  Tensor& register_parameter(const std::string& name, Tensor tensor);
  Tensor& register_buffer(const std::string& name, Tensor tensor);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  void add_child(const std::string& name, std::shared_ptr<Module> module);

 private:
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool want_params, NamedTensors& out) const;
  void collect_modules(const std::string& prefix,
                       std::vector<std::pair<std::string, Module*>>& out);

  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace nabla::nn
