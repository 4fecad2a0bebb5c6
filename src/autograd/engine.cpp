// The backward pass: orders the graph reachable from the root (Kahn's algorithm, so each node
// runs once, after every consumer of its output), runs each node's closure, and accumulates
// the results into the next nodes or into the leaves' .grad.
#include <unordered_map>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/ops.h"

namespace nabla {
namespace autograd {

namespace {
thread_local bool g_grad_enabled = true;

void accumulate(Tensor& slot, const Tensor& g) {
  if (!slot.defined())
    slot = g;
  else
    slot = add(slot, g);
}

void accumulate_leaf(const Tensor& leaf, const Tensor& g) {
  const Tensor current = leaf.grad();
  if (current.defined()) {
    // In place, so that a gradient living in a flat arena stays there.
    Tensor(current).add_(g);
  } else {
    leaf.set_grad(g.detach().clone());
  }
}
}  // namespace

bool grad_enabled() {
  return g_grad_enabled;
}
void set_grad_enabled(bool enabled) {
  g_grad_enabled = enabled;
}

Tensor record(const char* name, Tensor output, std::vector<Tensor> inputs, BackwardFn backward) {
  if (!g_grad_enabled) return output;
  bool any = false;
  for (const Tensor& t : inputs) any = any || needs_grad(t);
  if (!any) return output;
  for (const Tensor& t : inputs)
    NABLA_ASSERT(!t.is_same(output), "{}: recorded its input as its own output", name);
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
  return output;
}

}  // namespace autograd

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  using autograd::Node;
  NABLA_CHECK(requires_grad(),
              "backward: this tensor does not require a gradient (no input had "
              "requires_grad(true), or it was computed under NoGradGuard)");
  Tensor root_grad = grad;
  if (!root_grad.defined()) {
    NABLA_CHECK(numel() == 1,
                "backward: a gradient must be given for a non-scalar output of shape {}",
                shape().str());
    root_grad = Tensor::ones(shape(), {dtype(), device()});
  }
  NABLA_CHECK(root_grad.shape() == shape(),
              "backward: gradient of shape {} for an output of shape {}", root_grad.shape().str(),
              shape().str());
  NoGradGuard no_grad;
  if (is_leaf()) {
    autograd::accumulate_leaf(*this, root_grad);
    return;
  }

  // Count, for every node, how many edges from reachable nodes point at it.
  std::unordered_map<Node*, int> consumers;
  std::vector<Node*> stack{grad_fn().get()};
  consumers[grad_fn().get()] = 0;
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    NABLA_CHECK(node->backward != nullptr,
                "backward: the graph through '{}' was already freed by an earlier backward(); "
                "pass retain_graph = true to the first call to go through it twice",
                node->name);
    for (const Tensor& in : node->inputs) {
      if (!in.defined() || !in.grad_fn()) continue;
      Node* next = in.grad_fn().get();
      auto [it, inserted] = consumers.try_emplace(next, 0);
      ++it->second;
      if (inserted) stack.push_back(next);
    }
  }

  std::unordered_map<Node*, Tensor> pending;
  pending[grad_fn().get()] = root_grad;
  std::vector<std::shared_ptr<Node>> ready{grad_fn()};
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    Tensor g = std::move(pending[node.get()]);
    pending.erase(node.get());
    // A node that no gradient reached (all its consumers returned none) passes none on.
    std::vector<Tensor> grads =
        g.defined() ? node->backward(g) : std::vector<Tensor>(node->inputs.size());
    NABLA_ASSERT(grads.size() == node->inputs.size(), "{} returned {} gradients for {} inputs",
                 node->name, grads.size(), node->inputs.size());
    for (size_t i = 0; i < grads.size(); ++i) {
      const Tensor& in = node->inputs[i];
      if (!autograd::needs_grad(in) || !grads[i].defined()) {
        if (in.defined() && in.grad_fn() && --consumers[in.grad_fn().get()] == 0)
          ready.push_back(in.grad_fn());
        continue;
      }
      NABLA_ASSERT(grads[i].shape() == in.shape(), "{}: gradient {} has shape {}, input has {}",
                   node->name, i, grads[i].shape().str(), in.shape().str());
      if (in.grad_fn()) {
        Node* next = in.grad_fn().get();
        autograd::accumulate(pending[next], grads[i]);
        if (--consumers[next] == 0) ready.push_back(in.grad_fn());
      } else {
        autograd::accumulate_leaf(in, grads[i]);
      }
    }
    if (!retain_graph) {
      node->inputs.clear();
      node->backward = nullptr;
    }
  }
}

}  // namespace nabla
