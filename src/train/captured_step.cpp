#include "train/captured_step.h"

#include "backend/runtime.h"
#include "nabla/autograd.h"
#include "nabla/nn/functional.h"
#include "nabla/ops.h"

namespace nabla::train {

Tensor correct_predictions(const Tensor& output, const Tensor& target) {
  if (output.dim() != 2 || target.dtype() != DType::Int64 || target.dim() != 1) return {};
  NoGradGuard no_grad;
  return eq(argmax(output.detach(), 1), target).sum();
}

CapturedStep::CapturedStep(nn::Module& model, const LossFn& loss, optim::Optimizer& optimizer,
                           const Tensor& x, const Tensor& y)
    : device_(optimizer.arena()->device()),
      x_(Tensor::empty(x.shape(), {x.dtype(), device_})),
      y_(Tensor::empty(y.shape(), {y.dtype(), device_})) {
  auto abandon = [this] { backend::graph_end_capture_stub(device_)(false); };
  backend::graph_begin_capture_stub(device_)();
  try {
    optimizer.zero_grad();
    const Tensor out = model(x_);
    const Tensor l = loss(out, y_);
    loss_ = l.detach();
    correct_ = correct_predictions(out, y_);
    if (correct_.defined()) classes_ = out.size(1);
    l.backward();
  } catch (const Error& e) {
    abandon();
    NABLA_FAIL("cuda_graph: the training step cannot be captured as a CUDA graph: {}", e.what());
  } catch (...) {
    abandon();
    throw;
  }
  try {
    graph_ = backend::graph_end_capture_stub(device_)(true);
  } catch (const Error& e) {
    NABLA_FAIL(
        "cuda_graph: the training step cannot be captured as a CUDA graph (something in it "
        "waits for the device or reads from it): {}",
        e.what());
  }
}

CapturedStep::~CapturedStep() {
  if (graph_ != nullptr) backend::graph_destroy_stub(device_)(graph_);
}

bool CapturedStep::fits(const Tensor& x, const Tensor& y) const {
  return x.shape() == x_.shape() && x.dtype() == x_.dtype() && y.shape() == y_.shape() &&
         y.dtype() == y_.dtype();
}

CapturedStep::Result CapturedStep::run(const Tensor& x, const Tensor& y) {
  // The loss kernel's own check of class targets cannot report from inside a graph. Targets
  // already on the device (TrainerConfig.data_on_device) are copied back for it.
  if (classes_ > 0) {
    const Tensor targets = y.to(Device::cpu()).contiguous();
    const int64_t* t = targets.data<int64_t>();
    for (int64_t i = 0; i < targets.numel(); ++i)
      NABLA_CHECK((t[i] >= 0 && t[i] < classes_) || t[i] == nn::functional::kIgnoreIndex,
                  "a target is out of range for {} classes (target {} is {}; expected 0..{}, or "
                  "ignore_index {})",
                  classes_, i, t[i], classes_ - 1, nn::functional::kIgnoreIndex);
  }
  x_.copy_(x);
  y_.copy_(y);
  backend::graph_launch_stub(device_)(graph_);
  const double loss = loss_.item<float>();  // waits for the replay
  return {loss, correct_.defined() ? static_cast<int64_t>(correct_.item<float>()) : 0};
}

}  // namespace nabla::train
