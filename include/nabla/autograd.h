// Define-by-run reverse-mode autograd. Each differentiable op that sees an input requiring a
// gradient records a Node: the inputs and a closure that maps the output's gradient to the
// inputs' gradients. backward() runs the closures in reverse topological order and accumulates
// into the leaves' .grad. A node drops its inputs and closure after it ran, unless retained.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

namespace autograd {

// Gradients for each input, in order; an undefined Tensor where none is needed.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Node {
  std::string name;  // the op, for error messages
  std::vector<Tensor> inputs;
  BackwardFn backward;
};

bool grad_enabled();
void set_grad_enabled(bool enabled);

// Returns `output` with a node recording `backward` when grad mode is on and any input needs a
// gradient; otherwise returns it untouched. Ops call this once, after computing the forward.
Tensor record(const char* name, Tensor output, std::vector<Tensor> inputs, BackwardFn backward);

// Whether input i of an op needs a gradient (call inside a backward closure via captured flags).
inline bool needs_grad(const Tensor& t) {
  return t.defined() && t.requires_grad();
}

}  // namespace autograd

// Turns gradient recording off for its lifetime (evaluation, optimizer updates).
struct NoGradGuard {
  NoGradGuard() : previous_(autograd::grad_enabled()) { autograd::set_grad_enabled(false); }
  ~NoGradGuard() { autograd::set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace nabla
